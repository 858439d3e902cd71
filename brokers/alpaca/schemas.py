"""Alpaca JSON as msgspec Structs, field names as in Alpaca's documentation; decoded once at the edge.

Trading API numbers arrive as JSON strings ("174.78") and market data numbers as JSON numbers (174.78);
both decode into `Decimal` exactly (msgspec parses the digits, never a float). Timestamps are RFC 3339,
sometimes with a New York offset ("2022-04-19T13:45:04.98-04:00") and nanoseconds (msgspec keeps
microseconds); `mapping` converts them to UTC.

Alpaca answers failures with an HTTP status >= 400 and a body ``{"code": 40010001, "message": ...}``
(market data: ``{"message": ...}`` only); a 2xx answer never carries an error, so REST bodies decode
straight into their Struct and `errors.map_error` serves the error path. The two websockets speak
different dialects: `decode_trading_message` and `decode_data_frame` turn a frame into typed messages
and raise the typed error of an error frame before anything else is read.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from brokers.alpaca.constants import VENUE
from brokers.alpaca.errors import data_stream_error, trading_stream_error
from protocol.errors import ProtocolViolation

# --- trading API ------------------------------------------------------------------------------------


class Asset(msgspec.Struct, rename={"asset_class": "class"}):
    """GET /v2/assets[/{symbol}]. Crypto assets add the three increments; stocks omit them."""

    id: str
    asset_class: str  # us_equity, us_option, crypto
    exchange: str
    symbol: str
    status: str  # active, inactive
    tradable: bool
    marginable: bool
    shortable: bool
    easy_to_borrow: bool
    fractionable: bool
    name: str = ""
    cusip: str | None = None
    min_order_size: Decimal | None = None
    min_trade_increment: Decimal | None = None
    price_increment: Decimal | None = None
    maintenance_margin_requirement: Decimal | None = None  # deprecated for margin_requirement_long/short
    margin_requirement_long: Decimal | None = None
    margin_requirement_short: Decimal | None = None
    attributes: builtins.list[str] | None = None


class Order(msgspec.Struct):
    """An order as every order endpoint and the ``trade_updates`` stream carry it.

    ``qty`` is null for a notional order (and ``notional`` null for a quantity order); ``order_class``
    may be ``""`` (simple); ``legs`` holds the child orders of a bracket/OCO/OTO when asked ``nested``.
    """

    id: str
    client_order_id: str
    created_at: datetime
    symbol: str
    side: str
    type: str
    time_in_force: str
    status: str
    filled_qty: Decimal
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    filled_at: datetime | None = None
    expired_at: datetime | None = None
    canceled_at: datetime | None = None
    failed_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    asset_id: str | None = None
    asset_class: str | None = None
    notional: Decimal | None = None
    qty: Decimal | None = None
    filled_avg_price: Decimal | None = None
    order_class: str = ""
    order_type: str | None = None  # deprecated duplicate of ``type``
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    extended_hours: bool = False
    legs: builtins.list[Order] | None = None
    trail_percent: Decimal | None = None
    trail_price: Decimal | None = None
    hwm: Decimal | None = None
    position_intent: str | None = None
    expires_at: datetime | None = None


class CancelResult(msgspec.Struct):
    """One row of DELETE /v2/orders (HTTP 207): the order id and the HTTP status of its cancel."""

    id: str
    status: int
    body: dict[str, Any] | None = None


class Account(msgspec.Struct):
    """GET /v2/account. ``pattern_day_trader``, ``daytrade_count`` and ``daytrading_buying_power`` were
    removed from the answer on 2026-07-06 (FINRA retired the PDT rule on 2026-06-04), so they are optional."""

    id: str
    status: str
    account_number: str = ""
    currency: str = "USD"
    cash: Decimal | None = None
    buying_power: Decimal | None = None
    regt_buying_power: Decimal | None = None
    daytrading_buying_power: Decimal | None = None
    non_marginable_buying_power: Decimal | None = None
    options_buying_power: Decimal | None = None
    equity: Decimal | None = None
    last_equity: Decimal | None = None
    portfolio_value: Decimal | None = None  # deprecated, equal to equity
    long_market_value: Decimal | None = None
    short_market_value: Decimal | None = None
    initial_margin: Decimal | None = None
    maintenance_margin: Decimal | None = None
    last_maintenance_margin: Decimal | None = None
    sma: Decimal | None = None
    multiplier: Decimal | None = None
    accrued_fees: Decimal | None = None
    pending_transfer_in: Decimal | None = None
    pending_transfer_out: Decimal | None = None
    pattern_day_trader: bool | None = None
    daytrade_count: int | None = None
    shorting_enabled: bool | None = None
    trading_blocked: bool = False
    transfers_blocked: bool = False
    account_blocked: bool = False
    trade_suspended_by_user: bool = False
    created_at: datetime | None = None
    balance_asof: str | None = None


class Position(msgspec.Struct):
    """GET /v2/positions[/{symbol}]. A short position has ``side`` "short" (and a negative ``qty``)."""

    symbol: str
    qty: Decimal
    side: str
    avg_entry_price: Decimal
    cost_basis: Decimal
    asset_id: str = ""
    exchange: str | None = ""
    asset_class: str = "us_equity"
    asset_marginable: bool | None = None
    qty_available: Decimal | None = None
    market_value: Decimal | None = None
    unrealized_pl: Decimal | None = None
    unrealized_plpc: Decimal | None = None
    unrealized_intraday_pl: Decimal | None = None
    unrealized_intraday_plpc: Decimal | None = None
    current_price: Decimal | None = None
    lastday_price: Decimal | None = None
    change_today: Decimal | None = None


class Clock(msgspec.Struct):
    """GET /v2/clock; timestamps carry the New York offset."""

    timestamp: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


class CalendarDay(msgspec.Struct):
    """One row of GET /v2/calendar, New York wall clock.

    ``open``/``close`` are "HH:MM"; the documented example writes ``session_open``/``session_close``
    (extended hours) as "HHMM" ("0700"), so `session` accepts both forms.
    """

    date: str  # "%Y-%m-%d"
    open: str
    close: str
    session_open: str | None = None
    session_close: str | None = None
    settlement_date: str | None = None


class FillActivity(msgspec.Struct):
    """A FILL row of GET /v2/account/activities/FILL. ``id`` ("<time>::<uuid>") is the page token.

    Carries no client order id and no fee: fees are separate activities (e.g. ``FEE``, ``PTC``).
    """

    id: str
    activity_type: str
    transaction_time: datetime
    type: str  # fill, partial_fill
    price: Decimal
    qty: Decimal
    side: str
    symbol: str
    leaves_qty: Decimal
    order_id: str
    cum_qty: Decimal
    order_status: str = ""


# --- market data API --------------------------------------------------------------------------------


class Bar(msgspec.Struct):
    t: datetime
    o: Decimal
    h: Decimal
    l: Decimal  # noqa: E741 - Alpaca's field name
    c: Decimal
    v: Decimal
    n: int | None = None
    vw: Decimal | None = None


class BarsPage(msgspec.Struct):
    """GET /v2/stocks/{symbol}/bars: ``bars`` may be null for an empty range."""

    symbol: str
    bars: builtins.list[Bar] | None = None
    next_page_token: str | None = None
    currency: str | None = None


class StockTrade(msgspec.Struct):
    """A trade print of the Market Data REST API (``t`` time, ``p`` price, ``s`` size, ``i`` id, ``x`` exchange)."""

    t: datetime
    p: Decimal
    s: Decimal
    i: int | None = None
    x: str = ""
    c: builtins.list[str] | None = None
    z: str = ""


class StockQuote(msgspec.Struct, rename={"ask_size": "as"}):
    t: datetime
    bp: Decimal
    ap: Decimal
    bs: Decimal
    ask_size: Decimal
    bx: str = ""
    ax: str = ""
    c: builtins.list[str] | None = None
    z: str = ""


class TradesPage(msgspec.Struct):
    """GET /v2/stocks/{symbol}/trades: ``trades`` may be null for an empty range."""

    symbol: str
    trades: builtins.list[StockTrade] | None = None
    next_page_token: str | None = None


class LatestTrade(msgspec.Struct):
    symbol: str
    trade: StockTrade


class LatestQuote(msgspec.Struct):
    symbol: str
    quote: StockQuote


class Snapshot(msgspec.Struct):
    """GET /v2/stocks/{symbol}/snapshot (any part may be null for a symbol that has not traded)."""

    latestTrade: StockTrade | None = None
    latestQuote: StockQuote | None = None
    minuteBar: Bar | None = None
    dailyBar: Bar | None = None
    prevDailyBar: Bar | None = None
    symbol: str = ""


# --- trading stream (``/stream``) ---------------------------------------------------------------------


class Authorization(msgspec.Struct):
    """``{"stream": "authorization", "data": {"status": "authorized"|"unauthorized", "action": ...}}``."""

    status: str
    action: str = ""


class Listening(msgspec.Struct):
    """``{"stream": "listening", "data": {"streams": [...]}}``: the streams actually granted."""

    streams: builtins.list[str]


class TradeUpdate(msgspec.Struct):
    """``{"stream": "trade_updates", "data": {...}}``.

    Fill events (``fill``, ``partial_fill``) add this execution's ``price`` and ``qty`` and the position
    after it (``position_qty``, negative when short); ``execution_id`` is present on most events.
    """

    event: str
    order: Order
    timestamp: datetime | None = None
    execution_id: str | None = None
    price: Decimal | None = None
    qty: Decimal | None = None
    position_qty: Decimal | None = None


class _TradingFrame(msgspec.Struct):
    stream: str
    data: msgspec.Raw


TradingMessage = Authorization | Listening | TradeUpdate


def decode_trading_message(frame: bytes | str) -> TradingMessage:
    """One trading-stream frame (the paper stream sends binary frames, live text frames).

    An ``unauthorized`` answer raises `AuthenticationError`; an unknown stream or a malformed frame raises
    `ProtocolViolation`.
    """
    try:
        envelope = msgspec.json.decode(frame, type=_TradingFrame)
        match envelope.stream:
            case "authorization":
                authorization = msgspec.json.decode(envelope.data, type=Authorization)
                if authorization.status != "authorized":
                    raise trading_stream_error(authorization.status, authorization.action)
                return authorization
            case "listening":
                return msgspec.json.decode(envelope.data, type=Listening)
            case "trade_updates":
                return msgspec.json.decode(envelope.data, type=TradeUpdate)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise ProtocolViolation(f"unreadable Alpaca trading stream frame: {error}", venue=VENUE) from error
    raise ProtocolViolation(f"Alpaca trading stream sent unknown stream {envelope.stream!r}", venue=VENUE)


# --- market data stream (``/v2/{feed}``) ------------------------------------------------------------


class _DataMessage(msgspec.Struct, tag_field="T"):
    pass


class DataSuccess(_DataMessage, tag="success"):
    msg: str  # "connected", "authenticated"


class DataError(_DataMessage, tag="error"):
    code: int
    msg: str = ""


class DataSubscription(_DataMessage, tag="subscription"):
    """The whole current subscription list after every (un)subscribe."""

    trades: builtins.list[str] = []
    quotes: builtins.list[str] = []
    bars: builtins.list[str] = []
    updatedBars: builtins.list[str] = []
    dailyBars: builtins.list[str] = []
    statuses: builtins.list[str] = []
    lulds: builtins.list[str] = []
    corrections: builtins.list[str] = []
    cancelErrors: builtins.list[str] = []
    imbalances: builtins.list[str] = []


class DataTrade(_DataMessage, tag="t"):
    S: str
    p: Decimal
    s: Decimal
    t: datetime
    i: int | None = None
    x: str = ""
    c: builtins.list[str] | None = None
    z: str = ""


class DataQuote(_DataMessage, tag="q", rename={"ask_size": "as"}):
    S: str
    bp: Decimal
    bs: Decimal
    ap: Decimal
    ask_size: Decimal
    t: datetime
    bx: str = ""
    ax: str = ""
    c: builtins.list[str] | None = None
    z: str = ""


class _DataBarFields(_DataMessage):
    S: str
    o: Decimal
    h: Decimal
    l: Decimal  # noqa: E741 - Alpaca's field name
    c: Decimal
    v: Decimal
    t: datetime
    n: int | None = None
    vw: Decimal | None = None


class DataBar(_DataBarFields, tag="b"):
    """A minute bar, sent right after each minute for the minute before."""


class DataUpdatedBar(_DataBarFields, tag="u"):
    """A corrected minute bar (a late trade arrived after the bar went out)."""


class DataDailyBar(_DataBarFields, tag="d"):
    """The running daily bar, resent every minute after the open."""


class DataCorrection(_DataMessage, tag="c"):
    S: str
    t: datetime
    oi: int | None = None
    ci: int | None = None
    op: Decimal | None = None
    cp: Decimal | None = None
    os: Decimal | None = None
    cs: Decimal | None = None
    x: str = ""
    z: str = ""


class DataCancelError(_DataMessage, tag="x"):
    S: str
    t: datetime
    i: int | None = None
    p: Decimal | None = None
    s: Decimal | None = None
    a: str = ""  # "C" cancel, "E" error
    x: str = ""
    z: str = ""


class DataLuld(_DataMessage, tag="l"):
    S: str
    t: datetime
    u: Decimal | None = None
    d: Decimal | None = None
    i: str = ""
    z: str = ""


class DataStatus(_DataMessage, tag="s"):
    S: str
    t: datetime
    sc: str = ""
    sm: str = ""
    rc: str = ""
    rm: str = ""
    z: str = ""


class DataImbalance(_DataMessage, tag="i"):
    S: str
    t: datetime
    p: Decimal | None = None
    z: str = ""


DataMessage = (DataSuccess | DataError | DataSubscription | DataTrade | DataQuote | DataBar | DataUpdatedBar
               | DataDailyBar | DataCorrection | DataCancelError | DataLuld | DataStatus | DataImbalance)
_DATA_FRAME = msgspec.json.Decoder(builtins.list[DataMessage])


def decode_data_frame(frame: bytes | str) -> builtins.list[DataMessage]:
    """One market-data frame: a JSON array of messages. An error message raises its typed error
    (`errors.DATA_STREAM_ERRORS`) before the rest of the frame is used; unknown types raise
    `ProtocolViolation`."""
    try:
        messages = _DATA_FRAME.decode(frame)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise ProtocolViolation(f"unreadable Alpaca data stream frame: {error}", venue=VENUE) from error
    for message in messages:
        if isinstance(message, DataError):
            raise data_stream_error(message.code, message.msg)
    return messages
