"""Alpaca's JSON, printed from the engine's and the dialect's records.

Trading API: money, prices and quantities are strings (decimals up to 9 places, no exponent), timestamps
RFC 3339 in UTC with microseconds (``2026-12-01T15:00:00.123000Z``), the clock's in New York time with its
offset, the calendar's as ``HH:MM`` and ``HHMM``. Market Data API: numbers are JSON numbers, trade and quote
times RFC 3339 with nanoseconds, bar times the bar's start in whole seconds. Fields Alpaca removed are not
sent (the account's ``pattern_day_trader``, ``daytrade_count``, ``daytrading_buying_power``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emulators.alpaca import account
from emulators.alpaca.assets import asset_of
from emulators.engine import EFill, EPosition, PublicTrade
from emulators.engine.candles import Bar
from emulators.engine.sessions import NEW_YORK, Session, TradingDay

if TYPE_CHECKING:
    from emulators.alpaca.dialect import AlpacaDialect, Quote
    from emulators.alpaca.orders import AOrder

D = Decimal
NINE = D("0.000000001")


# ---------------------------------------------------------------------- scalars
def num(value: Decimal | None) -> str | None:
    """A decimal as Alpaca prints it: a string, at most 9 decimal places, no exponent (None stays null)."""
    if value is None:
        return None
    text = format(value.quantize(NINE).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def utc(ms: int | None) -> str | None:
    """A trading API timestamp: UTC, microseconds, ``Z``."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_york(moment: datetime) -> str:
    """A clock timestamp: New York time with its offset."""
    return moment.astimezone(NEW_YORK).isoformat()


def nanos(ms: int) -> str:
    """A market-data trade or quote time: RFC 3339 with nanoseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def seconds(ms: int) -> str:
    """A bar's start: RFC 3339 in whole seconds."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def number(value: Decimal) -> int | float:
    """A market-data number: an integer when whole, else a float."""
    return int(value) if value == value.to_integral_value() else float(value)


# ---------------------------------------------------------------------- trading API
def asset(d: AlpacaDialect, symbol: str) -> dict[str, Any]:
    info = asset_of(symbol)
    margin = "30" if info.marginable else "100"
    return {"id": d.asset_id(symbol), "class": "us_equity", "exchange": info.exchange, "symbol": symbol,
            "name": info.name, "status": "active", "tradable": info.tradable, "marginable": info.marginable,
            "maintenance_margin_requirement": int(margin), "margin_requirement_long": margin,
            "margin_requirement_short": margin if info.shortable else "100", "shortable": info.shortable,
            "easy_to_borrow": info.easy_to_borrow, "fractionable": info.fractionable,
            "attributes": info.attributes}


def order(d: AlpacaDialect, o: AOrder, *, nested: bool = False) -> dict[str, Any]:
    legs = [order(d, d.orders[i]) for i in o.legs] if nested and o.legs else None
    filled = o.filled_qty
    avg = o.filled_avg_price
    return {
        "id": o.id, "client_order_id": o.client_order_id, "created_at": utc(o.created_ms),
        "updated_at": utc(o.updated_ms or o.created_ms), "submitted_at": utc(o.submitted_ms or o.created_ms),
        "filled_at": utc(o.filled_ms), "expired_at": utc(o.expired_ms), "expires_at": utc(expiry(d, o)),
        "canceled_at": utc(o.canceled_ms), "failed_at": utc(o.failed_ms), "replaced_at": utc(o.replaced_ms),
        "replaced_by": o.replaced_by, "replaces": o.replaces, "asset_id": d.asset_id(o.symbol), "symbol": o.symbol,
        "asset_class": "us_equity", "notional": num(o.notional), "qty": num(o.qty), "filled_qty": num(filled),
        "filled_avg_price": num(avg), "order_class": o.order_class, "order_type": o.type, "type": o.type,
        "side": o.side, "position_intent": o.position_intent, "time_in_force": o.tif,
        "limit_price": num(o.limit_price), "stop_price": num(o.stop_price), "status": o.status,
        "extended_hours": o.extended_hours, "legs": legs, "trail_percent": num(o.trail_percent),
        "trail_price": num(o.trail_price), "hwm": num(o.hwm), "subtag": None, "source": None,
    }


def expiry(d: AlpacaDialect, o: AOrder) -> int | None:
    """When a DAY order ends: its day's close (extended hours: the end of after-hours)."""
    if o.tif != "day" or o.day is None:
        return None
    day = d.market.clock.calendar.day(o.day)
    if day is None:
        return None
    end = day.post_close if o.extended_hours else day.close
    return int(end.timestamp() * 1000)


def position(d: AlpacaDialect, p: EPosition) -> dict[str, Any]:
    ex = d.market
    info = asset_of(p.symbol)
    price, lastday = ex.last_price(p.symbol), ex.closes.get(p.symbol, ex.last_price(p.symbol))
    value, cost = p.size * price, p.size * p.entry_price
    pl = value - cost
    session_start = ex.clock.calendar.session_at(ex.clock.now())[1]
    opened_today = session_start is not None and p.created_ms >= int(session_start.pre_open.timestamp() * 1000)
    base = p.entry_price if opened_today else lastday
    intraday = p.size * (price - base)
    held = account.held_for_orders(d, p.account, p.symbol, "sell" if p.size > 0 else "buy")
    available = p.size - held if p.size > 0 else p.size + held
    return {
        "asset_id": d.asset_id(p.symbol), "symbol": p.symbol, "exchange": info.exchange, "asset_class": "us_equity",
        "asset_marginable": info.marginable, "qty": num(p.size), "avg_entry_price": num(p.entry_price),
        "side": "long" if p.size > 0 else "short", "market_value": num(value), "cost_basis": num(cost),
        "unrealized_pl": num(pl), "unrealized_plpc": num(pl / abs(cost) if cost else D(0)),
        "unrealized_intraday_pl": num(intraday),
        "unrealized_intraday_plpc": num(intraday / abs(p.size * base) if base else D(0)),
        "current_price": num(price), "lastday_price": num(lastday),
        "change_today": num((price - lastday) / lastday if lastday else D(0)), "qty_available": num(available),
    }


def trade_account(d: AlpacaDialect, name: str, state: account.AccountState) -> dict[str, Any]:
    m = account.money(d, name, state)
    equity = m.equity
    last_equity = state.last_equity if state.last_equity is not None else equity
    return {
        "id": state.account_id, "admin_configurations": {}, "user_configurations": None,
        "account_number": state.account_number, "status": "ACTIVE", "crypto_status": "INACTIVE",
        "options_approved_level": 0, "options_trading_level": 0, "currency": "USD",
        "buying_power": num(m.available), "regt_buying_power": num(m.available),
        "non_marginable_buying_power": num(m.available / state.multiplier), "options_buying_power": "0",
        "cash": num(m.cash), "accrued_fees": "0", "portfolio_value": num(equity), "trading_blocked": False,
        "transfers_blocked": False, "account_blocked": False, "created_at": utc(state.created_ms),
        "trade_suspended_by_user": False, "multiplier": str(state.multiplier),
        "shorting_enabled": state.multiplier > 1, "equity": num(equity), "last_equity": num(last_equity),
        "long_market_value": num(m.long_value), "short_market_value": num(m.short_value),
        "position_market_value": num(m.long_value - m.short_value), "initial_margin": num(m.initial_margin),
        "maintenance_margin": num(m.maintenance_margin), "last_maintenance_margin": num(state.last_maintenance),
        "sma": num(max(D(0), equity - m.initial_margin)), "crypto_tier": 0, "intraday_adjustments": "0",
        "pending_reg_taf_fees": "0", "balance_asof": d.market.clock.now().astimezone(NEW_YORK).date().isoformat(),
    }


def clock(d: AlpacaDialect) -> dict[str, Any]:
    now = d.market.clock.now()
    calendar = d.market.clock.calendar
    next_open, next_close = calendar.next_open(now), calendar.next_close(now)
    return {"timestamp": new_york(now), "is_open": calendar.session_at(now)[0] is Session.REGULAR,
            "next_open": new_york(next_open) if next_open else None,
            "next_close": new_york(next_close) if next_close else None}


def calendar_day(day: TradingDay) -> dict[str, Any]:
    def hhmm(moment: datetime, sep: str) -> str:
        return moment.astimezone(NEW_YORK).strftime(f"%H{sep}%M")

    return {"date": day.day.isoformat(), "open": hhmm(day.open, ":"), "close": hhmm(day.close, ":"),
            "session_open": hhmm(day.pre_open, ""), "session_close": hhmm(day.post_close, ""),
            "settlement_date": day.settlement.isoformat()}


def activity_id(d: AlpacaDialect, fill: EFill) -> str:
    """``<yyyymmddhhmmssmmm>::<uuid>`` (sortable by time, then by the fill)."""
    stamp = datetime.fromtimestamp(fill.time_ms / 1000, UTC)
    return f"{stamp.strftime('%Y%m%d%H%M%S')}{fill.time_ms % 1000:03d}::{d.execution_id(fill)}"


def fill_activity(d: AlpacaDialect, fill: EFill, cum: Decimal, leaves: Decimal) -> dict[str, Any]:
    done = leaves == 0
    return {"id": activity_id(d, fill), "activity_type": "FILL",
            "transaction_time": utc(fill.time_ms), "type": "fill" if done else "partial_fill",
            "price": num(fill.price), "qty": num(fill.quantity), "side": fill.side.lower(), "symbol": fill.symbol,
            "leaves_qty": num(leaves), "order_id": fill.client_order_id, "cum_qty": num(cum),
            "order_status": "filled" if done else "partially_filled"}


def trade_update(d: AlpacaDialect, o: AOrder, event: str, at_ms: int, fill: EFill | None = None,
                 reason: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"event": event, "order": order(d, o, nested=True), "timestamp": utc(at_ms)}
    if fill is not None:
        data.update(execution_id=d.execution_id(fill), price=num(fill.price), qty=num(fill.quantity),
                    position_qty=num(d.market.stock_position(o.account, o.symbol).size))
    if reason is not None:
        data["reason"] = reason
    return {"stream": "trade_updates", "data": data}


# ---------------------------------------------------------------------- market data
def data_trade(trade: PublicTrade, feed: str, extended: bool) -> dict[str, Any]:
    return {"t": nanos(trade.time_ms), "x": "V" if feed == "iex" else "Q", "p": number(trade.price),
            "s": number(trade.quantity), "c": ["@", "T"] if extended else ["@"], "i": trade.trade_id, "z": "C"}


def data_quote(quote: Quote, feed: str) -> dict[str, Any]:
    exchange = "V" if feed == "iex" else "Q"
    return {"t": nanos(quote.time_ms), "ax": exchange, "ap": number(quote.ask), "as": quote.ask_lots,
            "bx": exchange, "bp": number(quote.bid), "bs": quote.bid_lots, "c": ["R"], "z": "C"}


def data_bar(bar: Bar) -> dict[str, Any]:
    vwap = bar.quote_volume / bar.volume if bar.volume else bar.close
    return {"t": seconds(bar.open_ms), "o": number(bar.open), "h": number(bar.high), "l": number(bar.low),
            "c": number(bar.close), "v": number(bar.volume), "n": bar.trades, "vw": float(round(vwap, 6))}
