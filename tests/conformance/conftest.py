"""Fixtures for driving official SDKs against the emulators.

The SDKs are synchronous (requests), so the emulator runs in a thread with its own `trio.run` on the
real clock. Prices are frozen (a tick interval of an hour) so what the SDK reads can be compared
with the engine's state without racing the price path.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulators import EmulatedVenue
from tests.support.threaded import emulator_thread


@pytest.fixture(scope="module")
def still_binance() -> Iterator[EmulatedVenue]:
    with emulator_thread("binance", seed=33, tick_interval=3600) as emulated:
        yield emulated
