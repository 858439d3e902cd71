"""Bybit <-> protocol mapping on the documented samples: Decimal exact, times UTC, both directions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from brokers.bybit import mapping as mp
from brokers.bybit import schemas as s
from brokers.bybit.constants import Category
from brokers.instruments import InstrumentIndex
from brokers.wire import json_body, plain
from protocol.errors import InvalidOrder, NotSupported, ProtocolViolation
from protocol.model import (
    MarginMode,
    MarketType,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from tests.unit.bybit import samples


def _instrument(raw: bytes) -> s.InstrumentInfo:
    return msgspec.json.decode(raw, type=s.Envelope[s.InstrumentsPage]).result.list[0]


LINEAR = mp.instrument_from(Category.LINEAR, _instrument(samples.INSTRUMENTS_LINEAR))
SPOT = mp.instrument_from(Category.SPOT, _instrument(samples.INSTRUMENTS_SPOT))
INVERSE = mp.instrument_from(Category.INVERSE, _instrument(samples.INSTRUMENTS_INVERSE))
SYMBOLS = InstrumentIndex.of("bybit", [LINEAR, SPOT, INVERSE], mp.category_of_instrument)


def test_instruments_carry_the_venue_filters() -> None:
    assert (LINEAR.symbol, LINEAR.venue_symbol, LINEAR.market_type, LINEAR.settle) == (
        "BTC/USDT:USDT", "BTCUSDT", MarketType.LINEAR, "USDT")
    assert (LINEAR.tick_size, LINEAR.lot_size, LINEAR.min_qty, LINEAR.max_qty) == (
        Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), Decimal("1190"))
    assert LINEAR.min_notional == 5 and LINEAR.max_leverage == 100 and LINEAR.trading
    assert (SPOT.symbol, SPOT.venue_symbol, SPOT.settle, SPOT.lot_size) == (
        "BTC/USDT", "BTCUSDT", None, Decimal("0.000001"))
    assert SPOT.min_notional == 5 and SPOT.max_qty == 83 and SPOT.max_leverage == 1
    assert (INVERSE.symbol, INVERSE.settle, INVERSE.lot_size, INVERSE.min_notional) == (
        "BTC/USD:BTC", "BTC", Decimal(1), Decimal(0))


def test_symbol_map_both_directions() -> None:
    assert SYMBOLS.to_venue("BTC/USDT") == (Category.SPOT, "BTCUSDT")
    assert SYMBOLS.to_venue("BTC/USDT:USDT") == (Category.LINEAR, "BTCUSDT")
    assert SYMBOLS.to_venue("BTC/USD:BTC") == (Category.INVERSE, "BTCUSD")
    assert SYMBOLS.from_venue("BTCUSDT", "linear") is LINEAR and SYMBOLS.from_venue("BTCUSDT", Category.SPOT) is SPOT
    with pytest.raises(ProtocolViolation):
        SYMBOLS.from_venue("BTCUSDT", "inverse")
    with pytest.raises(InvalidOrder):
        SYMBOLS.to_venue("ETH/USDT")
    assert [mp.category_of(x) for x in ("BTC/USDT", "BTC/USDT:USDT", "BTC/USD:BTC", "BTC/USDC:USDC-250221")] == [
        Category.SPOT, Category.LINEAR, Category.INVERSE, Category.LINEAR]
    with pytest.raises(NotSupported):
        mp.category_of("BTC/USDT:ETH")


def test_dated_futures_get_an_expiry_suffix() -> None:
    assert mp.unified_symbol(Category.LINEAR, "BTC", "USDT", "USDT", "1740124800000") == "BTC/USDT:USDT-250221"
    assert mp.unified_symbol(Category.LINEAR, "BTC", "USDT", "USDT", "0") == "BTC/USDT:USDT"


def test_order_from_realtime_row() -> None:
    row = msgspec.json.decode(samples.ORDERS_REALTIME, type=s.Envelope[s.OrdersPage]).result.list[0]
    instrument = msgspec.structs.replace(LINEAR, symbol="ETH/USDT:USDT", venue_symbol="ETHUSDT")
    order = mp.order_from(row, instrument)
    assert (order.order_id, order.client_order_id, order.side, order.type, order.status) == (
        "fd4300ae-7847-404e-b947-b46980a4d140", "test-000005", Side.BUY, OrderType.LIMIT, OrderStatus.NEW)
    assert order.quantity == Decimal("0.10") and order.price == Decimal("1600.00") and order.filled_quantity == 0
    assert order.average_price is None and order.stop_price is None  # "0" / "0.00" mean none
    assert order.created_at == datetime(2023, 5, 22, 6, 55, 40, 559000, tzinfo=UTC)


def test_order_from_stream_with_blank_fields() -> None:
    item = msgspec.json.decode(samples.WS_ORDER, type=s.WsOrderMessage).data[0]
    order = mp.order_from(item, LINEAR)
    assert order.status is OrderStatus.FILLED and order.type is OrderType.MARKET and order.price is None
    assert order.average_price == 75 and order.filled_quantity == 1 and order.time_in_force is TimeInForce.IOC


@pytest.mark.parametrize(("venue", "ours"), [
    ("New", OrderStatus.NEW), ("PartiallyFilled", OrderStatus.PARTIALLY_FILLED), ("Untriggered", OrderStatus.NEW),
    ("Triggered", OrderStatus.NEW), ("Rejected", OrderStatus.REJECTED),
    ("PartiallyFilledCanceled", OrderStatus.CANCELED), ("Filled", OrderStatus.FILLED),
    ("Cancelled", OrderStatus.CANCELED), ("Deactivated", OrderStatus.CANCELED),
])
def test_order_status_table(venue: str, ours: OrderStatus) -> None:
    assert mp.order_status_from(venue) is ours


def test_unknown_enums_are_protocol_violations() -> None:
    for call, value in ((mp.order_status_from, "Expired?"), (mp.side_from, "Long"), (mp.time_in_force_from, "GTD")):
        with pytest.raises(ProtocolViolation):
            call(value)


def test_fill_from_rest_execution_derivative() -> None:
    row = msgspec.json.decode(samples.EXECUTIONS, type=s.Envelope[s.ExecutionsPage]).result.list[0]
    fill = mp.fill_from_execution(row, LINEAR)
    assert (fill.trade_id, fill.order_id, fill.side, fill.price, fill.quantity) == (
        "e0cbe81d-0f18-5866-9415-cf319b5dab3b", "8c065341-7b52-4ca9-ac2c-37e31ac55c94", Side.BUY,
        Decimal("1190.15"), Decimal("0.1"))
    assert fill.fee == Decimal("0.071409") and fill.fee_currency == "USDT" and fill.is_maker is False
    assert fill.order_filled_quantity == Decimal("0.1")  # orderQty 0.1 - leavesQty 0
    assert fill.timestamp == datetime(2022, 12, 29, 2, 58, 42, 429000, tzinfo=UTC)


def test_fill_from_stream_execution_and_inverse_fee_currency() -> None:
    item = msgspec.json.decode(samples.WS_EXECUTION, type=s.WsExecutionMessage).data[0]
    assert mp.fill_from_execution(item, INVERSE).fee_currency == "BTC"
    fill = mp.fill_from_execution(item, LINEAR)
    assert fill.side is Side.SELL and fill.quantity == 25 and fill.order_filled_quantity == 25


def _spot_exec(side: str, maker: bool, rate: str, fee_currency: str = "") -> s.ExecutionInfo:
    return s.ExecutionInfo(symbol="BTCUSDT", orderId="1", side=side, execId="x", execPrice=Decimal(1),
                           execQty=Decimal(1), execTime="1672282722429", isMaker=maker, feeRate=rate,
                           feeCurrency=fee_currency, orderType="Limit", orderQty="2", leavesQty="1")


@pytest.mark.parametrize(("side", "maker", "rate", "currency"), [
    ("Buy", False, "0.001", "BTC"), ("Sell", False, "0.001", "USDT"),  # positive rate: buy base, sell quote
    ("Buy", True, "0.001", "BTC"), ("Sell", True, "0.001", "USDT"),
    ("Buy", True, "-0.0001", "USDT"), ("Sell", True, "-0.0001", "BTC"),  # maker rebate flips it
])
def test_spot_fee_currency_rules(side: str, maker: bool, rate: str, currency: str) -> None:
    assert mp.fill_from_execution(_spot_exec(side, maker, rate), SPOT).fee_currency == currency


def test_spot_fee_currency_given_wins_and_spot_market_fill_has_no_progress() -> None:
    assert mp.fee_currency(_spot_exec("Buy", False, "0.001", "USDT"), SPOT) == "USDT"
    market = msgspec.structs.replace(_spot_exec("Buy", False, "0.001"), orderType="Market", orderQty="200")
    assert mp.fill_from_execution(market, SPOT).order_filled_quantity is None  # qty may be quote value


def test_non_trade_executions_are_not_fills() -> None:
    funding = msgspec.structs.replace(_spot_exec("Buy", False, "0.001"), execType="Funding")
    assert not mp.is_trade_execution(funding)
    with pytest.raises(ValueError, match="Funding"):
        mp.fill_from_execution(funding, LINEAR)


def test_positions_rest_and_stream() -> None:
    row = msgspec.json.decode(samples.POSITIONS_INVERSE, type=s.Envelope[s.PositionsPage]).result.list[0]
    position = mp.position_from(row, INVERSE)
    assert (position.side, position.quantity, position.entry_price, position.mark_price) == (
        PositionSide.SHORT, Decimal(300), Decimal("27464.50441675"), Decimal("28224.50"))
    assert position.liquidation_price is None and position.leverage == 10 and position.margin_mode is MarginMode.CROSS
    assert position.unrealized_pnl == Decimal("-0.00029413") and position.realized_pnl == Decimal("-0.00096902")
    assert position.updated_at == datetime(2023, 10, 19, 0, 0, 0, 12000, tzinfo=UTC)
    item = msgspec.json.decode(samples.WS_POSITION, type=s.WsPositionMessage).data[0]
    flat = mp.position_from(item, LINEAR, margin_mode=MarginMode.ISOLATED)
    assert flat.side is PositionSide.FLAT and flat.quantity == 0 and flat.entry_price is None
    assert flat.liquidation_price is None and flat.margin_mode is MarginMode.ISOLATED  # liqPrice "0"
    isolated = msgspec.structs.replace(row, tradeMode=1, side="Buy", liqPrice="25000.5", leverage="")
    mapped = mp.position_from(isolated, INVERSE)
    assert mapped.side is PositionSide.LONG and mapped.liquidation_price == Decimal("25000.5")
    assert mapped.margin_mode is MarginMode.ISOLATED and mapped.leverage == 1  # "" under portfolio margin


def test_balances() -> None:
    coin = msgspec.json.decode(samples.WALLET_BALANCE, type=s.Envelope[s.WalletBalance]).result.list[0].coin[0]
    balance = mp.balance_from(coin)
    assert (balance.currency, balance.free, balance.locked, balance.total) == (
        "BTC", Decimal("0.705994"), Decimal("0.1"), Decimal("0.805994"))
    usdt = msgspec.json.decode(samples.WS_WALLET, type=s.WsWalletMessage).data[0].coin[1]
    margin_heavy = mp.balance_from(usdt)  # order + position IM exceed the wallet balance: capped
    assert margin_heavy.locked == Decimal("106.03036732") and margin_heavy.free == 0


def test_tickers_rest_and_stream_deltas() -> None:
    now = datetime(2023, 1, 16, tzinfo=UTC)
    spot = msgspec.json.decode(samples.TICKERS_SPOT, type=s.Envelope[s.TickersPage]).result.list[0]
    ticker = mp.ticker_from(spot, SPOT, now)
    assert (ticker.last, ticker.bid, ticker.ask, ticker.ask_size) == (
        Decimal("20533.13"), Decimal("20517.96"), Decimal("20527.77"), Decimal("1.862172"))
    snapshot = msgspec.json.decode(samples.WS_TICKER_LINEAR, type=s.WsTickerMessage)
    merged = mp.merge_ticker(None, snapshot.data, snapshot.type)
    merged = mp.merge_ticker(merged, s.WsTicker(symbol="BTCUSDT", bid1Price="17215.00"), "delta")
    live = mp.ticker_from(merged, LINEAR, now)
    assert live.bid == Decimal("17215.00") and live.ask == Decimal("17216.00") and live.last == Decimal("17216.00")
    with pytest.raises(ProtocolViolation):
        mp.merge_ticker(None, s.WsTicker(symbol="BTCUSDT"), "delta")
    spot_ws = msgspec.json.decode(samples.WS_TICKER_SPOT, type=s.WsTickerMessage).data
    assert mp.ticker_from(spot_ws, SPOT, now).bid is None


def test_trades_and_candles() -> None:
    trade = mp.trade_from(msgspec.json.decode(samples.WS_TRADE, type=s.WsTradeMessage).data[0], LINEAR)
    assert trade.taker_side is Side.BUY and trade.price == Decimal("16578.50") and trade.timestamp.tzinfo is UTC
    page = msgspec.json.decode(samples.KLINE, type=s.Envelope[s.KlinePage]).result
    now = datetime(2022, 12, 9, 18, 30, tzinfo=UTC)  # inside the newest hour
    candles = mp.candles_from_rows(page.list, INVERSE, "1h", now=now)
    assert [c.open_time.hour for c in candles] == [16, 17, 18]  # oldest first
    assert [c.closed for c in candles] == [True, True, False]
    assert candles[2].close == Decimal("17055.5") and candles[2].volume == 268611 and candles[0].interval == "1h"
    ws = mp.candle_from_ws(msgspec.json.decode(samples.WS_KLINE, type=s.WsKlineMessage).data[0], LINEAR)
    assert ws.interval == "5m" and ws.closed is False and ws.open == Decimal("16649.5")
    assert mp.venue_interval("1d") == "D" and mp.venue_interval("60") == "60"
    assert mp.candle_close_time(datetime(2024, 12, 1, tzinfo=UTC), "M") == datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidOrder):
        mp.venue_interval("7m")


def _request(**changes: object) -> OrderRequest:
    base: dict[str, object] = {"venue": "bybit", "symbol": "BTC/USDT:USDT", "side": Side.BUY,
                               "type": OrderType.LIMIT, "quantity": Decimal("0.0100"), "price": Decimal("6.5E+4")}
    return OrderRequest(**(base | changes))  # type: ignore[arg-type]


def test_order_create_body_linear_limit() -> None:
    body = mp.order_create_body(_request(), LINEAR, "at-1")
    assert body == {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
                    "qty": "0.01", "price": "65000", "timeInForce": "GTC", "orderLinkId": "at-1",
                    "positionIdx": 0, "reduceOnly": False}
    assert json_body(body).startswith(b'{"category":"linear","symbol":"BTCUSDT","side":"Buy"')


def test_order_create_body_spot_market_and_stops() -> None:
    body = mp.order_create_body(_request(symbol="BTC/USDT", type=OrderType.MARKET, price=None), SPOT, "x_1")
    assert body["marketUnit"] == "baseCoin" and body["timeInForce"] == "IOC" and "price" not in body
    assert "reduceOnly" not in body and "positionIdx" not in body
    stop = mp.order_create_body(_request(side=Side.SELL, type=OrderType.STOP_MARKET, price=None,
                                         stop_price=Decimal("60000.0"), reduce_only=True), LINEAR, "s1")
    assert (stop["triggerPrice"], stop["triggerDirection"], stop["reduceOnly"]) == ("60000", 2, True)
    spot_stop = mp.order_create_body(_request(type=OrderType.STOP_LIMIT, stop_price=Decimal(64000)), SPOT, "s2")
    assert spot_stop["orderFilter"] == "StopOrder" and spot_stop["price"] == "65000"
    post_only = mp.order_create_body(_request(time_in_force=TimeInForce.POST_ONLY), LINEAR, "p")
    assert post_only["timeInForce"] == "PostOnly"


@pytest.mark.parametrize(("changes", "client_id", "filter_name"), [
    ({}, "x" * 37, "CLIENT_ORDER_ID"), ({}, "has space", "CLIENT_ORDER_ID"),
    ({"time_in_force": TimeInForce.DAY}, "ok", "TIME_IN_FORCE"), ({"price": None}, "ok", "PRICE_FILTER"),
    ({"type": OrderType.MARKET, "time_in_force": TimeInForce.FOK}, "ok", "TIME_IN_FORCE"),
    ({"type": OrderType.STOP_LIMIT}, "ok", "PRICE_FILTER"),
])
def test_order_create_body_refusals(changes: dict[str, object], client_id: str, filter_name: str) -> None:
    with pytest.raises(InvalidOrder) as caught:
        mp.order_create_body(_request(**changes), LINEAR, client_id)
    assert caught.value.filter == filter_name


def test_spot_reduce_only_and_leverage_bodies() -> None:
    with pytest.raises(InvalidOrder):
        mp.order_create_body(_request(symbol="BTC/USDT", reduce_only=True), SPOT, "r")
    assert mp.set_leverage_body(LINEAR, Decimal("10.0")) == {"category": "linear", "symbol": "BTCUSDT",
                                                            "buyLeverage": "10", "sellLeverage": "10"}
    with pytest.raises(InvalidOrder):
        mp.set_leverage_body(LINEAR, Decimal(101))
    with pytest.raises(NotSupported):
        mp.set_leverage_body(SPOT, Decimal(2))
    assert mp.order_cancel_body(SPOT, client_order_id="abc") == {"category": "spot", "symbol": "BTCUSDT",
                                                                "orderLinkId": "abc"}
    with pytest.raises(InvalidOrder):
        mp.order_cancel_body(SPOT)


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("1E+2"), "100"), (Decimal("0.00010"), "0.0001"), (Decimal("-0"), "0"), (Decimal("123.450"), "123.45"),
])
def test_plain_decimal_strings(value: Decimal, text: str) -> None:
    assert plain(value) == text
