"""Kraken spot (REST + websocket v2), margin and Earn behind the Broker contract.

See README.md. Pure modules: constants (hosts, paths, limits), auth (API-Sign), nonce (a per-key nonce
shared by processes), counters (Kraken's decaying rate counters, and the limiters on them), schemas
(Kraken JSON), errors (the error-string table), mapping (both directions, the pair table); state: book
(the checksummed L2 book); I/O: client (REST), stream (websockets v2), watch (what Kraken does not
stream in full -- balances with holds, margin positions and level, Earn -- read by REST and emitted).
"""

from brokers.base import Broker, BrokerSettings
from brokers.kraken.client import KrakenBroker
from brokers.kraken.constants import MAINNET
from protocol.errors import NotSupported


def create_broker(settings: BrokerSettings) -> Broker:
    return KrakenBroker(settings)


def default_endpoints(testnet: bool) -> tuple[str, str]:
    """Kraken's hosts. There is no spot testnet: asking for one is refused, never answered with the real venue."""
    if testnet:
        raise NotSupported("Kraken has no spot testnet: use paper mode (the emulator) or the real venue with "
                           "option validate_only = \"true\" (orders checked with validate=true, never placed)",
                           venue="kraken")
    return MAINNET


__all__ = ["KrakenBroker", "create_broker", "default_endpoints"]
