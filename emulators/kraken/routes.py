"""Kraken's REST routes as data -- (method, path) -> handler, whether signed, what it costs on the call counter --
and each endpoint's parameters and permission; the handlers validate and refuse in Kraken's words (`errors`).

Public methods are GET ``/0/public/<Method>`` (query string), private ones POST ``/0/private/<Method>`` (form or
JSON body, with the nonce). A parameter an endpoint does not take, or a value this emulator does not model
(scheduled or expiring orders, stops, iceberg, conditional close, fee-currency preference, order batches), is
refused with ``EGeneral:Invalid arguments:<name> ...`` -- never ignored.
"""

from __future__ import annotations

import operator
import re
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs

from emulators.engine import Rejected, routing, wall_ms
from emulators.engine.candles import Interval, aggregate
from emulators.engine.earn import EarnReason, EarnRejected
from emulators.engine.errors import VenueError, refuse
from emulators.engine.params import decimal_param
from emulators.engine.routing import Auth, Params
from emulators.kraken import errors, render
from emulators.kraken.earn import Printer, allocation_item, strategy_item
from emulators.kraken.errors import invalid, param_words, unsupported
from emulators.kraken.limits import ADD_ORDER, AMEND_ORDER, CALL_COSTS, amend_penalty, cancel_penalty, clock
from emulators.kraken.orders import OrderInfo, OrderMeta, kraken_id
from emulators.kraken.pairs import KrakenAsset, KrakenPair

if TYPE_CHECKING:
    from emulators.kraken.dialect import KeyState, KrakenDialect  # noqa: F401

Call = routing.Call["KeyState"]
Route = routing.Route["KrakenDialect", "KeyState"]
D = Decimal
Json = dict[str, Any]

INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
PAGE = 50
CL_ORD_ID = re.compile(r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                       r"|[0-9a-fA-F]{32}|[\x20-\x7e]{1,18})$")
INTEGER = re.compile(r"^-?[0-9]+$")
ORDER_TYPES = ("market", "limit", "iceberg", "stop-loss", "take-profit", "stop-loss-limit", "take-profit-limit",
               "trailing-stop", "trailing-stop-limit", "settle-position")
FEE_TIERS = [(D(0), D("0.25"), D("0.40")), (D(10_000), D("0.20"), D("0.35")), (D(50_000), D("0.14"), D("0.24"))]


@attrs.frozen
class Endpoint:
    """What a method takes and the key permission it needs (None: public)."""

    params: frozenset[str]
    permission: str | None = None


def _endpoint(params: str, permission: str | None = None) -> Endpoint:
    return Endpoint(frozenset(params.split()), permission)


# ---------------------------------------------------------------------- parameters
def check_params(endpoint: Endpoint, params: Params) -> None:
    for name in params:
        if name not in endpoint.params:
            raise unsupported(name)


def text(p: Params, name: str, *, required: bool = False) -> str | None:
    raw = p.get(name)
    if raw is None or raw == "":
        if required:
            raise invalid(name)
        return None
    if isinstance(raw, bool | list | dict):
        raise invalid(name)
    return str(raw)


def flag(p: Params, name: str, default: bool = False, *, strict: bool = False) -> bool:
    """A boolean: JSON true/false, or its text ("true"/"false"; any case unless ``strict``, as Kraken
    validates some flags, e.g. ``fee_schedule``, strictly)."""
    raw = p.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    word = str(raw) if strict else str(raw).lower()
    if word not in ("true", "false"):
        raise invalid(name)
    return word == "true"


def integer(p: Params, name: str, *, low: int | None = None, high: int | None = None) -> int | None:
    raw = p.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not (isinstance(raw, int) or (isinstance(raw, str) and INTEGER.match(raw))):
        raise invalid(name)
    value = int(raw)
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid(name)
    return value


def names(p: Params, name: str) -> list[str]:
    """A comma-separated list (or a JSON/repeated-key list)."""
    raw = p.get(name)
    if raw is None or raw == "":
        return []
    items = raw if isinstance(raw, list) else str(raw).split(",")
    found = [str(item).strip() for item in items]
    if not all(found):
        raise invalid(name)
    return found


def decimal(p: Params, name: str, *, required: bool = True) -> Decimal | None:
    raw = p.get(name)
    if isinstance(raw, str) and (raw[:1] in ("+", "-", "#") or raw.endswith("%")):
        raise unsupported(name)  # relative prices
    return decimal_param(p, name, param_words, required=required)


def places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def pair_param(d: KrakenDialect, p: Params, name: str = "pair") -> KrakenPair:
    value = text(p, name, required=True)
    assert value is not None
    pair = d.markets.rest_pair(value)
    if pair is None or pair.key not in d.exchange.symbols:
        raise errors.error(errors.UNKNOWN_PAIR)
    return pair


def pairs_param(d: KrakenDialect, p: Params) -> list[KrakenPair]:
    """Every pair named (REST names or altnames), or all of them."""
    wanted = names(p, "pair")
    if not wanted:
        return list(d.markets.pairs.values())
    found = [d.markets.rest_pair(name) for name in wanted]
    if any(pair is None for pair in found):
        raise errors.error(errors.UNKNOWN_PAIR)
    return [pair for pair in found if pair is not None]


def asset_param(d: KrakenDialect, name: str, label: str) -> KrakenAsset:
    asset = d.markets.rest_asset(name)
    if asset is None:
        raise invalid(label)
    return asset


# ---------------------------------------------------------------------- public market data
def server_time(d: KrakenDialect, call: Call) -> Any:
    now = time.time()
    return {"unixtime": int(now), "rfc1123": datetime.fromtimestamp(now, UTC).strftime("%a, %d %b %y %H:%M:%S +0000")}


def system_status(d: KrakenDialect, call: Call) -> Any:
    return {"status": d.system_status, "timestamp": render.rfc3339_seconds(time.time())}


def traded_assets(d: KrakenDialect) -> list[KrakenAsset]:
    used = {a for pair in d.markets.pairs.values() for a in (pair.base, pair.quote)}
    return [asset for key, asset in d.markets.assets.items() if key in used]


def assets(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    if text(p, "aclass") not in (None, "currency"):
        raise unsupported("aclass")
    listed = traded_assets(d)
    holdings = {o.strategy.holding for o in d.offers.values()}
    result = {a.key: render.asset_info(a) for a in listed}
    for asset in listed:
        if asset.holding in holdings:
            result[asset.holding] = {**render.asset_info(asset), "altname": asset.holding, "collateral_value": 0.0}
    wanted = names(p, "asset")
    if not wanted:
        return result
    chosen: dict[str, Any] = {}
    for name in wanted:
        known = d.markets.rest_asset(name)
        key = known.key if known is not None and known.key in result else name if name in result else None
        if key is None:
            raise errors.error(errors.UNKNOWN_ASSET)
        chosen[key] = result[key]
    return chosen


def asset_pairs(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    info = text(p, "info") or "info"
    if info not in ("info", "leverage", "fees", "margin"):
        raise invalid("info")
    if text(p, "aclass_base") not in (None, "currency"):
        raise unsupported("aclass_base")
    # Asked by a websocket name ("BTC/USD"), a pair is keyed by that name (python-kraken-sdk's order book
    # client reads the decimals for its checksum this way).
    asked = names(p, "pair")
    chosen = pairs_param(d, p)
    keys = [name if "/" in name else pair.key for name, pair in zip(asked, chosen, strict=True)] if asked else \
        [pair.key for pair in chosen]
    return {key: render.pair_info(pair, info) for key, pair in zip(keys, chosen, strict=True)}


def ticker(d: KrakenDialect, call: Call) -> Any:
    now = wall_ms()
    return {pair.key: render.ticker(pair, d.exchange.symbols[pair.key], now) for pair in pairs_param(d, call.params)}


def ohlc(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    pair = pair_param(d, p)
    minutes = integer(p, "interval") or 1
    if minutes not in INTERVALS:
        raise invalid("interval")
    since = integer(p, "since")
    bars = aggregate(d.exchange.symbols[pair.key].candles, Interval(minutes))[-720:]
    shown = [bar for bar in bars[:-1] if since is None or bar.open_ms // 1000 > since] + bars[-1:]
    last = bars[-2].open_ms // 1000 if len(bars) > 1 else bars[-1].open_ms // 1000
    return {pair.key: [render.ohlc_row(pair, bar) for bar in shown], "last": last}


def depth(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    pair = pair_param(d, p)
    count = integer(p, "count", low=1, high=500) or 100
    state, stamp = d.exchange.symbols[pair.key], int(time.time())
    return {pair.key: {"asks": render.depth_side(pair, render.levels(state, "asks", count), stamp),
                       "bids": render.depth_side(pair, render.levels(state, "bids", count), stamp)}}


def trades(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    pair = pair_param(d, p)
    since = integer(p, "since", low=0)
    count = integer(p, "count", low=1, high=1000) or 1000
    state = d.exchange.symbols[pair.key]
    chosen = [t for t in state.trades if since is None or _trade_ns(t.time_ms, t.trade_id) > since][-count:]
    rows = [[render.public_price(pair, t.price), render.fixed(t.quantity, pair.lot_decimals), t.time_ms / 1000,
             "s" if t.buyer_is_maker else "b", "l", "", t.trade_id] for t in chosen]
    last = _trade_ns(chosen[-1].time_ms, chosen[-1].trade_id) if chosen else (since or 0)
    return {pair.key: rows, "last": str(last)}


def _trade_ns(time_ms: int, trade_id: int) -> int:
    """Kraken's ``last``/``since`` for trades: a nanosecond timestamp (kept unique by the trade id)."""
    return time_ms * 1_000_000 + trade_id % 1_000_000


def spread(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    pair = pair_param(d, p)
    since = integer(p, "since", low=0)
    points = [point for point in d.spreads.get(pair.key, ()) if since is None or point[0] > since]
    if not points:
        (bid, _), (ask, _) = render.top(d.exchange.symbols[pair.key])
        points = [(int(time.time()), bid, ask)]
    rows = [[at, render.public_price(pair, bid), render.public_price(pair, ask)] for at, bid, ask in points]
    return {pair.key: rows, "last": points[-1][0]}


# ---------------------------------------------------------------------- balances
def balance(d: KrakenDialect, call: Call) -> Any:
    wallets = d.exchange.balances[call.account.name]
    return {asset: render.fixed(free + locked, d.markets.decimals(asset)) for asset, (free, locked) in wallets.items()}


def balance_ex(d: KrakenDialect, call: Call) -> Any:
    name = call.account.name
    held_by_positions: dict[str, Decimal] = {}
    for position in d.exchange.positions_of(name):
        settle = d.exchange.symbols[position.symbol].spec.settle
        held_by_positions[settle] = held_by_positions.get(settle, D(0)) + position.margin
    result = {}
    for asset, (free, locked) in d.exchange.balances[name].items():
        places_ = d.markets.decimals(asset)
        result[asset] = {"balance": render.fixed(free + locked, places_),
                         "hold_trade": render.fixed(locked - held_by_positions.get(asset, D(0)), places_)}
    return result


def trade_balance(d: KrakenDialect, call: Call) -> Any:
    asset = asset_param(d, text(call.params, "asset") or "ZUSD", "asset")
    return render.trade_balance(d.trade_balance(call.account.name, asset.key), asset.decimals)


# ---------------------------------------------------------------------- orders: queries
def own_infos(d: KrakenDialect, call: Call) -> list[OrderInfo]:
    return [info for info in d.orders.infos.values() if info.order.account == call.account.name]


def client_filters(p: Params, infos: list[OrderInfo]) -> list[OrderInfo]:
    userref = integer(p, "userref")
    cl_ord_id = text(p, "cl_ord_id")
    if userref is not None and cl_ord_id is not None:
        raise invalid("cl_ord_id")
    if userref is not None:
        infos = [i for i in infos if i.meta.userref == userref]
    if cl_ord_id is not None:
        infos = [i for i in infos if i.order.client_order_id == cl_ord_id]
    return infos


def open_orders(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    with_trades = flag(p, "trades")
    infos = client_filters(p, [i for i in own_infos(d, call) if i.order.is_open])
    return {"open": {i.txid: render.order(d, i, trades=with_trades) for i in reversed(infos)}}


def _bound(d: KrakenDialect, p: Params, name: str, orders: bool) -> float | None:
    """``start``/``end``: a unix time, or an order (trade) id whose opening (trade) time is used."""
    raw = text(p, name)
    if raw is None:
        return None
    if INTEGER.match(raw):
        return float(raw)
    if orders and raw in d.orders.by_txid:
        return d.orders.by_txid[raw].opentm
    if not orders and raw in d.orders.fill_by_txid:
        return d.orders.fill_by_txid[raw].fill.time_ms / 1000
    raise invalid(name)


def _paged(name: str, rows: list[Any], p: Params, show: Any) -> Json:
    """Kraken's offset paging: 50 rows from ``ofs`` (most recent first) and, unless asked not to, the count."""
    offset = integer(p, "ofs", low=0) or 0
    page: Json = {name: dict(show(row) for row in rows[offset:offset + PAGE])}
    if not flag(p, "without_count"):
        page["count"] = len(rows)
    return page


def closed_orders(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    with_trades = flag(p, "trades")
    flag(p, "consolidate_taker", True)
    closetime = text(p, "closetime") or "both"
    if closetime not in ("open", "close", "both"):
        raise invalid("closetime")
    start, end = _bound(d, p, "start", True), _bound(d, p, "end", True)
    infos = client_filters(p, [i for i in own_infos(d, call) if not i.order.is_open])

    def when(info: OrderInfo) -> list[float]:
        close = info.closetm or info.opentm
        return {"open": [info.opentm], "close": [close], "both": [info.opentm, close]}[closetime]

    infos = [i for i in infos if any((start is None or t > start) and (end is None or t <= end) for t in when(i))]
    infos.sort(key=lambda i: (i.closetm or i.opentm, i.order.order_id), reverse=True)
    return _paged("closed", infos, p, lambda i: (i.txid, render.order(d, i, trades=with_trades)))


def query_orders(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    with_trades = flag(p, "trades")
    flag(p, "consolidate_taker", True)
    wanted = names(p, "txid")
    if not wanted or len(wanted) > 50:
        raise invalid("txid")
    found = []
    for txid in wanted:
        info = d.orders.by_txid.get(txid)
        if info is None or info.order.account != call.account.name:
            raise errors.error(errors.INVALID_ORDER)
        found.append(info)
    userref = integer(p, "userref")
    return {i.txid: render.order(d, i, trades=with_trades) for i in found
            if userref is None or i.meta.userref == userref}


def trades_history(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    kind = text(p, "type") or "all"
    if kind not in ("all", "any position", "closed position", "closing position", "no position"):
        raise invalid("type")
    with_trades = flag(p, "trades")
    flag(p, "consolidate_taker", True)
    if flag(p, "ledgers"):
        raise unsupported("ledgers")
    start, end = _bound(d, p, "start", False), _bound(d, p, "end", False)
    records = [r for r in d.orders.history if r.fill.account == call.account.name]
    records = [r for r in records if (start is None or r.fill.time_ms / 1000 > start)
               and (end is None or r.fill.time_ms / 1000 <= end)]
    match kind:
        case "any position":
            records = [r for r in records if r.info.meta.leverage]
        case "no position":
            records = [r for r in records if not r.info.meta.leverage]
        case "closing position":
            records = [r for r in records if r.closed]
        case "closed position":
            records = [r for r in records if r.opened and (lot := d.margin.lot(r.txid)) is not None
                       and not lot.open_vol]
    records.reverse()
    return _paged("trades", records, p, lambda r: (r.txid, render.trade(d, r, with_trades=with_trades)))


def query_trades(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    with_trades = flag(p, "trades")
    wanted = names(p, "txid")
    if not wanted or len(wanted) > 20:
        raise invalid("txid")
    result = {}
    for txid in wanted:
        record = d.orders.fill_by_txid.get(txid)
        if record is None or record.fill.account != call.account.name:
            raise invalid("txid")
        result[txid] = render.trade(d, record, with_trades=with_trades)
    return result


def open_positions(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    docalcs = flag(p, "docalcs")
    consolidation = text(p, "consolidation")
    if consolidation not in (None, "market"):
        raise invalid("consolidation")
    lots = d.margin.open_lots(call.account.name)
    wanted = names(p, "txid")
    if wanted:
        lots = [lot for lot in lots if lot.txid in wanted]
    if consolidation == "market":
        by_pair: dict[str, list[Any]] = {}
        for lot in lots:
            by_pair.setdefault(lot.pair.key, []).append(lot)
        return [render.consolidated(group, d.valuer.mark(group[0].pair), docalcs=docalcs) for group in by_pair.values()]
    return {lot.txid: render.position(lot, d.valuer.mark(lot.pair), docalcs=docalcs) for lot in lots}


def trade_volume(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    raw_pairs = p.get("pair")
    if isinstance(raw_pairs, list) and raw_pairs and isinstance(raw_pairs[0], dict):
        raise unsupported("pair")  # {"asset", "aclass"} objects: derivatives and equities fees
    schedule = flag(p, "fee_schedule", strict=True)
    chosen = pairs_param(d, p) if raw_pairs else []
    volume = sum((d.valuer.value(d.pair(f.symbol).quote, f.quote_quantity, "ZUSD") for f in d.exchange.fill_log
                  if f.account == call.account.name and f.time_ms >= wall_ms() - 30 * 86_400_000), D(0))
    result: Json = {"currency": "ZUSD", "volume": render.fixed(volume, 4)}
    if chosen:
        result["fees"] = {pair.key: _fee(d, pair, volume, maker=False) for pair in chosen}
        result["fees_maker"] = {pair.key: _fee(d, pair, volume, maker=True) for pair in chosen}
    if schedule and chosen:
        result["schedules"] = [{"pair": pair.key, "class": "currency", "tiers": [
            {"maker_fee": render.fixed(maker, 4), "taker_fee": render.fixed(taker, 4), "min_spot_volume":
             render.fixed(floor, 4), **({"active": True} if i == 0 else {})}
            for i, (floor, maker, taker) in enumerate(FEE_TIERS)]} for pair in chosen]
    return result


def _fee(d: KrakenDialect, pair: KrakenPair, volume: Decimal, *, maker: bool) -> Json:
    """The fee the engine charges (its first tier, whatever the volume), as a percentage."""
    spec = d.exchange.symbols[pair.key].spec
    rate = d.exchange.fee_rate(spec, is_maker=maker) * 100
    column = 1 if maker else 2
    return {"fee": render.fixed(rate, 4), "minfee": render.fixed(FEE_TIERS[-1][column], 4),
            "maxfee": render.fixed(FEE_TIERS[0][column], 4), "nextfee": render.fixed(FEE_TIERS[1][column], 4),
            "tiervolume": render.fixed(D(0), 4), "nextvolume": render.fixed(FEE_TIERS[1][0], 4)}


# ---------------------------------------------------------------------- orders: placing, amending, cancelling
@attrs.frozen
class OrderRequest:
    pair: KrakenPair
    side: str  # BUY | SELL
    kind: str  # MARKET | LIMIT | LIMIT_MAKER
    tif: str
    volume: Decimal
    price: Decimal | None
    cl_ord_id: str
    meta: OrderMeta
    reduce_only: bool
    quote_volume: Decimal | None
    description: str


def _refuse_unmodelled(p: Params) -> None:
    for name, allowed in (("starttm", ("0", "+0")), ("expiretm", ("0",))):
        value = text(p, name)
        if value is not None and value not in allowed:
            raise unsupported(name)
    for name in ("price2", "trigger", "displayvol", "close[ordertype]", "close[price]", "close[price2]",
                 "asset_class", "broker"):
        if text(p, name) is not None:
            raise unsupported(name)


def order_request(d: KrakenDialect, call: Call) -> OrderRequest:
    """AddOrder's parameters, checked as Kraken checks them, into one request for the engine."""
    p = call.params
    pair = pair_param(d, p)
    side = text(p, "type", required=True)
    if side not in ("buy", "sell"):
        raise invalid("type")
    ordertype = text(p, "ordertype", required=True)
    if ordertype not in ("market", "limit"):
        raise unsupported("ordertype") if ordertype in ORDER_TYPES else invalid("ordertype")
    _refuse_unmodelled(p)
    stptype = text(p, "stptype") or "cancel-newest"
    if stptype not in ("cancel-newest", "cancel-oldest", "cancel-both"):
        raise invalid("stptype")
    oflags = names(p, "oflags")
    for name in oflags:
        if name in ("fcib", "fciq"):
            raise unsupported(f"oflags {name}")
        if name not in ("post", "viqc", "nompp"):
            raise invalid("oflags")
    post = "post" in oflags
    viqc = "viqc" in oflags
    tif = text(p, "timeinforce") or "GTC"
    if tif == "GTD":
        raise unsupported("timeinforce")
    if tif not in ("GTC", "IOC", "FOK") or (post and tif != "GTC"):
        raise invalid("timeinforce")
    leverage_text = text(p, "leverage")
    leverage = None
    if leverage_text not in (None, "none"):
        allowed = pair.leverage_buy if side == "buy" else pair.leverage_sell
        try:
            leverage = int(Decimal(str(leverage_text)))
        except (InvalidOperation, ValueError):
            raise invalid("leverage") from None
        if leverage not in allowed or Decimal(str(leverage_text)) != leverage:
            raise invalid("leverage")
    reduce_only = flag(p, "reduce_only")
    if reduce_only and leverage is None:
        raise invalid("reduce_only")
    if (post and ordertype != "limit") or (viqc and (ordertype != "market" or side != "buy" or leverage is not None)):
        raise invalid("oflags")
    volume = decimal(p, "volume")
    assert volume is not None
    if places(volume) > pair.lot_decimals and not viqc:
        raise invalid("volume")
    if volume == 0 and leverage is None:
        raise invalid("volume")
    price = decimal(p, "price", required=ordertype == "limit") if ordertype == "limit" else None
    if ordertype == "market" and text(p, "price") is not None:
        raise invalid("price")
    if price is not None and places(price) > pair.pair_decimals:
        raise errors.error(f"EOrder:Invalid price:{pair.key} price can only be specified up to "
                           f"{pair.pair_decimals} decimals.")
    userref = integer(p, "userref", low=-(2**31), high=2**31 - 1)
    cl_ord_id = text(p, "cl_ord_id") or ""
    if cl_ord_id and (userref is not None or not CL_ORD_ID.match(cl_ord_id)):
        raise invalid("cl_ord_id")
    kind = "MARKET" if ordertype == "market" else "LIMIT_MAKER" if post else "LIMIT"
    flags = tuple(f for f in ("post", "viqc") if f in oflags)
    meta = OrderMeta(ordertype, leverage, userref, flags, tif)
    described = f"{side} {render.fixed(volume, pair.lot_decimals)} {pair.altname} @ " + \
        (f"limit {render.fixed(price, pair.pair_decimals)}" if price is not None else "market")
    if leverage:
        described += f" with {leverage}:1 leverage"
    engine_tif = "IOC" if ordertype == "market" and tif == "GTC" else tif  # a market order never rests
    return OrderRequest(pair, side.upper(), kind, engine_tif, volume, price, cl_ord_id, meta, reduce_only,
                        volume if viqc else None, described)


def _deadline(d: KrakenDialect, p: Params) -> None:
    """``deadline``: RFC3339, at most 60 s ahead; a request handled after it is refused and not executed (the
    moment it is handled: `KrakenDialect.handling_ms`, which counts a request's wait on its way)."""
    raw = text(p, "deadline")
    if raw is None:
        return
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid("deadline") from None
    if moment.tzinfo is None:
        raise invalid("deadline")
    now = d.handling_ms / 1000 if d.handling_ms else datetime.now(UTC).timestamp()
    if moment.timestamp() > now + 60:
        raise invalid("deadline")
    if moment.timestamp() <= now:
        raise errors.error(errors.DEADLINE_ELAPSED)


def _margin_checks(d: KrakenDialect, call: Call, request: OrderRequest) -> Decimal:
    """Margin rules before the engine: the order's leverage for the position, the margin level, the position
    limits; returns the volume (0 means "close the whole position")."""
    name, pair = call.account.name, request.pair
    position = d.exchange.position(name, pair.key)
    adds = position.size == 0 or (position.size > 0) == (request.side == "BUY")
    volume = request.volume
    if volume == 0:
        if position.size == 0 or adds:
            raise errors.error(errors.NO_POSITION)
        volume = abs(position.size)
    assert request.meta.leverage is not None
    flips = not adds and volume > abs(position.size) and not request.reduce_only
    if flips and int(position.leverage) != request.meta.leverage:  # the rest would open at another leverage
        raise invalid("leverage", "differs from the open position's")
    if adds and not request.reduce_only:
        if position.size and int(position.leverage) != request.meta.leverage:
            raise invalid("leverage", "differs from the open position's")
        level = d.trade_balance(name).ml
        if level is not None and level < pair.margin_call:
            raise errors.error(errors.MARGIN_LEVEL_TOO_LOW)
        limit = pair.long_position_limit if request.side == "BUY" else pair.short_position_limit
        if limit and abs(position.size) + volume > limit:
            raise errors.error(errors.POSITION_SIZE_EXCEEDED)
        if position.size == 0 and position.leverage != request.meta.leverage:
            d.exchange.set_leverage(name, pair.key, Decimal(request.meta.leverage))
    return volume


def _trading_open(d: KrakenDialect, request: OrderRequest) -> None:
    if d.system_status == "cancel_only":
        raise errors.error(errors.CANCEL_ONLY)
    if d.system_status == "post_only" and request.kind != "LIMIT_MAKER":
        raise errors.error(errors.POST_ONLY)


def add_order(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    pair_name = text(p, "pair")
    charged = d.markets.rest_pair(pair_name) if pair_name else None
    if charged is not None:  # the fixed count applies on receipt, even to an order refused afterwards
        d.charge_trading(call.account, charged.key, ADD_ORDER, refusable=True)
    request = order_request(d, call)
    _trading_open(d, request)
    validate = flag(p, "validate")
    _deadline(d, p)
    name = call.account.name
    if len(d.exchange.open_orders(name, request.pair.key)) >= call.account.state.limits.open_orders:
        raise errors.error(errors.ORDERS_LIMIT)
    try:
        volume = request.volume
        if request.meta.leverage is not None:
            volume = _margin_checks(d, call, request)
        if validate:
            spec = d.exchange.symbols[request.pair.key].spec
            if request.quote_volume is None:
                d.exchange.validate(spec, request.kind, volume, request.price)  # type: ignore[arg-type]
            return {"descr": {"order": request.description}}
        info = d.place(name, request.pair, request.side, request.kind, D(0) if request.quote_volume else volume,
                       request.price, request.tif, request.cl_ord_id, request.meta,
                       quote_quantity=request.quote_volume,
                       reduce_only=request.reduce_only or request.volume == 0)
    except Rejected as rejected:
        raise refuse(errors.ORDER_REJECTIONS, rejected) from None
    return {"descr": {"order": request.description}, "txid": [info.txid]}


def find_open(d: KrakenDialect, call: Call, *, txid: str | None, cl_ord_id: str | None) -> list[OrderInfo]:
    """Open orders named by txid (or, for an integer, userref) or cl_ord_id; EOrder:Unknown order if none."""
    if (txid is None) == (cl_ord_id is None):
        raise invalid("txid")
    mine = [i for i in own_infos(d, call) if i.order.is_open]
    if cl_ord_id is not None:
        found = [i for i in mine if i.order.client_order_id == cl_ord_id]
    elif txid is not None and INTEGER.match(txid):
        found = [i for i in mine if i.meta.userref == int(txid)]
    else:
        found = [i for i in mine if i.txid == txid]
    if not found:
        raise errors.error(errors.UNKNOWN_ORDER)
    return found


def _cancel(d: KrakenDialect, call: Call, infos: list[OrderInfo]) -> int:
    now = clock()
    for info in infos:
        d.charge_trading(call.account, info.pair.key, cancel_penalty(now - info.placed_at), refusable=False)
        d.cancel(info)
    return len(infos)


def cancel_order(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    if d.system_status == "maintenance":
        raise errors.error(errors.UNAVAILABLE)
    infos = find_open(d, call, txid=text(p, "txid"), cl_ord_id=text(p, "cl_ord_id"))
    return {"count": _cancel(d, call, infos)}


def cancel_all(d: KrakenDialect, call: Call) -> Any:
    return {"count": _cancel(d, call, [i for i in own_infos(d, call) if i.order.is_open])}


def cancel_all_after(d: KrakenDialect, call: Call) -> Any:
    timeout = integer(call.params, "timeout", low=0, high=86_400)
    if timeout is None:
        raise invalid("timeout")
    now = time.time()
    state = call.account.state
    state.switch = clock() + timeout if timeout else None
    return {"currentTime": render.rfc3339_seconds(now),
            "triggerTime": render.rfc3339_seconds(now + timeout) if timeout else "0"}


def amend_order(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    if d.system_status == "cancel_only":
        raise errors.error(errors.CANCEL_ONLY)
    for name in ("display_qty", "trigger_price"):
        if text(p, name) is not None:
            raise unsupported(name)
    info = find_open(d, call, txid=text(p, "txid"), cl_ord_id=text(p, "cl_ord_id"))[0]
    pair_name = text(p, "pair")
    if pair_name is not None and d.markets.rest_pair(pair_name) != info.pair:
        raise invalid("pair")
    quantity = decimal(p, "order_qty", required=False)
    price = decimal(p, "limit_price", required=False)
    post_only = flag(p, "post_only")
    if quantity is None and price is None:
        raise invalid("order_qty")
    if price is not None and places(price) > info.pair.pair_decimals:
        raise errors.error(f"EOrder:Invalid price:{info.pair.key} price can only be specified up to "
                           f"{info.pair.pair_decimals} decimals.")
    d.charge_trading(call.account, info.pair.key, AMEND_ORDER + amend_penalty(clock() - info.placed_at),
                     refusable=True)
    _deadline(d, p)
    try:
        d.exchange.amend(call.account.name, info.order.symbol, info.order.order_id, quantity=quantity, price=price,
                         post_only=post_only)
    except Rejected as rejected:
        if rejected.reason.value == "would_match":
            raise errors.error("EOrder:Post only order") from None
        raise refuse(errors.ORDER_REJECTIONS, rejected) from None
    info.amended, info.placed_at = True, clock()
    return {"amend_id": kraken_id("T", "amend", info.txid, len(info.trades), info.order.updated_ms)}


def websockets_token(d: KrakenDialect, call: Call) -> Any:
    token = d.tokens.issue(call.account.api_key, call.account.name, clock())
    return {"token": token.token, "expires": 900}


# ---------------------------------------------------------------------- Earn
def _strategy_id(p: Params) -> str:
    value = text(p, "strategy_id", required=True)
    assert value is not None
    return value


def _earn_error(rejected: EarnRejected) -> VenueError:
    return errors.error(errors.EARN_WORDS[rejected.reason.value])


def earn_strategies(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    asset_name = text(p, "asset")
    lock_types = names(p, "lock_type")
    if any(t not in ("flex", "bonded", "timed", "instant") for t in lock_types):
        raise invalid("lock_type")
    integer(p, "limit", low=1)
    if text(p, "cursor") not in (None, "False", "false", "0"):
        raise invalid("cursor")
    ascending = flag(p, "ascending")
    items = []
    for offer in d.offers.values():
        asset = d.markets.assets[offer.strategy.asset]
        if asset_name is not None and asset_name not in (asset.key, asset.altname):
            continue
        if lock_types and offer.strategy.lock_type not in lock_types:
            continue
        items.append(strategy_item(offer, asset))
    items.sort(key=lambda item: item["id"], reverse=not ascending)
    return {"items": items, "next_cursor": None}


def earn_move(d: KrakenDialect, call: Call, *, allocate: bool) -> Any:
    p = call.params
    strategy_id = _strategy_id(p)
    amount = decimal(p, "amount")
    assert amount is not None
    offer = d.offers.get(strategy_id)
    if offer is None:
        raise _earn_error(EarnRejected(EarnReason.UNKNOWN_STRATEGY))
    if d.valuer.value(offer.strategy.asset, amount, "ZUSD") < offer.min_usd:
        raise _earn_error(EarnRejected(EarnReason.BELOW_MINIMUM))
    try:
        if allocate:
            d.earn.allocate(call.account.name, strategy_id, amount)
        else:
            d.earn.deallocate(call.account.name, strategy_id, amount)
    except EarnRejected as rejected:
        raise _earn_error(rejected) from None
    return True


def earn_status(d: KrakenDialect, call: Call, *, kind: str) -> Any:
    try:
        operation = d.earn.status(call.account.name, _strategy_id(call.params), kind)  # type: ignore[arg-type]
    except EarnRejected as rejected:
        raise _earn_error(rejected) from None
    if operation is not None and operation.failure is not None:
        raise _earn_error(EarnRejected(operation.failure))
    return {"pending": operation is not None and not operation.done}


def earn_allocations(d: KrakenDialect, call: Call) -> Any:
    p = call.params
    ascending = flag(p, "ascending")
    hide_zero = flag(p, "hide_zero_allocations")
    converted = asset_param(d, text(p, "converted_asset") or "USD", "converted_asset")
    d.earn.advance()
    items, total_allocated, total_rewarded = [], D(0), D(0)
    for allocation in d.earn.allocations_of(call.account.name):
        if hide_zero and not allocation.total and allocation.pending is None:
            continue
        strategy = allocation.strategy
        asset = d.markets.assets[strategy.asset]
        rate = d.valuer.rate(strategy.asset, converted.key)
        printer = Printer(asset.decimals, partial(operator.mul, rate), d.wall)
        items.append(allocation_item(d.earn, allocation, asset, printer))
        total_allocated += allocation.total * rate
        total_rewarded += allocation.total_rewarded * rate
    items.sort(key=lambda item: item["strategy_id"], reverse=not ascending)
    return {"converted_asset": converted.altname, "total_allocated": render.fixed(total_allocated, 4),
            "total_rewarded": render.fixed(total_rewarded, 4), "next_cursor": None, "items": items}


# ---------------------------------------------------------------------- the table
def _public(handler: Any) -> Route:
    return Route(handler)


def _private(handler: Any, path: str) -> Route:
    return Route(handler, weight=CALL_COSTS.get(path, 1), auth=Auth.SIGNED)


PUBLIC = "/0/public/"
PRIVATE = "/0/private/"
ENDPOINTS: dict[str, Endpoint] = {
    PUBLIC + "Time": _endpoint(""),
    PUBLIC + "SystemStatus": _endpoint(""),
    PUBLIC + "Assets": _endpoint("asset aclass"),
    PUBLIC + "AssetPairs": _endpoint("pair info aclass_base"),
    PUBLIC + "Ticker": _endpoint("pair"),
    PUBLIC + "OHLC": _endpoint("pair interval since"),
    PUBLIC + "Depth": _endpoint("pair count"),
    PUBLIC + "Trades": _endpoint("pair since count"),
    PUBLIC + "Spread": _endpoint("pair since"),
    PRIVATE + "Balance": _endpoint("", "query_funds"),
    PRIVATE + "BalanceEx": _endpoint("", "query_funds"),
    PRIVATE + "TradeBalance": _endpoint("asset", "query_funds"),
    PRIVATE + "OpenOrders": _endpoint("trades userref cl_ord_id", "query_open"),
    PRIVATE + "ClosedOrders": _endpoint("trades userref cl_ord_id start end ofs closetime consolidate_taker "
                                        "without_count", "query_closed"),
    PRIVATE + "QueryOrders": _endpoint("trades userref txid consolidate_taker", "query_closed"),
    PRIVATE + "TradesHistory": _endpoint("type trades start end ofs consolidate_taker ledgers without_count",
                                         "query_closed"),
    PRIVATE + "QueryTrades": _endpoint("txid trades", "query_closed"),
    PRIVATE + "OpenPositions": _endpoint("txid docalcs consolidation", "query_open"),
    PRIVATE + "TradeVolume": _endpoint("pair fee_schedule", "query_funds"),
    PRIVATE + "AddOrder": _endpoint(
        "ordertype type volume pair price price2 trigger leverage reduce_only stptype oflags timeinforce starttm "
        "expiretm close[ordertype] close[price] close[price2] deadline validate userref cl_ord_id displayvol "
        "asset_class broker", "trade"),
    PRIVATE + "AmendOrder": _endpoint("txid cl_ord_id order_qty display_qty limit_price trigger_price pair "
                                      "post_only deadline", "trade"),
    PRIVATE + "CancelOrder": _endpoint("txid cl_ord_id", "cancel"),
    PRIVATE + "CancelAll": _endpoint("", "cancel"),
    PRIVATE + "CancelAllOrdersAfter": _endpoint("timeout", "trade"),
    PRIVATE + "GetWebSocketsToken": _endpoint("", "websocket"),
    PRIVATE + "Earn/Strategies": _endpoint("ascending asset cursor limit lock_type", None),
    PRIVATE + "Earn/Allocate": _endpoint("amount strategy_id", "earn"),
    PRIVATE + "Earn/Deallocate": _endpoint("amount strategy_id", "earn"),
    PRIVATE + "Earn/AllocateStatus": _endpoint("strategy_id", "earn"),
    PRIVATE + "Earn/DeallocateStatus": _endpoint("strategy_id", "earn"),
    PRIVATE + "Earn/Allocations": _endpoint("ascending converted_asset hide_zero_allocations", "query_funds"),
}

_HANDLERS: dict[str, Any] = {
    "Time": server_time, "SystemStatus": system_status, "Assets": assets, "AssetPairs": asset_pairs,
    "Ticker": ticker, "OHLC": ohlc, "Depth": depth, "Trades": trades, "Spread": spread,
    "Balance": balance, "BalanceEx": balance_ex, "TradeBalance": trade_balance, "OpenOrders": open_orders,
    "ClosedOrders": closed_orders, "QueryOrders": query_orders, "TradesHistory": trades_history,
    "QueryTrades": query_trades, "OpenPositions": open_positions, "TradeVolume": trade_volume,
    "AddOrder": add_order, "AmendOrder": amend_order, "CancelOrder": cancel_order, "CancelAll": cancel_all,
    "CancelAllOrdersAfter": cancel_all_after, "GetWebSocketsToken": websockets_token,
    "Earn/Strategies": earn_strategies,
    "Earn/Allocate": lambda d, call: earn_move(d, call, allocate=True),
    "Earn/Deallocate": lambda d, call: earn_move(d, call, allocate=False),
    "Earn/AllocateStatus": lambda d, call: earn_status(d, call, kind="allocate"),
    "Earn/DeallocateStatus": lambda d, call: earn_status(d, call, kind="deallocate"),
    "Earn/Allocations": earn_allocations,
}

ROUTES: dict[tuple[str, str], Route] = {
    ("GET", path) if path.startswith(PUBLIC) else ("POST", path):
        _public(_HANDLERS[path.removeprefix(PUBLIC)]) if path.startswith(PUBLIC)
        else _private(_HANDLERS[path.removeprefix(PRIVATE)], path)
    for path in ENDPOINTS
}

