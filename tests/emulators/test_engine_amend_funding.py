"""The engine's amend (an open order gets a new price and/or total quantity, keeping its ids, re-locking its
funds) and funding settlement (perpetual positions pay or receive rate x value at the mark). No I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest

from emulators.bybit import BYBIT_INSTRUMENTS
from emulators.engine import Exchange, Rejected, RejectReason
from emulators.engine.funding import settle

D = Decimal
LINEAR, INVERSE, SPOT = "linear:BTCUSDT", "inverse:BTCUSD", "spot:BTCUSDT"


def fresh() -> Exchange:
    exchange = Exchange(seed=5, instruments=list(BYBIT_INSTRUMENTS))
    exchange.open_account("a", {"USDT": D("100000"), "BTC": D("1")})
    return exchange


def test_amend_relocks_keeps_ids_and_emits() -> None:
    ex = fresh()
    events: list[str] = []
    ex.listeners.on_order.append(lambda order, fill, execution: events.append(execution))
    low = ex.symbols[SPOT].mid - 1000
    order = ex.place("a", SPOT, "BUY", "LIMIT", D("0.1"), low, "GTC", "c1")
    assert ex.balance("a", "USDT")[1] == D("0.1") * low
    amended = ex.amend("a", SPOT, order.order_id, quantity=D("0.2"), price=low - 100)
    assert amended is order and (order.quantity, order.price, order.client_order_id) == (D("0.2"), low - 100, "c1")
    assert ex.balance("a", "USDT") == (D("100000") - D("0.2") * (low - 100), D("0.2") * (low - 100))
    assert events == ["NEW", "AMENDED"]
    ex.amend("a", SPOT, order.order_id, quantity=D("0.05"))
    assert ex.balance("a", "USDT")[1] == D("0.05") * (low - 100)  # shrinking releases funds
    with pytest.raises(Rejected) as too_much:
        ex.amend("a", SPOT, order.order_id, quantity=D("50"))
    assert too_much.value.reason is RejectReason.INSUFFICIENT_BALANCE and order.quantity == D("0.05")
    with pytest.raises(Rejected) as off_tick:
        ex.amend("a", SPOT, order.order_id, price=low + D("0.001"))
    assert off_tick.value.reason is RejectReason.PRICE_OFF_TICK


def test_amend_across_the_book_takes_and_post_only_is_refused() -> None:
    ex = fresh()
    mid = ex.symbols[LINEAR].mid
    resting = ex.place("a", LINEAR, "BUY", "LIMIT", D("0.5"), mid - 500, "GTC", "r1")
    ex.amend("a", LINEAR, resting.order_id, price=mid + 500)
    assert resting.status == "FILLED" and ex.position("a", LINEAR).size == D("0.5")
    maker = ex.place("a", LINEAR, "BUY", "LIMIT_MAKER", D("0.5"), mid - 500, "GTC", "m1")
    with pytest.raises(Rejected) as crossing:
        ex.amend("a", LINEAR, maker.order_id, price=mid + 500)
    assert crossing.value.reason is RejectReason.WOULD_MATCH and maker.price == mid - 500
    ex.cancel("a", LINEAR, order_id=maker.order_id)
    with pytest.raises(Rejected) as closed:
        ex.amend("a", LINEAR, maker.order_id, price=mid - 400)
    assert closed.value.reason is RejectReason.UNKNOWN_ORDER


def test_amend_down_to_the_filled_quantity_ends_the_order() -> None:
    """The engine ends an order amended to what already filled (Kraken's rule); OKX's dialect refuses such an
    amendment itself before asking the engine."""
    ex = fresh()
    order = ex.place("a", LINEAR, "SELL", "LIMIT", D("3"), ex.best_bid(LINEAR), "GTC", "p1")  # takes one level (2)
    assert order.filled == D("2") and order.is_open
    ex.amend("a", LINEAR, order.order_id, quantity=D("2"))
    assert order.status == "FILLED" and order.quantity == D("2") and not order.is_open


def test_funding_moves_money_from_longs_to_shorts_at_the_mark() -> None:
    ex = fresh()
    ex.open_account("b", {"USDT": D("100000"), "BTC": D("1")})
    ex.place("a", LINEAR, "BUY", "MARKET", D("0.5"), None, "IOC", "l")
    ex.place("b", INVERSE, "SELL", "MARKET", D("1000"), None, "IOC", "s")
    before_a, before_b = ex.balance("a", "USDT")[0], ex.balance("b", "BTC")[0]
    realised = ex.position("a", LINEAR).realised
    paid = dict((p.symbol, amount) for p, amount in settle(ex, LINEAR, D("0.0001")))
    mark = ex.mark_price(LINEAR)
    assert paid == {LINEAR: (-D("0.5") * mark * D("0.0001")).quantize(D("1e-12"))}
    assert ex.balance("a", "USDT")[0] == before_a + paid[LINEAR]
    assert ex.position("a", LINEAR).realised == realised + paid[LINEAR]
    received = settle(ex, INVERSE, D("0.0002"))
    assert received[0][1] == (D("1000") / ex.mark_price(INVERSE) * D("0.0002")).quantize(D("1e-12")) > 0
    assert ex.balance("b", "BTC")[0] == before_b + received[0][1]
    with pytest.raises(Rejected):
        settle(ex, SPOT, D("0.0001"))
