"""Market Data API v2 for stocks (``/v2/stocks/...`` on the data host): bars, trades, quotes, the latest of each,
and snapshots, for one symbol (``/v2/stocks/{symbol}/bars``) or several (``/v2/stocks/bars?symbols=...``).

Facts followed: timeframes ``[1-59]Min`` (or ``T``), ``[1-23]Hour`` (``H``), ``1Day`` (``D``), ``1Week``
(``W``), ``[1,2,3,4,6,12]Month`` (``M``); day, week and month bars start at midnight New York time, shorter
ones on the hour grid. ``limit`` 1-10000 (default 1000) counts data points across all symbols, paged with an
opaque ``next_page_token``; ``start`` defaults to the start of the day, ``end`` to now. ``sort`` asc|desc.
Unknown symbols simply have no data (the multi-symbol answers leave them out). Feeds ``iex`` and ``sip``
carry the same emulated prints (the exchange codes differ: IEX "V", SIP "Q"); ``delayed_sip``, ``otc``,
``boats`` and ``overnight`` are refused. The Basic plan (the paper default) may not ask SIP for the last 15
minutes: ``403 subscription does not permit querying recent SIP data`` (its default SIP ``end`` is then 15
minutes ago). ``adjustment`` is accepted (raw|split|dividend|all: no corporate actions happen, so all are
raw), ``currency`` only as USD, ``asof`` as a date.

History: the engine's one-minute candles (500 from the seed before the start, then the live ones), its last
1000 trades per symbol, and the last 5000 quotes the dialect saw per symbol (every book change).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emulators.alpaca import errors, render
from emulators.engine.candles import Bar, Interval, aggregate
from emulators.engine.model import CANDLE_MS, Candle
from emulators.engine.sessions import NEW_YORK, Session

if TYPE_CHECKING:
    from emulators.alpaca.dialect import AlpacaDialect
    from emulators.alpaca.routes import Call

TIMEFRAME = re.compile(r"^([0-9]{1,2})(Min|T|Hour|H|Day|D|Week|W|Month|M)$")
SYMBOL = re.compile(r"^[A-Z][A-Z0-9.]{0,15}$")
SERVED_FEEDS = ("iex", "sip")
OTHER_FEEDS = ("delayed_sip", "otc", "boats", "overnight")
COMMON = {"feed", "currency", "asof"}
SERIES = COMMON | {"start", "end", "limit", "page_token", "sort"}
PARAMS = {"bars": SERIES | {"timeframe", "adjustment"}, "trades": SERIES, "quotes": SERIES, "latest": COMMON,
          "snapshot": COMMON}
Item = tuple[tuple[str, int, int], dict[str, Any]]  # ((symbol, time, tie), the JSON item)


# ---------------------------------------------------------------------- parameters
def checked(p: Mapping[str, Any], kind: str, *, multi: bool) -> None:
    allowed = PARAMS[kind] | ({"symbols"} if multi else set())
    for name in p:
        if name not in allowed:
            raise errors.unknown_parameter(name)
    if p.get("currency") not in (None, "", "USD"):
        raise errors.bad_query("currency: only USD is served by this emulator")
    if p.get("asof"):
        try:
            date.fromisoformat(str(p["asof"]))
        except ValueError:
            raise errors.bad_query("invalid asof") from None
    if kind == "bars" and p.get("adjustment") not in (None, "", "raw", "split", "dividend", "all"):
        raise errors.bad_query("invalid adjustment")


def symbols_of(p: Mapping[str, Any]) -> list[str]:
    raw = str(p.get("symbols") or "")
    if not raw:
        raise errors.bad_query("symbols is required")
    wanted = [s.strip() for s in raw.split(",") if s.strip()]
    for symbol in wanted:
        one_symbol(symbol)
    return sorted(set(wanted))


def one_symbol(symbol: str) -> str:
    if not SYMBOL.match(symbol):
        raise errors.bad_query(f"invalid symbol: {symbol}")
    return symbol


def feed_of(d: AlpacaDialect, call: Call) -> str:
    plan = call.account.state.plan
    feed = str(call.params.get("feed") or ("sip" if plan == "algo_trader_plus" else "iex"))
    if feed in OTHER_FEEDS:
        raise errors.bad_query(f"feed {feed} is not served by this emulator")
    if feed not in SERVED_FEEDS:
        raise errors.bad_query(f"invalid feed: {feed}")
    return feed


def moment(raw: Any, name: str) -> datetime:
    """RFC 3339 (``Z`` or an offset; naive times are UTC) or a date (its midnight, New York time)."""
    text = str(raw)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), NEW_YORK).astimezone(UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise errors.bad_query(f"invalid {name}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def window(d: AlpacaDialect, call: Call, feed: str) -> tuple[int, int]:
    """[start, end] in ms: start defaults to the start of today (New York), end to now (Basic plan, SIP: now
    minus 15 minutes, and later is refused)."""
    p = call.params
    now = d.market.clock.now()
    recent = feed == "sip" and call.account.state.plan != "algo_trader_plus"
    end = moment(p["end"], "end") if p.get("end") else (now - timedelta(minutes=15) if recent else now)
    if recent and end > now - timedelta(minutes=15):
        raise errors.sip_not_permitted()
    midnight = datetime.combine(now.astimezone(NEW_YORK).date(), datetime.min.time(), NEW_YORK)
    start = moment(p["start"], "start") if p.get("start") else midnight.astimezone(UTC)
    if end < start:
        raise errors.bad_query("end should not be before start")
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def limit_of(p: Mapping[str, Any]) -> int:
    raw = p.get("limit")
    if raw in (None, ""):
        return 1000
    try:
        value = int(str(raw))
    except ValueError:
        raise errors.bad_query("invalid limit") from None
    if not 1 <= value <= 10000:
        raise errors.bad_query("invalid limit: must be between 1 and 10000")
    return value


def sort_of(p: Mapping[str, Any]) -> bool:
    """True for descending."""
    sort = p.get("sort") or "asc"
    if sort not in ("asc", "desc"):
        raise errors.bad_query("invalid sort")
    return sort == "desc"


def page(items: list[Item], p: Mapping[str, Any]) -> tuple[list[Item], str | None]:
    """One page of ``items`` (sorted by symbol, then time as asked), and the token of the next."""
    descending = sort_of(p)
    ordered = sorted(items, key=lambda item: (item[0][0], *((-item[0][1], -item[0][2]) if descending
                                                             else item[0][1:])))
    token = str(p.get("page_token") or "")
    if token:
        try:
            symbol, first, tie = json.loads(base64.urlsafe_b64decode(token.encode()))
            key = (str(symbol), int(first), int(tie))
        except (ValueError, TypeError, binascii.Error):
            raise errors.bad_query("invalid page_token") from None
        ordered = [item for item in ordered if _position(item[0], descending) >= _position(key, descending)]
    limit = limit_of(p)
    chunk, rest = ordered[:limit], ordered[limit:]
    following = None
    if rest:
        following = base64.urlsafe_b64encode(json.dumps(list(rest[0][0])).encode()).decode()
    return chunk, following


def _position(key: tuple[str, int, int], descending: bool) -> tuple[str, int, int]:
    return (key[0], -key[1], -key[2]) if descending else key


def grouped(chunk: list[Item]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for (symbol, _, _), item in chunk:
        out.setdefault(symbol, []).append(item)
    return out


# ---------------------------------------------------------------------- bars
def interval_of(raw: Any) -> tuple[Interval, bool]:
    """An Alpaca timeframe as an `Interval`, and whether it is counted from midnight New York time."""
    found = TIMEFRAME.match(str(raw or ""))
    if not found:
        raise errors.bad_query("invalid timeframe")
    amount, unit = int(found.group(1)), found.group(2)
    if unit in ("Min", "T") and 1 <= amount <= 59:
        return Interval(amount), False
    if unit in ("Hour", "H") and 1 <= amount <= 23:
        return Interval(amount * 60), False
    if unit in ("Day", "D") and amount == 1:
        return Interval(1440), True
    if unit in ("Week", "W") and amount == 1:
        return Interval(10080), True
    if unit in ("Month", "M") and amount in (1, 2, 3, 4, 6, 12):
        return Interval(months=amount), True
    raise errors.bad_query("invalid timeframe")


def _offset_ms(ms: int) -> int:
    offset = datetime.fromtimestamp(ms / 1000, UTC).astimezone(NEW_YORK).utcoffset()
    return int(offset.total_seconds() * 1000) if offset is not None else 0


def bars_of(candles: list[Candle], interval: Interval, local: bool) -> list[Bar]:
    """``candles`` aggregated; ``local`` intervals start at midnight New York time."""
    if not local:
        return aggregate(candles, interval)
    shifted = [Candle(c.open_ms + _offset_ms(c.open_ms), c.open, c.high, c.low, c.close, c.volume, c.quote_volume,
                      c.trades) for c in candles]
    bars = aggregate(shifted, interval)
    for bar in bars:
        wall = datetime.fromtimestamp(bar.open_ms / 1000, UTC).replace(tzinfo=NEW_YORK)
        bar.open_ms = int(wall.timestamp() * 1000)
    return bars


def bar_items(d: AlpacaDialect, symbols: list[str], interval: Interval, local: bool, start: int,
              end: int) -> list[Item]:
    items: list[Item] = []
    for symbol in symbols:
        state = d.market.symbols.get(symbol)
        if state is None:
            continue
        for bar in bars_of(state.candles, interval, local):
            if start <= bar.open_ms <= end:
                items.append(((symbol, bar.open_ms, 0), render.data_bar(bar)))
    return items


def series(d: AlpacaDialect, call: Call, kind: str, symbols: list[str]) -> tuple[list[Item], str | None]:
    feed = feed_of(d, call)
    start, end = window(d, call, feed)
    if kind == "bars":
        interval, local = interval_of(call.params.get("timeframe"))
        items = bar_items(d, symbols, interval, local, start, end)
    elif kind == "trades":
        items = [((s, t.time_ms, t.trade_id), render.data_trade(t, feed, extended(d, t.time_ms)))
                 for s in symbols if s in d.market.symbols for t in d.market.symbols[s].trades
                 if start <= t.time_ms <= end]
    else:
        items = [((s, q.time_ms, q.seq), render.data_quote(q, feed)) for s in symbols for q in d.quotes.get(s, ())
                 if start <= q.time_ms <= end]
    return page(items, call.params)


def extended(d: AlpacaDialect, ms: int) -> bool:
    """Whether a print falls outside the regular session (Form T)."""
    session, _ = d.market.clock.calendar.session_at(datetime.fromtimestamp(ms / 1000, UTC))
    return session is not Session.REGULAR


def multi(kind: str) -> Callable[[AlpacaDialect, Call], Any]:
    def handler(d: AlpacaDialect, call: Call) -> Any:
        checked(call.params, kind, multi=True)
        chunk, following = series(d, call, kind, symbols_of(call.params))
        return {kind: grouped(chunk), "next_page_token": following}
    return handler


def single(kind: str) -> Callable[[AlpacaDialect, Call], Any]:
    def handler(d: AlpacaDialect, call: Call) -> Any:
        checked(call.params, kind, multi=False)
        symbol = one_symbol(call.path_params["symbol"])
        chunk, following = series(d, call, kind, [symbol])
        return {kind: [item for _, item in chunk], "symbol": symbol, "next_page_token": following}
    return handler


# ---------------------------------------------------------------------- latest and snapshots
def _latest_allowed(d: AlpacaDialect, call: Call) -> str:
    feed = feed_of(d, call)
    if feed == "sip" and call.account.state.plan != "algo_trader_plus":
        raise errors.sip_not_permitted()
    return feed


def latest_trade(d: AlpacaDialect, symbol: str, feed: str) -> dict[str, Any] | None:
    state = d.market.symbols.get(symbol)
    if state is None or not state.trades:
        return None
    trade = state.trades[-1]
    return render.data_trade(trade, feed, extended(d, trade.time_ms))


def latest_quote(d: AlpacaDialect, symbol: str, feed: str) -> dict[str, Any] | None:
    log = d.quotes.get(symbol)
    return render.data_quote(log[-1], feed) if log else None


def latest_bar(d: AlpacaDialect, symbol: str) -> dict[str, Any] | None:
    state = d.market.symbols.get(symbol)
    if state is None:
        return None
    return render.data_bar(aggregate(state.candles[-1:], Interval(1))[0])


def latest(kind: str, *, many: bool) -> Callable[[AlpacaDialect, Call], Any]:
    """``/v2/stocks/{trades,quotes,bars}/latest`` (many) and ``/v2/stocks/{symbol}/.../latest``."""
    key = {"trades": "trade", "quotes": "quote", "bars": "bar"}[kind]

    def one(d: AlpacaDialect, symbol: str, feed: str) -> dict[str, Any] | None:
        if kind == "trades":
            return latest_trade(d, symbol, feed)
        return latest_quote(d, symbol, feed) if kind == "quotes" else latest_bar(d, symbol)

    def handler(d: AlpacaDialect, call: Call) -> Any:
        checked(call.params, "latest", multi=many)
        feed = _latest_allowed(d, call)
        if many:
            found = {s: one(d, s, feed) for s in symbols_of(call.params)}
            return {kind: {s: item for s, item in found.items() if item is not None}}
        symbol = one_symbol(call.path_params["symbol"])
        item = one(d, symbol, feed)
        if item is None:
            raise errors.error(404, 40410000, f"no {key} found for {symbol}")
        return {"symbol": symbol, key: item}
    return handler


def snapshot_of(d: AlpacaDialect, symbol: str, feed: str) -> dict[str, Any] | None:
    state = d.market.symbols.get(symbol)
    if state is None:
        return None
    days = bars_of(state.candles, Interval(1440), True)
    return {"latestTrade": latest_trade(d, symbol, feed), "latestQuote": latest_quote(d, symbol, feed),
            "minuteBar": latest_bar(d, symbol), "dailyBar": render.data_bar(days[-1]) if days else None,
            "prevDailyBar": render.data_bar(days[-2]) if len(days) > 1 else None}


def snapshots(d: AlpacaDialect, call: Call) -> Any:
    checked(call.params, "snapshot", multi=True)
    feed = _latest_allowed(d, call)
    found = {s: snapshot_of(d, s, feed) for s in symbols_of(call.params)}
    return {s: snap for s, snap in found.items() if snap is not None}


def snapshot(d: AlpacaDialect, call: Call) -> Any:
    checked(call.params, "snapshot", multi=False)
    feed = _latest_allowed(d, call)
    symbol = one_symbol(call.path_params["symbol"])
    snap = snapshot_of(d, symbol, feed)
    if snap is None:
        raise errors.error(404, 40410000, f"no snapshot found for {symbol}")
    return {"symbol": symbol, **snap}


def minute_of(ms: int) -> int:
    return ms // CANDLE_MS * CANDLE_MS


def lots(size: Decimal) -> int:
    """Quote sizes are in round lots of 100 shares (at least one)."""
    return max(1, int(size // 100))
