"""Binance spot, end to end: the seed plan's categories (connection, account, orders, positions,
error handling), against the emulator always and against the Binance spot testnet when
BINANCE_API_KEY / BINANCE_API_SECRET are set.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from actors.handle import open_router_with
from actors.supervisor import BackoffPolicy
from brokers.base import Broker, BrokerState, broker_actor
from protocol import errors as e
from protocol import messages as m
from protocol.model import (
    Fill,
    MarketType,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    new_client_order_id,
)
from tests.integration.conftest import Target, VirtualClock
from tests.integration.scenarios import lots, tick_round

BASIC_CHANNELS = [m.StreamChannel.TICKER, m.StreamChannel.TRADES, m.StreamChannel.CANDLES, m.StreamChannel.BOOK]

VENUE = "binance"
SYMBOL = "BTC/USDT"


async def limit_far(broker: Broker, side: Side = Side.BUY) -> OrderRequest:
    """A limit order that rests: 10% away from the market."""
    instrument = broker.instrument(SYMBOL)
    last = (await broker.get_ticker(SYMBOL)).last
    price = tick_round(last * (Decimal("0.9") if side is Side.BUY else Decimal("1.1")), instrument.tick_size)
    return OrderRequest(venue=VENUE, symbol=SYMBOL, side=side, type=OrderType.LIMIT,
                        quantity=lots(instrument, price), price=price, client_order_id=new_client_order_id())


async def market(broker: Broker, side: Side) -> OrderRequest:
    instrument = broker.instrument(SYMBOL)
    last = (await broker.get_ticker(SYMBOL)).last
    return OrderRequest(venue=VENUE, symbol=SYMBOL, side=side, type=OrderType.MARKET,
                        quantity=lots(instrument, last), client_order_id=new_client_order_id())


# ============================================================================ connection


async def test_connects_with_valid_credentials_and_loads_instruments(clock: VirtualClock, broker: Broker) -> None:
    assert broker.is_connected
    btc = broker.instrument(SYMBOL)
    assert btc.venue_symbol == "BTCUSDT" and btc.market_type is MarketType.SPOT
    assert btc.base == "BTC" and btc.quote == "USDT"
    assert btc.tick_size > 0 and btc.lot_size > 0 and btc.min_notional > 0
    with pytest.raises(e.InvalidOrder):
        broker.instrument("NOPE/USDT")


async def test_invalid_credentials_fail_with_authentication_error(clock: VirtualClock, target: Target) -> None:
    from protocol.credentials import Credentials

    assert target.settings.credentials is not None
    wrong = Credentials.from_strings(target.settings.credentials.api_key, "not-the-secret")
    client = target.broker(credentials=wrong)
    with pytest.raises(e.AuthenticationError) as info:
        await client.connect()
        await client.get_balances()
    assert info.value.venue == VENUE and info.value.code is not None
    assert "not-the-secret" not in str(info.value) and not info.value.retryable
    await client.disconnect()


async def test_reconnects_after_streams_drop_and_delivers_missed_fills_once(clock: VirtualClock, target: Target) -> None:
    venue = target.require_emulator("dropping the venue's streams")
    state = BrokerState(venue=VENUE)
    actor = broker_actor(target.broker, state)
    async with open_router_with({VENUE: actor}, policy=BackoffPolicy(base=0.5, cap=5), seed=3) as router, \
            router.subscribe(kinds=["fill", "status"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        instrument = {i.symbol: i for i in await router.instruments(VENUE)}[SYMBOL]
        last = await router.get_current_price(VENUE, SYMBOL)
        venue.faults.drop_streams("all")
        venue.faults.refuse_connections(True)
        await trio.sleep(2)
        venue.faults.refuse_connections(False)
        with trio.fail_after(120):
            await router.wait_connected(VENUE)
        first = await router.place_order(venue=VENUE, symbol=SYMBOL, side="buy", type="market",
                                         quantity=lots(instrument, last))
        assert first.status is OrderStatus.FILLED
        seen: list[m.EventMsg] = []
        with trio.move_on_after(20):
            while True:
                seen.append(await events.get())
        states = [ev.state for ev in seen if isinstance(ev, m.BrokerStatus)]
        fills = [ev for ev in seen if isinstance(ev, Fill)]
        assert m.ConnectionState.CONNECTED in states or router.status(VENUE).state is m.ConnectionState.CONNECTED  # type: ignore[union-attr]
        assert {f.order_id for f in fills} == {first.order_id}
        assert len({f.trade_id for f in fills}) == len(fills)
        assert sum(f.quantity for f in fills) == first.filled_quantity


# ============================================================================ account


async def test_get_balance_of_the_quote_currency(clock: VirtualClock, broker: Broker) -> None:
    balance = await broker.get_balance("USDT")
    assert balance.currency == "USDT" and balance.venue == VENUE
    assert isinstance(balance.free, Decimal) and balance.free >= 0 and balance.locked >= 0
    assert balance.total == balance.free + balance.locked


async def test_get_balances_lists_every_held_currency_once(clock: VirtualClock, broker: Broker) -> None:
    balances = await broker.get_balances()
    currencies = [b.currency for b in balances]
    assert "USDT" in currencies and len(currencies) == len(set(currencies))
    assert all(isinstance(b.free, Decimal) and b.total > 0 for b in balances)


async def test_account_info_reports_permissions_and_balances(clock: VirtualClock, broker: Broker) -> None:
    info = await broker.get_account_info()
    assert info.can_trade and info.venue == VENUE
    assert {b.currency for b in info.balances} == {b.currency for b in await broker.get_balances()}
    assert info.updated_at.tzinfo is not None


async def test_locked_balance_follows_a_resting_order(clock: VirtualClock, broker: Broker) -> None:
    before = await broker.get_balance("USDT")
    order = await broker.place_order(await limit_far(broker))
    during = await broker.get_balance("USDT")
    assert order.price is not None
    assert during.locked - before.locked == order.quantity * order.price
    await broker.cancel_order(SYMBOL, order_id=order.order_id)
    assert (await broker.get_balance("USDT")).locked == before.locked


# ============================================================================ orders


async def test_market_order_fills_completely(clock: VirtualClock, broker: Broker) -> None:
    request = await market(broker, Side.BUY)
    order = await broker.place_order(request)
    assert order.status is OrderStatus.FILLED and order.filled_quantity == request.quantity
    assert order.client_order_id == request.client_order_id and order.average_price is not None
    fills = [f for f in await broker.get_fills(SYMBOL) if f.order_id == order.order_id]
    assert sum(f.quantity for f in fills) == request.quantity
    assert all(f.fee >= 0 and f.timestamp.tzinfo is not None for f in fills)


async def test_limit_order_rests_and_is_listed_open(clock: VirtualClock, broker: Broker) -> None:
    request = await limit_far(broker)
    order = await broker.place_order(request)
    assert order.status is OrderStatus.NEW and order.price == request.price
    assert order.time_in_force is TimeInForce.GTC
    assert order.order_id in {o.order_id for o in await broker.get_orders(SYMBOL, open_only=True)}
    await broker.cancel_order(SYMBOL, order_id=order.order_id)


async def test_cancel_order(clock: VirtualClock, broker: Broker) -> None:
    order = await broker.place_order(await limit_far(broker))
    cancelled = await broker.cancel_order(SYMBOL, order_id=order.order_id)
    assert cancelled.status is OrderStatus.CANCELED and cancelled.order_id == order.order_id
    assert order.order_id not in {o.order_id for o in await broker.get_orders(SYMBOL, open_only=True)}


async def test_order_status_by_venue_id_and_by_client_id(clock: VirtualClock, broker: Broker) -> None:
    request = await limit_far(broker)
    order = await broker.place_order(request)
    by_id = await broker.get_order_status(SYMBOL, order_id=order.order_id)
    by_client = await broker.get_order_status(SYMBOL, client_order_id=request.client_order_id)
    assert by_id.order_id == by_client.order_id == order.order_id
    assert by_client.client_order_id == request.client_order_id and by_id.status is OrderStatus.NEW
    await broker.cancel_order(SYMBOL, client_order_id=request.client_order_id)
    assert (await broker.get_order_status(SYMBOL, order_id=order.order_id)).status is OrderStatus.CANCELED


async def test_list_orders_includes_finished_ones_when_asked(clock: VirtualClock, broker: Broker) -> None:
    filled = await broker.place_order(await market(broker, Side.BUY))
    resting = await broker.place_order(await limit_far(broker))
    await broker.cancel_order(SYMBOL, order_id=resting.order_id)
    everything = {o.order_id: o.status for o in await broker.get_orders(SYMBOL, open_only=False)}
    assert everything[filled.order_id] is OrderStatus.FILLED
    assert everything[resting.order_id] is OrderStatus.CANCELED


# ============================================================================ positions (spot)


async def test_spot_positions_are_holdings_of_base_assets(clock: VirtualClock, broker: Broker) -> None:
    await broker.place_order(await market(broker, Side.BUY))
    positions = {p.symbol: p for p in await broker.get_positions()}
    btc = positions[SYMBOL]
    assert btc.side is PositionSide.LONG and btc.market_type is MarketType.SPOT
    assert btc.quantity == (await broker.get_balance("BTC")).total
    assert (await broker.get_position(SYMBOL)).quantity == btc.quantity


async def test_spot_position_pnl_is_mark_minus_average_cost(clock: VirtualClock, broker: Broker) -> None:
    await broker.place_order(await market(broker, Side.BUY))
    position = await broker.get_position(SYMBOL)
    assert position.entry_price is not None and position.mark_price is not None
    assert position.unrealized_pnl == (position.mark_price - position.entry_price) * position.quantity
    assert position.leverage == 1


async def test_spot_has_no_leverage(clock: VirtualClock, broker: Broker) -> None:
    with pytest.raises(e.NotSupported):
        await broker.get_leverage_info(SYMBOL)
    with pytest.raises(e.NotSupported):
        await broker.set_leverage(SYMBOL, Decimal(3))


# ============================================================================ error handling


async def test_read_timeout_is_recovered_by_retrying(clock: VirtualClock, target: Target, broker: Broker) -> None:
    venue = target.require_emulator("slowing responses down")
    venue.faults.slow_responses(target.settings.request_timeout + 5, count=1)
    ticker = await broker.get_ticker(SYMBOL)
    assert ticker.last > 0


async def test_lost_order_response_is_looked_up_not_sent_twice(clock: VirtualClock, target: Target) -> None:
    venue = target.require_emulator("losing a response after execution")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=5) as router:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        instrument = {i.symbol: i for i in await router.instruments(VENUE)}[SYMBOL]
        last = await router.get_current_price(VENUE, SYMBOL)
        price = tick_round(last * Decimal("0.9"), instrument.tick_size)
        venue.faults.lose_responses(1, path="/api/v3/order")
        order = await router.place_order(venue=VENUE, symbol=SYMBOL, side="buy", quantity=lots(instrument, price),
                                         price=price, client_order_id="lostanswer1")
        assert order.client_order_id == "lostanswer1"
        same = [o for o in await router.get_orders(VENUE, SYMBOL, open_only=False)
                if o.client_order_id == "lostanswer1"]
        assert len(same) == 1


async def test_rate_limit_answers_are_typed_and_backed_off(clock: VirtualClock, target: Target, broker: Broker) -> None:
    venue = target.require_emulator("forcing 429/418 answers")
    venue.faults.http_error(418, count=1, retry_after=120)
    with pytest.raises(e.RateLimited) as banned:
        await broker.get_balances()
    assert banned.value.retry_after is not None and banned.value.retry_after > 0
    with pytest.raises(e.RateLimited):  # the ban holds locally: nothing is sent until it expires
        await broker.get_balances()
    await trio.sleep(125)
    assert await broker.get_balances()


async def test_invalid_order_names_the_violated_filter(clock: VirtualClock, broker: Broker) -> None:
    instrument = broker.instrument(SYMBOL)
    request = await limit_far(broker)
    odd = OrderRequest(venue=VENUE, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT,
                       quantity=request.quantity + instrument.lot_size / 3, price=request.price,
                       client_order_id=new_client_order_id())
    with pytest.raises(e.InvalidOrder) as info:
        await broker.place_order(odd)
    assert info.value.filter == "LOT_SIZE"
    tiny = OrderRequest(venue=VENUE, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT,
                        quantity=instrument.lot_size, price=instrument.tick_size * 10,
                        client_order_id=new_client_order_id())
    with pytest.raises(e.InvalidOrder) as small:
        await broker.place_order(tiny)
    assert small.value.filter in {"NOTIONAL", "MIN_NOTIONAL", "LOT_SIZE", "MIN_QTY"}


async def test_insufficient_balance_is_typed(clock: VirtualClock, broker: Broker) -> None:
    instrument = broker.instrument(SYMBOL)
    usdt = (await broker.get_balance("USDT")).free
    last = (await broker.get_ticker(SYMBOL)).last
    price = tick_round(last * Decimal("0.95"), instrument.tick_size)
    quantity = ((usdt * 2 / price) / instrument.lot_size).to_integral_value() * instrument.lot_size
    if instrument.max_qty is not None:
        quantity = min(quantity, instrument.max_qty)
    with pytest.raises(e.InsufficientFunds) as info:
        await broker.place_order(OrderRequest(venue=VENUE, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT,
                                              quantity=quantity, price=price,
                                              client_order_id=new_client_order_id()))
    assert info.value.venue == VENUE and info.value.code is not None


async def test_unknown_order_is_order_not_found(clock: VirtualClock, broker: Broker) -> None:
    with pytest.raises(e.OrderNotFound):
        await broker.get_order_status(SYMBOL, client_order_id="neverplaced123")
    with pytest.raises(e.OrderNotFound):
        await broker.cancel_order(SYMBOL, client_order_id="neverplaced123")


async def test_duplicate_client_order_id_is_typed(clock: VirtualClock, broker: Broker) -> None:
    request = await limit_far(broker)
    first = await broker.place_order(request)
    with pytest.raises(e.DuplicateOrder):
        await broker.place_order(request)
    await broker.cancel_order(SYMBOL, order_id=first.order_id)


# ============================================================================ streams through the router


async def test_public_streams_deliver_every_channel_through_the_router(clock: VirtualClock, target: Target) -> None:
    target.require_emulator("a bounded wait for live market data")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=9) as router, \
            router.subscribe(venues=[VENUE], kinds=["ticker", "trade", "candle", "book"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        await router.subscribe_market_data(VENUE, [SYMBOL], BASIC_CHANNELS)
        with pytest.raises(e.NotSupported):  # a channel Binance spot does not stream: refused, typed
            await router.subscribe_market_data(VENUE, [SYMBOL], [m.StreamChannel.FUNDING])
        kinds: dict[m.EventKind, m.EventMsg] = {}
        with trio.move_on_after(30):
            while len(kinds) < 4:
                event = await events.get()
                kinds.setdefault(m.EVENT_KIND[type(event)], event)
        assert {m.EventKind.TICKER, m.EventKind.TRADE, m.EventKind.CANDLE, m.EventKind.BOOK} <= set(kinds)
        book = kinds[m.EventKind.BOOK]
        assert isinstance(book, OrderBook)
        assert book.bids[0].price < book.asks[0].price  # type: ignore[union-attr]
        assert all(a.price < b.price for a, b in zip(book.asks, book.asks[1:], strict=False))  # type: ignore[union-attr]

        assert router.status(VENUE).state is m.ConnectionState.CONNECTED  # type: ignore[union-attr]

