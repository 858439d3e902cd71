"""Where the integration tests run: always against the emulator, and against the real venue's
testnet too when its credentials are in the environment (a venue without a testnet, Kraken, runs
against the real venue read-only instead: `READ_ONLY_REAL_VENUES`).

Each test module sets ``VENUE``; the `where` fixture parametrises every test over ("emulator",
"testnet"). The testnet half skips with a reason when keys are absent, so the same test bodies
always execute in CI against the emulator. Against the emulator, trio's virtual clock is used
(deterministic, no real waiting); against a real venue, the real clock.

A module may set ``EMULATOR_OPTIONS`` (keywords of `emulators.emulate`, e.g. Alpaca's ``market_time``),
and a test may pin the emulator's market clock with ``@pytest.mark.market_time(<aware datetime>, **emulate
keywords)``; a real
venue's clock cannot be pinned, so such a test's real-venue twin skips with that reason.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import pytest
import trio
import trio.testing

import brokers
from brokers.base import Broker, BrokerSettings
from protocol.credentials import Credentials

VirtualClock = trio.abc.Clock | None
"""Every test takes ``clock``: pytest-trio only runs a test on a Clock passed as its own argument."""


@attrs.frozen
class Target:
    """A venue to test against: its settings, and the emulator behind it (None on a real testnet)."""

    where: str
    settings: BrokerSettings
    emulator: Any | None
    make_broker: Callable[[BrokerSettings], Broker]

    def broker(self, **changes: Any) -> Broker:
        return self.make_broker(attrs.evolve(self.settings, **changes))

    def require_emulator(self, why: str) -> Any:
        if self.emulator is None:
            pytest.skip(f"{why}: fault injection exists only on the emulator (this body ran there)")
        return self.emulator


TESTNET_KEYS = {
    "binance": ("BINANCE_API_KEY", "BINANCE_API_SECRET"),
    "bybit": ("BYBIT_API_KEY", "BYBIT_API_SECRET"),
    "alpaca": ("ALPACA_API_KEY", "ALPACA_API_SECRET"),  # paper trading keys (Alpaca's "testnet")
    "kraken": ("KRAKEN_API_KEY", "KRAKEN_API_SECRET"),  # real keys: Kraken has no spot testnet (read-only below)
    "okx": ("OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE"),  # an OKX demo-trading key
}
"""The environment variables of each venue's testnet credentials: key, secret (and passphrase where asked)."""
READ_ONLY_REAL_VENUES: dict[str, dict[str, str]] = {
    # Venues without a testnet: their twins run against the real venue, read-only, with these options.
    "kraken": {"validate_only": "true"},  # orders are checked with validate=true, never placed
}


@pytest.fixture(params=["emulator", "testnet"])
def where(request: pytest.FixtureRequest) -> str:
    venue = request.module.VENUE
    if request.param == "testnet":
        names = TESTNET_KEYS[venue]
        if not all(os.environ.get(name) for name in names):
            if venue in READ_ONLY_REAL_VENUES:
                pytest.skip(f"{'/'.join(names)} not set: the real {venue} run is skipped ({venue} has no testnet: "
                            "it would run read-only, orders only validated, never placed; the same test ran "
                            "against the emulator)")
            pytest.skip(f"{'/'.join(names)} not set: the {venue} testnet run is skipped "
                        "(the same test ran against the emulator)")
    return str(request.param)


@pytest.fixture
def clock(where: str) -> trio.abc.Clock | None:
    # pytest-trio runs the test on any Clock a fixture returns; None leaves the real clock.
    return trio.testing.MockClock(autojump_threshold=0) if where == "emulator" else None


@pytest.fixture
async def target(request: pytest.FixtureRequest, where: str, clock: Any) -> AsyncIterator[Target]:
    venue: str = request.module.VENUE
    factory = brokers.load_broker_factory(venue)
    options: dict[str, str] = getattr(request.module, "OPTIONS", {})
    emulator_options: dict[str, Any] = dict(getattr(request.module, "EMULATOR_OPTIONS", {}))
    pinned = request.node.get_closest_marker("market_time")
    if pinned is not None:
        emulator_options.update(market_time=pinned.args[0], **pinned.kwargs)
    if where == "testnet":
        if pinned is not None:
            pytest.skip(f"the market clock is pinned to {pinned.args[0]}: only an emulator's clock can be "
                        "(this body ran against the emulator)")
        read_only = READ_ONLY_REAL_VENUES.get(venue)
        rest, ws = brokers.default_endpoints(venue, testnet=read_only is None)
        creds = Credentials.from_strings(*(os.environ[name] for name in TESTNET_KEYS[venue]))
        yield Target(where, BrokerSettings(venue=venue, rest_url=rest, ws_url=ws, credentials=creds,
                                           testnet=read_only is None, options={**options, **(read_only or {})}),
                     None, factory)
        return
    from emulators import emulate

    async with emulate(venue, seed=11, **emulator_options) as emulated:
        creds = Credentials.from_strings(emulated.api_key, emulated.api_secret, emulated.passphrase)
        # An emulator is the venue's demo environment: its keys are demo keys (OKX serves them only with
        # its demo header, which the client sends in testnet mode).
        settings = BrokerSettings(venue=venue, rest_url=emulated.rest_url, ws_url=emulated.ws_url,
                                  credentials=creds, request_timeout=5.0, options=options, testnet=True)
        yield Target(where, settings, emulated, factory)


@pytest.fixture
async def broker(target: Target) -> AsyncIterator[Broker]:
    client = target.broker()
    await client.connect()
    try:
        yield client
    finally:
        with trio.CancelScope(shield=True):
            await client.disconnect()
