"""Kraken's JSON, printed from the engine's records: the REST envelope and results, and the websocket v2 data.

REST: ``{"error": [], "result": ...}``; amounts are strings with Kraken's decimals -- prices with the pair's
``pair_decimals`` (public market data with at least 5, as Kraken prints them), volumes with ``lot_decimals``,
costs and fees with ``cost_decimals``, balances with the asset's ``decimals``; times are unix seconds.
Websocket v2: amounts are JSON *numbers* printed with the same full precision ("qty": 0.10000000) -- the book
checksum is computed from exactly that text -- so v2 messages are encoded with msgspec's decimal-as-number mode.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from emulators.engine import SymbolState
from emulators.engine.candles import Bar
from emulators.engine.errors import VenueError
from emulators.kraken.margin import Lot, TradeBalance
from emulators.kraken.orders import FillInfo, OrderInfo
from emulators.kraken.pairs import KrakenAsset, KrakenPair

if TYPE_CHECKING:
    from emulators.kraken.dialect import KrakenDialect

D = Decimal
Json = dict[str, Any]
_V2 = msgspec.json.Encoder(decimal_format="number")


def quantized(value: Decimal, places: int) -> Decimal:
    q = value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return abs(q) if q == 0 else q


def fixed(value: Decimal, places: int) -> str:
    return f"{quantized(value, places):f}"


def signed(value: Decimal, places: int) -> str:
    """Kraken prints a position's net with its sign: "+154186.9728"."""
    text = fixed(value, places)
    return text if text.startswith("-") else f"+{text}"


def public_price(pair: KrakenPair, value: Decimal) -> str:
    return fixed(value, max(pair.pair_decimals, 5))


def rfc3339(ms: float) -> str:
    """RFC3339 with microseconds, as v2 timestamps are printed."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339_seconds(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------- envelopes
def envelope(result: Any) -> bytes:
    return json.dumps({"error": [], "result": result}).encode()


def envelope_error(error: VenueError) -> bytes:
    return json.dumps({"error": [str(error.code)]}).encode()


def v2(message: Json) -> str:
    return _V2.encode(message).decode()


# ---------------------------------------------------------------------- public REST
def asset_info(asset: KrakenAsset) -> Json:
    return {"aclass": "currency", "altname": asset.altname, "decimals": asset.decimals,
            "display_decimals": asset.display_decimals, "collateral_value": float(asset.collateral_value),
            "status": "enabled"}


def pair_info(pair: KrakenPair, info: str) -> Json:
    """One `AssetPairs` entry; ``info`` narrows it (leverage, fees, margin) as Kraken does."""
    leverage = {"leverage_buy": list(pair.leverage_buy), "leverage_sell": list(pair.leverage_sell)}
    fees: Json = {"fees": [], "fees_maker": [], "fee_volume_currency": "ZUSD"}  # empty since 2026-09-08
    margin = {"margin_call": pair.margin_call, "margin_stop": pair.margin_stop}
    match info:
        case "leverage":
            return leverage
        case "fees":
            return fees
        case "margin":
            return {**margin, "margin_level": pair.margin_call}
    entry: Json = {
        "altname": pair.altname, "wsname": pair.wsname, "aclass_base": "currency", "base": pair.base,
        "aclass_quote": "currency", "quote": pair.quote, "lot": "unit", "cost_decimals": pair.cost_decimals,
        "pair_decimals": pair.pair_decimals, "lot_decimals": pair.lot_decimals, "lot_multiplier": 1, **leverage,
        **fees, **margin, "ordermin": f"{pair.ordermin:f}", "costmin": f"{pair.costmin:f}",
        "tick_size": f"{pair.tick_size:f}", "status": "online", "execution_venue": "international",
    }
    if pair.marginable:
        entry.update(long_position_limit=pair.long_position_limit, short_position_limit=pair.short_position_limit)
    return entry


def top(state: SymbolState) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    """The best bid and ask that still have size (a taker may have emptied a level until the next tick)."""
    bids = [level for level in state.book.bids if level[1] > 0] or [(state.book.bids[0][0], D(0))]
    asks = [level for level in state.book.asks if level[1] > 0] or [(state.book.asks[0][0], D(0))]
    return bids[0], asks[0]


def levels(state: SymbolState, side: str, depth: int) -> list[tuple[Decimal, Decimal]]:
    book = state.book.bids if side == "bids" else state.book.asks
    return [level for level in book if level[1] > 0][:depth]


def _window(candles: list[Any], since_ms: int) -> tuple[Decimal, Decimal, int, Decimal, Decimal]:
    """(volume, vwap, trades, low, high) of the candles opening at or after ``since_ms``."""
    chosen = [c for c in candles if c.open_ms >= since_ms] or candles[-1:]
    volume = sum((c.volume for c in chosen), D(0))
    quote = sum((c.quote_volume for c in chosen), D(0))
    return (volume, quote / volume if volume else chosen[-1].close, sum(c.trades for c in chosen),
            min(c.low for c in chosen), max(c.high for c in chosen))


def ticker(pair: KrakenPair, state: SymbolState, now_ms: int) -> Json:
    (bid, bid_size), (ask, ask_size) = top(state)
    last = state.trades[-1] if state.trades else None
    midnight = now_ms // 86_400_000 * 86_400_000
    today, day = _window(state.candles, midnight), _window(state.candles, now_ms - 86_400_000)
    opening = next((c.open for c in state.candles if c.open_ms >= midnight), state.candles[-1].open)
    lots = pair.lot_decimals
    return {
        "a": [public_price(pair, ask), str(int(ask_size)), fixed(ask_size, 3)],
        "b": [public_price(pair, bid), str(int(bid_size)), fixed(bid_size, 3)],
        "c": [public_price(pair, last.price if last else state.mid), fixed(last.quantity if last else D(0), lots)],
        "v": [fixed(today[0], lots), fixed(day[0], lots)],
        "p": [public_price(pair, today[1]), public_price(pair, day[1])],
        "t": [today[2], day[2]],
        "l": [public_price(pair, today[3]), public_price(pair, day[3])],
        "h": [public_price(pair, today[4]), public_price(pair, day[4])],
        "o": public_price(pair, opening),
    }


def ohlc_row(pair: KrakenPair, bar: Bar) -> list[Any]:
    places = pair.pair_decimals
    vwap = bar.quote_volume / bar.volume if bar.volume else bar.close
    return [bar.open_ms // 1000, fixed(bar.open, places), fixed(bar.high, places), fixed(bar.low, places),
            fixed(bar.close, places), fixed(vwap, places + 1), fixed(bar.volume, pair.lot_decimals), bar.trades]


def depth_side(pair: KrakenPair, book: list[tuple[Decimal, Decimal]], stamp: int) -> list[list[Any]]:
    return [[public_price(pair, price), fixed(size, pair.lot_decimals), stamp] for price, size in book]


# ---------------------------------------------------------------------- private REST
def order(d: KrakenDialect, info: OrderInfo, *, trades: bool = False) -> Json:
    o, pair, meta = info.order, info.pair, info.meta
    limit = o.price if o.price is not None else D(0)
    leverage = f"{meta.leverage}:1" if meta.leverage else "none"
    volume = o.quantity if o.quantity or o.quote_quantity is None else o.quote_quantity
    fee = d.order_fee_in_quote(info)
    text = f"{o.side.lower()} {fixed(volume, pair.lot_decimals)} {pair.altname} @ " + \
        (f"limit {fixed(limit, pair.pair_decimals)}" if meta.ordertype == "limit" else "market")
    if meta.leverage:
        text += f" with {meta.leverage}:1 leverage"
    row: Json = {
        "refid": None, "userref": meta.userref, "status": info.status, "opentm": info.opentm, "starttm": 0,
        "expiretm": 0,
        "descr": {"pair": pair.altname, "type": o.side.lower(), "ordertype": meta.ordertype,
                  "price": fixed(limit, pair.pair_decimals) if meta.ordertype == "limit" else "0",
                  "price2": "0", "leverage": leverage, "order": text, "close": ""},
        "vol": fixed(volume, pair.lot_decimals), "vol_exec": fixed(o.filled, pair.lot_decimals),
        "cost": fixed(o.quote_filled, pair.cost_decimals), "fee": fixed(fee, pair.cost_decimals),
        "price": fixed(o.quote_filled / o.filled, pair.pair_decimals) if o.filled else fixed(D(0), pair.cost_decimals),
        "stopprice": fixed(D(0), pair.cost_decimals), "limitprice": fixed(D(0), pair.cost_decimals),
        "misc": ",".join(misc_flags(info)), "oflags": ",".join(order_flags(info)),
    }
    if o.client_order_id:
        row["cl_ord_id"] = o.client_order_id
    if meta.leverage:
        row["margin"] = True
    if info.status != "open":
        row["reason"] = info.reason
        row["closetm"] = info.closetm
    if trades and info.trades:
        row["trades"] = list(info.trades)
    return row


def misc_flags(info: OrderInfo) -> list[str]:
    flags = []
    if info.order.filled and info.order.filled < info.order.quantity:
        flags.append("partial")
    if info.meta.liquidation:
        flags.append("liquidated")
    if info.amended:
        flags.append("amended")
    return flags


def order_flags(info: OrderInfo) -> list[str]:
    """The order's flags as Kraken prints them; the fee flag says where the engine took the fee (the asset the
    order receives: base on buys, quote on sells)."""
    flags = [f for f in info.meta.oflags if f in ("post", "viqc")]
    flags.append("fcib" if info.order.side == "BUY" and not info.meta.leverage else "fciq")
    return flags


def trade(d: KrakenDialect, record: FillInfo, *, with_trades: bool = False) -> Json:
    fill, info, pair = record.fill, record.info, record.info.pair
    wide = max(pair.pair_decimals, 5)
    row: Json = {
        "ordertxid": info.txid, "postxid": record.postxid, "pair": pair.key, "time": fill.time_ms / 1000,
        "type": fill.side.lower(), "ordertype": info.meta.ordertype, "price": fixed(fill.price, wide),
        "cost": fixed(fill.quote_quantity, pair.cost_decimals),
        "fee": fixed(d.fill_fee_in_quote(fill), pair.cost_decimals), "vol": fixed(fill.quantity, pair.lot_decimals),
        "margin": fixed(record.margin, pair.cost_decimals),
        "leverage": str(info.meta.leverage or 0), "misc": "closing" if record.closed else "",
        "trade_id": fill.trade_id, "maker": fill.is_maker,
    }
    lot = d.margin.lot(record.txid) if record.opened else None
    if lot is not None:
        places = pair.cost_decimals
        row.update(posstatus="open" if lot.open_vol > 0 else "closed",
                   cprice=fixed(lot.closed_cost / lot.vol_closed, wide) if lot.vol_closed else fixed(D(0), wide),
                   ccost=fixed(lot.closed_cost, places), cfee=fixed(lot.closed_fee, places),
                   cvol=fixed(lot.vol_closed, pair.lot_decimals), cmargin=fixed(lot.closed_margin, places),
                   net=fixed(lot.net, places))
        if with_trades:
            row["trades"] = list(lot.closing_trades)
    return row


def position(lot: Lot, mark: Decimal, *, docalcs: bool) -> Json:
    pair, places = lot.pair, lot.pair.cost_decimals
    row: Json = {
        "ordertxid": lot.ordertxid, "posstatus": "open", "pair": pair.key, "time": lot.time, "type": lot.side,
        "ordertype": lot.ordertype, "cost": fixed(lot.cost, places), "fee": fixed(lot.fee, places),
        "vol": fixed(lot.vol, pair.lot_decimals), "vol_closed": fixed(lot.vol_closed, pair.lot_decimals),
        "margin": fixed(lot.margin, places), "terms": "0.0000% per 4 hours",
        "rollovertm": str(int(lot.time) + 4 * 3600), "misc": "", "oflags": lot.oflags,
    }
    if docalcs:
        row["value"] = fixed(lot.open_vol * mark, max(pair.pair_decimals, 1))
        row["net"] = signed(lot.unrealised(mark), 4)
    return row


def consolidated(lots: list[Lot], mark: Decimal, *, docalcs: bool) -> Json:
    """One `OpenPositions` row per pair (``consolidation=market``)."""
    first, places = lots[0], lots[0].pair.cost_decimals
    pair = first.pair
    row: Json = {
        "pair": pair.key, "positions": str(len(lots)), "type": first.side, "leverage": f"{first.leverage:.5f}",
        "cost": fixed(sum((lot.cost for lot in lots), D(0)), places),
        "fee": fixed(sum((lot.fee for lot in lots), D(0)), places),
        "vol": fixed(sum((lot.vol for lot in lots), D(0)), pair.lot_decimals),
        "vol_closed": fixed(sum((lot.vol_closed for lot in lots), D(0)), pair.lot_decimals),
        "margin": fixed(sum((lot.margin for lot in lots), D(0)), places),
    }
    if docalcs:
        row["value"] = fixed(sum((lot.open_vol for lot in lots), D(0)) * mark, max(pair.pair_decimals, 1))
        row["net"] = signed(sum((lot.unrealised(mark) for lot in lots), D(0)), 4)
    return row


def trade_balance(balance: TradeBalance, places: int) -> Json:
    result = {name: fixed(getattr(balance, name), places) for name in ("eb", "tb", "m", "n", "c", "v", "e", "mf")}
    if balance.ml is not None:
        result["ml"] = fixed(balance.ml, 2)
    result["uv"] = fixed(balance.uv, places)
    return result


# ---------------------------------------------------------------------- websocket v2 data
def ws_number(value: Decimal, places: int) -> Decimal:
    return quantized(value, places)


def ws_levels(pair: KrakenPair, book: list[tuple[Decimal, Decimal]]) -> list[Json]:
    return [{"price": ws_number(price, pair.pair_decimals), "qty": ws_number(size, pair.lot_decimals)}
            for price, size in book]


def ws_ticker(pair: KrakenPair, state: SymbolState, now_ms: int) -> Json:
    (bid, bid_size), (ask, ask_size) = top(state)
    last = state.trades[-1].price if state.trades else state.mid
    volume, vwap, _, low, high = _window(state.candles, now_ms - 86_400_000)
    opening = state.open_24h or last
    change = last - opening
    p, lots = pair.pair_decimals, pair.lot_decimals
    return {"symbol": pair.symbol, "bid": ws_number(bid, p), "bid_qty": ws_number(bid_size, lots),
            "ask": ws_number(ask, p), "ask_qty": ws_number(ask_size, lots), "last": ws_number(last, p),
            "volume": ws_number(volume, lots), "vwap": ws_number(vwap, p), "low": ws_number(low, p),
            "high": ws_number(high, p), "change": ws_number(change, p),
            "change_pct": ws_number(change / opening * 100 if opening else D(0), 2)}


def ws_candle(pair: KrakenPair, bar: Bar, interval: int, now_ms: int) -> Json:
    p = pair.pair_decimals
    vwap = bar.quote_volume / bar.volume if bar.volume else bar.close
    return {"symbol": pair.symbol, "open": ws_number(bar.open, p), "high": ws_number(bar.high, p),
            "low": ws_number(bar.low, p), "close": ws_number(bar.close, p), "trades": bar.trades,
            "volume": ws_number(bar.volume, pair.lot_decimals), "vwap": ws_number(vwap, p + 1),
            "interval_begin": rfc3339(bar.open_ms), "interval": interval, "timestamp": rfc3339(now_ms)}
