"""Exponential backoff with full jitter: the one retry policy of the supervisor and of public sockets.

A pure function of (attempt, random draw), so property tests can check its bounds and everything
that sleeps by it runs on trio's virtual clock. It lives in `protocol` (no I/O) because both sides
use it: `actors.supervisor` restarts broker actors by it, and `brokers.stream` re-opens public
sockets by it, and neither may import the other.
"""

from __future__ import annotations

import random

import attrs


@attrs.frozen
class BackoffPolicy:
    """Exponential backoff with full jitter: delay ~ U(0, min(cap, base * 2**(attempt-1)))."""

    base: float = 0.5
    cap: float = 30.0
    healthy_after: float = 30.0  # a connection up this long resets the attempt count

    def __attrs_post_init__(self) -> None:
        if not (0 < self.base <= self.cap):
            raise ValueError(f"backoff needs 0 < base <= cap, got base={self.base} cap={self.cap}")

    def ceiling(self, attempt: int) -> float:
        # Cap the exponent too: 2**attempt overflows a float long before a venue comes back.
        return min(self.cap, self.base * 2.0 ** min(max(attempt - 1, 0), 62))

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, self.ceiling(attempt))
