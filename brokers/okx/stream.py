"""OKX V5 websockets: the public and business sockets (market data, each re-opening itself on failure) and the
private socket (login; orders, positions, account), parsed into events.

Public (``/ws/v5/public``): ``tickers``, ``trades``, the book channel (``books``: a snapshot, then updates whose
``prevSeqId`` must be the previous ``seqId`` and, where OKX sends a non-zero one, whose CRC32 checksum must match:
on a gap or a mismatch the book is dropped, the channel unsubscribed and subscribed again, which makes OKX send a
fresh snapshot, and nothing is emitted for that book until it arrives; ``books5`` / ``bbo-tbt`` are whole snapshots),
``funding-rate``, ``mark-price`` and ``open-interest``. Business (``/ws/v5/business``): ``candle1m``. Each
subscription argument is answered on its own (``subscribe`` or ``error`` with OKX's code); a refused one is logged
and its channel goes stale, which the chassis reports.

Private (``/ws/v5/private``): the ``login`` op (HMAC of ``timestamp + GET + /users/self/verify``), then ``orders``
(every order change, with this update's fill), ``positions`` (a snapshot, event updates and regular snapshots:
live mark price and PnL) and ``account`` (balances). Login and every subscription are answered before the stream
counts as started, so reconciliation never runs against a stream that is not yet delivering; pushes that arrive
meanwhile are parsed, not dropped.

Keep-alive: OKX closes a socket after 30 s in which it had nothing to send (close 4004). The text ``ping`` every
20 s is answered ``pong``; a socket silent for longer than `constants.SOCKET_SILENT_S` is dead. ``notice`` 64008
announces a close for a service upgrade: the socket is re-opened at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

import attrs
import msgspec
import trio

from brokers.base import Emit, Subscription
from brokers.okx import constants as c
from brokers.okx import schemas as s
from brokers.okx.auth import ws_login_message
from brokers.okx.book import OkxBook, book_from_full_push
from brokers.okx.constants import WsService
from brokers.okx.errors import error_for
from brokers.okx.mapping import (
    ContractSpec,
    balance_from,
    candle_from_row,
    fill_from_push,
    funding_rate_from,
    mark_price_from,
    open_interest_from,
    order_from,
    position_from,
    ticker_from,
    trade_from,
)
from brokers.stream import Freshness, Reopen, run_public_socket, run_websocket, started_without_value
from brokers.transport import ConnectionClosed, WebSocketConnection
from protocol.credentials import Credentials
from protocol.errors import ProtocolViolation, VenueUnavailable
from protocol.messages import StreamChannel
from protocol.model import Instrument, MarketType

log = logging.getLogger(__name__)

Arg = tuple[str, str]
"""A public subscription as OKX names it: (channel, instId)."""
Lookup = Callable[[str], tuple[Instrument, ContractSpec] | None]
"""instId -> the loaded instrument and its contract sizes (None: not one this client serves)."""

_header = s.WS_HEADER_DECODER
_event = s.WS_EVENT_DECODER
_tickers = msgspec.json.Decoder(s.WsTickersMessage)
_trades = msgspec.json.Decoder(s.WsTradesMessage)
_books = msgspec.json.Decoder(s.WsBookMessage)
_candles = msgspec.json.Decoder(s.WsCandleMessage)
_funding = msgspec.json.Decoder(s.WsFundingRateMessage)
_marks = msgspec.json.Decoder(s.WsMarkPriceMessage)
_interest = msgspec.json.Decoder(s.WsOpenInterestMessage)
_orders = msgspec.json.Decoder(s.WsOrdersMessage)
_positions = msgspec.json.Decoder(s.WsPositionsMessage)
_account = msgspec.json.Decoder(s.WsAccountMessage)

UPGRADE_NOTICE = "64008"


async def _ping(ws: WebSocketConnection) -> None:
    await ws.send_message(c.PING_TEXT)


def arg_of(sub: Subscription, instrument: Instrument, book_channel: str) -> tuple[WsService, Arg]:
    """Which socket serves ``sub`` and what it subscribes there."""
    channel = book_channel if sub.channel is StreamChannel.BOOK else c.STREAMED[sub.channel]
    return c.service_of(channel), (channel, instrument.venue_symbol)


def serves(sub: Subscription, instrument: Instrument) -> bool:
    """OKX streams funding, mark price and open interest for contracts only."""
    return sub.channel not in c.SWAP_ONLY_CHANNELS or instrument.market_type is not MarketType.SPOT


def _op(op: str, args: Iterable[dict[str, str]]) -> str:
    return json.dumps({"op": op, "args": list(args)})


def _upgrade(event: s.WsEvent, venue: str) -> VenueUnavailable:
    return VenueUnavailable(f"OKX announced a service upgrade ({event.code} {event.msg}): re-opening", venue=venue,
                            code=event.code, venue_message=event.msg)


@attrs.define
class PublicSocket:
    """One public service's socket (public or business): what it subscribes, its books, its parser."""

    service: WsService
    lookup: Lookup
    emit: Emit
    venue: str
    args: set[Arg] = attrs.field(factory=set)
    ws: WebSocketConnection | None = None
    books: dict[str, OkxBook] = attrs.field(factory=dict)
    refused: dict[Arg, str] = attrs.field(factory=dict)  # what OKX refused to stream, in its words
    unreadable: int = 0
    resyncs: int = 0

    async def send_op(self, op: str, args: Iterable[Arg]) -> None:
        """Send ``op`` for ``args`` (`constants.ARGS_PER_OP` a message); without a socket the next one subscribes."""
        wanted = sorted(args)
        if self.ws is None:
            return
        try:
            for start in range(0, len(wanted), c.ARGS_PER_OP):
                chunk = wanted[start:start + c.ARGS_PER_OP]
                await self.ws.send_message(_op(op, ({"channel": ch, "instId": inst} for ch, inst in chunk)))
        except ConnectionClosed:
            return  # the socket is re-opening: `opened` subscribes every arg again

    async def opened(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.books.clear()
        await self.send_op("subscribe", self.args)

    async def on_message(self, text: str) -> None:
        if text == c.PONG_TEXT:
            return
        try:
            await self._dispatch(text)
        except (msgspec.DecodeError, msgspec.ValidationError, ProtocolViolation) as error:
            self.unreadable += 1  # one unreadable price message is not worth a reconnect
            log.warning("%s: skipped an unreadable %s market message (%s)", self.venue, self.service, error)

    async def _dispatch(self, text: str) -> None:
        header = _header.decode(text)
        if header.event:
            self._on_event(_event.decode(text))
            return
        if header.arg is None:
            return
        channel, inst_id = header.arg.channel, header.arg.instId
        found = self.lookup(inst_id)
        if found is None:
            return
        instrument, spec = found
        if channel in c.INCREMENTAL_BOOKS:
            await self._on_book((channel, inst_id), _books.decode(text), instrument, spec)
        elif channel in c.SNAPSHOT_BOOKS:
            for data in _books.decode(text).data:
                await self.emit(book_from_full_push(data, instrument, spec))
        elif channel == c.CH_TICKERS:
            for tick in _tickers.decode(text).data:
                await self.emit(ticker_from(tick, instrument, spec))
        elif channel == c.CH_TRADES:
            for trade in _trades.decode(text).data:
                await self.emit(trade_from(trade, instrument, spec))
        elif channel.startswith(c.CH_CANDLE_PREFIX):
            interval = c.BARS_FROM_VENUE.get(channel.removeprefix(c.CH_CANDLE_PREFIX))
            if interval is None:
                return  # a bar we never subscribe (OKX's Hong Kong-aligned ones)
            for row in _candles.decode(text).data:
                await self.emit(candle_from_row(row, instrument, spec, interval))
        elif channel == c.CH_FUNDING_RATE:
            for rate in _funding.decode(text).data:
                await self.emit(funding_rate_from(rate, instrument))
        elif channel == c.CH_MARK_PRICE:
            for mark in _marks.decode(text).data:
                await self.emit(mark_price_from(mark, instrument))
        elif channel == c.CH_OPEN_INTEREST:
            for interest in _interest.decode(text).data:
                await self.emit(open_interest_from(interest, instrument, spec))

    def _on_event(self, event: s.WsEvent) -> None:
        if event.event == "notice" and event.code == UPGRADE_NOTICE:
            raise _upgrade(event, self.venue)
        if event.event == "error":
            arg = (event.arg.channel, event.arg.instId) if event.arg is not None else None
            if arg is not None:
                self.refused[arg] = f"{event.code} {event.msg}"
            log.error("%s %s: OKX refused %s: %s %s", self.venue, self.service, arg or "a request", event.code,
                      event.msg)

    async def _on_book(self, arg: Arg, message: s.WsBookMessage, instrument: Instrument, spec: ContractSpec) -> None:
        book = self.books.setdefault(arg[1], OkxBook(arg[1], c.INCREMENTAL_BOOKS[arg[0]]))
        if message.action == "update" and not book.ready:
            return  # waiting for the snapshot a resubscription asked for
        try:
            book.apply_message(message)
        except ProtocolViolation as gap:
            # Never serve a wrong book: drop it and ask OKX for a new snapshot on this connection.
            self.resyncs += 1
            log.warning("%s: %s; resubscribing %s %s", self.venue, gap.message, *arg)
            await self.send_op("unsubscribe", [arg])
            await self.send_op("subscribe", [arg])
            return
        await self.emit(book.snapshot(instrument, spec, c.BOOK_LEVELS_EMITTED))


@attrs.define
class PublicStreams:
    """The public and business sockets, each re-opening itself on failure (a drop of one leaves the other,
    orders and the private stream alone)."""

    host: str
    lookup: Lookup
    instrument: Callable[[str], Instrument]
    emit: Emit
    venue: str
    reopen: Reopen
    book_channel: str = c.CH_BOOKS
    stale_limits: Mapping[StreamChannel, float | None] = attrs.field(factory=dict)
    sockets: dict[WsService, PublicSocket] = attrs.field(factory=dict)
    freshness: dict[WsService, Freshness] = attrs.field(factory=dict)

    async def run(self, subscriptions: set[Subscription], *,
                  task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        for service in (WsService.PUBLIC, WsService.BUSINESS):
            freshness = self.freshness[service] = Freshness(self.stale_limits)
            self.sockets[service] = PublicSocket(service, self.lookup, freshness.track(self.emit), self.venue)
        self._add(subscriptions)
        async with trio.open_nursery() as nursery:
            for service, socket in self.sockets.items():
                await nursery.start(self._run_one, service, socket)
            task_status.started()

    async def _run_one(self, service: WsService, socket: PublicSocket, *,
                       task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            await run_public_socket(c.service_url(self.host, service), socket.on_message, venue=self.venue,
                                    name=service.value, reopen=self.reopen, on_open=socket.opened,
                                    freshness=self.freshness[service], ping_interval=c.PING_AFTER_SILENCE_S,
                                    app_ping=_ping, stale_after=c.SOCKET_SILENT_S, task_status=task_status)
        finally:
            socket.ws = None

    def _add(self, subscriptions: Iterable[Subscription]) -> dict[WsService, set[Arg]]:
        """File new subscriptions under their socket; the args each socket gained."""
        added: dict[WsService, set[Arg]] = {}
        for sub in subscriptions:
            instrument = self.instrument(sub.symbol)
            if not serves(sub, instrument):
                continue  # refused when subscribed (`OkxBroker.subscribe`); a configured one is skipped
            service, arg = arg_of(sub, instrument, self.book_channel)
            socket = self.sockets[service]
            if arg not in socket.args:
                socket.args.add(arg)
                self.freshness[service].watch([sub])
                added.setdefault(service, set()).add(arg)
        return added

    async def subscribe(self, added: Iterable[Subscription]) -> None:
        for service, args in self._add(added).items():
            await self.sockets[service].send_op("subscribe", args)


@attrs.define
class PrivateStream:
    """The private socket: log in, subscribe, then turn orders, positions and balances into events."""

    url: str
    credentials: Credentials
    lookup: Lookup
    emit: Emit
    now_ms: Callable[[], int]
    venue: str

    SUBSCRIPTIONS: ClassVar[tuple[dict[str, str], ...]] = (
        {"channel": c.CH_ORDERS, "instType": "ANY"},
        {"channel": c.CH_POSITIONS, "instType": "SWAP"},
        {"channel": c.CH_ACCOUNT, "extraParams": '{"updateInterval": "0"}'},  # changes only, no 5 s snapshots
    )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await run_websocket(self.url, self.on_message, venue=self.venue, on_open=self.opened,
                            ping_interval=c.PING_AFTER_SILENCE_S, app_ping=_ping, stale_after=c.SOCKET_SILENT_S,
                            task_status=started_without_value(task_status))

    async def opened(self, ws: WebSocketConnection) -> None:
        await ws.send_message(json.dumps(ws_login_message(self.credentials, self.now_ms() // 1000)))
        login = await self._answer(ws)
        if login.event != "login" or login.code not in ("", "0"):
            raise error_for(login.code or "60009", login.msg)  # typed: key, sign, passphrase, expired timestamp
        await ws.send_message(_op("subscribe", self.SUBSCRIPTIONS))
        for _ in self.SUBSCRIPTIONS:
            answer = await self._answer(ws)
            if answer.event != "subscribe":
                raise VenueUnavailable(f"OKX refused a private subscription: {answer.code} {answer.msg}",
                                       venue=self.venue, code=answer.code or None, venue_message=answer.msg)

    async def _answer(self, ws: WebSocketConnection) -> s.WsEvent:
        """The next event (login / subscribe / error); pushes arriving meanwhile are handled, not dropped (the
        caller's open-timeout bounds the wait)."""
        while True:
            message = await ws.get_message()
            text = message if isinstance(message, str) else message.decode()
            if text == c.PONG_TEXT:
                continue
            header = self._header(text)
            if header.event:
                event = _event.decode(text)
                if event.event == "notice":
                    raise _upgrade(event, self.venue)
                return event
            await self.on_message(text)

    def _header(self, text: str) -> s.WsHeader:
        try:
            return _header.decode(text)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            raise ProtocolViolation(f"unreadable OKX private message: {error}", venue=self.venue) from error

    async def on_message(self, text: str) -> None:
        if text == c.PONG_TEXT:
            return
        header = self._header(text)
        if header.event:
            event = _event.decode(text)
            if event.event == "notice" and event.code == UPGRADE_NOTICE:
                raise _upgrade(event, self.venue)
            if event.event == "error":
                log.error("%s private: OKX says %s %s", self.venue, event.code, event.msg)
            return
        channel = header.arg.channel if header.arg is not None else ""
        try:
            match channel:
                case c.CH_ORDERS:
                    for info in _orders.decode(text).data:
                        found = self.lookup(info.instId)
                        if found is not None:
                            fill = fill_from_push(info, *found)
                            if fill is not None:
                                await self.emit(fill)
                            await self.emit(order_from(info, *found))
                case c.CH_POSITIONS:
                    for row in _positions.decode(text).data:
                        found = self.lookup(row.instId)
                        if found is not None and found[0].market_type is not MarketType.SPOT:
                            await self.emit(position_from(row, *found))
                case c.CH_ACCOUNT:
                    for account in _account.decode(text).data:
                        for detail in account.details:
                            await self.emit(balance_from(detail))
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            # An order or fill we cannot read: reconnecting makes reconciliation recover it.
            raise ProtocolViolation(f"unreadable OKX {channel} push: {error}", venue=self.venue) from error
