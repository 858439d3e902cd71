"""The shared REST channel and rate limiter, on the virtual clock with httpx's MockTransport."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import msgspec
import pytest
import trio

from brokers.ratelimit import RateLimiter, WindowRule
from brokers.rest import PreparedRequest, RestChannel
from protocol import errors as e


class Pong(msgspec.Struct):
    ok: bool


def error_mapper(status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
    if status in (418, 429):
        return e.RateLimited("limited", retry_after=float(headers.get("retry-after", "1")), banned=status == 418,
                             venue="test")
    return e.InvalidOrder(f"HTTP {status}", venue="test")


def channel(handler: object, rules: list[WindowRule] | None = None) -> tuple[RestChannel, RateLimiter]:
    limiter = RateLimiter("test", rules or [WindowRule("weight", 60, 1000, header="x-used")], safety=1.0)
    rest = RestChannel("test", "http://venue.test", limiter, error_mapper, timeout=5)
    rest._transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    return rest, limiter


async def test_limiter_waits_for_the_next_window(autojump_clock: trio.abc.Clock) -> None:
    limiter = RateLimiter("test", [WindowRule("orders", 10, 3, counts_orders=True)], safety=1.0)
    start = trio.current_time()
    for _ in range(3):
        await limiter.acquire(orders=1)
    assert trio.current_time() == start
    await limiter.acquire(orders=1)
    assert trio.current_time() - start >= 10 - (start % 10) - 1e-9
    assert limiter.waits == 1


async def test_headers_correct_the_local_estimate(autojump_clock: trio.abc.Clock) -> None:
    limiter = RateLimiter("test", [WindowRule("weight", 60, 100, header="x-used")], safety=1.0)
    await limiter.acquire(weight=1)
    limiter.observe({"x-used": "99"})
    assert limiter.usage() == {"weight": 99}
    before = trio.current_time()
    await limiter.acquire(weight=5)  # does not fit: waits for the window to roll
    assert trio.current_time() > before


async def test_a_ban_refuses_at_once_until_it_expires(autojump_clock: trio.abc.Clock) -> None:
    limiter = RateLimiter("test", [WindowRule("weight", 60, 100)])
    limiter.back_off(90, banned=True)
    with pytest.raises(e.RateLimited) as info:
        await limiter.acquire()
    assert info.value.banned and info.value.retry_after == 90
    await trio.sleep(91)
    await limiter.acquire()


async def test_get_is_retried_after_a_5xx_or_429_and_post_is_not(autojump_clock: trio.abc.Clock) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            return httpx.Response(429, headers={"retry-after": "2"}, content=b"{}")
        return httpx.Response(200, json={"ok": True}, headers={"x-used": "7"})

    rest, limiter = channel(handler)
    assert (await rest.send(PreparedRequest("GET", "/ping"), Pong)).ok
    assert calls == ["GET", "GET"] and limiter.usage() == {"weight": 7}
    calls.clear()

    def fail(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(502, content=b"bad gateway")

    rest, _ = channel(fail)
    with pytest.raises(e.VenueUnavailable):  # a 5xx is an unknown outcome, whatever the venue table says
        await rest.send(PreparedRequest("POST", "/order"), Pong)
    assert calls == ["POST"]


async def test_transport_failures_and_bad_bodies_are_typed(autojump_clock: trio.abc.Clock) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    rest, _ = channel(timeout)
    with pytest.raises(e.VenueUnavailable, match="timed out"):
        await rest.send(PreparedRequest("POST", "/order"), Pong)

    def garbage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>")

    rest, _ = channel(garbage)
    with pytest.raises(e.ProtocolViolation):
        await rest.send(PreparedRequest("POST", "/order"), Pong)
