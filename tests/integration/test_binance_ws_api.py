"""Our Binance client over the WebSocket API against the emulator: the user data subscription (the only way
since the spot listen keys were retired) and, with ``options.order_transport = "ws-api"``, orders placed and
cancelled on that connection -- with the same typed errors and the same fills as over REST.

Virtual clock; loopback only; every wait bounded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
import trio

from brokers.base import BrokerSettings
from brokers.binance.client import BinanceBroker
from emulators import EmulatedVenue, emulate
from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import Fill, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce


@pytest.fixture
async def venue() -> AsyncIterator[EmulatedVenue]:
    async with emulate("binance", seed=12) as emulated:
        yield emulated


def broker_for(venue: EmulatedVenue, **options: str) -> BinanceBroker:
    return BinanceBroker(BrokerSettings(venue="binance", rest_url=venue.rest_url, ws_url=venue.ws_url,
                                        credentials=Credentials.from_strings(venue.api_key, venue.api_secret),
                                        request_timeout=5.0, options=dict(options)))


def test_an_unknown_order_transport_is_refused() -> None:
    with pytest.raises(e.NotSupported, match="order_transport"):
        BinanceBroker(BrokerSettings(venue="binance", rest_url="http://x", ws_url="ws://x",
                                     options={"order_transport": "carrier-pigeon"}))


def test_the_websocket_api_url_follows_the_stream_host() -> None:
    def url(ws_url: str, private: str | None = None) -> str:
        return BinanceBroker(BrokerSettings(venue="binance", rest_url="http://x", ws_url=ws_url,
                                            private_ws_url=private)).ws_api_url()
    assert url("wss://stream.binance.com:9443") == "wss://ws-api.binance.com:443/ws-api/v3"
    assert url("wss://stream.testnet.binance.vision") == "wss://ws-api.testnet.binance.vision/ws-api/v3"
    assert url("ws://127.0.0.1:9000") == "ws://127.0.0.1:9000/ws-api/v3"
    assert url("ws://127.0.0.1:9000", "ws://elsewhere/ws-api/v3") == "ws://elsewhere/ws-api/v3"


@pytest.mark.parametrize("transport", ["rest", "ws-api"])
async def test_orders_and_user_data_over_the_websocket_api(venue: EmulatedVenue, transport: str,
                                                           autojump_clock: trio.abc.Clock) -> None:
    broker = broker_for(venue, order_transport=transport)
    await broker.connect()
    events: list[m.EventMsg] = []
    arrived, arrivals = trio.open_memory_channel[m.EventMsg](10_000)

    async def until(done: Callable[[], bool]) -> None:
        while not done():
            await arrivals.receive()

    try:
        async with trio.open_nursery() as nursery:
            async def collect(event: m.EventMsg) -> None:
                events.append(event)
                arrived.send_nowait(event)

            await nursery.start(broker.run_private_stream, collect)
            assert [c.path for c in venue.dialect.hub.connections] == ["/ws-api/v3"]  # no listen key anywhere
            with trio.fail_after(30):
                filled = await broker.place_order(OrderRequest(
                    venue="binance", symbol="BTC/USDT", side=Side.BUY, type=OrderType.MARKET, quantity=Decimal("0.6"),
                    client_order_id=f"ws-{transport}-1"))
                assert filled.status is OrderStatus.FILLED
                logged = [f for f in venue.engine.fill_log if f.client_order_id == f"ws-{transport}-1"]
                await until(lambda: len([x for x in events if isinstance(x, Fill)]) >= len(logged))
                fills = [x for x in events if isinstance(x, Fill)]
                assert [(f.trade_id, f.quantity, f.price) for f in fills] == \
                    [(str(f.trade_id), f.quantity, f.price) for f in logged]
                resting = await broker.place_order(OrderRequest(
                    venue="binance", symbol="ETH/USDT", side=Side.BUY, type=OrderType.LIMIT, quantity=Decimal("0.1"),
                    price=Decimal("1000"), time_in_force=TimeInForce.GTC, client_order_id=f"ws-{transport}-2"))
                cancelled = await broker.cancel_order("ETH/USDT", client_order_id=f"ws-{transport}-2")
                assert (resting.status, cancelled.status) == (OrderStatus.NEW, OrderStatus.CANCELED)
                with pytest.raises(e.InsufficientFunds):
                    await broker.place_order(OrderRequest(
                            venue="binance", symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT,
                        quantity=Decimal("100"), price=Decimal("60000"), time_in_force=TimeInForce.GTC))
                await until(lambda: any(isinstance(x, Order) and x.status is OrderStatus.CANCELED for x in events))
            nursery.cancel_scope.cancel()
    finally:
        await broker.disconnect()


async def test_orders_over_the_websocket_api_need_its_connection(venue: EmulatedVenue) -> None:
    broker = broker_for(venue, order_transport="ws-api")
    await broker.connect()
    try:
        with pytest.raises(e.VenueUnavailable, match="not open"):
            await broker.place_order(OrderRequest(venue="binance", symbol="BTC/USDT", side=Side.BUY, type=OrderType.MARKET,
                                                  quantity=Decimal("0.001")))
        assert not venue.engine.fill_log  # refused before anything was sent
    finally:
        await broker.disconnect()


async def test_the_end_of_the_subscription_ends_the_private_stream(venue: EmulatedVenue,
                                                                   autojump_clock: trio.abc.Clock) -> None:
    """The venue ends the subscription (here: the connection's 24 hours are up): the stream fails
    retryably, so the supervisor reconnects and reconciles."""
    broker = broker_for(venue)
    await broker.connect()
    try:
        async def ignore(event: m.EventMsg) -> None:
            return None

        with trio.fail_after(30), pytest.raises(BaseExceptionGroup) as ended:
            async with trio.open_nursery() as nursery:
                await nursery.start(broker.run_private_stream, ignore)
                venue.faults.expire_connections("private")
        assert ended.value.subgroup(e.VenueUnavailable) is not None
        assert ended.value.split(e.VenueUnavailable)[1] is None  # nothing but that
    finally:
        await broker.disconnect()
