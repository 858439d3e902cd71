"""The durable journal: orders, fills, reconciliation watermarks, the kill switch (design §10).

One SQLite file (stdlib ``sqlite3``, WAL) per daemon. It records every order state change and every
fill the router passes on, every order we are about to send, the per-venue fill watermark, the kill
switch and the risk counters; at start the daemon loads it and each venue's actor resumes
reconciliation where it stopped, so fills that happened while the daemon was down are delivered,
and nothing it already delivered is delivered again.

Write-ahead, in batches. An order update or fill reaches subscribers only *after* the transaction
that records it has committed; the router's pipeline takes everything queued, commits it in one
transaction on a worker thread (`trio.to_thread`, so the trio loop never waits on the disk) and then
releases the batch in order. Why write-ahead rather than deliver-then-record: a crash between the two
steps must leave the journal saying the truth about what strategies may have seen. Recorded but not
delivered (a crash after the commit) is recovered from the journal: a strategy reads it (`history`)
and the restarted daemon does not deliver it again. Delivered but not recorded cannot be told apart
from never delivered, so the restarted daemon would deliver it a second time. Batching is what makes
write-ahead cheap: while one commit runs the next batch fills, so the cost is one commit per burst,
not per event. An order is also recorded (venue, client id, symbol) before it is sent, so a crash
before its answer still leaves the symbol to reconcile and the client id to look up.

Durability is against the process dying (kill -9, OOM): ``synchronous=NORMAL`` in WAL mode keeps
every committed transaction once the OS has it. Against power loss, set ``synchronous = "full"``
(an fsync per commit). A write that fails (disk full) is logged and counted, the events still go
out (trading goes on; `readyz` says the journal is failing), and reconciliation after the next
start re-reads from the last watermark that did reach the disk.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs
import msgspec
import trio

from protocol import messages as m
from protocol.model import Fill, Order

log = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 1
SEEN_FILLS = 10_000  # fill ids loaded per venue (the broker state remembers as many)
RECENT = timedelta(hours=24)  # symbols traded this recently are reconciled at start
WATERMARK_MARGIN = timedelta(seconds=10)  # fill ids loaded from this far before each watermark

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS venues (venue TEXT PRIMARY KEY, history_start INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    venue TEXT NOT NULL, client_order_id TEXT NOT NULL, symbol TEXT NOT NULL, submitted_at INTEGER NOT NULL,
    command TEXT NOT NULL, rejected TEXT, PRIMARY KEY (venue, client_order_id));
CREATE TABLE IF NOT EXISTS orders (
    venue TEXT NOT NULL, client_order_id TEXT NOT NULL, symbol TEXT NOT NULL, status TEXT NOT NULL,
    terminal INTEGER NOT NULL, updated_at INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (venue, client_order_id));
CREATE INDEX IF NOT EXISTS orders_open ON orders (venue, terminal);
CREATE TABLE IF NOT EXISTS order_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, venue TEXT NOT NULL, client_order_id TEXT NOT NULL,
    status TEXT NOT NULL, filled TEXT NOT NULL, updated_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fills (
    venue TEXT NOT NULL, symbol TEXT NOT NULL, trade_id TEXT NOT NULL, client_order_id TEXT NOT NULL,
    ts INTEGER NOT NULL, recorded_at INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (venue, symbol, trade_id));
CREATE INDEX IF NOT EXISTS fills_by_time ON fills (venue, ts);
CREATE TABLE IF NOT EXISTS watermarks (venue TEXT NOT NULL, symbol TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (venue, symbol));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class JournalError(Exception):
    """The journal cannot be opened (held by another daemon, unreadable, newer schema)."""


def to_micros(when: datetime) -> int:
    delta = when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


@attrs.frozen
class VenueRecord:
    """What one venue's actor needs to resume: plain data, mapped onto the broker state by the daemon."""

    history_start: datetime  # fills before the venue's first start are history, never delivered
    watermarks: dict[str, datetime]  # symbol -> time of the last recorded fill
    seen_fills: list[tuple[str, str]]  # (symbol, trade id), oldest first
    open_orders: list[Order]
    filled: dict[str, Decimal]  # client order id -> quantity in recorded fills (open orders)
    active_symbols: set[str]
    submitted: list[str]  # client order ids sent recently, oldest first


@attrs.frozen
class JournalSnapshot:
    venues: dict[str, VenueRecord]
    kill_switch: str | None
    counters: dict[str, int]


@attrs.frozen
class History:
    """Orders (latest state) and fills, oldest first, for `algotrendy history`."""

    orders: list[Order]
    fills: list[Fill]
    rejected: list[tuple[str, str, str, str]]  # (venue, client order id, symbol, error)


_order_decoder = msgspec.json.Decoder(Order)
_fill_decoder = msgspec.json.Decoder(Fill)
_encoder = msgspec.json.Encoder(decimal_format="string")


@attrs.define(eq=False)
class Journal:
    """The open journal of one daemon: one connection, one writer at a time, a flock against a second."""

    path: Path
    _db: sqlite3.Connection
    _lock_fd: int
    _lock: trio.Lock = attrs.field(factory=trio.Lock)
    write_errors: int = 0
    last_error: str | None = None
    loaded: JournalSnapshot | None = None  # what `snapshot` found at start

    @classmethod
    def open(cls, path: Path, *, synchronous: str = "NORMAL") -> Journal:
        path = path.expanduser()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalError(f"journal {path} is in use by another daemon") from None
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            db.executescript(_SCHEMA)
            version = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if version is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(version[0]) > SCHEMA_VERSION:
                raise JournalError(f"journal {path} has schema {version[0]}, newer than this version "
                                   f"({SCHEMA_VERSION}): upgrade algotrendy or use another journal")
        except (sqlite3.Error, JournalError) as error:
            if db is not None:
                db.close()
            os.close(fd)
            if isinstance(error, JournalError):
                raise
            raise JournalError(f"journal {path} cannot be opened: {error}") from None
        return cls(path, db, fd)

    def close(self) -> None:
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:
            log.warning("journal checkpoint failed: %s", error)
        self._db.close()
        os.close(self._lock_fd)

    # ------------------------------------------------------------------ start-up (before trading)
    def snapshot(self, venues: Iterable[str], now: datetime) -> JournalSnapshot:
        """Load what every venue needs to resume; a venue seen for the first time starts its history now."""
        db = self._db
        records: dict[str, VenueRecord] = {}
        for venue in venues:
            _in_transaction(db, lambda db, v=venue: db.execute(  # type: ignore[misc]
                "INSERT OR IGNORE INTO venues VALUES (?, ?)", (v, to_micros(now))))
            records[venue] = self._venue_record(venue, now)
        kill = db.execute("SELECT value FROM meta WHERE key='kill_switch'").fetchone()
        counters = dict(db.execute("SELECT name, value FROM counters").fetchall())
        self.loaded = JournalSnapshot(records, kill[0] if kill else None, counters)
        return self.loaded

    def _venue_record(self, venue: str, now: datetime) -> VenueRecord:
        db = self._db
        (start,) = db.execute("SELECT history_start FROM venues WHERE venue=?", (venue,)).fetchone()
        marks = dict(db.execute("SELECT symbol, ts FROM watermarks WHERE venue=?", (venue,)).fetchall())
        seen: list[tuple[str, str]] = []
        for symbol, mark in marks.items():
            seen += db.execute(
                "SELECT symbol, trade_id FROM fills WHERE venue=? AND symbol=? AND ts>=? ORDER BY ts",
                (venue, symbol, mark - WATERMARK_MARGIN // timedelta(microseconds=1))).fetchall()
        latest = db.execute("SELECT symbol, trade_id FROM fills WHERE venue=? ORDER BY ts DESC LIMIT ?",
                            (venue, SEEN_FILLS)).fetchall()
        seen = list(dict.fromkeys([*reversed(latest), *seen]))[-SEEN_FILLS:]
        open_orders = [_order_decoder.decode(body) for (body,) in db.execute(
            "SELECT body FROM orders WHERE venue=? AND terminal=0 ORDER BY updated_at", (venue,))]
        filled: dict[str, Decimal] = {}
        for order in open_orders:
            for (body,) in db.execute("SELECT body FROM fills WHERE venue=? AND client_order_id=?",
                                      (venue, order.client_order_id)):
                fill = _fill_decoder.decode(body)
                filled[fill.client_order_id] = filled.get(fill.client_order_id, Decimal(0)) + fill.quantity
        since = to_micros(now - RECENT)
        active = {o.symbol for o in open_orders}
        for query in ("SELECT DISTINCT symbol FROM fills WHERE venue=? AND ts>=?",
                      "SELECT DISTINCT symbol FROM orders WHERE venue=? AND updated_at>=?",
                      "SELECT DISTINCT symbol FROM submissions WHERE venue=? AND submitted_at>=?"):
            active |= {symbol for (symbol,) in db.execute(query, (venue, since))}
        # An order sent whose answer never came back (the daemon died first): reconcile its symbol too.
        active |= {symbol for (symbol,) in db.execute(
            "SELECT s.symbol FROM submissions s LEFT JOIN orders o ON o.venue=s.venue AND "
            "o.client_order_id=s.client_order_id WHERE s.venue=? AND o.client_order_id IS NULL "
            "AND s.rejected IS NULL", (venue,))}
        submitted = [cid for (cid,) in db.execute(
            "SELECT client_order_id FROM submissions WHERE venue=? ORDER BY submitted_at DESC LIMIT ?",
            (venue, SEEN_FILLS))][::-1]
        return VenueRecord(from_micros(start), {s: from_micros(t) for s, t in marks.items()}, seen,
                           open_orders, filled, active, submitted)

    # ------------------------------------------------------------------ writes (off the trio thread)
    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        async with self._lock:  # one thread at a time on the connection
            return await trio.to_thread.run_sync(self._transaction, work)

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return _in_transaction(self._db, work)

    async def record_events(self, events: Sequence[m.EventMsg]) -> bool:
        """Commit the orders and fills among ``events`` (one transaction). False if the write failed."""
        orders = [e for e in events if isinstance(e, Order)]
        fills = [e for e in events if isinstance(e, Fill)]
        if not orders and not fills:
            return True
        return await self._guarded(lambda db: _insert_events(db, orders, fills))

    async def record_submission(self, venue: str, client_order_id: str, symbol: str,
                                command: msgspec.Struct) -> bool:
        """Before an order is sent: its client id and symbol (reconciled at start even if no answer came)."""
        body = _encoder.encode(command).decode()
        return await self._guarded(lambda db: db.execute(
            "INSERT OR IGNORE INTO submissions (venue, client_order_id, symbol, submitted_at, command) "
            "VALUES (?, ?, ?, ?, ?)", (venue, client_order_id, symbol, to_micros(datetime.now(UTC)), body)))

    async def record_rejection(self, venue: str, client_order_id: str, error: str) -> bool:
        return await self._guarded(lambda db: db.execute(
            "UPDATE submissions SET rejected=? WHERE venue=? AND client_order_id=?",
            (error, venue, client_order_id)))

    async def record_kill_switch(self, reason: str | None) -> bool:
        def write(db: sqlite3.Connection) -> None:
            if reason is None:
                db.execute("DELETE FROM meta WHERE key='kill_switch'")
            else:
                db.execute("INSERT INTO meta VALUES ('kill_switch', ?) ON CONFLICT(key) DO UPDATE SET "
                           "value=excluded.value", (reason,))

        return await self._guarded(write)

    async def bump(self, counter: str, by: int = 1) -> bool:
        return await self._guarded(lambda db: db.execute(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=value+excluded.value",
            (counter, by)))

    async def _guarded(self, work: Callable[[sqlite3.Connection], Any]) -> bool:
        try:
            await self._write(work)
        except sqlite3.Error as error:
            self.write_errors += 1
            self.last_error = str(error)
            log.error("journal write failed (%s): events go on unrecorded until it recovers", error)
            return False
        self.last_error = None
        return True


def _in_transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def _insert_events(db: sqlite3.Connection, orders: list[Order], fills: list[Fill]) -> None:
    now = to_micros(datetime.now(UTC))
    for order in orders:
        body = _encoder.encode(order).decode()
        updated = to_micros(order.updated_at)
        db.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(venue, client_order_id) DO UPDATE SET "
            "status=excluded.status, terminal=excluded.terminal, updated_at=excluded.updated_at, body=excluded.body",
            (order.venue, order.client_order_id, order.symbol, order.status.value, int(order.status.is_terminal),
             updated, body))
        db.execute("INSERT INTO order_events (venue, client_order_id, status, filled, updated_at, recorded_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (order.venue, order.client_order_id, order.status.value,
                                                 str(order.filled_quantity), updated, now))
    for fill in fills:
        ts = to_micros(fill.timestamp)
        db.execute("INSERT OR IGNORE INTO fills VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (fill.venue, fill.symbol, fill.trade_id, fill.client_order_id, ts, now,
                    _encoder.encode(fill).decode()))
        db.execute("INSERT INTO watermarks VALUES (?, ?, ?) ON CONFLICT(venue, symbol) DO UPDATE SET "
                   "ts=max(ts, excluded.ts)", (fill.venue, fill.symbol, ts))


# ============================================================================ reading (CLI)


def read_history(path: Path, *, venue: str | None = None, since: datetime | None = None) -> History:
    """Orders and fills recorded in the journal at ``path`` (read-only; safe while the daemon runs)."""
    if not path.exists():
        raise JournalError(f"no journal at {path}")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise JournalError(f"journal {path} cannot be read: {error}") from None
    try:
        where, args = ["1=1"], []
        if venue is not None:
            where.append("venue=?")
            args.append(venue)
        clause = " AND ".join(where)
        start = to_micros(since) if since is not None else 0
        orders = [_order_decoder.decode(b) for (b,) in db.execute(
            f"SELECT body FROM orders WHERE {clause} AND updated_at>=? ORDER BY updated_at", (*args, start))]
        fills = [_fill_decoder.decode(b) for (b,) in db.execute(
            f"SELECT body FROM fills WHERE {clause} AND ts>=? ORDER BY ts, trade_id", (*args, start))]
        rejected = db.execute(
            f"SELECT venue, client_order_id, symbol, rejected FROM submissions WHERE {clause} AND "
            "rejected IS NOT NULL AND submitted_at>=? ORDER BY submitted_at", (*args, start)).fetchall()
    except sqlite3.Error as error:
        raise JournalError(f"journal {path} cannot be read: {error}") from None
    finally:
        db.close()
    return History(orders, fills, rejected)
