"""The engine's derivatives: one-way positions, leverage, margin, PnL (linear and inverse), reduce-only,
and a ledger that only ever changes by realised PnL minus fees. No I/O; the engine alone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulators.bybit import BYBIT_INSTRUMENTS
from emulators.engine import Exchange, Rejected

D = Decimal
LINEAR, INVERSE, SPOT = "linear:BTCUSDT", "inverse:BTCUSD", "spot:BTCUSDT"


def fresh(seed: int = 5) -> Exchange:
    exchange = Exchange(seed=seed, instruments=list(BYBIT_INSTRUMENTS))
    exchange.open_account("a", {"USDT": D("100000"), "BTC": D("1")})
    return exchange


def wallet(ex: Exchange, asset: str) -> Decimal:
    free, locked = ex.balance("a", asset)
    return free + locked


def market(ex: Exchange, symbol: str, side: str, qty: str, cid: str, **kw: bool) -> None:
    ex.place("a", symbol, side, "MARKET", D(qty), None, "IOC", cid, **kw)  # type: ignore[arg-type]


def test_the_same_venue_symbol_is_two_markets_and_binance_keeps_its_ids() -> None:
    ex = fresh()
    assert ex.symbols[SPOT].spec.name == ex.symbols[LINEAR].spec.name == "BTCUSDT"
    assert ex.symbols[SPOT].spec.kind == "spot" and ex.symbols[LINEAR].spec.kind == "linear"
    assert "BTCUSDT" in Exchange(seed=1).symbols  # the default (Binance) instruments keep id == symbol
    with pytest.raises(Rejected, match="not_derivative"):
        ex.position("a", SPOT)


def test_open_add_reduce_flip_close_linear() -> None:
    ex = fresh()
    market(ex, LINEAR, "BUY", "0.5", "o1")
    first = [f for f in ex.fill_log if f.client_order_id == "o1"]
    position = ex.position("a", LINEAR)
    assert position.size == D("0.5") and position.entry_price == first[0].price and position.side == "BUY"
    market(ex, LINEAR, "BUY", "0.3", "o2")
    second = [f for f in ex.fill_log if f.client_order_id == "o2"]
    expected_entry = (D("0.5") * first[0].price + D("0.3") * second[0].price) / D("0.8")
    assert position.size == D("0.8") and position.entry_price == expected_entry
    assert position.margin == (D("0.8") * expected_entry / 10).quantize(D("1e-12"))  # default leverage 10
    market(ex, LINEAR, "SELL", "0.2", "o3")
    reduce = next(f for f in ex.fill_log if f.client_order_id == "o3")
    assert reduce.closed_size == D("0.2")
    assert reduce.closed_pnl == (D("0.2") * (reduce.price - expected_entry)).quantize(D("1e-12"))
    assert position.size == D("0.6") and position.entry_price == expected_entry  # reducing keeps the entry
    market(ex, LINEAR, "SELL", "1", "o4")  # flip: closes 0.6, opens 0.4 short at the fill price
    flip = next(f for f in ex.fill_log if f.client_order_id == "o4")
    assert flip.closed_size == D("0.6")
    assert position.size == D("-0.4") and position.entry_price == flip.price and position.side == "SELL"
    market(ex, LINEAR, "BUY", "0.4", "o5")
    assert position.size == 0 and position.margin == 0 and position.side == ""
    assert ex.balance("a", "USDT")[1] == 0  # nothing locked any more


def test_realised_pnl_minus_fees_lands_in_the_wallet() -> None:
    ex = fresh()
    start = wallet(ex, "USDT")
    market(ex, LINEAR, "BUY", "1", "open")
    for _ in range(40):
        ex.tick()
    market(ex, LINEAR, "SELL", "1", "close")
    fills = [f for f in ex.fill_log if f.symbol == LINEAR]
    realised = sum((f.closed_pnl - f.fee for f in fills), D(0))
    assert wallet(ex, "USDT") == start + realised
    position = ex.position("a", LINEAR)
    assert position.cum_realised == realised and position.size == 0
    taker_fee = BYBIT_INSTRUMENTS[2].taker_fee
    assert all(f.fee == f.quote_quantity * taker_fee and f.fee_asset == "USDT" for f in fills)


def test_margin_is_locked_by_orders_and_positions_and_released() -> None:
    ex = fresh()
    mid = ex.symbols[LINEAR].mid
    price = (mid * D("0.9")).quantize(D("0.1"))
    order = ex.place("a", LINEAR, "BUY", "LIMIT", D("1"), price, "GTC", "rest")
    leverage = ex.position("a", LINEAR).leverage
    assert order.locked == price / leverage + price * BYBIT_INSTRUMENTS[2].taker_fee  # IM + fee at the limit
    assert ex.balance("a", "USDT") == (D("100000") - order.locked, order.locked)
    ex.cancel("a", LINEAR, order_id=order.order_id)
    assert ex.balance("a", "USDT") == (D("100000"), D(0))
    market(ex, LINEAR, "BUY", "1", "pos")
    position = ex.position("a", LINEAR)
    _free, locked = ex.balance("a", "USDT")
    assert locked == position.margin == position.entry_price / leverage
    with pytest.raises(Rejected, match="insufficient_balance"):
        ex.place("a", LINEAR, "BUY", "MARKET", D("100"), None, "IOC", "too-big")


def test_inverse_contracts_settle_in_coin() -> None:
    ex = fresh()
    start = wallet(ex, "BTC")
    market(ex, INVERSE, "BUY", "60000", "i1")  # 60,000 USD contracts: more than one synthetic level
    entry_fills = [f for f in ex.fill_log if f.client_order_id == "i1"]
    assert len(entry_fills) == 2
    position = ex.position("a", INVERSE)
    # the entry is the contract-weighted harmonic mean of the fill prices
    harmonic = D(60000) / sum((f.quantity / f.price for f in entry_fills), D(0))
    assert abs(position.entry_price - harmonic) < D("1e-18")
    assert position.margin == (D(60000) / position.entry_price / position.leverage).quantize(D("1e-12"))
    assert ex.balance("a", "USDT") == (D("100000"), D(0))  # inverse margin is BTC, not USDT
    entry = position.entry_price
    for _ in range(30):
        ex.tick()
    market(ex, INVERSE, "SELL", "60000", "i2")
    exit_fills = [f for f in ex.fill_log if f.client_order_id == "i2"]
    assert all(f.closed_pnl == (f.closed_size * (1 / entry - 1 / f.price)).quantize(D("1e-12")) for f in exit_fills)
    pnl = sum((f.closed_pnl for f in exit_fills), D(0))
    fills = entry_fills + exit_fills
    assert all(f.fee == (f.quantity / f.price * f.fee_rate).quantize(D("1e-12")) and f.fee_asset == "BTC"
               for f in fills)
    assert wallet(ex, "BTC") == start + pnl - sum((f.fee for f in fills), D(0))
    assert position.size == 0 and ex.balance("a", "BTC")[1] == 0


def test_inverse_pnl_formula() -> None:
    ex = fresh()
    position = ex.position("a", INVERSE)
    position.size, position.entry_price = D("1000"), D("50000")
    ex.symbols[INVERSE].mid = D("62500")
    assert ex.unrealised_pnl(position) == D("1000") * (D(1) / 50000 - D(1) / 62500) == D("0.004")
    liq = ex.liquidation_price(position)
    assert liq is not None and liq < D("50000")  # a long is liquidated below its entry


def test_reduce_only_refuses_to_open_and_is_capped() -> None:
    ex = fresh()
    with pytest.raises(Rejected, match="reduce_only"):
        market(ex, LINEAR, "SELL", "0.1", "r0", reduce_only=True)
    market(ex, LINEAR, "BUY", "0.3", "r1")
    with pytest.raises(Rejected, match="reduce_only"):
        market(ex, LINEAR, "BUY", "0.1", "r2", reduce_only=True)  # would add
    ex.place("a", LINEAR, "SELL", "MARKET", D("1"), None, "IOC", "r3", reduce_only=True)
    capped = next(o for o in ex.all_orders() if o.client_order_id == "r3")
    assert capped.quantity == D("0.3") and capped.status == "FILLED"
    assert ex.position("a", LINEAR).size == 0


def test_leverage_set_not_modified_and_bounds() -> None:
    ex = fresh()
    assert ex.position("a", LINEAR).leverage == 10
    market(ex, LINEAR, "BUY", "1", "l1")
    position = ex.position("a", LINEAR)
    ex.set_leverage("a", LINEAR, D("5"))
    assert position.leverage == 5 and position.margin == position.entry_price / 5
    assert ex.balance("a", "USDT")[1] == position.margin
    with pytest.raises(Rejected, match="leverage_not_modified"):
        ex.set_leverage("a", LINEAR, D("5"))
    with pytest.raises(Rejected, match="leverage_invalid"):
        ex.set_leverage("a", LINEAR, D("101"))
    with pytest.raises(Rejected, match="leverage_invalid"):
        ex.set_leverage("a", LINEAR, D("0.5"))


def test_a_taker_reports_the_levels_it_consumed() -> None:
    ex = fresh()
    seen: list[tuple[str, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]] = []
    ex.listeners.on_book.append(lambda state, bids, asks: seen.append((state.spec.symbol, bids, asks)))
    level = ex.symbols[LINEAR].spec.level_size
    best_ask = ex.symbols[LINEAR].book.asks[0][0]
    market(ex, LINEAR, "BUY", str(level + level / 2), "sweep")
    assert seen == [(LINEAR, [], [(best_ask, D(0)), (ex.symbols[LINEAR].book.asks[1][0], level / 2)])]


actions = st.lists(st.tuples(st.sampled_from(["buy", "sell", "buy_lmt", "sell_lmt", "reduce", "cancel", "tick",
                                              "leverage"]),
                             st.integers(1, 40), st.sampled_from([LINEAR, INVERSE])), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(actions)
def test_ledger_conserves_value_minus_realised_and_fees(steps: list[tuple[str, int, str]]) -> None:
    """Whatever happens, each settle coin's wallet (free + locked) moves only by realised PnL minus fees,
    locked funds equal open-order locks plus position margins, and nothing goes negative."""
    ex = fresh()
    start = {"USDT": wallet(ex, "USDT"), "BTC": wallet(ex, "BTC")}
    for n, (action, size, symbol) in enumerate(steps):
        spec = ex.symbols[symbol].spec
        qty = spec.min_qty * size * (1 if spec.kind == "linear" else 100)
        mid = ex.symbols[symbol].mid
        try:
            if action in ("buy", "sell"):
                ex.place("a", symbol, action.upper(), "MARKET", qty, None, "IOC", f"c{n}")  # type: ignore[arg-type]
            elif action == "buy_lmt":
                ex.place("a", symbol, "BUY", "LIMIT", qty, (mid * D("0.999")).quantize(spec.tick_size), "GTC", f"c{n}")
            elif action == "sell_lmt":
                ex.place("a", symbol, "SELL", "LIMIT", qty, (mid * D("1.001")).quantize(spec.tick_size), "GTC", f"c{n}")
            elif action == "reduce":
                side = "SELL" if ex.position("a", symbol).size > 0 else "BUY"
                ex.place("a", symbol, side, "MARKET", qty, None, "IOC", f"c{n}", reduce_only=True)
            elif action == "cancel":
                open_orders = ex.open_orders("a", symbol)
                if open_orders:
                    ex.cancel("a", symbol, order_id=open_orders[0].order_id)
            elif action == "leverage":
                ex.set_leverage("a", symbol, D(1 + size % 20))
            else:
                ex.tick()
        except Rejected:
            pass
    for asset, symbol in (("USDT", LINEAR), ("BTC", INVERSE)):
        fills = [f for f in ex.fill_log if f.symbol == symbol]
        assert wallet(ex, asset) == start[asset] + sum((f.closed_pnl - f.fee for f in fills), D(0))
        locks = sum((o.locked for o in ex.open_orders("a", symbol)), D(0))
        assert ex.balance("a", asset)[1] == locks + ex.position("a", symbol).margin
        position = ex.position("a", symbol)
        assert position.cum_realised == sum((f.closed_pnl - f.fee for f in fills), D(0))
        assert position.margin == ex.initial_margin(ex.symbols[symbol].spec, abs(position.size),
                                                    position.entry_price, position.leverage)
    assert all(v >= 0 for pair in ex.balances["a"].values() for v in pair)
