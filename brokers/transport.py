"""The websocket client under every venue stream: the `websockets` library's sans-I/O protocol on a trio stream.

trio-websocket (still the control API's server and remote client) runs a reader task per connection
that hands each message to ``get_message()`` through a memory channel, and frames with wsproto: two
task switches, a channel round and ~14 µs of frame parsing per message here. This session drives
`websockets.client.ClientProtocol` (RFC 6455, no I/O of its own) in the reading task itself: one
``receive_some`` of up to `READ_SIZE` bytes, every frame of it parsed in one pass into a queue that
``get_message()`` pops without a scheduler round trip (it checkpoints whenever it has to read). See
README.md "Dependencies and why" and `bench/transports.py` for the measurement behind the choice.

The interface is the one venue code uses: ``send_message``, ``get_message``, ``ping`` (waits for its
pong), ``aclose(code, reason)``, ``closed``; failures are trio-websocket's exception types
(`ConnectionClosed` with its `CloseReason`, `HandshakeError`, `ConnectionRejected`,
`ConnectionTimeout`, `DisconnectionTimeout`), so ``except ConnectionClosed`` in a venue keeps its
meaning. Pings from the peer are answered while the connection is being read (as with trio-websocket,
whose reader also stops while its queue is full); a message longer than ``max_message_size`` bytes
closes the connection with 1009; a text message that is not UTF-8 closes it with 1007; ``wss://``
verifies the server's certificate and host name (`ssl.create_default_context()` unless a context is
given).
"""

from __future__ import annotations

import random
import ssl
import struct
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import attrs
import trio
from trio_websocket import (
    CloseReason,
    ConnectionClosed,
    ConnectionRejected,
    ConnectionTimeout,
    DisconnectionTimeout,
    HandshakeError,
)
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidState, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

__all__ = [
    "CloseReason",
    "ConnectionClosed",
    "ConnectionRejected",
    "ConnectionTimeout",
    "DisconnectionTimeout",
    "HandshakeError",
    "WebSocketConnection",
    "connect_stream",
    "open_websocket",
]

READ_SIZE = 256 * 1024
"""Bytes asked of the stream per read: a burst of small frames is parsed in one pass."""

ABNORMAL = 1006  # the connection ended without a close frame (RFC 6455 §7.1.5)
INVALID_DATA = 1007

_TEXT, _BINARY, _CONT, _PONG = Opcode.TEXT, Opcode.BINARY, Opcode.CONT, Opcode.PONG


@attrs.define(eq=False)
class WebSocketConnection:
    """One client connection, opened by `open_websocket`.

    One task reads (``get_message``; a second concurrent reader is refused with
    `trio.BusyResourceError`); any task may send or ping. Messages that arrived before the peer's close
    frame can still be read; after them ``get_message`` raises `ConnectionClosed`.
    """

    _stream: trio.abc.Stream
    _protocol: ClientProtocol
    read_size: int = READ_SIZE
    last_message_at: float = 0.0
    """`trio.current_time()` of the last read that completed a message (the staleness watchdog's clock)."""
    _ready: deque[str | bytes] = attrs.field(factory=deque)
    _parts: list[bytes] = attrs.field(factory=list)
    _parts_text: bool = False
    _pings: dict[bytes, trio.Event] = attrs.field(factory=dict)  # in flight, oldest first
    _send_lock: trio.StrictFIFOLock = attrs.field(factory=trio.StrictFIFOLock)
    _close_reason: CloseReason | None = None
    _ended: trio.Event = attrs.field(factory=trio.Event)  # the peer's close frame arrived or the stream ended
    _reading: bool = False

    @property
    def closed(self) -> CloseReason | None:
        """Why the connection closed (None while open)."""
        return self._close_reason

    # ------------------------------------------------------------------ receiving
    async def get_message(self) -> str | bytes:
        """The next message (``str`` for a text message, ``bytes`` for a binary one)."""
        if not self._ready:
            await self._wait_ready()
        return self._ready.popleft()

    async def get_messages(self) -> list[str | bytes]:
        """Every message that is ready, at least one (reading once if none is): the burst of one read.

        The stream sessions' receive loop takes messages this way, so a burst is handled, and handed
        on, as one unit (see `brokers.stream.pump`)."""
        ready = self._ready
        if not ready:
            await self._wait_ready()
        burst = list(ready)
        ready.clear()
        return burst

    async def _wait_ready(self) -> None:
        """Wait until at least one message is ready (raises `ConnectionClosed` when none will be)."""
        if self._ready:
            return
        if self._reading:
            raise trio.BusyResourceError("another task is already reading this websocket")
        self._reading = True
        try:
            while not self._ready:
                if self._close_reason is not None:
                    raise ConnectionClosed(self._close_reason)
                await self._read()
        finally:
            self._reading = False

    async def _read(self) -> None:
        """One read from the stream, every frame in it handled (the hot path: kept flat)."""
        try:
            data = await self._stream.receive_some(self.read_size)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            data = b""
        protocol = self._protocol
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        ready = self._ready
        ready_before = len(ready)
        try:
            for event in protocol.events_received():
                opcode = event.opcode  # type: ignore[union-attr]  # a Response only during the handshake
                if event.fin and not self._parts:  # type: ignore[union-attr]
                    if opcode is _TEXT:
                        ready.append(event.data.decode())  # type: ignore[union-attr]  # the common case
                        continue
                    if opcode is _BINARY:
                        ready.append(event.data)  # type: ignore[union-attr,arg-type]
                        continue
                self._on_frame(event)  # type: ignore[arg-type]
        except UnicodeDecodeError as error:
            protocol.fail(INVALID_DATA, f"a text message is not UTF-8 ({error.reason} at {error.start})")
        if len(ready) > ready_before:
            self.last_message_at = trio.current_time()
        await self._flush()  # pongs, close answers and failures the protocol wrote
        if not data or protocol.close_rcvd is not None or protocol.state is State.CLOSED or \
                protocol.parser_exc is not None:
            self._end_from_protocol()

    def _on_frame(self, frame: Frame) -> None:
        """Fragments, pongs (pings and closes the protocol answers itself)."""
        opcode = frame.opcode
        if opcode is _TEXT or opcode is _BINARY or opcode is _CONT:
            if opcode is not _CONT:
                self._parts_text = opcode is _TEXT
            self._parts.append(bytes(frame.data))
            if frame.fin:
                whole, self._parts = b"".join(self._parts), []
                self._ready.append(whole.decode() if self._parts_text else whole)
        elif opcode is _PONG:
            self._wake_pings(bytes(frame.data))

    def _end_from_protocol(self) -> None:
        protocol = self._protocol
        close = protocol.close_rcvd  # the peer closed (or answered our close)
        if close is None or protocol.close_rcvd_then_sent is False:
            close = protocol.close_sent  # we failed the connection (too big, not UTF-8, a protocol error)
        if close is not None:
            self._end(close.code, close.reason or None)
        else:
            self._end(ABNORMAL, "the connection ended without a close frame")

    def _end(self, code: int, reason: str | None) -> None:
        if self._close_reason is None:
            self._close_reason = CloseReason(code, reason)
        self._ended.set()
        self._wake_pings(None)

    # ------------------------------------------------------------------ sending
    async def send_message(self, message: str | bytes) -> None:
        """Send one text (``str``) or binary (``bytes``) message."""
        self._check_open()
        try:
            if isinstance(message, str):
                self._protocol.send_text(message.encode())
            else:
                self._protocol.send_binary(message)
        except InvalidState:
            raise ConnectionClosed(self._close_reason or CloseReason(ABNORMAL, "closing")) from None
        await self._flush(raise_closed=True)

    async def ping(self, payload: bytes | None = None) -> None:
        """Send a ping and wait for its pong (a pong also answers every earlier ping in flight)."""
        self._check_open()
        if payload is None:
            payload = struct.pack("!I", random.getrandbits(32))
        if payload in self._pings:
            raise ValueError(f"a ping with payload {payload!r} is already in flight")
        answered = self._pings[payload] = trio.Event()
        try:
            self._protocol.send_ping(payload)
        except InvalidState:
            raise ConnectionClosed(self._close_reason or CloseReason(ABNORMAL, "closing")) from None
        await self._flush(raise_closed=True)
        await answered.wait()
        if payload in self._pings:  # woken by the close, not by a pong
            self._pings.pop(payload, None)
            raise ConnectionClosed(self._close_reason)

    def _check_open(self) -> None:
        if self._close_reason is not None:
            raise ConnectionClosed(self._close_reason)

    def _wake_pings(self, payload: bytes | None) -> None:
        """A pong: wake its ping and every older one. None (closed): wake all, left in place (failed)."""
        if payload is None:
            for event in self._pings.values():
                event.set()
            return
        if payload not in self._pings:
            return  # an unsolicited pong
        while self._pings:
            key = next(iter(self._pings))
            self._pings.pop(key).set()
            if key == payload:
                return

    async def _flush(self, *, raise_closed: bool = False) -> None:
        """Send what the protocol has written, in the order it wrote it.

        Every read ends here; most have nothing to send, and then this must not yield: an uncontended
        lock is taken without a scheduler pass (``async with`` on a trio lock always makes one, which
        put a whole scheduling round, tens of microseconds on a loaded machine, between each read and
        the handling of its messages)."""
        lock = self._send_lock
        try:
            lock.acquire_nowait()
        except trio.WouldBlock:
            await lock.acquire()
        try:
            outgoing = b"".join(self._protocol.data_to_send())  # an empty chunk (EOF) adds nothing
            if not outgoing:
                return
            try:
                await self._stream.send_all(outgoing)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._end(ABNORMAL, "the connection broke while sending")
                if raise_closed:
                    assert self._close_reason is not None
                    raise ConnectionClosed(self._close_reason) from None
        finally:
            lock.release()

    # ------------------------------------------------------------------ opening and closing
    async def _handshake(self, extra_headers: list[tuple[bytes, bytes]]) -> None:
        protocol = self._protocol
        request = protocol.connect()
        for name, value in extra_headers:
            request.headers[name.decode()] = value.decode()
        protocol.send_request(request)
        await self._flush()
        while protocol.state is State.CONNECTING:
            try:
                data = await self._stream.receive_some(self.read_size)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            if protocol.handshake_exc is not None or not data:
                break
        error = protocol.handshake_exc
        if isinstance(error, InvalidStatus):
            response = error.response
            raise ConnectionRejected(response.status_code,
                                     tuple((k.lower().encode(), v.encode()) for k, v in response.headers.raw_items()),
                                     body=bytes(response.body) if response.body else None)
        events = protocol.events_received()
        # The upgrade succeeded iff its Response came through without an error; the frames that came in
        # the same read are the first messages, and may already have failed the connection (a first
        # message over the size limit): that is a close (1009), not a failed handshake.
        if error is not None or not any(isinstance(event, Response) for event in events):
            raise HandshakeError(f"opening handshake failed: {error or 'the connection ended'}")
        try:
            for event in events:
                if isinstance(event, Frame):
                    self._on_frame(event)
        except UnicodeDecodeError as decode_error:
            protocol.fail(INVALID_DATA, f"a text message is not UTF-8 ({decode_error.reason} at {decode_error.start})")
        if self._ready:
            self.last_message_at = trio.current_time()
        await self._flush()
        if protocol.close_rcvd is not None or protocol.state is State.CLOSED or protocol.parser_exc is not None:
            self._end_from_protocol()

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Close: send a close frame (if still open) and wait for the peer's, then close the stream.
        Idempotent. Bound it with a timeout (`open_websocket` does: ``disconnect_timeout``)."""
        try:
            if self._protocol.state is State.OPEN and self._close_reason is None:
                self._close_reason = CloseReason(code, reason)
                self._protocol.send_close(code, reason or "")
                self._ready.clear()  # a local close discards what was not read
                await self._flush()
                if self._reading:
                    await self._ended.wait()  # the reading task sees the answer
                else:
                    while not self._ended.is_set():
                        await self._read()
        finally:
            self._ready.clear()
            self._end(ABNORMAL, None)  # a no-op unless nothing else set the reason
            await trio.aclose_forcefully(self._stream)


@asynccontextmanager
async def open_websocket(url: str, *, ssl_context: ssl.SSLContext | None = None,
                         extra_headers: list[tuple[bytes, bytes]] | None = None,
                         max_message_size: int = 1 << 20, connect_timeout: float = 60.0,
                         disconnect_timeout: float = 60.0, read_size: int = READ_SIZE) -> AsyncIterator[WebSocketConnection]:
    """Open a ``ws://`` or ``wss://`` connection to ``url``; closed (a close handshake bounded by
    ``disconnect_timeout``) when the block ends.

    Raises `ConnectionTimeout` (not open within ``connect_timeout``), `ConnectionRejected` (the server
    answered the upgrade with another HTTP status), `HandshakeError` (refused, unreachable, a TLS
    failure such as a certificate that does not verify), `DisconnectionTimeout` (no close answer in time).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a websocket URL: {url!r}")
    secure = parts.scheme == "wss"
    try:
        with trio.fail_after(connect_timeout):
            ws = await _connect(url, parts.hostname, parts.port or (443 if secure else 80), secure, ssl_context,
                                max_message_size, read_size, extra_headers or [])
    except trio.TooSlowError:
        raise ConnectionTimeout from None
    try:
        yield ws
    finally:
        try:
            with trio.fail_after(disconnect_timeout):
                await ws.aclose()
        except trio.TooSlowError:
            raise DisconnectionTimeout from None


async def _connect(url: str, host: str, port: int, secure: bool, ssl_context: ssl.SSLContext | None,
                   max_message_size: int, read_size: int, extra_headers: list[tuple[bytes, bytes]]) -> WebSocketConnection:
    try:
        stream: trio.abc.Stream = await trio.open_tcp_stream(host, port)
    except OSError as error:
        raise HandshakeError(f"cannot reach {host}:{port}: {error}") from error
    try:
        if secure:
            stream = trio.SSLStream(stream, ssl_context or ssl.create_default_context(), server_hostname=host,
                                    https_compatible=True)
            try:
                await stream.do_handshake()
            except trio.BrokenResourceError as error:
                raise HandshakeError(f"TLS with {host}:{port} failed: {error.__cause__ or error}") from error
        return await connect_stream(stream, url, max_message_size=max_message_size, read_size=read_size,
                                    extra_headers=extra_headers)
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise


async def connect_stream(stream: trio.abc.Stream, url: str, *, max_message_size: int = 1 << 20,
                         read_size: int = READ_SIZE,
                         extra_headers: list[tuple[bytes, bytes]] | None = None) -> WebSocketConnection:
    """The opening handshake for ``url`` over a stream the caller opened (`open_websocket` opens TCP and
    TLS itself; this serves any other stream: a tunnel, or a canned one in `bench.pipeline`). The
    stream is the caller's to close if this raises."""
    ws = WebSocketConnection(stream, ClientProtocol(parse_uri(url), max_size=max_message_size), read_size=read_size)
    await ws._handshake(extra_headers or [])
    return ws
