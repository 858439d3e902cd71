"""Rate windows as venues count them: fixed intervals reset at boundaries, rolling windows forget what left
the last ``seconds``, and counting every request differs from counting admitted ones."""

from __future__ import annotations

import pytest

from emulators.engine.ratewindows import (
    DecayingCounter,
    FixedWindow,
    RollingWindow,
    header_lines,
    retry_after,
)


def test_a_fixed_window_resets_at_the_interval_boundary_not_a_width_after_the_first_request() -> None:
    window = FixedWindow(10)
    assert window.count(7.0) == 1 and window.count(9.5, 3) == 4
    assert window.resets_in(9.5) == 0.5
    assert window.count(10.0) == 1  # a new interval began at 10, three seconds after the first request


def test_a_rolling_window_forgets_requests_older_than_its_width() -> None:
    window = RollingWindow(1.0)
    assert [window.hit(t) for t in (0.0, 0.5, 0.9)] == [1, 2, 3]
    assert window.hit(1.0) == 3  # the request at 0.0 has left
    assert window.resets_in(1.2) == pytest.approx(0.3)


def test_admit_counts_only_what_it_lets_through() -> None:
    window = RollingWindow(1.0)
    assert [window.admit(t, 2) for t in (0.0, 0.1, 0.2, 0.3)] == [True, True, False, False]
    assert len(window.hits) == 2 and window.admit(1.0, 2)


def test_headers_print_values_and_retry_after_is_optional() -> None:
    assert header_lines(("x-used", 7), ("x-limit", "10")) == [(b"x-used", b"7"), (b"x-limit", b"10")]
    assert retry_after(None) == [] and retry_after(3) == [(b"retry-after", b"3")]


def test_a_decaying_counter_drains_at_its_rate_and_never_below_zero() -> None:
    counter = DecayingCounter(0.5)
    assert counter.add(0.0, 10) == 10
    assert counter.level(4.0) == 8 and counter.add(4.0, 1) == 9  # drained 2, then one more
    assert counter.seconds_until(4.0, 5) == 8.0
    assert counter.level(100.0) == 0.0  # never below zero
    assert counter.add(100.0, 2) == 2
