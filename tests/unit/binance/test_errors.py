"""Binance's error table: each documented code and HTTP status -> the protocol error class, with the
venue code and message kept, the violated filter named, and retryability right."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokers.binance.errors import map_error
from protocol import errors as e


def body(code: int, msg: str) -> bytes:
    return f'{{"code":{code},"msg":"{msg}"}}'.encode()


@pytest.mark.parametrize(("status", "code", "msg", "kind", "retryable"), [
    (401, -1002, "You are not authorized to execute this request.", e.AuthenticationError, False),
    (400, -1021, "Timestamp for this request is outside of the recvWindow.", e.AuthenticationError, True),
    (400, -1022, "Signature for this request is not valid.", e.AuthenticationError, False),
    (400, -2014, "API-key format invalid.", e.AuthenticationError, False),
    (401, -2015, "Invalid API-key, IP, or permissions for action.", e.AuthenticationError, False),
    (400, -2011, "Unknown order sent.", e.OrderNotFound, False),
    (400, -2013, "Order does not exist.", e.OrderNotFound, False),
    (400, -2010, "Account has insufficient balance for requested action.", e.InsufficientFunds, False),
    (400, -2010, "Duplicate order sent.", e.DuplicateOrder, False),
    (400, -2010, "Market is closed.", e.MarketClosed, True),
    (400, -2010, "This action is disabled on this account.", e.PermissionDenied, False),
    (400, -2010, "Order would immediately match and take.", e.InvalidOrder, False),
    (400, -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'.",
     e.InvalidOrder, False),
    (400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.", e.InvalidOrder, False),
    (400, -1116, "Invalid orderType.", e.InvalidOrder, False),
])
def test_code_table(status: int, code: int, msg: str, kind: type[e.BrokerError], retryable: bool) -> None:
    error = map_error(status, body(code, msg), {})
    assert type(error) is kind
    assert (error.venue, error.code, error.venue_message) == ("binance", str(code), msg)
    assert error.retryable is retryable


SERVER_SIDE = [
    (500, -1000, "An unknown error occurred while processing the request."),
    (503, -1001, "Internal error; unable to process your request. Please try again."),
    (503, -1006, "An unexpected response was received from the message bus. Execution status unknown."),
    (503, -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."),
    (503, -1008, "Server is currently overloaded with other requests. Please try again in a few minutes."),
]


@pytest.mark.parametrize(("status", "code", "msg"), SERVER_SIDE)
def test_server_side_codes_are_an_unknown_outcome(status: int, code: int, msg: str) -> None:
    error = map_error(status, body(code, msg), {})
    assert isinstance(error, e.VenueUnavailable) and error.retryable and error.venue_message == msg


@pytest.mark.parametrize(("status", "code", "msg"), [(400, c, m) for _, c, m in SERVER_SIDE])
def test_server_side_codes_in_a_4xx_answer_are_an_unknown_outcome(status: int, code: int, msg: str) -> None:
    error = map_error(status, body(code, msg), {})
    assert isinstance(error, e.VenueUnavailable) and error.retryable and error.code == str(code)


def test_a_5xx_answer_keeps_binances_code() -> None:
    error = map_error(503, body(-1007, SERVER_SIDE[3][2]), {})
    assert error.code == "-1007"


@pytest.mark.parametrize(("code", "msg", "filter_name"), [
    (-1013, "Filter failure: LOT_SIZE", "LOT_SIZE"),
    (-1013, "Filter failure: PRICE_FILTER", "PRICE_FILTER"),
    (-1013, "Filter failure: NOTIONAL", "NOTIONAL"),
    (-1013, "Filter failure: MIN_NOTIONAL", "MIN_NOTIONAL"),
    (-1013, "Filter failure: MARKET_LOT_SIZE", "MARKET_LOT_SIZE"),
    (-1013, "Filter failure: MAX_NUM_ORDERS", "MAX_NUM_ORDERS"),
    (-1013, "Filter failure: PERCENT_PRICE_BY_SIDE", "PERCENT_PRICE_BY_SIDE"),
    (-2010, "Filter failure: LOT_SIZE", "LOT_SIZE"),
    (-1111, "Parameter 'quantity' has too much precision.", "PRECISION"),
    (-1121, "Invalid symbol.", "SYMBOL"),
])
def test_filter_failures_name_the_filter(code: int, msg: str, filter_name: str) -> None:
    error = map_error(400, body(code, msg), {})
    assert isinstance(error, e.InvalidOrder) and error.filter == filter_name
    assert error.to_info().filter == filter_name  # survives the wire form for remote callers


def test_429_is_rate_limited_with_retry_after() -> None:
    error = map_error(429, body(-1003, "Too much request weight used; current limit is 6000 request weight per "
                                       "1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the "
                                       "API."), {"retry-after": "7"})
    assert isinstance(error, e.RateLimited) and not error.banned and error.retryable
    assert error.retry_after == Decimal(7) and error.code == "-1003"


def test_429_for_too_many_orders_is_rate_limited() -> None:
    error = map_error(429, body(-1015, "Too many new orders; current limit is 100 orders per 10 SECOND."), {})
    assert isinstance(error, e.RateLimited) and not error.banned


def test_418_is_a_ban_with_its_duration() -> None:
    error = map_error(418, body(-1003, "Way too much request weight used; IP banned until 1700000000000. Please use "
                                       "WebSocket Streams for live updates to avoid bans."), {"retry-after": "120"})
    assert isinstance(error, e.RateLimited) and error.banned and error.retry_after == Decimal(120)


def test_418_without_a_body_is_still_a_ban() -> None:
    error = map_error(418, b"", {"retry-after": "300"})
    assert isinstance(error, e.RateLimited) and error.banned and error.retry_after == Decimal(300)


def test_403_is_the_waf() -> None:
    error = map_error(403, b"<html>Forbidden</html>", {})
    assert isinstance(error, e.PermissionDenied) and not error.retryable


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_an_unknown_outcome(status: int) -> None:
    error = map_error(status, b"<html>bad gateway</html>", {})
    assert isinstance(error, e.VenueUnavailable) and error.retryable and error.code == str(status)


def test_a_4xx_without_a_readable_body_is_a_protocol_violation() -> None:
    error = map_error(400, b"<html>?</html>", {})
    assert isinstance(error, e.ProtocolViolation)


def test_unknown_codes_still_map_typed() -> None:
    client_side = map_error(400, body(-1999, "Something new."), {})
    server_side = map_error(500, body(-1999, "Something new."), {})
    assert isinstance(client_side, e.InvalidOrder) and client_side.code == "-1999"
    assert isinstance(server_side, e.VenueUnavailable)


def test_an_expired_listen_key_is_retryable() -> None:
    error = map_error(400, body(-1125, "This listenKey does not exist."), {})
    assert error.retryable and not isinstance(error, e.AuthenticationError)
