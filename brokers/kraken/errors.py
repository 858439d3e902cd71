"""Kraken's error strings (and HTTP statuses) -> protocol errors, in one table.

Kraken answers almost every failure with HTTP 200 and a non-empty ``error`` array of strings shaped
``<severity><category>:<type>[:<detail>]`` -- ``E`` for errors, ``W`` for warnings (which accompany a
successful ``result`` and are not failures). A string is looked up exactly, then with its trailing
``:detail`` parts removed (``EGeneral:Invalid arguments:volume`` -> ``EGeneral:Invalid arguments``,
``EService:Throttled: 1700000000`` -> ``EService:Throttled``), then by category. Strings from Kraken's
"Error messages" page (docs.kraken.com/exchange/guides/general/errors), its support article "API error
messages", and the error list python-kraken-sdk maps; the Earn ones from the Earn endpoints' pages.

Whether a refused request was executed matters more than its class (issue 11): every error here is a
definite refusal -- the request did nothing -- except the few in `OUTCOME_UNKNOWN`, where Kraken may
have processed it (look the order up, never resend blindly). ``EAPI:Invalid nonce`` is a refusal too:
retry once with a fresh nonce (see `is_invalid_nonce`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from brokers.kraken.constants import REST_LOCKOUT_S, VENUE
from protocol import errors as e

# Filter names follow the vocabulary of the other venues (LOT_SIZE, PRICE_FILTER, NOTIONAL ...).
LOT_SIZE = "LOT_SIZE"  # ordermin, lot_decimals
PRICE_FILTER = "PRICE_FILTER"  # tick_size, pair_decimals
NOTIONAL = "NOTIONAL"  # costmin
PARAMETER = "PARAMETER"

Row = tuple[type[e.BrokerError], str | None]

ERROR_TABLE: dict[str, Row] = {
    # authentication and API usage
    "EAPI:Invalid key": (e.AuthenticationError, None),
    "EAPI:Invalid signature": (e.AuthenticationError, None),
    "EAPI:Invalid nonce": (e.AuthenticationError, None),  # refused, retry once with a fresh nonce
    "EAPI:Rate limit exceeded": (e.RateLimited, None),  # the REST call counter
    "EAPI:Bad request": (e.InvalidOrder, PARAMETER),
    "EAPI:Feature disabled": (e.NotSupported, None),
    "EAPI:Invalid arguments": (e.InvalidOrder, PARAMETER),
    "EAuth:Failed": (e.AuthenticationError, None),
    "EGeneral:Invalid arguments": (e.InvalidOrder, PARAMETER),
    "EGeneral:Invalid arguments:Index unavailable": (e.InvalidOrder, "TRIGGER"),  # no index price for the pair
    "EGeneral:Invalid arguments:Invalid strategy ID": (e.InvalidOrder, "STRATEGY"),  # Earn
    "EGeneral:Permission denied": (e.PermissionDenied, None),
    "EGeneral:Unknown method": (e.NotSupported, None),
    "EGeneral:Temporary lockout": (e.RateLimited, None),  # ~15 min after repeated failed calls
    "EGeneral:Too many requests": (e.RateLimited, None),
    "EGeneral:Internal error": (e.VenueUnavailable, None),
    # service status
    "EService:Unavailable": (e.VenueUnavailable, None),
    "EService:Busy": (e.VenueUnavailable, None),
    "EService:Internal error": (e.VenueUnavailable, None),
    "EService:Timeout": (e.VenueUnavailable, None),
    "EService:Throttled": (e.RateLimited, None),  # "EService:Throttled: <unix time>": retry after it
    "EService:Deadline elapsed": (e.VenueUnavailable, None),  # AddOrder's deadline passed: NOT executed
    "EService:Market in cancel_only mode": (e.MarketClosed, None),
    "EService:Market in post_only mode": (e.MarketClosed, None),
    "EService:Market in limit_only mode": (e.MarketClosed, None),
    "EService:Market in reduce_only mode": (e.MarketClosed, None),
    # orders
    "EOrder:Rate limit exceeded": (e.RateLimited, None),  # the pair's trading counter
    "EOrder:Domain rate limit exceeded": (e.RateLimited, None),
    "EOrder:Insufficient funds": (e.InsufficientFunds, None),
    "EOrder:Insufficient margin": (e.InsufficientFunds, None),  # Kraken lacks funds to lend right now
    "EOrder:Margin allowance exceeded": (e.InsufficientFunds, None),
    "EOrder:Margin level too low": (e.InsufficientFunds, None),
    "EOrder:Margin position size exceeded": (e.InvalidOrder, "POSITION_LIMIT"),
    "EOrder:Cannot open position": (e.PermissionDenied, None),  # account or tier not eligible for margin
    "EOrder:Cannot open opposing position": (e.InvalidOrder, "POSITION"),
    "EOrder:Positions limit exceeded": (e.InvalidOrder, "POSITION_LIMIT"),
    "EOrder:Unknown position": (e.InvalidOrder, "POSITION"),
    "EOrder:Order minimum not met": (e.InvalidOrder, LOT_SIZE),  # volume below ordermin
    "EOrder:Cost minimum not met": (e.InvalidOrder, NOTIONAL),  # price x volume below costmin
    "EOrder:Tick size check failed": (e.InvalidOrder, PRICE_FILTER),
    "EOrder:Invalid price": (e.InvalidOrder, PRICE_FILTER),
    "EOrder:Invalid order": (e.InvalidOrder, None),
    "EOrder:Orders limit exceeded": (e.InvalidOrder, "MAX_NUM_ORDERS"),
    "EOrder:Scheduled orders limit exceeded": (e.InvalidOrder, "MAX_NUM_ORDERS"),
    "EOrder:Unknown order": (e.OrderNotFound, None),
    "EOrder:Post only order": (e.InvalidOrder, "POST_ONLY"),  # would have taken liquidity
    "EOrder:Reduce only:Non-PC": (e.InvalidOrder, "REDUCE_ONLY"),
    "EOrder:Reduce only:No position exists": (e.InvalidOrder, "REDUCE_ONLY"),
    "EOrder:Reduce only:Position is closed": (e.InvalidOrder, "REDUCE_ONLY"),
    "EOrder:Trading agreement required": (e.PermissionDenied, None),
    # queries
    "EQuery:Unknown asset pair": (e.InvalidOrder, "SYMBOL"),
    "EQuery:Invalid asset pair": (e.InvalidOrder, "SYMBOL"),
    "EQuery:Unknown asset": (e.InvalidOrder, "ASSET"),
    # Earn
    "EEarnings:Below min": (e.InvalidOrder, "MIN_AMOUNT"),
    "EEarnings:Above max": (e.InvalidOrder, "MAX_AMOUNT"),
    "EEarnings:Busy": (e.VenueUnavailable, None),  # another (de)allocation in progress, or Earn down
    "EEarnings:Permission denied": (e.PermissionDenied, None),  # tier too low
    "EEarnings:Insufficient funds": (e.InsufficientFunds, None),
}

CATEGORY_DEFAULTS: dict[str, type[e.BrokerError]] = {
    "EAPI": e.AuthenticationError,
    "EAuth": e.AuthenticationError,
    "EGeneral": e.InvalidOrder,
    "EOrder": e.InvalidOrder,
    "ETrade": e.InvalidOrder,
    "EQuery": e.InvalidOrder,
    "EService": e.VenueUnavailable,
    "EEarnings": e.BrokerError,
    "EFunding": e.BrokerError,
}

OUTCOME_UNKNOWN = frozenset({
    # Kraken may have processed the request before failing to answer: look it up before any resend.
    "EService:Unavailable", "EService:Busy", "EService:Internal error", "EService:Timeout",
    "EGeneral:Internal error",
})
INVALID_NONCE = "EAPI:Invalid nonce"
DEADLINE_ELAPSED = "EService:Deadline elapsed"

# Kraken refuses a cl_ord_id already used by an OPEN order, but does not publish the error string; any
# refusal naming the client order id as duplicate / in use means "the order is there: look it up".
DUPLICATE_ID_PATTERN = re.compile(r"cl_?ord_?id.*(duplicate|already|in use)|duplicate.*cl_?ord_?id",
                                  re.IGNORECASE)


def split_messages(messages: Sequence[str]) -> tuple[list[str], list[str]]:
    """(errors, warnings): ``E...`` strings fail the request, ``W...`` strings only warn."""
    errors = [text for text in messages if not text.startswith("W")]
    return errors, [text for text in messages if text.startswith("W")]


def lookup(text: str) -> tuple[str, Row]:
    """The table key and row for one error string (longest matching ``:``-prefix, then the category)."""
    candidate = text.strip()
    while True:
        if candidate in ERROR_TABLE:
            return candidate, ERROR_TABLE[candidate]
        head, colon, _tail = candidate.rpartition(":")
        if not colon or ":" not in head:
            break
        candidate = head
    category = text.split(":", 1)[0].strip()
    return category, (CATEGORY_DEFAULTS.get(category, e.BrokerError), None)


def key_of(text: str) -> str:
    return lookup(text)[0]


def is_invalid_nonce(error: e.BrokerError) -> bool:
    """``EAPI:Invalid nonce``: not executed; retry once with a fresh nonce (never a lost order)."""
    return error.code == INVALID_NONCE


def outcome_known(error: e.BrokerError) -> bool:
    """False when Kraken may have executed the request despite the error (5xx, timeouts, busy)."""
    if error.code is None:
        return not isinstance(error, e.VenueUnavailable)
    return error.code not in OUTCOME_UNKNOWN and not (error.code.isdigit() and int(error.code) >= 500)


def _throttled_until(text: str) -> int | None:
    found = re.search(r"Throttled:\s*(\d+)", text)
    return int(found.group(1)) if found else None


def error_for(messages: Sequence[str], *, http_status: int = 200, now_s: float | None = None) -> e.BrokerError:
    """The typed error of a failed answer: the first ``E`` string decides, all of them are carried."""
    errors, _warnings = split_messages(messages)
    if not errors:
        raise ValueError("no error string in the answer")
    first = errors[0]
    key, (cls, filter_name) = lookup(first)
    common: dict[str, Any] = {"venue": VENUE, "code": key, "venue_message": "; ".join(errors)}
    if DUPLICATE_ID_PATTERN.search(first):
        return e.DuplicateOrder("Kraken: the client order id is in use by an open order (look it up)", **common)
    if cls is e.RateLimited:
        retry_after: float | None = None
        until = _throttled_until(first)
        if until is not None and now_s is not None:
            retry_after = max(0.0, until - now_s)
        lockout = key == "EGeneral:Temporary lockout"
        if lockout:
            retry_after = REST_LOCKOUT_S
        return e.RateLimited("Kraken temporary lockout" if lockout else f"Kraken rate limit ({key})",
                             retry_after=retry_after, banned=lockout, **common)
    if cls is e.InvalidOrder:
        return e.InvalidOrder(f"Kraken refused the request ({key})", filter=filter_name, **common)
    if key == INVALID_NONCE:
        return e.AuthenticationError("Kraken refused the nonce (not above the last accepted): the request was not "
                                     "executed; retry once with a fresh nonce", retryable=True, **common)
    if key == DEADLINE_ELAPSED:
        return e.VenueUnavailable("Kraken rejected the order: its deadline passed before the engine took it "
                                  "(not executed)", retryable=True, **common)
    if cls is e.VenueUnavailable:
        return e.VenueUnavailable(f"Kraken could not process the request ({key}): outcome unknown", **common)
    return cls(f"Kraken error {key}", **common)


def raise_for_errors(messages: Sequence[str], *, now_s: float | None = None) -> None:
    """Raise the typed error if ``messages`` (an answer's ``error`` array) holds an ``E`` string."""
    if split_messages(messages)[0]:
        raise error_for(messages, now_s=now_s)


class _ErrorBody(msgspec.Struct):
    error: list[str] = []


def map_error(status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
    """`brokers.rest.ErrorMapper` for HTTP >= 400 (Cloudflare pages, 5xx); Kraken's strings win if present."""
    try:
        parsed = msgspec.json.decode(body, type=_ErrorBody) if body else _ErrorBody()
    except (msgspec.DecodeError, msgspec.ValidationError):
        parsed = _ErrorBody()
    text = body[:200].decode(errors="replace").strip() or None
    if status >= 500:
        return e.VenueUnavailable(f"Kraken HTTP {status}: outcome unknown", venue=VENUE, code=status,
                                  venue_message="; ".join(parsed.error) or text)
    if split_messages(parsed.error)[0]:
        return error_for(parsed.error, http_status=status)
    retry = headers.get("retry-after") or headers.get("Retry-After")
    if status == 429:
        return e.RateLimited("Kraken HTTP 429", retry_after=float(retry) if retry and retry.isdigit() else None,
                             venue=VENUE, code=429, venue_message=text)
    if status == 403:
        return e.PermissionDenied("Kraken HTTP 403: refused (IP, region or Cloudflare)", venue=VENUE, code=403,
                                  venue_message=text)
    if status == 404:
        return e.NotSupported("Kraken HTTP 404: unknown path", venue=VENUE, code=404, venue_message=text)
    return e.ProtocolViolation(f"Kraken HTTP {status} without an error array", venue=VENUE, code=status,
                               venue_message=text)
