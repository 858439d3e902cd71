"""Bybit's websockets: public ``/v5/public/{spot,linear,inverse}`` and private ``/v5/private``.

Public topics ``orderbook.{depth}.{symbol}`` (a snapshot, then deltas whose ``u`` advances by exactly one per
book change -- ticks *and* our own taker orders -- matching ``u`` of GET /v5/market/orderbook),
``publicTrade.{symbol}``, ``tickers.{symbol}`` (derivatives: a snapshot then deltas; spot: snapshots) and
``kline.{interval}.{symbol}`` (`public_topics` lists every one a category serves); private topics
`PRIVATE_TOPICS` after the ``auth`` op. Both ping/pong shapes.

Refused in Bybit's words, nothing of the request done: a topic not served (`check_topic`), more than 10 args in
one spot request ("args size >10"), a public connection's args beyond 21,000 characters, a topic subscribed
twice, args that are not a list of strings, a request that is not a JSON object, an unknown op.

Bybit's heartbeat is the client's: ``{"op": "ping"}`` (every 20 s recommended); the server sends no pings. A
connection on which nothing was sent either way for 10 minutes -- or for ``max_active_time`` (30s..600s, or
1m..10m) on the private stream -- is closed at the next of Bybit's 30-second scans (`touch`).
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import trio

from emulators.bybit import errors, render
from emulators.bybit.routes import INTERVALS
from emulators.engine import EFill, EOrder, EPosition, PublicTrade, SymbolState, wall_ms
from emulators.engine.candles import aggregate
from emulators.engine.errors import VenueError
from emulators.engine.faults import StreamKind
from emulators.engine.model import Levels
from emulators.engine.server import WsConnection

if TYPE_CHECKING:
    from emulators.bybit.dialect import BybitDialect

PUBLIC_PATHS = ("/v5/public/spot", "/v5/public/linear", "/v5/public/inverse")
PRIVATE_PATH = "/v5/private"
# The private topics served: all-in-one, and per category where Bybit documents one (options are not served).
PRIVATE_TOPICS = frozenset({"order", "order.spot", "order.linear", "order.inverse",
                            "execution", "execution.spot", "execution.linear", "execution.inverse",
                            "position", "position.linear", "position.inverse", "wallet"})
BOOK_DEPTHS = {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 500, 1000), "inverse": (1, 50, 200, 500, 1000)}
SPOT_ARGS_PER_REQUEST = 10  # "Spot can input up to 10 args for each subscription request"
PUBLIC_ARGS_CHARS = 21_000  # "you cannot have length of "args" array over 21,000 characters" (one public connection)
IDLE_SECONDS = 600.0  # nothing sent either way for 10 minutes: the connection is cut
IDLE_SCAN_SECONDS = 30.0  # "ticker scans every 30s"
ACTIVE_TIME = re.compile(r"^(?:(\d{1,3})s|(\d{1,2})m)$")  # max_active_time: "45s", "2m"


# ---------------------------------------------------------------------- connections and requests
def stream_kind(path: str) -> StreamKind | None:
    if path in PUBLIC_PATHS:
        return "public"
    if path == PRIVATE_PATH:
        return "private"
    return None


def send(conn: WsConnection, message: dict[str, Any]) -> None:
    """Every frame the dialect sends: one JSON object, and activity that keeps the connection alive."""
    conn.send(json.dumps(message))
    touch(conn)


def touch(conn: WsConnection) -> None:
    """Something was sent or received: the connection is cut at the first 30-second scan ``alive`` seconds
    from now unless something else happens first (the deadline of the connection's own cancel scope)."""
    if conn.state.get("refused"):
        return
    opened, alive = conn.state["opened"], conn.state["alive"]
    scans = math.ceil((trio.current_time() + alive - opened) / IDLE_SCAN_SECONDS)
    deadline = opened + scans * IDLE_SCAN_SECONDS
    if deadline != conn.scope.deadline:
        conn.scope.deadline = deadline


def alive_seconds(conn: WsConnection) -> float | None:
    """How long this connection may stay idle: 10 minutes, or the private stream's ``max_active_time``;
    None for a query string Bybit does not document (a public stream takes none)."""
    try:
        query = parse_qsl(conn.query_string, keep_blank_values=True, strict_parsing=bool(conn.query_string))
    except ValueError:
        return None
    if not query:
        return IDLE_SECONDS
    if conn.kind != "private" or len(query) != 1 or query[0][0] != "max_active_time":
        return None
    found = ACTIVE_TIME.match(query[0][1])
    if found is None:
        return None
    seconds = int(found.group(1)) if found.group(1) else 60 * int(found.group(2))
    return float(seconds) if 30 <= seconds <= 600 else None


def on_open(d: BybitDialect, conn: WsConnection) -> None:
    conn.state.update(conn_id=f"emu{d.next_connection():08x}-{d.exchange.seed}",
                      category=conn.path.rsplit("/", 1)[-1] if conn.kind == "public" else "", tickers={}, klines={},
                      opened=trio.current_time(), alive=IDLE_SECONDS)
    d.hub.register(conn)
    alive = alive_seconds(conn)
    if alive is None:  # refused: this one frame, then the connection closes
        send(conn, {"success": False, "ret_msg": f"error:invalid query,{conn.query_string[:200]}",
                    "conn_id": conn.state["conn_id"], "op": ""})
        conn.state["refused"] = True
        conn.scope.deadline = trio.current_time() + 1.0
        return
    conn.state["alive"] = alive
    touch(conn)


def parse(text: str) -> dict[str, Any] | None:
    """The request as a JSON object, or None (not JSON, not an object, or nested beyond a parser's reach)."""
    try:
        request = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return request if isinstance(request, dict) else None


def on_message(d: BybitDialect, conn: WsConnection, text: str) -> None:
    if conn.state.get("refused"):
        return
    touch(conn)
    request = parse(text)
    if request is None:
        send(conn, {"success": False, "ret_msg": "error:request not json", "conn_id": conn.state["conn_id"],
                    "op": ""})
        return
    op, req_id, args = request.get("op"), request.get("req_id"), request.get("args")
    base: dict[str, Any] = {"conn_id": conn.state["conn_id"], "req_id": _req_id(req_id),
                            "op": op if isinstance(op, str) else ""}
    public = conn.kind == "public"
    if not isinstance(op, str) or base["req_id"] is None:
        send(conn, {"success": False, "ret_msg": "error:invalid request, op and req_id must be strings",
                    **base, "req_id": ""})
        return
    match op:
        case "ping" if public:
            send(conn, {"success": True, "ret_msg": "pong", **base})
        case "ping":
            send(conn, {"req_id": base["req_id"], "op": "pong", "args": [str(wall_ms())],
                        "conn_id": conn.state["conn_id"]})
        case "auth" if not public:
            send(conn, {**authenticate(d, conn, args), **base})
        case "subscribe" | "unsubscribe":
            topics = _topics(args)
            if topics is None:
                send(conn, {"success": False, "ret_msg": f"error:args invalid,op:{op}", **base})
            elif op == "subscribe":
                subscribe(d, conn, topics, base)
            else:
                unsubscribe(conn, topics, base)
        case _:
            send(conn, {"success": False, "ret_msg": f"error:handler not found,op:{op[:100]}", **base})


def _req_id(raw: Any) -> str | None:
    """req_id is optional and echoed as a string (ccxt sends numbers); anything else is not an id."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**18:
        return str(raw)
    return None


def _topics(args: Any) -> list[str] | None:
    """A subscribe/unsubscribe request's args: a non-empty list of strings."""
    if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
        return None
    return args


def authenticate(d: BybitDialect, conn: WsConnection, args: Any) -> dict[str, Any]:
    """The ``auth`` op: [api key, expires (ms, in the future), HMAC-SHA256("GET/realtime" + expires)]."""
    if not isinstance(args, list) or len(args) != 3 or not all(isinstance(a, (str, int)) for a in args):
        return {"success": False, "ret_msg": "Params Error"}
    api_key, expires, signature = str(args[0]), str(args[1]), str(args[2])
    try:
        account = d.signatures.account(d.accounts, api_key)
        if not (expires.isascii() and expires.isdecimal() and len(expires) <= 19) or int(expires) <= wall_ms():
            raise errors.request_error()
        d.signatures.signature(account.api_secret, f"GET/realtime{expires}", signature)
    except VenueError as error:
        return {"success": False, "ret_msg": errors.STREAM_AUTH_MESSAGES.get(error.code, "Params Error")}
    conn.account = account.name
    return {"success": True, "ret_msg": ""}


def subscribe(d: BybitDialect, conn: WsConnection, topics: list[str], base: dict[str, Any]) -> None:
    public = conn.kind == "public"
    refusal = None
    if not public and conn.account is None:
        refusal = "Request not authorized"
    elif public and conn.state["category"] == "spot" and len(topics) > SPOT_ARGS_PER_REQUEST:
        refusal = f"args size >{SPOT_ARGS_PER_REQUEST}"
    elif public and sum(map(len, conn.topics | set(topics))) > PUBLIC_ARGS_CHARS:
        refusal = f"error:args length >{PUBLIC_ARGS_CHARS}"
    elif len(set(topics)) != len(topics):
        refusal = f"error:already subscribed,topic:{next(t for t in topics if topics.count(t) > 1)}"
    else:
        refusal = d.hub.subscribe(conn, topics, partial(check_topic, d))
    if refusal is not None:
        send(conn, {"success": False, "ret_msg": refusal, **base})
        return
    ok_msg = "subscribe" if public and conn.state["category"] == "spot" else ""
    send(conn, {"success": True, "ret_msg": ok_msg, **base})
    if public:
        for topic in topics:
            snapshot(d, conn, topic)


def unsubscribe(conn: WsConnection, topics: list[str], base: dict[str, Any]) -> None:
    """Only what this connection subscribed to can be unsubscribed; otherwise nothing is."""
    missing = next((t for t in topics if t not in conn.topics), None)
    if missing is not None:
        send(conn, {"success": False, "ret_msg": f"error:not subscribed,topic:{missing[:200]}", **base})
        return
    conn.topics.difference_update(topics)
    send(conn, {"success": True, "ret_msg": "", **base})


def public_topics(category: str, symbol: str) -> set[str]:
    """Every public topic served on ``category``'s stream for ``symbol`` (if it is one of the category's)."""
    return ({f"orderbook.{depth}.{symbol}" for depth in BOOK_DEPTHS[category]}
            | {f"publicTrade.{symbol}", f"tickers.{symbol}"} | {f"kline.{name}.{symbol}" for name in INTERVALS})


def check_topic(d: BybitDialect, conn: WsConnection, topic: str) -> str | None:
    """None for a topic this connection may subscribe to, else Bybit's refusal: an unknown symbol in a served
    topic is "Invalid symbol" on spot and "handler not found" on contracts, as the venue answers them."""
    shown = topic[:200]
    if topic in conn.topics:
        return f"error:already subscribed,topic:{shown}"
    if conn.kind == "private":
        return None if topic in PRIVATE_TOPICS else f"error:handler not found,topic:{shown}"
    category = conn.state["category"]
    symbol = topic.rsplit(".", 1)[-1]
    if topic not in public_topics(category, symbol):
        return f"error:handler not found,topic:{shown}"
    if f"{category}:{symbol}" not in d.exchange.symbols:
        return f"Invalid symbol :[{shown}]" if category == "spot" else f"error:handler not found,topic:{shown}"
    return None


def snapshot(d: BybitDialect, conn: WsConnection, topic: str) -> None:
    """What a new subscriber gets at once: the book, or the full ticker (later messages are deltas)."""
    parts = topic.split(".")
    state = d.exchange.symbols[f"{conn.state['category']}:{parts[-1]}"]
    if parts[0] == "orderbook":
        send(conn, render.book_message(d, state, topic, int(parts[1]), "snapshot", None))
    elif parts[0] == "tickers":
        ticker = render.ticker(d.exchange, state)
        if state.spec.kind == "spot":
            ticker = render.spot_stream_ticker(ticker)
        conn.state["tickers"][topic] = ticker
        send(conn, {"topic": topic, "type": "snapshot", "data": ticker, "cs": d.book_seq[state.spec.symbol],
                    "ts": wall_ms()})


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
            send(conn, render.book_message(d, state, topic, 1, "snapshot", None))
        else:
            send(conn, render.book_message(d, state, topic, depth, "delta", (bids, asks)))


def on_trade(d: BybitDialect, trade: PublicTrade) -> None:
    state = d.exchange.symbols[trade.symbol]
    item = render.trade_item(d, state, trade)
    for conn, topic in subscribed(d, state, "publicTrade"):
        send(conn, {"topic": topic, "type": "snapshot", "ts": wall_ms(), "data": [item]})


def on_tick(d: BybitDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    book_changed(d, state, bids, asks)
    now = wall_ms()
    push_tickers(d, state, now)
    push_klines(d, state, now)


def push_tickers(d: BybitDialect, state: SymbolState, now: int) -> None:
    ticker = render.ticker(d.exchange, state)
    for conn, topic in subscribed(d, state, "tickers"):
        if state.spec.kind == "spot":
            send(conn, {"topic": topic, "type": "snapshot", "data": render.spot_stream_ticker(ticker),
                        "cs": d.book_seq[state.spec.symbol], "ts": now})
            continue
        last = conn.state["tickers"].get(topic, {})
        delta = {k: v for k, v in ticker.items() if last.get(k) != v}
        conn.state["tickers"][topic] = ticker
        if delta:
            send(conn, {"topic": topic, "type": "delta", "data": {"symbol": state.spec.name, **delta},
                        "cs": d.book_seq[state.spec.symbol], "ts": now})


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
            send(conn, {"topic": topic, "data": [item], "ts": now, "type": "snapshot"})


# ---------------------------------------------------------------------- engine events -> private topics
def push_private(d: BybitDialect, account: str, topics: tuple[str, ...], data: Callable[[], list[Any]]) -> None:
    """Send ``data`` (built once, only if someone listens) on each of ``topics`` a private stream took."""
    built: list[Any] | None = None
    now = wall_ms()
    for conn in d.hub.private(account):
        for topic in topics:
            if topic in conn.topics:
                built = data() if built is None else built
                send(conn, {"id": f"{d.next_message()}-{secrets.token_hex(8)}", "topic": topic,
                            "creationTime": now, "data": built})


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
