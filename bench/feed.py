"""A Binance-dialect trade firehose for benchmarks, in its own process.

It is the Binance emulator with its price ticks switched off; every websocket that subscribes to
``btcusdt@trade`` receives ``--count`` trade messages at ``--rate`` per second (0 = as fast as the
consumer takes them). Each trade id is the send time from `time.perf_counter_ns()` (CLOCK_MONOTONIC,
shared by all processes on the machine), so a consumer can measure tick-to-subscriber latency.

Run: ``python -m bench.feed --count 50000 --rate 0`` prints ``READY <rest_url> <ws_url>``.
"""

from __future__ import annotations

import argparse
import json
import time
from functools import partial

import trio

from emulators import emulate
from emulators.engine.market import wall_ms
from emulators.engine.server import WsConnection

STREAM = "btcusdt@trade"


async def fire(conn: WsConnection, count: int, rate: float) -> None:
    combined = conn.state.get("combined", False)
    start = time.perf_counter()
    for n in range(count):
        if rate:
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await trio.sleep(delay)
        # Keep the outgoing queue short: we measure the consumer, not a backlog.
        while conn.outgoing_tx.statistics().current_buffer_used > 2000:  # noqa: ASYNC110 - polls a queue
            await trio.sleep(0.0005)
        now_ms = wall_ms()
        trade = {"e": "trade", "E": now_ms, "s": "BTCUSDT", "t": time.perf_counter_ns(), "p": "65000.10",
                 "q": "0.00100000", "T": now_ms, "m": n % 2 == 0, "M": True}
        conn.send(json.dumps({"stream": STREAM, "data": trade}) if combined else json.dumps(trade))


async def main(count: int, rate: float, port: int) -> None:
    async with emulate("binance", seed=1, port=port, tick_interval=3600.0) as venue:
        dialect = venue.dialect
        started: set[int] = set()
        print(f"READY {venue.rest_url} {venue.ws_url} {venue.api_key} {venue.api_secret}", flush=True)
        async with trio.open_nursery() as nursery:
            while True:
                for conn in list(dialect.connections):
                    if id(conn) not in started and STREAM in conn.state.get("streams", ()):
                        started.add(id(conn))
                        nursery.start_soon(fire, conn, count, rate)
                await trio.sleep(0.005)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    trio.run(partial(main, args.count, args.rate, args.port))
