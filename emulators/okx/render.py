"""OKX's JSON, printed from the engine's records: the envelopes, instruments, tickers, books, candles,
trades, funding, orders, fills, positions and the trading account's balance.

Every number is a string (book seqIds and a few websocket fields are integers, as OKX sends them), plain
decimals without trailing zeros, computed values rounded to 12 places. Swap sizes are contracts (`contracts`),
spot sizes the base coin. Ids (ordId, tradeId, billId, posId) and book counters belong to the dialect.
"""

from __future__ import annotations

import json
import time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from emulators.engine import EFill, EOrder, EPosition, InstrumentSpec, PublicTrade, SymbolState, wall_ms
from emulators.engine.candles import Bar
from emulators.engine.errors import VenueError
from emulators.engine.model import Levels
from emulators.okx.contracts import contract_of

if TYPE_CHECKING:
    from emulators.okx.dialect import OkxDialect

D = Decimal
Json = dict[str, Any]
ALL_FAILED, SOME_FAILED = "All operations failed", "Bulk operation partially succeeded"


def num(value: Decimal | None, places: int = 12) -> str:
    """A plain decimal string ("" for None); values finer than ``places`` are rounded."""
    if value is None:
        return ""
    if value.as_tuple().exponent < -places:  # type: ignore[operator]
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def inst_type(spec: InstrumentSpec) -> str:
    return "SPOT" if spec.kind == "spot" else "SWAP"


def family(spec: InstrumentSpec) -> str:
    """The instrument family / underlying ("BTC-USDT" for BTC-USDT-SWAP); "" for spot."""
    return "" if spec.kind == "spot" else f"{spec.base}-{spec.quote}"


def size(spec: InstrumentSpec, quantity: Decimal) -> str:
    """An engine quantity as OKX counts it: contracts for swaps, the base coin for spot."""
    return num(contract_of(spec).to_contracts(quantity))


# ---------------------------------------------------------------------- envelopes
def micros() -> str:
    return str(time.time_ns() // 1000)


def envelope(data: list[Any], *, times: bool = False, code: str = "0", msg: str = "") -> bytes:
    body: Json = {"code": code, "msg": msg, "data": data}
    if times:  # order endpoints add the gateway's receive and send times (microseconds)
        body["inTime"] = body["outTime"] = micros()
    return json.dumps(body).encode()


def error_body(error: VenueError) -> bytes:
    return json.dumps({"code": str(error.code), "msg": error.message, "data": []}).encode()


def items(results: list[Json]) -> bytes:
    """Per-item results: code "0" when all succeeded, "1" when all failed, "2" when some did."""
    failed = sum(1 for item in results if item["sCode"] != "0")
    code, msg = ("0", "") if not failed else ("1", ALL_FAILED) if failed == len(results) else ("2", SOME_FAILED)
    return envelope(results, times=True, code=code, msg=msg)


# ---------------------------------------------------------------------- instruments and market data
def instrument(spec: InstrumentSpec, code: int) -> Json:
    contract = contract_of(spec)
    swap = spec.kind != "spot"
    return {
        "alias": "", "auctionEndTime": "", "baseCcy": "" if swap else spec.base, "category": "1",
        "contTdSwTime": "", "ctMult": num(contract.ct_mult) if swap else "",
        "ctType": spec.kind if swap else "", "ctVal": num(contract.ct_val) if swap else "",
        "ctValCcy": contract.ct_val_ccy if swap else "", "expTime": "", "futureSettlement": False,
        "groupId": ("1" if spec.kind == "inverse" else "2") if swap else "1", "instFamily": family(spec),
        "instId": spec.symbol, "instIdCode": code, "instType": inst_type(spec),
        "lever": num(spec.max_leverage) if swap else "10", "listTime": "1606468572000",
        "lotSz": num(contract.lot), "maxIcebergSz": num(contract.max_limit), "maxLmtAmt": "20000000",
        "maxLmtSz": num(contract.max_limit), "maxMktAmt": "" if swap else "1000000",
        "maxMktSz": num(contract.max_market), "maxStopSz": num(contract.max_market),
        "maxTriggerSz": num(contract.max_limit), "maxTwapSz": num(contract.max_limit),
        "minSz": num(contract.min_size), "openType": "" if swap else "fix_price", "optType": "",
        "preMktSwTime": "", "quoteCcy": "" if swap else spec.quote, "ruleType": "normal",
        "settleCcy": spec.settle if swap else "", "state": "live", "stk": "", "tickSz": num(spec.tick_size),
        "tradeQuoteCcyList": [] if swap else [spec.quote], "uly": family(spec), "upcChg": [],
    }


def top(state: SymbolState) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    """The best bid and ask that still have size (a taker may have emptied a level until the next tick)."""
    bids = [level for level in state.book.bids if level[1] > 0] or [(state.book.bids[0][0], D(0))]
    asks = [level for level in state.book.asks if level[1] > 0] or [(state.book.asks[0][0], D(0))]
    return bids[0], asks[0]


def volumes(spec: InstrumentSpec, volume: Decimal, quote_volume: Decimal) -> tuple[str, str, str]:
    """(vol, volCcy, volCcyQuote) from the engine's volume and value: contracts / base coin / quote for swaps
    (inverse: the engine's value is the coin, its volume USD), base / quote / quote for spot."""
    if spec.kind == "spot":
        return num(volume), num(quote_volume), num(quote_volume)
    contracts = size(spec, volume)
    if spec.kind == "inverse":
        return contracts, num(quote_volume), num(volume)
    return contracts, num(volume), num(quote_volume)


def ticker(state: SymbolState) -> Json:
    spec = state.spec
    last = state.trades[-1] if state.trades else None
    (bid, bid_size), (ask, ask_size) = top(state)
    day = state.candles[-1440:]
    vol, vol_ccy, _ = volumes(spec, state.volume_24h, state.quote_volume_24h)
    return {
        "instType": inst_type(spec), "instId": spec.symbol, "last": num(last.price if last else state.mid),
        "lastSz": size(spec, last.quantity) if last else "0", "askPx": num(ask), "askSz": size(spec, ask_size),
        "bidPx": num(bid), "bidSz": size(spec, bid_size), "open24h": num(state.open_24h),
        "high24h": num(state.high_24h), "low24h": num(state.low_24h), "volCcy24h": vol_ccy, "vol24h": vol,
        "sodUtc0": num(day[0].open), "sodUtc8": num(day[0].open), "ts": str(wall_ms()),
    }


def levels(spec: InstrumentSpec, book_side: Levels) -> list[list[str]]:
    return [[num(price), size(spec, quantity), "0", "1" if quantity else "0"] for price, quantity in book_side]


def book_side(state: SymbolState, depth: int) -> tuple[list[list[str]], list[list[str]]]:
    bids = levels(state.spec, [level for level in state.book.bids if level[1] > 0][:depth])
    asks = levels(state.spec, [level for level in state.book.asks if level[1] > 0][:depth])
    return bids, asks


def candle(spec: InstrumentSpec, bar: Bar, *, confirmed: bool) -> list[str]:
    vol, vol_ccy, vol_quote = volumes(spec, bar.volume, bar.quote_volume)
    return [str(bar.open_ms), num(bar.open), num(bar.high), num(bar.low), num(bar.close), vol, vol_ccy, vol_quote,
            "1" if confirmed else "0"]


def trade_id(trade_id: int) -> str:
    return str(100_000_000 + trade_id)


def public_trade(spec: InstrumentSpec, trade: PublicTrade) -> Json:
    return {"instId": spec.symbol, "side": "sell" if trade.buyer_is_maker else "buy", "sz": size(spec, trade.quantity),
            "px": num(trade.price), "source": "0", "tradeId": trade_id(trade.trade_id), "ts": str(trade.time_ms)}


# ---------------------------------------------------------------------- orders and fills
ORD_TYPES = {"MARKET": "market", "LIMIT_MAKER": "post_only"}


def state_of(order: EOrder) -> str:
    return {"NEW": "live", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled"}.get(order.status, "canceled")


def cancel_source(order: EOrder) -> tuple[str, str]:
    """(cancelSource, cancelSourceReason) of a cancelled order (best effort on OKX's codes)."""
    if order.status == "EXPIRED":
        if order.tif == "FOK":
            return "15", "Order canceled: FOK order was canceled due to incompletely filled"
        return "14", "Order canceled: IOC order was partially canceled due to incompletely filled"
    if order.status == "CANCELED":
        if order.reject_reason == "post_only":
            return "31", "Order canceled: The post-only order will take liquidity in maker orders"
        if order.reject_reason == "reduce_only":
            return "9", "Order canceled: Reduce-only order was canceled as the position was closed"
        return "1", "Order canceled by user"
    return "", ""


def fee_ccy(spec: InstrumentSpec, order: EOrder) -> str:
    if spec.is_derivative:
        return spec.settle
    return spec.base if order.side == "BUY" else spec.quote


def average(spec: InstrumentSpec, filled: Decimal, value: Decimal) -> Decimal | None:
    if not filled:
        return None
    return filled / value if spec.kind == "inverse" else value / filled


def order(d: OkxDialect, o: EOrder, fill: EFill | None = None, *, stream: bool = False) -> Json:
    """An order as GET /trade/order shows it; ``stream`` adds the orders channel's fields for ``fill``."""
    spec = d.exchange.symbols[o.symbol].spec
    swap = spec.is_derivative
    fills = d.fills_of_order(o)
    last = fill if stream else (fills[-1] if fills else None)
    meta = d.order_meta(o)
    by_quote = o.exact_quote and o.quote_quantity is not None
    ord_type = meta.get("ordType") or ORD_TYPES.get(o.kind, "limit")
    source, reason = cancel_source(o)
    body: Json = {
        "accFillSz": size(spec, o.filled), "algoClOrdId": "", "algoId": "", "attachAlgoClOrdId": "",
        "attachAlgoOrds": [], "avgPx": num(average(spec, o.filled, o.quote_filled)), "cTime": str(o.created_ms),
        "cancelSource": source, "cancelSourceReason": reason, "category": "normal",
        "ccy": "", "clOrdId": o.client_order_id,
        "fee": num(-sum((f.fee for f in fills), D(0))), "feeCcy": fee_ccy(spec, o),
        "fillPx": num(last.price) if last else "", "fillSz": size(spec, last.quantity) if last else "0",
        "fillTime": str(last.time_ms) if last else "", "instId": spec.symbol, "instType": inst_type(spec),
        "isTpLimit": "false", "lever": num(d.order_lever(o)) if swap else "", "linkedAlgoOrd": {"algoId": ""},
        "ordId": d.ord_id(o), "ordType": ord_type, "pnl": num(sum((f.closed_pnl for f in fills), D(0))),
        "posSide": "net" if swap else "", "px": num(o.price) if o.kind != "MARKET" else "", "pxType": "",
        "pxUsd": "", "pxVol": "", "quickMgnType": "", "rebate": "0", "rebateCcy": fee_ccy(spec, o),
        "reduceOnly": "true" if o.reduce_only else "false", "side": o.side.lower(), "slOrdPx": "",
        "slTriggerPx": "", "slTriggerPxType": "", "source": "", "state": state_of(o), "stpId": "",
        "stpMode": meta.get("stpMode") or "cancel_maker",
        "sz": num(o.quote_quantity) if by_quote else size(spec, o.quantity), "tag": meta.get("tag", ""),
        "tdMode": meta.get("tdMode") or ("cross" if swap else "cash"),
        "tgtCcy": ("quote_ccy" if by_quote else "base_ccy") if o.kind == "MARKET" and not swap else "",
        "tpOrdPx": "", "tpTriggerPx": "", "tpTriggerPxType": "", "tradeId": trade_id(last.trade_id) if last else "",
        "tradeQuoteCcy": "" if swap else spec.quote, "uTime": str(o.updated_ms),
    }
    if stream:
        mark = d.exchange.mark_price(o.symbol)
        body.update({
            "amendResult": meta.pop("amendResult", ""), "amendSource": "", "code": "0", "msg": "",
            "reqId": meta.pop("reqId", ""), "execType": ("M" if fill.is_maker else "T") if fill else "",
            "fillFee": num(-fill.fee) if fill else "0", "fillFeeCcy": fill.fee_asset if fill else "",
            "fillFwdPx": "", "fillIdxPx": "", "fillMarkPx": num(mark) if fill and swap else "",
            "fillMarkVol": "", "fillNotionalUsd": num(usd_value(d, spec, fill.quantity, fill.price)) if fill else "",
            "fillPnl": num(fill.closed_pnl) if fill else "0", "fillPxUsd": "", "fillPxVol": "",
            "lastPx": num(state_last(d, o.symbol)),
            "notionalUsd": num(usd_value(d, spec, o.quantity, o.price or mark)),
        })
        if not fill:
            body.update({"fillPx": "", "fillSz": "0", "fillTime": "", "tradeId": ""})
    return body


def state_last(d: OkxDialect, symbol: str) -> Decimal:
    state = d.exchange.symbols[symbol]
    return state.trades[-1].price if state.trades else state.mid


def usd_value(d: OkxDialect, spec: InstrumentSpec, quantity: Decimal, price: Decimal) -> Decimal:
    """What ``quantity`` is worth in USD (USDT counted at par; inverse quantities are USD already)."""
    if spec.kind == "inverse":
        return quantity
    return quantity * price * d.usd_price(spec.quote)


def fill(d: OkxDialect, f: EFill, bill: int) -> Json:
    spec = d.exchange.symbols[f.symbol].spec
    o = d.order_of(f)
    return {
        "instType": inst_type(spec), "instId": spec.symbol, "tradeId": trade_id(f.trade_id), "ordId": d.ord_id(o),
        "clOrdId": f.client_order_id, "billId": str(d.bill_id(bill)), "subType": "1" if f.side == "BUY" else "2",
        "tag": d.order_meta(o).get("tag", ""), "fillPx": num(f.price), "fillSz": size(spec, f.quantity),
        "fillIdxPx": "", "fillPnl": num(f.closed_pnl), "fillPxVol": "", "fillPxUsd": "", "fillMarkVol": "",
        "fillFwdPx": "", "fillMarkPx": num(f.price) if spec.is_derivative else "", "side": f.side.lower(),
        "posSide": "net" if spec.is_derivative else "", "execType": "M" if f.is_maker else "T",
        "feeCcy": f.fee_asset, "fee": num(-f.fee), "feeRate": num(-f.fee_rate), "ts": str(f.time_ms),
        "fillTime": str(f.time_ms), "tradeQuoteCcy": "" if spec.is_derivative else spec.quote,
    }


def item(o: EOrder | None, d: OkxDialect, *, cl_ord_id: str = "", ord_id: str = "", tag: str = "",
         code: str = "0", msg: str = "", sub_code: str = "", extra: Json | None = None) -> Json:
    """One per-item result of an order endpoint."""
    result: Json = {"clOrdId": o.client_order_id if o else cl_ord_id, "ordId": d.ord_id(o) if o else ord_id,
                    "tag": tag, "ts": str(wall_ms()), "sCode": code, "sMsg": msg, "subCode": sub_code}
    if extra:
        result.update(extra)
    return result


# ---------------------------------------------------------------------- positions and the account
def position(d: OkxDialect, account: str, pos: EPosition) -> Json:
    ex = d.exchange
    state = ex.symbols[pos.symbol]
    spec = state.spec
    mark = ex.mark_price(pos.symbol)
    signed = pos.size
    liq = ex.liquidation_price(pos)
    pnl, fee, funding = d.position_parts(account, pos)
    mode = d.margin_mode(account, spec.symbol)
    notional = usd_value(d, spec, abs(signed), mark)
    upl = ex.unrealised_pnl(pos)
    margin = pos.margin
    index = d.funding.index_price(state)
    return {
        "adl": "1" if signed else "", "availPos": "", "avgPx": num(pos.entry_price) if signed else "",
        "baseBal": "", "baseBorrowed": "", "baseInterest": "", "bePx": "", "bizRefId": "", "bizRefType": "",
        "cTime": str(pos.created_ms or pos.updated_ms or wall_ms()), "ccy": spec.settle, "clSpotInUseAmt": "",
        "closeOrderAlgo": [], "deltaBS": "", "deltaPA": "", "fee": num(fee), "fundingFee": num(funding),
        "gammaBS": "", "gammaPA": "", "hedgedPos": "", "idxPx": num(index), "imr": num(margin) if mode == "cross"
        else "", "instId": spec.symbol, "instType": inst_type(spec), "interest": "", "last": num(state_last(d, pos.symbol)),
        "lever": num(pos.leverage), "liab": "", "liabCcy": "", "liqPenalty": "0",
        "liqPx": num(liq) if liq is not None and liq > 0 else "", "margin": num(margin) if mode == "isolated" else "",
        "markPx": num(mark), "maxSpotInUseAmt": "", "mgnMode": mode,
        "mgnRatio": num((margin + upl) / ex.maintenance_margin(pos), 8) if signed and ex.maintenance_margin(pos) else "",
        "mmr": num(ex.maintenance_margin(pos)), "nonSettleAvgPx": "", "notionalUsd": num(notional), "optVal": "",
        "pTime": str(wall_ms()), "pendingCloseOrdLiabVal": "", "pnl": num(pnl), "pos": size(spec, signed),
        "posCcy": "", "posId": d.pos_id(account, pos.symbol), "posSide": "net", "quoteBal": "",
        "quoteBorrowed": "", "quoteInterest": "", "realizedPnl": num(pos.realised), "settledPnl": "",
        "spotInUseAmt": "", "spotInUseCcy": "", "thetaBS": "", "thetaPA": "",
        "tradeId": d.last_trade_id(account, pos.symbol), "uTime": str(pos.updated_ms or wall_ms()),
        "upl": num(upl), "uplLastPx": num(upl), "uplRatio": num(upl / margin, 8) if margin else "0",
        "uplRatioLastPx": num(upl / margin, 8) if margin else "0", "usdPx": num(d.usd_price(spec.settle)),
        "vegaBS": "", "vegaPA": "",
    }


def balance(d: OkxDialect, account: str, coins: list[str] | None = None) -> Json:
    """The trading account as GET /account/balance and the account channel show it (futures mode: each
    coin's equity is its balance plus the unrealised PnL of the swaps settled in it)."""
    ex = d.exchange
    positions = [p for p in ex.positions_of(account)]
    rows: list[Json] = []
    totals = {k: D(0) for k in ("eq", "imr", "mmr", "upl", "frozen", "iso")}
    now = str(wall_ms())
    for coin in sorted(set(ex.balances[account]) | set(coins or [])):
        if coins and coin not in coins:
            continue
        free, locked = ex.balance(account, coin)
        held = [p for p in positions if p.size and ex.symbols[p.symbol].spec.settle == coin]
        upl = sum((ex.unrealised_pnl(p) for p in held), D(0))
        margin = sum((p.margin for p in held), D(0))
        iso_margin = sum((p.margin for p in held if d.margin_mode(account, p.symbol) == "isolated"), D(0))
        orders = locked - margin
        if not coins and free + locked == 0 and not held:
            continue
        cash = free + locked
        eq = cash + upl
        usd = d.usd_price(coin)
        mmr = sum((ex.maintenance_margin(p) for p in held), D(0))
        totals["eq"] += eq * usd
        totals["imr"] += (margin + orders) * usd
        totals["mmr"] += mmr * usd
        totals["upl"] += upl * usd
        totals["frozen"] += locked * usd
        totals["iso"] += iso_margin * usd
        rows.append({
            "accAvgPx": "", "availBal": num(free), "availEq": num(free + min(upl, D(0))), "borrowFroz": "",
            "cashBal": num(cash), "ccy": coin, "clSpotInUseAmt": "", "colBorrAutoConversion": "0",
            "colRes": "0", "collateralEnabled": False, "crossLiab": "", "disEq": num(eq * usd), "eq": num(eq),
            "eqUsd": num(eq * usd), "fixedBal": "0", "frozenBal": num(locked), "imr": "",
            "interest": "", "isoEq": num(iso_margin), "isoLiab": "", "isoUpl": "", "liab": "", "maxLoan": "",
            "mgnRatio": "", "maxSpotInUse": "", "mmr": "", "notionalLever": "", "openAvgPx": "",
            "ordFrozen": num(orders), "rewardBal": "0", "smtSyncEq": "0", "spotBal": "", "spotCopyTradingEq": "0",
            "spotInUseAmt": "", "spotIsoBal": "0", "spotUpl": "", "spotUplRatio": "", "stgyEq": "0",
            "totalPnl": "", "totalPnlRatio": "", "twap": "0", "uTime": now, "upl": num(upl), "uplLiab": "",
        })
    return {
        "adjEq": "", "availEq": "", "borrowFroz": "", "delta": "", "deltaLever": "", "deltaNeutralStatus": "",
        "details": rows, "imr": num(totals["imr"]), "isoEq": num(totals["iso"]),
        "mgnRatio": num(totals["eq"] / totals["mmr"], 8) if totals["mmr"] else "",
        "mmr": num(totals["mmr"]), "notionalUsd": "", "notionalUsdForBorrow": "", "notionalUsdForFutures": "",
        "notionalUsdForOption": "", "notionalUsdForSwap": "", "ordFroz": "", "totalEq": num(totals["eq"]),
        "uTime": now, "upl": num(totals["upl"]),
    }
