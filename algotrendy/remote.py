"""A strategy in another process: ``async with algotrendy.connect(url, token) as api:``.

`RemoteClient` is a `TradingAPI`, like the embedded `RouterHandle`: the same typed calls, the same
subscriptions, the same errors; commands travel over the daemon's control API (design §10). So a
strategy written against one runs against the other by changing the line that opens it.

It keeps itself connected. When the connection drops, calls waiting for an answer get a typed
`NotConnected` (retryable; an order retried with the same client order id is looked up, never sent
twice), new calls wait for the connection to come back (up to ``request_timeout``), and every open
subscription is re-established under its own id as soon as the daemon answers again. Events the
daemon published while the connection was down are not replayed: a strategy that must account for
every fill re-reads them (`get_fills`, or the daemon's journal) after a reconnect, which it can see
with `reconnects`.

The first connection is made before ``connect`` returns; if it fails, ``connect`` raises (a wrong
URL or token should not look like a daemon that is merely restarting).
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import ssl
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import msgspec
import trio
from trio_websocket import ConnectionClosed, HandshakeError, WebSocketConnection, open_websocket_url

from actors.config import ControlConfig, state_dir
from actors.handle import EventStream, TradingAPI
from actors.router import EventSubscriber, unwrap
from protocol import messages as m
from protocol.errors import AuthenticationError, BrokerError, NotConnected, error_from_info
from protocol.model import Order

log = logging.getLogger(__name__)

DEFAULT_URL = "ws://127.0.0.1:8765/"


def default_url() -> str:
    return os.environ.get("ALGOTRENDY_URL", DEFAULT_URL)


def default_token(url: str) -> str:
    """$ALGOTRENDY_CONTROL_TOKEN, else the token file a daemon on ``url``'s port wrote (this machine)."""
    token = os.environ.get(ControlConfig().token_env)
    if token:
        return token
    port = urlsplit(url).port or 8765
    path = state_dir() / f"control-{port}.token"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise AuthenticationError(f"no control token: set ${ControlConfig().token_env} or start the daemon "
                                  f"(it writes {path})", retryable=False) from None


@attrs.define(eq=False)
class _Watch:
    id: str
    watch: m.Watch
    events: EventSubscriber


@attrs.define(eq=False)
class RemoteClient(TradingAPI):
    """The typed API over a daemon's control API; build it with `connect`."""

    url: str
    token: str | None  # None: read the daemon's token file at every (re)connect (a restart writes a new one)
    ssl_context: ssl.SSLContext | None = None
    request_timeout: float = 35.0  # the router answers within 30 s (its own command timeout)
    reconnects: int = 0
    kill_switch: str | None = None  # as the daemon last said
    _ws: WebSocketConnection | None = None
    _up: trio.Event = attrs.field(factory=trio.Event)
    _started: bool = False
    _venues: list[str] = attrs.field(factory=list)
    _statuses: dict[str, m.BrokerStatus] = attrs.field(factory=dict)
    _status_changed: trio.Event = attrs.field(factory=trio.Event)
    _pending: dict[str, tuple[trio.Event, list[Any]]] = attrs.field(factory=dict)
    _watches: dict[str, _Watch] = attrs.field(factory=dict)
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _rng: random.Random = attrs.field(factory=random.Random)

    # ------------------------------------------------------------------ TradingAPI transport
    def _next_id(self) -> str:
        return f"c{next(self._ids)}"

    async def request(self, command: m.CommandMsg) -> m.ReplyMsg:
        reply = await self._exchange(command.id, command)
        if isinstance(reply, m.ErrorReply | m.Reply):
            return reply  # type: ignore[return-value]
        raise BrokerError(f"unexpected answer {type(reply).__name__} to {type(command).__name__}")

    async def _exchange(self, request_id: str, message: msgspec.Struct) -> object:
        """Send ``message`` and wait for the answer carrying ``request_id``; ErrorReply when cut off."""
        with trio.move_on_after(self.request_timeout) as waited:
            await self._up.wait()
            done = trio.Event()
            slot: list[Any] = []
            self._pending[request_id] = (done, slot)
            try:
                ws = self._ws
                if ws is None:
                    return _not_connected(request_id, "the connection to the daemon dropped")
                try:
                    await ws.send_message(m.encode(message).decode())
                except ConnectionClosed:
                    return _not_connected(request_id, "the connection to the daemon dropped while sending")
                await done.wait()
                return slot[0]
            finally:
                self._pending.pop(request_id, None)
        assert waited.cancelled_caught
        return _not_connected(request_id, f"no answer from the daemon at {self.url} within {self.request_timeout}s")

    # ------------------------------------------------------------------ venues
    @property
    def connected(self) -> bool:
        """Whether the connection to the daemon is up right now."""
        return self._ws is not None

    async def wait_changed(self) -> None:
        """Until the connection to the daemon, or a venue's status, changes."""
        await self._status_changed.wait()

    def venues(self) -> list[str]:
        return list(self._venues)

    def status(self, venue: str) -> m.BrokerStatus | None:
        return self._statuses.get(venue)

    async def wait_connected(self, venue: str) -> None:
        while True:
            status = self._statuses.get(venue)
            if self._ws is not None and status is not None:
                if status.state is m.ConnectionState.CONNECTED:
                    return
                if status.state is m.ConnectionState.STOPPED:
                    raise NotConnected(f"{venue} stopped: {status.reason}", venue=venue, retryable=False)
            if self._venues and venue not in self._venues:
                raise NotConnected(f"unknown venue {venue!r}", venue=venue, retryable=False)
            await self._status_changed.wait()

    # ------------------------------------------------------------------ kill switch, daemon
    async def engage_kill_switch(self, reason: str = "manual") -> list[Order]:
        rid = self._next_id()
        reply = await self._exchange(rid, m.KillSwitch(id=rid, engage=True, reason=reason))
        return unwrap(reply, m.OrdersReply, "KillSwitch").orders

    async def release_kill_switch(self) -> None:
        rid = self._next_id()
        unwrap(await self._exchange(rid, m.KillSwitch(id=rid, engage=False)), m.AckReply, "KillSwitch")

    async def daemon_status(self) -> m.DaemonStatusReply:
        rid = self._next_id()
        return unwrap(await self._exchange(rid, m.GetDaemonStatus(id=rid)), m.DaemonStatusReply, "GetDaemonStatus")

    # ------------------------------------------------------------------ events
    @asynccontextmanager
    async def subscribe(self, *, venues: Iterable[str] | None = None, symbols: Iterable[str] | None = None,
                        kinds: Iterable[m.EventKind | str] | None = None, market_capacity: int = 1024,
                        critical_capacity: int = 100_000) -> AsyncIterator[EventStream]:
        """Filters as for the embedded router; the daemon filters, this end buffers (same policy)."""
        watch = m.Watch(id=f"w{next(self._ids)}", venues=list(venues) if venues is not None else None,
                        symbols=list(symbols) if symbols is not None else None,
                        kinds=[m.EventKind(k) for k in kinds] if kinds is not None else None)
        assert watch.id is not None
        entry = _Watch(watch.id, watch, EventSubscriber(venues=None, symbols=None, kinds=None,
                                                        market_capacity=market_capacity,
                                                        critical_capacity=critical_capacity))
        self._watches[watch.id] = entry
        try:
            reply = await self._exchange(watch.id, watch)  # answered by the ack: events flow from here on
            if isinstance(reply, m.ErrorReply):
                raise error_from_info(reply.error)
            yield entry.events
        finally:
            self._watches.pop(watch.id, None)
            entry.events.close()
            ws = self._ws
            if ws is not None:
                with trio.move_on_after(5):
                    try:
                        await ws.send_message(m.encode(m.Unwatch(id=watch.id)).decode())
                    except ConnectionClosed:
                        pass

    # ------------------------------------------------------------------ the connection
    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Stay connected until cancelled; ``task_status.started()`` once the first session is up.

        The first failure raises (`NotConnected`, `AuthenticationError`); later ones are retried with
        jittered backoff (a restarting daemon writes its new token file a moment after it listens)."""
        attempt = 0
        first = True
        while True:
            failure: BaseException | None = None
            try:
                async with open_websocket_url(self.url, ssl_context=self.ssl_context, connect_timeout=10) as ws:
                    failure = await self._session(ws, first, task_status)
            except* (OSError, ConnectionClosed, HandshakeError, trio.BrokenResourceError) as group:
                failure = group.exceptions[0]
            finally:
                self._down()
            if first and self._ws is None and not self._started:
                if isinstance(failure, AuthenticationError):
                    raise failure
                raise NotConnected(f"cannot reach the daemon at {self.url}: {_describe(failure)}", retryable=True)
            first = False
            log.warning("connection to the daemon lost (%s); reconnecting", _describe(failure))
            attempt += 1
            await trio.sleep(self._rng.uniform(0, min(5.0, 0.1 * 2 ** min(attempt, 10))))

    async def _session(self, ws: WebSocketConnection, first: bool,
                       task_status: trio.TaskStatus[None]) -> BaseException:
        """One connection's life; returns what ended it (errors stay inside the websocket's nursery)."""
        try:
            await self._open(ws)
            if first:
                self._started = True
                task_status.started()
            else:
                self.reconnects += 1
            await self._receive(ws)
        except (ConnectionClosed, AuthenticationError, NotConnected, trio.BrokenResourceError) as error:
            return error
        raise AssertionError("the receive loop only ends by an error")

    async def _open(self, ws: WebSocketConnection) -> None:
        await ws.send_message(m.encode(m.Hello(token=self.token or default_token(self.url))).decode())
        try:
            welcome = m.decode_control_reply(await ws.get_message())
        except ConnectionClosed as closed:
            if closed.reason is not None and closed.reason.code == 4401:
                raise AuthenticationError(f"the daemon at {self.url} refused the token", retryable=False) from None
            raise
        if not isinstance(welcome, m.Welcome):
            raise NotConnected(f"{self.url} did not welcome us: {welcome!r}", retryable=False)
        self._venues = list(welcome.venues)
        self._statuses = {s.venue: s for s in welcome.statuses}
        self.kill_switch = welcome.kill_switch
        await ws.send_message(m.encode(m.Watch(id="status", kinds=[m.EventKind.STATUS])).decode())
        for entry in list(self._watches.values()):  # resume every subscription under its id
            await ws.send_message(m.encode(entry.watch).decode())
        self._ws = ws
        self._up.set()
        self._signal_status()

    async def _receive(self, ws: WebSocketConnection) -> None:
        while True:
            raw = await ws.get_message()
            try:
                message = m.decode_control_reply(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                log.warning("ignoring a message from the daemon that does not decode: %s", error)
                continue
            self._dispatch(message)

    def _dispatch(self, message: m.ControlReplyMsg) -> None:
        match message:
            case m.WatchEvent(watch="status", event=m.BrokerStatus() as status):
                self._statuses[status.venue] = status
                self._signal_status()
            case m.WatchEvent(watch=watch_id, event=event):
                entry = self._watches.get(watch_id)
                if entry is not None:
                    entry.events.offer(event, m.EVENT_KIND[type(event)])
            case m.ErrorReply(id=rid) if rid in self._watches and rid not in self._pending:
                self._watches[rid].events.close(error_from_info(message.error))  # e.g. it fell behind
            case m.Welcome():
                pass
            case _ if isinstance(message, m.Reply | m.DaemonStatusReply):
                waiting = self._pending.get(message.id)
                if waiting is not None and not waiting[0].is_set():
                    waiting[1].append(message)
                    waiting[0].set()

    def _down(self) -> None:
        self._ws = None
        if self._up.is_set():
            self._up = trio.Event()
        for request_id, (done, slot) in list(self._pending.items()):
            if not done.is_set():
                slot.append(_not_connected(request_id, "the connection to the daemon dropped; it may have "
                                                       "acted on the request (retry with the same client order id)"))
                done.set()
        self._signal_status()

    def _signal_status(self) -> None:
        self._status_changed.set()
        self._status_changed = trio.Event()


def _not_connected(request_id: str, why: str) -> m.ErrorReply:
    return m.ErrorReply(id=request_id, error=NotConnected(why, retryable=True).to_info())


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@asynccontextmanager
async def connect(url: str | None = None, token: str | None = None, *, ca_file: str | Path | None = None,
                  request_timeout: float = 35.0) -> AsyncIterator[RemoteClient]:
    """``async with connect() as api:`` — a running daemon's API, the same as `open_router`'s.

    ``url`` defaults to $ALGOTRENDY_URL or ws://127.0.0.1:8765/; ``token`` to
    $ALGOTRENDY_CONTROL_TOKEN or the daemon's token file on this machine. ``ca_file`` trusts a
    daemon's own certificate for ``wss://``.
    """
    url = url or default_url()
    context = None
    if url.startswith("wss://"):
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if token is None:
        default_token(url)  # no token anywhere: say so now
    client = RemoteClient(url, token, context, request_timeout)
    failure: BrokerError | None = None
    async with trio.open_nursery() as nursery:
        try:
            await nursery.start(client.run)
        except BrokerError as error:
            failure = error  # raised below, outside the nursery: the caller sees the error itself
        else:
            try:
                yield client
            finally:
                nursery.cancel_scope.cancel()
    if failure is not None:
        raise failure
