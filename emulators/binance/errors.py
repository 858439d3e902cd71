"""Binance's words: every refusal the dialect sends, as its code, HTTP status and message.

Bodies are ``{"code": -NNNN, "msg": "..."}`` with the HTTP status (400 for request errors, 401 for API-key
errors, 429 over a limit, 418 banned); `render.error_body` prints them. Codes and messages follow Binance's
spot error documentation (errors.md).
"""

from __future__ import annotations

from emulators.engine.errors import Headers, Refusal, RejectionTable, VenueError
from emulators.engine.model import RejectReason
from emulators.engine.params import ParamFault


def error(code: int, message: str, status: int = 400, headers: Headers | None = None) -> VenueError:
    return VenueError(status, code, message, headers)


def mandatory(name: str) -> VenueError:
    return error(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal(name: str, legal: str | None = None) -> VenueError:
    if legal is None:
        return error(-1100, f"Illegal characters found in parameter '{name}'.")
    return error(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


DECIMAL_RANGE = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
WHOLE_RANGE = "^[0-9]{1,20}$"
CLIENT_ID_RANGE = "^[a-zA-Z0-9-_.]{1,36}$"
SYMBOLS_RANGE = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'


def illegal_any() -> VenueError:
    """Bytes that are not a parameter at all (a body that is not UTF-8 form data)."""
    return error(-1100, "Illegal characters found in a parameter.")


def duplicate() -> VenueError:
    return error(-1101, "Duplicate values for a parameter detected.")


def unread(read: int, sent: int) -> VenueError:
    return error(-1104, f"Not all sent parameters were read; read '{read}' parameter(s) but was sent '{sent}'.")


def not_required(name: str) -> VenueError:
    return error(-1106, f"Parameter '{name}' sent when not required.")


def too_precise(name: str) -> VenueError:
    return error(-1111, f"Parameter '{name}' has too much precision.")


def bad_combination() -> VenueError:
    return error(-1128, "Combination of optional parameters invalid.")


def bad_interval() -> VenueError:
    return error(-1120, "Invalid interval.")


def duplicate_symbols() -> VenueError:
    return error(-1151, "Symbol is present multiple times in the list.")


def either(first: str, second: str) -> VenueError:
    return error(-1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")


def rejected(message: str) -> VenueError:
    """A matching-engine refusal (-2010 NEW_ORDER_REJECTED) in one of the documented messages."""
    return error(-2010, message)


def not_authorized() -> VenueError:
    return error(-1002, "You are not authorized to execute this request.")


def unsupported() -> VenueError:
    return error(-1020, "This operation is not supported.")


def invalid_json(detail: str = "") -> VenueError:
    return error(-1135, detail or "Invalid JSON Request")



def unknown_order() -> VenueError:
    return error(-2011, "Unknown order sent.")


def invalid_symbol() -> VenueError:
    return error(-1121, "Invalid symbol.")


def unknown_endpoint(method: str, path: str) -> VenueError:
    return error(-1000, f"Unknown endpoint {method} {path}", status=404)


def param_words(fault: ParamFault, name: str) -> VenueError:
    """`engine.params` faults in Binance's words."""
    match fault:
        case ParamFault.MISSING | ParamFault.UNPAIRED:
            return mandatory(name)
        case ParamFault.MALFORMED | ParamFault.NOT_A_STRING:
            return illegal(name, DECIMAL_RANGE)
        case ParamFault.OUT_OF_RANGE:
            return illegal(name)
        case ParamFault.TOO_WIDE:
            return error(-1127, "More than 24 hours between startTime and endTime.")


class AuthWords:
    """Signature and timestamp failures (`engine.signing`) in Binance's words."""

    def unknown_key(self) -> VenueError:
        return error(-2015, "Invalid API-key, IP, or permissions for action.", status=401)

    def missing_signature(self) -> VenueError:
        return mandatory("signature")

    def bad_signature(self, payload: str) -> VenueError:
        return error(-1022, "Signature for this request is not valid.")

    def malformed_time(self, name: str) -> VenueError:
        return mandatory(name) if name == "timestamp" else illegal(name, WHOLE_RANGE)

    def window_too_wide(self, limit: int) -> VenueError:
        return error(-1131, f"recvWindow must be less than {limit}")

    def stale(self, timestamp: str, recv_window: str, now: int) -> VenueError:
        return error(-1021, "Timestamp for this request is outside of the recvWindow.")


def api_key_format() -> VenueError:
    return error(-2014, "API-key format invalid.", status=401)


def _refusal(code: int, message: str) -> Refusal:
    return Refusal(400, code, message)


_NO_ORDER = _refusal(-2013, "Order does not exist.")
# Every engine refusal in Binance's words (spot has no positions: those reasons cannot reach it).
REJECTIONS: RejectionTable = {
    RejectReason.INSUFFICIENT_BALANCE: _refusal(-2010, "Account has insufficient balance for requested action."),
    RejectReason.QTY_BELOW_MIN: _refusal(-1013, "Filter failure: LOT_SIZE"),
    RejectReason.QTY_ABOVE_MAX: _refusal(-1013, "Filter failure: LOT_SIZE"),
    RejectReason.QTY_OFF_STEP: _refusal(-1013, "Filter failure: LOT_SIZE"),
    RejectReason.PRICE_OFF_TICK: _refusal(-1013, "Filter failure: PRICE_FILTER"),
    RejectReason.NOTIONAL_BELOW_MIN: _refusal(-1013, "Filter failure: NOTIONAL"),
    RejectReason.UNKNOWN_SYMBOL: _refusal(-1121, "Invalid symbol."),
    RejectReason.DUPLICATE: _refusal(-2010, "Duplicate order sent."),
    RejectReason.UNKNOWN_ORDER: _NO_ORDER,
    RejectReason.WOULD_MATCH: _refusal(-2010, "Order would immediately match and take."),
    RejectReason.REDUCE_ONLY: _NO_ORDER,
    RejectReason.LEVERAGE_NOT_MODIFIED: _NO_ORDER,
    RejectReason.LEVERAGE_INVALID: _NO_ORDER,
    RejectReason.NOT_DERIVATIVE: _NO_ORDER,
}


# ---------------------------------------------------------------------- limits
class LimitError(VenueError):
    """A 429/418: the REST answer carries Retry-After (seconds); the WebSocket API's ``error.data`` carries
    ``retryAfter``, the epoch milliseconds when a retry is welcome."""

    def __init__(self, status: int, code: int, message: str, headers: Headers, retry_at_ms: int) -> None:
        super().__init__(status, code, message, headers)
        self.retry_at_ms = retry_at_ms


# The -1003/-1015 messages as errors.md words them since 2022-12-13 ("per %s": the interval, e.g. "1 MINUTE").
def weight_exceeded(limit: int, headers: Headers, retry_at_ms: int = 0) -> LimitError:
    return LimitError(429, -1003, f"Too much request weight used; current limit is {limit} request weight per "
                      "1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.", headers,
                      retry_at_ms)


def orders_exceeded(limit: int, headers: Headers, retry_at_ms: int = 0) -> LimitError:
    return LimitError(429, -1015, f"Too many new orders; current limit is {limit} orders per 10 SECOND.", headers,
                      retry_at_ms)


def banned(until_ms: int, headers: Headers) -> LimitError:
    return LimitError(418, -1003, f"Way too much request weight used; IP banned until {until_ms}. "
                      "Please use WebSocket Streams for live updates to avoid bans.", headers, until_ms)


def injected(status: int, retry_after: int | None, now_ms: int) -> VenueError:
    """The body a fault-injected status gets (`Faults.http_error`), as Binance words that status."""
    if status == 429:
        return weight_exceeded(6000, [])
    if status == 418:
        return banned(now_ms + 1000 * (retry_after or 60), [])
    return error(-1001, "Internal error; unable to process your request. Please try again.", status)


# ---------------------------------------------------------------------- market streams (web-socket-streams.md)
def stream_error(code: int, message: str) -> dict[str, object]:
    """The ``error`` object of a market-stream control answer ``{"error": {...}, "id": ...}``."""
    return {"code": code, "msg": message}


INVALID_STREAM = stream_error(2, "Invalid request: invalid stream")
TOO_MANY_PARAMETERS = stream_error(2, "Invalid request: too many parameters")
BAD_REQUEST_ID = stream_error(2, "Invalid request: request ID must be an unsigned integer")
PROPERTY_NOT_STRING = stream_error(2, "Invalid request: property name must be a string")
UNKNOWN_PROPERTY = stream_error(0, "Unknown property")
NOT_BOOLEAN = stream_error(1, "Invalid value type: expected Boolean")
METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"


def invalid_request(detail: str, column: int) -> dict[str, object]:
    return stream_error(2, f"Invalid request: {detail} at line 1 column {column}")


def invalid_json_frame(detail: str, column: int) -> dict[str, object]:
    return stream_error(3, f"Invalid JSON: {detail} at line 1 column {column}")
