"""`algotrendy run` in paper mode, end to end on the virtual clock: venues connect, prices stream,
the demo strategy's orders fill, and the daemon stops cleanly when its time is up."""

from __future__ import annotations

import io

import trio

from algotrendy.daemon import run_daemon
from algotrendy.wiring import paper_config
from protocol import messages as m


async def test_paper_daemon_shows_prices_orders_and_fills(autojump_clock: trio.abc.Clock) -> None:
    config = paper_config()
    config = type(config)(venues=config.venues, demo=True,
                          control=type(config.control)(enabled=False))
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
