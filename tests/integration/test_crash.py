"""kill -9 the daemon while it trades, restart it on the same journal, and nothing is lost or doubled.

The venue is an emulator in its own process (it survives the kill, as a real venue would); a
deterministic load trades on the same account from this process the whole time, so fills keep
happening while the daemon is down. After each restart, the fills the restarted daemon delivers
(its `--plain` output: a subscriber from before its venues start) are exactly those its journal did
not have at the kill, each once; at the end the journal equals the venue's own fill log.

`make test` runs one kill; `make soak-crash` many, at varied points (before the venue connects,
during reconciliation, mid-trading).
"""

from __future__ import annotations

import random
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio

import brokers
from brokers.base import Broker, BrokerSettings
from protocol.credentials import Credentials
from protocol.errors import BrokerError
from protocol.model import OrderRequest, OrderType, Side
from tests.support.processes import Running, Spawn, children

FILL = re.compile(r"^\[fill\] binance BTC/USDT .* trade=(\S+)$")
CONNECTED = "[status] binance connected"


def fills_in(lines: list[str]) -> list[str]:
    return [m.group(1) for line in lines if (m := FILL.match(line))]


def journaled(path: Path) -> set[str]:
    """Fill ids committed to the journal (read as the next daemon will find them)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {trade_id for (trade_id,) in db.execute("SELECT trade_id FROM fills WHERE venue='binance'")}
    except sqlite3.OperationalError:
        return set()  # killed before the schema was written
    finally:
        db.close()


@attrs.define
class Load:
    """Market orders on the daemon's account, alternating buy and sell, at a steady pace."""

    broker: Broker
    every: float
    placed: int = 0
    errors: int = 0

    async def run(self) -> None:
        while True:
            side = Side.BUY if self.placed % 2 == 0 else Side.SELL
            request = OrderRequest(venue="binance", symbol="BTC/USDT", side=side, type=OrderType.MARKET,
                                   quantity=Decimal("0.001"), client_order_id=f"load{self.placed:06d}")
            try:
                await self.broker.place_order(request)
            except BrokerError:
                self.errors += 1  # the emulator is busy or a rate limit: the next one will do
            self.placed += 1
            await trio.sleep(self.every)


@attrs.define
class Rig:
    spawn: Spawn
    config: Path
    journal: Path
    env: dict[str, str]

    async def daemon(self) -> Running:
        return await self.spawn(["run", "--config", str(self.config), "--plain", "--log-level", "ERROR"], self.env)


async def crash_and_restart(tmp_path: Path, kill_points: list[tuple[str, float]], *, seed: int = 1) -> None:
    """``kill_points``: ("after", seconds since spawn) or ("fills", delivered fills seen) per kill."""
    async with children() as spawn:
        venue = await spawn(["emulate", "binance", "--port", "0", "--seed", str(seed), "--tick-interval", "0.05"],
                            None)
        rest = (await venue.line_matching(r"REST base URL:\s+(\S+)")).group(1)
        ws = (await venue.line_matching(r"websocket base URL:\s+(\S+)")).group(1)
        key = (await venue.line_matching(r"demo API key:\s+(\S+)")).group(1)
        secret = (await venue.line_matching(r"demo API secret:\s+(\S+)")).group(1)
        config = tmp_path / "daemon.toml"
        journal = tmp_path / "journal.sqlite"
        config.write_text(f"""
            [venues.binance]
            mode = "live"
            rest_url = "{rest}"
            ws_url = "{ws}"
            api_key_env = "CRASH_TEST_KEY"
            api_secret_env = "CRASH_TEST_SECRET"
            symbols = ["BTC/USDT"]
            channels = ["ticker"]
            [supervisor]
            backoff_base = 0.1
            backoff_cap = 0.5
            [control]
            port = 0
            token_file = "{tmp_path / 'control.token'}"
            [journal]
            path = "{journal}"
            [metrics]
            enabled = false
        """)
        rig = Rig(spawn, config, journal, {"CRASH_TEST_KEY": key, "CRASH_TEST_SECRET": secret})
        load_broker = brokers.load_broker_factory("binance")(BrokerSettings(
            venue="binance", rest_url=rest, ws_url=ws, credentials=Credentials.from_strings(key, secret)))
        await load_broker.connect()
        load = Load(load_broker, every=0.02)

        first = await rig.daemon()
        await first.wait_for(lambda lines: CONNECTED in lines, "the first connection")
        at_kill: set[str] = set()
        async with trio.open_nursery() as trading:
            trading.start_soon(load.run)
            current = first
            for kind, amount in kill_points:
                if kind == "fills":
                    seen = len(fills_in(current.lines))
                    await current.wait_for(lambda lines, n=seen + int(amount): len(fills_in(lines)) >= n,
                                           f"{amount} fills")
                else:
                    await trio.sleep(amount)
                current.kill()
                await current.process.wait()
                at_kill = journaled(journal)
                await trio.sleep(0.2)  # fills go on while it is down
                current = await rig.daemon()
                await current.wait_for(lambda lines: CONNECTED in lines, "reconnecting after the kill")
                # What the venue did that the journal does not have (mostly while the daemon was down)
                # is delivered by the restarted daemon.
                missed = {f.trade_id for f in await load_broker.get_fills("BTC/USDT", limit=1_000_000)} - at_kill
                with trio.fail_after(20):
                    await current.wait_for(lambda lines, missed=missed: missed <= set(fills_in(lines)),
                                           f"the {len(missed)} fills the journal lacked")
                after = fills_in(current.lines)
                # Everything delivered after the restart is new to the journal, and delivered once.
                assert len(after) == len(set(after)), "a fill delivered twice after the restart"
                assert not (set(after) & at_kill), "a fill the journal had was delivered again"
            await trio.sleep(0.5)
            trading.cancel_scope.cancel()
        venue_log = {f.trade_id for f in await load_broker.get_fills("BTC/USDT", limit=1_000_000)}
        # The last daemon catches up with the venue, then stops on SIGTERM (exit 0).
        with trio.fail_after(20):
            await current.wait_for(lambda lines: venue_log <= set(fills_in(lines)) | at_kill, "catching up")
        current.terminate()
        assert await current.process.wait() == 0
        final = journaled(journal)
        assert final == venue_log and len(venue_log) >= 20
        await load_broker.disconnect()


@pytest.mark.crash
async def test_kill_9_mid_trading_loses_and_doubles_no_fill(tmp_path: Path) -> None:
    with trio.fail_after(60):
        await crash_and_restart(tmp_path, [("fills", 15)])


@pytest.mark.soak
@pytest.mark.crash
async def test_kill_9_at_many_points(tmp_path: Path) -> None:
    rng = random.Random(16)
    points: list[tuple[str, float]] = [("after", 0.05), ("after", 0.4), ("after", 1.0), ("fills", 1)]
    points += [("fills", rng.randint(1, 40)) if rng.random() < 0.5 else ("after", rng.uniform(0, 2.5))
               for _ in range(16)]
    with trio.fail_after(600):
        await crash_and_restart(tmp_path, points, seed=rng.randint(1, 1000))
