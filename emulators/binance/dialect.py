"""The Binance spot dialect's front door: each HTTP request is routed (`routes.ROUTES`), authenticated,
counted against Binance's limits and answered; websocket events go to `ws`.

Limits as Binance publishes them: request weight per minute (``X-MBX-USED-WEIGHT-1M``; 429 with
Retry-After over 6,000, and a 418 ban for clients that keep going after two 429s) and new orders per 10 s
and per day (``X-MBX-ORDER-COUNT-10S/1D``), counted in fixed windows per API key (requests without a key
share one budget). ``enforce_limits=False`` reports the counts but never refuses.
"""

from __future__ import annotations

import json

import attrs
import trio

from emulators.binance import errors, render, ws
from emulators.binance.routes import ORDERS_10S, ROUTES, WEIGHT_LIMIT, Budget, Call, Route
from emulators.binance.ws import ListenKeys
from emulators.engine import wall_ms
from emulators.engine.accounts import HEX_64, ApiAccount
from emulators.engine.dialect import DialectBase
from emulators.engine.errors import Headers, VenueError
from emulators.engine.faults import HttpFault, StreamKind
from emulators.engine.ratewindows import header_lines, retry_after
from emulators.engine.routing import Auth, Params
from emulators.engine.server import HttpRequest, HttpResponse, WsConnection
from emulators.engine.signing import SignatureCheck, SignedCall, hmac_sha256_hex


@attrs.define(eq=False)
class BinanceDialect(DialectBase[Budget]):
    listen_keys: ListenKeys = attrs.field(factory=ListenKeys)
    ip_budget: Budget = attrs.field(factory=Budget)  # requests without an API key share one budget

    key_shape = HEX_64
    signatures = SignatureCheck(hmac_sha256_hex, errors.AuthWords(), max_recv_window=60_000)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.attach(on_trade=ws.on_trade, on_tick=ws.on_tick, on_order=ws.on_order, on_balances=ws.on_balances)

    def new_account_state(self) -> Budget:
        return Budget()

    # ================================================================== HTTP
    def http_fault_response(self, fault: HttpFault) -> HttpResponse:
        error = errors.injected(fault.status, fault.retry_after, wall_ms())
        return HttpResponse(fault.status, render.error_body(error), retry_after(fault.retry_after))

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        counted: Headers = []
        try:
            params = request.params
            route = ROUTES.get((request.method, request.path))
            if route is None:
                raise errors.unknown_endpoint(request.method, request.path)
            weight = route.cost(params)
            account = self._authenticate(request, route, params)
            counted = self._count(account, weight, is_order=route.counts_order)
            body = route.handler(self, Call(params, account))
            return HttpResponse(200, json.dumps(body).encode(), counted)
        except VenueError as error:
            return HttpResponse(error.status, render.error_body(error), [*counted, *error.headers])

    def _authenticate(self, request: HttpRequest, route: Route, params: Params) -> ApiAccount[Budget] | None:
        if route.auth is Auth.NONE:
            return None
        api_key = request.headers.get("x-mbx-apikey", "")
        if not api_key or len(api_key) > 128 or not api_key.isalnum():
            raise errors.api_key_format()
        if route.auth is Auth.API_KEY:
            return self.signatures.account(self.accounts, api_key)
        signed = _unsigned(request.query_string) + _unsigned(request.body.decode())
        return self.signatures.verify(self.accounts, SignedCall(api_key, params.get("signature"), signed,
                                                           params.get("timestamp"), params.get("recvWindow", "5000")))

    def _count(self, account: ApiAccount[Budget] | None, weight: int, *, is_order: bool) -> Headers:
        now = trio.current_time()
        budget = account.state if account is not None else self.ip_budget
        if budget.banned_until > now:
            raise errors.banned(wall_ms() + int(1000 * (budget.banned_until - now)),
                                retry_after(int(budget.banned_until - now) + 1))
        used = budget.weight.count(now, weight)
        headers = header_lines(("x-mbx-used-weight", used), ("x-mbx-used-weight-1m", used))
        if self.enforce_limits and used > WEIGHT_LIMIT:
            budget.violations += 1
            if budget.violations > 2:
                budget.banned_until = now + 120
            raise errors.weight_exceeded(WEIGHT_LIMIT, [*headers, *retry_after(int(budget.weight.resets_in(now)) + 1)])
        if is_order and account is not None:
            ten, day = budget.orders_10s.count(now, 1), budget.orders_1d.count(now, 1)
            headers += header_lines(("x-mbx-order-count-10s", ten), ("x-mbx-order-count-1d", day))
            if self.enforce_limits and ten > ORDERS_10S:
                raise errors.orders_exceeded(ORDERS_10S, [*headers, *retry_after(10)])
        return headers

    # ================================================================== websockets
    def stream_kind(self, path: str) -> StreamKind | None:
        return ws.stream_kind(self, path)

    async def on_ws_open(self, conn: WsConnection) -> None:
        ws.on_open(self, conn)

    async def on_ws_message(self, conn: WsConnection, text: str) -> None:
        ws.on_message(self, conn, text)


def _unsigned(part: str) -> str:
    """The signed payload is everything before ``&signature=`` (Binance requires it last)."""
    if not part:
        return ""
    index = part.find("signature=")
    if index == -1:
        return part
    return part[: max(index - 1, 0)] if index > 0 else ""
