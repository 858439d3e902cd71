"""Market sessions: an exchange's trading calendar and a clock that runs on trio's time.

`TradingCalendar` holds every trading day of an exchange -- its regular open and close (early closes
included; holidays are simply absent), its extended-hours window and its settlement date -- from the
`exchange_calendars` library (NYSE is ``"XNYS"``), so an emulator's calendar shares no code with the client
that reads it. Extended hours are a venue's choice (`ExtendedHours`; the default is Alpaca's current pre-market
04:00-09:30 and after-hours close + 4 h, i.e. 16:00-20:00, or 13:00-17:00 on an early-close day).

`MarketClock` is the venue's wall clock: it starts at a pinned moment (``start``) or at the real time, and
then advances with trio's clock (`trio.current_time`), so tests move it with the virtual clock and a run can
be set on any day of the year. Outside a trio run it falls back to the monotonic clock.

`TradingCalendar.boundaries` lists the transitions (pre-market opens, the regular open, the close, the
after-hours close) between two moments: an engine with sessions turns them into events.
"""

from __future__ import annotations

import bisect
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from enum import StrEnum
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

import attrs
import trio

NEW_YORK = ZoneInfo("America/New_York")
BoundaryKind = Literal["pre_open", "open", "close", "post_close"]


class Session(StrEnum):
    PRE = "pre"  # pre-market (extended hours before the open)
    REGULAR = "regular"
    POST = "post"  # after-hours (extended hours after the close)
    CLOSED = "closed"


@attrs.frozen
class ExtendedHours:
    """When extended-hours trading runs around a trading day: from ``pre_open`` (exchange local time) to the
    open, and for ``post_hours`` after the close."""

    pre_open: clock_time = clock_time(4, 0)
    post_hours: timedelta = timedelta(hours=4)


@attrs.frozen
class TradingDay:
    """One trading day; times are timezone-aware UTC."""

    day: date
    pre_open: datetime
    open: datetime
    close: datetime
    post_close: datetime
    settlement: date

    @property
    def early_close(self) -> bool:
        return self.close.astimezone(NEW_YORK).time() < clock_time(16, 0)


@attrs.frozen
class Boundary:
    """A session transition: ``kind`` happened at ``at`` on trading day ``day``."""

    kind: BoundaryKind
    at: datetime
    day: TradingDay


def _settlement_cycle(day: date) -> int:
    """US equities settle T+1 since 2024-05-28 (T+2 from 2017-09-05, T+3 before)."""
    if day >= date(2024, 5, 28):
        return 1
    return 2 if day >= date(2017, 9, 5) else 3


@attrs.define(eq=False)
class TradingCalendar:
    """An exchange's trading days between ``first`` and ``last`` (see `trading_calendar` for a cached one)."""

    days: list[TradingDay]
    _dates: list[date] = attrs.field(init=False)
    _starts: list[datetime] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._dates = [d.day for d in self.days]
        self._starts = [d.pre_open for d in self.days]

    @classmethod
    def load(cls, name: str = "XNYS", first: date = date(1970, 1, 1), last: date = date(2029, 12, 31),
             hours: ExtendedHours = ExtendedHours()) -> TradingCalendar:
        import exchange_calendars  # heavy (pandas): imported only when a calendar is needed

        with warnings.catch_warnings():  # pandas deprecation notices from inside the library, not ours to fix
            warnings.simplefilter("ignore")
            schedule = exchange_calendars.get_calendar(name, start=first.isoformat(), end=last.isoformat()).schedule
            rows = [(ts.date(), o.to_pydatetime(), c.to_pydatetime())
                    for ts, o, c in zip(schedule.index, schedule["open"], schedule["close"], strict=True)]
        days: list[TradingDay] = []
        for i, (day, opens, closes) in enumerate(rows):
            pre = datetime.combine(day, hours.pre_open, tzinfo=NEW_YORK).astimezone(UTC)
            cycle = _settlement_cycle(day)
            settle = rows[i + cycle][0] if i + cycle < len(rows) else day + timedelta(days=cycle)
            days.append(TradingDay(day, pre, opens.astimezone(UTC), closes.astimezone(UTC),
                                   closes.astimezone(UTC) + hours.post_hours, settle))
        return cls(days)

    @property
    def first(self) -> date:
        return self._dates[0]

    @property
    def last(self) -> date:
        return self._dates[-1]

    # ------------------------------------------------------------------ lookups
    def day(self, when: date) -> TradingDay | None:
        """The trading day on ``when``, or None (a weekend, a holiday, or outside the calendar)."""
        i = bisect.bisect_left(self._dates, when)
        return self.days[i] if i < len(self.days) and self._dates[i] == when else None

    def between(self, first: date, last: date) -> list[TradingDay]:
        """The trading days from ``first`` to ``last``, both included."""
        return self.days[bisect.bisect_left(self._dates, first):bisect.bisect_right(self._dates, last)]

    def next_day(self, when: date) -> TradingDay | None:
        """The first trading day on or after ``when``."""
        i = bisect.bisect_left(self._dates, when)
        return self.days[i] if i < len(self.days) else None

    def previous_day(self, when: date) -> TradingDay | None:
        """The last trading day strictly before ``when``."""
        i = bisect.bisect_left(self._dates, when)
        return self.days[i - 1] if i > 0 else None

    def session_at(self, moment: datetime) -> tuple[Session, TradingDay | None]:
        """The session at ``moment`` and the trading day whose extended window holds it (None when closed)."""
        i = bisect.bisect_right(self._starts, moment) - 1
        if i >= 0:
            day = self.days[i]
            if moment < day.post_close:
                if moment < day.open:
                    return Session.PRE, day
                return (Session.REGULAR, day) if moment < day.close else (Session.POST, day)
        return Session.CLOSED, None

    def next_open(self, moment: datetime) -> datetime | None:
        """The first regular open strictly after ``moment``."""
        i = bisect.bisect_left(self._dates, moment.astimezone(NEW_YORK).date())
        return next((day.open for day in self.days[i:i + 2] if day.open > moment), None)

    def next_close(self, moment: datetime) -> datetime | None:
        """The first regular close strictly after ``moment``."""
        i = bisect.bisect_left(self._dates, moment.astimezone(NEW_YORK).date())
        return next((day.close for day in self.days[i:i + 2] if day.close > moment), None)

    def latest_open(self, moment: datetime) -> datetime | None:
        """The last regular open at or before ``moment``."""
        i = bisect.bisect_right(self._dates, moment.astimezone(NEW_YORK).date())
        for day in reversed(self.days[max(0, i - 2):i]):
            if day.open <= moment:
                return day.open
        return None

    def boundaries(self, after: datetime, until: datetime) -> list[Boundary]:
        """Every transition in (after, until], oldest first."""
        if until <= after:
            return []
        found = []
        first = after.astimezone(NEW_YORK).date() - timedelta(days=1)
        for day in self.between(first, until.astimezone(NEW_YORK).date()):
            kinds: tuple[tuple[BoundaryKind, datetime], ...] = (
                ("pre_open", day.pre_open), ("open", day.open), ("close", day.close), ("post_close", day.post_close))
            found += [Boundary(kind, at, day) for kind, at in kinds if after < at <= until]
        return sorted(found, key=lambda b: b.at)


@cache
def trading_calendar(name: str = "XNYS", hours: ExtendedHours = ExtendedHours()) -> TradingCalendar:
    """The calendar 1970-2029 (the span Alpaca's /v2/calendar serves), built once per process."""
    return TradingCalendar.load(name, hours=hours)


def _trio_time() -> float | None:
    try:
        return trio.current_time()
    except RuntimeError:  # not in a trio run (another thread, or none)
        return None


@attrs.define(eq=False)
class MarketClock:
    """A venue's wall clock: ``start`` (or the real time when None) plus the time elapsed on trio's clock since
    the clock was first read. Read from outside the trio run (another thread), it counts on the monotonic
    clock from the same first reading (the two agree unless trio's clock is virtual)."""

    calendar: TradingCalendar
    start: datetime | None = None
    _anchor: tuple[float, float | None, float] | None = None  # (epoch s at the start, trio time, monotonic time)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), UTC)

    def epoch(self) -> float:
        trio_now, mono_now = _trio_time(), time.monotonic()
        if self._anchor is None:
            begin = self.start.timestamp() if self.start is not None else time.time()
            self._anchor = (begin, trio_now, mono_now)
        begin, trio_base, mono_base = self._anchor
        if trio_now is not None and trio_base is not None:
            return begin + (trio_now - trio_base)
        return begin + (mono_now - mono_base)

    def now_ms(self) -> int:
        return int(self.epoch() * 1000)

    def session(self) -> tuple[Session, TradingDay | None]:
        return self.calendar.session_at(self.now())


PAPER_SESSION_LEFT = timedelta(hours=1)
"""A paper venue started with less regular session left than this starts at that session's open instead: a
demo that closes a minute after it starts shows nothing of trading."""


def in_session_moment(calendar: TradingCalendar, moment: datetime) -> datetime:
    """``moment`` if the regular session is open then with at least `PAPER_SESSION_LEFT` to go, else the latest
    regular open before it: a start for a paper venue that is open whatever the weekday and the hour."""
    session, _ = calendar.session_at(moment)
    close = calendar.next_close(moment)
    if session is Session.REGULAR and close is not None and close - moment >= PAPER_SESSION_LEFT:
        return moment
    latest = calendar.latest_open(moment)
    return latest if latest is not None else moment
