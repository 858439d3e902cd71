"""Bybit's V5 routes as data: (method, path) -> handler, whether it is signed, and the parameters it takes;
and the per-UID limits.

`dialect.BybitDialect.handle_http` answers any path not in `ROUTES` with an empty 404 (as Bybit's gateway
does), authenticates signed routes and counts them against `UID_LIMITS`, then refuses any parameter the
route does not list (`Endpoint.params`: the documented parameters; those the emulator does not model are
accepted only at their neutral values) before the handler runs. Handlers validate their parameters and
refuse in Bybit's words (`errors`); `render` prints what they return, inside the envelope.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from emulators.bybit import errors, render
from emulators.bybit.errors import param_words, spot_param_words
from emulators.engine import EOrder, Rejected, SymbolState, routing, wall_ms
from emulators.engine.candles import Interval, aggregate
from emulators.engine.errors import refuse
from emulators.engine.params import (
    ParamFault,
    ParamWords,
    limit_param,
    offset_page,
    required_decimal,
    time_window,
    within,
)
from emulators.engine.ratewindows import RollingWindow
from emulators.engine.routing import Auth, Params

if TYPE_CHECKING:
    from emulators.bybit.dialect import BybitDialect

T = TypeVar("T")
Windows = dict[tuple[str, str], RollingWindow]  # per account: (path, category) -> the last second's requests
Call = routing.Call[Windows]
Route = routing.Route["BybitDialect", Windows]

CATEGORIES = ("spot", "linear", "inverse")
DERIVATIVES = ("linear", "inverse")
# Per-UID per-second limits (UTA tables of docs/v5/rate-limit), by (path, category); "*" = any category.
UID_LIMITS: dict[tuple[str, str], int] = {
    ("/v5/order/create", "linear"): 10, ("/v5/order/create", "inverse"): 10, ("/v5/order/create", "spot"): 20,
    ("/v5/order/cancel", "linear"): 10, ("/v5/order/cancel", "inverse"): 10, ("/v5/order/cancel", "spot"): 20,
    ("/v5/order/cancel-all", "linear"): 10, ("/v5/order/cancel-all", "inverse"): 10,
    ("/v5/order/cancel-all", "spot"): 20,
    ("/v5/order/realtime", "linear"): 50, ("/v5/order/realtime", "spot"): 50, ("/v5/order/realtime", "inverse"): 10,
    ("/v5/order/history", "linear"): 50, ("/v5/order/history", "spot"): 50, ("/v5/order/history", "inverse"): 10,
    ("/v5/execution/list", "linear"): 50, ("/v5/execution/list", "spot"): 50, ("/v5/execution/list", "inverse"): 10,
    ("/v5/position/list", "linear"): 50, ("/v5/position/list", "inverse"): 10,
    ("/v5/position/set-leverage", "linear"): 10, ("/v5/position/set-leverage", "inverse"): 10,
    ("/v5/account/wallet-balance", "*"): 50,
    ("/v5/account/fee-rate", "linear"): 10, ("/v5/account/fee-rate", "inverse"): 10,
    ("/v5/account/fee-rate", "spot"): 5,
}
DEFAULT_UID_LIMIT = 50
# Kline intervals by Bybit's name (also the ``kline.<interval>.<symbol>`` topics).
INTERVALS = {"1": Interval(1), "3": Interval(3), "5": Interval(5), "15": Interval(15), "30": Interval(30),
             "60": Interval(60), "120": Interval(120), "240": Interval(240), "360": Interval(360),
             "720": Interval(720), "D": Interval(1440), "W": Interval(10080), "M": Interval(months=1)}
SEVEN_DAYS_MS = 7 * 86_400_000
ORDER_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
MAX_DIGITS = 30  # a decimal parameter with more significant digits, or beyond 1e20, is refused, never computed


# ---------------------------------------------------------------------- validation
def category_of(p: Params, allowed: tuple[str, ...] = CATEGORIES) -> str:
    category = str(p.get("category", ""))
    if category not in allowed:
        raise errors.error(10001, "Illegal category") if category else errors.params_error("category is required")
    return category


def symbol_state(d: BybitDialect, category: str, symbol: Any, *, spot_code: bool = False) -> SymbolState:
    if not symbol:
        raise errors.params_error("symbol is required")
    state = d.exchange.symbols.get(f"{category}:{symbol}")
    if state is None:
        if spot_code and category == "spot":
            raise errors.error(170121, "Invalid symbol.")
        raise errors.params_error(f"symbol invalid: {symbol}")
    return state


def market(d: BybitDialect, p: Params) -> tuple[str, SymbolState]:
    """The category and the instrument a market-data request names."""
    category = category_of(p)
    return category, symbol_state(d, category, p.get("symbol"))


def category_states(d: BybitDialect, category: str, symbol: Any = None) -> list[SymbolState]:
    """The category's instruments, or only the one named ``symbol`` (none if it is unknown)."""
    return [s for s in d.exchange.symbols.values() if s.spec.kind == category and (not symbol or s.spec.name == symbol)]


def page(items: list[T], p: Params, *, default: int, maximum: int) -> tuple[list[T], str]:
    """Cursor paging: the cursor is opaque to clients (here: "page%3D<offset>", sent back verbatim)."""
    limit = limit_param(p, param_words, default=default, maximum=maximum)
    offset = 0
    cursor = str(p.get("cursor") or "")
    if cursor:
        found = re.search(r"(\d+)\D*$", cursor)
        if found is None or len(found.group(1)) > 9:
            raise errors.params_error("cursor invalid")
        offset = int(found.group(1))
    chunk, following = offset_page(items, offset, limit)
    return chunk, f"page%3D{following}" if following is not None else ""


def ms_param(p: Params, name: str) -> int | None:
    """A millisecond timestamp (ASCII digits, at most 19), or None when absent."""
    raw = p.get(name)
    if raw is None or raw == "":
        return None
    text = str(raw)
    if isinstance(raw, bool) or not (text.isascii() and text.isdecimal() and len(text) <= 19):
        raise param_words(ParamFault.MALFORMED, name)
    return int(text)


def decimal_arg(p: Params, name: str, words: ParamWords, *, strings_only: bool = False) -> Decimal:
    """A positive decimal of sane size: at most `MAX_DIGITS` significant digits, between 1e-20 and 1e20."""
    value = required_decimal(p, name, words, positive=True, strings_only=strings_only)
    if len(value.as_tuple().digits) > MAX_DIGITS or not -20 <= value.adjusted() <= 20:
        raise words(ParamFault.OUT_OF_RANGE, name)
    return value


def time_range(p: Params, *, require_both: bool) -> tuple[int, int]:
    """startTime/endTime: at most 7 days apart; one alone spans 7 days from/to it; none: the last 7 days."""
    return time_window(ms_param(p, "startTime"), ms_param(p, "endTime"), param_words, span_ms=SEVEN_DAYS_MS,
                       now_ms=wall_ms(), require_both=require_both)


def find_order(d: BybitDialect, call: Call, category: str) -> EOrder | None:
    """The caller's newest order in ``category`` with that orderId (or, without one, that orderLinkId)."""
    p = call.params
    order_id, link_id = p.get("orderId"), p.get("orderLinkId")
    if not order_id and not link_id:
        raise errors.params_error("orderId or orderLinkId is required")
    for order in reversed(d.exchange.orders.values()):
        if order.account != call.account.name or d.exchange.symbols[order.symbol].spec.kind != category:
            continue
        if (order_id and d.order_id(order) == order_id) or (not order_id and order.client_order_id == link_id):
            return order
    return None


def select_orders(d: BybitDialect, call: Call, category: str, *, open_only: bool) -> list[EOrder]:
    p, ex = call.params, d.exchange
    orders = [o for o in ex.orders.values() if o.account == call.account.name
              and ex.symbols[o.symbol].spec.kind == category and (o.is_open or not open_only)]
    if p.get("symbol"):
        state = symbol_state(d, category, p["symbol"])
        orders = [o for o in orders if o.symbol == state.spec.symbol]
    if p.get("baseCoin"):
        orders = [o for o in orders if ex.symbols[o.symbol].spec.base == p["baseCoin"]]
    if p.get("settleCoin"):
        orders = [o for o in orders if ex.symbols[o.symbol].spec.settle == p["settleCoin"]]
    return orders


def require_filter(p: Params, *names: str) -> None:
    """Contracts' list endpoints need at least one of ``names``."""
    if not any(p.get(name) for name in names):
        raise errors.error(10001, f"Missing some parameters that must be filled in, {' or '.join(names)}")


# ---------------------------------------------------------------------- market data
def server_time(d: BybitDialect, call: Call) -> Any:
    return {"timeSecond": str(wall_ms() // 1000), "timeNano": str(time.time_ns())}


def instruments_info(d: BybitDialect, call: Call) -> Any:
    """Every category's instruments; ``option`` is a category the emulator lists none of (clients such as ccxt
    ask for options while loading markets, and an empty list is the truth here)."""
    p = call.params
    category = category_of(p, (*CATEGORIES, "option"))
    states = category_states(d, category, p.get("symbol"))
    if p.get("baseCoin"):
        states = [s for s in states if s.spec.base == p["baseCoin"]]
    if p.get("status") and p["status"] != "Trading":
        states = []
    if category == "spot":
        return {"category": "spot", "list": [render.spot_instrument(s.spec) for s in states]}
    chunk, cursor = page(states, p, default=500, maximum=1000)
    return {"category": category, "list": [render.contract_instrument(s.spec) for s in chunk],
            "nextPageCursor": cursor}


def tickers(d: BybitDialect, call: Call) -> Any:
    p = call.params
    category = category_of(p)
    states = category_states(d, category, p.get("symbol"))
    if not states and p.get("symbol"):
        raise errors.error(10001, "Not supported symbols")
    rows = []
    for state in states:
        row = render.ticker(d.exchange, state)
        row.pop("tickDirection", None)
        if category == "spot":
            row.pop("usdIndexPrice", None)
        rows.append(row)
    return {"category": category, "list": rows}


def kline(d: BybitDialect, call: Call) -> Any:
    p = call.params
    category, state = market(d, p)
    interval = INTERVALS.get(str(p.get("interval", "")))
    if interval is None:
        raise errors.error(10001, "Invalid period!")
    bars = within(aggregate(state.candles, interval), lambda bar: bar.open_ms, ms_param(p, "start"),
                  ms_param(p, "end"))
    limit = limit_param(p, param_words, default=200, maximum=1000)
    return {"category": category, "symbol": state.spec.name,
            "list": [render.kline_row(state.spec, bar) for bar in reversed(bars[-limit:])]}


def orderbook(d: BybitDialect, call: Call) -> Any:
    category, state = market(d, call.params)
    spot = category == "spot"
    depth = limit_param(call.params, param_words, default=1 if spot else 25, maximum=200 if spot else 500)
    return render.orderbook(d, state, depth)


def recent_trades(d: BybitDialect, call: Call) -> Any:
    category, state = market(d, call.params)
    spot = category == "spot"
    limit = limit_param(call.params, param_words, default=60 if spot else 500, maximum=60 if spot else 1000)
    return {"category": category,
            "list": [render.recent_trade(d, state.spec, t) for t in reversed(state.trades[-limit:])]}


# ---------------------------------------------------------------------- account and positions
def account_info(d: BybitDialect, call: Call) -> Any:
    return render.account_info()


def api_key_info(d: BybitDialect, call: Call) -> Any:
    return render.api_key_info(call.account)


def coin_info(d: BybitDialect, call: Call) -> Any:
    """The coins the emulator knows (its instruments' and the caller's wallet's), each with its chain; deposits
    and withdrawals are not served, so every chain says so (chainDeposit and chainWithdraw "0")."""
    ex = d.exchange
    coins = {c for s in ex.symbols.values() for c in (s.spec.base, s.spec.quote, s.spec.settle) if c != "USD"}
    coins |= set(ex.balances.get(call.account.name, {}))
    wanted = str(call.params.get("coin") or "")
    return {"rows": [render.coin_row_info(coin) for coin in sorted(coins) if not wanted or coin == wanted]}


def wallet_balance(d: BybitDialect, call: Call) -> Any:
    p = call.params
    if p.get("accountType") != "UNIFIED":
        raise errors.error(10001, "accountType only support UNIFIED.")
    coins = [c for c in str(p.get("coin", "")).split(",") if c] or None
    return {"list": [render.wallet(d.exchange, call.account.name, coins)]}


def fee_rate(d: BybitDialect, call: Call) -> Any:
    p = call.params
    category = category_of(p)
    states = [symbol_state(d, category, p["symbol"])] if p.get("symbol") else category_states(d, category)
    return {"list": [render.fee_rate(d.exchange, s.spec) for s in states]}


def position_list(d: BybitDialect, call: Call) -> Any:
    p, ex, name = call.params, d.exchange, call.account.name
    category = category_of(p, DERIVATIVES)
    if p.get("symbol"):
        states = [symbol_state(d, category, str(s)) for s in str(p["symbol"]).split(",")]
        positions = [ex.position(name, s.spec.symbol) for s in states]
    else:
        settle = p.get("settleCoin")
        if category == "linear" and not settle:
            require_filter(p, "symbol", "settleCoin")
        positions = [pos for pos in ex.positions_of(name) if pos.size
                     and ex.symbols[pos.symbol].spec.kind == category
                     and (not settle or ex.symbols[pos.symbol].spec.settle == settle)]
    chunk, cursor = page(positions, p, default=20, maximum=200)
    return {"category": category, "list": [render.position(d, pos) for pos in chunk], "nextPageCursor": cursor}


def set_leverage(d: BybitDialect, call: Call) -> Any:
    p = call.params
    category = category_of(p, DERIVATIVES)
    state = symbol_state(d, category, p.get("symbol"))
    buy = decimal_arg(p, "buyLeverage", param_words)
    sell = decimal_arg(p, "sellLeverage", param_words)
    if buy != sell:
        raise errors.params_error("buyLeverage must equal sellLeverage in one-way mode")
    try:
        d.exchange.set_leverage(call.account.name, state.spec.symbol, buy)
    except Rejected as rejected:
        raise refuse(errors.LEVERAGE_REJECTIONS, rejected) from None
    return {}


# ---------------------------------------------------------------------- orders
def refuse_unsupported(p: Params) -> None:
    """Spot margin and hedge mode, in their own words (other unmodelled parameters: `Endpoint.params`)."""
    if str(p.get("isLeverage", "0")) not in ("0", ""):
        raise errors.params_error("spot margin (isLeverage=1) is not supported by this emulator")
    if str(p.get("positionIdx", "0")) != "0":
        raise errors.error(10001, "position idx not match position mode")


def order_link_id(d: BybitDialect, call: Call, spot: bool) -> str:
    """orderLinkId: Bybit's charset, and unique per account for ever (not only among open orders)."""
    link_id = str(call.params.get("orderLinkId") or "")
    if link_id and not ORDER_LINK_ID.match(link_id):
        raise errors.params_error("orderLinkId invalid")
    if link_id and any(o.account == call.account.name and o.client_order_id == link_id
                       for o in d.exchange.orders.values()):
        raise errors.error(170141, "Duplicate clientOrderId") if spot else \
            errors.error(110072, "OrderLinkedID is duplicate")
    return link_id


def spends_quote(p: Params, side: str) -> bool:
    """Whether a spot market order's qty is in the quote coin (``marketUnit``; buys default to it)."""
    market_unit = str(p.get("marketUnit") or "") or ("quoteCoin" if side == "Buy" else "baseCoin")
    if market_unit not in ("baseCoin", "quoteCoin"):
        raise errors.params_error("marketUnit invalid")
    if market_unit == "quoteCoin" and side == "Sell":
        raise errors.params_error("market sell by quoteCoin is not supported by this emulator")
    return market_unit == "quoteCoin"


def create_order(d: BybitDialect, call: Call) -> Any:
    p = call.params
    category = category_of(p)
    spot = category == "spot"
    state = symbol_state(d, category, p.get("symbol"), spot_code=True)
    side = p.get("side")
    if side not in ("Buy", "Sell"):
        raise errors.error(170117, "Invalid side.") if spot else errors.params_error("side invalid")
    order_type = p.get("orderType")
    if order_type not in ("Market", "Limit"):
        raise errors.error(170116, "Invalid orderType.") if spot else errors.params_error("orderType invalid")
    refuse_unsupported(p)
    words = spot_param_words if spot else param_words
    quantity = decimal_arg(p, "qty", words, strings_only=True)
    price = decimal_arg(p, "price", words, strings_only=True) if order_type == "Limit" else None
    tif = str(p.get("timeInForce") or "GTC")
    if tif not in ("GTC", "IOC", "FOK", "PostOnly"):
        raise errors.error(170115, "Invalid timeInForce.") if spot else errors.params_error("timeInForce invalid")
    if order_type == "Market":
        tif = "IOC"  # "Market order will always use IOC"
    link_id = order_link_id(d, call, spot)
    if p.get("reduceOnly") not in (None, "", True, False, "true", "false"):
        raise errors.params_error("reduceOnly invalid")
    reduce_only = p.get("reduceOnly") in (True, "true")
    by_quote = spot and order_type == "Market" and spends_quote(p, side)
    kind = "LIMIT_MAKER" if tif == "PostOnly" else ("MARKET" if order_type == "Market" else "LIMIT")
    try:
        order = d.exchange.place(
            call.account.name, state.spec.symbol, "BUY" if side == "Buy" else "SELL", kind,  # type: ignore[arg-type]
            Decimal(0) if by_quote else quantity, price, "GTC" if tif == "PostOnly" else tif,  # type: ignore[arg-type]
            link_id, quantity if by_quote else None, reduce_only=reduce_only and not spot,
            exact_quote=by_quote, reject_post_only=False)
    except Rejected as rejected:
        raise refuse(errors.SPOT_REJECTIONS if spot else errors.CONTRACT_REJECTIONS, rejected) from None
    return {"orderId": d.order_id(order), "orderLinkId": order.client_order_id}


def cancel_order(d: BybitDialect, call: Call) -> Any:
    p = call.params
    category = category_of(p)
    state = symbol_state(d, category, p.get("symbol"), spot_code=True)
    order = find_order(d, call, category)
    if order is None or order.symbol != state.spec.symbol or not order.is_open:
        raise errors.error(170213, "Order does not exist.") if category == "spot" else \
            errors.error(110001, "order not exists or too late to cancel")
    d.exchange.cancel(call.account.name, order.symbol, order_id=order.order_id)
    return {"orderId": d.order_id(order), "orderLinkId": order.client_order_id}


def cancel_all(d: BybitDialect, call: Call) -> Any:
    category = category_of(call.params)
    if category != "spot":
        require_filter(call.params, "symbol", "settleCoin", "baseCoin")
    cancelled = []
    for order in select_orders(d, call, category, open_only=True):
        d.exchange.cancel(call.account.name, order.symbol, order_id=order.order_id)
        cancelled.append({"orderId": d.order_id(order), "orderLinkId": order.client_order_id})
    return {"list": cancelled, "success": "1"}


def open_orders(d: BybitDialect, call: Call) -> Any:
    p = call.params
    category = category_of(p)
    if p.get("orderId") or p.get("orderLinkId"):  # by id: open or recently closed, openOnly ignored
        found = find_order(d, call, category)
        orders = [found] if found is not None else []
    else:
        if category == "linear":
            require_filter(p, "symbol", "settleCoin", "baseCoin")
        open_only = str(p.get("openOnly", "0"))
        if open_only not in ("0", "1", "2", ""):
            raise errors.params_error("openOnly invalid")
        include_closed = open_only in ("1", "2")
        orders = select_orders(d, call, category, open_only=not include_closed)
        if include_closed:  # open ones, and at most the 500 most recent closed ones
            closed = [o for o in orders if not o.is_open][-500:]
            orders = [o for o in orders if o.is_open or o in closed]
    orders.sort(key=lambda o: (o.created_ms, o.order_id), reverse=True)
    chunk, cursor = page(orders, p, default=20, maximum=50)
    return {"category": category, "list": [render.order(d, o) for o in chunk], "nextPageCursor": cursor}


def order_history(d: BybitDialect, call: Call) -> Any:
    p = call.params
    category = category_of(p)
    if p.get("orderId") or p.get("orderLinkId"):
        found = find_order(d, call, category)
        orders = [found] if found is not None else []
    else:
        orders = select_orders(d, call, category, open_only=False)
        orders = within(orders, lambda o: o.created_ms, *time_range(p, require_both=True))
    if p.get("orderStatus"):
        orders = [o for o in orders if render.status(d.exchange, o) == p["orderStatus"]]
    orders.sort(key=lambda o: (o.created_ms, o.order_id), reverse=True)
    chunk, cursor = page(orders, p, default=20, maximum=50)
    return {"category": category, "list": [render.order(d, o) for o in chunk], "nextPageCursor": cursor}


def executions(d: BybitDialect, call: Call) -> Any:
    p, ex = call.params, d.exchange
    category = category_of(p)
    fills = [f for f in ex.fill_log if f.account == call.account.name and ex.symbols[f.symbol].spec.kind == category]
    if p.get("orderId") or p.get("orderLinkId"):
        found = find_order(d, call, category)
        fills = [f for f in fills if found is not None and f.symbol == found.symbol and f.order_id == found.order_id]
    else:
        if p.get("symbol"):
            state = symbol_state(d, category, p["symbol"])
            fills = [f for f in fills if f.symbol == state.spec.symbol]
        if p.get("baseCoin"):
            fills = [f for f in fills if ex.symbols[f.symbol].spec.base == p["baseCoin"]]
        fills = within(fills, lambda f: f.time_ms, *time_range(p, require_both=False))
    if p.get("execType") not in (None, "", "Trade"):
        fills = []
    fills.sort(key=lambda f: (f.time_ms, d.symbol_index(f.symbol), f.trade_id), reverse=True)
    chunk, cursor = page(fills, p, default=50, maximum=100)
    return {"category": category, "list": [render.execution(d, f) for f in chunk], "nextPageCursor": cursor}


# ---------------------------------------------------------------------- the route table
Neutral = tuple[Any, ...] | None  # None: the handler reads it; a tuple: the only values accepted (not modelled)
EMPTY: Neutral = ("", None)
ZERO: Neutral = ("", None, "0", 0)
NO: Neutral = ("", None, False, "false", "0", 0)
PLAIN: Neutral = ("", None, "Order")  # orderFilter: plain orders only (no conditional, TP/SL or OCO orders)


@attrs.frozen
class Endpoint:
    """One served route and the parameters it takes: every parameter Bybit documents for it, either read by the
    handler (None) or, where the emulator does not model it, accepted only at its neutral values."""

    route: Route
    params: Mapping[str, Neutral]

    def check(self, p: Params) -> None:
        """Refuse a parameter the route does not take, or an unmodelled one set to anything but neutral."""
        for name, value in p.items():
            if name not in self.params:
                raise errors.params_error(f"unknown parameter {name!r}")
            neutral = self.params[name]
            if neutral is not None and value not in neutral:
                raise errors.params_error(f"{name} is not supported by this emulator")


def _public(handler: Any, *read: str, **neutral: Neutral) -> Endpoint:
    return Endpoint(Route(handler), {**dict.fromkeys(read), **neutral})


def _signed(handler: Any, *read: str, **neutral: Neutral) -> Endpoint:
    return Endpoint(Route(handler, auth=Auth.SIGNED), {**dict.fromkeys(read), **neutral})


_PAGE = ("limit", "cursor")
ROUTES: dict[tuple[str, str], Endpoint] = {
    ("GET", "/v5/market/time"): _public(server_time),
    ("GET", "/v5/market/instruments-info"): _public(instruments_info, "category", "symbol", "status", "baseCoin",
                                                    *_PAGE, symbolType=EMPTY),
    ("GET", "/v5/market/tickers"): _public(tickers, "category", "symbol", baseCoin=EMPTY, expDate=EMPTY),
    ("GET", "/v5/market/kline"): _public(kline, "category", "symbol", "interval", "start", "end", "limit"),
    ("GET", "/v5/market/orderbook"): _public(orderbook, "category", "symbol", "limit"),
    ("GET", "/v5/market/recent-trade"): _public(recent_trades, "category", "symbol", "limit", baseCoin=EMPTY,
                                                optionType=EMPTY),
    ("GET", "/v5/user/query-api"): _signed(api_key_info),
    ("GET", "/v5/asset/coin/query-info"): _signed(coin_info, "coin"),
    ("GET", "/v5/account/info"): _signed(account_info),
    ("GET", "/v5/account/wallet-balance"): _signed(wallet_balance, "accountType", "coin"),
    ("GET", "/v5/account/fee-rate"): _signed(fee_rate, "category", "symbol", baseCoin=EMPTY),
    ("GET", "/v5/position/list"): _signed(position_list, "category", "symbol", "settleCoin", *_PAGE, baseCoin=EMPTY),
    ("POST", "/v5/position/set-leverage"): _signed(set_leverage, "category", "symbol", "buyLeverage", "sellLeverage"),
    ("POST", "/v5/order/create"): _signed(
        create_order, "category", "symbol", "side", "orderType", "qty", "price", "timeInForce", "orderLinkId",
        "reduceOnly", "marketUnit", "isLeverage", "positionIdx", orderFilter=PLAIN, triggerPrice=ZERO,
        triggerDirection=ZERO, triggerBy=EMPTY, orderIv=EMPTY, takeProfit=ZERO, stopLoss=ZERO, tpTriggerBy=EMPTY,
        slTriggerBy=EMPTY, closeOnTrigger=NO, smpType=("", None, "None"), mmp=NO, tpslMode=EMPTY,
        tpLimitPrice=ZERO, slLimitPrice=ZERO, tpOrderType=EMPTY, slOrderType=EMPTY, slippageToleranceType=EMPTY,
        slippageTolerance=ZERO, bboSideType=EMPTY, bboLevel=EMPTY),
    ("POST", "/v5/order/cancel"): _signed(cancel_order, "category", "symbol", "orderId", "orderLinkId",
                                          orderFilter=PLAIN),
    ("POST", "/v5/order/cancel-all"): _signed(cancel_all, "category", "symbol", "baseCoin", "settleCoin",
                                              orderFilter=PLAIN, stopOrderType=EMPTY),
    ("GET", "/v5/order/realtime"): _signed(open_orders, "category", "symbol", "baseCoin", "settleCoin", "orderId",
                                           "orderLinkId", "openOnly", *_PAGE, orderFilter=PLAIN),
    ("GET", "/v5/order/history"): _signed(order_history, "category", "symbol", "baseCoin", "settleCoin", "orderId",
                                          "orderLinkId", "orderStatus", "startTime", "endTime", *_PAGE,
                                          orderFilter=PLAIN),
    ("GET", "/v5/execution/list"): _signed(executions, "category", "symbol", "orderId", "orderLinkId", "baseCoin",
                                           "startTime", "endTime", "execType", *_PAGE),
}
