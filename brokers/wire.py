"""Values on the wire, both ways: decimals written plainly and JSON bodies as exact bytes; numbers sent
as strings and enum values read back.

Signing covers the exact bytes sent, so the text of every number and body is decided here, once,
for every venue. Going the other way, several venues (Bybit, OKX) send numbers as JSON strings with
``""`` where a value is absent or does not apply: `opt_decimal` / `decimal_or_zero` read those, and
refuse anything that is not a finite number with a `ProtocolViolation` naming the venue and the field.
`lookup` reads a venue's enum value (a side, a status ...) through its table the same way. A venue
binds them once with its own names (its schemas / mapping module) so its call sites pass only the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import msgspec

from protocol.errors import InvalidOrder, ProtocolViolation

T = TypeVar("T")
K = TypeVar("K")


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


def opt_decimal(text: str | None, *, venue: str, name: str, field: str = "number") -> Decimal | None:
    """A venue's numeric string where ``""`` (or no value) means "absent" -> None; garbage, NaN or an
    infinity is a `ProtocolViolation` ("<name> sent <field>='...', not a number").

    ``venue`` is the venue's code (``"okx"``), ``name`` how it writes its own name (``"OKX"``).
    """
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ProtocolViolation(f"{name} sent {field}={text!r}, not a number", venue=venue) from error
    if not value.is_finite():
        raise ProtocolViolation(f"{name} sent {field}={text!r}, not a finite number", venue=venue)
    return value


def decimal_or_zero(text: str | None, *, venue: str, name: str, field: str = "number") -> Decimal:
    """`opt_decimal`, with an absent value read as 0."""
    value = opt_decimal(text, venue=venue, name=name, field=field)
    return Decimal(0) if value is None else value


def lookup(table: Mapping[K, T], value: K, what: str, *, venue: str, name: str) -> T:
    """``table[value]``: a venue value -> ours; one the table lacks is a `ProtocolViolation`
    ("unknown <name> <what> '<value>'"), never a silent default."""
    try:
        return table[value]
    except KeyError:
        raise ProtocolViolation(f"unknown {name} {what} {value!r}", venue=venue) from None
