"""The websocket v2 ``book`` channel kept as a local L2 book, its CRC32 checksum verified on every message.

Kraken's procedure (guides/websockets/book-checksum-v2): a ``snapshot`` replaces the book; each
``update`` sets or removes (qty 0) levels, in order, after which the book is truncated to the
subscribed depth (Kraken sends no qty 0 for a level pushed out of scope). Every message carries the
CRC32 of the top 10 levels: for each ask (lowest first) then each bid (highest first), the price and
the quantity with the decimal point and leading zeros removed, concatenated; unsigned 32-bit.

The digits come from the numbers' text on the wire (msgspec keeps it in the `Decimal`), or from the
pair's precision when given (``pair_decimals`` / ``lot_decimals``, as the instrument channel calls
them ``price_precision`` / ``qty_precision``). A mismatch, or an update before any snapshot, raises
`ProtocolViolation` and leaves the book unusable until the next snapshot: the stream resubscribes and
no wrong book is ever served.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import attrs

from brokers.kraken import schemas as s
from brokers.kraken.constants import VENUE, WS_BOOK_CHECKSUM_LEVELS, WS_BOOK_DEPTHS
from brokers.kraken.mapping import parse_time
from protocol.errors import ProtocolViolation
from protocol.model import BookLevel, Instrument, OrderBook


def _digits(value: Decimal, decimals: int | None) -> str:
    if decimals is not None:
        value = value.quantize(Decimal(1).scaleb(-decimals))
    return format(value, "f").replace(".", "").lstrip("0")


def checksum_text(levels: Iterable[tuple[Decimal, Decimal]], *, price_decimals: int | None = None,
                  qty_decimals: int | None = None) -> str:
    """One side's part of the checksum string (levels already in checksum order, top 10 taken here)."""
    parts = []
    for index, (price, qty) in enumerate(levels):
        if index == WS_BOOK_CHECKSUM_LEVELS:
            break
        parts.append(_digits(price, price_decimals) + _digits(qty, qty_decimals))
    return "".join(parts)


def book_checksum(asks: Iterable[tuple[Decimal, Decimal]], bids: Iterable[tuple[Decimal, Decimal]], *,
                  price_decimals: int | None = None, qty_decimals: int | None = None) -> int:
    """CRC32 of asks (lowest first) then bids (highest first), top 10 each."""
    text = (checksum_text(asks, price_decimals=price_decimals, qty_decimals=qty_decimals)
            + checksum_text(bids, price_decimals=price_decimals, qty_decimals=qty_decimals))
    return zlib.crc32(text.encode())


@attrs.define
class KrakenBook:
    """One symbol's book as the v2 ``book`` channel describes it (see module doc)."""

    symbol: str  # the v2 symbol (BTC/USD)
    depth: int
    price_decimals: int | None = None
    qty_decimals: int | None = None
    bids: dict[Decimal, Decimal] = attrs.field(factory=dict)
    asks: dict[Decimal, Decimal] = attrs.field(factory=dict)
    messages: int = 0  # messages applied since the last snapshot (the OrderBook's sequence)
    timestamp: datetime | None = None
    synced: bool = False
    resyncs: int = 0

    def __attrs_post_init__(self) -> None:
        if self.depth not in WS_BOOK_DEPTHS:
            raise ValueError(f"Kraken book depth is one of {WS_BOOK_DEPTHS}, not {self.depth}")

    @property
    def ready(self) -> bool:
        return self.synced

    def sorted_asks(self) -> list[tuple[Decimal, Decimal]]:
        return sorted(self.asks.items())

    def sorted_bids(self) -> list[tuple[Decimal, Decimal]]:
        return sorted(self.bids.items(), reverse=True)

    def checksum(self) -> int:
        return book_checksum(self.sorted_asks(), self.sorted_bids(), price_decimals=self.price_decimals,
                             qty_decimals=self.qty_decimals)

    def apply(self, kind: str, data: s.WsBookData, *, now: datetime | None = None) -> None:
        """Apply one snapshot or update of this symbol, then verify its checksum (raises on mismatch)."""
        if data.symbol != self.symbol:
            raise ProtocolViolation(f"{self.symbol} book got a message for {data.symbol}", venue=VENUE)
        if kind == "snapshot":
            self.bids = {level.price: level.qty for level in data.bids if level.qty}
            self.asks = {level.price: level.qty for level in data.asks if level.qty}
            self.messages = 0
        elif kind == "update":
            if not self.synced:
                raise ProtocolViolation(f"{self.symbol} book: update before a snapshot", venue=VENUE)
            for side, levels in ((self.bids, data.bids), (self.asks, data.asks)):
                for level in levels:  # in order: one message may touch a level twice
                    if level.qty:
                        side[level.price] = level.qty
                    else:
                        side.pop(level.price, None)
        else:
            raise ProtocolViolation(f"unknown Kraken book message type {kind!r}", venue=VENUE)
        self._truncate()
        expected = self.checksum()
        if expected != data.checksum:
            self.synced = False
            self.resyncs += 1
            raise ProtocolViolation(f"{self.symbol} book checksum mismatch: Kraken says {data.checksum}, the local book "
                                    f"gives {expected}; resubscribe for a new snapshot", venue=VENUE)
        self.synced = True
        self.messages += 1
        if data.timestamp is not None:
            self.timestamp = parse_time(data.timestamp)
        elif now is not None:
            self.timestamp = now

    def apply_message(self, message: s.WsBookMessage, *, now: datetime | None = None) -> None:
        for data in message.data:
            if data.symbol == self.symbol:
                self.apply(message.type, data, now=now)

    def _truncate(self) -> None:
        if len(self.bids) > self.depth:
            self.bids = dict(self.sorted_bids()[: self.depth])
        if len(self.asks) > self.depth:
            self.asks = dict(self.sorted_asks()[: self.depth])

    def snapshot(self, instrument: Instrument, levels: int | None = None) -> OrderBook:
        """A consistent top-of-book (best first); only from a book whose checksum held."""
        if not self.synced or self.timestamp is None:
            raise ProtocolViolation(f"{self.symbol} book is not synchronised", venue=VENUE)
        count = levels or self.depth
        return OrderBook(venue=VENUE, symbol=instrument.symbol,
                         bids=[BookLevel(price, qty) for price, qty in self.sorted_bids()[:count]],
                         asks=[BookLevel(price, qty) for price, qty in self.sorted_asks()[:count]],
                         sequence=self.messages, timestamp=self.timestamp)
