"""Market hours from Alpaca calendar rows, across a year with DST changes, holidays and early closes.

The test year's rows are written here in Alpaca's documented ``/v2/calendar`` format (``date``,
``open``/``close`` "HH:MM", ``session_open``/``session_close`` "HHMM", New York wall clock) for 2026:
every weekday except the NYSE holidays, early closes at 13:00 with after-hours to 17:00. The oracle the
properties compare against reads those strings against the New York wall-clock time of an instant, so
it shares nothing with the module's UTC arithmetic. (exchange_calendars is the emulator's source and is
deliberately not used here.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.alpaca import schemas as s
from brokers.alpaca import session as sess
from protocol import errors as e
from protocol.model import MarketSession, OrderRequest, OrderType, Side, TimeInForce
from tests.unit.alpaca import samples

NY = ZoneInfo("America/New_York")
YEAR = 2026
HOLIDAYS = {date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 4, 3), date(2026, 5, 25),
            date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7), date(2026, 11, 26), date(2026, 12, 25)}
EARLY_CLOSES = {date(2026, 11, 27), date(2026, 12, 24)}


def year_rows() -> list[dict[str, str]]:
    rows, day = [], date(YEAR, 1, 1)
    while day.year == YEAR:
        if day.weekday() < 5 and day not in HOLIDAYS:
            early = day in EARLY_CLOSES
            rows.append({"date": day.isoformat(), "open": "09:30", "close": "13:00" if early else "16:00",
                         "session_open": "0400", "session_close": "1700" if early else "2000",
                         "settlement_date": (day + timedelta(days=1)).isoformat()})
        day += timedelta(days=1)
    return rows


ROWS = year_rows()
ROWS_BY_DATE = {row["date"]: row for row in ROWS}
CALENDAR = sess.MarketCalendar.from_rows(msgspec.json.decode(msgspec.json.encode(ROWS), type=list[s.CalendarDay]),
                                         date(YEAR, 1, 1), date(YEAR, 12, 31))
START = datetime(YEAR, 1, 1, 5, 0, tzinfo=UTC)  # 00:00 New York on Jan 1
END = datetime(YEAR, 12, 30, 23, 0, tzinfo=UTC)  # the next open of every instant is still in the year


def ny(day: date, hours: int, minutes: int = 0, seconds: int = 0) -> datetime:
    return datetime.combine(day, time(hours, minutes, seconds), tzinfo=NY).astimezone(UTC)


def oracle(moment: datetime) -> MarketSession:
    """The session read straight off the row strings with the instant's New York wall clock."""
    local = moment.astimezone(NY)
    row = ROWS_BY_DATE.get(local.date().isoformat())
    if row is None:
        return MarketSession.CLOSED
    clock = local.time()
    points = [time.fromisoformat(f"{row['session_open'][:2]}:{row['session_open'][2:]}"),
              time.fromisoformat(row["open"]), time.fromisoformat(row["close"]),
              time.fromisoformat(f"{row['session_close'][:2]}:{row['session_close'][2:]}")]
    if clock < points[0] or clock >= points[3]:
        return MarketSession.CLOSED
    if clock < points[1]:
        return MarketSession.PRE
    return MarketSession.REGULAR if clock < points[2] else MarketSession.POST


instants = st.datetimes(min_value=START.replace(tzinfo=None), max_value=END.replace(tzinfo=None),
                        timezones=st.just(UTC))


# --- the documented row and the wall-clock formats -------------------------------------------------------

def test_documented_calendar_row() -> None:
    (row,) = msgspec.json.decode(samples.CALENDAR, type=list[s.CalendarDay])
    day = sess.TradingDay.from_row(row)
    assert day.open == datetime(2022, 2, 1, 14, 30, tzinfo=UTC)  # 09:30 EST
    assert day.close == datetime(2022, 2, 1, 21, 0, tzinfo=UTC)
    assert day.session_open == datetime(2022, 2, 1, 12, 0, tzinfo=UTC)  # "0700"
    assert day.session_close == datetime(2022, 2, 2, 0, 0, tzinfo=UTC)  # "1900"
    market_day = day.market_day()
    assert market_day.day == date(2022, 2, 1) and market_day.open == day.open


@pytest.mark.parametrize(("text", "parsed"), [("09:30", time(9, 30)), ("0930", time(9, 30)), ("2000", time(20)),
                                              ("00:00", time(0))])
def test_wall_time_forms(text: str, parsed: time) -> None:
    assert sess.wall_time(text) == parsed


@pytest.mark.parametrize("text", ["9:30", "930", "24:00", "12:60", "ab:cd", "", "093:0"])
def test_bad_wall_times_are_protocol_violations(text: str) -> None:
    with pytest.raises(e.ProtocolViolation):
        sess.wall_time(text)


def test_rows_out_of_order_or_range_are_refused() -> None:
    row = s.CalendarDay(date="2026-03-02", open="16:00", close="09:30")
    with pytest.raises(e.ProtocolViolation):
        sess.TradingDay.from_row(row)
    good = s.CalendarDay(date="2026-03-02", open="09:30", close="16:00")
    with pytest.raises(e.ProtocolViolation):
        sess.MarketCalendar.from_rows([good, good], date(2026, 3, 1), date(2026, 3, 31))
    with pytest.raises(e.ProtocolViolation):
        sess.MarketCalendar.from_rows([good], date(2026, 3, 3), date(2026, 3, 31))
    bare = sess.MarketCalendar.from_rows([good], date(2026, 3, 2), date(2026, 3, 3))
    assert bare.session_at(ny(date(2026, 3, 2), 8)) is MarketSession.CLOSED  # no extended hours listed
    assert bare.session_at(ny(date(2026, 3, 2), 9, 30)) is MarketSession.REGULAR


# --- daylight saving, holidays, early closes ---------------------------------------------------------------

@pytest.mark.parametrize(("day", "open_utc"), [
    (date(2026, 3, 6), datetime(2026, 3, 6, 14, 30, tzinfo=UTC)),  # last EST Friday
    (date(2026, 3, 9), datetime(2026, 3, 9, 13, 30, tzinfo=UTC)),  # DST began Sunday March 8
    (date(2026, 10, 30), datetime(2026, 10, 30, 13, 30, tzinfo=UTC)),
    (date(2026, 11, 2), datetime(2026, 11, 2, 14, 30, tzinfo=UTC)),  # DST ended Sunday November 1
])
def test_open_follows_new_york_dst(day: date, open_utc: datetime) -> None:
    assert CALENDAR.trading_day(open_utc) is not None
    assert CALENDAR.session_at(open_utc) is MarketSession.REGULAR
    assert CALENDAR.session_at(open_utc - timedelta(microseconds=1)) is MarketSession.PRE
    assert CALENDAR.next_open(open_utc - timedelta(hours=1)) == open_utc


def test_every_regular_session_is_six_and_a_half_hours_or_an_early_close() -> None:
    for day in CALENDAR.days:
        length = day.close - day.open
        assert length == (timedelta(hours=3, minutes=30) if day.day in EARLY_CLOSES else timedelta(hours=6, minutes=30))
        assert day.session_open.astimezone(NY).time() == time(4)


def test_holidays_and_weekends_are_closed_all_day() -> None:
    for holiday in [*sorted(HOLIDAYS), date(2026, 3, 7), date(2026, 3, 8)]:
        assert CALENDAR.trading_day(ny(holiday, 12)) is None
        for hour in range(24):
            assert CALENDAR.session_at(ny(holiday, hour)) is MarketSession.CLOSED
    # Good Friday 2026-04-03: the next open is Monday the 6th
    assert CALENDAR.next_open(ny(date(2026, 4, 3), 12)) == ny(date(2026, 4, 6), 9, 30)
    assert CALENDAR.next_session_open(ny(date(2026, 4, 3), 12)) == ny(date(2026, 4, 6), 4)


def test_early_close_shortens_regular_and_post() -> None:
    day = date(2026, 11, 27)
    assert CALENDAR.session_at(ny(day, 12, 59, 59)) is MarketSession.REGULAR
    assert CALENDAR.session_at(ny(day, 13)) is MarketSession.POST
    assert CALENDAR.session_at(ny(day, 16, 59)) is MarketSession.POST
    assert CALENDAR.session_at(ny(day, 17)) is MarketSession.CLOSED
    assert CALENDAR.next_close(ny(day, 10)) == ny(day, 13)
    assert CALENDAR.next_change(ny(day, 13, 30)) == ny(day, 17)


def test_clock_from_the_calendar_and_from_the_venue() -> None:
    now = ny(date(2026, 11, 30), 9, 0)  # Monday, pre-market
    clock = CALENDAR.clock(now)
    assert clock.session is MarketSession.PRE and not clock.is_open
    assert clock.next_open == ny(date(2026, 11, 30), 9, 30) == clock.next_change
    assert clock.next_close == ny(date(2026, 11, 30), 16)
    assert sess.time_to_next_change(CALENDAR, now) == timedelta(minutes=30)
    documented = msgspec.json.decode(samples.CLOCK, type=s.Clock)  # 2022-04-28 14:07 ET, open
    rows = [s.CalendarDay(date="2022-04-28", open="09:30", close="16:00", session_open="0400", session_close="2000"),
            s.CalendarDay(date="2022-04-29", open="09:30", close="16:00", session_open="0400", session_close="2000")]
    april = sess.MarketCalendar.from_rows(rows, date(2022, 4, 28), date(2022, 4, 29))
    venue_clock = sess.clock_from(documented, april)
    assert venue_clock.is_open and venue_clock.session is MarketSession.REGULAR
    assert venue_clock.next_close == datetime(2022, 4, 28, 20, tzinfo=UTC) == venue_clock.next_change
    assert venue_clock.next_open == datetime(2022, 4, 29, 13, 30, tzinfo=UTC)
    stale = msgspec.structs.replace(documented, is_open=False)
    with pytest.raises(e.ProtocolViolation):
        sess.clock_from(stale, april)


def test_outside_the_calendar_is_a_refresh_not_a_guess() -> None:
    with pytest.raises(e.VenueUnavailable):
        CALENDAR.session_at(datetime(2027, 1, 4, 15, tzinfo=UTC))
    with pytest.raises(e.VenueUnavailable):
        CALENDAR.next_open(ny(date(2026, 12, 31), 17))  # the next open is in 2027
    with pytest.raises(ValueError):
        CALENDAR.session_at(datetime(2026, 6, 1, 12))


# --- properties over the year -----------------------------------------------------------------------------

@settings(max_examples=1000, deadline=None)
@given(instants)
def test_classification_matches_the_rows_read_on_the_new_york_clock(moment: datetime) -> None:
    assert CALENDAR.session_at(moment) is oracle(moment)


@settings(max_examples=500, deadline=None)
@given(instants)
def test_transitions_are_ordered_and_exact(moment: datetime) -> None:
    current = CALENDAR.session_at(moment)
    change = CALENDAR.next_change(moment)
    tick = timedelta(microseconds=1)
    assert change > moment
    assert CALENDAR.session_at(change - tick) is current  # nothing changes before the announced change
    assert CALENDAR.session_at(change) is not current
    assert oracle(change) is CALENDAR.session_at(change) and oracle(change - tick) is current
    following = CALENDAR.next_change(change)
    assert following > change


@settings(max_examples=500, deadline=None)
@given(instants)
def test_next_open_and_close_are_regular_boundaries(moment: datetime) -> None:
    opens, closes = CALENDAR.next_open(moment), CALENDAR.next_close(moment)
    tick = timedelta(microseconds=1)
    assert opens > moment and closes > moment
    assert CALENDAR.session_at(opens) is MarketSession.REGULAR
    assert CALENDAR.session_at(opens - tick) is not MarketSession.REGULAR
    assert CALENDAR.session_at(closes - tick) is MarketSession.REGULAR
    assert CALENDAR.session_at(closes) is not MarketSession.REGULAR
    # no regular session starts in between: the announced open is the first one
    assert all(not (moment < day.open < opens) for day in CALENDAR.days)
    if CALENDAR.session_at(moment) is MarketSession.REGULAR:
        assert closes < opens


# --- the pre-trade policy ------------------------------------------------------------------------------------

def order(order_type: OrderType = OrderType.MARKET, tif: TimeInForce = TimeInForce.DAY, *,
          extended: bool = False) -> OrderRequest:
    return OrderRequest(venue="alpaca", symbol="AAPL", side=Side.BUY, type=order_type, quantity=Decimal(1),
                        price=Decimal(150) if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
                        stop_price=Decimal(140) if order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
                        else None, trail_percent=Decimal(1) if order_type is OrderType.TRAILING_STOP else None,
                        time_in_force=tif, extended_hours=extended, client_order_id="cid-1")


REJECT, QUEUE = sess.MarketHoursPolicy.REJECT, sess.MarketHoursPolicy.QUEUE
MONDAY = date(2026, 11, 30)


def passes(request: OrderRequest, moment: datetime, policy: sess.MarketHoursPolicy) -> bool:
    try:
        sess.check_order(request, CALENDAR, moment, policy)
    except e.MarketClosed as closed:
        assert closed.client_order_id == "cid-1" and "next open 20" in str(closed) and closed.retryable
        return False
    return True


@pytest.mark.parametrize(("request_", "moment", "reject", "queue"), [
    (order(), ny(MONDAY, 10), True, True),
    (order(), ny(MONDAY, 8), False, True),  # market, pre-market
    (order(), ny(MONDAY, 21), False, True),  # market after hours: Alpaca queues a DAY order to the next day
    (order(tif=TimeInForce.GTC), ny(MONDAY, 17), False, True),
    (order(), ny(date(2026, 11, 28), 12), False, True),  # Saturday
    (order(OrderType.LIMIT, TimeInForce.GTC), ny(date(2026, 11, 26), 12), False, True),  # Thanksgiving
    (order(OrderType.LIMIT, TimeInForce.GTC), ny(MONDAY, 22), True, True),  # resting limit on a trading day
    (order(OrderType.STOP_MARKET), ny(MONDAY, 7), True, True),
    (order(OrderType.LIMIT, extended=True), ny(MONDAY, 5), True, True),  # pre-market extended
    (order(OrderType.LIMIT, extended=True), ny(MONDAY, 19, 59), True, True),  # after hours
    (order(OrderType.LIMIT, extended=True), ny(MONDAY, 20), False, True),  # overnight: closed here
    (order(OrderType.LIMIT, extended=True), ny(date(2026, 11, 27), 17, 30), False, True),  # early close day
    (order(OrderType.LIMIT, TimeInForce.IOC), ny(MONDAY, 8), False, False),
    (order(OrderType.MARKET, TimeInForce.FOK), ny(date(2026, 11, 28), 12), False, False),
    (order(OrderType.LIMIT, TimeInForce.IOC), ny(MONDAY, 15), True, True),
    (order(tif=TimeInForce.OPG), ny(MONDAY, 9, 27), True, True),
    (order(tif=TimeInForce.OPG), ny(MONDAY, 9, 28), False, False),
    (order(tif=TimeInForce.OPG), ny(MONDAY, 18, 59), False, False),
    (order(tif=TimeInForce.OPG), ny(MONDAY, 19), True, True),
    (order(OrderType.LIMIT, TimeInForce.CLS), ny(MONDAY, 15, 49), True, True),
    (order(OrderType.LIMIT, TimeInForce.CLS), ny(MONDAY, 15, 50), False, False),
    (order(OrderType.LIMIT, TimeInForce.CLS), ny(date(2026, 11, 27), 12, 50), False, False),  # early close
    (order(OrderType.LIMIT, TimeInForce.CLS), ny(date(2026, 11, 27), 12, 49), True, True),
    (order(tif=TimeInForce.OPG), ny(date(2026, 11, 28), 12), False, True),  # closed day: queued, or refused
])
def test_policy_table(request_: OrderRequest, moment: datetime, reject: bool, queue: bool) -> None:
    assert passes(request_, moment, REJECT) is reject
    assert passes(request_, moment, QUEUE) is queue


@pytest.mark.parametrize("request_", [order(OrderType.MARKET, extended=True),
                                      order(OrderType.LIMIT, TimeInForce.GTC, extended=True),
                                      order(OrderType.STOP_LIMIT, extended=True)])
def test_extended_hours_must_be_day_limit_at_any_time(request_: OrderRequest) -> None:
    for policy in (REJECT, QUEUE):
        with pytest.raises(e.InvalidOrder) as raised:
            sess.check_order(request_, CALENDAR, ny(MONDAY, 12), policy)
        assert raised.value.filter == "EXTENDED_HOURS"


def test_refusal_names_the_next_open() -> None:
    with pytest.raises(e.MarketClosed) as raised:
        sess.check_order(order(), CALENDAR, ny(date(2026, 11, 26), 12), REJECT)  # Thanksgiving
    assert ny(date(2026, 11, 27), 9, 30).isoformat() in str(raised.value)
    with pytest.raises(e.MarketClosed) as raised:
        sess.check_order(order(OrderType.LIMIT, extended=True), CALENDAR, ny(MONDAY, 21), REJECT)
    assert ny(date(2026, 12, 1), 4).isoformat() in str(raised.value)  # the next pre-market


requests = st.builds(order, st.sampled_from(list(OrderType)),
                     st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK,
                                      TimeInForce.OPG, TimeInForce.CLS]), extended=st.booleans())


@settings(max_examples=1000, deadline=None)
@given(requests, instants)
def test_policy_properties(request_: OrderRequest, moment: datetime) -> None:
    try:
        rejected_ok = passes(request_, moment, REJECT)
        queued_ok = passes(request_, moment, QUEUE)
    except e.InvalidOrder as invalid:  # the extended-hours shape, refused whatever the time
        assert request_.extended_hours and invalid.filter == "EXTENDED_HOURS"
        return
    session = oracle(moment)
    trading_day = moment.astimezone(NY).date().isoformat() in ROWS_BY_DATE
    assert not rejected_ok or queued_ok  # reject is the stricter policy
    if not trading_day:
        assert not rejected_ok  # any order on a closed day
    if request_.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        assert rejected_ok is queued_ok is (session is MarketSession.REGULAR)
    if request_.type is OrderType.MARKET and request_.time_in_force in (TimeInForce.DAY, TimeInForce.GTC):
        assert rejected_ok is (session is MarketSession.REGULAR)
        assert queued_ok
    if request_.extended_hours and request_.time_in_force is TimeInForce.DAY:
        assert rejected_ok is (session is not MarketSession.CLOSED)
