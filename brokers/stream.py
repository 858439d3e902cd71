"""The websocket session on trio-websocket: connect, open (auth + subscribe), heartbeat, watchdog.

`run_websocket` holds one connection until it fails, then raises `VenueUnavailable`; it never
reconnects by itself. Reconnection belongs to the supervisor, which restarts the whole broker actor
so that every new connection is followed by reconciliation. The ``on_open`` step (auth, subscribe)
runs on every new connection, so a resubscription can never be forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    ConnectionTimeout,
    DisconnectionTimeout,
    HandshakeError,
    WebSocketConnection,
    open_websocket_url,
)

from protocol.errors import VenueUnavailable

log = logging.getLogger(__name__)

OnOpen = Callable[[WebSocketConnection], Awaitable[None]]
OnMessage = Callable[[str], Awaitable[None]]


async def run_websocket(
    url: str,
    on_message: OnMessage,
    *,
    venue: str,
    on_open: OnOpen | None = None,
    ping_interval: float | None = 20.0,
    pong_timeout: float = 10.0,
    stale_after: float | None = None,
    open_timeout: float = 15.0,
    app_ping: Callable[[WebSocketConnection], Awaitable[None]] | None = None,
    task_status: trio.TaskStatus[WebSocketConnection] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve one connection to ``url``: ``on_open`` first, then every message to ``on_message``.

    ``ping_interval``: a protocol ping (or ``app_ping`` for venues that want a JSON ping) that must be
    answered within ``pong_timeout``; ``stale_after``: no message at all for that long means the feed
    is dead even if pings pass (a stalled venue).
    """
    where = url.split("?")[0]
    try:
        async with open_websocket_url(url, connect_timeout=10, disconnect_timeout=2,
                                      message_queue_size=4096, max_message_size=16 * 1024 * 1024) as ws:
            if on_open is not None:
                with trio.move_on_after(open_timeout) as opening:
                    await on_open(ws)
                if opening.cancelled_caught:
                    raise VenueUnavailable(f"websocket {where}: auth/subscribe not answered within "
                                           f"{open_timeout}s", venue=venue)
            last_message = [trio.current_time()]
            async with trio.open_nursery() as nursery:
                if ping_interval is not None:
                    nursery.start_soon(_heartbeat, ws, ping_interval, pong_timeout, app_ping, venue)
                if stale_after is not None:
                    nursery.start_soon(_watchdog, last_message, stale_after, venue, where)
                task_status.started(ws)
                while True:
                    message = await ws.get_message()
                    last_message[0] = trio.current_time()
                    await on_message(message if isinstance(message, str) else message.decode())
    except BaseExceptionGroup as group:
        # Failures from the heartbeat/watchdog/receive tasks arrive grouped by the nursery; callers
        # (and the supervisor's classification) get one plain typed error instead.
        raise _as_venue_error(group, where, venue) from group
    except (ConnectionClosed, HandshakeError, ConnectionRejected, ConnectionTimeout, DisconnectionTimeout,
            OSError) as error:
        raise _as_venue_error(error, where, venue) from error


def _as_venue_error(error: BaseException, where: str, venue: str) -> BaseException:
    if isinstance(error, BaseExceptionGroup):
        leaves = [_as_venue_error(inner, where, venue) for inner in error.exceptions]
        for leaf in leaves:
            if not isinstance(leaf, VenueUnavailable):
                return error  # something else (a bug, a cancellation, a permanent error): leave it whole
        return leaves[0]
    if isinstance(error, VenueUnavailable):
        return error
    if isinstance(error, ConnectionClosed):
        return VenueUnavailable(f"websocket {where} closed ({error.reason})", venue=venue)
    if isinstance(error, (HandshakeError, ConnectionRejected, ConnectionTimeout, DisconnectionTimeout, OSError)):
        return VenueUnavailable(f"websocket {where} failed: {type(error).__name__} {error}", venue=venue)
    return error


async def _heartbeat(ws: WebSocketConnection, interval: float, pong_within: float,
                     app_ping: Callable[[WebSocketConnection], Awaitable[None]] | None, venue: str) -> None:
    while True:
        await trio.sleep(interval)
        if app_ping is not None:
            await app_ping(ws)
            continue
        with trio.move_on_after(pong_within) as waited:
            await ws.ping()
        if waited.cancelled_caught:
            raise VenueUnavailable(f"no pong within {pong_within}s", venue=venue)


async def _watchdog(last_message: list[float], stale_after: float, venue: str, where: str) -> None:
    while True:
        quiet = trio.current_time() - last_message[0]
        if quiet >= stale_after:
            raise VenueUnavailable(f"websocket {where} silent for {quiet:.0f}s", venue=venue)
        await trio.sleep(stale_after - quiet)


def started_without_value(task_status: trio.TaskStatus[None]) -> trio.TaskStatus[WebSocketConnection]:
    """Adapt a broker stream's ``started()`` (no value) to `run_websocket`'s ``started(ws)``."""

    class _Adapter:
        def started(self, value: object = None) -> None:
            task_status.started()

    return _Adapter()  # type: ignore[return-value]
