"""The benchmark's own measuring tools: what they count must be what the README claims they count."""

from __future__ import annotations

import json

import trio
from trio_websocket import open_websocket_url

from bench.fastfeed import FastTradeFeed
from bench.ingest import STEADY_AFTER, Samples
from bench.roundtrip import WARMUP, Rounds


async def test_fast_feed_speaks_binance_subscribe_and_sends_every_trade_in_order() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(FastTradeFeed(300).serve)
        with trio.fail_after(10):
            async with open_websocket_url(f"ws://127.0.0.1:{port}/stream") as ws:
                await ws.send_message(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 7}))
                assert json.loads(await ws.get_message()) == {"result": None, "id": 7}
                stamps = []
                for _ in range(300):
                    message = json.loads(await ws.get_message())
                    assert message["stream"] == "btcusdt@trade" and message["data"]["e"] == "trade"
                    stamps.append(message["data"]["t"])
                assert stamps == sorted(stamps) and len(set(stamps)) == 300
            async with open_websocket_url(f"ws://127.0.0.1:{port}/ws/btcusdt@trade") as ws:
                raw = json.loads(await ws.get_message())  # a raw stream: the event itself, unwrapped
                assert raw["e"] == "trade" and raw["s"] == "BTCUSDT"
            async with open_websocket_url(f"ws://127.0.0.1:{port}/ws/some-listen-key") as ws:
                with trio.move_on_after(0.2) as quiet:
                    await ws.get_message()
                assert quiet.cancelled_caught  # a user-data socket stays silent
        nursery.cancel_scope.cancel()


def test_rounds_leave_warm_up_out_of_latency_and_cpu() -> None:
    rounds = Rounds()
    for n in range(WARMUP + 3):
        rounds.lap(n, start=0.0)
    assert len(rounds.latencies_ms) == 3
    assert rounds.cpu_ms_per_round >= 0.0


def test_latency_percentiles_leave_the_start_up_out() -> None:
    samples = Samples(latencies_ns=[50_000_000] * STEADY_AFTER + [1_000_000] * (2 * STEADY_AFTER + 1))
    assert samples.percentile(0.999) == 1.0  # the slow start (50 ms) is not the steady state
