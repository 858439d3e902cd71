"""Run the benchmark suite: `python -m bench [--quick]` (what `make bench` calls).

Prints a table, writes bench/results/latest.json and latest.png. Every figure is a median over runs;
comparisons are ratios to peers measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable

from bench import ingest, pipeline, roundtrip, transports
from bench.core import RESULTS, Figure, Report
from bench.isolate import isolated
from bench.recovery import measure_recovery
from bench.router_fanout import measure_fanout


def _try(report: Report, what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as error:  # a peer that cannot run here is reported, never hidden
        report.skipped.append(f"{what}: {type(error).__name__}: {str(error)[:160]}")


SECTIONS = ("transports", "ingest", "latency", "pipeline", "roundtrip", "fanout", "recovery", "memory")
MACHINE_NOTE = ("note: ratios are within one run (consumers take turns run by run); absolute figures move with the "
                "machine's load: this VM's 2 cores are shared with other work, so rerun on a quiet machine to compare "
                "with earlier results")
BARE = "bare brokers.transport (ceiling)"
OLD_BARE = "bare trio-websocket (old transport)"
CCXT = "ccxt.pro watch_trades"
NAUTILUS = "nautilus_trader node"

RATIOS = [
    ("ingest, binance trades", "algotrendy (binance)", CCXT),
    ("ingest, binance trades", "algotrendy (binance)", NAUTILUS),
    ("ingest, binance trades", "algotrendy (binance)", BARE),
    ("ingest, binance trades", "algotrendy (binance)", OLD_BARE),
    ("ingest, bybit trades", "algotrendy (bybit)", CCXT),
    ("ingest, bybit trades", "algotrendy (bybit)", BARE),
    ("ingest, bybit trades", "algotrendy (bybit)", OLD_BARE),
    ("latency p99 @5k msg/s, binance", "algotrendy (binance)", CCXT),
    ("latency p99 @5k msg/s, binance", "algotrendy (binance)", BARE),
    ("latency p99 @5k msg/s, bybit", "algotrendy (bybit)", CCXT),
    ("latency p99 @5k msg/s, bybit", "algotrendy (bybit)", BARE),
    ("order round trip p50, binance", "algotrendy router", "bare signed httpx (floor)"),
    ("order round trip p50, binance", "algotrendy router", "bare httpx + private stream"),
    ("order round trip p50, binance", "algotrendy router", "python-binance"),
    ("order round trip p50, binance", "algotrendy router", "ccxt async"),
    ("order round trip p50, bybit", "algotrendy router", "bare signed httpx (floor)"),
    ("order round trip p50, bybit", "algotrendy router", "bare httpx + private stream"),
    ("order round trip p50, bybit", "algotrendy router", "pybit"),
    ("order round trip p50, bybit", "algotrendy router", "ccxt async"),
    ("client CPU per round trip, binance", "algotrendy router", "bare signed httpx (floor)"),
    ("client CPU per round trip, binance", "algotrendy router", "python-binance"),
    ("client CPU per round trip, bybit", "algotrendy router", "bare signed httpx (floor)"),
    ("client CPU per round trip, bybit", "algotrendy router", "pybit"),
    ("ingest, alpaca trades", "algotrendy (alpaca)", "alpaca-py StockDataStream"),
    ("ingest, alpaca trades", "algotrendy (alpaca)", OLD_BARE),
    ("latency p99 @5k msg/s, alpaca", "algotrendy (alpaca)", "alpaca-py StockDataStream"),
    ("order round trip p50, alpaca", "algotrendy router", "bare httpx (floor)"),
    ("order round trip p50, alpaca", "algotrendy router", "bare httpx + trading stream"),
    ("order round trip p50, alpaca", "algotrendy router", "alpaca-py"),
    ("client CPU per round trip, alpaca", "algotrendy router", "alpaca-py"),
    ("ingest, okx trades", "algotrendy (okx)", CCXT),
    ("ingest, okx trades", "algotrendy (okx)", OLD_BARE),
    ("latency p99 @5k msg/s, okx", "algotrendy (okx)", CCXT),
    ("latency p99 @5k msg/s, okx", "algotrendy (okx)", OLD_BARE),
    ("order round trip p50, okx", "algotrendy router", "bare signed httpx (floor)"),
    ("order round trip p50, okx", "algotrendy router", "bare httpx + private stream"),
    ("order round trip p50, okx", "algotrendy router", "python-okx"),
    ("order round trip p50, okx", "algotrendy router", "ccxt async"),
    ("client CPU per round trip, okx", "algotrendy router", "bare signed httpx (floor)"),
    ("client CPU per round trip, okx", "algotrendy router", "python-okx"),
    ("ingest, kraken trades", "algotrendy (kraken)", "python-kraken-sdk SpotWSClient"),
    ("ingest, kraken trades", "algotrendy (kraken)", CCXT),
    ("ingest, kraken trades", "algotrendy (kraken)", OLD_BARE),
    ("latency p99 @5k msg/s, kraken", "algotrendy (kraken)", "python-kraken-sdk SpotWSClient"),
    ("latency p99 @5k msg/s, kraken", "algotrendy (kraken)", CCXT),
    ("latency p99 @5k msg/s, kraken", "algotrendy (kraken)", OLD_BARE),
    ("order round trip p50, kraken", "algotrendy router", "bare signed httpx (floor)"),
    ("order round trip p50, kraken", "algotrendy router", "bare httpx + private stream"),
    ("order round trip p50, kraken", "algotrendy router", "python-kraken-sdk"),
    ("order round trip p50, kraken", "algotrendy router", "ccxt async"),
    ("client CPU per round trip, kraken", "algotrendy router", "bare signed httpx (floor)"),
    ("client CPU per round trip, kraken", "algotrendy router", "python-kraken-sdk"),
]

# Issue 17's targets, checked on the same run: (what, metric, ours, peer, ratio at least).
RATIO_TARGETS = [
    ("Binance ingest >= 2x ccxt.pro", "ingest, binance trades", "algotrendy (binance)", CCXT, 2.0),
    ("Binance ingest >= 1.5x the nautilus node", "ingest, binance trades", "algotrendy (binance)", NAUTILUS, 1.5),
    ("Bybit ingest >= 4x ccxt.pro", "ingest, bybit trades", "algotrendy (bybit)", CCXT, 4.0),
    ("Binance pipeline >= 0.6x the bare ceiling", "ingest, binance trades", "algotrendy (binance)", BARE, 0.6),
    ("Bybit pipeline >= 0.6x the bare ceiling", "ingest, bybit trades", "algotrendy (bybit)", BARE, 0.6),
]


def targets(report: Report) -> list[str]:
    """Each target: met or missed, with the figures it was judged on."""
    lines = []
    for what, metric, ours, peer, least in RATIO_TARGETS:
        ratio = report.ratio(metric, ours, peer)
        verdict = "not measured" if ratio is None else ("met" if ratio >= least else "MISSED")
        lines.append(f"target {what}: {verdict}" + ("" if ratio is None else f" ({ratio:.2f}x)"))
    for venue in ("binance", "bybit"):
        ours = report.find(f"latency p50 @5k msg/s, {venue}", f"algotrendy ({venue})")
        bare = report.find(f"latency p50 @5k msg/s, {venue}", BARE)
        if ours is None or bare is None or not ours.runs or not bare.runs:
            lines.append(f"target {venue} p50 tick-to-subscriber within 0.1 ms of the bare loop: not measured")
            continue
        gap = ours.median - bare.median
        lines.append(f"target {venue} p50 tick-to-subscriber within 0.1 ms of the bare loop: "
                     f"{'met' if gap <= 0.1 else 'MISSED'} (+{gap:.3f} ms)")
    return lines


BARE_LOOP = "brokers.transport (ours)"  # bench/transports.py's name for the chosen transport's bare loop


def ingest_consumers(venue: str) -> dict[str, Callable[[ingest.Feed, int], ingest.Samples]]:
    """Every consumer of one venue's feed, each run in a fresh process (`bench.isolate`): the chosen
    transport's bare receive loop (stamps only, as bench/transports.py runs it), trio-websocket's, ours
    through the router to a subscriber, and the peers."""
    if venue == "binance":
        return {BARE: isolated("bench.transports:run_named", BARE_LOOP, "binance"),
                OLD_BARE: isolated("bench.ingest:bare"), "algotrendy (binance)": isolated("bench.ingest:ours"),
                CCXT: isolated("bench.ingest:ccxt_pro"), NAUTILUS: isolated("bench.nautilus_peer:nautilus_node")}
    if venue == "bybit":
        return {BARE: isolated("bench.transports:run_named", BARE_LOOP, "bybit"),
                OLD_BARE: isolated("bench.ingest:bare_bybit"), "algotrendy (bybit)": isolated("bench.ingest:ours_bybit"),
                CCXT: isolated("bench.ingest:ccxt_pro_bybit")}
    if venue == "alpaca":
        return {OLD_BARE: isolated("bench.ingest:bare_alpaca"), "algotrendy (alpaca)": isolated("bench.ingest:ours_alpaca"),
                "alpaca-py StockDataStream": isolated("bench.ingest:alpaca_py")}
    if venue == "okx":
        return {OLD_BARE: isolated("bench.ingest:bare_okx"), "algotrendy (okx)": isolated("bench.ingest:ours_okx"),
                CCXT: isolated("bench.ingest:ccxt_pro_okx")}
    return {OLD_BARE: isolated("bench.ingest:bare_kraken"), "algotrendy (kraken)": isolated("bench.ingest:ours_kraken"),
            "python-kraken-sdk SpotWSClient": isolated("bench.ingest:kraken_sdk"),
            CCXT: isolated("bench.ingest:ccxt_pro_kraken")}


FAST_FEED = ("binance", "bybit")  # venues bench/fastfeed.py speaks; the others' trades come from their emulator
TRADES_PER_MESSAGE = {"binance": 1, "bybit": 10, "alpaca": 10, "okx": 1, "kraken": 10}


def measure_ingest(report: Report, runs: int, count: int) -> None:
    """Throughput on the fast feed (bench/fastfeed.py; the emulator's own for OKX, Kraken and Alpaca), every
    consumer once per round, rounds repeated."""
    cases = [("binance", 1, count * 4), ("bybit", 10, count * 10),
             *((venue, TRADES_PER_MESSAGE[venue], count * (4 if TRADES_PER_MESSAGE[venue] > 1 else 2))
               for venue in ("alpaca", "okx", "kraken"))]
    for venue, batch, total in cases:
        consumers = ingest_consumers(venue)
        figures = {name: report.add(Figure(f"ingest, {venue} trades", name, "trades/s", higher_is_better=True))
                   for name in consumers}
        for _ in range(runs):
            for name, consumer in consumers.items():

                def measure(consumer: Callable[..., ingest.Samples] = consumer, figure: Figure = figures[name],
                            venue: str = venue, batch: int = batch, total: int = total) -> None:
                    with ingest.feed(total, 0, venue, batch, fast=venue in FAST_FEED) as f:
                        samples = consumer(f, total)
                    if samples.received < total:
                        figure.note = f"received {samples.received} of {total}"
                    figure.runs.append(samples.rate)

                _try(report, f"ingest {venue} {name}", measure)


def measure_latency(report: Report, runs: int, count: int) -> None:
    """Tick-to-subscriber at a steady 5,000 messages/s (one trade per message), from the fast feed paced
    message by message (the emulator's own stream could not hold that rate on a loaded machine; OKX, Kraken
    and Alpaca still stream from their emulator)."""
    cases = [(venue, name, consumer) for venue in ("binance", "bybit", "alpaca", "okx", "kraken")
             for name, consumer in ingest_consumers(venue).items()]
    figures = {(venue, name): {q: report.add(Figure(f"latency p{q * 100:g} @5k msg/s, {venue}", name, "ms",
                                                    higher_is_better=False)) for q in (0.5, 0.99, 0.999)}
               for venue, name, _ in cases}
    for _ in range(runs):  # consumers take turns run by run (see the round trips below)
        for venue, name, consumer in cases:

            def measure(consumer: Callable[..., ingest.Samples] = consumer,
                        figures: dict[float, Figure] = figures[venue, name], venue: str = venue) -> None:
                with ingest.feed(count // 2, 5000, venue, 1, fast=venue in FAST_FEED) as f:
                    samples = consumer(f, count // 2)
                for q, figure in figures.items():
                    figure.runs.append(samples.percentile(q))
                    if samples.received < count // 2:
                        figure.note = f"received {samples.received} of {count // 2}"

            _try(report, f"latency {venue} {name}", measure)


def add_memory(report: Report, runs: int) -> None:
    from bench.memory import measure_connected_rss

    figure = report.add(Figure("RSS, binance + bybit x 20 symbols connected", "algotrendy router", "MB",
                               higher_is_better=False))
    for _ in range(max(1, runs - 1)):
        figure.runs.append(float(measure_connected_rss()["rss_mb"]))
    add_soak(report)


SOAK_METRICS = ("RSS growth over the paper-trading soak", "RSS growth over the soak's second half")


def add_soak(report: Report) -> None:
    """The soak's figures from bench/results/memory.json (`make soak-memory` writes it; it is too long
    to run inside `make bench`), replacing any the report already has."""
    soak_file = RESULTS / "memory.json"
    if not soak_file.exists():
        return
    soak = json.loads(soak_file.read_text()).get("soak") or {}
    report.figures = [f for f in report.figures if f.metric not in SOAK_METRICS]
    note = (f"{soak.get('minutes')} min, {soak.get('traders_per_venue', 1)} paper trader(s) per venue, "
            f"{soak.get('orders_placed')} orders; from bench/results/memory.json")
    for metric, key in zip(SOAK_METRICS, ("growth_mb", "second_half_growth_mb"), strict=True):
        if soak.get(key) is not None:
            report.add(Figure(metric, "algotrendy router", "MB", higher_is_better=False,
                              runs=[float(soak[key])], note=note))


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run, small counts (smoke check)")
    parser.add_argument("--sections", default="", help=f"comma-separated, of: {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--soak-only", action="store_true",
                        help="take the soak figures from memory.json into the latest results, run nothing")
    args = parser.parse_args()
    if args.soak_only:
        report = Report.read(RESULTS / "latest.json")
        add_soak(report)
        print(report.table())
        for path in report.write():
            print(f"wrote {path}")
        return
    runs = 1 if args.quick else args.runs
    count = 5_000 if args.quick else 30_000
    report = Report()

    sections = set(args.sections.split(",")) if args.sections else set(SECTIONS)
    notes: list[str] = []

    # 0. the bare receive loops of each candidate transport, both venues (the transport choice)
    if "transports" in sections:
        transports.measure(report, runs, count * 4, on_error=lambda what, error: report.skipped.append(
            f"{what}: {type(error).__name__}: {str(error)[:160]}"))

    # 1. ingest throughput on the fast feed (Binance: one trade per message; Bybit: 10 per message)
    if "ingest" in sections:
        measure_ingest(report, runs, count)

    # 2. tick-to-subscriber latency at a steady 5,000 messages/s (one trade per message)
    # The bare receive loop is the floor: its tail is the feed's, the kernel's and the machine's.
    if "latency" in sections:
        measure_latency(report, runs, count)

    # 2b. where our time per message goes (in process, stage by stage)
    if "pipeline" in sections:
        pipeline.measure(report, runs, {"binance": 50_000 if not args.quick else 5_000,
                                        "bybit": 5_000 if not args.quick else 500})
        notes.append(pipeline.breakdown(report))

    # 3. order round trip (place + cancel a resting limit order). Binance: 60 rounds per fresh emulator
    # stays under 100 orders / 10 s; Bybit and OKX: every client is paced under their limits; Kraken: every
    # client rotates over 16 pairs, each left 3 s for its trading counter to decay; Alpaca: at most 40 rounds per
    # fresh emulator stay under 200 requests a minute (see roundtrip.py).
    if "roundtrip" in sections:
        rtt_cases = [
            ("binance", {"bare signed httpx (floor)": roundtrip.bare_httpx,
                         "bare httpx + private stream": roundtrip.bare_httpx_with_stream,
                         "bare WebSocket API (floor)": roundtrip.bare_ws_api,
                         "algotrendy router": roundtrip.ours,
                         "algotrendy router, WebSocket API orders": roundtrip.ours_ws_api,
                         "python-binance": roundtrip.python_binance,
                         "ccxt async": roundtrip.ccxt_async}),
            ("bybit", {"bare signed httpx (floor)": roundtrip.bybit_bare_httpx,
                       "bare httpx + private stream": roundtrip.bybit_bare_httpx_with_stream,
                       "algotrendy router": roundtrip.bybit_ours, "pybit": roundtrip.bybit_pybit,
                       "ccxt async": roundtrip.bybit_ccxt_async}),
            ("alpaca", {"bare httpx (floor)": roundtrip.alpaca_bare_httpx,
                        "bare httpx + trading stream": roundtrip.alpaca_bare_httpx_with_stream,
                        "algotrendy router": roundtrip.alpaca_ours, "alpaca-py": roundtrip.alpaca_py}),
            ("okx", {"bare signed httpx (floor)": roundtrip.okx_bare_httpx,
                     "bare httpx + private stream": roundtrip.okx_bare_httpx_with_stream,
                     "algotrendy router": roundtrip.okx_ours, "python-okx": roundtrip.okx_python_okx,
                     "ccxt async": roundtrip.okx_ccxt_async}),
            ("kraken", {"bare signed httpx (floor)": roundtrip.kraken_bare_httpx,
                        "bare httpx + private stream": roundtrip.kraken_bare_httpx_with_stream,
                        "algotrendy router": roundtrip.kraken_ours, "python-kraken-sdk": roundtrip.kraken_sdk,
                        "ccxt async": roundtrip.kraken_ccxt_async}),
        ]
        rtt_runs = 1 if args.quick else max(runs, 5)  # cheap, and the noisiest figure: more runs
        for venue, clients in rtt_cases:
            measured = {}
            for name in clients:
                measured[name] = (
                    report.add(Figure(f"order round trip p50, {venue}", name, "ms", higher_is_better=False)),
                    report.add(Figure(f"order round trip p99, {venue}", name, "ms", higher_is_better=False)),
                    report.add(Figure(f"client CPU per round trip, {venue}", name, "ms", higher_is_better=False,
                                      note="process CPU over the counted rounds, streams included")))
            # Clients take turns run by run, so a slow spell of the machine lands on all of them alike.
            for _ in range(rtt_runs):
                for name, client in clients.items():
                    p50, p99, cpu = measured[name]

                    def measure_rtt(client: Callable[..., roundtrip.Rounds] = client, p50: Figure = p50,
                                    p99: Figure = p99, cpu: Figure = cpu, venue: str = venue) -> None:
                        with ingest.feed(1, 0, venue) as f:
                            rounds = client(f, 20 if args.quick else 60)
                        samples = sorted(rounds.latencies_ms)
                        p50.runs.append(statistics.median(samples))
                        p99.runs.append(samples[int(len(samples) * 0.99)])
                        cpu.runs.append(rounds.cpu_ms_per_round)

                    _try(report, f"round trip {venue} {name}", measure_rtt)

    # 4. router fan-out
    if "fanout" in sections:
        for subscribers in (1, 8):
            figure = report.add(Figure(f"router fan-out, {subscribers} subscriber(s)", "algotrendy router",
                                       "events/s", higher_is_better=True))
            figure.runs = [measure_fanout(subscribers, 20_000 if args.quick else 200_000) for _ in range(runs)]

    # 5. recovery after a dropped private stream, default backoff (0.5 s base, full jitter)
    if "recovery" in sections:
        recovery = report.add(Figure("recovery to CONNECTED + reconciled", "algotrendy (binance)", "ms",
                                     higher_is_better=False, note="includes the jittered backoff U(0, 0.5 s)"))
        _try(report, "recovery",
             lambda: recovery.runs.extend(measure_recovery(seed) for seed in range(1, 2 + 2 * runs)))

    # 6. memory: our client with Binance and Bybit connected, 20 symbols each (emulators in their own
    # processes); the 10-minute soak's growth comes from `python -m bench.memory` (`make soak-memory`).
    if "memory" in sections:
        _try(report, "memory", lambda: add_memory(report, runs))

    print(report.table())
    print()
    for metric, ours, peer in RATIOS:
        ratio = report.ratio(metric, ours, peer)
        if ratio is not None:
            print(f"{metric}: {ours} / {peer} = {ratio:.2f}")
    for line in [*transports.summary(report), *notes, *targets(report)]:
        print(line)
    print(MACHINE_NOTE)
    report.notes = [*transports.summary(report), *notes, *targets(report), MACHINE_NOTE]
    for path in report.write():
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
