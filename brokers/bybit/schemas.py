"""Bybit V5 JSON as msgspec Structs: decoded once at the edge, never passed around as dicts.

Field names are Bybit's own, so these read like its documentation. Numbers arrive as JSON strings:
fields Bybit always fills are declared `Decimal` (msgspec converts the string exactly). Fields the
documentation (or captured answers) show as ``""`` when absent -- ``liqPrice``, ``avgPrice`` of an
unfilled order, ``leverage`` under portfolio margin, ``availableToWithdraw`` on UTA 2.0, an empty
book's ``bid1Price`` ... -- stay `str` and are read through `opt_decimal` / `decimal_or_zero`
(brokers/wire.py's, bound to Bybit), which map ``""`` to None / 0 and refuse anything that is not a
number. Timestamps Bybit sends as strings of epoch milliseconds stay `str` (`mapping` converts them
with `protocol.model.from_epoch_ms`).

REST answers share one envelope (`Envelope`); `decode_answer` decodes one into its ``result`` or
raises the typed error of its ``retCode`` (every REST answer goes through it).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Mapping
from decimal import Decimal
from time import time as wall_clock
from typing import Any, Generic, TypeVar

import msgspec

from brokers import wire
from brokers.bybit.constants import VENUE, VENUE_NAME
from brokers.bybit.errors import raise_for_ret_code

T = TypeVar("T")


opt_decimal = functools.partial(wire.opt_decimal, venue=VENUE, name=VENUE_NAME)
decimal_or_zero = functools.partial(wire.decimal_or_zero, venue=VENUE, name=VENUE_NAME)


# --- envelope (docs/v5/guide "Common response parameters") ------------------------------------------

class Envelope(msgspec.Struct, Generic[T]):
    """``retCode`` 0 is success; ``retMsg`` is then "OK", "success" or "SUCCESS"."""

    retCode: int
    retMsg: str
    result: T
    retExtInfo: dict[str, Any] = {}
    time: int = 0


class ErrorEnvelope(msgspec.Struct):
    """Only what an error answer is guaranteed to carry (``result`` may be ``{}`` or absent)."""

    retCode: int
    retMsg: str = ""
    retExtInfo: dict[str, Any] = {}
    time: int = 0


class Empty(msgspec.Struct):
    """``result: {}`` (e.g. set-leverage)."""


class _RetCode(msgspec.Struct):
    retCode: int
    retMsg: str = ""


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_ret_code = msgspec.json.Decoder(_RetCode)


def decode_answer(body: bytes, wanted: Any, headers: Mapping[str, str]) -> Any:
    """Decode ``{"retCode", "retMsg", "result", ...}`` into ``result`` of type ``wanted``, or raise.

    One decode on the happy path; an error answer (whose ``result`` is usually ``{}``) fails
    validation or carries a non-zero ``retCode``, and is then read for its code and message.
    (`brokers.rest.AnswerDecoder`.)
    """
    decoder = _decoders.get(wanted)
    if decoder is None:
        decoder = _decoders[wanted] = msgspec.json.Decoder(Envelope[wanted])  # type: ignore[valid-type]
    try:
        envelope = decoder.decode(body)
    except msgspec.ValidationError:
        answer = _ret_code.decode(body)  # a body without retCode raises ValidationError: a ProtocolViolation
        raise_for_ret_code(answer.retCode, answer.retMsg, headers=headers, now_ms=int(wall_clock() * 1000))
        raise
    if envelope.retCode != 0:
        raise_for_ret_code(envelope.retCode, envelope.retMsg, headers=headers, now_ms=int(wall_clock() * 1000))
    return envelope.result


# --- market -----------------------------------------------------------------------------------------

class ServerTime(msgspec.Struct):
    timeSecond: str
    timeNano: str


class LeverageFilter(msgspec.Struct):
    minLeverage: Decimal
    maxLeverage: Decimal
    leverageStep: Decimal


class PriceFilter(msgspec.Struct):
    tickSize: Decimal
    minPrice: Decimal | None = None  # derivatives only
    maxPrice: Decimal | None = None


class LotSizeFilter(msgspec.Struct):
    """Spot fills ``basePrecision``/``minOrderAmt``; linear/inverse fill ``qtyStep``/``minNotionalValue``."""

    minOrderQty: Decimal | None = None  # spot: deprecated, "no longer checked, check minOrderAmt"
    maxOrderQty: Decimal | None = None
    qtyStep: Decimal | None = None
    maxMktOrderQty: Decimal | None = None
    postOnlyMaxOrderQty: Decimal | None = None
    minNotionalValue: Decimal | None = None
    basePrecision: Decimal | None = None
    quotePrecision: Decimal | None = None
    minOrderAmt: Decimal | None = None
    maxOrderAmt: Decimal | None = None
    maxLimitOrderQty: Decimal | None = None
    maxMarketOrderQty: Decimal | None = None


class InstrumentInfo(msgspec.Struct):
    """One row of GET /v5/market/instruments-info, any of spot / linear / inverse."""

    symbol: str
    status: str  # PreLaunch, Trading, Delivering, Closed
    baseCoin: str
    quoteCoin: str
    lotSizeFilter: LotSizeFilter
    priceFilter: PriceFilter
    contractType: str = ""  # LinearPerpetual, LinearFutures, InversePerpetual, InverseFutures; "" for spot
    settleCoin: str = ""  # "" for spot
    leverageFilter: LeverageFilter | None = None  # absent for spot
    launchTime: str = ""
    deliveryTime: str = ""  # "0" for perpetuals
    marginTrading: str = ""  # spot only


class InstrumentsPage(msgspec.Struct):
    category: str
    list: builtins.list[InstrumentInfo]
    nextPageCursor: str = ""


class TickerInfo(msgspec.Struct):
    """One row of GET /v5/market/tickers. Best bid/ask may be ``""`` (empty book)."""

    symbol: str
    lastPrice: Decimal
    bid1Price: str = ""
    bid1Size: str = ""
    ask1Price: str = ""
    ask1Size: str = ""
    highPrice24h: str = ""
    lowPrice24h: str = ""
    prevPrice24h: str = ""
    volume24h: str = ""
    turnover24h: str = ""
    markPrice: str = ""  # derivatives
    indexPrice: str = ""  # derivatives
    fundingRate: str = ""  # perpetuals
    nextFundingTime: str = ""


class TickersPage(msgspec.Struct):
    category: str
    list: builtins.list[TickerInfo]


class KlinePage(msgspec.Struct):
    """``list`` rows: [startTime ms, open, high, low, close, volume, turnover], all strings, newest first."""

    category: str
    symbol: str
    list: builtins.list[tuple[str, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]]


class OrderbookSnapshot(msgspec.Struct):
    """GET /v5/market/orderbook; ``u`` matches ``u`` of the 200-level (futures) / 50-level (spot) stream."""

    s: str
    b: list[tuple[Decimal, Decimal]]
    a: list[tuple[Decimal, Decimal]]
    ts: int
    u: int
    seq: int = 0
    cts: int = 0


# --- account ------------------------------------------------------------------------------------------

class WalletCoin(msgspec.Struct):
    """A coin of GET /v5/account/wallet-balance and of the ``wallet`` stream.

    ``locked`` is what open spot orders hold; ``availableToWithdraw`` is ``""`` on UTA 2.0 accounts
    (captured answers), ``free`` exists only for classic SPOT accounts.
    """

    coin: str
    walletBalance: Decimal
    equity: str = ""
    usdValue: str = ""
    locked: str = ""
    free: str = ""
    availableToWithdraw: str = ""
    availableToBorrow: str = ""
    borrowAmount: str = ""
    spotBorrow: str = ""
    totalOrderIM: str = ""  # "" under portfolio margin
    totalPositionIM: str = ""
    totalPositionMM: str = ""
    unrealisedPnl: str = ""
    cumRealisedPnl: str = ""
    accruedInterest: str = ""
    bonus: str = ""
    collateralSwitch: bool | None = None
    marginCollateral: bool | None = None


class WalletAccount(msgspec.Struct):
    """Account-wide totals are USD figures and ``""`` outside cross margin; only ``coin`` matters here."""

    accountType: str
    coin: list[WalletCoin]
    totalEquity: str = ""
    totalWalletBalance: str = ""
    totalAvailableBalance: str = ""
    totalMarginBalance: str = ""
    totalInitialMargin: str = ""
    totalMaintenanceMargin: str = ""
    totalPerpUPL: str = ""
    accountIMRate: str = ""
    accountMMRate: str = ""


class WalletBalance(msgspec.Struct):
    list: builtins.list[WalletAccount]


class AccountInfo(msgspec.Struct):
    """GET /v5/account/info: ``marginMode`` is ISOLATED_MARGIN, REGULAR_MARGIN (cross) or PORTFOLIO_MARGIN."""

    marginMode: str
    unifiedMarginStatus: int = 0
    updatedTime: str = ""
    isMasterTrader: bool = False
    spotHedgingStatus: str = ""


# --- positions ------------------------------------------------------------------------------------------

class PositionInfo(msgspec.Struct):
    """GET /v5/position/list rows and ``position`` stream items.

    ``side`` is ``Buy``/``Sell``, ``""`` for an empty UTA position (``None`` on classic accounts). REST
    names the entry ``avgPrice``, the stream ``entryPrice``: read it through `entry_price`.
    """

    symbol: str
    side: str
    size: Decimal
    positionIdx: int = 0
    avgPrice: str = ""
    entryPrice: str = ""
    markPrice: str = ""
    leverage: str = ""  # "" under portfolio margin
    liqPrice: str = ""  # "" when out of [minPrice, maxPrice] and under portfolio margin
    bustPrice: str = ""
    positionValue: str = ""
    unrealisedPnl: str = ""
    curRealisedPnl: str = ""
    cumRealisedPnl: str = ""
    tradeMode: int = 0  # 0 cross, 1 isolated (classic and inverse); UTA 2.0: always 0, see AccountInfo
    positionStatus: str = ""
    autoAddMargin: int = 0
    positionIM: str = ""
    positionMM: str = ""
    takeProfit: str = ""
    stopLoss: str = ""
    createdTime: str = ""
    updatedTime: str = ""
    seq: int = 0
    category: str = ""  # stream only

    @property
    def entry_price(self) -> Decimal | None:
        return opt_decimal(self.avgPrice or self.entryPrice, field="avgPrice")


class PositionsPage(msgspec.Struct):
    list: builtins.list[PositionInfo]
    category: str = ""
    nextPageCursor: str = ""


# --- orders ----------------------------------------------------------------------------------------------

class OrderAck(msgspec.Struct):
    """``result`` of POST /v5/order/create, /amend and /cancel: an acknowledgement, not a state."""

    orderId: str
    orderLinkId: str = ""


class OrderInfo(msgspec.Struct):
    """GET /v5/order/realtime and /history rows and ``order`` stream items.

    ``avgPrice`` is ``""`` (or "0") while unfilled; ``leavesQty`` may be ``""`` (options, classic spot);
    ``price`` is "0" or "" for market orders.
    """

    orderId: str
    symbol: str
    side: str
    orderType: str
    orderStatus: str
    qty: Decimal
    createdTime: str
    updatedTime: str
    orderLinkId: str = ""
    price: str = ""
    avgPrice: str = ""
    cumExecQty: Decimal = Decimal(0)
    cumExecValue: str = ""
    cumExecFee: str = ""
    leavesQty: str = ""
    leavesValue: str = ""
    timeInForce: str = "GTC"
    reduceOnly: bool = False
    closeOnTrigger: bool = False
    positionIdx: int = 0
    triggerPrice: str = ""
    stopOrderType: str = ""
    orderFilter: str = ""
    marketUnit: str = ""
    cancelType: str = ""
    rejectReason: str = ""
    feeCurrency: str = ""
    cumFeeDetail: dict[str, Decimal] = {}
    category: str = ""  # stream only


class OrdersPage(msgspec.Struct):
    list: builtins.list[OrderInfo]
    category: str = ""
    nextPageCursor: str = ""


class ExecutionInfo(msgspec.Struct):
    """GET /v5/execution/list rows and ``execution`` stream items (one per fill).

    ``execType`` ``Trade`` is a fill of ours; ``Funding``, ``Settle``, ``Delivery``, ``AdlTrade``,
    ``BustTrade`` ... also arrive here. ``feeCurrency`` is filled on newer answers only (spot); older
    and derivative rows leave it ``""`` and the currency follows Bybit's rules (see mapping).
    """

    symbol: str
    orderId: str
    side: str
    execId: str
    execPrice: Decimal
    execQty: Decimal
    execTime: str
    execFee: Decimal = Decimal(0)
    execType: str = "Trade"
    isMaker: bool = False
    orderLinkId: str = ""
    orderType: str = ""
    orderPrice: str = ""
    orderQty: str = ""
    leavesQty: str = ""
    execValue: str = ""
    feeRate: str = ""
    feeCurrency: str = ""
    markPrice: str = ""
    closedSize: str = ""
    seq: int = 0
    category: str = ""  # stream only


class ExecutionsPage(msgspec.Struct):
    list: builtins.list[ExecutionInfo]
    category: str = ""
    nextPageCursor: str = ""


# --- websocket (docs/v5/ws/connect and docs/v5/websocket/...) --------------------------------------------

class WsOpResponse(msgspec.Struct):
    """Answer to ``auth``/``subscribe``/``unsubscribe``/``ping``.

    Public pong: ``{"success": true, "ret_msg": "pong", "op": "ping", ...}``; private pong:
    ``{"op": "pong", "args": ["<ms>"], ...}`` (no ``success``).
    """

    op: str
    success: bool | None = None
    ret_msg: str = ""
    conn_id: str = ""
    req_id: str = ""
    args: list[str] = []


class WsTrade(msgspec.Struct):
    """``publicTrade.{symbol}`` items: ``S`` is the taker side, ``i`` the trade id, ``T`` ms."""

    T: int
    s: str
    S: str
    v: Decimal
    p: Decimal
    i: str
    L: str = ""
    BT: bool = False


class WsTradeMessage(msgspec.Struct):
    topic: str
    ts: int
    data: list[WsTrade]
    type: str = "snapshot"


class WsTicker(msgspec.Struct):
    """``tickers.{symbol}``: a ``delta`` carries only what changed, so every field is optional."""

    symbol: str
    lastPrice: str = ""
    bid1Price: str = ""
    bid1Size: str = ""
    ask1Price: str = ""
    ask1Size: str = ""
    markPrice: str = ""
    indexPrice: str = ""
    highPrice24h: str = ""
    lowPrice24h: str = ""
    volume24h: str = ""
    turnover24h: str = ""
    fundingRate: str = ""


class WsTickerMessage(msgspec.Struct):
    topic: str
    type: str  # snapshot / delta (spot: snapshot only)
    ts: int
    data: WsTicker
    cs: int = 0


class WsKline(msgspec.Struct):
    start: int
    end: int
    interval: str
    open: Decimal
    close: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    turnover: Decimal
    confirm: bool
    timestamp: int


class WsKlineMessage(msgspec.Struct):
    topic: str
    ts: int
    data: list[WsKline]
    type: str = "snapshot"


class WsOrderbookData(msgspec.Struct):
    """Levels are [price, size]; in a delta, size "0" deletes the level."""

    s: str
    b: list[tuple[Decimal, Decimal]]
    a: list[tuple[Decimal, Decimal]]
    u: int
    seq: int = 0


class WsOrderbookMessage(msgspec.Struct):
    topic: str
    type: str  # snapshot / delta
    ts: int
    data: WsOrderbookData
    cts: int = 0


class WsOrderMessage(msgspec.Struct):
    topic: str
    data: list[OrderInfo]
    id: str = ""
    creationTime: int = 0


class WsExecutionMessage(msgspec.Struct):
    topic: str
    data: list[ExecutionInfo]
    id: str = ""
    creationTime: int = 0


class WsPositionMessage(msgspec.Struct):
    topic: str
    data: list[PositionInfo]
    id: str = ""
    creationTime: int = 0


class WsWalletMessage(msgspec.Struct):
    topic: str
    data: list[WalletAccount]
    id: str = ""
    creationTime: int = 0


class WsHeader(msgspec.Struct):
    """Enough of any websocket frame to route it: data frames carry ``topic``, op answers ``op``."""

    topic: str = ""
    op: str = ""
    type: str = ""


WS_HEADER_DECODER = msgspec.json.Decoder(WsHeader)
