"""BinanceBroker's REST side against a scripted venue (httpx MockTransport): what it sends (paths,
parameters, signing, weights), what it refuses before sending, and how answers map to protocol types."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import attrs
import httpx
import pytest
import trio

from brokers.binance.client import BinanceBroker
from brokers.binance.constants import MAINNET, TESTNET
from protocol import errors as e
from protocol.model import (
    MarketType,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from tests.unit.binance import samples as doc

BTCUSDT = doc.symbol_like("BTC", "USDT", filters=[
    {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
    {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
    {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True, "maxNotional": "9000000.00000000",
     "applyMaxToMarket": False, "avgPriceMins": 5},
])


@attrs.define
class Sent:
    method: str
    path: str
    params: dict[str, str]
    headers: httpx.Headers


@attrs.define
class Venue:
    """Answers by (method, path); records every request with its decoded parameters."""

    routes: dict[tuple[str, str], Callable[[Sent], Any]] = attrs.field(factory=dict)
    sent: list[Sent] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.routes.update({
            ("GET", "/api/v3/time"): lambda r: {"serverTime": int(time.time() * 1000) + 2500},
            ("GET", "/api/v3/exchangeInfo"): lambda r: doc.exchange_info(doc.ETHBTC, BTCUSDT),
            ("GET", "/api/v3/account"): lambda r: doc.ACCOUNT,
        })

    def __call__(self, request: httpx.Request) -> httpx.Response:
        sent = Sent(request.method, request.url.path, dict(parse_qsl(request.url.query.decode())), request.headers)
        self.sent.append(sent)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json={"code": -1, "msg": "no route"})
        answer = route(sent)
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    def calls(self, path: str) -> list[Sent]:
        return [s for s in self.sent if s.path == path]


async def connected(venue: Venue, **options: str) -> BinanceBroker:
    broker = doc.broker_on(venue, options=options or None)
    await broker.connect()
    venue.sent.clear()
    return broker


def order_answer(r: Sent, **changes: Any) -> dict[str, Any]:
    return {**doc.ORDER_QUERY, "symbol": r.params["symbol"], "orderId": 9001,
            "clientOrderId": r.params.get("newClientOrderId", "x"), "side": r.params.get("side", "BUY"),
            "type": r.params.get("type", "LIMIT"), "origQty": r.params.get("quantity", "1"),
            "price": r.params.get("price", "0"), **changes}


def request(**changes: Any) -> OrderRequest:
    fields: dict[str, Any] = {"venue": "binance", "symbol": "BTC/USDT", "side": Side.BUY, "type": OrderType.LIMIT,
                              "quantity": Decimal("0.00100000"), "price": Decimal("65000.10"),
                              "client_order_id": "at0123456789abcdef01234567"}
    return OrderRequest(**(fields | changes))


# ------------------------------------------------------------------------------ connect


async def test_connect_syncs_the_clock_loads_instruments_and_proves_the_key() -> None:
    venue = Venue()
    broker = doc.broker_on(venue, recv_window_ms=6000)
    await broker.connect()
    assert [s.path for s in venue.sent] == ["/api/v3/time", "/api/v3/exchangeInfo", "/api/v3/account"]
    assert broker.is_connected and 2000 <= broker.clock_offset_ms <= 3000
    assert [i.symbol for i in broker.instruments()] == ["BTC/USDT", "ETH/BTC"]
    btc = broker.instrument("BTC/USDT")
    assert (btc.venue_symbol, btc.market_type, btc.tick_size, btc.lot_size, btc.min_notional) == (
        "BTCUSDT", MarketType.SPOT, Decimal("0.01"), Decimal("0.00001"), Decimal(5))
    account = venue.sent[-1]
    assert account.headers["x-mbx-apikey"] == doc.DOC_API_KEY and account.params["recvWindow"] == "6000"
    assert list(account.params)[-1] == "signature" and len(account.params["signature"]) == 64
    assert "X-MBX-APIKEY" not in venue.sent[0].headers  # public calls carry no key
    with pytest.raises(e.InvalidOrder) as unknown:
        broker.instrument("DOGE/EUR")
    assert unknown.value.filter == "SYMBOL"
    await broker.disconnect()
    assert not broker.is_connected


async def test_bad_keys_fail_connect_typed() -> None:
    venue = Venue()
    venue.routes[("GET", "/api/v3/account")] = lambda r: httpx.Response(
        401, json={"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
    broker = doc.broker_on(venue)
    with pytest.raises(e.AuthenticationError):
        await broker.connect()
    assert not broker.is_connected


def test_default_endpoints_are_the_published_ones() -> None:
    assert MAINNET == ("https://api.binance.com", "wss://stream.binance.com:9443")
    assert TESTNET == ("https://testnet.binance.vision", "wss://stream.testnet.binance.vision")


# ------------------------------------------------------------------------------ orders


async def test_a_limit_order_is_sent_as_binance_wants_it() -> None:
    venue = Venue()
    venue.routes[("POST", "/api/v3/order")] = lambda r: order_answer(r, status="NEW")
    broker = await connected(venue)
    order = await broker.place_order(request())
    [sent] = venue.calls("/api/v3/order")
    assert sent.method == "POST"
    assert {k: v for k, v in sent.params.items() if k not in ("timestamp", "signature")} == {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "65000.1",
        "timeInForce": "GTC", "newClientOrderId": "at0123456789abcdef01234567", "newOrderRespType": "FULL",
        "recvWindow": "5000"}
    assert order.symbol == "BTC/USDT" and order.order_id == "9001" and order.status is OrderStatus.NEW
    assert order.client_order_id == "at0123456789abcdef01234567"
    assert broker.rest.limiter.usage()["orders-10s"] == 1  # the order counted against the order windows


@pytest.mark.parametrize(("changes", "expected", "absent"), [
    ({"type": OrderType.MARKET, "price": None}, {"type": "MARKET"}, {"price", "timeInForce"}),
    ({"time_in_force": TimeInForce.POST_ONLY}, {"type": "LIMIT_MAKER", "price": "65000.1"}, {"timeInForce"}),
    ({"time_in_force": TimeInForce.IOC}, {"type": "LIMIT", "timeInForce": "IOC"}, set()),
    ({"time_in_force": TimeInForce.FOK, "side": Side.SELL}, {"timeInForce": "FOK", "side": "SELL"}, set()),
    ({"type": OrderType.STOP_LIMIT, "stop_price": Decimal("64000.00")},
     {"type": "STOP_LOSS_LIMIT", "stopPrice": "64000", "price": "65000.1", "timeInForce": "GTC"}, set()),
    ({"type": OrderType.STOP_MARKET, "price": None, "stop_price": Decimal("64000")},
     {"type": "STOP_LOSS", "stopPrice": "64000"}, {"price", "timeInForce"}),
])
async def test_order_types_and_time_in_force_map(changes: dict[str, Any], expected: dict[str, str],
                                                 absent: set[str]) -> None:
    venue = Venue()
    venue.routes[("POST", "/api/v3/order")] = lambda r: order_answer(r)
    broker = await connected(venue)
    await broker.place_order(request(**changes))
    [sent] = venue.calls("/api/v3/order")
    assert expected.items() <= sent.params.items() and not absent & set(sent.params)


@pytest.mark.parametrize(("changes", "filter_name"), [
    ({"quantity": Decimal("0.000015")}, {"LOT_SIZE"}),  # not a multiple of the step
    ({"quantity": Decimal("9000.00001")}, {"LOT_SIZE"}),  # above maxQty
    ({"quantity": Decimal("0.000001")}, {"LOT_SIZE", "MIN_QTY"}),  # below minQty
    ({"quantity": Decimal("0")}, {"LOT_SIZE", "MIN_QTY"}),
    ({"price": Decimal("65000.105")}, {"PRICE_FILTER"}),  # off the tick
    ({"price": Decimal("0")}, {"PRICE_FILTER"}),
    ({"quantity": Decimal("0.00001"), "price": Decimal("100")}, {"NOTIONAL"}),  # 0.001 USDT < 5
    ({"type": OrderType.LIMIT, "price": None}, {"PRICE_FILTER"}),  # a limit order without a price
    ({"symbol": "DOGE/EUR"}, {"SYMBOL"}),
])
async def test_filters_are_checked_before_anything_is_sent(changes: dict[str, Any], filter_name: set[str]) -> None:
    venue = Venue()
    broker = await connected(venue)
    with pytest.raises(e.InvalidOrder) as refused:
        await broker.place_order(request(**changes))
    assert refused.value.filter in filter_name and refused.value.venue == "binance"
    assert venue.sent == []  # refused locally: no round trip, no order-count spent


@pytest.mark.parametrize("changes", [{"time_in_force": TimeInForce.DAY}, {"reduce_only": True}])
async def test_what_spot_cannot_do_is_not_supported(changes: dict[str, Any]) -> None:
    venue = Venue()
    broker = await connected(venue)
    with pytest.raises(e.NotSupported):
        await broker.place_order(request(**changes))
    assert venue.sent == []


async def test_a_time_in_force_on_a_market_order_is_refused_not_dropped() -> None:
    venue = Venue()
    broker = await connected(venue)
    with pytest.raises(e.NotSupported) as refused:  # Binance MARKET takes no timeInForce: it used to vanish
        await broker.place_order(request(type=OrderType.MARKET, price=None, time_in_force=TimeInForce.IOC))
    assert "time in force" in refused.value.message and refused.value.client_order_id is not None
    assert venue.sent == []


async def test_venue_rejections_come_back_typed() -> None:
    venue = Venue()
    venue.routes[("POST", "/api/v3/order")] = lambda r: httpx.Response(
        400, json={"code": -2010, "msg": "Duplicate order sent."})
    broker = await connected(venue)
    with pytest.raises(e.DuplicateOrder):
        await broker.place_order(request())
    assert len(venue.calls("/api/v3/order")) == 1  # a write is never resent blindly


async def test_cancel_and_status_address_the_order_by_either_id() -> None:
    venue = Venue()
    venue.routes[("DELETE", "/api/v3/order")] = lambda r: {**doc.ORDER_CANCELED, "symbol": "BTCUSDT"}
    venue.routes[("GET", "/api/v3/order")] = lambda r: order_answer(r, status="PARTIALLY_FILLED",
                                                                    executedQty="0.4", cummulativeQuoteQty="0.04")
    broker = await connected(venue)
    canceled = await broker.cancel_order("BTC/USDT", client_order_id="myOrder1")
    assert canceled.status is OrderStatus.CANCELED and canceled.client_order_id == "myOrder1"
    status = await broker.get_order_status("BTC/USDT", order_id="9001")
    assert status.status is OrderStatus.PARTIALLY_FILLED and status.average_price == Decimal("0.1")
    delete, get = venue.calls("/api/v3/order")
    assert delete.method == "DELETE" and delete.params["origClientOrderId"] == "myOrder1"
    assert get.method == "GET" and get.params["orderId"] == "9001" and "origClientOrderId" not in get.params
    with pytest.raises(e.InvalidOrder):
        await broker.get_order_status("BTC/USDT")


async def test_unknown_orders_are_order_not_found() -> None:
    venue = Venue()
    venue.routes[("GET", "/api/v3/order")] = lambda r: httpx.Response(
        400, json={"code": -2013, "msg": "Order does not exist."})
    broker = await connected(venue)
    with pytest.raises(e.OrderNotFound):
        await broker.get_order_status("BTC/USDT", client_order_id="nope")


async def test_open_and_historical_orders() -> None:
    venue = Venue()
    venue.routes[("GET", "/api/v3/openOrders")] = lambda r: [
        order_answer(Sent("GET", "", {"symbol": "BTCUSDT"}, httpx.Headers()))]
    venue.routes[("GET", "/api/v3/allOrders")] = lambda r: [order_answer(r, status="FILLED")]
    broker = await connected(venue)
    assert [o.status for o in await broker.get_orders()] == [OrderStatus.NEW]
    assert "symbol" not in venue.calls("/api/v3/openOrders")[0].params
    assert [o.status for o in await broker.get_orders("BTC/USDT", open_only=False)] == [OrderStatus.FILLED]
    with pytest.raises(e.NotSupported):
        await broker.get_orders(None, open_only=False)


# ------------------------------------------------------------------------------ fills and positions


def trade(n: int, *, order_id: int = 100, buyer: bool = True, price: str = "60000", qty: str = "0.1",
          fee: str = "0", fee_asset: str = "BNB") -> dict[str, Any]:
    return {**doc.MY_TRADE, "symbol": "BTCUSDT", "id": n, "orderId": order_id, "price": price, "qty": qty,
            "quoteQty": str(Decimal(price) * Decimal(qty)), "commission": fee, "commissionAsset": fee_asset,
            "time": 1700000000000 + n, "isBuyer": buyer, "isMaker": n % 2 == 0}


def trade_log(venue: Venue, count: int) -> None:
    history = [trade(n, order_id=100 + n % 2) for n in range(1, count + 1)]

    def my_trades(r: Sent) -> list[dict[str, Any]]:
        limit = min(int(r.params.get("limit", "500")), 1000)
        if "fromId" in r.params:
            rows = [t for t in history if t["id"] >= int(r.params["fromId"])]
        elif "startTime" in r.params:
            rows = [t for t in history if t["time"] >= int(r.params["startTime"])]
        else:
            rows = history[-limit:]
        return rows[:limit]

    venue.routes[("GET", "/api/v3/myTrades")] = my_trades
    venue.routes[("GET", "/api/v3/allOrders")] = lambda r: [
        {**doc.ORDER_QUERY, "symbol": "BTCUSDT", "orderId": 100, "clientOrderId": "even"},
        {**doc.ORDER_QUERY, "symbol": "BTCUSDT", "orderId": 101, "clientOrderId": "odd"}]


async def test_fills_since_a_time_come_oldest_first_with_client_ids() -> None:
    venue = Venue()
    trade_log(venue, 7)
    broker = await connected(venue)
    fills = await broker.get_fills("BTC/USDT", since=datetime.fromtimestamp(1700000000.002, UTC), limit=3)
    assert [f.trade_id for f in fills] == ["2", "3", "4"]
    assert [f.client_order_id for f in fills] == ["even", "odd", "even"]  # myTrades has none: looked up
    assert [f.is_maker for f in fills] == [True, False, True]
    assert all(f.symbol == "BTC/USDT" and f.fee_currency == "BNB" and f.timestamp.tzinfo is UTC for f in fills)
    first = venue.calls("/api/v3/myTrades")[0]
    assert first.params["startTime"] == "1700000000002" and first.params["symbol"] == "BTCUSDT"


async def test_fills_beyond_one_page_are_paged_by_trade_id() -> None:
    venue = Venue()
    trade_log(venue, 1200)
    broker = await connected(venue)
    fills = await broker.get_fills("BTC/USDT", since=datetime.fromtimestamp(1700000000, UTC), limit=5000)
    assert [int(f.trade_id) for f in fills] == list(range(1, 1201))
    pages = venue.calls("/api/v3/myTrades")
    assert len(pages) == 2 and pages[1].params["fromId"] == "1001" and "startTime" not in pages[1].params


async def test_fills_respect_the_limit_across_pages() -> None:
    venue = Venue()
    trade_log(venue, 2500)
    broker = await connected(venue)
    fills = await broker.get_fills("BTC/USDT", since=datetime.fromtimestamp(1700000000, UTC), limit=1500)
    assert len(fills) == 1500


async def test_spot_positions_are_holdings_marked_to_market() -> None:
    venue = Venue()
    venue.routes[("GET", "/api/v3/account")] = lambda r: {**doc.ACCOUNT, "balances": [
        {"asset": "BTC", "free": "0.15", "locked": "0.05"}, {"asset": "USDT", "free": "1000", "locked": "0"},
        {"asset": "ETH", "free": "3", "locked": "0"}]}
    venue.routes[("GET", "/api/v3/ticker/24hr")] = lambda r: {
        "symbol": "BTCUSDT", "lastPrice": "65000.00", "bidPrice": "64999.99", "bidQty": "1", "askPrice": "65000.01",
        "askQty": "2", "closeTime": 1700000100000}
    venue.routes[("GET", "/api/v3/myTrades")] = lambda r: [trade(1, price="60000", qty="0.1"),
                                                           trade(2, price="62000", qty="0.1")]
    venue.routes[("GET", "/api/v3/allOrders")] = lambda r: [{**doc.ORDER_QUERY, "symbol": "BTCUSDT",
                                                              "orderId": 100, "clientOrderId": "c"}]
    broker = await connected(venue)  # default quote asset USDT: ETH (quoted in BTC here) is not a position
    [btc] = await broker.get_positions()
    assert (btc.symbol, btc.side, btc.quantity, btc.market_type) == ("BTC/USDT", PositionSide.LONG, Decimal("0.2"),
                                                                     MarketType.SPOT)
    assert btc.mark_price == Decimal("65000.00") and btc.entry_price == Decimal("61000")
    assert btc.unrealized_pnl == (Decimal("65000") - Decimal("61000")) * Decimal("0.2")
    assert btc.leverage == 1
    assert (await broker.get_position("BTC/USDT")).quantity == Decimal("0.2")


async def test_no_holding_is_a_flat_position() -> None:
    venue = Venue()
    venue.routes[("GET", "/api/v3/account")] = lambda r: {**doc.ACCOUNT, "balances": []}
    broker = await connected(venue)
    assert await broker.get_positions() == []
    flat = await broker.get_position("BTC/USDT")
    assert flat.side is PositionSide.FLAT and flat.quantity == 0


async def test_leverage_is_not_supported_on_spot() -> None:
    broker = await connected(Venue())
    with pytest.raises(e.NotSupported):
        await broker.get_leverage_info("BTC/USDT")
    with pytest.raises(e.NotSupported):
        await broker.set_leverage("BTC/USDT", Decimal(3))


# ------------------------------------------------------------------------------ account and market data


async def test_balances_and_account_info() -> None:
    venue = Venue()
    broker = await connected(venue)
    balances = await broker.get_balances()
    assert [(b.currency, b.free, b.locked) for b in balances] == [
        ("BTC", Decimal("4723846.89208129"), Decimal(0)), ("LTC", Decimal("4763368.68006011"), Decimal(0))]
    missing = await broker.get_balance("DOGE")
    assert missing.free == 0 and missing.locked == 0 and missing.currency == "DOGE"
    info = await broker.get_account_info()
    assert info.can_trade and info.account_type == "SPOT" and info.maker_fee_rate == Decimal("0.0015")
    assert venue.calls("/api/v3/account")[0].params["omitZeroBalances"] == "true"


async def test_ticker_and_candles() -> None:
    venue = Venue()
    venue.routes[("GET", "/api/v3/ticker/24hr")] = lambda r: {
        "symbol": "BTCUSDT", "lastPrice": "65000.10", "bidPrice": "65000.00", "bidQty": "1.5", "askPrice": "65000.20",
        "askQty": "2", "closeTime": 1700000100000}
    venue.routes[("GET", "/api/v3/klines")] = lambda r: [doc.KLINE_ROW]
    broker = await connected(venue)
    ticker = await broker.get_ticker("BTC/USDT")
    assert (ticker.last, ticker.bid, ticker.ask, ticker.bid_size) == (Decimal("65000.10"), Decimal("65000.00"),
                                                                      Decimal("65000.20"), Decimal("1.5"))
    [candle] = await broker.get_candles("BTC/USDT", "1h", 5000)
    sent = venue.calls("/api/v3/klines")[0]
    assert sent.params == {"symbol": "BTCUSDT", "interval": "1h", "limit": "1000"}  # capped at Binance's max
    assert candle.open == Decimal("0.01634790") and candle.close == Decimal("0.01577100") and candle.closed
    assert candle.open_time == datetime(2017, 7, 3, tzinfo=UTC)
    with pytest.raises(e.InvalidOrder):
        await broker.get_candles("BTC/USDT", "7m", 10)


async def test_request_weights_are_declared_per_endpoint(autojump_clock: trio.abc.Clock) -> None:
    venue = Venue()
    venue.routes[("GET", "/api/v3/order")] = lambda r: order_answer(r)
    venue.routes[("GET", "/api/v3/openOrders")] = lambda r: []
    broker = await connected(venue)
    limiter = broker.rest.limiter
    before = limiter.usage()["weight-1m"]
    await broker.get_order_status("BTC/USDT", order_id="1")
    assert limiter.usage()["weight-1m"] - before == 4
    await broker.get_orders()  # openOrders for every symbol
    assert limiter.usage()["weight-1m"] - before == 4 + 80
    await broker.get_orders("BTC/USDT")
    assert limiter.usage()["weight-1m"] - before == 4 + 80 + 6


async def test_the_used_weight_header_feeds_the_limiter() -> None:
    venue = Venue()
    venue.routes[("GET", "/api/v3/ticker/24hr")] = lambda r: httpx.Response(200, headers={
        "X-MBX-USED-WEIGHT-1M": "4321"}, json={"symbol": "BTCUSDT", "lastPrice": "1", "bidPrice": "1", "bidQty": "1",
                                                "askPrice": "1", "askQty": "1", "closeTime": 1})
    broker = await connected(venue)
    await broker.get_ticker("BTC/USDT")
    assert broker.rest.limiter.usage()["weight-1m"] == 4321
