"""Local exchanges that speak each venue's real wire dialect on 127.0.0.1.

``async with emulate("binance", seed=1) as venue:`` (or any name in `available()`) runs one in-process
(tests, paper mode); ``algotrendy emulate binance --port 9000`` runs one as its own process. Each is
deterministic from its seed, verifies signatures like the venue, and takes fault injection through
``venue.faults``. Venues are registered in `emulators.registry`.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import trio

from emulators.engine import Exchange
from emulators.engine.faults import Faults
from emulators.engine.server import EmulatorServer
from emulators.registry import assemble, available, venue_spec

__all__ = ["EmulatedVenue", "available", "emulate", "market_time_arg", "serve_forever"]


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
    passphrase: str | None = attrs.field(default=None, repr=False)  # venues that ask for a third credential

    def add_account(self, name: str, balances: dict[str, Decimal] | None = None) -> tuple[str, str]:
        account = self.dialect.add_account(name, balances=balances)
        return account.api_key, account.api_secret


@asynccontextmanager
async def emulate(venue: str, *, seed: int = 1, port: int = 0, tick_interval: float = 0.25,
                  symbols: list[str] | None = None, balances: dict[str, Decimal] | None = None,
                  host: str = "127.0.0.1", extra_symbols: int = 0,
                  market_time: datetime | str | None = None) -> AsyncIterator[EmulatedVenue]:
    """Run one emulator. ``extra_symbols`` adds that many synthetic USDT markets after the venue's own
    (Binance spot "S01USDT", ...; Bybit linear "S01USDT"), for load tests. Each symbol's price path is its own
    RNG stream from the seed and the symbol, so extras change none of the default symbols' paths. ``symbols``
    narrows to those unified symbols; one the venue does not list is refused (ValueError). ``market_time`` pins
    the start of a venue's market clock (only venues with one take it, e.g. Alpaca; "open" = a moment inside a
    regular session, see the venue)."""
    options: dict[str, Any] = {} if market_time is None else {"market_time": market_time}
    built = assemble(venue, seed=seed, symbols=symbols, balances=balances, extra_symbols=extra_symbols, **options)
    exchange, demo = built.exchange, built.demo
    faults = Faults()

    def cancel_open(account: str) -> int:
        orders = exchange.open_orders(account)
        for order in orders:
            exchange.cancel(account, order.symbol, order_id=order.order_id)
        return len(orders)

    faults.cancel_open_hook = cancel_open
    server = EmulatorServer(built.dialect, faults, host=host, port=port)

    async def run_prices() -> None:
        while True:
            await trio.sleep(tick_interval)
            exchange.tick()

    async with trio.open_nursery() as nursery:
        bound = await nursery.start(server.run)
        nursery.start_soon(run_prices)
        try:
            yield EmulatedVenue(venue, f"http://{host}:{bound}", f"ws://{host}:{bound}", demo.api_key,
                                demo.api_secret, faults, exchange, built.dialect, demo.passphrase)
        finally:
            nursery.cancel_scope.cancel()


async def serve_forever(venue: str, port: int, seed: int, print_fn: Callable[[str], None] = print, *,
                        extra_symbols: int = 0, tick_interval: float = 0.25,
                        market_time: datetime | str | None = None) -> None:
    """Run one emulator until cancelled (Ctrl-C), printing where it is and the demo credentials."""
    async with emulate(venue, seed=seed, port=port, extra_symbols=extra_symbols,
                       tick_interval=tick_interval, market_time=market_time) as emulated:
        extra = f", {extra_symbols} synthetic symbols" if extra_symbols else ""
        print_fn(f"{venue} emulator (seed {seed}{extra})")
        print_fn(f"  REST base URL:      {emulated.rest_url}")
        print_fn(f"  websocket base URL: {emulated.ws_url}")
        describe = venue_spec(venue).urls
        for label, url in describe(emulated.rest_url, emulated.ws_url) if describe is not None else []:
            print_fn(f"  {label + ':':<20}{url}")
        print_fn(f"  demo API key:       {emulated.api_key}")
        print_fn(f"  demo API secret:    {emulated.api_secret}")
        if emulated.passphrase is not None:
            print_fn(f"  demo passphrase:    {emulated.passphrase}")
        print_fn("Ctrl-C to stop.")
        await trio.sleep_forever()


def market_time_arg(text: str) -> datetime | str:
    """The ``--market-time`` argument: an ISO 8601 moment with its offset (``Z`` or ``+hh:mm``), or "open"."""
    if text == "open":
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the offset (Z or +hh:mm): {text!r}")
    return moment
