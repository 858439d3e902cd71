"""Alpaca <-> protocol mapping: documented samples, every status, order-body rules, exact round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.alpaca import mapping as m
from brokers.alpaca import schemas as s
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
from tests.unit.alpaca import samples

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
AAPL = m.instrument_from(msgspec.json.decode(samples.ASSET_AAPL, type=s.Asset))
WHOLE = m.instrument_from(s.Asset(id="x", asset_class="us_equity", exchange="NYSE", symbol="BRK.B", status="active",
                                  tradable=True, marginable=True, shortable=False, easy_to_borrow=False,
                                  fractionable=False))


def request(**fields: object) -> OrderRequest:
    base: dict[str, object] = {"venue": "alpaca", "symbol": "AAPL", "side": Side.BUY, "type": OrderType.LIMIT,
                               "quantity": Decimal(2), "price": Decimal(150), "time_in_force": TimeInForce.GTC}
    return OrderRequest(**(base | fields))  # type: ignore[arg-type]


# --- instruments ----------------------------------------------------------------------------------------

def test_asset_becomes_a_stock_instrument() -> None:
    assert (AAPL.symbol, AAPL.venue_symbol, AAPL.market_type, AAPL.quote) == ("AAPL", "AAPL", MarketType.STOCK, "USD")
    assert AAPL.tick_size == Decimal("0.01") and AAPL.lot_size == Decimal("1e-9") and AAPL.min_notional == 1
    assert AAPL.fractionable and AAPL.shortable and AAPL.easy_to_borrow and AAPL.exchange == "NASDAQ"
    assert AAPL.trading
    assert WHOLE.lot_size == 1 and WHOLE.min_qty == 1 and not WHOLE.fractionable and not WHOLE.shortable


def test_inactive_or_untradable_assets_do_not_trade_and_crypto_is_refused() -> None:
    inactive = msgspec.json.decode(samples.ASSET_AAPL.replace(b'"active"', b'"inactive"'), type=s.Asset)
    assert not m.instrument_from(inactive).trading
    crypto = msgspec.json.decode(samples.ASSET_AAPL.replace(b'"us_equity"', b'"crypto"'), type=s.Asset)
    with pytest.raises(e.NotSupported):
        m.instrument_from(crypto)


@pytest.mark.parametrize(("symbol", "ok"), [("AAPL", True), ("BRK.B", True), ("A", True), ("aapl", False),
                                              ("BTC/USD", False), ("", False)])
def test_ticker_rule(symbol: str, ok: bool) -> None:
    if ok:
        assert m.check_ticker(symbol) == symbol
    else:
        with pytest.raises(e.InvalidOrder):
            m.check_ticker(symbol)


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100000), places=4))
def test_sub_penny_rule_is_exact(price: Decimal) -> None:
    tick = m.tick_for(price)
    assert tick == (Decimal("0.01") if price >= 1 else Decimal("0.0001"))
    on_grid = (price // tick) * tick
    if on_grid > 0:
        m.check_price(on_grid, "p")
    off_grid = on_grid + tick / 2
    with pytest.raises(e.InvalidOrder) as raised:
        m.check_price(off_grid, "p")
    assert raised.value.filter == "PRICE_FILTER"


# --- statuses -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "expected"), sorted(m.ORDER_STATUS.items()))
def test_every_status_without_fills(status: str, expected: OrderStatus) -> None:
    assert m.order_status_from(status, Decimal(0), Decimal(10)) is expected


@pytest.mark.parametrize("status", sorted(m.ORDER_STATUS))
def test_fill_rule(status: str) -> None:
    partly = m.order_status_from(status, Decimal(3), Decimal(10))
    full = m.order_status_from(status, Decimal(10), Decimal(10))
    if m.ORDER_STATUS[status] in m.LIVE:
        assert partly is OrderStatus.PARTIALLY_FILLED and full is OrderStatus.FILLED
    else:  # terminal statuses are what Alpaca says, fills or not
        assert partly is full is m.ORDER_STATUS[status] and partly.is_terminal


def test_all_documented_statuses_are_mapped() -> None:
    enums = pytest.importorskip("alpaca.trading.enums", reason="alpaca-py is a dev dependency")
    assert {status.value for status in enums.OrderStatus} <= set(m.ORDER_STATUS)
    assert {event.value for event in enums.TradeEvent} <= m.TRADE_UPDATE_EVENTS
    with pytest.raises(e.ProtocolViolation):
        m.order_status_from("vanished", Decimal(0), None)


# --- orders from the venue ----------------------------------------------------------------------------------

def test_documented_order_maps() -> None:
    order = m.order_from(msgspec.json.decode(samples.ORDER_EQUITY, type=s.Order), AAPL)
    assert order.status is OrderStatus.PENDING_NEW and order.type is OrderType.LIMIT and order.price == 150
    assert order.quantity == 2 and order.time_in_force is TimeInForce.GTC and order.order_class is OrderClass.SIMPLE
    assert order.created_at.tzinfo is UTC and order.average_price is None
    filled = m.order_from(msgspec.json.decode(samples.ORDER_FRACTIONAL_FILLED, type=s.Order), AAPL)
    assert filled.status is OrderStatus.FILLED and filled.average_price == Decimal("154.03")
    assert filled.quantity == Decimal("0.1")


def test_offsets_become_utc_and_replaced_orders_name_their_successor() -> None:
    update = s.decode_trading_message(samples.TRADE_UPDATE_FILL)
    assert isinstance(update, s.TradeUpdate)
    order = m.order_from(update.order, AAPL)
    assert order.created_at == datetime(2022, 4, 19, 17, 45, 4, 981351, tzinfo=UTC)
    replaced = msgspec.structs.replace(update.order, status="replaced", replaced_by="new-id", filled_qty=Decimal(0))
    assert m.order_from(replaced, AAPL).reject_reason == "replaced by new-id"
    assert m.order_from(replaced, AAPL).status is OrderStatus.CANCELED


def test_notional_order_quantity_is_what_has_filled() -> None:
    raw = msgspec.json.decode(samples.ORDER_FRACTIONAL_FILLED, type=s.Order)
    notional = msgspec.structs.replace(raw, qty=None, notional=Decimal("15.4"), filled_qty=Decimal("0.1"))
    order = m.order_from(notional, AAPL)
    assert order.notional == Decimal("15.4") and order.quantity == Decimal("0.1")


def test_bracket_legs_point_at_their_parent() -> None:
    raw = msgspec.json.decode(samples.ORDER_EQUITY, type=s.Order)
    leg = msgspec.structs.replace(raw, id="leg-1", client_order_id="leg-c", status="held", type="stop",
                                  limit_price=None, stop_price=Decimal(140), side="sell")
    parent = msgspec.structs.replace(raw, order_class="bracket", legs=[leg])
    orders = m.orders_from(parent, AAPL)
    assert [o.order_id for o in orders] == [raw.id, "leg-1"] and orders[1].parent_order_id == raw.id
    assert orders[0].order_class is OrderClass.BRACKET and orders[1].status is OrderStatus.PENDING_NEW
    assert orders[1].type is OrderType.STOP_MARKET and orders[1].stop_price == 140


# --- order bodies -----------------------------------------------------------------------------------------

def test_documented_request_body() -> None:
    """reference/postorder request example "Equity", plus our client order id."""
    body = m.order_body(request(), AAPL, "cid-1")
    assert body == {"symbol": "AAPL", "qty": "2", "side": "buy", "type": "limit", "limit_price": "150",
                    "time_in_force": "gtc", "client_order_id": "cid-1"}


def test_documented_fractional_and_notional_bodies() -> None:
    """docs/fractional-trading sample requests."""
    notional = m.order_body(request(type=OrderType.MARKET, price=None, quantity=Decimal(0),
                                    notional=Decimal("500.75"), time_in_force=TimeInForce.DAY), AAPL, "c")
    assert notional == {"symbol": "AAPL", "notional": "500.75", "side": "buy", "type": "market",
                        "time_in_force": "day", "client_order_id": "c"}
    fractional = m.order_body(request(type=OrderType.MARKET, price=None, quantity=Decimal("3.654"),
                                      time_in_force=TimeInForce.DAY), AAPL, "c")
    assert fractional["qty"] == "3.654"


def test_every_order_type_and_linked_class_builds() -> None:
    stop = m.order_body(request(type=OrderType.STOP_MARKET, price=None, stop_price=Decimal("140.5"),
                                side=Side.SELL), AAPL, "c")
    assert stop["type"] == "stop" and stop["stop_price"] == "140.5" and "limit_price" not in stop
    stop_limit = m.order_body(request(type=OrderType.STOP_LIMIT, stop_price=Decimal(140), price=Decimal(139)),
                              AAPL, "c")
    assert (stop_limit["stop_price"], stop_limit["limit_price"]) == ("140", "139")
    trailing = m.order_body(request(type=OrderType.TRAILING_STOP, price=None, trail_percent=Decimal("1.5"),
                                    side=Side.SELL), AAPL, "c")
    assert trailing["trail_percent"] == "1.5" and trailing["type"] == "trailing_stop"
    bracket = m.order_body(request(order_class=OrderClass.BRACKET, take_profit_price=Decimal(160),
                                   stop_loss_price=Decimal(140), stop_loss_limit_price=Decimal("139.5")), AAPL, "c")
    assert bracket["order_class"] == "bracket" and bracket["take_profit"] == {"limit_price": "160"}
    assert bracket["stop_loss"] == {"stop_price": "140", "limit_price": "139.5"}
    oto = m.order_body(request(order_class=OrderClass.OTO, stop_loss_price=Decimal(140)), AAPL, "c")
    assert oto["order_class"] == "oto" and "take_profit" not in oto
    oco = m.order_body(request(order_class=OrderClass.OCO, side=Side.SELL, take_profit_price=Decimal(160),
                               stop_loss_price=Decimal(140)), AAPL, "c")
    assert oco["order_class"] == "oco"
    extended = m.order_body(request(extended_hours=True, time_in_force=TimeInForce.DAY), AAPL, "c")
    assert extended["extended_hours"] is True
    opg = m.order_body(request(type=OrderType.MARKET, price=None, time_in_force=TimeInForce.OPG), AAPL, "c")
    assert opg["time_in_force"] == "opg"


@pytest.mark.parametrize(("fields", "filter_name"), [
    ({"quantity": Decimal("0.5")}, "LOT_SIZE"),  # fractional GTC
    ({"quantity": Decimal(1), "notional": Decimal(10), "type": OrderType.MARKET, "price": None,
      "time_in_force": TimeInForce.DAY}, "NOTIONAL"),
    ({"quantity": Decimal(0), "notional": Decimal("0.5"), "type": OrderType.MARKET, "price": None,
      "time_in_force": TimeInForce.DAY}, "NOTIONAL"),
    ({"quantity": Decimal(0)}, "LOT_SIZE"),
    ({"quantity": Decimal("1e-10")}, "LOT_SIZE"),
    ({"price": Decimal("150.001")}, "PRICE_FILTER"),
    ({"price": None}, "PRICE_FILTER"),
    ({"type": OrderType.MARKET}, "PRICE_FILTER"),  # a market order with a limit price is refused, not dropped
    ({"stop_price": Decimal(140)}, "PRICE_FILTER"),
    ({"type": OrderType.TRAILING_STOP, "price": None}, "PRICE_FILTER"),
    ({"type": OrderType.TRAILING_STOP, "price": None, "trail_price": Decimal(1), "trail_percent": Decimal(1)},
     "PRICE_FILTER"),
    ({"type": OrderType.TRAILING_STOP, "price": None, "trail_price": Decimal(1), "time_in_force": TimeInForce.IOC},
     "TIME_IN_FORCE"),
    ({"trail_price": Decimal(1)}, "PRICE_FILTER"),
    ({"extended_hours": True}, "EXTENDED_HOURS"),  # GTC
    ({"extended_hours": True, "type": OrderType.MARKET, "price": None, "time_in_force": TimeInForce.DAY},
     "EXTENDED_HOURS"),
    ({"type": OrderType.STOP_MARKET, "price": None, "stop_price": Decimal(1), "time_in_force": TimeInForce.CLS},
     "TIME_IN_FORCE"),
    ({"time_in_force": TimeInForce.POST_ONLY}, "TIME_IN_FORCE"),
    ({"reduce_only": True}, "REDUCE_ONLY"),
    ({"take_profit_price": Decimal(160)}, "ORDER_CLASS"),
    ({"order_class": OrderClass.BRACKET, "take_profit_price": Decimal(160)}, "ORDER_CLASS"),
    ({"order_class": OrderClass.OTO}, "ORDER_CLASS"),
    ({"order_class": OrderClass.OTO, "take_profit_price": Decimal(160), "stop_loss_price": Decimal(140)},
     "ORDER_CLASS"),
    ({"order_class": OrderClass.OCO, "type": OrderType.MARKET, "price": None, "take_profit_price": Decimal(160),
      "stop_loss_price": Decimal(140)}, "ORDER_CLASS"),
    ({"order_class": OrderClass.BRACKET, "take_profit_price": Decimal(160), "stop_loss_price": Decimal(140),
      "time_in_force": TimeInForce.IOC}, "TIME_IN_FORCE"),
    ({"order_class": OrderClass.OTO, "stop_loss_limit_price": Decimal(139)}, "ORDER_CLASS"),
    ({"order_class": OrderClass.BRACKET, "take_profit_price": Decimal(160), "stop_loss_price": Decimal(140),
      "quantity": Decimal("0.5"), "time_in_force": TimeInForce.DAY}, "ORDER_CLASS"),
])
def test_refused_before_sending(fields: dict[str, object], filter_name: str) -> None:
    with pytest.raises(e.InvalidOrder) as raised:
        m.order_body(request(**fields), AAPL, "cid-1")
    assert raised.value.filter == filter_name and raised.value.client_order_id == "cid-1"


def test_not_fractionable_not_tradable_leverage_and_bad_ids() -> None:
    with pytest.raises(e.InvalidOrder, match="not fractionable"):
        m.order_body(request(symbol="BRK.B", quantity=Decimal("0.5"), time_in_force=TimeInForce.DAY), WHOLE, "c")
    halted = msgspec.structs.replace(AAPL, trading=False)
    with pytest.raises(e.InvalidOrder, match="not tradable"):
        m.order_body(request(), halted, "c")
    with pytest.raises(e.NotSupported):
        m.order_body(request(leverage=Decimal(2)), AAPL, "c")
    with pytest.raises(e.InvalidOrder) as raised:
        m.order_body(request(), AAPL, "x" * 129)
    assert raised.value.filter == "CLIENT_ORDER_ID"


def test_replace_and_close_bodies() -> None:
    assert m.replace_body(quantity=Decimal(3), price=Decimal("151.25"), new_client_order_id="r1") == \
        {"qty": "3", "limit_price": "151.25", "client_order_id": "r1"}
    assert m.replace_body(trail=Decimal("0.5"), time_in_force=TimeInForce.DAY) == {"trail": "0.5",
                                                                                  "time_in_force": "day"}
    with pytest.raises(e.InvalidOrder):
        m.replace_body()
    with pytest.raises(e.InvalidOrder):
        m.replace_body(price=Decimal("1.001"))
    assert m.close_position_query() == {} and m.close_position_query(quantity=Decimal(5)) == {"qty": "5"}
    assert m.close_position_query(percentage=Decimal(50)) == {"percentage": "50"}
    for bad in ({"quantity": Decimal(1), "percentage": Decimal(1)}, {"percentage": Decimal(101)},
                {"quantity": Decimal(0)}):
        with pytest.raises(e.InvalidOrder):
            m.close_position_query(**bad)  # type: ignore[arg-type]


def _venue_echo(body: dict[str, object], order_id: str) -> s.Order:
    """What Alpaca answers to the body (the fields it echoes), for the round trip."""
    def dec(key: str, source: dict[str, object] = body) -> Decimal | None:
        value = source.get(key)
        return Decimal(str(value)) if value is not None else None

    return s.Order(id=order_id, client_order_id=str(body["client_order_id"]), created_at=NOW, symbol=str(body["symbol"]),
                   side=str(body["side"]), type=str(body["type"]), time_in_force=str(body["time_in_force"]),
                   status="new", filled_qty=Decimal(0), qty=dec("qty"), notional=dec("notional"),
                   limit_price=dec("limit_price"), stop_price=dec("stop_price"), trail_price=dec("trail_price"),
                   trail_percent=dec("trail_percent"), extended_hours=bool(body.get("extended_hours", False)),
                   order_class=str(body.get("order_class", "")))


prices = st.decimals(min_value=Decimal(1), max_value=Decimal(5000), places=2)


@st.composite
def valid_requests(draw: st.DrawFn) -> OrderRequest:
    order_type = draw(st.sampled_from(list(OrderType)))
    fractional = draw(st.booleans()) and order_type in m.FRACTIONAL_TYPES
    tif = TimeInForce.DAY if fractional else draw(st.sampled_from(
        [TimeInForce.DAY, TimeInForce.GTC] if order_type is OrderType.TRAILING_STOP else
        [TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]))
    quantity = draw(st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(1000), places=9)) if fractional \
        else Decimal(draw(st.integers(1, 10_000)))
    fields: dict[str, object] = {"type": order_type, "time_in_force": tif, "quantity": quantity, "price": None,
                                 "side": draw(st.sampled_from(list(Side)))}
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        fields["price"] = draw(prices)
        fields["extended_hours"] = order_type is OrderType.LIMIT and tif is TimeInForce.DAY and draw(st.booleans())
    if order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
        fields["stop_price"] = draw(prices)
    if order_type is OrderType.TRAILING_STOP:
        fields[draw(st.sampled_from(["trail_price", "trail_percent"]))] = draw(prices)
    return request(**fields)


@settings(max_examples=200, deadline=None)
@given(valid_requests(), st.text(alphabet="abcdef0123456789-", min_size=1, max_size=128))
def test_order_request_round_trips_through_the_venue_echo(req: OrderRequest, client_order_id: str) -> None:
    body = m.order_body(req, AAPL, client_order_id)
    assert msgspec.json.decode(msgspec.json.encode(body)) == body  # JSON-safe: strings, bools, dicts only
    order = m.order_from(_venue_echo(body, "oid"), AAPL)
    assert (order.side, order.type, order.time_in_force, order.client_order_id) == \
        (req.side, req.type, req.time_in_force, client_order_id)
    assert (order.quantity, order.price, order.stop_price) == (req.quantity, req.price, req.stop_price)
    assert (order.trail_price, order.trail_percent, order.extended_hours) == \
        (req.trail_price, req.trail_percent, req.extended_hours)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e12"), max_value=Decimal("1e12"),
                   places=9))
def test_plain_is_exact(value: Decimal) -> None:
    text = m.plain(value)
    assert Decimal(text) == value and "E" not in text and "e" not in text


# --- fills ----------------------------------------------------------------------------------------------

def test_documented_fill_event_maps() -> None:
    update = s.decode_trading_message(samples.TRADE_UPDATE_FILL)
    assert isinstance(update, s.TradeUpdate) and m.is_fill_event(update)
    fill = m.fill_from_update(update, AAPL)
    assert fill.price == Decimal("105.8988475") and fill.quantity == Decimal("1790.86") and fill.side is Side.SELL
    assert fill.trade_id == "a5be8f5e-fdfa-41f5-a644-7a74fe947a8f:1790.86"
    assert fill.order_filled_quantity == Decimal("1790.86") and fill.fee == 0 and fill.fee_currency == "USD"
    assert fill.timestamp == datetime(2022, 4, 19, 17, 45, 5, 24917, tzinfo=UTC)
    pending = s.decode_trading_message(samples.TRADE_UPDATE_PENDING_NEW)
    assert isinstance(pending, s.TradeUpdate) and not m.is_fill_event(pending)
    with pytest.raises(ValueError):
        m.fill_from_update(pending, AAPL)


def test_inconsistent_fill_events_are_protocol_violations() -> None:
    update = s.decode_trading_message(samples.TRADE_UPDATE_FILL)
    assert isinstance(update, s.TradeUpdate)
    with pytest.raises(e.ProtocolViolation):
        m.fill_from_update(msgspec.structs.replace(update, qty=Decimal(2000)), AAPL)
    with pytest.raises(e.ProtocolViolation):
        m.fill_from_update(msgspec.structs.replace(update, price=None), AAPL)


def test_documented_fill_activity_maps_and_same_millisecond_rows_are_ordered() -> None:
    (row,) = msgspec.json.decode(samples.FILL_ACTIVITY, type=list[s.FillActivity])
    fill = m.fill_from_activity(row, AAPL, "my-cid")
    assert fill.trade_id == "b5abe576-6a8a-49f3-a353-46b72c1ccae9:2" and fill.client_order_id == "my-cid"
    assert fill.order_filled_quantity == 2 and fill.price == Decimal("174.78")
    rows = msgspec.json.decode(samples.FILL_ACTIVITIES_SAME_MS, type=list[s.FillActivity])
    shuffled = [rows[2], rows[0], rows[1]]
    assert [r.cum_qty for r in m.activities_in_execution_order(shuffled)] == [869, 970, 1000]


@given(st.lists(st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(500), places=9), min_size=1,
                max_size=20))
def test_stream_and_activity_fills_of_one_execution_share_one_id(executions: list[Decimal]) -> None:
    """Whatever the executions, the stream and the activity log name each one alike, and never two alike."""
    raw = s.decode_trading_message(samples.TRADE_UPDATE_FILL)
    assert isinstance(raw, s.TradeUpdate)
    total = sum(executions, Decimal(0))
    cumulative, ids = Decimal(0), []
    for index, qty in enumerate(executions):
        cumulative += qty
        order = msgspec.structs.replace(raw.order, qty=total, filled_qty=cumulative,
                                        status="filled" if index == len(executions) - 1 else "partially_filled")
        update = msgspec.structs.replace(raw, order=order, qty=qty, event="partial_fill")
        activity = s.FillActivity(id=f"t::{index}", activity_type="FILL", transaction_time=NOW, type="partial_fill",
                                  price=Decimal(1), qty=qty, side="sell", symbol="AAPL", leaves_qty=total - cumulative,
                                  order_id=order.id, cum_qty=cumulative)
        from_stream = m.fill_from_update(update, AAPL)
        from_log = m.fill_from_activity(activity, AAPL, order.client_order_id)
        assert from_stream.trade_id == from_log.trade_id
        assert from_stream.order_filled_quantity == from_log.order_filled_quantity == cumulative
        ids.append(from_stream.trade_id)
    assert len(set(ids)) == len(ids)


# --- positions and account ----------------------------------------------------------------------------------

def test_long_and_short_positions() -> None:
    long_raw = msgspec.json.decode(samples.POSITION_LONG, type=s.Position)
    long = m.position_from(long_raw, AAPL, NOW)
    assert (long.side, long.quantity, long.entry_price) == (PositionSide.LONG, 2, Decimal("174.78"))
    assert long.unrealized_pnl == Decimal("-0.98") and long.market_value == Decimal("348.58")
    assert long.cost_basis == Decimal("349.56") and long.mark_price == Decimal("174.29")
    assert long.margin_mode is MarginMode.CASH
    short_raw = msgspec.structs.replace(long_raw, side="short", qty=Decimal(-2), market_value=Decimal("-348.58"))
    short = m.position_from(short_raw, AAPL, NOW)
    assert (short.side, short.quantity, short.margin_mode) == (PositionSide.SHORT, 2, MarginMode.CROSS)
    with pytest.raises(e.ProtocolViolation):
        m.position_from(msgspec.structs.replace(long_raw, qty=Decimal(-2)), AAPL, NOW)


def test_account_info() -> None:
    account = msgspec.json.decode(samples.ACCOUNT, type=s.Account)
    info = m.account_info_from(account, NOW)
    assert info.cash == Decimal("-23140.2") and info.equity == Decimal("103820.56")
    assert info.buying_power == Decimal("262113.632") and info.margin_used == Decimal("63480.38")
    assert info.pattern_day_trader is False and info.day_trade_count == 0 and info.shorting_enabled is True
    assert info.can_trade and info.account_type == "margin" and info.currency == "USD"
    assert info.balances[0].free == Decimal("-23140.2")
    blocked = m.account_info_from(msgspec.structs.replace(account, trading_blocked=True), NOW)
    assert not blocked.can_trade and blocked.can_withdraw
    today = msgspec.json.decode(b'{"id": "x", "status": "ACTIVE", "cash": "10", "multiplier": "1"}', type=s.Account)
    now_info = m.account_info_from(today, NOW)
    assert now_info.pattern_day_trader is None and now_info.day_trade_count is None
    assert now_info.account_type == "cash"


# --- market data ------------------------------------------------------------------------------------------

def test_bars_page_to_candles() -> None:
    page = msgspec.json.decode(samples.BARS_PAGE, type=s.BarsPage)
    (candle,) = m.candles_from_page(page, AAPL, "1Min", now=NOW)
    assert candle.interval == "1m" and candle.open == Decimal("178.26") and candle.volume == 1118 and candle.closed
    (live,) = m.candles_from_page(page, AAPL, "1d", now=datetime(2022, 1, 3, 12, tzinfo=UTC))
    assert not live.closed
    assert m.timeframe("1h") == "1Hour" and m.timeframe("1Day") == "1Day"
    with pytest.raises(e.InvalidOrder):
        m.timeframe("7m")
    assert m.interval_end(datetime(2026, 12, 1, tzinfo=UTC), "1M") == datetime(2027, 1, 1, tzinfo=UTC)
    assert m.interval_end(datetime(2026, 12, 1, tzinfo=UTC), "1w") - datetime(2026, 12, 1, tzinfo=UTC) == \
        timedelta(weeks=1)


def test_stream_bars_quotes_and_trades() -> None:
    (bar,) = s.decode_data_frame(samples.DATA_BAR_SPY)
    assert isinstance(bar, s.DataBar)
    candle = m.candle_from_stream(bar, AAPL)
    assert candle.closed and candle.interval == "1m" and candle.close == Decimal("389.12")
    daily = s.DataDailyBar(S="SPY", o=bar.o, h=bar.h, l=bar.l, c=bar.c, v=bar.v, t=bar.t)
    assert not m.candle_from_stream(daily, AAPL).closed
    (quote,) = s.decode_data_frame(samples.DATA_QUOTE_AMD)
    assert isinstance(quote, s.DataQuote)
    ticker = m.ticker_from_quote(quote, AAPL, Decimal("91.96"))
    assert (ticker.bid, ticker.ask, ticker.bid_size, ticker.ask_size) == \
        (Decimal("91.95"), Decimal("91.98"), Decimal(200), Decimal(100))
    dear = msgspec.structs.replace(quote, bp=Decimal(300), ap=Decimal("300.5"))
    assert m.ticker_from_quote(dear, AAPL, Decimal(300)).bid_size is None  # round lot not surely 100
    empty = msgspec.structs.replace(quote, bp=Decimal(0), ap=Decimal(0))
    assert m.ticker_from_quote(empty, AAPL, Decimal(1)).bid is None
    trades = [t for t in s.decode_data_frame(samples.DATA_TRADES) if isinstance(t, s.DataTrade)]
    first, second, third = (m.trade_from(trade, AAPL) for trade in trades[:3])
    assert [t.trade_id for t in (first, second, third)] == ["K-628", "Z-75", "P-1465"]
    assert [t.taker_side for t in (first, second, third)] == [None, None, None]  # Alpaca does not say
    assert third.quantity == 71 and third.timestamp.tzinfo is UTC


def test_snapshot_ticker() -> None:
    snapshot = msgspec.json.decode(samples.SNAPSHOT, type=s.Snapshot)
    ticker = m.ticker_from_snapshot(snapshot, AAPL)
    assert ticker.last == Decimal("125.91") and ticker.bid == Decimal("125.6") and ticker.ask_size == 1200
    assert ticker.timestamp == datetime(2021, 5, 11, 22, 5, 2, 307305, tzinfo=UTC)
    with pytest.raises(e.ProtocolViolation):
        m.ticker_from_snapshot(msgspec.structs.replace(snapshot, latestTrade=None), AAPL)
