"""Bybit V5 (unified trading account): the REST endpoints and the Broker contract, built on the chassis.

One client serves the categories named in option ``categories`` (default ``spot,linear,inverse``);
unified symbols say which category an order is for (``BTC/USDT`` spot, ``BTC/USDT:USDT`` linear
perpetual, ``BTC/USD:BTC`` inverse perpetual), and the instrument index is keyed by category.

Answers: Bybit reports most failures inside HTTP 200 with a non-zero ``retCode``, so every answer
goes through `schemas.decode_answer`, which raises the typed error (errors.py) before any field is
read. Signing: auth.py; timestamps come from the chassis clock offset (``/v5/market/time``). Rate
limits: 600 requests per 5 s per IP on the channel, plus one per-second window per (endpoint,
category) corrected by ``X-Bapi-Limit-Status``. Every list endpoint pages by ``cursor`` through one
helper (`_cursor_pages` on `brokers.paging.collect`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Protocol, TypeVar
from urllib.parse import urlencode

import attrs
import msgspec
import trio

from brokers.base import Emit, Subscription
from brokers.bybit import constants as c
from brokers.bybit import schemas as s
from brokers.bybit.auth import rest_headers
from brokers.bybit.constants import Category
from brokers.bybit.errors import is_leverage_not_modified, map_error
from brokers.bybit.mapping import (
    MARGIN_MODES,
    balance_from,
    candles_from_rows,
    category_of,
    category_of_instrument,
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
from brokers.paging import Page, collect, next_token
from brokers.placement import ResendRule
from brokers.ratelimit import RateLimiter, WindowRule
from brokers.rest import AnswerDecoder, PreparedRequest, Resignable
from brokers.venue import VenueClient
from brokers.wire import json_body
from protocol import errors as e
from protocol import messages as m
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    Fill,
    Instrument,
    LeverageInfo,
    MarginMode,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Ticker,
    TimeInForce,
    from_epoch_ms,
    to_epoch_ms,
    utc_now,
)

T = TypeVar("T")
R = TypeVar("R")
RECENT_ORDERS = 5_000  # orders whose latest state is kept to answer a cancel without a lookup


class CursorPage(Protocol):
    """Every V5 list answer: its rows, and ``nextPageCursor`` ("" on the last page)."""

    @property
    def nextPageCursor(self) -> str: ...


P = TypeVar("P", bound=CursorPage)


@attrs.define(eq=False)
class BybitBroker(VenueClient):
    """Bybit V5 spot, linear and inverse over one REST API and a socket per category plus a private one."""

    VENUE: ClassVar[str] = c.VENUE
    stream_channels = frozenset(c.PUBLIC_TOPICS)
    rate_rules = (c.IP_RULE,)
    order_features = c.ORDER_FEATURES
    stale_after = c.STALE_AFTER
    options_taken = {"categories": "the V5 categories served: spot, linear, inverse (default all three)",
                     "settle_coins": "linear settle coins listed for positions and open orders (default USDT,USDC)"}
    categories: tuple[Category, ...] = attrs.field(init=False)
    _endpoint_limiters: dict[tuple[str, Category | None], RateLimiter] = attrs.field(factory=dict)
    _public: PublicStreams | None = None
    _recent: OrderedDict[str, Order] = attrs.field(factory=OrderedDict)  # by order id and by client id

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        wanted = self.settings.options.get("categories", "spot,linear,inverse")
        try:
            self.categories = tuple(Category(name.strip()) for name in wanted.split(",") if name.strip())
        except ValueError:
            raise e.NotSupported(f"Bybit categories {wanted!r}: use spot, linear, inverse",
                                 venue=self.venue) from None

    # ================================================================ the chassis hooks
    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
        return map_error(status, body, headers)

    def answer_decoder(self) -> AnswerDecoder | None:
        return s.decode_answer

    def venue_key(self, instrument: Instrument) -> str:
        return category_of_instrument(instrument)

    async def server_time_ms(self) -> int:
        return int((await self._get(c.SERVER_TIME, {}, s.ServerTime)).timeNano) // 1_000_000

    async def load_instruments(self) -> list[Instrument]:
        instruments: list[Instrument] = []
        for category in self.categories:
            rows = await self._cursor_pages(c.INSTRUMENTS_INFO, {"category": category.value, "limit": c.INSTRUMENTS_PAGE},
                                            s.InstrumentsPage, lambda page: page.list, signed=False)
            instruments += [instrument_from(category, info) for info in rows if info.status == "Trading"]
        return instruments

    async def check_credentials(self) -> None:
        account = await self._signed_get(c.ACCOUNT_INFO, {}, s.AccountInfo)  # proves key and signature
        self.margin_mode = MARGIN_MODES.get(account.marginMode, MarginMode.CROSS)

    def resend_rule(self) -> ResendRule:
        """A lost order can no longer execute once ``X-BAPI-TIMESTAMP + recv_window`` plus the engine margin has
        passed on Bybit's clock (README, "Order entry"); a duplicate ``orderLinkId`` is a second line of defence."""
        return self.signed_window_rule(self.settings.recv_window_ms, engine_margin_ms=c.ENGINE_MARGIN_MS,
                                       source=c.RESEND_SOURCE)

    # ================================================================ requests
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
        return await self.rest.send(PreparedRequest("GET", path, urlencode(params)), wanted)

    async def _signed_get(self, path: str, params: Mapping[str, str | int], wanted: type[T]) -> T:
        creds = self.credentials()
        query = urlencode(params)

        def build() -> PreparedRequest:
            headers = rest_headers(creds, self.now_ms(), self.settings.recv_window_ms, query)
            return PreparedRequest("GET", path, query, headers=headers)

        category = _category_param(params)
        return await self.rest.send(Resignable("GET", build), wanted, limiters=self._limiters(path, category))

    async def _signed_post(self, path: str, body: Mapping[str, object], wanted: type[T], *,
                           orders: int = 0) -> T:
        creds = self.credentials()
        raw = json_body(body)

        def build() -> PreparedRequest:
            headers = rest_headers(creds, self.now_ms(), self.settings.recv_window_ms, raw)
            headers["Content-Type"] = "application/json"
            return PreparedRequest("POST", path, body=raw, headers=headers)

        category = _category_param(body)
        return await self.rest.send(Resignable("POST", build), wanted, orders=orders,
                                    limiters=self._limiters(path, category))

    async def _cursor_pages(self, path: str, params: Mapping[str, str | int], page_type: type[P],
                            rows: Callable[[P], Sequence[R]], *, signed: bool = True,
                            enough: int | None = None) -> list[R]:
        """Every row of a V5 list (``cursor`` / ``nextPageCursor``), filtered by ``rows``."""
        async def fetch(cursor: str | None) -> Page[R, str]:
            query = {**params, "cursor": cursor} if cursor else params
            page = await (self._signed_get if signed else self._get)(path, query, page_type)
            return Page(rows(page), next_token(page.nextPageCursor))

        return await collect(fetch, enough=enough, what=f"{self.venue} {path}")

    def _instrument_of(self, category: str, venue_symbol: str) -> Instrument | None:
        return self.index.find(venue_symbol, category)

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
        category, venue_symbol = self.index.to_venue(symbol)
        page = await self._get(c.TICKERS, {"category": category, "symbol": venue_symbol}, s.TickersPage)
        if not page.list:
            raise e.ProtocolViolation(f"Bybit sent no ticker for {venue_symbol}", venue=self.venue)
        return ticker_from(page.list[0], self.instrument(symbol), utc_now())  # REST tickers carry no time

    async def get_candles(self, symbol: str, interval: str, limit: int) -> list[Candle]:
        category, venue_symbol = self.index.to_venue(symbol)
        page = await self._get(c.KLINE, {"category": category, "symbol": venue_symbol,
                                         "interval": venue_interval(interval),
                                         "limit": max(1, min(limit, c.KLINE_LIMIT_MAX))}, s.KlinePage)
        return candles_from_rows(page.list, self.instrument(symbol), interval, now=utc_now())

    async def order_book(self, symbol: str, depth: int = c.BOOK_DEPTH) -> s.OrderbookSnapshot:
        category, venue_symbol = self.index.to_venue(symbol)
        return await self._get(c.ORDERBOOK, {"category": category, "symbol": venue_symbol, "limit": depth},
                               s.OrderbookSnapshot)

    # ================================================================ positions (derivatives; spot is the chassis')
    async def _position_rows(self, category: Category, venue_symbol: str | None = None) -> list[s.PositionInfo]:
        """Open positions of a derivatives category (or one symbol's, open or not)."""
        queries: list[dict[str, str | int]]
        if venue_symbol is not None:
            queries = [{"category": category.value, "symbol": venue_symbol}]
        elif category is Category.LINEAR:
            queries = [{"category": "linear", "settleCoin": coin, "limit": c.POSITIONS_PAGE}
                       for coin in self._settle_coins()]
        else:
            queries = [{"category": category.value, "limit": c.POSITIONS_PAGE}]
        rows: list[s.PositionInfo] = []
        for params in queries:
            rows += await self._cursor_pages(c.POSITION_LIST, params, s.PositionsPage, lambda page: page.list)
        return rows

    def _settle_coins(self) -> list[str]:
        """Linear positions and open orders are listed per settle coin (option ``settle_coins``)."""
        listed = self.settings.options.get("settle_coins", "USDT,USDC")
        return [coin.strip() for coin in listed.split(",") if coin.strip()]

    def _position(self, category: Category, row: s.PositionInfo) -> Position:
        return position_from(row, self.index.from_venue(row.symbol, category), margin_mode=self.margin_mode)

    async def venue_positions(self) -> list[Position]:
        positions: list[Position] = []
        for category in c.DERIVATIVES:
            if category in self.categories:
                positions += [self._position(category, row) for row in await self._position_rows(category)
                              if row.size > 0 and self._instrument_of(category, row.symbol) is not None]
        return positions

    async def venue_position(self, instrument: Instrument) -> Position:
        category = category_of_instrument(instrument)
        for row in await self._position_rows(category, instrument.venue_symbol):
            if row.size > 0:
                return self._position(category, row)
        return self.flat_position(instrument.symbol)

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
        instrument = self.check_order(request)
        client_order_id = request.client_order_id or ""
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
        params: dict[str, str | int] = {"category": category_of_instrument(instrument),
                                        "symbol": instrument.venue_symbol}
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
            key, venue_symbol = self.index.to_venue(symbol)
            queries.append((Category(key), {"category": key, "symbol": venue_symbol}))
        else:
            if not open_only:
                raise e.NotSupported("Bybit lists finished orders per symbol here: pass a symbol", venue=self.venue)
            for category in self.categories:
                if category is Category.LINEAR:
                    queries += [(category, {"category": "linear", "settleCoin": coin}) for coin in self._settle_coins()]
                else:
                    queries.append((category, {"category": category.value}))
        orders: list[Order] = []
        for category, params in queries:
            ids = self.index.venue_ids(category)

            def known(page: s.OrdersPage, ids: dict[str, Instrument] = ids) -> list[Order]:
                return [order_from(row, ids[row.symbol]) for row in page.list if row.symbol in ids]

            orders += await self._cursor_pages(path, {**params, "limit": c.ORDERS_PAGE}, s.OrdersPage, known)
        return orders

    async def get_fills(self, symbol: str, *, since: datetime | None = None, limit: int = 500) -> list[Fill]:
        """Executions from /v5/execution/list (newest first there; oldest first here).

        Bybit answers at most 7 days per query; ``since`` older than that is clamped to 7 days ago
        (README: a longer outage loses no fill Bybit still lists, but Bybit lists 7 days per window).
        """
        instrument = self.instrument(symbol)
        params: dict[str, str | int] = {"category": category_of_instrument(instrument),
                                        "symbol": instrument.venue_symbol, "limit": c.EXECUTIONS_PAGE}
        if since is not None:
            params["startTime"] = max(to_epoch_ms(since), self.now_ms() - to_ms(c.EXECUTION_WINDOW) + 60_000)
        rows = await self._cursor_pages(c.EXECUTION_LIST, params, s.ExecutionsPage,
                                        lambda page: [row for row in page.list if is_trade_execution(row)],
                                        enough=limit if since is None else None)
        fills = sorted((fill_from_execution(row, instrument) for row in rows),
                       key=lambda fill: (fill.timestamp, fill.trade_id))
        return fills[:limit] if since is not None else fills[-limit:]

    # ================================================================ streams
    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._public = PublicStreams(self.settings.ws_url, self.index, emit, self.categories, venue=self.venue,
                                     reopen=self.public_reopen(emit), stale_limits=self.stale_limits())
        try:
            await self._public.run({sub for sub in subscriptions if self.index.knows(sub.symbol)},
                                   task_status=task_status)
        finally:
            self._public = None

    async def subscribe(self, added: Iterable[Subscription]) -> None:
        if self._public is not None:
            await self._public.subscribe([sub for sub in added if self.index.knows(sub.symbol)])

    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        url = self.settings.private_ws_url or f"{self.settings.ws_url}/v5/private"

        async def remember_and_emit(event: m.EventMsg) -> None:
            if isinstance(event, Order):
                self.remember(event)
            await emit(event)

        stream = PrivateStream(url, self.credentials(), self.index, remember_and_emit, self.now_ms,
                               venue=self.venue, margin_mode=lambda: self.margin_mode)
        await stream.run(task_status=task_status)


def to_ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def _category_param(params: Mapping[str, Any]) -> Category | None:
    value = params.get("category")
    try:
        return Category(str(value)) if value is not None else None
    except ValueError:
        return None


__all__ = ["BybitBroker", "category_of"]
