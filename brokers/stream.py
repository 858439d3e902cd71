"""The websocket session: connect, open (auth + subscribe), heartbeat, watchdogs, and the public
socket that re-opens itself. The connection itself is `brokers.transport`'s.

`run_websocket` holds one connection until it fails, then raises `VenueUnavailable`; it never
reconnects by itself. The ``on_open`` step (auth, subscribe) runs on every new connection, so a
resubscription can never be forgotten. Two ways back after a failure (design §4):

- a private (or authenticated) socket raises out of the broker actor; the supervisor restarts the
  whole actor, so every new private connection is followed by reconciliation;
- a public (market-data) socket runs under `run_public_socket`, which re-opens it with the
  supervisor's jittered backoff, re-runs its ``on_open`` (resubscribe, reset books), and reports the
  drop and the recovery as `BrokerStatus` events (``market_data_degraded``) through
  `MarketDataHealth`, while orders and the private stream carry on. Its `Freshness` watches each
  subscribed (symbol, channel): one silent for longer than its channel allows counts as a drop.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import NoReturn

import attrs
import trio

from brokers.base import Emit, Subscription
from brokers.transport import (
    ConnectionClosed,
    ConnectionRejected,
    ConnectionTimeout,
    DisconnectionTimeout,
    HandshakeError,
    WebSocketConnection,
    open_websocket,
)
from protocol.actor import EmitMany, Outlet
from protocol.backoff import BackoffPolicy
from protocol.errors import BrokerError, ProtocolViolation, VenueUnavailable
from protocol.messages import BrokerStatus, ConnectionState, EventMsg, StreamChannel
from protocol.model import Candle, FundingRate, MarkPrice, OpenInterest, OrderBook, Ticker, Trade, utc_now

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
    freshness: Freshness | None = None,
    task_status: trio.TaskStatus[WebSocketConnection] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve one connection to ``url``: ``on_open`` first, then every message to ``on_message``.

    ``ping_interval``: a protocol ping (or ``app_ping`` for venues that want a JSON ping) that must be
    answered within ``pong_timeout``; ``stale_after``: no message at all for that long means the feed
    is dead even if pings pass (a stalled venue); ``freshness``: the same, per subscribed (symbol,
    channel), restarted when the connection opens.
    """
    where = url.split("?")[0]
    try:
        async with open_websocket(url, connect_timeout=10, disconnect_timeout=2,
                                  max_message_size=16 * 1024 * 1024) as ws:
            if on_open is not None:
                with trio.move_on_after(open_timeout) as opening:
                    await on_open(ws)
                if opening.cancelled_caught:
                    raise VenueUnavailable(f"websocket {where}: auth/subscribe not answered within "
                                           f"{open_timeout}s", venue=venue)
            ws.last_message_at = trio.current_time()
            async with trio.open_nursery() as nursery:
                if ping_interval is not None:
                    nursery.start_soon(_heartbeat, ws, ping_interval, pong_timeout, app_ping, venue)
                if stale_after is not None:
                    nursery.start_soon(_watchdog, ws, stale_after, venue, where)
                if freshness is not None:
                    freshness.restart()
                    nursery.start_soon(_freshness_watchdog, freshness, venue, where)
                task_status.started(ws)
                await pump(ws, on_message, freshness)
    except BaseExceptionGroup as group:
        # Failures from the heartbeat/watchdog/receive tasks arrive grouped by the nursery; callers
        # (and the supervisor's classification) get one plain typed error instead.
        raise _as_venue_error(group, where, venue) from group
    except (ConnectionClosed, HandshakeError, ConnectionRejected, ConnectionTimeout, DisconnectionTimeout,
            OSError) as error:
        raise _as_venue_error(error, where, venue) from error


async def pump(ws: WebSocketConnection, on_message: OnMessage, freshness: Freshness | None = None) -> NoReturn:
    """The receive loop: the messages of each read (a burst) to ``on_message`` one by one, in order;
    with ``freshness`` (a public socket), the events they produced then go on as one unit (see
    `Freshness.track`). Returns only by raising (`ConnectionClosed` when the connection ends)."""
    if freshness is None:
        while True:
            for message in await ws.get_messages():
                await on_message(message if isinstance(message, str) else message.decode())
    try:
        while True:
            burst = await ws.get_messages()
            freshness.collect()
            for message in burst:
                await on_message(message if isinstance(message, str) else message.decode())
            await freshness.flush()
    finally:
        freshness.abandon()  # a burst cut short by a failure: its market data goes with the connection


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


async def _watchdog(ws: WebSocketConnection, stale_after: float, venue: str, where: str) -> None:
    while True:
        quiet = trio.current_time() - ws.last_message_at
        if quiet >= stale_after:
            raise VenueUnavailable(f"websocket {where} silent for {quiet:.0f}s", venue=venue)
        await trio.sleep(stale_after - quiet)


def started_without_value(task_status: trio.TaskStatus[None]) -> trio.TaskStatus[WebSocketConnection]:
    """Adapt a broker stream's ``started()`` (no value) to `run_websocket`'s ``started(ws)``."""

    class _Adapter:
        def started(self, value: object = None) -> None:
            task_status.started()

    return _Adapter()  # type: ignore[return-value]


# ============================================================================== public sockets


CHANNEL_OF: dict[type[EventMsg], StreamChannel] = {
    Ticker: StreamChannel.TICKER, Trade: StreamChannel.TRADES, Candle: StreamChannel.CANDLES,
    OrderBook: StreamChannel.BOOK, FundingRate: StreamChannel.FUNDING, MarkPrice: StreamChannel.MARK_PRICE,
    OpenInterest: StreamChannel.OPEN_INTEREST,
}
"""The public channel each market-data event answers (how `Freshness` knows what arrived)."""


@attrs.define
class Freshness:
    """When each watched (symbol, channel) of one public socket last delivered an event.

    ``limits``: how long each channel may stay silent (None: never stale, e.g. trades, which a
    quiet market legitimately does not print). The socket's parser emits through `track`, so
    freshness is measured on what reaches the router, not on raw frames: a book that cannot be
    rebuilt goes stale like a silent one.
    """

    limits: Mapping[StreamChannel, float | None]
    # One per socket, tracking that socket's one emit (`track`).
    _last: dict[tuple[str, StreamChannel], float] = attrs.field(factory=dict)
    _burst: list[EventMsg] | None = None  # the events of the burst being read (while `pump` collects)
    _many: EmitMany | None = None  # where a burst goes (the tracked emit's `Outlet.many`)

    def watch(self, subscriptions: Iterable[Subscription]) -> None:
        """Start watching ``subscriptions`` (a new one gets its channel's full allowance)."""
        now = trio.current_time()
        for sub in subscriptions:
            if self.limits.get(sub.channel) is not None:
                self._last.setdefault((sub.symbol, sub.channel), now)

    def restart(self) -> None:
        """A new connection: every watched pair gets its full allowance again."""
        now = trio.current_time()
        for key in self._last:
            self._last[key] = now

    def seen(self, event: EventMsg) -> None:
        if not self._last:
            return  # nothing watched (trades only, say): the hot path stops here
        channel = CHANNEL_OF.get(type(event))
        if channel is not None:
            key = (event.symbol, channel)  # type: ignore[union-attr]  # every market event has a symbol
            if key in self._last:
                self._last[key] = trio.current_time()

    def track(self, emit: Emit) -> Emit:
        """``emit`` that also records what it delivers: the emit a public socket's parser uses.

        When ``emit`` takes bursts (an `Outlet`, as the broker actor's is), the events of the messages
        of one read are collected and handed over with one `Outlet.many` call after the last of them
        (`pump` marks the burst); anything emitted outside a burst (an open step's snapshot, say) goes
        straight on. Either way each event reaches ``emit`` in the order it was emitted."""
        if isinstance(emit, Outlet):
            self._many = emit.many

            async def tracked_burst(event: EventMsg) -> None:
                self.seen(event)
                burst = self._burst
                if burst is not None:
                    burst.append(event)
                else:
                    await emit.one(event)

            return tracked_burst

        async def tracked(event: EventMsg) -> None:
            self.seen(event)
            await emit(event)

        return tracked

    def collect(self) -> None:
        """A burst begins: what is tracked from now on waits for `flush` (if the emit takes bursts)."""
        if self._many is not None:
            self._burst = []

    async def flush(self) -> None:
        """A burst ends: its events go on together."""
        burst, self._burst = self._burst, None
        if burst and self._many is not None:
            await self._many(burst)

    def abandon(self) -> None:
        """The connection failed in the middle of a burst: stop collecting (its events are dropped)."""
        self._burst = None

    def overdue(self, now: float) -> tuple[str, StreamChannel, float] | None:
        """The first (symbol, channel, silence) past its limit, if any."""
        for (symbol, channel), last in self._last.items():
            limit = self.limits.get(channel)
            if limit is not None and now - last >= limit:
                return symbol, channel, now - last
        return None

    def next_deadline(self) -> float | None:
        deadlines = [last + limit for (_, channel), last in self._last.items()
                     if (limit := self.limits.get(channel)) is not None]
        return min(deadlines, default=None)


async def _freshness_watchdog(freshness: Freshness, venue: str, where: str) -> None:
    while True:
        now = trio.current_time()
        stale = freshness.overdue(now)
        if stale is not None:
            symbol, channel, quiet = stale
            raise VenueUnavailable(f"websocket {where}: no {channel} for {symbol} in {quiet:.1f}s", venue=venue)
        deadline = freshness.next_deadline()
        # Nothing watched yet: look again soon (a subscription may arrive at any time).
        await trio.sleep(max(deadline - now, 0.0) if deadline is not None else 1.0)


@attrs.define
class MarketDataHealth:
    """Which public sockets of one venue are down, reported as `BrokerStatus` events.

    The venue stays CONNECTED (orders and the private stream carry on); ``market_data_degraded`` says
    its prices may be stale: True from a drop until every public socket is open again.
    """

    venue: str
    emit: Emit
    down: dict[str, str] = attrs.field(factory=dict)  # socket name -> why

    async def dropped(self, socket: str, reason: str, attempt: int, delay: float) -> None:
        self.down[socket] = reason
        await self.emit(BrokerStatus(
            venue=self.venue, state=ConnectionState.CONNECTED, attempt=attempt, next_delay=delay,
            reason=f"market data {socket} dropped ({reason}); re-opening", market_data_degraded=True,
            timestamp=utc_now()))

    async def recovered(self, socket: str) -> None:
        if self.down.pop(socket, None) is None:
            return
        still = f"; still down: {', '.join(sorted(self.down))}" if self.down else ""
        await self.emit(BrokerStatus(
            venue=self.venue, state=ConnectionState.CONNECTED, reason=f"market data {socket} re-opened{still}",
            market_data_degraded=bool(self.down), timestamp=utc_now()))


@attrs.frozen
class Reopen:
    """How a public socket comes back: the backoff policy, its random draws, where status goes."""

    policy: BackoffPolicy
    rng: random.Random
    health: MarketDataHealth


async def run_public_socket(
    url: str | Callable[[], str],
    on_message: OnMessage,
    *,
    venue: str,
    name: str,
    reopen: Reopen,
    on_open: OnOpen | None = None,
    freshness: Freshness | None = None,
    ping_interval: float | None = 20.0,
    app_ping: Callable[[WebSocketConnection], Awaitable[None]] | None = None,
    stale_after: float | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Keep one public socket open for as long as the broker runs.

    The first connection is `run_websocket`'s: if it cannot open, the error goes to the caller (the
    actor has not connected yet). After ``task_status.started()`` every failure of the socket (closed,
    stalled, a channel gone stale, an unreadable frame) is reported through ``reopen.health`` and the
    socket opens again after the policy's jittered delay (the attempt count resets once a connection
    lived ``healthy_after`` seconds); ``url`` (re-evaluated each time when callable) and ``on_open``
    give each connection the subscriptions of that moment. Never raises for a socket failure after
    that; cancellation ends it.
    """
    started = False
    opened_at: float | None = None
    attempt = 0

    async def opened(ws: WebSocketConnection) -> None:
        nonlocal opened_at
        if on_open is not None:
            await on_open(ws)
        opened_at = trio.current_time()
        await reopen.health.recovered(name)

    class _FirstStart:
        def started(self, value: object = None) -> None:
            nonlocal started
            if not started:
                started = True
                task_status.started()

    while True:
        try:
            await run_websocket(url() if callable(url) else url, on_message, venue=venue, on_open=opened,
                                ping_interval=ping_interval, app_ping=app_ping, stale_after=stale_after,
                                freshness=freshness, task_status=_FirstStart())  # type: ignore[arg-type]
            reason = "closed"
        except (VenueUnavailable, ProtocolViolation, BaseExceptionGroup) as error:
            if not started or not _socket_failure(error):
                raise
            reason = _describe(error)
        if opened_at is not None and trio.current_time() - opened_at >= reopen.policy.healthy_after:
            attempt = 0
        opened_at = None
        attempt += 1
        delay = reopen.policy.delay(attempt, reopen.rng)
        log.warning("%s: public socket %s dropped (%s); re-opening in %.2fs", venue, name, reason, delay)
        await reopen.health.dropped(name, reason, attempt, delay)
        await trio.sleep(delay)


def _socket_failure(error: BaseException) -> bool:
    """A failure of the connection or its feed (re-open it), as opposed to a bug or a cancellation."""
    if isinstance(error, BaseExceptionGroup):
        return all(_socket_failure(inner) for inner in error.exceptions)
    return isinstance(error, (VenueUnavailable, ProtocolViolation))


def _describe(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in error.exceptions)
    return error.message if isinstance(error, BrokerError) else str(error)
