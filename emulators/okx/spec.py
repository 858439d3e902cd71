"""OKX registered: its instruments (engine ids are OKX's instIds, which name spot and swaps apart:
"BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP"), unified symbols narrowed to them, synthetic USDT swaps for
load tests, the published demo credentials (key, secret and passphrase) and the demo account's funds."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial

import attrs

from emulators.engine import InstrumentSpec, synthetic_instruments
from emulators.okx.contracts import SYNTHETIC_CONTRACT_VALUE
from emulators.okx.dialect import OkxDialect
from emulators.okx.errors import LEVERAGE_REJECTIONS, SPOT_REJECTIONS, SWAP_REJECTIONS
from emulators.registry import VenueSpec

D = Decimal
DEMO_BALANCES = {"USDT": D("100000"), "BTC": D("1"), "ETH": D("10")}
SPOT_MAKER, SPOT_TAKER = D("0.0008"), D("0.001")  # OKX's regular (Lv1) rates: spot 0.08% / 0.10%,
SWAP_MAKER, SWAP_TAKER = D("0.0002"), D("0.0005")  # swaps 0.02% / 0.05%


def spot(inst_id: str, tick: str, lot: str, min_size: str, max_size: str, start: str, depth: str) -> InstrumentSpec:
    base, quote = inst_id.split("-")
    return InstrumentSpec(inst_id, base, quote, D(tick), D(lot), D(min_size), D(max_size), D(0), D(start), D(depth),
                          maker_fee=SPOT_MAKER, taker_fee=SPOT_TAKER)


def swap(inst_id: str, tick: str, unit: str, max_size: str, start: str, depth: str) -> InstrumentSpec:
    """A perpetual in engine units (``unit``: one lot of contracts, e.g. 0.01 contract x 0.01 BTC)."""
    base, quote, _ = inst_id.split("-")
    return InstrumentSpec(inst_id, base, quote, D(tick), D(unit), D(unit), D(max_size), D(0), D(start), D(depth),
                          kind="inverse" if quote == "USD" else "linear", max_leverage=D(100),
                          maker_fee=SWAP_MAKER, taker_fee=SWAP_TAKER)


# Swap quantities are engine units (contracts x ctVal, see `contracts`): BTC-USDT-SWAP's lot of 0.01 contract of
# 0.01 BTC is 0.0001 BTC; BTC-USD-SWAP's lot of 1 contract of 100 USD is 100 USD.
OKX_INSTRUMENTS = [
    spot("BTC-USDT", "0.1", "0.00000001", "0.00001", "9999", "65000", "0.5"),
    spot("ETH-USDT", "0.01", "0.000001", "0.001", "99999", "3200", "5"),
    swap("BTC-USDT-SWAP", "0.1", "0.0001", "1000", "65000", "2"),
    swap("ETH-USDT-SWAP", "0.01", "0.001", "10000", "3200", "20"),
    swap("BTC-USD-SWAP", "0.1", "100", "10000000", "65000", "50000"),
]


def engine_ids(symbols: Sequence[str]) -> set[str]:
    """Unified symbols -> instIds: "BTC/USDT" spot, "BTC/USDT:USDT" linear swap, "BTC/USD:BTC" inverse swap."""
    wanted: set[str] = set()
    for unified in symbols:
        pair, _, settle = unified.upper().partition(":")
        base, _, quote = pair.partition("/")
        wanted.add(f"{base}-{quote}-SWAP" if settle else f"{base}-{quote}")
    return wanted


def synthetic_swaps(count: int) -> list[InstrumentSpec]:
    """The engine's synthetic markets as USDT swaps of 0.01 coin a contract: "S01-USDT-SWAP" (unified
    "S01/USDT:USDT"), lot and minimum 1 contract, the swap fees and 50x maximum leverage."""
    return [attrs.evolve(spec, symbol=f"{spec.base}-USDT-SWAP", kind="linear", max_leverage=D("50"),
                         step_size=SYNTHETIC_CONTRACT_VALUE, min_qty=SYNTHETIC_CONTRACT_VALUE, min_notional=D(0),
                         maker_fee=SWAP_MAKER, taker_fee=SWAP_TAKER)
            for spec in synthetic_instruments(count)]


# Published demo credentials for paper trading, in OKX's shape: a UUID key, a 32-hex-digit secret, and the
# passphrase chosen when the key was made. They guard nothing but the local emulator.
SPEC = VenueSpec(
    "okx", partial(OkxDialect, default_balances=DEMO_BALANCES), OKX_INSTRUMENTS, engine_ids, synthetic_swaps,
    demo_key="a7de0000-0000-4000-8000-00000000a7de", demo_secret="A7DE00000000000000000000000000A7",
    demo_balances=DEMO_BALANCES, demo_passphrase="AtDemoOkx1",
    urls=lambda rest, ws: [(f"{service} websocket", f"{ws}/ws/v5/{service}")
                           for service in ("public", "business", "private")],
    rejections={"spot orders": SPOT_REJECTIONS, "swap orders": SWAP_REJECTIONS, "set-leverage": LEVERAGE_REJECTIONS})
