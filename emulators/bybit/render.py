"""Bybit's JSON: the V5 envelope, instruments, tickers, books, klines, orders, executions, positions and the
unified wallet, printed from the engine's records.

Every number is a string: prices and sizes with the precision of the instrument's tick or step (`fixed`),
computed values plain and rounded to 12 places (`num`). Bybit's ids (orderId, execId) and book counters
(``u``, ``seq``) belong to the dialect, which is passed in.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from emulators.engine import (
    EFill,
    EOrder,
    EPosition,
    Exchange,
    InstrumentSpec,
    PublicTrade,
    SymbolState,
    wall_ms,
)
from emulators.engine.accounts import ApiAccount
from emulators.engine.candles import Bar
from emulators.engine.errors import VenueError
from emulators.engine.model import Levels

if TYPE_CHECKING:
    from emulators.bybit.dialect import BybitDialect

D = Decimal
Json = dict[str, Any]


def num(value: Decimal, places: int = 12) -> str:
    """A plain decimal string (Bybit never uses exponents); computed values are rounded to ``places``."""
    if value.as_tuple().exponent < -places:  # type: ignore[operator]
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def fixed(value: Decimal, step: Decimal) -> str:
    """A value printed with the precision of ``step`` (e.g. "0.100" for a 0.001 qty step), as Bybit does."""
    exponent = step.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{value:.{places}f}"


def envelope(result: Any) -> bytes:
    return json.dumps({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": wall_ms()}).encode()


def envelope_error(error: VenueError) -> bytes:
    return json.dumps({"retCode": error.code, "retMsg": error.message, "result": {}, "retExtInfo": {},
                       "time": wall_ms()}).encode()


def side(engine_side: str) -> str:
    return "Buy" if engine_side == "BUY" else "Sell"


# ---------------------------------------------------------------------- instruments and market data
def spot_instrument(spec: InstrumentSpec) -> Json:
    return {
        "symbol": spec.name, "baseCoin": spec.base, "quoteCoin": spec.quote, "innovation": "0",
        "status": "Trading", "marginTrading": "utaOnly", "stTag": "0",
        "lotSizeFilter": {"basePrecision": num(spec.step_size), "quotePrecision": "0.00000001",
                          "minOrderQty": num(spec.min_qty), "maxOrderQty": num(spec.max_qty),
                          "minOrderAmt": num(spec.min_notional), "maxOrderAmt": "8000000",
                          "maxLimitOrderQty": num(spec.max_qty), "maxMarketOrderQty": num(spec.max_qty / 2)},
        "priceFilter": {"tickSize": num(spec.tick_size)},
        "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"}, "symbolType": "",
    }


def contract_instrument(spec: InstrumentSpec) -> Json:
    tick, step = spec.tick_size, spec.step_size
    max_price = (D(2_000_000) / tick - 1) * tick
    return {
        "symbol": spec.name, "contractType": "InversePerpetual" if spec.kind == "inverse" else "LinearPerpetual",
        "status": "Trading", "baseCoin": spec.base, "quoteCoin": spec.quote, "launchTime": "1585526400000",
        "deliveryTime": "0", "deliveryFeeRate": "",
        "priceScale": str(max(0, -int(tick.normalize().as_tuple().exponent))),
        "leverageFilter": {"minLeverage": "1", "maxLeverage": f"{spec.max_leverage:.2f}", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": fixed(tick, tick), "maxPrice": fixed(max_price, tick), "tickSize": fixed(tick, tick)},
        "lotSizeFilter": {"maxOrderQty": fixed(spec.max_qty, step), "minOrderQty": fixed(spec.min_qty, step),
                          "qtyStep": fixed(step, step), "postOnlyMaxOrderQty": fixed(spec.max_qty, step),
                          "maxMktOrderQty": fixed(spec.max_qty, step), "minNotionalValue": num(spec.min_notional)},
        "unifiedMarginTrade": True, "fundingInterval": 480, "settleCoin": spec.settle, "copyTrading": "both",
        "upperFundingRate": "0.00375", "lowerFundingRate": "-0.00375", "isPreListing": False,
        "preListingInfo": None, "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "symbolType": "", "displayName": "", "forbidUplWithdrawal": False,
    }


def top(state: SymbolState) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    """The best bid and ask that still have size (a taker may have emptied a level until the next tick)."""
    bids = [level for level in state.book.bids if level[1] > 0] or [(state.book.bids[0][0], D(0))]
    asks = [level for level in state.book.asks if level[1] > 0] or [(state.book.asks[0][0], D(0))]
    return bids[0], asks[0]


def ticker(exchange: Exchange, state: SymbolState) -> Json:
    """Everything the REST ticker and the ``tickers`` topic show (each drops what it does not carry)."""
    spec, tick = state.spec, state.spec.tick_size
    last = state.trades[-1].price if state.trades else state.mid
    (bid, bid_size), (ask, ask_size) = top(state)
    change = ((last - state.open_24h) / state.open_24h).quantize(D("0.000001")) if state.open_24h else D(0)
    common = {"symbol": spec.name, "lastPrice": fixed(last, tick), "prevPrice24h": fixed(state.open_24h, tick),
              "price24hPcnt": num(change), "highPrice24h": fixed(state.high_24h, tick),
              "lowPrice24h": fixed(state.low_24h, tick), "turnover24h": num(state.quote_volume_24h),
              "volume24h": num(state.volume_24h), "bid1Price": fixed(bid, tick),
              "bid1Size": fixed(bid_size, spec.step_size), "ask1Price": fixed(ask, tick),
              "ask1Size": fixed(ask_size, spec.step_size)}
    if spec.kind == "spot":
        return {**common, "usdIndexPrice": num(state.mid)}
    hour_ago = state.candles[-60].open if len(state.candles) >= 60 else state.open_24h
    interest = sum((abs(p.size) for p in exchange.positions.values() if p.symbol == spec.symbol), D(0))
    now = wall_ms()
    return {**common, "indexPrice": fixed(state.mid, tick), "markPrice": fixed(state.mid, tick),
            "prevPrice1h": fixed(hour_ago, tick), "openInterest": num(interest),
            "openInterestValue": num(spec.value(interest, state.mid) if interest else D(0)),
            "fundingRate": "0.0001", "nextFundingTime": str((now // 28_800_000 + 1) * 28_800_000),
            "predictedDeliveryPrice": "", "basisRate": "", "deliveryFeeRate": "", "deliveryTime": "0",
            "tickDirection": "PlusTick" if state.mid >= last else "MinusTick"}


SPOT_STREAM_TICKER = ("symbol", "lastPrice", "highPrice24h", "lowPrice24h", "prevPrice24h", "volume24h",
                      "turnover24h", "price24hPcnt", "usdIndexPrice")


def spot_stream_ticker(full: Json) -> Json:
    return {k: full[k] for k in SPOT_STREAM_TICKER}


def kline_row(spec: InstrumentSpec, bar: Bar) -> list[str]:
    tick = spec.tick_size
    return [str(bar.open_ms), fixed(bar.open, tick), fixed(bar.high, tick), fixed(bar.low, tick),
            fixed(bar.close, tick), num(bar.volume), num(bar.quote_volume)]


def kline_item(spec: InstrumentSpec, interval: str, bar: Bar, *, confirm: bool) -> Json:
    tick = spec.tick_size
    return {"start": bar.open_ms, "end": bar.close_ms, "interval": interval, "open": fixed(bar.open, tick),
            "close": fixed(bar.close, tick), "high": fixed(bar.high, tick), "low": fixed(bar.low, tick),
            "volume": num(bar.volume), "turnover": num(bar.quote_volume), "confirm": confirm,
            "timestamp": wall_ms()}


def levels(spec: InstrumentSpec, book_side: Levels) -> list[list[str]]:
    return [[fixed(price, spec.tick_size), fixed(size, spec.step_size)] for price, size in book_side]


def book_levels(state: SymbolState, depth: int) -> tuple[list[list[str]], list[list[str]]]:
    bids = levels(state.spec, [level for level in state.book.bids if level[1] > 0])[:depth]
    asks = levels(state.spec, [level for level in state.book.asks if level[1] > 0])[:depth]
    return bids, asks


def orderbook(d: BybitDialect, state: SymbolState, depth: int) -> Json:
    """GET /v5/market/orderbook's result: ``depth`` levels a side, with the stream's ``u`` and ``seq``."""
    bids, asks = book_levels(state, depth)
    now = wall_ms()
    result: Json = {"s": state.spec.name, "b": bids, "a": asks, "ts": now, "u": d.book_u[state.spec.symbol],
                    "seq": d.book_seq[state.spec.symbol]}
    if state.spec.is_derivative:
        result["cts"] = now
    return result


def book_message(d: BybitDialect, state: SymbolState, topic: str, depth: int, kind: str,
                 change: tuple[Levels, Levels] | None) -> Json:
    """An ``orderbook`` message: a snapshot of ``depth`` levels, or a delta of the ``change``d levels."""
    spec = state.spec
    if change is None:
        bids, asks = book_levels(state, depth)
    else:
        bids, asks = levels(spec, change[0]), levels(spec, change[1])
    now = wall_ms()
    message: Json = {"topic": topic, "type": kind, "ts": now,
                     "data": {"s": spec.name, "b": bids, "a": asks, "u": d.book_u[spec.symbol],
                              "seq": d.book_seq[spec.symbol]}}
    if spec.is_derivative:
        message["cts"] = now
    return message


def recent_trade(d: BybitDialect, spec: InstrumentSpec, t: PublicTrade) -> Json:
    return {"execId": d.exec_id(spec.symbol, t.trade_id), "symbol": spec.name, "price": fixed(t.price, spec.tick_size),
            "size": fixed(t.quantity, spec.step_size), "side": "Sell" if t.buyer_is_maker else "Buy",
            "time": str(t.time_ms), "isBlockTrade": False, "isRPITrade": False}


def trade_item(d: BybitDialect, state: SymbolState, trade: PublicTrade) -> Json:
    """One trade of a ``publicTrade`` message (derivatives add the tick direction)."""
    spec = state.spec
    item: Json = {"T": trade.time_ms, "s": spec.name, "S": "Sell" if trade.buyer_is_maker else "Buy",
                  "v": fixed(trade.quantity, spec.step_size), "p": fixed(trade.price, spec.tick_size),
                  "i": d.exec_id(spec.symbol, trade.trade_id), "BT": False, "RPI": False,
                  "seq": d.book_seq[spec.symbol]}
    if spec.is_derivative:
        previous = state.trades[-2].price if len(state.trades) > 1 else trade.price
        item["L"] = "PlusTick" if trade.price > previous else "MinusTick" if trade.price < previous else \
            "ZeroPlusTick"
    return item


# ---------------------------------------------------------------------- account
def api_key_info(account: ApiAccount[Any]) -> Json:
    """GET /v5/user/query-api: a read-write key of a unified trade account (``uta`` 1) that may trade spot and
    contracts; wallet permissions (transfers, withdrawals) are empty because the emulator serves none."""
    created = "2026-01-01T00:00:00Z"
    expires = datetime.fromtimestamp(wall_ms() // 1000 + 90 * 86_400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": str(account.uid), "note": "algotrendy emulator", "apiKey": account.api_key, "readOnly": 0,
        "secret": "", "permissions": {
            "ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"], "Wallet": [], "Options": [],
            "Derivatives": ["DerivativesTrade"], "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [],
            "Affiliate": [], "Earn": []},
        "ips": ["*"], "type": 1, "deadlineDay": 90, "expiredAt": expires, "createdAt": created, "unified": 0,
        "uta": 1, "userID": account.uid, "inviterID": 0, "vipLevel": "No VIP", "mktMakerLevel": "0",
        "affiliateID": 0, "rsaPublicKey": "", "isMaster": True, "parentUid": "0", "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }


# coin -> (chain, chainType, decimals) of its usual network; any other coin is its own chain
CHAINS = {"BTC": ("BTC", "BTC", 8), "ETH": ("ETH", "ETH", 8), "USDT": ("ETH", "ERC20", 6), "USDC": ("ETH", "ERC20", 6)}


def coin_row_info(coin: str) -> Json:
    """One row of GET /v5/asset/coin/query-info: deposits and withdrawals closed (not served here)."""
    chain, chain_type, decimals = CHAINS.get(coin, (coin, coin, 8))
    return {"name": coin, "coin": coin, "remainAmount": "0", "chains": [{
        "chainType": chain_type, "confirmation": "6", "withdrawFee": "0", "depositMin": "0", "withdrawMin": "0",
        "chain": chain, "chainDeposit": "0", "chainWithdraw": "0", "minAccuracy": str(decimals),
        "withdrawPercentageFee": "0", "contractAddress": "", "safeConfirmNumber": "6"}]}


def account_info() -> Json:
    return {"marginMode": "REGULAR_MARGIN", "updatedTime": str(wall_ms()), "unifiedMarginStatus": 5,
            "dcpStatus": "OFF", "timeWindow": 10, "smpGroup": 0, "isMasterTrader": False,
            "spotHedgingStatus": "OFF"}


def fee_rate(exchange: Exchange, spec: InstrumentSpec) -> Json:
    return {"symbol": spec.name, "baseCoin": "", "takerFeeRate": num(exchange.fee_rate(spec, is_maker=False)),
            "makerFeeRate": num(exchange.fee_rate(spec, is_maker=True))}


def usd_price(exchange: Exchange, coin: str) -> Decimal:
    if coin in ("USDT", "USDC", "USD"):
        return D(1)
    for category in ("spot", "linear"):
        state = exchange.symbols.get(f"{category}:{coin}USDT")
        if state is not None:
            return state.mid
    return D(0)


def coin_figures(exchange: Exchange, account: str, coin: str, positions: list[EPosition]) -> dict[str, Decimal]:
    """One coin of the unified wallet: its balance, the PnL and margin of the positions settled in it, and
    what its open orders lock (spot) or hold as initial margin (contracts)."""
    free, locked = exchange.balances[account].get(coin, [D(0), D(0)])
    held = [p for p in positions if exchange.symbols[p.symbol].spec.settle == coin]
    upl = sum((exchange.unrealised_pnl(p) for p in held), D(0))
    open_orders = [o for o in exchange.open_orders(account) if o.locked_asset == coin]
    return {
        "wallet": free + locked, "equity": free + locked + upl, "upl": upl,
        "position_im": sum((p.margin for p in held), D(0)),
        "position_mm": sum((exchange.maintenance_margin(p) for p in held), D(0)),
        "cum": sum((p.cum_realised for p in held), D(0)),
        "spot_locked": sum((o.locked for o in open_orders if not exchange.symbols[o.symbol].spec.is_derivative), D(0)),
        "order_im": sum((o.locked for o in open_orders if exchange.symbols[o.symbol].spec.is_derivative), D(0)),
    }


def coin_row(coin: str, f: dict[str, Decimal], usd: Decimal) -> Json:
    return {
        "coin": coin, "equity": num(f["equity"]), "usdValue": num(f["equity"] * usd), "walletBalance": num(f["wallet"]),
        "free": "", "locked": num(f["spot_locked"]), "spotHedgingQty": "0", "borrowAmount": "0",
        "availableToBorrow": "", "availableToWithdraw": "", "accruedInterest": "0",
        "totalOrderIM": num(f["order_im"]), "totalPositionIM": num(f["position_im"]),
        "totalPositionMM": num(f["position_mm"]), "unrealisedPnl": num(f["upl"]), "cumRealisedPnl": num(f["cum"]),
        "bonus": "0", "collateralSwitch": True, "marginCollateral": True, "spotBorrow": "0"}


def wallet(exchange: Exchange, account: str, coins: list[str] | None = None) -> Json:
    """The UNIFIED account as GET /v5/account/wallet-balance and the ``wallet`` topic show it."""
    positions = exchange.positions_of(account)
    rows = []
    totals = {k: D(0) for k in ("equity", "wallet", "upl", "im", "mm")}
    for coin in sorted(set(exchange.balances[account]) | set(coins or [])):
        if coins and coin not in coins:
            continue
        f = coin_figures(exchange, account, coin, positions)
        if not coins and f["wallet"] == 0 and f["equity"] == 0:
            continue
        usd = usd_price(exchange, coin)
        totals["equity"] += f["equity"] * usd
        totals["wallet"] += f["wallet"] * usd
        totals["upl"] += f["upl"] * usd
        totals["im"] += (f["position_im"] + f["order_im"]) * usd
        totals["mm"] += f["position_mm"] * usd
        rows.append(coin_row(coin, f, usd))
    margin_balance = totals["wallet"] + totals["upl"]
    im_rate = num(totals["im"] / margin_balance, 4) if margin_balance else "0"
    mm_rate = num(totals["mm"] / margin_balance, 4) if margin_balance else "0"
    return {"accountType": "UNIFIED", "accountLTV": "0", "accountIMRate": im_rate,
            "accountMMRate": mm_rate, "totalEquity": num(totals["equity"]),
            "totalWalletBalance": num(totals["wallet"]), "totalMarginBalance": num(margin_balance),
            "totalAvailableBalance": num(margin_balance - totals["im"]), "totalPerpUPL": num(totals["upl"]),
            "totalInitialMargin": num(totals["im"]), "totalMaintenanceMargin": num(totals["mm"]), "coin": rows}


# ---------------------------------------------------------------------- positions, orders, executions
def position(d: BybitDialect, pos: EPosition, *, stream: bool = False) -> Json:
    ex = d.exchange
    spec = ex.symbols[pos.symbol].spec
    mark = ex.mark_price(pos.symbol)
    liq = ex.liquidation_price(pos)
    entry = num(pos.entry_price) if pos.size else "0"
    body: Json = {
        "positionIdx": 0, "riskId": 1, "riskLimitValue": "2000000", "symbol": spec.name,
        "side": {"BUY": "Buy", "SELL": "Sell", "": ""}[pos.side], "size": fixed(abs(pos.size), spec.step_size),
        "positionValue": num(ex.position_value(pos)), "tradeMode": 0, "positionStatus": "Normal",
        "autoAddMargin": 0, "adlRankIndicator": 2 if pos.size else 0, "leverage": num(pos.leverage),
        "positionBalance": num(pos.margin), "markPrice": fixed(mark, spec.tick_size),
        "liqPrice": fixed(liq, spec.tick_size) if liq is not None and liq > 0 else "", "bustPrice": "",
        "positionMM": num(ex.maintenance_margin(pos)), "positionIM": num(pos.margin),
        "tpslMode": "Full", "takeProfit": "0", "stopLoss": "0", "trailingStop": "0",
        "unrealisedPnl": num(ex.unrealised_pnl(pos)), "curRealisedPnl": num(pos.realised),
        "cumRealisedPnl": num(pos.cum_realised), "sessionAvgPrice": "", "seq": pos.seq or -1,
        "isReduceOnly": False, "mmrSysUpdatedTime": "", "leverageSysUpdatedTime": "",
        "createdTime": str(pos.created_ms or pos.updated_ms or wall_ms()),
        "updatedTime": str(pos.updated_ms or wall_ms()),
    }
    if stream:
        body["entryPrice"] = entry
        body["category"] = spec.kind
    else:
        body["avgPrice"] = entry
    return body


def status(exchange: Exchange, order: EOrder) -> str:
    spot = not exchange.symbols[order.symbol].spec.is_derivative
    if order.status in ("CANCELED", "EXPIRED"):
        return "PartiallyFilledCanceled" if spot and order.filled > 0 else "Cancelled"
    return {"NEW": "New", "PARTIALLY_FILLED": "PartiallyFilled", "FILLED": "Filled",
            "REJECTED": "Rejected"}[order.status]


def outcome(order: EOrder) -> tuple[str, str]:
    """(cancelType, rejectReason): why an order ended, as Bybit says it."""
    if order.status == "CANCELED":
        if order.reject_reason == "post_only":
            return "UNKNOWN", "EC_PostOnlyWillTakeLiquidity"
        return ("CancelByReduceOnly" if order.reject_reason == "reduce_only" else "CancelByUser"), "EC_NoError"
    if order.status == "EXPIRED":
        return "UNKNOWN", "EC_CancelForNoFullFill" if order.tif == "FOK" else "EC_NoImmediateQtyToFill"
    return "UNKNOWN", "EC_NoError"


def order(d: BybitDialect, o: EOrder, *, stream: bool = False) -> Json:
    ex = d.exchange
    spec = ex.symbols[o.symbol].spec
    tick, step = spec.tick_size, spec.step_size
    by_quote = o.exact_quote
    leaves = D(0) if not o.is_open else o.remaining
    if o.filled:
        avg_price = num(o.filled / o.quote_filled if spec.kind == "inverse" else o.quote_filled / o.filled)
    else:
        avg_price = ""
    fills = [f for f in ex.fill_log if f.symbol == o.symbol and f.order_id == o.order_id]
    fee = sum((f.fee for f in fills), D(0))
    fee_asset = o.last_fill.fee_asset if o.last_fill is not None else ""
    cancel_type, reject = outcome(o)
    body: Json = {
        "orderId": d.order_id(o), "orderLinkId": o.client_order_id, "blockTradeId": "",
        "symbol": spec.name, "price": fixed(o.price, tick) if o.price is not None else "0",
        "qty": num(o.quote_quantity) if by_quote and o.quote_quantity is not None else fixed(o.quantity, step),
        "side": side(o.side), "isLeverage": "0" if not spec.is_derivative else "",
        "positionIdx": 0, "orderStatus": status(ex, o), "cancelType": cancel_type, "rejectReason": reject,
        "avgPrice": avg_price, "leavesQty": "0" if by_quote else fixed(leaves, step),
        "leavesValue": num(spec.value(leaves, o.price) if o.price is not None and leaves else D(0)),
        "cumExecQty": fixed(o.filled, step), "cumExecValue": num(o.quote_filled),
        "cumExecFee": num(fee), "timeInForce": "PostOnly" if o.kind == "LIMIT_MAKER" else o.tif,
        "orderType": "Market" if o.kind == "MARKET" else "Limit", "stopOrderType": "",
        "orderIv": "", "marketUnit": ("quoteCoin" if by_quote else "baseCoin") if o.kind == "MARKET"
        and not spec.is_derivative else "", "triggerPrice": "0", "takeProfit": "0", "stopLoss": "0",
        "tpslMode": "" if not spec.is_derivative else "UNKNOWN", "ocoTriggerBy": "", "tpLimitPrice": "0",
        "slLimitPrice": "0", "tpTriggerBy": "", "slTriggerBy": "", "triggerDirection": 0, "triggerBy": "",
        "lastPriceOnCreated": "", "reduceOnly": o.reduce_only, "closeOnTrigger": False, "placeType": "",
        "smpType": "None", "smpGroup": 0, "smpOrderId": "", "createdTime": str(o.created_ms),
        "updatedTime": str(o.updated_ms), "slippageToleranceType": "UNKNOWN", "slippageTolerance": "0",
        "cumFeeDetail": {fee_asset: num(fee)} if fee_asset else {},
    }
    if spec.is_derivative:
        body["createType"] = "CreateByUser"
    if stream:
        body["category"] = spec.kind
        body["feeCurrency"] = fee_asset if not spec.is_derivative else ""
        body["closedPnl"] = num(sum((f.closed_pnl for f in fills), D(0)))
    return body


def execution(d: BybitDialect, fill: EFill, *, stream: bool = False) -> Json:
    spec = d.exchange.symbols[fill.symbol].spec
    o = d.engine_order(fill)
    body: Json = {
        "symbol": spec.name, "orderId": d.order_id(o), "orderLinkId": o.client_order_id, "side": side(fill.side),
        "orderPrice": fixed(o.price, spec.tick_size) if o.price is not None else "0",
        "orderQty": num(o.quote_quantity) if o.exact_quote and o.quote_quantity is not None
        else fixed(o.quantity, spec.step_size),
        "leavesQty": fixed(o.remaining if o.is_open else D(0), spec.step_size),
        "orderType": "Market" if o.kind == "MARKET" else "Limit", "stopOrderType": "UNKNOWN",
        "execFee": num(fill.fee), "execId": d.exec_id(fill.symbol, fill.trade_id),
        "execPrice": fixed(fill.price, spec.tick_size), "execQty": fixed(fill.quantity, spec.step_size),
        "execType": "Trade", "execValue": num(fill.quote_quantity), "execTime": str(fill.time_ms),
        "feeCurrency": fill.fee_asset if not spec.is_derivative else "", "isMaker": fill.is_maker,
        "feeRate": num(fill.fee_rate), "tradeIv": "", "markIv": "", "markPrice": fixed(fill.price, spec.tick_size),
        "indexPrice": "", "underlyingPrice": "", "blockTradeId": "",
        "closedSize": fixed(fill.closed_size, spec.step_size) if spec.is_derivative else "",
        "seq": d.book_seq[fill.symbol] + fill.trade_id, "extraFees": "",
    }
    if spec.is_derivative:
        body["createType"] = "CreateByUser"
    if stream:
        body["category"] = spec.kind
        body["isLeverage"] = "0" if not spec.is_derivative else ""
        body["marketUnit"] = ""
    return body
