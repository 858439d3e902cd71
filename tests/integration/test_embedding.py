"""The embedding entry point: ``async with open_router() as router`` in paper mode."""

from __future__ import annotations

from decimal import Decimal

import trio

from algotrendy import open_router
from protocol.model import Fill, OrderStatus


async def test_open_router_in_paper_mode_trades_and_streams_fills(autojump_clock: trio.abc.Clock) -> None:
    async with open_router() as router:
        with trio.fail_after(60):
            await router.wait_connected("binance")
        assert "BTC/USDT" in {i.symbol for i in await router.instruments("binance")}
        async with router.subscribe(kinds=["fill"]) as fills:
            order = await router.place_order(venue="binance", symbol="BTC/USDT", side="buy", type="market",
                                             quantity=Decimal("0.001"))
            assert order.status is OrderStatus.FILLED
            with trio.fail_after(10):
                fill = await fills.get()
            assert isinstance(fill, Fill) and fill.order_id == order.order_id
        assert await router.get_current_price("binance", "BTC/USDT") > 0
