"""Alpaca's routes as data: (method, path template) -> handler, for the trading API (``/v2/...``) and the market
data API (``/v2/stocks/...``), both served on one port (their paths do not overlap).

Templates name path parameters in braces (``/v2/orders/{order_id}``); literal paths win over templates
(``/v2/stocks/bars/latest`` is not the bars of a symbol called "bars"). `dialect.AlpacaDialect.handle_http`
answers a path in no template with 404, a known path with another method with 405, and authenticates and
counts every request before its handler runs. Handlers validate their parameters (refusing any they do not
serve) and return a body (HTTP 200) or a `Reply` with another status (204, 207).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any, cast

import attrs

from emulators.alpaca import account, errors, marketdata, orders, render
from emulators.alpaca.account import AccountState
from emulators.alpaca.assets import asset_of
from emulators.engine import routing
from emulators.engine.routing import Auth
from emulators.engine.sessions import NEW_YORK

if TYPE_CHECKING:
    from emulators.alpaca.dialect import AlpacaDialect

D = Decimal
Route = routing.Route["AlpacaDialect", AccountState]
ACTIVITY_TYPES = {"FILL", "TRANS", "MISC", "ACATC", "ACATS", "CFEE", "CSD", "CSW", "DIV", "DIVCGL", "DIVCGS",
                  "DIVFEE", "DIVFT", "DIVNRA", "DIVROC", "DIVTW", "DIVTXEX", "FEE", "INT", "INTNRA", "INTTW", "JNL",
                  "JNLC", "JNLS", "MA", "NC", "OPASN", "OPEXP", "OPXRC", "PTC", "PTR", "REORG", "SC", "SSO", "SSP"}


@attrs.frozen
class Call(routing.Call[AccountState]):
    """A request as a handler sees it: its parameters, the caller, and the path's parameters."""

    path_params: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Reply:
    """A body with a status other than 200 (``body`` None: no body, e.g. 204)."""

    status: int
    body: Any = None


# ---------------------------------------------------------------------- helpers
def allow(p: Mapping[str, Any], *names: str) -> None:
    for name in p:
        if name not in names:
            raise errors.unknown_parameter(name)


def boolean(p: Mapping[str, Any], name: str) -> bool:
    raw = p.get(name)
    if raw in (None, ""):
        return False
    if str(raw).lower() not in ("true", "false"):
        raise errors.invalid(f"invalid {name}")
    return str(raw).lower() == "true"


def timestamp(raw: Any, name: str) -> datetime:
    text = str(raw)
    try:
        parsed = datetime.fromisoformat(text) if len(text) != 10 else datetime.combine(
            date.fromisoformat(text), datetime.min.time(), NEW_YORK)
    except ValueError:
        raise errors.invalid(f"invalid {name}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def symbol_or_asset_id(d: AlpacaDialect, raw: str) -> str:
    try:
        wanted = str(uuid.UUID(raw))
    except ValueError:
        return raw
    return next((s for s in d.market.symbols if d.asset_id(s) == wanted), raw)


def find_order(d: AlpacaDialect, call: Call) -> orders.AOrder:
    found = d.orders.get(call.path_params["order_id"])
    if found is None or found.account != call.account.name:
        raise errors.order_not_found()
    return found


# ---------------------------------------------------------------------- account, assets, clock, calendar
def get_account(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params)
    return render.trade_account(d, call.account.name, call.account.state)


def list_assets(d: AlpacaDialect, call: Call) -> Any:
    p = call.params
    allow(p, "status", "asset_class", "exchange", "attributes")
    if p.get("status") not in (None, "", "active", "inactive"):
        raise errors.invalid("invalid status")
    if p.get("asset_class") not in (None, "", "us_equity", "us_option", "crypto", "crypto_perp"):
        raise errors.invalid("invalid asset_class")
    if p.get("status") == "inactive" or p.get("asset_class") not in (None, "", "us_equity"):
        return []  # every emulated asset is an active US equity
    wanted = {a for a in str(p.get("attributes") or "").split(",") if a}
    return [render.asset(d, s) for s in d.market.symbols
            if (not p.get("exchange") or asset_of(s).exchange == p["exchange"])
            and (not wanted or wanted & set(asset_of(s).attributes))]


def get_asset(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params)
    raw = call.path_params["symbol"]
    symbol = symbol_or_asset_id(d, raw)
    if symbol not in d.market.symbols:
        raise errors.asset_not_found(raw)
    return render.asset(d, symbol)


def get_clock(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params)
    return render.clock(d)


def get_calendar(d: AlpacaDialect, call: Call) -> Any:
    p = call.params
    allow(p, "start", "end", "date_type")
    calendar = d.market.clock.calendar
    dates = []
    for name, default in (("start", calendar.first), ("end", calendar.last)):
        try:
            dates.append(date.fromisoformat(str(p[name])) if p.get(name) else default)
        except ValueError:
            raise errors.invalid(f"invalid {name}") from None
    first, last = dates
    date_type = str(p.get("date_type") or "TRADING")
    if date_type not in ("TRADING", "SETTLEMENT"):
        raise errors.invalid("invalid date_type")
    if date_type == "SETTLEMENT":
        days = [day for day in calendar.days if first <= day.settlement <= last]
    else:
        days = calendar.between(first, last)
    return [render.calendar_day(day) for day in days]


# ---------------------------------------------------------------------- orders
def place_order(d: AlpacaDialect, call: Call) -> Any:
    name = call.account.name
    order, legs = orders.parse(d, name, call.params)
    if d.client_id_taken(name, order.client_order_id):
        raise errors.invalid("client_order_id must be unique")
    account.check(d, name, call.account.state, order)
    orders.submit(d, order, legs)
    return render.order(d, order, nested=True)


def list_orders(d: AlpacaDialect, call: Call) -> Any:
    p = call.params
    allow(p, "status", "limit", "after", "until", "direction", "nested", "side", "symbols")
    status = p.get("status") or "open"
    if status not in ("open", "closed", "all"):
        raise errors.invalid("invalid status")
    direction = p.get("direction") or "desc"
    if direction not in ("asc", "desc"):
        raise errors.invalid("invalid direction")
    if p.get("side") not in (None, "", "buy", "sell"):
        raise errors.invalid("invalid side")
    try:
        limit = min(int(str(p.get("limit") or 50)), 500)
    except ValueError:
        raise errors.invalid("invalid limit") from None
    if limit < 1:
        raise errors.invalid("invalid limit")
    nested = boolean(p, "nested")
    after = to_ms(timestamp(p["after"], "after")) if p.get("after") else None
    until = to_ms(timestamp(p["until"], "until")) if p.get("until") else None
    symbols = {s for s in str(p.get("symbols") or "").split(",") if s}
    found = [o for o in d.orders.values() if o.account == call.account.name
             and (status == "all" or o.is_open == (status == "open"))
             and (not p.get("side") or o.side == p["side"]) and (not symbols or o.symbol in symbols)
             and (after is None or o.submitted_ms > after) and (until is None or o.submitted_ms < until)]
    if nested:  # legs roll up under their parent, unless the parent itself is not listed
        listed = {o.id for o in found}
        found = [o for o in found if o.parent is None or o.parent not in listed]
    found.sort(key=lambda o: (o.submitted_ms, d.serial_of(o)), reverse=direction == "desc")
    return [render.order(d, o, nested=nested) for o in found[:limit]]


def cancel_all_orders(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params)
    canceled = cancel_everything(d, call.account.name)
    return Reply(207, [{"id": o.id, "status": 200, "body": render.order(d, o)} for o in canceled])


def cancel_everything(d: AlpacaDialect, name: str) -> list[orders.AOrder]:
    """Cancel every open order of the account (a parent takes its legs along); the orders canceled."""
    canceled = []
    for order in d.open_orders(name):
        if order.is_open:
            orders.cancel(d, order)
            canceled.append(order)
    return canceled


def order_by_client_id(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params, "client_order_id")
    client_id = call.params.get("client_order_id")
    if not client_id:
        raise errors.invalid("client_order_id is required")
    found = d.by_client.get((call.account.name, str(client_id)))
    if found is None:
        raise errors.order_not_found()
    return render.order(d, d.orders[found], nested=True)


def get_order(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params, "nested")
    return render.order(d, find_order(d, call), nested=boolean(call.params, "nested"))


def replace_order(d: AlpacaDialect, call: Call) -> Any:
    new = orders.replace(d, find_order(d, call), call.params)
    return render.order(d, new, nested=True)


def cancel_order(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params)
    order = find_order(d, call)
    if not order.is_open:
        raise errors.not_cancelable(order.status)
    orders.cancel(d, order)
    return Reply(204)


# ---------------------------------------------------------------------- positions
def list_positions(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params)
    return [render.position(d, p) for p in sorted(d.market.holdings(call.account.name), key=lambda p: p.symbol)]


def get_position(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params)
    symbol = symbol_or_asset_id(d, call.path_params["symbol"])
    if symbol not in d.market.symbols:
        raise errors.position_not_found()
    held = d.market.stock_position(call.account.name, symbol)
    if not held.size:
        raise errors.position_not_found()
    return render.position(d, held)


def close(d: AlpacaDialect, call: Call, symbol: str, qty: D | None, percentage: D | None) -> orders.AOrder:
    """A market DAY order for the position (or ``qty`` of it, or ``percentage`` of it), opposite its side."""
    held = d.market.stock_position(call.account.name, symbol)
    if symbol not in d.market.symbols or not held.size:
        raise errors.position_not_found()
    size = abs(held.size)
    if percentage is not None:
        if percentage > 100:
            raise errors.invalid("percentage must be between 0 and 100")
        qty = size * percentage / 100
        qty = qty.quantize(D(1) if size == size.to_integral_value() else orders.NINE_PLACES, rounding=ROUND_DOWN)
        if qty == 0:
            raise errors.rule("qty must be > 0")
    quantity = qty if qty is not None else size
    if quantity > size:
        raise errors.insufficient_qty(symbol, quantity, size, D(0))
    body = {"symbol": symbol, "qty": str(quantity), "side": "sell" if held.size > 0 else "buy", "type": "market",
            "time_in_force": "day"}
    order, legs = orders.parse(d, call.account.name, body)
    account.check(d, call.account.name, call.account.state, order)
    return orders.submit(d, order, legs)


def close_position(d: AlpacaDialect, call: Call) -> Any:
    p = call.params
    allow(p, "qty", "percentage")
    qty, percentage = orders.number(p, "qty"), orders.number(p, "percentage")
    if qty is not None and percentage is not None:
        raise errors.invalid("only one of qty or percentage may be given")
    symbol = symbol_or_asset_id(d, call.path_params["symbol"])
    return render.order(d, close(d, call, symbol, qty, percentage))


def close_all_positions(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params, "cancel_orders")
    if boolean(call.params, "cancel_orders"):
        cancel_everything(d, call.account.name)
    answers = []
    for held in sorted(d.market.holdings(call.account.name), key=lambda p: p.symbol):
        try:
            order = close(d, call, held.symbol, None, None)
            answers.append({"symbol": held.symbol, "status": 200, "body": render.order(d, order)})
        except errors.AlpacaError as refused:
            answers.append({"symbol": held.symbol, "status": refused.status, "body": refused.body()})
    return Reply(207, answers)


# ---------------------------------------------------------------------- activities
def fills_of(d: AlpacaDialect, name: str) -> list[tuple[Any, D, D]]:
    """The account's fills with the order's cumulative and remaining quantity after each."""
    cumulative: dict[str, D] = {}
    out = []
    for fill in d.market.fill_log:
        if fill.account != name:
            continue
        cum = cumulative.get(fill.client_order_id, D(0)) + fill.quantity
        cumulative[fill.client_order_id] = cum
        order = d.orders.get(fill.client_order_id)
        total = order.engine.quantity if order is not None and order.engine is not None else cum
        out.append((fill, cum, max(total - cum, D(0))))
    return out


def activities(d: AlpacaDialect, call: Call, types: set[str]) -> Any:
    p = call.params
    direction = p.get("direction") or "desc"
    if direction not in ("asc", "desc"):
        raise errors.invalid("invalid direction")
    day = None
    if p.get("date"):
        try:
            day = date.fromisoformat(str(p["date"]))
        except ValueError:
            raise errors.invalid("invalid date") from None
    after = to_ms(timestamp(p["after"], "after")) if p.get("after") else None
    until = to_ms(timestamp(p["until"], "until")) if p.get("until") else None
    try:
        size = int(str(p.get("page_size") or 100))
    except ValueError:
        raise errors.invalid("invalid page_size") from None
    if not 1 <= size <= (10_000 if day is not None else 100):
        raise errors.invalid("invalid page_size")
    if day is not None and not p.get("page_size"):
        size = 10_000
    rows = []
    if "FILL" in types:
        for fill, cum, leaves in fills_of(d, call.account.name):
            local = datetime.fromtimestamp(fill.time_ms / 1000, UTC).astimezone(NEW_YORK).date()
            if (day is None or local == day) and (after is None or fill.time_ms > after) \
                    and (until is None or fill.time_ms < until):
                rows.append(render.fill_activity(d, fill, cum, leaves))
    rows.sort(key=lambda row: row["id"], reverse=direction == "desc")
    token = str(p.get("page_token") or "")
    if token:
        rows = [row for row in rows if (row["id"] < token if direction == "desc" else row["id"] > token)]
    return rows[:size]


def activities_of_type(d: AlpacaDialect, call: Call) -> Any:
    allow(call.params, "date", "until", "after", "direction", "page_size", "page_token")
    kind = call.path_params["activity_type"]
    if kind not in ACTIVITY_TYPES:
        raise errors.invalid(f"invalid activity type: {kind}")
    return activities(d, call, {kind})


def all_activities(d: AlpacaDialect, call: Call) -> Any:
    p = call.params
    allow(p, "activity_types", "category", "date", "until", "after", "direction", "page_size", "page_token")
    kinds = {k for k in str(p.get("activity_types") or "").split(",") if k} or set(ACTIVITY_TYPES)
    unknown = sorted(kinds - ACTIVITY_TYPES)
    if unknown:
        raise errors.invalid(f"invalid activity type: {unknown[0]}")
    category = p.get("category")
    if category not in (None, "", "trade_activity", "non_trade_activity"):
        raise errors.invalid("invalid category")
    if category == "non_trade_activity":
        kinds.discard("FILL")
    elif category == "trade_activity":
        kinds &= {"FILL"}
    return activities(d, call, kinds)


# ---------------------------------------------------------------------- the table
def _route(handler: Callable[[AlpacaDialect, Call], Any]) -> Route:
    return Route(lambda d, c: handler(d, cast(Call, c)), auth=Auth.API_KEY)


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/v2/account"): _route(get_account),
    ("GET", "/v2/assets"): _route(list_assets),
    ("GET", "/v2/assets/{symbol}"): _route(get_asset),
    ("POST", "/v2/orders"): _route(place_order),
    ("GET", "/v2/orders"): _route(list_orders),
    ("DELETE", "/v2/orders"): _route(cancel_all_orders),
    ("GET", "/v2/orders:by_client_order_id"): _route(order_by_client_id),
    ("GET", "/v2/orders/{order_id}"): _route(get_order),
    ("PATCH", "/v2/orders/{order_id}"): _route(replace_order),
    ("DELETE", "/v2/orders/{order_id}"): _route(cancel_order),
    ("GET", "/v2/positions"): _route(list_positions),
    ("DELETE", "/v2/positions"): _route(close_all_positions),
    ("GET", "/v2/positions/{symbol}"): _route(get_position),
    ("DELETE", "/v2/positions/{symbol}"): _route(close_position),
    ("GET", "/v2/account/activities"): _route(all_activities),
    ("GET", "/v2/account/activities/{activity_type}"): _route(activities_of_type),
    ("GET", "/v2/clock"): _route(get_clock),
    ("GET", "/v2/calendar"): _route(get_calendar),
    # market data (the data host)
    ("GET", "/v2/stocks/bars"): _route(marketdata.multi("bars")),
    ("GET", "/v2/stocks/trades"): _route(marketdata.multi("trades")),
    ("GET", "/v2/stocks/quotes"): _route(marketdata.multi("quotes")),
    ("GET", "/v2/stocks/bars/latest"): _route(marketdata.latest("bars", many=True)),
    ("GET", "/v2/stocks/trades/latest"): _route(marketdata.latest("trades", many=True)),
    ("GET", "/v2/stocks/quotes/latest"): _route(marketdata.latest("quotes", many=True)),
    ("GET", "/v2/stocks/snapshots"): _route(marketdata.snapshots),
    ("GET", "/v2/stocks/{symbol}/bars"): _route(marketdata.single("bars")),
    ("GET", "/v2/stocks/{symbol}/trades"): _route(marketdata.single("trades")),
    ("GET", "/v2/stocks/{symbol}/quotes"): _route(marketdata.single("quotes")),
    ("GET", "/v2/stocks/{symbol}/bars/latest"): _route(marketdata.latest("bars", many=False)),
    ("GET", "/v2/stocks/{symbol}/trades/latest"): _route(marketdata.latest("trades", many=False)),
    ("GET", "/v2/stocks/{symbol}/quotes/latest"): _route(marketdata.latest("quotes", many=False)),
    ("GET", "/v2/stocks/{symbol}/snapshot"): _route(marketdata.snapshot),
}


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | str | None:
    """The route for ``path`` and its path parameters; "method" when the path is served with other methods;
    None when no template matches."""
    segments = path.split("/")
    found_path = False
    for literal_pass in (True, False):
        for (verb, template), route in ROUTES.items():
            parts = template.split("/")
            if ("{" not in template) != literal_pass or len(parts) != len(segments):
                continue
            params: dict[str, str] = {}
            for part, segment in zip(parts, segments, strict=True):
                if part.startswith("{"):
                    if not segment:
                        break
                    params[part[1:-1]] = segment
                elif part != segment:
                    break
            else:
                if verb == method:
                    return route, params
                found_path = True
    return "method" if found_path else None


def is_data(path: str) -> bool:
    return path.startswith("/v2/stocks/")
