"""Bybit's websockets: public ``/v5/public/{spot,linear,inverse}`` and private ``/v5/private``.

Public topics ``orderbook.{depth}.{symbol}`` (a snapshot, then deltas whose ``u`` advances by exactly one per
book change -- ticks *and* our own taker orders -- matching ``u`` of GET /v5/market/orderbook),
``publicTrade.{symbol}``, ``tickers.{symbol}`` (derivatives: a snapshot then deltas; spot: snapshots) and
``kline.{interval}.{symbol}``; private topics ``order``, ``execution``, ``position`` and ``wallet`` (each
also per category, e.g. ``order.linear``) after the ``auth`` op. Both ping/pong shapes. A topic the
dialect does not serve is refused (`check_topic`) in Bybit's words, and nothing of that request is
subscribed.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from emulators.bybit import errors, render
from emulators.bybit.routes import CATEGORIES, INTERVALS
from emulators.engine import EFill, EOrder, EPosition, PublicTrade, SymbolState, wall_ms
from emulators.engine.candles import aggregate
from emulators.engine.errors import VenueError
from emulators.engine.faults import StreamKind
from emulators.engine.model import Levels
from emulators.engine.server import WsConnection

if TYPE_CHECKING:
    from emulators.bybit.dialect import BybitDialect

PUBLIC_PATHS = ("/v5/public/spot", "/v5/public/linear", "/v5/public/inverse")
PRIVATE_TOPICS = {"order", "execution", "position", "wallet"}
BOOK_DEPTHS = {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 500, 1000), "inverse": (1, 50, 200, 500, 1000)}


# ---------------------------------------------------------------------- connections and requests
def stream_kind(path: str) -> StreamKind | None:
    if path in PUBLIC_PATHS:
        return "public"
    if path == "/v5/private":
        return "private"
    return None


def on_open(d: BybitDialect, conn: WsConnection) -> None:
    conn.state.update(conn_id=f"emu{d.next_connection():08x}-{d.exchange.seed}",
                      category=conn.path.rsplit("/", 1)[-1] if conn.kind == "public" else "", tickers={}, klines={})
    d.hub.register(conn)


def on_message(d: BybitDialect, conn: WsConnection, text: str) -> None:
    try:
        request = json.loads(text)
        op = request.get("op")
    except (ValueError, AttributeError):
        conn.send(json.dumps({"success": False, "ret_msg": "error:request not json", "conn_id": conn.state["conn_id"],
                              "op": ""}))
        return
    req_id = str(request.get("req_id", ""))
    args = request.get("args") or []
    public = conn.kind == "public"
    base: dict[str, Any] = {"conn_id": conn.state["conn_id"], "req_id": req_id, "op": op}
    match op:
        case "ping" if public:
            conn.send(json.dumps({"success": True, "ret_msg": "pong", **base, "op": "ping"}))
        case "ping":
            conn.send(json.dumps({"req_id": req_id, "op": "pong", "args": [str(wall_ms())],
                                  "conn_id": conn.state["conn_id"]}))
        case "auth" if not public:
            conn.send(json.dumps({**authenticate(d, conn, args), **base}))
        case "subscribe":
            subscribe(d, conn, args, base)
        case "unsubscribe":
            d.hub.unsubscribe(conn, args)
            conn.send(json.dumps({"success": True, "ret_msg": "", **base}))
        case _:
            conn.send(json.dumps({"success": False, "ret_msg": f"error:handler not found,op:{op}", **base}))


def authenticate(d: BybitDialect, conn: WsConnection, args: Any) -> dict[str, Any]:
    """The ``auth`` op: [api key, expires (ms, in the future), HMAC-SHA256("GET/realtime" + expires)]."""
    if len(args) != 3:
        return {"success": False, "ret_msg": "Params Error"}
    api_key, expires, signature = str(args[0]), str(args[1]), str(args[2])
    try:
        account = d.signatures.account(d.accounts, api_key)
        if not expires.isdecimal() or int(expires) <= wall_ms():
            raise errors.request_error()
        d.signatures.signature(account.api_secret, f"GET/realtime{expires}", signature)
    except VenueError as error:
        return {"success": False, "ret_msg": errors.STREAM_AUTH_MESSAGES.get(error.code, "Params Error")}
    conn.account = account.name
    return {"success": True, "ret_msg": ""}


def subscribe(d: BybitDialect, conn: WsConnection, args: Any, base: dict[str, Any]) -> None:
    topics = [str(a) for a in args]
    public = conn.kind == "public"
    if not public and conn.account is None:
        conn.send(json.dumps({"success": False, "ret_msg": "Request not authorized", **base}))
        return
    refusal = d.hub.subscribe(conn, topics, partial(check_topic, d))
    if refusal is not None:
        conn.send(json.dumps({"success": False, "ret_msg": refusal, **base}))
        return
    ok_msg = "subscribe" if public and conn.state["category"] == "spot" else ""
    conn.send(json.dumps({"success": True, "ret_msg": ok_msg, **base}))
    if public:
        for topic in topics:
            snapshot(d, conn, topic)


def check_topic(d: BybitDialect, conn: WsConnection, topic: str) -> str | None:
    """None for a topic this connection may subscribe to, else Bybit's refusal."""
    if topic in conn.topics:
        return f"error:already subscribed,topic:{topic}"
    if conn.kind == "private":
        name, _, category = topic.partition(".")
        if name in PRIVATE_TOPICS and (not category or category in CATEGORIES):
            return None
        return f"error:handler not found,topic:{topic}"
    category = conn.state["category"]
    parts = topic.split(".")
    if f"{category}:{parts[-1]}" not in d.exchange.symbols:
        return f"Invalid symbol :[{topic}]"
    match parts:
        case ["publicTrade" | "tickers", _]:
            return None
        case ["orderbook", depth, _] if depth.isdigit() and int(depth) in BOOK_DEPTHS[category]:
            return None
        case ["kline", interval, _] if interval in INTERVALS:
            return None
    return f"error:handler not found,topic:{topic}"


def snapshot(d: BybitDialect, conn: WsConnection, topic: str) -> None:
    """What a new subscriber gets at once: the book, or the full ticker (later messages are deltas)."""
    parts = topic.split(".")
    state = d.exchange.symbols[f"{conn.state['category']}:{parts[-1]}"]
    if parts[0] == "orderbook":
        conn.send(json.dumps(render.book_message(d, state, topic, int(parts[1]), "snapshot", None)))
    elif parts[0] == "tickers":
        ticker = render.ticker(d.exchange, state)
        if state.spec.kind == "spot":
            ticker = render.spot_stream_ticker(ticker)
        conn.state["tickers"][topic] = ticker
        conn.send(json.dumps({"topic": topic, "type": "snapshot", "data": ticker,
                              "cs": d.book_seq[state.spec.symbol], "ts": wall_ms()}))


# ---------------------------------------------------------------------- engine events -> public topics
def subscribed(d: BybitDialect, state: SymbolState, name: str) -> list[tuple[WsConnection, str]]:
    """(connection, topic) for each public subscription to topic ``name`` of this instrument."""
    suffix = "." + state.spec.name
    return d.hub.matching(lambda conn: conn.state.get("category") == state.spec.kind,
                          lambda topic: topic.endswith(suffix) and topic.startswith(name + "."))


def book_changed(d: BybitDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    """Every book change advances ``u`` by one and is pushed as one delta (depth 1: a snapshot)."""
    symbol = state.spec.symbol
    d.book_u[symbol] += 1
    d.book_seq[symbol] += 1
    for conn, topic in subscribed(d, state, "orderbook"):
        depth = int(topic.split(".")[1])
        if depth == 1:
            conn.send(json.dumps(render.book_message(d, state, topic, 1, "snapshot", None)))
        else:
            conn.send(json.dumps(render.book_message(d, state, topic, depth, "delta", (bids, asks))))


def on_trade(d: BybitDialect, trade: PublicTrade) -> None:
    state = d.exchange.symbols[trade.symbol]
    item = render.trade_item(d, state, trade)
    for conn, topic in subscribed(d, state, "publicTrade"):
        conn.send(json.dumps({"topic": topic, "type": "snapshot", "ts": wall_ms(), "data": [item]}))


def on_tick(d: BybitDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    book_changed(d, state, bids, asks)
    now = wall_ms()
    push_tickers(d, state, now)
    push_klines(d, state, now)


def push_tickers(d: BybitDialect, state: SymbolState, now: int) -> None:
    ticker = render.ticker(d.exchange, state)
    for conn, topic in subscribed(d, state, "tickers"):
        if state.spec.kind == "spot":
            conn.send(json.dumps({"topic": topic, "type": "snapshot", "data": render.spot_stream_ticker(ticker),
                                  "cs": d.book_seq[state.spec.symbol], "ts": now}))
            continue
        last = conn.state["tickers"].get(topic, {})
        delta = {k: v for k, v in ticker.items() if last.get(k) != v}
        conn.state["tickers"][topic] = ticker
        if delta:
            conn.send(json.dumps({"topic": topic, "type": "delta", "data": {"symbol": state.spec.name, **delta},
                                  "cs": d.book_seq[state.spec.symbol], "ts": now}))


def push_klines(d: BybitDialect, state: SymbolState, now: int) -> None:
    """The current candle on every tick; when a new one opens, the previous one once more, confirmed."""
    for conn, topic in subscribed(d, state, "kline"):
        name = topic.split(".")[1]
        interval = INTERVALS[name]
        bars = aggregate(state.candles[-interval.span_minutes * 2:], interval)
        sent = conn.state["klines"].get(topic)
        items = []
        if sent is not None and sent.open_ms != bars[-1].open_ms and len(bars) > 1:
            items.append(render.kline_item(state.spec, name, bars[-2], confirm=True))
        items.append(render.kline_item(state.spec, name, bars[-1], confirm=False))
        conn.state["klines"][topic] = bars[-1]
        for item in items:
            conn.send(json.dumps({"topic": topic, "data": [item], "ts": now, "type": "snapshot"}))


# ---------------------------------------------------------------------- engine events -> private topics
def push_private(d: BybitDialect, account: str, topics: tuple[str, ...], data: Callable[[], list[Any]]) -> None:
    """Send ``data`` (built once, only if someone listens) on each of ``topics`` a private stream took."""
    built: list[Any] | None = None
    now = wall_ms()
    for conn in d.hub.private(account):
        for topic in topics:
            if topic in conn.topics:
                built = data() if built is None else built
                conn.send(json.dumps({"id": f"{d.next_message()}-{secrets.token_hex(8)}", "topic": topic,
                                      "creationTime": now, "data": built}))


def on_order(d: BybitDialect, order: EOrder, fill: EFill | None, execution: str) -> None:
    kind = d.exchange.symbols[order.symbol].spec.kind
    push_private(d, order.account, ("order", f"order.{kind}"), lambda: [render.order(d, order, stream=True)])
    if fill is not None:
        push_private(d, order.account, ("execution", f"execution.{kind}"),
                     lambda: [render.execution(d, fill, stream=True)])


def on_position(d: BybitDialect, position: EPosition) -> None:
    kind = d.exchange.symbols[position.symbol].spec.kind
    push_private(d, position.account, ("position", f"position.{kind}"),
                 lambda: [render.position(d, position, stream=True)])


def on_balances(d: BybitDialect, account: str, snapshot: dict[str, tuple[Decimal, Decimal]]) -> None:
    push_private(d, account, ("wallet",), lambda: [render.wallet(d.exchange, account)])
