"""OKX's sizes: swaps trade in contracts, the engine in units of the contract's value currency.

One contract of a swap is ``ctVal x ctMult`` units of ``ctValCcy``: the base coin for linear (USDT-margined)
swaps, USD for inverse (coin-margined) ones. The engine's quantity is in those units (the engine's inverse
quantities are USD, as Bybit's are), so ``engine quantity = contracts x ctVal x ctMult`` exactly, both
ways. ``lotSz``/``minSz``/``maxLmtSz`` are in contracts; a size that is not a whole number of lots is refused
before it reaches the engine. A spot instrument is its own contract (ctVal 1): sizes are base coin.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from emulators.engine import InstrumentSpec

D = Decimal

# Contract values of the swaps OKX lists (instruments page: BTC-USDT-SWAP 0.01 BTC, ETH-USDT-SWAP 0.1 ETH,
# BTC-USD-SWAP 100 USD); synthetic linear swaps are 0.01 of their base coin.
CONTRACT_VALUES = {"BTC-USDT-SWAP": D("0.01"), "ETH-USDT-SWAP": D("0.1"), "BTC-USD-SWAP": D("100")}
SYNTHETIC_CONTRACT_VALUE = D("0.01")


@attrs.frozen
class Contract:
    """An instrument's OKX sizing: what one contract is worth and the lot, minimum and maximum in contracts."""

    ct_val: Decimal
    ct_mult: Decimal
    ct_val_ccy: str
    lot: Decimal
    min_size: Decimal
    max_limit: Decimal
    max_market: Decimal

    @property
    def unit(self) -> Decimal:
        """Engine units per contract."""
        return self.ct_val * self.ct_mult

    def to_engine(self, contracts: Decimal) -> Decimal:
        return contracts * self.unit

    def to_contracts(self, quantity: Decimal) -> Decimal:
        return (quantity / self.unit).normalize() if quantity else D(0)

    def whole_lots(self, contracts: Decimal) -> bool:
        return contracts % self.lot == 0


def contract_of(spec: InstrumentSpec) -> Contract:
    """The OKX sizing of an engine instrument (spot: ctVal 1, so sizes stay in the base coin)."""
    if spec.kind == "spot":
        return Contract(D(1), D(1), spec.base, spec.step_size, spec.min_qty, spec.max_qty, spec.max_qty / 2)
    ct_val = CONTRACT_VALUES.get(spec.symbol, SYNTHETIC_CONTRACT_VALUE)
    ccy = "USD" if spec.kind == "inverse" else spec.base
    max_limit = (spec.max_qty / ct_val).normalize()
    return Contract(ct_val, D(1), ccy, (spec.step_size / ct_val).normalize(), (spec.min_qty / ct_val).normalize(),
                    max_limit, (max_limit / 10).normalize())
