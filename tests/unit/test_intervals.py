"""brokers/intervals.py: unified interval -> venue code, and where a bar ends (months by the calendar)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brokers import intervals
from brokers.alpaca import mapping as alpaca
from brokers.bybit import mapping as bybit
from brokers.okx import mapping as okx
from protocol.errors import InvalidOrder

TO_VENUE = {"1m": "1Min", "1h": "1Hour"}
FROM_VENUE = {v: k for k, v in TO_VENUE.items()}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_unified_and_venue_codes_pass() -> None:
    assert intervals.venue_code("1h", TO_VENUE, FROM_VENUE, venue="v", name="V", noun="bars") == "1Hour"
    assert intervals.venue_code("1Min", TO_VENUE, FROM_VENUE, venue="v", name="V", noun="bars") == "1Min"
    assert intervals.venue_code("1m", {"1m": "1m"}, venue="v", name="V", noun="bars") == "1m"  # no inverse table


def test_an_unserved_interval_is_refused_with_the_offered_ones() -> None:
    with pytest.raises(InvalidOrder) as refused:
        intervals.venue_code("3m", TO_VENUE, FROM_VENUE, venue="bybit", name="Bybit", noun="klines")
    assert refused.value.message == "Bybit has no '3m' klines; use one of ['1h', '1m']"
    assert refused.value.venue == "bybit" and refused.value.filter == "INTERVAL"


@pytest.mark.parametrize(("opened", "unified", "closes"), [
    (at(2026, 11, 30, 23, 59), "1m", at(2026, 12, 1)),
    (at(2026, 11, 30, 23, 59, 59), "1s", at(2026, 12, 1)),
    (at(2026, 11, 30, 20), "4h", at(2026, 12, 1)),
    (at(2026, 11, 30), "3d", at(2026, 12, 3)),
    (at(2026, 11, 30), "1w", at(2026, 12, 7)),
    (at(2026, 2, 1), "1M", at(2026, 3, 1)),  # 28 days
    (at(2026, 12, 1), "1M", at(2027, 1, 1)),  # into the next year
    (at(2026, 11, 1), "3M", at(2027, 2, 1)),
    (at(2026, 1, 1), "12M", at(2027, 1, 1)),
])
def test_interval_end(opened: datetime, unified: str, closes: datetime) -> None:
    assert intervals.interval_end(opened, unified) == closes


def test_longest_length_counts_a_month_as_31_days() -> None:
    assert intervals.longest_length("15m") == timedelta(minutes=15)
    assert intervals.longest_length("1M") == timedelta(days=31) and intervals.longest_length("2w") == timedelta(weeks=2)


@pytest.mark.parametrize("bad", ["1Min", "m", "", "1y", "x1h"])
def test_an_interval_that_is_not_unified_is_refused(bad: str) -> None:
    for read in (lambda: intervals.interval_end(at(2026, 1, 1), bad, venue="v"),
                 lambda: intervals.longest_length(bad, venue="v")):
        with pytest.raises(InvalidOrder) as refused:
            read()
        assert refused.value.filter == "INTERVAL" and refused.value.venue == "v"


def test_each_venue_names_itself_and_its_noun() -> None:
    for refuse, text in ((alpaca.timeframe, "Alpaca has no '7m' bars here"), (bybit.venue_interval,
                         "Bybit has no '7m' klines"), (okx.bar_of, "OKX has no '7m' candles")):
        with pytest.raises(InvalidOrder) as refused:
            refuse("7m")
        assert refused.value.message.startswith(text)
    assert bybit.candle_close_time(at(2026, 2, 1), "M") == alpaca.interval_end(at(2026, 2, 1), "1Month") == \
        at(2026, 3, 1)
