"""The benchmark's own measuring tools: what they count must be what the README claims they count."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url

from bench.fastfeed import FastTradeFeed
from bench.ingest import STEADY_AFTER, Feed, Samples
from bench.isolate import isolated
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
            async with open_websocket_url(f"ws://127.0.0.1:{port}/ws-api/v3") as ws:
                await ws.send_message(json.dumps({"id": "s", "method": "userDataStream.subscribe.signature",
                                                  "params": {}}))
                assert json.loads(await ws.get_message())["result"] == {"subscriptionId": 0}
                with trio.move_on_after(0.2) as quiet:
                    await ws.get_message()
                assert quiet.cancelled_caught  # the user data subscription stays silent
        nursery.cancel_scope.cancel()


async def test_fast_feed_speaks_bybit_public_trades_and_refuses_the_rest() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(FastTradeFeed(95, "bybit", 10).serve)
        with trio.fail_after(10):
            async with open_websocket_url(f"ws://127.0.0.1:{port}/v5/public/linear") as ws:
                await ws.send_message(json.dumps({"op": "subscribe", "req_id": "r1", "args": ["tickers.BTCUSDT"]}))
                refused = json.loads(await ws.get_message())
                assert refused["success"] is False and refused["req_id"] == "r1"
                await ws.send_message(json.dumps({"op": "ping", "req_id": 3}))
                assert json.loads(await ws.get_message())["ret_msg"] == "pong"
                await ws.send_message(json.dumps({"op": "subscribe", "req_id": "r2", "args": ["publicTrade.BTCUSDT"]}))
                answer = json.loads(await ws.get_message())
                assert answer["success"] is True and answer["op"] == "subscribe" and answer["req_id"] == "r2"
                stamps = []
                while len(stamps) < 95:
                    message = json.loads(await ws.get_message())
                    assert message["topic"] == "publicTrade.BTCUSDT" and len(message["data"]) <= 10
                    stamps += [int(trade["i"]) for trade in message["data"]]
                assert stamps == sorted(stamps) and len(set(stamps)) == 95
            with pytest.raises(ConnectionRejected):  # the private socket is the emulator's, not the feed's
                async with open_websocket_url(f"ws://127.0.0.1:{port}/v5/private"):
                    pass
        nursery.cancel_scope.cancel()


async def test_a_paced_fast_feed_delivers_every_trade_in_order(autojump_clock: trio.abc.Clock) -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(FastTradeFeed(20, rate=100.0).serve)
        with trio.fail_after(10):
            async with open_websocket_url(f"ws://127.0.0.1:{port}/ws/btcusdt@trade") as ws:
                stamps = [json.loads(await ws.get_message())["t"] for _ in range(20)]
        assert stamps == sorted(stamps) and len(set(stamps)) == 20
        nursery.cancel_scope.cancel()


def fake_consumer(label: str, f: Feed, count: int) -> Samples:
    """What `test_a_consumer_runs_in_its_own_process` runs in a fresh interpreter."""
    if label == "fail":
        raise ValueError(f"no feed at {f.ws_url}")
    return Samples(received=count, first=1.0, last=2.0, latencies_ns=[os.getpid()] * count)


def test_a_consumer_runs_in_its_own_process_and_its_samples_come_back() -> None:
    feed = Feed("http://127.0.0.1:1", "ws://127.0.0.1:1", "key", "secret")
    samples = isolated("tests.unit.test_bench_tools:fake_consumer", "ok")(feed, 3)
    assert samples.received == 3 and samples.rate == 2.0
    assert samples.latencies_ns[0] != os.getpid()  # another process produced them
    with pytest.raises(RuntimeError, match=r"ValueError: no feed at ws://127\.0\.0\.1:1"):
        isolated("tests.unit.test_bench_tools:fake_consumer", "fail")(feed, 3)


def test_rounds_leave_warm_up_out_of_latency_and_cpu() -> None:
    rounds = Rounds()
    for n in range(WARMUP + 3):
        rounds.lap(n, start=0.0)
    assert len(rounds.latencies_ms) == 3
    assert rounds.cpu_ms_per_round >= 0.0


def test_latency_percentiles_leave_the_start_up_out() -> None:
    samples = Samples(latencies_ns=[50_000_000] * STEADY_AFTER + [1_000_000] * (2 * STEADY_AFTER + 1))
    assert samples.percentile(0.999) == 1.0  # the slow start (50 ms) is not the steady state


def test_the_websocket_api_round_trips_run_against_the_emulator() -> None:
    """A smoke run of the two WebSocket API round-trip clients (`make bench` runs them for real): each
    round places and cancels one order, through the WebSocket API, on an emulator in its own thread."""
    from bench.ingest import Feed
    from bench.roundtrip import bare_ws_api, ours_ws_api
    from tests.support.threaded import emulator_thread

    with emulator_thread("binance", seed=5) as venue:
        f = Feed(venue.rest_url, venue.ws_url, venue.api_key, venue.api_secret)
        for client in (bare_ws_api, ours_ws_api):
            rounds = client(f, 2)
            assert len(rounds.latencies_ms) == 2 and all(ms > 0 for ms in rounds.latencies_ms)
        placed = [o for o in venue.engine.all_orders() if o.account == "demo"]
        assert len(placed) == 2 * (WARMUP + 2) and all(o.status == "CANCELED" for o in placed)


@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")  # python-okx posts data= to httpx
def test_the_okx_round_trips_run_against_the_emulator() -> None:
    """A smoke run of the OKX round-trip clients (`make bench` runs them for real, with ccxt too): each round
    places and cancels one swap order on an emulator in its own thread, demo header and passphrase included."""
    from bench.ingest import Feed
    from bench.roundtrip import okx_bare_httpx, okx_bare_httpx_with_stream, okx_ours, okx_python_okx
    from tests.support.threaded import emulator_thread

    with emulator_thread("okx", seed=5) as venue:
        f = Feed(venue.rest_url, venue.ws_url, venue.api_key, venue.api_secret, venue.passphrase)
        clients = (okx_bare_httpx, okx_bare_httpx_with_stream, okx_ours, okx_python_okx)
        for client in clients:
            rounds = client(f, 2)
            assert len(rounds.latencies_ms) == 2 and all(ms > 0 for ms in rounds.latencies_ms)
        placed = [o for o in venue.engine.all_orders() if o.account == "demo"]
        assert len(placed) == len(clients) * (WARMUP + 2) and all(o.status == "CANCELED" for o in placed)


def test_the_okx_trade_feed_reaches_the_bare_and_our_consumers() -> None:
    """The OKX firehose (bench/feed.py in its own process, as `make bench` runs it) and two of its consumers."""
    from bench.ingest import bare_okx, feed, ours_okx

    with feed(300, 0, "okx") as f:
        assert f.passphrase
        for consumer in (bare_okx, ours_okx):
            samples = consumer(f, 300)
            assert samples.received == 300 and samples.rate > 0 and samples.percentile(0.5) > 0


def test_the_kraken_benchmark_clients_run_against_their_feed() -> None:
    """A smoke run of Kraken's bench clients (`make bench` runs them for real): the feed process serves its
    trades to the bare and our consumers, and each order round trip client places and cancels on the emulator,
    rotating over the synthetic pairs."""
    from bench.feed import KRAKEN_ORDER_PAIRS
    from bench.ingest import Feed, bare_kraken, feed, ours_kraken
    from bench.roundtrip import kraken_bare_httpx, kraken_ours, kraken_pairs, kraken_sdk
    from tests.support.threaded import emulator_thread

    for consumer in (bare_kraken, ours_kraken):
        with feed(200, 0, "kraken", 10) as f:
            samples = consumer(f, 200)
        assert samples.received == 200 and all(ns > 0 for ns in samples.latencies_ns)
    pairs = kraken_pairs()
    assert len({p.symbol for p in pairs}) == KRAKEN_ORDER_PAIRS >= WARMUP + 2  # no pair is used twice here

    def pro(venue: Any) -> None:
        venue.dialect.set_tier(venue.api_key, "pro")

    with emulator_thread("kraken", seed=5, extra_symbols=KRAKEN_ORDER_PAIRS, prepare=pro) as venue:
        f = Feed(venue.rest_url, venue.ws_url, venue.api_key, venue.api_secret)
        for client in (kraken_bare_httpx, kraken_ours, kraken_sdk):
            rounds = client(f, 2)
            assert len(rounds.latencies_ms) == 2 and all(ms > 0 for ms in rounds.latencies_ms)
        placed = [o for o in venue.engine.all_orders() if o.account == "demo"]
        assert len(placed) == 3 * (WARMUP + 2) and all(o.status == "CANCELED" for o in placed)
