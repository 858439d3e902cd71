"""The official python-binance client, driven against our Binance emulator.

python-binance is a real client nobody here wrote: if its requests are accepted (paths, parameters,
signing) and its parsing succeeds on our answers, the emulator speaks Binance's dialect rather than
our own reading of it. The SDK is synchronous (requests), so the emulator runs in a thread with its
own trio loop on the real clock; every call is bounded by the SDK's request timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
import trio

binance = pytest.importorskip("binance", reason="python-binance is a dev dependency (requirements/dev.lock)")
from binance.client import Client  # noqa: E402
from binance.exceptions import BinanceAPIException  # noqa: E402

from emulators import EmulatedVenue, emulate  # noqa: E402


@pytest.fixture(scope="module")
def venue() -> Iterator[EmulatedVenue]:
    ready = threading.Event()
    stop = threading.Event()
    holder: dict[str, EmulatedVenue] = {}

    async def serve() -> None:
        async with emulate("binance", seed=21) as emulated:
            holder["venue"] = emulated
            ready.set()
            await trio.to_thread.run_sync(stop.wait)

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    assert ready.wait(30), "emulator did not start"
    yield holder["venue"]
    stop.set()
    thread.join(10)


def sdk(venue: EmulatedVenue, secret: str | None = None) -> Client:
    client = Client(venue.api_key, secret or venue.api_secret, ping=False, requests_params={"timeout": 10})
    client.API_URL = f"{venue.rest_url}/api"  # the only change from the real venue: the base URL
    return client


def test_public_market_data(venue: EmulatedVenue) -> None:
    client = sdk(venue)
    assert client.ping() == {}
    assert abs(client.get_server_time()["serverTime"] - __import__("time").time() * 1000) < 5000
    info = client.get_exchange_info()
    assert {"BTCUSDT", "ETHUSDT"} <= {s["symbol"] for s in info["symbols"]}
    symbol = client.get_symbol_info("BTCUSDT")
    assert symbol is not None
    filters = {f["filterType"]: f for f in symbol["filters"]}
    assert Decimal(filters["LOT_SIZE"]["stepSize"]) > 0 and Decimal(filters["PRICE_FILTER"]["tickSize"]) > 0
    klines = client.get_klines(symbol="BTCUSDT", interval=Client.KLINE_INTERVAL_1MINUTE, limit=50)
    assert len(klines) == 50 and all(Decimal(k[2]) >= Decimal(k[3]) for k in klines)
    assert klines[0][0] < klines[-1][0]
    book = client.get_order_book(symbol="BTCUSDT", limit=5)
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0]) and book["lastUpdateId"] > 0
    assert Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"]) > 0


def test_account_and_order_lifecycle(venue: EmulatedVenue) -> None:
    client = sdk(venue)
    account = client.get_account()
    assert account["canTrade"] and any(b["asset"] == "USDT" for b in account["balances"])
    price = Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"])
    limit_price = f"{(price * Decimal('0.9')).quantize(Decimal('0.01'))}"
    order = client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001",
                                price=limit_price, newClientOrderId="sdk-limit-1")
    assert order["status"] == "NEW" and order["clientOrderId"] == "sdk-limit-1"
    fetched = client.get_order(symbol="BTCUSDT", orderId=order["orderId"])
    assert fetched["origClientOrderId" if "origClientOrderId" in fetched else "clientOrderId"] == "sdk-limit-1"
    assert order["orderId"] in [o["orderId"] for o in client.get_open_orders(symbol="BTCUSDT")]
    cancelled = client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
    assert cancelled["status"] == "CANCELED"
    market = client.order_market_buy(symbol="BTCUSDT", quantity="0.001")
    assert market["status"] == "FILLED" and market["fills"]
    assert {o["orderId"] for o in client.get_all_orders(symbol="BTCUSDT")} >= {order["orderId"], market["orderId"]}
    trades = client.get_my_trades(symbol="BTCUSDT")
    assert market["orderId"] in {t["orderId"] for t in trades}
    with pytest.raises(BinanceAPIException) as gone:  # retired on 2026-02-20: the gateway's 410 page
        client.stream_get_listen_key()
    assert gone.value.status_code == 410 and "410 Gone" in gone.value.message


def test_errors_arrive_as_the_sdk_expects(venue: EmulatedVenue) -> None:
    with pytest.raises(BinanceAPIException) as bad_signature:
        sdk(venue, secret="wrong-secret").get_account()
    assert bad_signature.value.code == -1022
    with pytest.raises(BinanceAPIException) as lot_size:
        sdk(venue).create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.0010001", price="1000")
    assert lot_size.value.code == -1013 and "LOT_SIZE" in lot_size.value.message
    with pytest.raises(BinanceAPIException) as missing:
        sdk(venue).get_order(symbol="BTCUSDT", orderId=999999)
    assert missing.value.code == -2013
