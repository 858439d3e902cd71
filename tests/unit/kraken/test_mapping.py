"""Kraken <-> protocol: the pair table, order bodies, orders, fills, margin, account, market data, Earn."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.kraken import mapping as m
from brokers.kraken import schemas as s
from protocol import errors as e
from protocol.model import (
    EarnLockType,
    EarnStatus,
    MarginAlertLevel,
    MarginMode,
    MarketType,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    new_client_order_id,
)
from tests.unit.kraken import samples

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CID = "8f14e45fceea167a5a36dedd4bea2543"  # a short UUID


def table() -> m.PairTable:
    return m.PairTable.from_answers(s.decode_answer(samples.ASSETS, dict[str, s.AssetInfo]),
                                    s.decode_answer(samples.ASSET_PAIRS, dict[str, s.AssetPair]))


TABLE = table()
BTC_USD = TABLE.by_symbol("BTC/USD")


def request(**changes: object) -> OrderRequest:
    fields: dict[str, object] = {"venue": "kraken", "symbol": "BTC/USD", "side": Side.BUY, "type": OrderType.LIMIT,
                                 "quantity": Decimal("1.25"), "price": Decimal("37500"), "client_order_id": CID}
    fields.update(changes)
    return OrderRequest(**fields)  # type: ignore[arg-type]


# --- names -----------------------------------------------------------------------------------------------------


def test_one_market_under_all_its_names() -> None:
    for name in ("XXBTZUSD", "XBTUSD", "XBT/USD", "BTC/USD"):
        assert TABLE.by_venue(name) is BTC_USD
    assert (BTC_USD.rest_name, BTC_USD.altname, BTC_USD.wsname, BTC_USD.ws_symbol) == (
        "XXBTZUSD", "XBTUSD", "XBT/USD", "BTC/USD")
    assert (BTC_USD.base_asset, BTC_USD.quote_asset) == ("XXBT", "ZUSD")
    assert TABLE.by_venue("ETH/XBT").symbol == "ETH/BTC"
    assert TABLE.by_venue("XDGUSD").symbol == "DOGE/USD"


def test_instrument_filters_from_the_pair_row() -> None:
    btc = BTC_USD.instrument
    assert (btc.venue, btc.symbol, btc.venue_symbol, btc.base, btc.quote) == ("kraken", "BTC/USD", "XXBTZUSD", "BTC",
                                                                              "USD")
    assert (btc.tick_size, btc.lot_size, btc.min_qty, btc.min_notional) == (
        Decimal("0.1"), Decimal("0.00000001"), Decimal("0.0001"), Decimal("0.5"))
    assert btc.leverage_buy == btc.leverage_sell == (2, 3, 4, 5) and btc.max_leverage == 5 and btc.trading
    assert btc.market_type is MarketType.SPOT
    doge = TABLE.by_symbol("DOGE/USD").instrument
    assert doge.leverage_buy == (2, 3) and doge.leverage_sell == (2,) and doge.max_leverage == 3
    assert not TABLE.by_symbol("DOT/USD").instrument.trading  # cancel_only
    assert TABLE.by_symbol("DOT/USD").instrument.max_leverage == 1


def test_dark_pool_and_other_venues_are_left_out_and_said_why() -> None:
    assert TABLE.skipped == {"XXBTZUSD.d": "dark pool", "XBTUSD.BN": "execution venue bitnomial_exchange"}
    assert {entry.symbol for entry in TABLE.entries} == {"ETH/BTC", "BTC/USD", "DOT/USD", "DOGE/USD", "ETH/USD",
                                                         "BTC/GBP"}


def test_unknown_symbols_and_names_are_refused() -> None:
    with pytest.raises(e.InvalidOrder, match="no pair") as raised:
        TABLE.by_symbol("XBT/USD")  # Kraken's v1 name is not a unified symbol
    assert raised.value.filter == "SYMBOL"
    with pytest.raises(e.ProtocolViolation):
        TABLE.by_venue("NOPE/USD")


def test_asset_names() -> None:
    assets = TABLE.assets
    assert assets.currency("XXBT") == assets.currency("XBT") == assets.currency("BTC") == "BTC"
    assert assets.currency("ZUSD") == "USD" and assets.currency("XDG") == "DOGE"
    assert assets.venue_asset("BTC") == "XXBT" and assets.venue_asset("USD") == "ZUSD"
    assert m.split_suffix("DOT.S") == ("DOT", "S") and m.split_suffix("XXBT") == ("XXBT", None)
    with pytest.raises(e.ProtocolViolation):
        assets.currency("NEWCOIN")
    assert assets.currency_lenient("NEWCOIN") == "NEWCOIN"
    with pytest.raises(e.InvalidOrder):
        assets.venue_asset("NEWCOIN")


_CODES = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWY", min_size=3, max_size=3)  # no X/Z: prefixed keys stay apart


@given(codes=st.lists(_CODES, min_size=2, max_size=6, unique=True), prefix=st.booleans())
def test_property_the_table_is_built_from_the_answers(codes: list[str], prefix: bool) -> None:
    """Any Assets / AssetPairs answer: each pair is found under its four names and its symbol is made of the
    assets' unified codes -- nothing depends on a pair written in the code."""
    assets = {(("X" + code) if prefix else code): s.AssetInfo(altname=code) for code in codes}
    keys = list(assets)
    pairs = {}
    for base_key, quote_key in itertools.pairwise(keys):
        base, quote = assets[base_key].altname, assets[quote_key].altname
        pairs[base_key + quote_key] = s.AssetPair(altname=base + quote, wsname=f"{base}/{quote}", base=base_key,
                                                  quote=quote_key, pair_decimals=2, lot_decimals=6)
    built = m.PairTable.from_answers(assets, pairs)
    assert len(built.entries) == len(pairs)
    for rest_name, pair in pairs.items():
        symbol = f"{assets[pair.base].altname}/{assets[pair.quote].altname}"
        entry = built.by_symbol(symbol)
        assert entry.rest_name == rest_name and entry.ws_symbol == symbol
        assert built.by_venue(rest_name) is built.by_venue(pair.altname) is built.by_venue(f"{pair.wsname}") is entry


def test_a_name_meaning_two_pairs_is_a_protocol_violation() -> None:
    assets = {"AAA": s.AssetInfo(altname="AAA"), "BBB": s.AssetInfo(altname="BBB"), "CCC": s.AssetInfo(altname="CCC")}
    pairs = {"AAABBB": s.AssetPair(altname="X1", wsname="AAA/BBB", base="AAA", quote="BBB", pair_decimals=1,
                                   lot_decimals=1),
             "AAACCC": s.AssetPair(altname="X1", wsname="AAA/CCC", base="AAA", quote="CCC", pair_decimals=1,
                                   lot_decimals=1)}
    with pytest.raises(e.ProtocolViolation, match="X1"):
        m.PairTable.from_answers(assets, pairs)


def test_pairs_with_unknown_assets_are_skipped_not_guessed() -> None:
    assets = {"AAA": s.AssetInfo(altname="AAA")}
    pairs = {"AAAZZZ": s.AssetPair(altname="AAAZZZ", wsname="AAA/ZZZ", base="AAA", quote="ZZZ", pair_decimals=1,
                                   lot_decimals=1)}
    assert m.PairTable.from_answers(assets, pairs).skipped == {"AAAZZZ": "assets not in Assets: ZZZ"}


# --- order requests --------------------------------------------------------------------------------------------


def test_the_documented_limit_order_body() -> None:
    """The signing example's order (buy 1.25 XBTUSD @ limit 37500) is what a limit request becomes."""
    body = m.add_order_body(request(), BTC_USD)
    assert body == {"ordertype": "limit", "type": "buy", "volume": "1.25", "pair": "XBTUSD", "cl_ord_id": CID,
                    "price": "37500"}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"type": OrderType.MARKET, "price": None}, {"ordertype": "market"}),
    ({"time_in_force": TimeInForce.POST_ONLY}, {"oflags": "post"}),
    ({"time_in_force": TimeInForce.IOC}, {"timeinforce": "IOC"}),
    ({"time_in_force": TimeInForce.FOK}, {"timeinforce": "FOK"}),
    ({"reduce_only": True, "leverage": Decimal(2)}, {"reduce_only": True, "leverage": "2"}),
    ({"side": Side.SELL, "leverage": Decimal("5")}, {"type": "sell", "leverage": "5"}),
    ({"leverage": Decimal(1)}, {}),  # 1 = spot: no leverage parameter
    ({"type": OrderType.STOP_MARKET, "price": None, "stop_price": Decimal("30000")},
     {"ordertype": "stop-loss", "price": "30000"}),
    ({"type": OrderType.STOP_LIMIT, "stop_price": Decimal("30000"), "price": Decimal("29990.5")},
     {"ordertype": "stop-loss-limit", "price": "30000", "price2": "29990.5"}),
    ({"type": OrderType.TRAILING_STOP, "price": None, "trail_percent": Decimal("2.5")},
     {"ordertype": "trailing-stop", "price": "+2.5%"}),
    ({"type": OrderType.TRAILING_STOP, "price": None, "trail_price": Decimal("150")},
     {"ordertype": "trailing-stop", "price": "+150"}),
    ({"client_order_id": "6d1b345e-2821-40e2-ad83-4ecb18a06876"},
     {"cl_ord_id": "6d1b345e-2821-40e2-ad83-4ecb18a06876"}),
    ({"client_order_id": "grid-0001"}, {"cl_ord_id": "grid-0001"}),
])
def test_order_bodies(changes: dict[str, object], expected: dict[str, object]) -> None:
    body = m.add_order_body(request(**changes), BTC_USD)
    for key, value in expected.items():
        assert body[key] == value, key
    if changes.get("type") in (OrderType.MARKET, OrderType.STOP_MARKET):
        assert body.get("price") != "37500"
    if not changes.get("leverage") or changes.get("leverage") == 1:
        assert "leverage" not in body


def test_deadline_and_validate() -> None:
    deadline = m.order_deadline(NOW, 5)
    body = m.add_order_body(request(), BTC_USD, deadline=deadline, validate=True)
    assert body["deadline"] == "2026-11-30T12:00:05.000Z" and body["validate"] is True
    with pytest.raises(ValueError, match="deadline"):
        m.order_deadline(NOW, 61)
    with pytest.raises(ValueError, match="deadline"):
        m.order_deadline(NOW, 1)


@pytest.mark.parametrize(("changes", "kind", "filter_name"), [
    ({"leverage": Decimal(7)}, e.InvalidOrder, "LEVERAGE"),  # not in 2..5
    ({"symbol": "DOGE/USD", "side": Side.SELL, "leverage": Decimal(3)}, e.InvalidOrder, "LEVERAGE"),  # sell: 2 only
    ({"margin_mode": MarginMode.CROSS}, e.InvalidOrder, "LEVERAGE"),
    ({"margin_mode": MarginMode.CASH, "leverage": Decimal(2)}, e.InvalidOrder, "LEVERAGE"),
    ({"margin_mode": MarginMode.ISOLATED, "leverage": Decimal(2)}, e.NotSupported, None),
    ({"quantity": Decimal("0.000000001")}, e.InvalidOrder, "LOT_SIZE"),  # beyond lot_decimals: never rounded
    ({"quantity": Decimal(0)}, e.InvalidOrder, "LOT_SIZE"),
    ({"price": None}, e.InvalidOrder, "PRICE_FILTER"),
    ({"type": OrderType.STOP_MARKET, "price": None}, e.InvalidOrder, "PRICE_FILTER"),
    ({"type": OrderType.TRAILING_STOP, "price": None}, e.InvalidOrder, "PRICE_FILTER"),
    ({"type": OrderType.MARKET, "price": None, "time_in_force": TimeInForce.POST_ONLY}, e.InvalidOrder,
     "TIME_IN_FORCE"),
    ({"time_in_force": TimeInForce.DAY}, e.NotSupported, None),
    ({"notional": Decimal(100), "quantity": Decimal("0.001")}, e.NotSupported, None),
    ({"take_profit_price": Decimal(40000)}, e.NotSupported, None),
    ({"extended_hours": True}, e.NotSupported, None),
    ({"client_order_id": None}, e.InvalidOrder, "CLIENT_ORDER_ID"),
    ({"client_order_id": "this-is-longer-than-18"}, e.InvalidOrder, "CLIENT_ORDER_ID"),
    ({"client_order_id": "has space"}, e.InvalidOrder, "CLIENT_ORDER_ID"),
])
def test_what_kraken_cannot_take_is_refused_typed(changes: dict[str, object], kind: type[e.BrokerError],
                                                 filter_name: str | None) -> None:
    entry = TABLE.by_symbol(str(changes.get("symbol", "BTC/USD")))
    with pytest.raises(kind) as raised:
        m.add_order_body(request(**changes), entry)
    if filter_name is not None:
        assert isinstance(raised.value, e.InvalidOrder) and raised.value.filter == filter_name


def test_the_routers_default_client_id_is_a_kraken_cl_ord_id() -> None:
    """protocol.new_client_order_id() gives 32 hex characters, a short UUID for Kraken."""
    generated = new_client_order_id()
    assert m.cl_ord_id_for(generated) == generated and len(generated) == 32
    assert m.cl_ord_id_for(m.new_cl_ord_id())
    assert m.cl_ord_id_for(str(uuid.uuid4()))
    with pytest.raises(e.InvalidOrder):  # 26 characters of free text: neither a UUID nor short enough
        m.cl_ord_id_for("at" + "0123456789abcdefghijklmn")


def test_cancel_and_lookup_bodies() -> None:
    assert m.cancel_order_body(order_id="OU22CG-KLAF2-FWUDD7", client_order_id=CID) == {"txid": "OU22CG-KLAF2-FWUDD7"}
    assert m.cancel_order_body(client_order_id=CID) == {"cl_ord_id": CID}
    assert m.lookup_by_client_id(CID) == {"cl_ord_id": CID}
    with pytest.raises(e.InvalidOrder):
        m.cancel_order_body()


@given(count=st.integers(0, 400), page=st.integers(1, 50))
def test_property_paging_by_offset_visits_every_row_once(count: int, page: int) -> None:
    seen, ofs = 0, 0
    for _ in range(1000):
        received = min(page, count - ofs)
        seen += received
        following = m.next_offset(ofs, received, count)
        if following is None:
            break
        ofs = following
    assert seen == count


# --- orders and fills read back ---------------------------------------------------------------------------------


def test_open_order_row() -> None:
    rows = s.decode_answer(samples.OPEN_ORDERS, s.OpenOrdersResult).open
    order = m.order_from("OCUG7Z-4EM5R-7ZCJ47", rows["OCUG7Z-4EM5R-7ZCJ47"], TABLE.by_venue("ETHUSD"))
    assert (order.symbol, order.side, order.type, order.status) == ("ETH/USD", Side.BUY, OrderType.LIMIT,
                                                                     OrderStatus.NEW)
    assert order.price == Decimal("1720.37") and order.quantity == Decimal("0.02") and order.filled_quantity == 0
    assert order.average_price is None and order.client_order_id == order.order_id and order.leverage is None
    assert order.created_at == datetime(2023, 4, 6, 10, 37, 7, 576083, tzinfo=UTC)


def test_closed_order_rows() -> None:
    rows = s.decode_answer(samples.CLOSED_ORDERS, s.ClosedOrdersResult).closed
    cancelled = m.order_from("O37652-RJWRT-IMO74O", rows["O37652-RJWRT-IMO74O"], TABLE.by_venue("XBTGBP"))
    assert cancelled.status is OrderStatus.CANCELED and cancelled.reject_reason == "User requested"
    assert cancelled.type is OrderType.STOP_LIMIT and cancelled.stop_price == Decimal("23667.0")
    filled = m.order_from("O6YDQ5-LOMWU-37YKEE", rows["O6YDQ5-LOMWU-37YKEE"], BTC_USD)
    assert filled.status is OrderStatus.FILLED and filled.average_price == Decimal("30300.0")
    assert filled.client_order_id == "6d1b345e-2821-40e2-ad83-4ecb18a06876"
    assert filled.updated_at > filled.created_at


def test_a_closed_order_with_volume_left_is_not_filled() -> None:
    row = s.decode_answer(samples.CLOSED_ORDERS, s.ClosedOrdersResult).closed["O6YDQ5-LOMWU-37YKEE"]
    partial = msgspec.structs.replace(row, vol_exec=Decimal("0.004"))
    assert m.order_from("X", partial, BTC_USD).status is OrderStatus.CANCELED
    opened = msgspec.structs.replace(row, status="open", vol_exec=Decimal("0.004"))
    assert m.order_from("X", opened, BTC_USD).status is OrderStatus.PARTIALLY_FILLED


def test_trade_row_is_a_fill() -> None:
    trades = s.decode_answer(samples.TRADES_HISTORY, s.TradesHistoryResult).trades
    fill = m.fill_from_trade("TPLJ5E-NONOU-5LH7JL", trades["TPLJ5E-NONOU-5LH7JL"], TABLE.by_venue("XETHZUSD"), CID)
    assert (fill.symbol, fill.order_id, fill.trade_id, fill.side) == ("ETH/USD", "OBGFYP-XVQNL-P4GMWF",
                                                                     "TPLJ5E-NONOU-5LH7JL", Side.BUY)
    assert (fill.price, fill.quantity, fill.fee, fill.fee_currency, fill.is_maker) == (
        Decimal("1860.76000"), Decimal("0.02000000"), Decimal("0.05954"), "USD", True)


def test_execution_reports_build_and_advance_the_order() -> None:
    pending = msgspec.json.decode(samples.WS_EXECUTIONS_PENDING, type=s.WsExecutionsMessage).data[0]
    order = m.order_from_execution(pending, BTC_USD)
    assert order is not None and order.status is OrderStatus.PENDING_NEW and order.price == Decimal("26500.0")
    assert order.stop_price is None and order.quantity == Decimal("0.005")
    fill_report = msgspec.json.decode(samples.WS_EXECUTIONS_TRADE, type=s.WsExecutionsMessage).data[0]
    fill = m.fill_from_execution(fill_report, BTC_USD, TABLE.assets)
    assert (fill.trade_id, fill.fee, fill.fee_currency, fill.is_maker, fill.order_filled_quantity) == (
        "TOO7KS-P2G4K-XGZJIV", Decimal("0.17287"), "USD", False, Decimal("0.0025"))
    filled = m.order_from_execution(fill_report, BTC_USD)
    assert filled is not None and filled.status is OrderStatus.FILLED and filled.type is OrderType.MARKET
    cancelled = s.WsExecution(exec_type="canceled", order_id=order.order_id, order_status="canceled",
                              timestamp="2023-09-22T10:34:00Z", reason="User requested")
    assert m.order_from_execution(cancelled, BTC_USD) is None  # nothing to build from: look it up
    after = m.order_from_execution(cancelled, BTC_USD, order)
    assert after is not None and after.status is OrderStatus.CANCELED and after.reject_reason == "User requested"
    assert after.quantity == order.quantity and after.updated_at > order.updated_at


def test_filled_quantity_never_goes_back() -> None:
    report = msgspec.json.decode(samples.WS_EXECUTIONS_TRADE, type=s.WsExecutionsMessage).data[0]
    order = m.order_from_execution(report, BTC_USD)
    assert order is not None
    stale = msgspec.structs.replace(report, exec_type="status", cum_qty=Decimal("0.001"), order_status="filled")
    again = m.order_from_execution(stale, BTC_USD, order)
    assert again is not None and again.filled_quantity == Decimal("0.0025")


def test_non_trade_reports_are_not_fills_and_incomplete_trades_are_refused() -> None:
    pending = msgspec.json.decode(samples.WS_EXECUTIONS_PENDING, type=s.WsExecutionsMessage).data[0]
    with pytest.raises(ValueError, match="not a trade"):
        m.fill_from_execution(pending, BTC_USD, TABLE.assets)
    with pytest.raises(e.ProtocolViolation):
        m.fill_from_execution(s.WsExecution(exec_type="trade", order_id="O", timestamp="2023-09-22T10:34:00Z"),
                              BTC_USD, TABLE.assets)
    with pytest.raises(e.ProtocolViolation):
        m.order_from_execution(s.WsExecution(exec_type="new", order_id="O", order_status="weird",
                                             timestamp="2023-09-22T10:34:00Z"), BTC_USD)


# --- margin, balances, account -------------------------------------------------------------------------------------


def test_open_positions_add_up_per_pair_and_side() -> None:
    rows = s.decode_answer(samples.OPEN_POSITIONS, dict[str, s.OpenPosition])
    [position] = m.positions_from(rows, TABLE)
    assert (position.symbol, position.side, position.market_type, position.margin_mode) == (
        "BTC/USD", PositionSide.LONG, MarketType.MARGIN, MarginMode.CROSS)
    assert position.quantity == Decimal("8.62212861") + Decimal("0.3")
    assert position.cost_basis == Decimal("811243.52842") and position.margin == Decimal("19234.123968")
    assert position.fees == Decimal("211.04527") and position.unrealized_pnl == Decimal("133286.9728")
    assert position.market_value == Decimal("240563.1")
    assert position.entry_price == Decimal("811243.52842") / Decimal("9.12412861")
    assert position.leverage == Decimal("42.18")
    assert position.updated_at == datetime(2021, 4, 18, 12, 14, 57, 200000, tzinfo=UTC)


def test_a_short_position_and_a_closed_row() -> None:
    rows = s.decode_answer(samples.OPEN_POSITIONS, dict[str, s.OpenPosition])
    row = rows["T6YDQ5-KCCUI-7PTUVM"]
    short = {"A": msgspec.structs.replace(row, type="sell"), "B": msgspec.structs.replace(row, posstatus="closed")}
    [position] = m.positions_from(short, TABLE)
    assert position.side is PositionSide.SHORT and position.quantity == Decimal("0.3")


def test_balances_hold_and_suffixes() -> None:
    rows = s.decode_answer(samples.BALANCE_EX, dict[str, s.BalanceExEntry])
    balances = {balance.currency: balance for balance in m.balances_from(rows, TABLE.assets)}
    assert balances["USD"].free == Decimal("17185.45") and balances["USD"].locked == Decimal("8249.76")
    assert balances["BTC"].total == Decimal("1.2")
    staked = {"DOT.S": s.BalanceExEntry(balance=Decimal(5)), "DOT": s.BalanceExEntry(balance=Decimal(1))}
    assert [b.currency for b in m.balances_from(staked, TABLE.assets)] == ["DOT"]


def test_trade_balance_is_the_account_info() -> None:
    trade_balance = s.decode_answer(samples.TRADE_BALANCE, s.TradeBalance)
    info = m.account_info_from(trade_balance, [], currency="USD", now=NOW)
    assert (info.equity, info.margin_used, info.free_margin, info.margin_level, info.cash) == (
        Decimal("382.2032"), Decimal("7.0354"), Decimal("375.1678"), Decimal("5432.57"), Decimal("392.2264"))
    assert info.currency == "USD"


@pytest.mark.parametrize(("level", "expected"), [
    ("5432.57", None), ("151", None), ("150", MarginAlertLevel.WARNING), ("80.5", MarginAlertLevel.WARNING),
    ("80", MarginAlertLevel.MARGIN_CALL), ("41", MarginAlertLevel.MARGIN_CALL), ("40", MarginAlertLevel.LIQUIDATION),
    ("12", MarginAlertLevel.LIQUIDATION)])
def test_margin_alert_levels(level: str, expected: MarginAlertLevel | None) -> None:
    trade_balance = msgspec.structs.replace(s.decode_answer(samples.TRADE_BALANCE, s.TradeBalance), ml=Decimal(level))
    alert = m.margin_alert_from(trade_balance, now=NOW)
    assert (alert.level if alert else None) is expected
    if alert:
        assert alert.margin_level == Decimal(level) and level in alert.message


def test_no_positions_no_alert() -> None:
    assert m.margin_alert_from(s.decode_answer(samples.TRADE_BALANCE_NO_POSITIONS, s.TradeBalance), now=NOW) is None


def test_a_liquidated_order_is_a_liquidation_alert() -> None:
    report = s.WsExecution(exec_type="trade", order_id="OLIQ", liquidated=True, timestamp="2023-09-22T10:34:00Z")
    alert = m.liquidation_alert_from(report, BTC_USD)
    assert alert is not None and alert.level is MarginAlertLevel.LIQUIDATION and alert.symbol == "BTC/USD"
    assert m.liquidation_alert_from(msgspec.structs.replace(report, liquidated=False), BTC_USD) is None


def test_leverage_info_from_the_pair_lists() -> None:
    info = m.leverage_info_from(TABLE.by_symbol("DOGE/USD"))
    assert (info.leverage, info.max_leverage, info.levels_buy, info.levels_sell, info.margin_mode) == (
        1, 3, (2, 3), (2,), MarginMode.CROSS)
    assert m.leverage_info_from(TABLE.by_symbol("DOT/USD")).margin_mode is MarginMode.CASH


# --- market data ----------------------------------------------------------------------------------------------------


def test_tickers_trades_candles() -> None:
    info = s.decode_answer(samples.TICKER, dict[str, s.TickerInfo])["XXBTZUSD"]
    ticker = m.ticker_from_rest(info, BTC_USD, NOW)
    assert (ticker.last, ticker.bid, ticker.ask, ticker.bid_size, ticker.ask_size) == (
        Decimal("30303.20000"), Decimal("30300.00000"), Decimal("30300.10000"), Decimal("1.000"), Decimal("1.000"))
    ws = msgspec.json.decode(samples.WS_TICKER, type=s.WsTickerMessage).data[0]
    assert m.ticker_from_ws(ws, BTC_USD, NOW).ask_size == Decimal("1361.44813783")
    trade = msgspec.json.decode(samples.WS_TRADE, type=s.WsTradeMessage).data[0]
    public = m.trade_from_ws(trade, BTC_USD)
    assert public.trade_id == "4665906" and public.taker_side is Side.BUY
    rows = s.decode_answer(samples.RECENT_TRADES, s.TradesResult)["XXBTZUSD"]
    assert isinstance(rows, list)
    prints = m.trades_from_rows(rows, BTC_USD)
    assert [p.taker_side for p in prints] == [Side.BUY, Side.SELL] and prints[0].trade_id == "61044952"
    ohlc = s.decode_answer(samples.OHLC, s.OhlcResult)["XXBTZUSD"]
    assert isinstance(ohlc, list)
    candles = m.candles_from_rows(ohlc, BTC_USD, "1m", now=datetime.fromtimestamp(1688671379, UTC))
    assert [c.closed for c in candles] == [True, True, False] and candles[0].volume == Decimal("3.39243896")
    streamed = m.candle_from_ws(msgspec.json.decode(samples.WS_OHLC, type=s.WsOhlcMessage).data[0], BTC_USD)
    assert streamed.interval == "5m" and streamed.open_time == datetime(2023, 10, 4, 16, 25, tzinfo=UTC)
    with pytest.raises(e.InvalidOrder):
        m.venue_interval("2m")


# --- Earn -------------------------------------------------------------------------------------------------------------


def test_earn_strategies() -> None:
    items = s.decode_answer(samples.EARN_STRATEGIES, s.EarnStrategies).items
    bonded, instant, flexible = (m.earn_strategy_from(item, TABLE.assets) for item in items)
    assert (bonded.lock_type, bonded.lock_days, bonded.apr_min, bonded.apr_max, bonded.min_amount, bonded.asset) == (
        EarnLockType.BONDED, 28, Decimal("15.0000"), Decimal("21.0000"), Decimal("0.01"), "DOT")
    assert instant.lock_type is EarnLockType.INSTANT and instant.lock_days is None
    assert flexible.lock_type is EarnLockType.FLEXIBLE and flexible.asset == "BTC" and flexible.apr_min is None
    timed = msgspec.structs.replace(items[0], lock_type=s.EarnLockType(type="timed", duration=90 * 86_400 + 1))
    assert m.earn_strategy_from(timed, TABLE.assets).lock_days == 91


def test_earn_allocations() -> None:
    item = s.decode_answer(samples.EARN_ALLOCATIONS, s.EarnAllocations).items[0]
    allocation = m.earn_allocation_from(item, TABLE.assets, now=NOW)
    assert (allocation.asset, allocation.amount, allocation.pending, allocation.rewards, allocation.status) == (
        "ETH", Decimal("0.0210000000"), Decimal("0.0210000000"), Decimal(0), EarnStatus.PENDING)
    settled = msgspec.structs.replace(item, amount_allocated=s.EarnAmountAllocated(
        total=s.EarnAmount(native=Decimal(3))))
    assert m.earn_allocation_from(settled, TABLE.assets, now=NOW).status is EarnStatus.ALLOCATED
    leaving = msgspec.structs.replace(item, amount_allocated=s.EarnAmountAllocated(
        total=s.EarnAmount(native=Decimal(3)), unbonding=s.EarnAmount(native=Decimal(1))))
    assert m.earn_allocation_from(leaving, TABLE.assets, now=NOW).pending == -1
    gone = msgspec.structs.replace(item, amount_allocated=s.EarnAmountAllocated(total=s.EarnAmount(native=Decimal(0))))
    assert m.earn_allocation_from(gone, TABLE.assets, now=NOW).status is EarnStatus.DEALLOCATED


# --- exact conversions ------------------------------------------------------------------------------------------------


@given(micros=st.integers(0, 4_102_444_800 * 1_000_000))
def test_property_seconds_convert_exactly(micros: int) -> None:
    seconds = Decimal(micros).scaleb(-6)
    assert m.from_seconds(seconds) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


@given(value=st.decimals(min_value=Decimal("1e-12"), max_value=Decimal("1e12"), allow_nan=False,
                         allow_infinity=False, places=12))
def test_property_plain_is_exact(value: Decimal) -> None:
    text = m.plain(value)
    assert Decimal(text) == value and "E" not in text and "e" not in text


def test_times() -> None:
    assert m.parse_time("2023-10-04T16:26:30.524394914Z") == datetime(2023, 10, 4, 16, 26, 30, 524394, tzinfo=UTC)
    with pytest.raises(e.ProtocolViolation):
        m.parse_time("yesterday")
    with pytest.raises(e.ProtocolViolation):
        m.parse_time("2023-10-04T16:26:30")
    assert m.rfc3339(datetime(2021, 4, 1, 0, 18, 45, tzinfo=UTC)) == "2021-04-01T00:18:45.000Z"
    assert m.leverage_from("5:1") == 5 and m.leverage_from("none") is None and m.leverage_from("2") == 2
