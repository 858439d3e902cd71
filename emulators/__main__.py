"""`python -m emulators binance [--port N] [--seed S]` (the same as `algotrendy emulate`)."""

import argparse
from functools import partial

import trio

from emulators import available, serve_forever

parser = argparse.ArgumentParser(prog="python -m emulators")
parser.add_argument("venue", choices=available())
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()
try:
    trio.run(partial(serve_forever, args.venue, args.port, args.seed, print))
except KeyboardInterrupt:
    pass
