"""OKX's V5 routes as data: (method, path) -> handler, whether it is signed, answered per item, bounded by
``expTime``; its limit (requests per 2 s and what they are counted per); and the handlers.

`dialect.OkxDialect.handle_http` answers a path not in `ROUTES` with a 404, a known path with the wrong
method with 50115, and authenticates and counts before the handler runs. Handlers validate every parameter:
a parameter a route does not know, or one it knows but this emulator does not model (TP/SL, options prices,
margin currencies, ...) given a value, is refused with 51000 "Parameter {name} error"; a required one
missing with 50014. Order endpoints answer per item (`render.item`), in contracts for swaps.
"""

from __future__ import annotations

import bisect
import random
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from emulators.engine import EOrder, Rejected, RejectReason, SymbolState, wall_ms
from emulators.engine.candles import Bar, Interval, aggregate
from emulators.engine.errors import VenueError, refuse
from emulators.engine.model import CANDLE_MS, Candle, OrderKind, Side, Tif
from emulators.engine.params import ParamFault, limit_param
from emulators.engine.routing import Auth, Call
from emulators.okx import errors, render
from emulators.okx.contracts import contract_of

if TYPE_CHECKING:
    from emulators.okx.dialect import OkxAccount, OkxDialect  # noqa: F401 (OkxAccount: in a string annotation)

T = TypeVar("T")
D = Decimal
Json = dict[str, Any]
OkxCall = Call["OkxAccount"]
Handler = Callable[["OkxDialect", OkxCall], Any]

INST_TYPES = {"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS"}  # valid; only SPOT and SWAP are listed
ID_CHARS = re.compile(r"^[A-Za-z0-9]{1,32}$")
TAG_CHARS = re.compile(r"^[A-Za-z0-9]{1,16}$")
HK = 8 * 3_600_000  # non-"utc" bars of 6 hours and more open at Hong Kong midnight (UTC+8)
# OKX's bar names: (interval, shift of its opening from UTC) -- also the candle{bar} channels.
BARS: dict[str, tuple[Interval, int]] = {
    "1m": (Interval(1), 0), "3m": (Interval(3), 0), "5m": (Interval(5), 0), "15m": (Interval(15), 0),
    "30m": (Interval(30), 0), "1H": (Interval(60), 0), "2H": (Interval(120), 0), "4H": (Interval(240), 0),
    "6H": (Interval(360), HK), "12H": (Interval(720), HK), "1D": (Interval(1440), HK), "2D": (Interval(2880), HK),
    "3D": (Interval(4320), HK), "5D": (Interval(7200), HK), "1W": (Interval(10080), HK),
    "1M": (Interval(months=1), HK), "3M": (Interval(months=3), HK),
    "6Hutc": (Interval(360), 0), "12Hutc": (Interval(720), 0), "1Dutc": (Interval(1440), 0),
    "2Dutc": (Interval(2880), 0), "3Dutc": (Interval(4320), 0), "5Dutc": (Interval(7200), 0),
    "1Wutc": (Interval(10080), 0), "1Mutc": (Interval(months=1), 0), "3Mutc": (Interval(months=3), 0),
}


@attrs.frozen
class OkxRoute:
    handler: Handler
    auth: Auth = Auth.NONE
    items: bool = False  # answered per item (sCode/sMsg), code "0"/"1"/"2"
    batch: bool = False  # the body is a list of orders
    timed: bool = False  # bounded by the expTime header
    counts_order: bool = False  # counted against the sub-account order limit


# ---------------------------------------------------------------------- parameters, OKX's way
def words(fault: ParamFault, name: str) -> VenueError:
    return errors.empty(name) if fault is ParamFault.MISSING else errors.parameter(name)


def known(p: Any, accepted: Iterable[str], unmodelled: Iterable[str] = ()) -> None:
    """Refuse parameters the route does not take, and modelled-not parameters given a value."""
    allowed = set(accepted)
    for name, value in p.items():
        if name not in allowed and name not in unmodelled:
            raise errors.parameter(name)
        if name in unmodelled and value not in ("", None, [], "0", False, "false"):
            raise errors.parameter(name)


def text(p: Any, name: str, *, required: bool = False) -> str:
    value = p.get(name)
    if value is None or value == "":
        if required:
            raise errors.empty(name)
        return ""
    if not isinstance(value, str):
        raise errors.parameter(name)
    return value


def decimal(p: Any, name: str, *, required: bool = False) -> Decimal | None:
    raw = text(p, name, required=required)
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise errors.parameter(name) from None
    if not value.is_finite() or value <= 0:
        raise errors.parameter(name)
    return value


def whole(p: Any, name: str) -> int | None:
    raw = p.get(name)
    if raw in (None, ""):
        return None
    if not str(raw).isdecimal():
        raise errors.parameter(name)
    return int(str(raw))


def flag(p: Any, name: str) -> bool:
    value = p.get(name)
    if value in (None, "", False, "false"):
        return False
    if value in (True, "true"):
        return True
    raise errors.parameter(name)


def state_of(d: OkxDialect, inst_id: str) -> SymbolState:
    state = d.exchange.symbols.get(inst_id)
    if state is None:
        raise errors.instrument_missing()
    return state


def inst_type(p: Any, *, required: bool, allowed: set[str] = INST_TYPES) -> str:
    value = text(p, "instType", required=required)
    if value and value not in allowed:
        raise errors.parameter("instType")
    return value


def family_of(p: Any) -> str:
    return text(p, "instFamily") or text(p, "uly")


def listed(d: OkxDialect, kind: str, family: str = "", inst_id: str = "") -> list[SymbolState]:
    """The instruments of ``kind`` (SPOT/SWAP; others list none), narrowed by family and instId."""
    found = [s for s in d.exchange.symbols.values() if render.inst_type(s.spec) == kind]
    if family:
        found = [s for s in found if render.family(s.spec) == family]
    if inst_id:
        found = [s for s in found if s.spec.symbol == inst_id]
    return found


def page(rows: list[T], key: Callable[[T], int], p: Any, *, default: int, maximum: int) -> list[T]:
    """OKX's paging of newest-first lists: ``after`` gives rows older than it, ``before`` newer ones (the page
    right after it), both the rows between."""
    limit = limit_param(p, words, default=default, maximum=maximum)
    after, before = whole(p, "after"), whole(p, "before")
    rows = sorted(rows, key=key, reverse=True)
    if after is not None:
        rows = [r for r in rows if key(r) < after]
    if before is not None:
        rows = [r for r in rows if key(r) > before]
        if after is None:
            return rows[-limit:]
    return rows[:limit]


# ---------------------------------------------------------------------- public data
def server_time(d: OkxDialect, call: OkxCall) -> Any:
    known(call.params, ())
    return [{"ts": str(wall_ms())}]


def instruments(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instType", "instFamily", "uly", "instId"))
    kind = inst_type(p, required=True)
    inst_id = text(p, "instId")
    if inst_id and inst_id in d.exchange.symbols and render.inst_type(d.exchange.symbols[inst_id].spec) != kind:
        raise errors.wrong_type()
    return [render.instrument(s.spec, 10_000 + d.symbol_index(s.spec.symbol))
            for s in listed(d, kind, family_of(p), inst_id)]


def tickers(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instType", "instFamily", "uly"))
    return [render.ticker(s) for s in listed(d, inst_type(p, required=True), family_of(p))]


def ticker(d: OkxDialect, call: OkxCall) -> Any:
    known(call.params, ("instId",))
    return [render.ticker(state_of(d, text(call.params, "instId", required=True)))]


def index_tickers(d: OkxDialect, call: OkxCall) -> Any:
    from emulators.okx import ws

    p = call.params
    known(p, ("quoteCcy", "instId"))
    quote, inst_id = text(p, "quoteCcy"), text(p, "instId")
    if not quote and not inst_id:
        raise errors.either("quoteCcy", "instId")
    names = sorted({d.index_name(s) for s in d.exchange.symbols.values()} - {""})
    names = [n for n in names if (not inst_id or n == inst_id) and (not quote or n.endswith(f"-{quote}"))]
    return [ws.index_ticker(d, name) for name in names]


def books(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instId", "sz"))
    state = state_of(d, text(p, "instId", required=True))
    depth = limit_param(p, words, default=1, maximum=400, name="sz")
    bids, asks = render.book_side(state, depth)
    return [{"asks": asks, "bids": bids, "ts": str(wall_ms()), "seqId": d.book_seq[state.spec.symbol]}]


def bars_of(candles: list[Candle], interval: Interval, shift: int) -> list[Bar]:
    """The bars of ``interval`` the one-minute ``candles`` make, opening ``shift`` ms before UTC boundaries."""
    if not shift:
        return aggregate(candles, interval)
    bars = aggregate([attrs.evolve(c, open_ms=c.open_ms + shift) for c in candles], interval)
    for bar in bars:
        bar.open_ms, bar.close_ms = bar.open_ms - shift, bar.close_ms - shift
    return bars


def candle_rows(d: OkxDialect, call: OkxCall, *, history: bool) -> Any:
    p = call.params
    known(p, ("instId", "bar", "after", "before", "limit"))
    state = state_of(d, text(p, "instId", required=True))
    bar_name = text(p, "bar") or "1m"
    if bar_name not in BARS:
        raise errors.parameter("bar")
    interval, shift = BARS[bar_name]
    limit = limit_param(p, words, default=100, maximum=300)
    after = whole(p, "after")
    reach = (after or wall_ms()) - (limit + 2) * interval.span_minutes * CANDLE_MS
    minutes = d.minute_candles(state, reach) if history else state.candles
    if history:  # only the minutes the page can draw on (whole bars around it)
        start = bisect.bisect_left(minutes, reach - interval.span_minutes * CANDLE_MS, key=lambda c: c.open_ms)
        stop = len(minutes) if after is None else bisect.bisect_left(
            minutes, after + interval.span_minutes * CANDLE_MS, key=lambda c: c.open_ms)
        minutes = minutes[start:stop]
    bars = bars_of(minutes, interval, shift)
    if not history:
        bars = bars[-1440:]
    now = wall_ms()
    chosen = page(bars, lambda b: b.open_ms, p, default=100, maximum=300)
    return [render.candle(state.spec, bar, confirmed=bar.close_ms < now) for bar in chosen]


def candles(d: OkxDialect, call: OkxCall) -> Any:
    return candle_rows(d, call, history=False)


def history_candles(d: OkxDialect, call: OkxCall) -> Any:
    return candle_rows(d, call, history=True)


def deep_history(seed: int, state: SymbolState, first: Candle, count: int) -> list[Candle]:
    """``count`` one-minute candles before ``first``, oldest first: a seeded walk backward from its open, so
    history-candles pages back up to 31 days (the engine keeps 1,000 minutes). Computed in floats and rounded
    to the tick (the walk is made up anyway), for speed."""
    spec = state.spec
    rng = random.Random(f"{seed}:{spec.symbol}:deep")
    tick, volatility = float(spec.tick_size), float(spec.volatility)
    out: list[Candle] = []
    close_ticks = int(first.open / spec.tick_size)
    for n in range(1, count + 1):
        close = close_ticks * tick
        open_ticks = max(1, round(close / (1 + rng.gauss(0, 1) * volatility) / tick))
        wiggle = abs(rng.gauss(0, 1)) * volatility
        high_ticks = round(max(open_ticks, close_ticks) * (1 + wiggle))
        low_ticks = max(1, round(min(open_ticks, close_ticks) * (1 - wiggle)))
        volume = spec.level_size * rng.randint(5, 50)
        close_price = close_ticks * spec.tick_size
        out.append(Candle(first.open_ms - n * CANDLE_MS, open_ticks * spec.tick_size, high_ticks * spec.tick_size,
                          low_ticks * spec.tick_size, close_price, volume, spec.value(volume, close_price),
                          rng.randint(20, 200)))
        close_ticks = open_ticks
    out.reverse()
    return out


def trades(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instId", "limit"))
    state = state_of(d, text(p, "instId", required=True))
    limit = limit_param(p, words, default=100, maximum=500)
    return [render.public_trade(state.spec, t) for t in reversed(state.trades[-limit:])]


def history_trades(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instId", "type", "after", "before", "limit"))
    state = state_of(d, text(p, "instId", required=True))
    kind = text(p, "type") or "1"
    if kind not in ("1", "2"):
        raise errors.parameter("type")
    if kind == "2" and p.get("before") not in (None, ""):
        raise errors.error(50039, 'Parameter "before" isn\'t supported for timestamp pagination')
    key: Callable[[Any], int] = (lambda t: 100_000_000 + t.trade_id) if kind == "1" else (lambda t: t.time_ms)
    return [render.public_trade(state.spec, t) for t in page(state.trades, key, p, default=100, maximum=100)]


def swap_state(d: OkxDialect, inst_id: str) -> SymbolState:
    state = state_of(d, inst_id)
    if not state.spec.is_derivative:
        raise errors.parameter("instId")
    return state


def funding_rate(d: OkxDialect, call: OkxCall) -> Any:
    known(call.params, ("instId",))
    inst_id = text(call.params, "instId", required=True)
    if inst_id == "ANY":
        return [d.funding_row(s) for s in listed(d, "SWAP")]
    return [d.funding_row(swap_state(d, inst_id))]


def funding_rate_history(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instId", "after", "before", "limit"))
    state = swap_state(d, text(p, "instId", required=True))
    rows = page(d.funding.history(state.spec.symbol), lambda s: s.funding_time, p, default=400, maximum=400)
    return [{"formulaType": "withRate", "fundingRate": render.num(s.rate), "fundingTime": str(s.funding_time),
             "instId": state.spec.symbol, "instType": "SWAP", "method": "current_period",
             "realizedRate": render.num(s.rate)} for s in rows]


def mark_price(d: OkxDialect, call: OkxCall) -> Any:
    from emulators.okx import ws

    p = call.params
    known(p, ("instType", "instFamily", "uly", "instId"))
    kind = inst_type(p, required=True, allowed={"MARGIN", "SWAP", "FUTURES", "OPTION"})
    return [ws.mark_price(d, s) for s in listed(d, kind, family_of(p), text(p, "instId"))]


def open_interest(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instType", "instFamily", "uly", "instId"))
    kind = inst_type(p, required=True, allowed={"SWAP", "FUTURES", "OPTION"})
    return [d.open_interest_row(s) for s in listed(d, kind, family_of(p), text(p, "instId"))]


# ---------------------------------------------------------------------- the trading account
def balance(d: OkxDialect, call: OkxCall) -> Any:
    known(call.params, ("ccy",))
    coins = [c for c in text(call.params, "ccy").split(",") if c] or None
    return [render.balance(d, call.account.name, coins)]


def positions(d: OkxDialect, call: OkxCall) -> Any:
    p, name = call.params, call.account.name
    known(p, ("instType", "instId", "posId"))
    kind = inst_type(p, required=False, allowed={"MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS"})
    wanted = [i for i in text(p, "instId").split(",") if i]
    ids = [i for i in text(p, "posId").split(",") if i]
    rows = []
    for position in d.exchange.positions_of(name):
        spec = d.exchange.symbols[position.symbol].spec
        if kind and render.inst_type(spec) != kind:
            continue
        if wanted and position.symbol not in wanted:
            continue
        if ids and d.pos_id(name, position.symbol) not in ids:
            continue
        # A flat position is listed only when asked for by instId and it has traded (it has a posId then).
        if not position.size and not ((wanted or ids) and position.created_ms):
            continue
        rows.append(render.position(d, name, position))
    if kind and wanted:
        for inst in wanted:
            if inst in d.exchange.symbols and render.inst_type(d.exchange.symbols[inst].spec) != kind:
                raise errors.wrong_type()
    return sorted(rows, key=lambda r: int(r["cTime"]), reverse=True)


def account_config(d: OkxDialect, call: OkxCall) -> Any:
    known(call.params, ())
    account = call.account
    state = account.state
    return [{"acctLv": state.acct_lv, "acctStpMode": "cancel_maker", "autoLoan": False, "ctIsoMode": "automatic",
             "enableSpotBorrow": False, "feeType": "0", "greeksType": "PA", "ip": "", "type": "0",
             "kycLv": "2", "label": state.label, "level": "Lv1", "levelTmp": "", "liquidationGear": "-1",
             "mainUid": str(account.uid), "mgnIsoMode": "automatic", "opAuth": "0", "perm": "read_only,trade",
             "posMode": state.pos_mode, "roleType": "0", "settleCcy": "USDT", "settleCcyList": ["USDT"],
             "spotBorrowAutoRepay": False, "spotOffsetType": "", "spotRoleType": "0", "spotTraderInsts": [],
             "stgyType": "0", "traderInsts": [], "uid": str(account.uid)}]


def set_position_mode(d: OkxDialect, call: OkxCall) -> Any:
    known(call.params, ("posMode",))
    mode = text(call.params, "posMode", required=True)
    if mode != "net_mode":  # long/short mode is not modelled
        raise errors.parameter("posMode")
    return [{"posMode": mode}]


def margin_mode_param(p: Any, name: str = "mgnMode") -> str:
    mode = text(p, name, required=True)
    if mode not in ("cross", "isolated"):
        raise errors.parameter(name)
    return mode


def lever_of(d: OkxDialect, call: OkxCall, symbol: str, mode: str) -> Decimal:
    """The leverage of (instrument, margin mode): the position's while it is held in that mode, else the one
    set for the mode (the engine's default until one is)."""
    settings = call.account.state
    if settings.mgn_modes.get(symbol) == mode:
        return d.exchange.position(call.account.name, symbol).leverage
    default = min(d.exchange.default_leverage, d.exchange.symbols[symbol].spec.max_leverage)
    return settings.levers.get((symbol, mode), default)


def leverage_info(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instId", "mgnMode"), unmodelled=("ccy",))
    mode = margin_mode_param(p)
    ids = [i for i in text(p, "instId", required=True).split(",") if i]
    rows = []
    for inst in ids:
        state = swap_state(d, inst)
        rows.append({"instId": inst, "mgnMode": mode, "posSide": "net",
                     "lever": render.num(lever_of(d, call, state.spec.symbol, mode))})
    return rows


def set_leverage(d: OkxDialect, call: OkxCall) -> Any:
    """Per instrument and margin mode. The engine holds one leverage per position: the mode the position is
    held in (or the next order's) uses it; the other mode's setting is kept until used."""
    p, account = call.params, call.account
    known(p, ("instId", "lever", "mgnMode", "posSide"), unmodelled=("ccy",))
    mode = margin_mode_param(p)
    if text(p, "posSide") not in ("", "net"):
        raise errors.parameter("posSide")
    state = swap_state(d, text(p, "instId", required=True))
    symbol = state.spec.symbol
    lever = decimal(p, "lever", required=True)
    assert lever is not None
    if lever < 1:
        raise errors.parameter("lever")
    if lever > state.spec.max_leverage:
        raise refuse(errors.LEVERAGE_REJECTIONS, Rejected(RejectReason.LEVERAGE_INVALID))
    settings = account.state
    held_mode = settings.mgn_modes.get(symbol)
    if held_mode in (None, mode):
        if d.exchange.open_orders(account.name, symbol):  # the engine does not re-margin open orders
            raise errors.error(59107 if mode == "cross" else 59101,
                               "Leverage can't be modified. Please cancel all pending cross-margin orders before "
                               "adjusting the leverage." if mode == "cross" else "Leverage can't be modified. "
                               "Please cancel all pending isolated margin orders before adjusting the leverage.")
        try:
            d.exchange.set_leverage(account.name, symbol, lever)
        except Rejected as rejected:
            if rejected.reason is not RejectReason.LEVERAGE_NOT_MODIFIED:
                raise refuse(errors.LEVERAGE_REJECTIONS, rejected) from None
    settings.levers[(symbol, mode)] = lever
    return [{"lever": render.num(lever), "mgnMode": mode, "instId": symbol, "posSide": "net"}]


def trade_fee(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instType", "instId", "instFamily", "uly"))
    kind = inst_type(p, required=True)
    found = listed(d, kind, family_of(p), text(p, "instId"))
    spec = found[0].spec if found else None
    maker = d.exchange.fee_rate(spec, is_maker=True) if spec else Decimal("0.0008")
    taker = d.exchange.fee_rate(spec, is_maker=False) if spec else Decimal("0.001")
    linear = kind == "SWAP" and (spec is None or spec.kind == "linear")
    return [{"category": "1", "delivery": "", "exercise": "", "fiat": [], "instType": kind, "level": "Lv1",
             "maker": "" if linear else render.num(-maker), "makerU": render.num(-maker) if linear else "",
             "makerUSDC": "", "ruleType": "normal", "taker": "" if linear else render.num(-taker),
             "takerU": render.num(-taker) if linear else "", "takerUSDC": "", "ts": str(wall_ms())}]


# ---------------------------------------------------------------------- orders
PLACE_PARAMS = ("instId", "tdMode", "clOrdId", "tag", "side", "posSide", "ordType", "sz", "px", "reduceOnly",
                "tgtCcy", "banAmend", "stpMode", "pxAmendType", "tradeQuoteCcy", "isElpTakerAccess", "instIdCode")
PLACE_UNMODELLED = ("ccy", "pxUsd", "pxVol", "attachAlgoOrds", "speedBump", "outcome", "slippagePct")
ORD_TYPES: dict[str, tuple[OrderKind, Tif]] = {
    "market": ("MARKET", "IOC"), "limit": ("LIMIT", "GTC"), "post_only": ("LIMIT_MAKER", "GTC"),
    "fok": ("LIMIT", "FOK"), "ioc": ("LIMIT", "IOC"), "optimal_limit_ioc": ("MARKET", "IOC"),
}


def failed(error: VenueError, p: Any, *, extra: Json | None = None) -> Json:
    return {"clOrdId": str(p.get("clOrdId") or ""), "ordId": str(p.get("ordId") or ""),
            "tag": str(p.get("tag") or ""), "ts": str(wall_ms()), "sCode": str(error.code), "sMsg": error.message,
            "subCode": str(getattr(error, "sub_code", "")), **(extra or {})}


class ItemError(VenueError):
    """An order's refusal with OKX's sub-code (51008's 1000 balance / 1001 margin)."""

    def __init__(self, error: VenueError, sub_code: str) -> None:
        super().__init__(error.status, error.code, error.message)
        self.sub_code = sub_code


def engine_refusal(spec_kind: str, rejected: Rejected, detail: str) -> VenueError:
    table = errors.SWAP_REJECTIONS if spec_kind == "SWAP" else errors.SPOT_REJECTIONS
    error = refuse(table, Rejected(rejected.reason, detail))
    return ItemError(error, errors.SUB_CODES.get((str(error.code), spec_kind), ""))


def place_one(d: OkxDialect, call: OkxCall, p: Json) -> Json:
    try:
        order = place(d, call, p)
    except VenueError as error:
        return failed(error, p)
    return render.item(order, d, tag=str(p.get("tag") or ""), msg="Order placed")


def place(d: OkxDialect, call: OkxCall, p: Json) -> EOrder:
    known(p, PLACE_PARAMS, PLACE_UNMODELLED)
    account, settings = call.account, call.account.state
    state = state_of(d, text(p, "instId", required=True))
    spec = state.spec
    kind = render.inst_type(spec)
    swap = spec.is_derivative
    if swap and settings.acct_lv == "1":
        raise errors.account_mode()
    td_mode = text(p, "tdMode", required=True)
    if td_mode not in (("cross", "isolated") if swap else ("cash",)):
        raise errors.parameter("tdMode")  # spot margin (cross/isolated on SPOT) is not modelled
    side = text(p, "side", required=True)
    if side not in ("buy", "sell"):
        raise errors.parameter("side")
    ord_type = text(p, "ordType", required=True)
    if ord_type not in ORD_TYPES or (ord_type == "optimal_limit_ioc" and not swap):
        raise errors.parameter("ordType")
    if text(p, "posSide") not in ("", "net"):
        raise errors.parameter("posSide")  # net mode only
    cl_ord_id, tag = text(p, "clOrdId"), text(p, "tag")
    if cl_ord_id and not ID_CHARS.match(cl_ord_id):
        raise errors.parameter("clOrdId")
    if tag and not TAG_CHARS.match(tag):
        raise errors.parameter("tag")
    stp = text(p, "stpMode")
    if stp not in ("", "cancel_maker", "cancel_taker", "cancel_both"):
        raise errors.parameter("stpMode")
    if stp == "cancel_both" and ord_type == "fok":
        raise errors.error(50016, "Parameter stpMode does not match parameter ordType", 400)
    if text(p, "pxAmendType") not in ("", "0", "1"):
        raise errors.parameter("pxAmendType")
    if text(p, "tradeQuoteCcy") not in ("", "" if swap else spec.quote):
        raise errors.parameter("tradeQuoteCcy")
    if p.get("instIdCode") not in (None, "", 10_000 + d.symbol_index(spec.symbol)):
        raise errors.parameter("instIdCode")
    flag(p, "isElpTakerAccess")
    flag(p, "banAmend")
    reduce_only = flag(p, "reduceOnly")
    if reduce_only and not swap:
        raise errors.error(51139, "Reduce-only feature is unavailable for the spot transactions by spot mode.")
    sz = decimal(p, "sz", required=True)
    assert sz is not None
    order_kind, tif = ORD_TYPES[ord_type]
    price = decimal(p, "px", required=True) if order_kind != "MARKET" else None
    tgt = text(p, "tgtCcy")
    if tgt and swap:
        raise errors.error(59110, "The instrument corresponding to this instId does not support the tgtCcy "
                                  "parameter.")
    if tgt not in ("", "base_ccy", "quote_ccy"):
        raise errors.parameter("tgtCcy")
    by_quote = not swap and order_kind == "MARKET" and (tgt or ("quote_ccy" if side == "buy" else "base_ccy")) == \
        "quote_ccy"
    if by_quote and side == "sell":
        raise errors.parameter("tgtCcy")  # selling until a quote amount is received is not modelled
    contract = contract_of(spec)
    quantity = D(0)
    if not by_quote:
        if not contract.whole_lots(sz):
            raise errors.error(51121, "Order quantity must be a multiple of the lot size.")
        if order_kind == "MARKET" and swap and sz > contract.max_market:
            raise errors.error(51202, "Market order amount exceeds the maximum amount.")
        quantity = contract.to_engine(sz)
    if swap:
        check_margin_mode(d, call, spec.symbol, td_mode)
        if reduce_only:
            check_reduce_only(d, call, spec.symbol, side, quantity)
    engine_side: Side = "BUY" if side == "buy" else "SELL"
    try:
        order = d.exchange.place(account.name, spec.symbol, engine_side, order_kind, quantity, price, tif, cl_ord_id,
                                 sz if by_quote else None, reduce_only=reduce_only, exact_quote=by_quote,
                                 reject_post_only=False)
    except Rejected as rejected:
        detail = {RejectReason.INSUFFICIENT_BALANCE: spec.settle if swap else
                  (spec.quote if side == "buy" else spec.base),
                  RejectReason.QTY_ABOVE_MAX: render.num(contract.max_limit)}.get(rejected.reason, rejected.detail)
        raise engine_refusal(kind, rejected, detail) from None
    meta = d.order_meta(order)
    meta.update(ordType=ord_type, tdMode=td_mode, tag=tag, stpMode=stp or "cancel_maker")
    return order


def check_margin_mode(d: OkxDialect, call: OkxCall, symbol: str, td_mode: str) -> None:
    """One margin mode per instrument while it holds a position or open orders (the engine keeps one position
    per instrument); a flat instrument takes the order's mode and the leverage set for that mode."""
    settings, name = call.account.state, call.account.name
    position = d.exchange.position(name, symbol)
    held = settings.mgn_modes.get(symbol)
    if held is not None and not position.size and not d.exchange.open_orders(name, symbol):
        held = None
    if held is not None and held != td_mode:
        raise errors.parameter("tdMode")
    if held is None:
        position.leverage = lever_of(d, call, symbol, td_mode)  # flat: no margin to move
        settings.mgn_modes[symbol] = td_mode


def check_reduce_only(d: OkxDialect, call: OkxCall, symbol: str, side: str, quantity: Decimal) -> None:
    """OKX refuses a reduce-only order that cannot reduce, and one larger than the position (it never trims)."""
    held = d.exchange.position(call.account.name, symbol).size
    if not held:
        raise errors.error(51169, "Order failed because you don't have any positions in this direction for this "
                                  "contract to reduce or close.")
    if (held > 0) == (side == "buy"):
        raise errors.error(51170, "Failed to place order. A reduce-only order can't be the same trading direction "
                                  "as your existing positions.")
    if quantity > abs(held):
        raise errors.error(51112, "Close order size exceeds available size for this position.")


def place_order(d: OkxDialect, call: OkxCall) -> Any:
    return [place_one(d, call, dict(call.params))]


def batch(params: Any, code: int, message: str) -> list[Json]:
    if not params:
        raise errors.empty_body()
    if len(params) > 20:
        raise errors.error(code, message, 400 if code != 51111 else 200)
    return list(params)


def place_orders(d: OkxDialect, call: OkxCall) -> Any:
    orders = batch(call.params, 51111, "Maximum 20 orders can be placed in bulk.")
    return [place_one(d, call, p) for p in orders]


def find(d: OkxDialect, call: OkxCall, p: Json) -> tuple[SymbolState, EOrder | None]:
    """The order ``ordId`` (or the latest with ``clOrdId``) of the caller on ``instId``."""
    state = state_of(d, text(p, "instId", required=True))
    ord_id, cl_ord_id = text(p, "ordId"), text(p, "clOrdId")
    if not ord_id and not cl_ord_id:
        raise errors.error(51003, "Either client order ID or order ID is required.")
    if ord_id:
        order = d.order_by_id(ord_id)
        found = order if order is not None and order.account == call.account.name and \
            order.symbol == state.spec.symbol else None
        return state, found
    for order in reversed(d.exchange.orders.values()):
        if order.account == call.account.name and order.symbol == state.spec.symbol and \
                order.client_order_id == cl_ord_id:
            return state, order
    return state, None


def cancel_one(d: OkxDialect, call: OkxCall, p: Json) -> Json:
    try:
        known(p, ("instId", "ordId", "clOrdId", "instIdCode"))
        _state, order = find(d, call, p)
        if order is None or not order.is_open:
            raise errors.error(51400, "Order cancellation failed as the order has been filled, canceled or does "
                                      "not exist.")
        d.exchange.cancel(call.account.name, order.symbol, order_id=order.order_id)
    except VenueError as error:
        result = failed(error, p)
        result.pop("tag")
        result.pop("subCode")
        return result
    return {"clOrdId": order.client_order_id, "ordId": d.ord_id(order), "ts": str(wall_ms()), "sCode": "0",
            "sMsg": ""}


def cancel_order(d: OkxDialect, call: OkxCall) -> Any:
    return [cancel_one(d, call, dict(call.params))]


def cancel_orders(d: OkxDialect, call: OkxCall) -> Any:
    orders = batch(call.params, 51406, "Canceled - order count exceeds the limit 20.")
    return [cancel_one(d, call, p) for p in orders]


AMEND_PARAMS = ("instId", "cxlOnFail", "ordId", "clOrdId", "reqId", "newSz", "newPx", "instIdCode")
AMEND_UNMODELLED = ("newTpTriggerPx", "newTpOrdPx", "newSlTriggerPx", "newSlOrdPx", "newTpTriggerPxType",
                    "newSlTriggerPxType", "newTriggerPx", "newOrdPx", "attachAlgoOrds", "newPxUsd", "newPxVol",
                    "pxAmendType", "newTpTriggerRatio", "newSlTriggerRatio")


def amend_one(d: OkxDialect, call: OkxCall, p: Json) -> Json:
    req_id = str(p.get("reqId") or "")
    order: EOrder | None = None
    try:
        known(p, AMEND_PARAMS, AMEND_UNMODELLED)
        if req_id and not ID_CHARS.match(req_id):
            raise errors.parameter("reqId")
        cancel_on_fail = flag(p, "cxlOnFail")
        state, order = find(d, call, p)
        if order is None:
            raise errors.order_missing()
        if not order.is_open:
            raise errors.error(51503, "Your order has already been filled or canceled.")
        new_sz, new_px = decimal(p, "newSz"), decimal(p, "newPx")
        if new_sz is None and new_px is None:
            raise errors.error(51500, "You must enter a price, quantity, or TP/SL")
        spec = state.spec
        contract = contract_of(spec)
        if new_sz is not None and not contract.whole_lots(new_sz):
            raise errors.error(51121, "Order quantity must be a multiple of the lot size.")
        quantity = contract.to_engine(new_sz) if new_sz is not None else None
        meta = d.order_meta(order)
        if quantity is not None and quantity <= order.filled:  # OKX refuses (Kraken's amend would end the order)
            if cancel_on_fail:
                d.exchange.cancel(call.account.name, order.symbol, order_id=order.order_id)
            raise errors.parameter("newSz")
        try:
            d.exchange.amend(call.account.name, order.symbol, order.order_id, quantity=quantity, price=new_px)
        except Rejected as rejected:
            if cancel_on_fail and order.is_open:
                d.exchange.cancel(call.account.name, order.symbol, order_id=order.order_id)
            detail = spec.settle if spec.is_derivative else (spec.quote if order.side == "BUY" else spec.base)
            raise engine_refusal(render.inst_type(spec), rejected, detail) from None
        meta.update(reqId=req_id, amendResult="0")
    except VenueError as error:
        result = failed(error, p, extra={"reqId": req_id})
        result.pop("tag")
        if order is not None:
            result["ordId"], result["clOrdId"] = d.ord_id(order), order.client_order_id
        return result
    return {"clOrdId": order.client_order_id, "ordId": d.ord_id(order), "ts": str(wall_ms()), "reqId": req_id,
            "sCode": "0", "sMsg": "", "subCode": ""}


def amend_order(d: OkxDialect, call: OkxCall) -> Any:
    return [amend_one(d, call, dict(call.params))]


def amend_orders(d: OkxDialect, call: OkxCall) -> Any:
    orders = batch(call.params, 51501, "Maximum 20 orders can be modified.")
    return [amend_one(d, call, p) for p in orders]


def close_position(d: OkxDialect, call: OkxCall) -> Any:
    """A market order closing the whole net position (``autoCxl``: cancel the instrument's orders first)."""
    p = call.params
    known(p, ("instId", "mgnMode", "posSide", "autoCxl", "clOrdId", "tag"), unmodelled=("ccy",))
    state = swap_state(d, text(p, "instId", required=True))
    mode = margin_mode_param(p)
    if text(p, "posSide") not in ("", "net"):
        raise errors.parameter("posSide")
    cl_ord_id, tag = text(p, "clOrdId"), text(p, "tag")
    if cl_ord_id and not ID_CHARS.match(cl_ord_id):
        raise errors.parameter("clOrdId")
    name, symbol = call.account.name, state.spec.symbol
    position = d.exchange.position(name, symbol)
    if not position.size or d.margin_mode(name, symbol) != mode:
        raise errors.error(51023, "Position doesn't exist.")
    open_orders = d.exchange.open_orders(name, symbol)
    if open_orders and not flag(p, "autoCxl"):
        raise errors.error(51162, f"You have {symbol} open orders. Cancel these orders and try again")
    for order in open_orders:
        d.exchange.cancel(name, symbol, order_id=order.order_id)
    side: Side = "SELL" if position.size > 0 else "BUY"
    order = d.exchange.place(name, symbol, side, "MARKET", abs(position.size), None, "IOC", cl_ord_id,
                             reduce_only=True)
    d.order_meta(order).update(ordType="market", tdMode=mode, tag=tag)
    return [{"clOrdId": cl_ord_id, "instId": symbol, "posSide": "net", "tag": tag}]


def get_order(d: OkxDialect, call: OkxCall) -> Any:
    known(call.params, ("instId", "ordId", "clOrdId", "instIdCode"))
    _state, order = find(d, call, dict(call.params))
    if order is None:
        raise errors.order_missing()
    return [render.order(d, order)]


def select(d: OkxDialect, call: OkxCall, p: Any, *, open_only: bool) -> list[EOrder]:
    kind = inst_type(p, required=not open_only)
    family, inst_id, ord_type = family_of(p), text(p, "instId"), text(p, "ordType")
    chosen = []
    for order in d.exchange.orders.values():
        spec = d.exchange.symbols[order.symbol].spec
        if order.account != call.account.name or order.is_open != open_only:
            continue
        if (kind and render.inst_type(spec) != kind) or (family and render.family(spec) != family) or \
                (inst_id and order.symbol != inst_id):
            continue
        if ord_type and d.order_meta(order).get("ordType", render.ORD_TYPES.get(order.kind, "limit")) not in \
                ord_type.split(","):
            continue
        chosen.append(order)
    return chosen


def orders_pending(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instType", "instFamily", "uly", "instId", "ordType", "state", "after", "before", "limit"))
    state = text(p, "state")
    if state not in ("", "live", "partially_filled"):
        raise errors.parameter("state")
    orders = [o for o in select(d, call, p, open_only=True) if not state or render.state_of(o) == state]
    return [render.order(d, o) for o in page(orders, lambda o: int(d.ord_id(o)), p, default=100, maximum=100)]


def orders_history(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instType", "instFamily", "uly", "instId", "ordType", "state", "category", "after", "before",
              "begin", "end", "limit"))
    state = text(p, "state")
    if state not in ("", "filled", "canceled", "mmp_canceled"):
        raise errors.parameter("state")
    if text(p, "category") not in ("", "normal"):
        return []
    begin, end = whole(p, "begin"), whole(p, "end")
    orders = [o for o in select(d, call, p, open_only=False) if (not state or render.state_of(o) == state)
              and (begin is None or o.created_ms >= begin) and (end is None or o.created_ms <= end)]
    return [render.order(d, o) for o in page(orders, lambda o: int(d.ord_id(o)), p, default=100, maximum=100)]


def fills(d: OkxDialect, call: OkxCall) -> Any:
    p = call.params
    known(p, ("instType", "instFamily", "uly", "instId", "ordId", "subType", "after", "before", "begin", "end",
              "limit"))
    kind = inst_type(p, required=False)
    family, inst_id, ord_id = family_of(p), text(p, "instId"), text(p, "ordId")
    sub_type = text(p, "subType")
    begin, end = whole(p, "begin"), whole(p, "end")
    chosen = []
    for index, f in enumerate(d.exchange.fill_log):
        spec = d.exchange.symbols[f.symbol].spec
        if f.account != call.account.name:
            continue
        if (kind and render.inst_type(spec) != kind) or (family and render.family(spec) != family) or \
                (inst_id and f.symbol != inst_id) or (ord_id and d.ord_id(d.order_of(f)) != ord_id):
            continue
        if (sub_type and sub_type != ("1" if f.side == "BUY" else "2")) or (begin is not None and f.time_ms < begin) \
                or (end is not None and f.time_ms > end):
            continue
        chosen.append(index)
    rows = page(chosen, lambda i: d.bill_id(i), p, default=100, maximum=100)
    return [render.fill(d, d.exchange.fill_log[i], i) for i in rows]


def fills_history(d: OkxDialect, call: OkxCall) -> Any:
    inst_type(call.params, required=True)
    return fills(d, call)


def archive(d: OkxDialect, call: OkxCall) -> Any:
    return orders_history(d, call)


# ---------------------------------------------------------------------- the table
def _public(handler: Handler) -> OkxRoute:
    return OkxRoute(handler)


def _private(handler: Handler) -> OkxRoute:
    return OkxRoute(handler, Auth.SIGNED)


def _entry(handler: Handler, *, batch: bool = False, timed: bool = True, counts: bool = True) -> OkxRoute:
    return OkxRoute(handler, Auth.SIGNED, items=True, batch=batch, timed=timed, counts_order=counts)


API = "/api/v5"
ROUTES: dict[tuple[str, str], OkxRoute] = {
    ("GET", f"{API}/public/time"): _public(server_time),
    ("GET", f"{API}/public/instruments"): _public(instruments),
    ("GET", f"{API}/market/tickers"): _public(tickers),
    ("GET", f"{API}/market/ticker"): _public(ticker),
    ("GET", f"{API}/market/index-tickers"): _public(index_tickers),
    ("GET", f"{API}/market/books"): _public(books),
    ("GET", f"{API}/market/candles"): _public(candles),
    ("GET", f"{API}/market/history-candles"): _public(history_candles),
    ("GET", f"{API}/market/trades"): _public(trades),
    ("GET", f"{API}/market/history-trades"): _public(history_trades),
    ("GET", f"{API}/public/funding-rate"): _public(funding_rate),
    ("GET", f"{API}/public/funding-rate-history"): _public(funding_rate_history),
    ("GET", f"{API}/public/mark-price"): _public(mark_price),
    ("GET", f"{API}/public/open-interest"): _public(open_interest),
    ("GET", f"{API}/account/balance"): _private(balance),
    ("GET", f"{API}/account/positions"): _private(positions),
    ("GET", f"{API}/account/config"): _private(account_config),
    ("POST", f"{API}/account/set-position-mode"): _private(set_position_mode),
    ("GET", f"{API}/account/leverage-info"): _private(leverage_info),
    ("POST", f"{API}/account/set-leverage"): _private(set_leverage),
    ("GET", f"{API}/account/trade-fee"): _private(trade_fee),
    ("POST", f"{API}/trade/order"): _entry(place_order),
    ("POST", f"{API}/trade/batch-orders"): _entry(place_orders, batch=True),
    ("POST", f"{API}/trade/cancel-order"): _entry(cancel_order, timed=False, counts=False),
    ("POST", f"{API}/trade/cancel-batch-orders"): _entry(cancel_orders, batch=True, timed=False, counts=False),
    ("POST", f"{API}/trade/amend-order"): _entry(amend_order),
    ("POST", f"{API}/trade/amend-batch-orders"): _entry(amend_orders, batch=True),
    ("POST", f"{API}/trade/close-position"): _private(close_position),
    ("GET", f"{API}/trade/order"): _private(get_order),
    ("GET", f"{API}/trade/orders-pending"): _private(orders_pending),
    ("GET", f"{API}/trade/orders-history"): _private(orders_history),
    ("GET", f"{API}/trade/orders-history-archive"): _private(archive),
    ("GET", f"{API}/trade/fills"): _private(fills),
    ("GET", f"{API}/trade/fills-history"): _private(fills_history),
}
# OKX's published limits: requests per 2 s, counted per IP, per IP and instrument type/ID, per UID, or per UID and
# instrument (order entry and lookups; batches count each order).
LIMITS: dict[tuple[str, str], tuple[int, str]] = {
    ("GET", f"{API}/public/time"): (10, "ip"), ("GET", f"{API}/public/instruments"): (20, "ip+instType"),
    ("GET", f"{API}/market/tickers"): (20, "ip"), ("GET", f"{API}/market/ticker"): (20, "ip"),
    ("GET", f"{API}/market/index-tickers"): (20, "ip"), ("GET", f"{API}/market/books"): (40, "ip"),
    ("GET", f"{API}/market/candles"): (40, "ip"), ("GET", f"{API}/market/history-candles"): (20, "ip"),
    ("GET", f"{API}/market/trades"): (100, "ip"), ("GET", f"{API}/market/history-trades"): (20, "ip"),
    ("GET", f"{API}/public/funding-rate"): (10, "ip+instId"),
    ("GET", f"{API}/public/funding-rate-history"): (10, "ip+instId"),
    ("GET", f"{API}/public/mark-price"): (10, "ip"), ("GET", f"{API}/public/open-interest"): (20, "ip"),
    ("GET", f"{API}/account/balance"): (10, "uid"), ("GET", f"{API}/account/positions"): (10, "uid"),
    ("GET", f"{API}/account/config"): (5, "uid"), ("POST", f"{API}/account/set-position-mode"): (5, "uid"),
    ("GET", f"{API}/account/leverage-info"): (20, "uid"), ("POST", f"{API}/account/set-leverage"): (20, "uid"),
    ("GET", f"{API}/account/trade-fee"): (5, "uid"),
    ("POST", f"{API}/trade/order"): (60, "uid+instId"), ("POST", f"{API}/trade/batch-orders"): (300, "uid+instId"),
    ("POST", f"{API}/trade/cancel-order"): (60, "uid+instId"),
    ("POST", f"{API}/trade/cancel-batch-orders"): (300, "uid+instId"),
    ("POST", f"{API}/trade/amend-order"): (60, "uid+instId"),
    ("POST", f"{API}/trade/amend-batch-orders"): (300, "uid+instId"),
    ("POST", f"{API}/trade/close-position"): (20, "uid"),
    ("GET", f"{API}/trade/order"): (60, "uid+instId"), ("GET", f"{API}/trade/orders-pending"): (60, "uid"),
    ("GET", f"{API}/trade/orders-history"): (40, "uid"), ("GET", f"{API}/trade/orders-history-archive"): (20, "uid"),
    ("GET", f"{API}/trade/fills"): (60, "uid"), ("GET", f"{API}/trade/fills-history"): (10, "uid"),
}
