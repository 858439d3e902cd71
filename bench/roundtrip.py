"""Order round trip: place + cancel one resting limit order, against the venue's emulator process (Binance
spot, Bybit linear, OKX USDT swap, Kraken spot, Alpaca AAPL in a regular session).

- ``bare httpx``: two signed requests with a kept-alive httpx.AsyncClient under trio (the floor), alone and
  with the venue's private stream open and drained;
- ``bare WebSocket API``: ``order.place`` + ``order.cancel`` on one Binance WebSocket API connection (its floor);
- ``algotrendy``: through the router (risk checks, idempotency book-keeping, broker actor, REST), and for
  Binance the same with ``options.order_transport = "ws-api"`` (orders on the private stream's connection);
- the official SDKs: python-binance (requests), pybit (requests), python-okx (httpx), python-kraken-sdk's
  ``Trade`` (requests), alpaca-py's ``TradingClient`` (requests), all synchronous;
- ``ccxt``: ccxt's async client of each venue (aiohttp).
Each yields per-iteration latencies in milliseconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import attrs
import trio

from bench.ingest import Feed

WARMUP = 5  # rounds not counted: connections, caches and the JIT-less interpreter's first paths


@attrs.define
class Rounds:
    """Wall latency per counted round (ms), and this process's CPU time over the counted rounds:
    the client's own cost, which the machine's noise barely touches."""

    latencies_ms: list[float] = attrs.field(factory=list)
    _cpu_from: float = 0.0
    _cpu_to: float = 0.0

    def lap(self, n: int, start: float) -> None:
        """Round ``n`` (from 0, warm-up included) began at ``start`` (perf_counter) and just ended."""
        end = time.perf_counter()
        if n == WARMUP - 1:
            self._cpu_from = time.process_time()
        elif n >= WARMUP:
            self.latencies_ms.append((end - start) * 1000)
            self._cpu_to = time.process_time()

    @property
    def cpu_ms_per_round(self) -> float:
        return (self._cpu_to - self._cpu_from) * 1000 / len(self.latencies_ms) if self.latencies_ms else 0.0


PRICE = "50000.00"
QTY = "0.00100"


def _sign(secret: str, query: str) -> str:
    return hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


def bare_httpx(f: Feed, rounds: int) -> Rounds:
    return _binance_bare(f, rounds, with_private_stream=False)


def bare_httpx_with_stream(f: Feed, rounds: int) -> Rounds:
    """The same two requests while the user data stream (a WebSocket API subscription) is open and drained
    without decoding: the venue then does the push work it does for any client that hears its fills."""
    return _binance_bare(f, rounds, with_private_stream=True)


def _ws_api_params(f: Feed, **params: str | int) -> dict[str, str | int]:
    """Signed WebSocket API parameters: every one but ``signature``, sorted, HMAC-SHA256."""
    signed: dict[str, str | int] = {**params, "apiKey": f.api_key, "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={signed[k]}" for k in sorted(signed))
    return {**signed, "signature": _sign(f.api_secret, payload)}


async def _ws_api_call(ws: Any, ident: int, method: str, params: dict[str, str | int]) -> dict[str, Any]:
    import json

    await ws.send_message(json.dumps({"id": ident, "method": method, "params": params}))
    while True:
        answer: dict[str, Any] = json.loads(await ws.get_message())
        if answer.get("id") == ident:
            if answer.get("status") != 200:
                raise RuntimeError(f"{method}: {answer}")
            return answer


async def _drain_user_stream(f: Feed, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    from trio_websocket import open_websocket_url

    async with open_websocket_url(f"{f.ws_url}/ws-api/v3") as ws:
        await _ws_api_call(ws, 0, "userDataStream.subscribe.signature", _ws_api_params(f))
        task_status.started()
        while True:
            await ws.get_message()


def bare_ws_api(f: Feed, rounds: int) -> Rounds:
    """``order.place`` + ``order.cancel`` on one WebSocket API connection that also carries the account's
    user data subscription (whose events are read and dropped between answers)."""
    from trio_websocket import open_websocket_url

    out = Rounds()

    async def run() -> None:
        async with open_websocket_url(f"{f.ws_url}/ws-api/v3") as ws:
            await _ws_api_call(ws, 0, "userDataStream.subscribe.signature", _ws_api_params(f))
            for n in range(rounds + WARMUP):
                start = time.perf_counter()
                placed = await _ws_api_call(ws, 2 * n + 1, "order.place", _ws_api_params(
                    f, symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity=QTY, price=PRICE,
                    newClientOrderId=f"wsbare{n}", newOrderRespType="ACK"))
                await _ws_api_call(ws, 2 * n + 2, "order.cancel", _ws_api_params(
                    f, symbol="BTCUSDT", orderId=placed["result"]["orderId"]))
                out.lap(n, start)

    trio.run(run)
    return out


def _binance_bare(f: Feed, rounds: int, *, with_private_stream: bool) -> Rounds:
    import httpx

    out = Rounds()

    async def run() -> None:
        async with httpx.AsyncClient(base_url=f.rest_url, headers={"X-MBX-APIKEY": f.api_key}) as client, \
                trio.open_nursery() as nursery:
            if with_private_stream:
                await nursery.start(_drain_user_stream, f)
            for n in range(rounds + WARMUP):
                start = time.perf_counter()
                q = urlencode({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                               "quantity": QTY, "price": PRICE, "newClientOrderId": f"bare{n}",
                               "timestamp": int(time.time() * 1000)})
                placed = await client.post(f"/api/v3/order?{q}&signature={_sign(f.api_secret, q)}")
                placed.raise_for_status()
                q = urlencode({"symbol": "BTCUSDT", "orderId": placed.json()["orderId"],
                               "timestamp": int(time.time() * 1000)})
                (await client.delete(f"/api/v3/order?{q}&signature={_sign(f.api_secret, q)}")).raise_for_status()
                out.lap(n, start)
            nursery.cancel_scope.cancel()

    trio.run(run)
    return out


def ours(f: Feed, rounds: int) -> Rounds:
    return _ours(f, rounds, {})


def ours_ws_api(f: Feed, rounds: int) -> Rounds:
    """Through the router, orders placed and cancelled on the WebSocket API (``order_transport = "ws-api"``)."""
    return _ours(f, rounds, {"order_transport": "ws-api"})


def _ours(f: Feed, rounds: int, options: dict[str, str]) -> Rounds:
    from brokers.base import BrokerSettings
    from protocol.credentials import Credentials

    return _through_router(BrokerSettings(venue="binance", rest_url=f.rest_url, ws_url=f.ws_url,
                                          credentials=Credentials.from_strings(f.api_key, f.api_secret),
                                          options=options), "BTC/USDT", Decimal(QTY), Decimal(PRICE), rounds)


def _through_router(settings: Any, symbol: str, quantity: Decimal, price: Decimal, rounds: int,
                    pace: float = 0.0, time_in_force: str = "gtc") -> Rounds:
    """Place and cancel through the router with our client for ``settings.venue``; ``pace``: an untimed
    pause before each round (venues whose order limits the rounds would break)."""
    from actors.handle import open_router_with
    from brokers import load_broker_factory
    from brokers.base import BrokerState, broker_actor

    out = Rounds()
    venue, factory = settings.venue, load_broker_factory(settings.venue)

    async def run() -> None:
        actor = broker_actor(lambda: factory(settings), BrokerState(venue=venue))
        async with open_router_with({venue: actor}) as router:
            await router.wait_connected(venue)
            for n in range(rounds + WARMUP):
                if pace:
                    await trio.sleep(pace)
                start = time.perf_counter()
                order = await router.place_order(venue=venue, symbol=symbol, side="buy", type="limit",
                                                 quantity=quantity, price=price, time_in_force=time_in_force)
                await router.cancel_order(venue, symbol, order_id=order.order_id)
                out.lap(n, start)

    trio.run(run)
    return out


def python_binance(f: Feed, rounds: int) -> Rounds:
    from binance.client import Client

    client = Client(f.api_key, f.api_secret, ping=False)
    client.API_URL = f"{f.rest_url}/api"
    out = Rounds()
    for n in range(rounds + WARMUP):
        start = time.perf_counter()
        order = client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity=QTY,
                                    price=PRICE)
        client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
        out.lap(n, start)
    return out


def ccxt_async(f: Feed, rounds: int) -> Rounds:
    import ccxt.async_support as ccxt

    out = Rounds()

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
            for n in range(rounds + WARMUP):
                start = time.perf_counter()
                order = await exchange.create_order("BTC/USDT", "limit", "buy", float(QTY), float(PRICE))
                await exchange.cancel_order(order["id"], "BTC/USDT")
                out.lap(n, start)
        finally:
            await exchange.close()

    asyncio.run(run())
    return out


# ------------------------------------------------------------------------------ Bybit (linear BTCUSDT)
#
# Bybit allows 10 creates and 10 cancels per second per UID on linear: every client is paced at one
# round per PACE seconds (the emulator enforces the limit like Bybit), and the pause is not timed.

BYBIT_PRICE = "50000.0"
BYBIT_QTY = "0.001"
PACE = 0.125


def _bybit_headers(f: Feed, payload: str) -> dict[str, str]:
    stamp = str(int(time.time() * 1000))
    signature = _sign(f.api_secret, stamp + f.api_key + "5000" + payload)
    return {"X-BAPI-API-KEY": f.api_key, "X-BAPI-TIMESTAMP": stamp, "X-BAPI-RECV-WINDOW": "5000",
            "X-BAPI-SIGN": signature, "X-BAPI-SIGN-TYPE": "2", "Content-Type": "application/json"}


def bybit_bare_httpx(f: Feed, rounds: int) -> Rounds:
    return _bybit_bare(f, rounds, with_private_stream=False)


def bybit_bare_httpx_with_stream(f: Feed, rounds: int) -> Rounds:
    """The same two requests while a private websocket (auth + order/execution/position/wallet) is open
    and drained without decoding: the venue then does the push work it does for any full client."""
    return _bybit_bare(f, rounds, with_private_stream=True)


async def _drain_private(f: Feed, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    import json

    from trio_websocket import open_websocket_url

    async with open_websocket_url(f.ws_url + "/v5/private") as ws:
        expires = int(time.time() * 1000) + 10_000
        await ws.send_message(json.dumps({"op": "auth", "args": [f.api_key, expires,
                                                                 _sign(f.api_secret, f"GET/realtime{expires}")]}))
        await ws.get_message()
        await ws.send_message(json.dumps({"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}))
        await ws.get_message()
        task_status.started()
        while True:
            await ws.get_message()


def _bybit_bare(f: Feed, rounds: int, *, with_private_stream: bool) -> Rounds:
    import json

    import httpx

    out = Rounds()

    async def run() -> None:
        async with httpx.AsyncClient(base_url=f.rest_url) as client, trio.open_nursery() as nursery:
            if with_private_stream:
                await nursery.start(_drain_private, f)
            for n in range(rounds + WARMUP):
                await trio.sleep(PACE)
                start = time.perf_counter()
                body = json.dumps({"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
                                   "qty": BYBIT_QTY, "price": BYBIT_PRICE, "timeInForce": "GTC",
                                   "orderLinkId": f"bare{n}", "positionIdx": 0}, separators=(",", ":"))
                placed = (await client.post("/v5/order/create", content=body, headers=_bybit_headers(f, body))).json()
                assert placed["retCode"] == 0, placed
                body = json.dumps({"category": "linear", "symbol": "BTCUSDT",
                                   "orderId": placed["result"]["orderId"]}, separators=(",", ":"))
                cancelled = (await client.post("/v5/order/cancel", content=body,
                                               headers=_bybit_headers(f, body))).json()
                assert cancelled["retCode"] == 0, cancelled
                out.lap(n, start)
            nursery.cancel_scope.cancel()

    trio.run(run)
    return out


def bybit_ours(f: Feed, rounds: int) -> Rounds:
    from brokers.base import BrokerSettings
    from protocol.credentials import Credentials

    return _through_router(BrokerSettings(venue="bybit", rest_url=f.rest_url, ws_url=f.ws_url,
                                          credentials=Credentials.from_strings(f.api_key, f.api_secret),
                                          options={"categories": "linear"}),
                           "BTC/USDT:USDT", Decimal(BYBIT_QTY), Decimal(BYBIT_PRICE), rounds, PACE)


def bybit_pybit(f: Feed, rounds: int) -> Rounds:
    from pybit.unified_trading import HTTP

    session = HTTP(api_key=f.api_key, api_secret=f.api_secret, max_retries=1)
    session.endpoint = f.rest_url
    out = Rounds()
    for n in range(rounds + WARMUP):
        time.sleep(PACE)
        start = time.perf_counter()
        placed = session.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Limit",
                                     qty=BYBIT_QTY, price=BYBIT_PRICE, timeInForce="GTC", positionIdx=0)
        session.cancel_order(category="linear", symbol="BTCUSDT", orderId=placed["result"]["orderId"])
        out.lap(n, start)
    return out


def bybit_ccxt_async(f: Feed, rounds: int) -> Rounds:
    import ccxt.async_support as ccxt

    out = Rounds()

    async def run() -> None:
        exchange = ccxt.bybit({"apiKey": f.api_key, "secret": f.api_secret,
                               "options": {"fetchMarkets": {"types": ["linear"]}, "fetchCurrencies": False,
                                           "adjustForTimeDifference": False, "enableUnifiedAccount": True,
                                           "enableUnifiedMargin": False}})
        for key in list(exchange.urls["api"]):
            if isinstance(exchange.urls["api"][key], str):
                exchange.urls["api"][key] = f.rest_url
        exchange.has["fetchCurrencies"] = False  # a private asset endpoint the emulator does not serve
        try:
            await exchange.load_markets()
            for n in range(rounds + WARMUP):
                await asyncio.sleep(PACE)
                start = time.perf_counter()
                order = await exchange.create_order("BTC/USDT:USDT", "limit", "buy", float(BYBIT_QTY),
                                                    float(BYBIT_PRICE))
                await exchange.cancel_order(order["id"], "BTC/USDT:USDT")
                out.lap(n, start)
        finally:
            await exchange.close()

    asyncio.run(run())
    return out


# ------------------------------------------------------------------------------ OKX (BTC-USDT-SWAP)
#
# OKX allows 60 place and 60 cancel requests per 2 s per account and instrument: every client is paced at one
# round per OKX_PACE seconds (the emulator enforces the limit like OKX), and the pause is not timed. The
# emulator's keys are demo-trading keys: every client sends ``x-simulated-trading: 1``.

OKX_PRICE = "50000"
OKX_CONTRACTS = "1"  # 1 contract of 0.01 BTC
OKX_PACE = 0.05
OKX_INST = "BTC-USDT-SWAP"


def _okx_headers(f: Feed, method: str, path: str, body: str = "") -> dict[str, str]:
    import base64
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    digest = hmac.new(f.api_secret.encode(), f"{stamp}{method}{path}{body}".encode(), hashlib.sha256).digest()
    return {"OK-ACCESS-KEY": f.api_key, "OK-ACCESS-SIGN": base64.b64encode(digest).decode(),
            "OK-ACCESS-TIMESTAMP": stamp, "OK-ACCESS-PASSPHRASE": f.passphrase or "", "x-simulated-trading": "1",
            "Content-Type": "application/json"}


def okx_bare_httpx(f: Feed, rounds: int) -> Rounds:
    return _okx_bare(f, rounds, with_private_stream=False)


def okx_bare_httpx_with_stream(f: Feed, rounds: int) -> Rounds:
    """The same two requests while a private websocket (login + orders/positions/account) is open and drained
    without decoding: the venue then does the push work it does for any full client."""
    return _okx_bare(f, rounds, with_private_stream=True)


async def _drain_okx_private(f: Feed, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    import base64
    import json

    from trio_websocket import open_websocket_url

    async with open_websocket_url(f.ws_url + "/ws/v5/private") as ws:
        stamp = str(int(time.time()))
        digest = hmac.new(f.api_secret.encode(), f"{stamp}GET/users/self/verify".encode(), hashlib.sha256).digest()
        await ws.send_message(json.dumps({"op": "login", "args": [{
            "apiKey": f.api_key, "passphrase": f.passphrase, "timestamp": stamp,
            "sign": base64.b64encode(digest).decode()}]}))
        await ws.get_message()
        await ws.send_message(json.dumps({"op": "subscribe", "args": [
            {"channel": "orders", "instType": "ANY"}, {"channel": "positions", "instType": "SWAP"},
            {"channel": "account"}]}))
        task_status.started()
        while True:
            await ws.get_message()


def _okx_bare(f: Feed, rounds: int, *, with_private_stream: bool) -> Rounds:
    import json

    import httpx

    out = Rounds()

    async def run() -> None:
        async with httpx.AsyncClient(base_url=f.rest_url) as client, trio.open_nursery() as nursery:
            if with_private_stream:
                await nursery.start(_drain_okx_private, f)
            for n in range(rounds + WARMUP):
                await trio.sleep(OKX_PACE)
                start = time.perf_counter()
                body = json.dumps({"instId": OKX_INST, "tdMode": "cross", "clOrdId": f"bare{n}", "side": "buy",
                                   "ordType": "limit", "px": OKX_PRICE, "sz": OKX_CONTRACTS}, separators=(",", ":"))
                placed = (await client.post("/api/v5/trade/order", content=body,
                                            headers=_okx_headers(f, "POST", "/api/v5/trade/order", body))).json()
                assert placed["code"] == "0", placed
                body = json.dumps({"instId": OKX_INST, "ordId": placed["data"][0]["ordId"]}, separators=(",", ":"))
                cancelled = (await client.post("/api/v5/trade/cancel-order", content=body, headers=_okx_headers(
                    f, "POST", "/api/v5/trade/cancel-order", body))).json()
                assert cancelled["code"] == "0", cancelled
                out.lap(n, start)
            nursery.cancel_scope.cancel()

    trio.run(run)
    return out


def okx_ours(f: Feed, rounds: int) -> Rounds:
    from brokers.base import BrokerSettings
    from protocol.credentials import Credentials

    return _through_router(BrokerSettings(venue="okx", rest_url=f.rest_url, ws_url=f.ws_url, testnet=True,
                                          credentials=Credentials.from_strings(f.api_key, f.api_secret,
                                                                               f.passphrase)),
                           "BTC/USDT:USDT", Decimal("0.01"), Decimal(OKX_PRICE), rounds, OKX_PACE)


def okx_python_okx(f: Feed, rounds: int) -> Rounds:
    """The official SDK (python-okx: httpx, synchronous), demo flag "1", pointed at the emulator by ``domain``."""
    from okx.Trade import TradeAPI

    api = TradeAPI(f.api_key, f.api_secret, f.passphrase or "", flag="1", domain=f.rest_url, debug=False)
    out = Rounds()
    try:
        for n in range(rounds + WARMUP):
            time.sleep(OKX_PACE)
            start = time.perf_counter()
            placed = api.place_order(instId=OKX_INST, tdMode="cross", side="buy", ordType="limit", px=OKX_PRICE,
                                     sz=OKX_CONTRACTS)
            assert placed["code"] == "0", placed
            cancelled = api.cancel_order(instId=OKX_INST, ordId=placed["data"][0]["ordId"])
            assert cancelled["code"] == "0", cancelled
            out.lap(n, start)
    finally:
        api.close()
    return out


def okx_ccxt_async(f: Feed, rounds: int) -> Rounds:
    import ccxt.async_support as ccxt

    out = Rounds()

    async def run() -> None:
        exchange = ccxt.okx({"apiKey": f.api_key, "secret": f.api_secret, "password": f.passphrase,
                             "options": {"fetchMarkets": {"types": ["swap"]}, "adjustForTimeDifference": False}})
        exchange.set_sandbox_mode(True)  # demo trading: x-simulated-trading, which the emulator's keys need
        exchange.urls["api"]["rest"] = f.rest_url
        exchange.has["fetchCurrencies"] = False  # a private asset endpoint the emulator does not serve
        try:
            await exchange.load_markets()
            for n in range(rounds + WARMUP):
                await asyncio.sleep(OKX_PACE)
                start = time.perf_counter()
                order = await exchange.create_order("BTC/USDT:USDT", "limit", "buy", float(OKX_CONTRACTS),
                                                    float(OKX_PRICE), {"tdMode": "cross"})
                await exchange.cancel_order(order["id"], "BTC/USDT:USDT")
                out.lap(n, start)
        finally:
            await exchange.close()

    asyncio.run(run())
    return out


# ------------------------------------------------------------------------------ Alpaca (AAPL, a regular session)
#
# Alpaca allows 200 trading requests a minute per account (the emulator enforces it like Alpaca): at most
# ALPACA_ROUNDS counted rounds per fresh emulator keep every client under it (ours cancels with DELETE, then
# reads the order back, as Alpaca's 204 says nothing: three requests a round) without pacing anyone.

ALPACA_ROUNDS = 40
ALPACA_PRICE = "200"  # a DAY limit buy under the market: it rests
ALPACA_QTY = "1"


def _alpaca_headers(f: Feed) -> dict[str, str]:
    return {"APCA-API-KEY-ID": f.api_key, "APCA-API-SECRET-KEY": f.api_secret}


def alpaca_bare_httpx(f: Feed, rounds: int) -> Rounds:
    return _alpaca_bare(f, rounds, with_private_stream=False)


def alpaca_bare_httpx_with_stream(f: Feed, rounds: int) -> Rounds:
    """The same two requests while the trading stream (authenticate + listen to trade_updates) is open and
    drained without decoding."""
    return _alpaca_bare(f, rounds, with_private_stream=True)


async def _drain_trade_updates(f: Feed, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    import json

    from trio_websocket import open_websocket_url

    async with open_websocket_url(f.ws_url + "/stream") as ws:
        await ws.send_message(json.dumps({"action": "authenticate",
                                          "data": {"key_id": f.api_key, "secret_key": f.api_secret}}))
        await ws.get_message()
        await ws.send_message(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        await ws.get_message()
        task_status.started()
        while True:
            await ws.get_message()


def _alpaca_bare(f: Feed, rounds: int, *, with_private_stream: bool) -> Rounds:
    import httpx

    out = Rounds()

    async def run() -> None:
        async with httpx.AsyncClient(base_url=f.rest_url, headers=_alpaca_headers(f)) as client, \
                trio.open_nursery() as nursery:
            if with_private_stream:
                await nursery.start(_drain_trade_updates, f)
            for n in range(min(rounds, ALPACA_ROUNDS) + WARMUP):
                start = time.perf_counter()
                placed = await client.post("/v2/orders", json={
                    "symbol": "AAPL", "qty": ALPACA_QTY, "side": "buy", "type": "limit", "time_in_force": "day",
                    "limit_price": ALPACA_PRICE, "client_order_id": f"bare{n}"})
                placed.raise_for_status()
                (await client.delete(f"/v2/orders/{placed.json()['id']}")).raise_for_status()
                out.lap(n, start)
            nursery.cancel_scope.cancel()

    trio.run(run)
    return out


def alpaca_ours(f: Feed, rounds: int) -> Rounds:
    from brokers.base import BrokerSettings
    from protocol.credentials import Credentials

    return _through_router(BrokerSettings(venue="alpaca", rest_url=f.rest_url, ws_url=f.ws_url,
                                          credentials=Credentials.from_strings(f.api_key, f.api_secret)),
                           "AAPL", Decimal(ALPACA_QTY), Decimal(ALPACA_PRICE), min(rounds, ALPACA_ROUNDS),
                           time_in_force="day")


def alpaca_py(f: Feed, rounds: int) -> Rounds:
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import LimitOrderRequest

    client = TradingClient(f.api_key, f.api_secret, paper=True, url_override=f.rest_url)
    out = Rounds()
    for n in range(min(rounds, ALPACA_ROUNDS) + WARMUP):
        start = time.perf_counter()
        order = client.submit_order(LimitOrderRequest(symbol="AAPL", qty=float(ALPACA_QTY), side=OrderSide.BUY,
                                                      time_in_force=TimeInForce.DAY,
                                                      limit_price=float(ALPACA_PRICE)))
        client.cancel_order_by_id(order.id)  # type: ignore[union-attr]
        out.lap(n, start)
    return out


# ------------------------------------------------------------------------------ Kraken (synthetic USD pairs)
#
# Kraken charges a cancel of an order younger than 5 s 8 on the pair's trading counter (+1 for the add), and a
# Pro key's counter decays 3.75 a second: one pair takes a place + cancel round every 2.4 s. Every client
# therefore rotates over the feed's synthetic pairs and waits, untimed, until the pair it uses next was last
# used `KRAKEN_REVISIT` seconds ago (bench/feed.py lists the pairs and makes the key a Pro key).

KRAKEN_REVISIT = 3.0


@attrs.frozen
class KrakenPair:
    symbol: str  # v2 / unified, "S01/USD"
    altname: str  # REST, "S01USD"
    price: str  # far below the market: the order rests
    volume: str


def kraken_pairs() -> list[KrakenPair]:
    """The feed's synthetic pairs with a resting price (half the start price) and a volume worth $7.5."""
    from decimal import ROUND_UP

    from bench.feed import KRAKEN_ORDER_PAIRS
    from emulators.engine.instruments import synthetic_instruments

    pairs = []
    for spec in synthetic_instruments(KRAKEN_ORDER_PAIRS):
        price = (spec.start_price / 2).quantize(spec.tick_size)
        volume = (Decimal("7.5") / price / spec.step_size).to_integral_value(rounding=ROUND_UP) * spec.step_size
        pairs.append(KrakenPair(f"{spec.base}/USD", f"{spec.base}USD", str(price), str(volume)))
    return pairs


@attrs.define
class KrakenPacer:
    """Round ``n``'s pair, after the untimed wait that keeps each pair's trading counter clear."""

    pairs: list[KrakenPair] = attrs.field(factory=kraken_pairs)
    last_used: dict[str, float] = attrs.field(factory=dict)

    def due(self, n: int) -> tuple[KrakenPair, float]:
        """(the pair, seconds to wait before using it)."""
        pair = self.pairs[n % len(self.pairs)]
        used = self.last_used.get(pair.symbol)
        wait = 0.0 if used is None else max(0.0, used + KRAKEN_REVISIT - time.perf_counter())
        return pair, wait

    def used(self, pair: KrakenPair) -> None:
        self.last_used[pair.symbol] = time.perf_counter()


def _kraken_signed(f: Feed, path: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
    import base64

    nonce = str(time.time_ns() // 1000)
    body = urlencode({"nonce": nonce, **params})
    digest = hashlib.sha256((nonce + body).encode()).digest()
    mac = hmac.new(base64.b64decode(f.api_secret), path.encode() + digest, hashlib.sha512)
    return body, {"API-Key": f.api_key, "API-Sign": base64.b64encode(mac.digest()).decode(),
                  "Content-Type": "application/x-www-form-urlencoded"}


async def _kraken_post(client: Any, f: Feed, method: str, params: dict[str, str]) -> Any:
    path = f"/0/private/{method}"
    body, headers = _kraken_signed(f, path, params)
    answer = (await client.post(path, content=body, headers=headers)).json()
    if answer.get("error"):
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


async def _drain_kraken_private(f: Feed, client: Any, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    import json

    from trio_websocket import open_websocket_url

    token = (await _kraken_post(client, f, "GetWebSocketsToken", {}))["token"]
    async with open_websocket_url(f.ws_url + "/ws-auth/v2") as ws:
        for channel in ("executions", "balances"):
            await ws.send_message(json.dumps({"method": "subscribe", "params": {"channel": channel, "token": token}}))
        task_status.started()
        while True:
            await ws.get_message()


def kraken_bare_httpx(f: Feed, rounds: int) -> Rounds:
    return _kraken_bare(f, rounds, with_private_stream=False)


def kraken_bare_httpx_with_stream(f: Feed, rounds: int) -> Rounds:
    """The same two requests while the private websocket (executions and balances) is open and drained without
    decoding: the venue then does the push work it does for any full client."""
    return _kraken_bare(f, rounds, with_private_stream=True)


def _kraken_bare(f: Feed, rounds: int, *, with_private_stream: bool) -> Rounds:
    import httpx

    out, pacer = Rounds(), KrakenPacer()

    async def run() -> None:
        async with httpx.AsyncClient(base_url=f.rest_url) as client, trio.open_nursery() as nursery:
            if with_private_stream:
                await nursery.start(_drain_kraken_private, f, client)
            for n in range(rounds + WARMUP):
                pair, wait = pacer.due(n)
                await trio.sleep(wait)
                start = time.perf_counter()
                placed = await _kraken_post(client, f, "AddOrder", {
                    "ordertype": "limit", "type": "buy", "volume": pair.volume, "pair": pair.altname,
                    "price": pair.price, "cl_ord_id": f"bare{n}"})
                await _kraken_post(client, f, "CancelOrder", {"txid": placed["txid"][0]})
                out.lap(n, start)
                pacer.used(pair)
            nursery.cancel_scope.cancel()

    trio.run(run)
    return out


def kraken_ours(f: Feed, rounds: int) -> Rounds:
    import tempfile

    from actors.handle import open_router_with
    from brokers.base import BrokerSettings, BrokerState, broker_actor
    from brokers.kraken import create_broker
    from protocol.credentials import Credentials

    out, pacer = Rounds(), KrakenPacer()
    with tempfile.TemporaryDirectory(prefix="bench-kraken-nonce-") as nonces:
        settings = BrokerSettings(venue="kraken", rest_url=f.rest_url, ws_url=f.ws_url,
                                  credentials=Credentials.from_strings(f.api_key, f.api_secret),
                                  options={"tier": "pro", "nonce_dir": nonces})

        async def run() -> None:
            actor = broker_actor(lambda: create_broker(settings), BrokerState(venue="kraken"))
            async with open_router_with({"kraken": actor}) as router:
                await router.wait_connected("kraken")
                for n in range(rounds + WARMUP):
                    pair, wait = pacer.due(n)
                    await trio.sleep(wait)
                    start = time.perf_counter()
                    order = await router.place_order(venue="kraken", symbol=pair.symbol, side="buy", type="limit",
                                                     quantity=Decimal(pair.volume), price=Decimal(pair.price))
                    await router.cancel_order("kraken", pair.symbol, order_id=order.order_id)
                    out.lap(n, start)
                    pacer.used(pair)

        trio.run(run)
    return out


def kraken_sdk(f: Feed, rounds: int) -> Rounds:
    """python-kraken-sdk's ``Trade`` client (requests, synchronous), pointed at the feed by its ``url``."""
    from kraken.spot import Trade

    client = Trade(key=f.api_key, secret=f.api_secret, url=f.rest_url)
    out, pacer = Rounds(), KrakenPacer()
    for n in range(rounds + WARMUP):
        pair, wait = pacer.due(n)
        time.sleep(wait)
        start = time.perf_counter()
        placed = client.create_order(ordertype="limit", side="buy", pair=pair.altname, volume=pair.volume,
                                     price=pair.price)
        client.cancel_order(txid=placed["txid"][0])
        out.lap(n, start)
        pacer.used(pair)
    return out


def kraken_ccxt_async(f: Feed, rounds: int) -> Rounds:
    import ccxt.async_support as ccxt

    out, pacer = Rounds(), KrakenPacer()

    async def run() -> None:
        exchange = ccxt.kraken({"apiKey": f.api_key, "secret": f.api_secret})
        for key in list(exchange.urls["api"]):
            if isinstance(exchange.urls["api"][key], str):
                exchange.urls["api"][key] = f.rest_url
        try:
            await exchange.load_markets()
            for n in range(rounds + WARMUP):
                pair, wait = pacer.due(n)
                await asyncio.sleep(wait)
                start = time.perf_counter()
                order = await exchange.create_order(pair.symbol, "limit", "buy", float(pair.volume), float(pair.price))
                await exchange.cancel_order(order["id"], pair.symbol)
                out.lap(n, start)
                pacer.used(pair)
        finally:
            await exchange.close()

    asyncio.run(run())
    return out
