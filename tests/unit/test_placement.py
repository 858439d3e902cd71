"""Order entry when answers get lost (brokers/placement.py), on a scripted venue and trio's virtual clock.

Each placement's fate is scripted: answered, executed with the answer lost, executed late (after the client
gave up), never executed, or refused as a duplicate. Whatever the script, the venue ends with at most one order
per client id, and the caller gets the order, a definite refusal, or `OrderOutcomeUnknown` — never a guess.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
import trio

from brokers.base import BrokerState, EventGate, broker_actor
from brokers.placement import (
    LOOKUP_BUDGET_S,
    MAX_SENDS,
    NO_GUARANTEE,
    ResendRule,
    Unresolved,
    cancel_order_safely,
    place_order_idempotent,
    settle_unresolved,
)
from protocol import errors as e
from protocol import messages as m
from protocol.model import NEVER_REACHED, Order, OrderRequest, OrderStatus, OrderType, Side
from tests.support.fake_broker import FakeBroker, FakeVenue

WINDOW = ResendRule(expires_after_ms=5_000, clock_uncertainty_ms=1_000, source="test")
UNIQUE = ResendRule(unique_client_ids=True, source="test")


@attrs.define
class ScriptedBroker(FakeBroker):
    """Each send takes the next fate from ``script``: "ok", "lost" (executed, answer lost), "late:<s>"
    (answer lost at once, executed <s> seconds later), "never" (answer lost, never executed), "refused" (a
    definite refusal: insufficient funds)."""

    rule: ResendRule = NO_GUARANTEE
    script: list[str] = attrs.field(factory=list)
    cancel_script: list[str] = attrs.field(factory=list)
    lookups_fail: bool = False
    nursery: trio.Nursery | None = None
    sends: int = 0

    def resend_rule(self) -> ResendRule:
        return self.rule

    async def place_order(self, request: OrderRequest) -> Order:
        self.sends += 1
        fate = self.script.pop(0) if self.script else "ok"
        if fate == "ok":
            return await super().place_order(request)
        if fate == "lost":
            await super().place_order(request)
            raise e.VenueUnavailable("read timeout", venue=self.venue)
        if fate.startswith("late:"):
            assert self.nursery is not None

            async def late() -> None:
                await trio.sleep(float(fate.removeprefix("late:")))
                await FakeBroker.place_order(self, request)

            self.nursery.start_soon(late)
            raise e.VenueUnavailable("read timeout", venue=self.venue)
        if fate == "never":
            raise e.VenueUnavailable("read timeout", venue=self.venue)
        if fate == "refused":
            raise e.InsufficientFunds("insufficient balance", venue=self.venue)
        raise AssertionError(fate)

    async def get_order_status(self, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order:
        if self.lookups_fail:
            raise e.VenueUnavailable("lookup timed out", venue=self.venue)
        return await super().get_order_status(symbol, order_id=order_id, client_order_id=client_order_id)

    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order:
        fate = self.cancel_script.pop(0) if self.cancel_script else "ok"
        if fate == "never":
            raise e.VenueUnavailable("cancel timed out", venue=self.venue)
        if self._find(order_id, client_order_id).status.is_terminal:
            raise e.OrderNotFound("Unknown order sent.", venue=self.venue, code=-2011)
        cancelled = await super().cancel_order(symbol, order_id=order_id, client_order_id=client_order_id)
        if fate == "lost":
            raise e.VenueUnavailable("cancel timed out", venue=self.venue)
        return cancelled


def request(cid: str = "c1", type_: OrderType = OrderType.MARKET) -> OrderRequest:
    return OrderRequest(venue="fake", symbol="BTC/USDT", side=Side.BUY, type=type_, quantity=Decimal(1),
                        price=Decimal(90) if type_ is OrderType.LIMIT else None, client_order_id=cid)


def recording_gate(state: BrokerState) -> tuple[EventGate, list[m.EventMsg]]:
    """An open gate whose events are kept in a list."""
    events: list[m.EventMsg] = []

    async def out(event: m.EventMsg) -> None:
        events.append(event)

    return EventGate(state, out, hold=False), events


def at_venue(market: FakeVenue, cid: str) -> int:
    return sum(1 for r in market.placed if r.client_order_id == cid)


async def test_an_order_executed_after_the_timeout_is_found_not_resent(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with trio.open_nursery() as nursery:
        broker = ScriptedBroker(market, rule=WINDOW, script=["late:3"], nursery=nursery)
        order = await place_order_idempotent(broker, BrokerState(venue="fake"), request())
        await trio.sleep(10)
    assert order.client_order_id == "c1" and broker.sends == 1 and at_venue(market, "c1") == 1


async def test_a_lost_order_is_resent_once_its_bound_has_passed(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    broker = ScriptedBroker(market, rule=WINDOW, script=["never"])
    start = trio.current_time()
    order = await place_order_idempotent(broker, BrokerState(venue="fake"), request())
    assert broker.sends == 2 and at_venue(market, "c1") == 1 and order.status is OrderStatus.FILLED
    assert trio.current_time() - start >= 6.0  # the window (5 s) and the clock's uncertainty (1 s), no sooner


async def test_unique_client_ids_make_a_resend_safe_at_once(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    broker = ScriptedBroker(market, rule=UNIQUE, script=["never"])
    start = trio.current_time()
    await place_order_idempotent(broker, BrokerState(venue="fake"), request())
    assert broker.sends == 2 and trio.current_time() - start < 1.0


async def test_without_a_bound_the_outcome_is_unknown_and_nothing_is_resent(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    state = BrokerState(venue="fake")
    broker = ScriptedBroker(market, rule=NO_GUARANTEE, script=["never"])
    with pytest.raises(e.OrderOutcomeUnknown) as unknown:
        await place_order_idempotent(broker, state, request())
    assert unknown.value.client_order_id == "c1" and unknown.value.retryable
    assert broker.sends == 1 and "c1" in state.unresolved and state.unresolved["c1"].sent


async def test_failing_lookups_past_the_budget_mean_unknown(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    broker = ScriptedBroker(market, rule=WINDOW, script=["never"], lookups_fail=True)
    start = trio.current_time()
    with pytest.raises(e.OrderOutcomeUnknown, match="lookups failed"):
        await place_order_idempotent(broker, BrokerState(venue="fake"), request())
    assert broker.sends == 1 and trio.current_time() - start >= 6.0 + LOOKUP_BUDGET_S


async def test_every_attempt_proven_dead_means_not_executed(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    state = BrokerState(venue="fake")
    broker = ScriptedBroker(market, rule=WINDOW, script=["never"] * MAX_SENDS)
    with pytest.raises(e.NotExecuted):
        await place_order_idempotent(broker, state, request())
    assert broker.sends == MAX_SENDS and at_venue(market, "c1") == 0 and not state.unresolved


async def test_unique_ids_make_resends_safe_but_prove_nothing_dead(autojump_clock: trio.abc.Clock) -> None:
    """Every send lost, the first executed long after: with client ids unique for ever (Alpaca) the resends were
    safe, but the caller must hear "unknown" — not "not placed" — and the late order resolves it."""
    market = FakeVenue()
    state = BrokerState(venue="fake")
    gate, events = recording_gate(state)
    async with trio.open_nursery() as nursery:
        broker = ScriptedBroker(market, rule=UNIQUE, script=["late:30"] + ["never"] * (MAX_SENDS - 1),
                                nursery=nursery)
        with pytest.raises(e.OrderOutcomeUnknown):
            await place_order_idempotent(broker, state, request(), gate)
        assert broker.sends == MAX_SENDS and "c1" in state.unresolved
        await settle_unresolved(broker, state, gate)  # not found, and not provably dead: still unresolved
        assert "c1" in state.unresolved and not events
        await trio.sleep(31)  # the first attempt has executed
        await settle_unresolved(broker, state, gate)
    assert at_venue(market, "c1") == 1 and "c1" not in state.unresolved
    assert [o.client_order_id for o in events if isinstance(o, Order)] == ["c1"]


async def test_a_retry_refused_outright_resolves_the_unknown_by_an_event(autojump_clock: trio.abc.Clock) -> None:
    """Told "unknown" (the send lost, lookups failing), the caller retries; the resend is refused for good. The
    caller hears the refusal, and whoever heard "unknown" gets the order event the router promised."""
    market = FakeVenue()
    state = BrokerState(venue="fake")
    gate, events = recording_gate(state)
    broker = ScriptedBroker(market, rule=UNIQUE, script=["never", "refused"], lookups_fail=True)
    with pytest.raises(e.OrderOutcomeUnknown):
        await place_order_idempotent(broker, state, request(), gate)
    broker.lookups_fail = False
    with pytest.raises(e.InsufficientFunds):
        await place_order_idempotent(broker, state, request(), gate)
    (event,) = events
    assert isinstance(event, Order) and event.client_order_id == "c1" and event.status is OrderStatus.REJECTED
    assert (event.reject_reason or "").startswith(NEVER_REACHED) and not state.unresolved
    assert broker.sends == 2 and at_venue(market, "c1") == 0


async def test_a_duplicate_answer_is_looked_up(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    broker = ScriptedBroker(market, rule=WINDOW)
    first = await broker.place_order(request())
    again = await place_order_idempotent(broker, BrokerState(venue="fake"), request())  # the venue says duplicate
    assert again.order_id == first.order_id and at_venue(market, "c1") == 1


async def test_the_private_stream_answers_before_the_lookups_do(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    state = BrokerState(venue="fake")
    gate, _ = recording_gate(state)
    async with trio.open_nursery() as nursery:
        broker = ScriptedBroker(market, rule=WINDOW, script=["late:2"], nursery=nursery, lookups_fail=True)

        async def stream() -> None:
            await trio.sleep(2.5)  # after the venue executed it
            await gate.from_stream(market.orders["c1"])

        nursery.start_soon(stream)
        order = await place_order_idempotent(broker, state, request(), gate)
    assert order.client_order_id == "c1" and broker.sends == 1


async def test_a_retry_of_an_unknown_order_looks_before_sending(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    state = BrokerState(venue="fake")
    async with trio.open_nursery() as nursery:
        broker = ScriptedBroker(market, rule=NO_GUARANTEE, script=["late:30"], nursery=nursery)
        with pytest.raises(e.OrderOutcomeUnknown):
            await place_order_idempotent(broker, state, request())
        await trio.sleep(30)  # it executed meanwhile
        order = await place_order_idempotent(broker, state, request())  # the caller's retry
    assert order.client_order_id == "c1" and broker.sends == 1 and "c1" not in state.unresolved


async def test_settling_resolves_each_unknown_order_by_an_event(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    state = BrokerState(venue="fake")
    gate, events = recording_gate(state)
    broker = ScriptedBroker(market, rule=WINDOW)
    await broker.place_order(request("found"))
    now = trio.current_time()
    state.unresolved["found"] = Unresolved(request("found"), sent=True)
    state.unresolved["dead"] = Unresolved(request("dead"), sent=True, expires_at=now)
    state.unresolved["young"] = Unresolved(request("young"), sent=True, expires_at=now + 60)
    state.unresolved["unsent"] = Unresolved(request("unsent"))
    await settle_unresolved(broker, state, gate)
    resolved = {o.client_order_id: o for o in events if isinstance(o, Order)}
    assert resolved["found"].status is OrderStatus.FILLED
    for cid in ("dead", "unsent"):
        assert resolved[cid].status is OrderStatus.REJECTED and resolved[cid].reject_reason.startswith(NEVER_REACHED)
    assert set(state.unresolved) == {"young"}


async def test_a_never_placed_rejection_gives_way_to_the_order_a_retry_placed() -> None:
    state = BrokerState(venue="fake")
    from protocol.model import never_placed
    state.merge_order(never_placed(request(), "test"))
    market = FakeVenue()
    placed = await FakeBroker(market).place_order(request())
    assert state.merge_order(placed) is not None and state.orders["c1"].order_id == placed.order_id


async def test_a_lost_cancel_answer_is_looked_up(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    broker = ScriptedBroker(market, cancel_script=["lost"])
    await broker.place_order(request("r1", OrderType.LIMIT))
    cancelled = await cancel_order_safely(broker, "BTC/USDT", client_order_id="r1")
    assert cancelled.status is OrderStatus.CANCELED


async def test_a_cancel_that_never_arrived_is_sent_again(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    broker = ScriptedBroker(market, cancel_script=["never"])
    await broker.place_order(request("r1", OrderType.LIMIT))
    cancelled = await cancel_order_safely(broker, "BTC/USDT", client_order_id="r1")
    assert cancelled.status is OrderStatus.CANCELED and not broker.cancel_script


async def test_a_taken_placement_whose_actor_dies_is_resolved_by_the_next_one(autojump_clock: trio.abc.Clock) -> None:
    """The actor dies while placing: the caller hears "unknown", and the next incarnation's reconciliation
    resolves the order with an event (here: executed, so found)."""
    from actors.handle import open_router_with
    from actors.supervisor import BackoffPolicy

    market = FakeVenue()
    state = BrokerState(venue="fake")

    async with trio.open_nursery() as nursery:
        def make() -> ScriptedBroker:
            return ScriptedBroker(market, rule=WINDOW, script=["late:1"], nursery=nursery)

        async with open_router_with({"fake": broker_actor(make, state)}, policy=BackoffPolicy(base=0.5, cap=1.0),
                                    seed=1) as router, router.subscribe(kinds=["order"]) as events:
            await router.wait_connected("fake")

            async def kill() -> None:
                await trio.sleep(0.5)
                market.cut_streams()  # the private stream fails: the actor restarts

            nursery.start_soon(kill)
            with pytest.raises(e.OrderOutcomeUnknown):
                await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", type="market",
                                         quantity=Decimal(1), client_order_id="dies1")
            with trio.fail_after(60):
                while True:
                    event = await events.get()
                    if isinstance(event, Order) and event.client_order_id == "dies1":
                        break
            assert event.status is OrderStatus.FILLED and at_venue(market, "dies1") == 1
        nursery.cancel_scope.cancel()
