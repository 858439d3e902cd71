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

from brokers.errors import LOT_SIZE, NOTIONAL, PARAMETER, PRICE_FILTER, CodeRow
from brokers.kraken.constants import REST_LOCKOUT_S, VENUE
from protocol import errors as e

R = CodeRow

CODE_TABLE: dict[str, CodeRow] = {
    # authentication and API usage
    "EAPI:Invalid key": R(e.AuthenticationError, None),
    "EAPI:Invalid signature": R(e.AuthenticationError, None),
    "EAPI:Invalid nonce": R(e.AuthenticationError, None),  # refused, retry once with a fresh nonce
    "EAPI:Rate limit exceeded": R(e.RateLimited, None),  # the REST call counter
    "EAPI:Bad request": R(e.InvalidOrder, PARAMETER),
    "EAPI:Feature disabled": R(e.NotSupported, None),
    "EAPI:Invalid arguments": R(e.InvalidOrder, PARAMETER),
    "EAuth:Failed": R(e.AuthenticationError, None),
    "EGeneral:Invalid arguments": R(e.InvalidOrder, PARAMETER),
    "EGeneral:Invalid arguments:Index unavailable": R(e.InvalidOrder, "TRIGGER"),  # no index price for the pair
    "EGeneral:Invalid arguments:Invalid strategy ID": R(e.InvalidOrder, "STRATEGY"),  # Earn
    # Kraken publishes no string for a cl_ord_id already used by an OPEN order; what it (and the emulator)
    # answers is the argument refused. The client checks an id's form before sending, so a well-formed id
    # refused here is one in use: "already there, look it up" (design §6).
    "EGeneral:Invalid arguments:cl_ord_id": R(e.DuplicateOrder, None),
    "EGeneral:Permission denied": R(e.PermissionDenied, None),
    "EGeneral:Unknown method": R(e.NotSupported, None),
    "EGeneral:Temporary lockout": R(e.RateLimited, None),  # ~15 min after repeated failed calls
    "EGeneral:Too many requests": R(e.RateLimited, None),
    "EGeneral:Internal error": R(e.VenueUnavailable, None),
    # service status
    "EService:Unavailable": R(e.VenueUnavailable, None),
    "EService:Busy": R(e.VenueUnavailable, None),
    "EService:Internal error": R(e.VenueUnavailable, None),
    "EService:Timeout": R(e.VenueUnavailable, None),
    "EService:Throttled": R(e.RateLimited, None),  # "EService:Throttled: <unix time>": retry after it
    "EService:Deadline elapsed": R(e.NotExecuted, None),  # AddOrder's deadline passed: NOT executed
    "EService:Market in cancel_only mode": R(e.MarketClosed, None),
    "EService:Market in post_only mode": R(e.MarketClosed, None),
    "EService:Market in limit_only mode": R(e.MarketClosed, None),
    "EService:Market in reduce_only mode": R(e.MarketClosed, None),
    # orders
    "EOrder:Rate limit exceeded": R(e.RateLimited, None),  # the pair's trading counter
    "EOrder:Domain rate limit exceeded": R(e.RateLimited, None),
    "EOrder:Insufficient funds": R(e.InsufficientFunds, None),
    "EOrder:Insufficient margin": R(e.InsufficientFunds, None),  # Kraken lacks funds to lend right now
    "EOrder:Margin allowance exceeded": R(e.InsufficientFunds, None),
    "EOrder:Margin level too low": R(e.InsufficientFunds, None),
    "EOrder:Margin position size exceeded": R(e.InvalidOrder, "POSITION_LIMIT"),
    "EOrder:Cannot open position": R(e.PermissionDenied, None),  # account or tier not eligible for margin
    "EOrder:Cannot open opposing position": R(e.InvalidOrder, "POSITION"),
    "EOrder:Positions limit exceeded": R(e.InvalidOrder, "POSITION_LIMIT"),
    "EOrder:Unknown position": R(e.InvalidOrder, "POSITION"),
    "EOrder:Order minimum not met": R(e.InvalidOrder, LOT_SIZE),  # volume below ordermin
    "EOrder:Cost minimum not met": R(e.InvalidOrder, NOTIONAL),  # price x volume below costmin
    "EOrder:Tick size check failed": R(e.InvalidOrder, PRICE_FILTER),
    "EOrder:Invalid price": R(e.InvalidOrder, PRICE_FILTER),
    "EOrder:Invalid order": R(e.InvalidOrder, None),
    "EOrder:Orders limit exceeded": R(e.InvalidOrder, "MAX_NUM_ORDERS"),
    "EOrder:Scheduled orders limit exceeded": R(e.InvalidOrder, "MAX_NUM_ORDERS"),
    "EOrder:Unknown order": R(e.OrderNotFound, None),
    "EOrder:Post only order": R(e.InvalidOrder, "POST_ONLY"),  # would have taken liquidity
    "EOrder:Reduce only:Non-PC": R(e.InvalidOrder, "REDUCE_ONLY"),
    "EOrder:Reduce only:No position exists": R(e.InvalidOrder, "REDUCE_ONLY"),
    "EOrder:Reduce only:Position is closed": R(e.InvalidOrder, "REDUCE_ONLY"),
    "EOrder:Trading agreement required": R(e.PermissionDenied, None),
    # queries
    "EQuery:Unknown asset pair": R(e.InvalidOrder, "SYMBOL"),
    "EQuery:Invalid asset pair": R(e.InvalidOrder, "SYMBOL"),
    "EQuery:Unknown asset": R(e.InvalidOrder, "ASSET"),
    # Earn
    "EEarnings:Below min": R(e.InvalidOrder, "MIN_AMOUNT"),
    "EEarnings:Above max": R(e.InvalidOrder, "MAX_AMOUNT"),
    "EEarnings:Busy": R(e.VenueUnavailable, None),  # another (de)allocation in progress, or Earn down
    "EEarnings:Permission denied": R(e.PermissionDenied, None),  # tier too low
    "EEarnings:Insufficient funds": R(e.InsufficientFunds, None),
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


def lookup(text: str) -> tuple[str, CodeRow]:
    """The table key and row for one error string (longest matching ``:``-prefix, then the category)."""
    candidate = text.strip()
    while True:
        if candidate in CODE_TABLE:
            return candidate, CODE_TABLE[candidate]
        head, colon, _tail = candidate.rpartition(":")
        if not colon or ":" not in head:
            break
        candidate = head
    category = text.split(":", 1)[0].strip()
    return category, CodeRow(CATEGORY_DEFAULTS.get(category, e.BrokerError))


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
    if cls is e.DuplicateOrder or DUPLICATE_ID_PATTERN.search(first):
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
        return e.NotExecuted("Kraken rejected the order: its deadline passed before the engine took it "
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
