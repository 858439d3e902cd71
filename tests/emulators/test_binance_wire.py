"""The Binance dialect on the wire: signing, error bodies, rate-limit headers and limits, order
responses, streams — each checked against Binance's published spot API documentation.

Real clock (no time travel is needed) and loopback only; every request is bounded by a timeout.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from urllib.parse import urlencode

import httpx
import trio
import trio_websocket

from emulators import EmulatedVenue
from tests.emulators.conftest import signed_query

FORM = "application/x-www-form-urlencoded"

# The executionReport keys of the documented payload (conditional trailing/strategy keys excepted).
EXECUTION_REPORT_KEYS = set("e E s c S o f q p P F g C x X r i l z L n N T t I w m M O Z Y Q".split())


def headers(venue: EmulatedVenue, key: str | None = None) -> dict[str, str]:
    return {"X-MBX-APIKEY": key or venue.api_key, "Content-Type": FORM}


async def post_order(http: httpx.AsyncClient, venue: EmulatedVenue, **params: str) -> httpx.Response:
    return await http.post("/api/v3/order", content=signed_query(venue.api_secret, params),
                           headers=headers(venue))


def http_client(venue: EmulatedVenue) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=venue.rest_url, timeout=10)


async def test_documented_mixed_query_and_body_signature_is_accepted(venue: EmulatedVenue) -> None:
    """`totalParams` is the query string concatenated with the body, with no `&` between them."""
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body = urlencode({"quantity": "0.001", "price": "30000.00", "recvWindow": "5000",
                      "timestamp": str(time.time_ns() // 1_000_000)})
    signature = hmac.new(venue.api_secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    async with http_client(venue) as http:
        response = await http.post(f"/api/v3/order?{query}", content=f"{body}&signature={signature}",
                                   headers=headers(venue))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "NEW"


async def test_authentication_errors_use_binance_codes(venue: EmulatedVenue) -> None:
    async with http_client(venue) as http:
        query = signed_query("not-the-secret", {})
        bad_signature = await http.get(f"/api/v3/account?{query}", headers=headers(venue))
        assert (bad_signature.status_code, bad_signature.json()) == \
            (400, {"code": -1022, "msg": "Signature for this request is not valid."})
        query = signed_query(venue.api_secret, {})
        unknown_key = await http.get(f"/api/v3/account?{query}", headers=headers(venue, "A" * 64))
        assert unknown_key.status_code == 401 and unknown_key.json()["code"] == -2015
        malformed_key = await http.get(f"/api/v3/account?{query}", headers=headers(venue, "bad key!"))
        assert malformed_key.json()["code"] == -2014
        stale = signed_query(venue.api_secret, {}, timestamp_ms=time.time_ns() // 1_000_000 - 60_000)
        outside = await http.get(f"/api/v3/account?{stale}", headers=headers(venue))
        assert outside.json() == {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}


async def test_a_second_account_has_its_own_credentials(venue: EmulatedVenue) -> None:
    key, secret = venue.add_account("second", {"USDT": Decimal("50")})
    async with http_client(venue) as http:
        account = await http.get(f"/api/v3/account?{signed_query(secret, {})}", headers=headers(venue, key))
        assert {b["asset"]: b["free"] for b in account.json()["balances"]} == {"USDT": "50.00000000"}
        crossed = await http.get(f"/api/v3/account?{signed_query(secret, {})}", headers=headers(venue))
        assert crossed.json()["code"] == -1022  # the demo key with the second account's secret


async def test_order_errors_use_binance_codes_and_messages(venue: EmulatedVenue) -> None:
    limit = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    async with http_client(venue) as http:
        lot = await post_order(http, venue, **limit, quantity="0.0000101", price="30000")
        assert lot.json() == {"code": -1013, "msg": "Filter failure: LOT_SIZE"}
        tick = await post_order(http, venue, **limit, quantity="0.001", price="30000.001")
        assert tick.json() == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
        funds = await post_order(http, venue, **limit, quantity="100", price="30000")
        assert funds.json() == {"code": -2010, "msg": "Account has insufficient balance for requested action."}
        symbol = await post_order(http, venue, **{**limit, "symbol": "NOPEUSDT"}, quantity="1", price="1")
        assert symbol.json() == {"code": -1121, "msg": "Invalid symbol."}
        missing = await post_order(http, venue, symbol="BTCUSDT", side="BUY", type="LIMIT", quantity="0.001",
                                   price="30000")
        assert missing.json()["code"] == -1102 and "timeInForce" in missing.json()["msg"]
        first = await post_order(http, venue, **limit, quantity="0.001", price="30000", newClientOrderId="same")
        assert first.status_code == 200
        again = await post_order(http, venue, **limit, quantity="0.001", price="30000", newClientOrderId="same")
        assert again.json() == {"code": -2010, "msg": "Duplicate order sent."}
        query = signed_query(venue.api_secret, {"symbol": "BTCUSDT", "orderId": "424242"})
        unknown = await http.get(f"/api/v3/order?{query}", headers=headers(venue))
        assert unknown.json() == {"code": -2013, "msg": "Order does not exist."}
        query = signed_query(venue.api_secret, {"symbol": "BTCUSDT", "orderId": "424242"})
        cancel = await http.delete(f"/api/v3/order?{query}", headers=headers(venue))
        assert cancel.json() == {"code": -2011, "msg": "Unknown order sent."}


async def test_new_order_response_types(venue: EmulatedVenue) -> None:
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    async with http_client(venue) as http:
        ack = (await post_order(http, venue, **market, newOrderRespType="ACK")).json()
        assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
        result = (await post_order(http, venue, **market, newOrderRespType="RESULT")).json()
        assert result["status"] == "FILLED" and "fills" not in result
        assert Decimal(result["executedQty"]) == Decimal("0.001")
        full = (await post_order(http, venue, **market)).json()  # FULL is the default for MARKET
        logged = [f for f in venue.engine.fill_log if f.order_id == full["orderId"] and f.symbol == "BTCUSDT"]
        assert [(Decimal(f["price"]), Decimal(f["qty"]), Decimal(f["commission"]), f["tradeId"])
                for f in full["fills"]] == [(f.price, f.quantity, f.fee, f.trade_id) for f in logged]


async def test_order_ids_and_trade_ids_increase_per_symbol(venue: EmulatedVenue) -> None:
    async with http_client(venue) as http:
        ids = []
        for _ in range(3):
            placed = await post_order(http, venue, symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.01")
            ids.append(placed.json()["orderId"])
    assert ids == sorted(ids) and len(set(ids)) == 3
    trade_ids = [f.trade_id for f in venue.engine.fill_log if f.symbol == "ETHUSDT"]
    assert trade_ids == sorted(trade_ids) and len(set(trade_ids)) == len(trade_ids)


async def test_rate_limit_headers_weights_429_then_418(venue: EmulatedVenue) -> None:
    async with http_client(venue) as http:
        first = await http.get("/api/v3/exchangeInfo")
        second = await http.get("/api/v3/exchangeInfo")
        # exchangeInfo weighs 20: the used weight rises by exactly that.
        assert int(second.headers["x-mbx-used-weight-1m"]) - int(first.headers["x-mbx-used-weight-1m"]) == 20
        placed = await post_order(http, venue, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        assert int(placed.headers["x-mbx-order-count-10s"]) >= 1 and int(placed.headers["x-mbx-order-count-1d"]) >= 1
        statuses = []
        for _ in range(60):  # depth limit=5000 weighs 250: 6000 per minute is gone within 25 requests
            response = await http.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "5000"})
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["code"] == -1003 and int(response.headers["retry-after"]) > 0
            if response.status_code == 418:
                assert int(response.headers["retry-after"]) > 0
                break
    assert 429 in statuses and statuses[-1] == 418
    assert statuses.index(429) < statuses.index(418)


async def test_the_retired_listen_keys_answer_410_gone(venue: EmulatedVenue) -> None:
    """Binance discontinued the spot listen keys on 2026-02-20: its gateway answers 410 with an HTML page."""
    async with http_client(venue) as http:
        for method in ("POST", "PUT", "DELETE"):
            gone = await http.request(method, "/api/v3/userDataStream", headers=headers(venue))
            assert gone.status_code == 410 and gone.headers["content-type"].startswith("text/html")
            assert "<title>410 Gone</title>" in gone.text


async def subscribe_user_data(venue: EmulatedVenue, ws: trio_websocket.WebSocketConnection) -> int:
    """``userDataStream.subscribe.signature``: the account's events on this WebSocket API connection."""
    params: dict[str, object] = {"apiKey": venue.api_key, "timestamp": time.time_ns() // 1_000_000}
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["signature"] = hmac.new(venue.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    await ws.send_message(json.dumps({"id": "sub", "method": "userDataStream.subscribe.signature",
                                      "params": params}))
    answer = json.loads(await ws.get_message())
    assert answer["status"] == 200, answer
    subscription: int = answer["result"]["subscriptionId"]
    return subscription


async def test_user_data_stream_matches_the_fill_log(venue: EmulatedVenue) -> None:
    async with http_client(venue) as http, trio.open_nursery() as nursery:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/ws-api/v3")
        subscription = await subscribe_user_data(venue, ws)
        placed = (await post_order(http, venue, symbol="BTCUSDT", side="SELL", type="MARKET",
                                   quantity="0.6")).json()  # more than one synthetic level: several fills
        reports: list[dict[str, object]] = []
        with trio.fail_after(10):
            while not reports or reports[-1]["X"] not in ("FILLED", "EXPIRED"):
                message = json.loads(await ws.get_message())
                assert message["subscriptionId"] == subscription
                event = message["event"]
                if event["e"] == "executionReport" and event["i"] == placed["orderId"]:
                    reports.append(event)
        await ws.aclose()
        nursery.cancel_scope.cancel()
    assert all(EXECUTION_REPORT_KEYS <= set(r) for r in reports)
    assert reports[0]["x"] == "NEW"
    trades = [r for r in reports if r["x"] == "TRADE"]
    logged = [f for f in venue.engine.fill_log if f.order_id == placed["orderId"] and f.symbol == "BTCUSDT"]
    assert len(logged) >= 2
    assert [(r["t"], Decimal(str(r["l"])), Decimal(str(r["L"])), Decimal(str(r["n"]))) for r in trades] == \
        [(f.trade_id, f.quantity, f.price, f.fee) for f in logged]
    cumulative = [Decimal(str(r["z"])) for r in trades]
    assert cumulative == sorted(cumulative) and cumulative[-1] == Decimal(placed["executedQty"])


async def test_combined_streams_and_live_subscriptions(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery:
        combined = await trio_websocket.connect_websocket_url(
            nursery, f"{venue.ws_url}/stream?streams=btcusdt@trade/ethusdt@bookTicker")
        with trio.fail_after(10):
            envelope = json.loads(await combined.get_message())
        assert set(envelope) == {"stream", "data"} and envelope["stream"] in ("btcusdt@trade", "ethusdt@bookTicker")
        await combined.aclose()
        live = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/ws")
        await live.send_message(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1}))
        await live.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
        answers: dict[int, object] = {}
        kinds: set[str] = set()
        with trio.fail_after(10):
            while len(answers) < 2 or "aggTrade" not in kinds:
                message = json.loads(await live.get_message())
                if "id" in message:
                    answers[message["id"]] = message["result"]
                else:
                    kinds.add(message["e"])
        assert answers == {1: None, 2: ["btcusdt@aggTrade"]}
        await live.aclose()
        nursery.cancel_scope.cancel()
