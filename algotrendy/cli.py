"""The `algotrendy` command: `run` the daemon, `emulate` a venue as a standalone process."""

from __future__ import annotations

import argparse
import logging
import sys
from functools import partial

import trio

from actors.config import ConfigError, load_config
from algotrendy.wiring import paper_config
from emulators.registry import available as emulator_venues


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="algotrendy", description="AlgoTrendy Connect")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the daemon (no --config: paper mode on embedded emulators)")
    run.add_argument("--config", help="TOML configuration file")
    run.add_argument("--seed", type=int, default=1, help="emulator seed in paper mode")
    run.add_argument("--duration", type=float, help="stop after this many seconds")
    run.add_argument("--no-demo", action="store_true", help="paper mode without the demo strategy")
    run.add_argument("--plain", action="store_true", help="line-per-event output instead of the live view")
    run.add_argument("--log-level", default="WARNING")
    emulate = sub.add_parser("emulate", help="run one venue emulator until Ctrl-C")
    emulate.add_argument("venue", choices=emulator_venues())
    emulate.add_argument("--port", type=int, default=0)
    emulate.add_argument("--seed", type=int, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "emulate":
        from emulators import serve_forever

        try:
            trio.run(partial(serve_forever, args.venue, args.port, args.seed, print))
        except KeyboardInterrupt:
            pass
        return 0
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config) if args.config else paper_config(demo=not args.no_demo)
    except (ConfigError, OSError) as error:
        print(f"algotrendy: {error}", file=sys.stderr)
        return 2
    from algotrendy.daemon import run_daemon

    interactive = False if args.plain else None
    trio.run(partial(run_daemon, config, seed=args.seed, duration=args.duration, interactive=interactive))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
