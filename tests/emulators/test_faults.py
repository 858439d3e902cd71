"""Fault injection on a running emulator: each fault does what the fault API promises, and only that.

Runs on trio's virtual clock (`autojump_clock`): delays and timeouts are virtual seconds, so the
tests are fast and deterministic; assertions compare virtual times, never real durations.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from decimal import Decimal

import httpx
import pytest
import trio
import trio_websocket

from emulators import EmulatedVenue
from tests.emulators.conftest import signed_query
from tests.emulators.test_binance_wire import subscribe_user_data


def client(venue: EmulatedVenue, timeout: float = 5.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=venue.rest_url, timeout=timeout)


async def next_json(ws: trio_websocket.WebSocketConnection) -> dict[str, object]:
    with trio.fail_after(30):
        message = json.loads(await ws.get_message())
    assert isinstance(message, dict)
    return message


async def trade_stream(nursery: trio.Nursery, venue: EmulatedVenue) -> trio_websocket.WebSocketConnection:
    """A raw `btcusdt@trade` stream, already delivering."""
    ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/ws/btcusdt@trade")
    assert (await next_json(ws))["e"] == "trade"
    return ws


async def test_http_error_answers_with_binance_body_and_retry_after_then_recovers(
        venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    venue.faults.http_error(429, count=2, retry_after=7)
    async with client(venue) as http:
        for _ in range(2):
            response = await http.get("/api/v3/ping")
            assert response.status_code == 429
            assert response.headers["retry-after"] == "7"
            assert response.json()["code"] == -1003
        assert (await http.get("/api/v3/ping")).status_code == 200


async def test_http_error_with_a_path_spares_other_paths(venue: EmulatedVenue,
                                                         autojump_clock: trio.abc.Clock) -> None:
    venue.faults.http_error(503, count=1, path="/api/v3/order")
    async with client(venue) as http:
        assert (await http.get("/api/v3/time")).status_code == 200
        query = signed_query(venue.api_secret, {"symbol": "BTCUSDT", "orderId": "1"})
        failed = await http.get(f"/api/v3/order?{query}", headers={"X-MBX-APIKEY": venue.api_key})
        assert failed.status_code == 503 and "code" in failed.json()
        query = signed_query(venue.api_secret, {"symbol": "BTCUSDT", "orderId": "1"})
        after = await http.get(f"/api/v3/order?{query}", headers={"X-MBX-APIKEY": venue.api_key})
        assert after.status_code == 400 and after.json()["code"] == -2013  # the real answer is back


async def test_refused_connections_are_transport_errors_and_drop_streams(
        venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        ws = await trade_stream(nursery, venue)
        venue.faults.refuse_connections(True)
        with pytest.raises(trio_websocket.ConnectionClosed):
            for _ in range(1000):  # what was already in flight may still arrive; then it closes
                await next_json(ws)
        async with client(venue) as http:
            with pytest.raises(httpx.TransportError):
                await http.get("/api/v3/ping")
        with pytest.raises((trio_websocket.HandshakeError, OSError)):
            await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/ws/btcusdt@trade")
        venue.faults.refuse_connections(False)
        await trio.sleep(1)
        async with client(venue) as http:
            assert (await http.get("/api/v3/ping")).status_code == 200
        nursery.cancel_scope.cancel()


async def test_slow_responses_delay_exactly_count_answers(venue: EmulatedVenue,
                                                          autojump_clock: trio.abc.Clock) -> None:
    venue.faults.slow_responses(30, count=1)
    async with client(venue, timeout=60) as http:
        start = trio.current_time()
        assert (await http.get("/api/v3/ping")).status_code == 200
        slowed = trio.current_time() - start
        start = trio.current_time()
        assert (await http.get("/api/v3/ping")).status_code == 200
        normal = trio.current_time() - start
    assert slowed >= 30 > normal


async def test_lost_response_still_executes_the_order(venue: EmulatedVenue,
                                                      autojump_clock: trio.abc.Clock) -> None:
    venue.faults.lose_responses(1, path="/api/v3/order")
    body = signed_query(venue.api_secret, {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                           "quantity": "0.001", "newClientOrderId": "lost-1"})
    async with client(venue, timeout=10) as http:
        with pytest.raises(httpx.TimeoutException):
            await http.post("/api/v3/order", content=body, headers={
                "X-MBX-APIKEY": venue.api_key, "Content-Type": "application/x-www-form-urlencoded"})
    placed = venue.engine.find("BTCUSDT", client_order_id="lost-1", account="demo")
    assert placed.status == "FILLED"
    assert sum((f.quantity for f in venue.engine.fill_log if f.client_order_id == "lost-1"), Decimal(0)) \
        == Decimal("0.001")


async def test_drop_streams_closes_only_the_kind_asked(venue: EmulatedVenue,
                                                       autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        public = await trade_stream(nursery, venue)
        private = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/ws-api/v3")
        await subscribe_user_data(venue, private)
        venue.faults.drop_streams("public")
        with pytest.raises(trio_websocket.ConnectionClosed):
            for _ in range(1000):
                await next_json(public)
        venue.engine.place("demo", "BTCUSDT", "BUY", "MARKET", Decimal("0.001"), None, "GTC", "after-drop")
        assert (await next_json(private))["event"]["e"] == "executionReport"  # the private stream lives on
        await private.aclose()
        nursery.cancel_scope.cancel()


async def test_duplicate_messages_sends_the_next_one_twice(venue: EmulatedVenue,
                                                           autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        ws = await trade_stream(nursery, venue)
        venue.faults.duplicate_messages(1, "public")
        ids = [(await next_json(ws))["t"] for _ in range(12)]
        repeats = [a for a, b in itertools.pairwise(ids) if a == b]
        assert len(repeats) == 1 and len(set(ids)) == len(ids) - 1
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_reorder_messages_swaps_one_adjacent_pair(venue: EmulatedVenue,
                                                        autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        ws = await trade_stream(nursery, venue)
        venue.faults.reorder_messages(1, "public")
        ids = [int(str((await next_json(ws))["t"])) for _ in range(12)]
        inversions = [i for i in range(len(ids) - 1) if ids[i] > ids[i + 1]]
        assert len(inversions) == 1
        i = inversions[0]
        swapped = [*ids[:i], ids[i + 1], ids[i], *ids[i + 2:]]
        assert swapped == sorted(ids) and len(set(ids)) == len(ids)  # nothing lost, nothing added
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_stall_sends_nothing_then_drops(venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        ws = await trade_stream(nursery, venue)
        venue.faults.stall_streams(20, "public")
        stalled_at = trio.current_time()
        received_late: list[float] = []
        with pytest.raises(trio_websocket.ConnectionClosed):
            for _ in range(1000):
                await next_json(ws)
                received_late.append(trio.current_time() - stalled_at)
        assert trio.current_time() - stalled_at >= 20
        assert all(delay < 1 for delay in received_late)  # only what was already on the wire
        nursery.cancel_scope.cancel()


async def test_clear_undoes_pending_faults(venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    venue.faults.http_error(500, count=5)
    venue.faults.slow_responses(100, count=5)
    venue.faults.refuse_connections(True)
    venue.faults.clear()
    await trio.sleep(1)
    async with client(venue, timeout=10) as http:
        start = trio.current_time()
        assert (await http.get("/api/v3/ping")).status_code == 200
        assert trio.current_time() - start < 100


# ------------------------------------------------------------------------------ order entry (issue 11)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def market_order(venue: EmulatedVenue, cid: str, **extra: str) -> str:
    return signed_query(venue.api_secret, {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                           "quantity": "0.001", "newClientOrderId": cid, **extra})


def placed(venue: EmulatedVenue, cid: str) -> list[object]:
    return [o for o in venue.engine.all_orders() if o.client_order_id == cid]


async def test_a_slowed_order_executes_after_the_clients_timeout(venue: EmulatedVenue,
                                                                 autojump_clock: trio.abc.Clock) -> None:
    venue.faults.slow_responses(3, count=1, path="/api/v3/order", method="POST")
    async with client(venue, timeout=1) as http:
        assert (await http.get("/api/v3/ping")).status_code == 200  # another path: not slowed
        with pytest.raises(httpx.TimeoutException):
            await http.post("/api/v3/order", content=market_order(venue, "late-1"),
                            headers={"X-MBX-APIKEY": venue.api_key, **FORM})
        assert placed(venue, "late-1") == []  # not yet...
        await trio.sleep(3)
    assert len(placed(venue, "late-1")) == 1  # ...but it executes, after the client gave up


async def test_a_signed_request_held_past_its_recv_window_is_refused_when_it_executes(
        venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    """Binance checks timestamp + recvWindow on arrival and again before forwarding to its matching engine."""
    venue.faults.slow_responses(6, count=1, path="/api/v3/order")
    async with client(venue, timeout=60) as http:
        answer = await http.post("/api/v3/order", content=market_order(venue, "stale-1", recvWindow="5000"),
                                 headers={"X-MBX-APIKEY": venue.api_key, **FORM})
    assert answer.status_code == 400 and answer.json()["code"] == -1021
    assert placed(venue, "stale-1") == []


async def test_reset_after_executing_cuts_the_answer_of_an_executed_request(
        venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    venue.faults.reset_after_executing(1, path="/api/v3/order", method="POST")
    async with client(venue, timeout=10) as http:
        with pytest.raises(httpx.TransportError):
            await http.post("/api/v3/order", content=market_order(venue, "reset-1"),
                            headers={"X-MBX-APIKEY": venue.api_key, **FORM})
        assert (await http.get("/api/v3/ping")).status_code == 200  # one request only
    assert len(placed(venue, "reset-1")) == 1


async def test_lose_responses_by_method_spares_the_others(venue: EmulatedVenue,
                                                          autojump_clock: trio.abc.Clock) -> None:
    venue.faults.lose_responses(1, path="/api/v3/order", method="DELETE")
    headers = {"X-MBX-APIKEY": venue.api_key}
    async with client(venue, timeout=5) as http:
        resting = signed_query(venue.api_secret, {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                  "timeInForce": "GTC", "quantity": "0.001", "price": "10000",
                                                  "newClientOrderId": "rest-1"})
        assert (await http.post("/api/v3/order", content=resting, headers={**headers, **FORM})).status_code == 200
        query = signed_query(venue.api_secret, {"symbol": "BTCUSDT", "origClientOrderId": "rest-1"})
        assert (await http.get(f"/api/v3/order?{query}", headers=headers)).status_code == 200
        with pytest.raises(httpx.TimeoutException):
            query = signed_query(venue.api_secret, {"symbol": "BTCUSDT", "origClientOrderId": "rest-1"})
            await http.delete(f"/api/v3/order?{query}", headers=headers)
    assert [o.status for o in placed(venue, "rest-1")] == ["CANCELED"]  # cancelled, answer lost


async def test_the_venue_cancels_open_orders_on_its_own(venue: EmulatedVenue, autojump_clock: trio.abc.Clock) -> None:
    venue.engine.place("demo", "BTCUSDT", "BUY", "LIMIT", Decimal("0.001"), Decimal("10000"), "GTC", "own-1")
    assert venue.faults.venue_cancels_open_orders("demo") == 1
    assert [o.status for o in placed(venue, "own-1")] == ["CANCELED"]
    assert venue.faults.venue_cancels_open_orders("demo") == 0


async def test_websocket_api_order_faults_go_by_method_name(venue: EmulatedVenue,
                                                            autojump_clock: trio.abc.Clock) -> None:
    """Slowed (and refused past its window when it executes), lost (executed, no answer), reset (executed, the
    connection dropped): the WebSocket API takes the faults REST does, by method name."""

    def order_place(cid: str) -> str:
        params: dict[str, object] = {"apiKey": venue.api_key, "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                     "quantity": "0.001", "newClientOrderId": cid, "recvWindow": 5000,
                                     "timestamp": time.time_ns() // 1_000_000}
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
        params["signature"] = hmac.new(venue.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        return json.dumps({"id": cid, "method": "order.place", "params": params})

    async with trio.open_nursery() as nursery:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/ws-api/v3")
        venue.faults.slow_responses(6, count=1, path="order.place")
        await ws.send_message(order_place("ws-stale"))
        answer = await next_json(ws)
        assert answer["id"] == "ws-stale" and answer["error"]["code"] == -1021  # type: ignore[index]
        venue.faults.lose_responses(1, path="order.place")
        await ws.send_message(order_place("ws-lost"))
        await ws.send_message(order_place("ws-next"))
        assert (await next_json(ws))["id"] == "ws-next"  # the lost one executed without an answer
        venue.faults.reset_after_executing(1, path="order.place")
        await ws.send_message(order_place("ws-reset"))
        with pytest.raises(trio_websocket.ConnectionClosed):
            await next_json(ws)
        nursery.cancel_scope.cancel()
    assert placed(venue, "ws-stale") == []
    assert [len(placed(venue, cid)) for cid in ("ws-lost", "ws-next", "ws-reset")] == [1, 1, 1]
