"""Reading request parameters the way venues check them, refusing in the venue's words.

Each helper finds what is wrong (`ParamFault`) and asks the dialect's `ParamWords` for the error, so the
checks are shared and the wording stays the venue's: Binance's ``-1102 Mandatory parameter 'quantity' was
not sent...``, Bybit's ``10001 params error: qty is required``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from emulators.engine.errors import VenueError

T = TypeVar("T")


class ParamFault(Enum):
    MISSING = "missing"  # absent or empty
    NOT_A_STRING = "not_a_string"  # a JSON number where the venue wants a string
    MALFORMED = "malformed"  # not a number of the kind asked for
    OUT_OF_RANGE = "out_of_range"  # a number, but negative, zero where positive is wanted, or not finite
    UNPAIRED = "unpaired"  # one end of a time window that needs both
    TOO_WIDE = "too_wide"  # a time window wider than the venue allows


ParamWords = Callable[[ParamFault, str], VenueError]  # (fault, parameter name) -> the venue's error


def decimal_param(params: Mapping[str, Any], name: str, words: ParamWords, *, required: bool = True,
                  positive: bool = False, strings_only: bool = False) -> Decimal | None:
    """A non-negative decimal (``positive``: above zero). ``strings_only`` refuses JSON numbers."""
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise words(ParamFault.MISSING, name)
        return None
    if strings_only and not isinstance(raw, str):
        raise words(ParamFault.NOT_A_STRING, name)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise words(ParamFault.MALFORMED, name) from None
    if not value.is_finite() or value < 0 or (positive and value == 0):
        raise words(ParamFault.OUT_OF_RANGE, name)
    return value


def required_decimal(params: Mapping[str, Any], name: str, words: ParamWords, *, positive: bool = False,
                     strings_only: bool = False) -> Decimal:
    value = decimal_param(params, name, words, positive=positive, strings_only=strings_only)
    assert value is not None  # required: absent raised
    return value


def limit_param(params: Mapping[str, Any], words: ParamWords, *, default: int, maximum: int,
                name: str = "limit") -> int:
    """A page size: ``default`` when absent, at least 1, capped at ``maximum``."""
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise words(ParamFault.MALFORMED, name) from None
    if value < 1:
        raise words(ParamFault.OUT_OF_RANGE, name)
    return min(value, maximum)


def offset_page(items: list[T], offset: int, limit: int) -> tuple[list[T], int | None]:
    """One page from ``offset``, and the offset of the next page (None on the last)."""
    following = offset + limit
    return items[offset:following], following if following < len(items) else None


def time_window(start: int | None, end: int | None, words: ParamWords, *, span_ms: int, now_ms: int,
                require_both: bool = False, names: tuple[str, str] = ("startTime", "endTime")) -> tuple[int, int]:
    """A [start, end] window at most ``span_ms`` wide: one end alone spans ``span_ms`` from/to it, neither
    means the last ``span_ms`` (to a second past now)."""
    if require_both and (start is None) != (end is None):
        raise words(ParamFault.UNPAIRED, names[0] if start is None else names[1])
    if start is not None and end is not None:
        if end < start or end - start > span_ms:
            raise words(ParamFault.TOO_WIDE, names[0])
        return start, end
    if start is not None:
        return start, start + span_ms
    if end is not None:
        return end - span_ms, end
    return now_ms - span_ms, now_ms + 1000


def within(items: Iterable[T], when: Callable[[T], int], start: int | None, end: int | None) -> list[T]:
    """The items whose time ``when`` falls in [start, end] (an absent end does not bound)."""
    return [item for item in items
            if (start is None or when(item) >= start) and (end is None or when(item) <= end)]
