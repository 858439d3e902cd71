"""Bybit's words: every refusal the dialect sends, as its retCode and message.

Failures are HTTP 200 envelopes with a non-zero ``retCode`` (`render.envelope_error`), except the gateway's
own answers: 403 "access too frequent" (the IP limit) and an empty 404 for unknown paths. Contract codes are
11xxxx and spot codes 17xxxx; ``10001`` is the catch-all parameter error. Codes are the documented ones
(bybit-exchange.github.io/docs/v5/error); messages are Bybit's where we found them, best effort otherwise.
"""

from __future__ import annotations

from emulators.engine.errors import Headers, Refusal, RejectionTable, VenueError
from emulators.engine.model import RejectReason
from emulators.engine.params import ParamFault


def error(code: int, message: str, status: int = 200, headers: Headers | None = None) -> VenueError:
    return VenueError(status, code, message, headers)


def params_error(detail: str) -> VenueError:
    return error(10001, f"params error: {detail}")


def request_error() -> VenueError:
    return error(10001, "Request parameter error.")


def too_many_visits(headers: Headers | None = None) -> VenueError:
    return error(10006, "Too many visits!", headers=headers)


def param_words(fault: ParamFault, name: str) -> VenueError:
    """`engine.params` faults as Bybit words them for contracts and everywhere outside spot orders."""
    match fault:
        case ParamFault.MISSING:
            return params_error(f"{name} is required")
        case ParamFault.NOT_A_STRING:
            return params_error(f"{name} must be a string")
        case ParamFault.MALFORMED | ParamFault.OUT_OF_RANGE:
            return params_error(f"{name} invalid")
        case ParamFault.UNPAIRED:
            return params_error("startTime and endTime must be passed together")
        case ParamFault.TOO_WIDE:
            return params_error("the time range between startTime and endTime cannot exceed 7 days")


def spot_param_words(fault: ParamFault, name: str) -> VenueError:
    """Spot order parameters have their own codes for a missing or non-string value."""
    match fault:
        case ParamFault.MISSING:
            return error(170105, f"Parameter '{name}' was empty.")
        case ParamFault.NOT_A_STRING:
            return error(170130, f"Data sent for paramter '{name}' is not valid.")
        case _:
            return param_words(fault, name)


class AuthWords:
    """REST signature and timestamp failures (`engine.signing`) in Bybit's words."""

    def unknown_key(self) -> VenueError:
        return error(10003, "API key is invalid.")

    def missing_signature(self) -> VenueError:
        return error(10004, "error sign!")

    def bad_signature(self, payload: str) -> VenueError:
        return error(10004, f"error sign! origin_string[{payload}]")

    def malformed_time(self, name: str) -> VenueError:
        return request_error()

    def window_too_wide(self, limit: int) -> VenueError:
        return request_error()

    def stale(self, timestamp: str, recv_window: str, now: int) -> VenueError:
        return error(10002, "invalid request, please check your server timestamp or recv_window param. "
                            f"req_timestamp[{timestamp}],server_timestamp[{now}],recv_window[{recv_window}]")


# The private websocket's ``auth`` op answers with a message only (``ret_msg``): the REST codes, reworded.
STREAM_AUTH_MESSAGES: dict[int | str, str] = {10003: "Invalid apikey", 10004: "Invalid sign"}  # anything else: "Params Error"


def _refusal(code: int, message: str) -> Refusal:
    return Refusal(200, code, message)


_PARAMETER = _refusal(10001, "Request parameter error. ({reason})")
# Every engine refusal in Bybit's words: spot (17xxxx codes) and contracts (11xxxx), then set-leverage.
# Order placement words these the same way in both:
_ORDERS: RejectionTable = {
    RejectReason.UNKNOWN_ORDER: _PARAMETER,
    RejectReason.WOULD_MATCH: _PARAMETER,
    RejectReason.REDUCE_ONLY: _refusal(110017, "Reduce-only rule not satisfied"),
    RejectReason.LEVERAGE_NOT_MODIFIED: _PARAMETER,
    RejectReason.LEVERAGE_INVALID: _PARAMETER,
    RejectReason.NOT_DERIVATIVE: _PARAMETER,
}
SPOT_REJECTIONS: RejectionTable = {
    **_ORDERS,
    RejectReason.INSUFFICIENT_BALANCE: _refusal(170131, "Insufficient balance."),
    RejectReason.QTY_BELOW_MIN: _refusal(170136, "Order quantity lower than the minimum."),
    RejectReason.QTY_ABOVE_MAX: _refusal(170135, "Order quantity too large."),
    RejectReason.QTY_OFF_STEP: _refusal(170137, "Order volume decimal too long."),
    RejectReason.PRICE_OFF_TICK: _refusal(170134, "Order price decimal too long."),
    RejectReason.NOTIONAL_BELOW_MIN: _refusal(170140, "Order value exceeded lower limit."),
    RejectReason.UNKNOWN_SYMBOL: _refusal(170121, "Invalid symbol."),
    RejectReason.DUPLICATE: _refusal(170141, "Duplicate clientOrderId"),
}
CONTRACT_REJECTIONS: RejectionTable = {
    **_ORDERS,
    RejectReason.INSUFFICIENT_BALANCE: _refusal(110007, "ab not enough for new order"),
    RejectReason.QTY_BELOW_MIN: _refusal(10001, "The number of contracts exceeds minimum limit allowed"),
    RejectReason.QTY_ABOVE_MAX: _refusal(10001, "The number of contracts exceeds maximum limit allowed"),
    RejectReason.QTY_OFF_STEP: _refusal(10001, "Qty invalid"),
    RejectReason.PRICE_OFF_TICK: _refusal(10001, "Price invalid"),
    RejectReason.NOTIONAL_BELOW_MIN: _refusal(110094, "Order does not meet minimum order value"),
    RejectReason.UNKNOWN_SYMBOL: _refusal(10001, "params error: symbol invalid"),
    RejectReason.DUPLICATE: _refusal(110072, "OrderLinkedID is duplicate"),
}
# POST /v5/position/set-leverage: its own codes for "not modified" and margin; any other refusal is the range.
_LEVERAGE_RANGE = _refusal(10001, "params error: leverage must be within {detail}")
LEVERAGE_REJECTIONS: RejectionTable = {
    **{reason: _LEVERAGE_RANGE for reason in CONTRACT_REJECTIONS},
    RejectReason.LEVERAGE_NOT_MODIFIED: _refusal(110043, "leverage not modified"),
    RejectReason.INSUFFICIENT_BALANCE: _refusal(110044, "Available margin is insufficient."),
}
