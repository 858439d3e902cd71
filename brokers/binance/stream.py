"""Binance market and user-data streams: parse messages into protocol events.

Market data comes over the combined-stream endpoint (``/stream?streams=…``, messages wrapped as
``{"stream": …, "data": …}``) with live SUBSCRIBE for additions. The diff-depth stream feeds one
`DepthBook` per symbol (book.py), which follows Binance's snapshot-plus-diffs procedure; on any gap
the book is rebuilt from a fresh snapshot and nothing corrupt is emitted.

User data comes over the WebSocket API (``/ws-api/v3``), each event wrapped as ``{"subscriptionId": n,
"event": {...}}``; `UserParser` reads the inner events. ``eventStreamTerminated`` (the subscription ended)
and ``serverShutdown`` (the server is about to close the connection) end the stream so that the supervisor
reconnects and reconciles.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import attrs
import msgspec

from brokers.base import Emit, Subscription
from brokers.binance import constants as c
from brokers.binance import schemas as s
from brokers.binance.book import DepthBook
from brokers.binance.constants import VENUE
from brokers.binance.mapping import fill_from_execution, order_from_execution
from protocol.errors import ProtocolViolation
from protocol.model import (
    Balance,
    Candle,
    Instrument,
    Side,
    Ticker,
    Trade,
    from_epoch_ms,
)

log = logging.getLogger(__name__)

_envelope = msgspec.json.Decoder(s.Envelope)
_trade = msgspec.json.Decoder(s.TradeEvent)
_combined_trade = msgspec.json.Decoder(s.CombinedTrade)
_COMBINED = '{"stream":"'  # how Binance begins a combined-stream message: the stream's name first
_ticker = msgspec.json.Decoder(s.Ticker24hEvent)
_kline = msgspec.json.Decoder(s.KlineEvent)
_depth = msgspec.json.Decoder(s.DepthUpdate)
_user = msgspec.json.Decoder(s.UserEvent)


def stream_name(sub: Subscription, instrument: Instrument) -> str:
    return c.STREAM_NAMES[sub.channel].format(symbol=instrument.venue_symbol.lower())


SnapshotFetcher = Callable[[str], Awaitable[s.Depth]]


@attrs.define
class MarketParser:
    """Turns market-stream messages into protocol events (and keeps depth books)."""

    by_id: dict[str, Instrument]
    emit: Emit
    fetch_snapshot: SnapshotFetcher
    books: dict[str, DepthBook] = attrs.field(factory=dict)

    unreadable: int = 0

    async def on_message(self, text: str) -> None:
        try:
            await self._dispatch(text)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            # One unreadable price message is not worth a reconnect: count it, say it, go on.
            self.unreadable += 1
            log.warning("binance: skipped an unreadable market message (%s)", error)

    async def _dispatch(self, text: str) -> None:
        if text.startswith(_COMBINED) and text.endswith("@trade", 0, text.find('"', len(_COMBINED))):
            # The busiest stream, decoded in one pass; the prefix test only routes (a message laid out
            # any other way takes the general path below).
            await self._on_trade(_combined_trade.decode(text).data)
            return
        envelope = _envelope.decode(text)
        if len(envelope.data):  # combined stream: {"stream": "<symbol>@<name>[_<interval>][@<speed>]", "data": …}
            payload: bytes | memoryview | str = envelope.data
            name = envelope.stream.split("@")[1] if envelope.stream else ""
        elif envelope.e is not None or envelope.id is None:  # raw stream: the event type "e"
            payload, name = text, envelope.e or ""
        else:
            return  # a reply to SUBSCRIBE/UNSUBSCRIBE
        match name.partition("_")[0]:
            case "trade":
                await self._on_trade(_trade.decode(payload))
            case "ticker" | "24hrTicker":
                await self._on_ticker(_ticker.decode(payload))
            case "kline":
                await self._on_kline(_kline.decode(payload))
            case "depth" | "depthUpdate":
                await self._on_depth(_depth.decode(payload))

    async def _on_trade(self, t: s.TradeEvent) -> None:
        instrument = self.by_id.get(t.s)
        if instrument is not None:
            await self.emit(Trade(venue=VENUE, symbol=instrument.symbol, trade_id=str(t.t), price=t.p,
                                  quantity=t.q, taker_side=Side.SELL if t.m else Side.BUY, timestamp=from_epoch_ms(t.T)))

    async def _on_ticker(self, tick: s.Ticker24hEvent) -> None:
        instrument = self.by_id.get(tick.s)
        if instrument is not None:
            await self.emit(Ticker(venue=VENUE, symbol=instrument.symbol, last=tick.c, bid=tick.b, bid_size=tick.B,
                                   ask=tick.a, ask_size=tick.A, timestamp=from_epoch_ms(tick.E)))

    async def _on_kline(self, event: s.KlineEvent) -> None:
        instrument = self.by_id.get(event.s)
        if instrument is not None:
            k = event.k
            await self.emit(Candle(venue=VENUE, symbol=instrument.symbol, interval=k.i, open_time=from_epoch_ms(k.t),
                                   open=k.o, high=k.h, low=k.l, close=k.c, volume=k.v, closed=k.x))

    async def _on_depth(self, diff: s.DepthUpdate) -> None:
        instrument = self.by_id.get(diff.s)
        if instrument is None:
            return
        book = self.books.setdefault(diff.s, DepthBook(diff.s))
        try:
            if book.last_update_id is None:
                book.pending.append(diff)
                if len(book.pending) == 1:
                    book.load_snapshot(await self.fetch_snapshot(diff.s))
                    if book.synced:
                        await self.emit(book.top(instrument, diff.E))
                return
            if book.apply(diff):
                await self.emit(book.top(instrument, diff.E))
        except ProtocolViolation:
            book.reset()  # rebuild from a fresh snapshot on the next diff; emit nothing until then


@attrs.define
class UserParser:
    """Turns user-data-stream events into protocol Order, Fill and Balance events."""

    by_id: dict[str, Instrument]
    emit: Emit

    async def on_message(self, text: str | bytes) -> None:
        try:
            event = _user.decode(text)
        except msgspec.ValidationError as error:
            raw = text if isinstance(text, str) else text.decode()
            if '"executionReport"' in raw or '"outboundAccountPosition"' in raw:
                # An order or fill we cannot read: reconnecting makes reconciliation recover it.
                raise ProtocolViolation(f"unreadable user-data event: {error}", venue=VENUE) from error
            return  # an event type we do not use (e.g. listStatus, externalLockUpdate)
        match event:
            case s.ExecutionReport():
                instrument = self.by_id.get(event.s)
                if instrument is None:
                    return
                if event.x == "TRADE":
                    await self.emit(fill_from_execution(event, instrument))
                await self.emit(order_from_execution(event, instrument))
            case s.OutboundAccountPosition():
                for b in event.B:
                    await self.emit(Balance(venue=VENUE, currency=b.a, free=b.f, locked=b.l))
            case s.EventStreamTerminated():
                raise ProtocolViolation("Binance ended the user data subscription", venue=VENUE)
            case s.BalanceUpdate():
                pass  # deposits/withdrawals: the outboundAccountPosition that follows carries the totals
