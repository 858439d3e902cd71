"""Bybit V5 signing, checked against the official pybit client's own signer, and the retCode table."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from brokers.bybit.auth import rest_headers, ws_auth_message
from brokers.bybit.errors import error_for, is_leverage_not_modified
from protocol import errors as e
from protocol.credentials import Credentials

pybit_http = pytest.importorskip("pybit._http_manager", reason="pybit is a dev dependency")

CREDS = Credentials.from_strings("XXXXXXXXXXXXXXXXXX", "YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY")


@pytest.mark.parametrize("payload", [
    "category=linear&symbol=BTCUSDT",
    json.dumps({"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01",
                "price": "60000", "orderLinkId": "abc-1"}),
    "",
])
def test_rest_signature_matches_pybit_and_the_documented_recipe(payload: str) -> None:
    headers = rest_headers(CREDS, 1658384314791, 5000, payload)
    by_hand = hmac.new(CREDS.api_secret.reveal().encode(),
                       f"1658384314791{CREDS.api_key}5000{payload}".encode(), hashlib.sha256).hexdigest()
    by_pybit = pybit_http.generate_signature(False, CREDS.api_secret.reveal(),
                                             f"1658384314791{CREDS.api_key}5000{payload}")
    assert headers["X-BAPI-SIGN"] == by_hand == by_pybit
    assert headers["X-BAPI-API-KEY"] == CREDS.api_key and headers["X-BAPI-SIGN-TYPE"] == "2"
    assert headers["X-BAPI-TIMESTAMP"] == "1658384314791" and headers["X-BAPI-RECV-WINDOW"] == "5000"


def test_websocket_auth_message() -> None:
    message = ws_auth_message(CREDS, 1662350400000)
    expected = hmac.new(CREDS.api_secret.reveal().encode(), b"GET/realtime1662350400000",
                        hashlib.sha256).hexdigest()
    assert message == {"op": "auth", "args": [CREDS.api_key, 1662350400000, expected]}
    assert CREDS.api_secret.reveal() not in json.dumps(message)


@pytest.mark.parametrize(("code", "kind", "filter_name"), [
    (10003, e.AuthenticationError, None), (10004, e.AuthenticationError, None), (10005, e.PermissionDenied, None),
    (10006, e.RateLimited, None), (110001, e.OrderNotFound, None), (170213, e.OrderNotFound, None),
    (110007, e.InsufficientFunds, None), (170131, e.InsufficientFunds, None), (110072, e.DuplicateOrder, None),
    (170137, e.InvalidOrder, "LOT_SIZE"), (170140, e.InvalidOrder, "NOTIONAL"), (110003, e.InvalidOrder, "PRICE_FILTER"),
    (10016, e.VenueUnavailable, None),
])
def test_ret_code_table(code: int, kind: type[e.BrokerError], filter_name: str | None) -> None:
    error = error_for(code, "message from Bybit")
    assert type(error) is kind and error.code == str(code) and error.venue == "bybit"
    if isinstance(error, e.InvalidOrder):
        assert error.filter == filter_name


def test_special_answers() -> None:
    assert is_leverage_not_modified(110043) and not is_leverage_not_modified(110001)
    assert error_for(10002, "invalid request, please check your server timestamp or recv_window param").retryable
    assert error_for(10009, "IP has been banned.").banned  # type: ignore[attr-defined]
    banned = error_for(0, "", http_status=403)
    assert isinstance(banned, e.RateLimited) and banned.banned
    assert isinstance(error_for(0, "", http_status=502), e.VenueUnavailable)
    unknown = error_for(123456, "something new")
    assert type(unknown) is e.BrokerError and "123456" in str(unknown)
