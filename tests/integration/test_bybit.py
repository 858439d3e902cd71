"""Bybit V5, end to end: connection, account, orders, positions (PnL, leverage) and error handling,
in spot and linear, against the emulator always and against the Bybit testnet when
BYBIT_API_KEY / BYBIT_API_SECRET are set (the same bodies; fault-injection tests skip there).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from brokers.base import Broker, BrokerState, place_order_idempotent
from protocol import errors as e
from protocol.model import (
    MarginMode,
    MarketType,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    new_client_order_id,
)
from tests.integration import scenarios
from tests.integration.conftest import Target, VirtualClock
from tests.integration.scenarios import lots, tick_round

VENUE = "bybit"
SPOT = "BTC/USDT"
LINEAR = "BTC/USDT:USDT"
INVERSE = "BTC/USD:BTC"
BOTH = pytest.mark.parametrize("symbol", [SPOT, LINEAR], ids=["spot", "linear"])


async def limit_far(broker: Broker, symbol: str, side: Side = Side.BUY) -> OrderRequest:
    """A limit order that rests: 5% away from the market (inside Bybit's price bands)."""
    instrument = broker.instrument(symbol)
    last = (await broker.get_ticker(symbol)).last
    price = tick_round(last * (Decimal("0.95") if side is Side.BUY else Decimal("1.05")), instrument.tick_size)
    return OrderRequest(venue=VENUE, symbol=symbol, side=side, type=OrderType.LIMIT,
                        quantity=lots(instrument, price), price=price, client_order_id=new_client_order_id())


async def market(broker: Broker, symbol: str, side: Side, *, reduce_only: bool = False,
                 quantity: Decimal | None = None) -> OrderRequest:
    instrument = broker.instrument(symbol)
    last = (await broker.get_ticker(symbol)).last
    return OrderRequest(venue=VENUE, symbol=symbol, side=side, type=OrderType.MARKET,
                        quantity=quantity or lots(instrument, last), reduce_only=reduce_only,
                        client_order_id=new_client_order_id())


async def flatten(broker: Broker, symbol: str) -> None:
    position = await broker.get_position(symbol)
    if position.quantity > 0:
        side = Side.SELL if position.side is PositionSide.LONG else Side.BUY
        await broker.place_order(await market(broker, symbol, side, reduce_only=True, quantity=position.quantity))


# ============================================================================ connection


async def test_connects_and_loads_every_category(clock: VirtualClock, broker: Broker) -> None:
    assert broker.is_connected
    spot, linear = broker.instrument(SPOT), broker.instrument(LINEAR)
    # The same Bybit symbol in two categories is two instruments.
    assert spot.venue_symbol == linear.venue_symbol == "BTCUSDT"
    assert spot.market_type is MarketType.SPOT and linear.market_type is MarketType.LINEAR
    assert linear.settle == "USDT" and linear.max_leverage > 1 and spot.max_leverage == 1
    inverse = broker.instrument(INVERSE)
    assert inverse.market_type is MarketType.INVERSE and inverse.settle == "BTC"
    with pytest.raises(e.InvalidOrder):
        broker.instrument("NOPE/USDT")


async def test_invalid_credentials_fail_with_authentication_error(clock: VirtualClock, target: Target) -> None:
    from protocol.credentials import Credentials

    assert target.settings.credentials is not None
    wrong = Credentials.from_strings(target.settings.credentials.api_key, "not-the-secret")
    client = target.broker(credentials=wrong)
    with pytest.raises(e.AuthenticationError) as info:
        await client.connect()
    assert info.value.venue == VENUE and info.value.code == "10004"  # "error sign"
    assert "not-the-secret" not in str(info.value) and not info.value.retryable
    await client.disconnect()


async def test_reconnects_after_streams_drop_and_delivers_missed_fills_once(clock: VirtualClock,
                                                                         target: Target) -> None:
    await scenarios.missed_fills_are_delivered_once(target, VENUE, LINEAR)


# ============================================================================ account


async def test_unified_wallet_balances(clock: VirtualClock, broker: Broker) -> None:
    balances = await broker.get_balances()
    currencies = [b.currency for b in balances]
    assert "USDT" in currencies and len(currencies) == len(set(currencies))
    usdt = await broker.get_balance("USDT")
    assert isinstance(usdt.free, Decimal) and usdt.total == usdt.free + usdt.locked and usdt.total > 0


async def test_account_info_reports_margin_mode_and_balances(clock: VirtualClock, broker: Broker) -> None:
    info = await broker.get_account_info()
    assert info.venue == VENUE and info.account_type.startswith("UNIFIED/")
    assert {b.currency for b in info.balances} == {b.currency for b in await broker.get_balances()}
    assert info.updated_at.tzinfo is not None


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
    assert sum(f.quantity for f in fills) == request.quantity
    assert all(f.fee >= 0 and f.timestamp.tzinfo is not None and f.client_order_id == request.client_order_id
               for f in fills)
    if symbol == LINEAR:
        await flatten(broker, symbol)


@BOTH
async def test_order_status_by_venue_id_and_by_client_id(clock: VirtualClock, broker: Broker, symbol: str) -> None:
    request = await limit_far(broker, symbol)
    order = await broker.place_order(request)
    by_id = await broker.get_order_status(symbol, order_id=order.order_id)
    by_client = await broker.get_order_status(symbol, client_order_id=request.client_order_id)
    assert by_id.order_id == by_client.order_id == order.order_id and by_id.status is OrderStatus.NEW
    await broker.cancel_order(symbol, client_order_id=request.client_order_id)
    assert (await broker.get_order_status(symbol, order_id=order.order_id)).status is OrderStatus.CANCELED


async def test_order_history_includes_finished_orders(clock: VirtualClock, broker: Broker) -> None:
    filled = await broker.place_order(await market(broker, SPOT, Side.BUY))
    resting = await broker.place_order(await limit_far(broker, SPOT))
    await broker.cancel_order(SPOT, order_id=resting.order_id)
    everything = {o.order_id: o.status for o in await broker.get_orders(SPOT, open_only=False)}
    assert everything[filled.order_id] is OrderStatus.FILLED
    assert everything[resting.order_id] is OrderStatus.CANCELED


async def test_open_orders_across_categories(clock: VirtualClock, broker: Broker) -> None:
    spot = await broker.place_order(await limit_far(broker, SPOT))
    linear = await broker.place_order(await limit_far(broker, LINEAR, Side.SELL))
    listed = {o.order_id: o.symbol for o in await broker.get_orders(None, open_only=True)}
    assert listed.get(spot.order_id) == SPOT and listed.get(linear.order_id) == LINEAR
    await broker.cancel_order(SPOT, order_id=spot.order_id)
    await broker.cancel_order(LINEAR, order_id=linear.order_id)


# ============================================================================ positions, PnL, leverage


async def test_linear_position_has_entry_mark_and_pnl(clock: VirtualClock, broker: Broker) -> None:
    await flatten(broker, LINEAR)
    opened = await broker.place_order(await market(broker, LINEAR, Side.BUY))
    position = await broker.get_position(LINEAR)
    assert position.side is PositionSide.LONG and position.quantity == opened.quantity
    assert position.market_type is MarketType.LINEAR and position.margin_mode in (MarginMode.CROSS,
                                                                                  MarginMode.ISOLATED)
    assert position.entry_price is not None and position.mark_price is not None and position.leverage >= 1
    expected = (position.mark_price - position.entry_price) * position.quantity
    assert abs(position.unrealized_pnl - expected) <= position.quantity * broker.instrument(LINEAR).tick_size
    assert LINEAR in {p.symbol for p in await broker.get_positions()}
    await flatten(broker, LINEAR)
    closed = await broker.get_position(LINEAR)
    assert closed.side is PositionSide.FLAT and closed.quantity == 0


async def test_closing_a_position_realises_pnl(clock: VirtualClock, broker: Broker) -> None:
    await flatten(broker, LINEAR)
    before = await broker.get_balance("USDT")
    opened = await broker.place_order(await market(broker, LINEAR, Side.SELL))
    await trio.sleep(3)  # let the price move
    await broker.place_order(await market(broker, LINEAR, Side.BUY, reduce_only=True, quantity=opened.quantity))
    fills = [f for f in await broker.get_fills(LINEAR, limit=1000)]
    assert fills and all(f.fee_currency == "USDT" for f in fills)
    assert (await broker.get_position(LINEAR)).quantity == 0
    after = await broker.get_balance("USDT")
    assert after.total != before.total  # at least the fees were paid from the settle coin


async def test_set_leverage_and_not_modified_is_success(clock: VirtualClock, broker: Broker) -> None:
    await flatten(broker, LINEAR)
    info = await broker.set_leverage(LINEAR, Decimal(5))
    assert info.leverage == 5 and info.max_leverage >= 5
    again = await broker.set_leverage(LINEAR, Decimal(5))  # Bybit: 110043 "leverage not modified"
    assert again.leverage == 5
    assert (await broker.get_leverage_info(LINEAR)).leverage == 5
    await broker.set_leverage(LINEAR, Decimal(10))
    assert (await broker.get_leverage_info(LINEAR)).leverage == 10


async def test_leverage_out_of_range_and_spot_leverage_are_refused(clock: VirtualClock, broker: Broker) -> None:
    too_much = broker.instrument(LINEAR).max_leverage + 1
    with pytest.raises(e.InvalidOrder) as info:
        await broker.set_leverage(LINEAR, too_much)
    assert info.value.filter == "LEVERAGE"
    with pytest.raises(e.NotSupported):
        await broker.get_leverage_info(SPOT)


async def test_reduce_only_on_spot_is_refused_before_sending(clock: VirtualClock, broker: Broker) -> None:
    before = await broker.get_orders(SPOT, open_only=False)
    with pytest.raises(e.NotSupported) as refused:  # spot has no reduce-only: refused, never dropped
        await broker.place_order(await market(broker, SPOT, Side.SELL, reduce_only=True))
    assert refused.value.venue == VENUE and "reduce-only" in refused.value.message
    assert len(await broker.get_orders(SPOT, open_only=False)) == len(before)


async def test_reduce_only_cannot_open_a_position(clock: VirtualClock, broker: Broker) -> None:
    await flatten(broker, LINEAR)
    with pytest.raises(e.InvalidOrder) as info:
        await broker.place_order(await market(broker, LINEAR, Side.BUY, reduce_only=True))
    assert info.value.filter == "REDUCE_ONLY" and info.value.code is not None
    assert (await broker.get_position(LINEAR)).quantity == 0


async def test_spot_holdings_are_long_positions(clock: VirtualClock, broker: Broker) -> None:
    await broker.place_order(await market(broker, SPOT, Side.BUY))
    position = await broker.get_position(SPOT)
    assert position.side is PositionSide.LONG and position.market_type is MarketType.SPOT
    assert position.quantity == (await broker.get_balance("BTC")).total
    assert position.entry_price is not None and position.mark_price is not None
    assert position.unrealized_pnl == (position.mark_price - position.entry_price) * position.quantity


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
    assert info.value.venue == VENUE and info.value.code is not None and info.value.venue_message


@BOTH
async def test_unknown_order_is_order_not_found(clock: VirtualClock, broker: Broker, symbol: str) -> None:
    with pytest.raises(e.OrderNotFound):
        await broker.get_order_status(symbol, client_order_id="neverplaced123")
    with pytest.raises(e.OrderNotFound) as info:
        await broker.cancel_order(symbol, client_order_id="neverplaced123")
    assert info.value.code is not None


async def test_duplicate_order_link_id_is_typed_and_resolved_by_lookup(clock: VirtualClock, broker: Broker) -> None:
    request = await limit_far(broker, LINEAR)
    first = await broker.place_order(request)
    with pytest.raises(e.DuplicateOrder):
        await broker.place_order(request)
    state = BrokerState(venue=VENUE)
    again = await place_order_idempotent(broker, state, request)  # the actor path: look up, never resend
    assert again.order_id == first.order_id
    await broker.cancel_order(LINEAR, order_id=first.order_id)


async def test_lost_order_answer_is_looked_up_not_sent_twice(clock: VirtualClock, target: Target) -> None:
    await scenarios.lost_order_answer_is_looked_up(target, VENUE, LINEAR, "/v5/order/create")


async def test_server_errors_on_reads_are_retried(clock: VirtualClock, target: Target, broker: Broker) -> None:
    venue = target.require_emulator("injecting HTTP 502")
    venue.faults.http_error(502, count=1, path="/v5/market/tickers")
    assert (await broker.get_ticker(SPOT)).last > 0


async def test_read_timeout_is_recovered_by_retrying(clock: VirtualClock, target: Target, broker: Broker) -> None:
    venue = target.require_emulator("slowing responses down")
    venue.faults.slow_responses(target.settings.request_timeout + 5, count=1)
    assert (await broker.get_ticker(LINEAR)).last > 0


# ============================================================================ streams through the router


@BOTH
async def test_public_streams_deliver_every_channel(clock: VirtualClock, target: Target, symbol: str) -> None:
    await scenarios.public_channels_arrive(target, VENUE, symbol)


async def test_private_stream_reports_position_and_fill(clock: VirtualClock, target: Target) -> None:
    await scenarios.private_stream_reports_position_and_fill(target, VENUE, LINEAR)
