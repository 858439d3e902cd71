"""Binance's diff-depth book: one symbol's L2 book kept in sync from a REST snapshot plus stream diffs.

Binance's documented procedure (web-socket-streams.md, "How to manage a local order book correctly"):
buffer diffs, take a REST snapshot, drop diffs older than it, require the first applied diff to
straddle ``lastUpdateId + 1`` and each next ``U`` to follow the previous ``u``; on any gap the book
is dropped and rebuilt, and nothing corrupt is emitted.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from brokers.binance import schemas as s
from brokers.binance.constants import BOOK_DEPTH, VENUE
from protocol.errors import ProtocolViolation
from protocol.model import BookLevel, Instrument, OrderBook, from_epoch_ms


@attrs.define
class DepthBook:
    """One symbol's order book kept in sync from a snapshot plus diffs (Binance's procedure)."""

    symbol: str
    bids: dict[Decimal, Decimal] = attrs.field(factory=dict)
    asks: dict[Decimal, Decimal] = attrs.field(factory=dict)
    last_update_id: int | None = None  # None: waiting for a snapshot
    pending: list[s.DepthUpdate] = attrs.field(factory=list)
    synced: bool = False
    resyncs: int = 0

    def load_snapshot(self, snapshot: s.Depth) -> None:
        self.bids = {p: q for p, q in snapshot.bids if q}
        self.asks = {p: q for p, q in snapshot.asks if q}
        self.last_update_id = snapshot.lastUpdateId
        self.synced = False
        buffered, self.pending = self.pending, []
        for diff in buffered:
            self.apply(diff)

    def apply(self, diff: s.DepthUpdate) -> bool:
        """Apply one diff; True if the book is now consistent and changed. Raises on a gap."""
        if self.last_update_id is None:
            self.pending.append(diff)
            return False
        if diff.u <= self.last_update_id:
            return False  # older than what we have
        if not self.synced:
            if not diff.U <= self.last_update_id + 1 <= diff.u:
                raise ProtocolViolation(f"{self.symbol} depth: first diff {diff.U}-{diff.u} does not follow "
                                        f"snapshot {self.last_update_id}", venue=VENUE)
            self.synced = True
        elif diff.U != self.last_update_id + 1:
            raise ProtocolViolation(f"{self.symbol} depth gap: expected {self.last_update_id + 1}, got {diff.U}",
                                    venue=VENUE)
        for side, changes in ((self.bids, diff.b), (self.asks, diff.a)):
            for price, quantity in changes:
                if quantity:
                    side[price] = quantity
                else:
                    side.pop(price, None)
        self.last_update_id = diff.u
        return True

    def reset(self) -> None:
        self.bids, self.asks, self.last_update_id, self.synced = {}, {}, None, False
        self.resyncs += 1

    def top(self, instrument: Instrument, event_ms: int) -> OrderBook:
        bids = sorted(self.bids.items(), reverse=True)[:BOOK_DEPTH]
        asks = sorted(self.asks.items())[:BOOK_DEPTH]
        return OrderBook(venue=VENUE, symbol=instrument.symbol, bids=[BookLevel(p, q) for p, q in bids],
                         asks=[BookLevel(p, q) for p, q in asks], sequence=self.last_update_id or 0,
                         timestamp=from_epoch_ms(event_ms))
