"""Kraken Earn on the engine's `EarnBook`: the strategies offered, and the ``Earn/*`` answers printed from it.

Strategies (representative, not live): XBT and SOL "instant" (flexible in Kraken's UI: earning at once, paid
back at once), ETH "bonded" (an hour bonding, two hours unbonding, no rewards meanwhile). An allocation is kept
in the asset's Earn holding ("XBT.B"), which `Balance` lists as Kraken lists balances in yield-bearing products.
Minimums are in USD as Kraken documents ``user_min_allocation``; amounts in ``Earn/Allocations`` are printed in
the asset and converted (USD by default) at the mids. Times are wall-clock, derived from trio's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from emulators.engine.earn import Allocation, EarnBook, Strategy
from emulators.kraken.orders import kraken_id
from emulators.kraken.pairs import KrakenAsset, Markets
from emulators.kraken.render import fixed, rfc3339_seconds

D = Decimal
Json = dict[str, Any]


@attrs.frozen
class Offer:
    """A strategy as Kraken lists it: the engine's strategy plus what only the listing shows."""

    strategy: Strategy
    min_usd: Decimal  # user_min_allocation (USD)


def offers(markets: Markets) -> dict[str, Offer]:
    """The strategies for the assets this venue trades, by id."""
    table = [
        ("XXBT", "instant", D("0.20"), D("0.10"), D("0.25"), 604_800, 0, 0),
        ("XETH", "bonded", D("3.50"), D("2.50"), D("7.00"), 604_800, 3_600, 7_200),
        ("SOL", "instant", D("5.00"), D("4.00"), D("6.00"), 604_800, 0, 0),
    ]
    found: dict[str, Offer] = {}
    for key, lock, apr, low, high, payout, bonding, unbonding in table:
        asset = markets.assets.get(key)
        if asset is None or not any(key in (p.base, p.quote) for p in markets.pairs.values()):
            continue
        strategy_id = kraken_id("ES", "strategy", key, lock)
        found[strategy_id] = Offer(Strategy(strategy_id, key, asset.holding, lock, apr, low, high, D(0), payout,  # type: ignore[arg-type]
                                            bonding, unbonding), D("1"))
    return found


def lock_type(strategy: Strategy) -> Json:
    if strategy.lock_type == "instant":
        return {"type": "instant", "payout_frequency": strategy.payout_seconds}
    return {"type": "bonded", "payout_frequency": strategy.payout_seconds,
            "bonding_period": strategy.bonding_seconds, "bonding_period_variable": False, "bonding_rewards": False,
            "unbonding_period": strategy.unbonding_seconds, "unbonding_period_variable": False,
            "unbonding_rewards": False, "exit_queue_period": 0}


def strategy_item(offer: Offer, asset: KrakenAsset) -> Json:
    strategy = offer.strategy
    return {"id": strategy.id, "asset": asset.altname, "lock_type": lock_type(strategy),
            "apr_estimate": {"low": fixed(strategy.apr_low, 4), "high": fixed(strategy.apr_high, 4)},
            "user_min_allocation": fixed(offer.min_usd, 2), "allocation_fee": "0.0000",
            "deallocation_fee": "0.0000", "auto_compound": {"type": "enabled"}, "yield_source": {"type": "staking"},
            "can_allocate": True, "can_deallocate": True, "allocation_restriction_info": []}


@attrs.frozen
class Printer:
    """Amounts in the asset and converted, times on the wall clock."""

    places: int
    convert: Callable[[Decimal], Decimal]  # native -> converted asset
    wall: Callable[[float], float]  # trio time -> unix seconds

    def amount(self, native: Decimal) -> Json:
        return {"native": fixed(native, self.places), "converted": fixed(self.convert(native), 4)}

    def tranches(self, tranches: list[Any]) -> Json:
        total = sum((t.amount for t in tranches), D(0))
        return {**self.amount(total), "allocation_count": len(tranches),
                "allocations": [{**self.amount(t.amount), "created_at": rfc3339_seconds(self.wall(t.created)),
                                 "expires": rfc3339_seconds(self.wall(t.expires))} for t in tranches]}


def allocation_item(book: EarnBook, allocation: Allocation, asset: KrakenAsset, printer: Printer) -> Json:
    strategy = allocation.strategy
    amounts: Json = {"total": printer.amount(allocation.total)}
    if allocation.pending is not None:
        amounts["pending"] = printer.amount(allocation.pending_amount)
    if allocation.bonding:
        amounts["bonding"] = printer.tranches(allocation.bonding)
    if allocation.unbonding:
        amounts["unbonding"] = printer.tranches(allocation.unbonding)
    period_end = allocation.period_start + strategy.payout_seconds
    now = book.clock()
    estimate = allocation.earning * strategy.apr / 100 * D(repr(max(0.0, period_end - now))) / D(365 * 86_400)
    return {"strategy_id": strategy.id, "native_asset": asset.altname, "amount_allocated": amounts,
            "total_rewarded": printer.amount(allocation.total_rewarded),
            "payout": {"accumulated_reward": printer.amount(allocation.accrued),
                       "estimated_reward": printer.amount(estimate),
                       "period_start": rfc3339_seconds(printer.wall(allocation.period_start)),
                       "period_end": rfc3339_seconds(printer.wall(period_end))}}
