"""Fixtures for driving official SDKs against the emulators.

The SDKs bring their own event loops (requests, asyncio), so the emulator runs in a thread with its own
`trio.run` on the real clock (tests/support/threaded.py). Prices are frozen (a tick interval of an hour)
so what the SDK reads can be compared with the engine's state without racing the price path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import trio

from emulators import EmulatedVenue
from tests.support.threaded import emulator_thread


class Running:
    """An emulator serving from its own thread: the venue, and a way to run code in its trio loop."""

    def __init__(self, venue: EmulatedVenue, token: trio.lowlevel.TrioToken) -> None:
        self.venue, self.token = venue, token

    def call(self, fn: Callable[[], Any]) -> Any:
        return trio.from_thread.run_sync(fn, trio_token=self.token)


@contextmanager
def serving(venue: str, seed: int, configure: Callable[[EmulatedVenue], None] | None = None,
            **options: Any) -> Iterator[Running]:
    """``venue``'s emulator in a thread, prices frozen; ``configure`` runs in its loop before anyone connects."""
    tokens: list[trio.lowlevel.TrioToken] = []

    def prepare(emulated: EmulatedVenue) -> None:
        if configure is not None:
            configure(emulated)
        tokens.append(trio.lowlevel.current_trio_token())

    with emulator_thread(venue, seed=seed, tick_interval=3600, prepare=prepare, **options) as emulated:
        yield Running(emulated, tokens[0])


@pytest.fixture(scope="module")
def still_binance() -> Iterator[EmulatedVenue]:
    with emulator_thread("binance", seed=33, tick_interval=3600) as venue:
        yield venue


def threaded_emulator(venue: str, seed: int, **options: Any) -> Iterator[EmulatedVenue]:
    """For fixtures: ``yield from threaded_emulator("alpaca", seed=1, market_time=...)``."""
    with emulator_thread(venue, seed=seed, **options) as emulated:
        yield emulated
