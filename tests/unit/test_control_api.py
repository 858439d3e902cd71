"""The daemon's control API: token-guarded, commands answered by id, events streamed on Watch, and no
client — leaving any way, sending anything, never reading — can end more than its own session."""

from __future__ import annotations

import os
import socket
import ssl
import stat
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url
from wsproto.events import BytesMessage
from wsproto.utilities import RemoteProtocolError

from actors.config import ControlConfig
from actors.handle import RouterHandle, open_router_with
from algotrendy.cli import main
from algotrendy.control import ControlServer, ControlStartError, TokenFile, bind_control, serve_control_api
from brokers.base import BrokerState, Emit, Subscription, broker_actor
from protocol import messages as m
from protocol.model import Balance, Fill, Order, OrderRequest, OrderType, Side, Ticker, utc_now
from tests.support.fake_broker import FakeBroker, FakeVenue
from tests.support.raw_websocket import RawClient

TLS = Path(__file__).parent.parent / "support" / "tls"


@attrs.define
class FloodBroker(FakeBroker):
    """A fake whose public stream pours out large tickers while ``flood`` is set."""

    flood: trio.Event = attrs.field(factory=trio.Event)
    stop: trio.Event = attrs.field(factory=trio.Event)

    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await self.flood.wait()
        padding = "X" * 4000  # 4 KB per event: the socket buffers fill after a few thousand
        while not self.stop.is_set():
            for _ in range(200):
                await emit(Ticker(venue="fake", symbol=f"BTC/USDT{padding}", last=Decimal(1), timestamp=utc_now()))
            await trio.sleep(0.001)
        await trio.sleep_forever()


@attrs.define
class Daemon:
    router: RouterHandle
    server: ControlServer
    market: FakeVenue
    broker: FloodBroker
    notes: list[str]

    @property
    def port(self) -> int:
        return self.server.endpoint.port

    @property
    def url(self) -> str:
        return self.server.endpoint.url


@asynccontextmanager
async def daemon(tmp_path: Path, handle: type[RouterHandle] = RouterHandle, **control: object) -> AsyncIterator[Daemon]:
    market = FakeVenue()
    broker = FloodBroker(market)
    actor = broker_actor(lambda: broker, BrokerState(venue="fake"))
    notes: list[str] = []
    config = ControlConfig(port=0, token_file=str(tmp_path / "control.token"), **control)  # type: ignore[arg-type]
    async with open_router_with({"fake": actor}, seed=1) as router, trio.open_nursery() as nursery:
        await router.wait_connected("fake")
        server = await nursery.start(serve_control_api, handle(router.router), config, notes.append)
        yield Daemon(router, server, market, broker, notes)
        broker.stop.set()
        nursery.cancel_scope.cancel()


async def served(d: Daemon, token: str) -> bool:
    """A fresh client is welcomed and its command answered, and the venue never restarted."""
    client = await RawClient.open(d.port)
    await client.hello(token)
    await client.send_message(m.GetBalance(id="ok", venue="fake", currency="USDT"))
    reply = await client.next_message()
    await client.abort()
    status = d.router.status("fake")
    return (isinstance(reply, m.BalanceReply) and reply.id == "ok" and d.market.connects == 1
            and status is not None and status.state is m.ConnectionState.CONNECTED)


async def until(d: Daemon, condition: Callable[[], bool]) -> None:
    with trio.fail_after(20):
        while not condition():
            await d.server.wait_changed()


async def session_ended(d: Daemon, count: int) -> list[str]:
    await until(d, lambda: len(d.server.ended) >= count)
    return [why for _, why in d.server.ended]


def token_of(d: Daemon) -> str:
    return d.server.endpoint.token


# ----------------------------------------------------------------------------------- the protocol


async def test_wrong_token_is_refused_and_right_token_works(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d:
        async with open_websocket_url(d.url) as ws:
            await ws.send_message(m.encode(m.Hello(token="wrong")).decode())
            with pytest.raises(ConnectionClosed) as refused:
                await ws.get_message()
            assert refused.value.reason.code == 4401
        async with open_websocket_url(d.url) as ws:
            await ws.send_message(m.encode(m.Hello(token=token_of(d))).decode())
            welcome = m.decode_control_reply(await ws.get_message())
            assert isinstance(welcome, m.Welcome) and welcome.venues == ["fake"]
            assert [s.state for s in welcome.statuses] == [m.ConnectionState.CONNECTED]
            await ws.send_message(m.encode(m.Watch(kinds=[m.EventKind.ORDER])).decode())
            await trio.sleep(0.1)
            request = OrderRequest(venue="fake", symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT,
                                   quantity=Decimal(1), price=Decimal(99), client_order_id="remote1")
            await ws.send_message(m.encode(m.PlaceOrder(id="q1", venue="fake", request=request)).decode())
            got_reply = got_event = False
            with trio.fail_after(5):
                while not (got_reply and got_event):
                    message = m.decode_message(await ws.get_message())
                    if isinstance(message, m.OrderReply):
                        assert message.id == "q1" and message.order.client_order_id == "remote1"
                        got_reply = True
                    elif isinstance(message, Order):
                        assert message.client_order_id == "remote1"
                        got_event = True
            await ws.send_message(m.encode(m.GetBalance(id="q2", venue="nope", currency="USDT")).decode())
            reply = m.decode_reply(await ws.get_message())
            assert isinstance(reply, m.ErrorReply) and reply.id == "q2" and reply.error.kind == "NotConnected"
    assert any(n.startswith("control API on ws://127.0.0.1:") for n in d.notes)


async def test_named_watches_are_acknowledged_wrapped_and_ended_on_unwatch(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d:
        client = await RawClient.open(d.port)
        await client.hello(token_of(d))
        await client.send_message(m.Watch(id="w1", kinds=[m.EventKind.FILL]))
        assert await client.next_message() == m.AckReply(id="w1")
        request = OrderRequest(venue="fake", symbol="BTC/USDT", side=Side.BUY, type=OrderType.MARKET,
                               quantity=Decimal(1), client_order_id="m1")
        await client.send_message(m.PlaceOrder(id="p1", venue="fake", request=request))
        seen: dict[str, object] = {}
        with trio.fail_after(5):
            while len(seen) < 2:
                message = await client.next_message()
                key = "fill" if isinstance(message, m.WatchEvent) else "reply"
                seen[key] = message
        event = seen["fill"]
        assert isinstance(event, m.WatchEvent) and event.watch == "w1" and isinstance(event.event, Fill)
        await client.send_message(m.Unwatch(id="w1"))
        assert await client.next_message() == m.AckReply(id="w1")
        await client.send_message(m.KillSwitch(id="k1", engage=True, reason="test"))
        assert isinstance(await client.next_message(), m.OrdersReply)
        await client.send_message(m.GetDaemonStatus(id="s1"))
        status = await client.next_message()
        assert isinstance(status, m.DaemonStatusReply) and status.kill_switch == "test" and status.sessions == 1
        await client.send_message(m.KillSwitch(id="k2", engage=False))
        assert await client.next_message() == m.AckReply(id="k2")
        assert d.router.router.risk.kill_switch_reason is None


# ---------------------------------------------------------------------- no client breaks the daemon


async def test_every_way_a_client_leaves_ends_its_session_only(tmp_path: Path) -> None:
    async with daemon(tmp_path) as d:
        token = token_of(d)
        # 1. A normal close (1000).
        async with open_websocket_url(d.url) as ws:
            await ws.send_message(m.encode(m.Hello(token=token)).decode())
            await ws.get_message()
        assert (await session_ended(d, 1))[-1] == "closed (1000 NORMAL_CLOSURE)"
        assert await served(d, token)
        # 2. Gone without a close frame.
        client = await RawClient.open(d.port)
        await client.hello(token)
        await client.send_message(m.Watch())
        await client.abort()
        assert "closed (1006 ABNORMAL_CLOSURE)" in (await session_ended(d, 3))[-2:]
        assert await served(d, token)
        # 3. A 10 MB command: the library closes that connection with 1009.
        async with open_websocket_url(d.url) as ws:
            await ws.send_message(m.encode(m.Hello(token=token)).decode())
            await ws.get_message()
            with pytest.raises(ConnectionClosed) as too_big:  # while sending, or on the next read
                await ws.send_message('{"kind":"GetBalance","id":"big","venue":"' + "x" * 10_000_000 + '"}')
                await ws.get_message()
            assert too_big.value.reason.code == 1009
        assert "closed (1009 MESSAGE_TOO_BIG)" in await session_ended(d, 5)
        assert await served(d, token)
        # 4. Bytes that are not a websocket frame at all.
        client = await RawClient.open(d.port)
        await client.hello(token)
        await client.stream.send_all(b"\xff\xff\xff\xff GET / HTTP/1.1\r\n\r\n")
        with trio.fail_after(10):
            with pytest.raises(EOFError):
                while True:
                    await client.next_message()
        assert any(why.startswith("closed (1002") for why in await session_ended(d, 7))
        assert await served(d, token)
        await session_ended(d, 8)
        assert d.server.sessions == 0 and d.market.connects == 1


async def test_a_client_that_never_reads_is_cut_off_and_nobody_else_notices(tmp_path: Path) -> None:
    async with daemon(tmp_path, send_timeout=0.5) as d, d.router.subscribe(kinds=["ticker"]) as local:
        token = token_of(d)
        stuck = await RawClient.open(d.port, receive_buffer=4096)
        await stuck.hello(token)
        await stuck.send_message(m.Watch(id="all"))
        assert await stuck.next_message() == m.AckReply(id="all")
        d.broker.flood.set()  # and from here on the client reads nothing
        await until(d, lambda: any(why.startswith("slow client") for _, why in d.server.ended))
        d.broker.stop.set()
        assert await served(d, token)
        assert isinstance(await local.get(), Ticker)  # the strategy in the daemon kept its prices
        await stuck.abort()


class FaultyHandle(RouterHandle):
    """Raises (as a bug in the daemon would) on the command with id "boom"."""

    async def request(self, command: m.CommandMsg) -> m.ReplyMsg:
        if command.id == "boom":
            raise KeyError("a bug")
        return await super().request(command)


async def test_garbage_and_failing_commands_are_answered_under_their_id(tmp_path: Path) -> None:
    async with daemon(tmp_path, FaultyHandle) as d:
        client = await RawClient.open(d.port)
        await client.hello(token_of(d))
        for raw, expected_id in [("not json", ""), ('{"kind":"GetBalance","id":"g1","venue":5}', "g1"),
                                 ('{"kind":"Nope","id":"g2"}', "g2"), ("[1,2]", ""), ('{"id":7}', "")]:
            await client.send_text(raw)
            reply = await client.next_message()
            assert isinstance(reply, m.ErrorReply) and reply.id == expected_id, raw
            assert reply.error.kind == "ProtocolViolation"
        await client.send(BytesMessage(data=os.urandom(64)))
        reply = await client.next_message()
        assert isinstance(reply, m.ErrorReply) and reply.error.kind == "ProtocolViolation"
        # A command whose handling raises (a bug in the daemon) is answered, typed, and the session lives.
        await client.send_message(m.GetBalances(id="boom", venue="fake"))
        reply = await client.next_message()
        assert isinstance(reply, m.ErrorReply) and reply.id == "boom" and "KeyError" in reply.error.message
        await client.send_message(m.GetBalances(id="after", venue="fake"))
        assert isinstance(await client.next_message(), m.BalancesReply)
        assert d.server.sessions == 1
        await client.abort()


async def test_connections_beyond_the_cap_are_refused(tmp_path: Path) -> None:
    async with daemon(tmp_path, max_connections=2) as d:
        first, second = await RawClient.open(d.port), await RawClient.open(d.port)
        await first.hello(token_of(d))
        await second.hello(token_of(d))
        with pytest.raises(ConnectionRefusedError, match="503"):
            await RawClient.open(d.port)
        with pytest.raises(ConnectionRejected):
            async with open_websocket_url(d.url):
                pass
        await first.abort()
        await session_ended(d, 3)
        await until(d, lambda: d.server.connections <= 1)
        assert await served(d, token_of(d))
        await second.abort()


# ------------------------------------------------------------------------ token file, binding, TLS


async def test_token_file_is_private_held_and_removed(tmp_path: Path) -> None:
    path = tmp_path / "state" / "control.token"
    config = ControlConfig(port=0, token_file=str(path))
    notes: list[str] = []
    first = await bind_control(config, notes.append)
    assert path.read_text() == first.token and stat.S_IMODE(path.stat().st_mode) == 0o600
    # Same port: refused before the file is touched.
    with pytest.raises(ControlStartError, match=r"cannot listen on 127\.0\.0\.1:\d+: Address already in use"):
        await bind_control(ControlConfig(port=first.port, token_file=str(path)), notes.append)
    # Another port but the same file: the live daemon's file is not replaced.
    with pytest.raises(ControlStartError, match="belongs to a running daemon"):
        await bind_control(config, notes.append)
    assert path.read_text() == first.token
    first.close()
    for listener in first.listeners:
        await listener.aclose()
    assert not path.exists()
    # A file left by a daemon that died (no lock held) is taken over.
    path.write_text("stale")
    second = await bind_control(config, notes.append)
    assert path.read_text() == second.token != "stale"
    second.close()


async def test_non_loopback_needs_tls_and_tls_serves_wss(tmp_path: Path) -> None:
    with pytest.raises(ControlStartError, match="not loopback: set tls_cert"):
        await bind_control(ControlConfig(host="0.0.0.0", port=0), print)
    async with daemon(tmp_path, tls_cert=str(TLS / "cert.pem"), tls_key=str(TLS / "key.pem")) as d:
        assert d.url.startswith("wss://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(TLS / "cert.pem"))
        async with open_websocket_url(d.url, ssl_context=context) as ws:
            await ws.send_message(m.encode(m.Hello(token=token_of(d))).decode())
            assert isinstance(m.decode_control_reply(await ws.get_message()), m.Welcome)
        # A client speaking plain websocket to the TLS port gets nowhere (the server drops it at its
        # handshake timeout) and holds up no one meanwhile.
        async def plain_client() -> None:
            with pytest.raises((RemoteProtocolError, EOFError, trio.BrokenResourceError)):
                await RawClient.open(d.port)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(plain_client)
            await trio.sleep(0.1)
            async with open_websocket_url(d.url, ssl_context=context) as ws:
                await ws.send_message(m.encode(m.Hello(token=token_of(d))).decode())
                assert isinstance(m.decode_control_reply(await ws.get_message()), m.Welcome)
            nursery.cancel_scope.cancel()


def test_a_second_daemon_on_the_same_port_says_so_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ALGOTRENDY_HOME", str(tmp_path))
    monkeypatch.delenv("ALGOTRENDY_CONTROL_TOKEN", raising=False)
    first = socket.socket()
    first.bind(("127.0.0.1", 0))
    first.listen()
    port = first.getsockname()[1]
    token_file = tmp_path / f"control-{port}.token"
    held = TokenFile.claim(token_file, "first-daemons-token")
    config = tmp_path / "config.toml"
    config.write_text(f"[control]\nport = {port}\n[venues.binance]\nmode = 'paper'\n")
    try:
        assert main(["run", "--config", str(config), "--plain"]) == 2
    finally:
        first.close()
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"algotrendy: control API cannot listen on 127.0.0.1:{port}: Address already in use "
                                f"(another daemon? its token file: {token_file})"]
    assert "emulator" not in out  # nothing started
    assert token_file.read_text() == "first-daemons-token"
    held.release()


@attrs.define
class SlowBroker(FloodBroker):
    """Takes its time over balances: a command still in flight when the daemon is told to stop."""

    async def get_balances(self) -> list[Balance]:
        await trio.sleep(0.3)
        return await super().get_balances()


async def test_draining_finishes_commands_in_flight_and_refuses_new_ones(tmp_path: Path) -> None:
    market = FakeVenue()
    actor = broker_actor(lambda: SlowBroker(market), BrokerState(venue="fake"))
    async with open_router_with({"fake": actor}, seed=1) as router, trio.open_nursery() as nursery:
        await router.wait_connected("fake")
        server: ControlServer = await nursery.start(
            serve_control_api, router, ControlConfig(port=0, token_file=str(tmp_path / "t")), lambda _: None)
        client = await RawClient.open(server.endpoint.port)
        await client.hello(server.endpoint.token)
        await client.send_message(m.GetBalances(id="slow", venue="fake"))
        with trio.fail_after(5):
            while server.in_flight == 0:
                await server.wait_changed()
        drained = trio.Event()

        async def drain() -> None:
            await server.drain()
            drained.set()

        nursery.start_soon(drain)
        await client.send_message(m.GetBalances(id="late", venue="fake"))
        answers = {}
        with trio.fail_after(5):
            while len(answers) < 2:
                reply = await client.next_message()
                answers[reply.id] = reply  # type: ignore[union-attr]
        assert isinstance(answers["slow"], m.BalancesReply)
        late = answers["late"]
        assert isinstance(late, m.ErrorReply) and late.error.kind == "NotConnected" and "shutting down" in \
            late.error.message
        with trio.fail_after(5):
            await drained.wait()
        await client.abort()
        nursery.cancel_scope.cancel()
