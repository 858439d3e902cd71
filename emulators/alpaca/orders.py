"""Alpaca's orders on the engine: validation, routing by session, conditional orders, order classes, expiry.

An `AOrder` is Alpaca's order (its uuid, client order id, type, time in force, status, order class and legs).
It trades through at most one engine order (`EOrder`, whose client order id is the Alpaca order's id), placed
when the order is routed: at once in the regular session; outside it, market and non-extended orders wait as
``accepted`` and are routed at the next open (extended-hours DAY limit orders trade in the pre-market and
after hours, and wait for the pre-market when the market is closed). Stop, stop-limit and trailing-stop orders
wait in the dialect and place a market (or limit) engine order when the last price crosses the stop during the
regular session; a trailing stop's stop follows the high (low) water mark. ``opg``/``cls`` orders fill in full
at the opening/closing auction price (a limit only if the price reaches it, else ``canceled``); they are
refused from 09:28 (cls: 10 minutes before the close) to 19:00 ET and queued to the next session after that.
DAY orders expire at the close (extended-hours ones when the after-hours session ends) as ``expired``; GTC
orders persist. IOC/FOK remainders are ``canceled``.

Order classes: ``bracket`` (an entry, then a take-profit limit and a stop-loss stop or stop-limit, ``held``
until the entry fills, one-cancels-other), ``oco`` (a take-profit limit and a stop-loss, both live at once) and
``oto`` (an entry and one exit). Legs have the parent's quantity and time in force. When a parent ends unfilled,
its held legs are canceled; canceling a parent cancels its legs.

Replace (PATCH) makes a new order (new id, ``replaces``) and closes the old one as ``replaced`` (its fills stay
with it); the new order's quantity is the given one (default: what the old one had left). Replacing orders of
class bracket/oco/oto is refused (not modelled).

A notional market order buys (sells) ``notional / price`` shares to 9 decimals at the price when it is routed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from emulators.alpaca import account, errors
from emulators.alpaca.assets import asset_of
from emulators.engine import EFill, EOrder, Rejected
from emulators.engine.errors import refuse
from emulators.engine.model import OrderKind, Tif
from emulators.engine.sessions import NEW_YORK, Boundary, Session, TradingCalendar, TradingDay

if TYPE_CHECKING:
    from emulators.alpaca.dialect import AlpacaDialect

D = Decimal
TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIFS = ("day", "gtc", "opg", "cls", "ioc", "fok")
CLASSES = ("simple", "bracket", "oco", "oto")
INTENTS = ("buy_to_open", "buy_to_close", "sell_to_open", "sell_to_close")
TERMINAL = ("filled", "canceled", "expired", "replaced", "rejected")
ORDER_FIELDS = {"symbol", "qty", "notional", "side", "type", "time_in_force", "limit_price", "stop_price",
                "trail_price", "trail_percent", "extended_hours", "client_order_id", "order_class", "take_profit",
                "stop_loss", "position_intent"}
NINE_PLACES = D("0.000000001")
AUCTION_CUTOFF = clock_time(19, 0)  # opg/cls orders after 19:00 ET go to the next session


@attrs.define(eq=False)
class AOrder:
    """One Alpaca order (see the module docstring)."""

    id: str
    client_order_id: str
    account: str
    symbol: str
    side: str  # buy | sell
    type: str
    tif: str
    qty: Decimal | None
    notional: Decimal | None
    created_ms: int
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    extended_hours: bool = False
    order_class: str = "simple"
    position_intent: str | None = None
    status: str = "new"
    updated_ms: int = 0
    submitted_ms: int = 0
    filled_ms: int | None = None
    expired_ms: int | None = None
    canceled_ms: int | None = None
    failed_ms: int | None = None
    replaced_ms: int | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    parent: str | None = None
    legs: list[str] = attrs.field(factory=list)
    day: date | None = None  # the trading day it is routed on (DAY orders: the day they live; opg/cls: the auction)
    wake: str = "open"  # queued orders: the boundary that routes them ("open", or "pre_open" for extended hours)
    engine: EOrder | None = None  # the engine order carrying its fills
    triggered: bool = False  # stop orders: the stop was reached and the engine order placed
    announced: bool = False  # "new" was published
    closing: str | None = None  # what our own engine cancel means: canceled | expired | replaced

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL

    @property
    def filled_qty(self) -> Decimal:
        return self.engine.filled if self.engine is not None else D(0)

    @property
    def filled_avg_price(self) -> Decimal | None:
        if self.engine is None or not self.engine.filled:
            return None
        return self.engine.quote_filled / self.engine.filled

    @property
    def remaining(self) -> Decimal:
        """Shares still to trade (a notional order before routing: 0 -- its reservation is the notional)."""
        if self.engine is not None:
            return self.engine.remaining if self.engine.is_open or self.is_open else D(0)
        return self.qty if self.qty is not None else D(0)

    @property
    def conditional(self) -> bool:
        return self.type in ("stop", "stop_limit", "trailing_stop")

    @property
    def fractional(self) -> bool:
        return self.notional is not None or (self.qty is not None and self.qty != self.qty.to_integral_value())


# ====================================================================== ids
def new_id(d: AlpacaDialect, kind: int) -> str:
    """A deterministic uuid (version 4 bits set) from the seed, a kind and a counter."""
    return str(uuid.UUID(int=(d.market.seed & 0xFFFF) << 96 | kind << 64 | d.next_serial(), version=4))


# ====================================================================== parsing a request
def text(params: Mapping[str, Any], name: str, choices: tuple[str, ...] | None = None, *,
         required: bool = False) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise errors.invalid(f"{name} is required")
        return None
    if not isinstance(raw, str) or (choices is not None and raw not in choices):
        raise errors.invalid(f"invalid {name}" + (f": must be one of {', '.join(choices)}" if choices else ""))
    return raw


def number(params: Mapping[str, Any], name: str, *, places: int = 9) -> Decimal | None:
    """A positive decimal sent as a JSON number or a string, with at most ``places`` decimals."""
    raw = params.get(name)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise errors.invalid(f"invalid {name}")
    try:
        value = D(str(raw))
    except InvalidOperation:
        raise errors.invalid(f"invalid {name}") from None
    if not value.is_finite():
        raise errors.invalid(f"invalid {name}")
    if value <= 0:
        raise errors.rule(f"{name} must be > 0")
    exponent = value.normalize().as_tuple().exponent
    if value > D("1e12"):
        raise errors.invalid(f"invalid {name}")
    if not isinstance(exponent, int) or -exponent > places:
        raise errors.invalid(f"invalid {name}: at most {places} decimal places")
    return value


def flag(params: Mapping[str, Any], name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise errors.invalid(f"invalid {name}")


def price_checked(name: str, value: Decimal | None) -> Decimal | None:
    """Stocks at $1 or more trade in cents, below in hundredths of a cent."""
    if value is None:
        return None
    places = 2 if value >= 1 else 4
    if value != value.quantize(D(1).scaleb(-places)):
        raise errors.rule(f"invalid {name} {format(value, 'f')}. sub-penny increment does not fulfill minimum "
                          "pricing criteria")
    return value


def leg_params(params: Mapping[str, Any], name: str, allowed: set[str]) -> Mapping[str, Any] | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise errors.invalid(f"invalid {name}")
    for key in raw:
        if key not in allowed:
            raise errors.unknown_parameter(f"{name}.{key}")
    return raw


def parse(d: AlpacaDialect, account_name: str, params: Mapping[str, Any]) -> tuple[AOrder, list[AOrder]]:
    """Validate a POST /v2/orders body into an order and its legs (nothing registered yet)."""
    for key in params:
        if key not in ORDER_FIELDS:
            raise errors.unknown_parameter(key)
    symbol = text(params, "symbol", required=True)
    side = text(params, "side", ("buy", "sell"), required=True)
    kind = text(params, "type", TYPES, required=True)
    tif = text(params, "time_in_force", TIFS, required=True)
    assert symbol is not None and side is not None and kind is not None and tif is not None
    order_class = text(params, "order_class", (*CLASSES, "mleg", "")) or "simple"
    if order_class == "mleg":
        raise errors.rule("mleg orders are for options; this emulator trades stocks only")
    intent = text(params, "position_intent", INTENTS)
    qty, notional = number(params, "qty"), number(params, "notional")
    if qty is None and notional is None:
        raise errors.invalid("qty or notional is required")
    if qty is not None and notional is not None:
        raise errors.invalid("qty and notional cannot both be given")
    state = d.market.symbols.get(symbol)
    if state is None:
        raise errors.invalid(f'asset "{symbol}" not found')
    asset = asset_of(symbol)
    if not asset.tradable:
        raise errors.rule(f'asset "{symbol}" is not tradable')
    limit = price_checked("limit_price", number(params, "limit_price", places=4))
    stop = price_checked("stop_price", number(params, "stop_price", places=4))
    trail_price, trail_percent = number(params, "trail_price", places=4), number(params, "trail_percent", places=4)
    extended = flag(params, "extended_hours")
    client_id = params.get("client_order_id")
    if client_id is not None and (not isinstance(client_id, str) or not client_id):
        raise errors.invalid("invalid client_order_id")
    if isinstance(client_id, str) and len(client_id) > 128:
        raise errors.invalid("client_order_id must be no more than 128 characters")
    _type_fields(kind, order_class, limit, stop, trail_price, trail_percent)
    take_profit = leg_params(params, "take_profit", {"limit_price"})
    stop_loss = leg_params(params, "stop_loss", {"stop_price", "limit_price"})
    now = d.market.now_ms()
    order = AOrder(new_id(d, 1), client_id or new_id(d, 2), account_name, symbol, side, kind, tif, qty, notional, now,
                   limit, stop, trail_price, trail_percent, extended_hours=extended, order_class=order_class,
                   position_intent=intent, updated_ms=now, submitted_ms=now)
    _session_rules(order)
    _fractional_rules(order, asset.fractionable, "fractional_eh_enabled" in asset.attributes,
                      limit or d.market.last_price(symbol))
    if kind in ("stop", "stop_limit") and order_class == "simple":
        _stop_against_market(d, order)
    legs = _legs(d, order, take_profit, stop_loss)
    if legs and order.fractional:
        raise errors.rule("fractional orders must be simple orders")
    return order, legs


def _type_fields(kind: str, order_class: str, limit: Decimal | None, stop: Decimal | None,
                 trail_price: Decimal | None, trail_percent: Decimal | None) -> None:
    """Each type's prices: required where Alpaca needs them, refused where they mean nothing."""
    if kind in ("limit", "stop_limit") and limit is None and not (kind == "limit" and order_class == "oco"):
        raise errors.invalid("limit_price is required")
    if kind in ("stop", "stop_limit") and stop is None:
        raise errors.invalid("stop_price is required")
    if kind == "trailing_stop":
        if (trail_price is None) == (trail_percent is None):
            raise errors.invalid("exactly one of trail_price or trail_percent is required")
        if trail_percent is not None and trail_percent >= 100:
            raise errors.invalid("trail_percent must be less than 100")
    if kind in ("market", "stop", "trailing_stop") and limit is not None:
        raise errors.invalid(f"limit_price is not allowed for {kind} orders")
    if kind in ("market", "limit", "trailing_stop") and stop is not None:
        raise errors.invalid(f"stop_price is not allowed for {kind} orders")
    if kind != "trailing_stop" and (trail_price is not None or trail_percent is not None):
        raise errors.invalid(f"trail_price and trail_percent are not allowed for {kind} orders")


def _session_rules(order: AOrder) -> None:
    if order.extended_hours and (order.type != "limit" or order.tif != "day"):
        raise errors.rule("extended hours order must be DAY limit orders")
    if order.tif in ("opg", "cls") and order.type not in ("market", "limit"):
        raise errors.rule(f"{order.tif} orders must be market or limit orders")
    if order.tif in ("opg", "cls", "ioc", "fok") and order.order_class != "simple":
        raise errors.rule(f"{order.order_class} orders must be day or gtc orders")
    if order.order_class in ("bracket", "oto") and order.tif not in ("day", "gtc"):
        raise errors.rule(f"{order.order_class} orders must be day or gtc orders")


def _fractional_rules(order: AOrder, fractionable: bool, extended_ok: bool, price: Decimal) -> None:
    """Fractional shares (a fractional qty, or a notional): DAY market, limit, stop and stop-limit orders of
    simple class on fractionable assets (extended hours only where the asset allows it), worth at least $1."""
    if not order.fractional:
        return
    worth = order.notional if order.notional is not None else (order.qty or D(0)) * price
    if worth < 1:
        raise errors.refused("cost basis must be >= 1")
    if not fractionable:
        raise errors.not_fractionable(order.symbol)
    if order.tif != "day":
        raise errors.rule("fractional orders must be DAY orders")
    if order.order_class != "simple":
        raise errors.rule("fractional orders must be simple orders")
    if order.type not in ("market", "limit", "stop", "stop_limit"):
        raise errors.rule("fractional orders must be market, limit, stop or stop_limit orders")
    if order.extended_hours and not extended_ok:
        raise errors.rule("fractional orders are not allowed in extended hours for this asset")


def _stop_against_market(d: AlpacaDialect, order: AOrder) -> None:
    """A stop that would trigger at once is refused (a buy stop must be above the market, a sell stop below)."""
    market = d.market.last_price(order.symbol)
    assert order.stop_price is not None
    if order.side == "buy" and order.stop_price <= market:
        raise errors.rule("stop price must be greater than current price", market_price=market,
                          stop_price=order.stop_price)
    if order.side == "sell" and order.stop_price >= market:
        raise errors.rule("stop price must be less than current price", market_price=market,
                          stop_price=order.stop_price)


def _legs(d: AlpacaDialect, order: AOrder, take_profit: Mapping[str, Any] | None,
          stop_loss: Mapping[str, Any] | None) -> list[AOrder]:
    """The exit legs of a bracket, oco or oto order, checked against the base price."""
    cls = order.order_class
    if cls == "simple":
        if take_profit is not None or stop_loss is not None:
            raise errors.invalid("take_profit and stop_loss are only for bracket, oco and oto orders")
        return []
    tp = price_checked("take_profit.limit_price", number(take_profit or {}, "limit_price", places=4))
    sl_stop = price_checked("stop_loss.stop_price", number(stop_loss or {}, "stop_price", places=4))
    sl_limit = price_checked("stop_loss.limit_price", number(stop_loss or {}, "limit_price", places=4))
    if cls in ("bracket", "oco") and (tp is None or sl_stop is None):
        raise errors.invalid(f"{cls} orders require take_profit.limit_price and stop_loss.stop_price")
    if cls == "oto" and (tp is None) == (sl_stop is None):
        raise errors.invalid("oto orders require either take_profit or stop_loss")
    if stop_loss is not None and sl_stop is None:
        raise errors.invalid("stop_loss.stop_price is required")
    if cls == "oco":
        if order.type != "limit":
            raise errors.rule("oco orders must be limit orders")
        order.limit_price = order.limit_price or tp
    elif order.type not in ("market", "limit"):
        raise errors.rule(f"{cls} orders must be market or limit orders")
    if order.extended_hours:
        raise errors.rule("extended hours order must be simple orders")
    base = order.limit_price if order.type == "limit" and cls != "oco" else d.market.last_price(order.symbol)
    assert base is not None
    buy = order.side == "buy" if cls != "oco" else order.side == "sell"  # an oco exits: its entry was the other way
    cent = D("0.01")
    if tp is not None and cls != "oco" and (tp < base + cent if buy else tp > base - cent):
        raise errors.rule(f"take_profit.limit_price must be {'>=' if buy else '<='} base_price {'+' if buy else '-'} "
                          "0.01", base_price=base)
    if sl_stop is not None and (sl_stop > base - cent if buy else sl_stop < base + cent):
        raise errors.rule(f"stop_loss.stop_price must be {'<=' if buy else '>='} base_price {'-' if buy else '+'} "
                          "0.01", base_price=base)
    exit_side = order.side if cls == "oco" else ("sell" if order.side == "buy" else "buy")
    legs = []
    if tp is not None and cls != "oco":
        legs.append(_leg(d, order, exit_side, "limit", limit=tp))
    if sl_stop is not None:
        legs.append(_leg(d, order, exit_side, "stop_limit" if sl_limit is not None else "stop", limit=sl_limit,
                         stop=sl_stop))
    return legs


def _leg(d: AlpacaDialect, parent: AOrder, side: str, kind: str, *, limit: Decimal | None = None,
         stop: Decimal | None = None) -> AOrder:
    return AOrder(new_id(d, 1), new_id(d, 2), parent.account, parent.symbol, side, kind, parent.tif, parent.qty,
                  None, parent.created_ms, limit, stop, order_class=parent.order_class, updated_ms=parent.created_ms,
                  submitted_ms=parent.created_ms, parent=parent.id, status="held")


# ====================================================================== routing by session
def schedule(d: AlpacaDialect, order: AOrder, moment: datetime) -> str:
    """Decide when ``order`` trades: "now", or "queued" (set ``order.day`` and ``order.wake``); refuse an
    opg/cls order in its blackout."""
    calendar = d.market.clock.calendar
    session, today = calendar.session_at(moment)
    local = moment.astimezone(NEW_YORK)
    trading_today = calendar.day(local.date())
    if order.tif in ("opg", "cls"):
        order.day = _auction_day(order, moment, trading_today, calendar)
        return "now"
    if order.extended_hours:
        if session is not Session.CLOSED:
            order.day = today.day if today is not None else None
            return "now"
        following = calendar.next_day(local.date())
        if following is not None and following.pre_open <= moment:  # today's after-hours are over
            following = calendar.next_day(following.day + timedelta(days=1))
        order.day, order.wake = (following.day if following else None), "pre_open"
        return "queued"
    if session is Session.REGULAR:
        order.day = today.day if today is not None else None
        return "now"
    next_open = calendar.next_open(moment)
    order.day = next_open.astimezone(NEW_YORK).date() if next_open is not None else None
    order.wake = "open"
    return "queued"


def _auction_day(order: AOrder, moment: datetime, today: TradingDay | None, calendar: TradingCalendar) -> date:
    """The day of the auction an opg/cls order goes to (refused from the cutoff to 19:00 ET)."""
    local = moment.astimezone(NEW_YORK)
    if today is not None:
        cutoff = (today.open - timedelta(minutes=2)) if order.tif == "opg" else (today.close - timedelta(minutes=10))
        if moment < cutoff:
            return today.day
        if local.time() < AUCTION_CUTOFF:
            when = "9:28am" if order.tif == "opg" else "10 minutes before the close"
            raise errors.rule(f"{order.tif} orders must be submitted before {when} ET or after 7:00pm ET")
    following = calendar.next_day(local.date() + timedelta(days=1))
    if following is None:
        raise errors.rule("no trading day ahead in the calendar")
    return following.day


# ====================================================================== submitting, routing, the engine
def submit(d: AlpacaDialect, order: AOrder, legs: list[AOrder]) -> AOrder:
    """Register a validated order (and its legs) and route or queue it. The account checks ran before."""
    when = schedule(d, order, d.market.clock.now())
    if order.position_intent is None:
        size = d.market.stock_position(order.account, order.symbol).size
        closes = size < 0 if order.side == "buy" else size > 0
        order.position_intent = f"{order.side}_to_{'close' if closes else 'open'}"
    d.register(order)
    for leg in legs:
        leg.day = order.day
        order.legs.append(leg.id)
        d.register(leg)
    live = legs if order.order_class == "oco" else []  # an oco's exits are live at once; other legs are held
    if when == "now":
        for each in (order, *live):
            each.status = "new"
            route(d, each)
    else:
        for each in (order, *live):
            each.status = "accepted"
            d.publish(each, "accepted")
    return order


def route(d: AlpacaDialect, order: AOrder) -> None:
    """Send an order to trade: conditional and auction orders start waiting (``new``), others go to the engine."""
    if not order.is_open:
        return
    if (order.conditional and not order.triggered) or order.tif in ("opg", "cls"):
        order.status = "new"
        if order.type == "trailing_stop":
            _trail(d, order, d.market.last_price(order.symbol))
        announce(d, order)
        return
    place(d, order)


def announce(d: AlpacaDialect, order: AOrder) -> None:
    if not order.announced:
        order.announced = True
        d.publish(order, "new")


def place(d: AlpacaDialect, order: AOrder, quantity: Decimal | None = None) -> None:
    """Place the order's engine order: market for market, stop and trailing-stop orders, limit otherwise."""
    kind: OrderKind = "LIMIT" if order.type in ("limit", "stop_limit") else "MARKET"
    if quantity is None:
        quantity = order.qty if order.qty is not None else _notional_shares(d, order)
    tif: Tif = "IOC" if order.tif == "ioc" else "FOK" if order.tif == "fok" else "GTC"
    try:
        d.market.place(order.account, order.symbol, "BUY" if order.side == "buy" else "SELL", kind, quantity,
                         order.limit_price if kind == "LIMIT" else None, tif, order.id)
    except Rejected as rejected:
        reject(d, order, refuse(errors.REJECTIONS, rejected).message)


def _notional_shares(d: AlpacaDialect, order: AOrder) -> Decimal:
    assert order.notional is not None
    price = order.limit_price if order.type == "limit" else (
        d.market.best_ask(order.symbol) if order.side == "buy" else d.market.best_bid(order.symbol))
    assert price is not None
    return (order.notional / price).quantize(NINE_PLACES, rounding=ROUND_DOWN)


def reject(d: AlpacaDialect, order: AOrder, reason: str) -> None:
    now = d.market.now_ms()
    order.status, order.failed_ms, order.updated_ms = "rejected", now, now
    d.publish(order, "rejected", reason=reason)
    _end_family(d, order)


def cancel(d: AlpacaDialect, order: AOrder, outcome: str = "canceled") -> None:
    """Close an open order as ``outcome`` (canceled, expired or replaced), with its legs when it is a parent."""
    if not order.is_open:
        return
    if order.engine is not None and order.engine.is_open:
        order.closing = outcome
        d.market.cancel(order.account, order.symbol, order_id=order.engine.order_id)
    else:
        finish(d, order, outcome, d.market.now_ms())
    for leg_id in order.legs:
        cancel(d, d.orders[leg_id], "canceled" if outcome == "replaced" else outcome)


def finish(d: AlpacaDialect, order: AOrder, outcome: str, at_ms: int) -> None:
    """The order ends as ``outcome``: record it, tell the stream, and end its held legs."""
    if not order.is_open:
        return
    order.status, order.updated_ms = outcome, at_ms
    if outcome == "expired":
        order.expired_ms = at_ms
    elif outcome == "replaced":
        order.replaced_ms = at_ms
    else:
        order.canceled_ms = at_ms
    d.publish(order, outcome)
    _end_family(d, order)


def _end_family(d: AlpacaDialect, order: AOrder) -> None:
    """An entry that ended unfilled takes its held legs with it; an entry that filled in part arms them for
    the part; an exit that filled cancels its siblings."""
    if order.legs and order.order_class in ("bracket", "oto"):
        filled = order.filled_qty
        for leg in (d.orders[i] for i in order.legs):
            if leg.status != "held":
                continue
            if filled > 0:
                leg.qty = filled
                leg.status = "new"
                route(d, leg)
            else:
                finish(d, leg, "canceled", order.updated_ms)


def on_filled(d: AlpacaDialect, order: AOrder) -> None:
    """One-triggers-other (an entry arms its legs) and one-cancels-other (an exit cancels the others)."""
    if order.legs and order.order_class in ("bracket", "oto"):
        _end_family(d, order)
    elif order.order_class == "oco" and order.parent is None:  # the oco's take-profit
        for leg_id in order.legs:
            cancel(d, d.orders[leg_id])
    elif order.order_class in ("bracket", "oco") and order.parent is not None:
        parent = d.orders[order.parent]
        for sibling in [d.orders[i] for i in parent.legs if i != order.id]:
            cancel(d, sibling)
        if order.order_class == "oco":
            cancel(d, parent)


# ====================================================================== engine events
def on_engine_order(d: AlpacaDialect, engine_order: EOrder, fill: EFill | None, execution: str) -> None:
    order = d.orders.get(engine_order.client_order_id)
    if order is None or order.account != engine_order.account:
        return
    order.engine = engine_order
    order.updated_ms = engine_order.updated_ms
    if execution == "NEW":
        if order.status in ("accepted", "held"):
            order.status = "new"
        announce(d, order)
        return
    if fill is not None:
        if engine_order.status == "FILLED":
            order.status, order.filled_ms = "filled", fill.time_ms
            d.publish(order, "fill", fill=fill)
            on_filled(d, order)
        else:
            order.status = "partially_filled"
            d.publish(order, "partial_fill", fill=fill)
        return
    if execution in ("CANCELED", "EXPIRED"):
        outcome = order.closing or "canceled"  # an IOC/FOK or market remainder is canceled
        order.closing = None
        finish(d, order, outcome, engine_order.updated_ms)


# ====================================================================== ticks: stops and trailing stops
def _trail(d: AlpacaDialect, order: AOrder, price: Decimal) -> None:
    """Move a trailing stop's water mark and stop price with the market."""
    if order.hwm is None or (price > order.hwm if order.side == "sell" else price < order.hwm):
        order.hwm = price
    offset = order.trail_price if order.trail_price is not None else \
        order.hwm * (order.trail_percent or D(0)) / 100
    stop = order.hwm - offset if order.side == "sell" else order.hwm + offset
    order.stop_price = stop.quantize(D("0.01"))


def on_price(d: AlpacaDialect, symbol: str) -> None:
    """During the regular session, trigger the conditional orders the last price reached."""
    if d.market.session() is not Session.REGULAR:
        return
    price = d.market.last_price(symbol)
    for order in [o for o in d.orders.values() if o.symbol == symbol and o.conditional and not o.triggered
                  and o.status in ("new", "accepted") and o.announced]:
        if order.type == "trailing_stop":
            _trail(d, order, price)
        assert order.stop_price is not None
        if not (price >= order.stop_price if order.side == "buy" else price <= order.stop_price):
            continue
        order.triggered = True
        quantity = order.qty
        if order.parent is not None and quantity is not None:  # an exit: no more than its siblings left open
            parent = d.orders[order.parent]
            taken = sum((d.orders[i].filled_qty for i in parent.legs if i != order.id), D(0))
            quantity = max(quantity - taken, D(0))
            if quantity == 0:
                cancel(d, order)
                continue
        place(d, order, quantity)


# ====================================================================== session transitions
def on_boundary(d: AlpacaDialect, boundary: Boundary) -> None:
    """Route what waits for this boundary, run the auctions, expire DAY orders."""
    day = boundary.day.day
    if boundary.kind in ("pre_open", "open"):
        if boundary.kind == "open":
            _auction(d, "opg", day)
        for order in [o for o in d.orders.values() if o.status == "accepted" and o.day == day
                      and o.wake == boundary.kind and o.parent is None]:
            _route_queued(d, order)
    elif boundary.kind == "close":
        _auction(d, "cls", day)
        for order in [o for o in d.orders.values() if o.is_open and o.tif == "day" and o.day == day
                      and not o.extended_hours and o.status != "held"]:
            cancel(d, order, "expired")
        d.on_close()
    elif boundary.kind == "post_close":
        for order in [o for o in d.orders.values() if o.is_open and o.tif == "day" and o.day == day
                      and o.extended_hours]:
            cancel(d, order, "expired")


def _route_queued(d: AlpacaDialect, order: AOrder) -> None:
    """At its open a queued order is checked again (the account may have changed) and routed, or rejected."""
    state = d.account_state(order.account)
    try:
        account.check(d, order.account, state, order, excluding=order)
    except errors.AlpacaError as refusal:
        reject(d, order, refusal.message)
        return
    route(d, order)
    if order.order_class == "oco":
        for leg_id in order.legs:
            route(d, d.orders[leg_id])


def _auction(d: AlpacaDialect, tif: str, day: date) -> None:
    """The opening (closing) auction: its orders fill in full at one price, limits only if it reaches them."""
    for order in [o for o in d.orders.values() if o.is_open and o.tif == tif and o.day == day]:
        price = d.market.last_price(order.symbol)
        quantity = order.qty if order.qty is not None else _notional_shares(d, order)
        reached = order.limit_price is None or (
            price <= order.limit_price if order.side == "buy" else price >= order.limit_price)
        if not reached or quantity <= 0:
            cancel(d, order)
            continue
        try:
            d.market.cross(order.account, order.symbol, "BUY" if order.side == "buy" else "SELL", quantity, price,
                             order.id)
        except Rejected as rejected:
            reject(d, order, refuse(errors.REJECTIONS, rejected).message)


# ====================================================================== replace
REPLACE_FIELDS = {"qty", "time_in_force", "limit_price", "stop_price", "trail", "client_order_id"}


def replace(d: AlpacaDialect, old: AOrder, params: Mapping[str, Any]) -> AOrder:
    """PATCH /v2/orders/{id}: a new order with the changes, the old one ``replaced``."""
    for key in params:
        if key not in REPLACE_FIELDS:
            raise errors.unknown_parameter(key)
    if not old.is_open:
        raise errors.not_cancelable(old.status)
    if old.order_class != "simple" or old.parent is not None:
        raise errors.rule(f"replacing {old.order_class} orders is not supported by this emulator")
    if (old.type == "market" and old.status != "accepted") or old.triggered:
        raise errors.rule("unable to replace order in current state")
    qty = number(params, "qty")
    tif = text(params, "time_in_force", TIFS) or old.tif
    limit = price_checked("limit_price", number(params, "limit_price", places=4))
    stop = price_checked("stop_price", number(params, "stop_price", places=4))
    trail = number(params, "trail", places=4)
    if limit is not None and old.type not in ("limit", "stop_limit"):
        raise errors.invalid(f"limit_price is not allowed for {old.type} orders")
    if stop is not None and old.type not in ("stop", "stop_limit"):
        raise errors.invalid(f"stop_price is not allowed for {old.type} orders")
    if trail is not None and old.type != "trailing_stop":
        raise errors.invalid("trail is only for trailing_stop orders")
    client_id = params.get("client_order_id")
    if client_id is not None and (not isinstance(client_id, str) or not client_id or len(client_id) > 128):
        raise errors.invalid("invalid client_order_id")
    if client_id is not None and d.client_id_taken(old.account, client_id):
        raise errors.invalid("client_order_id must be unique")
    now = d.market.now_ms()
    left = old.remaining if old.qty is not None else None
    new = attrs.evolve(old, id=new_id(d, 1), client_order_id=client_id or new_id(d, 2), created_ms=now,
                       updated_ms=now, submitted_ms=now, qty=qty if qty is not None else left,
                       notional=old.notional if qty is None and old.qty is None else None, tif=tif,
                       limit_price=limit if limit is not None else old.limit_price,
                       stop_price=stop if stop is not None else old.stop_price, status="new", replaces=old.id,
                       replaced_by=None, engine=None, announced=False, closing=None, legs=[], hwm=None,
                       filled_ms=None, expired_ms=None, canceled_ms=None, failed_ms=None, replaced_ms=None)
    if trail is not None:
        new.trail_price, new.trail_percent = (trail, None) if old.trail_price is not None else (None, trail)
    if new.qty is not None and new.qty <= 0:
        raise errors.rule("qty must be > 0")
    _session_rules(new)
    asset = asset_of(new.symbol)
    _fractional_rules(new, asset.fractionable, "fractional_eh_enabled" in asset.attributes,
                      new.limit_price or d.market.last_price(new.symbol))
    account.check(d, old.account, d.account_state(old.account), new, excluding=old)
    old.replaced_by = new.id
    cancel(d, old, "replaced")
    return submit(d, new, [])
