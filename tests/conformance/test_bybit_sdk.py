"""The official pybit client (pybit.unified_trading.HTTP and .WebSocket), driven against our Bybit emulator.

pybit builds its own requests (paths, sorted query strings, JSON bodies, signatures) and raises on any
non-zero retCode, so every accepted call proves the emulator understands the real SDK; every answer is
then compared with the engine's own records. For REST only the session's base URL (``endpoint``) is
changed. pybit's WebSocket builds its URL from the module constants ``PUBLIC_WSS`` / ``PRIVATE_WSS``
(``wss://{SUBDOMAIN}.{DOMAIN}.com/v5/...``, no documented override), so the tests monkeypatch those two
constants to the emulator's URL and change nothing else: pybit's own auth, subscriptions, snapshot/delta
handling and pings (protocol pings plus its ``{"op": "ping"}``, whose pong it must recognise) run as shipped.
The SDK is synchronous: the emulator runs in a thread with its own trio loop on the real clock, prices
frozen (a tick an hour) so that what pybit reads can be compared with the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

pybit = pytest.importorskip("pybit", reason="pybit is a dev dependency (requirements/dev.lock)")
from pybit import _websocket_stream, unified_trading  # noqa: E402
from pybit.exceptions import InvalidRequestError  # noqa: E402
from pybit.unified_trading import HTTP, WebSocket  # noqa: E402

from emulators import EmulatedVenue  # noqa: E402
from tests.support.threaded import emulator_thread  # noqa: E402

D = Decimal


@pytest.fixture(scope="module")
def venue() -> Iterator[EmulatedVenue]:
    with emulator_thread("bybit", seed=44, tick_interval=3600) as emulated:
        yield emulated


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


def wait_for(condition: Callable[[], Any], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the stream"
        time.sleep(0.02)


OpenSocket = Callable[..., WebSocket]


@pytest.fixture
def pybit_ws(venue: EmulatedVenue, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[OpenSocket, list[dict[str, Any]]]]:
    """Opens pybit WebSockets on the emulator (its two URL constants patched); yields the opener and the custom
    pongs pybit recognised (its `_is_custom_pong`, spied on)."""
    monkeypatch.setattr(unified_trading, "PUBLIC_WSS", f"{venue.ws_url}/v5/public/{{CHANNEL_TYPE}}")
    monkeypatch.setattr(unified_trading, "PRIVATE_WSS", f"{venue.ws_url}/v5/private")
    pongs: list[dict[str, Any]] = []
    recognise = _websocket_stream._WebSocketManager._is_custom_pong

    def spy(message: dict[str, Any]) -> bool | None:
        found = recognise(message)
        if found:
            pongs.append(message)
        return found

    monkeypatch.setattr(_websocket_stream._WebSocketManager, "_is_custom_pong", staticmethod(spy))
    opened: list[WebSocket] = []

    def open_socket(channel_type: str, **kwargs: Any) -> WebSocket:
        # pings every second so pybit's own ping runs within the test; no pong deadline (websocket-client's
        # ping_timeout), which a loaded machine can miss and pybit then deadlocks closing from its own thread
        socket = WebSocket(channel_type=channel_type, testnet=False, ping_interval=1, ping_timeout=None,
                           restart_on_error=False, **kwargs)
        opened.append(socket)
        return socket

    yield open_socket, pongs
    for socket in opened:
        socket.exit()


def test_pybit_public_streams_equal_the_engine(venue: EmulatedVenue,
                                               pybit_ws: tuple[OpenSocket, list[dict[str, Any]]]) -> None:
    open_socket, _ = pybit_ws
    for category in ("spot", "linear"):
        socket = open_socket(category)
        tickers: list[dict[str, Any]] = []
        books: list[dict[str, Any]] = []
        socket.ticker_stream(symbol="BTCUSDT", callback=tickers.append)
        socket.orderbook_stream(depth=50, symbol=["BTCUSDT", "ETHUSDT"], callback=books.append)
        wait_for(partial(lambda t, b: t and {m["data"]["s"] for m in b} == {"BTCUSDT", "ETHUSDT"}, tickers, books))
        state = venue.engine.symbols[f"{category}:BTCUSDT"]
        ticker = tickers[0]["data"]
        last = state.trades[-1].price if state.trades else state.mid
        assert (ticker["symbol"], D(ticker["lastPrice"])) == ("BTCUSDT", last)
        assert (D(ticker["highPrice24h"]), D(ticker["lowPrice24h"])) == (state.high_24h, state.low_24h)
        if category == "linear":
            assert (D(ticker["markPrice"]), D(ticker["bid1Price"])) == (state.mid, state.book.bids[0][0])
        for message in books:  # pybit's own book, rebuilt from our snapshot
            book = message["data"]
            engine = venue.engine.symbols[f"{category}:{book['s']}"].book
            assert [(D(p), D(q)) for p, q in book["b"]] == [level for level in engine.bids if level[1] > 0][:50]
            assert [(D(p), D(q)) for p, q in book["a"]] == [level for level in engine.asks if level[1] > 0][:50]
            assert book["u"] == venue.dialect.book_u[f"{category}:{book['s']}"]


def test_pybit_private_streams_report_what_the_engine_records(
        venue: EmulatedVenue, pybit_ws: tuple[OpenSocket, list[dict[str, Any]]]) -> None:
    open_socket, pongs = pybit_ws
    socket = open_socket("private", api_key=venue.api_key, api_secret=venue.api_secret)
    events: dict[str, list[dict[str, Any]]] = {"order": [], "execution": [], "position": [], "wallet": []}
    socket.order_stream(callback=events["order"].append)
    socket.execution_stream(callback=events["execution"].append)
    socket.position_stream(callback=events["position"].append)
    socket.wallet_stream(callback=events["wallet"].append)
    wait_for(lambda: any(c.topics == set(events) for c in venue.dialect.hub.private("demo")))
    placed = sdk(venue).place_order(category="linear", symbol="ETHUSDT", side="Sell", orderType="Market", qty="25",
                                    orderLinkId="pybit-ws-1")["result"]  # two synthetic levels: two executions
    order = next(o for o in venue.engine.all_orders() if o.client_order_id == "pybit-ws-1")
    fills = [f for f in venue.engine.fill_log if f.symbol == order.symbol and f.order_id == order.order_id]

    def rows(topic: str) -> list[dict[str, Any]]:
        return [row for message in events[topic] for row in message["data"]]

    wait_for(lambda: len(rows("execution")) == len(fills) and any(o["orderStatus"] == "Filled" for o in rows("order"))
             and rows("position") and rows("wallet"))
    assert len(fills) >= 2 and {o["orderId"] for o in rows("order")} == {placed["orderId"]}
    assert [(D(e["execPrice"]), D(e["execQty"]), D(e["execFee"])) for e in rows("execution")] == \
        [(f.price, f.quantity, f.fee) for f in fills]
    final = next(o for o in rows("order") if o["orderStatus"] == "Filled")
    assert (D(final["cumExecQty"]), final["orderLinkId"], final["category"]) == (order.filled, "pybit-ws-1", "linear")
    position, engine_position = rows("position")[-1], venue.engine.position("demo", "linear:ETHUSDT")
    side = {"BUY": "Buy", "SELL": "Sell", "": ""}[engine_position.side]
    assert (position["symbol"], position["side"], D(position["size"])) == ("ETHUSDT", side, abs(engine_position.size))
    assert D(position["entryPrice"]) == engine_position.entry_price.quantize(D("1e-12"))
    usdt = next(c for c in rows("wallet")[-1]["coin"] if c["coin"] == "USDT")
    free, locked = venue.engine.balance("demo", "USDT")
    assert D(usdt["walletBalance"]) == free + locked
    wait_for(lambda: pongs)  # pybit pinged ({"op": "ping"} after each protocol pong) and knew our pong
    assert {(p["op"], "args" in p) for p in pongs} == {("pong", True)} and socket.is_connected()
