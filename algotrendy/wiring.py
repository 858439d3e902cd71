"""Turns a configuration into running venue actors: the only place that knows every layer.

`actors` knows no venue and `brokers` knows no router; this module picks each venue's broker
factory from the registry, decides its endpoints (embedded emulator, testnet or live) and credentials,
and hands the router one supervised `VenueActor` per venue.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import attrs

import brokers
from actors.config import AppConfig, ConfigError, VenueConfig, config_problems, load_config
from actors.handle import RouterHandle, open_router_with
from brokers.base import Broker, BrokerSettings, BrokerState, Subscription, broker_actor
from protocol.actor import VenueActor
from protocol.credentials import Credentials

PAPER_SYMBOLS: dict[str, list[str]] = {
    "binance": ["BTC/USDT", "ETH/USDT"],
    "bybit": ["BTC/USDT", "BTC/USDT:USDT"],  # spot and the linear perpetual
}


def implemented_venues() -> list[str]:
    return sorted(brokers.BROKER_FACTORIES)


def emulated_venues() -> list[str]:
    from emulators import available

    return available()


def paper_config(venues: list[str] | None = None, *, demo: bool = True) -> AppConfig:
    """Every implemented venue against an embedded emulator: what `algotrendy run` uses by default."""
    from actors.config import VenueConfig
    from protocol.messages import StreamChannel

    chosen = venues or implemented_venues()
    return AppConfig(
        venues={
            name: VenueConfig(name=name, mode="paper", symbols=PAPER_SYMBOLS.get(name, []),
                              channels=[StreamChannel.TICKER, StreamChannel.TRADES])
            for name in chosen
        },
        demo=demo,
    )


@attrs.frozen
class VenuePlan:
    """How one venue will run: its broker settings and, in paper mode, the emulator behind it."""

    config: VenueConfig
    settings: BrokerSettings
    emulator: object | None = None


def settings_for(venue: VenueConfig, *, rest_url: str | None = None, ws_url: str | None = None,
                 credentials: Credentials | None = None) -> BrokerSettings:
    mode = venue.effective_mode
    default_rest, default_ws = brokers.default_endpoints(venue.kind, testnet=(mode == "testnet")) \
        if mode != "paper" else ("", "")
    return BrokerSettings(
        venue=venue.name,
        rest_url=rest_url or venue.rest_url or default_rest,
        ws_url=ws_url or venue.ws_url or default_ws,
        private_ws_url=venue.private_ws_url,
        credentials=credentials if credentials is not None else venue.credentials(),
        testnet=mode == "testnet",
        request_timeout=venue.request_timeout,
        recv_window_ms=venue.recv_window_ms,
        options=dict(venue.options),
    )


@asynccontextmanager
async def plan_venues(config: AppConfig, *, seed: int = 1) -> AsyncIterator[dict[str, VenuePlan]]:
    """Start the emulators paper venues need and work out every venue's settings."""
    from emulators import emulate

    plans: dict[str, VenuePlan] = {}
    async with AsyncExitStack() as stack:
        for name, venue in config.venues.items():
            if venue.effective_mode == "paper":
                # Each venue gets its own price path (same seed, different venue: different market).
                venue_seed = seed + zlib.crc32(name.encode()) % 10_000
                emulated = await stack.enter_async_context(
                    emulate(venue.kind, seed=venue_seed, symbols=venue.symbols or None))
                creds = Credentials.from_strings(emulated.api_key, emulated.api_secret)
                settings = settings_for(venue, rest_url=emulated.rest_url, ws_url=emulated.ws_url,
                                        credentials=creds)
                plans[name] = VenuePlan(venue, settings, emulated)
            else:
                plans[name] = VenuePlan(venue, settings_for(venue))
        yield plans


def venue_actor(plan: VenuePlan, make_broker: Callable[[BrokerSettings], Broker] | None = None) -> VenueActor:
    factory = make_broker or brokers.load_broker_factory(plan.config.kind)
    state = BrokerState(venue=plan.config.name)
    for symbol in plan.config.symbols:
        for channel in plan.config.channels:
            state.subscriptions.add(Subscription(symbol, channel))
    return broker_actor(lambda: factory(plan.settings), state)


@asynccontextmanager
async def open_router(
    config: AppConfig | str | Path | None = None,
    *,
    seed: int = 1,
) -> AsyncIterator[RouterHandle]:
    """``async with open_router(config) as router:`` — the embedding entry point.

    ``config`` is an `AppConfig`, a path to a TOML file, or None for paper mode (every implemented
    venue against an embedded emulator). It is validated first: `ConfigError` lists every problem.
    """
    if config is None:
        app = paper_config(demo=False)
    elif isinstance(config, AppConfig):
        app = config
    else:
        app = load_config(config)
    problems = config_problems(app, implemented=implemented_venues(), emulated=emulated_venues())
    if problems:
        raise ConfigError(problems)
    async with plan_venues(app, seed=seed) as plans:
        actors = {name: venue_actor(plan) for name, plan in plans.items()}
        async with open_router_with(actors, policy=app.supervisor.policy(), risk=app.risk, seed=seed) as router:
            yield router
