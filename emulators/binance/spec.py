"""Binance registered: its instruments (the engine's default spot markets, id == Binance symbol), synthetic
spot markets for load tests, the published demo credentials and the demo account's funds."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from emulators.binance.dialect import BinanceDialect
from emulators.binance.errors import REJECTIONS
from emulators.engine import DEFAULT_BALANCES, DEFAULT_INSTRUMENTS, synthetic_instruments
from emulators.registry import VenueSpec


def engine_ids(symbols: Sequence[str]) -> set[str]:
    """Unified symbols -> Binance symbols: "BTC/USDT" (or "BTC/USDT:USDT") -> "BTCUSDT"."""
    return {s.replace("/", "").split(":")[0].upper() for s in symbols}


# Published demo credentials for paper trading: they guard nothing but the local emulator.
SPEC = VenueSpec(
    "binance", partial(BinanceDialect, default_balances=DEFAULT_BALANCES), DEFAULT_INSTRUMENTS, engine_ids,
    synthetic_instruments,
    demo_key="atDemoBinanceKey0000000000000000000000000000000000000000000000000",
    demo_secret="atDemoBinanceSecret000000000000000000000000000000000000000000000",
    demo_balances=DEFAULT_BALANCES, rejections={"orders": REJECTIONS})
