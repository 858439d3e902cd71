"""Credentials that cannot leak through a log line, an error or a repr.

`Secret` keeps its value out of `str`, `repr` and msgspec encoding; code that signs requests asks
for it explicitly with `reveal()`, which is easy to grep for.
"""

from __future__ import annotations

import attrs


class Secret:
    """Not an attrs/dataclass on purpose: msgspec would serialise those field by field."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        import hmac

        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("secrets are not picklable")


@attrs.frozen
class Credentials:
    """An API key (public identifier, shown abbreviated) and its secret parts."""

    api_key: str = attrs.field(repr=lambda k: f"{k[:4]}…" if k else "''")
    api_secret: Secret
    passphrase: Secret | None = None

    @classmethod
    def from_strings(cls, api_key: str, api_secret: str, passphrase: str | None = None) -> Credentials:
        return cls(api_key, Secret(api_secret), Secret(passphrase) if passphrase is not None else None)
