"""Kraken's names for assets and pairs, in one table, and the lookups every module uses.

An asset has a REST name (the `Assets` key: XXBT, ZUSD, SOL), an ``altname`` (XBT, USD) and a websocket v2
name (BTC, USD). A pair has a REST name (XXBTZUSD, the engine id), an ``altname`` (XBTUSD), a v1 ``wsname``
(XBT/USD) and a v2 ``symbol`` (BTC/USD); REST requests may name it by REST name or altname, the v2 websocket
by symbol. Pairs the table does not hold (the synthetic load-test markets) are derived from their engine
instrument, so every market the engine trades has Kraken names.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from emulators.engine import InstrumentSpec

D = Decimal


@attrs.frozen
class KrakenAsset:
    key: str  # the REST name: XXBT
    altname: str  # XBT
    ws: str  # the websocket v2 name: BTC
    decimals: int = 10
    display_decimals: int = 5
    collateral_value: Decimal = Decimal(1)

    @property
    def holding(self) -> str:
        """The asset Earn keeps an allocation of this one in ("XBT.B": balances in yield-bearing products)."""
        return f"{self.altname}.B"


@attrs.frozen
class KrakenPair:
    key: str  # the REST name: XXBTZUSD
    altname: str  # XBTUSD
    wsname: str  # XBT/USD
    symbol: str  # the websocket v2 symbol: BTC/USD
    base: str  # asset REST names
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    tick_size: Decimal
    ordermin: Decimal
    costmin: Decimal
    leverage_buy: tuple[int, ...] = ()
    leverage_sell: tuple[int, ...] = ()
    margin_call: int = 80
    margin_stop: int = 40
    long_position_limit: int = 0
    short_position_limit: int = 0

    @property
    def lot_step(self) -> Decimal:
        return D(1).scaleb(-self.lot_decimals)

    @property
    def marginable(self) -> bool:
        return bool(self.leverage_buy or self.leverage_sell)


ASSETS = {a.key: a for a in [
    KrakenAsset("XXBT", "XBT", "BTC"),
    KrakenAsset("ZUSD", "USD", "USD", decimals=4, display_decimals=2),
    KrakenAsset("XETH", "ETH", "ETH"),
    KrakenAsset("SOL", "SOL", "SOL", collateral_value=D("0.75")),
]}

PAIRS = {p.key: p for p in [
    KrakenPair("XXBTZUSD", "XBTUSD", "XBT/USD", "BTC/USD", "XXBT", "ZUSD", 1, 8, 5, D("0.1"), D("0.00005"),
               D("0.5"), (2, 3, 4, 5), (2, 3, 4, 5), long_position_limit=270, short_position_limit=180),
    KrakenPair("XETHZUSD", "ETHUSD", "ETH/USD", "ETH/USD", "XETH", "ZUSD", 2, 8, 5, D("0.01"), D("0.002"),
               D("0.5"), (2, 3, 4, 5), (2, 3, 4, 5), long_position_limit=6000, short_position_limit=4000),
    KrakenPair("SOLUSD", "SOLUSD", "SOL/USD", "SOL/USD", "SOL", "ZUSD", 2, 8, 5, D("0.01"), D("0.02"), D("0.5"),
               (2, 3), (2, 3), long_position_limit=90000, short_position_limit=60000),
    KrakenPair("XETHXXBT", "ETHXBT", "ETH/XBT", "ETH/BTC", "XETH", "XXBT", 5, 8, 10, D("0.00001"), D("0.002"),
               D("0.00002"), (2, 3, 4, 5), (2, 3, 4, 5), long_position_limit=1500, short_position_limit=1000),
]}


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def derived_pair(spec: InstrumentSpec, assets: dict[str, KrakenAsset]) -> KrakenPair:
    """Kraken names for an instrument the table does not hold (the synthetic markets): no margin."""
    base, quote = assets[spec.base], assets[spec.quote]
    return KrakenPair(spec.symbol, spec.symbol, f"{base.altname}/{quote.altname}", f"{base.ws}/{quote.ws}",
                      spec.base, spec.quote, _places(spec.tick_size), _places(spec.step_size), 5, spec.tick_size,
                      spec.min_qty, spec.min_notional)


@attrs.define
class Markets:
    """The pairs and assets of one emulated venue, with every lookup by Kraken's names."""

    pairs: dict[str, KrakenPair] = attrs.field(factory=dict)  # by REST name (= engine id)
    assets: dict[str, KrakenAsset] = attrs.field(factory=dict)  # by REST name (= engine asset)

    @classmethod
    def of(cls, instruments: Iterable[InstrumentSpec]) -> Markets:
        markets = cls(assets=dict(ASSETS))
        for spec in instruments:
            for asset in (spec.base, spec.quote):
                markets.assets.setdefault(asset, KrakenAsset(asset, asset, asset, decimals=8))
            markets.pairs[spec.symbol] = PAIRS.get(spec.symbol) or derived_pair(spec, markets.assets)
        return markets

    def rest_pair(self, name: str) -> KrakenPair | None:
        """A pair as REST requests name it: REST name, altname, or its websocket names (XBT/USD, BTC/USD)."""
        pair = self.pairs.get(name)
        return pair if pair is not None else next((p for p in self.pairs.values()
                                                   if name in (p.altname, p.wsname, p.symbol)), None)

    def ws_pair(self, symbol: str) -> KrakenPair | None:
        """A pair as the v2 websocket names it (BTC/USD)."""
        return next((p for p in self.pairs.values() if p.symbol == symbol), None)

    def rest_asset(self, name: str) -> KrakenAsset | None:
        """An asset as REST requests name it: REST name or altname (XXBT or XBT)."""
        asset = self.assets.get(name)
        return asset if asset is not None else next((a for a in self.assets.values() if a.altname == name), None)

    def asset_of_holding(self, holding: str) -> KrakenAsset | None:
        """The asset an Earn holding ("XBT.B") keeps."""
        return next((a for a in self.assets.values() if a.holding == holding), None)

    def ws_asset(self, name: str) -> str:
        """An engine asset's v2 name: BTC for XXBT; an Earn holding by its asset's v2 name."""
        asset = self.assets.get(name) or self.asset_of_holding(name)
        return asset.ws if asset is not None else name

    def decimals(self, asset: str) -> int:
        known = self.assets.get(asset) or self.asset_of_holding(asset)
        return known.decimals if known is not None else 8
