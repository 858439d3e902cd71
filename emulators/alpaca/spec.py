"""Alpaca registered: its US stocks (engine id == ticker), their asset attributes, synthetic tickers for load
tests, the market clock's start (``market_time``), the published demo credentials and the paper account's
funds.

The asset attributes are in `assets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import attrs

from emulators.alpaca.dialect import AlpacaDialect
from emulators.alpaca.errors import REJECTIONS
from emulators.engine import InstrumentSpec, synthetic_instruments
from emulators.engine.equities import StockExchange
from emulators.engine.sessions import MarketClock, in_session_moment, trading_calendar
from emulators.registry import VenueSpec

D = Decimal
DEMO_BALANCES = {"USD": D("100000")}  # a paper account starts with $100,000


def _stock(symbol: str, price: str, level: str) -> InstrumentSpec:
    """A US stock: $0.01 ticks, quantities to 9 decimals (fractional shares; whole shares are the dialect's rule
    for non-fractionable assets), commission-free, a calm walk (about 3% a day at four ticks a second)."""
    return InstrumentSpec(symbol, symbol, "USD", D("0.01"), D("0.000000001"), D("0.000000001"), D("10000000"),
                          D("0"), D(price), D(level), volatility=D("0.0001"), maker_fee=D(0), taker_fee=D(0))


ALPACA_INSTRUMENTS = [_stock("AAPL", "230", "500"), _stock("MSFT", "420", "300"), _stock("SPY", "600", "400"),
                      _stock("TSLA", "340", "400"), _stock("TQQQ", "80", "1500")]


def engine_ids(symbols: Sequence[str]) -> set[str]:
    """Unified symbols are the tickers themselves ("AAPL"; "AAPL/USD" is read as AAPL too)."""
    return {s.upper().split("/")[0] for s in symbols}


def synthetic_stocks(count: int) -> list[InstrumentSpec]:
    """The engine's synthetic markets as tickers quoted in USD: "S01", "S02", ... at their own start prices."""
    return [attrs.evolve(spec, symbol=spec.base, quote="USD", step_size=D("0.000000001"), min_qty=D("0.000000001"),
                         min_notional=D(0), volatility=D("0.0001"), maker_fee=D(0), taker_fee=D(0))
            for spec in synthetic_instruments(count)]


def build_engine(*, seed: int, instruments: list[InstrumentSpec], market_time: datetime | str | None = None,
                 **unused: Any) -> StockExchange:
    """The engine on NYSE's calendar. ``market_time`` pins the clock's start: a timezone-aware moment, "open"
    (the real time if a regular session is on, else the latest regular open -- a paper venue that is open
    whatever the weekday), or None (the real time)."""
    calendar = trading_calendar()
    if isinstance(market_time, str):
        if market_time != "open":
            raise ValueError(f"market_time is a timezone-aware datetime or 'open', not {market_time!r}")
        start: datetime | None = in_session_moment(calendar, datetime.now(UTC))
    elif market_time is not None and market_time.tzinfo is None:
        raise ValueError("market_time must be timezone-aware (e.g. 2026-12-01T15:00:00+00:00)")
    else:
        start = market_time
    if start is not None and not calendar.first <= start.date() <= calendar.last:
        raise ValueError(f"market_time must lie within the calendar ({calendar.first} to {calendar.last})")
    return StockExchange(seed=seed, instruments=instruments, clock=MarketClock(calendar, start))


def urls(rest_url: str, ws_url: str) -> list[tuple[str, str]]:
    """One port serves both hosts: the trading and data REST APIs share the base URL (their paths differ)."""
    return [("trading API", rest_url), ("market data API", rest_url), ("trading stream", f"{ws_url}/stream"),
            ("data stream (IEX)", f"{ws_url}/v2/iex"), ("data stream (SIP)", f"{ws_url}/v2/sip")]


# Published demo credentials for paper trading (Alpaca's shape: a 20-character key id starting "PK" on paper,
# a 40-character secret). They guard nothing but the local emulator.
SPEC = VenueSpec(
    "alpaca", partial(AlpacaDialect, default_balances=DEMO_BALANCES), ALPACA_INSTRUMENTS, engine_ids,
    synthetic_stocks,
    demo_key="PKDEMOALPACA00000000", demo_secret="atDemoAlpacaSecret0000000000000000000000",
    demo_balances=DEMO_BALANCES, rejections={"orders": REJECTIONS},
    engine=build_engine, options=frozenset({"market_time"}), urls=urls)
