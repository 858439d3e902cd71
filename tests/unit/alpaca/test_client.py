"""AlpacaBroker's REST side against a scripted venue (httpx MockTransport on both hosts): what it sends (hosts,
paths, parameters, key headers, bodies), what it refuses before sending (order rules, market hours), how
answers and error bodies map to protocol types, and how it pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import attrs
import httpx
import msgspec
import pytest
import trio

import brokers
from brokers.alpaca.client import AlpacaBroker
from brokers.alpaca.constants import TESTNET
from brokers.base import BrokerSettings, BrokerState
from brokers.placement import place_order_idempotent
from protocol import errors as e
from protocol.credentials import Credentials
from protocol.model import (
    MarketSession,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from tests.unit.alpaca import samples

KEY, SECRET = "PKDOCKEY00000000000A", "doc-secret-0000000000000000000000000000"
ORDER_ID = "7b08df51-c1ac-453c-99f9-323a5f075f0d"


def ny_clock(moment: datetime, is_open: bool) -> dict[str, Any]:
    """A /v2/clock answer at ``moment`` (the next open/close are not read by these tests' checks)."""
    return {"timestamp": moment.isoformat(), "is_open": is_open, "next_open": "2026-12-07T09:30:00-05:00",
            "next_close": "2026-12-07T16:00:00-05:00"}


def calendar_rows(first: date, last: date) -> list[dict[str, str]]:
    """Weekdays 09:30-16:00, extended 04:00-20:00 (what the tests need of a calendar, no holidays)."""
    rows, day = [], first
    while day <= last:
        if day.weekday() < 5:
            rows.append({"date": day.isoformat(), "open": "09:30", "close": "16:00", "session_open": "0400",
                         "session_close": "2000"})
        day += timedelta(days=1)
    return rows


def order_json(**changes: Any) -> dict[str, Any]:
    return {**json.loads(samples.ORDER_EQUITY), **changes}


@attrs.define
class Sent:
    method: str
    host: str
    path: str
    params: dict[str, str]
    headers: httpx.Headers
    body: Any


@attrs.define
class Venue:
    """Answers by (method, path) for both hosts; records every request."""

    now: datetime = datetime(2026, 12, 1, 15, tzinfo=UTC)  # Tuesday 10:00 ET
    routes: dict[tuple[str, str], Callable[[Sent], Any]] = attrs.field(factory=dict)
    sent: list[Sent] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.routes.update({
            ("GET", "/v2/clock"): lambda r: ny_clock(self.now, 14 <= self.now.hour < 21 and self.now.weekday() < 5),
            ("GET", "/v2/assets"): lambda r: [json.loads(samples.ASSET_AAPL)],
            ("GET", "/v2/account"): lambda r: json.loads(samples.ACCOUNT),
            ("GET", "/v2/calendar"): lambda r: calendar_rows(date.fromisoformat(r.params["start"]),
                                                             date.fromisoformat(r.params["end"])),
        })

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        sent = Sent(request.method, request.url.host, request.url.path, dict(parse_qsl(request.url.query.decode())),
                    request.headers, body)
        self.sent.append(sent)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json={"code": 40410000, "message": "endpoint not found"})
        answer = route(sent)
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    def calls(self, path: str, method: str | None = None) -> list[Sent]:
        return [s for s in self.sent if s.path == path and (method is None or s.method == method)]


def broker_on(venue: Venue, **options: str) -> AlpacaBroker:
    rest, ws = TESTNET  # paper trading
    settings = BrokerSettings(venue="alpaca", rest_url=rest, ws_url=ws, credentials=Credentials.from_strings(KEY, SECRET),
                              testnet=True, options=options)
    broker = AlpacaBroker(settings)
    broker.rest._transport = broker.data._transport = httpx.MockTransport(venue)
    return broker


async def connected(venue: Venue, **options: str) -> AlpacaBroker:
    broker = broker_on(venue, **options)
    await broker.connect()
    venue.sent.clear()
    return broker


def buy(**fields: Any) -> OrderRequest:
    fields.setdefault("type", OrderType.LIMIT)
    fields.setdefault("quantity", Decimal(2))
    if fields["type"] is OrderType.LIMIT:
        fields.setdefault("price", Decimal(150))
    return OrderRequest(venue="alpaca", symbol="AAPL", side=Side.BUY, client_order_id="my-order-1", **fields)


# ============================================================================ endpoints and connecting


def test_paper_is_the_testnet_and_the_hosts_follow_from_the_trading_host() -> None:
    assert brokers.default_endpoints("alpaca", testnet=True) == ("https://paper-api.alpaca.markets",
                                                                 "wss://stream.data.alpaca.markets")
    assert brokers.default_endpoints("alpaca", testnet=False)[0] == "https://api.alpaca.markets"
    broker = broker_on(Venue())
    assert broker.data_url() == "https://data.alpaca.markets"
    assert broker.trading_stream_url() == "wss://paper-api.alpaca.markets/stream"
    assert broker.data_stream_url() == "wss://stream.data.alpaca.markets/v2/iex"
    assert broker_on(Venue(), feed="sip").data_stream_url().endswith("/v2/sip")
    emulated = AlpacaBroker(BrokerSettings(venue="alpaca", rest_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9",
                                           credentials=Credentials.from_strings(KEY, SECRET)))
    assert emulated.data_url() == "http://127.0.0.1:9" and emulated.trading_stream_url() == "ws://127.0.0.1:9/stream"


async def test_connect_reads_clock_assets_account_and_calendar_with_the_key_headers() -> None:
    venue = Venue()
    broker = broker_on(venue)
    await broker.connect()
    assert [(s.method, s.path) for s in venue.sent] == [("GET", "/v2/clock"), ("GET", "/v2/assets"),
                                                        ("GET", "/v2/account"), ("GET", "/v2/clock"),
                                                        ("GET", "/v2/calendar")]
    assert venue.calls("/v2/assets")[0].params == {"status": "active", "asset_class": "us_equity"}
    assert venue.calls("/v2/calendar")[0].params == {"start": "2026-11-28", "end": "2027-01-10"}
    assert all(s.headers["APCA-API-KEY-ID"] == KEY and s.headers["APCA-API-SECRET-KEY"] == SECRET for s in venue.sent)
    assert all(s.host == "paper-api.alpaca.markets" for s in venue.sent)
    assert broker.instrument("AAPL").fractionable and SECRET not in repr(broker)
    assert abs(broker.venue_now() - venue.now) < timedelta(seconds=1)


async def test_market_data_goes_to_the_data_host_with_the_feed() -> None:
    venue = Venue()
    venue.routes[("GET", "/v2/stocks/AAPL/snapshot")] = lambda r: json.loads(samples.SNAPSHOT)
    venue.routes[("GET", "/v2/stocks/AAPL/bars")] = lambda r: json.loads(samples.BARS_PAGE) | {"next_page_token": None}
    broker = await connected(venue, feed="sip")
    ticker = await broker.get_ticker("AAPL")
    assert ticker.last == Decimal("125.91") and ticker.bid == Decimal("125.6") and ticker.bid_size == 400
    candles = await broker.get_candles("AAPL", "1h", 10)
    assert candles[0].close == Decimal("178.21")
    snapshot, bars = venue.sent
    assert snapshot.host == bars.host == "data.alpaca.markets" and snapshot.params == {"feed": "sip"}
    assert bars.params["timeframe"] == "1Hour" and bars.params["sort"] == "desc" and bars.params["limit"] == "10"


async def test_unknown_options_are_refused() -> None:
    with pytest.raises(e.NotSupported):
        broker_on(Venue(), feeds="iex")
    with pytest.raises(e.NotSupported):
        broker_on(Venue(), market_hours_policy="later")
    with pytest.raises(e.NotSupported):
        broker_on(Venue(), data_requests_per_minute="0")
    assert broker_on(Venue(), data_requests_per_minute="10000").data.limiter is not None


# ============================================================================ orders


async def test_an_order_is_posted_as_alpaca_documents_it() -> None:
    venue = Venue()
    venue.routes[("POST", "/v2/orders")] = lambda r: order_json(client_order_id=r.body["client_order_id"])
    broker = await connected(venue)
    order = await broker.place_order(buy(time_in_force=TimeInForce.DAY))
    (sent,) = venue.sent
    assert sent.body == {"symbol": "AAPL", "side": "buy", "type": "limit", "time_in_force": "day", "qty": "2",
                         "limit_price": "150", "client_order_id": "my-order-1"}
    assert sent.headers["Content-Type"] == "application/json"
    assert order.order_id == ORDER_ID and order.client_order_id == "my-order-1"
    assert order.status is OrderStatus.PENDING_NEW  # "accepted"


@pytest.mark.parametrize("fate", ["never", "executed", "late"])
async def test_a_lost_order_is_looked_up_then_resent_with_the_same_id(fate: str,
                                                                      autojump_clock: trio.abc.Clock) -> None:
    """Alpaca's bound (README "Order entry"): client ids unique for ever. The first request's answer is lost and
    it executed never, at once, or late (after the lookup missed it, just before the resend). A lookup that misses
    makes a resend with the same id safe at once; a 422 "client_order_id must be unique" to it means "placed",
    and the order is looked up again -- there is never a second one."""
    venue = Venue()
    placed: dict[str, dict[str, Any]] = {}

    def post(request: Sent) -> Any:
        cid = request.body["client_order_id"]
        first = len(venue.calls("/v2/orders", "POST")) == 1
        if (first and fate == "executed") or (not first and fate == "late"):
            placed.setdefault(cid, order_json(client_order_id=cid))  # the first attempt executes
        if first:
            raise httpx.ReadTimeout("lost", request=None)  # type: ignore[arg-type]
        if cid in placed:
            return httpx.Response(422, content=samples.ERROR_DUPLICATE_CLIENT_ORDER_ID)
        placed[cid] = order_json(client_order_id=cid)
        return placed[cid]

    def by_client_id(request: Sent) -> Any:
        found = placed.get(request.params["client_order_id"])
        return found or httpx.Response(404, json={"code": 40410000, "message": "order not found"})

    venue.routes[("POST", "/v2/orders")] = post
    venue.routes[("GET", "/v2/orders:by_client_order_id")] = by_client_id
    broker = await connected(venue)
    rule = broker.resend_rule()
    assert rule.unique_client_ids and rule.expires_after_ms is None and "2026-11-30" in rule.source
    order = await place_order_idempotent(broker, BrokerState(venue="alpaca"), buy(time_in_force=TimeInForce.DAY))
    assert order.order_id == ORDER_ID and order.client_order_id == "my-order-1" and len(placed) == 1
    posts = venue.calls("/v2/orders", "POST")
    assert len(posts) == (1 if fate == "executed" else 2)  # found by the first lookup: nothing is resent
    assert {p.body["client_order_id"] for p in posts} == {"my-order-1"}
    assert len(venue.calls("/v2/orders:by_client_order_id")) == (2 if fate == "late" else 1)


async def test_a_bracket_is_one_request_with_its_legs() -> None:
    venue = Venue()
    venue.routes[("POST", "/v2/orders")] = lambda r: order_json(order_class="bracket")
    broker = await connected(venue)
    await broker.place_order(buy(order_class=OrderClass.BRACKET, take_profit_price=Decimal(160),
                                 stop_loss_price=Decimal(140), stop_loss_limit_price=Decimal("139.5")))
    assert venue.sent[0].body["order_class"] == "bracket"
    assert venue.sent[0].body["take_profit"] == {"limit_price": "160"}
    assert venue.sent[0].body["stop_loss"] == {"stop_price": "140", "limit_price": "139.5"}


@pytest.mark.parametrize(("request_", "kind", "filter_name"), [
    (buy(price=Decimal("150.001")), e.InvalidOrder, "PRICE_FILTER"),  # sub-penny
    (buy(quantity=Decimal("0.5")), e.InvalidOrder, "LOT_SIZE"),  # fractional: DAY only
    (buy(extended_hours=True, time_in_force=TimeInForce.GTC), e.InvalidOrder, "EXTENDED_HOURS"),
    (buy(type=OrderType.MARKET, quantity=Decimal(1), time_in_force=TimeInForce.OPG, reduce_only=True),
     e.NotSupported, None),
    (buy(type=OrderType.STOP_MARKET, stop_price=Decimal(160), time_in_force=TimeInForce.FOK), e.NotSupported, None),
    (buy(type=OrderType.TRAILING_STOP, quantity=Decimal(1), trail_price=Decimal(2), trail_percent=Decimal(1)),
     e.InvalidOrder, "PRICE_FILTER"),
    (buy(order_class=OrderClass.OCO, take_profit_price=Decimal(160)), e.InvalidOrder, "ORDER_CLASS"),
])
async def test_what_alpaca_refuses_is_refused_before_sending(request_: OrderRequest, kind: type[e.BrokerError],
                                                             filter_name: str | None) -> None:
    venue = Venue()
    broker = await connected(venue)
    with pytest.raises(kind) as refused:
        await broker.place_order(request_)
    assert venue.sent == []
    if filter_name is not None:
        assert isinstance(refused.value, e.InvalidOrder) and refused.value.filter == filter_name


async def test_the_market_hours_policy_refuses_before_sending_and_queue_passes() -> None:
    saturday = datetime(2026, 12, 5, 15, tzinfo=UTC)
    venue = Venue(now=saturday)
    venue.routes[("POST", "/v2/orders")] = lambda r: order_json()
    broker = await connected(venue)
    with pytest.raises(e.MarketClosed) as closed:
        await broker.place_order(buy(type=OrderType.MARKET, quantity=Decimal(1)))
    assert "next open 2026-12-07T14:30:00+00:00" in closed.value.message and venue.sent == []
    queueing = await connected(venue, market_hours_policy="queue")
    await queueing.place_order(buy(type=OrderType.MARKET, quantity=Decimal(1)))
    assert [s.path for s in venue.sent] == ["/v2/orders"]


async def test_the_session_clock_follows_trio_time_and_the_calendar(autojump_clock: trio.abc.Clock) -> None:
    venue = Venue(now=datetime(2026, 12, 1, 14, 29, tzinfo=UTC))  # 09:29 ET, pre-market
    broker = await connected(venue)
    clock = await broker.get_market_clock()
    assert clock.session is MarketSession.PRE and clock.next_change == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    await trio.sleep(120)  # the venue's time is carried on trio's (here virtual) clock
    assert broker.venue_now() - venue.now == timedelta(seconds=120)
    days = await broker.get_market_calendar(date(2026, 12, 4), date(2026, 12, 7))
    assert [d.day for d in days] == [date(2026, 12, 4), date(2026, 12, 7)]  # the weekend has no rows
    assert days[0].open == datetime(2026, 12, 4, 14, 30, tzinfo=UTC)


async def test_cancel_by_client_id_looks_the_id_up_deletes_and_reads_the_result() -> None:
    venue = Venue()
    states = iter(["pending_cancel", "canceled"])
    venue.routes[("GET", "/v2/orders:by_client_order_id")] = lambda r: order_json()
    venue.routes[("DELETE", f"/v2/orders/{ORDER_ID}")] = lambda r: httpx.Response(204)
    venue.routes[("GET", f"/v2/orders/{ORDER_ID}")] = lambda r: order_json(status=next(states))
    broker = await connected(venue)
    cancelled = await broker.cancel_order("AAPL", client_order_id="5680c4bc-9ac1-4a12-a44c-df427ba53032")
    assert cancelled.status is OrderStatus.CANCELED
    assert [(s.method, s.path) for s in venue.sent] == [
        ("GET", "/v2/orders:by_client_order_id"), ("DELETE", f"/v2/orders/{ORDER_ID}"),
        ("GET", f"/v2/orders/{ORDER_ID}"), ("GET", f"/v2/orders/{ORDER_ID}")]
    assert venue.sent[0].params == {"client_order_id": "5680c4bc-9ac1-4a12-a44c-df427ba53032"}


async def test_replace_sends_a_new_client_id_and_finds_a_lost_answer_by_it() -> None:
    venue = Venue()
    patched: list[dict[str, Any]] = []

    def lose(request: Sent) -> Any:
        patched.append(request.body)
        raise httpx.ReadTimeout("lost", request=None)  # type: ignore[arg-type]

    venue.routes[("PATCH", f"/v2/orders/{ORDER_ID}")] = lose
    venue.routes[("GET", "/v2/orders:by_client_order_id")] = lambda r: order_json(
        id="new-id", client_order_id=r.params["client_order_id"], replaces=ORDER_ID, limit_price="149")
    broker = await connected(venue)
    replacement = await broker.amend_order("AAPL", order_id=ORDER_ID, price=Decimal(149))
    (body,) = patched
    assert body["limit_price"] == "149" and len(body["client_order_id"]) == 32
    assert replacement.order_id == "new-id" and replacement.client_order_id == body["client_order_id"]
    assert venue.calls("/v2/orders:by_client_order_id")[0].params["client_order_id"] == body["client_order_id"]


async def test_cancel_all_reads_the_multi_status_answer() -> None:
    venue = Venue()
    venue.routes[("DELETE", "/v2/orders")] = lambda r: httpx.Response(207, json=[
        {"id": ORDER_ID, "status": 200, "body": order_json(status="pending_cancel")},
        {"id": "other", "status": 500, "body": {"code": 50010000, "message": "internal server error"}}])
    broker = await connected(venue)
    (cancelled,) = await broker.cancel_all_orders()
    assert cancelled.order_id == ORDER_ID


async def test_orders_page_by_submission_time_without_skipping_equal_times() -> None:
    venue = Venue()
    first = [order_json(id=f"o{i}", client_order_id=f"c{i}", submitted_at="2026-12-01T15:00:00.000001Z",
                        status="new") for i in range(500)]
    second = [*first[-2:], order_json(id="o500", client_order_id="c500", status="new",
                                      submitted_at="2026-12-01T15:00:00.000001Z")]
    pages = iter([first, second])
    venue.routes[("GET", "/v2/orders")] = lambda r: next(pages)
    broker = await connected(venue)
    orders = await broker.get_orders()
    assert len(orders) == 501 and len({o.order_id for o in orders}) == 501
    one, two = venue.calls("/v2/orders")
    assert one.params == {"status": "open", "limit": "500", "direction": "asc", "nested": "true"}
    assert two.params["after"] == "2026-12-01T15:00:00.000000Z"


async def test_fills_page_by_token_filter_the_symbol_and_take_client_ids_from_orders() -> None:
    venue = Venue()
    row = json.loads(samples.FILL_ACTIVITY)[0]
    page_one = [row | {"id": f"20220202135509{i:03d}::x", "symbol": "MSFT" if i % 2 else "AAPL",
                       "cum_qty": str(i + 1)} for i in range(100)]
    pages = iter([page_one, [row]])
    venue.routes[("GET", "/v2/account/activities/FILL")] = lambda r: next(pages)
    venue.routes[("GET", "/v2/orders/b5abe576-6a8a-49f3-a353-46b72c1ccae9")] = lambda r: order_json(
        id="b5abe576-6a8a-49f3-a353-46b72c1ccae9", client_order_id="mine-1")
    broker = await connected(venue)
    since = datetime(2022, 2, 2, tzinfo=UTC)
    fills = await broker.get_fills("AAPL", since=since)
    assert len(fills) == 51 and all(f.symbol == "AAPL" and f.client_order_id == "mine-1" for f in fills)
    assert fills[0].trade_id == "b5abe576-6a8a-49f3-a353-46b72c1ccae9:1"
    one, two = venue.calls("/v2/account/activities/FILL")
    assert one.params == {"page_size": "100", "direction": "asc", "after": "2022-02-01T23:59:59.999999Z"}
    assert two.params["page_token"] == page_one[-1]["id"]
    assert len(venue.calls("/v2/orders/b5abe576-6a8a-49f3-a353-46b72c1ccae9")) == 1  # looked up once


# ============================================================================ positions and errors


async def test_positions_and_a_missing_position_is_flat() -> None:
    venue = Venue()
    venue.routes[("GET", "/v2/positions")] = lambda r: [json.loads(samples.POSITION_LONG)]
    venue.routes[("GET", "/v2/positions/AAPL")] = lambda r: httpx.Response(
        404, json={"code": 40410000, "message": "position does not exist"})
    broker = await connected(venue)
    (position,) = await broker.get_positions()
    assert position.side is PositionSide.LONG and position.unrealized_pnl == Decimal("-0.98")
    assert (await broker.get_position("AAPL")).side is PositionSide.FLAT


@pytest.mark.parametrize(("status", "body", "kind"), [
    (422, samples.ERROR_DUPLICATE_CLIENT_ORDER_ID, e.DuplicateOrder),
    (403, samples.ERROR_INSUFFICIENT_BUYING_POWER, e.InsufficientFunds),
    (403, b'{"code": 40310000, "message": "insufficient qty available for order"}', e.InsufficientFunds),
    (422, b'{"code": 40010001, "message": "market orders must be placed during market hours"}', e.MarketClosed),
    (401, b'{"code": 40110000, "message": "request is not authorized"}', e.AuthenticationError),
    (500, b'{"code": 50010000, "message": "internal server error"}', e.VenueUnavailable),
])
async def test_error_answers_through_the_client(status: int, body: bytes, kind: type[e.BrokerError]) -> None:
    venue = Venue()
    venue.routes[("POST", "/v2/orders")] = lambda r: httpx.Response(status, content=body)
    broker = await connected(venue)
    with pytest.raises(kind) as refused:
        await broker.place_order(buy(time_in_force=TimeInForce.DAY))
    assert refused.value.venue == "alpaca" and refused.value.venue_message == msgspec.json.decode(body)["message"]


async def test_a_rate_limit_answer_waits_until_the_reset_on_the_venue_clock(autojump_clock: trio.abc.Clock) -> None:
    venue = Venue(now=datetime(2026, 12, 1, 15, tzinfo=UTC))
    reset = int(venue.now.timestamp()) + 7  # the venue's clock, not ours (an emulator may run on another day)
    answers = iter([httpx.Response(429, json={"code": 42910000, "message": "rate limit exceeded"},
                                   headers={"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0",
                                            "X-RateLimit-Reset": str(reset)})])
    venue.routes[("GET", "/v2/positions")] = lambda r: next(answers, [])
    broker = await connected(venue)
    before = trio.current_time()
    assert await broker.get_positions() == []
    # The read waited at least until the reset (then the rolling minute the venue said was used up), and was
    # retried; a reset read on our own clock would have been days away or long past.
    assert 7 <= trio.current_time() - before <= 70


async def test_rate_limit_headers_feed_the_limiter() -> None:
    venue = Venue()
    venue.routes[("GET", "/v2/positions")] = lambda r: httpx.Response(200, json=[], headers={
        "X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "0"})
    broker = await connected(venue)
    await broker.get_positions()
    (window,) = broker.rest.limiter._windows  # type: ignore[attr-defined]
    assert window.used >= 197  # the venue says 3 are left this minute
