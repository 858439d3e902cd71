"""Kraken spot JSON (REST and websocket v2) as msgspec Structs, decoded once at the edge.

Field names are Kraken's own. REST numbers arrive as strings (``"30300.10000"``) and the websocket v2
sends JSON numbers carrying the engine's full precision (``0.10000000``); both decode into `Decimal`
exactly (msgspec keeps the number's text, so the book checksum can be computed from it). Times are
Unix seconds with a fraction (REST ``opentm``: kept `Decimal`, converted exactly by `mapping`) or
RFC3339 strings (websocket ``timestamp``).

Every REST answer is the envelope ``{"error": [...], "result": ...}``; `decode_answer` reads the
``error`` array first and raises the typed error (`errors.raise_for_errors`) before any field of
``result`` is read, so a failure is never mistaken for an empty result.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Generic, TypeVar

import msgspec

from brokers.kraken.constants import VENUE
from brokers.kraken.errors import raise_for_errors
from protocol.errors import ProtocolViolation

T = TypeVar("T")


# --- the REST envelope ---------------------------------------------------------------------------------

class Envelope(msgspec.Struct, Generic[T]):
    result: T
    error: list[str] = []


class _ErrorsOnly(msgspec.Struct):
    error: list[str] = []


_errors_only = msgspec.json.Decoder(_ErrorsOnly)


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    """One decoder per result type (building a decoder is the costly part)."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        decoder = _DECODERS[kind] = msgspec.json.Decoder(Envelope[kind])  # type: ignore[valid-type]
    return decoder


def decode_answer(body: bytes, kind: type[T], *, now_s: float | None = None) -> T:
    """The ``result`` of a REST answer as ``kind``, after raising the typed error of its ``error`` array."""
    try:
        raise_for_errors(_errors_only.decode(body).error, now_s=now_s)
        envelope: Envelope[T] = _decoder(kind).decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise ProtocolViolation(f"Kraken answered something unreadable: {error}", venue=VENUE) from error
    return envelope.result


# --- public market data ------------------------------------------------------------------------------

class ServerTime(msgspec.Struct):
    unixtime: int
    rfc1123: str


class SystemStatus(msgspec.Struct):
    status: str  # online, maintenance, cancel_only, post_only
    timestamp: str


class AssetInfo(msgspec.Struct):
    """One row of Assets, keyed by Kraken's asset name (``XXBT``, ``ZUSD``, ``DOT``)."""

    altname: str  # XBT, USD, DOT
    aclass: str = "currency"
    decimals: int = 8
    display_decimals: int = 8
    collateral_value: Decimal | None = None
    margin_rate: Decimal | None = None
    status: str | None = None  # enabled, deposit_only, withdrawal_only, funding_temporarily_disabled


class AssetPair(msgspec.Struct):
    """One row of AssetPairs, keyed by the REST pair name (``XXBTZUSD``)."""

    altname: str  # XBTUSD
    base: str  # XXBT (an Assets key)
    quote: str  # ZUSD
    pair_decimals: int
    lot_decimals: int
    wsname: str | None = None  # XBT/USD (websocket v1 name); absent for dark-pool pairs
    aclass_base: str = "currency"
    aclass_quote: str = "currency"
    lot: str = "unit"
    cost_decimals: int | None = None
    lot_multiplier: int = 1
    leverage_buy: list[Decimal] = []
    leverage_sell: list[Decimal] = []
    fees: list[tuple[Decimal, Decimal]] = []  # empty since 2026-09-08 (use TradeVolume)
    fees_maker: list[tuple[Decimal, Decimal]] = []
    fee_volume_currency: str | None = None
    margin_call: int | None = None  # margin level (%) of a margin call
    margin_stop: int | None = None  # margin level (%) of liquidation
    ordermin: Decimal | None = None  # minimum order volume, base currency
    costmin: Decimal | None = None  # minimum order cost, quote currency
    tick_size: Decimal | None = None
    status: str | None = None  # online, cancel_only, post_only, limit_only, reduce_only
    long_position_limit: int | None = None
    short_position_limit: int | None = None
    execution_venue: str | None = None  # international, bitnomial_exchange (2026-04-27)


class TickerInfo(msgspec.Struct):
    """Ticker: a/b = [price, whole lot volume, lot volume]; c = [price, lot volume]; v/p/l/h = [today, 24h]."""

    a: tuple[Decimal, Decimal, Decimal]
    b: tuple[Decimal, Decimal, Decimal]
    c: tuple[Decimal, Decimal]
    v: tuple[Decimal, Decimal]
    p: tuple[Decimal, Decimal]
    t: tuple[int, int]
    l: tuple[Decimal, Decimal]  # noqa: E741 - Kraken's field name
    h: tuple[Decimal, Decimal]
    o: Decimal


OhlcRow = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, int]
"""[time, open, high, low, close, vwap, volume, count]; the last row is the still-open candle."""
OhlcResult = dict[str, list[OhlcRow] | int]
"""``{"XXBTZUSD": [rows...], "last": 1688672160}``: ``last`` is the ``since`` of the next poll."""

TradeRow = tuple[Decimal, Decimal, Decimal, str, str, str, int]
"""Recent trades: [price, volume, time, b|s, m|l (market/limit), misc, trade_id]."""
TradesResult = dict[str, list[TradeRow] | str]

DepthLevel = tuple[Decimal, Decimal, int]  # [price, volume, timestamp]


class DepthBook(msgspec.Struct):
    asks: list[DepthLevel]
    bids: list[DepthLevel]


# --- account -------------------------------------------------------------------------------------------

class BalanceExEntry(msgspec.Struct):
    """BalanceEx: total ``balance`` and what open orders hold (``hold_trade``); credit for some accounts."""

    balance: Decimal
    hold_trade: Decimal = Decimal(0)
    credit: Decimal | None = None
    credit_used: Decimal | None = None


class TradeBalance(msgspec.Struct):
    """TradeBalance, in the requested asset (ZUSD by default).

    eb: equivalent balance (all currencies); tb: trade balance (equity currencies); m: margin used by
    open positions; n: unrealised net P&L; c: cost basis of positions; v: current floating value;
    e: equity (tb + n); mf: free margin (e - m); ml: margin level ((e / m) x 100, absent without
    positions); uv: unexecuted value.
    """

    eb: Decimal
    tb: Decimal
    m: Decimal
    n: Decimal
    c: Decimal
    v: Decimal
    e: Decimal
    mf: Decimal
    ml: Decimal | None = None
    uv: Decimal | None = None


class OrderDescription(msgspec.Struct):
    pair: str  # the altname (XBTUSD)
    type: str  # buy | sell
    ordertype: str  # market, limit, iceberg, stop-loss, take-profit, ..., settle-position
    price: Decimal = Decimal(0)  # limit or trigger price
    price2: Decimal = Decimal(0)
    leverage: str = "none"  # "none" or "5:1"
    order: str = ""
    close: str = ""


class OrderInfo(msgspec.Struct):
    """One order of OpenOrders / ClosedOrders / QueryOrders (keyed by txid)."""

    status: str  # pending, open, closed, canceled, expired
    opentm: Decimal
    descr: OrderDescription
    vol: Decimal
    vol_exec: Decimal
    cost: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    price: Decimal = Decimal(0)  # average execution price
    stopprice: Decimal = Decimal(0)
    limitprice: Decimal = Decimal(0)
    refid: str | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    starttm: Decimal = Decimal(0)
    expiretm: Decimal = Decimal(0)
    closetm: Decimal | None = None
    reason: str | None = None
    misc: str = ""
    oflags: str = ""  # post, fcib, fciq, nompp, viqc
    trigger: str | None = None
    margin: bool | None = None
    amended: bool | None = None
    trades: list[str] | None = None


class OpenOrdersResult(msgspec.Struct):
    open: dict[str, OrderInfo]


class ClosedOrdersResult(msgspec.Struct):
    closed: dict[str, OrderInfo]
    count: int  # all matching orders: page with ofs until ofs >= count


class TradeInfo(msgspec.Struct):
    """One of our fills (TradesHistory / QueryTrades, keyed by trade txid)."""

    ordertxid: str
    pair: str  # the REST name (XXBTZUSD)
    time: Decimal
    type: str
    ordertype: str
    price: Decimal
    cost: Decimal
    fee: Decimal
    vol: Decimal
    margin: Decimal = Decimal(0)
    postxid: str | None = None
    leverage: str | None = None
    misc: str = ""
    trade_id: int | None = None
    maker: bool | None = None
    ledgers: list[str] | None = None
    posstatus: str | None = None  # margin: the position this trade opened or closed


class TradesHistoryResult(msgspec.Struct):
    trades: dict[str, TradeInfo]
    count: int


class OpenPosition(msgspec.Struct):
    """One open margin position (OpenPositions, keyed by position txid).

    ``cost`` is what opening ``vol`` cost in the quote currency; ``value`` (current value of the
    remaining volume) and ``net`` (unrealised P&L, signed, in the quote currency) come with
    ``docalcs=true``.
    """

    ordertxid: str
    pair: str
    time: Decimal
    type: str  # buy = long, sell = short
    ordertype: str
    cost: Decimal
    fee: Decimal
    vol: Decimal
    vol_closed: Decimal
    margin: Decimal
    posstatus: str = "open"
    value: Decimal | None = None
    net: Decimal | None = None
    terms: str | None = None  # rollover terms, "0.0100% per 4 hours"
    rollovertm: str | None = None
    misc: str = ""
    oflags: str = ""


class AddOrderDescr(msgspec.Struct):
    order: str
    close: str | None = None


class AddOrderResult(msgspec.Struct):
    """``txid`` is absent when ``validate=true``: Kraken checked the order and placed nothing."""

    descr: AddOrderDescr
    txid: list[str] = []


class CancelOrderResult(msgspec.Struct):
    count: int
    pending: bool | None = None


class CancelAllResult(msgspec.Struct):
    count: int


class CancelAllOrdersAfterResult(msgspec.Struct):
    """``triggerTime`` is ``"0"`` when the switch was disarmed (timeout 0)."""

    currentTime: str
    triggerTime: str


class AmendOrderResult(msgspec.Struct):
    amend_id: str


class WebSocketsToken(msgspec.Struct):
    token: str
    expires: int  # seconds the token may wait before opening a connection


# --- Earn -----------------------------------------------------------------------------------------------

class EarnLockType(msgspec.Struct):
    """``type``: flex, bonded, timed or instant; periods in seconds."""

    type: str
    payout_frequency: int | None = None
    bonding_period: int | None = None
    bonding_period_variable: bool | None = None
    bonding_rewards: bool | None = None
    unbonding_period: int | None = None
    unbonding_period_variable: bool | None = None
    unbonding_rewards: bool | None = None
    exit_queue_period: int | None = None
    duration: int | None = None  # timed strategies: the term


class AprEstimate(msgspec.Struct):
    low: Decimal
    high: Decimal


class EarnTyped(msgspec.Struct):
    type: str


class EarnStrategy(msgspec.Struct):
    id: str
    asset: str
    lock_type: EarnLockType
    can_allocate: bool = True
    can_deallocate: bool = True
    apr_estimate: AprEstimate | None = None
    user_min_allocation: Decimal | None = None
    user_cap: Decimal | None = None
    allocation_fee: Decimal | None = None
    deallocation_fee: Decimal | None = None
    auto_compound: EarnTyped | None = None
    yield_source: EarnTyped | None = None
    allocation_restriction_info: list[str] = []


class EarnStrategies(msgspec.Struct):
    items: list[EarnStrategy]
    next_cursor: str | None = None


class EarnAmount(msgspec.Struct):
    native: Decimal
    converted: Decimal | None = None
    allocation_count: int | None = None


class EarnAmountAllocated(msgspec.Struct):
    total: EarnAmount
    bonding: EarnAmount | None = None
    exit_queue: EarnAmount | None = None
    pending: EarnAmount | None = None
    unbonding: EarnAmount | None = None


class EarnAllocationItem(msgspec.Struct):
    strategy_id: str
    native_asset: str
    amount_allocated: EarnAmountAllocated
    total_rewarded: EarnAmount


class EarnAllocations(msgspec.Struct):
    items: list[EarnAllocationItem]
    converted_asset: str | None = None
    total_allocated: Decimal | None = None
    total_rewarded: Decimal | None = None
    next_cursor: str | None = None


class EarnOperationStatus(msgspec.Struct):
    """AllocateStatus / DeallocateStatus: ``pending`` until Kraken has finished the last request."""

    pending: bool


# --- websocket v2 ---------------------------------------------------------------------------------------

class WsHeader(msgspec.Struct):
    """Enough of any websocket v2 message to dispatch it (requests' answers carry ``method``)."""

    channel: str | None = None
    type: str | None = None
    method: str | None = None


class WsMethodAnswer(msgspec.Struct):
    """The answer to subscribe / unsubscribe / ping (``method`` pong) and trading requests."""

    method: str
    success: bool = True
    result: dict[str, Any] | None = None
    error: str | None = None
    req_id: int | None = None
    time_in: str | None = None
    time_out: str | None = None
    symbol: str | None = None  # on a failed subscribe: which symbol was refused


class WsStatusData(msgspec.Struct):
    system: str  # online, maintenance, cancel_only, post_only
    api_version: str = "v2"
    connection_id: int | None = None
    version: str | None = None


class WsStatus(msgspec.Struct):
    channel: str
    data: list[WsStatusData]
    type: str = "update"


class WsTicker(msgspec.Struct):
    symbol: str
    last: Decimal
    bid: Decimal | None = None
    bid_qty: Decimal | None = None
    ask: Decimal | None = None
    ask_qty: Decimal | None = None
    volume: Decimal | None = None
    vwap: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    change: Decimal | None = None
    change_pct: Decimal | None = None
    timestamp: str | None = None


class WsTickerMessage(msgspec.Struct):
    channel: str
    type: str  # snapshot | update
    data: list[WsTicker]


class WsTrade(msgspec.Struct):
    symbol: str
    side: str  # the taker's side
    price: Decimal
    qty: Decimal
    ord_type: str
    trade_id: int
    timestamp: str


class WsTradeMessage(msgspec.Struct):
    channel: str
    type: str
    data: list[WsTrade]


class WsOhlc(msgspec.Struct):
    symbol: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    interval_begin: str
    interval: int  # minutes
    trades: int = 0
    vwap: Decimal | None = None
    timestamp: str | None = None


class WsOhlcMessage(msgspec.Struct):
    channel: str
    type: str
    data: list[WsOhlc]
    timestamp: str | None = None


class WsBookLevel(msgspec.Struct):
    price: Decimal
    qty: Decimal


class WsBookData(msgspec.Struct):
    symbol: str
    bids: list[WsBookLevel]
    asks: list[WsBookLevel]
    checksum: int
    timestamp: str | None = None  # updates only


class WsBookMessage(msgspec.Struct):
    channel: str
    type: str  # snapshot | update
    data: list[WsBookData]


class WsFee(msgspec.Struct):
    asset: str
    qty: Decimal


class WsExecution(msgspec.Struct):
    """One execution report; which fields appear depends on ``exec_type``.

    exec_type: pending_new, new, trade, filled, iceberg_refill, canceled, expired, amended, restated,
    status. order_status: pending_new, new, partially_filled, filled, canceled, expired.
    """

    exec_type: str
    order_id: str
    timestamp: str
    order_status: str | None = None
    cl_ord_id: str | None = None
    order_userref: int | None = None
    symbol: str | None = None
    side: str | None = None
    order_type: str | None = None
    order_qty: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    margin: bool | None = None
    liquidated: bool | None = None
    cum_qty: Decimal | None = None
    cum_cost: Decimal | None = None
    avg_price: Decimal | None = None
    exec_id: str | None = None
    trade_id: int | None = None
    last_qty: Decimal | None = None
    last_price: Decimal | None = None
    cost: Decimal | None = None
    liquidity_ind: str | None = None  # t (taker) | m (maker)
    fees: list[WsFee] | None = None
    fee_usd_equiv: Decimal | None = None
    fee_ccy_pref: str | None = None
    reason: str | None = None
    amended: bool | None = None


class WsExecutionsMessage(msgspec.Struct):
    channel: str
    type: str
    data: list[WsExecution]
    sequence: int  # per connection, +1 per message: a gap means a lost private message


class WsWallet(msgspec.Struct):
    type: str  # spot, earn
    id: str
    balance: Decimal


class WsBalance(msgspec.Struct):
    """A balances snapshot row (``wallets``) or a ledger update (``amount``, ``fee``, ``ledger_id``)."""

    asset: str
    balance: Decimal
    asset_class: str | None = None
    wallets: list[WsWallet] | None = None
    ledger_id: str | None = None
    ref_id: str | None = None
    timestamp: str | None = None
    type: str | None = None  # trade, deposit, withdrawal, earn, ...
    category: str | None = None
    wallet_type: str | None = None
    wallet_id: str | None = None
    amount: Decimal | None = None
    fee: Decimal | None = None


class WsBalancesMessage(msgspec.Struct):
    channel: str
    type: str
    data: list[WsBalance]
    sequence: int
