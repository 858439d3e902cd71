"""OKX <-> protocol: symbols, exact contract conversion (with a property), orders, fills, positions, data."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.okx import mapping as mp
from brokers.okx import schemas as s
from brokers.okx.constants import InstType
from protocol import errors as e
from protocol.model import (
    MarginMode,
    MarketType,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from tests.unit.okx import samples

D = Decimal
SPOT_INFO = s.decode_answer(samples.INSTRUMENTS_SPOT, s.InstrumentInfo)[0]
LINEAR_INFO, INVERSE_INFO = s.decode_answer(samples.INSTRUMENTS_SWAP, s.InstrumentInfo)
SPOT, LINEAR, INVERSE = (mp.instrument_from(i) for i in (SPOT_INFO, LINEAR_INFO, INVERSE_INFO))
SPOT_SPEC, LINEAR_SPEC, INVERSE_SPEC = (mp.contract_spec(i) for i in (SPOT_INFO, LINEAR_INFO, INVERSE_INFO))


# --- symbols and instruments ------------------------------------------------------------------------------

def test_instruments_map_with_sizes_in_our_unit() -> None:
    assert (SPOT.symbol, SPOT.venue_symbol, SPOT.market_type) == ("BTC/USDT", "BTC-USDT", MarketType.SPOT)
    assert (SPOT.lot_size, SPOT.min_qty, SPOT.tick_size, SPOT.max_leverage) == (D("1E-8"), D("0.00001"), D("0.1"), 1)
    assert (LINEAR.symbol, LINEAR.market_type, LINEAR.settle) == ("BTC/USDT:USDT", MarketType.LINEAR, "USDT")
    assert (LINEAR.base, LINEAR.quote, LINEAR.max_leverage) == ("BTC", "USDT", 100)
    assert LINEAR.lot_size == D("0.0001") and LINEAR.min_qty == D("0.0001")  # 0.01 contract x 0.01 BTC
    assert (INVERSE.symbol, INVERSE.market_type, INVERSE.settle) == ("BTC/USD:BTC", MarketType.INVERSE, "BTC")
    assert INVERSE.lot_size == 100 and INVERSE.min_qty == 100  # 1 contract = 100 USD
    assert all(i.contract_size == 1 and i.trading for i in (SPOT, LINEAR, INVERSE))
    assert INVERSE.notional(D(300), D(60000)) == 300 and LINEAR.notional(D("0.01"), D(60000)) == 600


@pytest.mark.parametrize(("symbol", "inst_id"), [
    ("BTC/USDT", "BTC-USDT"), ("BTC/USDT:USDT", "BTC-USDT-SWAP"), ("BTC/USD:BTC", "BTC-USD-SWAP"),
    ("ETH/USDC:USDC", "ETH-USDC-SWAP"), ("BTC/USDT:USDT-250328", "BTC-USDT-250328"),
])
def test_unified_symbols_name_inst_ids(symbol: str, inst_id: str) -> None:
    assert mp.inst_id_of(symbol) == inst_id


@pytest.mark.parametrize("symbol", ["BTCUSDT", "BTC/", "BTC/USDT:", "BTC/USDT:USDT-2503", "BTC/USDT:ETH"])
def test_bad_symbols_are_refused(symbol: str) -> None:
    with pytest.raises(e.InvalidOrder) as caught:
        mp.inst_id_of(symbol)
    assert caught.value.filter == "SYMBOL"


def test_dated_future_and_preopen_spot_and_refused_types() -> None:
    future = msgspec.structs.replace(LINEAR_INFO, instType="FUTURES", instId="BTC-USDT-250328")
    assert mp.unified_symbol(future) == "BTC/USDT:USDT-250328"
    preopen = msgspec.structs.replace(SPOT_INFO, instId="NEW-USDT", baseCcy="", quoteCcy="", state="preopen")
    assert mp.unified_symbol(preopen) == "NEW/USDT" and not mp.instrument_from(preopen).trading
    with pytest.raises(e.NotSupported):
        mp.instrument_from(msgspec.structs.replace(SPOT_INFO, instType="OPTION"))
    with pytest.raises(e.ProtocolViolation):
        mp.contract_spec(msgspec.structs.replace(LINEAR_INFO, ctVal=""))


# --- contract conversion --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "quantity", "contracts"), [
    (LINEAR_SPEC, D("0.0001"), D("0.01")), (LINEAR_SPEC, D("1"), D("100")), (LINEAR_SPEC, D("0.0123"), D("1.23")),
    (INVERSE_SPEC, D("100"), D("1")), (INVERSE_SPEC, D("2500"), D("25")),
    (SPOT_SPEC, D("0.00001"), D("0.00001")), (SPOT_SPEC, D("0.12345678"), D("0.12345678")),
])
def test_exact_conversion(spec: mp.ContractSpec, quantity: Decimal, contracts: Decimal) -> None:
    assert mp.contracts_from_quantity(spec, quantity) == contracts
    assert mp.quantity_from_contracts(spec, contracts) == quantity


@pytest.mark.parametrize(("spec", "quantity", "why"), [
    (LINEAR_SPEC, D("0.00015"), "whole number of lots"), (LINEAR_SPEC, D("0.00005"), "whole number of lots"),
    (INVERSE_SPEC, D("150"), "whole number of lots"), (INVERSE_SPEC, D("99"), "whole number of lots"),
    (SPOT_SPEC, D("0.000001"), "below the minimum"), (SPOT_SPEC, D("0.000012345"), "whole number of lots"),
    (LINEAR_SPEC, D(0), "positive"), (LINEAR_SPEC, D(-1), "positive"), (LINEAR_SPEC, D("NaN"), "positive"),
    (LINEAR_SPEC, D("1000001"), "above the maximum"),
])
def test_refusals_name_the_lot_size_filter(spec: mp.ContractSpec, quantity: Decimal, why: str) -> None:
    with pytest.raises(e.InvalidOrder, match=why) as caught:
        mp.contracts_from_quantity(spec, quantity, client_order_id="c1")
    assert caught.value.filter == "LOT_SIZE" and caught.value.client_order_id == "c1"


def test_market_orders_use_the_market_maximum() -> None:
    assert mp.contracts_from_quantity(LINEAR_SPEC, D("120")) == 12000  # maxLmtSz is 100,000,000
    with pytest.raises(e.InvalidOrder, match="above the maximum 120"):
        mp.contracts_from_quantity(LINEAR_SPEC, D("120.01"), market=True)


specs = st.builds(
    lambda unit, lot, minimum_lots, ccy: mp.ContractSpec(inst_id="X-SWAP", inst_type=InstType.SWAP, unit=unit,
                                                          unit_ccy=ccy, lot=lot, minimum=lot * minimum_lots),
    unit=st.sampled_from([D("0.01"), D("0.001"), D("1"), D("10"), D("100"), D("0.1"), D("0.0001"), D("3")]),
    lot=st.sampled_from([D("1"), D("0.1"), D("0.01"), D("0.001"), D("5")]),
    minimum_lots=st.integers(min_value=1, max_value=3),
    ccy=st.sampled_from(["BTC", "USD"]),
)
quantities = st.one_of(
    st.decimals(min_value=D("-1"), max_value=D("100000"), places=8, allow_nan=False, allow_infinity=False),
    st.builds(lambda n, e_: D(n).scaleb(-e_), st.integers(min_value=0, max_value=10**9),
              st.integers(min_value=0, max_value=12)),
)


@given(spec=specs, quantity=quantities)
def test_any_quantity_round_trips_exactly_or_is_refused(spec: mp.ContractSpec, quantity: Decimal) -> None:
    try:
        contracts = mp.contracts_from_quantity(spec, quantity)
    except e.InvalidOrder as refused:
        assert refused.filter == "LOT_SIZE"
        lots = quantity / (spec.lot * spec.unit) if quantity > 0 else D(0)
        assert quantity <= 0 or lots != lots.to_integral_value() or lots * spec.lot < spec.minimum
        return
    assert mp.quantity_from_contracts(spec, contracts) == quantity  # exact, never rounded
    lots = contracts / spec.lot
    assert lots == lots.to_integral_value() and contracts >= spec.minimum


@given(spec=specs, lots=st.integers(min_value=1, max_value=10**7))
def test_any_whole_number_of_lots_is_accepted(spec: mp.ContractSpec, lots: int) -> None:
    contracts = spec.lot * lots
    if contracts < spec.minimum:
        return
    assert mp.contracts_from_quantity(spec, mp.quantity_from_contracts(spec, contracts)) == contracts


# --- order requests ---------------------------------------------------------------------------------------------

def _request(**fields: object) -> OrderRequest:
    base: dict[str, object] = {"venue": "okx", "symbol": "BTC/USDT", "side": Side.BUY, "type": OrderType.LIMIT,
                               "quantity": D("0.001"), "price": D("65000.1")}
    return OrderRequest(**(base | fields))  # type: ignore[arg-type]


def test_spot_limit_body() -> None:
    body = mp.order_body(_request(), SPOT, SPOT_SPEC, client_order_id="b15")
    assert body == {"instId": "BTC-USDT", "tdMode": "cash", "clOrdId": "b15", "side": "buy", "ordType": "limit",
                    "px": "65000.1", "sz": "0.001"}


def test_spot_market_is_sized_in_base_and_refused_rather_than_shrunk() -> None:
    body = mp.order_body(_request(type=OrderType.MARKET, price=None), SPOT, SPOT_SPEC, client_order_id="m1")
    assert body["ordType"] == "market" and body["tgtCcy"] == "base_ccy" and body["banAmend"] is True
    notional = mp.order_body(_request(type=OrderType.MARKET, price=None, quantity=D(0), notional=D("25.5")),
                             SPOT, SPOT_SPEC, client_order_id="m2")
    assert notional["sz"] == "25.5" and notional["tgtCcy"] == "quote_ccy"


def test_swap_body_in_contracts_with_margin_mode_and_reduce_only() -> None:
    body = mp.order_body(_request(symbol="BTC/USDT:USDT", side=Side.SELL, quantity=D("0.05"), reduce_only=True,
                                  time_in_force=TimeInForce.POST_ONLY), LINEAR, LINEAR_SPEC, client_order_id="s1")
    assert body == {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "clOrdId": "s1", "side": "sell",
                    "ordType": "post_only", "px": "65000.1", "sz": "5", "reduceOnly": True}
    isolated = mp.order_body(_request(symbol="BTC/USD:BTC", quantity=D(300), margin_mode=MarginMode.ISOLATED,
                                      time_in_force=TimeInForce.IOC), INVERSE, INVERSE_SPEC, client_order_id="s2")
    assert (isolated["tdMode"], isolated["sz"], isolated["ordType"]) == ("isolated", "3", "ioc")


@pytest.mark.parametrize(("fields", "instrument", "kind", "filter_name"), [
    ({"quantity": D("0.00005")}, "linear", e.InvalidOrder, "LOT_SIZE"),
    ({"reduce_only": True}, "spot", e.InvalidOrder, "REDUCE_ONLY"),
    ({"margin_mode": MarginMode.CASH}, "linear", e.InvalidOrder, "MARGIN_MODE"),
    ({"margin_mode": MarginMode.CROSS}, "spot", e.NotSupported, None),
    ({"price": None}, "spot", e.InvalidOrder, "PRICE_FILTER"),
    ({"type": OrderType.STOP_MARKET, "stop_price": D(1)}, "spot", e.NotSupported, None),
    ({"time_in_force": TimeInForce.DAY}, "spot", e.NotSupported, None),
    ({"type": OrderType.MARKET, "price": None, "time_in_force": TimeInForce.FOK}, "spot", e.InvalidOrder,
     "TIME_IN_FORCE"),
    ({"leverage": D(3)}, "linear", e.NotSupported, None),
    ({"order_class": OrderClass.BRACKET, "take_profit_price": D(2)}, "spot", e.NotSupported, None),
    ({"notional": D(10)}, "linear", e.NotSupported, None),
])
def test_refused_requests(fields: dict[str, object], instrument: str, kind: type[e.BrokerError],
                          filter_name: str | None) -> None:
    target, spec = {"spot": (SPOT, SPOT_SPEC), "linear": (LINEAR, LINEAR_SPEC)}[instrument]
    with pytest.raises(kind) as caught:
        mp.order_body(_request(**fields), target, spec, client_order_id="r1")
    assert getattr(caught.value, "filter", None) == filter_name and caught.value.client_order_id == "r1"


@pytest.mark.parametrize("cid", ["with-dash", "x" * 33, ""])
def test_client_order_id_rule_is_enforced(cid: str) -> None:
    with pytest.raises(e.InvalidOrder) as caught:
        mp.order_body(_request(), SPOT, SPOT_SPEC, client_order_id=cid)
    assert caught.value.filter == "CLIENT_ORDER_ID"


def test_long_short_mode_is_refused_in_words() -> None:
    with pytest.raises(e.NotSupported, match="long/short"):
        mp.order_body(_request(), LINEAR, LINEAR_SPEC, client_order_id="a", pos_mode="long_short_mode")


def test_order_references_and_amend() -> None:
    assert mp.order_reference(SPOT, order_id="1", client_order_id="c") == {"instId": "BTC-USDT", "ordId": "1"}
    assert mp.order_reference(SPOT, client_order_id="c") == {"instId": "BTC-USDT", "clOrdId": "c"}
    with pytest.raises(e.InvalidOrder):
        mp.order_reference(SPOT)
    amend = mp.amend_body(LINEAR, LINEAR_SPEC, order_id="9", quantity=D("0.02"), price=D("64000"), request_id="q1")
    assert amend == {"instId": "BTC-USDT-SWAP", "ordId": "9", "newSz": "2", "newPx": "64000", "reqId": "q1"}
    with pytest.raises(e.InvalidOrder):
        mp.amend_body(LINEAR, LINEAR_SPEC, order_id="9")


# --- orders, fills, positions from OKX ---------------------------------------------------------------------------

def test_documented_order_details_quote_sized_market_buy() -> None:
    order = mp.order_from(s.decode_answer(samples.ORDER_DETAILS, s.OrderInfo)[0], SPOT, SPOT_SPEC)
    assert (order.order_id, order.status, order.type, order.side) == ("680800019749904384", OrderStatus.FILLED,
                                                                      OrderType.MARKET, Side.BUY)
    assert order.notional == 100 and order.quantity == order.filled_quantity == D("0.00192834")
    assert order.average_price == 51858 and order.price is None and order.client_order_id == ""
    assert order.created_at == datetime(2024, 2, 22, 7, 36, 13, 361000, tzinfo=UTC)


def test_documented_order_push_and_its_fill() -> None:
    info = msgspec.json.decode(samples.WS_ORDERS, type=s.WsOrdersMessage).data[0]
    order = mp.order_from(info, SPOT, SPOT_SPEC)
    assert (order.status, order.price, order.quantity, order.filled_quantity) == (OrderStatus.FILLED, D("31527.1"),
                                                                                  D("0.001"), D("0.001"))
    fill = mp.fill_from_push(info, SPOT, SPOT_SPEC)
    assert fill is not None
    assert (fill.trade_id, fill.price, fill.quantity, fill.is_maker) == ("242589207", D("31527.1"), D("0.001"), True)
    assert fill.fee == D("0.02522168") and fill.fee_currency == "USDT" and fill.order_filled_quantity == D("0.001")
    assert mp.fill_from_push(msgspec.structs.replace(info, tradeId="", fillSz=""), SPOT, SPOT_SPEC) is None


def test_swap_order_sizes_convert_back_from_contracts() -> None:
    info = msgspec.json.decode(samples.WS_ORDERS, type=s.WsOrdersMessage).data[0]
    swap = msgspec.structs.replace(info, instType="SWAP", instId="BTC-USDT-SWAP", sz=D(5), accFillSz="2",
                                   fillSz="2", state="partially_filled", lever="10", reduceOnly="true", avgPx="0")
    order = mp.order_from(swap, LINEAR, LINEAR_SPEC)
    assert (order.quantity, order.filled_quantity, order.status) == (D("0.05"), D("0.02"),
                                                                     OrderStatus.PARTIALLY_FILLED)
    assert order.reduce_only and order.leverage == 10 and order.average_price is None
    fill = mp.fill_from_push(swap, LINEAR, LINEAR_SPEC)
    assert fill is not None and fill.quantity == D("0.02") and fill.order_filled_quantity == D("0.02")


@pytest.mark.parametrize(("ord_type", "expected"), [
    ("market", (OrderType.MARKET, TimeInForce.IOC)), ("limit", (OrderType.LIMIT, TimeInForce.GTC)),
    ("post_only", (OrderType.LIMIT, TimeInForce.POST_ONLY)), ("fok", (OrderType.LIMIT, TimeInForce.FOK)),
    ("ioc", (OrderType.LIMIT, TimeInForce.IOC)), ("optimal_limit_ioc", (OrderType.MARKET, TimeInForce.IOC)),
])
def test_order_types_and_request_round_trip(ord_type: str, expected: tuple[OrderType, TimeInForce]) -> None:
    assert mp.ORD_TYPE[ord_type] == expected
    if ord_type in mp.LIMIT_ORD_TYPE.values():
        request = _request(time_in_force=expected[1])
        body = mp.order_body(request, SPOT, SPOT_SPEC, client_order_id="rt")
        assert mp.ORD_TYPE[str(body["ordType"])] == (request.type, request.time_in_force)


def test_unknown_venue_values_are_protocol_violations() -> None:
    info = s.decode_answer(samples.ORDER_DETAILS, s.OrderInfo)[0]
    for change in ({"state": "pending"}, {"side": "long"}, {"ordType": "twap"}):
        with pytest.raises(e.ProtocolViolation):
            mp.order_from(msgspec.structs.replace(info, **change), SPOT, SPOT_SPEC)


def test_rest_fill_fee_sign() -> None:
    fill = mp.fill_from(s.decode_answer(samples.FILLS, s.FillInfo)[0], SPOT, SPOT_SPEC)
    assert fill.fee == D("0.00000192834") and fill.fee_currency == "BTC" and not fill.is_maker
    assert fill.quantity == D("0.00192834") and fill.trade_id == "744876980"


def test_documented_inverse_swap_position() -> None:
    info = msgspec.json.decode(samples.WS_POSITIONS, type=s.WsPositionsMessage).data[1]
    eth_usd = mp.instrument_from(msgspec.structs.replace(INVERSE_INFO, instId="ETH-USD-SWAP", instFamily="ETH-USD",
                                                         uly="ETH-USD", settleCcy="ETH", ctVal="10"))
    spec = mp.contract_spec(msgspec.structs.replace(INVERSE_INFO, instId="ETH-USD-SWAP", ctVal="10"))
    position = mp.position_from(info, eth_usd, spec)
    assert (position.symbol, position.side, position.quantity) == ("ETH/USD:ETH", PositionSide.LONG, D(10))
    assert position.entry_price == D("2566.31") and position.mark_price == D("2353.849")
    assert position.unrealized_pnl == D("-0.0000009932766034") and position.realized_pnl == D("0.001")
    assert position.liquidation_price == D("2352.8496681818233") and position.leverage == 10
    assert position.margin_mode is MarginMode.ISOLATED and position.margin == D("0.0003896645377994")
    assert position.fees == D("0.0001")


@pytest.mark.parametrize(("pos", "side", "quantity"), [("3", PositionSide.LONG, D("0.03")),
                                                        ("-2.5", PositionSide.SHORT, D("0.025")),
                                                        ("0", PositionSide.FLAT, D(0))])
def test_net_mode_sign_is_the_side(pos: str, side: PositionSide, quantity: Decimal) -> None:
    info = msgspec.json.decode(samples.WS_POSITIONS, type=s.WsPositionsMessage).data[1]
    net = msgspec.structs.replace(info, instId="BTC-USDT-SWAP", posSide="net", pos=pos, mgnMode="cross",
                                  imr="12.5", liqPx="")
    position = mp.position_from(net, LINEAR, LINEAR_SPEC)
    assert (position.side, position.quantity, position.liquidation_price) == (side, quantity, None)
    assert position.margin == D("12.5") and position.margin_mode is MarginMode.CROSS


def test_margin_positions_are_not_mapped() -> None:
    with pytest.raises(e.NotSupported):
        mp.position_from(s.decode_answer(samples.POSITIONS_MARGIN, s.PositionInfo)[0], SPOT, SPOT_SPEC)


def test_balances_and_account_info() -> None:
    account = s.decode_answer(samples.BALANCE, s.AccountBalance)[0]
    (usdt,) = mp.balances_from(account)
    assert (usdt.currency, usdt.free, usdt.locked) == ("USDT", D("4834.317093622894"), D("158.573"))
    assert usdt.total == D("4992.890093622894")  # = the currency's equity, eq
    config = s.decode_answer(samples.ACCOUNT_CONFIG, s.AccountConfig)[0]
    info = mp.account_info_from(account, config)
    assert info.can_trade and info.can_withdraw and info.account_type == "okx-acctLv2"
    assert info.equity == D("55837.43556134779") and info.margin_used == 0 and info.margin_level is None


def test_leverage() -> None:
    info = mp.leverage_info_from(s.decode_answer(samples.LEVERAGE_INFO, s.LeverageInfo), LINEAR)
    assert (info.leverage, info.max_leverage, info.margin_mode) == (10, 100, MarginMode.CROSS)
    assert mp.set_leverage_body(LINEAR, D("7.5"), MarginMode.ISOLATED) == {"instId": "BTC-USDT-SWAP", "lever": "7.5",
                                                                           "mgnMode": "isolated"}
    with pytest.raises(e.NotSupported):
        mp.set_leverage_body(SPOT, D(2))
    for bad in (D(0), D(101), D("0.001")):
        with pytest.raises(e.InvalidOrder):
            mp.set_leverage_body(LINEAR, bad)


# --- market data ----------------------------------------------------------------------------------------------

def test_ticker_sizes_in_our_unit() -> None:
    ticker = mp.ticker_from(s.decode_answer(samples.TICKER, s.Ticker)[0], INVERSE, INVERSE_SPEC)
    assert (ticker.last, ticker.bid, ticker.ask) == (D("9999.99"), D("8888.88"), D("9999.99"))
    assert (ticker.bid_size, ticker.ask_size) == (D(500), D(1100))  # contracts x 100 USD
    spot = mp.ticker_from(msgspec.json.decode(samples.WS_TICKERS, type=s.WsTickersMessage).data[0], SPOT, SPOT_SPEC)
    assert spot.bid_size == 5 and spot.symbol == "BTC/USDT"


def test_candles_oldest_first_with_volume_in_our_unit() -> None:
    rows = [["1597026443085", "3.7", "3.8", "3.6", "3.75", "10", "0.1", "375", "0"],
            *s.decode_answer(samples.HISTORY_CANDLES, s.CandleRow)[:1]]
    candles = mp.candles_from_rows(rows, LINEAR, LINEAR_SPEC, "1m")
    assert [c.open_time.timestamp() for c in candles] == [1597026383.085, 1597026443.085]
    assert candles[0].volume == D("84224.10") and candles[0].closed and not candles[1].closed
    assert candles[0].interval == "1m" and candles[0].open == D("3.721")
    ws = msgspec.json.decode(samples.WS_CANDLE, type=s.WsCandleMessage).data[0]
    assert mp.candle_from_row(ws, SPOT, SPOT_SPEC, "1d").volume == 45247
    with pytest.raises(e.ProtocolViolation):
        mp.candle_from_row(["1", "2"], SPOT, SPOT_SPEC, "1m")


def test_history_paging_parameters() -> None:
    assert mp.history_page_params("BTC-USDT", "1h") == {"instId": "BTC-USDT", "bar": "1H", "limit": "100"}
    assert mp.history_page_params("BTC-USDT", "1d", until_ms=1597026383085, limit=300)["after"] == "1597026383085"
    assert mp.oldest_ms([["3", "1"], ["1", "1"], ["2", "1"]]) == 1 and mp.oldest_ms([]) is None
    with pytest.raises(e.InvalidOrder):
        mp.bar_of("7m")


def test_public_trades() -> None:
    trades = [mp.trade_from(t, SPOT, SPOT_SPEC) for t in s.decode_answer(samples.HISTORY_TRADES, s.PublicTrade)]
    assert trades[0].taker_side is Side.SELL and trades[0].quantity == D("0.00001") and trades[0].trade_id == "242720720"
    ws = msgspec.json.decode(samples.WS_TRADES, type=s.WsTradesMessage).data[0]
    assert mp.trade_from(ws, LINEAR, LINEAR_SPEC).quantity == D("0.0012060306")


def test_funding_mark_index_open_interest() -> None:
    current = mp.funding_rate_from(s.decode_answer(samples.FUNDING_RATE, s.FundingRate)[0], LINEAR)
    assert current.rate == D("0.0000182221218054") and not current.realized
    assert current.next_funding_time is not None and current.next_funding_time.hour == 0
    settled = [mp.funding_history_from(r, INVERSE)
               for r in s.decode_answer(samples.FUNDING_RATE_HISTORY, s.FundingRateHistory)]
    assert settled[0].rate == D("0.0000746572360545") and settled[0].realized
    index = s.decode_answer(samples.INDEX_TICKERS, s.IndexTicker)[0]
    mark = mp.mark_price_from(s.decode_answer(samples.MARK_PRICE, s.MarkPrice)[0], LINEAR, index)
    assert (mark.mark, mark.index) == (D(200), D(43350)) and mp.index_inst_id(LINEAR) == "BTC-USDT"
    assert mp.index_inst_id(INVERSE) == "BTC-USD"
    oi = mp.open_interest_from(s.decode_answer(samples.OPEN_INTEREST, s.OpenInterest)[0], LINEAR, LINEAR_SPEC)
    assert (oi.quantity, oi.value) == (D("555.55"), D(50000))
    no_ccy = msgspec.structs.replace(s.decode_answer(samples.OPEN_INTEREST, s.OpenInterest)[0], oiCcy="")
    assert mp.open_interest_from(no_ccy, LINEAR, LINEAR_SPEC).quantity == 50
    with pytest.raises(e.ProtocolViolation):
        mp.open_interest_from(no_ccy, INVERSE, INVERSE_SPEC)  # contracts are USD there: base unknown


def test_rest_book() -> None:
    book = mp.order_book_from(s.decode_answer(samples.BOOKS, s.OrderBookSnapshot)[0], SPOT, SPOT_SPEC)
    assert book.bids[0].price == D("41006.3") and book.asks[0].quantity == D("0.60038921")
    assert book.sequence == 3235851742
