"""`algotrendy run` in paper mode, end to end on the virtual clock: venues connect, prices stream,
the demo strategy's orders fill, and the daemon stops cleanly when its time is up."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import trio

from actors.config import ControlConfig, MetricsConfig
from algotrendy.daemon import run_daemon
from algotrendy.wiring import paper_config
from protocol import messages as m


async def test_paper_daemon_shows_prices_orders_and_fills(autojump_clock: trio.abc.Clock) -> None:
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
