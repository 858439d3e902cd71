"""An emulator in a thread of its own (its own `trio.run`, the real clock), for synchronous clients: official
SDKs built on requests or websocket-client, and fuzzers that drive blocking HTTP and websocket calls."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import trio

from emulators import EmulatedVenue, emulate


@contextmanager
def emulator_thread(venue: str, **options: Any) -> Iterator[EmulatedVenue]:
    """Run ``emulate(venue, **options)`` in a daemon thread until the block ends (a tick interval of an hour
    freezes prices, so what a client reads can be compared with the engine)."""
    ready, stop = threading.Event(), threading.Event()
    holder: list[EmulatedVenue] = []

    async def serve() -> None:
        async with emulate(venue, **options) as emulated:
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
