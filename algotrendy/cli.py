"""The `algotrendy` command: `run` the daemon, `check` a config, `history` from its journal, the
operator commands against a running daemon (`status`, `orders`, ...: `algotrendy.ops`), and
`emulate` a venue as a process.

Whatever is wrong before the daemon starts (a config problem, a port taken) is one
``algotrendy: ...`` line per problem on stderr and exit code 2, never a traceback, and nothing has
been started by then.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import trio

import brokers
from actors.config import AppConfig, ConfigError, config_problems, load_config
from algotrendy.wiring import emulated_venues, implemented_venues, paper_config
from emulators import market_time_arg

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="algotrendy", description="AlgoTrendy Connect")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the daemon (no --config: paper mode on embedded emulators)")
    run.add_argument("--config", help="TOML configuration file")
    run.add_argument("--seed", type=int, default=1, help="emulator seed in paper mode")
    run.add_argument("--duration", type=float, help="stop after this many seconds")
    run.add_argument("--no-demo", action="store_true", help="paper mode without the demo strategy")
    run.add_argument("--plain", action="store_true", help="line-per-event output instead of the live view")
    run.add_argument("--log-level", help="log level (default: [daemon] log_level, else WARNING)")
    run.add_argument("--log-json", action="store_true", help="JSON log lines (also [daemon] log_format)")
    check = sub.add_parser("check", help="validate a configuration without connecting to anything")
    check.add_argument("--config", required=True, help="TOML configuration file")
    history = sub.add_parser("history", help="orders and fills recorded in the daemon's journal")
    history.add_argument("--config", help="the daemon's configuration (finds its journal)")
    history.add_argument("--journal", help="the journal file (instead of --config)")
    history.add_argument("--venue", help="one venue only")
    history.add_argument("--since", type=since_arg, help="ISO time/date (UTC) or an age: 30m, 12h, 7d")
    from algotrendy.ops import add_commands

    add_commands(sub)
    emulate = sub.add_parser("emulate", help="run one venue emulator until Ctrl-C")
    emulate.add_argument("venue", choices=emulated_venues())
    emulate.add_argument("--port", type=int, default=0)
    emulate.add_argument("--seed", type=int, default=1)
    emulate.add_argument("--tick-interval", type=float, default=0.25, help="seconds between price ticks")
    emulate.add_argument("--market-time", type=market_time_arg, default=None,
                         help="venues with a market clock (alpaca): its start, e.g. 2026-12-01T15:00:00Z, "
                              "or 'open' for a moment inside a regular session; default: the real time")
    return parser


def validated(path: str | None, *, demo: bool = True) -> AppConfig:
    """The configuration at ``path`` (None: paper mode), or `ConfigError` with every problem."""
    config = load_config(path) if path else paper_config(demo=demo)
    problems = config_problems(config, implemented=implemented_venues(), emulated=emulated_venues(),
                               option_problems=brokers.option_problems)
    if problems:
        raise ConfigError([f"{path}: {p}" if path else p for p in problems])
    return config


def refuse(lines: list[str]) -> int:
    for line in lines:
        print(f"algotrendy: {line}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "emulate":
        from emulators import serve_forever

        try:
            trio.run(partial(serve_forever, args.venue, args.port, args.seed, partial(print, flush=True),
                             tick_interval=args.tick_interval, market_time=args.market_time))
        except KeyboardInterrupt:
            pass
        except ValueError as error:  # an option the venue does not take
            print(f"algotrendy: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "history":
        return _history(args)
    from algotrendy.ops import COMMANDS, operate

    if args.command in COMMANDS:
        return trio.run(operate, args, sys.stdout, sys.stderr)
    try:
        config = validated(args.config, demo=not getattr(args, "no_demo", False))
    except ConfigError as error:
        return refuse(error.problems)
    if args.command == "check":
        print(f"{args.config}: valid; " + ", ".join(
            f"{name} ({venue.kind}, {venue.effective_mode}, {len(venue.symbols)} symbols)"
            for name, venue in config.venues.items()))
        return 0
    return _run(args, config)


def since_arg(text: str) -> datetime:
    """``2026-11-30``, ``2026-11-30T12:00`` (UTC unless it says otherwise) or an age (``30m``, ``12h``, ``7d``)."""
    age = re.fullmatch(r"(\d+)([smhd])", text)
    if age:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[age.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(age.group(1))})
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time or an age: {text!r} (try 2026-11-30, 12h, 7d)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _history(args: argparse.Namespace) -> int:
    from actors.journal import JournalError, read_history
    from algotrendy.tables import history_tables

    if args.journal:
        path = Path(args.journal).expanduser()
    else:
        try:
            config = load_config(args.config) if args.config else AppConfig()
        except ConfigError as error:
            return refuse(error.problems)
        path = config.journal.file(config.control.port) if config.journal.path is None \
            else Path(config.journal.path).expanduser()
    try:
        history = read_history(path, venue=args.venue, since=args.since)
    except JournalError as error:
        return refuse([str(error)])
    history_tables(history, sys.stdout)
    return 0


def _run(args: argparse.Namespace, config: AppConfig) -> int:
    from actors.journal import JournalError
    from algotrendy.control import ControlStartError
    from algotrendy.daemon import run_daemon

    level = (args.log_level or config.daemon.log_level).upper()
    handler = logging.StreamHandler(sys.stderr)
    if args.log_json or config.daemon.log_format == "json":
        from algotrendy.metrics import JsonLogFormatter

        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    interactive = False if args.plain else None
    refused: list[str] = []
    try:
        trio.run(partial(run_daemon, config, seed=args.seed, duration=args.duration, interactive=interactive))
    except* (ControlStartError, JournalError) as group:
        refused += [str(e) for e in group.exceptions]
    return refuse(refused) if refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
