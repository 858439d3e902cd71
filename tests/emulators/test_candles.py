"""One candle aggregation for every dialect: bucket boundaries (fixed spans, Monday weeks, calendar months)
and the sums of a bar."""

from __future__ import annotations

import calendar
from decimal import Decimal

from emulators.engine.candles import Interval, aggregate
from emulators.engine.model import CANDLE_MS, Candle

D = Decimal


def utc_ms(*when: int) -> int:
    return calendar.timegm((*when, 0, 0, 0)[:6]) * 1000


def test_fixed_spans_start_at_multiples_of_their_width() -> None:
    five = Interval(minutes=5)
    assert five.start(utc_ms(2026, 11, 30, 10, 7)) == utc_ms(2026, 11, 30, 10, 5)
    assert five.end(utc_ms(2026, 11, 30, 10, 5)) == utc_ms(2026, 11, 30, 10, 10) - 1
    day = Interval(minutes=1440)
    assert day.start(utc_ms(2026, 11, 30, 23, 59)) == utc_ms(2026, 11, 30)


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    week = Interval(minutes=7 * 1440)
    monday = utc_ms(2026, 11, 30)  # a Monday
    assert week.start(utc_ms(2026, 12, 6, 23)) == monday == week.start(monday)
    assert week.end(monday) == utc_ms(2026, 12, 7) - 1
    month = Interval(months=1)
    assert month.start(utc_ms(2026, 12, 31, 23)) == utc_ms(2026, 12, 1)
    assert month.end(utc_ms(2026, 12, 1)) == utc_ms(2027, 1, 1) - 1
    assert month.span_minutes == 43_200


def test_a_bar_takes_the_first_open_the_extremes_the_last_close_and_the_sums() -> None:
    start = utc_ms(2026, 11, 30, 10, 3)
    candles = [Candle(start + i * CANDLE_MS, D(o), D(h), D(lo), D(c), D(v), D(q), t)
               for i, (o, h, lo, c, v, q, t) in enumerate([
                   ("10", "12", "9", "11", "1", "10", 3), ("11", "15", "10", "14", "2", "28", 4),
                   ("14", "14", "8", "9", "0.5", "4.5", 1)])]
    bars = aggregate(candles, Interval(minutes=5))
    assert [(b.open_ms, b.close_ms) for b in bars] == [(utc_ms(2026, 11, 30, 10, 0), utc_ms(2026, 11, 30, 10, 5) - 1),
                                                        (utc_ms(2026, 11, 30, 10, 5), utc_ms(2026, 11, 30, 10, 10) - 1)]
    first, second = bars
    assert (first.open, first.high, first.low, first.close) == (D(10), D(15), D(9), D(14))
    assert (first.volume, first.quote_volume, first.trades) == (D(3), D(38), 7)
    assert (second.open, second.close, second.volume, second.trades) == (D(14), D(9), D("0.5"), 1)
    assert aggregate(candles, Interval(minutes=1))[1].high == D(15)
