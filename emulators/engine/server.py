"""The emulators' HTTP + websocket server: a small ASGI app served by hypercorn's trio worker.

A dialect supplies `handle_http` and `handle_ws`; this module owns the plumbing every dialect
shares: reading requests, applying faults (errors, delays, lost answers, dropped or stalled
websockets, duplicated or reordered messages), and refusing connections by actually stopping the
listener (so a client sees a transport error, not an HTTP status), then listening again on the same port.

Websocket keep-alive follows the dialect's `PingSchedule` (``dialect.ws_ping``, None for none): the server pings
every ``interval`` seconds with a fresh payload and disconnects a client that has not answered the latest ping
with a pong carrying its payload within ``timeout`` seconds (unsolicited pongs do not count, as venues say).
hypercorn answers pings but never shows pongs to the application, so `_send_tracked_pings` replaces its ping
loop and records, per connection, the last ping sent and when it was answered.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol
from urllib.parse import parse_qsl

import attrs
import trio
from hypercorn.config import Config
from hypercorn.protocol.ws_stream import WSStream
from hypercorn.trio import serve
from wsproto.events import Event as WsEvent
from wsproto.events import Ping, Pong

from emulators.engine.faults import Faults, HttpFault, StreamKind

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def handled_ms(received_ms: int, received_at: float) -> int:
    """The venue's clock as a request that arrived at ``received_ms`` (wall clock) / ``received_at`` (trio's
    clock) is handled: its arrival plus the time it waited, measured on trio's clock so a delayed request is late
    in virtual-time tests too; never behind the wall clock. Unstamped (0): the wall clock."""
    now = int(time.time() * 1000)
    if not received_ms:
        return now
    return max(received_ms + int(max(trio.current_time() - received_at, 0.0) * 1000), now)


@attrs.frozen
class HttpRequest:
    method: str
    path: str
    query_string: str
    body: bytes
    headers: dict[str, str]
    client: str = ""  # the peer's address (venues count some limits per IP)
    # When it arrived (before any injected delay): wall-clock ms and trio time. Dialects that refuse requests
    # handled too late (OKX's expTime) measure the wait on trio's clock, so virtual-time tests see it too.
    received_ms: int = 0
    received_at: float = 0.0

    def handled_ms(self) -> int:
        """The venue's clock now, as this request is being handled (see `handled_ms`)."""
        return handled_ms(self.received_ms, self.received_at)

    @property
    def params(self) -> dict[str, str]:
        """Query string and form body together, as the venues accept both."""
        merged = dict(parse_qsl(self.query_string, keep_blank_values=True))
        if self.body and "json" not in self.headers.get("content-type", ""):
            merged.update(parse_qsl(self.body.decode(), keep_blank_values=True))
        return merged


@attrs.frozen
class HttpResponse:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = attrs.field(factory=list)
    content_type: bytes = b"application/json;charset=UTF-8"  # e.g. text/html for a venue's gateway pages


@attrs.frozen
class PingSchedule:
    """How a venue keeps websockets alive: a ping every ``interval`` s, a pong due within ``timeout`` s."""

    interval: float
    timeout: float


PONGS = "emulators.pongs"  # scope["state"] key: the connection's `PongRecord`


@attrs.define
class PongRecord:
    """The server's pings on one connection that no pong has answered yet: payload -> when sent (trio time).
    A pong answers the ping whose payload it copies, and every ping sent before it."""

    outstanding: dict[bytes, float] = attrs.field(factory=dict)

    def sent(self, payload: bytes, now: float) -> None:
        self.outstanding[payload] = now

    def answered(self, payload: bytes) -> None:
        sent_at = self.outstanding.get(payload)
        if sent_at is not None:
            self.outstanding = {p: t for p, t in self.outstanding.items() if t > sent_at}

    def overdue(self, now: float, timeout: float) -> bool:
        return any(now - sent_at > timeout for sent_at in self.outstanding.values())


class InjectedReset(Exception):
    """Raised out of the app to cut a connection after its request executed (`Faults.reset_after_executing`):
    hypercorn then closes the connection, and the client reads a truncated answer."""


class _QuietResets(logging.Filter):
    """hypercorn logs an app's exception as an error; an injected reset is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedReset))


CLOSE = "\x00close"  # queued by `WsConnection.close`: the pump closes the connection when it gets here


@attrs.define(eq=False)
class WsConnection:
    """One client websocket. Dialects queue text with `send`; faults apply on the way out."""

    path: str
    query_string: str
    kind: StreamKind
    faults: Faults
    outgoing_tx: trio.MemorySendChannel[str | bytes]
    outgoing_rx: trio.MemoryReceiveChannel[str | bytes]
    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    stalled: bool = False
    topics: set[str] = attrs.field(factory=set)  # what it subscribed to (see `engine.hub`)
    account: str | None = None  # the engine account a private stream serves, once authenticated
    state: dict[str, Any] = attrs.field(factory=dict)  # the dialect's other per-connection data
    close_code: int = 1001  # what the server says when it closes the connection (see `close`)
    close_reason: str = ""
    client: str = ""  # the peer's address
    pongs: PongRecord | None = None  # keep-alive state, when the dialect has a `PingSchedule`
    # Venues that close idle sockets: after this many seconds without a message sent, the server closes the
    # connection with ``idle_close`` (code, reason). None: never.
    idle_timeout: float | None = None
    idle_close: tuple[int, str] = (1001, "")
    last_sent: float = 0.0  # trio time of the last message sent (the server sets the opening time)
    headers: dict[str, str] = attrs.field(factory=dict)  # the handshake's headers, names lower-cased
    _held: str | bytes | None = None

    @classmethod
    def open(cls, path: str, query_string: str, kind: StreamKind, faults: Faults,
             headers: dict[str, str] | None = None) -> WsConnection:
        tx, rx = trio.open_memory_channel[str | bytes](20_000)
        return cls(path, query_string, kind, faults, tx, rx, headers=dict(headers or {}))

    def send(self, text: str | bytes) -> None:
        """Queue a message (text frames for str, binary frames for bytes); a client too slow to keep up is
        disconnected, as venues do."""
        try:
            self.outgoing_tx.send_nowait(text)
        except trio.WouldBlock:
            self.drop()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def drop(self, code: int | None = None, reason: str = "") -> None:
        """Close the connection at once (with ``code`` and ``reason`` in the close frame, when given)."""
        if code is not None:
            self.close_code, self.close_reason = code, reason
        self.scope.cancel()

    def close(self, code: int, reason: str = "") -> None:
        """End the connection with a close frame of ``code`` and ``reason`` (the venue's words), once what is
        already queued has been sent."""
        self.close_code, self.close_reason = code, reason
        try:
            self.outgoing_tx.send_nowait(CLOSE)
        except trio.WouldBlock:
            self.drop()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    async def pump(self, send: Send) -> None:
        async for text in self.outgoing_rx:
            if text is CLOSE:
                self.drop()
                return
            if self.stalled:
                continue
            if self._held is None and self.faults.take_reorder(self.kind):
                self._held = text
                continue
            await send(_frame(text))
            self.last_sent = trio.current_time()
            if self.faults.take_duplicate(self.kind):
                await send(_frame(text))
            if self._held is not None:
                held, self._held = self._held, None
                await send(_frame(held))


class Dialect(Protocol):
    def stream_kind(self, path: str) -> StreamKind | None:
        """"public"/"private" for a websocket path this venue serves, None to refuse it."""

    async def handle_http(self, request: HttpRequest) -> HttpResponse: ...

    def http_fault_response(self, fault: HttpFault) -> HttpResponse: ...

    async def on_ws_open(self, conn: WsConnection) -> None: ...

    async def on_ws_message(self, conn: WsConnection, text: str) -> None: ...

    def on_ws_close(self, conn: WsConnection) -> None: ...

    # Optional: ``async def ws_background(self, conn)`` runs beside a connection for as long as it is open
    # (a venue's own timers on it, e.g. Kraken's heartbeat every second).


BinaryHandler = Callable[[WsConnection, bytes], Awaitable[None]]  # optional `on_ws_binary` of a dialect


@attrs.define(eq=False)
class EmulatorServer:
    dialect: Dialect
    faults: Faults
    host: str = "127.0.0.1"
    port: int = 0
    connections: set[WsConnection] = attrs.field(factory=set)
    _listening: trio.CancelScope | None = None
    _resume: trio.Event = attrs.field(factory=trio.Event)

    def __attrs_post_init__(self) -> None:
        self.faults.drop_hook = self._drop
        self.faults.stall_hook = self._stall
        self.faults.refuse_hook = self._refuse
        self.faults.expire_hook = self._expire
        self._resume.set()

    @property
    def ping_schedule(self) -> PingSchedule | None:
        schedule: PingSchedule | None = getattr(self.dialect, "ws_ping", None)
        return schedule

    # ------------------------------------------------------------------ fault hooks
    def _matching(self, kind: StreamKind) -> list[WsConnection]:
        return [c for c in self.connections if kind == "all" or c.kind == kind]

    def _drop(self, kind: StreamKind) -> None:
        for conn in self._matching(kind):
            conn.drop()

    def _stall(self, seconds: float, kind: StreamKind) -> None:
        for conn in self._matching(kind):
            conn.stalled = True
            conn.state["stall_deadline"] = trio.current_time() + seconds

    def _expire(self, kind: StreamKind) -> None:
        """The venue's connection lifetime is over (Binance: 24 hours): close as the venue does at that mark."""
        for conn in self._matching(kind):
            conn.close(1001, "")

    def _refuse(self, on: bool) -> None:
        if on:
            self._drop("all")
            self._resume = trio.Event()
            if self._listening is not None:
                self._listening.cancel()
        else:
            self._resume.set()

    # ------------------------------------------------------------------ serving
    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen until cancelled; while refusing, nothing listens. Reports the bound port once."""
        reported = False
        while True:
            await self._resume.wait()
            config = Config()
            config.bind = [f"{self.host}:{self.port}"]
            config.keep_alive_timeout = 3600  # tests jump virtual time; idle sockets must survive it
            schedule = self.ping_schedule
            config.websocket_ping_interval = schedule.interval if schedule is not None else None
            config.accesslog = None
            config.errorlog = logging.getLogger("emulators.hypercorn")
            if not any(isinstance(f, _QuietResets) for f in config.errorlog.filters):
                config.errorlog.addFilter(_QuietResets())
            config.graceful_timeout = 0.1
            with trio.CancelScope() as listening:
                self._listening = listening
                async with trio.open_nursery() as nursery:
                    binds = await nursery.start(serve, self.app, config)
                    if not reported:
                        self.port = int(binds[0].rsplit(":", 1)[1])
                        reported = True
                        task_status.started(self.port)
            self._listening = None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client") or ("", 0)
        request = HttpRequest(scope["method"], scope["path"], scope["query_string"].decode("latin-1"), body, headers,
                              str(client[0]), int(time.time() * 1000), trio.current_time())
        await self.faults.delay(request.path, request.method)
        fault = self.faults.take_http_error(request.path)
        if fault is not None:
            response = self.dialect.http_fault_response(fault)
        else:
            response = await self.dialect.handle_http(request)
            if self.faults.take_lose(request.path, request.method):
                await trio.sleep(math.inf)  # executed, never answered: the client times out
            if self.faults.take_reset(request.path, request.method):
                # Executed, then the connection is cut mid-answer: headers promising a body that never comes.
                await send({"type": "http.response.start", "status": response.status,
                            "headers": [(b"content-length", str(len(response.body) + 1).encode())]})
                raise InjectedReset(f"{request.method} {request.path}")
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(b"content-type", response.content_type),
                                (b"content-length", str(len(response.body)).encode()), *response.headers]})
        await send({"type": "http.response.body", "body": response.body})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        kind = self.dialect.stream_kind(scope["path"])
        if kind is None or self.faults.refusing:
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        conn = WsConnection.open(scope["path"], scope["query_string"].decode("latin-1"), kind, self.faults, headers)
        conn.client = str((scope.get("client") or ("", 0))[0])
        conn.last_sent = trio.current_time()
        schedule = self.ping_schedule
        if schedule is not None:
            conn.pongs = PongRecord()
            scope.setdefault("state", {})[PONGS] = conn.pongs
        await send({"type": "websocket.accept"})
        self.connections.add(conn)
        try:
            with conn.scope:
                await self.dialect.on_ws_open(conn)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(conn.pump, send)
                    nursery.start_soon(self._watch_stall, conn)
                    if schedule is not None:
                        nursery.start_soon(self._watch_pongs, conn, schedule)
                    background = getattr(self.dialect, "ws_background", None)
                    if background is not None:
                        nursery.start_soon(background, conn)
                    while True:
                        message = await receive()
                        if message["type"] == "websocket.disconnect":
                            break
                        if message.get("text") is not None:
                            await self.dialect.on_ws_message(conn, message["text"])
                        else:
                            await self._binary(conn, message.get("bytes") or b"")
                    nursery.cancel_scope.cancel()
        finally:
            self.connections.discard(conn)
            self.dialect.on_ws_close(conn)
            conn.outgoing_tx.close()
        with trio.move_on_after(1) as cleanup:
            cleanup.shield = True
            try:
                await send({"type": "websocket.close", "code": conn.close_code, "reason": conn.close_reason})
            except Exception:  # the transport may already be gone; closing is best effort
                log.debug("websocket already closed")

    async def _binary(self, conn: WsConnection, data: bytes) -> None:
        """A binary frame: the dialect's `on_ws_binary` answers it in the venue's words; a dialect without one
        closes with 1003 (unsupported data, RFC 6455) rather than guessing."""
        handler: BinaryHandler | None = getattr(self.dialect, "on_ws_binary", None)
        if handler is None:
            conn.close(1003, "binary frames are not supported")
        else:
            await handler(conn, data)

    @staticmethod
    async def _watch_pongs(conn: WsConnection, schedule: PingSchedule) -> None:
        """Disconnect a client whose pong to the latest ping is more than ``schedule.timeout`` late."""
        record = conn.pongs
        assert record is not None
        while True:
            await trio.sleep(min(schedule.interval, schedule.timeout) / 4)
            if record.overdue(trio.current_time(), schedule.timeout):
                conn.close(1001, "")
                return

    async def _watch_stall(self, conn: WsConnection) -> None:
        while True:
            deadline = conn.state.get("stall_deadline")
            if deadline is not None and trio.current_time() >= deadline:
                conn.drop()
                return
            if conn.idle_timeout is not None and trio.current_time() - conn.last_sent >= conn.idle_timeout:
                conn.drop(*conn.idle_close)
                return
            await trio.sleep(0.25)


def _frame(message: str | bytes) -> dict[str, Any]:
    """The ASGI send event for one message: a binary frame for bytes, a text frame for str."""
    if isinstance(message, bytes):
        return {"type": "websocket.send", "bytes": message}
    return {"type": "websocket.send", "text": message}


async def _send_tracked_pings(stream: WSStream) -> None:
    """hypercorn's ping loop, with a payload per ping and the matching pong recorded (see the module doc)."""
    record = stream.scope.get("state", {}).get(PONGS)
    if not isinstance(record, PongRecord):  # not an emulator connection that asked for keep-alive
        return
    events = stream.connection.events

    def watched() -> Iterator[WsEvent]:
        for event in events():
            if isinstance(event, Pong):
                record.answered(bytes(event.payload))
            yield event

    stream.connection.events = watched  # type: ignore[method-assign,assignment]
    interval = stream.config.websocket_ping_interval
    count = 0
    while not stream.closed:
        await stream.context.sleep(interval if interval is not None else math.inf)
        count += 1
        payload = str(count).encode()
        record.sent(payload, trio.current_time())
        await stream._send_wsproto_event(Ping(payload=payload))


WSStream._send_pings = _send_tracked_pings  # type: ignore[method-assign,assignment]
