"""`algotrendy run` in paper mode, end to end on the virtual clock: venues connect, prices stream,
the demo strategy's orders fill, and the daemon stops cleanly when its time is up."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trio

from actors.config import AppConfig, ControlConfig, DaemonConfig, MetricsConfig, config_problems, parse_config
from actors.handle import open_router_with
from algotrendy import wiring
from algotrendy.daemon import render, run_daemon, shutdown
from algotrendy.wiring import paper_config, plan_venues, venue_actors
from brokers.base import BrokerState, broker_actor
from protocol import messages as m
from protocol.model import EarnStatus, MarketSession, MarketType
from tests.support.fake_broker import FakeBroker, FakeVenue
from tests.support.nonces import virtual_clock
from tests.support.processes import children


async def test_paper_daemon_shows_prices_orders_and_fills(nonce_clock: trio.abc.Clock, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALGOTRENDY_HOME", str(tmp_path))  # Kraken's nonce files for the emulator's demo key
    # Paper Alpaca opens inside a regular session ("open"); pinned here so no run starts a second before a close.
    monkeypatch.setitem(wiring.PAPER_EMULATOR_OPTIONS, "alpaca", {"market_time": datetime(2026, 12, 1, 15, tzinfo=UTC)})
    config = paper_config()
    config = type(config)(venues=config.venues, demo=True,
                          control=type(config.control)(enabled=False), metrics=MetricsConfig(enabled=False))
    out = io.StringIO()
    dash = await run_daemon(config, duration=15, interactive=False, out=out, handle_signals=False)
    assert all(s.state is m.ConnectionState.CONNECTED for s in dash.status.values())
    assert set(dash.status) == set(config.venues)
    assert dash.prices and dash.fill_count >= 2 and dash.order_updates >= 3
    text = out.getvalue()
    assert "[fill] binance" in text and "[fill] bybit BTC/USDT " in text
    assert text.rstrip().splitlines()[-1].startswith("stopped:")
    # Bybit's linear perpetual: the demo holds a position whose PnL follows the price.
    perp = dash.positions[("bybit", "BTC/USDT:USDT")]
    assert perp.quantity > 0 and perp.entry_price is not None and perp.leverage > 1
    assert ("bybit", "BTC/USDT:USDT") in dash.prices and "[position] bybit BTC/USDT:USDT long" in text
    # Alpaca: stock prices and fills next to the crypto venues, and the market session with its countdown.
    assert {("alpaca", s) for s in ("AAPL", "MSFT", "SPY")} <= set(dash.prices) and "[fill] alpaca AAPL" in text
    alpaca = dash.status["alpaca"]
    assert alpaca.session is MarketSession.REGULAR and alpaca.next_session_change is not None
    assert re.search(r"\[status\] alpaca connected \[session regular, next change in 5h\d\dm\]", text), text
    # OKX: spot fills, and the USDT swap's position (sized in contracts at OKX, in BTC here) with live PnL.
    assert "[fill] okx BTC/USDT " in text and "[fill] okx BTC/USDT:USDT " in text
    swap = dash.positions[("okx", "BTC/USDT:USDT")]
    assert swap.quantity > 0 and swap.entry_price is not None and swap.mark_price is not None and swap.leverage > 1
    assert ("okx", "BTC/USDT") in dash.prices and ("okx", "BTC/USDT:USDT") in dash.prices
    # OKX pushes the position again every few seconds with the new mark and PnL, besides the live price.
    marks = {line.split(" mark=")[1].split()[0] for line in text.splitlines()
             if line.startswith("[position] okx BTC/USDT:USDT long")}
    assert len(marks) >= 2


@pytest.fixture
def nonce_clock() -> trio.abc.Clock:
    """The virtual clock for a Kraken client (its nonce file is written in a worker thread: tests/support/nonces)."""
    return virtual_clock()


async def test_paper_kraken_shows_prices_fills_a_margin_position_and_an_earn_allocation(
        nonce_clock: trio.abc.Clock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`make run` with Kraken: its prices and the demo's fills, a BTC/USD long on margin with its PnL, and BTC
    allocated to Earn (asynchronous: followed until Kraken has finished it), in the view and in the plain log."""
    monkeypatch.setenv("ALGOTRENDY_HOME", str(tmp_path))  # the nonce files of the emulator's demo key
    config = paper_config(["kraken"])
    config = type(config)(venues=config.venues, demo=True,
                          control=type(config.control)(enabled=False), metrics=MetricsConfig(enabled=False))
    out = io.StringIO()
    dash = await run_daemon(config, duration=40, interactive=False, out=out, handle_signals=False)
    assert dash.status["kraken"].state is m.ConnectionState.CONNECTED
    assert {symbol for venue, symbol in dash.prices if venue == "kraken"} == {"BTC/USD", "ETH/USD"}
    assert dash.fill_count >= 4 and {f.symbol for f in dash.fills} >= {"BTC/USD", "ETH/USD"}
    margin = dash.positions[("kraken", "BTC/USD")]
    assert margin.market_type is MarketType.MARGIN and margin.quantity > 0 and margin.leverage >= 2
    assert margin.entry_price is not None and margin.margin is not None and margin.margin > 0
    (allocation,) = dash.earn.values()
    assert allocation.venue == "kraken" and allocation.asset == "BTC" and allocation.amount > 0
    assert allocation.status is EarnStatus.ALLOCATED and allocation.pending == 0
    text = out.getvalue()
    assert "[fill] kraken BTC/USD" in text and "[position] kraken BTC/USD long" in text
    earn_lines = [line for line in text.splitlines() if line.startswith("[earn] kraken BTC")]
    assert earn_lines and "allocated=0.01 pending=0" in earn_lines[-1] and earn_lines[-1].endswith(allocation.strategy_id)
    assert "[note] demo kraken: allocating 0.01 BTC to Earn (instant" in text
    (rendered,) = [render(dash)]
    assert "Earn allocations" in [getattr(part, "title", None) for part in rendered.renderables]  # type: ignore[attr-defined]


KRAKEN_SWITCH = """
[venues.kraken]
mode = 'paper'
symbols = ['BTC/USD']
[venues.kraken.options]
dead_mans_switch = '{seconds}'
"""


def test_a_bad_dead_mans_switch_is_refused_by_the_config_check() -> None:
    import brokers

    def problems(seconds: str) -> list[str]:
        return config_problems(parse_config(KRAKEN_SWITCH.format(seconds=seconds)), implemented=["kraken"],
                               emulated=["kraken"], option_problems=brokers.option_problems)

    assert problems("60") == [] and problems("0") == []
    (found,) = problems("5")
    assert found.startswith("[venues.kraken] options: option dead_mans_switch='5': whole seconds, at least 15")


async def test_the_daemon_arms_krakens_dead_mans_switch_from_config_and_keeps_it_armed(
        nonce_clock: trio.abc.Clock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``[venues.kraken.options] dead_mans_switch = '30'``: armed at connect (CancelAllOrdersAfter 30) and re-armed
    every 10 s while the venue's actor lives, so it never fires; test_kraken.py lets it fire once the actor is
    gone."""
    monkeypatch.setenv("ALGOTRENDY_HOME", str(tmp_path))
    config = parse_config(KRAKEN_SWITCH.format(seconds="30"))
    async with plan_venues(config) as plans, open_router_with(venue_actors(plans, None), seed=1) as router:
        with trio.fail_after(60):
            await router.wait_connected("kraken")
        emulator: Any = plans["kraken"].emulator
        key = emulator.dialect.key_state(emulator.api_key)
        assert key.switch is not None and 0 < key.switch - trio.current_time() <= 30
        fires_at = []
        for _ in range(6):
            await trio.sleep(10)
            assert key.switch is not None and key.switch > trio.current_time()  # never allowed to run out
            fires_at.append(key.switch)
        assert fires_at == sorted(set(fires_at))  # pushed further each time it is re-armed


async def test_plain_daemon_prints_its_control_url_token_file_and_notes(
        autojump_clock: trio.abc.Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALGOTRENDY_CONTROL_TOKEN", raising=False)
    token_file = tmp_path / "control.token"
    config = paper_config(["binance"], demo=False)
    config = type(config)(venues=config.venues, control=ControlConfig(port=0, token_file=str(token_file)),
                          metrics=MetricsConfig(port=0))
    out = io.StringIO()
    seen_during_run: list[bool] = []

    async def look() -> None:
        await trio.sleep(5)
        seen_during_run.append(token_file.exists())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(look)
        await run_daemon(config, duration=10, interactive=False, out=out, handle_signals=False)
    lines = out.getvalue().splitlines()
    assert f"[note] control API token file {token_file} (set ALGOTRENDY_CONTROL_TOKEN to choose the token)" in lines
    assert any(line.startswith("[note] control API on ws://127.0.0.1:") for line in lines)
    assert any(line.startswith("[note] metrics on http://127.0.0.1:") for line in lines)
    assert any(line.startswith("[note] paper venue binance: emulator at http://127.0.0.1:") for line in lines)
    assert seen_during_run == [True] and not token_file.exists()  # removed on exit


@pytest.mark.parametrize("cancel", [False, True])
async def test_shutdown_cancels_or_reports_open_orders(cancel: bool, autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    actor = broker_actor(lambda: FakeBroker(market), BrokerState(venue="fake"))
    config = AppConfig(daemon=DaemonConfig(cancel_on_shutdown=cancel))
    notes: list[str] = []
    async with open_router_with({"fake": actor}, seed=1) as router:
        await router.wait_connected("fake")
        await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="99")
        await shutdown(router, None, config, notes.append)
        left = await router.get_orders("fake", None)
    if cancel:
        assert notes == ["fake: cancelled 1 open orders"] and left == []
    else:
        assert notes == ["fake: leaving 1 open orders (BTC/USDT)"] and len(left) == 1


async def test_sigterm_stops_the_service_gracefully(tmp_path: Path) -> None:
    config = tmp_path / "paper.toml"
    config.write_text(f"demo = true\n[venues.binance]\nmode = 'paper'\nsymbols = ['BTC/USDT']\n"
                      f"[control]\nport = 0\ntoken_file = '{tmp_path / 'token'}'\n[metrics]\nport = 0\n"
                      f"[daemon]\ncancel_on_shutdown = true\n")
    async with children() as spawn:
        daemon = await spawn(["run", "--config", str(config), "--plain"], {"ALGOTRENDY_HOME": str(tmp_path)})
        with trio.fail_after(30):
            await daemon.wait_for(lambda lines: any(line.startswith("[fill] binance") for line in lines), "a fill")
        assert (tmp_path / "token").exists()
        daemon.terminate()
        with trio.fail_after(30):
            assert await daemon.process.wait() == 0
            await daemon.wait_for(lambda lines: any(line.startswith("stopped:") for line in lines), "the end")
    notes = [line for line in daemon.lines if line.startswith("[note]")]
    assert "[note] received SIGTERM: shutting down" in notes
    assert any(re.fullmatch(r"\[note\] binance: cancelled \d+ open orders", n) for n in notes), notes
    assert not (tmp_path / "token").exists()
