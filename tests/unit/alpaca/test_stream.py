"""Alpaca's stream parsers and open steps on the documented frames: trade updates to orders and fills, market
data to tickers, trades and candles, error frames typed (re-open, report, or skip), and the status keeper."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import msgspec
import pytest
import trio

from brokers.alpaca import schemas as s
from brokers.alpaca.client import StatusKeeper
from brokers.alpaca.mapping import instrument_from
from brokers.alpaca.stream import (
    DataParser,
    TradingParser,
    data_channels,
    open_data_stream,
    open_trading_stream,
    subscribe_message,
)
from brokers.base import Subscription
from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import (
    Candle,
    Fill,
    Instrument,
    MarketSession,
    MarketType,
    Order,
    OrderStatus,
    Side,
    Ticker,
    Trade,
)
from tests.unit.alpaca import samples

AAPL = instrument_from(msgspec.json.decode(samples.ASSET_AAPL, type=s.Asset))


def stock(symbol: str) -> Instrument:
    return Instrument(venue="alpaca", symbol=symbol, venue_symbol=symbol, market_type=MarketType.STOCK, base=symbol,
                      quote="USD", tick_size=Decimal("0.01"), lot_size=Decimal(1), min_qty=Decimal(1))


# The documented fill is a crypto order (SOLUSD); the parser only needs its symbol listed to read it.
BY_ID = {"AAPL": AAPL, "TQQQ": stock("TQQQ"), "SOLUSD": stock("SOLUSD"), "AMD": stock("AMD"), "SPY": stock("SPY")}
CREDENTIALS = Credentials.from_strings("PKDOCKEY", "doc-secret")


class Collected(list[m.EventMsg]):
    async def __call__(self, event: m.EventMsg) -> None:
        self.append(event)


@attrs.define
class ScriptedSocket:
    """A websocket whose incoming frames are scripted; what the client sends is recorded."""

    incoming: list[str | bytes]
    sent: list[dict[str, Any]] = attrs.field(factory=list)

    async def send_message(self, message: str) -> None:
        self.sent.append(json.loads(message))

    async def get_message(self) -> str | bytes:
        if not self.incoming:
            await trio.sleep_forever()
        return self.incoming.pop(0)


# ============================================================================ the trading stream


async def test_a_documented_fill_becomes_a_fill_then_its_order() -> None:
    events, seen = Collected(), []
    parser = TradingParser(BY_ID, events, seen.append)
    await parser.on_message(samples.TRADE_UPDATE_FILL.decode())
    fill, order = events
    assert isinstance(fill, Fill) and isinstance(order, Order)
    assert fill.trade_id == "a5be8f5e-fdfa-41f5-a644-7a74fe947a8f:1790.86"  # "<order id>:<cumulative qty>"
    assert fill.quantity == Decimal("1790.86") and fill.price == Decimal("105.8988475") and fill.side is Side.SELL
    assert fill.client_order_id == "4642fd68-d59a-47d7-a9ac-e22f536828d1" and fill.fee == 0 and fill.is_maker is None
    assert fill.timestamp == datetime(2022, 4, 19, 17, 45, 5, 24917, tzinfo=UTC)  # nanoseconds rounded to µs
    assert order.status is OrderStatus.FILLED and order.created_at.tzinfo is UTC and seen == [order]


async def test_a_pending_new_update_is_an_order_only() -> None:
    events = Collected()
    await TradingParser(BY_ID, events).on_message(samples.TRADE_UPDATE_PENDING_NEW.decode())
    (order,) = events
    assert isinstance(order, Order) and order.status is OrderStatus.PENDING_NEW and order.quantity == 271


async def test_updates_of_unlisted_assets_and_control_answers_are_not_events() -> None:
    events = Collected()
    parser = TradingParser({"AAPL": AAPL}, events)
    await parser.on_message(samples.TRADE_UPDATE_FILL.decode())  # SOLUSD: not an instrument here
    await parser.on_message(samples.TRADING_LISTENING.decode())
    assert events == []


async def test_an_unreadable_trade_update_ends_the_stream() -> None:
    parser = TradingParser(BY_ID, Collected())
    with pytest.raises(e.ProtocolViolation):
        await parser.on_message('{"stream": "trade_updates", "data": {"event": "fill"}}')


async def test_the_trading_stream_authenticates_then_listens() -> None:
    ws = ScriptedSocket([samples.TRADING_AUTHORIZED, samples.TRADING_LISTENING])
    await open_trading_stream(ws, CREDENTIALS)  # type: ignore[arg-type]
    assert ws.sent == [{"action": "authenticate", "data": {"key_id": "PKDOCKEY", "secret_key": "doc-secret"}},
                       samples.TRADING_LISTEN_MESSAGE]


async def test_a_refused_key_on_the_trading_stream_is_permanent() -> None:
    ws = ScriptedSocket([samples.TRADING_UNAUTHORIZED])
    with pytest.raises(e.AuthenticationError) as refused:
        await open_trading_stream(ws, CREDENTIALS)  # type: ignore[arg-type]
    assert not refused.value.retryable and "doc-secret" not in str(refused.value)


async def test_listening_without_trade_updates_is_not_a_stream() -> None:
    ws = ScriptedSocket([samples.TRADING_AUTHORIZED, b'{"stream": "listening", "data": {"streams": []}}'])
    with pytest.raises(e.VenueUnavailable):
        await open_trading_stream(ws, CREDENTIALS)  # type: ignore[arg-type]


# ============================================================================ the market data stream


def parser_for(*subs: tuple[str, m.StreamChannel]) -> tuple[DataParser, Collected]:
    events = Collected()
    parser = DataParser(BY_ID, events)
    parser.want(Subscription(symbol, channel) for symbol, channel in subs)
    return parser, events


async def test_documented_trades_quotes_and_bars_become_events_for_what_was_asked() -> None:
    parser, events = parser_for(("AAPL", m.StreamChannel.TRADES), ("AMD", m.StreamChannel.TICKER),
                                ("SPY", m.StreamChannel.CANDLES))
    await parser.on_message(samples.DATA_QUOTE_AMD.decode())  # no AMD trade yet: no last price, no ticker
    assert events == []
    await parser.on_message(samples.DATA_TRADES.decode())
    assert [t.trade_id for t in events if isinstance(t, Trade)] == ["K-628", "Z-75", "P-1465"]
    assert all(isinstance(t, Trade) and t.taker_side is None for t in events)
    parser.last["AMD"] = Decimal("91.96")
    await parser.on_message(samples.DATA_QUOTE_AMD.decode())
    ticker = events[-1]
    assert isinstance(ticker, Ticker) and (ticker.bid, ticker.ask, ticker.last) == (Decimal("91.95"),
                                                                                    Decimal("91.98"), Decimal("91.96"))
    assert ticker.bid_size == 200 and ticker.ask_size == 100  # round lots of 100 shares below $250
    await parser.on_message(samples.DATA_BAR_SPY.decode())
    candle = events[-1]
    assert isinstance(candle, Candle) and candle.closed and candle.interval == "1m"
    assert candle.open_time == datetime(2021, 2, 22, 19, 15, tzinfo=UTC) and candle.close == Decimal("389.12")


async def test_trades_feed_the_ticker_even_when_trades_are_not_subscribed() -> None:
    parser, events = parser_for(("AAPL", m.StreamChannel.TICKER))
    await parser.on_message(samples.DATA_TRADES.decode())
    assert events == [] and parser.last["AAPL"] == Decimal("162.91")


async def test_other_message_types_are_read_and_ignored() -> None:
    parser, events = parser_for(("AAPL", m.StreamChannel.TRADES))
    await parser.on_message(samples.DATA_OTHER_TYPES.decode())
    assert events == [] and parser.unreadable == 0


async def test_connection_errors_reopen_refusals_are_reported_and_garbage_is_skipped() -> None:
    parser, _ = parser_for()
    with pytest.raises(e.VenueUnavailable) as limit:  # 406: the socket re-opens with backoff
        await parser.on_message(samples.DATA_CONNECTION_LIMIT.decode())
    assert limit.value.code == "406"
    await parser.on_message('[{"T":"error","code":405,"msg":"symbol limit exceeded"}]')
    (refusal,) = parser.refusals
    assert isinstance(refusal, e.PermissionDenied) and refusal.code == "405"
    await parser.on_message("not json at all")
    assert parser.unreadable == 1
    with pytest.raises(e.ProtocolViolation):  # 400 from Alpaca: our message was wrong, re-open
        await parser.on_message('[{"T":"error","code":400,"msg":"invalid syntax"}]')


def test_channels_map_to_alpaca_subscriptions() -> None:
    wanted = data_channels([Subscription("AAPL", m.StreamChannel.TICKER), Subscription("SPY", m.StreamChannel.CANDLES),
                            Subscription("AMD", m.StreamChannel.TRADES)])
    assert wanted == {"quotes": {"AAPL"}, "trades": {"AAPL", "AMD"}, "bars": {"SPY"}}
    assert json.loads(subscribe_message(wanted) or "") == {"action": "subscribe", "trades": ["AAPL", "AMD"],
                                                           "quotes": ["AAPL"], "bars": ["SPY"]}
    assert subscribe_message({}) is None


async def test_the_data_stream_opens_authenticates_and_subscribes() -> None:
    ws = ScriptedSocket([samples.DATA_CONNECTED, samples.DATA_AUTHENTICATED, samples.DATA_SUBSCRIPTION])
    parser, _ = parser_for()
    await open_data_stream(ws, CREDENTIALS, subscribe_message({"trades": {"AAPL"}}), parser)  # type: ignore[arg-type]
    assert ws.sent == [{"action": "auth", "key": "PKDOCKEY", "secret": "doc-secret"},
                       {"action": "subscribe", "trades": ["AAPL"]}]


async def test_a_wrong_data_key_is_permanent_and_a_refused_subscription_is_reported() -> None:
    ws = ScriptedSocket([samples.DATA_CONNECTED, b'[{"T":"error","code":402,"msg":"auth failed"}]'])
    with pytest.raises(e.AuthenticationError):
        await open_data_stream(ws, CREDENTIALS, None, parser_for()[0])  # type: ignore[arg-type]
    ws = ScriptedSocket([samples.DATA_CONNECTED, samples.DATA_AUTHENTICATED,
                         b'[{"T":"error","code":405,"msg":"symbol limit exceeded"}]'])
    parser, _ = parser_for()
    await open_data_stream(ws, CREDENTIALS, subscribe_message({"trades": {"AAPL"}}), parser)  # type: ignore[arg-type]
    assert [r.code for r in parser.refusals] == ["405"]


# ============================================================================ the status keeper


async def test_statuses_carry_both_the_session_and_the_market_data_state() -> None:
    events = Collected()
    keeper = StatusKeeper("alpaca", events)
    now = datetime(2026, 12, 1, 15, tzinfo=UTC)
    await keeper.session_changed(MarketSession.REGULAR, now + timedelta(hours=6), now)
    await keeper.tracked(events)(m.BrokerStatus(venue="alpaca", state=m.ConnectionState.CONNECTED,
                                                market_data_degraded=True, timestamp=now))
    await keeper.session_changed(MarketSession.POST, now + timedelta(hours=10), now + timedelta(hours=6))
    first, degraded, post = events
    assert isinstance(first, m.BrokerStatus) and not first.market_data_degraded and first.session is MarketSession.REGULAR
    assert isinstance(degraded, m.BrokerStatus) and degraded.session is MarketSession.REGULAR
    assert degraded.next_session_change == now + timedelta(hours=6)
    assert isinstance(post, m.BrokerStatus) and post.market_data_degraded and post.session is MarketSession.POST
