"""Spot holdings seen as positions, the same way for every spot venue.

A spot account has balances, not positions; strategies still ask "what do I hold and how is it
doing". A holding of a base asset is reported as a LONG position whose entry price is the average
cost of our own trades (deposits have no known cost) and whose realised PnL comes from our sells.
"""

from __future__ import annotations

from decimal import Decimal

from protocol.model import Fill, Instrument, Side


def average_cost(fills: list[Fill], instrument: Instrument) -> tuple[Decimal | None, Decimal]:
    """Average entry price of the quantity our own trades hold, and PnL realised by our sells."""
    quantity = cost = realized = Decimal(0)
    for fill in fills:
        received = fill.quantity - (fill.fee if fill.fee_currency == instrument.base else Decimal(0))
        if fill.side is Side.BUY:
            cost += fill.price * fill.quantity + (fill.fee if fill.fee_currency == instrument.quote else 0)
            quantity += received
        elif quantity > 0:
            sold = min(fill.quantity, quantity)
            average = cost / quantity
            realized += (fill.price - average) * sold - (fill.fee if fill.fee_currency == instrument.quote else 0)
            cost -= average * sold
            quantity -= sold
    if quantity <= 0:
        return None, realized
    return cost / quantity, realized
