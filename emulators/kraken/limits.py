"""Kraken's rate limits as data, counted as Kraken counts them (trio's clock, so tests move time).

- The REST call counter, per API key: +1 per call, +2 for trade history, 0 for AddOrder and CancelOrder (they
  count on the trading counter); it drains at the tier's rate and a call that would take it past the tier's
  maximum is refused with ``EAPI:Rate limit exceeded`` -- and still counted, so a client that keeps calling stays
  limited longer, as Kraken warns.
- The trading counter, per key and pair (REST and websocket alike): +1 for an order (even one refused later),
  +1 for an amend plus 3/2/1 if the order is younger than 5/10/15 s, and for a cancel 8/6/5/4/2/1 by the
  order's age (< 5/10/15/45/90/300 s since placed or amended). An order or amend that would pass the tier's
  threshold is refused with ``EOrder:Rate limit exceeded``; cancels are never refused, they only count.
- Open orders per pair: 60 / 80 / 225 by tier, past which ``EOrder:Orders limit exceeded``.
"""

from __future__ import annotations

import time
from typing import Literal

import attrs
import trio

TierName = Literal["starter", "intermediate", "pro"]


def clock() -> float:
    """Trio's clock inside the emulator (so tests move time); a monotonic one outside trio."""
    try:
        return trio.current_time()
    except RuntimeError:
        return time.monotonic()


@attrs.frozen
class Tier:
    call_max: int
    call_decay: float  # per second
    trading_max: int
    trading_decay: float  # per second
    open_orders: int


TIERS: dict[str, Tier] = {
    "starter": Tier(15, 0.33, 60, 1.0, 60),
    "intermediate": Tier(20, 0.5, 125, 2.34, 80),
    "pro": Tier(20, 1.0, 180, 3.75, 225),
}

# What a REST call adds to the call counter (every other private call: 1).
CALL_COSTS = {"/0/private/TradesHistory": 2, "/0/private/AddOrder": 0, "/0/private/CancelOrder": 0}

ADD_ORDER = 1
AMEND_ORDER = 1
_AMEND_BY_AGE = ((5, 3), (10, 2), (15, 1))
_CANCEL_BY_AGE = ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1))


def _by_age(table: tuple[tuple[int, int], ...], age: float) -> int:
    return next((penalty for bound, penalty in table if age < bound), 0)


def cancel_penalty(age: float) -> int:
    """What cancelling an order ``age`` seconds after it was placed (or last amended) adds."""
    return _by_age(_CANCEL_BY_AGE, age)


def amend_penalty(age: float) -> int:
    """What amending an order ``age`` seconds old adds on top of the fixed +1."""
    return _by_age(_AMEND_BY_AGE, age)
