"""Router, supervisor and the shared broker actor loop, on a scripted in-memory venue."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal

import attrs
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from actors.handle import RouterHandle, open_router_with
from actors.risk import RiskEngine, RiskLimits
from actors.router import EventSubscriber
from actors.supervisor import BackoffPolicy
from brokers.base import BrokerState, Emit, Subscription, broker_actor, drop_unlisted_subscriptions
from protocol import errors as e
from protocol import messages as m
from protocol.model import (
    Fill,
    Instrument,
    MarketSession,
    MarketType,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Ticker,
    utc_now,
)
from tests.support.fake_broker import FakeBroker, FakeVenue

FAST = BackoffPolicy(base=0.5, cap=4.0, healthy_after=10.0)


@asynccontextmanager
async def running(market: FakeVenue, **kw: object) -> AsyncIterator[tuple[RouterHandle, BrokerState]]:
    state = BrokerState(venue="fake")
    actor = broker_actor(lambda: FakeBroker(market), state)
    async with open_router_with({"fake": actor}, policy=FAST, seed=7, **kw) as router:  # type: ignore[arg-type]
        yield router, state


async def next_of(events: EventSubscriber, kind: type) -> object:
    with trio.fail_after(30):
        while True:
            event = await events.get()
            if isinstance(event, kind):
                return event


# ------------------------------------------------------------------------------ supervisor policy


@given(st.integers(1, 200), st.floats(0.01, 5), st.floats(5, 120), st.integers(0, 2**32))
def test_backoff_delay_stays_within_full_jitter_bounds(attempt: int, base: float, cap: float, seed: int) -> None:
    policy = BackoffPolicy(base=base, cap=cap)
    delay = policy.delay(attempt, random.Random(seed))
    assert 0 <= delay <= min(cap, base * 2 ** min(attempt - 1, 62)) <= cap


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(base=10, cap=1)


# ------------------------------------------------------------------------------ router + actor


async def test_commands_get_their_own_replies(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with running(market) as (router, _):
        await router.wait_connected("fake")
        results: dict[int, Order] = {}

        async def place(i: int) -> None:
            results[i] = await router.place_order(venue="fake", symbol="BTC/USDT", side="buy",
                                                  quantity=Decimal(i), price=Decimal(100), client_order_id=f"c{i}")

        async with trio.open_nursery() as nursery:
            for i in range(1, 21):
                nursery.start_soon(place, i)
        assert {i: o.client_order_id for i, o in results.items()} == {i: f"c{i}" for i in range(1, 21)}
        assert all(o.quantity == Decimal(i) for i, o in results.items())


async def test_unknown_venue_and_disconnected_venue_fail_typed(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue(up=False)
    async with running(market) as (router, _):
        with pytest.raises(e.NotConnected, match="unknown venue"):
            await router.get_balances("nope")
        await trio.sleep(1)
        with pytest.raises(e.NotConnected) as info:
            await router.get_balances("fake")
        assert info.value.retryable


async def test_bad_credentials_stop_retrying(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue(reject_auth=True)
    async with running(market) as (router, _):
        with pytest.raises(e.NotConnected, match="stopped"):
            await router.wait_connected("fake")
        await trio.sleep(120)
        status = router.status("fake")
        assert status is not None and status.state is m.ConnectionState.STOPPED and status.permanent
        assert "AuthenticationError" in (status.reason or "")
        assert market.connects == 1


async def test_reconnects_with_bounded_backoff_and_reports_every_transition(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue(up=False)
    async with running(market) as (router, _), router.subscribe(kinds=["status"]) as events:
        statuses: list[m.BrokerStatus] = []
        with trio.move_on_after(60):
            while True:
                statuses.append(await events.get())  # type: ignore[arg-type]
        market.up = True
        with trio.fail_after(30):
            await router.wait_connected("fake")
        retries = [s for s in statuses if s.state is m.ConnectionState.RECONNECTING]
        assert len(retries) >= 5
        for s in retries:
            assert s.next_delay is not None and 0 <= s.next_delay <= FAST.ceiling(s.attempt)
        assert [s.attempt for s in retries[:4]] == [1, 2, 3, 4]
        assert router.status("fake").state is m.ConnectionState.CONNECTED  # type: ignore[union-attr]


@attrs.define
class ReportingBroker(FakeBroker):
    """A fake whose public stream reports the venue's own status (as real brokers do on a socket drop)."""

    reports: trio.MemoryReceiveChannel[m.BrokerStatus] | None = None

    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        assert self.reports is not None
        async for report in self.reports:
            await emit(report)
        await trio.sleep_forever()


async def test_status_a_connected_venue_reports_is_kept_without_changing_its_state(
        autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    reports_tx, reports_rx = trio.open_memory_channel[m.BrokerStatus](10)
    actor = broker_actor(lambda: ReportingBroker(market, reports=reports_rx), BrokerState(venue="fake"))

    def report(**fields: object) -> m.BrokerStatus:
        # The broker knows only that it is up; the router keeps the supervisor's word on the state.
        fields.setdefault("state", m.ConnectionState.CONNECTED)
        return m.BrokerStatus(venue="fake", timestamp=utc_now(), **fields)  # type: ignore[arg-type]

    reports_tx.send_nowait(report(unknown_symbols=["NOPE/USDT"], reason="unknown symbols: NOPE/USDT"))
    async with open_router_with({"fake": actor}, policy=FAST, seed=7) as router, \
            router.subscribe(kinds=["status"]) as events:
        with trio.fail_after(10):
            await router.wait_connected("fake")
        status = router.status("fake")
        assert status is not None and status.state is m.ConnectionState.CONNECTED
        assert status.unknown_symbols == ["NOPE/USDT"] and status.reason == "unknown symbols: NOPE/USDT"
        await reports_tx.send(report(state=m.ConnectionState.CONNECTING, market_data_degraded=True,
                                     unknown_symbols=["NOPE/USDT"]))
        with trio.fail_after(10):
            while not (await events.get()).market_data_degraded:  # type: ignore[union-attr]
                pass
        status = router.status("fake")
        assert status is not None and status.market_data_degraded and status.state is m.ConnectionState.CONNECTED
        assert router.router.venues["fake"].connected.is_set()
        assert (await router.get_balance("fake", "USDT")).free == 1000  # commands carry on
        await reports_tx.send(report(market_data_degraded=False, unknown_symbols=["NOPE/USDT"]))
        with trio.fail_after(10):
            while (await events.get()).market_data_degraded:  # type: ignore[union-attr]
                pass
        assert not router.status("fake").market_data_degraded  # type: ignore[union-attr]
        # A venue with trading hours reports its session; a later report about something else keeps it.
        change = utc_now() + timedelta(hours=2)
        await reports_tx.send(report(session=MarketSession.REGULAR, next_session_change=change))
        with trio.fail_after(10):
            while (await events.get()).session is None:  # type: ignore[union-attr]
                pass
        await reports_tx.send(report(unknown_symbols=["NOPE/USDT"], reason="unknown symbols: NOPE/USDT"))
        with trio.fail_after(10):
            while (await events.get()).reason != "unknown symbols: NOPE/USDT":  # type: ignore[union-attr]
                pass
        status = router.status("fake")
        assert status is not None and status.session is MarketSession.REGULAR and status.next_session_change == change


@attrs.define
class BuggyBroker(FakeBroker):
    """A client with a bug: at connect (every time), or once in its private stream."""

    at_connect: bool = False

    async def connect(self) -> None:
        await super().connect()
        if self.at_connect:
            raise TypeError("unsupported operand type(s) for +: 'Decimal' and 'float'")

    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        if self.market.connects == 1:
            task_status.started()
            await trio.sleep(60)
            raise KeyError("executionReport")  # a message it has never seen before
        await super().run_private_stream(emit, task_status=task_status)


async def test_a_programming_error_stops_the_venue_instead_of_restarting_it_forever(
        autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    actor = broker_actor(lambda: BuggyBroker(market, at_connect=True), BrokerState(venue="fake"))
    async with open_router_with({"fake": actor}, policy=FAST, seed=7) as router:
        with pytest.raises(e.NotConnected, match="stopped: programming error in the fake client, twice: "
                                                 "TypeError: unsupported operand"):
            await router.wait_connected("fake")
        await trio.sleep(300)
        status = router.status("fake")
        assert status is not None and status.permanent and market.connects == 2


async def test_a_one_off_programming_error_after_a_healthy_spell_costs_one_restart(
        autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    actor = broker_actor(lambda: BuggyBroker(market), BrokerState(venue="fake"))
    async with open_router_with({"fake": actor}, policy=FAST, seed=7) as router:
        await router.wait_connected("fake")
        await trio.sleep(120)
        status = router.status("fake")
        assert status is not None and status.state is m.ConnectionState.CONNECTED and market.connects == 2
        assert router.router.venues["fake"].stats.restarts == 1


async def test_in_flight_command_fails_typed_when_venue_dies(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with running(market) as (router, _):
        await router.wait_connected("fake")
        original = FakeBroker.get_balances

        async def hang(self: FakeBroker) -> object:
            await trio.sleep_forever()
            return await original(self)

        async def cut_later() -> None:
            await trio.sleep(1)
            market.cut_streams()

        FakeBroker.get_balances = hang  # type: ignore[method-assign]
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(cut_later)
                with pytest.raises(e.NotConnected, match="GetBalances"):
                    await router.get_balances("fake")
        finally:
            FakeBroker.get_balances = original  # type: ignore[method-assign]


async def test_fills_missed_while_down_arrive_exactly_once_after_reconnect(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with running(market) as (router, state), router.subscribe(kinds=["fill"]) as fills:
        await router.wait_connected("fake")
        order = await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity=Decimal(3),
                                         price=Decimal(100), client_order_id="resting")
        market.execute(order.client_order_id, Decimal(1))
        market.cut_streams()
        market.up = False
        market.execute(order.client_order_id, Decimal(1))  # happens while we are disconnected
        await trio.sleep(3)
        market.up = True
        await router.wait_connected("fake")
        market.execute(order.client_order_id, Decimal(1))
        received = [await next_of(fills, Fill) for _ in range(3)]
        await trio.sleep(5)
        assert fills.get_nowait() is None  # nothing more: no duplicates
        assert [f.trade_id for f in received] == [f.trade_id for f in market.fill_log]  # type: ignore[attr-defined]
        assert state.reconciliations >= 2


async def test_duplicated_and_reordered_stream_fills_are_repaired(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with running(market) as (router, _), router.subscribe(kinds=["fill"]) as fills:
        await router.wait_connected("fake")
        await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity=Decimal(3),
                                 price=Decimal(100), client_order_id="o1")
        streams = list(market.streams)
        market.streams.clear()  # hold the stream back, then deliver out of order and twice
        first = market.execute("o1", Decimal(1))
        second = market.execute("o1", Decimal(1))
        for event in (second, second, first, first):
            for s in streams:
                s.send_nowait(event)
        got = [await next_of(fills, Fill) for _ in range(2)]
        await trio.sleep(2)
        assert fills.get_nowait() is None
        assert [f.trade_id for f in got] == [first.trade_id, second.trade_id]  # type: ignore[attr-defined]


async def test_lost_placement_response_is_looked_up_not_resent(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue(lose_next_place_response=1)
    async with running(market) as (router, _):
        await router.wait_connected("fake")
        order = await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity=Decimal(1),
                                          price=Decimal(100), client_order_id="once")
        assert order.client_order_id == "once" and len(market.placed) == 1
        again = await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity=Decimal(1),
                                          price=Decimal(100), client_order_id="once")
        assert again.order_id == order.order_id and len(market.placed) == 1


# ------------------------------------------------------------------------------ fan-out policies


def tick(price: int, symbol: str = "BTC/USDT") -> Ticker:
    return Ticker(venue="fake", symbol=symbol, last=Decimal(price), timestamp=utc_now())


def test_slow_subscriber_loses_oldest_prices_but_never_fills() -> None:
    sub = EventSubscriber(venues=None, symbols=None, kinds=None, market_capacity=3, critical_capacity=10)
    fill = Fill(venue="fake", symbol="BTC/USDT", order_id="1", client_order_id="c", trade_id="1", side=Side.BUY,
                price=Decimal(1), quantity=Decimal(1), fee=Decimal(0), fee_currency="USDT", is_maker=True,
                timestamp=utc_now())
    sub.offer(tick(1), m.EventKind.TICKER)
    sub.offer(fill, m.EventKind.FILL)
    for p in range(2, 7):
        sub.offer(tick(p), m.EventKind.TICKER)
    out = []
    while (ev := sub.get_nowait()) is not None:
        out.append(ev)
    assert out[0] is fill  # the fill kept its place; ticks 1-3 were dropped
    assert [t.last for t in out[1:]] == [4, 5, 6]  # type: ignore[union-attr]
    assert sub.dropped == 3


async def test_overflowing_critical_buffer_closes_that_subscriber_with_an_error() -> None:
    sub = EventSubscriber(venues=None, symbols=None, kinds=None, market_capacity=3, critical_capacity=2)
    order = Order(venue="fake", symbol="BTC/USDT", order_id="1", client_order_id="c", side=Side.BUY,
                  type=OrderType.LIMIT, status=OrderStatus.NEW, quantity=Decimal(1), created_at=utc_now(),
                  updated_at=utc_now())
    for _ in range(3):
        sub.offer(order, m.EventKind.ORDER)
    assert await sub.get() is order and await sub.get() is order
    with pytest.raises(e.SubscriberOverflow):
        await sub.get()


def test_filters_by_venue_symbol_and_kind() -> None:
    sub = EventSubscriber(venues=frozenset({"fake"}), symbols=frozenset({"ETH/USDT"}),
                          kinds=frozenset({m.EventKind.TICKER}))
    assert not sub.wants(tick(1), m.EventKind.TICKER)
    assert sub.wants(tick(1, "ETH/USDT"), m.EventKind.TICKER)
    assert not sub.wants(tick(1, "ETH/USDT"), m.EventKind.TRADE)


# ------------------------------------------------------------------------------ risk


@pytest.mark.parametrize(
    ("limits", "kwargs", "rule"),
    [
        (RiskLimits(max_order_notional=Decimal(500)), {"quantity": "6", "price": "100"}, "max_order_notional"),
        (RiskLimits(max_order_notional=Decimal(500)), {"quantity": "6", "type": "market"}, "max_order_notional"),
        (RiskLimits(price_band_pct=Decimal(5)), {"quantity": "1", "price": "106"}, "price_band"),
        (RiskLimits(max_position=Decimal(2)), {"quantity": "3", "price": "100"}, "max_position"),
        (RiskLimits(max_position_per_symbol={"BTC/USDT": Decimal(1)}), {"quantity": "2", "price": "100"},
         "max_position"),
    ],
)
async def test_each_risk_rule_rejects_before_anything_is_sent(
        autojump_clock: trio.abc.Clock, limits: RiskLimits, kwargs: dict[str, str], rule: str) -> None:
    market = FakeVenue()
    async with running(market, risk=limits) as (router, _):
        await router.wait_connected("fake")
        with pytest.raises(e.RiskRejected) as info:
            await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", **kwargs)  # type: ignore[arg-type]
        assert info.value.rule == rule
        assert market.placed == []
        ok = await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="100")
        assert ok.status is OrderStatus.NEW and len(market.placed) == 1


async def test_kill_switch_cancels_open_orders_and_blocks_new_ones(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with running(market, risk=RiskLimits(max_leverage=Decimal(5))) as (router, _):
        await router.wait_connected("fake")
        await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="99")
        cancelled = await router.engage_kill_switch("test")
        assert [o.status for o in cancelled] == [OrderStatus.CANCELED]
        with pytest.raises(e.RiskRejected, match="kill switch"):
            await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="99")
        assert len(market.placed) == 1
        await router.release_kill_switch()
        await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="99")
        with pytest.raises(e.RiskRejected) as info:
            await router.set_leverage("fake", "BTC/USDT", 10)
        assert info.value.rule == "max_leverage"


async def test_notional_of_inverse_contracts_is_their_face_value() -> None:
    """A Bybit BTCUSD contract is worth 1 USD whatever BTC costs; linear/spot notional is qty x price."""
    common = {"venue": "v", "base": "BTC", "quote": "USD", "tick_size": Decimal("0.5"), "lot_size": Decimal(1)}
    inverse = Instrument(symbol="BTC/USD:BTC", venue_symbol="BTCUSD", market_type=MarketType.INVERSE, **common)
    linear = Instrument(symbol="BTC/USD:USD", venue_symbol="BTCUSD", market_type=MarketType.LINEAR, **common)
    assert inverse.notional(Decimal(300), Decimal(60000)) == 300
    assert linear.notional(Decimal(300), Decimal(60000)) == 18_000_000
    engine = RiskEngine(RiskLimits(max_order_notional=Decimal(500)))

    async def price(venue: str, symbol: str) -> Decimal:
        return Decimal(60000)

    async def position(venue: str, symbol: str) -> Position:
        raise AssertionError("no position rule configured")

    async def lookup(venue: str, symbol: str) -> Instrument:
        return inverse

    small = OrderRequest(venue="v", symbol="BTC/USD:BTC", side=Side.BUY, type=OrderType.MARKET, quantity=Decimal(300))
    assert await engine.check(small, price, position, lookup) is None
    big = OrderRequest(venue="v", symbol="BTC/USD:BTC", side=Side.BUY, type=OrderType.MARKET, quantity=Decimal(600))
    rejected = await engine.check(big, price, position, lookup)
    assert rejected is not None and rejected.rule == "max_order_notional"


def test_broker_state_stays_bounded_over_many_orders() -> None:
    """Per-order memory has caps: finished orders beyond 5,000 go, with their fill counts; placed ids age out."""
    state = BrokerState(venue="fake")
    for n in range(6_000):
        order = Order(venue="fake", symbol="BTC/USDT", order_id=str(n), client_order_id=f"c{n}", side=Side.BUY,
                      type=OrderType.LIMIT, status=OrderStatus.FILLED, quantity=Decimal(1), price=Decimal(1),
                      filled_quantity=Decimal(1), created_at=utc_now(), updated_at=utc_now())
        state.submitted.add(order.client_order_id)
        state.filled_from_fills[order.client_order_id] = Decimal(1)
        state.merge_order(order)
    assert len(state.orders) <= 5_000 and len(state.filled_from_fills) <= 5_000
    assert "c5999" in state.submitted and len(state.submitted) <= state.submitted.capacity


async def test_configured_subscriptions_the_venue_cannot_serve_are_removed_and_reported_once() -> None:
    ticker = Subscription("BTC/USDT", m.StreamChannel.TICKER)
    state = BrokerState(venue="fake", subscriptions={
        ticker, Subscription("NOPE/USDT", m.StreamChannel.TICKER), Subscription("BTC/USDT", m.StreamChannel.FUNDING)})
    broker = FakeBroker(FakeVenue())
    status = drop_unlisted_subscriptions(broker, state)
    assert status is not None and status.state is m.ConnectionState.CONNECTED
    assert status.unknown_symbols == ["NOPE/USDT"] and "funding" in (status.reason or "")
    assert state.subscriptions == {ticker}
    assert drop_unlisted_subscriptions(broker, state) is None  # said once: the next incarnation has nothing to say
