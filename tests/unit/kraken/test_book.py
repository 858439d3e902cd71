"""The v2 book: Kraken's documented checksum example reproduces, every update is verified, truncation to
the subscribed depth, and a model venue's random update streams always check out."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.kraken import schemas as s
from brokers.kraken.book import KrakenBook, book_checksum, checksum_text
from protocol.errors import ProtocolViolation
from protocol.model import Instrument, MarketType
from tests.unit.kraken import samples

NOW = datetime(2026, 11, 30, tzinfo=UTC)
INSTRUMENT = Instrument(venue="kraken", symbol="BTC/USD", venue_symbol="XXBTZUSD", market_type=MarketType.SPOT,
                        base="BTC", quote="USD", tick_size=Decimal("0.1"), lot_size=Decimal("0.00000001"))


def doc_snapshot() -> s.WsBookMessage:
    return msgspec.json.decode(samples.WS_BOOK_CHECKSUM_SNAPSHOT, type=s.WsBookMessage)


def reference_checksum(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """The guide's steps written out literally on strings (no shared code with the module under test)."""
    def part(levels: list[tuple[str, str]]) -> str:
        return "".join(price.replace(".", "").lstrip("0") + qty.replace(".", "").lstrip("0")
                       for price, qty in levels[:10])
    return zlib.crc32((part(asks) + part(bids)).encode())


def test_the_documented_example_reproduces() -> None:
    """guides/websockets/book-checksum-v2: the BTC/USD snapshot's strings and checksum 3310070434."""
    data = doc_snapshot().data[0]
    asks = [(level.price, level.qty) for level in data.asks]
    bids = [(level.price, level.qty) for level in data.bids]
    assert checksum_text(asks) == samples.WS_BOOK_ASKS_STRING
    assert checksum_text(bids) == samples.WS_BOOK_BIDS_STRING
    assert book_checksum(asks, bids) == samples.WS_BOOK_CHECKSUM == data.checksum
    # BTC/USD's precisions (pair_decimals 1, lot_decimals 8) give the same digits
    assert book_checksum(asks, bids, price_decimals=1, qty_decimals=8) == samples.WS_BOOK_CHECKSUM


def test_the_reference_reproduces_the_documented_strings_too() -> None:
    data = doc_snapshot().data[0]
    assert reference_checksum([(str(level.price), str(level.qty)) for level in data.asks],
                              [(str(level.price), str(level.qty)) for level in data.bids]) == samples.WS_BOOK_CHECKSUM


def test_snapshot_then_verified_updates() -> None:
    book = KrakenBook("BTC/USD", depth=10)
    book.apply_message(doc_snapshot(), now=NOW)
    assert book.ready and book.checksum() == samples.WS_BOOK_CHECKSUM
    top = book.snapshot(INSTRUMENT)
    assert top.bids[0].price == Decimal("45283.5") and top.asks[0].price == Decimal("45285.2") and top.sequence == 1
    # remove the best ask, change a bid, insert a bid in the middle: the worst bid falls out of depth 10
    asks = [*[(str(level.price), str(level.qty)) for level in doc_snapshot().data[0].asks][1:], ("45300.1", "0.50000000")]
    bids = [(str(level.price), str(level.qty)) for level in doc_snapshot().data[0].bids]
    bids[1] = ("45283.4", "0.20000000")
    bids = sorted([*bids, ("45282.0", "1.00000000")], key=lambda level: Decimal(level[0]), reverse=True)[:10]
    update = (b'{"channel": "book", "type": "update", "data": [{"symbol": "BTC/USD", '
              b'"timestamp": "2026-11-30T00:00:01.000001Z", '
              b'"asks": [{"price": 45285.2, "qty": 0}, {"price": 45300.1, "qty": 0.50000000}], '
              b'"bids": [{"price": 45283.4, "qty": 0.20000000}, {"price": 45282.0, "qty": 1.00000000}], '
              b'"checksum": %d}]}' % reference_checksum(asks, bids))
    book.apply_message(msgspec.json.decode(update, type=s.WsBookMessage))
    assert book.ready and len(book.bids) == 10 and Decimal("45276.6") not in book.bids  # truncated, no qty 0 sent
    assert book.timestamp == datetime(2026, 11, 30, 0, 0, 1, 1, tzinfo=UTC)
    assert book.snapshot(INSTRUMENT).sequence == 2


def test_a_wrong_checksum_makes_the_book_unusable_until_a_new_snapshot() -> None:
    book = KrakenBook("BTC/USD", depth=10)
    book.apply_message(doc_snapshot(), now=NOW)
    bad = s.WsBookMessage(channel="book", type="update", data=[s.WsBookData(
        symbol="BTC/USD", bids=[s.WsBookLevel(Decimal("45283.5"), Decimal("0.2"))], asks=[], checksum=1)])
    with pytest.raises(ProtocolViolation, match="checksum mismatch"):
        book.apply_message(bad)
    assert not book.ready and book.resyncs == 1
    with pytest.raises(ProtocolViolation, match="not synchronised"):
        book.snapshot(INSTRUMENT)
    with pytest.raises(ProtocolViolation, match="before a snapshot"):
        book.apply_message(msgspec.json.decode(samples.WS_BOOK_UPDATE.replace(b"MATIC/USD", b"BTC/USD"),
                                               type=s.WsBookMessage))
    book.apply_message(doc_snapshot(), now=NOW)
    assert book.ready


def test_a_wrong_snapshot_checksum_is_refused_too() -> None:
    wrong = doc_snapshot()
    wrong.data[0].checksum += 1
    book = KrakenBook("BTC/USD", depth=10)
    with pytest.raises(ProtocolViolation):
        book.apply_message(wrong, now=NOW)
    assert not book.ready


def test_other_symbols_messages_are_not_applied_and_depth_is_kraken_s() -> None:
    book = KrakenBook("BTC/USD", depth=25)
    book.apply_message(msgspec.json.decode(samples.WS_BOOK_UPDATE, type=s.WsBookMessage))  # MATIC/USD: ignored
    assert not book.ready
    with pytest.raises(ProtocolViolation):
        book.apply("update", msgspec.json.decode(samples.WS_BOOK_UPDATE, type=s.WsBookMessage).data[0])
    with pytest.raises(ValueError, match="depth"):
        KrakenBook("BTC/USD", depth=20)


_PRICES = st.integers(1, 60).map(lambda ticks: Decimal(45000) + Decimal(ticks).scaleb(-1))
_QTY = st.integers(0, 300).map(lambda units: Decimal(units).scaleb(-3).quantize(Decimal("0.00000001")))


@given(changes=st.lists(st.tuples(st.booleans(), _PRICES, _QTY), min_size=1, max_size=60),
       depth=st.sampled_from([10, 25]))
def test_property_a_model_venue_always_checks_out(changes: list[tuple[bool, Decimal, Decimal]], depth: int) -> None:
    """The venue keeps a full book and sends, per change, what its top ``depth`` view gained or lost by a
    delete -- never a qty 0 for a level merely pushed out of scope. The client's book equals the venue's
    view after every message, so every checksum holds."""
    full_bids: dict[Decimal, Decimal] = {Decimal(44999) - i: Decimal(1) for i in range(depth + 5)}
    full_asks: dict[Decimal, Decimal] = {Decimal(45100) + i: Decimal(1) for i in range(depth + 5)}

    def view(side: dict[Decimal, Decimal], bids: bool) -> dict[Decimal, Decimal]:
        return dict(sorted(side.items(), reverse=bids)[:depth])

    def message(kind: str, bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]]) -> bytes:
        venue_bids, venue_asks = view(full_bids, True), view(full_asks, False)
        checksum = book_checksum(sorted(venue_asks.items()), sorted(venue_bids.items(), reverse=True),
                                 price_decimals=1, qty_decimals=8)
        return msgspec.json.encode({"channel": "book", "type": kind, "data": [{
            "symbol": "BTC/USD", "checksum": checksum, "timestamp": "2026-11-30T00:00:00Z",
            "bids": [{"price": p, "qty": q} for p, q in bids], "asks": [{"price": p, "qty": q} for p, q in asks]}]})

    book = KrakenBook("BTC/USD", depth=depth, price_decimals=1, qty_decimals=8)
    snapshot = message("snapshot", list(view(full_bids, True).items()), list(view(full_asks, False).items()))
    book.apply_message(msgspec.json.decode(snapshot, type=s.WsBookMessage))
    for is_bid, price, qty in changes:
        side, bids = (full_bids, True) if is_bid else (full_asks, False)
        if not is_bid:
            price += Decimal(100)  # asks above the bids
        before = view(side, bids)
        if qty:
            side[price] = qty
        else:
            side.pop(price, None)
        after = view(side, bids)
        sent = [(p, q) for p, q in after.items() if before.get(p) != q]
        sent += [(p, Decimal(0)) for p in before if p not in after and p not in side]  # deleted, not pushed out
        raw = message("update", sent if is_bid else [], [] if is_bid else sent)
        book.apply_message(msgspec.json.decode(raw, type=s.WsBookMessage))
        assert book.bids == view(full_bids, True) and book.asks == view(full_asks, False)
