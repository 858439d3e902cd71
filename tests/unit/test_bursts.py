"""Bursts: the events of one socket read handed over as one unit (`protocol.actor.Outlet`), from the
transport's ``get_messages`` through `brokers.stream.pump` and `Freshness`, the `EventGate` and the
router's queue to a subscriber, which still takes them one by one, in arrival order (market data and
orders/fills interleaved as they came, the oldest market data dropped for a slow subscriber)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

from actors.handle import open_router_with
from actors.router import EventSubscriber, Router, VenueRuntime
from brokers.base import BrokerState, EventGate
from brokers.stream import Freshness, pump
from brokers.transport import ConnectionClosed, connect_stream
from protocol import messages as m
from protocol.actor import ActorLink, Outlet
from protocol.messages import EventMsg, StreamChannel
from protocol.model import (
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Side,
    Ticker,
    Trade,
    utc_now,
)

NOW = utc_now()


def trade(n: int, symbol: str = "BTC/USDT", venue: str = "fake") -> Trade:
    return Trade(venue=venue, symbol=symbol, trade_id=str(n), price=Decimal(100 + n), quantity=Decimal(1),
                 taker_side=Side.BUY, timestamp=NOW)


def ticker(n: int, symbol: str = "BTC/USDT") -> Ticker:
    return Ticker(venue="fake", symbol=symbol, last=Decimal(1000 + n), timestamp=NOW)


def fill(n: int) -> Fill:
    return Fill(venue="fake", symbol="BTC/USDT", order_id="1", client_order_id="c", trade_id=f"f{n}", side=Side.BUY,
                price=Decimal(1), quantity=Decimal(1), fee=Decimal(0), fee_currency="USDT", is_maker=True,
                timestamp=NOW)


def order(filled: int) -> Order:
    return Order(venue="fake", symbol="BTC/USDT", order_id="1", client_order_id="c", side=Side.BUY,
                 type=OrderType.LIMIT, status=OrderStatus.PARTIALLY_FILLED if filled < 10 else OrderStatus.FILLED,
                 quantity=Decimal(10), filled_quantity=Decimal(filled), created_at=NOW, updated_at=NOW)


# ------------------------------------------------------------------------------ the subscriber's order


@given(st.lists(st.one_of(st.tuples(st.just("market"), st.integers(1, 4)), st.just(("critical", 1))), max_size=40),
       st.integers(1, 6))
def test_a_subscriber_takes_bursts_and_single_events_in_arrival_order_and_drops_the_oldest_prices(
        steps: list[tuple[str, int]], capacity: int) -> None:
    """Against a model: every event in one arrival-ordered list, the oldest market data dropped past
    the capacity, critical events never."""
    sub = EventSubscriber(venues=None, symbols=None, kinds=None, market_capacity=capacity)
    model: list[EventMsg] = []
    serial = 0
    for what, size in steps:
        if what == "critical":
            serial += 1
            event: EventMsg = fill(serial)
            sub.offer(event, m.EventKind.FILL)
            model.append(event)
            continue
        burst: list[EventMsg] = []
        for _ in range(size):
            serial += 1
            burst.append(trade(serial))
        if size == 1:
            sub.offer(burst[0], m.EventKind.TRADE)
        else:
            sub.offer_market("fake", burst, [m.EventKind.TRADE] * size)
        for event in burst:
            model.append(event)
            market = [e for e in model if isinstance(e, Trade)]
            if len(market) > capacity:
                model.remove(market[0])
    taken = []
    while (event := sub.get_nowait()) is not None:
        taken.append(event)
    assert taken == model
    assert sub.dropped == serial - len(model)


def test_a_burst_is_filtered_like_single_events() -> None:
    sub = EventSubscriber(venues=frozenset({"fake"}), symbols=frozenset({"ETH/USDT"}),
                          kinds=frozenset({m.EventKind.TRADE}))
    burst: list[EventMsg] = [trade(1), trade(2, "ETH/USDT"), ticker(3, "ETH/USDT"), trade(4, "ETH/USDT")]
    sub.offer_market("fake", burst, [m.EVENT_KIND[type(e)] for e in burst])
    sub.offer_market("other", [trade(5, "ETH/USDT", venue="other")], [m.EventKind.TRADE])
    assert [sub.get_nowait(), sub.get_nowait(), sub.get_nowait()] == [burst[1], burst[3], None]


# ------------------------------------------------------------------------------ the gate


def recorders() -> tuple[list[object], Outlet]:
    calls: list[object] = []

    async def one(event: EventMsg) -> None:
        calls.append(event)

    async def many(events: list[EventMsg]) -> None:
        calls.append(list(events))

    return calls, Outlet(one, many)


async def test_the_gate_passes_runs_of_market_data_at_once_and_orders_and_fills_one_by_one() -> None:
    calls, out = recorders()
    gate = EventGate(BrokerState(venue="fake"), out.one, out_many=out.many)
    t1, t2, t3, t4 = trade(1), trade(2), trade(3), trade(4)
    await gate.from_stream_many([t1])  # held: reconciliation is running
    await gate.release()
    await gate.from_stream_many([t2, fill(1), order(1), fill(1), t3, order(1), t4])
    # a repeated fill and an order update that does not move forward are stopped, as one by one
    assert calls == [[t1], [t2], fill(1), order(1), [t3], [t4]]


async def test_without_a_burst_channel_the_gate_delivers_a_burst_event_by_event() -> None:
    calls, out = recorders()
    gate = EventGate(BrokerState(venue="fake"), out.one, hold=False)
    await gate.from_stream_many([trade(1), fill(1), trade(2)])
    assert calls == [trade(1), fill(1), trade(2)]


# ------------------------------------------------------------------------------ pump and Freshness


class ScriptedSocket:
    """`pump`'s view of a connection: bursts, then closed."""

    def __init__(self, bursts: list[list[str | bytes]]) -> None:
        self.bursts = bursts

    async def get_messages(self) -> list[str | bytes]:
        await trio.lowlevel.checkpoint()
        if not self.bursts:
            raise ConnectionClosed(None)  # type: ignore[arg-type]
        return self.bursts.pop(0)


async def test_pump_hands_each_reads_events_over_as_one_unit_and_the_rest_straight() -> None:
    calls, out = recorders()
    freshness = Freshness({StreamChannel.TRADES: None})
    emit = freshness.track(out)

    async def parse(text: str) -> None:
        for n in text.split(","):
            await emit(trade(int(n)))

    await emit(trade(0))  # outside a burst (an open step's snapshot, say): at once
    socket = ScriptedSocket([["1,2", "3"], [b"4"]])
    with pytest.raises(ConnectionClosed):
        await pump(socket, parse, freshness)  # type: ignore[arg-type]
    assert calls == [trade(0), [trade(1), trade(2), trade(3)], [trade(4)]]


async def test_a_burst_cut_short_by_a_failure_is_dropped_with_its_connection() -> None:
    calls, out = recorders()
    freshness = Freshness({StreamChannel.TRADES: None})
    emit = freshness.track(out)

    async def parse(text: str) -> None:
        if text == "bad":
            raise ValueError("unreadable")
        await emit(trade(int(text)))

    with pytest.raises(ValueError, match="unreadable"):
        await pump(ScriptedSocket([["1", "bad", "2"]]), parse, freshness)  # type: ignore[arg-type]
    await emit(trade(3))  # the next connection's open step: straight on, nothing stale before it
    assert calls == [trade(3)]


async def test_the_transport_returns_everything_one_read_brought() -> None:
    client_end, server_end = trio.testing.memory_stream_pair()
    server = WSConnection(ConnectionType.SERVER)

    async def serve() -> None:
        server.receive_data(await server_end.receive_some())
        assert any(isinstance(event, Request) for event in server.events())
        frames = server.send(AcceptConnection()) + b"".join(server.send(TextMessage(data=f"m{n}")) for n in range(3))
        await server_end.send_all(frames)  # the answer and three messages: one read on the client
        server.receive_data(await server_end.receive_some())
        assert any(isinstance(event, CloseConnection) for event in server.events())
        await server_end.send_all(server.send(CloseConnection(code=1000)))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        ws = await connect_stream(client_end, "ws://example.invalid/stream")
        assert await ws.get_messages() == ["m0", "m1", "m2"]
        await ws.aclose()


# ------------------------------------------------------------------------------ through the router


async def test_a_venue_burst_reaches_subscribers_in_order_and_sets_last_prices(
        autojump_clock: trio.abc.Clock) -> None:
    go = trio.Event()
    bursts: list[list[EventMsg]] = [
        [trade(1), ticker(2), trade(3, "ETH/USDT"), trade(4)],
        [trade(5), fill(1), trade(6)],  # not all market data: event by event, in order
    ]

    async def actor(link: ActorLink, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await go.wait()
        assert link.events_many is not None
        for burst in bursts:
            await link.events_many(list(burst))
        await trio.sleep_forever()

    async with open_router_with({"fake": actor}, seed=1) as router:  # type: ignore[dict-item]
        await router.wait_connected("fake")
        everything = router.router.subscribe(kinds=["trade", "ticker", "fill"])
        eth = router.router.subscribe(symbols=["ETH/USDT"], kinds=["trade", "ticker", "fill"])
        go.set()
        taken = [await everything.get() for _ in range(7)]
        assert taken == bursts[0] + bursts[1]
        assert await eth.get() == trade(3, "ETH/USDT") and eth.get_nowait() is None
        assert router.router.last_prices[("fake", "BTC/USDT")] == Decimal(106)
        assert router.router.last_prices[("fake", "ETH/USDT")] == Decimal(103)
        counted = router.router.events_by_kind
        assert (counted[m.EventKind.TRADE], counted[m.EventKind.TICKER], counted[m.EventKind.FILL]) == (5, 1, 1)


async def test_a_burst_is_fanned_out_in_place_only_when_nothing_is_queued_ahead_of_it() -> None:
    router = Router()
    events_tx, events_rx = trio.open_memory_channel[EventMsg | list[EventMsg]](10)
    venue = VenueRuntime(name="fake", actor=None)  # type: ignore[arg-type]  # no actor runs here
    emit = router._venue_events(venue, events_tx)
    emit_many = router._venue_bursts(venue, events_tx, emit)
    sub = router.subscribe(kinds=["trade", "order"])
    await emit_many([trade(1)])  # the fan-out task is not waiting yet: queued
    assert sub.get_nowait() is None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(router._fan_out, events_rx)
        await trio.testing.wait_all_tasks_blocked()
        assert sub.get_nowait() == trade(1)
        await emit(order(1))  # handed to the waiting fan-out task, not routed yet
        await emit_many([trade(2)])  # must not overtake it
        await trio.testing.wait_all_tasks_blocked()
        assert [sub.get_nowait(), sub.get_nowait()] == [order(1), trade(2)]
        await emit_many([trade(3)])  # nothing ahead: reaches the subscriber before any task switch
        assert sub.get_nowait() == trade(3)
        nursery.cancel_scope.cancel()
