"""Alpaca's two websockets, parsed into protocol events.

Trading stream (``/stream``, private): ``authenticate`` then ``listen`` to ``trade_updates``, both answers
awaited in the open step (so reconciliation never starts before the stream delivers). Every trade update
carries the whole order: it becomes an `Order` event, and a ``fill`` / ``partial_fill`` also a `Fill`
(this execution's price and quantity; trade id ``"<order id>:<cumulative qty>"``, which a FILL activity
read in reconciliation builds the same way). An update we cannot read raises `ProtocolViolation`: the
actor restarts and reconciliation recovers what it said. Paper sends binary frames; both are JSON.

Market data stream (``/v2/{iex|sip}``, public): ``auth`` and ``subscribe``, with the ``connected`` greeting
and both answers awaited in the open step, every (re)connection subscribing everything asked for so far. Quotes
become `Ticker`s (the last trade's price as ``last``: quotes carry none, so a ticker subscription listens
to trades too), trades `Trade`s, minute bars closed `Candle`s. Error frames are typed
(`errors.DATA_STREAM_ERRORS`): connection-level ones (auth timeout, connection limit, slow client,
internal) re-open the socket; subscription-level ones (symbol limit, insufficient subscription, invalid
action) leave the connection alone and are reported, never dropped silently; an unreadable frame is skipped
and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal

import attrs
import msgspec
import trio

from brokers.alpaca import constants as c
from brokers.alpaca import schemas as s
from brokers.alpaca.auth import (
    data_auth_message,
    data_subscription_message,
    trading_auth_message,
    trading_listen_message,
)
from brokers.alpaca.mapping import (
    candle_from_stream,
    fill_from_update,
    is_fill_event,
    order_from,
    ticker_from_quote,
    trade_from,
)
from brokers.base import Emit, Subscription
from brokers.transport import ConnectionClosed, WebSocketConnection
from protocol import errors as e
from protocol.credentials import Credentials
from protocol.messages import StreamChannel
from protocol.model import Instrument, Order

log = logging.getLogger(__name__)

OrderSeen = Callable[[Order], None]
"""Told of every order a stream reports (the client keeps order id -> client order id)."""


def _text(frame: str | bytes) -> str:
    return frame if isinstance(frame, str) else frame.decode()


# ================================================================================ the trading stream


@attrs.define
class TradingParser:
    """``trade_updates`` -> `Fill` (for executions) then `Order`, for the instruments this client lists."""

    by_id: dict[str, Instrument]
    emit: Emit
    seen: OrderSeen = lambda order: None

    async def on_message(self, text: str) -> None:
        message = s.decode_trading_message(text)
        if not isinstance(message, s.TradeUpdate):
            return  # a late authorization or listening answer: nothing to report
        instrument = self.by_id.get(message.order.symbol)
        if instrument is None:
            return  # an asset class this client does not trade (options, crypto)
        if is_fill_event(message):
            await self.emit(fill_from_update(message, instrument))
        order = order_from(message.order, instrument)
        self.seen(order)
        await self.emit(order)


async def open_trading_stream(ws: WebSocketConnection, credentials: Credentials) -> None:
    """Authenticate and listen to ``trade_updates``; both answers awaited (the caller bounds the wait).

    A refused key raises `AuthenticationError` (permanent); a listening answer without ``trade_updates``
    raises `VenueUnavailable`."""
    await ws.send_message(msgspec.json.encode(trading_auth_message(credentials)).decode())
    while not isinstance(s.decode_trading_message(await ws.get_message()), s.Authorization):
        pass
    await ws.send_message(msgspec.json.encode(trading_listen_message()).decode())
    while True:
        answer = s.decode_trading_message(await ws.get_message())
        if isinstance(answer, s.Listening):
            break
    if c.TRADE_UPDATES_STREAM not in answer.streams:
        raise e.VenueUnavailable(f"Alpaca trading stream granted {answer.streams}, not {c.TRADE_UPDATES_STREAM}",
                                 venue=c.VENUE)


# ================================================================================ the market data stream


def data_channels(subscriptions: Iterable[Subscription]) -> dict[str, set[str]]:
    """Alpaca channel -> tickers, for our subscriptions (`constants.DATA_CHANNELS`)."""
    wanted: dict[str, set[str]] = {}
    for sub in subscriptions:
        for channel in c.DATA_CHANNELS[sub.channel]:
            wanted.setdefault(channel, set()).add(sub.symbol)
    return wanted


def subscribe_message(wanted: dict[str, set[str]]) -> str | None:
    """The ``subscribe`` message for ``wanted`` (None when there is nothing to subscribe)."""
    if not any(wanted.values()):
        return None
    message = data_subscription_message("subscribe", trades=sorted(wanted.get("trades", ())),
                                        quotes=sorted(wanted.get("quotes", ())), bars=sorted(wanted.get("bars", ())))
    return msgspec.json.encode(message).decode()


@attrs.define
class DataParser:
    """Market-data frames -> events for what was subscribed; the last trade price of each symbol for tickers."""

    by_id: dict[str, Instrument]
    emit: Emit
    refusals: list[e.BrokerError] = attrs.field(factory=list)  # subscription-level error frames, to report
    wanted: set[tuple[str, StreamChannel]] = attrs.field(factory=set)  # (ticker, our channel)
    last: dict[str, Decimal] = attrs.field(factory=dict)
    unreadable: int = 0

    def want(self, subscriptions: Iterable[Subscription]) -> None:
        self.wanted |= {(sub.symbol, sub.channel) for sub in subscriptions}

    async def on_message(self, text: str) -> None:
        try:
            messages = s.decode_data_frame(text)
        except (e.PermissionDenied, e.NotSupported) as refusal:
            # The subscription stays as it was (Alpaca changes nothing on 405/409/410): say so, keep the socket.
            log.error("alpaca: market data refused: %s (%s)", refusal.message, refusal.venue_message)
            self.refusals.append(refusal)
            return
        except e.ProtocolViolation as error:
            if error.code is not None:
                raise  # an error frame Alpaca sent (e.g. 400, 401): re-open and resubscribe
            self.unreadable += 1  # one unreadable price frame is not worth a reconnect
            log.warning("alpaca: skipped an unreadable market data frame (%s)", error.message)
            return
        for message in messages:
            await self.on_data(message)

    async def on_data(self, message: s.DataMessage) -> None:
        match message:
            case s.DataTrade():
                instrument = self.by_id.get(message.S)
                if instrument is None:
                    return
                self.last[message.S] = message.p
                if (message.S, StreamChannel.TRADES) in self.wanted:
                    await self.emit(trade_from(message, instrument))
            case s.DataQuote():
                instrument = self.by_id.get(message.S)
                last = self.last.get(message.S)
                if instrument is not None and last is not None and (message.S, StreamChannel.TICKER) in self.wanted:
                    await self.emit(ticker_from_quote(message, instrument, last))
            case s.DataBar():
                instrument = self.by_id.get(message.S)
                if instrument is not None and (message.S, StreamChannel.CANDLES) in self.wanted:
                    await self.emit(candle_from_stream(message, instrument))
            case _:
                pass  # control answers, and channels not subscribed here (daily/updated bars, statuses ...)


async def open_data_stream(ws: WebSocketConnection, credentials: Credentials, subscribe: str | None,
                           parser: DataParser) -> None:
    """``auth`` at once (the 10 s allowance starts at the connection, and Alpaca's ``connected`` greeting is no
    answer to anything), then ``connected`` and ``authenticated`` in whichever order they come, then
    ``subscribe`` -> ``subscription``. An error frame raises its typed error (a wrong key is a permanent
    `AuthenticationError`)."""
    await ws.send_message(msgspec.json.encode(data_auth_message(credentials)).decode())
    greetings = {"connected", "authenticated"}

    def greeted(message: s.DataMessage) -> bool:
        if isinstance(message, s.DataSuccess):
            greetings.discard(message.msg)
        return not greetings

    await _await_data(ws, parser, greeted)
    if subscribe is not None:
        await ws.send_message(subscribe)
        await _await_data(ws, parser, lambda m: isinstance(m, s.DataSubscription), refusal_answers=True)


async def _await_data(ws: WebSocketConnection, parser: DataParser, answers: Callable[[s.DataMessage], bool], *,
                      refusal_answers: bool = False) -> None:
    """Read until the answer; data on the way goes to the parser. ``refusal_answers``: a subscription-level
    refusal (symbol limit ...) is the answer too, reported, not raised (Alpaca keeps the connection)."""
    while True:
        try:
            messages = s.decode_data_frame(_text(await ws.get_message()))
        except (e.PermissionDenied, e.NotSupported) as refusal:
            if not refusal_answers:
                raise
            parser.refusals.append(refusal)
            return
        for message in messages:
            if answers(message):
                return
            await parser.on_data(message)


async def send_subscribe(ws: WebSocketConnection | None, message: str | None) -> None:
    """Subscribe on the open socket; without one (or one that just closed) the next connection subscribes
    everything anyway."""
    if ws is None or message is None:
        return
    try:
        await ws.send_message(message)
    except (ConnectionClosed, trio.ClosedResourceError):
        return
