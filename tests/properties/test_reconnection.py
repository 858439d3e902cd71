"""Random fault schedules against a run of random orders and cancels, on trio's virtual clock (design §5).

After any schedule: every fill the emulator executed for us reached subscribers exactly once and in order per
order; no client order id was ever placed twice at the venue; the router's final state of every order equals
the venue's (status and cumulative filled quantity), including orders the venue closed on its own while we were
disconnected; every "outcome unknown" a caller was told was later resolved by an order event; the actor came
back as soon as the venue was reachable; and every backoff delay stayed within its bound.

The faults include order entry's (issue 11): a placement executed after the client's timeout, or held past its
signed window; executed and its connection reset; a cancel whose answer is lost; the venue cancelling our open
orders while we are disconnected; and several callers placing at once, two of them with one client id. The
client's timeout (`TIMEOUT`) is shorter than those delays, so they do outlast it.

`make test` runs a few dozen deterministic schedules per venue; `make soak` runs thousands.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import UTC, datetime
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
from protocol.model import Fill, Instrument, Order, OrderStatus, OrderType, Side, TimeInForce
from tests.support.nonces import AUTOJUMP_THRESHOLD, nonce_dir

POLICY = BackoffPolicy(base=0.5, cap=8.0, healthy_after=20.0)
TIMEOUT = 2.0  # the client's request timeout: shorter than the faults' delays


@attrs.frozen
class VenueCase:
    venue: str
    symbol: str
    place: tuple[str, str | None]  # where order entry goes: (HTTP path or WebSocket API method, HTTP method)
    cancel: tuple[str, str | None]
    options: dict[str, str] = attrs.field(factory=dict)
    time_in_force: TimeInForce = TimeInForce.GTC
    emulator: dict[str, Any] = attrs.field(factory=dict)  # keywords of `emulate`

    @property
    def id(self) -> str:
        return f"{self.venue}-{self.symbol}" + "".join(f"-{v}" for v in self.options.values())


BINANCE_REST = (("/api/v3/order", "POST"), ("/api/v3/order", "DELETE"))
BYBIT = (("/v5/order/create", "POST"), ("/v5/order/cancel", "POST"))
OKX = (("/api/v5/trade/order", "POST"), ("/api/v5/trade/cancel-order", "POST"))
KRAKEN = (("/0/private/AddOrder", "POST"), ("/0/private/CancelOrder", "POST"))
CASES = [
    VenueCase("binance", "BTC/USDT", *BINANCE_REST),
    VenueCase("binance", "BTC/USDT", ("order.place", None), ("order.cancel", None), {"order_transport": "ws-api"}),
    VenueCase("bybit", "BTC/USDT", *BYBIT),  # spot
    VenueCase("bybit", "BTC/USDT:USDT", *BYBIT),  # linear perpetual
    VenueCase("okx", "BTC/USDT", *OKX),  # spot
    VenueCase("okx", "BTC/USDT:USDT", *OKX),  # USDT-margined swap (sizes in contracts at the venue)
]
# Inside a regular session (a run lasts minutes of it); fractional quantities are DAY orders at Alpaca. Its
# schedules cost about twice a crypto venue's (account-wide fill activities, order look-ups), so `make test`
# runs a quarter as many of them; the soak runs it like the others.
ALPACA = VenueCase("alpaca", "AAPL", ("/v2/orders", "POST"), ("/v2/orders/", "DELETE"), time_in_force=TimeInForce.DAY,
                   emulator={"market_time": datetime(2026, 12, 1, 15, tzinfo=UTC)})
KRAKEN_CASES = [VenueCase("kraken", "BTC/USD", *KRAKEN)]  # fewer examples: see KRAKEN_EXAMPLES
AUTOJUMP = {"kraken": AUTOJUMP_THRESHOLD}  # a venue whose client takes nonces in a worker thread
VENUE_OPTIONS = {"kraken": nonce_dir}  # a fresh folder of nonce files per run

# ------------------------------------------------------------------------------ schedules


@attrs.frozen
class Place:
    side: Side
    kind: str  # "market" | "near" (likely to fill soon) | "far" (rests)
    lots: int
    # What befalls its request at the venue: None, "late" (executed 4 s on, inside the signed window), "stale"
    # (held 12 s: past Binance's window, refused when handled; executed late at Bybit), "reset", "lost".
    entry_fault: str | None = None


@attrs.frozen
class Fault:
    kind: str
    amount: int = 1


@attrs.frozen
class Wait:
    seconds: float


@attrs.frozen
class Cancel:
    """Cancel the latest order placed that may still rest (``lost_answer``: the venue's answer is lost)."""

    lost_answer: bool = False


@attrs.frozen
class Concurrent:
    """Several callers place at once; with ``shared``, the first two use one client id."""

    places: tuple[Place, ...]
    shared: bool


FAULT_KINDS = ["drop_private", "drop_public", "drop_all", "stall", "http_429", "http_5xx", "lose_response",
               "duplicate", "reorder", "refuse", "slow", "late_order", "reset_order", "lose_cancel",
               "venue_cancels"]

place_steps = st.builds(Place, st.sampled_from(list(Side)), st.sampled_from(["market", "near", "far"]),
                        st.integers(1, 3), st.sampled_from([None, None, "late", "stale", "reset", "lost"]))
steps = st.one_of(
    place_steps,
    st.builds(Fault, st.sampled_from(FAULT_KINDS), st.integers(1, 3)),
    st.builds(Wait, st.sampled_from([0.5, 2.0, 5.0, 15.0])),
    st.builds(Cancel, st.booleans()),
    st.builds(Concurrent, st.lists(place_steps, min_size=2, max_size=3).map(tuple), st.booleans()),
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
    orders: dict[str, Order] = attrs.field(factory=dict)  # the latest order event per client id
    unknown: set[str] = attrs.field(factory=set)  # client ids a caller was told had an unknown outcome
    placed: list[str] = attrs.field(factory=list)  # client ids of resting orders we placed, oldest first


async def _collect(router: RouterHandle, seen: Observed, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    async with router.subscribe(kinds=["fill", "status", "order"]) as events:
        task_status.started()
        async for event in events:
            if isinstance(event, Fill):
                seen.fills.append(event)
            elif isinstance(event, Order):
                seen.orders[event.client_order_id] = event
            elif isinstance(event, m.BrokerStatus):
                seen.statuses.append(event)


async def _place(router: RouterHandle, venue: Any, case: VenueCase, instrument: Instrument, step: Place, cid: str,
                 seen: Observed) -> None:
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
    if type_ is OrderType.LIMIT:
        seen.placed.append(cid)
    faults, (path, method) = venue.faults, case.place
    match step.entry_fault:
        case "late" | "stale":
            faults.slow_responses(4.0 if step.entry_fault == "late" else 12.0, count=1, path=path, method=method)
        case "reset":
            faults.reset_after_executing(1, path=path, method=method)
        case "lost":
            faults.lose_responses(1, path=path, method=method)
    for _ in range(5):  # the caller's retry: same client id every time
        try:
            await router.place_order(venue=case.venue, symbol=case.symbol, side=step.side, type=type_,
                                     quantity=qty, price=price, time_in_force=case.time_in_force,
                                     client_order_id=cid)
            return
        except (e.NotConnected, e.VenueUnavailable, e.RateLimited) as error:
            assert error.retryable or isinstance(error, e.NotConnected)
            if isinstance(error, e.OrderOutcomeUnknown):
                assert error.client_order_id == cid
                seen.unknown.add(cid)
            with trio.move_on_after(60):
                await router.wait_connected(case.venue)
        except (e.InsufficientFunds, e.InvalidOrder, e.DuplicateOrder):
            return


async def _cancel(router: RouterHandle, venue: Any, case: VenueCase, step: Cancel, seen: Observed) -> None:
    if not seen.placed:
        return
    cid = seen.placed.pop()
    if step.lost_answer:
        venue.faults.lose_responses(1, path=case.cancel[0], method=case.cancel[1])
    try:
        order = await router.cancel_order(case.venue, case.symbol, client_order_id=cid)
    except (e.OrderNotFound, e.NotConnected, e.VenueUnavailable, e.RateLimited):
        return  # finished already, never placed, or the venue is away: the final-state check covers it
    assert order.client_order_id == cid and order.status.is_terminal


def _inject(venue: Any, case: VenueCase, fault: Fault) -> None:
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
        case "slow":  # any request, a little longer than the client waits
            f.slow_responses(TIMEOUT + 1.0, count=fault.amount)
        case "late_order":  # executed after the client's timeout: 4 s (inside the signed window) to 12 s (past it)
            f.slow_responses(4.0 * fault.amount, count=1, path=case.place[0], method=case.place[1])
        case "reset_order":
            f.reset_after_executing(fault.amount, path=case.place[0], method=case.place[1])
        case "lose_cancel":
            f.lose_responses(fault.amount, path=case.cancel[0], method=case.cancel[1])


Step = Place | Fault | Wait | Cancel | Concurrent


async def run_schedule(case: VenueCase, schedule: list[Step], seed: int) -> None:
    from emulators import emulate

    factory = brokers.load_broker_factory(case.venue)
    async with emulate(case.venue, seed=seed, tick_interval=0.5, **case.emulator) as venue:
        creds = Credentials.from_strings(venue.api_key, venue.api_secret, venue.passphrase)
        options = case.options | ({"nonce_dir": VENUE_OPTIONS[case.venue]()} if case.venue in VENUE_OPTIONS else {})
        settings_ = BrokerSettings(venue=case.venue, rest_url=venue.rest_url, ws_url=venue.ws_url,
                                   credentials=creds, request_timeout=TIMEOUT, options=options,
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
                        await _place(router, venue, case, instrument, step, f"prop{n:04d}", seen)
                    case Cancel():
                        await _cancel(router, venue, case, step, seen)
                    case Concurrent(places=places, shared=shared):
                        async with trio.open_nursery() as callers:
                            for k, place in enumerate(places):
                                cid = f"prop{n:04d}" + ("" if shared and k < 2 else f"c{k}")
                                callers.start_soon(_place, router, venue, case, instrument, place, cid, seen)
                    case Fault(kind="refuse"):
                        venue.faults.refuse_connections(True)
                        await trio.sleep(3.0 * step.amount)
                        venue.faults.refuse_connections(False)
                    case Fault(kind="venue_cancels"):
                        # The venue closes our open orders while we are away: reconciliation must find out.
                        venue.faults.refuse_connections(True)
                        await trio.sleep(1.0)
                        venue.faults.venue_cancels_open_orders("demo")
                        await trio.sleep(2.0 * step.amount)
                        venue.faults.refuse_connections(False)
                    case Fault():
                        _inject(venue, case, step)
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
            final = {trade for trade, _, _ in fill_log(venue)}
            with trio.move_on_after(180):
                while not (final <= {fill.trade_id for fill in seen.fills}  # noqa: ASYNC110 - polls a list
                           and not _order_mismatches(venue, seen) and seen.unknown <= set(seen.orders)):
                    await trio.sleep(1)
            await trio.sleep(5)  # anything still in flight would show up as a duplicate now
            nursery.cancel_scope.cancel()
        check_invariants(case, venue, seen)


def fill_log(venue: Any) -> list[tuple[str, str, Decimal]]:
    """(trade id, order id, quantity) of every engine fill as the venue prints them: Bybit's ids are opaque
    strings, OKX's numbers of its own, Kraken's txids; an Alpaca fill is "<order id>:<the order's cumulative
    quantity>" (the engine order's client id is the Alpaca order id)."""
    dialect, log = venue.dialect, []
    cumulative: dict[str, Decimal] = defaultdict(Decimal)
    orders = getattr(dialect, "orders", None)
    for fill in venue.engine.fill_log:
        if hasattr(orders, "trade_txid"):  # Kraken's txids
            order = next(o for o in venue.engine.all_orders()
                         if o.symbol == fill.symbol and o.order_id == fill.order_id)
            log.append((orders.trade_txid(fill.symbol, fill.trade_id), orders.order_txid(order), fill.quantity))
        elif hasattr(dialect, "ord_id"):  # OKX
            from emulators.okx.render import trade_id

            order = next(o for o in venue.engine.all_orders()
                         if o.symbol == fill.symbol and o.order_id == fill.order_id)
            log.append((trade_id(fill.trade_id), dialect.ord_id(order), fill.quantity))
        elif hasattr(dialect, "exec_id"):
            order = next(o for o in venue.engine.all_orders()
                         if o.symbol == fill.symbol and o.order_id == fill.order_id)
            log.append((dialect.exec_id(fill.symbol, fill.trade_id), dialect.order_id(order), fill.quantity))
        elif hasattr(dialect, "by_client"):
            cumulative[fill.client_order_id] += Decimal(str(fill.quantity))
            amount = format(cumulative[fill.client_order_id].normalize(), "f")
            log.append((f"{fill.client_order_id}:{amount}", fill.client_order_id, fill.quantity))
        else:
            log.append((str(fill.trade_id), str(fill.order_id), fill.quantity))
    return log


# Alpaca's order statuses as the venue's final state, written from its docs ("Order Lifecycle"), not from the
# client's mapping: an order the run ends with is filled, canceled, or (never here: DAY orders inside a session)
# expired or rejected; a live one with a fill is partially filled.
ALPACA_FINAL = {"new": OrderStatus.NEW, "accepted": OrderStatus.PENDING_NEW, "partially_filled":
                OrderStatus.PARTIALLY_FILLED, "filled": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED,
                "expired": OrderStatus.EXPIRED, "rejected": OrderStatus.REJECTED}


def orders_at_venue(venue: Any) -> list[tuple[str, OrderStatus, Decimal]]:
    """(client order id, status, cumulative filled quantity) of every order the venue accepted (Alpaca's live in
    its dialect: the engine order's client id is the Alpaca order id)."""
    if hasattr(venue.dialect, "by_client"):
        return [(o.client_order_id, ALPACA_FINAL[o.status], o.filled_qty) for o in venue.dialect.orders.values()]
    return [(o.client_order_id, OrderStatus(o.status.lower()), o.filled) for o in venue.engine.all_orders()]


def check_invariants(case: VenueCase, venue: Any, seen: Observed) -> None:
    log = fill_log(venue)
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
    # no client order id placed twice
    per_client = Counter(cid for cid, _, _ in orders_at_venue(venue))
    assert not [c for c, n in per_client.items() if n > 1], "a client order id was placed twice"
    # the router's final state of every order is the venue's (orders closed while we were away included)
    assert not _order_mismatches(venue, seen), f"orders differ from the venue's: {_order_mismatches(venue, seen)}"
    # every "outcome unknown" told to a caller was resolved by an order event
    assert seen.unknown <= set(seen.orders), f"unknown outcomes never resolved: {seen.unknown - set(seen.orders)}"
    # backoff bounds
    for status in seen.statuses:
        if status.state is m.ConnectionState.RECONNECTING:
            assert status.next_delay is not None and 0 <= status.next_delay <= POLICY.ceiling(status.attempt)


def _order_mismatches(venue: Any, seen: Observed) -> list[tuple[str, str, str, Decimal, Decimal]]:
    """(client id, venue status, ours, venue filled, ours) of every order whose last event disagrees."""
    wrong = []
    for cid, status, filled in orders_at_venue(venue):
        ours = seen.orders.get(cid)
        if ours is None or ours.status is not status or ours.filled_quantity != filled:
            wrong.append((cid, status.value, ours.status.value if ours else "-", filled,
                          ours.filled_quantity if ours else Decimal(0)))
    return wrong


def _run(case: VenueCase, schedule: list[Step], seed: int) -> None:
    clock = trio.testing.MockClock(autojump_threshold=AUTOJUMP.get(case.venue, 0))
    trio.run(run_schedule, case, schedule, seed, clock=clock)


EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "25"))
KRAKEN_EXAMPLES = max(1, EXAMPLES * 2 // 5)
"""Kraken's nonce is taken in a worker thread, so its runs wait for real idleness before the virtual clock jumps
(`AUTOJUMP_THRESHOLD`): each example costs more wall time, and it runs fewer (10 of the default 25)."""


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@settings(max_examples=EXAMPLES)
@given(schedule=schedules, seed=st.integers(1, 1000))
def test_faults_never_lose_or_duplicate_fills(case: VenueCase, schedule: list[Step], seed: int) -> None:
    _run(case, schedule, seed)


@settings(max_examples=max(EXAMPLES // 4, 3))
@given(schedule=schedules, seed=st.integers(1, 1000))
def test_faults_never_lose_or_duplicate_alpaca_fills(schedule: list[Step], seed: int) -> None:
    _run(ALPACA, schedule, seed)


@pytest.mark.parametrize("case", KRAKEN_CASES, ids=lambda c: c.id)
@settings(max_examples=KRAKEN_EXAMPLES)
@given(schedule=schedules, seed=st.integers(1, 1000))
def test_faults_never_lose_or_duplicate_fills_kraken(case: VenueCase, schedule: list[Step], seed: int) -> None:
    _run(case, schedule, seed)


SOAK_EXAMPLES = int(os.environ.get("SOAK_EXAMPLES", "2000"))


@pytest.mark.soak
@pytest.mark.parametrize("case", [*CASES, ALPACA, *KRAKEN_CASES], ids=lambda c: c.id)
@settings(max_examples=SOAK_EXAMPLES)
@given(schedule=st.lists(steps, min_size=10, max_size=40), seed=st.integers(1, 10**6))
def test_soak_fault_schedules(case: VenueCase, schedule: list[Step], seed: int) -> None:
    _run(case, schedule, seed)
