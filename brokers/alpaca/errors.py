"""Alpaca's HTTP statuses, error codes and stream error codes -> protocol errors, in one place.

REST failures come as an HTTP status >= 400 with ``{"code": <8 digits>, "message": ...}``; the code's
first three digits repeat the status (40010001 is a 400-family validation error sent with HTTP 422).
A code covers a family, not a reason: 40310000 is "insufficient buying power", "insufficient qty" and
"potential wash trade" alike, so the message refines the class (`MESSAGE_RULES`; Alpaca says the
codes and statuses are the stable contract and the messages may change, so an unmatched message
falls back to the code's class). Market data answers carry ``{"message": ...}`` without a code and
are typed by HTTP status alone.

The 200-requests-per-minute limit answers 429; ``X-RateLimit-Reset`` (UNIX seconds) says when quota
comes back (`retry_after_from_headers`). 5xx means "outcome unknown" (a write may have happened).

Both websockets have their own codes: the market data stream sends ``{"T": "error", "code", "msg"}``
(`DATA_STREAM_ERRORS`), the trading stream an ``authorization`` answer with status "unauthorized".
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import msgspec

from brokers.alpaca.constants import HEADER_RATE_RESET, REQUESTS_PER_MINUTE, VENUE
from brokers.errors import (
    CLIENT_ORDER_ID,
    LOT_SIZE,
    NOTIONAL,
    PARAMETER,
    PRICE_FILTER,
    SYMBOL,
    TIME_IN_FORCE,
    CodeRow,
    error_body,
)
from protocol import errors as e

EXTENDED_HOURS = "EXTENDED_HOURS"
ORDER_CLASS = "ORDER_CLASS"
SHORT = "SHORT"
WASH_TRADE = "WASH_TRADE"
PATTERN_DAY_TRADING = "PATTERN_DAY_TRADING"

CODE_TABLE: dict[int, CodeRow] = {
    40010000: CodeRow(e.InvalidOrder, PARAMETER),  # malformed request ("request body format is invalid")
    40010001: CodeRow(e.InvalidOrder, PARAMETER),  # validation (HTTP 422), refined by message
    40110000: CodeRow(e.AuthenticationError),  # "request is not authorized" (bad or missing keys)
    40310000: CodeRow(e.InsufficientFunds),  # 403 on orders: "buying power or shares is not sufficient"
    40310100: CodeRow(e.InvalidOrder, PATTERN_DAY_TRADING),  # PDT protection (rule retired 2026-06-04, code kept)
    40410000: CodeRow(e.OrderNotFound),  # "order not found" / "position does not exist" (refined: "endpoint")
    40510000: CodeRow(e.NotSupported),  # "method not allowed"
    42210000: CodeRow(e.InvalidOrder, PARAMETER),  # unprocessable (e.g. "fractional orders must be simple orders")
    42910000: CodeRow(e.RateLimited),  # rate limit exceeded
    50010000: CodeRow(e.VenueUnavailable),  # internal server error: outcome unknown
}

STATUS_TABLE: dict[int, CodeRow] = {
    # When the body carries no code (market data, proxies, an unknown path).
    400: CodeRow(e.InvalidOrder, PARAMETER),
    401: CodeRow(e.AuthenticationError),
    403: CodeRow(e.PermissionDenied),  # market data: not authenticated, or "subscription does not permit ..."
    404: CodeRow(e.NotSupported),  # no resource at this path (a missing order carries code 40410000)
    409: CodeRow(e.PermissionDenied),
    422: CodeRow(e.InvalidOrder, PARAMETER),
    429: CodeRow(e.RateLimited),
}

REFINABLE_CODES = frozenset({40010000, 40010001, 40310000, 40410000, 42210000})
REFINABLE_STATUSES = frozenset({400, 403, 422})

MESSAGE_RULES: list[tuple[tuple[str, ...], type[e.BrokerError], str | None]] = [
    # (any of these lower-case fragments, class, filter). First match wins: specific before generic.
    (("client_order_id must be unique", "client order id must be unique"), e.DuplicateOrder, None),
    (("endpoint not found",), e.NotSupported, None),  # 404 40410000 on a path Alpaca does not serve
    (("pattern day trad",), e.InvalidOrder, PATTERN_DAY_TRADING),
    (("wash trade",), e.InvalidOrder, WASH_TRADE),
    (("insufficient",), e.InsufficientFunds, None),  # buying power, qty available, day trading buying power
    (("not fractionable",), e.InvalidOrder, LOT_SIZE),
    (("fractional orders must be simple", "must be simple orders"), e.InvalidOrder, ORDER_CLASS),
    (("extended hours", "extended_hours"), e.InvalidOrder, EXTENDED_HOURS),
    (("market hours", "market is closed", "market closed"), e.MarketClosed, None),
    (("not cancelable", "cannot replace order", "order already replaced", "order is already",
      "already in"), e.OrderNotFound, None),  # nothing open to act on
    (("sub-penny", "minimum pricing criteria", "limit_price", "stop_price", "limit price", "stop price",
      "trail_price", "trail_percent"), e.InvalidOrder, PRICE_FILTER),
    (("client_order_id", "client order id"), e.InvalidOrder, CLIENT_ORDER_ID),  # too long, empty
    (("short",), e.InvalidOrder, SHORT),  # not shortable / not easy to borrow / shorting disabled
    (("not tradable", "not active", "asset not found", "could not find asset", "is not supported",
      "symbol"), e.InvalidOrder, SYMBOL),
    (("time_in_force", "time in force"), e.InvalidOrder, TIME_IN_FORCE),
    (("notional",), e.InvalidOrder, NOTIONAL),
    (("qty", "quantity"), e.InvalidOrder, LOT_SIZE),
    (("order_class", "order class", "take_profit", "stop_loss", "bracket", "oco", "oto"), e.InvalidOrder,
     ORDER_CLASS),
    (("not authorized", "not eligible", "not allowed", "disabled", "blocked", "forbidden",
      "subscription"), e.PermissionDenied, None),
]


class ErrorBody(msgspec.Struct):
    """``{"code": 40010001, "message": "..."}``; ``code`` is absent on market data answers."""

    message: str = ""
    code: int | None = None


def refine(message: str) -> CodeRow | None:
    lowered = message.lower()
    return next((CodeRow(cls, name) for fragments, cls, name in MESSAGE_RULES
                 if any(f in lowered for f in fragments)), None)


RETRY_AFTER_MAX_S = 60.0
"""The limit is per minute: a reset further away than that is a clock disagreement, not a wait."""


def retry_after_from_headers(headers: Mapping[str, str] | None, now_s: float | None = None) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (UNIX seconds on the venue's clock: pass ``now_s`` in its terms),
    else a ``Retry-After`` header, else None; never more than a minute."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    reset = lowered.get(HEADER_RATE_RESET.lower())
    if reset is not None and reset.isdigit():
        now = time.time() if now_s is None else now_s
        return min(max(0.0, int(reset) - now), RETRY_AFTER_MAX_S)
    retry = lowered.get("retry-after")
    if retry is not None:
        try:
            return min(max(0.0, float(retry)), RETRY_AFTER_MAX_S)
        except ValueError:
            return None
    return None


DESCRIPTIONS: dict[type[e.BrokerError], str] = {
    e.DuplicateOrder: "client_order_id already used on this account: the order exists, look it up",
    e.InsufficientFunds: "Alpaca: buying power or shares not sufficient",
    e.AuthenticationError: "Alpaca refused the API key (APCA-API-KEY-ID / APCA-API-SECRET-KEY)",
    e.PermissionDenied: "Alpaca: not permitted for this account or data subscription",
    e.OrderNotFound: "Alpaca: no such open order (or position)",
    e.MarketClosed: "Alpaca: the market is closed for this order",
    e.VenueUnavailable: "Alpaca could not process the request (outcome unknown)",
}


def error_for(status: int, code: int | None, message: str, *, retry_after: float | None = None) -> e.BrokerError:
    """The typed error of a failed answer: 5xx and 429 by status, else the code, refined by message."""
    common: dict[str, Any] = {"venue": VENUE, "code": code if code is not None else status,
                              "venue_message": message or None}
    if status >= 500 or code == 50010000:
        return CodeRow(e.VenueUnavailable).error(f"Alpaca HTTP {status}: outcome unknown", **common)
    if status == 429 or code == 42910000:
        return CodeRow(e.RateLimited).error(f"Alpaca rate limit ({REQUESTS_PER_MINUTE} requests per minute)",
                                            retry_after=retry_after, **common)
    row = CODE_TABLE.get(code) if code is not None else None
    if row is None:
        row = STATUS_TABLE.get(status, CodeRow(e.BrokerError))
    if (code in REFINABLE_CODES or (code is None and status in REFINABLE_STATUSES)) and message:
        row = refine(message) or row
    if row.kind is e.InvalidOrder:
        text = "Alpaca rejected the order parameters" + (f" ({row.filter})" if row.filter else "")
    elif row.kind is e.NotSupported:
        text = f"Alpaca HTTP {status}: no such endpoint"
    else:
        text = DESCRIPTIONS.get(row.kind, f"Alpaca error {code if code is not None else status}")
    return row.error(text, **common)


def map_error(status: int, body: bytes, headers: Mapping[str, str], *, now_s: float | None = None) -> e.BrokerError:
    """`brokers.rest.ErrorMapper` for HTTP >= 400 answers (the body may be empty, HTML or plain text).
    ``now_s``: the venue's clock, for the rate-limit reset header (default: ours)."""
    parsed = error_body(body, ErrorBody, text_field="message")
    return error_for(status, parsed.code, parsed.message, retry_after=retry_after_from_headers(headers, now_s))


# --- websockets ---------------------------------------------------------------------------------------

DATA_STREAM_ERRORS: dict[int, tuple[type[e.BrokerError], str, bool]] = {
    # code: (class, what it means for us, retrying (a reconnect) can help)
    400: (e.ProtocolViolation, "invalid syntax: we sent a message Alpaca cannot read", False),
    401: (e.ProtocolViolation, "not authenticated: subscribed before authenticating", True),
    402: (e.AuthenticationError, "auth failed: the key or secret is wrong", False),
    403: (e.ProtocolViolation, "already authenticated in this session", True),
    404: (e.VenueUnavailable, "auth timeout: no auth message within 10 s of connecting", True),
    405: (e.PermissionDenied, "symbol limit of the data subscription exceeded (subscriptions unchanged)", False),
    406: (e.VenueUnavailable, "connection limit exceeded: another session holds this endpoint", True),
    407: (e.VenueUnavailable, "slow client: we did not read fast enough and were disconnected", True),
    409: (e.PermissionDenied, "insufficient subscription for this feed (SIP needs Algo Trader Plus)", False),
    410: (e.NotSupported, "invalid subscribe action for this feed", False),
    500: (e.VenueUnavailable, "internal error at Alpaca", True),
}


def data_stream_error(code: int, message: str) -> e.BrokerError:
    """The typed error of a market-data ``{"T": "error"}`` frame (unknown codes: `ProtocolViolation`)."""
    cls, meaning, retryable = DATA_STREAM_ERRORS.get(code, (e.ProtocolViolation, "unknown stream error", True))
    return cls(f"Alpaca data stream: {meaning}", venue=VENUE, code=code, venue_message=message or None,
               retryable=retryable)


def trading_stream_error(status: str, action: str) -> e.BrokerError:
    """An ``authorization`` answer other than "authorized": the keys were refused (or, for ``action``
    "listen", we listened before authenticating -- a bug of ours, and a reconnect repeats auth)."""
    if action == "listen":
        return e.ProtocolViolation("Alpaca trading stream: listen before authentication", venue=VENUE,
                                   code=status, venue_message=f"{status} ({action})")
    return e.AuthenticationError("Alpaca trading stream refused the API key", venue=VENUE, code=status,
                                 venue_message=f"{status} ({action or 'authenticate'})")
