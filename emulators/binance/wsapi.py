"""Binance's WebSocket API (``/ws-api/v3``) on the same engine and handlers as the REST routes.

Requests are JSON text frames ``{"id", "method", "params"}``; answers ``{"id", "status", "result",
"rateLimits"}`` or ``{"id", "status", "error": {"code", "msg"}, "rateLimits"}`` (web-socket-api docs, 2026).
Served: ``ping``, ``time``, ``exchangeInfo``, the market reads (``depth``, ``trades.recent``,
``trades.historical``, ``trades.aggregate``, ``klines``, ``uiKlines``, ``avgPrice``, ``ticker.24hr``,
``ticker.price``, ``ticker.book``), the trading and account methods (``order.place``, ``order.test``,
``order.status``, ``order.cancel``, ``openOrders.status``, ``openOrders.cancelAll``, ``allOrders``,
``myTrades``, ``account.status``, ``account.commission``, ``account.rateLimits.orders``), the session methods
(``session.logon``, ``session.status``, ``session.logout``, ``session.subscriptions``) and the user data
stream (``userDataStream.subscribe``, ``userDataStream.subscribe.signature``, ``userDataStream.unsubscribe``).
Anything else (the retired ``userDataStream.start/ping/stop`` included) is -1020.

Signing: HMAC-SHA256 of every parameter but ``signature``, sorted by name, as ``name=value`` joined by ``&``
(the documented WebSocket API payload). ``session.logon`` is for Ed25519 keys only; the emulator's keys are
HMAC keys (the demo key included), so a logon is answered as the venue answers an HMAC key's logon,
-1022, and HMAC keys sign each request instead -- ``userDataStream.subscribe.signature`` for user data.

User data events arrive wrapped as ``{"subscriptionId": n, "event": {...}}``: ``executionReport``,
``outboundAccountPosition``, ``balanceUpdate`` (`BinanceDialect.deposit`), and ``eventStreamTerminated``
when a subscription ends. Request weight is counted per IP, shared with REST; connecting costs 2; a 429/418
answer carries ``error.data.retryAfter`` and a ban also closes the connection, as documented.
Words the docs do not give (a second subscription for the same account on one connection, the subscription
limits) are the emulator's own, code -1000.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import attrs
import trio

from emulators.binance import errors, render
from emulators.binance import params as bp
from emulators.binance import routes as r
from emulators.binance.ws import json_depth_column
from emulators.engine import wall_ms
from emulators.engine.accounts import ApiAccount
from emulators.engine.errors import VenueError
from emulators.engine.routing import Auth
from emulators.engine.server import WsConnection, handled_ms
from emulators.engine.signing import SignedCall

if TYPE_CHECKING:
    from emulators.binance.dialect import BinanceDialect, Usage

PATH = "/ws-api/v3"
MAX_ACTIVE = 1000
MAX_LIFETIME = 65535
API = r.API
# method -> the REST route it runs (same handler, weight, parameters and authentication)
MIRRORED: dict[str, tuple[str, str]] = {
    "ping": ("GET", f"{API}/ping"), "time": ("GET", f"{API}/time"),
    "exchangeInfo": ("GET", f"{API}/exchangeInfo"), "depth": ("GET", f"{API}/depth"),
    "trades.recent": ("GET", f"{API}/trades"), "trades.historical": ("GET", f"{API}/historicalTrades"),
    "trades.aggregate": ("GET", f"{API}/aggTrades"), "klines": ("GET", f"{API}/klines"),
    "uiKlines": ("GET", f"{API}/uiKlines"), "avgPrice": ("GET", f"{API}/avgPrice"),
    "ticker.24hr": ("GET", f"{API}/ticker/24hr"), "ticker.price": ("GET", f"{API}/ticker/price"),
    "ticker.book": ("GET", f"{API}/ticker/bookTicker"),
    "order.place": ("POST", f"{API}/order"), "order.test": ("POST", f"{API}/order/test"),
    "order.status": ("GET", f"{API}/order"), "order.cancel": ("DELETE", f"{API}/order"),
    "openOrders.status": ("GET", f"{API}/openOrders"), "openOrders.cancelAll": ("DELETE", f"{API}/openOrders"),
    "allOrders": ("GET", f"{API}/allOrders"), "myTrades": ("GET", f"{API}/myTrades"),
    "account.status": ("GET", f"{API}/account"), "account.commission": ("GET", f"{API}/account/commission"),
    "account.rateLimits.orders": ("GET", f"{API}/rateLimit/order"),
}
SESSION_METHODS = ("session.logon", "session.status", "session.logout", "session.subscriptions",
                   "userDataStream.subscribe", "userDataStream.subscribe.signature", "userDataStream.unsubscribe")
METHODS = (*MIRRORED, *SESSION_METHODS)
SIGNING = frozenset({"apiKey", "timestamp", "recvWindow", "signature"})
RECEIVED = "wsapi.received"  # conn.state: (wall ms, trio time) the request being handled arrived
MUTED = "wsapi.muted"  # conn.state: the request being handled gets no answer (an injected fault)


@attrs.define
class Session:
    """One WebSocket API connection: when it connected, its default for ``rateLimits``, its user data
    subscriptions (id -> engine account) and how many it has ever opened."""

    connected_ms: int
    return_rate_limits: bool = True
    subscriptions: dict[int, str] = attrs.field(factory=dict)
    opened: int = 0

    def status(self) -> dict[str, Any]:
        return {"apiKey": None, "authorizedSince": None, "connectedSince": self.connected_ms,
                "returnRateLimits": self.return_rate_limits, "serverTime": wall_ms(),
                "userDataStream": bool(self.subscriptions)}


def session_of(conn: WsConnection) -> Session:
    session: Session = conn.state["session"]
    return session


def on_open(d: BinanceDialect, conn: WsConnection) -> None:
    query = parse_qs(conn.query_string)
    unit = query.get("timeUnit", ["MILLISECOND"])[0].upper()
    session = Session(wall_ms(), query.get("returnRateLimits", ["true"])[0].lower() != "false")
    conn.state["session"] = session
    d.hub.register(conn)
    try:
        if unit != "MILLISECOND":
            raise errors.error(-1194, "Invalid value for time unit; expected either MICROSECOND or MILLISECOND."
                               if unit != "MICROSECOND" else "timeUnit=MICROSECOND is not served by this emulator.")
        d.charge(conn.client, None, 2)  # "connecting to WebSocket API costs 2 weight"
    except VenueError as error:
        reply(conn, None, error=error, usage=None)
        conn.close(1008, "")


def reply(conn: WsConnection, ident: object, *, result: Any = None, error: VenueError | None = None,
          usage: Usage | None, show_limits: bool = True) -> None:
    body: dict[str, Any] = {"id": ident, "status": 200 if error is None else error.status}
    if error is None:
        body["result"] = result
    else:
        body["error"] = {"code": error.code, "msg": error.message}
        if isinstance(error, errors.LimitError):
            body["error"]["data"] = {"serverTime": wall_ms(), "retryAfter": error.retry_at_ms}
    if usage is not None and show_limits:
        body["rateLimits"] = usage.rate_limits()
    if not conn.state.get(MUTED):
        conn.send(json.dumps(body))


async def on_request(d: BinanceDialect, conn: WsConnection, text: str) -> None:
    """A request frame, with the engine's order-entry faults applied by method name as REST's are by path
    (``slow_responses(path="order.place")``: checked and executed late; ``lose_responses``: executed, never
    answered; ``reset_after_executing``: executed, then the connection dropped). Its arrival is stamped, so
    the signed window is checked again when it executes, as on REST."""
    conn.state[RECEIVED] = (wall_ms(), trio.current_time())
    faults = conn.faults
    if not (faults.slow_remaining or faults.lose_remaining or faults.reset_remaining):
        on_message(d, conn, text)
        return
    name = method_name(text)
    await faults.delay(name)
    lose, reset = name is not None and faults.take_lose(name), name is not None and faults.take_reset(name)
    conn.state[MUTED] = lose or reset
    try:
        on_message(d, conn, text)
    finally:
        conn.state[MUTED] = False
    if reset:
        conn.drop()


def method_name(text: str) -> str | None:
    try:
        request = json.loads(text) if json_depth_column(text) is None else None
    except (ValueError, RecursionError):
        return None
    method = request.get("method") if isinstance(request, dict) else None
    return method.removeprefix("v3/") if isinstance(method, str) else None


def on_message(d: BinanceDialect, conn: WsConnection, text: str) -> None:
    column = json_depth_column(text)
    try:
        request = json.loads(text) if column is None else None
    except (ValueError, RecursionError):
        request = None
    if not isinstance(request, dict):
        reply(conn, None, error=errors.invalid_json(), usage=None)
        return
    ident = request.get("id")
    if isinstance(ident, (dict, list, bool, float)):
        reply(conn, None, error=errors.invalid_json(), usage=None)
        return
    params = request.get("params", {})
    if not isinstance(params, dict):
        reply(conn, ident, error=errors.invalid_json("Invalid 'params' in JSON request; expected an object."),
              usage=None)
        return
    method = request.get("method")
    if not isinstance(method, str) or not method:
        reply(conn, ident, error=errors.mandatory("method"), usage=None)
        return
    execute(d, conn, ident, method.removeprefix("v3/"), params)


def on_binary(d: BinanceDialect, conn: WsConnection, data: bytes) -> None:
    """Requests are text frames; a binary one is not a JSON request."""
    reply(conn, None, error=errors.invalid_json(), usage=None)


def wire_value(value: Any) -> str:
    """A JSON parameter as the venue reads and signs it: strings as sent, numbers and booleans printed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def execute(d: BinanceDialect, conn: WsConnection, ident: object, method: str, raw: dict[str, Any]) -> None:
    session = session_of(conn)
    show = raw.pop("returnRateLimits", session.return_rate_limits) is not False
    params = {name: wire_value(value) for name, value in raw.items() if value is not None}
    usage: Usage | None = None
    try:
        if method not in METHODS:
            raise errors.unsupported()
        route = r.ROUTES[MIRRORED[method]] if method in MIRRORED else None
        signed = method in ("session.logon", "userDataStream.subscribe.signature") or (
            route is not None and route.auth is Auth.SIGNED)
        weight = route.cost(params) if route is not None else 2
        usage = d.charge(conn.client, None, weight)
        accepted = (route.reads if route is not None else frozenset({"subscriptionId"})) | (SIGNING if signed else set())
        bp.check_reads(params, frozenset(accepted))
        account = authenticate(d, params, conn.state.get(RECEIVED)) if signed else None
        if route is not None and route.counts_order and account is not None:
            usage = d.charge(conn.client, account, 0, is_order=True)
        if method == "session.logon":
            raise errors.AuthWords().bad_signature("")  # Ed25519 keys only; ours are HMAC (see the module doc)
        result = session_request(d, conn, method, params, account) if route is None else \
            route.handler(d, r.Call({k: v for k, v in params.items() if k not in SIGNING}, account))
    except VenueError as error:
        reply(conn, ident, error=error, usage=usage or d.usage(conn.client, None), show_limits=show)
        if error.status == 418:
            conn.close(1008, "")  # "failing to back off ... will result in an automated IP ban and you will be disconnected"
        return
    reply(conn, ident, result=result, usage=usage, show_limits=show)


def authenticate(d: BinanceDialect, params: dict[str, str],
                 received: tuple[int, float] | None = None) -> ApiAccount[r.Budget]:
    """The caller's account; the window is checked on arrival and again now, as the request executes (Binance
    checks it before forwarding to the Matching Engine), when the arrival was stamped."""
    api_key = params.get("apiKey")
    if not api_key:
        raise errors.mandatory("apiKey")
    if len(api_key) > 128 or not api_key.isalnum():
        raise errors.api_key_format()
    payload = "&".join(f"{name}={params[name]}" for name in sorted(params) if name != "signature")
    call = SignedCall(api_key, params.get("signature"), payload, params.get("timestamp"),
                      params.get("recvWindow", "5000"))
    if received is None:
        return d.signatures.verify(d.accounts, call)
    return d.signatures.verify(d.accounts, call, received_ms=received[0], handled_ms=handled_ms(*received))


def session_request(d: BinanceDialect, conn: WsConnection, method: str, params: dict[str, str],
                    account: ApiAccount[r.Budget] | None) -> Any:
    session = session_of(conn)
    match method:
        case "session.status":
            return session.status()
        case "session.logout":
            return session.status()  # no session key is ever logged on (HMAC keys cannot log on)
        case "session.subscriptions":
            return [{"subscriptionId": sid} for sid in sorted(session.subscriptions)]
        case "userDataStream.subscribe":
            raise errors.AuthWords().unknown_key()  # needs a logged-on (Ed25519) session
        case "userDataStream.subscribe.signature":
            assert account is not None
            return {"subscriptionId": subscribe(session, account.name)}
        case "userDataStream.unsubscribe":
            wanted = bp.whole(params, "subscriptionId")
            ended = sorted(session.subscriptions) if wanted is None else \
                [wanted] if wanted in session.subscriptions else []
            for sid in ended:
                del session.subscriptions[sid]
                conn.send(json.dumps({"subscriptionId": sid, "event": render.event_stream_terminated(wall_ms())}))
            return {}
    raise errors.unsupported()


def subscribe(session: Session, account: str) -> int:
    if account in session.subscriptions.values():
        raise errors.error(-1000, "A User Data Stream subscription for this account is already active on this "
                                  "connection.")
    if len(session.subscriptions) >= MAX_ACTIVE or session.opened >= MAX_LIFETIME:
        raise errors.error(-1000, "Too many User Data Stream subscriptions on this connection.")
    sid = session.opened
    session.opened += 1
    session.subscriptions[sid] = account
    return sid


def push(connections: Callable[[], list[WsConnection]], account: str, event: dict[str, Any]) -> None:
    """Send a user data event to every subscription of ``account``, wrapped with its subscription id."""
    for conn in connections():
        session = conn.state.get("session")
        if not isinstance(session, Session):
            continue
        for sid, owner in session.subscriptions.items():
            if owner == account:
                conn.send(json.dumps({"subscriptionId": sid, "event": event}))
