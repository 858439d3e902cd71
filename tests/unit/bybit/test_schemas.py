"""Every Bybit V5 Struct decodes the official sample answers, numbers exact as Decimal."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from brokers.bybit import schemas as s
from protocol.errors import ProtocolViolation
from tests.unit.bybit import samples


def test_envelope_and_server_time() -> None:
    answer = msgspec.json.decode(samples.SERVER_TIME, type=s.Envelope[s.ServerTime])
    assert (answer.retCode, answer.retMsg, answer.time) == (0, "OK", 1688639403423)
    assert answer.result.timeNano == "1688639403423213947"


def test_instruments_linear_spot_inverse() -> None:
    linear = msgspec.json.decode(samples.INSTRUMENTS_LINEAR, type=s.Envelope[s.InstrumentsPage]).result.list[0]
    assert linear.lotSizeFilter.qtyStep == Decimal("0.001") and linear.lotSizeFilter.minNotionalValue == 5
    assert linear.priceFilter.tickSize == Decimal("0.10") and linear.settleCoin == "USDT"
    assert linear.leverageFilter is not None and linear.leverageFilter.maxLeverage == Decimal("100.00")
    spot = msgspec.json.decode(samples.INSTRUMENTS_SPOT, type=s.Envelope[s.InstrumentsPage]).result.list[0]
    assert spot.lotSizeFilter.basePrecision == Decimal("0.000001") and spot.lotSizeFilter.minOrderAmt == 5
    assert spot.leverageFilter is None and spot.settleCoin == "" and spot.marginTrading == "utaOnly"
    inverse = msgspec.json.decode(samples.INSTRUMENTS_INVERSE, type=s.Envelope[s.InstrumentsPage]).result
    assert inverse.category == "inverse" and inverse.list[0].lotSizeFilter.minNotionalValue is None


def test_tickers_keep_blank_strings_for_absent_numbers() -> None:
    spot = msgspec.json.decode(samples.TICKERS_SPOT, type=s.Envelope[s.TickersPage]).result.list[0]
    assert spot.lastPrice == Decimal("20533.13") and s.opt_decimal(spot.ask1Size) == Decimal("1.862172")
    inverse = msgspec.json.decode(samples.TICKERS_INVERSE, type=s.Envelope[s.TickersPage]).result.list[0]
    assert inverse.fundingRate == "-0.001034" and s.opt_decimal(inverse.bid1Price) == Decimal("16596.00")


def test_kline_rows_and_orderbook() -> None:
    page = msgspec.json.decode(samples.KLINE, type=s.Envelope[s.KlinePage]).result
    assert page.list[0][0] == "1670608800000" and page.list[0][4] == Decimal("17055.5") and len(page.list) == 3
    book = msgspec.json.decode(samples.ORDERBOOK, type=s.Envelope[s.OrderbookSnapshot]).result
    assert book.b == [(Decimal("16638.27"), Decimal("0.305749"))] and book.u == 5277055


def test_wallet_positions_orders_executions() -> None:
    wallet = msgspec.json.decode(samples.WALLET_BALANCE, type=s.Envelope[s.WalletBalance]).result.list[0]
    coin = wallet.coin[0]
    assert wallet.accountType == "UNIFIED" and coin.walletBalance == Decimal("0.805994")
    assert coin.availableToWithdraw == "" and s.opt_decimal(coin.availableToWithdraw) is None
    position = msgspec.json.decode(samples.POSITIONS_INVERSE, type=s.Envelope[s.PositionsPage]).result.list[0]
    assert position.size == 300 and position.liqPrice == "" and position.entry_price == Decimal("27464.50441675")
    ack = msgspec.json.decode(samples.ORDER_CREATE, type=s.Envelope[s.OrderAck]).result
    assert (ack.orderId, ack.orderLinkId) == ("1321003749386327552", "spot-test-postonly")
    order = msgspec.json.decode(samples.ORDERS_REALTIME, type=s.Envelope[s.OrdersPage]).result.list[0]
    assert order.qty == Decimal("0.10") and order.cumExecQty == 0 and order.cumFeeDetail == {
        "MNT": Decimal("0.00242968")}
    execution = msgspec.json.decode(samples.EXECUTIONS, type=s.Envelope[s.ExecutionsPage]).result.list[0]
    assert execution.execFee == Decimal("0.071409") and execution.isMaker is False and execution.seq == 4688002127


def test_websocket_messages() -> None:
    book = msgspec.json.decode(samples.WS_ORDERBOOK_SNAPSHOT, type=s.WsOrderbookMessage)
    assert book.type == "snapshot" and book.data.u == 18521288 and book.data.a[0] == (Decimal("16611.00"),
                                                                                      Decimal("0.029"))
    trade = msgspec.json.decode(samples.WS_TRADE, type=s.WsTradeMessage).data[0]
    assert (trade.S, trade.v, trade.p, trade.T) == ("Buy", Decimal("0.001"), Decimal("16578.50"), 1672304486865)
    linear = msgspec.json.decode(samples.WS_TICKER_LINEAR, type=s.WsTickerMessage)
    assert linear.cs == 24987956059 and linear.data.bid1Price == "17215.50"
    spot = msgspec.json.decode(samples.WS_TICKER_SPOT, type=s.WsTickerMessage)
    assert spot.data.bid1Price == "" and spot.data.lastPrice == "16363.78"
    kline = msgspec.json.decode(samples.WS_KLINE, type=s.WsKlineMessage).data[0]
    assert kline.confirm is False and kline.close == 16677
    order = msgspec.json.decode(samples.WS_ORDER, type=s.WsOrderMessage).data[0]
    assert order.leavesQty == "" and order.orderStatus == "Filled" and order.category == "option"
    execution = msgspec.json.decode(samples.WS_EXECUTION, type=s.WsExecutionMessage).data[0]
    assert execution.execQty == 25 and execution.category == "linear"
    position = msgspec.json.decode(samples.WS_POSITION, type=s.WsPositionMessage).data[0]
    assert position.side == "" and position.entryPrice == "0" and position.curRealisedPnl == "1.26"
    wallet = msgspec.json.decode(samples.WS_WALLET, type=s.WsWalletMessage).data[0]
    assert [coin.coin for coin in wallet.coin] == ["USDC", "USDT"] and wallet.coin[1].totalOrderIM == "7539.624"


@pytest.mark.parametrize(("raw", "op", "success"), [
    (samples.WS_AUTH_OK, "auth", True), (samples.WS_PONG_PUBLIC, "ping", True),
    (samples.WS_PONG_PRIVATE, "pong", None), (samples.WS_SUBSCRIBE_OK, "subscribe", True),
])
def test_op_responses(raw: bytes, op: str, success: bool | None) -> None:
    answer = msgspec.json.decode(raw, type=s.WsOpResponse)
    assert answer.op == op and answer.success is success and answer.conn_id
    header = s.WS_HEADER_DECODER.decode(raw)
    assert header.op == op and header.topic == ""


def test_header_routes_data_frames() -> None:
    assert s.WS_HEADER_DECODER.decode(samples.WS_EXECUTION).topic == "execution"
    assert s.WS_HEADER_DECODER.decode(samples.WS_ORDERBOOK_SNAPSHOT).type == "snapshot"


def test_error_envelope_without_result() -> None:
    error = msgspec.json.decode(b'{"retCode":10001,"retMsg":"params error","result":{},"retExtInfo":{},"time":1}',
                                type=s.ErrorEnvelope)
    assert (error.retCode, error.retMsg) == (10001, "params error")


def test_blank_number_helpers() -> None:
    assert s.opt_decimal("") is None and s.opt_decimal("0.10") == Decimal("0.10")
    assert s.decimal_or_zero("") == 0 and s.decimal_or_zero("-1.5") == Decimal("-1.5")
    for garbage in ("abc", "NaN", "Infinity"):
        with pytest.raises(ProtocolViolation):
            s.opt_decimal(garbage, field="liqPrice")
