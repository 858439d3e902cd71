"""Fixtures for driving official SDKs against the emulators.

The SDKs are synchronous (requests), so the emulator runs in a thread with its own `trio.run` on the
real clock. Prices are frozen (a tick interval of an hour) so what the SDK reads can be compared
with the engine's state without racing the price path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import trio

from emulators import EmulatedVenue, emulate


class Running:
    """An emulator serving from its own thread: the venue, and a way to run code in its trio loop."""

    def __init__(self, venue: EmulatedVenue, token: trio.lowlevel.TrioToken) -> None:
        self.venue, self.token = venue, token

    def call(self, fn: Callable[[], Any]) -> Any:
        return trio.from_thread.run_sync(fn, trio_token=self.token)


@contextmanager
def serving(venue: str, seed: int, configure: Callable[[EmulatedVenue], None] | None = None) -> Iterator[Running]:
    """Run ``venue``'s emulator in a thread with its own trio loop, prices frozen (a tick an hour)."""
    ready, stop = threading.Event(), threading.Event()
    holder: list[Running] = []

    async def serve() -> None:
        async with emulate(venue, seed=seed, tick_interval=3600) as emulated:
            if configure is not None:
                configure(emulated)
            holder.append(Running(emulated, trio.lowlevel.current_trio_token()))
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


@pytest.fixture(scope="module")
def still_binance() -> Iterator[EmulatedVenue]:
    with serving("binance", 33) as running:
        yield running.venue
