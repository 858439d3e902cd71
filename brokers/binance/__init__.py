"""Binance spot: REST + streams client implementing the Broker contract (see README.md)."""

from brokers.base import Broker, BrokerSettings
from brokers.binance.client import BinanceBroker
from brokers.binance.constants import MAINNET, TESTNET


def create_broker(settings: BrokerSettings) -> Broker:
    return BinanceBroker(settings)


def default_endpoints(testnet: bool) -> tuple[str, str]:
    return TESTNET if testnet else MAINNET


__all__ = ["BinanceBroker", "create_broker", "default_endpoints"]
