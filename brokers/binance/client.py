"""Binance spot: the Broker contract on the REST endpoints and streams (see README.md).

Signing is in auth.py, paths, weights and limits in constants.py. Timestamps are local time plus the
offset measured against ``GET /api/v3/time`` at connect.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

import attrs
import trio
from trio_websocket import WebSocketConnection

from brokers.base import Broker, BrokerSettings, Emit, Subscription
from brokers.binance import constants as c
from brokers.binance import schemas as s
from brokers.binance.auth import key_header, signed_query
from brokers.binance.constants import VENUE
from brokers.binance.errors import map_error
from brokers.binance.mapping import (
    ORDER_TYPE_TO_VENUE,
    SIDE_TO_VENUE,
    TIF_TO_VENUE,
    check_filters,
    fill_from_trade,
    instrument_from,
    order_from,
    plain,
)
from brokers.binance.stream import MarketParser, UserParser, stream_name
from brokers.ratelimit import RateLimiter
from brokers.rest import PreparedRequest, Resignable, RestChannel
from brokers.spot import average_cost
from brokers.stream import run_websocket, started_without_value
from protocol import errors as e
from protocol.credentials import Credentials
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    Fill,
    Instrument,
    MarginMode,
    MarketType,
    Order,
    OrderRequest,
    OrderType,
    Position,
    PositionSide,
    Ticker,
    TimeInForce,
    from_epoch_ms,
    to_epoch_ms,
    utc_now,
)


@attrs.define(eq=False)
class BinanceBroker(Broker):
    settings: BrokerSettings
    venue: str = VENUE
    rest: RestChannel = attrs.field(init=False)
    clock_offset_ms: int = 0
    _instruments: dict[str, Instrument] = attrs.field(factory=dict)  # unified symbol -> instrument
    _by_id: dict[str, Instrument] = attrs.field(factory=dict)  # venue id -> instrument
    _connected: bool = False
    _public_ws: WebSocketConnection | None = None
    _subscribe_ids: int = 0
    _live_streams: set[str] = attrs.field(factory=set)

    def __attrs_post_init__(self) -> None:
        self.venue = self.settings.venue or VENUE
        self.rest = RestChannel(self.venue, self.settings.rest_url, RateLimiter(self.venue, c.RATE_RULES), map_error,
                                timeout=self.settings.request_timeout)

    # ================================================================ signing and requests
    def _credentials(self) -> Credentials:
        if self.settings.credentials is None:
            raise e.AuthenticationError("no Binance API key configured", venue=self.venue)
        return self.settings.credentials

    def _now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def _public(self, method: str, path: str, params: dict[str, str | int] | None = None) -> PreparedRequest:
        return PreparedRequest(method, path, urlencode(params or {}))

    def _signed(self, method: str, path: str, params: dict[str, str | int]) -> Resignable:
        creds = self._credentials()

        def build() -> PreparedRequest:
            query = signed_query(creds, params, timestamp_ms=self._now_ms(),
                                 recv_window_ms=self.settings.recv_window_ms)
            return PreparedRequest(method, path, query, headers=key_header(creds))

        return Resignable(method, build)

    def _keyed(self, method: str, path: str, params: dict[str, str | int] | None = None) -> PreparedRequest:
        return PreparedRequest(method, path, urlencode(params or {}), headers=key_header(self._credentials()))

    # ================================================================ lifecycle
    async def connect(self) -> None:
        await self.rest.open()
        before = time.time()
        server = await self.rest.send(self._public("GET", c.SERVER_TIME), s.ServerTime, weight=1)
        midpoint_ms = int((before + time.time()) / 2 * 1000)
        self.clock_offset_ms = server.serverTime - midpoint_ms
        info = await self.rest.send(self._public("GET", c.EXCHANGE_INFO), s.ExchangeInfo, weight=20)
        self._instruments.clear()
        self._by_id.clear()
        for symbol in info.symbols:
            instrument = instrument_from(symbol)
            self._instruments[instrument.symbol] = instrument
            self._by_id[instrument.venue_symbol] = instrument
        await self.get_account_info()  # proves the key and signature before we report connected
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False
        await self.rest.aclose()

    @property
    def is_connected(self) -> bool:
        return self._connected

    def instruments(self) -> list[Instrument]:
        return sorted(self._instruments.values(), key=lambda i: i.symbol)

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise e.InvalidOrder(f"unknown symbol {symbol!r} on Binance spot", venue=self.venue,
                                 filter="SYMBOL") from None

    # ================================================================ account
    async def _account(self) -> s.Account:
        return await self.rest.send(self._signed("GET", c.ACCOUNT, {"omitZeroBalances": "true"}),
                                    s.Account, weight=20)

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
        t = await self.rest.send(self._public("GET", c.TICKER_24H, {"symbol": instrument.venue_symbol}),
                                 s.Ticker24h, weight=2)
        return Ticker(venue=self.venue, symbol=symbol, last=t.lastPrice, bid=t.bidPrice, bid_size=t.bidQty,
                      ask=t.askPrice, ask_size=t.askQty, timestamp=from_epoch_ms(t.closeTime))

    async def get_candles(self, symbol: str, interval: str, limit: int) -> list[Candle]:
        instrument = self.instrument(symbol)
        if interval not in c.KLINE_INTERVALS:
            raise e.InvalidOrder(f"Binance has no {interval!r} klines; use one of {sorted(c.KLINE_INTERVALS)}",
                                 venue=self.venue, filter="INTERVAL")
        rows = await self.rest.send(
            self._public("GET", c.KLINES, {"symbol": instrument.venue_symbol, "interval": interval,
                                                   "limit": max(1, min(limit, 1000))}),
            list[s.Kline], weight=2)
        now = to_epoch_ms(utc_now())
        return [Candle(venue=self.venue, symbol=symbol, interval=interval, open_time=from_epoch_ms(r[0]),
                       open=r[1], high=r[2], low=r[3], close=r[4], volume=r[5], closed=r[6] < now) for r in rows]

    async def _depth_snapshot(self, venue_symbol: str) -> s.Depth:
        return await self.rest.send(self._public("GET", c.DEPTH, {"symbol": venue_symbol, "limit": 100}),
                                    s.Depth, weight=5)

    # ================================================================ positions (spot meaning)
    def flat_position(self, symbol: str) -> Position:
        return Position(venue=self.venue, symbol=symbol, market_type=MarketType.SPOT, side=PositionSide.FLAT,
                        quantity=Decimal(0), updated_at=utc_now())

    async def get_positions(self) -> list[Position]:
        """Spot positions: holdings of each base asset whose market against the account's quote asset
        (option ``position_quote``, default USDT) exists, LONG, marked at the last price, with the
        average cost of our own trades as entry price (see README: deposits have no known cost)."""
        quote = self.settings.options.get("position_quote", "USDT")
        held = {b.currency: b.total for b in await self.get_balances() if b.total > 0}
        positions: list[Position] = []
        for instrument in self.instruments():
            if instrument.quote != quote or instrument.base not in held:
                continue
            positions.append(await self._spot_position(instrument, held[instrument.base]))
        return positions

    async def get_position(self, symbol: str) -> Position:
        instrument = self.instrument(symbol)
        held = (await self.get_balance(instrument.base)).total
        if held <= 0:
            return self.flat_position(symbol)
        return await self._spot_position(instrument, held)

    async def _spot_position(self, instrument: Instrument, quantity: Decimal) -> Position:
        mark = (await self.get_ticker(instrument.symbol)).last
        entry, realized = average_cost(await self.get_fills(instrument.symbol, limit=1000), instrument)
        unrealized = (mark - entry) * quantity if entry is not None else Decimal(0)
        return Position(venue=self.venue, symbol=instrument.symbol, market_type=MarketType.SPOT,
                        side=PositionSide.LONG, quantity=quantity, entry_price=entry, mark_price=mark,
                        unrealized_pnl=unrealized, realized_pnl=realized, leverage=Decimal(1),
                        margin_mode=MarginMode.CASH, updated_at=utc_now())

    # ================================================================ orders
    async def place_order(self, request: OrderRequest) -> Order:
        instrument = self.instrument(request.symbol)
        if request.type not in ORDER_TYPE_TO_VENUE:
            raise e.NotSupported(f"Binance spot has no {request.type} orders", venue=self.venue)
        if request.reduce_only:
            raise e.NotSupported("reduce-only does not exist on Binance spot", venue=self.venue)
        needs_price = request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        if needs_price and request.price is None:
            raise e.InvalidOrder("a limit order needs a price", venue=self.venue, filter="PRICE_FILTER")
        check_filters(instrument, request.quantity, request.price if needs_price else None, None)
        params: dict[str, str | int] = {
            "symbol": instrument.venue_symbol, "side": SIDE_TO_VENUE[request.side],
            "type": ORDER_TYPE_TO_VENUE[request.type], "quantity": plain(request.quantity),
            "newClientOrderId": request.client_order_id or "", "newOrderRespType": "FULL",
        }
        if request.time_in_force is TimeInForce.POST_ONLY and request.type is OrderType.LIMIT:
            params["type"] = "LIMIT_MAKER"
        elif needs_price:
            if request.time_in_force not in TIF_TO_VENUE:
                raise e.NotSupported(f"Binance spot has no {request.time_in_force} time in force", venue=self.venue)
            params["timeInForce"] = TIF_TO_VENUE[request.time_in_force]
        if needs_price:
            assert request.price is not None
            params["price"] = plain(request.price)
        if request.stop_price is not None:
            params["stopPrice"] = plain(request.stop_price)
        answer = await self.rest.send(self._signed("POST", c.ORDER, params), s.OrderResponse,
                                      weight=1, orders=1)
        return order_from(answer, instrument)

    def _order_ref(self, instrument: Instrument, order_id: str | None,
                   client_order_id: str | None) -> dict[str, str | int]:
        params: dict[str, str | int] = {"symbol": instrument.venue_symbol}
        if order_id is not None:
            params["orderId"] = order_id
        elif client_order_id is not None:
            params["origClientOrderId"] = client_order_id
        else:
            raise e.InvalidOrder("an order id or a client order id is needed", venue=self.venue)
        return params

    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order:
        instrument = self.instrument(symbol)
        answer = await self.rest.send(
            self._signed("DELETE", c.ORDER, self._order_ref(instrument, order_id, client_order_id)),
            s.OrderResponse, weight=1)
        return order_from(answer, instrument)

    async def get_order_status(self, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order:
        instrument = self.instrument(symbol)
        answer = await self.rest.send(
            self._signed("GET", c.ORDER, self._order_ref(instrument, order_id, client_order_id)),
            s.OrderResponse, weight=4)
        return order_from(answer, instrument)

    async def get_orders(self, symbol: str | None = None, *, open_only: bool = True) -> list[Order]:
        if open_only:
            params: dict[str, str | int] = {}
            if symbol is not None:
                params["symbol"] = self.instrument(symbol).venue_symbol
            rows = await self.rest.send(self._signed("GET", c.OPEN_ORDERS, params), list[s.OrderResponse],
                                        weight=6 if symbol else 80)
        else:
            if symbol is None:
                raise e.NotSupported("Binance lists finished orders per symbol only: pass a symbol",
                                     venue=self.venue)
            rows = await self.rest.send(
                self._signed("GET", c.ALL_ORDERS, {"symbol": self.instrument(symbol).venue_symbol,
                                                          "limit": 1000}),
                list[s.OrderResponse], weight=20)
        return [order_from(r, self._by_id[r.symbol]) for r in rows if r.symbol in self._by_id]

    async def get_fills(self, symbol: str, *, since: datetime | None = None, limit: int = 500) -> list[Fill]:
        instrument = self.instrument(symbol)
        params: dict[str, str | int] = {"symbol": instrument.venue_symbol, "limit": min(max(limit, 1), 1000)}
        if since is not None:
            params["startTime"] = to_epoch_ms(since)
        trades: list[s.MyTrade] = []
        while True:
            page = await self.rest.send(self._signed("GET", c.MY_TRADES, params), list[s.MyTrade],
                                        weight=20)
            trades += page
            if len(page) < int(params["limit"]) or len(trades) >= limit:
                break
            params = {"symbol": instrument.venue_symbol, "limit": params["limit"], "fromId": page[-1].id + 1}
        trades = trades[:limit]  # paging fetches whole pages; the caller asked for at most `limit`
        client_ids = await self._client_ids(instrument, {t.orderId for t in trades})
        return [fill_from_trade(t, instrument, client_ids.get(t.orderId, "")) for t in trades]

    async def _client_ids(self, instrument: Instrument, order_ids: set[int]) -> dict[int, str]:
        """myTrades has no client order id: take it from the symbol's order history (one request)."""
        if not order_ids:
            return {}
        first = min(order_ids)
        rows = await self.rest.send(
            self._signed("GET", c.ALL_ORDERS, {"symbol": instrument.venue_symbol, "orderId": first,
                                                      "limit": 1000}),
            list[s.OrderResponse], weight=20)
        return {r.orderId: r.clientOrderId for r in rows}

    # ================================================================ streams
    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        names = sorted({stream_name(sub, self.instrument(sub.symbol)) for sub in subscriptions
                        if sub.symbol in self._instruments})
        if not names:
            # Nothing asked yet: open the socket anyway so later subscriptions go live at once.
            names = []
        parser = MarketParser(self._by_id, emit, self._depth_snapshot)
        url = f"{self.settings.ws_url}/stream" + (f"?streams={'/'.join(names)}" if names else "")
        self._live_streams = set(names)

        async def opened(ws: WebSocketConnection) -> None:
            self._public_ws = ws

        try:
            await run_websocket(url, parser.on_message, venue=self.venue, on_open=opened, ping_interval=20,
                                stale_after=60 if names else None, task_status=started_without_value(task_status))
        finally:
            self._public_ws = None

    async def subscribe(self, added: Iterable[Subscription]) -> None:
        names = sorted({stream_name(sub, self.instrument(sub.symbol)) for sub in added} - self._live_streams)
        if not names or self._public_ws is None:
            return  # not connected: the next connection subscribes to the whole set
        self._subscribe_ids += 1
        await self._public_ws.send_message(json.dumps({"method": "SUBSCRIBE", "params": names,
                                                       "id": self._subscribe_ids}))
        self._live_streams |= set(names)

    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        key = (await self.rest.send(self._keyed("POST", c.USER_DATA_STREAM), s.ListenKey, weight=2)).listenKey
        parser = UserParser(self._by_id, emit)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._keep_listen_key_alive, key)
            await run_websocket(f"{self.settings.ws_url}/ws/{key}", parser.on_message, venue=self.venue,
                                ping_interval=20, task_status=started_without_value(task_status))

    async def _keep_listen_key_alive(self, key: str) -> None:
        while True:
            await trio.sleep(c.LISTEN_KEY_KEEPALIVE_S)
            await self.rest.send(self._keyed("PUT", c.USER_DATA_STREAM, {"listenKey": key}), s.Empty,
                                 weight=2)

