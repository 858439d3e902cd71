"""The Bybit client's answer decoding and rate-limit feedback, and the stream parsers, on documented samples."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import msgspec
import pytest
import trio

from brokers.base import Subscription
from brokers.bybit import schemas as s
from brokers.bybit.constants import Category
from brokers.bybit.mapping import category_of_instrument, instrument_from
from brokers.bybit.stream import PrivateStream, PublicConnection, topic_of
from brokers.instruments import InstrumentIndex
from brokers.ratelimit import RateLimiter, WindowRule
from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import (
    Balance,
    Fill,
    Instrument,
    MarginMode,
    MarketType,
    Order,
    OrderBook,
    OrderStatus,
    Position,
    PositionSide,
    Side,
    Ticker,
    Trade,
)
from tests.unit.bybit import samples


def _first(raw: bytes) -> s.InstrumentInfo:
    return msgspec.json.decode(raw, type=s.Envelope[s.InstrumentsPage]).result.list[0]


LINEAR = instrument_from(Category.LINEAR, _first(samples.INSTRUMENTS_LINEAR))
SPOT = instrument_from(Category.SPOT, _first(samples.INSTRUMENTS_SPOT))
XRP = Instrument(venue="bybit", symbol="XRP/USDT:USDT", venue_symbol="XRPUSDT", market_type=MarketType.LINEAR,
                 base="XRP", quote="USDT", settle="USDT", tick_size=Decimal("0.0001"), lot_size=Decimal(1))
SYMBOLS = InstrumentIndex.of("bybit", [LINEAR, SPOT, XRP], category_of_instrument)


# ------------------------------------------------------------------------------ answers


def test_success_answer_yields_its_result() -> None:
    result = s.decode_answer(samples.SERVER_TIME, s.ServerTime, {})
    assert isinstance(result, s.ServerTime) and int(result.timeNano) > 0


@pytest.mark.parametrize(("body", "kind", "code"), [
    (b'{"retCode":10004,"retMsg":"error sign! origin_string[...]","result":{},"retExtInfo":{},"time":1}',
     e.AuthenticationError, "10004"),
    (b'{"retCode":110001,"retMsg":"order not exists or too late to cancel","result":{},"retExtInfo":{},"time":1}',
     e.OrderNotFound, "110001"),
    (b'{"retCode":170131,"retMsg":"Insufficient balance.","result":{},"retExtInfo":{},"time":1}',
     e.InsufficientFunds, "170131"),
    (b'{"retCode":110072,"retMsg":"OrderLinkedID is duplicate","result":{},"retExtInfo":{},"time":1}',
     e.DuplicateOrder, "110072"),
])
def test_error_answers_in_http_200_raise_typed_errors(body: bytes, kind: type[e.BrokerError], code: str) -> None:
    with pytest.raises(kind) as info:
        s.decode_answer(body, s.OrderAck, {})
    assert info.value.code == code and info.value.venue == "bybit" and info.value.venue_message


def test_an_error_whose_empty_result_still_decodes_is_not_mistaken_for_success() -> None:
    body = b'{"retCode":110043,"retMsg":"Set leverage not modified","result":{},"retExtInfo":{},"time":1}'
    with pytest.raises(e.InvalidOrder) as info:
        s.decode_answer(body, s.Empty, {})  # {} is a valid Empty: the retCode must still be read
    assert info.value.code == "110043"


def test_rate_limit_answer_carries_the_reset_time() -> None:
    reset = int(time.time() * 1000) + 800
    body = b'{"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1}'
    with pytest.raises(e.RateLimited) as info:
        s.decode_answer(body, s.OrderAck, {"X-Bapi-Limit-Reset-Timestamp": str(reset)})
    assert info.value.retry_after is not None and 0 <= info.value.retry_after <= 1


def test_an_answer_without_ret_code_is_a_protocol_violation() -> None:
    with pytest.raises(msgspec.ValidationError):  # RestChannel turns this into ProtocolViolation
        s.decode_answer(b'{"hello": 1}', s.OrderAck, {})


async def test_limit_status_header_is_read_as_remaining(autojump_clock: trio.abc.Clock) -> None:
    limiter = RateLimiter("bybit", [WindowRule("create", 1, 10, header="X-Bapi-Limit-Status",
                                               header_counts_remaining=True)])
    await limiter.acquire()
    limiter.observe({"X-Bapi-Limit-Status": "2"})
    assert limiter.usage() == {"create": 8}
    await limiter.acquire()  # 9 of 10 used with 10% headroom: the next one must wait for the window
    before = trio.current_time()
    await limiter.acquire()
    assert trio.current_time() > before


# ------------------------------------------------------------------------------ public stream


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    async def send_message(self, text: str) -> None:
        self.sent.append(json.loads(text))


def _public(category: Category) -> tuple[PublicConnection, list[m.EventMsg], FakeSocket]:
    events: list[m.EventMsg] = []

    async def emit(event: m.EventMsg) -> None:
        events.append(event)

    connection = PublicConnection(category, SYMBOLS, emit, "bybit")
    socket = FakeSocket()
    connection.ws = socket  # type: ignore[assignment]
    return connection, events, socket


def _delta(u: int, bid: str = "16493.50", size: str = "1") -> str:
    return json.dumps({"topic": "orderbook.50.BTCUSDT", "type": "delta", "ts": 1672304485000,
                       "data": {"s": "BTCUSDT", "b": [[bid, size]], "a": [], "u": u, "seq": 1}})


async def test_book_snapshot_and_deltas_then_a_gap_resubscribes_and_emits_nothing_corrupt() -> None:
    connection, events, socket = _public(Category.LINEAR)
    await connection.on_message(samples.WS_ORDERBOOK_SNAPSHOT.decode())
    await connection.on_message(_delta(18521289, size="2"))
    books = [ev for ev in events if isinstance(ev, OrderBook)]
    assert [b.sequence for b in books] == [18521288, 18521289] and books[-1].bids[0].quantity == 2
    await connection.on_message(_delta(18521299))  # a gap
    assert [op["op"] for op in socket.sent] == ["unsubscribe", "subscribe"]
    assert socket.sent[1]["args"] == ["orderbook.50.BTCUSDT"]
    await connection.on_message(_delta(18521300))  # still before the new snapshot: ignored
    assert len([ev for ev in events if isinstance(ev, OrderBook)]) == 2
    await connection.on_message(samples.WS_ORDERBOOK_SNAPSHOT.decode())
    assert len([ev for ev in events if isinstance(ev, OrderBook)]) == 3 and connection.resyncs == 1


async def test_linear_ticker_deltas_merge_into_the_snapshot() -> None:
    connection, events, _ = _public(Category.LINEAR)
    await connection.on_message(samples.WS_TICKER_LINEAR.decode())
    delta = {"topic": "tickers.BTCUSDT", "type": "delta", "ts": 1673272861700, "cs": 1,
             "data": {"symbol": "BTCUSDT", "bid1Price": "17215.00"}}
    await connection.on_message(json.dumps(delta))
    tickers = [ev for ev in events if isinstance(ev, Ticker)]
    assert len(tickers) == 2 and tickers[1].last == Decimal("17216.00") and tickers[1].bid == Decimal("17215.00")
    assert tickers[0].symbol == LINEAR.symbol


async def test_spot_trades_and_tickers_map_to_the_spot_instrument() -> None:
    connection, events, _ = _public(Category.SPOT)
    await connection.on_message(samples.WS_TRADE.decode())
    await connection.on_message(samples.WS_TICKER_SPOT.decode())
    trade, ticker = events
    assert isinstance(trade, Trade) and trade.symbol == SPOT.symbol and trade.taker_side is Side.BUY
    assert isinstance(ticker, Ticker) and ticker.symbol == SPOT.symbol and ticker.bid is None


async def test_unreadable_market_message_is_skipped_and_counted() -> None:
    connection, events, _ = _public(Category.SPOT)
    await connection.on_message('{"topic": "publicTrade.BTCUSDT", "data": [{"p": "nope"}]}')
    assert events == [] and connection.unreadable == 1


async def test_trades_read_the_same_however_the_message_is_laid_out() -> None:
    """Bybit's compact form (topic first) takes a one-pass decode; any other layout the general path."""
    spaced, spaced_events, _ = _public(Category.SPOT)
    await spaced.on_message(samples.WS_TRADE.decode())
    compact, events, _ = _public(Category.SPOT)
    payload = json.loads(samples.WS_TRADE)
    payload["data"] = payload["data"] * 3
    text = json.dumps(payload, separators=(",", ":"))
    assert text.startswith('{"topic":"publicTrade.')
    await compact.on_message(text)
    assert len(spaced_events) == 1 and events == spaced_events * 3
    await compact.on_message('{"topic":"publicTrade.BTCUSDT","data":[{"p":"nope"}]}')
    assert len(events) == 3 and compact.unreadable == 1


def test_topics_per_channel() -> None:
    assert topic_of(Subscription(SPOT.symbol, m.StreamChannel.BOOK), SPOT) == "orderbook.50.BTCUSDT"
    assert topic_of(Subscription(SPOT.symbol, m.StreamChannel.CANDLES), SPOT) == "kline.1.BTCUSDT"
    assert topic_of(Subscription(SPOT.symbol, m.StreamChannel.TRADES), SPOT) == "publicTrade.BTCUSDT"


# ------------------------------------------------------------------------------ private stream


def _private() -> tuple[PrivateStream, list[m.EventMsg]]:
    events: list[m.EventMsg] = []

    async def emit(event: m.EventMsg) -> None:
        events.append(event)

    stream = PrivateStream("ws://unused", Credentials.from_strings("k", "s"), SYMBOLS, emit, lambda: 0,
                           venue="bybit", margin_mode=lambda: MarginMode.CROSS)
    return stream, events


async def test_execution_position_and_wallet_messages_become_events() -> None:
    stream, events = _private()
    await stream.on_message(samples.WS_EXECUTION.decode())
    await stream.on_message(samples.WS_POSITION.decode())
    await stream.on_message(samples.WS_WALLET.decode())
    fill, position, *balances = events
    assert isinstance(fill, Fill) and fill.symbol == "XRP/USDT:USDT" and fill.quantity == 25
    assert fill.trade_id == "7e2ae69c-4edf-5800-a352-893d52b446aa" and fill.order_filled_quantity == 25
    assert isinstance(position, Position) and position.side is PositionSide.FLAT
    assert position.realized_pnl == Decimal("-25.06579337") and position.margin_mode is MarginMode.CROSS
    assert [b.currency for b in balances if isinstance(b, Balance)] == ["USDC", "USDT"]


async def test_order_message_for_a_linear_order() -> None:
    stream, events = _private()
    raw = json.loads(samples.WS_ORDER)
    row = raw["data"][0] | {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "abc", "qty": "0.01",
                            "cumExecQty": "0.01", "avgPrice": "17000", "orderType": "Market"}
    await stream.on_message(json.dumps(raw | {"data": [row]}))
    (order,) = events
    assert isinstance(order, Order) and order.symbol == LINEAR.symbol and order.status is OrderStatus.FILLED
    assert order.client_order_id == "abc" and order.average_price == 17000


async def test_option_orders_we_do_not_trade_are_ignored() -> None:
    stream, events = _private()
    await stream.on_message(samples.WS_ORDER.decode())  # category option: not loaded
    assert events == []


async def test_unreadable_fill_ends_the_connection_so_reconciliation_recovers_it() -> None:
    stream, _ = _private()
    with pytest.raises(e.ProtocolViolation):
        await stream.on_message('{"topic": "execution", "data": [{"execQty": "x"}]}')


async def test_pongs_and_op_answers_are_not_events() -> None:
    stream, events = _private()
    await stream.on_message(samples.WS_PONG_PRIVATE.decode())
    await stream.on_message(samples.WS_AUTH_OK.decode())
    assert events == []
