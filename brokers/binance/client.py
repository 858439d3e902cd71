"""Binance spot: the Broker contract on the REST endpoints and streams, built on the chassis (see README.md).

What is Binance's own lives beside it: signing in auth.py, paths, weights and limits in constants.py,
JSON shapes in schemas.py, both directions of mapping in mapping.py, the depth book in book.py, the
stream parsers in stream.py. Clock offset, instruments, positions and pre-trade checks come from
`brokers.venue.VenueClient`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import ClassVar, TypeVar
from urllib.parse import urlencode

import attrs
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from brokers.base import Emit, Subscription
from brokers.binance import constants as c
from brokers.binance import schemas as s
from brokers.binance.auth import key_header, signed_query
from brokers.binance.errors import map_error
from brokers.binance.mapping import (
    candle_from_kline,
    fill_from_trade,
    instrument_from,
    new_order_params,
    order_from,
    order_ref_params,
)
from brokers.binance.stream import MarketParser, UserParser, stream_name
from brokers.paging import Page, collect, next_after
from brokers.rest import PreparedRequest, Resignable
from brokers.stream import Freshness, run_public_socket, run_websocket, started_without_value
from brokers.venue import VenueClient
from protocol import errors as e
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    Fill,
    Instrument,
    Order,
    OrderRequest,
    Ticker,
    from_epoch_ms,
    to_epoch_ms,
    utc_now,
)

T = TypeVar("T")
Params = Mapping[str, str | int]


class Access(Enum):
    """How a request proves who sends it (rest-api.md "Endpoint security type")."""

    PUBLIC = "NONE"
    KEYED = "USER_STREAM"  # the API key only
    SIGNED = "TRADE/USER_DATA"  # key and HMAC signature with a timestamp


@attrs.define(eq=False)
class BinanceBroker(VenueClient):
    """Binance spot over /api/v3 and the market and user-data streams."""

    VENUE: ClassVar[str] = c.VENUE
    stream_channels = frozenset(c.STREAM_NAMES)
    rate_rules = c.RATE_RULES
    order_features = c.ORDER_FEATURES
    stale_after = c.STALE_AFTER
    _public_ws: WebSocketConnection | None = None
    _subscribe_ids: int = 0
    _streams: dict[str, Subscription] = attrs.field(factory=dict)  # stream name -> what asked for it
    _live_streams: set[str] = attrs.field(factory=set)  # what the open connection is subscribed to
    _freshness: Freshness | None = None

    # ================================================================ the chassis hooks
    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
        return map_error(status, body, headers)

    async def server_time_ms(self) -> int:
        return (await self._send("GET", c.SERVER_TIME, s.ServerTime)).serverTime

    async def load_instruments(self) -> list[Instrument]:
        info = await self._send("GET", c.EXCHANGE_INFO, s.ExchangeInfo)
        return [instrument_from(symbol) for symbol in info.symbols]

    async def check_credentials(self) -> None:
        await self.get_account_info()  # proves the key and signature before we report connected

    # ================================================================ requests
    def _public(self, method: str, path: str, params: Params | None = None) -> PreparedRequest:
        return PreparedRequest(method, path, urlencode(params or {}))

    def _keyed(self, method: str, path: str, params: Params | None = None) -> PreparedRequest:
        return PreparedRequest(method, path, urlencode(params or {}), headers=key_header(self.credentials()))

    def _signed(self, method: str, path: str, params: Params) -> Resignable:
        """A SIGNED request, re-signed with a fresh timestamp on every attempt."""
        creds = self.credentials()

        def build() -> PreparedRequest:
            query = signed_query(creds, params, timestamp_ms=self.now_ms(), recv_window_ms=self.settings.recv_window_ms)
            return PreparedRequest(method, path, query, headers=key_header(creds))

        return Resignable(method, build)

    async def _send(self, method: str, path: str, decode: type[T], params: Params | None = None, *,
                    access: Access = Access.PUBLIC, weight: int | None = None, orders: int = 0) -> T:
        """One request at the endpoint's published weight (constants.WEIGHTS) unless told otherwise."""
        request: PreparedRequest | Resignable
        if access is Access.SIGNED:
            request = self._signed(method, path, params or {})
        elif access is Access.KEYED:
            request = self._keyed(method, path, params)
        else:
            request = self._public(method, path, params)
        return await self.rest.send(request, decode, weight=weight or c.WEIGHTS[(method, path)], orders=orders)

    # ================================================================ account
    async def _account(self) -> s.Account:
        return await self._send("GET", c.ACCOUNT, s.Account, {"omitZeroBalances": "true"}, access=Access.SIGNED)

    async def get_account_info(self) -> AccountInfo:
        account = await self._account()
        rates = account.commissionRates
        return AccountInfo(
            venue=self.venue, account_type=account.accountType, can_trade=account.canTrade,
            can_withdraw=account.canWithdraw, can_deposit=account.canDeposit,
            balances=[self._balance(b) for b in account.balances if b.free or b.locked],
            maker_fee_rate=rates.maker if rates else None, taker_fee_rate=rates.taker if rates else None,
            updated_at=from_epoch_ms(account.updateTime),
        )

    def _balance(self, b: s.AssetBalance) -> Balance:
        return Balance(venue=self.venue, currency=b.asset, free=b.free, locked=b.locked)

    async def get_balances(self) -> list[Balance]:
        return [self._balance(b) for b in (await self._account()).balances if b.free or b.locked]

    # ================================================================ market data
    async def get_ticker(self, symbol: str) -> Ticker:
        instrument = self.instrument(symbol)
        t = await self._send("GET", c.TICKER_24H, s.Ticker24h, {"symbol": instrument.venue_symbol})
        return Ticker(venue=self.venue, symbol=symbol, last=t.lastPrice, bid=t.bidPrice, bid_size=t.bidQty,
                      ask=t.askPrice, ask_size=t.askQty, timestamp=from_epoch_ms(t.closeTime))

    async def get_candles(self, symbol: str, interval: str, limit: int) -> list[Candle]:
        instrument = self.instrument(symbol)
        if interval not in c.KLINE_INTERVALS:
            raise e.InvalidOrder(f"Binance has no {interval!r} klines; use one of {sorted(c.KLINE_INTERVALS)}",
                                 venue=self.venue, filter="INTERVAL")
        rows = await self._send("GET", c.KLINES, list[s.Kline], {
            "symbol": instrument.venue_symbol, "interval": interval, "limit": max(1, min(limit, c.KLINE_LIMIT_MAX))})
        now = to_epoch_ms(utc_now())
        return [candle_from_kline(row, instrument, interval, now_ms=now, venue=self.venue) for row in rows]

    async def _depth_snapshot(self, venue_symbol: str) -> s.Depth:
        return await self._send("GET", c.DEPTH, s.Depth, {"symbol": venue_symbol, "limit": c.DEPTH_SNAPSHOT_LIMIT})

    # ================================================================ orders
    async def place_order(self, request: OrderRequest) -> Order:
        instrument = self.check_order(request)
        answer = await self._send("POST", c.ORDER, s.OrderResponse, new_order_params(request, instrument),
                                  access=Access.SIGNED, orders=1)
        return order_from(answer, instrument)

    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order:
        instrument = self.instrument(symbol)
        answer = await self._send("DELETE", c.ORDER, s.OrderResponse,
                                  order_ref_params(instrument, order_id, client_order_id), access=Access.SIGNED)
        return order_from(answer, instrument)

    async def get_order_status(self, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order:
        instrument = self.instrument(symbol)
        answer = await self._send("GET", c.ORDER, s.OrderResponse,
                                  order_ref_params(instrument, order_id, client_order_id), access=Access.SIGNED)
        return order_from(answer, instrument)

    async def get_orders(self, symbol: str | None = None, *, open_only: bool = True) -> list[Order]:
        if open_only:
            params: dict[str, str | int] = {}
            if symbol is not None:
                params["symbol"] = self.instrument(symbol).venue_symbol
            rows = await self._send("GET", c.OPEN_ORDERS, list[s.OrderResponse], params, access=Access.SIGNED,
                                    weight=None if symbol else c.OPEN_ORDERS_ALL_WEIGHT)
        else:
            if symbol is None:
                raise e.NotSupported("Binance lists finished orders per symbol only: pass a symbol",
                                     venue=self.venue)
            rows = await self._send("GET", c.ALL_ORDERS, list[s.OrderResponse], {
                "symbol": self.instrument(symbol).venue_symbol, "limit": c.ORDERS_LIMIT_MAX}, access=Access.SIGNED)
        ids = self.index.venue_ids()
        return [order_from(r, ids[r.symbol]) for r in rows if r.symbol in ids]

    async def get_fills(self, symbol: str, *, since: datetime | None = None, limit: int = 500) -> list[Fill]:
        """Our trades (``myTrades``) from ``since``, oldest first, paged by ``fromId``."""
        instrument = self.instrument(symbol)
        page_size = min(max(limit, 1), c.MY_TRADES_LIMIT_MAX)

        async def fetch(from_id: int | None) -> Page[s.MyTrade, int]:
            params: dict[str, str | int] = {"symbol": instrument.venue_symbol, "limit": page_size}
            if from_id is not None:
                params["fromId"] = from_id
            elif since is not None:
                params["startTime"] = to_epoch_ms(since)
            rows = await self._send("GET", c.MY_TRADES, list[s.MyTrade], params, access=Access.SIGNED)
            return Page(rows, next_after(rows, page_size, lambda trade: trade.id + 1))

        trades = (await collect(fetch, enough=limit, what=f"{self.venue} myTrades {symbol}"))[:limit]
        client_ids = await self._client_ids(instrument, {t.orderId for t in trades})
        return [fill_from_trade(t, instrument, client_ids.get(t.orderId, "")) for t in trades]

    async def _client_ids(self, instrument: Instrument, order_ids: set[int]) -> dict[int, str]:
        """myTrades has no client order id: take it from the symbol's order history (one request)."""
        if not order_ids:
            return {}
        rows = await self._send("GET", c.ALL_ORDERS, list[s.OrderResponse], {
            "symbol": instrument.venue_symbol, "orderId": min(order_ids), "limit": c.ORDERS_LIMIT_MAX},
            access=Access.SIGNED)
        return {r.orderId: r.clientOrderId for r in rows}

    # ================================================================ streams
    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The combined market stream, re-opened on failure with every stream asked for so far.

        The URL names the streams of the moment (``/stream?streams=…``; with none the socket opens
        anyway, so later subscriptions go live at once); each new connection starts its depth books
        from fresh snapshots."""
        self._streams = {stream_name(sub, self.instrument(sub.symbol)): sub for sub in subscriptions
                         if self.index.knows(sub.symbol)}
        self._freshness = freshness = self.freshness()
        freshness.watch(self._streams.values())
        parser = MarketParser(self.index.venue_ids(), freshness.track(emit), self._depth_snapshot)

        def url() -> str:
            self._live_streams = set(self._streams)
            names = "/".join(sorted(self._live_streams))
            return f"{self.settings.ws_url}/stream" + (f"?streams={names}" if names else "")

        async def opened(ws: WebSocketConnection) -> None:
            parser.books.clear()
            self._public_ws = ws
            await self._send_subscribe(sorted(set(self._streams) - self._live_streams))  # asked while opening

        try:
            await run_public_socket(url, parser.on_message, venue=self.venue, name="market",
                                    reopen=self.public_reopen(emit), on_open=opened, freshness=freshness,
                                    ping_interval=c.PING_INTERVAL_S,
                                    stale_after=c.SOCKET_STALE_AFTER_S if self._streams else None,
                                    task_status=task_status)
        finally:
            self._public_ws = None
            self._freshness = None

    async def subscribe(self, added: Iterable[Subscription]) -> None:
        new = {stream_name(sub, self.instrument(sub.symbol)): sub for sub in added}
        new = {name: sub for name, sub in new.items() if name not in self._streams}
        self._streams.update(new)
        if self._freshness is not None:
            self._freshness.watch(new.values())
        await self._send_subscribe(sorted(set(new) - self._live_streams))

    async def _send_subscribe(self, names: list[str]) -> None:
        """SUBSCRIBE on the open socket; without one (or if it just closed) the next connection's URL
        carries them."""
        if not names or self._public_ws is None:
            return
        self._subscribe_ids += 1
        try:
            await self._public_ws.send_message(json.dumps({"method": "SUBSCRIBE", "params": names,
                                                           "id": self._subscribe_ids}))
        except ConnectionClosed:
            return  # the socket is re-opening: its URL will name these streams
        self._live_streams |= set(names)

    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        key = (await self._send("POST", c.USER_DATA_STREAM, s.ListenKey, access=Access.KEYED)).listenKey
        parser = UserParser(self.index.venue_ids(), emit)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._keep_listen_key_alive, key)
            await run_websocket(f"{self.settings.ws_url}/ws/{key}", parser.on_message, venue=self.venue,
                                ping_interval=c.PING_INTERVAL_S, task_status=started_without_value(task_status))

    async def _keep_listen_key_alive(self, key: str) -> None:
        while True:
            await trio.sleep(c.LISTEN_KEY_KEEPALIVE_S)
            await self._send("PUT", c.USER_DATA_STREAM, s.Empty, {"listenKey": key}, access=Access.KEYED)
