"""The Binance spot dialect's front door: each HTTP request is routed (`routes.ROUTES`), its parameters read
(`params`), authenticated, counted against Binance's limits and answered; websockets go to `ws` (market
streams) or `wsapi` (the WebSocket API on ``/ws-api/v3``, where user data is served since the spot listen
keys were retired on 2026-02-20; their REST paths answer ``410 Gone``).

Limits as Binance publishes them (rest-api "LIMITS"): request weight per minute **per IP** (REST, ``/sapi``
apart, and the WebSocket API share it; ``X-MBX-USED-WEIGHT-1M`` / ``X-SAPI-USED-IP-WEIGHT-1M``; 429 with
Retry-After until the minute resets, and 418 with Retry-After until the ban ends for clients that keep going
after 429s, bans growing from 2 minutes to 3 days) and new orders per 10 s and per day **per account**
(``X-MBX-ORDER-COUNT-10S/1D``; 429 with Retry-After until the 10 s window resets). ``enforce_limits=False``
reports the counts but never refuses.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import attrs
import trio

from emulators.binance import errors, render, ws, wsapi
from emulators.binance import params as bp
from emulators.binance.routes import (
    ORDERS_1D,
    ORDERS_10S,
    ROUTES,
    SAPI_IP_LIMIT,
    WEIGHT_LIMIT,
    Budget,
    Call,
    IpBudget,
    Route,
    listen_key_gone,
)
from emulators.binance.ws import MarketFeeds
from emulators.engine import EOrder, wall_ms
from emulators.engine.accounts import HEX_64, ApiAccount
from emulators.engine.dialect import DialectBase
from emulators.engine.errors import Headers, VenueError
from emulators.engine.faults import HttpFault, StreamKind
from emulators.engine.ratewindows import header_lines, retry_after
from emulators.engine.routing import Auth
from emulators.engine.server import HttpRequest, HttpResponse, PingSchedule, WsConnection
from emulators.engine.signing import SignatureCheck, SignedCall, hmac_sha256_hex

PING = PingSchedule(interval=20.0, timeout=60.0)  # "a ping frame every 20 seconds ... pong within a minute"
FIRST_BAN_S, LONGEST_BAN_S = 120, 3 * 86400
GONE_PAGE = (b"<html>\r\n<head><title>410 Gone</title></head>\r\n<body>\r\n<center><h1>410 Gone</h1></center>\r\n"
             b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


@attrs.frozen
class Usage:
    """What one request left counted: the IP's weight this minute, the account's orders (None: not counted)."""

    weight: int
    orders_10s: int | None = None
    orders_1d: int | None = None
    sapi: bool = False

    def headers(self) -> Headers:
        name = "x-sapi-used-ip-weight-1m" if self.sapi else "x-mbx-used-weight-1m"
        lines = header_lines((name, self.weight)) if self.sapi else \
            header_lines(("x-mbx-used-weight", self.weight), (name, self.weight))
        if self.orders_10s is not None:
            lines += header_lines(("x-mbx-order-count-10s", self.orders_10s), ("x-mbx-order-count-1d", self.orders_1d))
        return lines

    def rate_limits(self) -> list[dict[str, Any]]:
        """The WebSocket API's ``rateLimits``: weight always, orders when the request placed one."""
        limits = []
        if self.orders_10s is not None:
            limits += [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": ORDERS_10S,
                        "count": self.orders_10s},
                       {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": ORDERS_1D,
                        "count": self.orders_1d}]
        return [*limits, {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                          "limit": WEIGHT_LIMIT, "count": self.weight}]


@attrs.define(eq=False)
class BinanceDialect(DialectBase[Budget]):
    ip_budgets: dict[str, IpBudget] = attrs.field(factory=dict)
    feeds: MarketFeeds = attrs.field(factory=MarketFeeds)
    cancel_ids: dict[tuple[str, int], str] = attrs.field(factory=dict)  # the client id of a cancel in flight
    created_ms: int = attrs.field(factory=wall_ms)

    key_shape = HEX_64
    signatures = SignatureCheck(hmac_sha256_hex, errors.AuthWords(), max_recv_window=60_000)
    ws_ping = PING

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.exchange.spot_fee_step = Decimal("0.00000001")  # commissions print with 8 decimals
        self.attach(on_trade=ws.on_trade, on_tick=ws.on_tick, on_order=ws.on_order, on_balances=ws.on_balances,
                    on_book=ws.on_book)

    def new_account_state(self) -> Budget:
        return Budget()

    # ================================================================== HTTP
    def http_fault_response(self, fault: HttpFault) -> HttpResponse:
        error = errors.injected(fault.status, fault.retry_after, wall_ms())
        return HttpResponse(fault.status, render.error_body(error), retry_after(fault.retry_after))

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        usage: Usage | None = None
        try:
            route = ROUTES.get((request.method, request.path))
            if route is None:
                raise errors.unknown_endpoint(request.method, request.path)
            if route.handler is listen_key_gone:
                return HttpResponse(410, GONE_PAGE, content_type=b"text/html")
            params = bp.read_params(request)
            usage = self.charge(request.client, None, route.cost(params), sapi=route.sapi)
            bp.check_reads(params, route.accepted)
            account = self._authenticate(request, route, params)
            if route.counts_order and account is not None:
                usage = self.charge(request.client, account, 0, is_order=True)
            body = route.handler(self, Call(params, account))
            return HttpResponse(200, json.dumps(body).encode(), usage.headers())
        except VenueError as error:
            counted = usage.headers() if usage is not None else []
            return HttpResponse(error.status, render.error_body(error), [*counted, *error.headers])

    def _authenticate(self, request: HttpRequest, route: Route, params: dict[str, str]) -> ApiAccount[Budget] | None:
        if route.auth is Auth.NONE:
            return None
        api_key = request.headers.get("x-mbx-apikey", "")
        if not api_key or len(api_key) > 128 or not api_key.isalnum():
            raise errors.api_key_format()
        if route.auth is Auth.API_KEY:
            return self.signatures.account(self.accounts, api_key)
        signed = _unsigned(request.query_string) + _unsigned(bp.body_text(request))
        # The window is checked on arrival and again now, as the request executes (before Binance forwards it to
        # its Matching Engine): a request that waited past its window is refused then.
        return self.signatures.verify(self.accounts, SignedCall(api_key, params.get("signature"), signed,
                                                           params.get("timestamp"), params.get("recvWindow", "5000")),
                                      received_ms=request.received_ms or None, handled_ms=request.handled_ms())

    # ================================================================== limits
    def ip_budget(self, ip: str) -> IpBudget:
        return self.ip_budgets.setdefault(ip, IpBudget())

    def charge(self, ip: str, account: ApiAccount[Budget] | None, weight: int, *, is_order: bool = False,
               sapi: bool = False) -> Usage:
        """Count ``weight`` for the IP (and a new order for ``account``), or refuse as Binance does."""
        now = trio.current_time()
        budget = self.ip_budget(ip)
        if budget.banned_until > now:
            raise errors.banned(wall_ms() + int(1000 * (budget.banned_until - now)),
                                retry_after(int(budget.banned_until - now) + 1))
        window, limit = (budget.sapi_weight, SAPI_IP_LIMIT) if sapi else (budget.weight, WEIGHT_LIMIT)
        used = window.count(now, weight)
        if self.enforce_limits and used > limit:
            budget.violations += 1
            if budget.violations > 2:  # kept going after 429s: banned, longer for repeat offenders
                budget.banned_until = now + min(FIRST_BAN_S * 2 ** budget.bans, LONGEST_BAN_S)
                budget.bans += 1
                budget.violations = 0
            resets = window.resets_in(now)
            usage = Usage(used, sapi=sapi)
            raise errors.weight_exceeded(limit, [*usage.headers(), *retry_after(int(resets) + 1)],
                                         wall_ms() + int(1000 * resets))
        if not is_order or account is None:
            return Usage(used, sapi=sapi)
        orders = account.state
        ten, day = orders.orders_10s.count(now, 1), orders.orders_1d.count(now, 1)
        usage = Usage(used, ten, day)
        if self.enforce_limits and ten > ORDERS_10S:
            resets = orders.orders_10s.resets_in(now)
            raise errors.orders_exceeded(ORDERS_10S, [*usage.headers(), *retry_after(int(resets) + 1)],
                                         wall_ms() + int(1000 * resets))
        return usage

    def usage(self, ip: str, account: ApiAccount[Budget] | None) -> Usage:
        """The counts as they stand, charging nothing."""
        return Usage(self.ip_budget(ip).weight.used)

    def order_counts(self, account: ApiAccount[Budget]) -> list[dict[str, Any]]:
        now = trio.current_time()
        ten, day = account.state.orders_10s.count(now, 0), account.state.orders_1d.count(now, 0)
        return [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": ORDERS_10S,
                 "count": ten},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": ORDERS_1D, "count": day}]

    # ================================================================== engine actions the dialect words
    def cancel_order(self, order: EOrder, cancel_id: str) -> EOrder:
        """Cancel with the cancel's own client id, which the executionReport shows as ``c``."""
        self.cancel_ids[(order.symbol, order.order_id)] = cancel_id
        try:
            return self.exchange.cancel(order.account, order.symbol, order_id=order.order_id)
        finally:
            self.cancel_ids.pop((order.symbol, order.order_id), None)

    def deposit(self, account: str, asset: str, amount: Decimal) -> None:
        """Credit (or debit) an account as a deposit or transfer would: ``balanceUpdate`` then
        ``outboundAccountPosition`` on its user data streams."""
        wallet = self.exchange.balances[account].setdefault(asset, [Decimal(0), Decimal(0)])
        wallet[0] += amount
        now = wall_ms()
        self.wsapi_push(account, render.balance_update(asset, amount, now))
        ws.on_balances(self, account, {asset: (wallet[0], wallet[1])})

    def wsapi_push(self, account: str, event: dict[str, Any]) -> None:
        wsapi.push(lambda: [c for c in self.hub.connections if c.path == wsapi.PATH], account, event)

    # ================================================================== websockets
    def stream_kind(self, path: str) -> StreamKind | None:
        if path == wsapi.PATH:
            return "private"
        return ws.stream_kind(self, path)

    async def on_ws_open(self, conn: WsConnection) -> None:
        if conn.path == wsapi.PATH:
            wsapi.on_open(self, conn)
        else:
            ws.on_open(self, conn)

    async def on_ws_message(self, conn: WsConnection, text: str) -> None:
        if conn.path == wsapi.PATH:
            await wsapi.on_request(self, conn, text)
        else:
            ws.on_message(self, conn, text)

    async def on_ws_binary(self, conn: WsConnection, data: bytes) -> None:
        if conn.path == wsapi.PATH:
            wsapi.on_binary(self, conn, data)
        else:
            ws.on_binary(self, conn, data)


def _unsigned(part: str) -> str:
    """The signed payload is everything before ``&signature=`` (Binance requires it last)."""
    if not part:
        return ""
    index = part.find("signature=")
    if index == -1:
        return part
    return part[: max(index - 1, 0)] if index > 0 else ""
