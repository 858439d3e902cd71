"""`make soak`: the property suites, round after round with fresh seeds, for a given duration.

Each round runs every test in tests/properties (the CI-sized ones and the longer `soak`-marked
schedules) with a new random seed and a bounded number of examples, so a round always ends; the next
round starts while time remains. A failing round stops the soak and prints the command that replays it.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to keep starting rounds")
    parser.add_argument("--examples", type=int, default=20, help="examples per property per round")
    parser.add_argument("paths", nargs="*", default=["tests/properties"])
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.minutes * 60
    rounds = 0
    while time.monotonic() < deadline:
        seed = random.SystemRandom().randrange(2**32)
        env = {**os.environ, "PROPERTY_SEED": str(seed), "PROPERTY_EXAMPLES": str(args.examples),
               "SOAK_EXAMPLES": str(args.examples)}
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not live",
                   f"--hypothesis-seed={seed}", *args.paths]
        print(f"soak round {rounds + 1}: seed {seed}, {args.examples} examples per property", flush=True)
        if subprocess.call(command, env=env) != 0:
            print(f"soak failed in round {rounds + 1}; replay: PROPERTY_SEED={seed} PROPERTY_EXAMPLES={args.examples}"
                  f" SOAK_EXAMPLES={args.examples} {' '.join(command[:1] + command[1:])}", flush=True)
            return 1
        rounds += 1
    print(f"soak passed: {rounds} rounds in {args.minutes:g} minutes", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
