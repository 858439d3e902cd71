"""Bybit V5 (unified trading account): the REST endpoints and the Broker contract on top of them.

One client serves the categories named in option ``categories`` (default ``spot,linear,inverse``);
unified symbols say which category an order is for (``BTC/USDT`` spot, ``BTC/USDT:USDT`` linear
perpetual, ``BTC/USD:BTC`` inverse perpetual).

Answers: Bybit reports most failures inside HTTP 200 with a non-zero ``retCode``, so every answer
goes through `schemas.decode_answer`, which raises the typed error (brokers/bybit/errors.py) before any
field is read. Signing: brokers/bybit/auth.py; the timestamp is local time plus the offset measured
against ``/v5/market/time`` at connect. Rate limits: 600 requests per 5 s per IP on the channel,
plus one per-second window per (endpoint, category) corrected by ``X-Bapi-Limit-Status``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar
from urllib.parse import urlencode

import attrs
import msgspec
import trio

from brokers.base import Broker, BrokerSettings, Emit, Subscription
from brokers.bybit import constants as c
from brokers.bybit import schemas as s
from brokers.bybit.auth import rest_headers
from brokers.bybit.constants import Category
from brokers.bybit.errors import is_leverage_not_modified, map_error
from brokers.bybit.mapping import (
    SymbolMap,
    balance_from,
    candles_from_rows,
    category_of,
    category_of_instrument,
    encode_body,
    fill_from_execution,
    instrument_from,
    is_trade_execution,
    order_cancel_body,
    order_create_body,
    order_from,
    position_from,
    set_leverage_body,
    ticker_from,
    venue_interval,
)
from brokers.bybit.stream import PrivateStream, PublicStreams
from brokers.ratelimit import RateLimiter, WindowRule
from brokers.rest import PreparedRequest, Resignable, RestChannel
from brokers.spot import average_cost
from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    Fill,
    Instrument,
    LeverageInfo,
    MarginMode,
    MarketType,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Ticker,
    TimeInForce,
    from_epoch_ms,
    to_epoch_ms,
    utc_now,
)

T = TypeVar("T")

IP_RULE = WindowRule("ip-5s", c.IP_LIMIT_WINDOW_S, c.IP_LIMIT_REQUESTS)
EXECUTION_WINDOW = timedelta(days=7)  # /v5/execution/list answers at most 7 days per query
MAX_PAGES = 50  # bound on cursor paging per call (50 pages x 100 rows)
MARGIN_MODES = {"REGULAR_MARGIN": MarginMode.CROSS, "ISOLATED_MARGIN": MarginMode.ISOLATED,
                "PORTFOLIO_MARGIN": MarginMode.CROSS}
DERIVATIVES = (Category.LINEAR, Category.INVERSE)
RECENT_ORDERS = 5_000


@attrs.define(eq=False)
class BybitBroker(Broker):
    settings: BrokerSettings
    venue: str = c.VENUE
    rest: RestChannel = attrs.field(init=False)
    clock_offset_ms: int = 0
    categories: tuple[Category, ...] = attrs.field(init=False)
    symbols: SymbolMap = attrs.field(factory=SymbolMap)
    margin_mode: MarginMode = MarginMode.CROSS
    _endpoint_limiters: dict[tuple[str, Category | None], RateLimiter] = attrs.field(factory=dict)
    _connected: bool = False
    _public: PublicStreams | None = None
    _recent: OrderedDict[str, Order] = attrs.field(factory=OrderedDict)  # by order id and by client id

    def __attrs_post_init__(self) -> None:
        self.venue = self.settings.venue or c.VENUE
        self.rest = RestChannel(self.venue, self.settings.rest_url, RateLimiter(self.venue, [IP_RULE]), map_error,
                                timeout=self.settings.request_timeout, decode_answer=s.decode_answer)
        wanted = self.settings.options.get("categories", "spot,linear,inverse")
        try:
            self.categories = tuple(Category(name.strip()) for name in wanted.split(",") if name.strip())
        except ValueError:
            raise e.NotSupported(f"Bybit categories {wanted!r}: use spot, linear, inverse",
                                       venue=self.venue) from None

    # ================================================================ signing and requests
    def _credentials(self) -> Credentials:
        if self.settings.credentials is None:
            raise e.AuthenticationError("no Bybit API key configured", venue=self.venue)
        return self.settings.credentials

    def _now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def _limiters(self, path: str, category: Category | None) -> tuple[RateLimiter, ...]:
        key = (path, category)
        limiter = self._endpoint_limiters.get(key)
        if limiter is None:
            limit = c.uid_limit(path, category)
            limiter = self._endpoint_limiters[key] = RateLimiter(self.venue, [
                WindowRule(f"{path}:{category or ''}", 1, limit, header=c.HEADER_LIMIT_STATUS,
                           header_counts_remaining=True, sliding=True, margin=0.1)])
        return (limiter,)

    async def _get(self, path: str, params: Mapping[str, str | int], wanted: type[T]) -> T:
        query = urlencode(params)
        return await self.rest.send(PreparedRequest("GET", path, query), wanted)

    async def _signed_get(self, path: str, params: Mapping[str, str | int], wanted: type[T]) -> T:
        creds = self._credentials()
        query = urlencode(params)

        def build() -> PreparedRequest:
            headers = rest_headers(creds, self._now_ms(), self.settings.recv_window_ms, query)
            return PreparedRequest("GET", path, query, headers=headers)

        category = _category_param(params)
        return await self.rest.send(Resignable("GET", build), wanted, limiters=self._limiters(path, category))

    async def _signed_post(self, path: str, body: Mapping[str, object], wanted: type[T], *,
                           orders: int = 0) -> T:
        creds = self._credentials()
        raw = encode_body(body)

        def build() -> PreparedRequest:
            headers = rest_headers(creds, self._now_ms(), self.settings.recv_window_ms, raw)
            headers["Content-Type"] = "application/json"
            return PreparedRequest("POST", path, body=raw, headers=headers)

        category = _category_param(body)
        return await self.rest.send(Resignable("POST", build), wanted, orders=orders,
                                    limiters=self._limiters(path, category))

    # ================================================================ lifecycle
    async def connect(self) -> None:
        await self.rest.open()
        before = time.time()
        server = await self._get(c.SERVER_TIME, {}, s.ServerTime)
        server_ms = int(server.timeNano) // 1_000_000
        self.clock_offset_ms = server_ms - int((before + time.time()) / 2 * 1000)
        self.symbols = SymbolMap()
        for category in self.categories:
            cursor = ""
            for _ in range(MAX_PAGES):
                params: dict[str, str | int] = {"category": category.value, "limit": 1000}
                if cursor:
                    params["cursor"] = cursor
                page = await self._get(c.INSTRUMENTS_INFO, params, s.InstrumentsPage)
                for info in page.list:
                    if info.status == "Trading":
                        self.symbols.add(instrument_from(category, info))
                cursor = page.nextPageCursor
                if not cursor:
                    break
        account = await self._signed_get(c.ACCOUNT_INFO, {}, s.AccountInfo)  # proves key and signature
        self.margin_mode = MARGIN_MODES.get(account.marginMode, MarginMode.CROSS)
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False
        await self.rest.aclose()

    @property
    def is_connected(self) -> bool:
        return self._connected

    def instruments(self) -> list[Instrument]:
        return sorted(self.symbols.all(), key=lambda i: i.symbol)

    def instrument(self, symbol: str) -> Instrument:
        return self.symbols.instrument(symbol)

    # ================================================================ account
    async def _wallet(self) -> list[s.WalletCoin]:
        wallet = await self._signed_get(c.WALLET_BALANCE, {"accountType": "UNIFIED"}, s.WalletBalance)
        return [coin for account in wallet.list for coin in account.coin]

    async def get_balances(self) -> list[Balance]:
        return [balance_from(coin) for coin in await self._wallet() if coin.walletBalance]

    async def get_account_info(self) -> AccountInfo:
        info = await self._signed_get(c.ACCOUNT_INFO, {}, s.AccountInfo)
        self.margin_mode = MARGIN_MODES.get(info.marginMode, MarginMode.CROSS)
        return AccountInfo(venue=self.venue, account_type=f"UNIFIED/{info.marginMode}", can_trade=True,
                           can_withdraw=True, can_deposit=True, balances=await self.get_balances(),
                           updated_at=from_epoch_ms(info.updatedTime) if info.updatedTime else utc_now())

    # ================================================================ market data
    async def get_ticker(self, symbol: str) -> Ticker:
        category, venue_symbol = self.symbols.to_venue(symbol)
        page = await self._get(c.TICKERS, {"category": category.value, "symbol": venue_symbol}, s.TickersPage)
        if not page.list:
            raise e.ProtocolViolation(f"Bybit sent no ticker for {venue_symbol}", venue=self.venue)
        return ticker_from(page.list[0], self.instrument(symbol), utc_now())  # REST tickers carry no time

    async def get_candles(self, symbol: str, interval: str, limit: int) -> list[Candle]:
        category, venue_symbol = self.symbols.to_venue(symbol)
        page = await self._get(c.KLINE, {"category": category.value, "symbol": venue_symbol,
                                         "interval": venue_interval(interval),
                                         "limit": max(1, min(limit, c.KLINE_LIMIT_MAX))}, s.KlinePage)
        return candles_from_rows(page.list, self.instrument(symbol), interval, now=utc_now())

    async def order_book(self, symbol: str, depth: int = 50) -> s.OrderbookSnapshot:
        category, venue_symbol = self.symbols.to_venue(symbol)
        return await self._get(c.ORDERBOOK, {"category": category.value, "symbol": venue_symbol, "limit": depth},
                               s.OrderbookSnapshot)

    # ================================================================ positions
    def flat_position(self, symbol: str) -> Position:
        market_type = MarketType.SPOT
        try:
            market_type = self.instrument(symbol).market_type
        except e.InvalidOrder:
            pass
        return Position(venue=self.venue, symbol=symbol, market_type=market_type, side=PositionSide.FLAT,
                        quantity=Decimal(0), margin_mode=MarginMode.CASH if market_type is MarketType.SPOT
                        else self.margin_mode, updated_at=utc_now())

    async def _position_rows(self, category: Category, venue_symbol: str | None = None) -> list[s.PositionInfo]:
        """Open positions of a derivatives category (or one symbol's, open or not)."""
        queries: list[dict[str, str | int]]
        if venue_symbol is not None:
            queries = [{"category": category.value, "symbol": venue_symbol}]
        elif category is Category.LINEAR:
            settle = self.settings.options.get("settle_coins", "USDT,USDC")
            queries = [{"category": "linear", "settleCoin": coin.strip(), "limit": 200}
                       for coin in settle.split(",") if coin.strip()]
        else:
            queries = [{"category": category.value, "limit": 200}]
        rows: list[s.PositionInfo] = []
        for params in queries:
            cursor = ""
            for _ in range(MAX_PAGES):
                page = await self._signed_get(c.POSITION_LIST, {**params, **({"cursor": cursor} if cursor else {})},
                                              s.PositionsPage)
                rows += page.list
                cursor = page.nextPageCursor
                if not cursor:
                    break
        return rows

    def _position(self, category: Category, row: s.PositionInfo) -> Position:
        return position_from(row, self.symbols.from_venue(category, row.symbol), margin_mode=self.margin_mode)

    async def get_positions(self) -> list[Position]:
        positions: list[Position] = []
        if Category.SPOT in self.categories:
            positions += await self._spot_positions()
        for category in DERIVATIVES:
            if category in self.categories:
                positions += [self._position(category, row) for row in await self._position_rows(category)
                              if row.size > 0 and self.symbols.has(category, row.symbol)]
        return positions

    async def get_position(self, symbol: str) -> Position:
        instrument = self.instrument(symbol)
        category = category_of_instrument(instrument)
        if category is Category.SPOT:
            held = (await self.get_balance(instrument.base)).total
            return await self._spot_position(instrument, held) if held > 0 else self.flat_position(symbol)
        rows = await self._position_rows(category, instrument.venue_symbol)
        for row in rows:
            if row.size > 0:
                return self._position(category, row)
        return self.flat_position(symbol)

    async def _spot_positions(self) -> list[Position]:
        """Spot holdings as LONG positions against option ``position_quote`` (default USDT), as Binance."""
        quote = self.settings.options.get("position_quote", "USDT")
        held = {b.currency: b.total for b in await self.get_balances() if b.total > 0}
        return [await self._spot_position(i, held[i.base]) for i in self.instruments()
                if i.market_type is MarketType.SPOT and i.quote == quote and i.base in held]

    async def _spot_position(self, instrument: Instrument, quantity: Decimal) -> Position:
        mark = (await self.get_ticker(instrument.symbol)).last
        entry, realized = average_cost(await self.get_fills(instrument.symbol, limit=1000), instrument)
        return Position(venue=self.venue, symbol=instrument.symbol, market_type=MarketType.SPOT,
                        side=PositionSide.LONG, quantity=quantity, entry_price=entry, mark_price=mark,
                        unrealized_pnl=(mark - entry) * quantity if entry is not None else Decimal(0),
                        realized_pnl=realized, leverage=Decimal(1), margin_mode=MarginMode.CASH,
                        updated_at=utc_now())

    # ================================================================ leverage
    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        instrument = self.instrument(symbol)
        category = category_of_instrument(instrument)
        if category is Category.SPOT:
            raise e.NotSupported(f"Bybit spot has no per-symbol leverage ({symbol})", venue=self.venue)
        rows = await self._position_rows(category, instrument.venue_symbol)
        leverage = next((s.opt_decimal(r.leverage, field="leverage") for r in rows if r.leverage), None)
        return LeverageInfo(venue=self.venue, symbol=symbol, leverage=leverage or Decimal(1),
                            max_leverage=instrument.max_leverage, margin_mode=self.margin_mode)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> LeverageInfo:
        instrument = self.instrument(symbol)
        body = set_leverage_body(instrument, leverage)
        try:
            await self._signed_post(c.SET_LEVERAGE, body, s.Empty)
        except e.InvalidOrder as error:
            if error.code is None or not error.code.lstrip("-").isdigit() or \
                    not is_leverage_not_modified(int(error.code)):
                raise
            # "leverage not modified": it already is what was asked, which is what the caller wanted.
        return LeverageInfo(venue=self.venue, symbol=symbol, leverage=leverage, max_leverage=instrument.max_leverage,
                            margin_mode=self.margin_mode)

    # ================================================================ orders
    async def place_order(self, request: OrderRequest) -> Order:
        instrument = self.instrument(request.symbol)
        client_order_id = request.client_order_id or ""
        _check_filters(instrument, request, self.venue)
        body = order_create_body(request, instrument, client_order_id)
        ack = await self._signed_post(c.ORDER_CREATE, body, s.OrderAck, orders=1)
        if request.type is OrderType.MARKET or request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            # Orders that finish at once are worth one lookup, so the caller sees their fills.
            try:
                looked_up = await self.get_order_status(request.symbol, order_id=ack.orderId)
                self.remember(looked_up)
                return looked_up
            except e.OrderNotFound:
                pass  # not visible yet (Bybit matches asynchronously): report what the ack says
        # The create answer is an acknowledgement only; a resting order's progress arrives on the
        # private stream (and reconciliation). Reporting it as NEW keeps placement one round trip.
        now = utc_now()
        placed = Order(venue=self.venue, symbol=request.symbol, order_id=ack.orderId,
                     client_order_id=ack.orderLinkId or client_order_id, side=request.side, type=request.type,
                     status=OrderStatus.NEW, quantity=request.quantity,
                     price=request.price if request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
                     stop_price=request.stop_price, time_in_force=request.time_in_force,
                     reduce_only=request.reduce_only, created_at=now, updated_at=now)
        self.remember(placed)
        return placed

    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order:
        instrument = self.instrument(symbol)
        ack = await self._signed_post(c.ORDER_CANCEL, order_cancel_body(instrument, order_id=order_id,
                                                                       client_order_id=client_order_id), s.OrderAck)
        # Bybit acknowledges a cancel only for an order it then cancels (a finished one is refused with
        # 110001/170213), so a known order is CANCELED now; its fills, if any arrived meanwhile, follow on
        # the private stream and merge forward. An order we never saw is looked up instead.
        known = self._recent.get(ack.orderId or order_id or "") or self._recent.get(client_order_id or "")
        if known is not None:
            return msgspec.structs.replace(known, status=OrderStatus.CANCELED, updated_at=utc_now())
        return await self.get_order_status(symbol, order_id=ack.orderId or order_id,
                                           client_order_id=None if ack.orderId else client_order_id)

    def remember(self, order: Order) -> None:
        """Keep the latest state of our recent orders (placement answers and stream updates)."""
        self._recent[order.order_id] = self._recent[order.client_order_id] = order
        while len(self._recent) > RECENT_ORDERS * 2:
            self._recent.popitem(last=False)

    async def get_order_status(self, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order:
        instrument = self.instrument(symbol)
        category = category_of_instrument(instrument)
        params: dict[str, str | int] = {"category": category.value, "symbol": instrument.venue_symbol}
        if order_id:
            params["orderId"] = order_id
        elif client_order_id:
            params["orderLinkId"] = client_order_id
        else:
            raise e.InvalidOrder("an order id or a client order id is needed", venue=self.venue)
        # Open orders answer from /realtime; finished ones from /history (Bybit keeps them apart).
        for path in (c.ORDER_REALTIME, c.ORDER_HISTORY):
            page = await self._signed_get(path, params, s.OrdersPage)
            if page.list:
                return order_from(page.list[0], instrument)
        raise e.OrderNotFound(f"Bybit knows no {symbol} order {order_id or client_order_id}", venue=self.venue,
                              client_order_id=client_order_id)

    async def get_orders(self, symbol: str | None = None, *, open_only: bool = True) -> list[Order]:
        path = c.ORDER_REALTIME if open_only else c.ORDER_HISTORY
        queries: list[tuple[Category, dict[str, str | int]]] = []
        if symbol is not None:
            category, venue_symbol = self.symbols.to_venue(symbol)
            queries.append((category, {"category": category.value, "symbol": venue_symbol}))
        else:
            if not open_only:
                raise e.NotSupported("Bybit lists finished orders per symbol here: pass a symbol", venue=self.venue)
            for category in self.categories:
                if category is Category.LINEAR:
                    settle = self.settings.options.get("settle_coins", "USDT,USDC")
                    queries += [(category, {"category": "linear", "settleCoin": coin.strip()})
                                for coin in settle.split(",") if coin.strip()]
                else:
                    queries.append((category, {"category": category.value}))
        orders: list[Order] = []
        for category, params in queries:
            cursor = ""
            for _ in range(MAX_PAGES):
                page = await self._signed_get(path, {**params, "limit": 50, **({"cursor": cursor} if cursor else {})},
                                              s.OrdersPage)
                orders += [order_from(row, self.symbols.from_venue(category, row.symbol)) for row in page.list
                           if self.symbols.has(category, row.symbol)]
                cursor = page.nextPageCursor
                if not cursor:
                    break
        return orders

    async def get_fills(self, symbol: str, *, since: datetime | None = None, limit: int = 500) -> list[Fill]:
        """Executions from /v5/execution/list (newest first there; oldest first here).

        Bybit answers at most 7 days per query; ``since`` older than that is clamped to 7 days ago
        (README: a longer outage loses no fill Bybit still lists, but Bybit lists 7 days per window).
        """
        instrument = self.instrument(symbol)
        category = category_of_instrument(instrument)
        params: dict[str, str | int] = {"category": category.value, "symbol": instrument.venue_symbol, "limit": 100}
        if since is not None:
            params["startTime"] = max(to_epoch_ms(since), self._now_ms() - to_ms(EXECUTION_WINDOW) + 60_000)
        rows: list[s.ExecutionInfo] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            page = await self._signed_get(c.EXECUTION_LIST, {**params, **({"cursor": cursor} if cursor else {})},
                                          s.ExecutionsPage)
            rows += [row for row in page.list if is_trade_execution(row)]
            cursor = page.nextPageCursor
            if not cursor or (since is None and len(rows) >= limit):
                break
        fills = sorted((fill_from_execution(row, instrument) for row in rows),
                       key=lambda fill: (fill.timestamp, fill.trade_id))
        return fills[:limit] if since is not None else fills[-limit:]

    # ================================================================ streams
    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._public = PublicStreams(self.settings.ws_url, self.symbols, emit, self.categories, venue=self.venue)
        try:
            await self._public.run({sub for sub in subscriptions if self.symbols.knows(sub.symbol)},
                                   task_status=task_status)
        finally:
            self._public = None

    async def subscribe(self, added: Iterable[Subscription]) -> None:
        if self._public is not None:
            await self._public.subscribe([sub for sub in added if self.symbols.knows(sub.symbol)])

    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        url = self.settings.private_ws_url or f"{self.settings.ws_url}/v5/private"
        async def remember_and_emit(event: m.EventMsg) -> None:
            if isinstance(event, Order):
                self.remember(event)
            await emit(event)

        stream = PrivateStream(url, self._credentials(), self.symbols, remember_and_emit, self._now_ms,
                               venue=self.venue, margin_mode=lambda: self.margin_mode)
        await stream.run(task_status=task_status)


def to_ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def _category_param(params: Mapping[str, object]) -> Category | None:
    value = params.get("category")
    try:
        return Category(str(value)) if value is not None else None
    except ValueError:
        return None


def _check_filters(instrument: Instrument, request: OrderRequest, venue: str) -> None:
    """Refuse before sending what Bybit would refuse for the instrument's filters (typed, with the filter)."""
    cid = request.client_order_id
    quantity = request.quantity
    if quantity <= 0 or (instrument.lot_size and quantity % instrument.lot_size):
        raise e.InvalidOrder(f"quantity {quantity} is not a positive multiple of {instrument.lot_size}", venue=venue,
                             filter="LOT_SIZE", client_order_id=cid)
    if quantity < instrument.min_qty or (instrument.max_qty is not None and quantity > instrument.max_qty):
        raise e.InvalidOrder(f"quantity {quantity} outside [{instrument.min_qty}, {instrument.max_qty}]",
                             venue=venue, filter="LOT_SIZE", client_order_id=cid)
    if request.price is not None and request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        if request.price <= 0 or request.price % instrument.tick_size:
            raise e.InvalidOrder(f"price {request.price} is not a positive multiple of {instrument.tick_size}",
                                 venue=venue, filter="PRICE_FILTER", client_order_id=cid)
        notional = quantity * request.price if instrument.market_type is not MarketType.INVERSE else quantity
        if instrument.min_notional and notional < instrument.min_notional:
            raise e.InvalidOrder(f"order value {notional} below the minimum {instrument.min_notional}", venue=venue,
                                 filter="NOTIONAL", client_order_id=cid)


__all__ = ["BybitBroker", "category_of"]
