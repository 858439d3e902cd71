"""Kraken <-> protocol, both directions, in one place: names, instruments, orders, fills, margin, Earn.

Names. Kraken calls one market by four names: the REST pair (``XXBTZUSD``, made of the Assets keys
``XXBT`` and ``ZUSD``), its ``altname`` (``XBTUSD``), its websocket v1 ``wsname`` (``XBT/USD``) and the
websocket v2 symbol (``BTC/USD``). Our unified symbols follow ccxt's common-currency convention for
Kraken: the Assets ``altname``, with ``XBT`` read as ``BTC`` and ``XDG`` as ``DOGE`` (the renames
Kraken's own v2 makes), so the unified symbol is the v2 symbol: ``BTC/USD``. `PairTable` builds every
name from the ``Assets`` and ``AssetPairs`` answers -- nothing is written per pair -- and resolves any
of them back; dark-pool pairs and pairs of another execution venue are left out and listed.

Orders. `add_order_body` writes AddOrder's parameters (market, limit, stop, post-only, IOC, FOK,
reduce-only, margin ``leverage`` within the pair's lists, ``cl_ord_id``, ``deadline``, ``validate``);
what Kraken cannot do is refused with a typed error, never dropped. Reading back, REST order rows and
websocket execution reports map to `Order` / `Fill`; margin positions, TradeBalance, the margin alert
and Earn map here too. Nothing in this module holds state.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Final

import attrs
import msgspec

from brokers import wire
from brokers.kraken import schemas as s
from brokers.kraken.auth import FormValue
from brokers.kraken.constants import (
    COMMON_CURRENCIES,
    DARK_POOL_SUFFIX,
    EXECUTION_VENUE_DEFAULT,
    OHLC_INTERVALS,
    OHLC_INTERVALS_FROM_VENUE,
    ORDER_DEADLINE_MAX_S,
    ORDER_DEADLINE_MIN_S,
    PAIR_STATUS_TRADING,
    VENUE,
    VENUE_NAME,
    is_valid_cl_ord_id,
)
from protocol.errors import InvalidOrder, NotSupported, ProtocolViolation
from protocol.model import (
    ZERO,
    AccountInfo,
    Balance,
    Candle,
    EarnAllocation,
    EarnLockType,
    EarnStatus,
    EarnStrategy,
    Fill,
    Instrument,
    LeverageInfo,
    MarginAlert,
    MarginAlertLevel,
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

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE = Decimal(1)

# --- small exact conversions ---------------------------------------------------------------------------


def plain(value: Decimal) -> str:
    """A decimal as Kraken wants it in a request: no exponent, no trailing zeros ("0.001", "65000")."""
    return wire.plain(value, venue=VENUE)


def from_seconds(seconds: Decimal | int) -> datetime:
    """Kraken's Unix seconds with a fraction (``1688148493.7708``) -> UTC, exact to the microsecond."""
    micros = (Decimal(seconds) * 1_000_000).to_integral_value(ROUND_DOWN)
    return _EPOCH + timedelta(microseconds=int(micros))


def parse_time(text: str) -> datetime:
    """An RFC3339 time of the websocket (nanoseconds are cut to microseconds)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ProtocolViolation(f"Kraken sent time {text!r}, not RFC3339", venue=VENUE) from None
    if parsed.tzinfo is None:
        raise ProtocolViolation(f"Kraken sent time {text!r} without a zone", venue=VENUE)
    return parsed.astimezone(UTC)


def rfc3339(when: datetime) -> str:
    """A time for a request (AddOrder ``deadline``): UTC, milliseconds, ``Z``."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: AlgoTrendy times are UTC and timezone-aware")
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _step(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


# --- assets ----------------------------------------------------------------------------------------------


def common_code(altname: str) -> str:
    """Kraken's altname -> the unified currency code (``XBT`` -> ``BTC``)."""
    return COMMON_CURRENCIES.get(altname, altname)


def split_suffix(code: str) -> tuple[str, str | None]:
    """``DOT.S`` -> (``DOT``, ``S``): Kraken marks staked / Earn / opt-in balances with a suffix."""
    root, dot, suffix = code.partition(".")
    return (root, suffix) if dot else (code, None)


@attrs.frozen
class AssetTable:
    """Kraken asset key (``XXBT``) <-> altname (``XBT``) <-> unified code (``BTC``)."""

    _common_by_name: dict[str, str]  # key, altname and unified code -> unified code
    _key_by_common: dict[str, str]

    @classmethod
    def from_answer(cls, assets: Mapping[str, s.AssetInfo]) -> AssetTable:
        by_name: dict[str, str] = {}
        key_by_common: dict[str, str] = {}
        for key, info in assets.items():
            common = common_code(info.altname)
            for name in (key, info.altname, common):
                if by_name.setdefault(name, common) != common:
                    raise ProtocolViolation(f"Kraken asset name {name!r} means both {by_name[name]} and {common}",
                                            venue=VENUE)
            key_by_common.setdefault(common, key)
        return cls(by_name, key_by_common)

    def currency(self, code: str) -> str:
        """Any Kraken name of an asset (key, altname, v2 name) -> the unified code."""
        try:
            return self._common_by_name[code]
        except KeyError:
            raise ProtocolViolation(f"unknown Kraken asset {code!r} (not in Assets)", venue=VENUE) from None

    def knows(self, code: str) -> bool:
        return code in self._common_by_name

    def currency_lenient(self, code: str) -> str:
        """`currency`, or for an asset listed after the table was built, its name read as an altname:
        a balance or an Earn holding is a fact worth reporting even before the next Assets refresh."""
        return self._common_by_name.get(code) or common_code(code)

    def venue_asset(self, currency: str) -> str:
        """The unified code -> Kraken's asset key (``BTC`` -> ``XXBT``), for requests that name an asset."""
        try:
            return self._key_by_common[currency]
        except KeyError:
            raise InvalidOrder(f"Kraken has no asset {currency!r}", venue=VENUE, filter="ASSET") from None


# --- pairs and instruments ---------------------------------------------------------------------------------


def _levels(values: Iterable[Decimal]) -> tuple[Decimal, ...]:
    return tuple(sorted({value.normalize() for value in values}))


def instrument_from(rest_name: str, pair: s.AssetPair, assets: AssetTable) -> Instrument:
    """One AssetPairs row -> Instrument: lot = 10^-lot_decimals, tick = tick_size (10^-pair_decimals if
    absent), min qty = ordermin (base), min notional = costmin (quote), leverage lists as published."""
    base, quote = assets.currency(pair.base), assets.currency(pair.quote)
    leverage_buy, leverage_sell = _levels(pair.leverage_buy), _levels(pair.leverage_sell)
    tick = pair.tick_size if pair.tick_size is not None and pair.tick_size > 0 else _step(pair.pair_decimals)
    return Instrument(
        venue=VENUE,
        symbol=f"{base}/{quote}",
        venue_symbol=rest_name,
        market_type=MarketType.SPOT,
        base=base,
        quote=quote,
        tick_size=tick.normalize(),
        lot_size=_step(pair.lot_decimals),
        min_qty=(pair.ordermin or ZERO).normalize(),
        min_notional=(pair.costmin or ZERO).normalize(),
        max_leverage=max(leverage_buy + leverage_sell, default=ONE),
        trading=pair.status in (None, PAIR_STATUS_TRADING),
        leverage_buy=leverage_buy,
        leverage_sell=leverage_sell,
    )


@attrs.frozen
class PairEntry:
    """One market under all its names."""

    instrument: Instrument
    rest_name: str  # XXBTZUSD
    altname: str  # XBTUSD
    wsname: str  # XBT/USD (websocket v1)
    ws_symbol: str  # BTC/USD (websocket v2)
    base_asset: str  # XXBT
    quote_asset: str  # ZUSD
    price_decimals: int | None = None  # pair_decimals: the book checksum prints prices with them
    qty_decimals: int | None = None  # lot_decimals: ... and quantities with these
    margin_call: int | None = None  # margin level (%) of a margin call
    margin_stop: int | None = None  # margin level (%) of liquidation

    @property
    def symbol(self) -> str:
        return self.instrument.symbol


@attrs.frozen
class PairTable:
    """Every tradable pair under every name, built from the Assets and AssetPairs answers."""

    assets: AssetTable
    entries: tuple[PairEntry, ...]
    skipped: dict[str, str]  # REST pair name -> why it is not in the table
    _by_symbol: dict[str, PairEntry]
    _by_name: dict[str, PairEntry]  # REST name, altname, wsname and v2 symbol

    @classmethod
    def from_answers(cls, assets: Mapping[str, s.AssetInfo], pairs: Mapping[str, s.AssetPair]) -> PairTable:
        table = AssetTable.from_answer(assets)
        entries: list[PairEntry] = []
        skipped: dict[str, str] = {}
        by_symbol: dict[str, PairEntry] = {}
        by_name: dict[str, PairEntry] = {}
        for rest_name, pair in pairs.items():
            reason = _skip_reason(pair, table)
            if reason:
                skipped[rest_name] = reason
                continue
            instrument = instrument_from(rest_name, pair, table)
            entry = PairEntry(instrument=instrument, rest_name=rest_name, altname=pair.altname,
                              wsname=pair.wsname or "", ws_symbol=instrument.symbol, base_asset=pair.base,
                              quote_asset=pair.quote, price_decimals=pair.pair_decimals,
                              qty_decimals=pair.lot_decimals, margin_call=pair.margin_call,
                              margin_stop=pair.margin_stop)
            if instrument.symbol in by_symbol:
                skipped[rest_name] = f"{instrument.symbol} is already {by_symbol[instrument.symbol].rest_name}"
                continue
            for name in {rest_name, pair.altname, entry.wsname, entry.ws_symbol} - {""}:
                other = by_name.get(name)
                if other is not None and other is not entry:
                    raise ProtocolViolation(f"Kraken pair name {name!r} names both {other.rest_name} and {rest_name}",
                                            venue=VENUE)
                by_name[name] = entry
            by_symbol[instrument.symbol] = entry
            entries.append(entry)
        return cls(table, tuple(entries), skipped, by_symbol, by_name)

    def by_symbol(self, symbol: str) -> PairEntry:
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise InvalidOrder(f"Kraken has no pair {symbol!r}; unified symbols look like BTC/USD", venue=VENUE,
                               filter="SYMBOL") from None

    def by_venue(self, name: str) -> PairEntry:
        """Any Kraken name of a pair: ``XXBTZUSD``, ``XBTUSD``, ``XBT/USD`` or ``BTC/USD``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise ProtocolViolation(f"Kraken named an unknown pair {name!r}", venue=VENUE) from None

    def knows(self, symbol: str) -> bool:
        return symbol in self._by_symbol

    def knows_name(self, name: str) -> bool:
        """Whether ``name`` is any Kraken name of a tabled pair (`by_venue` answers it)."""
        return name in self._by_name

    def instruments(self) -> list[Instrument]:
        return [entry.instrument for entry in self.entries]


def _skip_reason(pair: s.AssetPair, assets: AssetTable) -> str | None:
    if pair.altname.endswith(DARK_POOL_SUFFIX):
        return "dark pool"
    if pair.execution_venue not in (None, EXECUTION_VENUE_DEFAULT):
        return f"execution venue {pair.execution_venue}"
    if not pair.wsname:
        return "no websocket name"
    missing = [asset for asset in (pair.base, pair.quote) if not assets.knows(asset)]
    if missing:
        return f"assets not in Assets: {', '.join(missing)}"
    return None


# --- enums ---------------------------------------------------------------------------------------------------

SIDE_TO_VENUE = {Side.BUY: "buy", Side.SELL: "sell"}
SIDE = {v: k for k, v in SIDE_TO_VENUE.items()}

ORDER_STATUS: dict[str, OrderStatus] = {  # REST order rows
    "pending": OrderStatus.PENDING_NEW,
    "open": OrderStatus.NEW,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}
WS_ORDER_STATUS: dict[str, OrderStatus] = {  # websocket v2 executions
    "pending_new": OrderStatus.PENDING_NEW,
    "new": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}
ORDER_TYPE_TO_VENUE = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP_MARKET: "stop-loss",
    OrderType.STOP_LIMIT: "stop-loss-limit",
    OrderType.TRAILING_STOP: "trailing-stop",
}
ORDER_TYPE: dict[str, OrderType] = {v: k for k, v in ORDER_TYPE_TO_VENUE.items()} | {
    # Read-only: orders placed elsewhere. Take-profit orders are trigger orders from the favourable side;
    # the contract has one trigger type, so they read as stops. An iceberg is a limit order.
    "take-profit": OrderType.STOP_MARKET,
    "take-profit-limit": OrderType.STOP_LIMIT,
    "trailing-stop-limit": OrderType.TRAILING_STOP,
    "iceberg": OrderType.LIMIT,
    "settle-position": OrderType.MARKET,
}
TIF_TO_VENUE = {TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}  # GTC is the default; post-only is a flag
TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK, "GTD": TimeInForce.GTC}
POST_ONLY_FLAG = "post"


_lookup = functools.partial(wire.lookup, venue=VENUE, name=VENUE_NAME)


def side_from(venue_side: str) -> Side:
    return _lookup(SIDE, venue_side, "side")


def order_type_from(venue_type: str) -> OrderType:
    return _lookup(ORDER_TYPE, venue_type, "order type")


def leverage_from(text: str | None) -> Decimal | None:
    """``"none"`` -> None, ``"5:1"`` or ``"5"`` -> 5."""
    if not text or text == "none":
        return None
    try:
        value = Decimal(text.split(":", 1)[0])
    except InvalidOperation:
        raise ProtocolViolation(f"Kraken sent leverage {text!r}", venue=VENUE) from None
    return None if value <= ONE else value


# --- order requests ------------------------------------------------------------------------------------------


def new_cl_ord_id() -> str:
    """A client order id Kraken accepts: a short UUID (32 hex characters)."""
    return uuid.uuid4().hex


TXID: Final = re.compile(r"^[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{6}$")
"""Kraken's order and trade ids (``OQCLML-BW3P3-BUCMWZ``). An order placed without a ``cl_ord_id`` (on the
website, by another client) goes by its txid as its client order id: 19 characters with dashes can be
none of the three ``cl_ord_id`` forms, so the two never collide."""


def is_txid(value: str) -> bool:
    return bool(TXID.fullmatch(value))


def cl_ord_id_for(client_order_id: str) -> str:
    if not is_valid_cl_ord_id(client_order_id):
        raise InvalidOrder(f"Kraken cl_ord_id {client_order_id!r} must be a UUID (36 chars with dashes), a short UUID "
                           "(32 hex chars) or free text of at most 18 printable characters", venue=VENUE,
                           filter="CLIENT_ORDER_ID", client_order_id=client_order_id)
    return client_order_id


def order_deadline(venue_now: datetime, seconds: float) -> datetime:
    """AddOrder's ``deadline``, ``seconds`` after the venue's clock (within Kraken's accepted range)."""
    if not ORDER_DEADLINE_MIN_S <= seconds <= ORDER_DEADLINE_MAX_S:
        raise ValueError(f"deadline must be {ORDER_DEADLINE_MIN_S}..{ORDER_DEADLINE_MAX_S} s ahead, got {seconds}")
    return venue_now + timedelta(seconds=seconds)


def _check_lot(quantity: Decimal, instrument: Instrument, client_order_id: str) -> None:
    if quantity <= 0 or quantity % instrument.lot_size:
        raise InvalidOrder(f"quantity {quantity} is not a positive multiple of {instrument.lot_size} "
                           f"({instrument.symbol} lot_decimals)", venue=VENUE, filter="LOT_SIZE",
                           client_order_id=client_order_id)


def _leverage_param(request: OrderRequest, instrument: Instrument, client_order_id: str) -> str | None:
    if request.margin_mode is MarginMode.ISOLATED:
        raise NotSupported("Kraken margin is cross-collateral: no isolated margin", venue=VENUE,
                           client_order_id=client_order_id)
    leverage = request.leverage
    if leverage is None or leverage == ONE:
        if request.margin_mode is MarginMode.CROSS:
            raise InvalidOrder("a margin order needs a leverage from the pair's list", venue=VENUE, filter="LEVERAGE",
                               client_order_id=client_order_id)
        return None
    if request.margin_mode is MarginMode.CASH:
        raise InvalidOrder("margin_mode cash (spot) and a leverage contradict each other", venue=VENUE,
                           filter="LEVERAGE", client_order_id=client_order_id)
    levels = instrument.leverage_buy if request.side is Side.BUY else instrument.leverage_sell
    if leverage.normalize() not in levels:
        offered = ", ".join(plain(level) for level in levels) or "none"
        raise InvalidOrder(f"{instrument.symbol} {request.side.value} offers leverage {offered}, not {plain(leverage)}",
                           venue=VENUE, filter="LEVERAGE", client_order_id=client_order_id)
    return plain(leverage)


def _refuse_unsupported(request: OrderRequest, client_order_id: str) -> None:
    unsupported = []
    if request.notional is not None:
        unsupported.append("notional orders")
    if request.extended_hours:
        unsupported.append("extended hours")
    if request.order_class is not OrderClass.SIMPLE or request.take_profit_price is not None \
            or request.stop_loss_price is not None or request.stop_loss_limit_price is not None:
        unsupported.append("linked orders (brackets, OCO, OTO)")
    if request.time_in_force in (TimeInForce.DAY, TimeInForce.OPG, TimeInForce.CLS):
        unsupported.append(f"time in force {request.time_in_force.value}")
    if unsupported:
        raise NotSupported(f"Kraken spot does not take {', '.join(unsupported)} here", venue=VENUE,
                           client_order_id=client_order_id)


def add_order_body(request: OrderRequest, entry: PairEntry, *, deadline: datetime | None = None,
                   validate: bool = False) -> dict[str, FormValue]:
    """AddOrder parameters for ``request`` (its ``client_order_id`` must be set and Kraken-shaped)."""
    if request.client_order_id is None:
        raise InvalidOrder("the order has no client order id (the broker assigns one before sending)", venue=VENUE,
                           filter="CLIENT_ORDER_ID")
    cid = cl_ord_id_for(request.client_order_id)
    instrument = entry.instrument
    _refuse_unsupported(request, cid)
    _check_lot(request.quantity, instrument, cid)
    body: dict[str, FormValue] = {
        "ordertype": ORDER_TYPE_TO_VENUE[request.type],
        "type": SIDE_TO_VENUE[request.side],
        "volume": plain(request.quantity),
        "pair": entry.altname,
        "cl_ord_id": cid,
    }
    needs_price = request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    if needs_price and request.price is None:
        raise InvalidOrder(f"a {request.type.value} order needs a price", venue=VENUE, filter="PRICE_FILTER",
                           client_order_id=cid)
    if request.type is OrderType.LIMIT:
        body["price"] = plain(request.price)  # type: ignore[arg-type]  # checked above
    elif request.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
        if request.stop_price is None:
            raise InvalidOrder("a stop order needs a stop price", venue=VENUE, filter="PRICE_FILTER",
                               client_order_id=cid)
        body["price"] = plain(request.stop_price)  # the trigger
        if request.type is OrderType.STOP_LIMIT:
            body["price2"] = plain(request.price)  # type: ignore[arg-type]  # the limit, checked above
    elif request.type is OrderType.TRAILING_STOP:
        if (request.trail_price is None) == (request.trail_percent is None):
            raise InvalidOrder("a trailing stop needs exactly one of trail_price and trail_percent", venue=VENUE,
                               filter="PRICE_FILTER", client_order_id=cid)
        body["price"] = ("+" + plain(request.trail_price) if request.trail_price is not None
                         else "+" + plain(request.trail_percent) + "%")  # type: ignore[arg-type]
    if request.time_in_force is TimeInForce.POST_ONLY:
        if request.type is not OrderType.LIMIT:
            raise InvalidOrder("post-only applies to limit orders", venue=VENUE, filter="TIME_IN_FORCE",
                               client_order_id=cid)
        body["oflags"] = POST_ONLY_FLAG
    elif request.time_in_force in TIF_TO_VENUE:
        body["timeinforce"] = TIF_TO_VENUE[request.time_in_force]
    leverage = _leverage_param(request, instrument, cid)
    if leverage is not None:
        body["leverage"] = leverage
    if request.reduce_only:
        if leverage is None:  # Kraken's reduce_only only reduces a margin position
            raise NotSupported("Kraken takes reduce-only on margin orders only (give the order a leverage)",
                               venue=VENUE, client_order_id=cid)
        body["reduce_only"] = True
    if deadline is not None:
        body["deadline"] = rfc3339(deadline)
    if validate:
        body["validate"] = True
    return body


def cancel_order_body(*, order_id: str | None = None, client_order_id: str | None = None) -> dict[str, FormValue]:
    """CancelOrder: by txid when known, else by ``cl_ord_id``."""
    if order_id:
        return {"txid": order_id}
    if client_order_id:
        return {"cl_ord_id": cl_ord_id_for(client_order_id)}
    raise InvalidOrder("cancel needs an order id or a client order id", venue=VENUE)


def lookup_by_client_id(client_order_id: str) -> dict[str, FormValue]:
    """OpenOrders / ClosedOrders filter for one client order id (QueryOrders cannot filter by it)."""
    return {"cl_ord_id": cl_ord_id_for(client_order_id)}


def next_offset(ofs: int, received: int, count: int) -> int | None:
    """Paging by ``ofs`` (ClosedOrders, TradesHistory): the next offset, or None when done."""
    following = ofs + received
    return following if received and following < count else None


# --- orders and fills --------------------------------------------------------------------------------------------


def _order_prices(descr: s.OrderDescription, order_type: OrderType) -> tuple[Decimal | None, Decimal | None]:
    """(limit price, stop price) from an order description."""
    if order_type is OrderType.LIMIT:
        return descr.price or None, None
    if order_type is OrderType.STOP_LIMIT:
        return descr.price2 or None, descr.price or None
    if order_type is OrderType.STOP_MARKET:
        return None, descr.price or None
    return None, None


def order_from(txid: str, info: s.OrderInfo, entry: PairEntry) -> Order:
    """A REST order row (OpenOrders / ClosedOrders / QueryOrders) -> Order.

    ``closed`` means fully executed; a closed order with volume left (a market order that ran out of
    book) reads as cancelled with what it filled.
    """
    status = _lookup(ORDER_STATUS, info.status, "order status")
    if status is OrderStatus.NEW and info.vol_exec > 0:
        status = OrderStatus.PARTIALLY_FILLED
    if status is OrderStatus.FILLED and info.vol_exec < info.vol:
        status = OrderStatus.CANCELED
    order_type = order_type_from(info.descr.ordertype)
    price, stop = _order_prices(info.descr, order_type)
    average = info.price if info.price > 0 else (info.cost / info.vol_exec if info.vol_exec > 0 else None)
    flags = set(info.oflags.split(",")) if info.oflags else set()
    created = from_seconds(info.opentm)
    return Order(
        venue=VENUE,
        symbol=entry.symbol,
        order_id=txid,
        client_order_id=info.cl_ord_id or txid,
        side=side_from(info.descr.type),
        type=order_type,
        status=status,
        quantity=info.vol,
        price=price,
        stop_price=stop,
        filled_quantity=info.vol_exec,
        average_price=average if info.vol_exec > 0 else None,
        time_in_force=TimeInForce.POST_ONLY if POST_ONLY_FLAG in flags else TimeInForce.GTC,
        created_at=created,
        updated_at=from_seconds(info.closetm) if info.closetm else created,
        leverage=leverage_from(info.descr.leverage),
        reject_reason=info.reason if status in (OrderStatus.CANCELED, OrderStatus.EXPIRED,
                                                OrderStatus.REJECTED) else None,
    )


def fill_from_trade(trade_txid: str, trade: s.TradeInfo, entry: PairEntry, client_order_id: str | None = None) -> Fill:
    """A TradesHistory / QueryTrades row -> Fill. Kraken states the REST ``fee`` in the quote currency; the
    row names its order by txid only: the caller supplies its client order id (else the txid stands in)."""
    return Fill(
        venue=VENUE, symbol=entry.symbol, order_id=trade.ordertxid,
        client_order_id=client_order_id or trade.ordertxid,
        trade_id=trade_txid, side=side_from(trade.type), price=trade.price, quantity=trade.vol, fee=trade.fee,
        fee_currency=entry.instrument.quote, is_maker=bool(trade.maker), timestamp=from_seconds(trade.time),
    )


def is_fill(execution: s.WsExecution) -> bool:
    return execution.exec_type == "trade"


def fill_from_execution(execution: s.WsExecution, entry: PairEntry, assets: AssetTable) -> Fill:
    """An ``executions`` report of ``exec_type`` trade -> Fill (``exec_id`` is the trade txid REST uses)."""
    if not is_fill(execution):
        raise ValueError(f"execution of order {execution.order_id} is a {execution.exec_type}, not a trade")
    if execution.exec_id is None or execution.last_qty is None or execution.last_price is None \
            or execution.side is None:
        raise ProtocolViolation(f"Kraken trade report for {execution.order_id} lacks exec_id/last_qty/last_price/side",
                                venue=VENUE)
    fees = execution.fees or []
    currencies = {fee.asset for fee in fees}
    if len(currencies) > 1:
        raise ProtocolViolation(f"Kraken trade {execution.exec_id} charged fees in several assets {currencies}",
                                venue=VENUE)
    return Fill(
        venue=VENUE, symbol=entry.symbol, order_id=execution.order_id,
        client_order_id=execution.cl_ord_id or execution.order_id,
        trade_id=execution.exec_id, side=side_from(execution.side), price=execution.last_price,
        quantity=execution.last_qty, fee=sum((fee.qty for fee in fees), ZERO),
        fee_currency=assets.currency_lenient(fees[0].asset) if fees else entry.instrument.quote,
        is_maker=execution.liquidity_ind == "m", timestamp=parse_time(execution.timestamp),
        order_filled_quantity=execution.cum_qty,
    )


def order_from_execution(execution: s.WsExecution, entry: PairEntry, known: Order | None = None) -> Order | None:
    """An ``executions`` report -> the order as it now stands, on top of what was ``known`` of it.

    Reports carry only what changed (a ``canceled`` report has no side or quantity); without a known
    order and without those fields there is nothing to build: None (look the order up by REST).
    """
    status = WS_ORDER_STATUS.get(execution.order_status) if execution.order_status else None
    if execution.order_status and status is None:
        raise ProtocolViolation(f"unknown Kraken order_status {execution.order_status!r}", venue=VENUE)
    when = parse_time(execution.timestamp)
    if known is None:
        if execution.side is None or execution.order_qty is None or execution.order_type is None or status is None:
            return None
        order_type = order_type_from(execution.order_type)
        stop = execution.stop_price or None
        return Order(
            venue=VENUE, symbol=entry.symbol, order_id=execution.order_id,
            client_order_id=execution.cl_ord_id or execution.order_id, side=side_from(execution.side),
            type=order_type,
            status=status, quantity=execution.order_qty,
            price=(execution.limit_price or None) if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
            stop_price=stop if order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) else None,
            filled_quantity=execution.cum_qty or ZERO, average_price=execution.avg_price or None,
            time_in_force=_ws_time_in_force(execution), reduce_only=bool(execution.reduce_only),
            created_at=when, updated_at=when,
            reject_reason=execution.reason if status in (OrderStatus.CANCELED, OrderStatus.EXPIRED) else None,
        )
    changes: dict[str, object] = {"updated_at": max(when, known.updated_at)}
    if status is not None:
        changes["status"] = status
    if execution.cum_qty is not None:
        changes["filled_quantity"] = max(execution.cum_qty, known.filled_quantity)
    if execution.avg_price:
        changes["average_price"] = execution.avg_price
    if execution.order_qty is not None:  # an amend
        changes["quantity"] = execution.order_qty
    if execution.limit_price and known.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        changes["price"] = execution.limit_price
    if execution.reason and status in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
        changes["reject_reason"] = execution.reason
    return _replace(known, changes)


def _replace(order: Order, changes: Mapping[str, object]) -> Order:
    return msgspec.structs.replace(order, **changes)


def _ws_time_in_force(execution: s.WsExecution) -> TimeInForce:
    if execution.post_only:
        return TimeInForce.POST_ONLY
    return TIF.get(execution.time_in_force or "GTC", TimeInForce.GTC)


# --- margin positions, balances, account ----------------------------------------------------------------------------

POSITION_SIDE = {"buy": PositionSide.LONG, "sell": PositionSide.SHORT}


def positions_from(rows: Mapping[str, s.OpenPosition], table: PairTable) -> list[Position]:
    """OpenPositions rows (``docalcs=true``) -> one Position per pair and side.

    Kraken keeps one row per opening trade; they add up: size = vol - vol_closed, cost basis = cost,
    margin, fees (opening fee + rollovers), unrealised P&L = ``net``, market value = ``value``. Entry
    price = cost / vol; mark = value / size; leverage = cost / margin (2 decimals).
    """
    groups: dict[tuple[str, PositionSide], list[s.OpenPosition]] = {}
    for row in rows.values():
        if row.posstatus != "open":
            continue
        side = _lookup(POSITION_SIDE, row.type, "position type")
        groups.setdefault((table.by_venue(row.pair).symbol, side), []).append(row)
    positions = []
    for (symbol, side), group in sorted(groups.items()):
        size = sum((row.vol - row.vol_closed for row in group), ZERO)
        volume = sum((row.vol for row in group), ZERO)
        cost = sum((row.cost for row in group), ZERO)
        margin = sum((row.margin for row in group), ZERO)
        values = [row.value for row in group]
        value = sum((v for v in values if v is not None), ZERO) if all(v is not None for v in values) else None
        nets = [row.net for row in group]
        net = sum((n for n in nets if n is not None), ZERO) if all(n is not None for n in nets) else ZERO
        positions.append(Position(
            venue=VENUE, symbol=symbol, market_type=MarketType.MARGIN, side=side if size > 0 else PositionSide.FLAT,
            quantity=size, entry_price=cost / volume if volume > 0 else None,
            mark_price=value / size if value is not None and size > 0 else None, unrealized_pnl=net,
            leverage=(cost / margin).quantize(Decimal("0.01")) if margin > 0 else ONE, margin_mode=MarginMode.CROSS,
            updated_at=max(from_seconds(row.time) for row in group), cost_basis=cost, market_value=value,
            margin=margin, fees=sum((row.fee for row in group), ZERO),
        ))
    return positions


def balances_from(rows: Mapping[str, s.BalanceExEntry], assets: AssetTable) -> list[Balance]:
    """BalanceEx -> spot balances: locked = ``hold_trade``, free = balance - hold. Suffixed balances
    (``DOT.S`` staked, ``.M``, ``.B`` ...) are Earn / opt-in holdings, not spendable: Earn reports them."""
    balances = []
    for code, row in rows.items():
        root, suffix = split_suffix(code)
        if suffix is not None:
            continue
        locked = min(max(row.hold_trade, ZERO), max(row.balance, ZERO))
        balances.append(Balance(venue=VENUE, currency=assets.currency_lenient(root), free=row.balance - locked,
                                locked=locked))
    return balances


def account_info_from(trade_balance: s.TradeBalance, balances: list[Balance], *, currency: str, now: datetime,
                      can_trade: bool = True, can_withdraw: bool = False, can_deposit: bool = False) -> AccountInfo:
    """TradeBalance (in ``currency``) -> AccountInfo: equity ``e``, margin used ``m``, free margin ``mf``,
    margin level ``ml`` (percent; None without positions), cash = trade balance ``tb``."""
    return AccountInfo(
        venue=VENUE, account_type="spot+margin", can_trade=can_trade, can_withdraw=can_withdraw,
        can_deposit=can_deposit, balances=balances, updated_at=now, currency=currency, cash=trade_balance.tb,
        equity=trade_balance.e, margin_used=trade_balance.m, free_margin=trade_balance.mf,
        margin_level=trade_balance.ml,
    )


MARGIN_CALL_LEVEL = 80  # AssetPairs "margin_call" / "margin_stop" as published for every margin pair
LIQUIDATION_LEVEL = 40


def margin_alert_from(trade_balance: s.TradeBalance, *, now: datetime, warning_level: Decimal = Decimal(150),
                      margin_call_level: int = MARGIN_CALL_LEVEL,
                      liquidation_level: int = LIQUIDATION_LEVEL) -> MarginAlert | None:
    """The margin level ``ml`` against Kraken's call (80%) and liquidation (40%) levels; None when fine."""
    level = trade_balance.ml
    if level is None or trade_balance.m <= 0:
        return None
    if level <= liquidation_level:
        kind, words = MarginAlertLevel.LIQUIDATION, f"at or below the liquidation level {liquidation_level}%"
    elif level <= margin_call_level:
        kind, words = MarginAlertLevel.MARGIN_CALL, f"at or below the margin call level {margin_call_level}%"
    elif level <= warning_level:
        kind, words = MarginAlertLevel.WARNING, f"approaching the margin call level {margin_call_level}%"
    else:
        return None
    return MarginAlert(venue=VENUE, level=kind, message=f"Kraken margin level {plain(level)}% is {words}",
                       margin_level=level, timestamp=now)


def liquidation_alert_from(execution: s.WsExecution, entry: PairEntry) -> MarginAlert | None:
    """An execution report of an order the engine liquidated -> a LIQUIDATION alert."""
    if not execution.liquidated:
        return None
    return MarginAlert(venue=VENUE, level=MarginAlertLevel.LIQUIDATION, symbol=entry.symbol,
                       message=f"Kraken liquidated order {execution.order_id} on {entry.symbol}",
                       timestamp=parse_time(execution.timestamp))


def leverage_info_from(entry: PairEntry) -> LeverageInfo:
    """Kraken sets leverage per order, from the pair's lists; there is no per-symbol setting (1 = spot)."""
    instrument = entry.instrument
    margin = bool(instrument.leverage_buy or instrument.leverage_sell)
    return LeverageInfo(venue=VENUE, symbol=instrument.symbol, leverage=ONE, max_leverage=instrument.max_leverage,
                        margin_mode=MarginMode.CROSS if margin else MarginMode.CASH,
                        levels_buy=instrument.leverage_buy, levels_sell=instrument.leverage_sell)


# --- market data ------------------------------------------------------------------------------------------------------


def ticker_from_rest(info: s.TickerInfo, entry: PairEntry, now: datetime) -> Ticker:
    """Ticker: last = c[0]; best bid/ask = b[0]/a[0] with their lot volumes b[2]/a[2]."""
    return Ticker(venue=VENUE, symbol=entry.symbol, last=info.c[0], bid=info.b[0], ask=info.a[0], bid_size=info.b[2],
                  ask_size=info.a[2], timestamp=now)


def ticker_from_ws(ticker: s.WsTicker, entry: PairEntry, now: datetime) -> Ticker:
    return Ticker(venue=VENUE, symbol=entry.symbol, last=ticker.last, bid=ticker.bid, ask=ticker.ask,
                  bid_size=ticker.bid_qty, ask_size=ticker.ask_qty,
                  timestamp=parse_time(ticker.timestamp) if ticker.timestamp else now)


def trade_from_ws(trade: s.WsTrade, entry: PairEntry) -> Trade:
    return Trade(venue=VENUE, symbol=entry.symbol, trade_id=str(trade.trade_id), price=trade.price, quantity=trade.qty,
                 taker_side=side_from(trade.side), timestamp=parse_time(trade.timestamp))


def trades_from_rows(rows: Iterable[s.TradeRow], entry: PairEntry) -> list[Trade]:
    """Recent trades rows [price, volume, time, b|s, m|l, misc, trade_id]; b|s is the taker's side."""
    taker = {"b": Side.BUY, "s": Side.SELL}
    return [Trade(venue=VENUE, symbol=entry.symbol, trade_id=str(trade_id), price=price, quantity=volume,
                  taker_side=_lookup(taker, side, "trade side"), timestamp=from_seconds(time))
            for price, volume, time, side, _kind, _misc, trade_id in rows]


def venue_interval(interval: str) -> int:
    """Unified interval (``1m``, ``1h``, ``1d`` ...) -> Kraken minutes."""
    if interval in OHLC_INTERVALS:
        return OHLC_INTERVALS[interval]
    raise InvalidOrder(f"Kraken has no {interval!r} candles; use one of {sorted(OHLC_INTERVALS)}", venue=VENUE,
                       filter="INTERVAL")


def candles_from_rows(rows: Iterable[s.OhlcRow], entry: PairEntry, interval: str, *, now: datetime) -> list[Candle]:
    """OHLC rows (oldest first; the last one still open) -> Candles; closed once their end has passed."""
    minutes = venue_interval(interval)
    candles = []
    for start, open_, high, low, close, _vwap, volume, _count in rows:
        opened = from_seconds(start)
        candles.append(Candle(venue=VENUE, symbol=entry.symbol, interval=interval, open_time=opened, open=open_,
                              high=high, low=low, close=close, volume=volume,
                              closed=opened + timedelta(minutes=minutes) <= now))
    return candles


def candle_from_ws(candle: s.WsOhlc, entry: PairEntry) -> Candle:
    """A streamed ``ohlc`` candle: Kraken sends the current interval's running values (never marked closed)."""
    interval = OHLC_INTERVALS_FROM_VENUE.get(candle.interval)
    if interval is None:
        raise ProtocolViolation(f"Kraken sent an ohlc interval of {candle.interval} minutes", venue=VENUE)
    return Candle(venue=VENUE, symbol=entry.symbol, interval=interval, open_time=parse_time(candle.interval_begin),
                  open=candle.open, high=candle.high, low=candle.low, close=candle.close, volume=candle.volume,
                  closed=False)


# --- Earn ---------------------------------------------------------------------------------------------------------------

EARN_LOCK_TYPE = {"flex": EarnLockType.FLEXIBLE, "bonded": EarnLockType.BONDED, "timed": EarnLockType.TIMED,
                  "instant": EarnLockType.INSTANT}
_DAY_S = 86_400


def _days(seconds: int | None) -> int | None:
    return None if seconds is None else -(-seconds // _DAY_S)  # whole days, rounded up


EARN_MINIMUM_CURRENCY = "USD"
"""Kraken states a strategy's ``user_min_allocation`` in US dollars, whatever the strategy's asset."""


def earn_strategy_from(strategy: s.EarnStrategy, assets: AssetTable) -> EarnStrategy:
    """An Earn strategy: lock type, APR estimate (percent), the user minimum (in USD), and the lock in days
    (bonded: unbonding period; timed: the term)."""
    lock = _lookup(EARN_LOCK_TYPE, strategy.lock_type.type, "Earn lock type")
    if lock is EarnLockType.BONDED:
        lock_days = _days(strategy.lock_type.unbonding_period)
    elif lock is EarnLockType.TIMED:
        lock_days = _days(strategy.lock_type.duration)
    else:
        lock_days = None
    apr = strategy.apr_estimate
    return EarnStrategy(
        venue=VENUE, strategy_id=strategy.id, asset=assets.currency_lenient(strategy.asset), lock_type=lock,
        apr_min=apr.low if apr else None, apr_max=apr.high if apr else None,
        min_amount=strategy.user_min_allocation or ZERO, min_amount_currency=EARN_MINIMUM_CURRENCY,
        can_allocate=strategy.can_allocate,
        can_deallocate=strategy.can_deallocate, lock_days=lock_days,
    )


def earn_allocation_from(item: s.EarnAllocationItem, assets: AssetTable, *, now: datetime) -> EarnAllocation:
    """An Earn allocation: amount = ``total``; pending = being allocated (``pending`` + ``bonding``) minus
    being deallocated (``unbonding`` + ``exit_queue``); rewards = ``total_rewarded`` (native)."""
    allocated = item.amount_allocated

    def native(amount: s.EarnAmount | None) -> Decimal:
        return amount.native if amount is not None else ZERO

    pending = native(allocated.pending) + native(allocated.bonding) - native(allocated.unbonding) \
        - native(allocated.exit_queue)
    total = allocated.total.native
    status = EarnStatus.PENDING if pending != 0 else EarnStatus.ALLOCATED if total > 0 else EarnStatus.DEALLOCATED
    return EarnAllocation(venue=VENUE, strategy_id=item.strategy_id, asset=assets.currency_lenient(item.native_asset),
                          amount=total, pending=pending, rewards=item.total_rewarded.native, status=status,
                          updated_at=now)
