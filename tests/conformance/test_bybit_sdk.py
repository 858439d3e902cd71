"""The official pybit client (pybit.unified_trading.HTTP), driven against our Bybit emulator.

pybit builds its own requests (paths, sorted query strings, JSON bodies, signatures) and raises on any
non-zero retCode, so every accepted call proves the emulator understands the real SDK; every answer is
then compared with the engine's own records. Only the session's base URL (``endpoint``) is changed.
The SDK is synchronous: the emulator runs in a thread with its own trio loop on the real clock, prices
frozen (a tick an hour) so that what pybit reads can be compared with the engine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import trio

pybit = pytest.importorskip("pybit", reason="pybit is a dev dependency (requirements/dev.lock)")
from pybit.exceptions import InvalidRequestError  # noqa: E402
from pybit.unified_trading import HTTP  # noqa: E402

from emulators import EmulatedVenue, emulate  # noqa: E402

D = Decimal


@pytest.fixture(scope="module")
def venue() -> Iterator[EmulatedVenue]:
    ready = threading.Event()
    stop = threading.Event()
    holder: list[EmulatedVenue] = []

    async def serve() -> None:
        async with emulate("bybit", seed=44, tick_interval=3600) as emulated:
            holder.append(emulated)
            ready.set()
            await trio.to_thread.run_sync(stop.wait)

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    assert ready.wait(30), "the emulator did not start"
    yield holder[0]
    stop.set()
    thread.join(10)


def sdk(venue: EmulatedVenue, secret: str | None = None) -> HTTP:
    session = HTTP(api_key=venue.api_key, api_secret=secret or venue.api_secret, timeout=10, max_retries=1)
    session.endpoint = venue.rest_url  # the only change from the real venue
    return session


def test_market_data_equals_engine_state(venue: EmulatedVenue) -> None:
    session = sdk(venue)
    assert abs(int(session.get_server_time()["result"]["timeSecond"]) - time.time()) < 5
    engine = venue.engine
    linear = engine.symbols["linear:BTCUSDT"]
    info = session.get_instruments_info(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert (info["contractType"], info["settleCoin"]) == ("LinearPerpetual", "USDT")
    assert D(info["priceFilter"]["tickSize"]) == linear.spec.tick_size
    assert D(info["lotSizeFilter"]["qtyStep"]) == linear.spec.step_size
    assert D(info["leverageFilter"]["maxLeverage"]) == linear.spec.max_leverage
    spot_info = session.get_instruments_info(category="spot")["result"]["list"]
    assert {row["symbol"] for row in spot_info} == {"BTCUSDT", "ETHUSDT"}
    inverse = session.get_instruments_info(category="inverse")["result"]["list"]
    assert [(row["symbol"], row["settleCoin"]) for row in inverse] == [("BTCUSD", "BTC")]
    ticker = session.get_tickers(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert D(ticker["markPrice"]) == linear.mid
    assert (D(ticker["bid1Price"]), D(ticker["ask1Price"])) == (linear.book.bids[0][0], linear.book.asks[0][0])
    klines = session.get_kline(category="spot", symbol="BTCUSDT", interval="1", limit=3)["result"]["list"]
    spot = engine.symbols["spot:BTCUSDT"]
    assert [int(k[0]) for k in klines] == [c.open_ms for c in reversed(spot.candles[-3:])]  # newest first
    assert [D(k[4]) for k in klines] == [c.close for c in reversed(spot.candles[-3:])]
    book = session.get_orderbook(category="linear", symbol="BTCUSDT", limit=5)["result"]
    assert [(D(p), D(q)) for p, q in book["b"]] == linear.book.bids[:5]
    assert book["u"] == venue.dialect.book_u["linear:BTCUSDT"]


def test_wallet_positions_and_leverage(venue: EmulatedVenue) -> None:
    session = sdk(venue)
    wallet = session.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    coins = {c["coin"]: c for c in wallet["coin"]}
    for coin in ("USDT", "BTC", "ETH"):
        free, locked = venue.engine.balance("demo", coin)
        assert D(coins[coin]["walletBalance"]) == free + locked
    empty = session.get_positions(category="inverse", symbol="BTCUSD")["result"]["list"][0]
    assert (empty["side"], empty["size"], empty["leverage"]) == ("", "0", "10")
    assert session.set_leverage(category="inverse", symbol="BTCUSD", buyLeverage="20", sellLeverage="20")["retCode"] == 0
    with pytest.raises(InvalidRequestError) as not_modified:
        session.set_leverage(category="inverse", symbol="BTCUSD", buyLeverage="20", sellLeverage="20")
    assert not_modified.value.status_code == 110043
    placed = session.place_order(category="inverse", symbol="BTCUSD", side="Sell", orderType="Market", qty="500",
                                 orderLinkId="sdk-inv-1")["result"]
    position = session.get_positions(category="inverse", symbol="BTCUSD")["result"]["list"][0]
    engine_position = venue.engine.position("demo", "inverse:BTCUSD")
    assert (position["side"], D(position["size"]), D(position["leverage"])) == ("Sell", D(500), D(20))
    assert D(position["avgPrice"]) == engine_position.entry_price
    assert D(position["positionIM"]) == engine_position.margin
    assert placed["orderLinkId"] == "sdk-inv-1"
    listed = session.get_positions(category="inverse")["result"]["list"]  # inverse: every open position
    assert [p["symbol"] for p in listed] == ["BTCUSD"]


def test_order_lifecycle_and_executions(venue: EmulatedVenue) -> None:
    session = sdk(venue)
    engine = venue.engine
    mid = engine.symbols["linear:ETHUSDT"].mid
    price = f"{(mid * D('0.8')).quantize(D('0.01'))}"
    created = session.place_order(category="linear", symbol="ETHUSDT", side="Buy", orderType="Limit", qty="0.5",
                                  price=price, timeInForce="GTC", orderLinkId="sdk-lim-1")["result"]
    open_orders = session.get_open_orders(category="linear", symbol="ETHUSDT")["result"]["list"]
    assert [(o["orderId"], o["orderStatus"], o["orderLinkId"]) for o in open_orders] == \
        [(created["orderId"], "New", "sdk-lim-1")]
    assert (open_orders[0]["price"], open_orders[0]["qty"]) == (price, "0.50")
    cancelled = session.cancel_order(category="linear", symbol="ETHUSDT", orderLinkId="sdk-lim-1")["result"]
    assert cancelled == {"orderId": created["orderId"], "orderLinkId": "sdk-lim-1"}
    assert session.get_open_orders(category="linear", symbol="ETHUSDT")["result"]["list"] == []
    by_id = session.get_open_orders(category="linear", orderId=created["orderId"])["result"]["list"]
    assert by_id[0]["orderStatus"] == "Cancelled"  # recently closed orders are found by id
    market = session.place_order(category="linear", symbol="ETHUSDT", side="Buy", orderType="Market", qty="30",
                                 orderLinkId="sdk-mkt-1")["result"]  # more than one synthetic level
    history = session.get_order_history(category="linear", symbol="ETHUSDT")["result"]["list"]
    statuses = {o["orderLinkId"]: o["orderStatus"] for o in history}
    assert statuses == {"sdk-lim-1": "Cancelled", "sdk-mkt-1": "Filled"}
    executions = session.get_executions(category="linear", symbol="ETHUSDT")["result"]["list"]
    order = next(o for o in engine.all_orders() if o.client_order_id == "sdk-mkt-1")
    logged = [f for f in engine.fill_log if f.symbol == order.symbol and f.order_id == order.order_id]
    assert len(logged) >= 2 and all(e["orderId"] == market["orderId"] for e in executions)
    assert sorted((D(e["execPrice"]), D(e["execQty"]), D(e["execFee"])) for e in executions) == \
        sorted((f.price, f.quantity, f.fee) for f in logged)
    assert {e["execType"] for e in executions} == {"Trade"} and not any(e["isMaker"] for e in executions)
    spot = session.place_order(category="spot", symbol="BTCUSDT", side="Buy", orderType="Market", qty="100")["result"]
    spot_order = session.get_order_history(category="spot", orderId=spot["orderId"])["result"]["list"][0]
    assert (spot_order["marketUnit"], spot_order["qty"], spot_order["orderStatus"]) == ("quoteCoin", "100", "Filled")
    assert D(spot_order["cumExecValue"]) <= 100


def test_the_sdk_raises_the_venue_errors(venue: EmulatedVenue) -> None:
    session = sdk(venue)
    expectations = [
        (lambda: sdk(venue, secret="0" * 36).get_wallet_balance(accountType="UNIFIED"), 10004),
        (lambda: session.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market",
                                     qty="5000"), 10001),  # above maxOrderQty
        (lambda: session.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market",
                                     qty="900"), 110007),  # ~58M USDT notional: not enough margin
        (lambda: session.place_order(category="spot", symbol="BTCUSDT", side="Sell", orderType="Limit", qty="50",
                                     price="70000"), 170131),
        (lambda: session.place_order(category="linear", symbol="BTCUSDT", side="Sell", orderType="Market",
                                     qty="0.001", reduceOnly=True), 110017),
        (lambda: session.cancel_order(category="linear", symbol="BTCUSDT", orderId="nope"), 110001),
        (lambda: session.cancel_order(category="spot", symbol="BTCUSDT", orderId="1"), 170213),
    ]
    for call, code in expectations:
        with pytest.raises(InvalidRequestError) as raised:
            call()
        assert raised.value.status_code == code, raised.value.message
    session.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.001",
                        orderLinkId="sdk-dup")
    with pytest.raises(InvalidRequestError) as duplicate:
        session.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.001",
                            orderLinkId="sdk-dup")
    assert (duplicate.value.status_code, duplicate.value.message) == (110072, "OrderLinkedID is duplicate")
