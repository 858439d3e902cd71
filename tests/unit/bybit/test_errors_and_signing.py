"""The full retCode table (each family), HTTP statuses, and signing on the documented plain texts."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from brokers.bybit import auth, constants
from brokers.bybit.errors import (
    CODE_TABLE,
    error_for,
    map_error,
    raise_for_ret_code,
    retry_after_from_headers,
)
from protocol import errors as e
from protocol.credentials import Credentials

pybit_http = pytest.importorskip("pybit._http_manager", reason="pybit is a dev dependency")

# docs/v5/guide "An example for how to generate plain text to encrypt": the GET and POST plain texts.
GUIDE_GET_PLAIN = "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
GUIDE_POST_BODY = '{"category": "option"}'
CREDS = Credentials.from_strings("XXXXXXXXXX", "test-secret-not-real")


def test_documented_get_plain_text_is_what_we_sign() -> None:
    assert auth.rest_plain_text(1658384314791, "XXXXXXXXXX", 5000,
                                "category=option&symbol=BTC-29JUL22-25000-C") == GUIDE_GET_PLAIN
    headers = auth.rest_headers(CREDS, 1658384314791, 5000, "category=option&symbol=BTC-29JUL22-25000-C")
    by_hand = hmac.new(b"test-secret-not-real", GUIDE_GET_PLAIN.encode(), hashlib.sha256).hexdigest()
    assert headers[constants.HEADER_SIGN] == by_hand == pybit_http.generate_signature(
        False, "test-secret-not-real", GUIDE_GET_PLAIN)


def test_post_signs_the_raw_body_bytes() -> None:
    headers = auth.rest_headers(CREDS, 1658385579423, 5000, GUIDE_POST_BODY.encode())
    plain = "1658385579423XXXXXXXXXX5000" + GUIDE_POST_BODY
    assert headers[constants.HEADER_SIGN] == pybit_http.generate_signature(False, "test-secret-not-real", plain)
    assert "test-secret-not-real" not in repr(headers) and "test-secret-not-real" not in repr(CREDS)


def test_ws_auth_signature_matches_the_documented_recipe() -> None:
    expected = hmac.new(b"test-secret-not-real", b"GET/realtime1662350400000", hashlib.sha256).hexdigest()
    assert auth.ws_auth_signature(CREDS.api_secret, 1662350400000) == expected


@pytest.mark.parametrize(("code", "kind", "filter_name"), [
    (10001, e.InvalidOrder, "PARAMETER"), (10002, e.AuthenticationError, None), (10003, e.AuthenticationError, None),
    (10004, e.AuthenticationError, None), (10005, e.PermissionDenied, None), (33004, e.AuthenticationError, None),
    (10006, e.RateLimited, None), (10018, e.RateLimited, None), (10016, e.VenueUnavailable, None),
    (110004, e.InsufficientFunds, None), (110007, e.InsufficientFunds, None), (170131, e.InsufficientFunds, None),
    (170033, e.InsufficientFunds, None), (110001, e.OrderNotFound, None), (170213, e.OrderNotFound, None),
    (110072, e.DuplicateOrder, None), (170141, e.DuplicateOrder, None),
    (110003, e.InvalidOrder, "PRICE_FILTER"), (110094, e.InvalidOrder, "NOTIONAL"),
    (110017, e.InvalidOrder, "REDUCE_ONLY"), (170132, e.InvalidOrder, "PRICE_FILTER"),
    (170134, e.InvalidOrder, "PRICE_FILTER"), (170136, e.InvalidOrder, "LOT_SIZE"),
    (170137, e.InvalidOrder, "LOT_SIZE"), (170140, e.InvalidOrder, "NOTIONAL"),
    (170146, e.VenueUnavailable, None), (110066, e.MarketClosed, None), (10017, e.NotSupported, None),
])
def test_code_families(code: int, kind: type[e.BrokerError], filter_name: str | None) -> None:
    error = error_for(code, "venue text")
    assert type(error) is kind and error.code == str(code) and error.venue_message == "venue text"
    if isinstance(error, e.InvalidOrder):
        assert error.filter == filter_name and (filter_name or "") in error.message


def test_every_table_row_builds_its_class() -> None:
    for code, (kind, _filter) in CODE_TABLE.items():
        assert type(error_for(code, "x")) is kind, code


def test_rate_limit_retry_after_from_the_reset_header() -> None:
    headers = {"x-bapi-limit": "10", "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": "1672738135824"}
    assert retry_after_from_headers(headers, 1672738134824) == 1.0
    error = error_for(10006, "Too many visits!", headers=headers, now_ms=1672738134824)
    assert isinstance(error, e.RateLimited) and error.retry_after == 1 and not error.banned and error.retryable
    assert retry_after_from_headers({}, 1) is None and retry_after_from_headers(headers, None) is None


def test_http_statuses() -> None:
    ban = map_error(403, b"<html>access too frequent</html>", {})
    assert isinstance(ban, e.RateLimited) and ban.banned and ban.retry_after == 600
    assert isinstance(map_error(502, b"", {}), e.VenueUnavailable)
    assert isinstance(map_error(401, b"", {}), e.AuthenticationError)
    assert isinstance(map_error(404, b"", {}), e.NotSupported)
    assert isinstance(map_error(429, b"", {}), e.RateLimited)
    assert isinstance(map_error(400, b"", {}), e.ProtocolViolation)
    body = b'{"retCode":10004,"retMsg":"error sign!","result":{},"retExtInfo":{},"time":1}'
    assert isinstance(map_error(401, body, {}), e.AuthenticationError)


def test_raise_for_ret_code() -> None:
    raise_for_ret_code(0, "OK")
    with pytest.raises(e.InsufficientFunds):
        raise_for_ret_code(110007, "ab not enough for new order")
    with pytest.raises(e.RateLimited):
        raise_for_ret_code(0, "", http_status=403)


def test_order_link_id_rule() -> None:
    assert constants.is_valid_order_link_id("spot-test_01") and constants.is_valid_order_link_id("a" * 36)
    assert not constants.is_valid_order_link_id("a" * 37) and not constants.is_valid_order_link_id("a.b")
    assert not constants.is_valid_order_link_id("")


def test_urls_and_limits() -> None:
    assert constants.ws_public_url(constants.Category.LINEAR, testnet=True) == \
        "wss://stream-testnet.bybit.com/v5/public/linear"
    assert constants.ws_private_url(testnet=False) == "wss://stream.bybit.com/v5/private"
    assert constants.rest_url(testnet=True) == "https://api-testnet.bybit.com"
    assert constants.uid_limit(constants.ORDER_CREATE, constants.Category.SPOT) == 20
    assert constants.uid_limit(constants.ORDER_CREATE, constants.Category.LINEAR) == 10
    assert constants.uid_limit("/v5/unlisted") == constants.DEFAULT_UID_LIMIT_PER_SECOND


@pytest.mark.parametrize(("message", "filter_name"), [
    ("The number of contracts exceeds minimum limit allowed", "LOT_SIZE"),
    ("The number of contracts exceeds maximum limit allowed", "LOT_SIZE"),
    ("params error: price invalid", "PRICE_FILTER"),
    ("params error: side invalid", "PARAMETER"),
])
def test_params_error_names_the_filter_its_message_describes(message: str, filter_name: str) -> None:
    error = error_for(10001, message)
    assert isinstance(error, e.InvalidOrder) and error.filter == filter_name and error.code == "10001"


def test_published_limits_per_category() -> None:
    assert constants.uid_limit(constants.ORDER_CANCEL_ALL, constants.Category.LINEAR) == 10
    assert constants.uid_limit(constants.ORDER_REALTIME, constants.Category.INVERSE) == 10
    assert constants.uid_limit(constants.FEE_RATE, constants.Category.SPOT) == 5
