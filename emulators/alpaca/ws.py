"""Alpaca's websockets: the trading stream ``/stream`` and the market-data streams ``/v2/iex`` and ``/v2/sip``.

Trading stream (private): ``{"action": "authenticate", "data": {"key_id", "secret_key"}}`` answers
``{"stream": "authorization", "data": {"status": "authorized"|"unauthorized", "action": "authenticate"}}``;
``{"action": "listen", "data": {"streams": [...]}}`` sets the whole set of streams and answers
``{"stream": "listening", "data": {"streams": [...]}}`` naming only those served (``trade_updates``: a stream
asked for and not served is left out of the list, as Alpaca does); listening before authenticating answers
``unauthorized`` with ``"action": "listen"``. Events ``{"stream": "trade_updates", "data": {"event", "order",
"timestamp", ...}}``: accepted, new, partial_fill and fill (with ``execution_id``, this execution's
``price``/``qty`` and ``position_qty``), canceled, expired, replaced, rejected. Paper's frames are binary
(JSON in binary frames); MessagePack when the handshake says ``Content-Type: application/msgpack``.
Anything else a client sends is answered ``{"stream": "error", "data": {"error_message": ...}}`` (our
wording: Alpaca documents no answer for it).

Market-data streams (public): ``[{"T":"success","msg":"connected"}]`` on connect, then ``auth`` (or the key
headers on the handshake) within 10 s, ``subscribe``/``unsubscribe`` to ``trades``, ``quotes``, ``bars``,
``updatedBars`` and ``dailyBars`` (``corrections`` and ``cancelErrors`` come with trades; none is ever sent:
the emulator corrects nothing), symbols or ``"*"``; the answer is the whole subscription. Error frames
``[{"T":"error","code","msg"}]`` with Alpaca's codes: 400 invalid syntax (also a symbol the emulator does not
list: Alpaca would accept any well-formed symbol), 401 not authenticated, 402 auth failed, 403 already
authenticated, 404 auth timeout, 405 symbol limit exceeded (Basic plan: 30 trades+quotes symbols), 406
connection limit exceeded (one authenticated connection per account and feed), 409 insufficient
subscription (SIP on the Basic plan), 410 invalid subscribe action for this feed (``statuses``, ``lulds``,
``imbalances`` and other channels not served). Frames are JSON text, or MessagePack binary frames (times as
MessagePack timestamps) when the handshake says ``Content-Type: application/msgpack``. Data: ``t`` trades,
``q`` quotes (every book change), ``b`` minute bars when a minute ends, ``d`` the day's bar with each minute
bar; ``u`` updated bars never (there are no late trades).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import trio

from emulators.alpaca import marketdata, render
from emulators.alpaca.errors import STREAM_ERRORS
from emulators.engine import EFill, PublicTrade, SymbolState
from emulators.engine.candles import Interval, aggregate
from emulators.engine.faults import StreamKind
from emulators.engine.server import WsConnection

if TYPE_CHECKING:
    from emulators.alpaca.dialect import AlpacaDialect
    from emulators.alpaca.orders import AOrder

DATA_PATHS = {"/v2/iex": "iex", "/v2/sip": "sip"}
CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds", "corrections",
            "cancelErrors")
SERVED = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "corrections", "cancelErrors")
NOT_SERVED = ("statuses", "lulds", "imbalances", "orderbooks", "news")  # Alpaca's other channels
WITH_TRADES = ("corrections", "cancelErrors")


class Stamp:
    """A market-data time: an RFC 3339 string in JSON, a MessagePack timestamp in MessagePack."""

    def __init__(self, ms: int) -> None:
        self.ms = ms


def stream_kind(path: str) -> StreamKind | None:
    if path == "/stream":
        return "private"
    return "public" if path in DATA_PATHS else None


def msgpack_wanted(conn: WsConnection) -> bool:
    return "msgpack" in conn.headers.get("content-type", "")


def on_open(d: AlpacaDialect, conn: WsConnection) -> None:
    conn.state.update(opened=trio.current_time(), authed=False, msgpack=msgpack_wanted(conn),
                      feed=DATA_PATHS.get(conn.path, ""))
    d.hub.register(conn)
    if conn.kind == "public":
        send_data(conn, [{"T": "success", "msg": "connected"}])
        key, secret = conn.headers.get("apca-api-key-id"), conn.headers.get("apca-api-secret-key")
        if key is not None or secret is not None:
            data_auth(d, conn, key, secret)


def on_close(d: AlpacaDialect, conn: WsConnection) -> None:
    d.hub.unregister(conn)


# ---------------------------------------------------------------------- decoding
def decode(conn: WsConnection, raw: str | bytes) -> Any:
    """The client's message (JSON, or MessagePack in a binary frame), or None when it is neither."""
    try:
        if isinstance(raw, bytes) and conn.state["msgpack"]:
            return msgspec.msgpack.decode(raw)
        return json.loads(raw)
    except (ValueError, TypeError, msgspec.DecodeError):
        return None


def on_message(d: AlpacaDialect, conn: WsConnection, raw: str | bytes) -> None:
    message = decode(conn, raw)
    if conn.kind == "private":
        trading_message(d, conn, message)
    else:
        data_message(d, conn, message)


# ---------------------------------------------------------------------- the trading stream
def send_trading(conn: WsConnection, message: dict[str, Any]) -> None:
    """Paper's trading stream speaks in binary frames: JSON bytes (MessagePack if asked)."""
    conn.send(msgspec.msgpack.encode(message) if conn.state["msgpack"] else json.dumps(message).encode())


def trading_message(d: AlpacaDialect, conn: WsConnection, message: Any) -> None:
    if not isinstance(message, dict) or not isinstance(message.get("action"), str):
        send_trading(conn, {"stream": "error", "data": {"error_message": "invalid message"}})
        return
    action, data = message["action"], message.get("data")
    if action == "authenticate":
        key = data.get("key_id") if isinstance(data, dict) else None
        secret = data.get("secret_key") if isinstance(data, dict) else None
        found = d.credentials(key, secret)
        if found is not None:
            conn.account = found
        status = "authorized" if found is not None else "unauthorized"
        send_trading(conn, {"stream": "authorization", "data": {"status": status, "action": "authenticate"}})
    elif action == "listen":
        if conn.account is None:
            send_trading(conn, {"stream": "authorization", "data": {"status": "unauthorized", "action": "listen"}})
            return
        streams = data.get("streams") if isinstance(data, dict) else None
        if not isinstance(streams, list) or not all(isinstance(s, str) for s in streams):
            send_trading(conn, {"stream": "error", "data": {"error_message": "invalid listen message"}})
            return
        conn.topics.clear()
        d.hub.subscribe(conn, [s for s in streams if s == "trade_updates"], lambda c, t: None)
        send_trading(conn, {"stream": "listening", "data": {"streams": sorted(conn.topics)}})
    else:
        send_trading(conn, {"stream": "error", "data": {"error_message": f"unknown action: {action}"}})


def push_trade_update(d: AlpacaDialect, order: AOrder, event: str, fill: EFill | None, reason: str | None) -> None:
    listeners = [c for c in d.hub.private(order.account) if "trade_updates" in c.topics]
    if not listeners:
        return
    at = fill.time_ms if fill is not None else d.market.now_ms()
    message = render.trade_update(d, order, event, at, fill, reason)
    for conn in listeners:
        send_trading(conn, message)


# ---------------------------------------------------------------------- the data streams
def _encode_json(value: Any) -> Any:
    if isinstance(value, Stamp):
        return render.nanos(value.ms)
    raise TypeError(type(value).__name__)


def _encode_msgpack(value: Any) -> Any:
    if isinstance(value, Stamp):  # a timezone-aware datetime is a MessagePack timestamp (extension -1)
        return datetime.fromtimestamp(value.ms / 1000, UTC)
    raise TypeError(type(value).__name__)


def send_data(conn: WsConnection, messages: list[dict[str, Any]]) -> None:
    if conn.state["msgpack"]:
        conn.send(msgspec.msgpack.encode(messages, enc_hook=_encode_msgpack))
    else:
        conn.send(json.dumps(messages, default=_encode_json))


def data_error(conn: WsConnection, code: int) -> None:
    send_data(conn, [{"T": "error", "code": code, "msg": STREAM_ERRORS[code]}])


def data_auth(d: AlpacaDialect, conn: WsConnection, key: Any, secret: Any) -> None:
    if conn.state["authed"]:
        data_error(conn, 403)
        return
    name = d.credentials(key, secret)
    if name is None:
        data_error(conn, 402)
        return
    if conn.state["feed"] == "sip" and d.account_state(name).plan != "algo_trader_plus":
        data_error(conn, 409)
        return
    if any(c is not conn and c.kind == "public" and c.account == name and c.path == conn.path and c.state["authed"]
           for c in d.hub.connections):
        data_error(conn, 406)
        conn.state["closing"] = True  # closed by the next sweep, once the error is out
        return
    conn.account, conn.state["authed"] = name, True
    send_data(conn, [{"T": "success", "msg": "authenticated"}])


def data_message(d: AlpacaDialect, conn: WsConnection, message: Any) -> None:
    if not isinstance(message, dict) or not isinstance(message.get("action"), str):
        data_error(conn, 400)
        return
    action = message["action"]
    if action == "auth":
        data_auth(d, conn, message.get("key"), message.get("secret"))
        return
    if action not in ("subscribe", "unsubscribe"):
        data_error(conn, 400)
        return
    if not conn.state["authed"]:
        data_error(conn, 401)
        return
    wanted: dict[str, list[str]] = {}
    for name, symbols in message.items():
        if name == "action":
            continue
        known = name in SERVED or name in NOT_SERVED
        if not known or not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            data_error(conn, 400)
            return
        if name in NOT_SERVED:
            if symbols:
                data_error(conn, 410)
                return
            continue
        if any(s != "*" and s not in d.market.symbols for s in symbols):
            data_error(conn, 400)
            return
        wanted[name] = symbols
    for name in WITH_TRADES:  # corrections and cancel errors follow the trades subscription
        wanted[name] = [*wanted.get(name, []), *wanted.get("trades", [])]
    topics = [f"{channel}|{symbol}" for channel, symbols in wanted.items() for symbol in symbols]
    if action == "unsubscribe":
        d.hub.unsubscribe(conn, topics)
    else:
        counted = [t for t in conn.topics | set(topics) if t.split("|", 1)[0] in ("trades", "quotes")]
        if d.account_state(conn.account or "").plan == "basic" and len(counted) > d.symbol_limit:
            data_error(conn, 405)
            return
        d.hub.subscribe(conn, topics, lambda c, t: None)
    send_data(conn, [subscription(conn)])


def subscription(conn: WsConnection) -> dict[str, Any]:
    current: dict[str, Any] = {"T": "subscription"}
    for channel in CHANNELS:
        current[channel] = sorted(t.split("|", 1)[1] for t in conn.topics if t.split("|", 1)[0] == channel)
    return current


def subscribers(d: AlpacaDialect, channel: str, symbol: str) -> list[WsConnection]:
    wanted = {f"{channel}|{symbol}", f"{channel}|*"}
    return [c for c in list(d.hub.connections) if c.kind == "public" and c.state.get("authed") and wanted & c.topics]


def publish(d: AlpacaDialect, channel: str, symbol: str, build: Callable[[str], dict[str, Any]]) -> None:
    """Send ``build(feed)`` to every subscriber of ``channel`` for ``symbol``, in its feed's words."""
    for conn in subscribers(d, channel, symbol):
        send_data(conn, [build(conn.state["feed"])])


def on_trade(d: AlpacaDialect, trade: PublicTrade) -> None:
    extended = marketdata.extended(d, trade.time_ms)

    def build(feed: str) -> dict[str, Any]:
        return {"T": "t", "S": trade.symbol, **render.data_trade(trade, feed, extended), "t": Stamp(trade.time_ms)}

    publish(d, "trades", trade.symbol, build)
    state = d.market.symbols[trade.symbol]
    opened = state.candles[-1].open_ms
    previous = d.minutes.get(trade.symbol)
    d.minutes[trade.symbol] = opened
    if previous is None or previous == opened or len(state.candles) < 2:
        return
    if subscribers(d, "bars", trade.symbol):
        closed_bar = aggregate(state.candles[-2:-1], Interval(1))[0]
        publish(d, "bars", trade.symbol, lambda feed: {"T": "b", "S": trade.symbol, **render.data_bar(closed_bar),
                                                       "t": Stamp(closed_bar.open_ms)})
    if subscribers(d, "dailyBars", trade.symbol):  # the day so far (aggregating costs: only when asked)
        today = marketdata.bars_of(state.candles[-1440:], Interval(1440), True)[-1]
        publish(d, "dailyBars", trade.symbol, lambda feed: {"T": "d", "S": trade.symbol, **render.data_bar(today),
                                                            "t": Stamp(today.open_ms)})


def on_quote(d: AlpacaDialect, state: SymbolState) -> None:
    quote = d.record_quote(state)

    def build(feed: str) -> dict[str, Any]:
        return {"T": "q", "S": state.spec.symbol, **render.data_quote(quote, feed), "t": Stamp(quote.time_ms)}

    publish(d, "quotes", state.spec.symbol, build)


def sweep(d: AlpacaDialect) -> None:
    """Data connections that did not authenticate in time get 404 auth timeout; connections told to go (406,
    404) are closed on the next sweep, once their error frame is out."""
    now = trio.current_time()
    for conn in list(d.hub.connections):
        if conn.state.get("closing"):
            conn.drop()
        elif conn.kind == "public" and not conn.state.get("authed") and now - conn.state["opened"] > d.auth_timeout:
            data_error(conn, 404)
            conn.state["closing"] = True
