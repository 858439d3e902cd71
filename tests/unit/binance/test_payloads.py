"""Documented Binance payloads -> protocol values: Decimals exact, times UTC, enums mapped both ways."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from brokers.binance import mapping
from brokers.binance import schemas as s
from brokers.binance.stream import MarketParser, UserParser
from brokers.wire import plain
from protocol import errors as e
from protocol.messages import EventMsg
from protocol.model import (
    Balance,
    BookLevel,
    Candle,
    Fill,
    Instrument,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Side,
    Ticker,
    TimeInForce,
    Trade,
)
from tests.unit.binance import samples as doc


def instrument(base: str, quote: str) -> Instrument:
    return mapping.instrument_from(msgspec.json.decode(doc.raw(doc.symbol_like(base, quote)), type=s.SymbolInfo))


INSTRUMENTS = {i.venue_symbol: i for i in (instrument("ETH", "BTC"), instrument("BNB", "BTC"),
                                           instrument("BNB", "USDT"), instrument("BTC", "USDT"),
                                           instrument("LTC", "BTC"))}


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1000, UTC).replace(microsecond=value % 1000 * 1000)


# ------------------------------------------------------------------------------ REST


def test_exchange_info_symbol_becomes_an_instrument() -> None:
    info = msgspec.json.decode(doc.raw(doc.exchange_info()), type=s.ExchangeInfo)
    eth = mapping.instrument_from(info.symbols[0])
    assert (eth.symbol, eth.venue_symbol, eth.base, eth.quote) == ("ETH/BTC", "ETHBTC", "ETH", "BTC")
    assert eth.tick_size == Decimal("0.000001") and eth.lot_size == Decimal("0.001")
    assert eth.min_qty == Decimal("0.001") and eth.max_qty == Decimal("100000")
    assert eth.min_notional == Decimal("0.0001") and eth.trading and eth.venue == "binance"


def test_legacy_min_notional_filter_is_read_too() -> None:
    filters = [f for f in doc.ETHBTC["filters"] if f["filterType"] != "NOTIONAL"]  # type: ignore[union-attr,index]
    filters.append({"filterType": "MIN_NOTIONAL", "minNotional": "0.00100000", "applyToMarket": True,
                    "avgPriceMins": 5})
    legacy = msgspec.json.decode(doc.raw({**doc.ETHBTC, "filters": filters}), type=s.SymbolInfo)
    assert mapping.instrument_from(legacy).min_notional == Decimal("0.001")


def test_a_halted_symbol_is_not_trading() -> None:
    halted = msgspec.json.decode(doc.raw(doc.symbol_like("ETH", "BTC", status="HALT")), type=s.SymbolInfo)
    assert not mapping.instrument_from(halted).trading


def test_full_order_response_maps_exactly() -> None:
    order = mapping.order_from(msgspec.json.decode(doc.raw(doc.ORDER_FULL), type=s.OrderResponse),
                               INSTRUMENTS["BTCUSDT"])
    assert (order.symbol, order.order_id, order.client_order_id) == ("BTC/USDT", "28", "6gCrw2kRUAF9CvJDGP16IP")
    assert order.side is Side.SELL and order.type is OrderType.MARKET and order.status is OrderStatus.FILLED
    assert order.quantity == Decimal("10") and order.filled_quantity == Decimal("10")
    assert order.average_price == Decimal("1")  # cummulativeQuoteQty / executedQty, as Binance defines it
    assert order.price is None  # "0.00000000" on a market order means "no price"
    assert order.created_at == ms(1507725176595) and order.created_at.tzinfo is UTC
    fills = msgspec.json.decode(doc.raw(doc.ORDER_FULL), type=s.OrderResponse).fills
    assert [(f.tradeId, f.price, f.commission) for f in fills] == [
        (56, Decimal("4000.00000000"), Decimal("4.00000000")), (57, Decimal("3999.00000000"), Decimal("19.995"))]


def test_queried_order_maps_exactly() -> None:
    order = mapping.order_from(msgspec.json.decode(doc.raw(doc.ORDER_QUERY), type=s.OrderResponse),
                               INSTRUMENTS["LTCBTC"])
    assert order.status is OrderStatus.NEW and order.type is OrderType.LIMIT and order.side is Side.BUY
    assert order.price == Decimal("0.1") and order.quantity == Decimal("1") and order.average_price is None
    assert order.stop_price is None and order.time_in_force is TimeInForce.GTC
    assert order.client_order_id == "myOrder1" and order.updated_at == ms(1499827319559)


def test_a_cancel_answer_keeps_the_orders_own_client_id() -> None:
    order = mapping.order_from(msgspec.json.decode(doc.raw(doc.ORDER_CANCELED), type=s.OrderResponse),
                               INSTRUMENTS["LTCBTC"])
    assert order.client_order_id == "myOrder1"  # not the cancel request's "cancelMyOrder1"
    assert order.status is OrderStatus.CANCELED and order.price == Decimal("2")


def test_account_balances_are_exact() -> None:
    account = msgspec.json.decode(doc.raw(doc.ACCOUNT), type=s.Account)
    assert [(b.asset, b.free, b.locked) for b in account.balances] == [
        ("BTC", Decimal("4723846.89208129"), Decimal(0)), ("LTC", Decimal("4763368.68006011"), Decimal(0))]
    assert account.commissionRates is not None and account.commissionRates.maker == Decimal("0.0015")


def test_my_trade_becomes_a_fill() -> None:
    trade = msgspec.json.decode(doc.raw([doc.MY_TRADE]), type=list[s.MyTrade])[0]
    fill = mapping.fill_from_trade(trade, instrument("BNB", "BTC"), "cid-1")
    assert fill == Fill(venue="binance", symbol="BNB/BTC", order_id="100234", client_order_id="cid-1",
                        trade_id="28457", side=Side.BUY, price=Decimal("4.00000100"), quantity=Decimal("12"),
                        fee=Decimal("10.1"), fee_currency="BNB", is_maker=False, timestamp=ms(1499865549590))


def test_kline_rows_decode_exactly() -> None:
    row = msgspec.json.decode(doc.raw([doc.KLINE_ROW]), type=list[s.Kline])[0]
    assert row[0] == 1499040000000 and row[1] == Decimal("0.01634790") and row[5] == Decimal("148976.11427815")


def test_depth_snapshot_decodes_exactly() -> None:
    depth = msgspec.json.decode(doc.raw(doc.DEPTH), type=s.Depth)
    assert depth.lastUpdateId == 1027024 and depth.bids == [(Decimal("4"), Decimal("431"))]


# ------------------------------------------------------------------------------ enums, both directions


@pytest.mark.parametrize(("venue", "ours"), [
    ("NEW", OrderStatus.NEW), ("PARTIALLY_FILLED", OrderStatus.PARTIALLY_FILLED), ("FILLED", OrderStatus.FILLED),
    ("CANCELED", OrderStatus.CANCELED), ("REJECTED", OrderStatus.REJECTED), ("EXPIRED", OrderStatus.EXPIRED),
    ("EXPIRED_IN_MATCH", OrderStatus.EXPIRED), ("PENDING_NEW", OrderStatus.PENDING_NEW),
])
def test_order_statuses(venue: str, ours: OrderStatus) -> None:
    assert mapping.STATUS[venue] is ours


def test_order_types_sides_and_time_in_force_round_trip() -> None:
    for ours, venue in mapping.ORDER_TYPE_TO_VENUE.items():
        assert mapping.ORDER_TYPE[venue] is ours
    assert mapping.ORDER_TYPE_TO_VENUE[OrderType.STOP_LIMIT] == "STOP_LOSS_LIMIT"
    assert mapping.ORDER_TYPE["LIMIT_MAKER"] is OrderType.LIMIT
    for side in Side:
        assert mapping.SIDE[mapping.SIDE_TO_VENUE[side]] is side
    for tif, venue in mapping.TIF_TO_VENUE.items():
        assert mapping.TIF[venue] is tif
    assert set(mapping.TIF_TO_VENUE.values()) == {"GTC", "IOC", "FOK"}


@pytest.mark.parametrize(("value", "text"), [("1E-7", "0.0000001"), ("0.00100", "0.001"), ("65000.10", "65000.1"),
                                             ("1E+2", "100"), ("0.1", "0.1"), ("123456789.12345678", "123456789.12345678")])
def test_decimals_are_sent_plain(value: str, text: str) -> None:
    assert plain(Decimal(value)) == text


# ------------------------------------------------------------------------------ market streams


async def parse_market(*messages: str) -> list[EventMsg]:
    events: list[EventMsg] = []

    async def emit(event: EventMsg) -> None:
        events.append(event)

    async def no_snapshot(symbol: str) -> s.Depth:
        return s.Depth(lastUpdateId=158, bids=[], asks=[])  # the documented diff (157..160) straddles 159

    parser = MarketParser(INSTRUMENTS, emit, no_snapshot)
    for message in messages:
        await parser.on_message(message)
    return events


async def test_trade_stream() -> None:
    for message in (doc.combined("bnbbtc@trade", doc.TRADE_EVENT), doc.raw(doc.TRADE_EVENT).decode()):
        assert await parse_market(message) == [Trade(
            venue="binance", symbol="BNB/BTC", trade_id="12345", price=Decimal("0.001"), quantity=Decimal("100"),
            taker_side=Side.SELL,  # m: the buyer was the maker, so the taker sold
            timestamp=ms(1672515782136))]


async def test_kline_stream() -> None:
    assert await parse_market(doc.combined("bnbbtc@kline_1m", doc.KLINE_EVENT)) == [Candle(
        venue="binance", symbol="BNB/BTC", interval="1m", open_time=ms(1672515780000), open=Decimal("0.0010"),
        high=Decimal("0.0025"), low=Decimal("0.0015"), close=Decimal("0.0020"), volume=Decimal("1000"),
        closed=False)]


async def test_ticker_stream() -> None:
    assert await parse_market(doc.combined("bnbbtc@ticker", doc.TICKER_EVENT)) == [Ticker(
        venue="binance", symbol="BNB/BTC", last=Decimal("0.0025"), bid=Decimal("0.0024"), bid_size=Decimal("10"),
        ask=Decimal("0.0026"), ask_size=Decimal("100"), timestamp=ms(1672515782136))]


async def test_depth_update_after_a_snapshot_gives_a_book() -> None:
    events = await parse_market(doc.combined("bnbbtc@depth@100ms", doc.DEPTH_EVENT))
    assert events == [OrderBook(venue="binance", symbol="BNB/BTC", bids=[BookLevel(Decimal("0.0024"), Decimal(10))],
                                asks=[BookLevel(Decimal("0.0026"), Decimal(100))], sequence=160,
                                timestamp=ms(1672515782136))]


async def test_subscription_replies_and_unknown_symbols_are_ignored() -> None:
    other = {**doc.TRADE_EVENT, "s": "XYZBTC"}
    assert await parse_market('{"result":null,"id":1}', doc.combined("xyzbtc@trade", other)) == []


async def test_an_unreadable_market_message_is_skipped_not_fatal() -> None:
    broken = {**doc.TRADE_EVENT, "p": {"not": "a price"}}
    events = await parse_market(doc.combined("bnbbtc@trade", broken), doc.combined("bnbbtc@trade", doc.TRADE_EVENT))
    assert len(events) == 1 and isinstance(events[0], Trade)


# ------------------------------------------------------------------------------ user data stream


async def parse_user(*payloads: object) -> list[EventMsg]:
    events: list[EventMsg] = []

    async def emit(event: EventMsg) -> None:
        events.append(event)

    parser = UserParser(INSTRUMENTS, emit)
    for payload in payloads:
        await parser.on_message(doc.raw(payload).decode())
    return events


async def test_new_execution_report_is_an_order_update() -> None:
    [order] = await parse_user(doc.EXECUTION_REPORT)
    assert isinstance(order, Order)
    assert (order.symbol, order.order_id, order.client_order_id) == ("ETH/BTC", "4293153", "mUvoqJxFIILMdfAW5iGSOW")
    assert order.status is OrderStatus.NEW and order.type is OrderType.LIMIT and order.side is Side.BUY
    assert order.price == Decimal("0.10264410") and order.quantity == Decimal(1) and order.stop_price is None
    assert order.filled_quantity == 0 and order.average_price is None
    assert order.created_at == ms(1499405658657) and order.updated_at.tzinfo is UTC


async def test_trade_execution_report_is_a_fill_then_an_order_update() -> None:
    trade = {**doc.EXECUTION_REPORT, "x": "TRADE", "X": "PARTIALLY_FILLED", "l": "0.40000000", "z": "0.60000000",
             "L": "0.10264410", "n": "0.00040000", "N": "ETH", "t": 77, "m": True, "Z": "0.06158646"}
    fill, order = await parse_user(trade)
    assert fill == Fill(venue="binance", symbol="ETH/BTC", order_id="4293153", client_order_id="mUvoqJxFIILMdfAW5iGSOW",
                        trade_id="77", side=Side.BUY, price=Decimal("0.10264410"), quantity=Decimal("0.4"),
                        fee=Decimal("0.0004"), fee_currency="ETH", is_maker=True, timestamp=ms(1499405658657),
                        order_filled_quantity=Decimal("0.6"))
    assert isinstance(order, Order) and order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_quantity == Decimal("0.6") and order.average_price == Decimal("0.1026441")


async def test_a_canceled_report_names_the_original_client_id() -> None:
    canceled = {**doc.EXECUTION_REPORT, "x": "CANCELED", "X": "CANCELED", "c": "cancelRequest7",
                "C": "mUvoqJxFIILMdfAW5iGSOW"}
    [order] = await parse_user(canceled)
    assert isinstance(order, Order) and order.client_order_id == "mUvoqJxFIILMdfAW5iGSOW"
    assert order.status is OrderStatus.CANCELED


async def test_account_position_is_balance_events() -> None:
    assert await parse_user(doc.ACCOUNT_POSITION) == [
        Balance(venue="binance", currency="ETH", free=Decimal(10000), locked=Decimal(0))]


async def test_balance_update_and_unknown_events_emit_nothing() -> None:
    list_status = {"e": "listStatus", "E": 1564035303637, "s": "ETHBTC", "g": 2}
    assert await parse_user(doc.BALANCE_UPDATE, list_status) == []


async def test_the_end_of_the_subscription_ends_the_stream() -> None:
    """user-data-stream.md "Event Stream Terminated" (WebSocket API subscriptions): no more events come."""
    with pytest.raises(e.BrokerError) as ended:
        await parse_user({"e": "eventStreamTerminated", "E": 1728973001334})
    assert ended.value.retryable  # the supervisor reconnects (a new subscription) and reconciles


async def test_a_listen_key_expiry_is_not_an_event_of_the_websocket_api() -> None:
    assert await parse_user({"e": "listenKeyExpired", "E": 1576653824250, "listenKey": "abc"}) == []


async def test_an_unreadable_order_event_forces_a_reconnect() -> None:
    broken = {**doc.EXECUTION_REPORT, "z": "not-a-number"}
    with pytest.raises(e.ProtocolViolation) as unreadable:
        await parse_user(broken)
    assert unreadable.value.retryable
