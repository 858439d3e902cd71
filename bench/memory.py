"""Memory of our client: Binance and Bybit connected, 20 symbols each (ticker + trades + book), and how
its RSS grows over a paper-trading soak.

Three kinds of process, so the figure is our client's alone:
- two emulators, ``python -m emulators binance|bybit --extra-symbols 16`` (their URLs read from stdout);
- one client, ``python -m bench.memory --client <json>``: `algotrendy.wiring.open_router` with an `AppConfig`
  whose venues are ``mode="live"`` with the emulators' URLs and credentials from BINANCE_API_KEY/... (the
  path a real deployment takes), one subscriber counting every event, optionally a small trading loop;
  it measures its own RSS (psutil, else /proc/self/status, else the peak from getrusage) and prints JSON.

Symbols: Binance BTC, ETH, SOL/USDT, ETH/BTC and S01..S16/USDT (synthetic spot markets); Bybit spot
BTC/USDT, ETH/USDT, linear BTC/USDT:USDT, ETH/USDT:USDT and S01..S16/USDT:USDT (synthetic perpetuals).
The emulators tick every 0.25 s, so each symbol gets ~4 ticker, ~4 trade and ~4 book updates a second.

``python -m bench.memory [--soak-minutes 10]`` runs both measurements, prints a table and writes
bench/results/memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
VENUES = ("binance", "bybit")
CHANNELS = ("ticker", "trades", "book")
TRADED: dict[str, list[str]] = {  # the soak's paper-trading symbols, per venue
    "binance": ["BTC/USDT", "S01/USDT", "S02/USDT"],
    "bybit": ["BTC/USDT", "BTC/USDT:USDT", "S01/USDT:USDT"],
}


def symbols_for(venue: str, count: int = 20) -> list[str]:
    """``count`` unified symbols of ``venue``: its default markets, then synthetic ones (S01, ...)."""
    if venue == "binance":
        defaults = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "ETH/BTC"]
        synthetic = [f"S{n:02d}/USDT" for n in range(1, count + 1)]
    else:
        defaults = ["BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"]
        synthetic = [f"S{n:02d}/USDT:USDT" for n in range(1, count + 1)]
    return (defaults + synthetic)[:count]


def _extra_for(count: int) -> int:
    return max(0, count - 4)


# ============================================================================== measuring RSS


def rss_mb(pid: int | None = None) -> float:
    """Resident set size in MB (psutil; else /proc/<pid>/status VmRSS; else this process's peak RSS)."""
    try:
        import psutil  # type: ignore[import-untyped]

        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except ImportError:
        pass
    except Exception:  # the process is gone
        return float("nan")
    try:
        with open(f"/proc/{pid or 'self'}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak, not current (Linux: KiB)
    return float("nan")


def rss_source() -> str:
    try:
        import psutil  # noqa: F401

        return "psutil"
    except ImportError:
        return "/proc/self/status" if os.path.exists("/proc/self/status") else "getrusage peak"


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per hour (0 with fewer than two samples)."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if not var:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var * 3600


# ============================================================================== the emulator processes


@contextmanager
def emulator_process(venue: str, *, extra_symbols: int, seed: int = 1, tick_interval: float = 0.25,
                     start_timeout: float = 30.0) -> Iterator[dict[str, Any]]:
    """``python -m emulators <venue> --port 0 --extra-symbols N`` as a child process; yields its URLs,
    demo credentials and pid. Killed on exit."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "emulators", venue, "--port", "0", "--seed", str(seed),
         "--extra-symbols", str(extra_symbols), "--tick-interval", str(tick_interval)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(start_timeout, process.kill)  # a child that never prints cannot hang us
    try:
        watchdog.start()
        info: dict[str, Any] = {"venue": venue, "pid": process.pid}
        keys = {"REST base URL": "rest_url", "websocket base URL": "ws_url", "demo API key": "api_key",
                "demo API secret": "api_secret"}
        assert process.stdout is not None
        while len(info) < 2 + len(keys):
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"{venue} emulator exited before printing its URLs (rc={process.poll()})")
            label, _, value = line.strip().partition(":")
            if label in keys:
                info[keys[label]] = value.strip()
        watchdog.cancel()
        yield info
    finally:
        watchdog.cancel()
        process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def emulators(symbols_per_venue: int, *, tick_interval: float = 0.25) -> Iterator[dict[str, dict[str, Any]]]:
    with ExitStack() as stack:
        yield {venue: stack.enter_context(emulator_process(venue, extra_symbols=_extra_for(symbols_per_venue),
                                                           seed=1 + i, tick_interval=tick_interval))
               for i, venue in enumerate(VENUES)}


def _run_client(plan: dict[str, Any], emus: dict[str, dict[str, Any]], timeout: float) -> dict[str, Any]:
    """Run the client process on ``plan``; its last stdout line is the JSON result."""
    env = dict(os.environ)
    for venue, info in emus.items():
        env[f"{venue.upper()}_API_KEY"] = info["api_key"]
        env[f"{venue.upper()}_API_SECRET"] = info["api_secret"]
    plan = {**plan, "endpoints": {v: {"rest_url": i["rest_url"], "ws_url": i["ws_url"]} for v, i in emus.items()}}
    process = subprocess.Popen([sys.executable, "-m", "bench.memory", "--client", json.dumps(plan)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parent.parent, env=env)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise RuntimeError(f"memory client timed out after {timeout:.0f} s: {err[-800:]}") from None
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"memory client failed (rc={process.returncode}): {err[-1500:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["emulator_rss_mb"] = {venue: round(rss_mb(info["pid"]), 1) for venue, info in emus.items()}
    return result


# ============================================================================== the two measurements


def measure_connected_rss(symbols_per_venue: int = 20, settle_seconds: float = 20.0) -> dict[str, Any]:
    """RSS of our client with Binance and Bybit connected, ``symbols_per_venue`` symbols each on ticker +
    trades + book, after every symbol has streamed and ``settle_seconds`` more; plus events/s meanwhile."""
    started = time.perf_counter()
    with emulators(symbols_per_venue) as emus:
        plan = {"mode": "connected", "symbols_per_venue": symbols_per_venue, "settle_seconds": settle_seconds}
        result = _run_client(plan, emus, timeout=settle_seconds + 180)
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    return result


def measure_soak(minutes: float = 10.0, sample_every: float = 30.0, *, warmup_seconds: float = 60.0,
                 symbols_per_venue: int = 20, trade_every: float = 5.0, traders: int = 1) -> dict[str, Any]:
    """The connected set-up plus paper trading (per venue, every ``trade_every`` s on a few symbols: spot
    market buy + sell, derivatives market buy + reduce-only sell, a resting limit placed then cancelled) for
    ``warmup_seconds`` + ``minutes``; RSS sampled every ``sample_every`` s. Start RSS is taken after the
    warm-up, growth is end - start, the slope a least-squares fit over the post-warm-up samples.
    ``object_growth`` names the types whose live (gc-tracked) instances grew most between the end of the
    warm-up and the end (a census after the last sample; tracemalloc would slow the client enough to make
    it fall behind the feed and change what is measured). ``traders`` paper traders per venue run side by
    side: enough of them pass the per-venue cap on remembered orders (5,000) within the soak, so the
    plateau after it shows (growth over the soak's second half is reported on its own)."""
    started = time.perf_counter()
    with emulators(symbols_per_venue) as emus:
        plan = {"mode": "soak", "symbols_per_venue": symbols_per_venue, "minutes": minutes,
                "sample_every": sample_every, "warmup_seconds": warmup_seconds, "trade_every": trade_every,
                "traders": traders}
        result = _run_client(plan, emus, timeout=warmup_seconds + minutes * 60 + 240)
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    return result


# ============================================================================== the client process


def _client_main(plan: dict[str, Any]) -> dict[str, Any]:
    import trio

    return trio.run(_client, plan)


async def _client(plan: dict[str, Any]) -> dict[str, Any]:
    import gc

    import trio

    from actors.config import AppConfig, VenueConfig
    from algotrendy.wiring import open_router
    from protocol import messages as m
    from protocol.model import Fill, Order

    count = int(plan["symbols_per_venue"])
    symbols = {venue: symbols_for(venue, count) for venue in VENUES}
    config = AppConfig(venues={
        venue: VenueConfig(name=venue, mode="live", rest_url=plan["endpoints"][venue]["rest_url"],
                           ws_url=plan["endpoints"][venue]["ws_url"], symbols=symbols[venue],
                           channels=[m.StreamChannel(c) for c in CHANNELS])
        for venue in VENUES})
    gc.collect()
    result: dict[str, Any] = {"rss_source": rss_source(), "rss_before_connect_mb": round(rss_mb(), 1),
                              "channels": list(CHANNELS), "symbols_per_venue": count}
    counts: dict[str, int] = {"events": 0, "fills": 0, "order_updates": 0}
    per_venue: dict[str, int] = dict.fromkeys(VENUES, 0)
    seen: dict[str, set[str]] = {venue: set() for venue in VENUES}
    everything_seen = trio.Event()
    wanted = sum(len(s) for s in symbols.values())

    async def count_events(subscriber: Any) -> None:
        async for event in subscriber:
            counts["events"] += 1
            venue = getattr(event, "venue", "")
            if venue in per_venue:
                per_venue[venue] += 1
            if isinstance(event, Fill):
                counts["fills"] += 1
            elif isinstance(event, Order):
                counts["order_updates"] += 1
            symbol = m.event_symbol(event)
            if symbol is not None and venue in seen and not everything_seen.is_set():
                seen[venue].add(symbol)
                if sum(len(seen[v] & set(symbols[v])) for v in VENUES) == wanted:
                    everything_seen.set()

    t0 = time.perf_counter()
    async with open_router(config) as router, trio.open_nursery() as nursery:
        subscriber = router.router.subscribe(market_capacity=100_000)
        nursery.start_soon(count_events, subscriber)
        with trio.fail_after(90):
            for venue in VENUES:
                await router.wait_connected(venue)
        result["connect_s"] = round(time.perf_counter() - t0, 2)
        with trio.move_on_after(60):
            await everything_seen.wait()
        result["first_event_every_symbol_s"] = round(time.perf_counter() - t0, 2)
        result["symbols_seen"] = {v: len(seen[v] & set(symbols[v])) for v in VENUES}

        if plan["mode"] == "connected":
            events0, t1 = counts["events"], time.perf_counter()
            await trio.sleep(float(plan["settle_seconds"]))
            window = time.perf_counter() - t1
            gc.collect()
            result.update(rss_mb=round(rss_mb(), 1), events_per_s=round((counts["events"] - events0) / window, 1),
                          settle_s=round(window, 1), python_blocks=sys.getallocatedblocks(),
                          dropped_by_counter=subscriber.dropped, events_by_venue=dict(per_venue))
        else:
            result.update(await _soak(router, plan, counts, subscriber))
            result["events_by_venue"] = dict(per_venue)
        nursery.cancel_scope.cancel()
    return result


def _census() -> Counter[str]:
    import gc

    return Counter(type(o).__qualname__ for o in gc.get_objects())


async def _soak(router: Any, plan: dict[str, Any], counts: dict[str, int], subscriber: Any) -> dict[str, Any]:
    import gc

    import trio

    warmup, minutes = float(plan["warmup_seconds"]), float(plan["minutes"])
    sample_every, trade_every = float(plan["sample_every"]), float(plan["trade_every"])
    orders = {"placed": 0, "cancelled": 0, "errors": 0}
    errors: list[str] = []
    samples: list[tuple[float, float]] = []  # (seconds since the soak began, MB)
    start = time.perf_counter()
    census: list[Counter[str]] = []

    async def trade(venue: str) -> None:
        instruments = {i.symbol: i for i in await router.instruments(venue)}
        while True:
            for symbol in TRADED[venue]:
                try:
                    await _round(router, venue, instruments[symbol], orders)
                except Exception as error:  # counted and reported, the soak goes on
                    orders["errors"] += 1
                    if len(errors) < 10:
                        errors.append(f"{venue} {symbol}: {type(error).__name__}: {str(error)[:120]}")
            await trio.sleep(trade_every)

    total = warmup + minutes * 60
    schedule = sorted({round(k * sample_every, 3) for k in range(int(total // sample_every) + 1)} | {warmup, total})
    post: list[tuple[float, float]] = []
    events_at_warmup, warm_t = 0, start + warmup
    async with trio.open_nursery() as nursery:
        for venue in VENUES:
            for _ in range(int(plan.get("traders", 1))):
                nursery.start_soon(trade, venue)
        for at in schedule:
            await trio.sleep(max(0.0, start + at - time.perf_counter()))
            gc.collect()
            sample = (round(time.perf_counter() - start, 1), round(rss_mb(), 2))
            samples.append(sample)
            if at >= warmup:
                if not post:
                    events_at_warmup, warm_t = counts["events"], time.perf_counter()
                post.append(sample)
                if len(post) == 1:
                    census.append(_census())  # after the sample, so the census's own list is not measured
        nursery.cancel_scope.cancel()
    now = time.perf_counter()
    grown = (_census() - census[0]).most_common(12)
    result: dict[str, Any] = {
        "warmup_s": warmup, "minutes": minutes, "sample_every_s": sample_every,
        "rss_start_mb": post[0][1], "rss_end_mb": post[-1][1], "rss_max_mb": max(v for _, v in post),
        "growth_mb": round(post[-1][1] - post[0][1], 2), "growth_mb_per_hour": round(slope_per_hour(post), 2),
        "second_half_growth_mb": round(post[-1][1] - post[len(post) // 2][1], 2),
        "second_half_mb_per_hour": round(slope_per_hour(post[len(post) // 2:]), 2),
        "traders_per_venue": int(plan.get("traders", 1)),
        "samples": samples, "orders_placed": orders["placed"], "orders_cancelled": orders["cancelled"],
        "order_errors": orders["errors"], "errors": errors, "fills": counts["fills"],
        "order_updates": counts["order_updates"], "events": counts["events"],
        "events_per_s": round((counts["events"] - events_at_warmup) / max(1e-9, now - warm_t), 1),
        "python_blocks": sys.getallocatedblocks(), "dropped_by_counter": subscriber.dropped,
        "object_growth": dict(grown),
    }
    return result


async def _round(router: Any, venue: str, instrument: Any, orders: dict[str, int]) -> None:
    """One paper-trading round, like the daemon's demo: buy and sell back at market, then a resting buy
    2% under the price, cancelled a second later unless it filled."""
    from decimal import ROUND_UP, Decimal

    import trio

    from protocol.model import MarketType, OrderType, Side

    symbol = instrument.symbol
    last = await router.get_current_price(venue, symbol)
    wanted = max(instrument.min_qty, instrument.min_notional * Decimal("1.5") / last, instrument.lot_size)
    qty = (wanted / instrument.lot_size).to_integral_value(rounding=ROUND_UP) * instrument.lot_size
    derivative = instrument.market_type in (MarketType.LINEAR, MarketType.INVERSE)
    await router.place_order(venue=venue, symbol=symbol, side=Side.BUY, type=OrderType.MARKET, quantity=qty)
    await router.place_order(venue=venue, symbol=symbol, side=Side.SELL, type=OrderType.MARKET, quantity=qty,
                             reduce_only=derivative)
    orders["placed"] += 2
    price = (last * Decimal("0.98") / instrument.tick_size).to_integral_value() * instrument.tick_size
    resting = await router.place_order(venue=venue, symbol=symbol, side=Side.BUY, type=OrderType.LIMIT,
                                       quantity=qty, price=price)
    orders["placed"] += 1
    await trio.sleep(1.0)
    current = await router.get_order_status(venue, symbol, order_id=resting.order_id)
    if not current.status.is_terminal:
        await router.cancel_order(venue, symbol, order_id=resting.order_id)
        orders["cancelled"] += 1


# ============================================================================== command line


def _table(connected: dict[str, Any] | None, soak: dict[str, Any] | None) -> str:
    rows: list[tuple[str, str]] = []
    if connected:
        rows += [
            ("RSS, 2 venues x 20 symbols x (ticker, trades, book)", f"{connected['rss_mb']:.1f} MB"),
            ("  of which before connecting (interpreter + imports)", f"{connected['rss_before_connect_mb']:.1f} MB"),
            ("  events/s while measuring", f"{connected['events_per_s']:.0f}"),
            ("  symbols streaming (binance, bybit)",
             f"{connected['symbols_seen']['binance']}, {connected['symbols_seen']['bybit']}"),
            ("  connect / measurement took", f"{connected['connect_s']:.1f} s / {connected['elapsed_s']:.0f} s"),
        ]
    if soak:
        rows += [
            (f"soak {soak['minutes']:g} min after {soak['warmup_s']:g} s warm-up: RSS start / end / max",
             f"{soak['rss_start_mb']:.1f} / {soak['rss_end_mb']:.1f} / {soak['rss_max_mb']:.1f} MB"),
            ("  growth (end - start) / least-squares slope",
             f"{soak['growth_mb']:+.2f} MB / {soak['growth_mb_per_hour']:+.1f} MB/h"),
            ("  second half: growth / slope",
             f"{soak['second_half_growth_mb']:+.2f} MB / {soak['second_half_mb_per_hour']:+.1f} MB/h"),
            ("  orders placed / fills / order updates / events",
             f"{soak['orders_placed']} / {soak['fills']} / {soak['order_updates']} / {soak['events']}"),
            ("  order errors", str(soak["order_errors"])),
        ]
    width = max(len(label) for label, _ in rows) if rows else 0
    return "\n".join(f"{label:{width}}  {value}" for label, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--soak-minutes", type=float, default=10.0, help="0 skips the soak")
    parser.add_argument("--sample-every", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=20.0)
    parser.add_argument("--trade-every", type=float, default=5.0, help="pause between a trader's rounds (s)")
    parser.add_argument("--traders", type=int, default=1, help="paper traders per venue, side by side")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(_client_main(json.loads(args.client))), flush=True)
        return
    connected = measure_connected_rss(20, args.settle)
    soak = measure_soak(args.soak_minutes, args.sample_every, warmup_seconds=args.warmup,
                        trade_every=args.trade_every, traders=args.traders) \
        if args.soak_minutes > 0 else None
    print(_table(connected, soak))
    if soak and soak["errors"]:
        print("order errors (first ones):", *soak["errors"], sep="\n  ")
    if soak and soak.get("object_growth"):
        print("live objects grown during the soak (type: count):",
              ", ".join(f"{name} {count:+d}" for name, count in soak["object_growth"].items()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "memory.json"
    path.write_text(json.dumps({"when": datetime.now(UTC).isoformat(), "python": sys.version.split()[0],
                                "machine": platform.platform(), "connected": connected, "soak": soak}, indent=2),
                    encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
