"""Alpaca US stocks: the Broker contract on the Trading API v2 and Market Data API v2, built on the chassis.

Two REST hosts: the trading API (the settings' ``rest_url``, paper or live, 200 requests a minute) and market
data (``data.alpaca.markets``, its own 200 a minute on the Basic plan; option ``data_requests_per_minute``),
each a `RestChannel` with its own window fed by ``X-RateLimit-Remaining``. No signing: two key headers.

Market hours (design §11, `session`): the venue is the truth. ``/v2/clock`` anchors the venue's time on
trio's clock (`session.VenueClock`) and ``/v2/calendar`` is cached and read again every few hours;
every order passes the pre-trade policy (option ``market_hours_policy``: ``reject`` by default, or
``queue``) before it is sent. The private stream's nursery also runs the session watch, which reports the
session and the time to the next transition as `BrokerStatus` at connect and at every transition.

Orders: `mapping.order_body` refuses what Alpaca documents it refuses; idempotency rests on Alpaca keeping a
``client_order_id`` for ever (a resend is 422 "client_order_id must be unique" = already placed: look it
up). A replace (`amend_order`, PATCH) creates a new order with a new id: the reply is the new order, under
the new client order id (given, or generated here so a lost answer can be looked up); the old order ends
CANCELED with ``reject_reason`` "replaced by <new id>". Closing a position is a market order carrying our
client order id (see `close_position_request`), never ``DELETE /v2/positions/{symbol}``.

Fills for reconciliation come from FILL account activities (account-wide, paged by ``page_token``); they
carry no client order id, which comes from the order (cached from placements and streams, else looked up).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlencode

import attrs
import msgspec
import trio

from brokers.alpaca import constants as c
from brokers.alpaca import schemas as s
from brokers.alpaca import session
from brokers.alpaca.auth import rest_headers
from brokers.alpaca.errors import map_error
from brokers.alpaca.mapping import (
    account_info_from,
    activities_in_execution_order,
    balance_from,
    candles_from_page,
    fill_from_activity,
    instrument_from,
    order_body,
    orders_from,
    position_from,
    replace_body,
    ticker_from_snapshot,
    timeframe,
    trade_from,
    utc,
)
from brokers.alpaca.stream import (
    DataParser,
    TradingParser,
    data_channels,
    open_data_stream,
    open_trading_stream,
    send_subscribe,
    subscribe_message,
)
from brokers.base import Emit, Subscription
from brokers.features import check_order_features
from brokers.instruments import check_filters
from brokers.intervals import longest_length
from brokers.paging import Page, collect, next_token
from brokers.placement import ResendRule
from brokers.ratelimit import RateLimiter
from brokers.rest import AnswerDecoder, PreparedRequest, RestChannel
from brokers.stream import Freshness, run_public_socket, run_websocket, started_without_value
from brokers.transport import WebSocketConnection
from brokers.venue import VenueClient
from brokers.wire import json_body
from protocol import errors as e
from protocol import messages as m
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    Fill,
    Instrument,
    LeverageInfo,
    MarginMode,
    MarketClock,
    MarketDay,
    MarketSession,
    Order,
    OrderRequest,
    OrderType,
    Position,
    PositionSide,
    Side,
    Ticker,
    TimeInForce,
    Trade,
    utc_now,
)
from protocol.model import new_client_order_id as generate_client_order_id

log = logging.getLogger(__name__)

T = TypeVar("T")
RECENT_ORDERS = 10_000  # order id -> client order id kept for FILL activities (which name no client id)
DATA_HISTORY_START = datetime(2016, 1, 1, tzinfo=UTC)  # Alpaca's stock data begins in 2016
CANCEL_CONFIRM_POLLS = 5  # a cancel Alpaca has not confirmed yet (pending_cancel) is read again this often
CANCEL_CONFIRM_DELAY_S = 0.2
SESSION_RETRY_S = 30.0  # the session watch retries a failed calendar read after this long


class NoContent(msgspec.Struct):
    """A 204 answer (``DELETE /v2/orders/{id}``): nothing to decode."""


def _decode_answer(body: bytes, wanted: Any, headers: Mapping[str, str]) -> Any:
    """Alpaca answers failures with HTTP >= 400 (errors.py); a 2xx body decodes as it is, an empty one (204)
    only where nothing was expected."""
    if wanted is NoContent:
        return NoContent()
    return msgspec.json.decode(body, type=wanted)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@attrs.define
class StatusKeeper:
    """What this venue says about itself, kept whole: the router keeps only a venue's latest report, so a
    market-data report carries the session along and a session report the market-data state."""

    venue: str
    emit: Emit
    session: MarketSession | None = None
    next_change: datetime | None = None
    degraded: bool = False

    async def report(self, status: m.BrokerStatus) -> None:
        """A status from the public sockets' health (or any other): add the session."""
        self.degraded = status.market_data_degraded
        await self.emit(msgspec.structs.replace(status, session=self.session,
                                                next_session_change=self.next_change))

    async def session_changed(self, current: MarketSession, next_change: datetime, now: datetime) -> None:
        self.session, self.next_change = current, next_change
        await self.emit(m.BrokerStatus(venue=self.venue, state=m.ConnectionState.CONNECTED,
                                       market_data_degraded=self.degraded, session=current,
                                       next_session_change=next_change, timestamp=now))

    def tracked(self, event_emit: Emit) -> Emit:
        """``event_emit`` with every `BrokerStatus` completed by `report`."""
        async def emit(event: m.EventMsg) -> None:
            if isinstance(event, m.BrokerStatus):
                await self.report(event)
            else:
                await event_emit(event)

        return emit


@attrs.define(eq=False)
class AlpacaBroker(VenueClient):
    """Alpaca US stocks over the Trading and Market Data APIs and their two streams."""

    VENUE: ClassVar[str] = c.VENUE
    stream_channels = frozenset(c.DATA_CHANNELS)
    rate_rules = tuple(c.rate_rules())
    order_features = c.ORDER_FEATURES
    stale_after = c.STALE_AFTER
    options_taken = c.OPTIONS
    feed: c.DataFeed = attrs.field(init=False)
    policy: session.MarketHoursPolicy = attrs.field(init=False)
    data: RestChannel = attrs.field(init=False)
    _venue_clock: session.VenueClock | None = None
    _calendar: session.MarketCalendar | None = None
    _calendar_read_at: float = 0.0
    _calendar_lock: trio.Lock = attrs.field(factory=trio.Lock)
    _client_ids: OrderedDict[str, str] = attrs.field(factory=OrderedDict)  # order id -> client order id
    _status: StatusKeeper | None = None
    _public_ws: WebSocketConnection | None = None
    _parser: DataParser | None = None
    _freshness: Freshness | None = None
    _subscribed: set[Subscription] = attrs.field(factory=set)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        options = self.settings.options
        try:
            self.feed = c.DataFeed(options.get(c.OPTION_FEED, c.DataFeed.IEX.value))
            self.policy = session.MarketHoursPolicy(options.get(c.OPTION_POLICY, session.MarketHoursPolicy.REJECT))
            per_minute = int(options.get(c.OPTION_DATA_RATE, str(c.REQUESTS_PER_MINUTE)))
            if per_minute < 1:
                raise ValueError(f"{c.OPTION_DATA_RATE} must be positive, not {per_minute}")
        except ValueError as bad:
            raise e.NotSupported(f"Alpaca options: {bad} (feed: iex|sip, {c.OPTION_POLICY}: reject|queue, "
                                 f"{c.OPTION_DATA_RATE}: a number)", venue=self.venue) from None
        self.data = RestChannel(self.venue, self.data_url(), RateLimiter(self.venue, c.rate_rules(per_minute)),
                                self.map_error, timeout=self.settings.request_timeout,
                                decode_answer=_decode_answer)

    # ================================================================ endpoints
    def data_url(self) -> str:
        """Option ``data_url``; Alpaca's data host beside its trading hosts; else (an emulator) the same URL."""
        rest = self.settings.rest_url.rstrip("/")
        return self.settings.options.get(c.OPTION_DATA_URL) or c.DATA_HOSTS.get(rest, rest)

    def trading_stream_url(self) -> str:
        rest = self.settings.rest_url.rstrip("/")
        return self.settings.private_ws_url or c.TRADING_STREAMS.get(
            rest, self.settings.ws_url.rstrip("/") + c.TRADING_STREAM_PATH)

    def data_stream_url(self) -> str:
        return self.settings.ws_url.rstrip("/") + c.DATA_STREAM_PATH.format(feed=self.feed.value)

    # ================================================================ the chassis hooks
    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
        # X-RateLimit-Reset is on the venue's clock (an emulator's may run on another day).
        return map_error(status, body, headers, now_s=self.venue_now().timestamp())

    def answer_decoder(self) -> AnswerDecoder | None:
        return _decode_answer

    def resend_rule(self) -> ResendRule:
        """No expiry, but client order ids unique for ever: resending a lost order with the same id is safe at once,
        and a duplicate answer means it was placed (README, "Order entry")."""
        return ResendRule(unique_client_ids=True, source=c.RESEND_SOURCE)

    async def connect(self) -> None:
        await self.data.open()
        await super().connect()
        await self.calendar_at(self.venue_now())

    async def disconnect(self) -> None:
        await super().disconnect()
        await self.data.aclose()

    async def sync_clock(self) -> None:
        """``/v2/clock``: the chassis offset, and the venue's time carried on trio's clock (`venue_now`)."""
        await self._read_clock()

    async def server_time_ms(self) -> int:
        clock = await self._read_clock()
        return int(clock.timestamp.timestamp() * 1000)

    async def _read_clock(self) -> s.Clock:
        before = trio.current_time()
        clock = await self._get(c.CLOCK, {}, s.Clock)
        read_at = (before + trio.current_time()) / 2
        self._venue_clock = session.VenueClock(utc(clock.timestamp), read_at)
        self.clock_offset_ms = int((utc(clock.timestamp) - utc_now()).total_seconds() * 1000)
        return clock

    def venue_now(self) -> datetime:
        """The venue's time now (ours until the clock was first read)."""
        if self._venue_clock is None:
            return utc_now()
        return self._venue_clock.now(trio.current_time())

    async def load_instruments(self) -> list[Instrument]:
        assets = await self._get(c.ASSETS, {"status": "active", "asset_class": "us_equity"}, list[s.Asset])
        return [instrument_from(asset) for asset in assets if asset.asset_class == "us_equity"]

    async def check_credentials(self) -> None:
        await self._account()  # proves the keys before we report connected

    # ================================================================ requests
    def _headers(self) -> dict[str, str]:
        return rest_headers(self.credentials())

    async def _get(self, path: str, params: Mapping[str, str | int], wanted: type[T], *,
                   data: bool = False) -> T:
        channel = self.data if data else self.rest
        return await channel.send(PreparedRequest("GET", path, urlencode(params), headers=self._headers()), wanted)

    async def _write(self, method: str, path: str, body: Mapping[str, object] | None, wanted: type[T], *,
                     orders: int = 0, query: Mapping[str, str] | None = None) -> T:
        headers = self._headers()
        raw = None
        if body is not None:
            raw = json_body(body)
            headers["Content-Type"] = "application/json"
        return await self.rest.send(PreparedRequest(method, path, urlencode(query or {}), raw, headers), wanted,
                                    orders=orders)

    # ================================================================ market hours
    async def calendar_at(self, now: datetime) -> session.MarketCalendar:
        """The cached calendar, read again (with the clock) when stale, near its end, or not covering ``now``."""
        async with self._calendar_lock:
            calendar = self._calendar
            day = now.astimezone(session.NEW_YORK).date()
            fresh = trio.current_time() - self._calendar_read_at < c.CALENDAR_REFRESH_S
            if calendar is not None and fresh and calendar.first <= day <= \
                    calendar.last - timedelta(days=c.CALENDAR_MARGIN_DAYS):
                return calendar
            await self._read_clock()
            day = self.venue_now().astimezone(session.NEW_YORK).date()
            first, last = day - timedelta(days=c.CALENDAR_DAYS_BEHIND), day + timedelta(days=c.CALENDAR_DAYS_AHEAD)
            rows = await self._get(c.CALENDAR, {"start": first.isoformat(), "end": last.isoformat()},
                                   list[s.CalendarDay])
            self._calendar = session.MarketCalendar.from_rows(rows, first, last)
            self._calendar_read_at = trio.current_time()
            return self._calendar

    async def check_market_hours(self, request: OrderRequest) -> None:
        """The pre-trade policy (`session.check_order`) at the venue's time now."""
        now = self.venue_now()
        session.check_order(request, await self.calendar_at(now), now, self.policy)

    async def get_market_clock(self) -> MarketClock:
        calendar = await self.calendar_at(self.venue_now())
        clock = await self._get(c.CLOCK, {}, s.Clock)
        return session.clock_from(clock, calendar)

    async def get_market_calendar(self, start: date, end: date) -> list[MarketDay]:
        if end < start:
            raise e.InvalidOrder(f"calendar end {end} is before its start {start}", venue=self.venue,
                                 filter="PARAMETER")
        rows = await self._get(c.CALENDAR, {"start": start.isoformat(), "end": end.isoformat()},
                               list[s.CalendarDay])
        return session.MarketCalendar.from_rows(rows, start, end).market_days()

    async def watch_sessions(self, status: StatusKeeper) -> None:
        """Report the session at once and at every transition (waking exactly then); read the calendar again
        when it is due. A failed read is logged and retried: the session watch never ends the actor."""
        said: tuple[MarketSession, datetime] | None = None
        awaited: datetime | None = None  # the transition slept for: evaluated at its own instant
        while True:
            try:
                calendar = await self.calendar_at(self.venue_now())
                now = self.venue_now()
                if awaited is not None and now < awaited + timedelta(seconds=1):
                    now = max(now, awaited)  # waking a float's breadth early must not miss the change
                current, change = calendar.session_at(now), calendar.next_change(now)
            except (e.VenueUnavailable, e.ProtocolViolation, e.RateLimited) as failed:
                log.warning("alpaca: market calendar unavailable (%s); retrying in %.0fs", failed.message,
                            SESSION_RETRY_S)
                await trio.sleep(SESSION_RETRY_S)
                continue
            if said != (current, change):
                said = (current, change)
                local = utc_now()  # next_session_change on our clock: its distance from `local` is the venue's
                left = change - now
                log.info("alpaca: session %s; next change in %s", current.value, _duration(left))
                await status.session_changed(current, local + left, local)
            refresh_due = self._calendar_read_at + c.CALENDAR_REFRESH_S - trio.current_time()
            until_change = (change - now).total_seconds()
            awaited = change if until_change <= refresh_due else None
            await trio.sleep(max(min(until_change, refresh_due), 0.0))

    # ================================================================ account
    async def _account(self) -> s.Account:
        return await self._get(c.ACCOUNT, {}, s.Account)

    async def get_balances(self) -> list[Balance]:
        return [balance_from(await self._account())]

    async def get_account_info(self) -> AccountInfo:
        return account_info_from(await self._account(), utc_now())

    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        """Alpaca's margin is account-wide: the buying-power multiplier (1 cash, 2 Reg T, 4 intraday)."""
        self.instrument(symbol)
        multiplier = (await self._account()).multiplier or Decimal(1)
        return LeverageInfo(venue=self.venue, symbol=symbol, leverage=multiplier, max_leverage=multiplier,
                            margin_mode=MarginMode.CROSS if multiplier > 1 else MarginMode.CASH)

    # ================================================================ market data
    def _feed(self) -> dict[str, str | int]:
        return {"feed": self.feed.value}

    async def get_ticker(self, symbol: str) -> Ticker:
        instrument = self.instrument(symbol)
        path = c.STOCK_SNAPSHOT.format(symbol=quote(instrument.venue_symbol))
        return ticker_from_snapshot(await self._get(path, self._feed(), s.Snapshot, data=True), instrument)

    async def _bars(self, instrument: Instrument, interval: str, params: Mapping[str, str | int], limit: int
                    ) -> list[s.Bar]:
        path = c.STOCK_BARS.format(symbol=quote(instrument.venue_symbol))

        async def fetch(token: str | None) -> Page[s.Bar, str]:
            query = {**params, **self._feed(), "timeframe": timeframe(interval),
                     "limit": max(1, min(limit, c.DATA_LIMIT_MAX))}
            if token:
                query["page_token"] = token
            page = await self._get(path, query, s.BarsPage, data=True)
            return Page(page.bars or [], next_token(page.next_page_token))

        return (await collect(fetch, enough=limit, what=f"alpaca bars {instrument.symbol}"))[:limit]

    async def get_candles(self, symbol: str, interval: str, limit: int) -> list[Candle]:
        """The latest ``limit`` bars, oldest first (read newest first from a start far enough back to span
        nights, weekends and holidays)."""
        instrument = self.instrument(symbol)
        limit = max(1, min(limit, c.DATA_LIMIT_MAX))
        now = self.venue_now()
        step = _interval_length(interval)
        start = max(now - step * limit * 3 - timedelta(days=5), DATA_HISTORY_START)
        bars = await self._bars(instrument, interval, {"start": rfc3339(start), "sort": "desc"}, limit)
        page = s.BarsPage(symbol=instrument.venue_symbol, bars=bars)
        return candles_from_page(page, instrument, interval, now=now)

    async def get_historical_candles(self, symbol: str, interval: str, start: datetime, end: datetime | None,
                                     limit: int) -> list[Candle]:
        instrument = self.instrument(symbol)
        params: dict[str, str | int] = {"start": rfc3339(start), "sort": "asc"}
        if end is not None:
            params["end"] = rfc3339(end)
        bars = await self._bars(instrument, interval, params, max(1, limit))
        page = s.BarsPage(symbol=instrument.venue_symbol, bars=bars)
        return candles_from_page(page, instrument, interval, now=self.venue_now())

    async def get_trades(self, symbol: str, *, limit: int = 100, start: datetime | None = None,
                         end: datetime | None = None) -> list[Trade]:
        """Public trades, oldest first: from ``start`` on, or the latest ``limit`` (within the last 5 days)."""
        instrument = self.instrument(symbol)
        limit = max(1, min(limit, c.DATA_LIMIT_MAX))
        params: dict[str, str | int] = {**self._feed(), "limit": limit}
        if start is not None:
            params.update(start=rfc3339(start), sort="asc")
        else:
            params.update(start=rfc3339(self.venue_now() - timedelta(days=5)), sort="desc")
        if end is not None:
            params["end"] = rfc3339(end)
        page = await self._get(c.STOCK_TRADES.format(symbol=quote(instrument.venue_symbol)), params,
                               s.TradesPage, data=True)
        trades = [trade_from(row, instrument) for row in page.trades or ()]
        return sorted(trades, key=lambda trade: trade.timestamp)

    # ================================================================ positions
    async def venue_positions(self) -> list[Position]:
        now = utc_now()
        ids = self.index.venue_ids()
        return [position_from(row, ids[row.symbol], now) for row in await self._get(c.POSITIONS, {}, list[s.Position])
                if row.symbol in ids]

    async def venue_position(self, instrument: Instrument) -> Position:
        try:
            row = await self._get(c.POSITION.format(symbol=quote(instrument.venue_symbol)), {}, s.Position)
        except e.OrderNotFound:  # 404 40410000 "position does not exist"
            return self.flat_position(instrument.symbol)
        return position_from(row, instrument, utc_now())

    def close_position_request(self, position: Position, quantity: Decimal, client_order_id: str) -> OrderRequest:
        """A market DAY order for ``quantity`` on the other side, carrying our client order id.

        Not ``DELETE /v2/positions/{symbol}``: that call takes no client order id, so a lost answer cannot be
        looked up and a resend could close twice (and open the other way); an order with our id is placed
        once whatever the network does. DAY, because a fractional quantity is a DAY order at Alpaca."""
        return OrderRequest(venue=position.venue, symbol=position.symbol,
                            side=Side.SELL if position.side is PositionSide.LONG else Side.BUY, type=OrderType.MARKET,
                            quantity=quantity, time_in_force=TimeInForce.DAY, client_order_id=client_order_id)

    # ================================================================ orders
    def check_order(self, request: OrderRequest) -> Instrument:
        """Features, then lot and notional filters; prices are checked by `mapping.order_body` against the
        sub-penny rule (the tick depends on the price), not against one tick size."""
        instrument = self.instrument(request.symbol)
        check_order_features(request, self.order_features.get(instrument.market_type), venue=self.venue,
                             market=instrument.market_type)
        check_filters(instrument, request.quantity, None, notional=request.notional, venue=self.venue,
                      client_order_id=request.client_order_id)
        return instrument

    def remember(self, orders: Iterable[Order]) -> None:
        for order in orders:
            self._client_ids[order.order_id] = order.client_order_id
            self._client_ids.move_to_end(order.order_id)
        while len(self._client_ids) > RECENT_ORDERS:
            self._client_ids.popitem(last=False)

    def _orders(self, answer: s.Order) -> list[Order]:
        """An order with its legs (the parent first), remembered."""
        instrument = self.index.from_venue(answer.symbol)
        orders = orders_from(answer, instrument)
        self.remember(orders)
        return orders

    async def place_order(self, request: OrderRequest) -> Order:
        instrument = self.check_order(request)
        body = order_body(request, instrument, request.client_order_id or generate_client_order_id())
        await self.check_market_hours(request)
        answer = await self._write("POST", c.ORDERS, body, s.Order, orders=1)
        return self._orders(answer)[0]

    async def _order_id(self, order_id: str | None, client_order_id: str | None) -> str:
        if order_id:
            return order_id
        if not client_order_id:
            raise e.InvalidOrder("an order id or a client order id is needed", venue=self.venue, filter="PARAMETER")
        return (await self._by_client_id(client_order_id)).id

    async def _by_client_id(self, client_order_id: str) -> s.Order:
        try:
            return await self._get(c.ORDER_BY_CLIENT_ID, {"client_order_id": client_order_id}, s.Order)
        except e.OrderNotFound as missing:
            raise e.OrderNotFound(f"Alpaca knows no order {client_order_id}", venue=self.venue, code=missing.code,
                                  venue_message=missing.venue_message, client_order_id=client_order_id) from None

    async def _by_id(self, order_id: str) -> s.Order:
        return await self._get(c.ORDER.format(order_id=quote(order_id)), {"nested": "true"}, s.Order)

    async def get_order_status(self, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order:
        self.instrument(symbol)
        if order_id:
            answer = await self._by_id(order_id)
        elif client_order_id:
            answer = await self._by_client_id(client_order_id)
        else:
            raise e.InvalidOrder("an order id or a client order id is needed", venue=self.venue, filter="PARAMETER")
        return self._orders(answer)[0]

    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order:
        """``DELETE /v2/orders/{id}`` (204), then the order as Alpaca reports it, read again a few times while
        the cancel is still ``pending_cancel`` (Alpaca confirms cancels asynchronously)."""
        self.instrument(symbol)
        venue_id = await self._order_id(order_id, client_order_id)
        await self._write("DELETE", c.ORDER.format(order_id=quote(venue_id)), None, NoContent)
        for _ in range(CANCEL_CONFIRM_POLLS):
            answer = await self._by_id(venue_id)
            if answer.status != "pending_cancel":
                break
            await trio.sleep(CANCEL_CONFIRM_DELAY_S)
        return self._orders(answer)[0]

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Without a symbol: ``DELETE /v2/orders`` (every open order, one request, 207 per-order answers);
        with one: one by one (Alpaca's cancel-all is account-wide)."""
        if symbol is not None:
            return await super().cancel_all_orders(symbol)
        cancelled: list[Order] = []
        for row in await self._write("DELETE", c.ORDERS, None, list[s.CancelResult]):
            if row.status >= 300 or not row.body:
                log.warning("alpaca: cancel-all could not cancel %s (HTTP %s: %s)", row.id, row.status, row.body)
                continue
            answer = msgspec.convert(row.body, s.Order)
            if self.index.find(answer.symbol) is not None:
                cancelled.append(self._orders(answer)[0])
        return cancelled

    async def amend_order(self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None,
                          quantity: Decimal | None = None, price: Decimal | None = None,
                          stop_price: Decimal | None = None, new_client_order_id: str | None = None) -> Order:
        """Alpaca's replace (PATCH): a new order (new order id, new client order id) takes the old one's place.

        The new client order id is always sent (``new_client_order_id``, or one generated here): an answer
        lost on the way is then found by looking that id up, and a resend would be refused as a duplicate."""
        self.instrument(symbol)
        venue_id = await self._order_id(order_id, client_order_id)
        if quantity is None and price is None and stop_price is None:
            raise e.InvalidOrder("a replace must change the quantity, the price or the stop price", venue=self.venue,
                                 filter="PARAMETER")
        new_cid = new_client_order_id or generate_client_order_id()
        body = replace_body(quantity=quantity, price=price, stop_price=stop_price, new_client_order_id=new_cid)
        try:
            answer = await self._write("PATCH", c.ORDER.format(order_id=quote(venue_id)), body, s.Order, orders=1)
        except e.VenueUnavailable as lost:
            try:
                answer = await self._by_client_id(new_cid)
            except e.OrderNotFound:
                raise lost from None
        return self._orders(answer)[0]

    async def get_orders(self, symbol: str | None = None, *, open_only: bool = True) -> list[Order]:
        """Open (or all) orders, oldest first, with their bracket / OCO / OTO legs; paged by submission time
        (each page starts at the last one's time again, repeats dropped, so equal times are never skipped)."""
        params: dict[str, str | int] = {"status": "open" if open_only else "all", "limit": c.ORDERS_LIMIT_MAX,
                                        "direction": "asc", "nested": "true"}
        if symbol is not None:
            params["symbols"] = self.instrument(symbol).venue_symbol
        seen: set[str] = set()

        async def fetch(after: datetime | None) -> Page[s.Order, datetime]:
            query = {**params, **({"after": rfc3339(after - timedelta(microseconds=1))} if after else {})}
            rows = await self._get(c.ORDERS, query, list[s.Order])
            new = [row for row in rows if row.id not in seen]
            seen.update(row.id for row in rows)
            last = (rows[-1].submitted_at or rows[-1].created_at) if rows else None
            more = len(rows) >= c.ORDERS_LIMIT_MAX and bool(new)
            return Page(new, last if more else None)

        rows = await collect(fetch, what=f"{self.venue} orders")
        ids = self.index.venue_ids()
        orders: list[Order] = []
        for row in rows:
            if row.symbol in ids:
                orders += self._orders(row)
        if open_only:
            orders = [order for order in orders if not order.status.is_terminal]
        return orders

    async def get_fills(self, symbol: str, *, since: datetime | None = None, limit: int = 500) -> list[Fill]:
        """Our executions in ``symbol`` from FILL activities, oldest first: from ``since`` on (the first
        ``limit``), or the latest ``limit``. Activities are account-wide, paged by ``page_token``."""
        instrument = self.instrument(symbol)
        params: dict[str, str | int] = {"page_size": c.ACTIVITIES_PAGE_SIZE_MAX,
                                        "direction": "asc" if since is not None else "desc"}
        if since is not None:
            params["after"] = rfc3339(since - timedelta(microseconds=1))  # "after" is exclusive, ours inclusive

        async def fetch(token: str | None) -> Page[s.FillActivity, str]:
            rows = await self._get(c.ACTIVITIES_FILL, {**params, **({"page_token": token} if token else {})},
                                   list[s.FillActivity])
            mine = [row for row in rows if row.symbol == instrument.venue_symbol and row.activity_type == "FILL"]
            more = len(rows) >= c.ACTIVITIES_PAGE_SIZE_MAX
            return Page(mine, rows[-1].id if more and rows else None)

        activities = activities_in_execution_order(await collect(fetch, enough=limit, what=f"alpaca fills {symbol}"))
        activities = activities[:limit] if since is not None else activities[-limit:]
        client_ids = await self._client_ids_of({row.order_id for row in activities})
        return [fill_from_activity(row, instrument, client_ids[row.order_id]) for row in activities]

    async def _client_ids_of(self, order_ids: set[str]) -> dict[str, str]:
        """FILL activities name no client order id: take it from the order (remembered, else looked up)."""
        found = {oid: self._client_ids[oid] for oid in order_ids if oid in self._client_ids}
        for oid in sorted(order_ids - set(found)):
            answer = await self._get(c.ORDER.format(order_id=quote(oid)), {}, s.Order)
            self._client_ids[oid] = found[oid] = answer.client_order_id
        return found

    # ================================================================ streams
    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """``trade_updates`` on the trading stream, and the session watch beside it (both for the life of
        the connection: a failure of the stream ends both, and the supervisor reconnects and reconciles)."""
        status = self._status_keeper(emit)
        parser = TradingParser(self.index.venue_ids(), emit, lambda order: self.remember([order]))
        credentials = self.credentials()

        async def opened(ws: WebSocketConnection) -> None:
            await open_trading_stream(ws, credentials)

        async def trading_stream(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            await run_websocket(self.trading_stream_url(), parser.on_message, venue=self.venue, on_open=opened,
                                ping_interval=c.WS_PING_INTERVAL_S, task_status=started_without_value(task_status))

        async with trio.open_nursery() as nursery:
            await nursery.start(trading_stream)
            nursery.start_soon(self.watch_sessions, status)
            task_status.started()

    def _status_keeper(self, emit: Emit) -> StatusKeeper:
        if self._status is None or self._status.emit != emit:
            self._status = StatusKeeper(self.venue, emit)
        return self._status

    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The market data stream, re-opened on failure with everything subscribed so far."""
        status = self._status_keeper(emit)
        self._subscribed = {sub for sub in subscriptions if self.index.knows(sub.symbol)}
        self._freshness = freshness = self.freshness()
        freshness.watch(self._subscribed)
        credentials = self.credentials()

        parser = DataParser(self.index.venue_ids(), freshness.track(emit))
        parser.want(self._subscribed)
        self._parser = parser

        async def report_refusals() -> None:
            while parser.refusals:
                error = parser.refusals.pop(0)
                await status.report(m.BrokerStatus(
                    venue=self.venue, state=m.ConnectionState.CONNECTED, market_data_degraded=status.degraded,
                    reason=f"market data subscription refused: {error.message} ({error.venue_message})",
                    timestamp=utc_now()))

        async def opened(ws: WebSocketConnection) -> None:
            self._public_ws = ws
            await open_data_stream(ws, credentials, subscribe_message(data_channels(self._subscribed)), parser)
            await report_refusals()
            await self._seed_last_prices(parser, self._subscribed)  # after auth: its 10 s run from the connect

        async def on_message(text: str) -> None:
            await parser.on_message(text)
            await report_refusals()

        try:
            await run_public_socket(self.data_stream_url, on_message, venue=self.venue, name="market data",
                                    reopen=self.public_reopen(status.tracked(emit)), on_open=opened,
                                    freshness=freshness,
                                    ping_interval=c.WS_PING_INTERVAL_S, task_status=task_status)
        finally:
            self._public_ws = None
            self._parser = None
            self._freshness = None

    async def _seed_last_prices(self, parser: DataParser, subscriptions: Iterable[Subscription]) -> None:
        """A ticker needs the last trade's price before the first quote: read it once per new ticker symbol."""
        for symbol in sorted({sub.symbol for sub in subscriptions if sub.channel is m.StreamChannel.TICKER}):
            if symbol not in parser.last:
                try:
                    parser.last[symbol] = (await self.get_ticker(symbol)).last
                except (e.ProtocolViolation, e.VenueUnavailable, e.RateLimited) as failed:
                    log.info("alpaca: no last price for %s yet (%s); tickers start with the first trade",
                             symbol, failed.message)

    async def subscribe(self, added: Iterable[Subscription]) -> None:
        new = {sub for sub in added if self.index.knows(sub.symbol)} - self._subscribed
        if not new:
            return
        self._subscribed |= new
        if self._freshness is not None:
            self._freshness.watch(new)
        if self._parser is not None:
            self._parser.want(new)
            await self._seed_last_prices(self._parser, new)
        await send_subscribe(self._public_ws, subscribe_message(data_channels(new)))


def _interval_length(interval: str) -> timedelta:
    """The longest a bar of ``interval`` lasts; an interval Alpaca does not serve is refused (typed)."""
    return longest_length(c.TIMEFRAMES_FROM_VENUE[timeframe(interval)], venue=c.VENUE)


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{days}d " if days else "") + f"{hours}h{minutes:02d}m"

