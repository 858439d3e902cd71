"""The domain model every venue is mapped into.

Money, prices and quantities are `Decimal` (msgspec encodes them as JSON strings, so no float ever
touches them); timestamps are timezone-aware UTC `datetime`s. Symbols are unified the way ccxt users
know them: ``BASE/QUOTE`` for spot, ``BASE/QUOTE:SETTLE`` for perpetual swaps, the bare ticker
(``AAPL``) for stocks. Each `Instrument` carries the venue-native id next to the unified one.

Every Struct that can travel as an event is tagged (``tag=True``) so it can sit in a union.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import msgspec

UtcDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timezone-aware datetime; producers always use UTC (`utc_now`, `from_epoch_ms`)."""

ZERO = Decimal(0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def from_epoch_ms(ms: int | str) -> datetime:
    """Venue epoch milliseconds -> UTC datetime, exact to the millisecond (no float rounding)."""
    return _EPOCH + timedelta(milliseconds=int(ms))  # integer arithmetic, and the cheapest exact form


def new_client_order_id(prefix: str = "at") -> str:
    """A client order id every supported venue accepts (26 chars of [a-z0-9])."""
    return prefix + secrets.token_hex(12)


def to_epoch_ms(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("naive datetime: AlgoTrendy times are UTC and timezone-aware")
    return (when - _EPOCH) // timedelta(milliseconds=1)  # integer arithmetic: no float rounding


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"
    DAY = "day"


class OrderStatus(StrEnum):
    """Order life cycle. `rank` orders states so updates from REST and stream merge forward only."""

    PENDING_NEW = "pending_new"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def rank(self) -> int:
        return _RANK[self]


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})
_RANK = {
    OrderStatus.PENDING_NEW: 0,
    OrderStatus.NEW: 1,
    OrderStatus.PARTIALLY_FILLED: 2,
    OrderStatus.FILLED: 3,
    OrderStatus.CANCELED: 3,
    OrderStatus.REJECTED: 3,
    OrderStatus.EXPIRED: 3,
}


class MarketType(StrEnum):
    SPOT = "spot"
    MARGIN = "margin"
    LINEAR = "linear"  # perpetual/futures settled in the quote (USDT, USDC)
    INVERSE = "inverse"  # perpetual/futures settled in the base coin
    STOCK = "stock"


class PositionSide(StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class MarginMode(StrEnum):
    CASH = "cash"  # spot: no borrowing, leverage is always 1
    CROSS = "cross"
    ISOLATED = "isolated"


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """A tradable market with the filters an order must pass."""

    venue: str
    symbol: str
    venue_symbol: str
    market_type: MarketType
    base: str
    quote: str
    settle: str | None = None
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal = ZERO
    max_qty: Decimal | None = None
    min_notional: Decimal = ZERO
    max_leverage: Decimal = Decimal(1)
    contract_size: Decimal = Decimal(1)
    trading: bool = True

    def notional(self, quantity: Decimal, price: Decimal) -> Decimal:
        """What ``quantity`` at ``price`` is worth in the quote currency.

        Inverse contracts are denominated in the quote (a Bybit BTCUSD contract is 1 USD), so their
        value does not depend on the price; everything else is quantity x contract size x price.
        """
        if self.market_type is MarketType.INVERSE:
            return quantity * self.contract_size
        return quantity * self.contract_size * price


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a strategy asks for. `client_order_id` is the idempotency key (generated if omitted)."""

    venue: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: str | None = None
    reduce_only: bool = False


class Order(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    venue: str
    symbol: str
    order_id: str
    client_order_id: str
    side: Side
    type: OrderType
    status: OrderStatus
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    filled_quantity: Decimal = ZERO
    average_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity


class Fill(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """One execution of one of our orders. `trade_id` is unique per venue and symbol."""

    venue: str
    symbol: str
    order_id: str
    client_order_id: str
    trade_id: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_currency: str
    is_maker: bool
    timestamp: UtcDatetime
    order_filled_quantity: Decimal | None = None
    """The order's cumulative filled quantity including this fill, when the venue says (gap check)."""


class Balance(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    venue: str
    currency: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


class AccountInfo(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    venue: str
    account_type: str
    can_trade: bool
    can_withdraw: bool
    can_deposit: bool
    balances: list[Balance]
    maker_fee_rate: Decimal | None = None
    taker_fee_rate: Decimal | None = None
    updated_at: UtcDatetime


class Position(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """Exposure in one instrument. Spot venues report holdings as LONG positions (see the venue README)."""

    venue: str
    symbol: str
    market_type: MarketType
    side: PositionSide
    quantity: Decimal
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    liquidation_price: Decimal | None = None
    leverage: Decimal = Decimal(1)
    margin_mode: MarginMode = MarginMode.CASH
    updated_at: UtcDatetime


class LeverageInfo(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    venue: str
    symbol: str
    leverage: Decimal
    max_leverage: Decimal
    margin_mode: MarginMode


class Ticker(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    venue: str
    symbol: str
    last: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    timestamp: UtcDatetime


class Trade(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """A public trade print (anyone's), as opposed to a `Fill` (ours)."""

    venue: str
    symbol: str
    trade_id: str
    price: Decimal
    quantity: Decimal
    taker_side: Side
    timestamp: UtcDatetime


class Candle(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    venue: str
    symbol: str
    interval: str
    open_time: UtcDatetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    closed: bool = True


class BookLevel(msgspec.Struct, frozen=True, array_like=True):
    price: Decimal
    quantity: Decimal


class OrderBook(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """A consistent top-of-book snapshot (best first on each side); `sequence` is the venue's update id."""

    venue: str
    symbol: str
    bids: list[BookLevel]
    asks: list[BookLevel]
    sequence: int
    timestamp: UtcDatetime
