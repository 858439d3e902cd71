"""The REST channel on httpx: one client per venue actor, typed errors out, rate-limit feedback in.

A venue supplies how to sign a request and how to turn an error answer into a typed error; this
module does the rest the same way for everyone: timeouts, transport failures and 5xx become
`VenueUnavailable` ("outcome unknown"; `NotExecuted` when no connection could be opened, so the request never
left), 429/418 feed the limiter and raise `RateLimited`, bodies are decoded with msgspec into the venue's
Structs (a body that does not parse is a `ProtocolViolation`), and only idempotent reads are retried. Writes
are never retried here: placement is made safe one level up, by client order id (brokers/placement.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import attrs
import httpx
import msgspec
import trio

from brokers.ratelimit import RateLimiter
from protocol.errors import BrokerError, NotExecuted, ProtocolViolation, RateLimited, VenueUnavailable

log = logging.getLogger(__name__)

_HEADERS = {"User-Agent": "algotrendy-connect/0.1", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}

T = TypeVar("T")

ErrorMapper = Callable[[int, bytes, Mapping[str, str]], BrokerError]
"""(HTTP status, body, headers) of a failed answer -> the typed error to raise."""

AnswerDecoder = Callable[[bytes, Any, Mapping[str, str]], Any]
"""(body, wanted type, headers) of a 2xx answer -> the decoded value, or raise the typed error.

For venues that report failures inside successful HTTP answers (Bybit's ``retCode``); the default
decodes the body as the wanted type directly."""


RestObserver = Callable[["RestChannel", str, str, float], None]
"""(channel, HTTP method, outcome: "ok" or the error's type name, seconds) after every attempt."""

OBSERVERS: list[RestObserver] = []
"""Process-wide hooks (the daemon's metrics); a channel calls each after every request."""


@attrs.frozen
class PreparedRequest:
    method: str
    path: str
    query: str = ""  # already encoded (signing covers the exact bytes)
    body: bytes | None = None
    headers: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Resignable:
    """A request rebuilt (and re-signed, with a fresh timestamp) for every attempt."""

    method: str
    build: Callable[[], PreparedRequest]

    def __call__(self) -> PreparedRequest:
        return self.build()


def _without_trailing_slash(url: str) -> str:
    return url.rstrip("/")  # request paths bring their own "/"


@attrs.define
class RestChannel:
    venue: str
    base_url: str = attrs.field(converter=_without_trailing_slash)
    limiter: RateLimiter
    map_error: ErrorMapper
    timeout: float = 10.0
    read_retries: int = 2
    decode_answer: AnswerDecoder | None = None
    # httpx's transport (its connection pool) is used directly: the client layer above it (URL
    # merging, cookies, auth and redirect hooks) is work a signed venue API never needs, and it was
    # about a fifth of the CPU of an order round trip. Tests put an `httpx.MockTransport` here.
    _transport: httpx.AsyncBaseTransport | None = None
    _extensions: dict[str, Any] = attrs.field(factory=dict)

    async def open(self) -> None:
        if self._transport is None:
            self._transport = httpx.AsyncHTTPTransport(proxy=environment_proxy(self.base_url))
        self._extensions = {"timeout": httpx.Timeout(self.timeout).as_dict()}

    async def aclose(self) -> None:
        if self._transport is not None:
            transport, self._transport = self._transport, None
            await transport.aclose()

    async def send(self, request: PreparedRequest | Resignable, decode: type[T], *,
                   weight: int = 1, orders: int = 0, limiters: Sequence[RateLimiter] = ()) -> T:
        """Send and decode; GETs are retried (bounded) on transport errors, 5xx and 429.

        ``limiters``: windows of this endpoint on top of the channel's own (Bybit limits each
        endpoint separately); they are waited on, corrected by headers and backed off like it.
        """
        attempts = 1 + (self.read_retries if request.method == "GET" else 0)
        every = (self.limiter, *limiters)
        for attempt in range(attempts):
            try:
                for limiter in every:
                    await limiter.acquire(weight=weight, orders=orders)
                prepared = request() if isinstance(request, Resignable) else request
                started = time.perf_counter()
                try:
                    answer = await self._send_once(prepared, decode, every)
                except BrokerError as failed:
                    for observe in OBSERVERS:
                        observe(self, prepared.method, type(failed).__name__, time.perf_counter() - started)
                    raise
                for observe in OBSERVERS:
                    observe(self, prepared.method, "ok", time.perf_counter() - started)
                return answer
            except (VenueUnavailable, RateLimited) as error:
                banned = isinstance(error, RateLimited) and error.banned
                if attempt + 1 >= attempts or banned:
                    raise
                delay = float(error.retry_after) if isinstance(error, RateLimited) and error.retry_after else \
                    0.5 * 2**attempt
                log.info("%s GET retry %d after %s in %.1fs", self.venue, attempt + 1, type(error).__name__, delay)
                await trio.sleep(delay)
        raise AssertionError("unreachable")

    async def _send_once(self, prepared: PreparedRequest, decode: type[T],
                         limiters: Sequence[RateLimiter]) -> T:
        if self._transport is None or not self._extensions:
            await self.open()
        assert self._transport is not None
        url = self.base_url + prepared.path + (f"?{prepared.query}" if prepared.query else "")
        request = httpx.Request(prepared.method, url, content=prepared.body, headers=_HEADERS | prepared.headers,
                                extensions=self._extensions)
        try:
            response = await self._transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            # No connection could be had: the request never left, so nothing happened at the venue.
            raise NotExecuted(f"{prepared.method} {prepared.path} not sent: {type(error).__name__}",
                              venue=self.venue) from error
        except httpx.TimeoutException as error:
            raise VenueUnavailable(f"{prepared.method} {prepared.path} timed out after {self.timeout}s",
                                   venue=self.venue) from error
        except httpx.TransportError as error:
            raise VenueUnavailable(f"{prepared.method} {prepared.path} failed: {type(error).__name__}",
                                   venue=self.venue) from error
        for limiter in limiters:
            limiter.observe(response.headers)
        status = response.status_code
        if status >= 400:
            failure = self.map_error(status, response.content, response.headers)
            if status >= 500 and not isinstance(failure, VenueUnavailable):
                # Whatever the venue table says, a 5xx means the outcome is unknown.
                failure = VenueUnavailable(f"{prepared.method} {prepared.path}: HTTP {status}, outcome unknown",
                                           venue=self.venue, code=failure.code or status,
                                           venue_message=failure.venue_message)
            raise _backed_off(failure, limiters)
        try:
            if self.decode_answer is not None:
                return self.decode_answer(response.content, decode, response.headers)  # type: ignore[no-any-return]
            return msgspec.json.decode(response.content, type=decode)
        except RateLimited as failure:
            raise _backed_off(failure, limiters) from None
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            raise ProtocolViolation(f"unexpected answer to {prepared.method} {prepared.path}: {error}",
                                    venue=self.venue) from error


def _backed_off(failure: BrokerError, limiters: Sequence[RateLimiter]) -> BrokerError:
    """Make every limiter involved obey a rate-limit answer, then hand the error back to raise."""
    if isinstance(failure, RateLimited):
        for limiter in limiters:
            limiter.back_off(float(failure.retry_after) if failure.retry_after is not None else None,
                             banned=failure.banned)
    return failure


def environment_proxy(base_url: str) -> str | None:
    """The proxy the environment names for ``base_url`` (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, minus
    NO_PROXY), as an httpx client would take it: the transport alone does not read the environment."""
    parts = urlsplit(base_url)
    if not parts.hostname or proxy_bypass(parts.hostname):
        return None
    proxies = getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")


def header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def decode_json(data: bytes) -> Any:
    return msgspec.json.decode(data)
