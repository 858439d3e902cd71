"""Kraken's error table: every row, the suffix and category fallbacks, warnings, HTTP statuses."""

from __future__ import annotations

import pytest

from brokers.kraken.errors import (
    CODE_TABLE,
    OUTCOME_UNKNOWN,
    error_for,
    is_invalid_nonce,
    lookup,
    map_error,
    outcome_known,
    raise_for_errors,
    split_messages,
)
from protocol import errors as e


@pytest.mark.parametrize("text", sorted(CODE_TABLE))
def test_every_row_builds_its_class_and_carries_the_venue_words(text: str) -> None:
    kind, filter_name = CODE_TABLE[text]
    error = error_for([text])
    assert type(error) is kind
    assert error.venue == "kraken" and error.code == text and error.venue_message == text
    if isinstance(error, e.InvalidOrder):
        assert error.filter == filter_name


@pytest.mark.parametrize(("text", "kind", "filter_name"), [
    # the rows the issue names
    ("EAPI:Invalid key", e.AuthenticationError, None),
    ("EAPI:Invalid signature", e.AuthenticationError, None),
    ("EAPI:Invalid nonce", e.AuthenticationError, None),
    ("EAPI:Rate limit exceeded", e.RateLimited, None),
    ("EOrder:Rate limit exceeded", e.RateLimited, None),
    ("EOrder:Insufficient funds", e.InsufficientFunds, None),
    ("EOrder:Order minimum not met", e.InvalidOrder, "LOT_SIZE"),
    ("EOrder:Cost minimum not met", e.InvalidOrder, "NOTIONAL"),
    ("EOrder:Unknown order", e.OrderNotFound, None),
    ("EGeneral:Invalid arguments", e.InvalidOrder, "PARAMETER"),
    ("EGeneral:Permission denied", e.PermissionDenied, None),
    ("EService:Unavailable", e.VenueUnavailable, None),
    ("EService:Busy", e.VenueUnavailable, None),
    ("EOrder:Margin allowance exceeded", e.InsufficientFunds, None),
    # detail suffixes fall back to their row
    ("EGeneral:Invalid arguments:volume", e.InvalidOrder, "PARAMETER"),
    ("EGeneral:Invalid arguments:Index unavailable", e.InvalidOrder, "TRIGGER"),
    ("EAPI:Invalid arguments:start_time must be < expire_time", e.InvalidOrder, "PARAMETER"),
    ("EEarnings:Below min:(De)allocation operation amount less than minimum", e.InvalidOrder, "MIN_AMOUNT"),
    ("EEarnings:Busy:Another (de)allocation for the same strategy is in progress", e.VenueUnavailable, None),
    ("EEarnings:Insufficient funds:Insufficient funds to complete the (de)allocation request",
     e.InsufficientFunds, None),
    # unknown strings fall back to their category
    ("EOrder:Something new", e.InvalidOrder, None),
    ("EService:Something new", e.VenueUnavailable, None),
    ("EFunding:Unknown withdraw key", e.BrokerError, None),
    ("EWhatever:Unknown", e.BrokerError, None),
])
def test_named_rows_and_fallbacks(text: str, kind: type[e.BrokerError], filter_name: str | None) -> None:
    error = error_for([text])
    assert type(error) is kind and error.venue_message == text
    if isinstance(error, e.InvalidOrder):
        assert error.filter == filter_name


def test_lookup_keeps_the_longest_known_prefix() -> None:
    assert lookup("EOrder:Reduce only:Non-PC")[0] == "EOrder:Reduce only:Non-PC"
    assert lookup("EGeneral:Invalid arguments:price")[0] == "EGeneral:Invalid arguments"
    assert lookup("EOrder:Brand new:thing")[0] == "EOrder"


def test_invalid_nonce_is_a_retryable_refusal_not_a_lost_order() -> None:
    error = error_for(["EAPI:Invalid nonce"])
    assert is_invalid_nonce(error) and error.retryable and outcome_known(error)
    assert not is_invalid_nonce(error_for(["EAPI:Invalid key"]))
    assert not error_for(["EAPI:Invalid key"]).retryable


def test_deadline_elapsed_is_a_known_non_execution() -> None:
    error = error_for(["EService:Deadline elapsed"])
    assert isinstance(error, e.NotExecuted) and error.retryable and outcome_known(error)
    assert "not executed" in error.message


@pytest.mark.parametrize("text", sorted(OUTCOME_UNKNOWN))
def test_outcome_unknown_rows(text: str) -> None:
    error = error_for([text])
    assert not outcome_known(error) and error.retryable and "outcome unknown" in error.message


def test_refusals_have_a_known_outcome() -> None:
    for text in ("EOrder:Insufficient funds", "EOrder:Rate limit exceeded", "EGeneral:Invalid arguments"):
        assert outcome_known(error_for([text]))


def test_throttled_carries_retry_after_and_lockout_is_a_ban() -> None:
    throttled = error_for(["EService:Throttled: 1700000030"], now_s=1700000000.0)
    assert isinstance(throttled, e.RateLimited) and throttled.retry_after == 30 and not throttled.banned
    lockout = error_for(["EGeneral:Temporary lockout"])
    assert isinstance(lockout, e.RateLimited) and lockout.banned and lockout.retry_after == 900


def test_warnings_are_not_errors_and_all_errors_are_carried() -> None:
    assert split_messages(["WDatabase:No change", "EOrder:Insufficient funds"]) == (
        ["EOrder:Insufficient funds"], ["WDatabase:No change"])
    raise_for_errors(["WDatabase:No change"])  # a warning alone: success
    raise_for_errors([])
    with pytest.raises(e.InsufficientFunds) as raised:
        raise_for_errors(["EOrder:Insufficient funds", "EOrder:Margin level too low"])
    assert raised.value.venue_message == "EOrder:Insufficient funds; EOrder:Margin level too low"
    with pytest.raises(ValueError, match="no error"):
        error_for(["WDatabase:No change"])


def test_a_duplicate_client_order_id_means_look_it_up() -> None:
    error = error_for(["EOrder:Duplicate cl_ord_id"])
    assert isinstance(error, e.DuplicateOrder) and error.code == "EOrder"


@pytest.mark.parametrize(("status", "body", "kind"), [
    (502, b"<html>Bad gateway</html>", e.VenueUnavailable),
    (520, b"", e.VenueUnavailable),
    (429, b"", e.RateLimited),
    (403, b"<html>blocked</html>", e.PermissionDenied),
    (404, b"", e.NotSupported),
    (400, b"garbage", e.ProtocolViolation),
    (400, b'{"error": ["EGeneral:Invalid arguments"]}', e.InvalidOrder),
])
def test_http_statuses(status: int, body: bytes, kind: type[e.BrokerError]) -> None:
    error = map_error(status, body, {"retry-after": "3"})
    assert type(error) is kind
    if status >= 500:
        assert not outcome_known(error)
    if status == 429:
        assert isinstance(error, e.RateLimited) and error.retry_after == 3


def test_the_sdks_error_strings_all_map_to_a_specific_class() -> None:
    """Every spot error string python-kraken-sdk knows gets a typed error other than the bare base."""
    sdk = pytest.importorskip("kraken.exceptions", reason="python-kraken-sdk is a dev dependency")
    spot = [text for text in sdk.EXCEPTION_ASSIGNMENT if text[:1] == "E" and ":" in text and
            not text.startswith("EFunding")]
    assert len(spot) > 40
    for text in spot:
        assert type(error_for([text])) is not e.BrokerError, text
