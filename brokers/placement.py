"""Order entry when answers get lost: an order is resent only once the venue can prove the first attempt dead.

A timeout, a 5xx or a dropped connection on order entry leaves the outcome unknown: the request may still be
on its way to the venue's matching engine. A lookup that does not find the order only means "not executed
*yet*". So the order is looked up (REST by client id, with backoff, while the private stream is watched for
it) until it appears, or until the first request can no longer execute; only then is it sent again, with
the same client id. What "can no longer execute" means is the venue's own rule, declared as data by its
client (`ResendRule`, from `Broker.resend_rule`); the default promises nothing, and then the caller is told
the outcome is unknown (`OrderOutcomeUnknown`) rather than given a guess. brokers/README.md, "Order entry",
says what a venue provides.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from typing import Any, Protocol

import attrs
import trio

from protocol.errors import (
    BrokerError,
    DuplicateOrder,
    NotExecuted,
    OrderNotFound,
    OrderOutcomeUnknown,
    ProtocolViolation,
    VenueUnavailable,
)
from protocol.model import Order, OrderRequest, never_placed

log = logging.getLogger(__name__)


@attrs.frozen
class ResendRule:
    """What a venue guarantees about an order-entry request whose answer was lost.

    Each venue's client returns its own from `Broker.resend_rule` (see brokers/README.md, "Order entry"). The
    default, `NO_GUARANTEE`, is safe: lookups only, then "outcome unknown", never a blind resend.
    """

    expires_after_ms: int | None = None
    """The venue will not act on the request once this long has passed on its clock since the request's signed
    timestamp (its signed window, plus a margin for a request already handed to the matching engine). None:
    the venue gives no such bound."""
    unique_client_ids: bool = False
    """The venue refuses, as a duplicate, any order whose client id it has ever seen (closed orders included),
    so a resend can never make a second order: it is safe at once."""
    clock_uncertainty_ms: int = 0
    """How far our view of the venue's clock may be off: half the round trip of the clock sync, plus a margin."""
    source: str = ""
    """Where the venue documents the rule, with the date of the docs read."""

    def expired_at(self, failed_at: float) -> float | None:
        """The trio time from which a request whose send failed at ``failed_at`` can no longer execute, or None.

        The request's signed timestamp is at the latest the venue-clock time at which its send failed, so the
        bound counts from there; waiting on trio's clock (monotonic, and the virtual clock in tests) is
        comparing on the venue's clock up to `clock_uncertainty_ms`, which is added.
        """
        if self.expires_after_ms is None:
            return None
        return failed_at + (self.expires_after_ms + self.clock_uncertainty_ms) / 1000

    def resend_at(self, failed_at: float) -> float | None:
        """From when sending the order again cannot make a second one (None: never provable)."""
        return failed_at if self.unique_client_ids else self.expired_at(failed_at)


NO_GUARANTEE = ResendRule()
"""A venue that declares nothing: a lost placement is looked up, and reported unknown if not found."""

CLOCK_MARGIN_MS = 1000
"""Added to half the clock sync's round trip: clock drift between syncs, and millisecond truncation."""


# ============================================================================== the loop

LOOKUP_FIRST_S = 0.25
LOOKUP_INTERVAL_MAX_S = 2.0
LOOKUP_BUDGET_S = 15.0
"""How long lookups may keep failing past the bound (or, with no bound, keep missing) before the caller is
told the outcome is unknown."""
MAX_SENDS = 3
"""Sends of one placement, each safe to follow the last; then `NotExecuted` (nothing was placed) where each was
proven expired, `OrderOutcomeUnknown` where the venue only makes resends safe (client ids unique for ever)."""
RESOLVE_INTERVAL_S = 2.0
RESOLVE_INTERVAL_MAX_S = 60.0


@attrs.define(eq=False)
class Sighting:
    """One waiter for an order event with a given client id (the private stream or reconciliation saw it)."""

    order: Order | None = None
    _seen: trio.Event = attrs.field(factory=trio.Event)

    def saw(self, order: Order) -> None:
        self.order = order
        self._seen.set()

    async def wait(self) -> None:
        await self._seen.wait()


@attrs.define(eq=False)
class Sightings:
    """Waiters keyed by client id, told of every order event that passes the `EventGate`."""

    _waiting: dict[str, list[Sighting]] = attrs.field(factory=dict)

    def saw(self, order: Order) -> None:
        if self._waiting:
            for sighting in self._waiting.get(order.client_order_id, ()):
                sighting.saw(order)

    @contextmanager
    def watch(self, client_order_id: str) -> Iterator[Sighting]:
        sighting = Sighting()
        self._waiting.setdefault(client_order_id, []).append(sighting)
        try:
            yield sighting
        finally:
            waiting = self._waiting[client_order_id]
            waiting.remove(sighting)
            if not waiting:
                del self._waiting[client_order_id]


@attrs.define(eq=False)
class Claims:
    """One task at a time per client id: a placement, a caller's retry of it, or the resolver."""

    _held: dict[str, trio.Event] = attrs.field(factory=dict)

    def busy(self, client_order_id: str) -> bool:
        return client_order_id in self._held

    @asynccontextmanager
    async def claim(self, client_order_id: str) -> AsyncIterator[None]:
        while (held := self._held.get(client_order_id)) is not None:
            await held.wait()
        self._held[client_order_id] = released = trio.Event()
        try:
            yield
        finally:
            del self._held[client_order_id]
            released.set()


@attrs.define(eq=False)
class Unresolved:
    """An order whose outcome is not known yet: taken for placement, or sent with its answer lost.

    Kept in `BrokerState.unresolved` (it outlives an actor's incarnation) until an order event resolves it."""

    request: OrderRequest
    owner: object | None = None  # the actor incarnation that took it (its gate); None: a direct call
    sent: bool = False  # a send began: the request may have left
    expires_at: float | None = None  # trio time from which its last send can no longer execute (None: no bound)
    resend_at: float | None = None  # trio time from which sending it again cannot make a second order
    next_check: float = 0.0  # the resolver's next lookup (trio time)
    checks: int = 0

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id or ""

    def ended_send(self, rule: ResendRule) -> None:
        """A send just ended (answered, failed or cancelled): its signed timestamp is at the latest now."""
        now = trio.current_time()
        self.expires_at, self.resend_at = rule.expired_at(now), rule.resend_at(now)

    def provably_dead(self, asked_at: float) -> bool:
        """Whether a lookup sent at ``asked_at`` that misses the order proves it never executed."""
        return not self.sent or (self.expires_at is not None and asked_at >= self.expires_at)


class Placing(Protocol):
    """What the loop needs of a broker and its state (brokers.base: `Broker`, `BrokerState`, `EventGate`)."""

    venue: str

    def resend_rule(self) -> ResendRule: ...

    async def place_order(self, request: OrderRequest) -> Order: ...

    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order: ...

    async def get_order_status(self, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order: ...


class IdSet(Protocol):
    def add(self, key: str) -> bool: ...

    def __contains__(self, key: object) -> bool: ...


class PlacingState(Protocol):
    unresolved: dict[str, Unresolved]
    claims: Claims
    active_symbols: set[str]

    @property
    def submitted(self) -> IdSet: ...


class Gate(Protocol):
    sightings: Sightings

    async def deliver(self, event: Any) -> None: ...


LOST = (VenueUnavailable, ProtocolViolation)
"""Failures of an order-entry request that leave its outcome unknown (`NotExecuted` apart: nothing left)."""


async def place_order_idempotent(broker: Placing, state: PlacingState, request: OrderRequest,
                                 gate: Gate | None = None) -> Order:
    """Place ``request`` at most once, whatever the network does (design §6, brokers/README.md "Order entry").

    A retry of a client id we already sent is looked up before anything is sent; a lost answer is looked up
    (REST and, with a ``gate``, the private stream) until the order appears or the venue's `ResendRule`
    proves the first attempt dead, and only then sent again with the same client id; a "duplicate client id"
    answer means it is there. When none of that can be established: `OrderOutcomeUnknown`, and the order stays
    in ``state.unresolved`` until an order event resolves it.
    """
    cid = request.client_order_id
    assert cid is not None, "the actor loop assigns client order ids"
    async with state.claims.claim(cid):
        pending = state.unresolved.get(cid)
        earlier_lost = pending is not None and pending.sent  # its caller was told "unknown", or its actor died
        try:
            if (pending is None or not pending.sent) and cid in state.submitted:
                # An earlier call with this id ended with a definite answer: it is either there, or nothing is.
                try:
                    order = await broker.get_order_status(request.symbol, client_order_id=cid)
                except OrderNotFound:
                    pass
                else:
                    state.unresolved.pop(cid, None)
                    return order
            if pending is None:
                pending = state.unresolved[cid] = Unresolved(request)
            state.submitted.add(cid)
            state.active_symbols.add(request.symbol)
            order = await _place_until_known(broker, pending, gate)
        except OrderOutcomeUnknown:
            raise  # stays unresolved: the actor resolves it and says so with an order event
        except BrokerError as refused:
            state.unresolved.pop(cid, None)  # a definite answer: nothing was placed
            if earlier_lost and gate is not None:
                # Whoever was told the outcome was unknown is owed an order event: this is the resolution.
                await gate.deliver(never_placed(request, f"sent again, and refused: {refused.message}"))
            raise
        state.unresolved.pop(cid, None)
        return order


async def _place_until_known(broker: Placing, pending: Unresolved, gate: Gate | None) -> Order:
    rule = broker.resend_rule()
    if pending.sent:  # an earlier attempt's answer was lost: find it before anything is sent again
        found = await _look_up(broker, pending, gate, resend_at=pending.resend_at, lost=None)
        if found is not None:
            return found
    lost: BrokerError | None = None
    for _ in range(MAX_SENDS):
        pending.sent = True
        try:
            try:
                return await broker.place_order(pending.request)
            finally:
                pending.ended_send(rule)
        except DuplicateOrder:
            # The venue already has this client id: an earlier attempt executed. Look it up; never resend.
            found = await _look_up(broker, pending, gate, resend_at=None, lost=None)
            assert found is not None  # without a resend time the lookup finds it or raises
            return found
        except NotExecuted:
            raise
        except LOST as error:
            lost = error
        found = await _look_up(broker, pending, gate, resend_at=pending.resend_at, lost=lost)
        if found is not None:
            return found
        log.info("%s: order %s proven expired unexecuted, or a resend is safe; sending it again", broker.venue,
                 pending.client_order_id)
    if rule.expires_after_ms is None:
        # Client ids unique for ever made each resend safe, but nothing proves any attempt dead: one may still
        # execute. Unknown, not "not placed": a retry with this client id stays safe, and an event will tell.
        raise OrderOutcomeUnknown(
            f"order {pending.client_order_id}: {MAX_SENDS} attempts were lost in transit and none is found yet; "
            "the venue gives no time after which they could not execute, so it is not sent again, and an order "
            "event will say what became of it", venue=broker.venue, client_order_id=pending.client_order_id,
            code=lost.code if lost is not None else None) from lost
    raise NotExecuted(f"order {pending.client_order_id} was not placed: {MAX_SENDS} attempts were lost in transit "
                      f"and each is proven expired unexecuted", venue=broker.venue,
                      client_order_id=pending.client_order_id) from lost


async def _look_up(broker: Placing, pending: Unresolved, gate: Gate | None, *, resend_at: float | None,
                   lost: BrokerError | None) -> Order | None:
    """The order, as soon as a lookup or the stream shows it; None once a lookup sent at or after ``resend_at``
    misses it (sending again is safe); `OrderOutcomeUnknown` when neither happens within the budget."""
    request, cid = pending.request, pending.client_order_id
    started = trio.current_time()
    give_up_at = max(resend_at if resend_at is not None else started, started) + LOOKUP_BUDGET_S
    interval = LOOKUP_FIRST_S
    failure: BrokerError | None = None
    with gate.sightings.watch(cid) if gate is not None else nullcontext(Sighting()) as sighting:
        while True:
            if sighting.order is not None:
                return sighting.order
            asked_at = trio.current_time()
            try:
                return await broker.get_order_status(request.symbol, client_order_id=cid)
            except OrderNotFound:
                failure = None
                if resend_at is not None and asked_at >= resend_at:
                    return None
            except BrokerError as error:
                failure = error
            now = trio.current_time()
            if now >= give_up_at:
                break
            wait = interval if resend_at is None or now >= resend_at else min(interval, resend_at - now)
            with trio.move_on_after(wait):
                await sighting.wait()
            interval = min(interval * 2, LOOKUP_INTERVAL_MAX_S)
    why = (f"lookups failed ({failure.message})" if failure is not None else
           "the venue gives no bound after which it could not execute it" if resend_at is None else
           "it is not found yet")
    raise OrderOutcomeUnknown(
        f"order {cid}: {lost.message if lost is not None else 'an earlier attempt was lost'}, and its outcome is "
        f"unknown: {why}; it is not sent again, and an order event will say what became of it",
        venue=broker.venue, client_order_id=cid, code=lost.code if lost is not None else None) from failure


async def cancel_order_safely(broker: Placing, symbol: str, *, order_id: str | None = None,
                              client_order_id: str | None = None) -> Order:
    """Cancel, and when the answer is lost, ask rather than assume: a finished order is the answer (cancelled,
    or filled meanwhile); one still open is cancelled again (cancelling is idempotent). The venue's state is
    returned; if it cannot be learnt, a `VenueUnavailable` says so."""
    lost: BrokerError | None = None
    interval = LOOKUP_FIRST_S
    for _ in range(MAX_SENDS):
        try:
            return await broker.cancel_order(symbol, order_id=order_id, client_order_id=client_order_id)
        except OrderNotFound:
            if lost is None:
                raise  # the venue does not know it as an open order
            # our earlier cancel (its answer lost) got there first: the lookup below says so
        except LOST as error:
            lost = error
        try:
            order = await broker.get_order_status(symbol, order_id=order_id, client_order_id=client_order_id)
        except OrderNotFound:
            raise
        except BrokerError:
            order = None
        if order is not None and order.status.is_terminal:
            return order
        await trio.sleep(interval)
        interval = min(interval * 2, LOOKUP_INTERVAL_MAX_S)
    raise VenueUnavailable(f"cancel of order {order_id or client_order_id}: {MAX_SENDS} attempts went unanswered; "
                           "its state is unknown (look it up)", venue=broker.venue,
                           client_order_id=client_order_id) from lost


# ============================================================================== resolving what was left unknown


async def settle_unresolved(broker: Placing, state: PlacingState, gate: Gate, *, due_only: bool = False) -> None:
    """One pass over the orders whose outcome is unknown (and not being placed right now): each one the venue
    knows is resolved by its order event; each provably never executed by a REJECTED order event saying it never
    reached the venue (`protocol.model.never_placed`); the rest wait for the next pass."""
    for cid, pending in list(state.unresolved.items()):
        now = trio.current_time()
        if state.claims.busy(cid) or (due_only and now < pending.next_check):
            continue
        if not pending.sent and pending.owner is gate:
            continue  # taken by this incarnation, its placement about to start
        async with state.claims.claim(cid):
            if state.unresolved.get(cid) is not pending:
                continue  # resolved meanwhile
            pending.checks += 1
            pending.next_check = now + min(RESOLVE_INTERVAL_S * 2 ** pending.checks, RESOLVE_INTERVAL_MAX_S)
            asked_at = trio.current_time()
            try:
                order = await broker.get_order_status(pending.request.symbol, client_order_id=cid)
            except OrderNotFound:
                if not pending.provably_dead(asked_at):
                    continue
                order = never_placed(pending.request, "not sent" if not pending.sent else
                                     "its answer was lost and it expired unexecuted")
            except BrokerError as error:
                log.info("%s: order %s still unresolved: %s", broker.venue, cid, error)
                continue
            del state.unresolved[cid]
        await gate.deliver(order)


async def keep_settling(broker: Placing, state: PlacingState, gate: Gate) -> None:
    """Resolve orders left unknown, for as long as the actor runs (a pass every `RESOLVE_INTERVAL_S` while any
    is due; each order's own lookups back off to `RESOLVE_INTERVAL_MAX_S`)."""
    while True:
        await trio.sleep(RESOLVE_INTERVAL_S)
        if state.unresolved:
            await settle_unresolved(broker, state, gate, due_only=True)
