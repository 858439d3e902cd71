"""Every row of Alpaca's error tables: REST code table, message refinements, HTTP statuses, stream codes."""

from __future__ import annotations

import pytest

from brokers.alpaca import errors
from protocol import errors as e
from tests.unit.alpaca import samples


@pytest.mark.parametrize(("code", "kind"), sorted(errors.CODE_TABLE.items()))
def test_every_code_row_builds_its_class(code: int, kind: tuple[type[e.BrokerError], str | None]) -> None:
    status = code // 100_000
    error = errors.error_for(status, code, "")
    assert type(error) is kind[0], code
    assert error.code == str(code) and error.venue == "alpaca"
    if isinstance(error, e.InvalidOrder):
        assert error.filter == kind[1]


@pytest.mark.parametrize(("status", "kind"), sorted(errors.STATUS_TABLE.items()))
def test_every_status_row_without_a_code(status: int, kind: tuple[type[e.BrokerError], str | None]) -> None:
    error = errors.error_for(status, None, "")
    assert type(error) is kind[0]
    assert error.code == str(status)


@pytest.mark.parametrize(("fragments", "kind", "filter_name"), errors.MESSAGE_RULES)
def test_every_message_rule_refines_a_refinable_code(fragments: tuple[str, ...], kind: type[e.BrokerError],
                                                    filter_name: str | None) -> None:
    for fragment in fragments:
        message = f"Some Text {fragment.upper()} more"
        # the earlier rules win on overlap (e.g. "insufficient qty" is funds, not LOT_SIZE): check the
        # rule that actually matches is this one or an earlier, more specific one
        matched = errors.refine(message)
        assert matched is not None
        index = next(i for i, rule in enumerate(errors.MESSAGE_RULES) if rule[1:] == matched)
        assert index <= errors.MESSAGE_RULES.index((fragments, kind, filter_name))
        error = errors.error_for(422, 40010001, message)
        assert type(error) is matched[0]


@pytest.mark.parametrize(("status", "body", "kind", "filter_name"), [
    (422, samples.ERROR_DUPLICATE_CLIENT_ORDER_ID, e.DuplicateOrder, None),
    (403, samples.ERROR_INSUFFICIENT_BUYING_POWER, e.InsufficientFunds, None),
    (404, samples.ERROR_ORDER_NOT_FOUND, e.OrderNotFound, None),
    (422, samples.ERROR_CANNOT_REPLACE, e.OrderNotFound, None),
    (403, b'{"code": 40310000, "message": "insufficient buying power"}', e.InsufficientFunds, None),
    (403, b'{"code": 40310000, "message": "insufficient qty available for order (requested: 10, available: 2)"}',
     e.InsufficientFunds, None),
    (403, b'{"code": 40310100, "message": "trade denied due to pattern day trading protection"}', e.InvalidOrder,
     "PATTERN_DAY_TRADING"),
    (403, b'{"code": 40310000, "message": "potential wash trade detected. use complex orders"}', e.InvalidOrder,
     "WASH_TRADE"),
    (403, b'{"code": 40310000, "message": "account not authorized to trade options"}', e.PermissionDenied, None),
    (422, b'{"code": 42210000, "message": "fractional orders must be simple orders"}', e.InvalidOrder,
     "ORDER_CLASS"),
    (422, b'{"code": 40010001, "message": "requested asset is not fractionable"}', e.InvalidOrder, "LOT_SIZE"),
    (422, b'{"code": 40010001, "message": "extended hours order must be DAY limit orders"}', e.InvalidOrder,
     "EXTENDED_HOURS"),
    (422, b'{"code": 40010001, "message": "invalid limit_price 1.234. sub-penny increment does not fulfill '
          b'minimum pricing criteria"}', e.InvalidOrder, "PRICE_FILTER"),
    (422, b'{"code": 40010001, "message": "symbol INVALID is not supported"}', e.InvalidOrder, "SYMBOL"),
    (422, b'{"code": 40010001, "message": "oto orders require either take_profit or stop_loss"}', e.InvalidOrder,
     "ORDER_CLASS"),
    (422, b'{"code": 40010001, "message": "qty must be > 0"}', e.InvalidOrder, "LOT_SIZE"),
    (422, b'{"code": 40010001, "message": "something new"}', e.InvalidOrder, "PARAMETER"),
    (401, b'{"code": 40110000, "message": "request is not authorized"}', e.AuthenticationError, None),
    (403, b'{"message": "subscription does not permit querying recent SIP data"}', e.PermissionDenied, None),
    (404, b"Not Found", e.NotSupported, None),
    (400, b'{"message": "invalid timeframe"}', e.InvalidOrder, "PARAMETER"),
    (500, b"<html>oops</html>", e.VenueUnavailable, None),
    (503, b"", e.VenueUnavailable, None),
])
def test_documented_and_observed_bodies(status: int, body: bytes, kind: type[e.BrokerError],
                                        filter_name: str | None) -> None:
    error = errors.map_error(status, body, {})
    assert type(error) is kind
    if isinstance(error, e.InvalidOrder):
        assert error.filter == filter_name
    assert "alpaca" in str(error)


def test_duplicate_client_order_id_is_not_a_rejection() -> None:
    error = errors.map_error(422, samples.ERROR_DUPLICATE_CLIENT_ORDER_ID, {})
    assert isinstance(error, e.DuplicateOrder) and error.code == "40010001"
    assert error.venue_message == "client_order_id must be unique"


def test_rate_limit_retry_after_from_reset_header() -> None:
    headers = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1674044551"}
    assert errors.retry_after_from_headers(headers, 1674044541.0) == 10.0
    assert errors.retry_after_from_headers(headers, 1674044600.0) == 0.0
    assert errors.retry_after_from_headers({"retry-after": "3"}) == 3.0
    assert errors.retry_after_from_headers({"retry-after": "soon"}) is None
    assert errors.retry_after_from_headers({}) is None and errors.retry_after_from_headers(None) is None
    limited = errors.error_for(429, None, "too many requests", retry_after=10.0)
    assert isinstance(limited, e.RateLimited) and limited.retry_after == 10 and limited.retryable
    assert not limited.banned
    assert isinstance(errors.map_error(429, b"too many requests", {"Retry-After": "2"}), e.RateLimited)


def test_server_errors_are_outcome_unknown_whatever_the_code() -> None:
    error = errors.map_error(500, b'{"code": 40010001, "message": "client_order_id must be unique"}', {})
    assert isinstance(error, e.VenueUnavailable) and error.retryable


@pytest.mark.parametrize(("code", "row"), sorted(errors.DATA_STREAM_ERRORS.items()))
def test_every_data_stream_code(code: int, row: tuple[type[e.BrokerError], str, bool]) -> None:
    error = errors.data_stream_error(code, "venue text")
    assert type(error) is row[0] and error.code == str(code) and error.retryable is row[2]
    assert error.venue_message == "venue text"


def test_unknown_data_stream_code_is_a_protocol_violation() -> None:
    assert isinstance(errors.data_stream_error(499, "new"), e.ProtocolViolation)


def test_trading_stream_authorization_errors() -> None:
    assert isinstance(errors.trading_stream_error("unauthorized", "authenticate"), e.AuthenticationError)
    assert isinstance(errors.trading_stream_error("unauthorized", "listen"), e.ProtocolViolation)
