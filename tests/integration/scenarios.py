"""Integration scenarios every venue runs the same way through the router (each venue's module calls them with
its venue, symbol and order path), and the order-sizing helpers the venue modules share."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

import trio

from actors.handle import open_router_with
from actors.supervisor import BackoffPolicy
from brokers.base import Broker, BrokerState, broker_actor
from protocol import messages as m
from protocol.model import Fill, Instrument, OrderBook, OrderRequest, OrderStatus, PositionSide
from tests.integration.conftest import Target

BASIC_CHANNELS = [m.StreamChannel.TICKER, m.StreamChannel.TRADES, m.StreamChannel.CANDLES, m.StreamChannel.BOOK]


def lots(instrument: Instrument, price: Decimal, factor: Decimal = Decimal("1.5")) -> Decimal:
    """The smallest quantity comfortably above the instrument's minimums, on its lot size."""
    wanted = max(instrument.min_qty, instrument.min_notional * factor / price, instrument.lot_size)
    return (wanted / instrument.lot_size).to_integral_value(rounding=ROUND_UP) * instrument.lot_size


def tick_round(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value() * tick


async def missed_fills_are_delivered_once(target: Target, venue_name: str, symbol: str) -> BrokerState:
    """Drop every stream and refuse connections for a while; after the actor is back, a market order's fills
    reach subscribers exactly once. The venue's state, for venue-specific checks."""
    venue = target.require_emulator("dropping the venue's streams")
    state = BrokerState(venue=venue_name)
    async with open_router_with({venue_name: broker_actor(target.broker, state)},
                                policy=BackoffPolicy(base=0.5, cap=5), seed=3) as router, \
            router.subscribe(kinds=["fill", "status"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(venue_name)
        instrument = {i.symbol: i for i in await router.instruments(venue_name)}[symbol]
        last = await router.get_current_price(venue_name, symbol)
        venue.faults.drop_streams("all")
        venue.faults.refuse_connections(True)
        await trio.sleep(2)
        venue.faults.refuse_connections(False)
        with trio.fail_after(120):
            await router.wait_connected(venue_name)
        first = await router.place_order(venue=venue_name, symbol=symbol, side="buy", type="market",
                                         quantity=lots(instrument, last))
        seen: list[m.EventMsg] = []
        with trio.move_on_after(20):
            while True:
                seen.append(await events.get())
        fills = [ev for ev in seen if isinstance(ev, Fill)]
        assert {f.order_id for f in fills} == {first.order_id}
        assert len({f.trade_id for f in fills}) == len(fills)
        assert sum(f.quantity for f in fills) == first.quantity
    return state


async def lost_order_answer_is_looked_up(target: Target, venue_name: str, symbol: str, order_path: str) -> None:
    """The venue executes a placement but its answer is lost: the actor looks the order up and never sends it
    twice."""
    venue = target.require_emulator("losing a response after execution")
    state = BrokerState(venue=venue_name)
    async with open_router_with({venue_name: broker_actor(target.broker, state)}, seed=5) as router:
        with trio.fail_after(60):
            await router.wait_connected(venue_name)
        instrument = {i.symbol: i for i in await router.instruments(venue_name)}[symbol]
        last = await router.get_current_price(venue_name, symbol)
        price = tick_round(last * Decimal("0.95"), instrument.tick_size)
        venue.faults.lose_responses(1, path=order_path)
        order = await router.place_order(venue=venue_name, symbol=symbol, side="buy", quantity=lots(instrument, price),
                                         price=price, client_order_id="lostanswer1")
        assert order.client_order_id == "lostanswer1"
        same = [o for o in await router.get_orders(venue_name, symbol, open_only=True)
                if o.client_order_id == "lostanswer1"]
        assert len(same) == 1


async def public_channels_arrive(target: Target, venue_name: str, symbol: str) -> None:
    """Subscribing ticker, trades, candles and book through the router brings an event of each."""
    target.require_emulator("a bounded wait for live market data")
    state = BrokerState(venue=venue_name)
    async with open_router_with({venue_name: broker_actor(target.broker, state)}, seed=9) as router, \
            router.subscribe(venues=[venue_name], kinds=["ticker", "trade", "candle", "book"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(venue_name)
        await router.subscribe_market_data(venue_name, [symbol], BASIC_CHANNELS)
        kinds: dict[m.EventKind, m.EventMsg] = {}
        with trio.move_on_after(30):
            while len(kinds) < 4:
                event = await events.get()
                if getattr(event, "symbol", None) == symbol:
                    kinds.setdefault(m.EVENT_KIND[type(event)], event)
        assert {m.EventKind.TICKER, m.EventKind.TRADE, m.EventKind.CANDLE, m.EventKind.BOOK} <= set(kinds)
        book = kinds[m.EventKind.BOOK]
        assert isinstance(book, OrderBook) and book.bids[0].price < book.asks[0].price


async def private_stream_reports_position_and_fill(target: Target, venue_name: str, symbol: str) -> None:
    """A market sell of a perpetual: its order, fill and the short position arrive on the private stream."""
    target.require_emulator("a bounded wait for stream events")
    state = BrokerState(venue=venue_name)
    async with open_router_with({venue_name: broker_actor(target.broker, state)}, seed=4) as router, \
            router.subscribe(venues=[venue_name], kinds=["fill", "position", "order"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(venue_name)
        instrument = {i.symbol: i for i in await router.instruments(venue_name)}[symbol]
        last = await router.get_current_price(venue_name, symbol)
        order = await router.place_order(venue=venue_name, symbol=symbol, side="sell", type="market",
                                         quantity=lots(instrument, last))
        got: dict[str, m.EventMsg] = {}
        with trio.move_on_after(20):
            while len(got) < 3:
                event = await events.get()
                got.setdefault(type(event).__name__, event)
        assert {"Fill", "Position", "Order"} <= set(got)
        fill = got["Fill"]
        assert isinstance(fill, Fill) and fill.order_id == order.order_id
        position = got["Position"]
        assert position.symbol == symbol and position.side is PositionSide.SHORT  # type: ignore[union-attr]


async def ticker_and_candles(broker: Broker, symbol: str) -> None:
    """The ticker is sane and the latest minute candles come oldest first, all but the last closed."""
    ticker = await broker.get_ticker(symbol)
    assert ticker.symbol == symbol and ticker.last > 0
    if ticker.bid is not None and ticker.ask is not None:
        assert ticker.bid <= ticker.ask
    candles = await broker.get_candles(symbol, "1m", 50)
    assert 0 < len(candles) <= 50
    assert [c.open_time for c in candles] == sorted(c.open_time for c in candles)  # oldest first here
    assert all(c.low <= min(c.open, c.close) and c.high >= max(c.open, c.close) for c in candles)
    assert all(c.closed for c in candles[:-1])


async def limit_order_rests_then_cancels(broker: Broker, symbol: str, request: OrderRequest) -> None:
    """A limit order far from the market rests (listed open), then cancels (no longer listed)."""
    order = await broker.place_order(request)
    assert order.status is OrderStatus.NEW and order.client_order_id == request.client_order_id
    assert order.order_id in {o.order_id for o in await broker.get_orders(symbol, open_only=True)}
    cancelled = await broker.cancel_order(symbol, order_id=order.order_id)
    assert cancelled.status is OrderStatus.CANCELED and cancelled.order_id == order.order_id
    assert order.order_id not in {o.order_id for o in await broker.get_orders(symbol, open_only=True)}
