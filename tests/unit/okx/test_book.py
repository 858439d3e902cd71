"""The OKX book: the documented checksum examples, seqId continuity, verification, and a reference model.

Checksum examples: OKX's V5 "Order book channel > Checksum" section gave the check strings
``3366.1:7:3366.8:9:3366:6:3368:8`` (25+ levels a side, two shown) and ``3366.1:7:3366.8:9:3368:8:3372:8``
(fewer bids than asks) for the same books as the OKEx V3 "checksum" example, which also published their
values, -1881014294 and 831078360. A third check string, ``43231.1:4:43232.8:9:43231:6:43232.9:8``, is
from the V5 text as well (no value published). The section was retired with the field on 2026-06-23.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.okx import book as b
from brokers.okx import mapping as mp
from brokers.okx import schemas as s
from protocol.errors import ProtocolViolation
from tests.unit.okx import samples

D = Decimal
SPOT_INFO = s.decode_answer(samples.INSTRUMENTS_SPOT, s.InstrumentInfo)[0]
LINEAR_INFO = s.decode_answer(samples.INSTRUMENTS_SWAP, s.InstrumentInfo)[0]
SPOT, SPOT_SPEC = mp.instrument_from(SPOT_INFO), mp.contract_spec(SPOT_INFO)
LINEAR, LINEAR_SPEC = mp.instrument_from(LINEAR_INFO), mp.contract_spec(LINEAR_INFO)


def test_documented_checksum_examples() -> None:
    even = b.checksum_string([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")])
    assert even == "3366.1:7:3366.8:9:3366:6:3368:8"
    assert b.checksum([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")]) == -1881014294
    odd = b.checksum_string([("3366.1", "7")], [("3366.8", "9"), ("3368", "8"), ("3372", "8")])
    assert odd == "3366.1:7:3366.8:9:3368:8:3372:8"
    assert b.checksum([("3366.1", "7")], [("3366.8", "9"), ("3368", "8"), ("3372", "8")]) == 831078360
    assert b.checksum_string([("43231.1", "4"), ("43231", "6")], [("43232.8", "9"), ("43232.9", "8")]) == \
        "43231.1:4:43232.8:9:43231:6:43232.9:8"


def test_checksum_covers_25_levels_and_the_exact_strings() -> None:
    bids = [(str(1000 - i), "1") for i in range(30)]
    asks = [(str(2000 + i), "1") for i in range(30)]
    assert b.checksum_string(bids, asks).count(":") == 25 * 4 - 1
    assert b.checksum(bids, asks) == b.checksum(bids[:25], asks[:25])
    assert b.checksum([("8477", "7")], []) != b.checksum([("8477.0", "7")], [])  # text, not value


def _book_from_sample() -> b.OkxBook:
    book = b.OkxBook("BTC-USDT")
    book.apply_message(msgspec.json.decode(samples.WS_BOOKS_SNAPSHOT, type=s.WsBookMessage))
    return book


def _update(prev: int, seq: int, bids: Sequence[tuple[str, str]] = (), asks: Sequence[tuple[str, str]] = (),
            checksum: int = 0) -> s.WsBookData:
    return s.WsBookData(asks=[(p, q, "0", "1") for p, q in asks], bids=[(p, q, "0", "1") for p, q in bids],
                        ts="1597026383186", seqId=seq, prevSeqId=prev, checksum=checksum)


def test_documented_snapshot_then_update() -> None:
    book = _book_from_sample()
    assert book.seq_id == 123456 and len(book.bids) == len(book.asks) == 8
    view = book.snapshot(SPOT, SPOT_SPEC, levels=2)
    assert [x.price for x in view.bids] == [D("8476.97"), D("8475.55")] and view.asks[0].price == D("8476.98")
    assert view.sequence == 123456 and view.timestamp.year == 2020
    book.apply_message(msgspec.json.decode(samples.WS_BOOKS_UPDATE, type=s.WsBookMessage))
    assert book.seq_id == 123457 and len(book.bids) == 8  # the documented update re-sends the same levels


def test_updates_change_and_delete_levels_in_our_unit() -> None:
    book = b.OkxBook("BTC-USDT-SWAP")
    book.apply("snapshot", _update(-1, 10, bids=[("100", "5"), ("99", "1")], asks=[("101", "2")]))
    book.apply("update", _update(10, 15, bids=[("100", "0"), ("99.5", "3")], asks=[("101", "7")]))
    view = book.snapshot(LINEAR, LINEAR_SPEC)
    assert [(x.price, x.quantity) for x in view.bids] == [(D("99.5"), D("0.03")), (D(99), D("0.01"))]
    assert [(x.price, x.quantity) for x in view.asks] == [(D(101), D("0.07"))]


def test_keep_alive_and_sequence_reset_are_not_gaps() -> None:
    book = b.OkxBook("BTC-USDT")
    book.apply("snapshot", _update(-1, 10, bids=[("1", "1")], asks=[("2", "1")]))
    book.apply("update", _update(10, 15, bids=[("1.5", "1")]))  # normal
    book.apply("update", _update(15, 15))  # no update: keep-alive
    book.apply("update", _update(15, 3, asks=[("2.5", "1")]))  # sequence reset after maintenance
    book.apply("update", _update(3, 5))
    assert book.seq_id == 5 and set(book.asks) == {D(2), D("2.5")}


def test_gap_raises_and_the_book_is_unusable_until_a_snapshot() -> None:
    book = _book_from_sample()
    with pytest.raises(ProtocolViolation, match="gap: prevSeqId=123460, last seqId was 123456"):
        book.apply("update", _update(123460, 123461, bids=[("1", "1")]))
    assert not book.ready and not book.bids
    with pytest.raises(ProtocolViolation, match="not synchronised"):
        book.snapshot(SPOT, SPOT_SPEC)
    with pytest.raises(ProtocolViolation, match="before any snapshot"):
        book.apply("update", _update(123461, 123462))
    book.apply("snapshot", _update(-1, 7, bids=[("1", "1")], asks=[("2", "1")]))
    assert book.ready and book.snapshot(SPOT, SPOT_SPEC).sequence == 7


def test_checksum_is_verified_whenever_sent() -> None:
    book = b.OkxBook("BTC-USDT")
    bids, asks = [("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")]
    book.apply("snapshot", _update(-1, 1, bids=bids, asks=asks, checksum=-1881014294))
    book.apply("update", _update(1, 2, bids=[("3366", "0")], asks=[("3372", "8")], checksum=831078360))
    assert book.checksums_verified == 2 and book.checksum() == 831078360
    book.apply("update", _update(2, 3, bids=[("3360", "1")]))  # 0: not provided (OKX since 2026-06-23)
    with pytest.raises(ProtocolViolation, match="checksum mismatch at seqId=4"):
        book.apply("update", _update(3, 4, asks=[("3366.8", "10")], checksum=831078360))
    assert not book.ready


@pytest.mark.parametrize(("action", "level"), [("partial", ("1", "1")), ("snapshot", ("abc", "1")),
                                              ("snapshot", ("1", "-1")), ("snapshot", ("0", "1"))])
def test_malformed_pushes(action: str, level: tuple[str, str]) -> None:
    book = b.OkxBook("BTC-USDT")
    with pytest.raises(ProtocolViolation):
        book.apply(action, _update(-1, 1, bids=[level]))
    assert not book.ready


def test_depth_is_kept() -> None:
    book = b.OkxBook("BTC-USDT", depth=3)
    book.apply("snapshot", _update(-1, 1, bids=[(str(p), "1") for p in range(1, 7)],
                                   asks=[(str(p), "1") for p in range(10, 16)]))
    assert sorted(book.bids) == [4, 5, 6] and sorted(book.asks) == [10, 11, 12]


def test_full_push_channels_need_no_state() -> None:
    bbo = msgspec.json.decode(samples.WS_BBO_TBT, type=s.WsBookMessage).data[0]
    view = b.book_from_full_push(bbo, LINEAR, LINEAR_SPEC)
    assert view.bids[0].price == D("111.05") and view.bids[0].quantity == D("577.45") and view.sequence == 363996337
    five = msgspec.json.decode(samples.WS_BOOKS5, type=s.WsBookMessage).data[0]
    assert len(b.book_from_full_push(five, LINEAR, LINEAR_SPEC).asks) == 5


prices = st.integers(min_value=1, max_value=60).map(lambda ticks: f"{D(ticks) / 4}")
sizes = st.sampled_from(["0", "0.5", "1", "2.25", "10"])
sides = st.lists(st.tuples(prices, sizes), max_size=8)


@given(snapshot=st.tuples(sides, sides), updates=st.lists(st.tuples(sides, sides), max_size=12),
       send_checksums=st.booleans())
def test_book_matches_a_reference_model(snapshot: tuple[list[tuple[str, str]], list[tuple[str, str]]],
                                        updates: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]],
                                        send_checksums: bool) -> None:
    model: tuple[dict[Decimal, tuple[str, str]], dict[Decimal, tuple[str, str]]] = ({}, {})
    book = b.OkxBook("X", depth=400)
    seq = 0
    for step, (bid_levels, ask_levels) in enumerate([snapshot, *updates]):
        for side, levels in zip(model, (bid_levels, ask_levels), strict=True):
            for price, size in levels:
                if D(size) == 0:
                    side.pop(D(price), None)
                else:
                    side[D(price)] = (price, size)
        top_bids = [model[0][p] for p in sorted(model[0], reverse=True)[:25]]
        top_asks = [model[1][p] for p in sorted(model[1])[:25]]
        expected = b.checksum(top_bids, top_asks) if send_checksums else 0  # 0 = not sent, as OKX does now
        book.apply("snapshot" if step == 0 else "update",
                   _update(-1 if step == 0 else seq, seq + 1, bids=bid_levels, asks=ask_levels, checksum=expected))
        seq += 1
        assert book.bids == model[0] and book.asks == model[1]
    assert book.seq_id == seq
