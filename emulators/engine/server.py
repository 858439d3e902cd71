"""The emulators' HTTP + websocket server: a small ASGI app served by hypercorn's trio worker.

A dialect supplies `handle_http` and `handle_ws`; this module owns the plumbing every dialect
shares: reading requests, applying faults (errors, delays, lost answers, dropped or stalled
websockets, duplicated or reordered messages), and refusing connections by actually stopping the
listener (so a client sees a transport error, not an HTTP status), then listening again on the same port.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import parse_qsl

import attrs
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from emulators.engine.faults import Faults, HttpFault, StreamKind

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@attrs.frozen
class HttpRequest:
    method: str
    path: str
    query_string: str
    body: bytes
    headers: dict[str, str]

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


@attrs.define(eq=False)
class WsConnection:
    """One client websocket. Dialects queue text with `send`; faults apply on the way out."""

    path: str
    query_string: str
    kind: StreamKind
    faults: Faults
    outgoing_tx: trio.MemorySendChannel[str]
    outgoing_rx: trio.MemoryReceiveChannel[str]
    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    stalled: bool = False
    topics: set[str] = attrs.field(factory=set)  # what it subscribed to (see `engine.hub`)
    account: str | None = None  # the engine account a private stream serves, once authenticated
    state: dict[str, Any] = attrs.field(factory=dict)  # the dialect's other per-connection data
    _held: str | None = None

    @classmethod
    def open(cls, path: str, query_string: str, kind: StreamKind, faults: Faults) -> WsConnection:
        tx, rx = trio.open_memory_channel[str](20_000)
        return cls(path, query_string, kind, faults, tx, rx)

    def send(self, text: str) -> None:
        """Queue a message; a client too slow to keep up is disconnected, as venues do."""
        try:
            self.outgoing_tx.send_nowait(text)
        except trio.WouldBlock:
            self.drop()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def drop(self) -> None:
        self.scope.cancel()

    async def pump(self, send: Send) -> None:
        async for text in self.outgoing_rx:
            if self.stalled:
                continue
            if self._held is None and self.faults.take_reorder(self.kind):
                self._held = text
                continue
            await send({"type": "websocket.send", "text": text})
            if self.faults.take_duplicate(self.kind):
                await send({"type": "websocket.send", "text": text})
            if self._held is not None:
                held, self._held = self._held, None
                await send({"type": "websocket.send", "text": held})


class Dialect(Protocol):
    def stream_kind(self, path: str) -> StreamKind | None:
        """"public"/"private" for a websocket path this venue serves, None to refuse it."""

    async def handle_http(self, request: HttpRequest) -> HttpResponse: ...

    def http_fault_response(self, fault: HttpFault) -> HttpResponse: ...

    async def on_ws_open(self, conn: WsConnection) -> None: ...

    async def on_ws_message(self, conn: WsConnection, text: str) -> None: ...

    def on_ws_close(self, conn: WsConnection) -> None: ...


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
        self._resume.set()

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
            config.websocket_ping_interval = None
            config.accesslog = None
            config.errorlog = logging.getLogger("emulators.hypercorn")
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
        # Undecodable bytes become U+FFFD: a client's bad encoding is the dialect's to refuse, never a 500.
        headers = {k.decode(errors="replace").lower(): v.decode(errors="replace") for k, v in scope["headers"]}
        request = HttpRequest(scope["method"], scope["path"], scope["query_string"].decode(errors="replace"), body,
                              headers)
        await self.faults.delay()
        fault = self.faults.take_http_error(request.path)
        if fault is not None:
            response = self.dialect.http_fault_response(fault)
        else:
            response = await self.dialect.handle_http(request)
            if self.faults.take_lose(request.path):
                await trio.sleep(math.inf)  # executed, never answered: the client times out
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(b"content-type", b"application/json;charset=UTF-8"),
                                (b"content-length", str(len(response.body)).encode()), *response.headers]})
        await send({"type": "http.response.body", "body": response.body})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        kind = self.dialect.stream_kind(scope["path"])
        if kind is None or self.faults.refusing:
            await send({"type": "websocket.close", "code": 1008})
            return
        conn = WsConnection.open(scope["path"], scope["query_string"].decode(errors="replace"), kind, self.faults)
        await send({"type": "websocket.accept"})
        self.connections.add(conn)
        try:
            with conn.scope:
                await self.dialect.on_ws_open(conn)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(conn.pump, send)
                    nursery.start_soon(self._watch_stall, conn)
                    while True:
                        message = await receive()
                        if message["type"] == "websocket.disconnect":
                            break
                        # a binary frame reaches the dialect as text (bad UTF-8 as U+FFFD), for it to refuse
                        text = message.get("text") or (message.get("bytes") or b"").decode(errors="replace")
                        await self.dialect.on_ws_message(conn, text)
                    nursery.cancel_scope.cancel()
        finally:
            self.connections.discard(conn)
            self.dialect.on_ws_close(conn)
            conn.outgoing_tx.close()
        with trio.move_on_after(1) as cleanup:
            cleanup.shield = True
            try:
                await send({"type": "websocket.close", "code": 1001})
            except Exception:  # the transport may already be gone; closing is best effort
                log.debug("websocket already closed")

    async def _watch_stall(self, conn: WsConnection) -> None:
        while True:
            deadline = conn.state.get("stall_deadline")
            if deadline is not None and trio.current_time() >= deadline:
                conn.drop()
                return
            await trio.sleep(0.25)
