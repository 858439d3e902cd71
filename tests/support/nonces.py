"""Where tests keep Kraken's per-key nonce files: a fresh folder in memory (/dev/shm) where there is one.

`brokers.kraken.nonce` writes and fsyncs a small file for every private call, in a worker thread. On a disk
that is ~15 ms per call; on tmpfs ~0.1 ms. Under trio's virtual clock the loop is idle while the thread
works, so the clock jumps ahead meanwhile: the shorter the thread's turn, the closer virtual time stays to
what the test means (a 15 ms fsync is enough for dozens of jumps past an emulator's ticks).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import trio
import trio.testing


def nonce_dir() -> str:
    """A new folder for nonce files, in memory where the machine has /dev/shm (removed when the tests exit)."""
    memory = "/dev/shm"
    folder = tempfile.mkdtemp(prefix="kraken-nonce-", dir=memory if os.path.isdir(memory) else None)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


AUTOJUMP_THRESHOLD = 0.001
"""Real seconds trio's virtual clock waits, idle, before it jumps: long enough for the nonce's worker thread to
take its turn. With 0, the clock jumps as soon as the loop is idle -- also while that thread waits for the GIL,
which the loop holds for up to 5 ms of jumping (hundreds of emulator ticks, virtual minutes): a connect could
time out at 60 virtual seconds before its first private call had its nonce."""


def virtual_clock() -> trio.testing.MockClock:
    """The virtual clock for tests of a client that takes Kraken nonces (see `AUTOJUMP_THRESHOLD`)."""
    return trio.testing.MockClock(autojump_threshold=AUTOJUMP_THRESHOLD)
