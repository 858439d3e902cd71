"""Binance <-> protocol, both directions, in one place: symbols, enums, orders, fills, instruments, and the
request parameters of an order. Pure functions and tables: nothing here keeps state."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from brokers.binance import schemas as s
from brokers.binance.constants import VENUE
from brokers.wire import plain
from protocol.errors import InvalidOrder
from protocol.model import (
    Candle,
    Fill,
    Instrument,
    MarketType,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    from_epoch_ms,
)

STATUS = {
    "NEW": OrderStatus.NEW,
    "PENDING_NEW": OrderStatus.PENDING_NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.NEW,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}
ORDER_TYPE_TO_VENUE = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP_MARKET: "STOP_LOSS",
    OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT",
}
ORDER_TYPE = {v: k for k, v in ORDER_TYPE_TO_VENUE.items()} | {"LIMIT_MAKER": OrderType.LIMIT}
TIF_TO_VENUE = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
TIF = {v: k for k, v in TIF_TO_VENUE.items()}
SIDE_TO_VENUE = {Side.BUY: "BUY", Side.SELL: "SELL"}
SIDE = {v: k for k, v in SIDE_TO_VENUE.items()}


def instrument_from(info: s.SymbolInfo) -> Instrument:
    filters: dict[str, dict[str, Any]] = {f["filterType"]: f for f in info.filters}
    price = filters.get("PRICE_FILTER", {})
    lot = filters.get("LOT_SIZE", {})
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
    max_qty = Decimal(lot["maxQty"]) if "maxQty" in lot else None
    return Instrument(
        venue=VENUE,
        symbol=f"{info.baseAsset}/{info.quoteAsset}",
        venue_symbol=info.symbol,
        market_type=MarketType.SPOT,
        base=info.baseAsset,
        quote=info.quoteAsset,
        tick_size=Decimal(price.get("tickSize", "0.00000001")).normalize(),
        lot_size=Decimal(lot.get("stepSize", "0.00000001")).normalize(),
        min_qty=Decimal(lot.get("minQty", "0")).normalize(),
        max_qty=max_qty.normalize() if max_qty else None,
        min_notional=Decimal(notional.get("minNotional", "0")).normalize(),
        trading=info.status == "TRADING" and info.isSpotTradingAllowed,
    )


def order_from(r: s.OrderResponse, instrument: Instrument) -> Order:
    created = r.time or r.transactTime or r.updateTime or 0
    updated = r.updateTime or r.transactTime or created
    average = (r.cummulativeQuoteQty / r.executedQty) if r.executedQty else None
    return Order(
        venue=VENUE,
        symbol=instrument.symbol,
        order_id=str(r.orderId),
        client_order_id=r.origClientOrderId or r.clientOrderId,
        side=SIDE[r.side],
        type=ORDER_TYPE.get(r.type, OrderType.LIMIT),
        status=STATUS.get(r.status, OrderStatus.NEW),
        quantity=r.origQty,
        price=r.price or None,
        stop_price=r.stopPrice or None,
        filled_quantity=r.executedQty,
        average_price=average,
        time_in_force=TimeInForce.POST_ONLY if r.type == "LIMIT_MAKER" else TIF.get(r.timeInForce, TimeInForce.GTC),
        created_at=from_epoch_ms(created),
        updated_at=from_epoch_ms(updated),
    )


def fill_from_trade(t: s.MyTrade, instrument: Instrument, client_order_id: str) -> Fill:
    return Fill(
        venue=VENUE, symbol=instrument.symbol, order_id=str(t.orderId), client_order_id=client_order_id,
        trade_id=str(t.id), side=Side.BUY if t.isBuyer else Side.SELL, price=t.price, quantity=t.qty,
        fee=t.commission, fee_currency=t.commissionAsset, is_maker=t.isMaker, timestamp=from_epoch_ms(t.time),
    )


def order_from_execution(x: s.ExecutionReport, instrument: Instrument) -> Order:
    return Order(
        venue=VENUE, symbol=instrument.symbol, order_id=str(x.i),
        client_order_id=x.C if x.X == "CANCELED" and x.C else x.c,
        side=SIDE[x.S], type=ORDER_TYPE.get(x.o, OrderType.LIMIT), status=STATUS.get(x.X, OrderStatus.NEW),
        quantity=x.q, price=x.p or None, stop_price=x.P or None, filled_quantity=x.z,
        average_price=(x.Z / x.z) if x.z else None,
        time_in_force=TimeInForce.POST_ONLY if x.o == "LIMIT_MAKER" else TIF.get(x.f, TimeInForce.GTC),
        created_at=from_epoch_ms(x.O), updated_at=from_epoch_ms(x.T),
    )


def fill_from_execution(x: s.ExecutionReport, instrument: Instrument) -> Fill:
    return Fill(
        venue=VENUE, symbol=instrument.symbol, order_id=str(x.i),
        client_order_id=x.C if x.X == "CANCELED" and x.C else x.c, trade_id=str(x.t), side=SIDE[x.S],
        price=x.L, quantity=x.l, fee=x.n, fee_currency=x.N or "", is_maker=x.m, timestamp=from_epoch_ms(x.T),
        order_filled_quantity=x.z,
    )


# --- requests ----------------------------------------------------------------------------------------

def new_order_params(request: OrderRequest, instrument: Instrument) -> dict[str, str | int]:
    """POST /api/v3/order parameters (checked by the chassis first: features, filters, prices).

    A post-only limit order is Binance's ``LIMIT_MAKER`` (which takes no ``timeInForce``); priced
    orders carry ``timeInForce``, market and stop-market orders none (they take none at Binance).
    """
    params: dict[str, str | int] = {
        "symbol": instrument.venue_symbol, "side": SIDE_TO_VENUE[request.side],
        "type": ORDER_TYPE_TO_VENUE[request.type], "quantity": plain(request.quantity, venue=VENUE),
        "newClientOrderId": request.client_order_id or "", "newOrderRespType": "FULL",
    }
    priced = request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    if request.time_in_force is TimeInForce.POST_ONLY and request.type is OrderType.LIMIT:
        params["type"] = "LIMIT_MAKER"
    elif priced:
        params["timeInForce"] = TIF_TO_VENUE[request.time_in_force]
    if priced and request.price is not None:
        params["price"] = plain(request.price, venue=VENUE)
    if request.stop_price is not None:
        params["stopPrice"] = plain(request.stop_price, venue=VENUE)
    return params


def order_ref_params(instrument: Instrument, order_id: str | None, client_order_id: str | None) -> dict[str, str | int]:
    """The parameters that name one order: ``orderId`` if known, else ``origClientOrderId``."""
    params: dict[str, str | int] = {"symbol": instrument.venue_symbol}
    if order_id is not None:
        params["orderId"] = order_id
    elif client_order_id is not None:
        params["origClientOrderId"] = client_order_id
    else:
        raise InvalidOrder("an order id or a client order id is needed", venue=VENUE)
    return params


def candle_from_kline(row: s.Kline, instrument: Instrument, interval: str, *, now_ms: int, venue: str = VENUE) -> Candle:
    """A GET /api/v3/klines row; closed once its close time has passed."""
    return Candle(venue=venue, symbol=instrument.symbol, interval=interval, open_time=from_epoch_ms(row[0]),
                  open=row[1], high=row[2], low=row[3], close=row[4], volume=row[5], closed=row[6] < now_ms)
