"""Market-data ingest and tick-to-subscriber latency, ours vs the bare transport vs ccxt.pro.

Each consumer connects to a fresh feed process (bench/feed.py) and takes ``count`` trades:
- ``bare trio-websocket``: receive loop, no decoding (the ceiling for a trio client);
- ``algotrendy``: the venue's broker stream -> msgspec decode -> router fan-out -> one subscriber;
- ``ccxt.pro``: ``watch_trades`` pointed at the same feed (asyncio);
- the official SDKs where they stream: python-kraken-sdk's v2 ``SpotWSClient``, alpaca-py's ``StockDataStream``.
Throughput = trades / (time from first to last received). Latency = receive time - send stamp.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import msgspec
import trio

STREAM_PATH = "/stream?streams=btcusdt@trade"
IDLE_LIMIT = 5.0  # seconds without a trade: the feed is done (or the consumer lost some); stop counting


@attrs.frozen
class Feed:
    rest_url: str
    ws_url: str
    api_key: str
    api_secret: str
    passphrase: str | None = None  # OKX keys have a third credential
    private_ws_url: str | None = None  # the emulator's private socket when the public one is the fast feed


@contextmanager
def feed(count: int, rate: float, venue: str = "binance", batch: int = 10, *, fast: bool = False) -> Iterator[Feed]:
    process = subprocess.Popen([sys.executable, "-m", "bench.feed", "--venue", venue, "--count", str(count),
                                "--rate", str(rate), "--batch", str(batch), *(["--fast"] if fast else [])],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().split()
        if not line or line[0] != "READY":
            raise RuntimeError(f"feed did not start: {line}")
        optional = [None if value == "-" else value for value in line[5:7]] + [None, None]
        yield Feed(*line[1:5], private_ws_url=optional[0], passphrase=optional[1])
    finally:
        process.terminate()
        process.wait(10)


STEADY_AFTER = 1000  # messages: 0.2 s at 5,000 msg/s


@attrs.define
class Samples:
    received: int = 0
    first: float = 0.0
    last: float = 0.0
    latencies_ns: list[int] = attrs.field(factory=list)

    def note(self, sent_ns: int) -> None:
        now = time.perf_counter_ns()
        if self.received == 0:
            self.first = now / 1e9
        self.last = now / 1e9
        self.received += 1
        self.latencies_ns.append(now - sent_ns)

    @property
    def rate(self) -> float:
        return (self.received - 1) / (self.last - self.first) if self.received > 1 else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile at steady state: the first STEADY_AFTER messages (start-up, for example a
        client still reconciling when the first trades arrive) are left out, for every consumer alike."""
        steady = self.latencies_ns[STEADY_AFTER:] if len(self.latencies_ns) > 2 * STEADY_AFTER else self.latencies_ns
        ordered = sorted(steady)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6  # ms


class _Stamp(msgspec.Struct):
    t: int


class _Wrapped(msgspec.Struct):
    data: _Stamp


def bare(f: Feed, count: int) -> Samples:
    from trio_websocket import open_websocket_url

    samples = Samples()
    decode = msgspec.json.Decoder(_Wrapped).decode

    async def run() -> None:
        async with open_websocket_url(f.ws_url + STREAM_PATH, max_message_size=1 << 20) as ws:
            while samples.received < count:
                message = await ws.get_message()
                samples.note(decode(message).data.t)  # the stamp only: no domain decoding

    trio.run(run)
    return samples


def ours(f: Feed, count: int) -> Samples:
    from brokers.base import BrokerSettings
    from protocol.credentials import Credentials

    return _through_router(BrokerSettings(venue="binance", rest_url=f.rest_url, ws_url=f.ws_url,
                                          credentials=Credentials.from_strings(f.api_key, f.api_secret)),
                           "BTC/USDT", count)


def _through_router(settings: Any, symbol: str, count: int) -> Samples:
    """Our client for ``settings.venue``: its trade stream -> decode -> router fan-out -> one subscriber."""
    from actors.handle import open_router_with
    from brokers import load_broker_factory
    from brokers.base import BrokerState, Subscription, broker_actor
    from protocol.messages import StreamChannel
    from protocol.model import Trade

    samples = Samples()
    venue, factory = settings.venue, load_broker_factory(settings.venue)
    state = BrokerState(venue=venue, subscriptions={Subscription(symbol, StreamChannel.TRADES)})

    async def run() -> None:
        async with open_router_with({venue: broker_actor(lambda: factory(settings), state)}) as router:
            subscriber = router.router.subscribe(kinds=["trade"], market_capacity=1_000_000)
            await router.wait_connected(venue)
            while samples.received < count:
                event = await subscriber.get()
                assert isinstance(event, Trade)
                samples.note(int(event.trade_id.rpartition("-")[2]))  # Alpaca's are "<exchange>-<id>"

    trio.run(run)
    return samples


def ccxt_pro(f: Feed, count: int) -> Samples:
    import ccxt.pro as ccxtpro

    samples = Samples()

    async def run() -> None:
        exchange = ccxtpro.binance({"options": {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]},
                                                "tradesLimit": count},
                                    "newUpdates": True})
        # ccxt connects to "<ws url>/<stream index>" ("/ws/0") and then SUBSCRIBEs; Binance takes that path,
        # the emulator refuses it as a stream named "0" (since its streams became strict). The "?" puts
        # ccxt's index in the query, so the emulator sees the bare "/ws" a live SUBSCRIBE is made on.
        exchange.urls["api"]["ws"]["spot"] = f.ws_url + "/ws?"
        for key in ("public", "private", "v3", "v1"):
            if key in exchange.urls["api"]:
                exchange.urls["api"][key] = f.rest_url + "/api/" + ("v1" if key == "v1" else "v3")
        await watch_trades(exchange, "BTC/USDT", count, samples)

    asyncio.run(run())
    return samples


async def watch_trades(exchange: Any, symbol: str, count: int, samples: Samples) -> None:
    """A ccxt.pro client's ``watch_trades`` until ``count`` trades, or `IDLE_LIMIT` without one (ccxt's trade
    cache can drop trades under load, and then the count is never reached); closes the client."""
    try:
        await exchange.load_markets()
        while samples.received < count:
            try:
                trades = await asyncio.wait_for(exchange.watch_trades(symbol), IDLE_LIMIT)
            except TimeoutError:
                break
            for trade in trades:
                samples.note(int(trade["id"]))
    finally:
        await exchange.close()


def median_latency(samples: list[Samples], q: float) -> float:
    return statistics.median(s.percentile(q) for s in samples)


# ------------------------------------------------------------------------------ Bybit (linear publicTrade)

BYBIT_PATH = "/v5/public/linear"


class _BybitStamp(msgspec.Struct):
    i: str


class _BybitTrades(msgspec.Struct):
    data: list[_BybitStamp] = []


def bare_bybit(f: Feed, count: int) -> Samples:
    """trio-websocket, subscribe, then read the stamps only (no domain decoding): the ceiling."""
    import json

    from trio_websocket import open_websocket_url

    samples = Samples()
    decode = msgspec.json.Decoder(_BybitTrades).decode

    async def run() -> None:
        async with open_websocket_url(f.ws_url + BYBIT_PATH, max_message_size=1 << 22) as ws:
            await ws.send_message(json.dumps({"op": "subscribe", "args": ["publicTrade.BTCUSDT"]}))
            while samples.received < count:
                for trade in decode(await ws.get_message()).data:
                    samples.note(int(trade.i))

    trio.run(run)
    return samples


def ours_bybit(f: Feed, count: int) -> Samples:
    from brokers.base import BrokerSettings
    from protocol.credentials import Credentials

    return _through_router(BrokerSettings(venue="bybit", rest_url=f.rest_url, ws_url=f.ws_url,
                                          credentials=Credentials.from_strings(f.api_key, f.api_secret),
                                          private_ws_url=f.private_ws_url, options={"categories": "linear"}),
                           "BTC/USDT:USDT", count)


def ccxt_pro_bybit(f: Feed, count: int) -> Samples:
    import ccxt.pro as ccxtpro

    samples = Samples()

    async def run() -> None:
        exchange = ccxtpro.bybit({"options": {"fetchMarkets": {"types": ["linear"]}, "fetchCurrencies": False,
                                              "tradesLimit": count},
                                  "newUpdates": True})
        for key in list(exchange.urls["api"]):
            if isinstance(exchange.urls["api"][key], str):
                exchange.urls["api"][key] = f.rest_url
        exchange.urls["api"]["ws"]["public"]["linear"] = f.ws_url + BYBIT_PATH
        await watch_trades(exchange, "BTC/USDT:USDT", count, samples)

    asyncio.run(run())
    return samples


# ------------------------------------------------------------------------------ OKX (BTC-USDT-SWAP trades)

OKX_PUBLIC = "/ws/v5/public"


class _OkxStamp(msgspec.Struct):
    tradeId: str


class _OkxTrades(msgspec.Struct):
    data: list[_OkxStamp] = []


def bare_okx(f: Feed, count: int) -> Samples:
    """trio-websocket, subscribe, then read the stamps only (no domain decoding): the ceiling."""
    import json

    from trio_websocket import open_websocket_url

    samples = Samples()
    decode = msgspec.json.Decoder(_OkxTrades).decode

    async def run() -> None:
        async with open_websocket_url(f.ws_url + OKX_PUBLIC, max_message_size=1 << 22) as ws:
            await ws.send_message(json.dumps({"op": "subscribe",
                                              "args": [{"channel": "trades", "instId": "BTC-USDT-SWAP"}]}))
            while samples.received < count:
                for trade in decode(await ws.get_message()).data:  # the subscribe answer has no data
                    samples.note(int(trade.tradeId))

    trio.run(run)
    return samples


def ours_okx(f: Feed, count: int) -> Samples:
    from brokers.base import BrokerSettings
    from protocol.credentials import Credentials

    return _through_router(BrokerSettings(venue="okx", rest_url=f.rest_url, ws_url=f.ws_url, testnet=True,  # demo keys
                                          credentials=Credentials.from_strings(f.api_key, f.api_secret,
                                                                               f.passphrase)),
                           "BTC/USDT:USDT", count)


def ccxt_pro_okx(f: Feed, count: int) -> Samples:
    import ccxt.pro as ccxtpro

    samples = Samples()

    async def run() -> None:
        exchange = ccxtpro.okx({"options": {"fetchMarkets": {"types": ["swap"]}, "tradesLimit": count},
                                "newUpdates": True})
        exchange.set_sandbox_mode(True)  # demo trading: the header our emulator's keys need
        exchange.urls["api"]["rest"] = f.rest_url
        exchange.urls["api"]["ws"] = f.ws_url + "/ws/v5"
        exchange.has["fetchCurrencies"] = False  # a private asset endpoint the emulator does not serve
        await watch_trades(exchange, "BTC/USDT:USDT", count, samples)

    asyncio.run(run())
    return samples


# ------------------------------------------------------------------------------ Alpaca (IEX trades of AAPL)

ALPACA_PATH = "/v2/iex"


class _AlpacaStamp(msgspec.Struct):
    i: int | None = None  # control messages (success, subscription) carry none


def bare_alpaca(f: Feed, count: int) -> Samples:
    """trio-websocket: auth, subscribe, then read the stamps only (no domain decoding): the ceiling."""
    import json

    from trio_websocket import open_websocket_url

    samples = Samples()
    decode = msgspec.json.Decoder(list[_AlpacaStamp]).decode

    async def run() -> None:
        async with open_websocket_url(f.ws_url + ALPACA_PATH, max_message_size=1 << 22) as ws:
            await ws.send_message(json.dumps({"action": "auth", "key": f.api_key, "secret": f.api_secret}))
            await ws.send_message(json.dumps({"action": "subscribe", "trades": ["AAPL"]}))
            while samples.received < count:
                for trade in decode(await ws.get_message()):
                    if trade.i is not None:
                        samples.note(trade.i)

    trio.run(run)
    return samples


def ours_alpaca(f: Feed, count: int) -> Samples:
    from brokers.base import BrokerSettings
    from protocol.credentials import Credentials

    return _through_router(BrokerSettings(venue="alpaca", rest_url=f.rest_url, ws_url=f.ws_url,
                                          credentials=Credentials.from_strings(f.api_key, f.api_secret)),
                           "AAPL", count)


def alpaca_py(f: Feed, count: int) -> Samples:
    """alpaca-py's `StockDataStream` (asyncio + websockets, MessagePack, pydantic models) on the same feed,
    run in its own thread as its ``run()`` wants; stopped once the count is in or the feed went quiet."""
    import threading

    from alpaca.data.enums import DataFeed
    from alpaca.data.live import StockDataStream

    samples = Samples()
    done = threading.Event()

    async def on_trade(trade: object) -> None:
        samples.note(trade.id)  # type: ignore[attr-defined]
        if samples.received >= count:
            done.set()

    stream = StockDataStream(f.api_key, f.api_secret, feed=DataFeed.IEX, url_override=f.ws_url + ALPACA_PATH)
    stream.subscribe_trades(on_trade, "AAPL")
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    seen = -1
    while not done.wait(IDLE_LIMIT) and samples.received != seen:  # stop when done, or idle for IDLE_LIMIT
        seen = samples.received
    loop = stream._loop
    if loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(stream.stop_ws(), loop).result(timeout=10)
    thread.join(10)
    return samples


# ------------------------------------------------------------------------------ Kraken (v2 trade, BTC/USD)

KRAKEN_PATH = "/v2"
KRAKEN_SUBSCRIBE = '{"method": "subscribe", "params": {"channel": "trade", "symbol": ["BTC/USD"]}}'


class _KrakenStamp(msgspec.Struct):
    trade_id: int


class _KrakenMessage(msgspec.Struct):
    channel: str = ""
    type: str = ""
    data: list[_KrakenStamp] | None = None


def bare_kraken(f: Feed, count: int) -> Samples:
    """trio-websocket, subscribe, then read the trade ids only (acks, status and heartbeats skipped): the
    ceiling."""
    from trio_websocket import open_websocket_url

    samples = Samples()
    decode = msgspec.json.Decoder(_KrakenMessage).decode

    async def run() -> None:
        async with open_websocket_url(f.ws_url + KRAKEN_PATH, max_message_size=1 << 22) as ws:
            await ws.send_message(KRAKEN_SUBSCRIBE)
            while samples.received < count:
                message = await ws.get_message()
                if '"channel":"trade"' not in message and '"channel": "trade"' not in message:
                    continue
                for trade in decode(message).data or ():
                    samples.note(trade.trade_id)

    trio.run(run)
    return samples


def ours_kraken(f: Feed, count: int) -> Samples:
    import tempfile

    from brokers.base import BrokerSettings
    from protocol.credentials import Credentials

    with tempfile.TemporaryDirectory(prefix="bench-kraken-nonce-") as nonces:
        return _through_router(BrokerSettings(venue="kraken", rest_url=f.rest_url, ws_url=f.ws_url,
                                              credentials=Credentials.from_strings(f.api_key, f.api_secret),
                                              options={"tier": "pro", "nonce_dir": nonces}), "BTC/USD", count)


def ccxt_pro_kraken(f: Feed, count: int) -> Samples:
    import ccxt.pro as ccxtpro

    samples = Samples()

    async def run() -> None:
        exchange = ccxtpro.kraken({"options": {"tradesLimit": count}, "newUpdates": True})
        for key in list(exchange.urls["api"]):
            if isinstance(exchange.urls["api"][key], str):
                exchange.urls["api"][key] = f.rest_url
        exchange.urls["api"]["ws"]["publicV2"] = f.ws_url + KRAKEN_PATH
        await watch_trades(exchange, "BTC/USD", count, samples)

    asyncio.run(run())
    return samples


def kraken_sdk(f: Feed, count: int) -> Samples:
    """python-kraken-sdk's v2 `SpotWSClient` (asyncio, aiohttp), its callback taking every message."""
    from kraken.spot import SpotWSClient

    samples = Samples()
    done = asyncio.Event()

    async def on_message(message: dict[str, object]) -> None:
        if message.get("channel") == "trade" and message.get("type") == "update":
            for trade in message["data"]:  # type: ignore[attr-defined]
                samples.note(int(trade["trade_id"]))
            if samples.received >= count:
                done.set()

    async def run() -> None:
        client = SpotWSClient(callback=on_message, rest_url=f.rest_url, ws_url=f.ws_url)
        await client.start()
        try:
            await client.subscribe(params={"channel": "trade", "symbol": ["BTC/USD"]})
            idle = 0
            while not done.is_set() and idle < IDLE_LIMIT * 10:  # bounded: stop once trades stop coming
                before = samples.received
                try:
                    await asyncio.wait_for(done.wait(), 0.1)
                except TimeoutError:
                    idle = idle + 1 if samples.received == before else 0
        finally:
            await client.close()

    asyncio.run(run())
    return samples
