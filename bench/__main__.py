"""Run the benchmark suite: `python -m bench [--quick]` (what `make bench` calls)."""

from __future__ import annotations

import argparse

from bench.core import Figure, Report
from bench.router_fanout import measure_fanout


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller counts (smoke check)")
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    count = 20_000 if args.quick else 200_000
    report = Report()
    for subscribers in (1, 8):
        figure = report.add(Figure(f"router fan-out, {subscribers} subscriber(s)", "algotrendy router",
                                   "events/s", higher_is_better=True))
        figure.runs = [measure_fanout(subscribers, count) for _ in range(runs)]
    print(report.table())
    for path in report.write():
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
