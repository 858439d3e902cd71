"""Earn (staking): strategies, asynchronous allocations and deallocations, bonding and unbonding, rewards.

Model (deliberately simple, stated so nobody mistakes it for a real staking product):
- a `Strategy` takes one asset and keeps what is allocated in a holding asset of its own (Kraken keeps XXBT
  allocated as "XBT.B"), so balances show it apart from the spot funds;
- allocating and deallocating are asynchronous: a request is pending for `EarnBook.settle_seconds` of the clock
  (trio's, so tests move it), then completes or fails. One operation per (account, strategy) at a time; the
  last one of each kind is kept for its status. Funds are checked when the operation completes (venues report
  "insufficient funds" through the status, not the request);
- "instant" strategies earn at once and pay back at once; "bonded" ones bond for `bonding_seconds` and unbond
  for `unbonding_seconds` (earning nothing meanwhile) before the funds are earning, or back in the wallet;
- rewards accrue on the earning amount at the strategy's `apr` (percent a year of 365 days), continuously on the
  clock, and are paid into the holding every `payout_seconds` (auto-compounding). Deterministic: the clock
  alone decides them. There are no fees, no caps on the strategy as a whole, no slashing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from functools import partial
from typing import Literal

import attrs
import trio

from emulators.engine.ledger import Ledger
from emulators.engine.model import Rejected

YEAR_SECONDS = Decimal(365 * 86_400)
PLACES = Decimal("1e-10")  # rewards are paid to 10 places

LockType = Literal["instant", "bonded"]
OperationKind = Literal["allocate", "deallocate"]


class EarnReason(StrEnum):
    """Why an Earn request is refused (the dialect words each one)."""

    UNKNOWN_STRATEGY = "unknown_strategy"
    BELOW_MINIMUM = "below_minimum"
    IN_PROGRESS = "in_progress"  # another (de)allocation for the strategy is pending
    INSUFFICIENT_FUNDS = "insufficient_funds"
    ABOVE_USER_CAP = "above_user_cap"


class EarnRejected(Exception):
    def __init__(self, reason: EarnReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


@attrs.frozen
class Strategy:
    id: str
    asset: str  # what is allocated (an engine asset)
    holding: str  # the asset the allocation is kept in while allocated
    lock_type: LockType
    apr: Decimal  # percent a year that accrues
    apr_low: Decimal  # the estimate venues show
    apr_high: Decimal
    min_allocation: Decimal  # per (de)allocation, in the asset
    payout_seconds: int = 604_800
    bonding_seconds: int = 0
    unbonding_seconds: int = 0
    user_cap: Decimal | None = None  # the most one account may have allocated; None: no cap


@attrs.define
class Operation:
    """One (de)allocation request: pending until ``due``, then done, or failed with ``failure``."""

    kind: OperationKind
    amount: Decimal
    requested: float
    due: float
    done: bool = False
    failure: EarnReason | None = None


@attrs.define
class Tranche:
    """Funds bonding or unbonding: they move on at ``expires``."""

    amount: Decimal
    created: float
    expires: float


@attrs.define
class Allocation:
    """One account's funds in one strategy."""

    account: str
    strategy: Strategy
    period_start: float  # the current payout period
    earning: Decimal = Decimal(0)
    bonding: list[Tranche] = attrs.field(factory=list)
    unbonding: list[Tranche] = attrs.field(factory=list)
    last: dict[str, Operation] = attrs.field(factory=dict)  # by kind: the last request of each kind
    accrued: Decimal = Decimal(0)  # rewards of the current payout period, not yet paid
    total_rewarded: Decimal = Decimal(0)
    accrued_to: float = 0.0

    @property
    def pending(self) -> Operation | None:
        return next((op for op in self.last.values() if not op.done), None)

    @property
    def pending_amount(self) -> Decimal:
        """What a pending operation will add (allocation) or take (deallocation, negative)."""
        op = self.pending
        if op is None:
            return Decimal(0)
        return op.amount if op.kind == "allocate" else -op.amount

    @property
    def total(self) -> Decimal:
        """Everything in the holding: earning, bonding and unbonding."""
        return self.earning + sum((t.amount for t in self.bonding), Decimal(0)) + \
            sum((t.amount for t in self.unbonding), Decimal(0))


@attrs.define(eq=False)
class EarnBook:
    """Every account's allocations; `advance` brings them up to the clock (the dialect calls it as time passes)."""

    ledger: Ledger
    strategies: dict[str, Strategy]
    clock: Callable[[], float] = trio.current_time
    settle_seconds: float = 5.0
    allocations: dict[tuple[str, str], Allocation] = attrs.field(factory=dict)

    # ------------------------------------------------------------------ lookups
    def strategy(self, strategy_id: str) -> Strategy:
        try:
            return self.strategies[strategy_id]
        except KeyError:
            raise EarnRejected(EarnReason.UNKNOWN_STRATEGY, strategy_id) from None

    def allocations_of(self, account: str) -> list[Allocation]:
        return [a for (owner, _), a in self.allocations.items() if owner == account]

    def status(self, account: str, strategy_id: str, kind: OperationKind) -> Operation | None:
        """The last ``kind`` request for the strategy, brought up to the clock (None: there was none)."""
        self.strategy(strategy_id)
        self.advance()
        allocation = self.allocations.get((account, strategy_id))
        return None if allocation is None else allocation.last.get(kind)

    # ------------------------------------------------------------------ requests
    def allocate(self, account: str, strategy_id: str, amount: Decimal) -> Operation:
        allocation = self._request(account, strategy_id, amount)
        cap = allocation.strategy.user_cap
        if cap is not None and allocation.total + amount > cap:
            raise EarnRejected(EarnReason.ABOVE_USER_CAP, str(cap))
        return self._start(allocation, "allocate", amount)

    def deallocate(self, account: str, strategy_id: str, amount: Decimal) -> Operation:
        return self._start(self._request(account, strategy_id, amount), "deallocate", amount)

    def _request(self, account: str, strategy_id: str, amount: Decimal) -> Allocation:
        self.advance()
        strategy = self.strategy(strategy_id)
        if amount <= 0 or amount < strategy.min_allocation:
            raise EarnRejected(EarnReason.BELOW_MINIMUM, str(strategy.min_allocation))
        key = (account, strategy_id)
        allocation = self.allocations.get(key)
        if allocation is None:
            now = self.clock()
            allocation = self.allocations[key] = Allocation(account, strategy, period_start=now, accrued_to=now)
        if allocation.pending is not None:
            raise EarnRejected(EarnReason.IN_PROGRESS)
        return allocation

    def _start(self, allocation: Allocation, kind: OperationKind, amount: Decimal) -> Operation:
        now = self.clock()
        operation = Operation(kind, amount, now, now + self.settle_seconds)
        allocation.last[kind] = operation
        return operation

    # ------------------------------------------------------------------ time passing
    def advance(self) -> None:
        """Complete what is due, move bonding and unbonding funds on, accrue and pay rewards, up to the clock."""
        now = self.clock()
        for allocation in list(self.allocations.values()):
            while (event := self._next_event(allocation, now)) is not None:
                at, apply = event
                self._accrue(allocation, at)
                apply()
            self._accrue(allocation, now)

    def _next_event(self, allocation: Allocation, now: float) -> tuple[float, Callable[[], None]] | None:
        """The earliest thing due by ``now``: a pending request, a tranche moving on, a payout."""
        due: list[tuple[float, int, Callable[[], None]]] = []
        operation = allocation.pending
        if operation is not None and operation.due <= now:
            due.append((operation.due, 0, partial(self._complete, allocation, operation)))
        due += [(t.expires, 1, partial(self._bonded, allocation, t)) for t in allocation.bonding if t.expires <= now]
        due += [(t.expires, 2, partial(self._unbonded, allocation, t)) for t in allocation.unbonding
                if t.expires <= now]
        period = allocation.strategy.payout_seconds
        if allocation.period_start + period <= now:
            if not allocation.earning and not allocation.accrued:  # nothing to pay: skip the empty periods
                horizon = min((at for at, _, _ in due), default=now)
                allocation.period_start += max(0.0, (horizon - allocation.period_start) // period) * period
            if allocation.period_start + period <= now:
                at = allocation.period_start + period
                due.append((at, 3, partial(self._payout, allocation, at)))
        if not due:
            return None
        at, _, apply = min(due, key=lambda item: (item[0], item[1]))
        return at, apply

    @staticmethod
    def _accrue(allocation: Allocation, until: float) -> None:
        if until <= allocation.accrued_to:
            return
        if allocation.earning:
            seconds = Decimal(repr(until - allocation.accrued_to))
            allocation.accrued += allocation.earning * allocation.strategy.apr / 100 * seconds / YEAR_SECONDS
        allocation.accrued_to = until

    def _payout(self, allocation: Allocation, at: float) -> None:
        paid = allocation.accrued.quantize(PLACES, rounding=ROUND_DOWN)
        if paid > 0:
            self.ledger.credit(allocation.account, allocation.strategy.holding, paid)
            allocation.earning += paid
            allocation.total_rewarded += paid
            allocation.accrued -= paid
        allocation.period_start = at

    def _complete(self, allocation: Allocation, operation: Operation) -> None:
        operation.done = True
        strategy, account = allocation.strategy, allocation.account
        if operation.kind == "allocate":
            try:
                self.ledger.move_free(account, strategy.asset, strategy.holding, operation.amount)
            except Rejected:
                operation.failure = EarnReason.INSUFFICIENT_FUNDS
                return
            if strategy.lock_type == "bonded" and strategy.bonding_seconds:
                allocation.bonding.append(Tranche(operation.amount, operation.due,
                                                  operation.due + strategy.bonding_seconds))
            else:
                allocation.earning += operation.amount
            return
        if operation.amount > allocation.earning:
            operation.failure = EarnReason.INSUFFICIENT_FUNDS
            return
        allocation.earning -= operation.amount
        if strategy.lock_type == "bonded" and strategy.unbonding_seconds:
            allocation.unbonding.append(Tranche(operation.amount, operation.due,
                                                operation.due + strategy.unbonding_seconds))
        else:
            self.ledger.move_free(account, strategy.holding, strategy.asset, operation.amount)

    @staticmethod
    def _bonded(allocation: Allocation, tranche: Tranche) -> None:
        allocation.bonding.remove(tranche)
        allocation.earning += tranche.amount

    def _unbonded(self, allocation: Allocation, tranche: Tranche) -> None:
        allocation.unbonding.remove(tranche)
        strategy = allocation.strategy
        self.ledger.move_free(allocation.account, strategy.holding, strategy.asset, tranche.amount)
