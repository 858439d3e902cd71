"""The engine's additions for spot margin, price shocks, amends and Earn: margin orders on a marginable spot
market trade a position (not the wallets) exactly like a linear contract; a price jump moves the book and fills
what it crosses; an amend keeps the order and locks funds again; Earn moves funds asynchronously on a clock and
pays rewards. No I/O; the engine alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from emulators.engine import Exchange, InstrumentSpec, Rejected
from emulators.engine.earn import EarnBook, EarnReason, EarnRejected, Strategy

D = Decimal
SPOT = InstrumentSpec("XBTUSD", "XBT", "USD", D("0.1"), D("0.00000001"), D("0.0001"), D("1000"), D("0.5"),
                      D("65000"), D("0.5"), max_leverage=D(5), marginable=True)
PLAIN = InstrumentSpec("ETHUSD", "ETH", "USD", D("0.01"), D("0.0001"), D("0.001"), D("1000"), D("0.5"),
                       D("3000"), D("5"))


def fresh() -> Exchange:
    exchange = Exchange(seed=3, instruments=[SPOT, PLAIN])
    exchange.open_account("a", {"USD": D("100000"), "XBT": D("1"), "ETH": D("2")})
    return exchange


def total(ex: Exchange, asset: str) -> Decimal:
    return sum(ex.balance("a", asset), D(0))


def test_margin_orders_trade_a_position_settled_in_the_quote_and_plain_orders_stay_spot() -> None:
    ex = fresh()
    ex.set_leverage("a", "XBTUSD", D(3))
    ex.place("a", "XBTUSD", "BUY", "MARKET", D("0.4"), None, "IOC", "", margin=True)
    position = ex.position("a", "XBTUSD")
    assert position.size == D("0.4") and total(ex, "XBT") == 1  # no XBT bought
    assert position.margin == (D("0.4") * position.entry_price / 3).quantize(D("1e-12"))
    assert ex.balance("a", "USD")[1] == position.margin  # the margin is held in the quote wallet
    ex.place("a", "XBTUSD", "BUY", "MARKET", D("0.1"), None, "IOC", "")  # spot: the wallets, no position
    assert position.size == D("0.4") and total(ex, "XBT") > 1
    ex.place("a", "XBTUSD", "SELL", "MARKET", D("0.4"), None, "IOC", "", margin=True, reduce_only=True)
    assert position.size == 0 and ex.balance("a", "USD")[1] == 0
    fills = [f for f in ex.fill_log if f.order_id in {o.order_id for o in ex.all_orders() if o.margin}]
    assert position.cum_realised == sum((f.closed_pnl - f.fee for f in fills), D(0))
    with pytest.raises(Rejected, match="not_derivative"):
        ex.place("a", "ETHUSD", "BUY", "MARKET", D("0.1"), None, "IOC", "", margin=True)
    with pytest.raises(Rejected, match="reduce_only"):
        ex.place("a", "XBTUSD", "SELL", "MARKET", D("0.1"), None, "IOC", "", margin=True, reduce_only=True)


def test_a_jump_moves_the_book_tells_the_listeners_and_fills_what_it_crosses() -> None:
    ex = fresh()
    heard = []
    ex.listeners.on_tick.append(lambda state, bids, asks: heard.append(state.mid))
    resting = ex.place("a", "XBTUSD", "BUY", "LIMIT", D("0.01"), D("60000"), "GTC", "")
    before = ex.symbols["ETHUSD"].mid
    ex.jump("XBTUSD", D("59000.04"))
    assert ex.symbols["XBTUSD"].mid == D("59000.0") and heard == [D("59000.0")]
    assert ex.best_bid("XBTUSD") < D("59000") < ex.best_ask("XBTUSD")
    assert resting.filled > 0 and ex.symbols["ETHUSD"].mid == before


def test_an_amend_keeps_the_order_and_locks_funds_for_the_new_terms() -> None:
    ex = fresh()
    order = ex.place("a", "XBTUSD", "BUY", "LIMIT", D("0.1"), D("60000"), "GTC", "c1")
    ex.amend("a", "XBTUSD", order.order_id, quantity=D("0.2"), price=D("59000"))
    assert (order.quantity, order.price, order.locked) == (D("0.2"), D("59000"), D("0.2") * D("59000"))
    assert ex.balance("a", "USD")[1] == order.locked
    with pytest.raises(Rejected, match="would_match"):
        ex.amend("a", "XBTUSD", order.order_id, price=D("70000"), post_only=True)
    ex.amend("a", "XBTUSD", order.order_id, quantity=D("0.8"), price=ex.best_ask("XBTUSD"))  # crossing: it takes
    assert order.filled == D("0.5") and order.is_open  # the best level only
    with pytest.raises(Rejected, match="insufficient_balance"):
        ex.amend("a", "XBTUSD", order.order_id, quantity=D("500"))
    ex.amend("a", "XBTUSD", order.order_id, quantity=order.filled)  # down to what filled: done
    assert order.status == "FILLED" and order.locked == 0 and ex.balance("a", "USD")[1] == 0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def earn_book() -> tuple[Exchange, EarnBook, Clock]:
    ex, clock = fresh(), Clock()
    strategies = {"flex": Strategy("flex", "XBT", "XBT.B", "instant", D("10"), D("5"), D("15"), D("0.001"),
                                   payout_seconds=100),
                  "bond": Strategy("bond", "ETH", "ETH.B", "bonded", D("5"), D("4"), D("6"), D("0.01"),
                                   bonding_seconds=50, unbonding_seconds=70, user_cap=D("1.5"))}
    return ex, EarnBook(ex, strategies, clock=clock, settle_seconds=5), clock


def test_earn_allocations_settle_on_the_clock_and_pay_rewards_into_the_holding() -> None:
    ex, book, clock = earn_book()
    operation = book.allocate("a", "flex", D("0.5"))
    assert not operation.done and ex.balance("a", "XBT.B")[0] == 0
    with pytest.raises(EarnRejected) as busy:
        book.deallocate("a", "flex", D("0.1"))
    assert busy.value.reason is EarnReason.IN_PROGRESS
    clock.now = 5.0
    book.advance()
    assert operation.done and ex.balance("a", "XBT")[0] == D("0.5") and ex.balance("a", "XBT.B")[0] == D("0.5")
    clock.now = 205.0  # two payouts (at 100 and 200): the first pays 95 s, the second 100 s, compounded
    book.advance()
    allocation = book.allocations[("a", "flex")]
    first = (D("0.5") * D("0.1") * 95 / (365 * 86_400)).quantize(D("1e-10"), rounding="ROUND_DOWN")
    assert allocation.total_rewarded > first and ex.balance("a", "XBT.B")[0] == D("0.5") + allocation.total_rewarded
    book.deallocate("a", "flex", D("0.2"))
    clock.now = 211.0
    book.advance()
    assert ex.balance("a", "XBT")[0] == D("0.7")
    with pytest.raises(EarnRejected, match="below_minimum"):
        book.allocate("a", "flex", D("0.0001"))
    with pytest.raises(EarnRejected, match="unknown_strategy"):
        book.allocate("a", "nope", D("1"))


def test_bonded_funds_bond_and_unbond_and_failures_are_reported_by_the_status() -> None:
    ex, book, clock = earn_book()
    with pytest.raises(EarnRejected, match="above_user_cap"):
        book.allocate("a", "bond", D("2"))
    book.allocate("a", "bond", D("1"))
    clock.now = 10.0
    book.advance()
    allocation = book.allocations[("a", "bond")]
    assert allocation.earning == 0 and [t.amount for t in allocation.bonding] == [D("1")]
    clock.now = 60.0
    book.advance()
    assert allocation.earning == D("1") and not allocation.bonding
    book.deallocate("a", "bond", D("1"))
    clock.now = 70.0
    book.advance()
    assert [t.amount for t in allocation.unbonding] == [D("1")] and ex.balance("a", "ETH")[0] == 1
    clock.now = 140.0
    book.advance()
    assert ex.balance("a", "ETH")[0] == 2 and allocation.total == 0
    book.allocate("a", "bond", D("1.4"))  # ETH: only 2 held, but checked when it completes
    ex.move_free("a", "ETH", "ETH.X", D("1.9"))
    clock.now = 150.0
    status = book.status("a", "bond", "allocate")
    assert status is not None and status.done and status.failure is EarnReason.INSUFFICIENT_FUNDS
