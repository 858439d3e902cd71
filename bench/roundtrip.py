"""Order round trip: place + cancel one resting limit order, against the Binance emulator process.

- ``bare httpx``: two signed requests with a kept-alive httpx.AsyncClient under trio (the floor);
- ``algotrendy``: through the router (risk checks, idempotency book-keeping, broker actor, REST);
- ``python-binance``: the official SDK (requests, synchronous);
- ``ccxt``: ccxt's async binance client (aiohttp).
Each yields per-iteration latencies in milliseconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from decimal import Decimal
from urllib.parse import urlencode

import trio

from bench.ingest import Feed

PRICE = "50000.00"
QTY = "0.00100"


def _sign(secret: str, query: str) -> str:
    return hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


def bare_httpx(f: Feed, rounds: int) -> list[float]:
    import httpx

    out: list[float] = []

    async def run() -> None:
        async with httpx.AsyncClient(base_url=f.rest_url, headers={"X-MBX-APIKEY": f.api_key}) as client:
            for n in range(rounds + 5):
                start = time.perf_counter()
                q = urlencode({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                               "quantity": QTY, "price": PRICE, "newClientOrderId": f"bare{n}",
                               "timestamp": int(time.time() * 1000)})
                placed = await client.post(f"/api/v3/order?{q}&signature={_sign(f.api_secret, q)}")
                placed.raise_for_status()
                q = urlencode({"symbol": "BTCUSDT", "orderId": placed.json()["orderId"],
                               "timestamp": int(time.time() * 1000)})
                (await client.delete(f"/api/v3/order?{q}&signature={_sign(f.api_secret, q)}")).raise_for_status()
                if n >= 5:  # warm-up rounds are not counted
                    out.append((time.perf_counter() - start) * 1000)

    trio.run(run)
    return out


def ours(f: Feed, rounds: int) -> list[float]:
    from actors.router import open_router_with
    from brokers.base import BrokerSettings, BrokerState, broker_actor
    from brokers.binance import create_broker
    from protocol.credentials import Credentials

    out: list[float] = []
    settings = BrokerSettings(venue="binance", rest_url=f.rest_url, ws_url=f.ws_url,
                              credentials=Credentials.from_strings(f.api_key, f.api_secret))

    async def run() -> None:
        actor = broker_actor(lambda: create_broker(settings), BrokerState(venue="binance"))
        async with open_router_with({"binance": actor}) as router:
            await router.wait_connected("binance")
            for n in range(rounds + 5):
                start = time.perf_counter()
                order = await router.place_order(venue="binance", symbol="BTC/USDT", side="buy", type="limit",
                                                 quantity=Decimal(QTY), price=Decimal(PRICE))
                await router.cancel_order("binance", "BTC/USDT", order_id=order.order_id)
                if n >= 5:
                    out.append((time.perf_counter() - start) * 1000)

    trio.run(run)
    return out


def python_binance(f: Feed, rounds: int) -> list[float]:
    from binance.client import Client

    client = Client(f.api_key, f.api_secret, ping=False)
    client.API_URL = f"{f.rest_url}/api"
    out: list[float] = []
    for n in range(rounds + 5):
        start = time.perf_counter()
        order = client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity=QTY,
                                    price=PRICE)
        client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
        if n >= 5:
            out.append((time.perf_counter() - start) * 1000)
    return out


def ccxt_async(f: Feed, rounds: int) -> list[float]:
    import ccxt.async_support as ccxt

    out: list[float] = []

    async def run() -> None:
        exchange = ccxt.binance({"apiKey": f.api_key, "secret": f.api_secret,
                                 "options": {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]},
                                             "fetchCurrencies": False, "fetchMargins": False,
                                             "adjustForTimeDifference": False}})
        for key in ("public", "private", "v3"):
            if key in exchange.urls["api"]:
                exchange.urls["api"][key] = f.rest_url + "/api/v3"
        try:
            await exchange.load_markets()
            for n in range(rounds + 5):
                start = time.perf_counter()
                order = await exchange.create_order("BTC/USDT", "limit", "buy", float(QTY), float(PRICE))
                await exchange.cancel_order(order["id"], "BTC/USDT")
                if n >= 5:
                    out.append((time.perf_counter() - start) * 1000)
        finally:
            await exchange.close()

    asyncio.run(run())
    return out
