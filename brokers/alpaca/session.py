"""US stock market hours from Alpaca's own answers, and the pre-trade market-hours policy.

The venue is the truth: ``GET /v2/calendar`` lists every trading day with its regular ``open``/``close``
and its extended-hours ``session_open``/``session_close`` in New York wall-clock time (holidays are
absent, early closes close early); ``GET /v2/clock`` says whether the regular session is open now. This
module turns calendar rows into UTC with the IANA zone (so daylight-saving changes fall where New York
has them), classifies any instant as pre-market / regular / after-hours / closed, finds the next
transition, and decides whether an order may go to the venue now. It shares no code with the
emulator's calendar (which comes from exchange-calendars).

Sessions: pre [session_open, open), regular [open, close), post [close, session_close), otherwise
closed. Alpaca's overnight session (20:00-04:00 ET, for 24/5-enabled assets) is not in the calendar
and counts as closed here.

The policy (`check_order`) refuses with `MarketClosed`, naming when the order could go, what the venue
would not execute as the user expects:

========================  =============================================  ==============================
order                      ``reject`` (must be able to trade now)         ``queue`` (let Alpaca queue it)
========================  =============================================  ==============================
any, closed day            refused                                        passes: queued to the next day
market (DAY/GTC)           refused outside regular hours                  passes: queued to the next open
IOC / FOK                  refused outside regular hours                  refused outside regular hours
extended-hours DAY limit   passes in pre/post, refused otherwise          passes
other resting orders       pass (they wait on the book for the open)      pass
OPG                        refused 09:28-19:00 ET (2 min before the open)  same
CLS                        refused 15:50-19:00 ET (10 min before close)    same
========================  =============================================  ==============================

Those are Alpaca's documented rules ("time_in_force" in the order reference: a DAY order submitted
after the close is queued for the next trading day; OPG/CLS windows; "extended_hours ... only works
with type limit and time_in_force day", which is an `InvalidOrder` whatever the time). IOC/FOK are
refused in both policies because Alpaca documents no queueing for them and "immediately" cannot hold
while the market is closed. The OPG/CLS cut-offs follow the day's own open/close (an early close moves
the CLS cut-off to 12:50).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

import attrs

from brokers.alpaca import schemas as s
from brokers.alpaca.constants import (
    AUCTION_ORDERS_REOPEN_ET,
    CLOCK_BOUNDARY_TOLERANCE_S,
    CLS_CUTOFF_BEFORE_CLOSE,
    MARKET_TIMEZONE,
    OPG_CUTOFF_BEFORE_OPEN,
    VENUE,
)
from protocol.errors import InvalidOrder, MarketClosed, ProtocolViolation, VenueUnavailable
from protocol.model import MarketClock, MarketDay, MarketSession, OrderRequest, OrderType, TimeInForce

NEW_YORK = ZoneInfo(MARKET_TIMEZONE)
IMMEDIATE = frozenset({TimeInForce.IOC, TimeInForce.FOK})
AUCTION = frozenset({TimeInForce.OPG, TimeInForce.CLS})


class MarketHoursPolicy(StrEnum):
    """What to do with an order the market is not open for (configured per venue)."""

    REJECT = "reject"  # refuse what cannot trade now (a market order outside regular hours, ...)
    QUEUE = "queue"  # pass what Alpaca queues for the next session


def wall_time(text: str) -> time:
    """A calendar time: "09:30" (``open``/``close``) or "0930" (``session_open``/``session_close``)."""
    digits = text.replace(":", "")
    if len(digits) != 4 or not digits.isdigit() or (":" in text and text.index(":") != 2):
        raise ProtocolViolation(f"Alpaca calendar time {text!r} is neither HH:MM nor HHMM", venue=VENUE)
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ProtocolViolation(f"Alpaca calendar time {text!r} is out of range", venue=VENUE)
    return time(hours, minutes)


def new_york(day: date, at: time) -> datetime:
    """A New York wall-clock time on ``day`` as a UTC instant (market hours never fall in a DST gap)."""
    return datetime.combine(day, at, tzinfo=NEW_YORK).astimezone(UTC)


@attrs.frozen
class TradingDay:
    """One calendar row in UTC. Without extended hours ``session_open``/``session_close`` equal open/close."""

    day: date
    session_open: datetime
    open: datetime
    close: datetime
    session_close: datetime

    @classmethod
    def from_row(cls, row: s.CalendarDay) -> TradingDay:
        try:
            day = date.fromisoformat(row.date)
        except ValueError:
            raise ProtocolViolation(f"Alpaca calendar date {row.date!r} is not YYYY-MM-DD", venue=VENUE) from None
        opens, closes = new_york(day, wall_time(row.open)), new_york(day, wall_time(row.close))
        session_open = new_york(day, wall_time(row.session_open)) if row.session_open else opens
        session_close = new_york(day, wall_time(row.session_close)) if row.session_close else closes
        if not session_open <= opens < closes <= session_close:
            raise ProtocolViolation(f"Alpaca calendar {row.date}: sessions out of order ({row.session_open}, "
                                    f"{row.open}, {row.close}, {row.session_close})", venue=VENUE)
        return cls(day, session_open, opens, closes, session_close)

    def market_day(self) -> MarketDay:
        return MarketDay(day=self.day, open=self.open, close=self.close, session_open=self.session_open,
                         session_close=self.session_close)


@attrs.frozen
class MarketCalendar:
    """The trading days Alpaca listed for ``[first, last]`` (New York dates), as session changes in time.

    ``first``/``last`` are the range that was asked for: a date inside it without a row is a holiday or
    a weekend, a date outside it is unknown (`VenueUnavailable`: refresh the calendar).
    """

    first: date
    last: date
    days: tuple[TradingDay, ...]
    _changes: tuple[datetime, ...] = attrs.field(init=False, repr=False)
    _sessions: tuple[MarketSession, ...] = attrs.field(init=False, repr=False)
    _by_date: dict[date, TradingDay] = attrs.field(init=False, repr=False)
    _closes: tuple[datetime, ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        changes: list[tuple[datetime, MarketSession]] = []
        for day in self.days:
            if day.session_open < day.open:
                changes.append((day.session_open, MarketSession.PRE))
            changes.append((day.open, MarketSession.REGULAR))
            if day.close < day.session_close:
                changes.append((day.close, MarketSession.POST))
            changes.append((day.session_close, MarketSession.CLOSED))
        object.__setattr__(self, "_changes", tuple(moment for moment, _ in changes))
        object.__setattr__(self, "_sessions", tuple(session for _, session in changes))
        object.__setattr__(self, "_by_date", {day.day: day for day in self.days})
        object.__setattr__(self, "_closes", tuple(day.close for day in self.days))

    @classmethod
    def from_rows(cls, rows: Iterable[s.CalendarDay], first: date, last: date) -> MarketCalendar:
        """``GET /v2/calendar?start=first&end=last`` rows; they must lie in the range and not repeat."""
        days = sorted((TradingDay.from_row(row) for row in rows), key=lambda d: d.day)
        for earlier, later in pairwise(days):
            if earlier.day == later.day or earlier.session_close > later.session_open:
                raise ProtocolViolation(f"Alpaca calendar repeats or overlaps {later.day}", venue=VENUE)
        if days and (days[0].day < first or days[-1].day > last):
            raise ProtocolViolation(f"Alpaca calendar rows {days[0].day}..{days[-1].day} outside the asked "
                                    f"range {first}..{last}", venue=VENUE)
        return cls(first, last, tuple(days))

    def market_days(self) -> list[MarketDay]:
        return [day.market_day() for day in self.days]

    def _covered(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            raise ValueError("naive datetime: market hours are computed on timezone-aware instants")
        local = moment.astimezone(NEW_YORK).date()
        if not self.first <= local <= self.last:
            raise VenueUnavailable(f"Alpaca calendar covers {self.first}..{self.last}, not {local}: refresh "
                                   "/v2/calendar", venue=VENUE)
        return local

    def trading_day(self, moment: datetime) -> TradingDay | None:
        """The trading day of ``moment``'s New York date; None on a weekend or holiday."""
        return self._by_date.get(self._covered(moment))

    def session_at(self, moment: datetime) -> MarketSession:
        """Exactly one session at any covered instant (a change applies from its own instant on)."""
        self._covered(moment)
        index = bisect.bisect_right(self._changes, moment) - 1
        return self._sessions[index] if index >= 0 else MarketSession.CLOSED

    def _next(self, moment: datetime, wanted: frozenset[MarketSession] | None = None) -> datetime:
        self._covered(moment)
        index = bisect.bisect_right(self._changes, moment)
        current = self.session_at(moment)
        for change, session in zip(self._changes[index:], self._sessions[index:], strict=True):
            if (wanted is None and session is not current) or (wanted is not None and session in wanted):
                return change
        raise VenueUnavailable(f"Alpaca calendar ends {self.last}: no session change after {moment.isoformat()}; "
                               "refresh /v2/calendar", venue=VENUE)

    def next_change(self, moment: datetime) -> datetime:
        """The next instant the session differs from the one at ``moment``."""
        return self._next(moment)

    def next_open(self, moment: datetime) -> datetime:
        """The next regular open strictly after ``moment``."""
        return self._next(moment, frozenset({MarketSession.REGULAR}))

    def next_session_open(self, moment: datetime) -> datetime:
        """The next instant an extended-hours order can trade (pre-market, or the open if a day has none)."""
        return self._next(moment, frozenset({MarketSession.PRE, MarketSession.REGULAR, MarketSession.POST}))

    def next_close(self, moment: datetime) -> datetime:
        """The next regular close strictly after ``moment`` (as ``/v2/clock`` ``next_close``)."""
        self._covered(moment)
        index = bisect.bisect_right(self._closes, moment)
        if index == len(self._closes):
            raise VenueUnavailable(f"Alpaca calendar ends {self.last}: refresh /v2/calendar", venue=VENUE)
        return self._closes[index]

    def clock(self, moment: datetime) -> MarketClock:
        session = self.session_at(moment)
        return MarketClock(venue=VENUE, timestamp=moment.astimezone(UTC), session=session,
                           is_open=session is MarketSession.REGULAR, next_open=self.next_open(moment),
                           next_close=self.next_close(moment), next_change=self.next_change(moment))


def near_a_change(calendar: MarketCalendar, moment: datetime, seconds: float) -> bool:
    """Whether a session change lies within ``seconds`` of ``moment`` (either side)."""
    window = timedelta(seconds=seconds)
    try:
        return calendar.next_change(moment - window) <= moment + window
    except VenueUnavailable:
        return False


def clock_from(clock: s.Clock, calendar: MarketCalendar, *, tolerance_s: float = CLOCK_BOUNDARY_TOLERANCE_S
               ) -> MarketClock:
    """``GET /v2/clock`` with the session and next change from the calendar; the venue's next open/close
    win. A calendar that disagrees with the clock about "open now" farther than ``tolerance_s`` from a
    transition is stale: `ProtocolViolation` (nearer, the clock's flag may simply flip a moment apart)."""
    now = clock.timestamp.astimezone(UTC)
    session = calendar.session_at(now)
    if clock.is_open != (session is MarketSession.REGULAR) and not near_a_change(calendar, now, tolerance_s):
        raise ProtocolViolation(f"Alpaca clock says is_open={clock.is_open} at {now.isoformat()} but the calendar "
                                f"says {session}: refresh /v2/calendar", venue=VENUE)
    return MarketClock(venue=VENUE, timestamp=now, session=session, is_open=clock.is_open,
                       next_open=clock.next_open.astimezone(UTC), next_close=clock.next_close.astimezone(UTC),
                       next_change=calendar.next_change(now))


# --- the pre-trade policy ------------------------------------------------------------------------------------

def _closed(reason: str, until: datetime, request: OrderRequest) -> MarketClosed:
    return MarketClosed(f"{reason}; next open {until.isoformat()}", venue=VENUE,
                        client_order_id=request.client_order_id)


def _auction_window(request: OrderRequest, day: TradingDay | None, now: datetime) -> None:
    """OPG/CLS are refused between their cut-off and 19:00 ET on a trading day (queued otherwise)."""
    if day is None:
        return
    reopen = new_york(day.day, AUCTION_ORDERS_REOPEN_ET)
    cutoff = day.open - OPG_CUTOFF_BEFORE_OPEN if request.time_in_force is TimeInForce.OPG else \
        day.close - CLS_CUTOFF_BEFORE_CLOSE
    if cutoff <= now < reopen:
        raise _closed(f"Alpaca refuses {request.time_in_force.value} orders from "
                      f"{cutoff.astimezone(NEW_YORK):%H:%M} to 19:00 ET", reopen, request)


def check_order(request: OrderRequest, calendar: MarketCalendar, now: datetime,
                policy: MarketHoursPolicy) -> None:
    """Pass, or raise `MarketClosed` (or `InvalidOrder` for an extended-hours order that is not a DAY
    limit) per the table in the module docstring."""
    if request.extended_hours and (request.type is not OrderType.LIMIT or request.time_in_force
                                   is not TimeInForce.DAY):
        raise InvalidOrder("extended-hours orders must be DAY limit orders", venue=VENUE, filter="EXTENDED_HOURS",
                           client_order_id=request.client_order_id)
    day = calendar.trading_day(now)
    if day is None and policy is MarketHoursPolicy.REJECT:
        until = calendar.next_session_open(now) if request.extended_hours else calendar.next_open(now)
        raise _closed(f"the market is closed all day on {now.astimezone(NEW_YORK).date()} (policy reject)",
                      until, request)
    if request.time_in_force in AUCTION:
        _auction_window(request, day, now)
        return
    session = calendar.session_at(now)
    if session is MarketSession.REGULAR:
        return
    if request.time_in_force in IMMEDIATE:
        raise _closed(f"{request.time_in_force.value} orders execute only in regular hours (now {session})",
                      calendar.next_open(now), request)
    if day is None or policy is MarketHoursPolicy.QUEUE:
        return
    if request.extended_hours:
        if session in (MarketSession.PRE, MarketSession.POST):
            return
        raise _closed("outside extended hours (policy reject)", calendar.next_session_open(now), request)
    if request.type is OrderType.MARKET:
        raise _closed(f"a market order outside regular hours (now {session}, policy reject)",
                      calendar.next_open(now), request)


def time_to_next_change(calendar: MarketCalendar, now: datetime) -> timedelta:
    """What the daemon and BrokerStatus show next to the session."""
    return calendar.next_change(now) - now


@attrs.frozen
class VenueClock:
    """The venue's time, read once (``/v2/clock``) and carried forward on trio's clock.

    ``at`` is the venue's timestamp, ``read_at`` the trio time it was read at (the middle of the round trip).
    Trio's clock is monotonic in a real run (the venue's time then runs at our pace, immune to jumps of the
    local wall clock) and virtual in tests, where it runs with an emulator's market clock. A paper emulator
    pinned to another day is followed too: its sessions are the ones that count for its orders.
    """

    at: datetime
    read_at: float

    def now(self, trio_now: float) -> datetime:
        return self.at + timedelta(seconds=trio_now - self.read_at)
