"""Configuration: a TOML file -> typed specs, validated in full before anything starts.

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

    [journal]
    path = "/var/lib/algotrendy/journal.sqlite"

Two passes, each naming the exact table of every problem (``[venues.bybit] recv_window_ms: ...``):
`parse_config` checks the shape (every table refuses unknown keys, types convert), and
`config_problems` checks the meaning (limits positive, modes consistent, symbols well formed,
credentials present, venues known) with the facts only the composition root has (which venues are
implemented and emulated, the environment). A typo is never a silently missing setting.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import msgspec

from actors.risk import RiskLimits
from actors.supervisor import BackoffPolicy
from protocol.credentials import Credentials
from protocol.errors import AuthenticationError
from protocol.messages import StreamChannel

VenueMode = Literal["paper", "testnet", "live"]

# Unified symbols (design §2): BASE/QUOTE (spot), BASE/QUOTE:SETTLE (perpetual swaps), a stock ticker.
_ASSET = r"[A-Z0-9]{1,20}"
SYMBOL_FORMS = re.compile(rf"{_ASSET}/{_ASSET}(:{_ASSET})?|[A-Z]{{1,5}}(\.[A-Z])?")


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the daemon keeps its files by default: $ALGOTRENDY_HOME, else ~/.algotrendy."""
    env = os.environ if environ is None else environ
    home = env.get("ALGOTRENDY_HOME")
    return Path(home) if home else Path.home() / ".algotrendy"


class VenueConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ``[venues.<name>]`` table."""

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
    """``[supervisor]``: the restart policy of every venue (design §5)."""

    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    healthy_after: float = 30.0

    def policy(self) -> BackoffPolicy:
        return BackoffPolicy(base=self.backoff_base, cap=self.backoff_cap, healthy_after=self.healthy_after)


class ControlConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[control]``: the daemon's control API; loopback by default, TLS required anywhere else."""

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


class JournalConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[journal]``: the durable record of orders, fills, watermarks and the kill switch."""

    path: str | None = None  # daemon default: <state dir>/journal-<control port>.sqlite (all paper: none)
    enabled: bool = True
    synchronous: Literal["normal", "full"] = "normal"  # full: an fsync per commit (survives power loss)

    def file(self, control_port: int) -> Path:
        return Path(self.path).expanduser() if self.path else state_dir() / f"journal-{control_port}.sqlite"


class MetricsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[metrics]``: Prometheus ``/metrics``, ``/healthz``, ``/readyz`` over plain HTTP."""

    host: str = "127.0.0.1"
    port: int = 9108
    enabled: bool = True


class DaemonConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[daemon]``: how the service starts and stops."""

    cancel_on_shutdown: bool = False  # SIGTERM cancels open orders (else it says what it leaves open)
    shutdown_timeout: float = 10.0  # seconds to finish commands in flight
    log_format: Literal["text", "json"] = "text"
    log_level: str = "WARNING"


class AppConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    venues: dict[str, VenueConfig] = msgspec.field(default_factory=dict)
    supervisor: SupervisorConfig = msgspec.field(default_factory=SupervisorConfig)
    risk: RiskLimits = msgspec.field(default_factory=RiskLimits)
    control: ControlConfig = msgspec.field(default_factory=ControlConfig)
    journal: JournalConfig = msgspec.field(default_factory=JournalConfig)
    metrics: MetricsConfig = msgspec.field(default_factory=MetricsConfig)
    daemon: DaemonConfig = msgspec.field(default_factory=DaemonConfig)
    demo: bool = False  # the daemon's built-in demo strategy (paper mode turns it on by default)

    def __post_init__(self) -> None:
        for name, venue in list(self.venues.items()):
            if not venue.name:
                self.venues[name] = msgspec.structs.replace(venue, name=name)


class ConfigError(ValueError):
    """Everything wrong with a configuration, one line per problem (``problems``)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# ============================================================================ shape

_TABLES: dict[str, type[msgspec.Struct]] = {
    "supervisor": SupervisorConfig, "risk": RiskLimits, "control": ControlConfig, "journal": JournalConfig,
    "metrics": MetricsConfig, "daemon": DaemonConfig,
}
_SCALARS: dict[str, type] = {"demo": bool}


def _convert(raw: object, kind: type[msgspec.Struct], table: str, problems: list[str]) -> Any:
    """``raw`` as ``kind``, or None with the problem (named by its TOML table and key) appended."""
    if not isinstance(raw, dict):
        problems.append(f"{table} must be a table")
        return None
    try:
        return msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as error:
        text = str(error)
        message, _, path = text.partition(" - at `$")
        key = path.rstrip("`").lstrip(".")
        unknown = re.fullmatch(r"Object contains unknown field `(.+)`", message)
        if unknown:
            known = ", ".join(f for f in kind.__struct_fields__ if f != "name")
            problems.append(f"{table} has no key `{unknown.group(1)}` (known: {known})")
        else:
            problems.append(f"{table} {key}: {message}" if key else f"{table}: {message}")
        return None


def parse_config(text: str) -> AppConfig:
    """The configuration's shape: raises `ConfigError` listing every table that does not fit."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"not valid TOML: {error}"]) from None
    problems: list[str] = []
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "venues":
            if not isinstance(value, dict):
                problems.append("[venues] must be a table of [venues.<name>] tables")
                continue
            venues = {name: _convert(table, VenueConfig, f"[venues.{name}]", problems)
                      for name, table in value.items()}
            fields["venues"] = {name: venue for name, venue in venues.items() if venue is not None}
        elif key in _TABLES:
            fields[key] = _convert(value, _TABLES[key], f"[{key}]", problems)
        elif key in _SCALARS:
            if not isinstance(value, _SCALARS[key]):
                problems.append(f"{key} must be {_SCALARS[key].__name__}, not {value!r}")
            fields[key] = value
        else:
            known = ", ".join(sorted([*_TABLES, "venues", *_SCALARS]))
            problems.append(f"unknown top-level key `{key}` (known: {known})")
    if problems:
        raise ConfigError(problems)
    return AppConfig(**fields)


def load_config(path: str | Path) -> AppConfig:
    """Read and parse a TOML file; every problem is reported with the file's name."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([f"cannot read {path}: {error.strerror or error}"]) from None
    try:
        return parse_config(text)
    except ConfigError as error:
        raise ConfigError([f"{path}: {problem}" for problem in error.problems]) from None


# ============================================================================ meaning


def _positive(problems: list[str], table: str, key: str, value: float | Decimal | None) -> None:
    if value is not None and not value > 0:
        problems.append(f"{table} {key} must be positive, got {value}")


OptionProblems = Callable[[str, Mapping[str, str]], list[str]]
"""(venue kind, options) -> one line per option the venue's client does not take."""


def config_problems(config: AppConfig, *, implemented: Collection[str], emulated: Collection[str] = (),
                    environ: Mapping[str, str] | None = None,
                    option_problems: OptionProblems | None = None) -> list[str]:
    """Everything that makes ``config`` unusable, one line each (empty: good to start).

    ``implemented`` / ``emulated``: the venues with a broker / an emulator, and ``option_problems`` what
    each broker says of its ``options`` (the composition root knows them all).
    """
    env = os.environ if environ is None else environ
    problems: list[str] = []
    for name, venue in config.venues.items():
        problems += _venue_problems(name, venue, implemented, emulated, env)
        if option_problems is not None and venue.kind in implemented:
            problems += [f"[venues.{name}] options: {line}" for line in option_problems(venue.kind, venue.options)]
    sup = config.supervisor
    for key in ("backoff_base", "backoff_cap", "healthy_after"):
        _positive(problems, "[supervisor]", key, getattr(sup, key))
    if 0 < sup.backoff_cap < sup.backoff_base:
        problems.append(f"[supervisor] backoff_cap ({sup.backoff_cap}) must be at least backoff_base "
                        f"({sup.backoff_base})")
    risk = config.risk
    for key in ("max_order_notional", "max_position", "price_band_pct", "max_leverage"):
        _positive(problems, "[risk]", key, getattr(risk, key))
    for symbol, cap in risk.max_position_per_symbol.items():
        _positive(problems, "[risk]", f"max_position_per_symbol.{symbol}", cap)
    problems += _control_problems(config.control)
    for table, port in (("[control]", config.control.port), ("[metrics]", config.metrics.port)):
        if not 0 <= port <= 65535:
            problems.append(f"{table} port must be 0-65535, got {port}")
    _positive(problems, "[daemon]", "shutdown_timeout", config.daemon.shutdown_timeout)
    return problems


def _venue_problems(name: str, venue: VenueConfig, implemented: Collection[str], emulated: Collection[str],
                    env: Mapping[str, str]) -> list[str]:
    table = f"[venues.{name}]"
    problems: list[str] = []
    if venue.kind not in implemented:
        what = f"venue = {venue.kind!r}" if venue.venue else "venue"
        problems.append(f"{table} unknown {what}: implemented are {', '.join(sorted(implemented))} "
                        "(set venue = \"...\" to name a table differently)")
        return problems
    mode = venue.effective_mode
    if venue.mode is not None and venue.testnet is not None and (venue.testnet != (venue.mode == "testnet")):
        problems.append(f"{table} testnet = {str(venue.testnet).lower()} contradicts mode = {venue.mode!r} "
                        "(use one of them)")
    if mode == "paper" and venue.kind not in emulated:
        problems.append(f"{table} has no emulator for paper mode; emulated are {', '.join(sorted(emulated))}")
    if mode != "paper":
        key_name, secret_name, _ = venue.env_names()
        missing = [n for n in (key_name, secret_name) if not env.get(n)]
        if missing:
            problems.append(f"{table} credentials missing: set {' and '.join(missing)} in the environment")
    for symbol in venue.symbols:
        if not SYMBOL_FORMS.fullmatch(symbol):
            problems.append(f"{table} symbol {symbol!r} is not BASE/QUOTE, BASE/QUOTE:SETTLE or a stock ticker "
                            f"(unified symbols: \"BTC/USDT\", \"BTC/USDT:USDT\", \"AAPL\")")
    _positive(problems, table, "request_timeout", venue.request_timeout)
    _positive(problems, table, "recv_window_ms", venue.recv_window_ms)
    if len(set(venue.symbols)) != len(venue.symbols):
        problems.append(f"{table} lists a symbol twice")
    return problems


def _control_problems(control: ControlConfig) -> list[str]:
    problems: list[str] = []
    if control.enabled and not is_loopback(control.host) and not control.tls:
        problems.append(f"[control] host {control.host} is not loopback: set tls_cert and tls_key "
                        "(the token must not travel in clear)")
    if (control.tls_cert is None) != (control.tls_key is None):
        problems.append("[control] tls_cert and tls_key go together")
    for key in ("tls_cert", "tls_key"):
        path = getattr(control, key)
        if path is not None and not os.access(Path(path).expanduser(), os.R_OK):
            problems.append(f"[control] {key} {path} cannot be read")
    for key in ("max_connections", "max_message_bytes", "send_timeout"):
        _positive(problems, "[control]", key, getattr(control, key))
    return problems


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
