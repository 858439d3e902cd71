"""OKX V5 error codes (and HTTP statuses) -> protocol errors, in one table.

OKX answers ``{"code": "...", "msg": "...", "data": [...]}``; ``code`` "0" is success. Most failures
come with HTTP 200 and a non-zero ``code``; authentication ones with 401 (50102-50114), 429 for some rate
limits, 5xx for an unknown outcome. Order endpoints (place, cancel, amend and their batch forms) answer
``code`` "1" (all failed) or "2" (some failed) with the real reason per item in ``sCode``/``sMsg``
(and a ``subCode`` that refines it, e.g. 51008 + 1001): `item_error` maps those through the same table.

Every row is from OKX's error-code page ("Error Code > REST API > Public", "WebSocket > Public", as
published in July 2026). Filter names follow the vocabulary the other venues use: LOT_SIZE (size step,
minimum and maximum), PRICE_FILTER, NOTIONAL, SYMBOL, REDUCE_ONLY, POSITION_LIMIT, LEVERAGE, PARAMETER.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from brokers.errors import (
    LOT_SIZE,
    NOTIONAL,
    PARAMETER,
    PRICE_FILTER,
    REDUCE_ONLY,
    SYMBOL,
    CodeRow,
    error_body,
)
from brokers.okx.constants import VENUE
from protocol import errors as e

POSITION_LIMIT = "POSITION_LIMIT"
EXPIRED = "EXPIRED"

CODE_TABLE: dict[str, CodeRow] = {
    # --- general class ------------------------------------------------------------------------------
    "50000": CodeRow(e.InvalidOrder, PARAMETER),  # body for POST request cannot be empty
    "50001": CodeRow(e.VenueUnavailable),  # (503) service temporarily unavailable
    "50002": CodeRow(e.InvalidOrder, PARAMETER),  # JSON syntax error
    "50004": CodeRow(e.VenueUnavailable),  # endpoint request timeout: outcome unknown, check the result
    "50005": CodeRow(e.NotSupported),  # (410) endpoint inactive or unavailable
    "50006": CodeRow(e.InvalidOrder, PARAMETER),  # invalid Content-Type
    "50007": CodeRow(e.PermissionDenied),  # user blocked
    "50008": CodeRow(e.AuthenticationError),  # user doesn't exist
    "50009": CodeRow(e.PermissionDenied),  # account frozen due to stop-out
    "50011": CodeRow(e.RateLimited),  # rate limit reached (HTTP 200 or 429)
    "50012": CodeRow(e.PermissionDenied),  # account status invalid
    "50013": CodeRow(e.RateLimited),  # (429) systems are busy, try again later: not processed
    "50014": CodeRow(e.InvalidOrder, PARAMETER),  # parameter {0} can not be empty
    "50015": CodeRow(e.InvalidOrder, PARAMETER),  # either {0} or {1} is required
    "50016": CodeRow(e.InvalidOrder, PARAMETER),  # {0} does not match {1}
    "50017": CodeRow(e.MarketClosed),  # position frozen by ADL, try later
    "50019": CodeRow(e.MarketClosed),  # account frozen by ADL, try later
    "50020": CodeRow(e.MarketClosed),  # position frozen by liquidation, try later
    "50022": CodeRow(e.MarketClosed),  # account frozen by liquidation, try later
    "50023": CodeRow(e.MarketClosed),  # funding fees frozen, try later
    "50024": CodeRow(e.InvalidOrder, PARAMETER),  # {0} and {1} can not exist at the same time
    "50025": CodeRow(e.InvalidOrder, PARAMETER),  # parameter count exceeds the limit
    "50026": CodeRow(e.VenueUnavailable),  # (500) system error
    "50027": CodeRow(e.PermissionDenied),  # account restricted from trading
    "50028": CodeRow(e.PermissionDenied),  # unable to place the order, contact support
    "50029": CodeRow(e.PermissionDenied),  # risk control restriction
    "50030": CodeRow(e.PermissionDenied),  # no permission to use this endpoint
    "50032": CodeRow(e.PermissionDenied),  # currency prohibited for this account
    "50033": CodeRow(e.PermissionDenied),  # instrument blocked by account settings
    "50035": CodeRow(e.PermissionDenied),  # (403) this endpoint requires the key to be bound to an IP
    "50036": CodeRow(e.InvalidOrder, EXPIRED),  # expTime earlier than the system time: not processed
    "50037": CodeRow(e.InvalidOrder, EXPIRED),  # order expired: not processed
    "50038": CodeRow(e.NotSupported),  # feature unavailable in demo trading
    "50040": CodeRow(e.RateLimited),  # too frequent operations
    "50042": CodeRow(e.DuplicateOrder),  # repeated request
    "50061": CodeRow(e.RateLimited),  # sub-account order rate limit (1,000 new+amend / 2 s)
    "50071": CodeRow(e.DuplicateOrder),  # {param} already exists, e.g. clOrdId already exists
    # --- API class (authentication) --------------------------------------------------------------------
    "50100": CodeRow(e.PermissionDenied),  # API frozen
    "50101": CodeRow(e.AuthenticationError),  # key does not match the environment (demo key on live ...)
    "50102": CodeRow(e.AuthenticationError),  # timestamp request expired (> 30 s off): clock, retryable
    "50103": CodeRow(e.AuthenticationError),  # OK-ACCESS-KEY empty
    "50104": CodeRow(e.AuthenticationError),  # OK-ACCESS-PASSPHRASE empty
    "50105": CodeRow(e.AuthenticationError),  # OK-ACCESS-PASSPHRASE incorrect
    "50106": CodeRow(e.AuthenticationError),  # OK-ACCESS-SIGN empty
    "50107": CodeRow(e.AuthenticationError),  # OK-ACCESS-TIMESTAMP empty
    "50108": CodeRow(e.AuthenticationError),  # exchange ID does not exist
    "50109": CodeRow(e.AuthenticationError),  # exchange domain does not exist
    "50110": CodeRow(e.PermissionDenied),  # IP not in the key's whitelist
    "50111": CodeRow(e.AuthenticationError),  # invalid OK-ACCESS-KEY
    "50112": CodeRow(e.AuthenticationError),  # invalid OK-ACCESS-TIMESTAMP
    "50113": CodeRow(e.AuthenticationError),  # invalid signature
    "50114": CodeRow(e.AuthenticationError),  # invalid authorization
    "50115": CodeRow(e.ProtocolViolation),  # (405) invalid request method
    "50119": CodeRow(e.AuthenticationError),  # API key doesn't exist
    "50120": CodeRow(e.PermissionDenied),  # key lacks the permission
    "50121": CodeRow(e.PermissionDenied),  # no access from this IP
    "50122": CodeRow(e.InvalidOrder, NOTIONAL),  # order amount must exceed the minimum amount
    # --- trade class ------------------------------------------------------------------------------------
    "51000": CodeRow(e.InvalidOrder, PARAMETER),  # parameter {0} error (refined by the parameter's name)
    "51001": CodeRow(e.InvalidOrder, SYMBOL),  # instrument ID doesn't exist
    "51002": CodeRow(e.InvalidOrder, SYMBOL),  # instrument ID doesn't match underlying index
    "51003": CodeRow(e.InvalidOrder, PARAMETER),  # either clOrdId or ordId is required
    "51004": CodeRow(e.InvalidOrder, POSITION_LIMIT),  # exceeds the position tier at this leverage (subCodes 11xx)
    "51005": CodeRow(e.InvalidOrder, LOT_SIZE),  # order amount exceeds the max order amount
    "51006": CodeRow(e.InvalidOrder, PRICE_FILTER),  # price not within the price limit
    "51007": CodeRow(e.InvalidOrder, LOT_SIZE),  # at least 1 contract
    "51008": CodeRow(e.InsufficientFunds),  # insufficient balance / margin (subCodes 1000-1020)
    "51009": CodeRow(e.PermissionDenied),  # order blocked
    "51010": CodeRow(e.PermissionDenied),  # request unsupported under the current account mode (acctLv)
    "51011": CodeRow(e.DuplicateOrder),  # order ID already exists
    "51012": CodeRow(e.InvalidOrder, PARAMETER),  # token doesn't exist
    "51014": CodeRow(e.InvalidOrder, SYMBOL),  # index doesn't exist
    "51015": CodeRow(e.InvalidOrder, SYMBOL),  # instrument ID doesn't match instrument type
    "51016": CodeRow(e.DuplicateOrder),  # client order ID already exists (among pending orders)
    "51017": CodeRow(e.InsufficientFunds),  # loan amount exceeds borrowing limit
    "51020": CodeRow(e.InvalidOrder, LOT_SIZE),  # order should meet or exceed the minimum order amount
    "51021": CodeRow(e.MarketClosed),  # pair or contract not yet listed
    "51022": CodeRow(e.MarketClosed),  # contract suspended
    "51023": CodeRow(e.InvalidOrder, REDUCE_ONLY),  # position doesn't exist
    "51024": CodeRow(e.PermissionDenied),  # trading account blocked (many messages)
    "51025": CodeRow(e.InvalidOrder, "MAX_NUM_ORDERS"),  # order count exceeds the limit
    "51026": CodeRow(e.InvalidOrder, SYMBOL),  # instrument type doesn't match underlying index
    "51027": CodeRow(e.MarketClosed),  # contract expired
    "51028": CodeRow(e.MarketClosed),  # contract under delivery
    "51029": CodeRow(e.MarketClosed),  # contract being settled
    "51030": CodeRow(e.MarketClosed),  # funding fee being settled
    "51031": CodeRow(e.InvalidOrder, PRICE_FILTER),  # price not within the closing price range
    "51054": CodeRow(e.VenueUnavailable),  # (500) request timed out: outcome unknown
    "51063": CodeRow(e.OrderNotFound),  # ordId does not exist
    "51101": CodeRow(e.InvalidOrder, LOT_SIZE),  # sz exceeds the per-order contract maximum
    "51102": CodeRow(e.InvalidOrder, "MAX_NUM_ORDERS"),  # pending orders for this instId exceed the limit
    "51103": CodeRow(e.InvalidOrder, "MAX_NUM_ORDERS"),  # pending orders for the instFamily exceed the limit
    "51104": CodeRow(e.InvalidOrder, POSITION_LIMIT),  # pending contracts for the instFamily exceed the limit
    "51105": CodeRow(e.InvalidOrder, POSITION_LIMIT),  # position + same-side orders exceed the limit (instId)
    "51106": CodeRow(e.InvalidOrder, POSITION_LIMIT),  # ... (instFamily, same side)
    "51107": CodeRow(e.InvalidOrder, POSITION_LIMIT),  # ... (instFamily, both sides)
    "51109": CodeRow(e.InvalidOrder, "LIQUIDITY"),  # no available offers
    "51111": CodeRow(e.InvalidOrder, PARAMETER),  # too many orders in one batch
    "51112": CodeRow(e.InvalidOrder, REDUCE_ONLY),  # close size exceeds the position's available size
    "51113": CodeRow(e.RateLimited),  # (429) market-price liquidation requests too frequent
    "51116": CodeRow(e.InvalidOrder, PRICE_FILTER),  # order price or trigger price exceeds {0}
    "51120": CodeRow(e.InvalidOrder, LOT_SIZE),  # order amount is less than {0}
    "51121": CodeRow(e.InvalidOrder, LOT_SIZE),  # order quantity must be a multiple of the lot size
    "51122": CodeRow(e.InvalidOrder, PRICE_FILTER),  # price below the min price {0}
    "51124": CodeRow(e.InvalidOrder, "ORDER_TYPE"),  # only limit orders during call auction
    "51127": CodeRow(e.InsufficientFunds),  # available balance is 0
    "51129": CodeRow(e.InvalidOrder, POSITION_LIMIT),  # position and buy orders reached the position limit
    "51131": CodeRow(e.InsufficientFunds),  # insufficient balance
    "51135": CodeRow(e.InvalidOrder, PRICE_FILTER),  # closing price triggered the limit (max buy)
    "51136": CodeRow(e.InvalidOrder, PRICE_FILTER),  # ... (min sell)
    "51137": CodeRow(e.InvalidOrder, PRICE_FILTER),  # highest price limit for buy orders
    "51138": CodeRow(e.InvalidOrder, PRICE_FILTER),  # lowest price limit for sell orders
    "51148": CodeRow(e.InvalidOrder, REDUCE_ONLY),  # may open the opposite direction of reduce-only positions
    "51149": CodeRow(e.VenueUnavailable),  # (500) order timed out: outcome unknown, check the result
    "51150": CodeRow(e.InvalidOrder, "PRECISION"),  # precision of size or price exceeds the limit
    "51155": CodeRow(e.PermissionDenied),  # restricted by local compliance requirements
    "51169": CodeRow(e.InvalidOrder, REDUCE_ONLY),  # no position in this direction to reduce or close
    "51170": CodeRow(e.InvalidOrder, REDUCE_ONLY),  # reduce-only order in the position's direction
    "51185": CodeRow(e.InvalidOrder, NOTIONAL),  # maximum value per order
    "51186": CodeRow(e.InvalidOrder, "LEVERAGE"),  # leverage exceeds the platform limit
    "51187": CodeRow(e.InvalidOrder, POSITION_LIMIT),  # order + positions + open orders exceed the platform limit
    "51201": CodeRow(e.InvalidOrder, NOTIONAL),  # market order value can't exceed {0}
    "51202": CodeRow(e.InvalidOrder, NOTIONAL),  # market order amount exceeds the maximum amount
    "51203": CodeRow(e.InvalidOrder, NOTIONAL),  # order amount exceeds the limit {0}
    "51204": CodeRow(e.InvalidOrder, PRICE_FILTER),  # limit order price cannot be empty
    "51205": CodeRow(e.InvalidOrder, REDUCE_ONLY),  # reduce only is not available
    "51400": CodeRow(e.OrderNotFound),  # cancellation failed: order filled, canceled or does not exist
    "51401": CodeRow(e.OrderNotFound),  # already canceled
    "51402": CodeRow(e.OrderNotFound),  # already completed
    "51403": CodeRow(e.InvalidOrder, "ORDER_TYPE"),  # order type doesn't support cancellation
    "51404": CodeRow(e.MarketClosed),  # cancellation unavailable in the call auction's second phase
    "51405": CodeRow(e.OrderNotFound),  # no pending orders
    "51406": CodeRow(e.InvalidOrder, PARAMETER),  # (400) cancel count exceeds the limit
    "51407": CodeRow(e.InvalidOrder, PARAMETER),  # either ordId or clOrdId is required
    "51410": CodeRow(e.VenueUnavailable),  # already being cancelled or pending settlement: look it up, as a lost cancel
    "51412": CodeRow(e.VenueUnavailable),  # cancellation timed out (or: already triggered, by message)
    "51500": CodeRow(e.InvalidOrder, PARAMETER),  # amend: price, quantity or TP/SL required
    "51501": CodeRow(e.InvalidOrder, PARAMETER),  # (400) too many orders to amend
    "51502": CodeRow(e.InsufficientFunds),  # amend: insufficient balance or margin (subCodes 1030-1049)
    "51503": CodeRow(e.OrderNotFound),  # amend: already filled or canceled
    "51506": CodeRow(e.InvalidOrder, "ORDER_TYPE"),  # amend unavailable for the order type
    "51509": CodeRow(e.OrderNotFound),  # amend: already canceled
    "51510": CodeRow(e.OrderNotFound),  # amend: already completed
    "51511": CodeRow(e.InvalidOrder, "POST_ONLY"),  # amended price breaks post-only
    "51513": CodeRow(e.RateLimited),  # more than 3 amend requests in progress for the order
    "51603": CodeRow(e.OrderNotFound),  # order does not exist
    "51139": CodeRow(e.InvalidOrder, REDUCE_ONLY),  # reduce-only is unavailable for spot in spot mode
    "51162": CodeRow(e.InvalidOrder, PARAMETER),  # close-position: the instrument has open orders (autoCxl)
    "50039": CodeRow(e.InvalidOrder, PARAMETER),  # "before" isn't supported for timestamp pagination
    "54000": CodeRow(e.NotSupported),  # margin trading is not supported
    "54072": CodeRow(e.MarketClosed),  # contract view-only, not tradable
    "54094": CodeRow(e.MarketClosed),  # cool-off period active for the instId
    # --- account class (leverage) ------------------------------------------------------------------------
    "59101": CodeRow(e.InvalidOrder, "LEVERAGE"),  # leverage can't change while isolated orders are pending
    "59102": CodeRow(e.InvalidOrder, "LEVERAGE"),  # leverage exceeds the maximum limit
    "59103": CodeRow(e.InsufficientFunds),  # account margin insufficient for this (lower) leverage
    "59107": CodeRow(e.InvalidOrder, "LEVERAGE"),  # leverage can't change while cross orders are pending
    "59110": CodeRow(e.InvalidOrder, PARAMETER),  # this instrument does not take tgtCcy
    # --- websocket (60xxx-64xxx) -------------------------------------------------------------------------
    "60004": CodeRow(e.AuthenticationError),  # invalid timestamp
    "60005": CodeRow(e.AuthenticationError),  # invalid apiKey
    "60006": CodeRow(e.AuthenticationError),  # timestamp request expired: clock, retryable
    "60007": CodeRow(e.AuthenticationError),  # invalid sign
    "60008": CodeRow(e.NotSupported),  # endpoint does not serve this channel
    "60009": CodeRow(e.AuthenticationError),  # login failure
    "60011": CodeRow(e.AuthenticationError),  # please log in
    "60012": CodeRow(e.ProtocolViolation),  # invalid request
    "60013": CodeRow(e.ProtocolViolation),  # invalid args
    "60014": CodeRow(e.RateLimited),  # requests too frequent
    "60018": CodeRow(e.NotSupported),  # wrong URL or channel/instrument doesn't exist
    "60019": CodeRow(e.ProtocolViolation),  # invalid op
    "60021": CodeRow(e.ProtocolViolation),  # one account per login op
    "60023": CodeRow(e.RateLimited),  # bulk login requests too frequent
    "60027": CodeRow(e.ProtocolViolation),  # parameter {0} can not be empty
    "60028": CodeRow(e.NotSupported),  # operation not served on this URL (websocket order entry)
    "60031": CodeRow(e.ProtocolViolation),  # repeated login on one connection
    "60024": CodeRow(e.AuthenticationError),  # wrong passphrase
    "60032": CodeRow(e.AuthenticationError),  # API key doesn't exist
    "63999": CodeRow(e.VenueUnavailable),  # login failed due to internal error, try again
    "64001": CodeRow(e.NotSupported),  # channel migrated to /business
    "64002": CodeRow(e.NotSupported),  # channel not served by /business
    "64003": CodeRow(e.PermissionDenied),  # fee tier too low for this channel (books-l2-tbt: VIP4+)
    "64004": CodeRow(e.NotSupported),  # books-l2-tbt and another book channel for one instId
    "64007": CodeRow(e.VenueUnavailable),  # websocket internal error, try again
    "64008": CodeRow(e.VenueUnavailable),  # connection closing soon for a service upgrade: reconnect
}

RETRYABLE_AUTH = frozenset({"50102", "60006"})
"""Clock problems: every reconnect re-measures the offset against /api/v5/public/time, so retrying helps."""
REQUEST_EXPIRED = frozenset({"50036", "50037"})
"""OKX did not process the request because its ``expTime`` had passed: the order was never placed."""
OUTCOME_UNKNOWN = frozenset({"50004", "51054", "51149"})
"""OKX's own words: the request timed out and "does not mean that the request was successful or failed"."""
BATCH_FAILED = frozenset({"1", "2"})
"""Top-level codes of order endpoints whose items carry the reasons (all failed / partially succeeded)."""
RATE_LIMIT_PAUSE_S = 2.0  # no Retry-After from OKX: pause one window (its limits count per 2 s)

# 51000 "Parameter {param0} error": the parameter's name tells which filter the order broke.
_PARAMETER = re.compile(r"parameter\s+(\w+)\s+error", re.IGNORECASE)
PARAMETER_FILTERS: dict[str, str] = {
    "sz": LOT_SIZE, "newSz": LOT_SIZE, "px": PRICE_FILTER, "newPx": PRICE_FILTER, "instId": SYMBOL,
    "lever": "LEVERAGE", "clOrdId": "CLIENT_ORDER_ID", "posSide": "POSITION_SIDE", "tdMode": "MARGIN_MODE",
    "ordType": "ORDER_TYPE", "side": "SIDE", "reduceOnly": REDUCE_ONLY,
}


def _parameter_filter(message: str) -> str:
    found = _PARAMETER.search(message)
    return PARAMETER_FILTERS.get(found.group(1), PARAMETER) if found else PARAMETER


def error_for(code: str, msg: str, *, http_status: int = 200, retry_after: float | None = None,
              sub_code: str = "", client_order_id: str | None = None) -> e.BrokerError:
    """The typed error of a failed answer (or of one failed item). 5xx wins over the body's code."""
    shown = f"{code}_{sub_code}" if sub_code else code
    common: dict[str, Any] = {"venue": VENUE, "code": shown, "venue_message": msg or None,
                              "client_order_id": client_order_id}
    if http_status >= 500:
        return e.VenueUnavailable(f"OKX HTTP {http_status}: outcome unknown", **common)
    row = CODE_TABLE.get(code)
    if row is None:
        return _unlisted(code, http_status, common)
    cls, filter_name = row
    if cls is e.RateLimited:
        return e.RateLimited("OKX rate limit" + (" (sub-account order limit)" if code == "50061" else ""),
                             retry_after=retry_after if retry_after is not None else RATE_LIMIT_PAUSE_S, **common)
    if cls is e.InvalidOrder:
        if code == "51000":
            filter_name = _parameter_filter(msg)
        if code in REQUEST_EXPIRED:
            return e.InvalidOrder("OKX discarded the request: its expTime had passed (never executed)",
                                  filter=filter_name, retryable=True, **common)
        return e.InvalidOrder("OKX rejected the order parameters" + (f" ({filter_name})" if filter_name else ""),
                              filter=filter_name, **common)
    if cls is e.AuthenticationError:
        retryable = code in RETRYABLE_AUTH
        reason = "request timestamp more than 30 s from OKX's clock" if retryable else \
            "OKX refused the API key, passphrase or signature"
        return e.AuthenticationError(reason, retryable=retryable, **common)
    if cls is e.DuplicateOrder:
        return e.DuplicateOrder("OKX already holds a pending order with this client order id: it is placed, "
                                "look it up", **common)
    if cls is e.VenueUnavailable:
        if code == "51412" and "triggered" in msg.lower():
            return e.InvalidOrder("OKX cannot cancel an order that has been triggered", filter="ORDER_STATE",
                                  **common)
        return e.VenueUnavailable(f"OKX could not complete the request (code {code}): outcome unknown", **common)
    if cls is e.BrokerError:
        return e.BrokerError(f"OKX error {code}: look the order up", retryable=True, **common)
    return cls(f"OKX error {code}", **common)


def _unlisted(code: str, http_status: int, common: dict[str, Any]) -> e.BrokerError:
    """A code missing from the table: typed by its HTTP status, never silently accepted."""
    if http_status == 429:
        return e.RateLimited("OKX HTTP 429", retry_after=RATE_LIMIT_PAUSE_S, **common)
    if http_status == 401:
        return e.AuthenticationError("OKX HTTP 401: authentication failed", **common)
    if http_status == 403:
        return e.PermissionDenied("OKX HTTP 403: forbidden", **common)
    if http_status in (404, 410):
        return e.NotSupported(f"OKX HTTP {http_status}: no such endpoint", **common)
    return e.BrokerError(f"OKX error {code}", **common)


def raise_for_code(code: str, msg: str, *, http_status: int = 200) -> None:
    """Raise the typed error of a non-zero top-level ``code`` (every answer passes through this)."""
    if code != "0" or http_status >= 400:
        raise error_for(code, msg, http_status=http_status)


def item_error(s_code: str, s_msg: str, sub_code: str = "", *, client_order_id: str | None = None
               ) -> e.BrokerError | None:
    """The typed error of one order-endpoint item (``sCode`` "0" is success: None)."""
    if s_code in ("", "0"):
        return None
    return error_for(s_code, s_msg, sub_code=sub_code, client_order_id=client_order_id or None)


class _ErrorBody(msgspec.Struct):
    code: str = ""
    msg: str = ""


def map_error(status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
    """`brokers.rest.ErrorMapper` for HTTP >= 400 answers (the body may be HTML or empty then)."""
    parsed = error_body(body, _ErrorBody, text_field="msg")
    retry = headers.get("retry-after") or headers.get("Retry-After")
    retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
    if status == 400 and not parsed.code:
        return e.ProtocolViolation(f"OKX HTTP 400: malformed request ({parsed.msg or 'no detail'})",
                                   venue=VENUE, code=400)
    return error_for(parsed.code or str(status), parsed.msg, http_status=status, retry_after=retry_after)
