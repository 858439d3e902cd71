"""Kraken's websocket API v2: the public socket (ticker, trade, ohlc, book) and the private one
(executions, balances), parsed into events.

Public (``wss://ws.kraken.com/v2``): one socket for every subscribed symbol, re-opening itself on
failure (`brokers.stream.run_public_socket`); its ``on_open`` subscribes everything again and forgets the
books. The book is Kraken's checksummed L2 book (book.py): every snapshot and update is verified with
its CRC32; a mismatch drops that symbol's book and re-subscribes it on the same connection, so no wrong
book is ever served. Tickers are pushed on every best bid/offer change (``event_trigger: bbo``).

Private (``wss://ws-auth.kraken.com/v2``): no signature on the socket; a ``GetWebSocketsToken`` token
(a signed REST call, made by the client for each connection) goes into each subscription.
``executions`` starts with a snapshot of the open orders, then reports every order change and fill
(``exec_id`` is the trade txid REST uses, so fills from the stream and from reconciliation are the same
fills); ``balances`` reports ledger changes. Both acks are awaited before the stream counts as started
(messages arriving meanwhile -- the executions snapshot follows its ack at once -- are handled, not
skipped). Each private message carries a ``sequence`` per channel: a repeat is skipped, a gap raises
`ProtocolViolation` so the actor reconnects and reconciles what was missed.

Balances, margin positions, the margin level and Earn are not streamed with the detail the contract
asks for (the balances channel has no holds; there is no positions channel): what arrives here only
says *that* they changed, through ``on_account``; the client reads them by REST (watch.py).

Keep-alive: Kraken sends a ``heartbeat`` every second on a socket with subscriptions, and answers
``{"method": "ping"}`` with ``pong``; a socket silent for `WS_STALE_AFTER_S` is dead.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Iterable

import attrs
import msgspec
import trio

from brokers.base import Emit, Subscription
from brokers.kraken import constants as c
from brokers.kraken import schemas as s
from brokers.kraken.auth import ws_subscribe
from brokers.kraken.book import KrakenBook
from brokers.kraken.mapping import (
    PairEntry,
    PairTable,
    candle_from_ws,
    fill_from_execution,
    is_fill,
    liquidation_alert_from,
    order_from_execution,
    ticker_from_ws,
    trade_from_ws,
)
from brokers.stream import Freshness, Reopen, run_public_socket, run_websocket, started_without_value
from brokers.transport import ConnectionClosed, WebSocketConnection
from protocol.errors import ProtocolViolation, VenueUnavailable
from protocol.messages import StreamChannel
from protocol.model import Order, utc_now

log = logging.getLogger(__name__)

_header = msgspec.json.Decoder(s.WsHeader)
_answer = msgspec.json.Decoder(s.WsMethodAnswer)
_ticker = msgspec.json.Decoder(s.WsTickerMessage)
_trade = msgspec.json.Decoder(s.WsTradeMessage)
_ohlc = msgspec.json.Decoder(s.WsOhlcMessage)
_book = msgspec.json.Decoder(s.WsBookMessage)
_executions = msgspec.json.Decoder(s.WsExecutionsMessage)
_balances = msgspec.json.Decoder(s.WsBalancesMessage)

PING_IDS = itertools.count(1)


async def app_ping(ws: WebSocketConnection) -> None:
    await ws.send_message(json.dumps({"method": "ping", "req_id": next(PING_IDS)}))


def channel_params(channel: StreamChannel, method: str) -> dict[str, object]:
    """What a (un)subscription of ``channel`` names beyond the channel and the symbols."""
    match channel:
        case StreamChannel.TICKER if method == "subscribe":
            return {"event_trigger": c.WS_TICKER_TRIGGER}
        case StreamChannel.BOOK:
            return {"depth": c.WS_BOOK_DEPTH}
        case StreamChannel.CANDLES:
            return {"interval": c.WS_OHLC_INTERVAL}
        case StreamChannel.TRADES if method == "subscribe":
            return {"snapshot": False}  # the last 50 prints are history, not news
    return {}


# ============================================================================== public


@attrs.define
class PublicStream:
    """The public socket: its subscriptions, its books, its parser."""

    url: str
    pairs: Callable[[], PairTable]
    emit: Emit
    venue: str
    subscriptions: set[Subscription] = attrs.field(factory=set)
    ws: WebSocketConnection | None = None
    books: dict[str, KrakenBook] = attrs.field(factory=dict)  # by v2 symbol
    req_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    unreadable: int = 0
    resyncs: int = 0

    async def run(self, reopen: Reopen, freshness: Freshness, *,
                  task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            await run_public_socket(self.url, self.on_message, venue=self.venue, name="public", reopen=reopen,
                                    on_open=self.opened, freshness=freshness, ping_interval=c.WS_PING_INTERVAL_S,
                                    app_ping=app_ping,
                                    stale_after=c.WS_STALE_AFTER_S if self.subscriptions else None,
                                    task_status=task_status)
        finally:
            self.ws = None

    async def opened(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.books.clear()
        await self.send("subscribe", self.subscriptions)

    async def add(self, added: Iterable[Subscription]) -> None:
        new = set(added) - self.subscriptions
        self.subscriptions |= new
        await self.send("subscribe", new)

    async def send(self, method: str, subscriptions: Iterable[Subscription]) -> None:
        """One request per channel naming all its symbols; without an open socket the next one sends all."""
        by_channel: dict[StreamChannel, list[str]] = {}
        for sub in subscriptions:
            by_channel.setdefault(sub.channel, []).append(sub.symbol)
        if self.ws is None:
            return
        try:
            for channel, symbols in sorted(by_channel.items()):
                request = ws_subscribe(c.PUBLIC_CHANNELS[channel], None, req_id=next(self.req_ids),
                                       symbol=sorted(symbols), **channel_params(channel, method))
                await self.ws.send_message(json.dumps(request | {"method": method}))
        except ConnectionClosed:
            return  # the socket is re-opening: `opened` subscribes everything again

    async def on_message(self, text: str) -> None:
        try:
            await self._dispatch(text)
        except (msgspec.DecodeError, msgspec.ValidationError, ProtocolViolation) as error:
            self.unreadable += 1  # one unreadable price message is not worth a reconnect
            log.warning("%s: skipped an unreadable market message (%s)", self.venue, error)

    async def _dispatch(self, text: str) -> None:
        header = _header.decode(text)
        if header.method is not None:
            if header.method == "subscribe":
                answer = _answer.decode(text)
                if not answer.success:
                    log.error("%s: subscription refused: %s %s", self.venue, answer.symbol or "", answer.error)
            return  # pong, unsubscribe acks
        match header.channel:
            case c.WS_CHANNEL_TICKER:
                for ticker in _ticker.decode(text).data:
                    entry = self._entry(ticker.symbol)
                    if entry is not None:
                        await self.emit(ticker_from_ws(ticker, entry, utc_now()))
            case c.WS_CHANNEL_TRADE:
                for trade in _trade.decode(text).data:
                    entry = self._entry(trade.symbol)
                    if entry is not None:
                        await self.emit(trade_from_ws(trade, entry))
            case c.WS_CHANNEL_OHLC:
                for candle in _ohlc.decode(text).data:
                    entry = self._entry(candle.symbol)
                    if entry is not None and candle.interval == c.WS_OHLC_INTERVAL:
                        await self.emit(candle_from_ws(candle, entry))
            case c.WS_CHANNEL_BOOK:
                await self._on_book(_book.decode(text))
            case _:
                return  # status, heartbeat

    async def _on_book(self, message: s.WsBookMessage) -> None:
        for data in message.data:
            entry = self._entry(data.symbol)
            if entry is None:
                continue
            book = self.books.get(data.symbol)
            if book is None:
                book = self.books[data.symbol] = KrakenBook(data.symbol, c.WS_BOOK_DEPTH, entry.price_decimals,
                                                            entry.qty_decimals)
            if message.type == "update" and not book.ready:
                continue  # waiting for the snapshot a re-subscription asked for
            try:
                book.apply(message.type, data, now=utc_now())
            except ProtocolViolation as mismatch:
                # Never serve a wrong book: drop it and ask Kraken for a new snapshot on this connection.
                self.resyncs += 1
                log.warning("%s: %s", self.venue, mismatch.message)
                resubscribe = [Subscription(entry.symbol, StreamChannel.BOOK)]
                await self.send("unsubscribe", resubscribe)
                await self.send("subscribe", resubscribe)
                continue
            await self.emit(book.snapshot(entry.instrument, c.BOOK_LEVELS_EMITTED))

    def _entry(self, symbol: str) -> PairEntry | None:
        table = self.pairs()
        return table.by_venue(symbol) if table.knows_name(symbol) else None


# ============================================================================== private


@attrs.frozen
class AccountChange:
    """What a private message says changed, for the REST reads that follow (watch.py)."""

    balances: bool = False
    positions: bool = False
    earn: bool = False


@attrs.define
class PrivateStream:
    """The private socket of one connection: subscribe with the token, then turn reports into events."""

    url: str
    token: str
    pairs: PairTable
    emit: Emit
    venue: str
    known: Callable[[str], Order | None]  # the latest state of an order we know, by txid
    remember: Callable[[Order], None]
    on_account: Callable[[AccountChange], None]
    resolve: Callable[[str], Awaitable[None]]  # an order reported only in part and never seen: look it up
    sequences: dict[str, int] = attrs.field(factory=dict)
    maxratecount: int | None = None  # the tier's trading-counter ceiling, as the executions ack says

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await run_websocket(self.url, self.on_message, venue=self.venue, on_open=self.opened,
                            ping_interval=c.WS_PING_INTERVAL_S, app_ping=app_ping,
                            stale_after=c.WS_STALE_AFTER_S, task_status=started_without_value(task_status))

    async def opened(self, ws: WebSocketConnection) -> None:
        executions = ws_subscribe(c.WS_CHANNEL_EXECUTIONS, self.token, req_id=1, snap_orders=True, snap_trades=False)
        await ws.send_message(json.dumps(executions))
        answer = await self._await_ack(ws, c.WS_CHANNEL_EXECUTIONS)
        if answer.result is not None and isinstance(answer.result.get("maxratecount"), int):
            self.maxratecount = answer.result["maxratecount"]
        await ws.send_message(json.dumps(ws_subscribe(c.WS_CHANNEL_BALANCES, self.token, req_id=2)))
        await self._await_ack(ws, c.WS_CHANNEL_BALANCES)

    async def _await_ack(self, ws: WebSocketConnection, channel: str) -> s.WsMethodAnswer:
        """Read until the subscribe answer for ``channel``, handling every other message on the way (the
        caller's open timeout bounds the wait)."""
        while True:
            message = await ws.get_message()
            text = message if isinstance(message, str) else message.decode()
            header = _header.decode(text)
            if header.method != "subscribe":
                await self.on_message(text)
                continue
            answer = _answer.decode(text)
            if answer.result is not None and answer.result.get("channel") not in (None, channel):
                continue
            if not answer.success:
                raise VenueUnavailable(f"Kraken refused the private {channel} subscription: {answer.error}",
                                       venue=self.venue, venue_message=answer.error)
            return answer

    async def on_message(self, text: str) -> None:
        try:
            header = _header.decode(text)
            match header.channel:
                case c.WS_CHANNEL_EXECUTIONS:
                    message = _executions.decode(text)
                    if self._in_sequence(message.channel, message.sequence):
                        for report in message.data:
                            await self._on_execution(report)
                case c.WS_CHANNEL_BALANCES:
                    balances = _balances.decode(text)
                    if self._in_sequence(balances.channel, balances.sequence):
                        earn = any(row.wallet_type == "earn" or any(w.type == "earn" for w in row.wallets or ())
                                   for row in balances.data)
                        self.on_account(AccountChange(balances=True, earn=earn))
                case _:
                    return  # status, heartbeat, pong
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            # An order or fill we cannot read: reconnecting makes reconciliation recover it.
            raise ProtocolViolation(f"unreadable Kraken private message: {error}", venue=self.venue) from error

    def _in_sequence(self, channel: str, sequence: int) -> bool:
        """True for the next message of ``channel``; False for a repeat; a gap raises (reconcile)."""
        last = self.sequences.get(channel)
        if last is not None and sequence <= last:
            log.info("%s: skipped a repeated %s message (sequence %d)", self.venue, channel, sequence)
            return False
        if last is not None and sequence != last + 1:
            raise ProtocolViolation(f"Kraken {channel} sequence jumped from {last} to {sequence}: a message was "
                                    "lost or reordered; reconnecting to reconcile", venue=self.venue)
        self.sequences[channel] = sequence
        return True

    async def _on_execution(self, report: s.WsExecution) -> None:
        known = self.known(report.order_id)
        entry = self._entry(report.symbol) if report.symbol else self._entry(known.symbol) if known else None
        if entry is None:
            if known is None and report.symbol is None:
                await self.resolve(report.order_id)
            return  # a pair this client does not serve
        if is_fill(report):
            await self.emit(fill_from_execution(report, entry, self.pairs.assets))
            if report.margin:
                self.on_account(AccountChange(positions=True))
        alert = liquidation_alert_from(report, entry)
        if alert is not None:
            await self.emit(alert)
            self.on_account(AccountChange(positions=True, balances=True))
        order = order_from_execution(report, entry, known)
        if order is None:
            await self.resolve(report.order_id)
            return
        self.remember(order)
        await self.emit(order)

    def _entry(self, name: str) -> PairEntry | None:
        return self.pairs.by_venue(name) if self.pairs.knows_name(name) else None

