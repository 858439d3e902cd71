"""Bybit V5 websockets: one public connection per category, one private connection, parsed to events.

Public (``/v5/public/{spot,linear,inverse}``): ``subscribe`` ops (at most 10 topics per op, the spot
limit), topics ``publicTrade``, ``tickers`` (linear/inverse send a snapshot then deltas that carry
only changed fields), ``kline.1`` and ``orderbook.50`` (snapshot, then deltas whose ``u`` must follow
by one: on a gap the topic is unsubscribed and subscribed again, which makes Bybit send a fresh
snapshot, and nothing is emitted for that book until it arrives).

Private (``/v5/private``): ``auth`` (HMAC of ``GET/realtime{expires}``), then ``order``,
``execution``, ``position`` and ``wallet``. Both answers are awaited before the stream counts as
started, so reconciliation never runs against a stream that is not yet delivering.

Heartbeat: Bybit wants a JSON ``{"op": "ping"}`` every 20 s (protocol pings do not count); the
pong is a message like any other, so the silence watchdog notices a dead connection.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterable, Mapping

import attrs
import msgspec
import trio

from brokers.base import Emit, Subscription
from brokers.bybit import constants as c
from brokers.bybit import schemas as s
from brokers.bybit.auth import ws_auth_message
from brokers.bybit.book import BybitOrderBook
from brokers.bybit.constants import Category
from brokers.bybit.mapping import (
    balance_from,
    candle_from_ws,
    category_of_instrument,
    fill_from_execution,
    is_trade_execution,
    merge_ticker,
    order_from,
    position_from,
    ticker_from,
    trade_from,
)
from brokers.instruments import InstrumentIndex
from brokers.stream import Freshness, Reopen, run_public_socket, run_websocket, started_without_value
from brokers.transport import ConnectionClosed, WebSocketConnection
from protocol.credentials import Credentials
from protocol.errors import AuthenticationError, ProtocolViolation, VenueUnavailable
from protocol.messages import StreamChannel
from protocol.model import Instrument, MarginMode, from_epoch_ms

log = logging.getLogger(__name__)

_header = s.WS_HEADER_DECODER
_op = msgspec.json.Decoder(s.WsOpResponse)
_trades = msgspec.json.Decoder(s.WsTradeMessage)
_ticker = msgspec.json.Decoder(s.WsTickerMessage)
_kline = msgspec.json.Decoder(s.WsKlineMessage)
_book = msgspec.json.Decoder(s.WsOrderbookMessage)
_orders = msgspec.json.Decoder(s.WsOrderMessage)
_executions = msgspec.json.Decoder(s.WsExecutionMessage)
_positions = msgspec.json.Decoder(s.WsPositionMessage)
_wallet = msgspec.json.Decoder(s.WsWalletMessage)
_TRADES = '{"topic":"publicTrade.'  # how Bybit begins a publicTrade message: the topic first


def topic_of(sub: Subscription, instrument: Instrument) -> str:
    return c.PUBLIC_TOPICS[sub.channel].format(symbol=instrument.venue_symbol)


async def _app_ping(ws: WebSocketConnection) -> None:
    await ws.send_message(c.PING_MESSAGE.decode())


@attrs.define
class PublicConnection:
    """One category's public socket: its topics, its books and tickers, its parser."""

    category: Category
    symbols: InstrumentIndex
    emit: Emit
    venue: str
    topics: set[str] = attrs.field(factory=set)
    ws: WebSocketConnection | None = None
    books: dict[str, BybitOrderBook] = attrs.field(factory=dict)
    tickers: dict[str, s.WsTicker] = attrs.field(factory=dict)
    req_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    unreadable: int = 0
    resyncs: int = 0

    async def send_op(self, op: str, topics: Iterable[str]) -> None:
        """Send ``op`` for ``topics`` (10 per op); without an open socket the next one subscribes all."""
        wanted = sorted(topics)
        if self.ws is None:
            return
        try:
            for start in range(0, len(wanted), c.TOPICS_PER_OP):
                chunk = wanted[start:start + c.TOPICS_PER_OP]
                await self.ws.send_message(json.dumps({"op": op, "req_id": f"{op}-{next(self.req_ids)}",
                                                       "args": chunk}))
        except ConnectionClosed:
            return  # the socket is re-opening: `opened` subscribes every topic again

    async def opened(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.books.clear()
        self.tickers.clear()
        await self.send_op("subscribe", self.topics)

    async def on_message(self, text: str) -> None:
        try:
            await self._dispatch(text)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            self.unreadable += 1  # one unreadable price message is not worth a reconnect
            log.warning("%s: skipped an unreadable %s market message (%s)", self.venue, self.category, error)

    async def _dispatch(self, text: str) -> None:
        if text.startswith(_TRADES):  # the busiest topic, decoded in one pass (the prefix only routes)
            await self._on_trades(_trades.decode(text))
            return
        header = _header.decode(text)
        if not header.topic:
            if header.op == "subscribe":
                answer = _op.decode(text)
                if answer.success is False:
                    log.error("%s %s: subscription refused: %s", self.venue, self.category, answer.ret_msg)
            return  # pong and other op answers
        match header.topic.split("."):
            case ["publicTrade", _]:
                await self._on_trades(_trades.decode(text))
            case ["tickers", _]:
                await self._on_ticker(_ticker.decode(text))
            case ["kline", _, symbol]:
                await self._on_klines(symbol, _kline.decode(text))
            case ["orderbook", _, _]:
                await self._on_book(header.topic, _book.decode(text))

    async def _on_trades(self, message: s.WsTradeMessage) -> None:
        emit, symbol, instrument = self.emit, "", None
        for trade in message.data:
            if trade.s != symbol:  # one message is one symbol's: look it up once
                symbol, instrument = trade.s, self._instrument(trade.s)
            if instrument is not None:
                await emit(trade_from(trade, instrument))

    async def _on_ticker(self, tick: s.WsTickerMessage) -> None:
        instrument = self._instrument(tick.data.symbol)
        if instrument is None:
            return
        if tick.type == "delta" and tick.data.symbol not in self.tickers:
            return  # a delta before its snapshot (e.g. right after resubscribing): wait for one
        merged = merge_ticker(self.tickers.get(tick.data.symbol), tick.data, tick.type)
        self.tickers[tick.data.symbol] = merged
        if merged.lastPrice:
            await self.emit(ticker_from(merged, instrument, from_epoch_ms(tick.ts)))

    async def _on_klines(self, venue_symbol: str, klines: s.WsKlineMessage) -> None:
        instrument = self._instrument(venue_symbol)
        if instrument is not None:
            for kline in klines.data:
                await self.emit(candle_from_ws(kline, instrument))

    async def _on_book(self, topic: str, message: s.WsOrderbookMessage) -> None:
        instrument = self._instrument(message.data.s)
        if instrument is None:
            return
        book = self.books.setdefault(message.data.s, BybitOrderBook(message.data.s, c.BOOK_DEPTH))
        if message.type == "delta" and not book.ready:
            return  # waiting for the snapshot a resubscription asked for
        try:
            book.apply_message(message)
        except ProtocolViolation as gap:
            # Never serve a corrupt book: drop it and ask Bybit for a new snapshot on this connection.
            self.resyncs += 1
            log.warning("%s: %s; resubscribing %s", self.venue, gap.message, topic)
            await self.send_op("unsubscribe", [topic])
            await self.send_op("subscribe", [topic])
            return
        await self.emit(book.snapshot(instrument, c.BOOK_LEVELS_EMITTED))

    def _instrument(self, venue_symbol: str) -> Instrument | None:
        return self.symbols.find(venue_symbol, self.category)


@attrs.define
class PublicStreams:
    """The public sockets of every configured category, each re-opening itself on failure (a drop of
    one leaves the others, orders and the private stream alone)."""

    ws_url: str
    symbols: InstrumentIndex
    emit: Emit
    categories: tuple[Category, ...]
    venue: str
    reopen: Reopen
    stale_limits: Mapping[StreamChannel, float | None] = attrs.field(factory=dict)
    connections: dict[Category, PublicConnection] = attrs.field(factory=dict)
    freshness: dict[Category, Freshness] = attrs.field(factory=dict)

    async def run(self, subscriptions: set[Subscription], *,
                  task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        for category in self.categories:
            freshness = self.freshness[category] = Freshness(self.stale_limits)
            self.connections[category] = PublicConnection(category, self.symbols, freshness.track(self.emit),
                                                          self.venue)
        self._add(subscriptions)
        async with trio.open_nursery() as nursery:
            for category, connection in self.connections.items():
                await nursery.start(self._run_one, category, connection)
            task_status.started()

    async def _run_one(self, category: Category, connection: PublicConnection, *,
                       task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            await run_public_socket(f"{self.ws_url}/v5/public/{category.value}", connection.on_message,
                                    venue=self.venue, name=f"public/{category}", reopen=self.reopen,
                                    on_open=connection.opened, freshness=self.freshness[category],
                                    ping_interval=c.PING_INTERVAL_S, app_ping=_app_ping,
                                    stale_after=c.STALE_AFTER_S if connection.topics else None,
                                    task_status=task_status)
        finally:
            connection.ws = None

    def _add(self, subscriptions: Iterable[Subscription]) -> dict[Category, set[str]]:
        """File new subscriptions under their category's socket; the topics each socket gained."""
        added: dict[Category, set[str]] = {}
        for sub in subscriptions:
            instrument = self.symbols.get(sub.symbol)
            category = category_of_instrument(instrument)
            connection = self.connections.get(category)
            topic = topic_of(sub, instrument)
            if connection is not None and topic not in connection.topics:
                connection.topics.add(topic)
                self.freshness[category].watch([sub])
                added.setdefault(category, set()).add(topic)
        return added

    async def subscribe(self, added: Iterable[Subscription]) -> None:
        for category, topics in self._add(added).items():
            await self.connections[category].send_op("subscribe", topics)


@attrs.define
class PrivateStream:
    """The private socket: authenticate, subscribe, then turn order/execution/position/wallet into events."""

    url: str
    credentials: Credentials
    symbols: InstrumentIndex
    emit: Emit
    now_ms: Callable[[], int]
    venue: str
    margin_mode: Callable[[], MarginMode]

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await run_websocket(self.url, self.on_message, venue=self.venue, on_open=self.opened,
                            ping_interval=c.PING_INTERVAL_S, app_ping=_app_ping, stale_after=c.STALE_AFTER_S,
                            task_status=started_without_value(task_status))

    async def opened(self, ws: WebSocketConnection) -> None:
        expires = self.now_ms() + c.WS_AUTH_EXPIRES_AHEAD_MS
        await ws.send_message(json.dumps(ws_auth_message(self.credentials, expires)))
        answer = await _await_op(ws, "auth")
        if not answer.success:
            raise AuthenticationError(f"Bybit refused the private stream login: {answer.ret_msg}", venue=self.venue,
                                      venue_message=answer.ret_msg)
        topics = [c.TOPIC_ORDER, c.TOPIC_EXECUTION, c.TOPIC_POSITION, c.TOPIC_WALLET]
        await ws.send_message(json.dumps({"op": "subscribe", "req_id": "private", "args": topics}))
        answer = await _await_op(ws, "subscribe")
        if not answer.success:
            raise VenueUnavailable(f"Bybit refused the private subscription: {answer.ret_msg}", venue=self.venue)

    async def on_message(self, text: str) -> None:
        try:
            header = _header.decode(text)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            raise ProtocolViolation(f"unreadable Bybit private message: {error}", venue=self.venue) from error
        topic = header.topic.split(".", 1)[0]  # "order" or a categorised "order.linear" alike
        try:
            match topic:
                case c.TOPIC_ORDER:
                    for info in _orders.decode(text).data:
                        instrument = self._instrument(info.category, info.symbol)
                        if instrument is not None:
                            await self.emit(order_from(info, instrument))
                case c.TOPIC_EXECUTION:
                    for execution in _executions.decode(text).data:
                        instrument = self._instrument(execution.category, execution.symbol)
                        if instrument is not None and is_trade_execution(execution):
                            await self.emit(fill_from_execution(execution, instrument))
                case c.TOPIC_POSITION:
                    for row in _positions.decode(text).data:
                        instrument = self._instrument(row.category, row.symbol)
                        if instrument is not None:
                            await self.emit(position_from(row, instrument, margin_mode=self.margin_mode()))
                case c.TOPIC_WALLET:
                    for account in _wallet.decode(text).data:
                        for coin in account.coin:
                            await self.emit(balance_from(coin))
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            # An order or fill we cannot read: reconnecting makes reconciliation recover it.
            raise ProtocolViolation(f"unreadable Bybit {topic} event: {error}", venue=self.venue) from error

    def _instrument(self, category: str, venue_symbol: str) -> Instrument | None:
        return self.symbols.find(venue_symbol, category)


async def _await_op(ws: WebSocketConnection, op: str) -> s.WsOpResponse:
    """Read until the answer to ``op`` (the caller's open-timeout bounds the wait)."""
    while True:
        message = await ws.get_message()
        text = message if isinstance(message, str) else message.decode()
        header = _header.decode(text)
        if header.op == op:
            return _op.decode(text)

