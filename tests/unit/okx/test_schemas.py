"""Every documented OKX sample decodes into its Struct; the envelope raises typed errors before any field."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from brokers.okx import schemas as s
from protocol import errors as e
from tests.unit.okx import samples

REST: list[tuple[bytes, type]] = [
    (samples.SERVER_TIME, s.ServerTime), (samples.INSTRUMENTS_SPOT, s.InstrumentInfo),
    (samples.INSTRUMENTS_SWAP, s.InstrumentInfo), (samples.TICKER, s.Ticker), (samples.BOOKS, s.OrderBookSnapshot),
    (samples.HISTORY_CANDLES, list), (samples.HISTORY_TRADES, s.PublicTrade), (samples.FUNDING_RATE, s.FundingRate),
    (samples.FUNDING_RATE_HISTORY, s.FundingRateHistory), (samples.MARK_PRICE, s.MarkPrice),
    (samples.OPEN_INTEREST, s.OpenInterest), (samples.INDEX_TICKERS, s.IndexTicker),
    (samples.BALANCE, s.AccountBalance), (samples.POSITIONS_MARGIN, s.PositionInfo),
    (samples.ACCOUNT_CONFIG, s.AccountConfig), (samples.LEVERAGE_INFO, s.LeverageInfo),
    (samples.ORDER_DETAILS, s.OrderInfo), (samples.FILLS, s.FillInfo),
]


@pytest.mark.parametrize(("body", "item"), REST)
def test_documented_rest_samples_decode(body: bytes, item: type) -> None:
    rows = s.decode_answer(body, item if item is not list else s.CandleRow)  # type: ignore[arg-type]
    assert rows


def test_fields_arrive_exact() -> None:
    spot = s.decode_answer(samples.INSTRUMENTS_SPOT, s.InstrumentInfo)[0]
    assert spot.lotSz == Decimal("0.00000001") and spot.minSz == Decimal("0.00001") and spot.ctVal == ""
    assert spot.instIdCode == 1000000000 and spot.upcChg[0].newValue == "0.0001"
    book = s.decode_answer(samples.BOOKS, s.OrderBookSnapshot)[0]
    assert book.asks == [("41006.8", "0.60038921", "0", "1")] and book.seqId == 3235851742
    fr = s.decode_answer(samples.FUNDING_RATE, s.FundingRate)[0]
    assert fr.fundingRate == Decimal("0.0000182221218054") and fr.nextFundingRate == ""
    balance = s.decode_answer(samples.BALANCE, s.AccountBalance)[0]
    assert balance.details[0].frozenBal == "158.573" and balance.totalEq == "55837.43556134779"
    order = s.decode_answer(samples.ORDER_DETAILS, s.OrderInfo)[0]
    assert order.sz == Decimal(100) and order.tgtCcy == "quote_ccy" and order.accFillSz == "0.00192834"


def test_order_answers_carry_items() -> None:
    ack = s.decode_order_answer(samples.PLACE_ORDER, s.OrderAck)[0]
    assert (ack.ordId, ack.clOrdId, ack.sCode) == ("312269865356374016", "oktswap6", "0")
    s.check_item(ack)
    failed = s.decode_order_answer(samples.PLACE_ORDER_FAILED, s.OrderAck)[0]
    with pytest.raises(e.InsufficientFunds) as caught:
        s.check_item(failed)
    assert caught.value.code == "51008_1001" and caught.value.client_order_id == "oktswap6"
    first, second = s.decode_order_answer(samples.BATCH_PARTIAL, s.OrderAck)
    assert s.item_error_of(first) is None and isinstance(s.item_error_of(second), e.DuplicateOrder)
    cancel = s.decode_order_answer(samples.CANCEL_ORDER, s.CancelAck)[0]
    assert cancel.ordId == "12345689" and s.item_error_of(cancel) is None


def test_decode_answer_refuses_a_batch_failure_as_success() -> None:
    with pytest.raises(e.BrokerError):
        s.decode_answer(samples.PLACE_ORDER_FAILED, s.OrderAck)


@pytest.mark.parametrize(("body", "kind"), [
    (samples.ERROR_INVALID_SIGN, e.AuthenticationError), (samples.ERROR_RATE_LIMIT, e.RateLimited),
    (samples.ERROR_ORDER_NOT_FOUND, e.OrderNotFound),
    (b'{"code":"51001","msg":"Instrument ID does not exist","data":[{"unexpected":1}]}', e.InvalidOrder),
    (b'{"code":"1","msg":"All operations failed","data":[]}', e.BrokerError),
])
def test_errors_raise_before_any_field_is_read(body: bytes, kind: type[e.BrokerError]) -> None:
    with pytest.raises(kind):
        s.decode_answer(body, s.Ticker)
    with pytest.raises(kind):
        s.decode_order_answer(body, s.OrderAck)


@pytest.mark.parametrize("body", [b"<html>", b'{"msg":"no code"}', b'{"code":"0","data":[{"instId":1}]}'])
def test_garbage_is_a_protocol_violation(body: bytes) -> None:
    with pytest.raises(e.ProtocolViolation):
        s.decode_answer(body, s.Ticker)


def test_opt_decimal() -> None:
    assert s.opt_decimal("") is None and s.opt_decimal("1.50") == Decimal("1.50")
    assert s.decimal_or_zero("") == 0
    for bad in ("abc", "NaN", "Infinity"):
        with pytest.raises(e.ProtocolViolation):
            s.opt_decimal(bad, field="px")


WS: list[tuple[bytes, type]] = [
    (samples.WS_BOOKS_SNAPSHOT, s.WsBookMessage), (samples.WS_BOOKS_UPDATE, s.WsBookMessage),
    (samples.WS_BBO_TBT, s.WsBookMessage), (samples.WS_BOOKS5, s.WsBookMessage),
    (samples.WS_FUNDING_RATE, s.WsFundingRateMessage), (samples.WS_MARK_PRICE, s.WsMarkPriceMessage),
    (samples.WS_TICKERS, s.WsTickersMessage), (samples.WS_TRADES, s.WsTradesMessage),
    (samples.WS_CANDLE, s.WsCandleMessage), (samples.WS_OPEN_INTEREST, s.WsOpenInterestMessage),
    (samples.WS_ORDERS, s.WsOrdersMessage), (samples.WS_POSITIONS, s.WsPositionsMessage),
    (samples.WS_BALANCE_AND_POSITION, s.WsBalanceAndPositionMessage),
]


@pytest.mark.parametrize(("body", "kind"), WS)
def test_documented_pushes_decode_and_route(body: bytes, kind: type) -> None:
    message = msgspec.json.decode(body, type=kind)
    header = s.WS_HEADER_DECODER.decode(body)
    assert header.arg is not None and header.arg.channel == message.arg.channel and not header.event


def test_push_details() -> None:
    snapshot = msgspec.json.decode(samples.WS_BOOKS_SNAPSHOT, type=s.WsBookMessage)
    assert snapshot.action == "snapshot" and snapshot.data[0].prevSeqId == -1 and snapshot.data[0].checksum == 0
    bbo = msgspec.json.decode(samples.WS_BBO_TBT, type=s.WsBookMessage)
    assert bbo.action == "" and bbo.data[0].seqId == 363996337
    positions = msgspec.json.decode(samples.WS_POSITIONS, type=s.WsPositionsMessage)
    assert positions.eventType == "snapshot" and positions.lastPage and positions.data[1].instId == "ETH-USD-SWAP"
    orders = msgspec.json.decode(samples.WS_ORDERS, type=s.WsOrdersMessage)
    assert orders.data[0].execType == "M" and orders.data[0].fillFee == "-0.02522168"


@pytest.mark.parametrize(("body", "event", "code"), [
    (samples.WS_LOGIN_OK, "login", "0"), (samples.WS_LOGIN_FAILED, "error", "60009"),
    (samples.WS_SUBSCRIBED, "subscribe", ""), (samples.WS_SUBSCRIBE_FAILED, "error", "60012"),
])
def test_events(body: bytes, event: str, code: str) -> None:
    parsed = s.WS_EVENT_DECODER.decode(body)
    assert (parsed.event, parsed.code, parsed.connId) == (event, code, "a4d3ae55")
    assert s.WS_HEADER_DECODER.decode(body).event == event
