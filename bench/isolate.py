"""Run one ingest/latency consumer in a fresh interpreter, so no consumer pays for another's leftovers.

The bench process imports every peer (ccxt, nautilus_trader: hundreds of thousands of live objects) and
keeps what earlier runs left behind; a consumer that allocates per message (ours, ccxt.pro, the node)
then pays for the garbage collector walking all of it, and one that allocates little (a bare loop) does
not. Each run therefore starts ``python -m bench.isolate <module>:<function> <args> <feed> <count>`` and reads
its `Samples` back (the last stdout line, JSON): every consumer starts from the same clean state.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable

import attrs

from bench.ingest import Feed, Samples

MARK = "SAMPLES "
TIMEOUT = 600.0


def isolated(target: str, *args: str) -> Callable[[Feed, int], Samples]:
    """``target`` (``"bench.ingest:ours"``: a function of (*args, Feed, count) -> Samples) run in its own process."""

    def run(f: Feed, count: int) -> Samples:
        done = subprocess.run([sys.executable, "-m", "bench.isolate", target, json.dumps(args),
                               json.dumps(attrs.asdict(f)), str(count)],
                              capture_output=True, text=True, timeout=TIMEOUT, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
        if done.returncode != 0 or not lines:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise RuntimeError(f"{target} failed (exit {done.returncode}): {last}")
        data = json.loads(lines[-1].removeprefix(MARK))
        return Samples(received=data["received"], first=data["first"], last=data["last"],
                       latencies_ns=data["latencies_ns"])

    run.__name__ = f"isolated({target})"
    return run


def main() -> None:
    target, args, feed, count = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
    module, _, name = target.partition(":")
    consumer: Callable[..., Samples] = getattr(importlib.import_module(module), name)
    samples = consumer(*args, Feed(**feed), count)
    print(MARK + json.dumps({"received": samples.received, "first": samples.first, "last": samples.last,
                             "latencies_ns": samples.latencies_ns}), flush=True)


if __name__ == "__main__":
    main()
