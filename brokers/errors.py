"""The shape of every venue's error table, and the filter names every venue reports.

Each `brokers/<venue>/errors.py` maps its codes in one table, ``CODE_TABLE: dict[code, CodeRow]``:
which typed error a code means and, for a refused order, which filter it broke. `CodeRow.error`
builds the typed error from a row with the venue's words attached, so the special fields of each
class (a rate limit's ``retry_after`` and ``banned``, an invalid order's ``filter``) are filled in
the same way for every venue. `error_body` reads a failed answer's body into the venue's error Struct.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final, NamedTuple, TypeVar

import msgspec

from protocol import errors as e

B = TypeVar("B", bound=msgspec.Struct)

# Filter names, in Binance's vocabulary (filters.md), which every venue reports its refusals in.
SYMBOL: Final = "SYMBOL"
LOT_SIZE: Final = "LOT_SIZE"  # quantity: step, minimum and maximum
PRICE_FILTER: Final = "PRICE_FILTER"  # price: tick and range; also "a limit order needs a price"
NOTIONAL: Final = "NOTIONAL"  # order value: minimum
PARAMETER: Final = "PARAMETER"  # a request parameter the venue refused without saying which filter
TIME_IN_FORCE: Final = "TIME_IN_FORCE"
CLIENT_ORDER_ID: Final = "CLIENT_ORDER_ID"
INTERVAL: Final = "INTERVAL"
LEVERAGE: Final = "LEVERAGE"
REDUCE_ONLY: Final = "REDUCE_ONLY"


class CodeRow(NamedTuple):
    """One row of a venue's error table: the typed error a venue code means, and the filter it names."""

    kind: type[e.BrokerError]
    filter: str | None = None

    def error(self, message: str, *, venue: str, code: int | str | None, venue_message: str | None = None,
              retry_after: float | Decimal | None = None, banned: bool = False, retryable: bool | None = None,
              filter: str | None = None, client_order_id: str | None = None) -> e.BrokerError:
        """The typed error of this row; ``filter`` overrides the row's (venues that name it in the message)."""
        common: dict[str, Any] = {"venue": venue, "code": code, "venue_message": venue_message,
                                  "retryable": retryable, "client_order_id": client_order_id}
        if self.kind is e.RateLimited:
            return e.RateLimited(message, retry_after=retry_after, banned=banned, **common)
        if self.kind is e.InvalidOrder:
            return e.InvalidOrder(message, filter=filter or self.filter, **common)
        return self.kind(message, **common)


def error_body(body: bytes, shape: type[B], *, text_field: str) -> B:
    """A failed HTTP answer's body as the venue's error Struct (every field with a default): an empty body
    is the defaults; one that is not JSON of that shape (an HTML page from a proxy, plain text) keeps its
    first 200 characters in ``text_field``, so the error still says what came back."""
    try:
        return msgspec.json.decode(body, type=shape) if body else shape()
    except (msgspec.DecodeError, msgspec.ValidationError):
        return shape(**{text_field: body[:200].decode(errors="replace").strip()})
