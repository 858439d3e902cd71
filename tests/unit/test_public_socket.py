"""Public sockets re-open themselves (design §4 step 6): against a loopback trio-websocket server on the
virtual clock — a drop or a silent channel re-opens the socket with bounded backoff, re-runs the open
step, reports degraded / recovered market data once each; the first connection still fails its caller;
configured subscriptions the venue does not list are removed and reported once."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest
import trio
import trio.testing
from trio_websocket import WebSocketConnection, WebSocketRequest, serve_websocket

from brokers.base import BrokerState, Subscription, drop_unlisted_subscriptions
from brokers.stream import Freshness, MarketDataHealth, Reopen, run_public_socket
from protocol.backoff import BackoffPolicy
from protocol.errors import VenueUnavailable
from protocol.messages import BrokerStatus, ConnectionState, EventMsg, StreamChannel
from protocol.model import Ticker, utc_now
from tests.support.fake_broker import FakeBroker, FakeVenue

ServerHandler = Callable[[WebSocketConnection], Awaitable[None]]
POLICY = BackoffPolicy(base=0.5, cap=4.0, healthy_after=30.0)
BTC = Subscription("BTC/USDT", StreamChannel.TICKER)


@pytest.fixture
def clock() -> trio.testing.MockClock:
    # Virtual time, but only jumps after 50 ms of real idleness, so loopback I/O always lands first.
    return trio.testing.MockClock(autojump_threshold=0.05)


@pytest.fixture
async def server(clock: trio.testing.MockClock) -> AsyncIterator[Callable[[ServerHandler], Awaitable[str]]]:
    async with trio.open_nursery() as nursery:

        async def start(handler: ServerHandler) -> str:
            async def accept(request: WebSocketRequest) -> None:
                await handler(await request.accept())

            listener = await nursery.start(serve_websocket, accept, "127.0.0.1", 0, None)
            return f"ws://127.0.0.1:{listener.port}/public"

        yield start
        nursery.cancel_scope.cancel()


class Feed:
    """The client side: parses ``{"last": ...}`` into Tickers, records events and statuses."""

    def __init__(self, limits: dict[StreamChannel, float | None] | None = None) -> None:
        self.events: list[EventMsg] = []
        self.opens = 0
        self.freshness = Freshness(limits or {})
        self.freshness.watch([BTC])
        self.health = MarketDataHealth("test", self.record)
        self.emit = self.freshness.track(self.record)

    async def record(self, event: EventMsg) -> None:
        self.events.append(event)

    async def on_message(self, text: str) -> None:
        await self.emit(Ticker(venue="test", symbol=BTC.symbol, last=Decimal(json.loads(text)["last"]),
                               timestamp=utc_now()))

    async def on_open(self, ws: WebSocketConnection) -> None:
        self.opens += 1
        await ws.send_message('{"op":"subscribe"}')

    def statuses(self) -> list[BrokerStatus]:
        return [event for event in self.events if isinstance(event, BrokerStatus)]

    def tickers(self) -> list[Ticker]:
        return [event for event in self.events if isinstance(event, Ticker)]

    async def run(self, url: str, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await run_public_socket(url, self.on_message, venue="test", name="market",
                                reopen=Reopen(POLICY, random.Random(7), self.health), on_open=self.on_open,
                                freshness=self.freshness, ping_interval=None, task_status=task_status)


async def test_a_dropped_socket_reopens_resubscribes_and_reports_degraded_then_recovered(
        clock: trio.abc.Clock, server: Callable[[ServerHandler], Awaitable[str]]) -> None:
    connections = 0
    subscribed: list[str] = []

    async def venue(ws: WebSocketConnection) -> None:
        nonlocal connections
        connections += 1
        subscribed.append(str(await ws.get_message()))
        for n in range(3):
            await ws.send_message(json.dumps({"last": str(100 * connections + n)}))
        if connections < 3:
            await ws.aclose()  # the venue drops the first two connections
        else:
            await trio.sleep_forever()

    url = await server(venue)
    feed = Feed()
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run, url)
        with trio.fail_after(60):
            while len(feed.tickers()) < 9:  # noqa: ASYNC110 - polls a list
                await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
    assert feed.opens == 3 and subscribed == ['{"op":"subscribe"}'] * 3  # the open step re-ran every time
    assert [t.last for t in feed.tickers()] == [Decimal(p) for p in
                                                 ("100", "101", "102", "200", "201", "202", "300", "301", "302")]
    statuses = feed.statuses()
    assert [s.market_data_degraded for s in statuses] == [True, False, True, False]
    assert all(s.state is ConnectionState.CONNECTED for s in statuses)
    dropped = [s for s in statuses if s.market_data_degraded]
    assert [s.attempt for s in dropped] == [1, 2]  # short-lived connections do not reset the count
    assert all(s.next_delay is not None and 0 <= s.next_delay <= POLICY.ceiling(s.attempt) for s in dropped)


async def test_a_silent_channel_counts_as_a_drop(clock: trio.abc.Clock,
                                                 server: Callable[[ServerHandler], Awaitable[str]]) -> None:
    connections = 0

    async def venue(ws: WebSocketConnection) -> None:
        nonlocal connections
        connections += 1
        await ws.get_message()
        await ws.send_message('{"last": "1"}')
        if connections == 1:
            await trio.sleep_forever()  # the socket stays up (and would answer pings) but the ticker stops
        while True:
            await trio.sleep(0.5)
            await ws.send_message('{"last": "2"}')

    url = await server(venue)
    feed = Feed({StreamChannel.TICKER: 3.0})
    async with trio.open_nursery() as nursery:
        await nursery.start(feed.run, url)
        with trio.fail_after(30):
            while not any(t.last == 2 for t in feed.tickers()):  # noqa: ASYNC110 - polls a list
                await trio.sleep(0.1)
        stalled_at = trio.current_time()
        await trio.sleep(10)  # a live ticker keeps the socket open
        nursery.cancel_scope.cancel()
    [dropped, recovered] = feed.statuses()
    assert dropped.market_data_degraded and "no ticker for BTC/USDT" in (dropped.reason or "")
    assert not recovered.market_data_degraded and connections == 2 and stalled_at < 20


async def test_the_first_connection_still_fails_its_caller(clock: trio.abc.Clock) -> None:
    feed = Feed()
    with trio.socket.socket() as unused:
        await unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(VenueUnavailable):
        await feed.run(f"ws://127.0.0.1:{port}/public")
    assert feed.statuses() == []


async def test_a_bug_in_the_parser_is_not_mistaken_for_a_drop(
        clock: trio.abc.Clock, server: Callable[[ServerHandler], Awaitable[str]]) -> None:
    async def venue(ws: WebSocketConnection) -> None:
        await ws.get_message()
        await ws.send_message('{"not": "a ticker"}')
        await trio.sleep_forever()

    feed = Feed()
    with pytest.raises(BaseException) as raised:
        await feed.run(await server(venue))
    assert not isinstance(raised.value, VenueUnavailable) and "KeyError" in repr(raised.value)
    assert feed.statuses() == []


def test_freshness_watches_only_channels_with_a_limit() -> None:
    freshness = Freshness({StreamChannel.TICKER: 5.0, StreamChannel.TRADES: None})

    async def check() -> None:
        freshness.watch([BTC, Subscription("BTC/USDT", StreamChannel.TRADES)])
        assert freshness.next_deadline() == trio.current_time() + 5.0
        assert freshness.overdue(trio.current_time() + 4.9) is None
        assert freshness.overdue(trio.current_time() + 5.0) == ("BTC/USDT", StreamChannel.TICKER, 5.0)

    trio.run(check, clock=trio.testing.MockClock())


async def test_configured_subscriptions_the_venue_cannot_serve_are_removed_and_reported_once() -> None:
    broker = FakeBroker(FakeVenue())
    state = BrokerState(venue="fake", subscriptions={
        BTC, Subscription("NOPE/USDT", StreamChannel.TICKER), Subscription("BTC/USDT", StreamChannel.FUNDING)})
    status = drop_unlisted_subscriptions(broker, state)
    assert status is not None and status.unknown_symbols == ["NOPE/USDT"] and status.state is ConnectionState.CONNECTED
    assert "funding" in (status.reason or "") and state.subscriptions == {BTC}
    assert drop_unlisted_subscriptions(broker, state) is None  # said once: the next incarnation has nothing to say
