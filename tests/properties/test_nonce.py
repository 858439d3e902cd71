"""Kraken's nonce at the venue: never reused, never out of order -- with concurrent requests and restarts.

Several Kraken clients share one API key and one nonce folder (as processes on one machine do), against the
emulator, which applies Kraken's rule with the key's nonce window at 0: a private call is accepted only if its
nonce is above every nonce the key used before. A random schedule of bursts of concurrent private calls (from
one client or from several at once) and restarts (a client replaced by a new one reading the same folder);
after it: every call succeeded, and the venue saw each nonce once, in strictly increasing order of arrival,
and refused none (a refusal would be retried once by the client, so the venue's own record is what is
checked). tests/unit/kraken/test_nonce.py covers real processes, threads and clock steps on a model venue.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import attrs
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.base import BrokerSettings
from brokers.kraken.client import KrakenBroker
from protocol.credentials import Credentials
from tests.support.nonces import nonce_dir, virtual_clock

CLIENTS = 3


@attrs.frozen
class Burst:
    """``calls`` concurrent private calls from each client in ``clients``."""

    clients: frozenset[int]
    calls: int


@attrs.frozen
class Restart:
    client: int


steps = st.one_of(
    st.builds(Burst, st.frozensets(st.integers(0, CLIENTS - 1), min_size=1), st.integers(1, 4)),
    st.builds(Restart, st.integers(0, CLIENTS - 1)),
)


@attrs.define
class VenueRecord:
    """Wraps the emulator's nonce rule for the key: what arrived, in arrival order, and what was refused."""

    rule: Any
    arrived: list[int] = attrs.field(factory=list)
    refused: list[int] = attrs.field(factory=list)

    def accept(self, nonce: int) -> bool:
        accepted: bool = self.rule.accept(nonce)
        (self.arrived if accepted else self.refused).append(nonce)
        return accepted


async def run_schedule(schedule: list[Burst | Restart], seed: int) -> None:
    from emulators import emulate

    folder = nonce_dir()
    async with emulate("kraken", seed=seed, tick_interval=3600) as venue:
        venue.dialect.enforce_limits = False  # three clients on one key outrun its call counter: not the point here
        state = venue.dialect.key_state(venue.api_key)
        assert state.nonces.window == 0
        record = state.nonces = VenueRecord(state.nonces)
        settings_ = BrokerSettings(venue="kraken", rest_url=venue.rest_url, ws_url=venue.ws_url,
                                   credentials=Credentials.from_strings(venue.api_key, venue.api_secret),
                                   request_timeout=10.0, options={"nonce_dir": folder})

        async def started() -> KrakenBroker:
            client = KrakenBroker(settings_)
            await client.connect()
            return client

        clients = [await started() for _ in range(CLIENTS)]
        calls = itertools.count()
        try:
            for step in schedule:
                match step:
                    case Burst(clients=chosen, calls=count):
                        async with trio.open_nursery() as nursery:
                            for index in sorted(chosen):
                                for _ in range(count):
                                    next(calls)
                                    nursery.start_soon(clients[index].get_balances)
                    case Restart(client=index):
                        await clients[index].disconnect()
                        clients[index] = await started()
        finally:
            for client in clients:
                await client.disconnect()
        assert record.refused == [], f"the venue refused nonces {record.refused[:5]}"
        assert all(earlier < later for earlier, later in itertools.pairwise(record.arrived))
        # every call and every connect reached the venue with its own nonce
        assert len(record.arrived) == next(calls) + CLIENTS + sum(isinstance(s, Restart) for s in schedule)


EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "25")) * 2 // 5


@settings(max_examples=max(1, EXAMPLES), deadline=None)
@given(schedule=st.lists(steps, min_size=1, max_size=8), seed=st.integers(1, 1000))
def test_nonces_reach_kraken_once_and_in_order_across_clients_and_restarts(schedule: list[Burst | Restart],
                                                                           seed: int) -> None:
    trio.run(run_schedule, schedule, seed, clock=virtual_clock())
