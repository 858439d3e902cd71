"""OKX's websockets: ``/ws/v5/public``, ``/ws/v5/business`` and ``/ws/v5/private``.

Requests are JSON ``{"id"?, "op", "args": [{"channel", ...}]}``; the text ``ping`` is answered ``pong``.
Each subscription argument is acknowledged (``{"event": "subscribe", "arg", "connId"}``) or refused
(``{"event": "error", "code", "msg", "connId"}``) on its own, in OKX's words: 60018 names the channel and
its arguments for anything this service does not serve (candles on /public, books on /business, unknown
instruments or arguments), 60011 for private channels before ``login``, 64003 for the VIP-only
tick-by-tick books, 60012 for malformed requests, 60019 for unknown ops, 60028 for websocket order entry
(not served here).

- public: ``tickers``, ``trades``, ``books`` (a snapshot, then updates whose ``prevSeqId`` is the ``seqId``
  of the previous message; ``checksum`` is 0 as OKX sends it since 2026-06-23, unless the dialect's
  ``send_checksums`` asks for the retired CRC32), ``books5``, ``bbo-tbt``, ``funding-rate``, ``mark-price``,
  ``open-interest``, ``index-tickers``;
- business: ``candle{bar}`` (and the ``utc`` bars);
- private (after ``login``): ``orders``, ``positions`` (snapshot, event updates, regular snapshots by
  ``updateInterval``), ``account`` (likewise), ``balance_and_position``.
A connection that has sent nothing for 30 s is closed with 4004 "No data received in 30s", as OKX does.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import trio

from emulators.engine import EFill, EOrder, EPosition, PublicTrade, SymbolState, wall_ms
from emulators.engine.errors import VenueError
from emulators.engine.faults import StreamKind
from emulators.engine.model import Levels
from emulators.engine.ratewindows import RollingWindow
from emulators.engine.server import WsConnection
from emulators.okx import errors, render
from emulators.okx.routes import BARS, bars_of

if TYPE_CHECKING:
    from emulators.okx.dialect import OkxDialect

Json = dict[str, Any]
SERVICES = {"/ws/v5/public": "public", "/ws/v5/business": "business", "/ws/v5/private": "private"}
PUBLIC_CHANNELS = {"tickers", "trades", "books", "books5", "bbo-tbt", "funding-rate", "mark-price", "open-interest",
                   "index-tickers"}
VIP_BOOKS = {"books-l2-tbt", "books50-l2-tbt"}
PRIVATE_CHANNELS = {"orders", "positions", "account", "balance_and_position"}
TRADING_OPS = {"order", "batch-orders", "cancel-order", "batch-cancel-orders", "amend-order", "batch-amend-orders",
               "mass-cancel"}
INST_TYPES = {"orders": {"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY"},
              "positions": {"MARGIN", "SWAP", "FUTURES", "OPTION", "ANY"}}
BOOK_DEPTH = {"books": 400, "books5": 5, "bbo-tbt": 1}
OPS_PER_HOUR = 480
EPOCH_SECONDS = re.compile(r"^\d{1,12}(\.\d{1,6})?$")
SNAPSHOT_SECONDS = 5.0
FUNDING_PUSH_SECONDS = 60.0
OPEN_INTEREST_PUSH_SECONDS = 3.0


# ---------------------------------------------------------------------- connections and requests
def stream_kind(path: str) -> StreamKind | None:
    service = SERVICES.get(path)
    if service is None:
        return None
    return "private" if service == "private" else "public"


def on_open(d: OkxDialect, conn: WsConnection) -> None:
    conn.state.update(conn_id=d.next_conn_id(), service=SERVICES[conn.path], args={}, sent={}, candles={},
                      snapshots={}, ops=RollingWindow(3600.0))
    conn.idle_timeout = d.idle_timeout
    conn.idle_close = errors.IDLE_CLOSE
    d.hub.register(conn)


def send(conn: WsConnection, message: Json) -> None:
    conn.send(json.dumps(message))


def event_error(conn: WsConnection, code: int, msg: str, request_id: str | None = None) -> None:
    body: Json = {"event": "error", "code": str(code), "msg": msg, "connId": conn.state["conn_id"]}
    if request_id is not None:
        body = {"id": request_id, **body}
    send(conn, body)


def on_message(d: OkxDialect, conn: WsConnection, text: str) -> None:
    if text == "ping":
        conn.send("pong")
        return
    try:
        request = json.loads(text)
    except ValueError:
        event_error(conn, 60012, f"Invalid request: {text}")
        return
    if not isinstance(request, dict):
        event_error(conn, 60012, f"Invalid request: {text}")
        return
    raw_id = request.get("id")
    request_id = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    op, args = request.get("op"), request.get("args")
    if not isinstance(op, str) or not op:
        event_error(conn, 60012, f"Invalid request: {text}", request_id)
        return
    if op in TRADING_OPS:
        event_error(conn, 60028, "The current operation is not supported by this URL. Please use the correct "
                                 "WebSocket URL for the operation.", request_id)
        return
    if op not in ("login", "subscribe", "unsubscribe"):
        event_error(conn, 60019, f"Invalid op: {op}", request_id)
        return
    window: RollingWindow = conn.state["ops"]
    if not window.admit(trio.current_time(), OPS_PER_HOUR):
        event_error(conn, 60014, errors.WS_MESSAGES[60014], request_id)
        return
    if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
        event_error(conn, 60012, f"Invalid request: {text}", request_id)
        return
    if op == "login":
        login(d, conn, args, request_id)
    elif op == "subscribe":
        for arg in args:
            subscribe(d, conn, arg, request_id)
    else:
        for arg in args:
            unsubscribe(d, conn, arg, request_id)


def login(d: OkxDialect, conn: WsConnection, args: list[Json], request_id: str | None) -> None:
    """``{"apiKey", "passphrase", "timestamp" (epoch s), "sign"}``: sign = base64 HMAC-SHA256 of
    ``timestamp + "GET" + "/users/self/verify"``, within 30 s of the timestamp. One account per connection."""
    if len(args) != 1:
        event_error(conn, 60021 if len(args) > 1 else 60012, "This operation does not support multiple accounts "
                                                             "login." if len(args) > 1 else "Invalid request",
                    request_id)
        return
    arg = args[0]
    for name in ("apiKey", "passphrase", "timestamp", "sign"):
        if not isinstance(arg.get(name), str | int) or arg.get(name) in ("", None):
            event_error(conn, 60027, f"Parameter {name} can not be empty.", request_id)
            return
    account = d.accounts.get(str(arg["apiKey"]))
    if account is None or not account.state.simulated:  # this is the demo service: live keys do not exist here
        event_error(conn, 60032, errors.WS_MESSAGES[60032], request_id)
        return
    if conn.account is not None and conn.account != account.name:
        event_error(conn, 60031, errors.WS_MESSAGES[60031], request_id)
        return
    timestamp = str(arg["timestamp"])
    if not EPOCH_SECONDS.match(timestamp):  # whole or fractional seconds (the docs' JS example sends fractions)
        event_error(conn, 60004, errors.WS_MESSAGES[60004], request_id)
        return
    if abs(wall_ms() / 1000 - float(timestamp)) > 30:
        event_error(conn, 60006, errors.WS_MESSAGES[60006], request_id)
        return
    if str(arg["passphrase"]) != account.passphrase:
        event_error(conn, 60024, errors.WS_MESSAGES[60024], request_id)
        return
    try:
        d.signatures.signature(account.api_secret, f"{timestamp}GET/users/self/verify", str(arg["sign"]))
    except VenueError:
        event_error(conn, 60007, errors.WS_MESSAGES[60007], request_id)
        return
    conn.account = account.name
    conn.state["uid"] = str(account.uid)
    body: Json = {"event": "login", "code": "0", "msg": "", "connId": conn.state["conn_id"]}
    send(conn, {"id": request_id, **body} if request_id is not None else body)


def topic(arg: Json) -> str:
    return json.dumps(arg, sort_keys=True, separators=(",", ":"))


def check(d: OkxDialect, conn: WsConnection, arg: Json) -> tuple[int, str] | None:
    """None when this connection may subscribe to ``arg``, else OKX's (code, message)."""
    service, channel = conn.state["service"], arg.get("channel")
    if not isinstance(channel, str) or not all(isinstance(v, str) for v in arg.values()):
        return 60012, f"Invalid request: {json.dumps({'op': 'subscribe', 'args': [arg]})}"
    wrong = errors.ws_wrong_channel(arg)
    if service == "private":
        if channel not in PRIVATE_CHANNELS:
            return wrong
        if conn.account is None:
            return 60011, errors.WS_MESSAGES[60011]
        return None if private_arg_ok(d, channel, arg) else wrong
    if channel in VIP_BOOKS and service == "public":
        return 64003, errors.WS_MESSAGES[64003]
    if service == "business":
        served = channel.startswith("candle") and channel[len("candle"):] in BARS
    else:
        served = channel in PUBLIC_CHANNELS
    if not served or set(arg) != {"channel", "instId"}:
        return wrong
    inst_id = arg["instId"]
    if channel == "index-tickers":
        return None if d.index_source(inst_id) is not None else wrong
    state = d.exchange.symbols.get(inst_id)
    if state is None or (channel in ("funding-rate", "mark-price", "open-interest") and not state.spec.is_derivative):
        return wrong
    return None


def private_arg_ok(d: OkxDialect, channel: str, arg: Json) -> bool:
    keys = set(arg) - {"channel"}
    if channel == "balance_and_position":
        return not keys
    if channel == "account":
        return keys <= {"ccy", "extraParams"} and interval_of(arg) is not None
    if arg.get("instType") not in INST_TYPES[channel] or not keys <= {"instType", "instFamily", "instId", "extraParams"}:
        return False
    if channel == "orders" and "extraParams" in keys:
        return False
    if arg.get("instId") and arg["instId"] not in d.exchange.symbols:
        return False
    return channel != "positions" or interval_of(arg) is not None


def interval_of(arg: Json) -> float | None:
    """The regular push interval a positions/account subscription asks for (0: events only); None if malformed."""
    extra = arg.get("extraParams")
    if extra is None:
        return SNAPSHOT_SECONDS
    try:
        value = json.loads(extra).get("updateInterval")
    except (ValueError, AttributeError):
        return None
    if value is None:
        return SNAPSHOT_SECONDS
    return {"0": 0.0, "2000": 2.0, "3000": 3.0, "4000": 4.0}.get(str(value), SNAPSHOT_SECONDS)


def subscribe(d: OkxDialect, conn: WsConnection, arg: Json, request_id: str | None) -> None:
    key = topic(arg)
    refusal = d.hub.subscribe(conn, [key], lambda _conn, _topic: None if (c := check(d, conn, arg)) is None
                              else json.dumps(c))
    if refusal is not None:
        code, msg = json.loads(refusal)
        event_error(conn, code, msg, request_id)
        return
    conn.state["args"][key] = arg
    ack: Json = {"event": "subscribe", "arg": arg, "connId": conn.state["conn_id"]}
    send(conn, {"id": request_id, **ack} if request_id is not None else ack)
    initial(d, conn, key, arg)


def unsubscribe(d: OkxDialect, conn: WsConnection, arg: Json, request_id: str | None) -> None:
    key = topic(arg)
    d.hub.unsubscribe(conn, [key])
    conn.state["args"].pop(key, None)
    ack: Json = {"event": "unsubscribe", "arg": arg, "connId": conn.state["conn_id"]}
    send(conn, {"id": request_id, **ack} if request_id is not None else ack)


def push_arg(conn: WsConnection, arg: Json) -> Json:
    """The ``arg`` of a push: as subscribed, private channels adding the uid."""
    return {**arg, "uid": conn.state["uid"]} if conn.kind == "private" else dict(arg)


def initial(d: OkxDialect, conn: WsConnection, key: str, arg: Json) -> None:
    """What a new subscription gets at once (trades and orders wait for events)."""
    channel = arg["channel"]
    if conn.kind == "private":
        if channel == "positions":
            positions_snapshot(d, conn, key, arg)
        elif channel == "account":
            account_push(d, conn, key, arg, None, "snapshot")
        elif channel == "balance_and_position":
            balance_and_position(d, conn, key, arg, "snapshot", None)
        conn.state["snapshots"][key] = trio.current_time()
        return
    if channel == "index-tickers":
        send(conn, {"arg": arg, "data": [index_ticker(d, arg["instId"])]})
        return
    state = d.exchange.symbols[arg["instId"]]
    if channel in BOOK_DEPTH:
        book_push(d, conn, key, arg, state, None)
    elif channel == "tickers":
        send(conn, {"arg": arg, "data": [render.ticker(state)]})
    elif channel == "mark-price":
        send(conn, {"arg": arg, "data": [mark_price(d, state)]})
    elif channel == "funding-rate":
        send(conn, {"arg": arg, "data": [d.funding_row(state)]})
        conn.state["snapshots"][key] = trio.current_time()
    elif channel == "open-interest":
        send(conn, {"arg": arg, "data": [d.open_interest_row(state)]})
        conn.state["snapshots"][key] = trio.current_time()
    elif channel.startswith("candle"):
        candle_push(d, conn, key, arg, state)


# ---------------------------------------------------------------------- public pushes
def subscribed(d: OkxDialect, channels: set[str] | Callable[[str], bool], inst_id: str) -> list[
        tuple[WsConnection, str, Json]]:
    """(connection, topic, arg) of every public subscription to one of ``channels`` for ``inst_id``."""
    wanted = channels if callable(channels) else channels.__contains__
    found = []
    for conn in list(d.hub.connections):
        if conn.kind != "public":
            continue
        for key, arg in list(conn.state.get("args", {}).items()):
            if arg.get("instId") == inst_id and wanted(arg["channel"]):
                found.append((conn, key, arg))
    return found


def checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """OKX's retired book checksum: CRC32 (signed) of the first 25 bids and asks, interleaved "px:sz"."""
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts += bids[i][:2]
        if i < len(asks):
            parts += asks[i][:2]
    value = zlib.crc32(":".join(parts).encode())
    return value - (1 << 32) if value >= 1 << 31 else value


def book_push(d: OkxDialect, conn: WsConnection, key: str, arg: Json, state: SymbolState,
              change: tuple[Levels, Levels] | None) -> None:
    """A book message: the snapshot (``change`` None) or the changed levels (books), or the top (books5,
    bbo-tbt, which are always snapshots)."""
    channel, spec = arg["channel"], state.spec
    seq = d.book_seq[spec.symbol]
    bids, asks = render.book_side(state, BOOK_DEPTH[channel])
    data: Json = {"asks": asks, "bids": bids, "ts": str(wall_ms()), "seqId": seq}
    if channel != "books":
        if channel == "books5":
            data["instId"] = spec.symbol
        send(conn, {"arg": arg, "data": [data]})
        return
    previous = conn.state["sent"].get(key, -1)
    if change is not None:
        data["bids"], data["asks"] = render.levels(spec, change[0]), render.levels(spec, change[1])
    data["checksum"] = checksum(*render.book_side(state, 25)) if d.send_checksums else 0
    data["prevSeqId"] = -1 if change is None else previous
    conn.state["sent"][key] = seq
    send(conn, {"arg": arg, "action": "snapshot" if change is None else "update", "data": [data]})


def book_changed(d: OkxDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    """Every book change advances the instrument's seqId by one and goes to its subscribers."""
    symbol = state.spec.symbol
    d.book_seq[symbol] += 1
    for conn, key, arg in subscribed(d, set(BOOK_DEPTH), symbol):
        book_push(d, conn, key, arg, state, (bids, asks))
    for conn, _key, arg in subscribed(d, {"tickers"}, symbol):
        send(conn, {"arg": arg, "data": [render.ticker(state)]})


def on_trade(d: OkxDialect, trade: PublicTrade) -> None:
    state = d.exchange.symbols[trade.symbol]
    row = {**render.public_trade(state.spec, trade), "count": "1", "seqId": d.book_seq[trade.symbol]}
    for conn, _key, arg in subscribed(d, {"trades"}, trade.symbol):
        send(conn, {"arg": arg, "data": [row]})


def on_tick(d: OkxDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    symbol = state.spec.symbol
    d.book_seq[symbol] += 1
    for conn, key, arg in subscribed(d, set(BOOK_DEPTH), symbol):
        book_push(d, conn, key, arg, state, (bids, asks))
    now = trio.current_time()
    for conn, key, arg in subscribed(d, lambda channel: True, symbol):
        channel = arg["channel"]
        if channel == "tickers":
            send(conn, {"arg": arg, "data": [render.ticker(state)]})
        elif channel == "mark-price":
            send(conn, {"arg": arg, "data": [mark_price(d, state)]})
        elif channel.startswith("candle"):
            candle_push(d, conn, key, arg, state)
        elif channel in ("funding-rate", "open-interest"):
            every = FUNDING_PUSH_SECONDS if channel == "funding-rate" else OPEN_INTEREST_PUSH_SECONDS
            if now - conn.state["snapshots"].get(key, now) >= every:
                row = d.funding_row(state) if channel == "funding-rate" else d.open_interest_row(state)
                send(conn, {"arg": arg, "data": [row]})
                conn.state["snapshots"][key] = now
    index = d.index_name(state)
    if index:
        for conn, _key, arg in subscribed(d, {"index-tickers"}, index):
            send(conn, {"arg": arg, "data": [index_ticker(d, index)]})
    d.archive_candles(state)
    if symbol == next(iter(d.exchange.symbols)):  # once per tick, after the first instrument moved
        d.every_tick(now)


def mark_price(d: OkxDialect, state: SymbolState) -> Json:
    return {"instType": render.inst_type(state.spec), "instId": state.spec.symbol,
            "markPx": render.num(d.exchange.mark_price(state.spec.symbol)), "ts": str(wall_ms())}


def index_ticker(d: OkxDialect, index: str) -> Json:
    state = d.index_source(index)
    assert state is not None
    price = d.index_price(state)
    day = state.candles[-1440:]
    ratio = price / state.mid
    return {"instId": index, "idxPx": render.num(price), "high24h": render.num(state.high_24h * ratio),
            "low24h": render.num(state.low_24h * ratio), "open24h": render.num(state.open_24h * ratio),
            "sodUtc0": render.num(day[0].open * ratio), "sodUtc8": render.num(day[0].open * ratio),
            "ts": str(wall_ms())}


def candle_push(d: OkxDialect, conn: WsConnection, key: str, arg: Json, state: SymbolState) -> None:
    """The current candle on every tick; when a new one opens, the previous one once more, confirmed."""
    bar_name = arg["channel"][len("candle"):]
    interval, shift = BARS[bar_name]
    bars = bars_of(state.candles[-interval.span_minutes * 2:], interval, shift)
    sent = conn.state["candles"].get(key)
    if sent is not None and sent != bars[-1].open_ms and len(bars) > 1:
        send(conn, {"arg": arg, "data": [render.candle(state.spec, bars[-2], confirmed=True)]})
    conn.state["candles"][key] = bars[-1].open_ms
    send(conn, {"arg": arg, "data": [render.candle(state.spec, bars[-1], confirmed=False)]})


def funding_settled(d: OkxDialect, state: SymbolState) -> None:
    for conn, key, arg in subscribed(d, {"funding-rate"}, state.spec.symbol):
        send(conn, {"arg": arg, "data": [d.funding_row(state)]})
        conn.state["snapshots"][key] = trio.current_time()


# ---------------------------------------------------------------------- private pushes
def private_subs(d: OkxDialect, account: str, channel: str) -> list[tuple[WsConnection, str, Json]]:
    return [(conn, key, arg) for conn in d.hub.private(account)
            for key, arg in list(conn.state.get("args", {}).items()) if arg["channel"] == channel]


def matches(d: OkxDialect, arg: Json, symbol: str) -> bool:
    """Whether an orders/positions subscription covers ``symbol`` (instType, instFamily, instId)."""
    spec = d.exchange.symbols[symbol].spec
    inst_type = arg.get("instType", "ANY")
    if inst_type != "ANY" and inst_type != render.inst_type(spec):
        return False
    if arg.get("instId"):
        return bool(arg["instId"] == symbol)
    return not arg.get("instFamily") or arg["instFamily"] == render.family(spec)


def on_order(d: OkxDialect, order: EOrder, fill: EFill | None, execution: str) -> None:
    rendered: Json | None = None
    for conn, _key, arg in private_subs(d, order.account, "orders"):
        if matches(d, arg, order.symbol):
            rendered = rendered or render.order(d, order, fill, stream=True)
            send(conn, {"arg": push_arg(conn, arg), "data": [rendered]})
    if fill is not None:
        for conn, key, arg in private_subs(d, order.account, "balance_and_position"):
            balance_and_position(d, conn, key, arg, "filled", fill)


def positions_snapshot(d: OkxDialect, conn: WsConnection, key: str, arg: Json) -> None:
    assert conn.account is not None
    rows = [render.position(d, conn.account, p) for p in d.exchange.positions_of(conn.account)
            if p.size and matches(d, arg, p.symbol)]
    send(conn, {"arg": push_arg(conn, arg), "eventType": "snapshot", "curPage": 1, "lastPage": True, "data": rows})


def on_position(d: OkxDialect, position: EPosition) -> None:
    d.note_position(position)
    for conn, _key, arg in private_subs(d, position.account, "positions"):
        if matches(d, arg, position.symbol):
            send(conn, {"arg": push_arg(conn, arg), "eventType": "event_update",
                        "data": [render.position(d, position.account, position)]})


def account_push(d: OkxDialect, conn: WsConnection, key: str, arg: Json, coins: list[str] | None,
                 event: str) -> None:
    assert conn.account is not None
    wanted = [arg["ccy"]] if arg.get("ccy") else coins
    if wanted is not None and coins is not None:
        wanted = [c for c in wanted if c in coins]
        if not wanted:
            return
    body: Json = {"arg": push_arg(conn, arg), "eventType": event}
    if event == "snapshot":
        body.update(curPage=1, lastPage=True)
    send(conn, {**body, "data": [render.balance(d, conn.account, wanted)]})


def on_balances(d: OkxDialect, account: str, snapshot: dict[str, tuple[Decimal, Decimal]]) -> None:
    coins = [coin for coin in snapshot if coin != "USD"]
    for conn, key, arg in private_subs(d, account, "account"):
        account_push(d, conn, key, arg, coins, "event_update")


def balance_and_position(d: OkxDialect, conn: WsConnection, key: str, arg: Json, event: str,
                         fill: EFill | None) -> None:
    """The fast channel: balances (cashBal) and positions (no mark or PnL) that changed, or all of them."""
    assert conn.account is not None
    ex, account = d.exchange, conn.account
    if fill is None:
        coins = sorted(c for c, (free, locked) in ((c, ex.balance(account, c)) for c in ex.balances[account])
                       if free + locked)
        positions = [p for p in ex.positions_of(account) if p.size]
    else:
        spec = ex.symbols[fill.symbol].spec
        coins = sorted({spec.settle} if spec.is_derivative else {spec.base, spec.quote})
        positions = [ex.position(account, fill.symbol)] if spec.is_derivative else []
    now = str(wall_ms())
    bal = [{"ccy": c, "cashBal": render.num(sum(ex.balance(account, c), Decimal(0))), "uTime": now} for c in coins]
    pos = []
    for p in positions:
        spec = ex.symbols[p.symbol].spec
        pos.append({"posId": d.pos_id(account, p.symbol), "tradeId": d.last_trade_id(account, p.symbol),
                    "instId": p.symbol, "instType": "SWAP", "mgnMode": d.margin_mode(account, p.symbol),
                    "posSide": "net", "pos": render.size(spec, p.size), "ccy": spec.settle, "posCcy": "",
                    "avgPx": render.num(p.entry_price) if p.size else "", "nonSettleAvgPx": "", "settledPnl": "",
                    "uTime": now})
    trades = [{"instId": fill.symbol, "tradeId": render.trade_id(fill.trade_id)}] if fill else []
    send(conn, {"arg": push_arg(conn, arg), "data": [{"pTime": now, "eventType": event, "balData": bal,
                                                      "posData": pos, "trades": trades}]})


def regular_snapshots(d: OkxDialect, now: float) -> None:
    """The positions and account channels' regular snapshots, at each subscription's interval."""
    for conn in list(d.hub.connections):
        if conn.kind != "private" or conn.account is None:
            continue
        for key, arg in list(conn.state["args"].items()):
            if arg["channel"] not in ("positions", "account"):
                continue
            every = interval_of(arg)
            last = conn.state["snapshots"].get(key, now)
            if every and now - last >= every:
                conn.state["snapshots"][key] = now
                if arg["channel"] == "positions":
                    positions_snapshot(d, conn, key, arg)
                else:
                    account_push(d, conn, key, arg, None, "snapshot")
