"""Kraken's rate limits as it counts them: counters that grow per call and decay linearly to zero.

Two counters matter (numbers in `constants`):

* the REST call counter, per API key: each private call adds its cost (1; 2 for ledger / trade
  history; AddOrder and CancelOrder add nothing here), the counter decays by the tier's rate per
  second, and a call that would take it past the tier's maximum is refused with
  ``EAPI:Rate limit exceeded`` (and persisting earns a lockout);
* the trading counter, per pair and shared by REST, websocket and FIX: add +1, amend +1, edit +1,
  plus a penalty for touching an order that has rested only briefly (cancel < 5 s: +8, ... < 300 s:
  +1); past the tier's threshold the engine answers ``EOrder:Rate limit exceeded``.

`DecayingCounter` is the pure model (its value at time ``t``; the caller passes the clock, so tests
and the emulator drive it directly). `CallLimiter` makes the call counter something the REST channel
waits on (a `brokers.ratelimit.RateLimiter` whose windows are this counter), and `TradingLimiter` does
the same for the per-pair trading counters before an order or a cancel is sent. The venue's own
figure, where it reports one, only ever raises ours (requests still in flight are in our count and not
yet in theirs); a rate-limit refusal sets ours to the ceiling, so we wait for it to drain.
"""

from __future__ import annotations

import math
from decimal import Decimal

import attrs
import trio

from brokers.kraken.constants import (
    REST_COUNTER_LIMITS,
    TRADING_AGE_BUCKETS_S,
    TRADING_COUNTER_LIMITS,
    TRADING_PENALTIES,
    VENUE,
    TradingTransaction,
    VerificationTier,
)
from brokers.ratelimit import RateLimiter
from protocol.errors import RateLimited


@attrs.define
class DecayingCounter:
    """A counter that grows by each call's cost and decays at ``decay_per_s`` to a floor of zero."""

    limit: float
    decay_per_s: float
    _value: float = 0.0
    _at: float = 0.0  # when `_value` was last settled (seconds on the caller's clock)

    def value(self, now: float) -> float:
        """The counter at ``now`` (never below zero; a clock that steps back reads as no decay)."""
        return max(0.0, self._value - self.decay_per_s * max(0.0, now - self._at))

    def _settle(self, now: float) -> None:
        self._value, self._at = self.value(now), max(now, self._at)

    def fits(self, now: float, cost: float, *, safety: float = 1.0) -> bool:
        """Whether a call of ``cost`` keeps the counter within ``limit * safety``."""
        return self.value(now) + cost <= self.limit * safety

    def wait_for(self, now: float, cost: float, *, safety: float = 1.0) -> float:
        """Seconds until a call of ``cost`` fits (0 if it fits now)."""
        if cost > self.limit * safety:
            raise ValueError(f"a call of cost {cost} can never fit under {self.limit * safety}")
        excess = self.value(now) + cost - self.limit * safety
        return max(0.0, excess / self.decay_per_s) if excess > 0 else 0.0

    def add(self, now: float, cost: float) -> float:
        """Count one call; returns the new value (which may pass the limit: the venue decides)."""
        self._settle(now)
        self._value += cost
        return self._value

    def observe(self, now: float, venue_value: float) -> None:
        """The venue's own count: adopt it only if it is above ours."""
        self._settle(now)
        self._value = max(self._value, venue_value)


def rest_counter(tier: VerificationTier) -> DecayingCounter:
    limit, decay = REST_COUNTER_LIMITS[tier]
    return DecayingCounter(float(limit), float(decay))


def trading_counter(tier: VerificationTier) -> DecayingCounter:
    limit, decay = TRADING_COUNTER_LIMITS[tier]
    return DecayingCounter(float(limit), float(decay))


def trading_cost(transaction: TradingTransaction, order_age_s: float | None = None) -> int:
    """What one transaction adds to the pair's trading counter.

    ``order_age_s`` is the time since the order was placed or last amended (ignored for add).
    """
    fixed, penalties = TRADING_PENALTIES[transaction]
    if transaction is TradingTransaction.ADD_ORDER:
        return fixed
    if order_age_s is None or order_age_s < 0:
        raise ValueError(f"{transaction.value} needs the order's age in seconds")
    for bound, penalty in zip(TRADING_AGE_BUCKETS_S, penalties, strict=True):
        if order_age_s < bound:
            return fixed + penalty
    return fixed


@attrs.define
class PairCounters:
    """The trading counters of one account, one per pair (created on first use)."""

    tier: VerificationTier
    _counters: dict[str, DecayingCounter] = attrs.field(factory=dict)

    def counter(self, pair: str) -> DecayingCounter:
        if pair not in self._counters:
            self._counters[pair] = trading_counter(self.tier)
        return self._counters[pair]

    def record(self, pair: str, now: float, transaction: TradingTransaction,
               order_age_s: float | None = None) -> float:
        return self.counter(pair).add(now, trading_cost(transaction, order_age_s))

    def fits(self, pair: str, now: float, transaction: TradingTransaction, order_age_s: float | None = None,
             *, safety: float = 1.0) -> bool:
        return self.counter(pair).fits(now, trading_cost(transaction, order_age_s), safety=safety)


SAFETY = 0.9
"""Keep 10% of each counter for other clients of the key (the same headroom as the chassis' windows)."""
EPSILON = 1e-9
MIN_WAIT_S = 0.01
"""Waits are at least this long: a float remainder of a few ulps must not become a sleep that does not move
the clock (a loop that never ends under a virtual clock)."""


@attrs.define
class CallLimiter(RateLimiter):
    """The REST call counter as a limiter: ``acquire(weight=cost)`` waits until the call fits under the
    tier's ceiling (with `SAFETY`), then counts it; a rate-limit answer fills the counter to the ceiling."""

    counter: DecayingCounter = attrs.field(kw_only=True)
    refusals: int = 0  # rate-limit answers Kraken gave all the same (our count was behind theirs)

    @classmethod
    def for_tier(cls, tier: VerificationTier) -> CallLimiter:
        return cls(VENUE, [], safety=SAFETY, counter=rest_counter(tier))

    async def acquire(self, weight: int = 1, orders: int = 0) -> None:
        if weight <= 0:
            return  # AddOrder / CancelOrder count on the trading counter, public calls on nothing
        while True:
            now = trio.current_time()
            if self.banned_until > now:
                raise RateLimited(f"Kraken REST is locked out for {self.banned_until - now:.0f}s more", venue=VENUE,
                                  retry_after=Decimal(math.ceil(self.banned_until - now)), banned=True)
            wait = max(self.paused_until - now, self.counter.wait_for(now, weight, safety=self.safety))
            if wait <= EPSILON:
                self.counter.add(now, weight)
                return
            self.waits += 1
            await trio.sleep(max(wait, MIN_WAIT_S))

    def back_off(self, retry_after: float | None, *, banned: bool) -> None:
        self.refusals += 1
        super().back_off(retry_after, banned=banned)
        self.counter.observe(trio.current_time(), self.counter.limit)

    def usage(self) -> dict[str, int]:
        return {"calls": math.ceil(self.counter.value(trio.current_time()))}


@attrs.define
class TradingLimiter:
    """The per-pair trading counters of one key: wait until a transaction fits, then count it."""

    counters: PairCounters
    safety: float = SAFETY
    waits: int = 0

    @classmethod
    def for_tier(cls, tier: VerificationTier) -> TradingLimiter:
        return cls(PairCounters(tier))

    async def acquire(self, pair: str, transaction: TradingTransaction, order_age_s: float | None = None) -> None:
        cost = trading_cost(transaction, order_age_s)
        counter = self.counters.counter(pair)
        while True:
            now = trio.current_time()
            wait = counter.wait_for(now, cost, safety=self.safety)
            if wait <= EPSILON:
                counter.add(now, cost)
                return
            self.waits += 1
            await trio.sleep(max(wait, MIN_WAIT_S))

    def refused(self, pair: str) -> None:
        """Kraken answered ``EOrder:Rate limit exceeded``: its count is at the ceiling, whatever ours said."""
        counter = self.counters.counter(pair)
        counter.observe(trio.current_time(), counter.limit)
