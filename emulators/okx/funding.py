"""The swaps' index, funding rate and their history: a small deterministic model, stated plainly.

- The mark price is the engine's mid (as everywhere in the engine).
- The index of a swap's family ("BTC-USDT" for BTC-USDT-SWAP) is its mid times ``1 + basis``, where the basis
  is drawn from the seed per instrument and per funding period, uniformly in +-0.15%.
- The funding rate follows OKX's shape: premium = mark / index - 1, rate = clamp(premium + clamp(0.01% -
  premium, -0.05%, +0.05%), -0.375%, +0.375%), quantized to 1e-8.
- Periods are 8 hours. Funding times are wall-clock aligned (00:00, 08:00, 16:00 UTC), starting with the
  first boundary after the emulator started; settlements happen on trio's clock, every ``interval``
  seconds (8 hours unless a test shortens it), each settling the current period at its rate into the open
  positions (`emulators.engine.funding`) and moving to the next.
- Before the start there are ``history_periods`` settled periods (90 days), from the same seed, so
  funding-rate-history pages back in time.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal

import attrs

from emulators.engine import SymbolState, wall_ms

D = Decimal
PERIOD_MS = 28_800_000
INTEREST = D("0.0001")
CLAMP = D("0.0005")
RATE_LIMIT = D("0.00375")
RATE_STEP = D("1e-8")


@attrs.frozen
class Settled:
    """One settled funding period."""

    funding_time: int
    rate: Decimal


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


@attrs.define
class FundingModel:
    seed: int
    interval: float = 28_800.0  # trio seconds between settlements
    history_periods: int = 270
    first_time: int = attrs.field(factory=lambda: (wall_ms() // PERIOD_MS + 1) * PERIOD_MS)
    started_at: float | None = None  # trio time of the first tick seen
    period: int = 0  # the current (next to settle) period: its funding time is first_time + period x 8 h
    settled: dict[str, list[Settled]] = attrs.field(factory=dict)  # per instId, oldest first

    # ------------------------------------------------------------------ the model
    def basis(self, inst_id: str, period: int) -> Decimal:
        rng = random.Random(f"{self.seed}:{inst_id}:basis:{period}")
        return D(str(round(rng.uniform(-0.0015, 0.0015), 6)))

    def index_price(self, state: SymbolState) -> Decimal:
        tick = state.spec.tick_size / 10
        return (state.mid * (1 + self.basis(state.spec.symbol, self.period)) / tick).to_integral_value() * tick

    def premium(self, state: SymbolState) -> Decimal:
        index = self.index_price(state)
        return ((state.mid - index) / index).quantize(RATE_STEP, rounding=ROUND_HALF_EVEN)

    def rate_for(self, premium: Decimal) -> Decimal:
        rate = clamp(premium + clamp(INTEREST - premium, -CLAMP, CLAMP), -RATE_LIMIT, RATE_LIMIT)
        return rate.quantize(RATE_STEP, rounding=ROUND_HALF_EVEN)

    def rate(self, state: SymbolState) -> Decimal:
        return self.rate_for(self.premium(state))

    # ------------------------------------------------------------------ periods
    def funding_time(self) -> int:
        return self.first_time + self.period * PERIOD_MS

    def history(self, inst_id: str) -> list[Settled]:
        """The settled periods of ``inst_id``, oldest first: the seeded past, then what settled here."""
        if inst_id not in self.settled:
            past = []
            for back in range(self.history_periods, 0, -1):
                basis = self.basis(inst_id, -back)
                past.append(Settled(self.first_time - back * PERIOD_MS, self.rate_for(-basis / (1 + basis))))
            self.settled[inst_id] = past
        return self.settled[inst_id]

    def due(self, now: float) -> bool:
        """Whether a period ended at trio time ``now`` (the first call starts the clock)."""
        if self.started_at is None:
            self.started_at = now
        return now - self.started_at >= (self.period + 1) * self.interval

    def record(self, inst_id: str, rate: Decimal) -> None:
        self.history(inst_id).append(Settled(self.funding_time(), rate))
