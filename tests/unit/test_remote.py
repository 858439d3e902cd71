"""The remote client: the same typed API as the embedded router (one strategy body runs both ways), a
connection that comes back by itself with its subscriptions, and the operator commands' tables."""

from __future__ import annotations

import argparse
import importlib.util
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import attrs
import pytest
import trio

import algotrendy
from actors.config import ControlConfig
from actors.handle import RouterHandle, open_router_with
from algotrendy.cli import _parser
from algotrendy.control import ControlServer, serve_control_api
from algotrendy.ops import operate
from brokers.base import BrokerState, broker_actor
from protocol import errors as e
from protocol.model import Fill, OrderStatus, Side
from tests.support.fake_broker import FakeBroker, FakeVenue

EXAMPLE = Path(__file__).parents[2] / "examples" / "remote_strategy.py"
TOKEN = "t0ken-for-tests"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("remote_strategy", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@attrs.define
class Daemon:
    router: RouterHandle
    market: FakeVenue
    nursery: trio.Nursery
    server: ControlServer | None = None
    scope: trio.CancelScope | None = None

    async def serve(self, port: int = 0) -> None:
        async def run(*, task_status: trio.TaskStatus[ControlServer] = trio.TASK_STATUS_IGNORED) -> None:
            with trio.CancelScope() as self.scope:
                await serve_control_api(self.router, ControlConfig(port=port), lambda _: None, token=TOKEN,
                                        task_status=task_status)

        self.server = await self.nursery.start(run)

    def stop_serving(self) -> None:
        assert self.scope is not None
        self.scope.cancel()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.endpoint.url


@asynccontextmanager
async def daemon() -> AsyncIterator[Daemon]:
    market = FakeVenue()
    actor = broker_actor(lambda: FakeBroker(market), BrokerState(venue="fake"))
    async with open_router_with({"fake": actor}, seed=1) as router, trio.open_nursery() as nursery:
        await router.wait_connected("fake")
        running = Daemon(router, market, nursery)
        await running.serve()
        yield running
        nursery.cancel_scope.cancel()


async def test_the_same_strategy_body_runs_embedded_and_remote() -> None:
    strategy = example().strategy
    async with daemon() as d:
        said: list[str] = []
        embedded: list[Fill] = await strategy(d.router, "fake", "BTC/USDT", rounds=2, say=said.append)
        async with algotrendy.connect(d.url, TOKEN) as api:
            remote: list[Fill] = await strategy(api, "fake", "BTC/USDT", rounds=2, say=said.append)
            assert api.venues() == ["fake"] and api.status("fake").state.value == "connected"  # type: ignore[union-attr]
    assert [f.side for f in embedded] == [f.side for f in remote] == [Side.BUY, Side.SELL]
    assert {f.trade_id for f in embedded}.isdisjoint({f.trade_id for f in remote})
    assert len(said) == 4 and said[0].startswith("buy 0.") and "trade" in said[-1]


async def test_typed_errors_and_the_kill_switch_cross_the_wire() -> None:
    async with daemon() as d, algotrendy.connect(d.url, TOKEN) as api:
        with pytest.raises(e.NotConnected, match="unknown venue"):
            await api.get_balances("nope")
        with pytest.raises(e.OrderNotFound):
            await api.cancel_order("fake", "BTC/USDT", order_id="404")
        resting = await api.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="99")
        cancelled = await api.engage_kill_switch("test")
        assert [o.client_order_id for o in cancelled] == [resting.client_order_id]
        with pytest.raises(e.RiskRejected, match="kill switch"):
            await api.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="99")
        assert (await api.daemon_status()).kill_switch == "test"
        await api.release_kill_switch()
        placed = await api.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="99")
        assert placed.status is OrderStatus.NEW


async def test_a_wrong_token_or_no_daemon_fails_at_once() -> None:
    async with daemon() as d:
        with pytest.raises(e.AuthenticationError, match="refused the token"):
            async with algotrendy.connect(d.url, "wrong"):
                pass
        port = d.server.endpoint.port  # type: ignore[union-attr]
        d.stop_serving()
        with pytest.raises(e.NotConnected, match="cannot reach the daemon"):
            async with algotrendy.connect(f"ws://127.0.0.1:{port}/", TOKEN):
                pass


async def test_the_client_reconnects_and_its_subscriptions_resume() -> None:
    async with daemon() as d, algotrendy.connect(d.url, TOKEN) as api:
        port = d.server.endpoint.port  # type: ignore[union-attr]
        async with api.subscribe(kinds=["fill"]) as fills:
            order = await api.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="3", price="99")
            d.market.execute(order.client_order_id, Decimal(1))
            with trio.fail_after(5):
                assert isinstance(await fills.get(), Fill)
            d.stop_serving()  # the daemon's API goes away (a restart, a network blip) ...
            with trio.fail_after(5):
                while api.connected:
                    await api.wait_changed()
            async with trio.open_nursery() as nursery:
                balances: list[object] = []

                async def ask_meanwhile() -> None:
                    balances.append(await api.get_balances("fake"))  # waits for the connection

                nursery.start_soon(ask_meanwhile)
                await trio.sleep(0.3)
                await d.serve(port)  # ... and comes back on the same port
            assert balances and api.reconnects == 1
            d.market.execute(order.client_order_id, Decimal(1))
            with trio.fail_after(5):
                again = await fills.get()
            assert isinstance(again, Fill) and again.client_order_id == order.client_order_id


async def test_operator_commands_print_tables(tmp_path: Path) -> None:
    async with daemon() as d:
        await d.router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="99",
                                   client_order_id="resting-1")

        async def run(*argv: str) -> tuple[int, str, str]:
            args: argparse.Namespace = _parser().parse_args([*argv, "--url", d.url, "--token", TOKEN])
            out, err = io.StringIO(), io.StringIO()
            code = await operate(args, out, err)
            return code, out.getvalue(), err.getvalue()

        code, out, _ = await run("status")
        assert code == 0 and "kill switch off" in out and "fake" in out and "connected" in out
        code, out, _ = await run("balances")
        assert code == 0 and "USDT" in out and "1000" in out
        code, out, _ = await run("orders")
        assert code == 0 and "Open orders (1)" in out and "resting-1" in out
        code, out, _ = await run("positions", "--venue", "fake")
        assert code == 0 and "Positions (open)" in out
        code, out, err = await run("cancel", "--venue", "fake", "--client-order-id", "resting-1")
        assert code == 1 and err.strip() == "algotrendy: cancel needs --symbol with --order-id / --client-order-id"
        code, out, _ = await run("cancel", "--venue", "fake", "--symbol", "BTC/USDT", "--client-order-id",
                                 "resting-1")
        assert code == 0 and "Cancelled (1)" in out and "canceled" in out
        code, out, _ = await run("kill-switch", "on", "--reason", "lunch")
        assert code == 0 and "kill switch engaged (lunch)" in out
        code, out, _ = await run("status")
        assert "ENGAGED (lunch)" in out
        code, out, _ = await run("kill-switch", "off")
        assert code == 0 and "released" in out
        code, _, err = await run("balances", "--venue", "nope")
        assert code == 1 and err.startswith("algotrendy: unknown venue 'nope'")
