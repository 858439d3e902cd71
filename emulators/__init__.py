"""Local exchanges that speak each venue's real wire dialect on 127.0.0.1.

``async with emulate("binance", seed=1) as venue:`` (or ``"bybit"``) runs one in-process (tests, paper mode);
``algotrendy emulate binance --port 9000`` runs one as its own process. Each is deterministic from
its seed, verifies signatures like the venue, and takes fault injection through ``venue.faults``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import attrs
import trio

from emulators.engine import (
    DEFAULT_BALANCES,
    DEFAULT_INSTRUMENTS,
    Exchange,
    InstrumentSpec,
    synthetic_instruments,
)
from emulators.engine.faults import Faults
from emulators.engine.server import EmulatorServer

# Published demo credentials for paper trading: they guard nothing but the local emulator.
DEMO_KEYS: dict[str, tuple[str, str]] = {
    "binance": ("atDemoBinanceKey0000000000000000000000000000000000000000000000000",
                "atDemoBinanceSecret000000000000000000000000000000000000000000000"),
    # Bybit's shape: an 18-character key and a 36-character secret.
    "bybit": ("atDemoBybitKey0000", "atDemoBybitSecret0000000000000000000"),
}


def _dialect(venue: str, exchange: Exchange) -> Any:
    if venue == "binance":
        from emulators.binance import BinanceDialect

        return BinanceDialect(exchange)
    if venue == "bybit":
        from emulators.bybit import BybitDialect

        return BybitDialect(exchange)
    raise ValueError(f"no emulator for {venue!r}; available: {sorted(DEMO_KEYS)}")


def available() -> list[str]:
    return sorted(DEMO_KEYS)


@attrs.define(eq=False)
class EmulatedVenue:
    """A running emulator: where it listens, its demo credentials, and its insides for tests."""

    venue: str
    rest_url: str
    ws_url: str
    api_key: str
    api_secret: str
    faults: Faults
    engine: Exchange
    dialect: Any

    def add_account(self, name: str, balances: dict[str, Decimal] | None = None) -> tuple[str, str]:
        account = self.dialect.add_account(name, balances=balances)
        return account.api_key, account.api_secret


def _instruments(venue: str, symbols: list[str] | None) -> list[InstrumentSpec]:
    """The venue's instruments, narrowed to ``symbols`` (unified: "BTC/USDT", "BTC/USDT:USDT", "BTC/USD:BTC")."""
    if venue == "bybit":
        from emulators.bybit import bybit_instruments

        return bybit_instruments(symbols)
    if not symbols:
        return list(DEFAULT_INSTRUMENTS)
    wanted = {s.replace("/", "").split(":")[0].upper() for s in symbols}
    chosen = [spec for spec in DEFAULT_INSTRUMENTS if spec.symbol in wanted]
    return chosen or list(DEFAULT_INSTRUMENTS)


def _synthetic(venue: str, count: int) -> list[InstrumentSpec]:
    """``count`` made-up USDT markets for load tests: Binance spot "S01USDT", ...; Bybit linear perpetuals
    "linear:S01USDT" (venue symbol "S01USDT"). See `emulators.engine.instruments.synthetic_instruments`."""
    if count <= 0:
        return []
    if venue == "bybit":
        from emulators.bybit import synthetic_linear_instruments

        return synthetic_linear_instruments(count)
    return synthetic_instruments(count)


def _demo_balances(venue: str, synthetic: list[InstrumentSpec]) -> dict[str, Decimal] | None:
    """The demo account's funds: the dialect's defaults (None), plus 1,000 of each synthetic spot coin so
    synthetic markets can be sold as well as bought."""
    spot = [spec.base for spec in synthetic if spec.kind == "spot"]
    if venue != "binance" or not spot:
        return None
    return {**DEFAULT_BALANCES, **{coin: Decimal(1000) for coin in spot}}


@asynccontextmanager
async def emulate(venue: str, *, seed: int = 1, port: int = 0, tick_interval: float = 0.25,
                  symbols: list[str] | None = None, balances: dict[str, Decimal] | None = None,
                  host: str = "127.0.0.1", extra_symbols: int = 0) -> AsyncIterator[EmulatedVenue]:
    """Run one emulator. ``extra_symbols`` adds that many synthetic USDT markets after the venue's own
    (Binance spot "S01USDT", ...; Bybit linear "S01USDT"), for load tests. The price path is one seeded RNG
    shared by every symbol in order, so with extras the default symbols' paths differ from the second tick
    on; with ``extra_symbols=0`` nothing changes."""
    if venue not in DEMO_KEYS:
        raise ValueError(f"no emulator for {venue!r}; available: {sorted(DEMO_KEYS)}")
    synthetic = _synthetic(venue, extra_symbols)
    exchange = Exchange(seed=seed, instruments=_instruments(venue, symbols) + synthetic)
    dialect = _dialect(venue, exchange)
    key, secret = DEMO_KEYS[venue]
    dialect.add_account("demo", key, secret, balances if balances is not None else _demo_balances(venue, synthetic))
    faults = Faults()
    server = EmulatorServer(dialect, faults, host=host, port=port)

    async def run_prices() -> None:
        while True:
            await trio.sleep(tick_interval)
            exchange.tick()

    async with trio.open_nursery() as nursery:
        bound = await nursery.start(server.run)
        nursery.start_soon(run_prices)
        try:
            yield EmulatedVenue(venue, f"http://{host}:{bound}", f"ws://{host}:{bound}", key, secret, faults,
                                exchange, dialect)
        finally:
            nursery.cancel_scope.cancel()


async def serve_forever(venue: str, port: int, seed: int, print_fn: Callable[[str], None] = print, *,
                        extra_symbols: int = 0, tick_interval: float = 0.25) -> None:
    """Run one emulator until cancelled (Ctrl-C), printing where it is and the demo credentials."""
    async with emulate(venue, seed=seed, port=port, extra_symbols=extra_symbols,
                       tick_interval=tick_interval) as emulated:
        extra = f", {extra_symbols} synthetic symbols" if extra_symbols else ""
        print_fn(f"{venue} emulator (seed {seed}{extra})")
        print_fn(f"  REST base URL:      {emulated.rest_url}")
        print_fn(f"  websocket base URL: {emulated.ws_url}")
        print_fn(f"  demo API key:       {emulated.api_key}")
        print_fn(f"  demo API secret:    {emulated.api_secret}")
        print_fn("Ctrl-C to stop.")
        await trio.sleep_forever()
