"""An emulator on its own trio loop in a thread, for synchronous clients (official SDKs, hypothesis)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import trio

from emulators import EmulatedVenue, emulate


@contextmanager
def emulator_in_thread(venue: str, seed: int, tick_interval: float = 3600, **options: Any) -> Iterator[EmulatedVenue]:
    """``venue``'s emulator on its own trio loop in a thread (real clock), for synchronous clients;
    ``options`` are the venue's own `emulate` options (e.g. Alpaca's ``market_time``)."""
    ready = threading.Event()
    stop = threading.Event()
    holder: list[EmulatedVenue] = []

    async def serve() -> None:
        async with emulate(venue, seed=seed, tick_interval=tick_interval, **options) as emulated:
            holder.append(emulated)
            ready.set()
            await trio.to_thread.run_sync(stop.wait)

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    assert ready.wait(30), "the emulator did not start"
    try:
        yield holder[0]
    finally:
        stop.set()
        thread.join(10)
