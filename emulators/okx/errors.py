"""OKX's words: every refusal the dialect sends, as its code, HTTP status and message.

REST answers are ``{"code": "<code>", "msg": "<message>", "data": []}`` with the HTTP status OKX's error
table gives the code (most are 200; parameter errors 400, the API class 401, 50011 429). Order endpoints
(place, cancel, amend and their batches) put each order's outcome inside a successful answer: every item
carries ``sCode``/``sMsg`` (and ``subCode``), and the top-level ``code`` is "0" (all succeeded), "1" ("All
operations failed") or "2" (some did). Codes and messages follow OKX's REST and websocket error-code pages
(docs-v5, July 2026); 50036 inside a code-1 answer is what a late order (past ``expTime``) gets on OKX.
"""

from __future__ import annotations

from emulators.engine.errors import Headers, Refusal, RejectionTable, VenueError
from emulators.engine.model import RejectReason


def error(code: int | str, message: str, status: int = 200, headers: Headers | None = None) -> VenueError:
    return VenueError(status, str(code), message, headers)


def parameter(name: str) -> VenueError:
    """51000: a parameter OKX cannot take (its value, or a parameter this emulator does not model)."""
    return error(51000, f"Parameter {name} error", 400)


def empty(name: str) -> VenueError:
    return error(50014, f"Parameter {name} can not be empty.", 400)


def either(first: str, second: str) -> VenueError:
    return error(50015, f"Either parameter {first} or {second} is required", 400)


def instrument_missing() -> VenueError:
    return error(51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist.")


def wrong_type() -> VenueError:
    return error(51015, "Instrument ID doesn't match instrument type.")


def account_mode() -> VenueError:
    return error(51010, "Request unsupported under current account mode")


def order_missing() -> VenueError:
    return error(51603, "Order does not exist.")


def not_found() -> VenueError:
    """A path OKX does not serve: the gateway's 404 (best effort: OKX does not document this body)."""
    return error(404, "Not Found", 404)


def bad_method() -> VenueError:
    return error(50115, "Invalid request method.", 405)


def empty_body() -> VenueError:
    return error(50000, "Body for POST request cannot be empty.", 400)


def json_syntax() -> VenueError:
    return error(50002, "JSON syntax error", 400)


def rate_limited() -> VenueError:
    """50011 as OKX's gateway answers it (HTTP 429, "Too Many Requests")."""
    return error(50011, "Too Many Requests", 429)


def sub_account_limited() -> VenueError:
    return error(50061, "You've reached the maximum order rate limit for this account.")


def expired() -> VenueError:
    """The request arrived after its ``expTime``: never executed."""
    return error(50036, "The expTime can't be earlier than the current system time. Please adjust the expTime "
                        "and try again.")


def system_error(status: int) -> VenueError:
    return error(50026 if status >= 500 else 50001, "System error. Try again later" if status >= 500
                 else "Service temporarily unavailable. Please try again later.", status)


class AuthWords:
    """REST authentication failures (the API class, HTTP 401) in OKX's words."""

    def missing(self, header: str) -> VenueError:
        codes = {"OK-ACCESS-KEY": 50103, "OK-ACCESS-PASSPHRASE": 50104, "OK-ACCESS-SIGN": 50106,
                 "OK-ACCESS-TIMESTAMP": 50107}
        return error(codes[header], f'Request header "{header}" cannot be empty.', 401)

    def unknown_key(self) -> VenueError:
        return error(50111, "Invalid OK-ACCESS-KEY.", 401)

    def missing_signature(self) -> VenueError:
        return self.missing("OK-ACCESS-SIGN")

    def bad_signature(self, payload: str) -> VenueError:
        return error(50113, "Invalid signature.", 401)

    def malformed_time(self, name: str) -> VenueError:
        return error(50112, "Invalid OK-ACCESS-TIMESTAMP.", 401)

    def window_too_wide(self, limit: int) -> VenueError:
        return self.malformed_time("timestamp")

    def stale(self, timestamp: str, recv_window: str, now: int) -> VenueError:
        return error(50102, "Timestamp request expired.", 401)

    def bad_passphrase(self) -> VenueError:
        return error(50105, 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', 401)

    def wrong_environment(self) -> VenueError:
        return error(50101, "APIKey does not match current environment.", 401)


# ---------------------------------------------------------------------- websocket words
WS_MESSAGES = {
    60004: "Invalid timestamp", 60005: "Invalid apiKey", 60006: "Timestamp request expired", 60007: "Invalid sign",
    60009: "Login failed.", 60011: "Please log in", 60012: "Invalid request", 60013: "Invalid args",
    60014: "Requests too frequent", 60024: "Wrong passphrase", 60031: "The WebSocket endpoint does not allow "
    "multiple or repeated logins.", 60032: "API key doesn't exist",
    64003: "Your trading fee tier doesn't meet the requirement to access this channel",
}
IDLE_CLOSE = (4004, "No data received in 30s")


def ws_wrong_channel(arg: dict[str, str]) -> tuple[int, str]:
    """60018, naming the channel and its arguments as OKX does ("channel:tickers,instId:NOPE-USDT")."""
    named = ",".join(f"{key}:{value}" for key, value in arg.items())
    return 60018, (f"Wrong URL or {named} doesn't exist. Please use the correct URL, channel and parameters "
                   "referring to API document.")


# ---------------------------------------------------------------------- engine refusals, per context
def _refusal(code: int, message: str) -> Refusal:
    return Refusal(200, str(code), message)


# Placing, amending and cancelling word these the same for spot and swaps ...
_ORDERS: RejectionTable = {
    RejectReason.UNKNOWN_SYMBOL: _refusal(51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist."),
    RejectReason.DUPLICATE: _refusal(51016, "Client order ID already exists."),
    RejectReason.UNKNOWN_ORDER: _refusal(51603, "Order does not exist."),
    RejectReason.WOULD_MATCH: _refusal(51511, "Modification failed as the order price did not meet the "
                                              "requirement for Post Only."),
    RejectReason.QTY_OFF_STEP: _refusal(51121, "Order quantity must be a multiple of the lot size."),
    RejectReason.QTY_BELOW_MIN: _refusal(51020, "Your order should meet or exceed the minimum order amount."),
    RejectReason.NOTIONAL_BELOW_MIN: _refusal(51020, "Your order should meet or exceed the minimum order amount."),
    RejectReason.PRICE_OFF_TICK: _refusal(51000, "Parameter px error"),
    RejectReason.REDUCE_ONLY: _refusal(51169, "Order failed because you don't have any positions in this "
                                              "direction for this contract to reduce or close."),
    RejectReason.LEVERAGE_NOT_MODIFIED: _refusal(51000, "Parameter lever error"),
    RejectReason.LEVERAGE_INVALID: _refusal(51000, "Parameter lever error"),
    RejectReason.NOT_DERIVATIVE: _refusal(51000, "Parameter instId error"),
}
# ... except balance and size limits: spot counts coins, swaps contracts and margin. ``{detail}`` is the coin
# (balance) or the limit (size); 51008's sub-codes 1000 (balance) and 1001 (margin) go with them (`SUB_CODES`).
SPOT_REJECTIONS: RejectionTable = {
    **_ORDERS,
    RejectReason.INSUFFICIENT_BALANCE: _refusal(51008, "Order failed. Insufficient {detail} balance in account"),
    RejectReason.QTY_ABOVE_MAX: _refusal(51005, "Your order amount exceeds the max order amount."),
}
SWAP_REJECTIONS: RejectionTable = {
    **_ORDERS,
    RejectReason.INSUFFICIENT_BALANCE: _refusal(51008, "Order failed. Insufficient {detail} margin in account"),
    RejectReason.QTY_ABOVE_MAX: _refusal(51101, "Order failed, the sz of the current order can't be more than "
                                                "{detail} (contracts)."),
}
SUB_CODES = {("51008", "SPOT"): "1000", ("51008", "SWAP"): "1001"}
# POST /api/v5/account/set-leverage: the range and the margin it would need; anything else is a parameter.
LEVERAGE_REJECTIONS: RejectionTable = {
    **{reason: _refusal(51000, "Parameter lever error") for reason in _ORDERS},
    RejectReason.UNKNOWN_SYMBOL: _refusal(51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist."),
    RejectReason.LEVERAGE_INVALID: _refusal(59102, "Leverage exceeds the maximum limit. Please lower the leverage."),
    RejectReason.INSUFFICIENT_BALANCE: _refusal(59103, "Account margin is insufficient and leverage is too low. "
                                                       "Please increase the leverage."),
    RejectReason.QTY_ABOVE_MAX: _refusal(51000, "Parameter lever error"),
}
