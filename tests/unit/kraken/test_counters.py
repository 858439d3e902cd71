"""Kraken's decaying counters: the published tier numbers, costs and order-age penalties, as a model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.kraken import constants as c
from brokers.kraken.constants import TradingTransaction as T
from brokers.kraken.constants import VerificationTier as Tier
from brokers.kraken.counters import DecayingCounter, PairCounters, rest_counter, trading_cost, trading_counter


@pytest.mark.parametrize(("tier", "limit", "decay"), [
    (Tier.STARTER, 15, 0.33), (Tier.INTERMEDIATE, 20, 0.5), (Tier.PRO, 20, 1.0)])
def test_rest_counter_tiers_as_published(tier: Tier, limit: int, decay: float) -> None:
    counter = rest_counter(tier)
    assert (counter.limit, counter.decay_per_s) == (limit, decay)
    for _ in range(limit):  # a burst of `limit` calls of cost 1 fits at once
        assert counter.fits(0.0, 1)
        counter.add(0.0, 1)
    assert not counter.fits(0.0, 1)
    assert counter.wait_for(0.0, 1) == pytest.approx(1 / decay)
    assert counter.fits(1 / decay + 1e-9, 1)


@pytest.mark.parametrize(("tier", "threshold", "decay"), [
    (Tier.STARTER, 60, 1.0), (Tier.INTERMEDIATE, 125, 2.34), (Tier.PRO, 180, 3.75)])
def test_trading_counter_tiers_as_published(tier: Tier, threshold: int, decay: float) -> None:
    counter = trading_counter(tier)
    assert (counter.limit, counter.decay_per_s) == (threshold, decay)
    assert c.MAX_OPEN_ORDERS_PER_PAIR[tier] in (60, 80, 225)


def test_rest_costs_history_two_trading_zero_public_zero() -> None:
    assert c.rest_counter_cost(c.TRADES_HISTORY) == c.rest_counter_cost(c.LEDGERS) == 2
    assert c.rest_counter_cost(c.ADD_ORDER) == c.rest_counter_cost(c.CANCEL_ORDER) == 0
    assert c.rest_counter_cost(c.BALANCE) == c.rest_counter_cost(c.OPEN_ORDERS) == 1
    assert c.rest_counter_cost(c.ASSET_PAIRS) == 0


@pytest.mark.parametrize(("transaction", "age", "cost"), [
    (T.ADD_ORDER, None, 1),
    (T.CANCEL_ORDER, 0.0, 8), (T.CANCEL_ORDER, 4.99, 8), (T.CANCEL_ORDER, 5.0, 6), (T.CANCEL_ORDER, 9.9, 6),
    (T.CANCEL_ORDER, 10.0, 5), (T.CANCEL_ORDER, 14.0, 5), (T.CANCEL_ORDER, 15.0, 4), (T.CANCEL_ORDER, 44.0, 4),
    (T.CANCEL_ORDER, 45.0, 2), (T.CANCEL_ORDER, 89.0, 2), (T.CANCEL_ORDER, 90.0, 1), (T.CANCEL_ORDER, 299.0, 1),
    (T.CANCEL_ORDER, 300.0, 0),
    (T.AMEND_ORDER, 1.0, 4), (T.AMEND_ORDER, 7.0, 3), (T.AMEND_ORDER, 12.0, 2), (T.AMEND_ORDER, 20.0, 1),
    (T.EDIT_ORDER, 1.0, 7), (T.EDIT_ORDER, 6.0, 6), (T.EDIT_ORDER, 11.0, 5), (T.EDIT_ORDER, 30.0, 3),
    (T.EDIT_ORDER, 60.0, 2), (T.EDIT_ORDER, 120.0, 1),
])
def test_order_age_penalties_as_published(transaction: T, age: float | None, cost: int) -> None:
    assert trading_cost(transaction, age) == cost


def test_documented_example_add_amend_after_7s_cancel_after_36s() -> None:
    """"Spot Trading Limits": add (+1), amend 7 s later (+1 fixed, +2 decaying), cancel 36 s after the
    amend (+4): the counter rises by 8 in all (decay left aside, as the page does)."""
    assert trading_cost(T.ADD_ORDER) + trading_cost(T.AMEND_ORDER, 7) + trading_cost(T.CANCEL_ORDER, 36) == 8


def test_cancel_needs_the_order_age() -> None:
    with pytest.raises(ValueError, match="age"):
        trading_cost(T.CANCEL_ORDER)


def test_pair_counters_are_per_pair() -> None:
    counters = PairCounters(Tier.STARTER)
    for _ in range(7):
        counters.record("XBTUSD", 0.0, T.CANCEL_ORDER, 1.0)  # 7 x 8 = 56
    assert counters.counter("XBTUSD").value(0.0) == 56
    assert not counters.fits("XBTUSD", 0.0, T.CANCEL_ORDER, 1.0)
    assert counters.fits("ETHUSD", 0.0, T.CANCEL_ORDER, 1.0)
    assert counters.fits("XBTUSD", 4.0, T.CANCEL_ORDER, 1.0)  # decayed by 4 at 1/s: 52 + 8 = 60


def test_venue_figure_only_raises_the_count() -> None:
    counter = DecayingCounter(20, 1.0)
    counter.add(0.0, 5)
    counter.observe(0.0, 3)
    assert counter.value(0.0) == 5
    counter.observe(0.0, 9)
    assert counter.value(2.0) == 7


def test_a_call_that_can_never_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="never fit"):
        DecayingCounter(15, 0.33).wait_for(0.0, 16)


@given(events=st.lists(st.tuples(st.floats(0, 30, allow_nan=False), st.integers(0, 8)), max_size=50))
def test_property_counter_matches_the_closed_form(events: list[tuple[float, int]]) -> None:
    """Linear decay to a floor of zero between calls: the model equals a step-by-step replay."""
    counter = DecayingCounter(180, 3.75)
    now, expected = 0.0, 0.0
    for gap, cost in events:
        expected = max(0.0, expected - 3.75 * gap) + cost
        now += gap
        assert counter.add(now, cost) == pytest.approx(expected)
        assert counter.value(now) >= 0
        wait = counter.wait_for(now, 1)
        assert counter.fits(now + wait + 1e-9, 1)
