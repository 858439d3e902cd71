"""The OKX code table row by row, per-item sCode errors, HTTP statuses and the error bodies OKX sends."""

from __future__ import annotations

import msgspec
import pytest

from brokers.errors import CodeRow
from brokers.okx import errors as x
from protocol import errors as e

# The codes the issue names, with the type and filter each must become (independent of the table).
NAMED: list[tuple[str, type[e.BrokerError], str | None]] = [
    ("50111", e.AuthenticationError, None), ("50112", e.AuthenticationError, None),
    ("50113", e.AuthenticationError, None), ("50105", e.AuthenticationError, None),
    ("50102", e.AuthenticationError, None), ("50101", e.AuthenticationError, None),
    ("50011", e.RateLimited, None), ("50061", e.RateLimited, None), ("50013", e.RateLimited, None),
    ("51008", e.InsufficientFunds, None), ("51131", e.InsufficientFunds, None), ("51127", e.InsufficientFunds, None),
    ("51603", e.OrderNotFound, None), ("51400", e.OrderNotFound, None), ("51503", e.OrderNotFound, None),
    ("51016", e.DuplicateOrder, None), ("50071", e.DuplicateOrder, None),
    ("51121", e.InvalidOrder, "LOT_SIZE"), ("51020", e.InvalidOrder, "LOT_SIZE"), ("51007", e.InvalidOrder, "LOT_SIZE"),
    ("51120", e.InvalidOrder, "LOT_SIZE"), ("51006", e.InvalidOrder, "PRICE_FILTER"),
    ("51001", e.InvalidOrder, "SYMBOL"), ("51015", e.InvalidOrder, "SYMBOL"),
    ("51022", e.MarketClosed, None), ("51021", e.MarketClosed, None), ("51027", e.MarketClosed, None),
    ("51010", e.PermissionDenied, None), ("50110", e.PermissionDenied, None),
    ("51149", e.VenueUnavailable, None), ("50004", e.VenueUnavailable, None), ("51054", e.VenueUnavailable, None),
    ("51410", e.VenueUnavailable, None),  # a cancel still in progress: looked up like a lost cancel answer
    ("50036", e.InvalidOrder, "EXPIRED"), ("50037", e.InvalidOrder, "EXPIRED"),
    ("60009", e.AuthenticationError, None), ("64003", e.PermissionDenied, None), ("64008", e.VenueUnavailable, None),
]


@pytest.mark.parametrize(("code", "kind", "filter_name"), NAMED)
def test_named_codes(code: str, kind: type[e.BrokerError], filter_name: str | None) -> None:
    error = x.error_for(code, "venue words")
    assert type(error) is kind
    assert getattr(error, "filter", None) == filter_name
    assert error.code == code and error.venue == "okx" and error.venue_message == "venue words"


@pytest.mark.parametrize(("code", "row"), sorted(x.CODE_TABLE.items()))
def test_every_table_row(code: str, row: CodeRow) -> None:
    kind, filter_name = row
    error = x.error_for(code, f"message of {code}", client_order_id="abc1")
    assert type(error) is kind
    if kind is e.InvalidOrder and code != "51000":
        assert error.filter == filter_name  # type: ignore[attr-defined]
    assert error.code == code and error.venue_message == f"message of {code}" and error.client_order_id == "abc1"
    assert f"message of {code}" in str(error)


def test_retryability() -> None:
    assert x.error_for("50102", "").retryable and x.error_for("60006", "").retryable
    assert not x.error_for("50113", "").retryable and not x.error_for("51010", "").retryable
    assert x.error_for("50036", "").retryable  # never executed: resending with the same id is safe
    assert x.error_for("50011", "").retryable and x.error_for("51149", "").retryable
    assert not x.error_for("51121", "").retryable and not x.error_for("51016", "").retryable
    assert x.error_for("51410", "").retryable


def test_rate_limit_pauses_one_window_unless_told() -> None:
    limited = x.error_for("50011", "Rate limit reached.")
    assert isinstance(limited, e.RateLimited) and limited.retry_after == 2 and not limited.banned
    assert x.error_for("50011", "", retry_after=5).retry_after == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize(("message", "filter_name"), [
    ("Parameter sz error", "LOT_SIZE"), ("Parameter px error", "PRICE_FILTER"), ("Parameter instId error", "SYMBOL"),
    ("Parameter clOrdId error", "CLIENT_ORDER_ID"), ("Parameter posSide error", "POSITION_SIDE"),
    ("Parameter tdMode error", "MARGIN_MODE"), ("Parameter foo error", "PARAMETER"), ("whatever", "PARAMETER"),
])
def test_51000_names_the_parameter(message: str, filter_name: str) -> None:
    error = x.error_for("51000", message)
    assert isinstance(error, e.InvalidOrder) and error.filter == filter_name


def test_51412_has_two_meanings() -> None:
    assert isinstance(x.error_for("51412", "Cancellation timed out, please try again later."), e.VenueUnavailable)
    triggered = x.error_for("51412", "The order has been triggered and can't be canceled.")
    assert isinstance(triggered, e.InvalidOrder) and triggered.filter == "ORDER_STATE"


def test_item_errors_carry_sub_code_and_client_id() -> None:
    assert x.item_error("0", "") is None and x.item_error("", "") is None
    error = x.item_error("51008", "Order failed. Insufficient USDT margin in account", "1001", client_order_id="b15")
    assert isinstance(error, e.InsufficientFunds) and error.code == "51008_1001" and error.client_order_id == "b15"
    duplicate = x.item_error("51016", "Client order ID already exists.", client_order_id="b15")
    assert isinstance(duplicate, e.DuplicateOrder) and "look it up" in str(duplicate)


def test_unlisted_codes_are_typed_by_status_never_silent() -> None:
    assert type(x.error_for("59999", "new thing")) is e.BrokerError
    assert isinstance(x.error_for("59999", "", http_status=429), e.RateLimited)
    assert isinstance(x.error_for("59999", "", http_status=401), e.AuthenticationError)
    assert isinstance(x.error_for("59999", "", http_status=404), e.NotSupported)
    assert isinstance(x.error_for("51121", "", http_status=502), e.VenueUnavailable)  # 5xx wins


def test_raise_for_code() -> None:
    x.raise_for_code("0", "")
    with pytest.raises(e.OrderNotFound):
        x.raise_for_code("51603", "Order does not exist.")


@pytest.mark.parametrize(("status", "body", "kind"), [
    (401, b'{"code":"50113","msg":"Invalid Sign","data":[]}', e.AuthenticationError),
    (401, b'{"code":"50102","msg":"Timestamp request expired","data":[]}', e.AuthenticationError),
    (429, b'{"code":"50011","msg":"Too Many Requests","data":[]}', e.RateLimited),
    (403, b'{"code":"50035","msg":"This endpoint requires that APIKey must be bound to IP","data":[]}',
     e.PermissionDenied),
    (405, b'{"code":"50115","msg":"Invalid request method.","data":[]}', e.ProtocolViolation),
    (503, b"<html>busy</html>", e.VenueUnavailable),
    (404, b"", e.NotSupported),
    (400, b"not json", e.ProtocolViolation),
    (400, b'{"code":"51000","msg":"Parameter sz error","data":[]}', e.InvalidOrder),
])
def test_map_error(status: int, body: bytes, kind: type[e.BrokerError]) -> None:
    assert isinstance(x.map_error(status, body, {}), kind)


def test_map_error_reads_retry_after() -> None:
    error = x.map_error(429, msgspec.json.encode({"code": "50011", "msg": "Too Many Requests"}), {"retry-after": "3"})
    assert isinstance(error, e.RateLimited) and error.retry_after == 3
