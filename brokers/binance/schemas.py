"""Binance spot JSON as msgspec Structs: decoded once at the edge, never passed around as dicts.

Numbers that Binance sends as strings are declared `Decimal` (msgspec converts the string exactly).
Field names are Binance's own, so these read like its documentation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec


class ErrorBody(msgspec.Struct):
    code: int
    msg: str


class ServerTime(msgspec.Struct):
    serverTime: int


class SymbolInfo(msgspec.Struct):
    symbol: str
    status: str
    baseAsset: str
    quoteAsset: str
    filters: list[dict[str, Any]]  # heterogeneous by filterType; read once in mapping.instrument_from
    isSpotTradingAllowed: bool = True


class ExchangeInfo(msgspec.Struct):
    symbols: list[SymbolInfo]
    rateLimits: list[dict[str, Any]] = []


class AssetBalance(msgspec.Struct):
    asset: str
    free: Decimal
    locked: Decimal


class CommissionRates(msgspec.Struct):
    maker: Decimal
    taker: Decimal


class Account(msgspec.Struct):
    canTrade: bool
    canWithdraw: bool
    canDeposit: bool
    updateTime: int
    accountType: str
    balances: list[AssetBalance]
    commissionRates: CommissionRates | None = None


class OrderFill(msgspec.Struct):
    price: Decimal
    qty: Decimal
    commission: Decimal
    commissionAsset: str
    tradeId: int


class OrderResponse(msgspec.Struct):
    """POST/GET/DELETE /api/v3/order (RESULT/FULL shapes), openOrders and allOrders rows."""

    symbol: str
    orderId: int
    clientOrderId: str
    price: Decimal = Decimal(0)
    origQty: Decimal = Decimal(0)
    executedQty: Decimal = Decimal(0)
    cummulativeQuoteQty: Decimal = Decimal(0)
    status: str = "NEW"
    timeInForce: str = "GTC"
    type: str = "LIMIT"
    side: str = "BUY"
    stopPrice: Decimal = Decimal(0)
    time: int | None = None
    updateTime: int | None = None
    transactTime: int | None = None
    origClientOrderId: str | None = None  # cancel answers: the order's own client id
    fills: list[OrderFill] = []


class MyTrade(msgspec.Struct):
    symbol: str
    id: int
    orderId: int
    price: Decimal
    qty: Decimal
    quoteQty: Decimal
    commission: Decimal
    commissionAsset: str
    time: int
    isBuyer: bool
    isMaker: bool


class Ticker24h(msgspec.Struct):
    symbol: str
    lastPrice: Decimal
    bidPrice: Decimal
    bidQty: Decimal
    askPrice: Decimal
    askQty: Decimal
    closeTime: int


class PriceTicker(msgspec.Struct):
    symbol: str
    price: Decimal


Kline = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal, int, Decimal, int, Decimal, Decimal, str]


class Depth(msgspec.Struct):
    lastUpdateId: int
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]


class Empty(msgspec.Struct):
    pass


# ------------------------------------------------------------------------------ websocket payloads


class Envelope(msgspec.Struct):
    """Enough of any stream message to route it: combined-stream wrapper, event type, or a reply."""

    stream: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"")
    e: str | None = None
    id: int | str | None = None


class TradeEvent(msgspec.Struct):
    E: int
    s: str
    t: int
    p: Decimal
    q: Decimal
    T: int
    m: bool


class CombinedTrade(msgspec.Struct):
    """A combined-stream message of a ``<symbol>@trade`` stream (the hot path decodes it in one pass)."""

    stream: str
    data: TradeEvent


class Ticker24hEvent(msgspec.Struct):
    E: int
    s: str
    c: Decimal
    b: Decimal
    B: Decimal
    a: Decimal
    A: Decimal


class KlineBody(msgspec.Struct):
    t: int
    i: str
    o: Decimal
    c: Decimal
    h: Decimal
    l: Decimal  # noqa: E741 - Binance's field name
    v: Decimal
    x: bool


class KlineEvent(msgspec.Struct):
    E: int
    s: str
    k: KlineBody


class DepthUpdate(msgspec.Struct):
    E: int
    s: str
    U: int
    u: int
    b: list[tuple[Decimal, Decimal]]
    a: list[tuple[Decimal, Decimal]]


class ExecutionReport(msgspec.Struct, tag="executionReport", tag_field="e"):
    E: int
    s: str
    c: str
    S: str
    o: str
    f: str
    q: Decimal
    p: Decimal
    x: str
    X: str
    i: int
    l: Decimal  # noqa: E741 - Binance's field name
    z: Decimal
    L: Decimal
    n: Decimal
    T: int
    t: int
    m: bool
    O: int  # noqa: E741 - Binance's field name
    Z: Decimal
    N: str | None = None
    C: str | None = None
    P: Decimal = Decimal(0)


class AccountBalance(msgspec.Struct):
    a: str
    f: Decimal
    l: Decimal  # noqa: E741 - Binance's field name


class OutboundAccountPosition(msgspec.Struct, tag="outboundAccountPosition", tag_field="e"):
    E: int
    u: int
    B: list[AccountBalance]


class BalanceUpdate(msgspec.Struct, tag="balanceUpdate", tag_field="e"):
    E: int
    a: str
    d: Decimal
    T: int


class EventStreamTerminated(msgspec.Struct, tag="eventStreamTerminated", tag_field="e"):
    """The user data subscription ended (unsubscribed or logged out): no more events on it."""

    E: int


UserEvent = ExecutionReport | OutboundAccountPosition | BalanceUpdate | EventStreamTerminated


class WsApiError(msgspec.Struct):
    code: int
    msg: str
    data: dict[str, int] | None = None  # 429/418: {"serverTime", "retryAfter"} (epoch ms)


class WsApiRateLimit(msgspec.Struct):
    rateLimitType: str
    interval: str
    intervalNum: int
    limit: int
    count: int


class WsApiMessage(msgspec.Struct):
    """Any WebSocket API frame: an answer (``id``, ``status``, ``result`` or ``error``, ``rateLimits``) or an
    event (``subscriptionId``, ``event``; a connection event like ``serverShutdown`` has no subscription)."""

    id: int | str | None = None
    status: int | None = None
    result: msgspec.Raw = msgspec.Raw(b"null")
    error: WsApiError | None = None
    rateLimits: list[WsApiRateLimit] = msgspec.field(default_factory=list)
    subscriptionId: int | None = None
    event: msgspec.Raw = msgspec.Raw(b"")


class Subscribed(msgspec.Struct):
    subscriptionId: int
