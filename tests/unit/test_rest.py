"""brokers.rest on httpx's MockTransport and trio's virtual clock: typed failures, rate-limit
feedback, and retries for idempotent reads only."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx
import msgspec
import pytest
import trio

from brokers.ratelimit import RateLimiter, WindowRule
from brokers.rest import PreparedRequest, Resignable, RestChannel, environment_proxy
from protocol import errors as e

BASE = "http://venue.test"


class Pong(msgspec.Struct):
    ok: bool


def venue_errors(status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
    """A venue error mapper the way each venue writes one (Binance's is tested in tests/unit/binance)."""
    if status in (418, 429):
        retry = headers.get("retry-after")
        return e.RateLimited("limited", retry_after=float(retry) if retry else None, banned=status == 418,
                             venue="test", code=status)
    if status >= 500:
        return e.VenueUnavailable(f"HTTP {status}", venue="test", code=status)
    return e.InvalidOrder(f"HTTP {status}", venue="test", code=status)


Handler = Callable[[httpx.Request], httpx.Response]


def channel(handler: Handler, *, retries: int = 2, mapper: object = venue_errors) -> tuple[RestChannel, RateLimiter]:
    limiter = RateLimiter("test", [WindowRule("weight", 60, 1000, header="x-used")], safety=1.0)
    rest = RestChannel("test", BASE, limiter, mapper, timeout=5, read_retries=retries,  # type: ignore[arg-type]
                       transport=httpx.MockTransport(handler))
    return rest, limiter


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True}, headers={"x-used": "7"})


async def test_answers_decode_into_the_venue_struct(autojump_clock: trio.abc.Clock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(request)

    rest, limiter = channel(handler)
    answer = await rest.send(PreparedRequest("GET", "/api/ping", "a=1&b=x", headers={"X-KEY": "k"}), Pong, weight=3)
    assert answer == Pong(ok=True)
    assert str(seen[0].url) == f"{BASE}/api/ping?a=1&b=x" and seen[0].headers["x-key"] == "k"
    assert limiter.usage() == {"weight": 7}  # the venue's header replaced our local count of 3


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"),
                                     httpx.ConnectError("refused"), httpx.RemoteProtocolError("cut")])
async def test_transport_failures_and_timeouts_are_venue_unavailable(
        autojump_clock: trio.abc.Clock, failure: httpx.HTTPError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    rest, _ = channel(handler)
    with pytest.raises(e.VenueUnavailable) as info:
        await rest.send(PreparedRequest("POST", "/api/order"), Pong)
    assert info.value.retryable and info.value.venue == "test"


@pytest.mark.parametrize("body", [b"<html>gateway</html>", b'{"ok": "yes"}', b'{"other": 1}', b""])
async def test_a_body_that_does_not_parse_is_a_protocol_violation(autojump_clock: trio.abc.Clock,
                                                                  body: bytes) -> None:
    rest, _ = channel(lambda request: httpx.Response(200, content=body))
    with pytest.raises(e.ProtocolViolation):
        await rest.send(PreparedRequest("GET", "/api/ping"), Pong)


async def test_5xx_is_venue_unavailable(autojump_clock: trio.abc.Clock) -> None:
    rest, _ = channel(lambda request: httpx.Response(503, content=b"busy"), retries=0)
    with pytest.raises(e.VenueUnavailable) as info:
        await rest.send(PreparedRequest("POST", "/api/order"), Pong)
    assert info.value.code == "503"


async def test_5xx_is_venue_unavailable_whatever_the_venue_mapper_says(autojump_clock: trio.abc.Clock) -> None:
    def naive(status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
        return e.InvalidOrder("mapper knows nothing about 5xx", venue="test")

    rest, _ = channel(lambda request: httpx.Response(502, content=b"bad gateway"), mapper=naive)
    with pytest.raises(e.VenueUnavailable):
        await rest.send(PreparedRequest("POST", "/api/order"), Pong)


async def test_4xx_goes_through_the_venue_mapper(autojump_clock: trio.abc.Clock) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(400, content=b'{"code":-1013}')

    rest, _ = channel(handler)
    with pytest.raises(e.InvalidOrder):
        await rest.send(PreparedRequest("GET", "/api/order"), Pong)
    assert calls == ["GET"]  # a client error is not retried, even for a read


async def test_get_is_retried_after_5xx_and_transport_errors(autojump_clock: trio.abc.Clock) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        if len(calls) == 2:
            return httpx.Response(503, content=b"busy")
        return ok(request)

    rest, _ = channel(handler)
    assert (await rest.send(PreparedRequest("GET", "/api/account"), Pong)).ok
    assert len(calls) == 3


async def test_get_retries_are_bounded(autojump_clock: trio.abc.Clock) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500, content=b"down")

    rest, _ = channel(handler, retries=2)
    with pytest.raises(e.VenueUnavailable):
        await rest.send(PreparedRequest("GET", "/api/account"), Pong)
    assert len(calls) == 3  # one try + two retries, then the typed error


async def test_429_on_a_read_waits_for_retry_after_then_retries(autojump_clock: trio.abc.Clock) -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(trio.current_time())
        if len(calls) == 1:
            return httpx.Response(429, headers={"retry-after": "4", "x-used": "990"}, content=b"{}")
        return ok(request)

    rest, limiter = channel(handler)
    assert (await rest.send(PreparedRequest("GET", "/api/ticker"), Pong)).ok
    assert len(calls) == 2 and calls[1] - calls[0] >= 4  # Retry-After honoured
    assert limiter.usage() == {"weight": 7}


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT"])
async def test_writes_are_never_retried(autojump_clock: trio.abc.Clock, method: str) -> None:
    for answer in (lambda: httpx.Response(503, content=b"busy"),
                   lambda: httpx.Response(429, headers={"retry-after": "1"}, content=b"{}")):
        calls: list[str] = []

        def handler(request: httpx.Request, answer: Callable[[], httpx.Response] = answer,
                    calls: list[str] = calls) -> httpx.Response:
            calls.append(request.method)
            return answer()

        rest, _ = channel(handler)
        with pytest.raises((e.VenueUnavailable, e.RateLimited)):
            await rest.send(PreparedRequest(method, "/api/order"), Pong, orders=1)
        assert calls == [method]


async def test_a_418_ban_stops_all_traffic_locally(autojump_clock: trio.abc.Clock) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/api/first":
            return httpx.Response(418, headers={"retry-after": "300"}, content=b'{"code":-1003}')
        return ok(request)

    rest, limiter = channel(handler)
    with pytest.raises(e.RateLimited) as banned:
        await rest.send(PreparedRequest("GET", "/api/first"), Pong)
    assert banned.value.banned
    with pytest.raises(e.RateLimited) as refused:
        await rest.send(PreparedRequest("GET", "/api/second"), Pong)
    assert refused.value.banned and refused.value.retry_after is not None and refused.value.retry_after <= 300
    assert calls == ["/api/first"]  # nothing reached the venue during the ban
    assert limiter.banned_until > trio.current_time()
    await trio.sleep(301)
    assert (await rest.send(PreparedRequest("GET", "/api/second"), Pong)).ok


async def test_rate_limit_headers_are_read_even_from_failures(autojump_clock: trio.abc.Clock) -> None:
    rest, limiter = channel(lambda request: httpx.Response(400, headers={"x-used": "321"}, content=b"{}"))
    with pytest.raises(e.InvalidOrder):
        await rest.send(PreparedRequest("POST", "/api/order"), Pong)
    assert limiter.usage() == {"weight": 321}


async def test_a_resignable_request_is_rebuilt_for_every_attempt(autojump_clock: trio.abc.Clock) -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        queries.append(request.url.query.decode())
        return httpx.Response(503, content=b"") if len(queries) == 1 else ok(request)

    built: list[int] = []

    def build() -> PreparedRequest:
        built.append(1)
        return PreparedRequest("GET", "/api/account", f"timestamp={len(built)}")

    rest, _ = channel(handler)
    assert (await rest.send(Resignable("GET", build), Pong)).ok
    assert queries == ["timestamp=1", "timestamp=2"]  # a fresh timestamp (and signature) per attempt


async def test_errors_never_carry_the_signed_query(autojump_clock: trio.abc.Clock) -> None:
    secret_query = "symbol=X&timestamp=1&signature=deadbeefcafe"

    for handler in (lambda request: httpx.Response(200, content=b"garbage"),
                    lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("slow"))):
        rest, _ = channel(handler, retries=0)  # type: ignore[arg-type]
        with pytest.raises(e.BrokerError) as info:
            await rest.send(PreparedRequest("POST", "/api/order", secret_query), Pong)
        assert "deadbeefcafe" not in str(info.value) and "signature" not in str(info.value)


def test_the_environment_proxy_is_used_as_an_httpx_client_would(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert environment_proxy("https://api.binance.com") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert environment_proxy("https://api.binance.com") == "http://proxy.corp:3128"
    assert environment_proxy("http://127.0.0.1:8080") is None  # only https is proxied here
    monkeypatch.setenv("NO_PROXY", "api.binance.com")
    assert environment_proxy("https://api.binance.com") is None


async def test_a_trailing_slash_in_the_base_url_does_not_double(autojump_clock: trio.abc.Clock) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return ok(request)

    rest = RestChannel("test", BASE + "/", RateLimiter("test", []), venue_errors,  # type: ignore[arg-type]
                       transport=httpx.MockTransport(handler))
    await rest.send(PreparedRequest("GET", "/api/ping"), Pong)
    assert seen == [f"{BASE}/api/ping"]
