"""The Binance emulator refuses what it does not serve, in Binance's words, and serves what common clients use.

Each refusal is checked against the wording of Binance's spot docs (errors.md, web-socket-streams.md,
web-socket-api docs, 2026): unknown paths, unread and duplicated parameters, malformed values, unknown
streams and malformed control frames, the WebSocket API's envelopes. Virtual clock (autojump) where time
matters; loopback only; every wait bounded.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import trio
import trio_websocket
import wsproto
import wsproto.events

from emulators import EmulatedVenue
from emulators.binance import routes
from emulators.binance.ws import ARRAY_STREAMS, KLINE_NAME, PLAIN_STREAMS
from emulators.binance.wsapi import METHODS
from emulators.engine.routing import Auth
from tests.emulators.conftest import signed_query

FORM = "application/x-www-form-urlencoded"


def http(venue: EmulatedVenue) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=venue.rest_url, timeout=10, headers={"X-MBX-APIKEY": venue.api_key})


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def signed(client: httpx.AsyncClient, venue: EmulatedVenue, method: str, path: str,
                 **params: str) -> httpx.Response:
    query = signed_query(venue.api_secret, params)
    return await client.request(method, f"{path}?{query}")


# ====================================================================== REST refusals
async def test_every_unserved_path_is_minus_1000_404(venue: EmulatedVenue) -> None:
    async with http(venue) as client:
        for method, path in [("GET", "/api/v3/nothing"), ("PATCH", "/api/v3/order"), ("GET", "/api/v1/ping"),
                             ("POST", "/api/v3/ping"), ("GET", "/sapi/v1/margin/allPairs"), ("GET", "/")]:
            response = await client.request(method, path)
            assert response.status_code == 404
            assert response.json() == {"code": -1000, "msg": f"Unknown endpoint {method} {path}"}


async def test_every_route_refuses_a_parameter_it_does_not_read(venue: EmulatedVenue) -> None:
    """Walk the whole route table: one extra name is -1104 with Binance's read/sent counts."""
    async with http(venue) as client:
        for (method, path), route in routes.ROUTES.items():
            if path == "/api/v3/userDataStream":
                continue
            params = {"bogus": "1"}
            if route.auth is Auth.SIGNED:
                response = await signed(client, venue, method, path, **params)
                sent = 3  # bogus, timestamp, signature
            else:
                response = await client.request(method, path, params=params)
                sent = 1
            assert response.json() == {"code": -1104, "msg": "Not all sent parameters were read; read "
                                       f"'{sent - 1}' parameter(s) but was sent '{sent}'."}, (method, path)


async def test_duplicates_are_minus_1101_and_the_query_string_wins_over_the_body(venue: EmulatedVenue) -> None:
    async with http(venue) as client:
        twice = await client.get("/api/v3/depth?symbol=BTCUSDT&limit=5&limit=10")
        assert twice.json() == {"code": -1101, "msg": "Duplicate values for a parameter detected."}
        query = urlencode({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                           "quantity": "0.001", "price": "30000"})
        body = urlencode({"quantity": "0.002", "quantity2": "x"}).replace("quantity2=x", "quantity=0.003")
        response = await client.post(f"/api/v3/order?{query}", content=body, headers={"Content-Type": FORM})
        assert response.json()["code"] == -1101  # quantity twice in the body
        body = urlencode({"quantity": "0.5", "timestamp": str(now_ms())})
        signature = hmac.new(venue.api_secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
        placed = await client.post(f"/api/v3/order?{query}", content=f"{body}&signature={signature}",
                                   headers={"Content-Type": FORM})
        assert placed.status_code == 200, placed.text
        assert placed.json()["origQty"] == "0.00100000"  # the query string's quantity, as documented


async def test_malformed_values_get_typed_errors_never_a_500(venue: EmulatedVenue) -> None:
    whole = "'^[0-9]{1,20}$'"
    async with http(venue) as client:
        cases = [
            (await client.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "abc"}),
             {"code": -1100, "msg": f"Illegal characters found in parameter 'limit'; legal range is {whole}."}),
            (await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", "startTime": "abc"}),
             {"code": -1100, "msg": f"Illegal characters found in parameter 'startTime'; legal range is {whole}."}),
            (await signed(client, venue, "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId="abc"),
             {"code": -1100, "msg": f"Illegal characters found in parameter 'orderId'; legal range is {whole}."}),
            (await client.get("/api/v3/ticker/price", params={"symbols": "[bad"}),
             {"code": -1100, "msg": "Illegal characters found in parameter 'symbols'; legal range is "
                                    "'^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'."}),
            (await client.get("/api/v3/ticker/price", params={"symbols": '["BTCUSDT","NOPE"]'}),
             {"code": -1121, "msg": "Invalid symbol."}),
            (await client.get("/api/v3/ticker/price", params={"symbols": '["BTCUSDT","BTCUSDT"]'}),
             {"code": -1151, "msg": "Symbol is present multiple times in the list."}),
            (await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "7m"}),
             {"code": -1120, "msg": "Invalid interval."}),
            (await client.post("/api/v3/order", content=b"symbol=\xff\xfe", headers={"Content-Type": FORM}),
             {"code": -1100, "msg": "Illegal characters found in a parameter."}),
        ]
    for response, body in cases:
        assert (response.status_code, response.json()) == (400, body)


async def test_depth_limits_follow_the_docs(venue: EmulatedVenue) -> None:
    """"Default 100; maximum 5000. If limit > 5000, only 5000 entries will be returned" -- at weight 250."""
    async with http(venue) as client:
        huge = await client.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "1000000000"})
        small = await client.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "3"})
        zero = await client.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "0"})
    assert huge.status_code == 200 and len(huge.json()["bids"]) == 10  # every level the synthetic book has
    assert int(small.headers["x-mbx-used-weight-1m"]) - int(huge.headers["x-mbx-used-weight-1m"]) == 5
    assert len(small.json()["bids"]) == 3
    assert zero.json()["code"] == -1100


async def test_exchange_info_advertises_only_what_the_dialect_accepts(venue: EmulatedVenue) -> None:
    async with http(venue) as client:
        info = (await client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()["symbols"][0]
        assert info["orderTypes"] == ["LIMIT", "LIMIT_MAKER", "MARKET"]
        assert not any(info[flag] for flag in ("icebergAllowed", "ocoAllowed", "otoAllowed", "allowTrailingStop",
                                               "cancelReplaceAllowed", "amendAllowed", "pegInstructionsAllowed"))
        refused = {kind: (await signed(client, venue, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY",
                                       type=kind, quantity="0.001", stopPrice="70000")).json()
                   for kind in ("STOP_LOSS", "TAKE_PROFIT")}
        assert refused["STOP_LOSS"] == {"code": -2010, "msg": "Stop loss orders are not supported for this symbol."}
        assert refused["TAKE_PROFIT"]["code"] == -2010
        iceberg = await signed(client, venue, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                               timeInForce="GTC", quantity="0.01", price="30000", icebergQty="0.001")
        assert iceberg.json() == {"code": -2010, "msg": "Iceberg orders are not supported for this symbol."}


async def test_quote_order_qty_buys_never_overspend_and_fees_have_eight_decimals(venue: EmulatedVenue) -> None:
    async with http(venue) as client:
        spend = Decimal("60000")  # more than one synthetic level (0.5 BTC each)
        placed = (await signed(client, venue, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                               quoteOrderQty=str(spend))).json()
    assert Decimal(placed["cummulativeQuoteQty"]) <= spend
    assert len(placed["fills"]) >= 2
    for fill in placed["fills"]:
        assert -Decimal(fill["commission"]).normalize().as_tuple().exponent <= 8  # type: ignore[operator]
    logged = [f for f in venue.engine.fill_log if f.order_id == placed["orderId"] and f.symbol == "BTCUSDT"]
    assert sum((f.quote_quantity for f in logged), Decimal(0)) <= spend


async def test_wallet_reads_clients_make_at_start_up(venue: EmulatedVenue) -> None:
    async with http(venue) as client:
        fees = (await signed(client, venue, "GET", "/sapi/v1/asset/tradeFee", symbol="BTCUSDT"))
        assert fees.json() == [{"symbol": "BTCUSDT", "makerCommission": "0.001", "takerCommission": "0.001"}]
        assert "x-sapi-used-ip-weight-1m" in fees.headers
        coins = (await signed(client, venue, "GET", "/sapi/v1/capital/config/getall")).json()
        usdt = next(c for c in coins if c["coin"] == "USDT")
        assert Decimal(usdt["free"]) == venue.engine.balance("demo", "USDT")[0] and usdt["networkList"]
        assert (await signed(client, venue, "GET", "/sapi/v1/account/status")).json() == {"data": "Normal"}
        assert (await client.get("/sapi/v1/system/status")).json() == {"status": 0, "msg": "normal"}
        rates = (await signed(client, venue, "GET", "/api/v3/account/commission", symbol="ETHUSDT")).json()
        assert rates["standardCommission"]["taker"] == "0.00100000" and rates["symbol"] == "ETHUSDT"
        await signed(client, venue, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                     quantity="0.001")
        counts = (await signed(client, venue, "GET", "/api/v3/rateLimit/order")).json()
        assert [(c["interval"], c["count"]) for c in counts] == [("SECOND", 1), ("DAY", 1)]
        aggs = (await client.get("/api/v3/aggTrades", params={"symbol": "BTCUSDT", "limit": "3"})).json()
        state = venue.engine.symbols["BTCUSDT"]
        assert [a["a"] for a in aggs] == [t.trade_id for t in state.trades[-3:]]
        first = state.trades[0].trade_id
        old = (await client.get("/api/v3/historicalTrades", params={"symbol": "BTCUSDT", "fromId": str(first),
                                                                    "limit": "2"})).json()
        assert [t["id"] for t in old] == [t.trade_id for t in state.trades[:2]]


async def test_every_documented_kline_interval_is_served(venue: EmulatedVenue) -> None:
    await trio.sleep(0.6)  # a tick or two: one-second bars come from public trades
    async with http(venue) as client:
        for interval in routes.KLINE_INTERVALS:
            rows = (await client.get("/api/v3/klines", params={"symbol": "ETHUSDT", "interval": interval,
                                                                "limit": "2"})).json()
            assert rows and all(row[6] > row[0] for row in rows), interval
        shifted = (await client.get("/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "1d",
                                                               "timeZone": "8", "limit": "1"})).json()
        assert (shifted[0][0] + 8 * 3_600_000) % 86_400_000 == 0  # a UTC+8 day opens at 16:00 UTC


async def test_limits_are_per_ip_and_429s_say_when_to_retry(venue: EmulatedVenue) -> None:
    second_key, second_secret = venue.add_account("other")
    async with http(venue) as client:
        first = await client.get("/api/v3/exchangeInfo")
        query = signed_query(second_secret, {})
        other = await client.get(f"/api/v3/account?{query}", headers={"X-MBX-APIKEY": second_key})
        # another API key from the same IP uses the same weight budget
        assert int(other.headers["x-mbx-used-weight-1m"]) == int(first.headers["x-mbx-used-weight-1m"]) + 20
        for _ in range(30):
            response = await client.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "5000"})
            if response.status_code == 429:
                break
        assert response.status_code == 429
        assert response.json()["msg"] == ("Too much request weight used; current limit is 6000 request weight per "
                                          "1 MINUTE. Please use WebSocket Streams for live updates to avoid polling "
                                          "the API.")
        assert 1 <= int(response.headers["retry-after"]) <= 61


async def test_order_count_429_says_when_the_ten_second_window_reopens(venue: EmulatedVenue) -> None:
    async with http(venue) as client:
        for _ in range(3 * routes.ORDERS_10S):  # a 10 s window may turn over once during the loop
            placed = await signed(client, venue, "POST", "/api/v3/order", symbol="ETHUSDT", side="BUY",
                                  type="LIMIT", timeInForce="GTC", quantity="0.01", price="1000.00",
                                  newOrderRespType="ACK")
            if placed.status_code != 200:
                break
    assert placed.status_code == 429
    assert placed.json() == {"code": -1015, "msg": "Too many new orders; current limit is 100 orders per 10 SECOND."}
    assert 1 <= int(placed.headers["retry-after"]) <= 10
    assert placed.headers["x-mbx-order-count-10s"] == str(routes.ORDERS_10S + 1)


# ====================================================================== market streams
def stream_names() -> list[str]:
    names = [f"btcusdt@{kind}" for kind in sorted(PLAIN_STREAMS)]
    names += [f"ethusdt@kline_{interval}" for interval in routes.KLINE_INTERVALS]
    names += ["ethusdt@kline_1h@+08:00", *sorted(ARRAY_STREAMS)]
    return names


async def control(ws: trio_websocket.WebSocketConnection, message: Any) -> dict[str, Any]:
    await ws.send_message(message if isinstance(message, str) else json.dumps(message))
    while True:
        answer = json.loads(await ws.get_message())
        if isinstance(answer, dict) and ("result" in answer or "error" in answer):
            return answer


async def test_every_served_stream_subscribes_and_anything_else_is_refused(venue: EmulatedVenue,
                                                                            autojump_clock: trio.abc.Clock) -> None:
    async with trio_websocket.open_websocket_url(f"{venue.ws_url}/ws") as ws:
        for batch_start in range(0, len(stream_names()), 40):
            batch = stream_names()[batch_start:batch_start + 40]
            assert await control(ws, {"method": "SUBSCRIBE", "params": batch, "id": batch_start}) == \
                {"result": None, "id": batch_start}
            await trio.sleep(1)  # 5 control messages per second at most
        listed = await control(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1})
        assert listed["result"] == sorted(stream_names())
        invalid = {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 2}
        for name in ("btcusdt@miniticker", "!ticker@arr", "BTCUSDT@trade", "nopeusdt@trade", "btcusdt@kline_7m",
                     "btcusdt@depth15", "btcusdt@ticker_2h", "btcusdt@depth@250ms"):
            await trio.sleep(1)
            assert await control(ws, {"method": "SUBSCRIBE", "params": [name], "id": 2}) == invalid, name
        await trio.sleep(1)
        bogus = [f"bogus{n}@trade" for n in range(5000)]
        assert await control(ws, {"method": "SUBSCRIBE", "params": bogus, "id": 2}) == invalid
        assert (await control(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 3}))["result"] == sorted(stream_names())


async def test_malformed_control_frames_get_the_documented_errors(venue: EmulatedVenue,
                                                                  autojump_clock: trio.abc.Clock) -> None:
    async with trio_websocket.open_websocket_url(f"{venue.ws_url}/ws") as ws:
        cases: list[tuple[Any, int, str]] = [
            ({"method": "SUBSCRIBE", "params": "notalist", "id": 1}, 2, "Invalid request: invalid type: string "
             '"notalist", expected a sequence'),
            ({"method": "FOO", "id": 1}, 2, "Invalid request: unknown variant `FOO`, expected one of `SUBSCRIBE`, "
             "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"),
            ({"params": [], "id": 1}, 2, "Invalid request: missing field `method`"),
            ({"method": "LIST_SUBSCRIPTIONS", "id": {"a": 1}}, 2, "Invalid request: request ID must be an unsigned "
             "integer"),
            ({"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 1}, 1,
             "Invalid value type: expected Boolean"),
            ({"method": "GET_PROPERTY", "params": ["other"], "id": 1}, 0, "Unknown property"),
            ("{not json", 3, "Invalid JSON: expected value"),
            ("[" * 100_000, 3, "Invalid JSON: recursion limit exceeded at line 1 column 129"),
        ]
        for message, code, words in cases:
            await trio.sleep(1)
            error = (await control(ws, message))["error"]
            assert error["code"] == code and error["msg"].startswith(words), (message if len(str(message)) < 99
                                                                              else "deep", error)
        await trio.sleep(1)
        await ws.send_message(b"\xff\xfe binary")
        assert json.loads(await ws.get_message())["error"]["code"] == 3
        await trio.sleep(1)
        assert await control(ws, {"method": "SET_PROPERTY", "params": ["combined", True], "id": 9}) == \
            {"result": None, "id": 9}
        assert await control(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 10}) == \
            {"result": True, "id": 10}


async def test_unknown_streams_in_the_url_are_refused_then_closed(venue: EmulatedVenue) -> None:
    for url in (f"{venue.ws_url}/ws/btcusdt@nothing", f"{venue.ws_url}/stream?streams=btcusdt@trade/!ticker@arr"):
        async with trio_websocket.open_websocket_url(url) as ws:
            with trio.fail_after(5):
                assert json.loads(await ws.get_message()) == {"error": {"code": 2, "msg": "Invalid request: invalid "
                                                                        "stream"}, "id": None}
                with pytest.raises(trio_websocket.ConnectionClosed) as closed:
                    await ws.get_message()
            assert closed.value.reason.code == 1008


async def test_more_than_five_control_messages_a_second_disconnect(venue: EmulatedVenue,
                                                                   autojump_clock: trio.abc.Clock) -> None:
    async with trio_websocket.open_websocket_url(f"{venue.ws_url}/ws") as ws:
        for n in range(6):
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": n}))
        with trio.fail_after(5), pytest.raises(trio_websocket.ConnectionClosed):
            while True:
                await ws.get_message()


async def test_streams_carry_documented_payloads(venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    names = ["btcusdt@miniTicker", "!miniTicker@arr", "btcusdt@depth", "btcusdt@avgPrice", "btcusdt@ticker_1h",
             "btcusdt@kline_1s", "btcusdt@kline_5m"]
    seen: dict[str, Any] = {}
    async with trio_websocket.open_websocket_url(f"{venue.ws_url}/stream?streams={'/'.join(names)}") as ws:
        with trio.fail_after(30):
            while set(seen) != set(names):
                envelope = json.loads(await ws.get_message())
                seen.setdefault(envelope["stream"], envelope["data"])
    assert set(seen["btcusdt@miniTicker"]) == {"e", "E", "s", "c", "o", "h", "l", "v", "q"}
    assert seen["!miniTicker@arr"][0]["e"] == "24hrMiniTicker"
    assert seen["btcusdt@depth"]["U"] <= seen["btcusdt@depth"]["u"]
    assert seen["btcusdt@avgPrice"]["i"] == "5m"
    assert seen["btcusdt@ticker_1h"]["e"] == "1hTicker"
    assert (seen["btcusdt@kline_1s"]["k"]["i"], seen["btcusdt@kline_5m"]["k"]["i"]) == ("1s", "5m")


async def test_depth_events_chain_and_include_our_own_taker_orders(venue: EmulatedVenue,
                                                                   autojump_clock: trio.abc.Clock) -> None:
    """Every book change has its own update id; the diff stream's U..u chain has no gap, a taker's change
    included, and REST lastUpdateId is the same counter."""
    events: list[dict[str, Any]] = []
    async with trio_websocket.open_websocket_url(f"{venue.ws_url}/ws/btcusdt@depth@100ms") as ws, http(venue) as client:
        with trio.fail_after(30):
            events.append(json.loads(await ws.get_message()))
            before = venue.dialect.feeds.update_id(venue.engine.symbols["BTCUSDT"])
            placed = await signed(client, venue, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY",
                                  type="MARKET", quantity="0.6")
            assert placed.status_code == 200
            after = venue.dialect.feeds.update_id(venue.engine.symbols["BTCUSDT"])
            assert after > before  # the taker's change took an update id
            snapshot = (await client.get("/api/v3/depth", params={"symbol": "BTCUSDT"})).json()
            assert snapshot["lastUpdateId"] >= after
            while events[-1]["u"] < after + 2:
                events.append(json.loads(await ws.get_message()))
    ids = [(e["U"], e["u"]) for e in events]
    assert all(later[0] == earlier[1] + 1 for earlier, later in itertools.pairwise(ids)), ids
    taker = next(e for e in events if e["u"] == after)
    assert taker["a"] and not taker["b"]  # the buy took asks


async def test_klines_close_with_x_true_at_the_end_of_each_interval(venue: EmulatedVenue,
                                                                    autojump_clock: trio.abc.Clock,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Wall time follows trio's clock here, so minutes pass; each bar's last update says ``"x": true``."""
    start_wall, start_trio = time.time(), trio.current_time()
    fake = lambda: int((start_wall + trio.current_time() - start_trio) * 1000)  # noqa: E731
    monkeypatch.setattr("emulators.engine.prices.wall_ms", fake)
    monkeypatch.setattr("emulators.binance.ws.wall_ms", fake)
    closed: dict[str, list[dict[str, Any]]] = {"1m": [], "3m": []}
    async with trio_websocket.open_websocket_url(
            f"{venue.ws_url}/stream?streams=ethusdt@kline_1m/ethusdt@kline_3m") as ws:
        with trio.fail_after(600):
            while len(closed["1m"]) < 3 or not closed["3m"]:
                kline = json.loads(await ws.get_message())["data"]["k"]
                if kline["x"]:
                    closed[kline["i"]].append(kline)
    opens = [k["t"] for k in closed["1m"]]
    assert opens == sorted(set(opens)) and all(b - a == 60_000 for a, b in itertools.pairwise(opens))
    assert all(k["T"] == k["t"] + 59_999 for k in closed["1m"]) and closed["3m"][0]["T"] - closed["3m"][0]["t"] == \
        179_999


# ====================================================================== keep-alive and the connection limit
async def raw_client(venue: EmulatedVenue, path: str) -> tuple[trio.SocketStream, wsproto.WSConnection]:
    """A websocket client that never answers pings (trio-websocket always does)."""
    stream = await trio.open_tcp_stream("127.0.0.1", int(venue.ws_url.rsplit(":", 1)[1]))
    connection = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    await stream.send_all(connection.send(wsproto.events.Request(host="127.0.0.1", target=path)))
    return stream, connection


async def test_a_client_that_does_not_answer_pings_is_disconnected(venue: EmulatedVenue,
                                                                   autojump_clock: trio.abc.Clock) -> None:
    stream, connection = await raw_client(venue, "/ws/btcusdt@trade")
    pings, closed_at = [], None
    started = trio.current_time()
    with trio.fail_after(300):
        while closed_at is None:
            data = await stream.receive_some()
            if not data:
                closed_at = trio.current_time()
                break
            connection.receive_data(data)
            for event in connection.events():
                if isinstance(event, wsproto.events.Ping):
                    pings.append((trio.current_time() - started, bytes(event.payload)))
                elif isinstance(event, wsproto.events.CloseConnection):
                    closed_at = trio.current_time()
    assert pings and 19 <= pings[0][0] <= 21  # the first ping after 20 s
    assert len({payload for _, payload in pings}) == len(pings)  # each ping carries its own payload
    assert closed_at is not None and 60 <= closed_at - started - pings[0][0] <= 80


async def test_a_client_that_answers_pings_stays_connected(venue: EmulatedVenue,
                                                           autojump_clock: trio.abc.Clock) -> None:
    async with trio_websocket.open_websocket_url(f"{venue.ws_url}/ws/btcusdt@bookTicker") as ws:
        await trio.sleep(300)
        with trio.fail_after(5):
            assert "u" in json.loads(await ws.get_message())


async def test_the_24_hour_limit_is_a_fault_to_inject(venue: EmulatedVenue) -> None:
    async with trio_websocket.open_websocket_url(f"{venue.ws_url}/ws/btcusdt@trade") as ws:
        with trio.fail_after(5):
            await ws.get_message()
            venue.faults.expire_connections("public")
            with pytest.raises(trio_websocket.ConnectionClosed):
                while True:
                    await ws.get_message()
    assert "expire public" in venue.faults.log


# ====================================================================== the WebSocket API
def ws_api_signed(venue: EmulatedVenue, **params: Any) -> dict[str, Any]:
    params = {**params, "apiKey": venue.api_key, "timestamp": now_ms()}
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    return {**params, "signature": hmac.new(venue.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()}


EVENTS: list[dict[str, Any]] = []  # user data events that arrived while a test waited for an answer


async def request(ws: trio_websocket.WebSocketConnection, ident: Any, method: str, **params: Any) -> dict[str, Any]:
    await ws.send_message(json.dumps({"id": ident, "method": method, "params": params}))
    while True:
        answer = json.loads(await ws.get_message())
        if answer.get("id") == ident and "status" in answer:
            return answer
        EVENTS.append(answer)


async def next_event(ws: trio_websocket.WebSocketConnection) -> dict[str, Any]:
    return EVENTS.pop(0) if EVENTS else json.loads(await ws.get_message())


def test_the_documented_websocket_api_signature_reproduces() -> None:
    """"SIGNED request example (HMAC)" of the WebSocket API docs: sorted parameters, HMAC-SHA256, hex."""
    payload = ("apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&"
               "quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&"
               "timestamp=1645423376532&type=LIMIT")
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    assert hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest() == \
        "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"


async def test_websocket_api_user_data_orders_and_envelopes(venue: EmulatedVenue) -> None:
    async with trio_websocket.open_websocket_url(f"{venue.ws_url}/ws-api/v3") as ws, http(venue) as client:
        with trio.fail_after(20):
            pong = await request(ws, 1, "ping")
            assert pong["status"] == 200 and pong["result"] == {}
            assert pong["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
            quiet = await request(ws, 2, "time", returnRateLimits=False)
            assert "rateLimits" not in quiet and quiet["result"]["serverTime"] > 0
            logon = await request(ws, 3, "session.logon", **ws_api_signed(venue))
            assert logon["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}
            bad = await request(ws, 4, "userDataStream.subscribe.signature",
                                **{**ws_api_signed(venue), "signature": "00" * 32})
            assert (bad["status"], bad["error"]["code"]) == (400, -1022)
            subscribed = await request(ws, 5, "userDataStream.subscribe.signature", **ws_api_signed(venue))
            assert subscribed["result"] == {"subscriptionId": 0}
            again = await request(ws, 6, "userDataStream.subscribe.signature", **ws_api_signed(venue))
            assert again["error"]["code"] == -1000
            status = await request(ws, 7, "session.status")
            assert status["result"]["userDataStream"] is True and status["result"]["apiKey"] is None
            placed = (await signed(client, venue, "POST", "/api/v3/order", symbol="BTCUSDT", side="SELL",
                                   type="MARKET", quantity="0.6")).json()
            EVENTS.clear()
            reports: list[dict[str, Any]] = []
            while not reports or reports[-1]["X"] not in ("FILLED", "EXPIRED"):
                message = await next_event(ws)
                assert message["subscriptionId"] == 0
                if message["event"]["e"] == "executionReport":
                    reports.append(message["event"])
            assert reports[0]["i"] == placed["orderId"] and reports[0]["x"] == "NEW"
            logged = [f for f in venue.engine.fill_log if f.order_id == placed["orderId"] and f.symbol == "BTCUSDT"]
            assert [r["t"] for r in reports if r["x"] == "TRADE"] == [f.trade_id for f in logged]
            venue.dialect.deposit("demo", "USDT", Decimal("5"))
            kinds = []
            while "outboundAccountPosition" not in kinds or "balanceUpdate" not in kinds:
                kinds.append((await next_event(ws))["event"]["e"])
            resting = await request(ws, 8, "order.place", **ws_api_signed(
                venue, symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.1",
                price="1000.00", newClientOrderId="wsapi-1"))
            assert resting["result"]["status"] == "NEW"
            assert {r["rateLimitType"] for r in resting["rateLimits"]} == {"ORDERS", "REQUEST_WEIGHT"}
            listed = await request(ws, 9, "openOrders.status", **ws_api_signed(venue, symbol="ETHUSDT"))
            assert [o["clientOrderId"] for o in listed["result"]] == ["wsapi-1"]
            cancelled = await request(ws, 10, "order.cancel", **ws_api_signed(
                venue, symbol="ETHUSDT", origClientOrderId="wsapi-1", newClientOrderId="wsapi-cancel"))
            assert cancelled["result"]["clientOrderId"] == "wsapi-cancel"
            while True:
                event = (await next_event(ws))["event"]
                if event["e"] == "executionReport" and event["X"] == "CANCELED":
                    break
            assert (event["c"], event["C"]) == ("wsapi-cancel", "wsapi-1")  # c is the cancel's id, C the order's
            state = await request(ws, 11, "order.status", **ws_api_signed(venue, symbol="ETHUSDT",
                                                                          origClientOrderId="wsapi-1"))
            assert state["result"]["status"] == "CANCELED"
            ended = await request(ws, 12, "userDataStream.unsubscribe")
            assert ended["result"] == {}
            assert (await request(ws, 13, "session.subscriptions"))["result"] == []


async def test_websocket_api_refusals(venue: EmulatedVenue) -> None:
    async with trio_websocket.open_websocket_url(f"{venue.ws_url}/ws-api/v3") as ws:
        with trio.fail_after(20):
            assert (await request(ws, 1, "userDataStream.start", apiKey=venue.api_key))["error"]["code"] == -1020
            assert (await request(ws, 2, "nothing.here"))["error"] == {"code": -1020,
                                                                        "msg": "This operation is not supported."}
            unread = await request(ws, 3, "depth", symbol="BTCUSDT", bogus=1)
            assert unread["error"]["code"] == -1104
            missing = await request(ws, 4, "order.place", symbol="BTCUSDT")
            assert missing["error"] == {"code": -1102, "msg": "Mandatory parameter 'apiKey' was not sent, was "
                                        "empty/null, or malformed."}
            assert (await request(ws, 5, "userDataStream.subscribe"))["error"]["code"] == -2015
            await ws.send_message("{broken")
            assert json.loads(await ws.get_message())["error"]["code"] == -1135
            await ws.send_message(json.dumps({"id": 6, "method": "ping", "params": "notanobject"}))
            assert json.loads(await ws.get_message())["error"] == {
                "code": -1135, "msg": "Invalid 'params' in JSON request; expected an object."}
            await ws.send_message("[" * 100_000)
            assert json.loads(await ws.get_message())["error"]["code"] == -1135
            await ws.send_message(b"\x00\x01binary")
            assert json.loads(await ws.get_message())["error"]["code"] == -1135


def test_the_method_table_covers_what_python_binance_calls() -> None:
    """The user socket of python-binance subscribes with userDataStream.subscribe.signature; its ws_* order
    calls use order.place / order.cancel / order.status / openOrders.status."""
    for method in ("userDataStream.subscribe.signature", "userDataStream.unsubscribe", "order.place",
                   "order.cancel", "order.status", "openOrders.status", "session.status", "time", "ping"):
        assert method in METHODS
    assert KLINE_NAME.match("kline_1M") and KLINE_NAME.match("kline_1s@+08:00")
