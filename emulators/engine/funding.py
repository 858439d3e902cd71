"""Funding payments of perpetual swaps, settled into the positions and their settle-coin wallets.

Venue-neutral: a dialect decides the rate and when a period settles (OKX: every 8 hours); `settle` moves
the money. Each open position in the instrument pays ``rate`` times its value at the mark price (positive
rate: longs pay, shorts receive; linear value = size x mark in the quote coin, inverse value = size / mark
in the base coin). The payment goes to the wallet's free balance and to the position's realised PnL, as
venues count funding in realised PnL; listeners hear about the position and the wallet.
"""

from __future__ import annotations

from decimal import Decimal

from emulators.engine.ledger import Ledger, ledger_amount
from emulators.engine.model import EPosition, Rejected, RejectReason, wall_ms


def settle(ledger: Ledger, symbol: str, rate: Decimal) -> list[tuple[EPosition, Decimal]]:
    """Settle one funding period of ``symbol`` at ``rate``; (position, amount received) for each payer."""
    spec = ledger.symbol(symbol).spec
    if not spec.is_derivative:
        raise Rejected(RejectReason.NOT_DERIVATIVE, symbol)
    mark = ledger.mark_price(symbol)
    now = wall_ms()
    paid: list[tuple[EPosition, Decimal]] = []
    for (account, held), position in list(ledger.positions.items()):
        if held != symbol or not position.size:
            continue
        direction = 1 if position.size > 0 else -1
        amount = ledger_amount(-direction * spec.value(abs(position.size), mark) * rate)
        ledger._wallet(account, spec.settle)[0] += amount
        position.realised += amount
        position.cum_realised += amount
        position.updated_ms = now
        position.seq += 1
        paid.append((position, amount))
        ledger._emit_position(position)
        ledger._emit_balances(account, {spec.settle})
    return paid
