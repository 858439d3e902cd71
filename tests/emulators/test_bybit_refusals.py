"""No silent acceptance on the Bybit emulator: every route and topic it registers is walked, and anything
else -- another path or method, an unknown, duplicated or unmodelled parameter, a topic it does not serve,
malformed bodies and frames -- is refused in Bybit's words (an empty 404, retCode 10001, ``success: false``
with ``ret_msg``), never a 500 or a websocket close 1011. Bybit's idle rule closes quiet connections.

Loopback only; every wait is bounded. Walks use the real clock with prices frozen; the idle rule runs on
trio's virtual clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
import trio_websocket

from emulators import EmulatedVenue, emulate
from emulators.bybit import routes, ws
from emulators.engine.server import WsConnection
from tests.emulators.test_bybit_wire import Rest, next_json, rest, sign_headers

SYMBOLS = {"spot": ("BTCUSDT", "ETHUSDT"), "linear": ("BTCUSDT", "ETHUSDT"), "inverse": ("BTCUSD",)}


@pytest.fixture
async def still() -> AsyncIterator[EmulatedVenue]:
    async with emulate("bybit", seed=5, tick_interval=3600) as emulated:  # prices frozen: no pushes but ours
        yield emulated


async def call(api: Rest, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    response = await (api.get(path, "&".join(f"{k}={v}" for k, v in params.items())) if method == "GET"
                      else api.post(path, params))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    return body


async def test_every_route_refuses_other_paths_methods_and_parameters(still: EmulatedVenue) -> None:
    async with rest(still) as http:
        api = Rest(still, http)
        for (method, path), endpoint in routes.ROUTES.items():
            other = "POST" if method == "GET" else "GET"
            if (other, path) not in routes.ROUTES:
                assert (await http.request(other, path)).status_code == 404, (other, path)
            for near in (path + "/", path.upper(), path.replace("/v5/", "/v3/"), path + "s", path.rsplit("/", 1)[0]):
                answer = await http.request(method, near)
                assert (answer.status_code, answer.content) == (404, b""), near
            unknown = await call(api, method, path, {"category": "linear", "bogusParam": "1"})
            assert (unknown["retCode"], unknown["retMsg"]) in {
                (10001, "params error: unknown parameter 'bogusParam'"),
                (10001, "params error: unknown parameter 'category'")}, (path, unknown)
            for name, neutral in endpoint.params.items():
                if neutral is not None:  # documented, not modelled: anything but its neutral value is refused
                    refused = await call(api, method, path, {name: "7"})
                    assert (refused["retCode"], refused["retMsg"]) == \
                        (10001, f"params error: {name} is not supported by this emulator"), (path, name)
            if method == "GET":
                query = "category=spot&category=linear"
                twice = (await http.get(f"{path}?{query}", headers=sign_headers(still, query))).json()
            else:
                text = '{"category": "spot", "category": "linear"}'
                twice = (await http.post(path, content=text, headers=sign_headers(still, text))).json()
            assert (twice["retCode"], twice["retMsg"]) == (10001, "params error: duplicate parameter 'category'"), path


async def test_malformed_bodies_are_parameter_errors(still: EmulatedVenue) -> None:
    async with rest(still) as http:
        deep = "[" * 100_000 + "]" * 100_000
        deep_object = '{"a":' * 100_000 + "1" + "}" * 100_000
        for text in (deep, deep_object, b"\xff\xfe\x00{", "[]", '"category"', "{", '{"category": "spot"} x'):
            raw = text if isinstance(text, bytes) else text.encode()
            answer = await http.post("/v5/order/create", content=raw,
                                     headers=sign_headers(still, raw.decode(errors="replace")))
            body = answer.json()
            assert answer.status_code == 200 and (body["retCode"], body["retMsg"]) == \
                (10001, "Request parameter error."), text[:20]
        with_body = (await http.request("GET", "/v5/market/time", content=b'{"x": 1}')).json()
        assert with_body["retCode"] == 10001 and "query string" in with_body["retMsg"]
        body = json.dumps({"category": "spot"})
        with_query = (await http.post("/v5/order/cancel-all?category=spot", content=body,
                                      headers=sign_headers(still, body))).json()
        assert with_query["retCode"] == 10001 and "JSON body" in with_query["retMsg"]
        bad_time = (await http.get("/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1&start=abc")).json()
        assert (bad_time["retCode"], bad_time["retMsg"]) == (10001, "params error: start invalid")
        api = Rest(still, http)
        huge = await call(api, "POST", "/v5/order/create", {"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                                                            "orderType": "Limit", "qty": "1e999999", "price": "1"})
        assert (huge["retCode"], huge["retMsg"]) == (10001, "params error: qty invalid")
        vague = await call(api, "POST", "/v5/order/create", {"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                                                             "orderType": "Market", "qty": "0.01", "reduceOnly": "yes"})
        assert (vague["retCode"], vague["retMsg"]) == (10001, "params error: reduceOnly invalid")
        only = await call(api, "GET", "/v5/order/realtime", {"category": "spot", "openOnly": "7"})
        assert (only["retCode"], only["retMsg"]) == (10001, "params error: openOnly invalid")
        headers = {**sign_headers(still, "accountType=UNIFIED"), "X-BAPI-TIMESTAMP": "1" * 5000}
        stale = (await http.get("/v5/account/wallet-balance?accountType=UNIFIED", headers=headers)).json()
        assert stale["retCode"] == 10001


async def request(conn: trio_websocket.WebSocketConnection, payload: dict[str, Any] | str | bytes,
                  op: str | None = None) -> dict[str, Any]:
    """Send one request and return its answer (data pushes in between are skipped, at most 500)."""
    await conn.send_message(payload if isinstance(payload, (str, bytes)) else json.dumps(payload))
    for _ in range(500):
        message = await next_json(conn)
        if "topic" not in message or message.get("op") is not None:
            assert op is None or message["op"] in (op, "pong"), message
            return message
    raise AssertionError("no answer")


def unknown_symbol(category: str, topic: str) -> str:
    """A served topic with an unknown symbol: spot and contracts word it differently."""
    return f"Invalid symbol :[{topic}]" if category == "spot" else f"error:handler not found,topic:{topic}"


async def test_every_public_topic_is_served_and_anything_else_refused(still: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery:
        for category, symbols in SYMBOLS.items():
            conn = await trio_websocket.connect_websocket_url(nursery, f"{still.ws_url}/v5/public/{category}")
            served = sorted(t for symbol in symbols for t in ws.public_topics(category, symbol))
            for start in range(0, len(served), 10):
                ack = await request(conn, {"op": "subscribe", "req_id": str(start), "args": served[start:start + 10]})
                assert (ack["success"], ack["req_id"]) == (True, str(start)), ack
            symbol = symbols[0]
            refusals = {
                f"orderbook.7.{symbol}": f"error:handler not found,topic:orderbook.7.{symbol}",
                f"kline.2.{symbol}": f"error:handler not found,topic:kline.2.{symbol}",
                f"tickers.{symbol.lower()}": unknown_symbol(category, f"tickers.{symbol.lower()}"),
                f"tickers.{symbol}.x": f"error:handler not found,topic:tickers.{symbol}.x",
                "tickers.NOPEUSDT": unknown_symbol(category, "tickers.NOPEUSDT"),
                f"liquidation.{symbol}": f"error:handler not found,topic:liquidation.{symbol}",
                "order": "error:handler not found,topic:order",
                f"tickers.{symbol}": f"error:already subscribed,topic:tickers.{symbol}",
            }
            for topic, words in refusals.items():
                refused = await request(conn, {"op": "subscribe", "req_id": "r", "args": [topic]})
                assert (refused["success"], refused["ret_msg"], refused["op"]) == (False, words, "subscribe"), topic
            subscribed = next(c for c in still.dialect.connections if c.state.get("category") == category)
            assert subscribed.topics == set(served)  # nothing of a refused request was subscribed
            await conn.aclose()
        nursery.cancel_scope.cancel()


async def test_private_topics_walk_and_refusals(still: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery:
        conn = await trio_websocket.connect_websocket_url(nursery, f"{still.ws_url}/v5/private")
        not_yet = await request(conn, {"op": "subscribe", "args": ["order"]})
        assert (not_yet["success"], not_yet["ret_msg"]) == (False, "Request not authorized")
        await request(conn, {"op": "auth", "args": auth_args(still)})
        ack = await request(conn, {"op": "subscribe", "args": sorted(ws.PRIVATE_TOPICS)})
        assert ack["success"] is True
        for topic in ("wallet.spot", "position.spot", "greeks", "execution.fast", "order.option", "dcp.spot",
                      "orderbook.50.BTCUSDT", "order"):
            refused = await request(conn, {"op": "subscribe", "args": [topic]})
            assert refused["success"] is False and refused["ret_msg"].endswith(f"topic:{topic}"), refused
        gone = await request(conn, {"op": "unsubscribe", "req_id": "u", "args": ["order", "greeks"]})
        assert (gone["success"], gone["ret_msg"]) == (False, "error:not subscribed,topic:greeks")
        done = await request(conn, {"op": "unsubscribe", "req_id": "u2", "args": ["order"]})
        assert (done["success"], done["req_id"], done["op"]) == (True, "u2", "unsubscribe")
        await conn.aclose()
        nursery.cancel_scope.cancel()


def auth_args(venue: EmulatedVenue) -> list[Any]:
    expires = time.time_ns() // 1_000_000 + 10_000
    signature = hmac.new(venue.api_secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
    return [venue.api_key, expires, signature]


async def test_malformed_frames_are_answered_and_the_connection_lives(still: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery:
        spot = await trio_websocket.connect_websocket_url(nursery, f"{still.ws_url}/v5/public/spot")
        linear = await trio_websocket.connect_websocket_url(nursery, f"{still.ws_url}/v5/public/linear")
        cases: list[tuple[trio_websocket.WebSocketConnection, Any, str]] = [
            (spot, b"\xff\x00\xfe binary", "error:request not json"),
            (spot, "[" * 100_000, "error:request not json"),
            (spot, '{"op": "subscribe", "args": ' + "[" * 100_000 + "]" * 100_000 + "}", "error:request not json"),
            (spot, "[1, 2]", "error:request not json"),
            (spot, {"op": "subscribe", "args": "notalist"}, "error:args invalid,op:subscribe"),
            (spot, {"op": "subscribe", "args": []}, "error:args invalid,op:subscribe"),
            (spot, {"op": "subscribe", "args": [{"topic": "x"}]}, "error:args invalid,op:subscribe"),
            (spot, {"op": "subscribe", "args": [f"tickers.S{i}" for i in range(11)]}, "args size >10"),
            (linear, {"op": "subscribe", "args": [f"bogus.{i}" for i in range(2000)]},
             "error:handler not found,topic:bogus.0"),
            (linear, {"op": "subscribe", "args": ["x" * 21_001]}, "error:args length >21000"),
            (linear, {"op": "subscribe", "args": ["tickers.BTCUSDT", "tickers.BTCUSDT"]},
             "error:already subscribed,topic:tickers.BTCUSDT"),
            (linear, {"op": "launch"}, "error:handler not found,op:launch"),
            (linear, {"op": "auth", "args": []}, "error:handler not found,op:auth"),  # public streams take no auth
            (linear, {"op": 7}, "error:invalid request, op and req_id must be strings"),
            (linear, {"op": "ping", "req_id": {"a": 1}}, "error:invalid request, op and req_id must be strings"),
        ]
        for conn, payload, words in cases:
            answer = await request(conn, payload)
            assert (answer["success"], answer["ret_msg"]) == (False, words), (str(payload)[:40], answer)
            pong = await request(conn, {"op": "ping", "req_id": 5})  # still connected; numeric req_id echoed
            assert (pong["ret_msg"], pong["req_id"]) == ("pong", "5")
        assert not any(c.topics for c in still.dialect.connections)
        await spot.aclose()
        await linear.aclose()
        nursery.cancel_scope.cancel()
    for path in ("/v5/public/option", "/v5/public/spread", "/v5/trade", "/v5/public", "/v5/private/"):
        with pytest.raises(trio_websocket.ConnectionRejected) as rejected:  # not served: refused at the handshake
            async with trio_websocket.open_websocket_url(f"{still.ws_url}{path}"):
                pass
        assert rejected.value.status_code == 403


async def closed_after(conn: trio_websocket.WebSocketConnection, limit: float) -> float:
    """Virtual seconds until the server closes ``conn`` (failing after ``limit``), skipping its messages."""
    started = trio.current_time()
    with trio.fail_after(limit):
        try:
            while True:
                await conn.get_message()
        except trio_websocket.ConnectionClosed:
            return trio.current_time() - started


async def test_idle_connections_are_cut_at_bybits_scan(autojump_clock: trio.abc.Clock) -> None:
    async with emulate("bybit", seed=6, tick_interval=5.0) as venue, trio.open_nursery() as nursery:
        before = trio.current_time()
        quiet = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v5/public/linear")
        await closed_after(quiet, 700)
        assert 600 <= trio.current_time() - before <= 630  # 10 minutes, then the next 30-second scan
        short = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v5/private?max_active_time=1m")
        await request(short, {"op": "auth", "args": auth_args(venue)})
        assert 60 <= await closed_after(short, 200) <= 90
        pinging = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v5/private?max_active_time=30s")
        for _ in range(40):  # 800 s of pings every 20 s: never idle
            assert (await request(pinging, {"op": "ping"}))["op"] == "pong"
            await trio.sleep(20)
        assert not pinging.closed
        fed = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v5/public/spot")
        await request(fed, {"op": "subscribe", "args": ["tickers.BTCUSDT"]})  # data every tick keeps it alive
        with trio.move_on_after(900):
            await closed_after(fed, 1000)
        assert not fed.closed
        for query in ("max_active_time=5s", "max_active_time=11m", "max_active_time=1h", "max_active_time=",
                      "max_active_time=1m&max_active_time=2m", "other=1"):
            refused = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v5/private?{query}")
            answer = json.loads(await refused.get_message())
            assert (answer["success"], answer["ret_msg"]) == (False, f"error:invalid query,{query}")
            assert await closed_after(refused, 5) <= 1.5
        public_query = await trio_websocket.connect_websocket_url(
            nursery, f"{venue.ws_url}/v5/public/spot?max_active_time=1m")  # only the private stream takes it
        assert json.loads(await public_query.get_message())["success"] is False
        nursery.cancel_scope.cancel()


async def test_new_routes_answer_what_clients_read(still: EmulatedVenue) -> None:
    async with rest(still) as http:
        api = Rest(still, http)
        key = await api.ok("GET", "/v5/user/query-api")
        assert (key["apiKey"], key["uta"], key["readOnly"], key["secret"]) == (still.api_key, 1, 0, "")
        assert key["permissions"]["Spot"] == ["SpotTrade"] and key["permissions"]["Wallet"] == []
        coins = (await api.ok("GET", "/v5/asset/coin/query-info"))["rows"]
        assert [row["coin"] for row in coins] == ["BTC", "ETH", "USDT"]
        assert all(chain["chainDeposit"] == chain["chainWithdraw"] == "0" for row in coins for chain in row["chains"])
        assert [row["coin"] for row in (await api.ok("GET", "/v5/asset/coin/query-info", "coin=ETH"))["rows"]] == ["ETH"]
        info = await api.ok("GET", "/v5/account/info")
        assert info["unifiedMarginStatus"] == 5
        for category, symbols in SYMBOLS.items():
            listed = await api.ok("GET", "/v5/market/tickers", f"category={category}")
            assert sorted(row["symbol"] for row in listed["list"]) == sorted(symbols)
            fees = await api.ok("GET", "/v5/account/fee-rate", f"category={category}")
            assert sorted(row["symbol"] for row in fees["list"]) == sorted(symbols)
        options = await api.ok("GET", "/v5/market/instruments-info", "category=option&baseCoin=BTC")
        assert options == {"category": "option", "list": [], "nextPageCursor": ""}
        prelaunch = await api.ok("GET", "/v5/market/instruments-info", "category=linear&limit=1000&status=PreLaunch")
        assert prelaunch["list"] == []
        order = (await http.get("/v5/market/tickers?category=option&baseCoin=BTC")).json()
        assert order["retCode"] == 10001  # no other endpoint takes the option category


async def test_a_binary_frame_handed_to_the_dialect_is_answered(still: EmulatedVenue) -> None:
    conn = WsConnection.open("/v5/public/spot", "", "public", still.faults)
    with conn.scope:
        await still.dialect.on_ws_open(conn)
        await still.dialect.on_ws_binary(conn, b"\xff\xfe not json")
        await still.dialect.on_ws_binary(conn, json.dumps({"op": "ping", "req_id": "b"}).encode())
    answers = [json.loads(conn.outgoing_rx.receive_nowait()) for _ in range(2)]
    assert [(a["success"], a["ret_msg"]) for a in answers] == [(False, "error:request not json"), (True, "pong")]
    still.dialect.on_ws_close(conn)
