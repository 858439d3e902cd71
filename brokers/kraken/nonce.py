"""Kraken's nonce: strictly increasing per API key, across restarts and across processes sharing the key.

Kraken refuses a private call whose nonce is not above the last one it accepted for that key
(``EAPI:Invalid nonce``, with the key's nonce window at 0, which is what we require: a wider window
lets a late request through). A clock alone does not give that: two processes on one key read the
same microsecond, a restart after an NTP step back reuses values, and a key once used by a client
counting in finer units (python-kraken-sdk sends ``time * 1e8``) is already far ahead.

So each key (by the SHA-256 of its public part; the key itself is never written) has a small state
file under ``~/.algotrendy/nonce/`` (or ``$ALGOTRENDY_HOME/nonce``). Issuing a nonce takes an
exclusive ``flock`` on the key's lock file (and a thread lock, since ``flock`` does not order the
threads of one process that share a descriptor), reads the last value, issues
``max(last + 1, now in microseconds)``, and replaces the state file atomically (write, rename) before
releasing the lock. Every process on the machine sees the new value at once (the page cache is shared).
Values therefore never repeat and never go backwards, whatever the clock does and however many
processes share the key.

Durability without an fsync per call (an fsync costs milliseconds on a disk, on every order): the file
also holds a *ceiling*, written durably (fsync of the file and its folder) and always above every nonce
issued. Only a nonce reaching the ceiling moves it, `DURABLE_RESERVE` (10 s of microseconds) further, with
an fsync: about one fsync per 10 s of traffic. A source's first nonce (a process start) is issued at or
above the ceiling, so after a power cut that lost the un-synced last value, nothing issued before the cut
can be issued again.

Issuing in order is not arriving in order: process A may take 10, B 11, and B's request land first,
so A's is refused. That refusal is harmless (the call was not executed; retry it once with a fresh
nonce), but `lease` avoids it: it keeps the lock while the caller sends the request and waits for the
answer, so no later nonce of this key can reach Kraken before it. Private REST calls per key are
bounded by Kraken's call counter (about one a second at most tiers) anyway, so serialising them costs
nothing; the trading hot path can use the websocket (a token, no nonce).

I/O here is blocking (a file lock): async callers run it in a worker thread (`lease_async`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import attrs
import trio

from brokers.kraken.constants import NONCE_MAX, VENUE
from protocol.errors import BrokerError

DURABLE_RESERVE = 10_000_000
"""How far above the nonce that reached it the durable ceiling is moved (microseconds: 10 s of the clock)."""


def microseconds_now() -> int:
    return time.time_ns() // 1_000


def default_directory() -> Path:
    """``$ALGOTRENDY_HOME/nonce`` or ``~/.algotrendy/nonce``."""
    home = os.environ.get("ALGOTRENDY_HOME")
    return (Path(home) if home else Path.home() / ".algotrendy") / "nonce"


def key_id(api_key: str) -> str:
    """What names a key's files: a hash, so the public key is not written to disk either."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]


# One thread lock per state file in this process: two FileNonce objects for the same key (a restart
# inside one process, two brokers on one key) must serialise like two processes do.
_THREAD_LOCKS: dict[Path, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(path, threading.Lock())


@attrs.define
class FileNonce:
    """The per-key nonce source shared by every thread and process on this machine (see module doc)."""

    path: Path  # the state file; its lock file sits next to it
    clock: Callable[[], int] = microseconds_now
    fsync: bool = True  # the ceiling durable across a power cut; tests may turn it off for speed
    _thread_lock: threading.Lock = attrs.field(init=False)
    _started: bool = attrs.field(init=False, default=False)  # issued one already (else: start at the ceiling)

    def __attrs_post_init__(self) -> None:
        self.path = self.path.absolute()
        self._thread_lock = _thread_lock(self.path)

    @classmethod
    def for_key(cls, api_key: str, directory: Path | None = None, *, clock: Callable[[], int] = microseconds_now,
                fsync: bool = True) -> FileNonce:
        folder = directory if directory is not None else default_directory()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return cls(folder / f"{VENUE}-{key_id(api_key)}.nonce", clock=clock, fsync=fsync)

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(".lock")

    # --- issuing ---------------------------------------------------------------------------------

    def next_nonce(self) -> int:
        """Issue one nonce (the lock is released before returning)."""
        with self.lease() as nonce:
            return nonce

    @contextlib.contextmanager
    def lease(self) -> Iterator[int]:
        """Issue a nonce and hold the key's lock until the block ends: send the request inside it."""
        descriptor = self._acquire()
        try:
            yield self._issue()
        finally:
            self._release(descriptor)

    @contextlib.asynccontextmanager
    async def lease_async(self) -> AsyncIterator[int]:
        """`lease` for trio: the blocking lock is taken in a worker thread, released here."""
        descriptor, nonce = await trio.to_thread.run_sync(self._acquire_and_issue)
        try:
            yield nonce
        finally:
            self._release(descriptor)

    def raise_floor(self, floor: int) -> None:
        """Make every later nonce exceed ``floor`` (a key already used with larger nonces elsewhere)."""
        descriptor = self._acquire()
        try:
            last, ceiling = self._read()
            if floor > last:
                self._write(self._checked(floor), max(ceiling, floor + 1), durable=floor >= ceiling)
        finally:
            self._release(descriptor)

    def last(self) -> int:
        """The last nonce issued for this key (0 if none)."""
        descriptor = self._acquire()
        try:
            return self._read()[0]
        finally:
            self._release(descriptor)

    # --- the locked steps ------------------------------------------------------------------------

    def _acquire(self) -> int:
        self._thread_lock.acquire()
        try:
            descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except BaseException:
            self._thread_lock.release()
            raise
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except BaseException:
            os.close(descriptor)
            self._thread_lock.release()
            raise
        return descriptor

    def _release(self, descriptor: int) -> None:
        try:
            os.close(descriptor)  # closing the only descriptor drops the flock
        finally:
            self._thread_lock.release()

    def _acquire_and_issue(self) -> tuple[int, int]:
        descriptor = self._acquire()
        try:
            return descriptor, self._issue()
        except BaseException:
            self._release(descriptor)
            raise

    def _issue(self) -> int:
        last, ceiling = self._read()
        nonce = self._checked(max(last + 1, self.clock(), 0 if self._started else ceiling))
        self._started = True
        if nonce >= ceiling:
            self._write(nonce, min(nonce + DURABLE_RESERVE, NONCE_MAX + 1), durable=True)
        else:
            self._write(nonce, ceiling, durable=False)
        return nonce

    def _checked(self, value: int) -> int:
        if value > NONCE_MAX:
            raise BrokerError(f"the nonce for this Kraken key would pass 2**64 - 1 ({self.path}): create a new key",
                              venue=VENUE)
        return value

    def _read(self) -> tuple[int, int]:
        """(the last nonce issued, the durable ceiling); a state of one number (an older file) is both."""
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return 0, 0
        fields = text.split()
        if not 1 <= len(fields) <= 2 or not all(field.isdigit() for field in fields):
            raise BrokerError(f"the Kraken nonce state {self.path} is corrupt ({text[:40]!r}); restore it or "
                              "remove it and create a new API key", venue=VENUE)
        return int(fields[0]), int(fields[-1])

    def _write(self, value: int, ceiling: int, *, durable: bool) -> None:
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(temporary, "w") as handle:
            handle.write(f"{value} {ceiling}")
            handle.flush()
            if durable and self.fsync:
                os.fsync(handle.fileno())
        os.replace(temporary, self.path)  # atomic: a reader sees the old state or the new one
        if durable and self.fsync:
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
