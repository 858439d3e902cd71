"""Kraken's words: every refusal the dialect sends.

REST answers ``{"error": ["<severity><category>:<message>"]}`` -- HTTP 200 for the venue's own refusals, 404
for a method that does not exist and 405 for the wrong HTTP method (public endpoints are GET-only since January
2024, private ones POST-only), both with ``EGeneral:Unknown method``. A `VenueError`'s ``code`` is the whole
string. The strings are the documented ones (docs.kraken.com "Spot Error Messages", python-kraken-sdk's
exception table); where Kraken documents none (a duplicate ``cl_ord_id``, an unmodelled option), the nearest
documented string is used with a detail after its colon, as Kraken details "Invalid arguments".

Websocket v2 refusals are the ``error`` text of an ack (``success: false``); those strings are best effort
(Kraken documents few of them): "Currency pair not supported BTC/XYZ" is documented, the rest are modelled on it.
"""

from __future__ import annotations

from emulators.engine.errors import Refusal, RejectionTable, VenueError
from emulators.engine.model import RejectReason
from emulators.engine.params import ParamFault


def error(text: str, status: int = 200) -> VenueError:
    return VenueError(status, text, text)


INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
RATE_LIMIT = "EAPI:Rate limit exceeded"
ORDER_RATE_LIMIT = "EOrder:Rate limit exceeded"
ORDERS_LIMIT = "EOrder:Orders limit exceeded"
UNKNOWN_METHOD = "EGeneral:Unknown method"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
PERMISSION_DENIED = "EGeneral:Permission denied"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ASSET = "EQuery:Unknown asset"
UNKNOWN_ORDER = "EOrder:Unknown order"
INVALID_ORDER = "EOrder:Invalid order"
UNAVAILABLE = "EService:Unavailable"
BUSY = "EService:Busy"
INTERNAL = "EGeneral:Internal error"
DEADLINE_ELAPSED = "EService:Deadline elapsed"
CANCEL_ONLY = "EService:Market in cancel_only mode"
POST_ONLY = "EService:Market in post_only mode"
MARGIN_LEVEL_TOO_LOW = "EOrder:Margin level too low"
POSITION_SIZE_EXCEEDED = "EOrder:Margin position size exceeded"
NO_POSITION = "EOrder:Reduce only:No position exists"


def invalid(name: str | None = None, why: str = "") -> VenueError:
    """``EGeneral:Invalid arguments[:<name>[ <why>]]``."""
    if name is None:
        return error(INVALID_ARGUMENTS)
    return error(f"{INVALID_ARGUMENTS}:{name}{' ' + why if why else ''}")


def unsupported(name: str) -> VenueError:
    """A parameter (or value) Kraken accepts that this emulator does not model: refused, never ignored."""
    return invalid(name, "is not supported by this emulator")


def unknown_method(status: int) -> VenueError:
    return error(UNKNOWN_METHOD, status)


def param_words(fault: ParamFault, name: str) -> VenueError:
    """`engine.params` faults: Kraken says which argument is wrong and nothing more."""
    return invalid(name)


class AuthWords:
    """Authentication failures (`engine.signing`) in Kraken's words; Kraken has nonces, not timestamps."""

    def unknown_key(self) -> VenueError:
        return error(INVALID_KEY)

    def missing_signature(self) -> VenueError:
        return error(INVALID_SIGNATURE)

    def bad_signature(self, payload: str) -> VenueError:
        return error(INVALID_SIGNATURE)

    def malformed_time(self, name: str) -> VenueError:
        return error(INVALID_NONCE)

    def window_too_wide(self, limit: int) -> VenueError:
        return error(INVALID_NONCE)

    def stale(self, timestamp: str, recv_window: str, now: int) -> VenueError:
        return error(INVALID_NONCE)


def _refusal(text: str) -> Refusal:
    return Refusal(200, text, text)


# Every engine refusal of an order (spot or margin) in Kraken's words.
ORDER_REJECTIONS: RejectionTable = {
    RejectReason.INSUFFICIENT_BALANCE: _refusal("EOrder:Insufficient funds"),
    RejectReason.QTY_BELOW_MIN: _refusal("EOrder:Order minimum not met"),
    RejectReason.QTY_ABOVE_MAX: _refusal(f"{INVALID_ARGUMENTS}:volume"),
    RejectReason.QTY_OFF_STEP: _refusal(f"{INVALID_ARGUMENTS}:volume"),
    RejectReason.PRICE_OFF_TICK: _refusal("EOrder:Tick size check failed"),
    RejectReason.NOTIONAL_BELOW_MIN: _refusal("EOrder:Cost minimum not met"),
    RejectReason.UNKNOWN_SYMBOL: _refusal(UNKNOWN_PAIR),
    RejectReason.DUPLICATE: _refusal(f"{INVALID_ARGUMENTS}:cl_ord_id"),  # among open orders only
    RejectReason.UNKNOWN_ORDER: _refusal(UNKNOWN_ORDER),
    RejectReason.WOULD_MATCH: _refusal(INVALID_ORDER),  # not raised: post-only orders are cancelled instead
    RejectReason.REDUCE_ONLY: _refusal(NO_POSITION),
    RejectReason.LEVERAGE_NOT_MODIFIED: _refusal(f"{INVALID_ARGUMENTS}:leverage"),
    RejectReason.LEVERAGE_INVALID: _refusal(f"{INVALID_ARGUMENTS}:leverage"),
    RejectReason.NOT_DERIVATIVE: _refusal(f"{INVALID_ARGUMENTS}:leverage"),  # margin on a pair without it
}

# Earn (de)allocation refusals (`engine.earn.EarnReason` values) as Kraken's Earn endpoints word them.
EARN_WORDS = {
    "unknown_strategy": f"{INVALID_ARGUMENTS}:Invalid strategy ID",
    "below_minimum": "EEarnings:Below min:(De)allocation operation amount less than minimum",
    "in_progress": "EEarnings:Busy:Another (de)allocation for the same strategy is in progress",
    "insufficient_funds": "EEarnings:Insufficient funds:Insufficient funds to complete the (de)allocation request",
    "above_user_cap": "EEarnings:Above max:The allocation exceeds user limit for the strategy",
}

# Websocket v2 ack errors.
WS_UNSUPPORTED_PAIR = "Currency pair not supported {symbol}"
WS_MALFORMED = "Malformed request"
WS_ALREADY_SUBSCRIBED = "Already subscribed"
WS_NOT_SUBSCRIBED = "Subscription Not Found"
WS_INVALID_SESSION = "ESession:Invalid session"
WS_UNKNOWN_CHANNEL = "Channel {channel} not supported"
WS_UNKNOWN_METHOD = "Method {method} not supported"
WS_PRIVATE_CHANNEL = "Channel {channel} requires an authenticated connection"
