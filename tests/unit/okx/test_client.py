"""OkxBroker's REST side against a scripted venue (httpx MockTransport), on OKX's documented samples: what it
sends (paths, parameters, bodies, signing and demo headers, expTime), what it refuses before sending, how it
pages, how it counts OKX's per-endpoint limits, and how answers and per-item sCodes map to protocol types."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import attrs
import httpx
import msgspec
import pytest
import trio

import brokers
from brokers.base import BrokerSettings, Subscription
from brokers.okx import constants as c
from brokers.okx.client import OkxBroker
from brokers.placement import cancel_order_safely
from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import (
    MarginMode,
    MarketType,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    TimeInForce,
    to_epoch_ms,
    utc_now,
)
from tests.unit.okx import samples as doc

SECRET = "22582BD0CFF14C41EDBF1AB98506286D"  # the docs' example secret
PASSPHRASE = "doc-passphrase"
D = Decimal


def envelope(*items: Any, code: str = "0", msg: str = "") -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": list(items)}


def data(sample: bytes) -> list[Any]:
    return list(json.loads(sample)["data"])


@attrs.define
class Sent:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: httpx.Headers
    raw: bytes = b""
    query: str = ""


@attrs.define
class Venue:
    """Answers by (method, path); records every request with its parameters and body."""

    routes: dict[tuple[str, str], Callable[[Sent], Any]] = attrs.field(factory=dict)
    sent: list[Sent] = attrs.field(factory=list)
    config: dict[str, Any] = attrs.field(factory=lambda: {**data(doc.ACCOUNT_CONFIG)[0], "posMode": "net_mode"})

    def __attrs_post_init__(self) -> None:
        self.routes.update({
            ("GET", c.SERVER_TIME): lambda r: envelope({"ts": str(int(time.time() * 1000) + 2500)}),
            ("GET", c.INSTRUMENTS): lambda r: envelope(*data(doc.INSTRUMENTS_SPOT if r.params["instType"] == "SPOT"
                                                             else doc.INSTRUMENTS_SWAP)),
            ("GET", c.ACCOUNT_CONFIG): lambda r: envelope(self.config),
        })

    def __call__(self, request: httpx.Request) -> httpx.Response:
        raw = request.content
        query = request.url.query.decode()
        sent = Sent(request.method, request.url.path, dict(parse_qsl(query)),
                    json.loads(raw) if raw else None, request.headers, raw, query)
        self.sent.append(sent)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json=envelope(code="50005", msg="no route"))
        answer = route(sent)
        if isinstance(answer, httpx.Response):
            return answer
        if isinstance(answer, bytes):
            return httpx.Response(200, content=answer)
        return httpx.Response(200, json=answer)

    def calls(self, path: str) -> list[Sent]:
        return [s for s in self.sent if s.path == path]


def broker_on(venue: Venue, *, testnet: bool = True, **options: str) -> OkxBroker:
    settings = BrokerSettings(venue="okx", rest_url="https://okx.test", ws_url="wss://okx.test",
                              credentials=Credentials.from_strings("doc-key", SECRET, PASSPHRASE),
                              testnet=testnet, options=options)
    broker = OkxBroker(settings)
    broker.rest._transport = httpx.MockTransport(venue)
    return broker


async def connected(venue: Venue, **options: str) -> OkxBroker:
    broker = broker_on(venue, **options)
    await broker.connect()
    venue.sent.clear()
    return broker


def signature_of(sent: Sent) -> str:
    path = sent.path + (f"?{sent.query}" if sent.query else "")
    message = sent.headers["OK-ACCESS-TIMESTAMP"] + sent.method + path + sent.raw.decode()
    return base64.b64encode(hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).digest()).decode()


def request(**changes: Any) -> OrderRequest:
    fields: dict[str, Any] = {"venue": "okx", "symbol": "BTC/USDT", "side": Side.BUY, "type": OrderType.LIMIT,
                              "quantity": D("0.001"), "price": D("65000.1"), "client_order_id": "b15abc"}
    return OrderRequest(**(fields | changes))


def ack(r: Sent, **changes: Any) -> dict[str, Any]:
    body = r.body if isinstance(r.body, dict) else {}
    return envelope({"clOrdId": body.get("clOrdId", ""), "ordId": "312269865356374016", "tag": "",
                     "ts": "1695190491421", "sCode": "0", "sMsg": "", "subCode": "", **changes})


def order_row(**changes: Any) -> dict[str, Any]:
    return {**data(doc.ORDER_DETAILS)[0], **changes}


# ------------------------------------------------------------------------------ connect


async def test_connect_syncs_the_clock_loads_spot_and_swaps_and_proves_the_key() -> None:
    venue = Venue()
    broker = broker_on(venue)
    await broker.connect()
    assert [(s.path, s.params.get("instType")) for s in venue.sent] == [
        (c.SERVER_TIME, None), (c.INSTRUMENTS, "SPOT"), (c.INSTRUMENTS, "SWAP"), (c.ACCOUNT_CONFIG, None)]
    assert broker.is_connected and 2000 <= broker.clock_offset_ms <= 3000
    assert [i.symbol for i in broker.instruments()] == ["BTC/USD:BTC", "BTC/USDT", "BTC/USDT:USDT"]
    config = venue.sent[-1]
    assert config.headers["OK-ACCESS-KEY"] == "doc-key" and config.headers["OK-ACCESS-PASSPHRASE"] == PASSPHRASE
    assert config.headers["OK-ACCESS-SIGN"] == signature_of(config)
    assert all(s.headers["x-simulated-trading"] == "1" for s in venue.sent)  # demo: public requests too
    assert "OK-ACCESS-KEY" not in venue.sent[0].headers
    assert broker.instrument("BTC/USDT:USDT").lot_size == D("0.0001")  # 0.01 contract of 0.01 BTC


async def test_live_keys_send_no_demo_header() -> None:
    venue = Venue()
    broker = broker_on(venue, testnet=False)
    await broker.connect()
    assert not any("x-simulated-trading" in s.headers for s in venue.sent)
    assert broker_on(Venue(), testnet=False, demo="true").demo


async def test_bad_signature_fails_connect_typed_and_permanent() -> None:
    venue = Venue()
    venue.routes[("GET", c.ACCOUNT_CONFIG)] = lambda r: httpx.Response(401, content=doc.ERROR_INVALID_SIGN)
    broker = broker_on(venue)
    with pytest.raises(e.AuthenticationError) as info:
        await broker.connect()
    assert info.value.code == "50113" and not info.value.retryable and not broker.is_connected


@pytest.mark.parametrize("options", [{"bogus": "1"}, {"margin_mode": "cash"}, {"book_channel": "books-l2-tbt"},
                                     {"demo": "yes"}, {"stale_after_book": "soon"}])
def test_unknown_or_bad_options_are_refused(options: dict[str, str]) -> None:
    with pytest.raises(e.NotSupported):
        broker_on(Venue(), **options)


def test_default_endpoints_are_live_and_demo_trading() -> None:
    assert brokers.default_endpoints("okx", testnet=False) == ("https://openapi.okx.com", "wss://ws.okx.com")
    assert brokers.default_endpoints("okx", testnet=True) == ("https://openapi.okx.com", "wss://wspap.okx.com")
    assert c.service_url("ws://127.0.0.1:9", c.WsService.BUSINESS) == "ws://127.0.0.1:9/ws/v5/business"


# ------------------------------------------------------------------------------ orders


async def test_spot_limit_order_is_signed_with_an_exp_time_and_answers_new() -> None:
    venue = Venue()
    venue.routes[("POST", c.ORDER)] = ack
    broker = await connected(venue)
    order = await broker.place_order(request())
    sent = venue.calls(c.ORDER)[0]
    assert sent.body == {"instId": "BTC-USDT", "tdMode": "cash", "clOrdId": "b15abc", "side": "buy", "ordType": "limit",
                         "px": "65000.1", "sz": "0.001"}
    assert sent.headers["OK-ACCESS-SIGN"] == signature_of(sent) and sent.headers["Content-Type"] == "application/json"
    deadline = int(sent.headers["expTime"]) - broker.now_ms()
    assert 0 < deadline <= broker.settings.request_timeout * 1000  # OKX's clock + the request timeout
    assert (order.order_id, order.client_order_id, order.status) == ("312269865356374016", "b15abc", OrderStatus.NEW)


async def test_the_resend_bound_covers_the_exp_time_sent() -> None:
    """Issue 11: a lost placement may be sent again only once the expTime it carried (plus the engine margin and
    the clock's uncertainty) has passed on OKX's clock; clOrdIds are unique among pending orders only, so OKX
    gives no duplicate guarantee to lean on instead."""
    venue = Venue()
    venue.routes[("POST", c.ORDER)] = ack
    broker = await connected(venue)
    await broker.place_order(request())
    sent = venue.calls(c.ORDER)[0]
    signed_at_ms = int(datetime.fromisoformat(sent.headers["OK-ACCESS-TIMESTAMP"]).timestamp() * 1000)
    rule = broker.resend_rule()
    assert rule.expires_after_ms == int(sent.headers["expTime"]) - signed_at_ms + c.ENGINE_MARGIN_MS
    assert rule.clock_uncertainty_ms == broker.clock_uncertainty_ms > 0
    assert not rule.unique_client_ids and "expTime" in rule.source and "50036" in rule.source
    # Counted from when the send failed (its signed time is at the latest then), in seconds of trio's clock.
    assert rule.resend_at(100.0) == 100.0 + (rule.expires_after_ms + rule.clock_uncertainty_ms) / 1000


async def test_swap_market_order_is_sized_in_contracts_and_looked_up_for_its_fills() -> None:
    venue = Venue()
    venue.routes[("POST", c.ORDER)] = ack
    filled = order_row(instId="BTC-USDT-SWAP", instType="SWAP", ordType="market", sz="2", accFillSz="2",
                       avgPx="65000", tgtCcy="", tdMode="isolated", clOrdId="b15abc", lever="5", fee="-0.1",
                       feeCcy="USDT")
    venue.routes[("GET", c.ORDER)] = lambda r: envelope(filled)
    broker = await connected(venue)
    order = await broker.place_order(request(symbol="BTC/USDT:USDT", type=OrderType.MARKET, price=None,
                                             quantity=D("0.02"), margin_mode=MarginMode.ISOLATED))
    body = venue.calls(c.ORDER)[0].body
    assert body["sz"] == "2" and body["tdMode"] == "isolated" and body["reduceOnly"] is False  # 0.02 BTC = 2 contracts
    assert venue.calls(c.ORDER)[1].params == {"instId": "BTC-USDT-SWAP", "ordId": "312269865356374016"}
    assert order.status is OrderStatus.FILLED and order.filled_quantity == D("0.02") and order.leverage == 5


async def test_off_lot_swap_quantity_is_refused_before_sending() -> None:
    venue = Venue()
    broker = await connected(venue)
    with pytest.raises(e.InvalidOrder) as info:
        await broker.place_order(request(symbol="BTC/USDT:USDT", quantity=D("0.00015")))
    assert info.value.filter == "LOT_SIZE" and venue.sent == []


@pytest.mark.parametrize(("item", "kind", "code"), [
    ({"sCode": "51008", "sMsg": "Order failed. Insufficient USDT margin in account", "subCode": "1001"},
     e.InsufficientFunds, "51008_1001"),
    ({"sCode": "51016", "sMsg": "Client order ID already exists."}, e.DuplicateOrder, "51016"),
    ({"sCode": "51121", "sMsg": "Order quantity must be a multiple of the lot size."}, e.InvalidOrder, "51121"),
    ({"sCode": "50036", "sMsg": "The expTime can't be earlier than the current system time."}, e.InvalidOrder,
     "50036"),
])
async def test_item_refusals_inside_code_1_are_typed(item: dict[str, str], kind: type[e.BrokerError],
                                                     code: str) -> None:
    venue = Venue()
    venue.routes[("POST", c.ORDER)] = lambda r: {**ack(r, ordId="", **item), "code": "1", "msg": "All operations failed"}
    broker = await connected(venue)
    with pytest.raises(kind) as info:
        await broker.place_order(request())
    assert info.value.code == code and info.value.venue_message == item["sMsg"]
    assert info.value.client_order_id == "b15abc"
    if code == "50036":  # OKX discarded it unexecuted: sending it again is safe
        assert info.value.retryable and info.value.filter == "EXPIRED"  # type: ignore[attr-defined]


async def test_documented_item_failure_sample_maps_to_insufficient_funds() -> None:
    venue = Venue()
    venue.routes[("POST", c.ORDER)] = lambda r: doc.PLACE_ORDER_FAILED
    broker = await connected(venue)
    with pytest.raises(e.InsufficientFunds):
        await broker.place_order(request(client_order_id="oktswap6"))


async def test_rate_limit_answer_is_typed_with_a_pause_and_writes_are_not_retried() -> None:
    venue = Venue()
    venue.routes[("POST", c.ORDER)] = lambda r: httpx.Response(429, content=doc.ERROR_RATE_LIMIT)
    broker = await connected(venue)
    with pytest.raises(e.RateLimited) as info:
        await broker.place_order(request())
    assert info.value.code == "50011" and info.value.retry_after == 2 and len(venue.calls(c.ORDER)) == 1


async def test_swaps_are_refused_in_spot_mode_and_long_short_mode_before_sending() -> None:
    venue = Venue()
    venue.config["acctLv"] = "1"
    broker = await connected(venue)
    with pytest.raises(e.PermissionDenied) as spot_mode:
        await broker.place_order(request(symbol="BTC/USDT:USDT", quantity=D("0.01")))
    assert spot_mode.value.code == "51010" and "futures mode" in spot_mode.value.message
    venue.config.update(acctLv="2", posMode="long_short_mode")  # the docs' sample account
    await broker.check_credentials()
    with pytest.raises(e.NotSupported, match="long/short"):
        await broker.place_order(request(symbol="BTC/USDT:USDT", quantity=D("0.01")))
    assert venue.calls(c.ORDER) == []


async def test_cancel_of_a_finished_order_is_order_not_found() -> None:
    venue = Venue()
    venue.routes[("POST", c.CANCEL_ORDER)] = lambda r: {**ack(r, sCode="51400", sMsg="Order cancellation failed as "
                                                               "the order has been filled, canceled or does not "
                                                               "exist."), "code": "1"}
    broker = await connected(venue)
    with pytest.raises(e.OrderNotFound):
        await broker.cancel_order("BTC/USDT", client_order_id="b15abc")
    assert venue.calls(c.CANCEL_ORDER)[0].body == {"instId": "BTC-USDT", "clOrdId": "b15abc"}


async def test_a_lost_cancel_answer_is_looked_up_through_okxs_cancelling_state(
        autojump_clock: trio.abc.Clock) -> None:
    """Issue 11: the first cancel's answer is lost; the lookup shows the order still live, so it is cancelled
    again, and OKX answers 51410 (already being cancelled): that too is looked up, never assumed, and the
    order's final state is the answer."""
    venue = Venue()
    cancels: list[Sent] = []

    def cancel(r: Sent) -> Any:
        cancels.append(r)
        if len(cancels) == 1:
            raise httpx.ReadTimeout("the answer was lost", request=None)  # type: ignore[arg-type]
        return {**ack(r, sCode="51410", sMsg="Cancellation failed as the order is already under cancelling "
                                             "status or pending settlement"), "code": "1"}

    states = iter(["live", "canceled"])
    venue.routes[("POST", c.CANCEL_ORDER)] = cancel
    venue.routes[("GET", c.ORDER)] = lambda r: envelope(order_row(state=next(states), accFillSz="0", avgPx="",
                                                                  ordType="limit", px="60000", tgtCcy=""))
    broker = await connected(venue)
    final = await cancel_order_safely(broker, "BTC/USDT", client_order_id="b15abc")
    assert final.status is OrderStatus.CANCELED and len(cancels) == 2


async def test_cancel_of_a_known_order_answers_cancelled_without_a_lookup() -> None:
    venue = Venue()
    venue.routes[("POST", c.ORDER)] = ack
    venue.routes[("POST", c.CANCEL_ORDER)] = lambda r: doc.CANCEL_ORDER
    broker = await connected(venue)
    placed = await broker.place_order(request())
    broker.remember(placed)
    venue.routes[("POST", c.CANCEL_ORDER)] = lambda r: envelope({"clOrdId": "b15abc", "ordId": placed.order_id,
                                                                 "ts": "1", "sCode": "0", "sMsg": ""})
    cancelled = await broker.cancel_order("BTC/USDT", order_id=placed.order_id)
    assert cancelled.status is OrderStatus.CANCELED and venue.calls(c.ORDER)[-1].method == "POST"


async def test_lookup_falls_back_to_history_then_says_not_found() -> None:
    venue = Venue()
    venue.routes[("GET", c.ORDER)] = lambda r: doc.ERROR_ORDER_NOT_FOUND
    venue.routes[("GET", c.ORDERS_HISTORY)] = lambda r: envelope(order_row(clOrdId="old1", state="canceled"))
    broker = await connected(venue)
    found = await broker.get_order_status("BTC/USDT", client_order_id="old1")
    assert found.status is OrderStatus.CANCELED and venue.calls(c.ORDERS_HISTORY)[0].params["instType"] == "SPOT"
    with pytest.raises(e.OrderNotFound):
        await broker.get_order_status("BTC/USDT", client_order_id="never1")


async def test_open_orders_page_back_by_order_id() -> None:
    venue = Venue()
    rows = [order_row(ordId=str(1000 - n), state="live", accFillSz="0", avgPx="", ordType="limit", px="60000",
                      tgtCcy="") for n in range(150)]

    def pending(r: Sent) -> dict[str, Any]:
        after = int(r.params.get("after", 10**9))
        return envelope(*[row for row in rows if int(row["ordId"]) < after][:int(r.params["limit"])])

    venue.routes[("GET", c.ORDERS_PENDING)] = pending
    broker = await connected(venue)
    orders = await broker.get_orders()
    assert len(orders) == 150 and [s.params.get("after") for s in venue.sent] == [None, "901"]


async def test_amend_sends_the_new_total_in_contracts_with_a_request_id() -> None:
    venue = Venue()
    venue.routes[("POST", c.AMEND_ORDER)] = lambda r: ack(r, reqId=r.body["reqId"])
    venue.routes[("GET", c.ORDER)] = lambda r: envelope(order_row(instId="BTC-USDT-SWAP", instType="SWAP", sz="3",
                                                                  px="60000", ordType="limit", state="live",
                                                                  accFillSz="0", avgPx="", tgtCcy=""))
    broker = await connected(venue)
    amended = await broker.amend_order("BTC/USDT:USDT", order_id="42", quantity=D("0.03"), price=D("60000"))
    sent = venue.calls(c.AMEND_ORDER)[0]
    assert sent.body["newSz"] == "3" and sent.body["newPx"] == "60000" and sent.body["ordId"] == "42"
    assert len(sent.body["reqId"]) == 32 and "expTime" in sent.headers
    assert amended.quantity == D("0.03") and amended.price == 60000
    with pytest.raises(e.NotSupported):
        await broker.amend_order("BTC/USDT:USDT", order_id="42", stop_price=D("1"))
    with pytest.raises(e.InvalidOrder) as tick:
        await broker.amend_order("BTC/USDT:USDT", order_id="42", price=D("60000.05"))
    assert tick.value.filter == "PRICE_FILTER"


async def test_cancel_all_batches_per_instrument_and_skips_finished_orders() -> None:
    venue = Venue()
    spot = [order_row(ordId=str(500 + n), state="live", accFillSz="0", avgPx="", ordType="limit", px="60000",
                      tgtCcy="") for n in range(25)]
    swap = [order_row(ordId="900", instId="BTC-USDT-SWAP", instType="SWAP", state="live", accFillSz="0", avgPx="",
                      ordType="limit", px="60000", tgtCcy="", sz="1")]
    venue.routes[("GET", c.ORDERS_PENDING)] = lambda r: envelope(*swap, *spot)

    def cancel(r: Sent) -> dict[str, Any]:
        items = [{"clOrdId": "", "ordId": o["ordId"], "ts": "1", "sCode": "51401" if o["ordId"] == "500" else "0",
                  "sMsg": ""} for o in r.body]
        return envelope(*items, code="2" if any(i["sCode"] != "0" for i in items) else "0")

    venue.routes[("POST", c.CANCEL_BATCH_ORDERS)] = cancel
    broker = await connected(venue)
    cancelled = await broker.cancel_all_orders()
    batches = venue.calls(c.CANCEL_BATCH_ORDERS)
    assert [len(b.body) for b in batches] == [20, 5, 1]
    assert all(len({item["instId"] for item in b.body}) == 1 for b in batches)
    assert len(cancelled) == 25 and all(o.status is OrderStatus.CANCELED for o in cancelled)
    assert "500" not in {o.order_id for o in cancelled}


async def test_cancel_all_raises_a_real_refusal_after_trying_every_batch() -> None:
    venue = Venue()
    venue.routes[("GET", c.ORDERS_PENDING)] = lambda r: envelope(order_row(state="live", tgtCcy="", accFillSz="0",
                                                                           avgPx="", ordType="limit", px="1"))
    venue.routes[("POST", c.CANCEL_BATCH_ORDERS)] = lambda r: envelope(
        {"ordId": r.body[0]["ordId"], "sCode": "51404", "sMsg": "Order cancellation unavailable"}, code="1")
    broker = await connected(venue)
    with pytest.raises(e.MarketClosed):
        await broker.cancel_all_orders("BTC/USDT")


async def test_dead_mans_switch_is_not_supported_in_words() -> None:
    broker = await connected(Venue())
    with pytest.raises(e.NotSupported, match="cancel-all-after"):
        await broker.cancel_all_after(60)


def test_closing_a_swap_position_is_reduce_only_in_its_margin_mode() -> None:
    broker = broker_on(Venue())
    position = Position(venue="okx", symbol="BTC/USDT:USDT", market_type=MarketType.LINEAR, side=PositionSide.SHORT,
                        quantity=D("0.02"), margin_mode=MarginMode.ISOLATED, updated_at=utc_now())
    close = broker.close_position_request(position, D("0.01"), "close1")
    assert (close.side, close.type, close.quantity, close.reduce_only, close.margin_mode) == (
        Side.BUY, OrderType.MARKET, D("0.01"), True, MarginMode.ISOLATED)


# ------------------------------------------------------------------------------ rate limits


async def test_order_limits_count_per_instrument(autojump_clock: trio.abc.Clock) -> None:
    venue = Venue()
    venue.routes[("POST", c.ORDER)] = ack
    broker = await connected(venue)
    start = trio.current_time()
    for n in range(54):  # 60 per 2 s per instrument, with our 10% headroom
        await broker.place_order(request(client_order_id=f"a{n}"))
    assert trio.current_time() == start
    await broker.place_order(request(symbol="ETH/USDT" if broker.index.knows("ETH/USDT") else "BTC/USDT:USDT",
                                     quantity=D("0.01"), client_order_id="other1"))
    assert trio.current_time() == start  # another instrument has its own window
    await broker.place_order(request(client_order_id="a54"))
    assert trio.current_time() >= start + 2  # this one waited for BTC-USDT's window


async def test_public_reads_are_retried_after_a_rate_limit_pause(autojump_clock: trio.abc.Clock) -> None:
    venue = Venue()
    answers = iter([httpx.Response(429, content=doc.ERROR_RATE_LIMIT), httpx.Response(200, content=doc.TICKER)])
    venue.routes[("GET", c.TICKER)] = lambda r: next(answers)
    broker = await connected(venue)
    start = trio.current_time()
    ticker = await broker.get_ticker("BTC/USD:BTC")
    assert ticker.last == D("9999.99") and ticker.bid_size == 500 and trio.current_time() >= start + 2  # 5 x 100 USD


# ------------------------------------------------------------------------------ market data


def candle_rows(newest_ms: int, count: int, step: int = 60_000) -> list[list[str]]:
    return [[str(newest_ms - n * step), "1", "2", "0.5", "1.5", "10", "10", "15", "1"] for n in range(count)]


async def test_history_candles_page_back_from_the_span_to_the_start() -> None:
    venue = Venue()
    now = (int(time.time() * 1000) // 60_000) * 60_000
    history = candle_rows(now, 3000)

    def pages(r: Sent) -> dict[str, Any]:
        after = int(r.params["after"])
        return envelope(*[row for row in history if int(row[0]) < after][:int(r.params["limit"])])

    venue.routes[("GET", c.HISTORY_CANDLES)] = pages
    broker = await connected(venue)
    start = datetime.fromtimestamp((now - 2500 * 60_000) / 1000, UTC)
    candles = await broker.get_historical_candles("BTC/USDT", "1m", start, None, 250)
    assert len(candles) == 250 and candles[0].open_time == start  # the first 250 from start, oldest first
    assert [c.open_time for c in candles] == sorted(c.open_time for c in candles)
    calls = venue.calls(c.HISTORY_CANDLES)
    assert len(calls) == 3 and all(s.params["limit"] == "100" and s.params["bar"] == "1m" for s in calls)
    assert int(calls[0].params["after"]) == to_epoch_ms(start) + 250 * 60_000  # the span 250 bars fill
    everything = await broker.get_historical_candles("BTC/USDT", "1m", start, None, 50_000)
    assert len(everything) == 2501  # stops at the start, not at 50,000


async def test_history_candles_stop_where_okx_history_ends() -> None:
    venue = Venue()
    now = int(time.time() * 1000) // 60_000 * 60_000
    venue.routes[("GET", c.HISTORY_CANDLES)] = lambda r: envelope(
        *[row for row in candle_rows(now, 120) if int(row[0]) < int(r.params["after"])][:100])
    broker = await connected(venue)
    candles = await broker.get_historical_candles("BTC/USDT", "1m", utc_now() - timedelta(days=30), None, 50_000)
    assert len(candles) == 120 and len(venue.calls(c.HISTORY_CANDLES)) == 2
    with pytest.raises(e.InvalidOrder):
        await broker.get_historical_candles("BTC/USDT", "7m", utc_now(), None, 10)


async def test_trades_from_a_start_page_by_trade_id_after_a_first_page_by_time() -> None:
    venue = Venue()
    base = int(time.time() * 1000)
    trades = [{"instId": "BTC-USDT", "tradeId": str(5000 - n), "px": "65000", "sz": "0.01", "side": "sell",
               "ts": str(base - n * 10), "source": "0"} for n in range(250)]

    def history(r: Sent) -> dict[str, Any]:
        after = int(r.params.get("after", 10**15))
        key = "ts" if r.params.get("type") == "2" else "tradeId"
        return envelope(*[t for t in trades if int(t[key]) < after][:int(r.params["limit"])])

    venue.routes[("GET", c.HISTORY_TRADES)] = history
    broker = await connected(venue)
    start = datetime.fromtimestamp((base - 2000) / 1000, UTC)
    end = datetime.fromtimestamp((base - 100) / 1000, UTC)
    got = await broker.get_trades("BTC/USDT", limit=1000, start=start, end=end)
    assert [t.trade_id for t in got] == [str(5000 - n) for n in range(200, 10, -1)]  # [start, end), oldest first
    calls = venue.calls(c.HISTORY_TRADES)
    assert calls[0].params["type"] == "2" and calls[1].params == {"instId": "BTC-USDT", "limit": "100", "type": "1",
                                                                  "after": "4890"}


async def test_funding_mark_and_open_interest_are_for_swaps_only() -> None:
    venue = Venue()
    venue.routes[("GET", c.FUNDING_RATE)] = lambda r: doc.FUNDING_RATE
    venue.routes[("GET", c.MARK_PRICE)] = lambda r: envelope({"instType": "SWAP", "instId": "BTC-USDT-SWAP",
                                                              "markPx": "43360", "ts": "1597026383085"})
    venue.routes[("GET", c.INDEX_TICKERS)] = lambda r: doc.INDEX_TICKERS
    venue.routes[("GET", c.OPEN_INTEREST)] = lambda r: envelope({"instId": "BTC-USDT-SWAP", "instType": "SWAP",
                                                                 "oi": "5000", "oiCcy": "50", "oiUsd": "3250000",
                                                                 "ts": "1597026383085"})
    broker = await connected(venue)
    funding = await broker.get_funding_rate("BTC/USDT:USDT")
    assert funding.symbol == "BTC/USDT:USDT" and not funding.realized
    mark = await broker.get_mark_price("BTC/USDT:USDT")
    assert (mark.mark, mark.index) == (D(43360), D(43350))
    assert venue.calls(c.INDEX_TICKERS)[0].params == {"instId": "BTC-USDT"}
    interest = await broker.get_open_interest("BTC/USDT:USDT")
    assert interest.quantity == 50 and interest.value == 3250000
    for call in (broker.get_funding_rate, broker.get_mark_price, broker.get_open_interest):
        with pytest.raises(e.NotSupported):
            await call("BTC/USDT")


async def test_fills_use_the_history_endpoint_for_old_starts() -> None:
    venue = Venue()
    venue.routes[("GET", c.FILLS)] = lambda r: doc.FILLS
    venue.routes[("GET", c.FILLS_HISTORY)] = lambda r: doc.FILLS
    broker = await connected(venue)
    recent = await broker.get_fills("BTC/USDT", since=utc_now() - timedelta(hours=1))
    old = await broker.get_fills("BTC/USDT", since=utc_now() - timedelta(days=10))
    assert recent == old and recent[0].fee == D("0.00000192834") and recent[0].fee_currency == "BTC"
    assert venue.sent[0].path == c.FILLS and venue.sent[1].path == c.FILLS_HISTORY
    assert venue.sent[0].params["instType"] == "SPOT" and "begin" in venue.sent[0].params


async def test_leverage_uses_the_open_positions_margin_mode() -> None:
    venue = Venue()
    position = {**json.loads(doc.POSITIONS_MARGIN)["data"][0], "instType": "SWAP", "instId": "BTC-USDT-SWAP",
                "mgnMode": "isolated", "pos": "1", "posSide": "net"}
    venue.routes[("GET", c.POSITIONS)] = lambda r: envelope(position)
    venue.routes[("GET", c.LEVERAGE_INFO)] = lambda r: envelope({"instId": "BTC-USDT-SWAP", "mgnMode": "isolated",
                                                                 "posSide": "net", "lever": "7"})
    venue.routes[("POST", c.SET_LEVERAGE)] = lambda r: envelope({**r.body, "posSide": "net"})
    broker = await connected(venue)
    info = await broker.get_leverage_info("BTC/USDT:USDT")
    assert info.leverage == 7 and info.margin_mode is MarginMode.ISOLATED
    assert venue.calls(c.LEVERAGE_INFO)[0].params == {"instId": "BTC-USDT-SWAP", "mgnMode": "isolated"}
    assert (await broker.set_leverage("BTC/USDT:USDT", D(12))).leverage == 12
    assert venue.calls(c.SET_LEVERAGE)[0].body == {"instId": "BTC-USDT-SWAP", "lever": "12", "mgnMode": "isolated"}
    with pytest.raises(e.InvalidOrder) as too_much:
        await broker.set_leverage("BTC/USDT:USDT", D(101))
    assert too_much.value.filter == "LEVERAGE" and len(venue.calls(c.SET_LEVERAGE)) == 1
    with pytest.raises(e.NotSupported):
        await broker.get_leverage_info("BTC/USDT")


async def test_funding_and_open_interest_streams_are_refused_for_spot() -> None:
    broker = await connected(Venue())
    assert {m.StreamChannel.FUNDING, m.StreamChannel.MARK_PRICE, m.StreamChannel.OPEN_INTEREST} <= broker.stream_channels
    with pytest.raises(e.NotSupported, match="swaps only"):
        await broker.subscribe([Subscription("BTC/USDT", m.StreamChannel.FUNDING)])
    await broker.subscribe([Subscription("BTC/USDT:USDT", m.StreamChannel.FUNDING)])  # no socket yet: kept for it


async def test_time_in_force_maps_to_ord_type() -> None:
    venue = Venue()
    venue.routes[("POST", c.ORDER)] = ack
    venue.routes[("GET", c.ORDER)] = lambda r: envelope(order_row(ordType="fok", px="65000.1", state="canceled",
                                                                  accFillSz="0", avgPx="", tgtCcy=""))
    broker = await connected(venue)
    order = await broker.place_order(request(time_in_force=TimeInForce.FOK))
    assert venue.calls(c.ORDER)[0].body["ordType"] == "fok" and order.status is OrderStatus.CANCELED


async def test_fills_since_a_time_read_back_to_it_and_answer_the_oldest_first() -> None:
    venue = Venue()
    base = int(time.time() * 1000) - 60_000
    rows = [{**data(doc.FILLS)[0], "billId": str(9000 - n), "tradeId": str(9000 - n), "ts": str(base - n),
             "fillTime": str(base - n)} for n in range(750)]

    def fills(r: Sent) -> dict[str, Any]:
        after = int(r.params.get("after", 10**9))
        begin = int(r.params.get("begin", 0))
        return envelope(*[row for row in rows if int(row["billId"]) < after and int(row["ts"]) >= begin][:100])

    venue.routes[("GET", c.FILLS)] = fills
    broker = await connected(venue)
    since = datetime.fromtimestamp((base - 700) / 1000, UTC)
    got = await broker.get_fills("BTC/USDT", since=since)
    assert len(venue.calls(c.FILLS)) == 8  # 701 fills since then, newest first, 100 a page
    assert len(got) == 500 and got[0].trade_id == "8300" and got[-1].trade_id == "8799"  # the oldest 500


async def test_a_cancel_answers_the_order_okx_names_not_an_older_one_with_the_same_client_id() -> None:
    venue = Venue()
    venue.routes[("POST", c.CANCEL_ORDER)] = lambda r: envelope({"clOrdId": "reused1", "ordId": "2", "ts": "1",
                                                                 "sCode": "0", "sMsg": ""})
    venue.routes[("GET", c.ORDER)] = lambda r: envelope(order_row(ordId="2", clOrdId="reused1", state="canceled",
                                                                  accFillSz="0", avgPx="", tgtCcy=""))
    broker = await connected(venue)
    current = await broker.get_order_status("BTC/USDT", order_id="2")
    broker.remember(msgspec.structs.replace(current, order_id="1", status=OrderStatus.FILLED))  # held the id before
    cancelled = await broker.cancel_order("BTC/USDT", client_order_id="reused1")
    assert cancelled.order_id == "2" and cancelled.status is OrderStatus.CANCELED
