"""OKX V5 <-> protocol, both directions, in one place: symbols, contract sizes, enums, orders, fills,
positions, balances and market data. Nothing here keeps state.

Symbols: ``BTC/USDT`` is spot ``BTC-USDT``; ``BTC/USDT:USDT`` the USDT-margined perpetual
``BTC-USDT-SWAP``; ``BTC/USD:BTC`` the coin-margined perpetual ``BTC-USD-SWAP``; a dated future gets
ccxt's expiry suffix, ``BTC/USDT:USDT-250328`` for ``BTC-USDT-250328``. OKX's ids follow from the symbol,
but the client still resolves them through the loaded instruments (a symbol OKX does not list is refused).

Sizes: our API speaks one unit per instrument, the unit OKX values a contract in (``ctValCcy``): the base
coin for spot and linear contracts, USD for coin-margined (inverse) contracts, whose face value is in
USD ("ctVal = 100 USD"); a base-coin size of an inverse contract depends on the price and could not
convert exactly. OKX sizes SWAP/FUTURES orders in contracts: ``quantity = contracts x ctVal x ctMult``.
`contracts_from_quantity` converts exactly or refuses with ``InvalidOrder(filter="LOT_SIZE")``;
`quantity_from_contracts` is exact. So an `Instrument`'s lot size and minimum are in that unit too, and
its ``contract_size`` is 1 (its ``notional`` is then ``quantity x price`` for linear and ``quantity`` USD
for inverse, as for the other venues).
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import msgspec

from brokers import intervals, wire
from brokers.okx import schemas as s
from brokers.okx.constants import (
    BARS,
    BARS_FROM_VENUE,
    POS_MODE_NET,
    VENUE,
    VENUE_NAME,
    InstType,
    is_valid_cl_ord_id,
)
from protocol import model as m
from protocol.errors import InvalidOrder, NotSupported, ProtocolViolation
from protocol.model import (
    MarginMode,
    MarketType,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    from_epoch_ms,
)

_EXACT = decimal.Context(prec=100, traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])
"""Enough digits that a division of two venue decimals is exact whenever its result is a whole number."""

# --- enums -----------------------------------------------------------------------------------------------

SIDE_TO_VENUE = {Side.BUY: "buy", Side.SELL: "sell"}
SIDE = {v: k for k, v in SIDE_TO_VENUE.items()}

ORDER_STATE: dict[str, OrderStatus] = {
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,  # may carry a partial fill (accFillSz > 0)
    "mmp_canceled": OrderStatus.CANCELED,  # cancelled by market maker protection (options)
}

ORD_TYPE: dict[str, tuple[OrderType, TimeInForce]] = {
    "market": (OrderType.MARKET, TimeInForce.IOC),  # a market order never rests
    "optimal_limit_ioc": (OrderType.MARKET, TimeInForce.IOC),  # derivatives' market at the price-limit band
    "limit": (OrderType.LIMIT, TimeInForce.GTC),
    "post_only": (OrderType.LIMIT, TimeInForce.POST_ONLY),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC),
    "fok": (OrderType.LIMIT, TimeInForce.FOK),
}
LIMIT_ORD_TYPE: dict[TimeInForce, str] = {TimeInForce.GTC: "limit", TimeInForce.POST_ONLY: "post_only",
                                          TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}

MARGIN_MODE: dict[str, MarginMode] = {"cash": MarginMode.CASH, "cross": MarginMode.CROSS,
                                      "isolated": MarginMode.ISOLATED}
TD_MODE = {v: k for k, v in MARGIN_MODE.items()}

CONTRACT_TYPE = {"linear": MarketType.LINEAR, "inverse": MarketType.INVERSE}


_lookup = functools.partial(wire.lookup, venue=VENUE, name=VENUE_NAME)


def side_from(value: str) -> Side:
    return _lookup(SIDE, value, "side")


def order_status_from(state: str) -> OrderStatus:
    return _lookup(ORDER_STATE, state, "order state")


def margin_mode_from(value: str) -> MarginMode:
    return _lookup(MARGIN_MODE, value, "margin mode")


def plain(value: Decimal) -> str:
    """A decimal as OKX wants it in a request (`brokers.wire.plain`, refusals in OKX's name)."""
    return wire.plain(value, venue=VENUE)


def _ms(text: str | int, field: str) -> datetime:
    try:
        return from_epoch_ms(text)
    except ValueError:
        raise ProtocolViolation(f"OKX sent {field}={text!r}, not epoch milliseconds", venue=VENUE) from None


def _opt_ms(text: str, field: str) -> datetime | None:
    return _ms(text, field) if text else None


# --- symbols -------------------------------------------------------------------------------------------------

def split_unified(symbol: str) -> tuple[str, str, str | None, str | None]:
    """``BASE/QUOTE[:SETTLE[-YYMMDD]]`` -> (base, quote, settle or None, expiry YYMMDD or None)."""
    pair, colon, rest = symbol.partition(":")
    base, slash, quote = pair.partition("/")
    settle, dash, expiry = rest.partition("-")
    if not slash or not base or not quote or (colon and not settle) or (dash and not (len(expiry) == 6
                                                                                       and expiry.isdigit())):
        raise InvalidOrder(f"{symbol!r} is not a unified symbol (BASE/QUOTE, BASE/QUOTE:SETTLE or "
                           "BASE/QUOTE:SETTLE-YYMMDD)", venue=VENUE, filter="SYMBOL")
    return base, quote, settle or None, expiry or None


def inst_id_of(symbol: str) -> str:
    """The OKX ``instId`` a unified symbol names (the rule; the client checks it is listed)."""
    base, quote, settle, expiry = split_unified(symbol)
    if settle is None:
        return f"{base}-{quote}"
    if settle not in (base, quote):
        raise InvalidOrder(f"{symbol!r}: OKX contracts settle in the base or the quote coin", venue=VENUE,
                           filter="SYMBOL")
    return f"{base}-{quote}-{expiry or 'SWAP'}"


def _family(info: s.InstrumentInfo) -> tuple[str, str]:
    """(base, quote) of a contract from its instrument family (``BTC-USDT``), else from its id."""
    family = info.instFamily or info.uly or info.instId.rsplit("-", 1)[0]
    base, _, quote = family.partition("-")
    if not base or not quote:
        raise ProtocolViolation(f"OKX instrument {info.instId} has no readable instrument family", venue=VENUE)
    return base, quote


def unified_symbol(info: s.InstrumentInfo) -> str:
    if info.instType == InstType.SPOT:
        base, quote = (info.baseCcy, info.quoteCcy) if info.baseCcy and info.quoteCcy else \
            tuple(info.instId.split("-", 1))  # preopen rows may leave baseCcy/quoteCcy empty
        return f"{base}/{quote}"
    base, quote = _family(info)
    symbol = f"{base}/{quote}:{info.settleCcy or (base if info.ctType == 'inverse' else quote)}"
    if info.instType == InstType.FUTURES:
        symbol += "-" + info.instId.rsplit("-", 1)[1]
    return symbol


# --- contract sizes ------------------------------------------------------------------------------------------

class ContractSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What converts our quantity to OKX's ``sz`` for one instrument (spot: one "contract" = 1 base unit).

    ``unit`` = ctVal x ctMult, in ``unit_ccy`` (the base coin, or USD for inverse contracts); ``lot`` and
    ``minimum`` are OKX's lotSz and minSz (contracts for SWAP/FUTURES, base units for spot).
    """

    inst_id: str
    inst_type: InstType
    unit: Decimal
    unit_ccy: str
    lot: Decimal
    minimum: Decimal
    max_limit: Decimal | None = None  # maxLmtSz, same unit as lot
    max_market: Decimal | None = None  # maxMktSz (derivatives: contracts; spot: USDT, not used)

    @property
    def is_contract(self) -> bool:
        return self.inst_type is not InstType.SPOT


def contract_spec(info: s.InstrumentInfo) -> ContractSpec:
    inst_type = _lookup({t.value: t for t in InstType}, info.instType, "instType")
    if inst_type is InstType.SPOT:
        unit, unit_ccy = Decimal(1), info.baseCcy or info.instId.split("-", 1)[0]
    else:
        ct_val = s.opt_decimal(info.ctVal, field="ctVal")
        ct_mult = s.opt_decimal(info.ctMult, field="ctMult") or Decimal(1)
        if ct_val is None or ct_val <= 0 or ct_mult <= 0 or not info.ctValCcy:
            raise ProtocolViolation(f"OKX contract {info.instId} has no usable ctVal/ctMult/ctValCcy", venue=VENUE)
        unit, unit_ccy = ct_val * ct_mult, info.ctValCcy
    if info.lotSz <= 0 or info.minSz < 0:
        raise ProtocolViolation(f"OKX instrument {info.instId} has lotSz {info.lotSz}, minSz {info.minSz}",
                                venue=VENUE)
    return ContractSpec(inst_id=info.instId, inst_type=inst_type, unit=unit, unit_ccy=unit_ccy, lot=info.lotSz,
                        minimum=info.minSz, max_limit=s.opt_decimal(info.maxLmtSz, field="maxLmtSz"),
                        max_market=s.opt_decimal(info.maxMktSz, field="maxMktSz") if inst_type is not
                        InstType.SPOT else None)


def quantity_from_contracts(spec: ContractSpec, contracts: Decimal) -> Decimal:
    """OKX's ``sz`` (contracts, or base units for spot) -> our quantity, exactly."""
    return contracts * spec.unit


def contracts_from_quantity(spec: ContractSpec, quantity: Decimal, *, client_order_id: str | None = None,
                            market: bool = False) -> Decimal:
    """Our quantity -> OKX's ``sz``; refused with the filter named unless it is a whole number of lots of at
    least the minimum (and at most the maximum), so nothing is ever rounded."""
    def refuse(why: str) -> InvalidOrder:
        return InvalidOrder(f"{spec.inst_id}: quantity {quantity} {spec.unit_ccy} {why}", venue=VENUE,
                            filter="LOT_SIZE", client_order_id=client_order_id)

    if not quantity.is_finite() or quantity <= 0:
        raise refuse("must be a positive number")
    base_lot = spec.lot * spec.unit
    try:
        lots = _EXACT.divide(quantity, base_lot)
    except decimal.DecimalException:
        raise refuse(f"is not a whole number of lots of {plain(base_lot)}") from None
    if lots != lots.to_integral_value() or _EXACT.multiply(lots, base_lot) != quantity:
        raise refuse(f"is not a whole number of lots of {plain(base_lot)} {spec.unit_ccy}"
                     + (f" ({plain(spec.lot)} contract of {plain(spec.unit)})" if spec.is_contract else ""))
    contracts = _EXACT.multiply(lots, spec.lot)
    if contracts < spec.minimum:
        raise refuse(f"is below the minimum {plain(spec.minimum * spec.unit)}")
    ceiling = spec.max_market if market else spec.max_limit  # spot market orders: maxMktSz is in USDT
    if ceiling is not None and contracts > ceiling:
        raise refuse(f"is above the maximum {plain(ceiling * spec.unit)}")
    return contracts.normalize()


# --- instruments -----------------------------------------------------------------------------------------------

def market_type_of(info: s.InstrumentInfo) -> MarketType:
    if info.instType == InstType.SPOT:
        return MarketType.SPOT
    if info.instType in (InstType.SWAP, InstType.FUTURES):
        return _lookup(CONTRACT_TYPE, info.ctType, "ctType")
    raise NotSupported(f"OKX {info.instType} instruments are not traded by this client", venue=VENUE)


def instrument_from(info: s.InstrumentInfo) -> m.Instrument:
    """An instruments row -> Instrument, sizes in our quantity unit (see the module docstring)."""
    market_type = market_type_of(info)
    spec = contract_spec(info)
    if market_type is MarketType.SPOT:
        base, quote = unified_symbol(info).split("/")
        settle = None
    else:
        base, quote = _family(info)
        settle = info.settleCcy or None
    lever = s.opt_decimal(info.lever, field="lever")
    return m.Instrument(
        venue=VENUE,
        symbol=unified_symbol(info),
        venue_symbol=info.instId,
        market_type=market_type,
        base=base,
        quote=quote,
        settle=settle,
        tick_size=info.tickSz.normalize(),
        lot_size=(spec.lot * spec.unit).normalize(),
        min_qty=(spec.minimum * spec.unit).normalize(),
        max_qty=(spec.max_limit * spec.unit).normalize() if spec.max_limit else None,
        max_leverage=lever if lever and market_type is not MarketType.SPOT else Decimal(1),
        trading=info.state == "live",
    )


# --- orders: request -> body -------------------------------------------------------------------------------------

def order_body(request: m.OrderRequest, instrument: m.Instrument, spec: ContractSpec, *, client_order_id: str,
               default_margin_mode: MarginMode = MarginMode.CROSS, pos_mode: str = POS_MODE_NET) -> dict[str, object]:
    """POST /api/v5/trade/order body (quantities in our unit; ``sz`` in contracts for swaps).

    Spot trades ``tdMode=cash``; swaps ``cross`` or ``isolated`` (the request's ``margin_mode``, else the
    default). Spot market orders say ``tgtCcy=base_ccy`` (OKX reads a market buy's ``sz`` as quote money
    otherwise) and ``banAmend=true`` (else OKX shrinks an order it cannot fund instead of refusing it); a
    notional spot market order sends the quote amount with ``tgtCcy=quote_ccy``. Net position mode only.
    """
    cid = client_order_id

    def unsupported(what: str) -> NotSupported:
        return NotSupported(f"OKX orders: {what}", venue=VENUE, client_order_id=cid)

    if not is_valid_cl_ord_id(cid):
        raise InvalidOrder(f"client order id {cid!r}: OKX takes 1-32 letters and digits", venue=VENUE,
                           filter="CLIENT_ORDER_ID", client_order_id=cid)
    if pos_mode != POS_MODE_NET:
        raise unsupported("the account is in long/short position mode; this client trades net mode (README)")
    if request.type not in (OrderType.MARKET, OrderType.LIMIT):
        raise unsupported(f"{request.type} orders are algo orders (/trade/order-algo), not offered yet")
    if request.order_class is not m.OrderClass.SIMPLE or request.take_profit_price is not None or \
            request.stop_loss_price is not None:
        raise unsupported("attached take-profit/stop-loss orders are not offered yet")
    if request.trail_price is not None or request.trail_percent is not None or request.extended_hours:
        raise unsupported("trailing and extended-hours fields do not apply to OKX")
    if request.leverage is not None:
        raise unsupported("leverage is set per instrument and margin mode (set_leverage), not per order")
    spot = instrument.market_type is MarketType.SPOT
    if spot:
        if request.margin_mode not in (None, MarginMode.CASH):
            raise unsupported("spot margin (tdMode cross/isolated on SPOT) is not offered")
        if request.reduce_only:
            raise InvalidOrder("reduce-only does not exist for OKX spot", venue=VENUE, filter="REDUCE_ONLY",
                               client_order_id=cid)
        td_mode = MarginMode.CASH
    else:
        td_mode = request.margin_mode or default_margin_mode
        if td_mode is MarginMode.CASH:
            raise InvalidOrder("OKX swaps trade in cross or isolated margin, not cash", venue=VENUE,
                               filter="MARGIN_MODE", client_order_id=cid)
    body: dict[str, object] = {"instId": instrument.venue_symbol, "tdMode": TD_MODE[td_mode],
                               "clOrdId": cid, "side": SIDE_TO_VENUE[request.side]}
    market = request.type is OrderType.MARKET
    if market:
        if request.time_in_force not in (TimeInForce.GTC, TimeInForce.IOC):
            raise InvalidOrder(f"a market order cannot be {request.time_in_force}", venue=VENUE,
                               filter="TIME_IN_FORCE", client_order_id=cid)
        body["ordType"] = "market"
    else:
        if request.price is None or request.price <= 0:
            raise InvalidOrder("a limit order needs a positive price", venue=VENUE, filter="PRICE_FILTER",
                               client_order_id=cid)
        ord_type = LIMIT_ORD_TYPE.get(request.time_in_force)
        if ord_type is None:
            raise unsupported(f"time in force {request.time_in_force} does not exist at OKX")
        body["ordType"] = ord_type
        body["px"] = plain(request.price)
    if request.notional is not None:
        if not (spot and market) or request.quantity != 0:
            raise unsupported("a notional order is a spot market order with quantity 0")
        body["sz"] = plain(request.notional)
        body["tgtCcy"] = "quote_ccy"
    else:
        body["sz"] = plain(contracts_from_quantity(spec, request.quantity, client_order_id=cid, market=market))
        if spot and market:
            body["tgtCcy"] = "base_ccy"
    if spot and market:
        body["banAmend"] = True
    if not spot:
        body["reduceOnly"] = request.reduce_only
    return body


def order_reference(instrument: m.Instrument, *, order_id: str | None = None,
                    client_order_id: str | None = None) -> dict[str, str]:
    """``instId`` + ``ordId`` (preferred) or ``clOrdId``: the body of cancel-order and the query of GET
    /trade/order (OKX uses ordId when both are given, and the latest order holding a clOrdId)."""
    if order_id:
        return {"instId": instrument.venue_symbol, "ordId": order_id}
    if client_order_id:
        return {"instId": instrument.venue_symbol, "clOrdId": client_order_id}
    raise InvalidOrder("an order id or a client order id is needed", venue=VENUE, filter="PARAMETER")


def amend_body(instrument: m.Instrument, spec: ContractSpec, *, order_id: str | None = None,
               client_order_id: str | None = None, quantity: Decimal | None = None,
               price: Decimal | None = None, request_id: str | None = None) -> dict[str, object]:
    """POST /api/v5/trade/amend-order: ``newSz`` is the order's new *total* size (filled part included)."""
    if quantity is None and price is None:
        raise InvalidOrder("an amendment changes the quantity, the price or both", venue=VENUE, filter="PARAMETER")
    body: dict[str, object] = dict(order_reference(instrument, order_id=order_id, client_order_id=client_order_id))
    if quantity is not None:
        body["newSz"] = plain(contracts_from_quantity(spec, quantity, client_order_id=client_order_id))
    if price is not None:
        body["newPx"] = plain(price)
    if request_id:
        body["reqId"] = request_id
    return body


# --- orders and fills: venue -> protocol ---------------------------------------------------------------------------

def _positive(text: str, field: str) -> Decimal | None:
    value = s.opt_decimal(text, field=field)
    return value if value is not None and value > 0 else None


def order_from(info: s.OrderInfo, instrument: m.Instrument, spec: ContractSpec) -> m.Order:
    """An order (REST or ``orders`` push) -> Order, sizes in our unit.

    A spot market order sized in quote money (``tgtCcy=quote_ccy``) reports ``notional`` = its ``sz`` and
    ``quantity`` = what it filled (OKX counts ``accFillSz`` in base units even then).
    """
    order_type, tif = _lookup(ORD_TYPE, info.ordType, "ordType")
    filled = quantity_from_contracts(spec, s.decimal_or_zero(info.accFillSz, field="accFillSz"))
    notional = None
    if info.tgtCcy == "quote_ccy":
        notional, quantity = info.sz, filled
    else:
        quantity = quantity_from_contracts(spec, info.sz)
    reason = info.cancelSourceReason or (info.msg if info.code not in ("", "0") else "") or None
    return m.Order(
        venue=VENUE,
        symbol=instrument.symbol,
        order_id=info.ordId,
        client_order_id=info.clOrdId,
        side=side_from(info.side),
        type=order_type,
        status=order_status_from(info.state),
        quantity=quantity,
        price=_positive(info.px, "px") if order_type is OrderType.LIMIT else None,
        filled_quantity=filled,
        average_price=_positive(info.avgPx, "avgPx"),
        time_in_force=tif,
        reduce_only=info.reduceOnly == "true",
        created_at=_ms(info.cTime, "cTime"),
        updated_at=_ms(info.uTime or info.cTime, "uTime"),
        notional=notional,
        leverage=_positive(info.lever, "lever") if instrument.market_type is not MarketType.SPOT else None,
        reject_reason=reason,
    )


def fill_from(info: s.FillInfo, instrument: m.Instrument, spec: ContractSpec) -> m.Fill:
    """A GET /trade/fills(-history) row -> Fill. OKX's ``fee`` is negative when paid: ours is positive."""
    return m.Fill(
        venue=VENUE, symbol=instrument.symbol, order_id=info.ordId, client_order_id=info.clOrdId,
        trade_id=info.tradeId, side=side_from(info.side), price=info.fillPx,
        quantity=quantity_from_contracts(spec, info.fillSz), fee=-s.decimal_or_zero(info.fee, field="fee"),
        fee_currency=info.feeCcy, is_maker=info.execType == "M",
        timestamp=_ms(info.fillTime or info.ts, "fillTime"),
    )


def fill_from_push(info: s.OrderInfo, instrument: m.Instrument, spec: ContractSpec) -> m.Fill | None:
    """The fill an ``orders`` push reports (``tradeId``/``fillSz`` of this update), or None if it reports none."""
    size = s.decimal_or_zero(info.fillSz, field="fillSz")
    if not info.tradeId or size <= 0:
        return None
    price = s.opt_decimal(info.fillPx, field="fillPx")
    if price is None:
        raise ProtocolViolation(f"OKX fill {info.tradeId} of {info.ordId} has no fillPx", venue=VENUE)
    return m.Fill(
        venue=VENUE, symbol=instrument.symbol, order_id=info.ordId, client_order_id=info.clOrdId,
        trade_id=info.tradeId, side=side_from(info.side), price=price,
        quantity=quantity_from_contracts(spec, size), fee=-s.decimal_or_zero(info.fillFee, field="fillFee"),
        fee_currency=info.fillFeeCcy, is_maker=info.execType == "M",
        timestamp=_ms(info.fillTime or info.uTime, "fillTime"),
        order_filled_quantity=quantity_from_contracts(spec, s.decimal_or_zero(info.accFillSz, field="accFillSz")),
    )


# --- positions, balances, account -------------------------------------------------------------------------------

def position_from(info: s.PositionInfo, instrument: m.Instrument, spec: ContractSpec) -> m.Position:
    """A SWAP/FUTURES position -> Position in our unit. Net mode: the sign of ``pos`` is the side.

    PnL figures are in the settlement currency (``ccy``: USDT for linear, the coin for inverse); ``fees``
    is what the position paid so far (OKX's accumulated ``fee`` is negative when paid).
    """
    if info.instType not in (InstType.SWAP, InstType.FUTURES):
        raise NotSupported(f"OKX {info.instType} positions are not mapped (spot margin is not traded)", venue=VENUE)
    contracts = s.decimal_or_zero(info.pos, field="pos")
    if info.posSide == "net":
        side = PositionSide.LONG if contracts > 0 else PositionSide.SHORT if contracts < 0 else PositionSide.FLAT
    else:
        side = _lookup({"long": PositionSide.LONG, "short": PositionSide.SHORT}, info.posSide, "posSide")
        if contracts == 0:
            side = PositionSide.FLAT
    mode = margin_mode_from(info.mgnMode)
    fee = s.opt_decimal(info.fee, field="fee")
    return m.Position(
        venue=VENUE,
        symbol=instrument.symbol,
        market_type=instrument.market_type,
        side=side,
        quantity=quantity_from_contracts(spec, abs(contracts)),
        entry_price=_positive(info.avgPx, "avgPx"),
        mark_price=_positive(info.markPx, "markPx"),
        unrealized_pnl=s.decimal_or_zero(info.upl, field="upl"),
        realized_pnl=s.decimal_or_zero(info.realizedPnl, field="realizedPnl"),
        liquidation_price=_positive(info.liqPx, "liqPx"),
        leverage=_positive(info.lever, "lever") or Decimal(1),
        margin_mode=mode,
        updated_at=_ms(info.uTime or info.pTime or info.cTime, "uTime"),
        margin=s.opt_decimal(info.margin if mode is MarginMode.ISOLATED else info.imr, field="margin"),
        fees=-fee if fee is not None else None,
    )


def balance_from(detail: s.BalanceDetail) -> m.Balance:
    """A currency of the trading account: free = ``availBal``, locked = ``frozenBal`` (orders and margin);
    their sum is the currency's equity ``eq``."""
    free = s.decimal_or_zero(detail.availBal or detail.availEq, field="availBal")
    locked = s.decimal_or_zero(detail.frozenBal, field="frozenBal")
    return m.Balance(venue=VENUE, currency=detail.ccy, free=free, locked=locked)


def balances_from(account: s.AccountBalance) -> list[m.Balance]:
    return [balance_from(detail) for detail in account.details]


def account_info_from(account: s.AccountBalance, config: s.AccountConfig) -> m.AccountInfo:
    """Balance + config -> AccountInfo; account-wide figures are OKX's USD ones, ``mgnRatio`` as percent."""
    perm = set(config.perm.split(","))
    ratio = s.opt_decimal(account.mgnRatio, field="mgnRatio")
    equity = s.opt_decimal(account.totalEq, field="totalEq")
    used = s.opt_decimal(account.imr, field="imr")
    margin_equity = s.opt_decimal(account.adjEq, field="adjEq") or equity
    return m.AccountInfo(
        venue=VENUE, account_type=f"okx-acctLv{config.acctLv}", can_trade="trade" in perm,
        can_withdraw="withdraw" in perm, can_deposit=True, balances=balances_from(account),
        updated_at=_ms(account.uTime, "uTime") if account.uTime else m.utc_now(), currency="USD", equity=equity,
        margin_used=used, free_margin=margin_equity - used if margin_equity is not None and used is not None else None,
        margin_level=ratio * 100 if ratio is not None else None,
    )


def leverage_info_from(rows: Sequence[s.LeverageInfo], instrument: m.Instrument) -> m.LeverageInfo:
    """GET leverage-info rows -> LeverageInfo. Net mode answers one row; long/short isolated mode one per
    side (the higher leverage is reported: it bounds both)."""
    if not rows:
        raise ProtocolViolation(f"OKX sent no leverage for {instrument.venue_symbol}", venue=VENUE)
    row = max(rows, key=lambda r: r.lever)
    return m.LeverageInfo(venue=VENUE, symbol=instrument.symbol, leverage=row.lever,
                          max_leverage=instrument.max_leverage, margin_mode=margin_mode_from(row.mgnMode))


def set_leverage_body(instrument: m.Instrument, leverage: Decimal,
                      margin_mode: MarginMode = MarginMode.CROSS) -> dict[str, object]:
    """POST /api/v5/account/set-leverage body, per instrument and margin mode (net mode: no posSide)."""
    if instrument.market_type is MarketType.SPOT:
        raise NotSupported("OKX spot (tdMode cash) has no leverage", venue=VENUE)
    if margin_mode is MarginMode.CASH:
        raise InvalidOrder("leverage is set for cross or isolated margin", venue=VENUE, filter="MARGIN_MODE")
    if not leverage.is_finite() or leverage < Decimal("0.01") or leverage > instrument.max_leverage:
        raise InvalidOrder(f"leverage {leverage} outside [0.01, {instrument.max_leverage}]", venue=VENUE,
                           filter="LEVERAGE")
    return {"instId": instrument.venue_symbol, "lever": plain(leverage), "mgnMode": TD_MODE[margin_mode]}


# --- market data ----------------------------------------------------------------------------------------------------

def ticker_from(info: s.Ticker, instrument: m.Instrument, spec: ContractSpec) -> m.Ticker:
    last = s.opt_decimal(info.last, field="last")
    if last is None:
        raise ProtocolViolation(f"OKX ticker for {info.instId} has no last price", venue=VENUE)
    bid_size = s.opt_decimal(info.bidSz, field="bidSz")
    ask_size = s.opt_decimal(info.askSz, field="askSz")
    return m.Ticker(
        venue=VENUE, symbol=instrument.symbol, last=last,
        bid=_positive(info.bidPx, "bidPx"), ask=_positive(info.askPx, "askPx"),
        bid_size=quantity_from_contracts(spec, bid_size) if bid_size is not None else None,
        ask_size=quantity_from_contracts(spec, ask_size) if ask_size is not None else None,
        timestamp=_ms(info.ts, "ts"),
    )


def bar_of(interval: str) -> str:
    """Unified interval (``1m``, ``1h``, ``1d`` ...) -> OKX's ``bar`` (``1m``, ``1H``, ``1Dutc`` ...)."""
    return intervals.venue_code(interval, BARS, BARS_FROM_VENUE, venue=VENUE, name=VENUE_NAME, noun="candles")


def candle_from_row(row: Sequence[str], instrument: m.Instrument, spec: ContractSpec, interval: str) -> m.Candle:
    """[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm] -> Candle; volume in our unit (``vol`` is
    contracts for derivatives, base units for spot); ``closed`` when OKX says the bar is complete."""
    if len(row) < 9:
        raise ProtocolViolation(f"OKX candle row has {len(row)} fields, expected 9: {list(row)!r}", venue=VENUE)
    ts, o, h, low, c, vol = row[:6]
    prices = [s.opt_decimal(value, field="ohlc") for value in (o, h, low, c)]
    volume = s.opt_decimal(vol, field="vol")
    if any(p is None for p in prices) or volume is None:
        raise ProtocolViolation(f"OKX candle row with empty values: {list(row)!r}", venue=VENUE)
    open_, high, low_, close = (p for p in prices if p is not None)
    return m.Candle(venue=VENUE, symbol=instrument.symbol, interval=BARS_FROM_VENUE.get(bar_of(interval), interval),
                    open_time=_ms(ts, "ts"), open=open_, high=high, low=low_, close=close,
                    volume=quantity_from_contracts(spec, volume), closed=row[8] == "1")


def candles_from_rows(rows: Iterable[Sequence[str]], instrument: m.Instrument, spec: ContractSpec,
                      interval: str) -> list[m.Candle]:
    """REST rows (newest first) -> candles oldest first."""
    candles = [candle_from_row(row, instrument, spec, interval) for row in rows]
    candles.sort(key=lambda candle: candle.open_time)
    return candles


def history_page_params(inst_id: str, interval: str, *, until_ms: int | None = None,
                        limit: int = 100) -> dict[str, str]:
    """Query of GET history-candles for the page of bars opening strictly before ``until_ms`` (OKX's
    ``after``: "records earlier than the requested ts"); None = the newest page."""
    params = {"instId": inst_id, "bar": bar_of(interval), "limit": str(limit)}
    if until_ms is not None:
        params["after"] = str(until_ms)
    return params


def oldest_ms(rows: Sequence[Sequence[str]]) -> int | None:
    """The cursor for the next page back: the oldest ``ts`` of a page (None when the page is empty)."""
    return min(int(row[0]) for row in rows) if rows else None


def trade_from(info: s.PublicTrade, instrument: m.Instrument, spec: ContractSpec) -> m.Trade:
    return m.Trade(venue=VENUE, symbol=instrument.symbol, trade_id=info.tradeId, price=info.px,
                   quantity=quantity_from_contracts(spec, info.sz), taker_side=side_from(info.side),
                   timestamp=_ms(info.ts, "ts"))


def funding_rate_from(info: s.FundingRate, instrument: m.Instrument) -> m.FundingRate:
    """The current period's rate (a forecast until settled at ``fundingTime``)."""
    return m.FundingRate(venue=VENUE, symbol=instrument.symbol, rate=info.fundingRate,
                         funding_time=_ms(info.fundingTime, "fundingTime"),
                         next_funding_time=_opt_ms(info.nextFundingTime, "nextFundingTime"), realized=False)


def funding_history_from(info: s.FundingRateHistory, instrument: m.Instrument) -> m.FundingRate:
    """A settled rate: ``realizedRate`` is what was paid (``fundingRate`` was the forecast)."""
    return m.FundingRate(venue=VENUE, symbol=instrument.symbol, rate=info.realizedRate,
                         funding_time=_ms(info.fundingTime, "fundingTime"), realized=True)


def mark_price_from(info: s.MarkPrice, instrument: m.Instrument, index: s.IndexTicker | None = None) -> m.MarkPrice:
    return m.MarkPrice(venue=VENUE, symbol=instrument.symbol, mark=info.markPx,
                       index=index.idxPx if index is not None else None, timestamp=_ms(info.ts, "ts"))


def index_inst_id(instrument: m.Instrument) -> str:
    """The index behind an instrument (``BTC-USDT`` for BTC-USDT-SWAP, ``BTC-USD`` for BTC-USD-SWAP)."""
    return f"{instrument.base}-{instrument.quote}"


def open_interest_from(info: s.OpenInterest, instrument: m.Instrument, spec: ContractSpec) -> m.OpenInterest:
    """``oiCcy`` is in the base coin for linear and inverse contracts alike; ``value`` is OKX's USD figure."""
    base = s.opt_decimal(info.oiCcy, field="oiCcy")
    if base is None and spec.unit_ccy == instrument.base:
        base = quantity_from_contracts(spec, info.oi)
    if base is None:
        raise ProtocolViolation(f"OKX open interest for {info.instId} has no oiCcy", venue=VENUE)
    return m.OpenInterest(venue=VENUE, symbol=instrument.symbol, quantity=base,
                          value=s.opt_decimal(info.oiUsd, field="oiUsd"), timestamp=_ms(info.ts, "ts"))


def book_levels(levels: Iterable[s.BookLevel], spec: ContractSpec) -> list[m.BookLevel]:
    """OKX levels (sizes in contracts for derivatives) -> BookLevels in our unit."""
    out = []
    for price, size, *_ in levels:
        px, sz = s.opt_decimal(price, field="px"), s.opt_decimal(size, field="sz")
        if px is None or sz is None:
            raise ProtocolViolation(f"OKX book level [{price!r}, {size!r}] is not numeric", venue=VENUE)
        out.append(m.BookLevel(px, quantity_from_contracts(spec, sz)))
    return out


def order_book_from(snapshot: s.OrderBookSnapshot, instrument: m.Instrument, spec: ContractSpec) -> m.OrderBook:
    """GET /market/books -> OrderBook (OKX already sends the best levels first)."""
    return m.OrderBook(venue=VENUE, symbol=instrument.symbol, bids=book_levels(snapshot.bids, spec),
                       asks=book_levels(snapshot.asks, spec), sequence=snapshot.seqId,
                       timestamp=_ms(snapshot.ts, "ts"))

