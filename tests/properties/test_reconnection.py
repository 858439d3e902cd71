"""Random fault schedules against a run of random orders, on trio's virtual clock (design §5).

After any schedule: every fill the emulator executed for us reached subscribers exactly once and
in order per order; no client order id was ever live twice at the venue; the actor came back as
soon as the venue was reachable; and every backoff delay stayed within its bound.

`make test` runs a few dozen deterministic schedules per venue; `make soak` runs thousands.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from decimal import ROUND_UP, Decimal
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

import brokers
from actors.handle import RouterHandle, open_router_with
from actors.supervisor import BackoffPolicy
from brokers.base import BrokerSettings, BrokerState, broker_actor
from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import Fill, Instrument, OrderType, Side

POLICY = BackoffPolicy(base=0.5, cap=8.0, healthy_after=20.0)


@attrs.frozen
class VenueCase:
    venue: str
    symbol: str
    options: dict[str, str] = attrs.field(factory=dict)


CASES = [
    VenueCase("binance", "BTC/USDT"),
    VenueCase("bybit", "BTC/USDT"),  # spot
    VenueCase("bybit", "BTC/USDT:USDT"),  # linear perpetual
    VenueCase("okx", "BTC/USDT"),  # spot
    VenueCase("okx", "BTC/USDT:USDT"),  # USDT-margined swap (sizes in contracts at the venue)
]

# ------------------------------------------------------------------------------ schedules


@attrs.frozen
class Place:
    side: Side
    kind: str  # "market" | "near" (likely to fill soon) | "far" (rests)
    lots: int


@attrs.frozen
class Fault:
    kind: str
    amount: int = 1


@attrs.frozen
class Wait:
    seconds: float


FAULT_KINDS = ["drop_private", "drop_public", "drop_all", "stall", "http_429", "http_5xx", "lose_response",
               "duplicate", "reorder", "refuse", "slow"]

steps = st.one_of(
    st.builds(Place, st.sampled_from(list(Side)), st.sampled_from(["market", "near", "far"]), st.integers(1, 3)),
    st.builds(Fault, st.sampled_from(FAULT_KINDS), st.integers(1, 3)),
    st.builds(Wait, st.sampled_from([0.5, 2.0, 5.0, 15.0])),
)
schedules = st.lists(steps, min_size=4, max_size=14)


def quantity(instrument: Instrument, price: Decimal, lots: int) -> Decimal:
    wanted = max(instrument.min_qty, instrument.min_notional * Decimal("1.2") / price, instrument.lot_size) * lots
    return (wanted / instrument.lot_size).to_integral_value(rounding=ROUND_UP) * instrument.lot_size


def tick_round(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value() * tick


# ------------------------------------------------------------------------------ the scenario


@attrs.define
class Observed:
    fills: list[Fill] = attrs.field(factory=list)
    statuses: list[m.BrokerStatus] = attrs.field(factory=list)


async def _collect(router: RouterHandle, seen: Observed, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    async with router.subscribe(kinds=["fill", "status"]) as events:
        task_status.started()
        async for event in events:
            if isinstance(event, Fill):
                seen.fills.append(event)
            elif isinstance(event, m.BrokerStatus):
                seen.statuses.append(event)


async def _place(router: RouterHandle, case: VenueCase, instrument: Instrument, step: Place, n: int) -> None:
    try:
        last = await router.get_current_price(case.venue, case.symbol)
    except e.BrokerError:
        return
    if step.kind == "market":
        price, type_ = None, OrderType.MARKET
    else:
        away = Decimal("0.002") if step.kind == "near" else Decimal("0.05")
        factor = 1 - away if step.side is Side.BUY else 1 + away
        price, type_ = tick_round(last * factor, instrument.tick_size), OrderType.LIMIT
    qty = quantity(instrument, price or last, step.lots)
    cid = f"prop{n:04d}"
    for _ in range(5):  # the caller's retry: same client id every time
        try:
            await router.place_order(venue=case.venue, symbol=case.symbol, side=step.side, type=type_,
                                     quantity=qty, price=price, client_order_id=cid)
            return
        except (e.NotConnected, e.VenueUnavailable, e.RateLimited) as error:
            assert error.retryable or isinstance(error, e.NotConnected)
            with trio.move_on_after(60):
                await router.wait_connected(case.venue)
        except (e.InsufficientFunds, e.InvalidOrder, e.DuplicateOrder):
            return


def _inject(venue: Any, fault: Fault) -> None:
    f = venue.faults
    match fault.kind:
        case "drop_private":
            f.drop_streams("private")
        case "drop_public":
            f.drop_streams("public")
        case "drop_all":
            f.drop_streams("all")
        case "stall":
            f.stall_streams(5.0 * fault.amount, "all")
        case "http_429":
            f.http_error(429, count=fault.amount, retry_after=1)
        case "http_5xx":
            f.http_error(503, count=fault.amount)
        case "lose_response":
            f.lose_responses(fault.amount)
        case "duplicate":
            f.duplicate_messages(fault.amount, "private")
        case "reorder":
            f.reorder_messages(fault.amount, "private")
        case "slow":
            f.slow_responses(2.0, count=fault.amount)


async def run_schedule(case: VenueCase, schedule: list[Place | Fault | Wait], seed: int) -> None:
    from emulators import emulate

    factory = brokers.load_broker_factory(case.venue)
    async with emulate(case.venue, seed=seed, tick_interval=0.25) as venue:
        creds = Credentials.from_strings(venue.api_key, venue.api_secret, venue.passphrase)
        settings_ = BrokerSettings(venue=case.venue, rest_url=venue.rest_url, ws_url=venue.ws_url,
                                   credentials=creds, request_timeout=5.0, options=case.options,
                                   testnet=True)  # an emulator is the venue's demo environment
        state = BrokerState(venue=case.venue)
        actor = broker_actor(lambda: factory(settings_), state)
        seen = Observed()
        async with open_router_with({case.venue: actor}, policy=POLICY, seed=seed) as router, \
                trio.open_nursery() as nursery:
            await nursery.start(_collect, router, seen)
            with trio.fail_after(120):
                await router.wait_connected(case.venue)
            instrument = {i.symbol: i for i in await router.instruments(case.venue)}[case.symbol]
            for n, step in enumerate(schedule):
                match step:
                    case Place():
                        await _place(router, case, instrument, step, n)
                    case Fault(kind="refuse"):
                        venue.faults.refuse_connections(True)
                        await trio.sleep(3.0 * step.amount)
                        venue.faults.refuse_connections(False)
                    case Fault():
                        _inject(venue, step)
                    case Wait(seconds=seconds):
                        await trio.sleep(seconds)
            venue.faults.clear()
            await trio.sleep(20)  # stalls in progress run out (and drop their sockets)
            # Quiesce the market: resting orders cannot fill any more, so the fill log is final.
            for order in venue.engine.open_orders("demo"):
                venue.engine.cancel("demo", order.symbol, order_id=order.order_id)
            # The venue is reachable from here on: the actor must come back, within a bound.
            with trio.fail_after(POLICY.cap * 4 + 120):
                await router.wait_connected(case.venue)
            final = {venue_ids(venue, f)[0] for f in venue.engine.fill_log}
            with trio.move_on_after(180):
                while not final <= {fill.trade_id for fill in seen.fills}:  # noqa: ASYNC110 - polls a list
                    await trio.sleep(1)
            await trio.sleep(5)  # anything still in flight would show up as a duplicate now
            nursery.cancel_scope.cancel()
        check_invariants(case, venue, seen)


def venue_ids(venue: Any, fill: Any) -> tuple[str, str]:
    """(trade id, order id) of an engine fill as the venue prints them (Bybit's are opaque strings, OKX's its own
    numbers)."""
    dialect = venue.dialect
    if hasattr(dialect, "ord_id"):  # OKX: numeric ids of its own
        from emulators.okx.render import trade_id

        order = next(o for o in venue.engine.all_orders() if o.symbol == fill.symbol and o.order_id == fill.order_id)
        return trade_id(fill.trade_id), dialect.ord_id(order)
    if hasattr(dialect, "exec_id"):
        order = next(o for o in venue.engine.all_orders() if o.symbol == fill.symbol and o.order_id == fill.order_id)
        return dialect.exec_id(fill.symbol, fill.trade_id), dialect.order_id(order)
    return str(fill.trade_id), str(fill.order_id)


def check_invariants(case: VenueCase, venue: Any, seen: Observed) -> None:
    log = [(*venue_ids(venue, f), f.quantity) for f in venue.engine.fill_log]
    received = [(f.trade_id, f.order_id) for f in seen.fills]
    # exactly once
    assert len(received) == len(set(received)), f"duplicate fills delivered: {Counter(received).most_common(3)}"
    assert {trade for trade, _, _ in log} == {f.trade_id for f in seen.fills}, "fills lost or invented"
    # in order per order (the venue's own execution order; trade ids need not be numbers)
    position = {trade: i for i, (trade, _, _) in enumerate(log)}
    by_order: dict[str, list[str]] = defaultdict(list)
    for f in seen.fills:
        by_order[f.order_id].append(f.trade_id)
    for trade_ids in by_order.values():
        assert trade_ids == sorted(trade_ids, key=position.__getitem__), f"fills out of order: {trade_ids}"
    # quantities agree with the venue's book-keeping
    for order_id in by_order:
        got = sum(f.quantity for f in seen.fills if f.order_id == order_id)
        want = sum(Decimal(str(quantity)) for _, order, quantity in log if order == order_id)
        assert got == want
    # no client order id live twice
    per_client = Counter(o.client_order_id for o in venue.engine.all_orders())
    assert not [c for c, n in per_client.items() if n > 1], "a client order id was placed twice"
    # backoff bounds
    for status in seen.statuses:
        if status.state is m.ConnectionState.RECONNECTING:
            assert status.next_delay is not None and 0 <= status.next_delay <= POLICY.ceiling(status.attempt)


def _run(case: VenueCase, schedule: list[Place | Fault | Wait], seed: int) -> None:
    trio.run(run_schedule, case, schedule, seed, clock=trio.testing.MockClock(autojump_threshold=0))


EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "40"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.venue}-{c.symbol}")
@settings(max_examples=EXAMPLES)
@given(schedule=schedules, seed=st.integers(1, 1000))
def test_faults_never_lose_or_duplicate_fills(case: VenueCase, schedule: list[Place | Fault | Wait],
                                              seed: int) -> None:
    _run(case, schedule, seed)


SOAK_EXAMPLES = int(os.environ.get("SOAK_EXAMPLES", "2000"))


@pytest.mark.soak
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.venue}-{c.symbol}")
@settings(max_examples=SOAK_EXAMPLES)
@given(schedule=st.lists(steps, min_size=10, max_size=40), seed=st.integers(1, 10**6))
def test_soak_fault_schedules(case: VenueCase, schedule: list[Place | Fault | Wait], seed: int) -> None:
    _run(case, schedule, seed)
