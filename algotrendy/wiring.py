"""Turns a configuration into running venue actors: the only place that knows every layer.

`actors` knows no venue and `brokers` knows no router; this module picks each venue's broker
factory from the registry, decides its endpoints (embedded emulator, testnet or live) and credentials,
and hands the router one supervised `VenueActor` per venue.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

import brokers
from actors.config import AppConfig, ConfigError, VenueConfig, config_problems, load_config
from actors.handle import RouterHandle, open_router_with
from actors.journal import Journal, VenueRecord
from brokers.base import Broker, BrokerSettings, BrokerState, Subscription, broker_actor, fill_key
from protocol.actor import VenueActor
from protocol.backoff import BackoffPolicy
from protocol.credentials import Credentials
from protocol.model import utc_now

PAPER_SYMBOLS: dict[str, list[str]] = {
    "alpaca": ["AAPL", "MSFT", "SPY"],  # US stocks
    "binance": ["BTC/USDT", "ETH/USDT"],
    "bybit": ["BTC/USDT", "BTC/USDT:USDT"],  # spot and the linear perpetual
    "kraken": ["BTC/USD", "ETH/USD"],  # spot; the demo also holds BTC/USD on margin and allocates BTC to Earn
    "okx": ["BTC/USDT", "BTC/USDT:USDT"],  # spot and the USDT-margined swap
}
PAPER_EMULATOR_OPTIONS: dict[str, dict[str, Any]] = {
    # A venue with trading hours opens its paper session inside a regular session, whatever the weekday or
    # the hour ("open": now if the market is open, else the latest regular open), and runs on from there.
    "alpaca": {"market_time": "open"},
}
PAPER_OPTIONS: dict[str, dict[str, str]] = {
    # The Kraken emulator's demo key is an Intermediate key: the client's call counter must count like one.
    "kraken": {"tier": "intermediate"},
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
                              channels=[StreamChannel.TICKER, StreamChannel.TRADES],
                              options=dict(PAPER_OPTIONS.get(name, {})))
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
                 credentials: Credentials | None = None,
                 public_backoff: BackoffPolicy | None = None) -> BrokerSettings:
    """A venue's broker settings; ``public_backoff`` (the [supervisor] policy) paces its public sockets'
    re-opening as the supervisor paces restarts."""
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
        public_backoff=public_backoff or BackoffPolicy(),
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
                    emulate(venue.kind, seed=venue_seed, symbols=venue.symbols or None,
                            **PAPER_EMULATOR_OPTIONS.get(venue.kind, {})))
                creds = Credentials.from_strings(emulated.api_key, emulated.api_secret, emulated.passphrase)
                # An emulator is the venue's demo environment: its keys are demo keys (OKX serves them only
                # with its demo header, which a client sends in testnet mode).
                settings = attrs.evolve(settings_for(venue, rest_url=emulated.rest_url, ws_url=emulated.ws_url,
                                                     public_backoff=config.supervisor.policy(),
                                                     credentials=creds), testnet=True)
                plans[name] = VenuePlan(venue, settings, emulated)
            else:
                plans[name] = VenuePlan(venue, settings_for(venue, public_backoff=config.supervisor.policy()))
        yield plans


# A restart reconciles from this long before the last recorded fill (then a second more, as every
# reconnect does): a crash loses at most the batch being committed, and the ids of the recorded fills
# in this window are loaded, so the overlap is de-duplicated, never delivered twice.
RESTART_MARGIN = timedelta(seconds=4)


def broker_state(plan: VenuePlan, record: VenueRecord | None = None, *, now: datetime | None = None) -> BrokerState:
    """A venue's lasting state: its subscriptions and, from the journal, where reconciliation resumes.

    Without a record (no journal, or a venue's first start) the venue's history starts now: fills
    from before are not delivered as new. A paper venue's emulator is new each run: no record applies.
    """
    state = BrokerState(venue=plan.config.name, history_start=now or utc_now())
    for symbol in plan.config.symbols:
        for channel in plan.config.channels:
            state.subscriptions.add(Subscription(symbol, channel))
    # Configured symbols are reconciled too: the account may trade them from elsewhere (another
    # client, the venue's website) and their fills are ours to report all the same.
    state.active_symbols |= set(plan.config.symbols)
    if record is None or plan.emulator is not None:
        return state
    state.history_start = record.history_start
    for symbol, mark in record.watermarks.items():
        state.fill_watermark[symbol] = mark - RESTART_MARGIN
    for symbol, trade_id in record.seen_fills:
        state.seen_fills.add(fill_key(symbol, trade_id))
    for order in record.open_orders:
        state.orders[order.client_order_id] = order
    state.filled_from_fills.update(record.filled)
    state.active_symbols |= record.active_symbols
    for client_order_id in record.submitted:
        state.submitted.add(client_order_id)
    return state


def venue_actor(plan: VenuePlan, make_broker: Callable[[BrokerSettings], Broker] | None = None, *,
                state: BrokerState | None = None) -> VenueActor:
    factory = make_broker or brokers.load_broker_factory(plan.config.kind)
    return broker_actor(lambda: factory(plan.settings), state or broker_state(plan))


def journal_path(config: AppConfig, *, daemon: bool) -> Path | None:
    """Where the journal lives: ``[journal] path``; for the daemon by default one per control port
    (none when every venue is paper: their emulators start empty each run)."""
    if not config.journal.enabled:
        return None
    if config.journal.path is not None:
        return Path(config.journal.path).expanduser()
    if not daemon or all(v.effective_mode == "paper" for v in config.venues.values()):
        return None
    return config.journal.file(config.control.port)


def open_journal(config: AppConfig, *, daemon: bool) -> Journal | None:
    """Open and load the journal (raises `JournalError`); None without one."""
    path = journal_path(config, daemon=daemon)
    if path is None:
        return None
    journal = Journal.open(path, synchronous=config.journal.synchronous)
    journal.snapshot(list(config.venues), utc_now())
    return journal


def venue_actors(plans: dict[str, VenuePlan], journal: Journal | None) -> dict[str, VenueActor]:
    records = journal.loaded.venues if journal is not None and journal.loaded is not None else {}
    now = utc_now()
    return {name: venue_actor(plan, state=broker_state(plan, records.get(name), now=now))
            for name, plan in plans.items()}


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
    problems = config_problems(app, implemented=implemented_venues(), emulated=emulated_venues(),
                               option_problems=brokers.option_problems)
    if problems:
        raise ConfigError(problems)
    journal = open_journal(app, daemon=False)
    try:
        async with plan_venues(app, seed=seed) as plans, open_router_with(
                venue_actors(plans, journal), policy=app.supervisor.policy(), risk=app.risk, seed=seed,
                journal=journal) as router:
            yield router
    finally:
        if journal is not None:
            journal.close()
