"""The Bybit V5 dialect on the wire: envelopes, signing and its errors, order semantics, paging, rate
limits, faults, and the public and private websockets -- each checked against Bybit's V5 documentation.

Loopback only; every wait is bounded. Fault tests run on trio's virtual clock; the rate-limit window and
the frozen-price book test use the real clock (a virtual clock jumps while we wait on sockets).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
import trio_websocket

from emulators import EmulatedVenue, emulate

D = Decimal
ENVELOPE_KEYS = {"retCode", "retMsg", "result", "retExtInfo", "time"}


@pytest.fixture
async def venue() -> AsyncIterator[EmulatedVenue]:
    async with emulate("bybit", seed=11, tick_interval=0.05) as emulated:
        yield emulated


def sign_headers(venue: EmulatedVenue, payload: str, *, key: str | None = None, secret: str | None = None,
                 timestamp: int | None = None, recv_window: str = "5000") -> dict[str, str]:
    """The documented V5 signature: HMAC-SHA256(timestamp + key + recv_window + query|body), hex."""
    key = key or venue.api_key
    ts = str(timestamp if timestamp is not None else time.time_ns() // 1_000_000)
    signature = hmac.new((secret or venue.api_secret).encode(), f"{ts}{key}{recv_window}{payload}".encode(),
                         hashlib.sha256).hexdigest()
    return {"X-BAPI-API-KEY": key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": recv_window,
            "X-BAPI-SIGN": signature, "X-BAPI-SIGN-TYPE": "2", "Content-Type": "application/json"}


class Rest:
    def __init__(self, venue: EmulatedVenue, http: httpx.AsyncClient) -> None:
        self.venue, self.http = venue, http

    async def get(self, path: str, query: str = "", **kw: Any) -> httpx.Response:
        return await self.http.get(f"{path}?{query}" if query else path, headers=sign_headers(self.venue, query, **kw))

    async def post(self, path: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
        text = json.dumps(body)
        return await self.http.post(path, content=text, headers=sign_headers(self.venue, text, **kw))

    async def ok(self, method: str, path: str, arg: Any = "") -> Any:
        response = await (self.get(path, arg) if method == "GET" else self.post(path, arg))
        body = response.json()
        assert response.status_code == 200 and body["retCode"] == 0, body
        return body["result"]


def rest(venue: EmulatedVenue) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=venue.rest_url, timeout=10)


async def test_envelope_and_authentication_errors(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Rest(venue, http)
        public = (await http.get("/v5/market/time")).json()
        assert set(public) == ENVELOPE_KEYS and (public["retCode"], public["retMsg"]) == (0, "OK")
        assert isinstance(public["time"], int) and public["result"]["timeSecond"].isdigit()
        query = "accountType=UNIFIED"
        wallet = await api.get("/v5/account/wallet-balance", query)
        assert wallet.json()["retCode"] == 0
        bad_key = (await api.get("/v5/account/wallet-balance", query, key="X" * 18)).json()
        assert (bad_key["retCode"], bad_key["retMsg"], bad_key["result"]) == (10003, "API key is invalid.", {})
        bad_sign = (await api.get("/v5/account/wallet-balance", query, secret="0" * 36)).json()
        assert bad_sign["retCode"] == 10004 and bad_sign["retMsg"].startswith("error sign! origin_string[")
        now = time.time_ns() // 1_000_000
        stale = (await api.get("/v5/account/wallet-balance", query, timestamp=now - 6000)).json()
        ahead = (await api.get("/v5/account/wallet-balance", query, timestamp=now + 2000)).json()
        for body in (stale, ahead):  # server_time - recv_window <= timestamp < server_time + 1000
            assert body["retCode"] == 10002 and "recv_window[5000]" in body["retMsg"]
        wide = (await api.get("/v5/account/wallet-balance", query, timestamp=now - 6000, recv_window="10000")).json()
        assert wide["retCode"] == 0
        tampered = sign_headers(venue, "accountType=CONTRACT")  # signed one query, sent another
        body = (await http.get(f"/v5/account/wallet-balance?{query}", headers=tampered)).json()
        assert body["retCode"] == 10004
        assert (await http.get("/v5/nothing/here")).status_code == 404


async def test_order_errors_use_the_contract_and_spot_code_families(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Rest(venue, http)

        async def code(body: dict[str, Any]) -> tuple[int, str]:
            answer = (await api.post("/v5/order/create", body)).json()
            return answer["retCode"], answer["retMsg"]

        linear = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "price": "60000.0"}
        spot = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "price": "60000"}
        assert (await code({**linear, "qty": "0.0001"}))[0] == 10001  # below minOrderQty
        assert (await code({**linear, "qty": "0.0015"}))[0] == 10001  # not a multiple of qtyStep
        assert (await code({**linear, "qty": 0.1}))[0] == 10001  # qty must be a string
        assert await code({**linear, "qty": "50"}) == (110007, "ab not enough for new order")
        assert (await code({**linear, "qty": "0.01", "positionIdx": 1}))[0] == 10001  # hedge mode is not on
        assert (await code({**spot, "qty": "0.00001"}))[0] == 170140  # below minOrderAmt (5 USDT)
        assert (await code({**spot, "qty": "0.0000011"}))[0] == 170137  # too many decimals
        assert await code({**spot, "qty": "10"}) == (170131, "Insufficient balance.")
        assert await code({**spot, "symbol": "NOPEUSDT", "qty": "1"}) == (170121, "Invalid symbol.")
        assert (await code({**linear, "category": "option", "qty": "1"}))[0] == 10001
        assert await code({**linear, "side": "Sell", "orderType": "Market", "qty": "0.01", "reduceOnly": True}) == \
            (110017, "Reduce-only rule not satisfied")
        first = await api.ok("POST", "/v5/order/create", {**linear, "qty": "0.01", "orderLinkId": "same"})
        assert set(first) == {"orderId", "orderLinkId"} and first["orderLinkId"] == "same"
        assert await code({**linear, "qty": "0.01", "orderLinkId": "same"}) == (110072, "OrderLinkedID is duplicate")
        await api.ok("POST", "/v5/order/create", {**spot, "qty": "0.001", "orderLinkId": "s-same"})
        assert (await code({**spot, "qty": "0.001", "orderLinkId": "s-same"}))[0] == 170141
        cancel = (await api.post("/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT",
                                                      "orderId": "missing"})).json()
        assert cancel["retCode"] == 110001
        leverage = {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "10", "sellLeverage": "10"}
        assert (await api.post("/v5/position/set-leverage", leverage)).json()["retCode"] == 110043
        assert (await api.post("/v5/position/set-leverage", {**leverage, "buyLeverage": "150",
                                                             "sellLeverage": "150"})).json()["retCode"] == 10001


async def test_spot_market_buy_is_by_quote_coin_unless_told_otherwise(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Rest(venue, http)
        body = {"category": "spot", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Market"}
        by_value = await api.ok("POST", "/v5/order/create", {**body, "qty": "500"})
        by_qty = await api.ok("POST", "/v5/order/create", {**body, "qty": "0.5", "marketUnit": "baseCoin"})
        orders = {o["orderId"]: o for o in (await api.ok("GET", "/v5/order/history", "category=spot"))["list"]}
        value_order, qty_order = orders[by_value["orderId"]], orders[by_qty["orderId"]]
        assert (value_order["marketUnit"], value_order["qty"], value_order["orderStatus"]) == \
            ("quoteCoin", "500", "Filled")
        assert D("499") < D(value_order["cumExecValue"]) <= D("500")  # spent the 500 USDT, not 500 ETH
        assert (qty_order["marketUnit"], D(qty_order["cumExecQty"])) == ("baseCoin", D("0.5"))
        fills = [f for f in venue.engine.fill_log if f.symbol == "spot:ETHUSDT"]
        assert all(f.fee_asset == "ETH" for f in fills)  # spot buys pay the fee in the coin received
        assert sum((f.quantity - f.fee for f in fills), D(0)) == venue.engine.balance("demo", "ETH")[0] - D(10)


async def test_position_list_fields_and_pnl(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Rest(venue, http)
        empty = (await api.ok("GET", "/v5/position/list", "category=linear&symbol=ETHUSDT"))["list"][0]
        assert (empty["side"], empty["size"], empty["avgPrice"], empty["liqPrice"]) == ("", "0.00", "0", "")
        none = await api.ok("GET", "/v5/position/list", "category=linear&settleCoin=USDT")
        assert none["list"] == []  # by settleCoin: only non-empty positions
        missing = (await api.get("/v5/position/list", "category=linear")).json()
        assert missing["retCode"] == 10001
        await api.ok("POST", "/v5/order/create", {"category": "linear", "symbol": "ETHUSDT", "side": "Sell",
                                                  "orderType": "Market", "qty": "2"})
        row = (await api.ok("GET", "/v5/position/list", "category=linear&settleCoin=USDT"))["list"][0]
        expected = {"positionIdx", "riskId", "symbol", "side", "size", "avgPrice", "positionValue", "tradeMode",
                    "positionStatus", "leverage", "markPrice", "liqPrice", "positionIM", "positionMM",
                    "unrealisedPnl", "curRealisedPnl", "cumRealisedPnl", "createdTime", "updatedTime", "seq"}
        assert expected <= set(row)
        position = venue.engine.position("demo", "linear:ETHUSDT")
        assert (row["side"], row["size"], row["positionIdx"], row["tradeMode"]) == ("Sell", "2.00", 0, 0)
        assert D(row["avgPrice"]) == position.entry_price and D(row["positionIM"]) == position.margin
        assert D(row["cumRealisedPnl"]) == position.cum_realised < 0  # the opening fee
        assert D(row["liqPrice"]) > position.entry_price  # a short is liquidated above its entry
        assert D(row["positionValue"]) == 2 * position.entry_price
        wallet = (await api.ok("GET", "/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT"))["list"][0]
        usdt = wallet["coin"][0]
        assert D(usdt["totalPositionIM"]) == position.margin
        assert D(usdt["walletBalance"]) == D("100000") + position.cum_realised


async def test_execution_list_paging_and_time_window(venue: EmulatedVenue) -> None:
    async with rest(venue) as http:
        api = Rest(venue, http)
        for n in range(3):  # 3 market orders sweeping 2 levels each: 6 executions
            await api.ok("POST", "/v5/order/create", {"category": "linear", "symbol": "ETHUSDT", "side": "Buy",
                                                      "orderType": "Market", "qty": "30", "orderLinkId": f"p{n}"})
        seen: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(10):
            page = await api.ok("GET", "/v5/execution/list", f"category=linear&limit=4&cursor={cursor}")
            seen += page["list"]
            cursor = page["nextPageCursor"]
            if not cursor:
                break
        logged = [f for f in venue.engine.fill_log if f.symbol == "linear:ETHUSDT"]
        assert len(seen) == len(logged) >= 6 and len({e["execId"] for e in seen}) == len(seen)
        times = [int(e["execTime"]) for e in seen]
        assert times == sorted(times, reverse=True)  # newest first
        assert all(e["execType"] == "Trade" and e["feeCurrency"] == "" for e in seen)
        now = time.time_ns() // 1_000_000
        wide = (await api.get("/v5/execution/list", f"category=linear&startTime={now - 8 * 86_400_000}&endTime={now}"))
        assert wide.json()["retCode"] == 10001  # at most 7 days apart
        old = await api.ok("GET", "/v5/execution/list", f"category=linear&endTime={now - 86_400_000}")
        assert old["list"] == []
        too_many = (await api.get("/v5/execution/list", "category=linear&limit=500")).json()
        assert too_many["retCode"] == 0 and len(too_many["result"]["list"]) == len(logged)  # capped at 100


async def test_rate_limit_headers_and_10006() -> None:
    # Real clock: the limit is a rolling one-second window, and a virtual clock may jump while we wait on I/O.
    async with emulate("bybit", seed=2) as venue, rest(venue) as http:
        api = Rest(venue, http)
        venue.dialect.set_limit("/v5/order/realtime", 2)
        statuses = []
        for _ in range(3):
            response = await api.get("/v5/order/realtime", "category=spot")
            statuses.append((response.json()["retCode"], response.headers["x-bapi-limit"],
                             response.headers["x-bapi-limit-status"]))
        assert statuses == [(0, "2", "1"), (0, "2", "0"), (10006, "2", "0")]
        refused = response.json()
        assert refused["retMsg"] == "Too many visits!"
        assert int(response.headers["x-bapi-limit-reset-timestamp"]) > time.time_ns() // 1_000_000
        other = await api.get("/v5/order/realtime", "category=linear&symbol=BTCUSDT")
        assert other.json()["retCode"] == 0  # the limit is per endpoint *and* category
        await trio.sleep(1.1)  # a rolling one-second window
        assert (await api.get("/v5/order/realtime", "category=spot")).json()["retCode"] == 0
        public = await http.get("/v5/market/time")
        assert "x-bapi-limit" not in public.headers
        venue.dialect.ip_limit = 3
        codes = [(await http.get("/v5/market/time")).status_code for _ in range(4)]
        assert codes[-1] == 403


async def test_faults_answer_in_bybit_style(autojump_clock: trio.abc.Clock) -> None:
    async with emulate("bybit", seed=2) as venue, rest(venue) as http:
        venue.faults.http_error(503, count=1, path="/v5/market")
        failed = await http.get("/v5/market/time")
        assert failed.status_code == 503 and failed.json()["retCode"] == 10016
        venue.faults.http_error(429, count=1, retry_after=2)
        limited = await http.get("/v5/market/time")
        assert limited.status_code == 429 and limited.json()["retCode"] == 10006
        assert limited.headers["retry-after"] == "2"
        venue.faults.http_error(403)
        assert (await http.get("/v5/market/time")).status_code == 403
        assert (await http.get("/v5/market/time")).json()["retCode"] == 0


async def next_json(ws: trio_websocket.WebSocketConnection) -> dict[str, Any]:
    with trio.fail_after(10):
        message = json.loads(await ws.get_message())
    assert isinstance(message, dict)
    return message


async def test_public_orderbook_snapshot_then_contiguous_deltas_including_our_taker(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery, rest(venue) as http:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v5/public/linear")
        await ws.send_message(json.dumps({"op": "subscribe", "req_id": "s1",
                                          "args": ["orderbook.50.BTCUSDT", "tickers.BTCUSDT"]}))
        ack = await next_json(ws)
        assert ack["success"] is True and ack["op"] == "subscribe" and ack["req_id"] == "s1" and ack["conn_id"]
        book: dict[str, dict[str, str]] = {"b": {}, "a": {}}
        last_u = None
        kinds: list[tuple[str, str]] = []
        placed = False
        while len(kinds) < 40:
            message = await next_json(ws)
            kinds.append((message["topic"].split(".")[0], message["type"]))
            if message["topic"].startswith("tickers"):
                continue
            data = message["data"]
            if message["type"] == "snapshot":
                assert last_u is None
                book = {"b": dict(data["b"]), "a": dict(data["a"])}
            else:
                assert data["u"] == last_u + 1, "every delta's u follows the previous one"
                for side in ("b", "a"):
                    for price, size in data[side]:
                        if D(size) == 0:
                            book[side].pop(price, None)
                        else:
                            book[side][price] = size
            assert "cts" in message and data["s"] == "BTCUSDT"
            last_u = data["u"]
            if len(kinds) > 10 and not placed:  # take two levels with our own market order, mid-stream
                await Rest(venue, http).ok("POST", "/v5/order/create", {
                    "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "3"})
                placed = True
        assert kinds[0] == ("orderbook", "snapshot") and ("tickers", "snapshot") in kinds
        assert ("tickers", "delta") in kinds  # derivatives tickers: snapshot, then deltas
        state = venue.engine.symbols["linear:BTCUSDT"]
        snapshot = (await http.get("/v5/market/orderbook", params={"category": "linear", "symbol": "BTCUSDT",
                                                                   "limit": "50"})).json()["result"]
        if snapshot["u"] == last_u:  # the REST book is the streamed book at the same u
            assert {p: q for p, q in snapshot["b"]} == book["b"] and {p: q for p, q in snapshot["a"]} == book["a"]
        assert snapshot["u"] >= last_u and state is not None
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_taker_order_produces_its_own_delta() -> None:
    # Prices frozen (no tick for an hour, real clock): the only book change is our own market order.
    async with emulate("bybit", seed=4, tick_interval=3600) as venue, trio.open_nursery() as nursery, \
            rest(venue) as http:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v5/public/linear")
        await ws.send_message(json.dumps({"op": "subscribe", "args": ["orderbook.200.ETHUSDT",
                                                                      "publicTrade.ETHUSDT"]}))
        assert (await next_json(ws))["success"] is True
        snapshot = await next_json(ws)
        best_ask, size = snapshot["data"]["a"][0]
        await Rest(venue, http).ok("POST", "/v5/order/create", {"category": "linear", "symbol": "ETHUSDT",
                                                                "side": "Buy", "orderType": "Market", "qty": "5"})
        messages = [await next_json(ws) for _ in range(2)]
        trade, delta = messages if messages[0]["topic"].startswith("publicTrade") else messages[::-1]
        assert trade["data"][0]["S"] == "Buy" and trade["data"][0]["p"] == best_ask
        assert delta["type"] == "delta" and delta["data"]["u"] == snapshot["data"]["u"] + 1
        assert delta["data"]["a"] == [[best_ask, f"{D(size) - 5:.2f}"]] and delta["data"]["b"] == []
        rest_book = (await http.get("/v5/market/orderbook", params={"category": "linear", "symbol": "ETHUSDT"})).json()
        assert rest_book["result"]["u"] == delta["data"]["u"] and rest_book["result"]["a"][0][1] == \
            f"{D(size) - 5:.2f}"
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_public_ping_and_subscription_errors(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v5/public/spot")
        await ws.send_message(json.dumps({"op": "ping", "req_id": "p1"}))
        pong = await next_json(ws)
        assert {k: pong[k] for k in ("success", "ret_msg", "req_id", "op")} == \
            {"success": True, "ret_msg": "pong", "req_id": "p1", "op": "ping"} and pong["conn_id"]
        await ws.send_message(json.dumps({"op": "subscribe", "req_id": "x", "args": ["orderbook.50.NOPEUSDT"]}))
        refused = await next_json(ws)
        assert refused["success"] is False and refused["op"] == "subscribe"
        await ws.send_message(json.dumps({"op": "subscribe", "req_id": "t", "args": ["tickers.BTCUSDT"]}))
        ack = await next_json(ws)
        assert (ack["success"], ack["ret_msg"]) == (True, "subscribe")  # spot's acknowledgement wording
        types = {(await next_json(ws))["type"] for _ in range(3)}
        assert types == {"snapshot"}  # spot tickers are always snapshots
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_private_stream_auth_and_topics(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery, rest(venue) as http:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v5/private")
        await ws.send_message(json.dumps({"op": "subscribe", "args": ["order"]}))
        assert (await next_json(ws))["success"] is False  # not authenticated yet
        expired = time.time_ns() // 1_000_000 - 1
        stale_sig = hmac.new(venue.api_secret.encode(), f"GET/realtime{expired}".encode(), hashlib.sha256).hexdigest()
        await ws.send_message(json.dumps({"op": "auth", "args": [venue.api_key, expired, stale_sig]}))
        assert (await next_json(ws))["success"] is False  # expires must lie in the future
        expires = time.time_ns() // 1_000_000 + 10_000
        signature = hmac.new(venue.api_secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
        await ws.send_message(json.dumps({"op": "auth", "req_id": "a1", "args": [venue.api_key, expires, signature]}))
        auth = await next_json(ws)
        assert (auth["success"], auth["ret_msg"], auth["op"]) == (True, "", "auth")
        await ws.send_message(json.dumps({"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}))
        assert (await next_json(ws))["success"] is True
        await ws.send_message(json.dumps({"op": "ping", "req_id": "hb"}))
        pong = await next_json(ws)
        assert pong["op"] == "pong" and pong["req_id"] == "hb" and pong["args"][0].isdigit() and "success" not in pong
        result = await Rest(venue, http).ok("POST", "/v5/order/create", {
            "category": "inverse", "symbol": "BTCUSD", "side": "Buy", "orderType": "Market", "qty": "70000",
            "orderLinkId": "ws-1"})  # two levels: two executions
        by_topic: dict[str, list[dict[str, Any]]] = {}
        while len(by_topic.get("execution", [])) < 2 or "wallet" not in by_topic or \
                not any(o["orderStatus"] == "Filled" for o in by_topic.get("order", [])):
            message = await next_json(ws)
            assert {"id", "topic", "creationTime", "data"} <= set(message)
            by_topic.setdefault(message["topic"], []).extend(message["data"])
        assert next(o["orderStatus"] for o in by_topic["order"]) == "New"
        assert all(o["orderId"] == result["orderId"] and o["category"] == "inverse" for o in by_topic["order"])
        logged = [f for f in venue.engine.fill_log if f.client_order_id == "ws-1"]
        assert [(D(e["execQty"]), D(e["execPrice"])) for e in by_topic["execution"]] == \
            [(f.quantity, f.price) for f in logged]
        position = by_topic["position"][-1]
        assert (position["side"], position["size"], position["category"]) == ("Buy", "70000", "inverse")
        assert D(position["entryPrice"]) == venue.engine.position("demo", "inverse:BTCUSD").entry_price.quantize(
            D("1e-12"))
        btc = next(c for c in by_topic["wallet"][-1]["coin"] if c["coin"] == "BTC")
        assert D(btc["totalPositionIM"]) == venue.engine.position("demo", "inverse:BTCUSD").margin
        await ws.aclose()
        nursery.cancel_scope.cancel()
