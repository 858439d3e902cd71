"""Alpaca US stocks, end to end: connection, account, orders, positions, error handling, streams through the
router, and market hours (open, closed, weekend, holiday, early close, pre/post-market and the transitions
themselves on the virtual clock), against the emulator always and against Alpaca paper trading when
ALPACA_API_KEY / ALPACA_API_SECRET are set (the same bodies).

The emulator's market clock starts at a fixed moment inside a regular session (Tuesday 2026-12-01, 10:00
New York), so every body sees an open market; the market-hours tests pin it elsewhere with
``@pytest.mark.market_time`` (their real-venue twins skip: Alpaca's clock cannot be pinned), and the
real-venue twins of order tests that need an open market skip while the real market is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import trio

from actors.handle import open_router_with
from actors.supervisor import BackoffPolicy
from algotrendy.tables import status_flags
from brokers.base import Broker, BrokerState, broker_actor, place_order_idempotent
from protocol import errors as e
from protocol import messages as m
from protocol.model import (
    Fill,
    MarketSession,
    MarketType,
    Order,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    new_client_order_id,
)
from tests.integration.conftest import Target, VirtualClock

VENUE = "alpaca"
STOCK = "AAPL"  # fractionable, shortable, easy to borrow on the emulator
WHOLE_SHARES = "TQQQ"  # neither fractionable nor shortable on the emulator
EMULATOR_OPTIONS: dict[str, Any] = {"market_time": datetime(2026, 12, 1, 15, 0, tzinfo=UTC)}  # Tue 10:00 ET
SLOW_TICKS = 60.0  # pinned market-hours tests cross hours of virtual time: one price tick a virtual minute


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def request(symbol: str = STOCK, side: Side = Side.BUY, type_: OrderType = OrderType.MARKET,
            quantity: Decimal = Decimal(1), **fields: Any) -> OrderRequest:
    return OrderRequest(venue=VENUE, symbol=symbol, side=side, type=type_, quantity=quantity,
                        client_order_id=new_client_order_id(), **fields)


async def limit_far(broker: Broker, symbol: str = STOCK, side: Side = Side.BUY, **fields: Any) -> OrderRequest:
    """A DAY limit order that rests: 5% away from the market."""
    last = (await broker.get_ticker(symbol)).last
    price = (last * (Decimal("0.95") if side is Side.BUY else Decimal("1.05"))).quantize(Decimal("0.01"))
    return request(symbol, side, OrderType.LIMIT, price=price, time_in_force=TimeInForce.DAY, **fields)


async def require_open(target: Target, broker: Broker) -> None:
    """Orders that must trade now: the emulator's market is open; the real one may not be."""
    if target.emulator is None and not (await broker.get_market_clock()).is_open:
        pytest.skip("the real US market is closed now: this body needs the regular session "
                    "(it ran against the emulator)")


async def flatten(broker: Broker, symbol: str = STOCK) -> None:
    position = await broker.get_position(symbol)
    if position.quantity > 0:
        side = Side.SELL if position.side is PositionSide.LONG else Side.BUY
        await broker.place_order(request(symbol, side, quantity=position.quantity, time_in_force=TimeInForce.DAY))


async def order_until(broker: Broker, order_id: str, done: Callable[[Order], bool], *, seconds: float = 30,
                      poll: float = 0.5) -> Order:
    """The order as soon as ``done`` holds for it (polled: a REST read is what is being tested)."""
    with trio.fail_after(seconds):
        while not done(order := await broker.get_order_status(STOCK, order_id=order_id)):  # noqa: ASYNC110
            await trio.sleep(poll)
    return order


async def statuses_while(broker: Broker, seconds: float) -> list[m.BrokerStatus]:
    """The statuses the broker reports over ``seconds`` (its private stream and session watch running)."""
    seen: list[m.BrokerStatus] = []

    async def emit(event: m.EventMsg) -> None:
        if isinstance(event, m.BrokerStatus):
            seen.append(event)

    async with trio.open_nursery() as nursery:
        await nursery.start(broker.run_private_stream, emit)
        await trio.sleep(seconds)
        nursery.cancel_scope.cancel()
    return seen


def at_venue(target: Target, client_order_id: str) -> bool:
    """Whether an order with this client id reached the emulator (it keeps every client id for ever)."""
    assert target.emulator is not None
    return ("demo", client_order_id) in target.emulator.dialect.by_client


# ============================================================================ connection


async def test_connects_and_loads_stocks_with_their_asset_attributes(clock: VirtualClock, broker: Broker) -> None:
    assert broker.is_connected
    aapl = broker.instrument(STOCK)
    assert aapl.market_type is MarketType.STOCK and aapl.symbol == aapl.venue_symbol == aapl.base == STOCK
    assert aapl.quote == "USD" and aapl.exchange and aapl.tick_size == Decimal("0.01")
    assert aapl.fractionable and aapl.lot_size == Decimal("1e-9") and aapl.min_notional == 1
    if broker.instrument(WHOLE_SHARES).fractionable is False:  # the emulator's whole-share asset
        assert broker.instrument(WHOLE_SHARES).lot_size == 1
    with pytest.raises(e.InvalidOrder) as unknown:
        broker.instrument("NOPE")
    assert unknown.value.filter == "SYMBOL"


async def test_invalid_keys_fail_with_authentication_error(clock: VirtualClock, target: Target) -> None:
    from protocol.credentials import Credentials

    assert target.settings.credentials is not None
    wrong = Credentials.from_strings(target.settings.credentials.api_key, "not-the-secret")
    client = target.broker(credentials=wrong)
    with pytest.raises(e.AuthenticationError) as info:
        await client.connect()
    assert info.value.venue == VENUE and info.value.code == "40110000" and not info.value.retryable
    assert "not-the-secret" not in str(info.value) and "not-the-secret" not in repr(client)
    await client.disconnect()


async def test_reconnects_after_streams_drop_and_delivers_missed_fills_once(clock: VirtualClock,
                                                                         target: Target) -> None:
    venue = target.require_emulator("dropping the venue's streams")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, policy=BackoffPolicy(base=0.5, cap=5),
                                seed=3) as router, router.subscribe(kinds=["fill", "status"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        resting = await router.place_order(venue=VENUE, symbol=STOCK, side="buy", type="limit", quantity=Decimal(2),
                                           price=Decimal(200), time_in_force="day")
        venue.faults.drop_streams("all")
        venue.faults.refuse_connections(True)
        await trio.sleep(2)
        venue.faults.refuse_connections(False)
        with trio.fail_after(120):
            await router.wait_connected(VENUE)
        first = await router.place_order(venue=VENUE, symbol=STOCK, side="buy", type="market", quantity=Decimal(3))
        seen: list[m.EventMsg] = []
        with trio.move_on_after(20):
            while True:
                seen.append(await events.get())
        fills = [ev for ev in seen if isinstance(ev, Fill)]
        assert {f.order_id for f in fills} == {first.order_id}
        assert len({f.trade_id for f in fills}) == len(fills) and sum(f.quantity for f in fills) == 3
        assert state.reconciliations >= 2
        assert (await router.get_order_status(VENUE, STOCK, order_id=resting.order_id)).status is OrderStatus.NEW


# ============================================================================ account


async def test_account_reports_cash_equity_buying_power_and_no_pdt_fields(clock: VirtualClock,
                                                                          broker: Broker) -> None:
    info = await broker.get_account_info()
    assert info.venue == VENUE and info.currency == "USD" and info.account_type in ("cash", "margin")
    assert info.cash is not None and info.equity is not None and info.buying_power is not None
    assert info.buying_power > 0 and isinstance(info.shorting_enabled, bool)
    # FINRA retired the PDT rule; Alpaca removed the fields on 2026-07-06: None, never a made-up 0/False.
    assert info.pattern_day_trader is None and info.day_trade_count is None
    assert info.maker_fee_rate == info.taker_fee_rate == 0


async def test_the_balance_is_the_account_cash_in_usd(clock: VirtualClock, broker: Broker) -> None:
    (usd,) = await broker.get_balances()
    assert usd.currency == "USD" and usd.total == (await broker.get_account_info()).cash
    assert (await broker.get_balance("USD")).free == usd.free
    assert (await broker.get_balance("EUR")).total == 0


async def test_ticker_candles_and_trades(clock: VirtualClock, broker: Broker) -> None:
    ticker = await broker.get_ticker(STOCK)
    assert ticker.symbol == STOCK and ticker.last > 0 and ticker.timestamp.tzinfo is not None
    if ticker.bid is not None and ticker.ask is not None:
        assert ticker.bid <= ticker.ask
    candles = await broker.get_candles(STOCK, "1m", 30)
    assert 0 < len(candles) <= 30
    assert [c.open_time for c in candles] == sorted(c.open_time for c in candles)
    assert all(c.low <= min(c.open, c.close) and c.high >= max(c.open, c.close) for c in candles)
    assert all(c.closed for c in candles[:-1])
    trades = await broker.get_trades(STOCK, limit=10)
    assert trades and all(t.taker_side is None and t.price > 0 for t in trades)  # US feeds name no aggressor
    with pytest.raises(e.InvalidOrder) as bad:
        await broker.get_candles(STOCK, "7m", 10)
    assert bad.value.filter == "INTERVAL"


async def test_leverage_is_the_account_multiplier_and_cannot_be_set(clock: VirtualClock, broker: Broker) -> None:
    info = await broker.get_leverage_info(STOCK)
    assert info.leverage >= 1 and info.leverage == info.max_leverage
    with pytest.raises(e.NotSupported):
        await broker.set_leverage(STOCK, Decimal(4))


# ============================================================================ orders


async def test_limit_order_rests_then_cancels(clock: VirtualClock, target: Target, broker: Broker) -> None:
    await require_open(target, broker)
    wanted = await limit_far(broker)
    order = await broker.place_order(wanted)
    assert order.status in (OrderStatus.NEW, OrderStatus.PENDING_NEW)
    assert order.client_order_id == wanted.client_order_id and order.time_in_force is TimeInForce.DAY
    assert order.order_id in {o.order_id for o in await broker.get_orders(STOCK, open_only=True)}
    cancelled = await broker.cancel_order(STOCK, order_id=order.order_id)
    assert cancelled.status is OrderStatus.CANCELED and cancelled.order_id == order.order_id
    assert order.order_id not in {o.order_id for o in await broker.get_orders(STOCK, open_only=True)}


async def test_market_order_fills_and_its_fills_carry_our_client_id(clock: VirtualClock, target: Target,
                                                                   broker: Broker) -> None:
    await require_open(target, broker)
    wanted = request(quantity=Decimal(2))
    order = await broker.place_order(wanted)
    final = await order_until(broker, order.order_id, lambda o: o.status is OrderStatus.FILLED)
    assert final.filled_quantity == 2 and final.average_price is not None and final.average_price > 0
    fills = [f for f in await broker.get_fills(STOCK, since=final.created_at - timedelta(seconds=5))
             if f.order_id == order.order_id]
    assert sum(f.quantity for f in fills) == 2 and fills[-1].order_filled_quantity == 2
    assert all(f.client_order_id == wanted.client_order_id and f.fee == 0 and f.is_maker is None for f in fills)
    await flatten(broker)


async def test_order_status_by_venue_id_and_by_client_id(clock: VirtualClock, target: Target,
                                                         broker: Broker) -> None:
    await require_open(target, broker)
    wanted = await limit_far(broker)
    order = await broker.place_order(wanted)
    by_id = await broker.get_order_status(STOCK, order_id=order.order_id)
    by_client = await broker.get_order_status(STOCK, client_order_id=wanted.client_order_id)
    assert by_id.order_id == by_client.order_id == order.order_id
    await broker.cancel_order(STOCK, client_order_id=wanted.client_order_id)
    assert (await broker.get_order_status(STOCK, order_id=order.order_id)).status is OrderStatus.CANCELED


async def test_replace_makes_a_new_order_and_ends_the_old_one(clock: VirtualClock, target: Target,
                                                              broker: Broker) -> None:
    await require_open(target, broker)
    wanted = await limit_far(broker)
    old = await broker.place_order(wanted)
    assert wanted.price is not None
    new = await broker.amend_order(STOCK, order_id=old.order_id, price=wanted.price - Decimal("0.5"),
                                   quantity=Decimal(2), new_client_order_id=f"{wanted.client_order_id}r")
    # Alpaca's replace is a new order: new order id, our new client order id, the new terms.
    assert new.order_id != old.order_id and new.client_order_id == f"{wanted.client_order_id}r"
    assert new.price == wanted.price - Decimal("0.5") and new.quantity == 2 and not new.status.is_terminal
    replaced = await order_until(broker, old.order_id, lambda o: o.status.is_terminal)
    assert replaced.status is OrderStatus.CANCELED and replaced.reject_reason == f"replaced by {new.order_id}"
    await order_until(broker, new.order_id, lambda o: o.status is not OrderStatus.PENDING_NEW)  # live first
    generated = await broker.amend_order(STOCK, client_order_id=new.client_order_id, quantity=Decimal(1))
    assert generated.client_order_id not in (new.client_order_id, wanted.client_order_id)
    await broker.cancel_order(STOCK, order_id=generated.order_id)
    with pytest.raises(e.InvalidOrder):
        await broker.amend_order(STOCK, order_id=generated.order_id)  # nothing to change


async def test_fractional_and_notional_orders(clock: VirtualClock, target: Target, broker: Broker) -> None:
    await require_open(target, broker)
    fractional = await broker.place_order(request(quantity=Decimal("0.5"), time_in_force=TimeInForce.DAY))
    notional = await broker.place_order(request(quantity=Decimal(0), notional=Decimal(25),
                                                time_in_force=TimeInForce.DAY))
    assert fractional.quantity == Decimal("0.5") and notional.notional == 25
    bought = await order_until(broker, notional.order_id, lambda o: o.filled_quantity > 0)
    assert bought.average_price is not None and abs(bought.filled_quantity * bought.average_price - 25) < 1
    with pytest.raises(e.InvalidOrder) as gtc:  # Alpaca: fractional orders are DAY orders
        await broker.place_order(request(quantity=Decimal("0.5"), time_in_force=TimeInForce.GTC))
    assert gtc.value.filter == "LOT_SIZE"
    with pytest.raises(e.InvalidOrder) as whole:  # a non-fractionable asset takes whole shares only
        await broker.place_order(request(WHOLE_SHARES, quantity=Decimal("0.5"), time_in_force=TimeInForce.DAY))
    assert whole.value.filter == "LOT_SIZE"
    await flatten(broker)


async def test_bracket_order_carries_its_legs(clock: VirtualClock, target: Target, broker: Broker) -> None:
    await require_open(target, broker)
    last = (await broker.get_ticker(STOCK)).last
    entry = (last * Decimal("0.95")).quantize(Decimal("0.01"))
    wanted = request(type_=OrderType.LIMIT, price=entry, time_in_force=TimeInForce.GTC,
                     order_class=OrderClass.BRACKET, take_profit_price=(last * Decimal("1.1")).quantize(Decimal("0.01")),
                     stop_loss_price=(last * Decimal("0.9")).quantize(Decimal("0.01")))
    parent = await broker.place_order(wanted)
    assert parent.order_class is OrderClass.BRACKET and parent.client_order_id == wanted.client_order_id
    listed = await broker.get_orders(STOCK, open_only=True)
    legs = [o for o in listed if o.parent_order_id == parent.order_id]
    assert {leg.type for leg in legs} == {OrderType.LIMIT, OrderType.STOP_MARKET}
    assert all(leg.status is OrderStatus.PENDING_NEW for leg in legs)  # held until the entry fills
    await broker.cancel_order(STOCK, order_id=parent.order_id)
    with pytest.raises(e.InvalidOrder) as refused:
        await broker.place_order(request(order_class=OrderClass.BRACKET, take_profit_price=last))
    assert refused.value.filter == "ORDER_CLASS"


async def test_stop_limit_and_trailing_stop_orders(clock: VirtualClock, target: Target, broker: Broker) -> None:
    await require_open(target, broker)
    last = (await broker.get_ticker(STOCK)).last
    stop = (last * Decimal("1.05")).quantize(Decimal("0.01"))
    stop_limit = await broker.place_order(request(type_=OrderType.STOP_LIMIT, stop_price=stop, price=stop + 1,
                                                  time_in_force=TimeInForce.DAY))
    trailing = await broker.place_order(request(side=Side.BUY, type_=OrderType.TRAILING_STOP,
                                                trail_percent=Decimal(5), time_in_force=TimeInForce.GTC))
    assert stop_limit.stop_price == stop and trailing.trail_percent == 5
    # Against the emulator, every open order at once (DELETE /v2/orders); a real account's other orders stay.
    scope = None if target.emulator is not None else STOCK
    assert {o.order_id for o in await broker.cancel_all_orders(scope)} >= {stop_limit.order_id, trailing.order_id}
    with pytest.raises(e.NotSupported):  # Alpaca has no IOC stop orders: refused before sending
        await broker.place_order(request(type_=OrderType.STOP_MARKET, stop_price=stop,
                                         time_in_force=TimeInForce.IOC))


async def test_order_history_includes_finished_orders(clock: VirtualClock, target: Target,
                                                      broker: Broker) -> None:
    await require_open(target, broker)
    filled = await broker.place_order(request(time_in_force=TimeInForce.DAY))
    resting = await broker.place_order(await limit_far(broker))
    await broker.cancel_order(STOCK, order_id=resting.order_id)
    with trio.fail_after(30):
        while True:
            everything = {o.order_id: o.status for o in await broker.get_orders(STOCK, open_only=False)}
            if everything.get(filled.order_id) is OrderStatus.FILLED:
                break
            await trio.sleep(0.5)
    assert everything[resting.order_id] is OrderStatus.CANCELED
    await flatten(broker)


# ============================================================================ positions


async def test_long_position_has_entry_mark_value_and_pnl(clock: VirtualClock, target: Target,
                                                          broker: Broker) -> None:
    await require_open(target, broker)
    await flatten(broker)
    await broker.place_order(request(quantity=Decimal(3)))
    await trio.sleep(2)
    position = await broker.get_position(STOCK)
    assert position.side is PositionSide.LONG and position.quantity == 3 and position.market_type is MarketType.STOCK
    assert position.entry_price is not None and position.mark_price is not None
    assert position.market_value == position.mark_price * 3
    assert position.unrealized_pnl == (position.mark_price - position.entry_price) * 3
    assert STOCK in {p.symbol for p in await broker.get_positions()}
    await flatten(broker)
    assert (await broker.get_position(STOCK)).side is PositionSide.FLAT


async def test_short_position_then_close_position_by_client_id(clock: VirtualClock, target: Target) -> None:
    target.require_emulator("short selling needs an easy-to-borrow asset and a margin account, as on the emulator")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=6) as router:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        await router.place_order(venue=VENUE, symbol=STOCK, side="sell", type="market", quantity=Decimal(4),
                                 time_in_force="day")
        await trio.sleep(2)
        short = await router.get_position(VENUE, STOCK)
        assert short.side is PositionSide.SHORT and short.quantity == 4
        closing = await router.close_position(VENUE, STOCK, quantity=Decimal(1), client_order_id="close-aapl-1")
        # The close is a market order carrying our client id (not DELETE /v2/positions): a resend is looked up.
        assert closing.client_order_id == "close-aapl-1" and closing.side is Side.BUY and closing.quantity == 1
        again = await router.close_position(VENUE, STOCK, quantity=Decimal(1), client_order_id="close-aapl-1")
        assert again.order_id == closing.order_id
        await trio.sleep(2)
        assert (await router.get_position(VENUE, STOCK)).quantity == 3
        await router.close_position(VENUE, STOCK)
        await trio.sleep(2)
        assert (await router.get_position(VENUE, STOCK)).side is PositionSide.FLAT


# ============================================================================ error handling


async def test_invalid_orders_name_the_filter(clock: VirtualClock, target: Target, broker: Broker) -> None:
    await require_open(target, broker)
    last = (await broker.get_ticker(STOCK)).last
    with pytest.raises(e.InvalidOrder) as sub_penny:
        await broker.place_order(request(type_=OrderType.LIMIT, price=last.quantize(Decimal("0.01")) + Decimal("0.001")))
    assert sub_penny.value.filter == "PRICE_FILTER"
    with pytest.raises(e.InvalidOrder) as extended:
        await broker.place_order(request(extended_hours=True, time_in_force=TimeInForce.DAY))
    assert extended.value.filter == "EXTENDED_HOURS"
    with pytest.raises(e.NotSupported):  # stocks have no reduce-only: refused, never silently dropped
        await broker.place_order(request(reduce_only=True))


async def test_insufficient_buying_power_is_typed(clock: VirtualClock, broker: Broker) -> None:
    buying_power = (await broker.get_account_info()).buying_power
    assert buying_power is not None
    last = (await broker.get_ticker(STOCK)).last
    too_many = (buying_power * 2 / last).quantize(Decimal(1))
    with pytest.raises(e.InsufficientFunds) as info:
        await broker.place_order(await limit_far(broker, quantity=too_many))
    assert info.value.code == "40310000" and info.value.venue_message


async def test_unknown_order_is_order_not_found(clock: VirtualClock, broker: Broker) -> None:
    with pytest.raises(e.OrderNotFound):
        await broker.get_order_status(STOCK, client_order_id="never-placed-123")
    with pytest.raises(e.OrderNotFound) as info:
        await broker.cancel_order(STOCK, client_order_id="never-placed-123")
    assert info.value.code == "40410000"


async def test_duplicate_client_order_id_is_typed_and_resolved_by_lookup(clock: VirtualClock, target: Target,
                                                                         broker: Broker) -> None:
    await require_open(target, broker)
    wanted = await limit_far(broker)
    first = await broker.place_order(wanted)
    await broker.cancel_order(STOCK, order_id=first.order_id)
    with pytest.raises(e.DuplicateOrder):  # unique for ever: even the id of a cancelled order
        await broker.place_order(wanted)
    again = await place_order_idempotent(broker, BrokerState(venue=VENUE), wanted)  # look up, never resend
    assert again.order_id == first.order_id and again.status is OrderStatus.CANCELED


async def test_lost_order_answer_is_looked_up_not_sent_twice(clock: VirtualClock, target: Target) -> None:
    venue = target.require_emulator("losing a response after execution")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=5) as router:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        venue.faults.lose_responses(1, path="/v2/orders")
        order = await router.place_order(venue=VENUE, symbol=STOCK, side="buy", type="limit", quantity=Decimal(1),
                                         price=Decimal(200), time_in_force="day", client_order_id="lost-answer-1")
        assert order.client_order_id == "lost-answer-1"
        assert [o.client_order_id for o in venue.dialect.orders.values()].count("lost-answer-1") == 1


async def test_rate_limit_answers_are_backed_off_and_reads_retried(clock: VirtualClock, target: Target,
                                                                   broker: Broker) -> None:
    venue = target.require_emulator("injecting HTTP 429")
    venue.faults.http_error(429, count=1, path="/v2/account", retry_after=2)
    assert (await broker.get_account_info()).venue == VENUE  # the read waited and was retried
    assert not venue.faults.http_errors
    venue.faults.http_error(429, count=5, path="/v2/positions")
    with pytest.raises(e.RateLimited) as limited:
        await broker.get_positions()
    assert limited.value.retryable and limited.value.code == "42910000"


async def test_server_errors_and_timeouts_on_reads_are_recovered(clock: VirtualClock, target: Target,
                                                                 broker: Broker) -> None:
    venue = target.require_emulator("injecting HTTP 502 and slow answers")
    venue.faults.http_error(502, count=1, path="/v2/stocks")
    assert (await broker.get_ticker(STOCK)).last > 0
    venue.faults.slow_responses(target.settings.request_timeout + 5, count=1)
    assert (await broker.get_account_info()).cash is not None


async def test_unknown_options_and_feeds_are_refused(clock: VirtualClock, target: Target) -> None:
    with pytest.raises(e.NotSupported) as unknown:
        target.broker(options={"market_hour_policy": "reject"})
    assert "market_hour_policy" in unknown.value.message
    with pytest.raises(e.NotSupported):
        target.broker(options={"feed": "delayed_sip"})
    with pytest.raises(e.NotSupported):
        target.broker(options={"market_hours_policy": "sometimes"})


# ============================================================================ streams through the router


async def test_public_stream_delivers_tickers_trades_and_candles(clock: VirtualClock, target: Target) -> None:
    target.require_emulator("a bounded wait for live market data")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=9) as router, \
            router.subscribe(venues=[VENUE], kinds=["ticker", "trade", "candle"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        await router.subscribe_market_data(VENUE, [STOCK], [m.StreamChannel.TICKER, m.StreamChannel.TRADES,
                                                            m.StreamChannel.CANDLES])
        kinds: dict[m.EventKind, m.EventMsg] = {}
        with trio.move_on_after(120):
            while len(kinds) < 3:
                event = await events.get()
                kinds.setdefault(m.EVENT_KIND[type(event)], event)
        assert set(kinds) == {m.EventKind.TICKER, m.EventKind.TRADE, m.EventKind.CANDLE}
        candle = kinds[m.EventKind.CANDLE]
        assert candle.closed and candle.interval == "1m"  # type: ignore[union-attr]
        with pytest.raises(e.NotSupported):  # Alpaca streams no stock order book
            await router.subscribe_market_data(VENUE, [STOCK], [m.StreamChannel.BOOK])


async def test_private_stream_reports_orders_and_fills(clock: VirtualClock, target: Target) -> None:
    target.require_emulator("a bounded wait for stream events")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=4) as router, \
            router.subscribe(venues=[VENUE], kinds=["fill", "order"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        order = await router.place_order(venue=VENUE, symbol=STOCK, side="buy", type="market", quantity=Decimal(2))
        got: list[m.EventMsg] = []
        with trio.move_on_after(20):
            while not any(isinstance(ev, Fill) for ev in got):
                got.append(await events.get())
        fills = [ev for ev in got if isinstance(ev, Fill)]
        assert fills and fills[0].order_id == order.order_id and fills[0].trade_id == f"{order.order_id}:2"
        assert any(isinstance(ev, Order) and ev.order_id == order.order_id for ev in got)


# ============================================================================ market hours


async def test_open_market_passes_market_and_ioc_orders_and_reports_regular(clock: VirtualClock,
                                                                            target: Target, broker: Broker) -> None:
    target.require_emulator("a moment inside a regular session")
    clock_now = await broker.get_market_clock()
    assert clock_now.session is MarketSession.REGULAR and clock_now.is_open
    assert clock_now.next_close == utc(2026, 12, 1, 21) == clock_now.next_change
    assert clock_now.next_open == utc(2026, 12, 2, 14, 30)
    order = await broker.place_order(request(type_=OrderType.LIMIT, price=Decimal(250), time_in_force=TimeInForce.IOC))
    assert order.status.is_terminal
    statuses = await statuses_while(broker, 1)
    assert statuses[0].session is MarketSession.REGULAR and statuses[0].next_session_change is not None
    left = statuses[0].next_session_change - statuses[0].timestamp  # the time to the close, on our clock
    assert timedelta(hours=5, minutes=50) < left <= utc(2026, 12, 1, 21) - utc(2026, 12, 1, 15)


@pytest.mark.market_time(utc(2026, 12, 5, 15), tick_interval=SLOW_TICKS)  # Saturday
async def test_weekend_refuses_with_the_next_open_and_queue_passes_what_alpaca_queues(
        clock: VirtualClock, target: Target, broker: Broker) -> None:
    assert (await broker.get_market_clock()).session is MarketSession.CLOSED
    for wanted in (request(), await limit_far(broker)):
        with pytest.raises(e.MarketClosed) as closed:
            await broker.place_order(wanted)
        assert "2026-12-07T14:30:00+00:00" in closed.value.message and closed.value.retryable
        assert not at_venue(target, wanted.client_order_id or "")
    queueing = target.broker(options={"market_hours_policy": "queue"})
    await queueing.connect()
    try:
        queued = await queueing.place_order(request(time_in_force=TimeInForce.DAY))
        assert queued.status is OrderStatus.PENDING_NEW  # accepted, routed at Monday's open
        with pytest.raises(e.MarketClosed):  # IOC cannot be immediate while closed, in either policy
            await queueing.place_order(request(type_=OrderType.LIMIT, price=Decimal(250),
                                               time_in_force=TimeInForce.IOC))
    finally:
        await queueing.disconnect()


@pytest.mark.market_time(utc(2026, 12, 25, 16), tick_interval=SLOW_TICKS)  # Christmas, a Friday
async def test_holiday_is_closed_all_day_and_absent_from_the_calendar(clock: VirtualClock, target: Target,
                                                                      broker: Broker) -> None:
    days = await broker.get_market_calendar(date(2026, 12, 23), date(2026, 12, 29))
    assert [d.day for d in days] == [date(2026, 12, 23), date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29)]
    clock_now = await broker.get_market_clock()
    assert clock_now.session is MarketSession.CLOSED and clock_now.next_open == utc(2026, 12, 28, 14, 30)
    assert clock_now.next_change == utc(2026, 12, 28, 9)  # the pre-market opens first
    with pytest.raises(e.MarketClosed) as closed:
        await broker.place_order(await limit_far(broker, extended_hours=True))
    assert "2026-12-25" in closed.value.message and "2026-12-28T09:00:00+00:00" in closed.value.message


@pytest.mark.market_time(utc(2026, 11, 27, 17, 55), tick_interval=SLOW_TICKS)  # 12:55 ET, closes at 13:00
async def test_early_close_moves_the_close_and_the_closing_auction_cutoff(clock: VirtualClock, target: Target,
                                                                          broker: Broker) -> None:
    clock_now = await broker.get_market_clock()
    assert clock_now.session is MarketSession.REGULAR and clock_now.next_close == utc(2026, 11, 27, 18)
    with pytest.raises(e.MarketClosed) as cls:  # CLS orders stop 10 minutes before the (early) close
        await broker.place_order(request(time_in_force=TimeInForce.CLS))
    assert "12:50" in cls.value.message
    await broker.place_order(request(time_in_force=TimeInForce.DAY))
    await trio.sleep(6 * 60)  # past 13:00 ET: after hours
    assert (await broker.get_market_clock()).session is MarketSession.POST
    with pytest.raises(e.MarketClosed):
        await broker.place_order(request(time_in_force=TimeInForce.DAY))


@pytest.mark.market_time(utc(2026, 12, 1, 13), tick_interval=SLOW_TICKS)  # 08:00 ET: pre-market
async def test_pre_and_post_market_take_extended_hours_day_limits_only(clock: VirtualClock, target: Target,
                                                                       broker: Broker) -> None:
    assert (await broker.get_market_clock()).session is MarketSession.PRE
    with pytest.raises(e.MarketClosed) as market:
        await broker.place_order(request())
    assert "2026-12-01T14:30:00+00:00" in market.value.message
    last = (await broker.get_ticker(STOCK)).last
    marketable = request(type_=OrderType.LIMIT, price=(last * Decimal("1.02")).quantize(Decimal("0.01")),
                         time_in_force=TimeInForce.DAY, extended_hours=True)
    placed = await broker.place_order(marketable)
    assert placed.extended_hours
    await order_until(broker, placed.order_id, lambda o: o.status is OrderStatus.FILLED, seconds=1200,
                      poll=30)  # it fills in the pre-market
    with pytest.raises(e.InvalidOrder) as gtc:
        await broker.place_order(request(type_=OrderType.LIMIT, price=last, time_in_force=TimeInForce.GTC,
                                         extended_hours=True))
    assert gtc.value.filter == "EXTENDED_HOURS"
    await trio.sleep(9 * 3600)  # 17:00 ET: after hours of the same day
    assert (await broker.get_market_clock()).session is MarketSession.POST
    assert (await broker.place_order(await limit_far(broker, extended_hours=True))).extended_hours
    await trio.sleep(4 * 3600)  # 21:00 ET: closed until 04:00
    with pytest.raises(e.MarketClosed) as night:
        await broker.place_order(await limit_far(broker, extended_hours=True))
    assert "2026-12-02T09:00:00+00:00" in night.value.message


@pytest.mark.market_time(utc(2026, 11, 27, 14, 29), tick_interval=SLOW_TICKS)  # 09:29 ET on an early-close day
async def test_session_transitions_are_reported_as_they_happen(clock: VirtualClock, target: Target,
                                                               broker: Broker) -> None:
    statuses = await statuses_while(broker, 8 * 3600)  # until 17:29 ET
    # to the second: the venue's own time runs on trio's virtual clock (a few virtual ms go to the requests)
    sessions = [(s.session, round((s.next_session_change - s.timestamp).total_seconds()))  # type: ignore[operator]
                for s in statuses]
    assert sessions == [(session, round(left.total_seconds())) for session, left in [
        (MarketSession.PRE, timedelta(minutes=1)),  # 09:29 ET: opens at 09:30
        (MarketSession.REGULAR, utc(2026, 11, 27, 18) - utc(2026, 11, 27, 14, 30)),  # closes at 13:00
        (MarketSession.POST, timedelta(hours=4)),  # after hours end at 17:00 on an early-close day
        (MarketSession.CLOSED, utc(2026, 11, 30, 9) - utc(2026, 11, 27, 22)),  # Monday's pre-market
    ]]
    assert all(s.state is m.ConnectionState.CONNECTED and not s.market_data_degraded for s in statuses)
    assert status_flags(statuses[1], statuses[1].timestamp) == ["session regular, next change in 3h30m"]
