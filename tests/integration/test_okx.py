"""OKX V5, end to end: connection, account, orders, positions (PnL, leverage, margin modes), error handling, OKX's
market data (history paged back, trades, funding, mark price, open interest, the checksummed book) and the streams,
in spot and swaps, against the emulator always and against OKX demo trading when OKX_API_KEY / OKX_API_SECRET /
OKX_API_PASSPHRASE are set (the same bodies; fault-injection tests skip there).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import trio

from actors.handle import open_router_with
from brokers.base import Broker, BrokerState, Subscription, broker_actor, place_order_idempotent
from brokers.okx.client import OkxBroker
from brokers.okx.constants import WsService
from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials
from protocol.model import (
    Candle,
    FundingRate,
    MarginMode,
    MarketType,
    MarkPrice,
    OpenInterest,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    new_client_order_id,
    utc_now,
)
from tests.integration import scenarios
from tests.integration.conftest import Target, VirtualClock
from tests.integration.scenarios import lots, tick_round

VENUE = "okx"
SPOT = "BTC/USDT"
SWAP = "BTC/USDT:USDT"
INVERSE = "BTC/USD:BTC"
BOTH = pytest.mark.parametrize("symbol", [SPOT, SWAP], ids=["spot", "swap"])


async def limit_far(broker: Broker, symbol: str, side: Side = Side.BUY) -> OrderRequest:
    """A limit order that rests: 5% away from the market (inside OKX's price limits)."""
    instrument = broker.instrument(symbol)
    last = (await broker.get_ticker(symbol)).last
    price = tick_round(last * (Decimal("0.95") if side is Side.BUY else Decimal("1.05")), instrument.tick_size)
    return OrderRequest(venue=VENUE, symbol=symbol, side=side, type=OrderType.LIMIT,
                        quantity=lots(instrument, price), price=price, client_order_id=new_client_order_id())


async def market(broker: Broker, symbol: str, side: Side, *, reduce_only: bool = False,
                 quantity: Decimal | None = None, margin_mode: MarginMode | None = None) -> OrderRequest:
    instrument = broker.instrument(symbol)
    last = (await broker.get_ticker(symbol)).last
    return OrderRequest(venue=VENUE, symbol=symbol, side=side, type=OrderType.MARKET,
                        quantity=quantity or lots(instrument, last), reduce_only=reduce_only, margin_mode=margin_mode,
                        client_order_id=new_client_order_id())


async def flatten(broker: Broker, symbol: str) -> None:
    await broker.cancel_all_orders(symbol)
    position = await broker.get_position(symbol)
    if position.quantity > 0:
        side = Side.SELL if position.side is PositionSide.LONG else Side.BUY
        await broker.place_order(await market(broker, symbol, side, reduce_only=True, quantity=position.quantity,
                                              margin_mode=position.margin_mode))


# ============================================================================ connection


async def test_connects_and_loads_spot_and_swaps_with_contract_sizes(clock: VirtualClock, broker: Broker) -> None:
    assert broker.is_connected
    spot, swap, inverse = broker.instrument(SPOT), broker.instrument(SWAP), broker.instrument(INVERSE)
    assert (spot.venue_symbol, swap.venue_symbol, inverse.venue_symbol) == ("BTC-USDT", "BTC-USDT-SWAP",
                                                                            "BTC-USD-SWAP")
    assert spot.market_type is MarketType.SPOT and swap.market_type is MarketType.LINEAR
    assert inverse.market_type is MarketType.INVERSE and inverse.settle == "BTC"
    # Sizes in our unit: a lot of swap contracts in BTC, of inverse contracts in USD (100 USD a contract).
    assert swap.lot_size < 1 and inverse.lot_size == 100 and swap.contract_size == 1 and swap.max_leverage > 1
    with pytest.raises(e.InvalidOrder):
        broker.instrument("NOPE/USDT")


async def test_wrong_passphrase_is_a_permanent_authentication_error(clock: VirtualClock, target: Target) -> None:
    assert target.settings.credentials is not None
    creds = target.settings.credentials
    wrong = Credentials.from_strings(creds.api_key, creds.api_secret.reveal(), "not-the-passphrase")
    client = target.broker(credentials=wrong)
    with pytest.raises(e.AuthenticationError) as info:
        await client.connect()
    assert info.value.venue == VENUE and info.value.code == "50105" and not info.value.retryable
    assert "not-the-passphrase" not in str(info.value) and "not-the-passphrase" not in repr(info.value)
    await client.disconnect()


async def test_reconnects_after_streams_drop_and_delivers_missed_fills_once(clock: VirtualClock,
                                                                         target: Target) -> None:
    state = await scenarios.missed_fills_are_delivered_once(target, VENUE, SWAP)
    assert state.reconciliations >= 2


async def test_text_pings_keep_quiet_sockets_past_okx_idle_close(clock: VirtualClock, target: Target) -> None:
    """OKX closes a socket it had nothing to send on for 30 s (4004): with nothing subscribed on the public and
    business sockets and no private events, our text pings (answered "pong") keep all three open."""
    target.require_emulator("a bounded wait on the virtual clock")
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=12) as router, \
            router.subscribe(venues=[VENUE], kinds=["status"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        statuses: list[m.EventMsg] = []
        with trio.move_on_after(150):
            while True:
                statuses.append(await events.get())
        assert state.reconciliations == 1  # the private socket never dropped
        assert not [s for s in statuses if isinstance(s, m.BrokerStatus) and s.market_data_degraded]


# ============================================================================ account


async def test_trading_account_balances(clock: VirtualClock, broker: Broker) -> None:
    balances = await broker.get_balances()
    currencies = [b.currency for b in balances]
    assert "USDT" in currencies and len(currencies) == len(set(currencies))
    usdt = await broker.get_balance("USDT")
    assert isinstance(usdt.free, Decimal) and usdt.total == usdt.free + usdt.locked and usdt.total > 0


async def test_account_info_reports_the_account_level_and_equity(clock: VirtualClock, broker: Broker) -> None:
    info = await broker.get_account_info()
    assert info.venue == VENUE and info.account_type.startswith("okx-acctLv") and info.can_trade
    assert info.currency == "USD" and info.equity is not None and info.equity > 0
    assert {b.currency for b in info.balances} >= {b.currency for b in await broker.get_balances()}


@BOTH
async def test_ticker_and_candles(clock: VirtualClock, broker: Broker, symbol: str) -> None:
    await scenarios.ticker_and_candles(broker, symbol)


# ============================================================================ orders


@BOTH
async def test_limit_order_rests_then_cancels(clock: VirtualClock, broker: Broker, symbol: str) -> None:
    await scenarios.limit_order_rests_then_cancels(broker, symbol, await limit_far(broker, symbol))


@BOTH
async def test_market_order_fills_and_lists_its_fills(clock: VirtualClock, broker: Broker, symbol: str) -> None:
    request = await market(broker, symbol, Side.BUY)
    order = await broker.place_order(request)
    final = await broker.get_order_status(symbol, order_id=order.order_id)
    assert final.status is OrderStatus.FILLED and final.filled_quantity == request.quantity
    assert final.average_price is not None and final.average_price > 0
    fills = [f for f in await broker.get_fills(symbol) if f.order_id == order.order_id]
    assert sum(f.quantity for f in fills) == request.quantity  # contracts converted back to BTC for the swap
    assert all(f.fee >= 0 and f.timestamp.tzinfo is not None and f.client_order_id == request.client_order_id
               for f in fills)
    if symbol == SWAP:
        await flatten(broker, symbol)


async def test_order_status_by_venue_id_and_by_client_id(clock: VirtualClock, broker: Broker) -> None:
    request = await limit_far(broker, SWAP)
    order = await broker.place_order(request)
    by_id = await broker.get_order_status(SWAP, order_id=order.order_id)
    by_client = await broker.get_order_status(SWAP, client_order_id=request.client_order_id)
    assert by_id.order_id == by_client.order_id == order.order_id and by_id.status is OrderStatus.NEW
    assert by_id.quantity == request.quantity and by_id.price == request.price
    await broker.cancel_order(SWAP, client_order_id=request.client_order_id)
    assert (await broker.get_order_status(SWAP, order_id=order.order_id)).status is OrderStatus.CANCELED


async def test_order_history_includes_finished_orders(clock: VirtualClock, broker: Broker) -> None:
    filled = await broker.place_order(await market(broker, SPOT, Side.BUY))
    resting = await broker.place_order(await limit_far(broker, SPOT))
    await broker.cancel_order(SPOT, order_id=resting.order_id)
    everything = {o.order_id: o.status for o in await broker.get_orders(SPOT, open_only=False)}
    assert everything[filled.order_id] is OrderStatus.FILLED
    assert everything[resting.order_id] is OrderStatus.CANCELED


async def test_amend_changes_price_and_size_in_place(clock: VirtualClock, broker: Broker) -> None:
    request = await limit_far(broker, SWAP)
    order = await broker.place_order(request)
    instrument = broker.instrument(SWAP)
    new_price = request.price - instrument.tick_size * 10  # type: ignore[operator]
    amended = await broker.amend_order(SWAP, order_id=order.order_id, price=new_price,
                                       quantity=request.quantity + instrument.lot_size)
    assert amended.order_id == order.order_id and amended.client_order_id == request.client_order_id
    assert amended.price == new_price and amended.quantity == request.quantity + instrument.lot_size
    with pytest.raises(e.InvalidOrder) as off_lot:
        await broker.amend_order(SWAP, order_id=order.order_id, quantity=request.quantity + instrument.lot_size / 3)
    assert off_lot.value.filter == "LOT_SIZE"
    await broker.cancel_order(SWAP, order_id=order.order_id)


async def test_cancel_all_orders_across_instruments(clock: VirtualClock, broker: Broker) -> None:
    placed = {(await broker.place_order(await limit_far(broker, symbol))).order_id for symbol in (SPOT, SPOT, SWAP)}
    cancelled = await broker.cancel_all_orders()
    assert placed <= {o.order_id for o in cancelled} and all(o.status is OrderStatus.CANCELED for o in cancelled)
    assert not placed & {o.order_id for o in await broker.get_orders(None, open_only=True)}


# ============================================================================ positions, PnL, leverage


async def test_swap_position_has_entry_mark_pnl_liquidation_and_leverage(clock: VirtualClock, broker: Broker) -> None:
    await flatten(broker, SWAP)
    opened = await broker.place_order(await market(broker, SWAP, Side.BUY))
    position = await broker.get_position(SWAP)
    assert position.side is PositionSide.LONG and position.quantity == opened.quantity
    assert position.market_type is MarketType.LINEAR and position.margin_mode is MarginMode.CROSS
    assert position.entry_price is not None and position.mark_price is not None and position.leverage >= 1
    assert position.liquidation_price is not None and position.liquidation_price < position.entry_price
    expected = (position.mark_price - position.entry_price) * position.quantity
    assert abs(position.unrealized_pnl - expected) <= position.quantity * broker.instrument(SWAP).tick_size
    assert SWAP in {p.symbol for p in await broker.get_positions()}
    await flatten(broker, SWAP)
    closed = await broker.get_position(SWAP)
    assert closed.side is PositionSide.FLAT and closed.quantity == 0


async def test_close_position_through_the_router_realises_pnl(clock: VirtualClock, target: Target) -> None:
    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=6) as router:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        instrument = {i.symbol: i for i in await router.instruments(VENUE)}[SWAP]
        last = await router.get_current_price(VENUE, SWAP)
        await router.place_order(venue=VENUE, symbol=SWAP, side="sell", type="market",
                                 quantity=lots(instrument, last) * 2, margin_mode=MarginMode.ISOLATED)
        await trio.sleep(3)  # let the price move
        before = await router.get_position(VENUE, SWAP)
        assert before.side is PositionSide.SHORT and before.margin_mode is MarginMode.ISOLATED
        half = await router.close_position(VENUE, SWAP, quantity=before.quantity / 2)
        assert half.reduce_only and half.side is Side.BUY and half.status is OrderStatus.FILLED
        assert (await router.get_position(VENUE, SWAP)).quantity == before.quantity / 2
        await router.close_position(VENUE, SWAP)
        after = await router.get_position(VENUE, SWAP)
        assert after.quantity == 0
        fills = await router.get_fills(VENUE, SWAP)
        assert fills and all(f.fee_currency == "USDT" for f in fills)


async def test_set_leverage_per_margin_mode(clock: VirtualClock, broker: Broker) -> None:
    await flatten(broker, SWAP)
    info = await broker.set_leverage(SWAP, Decimal(5))
    assert info.leverage == 5 and info.max_leverage >= 5 and info.margin_mode is MarginMode.CROSS
    assert (await broker.get_leverage_info(SWAP)).leverage == 5
    assert (await broker.set_leverage(SWAP, Decimal(5))).leverage == 5  # setting it again is no error
    opened = await broker.place_order(await market(broker, SWAP, Side.BUY))
    position = await broker.get_position(SWAP)
    assert position.leverage == 5 and position.quantity == opened.quantity
    too_much = broker.instrument(SWAP).max_leverage + 1
    with pytest.raises(e.InvalidOrder) as info_error:
        await broker.set_leverage(SWAP, too_much)
    assert info_error.value.filter == "LEVERAGE"
    with pytest.raises(e.NotSupported):
        await broker.get_leverage_info(SPOT)
    await flatten(broker, SWAP)


async def test_inverse_swap_is_sized_in_usd_contracts(clock: VirtualClock, broker: Broker) -> None:
    await flatten(broker, INVERSE)
    order = await broker.place_order(await market(broker, INVERSE, Side.BUY, quantity=Decimal(200)))  # 2 contracts
    assert order.filled_quantity == 200
    position = await broker.get_position(INVERSE)
    assert position.market_type is MarketType.INVERSE and position.quantity == 200
    fills = [f for f in await broker.get_fills(INVERSE) if f.order_id == order.order_id]
    assert sum(f.quantity for f in fills) == 200 and all(f.fee_currency == "BTC" for f in fills)
    with pytest.raises(e.InvalidOrder) as info:
        await broker.place_order(await market(broker, INVERSE, Side.BUY, quantity=Decimal(150)))
    assert info.value.filter == "LOT_SIZE"
    await flatten(broker, INVERSE)


async def test_spot_holdings_are_long_positions(clock: VirtualClock, broker: Broker) -> None:
    await broker.place_order(await market(broker, SPOT, Side.BUY))
    position = await broker.get_position(SPOT)
    assert position.side is PositionSide.LONG and position.market_type is MarketType.SPOT
    assert position.quantity == (await broker.get_balance("BTC")).total
    assert position.mark_price is not None and position.margin_mode is MarginMode.CASH


# ============================================================================ error handling


@BOTH
async def test_invalid_quantity_names_the_filter(clock: VirtualClock, broker: Broker, symbol: str) -> None:
    instrument = broker.instrument(symbol)
    request = await limit_far(broker, symbol)
    odd = OrderRequest(venue=VENUE, symbol=symbol, side=Side.BUY, type=OrderType.LIMIT,
                       quantity=request.quantity + instrument.lot_size / 3, price=request.price,
                       client_order_id=new_client_order_id())
    with pytest.raises(e.InvalidOrder) as info:
        await broker.place_order(odd)
    assert info.value.filter == "LOT_SIZE"


async def test_insufficient_balance_is_typed(clock: VirtualClock, broker: Broker) -> None:
    instrument = broker.instrument(SPOT)
    usdt = (await broker.get_balance("USDT")).free
    last = (await broker.get_ticker(SPOT)).last
    price = tick_round(last * Decimal("0.97"), instrument.tick_size)
    quantity = ((usdt * 2 / price) / instrument.lot_size).to_integral_value() * instrument.lot_size
    if instrument.max_qty is not None:
        quantity = min(quantity, instrument.max_qty)
    with pytest.raises(e.InsufficientFunds) as info:
        await broker.place_order(OrderRequest(venue=VENUE, symbol=SPOT, side=Side.BUY, type=OrderType.LIMIT,
                                              quantity=quantity, price=price, client_order_id=new_client_order_id()))
    assert info.value.venue == VENUE and info.value.code is not None and info.value.code.startswith("51008")
    assert info.value.venue_message


@BOTH
async def test_unknown_order_is_order_not_found(clock: VirtualClock, broker: Broker, symbol: str) -> None:
    with pytest.raises(e.OrderNotFound):
        await broker.get_order_status(symbol, client_order_id="neverplaced123")
    with pytest.raises(e.OrderNotFound) as info:
        await broker.cancel_order(symbol, client_order_id="neverplaced123")
    assert info.value.code is not None


async def test_duplicate_client_order_id_is_resolved_by_lookup(clock: VirtualClock, broker: Broker) -> None:
    request = await limit_far(broker, SWAP)
    first = await broker.place_order(request)
    with pytest.raises(e.DuplicateOrder) as info:
        await broker.place_order(request)
    assert info.value.code == "51016"
    again = await place_order_idempotent(broker, BrokerState(venue=VENUE), request)  # the actor: look up, never resend
    assert again.order_id == first.order_id
    await broker.cancel_order(SWAP, order_id=first.order_id)


async def test_lost_order_answer_is_looked_up_not_sent_twice(clock: VirtualClock, target: Target) -> None:
    await scenarios.lost_order_answer_is_looked_up(target, VENUE, SWAP, "/api/v5/trade/order")


async def test_a_request_held_past_its_exp_time_never_executes(clock: VirtualClock, target: Target) -> None:
    """OKX's expTime bounds a lost request: held past it, OKX discards it (50036), so the resend after the
    lookup is the only order."""
    venue = target.require_emulator("holding a request past its expTime")
    client = target.broker()
    await client.connect()
    try:
        request = await market(client, SPOT, Side.BUY)
        venue.faults.slow_responses(target.settings.request_timeout + 3, count=1)
        order = await place_order_idempotent(client, BrokerState(venue=VENUE), request)
        assert order.status is OrderStatus.FILLED
        await trio.sleep(5)  # the held request is answered meanwhile, too late to execute
        mine = [o for o in await client.get_orders(SPOT, open_only=False)
                if o.client_order_id == request.client_order_id]
        assert len(mine) == 1 and mine[0].filled_quantity == request.quantity
    finally:
        await client.disconnect()


async def test_reads_recover_from_timeouts_and_server_errors(clock: VirtualClock, target: Target,
                                                             broker: Broker) -> None:
    venue = target.require_emulator("slowing responses and injecting HTTP 502")
    venue.faults.slow_responses(target.settings.request_timeout + 5, count=1)
    assert (await broker.get_ticker(SWAP)).last > 0
    venue.faults.http_error(502, count=1, path="/api/v5/market/ticker")
    assert (await broker.get_ticker(SPOT)).last > 0


async def test_rate_limit_answers_are_obeyed_and_typed(clock: VirtualClock, target: Target, broker: Broker) -> None:
    venue = target.require_emulator("lowering an endpoint's limit")
    venue.dialect.set_limit("GET", "/api/v5/market/ticker", 1)
    start = trio.current_time()
    for _ in range(3):  # reads: OKX's 50011 pauses one window, then they are retried
        assert (await broker.get_ticker(SPOT)).last > 0
    assert trio.current_time() >= start + 2
    first, second = await limit_far(broker, SPOT), await limit_far(broker, SPOT)
    venue.dialect.set_limit("POST", "/api/v5/trade/order", 1)
    await broker.place_order(first)
    with pytest.raises(e.RateLimited) as info:  # writes are never retried: the caller decides
        await broker.place_order(second)
    assert info.value.code == "50011" and info.value.retry_after is not None and info.value.retryable


# ============================================================================ OKX's market data


async def test_a_month_of_one_minute_candles_in_one_call(clock: VirtualClock, broker: Broker) -> None:
    start = utc_now() - timedelta(days=30)
    candles = await broker.get_historical_candles(SPOT, "1m", start, None, 50_000)
    minutes = {c.open_time for c in candles}
    assert len(minutes) == len(candles) >= 30 * 1440 - 5  # the month, every minute once
    assert candles[0].open_time >= start and candles[0].open_time - start < timedelta(minutes=2)
    assert [c.open_time for c in candles] == sorted(minutes)
    assert all(isinstance(c, Candle) and c.symbol == SPOT and c.interval == "1m" for c in candles)
    hours = await broker.get_historical_candles(SWAP, "1h", start, start + timedelta(days=1), 500)
    assert len(hours) == 24 and hours[0].open_time >= start


async def test_trades_funding_mark_and_open_interest(clock: VirtualClock, broker: Broker) -> None:
    await trio.sleep(5)  # some prints
    trades = await broker.get_trades(SWAP, limit=20)
    assert 0 < len(trades) <= 20 and [t.timestamp for t in trades] == sorted(t.timestamp for t in trades)
    funding = await broker.get_funding_rate(SWAP)
    assert isinstance(funding, FundingRate) and funding.funding_time > utc_now() - timedelta(hours=8)
    history = await broker.get_funding_history(SWAP, limit=10)
    assert history and all(r.realized for r in history) and len(history) <= 10
    assert [r.funding_time for r in history] == sorted(r.funding_time for r in history)
    mark = await broker.get_mark_price(SWAP)
    assert isinstance(mark, MarkPrice) and mark.mark > 0 and mark.index is not None and mark.index > 0
    interest = await broker.get_open_interest(SWAP)
    assert isinstance(interest, OpenInterest) and interest.quantity >= 0
    with pytest.raises(e.NotSupported):
        await broker.get_funding_rate(SPOT)


async def test_market_data_streams_funding_mark_price_and_open_interest(clock: VirtualClock,
                                                                       target: Target) -> None:
    target.require_emulator("a bounded wait for live market data")
    configured = Subscription(SPOT, m.StreamChannel.FUNDING)  # as a config could name it: said, not dropped
    state = BrokerState(venue=VENUE, subscriptions={configured})
    async with open_router_with({VENUE: broker_actor(target.broker, state)}, seed=8) as router, \
            router.subscribe(venues=[VENUE], kinds=["funding", "mark_price", "open_interest"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        with trio.fail_after(10):
            while "swaps only" not in (((status := router.status(VENUE)) and status.reason) or ""):  # noqa: ASYNC110
                await trio.sleep(0.1)
        channels = [m.StreamChannel.FUNDING, m.StreamChannel.MARK_PRICE, m.StreamChannel.OPEN_INTEREST]
        await router.subscribe_market_data(VENUE, [SWAP], channels)
        with pytest.raises(e.NotSupported):
            await router.subscribe_market_data(VENUE, [SPOT], [m.StreamChannel.MARK_PRICE])
        kinds: set[type] = set()
        with trio.move_on_after(30):
            while len(kinds) < 3:
                event = await events.get()
                if getattr(event, "symbol", None) == SWAP:
                    kinds.add(type(event))
        assert kinds == {FundingRate, MarkPrice, OpenInterest}


async def test_book_checksums_are_verified_and_a_broken_book_is_rebuilt(clock: VirtualClock, target: Target) -> None:
    venue = target.require_emulator("OKX's retired CRC32 checksums (live OKX sends 0 since 2026-06-23)")
    venue.dialect.send_checksums = True
    made: list[OkxBroker] = []

    def make() -> Broker:
        made.append(broker := OkxBroker(target.settings))
        return broker

    state = BrokerState(venue=VENUE)
    async with open_router_with({VENUE: broker_actor(make, state)}, seed=10) as router, \
            router.subscribe(venues=[VENUE], kinds=["book"]) as events:
        with trio.fail_after(60):
            await router.wait_connected(VENUE)
        await router.subscribe_market_data(VENUE, [SPOT, SWAP], [m.StreamChannel.BOOK])
        await trio.sleep(5)
        public = made[-1]._public
        assert public is not None
        socket = public.sockets[WsService.PUBLIC]
        verified = {inst: book.checksums_verified for inst, book in socket.books.items()}
        assert verified.keys() == {"BTC-USDT", "BTC-USDT-SWAP"} and min(verified.values()) > 0
        venue.faults.duplicate_messages(3, "public")  # a repeated update breaks seqId continuity
        await trio.sleep(5)
        assert socket.resyncs >= 1 and state.reconciliations == 1  # rebuilt on the same socket
        seen_after: list[OrderBook] = []
        with trio.move_on_after(5):
            while len(seen_after) < 10:
                event = await events.get()
                if isinstance(event, OrderBook):
                    seen_after.append(event)
        assert seen_after and all(b.bids[0].price < b.asks[0].price for b in seen_after)
        assert all(b.checksums_verified > verified.get(i, 0) for i, b in socket.books.items() if b.ready)


# ============================================================================ streams through the router


@BOTH
async def test_public_streams_deliver_every_channel(clock: VirtualClock, target: Target, symbol: str) -> None:
    await scenarios.public_channels_arrive(target, VENUE, symbol)


async def test_private_stream_reports_position_and_fill(clock: VirtualClock, target: Target) -> None:
    await scenarios.private_stream_reports_position_and_fill(target, VENUE, SWAP)
