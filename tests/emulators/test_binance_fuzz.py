"""A hypothesis fuzz of what clients send the Binance emulator: parameters, bodies and websocket frames.

However malformed, nothing gets a 500 or a websocket 1011: every HTTP answer is Binance's JSON (a result, or
``{"code", "msg"}`` with a 4xx), every control frame is answered in Binance's words, and the connection
stays usable. The emulator runs on trio in its own thread; the fuzz drives it with synchronous clients.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from emulators import EmulatedVenue
from emulators.binance import routes
from tests.support.threaded import emulator_thread

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def venue() -> Iterator[EmulatedVenue]:
    def unlimited(emulated: EmulatedVenue) -> None:
        emulated.dialect.enforce_limits = False  # the fuzz sends far more than a minute's weight

    with emulator_thread("binance", seed=9, prepare=unlimited) as emulated:
        yield emulated


names = st.sampled_from(["symbol", "limit", "startTime", "endTime", "orderId", "symbols", "interval", "side",
                         "type", "quantity", "price", "timeInForce", "fromId", "timestamp", "signature",
                         "recvWindow", "newClientOrderId", "quoteOrderQty", "type"]) | st.text(max_size=8)
values = st.text(max_size=30) | st.sampled_from(["BTCUSDT", "-1", "0", "1e309", "9" * 30, "[bad", '["BTCUSDT"]',
                                                  "1m", "NaN", "", "%ff", "1000000000"])
routes_served = st.sampled_from(sorted(routes.ROUTES))


def assert_binance_answer(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 410:
        assert "410 Gone" in response.text
        return
    body = response.json()
    if response.status_code != 200:
        assert set(body) == {"code", "msg"} and isinstance(body["code"], int), body


@FUZZ
@given(route=routes_served, params=st.lists(st.tuples(names, values), max_size=6),
       body=st.binary(max_size=60) | st.text(max_size=60).map(str.encode))
def test_no_parameter_or_body_gets_a_500(venue: EmulatedVenue, route: tuple[str, str],
                                         params: list[tuple[str, str]], body: bytes) -> None:
    method, path = route
    query = "&".join(f"{quote(name)}={quote(value)}" for name, value in params)
    response = httpx.request(method, f"{venue.rest_url}{path}?{query}", content=body, timeout=10,
                             headers={"X-MBX-APIKEY": venue.api_key,
                                      "Content-Type": "application/x-www-form-urlencoded"})
    assert_binance_answer(response)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                      max_size=4), max_leaves=12)
frames = (st.fixed_dictionaries({"method": st.sampled_from(["SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS",
                                                             "SET_PROPERTY", "GET_PROPERTY", "FOO"]) | json_values,
                                 "params": json_values, "id": json_values}).map(json.dumps)
          | json_values.map(json.dumps) | st.text(max_size=40)
          | st.integers(1, 200_000).map(lambda depth: "[" * depth))


def exchange(ws: ClientConnection, frame: str | bytes) -> object:
    ws.send(frame)
    return json.loads(ws.recv(timeout=10))


@FUZZ
@given(frame=frames | st.binary(max_size=40))
def test_no_market_stream_frame_gets_a_1011(venue: EmulatedVenue, frame: str | bytes) -> None:
    with connect(f"{venue.ws_url}/ws", max_size=None) as ws:
        try:
            answer = exchange(ws, frame)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code != 1011, closed
            return
        assert isinstance(answer, dict) and "id" in answer and ("result" in answer or "error" in answer), answer
        assert exchange(ws, json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}))  # still usable


api_frames = (st.fixed_dictionaries({"id": json_values, "method": st.sampled_from(
    ["ping", "time", "depth", "order.place", "order.cancel", "session.logon", "userDataStream.subscribe.signature",
     "userDataStream.unsubscribe", "klines", "nothing"]) | json_values, "params": json_values}).map(json.dumps)
    | json_values.map(json.dumps) | st.text(max_size=40) | st.integers(1, 200_000).map(lambda depth: "{\"a\":" * depth))


@FUZZ
@given(frame=api_frames | st.binary(max_size=40))
def test_no_websocket_api_frame_gets_a_1011(venue: EmulatedVenue, frame: str | bytes) -> None:
    with connect(f"{venue.ws_url}/ws-api/v3", max_size=None) as ws:
        answer = exchange(ws, frame)
        assert isinstance(answer, dict) and "status" in answer and answer["status"] < 500, answer
        assert ("result" in answer) != ("error" in answer), answer
        assert exchange(ws, json.dumps({"id": 1, "method": "ping"}))  # still usable
