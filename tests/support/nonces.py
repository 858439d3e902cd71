"""Where tests keep Kraken's per-key nonce files: a fresh folder in memory (/dev/shm) where there is one.

`brokers.kraken.nonce` writes and fsyncs a small file for every private call, in a worker thread. On a disk
that is ~15 ms per call; on tmpfs ~0.1 ms. Under trio's virtual clock the loop is idle while the thread
works, so the clock jumps ahead meanwhile: the shorter the thread's turn, the closer virtual time stays to
what the test means (a 15 ms fsync is enough for dozens of jumps past an emulator's ticks).
"""

from __future__ import annotations

import os
import tempfile


def nonce_dir() -> str:
    """A new folder for nonce files, in memory where the machine has /dev/shm."""
    memory = "/dev/shm"
    return tempfile.mkdtemp(prefix="kraken-nonce-", dir=memory if os.path.isdir(memory) else None)
