"""The Bybit V5 dialect's front door: each HTTP request passes the IP limit, is routed (`routes.ROUTES`),
authenticated if signed, counted against its per-UID limit and answered in the envelope; websocket events
go to `ws`.

Limits as Bybit documents them: per UID, per endpoint and category, per rolling second, reported in
``X-Bapi-Limit``, ``X-Bapi-Limit-Status`` and ``X-Bapi-Limit-Reset-Timestamp`` and refused with retCode
10006; per IP, 600 requests in any 5 s, refused by the gateway with HTTP 403. Both are adjustable for tests
(`set_limit`, ``ip_limit``, ``ip_window``, ``enforce_limits``).
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import attrs
import trio

from emulators.bybit import errors, render, ws
from emulators.bybit.routes import DEFAULT_UID_LIMIT, ROUTES, UID_LIMITS, Call, Windows
from emulators.engine import EFill, EOrder, wall_ms
from emulators.engine.accounts import ApiAccount, KeyShape
from emulators.engine.dialect import DialectBase, WsHandlers
from emulators.engine.errors import Headers, VenueError
from emulators.engine.faults import HttpFault
from emulators.engine.ratewindows import RollingWindow, header_lines, retry_after
from emulators.engine.routing import Auth
from emulators.engine.server import HttpRequest, HttpResponse, WsConnection
from emulators.engine.signing import SignatureCheck, SignedCall, hmac_sha256_hex


@attrs.define(eq=False)
class BybitDialect(DialectBase[Windows]):
    limits: dict[tuple[str, str], int] = attrs.field(factory=lambda: dict(UID_LIMITS))
    default_limit: int = DEFAULT_UID_LIMIT
    ip_limit: int = 600
    ip_hits: RollingWindow = attrs.field(factory=lambda: RollingWindow(5.0))
    book_u: dict[str, int] = attrs.field(factory=dict)  # per instrument: Bybit's orderbook update id
    book_seq: dict[str, int] = attrs.field(factory=dict)
    _vids: dict[tuple[str, int], str] = attrs.field(factory=dict)  # (instrument, engine order id) -> orderId
    _conn_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    key_shape = KeyShape(18, 36)  # Bybit's API keys are 18 characters, secrets 36
    signatures = SignatureCheck(hmac_sha256_hex, errors.AuthWords(), time_first=True)
    websockets: ClassVar[WsHandlers] = ws

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for symbol in self.exchange.symbols:
            self.book_u[symbol] = 1
            self.book_seq[symbol] = 1_000_000
        self.attach(on_trade=ws.on_trade, on_tick=ws.on_tick, on_book=ws.book_changed, on_order=ws.on_order,
                    on_position=ws.on_position, on_balances=ws.on_balances)

    def new_account_state(self) -> Windows:
        return {}

    @property
    def ip_window(self) -> float:
        return self.ip_hits.seconds

    @ip_window.setter
    def ip_window(self, seconds: float) -> None:
        self.ip_hits.seconds = seconds

    def set_limit(self, path: str, per_second: int, category: str = "*") -> None:
        """Lower (or raise) a per-UID limit for tests, e.g. ``set_limit("/v5/order/create", 2, "linear")``;
        category "*" sets every category of that path."""
        if category == "*":
            for key in [k for k in self.limits if k[0] == path] or [(path, "*")]:
                self.limits[key] = per_second
            self.limits[(path, "*")] = per_second
        else:
            self.limits[(path, category)] = per_second

    # ================================================================== ids
    def order_id(self, order: EOrder) -> str:
        """Bybit's orderId: a long number for spot, a UUID for contracts; deterministic."""
        key = (order.symbol, order.order_id)
        vid = self._vids.get(key)
        if vid is None:
            index, spec = self.symbol_index(order.symbol), self.exchange.symbols[order.symbol].spec
            if spec.is_derivative:
                vid = str(uuid.UUID(int=((index + 1) << 96) | (self.exchange.seed & 0xFFFF) << 64 | order.order_id))
            else:
                vid = str(1_900_000_000_000_000_000 + index * 10**12 + order.order_id)
            self._vids[key] = vid
        return vid

    def exec_id(self, symbol: str, trade_id: int) -> str:
        index, spec = self.symbol_index(symbol), self.exchange.symbols[symbol].spec
        if spec.is_derivative:
            return str(uuid.UUID(int=((index + 1) << 100) | (self.exchange.seed & 0xFFFF) << 64 | trade_id))
        return str(2_100_000_000_000_000_000 + index * 10**12 + trade_id)

    def engine_order(self, fill: EFill) -> EOrder:
        for order in self.exchange.orders.values():
            if order.symbol == fill.symbol and order.order_id == fill.order_id:
                return order
        raise KeyError(fill.order_id)

    def next_connection(self) -> int:
        return next(self._conn_ids)

    def next_message(self) -> int:
        return next(self._message_ids)

    # ================================================================== HTTP
    def http_fault_response(self, fault: HttpFault) -> HttpResponse:
        headers = retry_after(fault.retry_after)
        if fault.status == 403:  # the IP limit: Bybit's gateway answers 403 "access too frequent"
            return HttpResponse(403, b"access too frequent", headers)
        if fault.status == 404:
            return HttpResponse(404, b"", headers)
        if fault.status == 429:
            reset = wall_ms() + 1000 * (fault.retry_after or 1)
            return HttpResponse(429, render.envelope_error(errors.too_many_visits()),
                                [*headers, *header_lines(("x-bapi-limit-reset-timestamp", reset))])
        return HttpResponse(fault.status, render.envelope_error(errors.error(10016, "Server error.")), headers)

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        if self.ip_hits.hit(trio.current_time()) > self.ip_limit and self.enforce_limits:
            return HttpResponse(403, b"access too frequent")
        endpoint = ROUTES.get((request.method, request.path))
        if endpoint is None:
            return HttpResponse(404, b"")
        route = endpoint.route
        counted: Headers = []
        try:
            params = _params(request)
            account = None
            if route.auth is Auth.SIGNED:
                account = self._authenticate(request)
                counted = self._rate_limit(account, request.path, str(params.get("category", "")))
            endpoint.check(params)
            result = route.handler(self, Call(params, account))
            return HttpResponse(200, render.envelope(result), counted)
        except VenueError as error:
            return HttpResponse(error.status, render.envelope_error(error), [*counted, *error.headers])

    def _authenticate(self, request: HttpRequest) -> ApiAccount[Windows]:
        headers = request.headers
        api_key = headers.get("x-bapi-api-key", "")
        timestamp, recv_window = headers.get("x-bapi-timestamp", ""), headers.get("x-bapi-recv-window", "5000")
        payload = request.query_string if request.method == "GET" else request.body.decode()
        signed = f"{timestamp}{api_key}{recv_window}{payload}"
        # Bybit documents the time rule at its gateway only: checked on arrival (a request delayed afterwards is
        # executed late; brokers/bybit/README.md, "Order entry").
        return self.signatures.verify(self.accounts, SignedCall(api_key, headers.get("x-bapi-sign", ""), signed,
                                                           timestamp, recv_window),
                                      received_ms=request.received_ms or None)

    def _rate_limit(self, account: ApiAccount[Windows], path: str, category: str) -> Headers:
        limit = self.limits.get((path, category), self.limits.get((path, "*"), self.default_limit))
        now = trio.current_time()
        window = account.state.setdefault((path, category), RollingWindow(1.0))
        over = not window.admit(now, limit)
        now_ms = wall_ms()
        reset = now_ms + int(window.resets_in(now) * 1000) + 1 if over and window.hits else now_ms
        headers = header_lines(("x-bapi-limit", limit), ("x-bapi-limit-status", max(limit - len(window.hits), 0)),
                               ("x-bapi-limit-reset-timestamp", reset))
        if over and self.enforce_limits:
            raise errors.too_many_visits(headers)
        return headers

    # ================================================================== websockets
    async def on_ws_binary(self, conn: WsConnection, data: bytes) -> None:
        """A binary frame is read as text (bad UTF-8 as U+FFFD) and answered like one, in Bybit's words."""
        ws.on_message(self, conn, data.decode(errors="replace"))


def _params(request: HttpRequest) -> dict[str, Any]:
    """GET: the query string, no body; POST: a JSON object in UTF-8, no query string. A parameter sent twice is
    refused (never "the last one wins"); anything else that is not one of these is a parameter error."""
    if request.method == "GET":
        if request.body:
            raise errors.params_error("a GET request takes its parameters in the query string, not a body")
        return _unique(parse_qsl(request.query_string, keep_blank_values=True))
    if request.query_string:
        raise errors.params_error("a POST request takes its parameters in the JSON body, not the query string")
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body.decode("utf-8"), object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested beyond what a parser follows
        raise errors.request_error() from None
    if not isinstance(body, _Pairs):
        raise errors.request_error()  # a JSON object is the only body
    return _unique(body)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as the parser read it: its (name, value) pairs in order, duplicates kept."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name in params:
            raise errors.params_error(f"duplicate parameter {name!r}")
        params[name] = value
    return params
