"""`python -m emulators binance [--port N] [--seed S] [--extra-symbols N] [--tick-interval T]`
(the same as `algotrendy emulate`). ``--extra-symbols`` adds synthetic USDT markets (S01USDT, ...) for load
tests. Output lines are flushed at once, so a parent process can read the URLs from a pipe."""

import argparse
from functools import partial

import trio

from emulators import available, market_time_arg, serve_forever

parser = argparse.ArgumentParser(prog="python -m emulators")
parser.add_argument("venue", choices=available())
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--extra-symbols", type=int, default=0, help="synthetic USDT markets to add (S01USDT, ...)")
parser.add_argument("--tick-interval", type=float, default=0.25, help="seconds between price ticks")
parser.add_argument("--market-time", type=market_time_arg, default=None,
                    help="venues with a market clock (alpaca): its start (ISO 8601 with offset) or 'open'")
args = parser.parse_args()
try:
    trio.run(partial(serve_forever, args.venue, args.port, args.seed, partial(print, flush=True),
                     extra_symbols=args.extra_symbols, tick_interval=args.tick_interval,
                     market_time=args.market_time))
except KeyboardInterrupt:
    pass
