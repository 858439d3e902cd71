"""Venue clients. Each venue registers here with one line: its package provides `create_broker`
and `default_endpoints`; nothing is imported until that venue is used."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from brokers.base import BrokerFactory

BROKER_FACTORIES: dict[str, str] = {
    "alpaca": "brokers.alpaca",
    "binance": "brokers.binance",
    "bybit": "brokers.bybit",
    "kraken": "brokers.kraken",
    "okx": "brokers.okx",
}


def _module(venue: str):  # type: ignore[no-untyped-def]
    try:
        return importlib.import_module(BROKER_FACTORIES[venue])
    except KeyError:
        raise ValueError(f"unknown venue {venue!r}; implemented: {sorted(BROKER_FACTORIES)}") from None


def load_broker_factory(venue: str) -> BrokerFactory:
    return _module(venue).create_broker  # type: ignore[no-any-return]


def option_problems(venue: str, options: Mapping[str, str]) -> list[str]:
    """The option keys ``venue``'s client does not take, one line each (see `VenueClient.options_taken`)."""
    from brokers.venue import VenueClient

    module = _module(venue)
    clients = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, VenueClient) and v is not VenueClient]
    return clients[0].option_problems(options) if clients else []


def default_endpoints(venue: str, *, testnet: bool) -> tuple[str, str]:
    """(REST base URL, websocket base URL) of the real venue or its testnet."""
    return _module(venue).default_endpoints(testnet)  # type: ignore[no-any-return]
