"""Bybit V5 retCodes -> protocol errors, in one table.

Bybit answers most failures with HTTP 200 and a non-zero ``retCode``; HTTP 403 is its IP rate
limit/ban, 5xx an unknown outcome. Spot (17xxxx) and contract (11xxxx) codes differ, so both appear.
``110043`` ("leverage not modified") is a success for `set_leverage`: see `is_leverage_not_modified`.

Checked against https://bybit-exchange.github.io/docs/v5/error: the HTTP codes and the general
10000-10029 / 33004 rows. Still to check there before the Bybit client relies on them: the contract
(11xxxx) and spot (17xxxx) rows below, written from the same page's families.
"""

from __future__ import annotations

from typing import Any

from protocol import errors as e

VENUE = "bybit"

LEVERAGE_NOT_MODIFIED = 110043

CODE_TABLE: dict[int, tuple[type[e.BrokerError], str | None]] = {
    10001: (e.InvalidOrder, None),  # parameter error
    10002: (e.AuthenticationError, None),  # timestamp / recv_window
    10003: (e.AuthenticationError, None),  # invalid API key
    10004: (e.AuthenticationError, None),  # signature error
    10005: (e.PermissionDenied, None),  # permission denied for this key
    10006: (e.RateLimited, None),  # too many visits
    10009: (e.RateLimited, None),  # IP has been banned
    10010: (e.PermissionDenied, None),  # unmatched IP
    10016: (e.VenueUnavailable, None),  # server error
    10018: (e.RateLimited, None),  # exceeded the IP rate limit
    33004: (e.AuthenticationError, None),  # API key expired
    110001: (e.OrderNotFound, None),  # order does not exist
    110003: (e.InvalidOrder, "PRICE_FILTER"),  # price out of the permissible range
    110004: (e.InsufficientFunds, None),  # wallet balance insufficient
    110007: (e.InsufficientFunds, None),  # available balance insufficient
    110017: (e.InvalidOrder, "REDUCE_ONLY"),  # reduce-only would increase the position
    110072: (e.DuplicateOrder, None),  # orderLinkId duplicate
    170130: (e.InvalidOrder, None),  # data sent exceeds limits
    170131: (e.InsufficientFunds, None),  # balance insufficient (spot)
    170136: (e.InvalidOrder, "LOT_SIZE"),  # quantity above the upper limit
    170137: (e.InvalidOrder, "LOT_SIZE"),  # quantity decimal too long
    170140: (e.InvalidOrder, "NOTIONAL"),  # order value below the lower limit
    170134: (e.InvalidOrder, "PRICE_FILTER"),  # price decimal too long
    170141: (e.DuplicateOrder, None),  # duplicate clientOrderId (spot)
    170213: (e.OrderNotFound, None),  # order does not exist (spot)
}


def is_leverage_not_modified(ret_code: int) -> bool:
    return ret_code == LEVERAGE_NOT_MODIFIED


def error_for(ret_code: int, ret_msg: str, *, http_status: int = 200,
              retry_after: float | None = None) -> e.BrokerError:
    common: dict[str, Any] = {"venue": VENUE, "code": ret_code, "venue_message": ret_msg}
    if http_status == 403:
        return e.RateLimited("Bybit refused the IP (rate limit or ban)", retry_after=retry_after, banned=True,
                             venue=VENUE, code=403, venue_message=ret_msg)
    if http_status >= 500:
        return e.VenueUnavailable(f"Bybit HTTP {http_status}: outcome unknown", venue=VENUE, code=http_status,
                                  venue_message=ret_msg)
    cls, filter_name = CODE_TABLE.get(ret_code, (e.BrokerError, None))
    if cls is e.RateLimited:
        return e.RateLimited("Bybit rate limit" + (" ban" if ret_code == 10009 else ""), retry_after=retry_after,
                             banned=ret_code == 10009, **common)
    if cls is e.InvalidOrder:
        return e.InvalidOrder("Bybit rejected the order parameters", filter=filter_name, **common)
    if cls is e.AuthenticationError and ret_code == 10002:
        return e.AuthenticationError("request timestamp outside recv_window (clock offset)", retryable=True,
                                     **common)
    if cls is e.BrokerError:
        return e.BrokerError(f"Bybit error {ret_code}", **common)
    return cls(f"Bybit error {ret_code}", **common)
