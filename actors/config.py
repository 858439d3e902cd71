"""Configuration: a TOML file -> typed specs. Secrets come only from environment variables.

The file names the *variables* holding credentials (``api_key_env = "BINANCE_API_KEY"``), never the
credentials themselves, so a config can be committed and shared. Example::

    [supervisor]
    backoff_base = 0.5
    backoff_cap = 30

    [risk]
    max_order_notional = "25000"
    price_band_pct = "5"

    [venues.binance]
    testnet = true                     # or mode = "live" / "paper" (embedded emulator)
    symbols = ["BTC/USDT", "ETH/USDT"]
    channels = ["ticker", "trades"]
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from actors.risk import RiskLimits
from actors.supervisor import BackoffPolicy
from protocol.credentials import Credentials
from protocol.errors import AuthenticationError
from protocol.messages import StreamChannel

VenueMode = Literal["paper", "testnet", "live"]


class VenueConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str = ""
    venue: str = ""  # which venue dialect; defaults to the table name
    mode: VenueMode | None = None
    testnet: bool | None = None
    rest_url: str | None = None
    ws_url: str | None = None
    private_ws_url: str | None = None
    api_key_env: str | None = None
    api_secret_env: str | None = None
    passphrase_env: str | None = None
    symbols: list[str] = msgspec.field(default_factory=list)
    channels: list[StreamChannel] = msgspec.field(default_factory=lambda: [StreamChannel.TICKER])
    recv_window_ms: int = 5000
    request_timeout: float = 10.0
    options: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.venue or self.name

    @property
    def effective_mode(self) -> VenueMode:
        if self.mode is not None:
            return self.mode
        if self.testnet is not None:
            return "testnet" if self.testnet else "live"
        return "paper"

    def env_names(self) -> tuple[str, str, str]:
        prefix = self.kind.upper()
        return (
            self.api_key_env or f"{prefix}_API_KEY",
            self.api_secret_env or f"{prefix}_API_SECRET",
            self.passphrase_env or f"{prefix}_API_PASSPHRASE",
        )

    def credentials(self, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read this venue's credentials from the environment; a missing one is an AuthenticationError."""
        env = os.environ if environ is None else environ
        key_name, secret_name, passphrase_name = self.env_names()
        key, secret = env.get(key_name), env.get(secret_name)
        if not key or not secret:
            raise AuthenticationError(
                f"{self.name}: set {key_name} and {secret_name} in the environment", venue=self.kind)
        return Credentials.from_strings(key, secret, env.get(passphrase_name))


class SupervisorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    healthy_after: float = 30.0

    def policy(self) -> BackoffPolicy:
        return BackoffPolicy(base=self.backoff_base, cap=self.backoff_cap, healthy_after=self.healthy_after)


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the daemon keeps its files by default: $ALGOTRENDY_HOME, else ~/.algotrendy."""
    env = os.environ if environ is None else environ
    home = env.get("ALGOTRENDY_HOME")
    return Path(home) if home else Path.home() / ".algotrendy"


class ControlConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The daemon's control API (``[control]``): loopback by default, TLS required anywhere else."""

    host: str = "127.0.0.1"
    port: int = 8765
    token_env: str = "ALGOTRENDY_CONTROL_TOKEN"
    token_file: str | None = None  # default: <state dir>/control-<port>.token
    tls_cert: str | None = None  # PEM certificate chain and key: serve wss://
    tls_key: str | None = None
    max_connections: int = 32
    max_message_bytes: int = 1_048_576  # a bigger frame closes that connection (1009)
    send_timeout: float = 10.0  # a client that takes longer to accept one message is disconnected
    enabled: bool = True

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def token_path(self, port: int) -> Path:
        return Path(self.token_file).expanduser() if self.token_file else state_dir() / f"control-{port}.token"


class AppConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    venues: dict[str, VenueConfig] = msgspec.field(default_factory=dict)
    supervisor: SupervisorConfig = msgspec.field(default_factory=SupervisorConfig)
    risk: RiskLimits = msgspec.field(default_factory=RiskLimits)
    control: ControlConfig = msgspec.field(default_factory=ControlConfig)
    demo: bool = False  # the daemon's built-in demo strategy (paper mode turns it on by default)

    def __post_init__(self) -> None:
        for name, venue in list(self.venues.items()):
            if not venue.name:
                self.venues[name] = msgspec.structs.replace(venue, name=name)


class ConfigError(ValueError):
    pass


def parse_config(text: str) -> AppConfig:
    try:
        raw = tomllib.loads(text)
        return msgspec.convert(raw, AppConfig, strict=False)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as error:
        raise ConfigError(f"invalid configuration: {error}") from error


def load_config(path: str | Path) -> AppConfig:
    return parse_config(Path(path).read_text(encoding="utf-8"))
