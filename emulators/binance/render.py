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
def symbol_info(spec: InstrumentSpec, permission_sets: bool = True) -> Json:
    """A symbol as exchangeInfo lists it, advertising only what the dialect serves: LIMIT, LIMIT_MAKER and
    MARKET (with quoteOrderQty); no stop, iceberg, OCO/OTO, trailing, cancel-replace, amend or pegged orders."""
    return {
        "symbol": spec.symbol, "status": "TRADING", "baseAsset": spec.base, "baseAssetPrecision": 8,
        "quoteAsset": spec.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": False, "ocoAllowed": False, "otoAllowed": False, "opoAllowed": False,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False, "cancelReplaceAllowed": False,
        "amendAllowed": False, "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fmt(spec.tick_size), "maxPrice": "1000000.00000000",
             "tickSize": fmt(spec.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": fmt(spec.min_qty), "maxQty": fmt(spec.max_qty),
             "stepSize": fmt(spec.step_size)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": fmt(spec.max_qty),
             "stepSize": "0.00000000"},
            {"filterType": "NOTIONAL", "minNotional": fmt(spec.min_notional), "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ],
        "permissions": [], "permissionSets": [["SPOT"]] if permission_sets else [],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def price_ticker(state: SymbolState) -> Json:
    return {"symbol": state.spec.symbol, "price": fmt(state.mid)}


def best(side: Levels) -> tuple[Decimal, Decimal]:
    """The best level with size left (a taker may have emptied the first ones until the next tick)."""
    return next(((price, size) for price, size in side if size > 0), (ZERO, ZERO))


def book_ticker(state: SymbolState) -> Json:
    (bid, bid_qty), (ask, ask_qty) = best(state.book.bids), best(state.book.asks)
    return {"symbol": state.spec.symbol, "bidPrice": fmt(bid), "bidQty": fmt(bid_qty), "askPrice": fmt(ask),
            "askQty": fmt(ask_qty)}


MINI_FIELDS = ("symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume", "openTime",
               "closeTime", "firstId", "lastId", "count")


def ticker_24h(state: SymbolState, *, mini: bool = False) -> Json:
    full = _ticker_24h(state)
    return {k: full[k] for k in MINI_FIELDS} if mini else full


def _ticker_24h(state: SymbolState) -> Json:
    (bid, bid_qty), (ask, ask_qty) = best(state.book.bids), best(state.book.asks)
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


def depth(state: SymbolState, limit: int, update_id: int) -> Json:
    book = state.book
    return {"lastUpdateId": update_id, "bids": levels([lv for lv in book.bids if lv[1] > 0][:limit]),
            "asks": levels([lv for lv in book.asks if lv[1] > 0][:limit])}


def trade(t: PublicTrade) -> Json:
    return {"id": t.trade_id, "price": fmt(t.price), "qty": fmt(t.quantity), "quoteQty": fmt(t.price * t.quantity),
            "time": t.time_ms, "isBuyerMaker": t.buyer_is_maker, "isBestMatch": True}


def agg_trade(t: PublicTrade) -> Json:
    return {"a": t.trade_id, "p": fmt(t.price), "q": fmt(t.quantity), "f": t.trade_id, "l": t.trade_id,
            "T": t.time_ms, "m": t.buyer_is_maker, "M": True}


def kline(bar: Bar) -> list[Any]:
    """A kline row; the taker-buy volumes are half of each (the engine does not tell takers apart)."""
    return [bar.open_ms, fmt(bar.open), fmt(bar.high), fmt(bar.low), fmt(bar.close), fmt(bar.volume),
            bar.close_ms, fmt(bar.quote_volume), bar.trades, fmt(bar.volume / 2), fmt(bar.quote_volume / 2), "0"]


# ---------------------------------------------------------------------- account and orders
def commission_pair(maker: Decimal = ZERO, taker: Decimal = ZERO) -> Json:
    return {"maker": fmt(maker), "taker": fmt(taker)}


NO_DISCOUNT = {"enabledForAccount": False, "enabledForSymbol": False, "discountAsset": "BNB",
               "discount": "0.00000000"}


def commission(symbol: str, maker: Decimal, taker: Decimal) -> Json:
    """GET /api/v3/account/commission: the standard rates; no special or tax commission, no BNB discount."""
    four = {"buyer": fmt(ZERO), "seller": fmt(ZERO)}
    return {"symbol": symbol, "standardCommission": {**commission_pair(maker, taker), **four},
            "specialCommission": {**commission_pair(), **four}, "taxCommission": {**commission_pair(), **four},
            "discount": NO_DISCOUNT}


def trade_fee(symbol: str, maker: Decimal, taker: Decimal) -> Json:
    return {"symbol": symbol, "makerCommission": f"{maker.normalize():f}", "takerCommission": f"{taker.normalize():f}"}


def coin(asset: str, free: Decimal, locked: Decimal) -> Json:
    """One asset of GET /sapi/v1/capital/config/getall: deposits and withdrawals are shown disabled (the
    emulator moves no funds in or out), with one network named after the asset."""
    network = {"network": asset, "coin": asset, "withdrawIntegerMultiple": "0.00000001", "isDefault": True,
               "depositEnable": False, "withdrawEnable": False, "depositDesc": "", "withdrawDesc": "",
               "specialTips": "", "specialWithdrawTips": "", "name": asset, "resetAddressStatus": False,
               "addressRegex": "", "memoRegex": "", "withdrawFee": "0", "withdrawMin": "0", "withdrawMax": "0",
               "withdrawInternalMin": "0", "depositDust": "0", "minConfirm": 1, "unLockConfirm": 0,
               "sameAddress": False, "estimatedArrivalTime": 1, "busy": False, "contractAddressUrl": "",
               "contractAddress": ""}
    return {"coin": asset, "depositAllEnable": False, "withdrawAllEnable": False, "name": asset,
            "free": fmt(free), "locked": fmt(locked), "freeze": fmt(ZERO), "withdrawing": fmt(ZERO),
            "ipoing": fmt(ZERO), "ipoable": fmt(ZERO), "storage": fmt(ZERO), "isLegalMoney": False,
            "trading": True, "networkList": [network]}


def api_restrictions(created_ms: int) -> Json:
    return {"ipRestrict": False, "createTime": created_ms, "enableReading": True,
            "enableSpotAndMarginTrading": True, "enableWithdrawals": False, "enableInternalTransfer": False,
            "enableMargin": False, "enableFutures": False, "permitsUniversalTransfer": False,
            "enableVanillaOptions": False, "enableFixApiTrade": False, "enableFixReadOnly": False,
            "enablePortfolioMarginTrading": False}


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


def cancelled(o: EOrder, cancel_id: str | None) -> Json:
    """A cancel's answer: ``clientOrderId`` is the cancel's own id (``newClientOrderId`` or generated)."""
    body = order(o)
    return {"symbol": o.symbol, "origClientOrderId": o.client_order_id, "orderId": o.order_id,
            "orderListId": -1, "clientOrderId": cancel_id or f"cancel{secrets.token_hex(8)}",
            "transactTime": wall_ms(), **{k: body[k] for k in CANCEL_FIELDS}}


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


def book_ticker_event(state: SymbolState, update_id: int) -> Json:
    (bid, bid_qty), (ask, ask_qty) = best(state.book.bids), best(state.book.asks)
    return {"u": update_id, "s": state.spec.symbol, "b": fmt(bid), "B": fmt(bid_qty), "a": fmt(ask),
            "A": fmt(ask_qty)}


def mini_ticker_event(state: SymbolState, now: int) -> Json:
    t = _ticker_24h(state)
    return {"e": "24hrMiniTicker", "E": now, "s": state.spec.symbol, "c": t["lastPrice"], "o": t["openPrice"],
            "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"]}


def window_ticker_event(state: SymbolState, window: str, bars: list[Bar], now: int) -> Json:
    """``<symbol>@ticker_<window>``: statistics over the window's one-minute candles (open on a minute)."""
    first, last = bars[0], bars[-1]
    volume = sum((b.volume for b in bars), ZERO)
    quote = sum((b.quote_volume for b in bars), ZERO)
    change = last.close - first.open
    trades = [t for t in state.trades if t.time_ms >= first.open_ms]
    return {"e": f"{window}Ticker", "E": now, "s": state.spec.symbol, "p": fmt(change),
            "P": f"{change / first.open * 100:.3f}" if first.open else "0.000", "o": fmt(first.open),
            "h": fmt(max(b.high for b in bars)), "l": fmt(min(b.low for b in bars)), "c": fmt(last.close),
            "w": fmt(quote / volume if volume else last.close), "v": fmt(volume), "q": fmt(quote),
            "O": first.open_ms, "C": now, "F": trades[0].trade_id if trades else -1,
            "L": trades[-1].trade_id if trades else -1, "n": sum(b.trades for b in bars)}


def avg_price_event(state: SymbolState, price: Decimal, now: int) -> Json:
    last = state.trades[-1].time_ms if state.trades else now
    return {"e": "avgPrice", "E": now, "s": state.spec.symbol, "i": "5m", "w": fmt(price), "T": last}


def ticker_event(state: SymbolState, now: int) -> Json:
    t = _ticker_24h(state)
    return {"e": "24hrTicker", "E": now, "s": state.spec.symbol, "p": t["priceChange"],
            "P": t["priceChangePercent"], "w": t["weightedAvgPrice"], "x": t["prevClosePrice"], "c": t["lastPrice"],
            "Q": t["lastQty"], "b": t["bidPrice"], "B": t["bidQty"], "a": t["askPrice"], "A": t["askQty"],
            "o": t["openPrice"], "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"],
            "O": t["openTime"], "C": t["closeTime"], "F": t["firstId"], "L": t["lastId"], "n": t["count"]}


def depth_update(symbol: str, first_id: int, last_id: int, bids: Levels, asks: Levels, now: int) -> Json:
    return {"e": "depthUpdate", "E": now, "s": symbol, "U": first_id, "u": last_id, "b": levels(bids),
            "a": levels(asks)}


def partial_depth(state: SymbolState, size: int, update_id: int) -> Json:
    book = state.book
    return {"lastUpdateId": update_id, "bids": levels([lv for lv in book.bids if lv[1] > 0][:size]),
            "asks": levels([lv for lv in book.asks if lv[1] > 0][:size])}


def kline_event(symbol: str, interval: str, bar: Bar, closed: bool, trade_ids: tuple[int, int], now: int) -> Json:
    """A kline stream update; ``closed`` ("x") is true on the last update of each interval. The taker-buy
    volumes are half of each, as in the REST rows."""
    return {"e": "kline", "E": now, "s": symbol, "k": {
        "t": bar.open_ms, "T": bar.close_ms, "s": symbol, "i": interval, "f": trade_ids[0], "L": trade_ids[1],
        "o": fmt(bar.open), "c": fmt(bar.close), "h": fmt(bar.high), "l": fmt(bar.low), "v": fmt(bar.volume),
        "n": bar.trades, "x": closed, "q": fmt(bar.quote_volume), "V": fmt(bar.volume / 2),
        "Q": fmt(bar.quote_volume / 2), "B": "0"}}


def execution_report(o: EOrder, fill: EFill | None, execution: str, now: int, cancel_id: str | None = None) -> Json:
    """An order update. On a cancel, ``c`` is the cancel request's client id and ``C`` the order's own."""
    cancelling = o.status == "CANCELED" and cancel_id is not None
    return {
        "e": "executionReport", "E": now, "s": o.symbol, "c": cancel_id if cancelling else o.client_order_id,
        "S": o.side, "o": o.kind, "f": o.tif, "q": fmt(o.quantity), "p": fmt(o.price or ZERO),
        "P": "0.00000000", "F": "0.00000000", "g": -1, "C": o.client_order_id if cancelling else "",
        "x": execution if execution != "PARTIALLY_FILLED" else "TRADE",
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


def balance_update(asset: str, delta: Decimal, now: int) -> Json:
    return {"e": "balanceUpdate", "E": now, "a": asset, "d": fmt(delta), "T": now}


def event_stream_terminated(now: int) -> Json:
    return {"e": "eventStreamTerminated", "E": now}


def server_shutdown(now: int) -> Json:
    return {"e": "serverShutdown", "E": now}

