"""The diff-depth book (Binance's documented update-id procedure) through the market parser: gaps lead to
a fresh snapshot, and no book that differs from the venue's is ever emitted."""

from __future__ import annotations

from decimal import Decimal

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.binance import schemas as s
from brokers.binance.constants import BOOK_DEPTH
from brokers.binance.stream import MarketParser
from protocol.messages import EventMsg
from protocol.model import BookLevel, Instrument, MarketType, OrderBook
from tests.unit.binance.samples import combined

BNB = Instrument(venue="binance", symbol="BNB/BTC", venue_symbol="BNBBTC", market_type=MarketType.SPOT, base="BNB",
                 quote="BTC", tick_size=Decimal("0.0001"), lot_size=Decimal("0.01"))
Update = tuple[str, int, int]  # side ("b"/"a"), price, quantity (0 removes the level)


class Venue:
    """A venue's book with an update id per change, and the diff events it publishes."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.update_id = 100
        self.history: dict[int, tuple[list[BookLevel], list[BookLevel]]] = {100: ([], [])}

    def publish(self, updates: list[Update]) -> str:
        first = self.update_id + 1
        for side, price, quantity in updates:
            book = self.bids if side == "b" else self.asks
            if quantity:
                book[Decimal(price)] = Decimal(quantity)
            else:
                book.pop(Decimal(price), None)
            self.update_id += 1
        self.history[self.update_id] = self.top()
        return combined("bnbbtc@depth@100ms", {
            "e": "depthUpdate", "E": 1672515782136 + self.update_id, "s": "BNBBTC", "U": first, "u": self.update_id,
            "b": [[str(p), str(q)] for side, p, q in updates if side == "b"],
            "a": [[str(p), str(q)] for side, p, q in updates if side == "a"]})

    def top(self) -> tuple[list[BookLevel], list[BookLevel]]:
        return ([BookLevel(p, q) for p, q in sorted(self.bids.items(), reverse=True)[:BOOK_DEPTH]],
                [BookLevel(p, q) for p, q in sorted(self.asks.items())[:BOOK_DEPTH]])

    def snapshot(self) -> s.Depth:
        return s.Depth(lastUpdateId=self.update_id, bids=sorted(self.bids.items(), reverse=True),
                       asks=sorted(self.asks.items()))


class Client:
    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.books: list[OrderBook] = []
        self.snapshots = 0
        self.snapshot_override: s.Depth | None = None

        async def emit(event: EventMsg) -> None:
            assert isinstance(event, OrderBook)
            self.books.append(event)

        async def fetch(symbol: str) -> s.Depth:
            assert symbol == "BNBBTC"
            self.snapshots += 1
            override, self.snapshot_override = self.snapshot_override, None
            return override or self.venue.snapshot()

        self.parser = MarketParser({"BNBBTC": BNB}, emit, fetch)

    def assert_consistent(self) -> None:
        for book in self.books:
            assert (book.bids, book.asks) == self.venue.history[book.sequence], f"corrupt book at {book.sequence}"


async def test_the_first_diff_triggers_a_snapshot_and_a_book() -> None:
    venue = Venue()
    venue.publish([("b", 10, 1), ("a", 11, 2)])
    client = Client(venue)
    await client.parser.on_message(venue.publish([("b", 9, 3)]))
    # The snapshot, taken after this diff, already holds it: the diff is dropped, the book waits.
    assert client.snapshots == 1 and client.books == []
    await client.parser.on_message(venue.publish([("a", 12, 1)]))
    assert len(client.books) == 1 and client.books[0].sequence == venue.update_id
    client.assert_consistent()
    assert client.books[-1].bids == [BookLevel(Decimal(10), Decimal(1)), BookLevel(Decimal(9), Decimal(3))]


async def test_a_gap_drops_the_book_and_resyncs_from_a_fresh_snapshot() -> None:
    venue = Venue()
    client = Client(venue)
    for quantity in (1, 2, 3):
        await client.parser.on_message(venue.publish([("b", 10, quantity)]))
    assert len(client.books) == 2
    venue.publish([("a", 12, 5)])  # lost on the way
    await client.parser.on_message(venue.publish([("a", 13, 1)]))
    assert len(client.books) == 2  # nothing emitted from a book with a hole in it
    await client.parser.on_message(venue.publish([("b", 9, 4)]))
    await client.parser.on_message(venue.publish([("b", 8, 1)]))
    assert client.snapshots == 2 and len(client.books) == 3
    client.assert_consistent()
    assert client.books[-1].asks == [BookLevel(Decimal(12), Decimal(5)), BookLevel(Decimal(13), Decimal(1))]
    assert client.parser.books["BNBBTC"].resyncs == 1


async def test_a_snapshot_older_than_the_stream_is_not_used() -> None:
    venue = Venue()
    stale = venue.snapshot()  # taken before the two updates below
    venue.publish([("b", 10, 1)])
    client = Client(venue)
    client.snapshot_override = stale
    await client.parser.on_message(venue.publish([("b", 11, 1)]))
    assert client.books == []  # the snapshot does not reach the first diff: no book
    await client.parser.on_message(venue.publish([("b", 12, 1)]))
    await client.parser.on_message(venue.publish([("b", 13, 1)]))
    assert client.snapshots == 2 and client.books
    client.assert_consistent()


async def test_diffs_older_than_the_snapshot_are_dropped() -> None:
    venue = Venue()
    client = Client(venue)
    early = venue.publish([("b", 10, 1)])
    venue.publish([("b", 10, 7)])
    await client.parser.on_message(early)  # snapshot (taken now) already contains both updates
    assert client.books == []
    await client.parser.on_message(venue.publish([("a", 20, 1)]))
    client.assert_consistent()
    assert client.books[-1].bids == [BookLevel(Decimal(10), Decimal(7))]


updates = st.lists(st.tuples(st.sampled_from("ba"), st.integers(1, 30), st.integers(0, 4)), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(events=st.lists(st.tuples(updates, st.booleans(), st.integers(-2, 2)), min_size=1, max_size=40))
def test_no_emitted_book_ever_differs_from_the_venues(events: list[tuple[list[Update], bool, int]]) -> None:
    """Random diffs, random losses, snapshots that lag behind or run ahead of the stream."""

    async def run() -> None:
        venue = Venue()
        client = Client(venue)
        pending: list[str] = []
        for changes, lost, lag in events:
            message = venue.publish(changes)
            if lag < 0 and len(venue.history) > 2:
                ids = sorted(venue.history)
                behind = ids[max(0, len(ids) - 1 + lag)]
                bids, asks = venue.history[behind]
                client.snapshot_override = s.Depth(lastUpdateId=behind, bids=[(b.price, b.quantity) for b in bids],
                                                   asks=[(a.price, a.quantity) for a in asks]) \
                    if len(bids) < BOOK_DEPTH and len(asks) < BOOK_DEPTH else None
            if lost:
                continue
            pending.append(message)
            if lag > 0:  # deliver late, after the venue moved on (the snapshot runs ahead of the stream)
                continue
            for queued in pending:
                await client.parser.on_message(queued)
            pending.clear()
        for queued in pending:
            await client.parser.on_message(queued)
        client.assert_consistent()
        if not any(lost for _, lost, _ in events) and client.books:
            assert client.books[-1].sequence <= venue.update_id

    trio.run(run)


async def test_without_losses_the_book_follows_every_diff() -> None:
    venue = Venue()
    client = Client(venue)
    for n in range(1, 30):
        await client.parser.on_message(venue.publish([("b" if n % 2 else "a", n % 7 + 1, n % 3)]))
    assert client.snapshots == 1 and len(client.books) == 28  # the first diff is inside the snapshot
    client.assert_consistent()
    assert client.books[-1].sequence == venue.update_id
