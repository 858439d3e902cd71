"""The OKX stream parsers on OKX's documented pushes: public channels to events in our units, the book's
continuity and checksum failures answered by a resubscription (never a wrong book), subscription refusals
recorded in OKX's words, the upgrade notice, and the private socket's login, pushes and unreadable orders."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
import trio

from brokers.base import Subscription
from brokers.okx import constants as c
from brokers.okx import schemas as s
from brokers.okx.book import checksum
from brokers.okx.mapping import ContractSpec, contract_spec, instrument_from
from brokers.okx.stream import PrivateStream, PublicSocket, arg_of, serves
from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import (
    Balance,
    Candle,
    Fill,
    FundingRate,
    Instrument,
    MarkPrice,
    OpenInterest,
    Order,
    OrderBook,
    OrderStatus,
    Position,
    PositionSide,
    Side,
    Ticker,
    Trade,
)
from tests.unit.okx import samples as doc

D = Decimal
SPOT_INFO = s.decode_answer(doc.INSTRUMENTS_SPOT, s.InstrumentInfo)[0]
LINEAR_INFO, INVERSE_INFO = s.decode_answer(doc.INSTRUMENTS_SWAP, s.InstrumentInfo)
INFOS = [
    SPOT_INFO, LINEAR_INFO, INVERSE_INFO,
    msgspec.structs.replace(LINEAR_INFO, instId="BCH-USDT-SWAP", instFamily="BCH-USDT", uly="BCH-USDT", ctVal="0.1",
                            ctValCcy="BCH", tickSz=D("0.01"), lotSz=D(1), minSz=D(1)),
    msgspec.structs.replace(INVERSE_INFO, instId="LTC-USD-SWAP", instFamily="LTC-USD", uly="LTC-USD", ctVal="10",
                            settleCcy="LTC"),
    msgspec.structs.replace(INVERSE_INFO, instId="ETH-USD-SWAP", instFamily="ETH-USD", uly="ETH-USD", ctVal="10",
                            settleCcy="ETH"),
]
LOADED: dict[str, tuple[Instrument, ContractSpec]] = {i.instId: (instrument_from(i), contract_spec(i)) for i in INFOS}


class FakeSocket:
    def __init__(self, incoming: list[bytes] | None = None) -> None:
        self.sent: list[Any] = []
        self.incoming = [m.decode() for m in incoming or []]

    async def send_message(self, text: str) -> None:
        self.sent.append(text if text == "ping" else json.loads(text))

    async def get_message(self) -> str:
        if not self.incoming:
            await trio.sleep_forever()
        return self.incoming.pop(0)


def public(service: c.WsService = c.WsService.PUBLIC) -> tuple[PublicSocket, list[m.EventMsg], FakeSocket]:
    events: list[m.EventMsg] = []

    async def emit(event: m.EventMsg) -> None:
        events.append(event)

    socket = PublicSocket(service, LOADED.get, emit, "okx")
    fake = FakeSocket()
    socket.ws = fake  # type: ignore[assignment]
    return socket, events, fake


def book_message(action: str, seq: int, prev: int, bids: list[list[str]], asks: list[list[str]],
                 checksum_value: int = 0, inst: str = "BTC-USDT") -> str:
    return json.dumps({"arg": {"channel": "books", "instId": inst}, "action": action, "data": [{
        "asks": [[*a, "0", "1"] for a in asks], "bids": [[*b, "0", "1"] for b in bids], "ts": "1597026383085",
        "checksum": checksum_value, "prevSeqId": prev, "seqId": seq}]})


# ------------------------------------------------------------------------------ public channels


async def test_documented_public_pushes_become_events_in_our_units() -> None:
    socket, events, _ = public()
    for sample in (doc.WS_TICKERS, doc.WS_TRADES, doc.WS_BBO_TBT, doc.WS_BOOKS5, doc.WS_FUNDING_RATE,
                   doc.WS_OPEN_INTEREST):
        await socket.on_message(sample.decode())
    kinds = [type(event) for event in events]
    assert kinds == [Ticker, Trade, OrderBook, OrderBook, FundingRate, OpenInterest]
    ticker, trade, bbo, books5, funding, interest = events
    assert isinstance(ticker, Ticker) and ticker.symbol == "BTC/USDT"
    assert isinstance(trade, Trade) and (trade.quantity, trade.taker_side) == (D("0.12060306"), Side.BUY)
    assert isinstance(bbo, OrderBook) and bbo.symbol == "BCH/USDT:USDT"
    assert bbo.bids[0].quantity == D("5774.5")  # 57745 contracts of 0.1 BCH
    assert isinstance(books5, OrderBook) and len(books5.asks) == 5 and books5.asks[0].price == D("111.06")
    assert isinstance(funding, FundingRate) and funding.symbol == "BTC/USD:BTC" and funding.rate > 0
    assert isinstance(interest, OpenInterest) and interest.symbol == "LTC/USD:LTC" and interest.quantity == D("555.55")
    assert socket.unreadable == 0


async def test_a_futures_mark_price_and_pong_are_not_ours() -> None:
    socket, events, _ = public()
    await socket.on_message(doc.WS_MARK_PRICE.decode())  # LTC-USD-190628: a dated future, not loaded
    await socket.on_message("pong")
    assert events == [] and socket.unreadable == 0
    mark = json.loads(doc.WS_MARK_PRICE)
    mark["arg"]["instId"] = mark["data"][0]["instId"] = "ETH-USD-SWAP"
    await socket.on_message(json.dumps(mark))
    assert isinstance(events[0], MarkPrice) and events[0].symbol == "ETH/USD:ETH"


async def test_business_candles_in_our_units() -> None:
    socket, events, _ = public(c.WsService.BUSINESS)
    await socket.on_message(doc.WS_CANDLE.decode())  # candle1D: Hong Kong-aligned days, never subscribed
    assert events == [] and socket.unreadable == 0
    await socket.on_message(doc.WS_CANDLE.decode().replace("candle1D", "candle1m"))
    candle = events[0]
    assert isinstance(candle, Candle) and candle.interval == "1m" and candle.symbol == "BTC/USDT"
    assert candle.volume == 45247 and not candle.closed  # confirm "0": the bar is still open


async def test_documented_book_snapshot_and_update() -> None:
    socket, events, fake = public()
    await socket.on_message(doc.WS_BOOKS_SNAPSHOT.decode())
    await socket.on_message(doc.WS_BOOKS_UPDATE.decode())
    assert len(events) == 2 and fake.sent == []
    book = events[-1]
    assert isinstance(book, OrderBook) and book.sequence == 123457 and book.bids[0].price == D("8476.97")
    assert len(book.bids) == 8  # all the sample has (we emit up to BOOK_LEVELS_EMITTED)


async def test_a_sequence_gap_resubscribes_and_nothing_is_served_until_a_new_snapshot() -> None:
    socket, events, fake = public()
    await socket.on_message(book_message("snapshot", 10, -1, [["100", "1"]], [["101", "1"]]))
    await socket.on_message(book_message("update", 12, 11, [["100", "2"]], []))  # 11 went missing
    assert fake.sent == [{"op": "unsubscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]},
                         {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]}]
    await socket.on_message(book_message("update", 13, 12, [["100", "3"]], []))  # the old subscription's tail
    assert len(events) == 1 and socket.resyncs == 1
    await socket.on_message(book_message("snapshot", 20, -1, [["99", "4"]], [["101", "1"]]))
    assert len(events) == 2 and isinstance(events[-1], OrderBook) and events[-1].bids[0].price == 99


async def test_the_checksum_is_verified_and_a_mismatch_rebuilds_the_book() -> None:
    socket, events, fake = public()
    bids, asks = [["100", "1"], ["99.5", "2"]], [["101", "1"]]
    good = checksum([tuple(b) for b in bids], [tuple(a) for a in asks])  # type: ignore[misc]
    await socket.on_message(book_message("snapshot", 1, -1, bids, asks, good))
    after = checksum([("100", "5"), ("99.5", "2")], [("101", "1")])
    await socket.on_message(book_message("update", 2, 1, [["100", "5"]], [], after))
    assert len(events) == 2 and socket.books["BTC-USDT"].checksums_verified == 2
    await socket.on_message(book_message("update", 3, 2, [["100", "6"]], [], after))  # wrong: 6, not 5
    assert len(events) == 2 and not socket.books["BTC-USDT"].ready and len(fake.sent) == 2


async def test_refusals_are_recorded_in_okx_words() -> None:
    socket, events, _ = public()
    refusal = {"event": "error", "code": "60018", "msg": "Wrong URL or channel:funding-rate,instId:BTC-USDT doesn't "
               "exist.", "arg": {"channel": "funding-rate", "instId": "BTC-USDT"}, "connId": "a4d3ae55"}
    await socket.on_message(json.dumps(refusal))
    await socket.on_message(doc.WS_SUBSCRIBE_FAILED.decode())
    await socket.on_message(doc.WS_SUBSCRIBED.decode())
    assert socket.refused == {("funding-rate", "BTC-USDT"): "60018 " + refusal["msg"]} and events == []


async def test_the_upgrade_notice_reopens_the_socket() -> None:
    socket, _, _ = public()
    with pytest.raises(e.VenueUnavailable, match="upgrade"):
        await socket.on_message(json.dumps({"event": "notice", "code": "64008",
                                            "msg": "The connection will soon be closed for a service upgrade."}))


async def test_an_unreadable_market_message_is_skipped_and_counted() -> None:
    socket, events, _ = public()
    await socket.on_message('{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT"}]}')
    await socket.on_message("not json")
    assert events == [] and socket.unreadable == 2


async def test_opening_subscribes_every_arg_in_chunks_and_resets_books() -> None:
    socket, _, fake = public()
    socket.args = {("tickers", f"X{n}-USDT") for n in range(45)}
    socket.books["BTC-USDT"] = object()  # type: ignore[assignment]
    await socket.opened(fake)  # type: ignore[arg-type]
    assert [len(op["args"]) for op in fake.sent] == [20, 20, 5] and socket.books == {}


def test_channels_map_to_services_and_swap_only_channels() -> None:
    spot, swap = LOADED["BTC-USDT"][0], LOADED["BTC-USDT-SWAP"][0]
    assert arg_of(Subscription("BTC/USDT", m.StreamChannel.CANDLES), spot, "books") == (
        c.WsService.BUSINESS, ("candle1m", "BTC-USDT"))
    assert arg_of(Subscription("BTC/USDT", m.StreamChannel.BOOK), spot, "bbo-tbt") == (
        c.WsService.PUBLIC, ("bbo-tbt", "BTC-USDT"))
    assert not serves(Subscription("BTC/USDT", m.StreamChannel.FUNDING), spot)
    assert serves(Subscription("BTC/USDT:USDT", m.StreamChannel.OPEN_INTEREST), swap)


# ------------------------------------------------------------------------------ private


def private(incoming: list[bytes] | None = None) -> tuple[PrivateStream, list[m.EventMsg], FakeSocket]:
    events: list[m.EventMsg] = []

    async def emit(event: m.EventMsg) -> None:
        events.append(event)

    stream = PrivateStream("wss://okx.test/ws/v5/private", Credentials.from_strings("k", "secret", "pass"),
                           LOADED.get, emit, lambda: 1_700_000_000_000, "okx")
    return stream, events, FakeSocket(incoming)


async def test_documented_order_push_gives_its_fill_then_the_order() -> None:
    stream, events, _ = private()
    await stream.on_message(doc.WS_ORDERS.decode())
    fill, order = events
    assert isinstance(fill, Fill) and (fill.trade_id, fill.quantity, fill.is_maker) == ("242589207", D("0.001"), True)
    assert fill.order_filled_quantity == D("0.001") and fill.fee == D("0.02522168")
    assert isinstance(order, Order) and order.status is OrderStatus.FILLED


async def test_documented_positions_push_keeps_our_swaps_only() -> None:
    stream, events, _ = private()
    await stream.on_message(doc.WS_POSITIONS.decode())  # a dated future (not loaded) and ETH-USD-SWAP
    assert len(events) == 1
    position = events[0]
    assert isinstance(position, Position) and position.symbol == "ETH/USD:ETH"
    assert position.side is PositionSide.LONG and position.quantity == 10  # 1 contract of 10 USD


async def test_account_push_gives_balances() -> None:
    stream, events, _ = private()
    push = {"arg": {"channel": "account", "uid": "44705892343619584"}, "eventType": "snapshot",
            "data": json.loads(doc.BALANCE)["data"]}  # the account channel pushes GET balance's shape
    await stream.on_message(json.dumps(push))
    assert events and all(isinstance(b, Balance) for b in events)
    assert "USDT" in {b.currency for b in events if isinstance(b, Balance)}


async def test_an_unreadable_order_push_fails_the_stream() -> None:
    stream, _, _ = private()
    with pytest.raises(e.ProtocolViolation):
        await stream.on_message('{"arg":{"channel":"orders","instType":"ANY"},"data":[{"ordId":"1"}]}')


async def test_login_then_subscriptions_are_awaited_and_pushes_meanwhile_are_kept() -> None:
    answers = [doc.WS_LOGIN_OK, b"pong"]
    answers += [json.dumps({"event": "subscribe", "arg": arg, "connId": "a"}).encode()
                for arg in PrivateStream.SUBSCRIPTIONS[:1]]
    answers += [doc.WS_ORDERS]  # an order push before the other acknowledgements
    answers += [json.dumps({"event": "subscribe", "arg": arg, "connId": "a"}).encode()
                for arg in PrivateStream.SUBSCRIPTIONS[1:]]
    stream, events, fake = private(answers)
    await stream.opened(fake)  # type: ignore[arg-type]
    login, subscribe = fake.sent
    assert login["op"] == "login" and login["args"][0]["timestamp"] == "1700000000"
    assert subscribe == {"op": "subscribe", "args": list(PrivateStream.SUBSCRIPTIONS)}
    assert [type(ev) for ev in events] == [Fill, Order]


async def test_refused_login_is_an_authentication_error() -> None:
    stream, _, fake = private([doc.WS_LOGIN_FAILED])
    with pytest.raises(e.AuthenticationError) as info:
        await stream.opened(fake)  # type: ignore[arg-type]
    assert info.value.code == "60009"


async def test_refused_private_subscription_fails_the_stream() -> None:
    refusal = b'{"event":"error","code":"60011","msg":"Please log in","connId":"a"}'
    stream, _, fake = private([doc.WS_LOGIN_OK, refusal])
    with pytest.raises(e.VenueUnavailable, match="60011"):
        await stream.opened(fake)  # type: ignore[arg-type]
