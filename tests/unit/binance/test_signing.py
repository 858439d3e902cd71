"""Binance HMAC-SHA256 signing: the published example, end to end through the broker's request builder."""

from __future__ import annotations

import time

import httpx
import pytest

from brokers.binance.auth import sign, ws_api_params
from protocol import errors as e
from protocol.credentials import Credentials
from tests.unit.binance.samples import (
    DOC_API_KEY,
    DOC_QUERY,
    DOC_SECRET,
    DOC_SIGNATURE,
    broker_on,
)


def unreachable(request: httpx.Request) -> httpx.Response:
    raise AssertionError("no request expected")


def test_the_published_signature_reproduces() -> None:
    assert sign(DOC_SECRET, DOC_QUERY) == DOC_SIGNATURE


def test_the_signature_depends_on_every_byte() -> None:
    assert sign(DOC_SECRET, DOC_QUERY.replace("price=0.1", "price=0.2")) != DOC_SIGNATURE
    assert sign(DOC_SECRET[:-1] + "k", DOC_QUERY) != DOC_SIGNATURE


def test_a_signed_request_is_the_documented_one(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = broker_on(unreachable, recv_window_ms=5000)
    broker.clock_offset_ms = 0
    monkeypatch.setattr(time, "time", lambda: 1499827319.5594)  # -> timestamp=1499827319559
    request = broker._signed("POST", "/api/v3/order", {"symbol": "LTCBTC", "side": "BUY", "type": "LIMIT",
                                                       "timeInForce": "GTC", "quantity": "1", "price": "0.1"})()
    assert request.query == f"{DOC_QUERY}&signature={DOC_SIGNATURE}"  # signature last, over the exact bytes
    assert request.headers == {"X-MBX-APIKEY": DOC_API_KEY}
    assert request.method == "POST" and request.path == "/api/v3/order"


def test_timestamps_carry_the_server_clock_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = broker_on(unreachable, recv_window_ms=7000)
    monkeypatch.setattr(time, "time", lambda: 1499827319.5594)
    broker.clock_offset_ms = -1559  # our clock runs 1.559 s ahead of Binance's
    query = broker._signed("GET", "/api/v3/account", {})().query
    assert query.startswith("recvWindow=7000&timestamp=1499827318000&signature=")


def test_every_attempt_gets_a_fresh_timestamp_and_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = broker_on(unreachable)
    clock = iter([1499827319.5594, 1499827320.5594])
    monkeypatch.setattr(time, "time", lambda: next(clock))
    build = broker._signed("GET", "/api/v3/account", {})
    first, second = build().query, build().query
    assert "timestamp=1499827319559" in first and "timestamp=1499827320559" in second
    assert first.rsplit("=", 1)[1] != second.rsplit("=", 1)[1]


def test_the_secret_never_shows_in_reprs_or_settings() -> None:
    broker = broker_on(unreachable)
    for text in (repr(broker), str(broker.settings), repr(broker.settings.credentials)):
        assert DOC_SECRET not in text


async def test_signed_calls_without_keys_fail_typed() -> None:
    broker = broker_on(unreachable)
    broker.settings = broker.settings.__class__(venue="binance", rest_url="x", ws_url="y")
    with pytest.raises(e.AuthenticationError):
        broker._signed("GET", "/api/v3/account", {})


def test_the_websocket_api_signature_is_the_documented_one() -> None:
    """web-socket-api "SIGNED request example (HMAC)": every parameter but the signature, apiKey included,
    sorted by name, HMAC-SHA256, hex."""
    credentials = Credentials.from_strings("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
                                           "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j")
    params = ws_api_params(credentials, {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
                                         "quantity": "0.01000000", "price": "52000.00"},
                           timestamp_ms=1645423376532, recv_window_ms=100)
    assert params["signature"] == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    assert params["apiKey"] == credentials.api_key
