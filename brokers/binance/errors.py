"""Binance's error codes -> protocol errors, in one table.

Codes and messages are Binance's (spot "Error codes" documentation). HTTP 429 is a rate limit
(honour Retry-After), 418 an IP ban after ignoring 429s, 403 the WAF, 5xx an unknown outcome.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from brokers.binance.constants import VENUE
from brokers.binance.schemas import ErrorBody
from brokers.errors import SYMBOL, CodeRow
from protocol import errors as e

CODE_TABLE: dict[int, CodeRow] = {
    -1000: CodeRow(e.VenueUnavailable),  # UNKNOWN
    -1001: CodeRow(e.VenueUnavailable),  # DISCONNECTED: internal error
    -1002: CodeRow(e.AuthenticationError),  # UNAUTHORIZED
    -1003: CodeRow(e.RateLimited),  # TOO_MANY_REQUESTS
    -1006: CodeRow(e.VenueUnavailable),  # UNEXPECTED_RESP: execution status unknown
    -1007: CodeRow(e.VenueUnavailable),  # TIMEOUT: execution status unknown
    -1008: CodeRow(e.VenueUnavailable),  # SERVER_BUSY
    -1013: CodeRow(e.InvalidOrder),  # filter failures ("Filter failure: X" names X)
    -1015: CodeRow(e.RateLimited),  # TOO_MANY_ORDERS
    -1021: CodeRow(e.AuthenticationError),  # INVALID_TIMESTAMP (clock / recvWindow): retryable, see below
    -1022: CodeRow(e.AuthenticationError),  # INVALID_SIGNATURE
    -1100: CodeRow(e.InvalidOrder),  # ILLEGAL_CHARS
    -1102: CodeRow(e.InvalidOrder),  # MANDATORY_PARAM_EMPTY_OR_MALFORMED
    -1106: CodeRow(e.InvalidOrder),  # PARAM_NOT_REQUIRED
    -1111: CodeRow(e.InvalidOrder, "PRECISION"),  # BAD_PRECISION
    -1116: CodeRow(e.InvalidOrder),  # INVALID_ORDER_TYPE
    -1117: CodeRow(e.InvalidOrder),  # INVALID_SIDE
    -1121: CodeRow(e.InvalidOrder, SYMBOL),  # BAD_SYMBOL
    -1125: CodeRow(e.VenueUnavailable),  # INVALID_LISTEN_KEY: expired; a reconnect gets a new one
    -2010: CodeRow(e.InvalidOrder),  # NEW_ORDER_REJECTED (refined by message below)
    -2011: CodeRow(e.OrderNotFound),  # CANCEL_REJECTED: unknown order
    -2013: CodeRow(e.OrderNotFound),  # NO_SUCH_ORDER
    -2014: CodeRow(e.AuthenticationError),  # BAD_API_KEY_FMT
    -2015: CodeRow(e.AuthenticationError),  # REJECTED_MBX_KEY
}

# -2010 carries several reasons; Binance distinguishes them only by message.
REJECTION_MESSAGES: list[tuple[str, CodeRow]] = [
    ("insufficient balance", CodeRow(e.InsufficientFunds)),
    ("duplicate order", CodeRow(e.DuplicateOrder)),
    ("market is closed", CodeRow(e.MarketClosed)),
    ("action is disabled on this account", CodeRow(e.PermissionDenied)),  # trading switched off for the account
]
RETRYABLE_CODES = frozenset({-1021})  # a clock offset: every reconnect measures it again

# What we say, by code first, then by kind of error (Binance's own words travel as venue_message).
CODE_MESSAGES: dict[int, str] = {
    -1021: "request timestamp outside recvWindow (clock offset)",
    -1125: "Binance listen key expired or unknown: reconnect for a new one",
}
KIND_MESSAGES: dict[type[e.BrokerError], str] = {
    e.InvalidOrder: "Binance rejected the order parameters",
    e.AuthenticationError: "Binance refused the API key or signature",
    e.VenueUnavailable: "Binance could not process the request (outcome unknown)",
}

FILTER = re.compile(r"Filter failure: (\w+)")


def error_from_code(code: int, msg: str, *, status: int = 400,
                    retry_after: float | None = None) -> e.BrokerError:
    row = CODE_TABLE.get(code) or CodeRow(e.InvalidOrder if 400 <= status < 500 else e.VenueUnavailable)
    if code == -2010:
        lowered = msg.lower()
        row = next((kind for text, kind in REJECTION_MESSAGES if text in lowered), row)
    if status in (418, 429):
        row = CodeRow(e.RateLimited)
    if row.kind is e.RateLimited:
        message = "Binance rate limit" + (" ban" if status == 418 else "")
    else:
        message = CODE_MESSAGES.get(code) or KIND_MESSAGES.get(row.kind) or f"Binance error {code}"
    named = FILTER.search(msg)
    return row.error(message, venue=VENUE, code=code, venue_message=msg, retry_after=retry_after,
                     banned=status == 418, retryable=True if code in RETRYABLE_CODES else None,
                     filter=named.group(1) if named else None)


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
