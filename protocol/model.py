"""The domain model every venue is mapped into.

Money, prices and quantities are `Decimal` (msgspec encodes them as JSON strings, so no float ever
touches them); timestamps are timezone-aware UTC `datetime`s. Symbols are unified the way ccxt users
know them: ``BASE/QUOTE`` for spot, ``BASE/QUOTE:SETTLE`` for perpetual swaps, the bare ticker
(``AAPL``) for stocks. Each `Instrument` carries the venue-native id next to the unified one.

Every Struct that can travel as an event is tagged (``tag=True``) so it can sit in a union.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
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


_last_epoch_ms: tuple[int | str, datetime] = (0, _EPOCH)


def from_epoch_ms(ms: int | str) -> datetime:
    """Venue epoch milliseconds -> UTC datetime, exact to the millisecond (no float rounding).

    On the stream hot path: a burst of trades mostly shares its millisecond, so the last answer is
    kept (datetimes are immutable), and a new one is built with positional integer arithmetic
    (``timedelta(milliseconds=…)`` costs a third more)."""
    global _last_epoch_ms
    last, answer = _last_epoch_ms
    if ms == last:
        return answer
    answer = _EPOCH + timedelta(0, 0, int(ms) * 1000)
    _last_epoch_ms = (ms, answer)
    return answer


def new_client_order_id() -> str:
    """A client order id every supported venue accepts: 32 lower-case hex characters.

    The strictest rules decide the shape: Kraken takes a UUID, 32 hex characters or at most 18 free
    characters; OKX at most 32 alphanumerics; Binance and Bybit at most 36; Alpaca at most 128."""
    return secrets.token_hex(16)


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
    TRAILING_STOP = "trailing_stop"  # `trail_price` or `trail_percent` (Alpaca)


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"
    DAY = "day"
    OPG = "opg"  # stocks: execute in the opening auction only
    CLS = "cls"  # stocks: execute in the closing auction only


class OrderClass(StrEnum):
    """Linked orders (stocks). A venue that cannot link orders answers `NotSupported`."""

    SIMPLE = "simple"
    BRACKET = "bracket"  # entry + take-profit limit + stop-loss, the exits one-cancels-other
    OCO = "oco"  # an exit pair on an existing position: take-profit limit and stop-loss
    OTO = "oto"  # entry + one exit (take-profit or stop-loss)


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


class MarketSession(StrEnum):
    """Where a venue with trading hours (stocks) stands now; crypto venues have no sessions."""

    PRE = "pre"  # pre-market (extended hours)
    REGULAR = "regular"
    POST = "post"  # after-hours (extended hours)
    CLOSED = "closed"


class MarginAlertLevel(StrEnum):
    WARNING = "warning"  # margin level approaching the venue's call level
    MARGIN_CALL = "margin_call"
    LIQUIDATION = "liquidation"  # the venue is closing (or has closed) positions


class EarnLockType(StrEnum):
    FLEXIBLE = "flexible"  # deallocate at any time
    BONDED = "bonded"  # an unbonding period applies to deallocation
    TIMED = "timed"  # locked for a fixed term
    INSTANT = "instant"


class EarnStatus(StrEnum):
    PENDING = "pending"  # an allocation or deallocation is still being processed by the venue
    ALLOCATED = "allocated"
    DEALLOCATED = "deallocated"


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
    # Margin levels a venue offers per side (Kraken's leverage_buy / leverage_sell); empty = none.
    leverage_buy: tuple[Decimal, ...] = ()
    leverage_sell: tuple[Decimal, ...] = ()
    # Stocks (Alpaca assets); crypto keeps the defaults (fractions allowed by `lot_size`).
    exchange: str | None = None
    fractionable: bool = True
    shortable: bool = False
    easy_to_borrow: bool = False

    def notional(self, quantity: Decimal, price: Decimal) -> Decimal:
        """What ``quantity`` at ``price`` is worth in the quote currency.

        Inverse contracts are denominated in the quote (a Bybit BTCUSD contract is 1 USD), so their
        value does not depend on the price; everything else is quantity x contract size x price.
        """
        if self.market_type is MarketType.INVERSE:
            return quantity * self.contract_size
        return quantity * self.contract_size * price


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a strategy asks for. `client_order_id` is the idempotency key (generated if omitted).

    Quantities are always in base units (shares, coins), on every venue; a venue that counts in
    contracts converts exactly or refuses. A notional order (stocks) sets ``notional`` (quote currency)
    and leaves ``quantity`` at 0. ``leverage`` asks for a margin order (Kraken) and ``margin_mode`` for
    a derivatives margin mode per order (OKX ``tdMode``); None keeps the venue's default. The bracket
    fields go with ``order_class`` (venues without linked orders answer `NotSupported`).
    """

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
    notional: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    extended_hours: bool = False
    leverage: Decimal | None = None
    margin_mode: MarginMode | None = None
    order_class: OrderClass = OrderClass.SIMPLE
    take_profit_price: Decimal | None = None
    stop_loss_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None

    def reference_notional(self, price: Decimal) -> Decimal:
        """Quote value at ``price`` (for risk checks): the notional itself for a notional order."""
        return self.notional if self.notional is not None else self.quantity * price


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
    notional: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    extended_hours: bool = False
    leverage: Decimal | None = None
    order_class: OrderClass = OrderClass.SIMPLE
    parent_order_id: str | None = None  # the entry order of a bracket leg
    reject_reason: str | None = None  # the venue's words when it rejected or cancelled the order

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity


NEVER_REACHED = "never reached the venue"
"""The start of `Order.reject_reason` for an order the venue provably never took (see `never_placed`)."""


def never_placed(request: OrderRequest, why: str) -> Order:
    """The final state of an order whose outcome was once unknown and is now proven: the venue never took it.

    REJECTED, no venue order id, ``reject_reason`` starting with `NEVER_REACHED` and saying ``why``. It is the
    order event that resolves an `OrderOutcomeUnknown` reported for ``request.client_order_id``."""
    now = utc_now()
    return Order(venue=request.venue, symbol=request.symbol, order_id="", client_order_id=request.client_order_id or "",
                 side=request.side, type=request.type, status=OrderStatus.REJECTED, quantity=request.quantity,
                 price=request.price, stop_price=request.stop_price, time_in_force=request.time_in_force,
                 reduce_only=request.reduce_only, created_at=now, updated_at=now, notional=request.notional,
                 reject_reason=f"{NEVER_REACHED}: {why}")


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
    is_maker: bool | None  # None where the venue does not say (stocks)
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
    # Margin and stock accounts (None where the venue has no such figure), in ``currency``.
    currency: str | None = None
    cash: Decimal | None = None
    equity: Decimal | None = None
    buying_power: Decimal | None = None
    margin_used: Decimal | None = None
    free_margin: Decimal | None = None
    margin_level: Decimal | None = None  # equity / used margin, in percent (Kraken's "ml")
    pattern_day_trader: bool | None = None
    day_trade_count: int | None = None
    shorting_enabled: bool | None = None


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
    cost_basis: Decimal | None = None  # what opening the position cost, in the quote currency
    market_value: Decimal | None = None
    margin: Decimal | None = None  # margin the position holds
    fees: Decimal | None = None  # fees paid on it so far (Kraken margin: opening fee + rollover)


class LeverageInfo(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    venue: str
    symbol: str
    leverage: Decimal
    max_leverage: Decimal
    margin_mode: MarginMode
    # Per-side levels where the venue offers a fixed list (Kraken); empty when any value up to max goes.
    levels_buy: tuple[Decimal, ...] = ()
    levels_sell: tuple[Decimal, ...] = ()


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
    """A public trade print (anyone's), as opposed to a `Fill` (ours). ``taker_side`` is None where the
    venue does not say who took (US stock feeds): it is never guessed."""

    venue: str
    symbol: str
    trade_id: str
    price: Decimal
    quantity: Decimal
    taker_side: Side | None
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


# ------------------------------------------------------------------ contract extensions (design §11)


class FundingRate(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """A perpetual swap's funding rate (a fraction per funding interval, e.g. 0.0001 = 0.01%)."""

    venue: str
    symbol: str
    rate: Decimal
    funding_time: UtcDatetime  # when this rate is (or was) settled
    next_funding_time: UtcDatetime | None = None
    realized: bool = False  # True for a settled rate from history, False for the current estimate


class MarkPrice(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    venue: str
    symbol: str
    mark: Decimal
    index: Decimal | None = None
    timestamp: UtcDatetime


class OpenInterest(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """Open interest in base units (``quantity``) and, where the venue says, in quote (``value``)."""

    venue: str
    symbol: str
    quantity: Decimal
    value: Decimal | None = None
    timestamp: UtcDatetime


class MarketClock(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """The venue's own view of its trading session (stocks). Times are UTC."""

    venue: str
    timestamp: UtcDatetime
    session: MarketSession
    is_open: bool  # the regular session is open
    next_open: UtcDatetime
    next_close: UtcDatetime
    next_change: UtcDatetime  # the next session transition (pre -> regular, regular -> post, ...)


class MarketDay(msgspec.Struct, frozen=True, kw_only=True):
    """One trading day of a venue's calendar (holidays are absent; early closes close early)."""

    day: date
    open: UtcDatetime
    close: UtcDatetime
    session_open: UtcDatetime | None = None  # extended hours start
    session_close: UtcDatetime | None = None  # extended hours end


class MarginAlert(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """The venue warns about, calls or liquidates our margin (never dropped for a slow subscriber)."""

    venue: str
    level: MarginAlertLevel
    message: str
    margin_level: Decimal | None = None
    symbol: str | None = None
    timestamp: UtcDatetime


class EarnStrategy(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """A staking / yield product. APRs are percent per year, as venues publish them."""

    venue: str
    strategy_id: str
    asset: str
    lock_type: EarnLockType
    apr_min: Decimal | None = None
    apr_max: Decimal | None = None
    min_amount: Decimal = ZERO
    min_amount_currency: str | None = None  # the unit of `min_amount` where it is not `asset` (Kraken: USD)
    can_allocate: bool = True
    can_deallocate: bool = True
    lock_days: int | None = None  # bonding / unbonding or term length where the venue says


class EarnAllocation(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """Our holding in one Earn strategy; also an event when it changes (allocation is asynchronous)."""

    venue: str
    strategy_id: str
    asset: str
    amount: Decimal  # allocated and earning
    pending: Decimal = ZERO  # being allocated (positive) or deallocated (negative)
    rewards: Decimal = ZERO  # total rewards received, in `asset`
    status: EarnStatus = EarnStatus.ALLOCATED
    updated_at: UtcDatetime
