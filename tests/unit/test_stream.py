"""brokers.stream against a loopback trio-websocket server: delivery in order, the open step re-run on
every connection, the staleness watchdog, and failures surfacing as VenueUnavailable."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trio
import trio.testing
from trio_websocket import WebSocketConnection, WebSocketRequest, serve_websocket

from brokers.stream import run_websocket
from protocol.errors import VenueUnavailable

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

    async def subscribe(ws: WebSocketConnection) -> None:
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

    async def on_open(ws: WebSocketConnection) -> None:
        await ws.send_message("hello")
        opened.append("sent")

    async def ignore(text: str) -> None:
        pass

    async with trio.open_nursery() as nursery:
        ws = await nursery.start(lambda task_status=trio.TASK_STATUS_IGNORED: run_websocket(
            url, ignore, venue="test", on_open=on_open, ping_interval=None, task_status=task_status))
        assert opened == ["sent"] and isinstance(ws, WebSocketConnection) and not ws.closed
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

    async def auth(ws: WebSocketConnection) -> None:
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
