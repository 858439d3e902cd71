"""The local OKX order book: a ``books`` snapshot plus increments, continuity by seqId, CRC32 checksum.

OKX's incremental book channels (``books`` 400 levels, ``books50-l2-tbt``, ``books-l2-tbt``) push one
``snapshot`` (``prevSeqId`` -1) and then ``update``s whose ``prevSeqId`` must equal the ``seqId`` of the
message before; a size of "0" deletes a level. An update with ``seqId == prevSeqId`` and no levels is a
keep-alive (about every 60 s); a ``seqId`` lower than ``prevSeqId`` is a sequence reset after maintenance
and is fine as long as ``prevSeqId`` links up. Any other mismatch is a gap.

The checksum is CRC32 (as a signed 32-bit integer) of the best 25 bids and asks interleaved as
``bid1px:bid1sz:ask1px:ask1sz:...`` (the longer side continues alone), over the price and size strings
exactly as OKX sent them. Since 2026-06-23 OKX sends ``checksum: 0`` ("must no longer be used"), so a
zero is taken as "not provided" and any other value is verified on every message (our emulator, and any
feed that still sends them). A gap or a mismatch raises `ProtocolViolation` and leaves the book unusable
until the next snapshot (the stream resubscribes): a wrong book is never served.

``books5`` and ``bbo-tbt`` push complete snapshots every time: `book_from_full_push` maps them with no
local state.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

import attrs

from brokers.okx import schemas as s
from brokers.okx.constants import CHECKSUM_LEVELS, VENUE
from brokers.okx.mapping import ContractSpec, book_levels
from protocol.errors import ProtocolViolation
from protocol.model import BookLevel, Instrument, OrderBook, from_epoch_ms

Level = tuple[str, str]
"""(price text, size text) as OKX sent them: the checksum is computed over these exact strings."""


def checksum_string(bids: Sequence[Level], asks: Sequence[Level], levels: int = CHECKSUM_LEVELS) -> str:
    """``bid:ask:bid:ask...`` over the best ``levels`` of each side (best first), the longer side alone
    once the shorter one runs out."""
    parts: list[str] = []
    for i in range(min(max(len(bids), len(asks)), levels)):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    return ":".join(parts)


def checksum(bids: Sequence[Level], asks: Sequence[Level], levels: int = CHECKSUM_LEVELS) -> int:
    """OKX's book checksum: CRC32 of `checksum_string`, as a signed 32-bit integer."""
    value = zlib.crc32(checksum_string(bids, asks, levels).encode())
    return value - (1 << 32) if value >= 1 << 31 else value


def _price(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ProtocolViolation(f"OKX book price {text!r} is not a number", venue=VENUE) from None
    if not value.is_finite() or value <= 0:
        raise ProtocolViolation(f"OKX book price {text!r} is not a positive number", venue=VENUE)
    return value


def _is_zero(size: str) -> bool:
    try:
        value = Decimal(size)
    except InvalidOperation:
        raise ProtocolViolation(f"OKX book size {size!r} is not a number", venue=VENUE) from None
    if not value.is_finite() or value < 0:
        raise ProtocolViolation(f"OKX book size {size!r} is not a size", venue=VENUE)
    return value == 0


@attrs.define
class OkxBook:
    """One instrument's book from an incremental channel, kept to ``depth`` levels a side."""

    inst_id: str
    depth: int = 400
    bids: dict[Decimal, Level] = attrs.field(factory=dict)
    asks: dict[Decimal, Level] = attrs.field(factory=dict)
    seq_id: int | None = None  # None: waiting for a snapshot
    ts_ms: int = 0
    checksums_verified: int = 0

    @property
    def ready(self) -> bool:
        return self.seq_id is not None

    def reset(self) -> None:
        self.bids, self.asks, self.seq_id = {}, {}, None

    def apply_message(self, message: s.WsBookMessage) -> None:
        for data in message.data:
            self.apply(message.action, data)

    def apply(self, action: str, data: s.WsBookData) -> None:
        """Apply one snapshot or update; raises `ProtocolViolation` (and resets) on a gap or bad checksum."""
        if action == "snapshot":
            self.bids, self.asks = {}, {}
        elif action == "update":
            if self.seq_id is None:
                raise ProtocolViolation(f"{self.inst_id} book: update seqId={data.seqId} before any snapshot",
                                        venue=VENUE)
            if data.prevSeqId != self.seq_id:
                expected = self.seq_id
                self.reset()
                raise ProtocolViolation(f"{self.inst_id} book gap: prevSeqId={data.prevSeqId}, last seqId was "
                                        f"{expected}", venue=VENUE)
        else:
            raise ProtocolViolation(f"unknown OKX book action {action!r}", venue=VENUE)
        try:
            self._merge(self.bids, data.bids)
            self._merge(self.asks, data.asks)
        except ProtocolViolation:
            self.reset()
            raise
        self._truncate()
        if data.checksum != 0:
            bids, asks = self.top_levels(CHECKSUM_LEVELS)
            ours = checksum(bids, asks)
            if ours != data.checksum:
                self.reset()
                raise ProtocolViolation(f"{self.inst_id} book checksum mismatch at seqId={data.seqId}: OKX "
                                        f"{data.checksum}, ours {ours}", venue=VENUE)
            self.checksums_verified += 1
        self.seq_id = data.seqId
        try:
            self.ts_ms = int(data.ts)
        except ValueError:
            self.reset()
            raise ProtocolViolation(f"OKX book ts {data.ts!r} is not epoch milliseconds", venue=VENUE) from None

    @staticmethod
    def _merge(side: dict[Decimal, Level], levels: Iterable[s.BookLevel]) -> None:
        for price, size, *_ in levels:
            key = _price(price)
            if _is_zero(size):
                side.pop(key, None)
            else:
                side[key] = (price, size)

    def _truncate(self) -> None:
        """OKX keeps ``depth`` levels a side; levels pushed out of that window get no delete message."""
        for side, best_first in ((self.bids, True), (self.asks, False)):
            excess = len(side) - self.depth
            if excess > 0:
                worst = heapq.nsmallest(excess, side) if best_first else heapq.nlargest(excess, side)
                for price in worst:
                    del side[price]

    def top_levels(self, levels: int) -> tuple[list[Level], list[Level]]:
        """The best ``levels`` bids (highest first) and asks (lowest first), as OKX's strings."""
        bids = [self.bids[p] for p in heapq.nlargest(levels, self.bids)]
        asks = [self.asks[p] for p in heapq.nsmallest(levels, self.asks)]
        return bids, asks

    def checksum(self) -> int:
        return checksum(*self.top_levels(CHECKSUM_LEVELS))

    def snapshot(self, instrument: Instrument, spec: ContractSpec, levels: int = 10) -> OrderBook:
        """The best ``levels`` a side as an OrderBook in our quantity unit; refused while not synchronised."""
        if self.seq_id is None:
            raise ProtocolViolation(f"{self.inst_id} book is not synchronised", venue=VENUE)
        bids, asks = self.top_levels(levels)
        return OrderBook(venue=VENUE, symbol=instrument.symbol, bids=_levels(bids, spec), asks=_levels(asks, spec),
                         sequence=self.seq_id, timestamp=from_epoch_ms(self.ts_ms))


def _levels(levels: Sequence[Level], spec: ContractSpec) -> list[BookLevel]:
    return book_levels(((price, size, "0", "") for price, size in levels), spec)


def book_from_full_push(data: s.WsBookData, instrument: Instrument, spec: ContractSpec) -> OrderBook:
    """A ``books5`` / ``bbo-tbt`` item: each push is the whole top of the book (best first)."""
    try:
        ts = from_epoch_ms(data.ts)
    except ValueError:
        raise ProtocolViolation(f"OKX book ts {data.ts!r} is not epoch milliseconds", venue=VENUE) from None
    return OrderBook(venue=VENUE, symbol=instrument.symbol, bids=book_levels(data.bids, spec),
                     asks=book_levels(data.asks, spec), sequence=data.seqId, timestamp=ts)
