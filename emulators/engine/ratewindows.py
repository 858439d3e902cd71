"""Rate-limit windows, counted the way each venue counts, and the headers that report them.

- `FixedWindow`: calendar intervals (Binance's weight per minute and orders per 10 s / day): the count
  resets when an interval boundary passes.
- `RollingWindow`: the last ``seconds`` before now (Bybit's per-endpoint second, its 5 s IP window). A venue
  either counts every request (`hit`) or only those it admits (`admit`).
- `DecayingCounter`: a count that drains at a steady rate (Kraken's REST call counter and per-pair trading
  counter): calls add to it, time takes away, the venue refuses while it is above its ceiling.

Times are trio's clock (`trio.current_time()`), so tests move them with the virtual clock.
"""

from __future__ import annotations

from collections import deque

import attrs

from emulators.engine.errors import Headers


@attrs.define
class FixedWindow:
    """A count that resets at each multiple of ``seconds``."""

    seconds: int
    used: int = 0
    started: float = 0.0

    def count(self, now: float, amount: int = 1) -> int:
        """Add ``amount`` and return the interval's total."""
        if now - self.started >= self.seconds:
            self.started, self.used = now - (now % self.seconds), 0
        self.used += amount
        return self.used

    def resets_in(self, now: float) -> float:
        return self.started + self.seconds - now


@attrs.define
class RollingWindow:
    """The requests of the last ``seconds``."""

    seconds: float
    hits: deque[float] = attrs.field(factory=deque)

    def prune(self, now: float) -> int:
        while self.hits and now - self.hits[0] >= self.seconds:
            self.hits.popleft()
        return len(self.hits)

    def hit(self, now: float) -> int:
        """Count this request whatever happens to it; return the window's count including it."""
        self.prune(now)
        self.hits.append(now)
        return len(self.hits)

    def admit(self, now: float, limit: int) -> bool:
        """Count this request only if the window has room for it."""
        if self.prune(now) >= limit:
            return False
        self.hits.append(now)
        return True

    def resets_in(self, now: float) -> float:
        """Until the oldest request leaves the window (0 when it is empty)."""
        return self.hits[0] + self.seconds - now if self.hits else 0.0


@attrs.define
class DecayingCounter:
    """A count that falls by ``decay`` per second, never below zero."""

    decay: float
    value: float = 0.0
    at: float = 0.0

    def level(self, now: float) -> float:
        """The count at ``now`` (drained since the last change)."""
        return max(0.0, self.value - self.decay * max(0.0, now - self.at))

    def add(self, now: float, amount: float) -> float:
        """Add ``amount`` and return the new count."""
        self.value, self.at = self.level(now) + amount, now
        return self.value

    def seconds_until(self, now: float, level: float) -> float:
        """How long until the count is down to ``level``."""
        excess = self.level(now) - level
        return excess / self.decay if excess > 0 and self.decay > 0 else 0.0


def header_lines(*pairs: tuple[str, object]) -> Headers:
    """Response headers from (name, value) pairs, values printed with `str`."""
    return [(name.encode(), str(value).encode()) for name, value in pairs]


def retry_after(seconds: object | None) -> Headers:
    """A Retry-After header, or none when ``seconds`` is None."""
    return [] if seconds is None else header_lines(("retry-after", seconds))
