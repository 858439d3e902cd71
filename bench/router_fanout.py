"""Router throughput: events per second fanned out in-process to 1 and to 8 subscribers.

A synthetic venue actor pushes ticker events as fast as the router takes them; subscribers drain
concurrently. This isolates the router (no sockets, no parsing).
"""

from __future__ import annotations

import time
from decimal import Decimal

import trio

from actors.handle import open_router_with
from protocol.actor import ActorLink
from protocol.model import Ticker, utc_now


def _synthetic_actor(count: int, done: trio.Event) -> object:
    async def actor(link: ActorLink, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        now = utc_now()
        ticks = [Ticker(venue="synthetic", symbol="BTC/USDT", last=Decimal(60000 + i % 100), timestamp=now)
                 for i in range(1000)]
        await done.wait()
        for i in range(count):
            await link.events(ticks[i % 1000])
        await trio.sleep_forever()

    return actor


async def _measure(subscribers: int, count: int) -> float:
    go = trio.Event()
    async with open_router_with({"synthetic": _synthetic_actor(count, go)}, seed=1) as router:  # type: ignore[dict-item]
        await router.wait_connected("synthetic")
        subs = [router.router.subscribe(kinds=["ticker"], market_capacity=count + 10) for _ in range(subscribers)]
        finished = [0]

        async def drain(sub: object) -> None:
            got = 0
            while got < count:
                await sub.get()  # type: ignore[attr-defined]
                got += 1
            finished[0] += 1

        async with trio.open_nursery() as nursery:
            for sub in subs:
                nursery.start_soon(drain, sub)
            start = time.perf_counter()
            go.set()
        elapsed = time.perf_counter() - start
    return count / elapsed


def measure_fanout(subscribers: int, count: int = 100_000) -> float:
    return trio.run(_measure, subscribers, count)
