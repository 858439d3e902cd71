"""Binance's `/api/v3` routes as data: (method, path) -> handler, request weight and who may call it.

Weights are the published ones (depth's depends on ``limit``, the tickers' and openOrders' on whether a
symbol is named); `dialect.BinanceDialect.handle_http` authenticates and counts a request by its route
before the handler runs, and answers any path not in `ROUTES` with -1000. Handlers validate their
parameters and refuse in Binance's words (`errors`); `render` prints what they return.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from emulators.binance import errors, render
from emulators.binance.errors import param_words
from emulators.engine import EOrder, Rejected, SymbolState, routing, wall_ms
from emulators.engine.candles import Interval, aggregate
from emulators.engine.errors import VenueError, refuse
from emulators.engine.params import decimal_param, within
from emulators.engine.ratewindows import FixedWindow
from emulators.engine.routing import Auth, Params

if TYPE_CHECKING:
    from emulators.binance.dialect import BinanceDialect

WEIGHT_LIMIT = 6000
ORDERS_10S = 100
ORDERS_1D = 200_000
LISTEN_KEY_TTL_MS = 60 * 60 * 1000
RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": WEIGHT_LIMIT},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": ORDERS_10S},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": ORDERS_1D},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]
INTERVALS = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240}


@attrs.define
class Budget:
    """What Binance counts per API key (and once for all unauthenticated callers)."""

    weight: FixedWindow = attrs.field(factory=lambda: FixedWindow(60))
    orders_10s: FixedWindow = attrs.field(factory=lambda: FixedWindow(10))
    orders_1d: FixedWindow = attrs.field(factory=lambda: FixedWindow(86400))
    banned_until: float = 0.0
    violations: int = 0


Call = routing.Call[Budget]
Route = routing.Route["BinanceDialect", Budget]


def depth_weight(p: Params) -> int:
    limit = int(p.get("limit", "100"))
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def symbol_weight(one: int, every: int) -> Callable[[Params], int]:
    """``one`` for a named symbol, ``every`` without one."""
    return lambda p: one if "symbol" in p else every


# ---------------------------------------------------------------------- validation
def symbol_state(d: BinanceDialect, p: Params) -> SymbolState:
    symbol = p.get("symbol")
    if not symbol:
        raise errors.mandatory("symbol")
    state = d.exchange.symbols.get(symbol.upper())
    if state is None:
        raise errors.invalid_symbol()
    return state


def named_states(d: BinanceDialect, p: Params) -> list[SymbolState] | None:
    """The states ``symbol`` or ``symbols`` (a JSON list) name, or None when neither is sent."""
    if "symbol" in p:
        return [symbol_state(d, p)]
    if "symbols" in p:
        return [symbol_state(d, {"symbol": name}) for name in json.loads(p["symbols"])]
    return None


def per_symbol(d: BinanceDialect, p: Params, show: Callable[[SymbolState], Any]) -> Any:
    """One object for ``symbol``, else a list (``symbols``, or every symbol)."""
    if "symbol" in p:
        return show(symbol_state(d, p))
    named = named_states(d, p)
    return [show(s) for s in (named if named is not None else d.exchange.symbols.values())]


def time_bounds(p: Params) -> tuple[int | None, int | None]:
    return (int(p["startTime"]) if "startTime" in p else None, int(p["endTime"]) if "endTime" in p else None)


def find_order(d: BinanceDialect, call: Call) -> EOrder:
    p = call.params
    state = symbol_state(d, p)
    order_id, client_id = p.get("orderId"), p.get("origClientOrderId")
    if not order_id and not client_id:
        raise errors.error(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                                  "empty/null!")
    try:
        return d.exchange.find(state.spec.symbol, order_id=int(order_id) if order_id else None,
                               client_order_id=client_id, account=call.account.name)
    except Rejected as rejected:
        raise refuse(errors.REJECTIONS, rejected) from None


# ---------------------------------------------------------------------- market data
def ping(d: BinanceDialect, call: Call) -> Any:
    return {}


def server_time(d: BinanceDialect, call: Call) -> Any:
    return {"serverTime": wall_ms()}


def exchange_info(d: BinanceDialect, call: Call) -> Any:
    named = named_states(d, call.params)
    states = named if named is not None else d.exchange.symbols.values()
    return {"timezone": "UTC", "serverTime": wall_ms(), "rateLimits": RATE_LIMITS, "exchangeFilters": [],
            "symbols": [render.symbol_info(s.spec) for s in states]}


def price_ticker(d: BinanceDialect, call: Call) -> Any:
    return per_symbol(d, call.params, render.price_ticker)


def book_ticker(d: BinanceDialect, call: Call) -> Any:
    return per_symbol(d, call.params, render.book_ticker)


def ticker_24h(d: BinanceDialect, call: Call) -> Any:
    return per_symbol(d, call.params, render.ticker_24h)


def avg_price(d: BinanceDialect, call: Call) -> Any:
    return {"mins": 5, "price": render.fmt(symbol_state(d, call.params).mid), "closeTime": wall_ms()}


def klines(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    state = symbol_state(d, p)
    interval = p.get("interval")
    if not interval:
        raise errors.mandatory("interval")
    if interval not in INTERVALS:
        raise errors.error(-1120, "Invalid interval.")
    limit = max(1, min(int(p.get("limit", "500")), 1000))
    bars = within(aggregate(state.candles, Interval(INTERVALS[interval])), lambda bar: bar.open_ms, *time_bounds(p))
    return [render.kline(bar) for bar in bars[-limit:]]


def depth(d: BinanceDialect, call: Call) -> Any:
    return render.depth(symbol_state(d, call.params), min(int(call.params.get("limit", "100")), 5000))


def trades(d: BinanceDialect, call: Call) -> Any:
    state = symbol_state(d, call.params)
    limit = min(int(call.params.get("limit", "500")), 1000)
    return [render.trade(t) for t in state.trades[-limit:]]


# ---------------------------------------------------------------------- account and orders
def account(d: BinanceDialect, call: Call) -> Any:
    name = call.account.name
    return render.account(d.exchange.balances[name], abs(hash(name)) % 10**9,
                          call.params.get("omitZeroBalances") == "true")


def place(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    state = symbol_state(d, p)
    side = p.get("side", "")
    if side not in ("BUY", "SELL"):
        raise errors.error(-1117, "Invalid side.") if side else errors.mandatory("side")
    kind = p.get("type", "")
    if kind not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
        raise errors.error(-1116, "Invalid orderType.") if kind else errors.mandatory("type")
    tif = p.get("timeInForce")
    price = decimal_param(p, "price", param_words, required=kind != "MARKET")
    quote_qty = decimal_param(p, "quoteOrderQty", param_words, required=False) if kind == "MARKET" else None
    quantity = decimal_param(p, "quantity", param_words, required=quote_qty is None)
    if kind == "LIMIT" and tif not in ("GTC", "IOC", "FOK"):
        raise errors.mandatory("timeInForce")
    if kind == "MARKET" and price is not None:
        raise errors.error(-1106, "Parameter 'price' sent when not required.")
    client_id = p.get("newClientOrderId") or f"x-{secrets.token_hex(8)}"
    if len(client_id) > 36:
        raise errors.illegal("newClientOrderId", errors.CLIENT_ID_RANGE)
    try:
        order = d.exchange.place(call.account.name, state.spec.symbol, side, kind,  # type: ignore[arg-type]
                                 quantity or Decimal(0), price, (tif or "GTC"),  # type: ignore[arg-type]
                                 client_id, quote_qty)
    except Rejected as rejected:
        raise refuse(errors.REJECTIONS, rejected) from None
    response_type = p.get("newOrderRespType", "FULL")
    fills = [] if response_type in ("ACK", "RESULT") else \
        [f for f in d.exchange.fill_log if f.order_id == order.order_id and f.symbol == order.symbol]
    return render.placed(order, response_type, fills)


def test_order(d: BinanceDialect, call: Call) -> Any:
    return {}


def query_order(d: BinanceDialect, call: Call) -> Any:
    return render.order(find_order(d, call))


def cancel(d: BinanceDialect, call: Call) -> Any:
    try:
        order = find_order(d, call)
    except VenueError:
        raise errors.unknown_order() from None
    if not order.is_open:
        raise errors.unknown_order()
    return render.cancelled(d.exchange.cancel(call.account.name, order.symbol, order_id=order.order_id))


def open_orders(d: BinanceDialect, call: Call) -> Any:
    symbol = call.params.get("symbol")
    if symbol is not None:
        symbol_state(d, call.params)
    return [render.order(o) for o in d.exchange.open_orders(call.account.name, symbol)]


def cancel_open_orders(d: BinanceDialect, call: Call) -> Any:
    state = symbol_state(d, call.params)
    name = call.account.name
    orders = d.exchange.open_orders(name, state.spec.symbol)
    if not orders:
        raise errors.unknown_order()
    return [render.cancelled(d.exchange.cancel(name, o.symbol, order_id=o.order_id)) for o in orders]


def all_orders(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    state = symbol_state(d, p)
    orders = [o for o in d.exchange.all_orders() if o.account == call.account.name and o.symbol == state.spec.symbol]
    if "orderId" in p:
        orders = [o for o in orders if o.order_id >= int(p["orderId"])]
    orders = within(orders, lambda o: o.created_ms, *time_bounds(p))
    return [render.order(o) for o in orders[: min(int(p.get("limit", "500")), 1000)]]


def my_trades(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    state = symbol_state(d, p)
    fills = d.exchange.fills_of(call.account.name, state.spec.symbol)
    if "orderId" in p:
        fills = [f for f in fills if f.order_id == int(p["orderId"])]
    if "fromId" in p:
        fills = [f for f in fills if f.trade_id >= int(p["fromId"])]
    fills = within(fills, lambda f: f.time_ms, *time_bounds(p))
    return [render.my_trade(f) for f in fills[: min(int(p.get("limit", "500")), 1000)]]


# ---------------------------------------------------------------------- the user data stream's listen key
def open_listen_key(d: BinanceDialect, call: Call) -> Any:
    return {"listenKey": d.listen_keys.open(call.account.name, wall_ms() + LISTEN_KEY_TTL_MS)}


def keep_listen_key(d: BinanceDialect, call: Call) -> Any:
    if not d.listen_keys.extend(call.params.get("listenKey", ""), wall_ms() + LISTEN_KEY_TTL_MS):
        raise errors.error(-1125, "This listenKey does not exist.")
    return {}


def close_listen_key(d: BinanceDialect, call: Call) -> Any:
    d.listen_keys.close(call.params.get("listenKey", ""))
    return {}


API = "/api/v3"
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", f"{API}/ping"): Route(ping, 1),
    ("GET", f"{API}/time"): Route(server_time, 1),
    ("GET", f"{API}/exchangeInfo"): Route(exchange_info, 20),
    ("GET", f"{API}/ticker/price"): Route(price_ticker, symbol_weight(2, 4)),
    ("GET", f"{API}/ticker/bookTicker"): Route(book_ticker, symbol_weight(2, 4)),
    ("GET", f"{API}/ticker/24hr"): Route(ticker_24h, symbol_weight(2, 80)),
    ("GET", f"{API}/avgPrice"): Route(avg_price, 2),
    ("GET", f"{API}/klines"): Route(klines, 2),
    ("GET", f"{API}/depth"): Route(depth, depth_weight),
    ("GET", f"{API}/trades"): Route(trades, 25),
    ("GET", f"{API}/account"): Route(account, 20, Auth.SIGNED),
    ("POST", f"{API}/order"): Route(place, 1, Auth.SIGNED, counts_order=True),
    ("POST", f"{API}/order/test"): Route(test_order, 1, Auth.SIGNED),
    ("DELETE", f"{API}/order"): Route(cancel, 1, Auth.SIGNED),
    ("GET", f"{API}/order"): Route(query_order, 4, Auth.SIGNED),
    ("GET", f"{API}/openOrders"): Route(open_orders, symbol_weight(6, 80), Auth.SIGNED),
    ("DELETE", f"{API}/openOrders"): Route(cancel_open_orders, 1, Auth.SIGNED),
    ("GET", f"{API}/allOrders"): Route(all_orders, 20, Auth.SIGNED),
    ("GET", f"{API}/myTrades"): Route(my_trades, 20, Auth.SIGNED),
    ("POST", f"{API}/userDataStream"): Route(open_listen_key, 2, Auth.API_KEY),
    ("PUT", f"{API}/userDataStream"): Route(keep_listen_key, 2, Auth.API_KEY),
    ("DELETE", f"{API}/userDataStream"): Route(close_listen_key, 2, Auth.API_KEY),
}
