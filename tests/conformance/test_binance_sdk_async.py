"""python-binance's asyncio side against the emulator: `AsyncClient` (REST and its WebSocket API calls) and
`BinanceSocketManager` (trade, mini ticker, depth, multiplex and the user socket, which python-binance
subscribes over the WebSocket API with ``userDataStream.subscribe.signature``).

Every call must succeed and parse, and what the SDK reports must equal the engine's own records. Only the
base URLs are changed, on the instances: ``API_URL`` / ``MARGIN_API_URL`` of the client, ``STREAM_URL`` of
the socket manager, and the client's ``ws_api`` (python-binance builds it from the hard-coded
``WS_API_URL`` in its constructor, so it is replaced with one on the emulator's ``/ws-api/v3``). The SDK runs
on its own asyncio loop in this thread; the emulator runs on trio in another, on the real clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

binance = pytest.importorskip("binance", reason="python-binance is a dev dependency (requirements/dev.lock)")
from binance import AsyncClient, BinanceSocketManager  # noqa: E402
from binance.exceptions import BinanceAPIException  # noqa: E402
from binance.ws.reconnecting_websocket import ReconnectingWebsocket  # noqa: E402
from binance.ws.websocket_api import WebsocketAPI  # noqa: E402

from emulators import EmulatedVenue  # noqa: E402
from tests.support.threaded import emulator_thread  # noqa: E402

TIMEOUT = 20


@pytest.fixture(autouse=True)
def quick_socket_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-binance's sockets notice a close only when a read times out (10 s by default): 2 s here."""
    monkeypatch.setattr(ReconnectingWebsocket, "TIMEOUT", 2)


@pytest.fixture(scope="module")
def live_binance() -> Iterator[EmulatedVenue]:
    with emulator_thread("binance", seed=44) as venue:
        yield venue


def pointed(venue: EmulatedVenue) -> AsyncClient:
    """An AsyncClient on the emulator (built without `create`, which would ping the real venue first)."""
    client = AsyncClient(venue.api_key, venue.api_secret)
    client.API_URL = f"{venue.rest_url}/api"
    client.MARGIN_API_URL = f"{venue.rest_url}/sapi"
    client.ws_api = WebsocketAPI(url=f"{venue.ws_url}/ws-api/v3")
    return client


def manager(client: AsyncClient, venue: EmulatedVenue) -> BinanceSocketManager:
    sockets = BinanceSocketManager(client)
    sockets.STREAM_URL = f"{venue.ws_url}/"
    return sockets


def run(body: Any) -> Any:
    return asyncio.run(asyncio.wait_for(body, TIMEOUT))


def test_async_rest_reads_equal_the_engine(live_binance: EmulatedVenue) -> None:
    venue, engine = live_binance, live_binance.engine

    async def body() -> None:
        client = pointed(venue)
        for _ in range(100):  # the first tick prints the first public trade
            if engine.symbols["BTCUSDT"].trades:
                break
            await asyncio.sleep(0.1)
        try:
            assert (await client.get_server_time())["serverTime"] > 0
            info = await client.get_exchange_info()
            assert {s["symbol"] for s in info["symbols"]} == set(engine.symbols)
            aggs = await client.get_aggregate_trades(symbol="BTCUSDT", limit=5)
            recent = await client.get_recent_trades(symbol="BTCUSDT", limit=5)
            history = await client.get_historical_trades(symbol="BTCUSDT", limit=5)
            assert [a["a"] for a in aggs] and all(t["id"] > 0 for t in recent + history)
            by_id = {t.trade_id: t for t in engine.symbols["BTCUSDT"].trades}
            for a in aggs:
                assert (Decimal(a["p"]), Decimal(a["q"])) == (by_id[a["a"]].price, by_id[a["a"]].quantity)
            klines = await client.get_klines(symbol="ETHUSDT", interval="1h", limit=3)
            assert len(klines) == 3 and klines[0][0] < klines[-1][0]
            assert Decimal((await client.get_avg_price(symbol="ETHUSDT"))["price"]) > 0
            fees = await client.get_trade_fee(symbol="ETHUSDT")
            assert fees == [{"symbol": "ETHUSDT", "makerCommission": "0.001", "takerCommission": "0.001"}]
            coins = {c["coin"]: c for c in await client.get_all_coins_info()}
            assert Decimal(coins["BTC"]["free"]) == engine.balance("demo", "BTC")[0]
            assert (await client.get_account_status()) == {"data": "Normal"}
            assert (await client.get_system_status())["status"] == 0
            assert (await client.get_account_api_permissions())["enableSpotAndMarginTrading"] is True
            with pytest.raises(BinanceAPIException) as bad:
                await client.get_order_book(symbol="BTCUSDT", limit="abc")
            assert bad.value.code == -1100
        finally:
            await client.close_connection()

    run(body())


def test_socket_manager_streams_parse(live_binance: EmulatedVenue) -> None:
    venue = live_binance

    async def body() -> dict[str, Any]:
        client = pointed(venue)
        sockets = manager(client, venue)
        got: dict[str, Any] = {}
        try:
            async with sockets.trade_socket("BTCUSDT") as stream:
                got["trade"] = await stream.recv()
            async with sockets.symbol_miniticker_socket("ETHUSDT") as stream:
                got["mini"] = await stream.recv()
            async with sockets.miniticker_socket() as stream:  # "!miniTicker@arr@1000ms"
                got["all mini"] = await stream.recv()
            async with sockets.depth_socket("BTCUSDT", depth=BinanceSocketManager.WEBSOCKET_DEPTH_5) as stream:
                got["depth5"] = await stream.recv()
            async with sockets.depth_socket("BTCUSDT", interval=100) as stream:
                got["diff"] = await stream.recv()
            async with sockets.kline_socket("ETHUSDT", interval="1m") as stream:
                got["kline"] = await stream.recv()
            async with sockets.multiplex_socket(["btcusdt@bookTicker", "ethusdt@aggTrade"]) as stream:
                got["multiplex"] = await stream.recv()
        finally:
            await client.close_connection()
        return got

    got = run(body())
    assert got["trade"]["e"] == "trade" and got["trade"]["s"] == "BTCUSDT"
    assert got["mini"]["e"] == "24hrMiniTicker" and got["mini"]["s"] == "ETHUSDT"
    assert isinstance(got["all mini"], list) and got["all mini"][0]["e"] == "24hrMiniTicker"
    assert len(got["depth5"]["bids"]) == 5 and got["depth5"]["lastUpdateId"] > 0
    assert got["diff"]["e"] == "depthUpdate" and got["diff"]["U"] <= got["diff"]["u"]
    assert got["kline"]["k"]["i"] == "1m" and got["kline"]["k"]["x"] in (True, False)
    assert got["multiplex"]["stream"] in ("btcusdt@bookTicker", "ethusdt@aggTrade")


def test_user_socket_hears_an_order_placed_over_rest(live_binance: EmulatedVenue) -> None:
    """The user socket subscribes over the WebSocket API; an order placed through REST shows up on it, and
    its executions equal the engine's fill log."""
    venue, engine = live_binance, live_binance.engine

    async def body() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        client = pointed(venue)
        sockets = manager(client, venue)
        reports: list[dict[str, Any]] = []
        try:
            async with sockets.user_socket() as stream:
                placed = await client.create_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.6",
                                                   newClientOrderId="sdk-user-1")
                while not reports or reports[-1]["X"] not in ("FILLED", "EXPIRED"):
                    event = await stream.recv()
                    if event.get("e") == "executionReport" and event["c"] == "sdk-user-1":
                        reports.append(event)
        finally:
            await client.close_connection()
        return placed, reports

    placed, reports = run(body())
    logged = [f for f in engine.fill_log if f.client_order_id == "sdk-user-1"]
    assert reports[0]["x"] == "NEW" and reports[0]["i"] == placed["orderId"]
    assert [(r["t"], Decimal(r["l"]), Decimal(r["L"]), Decimal(r["n"])) for r in reports if r["x"] == "TRADE"] == \
        [(f.trade_id, f.quantity, f.price, f.fee) for f in logged]
    assert Decimal(reports[-1]["z"]) == Decimal(placed["executedQty"]) == sum(f.quantity for f in logged)


def test_websocket_api_orders_equal_the_engine(live_binance: EmulatedVenue) -> None:
    venue, engine = live_binance, live_binance.engine

    async def body() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[Any]]:
        client = pointed(venue)
        try:
            placed = await client.ws_create_order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                                  quantity="0.2", price="1000.00", newClientOrderId="sdk-ws-1")
            status = await client.ws_get_order(symbol="ETHUSDT", orderId=placed["orderId"])
            listed = await client.ws_get_open_orders(symbol="ETHUSDT")
            cancelled = await client.ws_cancel_order(symbol="ETHUSDT", orderId=placed["orderId"])
            return placed, status, cancelled, listed
        finally:
            await client.close_connection()

    placed, status, cancelled, listed = run(body())
    order = engine.find("ETHUSDT", order_id=placed["orderId"], account="demo")
    assert placed["clientOrderId"] == order.client_order_id == "sdk-ws-1"
    assert Decimal(status["origQty"]) == order.quantity and status["status"] == "NEW"
    assert "sdk-ws-1" in [o["clientOrderId"] for o in listed]
    assert cancelled["status"] == order.status == "CANCELED"
