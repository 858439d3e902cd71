"""A fuzz of the Bybit emulator's front door: random parameters, bodies and websocket frames never get a 500
and never close a websocket (no 1011): every answer is Bybit's envelope, an empty 404, or a ``success: false``
frame, and the connection still answers a ping afterwards.

The emulator runs in a thread on the real clock with prices frozen; hypothesis drives a synchronous HTTP client
and websocket-client against it. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
import websocket
from hypothesis import given, settings
from hypothesis import strategies as st

from emulators import EmulatedVenue
from emulators.bybit import routes, ws
from tests.emulators.test_bybit_wire import sign_headers
from tests.support.threaded import emulator_thread

PATHS = sorted({path for _, path in routes.ROUTES})
NAMES = sorted({name for endpoint in routes.ROUTES.values() for name in endpoint.params})
TOPIC_WORDS = ["orderbook", "publicTrade", "tickers", "kline", "order", "execution", "position", "wallet", "50", "1",
               "D", "BTCUSDT", "ETHUSDT", "BTCUSD", "spot", "linear", "NOPE", ""]


@pytest.fixture(scope="module")
def venue() -> Iterator[EmulatedVenue]:
    with emulator_thread("bybit", seed=9, tick_interval=3600) as emulated:
        emulated.dialect.enforce_limits = False  # the fuzz is a flood; limits are tested elsewhere
        yield emulated


@pytest.fixture(scope="module")
def http(venue: EmulatedVenue) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=venue.rest_url, timeout=10) as client:
        yield client


scalars = st.one_of(
    st.text(max_size=30), st.sampled_from(["", "0", "1", "-1", "1e999999", "NaN", "Infinity", "9" * 5000, "0.0000001",
                                           "spot", "linear", "inverse", "option", "BTCUSDT", "Buy", "Limit",
                                           "Market", "UNIFIED", "60000", "0.01", "true", "PostOnly", "abc"]),
    st.integers(), st.floats(), st.booleans(), st.none())
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
names = st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=12))


plausible = st.one_of(
    st.sampled_from(["spot", "linear", "inverse", "option", "BTCUSDT", "ETHUSDT", "BTCUSD", "Buy", "Sell", "Limit",
                     "Market", "GTC", "IOC", "FOK", "PostOnly", "UNIFIED", "USDT", "BTC", "1", "5", "D", "0.001",
                     "0.01", "1", "100", "60000.0", "3200.00", "true", "false", "baseCoin", "quoteCoin", "0", "2",
                     "page%3D3", "Filled", "Trade", "10", "20"]),
    scalars)


# A valid call per route, which the fuzz then mutates (so the handlers, not only the front door, are reached).
BASES: dict[str, dict[str, str]] = {
    "/v5/market/instruments-info": {"category": "linear"}, "/v5/market/tickers": {"category": "spot"},
    "/v5/market/kline": {"category": "linear", "symbol": "BTCUSDT", "interval": "1"},
    "/v5/market/orderbook": {"category": "spot", "symbol": "BTCUSDT"},
    "/v5/market/recent-trade": {"category": "linear", "symbol": "ETHUSDT"},
    "/v5/account/wallet-balance": {"accountType": "UNIFIED"}, "/v5/account/fee-rate": {"category": "spot"},
    "/v5/position/list": {"category": "linear", "symbol": "BTCUSDT"},
    "/v5/position/set-leverage": {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "5",
                                  "sellLeverage": "5"},
    "/v5/order/create": {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
                         "qty": "0.01", "price": "60000.0"},
    "/v5/order/cancel": {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "x"},
    "/v5/order/cancel-all": {"category": "spot"}, "/v5/order/realtime": {"category": "spot"},
    "/v5/order/history": {"category": "linear"}, "/v5/execution/list": {"category": "spot"},
}


@st.composite
def rest_calls(draw: st.DrawFn) -> tuple[str, str, str, bytes]:
    """(method, path, query string, body): mostly a served route's valid call with a few of its parameters
    changed, dropped or added; sometimes anything at all."""
    if draw(st.integers(0, 9)) < 8:
        method, path = draw(st.sampled_from(sorted(routes.ROUTES)))
        own = sorted(routes.ROUTES[(method, path)].params) or ["category"]
        params: dict[str, Any] = dict(BASES.get(path, {}))
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from(own)) if draw(st.integers(0, 9)) else draw(names)
            if draw(st.integers(0, 4)) == 0:
                params.pop(name, None)
            else:
                params[name] = draw(plausible if method == "GET" else st.one_of(plausible, json_values))
        shape = draw(st.sampled_from(["normal"] * 8 + ["raw", "both"]))
    else:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
        path = draw(st.one_of(st.sampled_from(PATHS), st.text(max_size=20).map(lambda t: "/v5/" + quote(t))))
        params = draw(st.dictionaries(names, json_values if method == "POST" else scalars, max_size=8))
        shape = draw(st.sampled_from(["normal", "raw", "both"]))
    query, body = "", b""
    if method == "GET" or shape == "both":
        query = urlencode({k: "" if v is None else str(v) for k, v in params.items()})
    if method != "GET" or shape == "both":
        body = json.dumps(params).encode()
    if shape == "raw":
        body = draw(st.one_of(st.binary(max_size=64), st.just(b"[" * 5_000), st.text(max_size=64).map(str.encode)))
    return method, path, query, body


@settings(max_examples=200)
@given(call=rest_calls(), signed=st.sampled_from([True, True, True, False]))
def test_rest_never_answers_500(venue: EmulatedVenue, http: httpx.Client, call: tuple[str, str, str, bytes],
                                signed: bool) -> None:
    method, path, query, body = call
    payload = query if method == "GET" else body.decode(errors="replace")
    headers = sign_headers(venue, payload) if signed else {}
    envelope_or_404(http.request(method, f"{path}?{query}" if query else path, content=body, headers=headers))


JUNK: list[Any] = ["", "abc", "-1", "0", "1e999999", "9" * 5000, "NaN", "\u0663", "[]", "BTCUSDT"]
JSON_JUNK: list[Any] = [1.5, 10**30, True, None, [], {"a": 1}, [[[[1]]]]]


def envelope_or_404(answer: httpx.Response) -> dict[str, Any] | None:
    assert answer.status_code in (200, 404), (answer.status_code, answer.text[:200])
    if answer.status_code == 404:
        assert answer.content == b""
        return None
    envelope: dict[str, Any] = answer.json()
    assert set(envelope) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    assert isinstance(envelope["retCode"], int) and isinstance(envelope["retMsg"], str)
    return envelope


def test_every_parameter_of_every_route_with_junk(venue: EmulatedVenue, http: httpx.Client) -> None:
    """Deterministic, beside the random fuzz: each route's valid call with each of its parameters set to each
    junk value (strings; for POST also JSON numbers, booleans, null, lists, objects)."""
    answered = 0
    for (method, path), endpoint in sorted(routes.ROUTES.items()):
        for name, neutral in sorted(endpoint.params.items()):
            values = JUNK + (JSON_JUNK if method == "POST" else []) if neutral is None else ["1", "abc"]
            for value in values:  # an unmodelled parameter is refused before any handler reads it
                params = {**BASES.get(path, {}), name: value}
                if method == "GET":
                    query = urlencode(params)
                    answer = http.get(f"{path}?{query}", headers=sign_headers(venue, query))
                else:
                    text = json.dumps(params)
                    answer = http.post(path, content=text, headers=sign_headers(venue, text))
                assert envelope_or_404(answer) is not None, (path, name, value)
                answered += 1
    assert answered > 900


topics = st.lists(st.sampled_from(TOPIC_WORDS), min_size=1, max_size=4).map(".".join)
requests = st.fixed_dictionaries(
    {"op": st.one_of(st.sampled_from(["subscribe", "unsubscribe", "ping", "auth"]), json_values)},
    optional={"args": st.one_of(st.lists(st.one_of(topics, json_values), max_size=12), json_values),
              "req_id": json_values})
frames = st.one_of(requests.map(json.dumps), json_values.map(json.dumps), st.text(max_size=50),
                   st.binary(max_size=50), st.just("[" * 5_000), st.just('{"op":' * 2_000))  # 100k deep: the refusals test


def pong_follows(conn: websocket.WebSocket, frame: str | bytes) -> None:
    """Send ``frame``, then a ping: the ping's pong must arrive on the same, still open, connection."""
    if isinstance(frame, bytes):
        conn.send_binary(frame)
    else:
        conn.send(frame)
    conn.send(json.dumps({"op": "ping", "req_id": "alive"}))
    for _ in range(2000):
        message: Any = json.loads(conn.recv())
        assert isinstance(message, dict)
        if message.get("req_id") == "alive":
            assert message.get("ret_msg") == "pong" or message.get("op") == "pong"
            return
        assert "topic" in message or message.get("op") is not None or message.get("success") is False, message
    raise AssertionError("no pong")


@pytest.mark.parametrize("path", [*ws.PUBLIC_PATHS, ws.PRIVATE_PATH])
@settings(max_examples=60)
@given(sent=st.lists(frames, min_size=1, max_size=5))
def test_websocket_frames_never_close_the_connection(venue: EmulatedVenue, path: str,
                                                     sent: list[str | bytes]) -> None:
    conn = websocket.create_connection(f"{venue.ws_url}{path}", timeout=10)
    try:
        for frame in sent:
            pong_follows(conn, frame)
    finally:
        conn.close()
