"""brokers.ratelimit on trio's virtual clock: windows, header feedback, 429 pause, 418 ban."""

from __future__ import annotations

import httpx
import pytest
import trio

from brokers.ratelimit import RateLimiter, WindowRule
from protocol import errors as e

WEIGHT = WindowRule("weight-1m", 60, 100, header="x-mbx-used-weight-1m")
ORDERS = WindowRule("orders-10s", 10, 3, counts_orders=True, header="x-mbx-order-count-10s")


def limiter(*rules: WindowRule) -> RateLimiter:
    return RateLimiter("test", list(rules or (WEIGHT, ORDERS)), safety=1.0)


async def test_requests_within_budget_do_not_wait(autojump_clock: trio.abc.Clock) -> None:
    rl = limiter()
    start = trio.current_time()
    for _ in range(10):
        await rl.acquire(weight=10)
    assert trio.current_time() == start and rl.waits == 0
    assert rl.usage()["weight-1m"] == 100


async def test_a_full_order_window_waits_for_the_next_one(autojump_clock: trio.abc.Clock) -> None:
    rl = limiter()
    for _ in range(3):
        await rl.acquire(weight=1, orders=1)
    before = trio.current_time()
    await rl.acquire(weight=1, orders=1)
    assert trio.current_time() > before  # slept until the 10 s window rolled over
    assert rl.waits == 1 and rl.usage()["orders-10s"] == 1


async def test_reads_do_not_spend_the_order_budget(autojump_clock: trio.abc.Clock) -> None:
    rl = limiter()
    for _ in range(3):
        await rl.acquire(weight=1, orders=1)
    before = trio.current_time()
    await rl.acquire(weight=5)  # a read: only the weight window applies
    assert trio.current_time() == before
    assert rl.usage() == {"weight-1m": 8, "orders-10s": 3}


async def test_venue_headers_replace_the_local_estimate(autojump_clock: trio.abc.Clock) -> None:
    rl = limiter()
    await rl.acquire(weight=1)
    # Another process on the same IP spent most of the budget: the venue's count is the truth.
    rl.observe(httpx.Headers({"X-MBX-USED-WEIGHT-1M": "98", "X-MBX-ORDER-COUNT-10S": "2"}))
    assert rl.usage() == {"weight-1m": 98, "orders-10s": 2}
    before = trio.current_time()
    await rl.acquire(weight=5)  # 98 + 5 > 100: must wait for the window to roll
    assert trio.current_time() > before
    rl.observe(httpx.Headers({"x-mbx-used-weight-1m": "not-a-number"}))  # ignored, not a crash
    assert rl.usage()["weight-1m"] == 5


async def test_headers_can_lower_the_estimate_too(autojump_clock: trio.abc.Clock) -> None:
    rl = limiter()
    for _ in range(3):
        await rl.acquire(orders=1)
    # Binance decrements order counts when orders fill: the header says we have room again.
    rl.observe(httpx.Headers({"X-MBX-ORDER-COUNT-10S": "1"}))
    before = trio.current_time()
    await rl.acquire(orders=1)
    assert trio.current_time() == before


async def test_429_pauses_every_request_then_proceeds(autojump_clock: trio.abc.Clock) -> None:
    rl = limiter()
    rl.back_off(7, banned=False)
    before = trio.current_time()
    await rl.acquire(weight=1)
    assert trio.current_time() - before >= 7
    after = trio.current_time()
    await rl.acquire(weight=1)  # the pause is over
    assert trio.current_time() == after


async def test_418_ban_refuses_at_once_with_the_remaining_time(autojump_clock: trio.abc.Clock) -> None:
    rl = limiter()
    rl.back_off(120, banned=True)
    before = trio.current_time()
    with pytest.raises(e.RateLimited) as info:
        await rl.acquire(weight=1)
    assert trio.current_time() == before  # no sleeping through a ban
    assert info.value.banned and info.value.retryable and info.value.retry_after == 120
    assert info.value.venue == "test"
    assert rl.banned_until == pytest.approx(before + 120)
    await trio.sleep(60)
    with pytest.raises(e.RateLimited) as later:
        await rl.acquire(orders=1)
    assert later.value.retry_after == 60
    await trio.sleep(61)
    await rl.acquire(weight=1, orders=1)  # the ban expired: traffic flows again


async def test_a_ban_without_retry_after_still_blocks(autojump_clock: trio.abc.Clock) -> None:
    rl = limiter()
    rl.back_off(None, banned=True)
    with pytest.raises(e.RateLimited):
        await rl.acquire()
    assert rl.banned_until > trio.current_time()


async def test_concurrent_callers_share_one_budget(autojump_clock: trio.abc.Clock) -> None:
    rl = limiter(WindowRule("orders-10s", 10, 3, counts_orders=True))
    done: list[float] = []

    async def place() -> None:
        await rl.acquire(orders=1)
        done.append(trio.current_time())

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        for _ in range(7):
            nursery.start_soon(place)
    assert len(done) == 7
    # Never more than 3 in any one 10-second window.
    windows: dict[int, int] = {}
    for t in done:
        windows[int((t - start) // 10)] = windows.get(int((t - start) // 10), 0) + 1
    assert max(windows.values()) <= 3


async def test_safety_margin_keeps_headroom(autojump_clock: trio.abc.Clock) -> None:
    rl = RateLimiter("test", [WindowRule("weight", 60, 100)], safety=0.9)
    await rl.acquire(weight=90)
    before = trio.current_time()
    await rl.acquire(weight=1)  # 91 > 90% of 100
    assert trio.current_time() > before
