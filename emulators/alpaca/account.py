"""An Alpaca account's money: equity, margin, buying power, and the checks an order must pass.

What is modelled (Alpaca's "Placing Orders" and "Margin and Short Selling" pages, simplified and stated):
- ``multiplier`` 2 is a Reg T margin account (the paper default): buying power = 2 x (equity - initial margin),
  where the initial margin is 50% of the market value of every position, long or short. ``multiplier`` 1 is
  a cash account: buying power = cash, and no short selling ("account is not allowed to short");
- equity = cash + long market value - |short market value| (cash goes negative on margin, short proceeds add
  to it); the maintenance margin shown is 30% of the positions' market value (informational: no margin calls);
- open orders that open or add to a position -- buys while flat or long, short sells -- reduce the buying
  power by their value: a limit order's limit price, a market (or stop) buy's ask plus 3%, a short sell's
  larger of its limit and the ask plus 3%, times the quantity left (notional orders: the notional left);
  sells of long shares and buys to cover do not add buying power until they fill;
- an order never flips a position in one go: selling more long shares than are available (held minus those
  held for other sell orders) is "insufficient qty available", and so is buying to cover more than the short;
- short selling needs a margin account and an asset that is shortable *and* easy to borrow; a short sell is
  refused while a buy order is open on the symbol, and a new long buy while a short sell order is open;
- the pattern-day-trader rule is gone (FINRA retired it on 2026-06-04; Alpaca removed ``pattern_day_trader``,
  ``daytrade_count`` and ``daytrading_buying_power`` from the account on 2026-07-06): no day-trade checks.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from emulators.alpaca import errors
from emulators.alpaca.assets import asset_of
from emulators.engine.ratewindows import FixedWindow

if TYPE_CHECKING:
    from emulators.alpaca.dialect import AlpacaDialect
    from emulators.alpaca.orders import AOrder

D = Decimal
INITIAL_MARGIN = D("0.5")
MAINTENANCE_MARGIN = D("0.3")
MARKET_COLLAR = D("1.03")  # market buys and short sells are valued at the ask plus 3%


@attrs.define
class AccountState:
    """What the dialect keeps per API account: its rate windows, its data plan, its margin type, its ids."""

    trading: FixedWindow = attrs.field(factory=lambda: FixedWindow(60))
    data: FixedWindow = attrs.field(factory=lambda: FixedWindow(60))
    plan: str = "basic"  # market data: "basic" (IEX live, SIP only 15 minutes old) or "algo_trader_plus" (SIP)
    multiplier: int = 2  # 2: Reg T margin account; 1: cash account
    account_id: str = ""
    account_number: str = ""
    created_ms: int = 0
    last_equity: Decimal | None = None  # equity at the last regular close (None: not yet closed once)
    last_maintenance: Decimal = attrs.field(factory=Decimal)


@attrs.frozen
class Money:
    """An account's figures at one moment."""

    cash: Decimal
    long_value: Decimal
    short_value: Decimal  # negative (or 0)
    initial_margin: Decimal
    maintenance_margin: Decimal
    buying_power: Decimal  # before open orders
    open_orders: Decimal  # what open opening orders reserve

    @property
    def equity(self) -> Decimal:
        return self.cash + self.long_value + self.short_value

    @property
    def available(self) -> Decimal:
        return max(D(0), self.buying_power - self.open_orders)


def money(d: AlpacaDialect, account: str, state: AccountState, *, excluding: AOrder | None = None) -> Money:
    ex = d.market
    cash = ex.cash(account)
    long_value = short_value = initial = maintenance = D(0)
    for position in ex.holdings(account):
        value = position.size * ex.last_price(position.symbol)
        if value > 0:
            long_value += value
        else:
            short_value += value
        marginable = asset_of(position.symbol).marginable
        initial += abs(value) * (INITIAL_MARGIN if marginable else 1)
        maintenance += abs(value) * (MAINTENANCE_MARGIN if marginable else 1)
    equity = cash + long_value + short_value
    raw = max(D(0), cash) if state.multiplier == 1 else max(D(0), (equity - initial) * state.multiplier)
    reserved = sum((order_value(d, o) for o in d.open_orders(account) if o is not excluding and opens(d, o)),
                   D(0))
    return Money(cash, long_value, short_value, initial, maintenance, raw, reserved)


def opens(d: AlpacaDialect, order: AOrder) -> bool:
    """Whether an open order opens or adds to a position (exits -- bracket legs, sells of long shares, buys to
    cover -- do not)."""
    if order.parent is not None or order.status == "held":
        return False
    size = d.market.stock_position(order.account, order.symbol).size
    return size >= 0 if order.side == "buy" else size <= 0


def order_value(d: AlpacaDialect, order: AOrder) -> Decimal:
    """What an open order reserves of the buying power (see the module docstring)."""
    if order.notional is not None:
        left = order.notional - (order.engine.quote_filled if order.engine is not None else D(0))
        return max(left, D(0))
    quantity = order.remaining
    ask = d.market.best_ask(order.symbol)
    if order.side == "buy":
        price = order.limit_price if order.limit_price is not None else ask * MARKET_COLLAR
    else:
        price = max(order.limit_price or D(0), ask * MARKET_COLLAR)
    return quantity * price


def held_for_orders(d: AlpacaDialect, account: str, symbol: str, side: str, *,
                    excluding: AOrder | None = None) -> Decimal:
    """Shares that open orders on ``side`` already claim. Active exit legs of one order claim the same shares
    (one cancels the other), so a family counts once, at its largest leg; held legs claim nothing yet."""
    singles = D(0)
    families: dict[str, Decimal] = {}
    for o in d.open_orders(account):
        if o.symbol != symbol or o.side != side or o is excluding or o.status == "held" or o.notional is not None:
            continue
        family = o.parent if o.parent is not None else (o.id if o.legs and o.order_class == "oco" else None)
        if family is None:
            singles += o.remaining
        else:
            families[family] = max(families.get(family, D(0)), o.remaining)
    return singles + sum(families.values(), D(0))


def check(d: AlpacaDialect, account: str, state: AccountState, order: AOrder, *,
          excluding: AOrder | None = None, price: Decimal | None = None) -> None:
    """Refuse ``order`` (not yet open) in Alpaca's words if the account cannot take it. ``excluding`` is an order
    being replaced; ``price`` estimates a notional order's shares."""
    size = d.market.stock_position(account, order.symbol).size
    reference = price or d.market.last_price(order.symbol)
    shares = order.qty if order.qty is not None else (order.notional or D(0)) / reference
    others = [o for o in d.open_orders(account) if o.symbol == order.symbol and o is not excluding
              and o.parent is None]
    if order.side == "sell":
        if size > 0:
            held = held_for_orders(d, account, order.symbol, "sell", excluding=excluding)
            if shares > size - held:
                raise errors.insufficient_qty(order.symbol, shares, size, held)
            return
        asset = asset_of(order.symbol)
        if state.multiplier == 1:
            raise errors.refused("account is not allowed to short")
        if not (asset.shortable and asset.easy_to_borrow):
            raise errors.cannot_short(order.symbol)
        if order.notional is not None or (order.qty is not None and order.qty != order.qty.to_integral_value()):
            raise errors.refused("fractional orders cannot be sold short")
        if size == 0 and any(o.side == "buy" for o in others):
            raise errors.refused("cannot open a short sell while a long buy order is open")
    else:
        if size < 0:
            held = held_for_orders(d, account, order.symbol, "buy", excluding=excluding)
            if shares > -size - held:
                raise errors.insufficient_qty(order.symbol, shares, -size, held)
            return
        if size == 0 and any(o.side == "sell" for o in others):
            raise errors.refused("cannot open a long buy while a short sell order is open")
    if order_value(d, order) > money(d, account, state, excluding=excluding).available:
        raise errors.insufficient_buying_power()
