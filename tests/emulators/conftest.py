"""Fixtures for the emulator's own tests: a running Binance emulator and signed-request helpers."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from emulators import EmulatedVenue, emulate


@pytest.fixture
async def venue() -> AsyncIterator[EmulatedVenue]:
    async with emulate("binance", seed=7) as emulated:
        yield emulated


def signed_query(secret: str, params: dict[str, str], *, timestamp_ms: int | None = None) -> str:
    """``params`` plus timestamp, signed the documented way (HMAC-SHA256 of the exact query string)."""
    query = urlencode({**params, "timestamp": str(timestamp_ms if timestamp_ms is not None else
                                                   time.time_ns() // 1_000_000)})
    signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={signature}"
