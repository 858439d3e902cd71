"""Kraken's websocket API v2: public ``/v2`` and private ``/ws-auth/v2`` (ws.kraken.com/v2 and
ws-auth.kraken.com/v2 on the venue).

Every connection gets a ``status`` message on connect and a ``heartbeat`` each second while it has
subscriptions; ``{"method": "ping"}`` is answered with ``pong``. Requests are ``{"method", "params", "req_id"}``
and each is acknowledged with ``success`` true or false and ``error`` text -- public subscriptions once per
symbol, as Kraken does. Public channels: ``ticker`` (event_trigger trades or bbo), ``book`` (depth 10, 25, 100,
500, 1000; a snapshot then updates, each with Kraken's CRC32 checksum of the top ten levels), ``trade``,
``ohlc`` (intervals 1 ... 21600) and ``instrument``. Private channels, with a ``GetWebSocketsToken`` token in
each subscription: ``executions`` (open orders and, with snap_trades, the last 50 fills, then pending_new /
new / trade / filled / amended / canceled reports) and ``balances`` (a snapshot per asset and wallet, then one
update per balance change), each message numbered by ``sequence``. Anything else -- other channels, order
entry over the websocket, options not modelled -- is refused in an ack.
"""

from __future__ import annotations

import json
import time
import zlib
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from emulators.engine import EFill, EOrder, PublicTrade, SymbolState, wall_ms
from emulators.engine.candles import Interval, aggregate
from emulators.engine.faults import StreamKind
from emulators.engine.model import Levels
from emulators.engine.server import WsConnection
from emulators.kraken import errors, render
from emulators.kraken.limits import clock
from emulators.kraken.orders import FillInfo, OrderInfo, kraken_id
from emulators.kraken.pairs import KrakenPair
from emulators.kraken.render import v2, ws_number

if TYPE_CHECKING:
    from emulators.kraken.dialect import KrakenDialect

Json = dict[str, Any]
D = Decimal
PUBLIC_PATH, PRIVATE_PATH = "/v2", "/ws-auth/v2"
PUBLIC_CHANNELS = ("ticker", "book", "trade", "ohlc", "instrument")
PRIVATE_CHANNELS = ("executions", "balances")
ORDER_METHODS = ("add_order", "amend_order", "batch_add", "batch_cancel", "cancel_all", "cancel_all_orders_after",
                 "cancel_order", "edit_order")
BOOK_DEPTHS = (10, 25, 100, 500, 1000)
HEARTBEAT = '{"channel":"heartbeat"}'
EXACT = 10  # places for balances and fees: what the engine holds and charged, unrounded
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
CHANNEL_PARAMS = {
    "ticker": {"channel", "symbol", "snapshot", "event_trigger"},
    "book": {"channel", "symbol", "snapshot", "depth"},
    "trade": {"channel", "symbol", "snapshot"},
    "ohlc": {"channel", "symbol", "snapshot", "interval"},
    "instrument": {"channel", "snapshot", "execution_venue", "include_tokenized_assets"},
    "executions": {"channel", "token", "snap_orders", "snap_trades", "order_status", "ratecounter", "rebased",
                   "users", "snapshot", "snapshot_trades"},
    "balances": {"channel", "token", "snapshot", "rebased", "users"},
}


class Refused(Exception):
    """A request refused in an ack (the text is the ack's ``error``)."""


def now_text() -> str:
    return render.rfc3339(time.time() * 1000)


# ---------------------------------------------------------------------- connections
def stream_kind(path: str) -> StreamKind | None:
    return "public" if path == PUBLIC_PATH else "private" if path == PRIVATE_PATH else None


def on_open(d: KrakenDialect, conn: WsConnection) -> None:
    conn.state.update(connection_id=d.next_connection(), options={}, sequence={})
    d.hub.register(conn)
    conn.send(status_message(d, conn))


def status_message(d: KrakenDialect, conn: WsConnection) -> str:
    return v2({"channel": "status", "type": "update", "data": [
        {"version": "2.0.10", "system": d.system_status, "api_version": "v2",
         "connection_id": conn.state["connection_id"]}]})


def push_status(d: KrakenDialect) -> None:
    for conn in list(d.hub.connections):
        conn.send(status_message(d, conn))


def on_message(d: KrakenDialect, conn: WsConnection, text: str) -> None:
    time_in = now_text()
    try:
        request = json.loads(text)
    except ValueError:
        request = None
    if not isinstance(request, dict) or not isinstance(request.get("method"), str):
        conn.send(v2({"error": errors.WS_MALFORMED, "method": "error", "success": False, "time_in": time_in,
                      "time_out": now_text()}))
        return
    method, req_id = request["method"], request.get("req_id")
    reply = partial(ack, conn, method, req_id, time_in)
    params = request.get("params", {})
    try:
        if method == "ping":
            conn.send(v2({"method": "pong", **({"req_id": req_id} if req_id is not None else {}),
                          "time_in": time_in, "time_out": now_text()}))
        elif method in ("subscribe", "unsubscribe"):
            if not isinstance(params, dict) or not isinstance(params.get("channel"), str):
                raise Refused(errors.WS_MALFORMED)
            (subscribe if method == "subscribe" else unsubscribe)(d, conn, params, reply)
        elif method in ORDER_METHODS:
            raise Refused(f"{errors.WS_UNKNOWN_METHOD.format(method=method)} by this emulator")
        else:
            raise Refused(errors.WS_UNKNOWN_METHOD.format(method=method))
    except Refused as refused:
        reply(error=str(refused))


def ack(conn: WsConnection, method: str, req_id: Any, time_in: str, *, result: Json | None = None,
        error: str | None = None, symbol: str | None = None) -> None:
    message: Json = {"method": method}
    if req_id is not None:
        message["req_id"] = req_id
    if error is None:
        message.update(result=result or {}, success=True)
    else:
        message.update(error=error, success=False)
        if symbol is not None:
            message["symbol"] = symbol
    message.update(time_in=time_in, time_out=now_text())
    conn.send(v2(message))


# ---------------------------------------------------------------------- subscriptions
def _flag(params: Json, name: str, default: bool) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise Refused(f"{errors.INVALID_ARGUMENTS}:{name}")
    return value


def _check_keys(params: Json, channel: str) -> None:
    for name in params:
        if name not in CHANNEL_PARAMS[channel]:
            raise Refused(f"{errors.INVALID_ARGUMENTS}:{name} is not supported by this emulator")


def _symbols(params: Json) -> list[str]:
    symbols = params.get("symbol")
    if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) for s in symbols):
        raise Refused(f"{errors.INVALID_ARGUMENTS}:symbol")
    return symbols


def _topic(channel: str, symbol: str, params: Json) -> str:
    return f"ohlc:{symbol}:{params['interval']}" if channel == "ohlc" else f"{channel}:{symbol}"


def check_topic(d: KrakenDialect, conn: WsConnection, topic: str) -> str | None:
    """The refusal of a topic this connection may not take, or None."""
    if topic in conn.topics:
        return errors.WS_ALREADY_SUBSCRIBED
    channel, _, rest = topic.partition(":")
    if channel in PRIVATE_CHANNELS:
        return None if conn.kind == "private" and conn.account is not None else \
            errors.WS_PRIVATE_CHANNEL.format(channel=channel)
    if channel == "instrument":
        return None
    symbol = rest.split(":")[0]
    pair = d.markets.ws_pair(symbol)
    if pair is None or pair.key not in d.exchange.symbols:
        return errors.WS_UNSUPPORTED_PAIR.format(symbol=symbol)
    return None


def subscribe(d: KrakenDialect, conn: WsConnection, params: Json, reply: Any) -> None:
    channel = params["channel"]
    if channel in PRIVATE_CHANNELS:
        _subscribe_private(d, conn, channel, params, reply)
        return
    if channel not in PUBLIC_CHANNELS:
        raise Refused(errors.WS_UNKNOWN_CHANNEL.format(channel=channel))
    if conn.kind == "private":
        raise Refused(f"{errors.WS_UNKNOWN_CHANNEL.format(channel=channel)} on the authenticated endpoint")
    _check_keys(params, channel)
    snapshot = _flag(params, "snapshot", channel != "trade")
    options: Json = {}
    if channel == "book":
        options["depth"] = params.get("depth", 10)
        if options["depth"] not in BOOK_DEPTHS or isinstance(options["depth"], bool):
            raise Refused(f"{errors.INVALID_ARGUMENTS}:depth")
    if channel == "ohlc":
        options["interval"] = params.get("interval")
        if options["interval"] not in OHLC_INTERVALS or isinstance(options["interval"], bool):
            raise Refused(f"{errors.INVALID_ARGUMENTS}:interval")
    if channel == "ticker":
        options["event_trigger"] = params.get("event_trigger", "trades")
        if options["event_trigger"] not in ("trades", "bbo"):
            raise Refused(f"{errors.INVALID_ARGUMENTS}:event_trigger")
    if channel == "instrument":
        if params.get("execution_venue", "international") != "international" or \
                _flag(params, "include_tokenized_assets", False):
            raise Refused(f"{errors.INVALID_ARGUMENTS}:execution_venue is not supported by this emulator")
        _subscribe_one(d, conn, "instrument", {"channel": "instrument", "snapshot": snapshot}, reply, snapshot)
        return
    for symbol in _symbols(params):
        result = {"channel": channel, "symbol": symbol, "snapshot": snapshot, **options}
        _subscribe_one(d, conn, _topic(channel, symbol, options), result, reply, snapshot, symbol=symbol)


def _subscribe_one(d: KrakenDialect, conn: WsConnection, topic: str, result: Json, reply: Any, snapshot: bool,
                   symbol: str | None = None) -> None:
    refusal = d.hub.subscribe(conn, [topic], partial(check_topic, d))
    if refusal is not None:
        reply(error=refusal, symbol=symbol)
        return
    conn.state["options"][topic] = result
    reply(result=result)
    if snapshot:
        send_snapshot(d, conn, topic)


def unsubscribe(d: KrakenDialect, conn: WsConnection, params: Json, reply: Any) -> None:
    channel = params["channel"]
    if channel in PRIVATE_CHANNELS or channel == "instrument":
        topics = [channel]
        results = [{"channel": channel}]
        symbols: list[str | None] = [None]
    elif channel in PUBLIC_CHANNELS:
        options = {"interval": params.get("interval")} if channel == "ohlc" else {}
        found = _symbols(params)
        topics = [_topic(channel, s, options) for s in found]
        results = [{"channel": channel, "symbol": s, **options} for s in found]
        symbols = list(found)
    else:
        raise Refused(errors.WS_UNKNOWN_CHANNEL.format(channel=channel))
    for topic, result, symbol in zip(topics, results, symbols, strict=True):
        if topic not in conn.topics:
            reply(error=errors.WS_NOT_SUBSCRIBED, symbol=symbol)
            continue
        d.hub.unsubscribe(conn, [topic])
        conn.state["options"].pop(topic, None)
        reply(result=result)


def _subscribe_private(d: KrakenDialect, conn: WsConnection, channel: str, params: Json, reply: Any) -> None:
    if conn.kind != "private":
        raise Refused(errors.WS_PRIVATE_CHANNEL.format(channel=channel))
    _check_keys(params, channel)
    token = d.tokens.resolve(str(params.get("token", "")), clock())
    if token is None or (conn.account is not None and conn.account != token.account):
        raise Refused(errors.WS_INVALID_SESSION)
    if "users" in params:
        raise Refused(f"{errors.INVALID_ARGUMENTS}:users is not supported by this emulator")
    token.in_use = True
    conn.account = token.account
    if channel == "balances":
        snapshot = _flag(params, "snapshot", True)
        _subscribe_one(d, conn, "balances", {"channel": "balances", "snapshot": snapshot}, reply, snapshot)
        return
    if _flag(params, "ratecounter", False):
        raise Refused(f"{errors.INVALID_ARGUMENTS}:ratecounter is not supported by this emulator")
    snap_orders = _flag(params, "snap_orders", _flag(params, "snapshot", True))
    snap_trades = _flag(params, "snap_trades", _flag(params, "snapshot_trades", False))
    conn.state["order_status"] = _flag(params, "order_status", True)
    key = d.accounts.get(token.api_key)
    result = {"channel": "executions", "maxratecount": key.state.limits.trading_max if key is not None else 0,
              "snap_orders": snap_orders, "snap_trades": snap_trades}
    refusal = d.hub.subscribe(conn, ["executions"], partial(check_topic, d))
    if refusal is not None:
        reply(error=refusal)
        return
    conn.state["options"]["executions"] = result
    reply(result=result)
    reports = []
    if snap_orders:
        reports += [order_report(d, info, "new", full=True)
                    for info in d.orders.infos.values() if info.order.account == conn.account and info.order.is_open]
    if snap_trades:
        fills = [r for r in d.orders.history if r.fill.account == conn.account][-50:]
        reports += [trade_report(d, r) for r in fills]
    send_private(conn, "executions", reports, kind="snapshot")


# ---------------------------------------------------------------------- snapshots
def send_snapshot(d: KrakenDialect, conn: WsConnection, topic: str) -> None:
    channel, _, rest = topic.partition(":")
    if channel == "instrument":
        conn.send(v2({"channel": "instrument", "type": "snapshot", "data": instruments(d)}))
        return
    if channel == "balances":
        send_private(conn, "balances", balance_snapshot(d, conn.account or ""), kind="snapshot")
        return
    symbol = rest.split(":")[0]
    pair = d.markets.ws_pair(symbol)
    assert pair is not None
    state = d.exchange.symbols[pair.key]
    if channel == "book":
        conn.send(v2({"channel": "book", "type": "snapshot", "data": [book_data(pair, state, None)]}))
    elif channel == "ticker":
        conn.send(v2({"channel": "ticker", "type": "snapshot", "data": [render.ws_ticker(pair, state, wall_ms())]}))
    elif channel == "trade":
        conn.send(v2({"channel": "trade", "type": "snapshot",
                      "data": [trade_item(pair, t) for t in state.trades[-50:]]}))
    elif channel == "ohlc":
        interval = int(rest.split(":")[1])
        bars = aggregate(state.candles[-interval * 50:], Interval(interval))[-50:]
        now = wall_ms()
        conn.send(v2({"channel": "ohlc", "type": "snapshot", "timestamp": render.rfc3339(now),
                      "data": [render.ws_candle(pair, bar, interval, now) for bar in bars]}))


def instruments(d: KrakenDialect) -> Json:
    used = {a for p in d.markets.pairs.values() for a in (p.base, p.quote)}
    assets = [{"id": a.ws, "status": "enabled", "precision": a.decimals, "precision_display": a.display_decimals,
               "borrowable": a.key in ("XXBT", "ZUSD"), "collateral_value": ws_number(a.collateral_value, 2),
               "margin_rate": ws_number(D("0.02"), 4)} for key, a in d.markets.assets.items() if key in used]
    pairs = [{"symbol": p.symbol, "base": d.markets.assets[p.base].ws, "quote": d.markets.assets[p.quote].ws,
              "status": "online", "qty_precision": p.lot_decimals, "qty_increment": p.lot_step,
              "qty_min": p.ordermin, "price_precision": p.pair_decimals, "price_increment": p.tick_size,
              "cost_precision": p.cost_decimals, "cost_min": p.costmin, "marginable": p.marginable,
              "has_index": True, "tick_size": p.tick_size,
              **({"margin_initial": ws_number(D(1) / max(p.leverage_buy), 2),
                  "position_limit_long": p.long_position_limit, "position_limit_short": p.short_position_limit}
                 if p.marginable else {})}
             for p in d.markets.pairs.values() if p.key in d.exchange.symbols]
    return {"assets": assets, "pairs": pairs}


# ---------------------------------------------------------------------- the book and its checksum
def _digits(text: str) -> str:
    return text.replace(".", "").lstrip("0")


def checksum(pair: KrakenPair, bids: Levels, asks: Levels) -> int:
    """Kraken's v2 book checksum: CRC32 of the top ten asks (low to high) then bids (high to low), each price
    and quantity printed with the pair's precision, without the dot and leading zeros."""
    parts = []
    for price, qty in [*sorted(asks)[:10], *sorted(bids, reverse=True)[:10]]:
        parts.append(_digits(f"{render.quantized(price, pair.pair_decimals):f}")
                     + _digits(f"{render.quantized(qty, pair.lot_decimals):f}"))
    return zlib.crc32("".join(parts).encode()) & 0xFFFFFFFF


def book_data(pair: KrakenPair, state: SymbolState, changes: tuple[Levels, Levels] | None) -> Json:
    """A snapshot (``changes`` None: the whole book) or an update (the changed levels, 0 = removed)."""
    bids, asks = render.levels(state, "bids", 1000), render.levels(state, "asks", 1000)
    shown_bids, shown_asks = (bids, asks) if changes is None else changes
    data: Json = {"symbol": pair.symbol, "bids": render.ws_levels(pair, sorted(shown_bids, reverse=True)),
                  "asks": render.ws_levels(pair, sorted(shown_asks)), "checksum": checksum(pair, bids, asks)}
    if changes is not None:
        data["timestamp"] = render.rfc3339(wall_ms())
    return data


def _publish(d: KrakenDialect, topic: str, message: str) -> None:
    d.hub.publish(topic, lambda conn: message)


def book_changed(d: KrakenDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    pair = d.pair(state.spec.symbol)
    topic = f"book:{pair.symbol}"
    if not d.hub.subscribers(topic) or not (bids or asks):
        return
    _publish(d, topic, v2({"channel": "book", "type": "update", "data": [book_data(pair, state, (bids, asks))]}))


def on_book(d: KrakenDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    book_changed(d, state, bids, asks)


# ---------------------------------------------------------------------- public events
def trade_item(pair: KrakenPair, trade: PublicTrade) -> Json:
    return {"symbol": pair.symbol, "side": "sell" if trade.buyer_is_maker else "buy",
            "price": ws_number(trade.price, pair.pair_decimals), "qty": ws_number(trade.quantity, pair.lot_decimals),
            "ord_type": "limit", "trade_id": trade.trade_id, "timestamp": render.rfc3339(trade.time_ms)}


def _tickers(d: KrakenDialect, pair: KrakenPair, state: SymbolState, trigger: str) -> None:
    topic = f"ticker:{pair.symbol}"
    subscribers = [c for c in d.hub.subscribers(topic)
                   if c.state["options"].get(topic, {}).get("event_trigger") == trigger]
    if subscribers:
        message = v2({"channel": "ticker", "type": "update", "data": [render.ws_ticker(pair, state, wall_ms())]})
        for conn in subscribers:
            conn.send(message)


def on_trade(d: KrakenDialect, trade: PublicTrade) -> None:
    pair = d.pair(trade.symbol)
    state = d.exchange.symbols[trade.symbol]
    topic = f"trade:{pair.symbol}"
    if d.hub.subscribers(topic):
        _publish(d, topic, v2({"channel": "trade", "type": "update", "data": [trade_item(pair, trade)]}))
    _tickers(d, pair, state, "trades")
    now = wall_ms()
    for conn, topic in d.hub.matching(lambda conn: True, lambda t: t.startswith(f"ohlc:{pair.symbol}:")):
        interval = int(topic.rsplit(":", 1)[1])
        bar = aggregate(state.candles[-interval * 2:], Interval(interval))[-1]
        conn.send(v2({"channel": "ohlc", "type": "update", "timestamp": render.rfc3339(now),
                      "data": [render.ws_candle(pair, bar, interval, now)]}))


def on_tick(d: KrakenDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    book_changed(d, state, bids, asks)
    _tickers(d, d.pair(state.spec.symbol), state, "bbo")


# ---------------------------------------------------------------------- private events
def send_private(conn: WsConnection, channel: str, data: list[Json], *, kind: str = "update") -> None:
    sequence = conn.state["sequence"].get(channel, 0) + 1
    conn.state["sequence"][channel] = sequence
    conn.send(v2({"channel": channel, "type": kind, "data": data, "sequence": sequence}))


def _identity(info: OrderInfo) -> Json:
    found: Json = {"order_id": info.txid}
    if info.order.client_order_id:
        found["cl_ord_id"] = info.order.client_order_id
    if info.meta.userref is not None:
        found["order_userref"] = info.meta.userref
    return found


def _order_status(order: EOrder) -> str:
    return {"NEW": "new", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled"}.get(order.status, "canceled")


def _progress(d: KrakenDialect, info: OrderInfo) -> Json:
    order, pair = info.order, info.pair
    found: Json = {"cum_qty": ws_number(order.filled, pair.lot_decimals),
                   "cum_cost": ws_number(order.quote_filled, pair.cost_decimals),
                   "fee_usd_equiv": ws_number(d.valuer.value(pair.quote, d.order_fee_in_quote(info), "ZUSD"), 4)}
    if order.filled:
        found["avg_price"] = ws_number(order.quote_filled / order.filled, pair.pair_decimals)
    return found


def order_report(d: KrakenDialect, info: OrderInfo, exec_type: str, *, full: bool, status: str | None = None) -> Json:
    order, pair = info.order, info.pair
    report: Json = {**_identity(info), "exec_type": exec_type, "order_status": status or _order_status(order),
                    "timestamp": render.rfc3339(order.updated_ms)}
    if full:
        volume = order.quantity if order.quantity or order.quote_quantity is None else order.quote_quantity
        report.update(symbol=pair.symbol, side=order.side.lower(), order_type=info.meta.ordertype,
                      order_qty=ws_number(volume, pair.lot_decimals), time_in_force=info.meta.timeinforce,
                      fee_ccy_pref="fcib" if "fcib" in render.order_flags(info) else "fciq", **_progress(d, info))
        if order.price is not None:
            report.update(limit_price=ws_number(order.price, pair.pair_decimals), limit_price_type="static")
        if "post" in info.meta.oflags:
            report["post_only"] = True
        if order.reduce_only:
            report["reduce_only"] = True
        if info.meta.leverage:
            report["margin"] = True
        if info.amended:
            report["amended"] = True
    if exec_type in ("canceled", "expired") and info.reason:
        report["reason"] = info.reason
    if exec_type in ("filled", "canceled", "amended"):
        report.update(_progress(d, info))
    return report


def trade_report(d: KrakenDialect, record: FillInfo) -> Json:
    fill, info, pair = record.fill, record.info, record.info.pair
    asset = d.markets.ws_asset(fill.fee_asset)
    report: Json = {
        **_identity(info), "exec_id": record.txid, "exec_type": "trade", "trade_id": fill.trade_id,
        "symbol": pair.symbol, "side": fill.side.lower(), "last_qty": ws_number(fill.quantity, pair.lot_decimals),
        "last_price": ws_number(fill.price, pair.pair_decimals), "liquidity_ind": "m" if fill.is_maker else "t",
        "cost": ws_number(fill.quote_quantity, pair.cost_decimals), "order_type": info.meta.ordertype,
        "timestamp": render.rfc3339(fill.time_ms), "order_status": _order_status(info.order),
        **_progress(d, info), "fees": [{"asset": asset, "qty": ws_number(fill.fee, EXACT)}],
    }
    if info.meta.leverage:
        report["margin"] = True
        report["position_status"] = "closing" if record.closed and not record.opened else "opened"
    if info.meta.liquidation:
        report["liquidated"] = True
    return report


def on_order(d: KrakenDialect, order: EOrder, fill: EFill | None, execution: str) -> None:
    info = d.orders.info(order)
    listeners = [c for c in d.hub.private(order.account) if "executions" in c.topics]
    if info is None or not listeners:
        return
    for conn in listeners:
        every = conn.state.get("order_status", True)
        reports: list[Json] = []
        if execution == "NEW":
            if every:
                reports.append(order_report(d, info, "pending_new", full=True, status="pending_new"))
            reports.append(order_report(d, info, "new", full=not every, status="new"))
        elif execution == "AMENDED":
            reports.append(order_report(d, info, "amended", full=True))
        elif fill is not None:
            record = d.orders.fills.get((fill.symbol, fill.trade_id))
            if record is not None:
                reports.append(trade_report(d, record))
            if order.status == "FILLED":
                reports.append(order_report(d, info, "filled", full=False))
        elif execution == "FILLED":
            reports.append(order_report(d, info, "filled", full=False))
        elif execution in ("CANCELED", "EXPIRED"):
            reports.append(order_report(d, info, "canceled", full=False, status="canceled"))
        for report in reports:
            send_private(conn, "executions", [report])


def _wallets(d: KrakenDialect, asset: str, spot: Decimal, earn: Decimal | None) -> list[Json]:
    wallets = [{"type": "spot", "id": "main", "balance": ws_number(spot, EXACT)}]
    if earn is not None:
        wallets.append({"type": "earn", "id": _earn_wallet(d, asset), "balance": ws_number(earn, EXACT)})
    return wallets


def _earn_wallet(d: KrakenDialect, asset: str) -> str:
    lock = next((o.strategy.lock_type for o in d.offers.values() if o.strategy.asset == asset), "instant")
    return "bonded" if lock == "bonded" else "flexible"


def balance_snapshot(d: KrakenDialect, account: str) -> list[Json]:
    wallets = d.exchange.balances.get(account, {})
    rows = []
    for name, (free, locked) in wallets.items():
        known = d.markets.assets.get(name)
        if known is None:
            continue
        held = wallets.get(known.holding)
        earn = held[0] + held[1] if held is not None else None
        spot = free + locked
        rows.append({"asset": known.ws, "asset_class": "currency",
                     "balance": ws_number(spot + (earn or D(0)), EXACT),
                     "wallets": _wallets(d, name, spot, earn)})
    return rows


def on_balances(d: KrakenDialect, account: str, snapshot: dict[str, tuple[Decimal, Decimal]]) -> None:
    """One update per changed balance (holds are not ledger entries, so an order placed changes nothing)."""
    totals = d.totals.setdefault(account, {})
    changes = []
    for asset, (free, locked) in snapshot.items():
        total, before = free + locked, totals.get(asset, D(0))
        if total != before:
            changes.append((asset, total - before, total))
            totals[asset] = total
    listeners = [c for c in d.hub.private(account) if "balances" in c.topics]
    if not changes or not listeners:
        d.last_fill.pop(account, None)
        return
    fill = d.last_fill.pop(account, None)
    assets = {a for a, _, _ in changes}
    stamp = render.rfc3339(wall_ms())
    for asset, amount, total in changes:
        holding = d.markets.asset_of_holding(asset)
        if fill is not None:
            kind, category = ("margin", "margin-trade") if fill.info.meta.leverage else ("trade", "trade")
        elif holding is not None:
            kind, category = ("transfer", "staking") if holding.key in assets else ("reward", "staking-rewards")
        else:
            kind, category = "transfer", "staking"
        entry = {"ledger_id": kraken_id("L", d.exchange.seed, account, asset, wall_ms(), amount),
                 "ref_id": fill.txid if fill is not None else "", "timestamp": stamp, "type": kind,
                 "asset": d.markets.ws_asset(asset), "asset_class": "currency", "category": category,
                 "wallet_type": "earn" if holding is not None else "spot",
                 "wallet_id": _earn_wallet(d, holding.key) if holding is not None else "main",
                 "amount": ws_number(amount, EXACT), "fee": ws_number(D(0), 4), "balance": ws_number(total, EXACT)}
        for conn in listeners:
            send_private(conn, "balances", [entry])
