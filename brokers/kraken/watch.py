"""What Kraken does not stream in full, read by REST and emitted as events: balances with their holds,
margin positions, the margin level, Earn allocations.

Kraken's websocket v2 has no positions channel, its ``balances`` channel reports totals without what
open orders hold, and Earn has no channel at all. The private stream only learns *that* something
changed (a balance moved, a margin order traded, an order was liquidated); `AccountWatch` answers with
one REST read per kind after a short pause (a fill moves several balances at once) and emits what
differs from what it last emitted: `Balance`, `Position` (a closed margin position as FLAT, so a view
can drop it), `MarginAlert` when the margin level crosses into a worse band (warning, margin call at
80%, liquidation at 40%), and `EarnAllocation`. It also polls what changes without any message: the
margin level while positions are open (option ``margin_poll_s``), a pending Earn (de)allocation until
Kraken has finished it (allocation is asynchronous), and the rewards of allocations held.

A failed read is logged and tried again later: a watch never fails the private stream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

import attrs
import trio

from brokers.base import Emit
from brokers.kraken import constants as c
from brokers.kraken import schemas as s
from brokers.kraken.mapping import margin_alert_from
from brokers.kraken.stream import AccountChange
from protocol.errors import BrokerError
from protocol.model import (
    ZERO,
    Balance,
    EarnAllocation,
    MarginAlertLevel,
    MarginMode,
    MarketType,
    Position,
    PositionSide,
    utc_now,
)

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0
EARN_REFRESH_S = 60.0  # rewards accrue on allocations held: read them again this often
_ALERT_RANK = {None: 0, MarginAlertLevel.WARNING: 1, MarginAlertLevel.MARGIN_CALL: 2, MarginAlertLevel.LIQUIDATION: 3}


class AccountSource(Protocol):
    """The REST reads a watch needs (the client)."""

    venue: str

    async def get_balances(self) -> list[Balance]: ...

    async def margin_positions(self) -> list[Position]: ...

    async def trade_balance(self) -> s.TradeBalance: ...

    async def get_earn_allocations(self) -> list[EarnAllocation]: ...

    async def earn_status(self, strategy_id: str, *, deallocation: bool = False) -> bool: ...


def _same_position(a: Position, b: Position) -> bool:
    return (a.side, a.quantity, a.entry_price, a.mark_price, a.unrealized_pnl, a.leverage, a.margin, a.fees) == \
        (b.side, b.quantity, b.entry_price, b.mark_price, b.unrealized_pnl, b.leverage, b.margin, b.fees)


def _same_allocation(a: EarnAllocation, b: EarnAllocation) -> bool:
    return (a.amount, a.pending, a.rewards, a.status) == (b.amount, b.pending, b.rewards, b.status)


@attrs.define
class AccountWatch:
    """Reads what changed and emits the differences (see the module docstring)."""

    source: AccountSource
    emit: Emit
    margin_poll_s: float = c.MARGIN_POLL_DEFAULT_S
    _wake: trio.Event = attrs.field(factory=trio.Event)
    _due: set[str] = attrs.field(factory=set)
    _pending_earn: dict[str, bool] = attrs.field(factory=dict)  # strategy id -> is a deallocation
    _timers: dict[str, float] = attrs.field(factory=dict)  # kind -> trio time it is due by itself
    _balances: dict[str, Balance] = attrs.field(factory=dict)
    _positions: dict[str, Position] = attrs.field(factory=dict)
    _alert: MarginAlertLevel | None = None
    _allocations: dict[str, EarnAllocation] = attrs.field(factory=dict)
    reads: int = 0

    # ------------------------------------------------------------------ what asks for a read
    def changed(self, change: AccountChange) -> None:
        """The private stream saw ``change``: read the kinds it names soon."""
        self._ask(kind for kind, wanted in (("balances", change.balances), ("positions", change.positions),
                                             ("earn", change.earn)) if wanted)

    def earn_pending(self, strategy_id: str, *, deallocation: bool) -> None:
        """A (de)allocation was accepted: follow it until Kraken has finished it."""
        self._pending_earn[strategy_id] = deallocation
        self._ask(["earn", "earn_status"])

    def _ask(self, kinds: Iterable[str]) -> None:
        before = len(self._due)
        self._due.update(kinds)
        if len(self._due) != before:
            self._wake.set()

    # ------------------------------------------------------------------ the loop
    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._ask(["positions", "earn"])  # what is held already, once per connection
        task_status.started()
        while True:
            deadline = min(self._timers.values(), default=float("inf"))
            with trio.move_on_at(deadline):
                await self._wake.wait()
            self._wake = trio.Event()
            await trio.sleep(c.ACCOUNT_DEBOUNCE_S)
            now = trio.current_time()
            due = set(self._due) | {kind for kind, at in self._timers.items() if at <= now}
            self._due.clear()
            for kind in due:
                self._timers.pop(kind, None)
            try:
                await self.refresh(due)
            except BrokerError as error:
                log.warning("%s: reading %s failed (%s); trying again in %.0fs", self.source.venue,
                            ", ".join(sorted(due)), error, RETRY_AFTER_S)
                for kind in due:
                    self._timers.setdefault(kind, trio.current_time() + RETRY_AFTER_S)

    async def refresh(self, due: set[str]) -> None:
        """Read each kind in ``due`` and emit what differs (in this order: funds, positions, Earn)."""
        if "balances" in due:
            await self._read_balances()
            due.discard("balances")
        if "positions" in due:
            await self._read_positions()
            due.discard("positions")
        if "earn_status" in due and await self._read_earn_status():
            due.add("earn")  # a (de)allocation finished: its allocation changed
        if "earn" in due:
            await self._read_allocations()
            due.discard("earn")

    async def _read_balances(self) -> None:
        self.reads += 1
        fresh = {balance.currency: balance for balance in await self.source.get_balances()}
        for currency, balance in fresh.items():
            known = self._balances.get(currency)
            if known is None or (known.free, known.locked) != (balance.free, balance.locked):
                await self.emit(balance)
        for currency in set(self._balances) - set(fresh):
            gone = self._balances[currency]
            await self.emit(Balance(venue=gone.venue, currency=currency, free=ZERO, locked=ZERO))
        self._balances = fresh

    async def _read_positions(self) -> None:
        self.reads += 1
        fresh = {p.symbol: p for p in await self.source.margin_positions() if p.quantity > 0}
        for symbol, position in fresh.items():
            known = self._positions.get(symbol)
            if known is None or not _same_position(known, position):
                await self.emit(position)
        for symbol in set(self._positions) - set(fresh):
            await self.emit(Position(venue=self.source.venue, symbol=symbol, market_type=MarketType.MARGIN,
                                     side=PositionSide.FLAT, quantity=ZERO,
                                     margin_mode=MarginMode.CROSS, updated_at=utc_now()))
        self._positions = fresh
        if fresh or self._alert is not None:
            await self._read_margin_level()
        if fresh:
            self._timers["positions"] = trio.current_time() + self.margin_poll_s

    async def _read_margin_level(self) -> None:
        self.reads += 1
        alert = margin_alert_from(await self.source.trade_balance(), now=utc_now())
        level = alert.level if alert is not None else None
        if alert is not None and _ALERT_RANK[level] > _ALERT_RANK[self._alert]:
            await self.emit(alert)  # a worse band than last said; the same band is not repeated
        self._alert = level

    async def _read_earn_status(self) -> bool:
        """Ask about every pending (de)allocation; True if one has finished."""
        finished = False
        for strategy_id, deallocation in list(self._pending_earn.items()):
            self.reads += 1
            if not await self.source.earn_status(strategy_id, deallocation=deallocation):
                del self._pending_earn[strategy_id]
                finished = True
        if self._pending_earn:
            self._timers["earn_status"] = trio.current_time() + c.EARN_POLL_S
        return finished

    async def _read_allocations(self) -> None:
        self.reads += 1
        fresh = {a.strategy_id: a for a in await self.source.get_earn_allocations()}
        for strategy_id, allocation in fresh.items():
            known = self._allocations.get(strategy_id)
            if known is None or not _same_allocation(known, allocation):
                await self.emit(allocation)
        self._allocations = fresh
        if any(a.amount > 0 or a.pending != 0 for a in fresh.values()):
            self._timers.setdefault("earn", trio.current_time() + EARN_REFRESH_S)
