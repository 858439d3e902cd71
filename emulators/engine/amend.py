"""Amending an open order in place: a new price and/or a new total quantity, the order keeping its ids.

Venue-neutral (OKX's amend-order, Kraken's amend, Alpaca's replace can all be worded on it). The amended
order is checked against the instrument's filters like a new one; its funds are re-locked for what the
amended remainder needs (more locked, or some released); a post-only order whose new price would take is
refused (`RejectReason.WOULD_MATCH`); a limit order whose new price crosses takes liquidity at once, as a
taker. The new total quantity must exceed what has already filled. Listeners see the order with the
execution ``"AMENDED"``, then any fills as usual.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from emulators.engine.matching import Exchange
from emulators.engine.model import EOrder, Rejected, RejectReason, wall_ms


def amend(exchange: Exchange, account: str, symbol: str, order_id: int, *, quantity: Decimal | None = None,
          price: Decimal | None = None) -> EOrder:
    """Give the open order ``order_id`` a new total ``quantity`` and/or a new limit ``price``."""
    order = exchange.find(symbol, order_id=order_id, account=account)
    if not order.is_open or order.price is None:
        raise Rejected(RejectReason.UNKNOWN_ORDER, "order is not open")
    state = exchange.symbol(symbol)
    spec = state.spec
    new_quantity = order.quantity if quantity is None else quantity
    new_price = order.price if price is None else price
    if new_quantity <= order.filled:
        raise Rejected(RejectReason.QTY_BELOW_MIN, "the new quantity must exceed the filled quantity")
    exchange.validate(spec, order.kind, new_quantity, new_price)
    crossing = exchange._crosses(state, order.side, new_price)
    if order.kind == "LIMIT_MAKER" and crossing:
        raise Rejected(RejectReason.WOULD_MATCH, "Order would immediately match and take.")
    # What the amended remainder must lock, worked out on a copy the way a new order's lock is.
    remainder = attrs.evolve(order, quantity=new_quantity - order.filled, filled=Decimal(0), price=new_price,
                             locked=Decimal(0), locked_asset="")
    exchange._lock(state, remainder)
    wallet = exchange._wallet(account, order.locked_asset)
    extra = remainder.locked - order.locked
    if wallet[0] < extra:
        raise Rejected(RejectReason.INSUFFICIENT_BALANCE)
    wallet[0] -= extra
    wallet[1] += extra
    now = wall_ms()
    order.locked, order.quantity, order.price, order.updated_ms = remainder.locked, new_quantity, new_price, now
    exchange._emit_order(order, None, "AMENDED")
    if crossing:
        exchange._take(state, order, now)
    exchange._emit_balances(account, {spec.base, spec.quote, spec.settle})
    return order
