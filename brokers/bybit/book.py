"""Bybit's ``orderbook.{depth}.{symbol}`` book: a snapshot, then deltas with a continuity check.

A gap (``u`` not the previous ``u`` + 1) raises `ProtocolViolation` and leaves the book unusable
until the next snapshot, so a corrupt book is never served (docs/v5/websocket/public/orderbook).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from brokers.bybit import schemas as s
from brokers.bybit.constants import VENUE
from protocol.errors import ProtocolViolation
from protocol.model import BookLevel, Instrument, OrderBook, from_epoch_ms


@attrs.define
class BybitOrderBook:
    """A local ``orderbook.{depth}.{symbol}`` book.

    A ``snapshot`` replaces everything (Bybit re-sends one after a problem on its side, and after a
    service restart with ``u`` = 1). A ``delta`` must carry ``u`` = previous ``u`` + 1; size 0 deletes
    a level. Any gap, or a delta before the first snapshot, raises `ProtocolViolation` and leaves the
    book unusable until the next snapshot, so no corrupt book is ever served.
    """

    symbol: str
    depth: int
    bids: dict[Decimal, Decimal] = attrs.field(factory=dict)
    asks: dict[Decimal, Decimal] = attrs.field(factory=dict)
    update_id: int | None = None
    timestamp: datetime | None = None

    @property
    def ready(self) -> bool:
        return self.update_id is not None

    def apply(self, kind: str, data: s.WsOrderbookData, ts_ms: int) -> None:
        if kind == "snapshot":
            self.bids = {price: size for price, size in data.b if size != 0}
            self.asks = {price: size for price, size in data.a if size != 0}
        elif kind == "delta":
            if self.update_id is None:
                raise ProtocolViolation(f"{self.symbol} book: delta u={data.u} before any snapshot", venue=VENUE)
            if data.u != self.update_id + 1:
                expected = self.update_id + 1
                self.update_id = None  # unusable until a new snapshot
                raise ProtocolViolation(f"{self.symbol} book gap: expected u={expected}, got u={data.u}",
                                        venue=VENUE)
            for side, levels in ((self.bids, data.b), (self.asks, data.a)):
                for price, size in levels:
                    if size == 0:
                        side.pop(price, None)
                    else:
                        side[price] = size
        else:
            raise ProtocolViolation(f"unknown Bybit orderbook message type {kind!r}", venue=VENUE)
        self.update_id = data.u
        self.timestamp = from_epoch_ms(ts_ms)

    def apply_message(self, message: s.WsOrderbookMessage) -> None:
        self.apply(message.type, message.data, message.ts)

    def snapshot(self, instrument: Instrument, levels: int | None = None) -> OrderBook:
        if self.update_id is None or self.timestamp is None:
            raise ProtocolViolation(f"{self.symbol} book is not synchronised", venue=VENUE)
        count = levels or self.depth
        bids = sorted(self.bids.items(), key=lambda level: level[0], reverse=True)[:count]
        asks = sorted(self.asks.items(), key=lambda level: level[0])[:count]
        return OrderBook(venue=VENUE, symbol=instrument.symbol,
                         bids=[BookLevel(price, size) for price, size in bids],
                         asks=[BookLevel(price, size) for price, size in asks],
                         sequence=self.update_id, timestamp=self.timestamp)
