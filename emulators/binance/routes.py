"""Binance's REST routes as data: (method, path) -> handler, request weight, who may call it, what it reads.

Weights are the published ones (depth's depends on ``limit``, the tickers' and openOrders' on the symbols
named); `dialect.BinanceDialect.handle_http` refuses an unknown path with -1000, reads the parameters
(`params.read_params`), refuses any the route does not read with -1104, authenticates and counts the request
by its route, then runs the handler. Handlers validate values and refuse in Binance's words (`errors`);
`render` prints what they return. The WebSocket API (`wsapi`) runs the same handlers.

Served beyond ``/api/v3``: the wallet reads widely used clients make at start-up (``/sapi/v1/asset/tradeFee``,
``/sapi/v1/capital/config/getall``, ``/sapi/v1/account/status``, ``/sapi/v1/account/apiRestrictions``,
``/sapi/v1/system/status``). The spot listen-key paths (``/api/v3/userDataStream``), retired on 2026-02-20,
answer ``410 Gone`` with the gateway's HTML page, as Binance does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from emulators.binance import errors, render
from emulators.binance import params as bp
from emulators.engine import EOrder, PublicTrade, Rejected, SymbolState, routing, wall_ms
from emulators.engine.candles import Bar, Interval, aggregate
from emulators.engine.errors import VenueError, refuse
from emulators.engine.model import CANDLE_MS, Candle, RejectReason
from emulators.engine.ratewindows import FixedWindow
from emulators.engine.routing import Auth, Params

if TYPE_CHECKING:
    from emulators.binance.dialect import BinanceDialect

WEIGHT_LIMIT = 6000
SAPI_IP_LIMIT = 12000
ORDERS_10S = 100
ORDERS_1D = 200_000
RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": WEIGHT_LIMIT},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": ORDERS_10S},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": ORDERS_1D},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]
# Every kline interval Binance documents; "1s" bars are built from public trades, the others from the
# engine's one-minute candles (the engine keeps 1000 minutes, so long bars start partial).
INTERVALS: dict[str, Interval] = {
    "1m": Interval(1), "3m": Interval(3), "5m": Interval(5), "15m": Interval(15), "30m": Interval(30),
    "1h": Interval(60), "2h": Interval(120), "4h": Interval(240), "6h": Interval(360), "8h": Interval(480),
    "12h": Interval(720), "1d": Interval(1440), "3d": Interval(4320), "1w": Interval(10080),
    "1M": Interval(months=1),
}
KLINE_INTERVALS = ("1s", *INTERVALS)
SIGNING = frozenset({"timestamp", "recvWindow", "signature"})


@attrs.define
class IpBudget:
    """What Binance counts per IP: request weight per minute (``/api`` and ``/sapi`` apart), and bans."""

    weight: FixedWindow = attrs.field(factory=lambda: FixedWindow(60))
    sapi_weight: FixedWindow = attrs.field(factory=lambda: FixedWindow(60))
    banned_until: float = 0.0
    violations: int = 0
    bans: int = 0


@attrs.define
class Budget:
    """What Binance counts per account: new orders per 10 s and per day (the unfilled order count)."""

    orders_10s: FixedWindow = attrs.field(factory=lambda: FixedWindow(10))
    orders_1d: FixedWindow = attrs.field(factory=lambda: FixedWindow(86400))


Call = routing.Call[Budget]


@attrs.frozen
class Route(routing.Route["BinanceDialect", Budget]):
    """A route and the parameters it reads (any other is refused with -1104); signed routes also read the
    signing parameters."""

    reads: frozenset[str] = frozenset()
    sapi: bool = False  # counted in the /sapi IP window (X-SAPI-USED-IP-WEIGHT-1M)

    @property
    def accepted(self) -> frozenset[str]:
        return self.reads | SIGNING if self.auth is Auth.SIGNED else self.reads


def reads(*names: str) -> frozenset[str]:
    return frozenset(names)


# ---------------------------------------------------------------------- weights
def _whole_or(p: Params, name: str, default: int) -> int:
    raw = p.get(name)
    return int(raw) if isinstance(raw, str) and bp.WHOLE.match(raw) else default


def depth_weight(p: Params) -> int:
    limit = _whole_or(p, "limit", 100)
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def _symbol_count(p: Params) -> int | None:
    raw = p.get("symbols")
    return raw.count(",") + 1 if isinstance(raw, str) and raw.strip("[] ") else None


def symbol_weight(one: int, every: int) -> Callable[[Params], int]:
    """``one`` for a named symbol, ``every`` for all or a ``symbols`` list."""
    return lambda p: one if "symbol" in p else every


def ticker_24h_weight(p: Params) -> int:
    if "symbol" in p:
        return 2
    count = _symbol_count(p)
    if count is None:
        return 80
    return 2 if count <= 20 else 40 if count <= 100 else 80


def my_trades_weight(p: Params) -> int:
    return 5 if "orderId" in p else 20


# ---------------------------------------------------------------------- validation
def symbol_state(d: BinanceDialect, p: Params) -> SymbolState:
    symbol = bp.text(p, "symbol")
    if symbol is None:
        raise errors.mandatory("symbol")
    state = d.exchange.symbols.get(symbol.upper())
    if state is None:
        raise errors.invalid_symbol()
    return state


def named_states(d: BinanceDialect, p: Params) -> list[SymbolState] | None:
    """The states ``symbol`` or ``symbols`` (a JSON list) name, or None when neither is sent."""
    if "symbol" in p and "symbols" in p:
        raise errors.bad_combination()
    if "symbol" in p:
        return [symbol_state(d, p)]
    names = bp.symbols_list(p)
    if names is None:
        return None
    return [symbol_state(d, {"symbol": name}) for name in names]


def status_filter(d: BinanceDialect, p: Params, states: Iterable[SymbolState], *, single: bool) -> list[SymbolState]:
    """``symbolStatus``: every emulated symbol is TRADING; another status matches none of them."""
    status = bp.choice(p, "symbolStatus", ("TRADING", "HALT", "BREAK"))
    listed = list(states)
    if status is None or status == "TRADING":
        return listed
    if single:
        raise errors.error(-1220, "The symbol's status does not match the requested symbolStatus.")
    return []


def per_symbol(d: BinanceDialect, p: Params, show: Callable[[SymbolState], Any]) -> Any:
    """One object for ``symbol``, else a list (``symbols``, or every symbol)."""
    named = named_states(d, p)
    states = status_filter(d, p, named if named is not None else d.exchange.symbols.values(), single="symbol" in p)
    if "symbol" in p:
        return show(states[0])
    return [show(s) for s in states]


def time_bounds(p: Params) -> tuple[int | None, int | None]:
    start, end = bp.whole(p, "startTime"), bp.whole(p, "endTime")
    if start is not None and end is not None and end < start:
        raise errors.error(-1023, "Start time is greater than end time.")
    return start, end


def day_window(p: Params) -> tuple[int | None, int | None]:
    start, end = time_bounds(p)
    if start is not None and end is not None and end - start > 86_400_000:
        raise errors.error(-1127, "More than 24 hours between startTime and endTime.")
    return start, end


def within(items: Iterable[Any], when: Callable[[Any], int], start: int | None, end: int | None) -> list[Any]:
    return [i for i in items if (start is None or when(i) >= start) and (end is None or when(i) <= end)]


def find_order(d: BinanceDialect, call: Call) -> EOrder:
    """By ``orderId`` (then checked against ``origClientOrderId`` when both are sent) or by client id."""
    p = call.params
    state = symbol_state(d, p)
    order_id = bp.whole(p, "orderId")
    client_id = bp.text(p, "origClientOrderId")
    if order_id is None and client_id is None:
        raise errors.either("origClientOrderId", "orderId")
    try:
        order = d.exchange.find(state.spec.symbol, order_id=order_id, client_order_id=client_id,
                                account=call.account.name)
    except Rejected as rejected:
        raise refuse(errors.REJECTIONS, rejected) from None
    if order_id is not None and client_id is not None and order.client_order_id != client_id:
        raise refuse(errors.REJECTIONS, Rejected(RejectReason.UNKNOWN_ORDER))
    return order


# ---------------------------------------------------------------------- general and market data
def ping(d: BinanceDialect, call: Call) -> Any:
    return {}


def server_time(d: BinanceDialect, call: Call) -> Any:
    return {"serverTime": wall_ms()}


def exchange_info(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    named = named_states(d, p)
    if named is not None and "permissions" in p:
        raise errors.bad_combination()
    states = status_filter(d, p, named if named is not None else d.exchange.symbols.values(), single=False)
    permissions = bp.text(p, "permissions")
    if permissions is not None and "SPOT" not in permissions:
        states = []  # every emulated market is spot
    show_sets = bp.boolean(p, "showPermissionSets")
    return {"timezone": "UTC", "serverTime": wall_ms(), "rateLimits": RATE_LIMITS, "exchangeFilters": [],
            "symbols": [render.symbol_info(s.spec, show_sets is not False) for s in states]}


def price_ticker(d: BinanceDialect, call: Call) -> Any:
    return per_symbol(d, call.params, render.price_ticker)


def book_ticker(d: BinanceDialect, call: Call) -> Any:
    return per_symbol(d, call.params, render.book_ticker)


def ticker_24h(d: BinanceDialect, call: Call) -> Any:
    mini = bp.choice(call.params, "type", ("FULL", "MINI"), "FULL") == "MINI"
    return per_symbol(d, call.params, lambda s: render.ticker_24h(s, mini=mini))


def avg_price(d: BinanceDialect, call: Call) -> Any:
    state = symbol_state(d, call.params)
    last = state.trades[-1].time_ms if state.trades else wall_ms()
    return {"mins": 5, "price": render.fmt(average_price(state)), "closeTime": last}


def average_price(state: SymbolState) -> Decimal:
    """The volume-weighted price of the last five one-minute candles (what ``avgPrice`` reports)."""
    recent = state.candles[-5:]
    volume = sum((c.volume for c in recent), Decimal(0))
    if not volume:
        return state.mid
    tick = state.spec.tick_size
    return (sum((c.quote_volume for c in recent), Decimal(0)) / volume / tick).to_integral_value() * tick


def second_bars(trades: Iterable[PublicTrade]) -> list[Bar]:
    """One-second bars from the public trades the engine keeps (its last 1000)."""
    bars: list[Bar] = []
    for t in trades:
        start = t.time_ms // 1000 * 1000
        if bars and bars[-1].open_ms == start:
            bar = bars[-1]
            bar.high, bar.low, bar.close = max(bar.high, t.price), min(bar.low, t.price), t.price
            bar.volume += t.quantity
            bar.quote_volume += t.price * t.quantity
            bar.trades += 1
        else:
            bars.append(Bar(start, start + 999, t.price, t.price, t.price, t.price, t.quantity,
                            t.price * t.quantity, 1))
    return bars


def bars_of(state: SymbolState, interval: str, offset_ms: int = 0, since_ms: int | None = None) -> list[Bar]:
    """The ``interval`` bars of a symbol, their boundaries shifted by a time-zone offset (``timeZone``,
    ``@+08:00``); ``since_ms`` skips candles that end before it (streams need only the latest bars)."""
    if interval == "1s":
        return second_bars(state.trades)
    candles: list[Candle] = state.candles
    if since_ms is not None:
        candles = [c for c in candles if c.open_ms + CANDLE_MS > since_ms]
    if offset_ms:
        shifted = [attrs.evolve(c, open_ms=c.open_ms + offset_ms) for c in candles]
        return [attrs.evolve(b, open_ms=b.open_ms - offset_ms, close_ms=b.close_ms - offset_ms)
                for b in aggregate(shifted, INTERVALS[interval])]
    return aggregate(candles, INTERVALS[interval])


def klines(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    state = symbol_state(d, p)
    interval = bp.text(p, "interval")
    if interval is None:
        raise errors.mandatory("interval")
    if interval not in KLINE_INTERVALS:
        raise errors.bad_interval()
    start, end = time_bounds(p)
    limit = bp.limit(p, default=500, maximum=1000)
    bars = within(bars_of(state, interval, bp.time_zone_ms(p)), lambda bar: bar.open_ms, start, end)
    chosen = bars[:limit] if start is not None else bars[-limit:]
    return [render.kline(bar) for bar in chosen]


def depth(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    state = status_filter(d, p, [symbol_state(d, p)], single=True)[0]
    return render.depth(state, bp.limit(p, default=100, maximum=5000), d.feeds.update_id(state))


def trades(d: BinanceDialect, call: Call) -> Any:
    state = symbol_state(d, call.params)
    limit = bp.limit(call.params, default=500, maximum=1000)
    return [render.trade(t) for t in state.trades[-limit:]]


def historical_trades(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    state = symbol_state(d, p)
    limit = bp.limit(p, default=500, maximum=1000)
    from_id = bp.whole(p, "fromId")
    if from_id is None:
        return [render.trade(t) for t in state.trades[-limit:]]
    return [render.trade(t) for t in state.trades if t.trade_id >= from_id][:limit]


def agg_trades(d: BinanceDialect, call: Call) -> Any:
    """Each engine trade is one taker's fill at one price: one aggregate trade (``a`` = ``f`` = ``l``)."""
    p = call.params
    state = symbol_state(d, p)
    limit = bp.limit(p, default=500, maximum=1000)
    from_id = bp.whole(p, "fromId")
    start, end = time_bounds(p)
    if from_id is not None and (start is not None or end is not None):
        raise errors.bad_combination()
    if from_id is not None:
        chosen = [t for t in state.trades if t.trade_id >= from_id][:limit]
    elif start is not None:
        chosen = within(state.trades, lambda t: t.time_ms, start, end)[:limit]
    else:
        chosen = within(state.trades, lambda t: t.time_ms, None, end)[-limit:]
    return [render.agg_trade(t) for t in chosen]


# ---------------------------------------------------------------------- account and orders
def account(d: BinanceDialect, call: Call) -> Any:
    return render.account(d.exchange.balances[call.account.name], call.account.uid,
                          bp.boolean(call.params, "omitZeroBalances") is True)


ORDER_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER")
UNSERVED_TYPES = {  # documented types the emulator does not model, refused as a symbol that disables them
    "STOP_LOSS": "Stop loss orders are not supported for this symbol.",
    "STOP_LOSS_LIMIT": "Stop loss limit orders are not supported for this symbol.",
    "TAKE_PROFIT": "Take profit orders are not supported for this symbol.",
    "TAKE_PROFIT_LIMIT": "Take profit limit orders are not supported for this symbol.",
}
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT")
ORDER_READS = reads("symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price",
                    "newClientOrderId", "newOrderRespType", "stopPrice", "trailingDelta", "icebergQty",
                    "strategyId", "strategyType", "selfTradePreventionMode", "pegPriceType", "pegOffsetValue",
                    "pegOffsetType")


@attrs.frozen
class OrderAsk:
    """A validated new order, as the engine takes it."""

    symbol: str
    side: str
    kind: str
    quantity: Decimal
    price: Decimal | None
    tif: str
    client_id: str
    quote_qty: Decimal | None
    response_type: str


def order_ask(d: BinanceDialect, p: Params) -> OrderAsk:
    """Validate POST /api/v3/order (and ``order.place``/``order.test``) parameters in Binance's order."""
    state = symbol_state(d, p)
    side = bp.text(p, "side")
    if side is None:
        raise errors.mandatory("side")
    if side not in ("BUY", "SELL"):
        raise errors.error(-1117, "Invalid side.")
    kind = bp.text(p, "type")
    if kind is None:
        raise errors.mandatory("type")
    if kind in UNSERVED_TYPES:
        raise errors.rejected(UNSERVED_TYPES[kind])
    if kind not in ORDER_TYPES:
        raise errors.error(-1116, "Invalid orderType.")
    for unserved, message in (("icebergQty", "Iceberg orders are not supported for this symbol."),
                              ("trailingDelta", "Trailing stop orders are not supported for this symbol."),
                              ("pegPriceType", "This order type is not possible in this trading phase.")):
        if bp.text(p, unserved) is not None:
            raise errors.rejected(message)
    for name in ("stopPrice", "pegOffsetValue", "pegOffsetType"):
        if bp.text(p, name) is not None:
            raise errors.not_required(name)
    bp.whole(p, "strategyId")
    if (strategy_type := bp.whole(p, "strategyType")) is not None and strategy_type < 1_000_000:
        raise errors.error(-1134, "`strategyType` was less than 1000000.")
    bp.choice(p, "selfTradePreventionMode", STP_MODES)
    tif = bp.text(p, "timeInForce")
    if tif is not None and tif not in ("GTC", "IOC", "FOK"):
        raise errors.error(-1115, "Invalid timeInForce.")
    price = bp.decimal(p, "price")
    quantity = bp.decimal(p, "quantity")
    quote_qty = bp.decimal(p, "quoteOrderQty")
    if kind == "MARKET":
        for name, value in (("price", price), ("timeInForce", tif)):
            if value is not None:
                raise errors.not_required(name)
        if quantity is None and quote_qty is None:
            raise errors.either("quantity", "quoteOrderQty")
        if quantity is not None and quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
    else:
        if quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
        if kind == "LIMIT" and tif is None:
            raise errors.mandatory("timeInForce")
        if kind == "LIMIT_MAKER" and tif is not None:
            raise errors.error(-1114, "TimeInForce parameter sent when not required.")
        if price is None:
            raise errors.mandatory("price")
        if quantity is None:
            raise errors.mandatory("quantity")
    client_id = bp.client_id(p, "newClientOrderId") or f"x-{secrets.token_hex(11)}"
    default_response = "FULL" if kind in ("MARKET", "LIMIT") else "ACK"
    response_type = bp.choice(p, "newOrderRespType", ("ACK", "RESULT", "FULL"), default_response)
    assert response_type is not None
    return OrderAsk(state.spec.symbol, side, kind, quantity or Decimal(0), price, tif or "GTC", client_id,
                    quote_qty, response_type)


def place(d: BinanceDialect, call: Call) -> Any:
    ask = order_ask(d, call.params)
    try:
        order = d.exchange.place(call.account.name, ask.symbol, ask.side, ask.kind,  # type: ignore[arg-type]
                                 ask.quantity, ask.price, ask.tif, ask.client_id,  # type: ignore[arg-type]
                                 ask.quote_qty, exact_quote=ask.quote_qty is not None)
    except Rejected as rejected:
        raise refuse(errors.REJECTIONS, rejected) from None
    fills = [] if ask.response_type != "FULL" else \
        [f for f in d.exchange.fill_log if f.order_id == order.order_id and f.symbol == order.symbol]
    return render.placed(order, ask.response_type, fills)


def test_order(d: BinanceDialect, call: Call) -> Any:
    """Validate as ``place`` would (parameters and filters), send nothing to the engine."""
    ask = order_ask(d, call.params)
    compute = bp.boolean(call.params, "computeCommissionRates")
    spec = d.exchange.symbols[ask.symbol].spec
    if ask.quote_qty is None:
        try:
            d.exchange.validate(spec, ask.kind, ask.quantity, ask.price)  # type: ignore[arg-type]
        except Rejected as rejected:
            raise refuse(errors.REJECTIONS, rejected) from None
    if not compute:
        return {}
    rates = render.commission_pair(d.exchange.fee_rate(spec, is_maker=True), d.exchange.fee_rate(spec, is_maker=False))
    return {"standardCommissionForOrder": rates, "specialCommissionForOrder": render.commission_pair(),
            "taxCommissionForOrder": render.commission_pair(), "discount": render.NO_DISCOUNT}


def query_order(d: BinanceDialect, call: Call) -> Any:
    return render.order(find_order(d, call))


def cancel(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    cancel_id = bp.client_id(p, "newClientOrderId") or f"cancel{secrets.token_hex(8)}"
    restriction = bp.text(p, "cancelRestrictions")
    if restriction is not None and restriction not in ("ONLY_NEW", "ONLY_PARTIALLY_FILLED"):
        raise errors.error(-1145, "`cancelRestrictions` has to be either `ONLY_NEW` or `ONLY_PARTIALLY_FILLED`.")
    try:
        order = find_order(d, call)
    except VenueError as error:
        if error.code == -2013:
            raise errors.unknown_order() from None
        raise
    if not order.is_open:
        raise errors.unknown_order()
    if restriction is not None and order.status != restriction.removeprefix("ONLY_"):
        raise errors.error(-2011, "Order was not canceled due to cancel restrictions.")
    return render.cancelled(d.cancel_order(order, cancel_id), cancel_id)


def open_orders(d: BinanceDialect, call: Call) -> Any:
    symbol = None
    if bp.text(call.params, "symbol") is not None:
        symbol = symbol_state(d, call.params).spec.symbol
    return [render.order(o) for o in d.exchange.open_orders(call.account.name, symbol)]


def cancel_open_orders(d: BinanceDialect, call: Call) -> Any:
    state = symbol_state(d, call.params)
    orders = d.exchange.open_orders(call.account.name, state.spec.symbol)
    if not orders:
        raise errors.unknown_order()
    return [render.cancelled(d.cancel_order(o, f"cancel{secrets.token_hex(8)}"), None) for o in orders]


def all_orders(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    state = symbol_state(d, p)
    orders = [o for o in d.exchange.all_orders() if o.account == call.account.name and o.symbol == state.spec.symbol]
    from_id = bp.whole(p, "orderId")
    start, end = day_window(p)
    limit = bp.limit(p, default=500, maximum=1000)
    if from_id is not None:
        orders = [o for o in orders if o.order_id >= from_id]
    orders = within(orders, lambda o: o.created_ms, start, end)
    chosen = orders[:limit] if from_id is not None or start is not None else orders[-limit:]
    return [render.order(o) for o in chosen]


MY_TRADES_COMBINATIONS = [set(), {"orderId"}, {"startTime"}, {"endTime"}, {"fromId"}, {"startTime", "endTime"},
                          {"orderId", "fromId"}]


def my_trades(d: BinanceDialect, call: Call) -> Any:
    p = call.params
    state = symbol_state(d, p)
    if {n for n in ("orderId", "startTime", "endTime", "fromId") if n in p} not in MY_TRADES_COMBINATIONS:
        raise errors.bad_combination()
    fills = d.exchange.fills_of(call.account.name, state.spec.symbol)
    order_id, from_id = bp.whole(p, "orderId"), bp.whole(p, "fromId")
    start, end = day_window(p)
    limit = bp.limit(p, default=500, maximum=1000)
    if order_id is not None:
        fills = [f for f in fills if f.order_id == order_id]
    if from_id is not None:
        fills = [f for f in fills if f.trade_id >= from_id]
    fills = within(fills, lambda f: f.time_ms, start, end)
    chosen = fills[:limit] if from_id is not None or start is not None else fills[-limit:]
    return [render.my_trade(f) for f in chosen]


def rate_limit_order(d: BinanceDialect, call: Call) -> Any:
    return d.order_counts(call.account)


def commission(d: BinanceDialect, call: Call) -> Any:
    state = symbol_state(d, call.params)
    return render.commission(state.spec.symbol, d.exchange.fee_rate(state.spec, is_maker=True),
                             d.exchange.fee_rate(state.spec, is_maker=False))


# ---------------------------------------------------------------------- /sapi wallet reads
def trade_fee(d: BinanceDialect, call: Call) -> Any:
    named = named_states(d, call.params)
    states = named if named is not None else list(d.exchange.symbols.values())
    return [render.trade_fee(s.spec.symbol, d.exchange.fee_rate(s.spec, is_maker=True),
                             d.exchange.fee_rate(s.spec, is_maker=False)) for s in states]


def coins(d: BinanceDialect, call: Call) -> Any:
    assets = sorted({a for s in d.exchange.symbols.values() for a in (s.spec.base, s.spec.quote)} |
                    set(d.exchange.balances[call.account.name]))
    wallet = d.exchange.balances[call.account.name]
    return [render.coin(asset, *wallet.get(asset, [Decimal(0), Decimal(0)])) for asset in assets]


def account_status(d: BinanceDialect, call: Call) -> Any:
    return {"data": "Normal"}


def api_restrictions(d: BinanceDialect, call: Call) -> Any:
    return render.api_restrictions(d.created_ms)


def system_status(d: BinanceDialect, call: Call) -> Any:
    return {"status": 0, "msg": "normal"}


# ---------------------------------------------------------------------- retired
def listen_key_gone(d: BinanceDialect, call: Call) -> Any:
    """The spot listen keys were retired on 2026-02-20: `dialect.handle_http` answers these paths with the
    gateway's ``410 Gone`` page before anything else; this handler is never reached."""
    raise errors.unknown_endpoint("", "")


API, SAPI = "/api/v3", "/sapi/v1"
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", f"{API}/ping"): Route(ping, 1),
    ("GET", f"{API}/time"): Route(server_time, 1),
    ("GET", f"{API}/exchangeInfo"): Route(exchange_info, 20, reads=reads(
        "symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus")),
    ("GET", f"{API}/depth"): Route(depth, depth_weight, reads=reads("symbol", "limit", "symbolStatus")),
    ("GET", f"{API}/trades"): Route(trades, 25, reads=reads("symbol", "limit")),
    ("GET", f"{API}/historicalTrades"): Route(historical_trades, 25, reads=reads("symbol", "limit", "fromId")),
    ("GET", f"{API}/aggTrades"): Route(agg_trades, 4, reads=reads("symbol", "fromId", "startTime", "endTime",
                                                                   "limit")),
    ("GET", f"{API}/klines"): Route(klines, 2, reads=reads("symbol", "interval", "startTime", "endTime",
                                                           "timeZone", "limit")),
    ("GET", f"{API}/uiKlines"): Route(klines, 2, reads=reads("symbol", "interval", "startTime", "endTime",
                                                             "timeZone", "limit")),
    ("GET", f"{API}/avgPrice"): Route(avg_price, 2, reads=reads("symbol")),
    ("GET", f"{API}/ticker/24hr"): Route(ticker_24h, ticker_24h_weight, reads=reads(
        "symbol", "symbols", "type", "symbolStatus")),
    ("GET", f"{API}/ticker/price"): Route(price_ticker, symbol_weight(2, 4), reads=reads(
        "symbol", "symbols", "symbolStatus")),
    ("GET", f"{API}/ticker/bookTicker"): Route(book_ticker, symbol_weight(2, 4), reads=reads(
        "symbol", "symbols", "symbolStatus")),
    ("GET", f"{API}/account"): Route(account, 20, Auth.SIGNED, reads=reads("omitZeroBalances")),
    ("GET", f"{API}/account/commission"): Route(commission, 20, Auth.SIGNED, reads=reads("symbol")),
    ("GET", f"{API}/rateLimit/order"): Route(rate_limit_order, 40, Auth.SIGNED),
    ("POST", f"{API}/order"): Route(place, 1, Auth.SIGNED, counts_order=True, reads=ORDER_READS),
    ("POST", f"{API}/order/test"): Route(test_order, lambda p: 20 if p.get("computeCommissionRates") == "true"
                                         else 1, Auth.SIGNED, reads=ORDER_READS | {"computeCommissionRates"}),
    ("DELETE", f"{API}/order"): Route(cancel, 1, Auth.SIGNED, reads=reads(
        "symbol", "orderId", "origClientOrderId", "newClientOrderId", "cancelRestrictions")),
    ("GET", f"{API}/order"): Route(query_order, 4, Auth.SIGNED, reads=reads("symbol", "orderId", "origClientOrderId")),
    ("GET", f"{API}/openOrders"): Route(open_orders, symbol_weight(6, 80), Auth.SIGNED, reads=reads("symbol")),
    ("DELETE", f"{API}/openOrders"): Route(cancel_open_orders, 1, Auth.SIGNED, reads=reads("symbol")),
    ("GET", f"{API}/allOrders"): Route(all_orders, 20, Auth.SIGNED, reads=reads(
        "symbol", "orderId", "startTime", "endTime", "limit")),
    ("GET", f"{API}/myTrades"): Route(my_trades, my_trades_weight, Auth.SIGNED, reads=reads(
        "symbol", "orderId", "startTime", "endTime", "fromId", "limit")),
    ("POST", f"{API}/userDataStream"): Route(listen_key_gone),
    ("PUT", f"{API}/userDataStream"): Route(listen_key_gone),
    ("DELETE", f"{API}/userDataStream"): Route(listen_key_gone),
    ("GET", f"{SAPI}/system/status"): Route(system_status, 1, sapi=True),
    ("GET", f"{SAPI}/asset/tradeFee"): Route(trade_fee, 1, Auth.SIGNED, reads=reads("symbol"), sapi=True),
    ("GET", f"{SAPI}/capital/config/getall"): Route(coins, 10, Auth.SIGNED, sapi=True),
    ("GET", f"{SAPI}/account/status"): Route(account_status, 1, Auth.SIGNED, sapi=True),
    ("GET", f"{SAPI}/account/apiRestrictions"): Route(api_restrictions, 1, Auth.SIGNED, sapi=True),
}
