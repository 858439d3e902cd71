"""An emulator on trio in a thread of its own, for clients that bring their own event loop (synchronous
SDKs, asyncio SDKs, the benchmark's clients) and drive it on the real clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import trio

from emulators import EmulatedVenue, emulate


@contextmanager
def emulator_thread(venue: str, *, prepare: Callable[[EmulatedVenue], None] | None = None,
                    **options: Any) -> Iterator[EmulatedVenue]:
    """``emulate(venue, **options)`` served from another thread until the block ends; ``prepare`` runs on
    the emulator's own thread before anyone connects."""
    ready, stop = threading.Event(), threading.Event()
    holder: list[EmulatedVenue] = []

    async def serve() -> None:
        async with emulate(venue, **options) as emulated:
            if prepare is not None:
                prepare(emulated)
            holder.append(emulated)
            ready.set()
            await trio.to_thread.run_sync(stop.wait)

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    try:
        assert ready.wait(30), f"the {venue} emulator did not start"
        yield holder[0]
    finally:
        stop.set()
        thread.join(10)
