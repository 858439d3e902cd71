"""Commands, replies and events: everything that moves between the router, broker actors and clients.

All three are tagged msgspec unions (the tag is the class name under ``"kind"``), so one JSON codec
serves the in-process channels' debugging, the daemon's control API and the tests. A command carries a
correlation ``id``; its reply carries the same id and is either the result Struct or an `ErrorReply`.
Events are the model Structs themselves (`Ticker`, `Fill`, …) plus `BrokerStatus`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

import msgspec

from protocol.errors import ErrorInfo
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    Fill,
    Instrument,
    LeverageInfo,
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
    TICKER = "ticker"
    TRADES = "trades"
    CANDLES = "candles"
    BOOK = "book"


class Subscribe(Command, frozen=True, kw_only=True):
    """Ask the venue's public stream for these symbols and channels (kept across reconnects)."""

    symbols: list[str]
    channels: list[StreamChannel] = msgspec.field(default_factory=lambda: [StreamChannel.TICKER])


class Unsubscribe(Command, frozen=True, kw_only=True):
    symbols: list[str]
    channels: list[StreamChannel] = msgspec.field(default_factory=lambda: list(StreamChannel))


CommandMsg = (
    GetInstruments | GetBalance | GetBalances | GetAccountInfo | GetTicker | GetCandles | GetPositions
    | GetPosition | PlaceOrder | CancelOrder | GetOrderStatus | GetOrders | GetFills | GetLeverageInfo
    | SetLeverage | Subscribe | Unsubscribe
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


ReplyMsg = (
    InstrumentsReply | BalanceReply | BalancesReply | AccountInfoReply | TickerReply | CandlesReply
    | PositionsReply | PositionReply | OrderReply | OrdersReply | FillsReply | LeverageReply | AckReply
    | ErrorReply
)

# ----------------------------------------------------------------------------------------- events


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


class BrokerStatus(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """A supervisor transition. ``next_delay`` is the backoff (seconds) before the next attempt."""

    venue: str
    state: ConnectionState
    attempt: int = 0
    next_delay: float | None = None
    reason: str | None = None
    permanent: bool = False
    timestamp: UtcDatetime


EventMsg = Ticker | Trade | Candle | OrderBook | Order | Fill | Balance | Position | BrokerStatus


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

    @property
    def droppable(self) -> bool:
        return self in _DROPPABLE


_DROPPABLE = frozenset({EventKind.TICKER, EventKind.TRADE, EventKind.CANDLE, EventKind.BOOK})

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


class Hello(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """First message on the daemon's control websocket; the token guards the API."""

    token: str


class Welcome(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    venues: list[str]


class Watch(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """Stream events matching these filters to this control connection (None = everything)."""

    venues: list[str] | None = None
    symbols: list[str] | None = None
    kinds: list[EventKind] | None = None


ControlMsg = Hello | Watch
_control_decoder = msgspec.json.Decoder(ControlMsg | CommandMsg)


def decode_control(data: bytes | str) -> Hello | Watch | CommandMsg:
    return _control_decoder.decode(data)  # type: ignore[no-any-return]


_control_reply_decoder = msgspec.json.Decoder(Welcome | ReplyMsg | EventMsg)


def decode_control_reply(data: bytes | str) -> Welcome | ReplyMsg | EventMsg:
    return _control_reply_decoder.decode(data)  # type: ignore[no-any-return]
