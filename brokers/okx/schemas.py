"""OKX V5 JSON as msgspec Structs, decoded once at the edge, and the answer envelope's decoder.

Field names are OKX's own, so these read like its documentation. OKX sends every number as a string and
``""`` wherever a value does not apply (``avgPx`` of an unfilled order, ``ctVal`` of a spot instrument,
``liqPx`` of a spot-mode position ...). Fields that are always numbers are declared `Decimal` (msgspec
converts the string exactly); the others stay `str` and are read through `opt_decimal` /
`decimal_or_zero` (brokers/wire.py's, bound to OKX), which map ``""`` to None / 0 and refuse anything
that is not a finite number. Timestamps are strings of epoch milliseconds (`mapping` converts them).
Book levels stay strings: the CRC32 checksum is computed over the exact text OKX sent.

REST answers share one envelope, ``{"code", "msg", "data": [...]}``: `decode_answer` raises the typed
error of a non-zero ``code`` before the caller sees any field. Order endpoints answer ``code`` "1"/"2"
with per-item ``sCode``/``sMsg``: `decode_order_answer` returns the items, `check_item` raises one's error.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, Generic, TypeVar

import msgspec

from brokers import wire
from brokers.okx.constants import VENUE, VENUE_NAME
from brokers.okx.errors import BATCH_FAILED, error_for, item_error
from protocol.errors import BrokerError, ProtocolViolation

T = TypeVar("T")

BookLevel = tuple[str, str, str, str]
"""[price, size, "0" (deprecated liquidated-orders field), number of orders], as OKX sends them."""


opt_decimal = functools.partial(wire.opt_decimal, venue=VENUE, name=VENUE_NAME)
decimal_or_zero = functools.partial(wire.decimal_or_zero, venue=VENUE, name=VENUE_NAME)


# --- envelope (docs "REST API": every answer) ---------------------------------------------------------

class Envelope(msgspec.Struct, Generic[T]):
    """``code`` "0" is success; ``inTime``/``outTime`` (µs at OKX's gateway) come with trade endpoints."""

    code: str
    msg: str = ""
    data: list[T] = []
    inTime: str = ""
    outTime: str = ""


class ErrorEnvelope(msgspec.Struct):
    """Only what an error answer is guaranteed to carry (``data`` may be ``[]`` or items of another shape)."""

    code: str
    msg: str = ""


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_error_decoder = msgspec.json.Decoder(ErrorEnvelope)


def _decoder(item: Any) -> msgspec.json.Decoder[Any]:
    decoder = _decoders.get(item)
    if decoder is None:
        decoder = _decoders[item] = msgspec.json.Decoder(Envelope[item])  # type: ignore[valid-type]
    return decoder


def _envelope(body: bytes, item: type[T]) -> Envelope[T]:
    try:
        return _decoder(item).decode(body)  # type: ignore[no-any-return]
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        # An error answer's `data` need not fit the success type: read its code, raise that instead.
        try:
            head = _error_decoder.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise ProtocolViolation(f"OKX answer is not a V5 envelope: {error}", venue=VENUE) from error
        if head.code not in ("0", *BATCH_FAILED):
            raise error_for(head.code, head.msg) from None
        raise ProtocolViolation(f"OKX answer does not fit {item.__name__}: {error}", venue=VENUE) from error


def decode_answer(body: bytes, item: type[T]) -> list[T]:
    """The ``data`` items of a successful answer; any non-zero ``code`` raises its typed error."""
    envelope = _envelope(body, item)
    if envelope.code != "0":
        raise error_for(envelope.code, envelope.msg)
    return envelope.data


def decode_order_answer(body: bytes, item: type[T]) -> list[T]:
    """Items of an order endpoint (place/cancel/amend, single or batch): each carries its own ``sCode``.

    ``code`` "0", "1" (all failed) and "2" (some failed) return the items for `check_item`; any other code
    raises. An all-failed answer without items is an error by its top-level code.
    """
    envelope = _envelope(body, item)
    if envelope.code == "0" or (envelope.code in BATCH_FAILED and envelope.data):
        return envelope.data
    raise error_for(envelope.code, envelope.msg)


def check_item(ack: OrderAck) -> None:
    """Raise the typed error of a failed item (its ``sCode``/``sMsg``/``subCode``)."""
    error = item_error_of(ack)
    if error is not None:
        raise error


def item_error_of(ack: OrderAck) -> BrokerError | None:
    return item_error(ack.sCode, ack.sMsg, ack.subCode, client_order_id=ack.clOrdId or None)


# --- public data ---------------------------------------------------------------------------------------

class ServerTime(msgspec.Struct):
    ts: str


class UpcomingChange(msgspec.Struct):
    param: str
    newValue: str
    effTime: str


class InstrumentInfo(msgspec.Struct):
    """GET /api/v5/public/instruments rows. Spot leaves the contract fields ``""``; swaps leave base/quote."""

    instType: str
    instId: str
    state: str  # live, suspend, preopen, test; SWAP also rebase, post_only
    tickSz: Decimal
    lotSz: Decimal
    minSz: Decimal
    baseCcy: str = ""
    quoteCcy: str = ""
    settleCcy: str = ""
    ctVal: str = ""
    ctMult: str = ""
    ctValCcy: str = ""
    ctType: str = ""  # linear / inverse
    uly: str = ""
    instFamily: str = ""
    lever: str = ""
    listTime: str = ""
    expTime: str = ""
    maxLmtSz: str = ""
    maxMktSz: str = ""
    maxLmtAmt: str = ""
    maxMktAmt: str = ""
    ruleType: str = "normal"
    alias: str = ""
    instIdCode: int | None = None
    tradeQuoteCcyList: list[str] = []
    upcChg: list[UpcomingChange] = []


class Ticker(msgspec.Struct):
    """GET /api/v5/market/ticker(s) rows and ``tickers`` pushes; best bid/ask may be ``""``."""

    instId: str
    last: str
    ts: str
    instType: str = ""
    lastSz: str = ""
    askPx: str = ""
    askSz: str = ""
    bidPx: str = ""
    bidSz: str = ""
    open24h: str = ""
    high24h: str = ""
    low24h: str = ""
    volCcy24h: str = ""
    vol24h: str = ""
    sodUtc0: str = ""
    sodUtc8: str = ""


class IndexTicker(msgspec.Struct):
    """GET /api/v5/market/index-tickers rows and ``index-tickers`` pushes (instId is the index, BTC-USDT)."""

    instId: str
    idxPx: Decimal
    ts: str
    high24h: str = ""
    low24h: str = ""
    open24h: str = ""
    sodUtc0: str = ""
    sodUtc8: str = ""


class OrderBookSnapshot(msgspec.Struct):
    """GET /api/v5/market/books (``sz`` levels a side, at most 400)."""

    asks: list[BookLevel]
    bids: list[BookLevel]
    ts: str
    seqId: int = 0


CandleRow = list[str]
"""[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm] (REST newest first, and ``candle*`` pushes)."""


class PublicTrade(msgspec.Struct):
    """GET /api/v5/market/(history-)trades rows and ``trades`` pushes; ``side`` is the taker's."""

    instId: str
    tradeId: str
    px: Decimal
    sz: Decimal
    side: str
    ts: str
    source: str = "0"
    count: str = ""
    seqId: int | None = None


class FundingRate(msgspec.Struct):
    """GET /api/v5/public/funding-rate and ``funding-rate`` pushes (``method`` is always current_period now)."""

    instId: str
    fundingRate: Decimal
    fundingTime: str
    instType: str = ""
    nextFundingTime: str = ""
    method: str = ""
    formulaType: str = ""
    settFundingRate: str = ""
    settState: str = ""
    premium: str = ""
    interestRate: str = ""
    impactValue: str = ""
    minFundingRate: str = ""
    maxFundingRate: str = ""
    nextFundingRate: str = ""  # no longer supported: always ""
    ts: str = ""


class FundingRateHistory(msgspec.Struct):
    """GET /api/v5/public/funding-rate-history rows (newest first, 3 months, ``after``/``before`` on fundingTime)."""

    instId: str
    fundingRate: Decimal
    realizedRate: Decimal
    fundingTime: str
    instType: str = ""
    method: str = ""
    formulaType: str = ""


class MarkPrice(msgspec.Struct):
    """GET /api/v5/public/mark-price rows and ``mark-price`` pushes."""

    instId: str
    markPx: Decimal
    ts: str
    instType: str = ""


class OpenInterest(msgspec.Struct):
    """GET /api/v5/public/open-interest rows and ``open-interest`` pushes: ``oi`` in contracts, ``oiCcy`` in
    the base coin, ``oiUsd`` in USD."""

    instId: str
    oi: Decimal
    ts: str
    instType: str = ""
    oiCcy: str = ""
    oiUsd: str = ""


# --- account -------------------------------------------------------------------------------------------

class BalanceDetail(msgspec.Struct):
    """One currency of GET /api/v5/account/balance ``details`` (and of the ``account`` push)."""

    ccy: str
    eq: str = ""
    cashBal: str = ""
    availBal: str = ""
    availEq: str = ""
    frozenBal: str = ""
    ordFrozen: str = ""
    upl: str = ""
    liab: str = ""
    isoEq: str = ""
    eqUsd: str = ""
    disEq: str = ""
    uTime: str = ""


class AccountBalance(msgspec.Struct):
    """GET /api/v5/account/balance: account-wide figures in USD, per-currency ``details``."""

    details: list[BalanceDetail]
    uTime: str = ""
    totalEq: str = ""
    adjEq: str = ""
    availEq: str = ""
    isoEq: str = ""
    imr: str = ""
    mmr: str = ""
    mgnRatio: str = ""
    notionalUsd: str = ""
    ordFroz: str = ""
    upl: str = ""


class PositionInfo(msgspec.Struct):
    """GET /api/v5/account/positions rows and ``positions`` pushes.

    ``pos`` is in contracts (SWAP/FUTURES); in net mode its sign is the side. ``avgPx``/``markPx`` are in
    the quote currency (USD for inverse), ``upl``/``realizedPnl`` in the settlement currency (``ccy``).
    """

    instType: str
    instId: str
    mgnMode: str
    posSide: str
    pos: str
    posId: str = ""
    avgPx: str = ""
    markPx: str = ""
    upl: str = ""
    uplRatio: str = ""
    realizedPnl: str = ""
    pnl: str = ""
    fee: str = ""
    fundingFee: str = ""
    liqPx: str = ""
    lever: str = ""
    margin: str = ""
    imr: str = ""
    mmr: str = ""
    mgnRatio: str = ""
    notionalUsd: str = ""
    ccy: str = ""
    posCcy: str = ""
    availPos: str = ""
    last: str = ""
    idxPx: str = ""
    bePx: str = ""
    adl: str = ""
    tradeId: str = ""
    cTime: str = ""
    uTime: str = ""
    pTime: str = ""  # pushes only


class AccountConfig(msgspec.Struct):
    """GET /api/v5/account/config: ``acctLv`` (1 spot, 2 futures, 3 multi-currency, 4 portfolio margin) and
    ``posMode`` (net_mode / long_short_mode) decide what this account can trade and how."""

    uid: str
    acctLv: str
    posMode: str
    mainUid: str = ""
    autoLoan: bool = False
    ctIsoMode: str = ""
    mgnIsoMode: str = ""
    greeksType: str = ""
    level: str = ""
    perm: str = ""
    label: str = ""
    ip: str = ""
    kycLv: str = ""
    type: str = ""


class LeverageInfo(msgspec.Struct):
    """GET /api/v5/account/leverage-info rows (one per posSide in long/short isolated mode) and the
    answer of POST set-leverage."""

    instId: str
    mgnMode: str
    lever: Decimal
    posSide: str = ""
    ccy: str = ""


# --- trade ---------------------------------------------------------------------------------------------

class OrderAck(msgspec.Struct):
    """An item of the order endpoints (place, cancel, amend and their batch forms): ``sCode`` "0" done,
    else the reason. ``tag`` comes with placements, ``reqId`` (the client's amend id) with amendments."""

    ordId: str = ""
    clOrdId: str = ""
    ts: str = ""
    sCode: str = "0"
    sMsg: str = ""
    subCode: str = ""
    tag: str = ""
    reqId: str = ""


CancelAck = OrderAck
AmendAck = OrderAck


class OrderInfo(msgspec.Struct):
    """GET /trade/order, /trade/orders-pending, /trade/orders-history rows and ``orders`` pushes.

    ``sz`` and ``accFillSz`` are contracts for SWAP/FUTURES and base units for spot, except a spot market
    order's ``sz`` with ``tgtCcy`` quote_ccy (a quote amount; ``accFillSz`` is base units even then).
    ``avgPx`` is ``""`` (REST) or "0" (push) while unfilled. Pushes add the current fill: ``fillSz``,
    ``fillPx``, ``tradeId``, ``fillFee``/``fillFeeCcy``, ``execType`` (T taker, M maker).
    """

    instType: str
    instId: str
    ordId: str
    side: str
    ordType: str
    state: str  # live, partially_filled, filled, canceled, mmp_canceled
    sz: Decimal
    cTime: str
    uTime: str
    clOrdId: str = ""
    tag: str = ""
    px: str = ""
    tdMode: str = ""
    posSide: str = ""
    tgtCcy: str = ""
    accFillSz: str = ""
    avgPx: str = ""
    fillPx: str = ""
    fillSz: str = ""
    fillTime: str = ""
    tradeId: str = ""
    lever: str = ""
    fee: str = ""
    feeCcy: str = ""
    rebate: str = ""
    rebateCcy: str = ""
    pnl: str = ""
    reduceOnly: str = "false"
    category: str = "normal"
    source: str = ""
    cancelSource: str = ""
    cancelSourceReason: str = ""
    slTriggerPx: str = ""
    tpTriggerPx: str = ""
    attachAlgoClOrdId: str = ""
    stpMode: str = ""
    tradeQuoteCcy: str = ""
    # pushes only
    execType: str = ""
    fillFee: str = ""
    fillFeeCcy: str = ""
    fillPnl: str = ""
    fillMarkPx: str = ""
    fillNotionalUsd: str = ""
    notionalUsd: str = ""
    amendResult: str = ""
    reqId: str = ""
    code: str = ""
    msg: str = ""


class FillInfo(msgspec.Struct):
    """GET /trade/fills (3 days) and /trade/fills-history (3 months) rows: one per fill of ours.

    ``fee`` negative is a fee paid, positive a rebate; ``fillSz`` contracts for SWAP/FUTURES.
    """

    instType: str
    instId: str
    tradeId: str
    ordId: str
    side: str
    fillPx: Decimal
    fillSz: Decimal
    ts: str
    clOrdId: str = ""
    billId: str = ""
    tag: str = ""
    posSide: str = ""
    execType: str = ""
    fee: str = ""
    feeCcy: str = ""
    feeRate: str = ""
    fillTime: str = ""
    fillPnl: str = ""
    fillMarkPx: str = ""
    fillIdxPx: str = ""
    subType: str = ""
    tradeQuoteCcy: str = ""


# --- websocket (docs "WebSocket" and each channel) --------------------------------------------------------

class WsArg(msgspec.Struct):
    """The ``arg`` a push or an event names its channel by."""

    channel: str
    instId: str = ""
    instType: str = ""
    instFamily: str = ""
    uid: str = ""


class WsEvent(msgspec.Struct):
    """Answers to ``login``/``subscribe``/``unsubscribe`` and errors: ``event`` login, subscribe, unsubscribe,
    error, notice (64008 before a service upgrade) or channel-conn-count."""

    event: str
    code: str = ""
    msg: str = ""
    connId: str = ""
    id: str = ""
    arg: WsArg | None = None


class WsHeader(msgspec.Struct):
    """Enough of any frame to route it: events carry ``event``, pushes ``arg`` (and books ``action``)."""

    event: str = ""
    arg: WsArg | None = None
    action: str = ""


class WsBookData(msgspec.Struct):
    """One item of a book push. ``prevSeqId`` is -1 in a snapshot; ``checksum`` is 0 since 2026-06-23."""

    asks: list[BookLevel]
    bids: list[BookLevel]
    ts: str
    seqId: int
    checksum: int = 0
    prevSeqId: int = -1
    instId: str = ""  # books5 only


class WsBookMessage(msgspec.Struct):
    """``books``/``books-l2-tbt``/``books50-l2-tbt`` (action snapshot|update), ``books5``/``bbo-tbt`` (no action)."""

    arg: WsArg
    data: list[WsBookData]
    action: str = ""


class WsPush(msgspec.Struct, Generic[T]):
    """A channel push: ``{"arg": {...}, "data": [...]}``."""

    arg: WsArg
    data: list[T]


WsTickersMessage = WsPush[Ticker]
WsTradesMessage = WsPush[PublicTrade]
WsCandleMessage = WsPush[CandleRow]  # ``candle{bar}`` on the business socket; rows like REST candles
WsFundingRateMessage = WsPush[FundingRate]
WsMarkPriceMessage = WsPush[MarkPrice]
WsIndexTickersMessage = WsPush[IndexTicker]
WsOpenInterestMessage = WsPush[OpenInterest]
WsOrdersMessage = WsPush[OrderInfo]
WsAccountMessage = WsPush[AccountBalance]


class WsPositionsMessage(msgspec.Struct):
    """``positions``: ``eventType`` snapshot (paged: curPage, lastPage) or event_update."""

    arg: WsArg
    data: list[PositionInfo]
    eventType: str = ""
    curPage: int | None = None
    lastPage: bool | None = None


class BalData(msgspec.Struct):
    ccy: str
    cashBal: Decimal
    uTime: str = ""


class PosData(msgspec.Struct):
    instId: str
    instType: str
    mgnMode: str
    posSide: str
    pos: str
    posId: str = ""
    tradeId: str = ""
    ccy: str = ""
    posCcy: str = ""
    avgPx: str = ""
    uTime: str = ""


class TradeRef(msgspec.Struct):
    instId: str
    tradeId: str


class BalanceAndPosition(msgspec.Struct):
    """One ``balance_and_position`` item: only what changed (``eventType`` filled, funding_fee, ...)."""

    pTime: str
    eventType: str
    balData: list[BalData] = []
    posData: list[PosData] = []
    trades: list[TradeRef] = []


WsBalanceAndPositionMessage = WsPush[BalanceAndPosition]

WS_HEADER_DECODER = msgspec.json.Decoder(WsHeader)
WS_EVENT_DECODER = msgspec.json.Decoder(WsEvent)
