"""Kraken registered: its assets and pairs under Kraken's own names (XXBT, ZUSD, XXBTZUSD; altname XBTUSD;
wsname XBT/USD; the v2 symbol BTC/USD), the engine instruments they make (engine id = the pair's REST name,
assets = the REST asset names), unified symbols narrowed to them, synthetic USD pairs for load tests, the
published demo credentials and the demo account's funds.

The figures are representative of Kraken's AssetPairs (decimals, tick sizes, order and cost minimums, leverage
lists, margin call and stop levels) as documented, not a live copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial

import attrs

from emulators.engine import InstrumentSpec, synthetic_instruments
from emulators.kraken.dialect import KrakenDialect
from emulators.kraken.errors import ORDER_REJECTIONS
from emulators.kraken.pairs import ASSETS, PAIRS, KrakenPair
from emulators.registry import VenueSpec

D = Decimal
MAKER_FEE, TAKER_FEE = D("0.0025"), D("0.004")  # Kraken Pro's first volume tier
DEMO_BALANCES = {"ZUSD": D("100000"), "XXBT": D("1"), "XETH": D("10"), "SOL": D("100")}
START_PRICES = {"XXBTZUSD": (D("65000"), D("0.5")), "XETHZUSD": (D("3200"), D("5")), "SOLUSD": (D("150"), D("50")),
                "XETHXXBT": (D("0.05"), D("5"))}


def instrument(pair: KrakenPair, start: Decimal, level_size: Decimal) -> InstrumentSpec:
    """The engine instrument of a pair: filters from its decimals and minimums, margin from its leverage lists."""
    leverages = pair.leverage_buy + pair.leverage_sell
    return InstrumentSpec(pair.key, pair.base, pair.quote, pair.tick_size, pair.lot_step, pair.ordermin,
                          D("1000000"), pair.costmin, start, level_size, venue_symbol=pair.key,
                          max_leverage=D(max(leverages, default=1)), maker_fee=MAKER_FEE, taker_fee=TAKER_FEE,
                          marginable=bool(leverages))


KRAKEN_INSTRUMENTS = [instrument(PAIRS[key], *START_PRICES[key]) for key in START_PRICES]


def engine_ids(symbols: Sequence[str]) -> set[str]:
    """Unified symbols ("BTC/USD", Kraken's v2 names) -> the pairs' REST names ("XXBTZUSD")."""
    by_symbol = {pair.symbol: pair.key for pair in PAIRS.values()}
    return {by_symbol[s.upper()] for s in symbols if s.upper() in by_symbol}


def synthetic_usd_instruments(count: int) -> list[InstrumentSpec]:
    """The engine's synthetic markets as Kraken USD pairs: "S01USD" (v2 "S01/USD"), quoted in ZUSD, no margin."""
    return [attrs.evolve(spec, symbol=f"{spec.base}USD", quote="ZUSD", venue_symbol=f"{spec.base}USD",
                         maker_fee=MAKER_FEE, taker_fee=TAKER_FEE) for spec in synthetic_instruments(count)]


# Published demo credentials for paper trading (the secret is base64, as Kraken's are).
DEMO_KEY = "atDemoKrakenKey00000000000000000000000000000000000000000"
DEMO_SECRET = "w5Yzaw0PGHsaqLwLTNjjK+dJ3pKT8cJcWNc61WCtHUDKRD3Mjyhkm4KNTFQ7OwjMPqtEo/afj5u4IVkQaqDOMQ=="

SPEC = VenueSpec(
    "kraken", partial(KrakenDialect, default_balances=DEMO_BALANCES), KRAKEN_INSTRUMENTS, engine_ids,
    synthetic_usd_instruments, demo_key=DEMO_KEY, demo_secret=DEMO_SECRET, demo_balances=DEMO_BALANCES,
    rejections={"orders": ORDER_REJECTIONS},
    urls=lambda rest, ws: [("public websocket", f"{ws}/v2"), ("private websocket", f"{ws}/ws-auth/v2")])

__all__ = ["ASSETS", "DEMO_BALANCES", "KRAKEN_INSTRUMENTS", "PAIRS", "SPEC", "engine_ids",
           "synthetic_usd_instruments"]
