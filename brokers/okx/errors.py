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

from brokers.okx.constants import VENUE
from protocol import errors as e

LOT_SIZE = "LOT_SIZE"
PRICE_FILTER = "PRICE_FILTER"
NOTIONAL = "NOTIONAL"
SYMBOL = "SYMBOL"
PARAMETER = "PARAMETER"
REDUCE_ONLY = "REDUCE_ONLY"
POSITION_LIMIT = "POSITION_LIMIT"
EXPIRED = "EXPIRED"

Row = tuple[type[e.BrokerError], str | None]

CODE_TABLE: dict[str, Row] = {
    # --- general class ------------------------------------------------------------------------------
    "50000": (e.InvalidOrder, PARAMETER),  # body for POST request cannot be empty
    "50001": (e.VenueUnavailable, None),  # (503) service temporarily unavailable
    "50002": (e.InvalidOrder, PARAMETER),  # JSON syntax error
    "50004": (e.VenueUnavailable, None),  # endpoint request timeout: outcome unknown, check the result
    "50005": (e.NotSupported, None),  # (410) endpoint inactive or unavailable
    "50006": (e.InvalidOrder, PARAMETER),  # invalid Content-Type
    "50007": (e.PermissionDenied, None),  # user blocked
    "50008": (e.AuthenticationError, None),  # user doesn't exist
    "50009": (e.PermissionDenied, None),  # account frozen due to stop-out
    "50011": (e.RateLimited, None),  # rate limit reached (HTTP 200 or 429)
    "50012": (e.PermissionDenied, None),  # account status invalid
    "50013": (e.RateLimited, None),  # (429) systems are busy, try again later: not processed
    "50014": (e.InvalidOrder, PARAMETER),  # parameter {0} can not be empty
    "50015": (e.InvalidOrder, PARAMETER),  # either {0} or {1} is required
    "50016": (e.InvalidOrder, PARAMETER),  # {0} does not match {1}
    "50017": (e.MarketClosed, None),  # position frozen by ADL, try later
    "50019": (e.MarketClosed, None),  # account frozen by ADL, try later
    "50020": (e.MarketClosed, None),  # position frozen by liquidation, try later
    "50022": (e.MarketClosed, None),  # account frozen by liquidation, try later
    "50023": (e.MarketClosed, None),  # funding fees frozen, try later
    "50024": (e.InvalidOrder, PARAMETER),  # {0} and {1} can not exist at the same time
    "50025": (e.InvalidOrder, PARAMETER),  # parameter count exceeds the limit
    "50026": (e.VenueUnavailable, None),  # (500) system error
    "50027": (e.PermissionDenied, None),  # account restricted from trading
    "50028": (e.PermissionDenied, None),  # unable to place the order, contact support
    "50029": (e.PermissionDenied, None),  # risk control restriction
    "50030": (e.PermissionDenied, None),  # no permission to use this endpoint
    "50032": (e.PermissionDenied, None),  # currency prohibited for this account
    "50033": (e.PermissionDenied, None),  # instrument blocked by account settings
    "50035": (e.PermissionDenied, None),  # (403) this endpoint requires the key to be bound to an IP
    "50036": (e.InvalidOrder, EXPIRED),  # expTime earlier than the system time: not processed
    "50037": (e.InvalidOrder, EXPIRED),  # order expired: not processed
    "50038": (e.NotSupported, None),  # feature unavailable in demo trading
    "50040": (e.RateLimited, None),  # too frequent operations
    "50042": (e.DuplicateOrder, None),  # repeated request
    "50061": (e.RateLimited, None),  # sub-account order rate limit (1,000 new+amend / 2 s)
    "50071": (e.DuplicateOrder, None),  # {param} already exists, e.g. clOrdId already exists
    # --- API class (authentication) --------------------------------------------------------------------
    "50100": (e.PermissionDenied, None),  # API frozen
    "50101": (e.AuthenticationError, None),  # key does not match the environment (demo key on live ...)
    "50102": (e.AuthenticationError, None),  # timestamp request expired (> 30 s off): clock, retryable
    "50103": (e.AuthenticationError, None),  # OK-ACCESS-KEY empty
    "50104": (e.AuthenticationError, None),  # OK-ACCESS-PASSPHRASE empty
    "50105": (e.AuthenticationError, None),  # OK-ACCESS-PASSPHRASE incorrect
    "50106": (e.AuthenticationError, None),  # OK-ACCESS-SIGN empty
    "50107": (e.AuthenticationError, None),  # OK-ACCESS-TIMESTAMP empty
    "50108": (e.AuthenticationError, None),  # exchange ID does not exist
    "50109": (e.AuthenticationError, None),  # exchange domain does not exist
    "50110": (e.PermissionDenied, None),  # IP not in the key's whitelist
    "50111": (e.AuthenticationError, None),  # invalid OK-ACCESS-KEY
    "50112": (e.AuthenticationError, None),  # invalid OK-ACCESS-TIMESTAMP
    "50113": (e.AuthenticationError, None),  # invalid signature
    "50114": (e.AuthenticationError, None),  # invalid authorization
    "50115": (e.ProtocolViolation, None),  # (405) invalid request method
    "50119": (e.AuthenticationError, None),  # API key doesn't exist
    "50120": (e.PermissionDenied, None),  # key lacks the permission
    "50121": (e.PermissionDenied, None),  # no access from this IP
    "50122": (e.InvalidOrder, NOTIONAL),  # order amount must exceed the minimum amount
    # --- trade class ------------------------------------------------------------------------------------
    "51000": (e.InvalidOrder, PARAMETER),  # parameter {0} error (refined by the parameter's name)
    "51001": (e.InvalidOrder, SYMBOL),  # instrument ID doesn't exist
    "51002": (e.InvalidOrder, SYMBOL),  # instrument ID doesn't match underlying index
    "51003": (e.InvalidOrder, PARAMETER),  # either clOrdId or ordId is required
    "51004": (e.InvalidOrder, POSITION_LIMIT),  # exceeds the position tier at this leverage (subCodes 11xx)
    "51005": (e.InvalidOrder, LOT_SIZE),  # order amount exceeds the max order amount
    "51006": (e.InvalidOrder, PRICE_FILTER),  # price not within the price limit
    "51007": (e.InvalidOrder, LOT_SIZE),  # at least 1 contract
    "51008": (e.InsufficientFunds, None),  # insufficient balance / margin (subCodes 1000-1020)
    "51009": (e.PermissionDenied, None),  # order blocked
    "51010": (e.PermissionDenied, None),  # request unsupported under the current account mode (acctLv)
    "51011": (e.DuplicateOrder, None),  # order ID already exists
    "51012": (e.InvalidOrder, PARAMETER),  # token doesn't exist
    "51014": (e.InvalidOrder, SYMBOL),  # index doesn't exist
    "51015": (e.InvalidOrder, SYMBOL),  # instrument ID doesn't match instrument type
    "51016": (e.DuplicateOrder, None),  # client order ID already exists (among pending orders)
    "51017": (e.InsufficientFunds, None),  # loan amount exceeds borrowing limit
    "51020": (e.InvalidOrder, LOT_SIZE),  # order should meet or exceed the minimum order amount
    "51021": (e.MarketClosed, None),  # pair or contract not yet listed
    "51022": (e.MarketClosed, None),  # contract suspended
    "51023": (e.InvalidOrder, REDUCE_ONLY),  # position doesn't exist
    "51024": (e.PermissionDenied, None),  # trading account blocked (many messages)
    "51025": (e.InvalidOrder, "MAX_NUM_ORDERS"),  # order count exceeds the limit
    "51026": (e.InvalidOrder, SYMBOL),  # instrument type doesn't match underlying index
    "51027": (e.MarketClosed, None),  # contract expired
    "51028": (e.MarketClosed, None),  # contract under delivery
    "51029": (e.MarketClosed, None),  # contract being settled
    "51030": (e.MarketClosed, None),  # funding fee being settled
    "51031": (e.InvalidOrder, PRICE_FILTER),  # price not within the closing price range
    "51054": (e.VenueUnavailable, None),  # (500) request timed out: outcome unknown
    "51063": (e.OrderNotFound, None),  # ordId does not exist
    "51101": (e.InvalidOrder, LOT_SIZE),  # sz exceeds the per-order contract maximum
    "51102": (e.InvalidOrder, "MAX_NUM_ORDERS"),  # pending orders for this instId exceed the limit
    "51103": (e.InvalidOrder, "MAX_NUM_ORDERS"),  # pending orders for the instFamily exceed the limit
    "51104": (e.InvalidOrder, POSITION_LIMIT),  # pending contracts for the instFamily exceed the limit
    "51105": (e.InvalidOrder, POSITION_LIMIT),  # position + same-side orders exceed the limit (instId)
    "51106": (e.InvalidOrder, POSITION_LIMIT),  # ... (instFamily, same side)
    "51107": (e.InvalidOrder, POSITION_LIMIT),  # ... (instFamily, both sides)
    "51109": (e.InvalidOrder, "LIQUIDITY"),  # no available offers
    "51111": (e.InvalidOrder, PARAMETER),  # too many orders in one batch
    "51112": (e.InvalidOrder, REDUCE_ONLY),  # close size exceeds the position's available size
    "51113": (e.RateLimited, None),  # (429) market-price liquidation requests too frequent
    "51116": (e.InvalidOrder, PRICE_FILTER),  # order price or trigger price exceeds {0}
    "51120": (e.InvalidOrder, LOT_SIZE),  # order amount is less than {0}
    "51121": (e.InvalidOrder, LOT_SIZE),  # order quantity must be a multiple of the lot size
    "51122": (e.InvalidOrder, PRICE_FILTER),  # price below the min price {0}
    "51124": (e.InvalidOrder, "ORDER_TYPE"),  # only limit orders during call auction
    "51127": (e.InsufficientFunds, None),  # available balance is 0
    "51129": (e.InvalidOrder, POSITION_LIMIT),  # position and buy orders reached the position limit
    "51131": (e.InsufficientFunds, None),  # insufficient balance
    "51135": (e.InvalidOrder, PRICE_FILTER),  # closing price triggered the limit (max buy)
    "51136": (e.InvalidOrder, PRICE_FILTER),  # ... (min sell)
    "51137": (e.InvalidOrder, PRICE_FILTER),  # highest price limit for buy orders
    "51138": (e.InvalidOrder, PRICE_FILTER),  # lowest price limit for sell orders
    "51148": (e.InvalidOrder, REDUCE_ONLY),  # may open the opposite direction of reduce-only positions
    "51149": (e.VenueUnavailable, None),  # (500) order timed out: outcome unknown, check the result
    "51150": (e.InvalidOrder, "PRECISION"),  # precision of size or price exceeds the limit
    "51155": (e.PermissionDenied, None),  # restricted by local compliance requirements
    "51169": (e.InvalidOrder, REDUCE_ONLY),  # no position in this direction to reduce or close
    "51170": (e.InvalidOrder, REDUCE_ONLY),  # reduce-only order in the position's direction
    "51185": (e.InvalidOrder, NOTIONAL),  # maximum value per order
    "51186": (e.InvalidOrder, "LEVERAGE"),  # leverage exceeds the platform limit
    "51187": (e.InvalidOrder, POSITION_LIMIT),  # order + positions + open orders exceed the platform limit
    "51201": (e.InvalidOrder, NOTIONAL),  # market order value can't exceed {0}
    "51202": (e.InvalidOrder, NOTIONAL),  # market order amount exceeds the maximum amount
    "51203": (e.InvalidOrder, NOTIONAL),  # order amount exceeds the limit {0}
    "51204": (e.InvalidOrder, PRICE_FILTER),  # limit order price cannot be empty
    "51205": (e.InvalidOrder, REDUCE_ONLY),  # reduce only is not available
    "51400": (e.OrderNotFound, None),  # cancellation failed: order filled, canceled or does not exist
    "51401": (e.OrderNotFound, None),  # already canceled
    "51402": (e.OrderNotFound, None),  # already completed
    "51403": (e.InvalidOrder, "ORDER_TYPE"),  # order type doesn't support cancellation
    "51404": (e.MarketClosed, None),  # cancellation unavailable in the call auction's second phase
    "51405": (e.OrderNotFound, None),  # no pending orders
    "51406": (e.InvalidOrder, PARAMETER),  # (400) cancel count exceeds the limit
    "51407": (e.InvalidOrder, PARAMETER),  # either ordId or clOrdId is required
    "51410": (e.BrokerError, None),  # already being cancelled or pending settlement: look it up
    "51412": (e.VenueUnavailable, None),  # cancellation timed out (or: already triggered, by message)
    "51500": (e.InvalidOrder, PARAMETER),  # amend: price, quantity or TP/SL required
    "51501": (e.InvalidOrder, PARAMETER),  # (400) too many orders to amend
    "51502": (e.InsufficientFunds, None),  # amend: insufficient balance or margin (subCodes 1030-1049)
    "51503": (e.OrderNotFound, None),  # amend: already filled or canceled
    "51506": (e.InvalidOrder, "ORDER_TYPE"),  # amend unavailable for the order type
    "51509": (e.OrderNotFound, None),  # amend: already canceled
    "51510": (e.OrderNotFound, None),  # amend: already completed
    "51511": (e.InvalidOrder, "POST_ONLY"),  # amended price breaks post-only
    "51513": (e.RateLimited, None),  # more than 3 amend requests in progress for the order
    "51603": (e.OrderNotFound, None),  # order does not exist
    "54000": (e.NotSupported, None),  # margin trading is not supported
    "54072": (e.MarketClosed, None),  # contract view-only, not tradable
    "54094": (e.MarketClosed, None),  # cool-off period active for the instId
    # --- websocket (60xxx-64xxx) -------------------------------------------------------------------------
    "60004": (e.AuthenticationError, None),  # invalid timestamp
    "60005": (e.AuthenticationError, None),  # invalid apiKey
    "60006": (e.AuthenticationError, None),  # timestamp request expired: clock, retryable
    "60007": (e.AuthenticationError, None),  # invalid sign
    "60008": (e.NotSupported, None),  # endpoint does not serve this channel
    "60009": (e.AuthenticationError, None),  # login failure
    "60011": (e.AuthenticationError, None),  # please log in
    "60012": (e.ProtocolViolation, None),  # invalid request
    "60013": (e.ProtocolViolation, None),  # invalid args
    "60014": (e.RateLimited, None),  # requests too frequent
    "60018": (e.NotSupported, None),  # wrong URL or channel/instrument doesn't exist
    "60019": (e.ProtocolViolation, None),  # invalid op
    "60023": (e.RateLimited, None),  # bulk login requests too frequent
    "60024": (e.AuthenticationError, None),  # wrong passphrase
    "60032": (e.AuthenticationError, None),  # API key doesn't exist
    "63999": (e.VenueUnavailable, None),  # login failed due to internal error, try again
    "64001": (e.NotSupported, None),  # channel migrated to /business
    "64002": (e.NotSupported, None),  # channel not served by /business
    "64003": (e.PermissionDenied, None),  # fee tier too low for this channel (books-l2-tbt: VIP4+)
    "64004": (e.NotSupported, None),  # books-l2-tbt and another book channel for one instId
    "64007": (e.VenueUnavailable, None),  # websocket internal error, try again
    "64008": (e.VenueUnavailable, None),  # connection closing soon for a service upgrade: reconnect
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
    cls, filter_name = CODE_TABLE.get(code, (None, None))
    if cls is None:
        return _unlisted(code, http_status, common)
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
    try:
        parsed = msgspec.json.decode(body, type=_ErrorBody) if body else _ErrorBody()
    except (msgspec.DecodeError, msgspec.ValidationError):
        parsed = _ErrorBody(msg=body[:200].decode(errors="replace").strip())
    retry = headers.get("retry-after") or headers.get("Retry-After")
    retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
    if status == 400 and not parsed.code:
        return e.ProtocolViolation(f"OKX HTTP 400: malformed request ({parsed.msg or 'no detail'})",
                                   venue=VENUE, code=400)
    return error_for(parsed.code or str(status), parsed.msg, http_status=status, retry_after=retry_after)
