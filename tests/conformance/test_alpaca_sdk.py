"""The official alpaca-py SDK (0.44) against our Alpaca emulator: `TradingClient`, `StockHistoricalDataClient`,
`TradingStream` and `StockDataStream`, each pointed at the emulator the documented way (``url_override``).

alpaca-py builds its own requests (paths, JSON bodies, query strings, the key headers) and parses every answer
into its pydantic models, raising on any error status; so every accepted call proves the emulator speaks the
real dialect, and every answer is then compared with the engine's own records (cash, positions, orders, fills,
prices, candles). The streams run alpaca-py's own asyncio clients in threads: the trading stream reads JSON in
binary frames, the data stream MessagePack. The emulator runs in a thread with its own trio loop on the real
clock, its market clock pinned to a regular session (Tuesday 2026-12-01, 10:00 New York).
"""

from __future__ import annotations

import asyncio
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

alpaca = pytest.importorskip("alpaca", reason="alpaca-py is a dev dependency (requirements/dev.lock)")
with warnings.catch_warnings():  # alpaca-py's streams use websockets' legacy client, which warns on import
    warnings.simplefilter("ignore", DeprecationWarning)
    import alpaca.data.live
    import alpaca.trading.stream  # noqa: F401
from alpaca.common.exceptions import APIError  # noqa: E402
from alpaca.data.enums import DataFeed  # noqa: E402
from alpaca.data.historical import StockHistoricalDataClient  # noqa: E402
from alpaca.data.live import StockDataStream  # noqa: E402
from alpaca.data.models import Bar, Quote, Trade  # noqa: E402
from alpaca.data.requests import (  # noqa: E402
    StockBarsRequest,
    StockLatestBarRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
    StockQuotesRequest,
    StockSnapshotRequest,
    StockTradesRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit  # noqa: E402
from alpaca.trading.client import TradingClient  # noqa: E402
from alpaca.trading.enums import (  # noqa: E402
    AssetClass,
    OrderClass,
    OrderSide,
    OrderStatus,
    PositionSide,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.models import TradeUpdate  # noqa: E402
from alpaca.trading.requests import (  # noqa: E402
    ClosePositionRequest,
    GetAssetsRequest,
    GetCalendarRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)
from alpaca.trading.stream import TradingStream  # noqa: E402

from emulators import EmulatedVenue  # noqa: E402
from emulators.engine.sessions import trading_calendar  # noqa: E402
from tests.conformance.conftest import threaded_emulator  # noqa: E402

D = Decimal
TUESDAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def serve(tick_interval: float) -> Iterator[EmulatedVenue]:
    yield from threaded_emulator("alpaca", seed=44, tick_interval=tick_interval, market_time=TUESDAY)


@pytest.fixture(scope="module")
def venue() -> Iterator[EmulatedVenue]:
    """Prices frozen (a tick an hour), so what the SDK reads can be compared with the engine."""
    yield from serve(3600)


@pytest.fixture
def live() -> Iterator[EmulatedVenue]:
    """Prices moving (four ticks a second), for the streams."""
    yield from serve(0.25)


def trading(venue: EmulatedVenue, key: str | None = None, secret: str | None = None) -> TradingClient:
    return TradingClient(key or venue.api_key, secret or venue.api_secret, paper=True, url_override=venue.rest_url)


def market_data(venue: EmulatedVenue) -> StockHistoricalDataClient:
    return StockHistoricalDataClient(venue.api_key, venue.api_secret, url_override=venue.rest_url)


def fills_of(venue: EmulatedVenue, order_id: Any) -> list[Any]:
    return [f for f in venue.engine.fill_log if f.client_order_id == str(order_id)]


# ====================================================================== account, assets, clock, calendar
def test_account_assets_clock_and_calendar(venue: EmulatedVenue) -> None:
    client = trading(venue)
    account = client.get_account()
    engine = venue.engine
    assert D(account.cash) == engine.cash("demo")  # type: ignore[attr-defined]
    assert account.pattern_day_trader is None and account.daytrade_count is None  # removed on 2026-07-06
    assert account.shorting_enabled and account.multiplier == "2" and account.status == "ACTIVE"
    assets = client.get_all_assets(GetAssetsRequest(asset_class=AssetClass.US_EQUITY))
    assert [a.symbol for a in assets] == list(engine.symbols)
    tqqq = client.get_asset("TQQQ")
    assert (tqqq.fractionable, tqqq.shortable, tqqq.exchange.value) == (False, False, "NASDAQ")
    assert client.get_asset(tqqq.id).symbol == "TQQQ"
    clock = client.get_clock()
    assert clock.is_open and abs(clock.timestamp - engine.clock.now()) < timedelta(minutes=1)  # type: ignore[attr-defined]
    assert clock.next_close == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    days = client.get_calendar(GetCalendarRequest(start=datetime(2026, 11, 20).date(),
                                                  end=datetime(2026, 12, 31).date()))
    expected = trading_calendar().between(datetime(2026, 11, 20).date(), datetime(2026, 12, 31).date())
    assert [d.date for d in days] == [d.day for d in expected]
    friday = next(d for d in days if d.date.isoformat() == "2026-11-27")
    assert (friday.open.hour, friday.open.minute, friday.close.hour) == (9, 30, 13)  # New York wall clock


# ====================================================================== orders and positions
def test_orders_positions_and_the_engine_agree(venue: EmulatedVenue) -> None:
    client = trading(venue)
    engine = venue.engine
    market = client.submit_order(MarketOrderRequest(symbol="MSFT", qty=5, side=OrderSide.BUY,
                                                    time_in_force=TimeInForce.DAY, client_order_id="sdk-m-1"))
    assert market.status == OrderStatus.FILLED and D(str(market.filled_qty)) == 5
    logged = fills_of(venue, market.id)
    average = sum((f.price * f.quantity for f in logged), D(0)) / 5
    assert D(str(market.filled_avg_price)) == average
    assert client.get_order_by_client_id("sdk-m-1").id == market.id
    notional = client.submit_order(MarketOrderRequest(symbol="SPY", notional=250, side=OrderSide.BUY,
                                                      time_in_force=TimeInForce.DAY))
    assert notional.notional == "250" and notional.qty is None
    assert D(str(notional.filled_qty)) == sum((f.quantity for f in fills_of(venue, notional.id)), D(0))
    limit = client.submit_order(LimitOrderRequest(symbol="AAPL", qty=3, side=OrderSide.BUY, limit_price=150,
                                                  time_in_force=TimeInForce.GTC))
    replaced = client.replace_order_by_id(limit.id, ReplaceOrderRequest(qty=4, limit_price=151))
    assert replaced.replaces == limit.id and (replaced.qty, replaced.limit_price) == ("4", "151")
    assert client.get_order_by_id(limit.id).status == OrderStatus.REPLACED
    stop_limit = client.submit_order(StopLimitOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, stop_price=400,
                                                           limit_price=401, time_in_force=TimeInForce.DAY))
    trailing = client.submit_order(TrailingStopOrderRequest(symbol="MSFT", qty=2, side=OrderSide.SELL,
                                                            trail_percent=5, time_in_force=TimeInForce.GTC))
    assert D(str(trailing.hwm)) == engine.last_price("MSFT")  # type: ignore[attr-defined]
    bracket = client.submit_order(MarketOrderRequest(
        symbol="AAPL", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, order_class=OrderClass.BRACKET,
        take_profit=TakeProfitRequest(limit_price=300), stop_loss=StopLossRequest(stop_price=150, limit_price=149)))
    assert bracket.order_class == OrderClass.BRACKET and bracket.legs is not None
    assert {leg.type.value for leg in bracket.legs} == {"limit", "stop_limit"}
    open_orders = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True))
    assert {o.id for o in open_orders} == {replaced.id, stop_limit.id, trailing.id, *(leg.id for leg in bracket.legs)}
    assert {o.id for o in open_orders} == {UUID(o.id) for o in venue.dialect.open_orders("demo")}
    every = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, symbols=["AAPL"], limit=500))
    assert {o.id for o in every} >= {limit.id, replaced.id, stop_limit.id, bracket.id}
    client.cancel_order_by_id(stop_limit.id)
    assert client.get_order_by_id(stop_limit.id).status == OrderStatus.CANCELED
    positions = {p.symbol: p for p in client.get_all_positions()}
    for symbol, position in positions.items():
        held = engine.stock_position("demo", symbol)  # type: ignore[attr-defined]
        assert (D(position.qty), D(position.avg_entry_price)) == (held.size, held.entry_price.quantize(D("1e-9")))
        assert position.side == (PositionSide.LONG if held.size > 0 else PositionSide.SHORT)
    assert set(positions) == {"MSFT", "SPY", "AAPL"}
    assert client.get_open_position("MSFT").qty_available == "3"  # 5 held, 2 claimed by the trailing stop
    closing = client.close_position("SPY", ClosePositionRequest(percentage="50"))
    assert closing.side == OrderSide.SELL and D(str(closing.qty)) == (D(str(notional.filled_qty)) / 2).quantize(
        D("1e-9"), rounding="ROUND_DOWN")
    canceled = client.cancel_orders()
    assert {c.status for c in canceled} == {200} and len(canceled) >= 3
    closed = client.close_all_positions(cancel_orders=True)
    assert {c.symbol for c in closed} == {"MSFT", "SPY", "AAPL"} and {c.status for c in closed} == {200}
    assert client.get_all_positions() == []
    assert D(client.get_account().cash) == engine.cash("demo").quantize(D("1e-9"))  # type: ignore[attr-defined]


def test_the_sdk_raises_alpaca_errors(venue: EmulatedVenue) -> None:
    client = trading(venue)
    client.submit_order(LimitOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, limit_price=100,
                                          time_in_force=TimeInForce.DAY, client_order_id="sdk-dup"))
    cases: list[tuple[Callable[[], Any], int, int]] = [
        (lambda: client.submit_order(LimitOrderRequest(symbol="AAPL", qty=1, side=OrderSide.BUY, limit_price=100,
                                                       time_in_force=TimeInForce.DAY, client_order_id="sdk-dup")),
         422, 40010001),
        (lambda: client.submit_order(MarketOrderRequest(symbol="AAPL", qty=100000, side=OrderSide.BUY,
                                                        time_in_force=TimeInForce.DAY)), 403, 40310000),
        (lambda: client.submit_order(MarketOrderRequest(symbol="TSLA", qty=1, side=OrderSide.SELL,
                                                        time_in_force=TimeInForce.DAY)), 422, 42210000),
        (lambda: client.submit_order(MarketOrderRequest(symbol="TQQQ", qty=0.5, side=OrderSide.BUY,
                                                        time_in_force=TimeInForce.DAY)), 403, 40310000),
        (lambda: client.get_open_position("TQQQ"), 404, 40410000),
        (lambda: client.get_asset("NOPE"), 404, 40410000),
        (lambda: trading(venue, secret="x" * 40).get_account(), 401, 40110000),
    ]
    for call, status, code in cases:
        with pytest.raises(APIError) as raised:
            call()
        assert (raised.value.status_code, raised.value.code) == (status, code), raised.value


def test_fill_activities_match_the_fill_log(venue: EmulatedVenue) -> None:
    client = trading(venue)
    order = client.submit_order(MarketOrderRequest(symbol="AAPL", qty=700, side=OrderSide.BUY,
                                                   time_in_force=TimeInForce.DAY))  # two levels: two fills
    raw = client.get("/account/activities/FILL", {"direction": "asc", "page_size": 100})
    mine = [a for a in raw if a["order_id"] == str(order.id)]
    assert [(D(a["qty"]), D(a["price"])) for a in mine] == [(f.quantity, f.price) for f in fills_of(venue, order.id)]
    assert [a["type"] for a in mine] == ["partial_fill", "fill"]
    client.close_all_positions(cancel_orders=True)


# ====================================================================== market data
def test_market_data_equals_the_engine(venue: EmulatedVenue) -> None:
    data = market_data(venue)
    engine = venue.engine
    aapl = engine.symbols["AAPL"]
    start = datetime.fromtimestamp(aapl.candles[0].open_ms / 1000, UTC)
    bars = data.get_stock_bars(StockBarsRequest(symbol_or_symbols=["AAPL", "MSFT"], timeframe=TimeFrame.Minute,
                                                start=start, limit=10_000, feed=DataFeed.IEX))
    assert [(b.timestamp, D(str(b.close))) for b in bars["AAPL"]] == [
        (datetime.fromtimestamp(c.open_ms / 1000, UTC), c.close) for c in aapl.candles]
    assert len(bars["MSFT"]) == len(engine.symbols["MSFT"].candles)
    quarter = start.replace(minute=start.minute // 15 * 15 + 15) if start.minute < 45 else \
        (start + timedelta(hours=1)).replace(minute=0)
    fifteen = data.get_stock_bars(StockBarsRequest(symbol_or_symbols="AAPL", start=quarter,
                                                   timeframe=TimeFrame(15, TimeFrameUnit.Minute)))
    assert all(b.timestamp.minute % 15 == 0 for b in fifteen["AAPL"])
    counted = [c for c in aapl.candles if c.open_ms >= quarter.timestamp() * 1000]
    assert sum(D(str(b.volume)) for b in fifteen["AAPL"]) == sum((c.volume for c in counted), D(0))
    trade = data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="AAPL"))["AAPL"]
    assert isinstance(trade, Trade) and D(str(trade.price)) == aapl.trades[-1].price
    quote = data.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols=["AAPL"]))["AAPL"]
    assert isinstance(quote, Quote)
    assert (D(str(quote.bid_price)), D(str(quote.ask_price))) == (aapl.book.bids[0][0], aapl.book.asks[0][0])
    bar = data.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols="AAPL"))["AAPL"]
    assert isinstance(bar, Bar) and D(str(bar.close)) == aapl.candles[-1].close
    snapshot = data.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols=["AAPL", "MSFT"]))
    assert set(snapshot) == {"AAPL", "MSFT"} and snapshot["AAPL"].latest_trade is not None
    trades = data.get_stock_trades(StockTradesRequest(symbol_or_symbols="AAPL", start=start))
    assert [t.id for t in trades["AAPL"]] == [t.trade_id for t in aapl.trades]
    quotes = data.get_stock_quotes(StockQuotesRequest(symbol_or_symbols="AAPL", start=start, limit=3))
    assert len(quotes["AAPL"]) <= 3
    with pytest.raises(APIError) as refused:
        data.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="AAPL", feed=DataFeed.SIP))
    assert refused.value.status_code == 403  # the Basic plan: no recent SIP data


# ====================================================================== the streams
def run_stream(stream: Any, until: Callable[[], bool], seconds: float = 20) -> None:
    """Run an alpaca-py stream in a thread until ``until()`` holds (or ``seconds`` pass), then stop it."""
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        time.sleep(0.05)
    loop = stream._loop
    if loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(stream.stop_ws(), loop).result(timeout=5)
    thread.join(10)


def test_trading_stream_reports_what_the_engine_did(live: EmulatedVenue) -> None:
    updates: list[TradeUpdate] = []

    async def on_update(update: TradeUpdate) -> None:
        updates.append(update)

    stream = TradingStream(live.api_key, live.api_secret, paper=True, url_override=f"{live.ws_url}/stream")
    stream.subscribe_trade_updates(on_update)
    client = trading(live)
    placed: list[Any] = []

    def until() -> bool:
        if not placed and any(c.kind == "private" and "trade_updates" in c.topics for c in live.dialect.connections):
            placed.append(client.submit_order(MarketOrderRequest(symbol="AAPL", qty=700, side=OrderSide.BUY,
                                                                 time_in_force=TimeInForce.DAY)))
        return any(u.event == "fill" for u in updates)

    run_stream(stream, until)
    assert placed, "the stream never listened"
    mine = [u for u in updates if u.order.id == placed[0].id]
    assert [u.event for u in mine] == ["new", "partial_fill", "fill"]
    logged = fills_of(live, placed[0].id)
    executions = [u for u in mine if u.event in ("partial_fill", "fill")]
    assert [(D(str(u.qty)), D(str(u.price))) for u in executions] == [(f.quantity, f.price) for f in logged]
    assert len({u.execution_id for u in executions}) == 2 and executions[-1].position_qty == 700
    assert mine[-1].order.status == OrderStatus.FILLED


def test_stock_data_stream_matches_the_engine(live: EmulatedVenue) -> None:
    received: list[Any] = []

    async def on_data(item: Any) -> None:
        received.append(item)

    stream = StockDataStream(live.api_key, live.api_secret, feed=DataFeed.IEX, url_override=f"{live.ws_url}/v2/iex")
    stream.subscribe_trades(on_data, "AAPL")
    stream.subscribe_quotes(on_data, "MSFT")
    run_stream(stream, lambda: {type(x).__name__ for x in received} >= {"Trade", "Quote"} and len(received) > 10)
    trades = [x for x in received if isinstance(x, Trade)]
    quotes = [x for x in received if isinstance(x, Quote)]
    assert trades and quotes and {t.symbol for t in trades} == {"AAPL"} and {q.symbol for q in quotes} == {"MSFT"}
    by_id = {t.trade_id: t for t in live.engine.symbols["AAPL"].trades}
    for trade in trades:
        printed = by_id[trade.id]
        assert (D(str(trade.price)), D(str(trade.size))) == (printed.price, printed.quantity)
        assert trade.timestamp == datetime.fromtimestamp(printed.time_ms / 1000, UTC)
