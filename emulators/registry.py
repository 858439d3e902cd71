"""The emulated venues, each registered with one line: its package provides ``SPEC``, a `VenueSpec`.

A spec is everything `emulate` needs to stand a venue up: the dialect, the venue's instruments and how to
narrow them to the unified symbols a caller asks for, the synthetic markets it adds for load tests, the
published demo credentials and the demo account's funds, and the dialect's rejection tables (checked for
completeness by the tests). Nothing is imported until a venue is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

import attrs

from emulators.engine import Exchange, InstrumentSpec
from emulators.engine.accounts import ApiAccount
from emulators.engine.errors import RejectionTable
from emulators.engine.server import Dialect

EMULATORS: dict[str, str] = {
    "alpaca": "emulators.alpaca",
    "binance": "emulators.binance",
    "bybit": "emulators.bybit",
    "okx": "emulators.okx",
    "kraken": "emulators.kraken",
}


class VenueDialect(Dialect, Protocol):
    """A dialect as the registry drives it: the server's interface plus API accounts."""

    def add_account(self, name: str, api_key: str | None = None, api_secret: str | None = None,
                    balances: Mapping[str, Decimal] | None = None,
                    passphrase: str | None = None) -> ApiAccount[Any]: ...


@attrs.frozen
class VenueSpec:
    """One emulated venue, as `emulate` assembles it."""

    venue: str
    dialect: Callable[[Exchange], VenueDialect]
    instruments: Sequence[InstrumentSpec]
    # Unified symbols ("BTC/USDT", "BTC/USDT:USDT", "BTC/USD:BTC") -> the engine ids they name on this venue.
    narrow: Callable[[Sequence[str]], set[str]]
    # ``count`` synthetic markets for load tests, in the venue's kind (see `engine.instruments`).
    synthetic: Callable[[int], list[InstrumentSpec]]
    demo_key: str
    demo_secret: str
    demo_balances: Mapping[str, Decimal]
    rejections: Mapping[str, RejectionTable]  # every table the dialect words engine refusals with, by name
    demo_passphrase: str | None = None  # venues that ask for a third credential
    # How the venue's engine is built: ``engine(seed=..., instruments=..., **options)`` (a venue with a market
    # clock builds a `StockExchange`); ``options`` names the emulate() options the venue takes (e.g.
    # "market_time") -- any other is refused.
    engine: Callable[..., Exchange] = Exchange
    options: frozenset[str] = frozenset()
    # More (label, URL) lines for `algotrendy emulate`, from the REST and websocket base URLs.
    urls: Callable[[str, str], list[tuple[str, str]]] | None = None

    def instruments_for(self, symbols: Sequence[str] | None) -> list[InstrumentSpec]:
        """The venue's instruments narrowed to ``symbols`` (all of them when none is asked for). A symbol the
        venue does not list is refused out loud (ValueError naming it), never dropped or replaced by defaults."""
        if not symbols:
            return list(self.instruments)
        unknown = [symbol for symbol in symbols
                   if not self.narrow([symbol]) & {spec.symbol for spec in self.instruments}]
        if unknown:
            raise ValueError(f"the {self.venue} emulator does not list {unknown}; it lists "
                             f"{sorted(spec.name for spec in self.instruments)}")
        wanted = self.narrow(symbols)
        return [spec for spec in self.instruments if spec.symbol in wanted]

    def demo_funds(self, synthetic: Sequence[InstrumentSpec]) -> dict[str, Decimal]:
        """The demo account's funds, plus 1,000 of each synthetic spot coin so those markets can be sold too."""
        return {**self.demo_balances, **{spec.base: Decimal(1000) for spec in synthetic if spec.kind == "spot"}}


def available() -> list[str]:
    return sorted(EMULATORS)


def venue_spec(venue: str) -> VenueSpec:
    try:
        module = EMULATORS[venue]
    except KeyError:
        raise ValueError(f"no emulator for {venue!r}; available: {available()}") from None
    spec: VenueSpec = importlib.import_module(module).SPEC
    return spec


@attrs.frozen
class Assembled:
    """A venue's engine and dialect, with the demo account opened (no server yet)."""

    spec: VenueSpec
    exchange: Exchange
    dialect: VenueDialect
    demo: ApiAccount[Any]


def assemble(venue: str, *, seed: int = 1, symbols: Sequence[str] | None = None,
             balances: Mapping[str, Decimal] | None = None, extra_symbols: int = 0, **options: Any) -> Assembled:
    """Build a venue's engine (its instruments, then ``extra_symbols`` synthetic ones) and dialect, and open
    the demo account with the published demo credentials. ``options`` are the venue's own (`VenueSpec.options`);
    one it does not take is refused."""
    spec = venue_spec(venue)
    unknown = sorted(set(options) - spec.options)
    if unknown:
        raise ValueError(f"the {venue} emulator takes no option {', '.join(unknown)} "
                         f"(it takes: {', '.join(sorted(spec.options)) or 'none'})")
    synthetic = spec.synthetic(extra_symbols) if extra_symbols > 0 else []
    exchange = spec.engine(seed=seed, instruments=spec.instruments_for(symbols) + synthetic, **options)
    dialect = spec.dialect(exchange)
    demo = dialect.add_account("demo", spec.demo_key, spec.demo_secret,
                               balances if balances is not None else spec.demo_funds(synthetic),
                               spec.demo_passphrase)
    return Assembled(spec, exchange, dialect, demo)
