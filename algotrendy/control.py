"""The daemon's control API: a websocket speaking the protocol messages as JSON (design §10).

A client sends ``Hello{token}`` first, then venue commands (each answered by its id), watches (event
streams), and the daemon-level requests of `protocol.messages` (kill switch, daemon status).

No client can break the daemon. Everything one connection does runs inside that connection's
session, and a session ends on its own: the client closing (any way), a frame over
``max_message_bytes`` (trio-websocket closes with 1009), a client that does not take a message within
``send_timeout`` (never reading, or reading too slowly), or an error in the session's machinery: all
are caught with ``except*`` (a child task's failure arrives as an ExceptionGroup) at the session's
edge and logged. A command whose handling raises (a daemon bug) is answered with a typed error under
its id and the session goes on; so is anything that does not decode, under the request's id
whenever one can be read. ``max_connections`` caps connections (503 beyond it). A second guard wraps
each TCP connection, so even a failure inside the websocket library ends that connection only.

The token is the environment variable named in the config, or a random one written to a token file
per daemon (``control-<port>.token`` in the state directory, or ``[control] token_file``): created
0600 and moved into place atomically, locked while the daemon lives, removed on exit. The port is
bound before the file is written and a live daemon's locked file is never replaced, so a second
daemon on the same port fails with one line and leaves the first's token alone. Binding anywhere but
loopback needs TLS (``tls_cert``/``tls_key``): the token must not cross a network in clear.
"""

from __future__ import annotations

import errno
import fcntl
import hmac
import itertools
import logging
import os
import secrets
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime
from functools import partial
from pathlib import Path

import attrs
import msgspec
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, WebSocketRequest, WebSocketServer

from actors.config import ControlConfig, is_loopback
from actors.handle import RouterHandle
from actors.router import EventSubscriber
from protocol import messages as m
from protocol.errors import BrokerError, NotConnected, ProtocolViolation, SubscriberOverflow
from protocol.model import utc_now

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 10.0  # seconds a connection may take to say Hello
MAX_IN_FLIGHT = 64  # commands one session may have outstanding; the next waits (back-pressure)

Note = Callable[[str], None]
_connection_scope: ContextVar[trio.CancelScope] = ContextVar("control_connection_scope")
Listener = trio.SocketListener | trio.SSLListener[trio.SocketStream]


class ControlStartError(Exception):
    """The control API cannot start (port taken, token file held, TLS files unreadable): one line."""


class SlowClient(Exception):
    """The client did not take a message within the send timeout."""


# ============================================================================ token file


@attrs.define(eq=False)
class TokenFile:
    """The token a local client reads, held (flock) by the daemon that wrote it."""

    path: Path
    token: str
    _fd: int | None = None

    @classmethod
    def claim(cls, path: Path, token: str) -> TokenFile:
        """Write ``token`` to ``path`` (0600, atomically) unless a live daemon holds it."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.exists():
            try:
                probe = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                probe = None  # its daemon just removed it
            if probe is not None:
                try:
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise ControlStartError(f"token file {path} belongs to a running daemon; "
                                            "set [control] token_file or port to run another") from None
                finally:
                    os.close(probe)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # 0600 from the start
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, token.encode())
            os.fsync(fd)
            os.replace(temporary, path)
        except BaseException:
            os.close(fd)
            temporary.unlink(missing_ok=True)
            raise
        return cls(path, token, fd)

    def release(self) -> None:
        """Remove the file (if it is still ours) and drop the lock."""
        try:
            if self.path.read_text(encoding="utf-8") == self.token:
                self.path.unlink()
        except OSError as error:
            log.warning("could not remove token file %s: %s", self.path, error)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# ============================================================================ binding


@attrs.define(eq=False)
class ControlEndpoint:
    """Bound listeners (before anything else starts) and the token guarding them."""

    config: ControlConfig
    listeners: list[Listener]
    port: int
    token: str
    token_file: TokenFile | None

    @property
    def url(self) -> str:
        return f"{'wss' if self.config.tls else 'ws'}://{self.config.host}:{self.port}/"

    def close(self) -> None:
        if self.token_file is not None:
            self.token_file.release()
            self.token_file = None


def _tls_context(config: ControlConfig) -> ssl.SSLContext | None:
    if config.tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as error:
        raise ControlStartError(f"[control] tls_cert/tls_key cannot be loaded: {error}") from None
    return context


async def bind_control(config: ControlConfig, note: Note, *, token: str | None = None) -> ControlEndpoint:
    """Bind the control API's port, then claim its token file. Raises `ControlStartError`."""
    if not is_loopback(config.host) and not config.tls:
        raise ControlStartError(f"[control] host {config.host} is not loopback: set tls_cert and tls_key "
                                "(the token must not travel in clear)")
    context = _tls_context(config)
    try:
        sockets = await trio.open_tcp_listeners(config.port, host=config.host)
    except OSError as error:
        hint = ""
        if error.errno == errno.EADDRINUSE:
            hint = f" (another daemon? its token file: {config.token_path(config.port)})"
        raise ControlStartError(f"control API cannot listen on {config.host}:{config.port}: "
                                f"{error.strerror or error}{hint}") from None
    port = sockets[0].socket.getsockname()[1]
    listeners: list[Listener] = [
        trio.SSLListener(s, context, https_compatible=True) if context else s for s in sockets]
    env_token = token or os.environ.get(config.token_env)
    held: TokenFile | None = None
    try:
        if env_token:
            secret = env_token
            note(f"control API token from ${config.token_env}")
        else:
            secret = secrets.token_urlsafe(24)
            held = TokenFile.claim(config.token_path(port), secret)
            note(f"control API token file {held.path} (set {config.token_env} to choose the token)")
    except BaseException:
        for s in sockets:
            await s.aclose()
        raise
    return ControlEndpoint(config, listeners, port, secret, held)


# ============================================================================ server


@attrs.define(eq=False)
class ControlServer:
    """Serves control sessions on bound listeners; see the module docstring for what ends one."""

    router: RouterHandle
    endpoint: ControlEndpoint
    started_at: datetime = attrs.field(factory=utc_now)
    journal: str | None = None
    accepting_commands: bool = True  # False while the daemon drains for shutdown
    connections: int = 0
    sessions: int = 0  # authenticated, live
    ended: deque[tuple[int, str]] = attrs.field(factory=lambda: deque(maxlen=100))  # (session, why)
    in_flight: int = 0
    _idle: trio.Event = attrs.field(factory=trio.Event)
    _changed: trio.Event = attrs.field(factory=trio.Event)
    _numbers: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    @property
    def config(self) -> ControlConfig:
        return self.endpoint.config

    async def serve(self, *, task_status: trio.TaskStatus[ControlServer] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled."""
        websockets = WebSocketServer(self._handle, self.endpoint.listeners,
                                     max_message_size=self.config.max_message_bytes,
                                     connect_timeout=AUTH_TIMEOUT, disconnect_timeout=5)
        # trio-websocket runs each connection's reader and our handler in one nursery per connection;
        # an exception there would end its whole server. Each connection gets its own guard instead.
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, partial(self._guarded, websockets),
                                list(self.endpoint.listeners))
            task_status.started(self)

    async def wait_changed(self) -> None:
        """Until a connection opens or closes, a session ends or a command starts."""
        await self._changed.wait()

    def _touch(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def drain(self) -> None:
        """Refuse new commands and wait for those in flight (bound it with a cancel scope)."""
        self.accepting_commands = False
        while self.in_flight:
            self._idle = trio.Event()
            await self._idle.wait()

    async def _guarded(self, websockets: WebSocketServer, stream: trio.abc.Stream) -> None:
        self.connections += 1
        try:
            if self.connections > 2 * self.config.max_connections:
                return  # far over the cap (handshakes pending): no answer at all
            with trio.CancelScope() as scope:
                _connection_scope.set(scope)  # lets the handler end a refused connection at once
                await websockets._handle_connection(stream)
        except* Exception as group:
            log.warning("control connection failed: %s", _describe(group))
        finally:
            self.connections -= 1
            self._touch()
            await trio.aclose_forcefully(stream)

    async def _handle(self, request: WebSocketRequest) -> None:
        number = next(self._numbers)
        peer = str(request.remote)
        if self.connections > self.config.max_connections:
            await request.reject(503, body=b"too many control connections\n")
            self._end(number, "refused: connection cap")
            _connection_scope.get().cancel()  # do not wait for the client to hang up
            return
        try:
            ws = await request.accept()
            self._end(number, await self._session(ws, number))
        except* ConnectionClosed as group:
            reason = getattr(group.exceptions[0], "reason", None)
            self._end(number, f"closed ({reason.code} {reason.name})" if reason else "closed")
        except* SlowClient as group:
            self._end(number, f"slow client: {group.exceptions[0]}", logging.WARNING)
        except* Exception as group:
            self._end(number, f"error: {_describe(group)}", logging.ERROR, group)
        log.debug("control session %d was from %s", number, peer)

    def _end(self, number: int, why: str, level: int = logging.INFO,
             error: BaseException | None = None) -> None:
        self.ended.append((number, why))
        self._touch()
        log.log(level, "control session %d %s", number, why, exc_info=error)

    # ------------------------------------------------------------------ one session
    async def _session(self, ws: WebSocketConnection, number: int) -> str:
        """Serve one authenticated client until it leaves (ConnectionClosed) or fails; returns why."""
        if not await self._authenticate(ws):
            return "refused: unauthorized"
        send = self._sender(ws)
        runtime = self.router.router
        await send(m.Welcome(venues=self.router.venues(),
                             statuses=[s for s in (self.router.status(v) for v in self.router.venues()) if s],
                             kill_switch=runtime.risk.kill_switch_reason))
        self.sessions += 1
        watches: dict[str, trio.CancelScope] = {}
        slots = trio.Semaphore(MAX_IN_FLIGHT)
        try:
            async with trio.open_nursery() as nursery:
                while True:
                    raw = await ws.get_message()
                    try:
                        message = m.decode_control(raw)
                    except (msgspec.DecodeError, msgspec.ValidationError) as error:
                        bad = ProtocolViolation(f"cannot decode control message: {error}", retryable=False)
                        await send(m.ErrorReply(id=m.request_id(raw), error=bad.to_info()))
                        continue
                    match message:
                        case m.Hello():
                            continue
                        case m.Watch():
                            await self._start_watch(nursery, send, watches, message)
                        case m.Unwatch(id=watch_id):
                            scope = watches.pop(watch_id, None)
                            if scope is not None:
                                scope.cancel()
                            await send(m.AckReply(id=watch_id))
                        case _:
                            await slots.acquire()
                            self.in_flight += 1
                            self._touch()
                            nursery.start_soon(self._answer, send, message, slots)
        finally:
            self.sessions -= 1

    async def _authenticate(self, ws: WebSocketConnection) -> bool:
        hello: object = None
        with trio.move_on_after(AUTH_TIMEOUT):
            first = await ws.get_message()
            try:
                hello = m.decode_control(first)
            except (msgspec.DecodeError, msgspec.ValidationError):
                hello = None
        if not isinstance(hello, m.Hello) or not hmac.compare_digest(hello.token.encode(),
                                                                    self.endpoint.token.encode()):
            await ws.aclose(code=4401, reason="unauthorized")
            return False
        return True

    def _sender(self, ws: WebSocketConnection) -> Callable[[msgspec.Struct], Awaitable[None]]:
        timeout = self.config.send_timeout

        async def send(message: msgspec.Struct) -> None:
            with trio.move_on_after(timeout) as waited:
                await ws.send_message(m.encode(message).decode())
            if waited.cancelled_caught:
                raise SlowClient(f"a message waited more than {timeout}s to be taken")

        return send

    async def _answer(self, send: Callable[[msgspec.Struct], Awaitable[None]],
                      message: m.CommandMsg | m.KillSwitch | m.GetDaemonStatus, slots: trio.Semaphore) -> None:
        try:
            reply = await self._reply_to(message)
        except BrokerError as error:
            reply = m.ErrorReply(id=message.id, error=error.to_info())
        except Exception as error:  # a daemon bug: the caller gets a typed answer, the session goes on
            log.exception("control command %s failed", type(message).__name__)
            reply = m.ErrorReply(id=message.id, error=BrokerError(
                f"internal error handling {type(message).__name__}: {type(error).__name__}: {error}",
                retryable=False).to_info())
        finally:
            slots.release()
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()
        await send(reply)

    async def _reply_to(self, message: m.CommandMsg | m.KillSwitch | m.GetDaemonStatus) -> msgspec.Struct:
        if not self.accepting_commands and not isinstance(message, m.GetDaemonStatus):
            raise NotConnected("the daemon is shutting down: no new commands", retryable=True)
        router = self.router
        match message:
            case m.GetDaemonStatus(id=rid):
                return m.DaemonStatusReply(
                    id=rid, venues=[s for s in (router.status(v) for v in router.venues()) if s],
                    kill_switch=router.router.risk.kill_switch_reason, sessions=self.sessions,
                    started_at=self.started_at, journal=self.journal,
                    shutting_down=not self.accepting_commands)
            case m.KillSwitch(id=rid, engage=engage, reason=reason):
                if engage:
                    return m.OrdersReply(id=rid, orders=await router.engage_kill_switch(reason))
                await router.release_kill_switch()
                return m.AckReply(id=rid)
            case _:
                return await router.request(message)

    async def _start_watch(self, nursery: trio.Nursery, send: Callable[[msgspec.Struct], Awaitable[None]],
                           watches: dict[str, trio.CancelScope], watch: m.Watch) -> None:
        scope = trio.CancelScope()
        if watch.id is not None:
            previous = watches.pop(watch.id, None)
            if previous is not None:
                previous.cancel()  # the same id again replaces the watch (a client resubscribing)
            watches[watch.id] = scope
        subscriber = self.router.router.subscribe(venues=watch.venues, symbols=watch.symbols, kinds=watch.kinds)
        if watch.id is not None:
            await send(m.AckReply(id=watch.id))  # the subscriber is live: events from here on
        nursery.start_soon(self._forward, send, watch, subscriber, scope)

    async def _forward(self, send: Callable[[msgspec.Struct], Awaitable[None]], watch: m.Watch,
                       subscriber: EventSubscriber, scope: trio.CancelScope) -> None:
        try:
            with scope:
                async for event in subscriber:
                    await send(event if watch.id is None else m.WatchEvent(watch=watch.id, event=event))
        except SubscriberOverflow as overflow:
            if watch.id is None:
                raise
            await send(m.ErrorReply(id=watch.id, error=overflow.to_info()))
        finally:
            self.router.router.unsubscribe(subscriber)


def _describe(group: BaseException) -> str:
    if isinstance(group, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in group.exceptions)
    return f"{type(group).__name__}: {group}"


async def serve_control_api(router: RouterHandle, config: ControlConfig, note: Note, *,
                            token: str | None = None, endpoint: ControlEndpoint | None = None,
                            journal: str | None = None,
                            task_status: trio.TaskStatus[ControlServer] = trio.TASK_STATUS_IGNORED) -> None:
    """Bind (unless ``endpoint`` is already bound), serve until cancelled, then remove the token file."""
    bound = endpoint or await bind_control(config, note, token=token)
    try:
        server = ControlServer(router, bound, journal=journal)
        note(f"control API on {bound.url}")
        await server.serve(task_status=task_status)
    finally:
        bound.close()
