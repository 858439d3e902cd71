"""A trade firehose for benchmarks, in its own process, in the Binance, Bybit, OKX, Kraken or Alpaca dialect.

It is the venue's emulator with its price ticks switched off; every websocket that subscribes to
``btcusdt@trade`` (Binance), ``publicTrade.BTCUSDT`` on the linear socket (Bybit), ``trades`` of
``BTC-USDT-SWAP`` on ``/ws/v5/public`` (OKX), the v2 ``trade`` channel of ``BTC/USD`` (Kraken) or,
authenticated, ``trades`` of ``AAPL`` on ``/v2/iex`` (Alpaca) receives ``--count`` trades at ``--rate``
messages per second (0 = as fast as the consumer takes them). Binance and OKX send one trade per message, as
they do; Bybit, Kraken and Alpaca batch ``--batch`` trades per message, as their trade channels do (Alpaca's
in the encoding the socket asked for: JSON, or MessagePack as alpaca-py asks). Alpaca's market clock is
pinned inside a regular session, so orders trade. Each trade id is the send time from
`time.perf_counter_ns()` (CLOCK_MONOTONIC, shared by all processes on the machine), so a consumer can measure
tick-to-subscriber latency.

Kraken's feed also lists `KRAKEN_ORDER_PAIRS` synthetic USD pairs and makes the demo key a Pro key: the order
round trips rotate over those pairs, because Kraken charges a young order's cancel 8 on the pair's trading
counter (bench/roundtrip.py).

With ``--fast`` (Binance and Bybit) the public trade socket is bench/fastfeed.py's (the same messages,
framed cheaply, many per write, or one per write at ``--rate``); REST and the private socket stay the
emulator's.

Run: ``python -m bench.feed --venue bybit --count 50000`` prints ``READY <rest_url> <ws_url> <key> <secret>
<private_ws_url> <passphrase>`` (the emulator's private socket where the public one is the fast feed's, and
OKX's third credential; ``-`` where there is none).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

import trio

from bench.fastfeed import TRADE_STREAM as STREAM
from bench.fastfeed import FastTradeFeed, trade_message
from emulators import emulate
from emulators.engine import wall_ms
from emulators.engine.server import WsConnection

BYBIT_TOPIC = "publicTrade.BTCUSDT"
ALPACA_TOPIC = "trades|AAPL"
ALPACA_SESSION = datetime(2026, 12, 1, 15, tzinfo=UTC)  # Tuesday 10:00 New York: a regular session
KRAKEN_TOPIC = "trade:BTC/USD"
KRAKEN_ORDER_PAIRS = 16


async def fire_kraken(conn: WsConnection, count: int, rate: float, batch: int) -> None:
    start = time.perf_counter()
    for n in range(0, count, batch):
        if rate:
            await trio.sleep(max(start + n / batch / rate - time.perf_counter(), 0.0))  # as in fire_bybit
        while conn.outgoing_tx.statistics().current_buffer_used > 2000:  # noqa: ASYNC110 - polls a queue
            await trio.sleep(0.0005)
        stamp, when = time.perf_counter_ns(), time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        trades = [{"symbol": "BTC/USD", "side": "buy" if (n + k) % 2 else "sell", "price": 65000.1, "qty": 0.001,
                   "ord_type": "market", "trade_id": stamp + k, "timestamp": when}
                  for k in range(min(batch, count - n))]
        conn.send(json.dumps({"channel": "trade", "type": "update", "data": trades}))


async def fire_bybit(conn: WsConnection, count: int, rate: float, batch: int) -> None:
    start = time.perf_counter()
    for n in range(0, count, batch):
        if rate:
            delay = start + n / batch / rate - time.perf_counter()
            # Behind schedule, still yield: the pump must send each message soon after its stamp,
            # or a catch-up burst would sit in the queue and count as the consumer's latency.
            await trio.sleep(max(delay, 0.0))
        while conn.outgoing_tx.statistics().current_buffer_used > 2000:  # noqa: ASYNC110 - polls a queue
            await trio.sleep(0.0005)
        now_ms, stamp = wall_ms(), time.perf_counter_ns()
        trades = [{"T": now_ms, "s": "BTCUSDT", "S": "Buy" if (n + k) % 2 else "Sell", "v": "0.001",
                   "p": "65000.10", "L": "PlusTick", "i": str(stamp + k), "BT": False}
                  for k in range(min(batch, count - n))]
        conn.send(json.dumps({"topic": BYBIT_TOPIC, "type": "snapshot", "ts": now_ms, "data": trades}))


async def fire_alpaca(conn: WsConnection, count: int, rate: float, batch: int) -> None:
    from emulators.alpaca import ws as alpaca_ws

    start = time.perf_counter()
    for n in range(0, count, batch):
        if rate:
            await trio.sleep(max(start + n / batch / rate - time.perf_counter(), 0.0))  # as above
        while conn.outgoing_tx.statistics().current_buffer_used > 2000:  # noqa: ASYNC110 - polls a queue
            await trio.sleep(0.0005)
        now_ms, stamp = wall_ms(), time.perf_counter_ns()
        trades: list[dict[str, Any]] = [
            {"T": "t", "S": "AAPL", "i": stamp + k, "x": "V", "p": 230.1, "s": 1, "c": ["@"], "z": "C",
             "t": alpaca_ws.Stamp(now_ms)} for k in range(min(batch, count - n))]
        alpaca_ws.send_data(conn, trades)


OKX_ARG = {"channel": "trades", "instId": "BTC-USDT-SWAP"}


def okx_subscribed(conn: WsConnection) -> bool:
    return OKX_ARG in conn.state.get("args", {}).values()


async def fire_okx(conn: WsConnection, count: int, rate: float) -> None:
    start = time.perf_counter()
    for n in range(count):
        if rate:
            await trio.sleep(max(start + n / rate - time.perf_counter(), 0.0))  # as in `fire`
        while conn.outgoing_tx.statistics().current_buffer_used > 2000:  # noqa: ASYNC110 - polls a queue
            await trio.sleep(0.0005)
        trade = {"instId": "BTC-USDT-SWAP", "tradeId": str(time.perf_counter_ns()), "px": "65000.1", "sz": "1",
                 "side": "buy" if n % 2 else "sell", "ts": str(wall_ms()), "count": "1", "source": "0", "seqId": n}
        conn.send(json.dumps({"arg": OKX_ARG, "data": [trade]}))


async def fire(conn: WsConnection, count: int, rate: float) -> None:
    combined = conn.state.get("combined", False)
    start = time.perf_counter()
    for n in range(count):
        if rate:
            due = start + n / rate
            delay = due - time.perf_counter()
            await trio.sleep(max(delay, 0.0))  # as above
        # Keep the outgoing queue short: we measure the consumer, not a backlog.
        while conn.outgoing_tx.statistics().current_buffer_used > 2000:  # noqa: ASYNC110 - polls a queue
            await trio.sleep(0.0005)
        conn.send(trade_message(n, combined=combined))


async def main(venue_name: str, count: int, rate: float, port: int, batch: int, fast: bool) -> None:
    pinned: dict[str, Any] = {"market_time": ALPACA_SESSION} if venue_name == "alpaca" else {}
    extra = KRAKEN_ORDER_PAIRS if venue_name == "kraken" else 0
    async with emulate(venue_name, seed=1, port=port, tick_interval=3600.0, extra_symbols=extra, **pinned) as venue:
        dialect = venue.dialect
        if venue_name == "kraken":
            dialect.set_tier(venue.api_key, "pro")
        started: set[int] = set()
        async with trio.open_nursery() as nursery:
            ws_url, private_ws_url = venue.ws_url, "-"
            if fast:  # trades from bench/fastfeed.py; REST and the private socket stay the emulator's
                ws_port = await nursery.start(FastTradeFeed(count, venue_name, batch, rate).serve)
                ws_url = f"ws://127.0.0.1:{ws_port}"
                if venue_name == "bybit":
                    private_ws_url = f"{venue.ws_url}/v5/private"
            passphrase = venue.passphrase or "-"
            print(f"READY {venue.rest_url} {ws_url} {venue.api_key} {venue.api_secret} {private_ws_url} {passphrase}",
                  flush=True)
            while True:
                for conn in list(dialect.connections):
                    if id(conn) in started:
                        continue
                    if venue_name == "binance" and STREAM in conn.topics:
                        started.add(id(conn))
                        nursery.start_soon(fire, conn, count, rate)
                    elif venue_name == "bybit" and BYBIT_TOPIC in conn.topics and \
                            conn.state.get("category") == "linear":
                        started.add(id(conn))
                        nursery.start_soon(fire_bybit, conn, count, rate, batch)
                    elif venue_name == "alpaca" and ALPACA_TOPIC in conn.topics and conn.state.get("authed"):
                        started.add(id(conn))
                        nursery.start_soon(fire_alpaca, conn, count, rate, batch)
                    elif venue_name == "okx" and okx_subscribed(conn):
                        started.add(id(conn))
                        nursery.start_soon(fire_okx, conn, count, rate)
                    elif venue_name == "kraken" and KRAKEN_TOPIC in conn.topics:
                        started.add(id(conn))
                        nursery.start_soon(fire_kraken, conn, count, rate, batch)
                await trio.sleep(0.005)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--venue", choices=["binance", "bybit", "okx", "kraken", "alpaca"], default="binance")
    parser.add_argument("--batch", type=int, default=10, help="Bybit, Kraken and Alpaca trades per message")
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fast", action="store_true",
                        help="Binance and Bybit: the trade socket is bench/fastfeed.py's, cheaply framed "
                             "messages, batched (or paced one by one with --rate)")
    args = parser.parse_args()
    if args.fast and args.venue not in ("binance", "bybit"):
        parser.error("--fast speaks Binance and Bybit (bench/fastfeed.py)")
    trio.run(partial(main, args.venue, args.count, args.rate, args.port, args.batch, args.fast))
