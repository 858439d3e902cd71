"""Values as venues want them on the wire: decimals written plainly, JSON bodies as exact bytes.

Signing covers the exact bytes sent, so the text of every number and body is decided here, once,
for every venue.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import msgspec

from protocol.errors import InvalidOrder


def plain(value: Decimal, *, venue: str | None = None) -> str:
    """A decimal as venues want it in a request: no exponent, no trailing zeros ("0.001", "65000", "0").

    A NaN or an infinity is refused (`InvalidOrder`): no venue takes one, and it must not be signed.
    """
    if not value.is_finite():
        raise InvalidOrder(f"{value} is not a finite number", venue=venue)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def json_body(body: Mapping[str, object]) -> bytes:
    """The exact bytes to send and to sign: compact JSON, insertion order kept, decimals as strings."""
    return msgspec.json.encode(body)
