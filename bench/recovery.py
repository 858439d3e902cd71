"""Recovery: time from a dropped private stream to CONNECTED and reconciled, at the default backoff.

While the stream is down, the venue fills an order for us (placed straight into the emulator's
engine, as a fill the client could only learn about by reconciling); the clock stops when the actor
is CONNECTED again *and* that fill has reached the subscriber.
"""

from __future__ import annotations

import time
from decimal import Decimal

import trio

from actors.handle import open_router_with
from actors.supervisor import BackoffPolicy
from brokers.base import BrokerSettings, BrokerState, broker_actor
from brokers.binance import create_broker
from emulators import emulate
from protocol.credentials import Credentials
from protocol.model import Fill


async def _once(seed: int) -> float:
    async with emulate("binance", seed=seed) as venue:
        settings = BrokerSettings(venue="binance", rest_url=venue.rest_url, ws_url=venue.ws_url,
                                  credentials=Credentials.from_strings(venue.api_key, venue.api_secret))
        actor = broker_actor(lambda: create_broker(settings), BrokerState(venue="binance"))
        async with open_router_with({"binance": actor}, policy=BackoffPolicy(), seed=seed) as router:
            await router.wait_connected("binance")
            await router.place_order(venue="binance", symbol="BTC/USDT", side="buy", type="market",
                                     quantity=Decimal("0.001"))  # makes BTC/USDT an active symbol
            async with router.subscribe(kinds=["fill"]) as fills:
                while fills.get_nowait() is not None:
                    pass
                start = time.perf_counter()
                venue.faults.drop_streams("private")
                missed = venue.engine.place("demo", "BTCUSDT", "BUY", "MARKET", Decimal("0.001"), None, "GTC",
                                            f"missed{seed}")
                with trio.fail_after(60):
                    while True:
                        event = await fills.get()
                        if isinstance(event, Fill) and event.order_id == str(missed.order_id):
                            break
                    await router.wait_connected("binance")
                return (time.perf_counter() - start) * 1000


def measure_recovery(seed: int) -> float:
    return trio.run(_once, seed)
