"""The venue-neutral exchange engine: matching, partial fills, ledger conservation, filters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulators.engine import Exchange, Rejected


def fresh(seed: int = 3) -> Exchange:
    exchange = Exchange(seed=seed)
    exchange.open_account("a")
    return exchange


def holdings(exchange: Exchange, account: str, asset: str) -> Decimal:
    free, locked = exchange.balance(account, asset)
    return free + locked


def test_a_large_market_order_fills_across_levels() -> None:
    ex = fresh()
    level = ex.symbols["BTCUSDT"].spec.level_size
    order = ex.place("a", "BTCUSDT", "BUY", "MARKET", level * 2 + level / 2, None, "GTC", "big")
    fills = [f for f in ex.fill_log if f.order_id == order.order_id]
    assert order.status == "FILLED" and len(fills) == 3
    assert [f.price for f in fills] == sorted(f.price for f in fills)  # walked up the book
    assert sum(f.quantity for f in fills) == order.quantity


def test_a_resting_order_fills_partially_over_ticks() -> None:
    ex = fresh()
    mid = ex.symbols["BTCUSDT"].mid
    order = ex.place("a", "BTCUSDT", "BUY", "LIMIT", Decimal("0.01"), (mid * Decimal("1.0001")).quantize(
        Decimal("0.01")) - Decimal("10"), "GTC", "rest")
    assert order.status == "NEW"
    for _ in range(2000):
        if order.status == "FILLED":
            break
        ex.tick()
    fills = [f for f in ex.fill_log if f.order_id == order.order_id]
    assert order.status == "FILLED" and len(fills) >= 2 and all(f.is_maker for f in fills)


def test_filters_and_funds_are_enforced() -> None:
    ex = fresh()
    with pytest.raises(Rejected, match="LOT_SIZE"):
        ex.place("a", "BTCUSDT", "BUY", "LIMIT", Decimal("0.000015"), Decimal("60000"), "GTC", "x1")
    with pytest.raises(Rejected, match="PRICE_FILTER"):
        ex.place("a", "BTCUSDT", "BUY", "LIMIT", Decimal("0.001"), Decimal("60000.001"), "GTC", "x2")
    with pytest.raises(Rejected, match="NOTIONAL"):
        ex.place("a", "BTCUSDT", "BUY", "LIMIT", Decimal("0.00001"), Decimal("100"), "GTC", "x3")
    with pytest.raises(Rejected, match="insufficient_balance"):
        ex.place("a", "BTCUSDT", "BUY", "LIMIT", Decimal("100"), Decimal("60000"), "GTC", "x4")
    ex.place("a", "BTCUSDT", "BUY", "LIMIT", Decimal("0.001"), Decimal("60000"), "GTC", "dup")
    with pytest.raises(Rejected, match="duplicate"):
        ex.place("a", "BTCUSDT", "BUY", "LIMIT", Decimal("0.001"), Decimal("60000"), "GTC", "dup")


def test_same_seed_same_prices() -> None:
    a, b = Exchange(seed=9), Exchange(seed=9)
    for _ in range(50):
        a.tick()
        b.tick()
    assert a.symbols["ETHUSDT"].mid == b.symbols["ETHUSDT"].mid
    assert Exchange(seed=10).symbols["ETHUSDT"].candles[-2].close != a.symbols["ETHUSDT"].candles[-2].close


def test_each_symbol_walks_on_its_own_rng_stream() -> None:
    """Adding or removing symbols changes no other symbol's path (each has a stream from seed and symbol)."""
    from emulators.engine import DEFAULT_INSTRUMENTS, synthetic_instruments
    alone = Exchange(seed=4, instruments=[DEFAULT_INSTRUMENTS[1]])
    crowded = Exchange(seed=4, instruments=[*synthetic_instruments(3), *DEFAULT_INSTRUMENTS])
    for _ in range(30):
        alone.tick()
        crowded.tick()
    assert alone.symbols["ETHUSDT"].mid == crowded.symbols["ETHUSDT"].mid
    assert [t.quantity for t in alone.symbols["ETHUSDT"].trades] == [t.quantity for t in
                                                                     crowded.symbols["ETHUSDT"].trades]


def test_spot_fees_are_exact_unless_the_dialect_sets_a_step() -> None:
    exact, stepped = fresh(), fresh()
    stepped.spot_fee_step = Decimal("0.00000001")
    for ex in (exact, stepped):
        ex.place("a", "BTCUSDT", "SELL", "MARKET", Decimal("0.00123"), None, "GTC", "sell")
    fee_exact, fee_stepped = exact.fill_log[0].fee, stepped.fill_log[0].fee
    assert fee_exact == exact.fill_log[0].quote_quantity * Decimal("0.001")  # to the last digit
    assert fee_stepped == fee_exact.quantize(Decimal("0.00000001")) and -fee_stepped.as_tuple().exponent <= 8
    assert fee_exact != fee_stepped  # 0.00123 * price * 0.001 has more than 8 places


actions = st.lists(st.tuples(st.sampled_from(["buy_mkt", "sell_mkt", "buy_lmt", "sell_lmt", "cancel", "tick"]),
                             st.integers(1, 50)), min_size=1, max_size=40)


@settings(max_examples=60)
@given(actions)
def test_ledger_conserves_value_minus_fees(steps: list[tuple[str, int]]) -> None:
    """Across any sequence of trades, cancels and ticks: no asset is created or destroyed except by
    trades with the (synthetic) market, and locked funds always match open orders."""
    ex = fresh()
    spec = ex.symbols["BTCUSDT"].spec
    start_btc, start_usdt = holdings(ex, "a", "BTC"), holdings(ex, "a", "USDT")
    for n, (action, size) in enumerate(steps):
        qty = spec.step_size * 100 * size
        mid = ex.symbols["BTCUSDT"].mid
        try:
            if action == "buy_mkt":
                ex.place("a", "BTCUSDT", "BUY", "MARKET", qty, None, "GTC", f"c{n}")
            elif action == "sell_mkt":
                ex.place("a", "BTCUSDT", "SELL", "MARKET", qty, None, "GTC", f"c{n}")
            elif action == "buy_lmt":
                ex.place("a", "BTCUSDT", "BUY", "LIMIT", qty, (mid * Decimal("0.999")).quantize(spec.tick_size),
                         "GTC", f"c{n}")
            elif action == "sell_lmt":
                ex.place("a", "BTCUSDT", "SELL", "LIMIT", qty, (mid * Decimal("1.001")).quantize(spec.tick_size),
                         "GTC", f"c{n}")
            elif action == "cancel":
                open_orders = ex.open_orders("a", "BTCUSDT")
                if open_orders:
                    ex.cancel("a", "BTCUSDT", order_id=open_orders[0].order_id)
            else:
                ex.tick()
        except Rejected:
            pass
    fills = [f for f in ex.fill_log if f.account == "a"]
    bought = sum((f.quantity - f.fee for f in fills if f.side == "BUY"), Decimal(0))
    sold = sum((f.quantity for f in fills if f.side == "SELL"), Decimal(0))
    spent = sum((f.quote_quantity for f in fills if f.side == "BUY"), Decimal(0))
    received = sum((f.quote_quantity - f.fee for f in fills if f.side == "SELL"), Decimal(0))
    assert holdings(ex, "a", "BTC") == start_btc + bought - sold
    assert holdings(ex, "a", "USDT") == start_usdt - spent + received
    usdt_locked = ex.balance("a", "USDT")[1]
    btc_locked = ex.balance("a", "BTC")[1]
    open_orders = ex.open_orders("a", "BTCUSDT")
    assert usdt_locked == sum((o.locked for o in open_orders if o.side == "BUY"), Decimal(0))
    assert btc_locked == sum((o.locked for o in open_orders if o.side == "SELL"), Decimal(0))
    assert all(v >= 0 for pair in ex.balances["a"].values() for v in pair)
