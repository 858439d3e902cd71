"""The daemon's control API: token-guarded, commands answered by id, events streamed on Watch."""

from __future__ import annotations

from decimal import Decimal

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from actors.config import ControlConfig
from actors.handle import open_router_with
from algotrendy.control import serve_control_api
from brokers.base import BrokerState, broker_actor
from protocol import messages as m
from protocol.model import Order, OrderRequest, OrderType, Side
from tests.support.fake_broker import FakeBroker, FakeVenue


async def test_wrong_token_is_refused_and_right_token_works() -> None:
    market = FakeVenue()
    actor = broker_actor(lambda: FakeBroker(market), BrokerState(venue="fake"))
    notes: list[str] = []

    async def serve(*, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        await serve_control_api(router, ControlConfig(port=0), notes.append, token="t0ken",
                                task_status=task_status)

    async with open_router_with({"fake": actor}, seed=1) as router, trio.open_nursery() as nursery:
        await router.wait_connected("fake")
        port = await nursery.start(serve)
        url = f"ws://127.0.0.1:{port}/"
        async with open_websocket_url(url) as ws:
            await ws.send_message(m.encode(m.Hello(token="wrong")).decode())
            try:
                await ws.get_message()
                refused = False
            except ConnectionClosed as closed:
                refused = closed.reason.code == 4401
        assert refused
        async with open_websocket_url(url) as ws:
            await ws.send_message(m.encode(m.Hello(token="t0ken")).decode())
            welcome = m.decode_control_reply(await ws.get_message())
            assert isinstance(welcome, m.Welcome) and welcome.venues == ["fake"]
            await ws.send_message(m.encode(m.Watch(kinds=[m.EventKind.ORDER])).decode())
            await trio.sleep(0.1)
            request = OrderRequest(venue="fake", symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT,
                                   quantity=Decimal(1), price=Decimal(99), client_order_id="remote1")
            await ws.send_message(m.encode(m.PlaceOrder(id="q1", venue="fake", request=request)).decode())
            got_reply = got_event = False
            with trio.fail_after(5):
                while not (got_reply and got_event):
                    message = m.decode_message(await ws.get_message())
                    if isinstance(message, m.OrderReply):
                        assert message.id == "q1" and message.order.client_order_id == "remote1"
                        got_reply = True
                    elif isinstance(message, Order):
                        assert message.client_order_id == "remote1"
                        got_event = True
            await ws.send_message(m.encode(m.GetBalance(id="q2", venue="nope", currency="USDT")).decode())
            reply = m.decode_reply(await ws.get_message())
            assert isinstance(reply, m.ErrorReply) and reply.id == "q2" and reply.error.kind == "NotConnected"
        nursery.cancel_scope.cancel()
    assert any("control API on ws://127.0.0.1:" in n for n in notes)
