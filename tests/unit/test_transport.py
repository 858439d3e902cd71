"""brokers.transport (the venue streams' websocket client) against a scripted loopback server: messages
split into fragments, pings both ways, close handshakes with their codes and reasons, messages over the
size limit, text that is not UTF-8, a refused upgrade, and TLS with certificate verification on
(tests/support/tls: a self-signed certificate for localhost and 127.0.0.1)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from brokers.stream import run_websocket
from brokers.transport import (
    ConnectionClosed,
    ConnectionRejected,
    HandshakeError,
    WebSocketConnection,
    open_websocket,
)
from protocol.errors import VenueUnavailable

TLS = Path(__file__).parents[1] / "support" / "tls"


@attrs.define(eq=False)
class Peer:
    """The server's side of one connection, frame by frame (wsproto, no conveniences)."""

    stream: trio.abc.Stream
    ws: WSConnection = attrs.field(factory=lambda: WSConnection(ConnectionType.SERVER))
    pending: list[Event] = attrs.field(factory=list)
    request: Request | None = None

    async def send(self, event: Event) -> None:
        await self.stream.send_all(self.ws.send(event))

    async def send_raw(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def next_event(self) -> Event:
        while not self.pending:
            data = await self.stream.receive_some(65536)
            self.ws.receive_data(data or None)
            self.pending.extend(self.ws.events())
        return self.pending.pop(0)

    async def accept(self) -> None:
        event = await self.next_event()
        assert isinstance(event, Request)
        self.request = event
        await self.send(AcceptConnection())

    async def next_data(self) -> Event:
        """The next event that is not a ping (answered) or a pong."""
        while True:
            event = await self.next_event()
            if isinstance(event, Ping):
                await self.send(event.response())
            elif not isinstance(event, Pong):
                return event


Script = Callable[[Peer], Awaitable[None]]


@pytest.fixture
def clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0.05)  # virtual time once loopback I/O is idle


@pytest.fixture
async def serve(clock: trio.testing.MockClock) -> AsyncIterator[Callable[..., Awaitable[int]]]:
    """``await serve(script, tls=False, host="127.0.0.1")``: a loopback server running ``script`` per
    connection; its port."""
    async with trio.open_nursery() as nursery:

        async def start(script: Script, *, tls: bool = False, host: str = "127.0.0.1") -> int:
            context = None
            if tls:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")

            async def handle(stream: trio.SocketStream) -> None:
                wrapped: trio.abc.Stream = stream
                if context is not None:
                    wrapped = trio.SSLStream(stream, context, server_side=True)
                try:
                    await script(Peer(wrapped))
                except (trio.BrokenResourceError, trio.ClosedResourceError, EOFError):
                    pass  # a client that refused the certificate, or left
                finally:
                    await trio.aclose_forcefully(wrapped)

            listeners = await nursery.start(partial(trio.serve_tcp, handle, 0, host=host))
            return int(listeners[0].socket.getsockname()[1])

        yield start
        nursery.cancel_scope.cancel()


async def test_a_message_in_fragments_arrives_whole_and_in_order(serve: Callable[..., Awaitable[int]]) -> None:
    async def script(peer: Peer) -> None:
        await peer.accept()
        await peer.send(TextMessage(data="first"))
        await peer.send(TextMessage(data='{"a": ', message_finished=False))
        await peer.send(Ping(payload=b"mid"))  # a control frame may come between fragments
        await peer.send(TextMessage(data="1, ", message_finished=False))
        await peer.send(TextMessage(data='"é": 2}', message_finished=True))
        await peer.send(BytesMessage(data=b"\x00\x01", message_finished=False))
        await peer.send(BytesMessage(data=b"\x02", message_finished=True))
        await peer.send(TextMessage(data="last"))
        assert await peer.next_event() == Pong(payload=b"mid")  # answered while reading
        await peer.next_event()

    port = await serve(script)
    with trio.fail_after(5):
        async with open_websocket(f"ws://127.0.0.1:{port}/stream?streams=x") as ws:
            got = [await ws.get_message() for _ in range(4)]
    assert got == ["first", '{"a": 1, "é": 2}', b"\x00\x01\x02", "last"]


async def test_the_request_names_host_path_and_query(serve: Callable[..., Awaitable[int]]) -> None:
    seen: list[Request] = []

    async def script(peer: Peer) -> None:
        await peer.accept()
        assert peer.request is not None
        seen.append(peer.request)
        await peer.next_event()

    port = await serve(script)
    with trio.fail_after(5):
        async with open_websocket(f"ws://127.0.0.1:{port}/v5/public/linear?x=1",
                                  extra_headers=[(b"X-Test", b"yes")]):
            pass
    assert seen[0].target == "/v5/public/linear?x=1" and seen[0].host == f"127.0.0.1:{port}"
    assert (b"x-test", b"yes") in [(k.lower(), v) for k, v in seen[0].extra_headers]


async def test_ping_waits_for_its_pong_and_a_peer_that_never_answers_leaves_it_waiting(
        serve: Callable[..., Awaitable[int]]) -> None:
    answer = [True]

    async def script(peer: Peer) -> None:
        await peer.accept()
        while True:
            event = await peer.next_event()
            if isinstance(event, Ping) and answer[0]:
                await peer.send(event.response())
            elif isinstance(event, CloseConnection):
                await peer.send(event.response())
                return

    port = await serve(script)
    with trio.fail_after(60):
        async with open_websocket(f"ws://127.0.0.1:{port}/") as ws, trio.open_nursery() as nursery:
            reading = trio.Event()

            async def read() -> None:
                reading.set()
                with pytest.raises(ConnectionClosed):
                    await ws.get_message()

            nursery.start_soon(read)
            await reading.wait()
            await ws.ping(b"one")  # answered: returns
            answer[0] = False
            with trio.move_on_after(5) as unanswered:
                await ws.ping(b"two")
            assert unanswered.cancelled_caught
            nursery.start_soon(ws.aclose)


async def test_the_peer_closing_ends_reading_after_what_it_sent_with_its_code_and_reason(
        serve: Callable[..., Awaitable[int]]) -> None:
    echoed: list[CloseConnection] = []

    async def script(peer: Peer) -> None:
        await peer.accept()
        await peer.send(TextMessage(data="before"))
        await peer.send(CloseConnection(code=4001, reason="going away for a bit"))
        event = await peer.next_event()
        assert isinstance(event, CloseConnection)
        echoed.append(event)

    port = await serve(script)
    with trio.fail_after(5):
        async with open_websocket(f"ws://127.0.0.1:{port}/") as ws:
            assert await ws.get_message() == "before"
            with pytest.raises(ConnectionClosed) as closed:
                await ws.get_message()
            with pytest.raises(ConnectionClosed):
                await ws.send_message("after")
    assert closed.value.reason.code == 4001 and closed.value.reason.reason == "going away for a bit"
    assert echoed[0].code == 4001  # the close handshake answered with the peer's code


async def test_closing_sends_our_code_and_reason_and_waits_for_the_answer(
        serve: Callable[..., Awaitable[int]]) -> None:
    received: list[CloseConnection] = []

    async def script(peer: Peer) -> None:
        await peer.accept()
        await peer.send(TextMessage(data="unread"))
        event = await peer.next_data()
        assert isinstance(event, CloseConnection)
        received.append(event)
        await peer.send(event.response())

    port = await serve(script)
    with trio.fail_after(5):
        async with open_websocket(f"ws://127.0.0.1:{port}/") as ws:
            await ws.aclose(4000, "done here")
            assert ws.closed is not None and ws.closed.code == 4000 and ws.closed.reason == "done here"
            with pytest.raises(ConnectionClosed):
                await ws.get_message()  # a local close discards what was not read
            await ws.aclose()  # idempotent
    assert (received[0].code, received[0].reason) == (4000, "done here")


async def test_a_connection_that_ends_without_a_close_frame_is_abnormal(
        serve: Callable[..., Awaitable[int]]) -> None:
    async def script(peer: Peer) -> None:
        await peer.accept()
        await peer.send(TextMessage(data="one"))
        await peer.stream.aclose()

    port = await serve(script)
    with trio.fail_after(5):
        async with open_websocket(f"ws://127.0.0.1:{port}/") as ws:
            assert await ws.get_message() == "one"
            with pytest.raises(ConnectionClosed) as closed:
                await ws.get_message()
    assert closed.value.reason.code == 1006


@pytest.mark.parametrize("fragments", [1, 4])
async def test_a_message_over_the_size_limit_closes_with_1009(
        serve: Callable[..., Awaitable[int]], fragments: int) -> None:
    received: list[CloseConnection] = []

    async def script(peer: Peer) -> None:
        await peer.accept()
        await peer.send(TextMessage(data="x" * 100))  # at the limit: fine
        for n in range(fragments):
            await peer.send(TextMessage(data="y" * (200 // fragments), message_finished=n == fragments - 1))
        event = await peer.next_data()
        assert isinstance(event, CloseConnection)
        received.append(event)
        await peer.send(event.response())

    port = await serve(script)
    with trio.fail_after(5):
        async with open_websocket(f"ws://127.0.0.1:{port}/", max_message_size=100) as ws:
            assert await ws.get_message() == "x" * 100
            with pytest.raises(ConnectionClosed) as closed:
                await ws.get_message()
    assert closed.value.reason.code == 1009 and received[0].code == 1009


async def test_text_that_is_not_utf8_closes_with_1007(serve: Callable[..., Awaitable[int]]) -> None:
    received: list[CloseConnection] = []

    async def script(peer: Peer) -> None:
        await peer.accept()
        await peer.send_raw(b"\x81\x02\xc3\x28")  # a final text frame, 2 bytes: not UTF-8
        event = await peer.next_data()
        assert isinstance(event, CloseConnection)
        received.append(event)

    port = await serve(script)
    with trio.fail_after(5):
        async with open_websocket(f"ws://127.0.0.1:{port}/") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await ws.get_message()
    assert closed.value.reason.code == 1007 and received[0].code == 1007


@pytest.mark.parametrize(("first", "code"), [
    (b"\x81\x7e\x00\xc8" + b"y" * 200, 1009),  # a final text frame of 200 bytes: over the limit
    (b"\x81\x02\xc3\x28", 1007),  # not UTF-8
    (b"\x81\x02ok\x88\x06\x0f\xa1" + b"bye!", 4001),  # a message and the peer's close
], ids=["over-the-limit", "not-utf8", "message-then-close"])
async def test_frames_in_the_same_read_as_the_upgrade_answer_are_messages_or_closes_not_handshake_errors(
        serve: Callable[..., Awaitable[int]], first: bytes, code: int) -> None:
    async def script(peer: Peer) -> None:
        event = await peer.next_event()
        assert isinstance(event, Request)
        await peer.send_raw(peer.ws.send(AcceptConnection()) + first)  # one write: one read on the client
        while not isinstance(await peer.next_data(), CloseConnection):
            pass

    port = await serve(script)
    received: list[str | bytes] = []
    with trio.fail_after(5):
        async with open_websocket(f"ws://127.0.0.1:{port}/", max_message_size=100) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    received.append(await ws.get_message())
    assert closed.value.reason.code == code
    assert received == (["ok"] if code == 4001 else [])


async def test_a_refused_upgrade_is_connection_rejected_with_status_and_body(
        serve: Callable[..., Awaitable[int]]) -> None:
    async def script(peer: Peer) -> None:
        await peer.next_event()
        await peer.send(RejectConnection(status_code=403, headers=[(b"content-length", b"9")], has_body=True))
        await peer.send(RejectData(data=b"forbidden", body_finished=True))

    port = await serve(script)
    with trio.fail_after(5), pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket(f"ws://127.0.0.1:{port}/"):
            pass
    assert rejected.value.status_code == 403 and rejected.value.body == b"forbidden"


async def test_one_reader_at_a_time(serve: Callable[..., Awaitable[int]]) -> None:
    async def script(peer: Peer) -> None:
        await peer.accept()
        await peer.next_event()

    port = await serve(script)
    with trio.fail_after(5):
        async with open_websocket(f"ws://127.0.0.1:{port}/") as ws, trio.open_nursery() as nursery:
            nursery.start_soon(ws.get_message)
            await trio.testing.wait_all_tasks_blocked()
            with pytest.raises(trio.BusyResourceError):
                await ws.get_message()
            nursery.cancel_scope.cancel()


def _trusting_our_certificate() -> ssl.SSLContext:
    context = ssl.create_default_context()  # verification on: CERT_REQUIRED, host names checked
    context.load_verify_locations(TLS / "cert.pem")
    return context


async def test_tls_with_a_trusted_certificate_carries_messages(serve: Callable[..., Awaitable[int]]) -> None:
    async def script(peer: Peer) -> None:
        await peer.accept()
        event = await peer.next_data()
        assert isinstance(event, TextMessage)
        await peer.send(TextMessage(data=f"echo {event.data}"))
        await peer.next_event()

    port = await serve(script, tls=True)
    for host in ("localhost", "127.0.0.1"):  # both names the certificate carries
        with trio.fail_after(5):
            async with open_websocket(f"wss://{host}:{port}/", ssl_context=_trusting_our_certificate()) as ws:
                await ws.send_message("hi")
                assert await ws.get_message() == "echo hi"


async def test_tls_refuses_an_untrusted_certificate_and_a_wrong_host_name(
        serve: Callable[..., Awaitable[int]]) -> None:
    async def script(peer: Peer) -> None:
        await peer.accept()

    port = await serve(script, tls=True)
    with trio.fail_after(5), pytest.raises(HandshakeError, match="CERTIFICATE_VERIFY_FAILED"):
        async with open_websocket(f"wss://localhost:{port}/"):  # the system's CAs never signed it
            pass
    other = await serve(script, tls=True, host="127.0.0.2")  # loopback too, but not a name in the certificate
    with trio.fail_after(5), pytest.raises(HandshakeError, match="CERTIFICATE_VERIFY_FAILED"):
        async with open_websocket(f"wss://127.0.0.2:{other}/", ssl_context=_trusting_our_certificate()):
            pass


async def test_run_websocket_reports_an_oversized_message_as_venue_unavailable(
        serve: Callable[..., Awaitable[int]]) -> None:
    async def script(peer: Peer) -> None:
        await peer.accept()
        await peer.send(TextMessage(data="z" * (16 * 1024 * 1024 + 1)))
        await peer.next_data()

    port = await serve(script)
    with trio.fail_after(30), pytest.raises(VenueUnavailable, match=r"exceeds limit"):
        await run_websocket(f"ws://127.0.0.1:{port}/", _ignore, venue="test", ping_interval=None)


async def _ignore(text: str) -> None:
    pass


def test_the_session_is_what_venue_code_is_typed_against() -> None:
    from brokers import stream

    assert stream.WebSocketConnection is WebSocketConnection
