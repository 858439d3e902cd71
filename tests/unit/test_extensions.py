"""Contract extensions (design §11): routed like any command, NotSupported where a venue cannot,
generic where the contract allows (cancel-all, close position), and risk-checked where they trade."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import trio

from actors.handle import RouterHandle, open_router_with
from actors.risk import RiskLimits
from actors.supervisor import BackoffPolicy
from brokers.base import BrokerState, broker_actor
from protocol import errors as e
from protocol import messages as m
from protocol.model import MarketType, OrderStatus, OrderType, Position, PositionSide, Side, utc_now
from tests.support.fake_broker import FakeBroker, FakeVenue

FAST = BackoffPolicy(base=0.5, cap=4.0, healthy_after=10.0)


class LongFakeBroker(FakeBroker):
    """A fake venue holding a linear-perpetual long of 0.5, so closing has something to close."""

    async def get_position(self, symbol: str) -> Position:
        return Position(venue=self.venue, symbol=symbol, market_type=MarketType.LINEAR, side=PositionSide.LONG,
                        quantity=Decimal("0.5"), updated_at=utc_now())


@asynccontextmanager
async def running(market: FakeVenue, broker: type[FakeBroker] = FakeBroker,
                  risk: RiskLimits | None = None) -> AsyncIterator[RouterHandle]:
    state = BrokerState(venue="fake")
    actor = broker_actor(lambda: broker(market), state)
    async with open_router_with({"fake": actor}, policy=FAST, seed=7, risk=risk) as router:
        with trio.fail_after(30):
            await router.wait_connected("fake")
        yield router


EXTENSION_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("amend_order", {"symbol": "BTC/USDT", "order_id": "1", "price": "99"}),
    ("cancel_all_after", {"seconds": 60}),
    ("get_historical_candles", {"symbol": "BTC/USDT", "interval": "1m",
                                "start": datetime(2026, 1, 1, tzinfo=UTC)}),
    ("get_trades", {"symbol": "BTC/USDT"}),
    ("get_funding_rate", {"symbol": "BTC/USDT"}),
    ("get_funding_history", {"symbol": "BTC/USDT"}),
    ("get_mark_price", {"symbol": "BTC/USDT"}),
    ("get_open_interest", {"symbol": "BTC/USDT"}),
    ("get_market_clock", {}),
    ("get_market_calendar", {"start": date(2026, 1, 1), "end": date(2026, 1, 31)}),
    ("get_earn_strategies", {}),
    ("get_earn_allocations", {}),
    ("earn_allocate", {"strategy_id": "s1", "amount": "1"}),
    ("earn_deallocate", {"strategy_id": "s1", "amount": "1"}),
    ("earn_status", {"strategy_id": "s1"}),
]


@pytest.mark.parametrize(("method", "kwargs"), EXTENSION_CALLS, ids=[c[0] for c in EXTENSION_CALLS])
async def test_a_venue_without_an_extension_answers_not_supported(autojump_clock: trio.abc.Clock, method: str,
                                                                   kwargs: dict[str, Any]) -> None:
    market = FakeVenue()  # FakeBroker implements none of the extensions
    kwargs = {**kwargs}
    async with running(market) as router:
        if method == "amend_order":
            placed = await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", type="limit",
                                              quantity="0.01", price="90")
            kwargs["order_id"] = placed.order_id
        with pytest.raises(e.NotSupported) as raised:
            await getattr(router, method)("fake", **kwargs)
        assert raised.value.venue == "fake"
        assert "does not support" in raised.value.message


def test_every_extension_command_is_dispatched() -> None:
    """Each command in the union reaches a broker method: none falls through to 'unknown command'."""
    import inspect

    from brokers import base

    source = inspect.getsource(base._execute_extension) + inspect.getsource(base.execute_command)
    for command in m.CommandMsg.__args__:
        assert f"m.{command.__name__}(" in source, f"{command.__name__} is not dispatched to the broker"


async def test_cancel_all_cancels_every_open_order_and_reports_them(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with running(market) as router:
        for price in ("90", "91", "92"):
            await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", type="limit", quantity="0.01",
                                     price=price)
        async with router.subscribe(kinds=["order"]) as events:
            cancelled = await router.cancel_all_orders("fake")
            assert sorted(o.price for o in cancelled if o.price) == [Decimal("90"), Decimal("91"), Decimal("92")]
            assert all(o.status is OrderStatus.CANCELED for o in cancelled)
            with trio.fail_after(5):
                seen = [await events.get() for _ in range(3)]
        assert {o.client_order_id for o in seen} == {o.client_order_id for o in cancelled}  # type: ignore[union-attr]
        assert await router.get_orders("fake") == []


async def test_close_position_sends_a_reduce_only_market_order_on_the_other_side(
        autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with running(market, LongFakeBroker) as router:
        order = await router.close_position("fake", "BTC/USDT", quantity="0.2", client_order_id="close0001")
        assert order.client_order_id == "close0001"
        sent = market.placed[-1]
        assert (sent.side, sent.type, sent.quantity, sent.reduce_only) == (Side.SELL, OrderType.MARKET,
                                                                           Decimal("0.2"), True)
        # more than held is capped at the position
        await router.close_position("fake", "BTC/USDT", quantity="7")
        assert market.placed[-1].quantity == Decimal("0.5")


async def test_closing_a_flat_position_is_refused_typed(autojump_clock: trio.abc.Clock) -> None:
    async with running(FakeVenue()) as router:
        with pytest.raises(e.InvalidOrder) as raised:
            await router.close_position("fake", "BTC/USDT")
        assert raised.value.filter == "POSITION"


async def test_dead_mans_switch_refuses_negative_seconds(autojump_clock: trio.abc.Clock) -> None:
    async with running(FakeVenue()) as router:
        with pytest.raises(e.InvalidOrder):
            await router.cancel_all_after("fake", -1)


async def test_notional_orders_meet_the_notional_limit(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with running(market, risk=RiskLimits(max_order_notional=Decimal("500"))) as router:
        with pytest.raises(e.RiskRejected) as raised:
            await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", type="market", notional="600")
        assert raised.value.rule == "max_order_notional"
        assert market.placed == []


async def test_an_amendment_is_risk_checked_as_the_order_it_would_become(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue(price=Decimal("100"))
    async with running(market, risk=RiskLimits(price_band_pct=Decimal("5"))) as router:
        placed = await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", type="limit",
                                          quantity="0.01", price="99")
        with pytest.raises(e.RiskRejected) as raised:
            await router.amend_order("fake", "BTC/USDT", order_id=placed.order_id, price="50")
        assert raised.value.rule == "price_band"


async def test_unknown_order_fields_are_refused_not_dropped(autojump_clock: trio.abc.Clock) -> None:
    market = FakeVenue()
    async with running(market) as router:
        with pytest.raises(e.InvalidOrder) as raised:
            await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", type="limit", quantity="0.01",
                                     price="90", levrage="3")
        assert "levrage" in raised.value.message
        assert market.placed == []
