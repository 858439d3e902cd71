"""Candles of any width, aggregated from the engine's one-minute candles (the only ones it keeps).

An `Interval` is a fixed number of minutes or a number of calendar months. Fixed intervals start at
multiples of their width since the epoch, except whole weeks, which start on Monday 00:00 UTC as venues
count them; months start on the first of the month. Dialects name the intervals (Binance "1h", Bybit "60")
and print the `Bar`s.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import attrs

from emulators.engine.model import CANDLE_MS, Candle

WEEK_MS = 7 * 86_400_000
MONDAY_MS = 4 * 86_400_000  # 1970-01-05, the first Monday after the epoch


@attrs.frozen
class Interval:
    minutes: int = 0
    months: int = 0

    @property
    def span_minutes(self) -> int:
        """The interval's length in minutes (a month counts 30 days)."""
        return self.minutes or self.months * 43_200

    def start(self, ms: int) -> int:
        """The open time of the candle holding ``ms``."""
        if self.months:
            moment = datetime.fromtimestamp(ms / 1000, UTC)
            month = (moment.year * 12 + moment.month - 1) // self.months * self.months
            return calendar.timegm((month // 12, month % 12 + 1, 1, 0, 0, 0)) * 1000
        span = self.minutes * CANDLE_MS
        anchor = MONDAY_MS if span % WEEK_MS == 0 else 0
        return (ms - anchor) // span * span + anchor

    def end(self, start_ms: int) -> int:
        """The last millisecond of the candle opening at ``start_ms``."""
        if self.months:
            moment = datetime.fromtimestamp(start_ms / 1000, UTC)
            month = moment.year * 12 + moment.month - 1 + self.months
            return calendar.timegm((month // 12, month % 12 + 1, 1, 0, 0, 0)) * 1000 - 1
        return start_ms + self.minutes * CANDLE_MS - 1


@attrs.define
class Bar:
    """One aggregated candle."""

    open_ms: int
    close_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int


def aggregate(candles: Iterable[Candle], interval: Interval) -> list[Bar]:
    """The bars of ``interval`` the one-minute ``candles`` make, oldest first."""
    bars: list[Bar] = []
    for candle in candles:
        start = interval.start(candle.open_ms)
        if bars and bars[-1].open_ms == start:
            bar = bars[-1]
            bar.high, bar.low, bar.close = max(bar.high, candle.high), min(bar.low, candle.low), candle.close
            bar.volume += candle.volume
            bar.quote_volume += candle.quote_volume
            bar.trades += candle.trades
        else:
            bars.append(Bar(start, interval.end(start), candle.open, candle.high, candle.low, candle.close,
                            candle.volume, candle.quote_volume, candle.trades))
    return bars
