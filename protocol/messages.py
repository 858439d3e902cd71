"""Commands, replies and events: everything that moves between the router, broker actors and clients.

All three are tagged msgspec unions (the tag is the class name under ``"kind"``), so one JSON codec
serves the in-process channels' debugging, the daemon's control API and the tests. A command carries a
correlation ``id``; its reply carries the same id and is either the result Struct or an `ErrorReply`.
Events are the model Structs themselves (`Ticker`, `Fill`, …) plus `BrokerStatus`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

import msgspec

from protocol.errors import ErrorInfo
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    EarnAllocation,
    EarnStrategy,
    Fill,
    FundingRate,
    Instrument,
    LeverageInfo,
    MarginAlert,
    MarketClock,
    MarketDay,
    MarketSession,
    MarkPrice,
    OpenInterest,
    Order,
    OrderBook,
    OrderRequest,
    Position,
    Ticker,
    Trade,
    UtcDatetime,
)

# --------------------------------------------------------------------------------------- commands


class Command(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """Base of every command: ``id`` correlates the reply, ``venue`` picks the broker actor."""

    id: str
    venue: str


class GetInstruments(Command, frozen=True, kw_only=True):
    pass


class GetBalance(Command, frozen=True, kw_only=True):
    currency: str


class GetBalances(Command, frozen=True, kw_only=True):
    pass


class GetAccountInfo(Command, frozen=True, kw_only=True):
    pass


class GetTicker(Command, frozen=True, kw_only=True):
    symbol: str


class GetCandles(Command, frozen=True, kw_only=True):
    symbol: str
    interval: str = "1m"
    limit: int = 100


class GetPositions(Command, frozen=True, kw_only=True):
    pass


class GetPosition(Command, frozen=True, kw_only=True):
    symbol: str


class PlaceOrder(Command, frozen=True, kw_only=True):
    request: OrderRequest


class CancelOrder(Command, frozen=True, kw_only=True):
    symbol: str
    order_id: str | None = None
    client_order_id: str | None = None


class GetOrderStatus(Command, frozen=True, kw_only=True):
    symbol: str
    order_id: str | None = None
    client_order_id: str | None = None


class GetOrders(Command, frozen=True, kw_only=True):
    """Open orders (``open_only``) or recent orders of any state, for one symbol or all."""

    symbol: str | None = None
    open_only: bool = True


class GetFills(Command, frozen=True, kw_only=True):
    symbol: str
    since: UtcDatetime | None = None
    limit: int = 500


class GetLeverageInfo(Command, frozen=True, kw_only=True):
    symbol: str


class SetLeverage(Command, frozen=True, kw_only=True):
    symbol: str
    leverage: Decimal


class StreamChannel(StrEnum):
    """Public channels a strategy can subscribe to; a venue that does not stream one refuses it typed."""

    TICKER = "ticker"
    TRADES = "trades"
    CANDLES = "candles"
    BOOK = "book"
    FUNDING = "funding"  # perpetual swaps' funding rate
    MARK_PRICE = "mark_price"
    OPEN_INTEREST = "open_interest"


class Subscribe(Command, frozen=True, kw_only=True):
    """Ask the venue's public stream for these symbols and channels (kept across reconnects)."""

    symbols: list[str]
    channels: list[StreamChannel] = msgspec.field(default_factory=lambda: [StreamChannel.TICKER])


class Unsubscribe(Command, frozen=True, kw_only=True):
    symbols: list[str]
    channels: list[StreamChannel] = msgspec.field(default_factory=lambda: list(StreamChannel))  # all of them


# ----------------------------------------------------- contract extensions (design §11)
# What only some venues do. Every venue answers each of them; those that cannot answer NotSupported.


class AmendOrder(Command, frozen=True, kw_only=True):
    """Change a live order in place (OKX amend, Alpaca replace); None leaves a field as it is."""

    symbol: str
    order_id: str | None = None
    client_order_id: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    new_client_order_id: str | None = None  # venues that replace (Alpaca) give the new order this id


class CancelAllOrders(Command, frozen=True, kw_only=True):
    """Cancel every open order (of one symbol, or all); the reply lists what was cancelled."""

    symbol: str | None = None


class CancelAllAfter(Command, frozen=True, kw_only=True):
    """Dead man's switch: cancel every open order unless re-armed within ``seconds`` (0 disarms)."""

    seconds: int


class ClosePosition(Command, frozen=True, kw_only=True):
    """Flatten a position (all of it, or ``quantity`` base units) with a reduce-only market order."""

    symbol: str
    quantity: Decimal | None = None
    client_order_id: str | None = None


class GetHistoricalCandles(Command, frozen=True, kw_only=True):
    """Candles from ``start`` to ``end`` (default now), oldest first, paged back in time by the broker
    within the venue's rate limits; ``limit`` bounds the total."""

    symbol: str
    interval: str = "1m"
    start: UtcDatetime
    end: UtcDatetime | None = None
    limit: int = 50_000


class GetTrades(Command, frozen=True, kw_only=True):
    """Public trades, oldest first: the most recent ``limit``, or those from ``start`` (paged)."""

    symbol: str
    limit: int = 100
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None


class GetFundingRate(Command, frozen=True, kw_only=True):
    symbol: str


class GetFundingHistory(Command, frozen=True, kw_only=True):
    symbol: str
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None
    limit: int = 100


class GetMarkPrice(Command, frozen=True, kw_only=True):
    symbol: str


class GetOpenInterest(Command, frozen=True, kw_only=True):
    symbol: str


class GetMarketClock(Command, frozen=True, kw_only=True):
    pass


class GetMarketCalendar(Command, frozen=True, kw_only=True):
    start: date
    end: date


class GetEarnStrategies(Command, frozen=True, kw_only=True):
    asset: str | None = None


class GetEarnAllocations(Command, frozen=True, kw_only=True):
    pass


class EarnAllocate(Command, frozen=True, kw_only=True):
    strategy_id: str
    amount: Decimal


class EarnDeallocate(Command, frozen=True, kw_only=True):
    strategy_id: str
    amount: Decimal


class GetEarnStatus(Command, frozen=True, kw_only=True):
    """Whether the last allocation (or deallocation) of ``strategy_id`` is still being processed."""

    strategy_id: str
    deallocation: bool = False


CommandMsg = (
    GetInstruments | GetBalance | GetBalances | GetAccountInfo | GetTicker | GetCandles | GetPositions
    | GetPosition | PlaceOrder | CancelOrder | GetOrderStatus | GetOrders | GetFills | GetLeverageInfo
    | SetLeverage | Subscribe | Unsubscribe
    | AmendOrder | CancelAllOrders | CancelAllAfter | ClosePosition | GetHistoricalCandles | GetTrades
    | GetFundingRate | GetFundingHistory | GetMarkPrice | GetOpenInterest | GetMarketClock | GetMarketCalendar
    | GetEarnStrategies | GetEarnAllocations | EarnAllocate | EarnDeallocate | GetEarnStatus
)

# ---------------------------------------------------------------------------------------- replies


class Reply(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    id: str


class InstrumentsReply(Reply, frozen=True, kw_only=True):
    instruments: list[Instrument]


class BalanceReply(Reply, frozen=True, kw_only=True):
    balance: Balance


class BalancesReply(Reply, frozen=True, kw_only=True):
    balances: list[Balance]


class AccountInfoReply(Reply, frozen=True, kw_only=True):
    account: AccountInfo


class TickerReply(Reply, frozen=True, kw_only=True):
    ticker: Ticker


class CandlesReply(Reply, frozen=True, kw_only=True):
    candles: list[Candle]


class PositionsReply(Reply, frozen=True, kw_only=True):
    positions: list[Position]


class PositionReply(Reply, frozen=True, kw_only=True):
    position: Position


class OrderReply(Reply, frozen=True, kw_only=True):
    order: Order


class OrdersReply(Reply, frozen=True, kw_only=True):
    orders: list[Order]


class FillsReply(Reply, frozen=True, kw_only=True):
    fills: list[Fill]


class LeverageReply(Reply, frozen=True, kw_only=True):
    leverage: LeverageInfo


class AckReply(Reply, frozen=True, kw_only=True):
    pass


class ErrorReply(Reply, frozen=True, kw_only=True):
    error: ErrorInfo


class TradesReply(Reply, frozen=True, kw_only=True):
    trades: list[Trade]


class DeadManSwitchReply(Reply, frozen=True, kw_only=True):
    trigger_at: UtcDatetime | None  # None: disarmed


class FundingRateReply(Reply, frozen=True, kw_only=True):
    funding: FundingRate


class FundingHistoryReply(Reply, frozen=True, kw_only=True):
    rates: list[FundingRate]


class MarkPriceReply(Reply, frozen=True, kw_only=True):
    mark: MarkPrice


class OpenInterestReply(Reply, frozen=True, kw_only=True):
    open_interest: OpenInterest


class MarketClockReply(Reply, frozen=True, kw_only=True):
    clock: MarketClock


class MarketCalendarReply(Reply, frozen=True, kw_only=True):
    days: list[MarketDay]


class EarnStrategiesReply(Reply, frozen=True, kw_only=True):
    strategies: list[EarnStrategy]


class EarnAllocationsReply(Reply, frozen=True, kw_only=True):
    allocations: list[EarnAllocation]


class EarnStatusReply(Reply, frozen=True, kw_only=True):
    strategy_id: str
    pending: bool  # True while the venue is still processing the (de)allocation


ReplyMsg = (
    InstrumentsReply | BalanceReply | BalancesReply | AccountInfoReply | TickerReply | CandlesReply
    | PositionsReply | PositionReply | OrderReply | OrdersReply | FillsReply | LeverageReply | AckReply
    | ErrorReply
    | TradesReply | DeadManSwitchReply | FundingRateReply | FundingHistoryReply | MarkPriceReply
    | OpenInterestReply | MarketClockReply | MarketCalendarReply | EarnStrategiesReply | EarnAllocationsReply
    | EarnStatusReply
)

# ----------------------------------------------------------------------------------------- events


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


class BrokerStatus(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """A venue's state: supervisor transitions, and changes a connected venue reports about itself.

    ``next_delay`` is the backoff (seconds) before the next attempt. ``market_data_degraded``: a public
    socket is down and re-opening on its own (its prices are stale) while orders and the private stream
    carry on. ``unknown_symbols``: configured or subscribed symbols the venue does not list.
    ``session`` / ``next_session_change``: where a venue with trading hours stands (stocks).
    """

    venue: str
    state: ConnectionState
    attempt: int = 0
    next_delay: float | None = None
    reason: str | None = None
    permanent: bool = False
    timestamp: UtcDatetime
    market_data_degraded: bool = False
    unknown_symbols: list[str] = msgspec.field(default_factory=list)
    session: MarketSession | None = None
    next_session_change: UtcDatetime | None = None


EventMsg = (
    Ticker | Trade | Candle | OrderBook | Order | Fill | Balance | Position | BrokerStatus
    | FundingRate | MarkPrice | OpenInterest | MarketClock | MarginAlert | EarnAllocation
)


class EventKind(StrEnum):
    """Names subscribers filter on; market data may be dropped (oldest first) for a slow subscriber."""

    TICKER = "ticker"
    TRADE = "trade"
    CANDLE = "candle"
    BOOK = "book"
    ORDER = "order"
    FILL = "fill"
    BALANCE = "balance"
    POSITION = "position"
    STATUS = "status"
    FUNDING = "funding"
    MARK_PRICE = "mark_price"
    OPEN_INTEREST = "open_interest"
    CLOCK = "clock"
    MARGIN = "margin"
    EARN = "earn"

    @property
    def droppable(self) -> bool:
        return self in _DROPPABLE


_DROPPABLE = frozenset({EventKind.TICKER, EventKind.TRADE, EventKind.CANDLE, EventKind.BOOK, EventKind.FUNDING,
                        EventKind.MARK_PRICE, EventKind.OPEN_INTEREST, EventKind.CLOCK})

EVENT_KIND: Final[dict[type, EventKind]] = {
    Ticker: EventKind.TICKER,
    Trade: EventKind.TRADE,
    Candle: EventKind.CANDLE,
    OrderBook: EventKind.BOOK,
    Order: EventKind.ORDER,
    Fill: EventKind.FILL,
    Balance: EventKind.BALANCE,
    Position: EventKind.POSITION,
    BrokerStatus: EventKind.STATUS,
    FundingRate: EventKind.FUNDING,
    MarkPrice: EventKind.MARK_PRICE,
    OpenInterest: EventKind.OPEN_INTEREST,
    MarketClock: EventKind.CLOCK,
    MarginAlert: EventKind.MARGIN,
    EarnAllocation: EventKind.EARN,
}


def event_kind(event: EventMsg) -> EventKind:
    return EVENT_KIND[type(event)]


def event_symbol(event: EventMsg) -> str | None:
    return getattr(event, "symbol", None)


# ------------------------------------------------------------------------------------------ codec

_encoder = msgspec.json.Encoder(decimal_format="string")
_command_decoder = msgspec.json.Decoder(CommandMsg)
_reply_decoder = msgspec.json.Decoder(ReplyMsg)
_event_decoder = msgspec.json.Decoder(EventMsg)
_any_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(CommandMsg | ReplyMsg | EventMsg)


def encode(message: msgspec.Struct) -> bytes:
    return _encoder.encode(message)


def decode_command(data: bytes | str) -> CommandMsg:
    return _command_decoder.decode(data)  # type: ignore[no-any-return]


def decode_reply(data: bytes | str) -> ReplyMsg:
    return _reply_decoder.decode(data)  # type: ignore[no-any-return]


def decode_event(data: bytes | str) -> EventMsg:
    return _event_decoder.decode(data)  # type: ignore[no-any-return]


def decode_message(data: bytes | str) -> CommandMsg | ReplyMsg | EventMsg:
    return _any_decoder.decode(data)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------- control API
# The daemon's websocket: ``Hello`` first, then venue commands (answered by id), watches (events) and
# the daemon-level requests below. Anything the server cannot read is answered by an `ErrorReply`
# carrying the request's id whenever one could be read.


class Hello(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """First message on the daemon's control websocket; the token guards the API."""

    token: str


class Welcome(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """The answer to a good `Hello`: the venues and where each stands right now."""

    venues: list[str]
    statuses: list[BrokerStatus] = msgspec.field(default_factory=list)
    kill_switch: str | None = None  # the reason while engaged


class Watch(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """Stream events matching these filters to this control connection (None = everything).

    With an ``id`` the server acknowledges (`AckReply` with that id) once the watch is live, wraps
    each event in a `WatchEvent` naming it, and ends it on `Unwatch`; a watch that falls too far
    behind on orders and fills ends with an `ErrorReply` (SubscriberOverflow) under its id. Without
    an id, events come bare and an overflow ends the connection."""

    id: str | None = None
    venues: list[str] | None = None
    symbols: list[str] | None = None
    kinds: list[EventKind] | None = None


class Unwatch(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    id: str


class WatchEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    watch: str
    event: EventMsg


class KillSwitch(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """Engage (block new orders, cancel open ones: `OrdersReply`) or release (`AckReply`)."""

    id: str
    engage: bool
    reason: str = "manual"


class GetDaemonStatus(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    id: str


class DaemonStatusReply(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """What an operator asks first: every venue's status, the kill switch, the daemon's sessions."""

    id: str
    venues: list[BrokerStatus]
    kill_switch: str | None = None
    sessions: int = 0
    started_at: UtcDatetime | None = None
    journal: str | None = None
    shutting_down: bool = False


ControlMsg = Hello | Watch | Unwatch | KillSwitch | GetDaemonStatus
_control_decoder = msgspec.json.Decoder(ControlMsg | CommandMsg)


def decode_control(data: bytes | str) -> ControlMsg | CommandMsg:
    return _control_decoder.decode(data)  # type: ignore[no-any-return]


ControlReplyMsg = Welcome | ReplyMsg | EventMsg | WatchEvent | DaemonStatusReply
_control_reply_decoder = msgspec.json.Decoder(ControlReplyMsg)


def decode_control_reply(data: bytes | str) -> ControlReplyMsg:
    return _control_reply_decoder.decode(data)  # type: ignore[no-any-return]


class _RequestId(msgspec.Struct):
    id: str | None = None


def request_id(data: bytes | str) -> str:
    """The ``id`` of a message that does not decode as a whole ("" when even that cannot be read)."""
    try:
        found = msgspec.json.decode(data, type=_RequestId).id
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ""
    return found or ""
