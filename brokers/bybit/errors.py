"""Bybit V5 retCodes (and HTTP statuses) -> protocol errors, in one table.

Bybit answers most failures with HTTP 200 and a non-zero ``retCode`` in the JSON envelope, so the
client checks ``retCode`` on every answer (`raise_for_ret_code`); the HTTP layer only sees 403 (IP
rate limit or ban: stop for at least 10 minutes), 401/404 (key or path / category-vs-account-mode),
429 (system-level protection) and 5xx (outcome unknown) -- `map_error` has the `brokers.rest`
``ErrorMapper`` signature for those.

Contract (11xxxx) and spot (17xxxx) codes differ, so both families appear. Every row was checked
against the V5 error page (https://bybit-exchange.github.io/docs/v5/error, source
bybit-exchange/docs): general, UTA and "Spot Trade" tables. ``110043`` ("Set leverage has not been
modified") is a success for `set_leverage`: see `is_leverage_not_modified`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from brokers.bybit.constants import HEADER_LIMIT_RESET, IP_BAN_MIN_S, VENUE
from brokers.errors import (
    LEVERAGE,
    LOT_SIZE,
    NOTIONAL,
    PARAMETER,
    PRICE_FILTER,
    REDUCE_ONLY,
    SYMBOL,
    TIME_IN_FORCE,
    CodeRow,
    error_body,
)
from protocol import errors as e

LEVERAGE_NOT_MODIFIED = 110043
POSITION_MODE_NOT_MODIFIED = 110025

CODE_TABLE: dict[int, CodeRow] = {
    # general (UTA table)
    -1: CodeRow(e.VenueUnavailable),  # "request expired": sat too long in Bybit's queue
    429: CodeRow(e.VenueUnavailable),  # retCode 429: trading service under high load, retry
    -2015: CodeRow(e.AuthenticationError),  # (spot) API key expired
    33004: CodeRow(e.AuthenticationError),  # (derivatives) API key expired
    10000: CodeRow(e.VenueUnavailable),  # server timeout
    10001: CodeRow(e.InvalidOrder, PARAMETER),  # request parameter error
    10002: CodeRow(e.AuthenticationError),  # request time outside the recv_window (clock offset)
    10003: CodeRow(e.AuthenticationError),  # API key invalid (or key/domain mismatch: mainnet/testnet/demo)
    10004: CodeRow(e.AuthenticationError),  # error sign
    10005: CodeRow(e.PermissionDenied),  # permission denied for this key
    10006: CodeRow(e.RateLimited),  # too many visits: per-UID API rate limit
    10007: CodeRow(e.AuthenticationError),  # user authentication failed
    10008: CodeRow(e.PermissionDenied),  # common banned, check the account mode
    10009: CodeRow(e.RateLimited),  # IP has been banned
    10010: CodeRow(e.PermissionDenied),  # unmatched IP (key bound to other IPs)
    10014: CodeRow(e.InvalidOrder),  # invalid duplicate request
    10016: CodeRow(e.VenueUnavailable),  # server error
    10017: CodeRow(e.NotSupported),  # route not found
    10018: CodeRow(e.RateLimited),  # exceeded the IP rate limit (struck through on newer pages)
    10024: CodeRow(e.PermissionDenied),  # compliance rules triggered
    10027: CodeRow(e.PermissionDenied),  # transactions are banned
    10028: CodeRow(e.NotSupported),  # only unified-account users may use this API
    10029: CodeRow(e.PermissionDenied),  # symbol not in the key's whitelist
    30208: CodeRow(e.InvalidOrder, PRICE_FILTER),  # price above the maximum buying price
    # contracts (UTA table, 11xxxx)
    110001: CodeRow(e.OrderNotFound),  # order does not exist
    110003: CodeRow(e.InvalidOrder, PRICE_FILTER),  # order price exceeds the allowable range
    110004: CodeRow(e.InsufficientFunds),  # wallet balance is insufficient
    110005: CodeRow(e.InvalidOrder, "POSITION_STATUS"),  # position status error
    110006: CodeRow(e.InsufficientFunds),  # assets cannot cover the position margin
    110007: CodeRow(e.InsufficientFunds),  # available balance is insufficient
    110008: CodeRow(e.OrderNotFound),  # order has been completed or cancelled (nothing open to act on)
    110010: CodeRow(e.OrderNotFound),  # order has been cancelled
    110012: CodeRow(e.InsufficientFunds),  # insufficient available balance
    110014: CodeRow(e.InsufficientFunds),  # insufficient available balance to add margin
    110017: CodeRow(e.InvalidOrder, REDUCE_ONLY),  # reduce-only rule not satisfied
    110019: CodeRow(e.InvalidOrder),  # order ID is illegal
    110020: CodeRow(e.InvalidOrder, "MAX_NUM_ORDERS"),  # more than 500 active orders
    110021: CodeRow(e.InvalidOrder, "POSITION_LIMIT"),  # position limit (open interest)
    110022: CodeRow(e.InvalidOrder, LOT_SIZE),  # quantity restricted, cannot be raised
    110023: CodeRow(e.InvalidOrder, REDUCE_ONLY),  # only position reduction allowed on this contract
    110025: CodeRow(e.InvalidOrder),  # position mode has not been modified
    110040: CodeRow(e.InvalidOrder, "LIQUIDATION"),  # order would trigger a forced liquidation
    110043: CodeRow(e.InvalidOrder, LEVERAGE),  # set leverage has not been modified (success for set_leverage)
    110044: CodeRow(e.InsufficientFunds),  # available margin is insufficient
    110045: CodeRow(e.InsufficientFunds),  # wallet balance is insufficient
    110066: CodeRow(e.MarketClosed),  # trading is currently not allowed
    110072: CodeRow(e.DuplicateOrder),  # "OrderLinkedID is duplicate"
    110074: CodeRow(e.MarketClosed),  # this contract is not live
    110079: CodeRow(e.VenueUnavailable),  # order is processing, try again later
    110090: CodeRow(e.InvalidOrder, "POSITION_LIMIT"),  # position may exceed the max limit at this leverage
    110094: CodeRow(e.InvalidOrder, NOTIONAL),  # order notional value below the lower limit
    110120: CodeRow(e.InvalidOrder, PRICE_FILTER),  # price below the price limitation
    110121: CodeRow(e.InvalidOrder, PRICE_FILTER),  # price above the price limitation
    # spot ("Spot Trade" table, 17xxxx)
    170001: CodeRow(e.VenueUnavailable),  # internal error
    170005: CodeRow(e.RateLimited),  # too many new orders
    170007: CodeRow(e.VenueUnavailable),  # timeout waiting for the backend
    170033: CodeRow(e.InsufficientFunds),  # margin: insufficient account balance
    170105: CodeRow(e.InvalidOrder, PARAMETER),  # parameter was empty
    170115: CodeRow(e.InvalidOrder, TIME_IN_FORCE),  # invalid timeInForce
    170116: CodeRow(e.InvalidOrder, "ORDER_TYPE"),  # invalid orderType
    170117: CodeRow(e.InvalidOrder, "SIDE"),  # invalid side
    170121: CodeRow(e.InvalidOrder, SYMBOL),  # invalid symbol
    170124: CodeRow(e.InvalidOrder, NOTIONAL),  # order amount too large
    170130: CodeRow(e.InvalidOrder, PARAMETER),  # data sent for a parameter is not valid
    170131: CodeRow(e.InsufficientFunds),  # balance insufficient
    170132: CodeRow(e.InvalidOrder, PRICE_FILTER),  # order price too high
    170133: CodeRow(e.InvalidOrder, PRICE_FILTER),  # order price lower than the minimum
    170134: CodeRow(e.InvalidOrder, PRICE_FILTER),  # order price decimal too long
    170136: CodeRow(e.InvalidOrder, LOT_SIZE),  # order quantity lower than the minimum
    170137: CodeRow(e.InvalidOrder, LOT_SIZE),  # order volume decimal too long
    170139: CodeRow(e.OrderNotFound),  # order has been filled (nothing open to act on)
    170140: CodeRow(e.InvalidOrder, NOTIONAL),  # order value exceeded lower limit
    170141: CodeRow(e.DuplicateOrder),  # duplicate clientOrderId
    170142: CodeRow(e.OrderNotFound),  # order has been cancelled
    170143: CodeRow(e.OrderNotFound),  # cannot be found on order book
    170146: CodeRow(e.VenueUnavailable),  # order creation timeout: outcome unknown
    170147: CodeRow(e.VenueUnavailable),  # order cancellation timeout: outcome unknown
    170148: CodeRow(e.InvalidOrder, LOT_SIZE),  # market order amount decimal too long
    170151: CodeRow(e.MarketClosed),  # trading pair not open yet
    170157: CodeRow(e.PermissionDenied),  # pair not available for API trading
    170190: CodeRow(e.OrderNotFound),  # cancel order has been finished
    170192: CodeRow(e.InvalidOrder, PRICE_FILTER),  # order price cannot be higher than %s
    170193: CodeRow(e.InvalidOrder, PRICE_FILTER),  # buy order price cannot be higher than %s
    170194: CodeRow(e.InvalidOrder, PRICE_FILTER),  # sell order price cannot be lower than %s
    170213: CodeRow(e.OrderNotFound),  # order does not exist
    170222: CodeRow(e.RateLimited),  # too many requests in this time frame
    170341: CodeRow(e.InvalidOrder, LOT_SIZE),  # request order quantity exceeds maximum limit
    170371: CodeRow(e.InvalidOrder, PRICE_FILTER),  # price below the price limitation
    170372: CodeRow(e.InvalidOrder, PRICE_FILTER),  # price above the price limitation
    170381: CodeRow(e.InvalidOrder, LOT_SIZE),  # order quantity too large
    170382: CodeRow(e.InvalidOrder, LOT_SIZE),  # order quantity too large
    170810: CodeRow(e.InvalidOrder, "MAX_NUM_ORDERS"),  # more than 500 conditional, TP/SL and active orders
}

BANNED_CODES = frozenset({10009})


def is_leverage_not_modified(ret_code: int) -> bool:
    """``110043`` answers set-leverage when the leverage already has the requested value: a success."""
    return ret_code == LEVERAGE_NOT_MODIFIED


def retry_after_from_headers(headers: Mapping[str, str] | None, now_ms: int | None) -> float | None:
    """Seconds until ``X-Bapi-Limit-Reset-Timestamp`` (only meaningful once the limit is exceeded)."""
    if not headers or now_ms is None:
        return None
    raw = next((value for key, value in headers.items() if key.lower() == HEADER_LIMIT_RESET.lower()), None)
    if raw is None or not raw.isdigit():
        return None
    return max(0.0, (int(raw) - now_ms) / 1000)


def error_for(ret_code: int, ret_msg: str, *, http_status: int = 200, retry_after: float | None = None,
              headers: Mapping[str, str] | None = None, now_ms: int | None = None) -> e.BrokerError:
    """The typed error for a failed answer. HTTP 403 and 5xx win over the body's ``retCode``."""
    if retry_after is None:
        retry_after = retry_after_from_headers(headers, now_ms)
    if http_status == 403:
        return e.RateLimited("Bybit refused the IP (rate limit or ban): stop REST traffic for 10 minutes",
                             retry_after=retry_after if retry_after is not None else IP_BAN_MIN_S, banned=True,
                             venue=VENUE, code=403, venue_message=ret_msg or None)
    if http_status >= 500:
        return e.VenueUnavailable(f"Bybit HTTP {http_status}: outcome unknown", venue=VENUE, code=http_status,
                                  venue_message=ret_msg or None)
    if http_status == 429 and ret_code == 0:
        return e.RateLimited("Bybit system-level frequency protection", retry_after=retry_after, venue=VENUE,
                             code=429, venue_message=ret_msg or None)
    if http_status == 401 and ret_code == 0:
        return e.AuthenticationError("Bybit HTTP 401: key missing or not accepted", venue=VENUE, code=401,
                                     venue_message=ret_msg or None)
    if http_status == 404 and ret_code == 0:
        return e.NotSupported("Bybit HTTP 404: wrong path, or the category does not match the account mode",
                              venue=VENUE, code=404, venue_message=ret_msg or None)
    row = CODE_TABLE.get(ret_code, CodeRow(e.BrokerError))
    common: dict[str, Any] = {"venue": VENUE, "code": ret_code, "venue_message": ret_msg}
    if row.kind is e.RateLimited:
        banned = ret_code in BANNED_CODES
        if banned and retry_after is None:
            retry_after = IP_BAN_MIN_S
        return row.error("Bybit rate limit" + (" ban" if banned else ""), retry_after=retry_after, banned=banned,
                         **common)
    if row.kind is e.InvalidOrder:
        filter_name = _parameter_filter(ret_msg) if ret_code == 10001 else row.filter
        return row.error("Bybit rejected the request parameters" + (f" ({filter_name})" if filter_name else ""),
                         filter=filter_name, **common)
    if row.kind is e.AuthenticationError and ret_code == 10002:
        return row.error("request timestamp outside recv_window (clock offset)", retryable=True, **common)
    if row.kind is e.VenueUnavailable:
        return row.error(f"Bybit could not process the request (retCode {ret_code}, outcome unknown)", **common)
    return row.error(f"Bybit error {ret_code}", **common)


# 10001 ("params error") covers several filter failures on contracts; only its message tells which.
PARAMETER_MESSAGES: list[tuple[str, str]] = [
    ("number of contracts exceeds", LOT_SIZE),  # "...exceeds minimum/maximum limit allowed"
    ("qty", LOT_SIZE),
    ("price", PRICE_FILTER),
    ("leverage", LEVERAGE),
]


def _parameter_filter(message: str) -> str:
    lowered = message.lower()
    return next((name for text, name in PARAMETER_MESSAGES if text in lowered), PARAMETER)


def raise_for_ret_code(ret_code: int, ret_msg: str, *, http_status: int = 200,
                       headers: Mapping[str, str] | None = None, now_ms: int | None = None) -> None:
    """Raise the typed error of a non-zero ``retCode`` (every REST answer must pass through this)."""
    if ret_code != 0 or http_status >= 400:
        raise error_for(ret_code, ret_msg, http_status=http_status, headers=headers, now_ms=now_ms)


class _ErrorBody(msgspec.Struct):
    retCode: int = 0
    retMsg: str = ""


def map_error(status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
    """`brokers.rest.ErrorMapper` for HTTP >= 400 answers (the body may be HTML or empty then)."""
    parsed = error_body(body, _ErrorBody, text_field="retMsg")
    if status == 400 and parsed.retCode == 0:
        return e.ProtocolViolation(f"Bybit HTTP 400: malformed request ({parsed.retMsg or 'no detail'})",
                                   venue=VENUE, code=400)
    return error_for(parsed.retCode, parsed.retMsg, http_status=status, headers=headers)
