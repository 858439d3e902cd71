"""Run the benchmark suite: `python -m bench [--quick]` (what `make bench` calls).

Prints a table, writes bench/results/latest.json and latest.png. Every figure is a median over runs;
comparisons are ratios to peers measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable

from bench import ingest, roundtrip
from bench.core import RESULTS, Figure, Report
from bench.recovery import measure_recovery
from bench.router_fanout import measure_fanout


def _try(report: Report, what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as error:  # a peer that cannot run here is reported, never hidden
        report.skipped.append(f"{what}: {type(error).__name__}: {str(error)[:160]}")


RATIOS = [
    ("ingest, binance trades", "algotrendy (binance)", "ccxt.pro watch_trades"),
    ("ingest, binance trades", "algotrendy (binance)", "bare trio-websocket (ceiling)"),
    ("ingest, bybit trades", "algotrendy (bybit)", "ccxt.pro watch_trades"),
    ("ingest, bybit trades", "algotrendy (bybit)", "bare trio-websocket (ceiling)"),
    ("latency p99 @5k msg/s, binance", "algotrendy (binance)", "ccxt.pro watch_trades"),
    ("latency p99 @5k msg/s, binance", "algotrendy (binance)", "bare trio-websocket (ceiling)"),
    ("latency p99 @5k msg/s, bybit", "algotrendy (bybit)", "ccxt.pro watch_trades"),
    ("latency p99 @5k msg/s, bybit", "algotrendy (bybit)", "bare trio-websocket (ceiling)"),
    ("order round trip p50, binance", "algotrendy router", "bare signed httpx (floor)"),
    ("order round trip p50, binance", "algotrendy router", "bare httpx + private stream"),
    ("order round trip p50, binance", "algotrendy router", "python-binance"),
    ("order round trip p50, binance", "algotrendy router", "ccxt async"),
    ("order round trip p50, bybit", "algotrendy router", "bare signed httpx (floor)"),
    ("order round trip p50, bybit", "algotrendy router", "bare httpx + private stream"),
    ("order round trip p50, bybit", "algotrendy router", "pybit"),
    ("order round trip p50, bybit", "algotrendy router", "ccxt async"),
    ("ingest, alpaca trades", "algotrendy (alpaca)", "alpaca-py StockDataStream"),
    ("ingest, alpaca trades", "algotrendy (alpaca)", "bare trio-websocket (ceiling)"),
    ("latency p99 @5k msg/s, alpaca", "algotrendy (alpaca)", "alpaca-py StockDataStream"),
    ("order round trip p50, alpaca", "algotrendy router", "bare httpx (floor)"),
    ("order round trip p50, alpaca", "algotrendy router", "bare httpx + trading stream"),
    ("order round trip p50, alpaca", "algotrendy router", "alpaca-py"),
    ("client CPU per round trip, binance", "algotrendy router", "bare signed httpx (floor)"),
    ("client CPU per round trip, binance", "algotrendy router", "python-binance"),
    ("client CPU per round trip, bybit", "algotrendy router", "bare signed httpx (floor)"),
    ("client CPU per round trip, bybit", "algotrendy router", "pybit"),
    ("client CPU per round trip, alpaca", "algotrendy router", "alpaca-py"),
    ("ingest, okx trades", "algotrendy (okx)", "ccxt.pro watch_trades"),
    ("ingest, okx trades", "algotrendy (okx)", "bare trio-websocket (ceiling)"),
    ("latency p99 @5k msg/s, okx", "algotrendy (okx)", "ccxt.pro watch_trades"),
    ("latency p99 @5k msg/s, okx", "algotrendy (okx)", "bare trio-websocket (ceiling)"),
    ("order round trip p50, okx", "algotrendy router", "bare signed httpx (floor)"),
    ("order round trip p50, okx", "algotrendy router", "bare httpx + private stream"),
    ("order round trip p50, okx", "algotrendy router", "python-okx"),
    ("order round trip p50, okx", "algotrendy router", "ccxt async"),
    ("client CPU per round trip, okx", "algotrendy router", "bare signed httpx (floor)"),
    ("client CPU per round trip, okx", "algotrendy router", "python-okx"),
    ("ingest, kraken trades", "algotrendy (kraken)", "python-kraken-sdk SpotWSClient"),
    ("ingest, kraken trades", "algotrendy (kraken)", "ccxt.pro watch_trades"),
    ("ingest, kraken trades", "algotrendy (kraken)", "bare trio-websocket (ceiling)"),
    ("latency p99 @5k msg/s, kraken", "algotrendy (kraken)", "python-kraken-sdk SpotWSClient"),
    ("latency p99 @5k msg/s, kraken", "algotrendy (kraken)", "ccxt.pro watch_trades"),
    ("latency p99 @5k msg/s, kraken", "algotrendy (kraken)", "bare trio-websocket (ceiling)"),
    ("order round trip p50, kraken", "algotrendy router", "bare signed httpx (floor)"),
    ("order round trip p50, kraken", "algotrendy router", "bare httpx + private stream"),
    ("order round trip p50, kraken", "algotrendy router", "python-kraken-sdk"),
    ("order round trip p50, kraken", "algotrendy router", "ccxt async"),
    ("client CPU per round trip, kraken", "algotrendy router", "bare signed httpx (floor)"),
    ("client CPU per round trip, kraken", "algotrendy router", "python-kraken-sdk"),
]


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

    # 1. ingest throughput on the same feed (Binance and OKX: one trade per message; Bybit, Kraken and Alpaca: 10)
    ingest_cases = [
        ("binance", 1, {"bare trio-websocket (ceiling)": ingest.bare, "algotrendy (binance)": ingest.ours,
                        "ccxt.pro watch_trades": ingest.ccxt_pro}),
        ("bybit", 10, {"bare trio-websocket (ceiling)": ingest.bare_bybit, "algotrendy (bybit)": ingest.ours_bybit,
                       "ccxt.pro watch_trades": ingest.ccxt_pro_bybit}),
        ("alpaca", 10, {"bare trio-websocket (ceiling)": ingest.bare_alpaca, "algotrendy (alpaca)": ingest.ours_alpaca,
                        "alpaca-py StockDataStream": ingest.alpaca_py}),
        ("okx", 1, {"bare trio-websocket (ceiling)": ingest.bare_okx, "algotrendy (okx)": ingest.ours_okx,
                    "ccxt.pro watch_trades": ingest.ccxt_pro_okx}),
        ("kraken", 10, {"bare trio-websocket (ceiling)": ingest.bare_kraken, "algotrendy (kraken)": ingest.ours_kraken,
                        "python-kraken-sdk SpotWSClient": ingest.kraken_sdk,
                        "ccxt.pro watch_trades": ingest.ccxt_pro_kraken}),
    ]
    for venue, batch, consumers in ingest_cases:
        for name, consumer in consumers.items():
            figure = report.add(Figure(f"ingest, {venue} trades", name, "trades/s", higher_is_better=True))
            total = count * (4 if batch > 1 else 2)

            def measure(consumer: Callable[..., ingest.Samples] = consumer, figure: Figure = figure,
                        venue: str = venue, batch: int = batch, total: int = total) -> None:
                for _ in range(runs):
                    # Binance: the batched firehose (the emulator's one-write-per-message feed capped
                    # every consumer near 25k msg/s here); Bybit's 10-trade messages never hit that cap.
                    with ingest.feed(total, 0, venue, batch, fast=venue == "binance") as f:
                        samples = consumer(f, total)
                    if samples.received < total:
                        figure.note = f"received {samples.received} of {total}"
                    figure.runs.append(samples.rate)

            _try(report, f"ingest {venue} {name}", measure)

    # 2. tick-to-subscriber latency at a steady 5,000 messages/s (one trade per message)
    # The bare receive loop is the floor: its tail is the feed's, the kernel's and the machine's.
    latency_cases = [("binance", "bare trio-websocket (ceiling)", ingest.bare),
                     ("binance", "algotrendy (binance)", ingest.ours),
                     ("binance", "ccxt.pro watch_trades", ingest.ccxt_pro),
                     ("bybit", "bare trio-websocket (ceiling)", ingest.bare_bybit),
                     ("bybit", "algotrendy (bybit)", ingest.ours_bybit),
                     ("bybit", "ccxt.pro watch_trades", ingest.ccxt_pro_bybit),
                     ("alpaca", "bare trio-websocket (ceiling)", ingest.bare_alpaca),
                     ("alpaca", "algotrendy (alpaca)", ingest.ours_alpaca),
                     ("alpaca", "alpaca-py StockDataStream", ingest.alpaca_py),
                     ("okx", "bare trio-websocket (ceiling)", ingest.bare_okx),
                     ("okx", "algotrendy (okx)", ingest.ours_okx),
                     ("okx", "ccxt.pro watch_trades", ingest.ccxt_pro_okx),
                     ("kraken", "bare trio-websocket (ceiling)", ingest.bare_kraken),
                     ("kraken", "algotrendy (kraken)", ingest.ours_kraken),
                     ("kraken", "python-kraken-sdk SpotWSClient", ingest.kraken_sdk),
                     ("kraken", "ccxt.pro watch_trades", ingest.ccxt_pro_kraken)]
    latency_figures = {(venue, name): {q: report.add(Figure(f"latency p{q * 100:g} @5k msg/s, {venue}", name, "ms",
                                                            higher_is_better=False)) for q in (0.5, 0.99, 0.999)}
                       for venue, name, _ in latency_cases}
    for _ in range(runs):  # consumers take turns run by run (see the round trips below)
        for venue, name, consumer in latency_cases:

            def measure_latency(consumer: Callable[..., ingest.Samples] = consumer,
                                figures: dict[float, Figure] = latency_figures[venue, name],
                                venue: str = venue) -> None:
                with ingest.feed(count // 2, 5000, venue, 1) as f:
                    samples = consumer(f, count // 2)
                for q, figure in figures.items():
                    figure.runs.append(samples.percentile(q))

            _try(report, f"latency {venue} {name}", measure_latency)

    # 3. order round trip (place + cancel a resting limit order). Binance: 60 rounds per fresh emulator
    # stays under 100 orders / 10 s; Bybit and OKX: every client is paced under their limits; Kraken: every
    # client rotates over 16 pairs, each left 3 s for its trading counter to decay; Alpaca: at most 40 rounds per
    # fresh emulator stay under 200 requests a minute (see roundtrip.py).
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
    for subscribers in (1, 8):
        figure = report.add(Figure(f"router fan-out, {subscribers} subscriber(s)", "algotrendy router",
                                   "events/s", higher_is_better=True))
        figure.runs = [measure_fanout(subscribers, 20_000 if args.quick else 200_000) for _ in range(runs)]

    # 5. recovery after a dropped private stream, default backoff (0.5 s base, full jitter)
    recovery = report.add(Figure("recovery to CONNECTED + reconciled", "algotrendy (binance)", "ms",
                                 higher_is_better=False, note="includes the jittered backoff U(0, 0.5 s)"))
    _try(report, "recovery", lambda: recovery.runs.extend(measure_recovery(seed) for seed in range(1, 2 + 2 * runs)))

    # 6. memory: our client with Binance and Bybit connected, 20 symbols each (emulators in their own
    # processes); the 10-minute soak's growth comes from `python -m bench.memory` (`make soak-memory`).
    _try(report, "memory", lambda: add_memory(report, runs))

    print(report.table())
    print()
    for metric, ours, peer in RATIOS:
        ratio = report.ratio(metric, ours, peer)
        if ratio is not None:
            print(f"{metric}: {ours} / {peer} = {ratio:.2f}")
    for path in report.write():
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
