"""A websocket client with nothing in the way (wsproto over a bare TCP stream), for tests that must
misbehave as a client can: leave without a close frame, stop reading, send broken frames.

Also used for well-behaved exchanges where a test needs to see every frame, close codes included.
"""

from __future__ import annotations

import socket

import attrs
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    RejectConnection,
    Request,
    TextMessage,
)

from protocol import messages as m


@attrs.define(eq=False)
class RawClient:
    stream: trio.SocketStream
    connection: WSConnection
    closed: CloseConnection | None = None
    _pending: list[Event] = attrs.field(factory=list)

    @classmethod
    async def open(cls, port: int, *, receive_buffer: int | None = None) -> RawClient:
        """Connect and complete the handshake. ``receive_buffer`` shrinks the socket's receive buffer
        (set before connecting, so the window is small from the start)."""
        sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_STREAM)
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        await sock.connect(("127.0.0.1", port))
        client = cls(trio.SocketStream(sock), WSConnection(ConnectionType.CLIENT))
        await client.send(Request(host=f"127.0.0.1:{port}", target="/"))
        event = await client.next_event()
        if isinstance(event, RejectConnection):
            await client.stream.aclose()
            raise ConnectionRefusedError(f"handshake rejected with HTTP {event.status_code}")
        assert isinstance(event, AcceptConnection), event
        return client

    async def send(self, event: Event) -> None:
        await self.stream.send_all(self.connection.send(event))

    async def send_text(self, text: str) -> None:
        await self.send(TextMessage(data=text))

    async def send_message(self, message: object) -> None:
        await self.send_text(m.encode(message).decode())  # type: ignore[arg-type]

    async def next_event(self) -> Event:
        while not self._pending:
            data = await self.stream.receive_some(65536)
            self.connection.receive_data(data or None)
            self._pending.extend(self.connection.events())
            if not data and not self._pending:
                raise EOFError("the server closed the connection")
        event = self._pending.pop(0)
        if isinstance(event, CloseConnection):
            self.closed = event
        return event

    async def next_message(self) -> m.ControlReplyMsg:
        """The next data message, decoded; raises EOFError when the server closes instead."""
        while True:
            event = await self.next_event()
            if isinstance(event, TextMessage | BytesMessage):
                return m.decode_control_reply(event.data)
            if isinstance(event, CloseConnection):
                raise EOFError(f"closed by the server: {event.code} {event.reason}")

    async def hello(self, token: str) -> m.Welcome:
        await self.send_message(m.Hello(token=token))
        welcome = await self.next_message()
        assert isinstance(welcome, m.Welcome), welcome
        return welcome

    async def abort(self) -> None:
        """Leave without a close frame (a crashed client, a pulled cable)."""
        await self.stream.aclose()
