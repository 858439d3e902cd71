"""Synthetic instruments (``emulate(..., extra_symbols=N)``) for load tests: both dialects list them, our
brokers connect, see them, stream them and trade them; with ``extra_symbols=0`` nothing changes.

Real clock, loopback only, every wait bounded.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
import trio

import brokers
from brokers.base import BrokerSettings, Subscription
from emulators import emulate
from emulators.bybit import BYBIT_INSTRUMENTS, synthetic_linear_instruments
from emulators.engine import DEFAULT_BALANCES, DEFAULT_INSTRUMENTS, Exchange, synthetic_instruments
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import MarketType, OrderRequest, OrderType, Side

SYNTHETIC = 20


def test_synthetic_specs_are_deterministic_and_distinct() -> None:
    specs = synthetic_instruments(SYNTHETIC)
    assert [s.symbol for s in specs] == [f"S{n:02d}USDT" for n in range(1, SYNTHETIC + 1)]
    assert {s.base for s in specs} == {f"S{n:02d}" for n in range(1, SYNTHETIC + 1)}
    assert len({s.start_price for s in specs}) == SYNTHETIC
    assert synthetic_instruments(5) == specs[:5]  # the n-th one does not depend on the count
    linear = synthetic_linear_instruments(3)
    assert [(s.symbol, s.name, s.kind) for s in linear] == [(f"linear:S0{n}USDT", f"S0{n}USDT", "linear")
                                                             for n in (1, 2, 3)]


async def test_zero_extra_symbols_changes_nothing() -> None:
    for venue, defaults in (("binance", DEFAULT_INSTRUMENTS), ("bybit", BYBIT_INSTRUMENTS)):
        async with emulate(venue, seed=5, tick_interval=3600, extra_symbols=0) as emulated:
            assert [s.spec for s in emulated.engine.symbols.values()] == defaults
            reference = Exchange(seed=5, instruments=list(defaults))
            for _ in range(50):
                emulated.engine.tick()
                reference.tick()
            assert {k: s.mid for k, s in emulated.engine.symbols.items()} == \
                {k: s.mid for k, s in reference.symbols.items()}
    async with emulate("binance", seed=5, tick_interval=3600) as emulated:
        assert emulated.engine.balances["demo"] == {a: [v, Decimal(0)] for a, v in DEFAULT_BALANCES.items()}


async def test_dialects_list_the_synthetic_instruments() -> None:
    with trio.fail_after(20):
        async with emulate("binance", seed=3, extra_symbols=SYNTHETIC) as emulated, \
                httpx.AsyncClient(base_url=emulated.rest_url) as http:
            symbols = [s["symbol"] for s in (await http.get("/api/v3/exchangeInfo")).json()["symbols"]]
            assert symbols == [s.symbol for s in DEFAULT_INSTRUMENTS] + [f"S{n:02d}USDT" for n in range(1, 21)]
            assert emulated.engine.balance("demo", "S07") == (Decimal(1000), Decimal(0))
        async with emulate("bybit", seed=3, extra_symbols=SYNTHETIC) as emulated, \
                httpx.AsyncClient(base_url=emulated.rest_url) as http:
            listed = {}
            for category in ("spot", "linear", "inverse"):
                body = (await http.get("/v5/market/instruments-info", params={"category": category})).json()
                listed[category] = [i["symbol"] for i in body["result"]["list"]]
            defaults = {c: [s.name for s in BYBIT_INSTRUMENTS if s.kind == c] for c in listed}
            assert listed["spot"] == defaults["spot"] and listed["inverse"] == defaults["inverse"]
            assert listed["linear"] == defaults["linear"] + [f"S{n:02d}USDT" for n in range(1, 21)]


@pytest.mark.parametrize(("venue", "symbol", "market_type"), [("binance", "S20/USDT", MarketType.SPOT),
                                                               ("bybit", "S20/USDT:USDT", MarketType.LINEAR)])
async def test_our_brokers_see_stream_and_trade_them(venue: str, symbol: str, market_type: MarketType) -> None:
    with trio.fail_after(30):
        async with emulate(venue, seed=3, tick_interval=0.05, extra_symbols=SYNTHETIC) as emulated:
            settings = BrokerSettings(venue=venue, rest_url=emulated.rest_url, ws_url=emulated.ws_url,
                                      credentials=Credentials.from_strings(emulated.api_key, emulated.api_secret),
                                      request_timeout=5.0)
            broker = brokers.load_broker_factory(venue)(settings)
            await broker.connect()
            try:
                names = {i.symbol for i in broker.instruments()}
                suffix = ":USDT" if venue == "bybit" else ""
                assert {f"S{n:02d}/USDT{suffix}" for n in range(1, 21)} <= names
                instrument = broker.instrument(symbol)
                assert instrument.market_type is market_type
                ticker = await broker.get_ticker(symbol)
                assert ticker.last > 0

                seen: set[type] = set()
                done = trio.Event()

                async def emit(event: m.EventMsg) -> None:
                    if getattr(event, "symbol", None) == symbol:
                        seen.add(type(event))
                        if len(seen) >= 2:
                            done.set()

                subscriptions = {Subscription(symbol, channel) for channel in
                                 (m.StreamChannel.TICKER, m.StreamChannel.TRADES, m.StreamChannel.BOOK)}
                async with trio.open_nursery() as nursery:
                    await nursery.start(broker.run_public_stream, subscriptions, emit)
                    await done.wait()
                    nursery.cancel_scope.cancel()

                order = await broker.place_order(OrderRequest(venue=venue, symbol=symbol, side=Side.BUY,
                                                              type=OrderType.MARKET,
                                                              quantity=Decimal("1"), client_order_id="synthetic-1"))
                assert order.filled_quantity == Decimal("1")
            finally:
                with trio.CancelScope(shield=True):
                    await broker.disconnect()
