"""The venue-neutral exchange every dialect trades against, and the kit dialects are built from.

The engine, in layers: `instruments` (what can be traded), `model` (its records and `RejectReason`),
`prices` (the seeded price simulation), `ledger` (wallets, positions, margin) and `matching` (orders;
`Exchange` is the whole engine). `faults` and `server` are the fault injection and the ASGI server every
emulator runs on.
"""

from emulators.engine.instruments import (
    DEFAULT_BALANCES,
    DEFAULT_INSTRUMENTS,
    InstrumentSpec,
    synthetic_instruments,
)
from emulators.engine.matching import Exchange
from emulators.engine.model import (
    CANDLE_MS,
    EFill,
    EOrder,
    EPosition,
    PublicTrade,
    Rejected,
    RejectReason,
    SymbolState,
    wall_ms,
)

__all__ = ["CANDLE_MS", "DEFAULT_BALANCES", "DEFAULT_INSTRUMENTS", "EFill", "EOrder", "EPosition", "Exchange",
           "InstrumentSpec", "PublicTrade", "RejectReason", "Rejected", "SymbolState", "synthetic_instruments",
           "wall_ms"]
