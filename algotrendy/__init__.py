"""AlgoTrendy Connect: ``async with open_router(config) as router`` and the `algotrendy` command."""

from actors.config import AppConfig, load_config, parse_config
from actors.handle import RouterHandle
from algotrendy.wiring import open_router, paper_config

__all__ = ["AppConfig", "RouterHandle", "load_config", "open_router", "paper_config", "parse_config"]
