"""Bybit registered: its instruments per category (engine ids ``"<category>:<SYMBOL>"``, because Bybit's
BTCUSDT is both a spot and a linear market), unified symbols narrowed to them, synthetic linear perpetuals
for load tests, the published demo credentials and the unified account's demo funds."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial

import attrs

from emulators.bybit.dialect import BybitDialect
from emulators.bybit.errors import CONTRACT_REJECTIONS, LEVERAGE_REJECTIONS, SPOT_REJECTIONS
from emulators.engine import InstrumentSpec, synthetic_instruments
from emulators.registry import VenueSpec

D = Decimal
DEMO_BALANCES = {"USDT": D("100000"), "BTC": D("1"), "ETH": D("10")}
DERIVATIVE_MAKER_FEE, DERIVATIVE_TAKER_FEE = D("0.0002"), D("0.00055")

BYBIT_INSTRUMENTS = [
    InstrumentSpec("spot:BTCUSDT", "BTC", "USDT", D("0.01"), D("0.000001"), D("0.000001"), D("83"), D("5"),
                   D("65000"), D("0.5"), venue_symbol="BTCUSDT"),
    InstrumentSpec("spot:ETHUSDT", "ETH", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("1200"), D("5"),
                   D("3200"), D("5"), venue_symbol="ETHUSDT"),
    InstrumentSpec("linear:BTCUSDT", "BTC", "USDT", D("0.10"), D("0.001"), D("0.001"), D("1190"), D("5"),
                   D("65000"), D("2"), kind="linear", venue_symbol="BTCUSDT", max_leverage=D("100"),
                   maker_fee=DERIVATIVE_MAKER_FEE, taker_fee=DERIVATIVE_TAKER_FEE),
    InstrumentSpec("linear:ETHUSDT", "ETH", "USDT", D("0.01"), D("0.01"), D("0.01"), D("7240"), D("5"),
                   D("3200"), D("20"), kind="linear", venue_symbol="ETHUSDT", max_leverage=D("100"),
                   maker_fee=DERIVATIVE_MAKER_FEE, taker_fee=DERIVATIVE_TAKER_FEE),
    InstrumentSpec("inverse:BTCUSD", "BTC", "USD", D("0.50"), D("1"), D("1"), D("1000000"), D("0"),
                   D("65000"), D("50000"), kind="inverse", venue_symbol="BTCUSD", max_leverage=D("100"),
                   maker_fee=DERIVATIVE_MAKER_FEE, taker_fee=DERIVATIVE_TAKER_FEE),
]


def engine_ids(symbols: Sequence[str]) -> set[str]:
    """Unified symbols -> engine ids: "BTC/USDT" spot, "BTC/USDT:USDT" linear, "BTC/USD:BTC" inverse."""
    wanted: set[str] = set()
    for unified in symbols:
        pair, _, settle = unified.upper().partition(":")
        base, _, quote = pair.partition("/")
        if not settle:
            wanted.add(f"spot:{base}{quote}")
        elif settle == quote:
            wanted.add(f"linear:{base}{quote}")
        else:
            wanted.add(f"inverse:{base}{quote}")
    return wanted


def synthetic_linear_instruments(count: int) -> list[InstrumentSpec]:
    """The engine's synthetic markets as USDT perpetuals: "linear:S01USDT" (venue symbol "S01USDT", unified
    "S01/USDT:USDT"), ... with the derivative fees and 50x maximum leverage."""
    return [attrs.evolve(spec, symbol=f"linear:{spec.symbol}", kind="linear", venue_symbol=spec.symbol,
                         max_leverage=D("50"), maker_fee=DERIVATIVE_MAKER_FEE, taker_fee=DERIVATIVE_TAKER_FEE)
            for spec in synthetic_instruments(count)]


# Published demo credentials for paper trading (Bybit's shape: an 18-character key, a 36-character secret).
SPEC = VenueSpec(
    "bybit", partial(BybitDialect, default_balances=DEMO_BALANCES), BYBIT_INSTRUMENTS, engine_ids,
    synthetic_linear_instruments,
    demo_key="atDemoBybitKey0000", demo_secret="atDemoBybitSecret0000000000000000000",
    demo_balances=DEMO_BALANCES,
    rejections={"spot orders": SPOT_REJECTIONS, "contract orders": CONTRACT_REJECTIONS,
                "set-leverage": LEVERAGE_REJECTIONS})
