"""The stock engine (`engine.equities.StockExchange`) on its own: cash that may go negative, long and short share
positions with their average entry and realised P&L, auction crosses, and `algotrendy emulate alpaca` printing
where the emulator is and its demo credentials."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import trio

from emulators import market_time_arg, serve_forever
from emulators.alpaca import ALPACA_INSTRUMENTS
from emulators.engine.equities import StockExchange
from emulators.engine.sessions import MarketClock, trading_calendar

D = Decimal
TUESDAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def engine() -> StockExchange:
    exchange = StockExchange(seed=9, instruments=list(ALPACA_INSTRUMENTS),
                             clock=MarketClock(trading_calendar(), TUESDAY))
    exchange.open_account("a", {"USD": D(1000)})
    return exchange


def test_positions_average_entry_realised_pnl_and_cash() -> None:
    ex = engine()
    ex.cross("a", "AAPL", "BUY", D(10), D(100), "o1")
    ex.cross("a", "AAPL", "BUY", D(10), D(110), "o2")  # cash goes negative: a margin loan
    position = ex.stock_position("a", "AAPL")
    assert (position.size, position.entry_price, ex.cash("a")) == (D(20), D(105), D(1000) - D(2100))
    ex.cross("a", "AAPL", "SELL", D(5), D(120), "o3")  # closing part: P&L at the average entry
    assert (position.size, position.entry_price, position.realised) == (D(15), D(105), D(75))
    ex.cross("a", "AAPL", "SELL", D(25), D(100), "o4")  # through zero: the rest opens a short at its price
    assert (position.size, position.entry_price, position.realised) == (D(-10), D(100), D(0))
    assert position.cum_realised == D(75) + 15 * (D(100) - D(105))
    assert ex.holdings("a") == [position] and ex.cash("a") == D(1000) - D(2100) + D(600) + D(2500)
    ex.cross("a", "AAPL", "BUY", D(10), D(90), "o5")
    assert ex.holdings("a") == [] and position.cum_realised == D(75) - D(75) + D(100)
    assert [f.fee for f in ex.fill_log] == [D(0)] * 5  # commission-free


def test_orders_lock_nothing_and_cross_at_one_price() -> None:
    ex = engine()
    order = ex.place("a", "MSFT", "SELL", "LIMIT", D(3), D(999), "GTC", "short-1")  # no shares: a short order rests
    assert order.is_open and order.locked == 0
    crossed = ex.cross("a", "SPY", "BUY", D("0.5"), D("600.5"), "auction-1")
    assert (crossed.status, crossed.filled, ex.fill_log[-1].price) == ("FILLED", D("0.5"), D("600.5"))


def test_market_time_argument() -> None:
    assert market_time_arg("open") == "open"
    assert market_time_arg("2026-12-01T15:00:00Z") == TUESDAY
    for bad in ("2026-12-01T15:00:00", "soon"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"offset|ISO 8601"):
            market_time_arg(bad)


async def test_emulate_command_prints_urls_and_credentials() -> None:
    lines: list[str] = []
    done = trio.Event()

    def record(line: str) -> None:
        lines.append(line)
        if "Ctrl-C" in line:
            done.set()

    with trio.move_on_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve_forever, "alpaca", 0, 1, record)
            await done.wait()
            nursery.cancel_scope.cancel()
    text = "\n".join(lines)
    for label in ("trading API", "market data API", "trading stream", "data stream (IEX)", "data stream (SIP)",
                  "demo API key:       PKDEMOALPACA00000000", "demo API secret:"):
        assert label in text, text
    assert "/stream" in text and "/v2/iex" in text
