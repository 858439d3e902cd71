"""No order the market-hours policy refuses ever reaches the venue, at any time of the year (issue 15).

Each example pins the Alpaca emulator's market clock to a random moment of 2026 (weekdays, weekends, holidays,
early closes, every session), connects a client with a random policy (``reject`` or ``queue``) and places a
few random orders. The verdict of each order is worked out here, independently of `brokers.alpaca.session`,
from the emulator's own calendar (exchange-calendars) and Alpaca's documented rules:

- ``reject``: nothing on a day the market does not open; no market order outside the regular session; no
  extended-hours order outside the pre-market and after hours;
- both policies: no IOC/FOK order outside the regular session; no OPG order from 09:28 to 19:00 ET and no CLS
  order from 10 minutes before the close to 19:00 ET, on a trading day.

Then: the client refuses (`MarketClosed`, before sending: no venue code) exactly the orders that verdict
refuses, a refused order's client id never reaches the emulator, and an order it lets through does.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import attrs
import trio
import trio.testing
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from brokers.alpaca.client import AlpacaBroker
from brokers.base import BrokerSettings
from emulators.engine.sessions import NEW_YORK, Session
from protocol import errors as e
from protocol.credentials import Credentials
from protocol.model import OrderRequest, OrderType, Side, TimeInForce, new_client_order_id

SYMBOL = "AAPL"
AUCTION_REOPENS = time(19, 0)


@attrs.frozen
class Kind:
    """An order shape: type, time in force, extended hours."""

    type: OrderType
    tif: TimeInForce
    extended: bool = False

    def __str__(self) -> str:
        return f"{self.type}/{self.tif}" + ("/ext" if self.extended else "")


KINDS = [Kind(OrderType.MARKET, TimeInForce.DAY), Kind(OrderType.MARKET, TimeInForce.GTC),
         Kind(OrderType.LIMIT, TimeInForce.DAY), Kind(OrderType.LIMIT, TimeInForce.GTC),
         Kind(OrderType.LIMIT, TimeInForce.DAY, extended=True), Kind(OrderType.LIMIT, TimeInForce.IOC),
         Kind(OrderType.LIMIT, TimeInForce.FOK), Kind(OrderType.MARKET, TimeInForce.OPG),
         Kind(OrderType.LIMIT, TimeInForce.CLS)]

moments = st.datetimes(min_value=datetime(2026, 1, 2), max_value=datetime(2026, 12, 28),
                       timezones=st.just(UTC)).map(lambda m: m.replace(microsecond=0))


def refused_here(kind: Kind, policy: str, venue: Any, now: datetime) -> bool:
    """The verdict from the emulator's calendar and Alpaca's rules (see the module docstring)."""
    calendar = venue.engine.clock.calendar
    local = now.astimezone(NEW_YORK)
    day = calendar.day(local.date())
    session, _ = calendar.session_at(now)
    if day is None and policy == "reject":
        return True
    if kind.tif in (TimeInForce.OPG, TimeInForce.CLS):
        if day is None:
            return False
        reopen = datetime.combine(local.date(), AUCTION_REOPENS, NEW_YORK)
        cutoff = day.open - timedelta(minutes=2) if kind.tif is TimeInForce.OPG else day.close - timedelta(minutes=10)
        return cutoff <= now < reopen
    if session is Session.REGULAR:
        return False
    if kind.tif in (TimeInForce.IOC, TimeInForce.FOK):
        return True
    if policy == "queue" or day is None:
        return False
    if kind.extended:
        return session is Session.CLOSED
    return kind.type is OrderType.MARKET


def near_a_boundary(venue: Any, now: datetime) -> bool:
    """Within a minute of a session change or an auction cut-off, the verdict depends on milliseconds."""
    calendar, window = venue.engine.clock.calendar, timedelta(minutes=1)
    if calendar.boundaries(now - window, now + window):
        return True
    day = calendar.day(now.astimezone(NEW_YORK).date())
    if day is None:
        return False
    reopen = datetime.combine(now.astimezone(NEW_YORK).date(), AUCTION_REOPENS, NEW_YORK)
    cutoffs = (day.open - timedelta(minutes=2), day.close - timedelta(minutes=10), reopen)
    return any(abs(now - cutoff) <= window for cutoff in cutoffs)


async def run(moment: datetime, policy: str, kinds: list[Kind], seed: int) -> None:
    from emulators import emulate

    async with emulate("alpaca", seed=seed, market_time=moment, tick_interval=60.0) as venue:
        settings_ = BrokerSettings(venue="alpaca", rest_url=venue.rest_url, ws_url=venue.ws_url,
                                   credentials=Credentials.from_strings(venue.api_key, venue.api_secret),
                                   options={"market_hours_policy": policy})
        broker = AlpacaBroker(settings_)
        await broker.connect()
        try:
            last = (await broker.get_ticker(SYMBOL)).last
            for kind in kinds:
                now = venue.engine.clock.now()
                if near_a_boundary(venue, now):
                    continue
                price = (last * Decimal("0.9")).quantize(Decimal("0.01")) if kind.type is OrderType.LIMIT else None
                request = OrderRequest(venue="alpaca", symbol=SYMBOL, side=Side.BUY, type=kind.type,
                                       quantity=Decimal(1), price=price, time_in_force=kind.tif,
                                       extended_hours=kind.extended, client_order_id=new_client_order_id())
                expected = refused_here(kind, policy, venue, now)
                try:
                    await broker.place_order(request)
                    refused = False
                except e.MarketClosed as closed:
                    refused = closed.code is None  # ours; a venue's MarketClosed carries its code
                    assert refused, f"the venue refused what the policy passed: {closed}"
                reached = ("demo", request.client_order_id) in venue.dialect.by_client
                where = f"{kind} at {now.astimezone(NEW_YORK):%a %Y-%m-%d %H:%M} ET, policy {policy}"
                assert refused == expected, f"{where}: refused={refused}, expected {expected}"
                assert reached != refused, f"{where}: refused={refused} but reached the venue={reached}"
        finally:
            await broker.disconnect()


EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "40")) // 2


@settings(max_examples=max(EXAMPLES, 5), deadline=None)
@given(moment=moments, policy=st.sampled_from(["reject", "queue"]), kinds=st.lists(st.sampled_from(KINDS),
                                                                                   min_size=1, max_size=4),
       seed=st.integers(1, 1000))
def test_no_order_the_market_hours_policy_refuses_reaches_the_venue(moment: datetime, policy: str,
                                                                    kinds: list[Kind], seed: int) -> None:
    assume(moment.astimezone(NEW_YORK).date().year == 2026)
    trio.run(run, moment, policy, kinds, seed, clock=trio.testing.MockClock(autojump_threshold=0))
