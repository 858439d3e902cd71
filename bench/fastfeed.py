"""A faster Binance trade firehose for the ingest benchmark: the same messages, written in batches.

The emulator sends one websocket message per ASGI call, one socket write each, and tops out near
25,000 messages/s here: below what the consumers can take, so every consumer measured the feed. This
server speaks just enough of Binance's stream dialect for the ingest benchmark (raw ``/ws/<stream>``
and combined ``/stream?streams=`` paths, live ``SUBSCRIBE`` with its ``{"result": null, "id": n}``
answer, a silent WebSocket API user-data subscription on ``/ws-api/v3``, pong for ping) and frames many trade
messages per socket write. The REST side stays the emulator's (the feed process runs both).

Each trade's ``t`` is its `time.perf_counter_ns()` stamp when framed, as in bench/feed.py.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

import attrs
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)

log = logging.getLogger(__name__)

TRADE_STREAM = "btcusdt@trade"
FRAMES_PER_WRITE = 64


def trade_message(n: int, *, combined: bool) -> str:
    """Binance's ``trade`` event (wrapped as the combined stream does when ``combined``); ``t`` is the
    send stamp, `time.perf_counter_ns()`, shared by all processes on the machine."""
    now_ms = int(time.time() * 1000)
    trade = {"e": "trade", "E": now_ms, "s": "BTCUSDT", "t": time.perf_counter_ns(), "p": "65000.10",
             "q": "0.00100000", "T": now_ms, "m": n % 2 == 0, "M": True}
    return json.dumps({"stream": TRADE_STREAM, "data": trade}) if combined else json.dumps(trade)


@attrs.define(eq=False)
class _Client:
    stream: trio.SocketStream
    ws: WSConnection = attrs.field(factory=lambda: WSConnection(ConnectionType.SERVER))
    combined: bool = False
    send_lock: trio.Lock = attrs.field(factory=trio.Lock)
    firing: bool = False

    async def write(self, data: bytes) -> None:
        async with self.send_lock:
            await self.stream.send_all(data)


@attrs.define(eq=False)
class FastTradeFeed:
    count: int
    listener_port: int = 0

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(self.listener_port, host="127.0.0.1")
        task_status.started(listeners[0].socket.getsockname()[1])
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, stream: trio.SocketStream) -> None:
        client = _Client(stream)
        async with trio.open_nursery() as nursery:
            try:
                await self._read(client, nursery)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                log.debug("a consumer went away mid-stream")  # its run is over
            nursery.cancel_scope.cancel()

    async def _read(self, client: _Client, nursery: trio.Nursery) -> None:
        while True:
            data = await client.stream.receive_some(65536)
            if not data:
                return
            client.ws.receive_data(data)
            for event in client.ws.events():
                if isinstance(event, Request):
                    await client.write(client.ws.send(AcceptConnection()))
                    self._on_open(client, event.target, nursery)
                elif isinstance(event, Ping):
                    await client.write(client.ws.send(event.response()))
                elif isinstance(event, TextMessage):
                    await self._on_text(client, event.data, nursery)
                elif isinstance(event, CloseConnection):
                    await client.write(client.ws.send(event.response()))
                    return

    def _on_open(self, client: _Client, target: str, nursery: trio.Nursery) -> None:
        parts = urlsplit(target)
        client.combined = parts.path.startswith("/stream")
        streams = parse_qs(parts.query).get("streams", [""])[0].split("/") if client.combined else \
            [parts.path.removeprefix("/ws").strip("/")]
        if TRADE_STREAM in streams:
            self._fire(client, nursery)
        # anything else (the WebSocket API, other streams) stays open and silent

    async def _on_text(self, client: _Client, text: str, nursery: trio.Nursery) -> None:
        request = json.loads(text)
        if request.get("method") == "userDataStream.subscribe.signature":  # a user data subscription, never used
            answer = {"id": request.get("id"), "status": 200, "result": {"subscriptionId": 0}}
            await client.write(client.ws.send(TextMessage(json.dumps(answer))))
        if request.get("method") == "SUBSCRIBE":
            await client.write(client.ws.send(TextMessage(json.dumps({"result": None, "id": request.get("id")}))))
            if TRADE_STREAM in request.get("params", []):
                self._fire(client, nursery)

    def _fire(self, client: _Client, nursery: trio.Nursery) -> None:
        if not client.firing:
            client.firing = True
            nursery.start_soon(self._send_trades, client)

    async def _send_trades(self, client: _Client) -> None:
        try:
            await self._send_all_trades(client)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            log.debug("a consumer went away mid-stream")

    async def _send_all_trades(self, client: _Client) -> None:
        frames: list[bytes] = []
        for n in range(self.count):
            if client.ws.state is not ConnectionState.OPEN:
                return  # the consumer closed: its run is over
            frames.append(client.ws.send(TextMessage(trade_message(n, combined=client.combined))))
            if len(frames) == FRAMES_PER_WRITE:
                await client.write(b"".join(frames))  # blocks while the consumer's socket is full
                frames.clear()
        if frames and client.ws.state is ConnectionState.OPEN:
            await client.write(b"".join(frames))
