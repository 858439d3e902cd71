"""OKX V5: spot and perpetual swaps behind the Broker contract, keeping OKX's market data first-class.

See README.md. Pure modules: constants (hosts, paths, limits, channels), auth (signing, websocket login),
schemas (V5 JSON, the answer envelope), errors (code table), mapping (both directions, contract sizes); state:
book (the checksummed L2 book); I/O: client (REST), stream (websockets).
"""

from brokers.base import Broker, BrokerSettings
from brokers.okx.client import OkxBroker
from brokers.okx.constants import MAINNET, TESTNET


def create_broker(settings: BrokerSettings) -> Broker:
    return OkxBroker(settings)


def default_endpoints(testnet: bool) -> tuple[str, str]:
    """Live, or OKX demo trading (our "testnet": same REST host, demo header, the wspap websockets)."""
    return TESTNET if testnet else MAINNET


__all__ = ["OkxBroker", "create_broker", "default_endpoints"]
