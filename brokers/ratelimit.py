"""Venue rate limits as data: windows of request weight and order counts, corrected by headers.

Each venue declares its windows (`WindowRule`: fixed, or a rolling log) next to its endpoints;
`RateLimiter.acquire` waits (on trio's clock) until a request fits every window, `observe` takes
the venue's own count from response headers (a fixed window adopts it, a rolling one only ever
raises its count to it), and `back_off` obeys 429/418. A ban (418) does not sleep:
it refuses at once with `RateLimited(retry_after=…)` for the rest of the ban, because a command
parked for minutes is worse for a strategy than a fast, typed answer it can act on.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from decimal import Decimal

import attrs
import trio

from protocol.errors import RateLimited


@attrs.frozen
class WindowRule:
    name: str  # e.g. "weight-1m"
    seconds: float
    limit: int
    counts_orders: bool = False  # False: counts request weight
    header: str | None = None  # response header that reports the venue's count for this window
    header_counts_remaining: bool = False  # the header says what is left (Bybit), not what is used (Binance)
    # A rolling window (any `seconds` ending now) instead of fixed ones: a client that keeps fixed
    # windows can put a whole window's worth just before a boundary and again just after it, twice
    # the limit within one rolling second. A rolling log is safe against both kinds of venue.
    sliding: bool = False
    # Sliding windows only: keep each send this much longer than `seconds`. The venue counts arrivals;
    # under load a request leaves a few tens of ms after `acquire`, so two sends a full window apart
    # here can land less than a window apart there (the soak at 12 traders per venue saw 10006).
    margin: float = 0.0


@attrs.define
class _Window:
    rule: WindowRule
    used: int = 0
    started: float = -math.inf
    _log: deque[tuple[float, int]] = attrs.field(factory=deque)  # (when, amount), sliding windows only

    def roll(self, now: float) -> None:
        if self.rule.sliding:
            while self._log and now - self._log[0][0] >= self.rule.seconds + self.rule.margin:
                self.used -= self._log.popleft()[1]
        elif now - self.started >= self.rule.seconds:
            self.started = now - (now % self.rule.seconds) if self.rule.seconds else now
            self.used = 0

    def next_room(self, now: float) -> float:
        """When the next unit of this window frees up (call when it is full)."""
        if self.rule.sliding:
            return self._log[0][0] + self.rule.seconds + self.rule.margin if self._log else now
        return self.started + self.rule.seconds

    def take(self, now: float, amount: int) -> None:
        self.used += amount
        if self.rule.sliding:
            self._log.append((now, amount))

    def learn(self, now: float, venue_used: int) -> None:
        """The venue's own count. Fixed windows take it as it is; a rolling log only ever adds to it
        (requests still in flight are in our log and not yet in the venue's count)."""
        if not self.rule.sliding:
            self.used = venue_used
        elif venue_used > self.used:
            self.take(now, venue_used - self.used)


@attrs.define
class RateLimiter:
    venue: str
    rules: list[WindowRule]
    safety: float = 0.9  # keep 10% headroom for other clients of the same key/IP
    _windows: list[_Window] = attrs.field(init=False)
    banned_until: float = 0.0
    paused_until: float = 0.0
    waits: int = 0

    def __attrs_post_init__(self) -> None:
        self._windows = [_Window(rule) for rule in self.rules]

    def _limit_ok(self, window: _Window, amount: int) -> bool:
        return window.used + amount <= int(window.rule.limit * self.safety)

    async def acquire(self, weight: int = 1, orders: int = 0) -> None:
        while True:
            now = trio.current_time()
            if self.banned_until > now:
                raise RateLimited(f"{self.venue} REST is banned for {self.banned_until - now:.0f}s more",
                                  venue=self.venue, retry_after=Decimal(math.ceil(self.banned_until - now)),
                                  banned=True)
            wait = max(self.paused_until - now, 0.0)
            for window in self._windows:
                amount = orders if window.rule.counts_orders else weight
                if amount == 0:
                    continue
                window.roll(now)
                if not self._limit_ok(window, amount):
                    wait = max(wait, window.next_room(now) - now)
            if wait <= 0:
                for window in self._windows:
                    amount = orders if window.rule.counts_orders else weight
                    if amount:
                        window.take(now, amount)
                return
            self.waits += 1
            await trio.sleep(wait)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Trust the venue's own count where it reports one."""
        now = trio.current_time()
        for window in self._windows:
            if window.rule.header is None:
                continue
            value = headers.get(window.rule.header)
            if value is not None and value.isdigit():
                window.roll(now)
                reported = int(value)
                window.learn(now, max(window.rule.limit - reported, 0) if window.rule.header_counts_remaining
                             else reported)

    def back_off(self, retry_after: float | None, *, banned: bool) -> None:
        now = trio.current_time()
        delay = retry_after if retry_after is not None else (120.0 if banned else 1.0)
        if banned:
            self.banned_until = max(self.banned_until, now + delay)
        else:
            self.paused_until = max(self.paused_until, now + delay)

    def usage(self) -> dict[str, int]:
        return {w.rule.name: w.used for w in self._windows}
