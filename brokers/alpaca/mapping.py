"""Alpaca <-> protocol, both directions, pure functions and enum tables.

Symbols: a stock's unified symbol is its ticker (``AAPL``, ``BRK.B``), the same string Alpaca uses, so
unified == venue symbol. Only ``us_equity`` assets are instruments of this venue.

Filters: Alpaca publishes no tick or lot for stocks. Prices follow the sub-penny rule (>= $1 whole cents,
< $1 steps of $0.0001): `Instrument.tick_size` is 0.01 and `tick_for` gives the tick of a given price,
which `order_body` checks. Quantities are whole shares (lot 1), or 1e-9 for a fractionable asset
(9 decimals); a fractional quantity or a notional needs a fractionable asset, a DAY order of type
market/limit/stop/stop_limit, a simple order class, and at least $1 notional.

Fills carry a trade id both sources can build: ``"<order id>:<order's cumulative filled qty after it>"``.
The stream names an execution (``execution_id``) but FILL activities do not (their ``id`` is a paging
token whose UUID Alpaca does not document as the execution id), while both carry the order id and its
cumulative quantity, which grows with every execution. So a fill seen on the stream and again in
reconciliation has one id, and Alpaca's documented replays of an event (same execution) dedupe too.
Alpaca stock trading is commission-free: ``fee`` is 0 USD (regulatory fees arrive later as separate
account activities, not mapped). Alpaca reports no liquidity flag: ``is_maker`` is None.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

from brokers import intervals, wire
from brokers.alpaca import schemas as s
from brokers.alpaca.constants import (
    CLIENT_ORDER_ID_MAX_LEN,
    MIN_NOTIONAL_FRACTIONAL,
    QTY_DECIMALS,
    QTY_STEP_FRACTIONAL,
    QUOTE_ROUND_LOT,
    QUOTE_ROUND_LOT_MAX_PRICE,
    SUB_PENNY_THRESHOLD,
    TICK_AT_OR_ABOVE_ONE,
    TICK_BELOW_ONE,
    TIMEFRAMES,
    TIMEFRAMES_FROM_VENUE,
    VENUE,
    VENUE_NAME,
    is_valid_client_order_id,
)
from brokers.wire import plain as wire_plain
from protocol.errors import InvalidOrder, NotSupported, ProtocolViolation
from protocol.model import (
    ZERO,
    AccountInfo,
    Balance,
    Candle,
    Fill,
    Instrument,
    MarginMode,
    MarketType,
    Order,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    Ticker,
    TimeInForce,
    Trade,
)

QUOTE_CURRENCY = "USD"
STOCK_CLASS = "us_equity"
TICKER_PATTERN = re.compile(r"^[A-Z][A-Z0-9.\-]{0,19}$")

# --- enums ----------------------------------------------------------------------------------------------

ORDER_STATUS: dict[str, OrderStatus] = {
    # Alpaca status -> ours before the fill rule of `order_status_from` (which turns a live order with a
    # fill into PARTIALLY_FILLED, and one filled in full into FILLED).
    "new": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "done_for_day": OrderStatus.NEW,  # live: no more executions today, resumes next trading day (GTC)
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "replaced": OrderStatus.CANCELED,  # closed for good; a new order (``replaced_by``) carries on
    "pending_cancel": OrderStatus.NEW,  # still live until the cancel is confirmed (it may still fill)
    "pending_replace": OrderStatus.NEW,  # still live; Alpaca refuses cancels in this state
    "accepted": OrderStatus.PENDING_NEW,  # received, not yet routed (typical outside market hours)
    "pending_new": OrderStatus.PENDING_NEW,  # routed, not yet accepted by the execution venue
    "accepted_for_bidding": OrderStatus.NEW,  # at the exchange, being priced: live
    "stopped": OrderStatus.NEW,  # a trade is guaranteed but has not happened yet: live
    "rejected": OrderStatus.REJECTED,
    "suspended": OrderStatus.NEW,  # not eligible for trading for now, but not closed
    "calculated": OrderStatus.NEW,  # done for the day (filled or not), settlement pending: fill rule decides
    "held": OrderStatus.PENDING_NEW,  # a bracket/OTO leg waiting for its entry to fill
    "pending_review": OrderStatus.PENDING_NEW,  # (alpaca-py enum) under review before routing
}
LIVE = frozenset({OrderStatus.PENDING_NEW, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})

ORDER_TYPE_TO_VENUE = {
    OrderType.MARKET: "market", OrderType.LIMIT: "limit", OrderType.STOP_MARKET: "stop",
    OrderType.STOP_LIMIT: "stop_limit", OrderType.TRAILING_STOP: "trailing_stop",
}
ORDER_TYPE = {v: k for k, v in ORDER_TYPE_TO_VENUE.items()}
TIF_TO_VENUE = {tif: tif.value for tif in (TimeInForce.DAY, TimeInForce.GTC, TimeInForce.OPG, TimeInForce.CLS,
                                           TimeInForce.IOC, TimeInForce.FOK)}
TIF = {v: k for k, v in TIF_TO_VENUE.items()}
SIDE_TO_VENUE = {Side.BUY: "buy", Side.SELL: "sell"}
SIDE = {v: k for k, v in SIDE_TO_VENUE.items()}
ORDER_CLASS_TO_VENUE = {OrderClass.SIMPLE: "simple", OrderClass.BRACKET: "bracket", OrderClass.OCO: "oco",
                        OrderClass.OTO: "oto"}
ORDER_CLASS = {v: k for k, v in ORDER_CLASS_TO_VENUE.items()} | {"": OrderClass.SIMPLE}
POSITION_SIDE = {"long": PositionSide.LONG, "short": PositionSide.SHORT}

FILL_EVENTS = frozenset({"fill", "partial_fill"})
TRADE_UPDATE_EVENTS = frozenset({
    # docs/websocket-streaming (common and less common events) and alpaca-py TradeEvent
    "new", "fill", "partial_fill", "canceled", "expired", "done_for_day", "replaced", "rejected", "pending_new",
    "stopped", "pending_cancel", "pending_replace", "calculated", "suspended", "order_replace_rejected",
    "order_cancel_rejected", "accepted", "restated", "held",
})

# Order types that may carry a fractional quantity or a notional (docs/fractional-trading).
FRACTIONAL_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_MARKET, OrderType.STOP_LIMIT})
AUCTION_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT})  # OPG / CLS: market- or limit-on-open/close
TRAILING_TIFS = frozenset({TimeInForce.DAY, TimeInForce.GTC})
LINKED_TIFS = frozenset({TimeInForce.DAY, TimeInForce.GTC})  # bracket / OCO / OTO


T = TypeVar("T")
_Refuse = Callable[[str, str], InvalidOrder]
"""`order_body`'s ``refuse(message, filter)``: the InvalidOrder to raise, with the client order id."""


_lookup = functools.partial(wire.lookup, venue=VENUE, name=VENUE_NAME)


def side_from(value: str) -> Side:
    return _lookup(SIDE, value, "side")


def order_status_from(status: str, filled_qty: Decimal, qty: Decimal | None) -> OrderStatus:
    """Alpaca's status -> ours, then the fill rule: a live order with executions is PARTIALLY_FILLED,
    one filled in full is FILLED (``calculated`` and ``done_for_day`` say nothing about the fill)."""
    mapped = _lookup(ORDER_STATUS, status, "order status")
    if mapped in LIVE and filled_qty > 0:
        return OrderStatus.FILLED if qty is not None and filled_qty >= qty else OrderStatus.PARTIALLY_FILLED
    return mapped


def utc(moment: datetime) -> datetime:
    """Alpaca writes New York offsets in places; everything leaving this module is UTC."""
    if moment.tzinfo is None:
        raise ProtocolViolation(f"Alpaca sent a naive timestamp {moment.isoformat()}", venue=VENUE)
    return moment.astimezone(UTC)


def plain(value: Decimal) -> str:
    """A decimal as Alpaca takes it in a request body: no exponent, no trailing zeros (`brokers.wire.plain`)."""
    return wire_plain(value, venue=VENUE)


# --- symbols and instruments ----------------------------------------------------------------------------

def check_ticker(symbol: str) -> str:
    """A stock ticker as Alpaca writes it (upper case; class shares with a dot: ``BRK.B``)."""
    if TICKER_PATTERN.fullmatch(symbol) is None:
        raise InvalidOrder(f"{symbol!r} is not a US stock ticker (Alpaca symbols look like AAPL or BRK.B)",
                           venue=VENUE, filter="SYMBOL")
    return symbol


def tick_for(price: Decimal) -> Decimal:
    """The sub-penny rule: $0.01 at or above $1.00, $0.0001 below."""
    return TICK_AT_OR_ABOVE_ONE if price >= SUB_PENNY_THRESHOLD else TICK_BELOW_ONE


def instrument_from(asset: s.Asset) -> Instrument:
    """A ``us_equity`` asset -> Instrument (market type STOCK, quoted in USD).

    Crypto-style increments (``min_order_size``, ``min_trade_increment``, ``price_increment``) are used
    when an asset carries them; stocks do not, and get the rules above. ``trading`` = tradable and active.
    """
    if asset.asset_class != STOCK_CLASS:
        raise NotSupported(f"Alpaca {asset.asset_class} asset {asset.symbol} is not a US stock", venue=VENUE)
    lot = asset.min_trade_increment or (QTY_STEP_FRACTIONAL if asset.fractionable else Decimal(1))
    return Instrument(
        venue=VENUE,
        symbol=asset.symbol,
        venue_symbol=asset.symbol,
        market_type=MarketType.STOCK,
        base=asset.symbol,
        quote=QUOTE_CURRENCY,
        tick_size=(asset.price_increment or TICK_AT_OR_ABOVE_ONE).normalize(),
        lot_size=lot.normalize(),
        min_qty=(asset.min_order_size or lot).normalize(),
        min_notional=MIN_NOTIONAL_FRACTIONAL if asset.fractionable else ZERO,
        trading=asset.tradable and asset.status == "active",
        exchange=asset.exchange or None,
        fractionable=asset.fractionable,
        shortable=asset.shortable,
        easy_to_borrow=asset.easy_to_borrow,
    )


# --- orders -----------------------------------------------------------------------------------------------

def order_from(order: s.Order, instrument: Instrument, *, parent_order_id: str | None = None) -> Order:
    """An order (REST or ``trade_updates``) -> Order.

    A notional order has no ``qty`` until Alpaca knows it: its quantity is the filled quantity so far.
    A replaced order is CANCELED with ``reject_reason`` naming its successor.
    """
    order_type = _lookup(ORDER_TYPE, order.type, "order type")
    status = order_status_from(order.status, order.filled_qty, order.qty)
    created = utc(order.created_at)
    reason = f"replaced by {order.replaced_by}" if order.status == "replaced" and order.replaced_by else None
    return Order(
        venue=VENUE,
        symbol=instrument.symbol,
        order_id=order.id,
        client_order_id=order.client_order_id,
        side=side_from(order.side),
        type=order_type,
        status=status,
        quantity=order.qty if order.qty is not None else order.filled_qty,
        price=order.limit_price,
        stop_price=order.stop_price,
        filled_quantity=order.filled_qty,
        average_price=order.filled_avg_price if order.filled_qty > 0 else None,
        time_in_force=_lookup(TIF, order.time_in_force, "time_in_force"),
        created_at=created,
        updated_at=utc(order.updated_at) if order.updated_at is not None else created,
        notional=order.notional,
        trail_price=order.trail_price,
        trail_percent=order.trail_percent,
        extended_hours=order.extended_hours,
        order_class=_lookup(ORDER_CLASS, order.order_class, "order_class"),
        parent_order_id=parent_order_id,
        reject_reason=reason,
    )


def orders_from(order: s.Order, instrument: Instrument) -> list[Order]:
    """A (``nested``) order with its bracket / OCO / OTO legs, the legs pointing at their parent."""
    return [order_from(order, instrument),
            *(order_from(leg, instrument, parent_order_id=order.id) for leg in order.legs or ())]


def check_client_order_id(client_order_id: str) -> None:
    if not is_valid_client_order_id(client_order_id):
        raise InvalidOrder(f"client order id {client_order_id!r}: Alpaca takes 1..{CLIENT_ORDER_ID_MAX_LEN} "
                           "printable characters without spaces", venue=VENUE, filter="CLIENT_ORDER_ID",
                           client_order_id=client_order_id)


def check_price(price: Decimal, what: str, client_order_id: str | None = None) -> None:
    if price <= 0 or price % tick_for(price):
        raise InvalidOrder(f"{what} {price} breaks the sub-penny rule (tick {tick_for(price)} at this price)",
                           venue=VENUE, filter="PRICE_FILTER", client_order_id=client_order_id)


def _has_decimals_beyond(value: Decimal, places: int) -> bool:
    if not value.is_finite():
        return True
    exponent = value.normalize().as_tuple().exponent
    return isinstance(exponent, int) and -exponent > places


def order_body(request: OrderRequest, instrument: Instrument, client_order_id: str) -> dict[str, object]:
    """POST /v2/orders body, refusing (typed, before sending) what Alpaca documents it refuses.

    Rules: prices per the sub-penny rule; ``qty`` xor ``notional``; fractions / notional only on a
    fractionable asset with a DAY market/limit/stop/stop_limit simple order and >= $1; ``extended_hours``
    only on a DAY limit; OPG/CLS only on market/limit; trailing stops with exactly one of
    ``trail_price`` / ``trail_percent`` and DAY/GTC; bracket/OCO/OTO legs as documented, DAY/GTC.
    Alpaca has no reduce-only, leverage or per-order margin mode for stocks.
    """
    def refuse(message: str, filter_name: str) -> InvalidOrder:
        return InvalidOrder(message, venue=VENUE, filter=filter_name, client_order_id=client_order_id)

    check_client_order_id(client_order_id)
    if not instrument.trading:
        raise refuse(f"{instrument.symbol} is not tradable at Alpaca", "SYMBOL")
    if request.reduce_only:
        raise refuse("Alpaca has no reduce-only orders for stocks (close a position instead)", "REDUCE_ONLY")
    if request.leverage is not None or request.margin_mode is not None:
        raise NotSupported("Alpaca stock orders take no leverage or margin mode (margin is account-wide)",
                           venue=VENUE, client_order_id=client_order_id)
    order_type, tif = request.type, request.time_in_force
    if tif not in TIF_TO_VENUE:
        raise refuse(f"Alpaca has no time in force {tif}", "TIME_IN_FORCE")
    body: dict[str, object] = {"symbol": instrument.venue_symbol, "side": SIDE_TO_VENUE[request.side],
                               "type": ORDER_TYPE_TO_VENUE[order_type], "time_in_force": TIF_TO_VENUE[tif]}
    body.update(_amount(request, instrument, refuse))
    body.update(_prices(request, client_order_id, refuse))
    if request.extended_hours:
        if order_type is not OrderType.LIMIT or tif is not TimeInForce.DAY:
            raise refuse("extended-hours orders must be DAY limit orders", "EXTENDED_HOURS")
        body["extended_hours"] = True
    if tif in (TimeInForce.OPG, TimeInForce.CLS) and order_type not in AUCTION_TYPES:
        raise refuse(f"{tif.value} orders are market- or limit-on-open/close only", "TIME_IN_FORCE")
    body.update(_linked(request, client_order_id, refuse))
    body["client_order_id"] = client_order_id
    return body


def _amount(request: OrderRequest, instrument: Instrument, refuse: _Refuse) -> dict[str, object]:
    if request.notional is not None:
        if request.quantity != 0:
            raise refuse("give quantity or notional, not both", "NOTIONAL")
        if request.notional < MIN_NOTIONAL_FRACTIONAL or _has_decimals_beyond(request.notional, QTY_DECIMALS):
            raise refuse(f"notional {request.notional} must be at least $1 with at most 9 decimals", "NOTIONAL")
        _check_fractional(request, instrument, refuse, "notional")
        return {"notional": plain(request.notional)}
    if request.quantity <= 0 or _has_decimals_beyond(request.quantity, QTY_DECIMALS):
        raise refuse(f"quantity {request.quantity} must be positive with at most 9 decimals", "LOT_SIZE")
    if request.quantity % 1:
        _check_fractional(request, instrument, refuse, "fractional quantity")
    return {"qty": plain(request.quantity)}


def _check_fractional(request: OrderRequest, instrument: Instrument, refuse: _Refuse, what: str) -> None:
    if not instrument.fractionable:
        raise refuse(f"{instrument.symbol} is not fractionable: no {what} orders", "LOT_SIZE")
    if request.type not in FRACTIONAL_TYPES or request.time_in_force is not TimeInForce.DAY:
        raise refuse(f"{what} orders must be DAY market, limit, stop or stop-limit orders", "LOT_SIZE")
    if request.order_class is not OrderClass.SIMPLE:
        raise refuse(f"{what} orders must be simple orders", "ORDER_CLASS")


def _prices(request: OrderRequest, client_order_id: str, refuse: _Refuse) -> dict[str, object]:
    order_type = request.type
    wants_limit = order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    wants_stop = order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
    body: dict[str, object] = {}
    if wants_limit != (request.price is not None):
        raise refuse(f"a {order_type.value} order {'needs' if wants_limit else 'takes no'} limit price",
                     "PRICE_FILTER")
    if wants_stop != (request.stop_price is not None):
        raise refuse(f"a {order_type.value} order {'needs' if wants_stop else 'takes no'} stop price",
                     "PRICE_FILTER")
    if request.price is not None:
        check_price(request.price, "limit price", client_order_id)
        body["limit_price"] = plain(request.price)
    if request.stop_price is not None:
        check_price(request.stop_price, "stop price", client_order_id)
        body["stop_price"] = plain(request.stop_price)
    trails = [value for value in (request.trail_price, request.trail_percent) if value is not None]
    if order_type is OrderType.TRAILING_STOP:
        if len(trails) != 1 or trails[0] <= 0:
            raise refuse("a trailing stop needs exactly one positive trail_price or trail_percent", "PRICE_FILTER")
        if request.time_in_force not in TRAILING_TIFS:
            raise refuse("trailing stops are DAY or GTC orders", "TIME_IN_FORCE")
        if request.trail_price is not None:
            body["trail_price"] = plain(request.trail_price)
        else:
            assert request.trail_percent is not None
            body["trail_percent"] = plain(request.trail_percent)
    elif trails:
        raise refuse(f"trail_price / trail_percent belong to trailing stops, not {order_type.value}",
                     "PRICE_FILTER")
    return body


def _linked(request: OrderRequest, client_order_id: str, refuse: _Refuse) -> dict[str, object]:
    """``order_class`` and its legs: bracket (entry + take-profit + stop-loss), OCO (a limit take-profit
    with its stop-loss, exits only), OTO (entry + one of them)."""
    order_class = request.order_class
    take, stop, stop_limit = request.take_profit_price, request.stop_loss_price, request.stop_loss_limit_price
    if order_class is OrderClass.SIMPLE:
        if take is not None or stop is not None or stop_limit is not None:
            raise refuse("take-profit / stop-loss prices need order_class bracket, oco or oto", "ORDER_CLASS")
        return {}
    if request.time_in_force not in LINKED_TIFS:
        raise refuse(f"{order_class.value} orders are DAY or GTC orders", "TIME_IN_FORCE")
    if stop_limit is not None and stop is None:
        raise refuse("a stop-loss limit price needs a stop-loss stop price", "ORDER_CLASS")
    if order_class in (OrderClass.BRACKET, OrderClass.OCO) and (take is None or stop is None):
        raise refuse(f"{order_class.value} orders need a take-profit and a stop-loss price", "ORDER_CLASS")
    if order_class is OrderClass.OTO and (take is None) == (stop is None):
        raise refuse("oto orders need either a take-profit or a stop-loss price", "ORDER_CLASS")
    if order_class is OrderClass.OCO and request.type is not OrderType.LIMIT:
        raise refuse("oco orders are limit orders (the take-profit leg)", "ORDER_CLASS")
    body: dict[str, object] = {"order_class": ORDER_CLASS_TO_VENUE[order_class]}
    if take is not None:
        check_price(take, "take-profit price", client_order_id)
        body["take_profit"] = {"limit_price": plain(take)}
    if stop is not None:
        check_price(stop, "stop-loss price", client_order_id)
        leg: dict[str, str] = {"stop_price": plain(stop)}
        if stop_limit is not None:
            check_price(stop_limit, "stop-loss limit price", client_order_id)
            leg["limit_price"] = plain(stop_limit)
        body["stop_loss"] = leg
    return body


def replace_body(*, quantity: Decimal | None = None, price: Decimal | None = None, stop_price: Decimal | None = None,
                 trail: Decimal | None = None, time_in_force: TimeInForce | None = None,
                 new_client_order_id: str | None = None) -> dict[str, object]:
    """PATCH /v2/orders/{id} body: only the fields that change. Alpaca replaces the order with a new one
    (new order id; ``new_client_order_id`` or a generated one); the old one ends ``replaced``."""
    body: dict[str, object] = {}
    if quantity is not None:
        if quantity <= 0 or _has_decimals_beyond(quantity, QTY_DECIMALS):
            raise InvalidOrder(f"replacement quantity {quantity} must be positive", venue=VENUE, filter="LOT_SIZE")
        body["qty"] = plain(quantity)
    if time_in_force is not None:
        if time_in_force not in TIF_TO_VENUE:
            raise InvalidOrder(f"Alpaca has no time in force {time_in_force}", venue=VENUE, filter="TIME_IN_FORCE")
        body["time_in_force"] = TIF_TO_VENUE[time_in_force]
    for name, value in (("limit_price", price), ("stop_price", stop_price)):
        if value is not None:
            check_price(value, name.replace("_", " "))
            body[name] = plain(value)
    if trail is not None:
        if trail <= 0:
            raise InvalidOrder("trail must be positive", venue=VENUE, filter="PRICE_FILTER")
        body["trail"] = plain(trail)
    if new_client_order_id is not None:
        check_client_order_id(new_client_order_id)
        body["client_order_id"] = new_client_order_id
    if not body:
        raise InvalidOrder("a replace must change something (Alpaca: order parameters are not changed)",
                           venue=VENUE, filter="PARAMETER")
    return body


def close_position_query(quantity: Decimal | None = None, percentage: Decimal | None = None) -> dict[str, str]:
    """DELETE /v2/positions/{symbol} query: all of it (empty), ``qty`` shares, or ``percentage`` (0, 100]."""
    if quantity is not None and percentage is not None:
        raise InvalidOrder("close by quantity or by percentage, not both", venue=VENUE, filter="PARAMETER")
    if quantity is not None:
        if quantity <= 0:
            raise InvalidOrder(f"close quantity {quantity} must be positive", venue=VENUE, filter="LOT_SIZE")
        return {"qty": plain(quantity)}
    if percentage is not None:
        if not 0 < percentage <= 100:
            raise InvalidOrder(f"close percentage {percentage} must be in (0, 100]", venue=VENUE,
                               filter="PARAMETER")
        return {"percentage": plain(percentage)}
    return {}


# --- fills ------------------------------------------------------------------------------------------------

def fill_trade_id(order_id: str, cumulative_qty: Decimal) -> str:
    """The id both the stream and FILL activities can build for one execution (see the module docstring)."""
    return f"{order_id}:{plain(cumulative_qty)}"


def is_fill_event(update: s.TradeUpdate) -> bool:
    return update.event in FILL_EVENTS


def fill_from_update(update: s.TradeUpdate, instrument: Instrument) -> Fill:
    """A ``fill`` / ``partial_fill`` trade update -> Fill: this execution's ``price`` and ``qty``, the order's
    cumulative quantity after it (``order.filled_qty``) as ``order_filled_quantity``."""
    if not is_fill_event(update):
        raise ValueError(f"trade update {update.event!r} is not a fill")
    order = update.order
    if update.price is None or update.qty is None or update.timestamp is None:
        raise ProtocolViolation(f"Alpaca {update.event} of order {order.id} without price, qty or timestamp",
                                venue=VENUE)
    if update.qty <= 0 or update.qty > order.filled_qty:
        raise ProtocolViolation(f"Alpaca {update.event} of order {order.id}: qty {update.qty} against filled_qty "
                                f"{order.filled_qty}", venue=VENUE)
    return Fill(
        venue=VENUE, symbol=instrument.symbol, order_id=order.id, client_order_id=order.client_order_id,
        trade_id=fill_trade_id(order.id, order.filled_qty), side=side_from(order.side), price=update.price,
        quantity=update.qty, fee=ZERO, fee_currency=QUOTE_CURRENCY, is_maker=None, timestamp=utc(update.timestamp),
        order_filled_quantity=order.filled_qty,
    )


def fill_from_activity(activity: s.FillActivity, instrument: Instrument, client_order_id: str) -> Fill:
    """A FILL activity -> Fill. Activities name no client order id: pass the order's (from its order)."""
    if activity.activity_type != "FILL":
        raise ValueError(f"activity {activity.id} is a {activity.activity_type}, not a FILL")
    return Fill(
        venue=VENUE, symbol=instrument.symbol, order_id=activity.order_id, client_order_id=client_order_id,
        trade_id=fill_trade_id(activity.order_id, activity.cum_qty), side=side_from(activity.side),
        price=activity.price, quantity=activity.qty, fee=ZERO, fee_currency=QUOTE_CURRENCY, is_maker=None,
        timestamp=utc(activity.transaction_time), order_filled_quantity=activity.cum_qty,
    )


def activities_in_execution_order(activities: Iterable[s.FillActivity]) -> list[s.FillActivity]:
    """Oldest first; executions of one order in the same millisecond by their cumulative quantity (Alpaca
    lists those out of order, alpacahq/Alpaca-API#170)."""
    return sorted(activities, key=lambda a: (a.transaction_time, a.order_id, a.cum_qty))


# --- positions and account ----------------------------------------------------------------------------------

def position_from(position: s.Position, instrument: Instrument, now: datetime) -> Position:
    """A position -> Position; quantity is unsigned (Alpaca sends a short's ``qty`` negative).

    Alpaca margin is account-wide: a short (borrowed shares) is reported CROSS, a long CASH.
    """
    side = _lookup(POSITION_SIDE, position.side, "position side")
    if (position.qty < 0 and side is PositionSide.LONG) or (position.qty > 0 and side is PositionSide.SHORT):
        raise ProtocolViolation(f"Alpaca {position.symbol} position: side {position.side} with qty {position.qty}",
                                venue=VENUE)
    if position.qty == 0:
        side = PositionSide.FLAT
    return Position(
        venue=VENUE, symbol=instrument.symbol, market_type=MarketType.STOCK, side=side, quantity=abs(position.qty),
        entry_price=position.avg_entry_price, mark_price=position.current_price,
        unrealized_pnl=position.unrealized_pl if position.unrealized_pl is not None else ZERO,
        margin_mode=MarginMode.CROSS if side is PositionSide.SHORT else MarginMode.CASH,
        updated_at=now, cost_basis=position.cost_basis, market_value=position.market_value,
    )


def balance_from(account: s.Account) -> Balance:
    """The account's cash as its one balance (negative when borrowing on margin)."""
    cash = account.cash if account.cash is not None else ZERO
    return Balance(venue=VENUE, currency=account.currency or QUOTE_CURRENCY, free=cash, locked=ZERO)


def account_info_from(account: s.Account, now: datetime) -> AccountInfo:
    """GET /v2/account -> AccountInfo. ``pattern_day_trader`` / ``day_trade_count`` are None since Alpaca
    removed them (2026-07-06); ``account_type`` is "margin" when the buying-power multiplier exceeds 1."""
    blocked = account.account_blocked or account.status != "ACTIVE"
    multiplier = account.multiplier or Decimal(1)
    return AccountInfo(
        venue=VENUE,
        account_type="margin" if multiplier > 1 else "cash",
        can_trade=not (blocked or account.trading_blocked or account.trade_suspended_by_user),
        can_withdraw=not (blocked or account.transfers_blocked),
        can_deposit=not (blocked or account.transfers_blocked),
        balances=[balance_from(account)],
        maker_fee_rate=ZERO,
        taker_fee_rate=ZERO,
        updated_at=now,
        currency=account.currency or QUOTE_CURRENCY,
        cash=account.cash,
        equity=account.equity,
        buying_power=account.buying_power,
        margin_used=account.initial_margin,
        pattern_day_trader=account.pattern_day_trader,
        day_trade_count=account.daytrade_count,
        shorting_enabled=account.shorting_enabled,
    )


# --- market data ----------------------------------------------------------------------------------------------

def timeframe(interval: str) -> str:
    """Unified interval (``1m``, ``1h``, ``1d`` ...) -> Alpaca ``timeframe`` (``1Min``, ``1Hour``, ``1Day`` ...)."""
    return intervals.venue_code(interval, TIMEFRAMES, TIMEFRAMES_FROM_VENUE, venue=VENUE, name=VENUE_NAME,
                                noun="bars here")


def interval_end(open_time: datetime, interval: str) -> datetime:
    """When a bar of ``interval`` (unified or Alpaca's) that opened at ``open_time`` closes."""
    return intervals.interval_end(open_time, TIMEFRAMES_FROM_VENUE.get(interval, interval), venue=VENUE)


def candle_from(bar: s.Bar | s.DataBar | s.DataUpdatedBar | s.DataDailyBar, instrument: Instrument, interval: str,
                *, closed: bool) -> Candle:
    return Candle(venue=VENUE, symbol=instrument.symbol, interval=TIMEFRAMES_FROM_VENUE.get(interval, interval),
                  open_time=utc(bar.t), open=bar.o, high=bar.h, low=bar.l, close=bar.c, volume=bar.v, closed=closed)


def candles_from_page(page: s.BarsPage, instrument: Instrument, interval: str, *, now: datetime) -> list[Candle]:
    """A bars page -> Candles oldest first; a bar is closed once its interval has ended."""
    candles = [candle_from(bar, instrument, interval, closed=interval_end(utc(bar.t), interval) <= now)
               for bar in page.bars or ()]
    candles.sort(key=lambda candle: candle.open_time)
    return candles


def candle_from_stream(bar: s.DataBar | s.DataUpdatedBar | s.DataDailyBar, instrument: Instrument) -> Candle:
    """``b`` and ``u`` are finished (corrected) minute bars; ``d`` is the day so far (not closed)."""
    if isinstance(bar, s.DataDailyBar):
        return candle_from(bar, instrument, "1d", closed=False)
    return candle_from(bar, instrument, "1m", closed=True)


def quote_size_in_shares(size: Decimal, price: Decimal) -> Decimal | None:
    """Quote sizes are round lots; a round lot is surely 100 shares only up to $250 (SEC's 2025 round-lot
    tiers give dearer stocks 40, 10 or 1, undocumented by Alpaca): beyond that the size is unknown."""
    return size * QUOTE_ROUND_LOT if 0 < price <= QUOTE_ROUND_LOT_MAX_PRICE else None


def ticker_from_quote(quote: s.DataQuote | s.StockQuote, instrument: Instrument, last: Decimal) -> Ticker:
    """A quote and the last trade price (quotes carry none) -> Ticker; 0 means "no bid/ask"."""
    bid = quote.bp if quote.bp > 0 else None
    ask = quote.ap if quote.ap > 0 else None
    return Ticker(venue=VENUE, symbol=instrument.symbol, last=last, bid=bid, ask=ask,
                  bid_size=quote_size_in_shares(quote.bs, bid) if bid is not None else None,
                  ask_size=quote_size_in_shares(quote.ask_size, ask) if ask is not None else None,
                  timestamp=utc(quote.t))


def ticker_from_snapshot(snapshot: s.Snapshot, instrument: Instrument) -> Ticker:
    if snapshot.latestTrade is None:
        raise ProtocolViolation(f"Alpaca snapshot of {instrument.symbol} has no latest trade", venue=VENUE)
    trade = snapshot.latestTrade
    if snapshot.latestQuote is None:
        return Ticker(venue=VENUE, symbol=instrument.symbol, last=trade.p, timestamp=utc(trade.t))
    ticker = ticker_from_quote(snapshot.latestQuote, instrument, trade.p)
    newest = max(utc(trade.t), ticker.timestamp)
    return Ticker(venue=VENUE, symbol=ticker.symbol, last=ticker.last, bid=ticker.bid, ask=ticker.ask,
                  bid_size=ticker.bid_size, ask_size=ticker.ask_size, timestamp=newest)


def trade_from(trade: s.DataTrade | s.StockTrade, instrument: Instrument) -> Trade:
    """A public trade print -> Trade.

    Trade ids are per exchange (two exchanges print the same ``i``), so the id is ``"<x>-<i>"``. Alpaca
    publishes no aggressor side, so ``taker_side`` is None (a guess would read as the venue's word).
    """
    if trade.i is None:
        raise ProtocolViolation(f"Alpaca trade of {instrument.symbol} without an id", venue=VENUE)
    return Trade(venue=VENUE, symbol=instrument.symbol, trade_id=f"{trade.x}-{trade.i}", price=trade.p,
                 quantity=trade.s, taker_side=None, timestamp=utc(trade.t))
