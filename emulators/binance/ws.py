"""Binance's market streams: raw ``/ws/<stream>``, combined ``/stream?streams=...``, live SUBSCRIBE /
UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY. (User data is on the WebSocket API, `wsapi`:
the listen-key streams on ``/ws/<listenKey>`` were retired with the listen keys on 2026-02-20.)

Streams served, as web-socket-streams.md lists them (symbols lowercase): ``<s>@trade``, ``@aggTrade``,
``@kline_<interval>`` for every documented interval (and ``@kline_<interval>@+08:00``), ``@miniTicker``,
``@ticker``, ``@ticker_<1h|4h|1d>``, ``@bookTicker``, ``@avgPrice``, ``@depth`` and ``@depth@100ms``,
``@depth<5|10|20>`` and their ``@100ms`` forms, ``!miniTicker@arr`` and ``!ticker_<1h|4h|1d>@arr``.
``!ticker@arr`` was retired (deprecated 2025-11-14, gone from the docs) and is refused like any unknown name.

A name the emulator does not serve is refused in Binance's words: a SUBSCRIBE answers
``{"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": ...}`` and subscribes nothing; a raw or
combined URL naming one gets that frame and the connection is closed (1008). Malformed control messages get
the documented code 0-3 frames (serde-style wording, as Binance's server prints it), never a 1011.

Update speeds as documented, on trio's clock: trades, book tickers and the ``@100ms`` books with every
change; tickers, ``@depth`` (its ``U``..``u`` covering every change since the last event) and the 1 s books
every second; klines every 2 s (``1s``: every second), with ``"x": true`` on the last update of each bar. Book
update ids advance with every change, our own taker orders included, and REST ``lastUpdateId`` is the same
counter. The server pings every 20 s and drops a client whose pong is a minute late (`dialect.PING`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import attrs
import trio

from emulators.binance import errors, render
from emulators.binance import routes as r
from emulators.engine import EFill, EOrder, PublicTrade, SymbolState, wall_ms
from emulators.engine.candles import Bar
from emulators.engine.faults import StreamKind
from emulators.engine.model import Levels
from emulators.engine.ratewindows import RollingWindow
from emulators.engine.server import WsConnection

if TYPE_CHECKING:
    from emulators.binance.dialect import BinanceDialect

MAX_STREAMS = 1024  # per connection
MAX_MESSAGES_PER_SECOND = 5
MAX_JSON_DEPTH = 128  # serde_json's recursion limit
WINDOWS = {"1h": 60, "4h": 240, "1d": 1440}  # rolling-window tickers, in minutes
KLINE_NAME = re.compile(r"^kline_(?P<interval>[0-9]+[smhdwM])(?P<offset>@\+08:00)?$")
PLAIN_STREAMS = {"trade", "aggTrade", "bookTicker", "miniTicker", "ticker", "avgPrice", "depth", "depth@100ms",
                 *(f"depth{n}{speed}" for n in (5, 10, 20) for speed in ("", "@100ms")),
                 *(f"ticker_{w}" for w in WINDOWS)}
ARRAY_STREAMS = {"!miniTicker@arr", *(f"!ticker_{w}@arr" for w in WINDOWS)}
# "@1000ms" names the documented default speed of the 1 s streams (python-binance asks for
# "!miniTicker@arr@1000ms"); they are the same streams under a second name.
SECOND_SPEED = "@1000ms"
SECOND_STREAMS = {"!miniTicker@arr", "depth", *(f"depth{n}" for n in (5, 10, 20))}
INVALID_STREAM_FRAME = json.dumps({"error": errors.INVALID_STREAM, "id": None})


@attrs.define
class BookDiff:
    """Book changes since the last 1 s ``@depth`` event: the first update id they cover and the new sizes."""

    first_id: int | None = None
    bids: dict[Decimal, Decimal] = attrs.field(factory=dict)
    asks: dict[Decimal, Decimal] = attrs.field(factory=dict)

    def add(self, update_id: int, bids: Levels, asks: Levels) -> None:
        if self.first_id is None:
            self.first_id = update_id
        self.bids.update(bids)
        self.asks.update(asks)


@attrs.define
class MarketFeeds:
    """What the streams remember between ticks: book update ids spent by taker orders (the engine's
    ``book.update_id`` counts ticks only), pending 1 s diffs, when each cadence is due, the open time of the
    bar each kline stream last showed, and the symbols whose tickers changed since the last array event."""

    takes: dict[str, int] = attrs.field(factory=dict)
    diffs: dict[str, BookDiff] = attrs.field(factory=dict)
    due: dict[tuple[str, str], float] = attrs.field(factory=dict)
    bar_open: dict[str, int] = attrs.field(factory=dict)
    changed: set[str] = attrs.field(factory=set)

    def update_id(self, state: SymbolState) -> int:
        return state.book.update_id + self.takes.get(state.spec.symbol, 0)

    def is_due(self, key: str, what: str, period: float) -> bool:
        now = trio.current_time()
        if now < self.due.get((key, what), -1.0):
            return False
        self.due[(key, what)] = now + period
        return True


# ---------------------------------------------------------------------- stream names
def symbol_of(d: BinanceDialect, name: str) -> tuple[SymbolState | None, str] | None:
    """(symbol state, stream kind) for a name the emulator serves, else None. Array streams have no symbol."""
    if name in ARRAY_STREAMS:
        return None, name
    if name.endswith(SECOND_SPEED) and (name.removesuffix(SECOND_SPEED) in SECOND_STREAMS or
                                        name.removesuffix(SECOND_SPEED).partition("@")[2] in SECOND_STREAMS):
        return symbol_of(d, name.removesuffix(SECOND_SPEED))
    symbol, _, kind = name.partition("@")
    state = d.exchange.symbols.get(symbol.upper())
    if state is None or symbol != symbol.lower() or not kind:
        return None
    if kind in PLAIN_STREAMS:
        return state, kind
    match = KLINE_NAME.match(kind)
    if match is not None and match["interval"] in r.KLINE_INTERVALS:
        return state, kind
    return None


def valid(d: BinanceDialect, name: str) -> bool:
    return symbol_of(d, name) is not None


# ---------------------------------------------------------------------- connections
def stream_kind(d: BinanceDialect, path: str) -> StreamKind | None:
    if path in ("/stream", "/ws") or (path.startswith("/ws/") and "/" not in path[4:]):
        return "public"
    return None


def on_open(d: BinanceDialect, conn: WsConnection) -> None:
    conn.state["combined"] = conn.path == "/stream"
    conn.state["messages"] = RollingWindow(1.0)
    query = parse_qs(conn.query_string)
    if not time_unit_ok(conn, query):
        return
    elif conn.path == "/stream":
        names = [n for n in query.get("streams", [""])[0].split("/") if n]
        if not subscribe_at_open(d, conn, names):
            return
    elif conn.path.startswith("/ws/"):
        if not subscribe_at_open(d, conn, [conn.path[4:]]):
            return
    d.hub.register(conn)


def time_unit_ok(conn: WsConnection, query: dict[str, list[str]]) -> bool:
    """``timeUnit``: milliseconds are what the emulator prints; microseconds are refused, not ignored."""
    unit = query.get("timeUnit", ["MILLISECOND"])[0]
    if unit.upper() == "MILLISECOND":
        return True
    message = ("Invalid value for time unit; expected either MICROSECOND or MILLISECOND."
               if unit.upper() != "MICROSECOND" else "timeUnit=MICROSECOND is not served by this emulator.")
    conn.send(json.dumps({"error": {"code": -1194, "msg": message}, "id": None}))
    conn.close(1008, "")
    return False


def subscribe_at_open(d: BinanceDialect, conn: WsConnection, names: list[str]) -> bool:
    """The streams a URL names: all served and at most 1024, or the error frame and a close."""
    if len(names) > MAX_STREAMS or not all(valid(d, n) for n in names):
        conn.send(INVALID_STREAM_FRAME)
        conn.close(1008, "")
        return False
    conn.topics.update(names)
    return True


def accept_stream(d: BinanceDialect) -> Callable[[WsConnection, str], str | None]:
    def check(conn: WsConnection, name: str) -> str | None:
        return None if isinstance(name, str) and valid(d, name) else "invalid stream"
    return check


def json_depth_column(text: str) -> int | None:
    """Where nesting passes serde_json's recursion limit (1-based column), or None when it does not."""
    depth, in_string, escaped = 0, False, False
    for index, char in enumerate(text):
        if in_string:
            escaped = not escaped and char == "\\"
            if char == '"' and not escaped:
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return index + 1
        elif char in "]}":
            depth -= 1
    return None


def parse_json(text: str) -> tuple[Any, dict[str, object] | None]:
    """The message as JSON, or Binance's code-3 "Invalid JSON" frame contents."""
    column = json_depth_column(text)
    if column is not None:
        return None, errors.invalid_json_frame("recursion limit exceeded", column)
    try:
        return json.loads(text), None
    except json.JSONDecodeError as failure:
        return None, errors.invalid_json_frame("expected value", failure.colno)
    except (RecursionError, ValueError):
        return None, errors.invalid_json_frame("expected value", 1)


def valid_id(ident: object) -> bool:
    """64-bit signed integers, alphanumeric strings of at most 36 characters, or null."""
    if ident is None:
        return True
    if isinstance(ident, bool):
        return False
    if isinstance(ident, int):
        return -(2**63) <= ident < 2**63
    return isinstance(ident, str) and len(ident) <= 36 and ident.isalnum() and ident.isascii()


def answer(conn: WsConnection, ident: object, result: object = None, error: dict[str, object] | None = None) -> None:
    conn.send(json.dumps({"error": error, "id": ident} if error is not None else {"result": result, "id": ident}))


def on_message(d: BinanceDialect, conn: WsConnection, text: str) -> None:
    window: RollingWindow = conn.state.setdefault("messages", RollingWindow(1.0))
    if window.hit(trio.current_time()) > MAX_MESSAGES_PER_SECOND:
        conn.close(1008, "")  # "a connection that goes beyond the limit will be disconnected"
        return
    request, failure = parse_json(text)
    if failure is not None:
        answer(conn, None, error=failure)
        return
    if not isinstance(request, dict):
        kind = "sequence" if isinstance(request, list) else type(request).__name__
        answer(conn, None, error=errors.invalid_request(f"invalid type: {kind}, expected a map", len(text)))
        return
    ident = request.get("id")
    if not valid_id(ident):
        answer(conn, None, error=errors.BAD_REQUEST_ID)
        return
    method = request.get("method")
    if "method" not in request:
        answer(conn, ident, error=errors.invalid_request("missing field `method`", len(text)))
        return
    if method not in ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY"):
        shown = json.dumps(method) if not isinstance(method, str) else f"`{method}`"
        answer(conn, ident, error=errors.invalid_request(f"unknown variant {shown}, expected one of {errors.METHODS}",
                                                         len(text)))
        return
    params = request.get("params", [])
    if not isinstance(params, list):
        answer(conn, ident, error=errors.invalid_request(
            f"invalid type: {serde_kind(params)}, expected a sequence", len(text)))
        return
    handle(d, conn, method, params, ident)


def serde_kind(value: object) -> str:
    """How serde names an unexpected JSON value in its errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{json.dumps(value)}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value[:40])}"
    return "map" if isinstance(value, dict) else "sequence"


def on_binary(d: BinanceDialect, conn: WsConnection, data: bytes) -> None:
    """A binary frame: read as text when it is UTF-8 (as the server reads frames), else invalid JSON."""
    try:
        on_message(d, conn, data.decode("utf-8"))
    except UnicodeDecodeError:
        answer(conn, None, error=errors.invalid_json_frame("expected value", 1))


def handle(d: BinanceDialect, conn: WsConnection, method: str, params: list[Any], ident: object) -> None:
    match method:
        case "SUBSCRIBE" | "UNSUBSCRIBE":
            odd = next((p for p in params if not isinstance(p, str)), None)
            if odd is not None or any(not isinstance(p, str) for p in params):
                answer(conn, ident, error=errors.invalid_request(
                    f"invalid type: {serde_kind(odd)}, expected a string", 1))
            elif method == "UNSUBSCRIBE":
                d.hub.unsubscribe(conn, params)
                answer(conn, ident)
            elif d.hub.subscribe(conn, params, accept_stream(d)) is not None:
                answer(conn, ident, error=errors.INVALID_STREAM)
            elif len(conn.topics) > MAX_STREAMS:
                d.hub.unsubscribe(conn, params)
                conn.close(1008, "")  # "a single connection can listen to a maximum of 1024 streams"
            else:
                answer(conn, ident)
        case "LIST_SUBSCRIPTIONS":
            if params:
                answer(conn, ident, error=errors.TOO_MANY_PARAMETERS)
            else:
                answer(conn, ident, sorted(conn.topics))
        case "SET_PROPERTY" | "GET_PROPERTY":
            property_request(conn, method, params, ident)


def property_request(conn: WsConnection, method: str, params: list[Any], ident: object) -> None:
    wanted = 2 if method == "SET_PROPERTY" else 1
    if len(params) > wanted:
        answer(conn, ident, error=errors.TOO_MANY_PARAMETERS)
    elif not params or not isinstance(params[0], str):
        answer(conn, ident, error=errors.PROPERTY_NOT_STRING)
    elif params[0] != "combined":
        answer(conn, ident, error=errors.UNKNOWN_PROPERTY)
    elif method == "GET_PROPERTY":
        answer(conn, ident, bool(conn.state.get("combined")))
    elif len(params) < 2 or not isinstance(params[1], bool):
        answer(conn, ident, error=errors.NOT_BOOLEAN)
    else:
        conn.state["combined"] = params[1]
        answer(conn, ident)


# ---------------------------------------------------------------------- engine events -> streams
def publish(d: BinanceDialect, stream: str, payload: Any) -> None:
    """Send ``payload`` on ``stream`` (and on its "@1000ms" name, for the 1 s streams): raw on ``/ws``
    connections, wrapped on combined ones (each printed once)."""
    for name in (stream, stream + SECOND_SPEED) if one_second(stream) else (stream,):
        frames: dict[bool, str] = {}

        def frame(conn: WsConnection, name: str = name, frames: dict[bool, str] = frames) -> str:
            combined = bool(conn.state.get("combined"))
            if combined not in frames:
                frames[combined] = json.dumps({"stream": name, "data": payload} if combined else payload)
            return frames[combined]

        d.hub.publish(name, frame)


def one_second(stream: str) -> bool:
    return stream in SECOND_STREAMS or stream.partition("@")[2] in SECOND_STREAMS


def wanted(d: BinanceDialect, stream: str) -> bool:
    return bool(d.hub.subscribers(stream)) or (one_second(stream) and bool(d.hub.subscribers(stream + SECOND_SPEED)))


def on_trade(d: BinanceDialect, trade: PublicTrade) -> None:
    name, now = trade.symbol.lower(), wall_ms()
    if wanted(d, f"{name}@trade"):
        publish(d, f"{name}@trade", render.trade_event(trade, now))
    if wanted(d, f"{name}@aggTrade"):
        publish(d, f"{name}@aggTrade", render.agg_trade_event(trade, now))


def book_changed(d: BinanceDialect, state: SymbolState, bids: Levels, asks: Levels, now: int) -> None:
    """One book change (a tick or a taker): its own update id, the real-time streams, the 1 s diff."""
    name, feeds = state.spec.symbol.lower(), d.feeds
    update_id = feeds.update_id(state)
    feeds.diffs.setdefault(state.spec.symbol, BookDiff()).add(update_id, bids, asks)
    if wanted(d, f"{name}@depth@100ms"):
        publish(d, f"{name}@depth@100ms", render.depth_update(state.spec.symbol, update_id, update_id, bids, asks, now))
    for size in (5, 10, 20):
        if wanted(d, f"{name}@depth{size}@100ms"):
            publish(d, f"{name}@depth{size}@100ms", render.partial_depth(state, size, update_id))
    if wanted(d, f"{name}@bookTicker"):
        publish(d, f"{name}@bookTicker", render.book_ticker_event(state, update_id))


def on_book(d: BinanceDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    """A taker consumed levels: that is a book change with an update id of its own."""
    d.feeds.takes[state.spec.symbol] = d.feeds.takes.get(state.spec.symbol, 0) + 1
    book_changed(d, state, bids, asks, wall_ms())


def on_tick(d: BinanceDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    now, symbol, feeds = wall_ms(), state.spec.symbol, d.feeds
    book_changed(d, state, bids, asks, now)
    feeds.changed.add(symbol)
    if feeds.is_due(symbol, "1s", 1.0):
        every_second(d, state, now)
    if feeds.is_due(symbol, "2s", 2.0):
        klines(d, state, now, lambda interval: interval != "1s")
    if feeds.is_due("!arr", "1s", 1.0):
        arrays(d, now)


def every_second(d: BinanceDialect, state: SymbolState, now: int) -> None:
    name, feeds = state.spec.symbol.lower(), d.feeds
    diff = feeds.diffs.pop(state.spec.symbol, BookDiff())
    update_id = feeds.update_id(state)
    if wanted(d, f"{name}@depth"):
        publish(d, f"{name}@depth", render.depth_update(
            state.spec.symbol, diff.first_id if diff.first_id is not None else update_id, update_id,
            sorted(diff.bids.items(), reverse=True), sorted(diff.asks.items()), now))
    for size in (5, 10, 20):
        if wanted(d, f"{name}@depth{size}"):
            publish(d, f"{name}@depth{size}", render.partial_depth(state, size, update_id))
    if wanted(d, f"{name}@ticker"):
        publish(d, f"{name}@ticker", render.ticker_event(state, now))
    if wanted(d, f"{name}@miniTicker"):
        publish(d, f"{name}@miniTicker", render.mini_ticker_event(state, now))
    if wanted(d, f"{name}@avgPrice"):
        publish(d, f"{name}@avgPrice", render.avg_price_event(state, r.average_price(state), now))
    for window in WINDOWS:
        if wanted(d, f"{name}@ticker_{window}"):
            publish(d, f"{name}@ticker_{window}", window_ticker(state, window, now))
    klines(d, state, now, lambda interval: interval == "1s")


def window_ticker(state: SymbolState, window: str, now: int) -> dict[str, Any]:
    since = (now // 60_000 - WINDOWS[window] + 1) * 60_000
    bars = [b for b in r.bars_of(state, "1m", since_ms=since)] or r.bars_of(state, "1m")[-1:]
    return render.window_ticker_event(state, window, bars, now)


def arrays(d: BinanceDialect, now: int) -> None:
    """The all-market arrays: only the symbols whose tickers changed since the last event."""
    changed = [d.exchange.symbols[s] for s in sorted(d.feeds.changed) if s in d.exchange.symbols]
    d.feeds.changed.clear()
    if not changed:
        return
    if wanted(d, "!miniTicker@arr"):
        publish(d, "!miniTicker@arr", [render.mini_ticker_event(s, now) for s in changed])
    for window in WINDOWS:
        if wanted(d, f"!ticker_{window}@arr"):
            publish(d, f"!ticker_{window}@arr", [window_ticker(s, window, now) for s in changed])


def klines(d: BinanceDialect, state: SymbolState, now: int, which: Callable[[str], bool]) -> None:
    """Each subscribed kline stream of the symbol: the bar that just ended (``"x": true``) once, then the
    current bar (``"x": false``)."""
    prefix = f"{state.spec.symbol.lower()}@kline_"
    names = {topic for _, topic in d.hub.matching(lambda conn: True, lambda t: t.startswith(prefix))}
    for stream in sorted(names):
        match = KLINE_NAME.match(stream.partition("@")[2])
        if match is None or not which(match["interval"]):
            continue
        interval, offset = match["interval"], 8 * 3_600_000 if match["offset"] else 0
        last_open = d.feeds.bar_open.get(stream)
        bars = r.bars_of(state, interval, offset, since_ms=last_open if last_open is not None else now - 1)
        if not bars:
            continue
        if last_open is not None and bars[0].open_ms == last_open and len(bars) > 1:
            publish(d, stream, render.kline_event(state.spec.symbol, interval, bars[0], True,
                                                  trade_ids(state, bars[0]), now))
        current = bars[-1]
        d.feeds.bar_open[stream] = current.open_ms
        publish(d, stream, render.kline_event(state.spec.symbol, interval, current, False,
                                              trade_ids(state, current), now))


def trade_ids(state: SymbolState, bar: Bar) -> tuple[int, int]:
    inside = [t.trade_id for t in state.trades if bar.open_ms <= t.time_ms <= bar.close_ms]
    return (inside[0], inside[-1]) if inside else (-1, -1)


def on_order(d: BinanceDialect, order: EOrder, fill: EFill | None, execution: str) -> None:
    cancel_id = d.cancel_ids.pop((order.symbol, order.order_id), None) if order.status == "CANCELED" else None
    d.wsapi_push(order.account, render.execution_report(order, fill, execution, wall_ms(), cancel_id))


def on_balances(d: BinanceDialect, account: str, snapshot: dict[str, tuple[Decimal, Decimal]]) -> None:
    d.wsapi_push(account, render.account_position(snapshot, wall_ms()))
