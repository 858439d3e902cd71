"""Bybit V5 <-> protocol, both directions, in one place.

Symbols: ``BTC/USDT`` is spot ``BTCUSDT``; ``BTC/USDT:USDT`` linear ``BTCUSDT``; ``BTC/USD:BTC`` inverse
``BTCUSD``. Bybit's own names are not derivable from base/quote (USDC perpetuals are ``BTCPERP``,
dated futures ``BTCUSDT-21FEB25``), so the venue symbol always comes from instruments-info, and the
client's instrument index (brokers/instruments.py, keyed by category) holds both directions. Dated futures get ccxt's expiry suffix
(``BTC/USDT:USDT-250221``) so they never collide with the perpetual.

Enums, orders, fills, positions, balances, tickers and candles map here, and the request bodies are
built here; nothing here keeps state (the book is in book.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from brokers import intervals, wire
from brokers.bybit import schemas as s
from brokers.bybit.constants import (
    KLINE_INTERVALS,
    KLINE_INTERVALS_FROM_VENUE,
    ORDER_LINK_ID_MAX_LEN,
    VENUE,
    VENUE_NAME,
    Category,
    is_valid_order_link_id,
)
from brokers.wire import plain
from protocol.errors import InvalidOrder, NotSupported, ProtocolViolation
from protocol.model import (
    ZERO,
    Balance,
    Candle,
    Fill,
    Instrument,
    MarginMode,
    MarketType,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    Ticker,
    TimeInForce,
    Trade,
    from_epoch_ms,
)

# --- enums --------------------------------------------------------------------------------------------

MARKET_TYPE = {Category.SPOT: MarketType.SPOT, Category.LINEAR: MarketType.LINEAR,
               Category.INVERSE: MarketType.INVERSE}
CATEGORY = {v: k for k, v in MARKET_TYPE.items()}

ORDER_STATUS: dict[str, OrderStatus] = {
    "New": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Untriggered": OrderStatus.NEW,  # conditional order accepted, waiting for its trigger
    "Triggered": OrderStatus.NEW,  # instantaneous: Untriggered -> New
    "Rejected": OrderStatus.REJECTED,
    "PartiallyFilledCanceled": OrderStatus.CANCELED,  # spot only: cancelled after a partial fill
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,  # derivatives: may carry an executed qty
    "Deactivated": OrderStatus.CANCELED,  # UTA: spot TP/SL, conditional or OCO order cancelled before trigger
}

SIDE_TO_VENUE = {Side.BUY: "Buy", Side.SELL: "Sell"}
SIDE = {v: k for k, v in SIDE_TO_VENUE.items()}

TIF_TO_VENUE = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK",
                TimeInForce.POST_ONLY: "PostOnly"}
TIF = {v: k for k, v in TIF_TO_VENUE.items()} | {"RPI": TimeInForce.POST_ONLY}  # RPI is post-only

MARGIN_MODES = {"REGULAR_MARGIN": MarginMode.CROSS, "ISOLATED_MARGIN": MarginMode.ISOLATED,
                "PORTFOLIO_MARGIN": MarginMode.CROSS}
"""/v5/account/info ``marginMode`` -> ours (portfolio margin is cross margin across the account)."""

TRADE_EXEC_TYPES = frozenset({"Trade"})
"""Executions that are fills of our orders; Funding, Settle, Delivery, AdlTrade, BustTrade ... are not."""


_lookup = functools.partial(wire.lookup, venue=VENUE, name=VENUE_NAME)


def side_from(venue_side: str) -> Side:
    return _lookup(SIDE, venue_side, "side")


def order_status_from(venue_status: str) -> OrderStatus:
    return _lookup(ORDER_STATUS, venue_status, "orderStatus")


def time_in_force_from(venue_tif: str) -> TimeInForce:
    return _lookup(TIF, venue_tif, "timeInForce")


def _ms(text: str | int, field: str) -> datetime:
    try:
        return from_epoch_ms(text)
    except ValueError:
        raise ProtocolViolation(f"Bybit sent {field}={text!r}, not epoch milliseconds", venue=VENUE) from None


# --- symbols and instruments -----------------------------------------------------------------------------

def unified_symbol(category: Category, base: str, quote: str, settle: str = "", expiry_ms: str = "") -> str:
    if category is Category.SPOT:
        return f"{base}/{quote}"
    symbol = f"{base}/{quote}:{settle or (base if category is Category.INVERSE else quote)}"
    if expiry_ms and expiry_ms != "0":
        symbol += "-" + _ms(expiry_ms, "deliveryTime").strftime("%y%m%d")
    return symbol


def split_unified(symbol: str) -> tuple[str, str, str | None]:
    """``BASE/QUOTE[:SETTLE[-YYMMDD]]`` -> (base, quote, settle or None)."""
    pair, _, settle = symbol.partition(":")
    base, slash, quote = pair.partition("/")
    if not slash or not base or not quote:
        raise InvalidOrder(f"{symbol!r} is not a unified symbol (BASE/QUOTE or BASE/QUOTE:SETTLE)", venue=VENUE,
                           filter="SYMBOL")
    return base, quote, (settle.split("-")[0] or None) if settle else None


def category_of(symbol: str) -> Category:
    """Spot without a settle coin; linear when settled in the quote; inverse when settled in the base."""
    base, quote, settle = split_unified(symbol)
    if settle is None:
        return Category.SPOT
    if settle == quote:
        return Category.LINEAR
    if settle == base:
        return Category.INVERSE
    raise NotSupported(f"{symbol}: settled in neither base nor quote", venue=VENUE)


def instrument_from(category: Category, info: s.InstrumentInfo) -> Instrument:
    """One instruments-info row -> Instrument with Bybit's filters.

    Spot: lot = ``basePrecision``, min notional = ``minOrderAmt`` (Bybit no longer checks spot
    ``minOrderQty``, it is kept as a floor anyway), max qty = ``maxLimitOrderQty``/``maxOrderQty``.
    Linear: lot = ``qtyStep``, min notional = ``minNotionalValue``. Inverse: qty counts USD contracts.
    """
    lot = info.lotSizeFilter
    if category is Category.SPOT:
        step = lot.basePrecision or lot.qtyStep
        min_notional = lot.minOrderAmt or ZERO
        max_qty = lot.maxLimitOrderQty or lot.maxOrderQty
        max_leverage = Decimal(1)
        settle = None
    else:
        step = lot.qtyStep or lot.basePrecision
        min_notional = lot.minNotionalValue or ZERO
        max_qty = lot.maxOrderQty
        max_leverage = info.leverageFilter.maxLeverage if info.leverageFilter else Decimal(1)
        settle = info.settleCoin or (info.baseCoin if category is Category.INVERSE else info.quoteCoin)
    if step is None:
        raise ProtocolViolation(f"instrument {info.symbol} has no quantity step", venue=VENUE)
    return Instrument(
        venue=VENUE,
        symbol=unified_symbol(category, info.baseCoin, info.quoteCoin, settle or "", info.deliveryTime),
        venue_symbol=info.symbol,
        market_type=MARKET_TYPE[category],
        base=info.baseCoin,
        quote=info.quoteCoin,
        settle=settle,
        tick_size=info.priceFilter.tickSize.normalize(),
        lot_size=step.normalize(),
        min_qty=(lot.minOrderQty or ZERO).normalize(),
        max_qty=max_qty.normalize() if max_qty else None,
        min_notional=min_notional.normalize(),
        max_leverage=max_leverage.normalize(),
        trading=info.status == "Trading",
    )


def category_of_instrument(instrument: Instrument) -> Category:
    try:
        return CATEGORY[instrument.market_type]
    except KeyError:
        raise NotSupported(f"Bybit has no category for {instrument.market_type}", venue=VENUE) from None


# --- orders -------------------------------------------------------------------------------------------

def _order_type_from(info: s.OrderInfo) -> OrderType:
    trigger = s.opt_decimal(info.triggerPrice, field="triggerPrice")
    stop = trigger is not None and trigger > 0
    if info.orderType == "Market":
        return OrderType.STOP_MARKET if stop else OrderType.MARKET
    if info.orderType == "Limit":
        return OrderType.STOP_LIMIT if stop else OrderType.LIMIT
    raise ProtocolViolation(f"unknown Bybit orderType {info.orderType!r}", venue=VENUE)


def order_from(info: s.OrderInfo, instrument: Instrument) -> Order:
    """A realtime/history row or an ``order`` stream item -> Order (cumulative fields, forward-only)."""
    order_type = _order_type_from(info)
    price = s.opt_decimal(info.price, field="price")
    average = s.opt_decimal(info.avgPrice, field="avgPrice")
    trigger = s.opt_decimal(info.triggerPrice, field="triggerPrice")
    return Order(
        venue=VENUE,
        symbol=instrument.symbol,
        order_id=info.orderId,
        client_order_id=info.orderLinkId,
        side=side_from(info.side),
        type=order_type,
        status=order_status_from(info.orderStatus),
        quantity=info.qty,
        price=price if price and order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
        stop_price=trigger if trigger else None,
        filled_quantity=info.cumExecQty,
        average_price=average if average else None,  # "" or "0" while unfilled
        time_in_force=time_in_force_from(info.timeInForce) if info.timeInForce else TimeInForce.GTC,
        reduce_only=info.reduceOnly,
        created_at=_ms(info.createdTime, "createdTime"),
        updated_at=_ms(info.updatedTime, "updatedTime"),
    )


def check_client_order_id(client_order_id: str) -> None:
    if not is_valid_order_link_id(client_order_id):
        raise InvalidOrder(f"client order id {client_order_id!r}: Bybit takes 1..{ORDER_LINK_ID_MAX_LEN} "
                           "characters of letters, digits, '-' and '_'", venue=VENUE, filter="CLIENT_ORDER_ID",
                           client_order_id=client_order_id)


def order_create_body(request: OrderRequest, instrument: Instrument, client_order_id: str) -> dict[str, object]:
    """POST /v5/order/create body (quantities in base units; inverse: USD contracts).

    Spot market orders get ``marketUnit: baseCoin`` because Bybit otherwise reads a spot market BUY
    ``qty`` as quote value. Derivatives run one-way (``positionIdx`` 0). Stops become conditional
    orders: ``triggerPrice`` plus ``triggerDirection`` (1 rises to it for a buy, 2 falls to it for a
    sell) on derivatives, ``orderFilter: StopOrder`` on spot.
    """
    check_client_order_id(client_order_id)
    category = category_of_instrument(instrument)
    is_market = request.type in (OrderType.MARKET, OrderType.STOP_MARKET)
    body: dict[str, object] = {
        "category": category.value,
        "symbol": instrument.venue_symbol,
        "side": SIDE_TO_VENUE[request.side],
        "orderType": "Market" if is_market else "Limit",
        "qty": plain(request.quantity, venue=VENUE),
    }
    if not is_market:
        if request.price is None:
            raise InvalidOrder("a limit order needs a price", venue=VENUE, filter="PRICE_FILTER",
                               client_order_id=client_order_id)
        body["price"] = plain(request.price, venue=VENUE)
    if request.time_in_force not in TIF_TO_VENUE:
        raise InvalidOrder(f"Bybit has no time in force {request.time_in_force}", venue=VENUE,
                           filter="TIME_IN_FORCE", client_order_id=client_order_id)
    if is_market and request.time_in_force not in (TimeInForce.GTC, TimeInForce.IOC):
        raise InvalidOrder(f"a Bybit market order is always IOC, not {request.time_in_force}", venue=VENUE,
                           filter="TIME_IN_FORCE", client_order_id=client_order_id)
    body["timeInForce"] = "IOC" if is_market else TIF_TO_VENUE[request.time_in_force]
    body["orderLinkId"] = client_order_id
    if request.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
        if request.stop_price is None:
            raise InvalidOrder("a stop order needs a stop price", venue=VENUE, filter="PRICE_FILTER",
                               client_order_id=client_order_id)
        body["triggerPrice"] = plain(request.stop_price, venue=VENUE)
        if category is Category.SPOT:
            body["orderFilter"] = "StopOrder"
        else:
            body["triggerDirection"] = 1 if request.side is Side.BUY else 2
            body["triggerBy"] = "LastPrice"
    if category is Category.SPOT:
        if request.reduce_only:
            raise InvalidOrder("reduce-only does not exist for Bybit spot", venue=VENUE, filter="REDUCE_ONLY",
                               client_order_id=client_order_id)
        if is_market:
            body["marketUnit"] = "baseCoin"
    else:
        body["positionIdx"] = 0
        body["reduceOnly"] = request.reduce_only
    return body


def order_cancel_body(instrument: Instrument, *, order_id: str | None = None,
                      client_order_id: str | None = None) -> dict[str, object]:
    """POST /v5/order/cancel body; Bybit prefers ``orderId`` when both are given."""
    if not order_id and not client_order_id:
        raise InvalidOrder("cancel needs an order id or a client order id", venue=VENUE)
    body: dict[str, object] = {"category": category_of_instrument(instrument).value,
                               "symbol": instrument.venue_symbol}
    if order_id:
        body["orderId"] = order_id
    if client_order_id:
        body["orderLinkId"] = client_order_id
    return body


def set_leverage_body(instrument: Instrument, leverage: Decimal) -> dict[str, object]:
    """POST /v5/position/set-leverage body (one-way mode: buy and sell leverage are the same)."""
    category = category_of_instrument(instrument)
    if category is Category.SPOT:
        raise NotSupported("Bybit spot has no per-symbol leverage", venue=VENUE)
    if leverage <= 0 or leverage > instrument.max_leverage:
        raise InvalidOrder(f"leverage {leverage} outside (0, {instrument.max_leverage}]", venue=VENUE,
                           filter="LEVERAGE")
    value = plain(leverage, venue=VENUE)
    return {"category": category.value, "symbol": instrument.venue_symbol, "buyLeverage": value,
            "sellLeverage": value}


# --- fills ------------------------------------------------------------------------------------------------

def is_trade_execution(execution: s.ExecutionInfo) -> bool:
    return execution.execType in TRADE_EXEC_TYPES


def fee_currency(execution: s.ExecutionInfo, instrument: Instrument) -> str:
    """Bybit's fee currency rules when ``feeCurrency`` is not given.

    Derivatives pay in the settle coin. Spot ("Spot Fee Currency Instruction"): with a positive fee
    rate a buy pays in base, a sell in quote; a negative (rebate) rate is maker-only and flips that
    (buy: quote, sell: base).
    """
    if execution.feeCurrency:
        return execution.feeCurrency
    if instrument.market_type is not MarketType.SPOT:
        return instrument.settle or instrument.quote
    rate = s.opt_decimal(execution.feeRate, field="feeRate")
    buy = execution.side == "Buy"
    if rate is not None and rate < 0 and execution.isMaker:
        return instrument.quote if buy else instrument.base
    return instrument.base if buy else instrument.quote


def fill_from_execution(execution: s.ExecutionInfo, instrument: Instrument) -> Fill:
    """An execution (REST list or ``execution`` stream) -> Fill; only for `is_trade_execution` rows.

    ``order_filled_quantity`` = ``orderQty - leavesQty`` at the time of this fill, when both are given
    and the quantity unit is known to be base units (not a spot market order, whose ``orderQty`` may
    be a quote value).
    """
    if not is_trade_execution(execution):
        raise ValueError(f"execution {execution.execId} is a {execution.execType}, not a fill")
    order_qty = s.opt_decimal(execution.orderQty, field="orderQty")
    leaves = s.opt_decimal(execution.leavesQty, field="leavesQty")
    filled: Decimal | None = None
    spot_market = instrument.market_type is MarketType.SPOT and execution.orderType != "Limit"
    if order_qty is not None and leaves is not None and order_qty > 0 and not spot_market:
        filled = order_qty - leaves
        if filled < execution.execQty:
            filled = None  # leavesQty was reset by a cancel: the order's progress is not knowable here
    return Fill(
        venue=VENUE,
        symbol=instrument.symbol,
        order_id=execution.orderId,
        client_order_id=execution.orderLinkId,
        trade_id=execution.execId,
        side=side_from(execution.side),
        price=execution.execPrice,
        quantity=execution.execQty,
        fee=execution.execFee,
        fee_currency=fee_currency(execution, instrument),
        is_maker=execution.isMaker,
        timestamp=_ms(execution.execTime, "execTime"),
        order_filled_quantity=filled,
    )


# --- positions and balances -------------------------------------------------------------------------------

POSITION_SIDE = {"Buy": PositionSide.LONG, "Sell": PositionSide.SHORT, "": PositionSide.FLAT,
                 "None": PositionSide.FLAT}


def position_from(info: s.PositionInfo, instrument: Instrument, *, margin_mode: MarginMode | None = None) -> Position:
    """A position row/stream item -> Position.

    ``tradeMode`` (0 cross, 1 isolated) is meaningful for classic and inverse accounts only; UTA 2.0
    always says 0, so pass the account's ``margin_mode`` (from /v5/account/info) when known.
    """
    side = _lookup(POSITION_SIDE, info.side, "position side")
    if info.size == 0:
        side = PositionSide.FLAT
    entry = info.entry_price
    mode = margin_mode or (MarginMode.ISOLATED if info.tradeMode == 1 else MarginMode.CROSS)
    updated = info.updatedTime or info.createdTime
    return Position(
        venue=VENUE,
        symbol=instrument.symbol,
        market_type=instrument.market_type,
        side=side,
        quantity=info.size,
        entry_price=entry if entry else None,
        mark_price=s.opt_decimal(info.markPrice, field="markPrice"),
        unrealized_pnl=s.decimal_or_zero(info.unrealisedPnl, field="unrealisedPnl"),
        realized_pnl=s.decimal_or_zero(info.cumRealisedPnl, field="cumRealisedPnl"),
        liquidation_price=_positive_or_none(s.opt_decimal(info.liqPrice, field="liqPrice")),
        leverage=s.opt_decimal(info.leverage, field="leverage") or Decimal(1),
        margin_mode=mode,
        updated_at=_ms(updated, "updatedTime") if updated else datetime.fromtimestamp(0, UTC),
    )


def _positive_or_none(value: Decimal | None) -> Decimal | None:
    return value if value is not None and value > 0 else None


def balance_from(coin: s.WalletCoin) -> Balance:
    """A wallet coin -> Balance, with total = ``walletBalance``.

    ``locked`` = what open spot orders hold (``locked``) plus the coin's order and position initial
    margin (``totalOrderIM``, ``totalPositionIM``; ``""`` under portfolio margin), capped to the
    wallet balance; free is the rest. ``availableToWithdraw`` is not used: UTA 2.0 sends ``""``.
    """
    held = (s.decimal_or_zero(coin.locked, field="locked")
            + s.decimal_or_zero(coin.totalOrderIM, field="totalOrderIM")
            + s.decimal_or_zero(coin.totalPositionIM, field="totalPositionIM"))
    total = coin.walletBalance
    locked = min(max(held, ZERO), max(total, ZERO))
    return Balance(venue=VENUE, currency=coin.coin, free=total - locked, locked=locked)


# --- market data ------------------------------------------------------------------------------------------

def ticker_from(info: s.TickerInfo | s.WsTicker, instrument: Instrument, timestamp: datetime) -> Ticker:
    last = info.lastPrice if isinstance(info.lastPrice, Decimal) else s.opt_decimal(info.lastPrice,
                                                                                  field="lastPrice")
    if last is None:
        raise ProtocolViolation(f"Bybit ticker for {info.symbol} has no lastPrice", venue=VENUE)
    return Ticker(
        venue=VENUE, symbol=instrument.symbol, last=last,
        bid=s.opt_decimal(info.bid1Price, field="bid1Price"), ask=s.opt_decimal(info.ask1Price, field="ask1Price"),
        bid_size=s.opt_decimal(info.bid1Size, field="bid1Size"),
        ask_size=s.opt_decimal(info.ask1Size, field="ask1Size"),
        timestamp=timestamp,
    )


def merge_ticker(previous: s.WsTicker | None, update: s.WsTicker, kind: str) -> s.WsTicker:
    """Apply a ``tickers`` delta (absent fields unchanged) to the last snapshot."""
    if kind == "snapshot" or previous is None:
        if kind != "snapshot":
            raise ProtocolViolation(f"Bybit ticker delta for {update.symbol} before any snapshot", venue=VENUE)
        return update
    changes = {field: getattr(update, field) for field in update.__struct_fields__
               if getattr(update, field) != ""}
    return msgspec.structs.replace(previous, **changes)


def trade_from(trade: s.WsTrade, instrument: Instrument) -> Trade:
    # ``T`` is decoded as an int: it cannot fail as epoch milliseconds (the hot path skips `_ms`'s guard).
    return Trade(venue=VENUE, symbol=instrument.symbol, trade_id=trade.i, price=trade.p, quantity=trade.v,
                 taker_side=side_from(trade.S), timestamp=from_epoch_ms(trade.T))


def venue_interval(interval: str) -> str:
    """Unified interval (``1m``, ``1h``, ``1d`` ...) -> Bybit's (``1``, ``60``, ``D`` ...)."""
    return intervals.venue_code(interval, KLINE_INTERVALS, KLINE_INTERVALS_FROM_VENUE, venue=VENUE,
                                name=VENUE_NAME, noun="klines")


def candle_close_time(open_time: datetime, venue_interval_code: str) -> datetime:
    """When a kline of Bybit's ``venue_interval_code`` (``1``, ``60``, ``D``, ``M`` ...) closes."""
    if venue_interval_code not in KLINE_INTERVALS_FROM_VENUE:
        raise ProtocolViolation(f"unknown Bybit kline interval {venue_interval_code!r}", venue=VENUE)
    return intervals.interval_end(open_time, KLINE_INTERVALS_FROM_VENUE[venue_interval_code], venue=VENUE)


def candles_from_rows(rows: Iterable[tuple[str, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]],
                      instrument: Instrument, interval: str, *, now: datetime) -> list[Candle]:
    """GET /v5/market/kline rows (newest first) -> Candles oldest first; ``closed`` once its end passed."""
    code = venue_interval(interval)
    unified = KLINE_INTERVALS_FROM_VENUE[code]
    candles = []
    for start, open_, high, low, close, volume, _turnover in rows:
        opened = _ms(start, "startTime")
        candles.append(Candle(venue=VENUE, symbol=instrument.symbol, interval=unified, open_time=opened,
                              open=open_, high=high, low=low, close=close, volume=volume,
                              closed=candle_close_time(opened, code) <= now))
    candles.sort(key=lambda candle: candle.open_time)
    return candles


def candle_from_ws(kline: s.WsKline, instrument: Instrument) -> Candle:
    return Candle(venue=VENUE, symbol=instrument.symbol,
                  interval=KLINE_INTERVALS_FROM_VENUE.get(kline.interval, kline.interval),
                  open_time=_ms(kline.start, "start"), open=kline.open, high=kline.high, low=kline.low,
                  close=kline.close, volume=kline.volume, closed=kline.confirm)
