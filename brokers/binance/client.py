"""Binance spot: the Broker contract on the REST endpoints and streams, built on the chassis (see README.md).

User data (orders, fills, balances) comes over the WebSocket API: the private stream opens ``/ws-api/v3``,
subscribes with ``userDataStream.subscribe.signature`` and reads the wrapped events (the spot listen keys were
retired on 2026-02-20). With ``options.order_transport = "ws-api"`` orders are placed and cancelled over that
same connection (``order.place`` / ``order.cancel``) instead of REST; its answers and rate-limit counts go
through the same error table and limiter.

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
import msgspec
import trio

from brokers.base import Emit, Subscription
from brokers.binance import constants as c
from brokers.binance import schemas as s
from brokers.binance.auth import key_header, signed_query, ws_api_params
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
from brokers.intervals import venue_code
from brokers.paging import Page, collect, next_after
from brokers.placement import ResendRule
from brokers.rest import PreparedRequest, Resignable
from brokers.stream import Freshness, run_public_socket, run_websocket, started_without_value
from brokers.transport import ConnectionClosed, WebSocketConnection
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
_ws_api_message = msgspec.json.Decoder(s.WsApiMessage)


def _ws_api_decode(result: msgspec.Raw, decode: type[T]) -> T:
    try:
        return msgspec.json.decode(result, type=decode)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise e.ProtocolViolation(f"unexpected WebSocket API answer: {error}", venue=c.VENUE) from error


class Access(Enum):
    """How a request proves who sends it (rest-api.md "Endpoint security type")."""

    PUBLIC = "NONE"
    SIGNED = "TRADE/USER_DATA"  # key and HMAC signature with a timestamp


@attrs.define(eq=False)
class BinanceBroker(VenueClient):
    """Binance spot over /api/v3 and the market and user-data streams."""

    VENUE: ClassVar[str] = c.VENUE
    stream_channels = frozenset(c.STREAM_NAMES)
    rate_rules = c.RATE_RULES
    order_features = c.ORDER_FEATURES
    stale_after = c.STALE_AFTER
    options_taken = {"order_transport": "where orders go: \"rest\" (default) or \"ws-api\" (Binance's WebSocket API)"}
    _public_ws: WebSocketConnection | None = None
    _subscribe_ids: int = 0
    _streams: dict[str, Subscription] = attrs.field(factory=dict)  # stream name -> what asked for it
    _live_streams: set[str] = attrs.field(factory=set)  # what the open connection is subscribed to
    _freshness: Freshness | None = None
    _ws_api: WebSocketConnection | None = None  # the WebSocket API connection of the private stream
    _ws_api_ids: int = 0
    _ws_api_waiting: dict[str, trio.MemorySendChannel[s.WsApiMessage]] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        transport = self.settings.options.get("order_transport", "rest")
        if transport not in c.ORDER_TRANSPORTS:
            raise e.NotSupported(f"option order_transport={transport!r}: use one of {', '.join(c.ORDER_TRANSPORTS)}",
                                 venue=self.venue, retryable=False)

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

    def resend_rule(self) -> ResendRule:
        """A lost order (REST or WebSocket API: both sign ``timestamp`` and ``recvWindow``) can no longer execute
        once ``timestamp + recvWindow`` plus the engine margin has passed on Binance's clock (README, "Order
        entry")."""
        return self.signed_window_rule(self.settings.recv_window_ms, engine_margin_ms=c.ENGINE_MARGIN_MS,
                                       source=c.RESEND_SOURCE)

    # ================================================================ requests
    def _public(self, method: str, path: str, params: Params | None = None) -> PreparedRequest:
        return PreparedRequest(method, path, urlencode(params or {}))

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
        # Binance's codes are the unified ones: the check only refuses the intervals it does not serve
        venue_code(interval, {code: code for code in c.KLINE_INTERVALS}, venue=self.venue, name=c.VENUE_NAME,
                   noun="klines")
        rows = await self._send("GET", c.KLINES, list[s.Kline], {
            "symbol": instrument.venue_symbol, "interval": interval, "limit": max(1, min(limit, c.KLINE_LIMIT_MAX))})
        now = to_epoch_ms(utc_now())
        return [candle_from_kline(row, instrument, interval, now_ms=now, venue=self.venue) for row in rows]

    async def _depth_snapshot(self, venue_symbol: str) -> s.Depth:
        return await self._send("GET", c.DEPTH, s.Depth, {"symbol": venue_symbol, "limit": c.DEPTH_SNAPSHOT_LIMIT})

    # ================================================================ orders
    @property
    def orders_over_ws_api(self) -> bool:
        return self.settings.options.get("order_transport", "rest") == "ws-api"

    async def place_order(self, request: OrderRequest) -> Order:
        instrument = self.check_order(request)
        params = new_order_params(request, instrument)
        if self.orders_over_ws_api:
            answer = await self._ws_api_request(c.WS_ORDER_PLACE, params, s.OrderResponse, orders=1)
        else:
            answer = await self._send("POST", c.ORDER, s.OrderResponse, params, access=Access.SIGNED, orders=1)
        return order_from(answer, instrument)

    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order:
        instrument = self.instrument(symbol)
        params = order_ref_params(instrument, order_id, client_order_id)
        if self.orders_over_ws_api:
            answer = await self._ws_api_request(c.WS_ORDER_CANCEL, params, s.OrderResponse)
        else:
            answer = await self._send("DELETE", c.ORDER, s.OrderResponse, params, access=Access.SIGNED)
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

    # ================================================================ the WebSocket API
    def ws_api_url(self) -> str:
        """``private_ws_url`` if set; Binance's WebSocket API host for its stream hosts; else (an emulator)
        the same host as the market streams."""
        if self.settings.private_ws_url:
            return self.settings.private_ws_url
        base = c.WS_API_HOSTS.get(self.settings.ws_url.rstrip("/"), self.settings.ws_url.rstrip("/"))
        return base + c.WS_API_PATH

    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The user data subscription on the WebSocket API, open until the connection or the subscription
        ends (``eventStreamTerminated``, ``serverShutdown``): then the supervisor reconnects and reconciles."""
        parser = UserParser(self.index.venue_ids(), emit)
        subscription: list[int] = []

        async def on_message(text: str) -> None:
            message = _ws_api_message.decode(text)
            if message.status is not None:
                waiting = self._ws_api_waiting.pop(str(message.id), None)
                if waiting is not None:
                    waiting.send_nowait(message)
                return
            if message.subscriptionId is None and b'"serverShutdown"' in bytes(message.event):
                raise e.VenueUnavailable("Binance is shutting this WebSocket API server down", venue=self.venue)
            if message.subscriptionId is not None and message.subscriptionId in subscription:
                await parser.on_message(bytes(message.event))

        async def opened(ws: WebSocketConnection) -> None:
            self._ws_api = ws
            subscription.append(await self._subscribe_user_data(ws))

        try:
            await run_websocket(self.ws_api_url(), on_message, venue=self.venue, on_open=opened,
                                ping_interval=c.PING_INTERVAL_S, task_status=started_without_value(task_status))
        finally:
            self._ws_api = None
            for waiting in self._ws_api_waiting.values():
                waiting.close()  # requests in flight: their outcome is unknown
            self._ws_api_waiting.clear()

    async def _subscribe_user_data(self, ws: WebSocketConnection) -> int:
        """``userDataStream.subscribe.signature`` on a fresh connection; nothing else is on it yet, so the
        first frame is the answer."""
        ident = self._next_ws_api_id()
        params = ws_api_params(self.credentials(), {}, timestamp_ms=self.now_ms(),
                               recv_window_ms=self.settings.recv_window_ms)
        await self.rest.limiter.acquire(weight=c.WS_API_WEIGHTS[c.SUBSCRIBE_USER_DATA])
        await ws.send_message(json.dumps({"id": ident, "method": c.SUBSCRIBE_USER_DATA, "params": params}))
        answer = _ws_api_message.decode(await ws.get_message())
        return _ws_api_decode(self._ws_api_answer(answer), s.Subscribed).subscriptionId

    def _next_ws_api_id(self) -> str:
        self._ws_api_ids += 1
        return f"at{self._ws_api_ids}"

    async def _ws_api_request(self, method: str, params: Params, decode: type[T], *, orders: int = 0) -> T:
        """One signed request on the private stream's WebSocket API connection. Not connected: refused
        before sending (`NotExecuted`, retryable). The connection lost while waiting, or no answer within the request
        timeout: the outcome is unknown (VenueUnavailable), as for a REST request."""
        ws = self._ws_api
        if ws is None:
            raise e.NotExecuted("the Binance WebSocket API connection is not open: nothing was sent", venue=self.venue)
        await self.rest.limiter.acquire(weight=c.WS_API_WEIGHTS[method], orders=orders)
        ident = self._next_ws_api_id()
        send, receive = trio.open_memory_channel[s.WsApiMessage](1)
        self._ws_api_waiting[ident] = send
        signed = ws_api_params(self.credentials(), params, timestamp_ms=self.now_ms(),
                               recv_window_ms=self.settings.recv_window_ms)
        try:
            with trio.move_on_after(self.settings.request_timeout) as waited:
                await ws.send_message(json.dumps({"id": ident, "method": method, "params": signed}))
                async with receive:
                    answer = await receive.receive()
        except (ConnectionClosed, trio.EndOfChannel) as lost:
            raise e.VenueUnavailable(f"{method}: the WebSocket API connection closed, outcome unknown",
                                     venue=self.venue) from lost
        finally:
            self._ws_api_waiting.pop(ident, None)
        if waited.cancelled_caught:
            raise e.VenueUnavailable(f"{method}: no answer within {self.settings.request_timeout}s, outcome "
                                     "unknown", venue=self.venue)
        return _ws_api_decode(self._ws_api_answer(answer), decode)

    def _ws_api_answer(self, answer: s.WsApiMessage) -> msgspec.Raw:
        """The ``result`` of an answer, its ``rateLimits`` taught to the limiter; an error in the REST table's
        words (429/418 backed off until ``retryAfter``)."""
        counts = {f"x-mbx-{'used-weight' if r.rateLimitType == 'REQUEST_WEIGHT' else 'order-count'}-"
                  f"{r.intervalNum}{r.interval[0].lower()}": str(r.count) for r in answer.rateLimits}
        self.rest.limiter.observe(counts)
        if answer.error is None and answer.status == 200:
            return answer.result
        error = answer.error or s.WsApiError(code=-1000, msg=f"status {answer.status} without an error")
        headers: dict[str, str] = {}
        if error.data and "retryAfter" in error.data:
            headers["retry-after"] = str(max(0, (error.data["retryAfter"] - self.now_ms()) // 1000 + 1))
        body = msgspec.json.encode({"code": error.code, "msg": error.msg})
        failure = self.map_error(answer.status or 400, body, headers)
        if isinstance(failure, e.RateLimited):
            retry = float(failure.retry_after) if failure.retry_after is not None else None
            self.rest.limiter.back_off(retry, banned=failure.banned)
        raise failure
