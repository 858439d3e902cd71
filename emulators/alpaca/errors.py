"""Alpaca's words: every refusal the dialect sends, as an HTTP status and a ``{"code", "message"}`` body.

Codes are Alpaca's eight-digit ones: the first three digits are the HTTP status, the rest the kind --
40010000 malformed body, 40010001 validation, 40110000 bad credentials, 40310000 refused for funds, shares or
permission, 40410000 not found, 42210000 refused by the order rules, 42910000 rate limit. Some bodies carry
more fields (``available``/``existing_qty``/``held_for_orders``/``symbol`` when shares are short,
``base_price`` for bracket prices). A request without the key headers is stopped at the gateway with
``403 {"message": "forbidden."}``. Messages are Alpaca's as seen in its API's answers where we found them
(e.g. "insufficient buying power", "client_order_id must be unique", "asset \\"X\\" cannot be sold short",
"order is already in \\"filled\\" state"); the others are our best wording and say so in the docstring of the
function that sends them. The market-data streams' error frames are `STREAM_ERRORS`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emulators.engine.errors import Headers, Refusal, RejectionTable, VenueError
from emulators.engine.model import RejectReason


class AlpacaError(VenueError):
    """A refusal with Alpaca's body: ``code`` (None: the gateway's body has none) and extra body fields."""

    def __init__(self, status: int, code: int | None, message: str, headers: Headers | None = None,
                 **extra: Any) -> None:
        super().__init__(status, code if code is not None else "", message, headers)
        self.extra = extra

    def body(self) -> dict[str, Any]:
        fields = {key: _text(value) for key, value in self.extra.items()}
        return {**fields, **({"code": self.code} if self.code != "" else {}), "message": self.message}


def _text(value: Any) -> Any:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else value


def error(status: int, code: int | None, message: str, **extra: Any) -> AlpacaError:
    return AlpacaError(status, code, message, **extra)


# ---------------------------------------------------------------------- the gateway and authentication
def forbidden() -> AlpacaError:
    """No key headers at all: the gateway answers before any API code runs."""
    return error(403, None, "forbidden.")


def unauthorized() -> AlpacaError:
    """An unknown key id, or a secret that does not match it."""
    return error(401, 40110000, "request is not authorized")


def rate_limited(headers: Headers, *, data: bool = False) -> AlpacaError:
    """Over the 200 requests a minute (market data: over the plan's limit; our wording there)."""
    return AlpacaError(429, 42910000, "too many requests" if data else "rate limit exceeded", headers)


def endpoint_not_found() -> AlpacaError:
    """A path this emulator does not serve (our wording)."""
    return error(404, 40410000, "endpoint not found")


def method_not_allowed() -> AlpacaError:
    """A served path with another method (our wording)."""
    return error(405, 40510000, "method not allowed")


def internal_error() -> AlpacaError:
    return error(500, 50010000, "internal server error")


# ---------------------------------------------------------------------- request shape
def malformed_body() -> AlpacaError:
    return error(400, 40010000, "request body format is invalid")


def invalid(message: str, **extra: Any) -> AlpacaError:
    """A parameter that is missing, of the wrong type or out of range: 422 with code 40010001."""
    return error(422, 40010001, message, **extra)


def unknown_parameter(name: str) -> AlpacaError:
    """A parameter this emulator does not model is refused, never ignored (our wording)."""
    return invalid(f"{name} is not a supported parameter")


def bad_query(message: str) -> AlpacaError:
    """Market data: an invalid query value (400, as the data API documents)."""
    return error(400, 40010001, message)


# ---------------------------------------------------------------------- order rules
def rule(message: str, **extra: Any) -> AlpacaError:
    """An order the rules refuse: 422 with code 42210000."""
    return error(422, 42210000, message, **extra)


def refused(message: str, **extra: Any) -> AlpacaError:
    """Refused for funds, shares or permission: 403 with code 40310000."""
    return error(403, 40310000, message, **extra)


def insufficient_buying_power() -> AlpacaError:
    return refused("insufficient buying power")


def insufficient_qty(symbol: str, requested: Decimal, existing: Decimal, held: Decimal) -> AlpacaError:
    available = max(existing - held, Decimal(0))
    return refused(f"insufficient qty available for order (requested: {_text(requested)}, "
                   f"available: {_text(available)})", available=available, existing_qty=existing,
                   held_for_orders=held, symbol=symbol)


def not_fractionable(symbol: str) -> AlpacaError:
    return refused(f'asset "{symbol}" is not fractionable')


def cannot_short(symbol: str) -> AlpacaError:
    return rule(f'asset "{symbol}" cannot be sold short')


def order_not_found() -> AlpacaError:
    return error(404, 40410000, "order not found")


def not_cancelable(status: str) -> AlpacaError:
    return rule(f'order is already in "{status}" state')


def asset_not_found(symbol: str) -> AlpacaError:
    return error(404, 40410000, f"asset not found for {symbol}")


def position_not_found() -> AlpacaError:
    return error(404, 40410000, "position does not exist")


def sip_not_permitted() -> AlpacaError:
    """The Basic plan asked for SIP data of the last 15 minutes."""
    return refused_data("subscription does not permit querying recent SIP data")


def refused_data(message: str) -> AlpacaError:
    return error(403, 42210000, message)


# ---------------------------------------------------------------------- engine refusals
def _row(status: int, code: int, message: str) -> Refusal:
    return Refusal(status, code, message)


_UNPROCESSABLE = _row(422, 42210000, "unable to process order ({reason})")
# Every engine refusal in Alpaca's words. The dialect checks funds, shares and filters before the engine, so
# most rows only word what slipped through; none may be missing (the registry test checks it).
REJECTIONS: RejectionTable = {
    RejectReason.INSUFFICIENT_BALANCE: _row(403, 40310000, "insufficient buying power"),
    RejectReason.QTY_BELOW_MIN: _row(422, 40010001, "qty must be >= 0.000000001"),
    RejectReason.QTY_ABOVE_MAX: _row(422, 42210000, "qty is too large"),
    RejectReason.QTY_OFF_STEP: _row(422, 40010001, "qty must have at most 9 decimal places"),
    RejectReason.PRICE_OFF_TICK: _row(422, 42210000, "invalid price. sub-penny increment does not fulfill "
                                                     "minimum pricing criteria"),
    RejectReason.NOTIONAL_BELOW_MIN: _row(403, 40310000, "cost basis must be >= 1"),
    RejectReason.UNKNOWN_SYMBOL: _row(422, 40010001, 'asset "{detail}" not found'),
    RejectReason.DUPLICATE: _row(422, 40010001, "client_order_id must be unique"),
    RejectReason.UNKNOWN_ORDER: _row(404, 40410000, "order not found"),
    RejectReason.WOULD_MATCH: _UNPROCESSABLE,
    RejectReason.REDUCE_ONLY: _UNPROCESSABLE,
    RejectReason.LEVERAGE_NOT_MODIFIED: _UNPROCESSABLE,
    RejectReason.LEVERAGE_INVALID: _UNPROCESSABLE,
    RejectReason.NOT_DERIVATIVE: _UNPROCESSABLE,
}


# ---------------------------------------------------------------------- market-data stream error frames
# (code -> message), as the "WebSocket Stream" page lists them.
STREAM_ERRORS: dict[int, str] = {
    400: "invalid syntax",
    401: "not authenticated",
    402: "auth failed",
    403: "already authenticated",
    404: "auth timeout",
    405: "symbol limit exceeded",
    406: "connection limit exceeded",
    407: "slow client",
    409: "insufficient subscription",
    410: "invalid subscribe action for this feed",
    500: "internal error",
}
