"""Binance's error codes -> protocol errors, in one table.

Codes and messages are Binance's (spot "Error codes" documentation). HTTP 429 is a rate limit
(honour Retry-After), 418 an IP ban after ignoring 429s, 403 the WAF, 5xx an unknown outcome.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from brokers.binance.constants import VENUE
from brokers.binance.schemas import ErrorBody
from protocol import errors as e

CODE_TABLE: dict[int, type[e.BrokerError]] = {
    -1000: e.VenueUnavailable,  # UNKNOWN
    -1001: e.VenueUnavailable,  # DISCONNECTED: internal error
    -1002: e.AuthenticationError,  # UNAUTHORIZED
    -1003: e.RateLimited,  # TOO_MANY_REQUESTS
    -1006: e.VenueUnavailable,  # UNEXPECTED_RESP: execution status unknown
    -1007: e.VenueUnavailable,  # TIMEOUT: execution status unknown
    -1008: e.VenueUnavailable,  # SERVER_BUSY
    -1013: e.InvalidOrder,  # filter failures
    -1015: e.RateLimited,  # TOO_MANY_ORDERS
    -1021: e.AuthenticationError,  # INVALID_TIMESTAMP (clock / recvWindow)
    -1022: e.AuthenticationError,  # INVALID_SIGNATURE
    -1100: e.InvalidOrder,  # ILLEGAL_CHARS
    -1102: e.InvalidOrder,  # MANDATORY_PARAM_EMPTY_OR_MALFORMED
    -1106: e.InvalidOrder,  # PARAM_NOT_REQUIRED
    -1111: e.InvalidOrder,  # BAD_PRECISION
    -1116: e.InvalidOrder,  # INVALID_ORDER_TYPE
    -1117: e.InvalidOrder,  # INVALID_SIDE
    -1121: e.InvalidOrder,  # BAD_SYMBOL
    -1125: e.VenueUnavailable,  # INVALID_LISTEN_KEY: expired; a reconnect gets a new one
    -2010: e.InvalidOrder,  # NEW_ORDER_REJECTED (refined by message below)
    -2011: e.OrderNotFound,  # CANCEL_REJECTED: unknown order
    -2013: e.OrderNotFound,  # NO_SUCH_ORDER
    -2014: e.AuthenticationError,  # BAD_API_KEY_FMT
    -2015: e.AuthenticationError,  # REJECTED_MBX_KEY
}

# -2010 carries several reasons; Binance distinguishes them only by message.
REJECTION_MESSAGES: list[tuple[str, type[e.BrokerError]]] = [
    ("insufficient balance", e.InsufficientFunds),
    ("duplicate order", e.DuplicateOrder),
    ("market is closed", e.MarketClosed),
    ("action is disabled on this account", e.PermissionDenied),  # trading switched off for the account
]

FILTER = re.compile(r"Filter failure: (\w+)")


def error_from_code(code: int, msg: str, *, status: int = 400,
                    retry_after: float | None = None) -> e.BrokerError:
    cls = CODE_TABLE.get(code, e.InvalidOrder if 400 <= status < 500 else e.VenueUnavailable)
    if code == -2010:
        lowered = msg.lower()
        cls = next((kind for text, kind in REJECTION_MESSAGES if text in lowered), e.InvalidOrder)
    common: dict[str, Any] = {"venue": VENUE, "code": code, "venue_message": msg}
    if cls is e.RateLimited or status in (418, 429):
        return e.RateLimited("Binance rate limit" + (" ban" if status == 418 else ""), retry_after=retry_after,
                             banned=status == 418, **common)
    if cls is e.InvalidOrder:
        found = FILTER.search(msg)
        filter_name = found.group(1) if found else ("SYMBOL" if code == -1121 else "PRECISION" if code == -1111
                                                     else None)
        return e.InvalidOrder("Binance rejected the order parameters", filter=filter_name, **common)
    if cls is e.AuthenticationError and code == -1021:
        return e.AuthenticationError("request timestamp outside recvWindow (clock offset)", retryable=True,
                                     **common)
    if cls is e.AuthenticationError:
        return e.AuthenticationError("Binance refused the API key or signature", **common)
    if cls is e.VenueUnavailable and code == -1125:
        return e.VenueUnavailable("Binance listen key expired or unknown: reconnect for a new one", **common)
    if cls is e.VenueUnavailable:
        return e.VenueUnavailable("Binance could not process the request (outcome unknown)", **common)
    return cls(f"Binance error {code}", **common)


def map_error(status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
    retry = headers.get("retry-after")
    retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
    try:
        parsed = msgspec.json.decode(body, type=ErrorBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        parsed = None
    if status in (418, 429):
        return error_from_code(parsed.code if parsed else -1003, parsed.msg if parsed else f"HTTP {status}",
                               status=status, retry_after=retry_after)
    if status == 403:
        return e.PermissionDenied("Binance WAF refused the request", venue=VENUE, code=403)
    if status >= 500:
        return e.VenueUnavailable(f"Binance HTTP {status}: outcome unknown", venue=VENUE,
                                  code=parsed.code if parsed else status, venue_message=parsed.msg if parsed else None)
    if parsed is None:
        return e.ProtocolViolation(f"Binance HTTP {status} with an unreadable body", venue=VENUE, code=status)
    return error_from_code(parsed.code, parsed.msg, status=status, retry_after=retry_after)
