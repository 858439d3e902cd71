"""nautilus_trader's Binance spot data client in its full node, as a peer in the ingest and latency
benchmarks: `TradingNode` -> `BinanceSpotDataClient` (its Rust websocket client, msgspec decoding in
Python) -> data engine -> message bus -> a strategy's ``on_trade_tick``.

The node is pointed at the benchmark's feed process: REST (``base_url_http``) at our Binance emulator,
which serves the ``exchangeInfo`` its instrument provider loads, and the market stream
(``base_url_ws``) at the same feed every other consumer reads (bench/fastfeed.py for throughput,
bench/feed.py's paced emulator stream for latency). ``testnet=True`` only skips its signed
``/sapi/v1/asset/tradeFee`` call (commission rates, which no market-data path needs and the emulator
does not serve); the URLs given override the testnet hosts. Its logging is set to ERROR, as a user
benchmarking it would.

nautilus_trader 1.221.0 (its last release for Python 3.11) comes with ``make bench`` only (the bench
extra in pyproject.toml); the product never imports it.
"""

from __future__ import annotations

import asyncio

from bench.ingest import IDLE_LIMIT, Feed, Samples


def nautilus_node(f: Feed, count: int) -> Samples:
    """Run a node until its strategy has seen ``count`` trades (or the feed went quiet)."""
    from nautilus_trader.adapters.binance import BINANCE, BinanceAccountType, BinanceDataClientConfig
    from nautilus_trader.adapters.binance.factories import BinanceLiveDataClientFactory
    from nautilus_trader.config import (
        InstrumentProviderConfig,
        LoggingConfig,
        StrategyConfig,
        TradingNodeConfig,
    )
    from nautilus_trader.live.node import TradingNode
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.trading.strategy import Strategy

    samples = Samples()
    instrument_id = InstrumentId.from_str("BTCUSDT.BINANCE")

    class TapeConfig(StrategyConfig, frozen=True):
        target: int

    class Tape(Strategy):
        """Counts trades and their stamps (the trade id), as our subscriber and ccxt.pro's loop do."""

        def __init__(self, config: TapeConfig) -> None:
            super().__init__(config)
            self.target = config.target
            self.done = asyncio.Event()

        def on_start(self) -> None:
            self.subscribe_trade_ticks(instrument_id)

        def on_trade_tick(self, tick: TradeTick) -> None:
            samples.note(int(tick.trade_id.value))
            if samples.received >= self.target:
                self.done.set()

    config = TradingNodeConfig(
        trader_id="BENCH-001",
        logging=LoggingConfig(log_level="ERROR"),
        data_clients={BINANCE: BinanceDataClientConfig(
            api_key="bench", api_secret="bench", account_type=BinanceAccountType.SPOT,
            base_url_http=f.rest_url, base_url_ws=f.ws_url, testnet=True,
            instrument_provider=InstrumentProviderConfig(load_ids=frozenset({str(instrument_id)})))},
        timeout_connection=30.0, timeout_disconnection=5.0, timeout_post_stop=0.5)
    loop = asyncio.new_event_loop()  # the node's own: `dispose` closes it
    node = TradingNode(config=config, loop=loop)
    tape = Tape(TapeConfig(target=count))
    node.trader.add_strategy(tape)
    node.add_data_client_factory(BINANCE, BinanceLiveDataClientFactory)
    node.build()

    async def run() -> None:
        running = asyncio.create_task(node.run_async())
        try:
            last = -1
            while not tape.done.is_set():  # bounded: a peer that loses trades never reaches the count
                try:
                    await asyncio.wait_for(tape.done.wait(), IDLE_LIMIT)
                except TimeoutError:
                    if samples.received == last:
                        break
                    last = samples.received
        finally:
            await node.stop_async()
            await running  # its engines' queues end with the stop

    try:
        loop.run_until_complete(run())
    finally:
        node.dispose()
    if samples.received == 0:  # never a silent zero in the table: say it did not take the feed
        raise RuntimeError(f"the nautilus node took no trade from the feed at {f.ws_url} within {IDLE_LIMIT}s "
                           "(its data client did not connect or did not subscribe; run with log_level INFO to see why)")
    return samples
