"""Fixtures for driving official SDKs against the emulators.

The SDKs are synchronous (requests), so the emulator runs in a thread with its own `trio.run` on the
real clock. Prices are frozen (a tick interval of an hour) so what the SDK reads can be compared
with the engine's state without racing the price path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from emulators import EmulatedVenue, emulate


@pytest.fixture(scope="module")
def still_binance() -> Iterator[EmulatedVenue]:
    yield from threaded_emulator("binance", seed=33, tick_interval=3600)


def threaded_emulator(venue: str, **options: Any) -> Iterator[EmulatedVenue]:
    """Run ``emulate(venue, **options)`` in a thread with its own trio loop until the generator is closed (for
    fixtures: ``yield from threaded_emulator("alpaca", seed=1)``)."""
    ready, stop, holder = threading.Event(), threading.Event(), []

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
