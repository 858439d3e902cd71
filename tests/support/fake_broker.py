"""A scripted in-memory venue for unit tests of the venue-neutral machinery (router, supervisor,
actor loop). Venue dialects are tested against the emulators instead; this only has to be a
faithful *Broker*: typed errors, a fill log, and streams that can be cut.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

import attrs
import trio

from brokers.base import Broker, Emit, Subscription
from protocol import errors as e
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    Fill,
    Instrument,
    MarketType,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Ticker,
    utc_now,
)

BTC = Instrument(venue="fake", symbol="BTC/USDT", venue_symbol="BTCUSDT", market_type=MarketType.SPOT,
                 base="BTC", quote="USDT", tick_size=Decimal("0.01"), lot_size=Decimal("0.001"),
                 min_qty=Decimal("0.001"), min_notional=Decimal("5"))


@attrs.define
class FakeVenue:
    """The venue's side: orders, the fill log, and knobs for faults. Shared by broker incarnations."""

    price: Decimal = Decimal("100")
    orders: dict[str, Order] = attrs.field(factory=dict)  # by client id
    fill_log: list[Fill] = attrs.field(factory=list)
    placed: list[OrderRequest] = attrs.field(factory=list)
    up: bool = True
    reject_auth: bool = False
    lose_next_place_response: int = 0
    streams: list[trio.MemorySendChannel[Fill | Order]] = attrs.field(factory=list)
    stream_drop: bool = False
    connects: int = 0
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _trade_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    def execute(self, client_order_id: str, quantity: Decimal) -> Fill:
        """Fill part of an order (as the venue's matching engine would) and push it to live streams."""
        order = self.orders[client_order_id]
        filled = order.filled_quantity + quantity
        status = OrderStatus.FILLED if filled >= order.quantity else OrderStatus.PARTIALLY_FILLED
        now = utc_now() + timedelta(microseconds=len(self.fill_log))
        order = attrs_replace(order, filled_quantity=filled, status=status, updated_at=now)
        self.orders[client_order_id] = order
        fill = Fill(venue="fake", symbol=order.symbol, order_id=order.order_id, client_order_id=client_order_id,
                    trade_id=str(next(self._trade_ids)), side=order.side, price=self.price, quantity=quantity,
                    fee=Decimal(0), fee_currency="USDT", is_maker=False, timestamp=now,
                    order_filled_quantity=filled)
        self.fill_log.append(fill)
        for stream in list(self.streams):
            try:
                stream.send_nowait(fill)
                stream.send_nowait(order)
            except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
                self.streams.remove(stream)
        return fill

    def cut_streams(self) -> None:
        for stream in self.streams:
            stream.close()
        self.streams.clear()


def attrs_replace(order: Order, **changes: object) -> Order:
    import msgspec

    return msgspec.structs.replace(order, **changes)


@attrs.define
class FakeBroker(Broker):
    market: FakeVenue
    venue: str = "fake"
    _connected: bool = False

    async def connect(self) -> None:
        self.market.connects += 1
        if self.market.reject_auth:
            raise e.AuthenticationError("invalid key", venue=self.venue, code=-2015)
        if not self.market.up:
            raise e.VenueUnavailable("connection refused", venue=self.venue)
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False

    @property
    def is_connected(self) -> bool:
        return self._connected

    def instruments(self) -> list[Instrument]:
        return [BTC]

    def instrument(self, symbol: str) -> Instrument:
        if symbol != BTC.symbol:
            raise e.InvalidOrder(f"unknown symbol {symbol!r}", venue=self.venue, filter="SYMBOL")
        return BTC

    def _check(self) -> None:
        if not self.market.up:
            raise e.VenueUnavailable("connection refused", venue=self.venue)

    async def get_balance(self, currency: str) -> Balance:
        return Balance(venue=self.venue, currency=currency, free=Decimal(1000), locked=Decimal(0))

    async def get_balances(self) -> list[Balance]:
        return [await self.get_balance("USDT")]

    async def get_account_info(self) -> AccountInfo:
        return AccountInfo(venue=self.venue, account_type="SPOT", can_trade=True, can_withdraw=False,
                           can_deposit=False, balances=await self.get_balances(), updated_at=utc_now())

    async def get_ticker(self, symbol: str) -> Ticker:
        self._check()
        return Ticker(venue=self.venue, symbol=symbol, last=self.market.price, timestamp=utc_now())

    async def get_candles(self, symbol: str, interval: str, limit: int) -> list[Candle]:
        raise e.NotSupported("no candles", venue=self.venue)

    async def get_positions(self) -> list[Position]:
        return []

    def flat_position(self, symbol: str) -> Position:
        return Position(venue=self.venue, symbol=symbol, market_type=MarketType.SPOT, side=PositionSide.FLAT,
                        quantity=Decimal(0), updated_at=utc_now())

    async def place_order(self, request: OrderRequest) -> Order:
        self._check()
        assert request.client_order_id
        if request.client_order_id in self.market.orders:
            raise e.DuplicateOrder("duplicate", venue=self.venue)
        self.market.placed.append(request)
        now = utc_now()
        order = Order(venue=self.venue, symbol=request.symbol, order_id=str(next(self.market._ids)),
                      client_order_id=request.client_order_id, side=request.side, type=request.type,
                      status=OrderStatus.NEW, quantity=request.quantity, price=request.price,
                      created_at=now, updated_at=now)
        self.market.orders[request.client_order_id] = order
        if request.type is OrderType.MARKET:
            self.market.execute(request.client_order_id, request.quantity)
            order = self.market.orders[request.client_order_id]
        if self.market.lose_next_place_response:
            self.market.lose_next_place_response -= 1
            raise e.VenueUnavailable("read timeout", venue=self.venue)
        return order

    def _find(self, order_id: str | None, client_order_id: str | None) -> Order:
        for order in self.market.orders.values():
            if order.order_id == order_id or order.client_order_id == client_order_id:
                return order
        raise e.OrderNotFound("Order does not exist.", venue=self.venue, code=-2013)

    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order:
        self._check()
        order = self._find(order_id, client_order_id)
        order = attrs_replace(order, status=OrderStatus.CANCELED, updated_at=utc_now())
        self.market.orders[order.client_order_id] = order
        return order

    async def get_order_status(self, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order:
        self._check()
        return self._find(order_id, client_order_id)

    async def get_orders(self, symbol: str | None = None, *, open_only: bool = True) -> list[Order]:
        self._check()
        return [o for o in self.market.orders.values() if not (open_only and o.status.is_terminal)]

    async def get_fills(self, symbol: str, *, since: datetime | None = None, limit: int = 500) -> list[Fill]:
        self._check()
        return [f for f in self.market.fill_log if f.symbol == symbol and (since is None or f.timestamp >= since)]

    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep_forever()

    async def subscribe(self, added: Iterable[Subscription]) -> None:
        return None

    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        send, receive = trio.open_memory_channel[Fill | Order](1000)
        self.market.streams.append(send)
        task_status.started()
        async for event in receive:
            await emit(event)
        raise e.VenueUnavailable("private stream closed", venue=self.venue)
