"""The Alpaca dialect on the wire: the key headers and their 401/403 bodies, error bodies, the rate limit and
its headers, order semantics (types, fractional shares, short selling, buying power, classes, replace, client
order ids), positions and activities paging, market data, both websockets, the faults, and a fuzz of bodies,
parameters and frames that must never get a 500 or a dropped socket -- each checked against Alpaca's documented
(or observed) answers.

Loopback only; every wait is bounded. The market clock is pinned to a Tuesday morning session
(2026-12-01 10:00 New York time) unless a test needs another moment; the session transitions are in
test_alpaca_sessions.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest
import trio
import trio_websocket
import websockets.sync.client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulators import EmulatedVenue, emulate
from tests.conformance.conftest import threaded_emulator

D = Decimal
TUESDAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York: the regular session
LIMITED = {"pattern_day_trader", "daytrade_count", "daytrading_buying_power", "last_daytrade_count"}


@pytest.fixture
async def venue() -> AsyncIterator[EmulatedVenue]:
    async with emulate("alpaca", seed=11, tick_interval=3600, market_time=TUESDAY) as emulated:
        yield emulated


class Api:
    """A REST client sending the key headers (or others)."""

    def __init__(self, venue: EmulatedVenue, http: httpx.AsyncClient, key: str | None = None,
                 secret: str | None = None) -> None:
        self.http = http
        self.headers = {"APCA-API-KEY-ID": key or venue.api_key, "APCA-API-SECRET-KEY": secret or venue.api_secret}

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        content = None if body is None else json.dumps(body)
        return await self.http.request(method, path, params=params or None, content=content, headers=self.headers)

    async def ok(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = await self.call(method, path, body, **params)
        assert response.status_code in (200, 204, 207), response.text
        return response.json() if response.content else None

    async def order(self, **body: Any) -> dict[str, Any]:
        sent = {"symbol": "AAPL", "qty": "1", "time_in_force": "day", "side": "buy", "type": "market", **body}
        result: dict[str, Any] = await self.ok("POST", "/v2/orders", {k: v for k, v in sent.items() if v is not None})
        return result

    async def refused(self, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, dict[str, Any]]:
        response = await self.call(method, path, body, **params)
        assert response.status_code >= 400, response.text
        return response.status_code, response.json()


def rest(venue: EmulatedVenue) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=venue.rest_url, timeout=10)


# ====================================================================== authentication, errors, limits
async def test_key_headers_and_alpaca_error_bodies(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        bare = await http.get("/v2/account")
        assert (bare.status_code, bare.json()) == (403, {"message": "forbidden."})  # the gateway: no code
        for key, secret in (("PKNOSUCHKEY000000000", venue.api_secret), (venue.api_key, "wrong")):
            wrong = await Api(venue, http, key, secret).call("GET", "/v2/account")
            assert (wrong.status_code, wrong.json()) == (401, {"code": 40110000, "message": "request is not authorized"})
        assert "x-ratelimit-limit" not in bare.headers
        assert await api.refused("GET", "/v2/watchlists") == (404, {"code": 40410000, "message": "endpoint not found"})
        assert (await api.refused("PUT", "/v2/orders"))[0] == 405
        for unserved in ("/v2/account/configurations", "/v2/account/portfolio/history", "/v2/options/contracts",
                         "/v1beta3/crypto/us/bars", "/v2/stocks/AAPL/auctions"):
            assert (await api.refused("GET", unserved))[0] == 404, unserved
        malformed = await http.post("/v2/orders", content="{not json", headers=api.headers)
        assert (malformed.status_code, malformed.json()) == (400, {"code": 40010000,
                                                                   "message": "request body format is invalid"})
        assert (await api.refused("POST", "/v2/orders", [1, 2]))[1]["code"] == 40010000
        status, body = await api.refused("POST", "/v2/orders", {"symbol": "AAPL", "qty": 1, "side": "buy",
                                                                "type": "market", "time_in_force": "day",
                                                                "commission": 1})
        assert (status, body) == (422, {"code": 40010001, "message": "commission is not a supported parameter"})
        assert (await api.refused("GET", "/v2/account", color="blue"))[0] == 422  # unknown query parameters too
        account = await api.ok("GET", "/v2/account")
        assert not LIMITED & set(account), "fields Alpaca removed on 2026-07-06 are not sent"


async def test_rate_limit_headers_and_429(venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    venue.dialect.trading_limit = 3
    async with rest(venue) as http:
        api = Api(venue, http)
        seen = []
        for _ in range(4):
            response = await api.call("GET", "/v2/clock")
            seen.append((response.status_code, response.headers["x-ratelimit-limit"],
                         response.headers["x-ratelimit-remaining"]))
        assert seen == [(200, "3", "2"), (200, "3", "1"), (200, "3", "0"), (429, "3", "0")]
        assert response.json() == {"code": 42910000, "message": "rate limit exceeded"}
        reset = int(response.headers["x-ratelimit-reset"])
        assert reset > venue.engine.now_ms() // 1000  # epoch seconds of the market clock
        data = await api.call("GET", "/v2/stocks/AAPL/trades/latest")
        assert data.status_code == 200 and data.headers["x-ratelimit-limit"] == "200"  # its own window
        await trio.sleep(61)
        assert (await api.call("GET", "/v2/clock")).status_code == 200


# ====================================================================== account, assets
async def test_account_assets_and_their_shapes(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        account = await api.ok("GET", "/v2/account")
        assert (account["status"], account["currency"], account["multiplier"]) == ("ACTIVE", "USD", "2")
        assert (account["cash"], account["equity"], account["buying_power"]) == ("100000", "100000", "200000")
        assert account["shorting_enabled"] is True and account["account_number"].startswith("PA")
        assets = await api.ok("GET", "/v2/assets")
        assert [a["symbol"] for a in assets] == ["AAPL", "MSFT", "SPY", "TSLA", "TQQQ"]
        aapl = await api.ok("GET", "/v2/assets/AAPL")
        assert {k: aapl[k] for k in ("class", "exchange", "tradable", "fractionable", "shortable", "easy_to_borrow",
                                     "marginable", "status")} == {
            "class": "us_equity", "exchange": "NASDAQ", "tradable": True, "fractionable": True, "shortable": True,
            "easy_to_borrow": True, "marginable": True, "status": "active"}
        assert "min_order_size" not in aapl  # crypto-only fields
        assert await api.ok("GET", f"/v2/assets/{aapl['id']}") == aapl  # by asset id too
        assert await api.refused("GET", "/v2/assets/ZZZZ") == (404, {"code": 40410000,
                                                                      "message": "asset not found for ZZZZ"})
        assert [a["symbol"] for a in await api.ok("GET", "/v2/assets", exchange="ARCA")] == ["SPY"]
        assert await api.ok("GET", "/v2/assets", asset_class="crypto") == []
        assert await api.ok("GET", "/v2/assets", status="inactive") == []
        assert (await api.refused("GET", "/v2/assets", status="zombie"))[0] == 422


# ====================================================================== orders
MARKET = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


@pytest.mark.parametrize(("body", "status", "code", "message"), [
    ({**MARKET, "qty": None}, 422, 40010001, "qty or notional is required"),
    ({**MARKET, "notional": "10"}, 422, 40010001, "qty and notional cannot both be given"),
    ({**MARKET, "qty": "0"}, 422, 42210000, "qty must be > 0"),
    ({**MARKET, "qty": "1.0000000001"}, 422, 40010001, "invalid qty: at most 9 decimal places"),
    ({**MARKET, "qty": True}, 422, 40010001, "invalid qty"),
    ({**MARKET, "type": "iceberg"}, 422, 40010001,
     "invalid type: must be one of market, limit, stop, stop_limit, trailing_stop"),
    ({**MARKET, "time_in_force": "gtd"}, 422, 40010001, "invalid time_in_force: must be one of day, gtc, opg, cls, "
                                                        "ioc, fok"),
    ({**MARKET, "symbol": "ZZZZ"}, 422, 40010001, 'asset "ZZZZ" not found'),
    ({**MARKET, "type": "limit"}, 422, 40010001, "limit_price is required"),
    ({**MARKET, "type": "limit", "limit_price": "230.001"}, 422, 42210000,
     "invalid limit_price 230.001. sub-penny increment does not fulfill minimum pricing criteria"),
    ({**MARKET, "limit_price": "230"}, 422, 40010001, "limit_price is not allowed for market orders"),
    ({**MARKET, "extended_hours": True}, 422, 42210000, "extended hours order must be DAY limit orders"),
    ({**MARKET, "type": "trailing_stop"}, 422, 40010001, "exactly one of trail_price or trail_percent is required"),
    ({**MARKET, "qty": "0.5", "symbol": "TQQQ"}, 403, 40310000, 'asset "TQQQ" is not fractionable'),
    ({**MARKET, "notional": "50", "qty": None, "symbol": "TQQQ"}, 403, 40310000, 'asset "TQQQ" is not fractionable'),
    ({**MARKET, "qty": "0.5", "time_in_force": "gtc"}, 422, 42210000, "fractional orders must be DAY orders"),
    ({**MARKET, "qty": "0.5", "type": "trailing_stop", "trail_percent": "2"}, 422, 42210000,
     "fractional orders must be market, limit, stop or stop_limit orders"),
    ({**MARKET, "client_order_id": "x" * 129}, 422, 40010001, "client_order_id must be no more than 128 characters"),
    ({**MARKET, "order_class": "mleg"}, 422, 42210000, "mleg orders are for options; this emulator trades stocks "
                                                       "only"),
    ({**MARKET, "take_profit": {"limit_price": "300"}}, 422, 40010001,
     "take_profit and stop_loss are only for bracket, oco and oto orders"),
    ({**MARKET, "order_class": "bracket", "take_profit": {"limit_price": "300"}}, 422, 40010001,
     "bracket orders require take_profit.limit_price and stop_loss.stop_price"),
    ({**MARKET, "order_class": "bracket", "time_in_force": "ioc", "take_profit": {"limit_price": "300"},
      "stop_loss": {"stop_price": "200"}}, 422, 42210000, "bracket orders must be day or gtc orders"),
    ({**MARKET, "order_class": "oto", "take_profit": {"limit_price": "300", "trail": 1}}, 422, 40010001,
     "take_profit.trail is not a supported parameter"),
    ({**MARKET, "qty": "1000000"}, 403, 40310000, "insufficient buying power"),
    ({**MARKET, "side": "sell", "symbol": "TSLA"}, 422, 42210000, 'asset "TSLA" cannot be sold short'),
    ({**MARKET, "side": "sell", "symbol": "TQQQ"}, 422, 42210000, 'asset "TQQQ" cannot be sold short'),
    ({**MARKET, "side": "sell", "qty": "0.5"}, 403, 40310000, "fractional orders cannot be sold short"),
    ({**MARKET, "time_in_force": "opg"}, 422, 42210000,
     "opg orders must be submitted before 9:28am ET or after 7:00pm ET"),
])
async def test_order_refusals_in_alpaca_words(venue: EmulatedVenue, body: dict[str, Any], status: int, code: int,
                                              message: str) -> None:
    async with rest(venue) as http:
        sent = {k: v for k, v in body.items() if v is not None}
        assert await Api(venue, http).refused("POST", "/v2/orders", sent) == (status, {"code": code,
                                                                                       "message": message})
        assert venue.dialect.orders == {}, "a refused order leaves nothing behind"


async def test_price_checks_carry_the_reference_price(venue: EmulatedVenue) -> None:
    market = venue.engine.last_price("AAPL")  # type: ignore[attr-defined]
    async with rest(venue) as http:
        api = Api(venue, http)
        status, body = await api.refused("POST", "/v2/orders", {**MARKET, "type": "stop", "stop_price": "200"})
        assert (status, body["message"], D(body["market_price"]), body["stop_price"]) == (
            422, "stop price must be greater than current price", market, "200")
        status, body = await api.refused("POST", "/v2/orders", {
            **MARKET, "type": "limit", "limit_price": "230", "order_class": "bracket",
            "take_profit": {"limit_price": "229"}, "stop_loss": {"stop_price": "220"}})
        assert (status, body) == (422, {"code": 42210000, "base_price": "230",
                                        "message": "take_profit.limit_price must be >= base_price + 0.01"})
        status, body = await api.refused("POST", "/v2/orders", {
            **MARKET, "order_class": "bracket", "take_profit": {"limit_price": "260"},
            "stop_loss": {"stop_price": "240"}})
        assert body["message"] == "stop_loss.stop_price must be <= base_price - 0.01" and D(body["base_price"]) == market


async def test_market_order_fills_and_the_position_and_activities_agree(venue: EmulatedVenue) -> None:
    ex = venue.engine
    ask = ex.best_ask("AAPL")
    async with rest(venue) as http:
        api = Api(venue, http)
        order = await api.order(qty="600", client_order_id="big-1")  # more than the best level: two fills
        assert (order["status"], order["filled_qty"], order["order_class"], order["type"]) == (
            "filled", "600", "simple", "market")
        fills = [f for f in ex.fill_log if f.client_order_id == order["id"]]
        assert [f.quantity for f in fills] == [D(500), D(100)] and fills[0].price == ask
        average = sum((f.price * f.quantity for f in fills), D(0)) / 600
        assert D(order["filled_avg_price"]) == average.quantize(D("1e-9"))
        assert order["position_intent"] == "buy_to_open" and order["asset_class"] == "us_equity"
        position = await api.ok("GET", "/v2/positions/AAPL")
        price = ex.last_price("AAPL")  # type: ignore[attr-defined]
        assert (position["qty"], position["side"], position["qty_available"]) == ("600", "long", "600")
        assert D(position["avg_entry_price"]) == average.quantize(D("1e-9"))
        assert D(position["cost_basis"]) == (600 * average).quantize(D("1e-9"))
        assert D(position["market_value"]) == 600 * price
        assert D(position["unrealized_pl"]) == (600 * price - 600 * average).quantize(D("1e-9"))
        account = await api.ok("GET", "/v2/account")
        assert D(account["cash"]) == D(100000) - sum((f.quote_quantity for f in fills), D(0))
        assert D(account["long_market_value"]) == 600 * price
        activities = await api.ok("GET", "/v2/account/activities/FILL", direction="asc")
        assert [(a["type"], a["qty"], a["cum_qty"], a["leaves_qty"], a["order_status"]) for a in activities] == [
            ("partial_fill", "500", "500", "100", "partially_filled"), ("fill", "100", "600", "0", "filled")]
        assert {a["order_id"] for a in activities} == {order["id"]} and all("::" in a["id"] for a in activities)
        sold = await api.order(side="sell", qty="200")
        assert sold["position_intent"] == "sell_to_close"
        assert (await api.ok("GET", "/v2/positions/AAPL"))["qty"] == "400"
        assert await api.refused("GET", "/v2/positions/MSFT") == (404, {"code": 40410000,
                                                                         "message": "position does not exist"})


async def test_notional_and_fractional_orders(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        ask = venue.engine.best_ask("SPY")
        order = await api.order(symbol="SPY", notional="500", qty=None)
        assert (order["qty"], order["notional"], order["status"]) == (None, "500", "filled")
        assert D(order["filled_qty"]) == (D(500) / ask).quantize(D("1e-9"), rounding="ROUND_DOWN")
        half = await api.order(symbol="AAPL", qty="0.5", type="limit", limit_price="100")
        assert (half["qty"], half["status"]) == ("0.5", "new")
        body = {k: v for k, v in MARKET.items() if k != "qty"}
        assert await api.refused("POST", "/v2/orders", {**body, "notional": "0.5"}) == (
            403, {"code": 40310000, "message": "cost basis must be >= 1"})
        assert (await api.refused("POST", "/v2/orders", {**MARKET, "qty": "0.001"}))[1]["message"] == \
            "cost basis must be >= 1"


async def test_client_order_ids_are_unique_for_ever(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        first = await api.order(type="limit", limit_price="100", client_order_id="mine-1")
        assert (await api.ok("GET", "/v2/orders:by_client_order_id", client_order_id="mine-1"))["id"] == first["id"]
        await api.ok("DELETE", f"/v2/orders/{first['id']}")
        again = await api.refused("POST", "/v2/orders", {**MARKET, "client_order_id": "mine-1"})
        assert again == (422, {"code": 40010001, "message": "client_order_id must be unique"})
        assert await api.refused("GET", "/v2/orders:by_client_order_id", client_order_id="nope") == (
            404, {"code": 40410000, "message": "order not found"})
        other_key, other_secret = venue.add_account("other", {"USD": D(1000)})
        other = Api(venue, http, other_key, other_secret)
        assert (await other.order(qty="1", client_order_id="mine-1"))["client_order_id"] == "mine-1"  # per account
        assert (await other.refused("GET", f"/v2/orders/{first['id']}"))[0] == 404  # not yours


async def test_a_client_order_id_stays_taken_for_filled_orders_and_late_requests(
        venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    """Issue 11's bound for Alpaca: a filled order's id is refused too, and an order request the venue handles late
    (held before it is checked, as a congested venue does) is refused if the client's resend took the id first."""
    async with rest(venue) as http:
        api = Api(venue, http)
        filled = await api.order(client_order_id="mine-2")
        assert filled["status"] == "filled"
        assert await api.refused("POST", "/v2/orders", {**MARKET, "client_order_id": "mine-2"}) == (
            422, {"code": 40010001, "message": "client_order_id must be unique"})
        venue.faults.slow_responses(5.0, count=1, path="/v2/orders", method="POST")
        answers: list[httpx.Response] = []

        async def held() -> None:
            answers.append(await api.call("POST", "/v2/orders", {**MARKET, "client_order_id": "mine-3"}))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(held)
            await trio.sleep(1.0)  # the first request is held at the venue; the client's resend arrives
            resent = await api.order(client_order_id="mine-3")
        assert (answers[0].status_code, answers[0].json()) == (
            422, {"code": 40010001, "message": "client_order_id must be unique"})
        assert [o.id for o in venue.dialect.orders.values() if o.client_order_id == "mine-3"] == [resent["id"]]


async def test_short_selling_and_the_no_flip_rule(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        short = await api.order(symbol="MSFT", side="sell", qty="10")
        assert (short["status"], short["position_intent"]) == ("filled", "sell_to_open")
        position = await api.ok("GET", "/v2/positions/MSFT")
        assert (position["qty"], position["side"]) == ("-10", "short")
        assert D(position["market_value"]) < 0 and D(position["cost_basis"]) < 0
        status, body = await api.refused("POST", "/v2/orders", {**MARKET, "symbol": "MSFT", "qty": "11"})
        assert (status, body["message"], body["existing_qty"], body["available"]) == (
            403, "insufficient qty available for order (requested: 11, available: 10)", "10", "10")
        await api.order(symbol="AAPL", qty="5")
        await api.order(symbol="AAPL", side="sell", qty="3", type="limit", limit_price="999", time_in_force="gtc")
        status, body = await api.refused("POST", "/v2/orders", {**MARKET, "side": "sell", "qty": "3"})
        assert (status, body) == (403, {"available": "2", "code": 40310000, "existing_qty": "5",
                                        "held_for_orders": "3", "symbol": "AAPL",
                                        "message": "insufficient qty available for order (requested: 3, available: 2)"})
        await api.order(symbol="SPY", type="limit", limit_price="1", qty="1", time_in_force="gtc")
        assert await api.refused("POST", "/v2/orders", {**MARKET, "symbol": "SPY", "side": "sell"}) == (
            403, {"code": 40310000, "message": "cannot open a short sell while a long buy order is open"})
        cash_key, cash_secret = venue.add_account("cash", {"USD": D(10000)})
        venue.dialect.account_state("cash").multiplier = 1
        cash = Api(venue, http, cash_key, cash_secret)
        assert await cash.refused("POST", "/v2/orders", {**MARKET, "side": "sell"}) == (
            403, {"code": 40310000, "message": "account is not allowed to short"})
        assert (await cash.ok("GET", "/v2/account"))["buying_power"] == "10000"


async def test_buying_power_counts_open_orders(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        resting = await api.order(type="limit", limit_price="200", qty="400", time_in_force="gtc")
        assert D((await api.ok("GET", "/v2/account"))["buying_power"]) == D(200000) - 400 * 200
        assert (await api.refused("POST", "/v2/orders", {**MARKET, "type": "limit", "limit_price": "200",
                                                         "qty": "601"}))[1]["message"] == "insufficient buying power"
        await api.ok("DELETE", f"/v2/orders/{resting['id']}")
        assert (await api.ok("GET", "/v2/account"))["buying_power"] == "200000"


async def test_cancel_replace_and_cancel_all(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        old = await api.order(type="limit", limit_price="100", qty="3", time_in_force="gtc")
        new = await api.ok("PATCH", f"/v2/orders/{old['id']}", {"qty": "4", "limit_price": "101",
                                                                 "client_order_id": "replaced-1"})
        assert (new["replaces"], new["qty"], new["limit_price"], new["status"], new["client_order_id"]) == (
            old["id"], "4", "101", "new", "replaced-1")
        before = await api.ok("GET", f"/v2/orders/{old['id']}")
        assert (before["status"], before["replaced_by"]) == ("replaced", new["id"]) and before["replaced_at"]
        assert await api.refused("PATCH", f"/v2/orders/{old['id']}", {"qty": "1"}) == (
            422, {"code": 42210000, "message": 'order is already in "replaced" state'})
        assert (await api.refused("PATCH", f"/v2/orders/{new['id']}", {"stop_price": "90"}))[1]["message"] == \
            "stop_price is not allowed for limit orders"
        assert (await api.refused("PATCH", f"/v2/orders/{new['id']}", {"qty": "1", "extra": 1}))[0] == 422
        response = await api.call("DELETE", f"/v2/orders/{new['id']}")
        assert (response.status_code, response.content) == (204, b"")
        assert await api.refused("DELETE", f"/v2/orders/{new['id']}") == (
            422, {"code": 42210000, "message": 'order is already in "canceled" state'})
        assert (await api.refused("DELETE", "/v2/orders/not-an-order"))[0] == 404
        ids = [(await api.order(type="limit", limit_price="50", symbol=s, qty="1"))["id"] for s in ("AAPL", "MSFT")]
        everything = await api.call("DELETE", "/v2/orders")
        assert everything.status_code == 207
        assert sorted(r["id"] for r in everything.json()) == sorted(ids)
        assert all(r["status"] == 200 and r["body"]["status"] == "canceled" for r in everything.json())
        assert await api.ok("GET", "/v2/orders") == []


async def test_order_list_filters_and_nested_legs(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        bracket = await api.order(qty="2", time_in_force="gtc", order_class="bracket",
                                  take_profit={"limit_price": "300"}, stop_loss={"stop_price": "150"})
        assert bracket["status"] == "filled" and len(bracket["legs"]) == 2
        legs = {leg["type"]: leg for leg in bracket["legs"]}
        assert {k: (v["side"], v["status"], v["order_class"]) for k, v in legs.items()} == {
            "limit": ("sell", "new", "bracket"), "stop": ("sell", "new", "bracket")}
        await api.order(symbol="MSFT", type="limit", limit_price="10", qty="1")
        flat = await api.ok("GET", "/v2/orders", status="all")
        assert len(flat) == 4 and all(o["legs"] is None for o in flat)
        nested = await api.ok("GET", "/v2/orders", status="all", nested="true")
        assert len(nested) == 2 and sorted(leg["id"] for o in nested for leg in o["legs"] or []) == \
            sorted(leg["id"] for leg in bracket["legs"])
        assert [o["symbol"] for o in await api.ok("GET", "/v2/orders", symbols="MSFT")] == ["MSFT"]
        assert len(await api.ok("GET", "/v2/orders", status="closed")) == 1
        assert len(await api.ok("GET", "/v2/orders", status="all", limit="1")) == 1
        newest_first = await api.ok("GET", "/v2/orders", status="all", nested="true")
        assert [o["symbol"] for o in newest_first] == ["MSFT", "AAPL"]
        oldest_first = await api.ok("GET", "/v2/orders", status="all", nested="true", direction="asc")
        assert [o["symbol"] for o in oldest_first] == ["AAPL", "MSFT"]
        after = (TUESDAY + timedelta(hours=1)).isoformat()
        assert await api.ok("GET", "/v2/orders", status="all", after=after) == []
        assert (await api.refused("GET", "/v2/orders", status="sideways"))[0] == 422
        position = await api.ok("GET", "/v2/positions/AAPL")
        assert position["qty_available"] == "0"  # both exits claim the same two shares


async def test_fill_activities_page_by_token(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        for symbol in ("AAPL", "MSFT", "SPY"):
            await api.order(symbol=symbol, qty="1")
        newest = await api.ok("GET", "/v2/account/activities/FILL")
        assert len(newest) == 3 and [a["id"] for a in newest] == sorted((a["id"] for a in newest), reverse=True)
        seen, token = [], None
        for _ in range(5):
            page = await api.ok("GET", "/v2/account/activities/FILL", page_size="2",
                                **({"page_token": token} if token else {}))
            if not page:
                break
            seen += page
            token = page[-1]["id"]
        assert [a["id"] for a in seen] == [a["id"] for a in newest]
        ascending = await api.ok("GET", "/v2/account/activities", activity_types="FILL", direction="asc")
        assert [a["symbol"] for a in ascending] == ["AAPL", "MSFT", "SPY"]
        assert len(await api.ok("GET", "/v2/account/activities/FILL", date="2026-12-01")) == 3
        assert await api.ok("GET", "/v2/account/activities/FILL", date="2026-11-30") == []
        assert await api.ok("GET", "/v2/account/activities/DIV") == []
        assert await api.ok("GET", "/v2/account/activities", category="non_trade_activity") == []
        assert (await api.refused("GET", "/v2/account/activities/BOGUS"))[0] == 422
        assert (await api.refused("GET", "/v2/account/activities/FILL", page_size="500"))[0] == 422


async def test_close_positions(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        await api.order(qty="10")
        await api.order(symbol="MSFT", side="sell", qty="4")
        partial = await api.ok("DELETE", "/v2/positions/AAPL", percentage="25")
        assert (partial["side"], partial["qty"], partial["type"]) == ("sell", "2", "market")  # whole shares
        assert (await api.ok("GET", "/v2/positions/AAPL"))["qty"] == "8"
        assert (await api.refused("DELETE", "/v2/positions/AAPL", qty="9"))[0] == 403
        assert (await api.refused("DELETE", "/v2/positions/AAPL", qty="1", percentage="1"))[0] == 422
        everything = await api.call("DELETE", "/v2/positions", cancel_orders="true")
        assert everything.status_code == 207
        assert {(r["symbol"], r["status"], r["body"]["side"]) for r in everything.json()} == {
            ("AAPL", 200, "sell"), ("MSFT", 200, "buy")}
        assert await api.ok("GET", "/v2/positions") == []
        assert (await api.refused("DELETE", "/v2/positions/AAPL"))[1]["message"] == "position does not exist"


async def test_clock_and_calendar(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        clock = await api.ok("GET", "/v2/clock")
        assert clock["is_open"] is True and clock["timestamp"].startswith("2026-12-01T10:00:")
        assert (clock["next_open"], clock["next_close"]) == ("2026-12-02T09:30:00-05:00", "2026-12-01T16:00:00-05:00")
        days = await api.ok("GET", "/v2/calendar", start="2026-11-25", end="2026-11-30")
        assert days == [
            {"date": "2026-11-25", "open": "09:30", "close": "16:00", "session_open": "0400",
             "session_close": "2000", "settlement_date": "2026-11-27"},
            {"date": "2026-11-27", "open": "09:30", "close": "13:00", "session_open": "0400",
             "session_close": "1700", "settlement_date": "2026-11-30"},  # Thanksgiving is gone, Friday closes early
            {"date": "2026-11-30", "open": "09:30", "close": "16:00", "session_open": "0400",
             "session_close": "2000", "settlement_date": "2026-12-01"}]
        settling = await api.ok("GET", "/v2/calendar", start="2026-11-30", end="2026-11-30", date_type="SETTLEMENT")
        assert [d["date"] for d in settling] == ["2026-11-27"]
        everything = await api.ok("GET", "/v2/calendar")
        assert (everything[0]["date"][:4], everything[-1]["date"][:4]) == ("1970", "2029")
        assert (await api.refused("GET", "/v2/calendar", start="yesterday"))[0] == 422


# ====================================================================== market data
async def test_bars_trades_quotes_and_paging(venue: EmulatedVenue) -> None:
    aapl = venue.engine.symbols["AAPL"]
    async with rest(venue) as http:
        api = Api(venue, http)
        start = (TUESDAY - timedelta(hours=2)).isoformat()
        bars = await api.ok("GET", "/v2/stocks/bars", symbols="AAPL,MSFT,GOOG", timeframe="1Min", start=start,
                            limit="10000")
        assert set(bars) == {"bars", "next_page_token"} and set(bars["bars"]) == {"AAPL", "MSFT"}  # no GOOG data
        minute = bars["bars"]["AAPL"][-1]
        assert set(minute) == {"t", "o", "h", "l", "c", "v", "n", "vw"} and minute["t"].endswith(":00Z")
        assert minute["c"] == float(aapl.candles[-1].close)
        paged: list[dict[str, Any]] = []
        token = None
        for _ in range(50):
            page = await api.ok("GET", "/v2/stocks/bars", symbols="AAPL,MSFT", timeframe="1Min", start=start,
                                limit="37", **({"page_token": token} if token else {}))
            paged += [bar for rows in page["bars"].values() for bar in rows]
            token = page["next_page_token"]
            if token is None:
                break
        assert paged == bars["bars"]["AAPL"] + bars["bars"]["MSFT"]  # the limit counts across symbols
        five = await api.ok("GET", "/v2/stocks/AAPL/bars", timeframe="5Min", start=start)
        assert five["symbol"] == "AAPL" and all(int(b["t"][14:16]) % 5 == 0 for b in five["bars"])
        daily = await api.ok("GET", "/v2/stocks/AAPL/bars", timeframe="1Day", start="2026-11-30")
        assert [b["t"] for b in daily["bars"]] == ["2026-12-01T05:00:00Z"]  # midnight in New York
        for bad in ("60Min", "2Day", "5Month", "1Fortnight"):
            assert (await api.refused("GET", "/v2/stocks/AAPL/bars", timeframe=bad))[1]["message"] == \
                "invalid timeframe"
        latest = await api.ok("GET", "/v2/stocks/AAPL/trades/latest")
        assert latest["trade"]["p"] == float(aapl.trades[-1].price) and latest["trade"]["x"] == "V"
        quote = (await api.ok("GET", "/v2/stocks/quotes/latest", symbols="AAPL"))["quotes"]["AAPL"]
        assert (quote["bp"], quote["ap"]) == (float(aapl.book.bids[0][0]), float(aapl.book.asks[0][0]))
        assert quote["bs"] == int(aapl.book.bids[0][1] // 100)  # round lots
        trades = await api.ok("GET", "/v2/stocks/trades", symbols="AAPL", start=start)
        assert [t["i"] for t in trades["trades"]["AAPL"]] == [t.trade_id for t in aapl.trades]
        newest = await api.ok("GET", "/v2/stocks/AAPL/trades", start=start, sort="desc", limit="1")
        assert newest["trades"][0]["i"] == aapl.trades[-1].trade_id
        quotes = await api.ok("GET", "/v2/stocks/AAPL/quotes", start=start)
        assert quotes["quotes"][-1]["ap"] == quote["ap"]
        snapshot = await api.ok("GET", "/v2/stocks/AAPL/snapshot")
        assert {"latestTrade", "latestQuote", "minuteBar", "dailyBar", "prevDailyBar"} <= set(snapshot)
        assert set(await api.ok("GET", "/v2/stocks/snapshots", symbols="AAPL,ZZZZ")) == {"AAPL"}
        assert (await api.refused("GET", "/v2/stocks/ZZZZ/trades/latest"))[0] == 404


async def test_feeds_and_the_basic_plan(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        assert await api.refused("GET", "/v2/stocks/AAPL/trades/latest", feed="sip") == (
            403, {"code": 42210000, "message": "subscription does not permit querying recent SIP data"})
        old = (TUESDAY - timedelta(minutes=20)).isoformat()
        delayed = await api.ok("GET", "/v2/stocks/AAPL/trades", feed="sip", start="2026-12-01", end=old)
        assert delayed["trades"] == [] or delayed["trades"][0]["x"] == "Q"
        assert (await api.refused("GET", "/v2/stocks/AAPL/bars", feed="sip", timeframe="1Min",
                                  end=TUESDAY.isoformat()))[0] == 403
        default_end = await api.ok("GET", "/v2/stocks/AAPL/bars", feed="sip", timeframe="1Min")
        assert default_end["bars"][-1]["t"] <= (TUESDAY - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for feed, message in (("otc", "feed otc is not served by this emulator"), ("nasdaq", "invalid feed: nasdaq")):
            assert (await api.refused("GET", "/v2/stocks/AAPL/trades", feed=feed))[1]["message"] == message
        assert (await api.refused("GET", "/v2/stocks/AAPL/trades", page_token="!!"))[1]["message"] == \
            "invalid page_token"
        assert (await api.refused("GET", "/v2/stocks/bars", timeframe="1Min"))[1]["message"] == "symbols is required"
        assert (await api.refused("GET", "/v2/stocks/AAPL/bars", timeframe="1Min", symbol_as_of="x"))[0] == 422
        venue.dialect.account_state("demo").plan = "algo_trader_plus"
        sip = await api.ok("GET", "/v2/stocks/AAPL/trades/latest")  # that plan's default feed is SIP
        assert sip["trade"]["x"] == "Q"


# ====================================================================== the trading stream
async def next_frame(ws: trio_websocket.WebSocketConnection) -> Any:
    with trio.fail_after(10):
        return await ws.get_message()


async def trading_stream(nursery: trio.Nursery, venue: EmulatedVenue, *, listen: bool = True,
                         headers: list[tuple[bytes, bytes]] | None = None) -> trio_websocket.WebSocketConnection:
    ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/stream", extra_headers=headers)
    await ws.send_message(json.dumps({"action": "authenticate", "data": {"key_id": venue.api_key,
                                                                         "secret_key": venue.api_secret}}))
    assert json.loads(await next_frame(ws))["data"]["status"] == "authorized"
    if listen:
        await ws.send_message(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(await next_frame(ws)) == {"stream": "listening", "data": {"streams": ["trade_updates"]}}
    return ws


async def test_trading_stream_auth_listen_and_binary_frames(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/stream")
        await ws.send_message(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        frame = await next_frame(ws)
        assert isinstance(frame, bytes), "paper's trading stream sends binary frames"
        assert json.loads(frame) == {"stream": "authorization", "data": {"status": "unauthorized", "action": "listen"}}
        await ws.send_message(json.dumps({"action": "authenticate", "data": {"key_id": venue.api_key,
                                                                             "secret_key": "wrong"}}))
        assert json.loads(await next_frame(ws)) == {"stream": "authorization",
                                                    "data": {"status": "unauthorized", "action": "authenticate"}}
        await ws.send_message(json.dumps({"action": "authenticate", "data": {"key_id": venue.api_key,
                                                                             "secret_key": venue.api_secret}}))
        assert json.loads(await next_frame(ws))["data"] == {"status": "authorized", "action": "authenticate"}
        await ws.send_message(json.dumps({"action": "listen", "data": {"streams": ["trade_updates", "account"]}}))
        assert json.loads(await next_frame(ws))["data"] == {"streams": ["trade_updates"]}  # not served: left out
        await ws.send_message("not json")
        assert json.loads(await next_frame(ws))["stream"] == "error"
        await ws.send_message(json.dumps({"action": "listen", "data": {"streams": []}}))
        assert json.loads(await next_frame(ws))["data"] == {"streams": []}
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_trade_updates_for_partial_fills_and_cancels(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery, rest(venue) as http:
        ws = await trading_stream(nursery, venue)
        api = Api(venue, http)
        order = await api.order(qty="600")
        events = [json.loads(await next_frame(ws))["data"] for _ in range(3)]
        assert [e["event"] for e in events] == ["new", "partial_fill", "fill"]
        assert all(e["order"]["id"] == order["id"] for e in events)
        fills = [f for f in venue.engine.fill_log if f.client_order_id == order["id"]]
        assert [(D(e["qty"]), D(e["price"])) for e in events[1:]] == [(f.quantity, f.price) for f in fills]
        assert [e["position_qty"] for e in events[1:]] == ["500", "600"]
        assert len({e["execution_id"] for e in events[1:]}) == 2 and "execution_id" not in events[0]
        resting = await api.order(type="limit", limit_price="100", time_in_force="gtc")
        await api.ok("DELETE", f"/v2/orders/{resting['id']}")
        events = [json.loads(await next_frame(ws))["data"] for _ in range(2)]
        assert [(e["event"], e["order"]["status"]) for e in events] == [("new", "new"), ("canceled", "canceled")]
        assert events[1]["order"]["canceled_at"] and events[1]["timestamp"]
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_trading_stream_speaks_msgpack_when_asked(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/stream",
                                                        extra_headers=[(b"content-type", b"application/msgpack")])
        await ws.send_message(msgspec.msgpack.encode({"action": "authenticate", "data": {
            "key_id": venue.api_key, "secret_key": venue.api_secret}}))
        assert msgspec.msgpack.decode(await next_frame(ws))["data"]["status"] == "authorized"
        await ws.aclose()
        nursery.cancel_scope.cancel()


# ====================================================================== the data streams
async def data_stream(nursery: trio.Nursery, venue: EmulatedVenue, feed: str = "iex", *, auth: bool = True,
                      key: str | None = None, secret: str | None = None) -> trio_websocket.WebSocketConnection:
    ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v2/{feed}")
    assert json.loads(await next_frame(ws)) == [{"T": "success", "msg": "connected"}]
    if auth:
        await ws.send_message(json.dumps({"action": "auth", "key": key or venue.api_key,
                                          "secret": secret or venue.api_secret}))
        assert json.loads(await next_frame(ws)) == [{"T": "success", "msg": "authenticated"}]
    return ws


async def error_code(ws: trio_websocket.WebSocketConnection) -> int:
    [message] = json.loads(await next_frame(ws))
    assert message["T"] == "error", message
    return int(message["code"])


async def test_data_stream_subscriptions_and_their_errors(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery:
        ws = await data_stream(nursery, venue, auth=False)
        await ws.send_message(json.dumps({"action": "subscribe", "trades": ["AAPL"]}))
        assert await error_code(ws) == 401
        await ws.send_message(json.dumps({"action": "auth", "key": venue.api_key, "secret": "nope"}))
        assert await error_code(ws) == 402
        await ws.send_message(json.dumps({"action": "auth", "key": venue.api_key, "secret": venue.api_secret}))
        assert json.loads(await next_frame(ws)) == [{"T": "success", "msg": "authenticated"}]
        await ws.send_message(json.dumps({"action": "auth", "key": venue.api_key, "secret": venue.api_secret}))
        assert await error_code(ws) == 403
        await ws.send_message(json.dumps({"action": "subscribe", "trades": ["AAPL"], "quotes": ["MSFT"],
                                          "bars": ["*"]}))
        [ack] = json.loads(await next_frame(ws))
        assert ack == {"T": "subscription", "trades": ["AAPL"], "quotes": ["MSFT"], "bars": ["*"], "updatedBars": [],
                       "dailyBars": [], "statuses": [], "lulds": [], "corrections": ["AAPL"],
                       "cancelErrors": ["AAPL"]}
        for bad, code in (("{", 400), ([1], 400), ({"action": "subscribe", "trades": "AAPL"}, 400),
                          ({"action": "subscribe", "trades": ["GOOG"]}, 400),
                          ({"action": "subscribe", "statuses": ["AAPL"]}, 410),
                          ({"action": "subscribe", "orderbooks": ["AAPL"]}, 410),
                          ({"action": "dance"}, 400)):
            await ws.send_message(bad if isinstance(bad, str) else json.dumps(bad))
            assert await error_code(ws) == code, bad
        await ws.send_message(json.dumps({"action": "unsubscribe", "trades": ["AAPL"], "bars": ["*"]}))
        [ack] = json.loads(await next_frame(ws))
        assert (ack["trades"], ack["corrections"], ack["quotes"], ack["bars"]) == ([], [], ["MSFT"], [])
        venue.dialect.symbol_limit = 1
        await ws.send_message(json.dumps({"action": "subscribe", "trades": ["AAPL"]}))
        assert await error_code(ws) == 405
        second = await data_stream(nursery, venue, auth=False)
        await second.send_message(json.dumps({"action": "auth", "key": venue.api_key, "secret": venue.api_secret}))
        assert await error_code(second) == 406  # one connection per feed
        sip = await data_stream(nursery, venue, "sip", auth=False)
        await sip.send_message(json.dumps({"action": "auth", "key": venue.api_key, "secret": venue.api_secret}))
        assert await error_code(sip) == 409  # the Basic plan has no SIP stream
        nursery.cancel_scope.cancel()


async def test_data_stream_pushes_trades_quotes_and_bars() -> None:
    async with emulate("alpaca", seed=3, tick_interval=0.05, market_time=TUESDAY) as venue, \
            trio.open_nursery() as nursery:
        ws = await data_stream(nursery, venue)
        await ws.send_message(json.dumps({"action": "subscribe", "trades": ["AAPL"], "quotes": ["AAPL"],
                                          "bars": ["AAPL"], "dailyBars": ["AAPL"]}))
        assert json.loads(await next_frame(ws))[0]["T"] == "subscription"
        kinds: set[str] = set()
        with trio.fail_after(20):
            while not {"t", "q"} <= kinds:
                for message in json.loads(await ws.get_message()):
                    kinds.add(message["T"])
                    assert message["S"] == "AAPL" and message["t"].endswith("Z")
                    if message["T"] == "t":
                        assert {"i", "x", "p", "s", "c", "z"} <= set(message)
        nursery.cancel_scope.cancel()


async def test_data_stream_msgpack_and_header_auth(venue: EmulatedVenue) -> None:
    headers = [(b"content-type", b"application/msgpack"), (b"apca-api-key-id", venue.api_key.encode()),
               (b"apca-api-secret-key", venue.api_secret.encode())]
    async with trio.open_nursery() as nursery:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v2/iex", extra_headers=headers)
        assert msgspec.msgpack.decode(await next_frame(ws)) == [{"T": "success", "msg": "connected"}]
        assert msgspec.msgpack.decode(await next_frame(ws)) == [{"T": "success", "msg": "authenticated"}]
        await ws.send_message(msgspec.msgpack.encode({"action": "subscribe", "trades": ["AAPL"]}))
        assert msgspec.msgpack.decode(await next_frame(ws))[0]["trades"] == ["AAPL"]
        async with rest(venue) as http:
            await Api(venue, http).order(qty="1")
        [trade] = msgspec.msgpack.decode(await next_frame(ws))
        assert trade["T"] == "t" and isinstance(trade["t"], datetime)  # a MessagePack timestamp
        nursery.cancel_scope.cancel()


async def test_data_stream_auth_timeout(venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        ws = await data_stream(nursery, venue, auth=False)
        await trio.sleep(venue.dialect.auth_timeout + 3600)  # ticks (an hour apart) sweep late connections
        assert await error_code(ws) == 404
        with pytest.raises(trio_websocket.ConnectionClosed):
            with trio.fail_after(7200):
                await ws.get_message()
        nursery.cancel_scope.cancel()


# ====================================================================== faults
async def test_faults_answer_in_alpaca_style(venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    async with rest(venue) as http:
        api = Api(venue, http)
        venue.faults.http_error(503, count=1, path="/v2/orders")
        assert await api.refused("GET", "/v2/orders") == (503, {"code": 50010000, "message": "internal server error"})
        venue.faults.http_error(429, count=1, retry_after=3)
        limited = await api.call("GET", "/v2/clock")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
        assert limited.json()["code"] == 42910000
        venue.faults.lose_responses(1, path="/v2/orders")
        with pytest.raises(httpx.TimeoutException):
            await api.call("POST", "/v2/orders", {**MARKET, "client_order_id": "lost-1"})
        found = await api.ok("GET", "/v2/orders:by_client_order_id", client_order_id="lost-1")
        assert found["status"] == "filled"  # executed, answer lost: the lookup finds it
    async with trio.open_nursery() as nursery:
        ws = await trading_stream(nursery, venue)
        venue.faults.drop_streams("private")
        with pytest.raises(trio_websocket.ConnectionClosed):
            with trio.fail_after(10):
                await ws.get_message()
        nursery.cancel_scope.cancel()


async def test_stream_faults_on_binary_frames(venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery, rest(venue) as http:
        ws = await trading_stream(nursery, venue)
        api = Api(venue, http)
        venue.faults.duplicate_messages(1, "private")
        first = await api.order(type="limit", limit_price="100")
        frames = [await next_frame(ws) for _ in range(2)]
        assert frames[0] == frames[1] and isinstance(frames[0], bytes)  # the same binary frame, twice
        venue.faults.reorder_messages(1, "private")
        second = await api.order(type="limit", limit_price="101")
        await api.ok("DELETE", f"/v2/orders/{second['id']}")
        swapped = [json.loads(await next_frame(ws))["data"]["event"] for _ in range(2)]
        assert swapped == ["canceled", "new"]
        venue.faults.slow_responses(5, count=1)
        before = trio.current_time()
        await api.ok("GET", "/v2/clock")
        assert trio.current_time() - before >= 5
        venue.faults.stall_streams(5, "private")
        await api.ok("DELETE", f"/v2/orders/{first['id']}")
        with pytest.raises(trio_websocket.ConnectionClosed):
            with trio.fail_after(60):
                await ws.get_message()  # nothing arrives, then the stream is dropped
        venue.faults.refuse_connections(True)
        with pytest.raises(httpx.TransportError):
            await http.get("/v2/clock", headers=api.headers)
        venue.faults.refuse_connections(False)
        await trio.sleep(1)
        assert (await api.call("GET", "/v2/clock")).status_code == 200
        nursery.cancel_scope.cancel()


# ====================================================================== fuzz: no input gets a 500 or a dropped socket
JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
                       | st.text(max_size=12),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                   max_size=3), max_leaves=6)
ORDER_KEYS = st.sampled_from(["symbol", "qty", "notional", "side", "type", "time_in_force", "limit_price",
                              "stop_price", "trail_price", "trail_percent", "extended_hours", "client_order_id",
                              "order_class", "take_profit", "stop_loss", "position_intent"])
ORDER_VALUES = st.one_of(JSONISH, st.sampled_from(["AAPL", "TQQQ", "buy", "sell", "market", "limit", "stop",
                                                   "stop_limit", "trailing_stop", "day", "gtc", "opg", "cls", "ioc",
                                                   "fok", "bracket", "oco", "oto", "1", "0.5", "230.01", "-1", "1e9"]))
PATHS = st.sampled_from(["/v2/account", "/v2/assets", "/v2/orders", "/v2/positions", "/v2/account/activities",
                         "/v2/account/activities/FILL", "/v2/calendar", "/v2/clock", "/v2/stocks/bars",
                         "/v2/stocks/AAPL/bars", "/v2/stocks/trades", "/v2/stocks/AAPL/quotes",
                         "/v2/stocks/snapshots", "/v2/stocks/quotes/latest", "/v2/orders:by_client_order_id"])
QUERY = st.dictionaries(st.sampled_from(["symbols", "timeframe", "start", "end", "limit", "page_token", "feed",
                                         "sort", "status", "after", "until", "direction", "nested", "date",
                                         "page_size", "client_order_id", "date_type", "asof", "side"]),
                        st.text(max_size=25) | st.sampled_from(["AAPL", "1Min", "2026-12-01", "-1", "all", "desc"]),
                        max_size=4)


@pytest.fixture(scope="module")
def threaded() -> Iterator[EmulatedVenue]:
    """One emulator for every fuzz example, in a thread of its own (real clock, prices frozen)."""
    yield from threaded_emulator("alpaca", seed=1, tick_interval=3600, market_time=TUESDAY)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(st.dictionaries(ORDER_KEYS, ORDER_VALUES, max_size=8), min_size=1, max_size=3),
       queries=st.lists(st.tuples(PATHS, QUERY), min_size=1, max_size=3),
       frames=st.lists(st.one_of(JSONISH.map(json.dumps), st.binary(max_size=20)), max_size=3))
def test_fuzz_never_500_and_never_drops(threaded: EmulatedVenue, bodies: list[dict[str, Any]],
                                        queries: list[tuple[str, dict[str, str]]], frames: list[Any]) -> None:
    headers = {"APCA-API-KEY-ID": threaded.api_key, "APCA-API-SECRET-KEY": threaded.api_secret}
    with httpx.Client(base_url=threaded.rest_url, headers=headers, timeout=10) as http:
        for body in bodies:
            last = next(reversed(threaded.dialect.orders), "x")
            for method, path in (("POST", "/v2/orders"), ("PATCH", f"/v2/orders/{last}")):
                response = http.request(method, path, content=json.dumps(body))
                assert response.status_code < 500, response.text
        for path, query in queries:
            response = http.get(path, params=query)
            assert response.status_code < 500, (path, query, response.text)
    for stream, probe in (("/stream", {"action": "listen", "data": {"streams": []}}),
                          ("/v2/iex", {"action": "subscribe", "trades": ["AAPL"]})):
        with websockets.sync.client.connect(f"{threaded.ws_url}{stream}", open_timeout=10) as ws:
            for frame in frames:
                ws.send(frame)
            ws.send(json.dumps(probe))
            answers = [ws.recv(timeout=10) for _ in range(len(frames) + (2 if stream == "/v2/iex" else 1))]
            last_answer = answers[-1]
            assert (b"authorization" in last_answer) if isinstance(last_answer, bytes) else \
                ('"code": 401' in last_answer), answers  # still alive, still answering in order
