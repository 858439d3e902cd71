"""brokers.stream (on brokers.transport) against a loopback trio-websocket server: delivery in order, the open step re-run on
every connection, the staleness watchdog, and failures surfacing as VenueUnavailable; public sockets
that re-open themselves (design §4 step 6) — a drop or a silent channel re-opens the socket with
bounded backoff, re-runs the open step and reports degraded / recovered market data once each, while
the first connection still fails its caller."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest
import trio
import trio.testing
from trio_websocket import WebSocketConnection, WebSocketRequest, serve_websocket

from brokers.base import Subscription
from brokers.stream import Freshness, MarketDataHealth, Reopen, run_public_socket, run_websocket
from brokers.transport import WebSocketConnection as ClientConnection
from protocol.backoff import BackoffPolicy
from protocol.errors import VenueUnavailable
from protocol.messages import BrokerStatus, ConnectionState, EventMsg, StreamChannel
from protocol.model import Ticker, utc_now

ServerHandler = Callable[[WebSocketConnection], Awaitable[None]]


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
            return f"ws://127.0.0.1:{listener.port}/stream"

        yield start
        nursery.cancel_scope.cancel()


def leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


async def test_messages_arrive_in_order_and_the_open_step_runs_on_every_connection(
        clock: trio.abc.Clock, server: Callable[[ServerHandler], Awaitable[str]]) -> None:
    subscriptions: list[str] = []

    async def venue(ws: WebSocketConnection) -> None:
        subscriptions.append(str(await ws.get_message()))
        for n in range(5):
            await ws.send_message(f'{{"n":{n}}}')
        await ws.aclose()

    url = await server(venue)
    received: list[str] = []

    async def on_message(text: str) -> None:
        received.append(text)

    async def subscribe(ws: ClientConnection) -> None:
        await ws.send_message('{"method":"SUBSCRIBE"}')

    for _ in range(2):  # two connections, as two incarnations of a broker actor would make
        with pytest.raises(BaseException) as ended:
            await run_websocket(url, on_message, venue="test", on_open=subscribe, ping_interval=None)
        assert any(isinstance(leaf, VenueUnavailable) or "Closed" in type(leaf).__name__
                   for leaf in leaves(ended.value))
    assert subscriptions == ['{"method":"SUBSCRIBE"}'] * 2
    assert received == [f'{{"n":{n}}}' for n in range(5)] * 2


async def test_started_hands_over_the_connection_after_the_open_step(
        clock: trio.abc.Clock, server: Callable[[ServerHandler], Awaitable[str]]) -> None:
    async def venue(ws: WebSocketConnection) -> None:
        await ws.get_message()
        await ws.send_message("ready")
        await trio.sleep_forever()

    url = await server(venue)
    opened: list[str] = []

    async def on_open(ws: ClientConnection) -> None:
        await ws.send_message("hello")
        opened.append("sent")

    async def ignore(text: str) -> None:
        pass

    async with trio.open_nursery() as nursery:
        ws = await nursery.start(lambda task_status=trio.TASK_STATUS_IGNORED: run_websocket(
            url, ignore, venue="test", on_open=on_open, ping_interval=None, task_status=task_status))
        assert opened == ["sent"] and isinstance(ws, ClientConnection) and not ws.closed
        nursery.cancel_scope.cancel()


async def test_a_silent_feed_trips_the_watchdog(clock: trio.abc.Clock,
                                                server: Callable[[ServerHandler], Awaitable[str]]) -> None:
    async def venue(ws: WebSocketConnection) -> None:
        await ws.send_message("one")
        await trio.sleep_forever()  # stalled venue: the socket stays up, nothing more arrives

    url = await server(venue)
    received: list[str] = []

    async def on_message(text: str) -> None:
        received.append(text)

    start = trio.current_time()
    with pytest.raises(BaseException) as stalled:
        await run_websocket(url, on_message, venue="test", ping_interval=None, stale_after=30)
    found = leaves(stalled.value)
    assert len(found) == 1 and isinstance(found[0], VenueUnavailable) and "silent" in str(found[0])
    assert found[0].retryable and received == ["one"]
    assert trio.current_time() - start >= 30


async def test_a_silent_feed_raises_bare_venue_unavailable(
        clock: trio.abc.Clock, server: Callable[[ServerHandler], Awaitable[str]]) -> None:
    async def venue(ws: WebSocketConnection) -> None:
        await trio.sleep_forever()

    url = await server(venue)

    async def ignore(text: str) -> None:
        pass

    with pytest.raises(VenueUnavailable):
        await run_websocket(url, ignore, venue="test", ping_interval=None, stale_after=30)


async def test_a_venue_closing_the_socket_raises_venue_unavailable(
        clock: trio.abc.Clock, server: Callable[[ServerHandler], Awaitable[str]]) -> None:
    async def venue(ws: WebSocketConnection) -> None:
        await ws.aclose(code=1001, reason="going away")

    url = await server(venue)

    async def ignore(text: str) -> None:
        pass

    with pytest.raises(VenueUnavailable):
        await run_websocket(url, ignore, venue="test", ping_interval=None)


async def test_a_hanging_open_step_is_bounded(clock: trio.abc.Clock,
                                             server: Callable[[ServerHandler], Awaitable[str]]) -> None:
    async def venue(ws: WebSocketConnection) -> None:
        await trio.sleep_forever()  # never answers the auth request

    url = await server(venue)

    async def auth(ws: ClientConnection) -> None:
        await ws.send_message('{"op":"auth"}')
        await ws.get_message()

    async def ignore(text: str) -> None:
        pass

    with trio.fail_after(3600):
        with pytest.raises(VenueUnavailable):
            await run_websocket(url, ignore, venue="test", on_open=auth, ping_interval=None, stale_after=30)


async def test_a_refused_connection_is_venue_unavailable(clock: trio.abc.Clock) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def ignore(text: str) -> None:
        pass

    with pytest.raises(VenueUnavailable) as refused:
        await run_websocket(f"ws://127.0.0.1:{port}/stream?streams=secret", ignore, venue="test")
    assert refused.value.retryable and "secret" not in str(refused.value)


# ------------------------------------------------------------------------------ public sockets

POLICY = BackoffPolicy(base=0.5, cap=4.0, healthy_after=30.0)
BTC = Subscription("BTC/USDT", StreamChannel.TICKER)


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

    async def on_open(self, ws: ClientConnection) -> None:
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
