"""The market clock: NYSE trading days, holidays and early closes (from exchange-calendars), the extended-hours
window, the clock on trio's virtual clock, and what Alpaca's emulated orders do around the transitions --
queued to the open, extended-hours DAY limits in the pre-market, opening and closing auctions, DAY orders
expiring at the (early) close, GTC orders persisting without trading after hours, stops and trailing stops,
bracket legs, a holiday and a weekend.

Every test runs on trio's virtual clock (`autojump_clock`) with one price tick a virtual minute, so crossing a
session costs no real time; moments are New York time unless they say UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
import trio_websocket

from emulators import EmulatedVenue, emulate
from emulators.engine.equities import StockExchange
from emulators.engine.sessions import NEW_YORK, MarketClock, Session, in_session_moment, trading_calendar

D = Decimal


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# ====================================================================== the calendar and the clock
def test_calendar_holidays_early_closes_and_daylight_saving() -> None:
    calendar = trading_calendar()
    assert calendar.day(date(2026, 11, 26)) is None  # Thanksgiving
    assert calendar.day(date(2026, 12, 25)) is None and calendar.day(date(2026, 11, 28)) is None  # Christmas, Sat
    friday = calendar.day(date(2026, 11, 27))
    assert friday is not None and friday.early_close
    assert (friday.open, friday.close) == (ny(2026, 11, 27, 9, 30), ny(2026, 11, 27, 13))
    assert (friday.pre_open, friday.post_close) == (ny(2026, 11, 27, 4), ny(2026, 11, 27, 17))
    assert friday.settlement == date(2026, 11, 30)  # T+1
    summer, winter = calendar.day(date(2026, 3, 9)), calendar.day(date(2026, 3, 6))
    assert summer is not None and winter is not None
    assert (summer.open.hour, winter.open.hour) == (13, 14)  # 09:30 New York is 13:30 UTC in daylight time
    assert calendar.day(date(2016, 1, 4)) is not None and calendar.day(date(2016, 1, 4)).settlement == date(2016, 1, 7)


@pytest.mark.parametrize(("moment", "session"), [
    (ny(2026, 12, 1, 3, 59), Session.CLOSED), (ny(2026, 12, 1, 4), Session.PRE), (ny(2026, 12, 1, 9, 29), Session.PRE),
    (ny(2026, 12, 1, 9, 30), Session.REGULAR), (ny(2026, 12, 1, 15, 59), Session.REGULAR),
    (ny(2026, 12, 1, 16), Session.POST), (ny(2026, 12, 1, 19, 59), Session.POST), (ny(2026, 12, 1, 20), Session.CLOSED),
    (ny(2026, 11, 27, 13, 30), Session.POST), (ny(2026, 11, 27, 17, 1), Session.CLOSED),
    (ny(2026, 11, 26, 12), Session.CLOSED), (ny(2026, 11, 28, 12), Session.CLOSED),
])
def test_sessions_through_a_day(moment: datetime, session: Session) -> None:
    assert trading_calendar().session_at(moment)[0] is session


def test_transitions_next_open_and_close() -> None:
    calendar = trading_calendar()
    saturday = ny(2026, 11, 28, 12)
    assert calendar.next_open(saturday) == ny(2026, 11, 30, 9, 30)
    assert calendar.next_close(ny(2026, 11, 27, 10)) == ny(2026, 11, 27, 13)
    assert calendar.latest_open(saturday) == ny(2026, 11, 27, 9, 30)
    passed = calendar.boundaries(ny(2026, 11, 25, 15), ny(2026, 11, 27, 14))
    assert [(b.kind, b.at.astimezone(NEW_YORK).strftime("%d %H:%M")) for b in passed] == [
        ("close", "25 16:00"), ("post_close", "25 20:00"), ("pre_open", "27 04:00"), ("open", "27 09:30"),
        ("close", "27 13:00")]
    assert in_session_moment(calendar, saturday) == ny(2026, 11, 27, 9, 30)  # paper: open whatever the weekday
    assert in_session_moment(calendar, ny(2026, 12, 1, 11)) == ny(2026, 12, 1, 11)
    # a minute before the close is no start for a demo: that session's open is
    assert in_session_moment(calendar, ny(2026, 12, 1, 15, 59)) == ny(2026, 12, 1, 9, 30)
    assert in_session_moment(calendar, ny(2026, 11, 27, 12, 30)) == ny(2026, 11, 27, 9, 30)  # early close, 13:00


async def test_the_clock_runs_on_trio_time(autojump_clock: trio.abc.Clock) -> None:
    clock = MarketClock(trading_calendar(), ny(2026, 12, 1, 9, 29))
    assert clock.session()[0] is Session.PRE
    await trio.sleep(120)
    assert clock.now() == ny(2026, 12, 1, 9, 31) and clock.session()[0] is Session.REGULAR


async def test_nothing_trades_while_closed_and_transitions_are_reported(autojump_clock: trio.abc.Clock) -> None:
    seen: list[str] = []
    engine = StockExchange(seed=2, clock=MarketClock(trading_calendar(), ny(2026, 12, 1, 19, 58)),
                           instruments=list(__import__("emulators.alpaca", fromlist=["x"]).ALPACA_INSTRUMENTS))
    engine.session_listeners.append(lambda boundary: seen.append(boundary.kind))
    engine.tick()
    mid, trades = engine.symbols["AAPL"].mid, len(engine.symbols["AAPL"].trades)
    await trio.sleep(180)  # 20:01: closed
    engine.tick()
    assert seen == ["post_close"]
    assert (engine.symbols["AAPL"].mid, len(engine.symbols["AAPL"].trades)) == (mid, trades)
    await trio.sleep(8 * 3600)  # 04:01 the next morning: the pre-market trades
    engine.tick()
    assert seen == ["post_close", "pre_open"] and len(engine.symbols["AAPL"].trades) == trades + 1


def test_market_time_is_checked() -> None:
    from emulators.alpaca.spec import build_engine

    with pytest.raises(ValueError, match="timezone-aware"):
        build_engine(seed=1, instruments=[], market_time=datetime(2026, 12, 1, 15))
    with pytest.raises(ValueError, match="within the calendar"):
        build_engine(seed=1, instruments=[], market_time=datetime(2031, 1, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="'open'"):
        build_engine(seed=1, instruments=[], market_time="tomorrow")
    assert build_engine(seed=1, instruments=[], market_time="open").session() is Session.REGULAR


async def test_other_venues_take_no_market_time() -> None:
    with pytest.raises(ValueError, match="takes no option market_time"):
        async with emulate("binance", market_time=ny(2026, 12, 1, 10)):
            pass


# ====================================================================== orders around the transitions
class Venue:
    """A running Alpaca emulator pinned to ``start``, with REST helpers."""

    def __init__(self, venue: EmulatedVenue, http: httpx.AsyncClient) -> None:
        self.venue, self.http = venue, http
        self.headers = {"APCA-API-KEY-ID": venue.api_key, "APCA-API-SECRET-KEY": venue.api_secret}

    async def post(self, **body: Any) -> httpx.Response:
        sent = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day", **body}
        return await self.http.post("/v2/orders", content=json.dumps(sent), headers=self.headers)

    async def order(self, **body: Any) -> dict[str, Any]:
        response = await self.post(**body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def get(self, path: str) -> Any:
        response = await self.http.get(path, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def status(self, order: dict[str, Any]) -> str:
        current: str = (await self.get(f"/v2/orders/{order['id']}"))["status"]
        return current

    @property
    def now(self) -> datetime:
        return self.venue.engine.clock.now().astimezone(NEW_YORK)  # type: ignore[attr-defined]

    async def until(self, moment: datetime) -> None:
        """Sleep (virtually) until the market clock passes ``moment`` and a tick has seen it."""
        await trio.sleep(max(0.0, (moment - self.now).total_seconds()) + 121)

    def push(self, symbol: str, price: str) -> None:
        """Move a symbol's price (the walk goes on from there at the next tick)."""
        self.venue.engine.symbols[symbol].mid = D(price)


async def running(start: datetime, test: Callable[[Venue], Any]) -> None:
    async with emulate("alpaca", seed=5, tick_interval=60, market_time=start) as venue, \
            httpx.AsyncClient(base_url=venue.rest_url, timeout=30,
                              limits=httpx.Limits(max_keepalive_connections=0)) as http:  # idle hours close sockets
        await test(Venue(venue, http))


async def test_market_orders_outside_hours_wait_for_the_open(autojump_clock: trio.abc.Clock) -> None:
    async def test(v: Venue) -> None:
        clock = await v.get("/v2/clock")
        assert clock["is_open"] is False and clock["next_open"] == "2026-12-01T09:30:00-05:00"
        async with trio.open_nursery() as nursery:
            ws = await trio_websocket.connect_websocket_url(nursery, f"{v.venue.ws_url}/stream")
            await ws.send_message(json.dumps({"action": "authenticate", "data": {
                "key_id": v.venue.api_key, "secret_key": v.venue.api_secret}}))
            await ws.get_message()
            await ws.send_message(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
            await ws.get_message()
            queued = await v.order()
            assert (queued["status"], queued["filled_qty"]) == ("accepted", "0")
            limit = await v.order(type="limit", limit_price="999")  # marketable, but not extended hours
            assert limit["status"] == "accepted"
            await v.until(ny(2026, 12, 1, 9, 30))
            assert (await v.status(queued), await v.status(limit)) == ("filled", "filled")
            filled = await v.get(f"/v2/orders/{queued['id']}")
            assert filled["filled_at"] >= "2026-12-01T14:30:00"  # at the open, not before
            events = []
            with trio.fail_after(30):
                while len(events) < 6:
                    events.append(json.loads(await ws.get_message())["data"]["event"])
            assert events == ["accepted", "accepted", "new", "fill", "new", "fill"]
            nursery.cancel_scope.cancel()

    await running(ny(2026, 12, 1, 8), test)


async def test_extended_hours_day_limits_trade_in_the_pre_market(autojump_clock: trio.abc.Clock) -> None:
    async def test(v: Venue) -> None:
        extended = await v.order(type="limit", limit_price="999", extended_hours=True)
        assert extended["status"] == "filled" and extended["filled_at"] < "2026-12-01T14:30"
        resting = await v.order(type="limit", limit_price="1", extended_hours=True, qty="2")
        assert resting["status"] == "new"
        await v.until(ny(2026, 12, 1, 20))
        assert await v.status(resting) == "expired"  # an extended DAY order lives until after-hours end
        trades = await v.get("/v2/stocks/AAPL/trades?start=2026-12-01T09:00:00Z&limit=3")
        assert trades["trades"][0]["c"] == ["@", "T"]  # pre-market prints are Form T

    await running(ny(2026, 12, 1, 7), test)


async def test_day_orders_expire_at_the_close_and_gtc_waits_out_the_night(autojump_clock: trio.abc.Clock) -> None:
    async def test(v: Venue) -> None:
        price = v.venue.engine.last_price("AAPL")  # type: ignore[attr-defined]
        day = await v.order(type="limit", limit_price=str(price - 20))
        gtc = await v.order(type="limit", limit_price=str(price - 20), time_in_force="gtc")
        stop = await v.order(type="stop", stop_price=str(price + 30), side="buy")
        await v.until(ny(2026, 12, 1, 16))
        expired = await v.get(f"/v2/orders/{day['id']}")
        assert (expired["status"], expired["expired_at"][:16]) == ("expired", "2026-12-01T21:00")
        assert (await v.status(stop), await v.status(gtc)) == ("expired", "new")
        v.push("AAPL", str(price - 40))  # after hours the price falls through the GTC limit ...
        await v.until(ny(2026, 12, 1, 17))
        assert await v.status(gtc) == "new"  # ... and a regular-hours order does not trade there
        await v.until(ny(2026, 12, 2, 9, 30))
        assert await v.status(gtc) == "filled"

    await running(ny(2026, 12, 1, 15, 50), test)


async def test_an_early_close(autojump_clock: trio.abc.Clock) -> None:
    async def test(v: Venue) -> None:
        clock = await v.get("/v2/clock")
        assert clock["is_open"] is True and clock["next_close"] == "2026-11-27T13:00:00-05:00"
        order = await v.order(type="limit", limit_price="1")
        assert (await v.get(f"/v2/orders/{order['id']}"))["expires_at"][:16] == "2026-11-27T18:00"
        await v.until(ny(2026, 11, 27, 13))
        assert await v.status(order) == "expired"
        assert (await v.get("/v2/clock"))["next_open"] == "2026-11-30T09:30:00-05:00"

    await running(ny(2026, 11, 27, 12, 50), test)


async def test_a_holiday_and_a_weekend_are_closed(autojump_clock: trio.abc.Clock) -> None:
    async def test(v: Venue) -> None:
        clock = await v.get("/v2/clock")
        assert clock["is_open"] is False and clock["next_open"] == "2026-11-27T09:30:00-05:00"
        mid = v.venue.engine.symbols["AAPL"].mid
        order = await v.order()
        assert order["status"] == "accepted"
        await trio.sleep(3 * 3600)
        assert v.venue.engine.symbols["AAPL"].mid == mid and await v.status(order) == "accepted"  # no trading
        await v.until(ny(2026, 11, 27, 9, 30))
        assert await v.status(order) == "filled"
        weekend = await v.order(qty="2")  # Friday after its early close ... then Saturday and Sunday
        assert weekend["status"] == "filled"  # (still Friday's session here)
        await v.until(ny(2026, 11, 28, 10))
        saturday = await v.order(qty="3")
        assert saturday["status"] == "accepted"
        await v.until(ny(2026, 11, 30, 9, 30))
        assert await v.status(saturday) == "filled"

    await running(ny(2026, 11, 26, 10), test)


async def test_opening_and_closing_auctions(autojump_clock: trio.abc.Clock) -> None:
    async def test(v: Venue) -> None:
        opg = [await v.order(time_in_force="opg", qty="2"), await v.order(time_in_force="opg", qty="1"),
               await v.order(time_in_force="opg", type="limit", limit_price="1")]
        assert [o["status"] for o in opg] == ["new", "new", "new"]
        await v.until(ny(2026, 12, 1, 9, 30))
        done = [await v.get(f"/v2/orders/{o['id']}") for o in opg]
        assert [o["status"] for o in done] == ["filled", "filled", "canceled"]  # the limit was not reached
        assert done[0]["filled_avg_price"] == done[1]["filled_avg_price"]  # one auction price
        late = await v.post(time_in_force="opg")
        assert (late.status_code, late.json()["code"]) == (422, 42210000)
        cls = await v.order(time_in_force="cls", qty="3")
        await v.until(ny(2026, 12, 1, 15, 51))
        assert (await v.post(time_in_force="cls")).status_code == 422  # after 15:50
        await v.until(ny(2026, 12, 1, 16))
        closed = await v.get(f"/v2/orders/{cls['id']}")
        assert closed["status"] == "filled" and closed["filled_at"][:16] >= "2026-12-01T21:00"
        assert D(closed["filled_avg_price"]) == v.venue.engine.closes["AAPL"]  # type: ignore[attr-defined]
        await v.until(ny(2026, 12, 1, 19, 1))
        tomorrow = await v.order(time_in_force="opg")  # after 19:00: the next session's auction
        assert tomorrow["status"] == "new"
        await v.until(ny(2026, 12, 2, 9, 30))
        assert await v.status(tomorrow) == "filled"

    await running(ny(2026, 12, 1, 8), test)


async def test_stops_trailing_stops_and_bracket_legs(autojump_clock: trio.abc.Clock) -> None:
    async def test(v: Venue) -> None:
        price = v.venue.engine.last_price("AAPL")  # type: ignore[attr-defined]
        await v.order(qty="10")
        stop = await v.order(type="stop", side="sell", stop_price=str(price - 5), time_in_force="gtc", qty="2")
        trail = await v.order(type="trailing_stop", side="sell", trail_price="3", time_in_force="gtc", qty="2")
        assert D(trail["stop_price"]) == D(trail["hwm"]) - 3
        bracket = await v.order(qty="3", time_in_force="gtc", order_class="bracket",
                                take_profit={"limit_price": str(price + 4)}, stop_loss={"stop_price": str(price - 20)})
        legs = {leg["type"]: leg for leg in bracket["legs"]}
        v.push("AAPL", str(price + 6))  # up: the trailing stop follows, the take-profit fills
        await trio.sleep(180)
        high = await v.get(f"/v2/orders/{trail['id']}")
        assert D(high["hwm"]) > price and D(high["stop_price"]) == D(high["hwm"]) - 3
        assert await v.status(legs["limit"]) == "filled" and await v.status(legs["stop"]) == "canceled"
        v.push("AAPL", str(price - 8))  # down: both stops fire
        await trio.sleep(180)
        assert (await v.status(stop), await v.status(trail)) == ("filled", "filled")
        position = await v.get("/v2/positions/AAPL")
        assert position["qty"] == str(10 + 3 - 3 - 2 - 2)

    await running(ny(2026, 12, 1, 10), test)


async def test_a_queued_order_is_checked_again_at_the_open(autojump_clock: trio.abc.Clock) -> None:
    async def test(v: Venue) -> None:
        queued = await v.order(qty="400")  # worth about $92k of the $200k buying power
        assert queued["status"] == "accepted"
        v.venue.engine.balances["demo"]["USD"][0] = D(1000)  # the money is gone by the open
        await v.until(ny(2026, 12, 1, 9, 30))
        rejected = await v.get(f"/v2/orders/{queued['id']}")
        assert rejected["status"] == "rejected" and rejected["failed_at"]

    await running(ny(2026, 12, 1, 9), test)
