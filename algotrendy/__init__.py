"""AlgoTrendy Connect: ``async with open_router(config) as router`` (embedded) or
``async with connect(url, token) as api`` (a running daemon): the same typed API either way."""

from actors.config import AppConfig, load_config, parse_config
from actors.handle import RouterHandle, TradingAPI
from algotrendy.remote import RemoteClient, connect
from algotrendy.wiring import open_router, paper_config

__all__ = ["AppConfig", "RemoteClient", "RouterHandle", "TradingAPI", "connect", "load_config", "open_router",
           "paper_config", "parse_config"]
