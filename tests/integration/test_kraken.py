"""Kraken spot, margin and Earn, end to end: connection, account, orders, positions (PnL, leverage, margin),
error handling, Earn and streams, against the emulator always.

Kraken has no spot testnet: when KRAKEN_API_KEY / KRAKEN_API_SECRET are set, the same bodies run against
the real venue **read-only** (option ``validate_only``): reads are real, every order is sent with
``validate=true`` (Kraken checks it and places nothing), the dead man's switch is never armed and no Earn
funds move. A body that needs a real order stops after the validation with a skip saying so; fault
injection skips there too (it exists only on the emulator).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_UP, Decimal
from pathlib import Path

import httpx
import pytest
import trio

from actors.handle import open_router_with
from actors.supervisor import BackoffPolicy
from brokers.base import Broker, BrokerState, broker_actor, place_order_idempotent
from brokers.kraken.auth import private_request
from brokers.kraken.nonce import FileNonce, microseconds_now
from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import (
    EarnAllocation,
    EarnStatus,
    Fill,
    Instrument,
    MarginAlert,
    MarginAlertLevel,
    MarginMode,
    MarketType,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    TimeInForce,
    new_client_order_id,
    utc_now,
)
from tests.integration.conftest import Target, VirtualClock
from tests.support.nonces import nonce_dir, virtual_clock

VENUE = "kraken"
BTC = "BTC/USD"
SOL = "SOL/USD"
NONCES = nonce_dir()
OPTIONS = {"nonce_dir": NONCES, "margin_poll_s": "5"}
READ_ONLY = "the real Kraken runs read-only: the order was checked with validate=true and not placed"
CHANNELS = [m.StreamChannel.TICKER, m.StreamChannel.TRADES, m.StreamChannel.CANDLES, m.StreamChannel.BOOK]


@pytest.fixture
def clock(where: str) -> trio.abc.Clock | None:
    """The virtual clock, waiting a millisecond of real idleness before it jumps: the nonce file is read and
    written in a worker thread (tests/support/nonces.py says why that matters)."""
    return virtual_clock() if where == "emulator" else None


def lots(instrument: Instrument, price: Decimal, factor: Decimal = Decimal("1.5")) -> Decimal:
    """The smallest quantity comfortably above the pair's ordermin and costmin, on its lot size."""
    wanted = max(instrument.min_qty * factor, instrument.min_notional * factor / price, instrument.lot_size)
    return (wanted / instrument.lot_size).to_integral_value(rounding=ROUND_UP) * instrument.lot_size


def tick_round(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value() * tick


async def limit_far(broker: Broker, symbol: str = BTC, side: Side = Side.BUY, **changes: object) -> OrderRequest:
    """A limit order that rests: 5% away from the market."""
    instrument = broker.instrument(symbol)
    last = (await broker.get_ticker(symbol)).last
    price = tick_round(last * (Decimal("0.95") if side is Side.BUY else Decimal("1.05")), instrument.tick_size)
    fields: dict[str, object] = {"venue": VENUE, "symbol": symbol, "side": side, "type": OrderType.LIMIT,
                                 "quantity": lots(instrument, price), "price": price,
                                 "client_order_id": new_client_order_id(), **changes}
    return OrderRequest(**fields)  # type: ignore[arg-type]


async def market(broker: Broker, symbol: str = BTC, side: Side = Side.BUY, **changes: object) -> OrderRequest:
    instrument = broker.instrument(symbol)
    last = (await broker.get_ticker(symbol)).last
    fields: dict[str, object] = {"venue": VENUE, "symbol": symbol, "side": side, "type": OrderType.MARKET,
                                 "quantity": lots(instrument, last), "client_order_id": new_client_order_id(),
                                 **changes}
    return OrderRequest(**fields)  # type: ignore[arg-type]


async def place(target: Target, broker: Broker, request: OrderRequest) -> Order:
    """Place ``request``; on the real venue the order is only validated: check that, then stop the test."""
    order = await broker.place_order(request)
    if target.emulator is None:
        assert order.status is OrderStatus.REJECTED and order.order_id == ""
        assert order.reject_reason is not None and "validate only" in order.reject_reason
        pytest.skip(READ_ONLY)
    return order


# ============================================================================ connection


async def test_connects_and_names_every_market_once(clock: VirtualClock, broker: Broker) -> None:
    assert broker.is_connected
    btc = broker.instrument(BTC)
    assert btc.venue_symbol == "XXBTZUSD" and btc.base == "BTC" and btc.quote == "USD"  # XBT reads as BTC
    assert btc.market_type is MarketType.SPOT and btc.min_qty > 0 and btc.lot_size > 0 and btc.tick_size > 0
    assert btc.leverage_buy and max(btc.leverage_buy) == btc.max_leverage > 1  # margin from the pair's lists
    assert len({i.symbol for i in broker.instruments()}) == len(broker.instruments())
    with pytest.raises(e.InvalidOrder) as refused:
        broker.instrument("NOPE/USD")
    assert refused.value.filter == "SYMBOL"


async def test_invalid_credentials_fail_with_authentication_error(clock: VirtualClock, target: Target) -> None:
    assert target.settings.credentials is not None
    wrong_secret = "bm90LXRoZS1zZWNyZXQtbm90LXRoZS1zZWNyZXQ="  # valid base64, wrong key
    wrong = Credentials.from_strings(target.settings.credentials.api_key, wrong_secret)
    client = target.broker(credentials=wrong)
    with pytest.raises(e.AuthenticationError) as info:
        await client.connect()
    assert info.value.venue == VENUE and info.value.code == "EAPI:Invalid signature"
    assert wrong_secret not in str(info.value) and not info.value.retryable
    await client.disconnect()


async def test_reconnects_after_streams_drop_and_delivers_missed_fills_once(clock: VirtualClock,
                                                                         target: Target) -> None:
    venue = target.require_emulator("dropping the venue's streams")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, policy=BackoffPolicy(base=0.5, cap=5),
                                seed=3) as router, router.subscribe(kinds=["fill", "status"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        instrument = {i.symbol: i for i in await router.instruments(VENUE)}[BTC]
        last = await router.get_current_price(VENUE, BTC)
        price = tick_round(last * Decimal("0.999"), instrument.tick_size)
        resting = await router.place_order(venue=VENUE, symbol=BTC, side="buy", quantity=lots(instrument, price),
                                           price=price)
        venue.faults.drop_streams("all")
        venue.faults.refuse_connections(True)
        venue.engine.jump("XXBTZUSD", price * Decimal("0.99"))  # the resting order fills while we are away
        await trio.sleep(2)
        venue.faults.refuse_connections(False)
        with trio.fail_after(120):
            await router.wait_connected(VENUE)
        seen: list[m.EventMsg] = []
        with trio.move_on_after(20):
            while True:
                seen.append(await events.get())
        fills = [ev for ev in seen if isinstance(ev, Fill)]
        assert {f.order_id for f in fills} == {resting.order_id}
        assert len({f.trade_id for f in fills}) == len(fills)
        assert sum(f.quantity for f in fills) == resting.quantity
        assert all(f.client_order_id == resting.client_order_id for f in fills)


# ============================================================================ account


async def test_balances_report_what_open_orders_hold(clock: VirtualClock, target: Target, broker: Broker) -> None:
    balances = await broker.get_balances()
    currencies = [b.currency for b in balances]
    assert "USD" in currencies and len(currencies) == len(set(currencies))
    assert not any("." in currency for currency in currencies)  # Earn / opt-in balances (DOT.S) are not spot
    before = await broker.get_balance("USD")
    assert before.total == before.free + before.locked and before.locked >= 0
    order = await place(target, broker, await limit_far(broker))
    held = await broker.get_balance("USD")
    value = order.quantity * (order.price or 0)
    assert abs(held.locked - before.locked - value) <= value / 100  # hold_trade: the order's value (and fee)
    assert held.total == before.total
    await broker.cancel_order(BTC, order_id=order.order_id)
    assert (await broker.get_balance("USD")).locked == before.locked


async def test_account_info_is_the_trade_balance(clock: VirtualClock, broker: Broker) -> None:
    info = await broker.get_account_info()
    assert info.venue == VENUE and info.currency == "USD" and info.updated_at.tzinfo is not None
    assert info.equity is not None and info.cash is not None and info.free_margin is not None
    assert info.margin_used is not None and info.free_margin == info.equity - info.margin_used
    assert (info.margin_level is None) == (info.margin_used == 0)
    assert {b.currency for b in info.balances} == {b.currency for b in await broker.get_balances()}


async def test_ticker_candles_and_recent_trades(clock: VirtualClock, broker: Broker) -> None:
    ticker = await broker.get_ticker(BTC)
    assert ticker.symbol == BTC and ticker.last > 0
    assert ticker.bid is not None and ticker.ask is not None and ticker.bid <= ticker.ask
    candles = await broker.get_candles(BTC, "1m", 30)
    assert 0 < len(candles) <= 30
    assert [c.open_time for c in candles] == sorted(c.open_time for c in candles)
    assert all(c.low <= min(c.open, c.close) and c.high >= max(c.open, c.close) for c in candles)
    assert all(c.closed for c in candles[:-1])
    trades = await broker.get_trades(BTC, limit=20)
    assert 0 < len(trades) <= 20 and all(t.symbol == BTC and t.price > 0 for t in trades)


async def test_historical_candles_within_kraken_720_and_older_refused(clock: VirtualClock, broker: Broker) -> None:
    start = utc_now() - timedelta(minutes=30)
    candles = await broker.get_historical_candles(BTC, "1m", start, None, 10)
    assert 0 < len(candles) <= 10 and all(c.open_time >= start for c in candles)
    with pytest.raises(e.NotSupported) as refused:  # never answered short
        await broker.get_historical_candles(BTC, "1m", utc_now() - timedelta(days=2), None, 10)
    assert "720" in refused.value.message


# ============================================================================ orders


async def test_limit_order_rests_then_cancels(clock: VirtualClock, target: Target, broker: Broker) -> None:
    request = await limit_far(broker)
    order = await place(target, broker, request)
    assert order.status is OrderStatus.NEW and order.client_order_id == request.client_order_id
    assert order.order_id in {o.order_id for o in await broker.get_orders(BTC, open_only=True)}
    cancelled = await broker.cancel_order(BTC, order_id=order.order_id)
    assert cancelled.status is OrderStatus.CANCELED and cancelled.order_id == order.order_id
    assert order.order_id not in {o.order_id for o in await broker.get_orders(BTC, open_only=True)}


async def test_market_order_fills_and_lists_its_fills(clock: VirtualClock, target: Target, broker: Broker) -> None:
    request = await market(broker)
    order = await place(target, broker, request)
    assert order.status is OrderStatus.FILLED and order.filled_quantity == request.quantity
    assert order.average_price is not None and order.average_price > 0
    fills = [f for f in await broker.get_fills(BTC) if f.order_id == order.order_id]
    assert sum(f.quantity for f in fills) == request.quantity
    assert all(f.fee >= 0 and f.fee_currency == "USD" and f.client_order_id == request.client_order_id
               and f.timestamp.tzinfo is not None for f in fills)


async def test_order_status_by_txid_and_by_cl_ord_id(clock: VirtualClock, target: Target, broker: Broker) -> None:
    request = await limit_far(broker, time_in_force=TimeInForce.POST_ONLY)
    order = await place(target, broker, request)
    by_id = await broker.get_order_status(BTC, order_id=order.order_id)
    by_client = await broker.get_order_status(BTC, client_order_id=request.client_order_id)
    assert by_id.order_id == by_client.order_id == order.order_id and by_id.status is OrderStatus.NEW
    assert by_id.time_in_force is TimeInForce.POST_ONLY
    await broker.cancel_order(BTC, client_order_id=request.client_order_id)
    done = await broker.get_order_status(BTC, client_order_id=request.client_order_id)  # now from ClosedOrders
    assert done.status is OrderStatus.CANCELED and done.order_id == order.order_id


async def test_amend_changes_price_and_quantity_in_place(clock: VirtualClock, target: Target, broker: Broker) -> None:
    request = await limit_far(broker)
    order = await place(target, broker, request)
    instrument = broker.instrument(BTC)
    assert request.price is not None
    lower = request.price - instrument.tick_size * 10
    amended = await broker.amend_order(BTC, order_id=order.order_id, price=lower, quantity=request.quantity * 2)
    assert amended.order_id == order.order_id and amended.client_order_id == request.client_order_id
    assert amended.price == lower and amended.quantity == request.quantity * 2
    with pytest.raises(e.NotSupported):
        await broker.amend_order(BTC, order_id=order.order_id, price=lower, new_client_order_id="other")
    await broker.cancel_order(BTC, order_id=order.order_id)


async def test_order_history_includes_finished_orders(clock: VirtualClock, target: Target, broker: Broker) -> None:
    filled = await place(target, broker, await market(broker))
    resting = await place(target, broker, await limit_far(broker))
    await broker.cancel_order(BTC, order_id=resting.order_id)
    everything = {o.order_id: o.status for o in await broker.get_orders(BTC, open_only=False)}
    assert everything[filled.order_id] is OrderStatus.FILLED
    assert everything[resting.order_id] is OrderStatus.CANCELED


async def test_validate_only_checks_orders_and_places_none(clock: VirtualClock, target: Target) -> None:
    client = target.broker(options={**target.settings.options, "validate_only": "true"})
    await client.connect()
    try:
        before = {o.order_id for o in await client.get_orders(BTC, open_only=False)}
        checked = await client.place_order(await market(client))
        assert checked.status is OrderStatus.REJECTED and checked.order_id == ""
        assert checked.reject_reason is not None and "XBTUSD" in checked.reject_reason
        with pytest.raises(e.PermissionDenied):
            await client.cancel_all_after(60)
        assert {o.order_id for o in await client.get_orders(BTC, open_only=False)} == before
    finally:
        await client.disconnect()


# ============================================================================ positions, PnL, leverage, margin


async def test_margin_position_has_entry_mark_pnl_margin_and_fees(clock: VirtualClock, target: Target,
                                                                  broker: Broker) -> None:
    request = await market(broker, leverage=Decimal(2))
    await place(target, broker, request)
    position = await broker.get_position(BTC)  # the margin position first
    assert position.market_type is MarketType.MARGIN and position.side is PositionSide.LONG
    assert position.quantity == request.quantity and position.margin_mode is MarginMode.CROSS
    assert position.leverage == 2 and position.margin is not None and position.fees is not None
    assert position.entry_price is not None and position.mark_price is not None and position.cost_basis is not None
    assert position.entry_price * position.quantity == position.cost_basis and position.market_value is not None
    # Kraken's net is the position's value now less its cost (its value is printed to the pair's precision)
    assert abs(position.unrealized_pnl - (position.market_value - position.cost_basis)) <= \
        broker.instrument(BTC).tick_size
    margin_used = (await broker.get_account_info()).margin_used  # TradeBalance prints 4 decimals
    assert margin_used is not None and abs(margin_used - position.margin) < Decimal("0.0001")
    assert (BTC, MarketType.MARGIN) in {(p.symbol, p.market_type) for p in await broker.get_positions()}


async def test_close_position_is_the_opposite_order_at_its_leverage(clock: VirtualClock, target: Target) -> None:
    venue = target.require_emulator("opening a real margin position")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=6) as router:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        instrument = {i.symbol: i for i in await router.instruments(VENUE)}[BTC]
        last = await router.get_current_price(VENUE, BTC)
        opened = await router.place_order(venue=VENUE, symbol=BTC, side="sell", type="market",
                                          quantity=lots(instrument, last), leverage=Decimal(3))
        short = await router.get_position(VENUE, BTC)
        assert short.side is PositionSide.SHORT and short.quantity == opened.quantity and short.leverage == 3
        closing = await router.close_position(VENUE, BTC)
        assert closing.side is Side.BUY and closing.leverage == 3
        assert closing.status is OrderStatus.FILLED and closing.filled_quantity == opened.quantity
        sent = next(o for o in venue.engine.all_orders() if o.client_order_id == closing.client_order_id)
        assert sent.reduce_only
        after = await router.get_position(VENUE, BTC)
        assert after.market_type is MarketType.SPOT  # no margin position left: the spot holding is what remains


async def test_leverage_comes_from_the_pair_lists_and_is_set_per_order(clock: VirtualClock, broker: Broker) -> None:
    info = await broker.get_leverage_info(BTC)
    instrument = broker.instrument(BTC)
    assert info.levels_buy == instrument.leverage_buy and info.levels_sell == instrument.leverage_sell
    assert info.max_leverage == max(info.levels_buy + info.levels_sell) and info.margin_mode is MarginMode.CROSS
    with pytest.raises(e.NotSupported) as refused:
        await broker.set_leverage(BTC, Decimal(2))
    assert "per order" in refused.value.message
    too_much = max(instrument.leverage_buy) + 1
    with pytest.raises(e.InvalidOrder) as invalid:
        await broker.place_order(await market(broker, leverage=too_much))
    assert invalid.value.filter == "LEVERAGE"


async def test_spot_holdings_are_long_positions_valued_in_usd(clock: VirtualClock, target: Target,
                                                             broker: Broker) -> None:
    await place(target, broker, await market(broker, SOL))
    position = await broker.get_position(SOL)
    assert position.side is PositionSide.LONG and position.market_type is MarketType.SPOT
    assert position.quantity == (await broker.get_balance("SOL")).total
    assert position.entry_price is not None and position.mark_price is not None
    assert position.unrealized_pnl == (position.mark_price - position.entry_price) * position.quantity


async def test_margin_call_and_liquidation_are_typed_events(clock: VirtualClock, target: Target) -> None:
    venue = target.require_emulator("moving the price to a margin call")
    key, secret = venue.add_account("thin", {"ZUSD": Decimal("200")})
    thin = Credentials.from_strings(key, secret)
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(lambda: target.broker(credentials=thin), state)},
                                seed=8) as router, router.subscribe(kinds=["margin", "position"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        last = await router.get_current_price(VENUE, BTC)
        # 0.01 BTC at 5x: about 130 USD of margin on 200 USD of equity (a margin level near 150%)
        await router.place_order(venue=VENUE, symbol=BTC, side="buy", type="market", quantity=Decimal("0.01"),
                                 leverage=Decimal(5))
        alerts: list[MarginAlert] = []
        positions: list[Position] = []

        async def until(done: Callable[[], bool]) -> None:
            with trio.fail_after(300):
                while not done():
                    event = await events.get()
                    (alerts if isinstance(event, MarginAlert) else positions).append(event)  # type: ignore[arg-type]

        await until(lambda: bool(positions))
        assert positions[-1].side is PositionSide.LONG and positions[-1].market_type is MarketType.MARGIN
        venue.engine.jump("XXBTZUSD", last * Decimal("0.84"))  # margin level below 80%, above 40%
        await until(lambda: bool(alerts))
        assert alerts[0].level is MarginAlertLevel.MARGIN_CALL
        assert alerts[0].margin_level is not None and 40 < alerts[0].margin_level <= 80
        venue.engine.jump("XXBTZUSD", last * Decimal("0.70"))  # below 40%: Kraken liquidates
        await until(lambda: MarginAlertLevel.LIQUIDATION in {a.level for a in alerts}
                    and positions[-1].side is PositionSide.FLAT)
        liquidation = next(a for a in alerts if a.level is MarginAlertLevel.LIQUIDATION)
        assert liquidation.venue == VENUE and positions[-1].quantity == 0


# ============================================================================ error handling


async def test_invalid_quantity_names_the_filter(clock: VirtualClock, broker: Broker) -> None:
    instrument = broker.instrument(BTC)
    request = await limit_far(broker)
    with pytest.raises(e.InvalidOrder) as off_lot:  # refused before sending: never rounded
        await broker.place_order(OrderRequest(venue=VENUE, symbol=BTC, side=Side.BUY, type=OrderType.LIMIT,
                                              quantity=request.quantity + instrument.lot_size / 3,
                                              price=request.price, client_order_id=new_client_order_id()))
    assert off_lot.value.filter == "LOT_SIZE"
    with pytest.raises(e.InvalidOrder) as below:
        await broker.place_order(OrderRequest(venue=VENUE, symbol=BTC, side=Side.BUY, type=OrderType.LIMIT,
                                              quantity=instrument.min_qty / 2, price=request.price,
                                              client_order_id=new_client_order_id()))
    assert below.value.filter == "LOT_SIZE"
    with pytest.raises(e.NotSupported):  # Kraken's reduce-only is for margin orders
        await broker.place_order(await market(broker, side=Side.SELL, reduce_only=True))


async def test_insufficient_funds_is_typed(clock: VirtualClock, broker: Broker) -> None:
    instrument = broker.instrument(BTC)
    usd = (await broker.get_balance("USD")).free
    last = (await broker.get_ticker(BTC)).last
    price = tick_round(last * Decimal("0.97"), instrument.tick_size)
    quantity = ((usd * 2 / price) / instrument.lot_size).to_integral_value() * instrument.lot_size
    with pytest.raises(e.InsufficientFunds) as info:
        await broker.place_order(OrderRequest(venue=VENUE, symbol=BTC, side=Side.BUY, type=OrderType.LIMIT,
                                              quantity=quantity, price=price, client_order_id=new_client_order_id()))
    assert info.value.code == "EOrder:Insufficient funds" and info.value.venue_message


async def test_unknown_orders_are_order_not_found(clock: VirtualClock, broker: Broker) -> None:
    with pytest.raises(e.OrderNotFound):
        await broker.get_order_status(BTC, client_order_id="neverplaced123")
    with pytest.raises(e.OrderNotFound):
        await broker.get_order_status(BTC, order_id="OAAAAA-BBBBB-CCCCCC")
    with pytest.raises(e.OrderNotFound) as info:
        await broker.cancel_order(BTC, client_order_id="neverplaced123")
    assert info.value.code == "EOrder:Unknown order"


async def test_duplicate_cl_ord_id_is_typed_and_resolved_by_lookup(clock: VirtualClock, target: Target,
                                                                    broker: Broker) -> None:
    request = await limit_far(broker)
    first = await place(target, broker, request)
    with pytest.raises(e.DuplicateOrder):  # in use by an open order
        await broker.place_order(request)
    again = await place_order_idempotent(broker, BrokerState(venue=VENUE), request)  # look up, never resend
    assert again.order_id == first.order_id
    await broker.cancel_order(BTC, order_id=first.order_id)


async def test_lost_order_answer_is_looked_up_not_sent_twice(clock: VirtualClock, target: Target) -> None:
    venue = target.require_emulator("losing a response after execution")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=5) as router:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        instrument = {i.symbol: i for i in await router.instruments(VENUE)}[BTC]
        last = await router.get_current_price(VENUE, BTC)
        price = tick_round(last * Decimal("0.95"), instrument.tick_size)
        venue.faults.lose_responses(1, path="/0/private/AddOrder")
        order = await router.place_order(venue=VENUE, symbol=BTC, side="buy", quantity=lots(instrument, price),
                                         price=price, client_order_id="lostanswer1")
        assert order.client_order_id == "lostanswer1" and order.status is OrderStatus.NEW
        same = [o for o in await router.get_orders(VENUE, BTC, open_only=True) if o.client_order_id == "lostanswer1"]
        assert len(same) == 1
        assert [o.client_order_id for o in venue.engine.all_orders()].count("lostanswer1") == 1


async def test_timeouts_and_server_errors_on_reads_are_retried(clock: VirtualClock, target: Target,
                                                              broker: Broker) -> None:
    venue = target.require_emulator("slowing and failing responses")
    venue.faults.slow_responses(target.settings.request_timeout + 5, count=1)
    assert (await broker.get_balances())  # a private read (POST): retried, the nonce fresh each time
    venue.faults.http_error(502, count=1, path="/0/public/Ticker")
    assert (await broker.get_ticker(BTC)).last > 0
    venue.faults.http_error(503, count=1, path="/0/private/AddOrder")
    with pytest.raises(e.VenueUnavailable):  # a write is never retried here: the outcome is unknown
        await broker.place_order(await limit_far(broker))


async def test_the_call_counter_waits_instead_of_being_refused(clock: VirtualClock, target: Target,
                                                              broker: Broker) -> None:
    venue = target.require_emulator("setting the key's tier")
    assert target.settings.credentials is not None
    venue.dialect.set_tier(target.settings.credentials.api_key, "starter")  # 15 calls, -0.33/s
    limiter = broker.calls  # type: ignore[attr-defined]
    results: list[int] = []

    async def read() -> None:
        results.append(len(await broker.get_balances()))

    async with trio.open_nursery() as nursery:
        for _ in range(30):
            nursery.start_soon(read)
    assert len(results) == 30 and limiter.refusals == 0  # never refused with EAPI:Rate limit exceeded: the client waited
    venue.faults.http_error(429, count=1, path="/0/private/BalanceEx", retry_after=1)
    assert await broker.get_balances()  # a 429 on a read backs off and retries
    assert limiter.refusals == 1


async def test_a_nonce_taken_elsewhere_is_refused_typed_and_the_floor_recovers(clock: VirtualClock,
                                                                               target: Target, broker: Broker) -> None:
    target.require_emulator("another client on the same key, far ahead")
    assert target.settings.credentials is not None
    ahead = microseconds_now() * 100  # a client counting in finer units (python-kraken-sdk: time x 1e8)
    body, headers = private_request(target.settings.credentials, "/0/private/Balance", ahead)
    async with httpx.AsyncClient() as other:
        answer = await other.post(target.settings.rest_url + "/0/private/Balance", content=body, headers=headers)
    assert answer.json()["error"] == []
    with pytest.raises(e.AuthenticationError) as refused:  # sent twice (once with a fresh nonce), then typed
        await broker.get_balances()
    assert refused.value.code == "EAPI:Invalid nonce" and refused.value.retryable
    nonces = FileNonce.for_key(target.settings.credentials.api_key, Path(NONCES))
    nonces.raise_floor(ahead)
    assert await broker.get_balances()


# ============================================================================ Earn


async def test_earn_strategies_say_lock_apr_and_minimum(clock: VirtualClock, broker: Broker) -> None:
    strategies = await broker.get_earn_strategies()
    assert strategies and len({s.strategy_id for s in strategies}) == len(strategies)
    for strategy in strategies:
        assert strategy.venue == VENUE and strategy.asset and "." not in strategy.asset
        assert strategy.min_amount >= 0
        if strategy.apr_min is not None and strategy.apr_max is not None:
            assert 0 <= strategy.apr_min <= strategy.apr_max
    assets = {s.asset for s in strategies}
    some = sorted(assets)[0]
    assert {s.asset for s in await broker.get_earn_strategies(some)} == {some}


async def test_earn_allocation_is_followed_until_done_and_emitted(clock: VirtualClock, target: Target) -> None:
    target.require_emulator("moving Earn funds")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=7) as router, \
            router.subscribe(kinds=["earn"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        strategy = next(s for s in await router.get_earn_strategies(VENUE, "SOL") if s.can_allocate)
        assert strategy.min_amount_currency == "USD"  # Kraken's minimum is in dollars
        sol_price = await router.get_current_price(VENUE, SOL)
        with pytest.raises(e.InvalidOrder) as below:
            await router.earn_allocate(VENUE, strategy.strategy_id, (strategy.min_amount / sol_price / 2).quantize(
                Decimal("0.00000001")))
        assert below.value.filter == "MIN_AMOUNT"
        assert await router.earn_allocate(VENUE, strategy.strategy_id, Decimal("5")) is True  # pending
        seen: list[EarnAllocation] = []
        with trio.fail_after(60):
            while not seen or seen[-1].status is not EarnStatus.ALLOCATED:
                event = await events.get()
                assert isinstance(event, EarnAllocation)
                seen.append(event)
        assert seen[-1].amount == 5 and seen[-1].asset == "SOL" and seen[-1].pending == 0
        assert not await router.earn_status(VENUE, strategy.strategy_id)
        held = {a.strategy_id: a for a in await router.get_earn_allocations(VENUE)}
        assert held[strategy.strategy_id].amount == 5
        assert await router.earn_deallocate(VENUE, strategy.strategy_id, Decimal("2"))
        with trio.fail_after(60):
            while seen[-1].amount != 3:
                event = await events.get()
                assert isinstance(event, EarnAllocation)
                seen.append(event)


# ============================================================================ streams and the dead man's switch


async def test_public_streams_deliver_every_channel_with_a_checksummed_book(clock: VirtualClock,
                                                                          target: Target) -> None:
    target.require_emulator("a bounded wait for live market data")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=9) as router, \
            router.subscribe(venues=[VENUE], kinds=["ticker", "trade", "candle", "book"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        await router.subscribe_market_data(VENUE, [BTC], CHANNELS)
        kinds: dict[m.EventKind, m.EventMsg] = {}
        with trio.move_on_after(30):
            while len(kinds) < 4:
                event = await events.get()
                if getattr(event, "symbol", None) == BTC:
                    kinds.setdefault(m.EVENT_KIND[type(event)], event)
        assert {m.EventKind.TICKER, m.EventKind.TRADE, m.EventKind.CANDLE, m.EventKind.BOOK} <= set(kinds)
        book = kinds[m.EventKind.BOOK]
        assert isinstance(book, OrderBook) and book.bids[0].price < book.asks[0].price and len(book.bids) == 10


async def test_a_reordered_book_is_caught_by_its_checksum_and_rebuilt(clock: VirtualClock, target: Target) -> None:
    venue = target.require_emulator("reordering market messages")
    state = BrokerState(venue=VENUE)
    broker = target.broker()
    async with open_router_with({VENUE: broker_actor(lambda: broker, state)}, seed=10) as router, \
            router.subscribe(venues=[VENUE], kinds=["book", "status"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        await router.subscribe_market_data(VENUE, [BTC], [m.StreamChannel.BOOK])
        await trio.sleep(3)
        public = broker._public  # type: ignore[attr-defined]
        assert public is not None
        venue.faults.reorder_messages(3, "public")
        await trio.sleep(10)
        assert public.resyncs >= 1  # a mismatch was caught and the symbol re-subscribed on the same socket
        books: list[OrderBook] = []
        with trio.move_on_after(10):
            while len(books) < 5:
                event = await events.get()
                if isinstance(event, OrderBook):
                    books.append(event)
        assert len(books) == 5 and all(b.bids[0].price < b.asks[0].price for b in books)
        assert state.reconciliations == 1  # the actor was never restarted for it


async def test_private_stream_reports_orders_fills_and_balances(clock: VirtualClock, target: Target) -> None:
    target.require_emulator("a bounded wait for stream events")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=4) as router, \
            router.subscribe(venues=[VENUE], kinds=["fill", "order", "balance"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        instrument = {i.symbol: i for i in await router.instruments(VENUE)}[BTC]
        last = await router.get_current_price(VENUE, BTC)
        order = await router.place_order(venue=VENUE, symbol=BTC, side="buy", type="market",
                                         quantity=lots(instrument, last))
        got: dict[str, m.EventMsg] = {}
        with trio.move_on_after(20):
            while len(got) < 3:
                event = await events.get()
                got.setdefault(type(event).__name__, event)
        assert {"Fill", "Order", "Balance"} <= set(got)
        fill = got["Fill"]
        assert isinstance(fill, Fill) and fill.order_id == order.order_id
        assert fill.client_order_id == order.client_order_id and fill.order_filled_quantity is not None


async def test_the_dead_mans_switch_cancels_when_no_longer_rearmed(clock: VirtualClock, target: Target) -> None:
    venue = target.require_emulator("letting the dead man's switch fire")
    state = BrokerState(venue=VENUE)
    armed = {**target.settings.options, "dead_mans_switch": "30"}
    async with open_router_with({VENUE: broker_actor(lambda: target.broker(options=armed), state)},
                                seed=2) as router:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        instrument = {i.symbol: i for i in await router.instruments(VENUE)}[BTC]
        last = await router.get_current_price(VENUE, BTC)
        price = tick_round(last * Decimal("0.9"), instrument.tick_size)
        resting = await router.place_order(venue=VENUE, symbol=BTC, side="buy", quantity=lots(instrument, price),
                                           price=price)
        trigger = await router.cancel_all_after(VENUE, 30)
        assert trigger is not None and trigger > utc_now()
        await trio.sleep(90)  # re-armed every 10 s: nothing fires while the actor lives
        assert [o.order_id for o in venue.engine.open_orders("demo")]
    await trio.sleep(40)  # the actor is gone: nobody re-arms it, Kraken cancels everything
    assert not venue.engine.open_orders("demo")
    assert resting.order_id
