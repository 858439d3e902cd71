"""Bybit V5 unified account: spot, linear and inverse (REST + streams) behind the Broker contract.

See README.md. Pure modules: constants (hosts, paths, limits), auth (signing), schemas (V5 JSON and
the answer envelope), errors (retCode table), mapping (both directions); state: book (the L2 book);
I/O: client (REST), stream (websockets).
"""

from brokers.base import Broker, BrokerSettings
from brokers.bybit.client import BybitBroker
from brokers.bybit.constants import MAINNET, TESTNET


def create_broker(settings: BrokerSettings) -> Broker:
    return BybitBroker(settings)


def default_endpoints(testnet: bool) -> tuple[str, str]:
    return TESTNET if testnet else MAINNET


__all__ = ["BybitBroker", "create_broker", "default_endpoints"]
