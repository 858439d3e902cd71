"""Binance's JSON: REST answers and stream payloads, printed from the engine's records.

Decimals print with 8 places (`fmt`), times are epoch milliseconds, field names and order follow Binance's
spot API documentation. Nothing here decides anything; `routes` and `ws` choose what to print.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from emulators.engine import EFill, EOrder, InstrumentSpec, PublicTrade, SymbolState, wall_ms
from emulators.engine.candles import Bar
from emulators.engine.errors import VenueError
from emulators.engine.model import Levels

Json = dict[str, Any]
ZERO = Decimal(0)


def fmt(value: Decimal) -> str:
    """Binance prints decimals with 8 places."""
    return f"{value:.8f}"


def error_body(error: VenueError) -> bytes:
    return json.dumps({"code": error.code, "msg": error.message}).encode()


def levels(book_side: Levels) -> list[list[str]]:
    return [[fmt(price), fmt(size)] for price, size in book_side]


# ---------------------------------------------------------------------- market data
def symbol_info(spec: InstrumentSpec) -> Json:
    return {
        "symbol": spec.symbol, "status": "TRADING", "baseAsset": spec.base, "baseAssetPrecision": 8,
        "quoteAsset": spec.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True, "cancelReplaceAllowed": True, "amendAllowed": True,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fmt(spec.tick_size), "maxPrice": "1000000.00000000",
             "tickSize": fmt(spec.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": fmt(spec.min_qty), "maxQty": fmt(spec.max_qty),
             "stepSize": fmt(spec.step_size)},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": fmt(spec.max_qty),
             "stepSize": "0.00000000"},
            {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
             "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
            {"filterType": "NOTIONAL", "minNotional": fmt(spec.min_notional), "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def price_ticker(state: SymbolState) -> Json:
    return {"symbol": state.spec.symbol, "price": fmt(state.mid)}


def book_ticker(state: SymbolState) -> Json:
    (bid, bid_qty), (ask, ask_qty) = state.book.bids[0], state.book.asks[0]
    return {"symbol": state.spec.symbol, "bidPrice": fmt(bid), "bidQty": fmt(bid_qty), "askPrice": fmt(ask),
            "askQty": fmt(ask_qty)}


def ticker_24h(state: SymbolState) -> Json:
    (bid, bid_qty), (ask, ask_qty) = state.book.bids[0], state.book.asks[0]
    change = state.mid - state.open_24h
    now = wall_ms()
    last = state.trades[-1] if state.trades else None
    avg = state.quote_volume_24h / state.volume_24h if state.volume_24h else state.mid
    return {
        "symbol": state.spec.symbol, "priceChange": fmt(change),
        "priceChangePercent": f"{change / state.open_24h * 100:.3f}", "weightedAvgPrice": fmt(avg),
        "prevClosePrice": fmt(state.open_24h), "lastPrice": fmt(state.mid),
        "lastQty": fmt(last.quantity if last else ZERO), "bidPrice": fmt(bid), "bidQty": fmt(bid_qty),
        "askPrice": fmt(ask), "askQty": fmt(ask_qty), "openPrice": fmt(state.open_24h),
        "highPrice": fmt(state.high_24h), "lowPrice": fmt(state.low_24h), "volume": fmt(state.volume_24h),
        "quoteVolume": fmt(state.quote_volume_24h), "openTime": now - 86_400_000, "closeTime": now,
        "firstId": state.trades[0].trade_id if state.trades else -1,
        "lastId": last.trade_id if last else -1, "count": len(state.trades),
    }


def depth(state: SymbolState, limit: int) -> Json:
    book = state.book
    return {"lastUpdateId": book.update_id, "bids": levels([lv for lv in book.bids[:limit] if lv[1] > 0]),
            "asks": levels([lv for lv in book.asks[:limit] if lv[1] > 0])}


def trade(t: PublicTrade) -> Json:
    return {"id": t.trade_id, "price": fmt(t.price), "qty": fmt(t.quantity), "quoteQty": fmt(t.price * t.quantity),
            "time": t.time_ms, "isBuyerMaker": t.buyer_is_maker, "isBestMatch": True}


def kline(bar: Bar) -> list[Any]:
    """A kline row; the taker-buy volumes are half of each (the engine does not tell takers apart)."""
    return [bar.open_ms, fmt(bar.open), fmt(bar.high), fmt(bar.low), fmt(bar.close), fmt(bar.volume),
            bar.close_ms, fmt(bar.quote_volume), bar.trades, fmt(bar.volume / 2), fmt(bar.quote_volume / 2), "0"]


# ---------------------------------------------------------------------- account and orders
def account(balances: dict[str, list[Decimal]], uid: int, omit_zero: bool) -> Json:
    rows = [{"asset": asset, "free": fmt(free), "locked": fmt(locked)}
            for asset, (free, locked) in sorted(balances.items()) if not (omit_zero and not free and not locked)]
    return {
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000",
                            "seller": "0.00000000"},
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": wall_ms(),
        "accountType": "SPOT", "balances": rows, "permissions": ["SPOT"], "uid": uid,
    }


def order(o: EOrder) -> Json:
    return {
        "symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": o.client_order_id,
        "price": fmt(o.price or ZERO), "origQty": fmt(o.quantity), "executedQty": fmt(o.filled),
        "cummulativeQuoteQty": fmt(o.quote_filled), "status": o.status, "timeInForce": o.tif, "type": o.kind,
        "side": o.side, "stopPrice": "0.00000000", "icebergQty": "0.00000000", "time": o.created_ms,
        "updateTime": o.updated_ms, "isWorking": True, "workingTime": o.created_ms,
        "origQuoteOrderQty": fmt(o.quote_quantity or ZERO), "selfTradePreventionMode": "EXPIRE_MAKER",
    }


CANCEL_FIELDS = ("price", "origQty", "executedQty", "cummulativeQuoteQty", "status", "timeInForce", "type", "side",
                 "selfTradePreventionMode")
RESULT_FIELDS = {"price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty", "status",
                 "timeInForce", "type", "side", "workingTime", "selfTradePreventionMode"}


def cancelled(o: EOrder) -> Json:
    body = order(o)
    return {"symbol": o.symbol, "origClientOrderId": o.client_order_id, "orderId": o.order_id,
            "orderListId": -1, "clientOrderId": f"cancel{secrets.token_hex(6)}", "transactTime": wall_ms(),
            **{k: body[k] for k in CANCEL_FIELDS}}


def placed(o: EOrder, response_type: str, fills: list[EFill]) -> Json:
    """POST /api/v3/order's answer in the asked ``newOrderRespType``: ACK, RESULT or FULL (the default)."""
    ack = {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1,
           "clientOrderId": o.client_order_id, "transactTime": o.created_ms}
    if response_type == "ACK":
        return ack
    result = {**ack, **{k: v for k, v in order(o).items() if k in RESULT_FIELDS}}
    if response_type == "RESULT":
        return result
    result["fills"] = [{"price": fmt(f.price), "qty": fmt(f.quantity), "commission": fmt(f.fee),
                        "commissionAsset": f.fee_asset, "tradeId": f.trade_id} for f in fills]
    return result


def my_trade(f: EFill) -> Json:
    return {"symbol": f.symbol, "id": f.trade_id, "orderId": f.order_id, "orderListId": -1,
            "price": fmt(f.price), "qty": fmt(f.quantity), "quoteQty": fmt(f.quote_quantity),
            "commission": fmt(f.fee), "commissionAsset": f.fee_asset, "time": f.time_ms,
            "isBuyer": f.side == "BUY", "isMaker": f.is_maker, "isBestMatch": True}


# ---------------------------------------------------------------------- stream payloads
def trade_event(t: PublicTrade, now: int) -> Json:
    return {"e": "trade", "E": now, "s": t.symbol, "t": t.trade_id, "p": fmt(t.price), "q": fmt(t.quantity),
            "T": t.time_ms, "m": t.buyer_is_maker, "M": True}


def agg_trade_event(t: PublicTrade, now: int) -> Json:
    return {"e": "aggTrade", "E": now, "s": t.symbol, "a": t.trade_id, "p": fmt(t.price), "q": fmt(t.quantity),
            "f": t.trade_id, "l": t.trade_id, "T": t.time_ms, "m": t.buyer_is_maker, "M": True}


def book_ticker_event(state: SymbolState) -> Json:
    book = state.book
    return {"u": book.update_id, "s": state.spec.symbol, "b": fmt(book.bids[0][0]), "B": fmt(book.bids[0][1]),
            "a": fmt(book.asks[0][0]), "A": fmt(book.asks[0][1])}


def ticker_event(state: SymbolState, now: int) -> Json:
    t = ticker_24h(state)
    return {"e": "24hrTicker", "E": now, "s": state.spec.symbol, "p": t["priceChange"],
            "P": t["priceChangePercent"], "w": t["weightedAvgPrice"], "x": t["prevClosePrice"], "c": t["lastPrice"],
            "Q": t["lastQty"], "b": t["bidPrice"], "B": t["bidQty"], "a": t["askPrice"], "A": t["askQty"],
            "o": t["openPrice"], "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"],
            "O": t["openTime"], "C": t["closeTime"], "F": t["firstId"], "L": t["lastId"], "n": t["count"]}


def depth_update(state: SymbolState, bids: Levels, asks: Levels, now: int) -> Json:
    book = state.book
    return {"e": "depthUpdate", "E": now, "s": state.spec.symbol, "U": book.update_id, "u": book.update_id,
            "b": levels(bids), "a": levels(asks)}


def partial_depth(state: SymbolState, size: int) -> Json:
    book = state.book
    return {"lastUpdateId": book.update_id, "bids": levels(book.bids[:size]), "asks": levels(book.asks[:size])}


def kline_event(state: SymbolState, now: int) -> Json:
    candle = state.candles[-1]
    return {"e": "kline", "E": now, "s": state.spec.symbol, "k": {
        "t": candle.open_ms, "T": candle.open_ms + 59_999, "s": state.spec.symbol, "i": "1m", "f": 0, "L": 0,
        "o": fmt(candle.open), "c": fmt(candle.close), "h": fmt(candle.high), "l": fmt(candle.low),
        "v": fmt(candle.volume), "n": candle.trades, "x": False, "q": fmt(candle.quote_volume), "V": "0",
        "Q": "0", "B": "0"}}


def execution_report(o: EOrder, fill: EFill | None, execution: str, now: int) -> Json:
    return {
        "e": "executionReport", "E": now, "s": o.symbol, "c": o.client_order_id, "S": o.side,
        "o": o.kind, "f": o.tif, "q": fmt(o.quantity), "p": fmt(o.price or ZERO),
        "P": "0.00000000", "F": "0.00000000", "g": -1, "C": "" if o.status != "CANCELED" else
        o.client_order_id, "x": execution if execution != "PARTIALLY_FILLED" else "TRADE",
        "X": o.status, "r": "NONE", "i": o.order_id,
        "l": fmt(fill.quantity if fill else ZERO), "z": fmt(o.filled),
        "L": fmt(fill.price if fill else ZERO), "n": fmt(fill.fee if fill else ZERO),
        "N": fill.fee_asset if fill else None, "T": fill.time_ms if fill else o.updated_ms,
        "t": fill.trade_id if fill else -1, "I": o.order_id * 10 + (fill.trade_id if fill else 0),
        "w": o.is_open, "m": fill.is_maker if fill else False, "M": False, "O": o.created_ms,
        "Z": fmt(o.quote_filled), "Y": fmt(fill.quote_quantity if fill else ZERO),
        "Q": fmt(o.quote_quantity or ZERO), "W": o.created_ms, "V": "EXPIRE_MAKER"}


def account_position(snapshot: dict[str, tuple[Decimal, Decimal]], now: int) -> Json:
    return {"e": "outboundAccountPosition", "E": now, "u": now,
            "B": [{"a": a, "f": fmt(free), "l": fmt(locked)} for a, (free, locked) in snapshot.items()]}


def listen_key_expired(listen_key: str, now: int) -> Json:
    return {"e": "listenKeyExpired", "E": now, "listenKey": listen_key}
