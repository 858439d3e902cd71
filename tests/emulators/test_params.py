"""Parameter helpers find what is wrong and let the dialect word it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from emulators.engine.errors import VenueError
from emulators.engine.params import (
    ParamFault,
    decimal_param,
    limit_param,
    offset_page,
    time_window,
    within,
)


def words(fault: ParamFault, name: str) -> VenueError:
    return VenueError(400, fault.value, name)


def fault_of(call: object) -> tuple[object, str]:
    with pytest.raises(VenueError) as info:
        call()  # type: ignore[operator]
    return info.value.code, info.value.message


def test_decimals() -> None:
    p = {"a": "1.5", "zero": "0", "neg": "-1", "nan": "NaN", "bad": "1,5", "num": 2, "empty": ""}
    assert decimal_param(p, "a", words) == Decimal("1.5")
    assert decimal_param(p, "zero", words) == 0 and decimal_param(p, "num", words) == 2
    assert decimal_param(p, "empty", words, required=False) is None
    assert fault_of(lambda: decimal_param(p, "empty", words)) == ("missing", "empty")
    assert fault_of(lambda: decimal_param(p, "bad", words)) == ("malformed", "bad")
    assert fault_of(lambda: decimal_param(p, "neg", words)) == ("out_of_range", "neg")
    assert fault_of(lambda: decimal_param(p, "nan", words)) == ("out_of_range", "nan")
    assert fault_of(lambda: decimal_param(p, "zero", words, positive=True)) == ("out_of_range", "zero")
    assert fault_of(lambda: decimal_param(p, "num", words, strings_only=True)) == ("not_a_string", "num")


def test_limits_and_pages() -> None:
    assert limit_param({}, words, default=20, maximum=50) == 20
    assert limit_param({"limit": "500"}, words, default=20, maximum=50) == 50
    assert fault_of(lambda: limit_param({"limit": "x"}, words, default=1, maximum=2)) == ("malformed", "limit")
    assert fault_of(lambda: limit_param({"limit": "0"}, words, default=1, maximum=2)) == ("out_of_range", "limit")
    items = list(range(5))
    assert offset_page(items, 0, 2) == ([0, 1], 2) and offset_page(items, 4, 2) == ([4], None)
    assert offset_page(items, 3, 2) == ([3, 4], None)


def test_time_windows() -> None:
    day = 86_400_000
    assert time_window(None, None, words, span_ms=day, now_ms=10 * day) == (9 * day, 10 * day + 1000)
    assert time_window(5, None, words, span_ms=day, now_ms=0) == (5, 5 + day)
    assert time_window(None, day, words, span_ms=day, now_ms=0) == (0, day)
    assert fault_of(lambda: time_window(5, None, words, span_ms=day, now_ms=0, require_both=True)) == \
        ("unpaired", "endTime")
    assert fault_of(lambda: time_window(0, day + 1, words, span_ms=day, now_ms=0)) == ("too_wide", "startTime")
    assert within([1, 5, 9], lambda x: x, 2, None) == [5, 9] and within([1, 5, 9], lambda x: x, None, 5) == [1, 5]
