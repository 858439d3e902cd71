"""Alpaca Trading API v2 + Market Data API v2 (US stocks) behind the Broker contract.

See README.md. Pure modules: constants (hosts, paths, limits, order windows, order features), auth (key
headers and websocket auth messages), schemas (Alpaca JSON), errors (HTTP status + code table, stream error
codes), mapping (both directions), session (market hours from /v2/clock and /v2/calendar, the pre-trade
market-hours policy); I/O: client (REST, market hours, the session watch), stream (both websockets).
There is no book.py: Alpaca streams no stock order book.
"""

from brokers.alpaca.client import AlpacaBroker
from brokers.alpaca.constants import MAINNET, TESTNET
from brokers.base import Broker, BrokerSettings


def create_broker(settings: BrokerSettings) -> Broker:
    return AlpacaBroker(settings)


def default_endpoints(testnet: bool) -> tuple[str, str]:
    """Alpaca's paper trading stands for the testnet (its own keys; the same market data)."""
    return TESTNET if testnet else MAINNET


__all__ = ["AlpacaBroker", "create_broker", "default_endpoints"]
