"""The engine's records: orders, fills, positions, public trades, books, candles, and its refusals.

Plain attrs records shared by the price simulation (`prices`), the ledger (`ledger`) and matching
(`matching`); dialects read them to render their venue's JSON. Nothing here knows a venue's wire format.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Literal

import attrs

from emulators.engine.instruments import InstrumentSpec

Side = Literal["BUY", "SELL"]
OrderKind = Literal["LIMIT", "MARKET", "LIMIT_MAKER"]
Tif = Literal["GTC", "IOC", "FOK"]
Status = Literal["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED", "EXPIRED"]
Levels = list[tuple[Decimal, Decimal]]  # (price, size) per book level

CANDLE_MS = 60_000


def wall_ms() -> int:
    """Venue timestamps are real wall-clock milliseconds (signature checks compare against them)."""
    return int(time.time() * 1000)


class RejectReason(StrEnum):
    """Why the engine refuses a request. Every dialect words each reason in a table (`engine.errors`), and a
    test fails when a registered dialect's table misses one: adding a reason means wording it everywhere."""

    INSUFFICIENT_BALANCE = "insufficient_balance"
    QTY_BELOW_MIN = "filter:LOT_SIZE:min"
    QTY_ABOVE_MAX = "filter:LOT_SIZE:max"
    QTY_OFF_STEP = "filter:LOT_SIZE:step"
    PRICE_OFF_TICK = "filter:PRICE_FILTER"
    NOTIONAL_BELOW_MIN = "filter:NOTIONAL"
    UNKNOWN_SYMBOL = "unknown_symbol"
    DUPLICATE = "duplicate"  # the client order id of an open order
    UNKNOWN_ORDER = "unknown_order"  # no such order, or no longer open
    WOULD_MATCH = "would_match"  # a post-only order that would take
    REDUCE_ONLY = "reduce_only"  # a reduce-only order with nothing to reduce
    LEVERAGE_NOT_MODIFIED = "leverage_not_modified"
    LEVERAGE_INVALID = "leverage_invalid"  # detail: the allowed range
    NOT_DERIVATIVE = "not_derivative"  # positions and leverage exist only for derivatives


class Rejected(Exception):
    """A request the exchange refuses; ``reason`` is venue-neutral, the dialect words it."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


@attrs.define
class EOrder:
    order_id: int
    client_order_id: str
    account: str
    symbol: str
    side: Side
    kind: OrderKind
    tif: Tif
    quantity: Decimal
    price: Decimal | None
    created_ms: int
    updated_ms: int
    filled: Decimal = Decimal(0)
    quote_filled: Decimal = Decimal(0)
    status: Status = "NEW"
    locked_asset: str = ""
    locked: Decimal = Decimal(0)
    last_fill: EFill | None = None
    quote_quantity: Decimal | None = None  # market buy by quote amount
    reduce_only: bool = False
    exact_quote: bool = False  # spend at most quote_quantity (venues that buy "by value")
    reject_reason: str = ""  # "" | post_only (would have taken) | reduce_only (nothing left to reduce)
    margin: bool = False  # a leveraged order on a marginable spot market: it trades a position, not the wallets

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


@attrs.frozen
class EFill:
    trade_id: int
    order_id: int
    client_order_id: str
    account: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    quote_quantity: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    time_ms: int
    closed_size: Decimal = Decimal(0)  # derivatives: how much of the position this fill closed
    closed_pnl: Decimal = Decimal(0)  # derivatives: PnL of the closed part, before the fee
    fee_rate: Decimal = Decimal(0)


@attrs.define
class EPosition:
    """A one-way (netting) position. ``size`` is signed: positive long, negative short."""

    account: str
    symbol: str  # engine instrument id
    leverage: Decimal
    size: Decimal = Decimal(0)
    entry_price: Decimal = Decimal(0)
    margin: Decimal = Decimal(0)  # initial margin held, in the settle coin (part of the wallet's locked funds)
    realised: Decimal = Decimal(0)  # of the current position, fees included
    cum_realised: Decimal = Decimal(0)  # all time, fees included
    created_ms: int = 0
    updated_ms: int = 0
    seq: int = 0

    @property
    def side(self) -> Literal["BUY", "SELL", ""]:
        return "BUY" if self.size > 0 else "SELL" if self.size < 0 else ""


@attrs.frozen
class PublicTrade:
    trade_id: int
    symbol: str
    price: Decimal
    quantity: Decimal
    buyer_is_maker: bool
    time_ms: int


@attrs.define
class Book:
    """Synthetic depth around the mid, with the venue-style update id that advances every change."""

    bids: Levels = attrs.field(factory=list)
    asks: Levels = attrs.field(factory=list)
    update_id: int = 1


@attrs.define
class Candle:
    open_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    trades: int = 0


@attrs.define
class SymbolState:
    spec: InstrumentSpec
    mid: Decimal
    book: Book = attrs.field(factory=Book)
    candles: list[Candle] = attrs.field(factory=list)
    open_24h: Decimal = Decimal(0)
    high_24h: Decimal = Decimal(0)
    low_24h: Decimal = Decimal(0)
    volume_24h: Decimal = Decimal(0)
    quote_volume_24h: Decimal = Decimal(0)
    trades: list[PublicTrade] = attrs.field(factory=list)
    next_order_id: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    next_trade_id: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))


@attrs.define
class Listeners:
    """Callbacks the dialect registers; called synchronously, in event order."""

    on_trade: list[Callable[[PublicTrade], None]] = attrs.field(factory=list)
    on_tick: list[Callable[[SymbolState, Levels, Levels], None]] = attrs.field(factory=list)
    on_order: list[Callable[[EOrder, EFill | None, str], None]] = attrs.field(factory=list)
    on_balances: list[Callable[[str, dict[str, tuple[Decimal, Decimal]]], None]] = attrs.field(factory=list)
    on_position: list[Callable[[EPosition], None]] = attrs.field(factory=list)
    # Levels a taker consumed (new sizes, 0 = gone), right after the take; ticks report through on_tick.
    on_book: list[Callable[[SymbolState, Levels, Levels], None]] = attrs.field(factory=list)
