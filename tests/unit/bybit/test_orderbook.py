"""The local ``orderbook.{depth}.{symbol}`` book: snapshots, deltas, deletes, gaps, and a reference model."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.bybit import schemas as s
from brokers.bybit.book import BybitOrderBook
from brokers.bybit.constants import Category
from brokers.bybit.mapping import instrument_from
from protocol.errors import ProtocolViolation
from tests.unit.bybit import samples

INSTRUMENT = instrument_from(
    Category.LINEAR,
    msgspec.json.decode(samples.INSTRUMENTS_LINEAR, type=s.Envelope[s.InstrumentsPage]).result.list[0])
D = Decimal


def _data(u: int, bids: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
          asks: tuple[tuple[str, str], ...] | list[tuple[str, str]] = ()) -> s.WsOrderbookData:
    return s.WsOrderbookData(s="BTCUSDT", b=[(D(p), D(q)) for p, q in bids], a=[(D(p), D(q)) for p, q in asks], u=u)


def _book_from_sample() -> BybitOrderBook:
    book = BybitOrderBook("BTCUSDT", 50)
    book.apply_message(msgspec.json.decode(samples.WS_ORDERBOOK_SNAPSHOT, type=s.WsOrderbookMessage))
    return book


def test_snapshot_then_deltas_update_and_delete_levels() -> None:
    book = _book_from_sample()
    first = book.snapshot(INSTRUMENT)
    assert first.sequence == 18521288 and first.bids[0].price == D("16493.50") and first.asks[0].price == D("16611.00")
    book.apply("delta", _data(18521289, bids=[("16493.50", "0"), ("16494.00", "1.5")], asks=[("16611.00", "0.5")]),
               1672304484999)
    after = book.snapshot(INSTRUMENT)
    assert [(x.price, x.quantity) for x in after.bids] == [(D("16494.00"), D("1.5")), (D("16493.00"), D("0.100"))]
    assert after.asks[0].quantity == D("0.5") and after.sequence == 18521289
    assert after.timestamp.microsecond == 999000


def test_gap_raises_and_book_stays_unusable_until_snapshot() -> None:
    book = _book_from_sample()
    with pytest.raises(ProtocolViolation, match="expected u=18521289, got u=18521291"):
        book.apply("delta", _data(18521291, bids=[("1", "1")]), 1)
    assert not book.ready
    with pytest.raises(ProtocolViolation):
        book.snapshot(INSTRUMENT)
    with pytest.raises(ProtocolViolation):
        book.apply("delta", _data(18521292), 2)
    book.apply("snapshot", _data(1, bids=[("100", "2")], asks=[("101", "3")]), 3)  # service restart: u=1
    assert book.snapshot(INSTRUMENT).sequence == 1 and book.ready


def test_delta_before_snapshot_and_unknown_type() -> None:
    book = BybitOrderBook("BTCUSDT", 50)
    with pytest.raises(ProtocolViolation, match="before any snapshot"):
        book.apply("delta", _data(5), 1)
    with pytest.raises(ProtocolViolation):
        book.apply("partial", _data(5), 1)


def test_snapshot_depth_limits_levels() -> None:
    book = BybitOrderBook("BTCUSDT", 2)
    book.apply("snapshot", _data(7, bids=[("1", "1"), ("3", "1"), ("2", "1")], asks=[("9", "1"), ("5", "1")]), 1)
    view = book.snapshot(INSTRUMENT)
    assert [b.price for b in view.bids] == [3, 2] and [a.price for a in view.asks] == [5, 9]


prices = st.integers(min_value=1, max_value=40).map(lambda cents: D(cents) / 4)
sizes = st.sampled_from([D(0), D("0.001"), D(1), D("2.5"), D(10)])
levels = st.lists(st.tuples(prices, sizes), max_size=6)


@settings(max_examples=200, derandomize=True)
@given(snapshot_bids=levels, snapshot_asks=levels, deltas=st.lists(st.tuples(levels, levels), max_size=25))
def test_random_deltas_match_a_reference_dict(snapshot_bids: list[tuple[Decimal, Decimal]],
                                             snapshot_asks: list[tuple[Decimal, Decimal]],
                                             deltas: list[tuple[list[tuple[Decimal, Decimal]],
                                                                list[tuple[Decimal, Decimal]]]]) -> None:
    reference: dict[str, dict[Decimal, Decimal]] = {
        "b": {p: q for p, q in snapshot_bids if q}, "a": {p: q for p, q in snapshot_asks if q}}
    book = BybitOrderBook("BTCUSDT", 1000)
    book.apply("snapshot", s.WsOrderbookData(s="BTCUSDT", b=snapshot_bids, a=snapshot_asks, u=100), 1)
    for step, (bids, asks) in enumerate(deltas, start=1):
        book.apply("delta", s.WsOrderbookData(s="BTCUSDT", b=bids, a=asks, u=100 + step), 1 + step)
        for side, changes in (("b", bids), ("a", asks)):
            for price, size in changes:
                if size == 0:
                    reference[side].pop(price, None)
                else:
                    reference[side][price] = size
    view = book.snapshot(INSTRUMENT)
    assert [(x.price, x.quantity) for x in view.bids] == sorted(reference["b"].items(), reverse=True)
    assert [(x.price, x.quantity) for x in view.asks] == sorted(reference["a"].items())
    assert view.sequence == 100 + len(deltas)
