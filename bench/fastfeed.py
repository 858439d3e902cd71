"""A faster trade firehose for the ingest benchmark: the venue's messages, framed cheaply, many per write.

The emulator sends one websocket message per ASGI call, one socket write each, and tops out near
25,000 messages/s here; a feed that built each message with ``json.dumps`` and framed it with wsproto
topped out near 85,000 messages/s on a loaded day: below what the faster consumers take, so every
one of them measured the feed. This server speaks just enough of each venue's stream dialect for the
ingest benchmark and builds each trade message from a fixed template (only the stamps change) and
its frame header by hand, ``FRAMES_PER_WRITE`` frames per socket write (a few hundred thousand
messages/s here, so the consumer is what is measured). With a ``rate`` it paces one message per write
instead (the latency benchmark: the emulator's own feed could not hold 5,000 messages/s on a loaded
machine, and its backlog counted as every consumer's latency). The REST side, and any private socket,
stay the emulator's (the feed process runs both).

- Binance: raw ``/ws/<stream>`` and combined ``/stream?streams=`` paths, live ``SUBSCRIBE`` with its
  ``{"result": null, "id": n}`` answer, a silent WebSocket API user-data subscription on
  ``/ws-api/v3``, pong for ping; one trade per message, as Binance sends them.
- Bybit: the linear public socket (``/v5/public/linear``), ``subscribe`` to ``publicTrade.BTCUSDT``
  and ``ping`` ops answered as Bybit does; ``batch`` trades per ``publicTrade`` message, as Bybit
  batches them. Any other path, op or topic is refused in Bybit's words (never acknowledged).

Each trade's stamp (Binance ``t``, Bybit ``i``) is its `time.perf_counter_ns()` when framed, as in
bench/feed.py.
"""

from __future__ import annotations

import json
import logging
import struct
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
    RejectConnection,
    Request,
    TextMessage,
)

log = logging.getLogger(__name__)

TRADE_STREAM = "btcusdt@trade"
BYBIT_TOPIC = "publicTrade.BTCUSDT"
BYBIT_PATH = "/v5/public/linear"
FRAMES_PER_WRITE = 64

# Binance's ``trade`` event; the combined stream wraps it as {"stream": …, "data": …}.
_BINANCE_TRADE = ('{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"65000.10","q":"0.00100000","T":%d,'
                  '"m":%s,"M":true}')
_BINANCE_COMBINED = '{"stream":"btcusdt@trade","data":%s}'
# Bybit's ``publicTrade`` message and one of its trades (``S`` the taker side, ``i`` the trade id).
_BYBIT_MESSAGE = '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":%d,"data":[%s]}'
_BYBIT_TRADE = '{"T":%d,"s":"BTCUSDT","S":"%s","v":"0.001","p":"65000.10","L":"PlusTick","i":"%d","BT":false}'


def trade_message(n: int, *, combined: bool) -> str:
    """Binance's ``trade`` event (wrapped as the combined stream does when ``combined``); ``t`` is the
    send stamp, `time.perf_counter_ns()`, shared by all processes on the machine."""
    now_ms = int(time.time() * 1000)
    trade = _BINANCE_TRADE % (now_ms, time.perf_counter_ns(), now_ms, "true" if n % 2 == 0 else "false")
    return _BINANCE_COMBINED % trade if combined else trade


def bybit_trades_message(n: int, batch: int) -> str:
    """A Bybit ``publicTrade`` message of ``batch`` trades; each ``i`` is the send stamp plus its index."""
    now_ms = int(time.time() * 1000)
    stamp = time.perf_counter_ns()
    trades = ",".join(_BYBIT_TRADE % (now_ms, "Buy" if (n + k) % 2 else "Sell", stamp + k) for k in range(batch))
    return _BYBIT_MESSAGE % (now_ms, trades)


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame (server to client, RFC 6455 §5.2)."""
    size = len(payload)
    if size < 126:
        return b"\x81" + bytes((size,)) + payload
    if size < 65536:
        return b"\x81\x7e" + struct.pack("!H", size) + payload
    return b"\x81\x7f" + struct.pack("!Q", size) + payload


@attrs.define(eq=False)
class _Client:
    stream: trio.SocketStream
    ws: WSConnection = attrs.field(factory=lambda: WSConnection(ConnectionType.SERVER))
    combined: bool = False
    send_lock: trio.Lock = attrs.field(factory=trio.Lock)
    firing: bool = False
    conn_id: str = ""

    async def write(self, data: bytes) -> None:
        async with self.send_lock:
            await self.stream.send_all(data)

    async def answer(self, message: object) -> None:
        await self.write(self.ws.send(TextMessage(json.dumps(message))))


@attrs.define(eq=False)
class FastTradeFeed:
    """``count`` trades to every consumer that subscribes, in ``venue``'s dialect (``batch`` trades per
    Bybit message)."""

    count: int
    venue: str = "binance"
    batch: int = 10
    rate: float = 0.0  # messages per second, each sent on its own at its time; 0 = as fast as taken, in batches
    listener_port: int = 0
    _connections: int = 0

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
                    if not await self._on_open(client, event.target, nursery):
                        return
                elif isinstance(event, Ping):
                    await client.write(client.ws.send(event.response()))
                elif isinstance(event, TextMessage):
                    await self._on_text(client, event.data, nursery)
                elif isinstance(event, CloseConnection):
                    await client.write(client.ws.send(event.response()))
                    return

    async def _on_open(self, client: _Client, target: str, nursery: trio.Nursery) -> bool:
        parts = urlsplit(target)
        if self.venue == "bybit":
            if parts.path != BYBIT_PATH or parts.query:  # the private socket is the emulator's
                await client.write(client.ws.send(RejectConnection(status_code=404)))
                return False
            self._connections += 1
            client.conn_id = f"bench-feed-{self._connections}"
            await client.write(client.ws.send(AcceptConnection()))
            return True
        await client.write(client.ws.send(AcceptConnection()))
        client.combined = parts.path.startswith("/stream")
        streams = parse_qs(parts.query).get("streams", [""])[0].split("/") if client.combined else \
            [parts.path.removeprefix("/ws").strip("/")]
        if TRADE_STREAM in streams:
            self._fire(client, nursery)
        return True  # anything else (the WebSocket API, other streams) stays open and silent

    async def _on_text(self, client: _Client, text: str, nursery: trio.Nursery) -> None:
        request = json.loads(text)
        if self.venue == "bybit":
            await self._on_bybit_op(client, request, nursery)
            return
        if request.get("method") == "userDataStream.subscribe.signature":  # a user data subscription, never used
            await client.answer({"id": request.get("id"), "status": 200, "result": {"subscriptionId": 0}})
        if request.get("method") == "SUBSCRIBE":
            await client.answer({"result": None, "id": request.get("id")})
            if TRADE_STREAM in request.get("params", []):
                self._fire(client, nursery)

    async def _on_bybit_op(self, client: _Client, request: dict[str, object], nursery: trio.Nursery) -> None:
        op, req_id = request.get("op"), request.get("req_id")
        base = {"conn_id": client.conn_id, "req_id": "" if req_id is None else str(req_id), "op": op}
        if op == "ping":
            await client.answer({"success": True, "ret_msg": "pong", **base})
        elif op == "subscribe" and request.get("args") == [BYBIT_TOPIC]:
            await client.answer({"success": True, "ret_msg": "", **base})
            self._fire(client, nursery)
        elif op == "subscribe":
            await client.answer({"success": False, "ret_msg": f"error:handler not found,topic:{request.get('args')} "
                                                             f"(the bench feed serves {BYBIT_TOPIC} only)", **base})
        else:
            await client.answer({"success": False, "ret_msg": f"error:handler not found,op:{op}", **base})

    def _fire(self, client: _Client, nursery: trio.Nursery) -> None:
        if not client.firing:
            client.firing = True
            nursery.start_soon(self._send_trades, client)

    async def _send_trades(self, client: _Client) -> None:
        try:
            await self._send_all_trades(client)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            log.debug("a consumer went away mid-stream")

    def _message(self, client: _Client, n: int, per_message: int) -> bytes:
        if self.venue == "bybit":
            return text_frame(bybit_trades_message(n, min(per_message, self.count - n)).encode())
        return text_frame(trade_message(n, combined=client.combined).encode())

    async def _send_all_trades(self, client: _Client) -> None:
        per_message = self.batch if self.venue == "bybit" else 1
        if self.rate:
            await self._send_paced(client, per_message)
            return
        frames: list[bytes] = []
        for n in range(0, self.count, per_message):
            if client.ws.state is not ConnectionState.OPEN:
                return  # the consumer closed: its run is over
            frames.append(self._message(client, n, per_message))
            if len(frames) == FRAMES_PER_WRITE:
                await client.write(b"".join(frames))  # blocks while the consumer's socket is full
                frames.clear()
        if frames and client.ws.state is ConnectionState.OPEN:
            await client.write(b"".join(frames))

    async def _send_paced(self, client: _Client, per_message: int) -> None:
        """One message per write at ``rate`` messages/s, each stamped as it is framed. Behind schedule it
        still yields between messages: a catch-up burst would queue here and count as the consumer's
        latency (as in bench/feed.py)."""
        start = time.perf_counter()
        for k, n in enumerate(range(0, self.count, per_message)):
            if client.ws.state is not ConnectionState.OPEN:
                return
            await trio.sleep(max(start + k / self.rate - time.perf_counter(), 0.0))
            await client.write(self._message(client, n, per_message))
