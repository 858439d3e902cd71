"""What the Binance emulator serves, checked against Binance's documentation kept here as data.

``DOCUMENTED_*`` list the spot REST endpoints, wallet (``/sapi``) reads, market stream names and WebSocket
API methods as the docs give them (binance-spot-api-docs and the wallet docs, changelog read to
``DOCS_DATE``). A served name missing from them fails (the emulator would be inventing API); a documented
one that python-binance or ccxt call when they start, or that their user-data and order paths use, missing
from what is served fails too (those clients could not start against the emulator).
"""

from __future__ import annotations

import re

from emulators import emulate
from emulators.binance import routes, ws, wsapi

DOCS_DATE = "2026-09-18"  # the spot API changelog's last entry read

DOCUMENTED_REST = {
    ("GET", p) for p in (
        "/api/v3/ping", "/api/v3/time", "/api/v3/exchangeInfo", "/api/v3/depth", "/api/v3/trades",
        "/api/v3/historicalTrades", "/api/v3/aggTrades", "/api/v3/klines", "/api/v3/uiKlines", "/api/v3/avgPrice",
        "/api/v3/ticker/24hr", "/api/v3/ticker/tradingDay", "/api/v3/ticker/price", "/api/v3/ticker/bookTicker",
        "/api/v3/ticker", "/api/v3/order", "/api/v3/openOrders", "/api/v3/allOrders", "/api/v3/orderList",
        "/api/v3/allOrderList", "/api/v3/openOrderList", "/api/v3/account", "/api/v3/myTrades",
        "/api/v3/rateLimit/order", "/api/v3/myPreventedMatches", "/api/v3/myAllocations",
        "/api/v3/account/commission", "/api/v3/order/amendments", "/api/v3/myFilters",
        # wallet reads (wallet docs)
        "/sapi/v1/system/status", "/sapi/v1/capital/config/getall", "/sapi/v1/asset/tradeFee",
        "/sapi/v1/account/status", "/sapi/v1/account/apiTradingStatus", "/sapi/v1/account/apiRestrictions",
        "/sapi/v1/account/info")
} | {
    ("POST", "/api/v3/order"), ("POST", "/api/v3/order/test"), ("POST", "/api/v3/order/cancelReplace"),
    ("PUT", "/api/v3/order/amend/keepPriority"), ("DELETE", "/api/v3/order"), ("DELETE", "/api/v3/openOrders"),
    ("POST", "/api/v3/orderList/oco"), ("POST", "/api/v3/orderList/oto"), ("POST", "/api/v3/orderList/otoco"),
    ("POST", "/api/v3/orderList/opo"), ("POST", "/api/v3/orderList/opoco"), ("DELETE", "/api/v3/orderList"),
    ("POST", "/api/v3/sor/order"), ("POST", "/api/v3/sor/order/test"), ("POST", "/sapi/v3/asset/getUserAsset"),
    # retired on 2026-02-20 (changelog 2026-01-21): still in the route table, answered 410 Gone
    ("POST", "/api/v3/userDataStream"), ("PUT", "/api/v3/userDataStream"), ("DELETE", "/api/v3/userDataStream"),
}
RETIRED_REST = {("POST", "/api/v3/userDataStream"), ("PUT", "/api/v3/userDataStream"),
                ("DELETE", "/api/v3/userDataStream")}

# What widely used clients call when they start and trade spot: python-binance (Client/AsyncClient.create:
# ping, time; get_symbol_info: exchangeInfo; get_account; order calls) and ccxt's binance (load_markets for
# spot: exchangeInfo; fetchCurrencies with keys: capital/config/getall; fetchTradingFees: asset/tradeFee;
# fetchBalance: account; fetchTime; fetchStatus: system/status; fetchOrderBook, fetchOHLCV, fetchTrades).
START_UP_REST = {
    ("GET", "/api/v3/ping"), ("GET", "/api/v3/time"), ("GET", "/api/v3/exchangeInfo"), ("GET", "/api/v3/account"),
    ("GET", "/api/v3/depth"), ("GET", "/api/v3/klines"), ("GET", "/api/v3/trades"), ("GET", "/api/v3/aggTrades"),
    ("GET", "/api/v3/ticker/24hr"), ("GET", "/api/v3/ticker/price"), ("GET", "/api/v3/ticker/bookTicker"),
    ("POST", "/api/v3/order"), ("DELETE", "/api/v3/order"), ("GET", "/api/v3/order"), ("GET", "/api/v3/openOrders"),
    ("GET", "/api/v3/allOrders"), ("GET", "/api/v3/myTrades"), ("GET", "/sapi/v1/capital/config/getall"),
    ("GET", "/sapi/v1/asset/tradeFee"), ("GET", "/sapi/v1/system/status"), ("GET", "/api/v3/account/commission"),
    ("GET", "/sapi/v1/account/status"), ("GET", "/api/v3/rateLimit/order"), ("GET", "/api/v3/historicalTrades"),
}

# web-socket-streams.md (2026): the JSON market streams; {s} a lower-case symbol, {i} a kline interval,
# {w} a rolling window. "!ticker@arr" is gone (deprecated 2025-11-14).
KLINE_INTERVALS = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")
DOCUMENTED_STREAMS = [
    "{s}@aggTrade", "{s}@trade", "{s}@kline_{i}", "{s}@kline_{i}@+08:00", "{s}@miniTicker", "!miniTicker@arr",
    "{s}@ticker", "{s}@ticker_{w}", "!ticker_{w}@arr", "{s}@bookTicker", "{s}@avgPrice", "{s}@depth5",
    "{s}@depth10", "{s}@depth20", "{s}@depth5@100ms", "{s}@depth10@100ms", "{s}@depth20@100ms", "{s}@depth",
    "{s}@depth@100ms",
]
# Update-speed names of the 1 s streams that clients use (python-binance's all-market mini ticker).
SPEED_ALIASES = ["!miniTicker@arr@1000ms", "{s}@depth@1000ms", "{s}@depth5@1000ms"]
RETIRED_STREAMS = ["!ticker@arr", "!bookTicker"]

# web-socket-api.md (2026) methods.
DOCUMENTED_WS_API = {
    "ping", "time", "exchangeInfo", "depth", "trades.recent", "trades.historical", "trades.aggregate", "klines",
    "uiKlines", "avgPrice", "ticker.24hr", "ticker.tradingDay", "ticker", "ticker.price", "ticker.book",
    "session.logon", "session.status", "session.logout", "session.subscriptions", "order.place", "order.test",
    "order.status", "order.cancel", "order.cancelReplace", "order.amend.keepPriority", "openOrders.status",
    "openOrders.cancelAll", "orderList.place", "orderList.place.oco", "orderList.place.oto",
    "orderList.place.otoco", "orderList.place.opo", "orderList.place.opoco", "orderList.status",
    "orderList.cancel", "openOrderLists.status", "sor.order.place", "sor.order.test", "account.status",
    "account.rateLimits.orders", "allOrders", "allOrderLists", "myTrades", "myPreventedMatches", "myAllocations",
    "account.commission", "order.amendments", "myFilters", "userDataStream.subscribe",
    "userDataStream.subscribe.signature", "userDataStream.unsubscribe",
}
# What python-binance's user socket and ws_* order calls, and our own client, send.
CLIENT_WS_API = {"userDataStream.subscribe.signature", "userDataStream.unsubscribe", "order.place", "order.cancel",
                 "order.status", "openOrders.status", "session.status", "ping", "time"}


def expand(pattern: str) -> list[str]:
    names = [pattern.replace("{s}", "btcusdt")]
    if "{i}" in pattern:
        names = [n.replace("{i}", i) for n in names for i in KLINE_INTERVALS]
    if "{w}" in pattern:
        names = [n.replace("{w}", w) for n in names for w in ("1h", "4h", "1d")]
    return names


def test_every_served_route_is_documented_and_every_start_up_call_is_served() -> None:
    served = set(routes.ROUTES)
    assert not served - DOCUMENTED_REST, f"served but not in Binance's docs ({DOCS_DATE}): {served - DOCUMENTED_REST}"
    assert not START_UP_REST - served, f"documented, used by clients at start-up, not served: {START_UP_REST - served}"
    assert {route for route in served if routes.ROUTES[route].handler is routes.listen_key_gone} == RETIRED_REST


async def test_every_documented_stream_is_served_and_nothing_else() -> None:
    async with emulate("binance", seed=1, tick_interval=3600) as venue:
        dialect = venue.dialect
        documented = [name for pattern in DOCUMENTED_STREAMS for name in expand(pattern)]
        assert all(ws.valid(dialect, name) for name in documented), \
            [n for n in documented if not ws.valid(dialect, n)]
        aliases = [name for pattern in SPEED_ALIASES for name in expand(pattern)]
        assert all(ws.valid(dialect, name) for name in aliases)
        assert not any(ws.valid(dialect, name) for name in RETIRED_STREAMS)
        # every kind the emulator accepts is one of the documented patterns
        shapes = {re.sub(r"^[a-z0-9]+@", "{s}@", name) for name in documented + aliases}
        served_kinds = {f"{{s}}@{kind}" for kind in ws.PLAIN_STREAMS} | set(ws.ARRAY_STREAMS)
        assert served_kinds <= shapes


def test_every_websocket_api_method_is_documented_and_what_clients_send_is_served() -> None:
    served = set(wsapi.METHODS)
    assert not served - DOCUMENTED_WS_API, served - DOCUMENTED_WS_API
    assert not CLIENT_WS_API - served, CLIENT_WS_API - served
