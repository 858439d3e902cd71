"""The Alpaca dialect's front door: each HTTP request is routed (`routes.ROUTES`), authenticated by its key
headers, counted against its API's per-minute limit and answered; engine events become trade updates and
market-data pushes (`ws`); session transitions drive routing, auctions and expiry (`orders.on_boundary`).

Authentication: ``APCA-API-KEY-ID`` and ``APCA-API-SECRET-KEY`` on every request (no signature, no
timestamp). Without them the gateway answers ``403 {"message": "forbidden."}``; an unknown key or a wrong
secret is ``401 {"code": 40110000, "message": "request is not authorized"}``.

Limits: 200 requests a minute per account on the trading API, and on the data API 200 (Basic plan) or
10,000 (Algo Trader Plus), counted in fixed one-minute windows on trio's clock, reported on every
authenticated answer in ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (epoch
seconds of the market clock when the window resets) and refused with 429 beyond. ``enforce_limits=False``
counts and reports without refusing; ``trading_limit`` and ``data_limits`` are adjustable for tests.
"""

from __future__ import annotations

import hmac
import itertools
import json
import string
import uuid
from collections import deque
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar, cast
from urllib.parse import parse_qsl

import attrs
import trio

from emulators.alpaca import account, errors, orders, routes, ws
from emulators.alpaca.account import AccountState
from emulators.alpaca.marketdata import lots
from emulators.alpaca.orders import AOrder
from emulators.engine import EFill, EOrder, SymbolState
from emulators.engine.accounts import ApiAccount, KeyShape
from emulators.engine.dialect import DialectBase, WsHandlers
from emulators.engine.equities import StockExchange
from emulators.engine.errors import Headers, VenueError
from emulators.engine.faults import HttpFault
from emulators.engine.model import Levels
from emulators.engine.ratewindows import header_lines, retry_after
from emulators.engine.server import HttpRequest, HttpResponse, WsConnection
from emulators.engine.sessions import Session

D = Decimal
ASSET_NAMESPACE = uuid.UUID("6a1f3c4e-2b7d-4e8a-9f10-a1a2ca000001")


@attrs.frozen
class Quote:
    """The top of the book at one moment (sizes in round lots), with a sequence number for sorting."""

    time_ms: int
    bid: Decimal
    bid_lots: int
    ask: Decimal
    ask_lots: int
    seq: int


@attrs.define(eq=False)
class AlpacaDialect(DialectBase[AccountState]):
    orders: dict[str, AOrder] = attrs.field(factory=dict)  # by id, in creation order
    by_client: dict[tuple[str, str], str] = attrs.field(factory=dict)  # (account, client order id) -> id, forever
    quotes: dict[str, deque[Quote]] = attrs.field(factory=dict)
    minutes: dict[str, int] = attrs.field(factory=dict)  # symbol -> the candle last seen open (bar pushes)
    trading_limit: int = 200
    data_limits: dict[str, int] = attrs.field(factory=lambda: {"basic": 200, "algo_trader_plus": 10_000})
    symbol_limit: int = 30  # Basic plan: trades + quotes subscriptions on a data stream
    auth_timeout: float = 10.0
    _serials: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _order_serials: dict[str, int] = attrs.field(factory=dict)
    _by_name: dict[str, ApiAccount[AccountState]] = attrs.field(factory=dict)
    _quote_seq: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    key_shape = KeyShape(20, 40, string.ascii_uppercase + string.digits)
    websockets: ClassVar[WsHandlers] = ws

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.attach(on_order=orders.on_engine_order, on_tick=_on_tick, on_book=_on_book, on_trade=ws.on_trade)
        self.market.session_listeners.append(partial(orders.on_boundary, self))
        self.market.tick_listeners.append(partial(ws.sweep, self))
        self.market.fill_filter = self.may_fill
        for symbol, state in self.market.symbols.items():
            self.quotes[symbol] = deque(maxlen=5000)
            self.record_quote(state)

    def new_account_state(self) -> AccountState:
        return AccountState()

    @property
    def market(self) -> StockExchange:
        return cast(StockExchange, self.exchange)

    # ================================================================== accounts and ids
    def add_account(self, name: str, api_key: str | None = None, api_secret: str | None = None,
                    balances: Any = None, passphrase: str | None = None) -> ApiAccount[AccountState]:
        added = super().add_account(name, api_key, api_secret, balances, passphrase)
        state = added.state
        state.account_id = str(uuid.UUID(int=(self.market.seed & 0xFFFF) << 96 | 3 << 64 | added.uid, version=4))
        state.account_number = f"PA{added.uid:010d}"[:12]
        state.created_ms = self.market.now_ms()
        self._by_name[name] = added
        return added

    def account_state(self, name: str) -> AccountState:
        return self._by_name[name].state

    def credentials(self, key: Any, secret: Any) -> str | None:
        """The engine account behind a key id and secret, or None."""
        if not isinstance(key, str) or not isinstance(secret, str):
            return None
        found = self.accounts.get(key)
        if found is None or not hmac.compare_digest(found.api_secret.encode(), secret.encode()):
            return None
        return found.name

    def next_serial(self) -> int:
        return next(self._serials)

    def asset_id(self, symbol: str) -> str:
        return str(uuid.uuid5(ASSET_NAMESPACE, symbol))

    def execution_id(self, fill: EFill) -> str:
        index = list(self.market.symbols).index(fill.symbol)
        return str(uuid.UUID(int=(self.market.seed & 0xFFFF) << 96 | (index + 16) << 64 | fill.trade_id, version=4))

    # ================================================================== orders
    def register(self, order: AOrder) -> None:
        self.orders[order.id] = order
        self.by_client[(order.account, order.client_order_id)] = order.id
        self._order_serials[order.id] = self.next_serial()

    def serial_of(self, order: AOrder) -> int:
        return self._order_serials.get(order.id, 0)

    def client_id_taken(self, name: str, client_order_id: str) -> bool:
        """Alpaca keeps a client order id for ever: a filled or canceled order's id cannot be reused."""
        return (name, client_order_id) in self.by_client

    def open_orders(self, name: str) -> list[AOrder]:
        return [o for o in self.orders.values() if o.account == name and o.is_open]

    def publish(self, order: AOrder, event: str, *, fill: EFill | None = None, reason: str | None = None) -> None:
        ws.push_trade_update(self, order, event, fill, reason)

    def may_fill(self, engine_order: EOrder) -> bool:
        """Resting orders fill in the regular session; extended-hours ones also in the pre-market and after
        hours; nothing fills while the market is closed."""
        session = self.market.session()
        if session is Session.REGULAR:
            return True
        order = self.orders.get(engine_order.client_order_id)
        return session is not Session.CLOSED and order is not None and order.extended_hours

    def on_close(self) -> None:
        """At the regular close: each account's equity and maintenance margin become "last"."""
        for name, api in self._by_name.items():
            figures = account.money(self, name, api.state)
            api.state.last_equity, api.state.last_maintenance = figures.equity, figures.maintenance_margin

    # ================================================================== market data
    def record_quote(self, state: SymbolState) -> Quote:
        book = state.book
        quote = Quote(self.market.now_ms(), book.bids[0][0], lots(book.bids[0][1]), book.asks[0][0],
                      lots(book.asks[0][1]), next(self._quote_seq))
        self.quotes.setdefault(state.spec.symbol, deque(maxlen=5000)).append(quote)
        return quote

    # ================================================================== HTTP
    def http_fault_response(self, fault: HttpFault) -> HttpResponse:
        headers = retry_after(fault.retry_after)
        if fault.status == 429:
            error: VenueError = errors.rate_limited([])
        elif fault.status == 401:
            error = errors.unauthorized()
        elif fault.status == 403:
            error = errors.forbidden()
        elif fault.status == 404:
            error = errors.endpoint_not_found()
        elif fault.status >= 500:
            error = errors.internal_error()
        else:
            error = errors.error(fault.status, fault.status * 100_000, "request failed")
        return HttpResponse(fault.status, _body(error), headers)

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        counted: Headers = []
        try:
            found = routes.match(request.method, request.path)
            if found is None:
                raise errors.endpoint_not_found()
            if found == "method":
                raise errors.method_not_allowed()
            assert not isinstance(found, str)
            route, path_params = found
            caller = self._authenticate(request)
            counted = self._count(caller, data=routes.is_data(request.path))
            params = _params(request)
            answer = route.handler(self, routes.Call(params, caller, path_params))
            if isinstance(answer, routes.Reply):
                body = b"" if answer.body is None else json.dumps(answer.body).encode()
                return HttpResponse(answer.status, body, counted)
            return HttpResponse(200, json.dumps(answer).encode(), counted)
        except VenueError as error:
            return HttpResponse(error.status, _body(error), [*counted, *error.headers])

    def _authenticate(self, request: HttpRequest) -> ApiAccount[AccountState]:
        key, secret = request.headers.get("apca-api-key-id"), request.headers.get("apca-api-secret-key")
        if not key and not secret:
            raise errors.forbidden()
        name = self.credentials(key, secret)
        if name is None:
            raise errors.unauthorized()
        return self._by_name[name]

    def _count(self, caller: ApiAccount[AccountState], *, data: bool) -> Headers:
        state = caller.state
        window = state.data if data else state.trading
        limit = self.data_limits.get(state.plan, 200) if data else self.trading_limit
        now = trio.current_time()
        used = window.count(now)
        reset = int(self.market.clock.epoch() + window.resets_in(now)) + 1
        headers = header_lines(("x-ratelimit-limit", limit), ("x-ratelimit-remaining", max(limit - used, 0)),
                               ("x-ratelimit-reset", reset))
        if used > limit and self.enforce_limits:
            raise errors.rate_limited(headers, data=data)
        return headers

    # ================================================================== websockets
    async def on_ws_binary(self, conn: WsConnection, data: bytes) -> None:
        ws.on_message(self, conn, data)


def _body(error: VenueError) -> bytes:
    body = error.body() if isinstance(error, errors.AlpacaError) else {"code": error.code, "message": error.message}
    return json.dumps(body).encode()


def _params(request: HttpRequest) -> dict[str, Any]:
    """GET and DELETE: the query string; POST and PATCH: a JSON object body (and no query string)."""
    if request.method in ("GET", "DELETE"):
        return dict(parse_qsl(request.query_string, keep_blank_values=True))
    if request.query_string:
        raise errors.unknown_parameter(next(iter(dict(parse_qsl(request.query_string, keep_blank_values=True))),
                                            request.query_string))
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise errors.malformed_body() from None
    if not isinstance(body, dict):
        raise errors.malformed_body()
    return body


def _on_tick(d: AlpacaDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    ws.on_quote(d, state)
    orders.on_price(d, state.spec.symbol)


def _on_book(d: AlpacaDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    ws.on_quote(d, state)

