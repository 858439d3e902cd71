"""Payloads in the shapes Binance's spot API documentation prints (binance/binance-spot-api-docs:
rest-api.md, filters.md, enums.md, web-socket-streams.md, user-data-stream.md), and a broker wired to a
mock transport.

Only the values the docs publish are used; where a test needs a variant (a TRADE execution report,
a second symbol) it is derived from a documented sample by changing named fields.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import msgspec

from brokers.base import BrokerSettings
from brokers.binance.client import BinanceBroker
from protocol.credentials import Credentials

# "SIGNED Endpoint Examples for POST /api/v3/order - HMAC Keys"
DOC_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_QUERY = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
             "&timestamp=1499827319559")
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"

# GET /api/v3/exchangeInfo: a symbol entry in the documented shape (ETHBTC), its filters in the shapes of
# filters.md, and the rate limits of enums.md ("Rate limiters").
ETHBTC: dict[str, object] = {
    "symbol": "ETHBTC", "status": "TRADING", "baseAsset": "ETH", "baseAssetPrecision": 8, "quoteAsset": "BTC",
    "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                   "TAKE_PROFIT_LIMIT"],
    "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
    "allowTrailingStop": False, "cancelReplaceAllowed": False, "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": True,
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.00000100", "maxPrice": "100000.00000000",
         "tickSize": "0.00000100"},
        {"filterType": "LOT_SIZE", "minQty": "0.00100000", "maxQty": "100000.00000000", "stepSize": "0.00100000"},
        {"filterType": "ICEBERG_PARTS", "limit": 10},
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "1000.00000000",
         "stepSize": "0.00000000"},
        {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
         "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
        {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
         "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
        {"filterType": "NOTIONAL", "minNotional": "0.00010000", "applyMinToMarket": True,
         "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
    ],
    "permissions": [], "permissionSets": [["SPOT", "MARGIN"]], "defaultSelfTradePreventionMode": "NONE",
    "allowedSelfTradePreventionModes": ["NONE"],
}
RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 5000},
]


def symbol_like(base: str, quote: str, **changes: object) -> dict[str, object]:
    """The documented symbol, re-labelled (e.g. BTC/USDT) for tests that need the account's quote asset."""
    return {**ETHBTC, "symbol": base + quote, "baseAsset": base, "quoteAsset": quote, **changes}


def exchange_info(*symbols: dict[str, object]) -> dict[str, object]:
    return {"timezone": "UTC", "serverTime": 1565246363776, "rateLimits": RATE_LIMITS, "exchangeFilters": [],
            "symbols": list(symbols or (ETHBTC,))}


# POST /api/v3/order, newOrderRespType=FULL
ORDER_FULL = {
    "symbol": "BTCUSDT", "orderId": 28, "orderListId": -1, "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP",
    "transactTime": 1507725176595, "price": "0.00000000", "origQty": "10.00000000", "executedQty": "10.00000000",
    "origQuoteOrderQty": "0.000000", "cummulativeQuoteQty": "10.00000000", "status": "FILLED",
    "timeInForce": "GTC", "type": "MARKET", "side": "SELL", "workingTime": 1507725176595,
    "selfTradePreventionMode": "NONE",
    "fills": [
        {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000", "commissionAsset": "USDT",
         "tradeId": 56},
        {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000", "commissionAsset": "USDT",
         "tradeId": 57},
    ],
}

# GET /api/v3/order (query order)
ORDER_QUERY = {
    "symbol": "LTCBTC", "orderId": 1, "orderListId": -1, "clientOrderId": "myOrder1", "price": "0.1",
    "origQty": "1.0", "executedQty": "0.0", "cummulativeQuoteQty": "0.0", "status": "NEW", "timeInForce": "GTC",
    "type": "LIMIT", "side": "BUY", "stopPrice": "0.0", "icebergQty": "0.0", "time": 1499827319559,
    "updateTime": 1499827319559, "isWorking": True, "workingTime": 1499827319559, "origQuoteOrderQty": "0.000000",
    "selfTradePreventionMode": "NONE",
}

# DELETE /api/v3/order
ORDER_CANCELED = {
    "symbol": "LTCBTC", "origClientOrderId": "myOrder1", "orderId": 4, "orderListId": -1,
    "clientOrderId": "cancelMyOrder1", "transactTime": 1684804350068, "price": "2.00000000",
    "origQty": "1.00000000", "executedQty": "0.00000000", "cummulativeQuoteQty": "0.00000000",
    "status": "CANCELED", "timeInForce": "GTC", "type": "LIMIT", "side": "BUY", "selfTradePreventionMode": "NONE",
}

# GET /api/v3/account
ACCOUNT = {
    "makerCommission": 15, "takerCommission": 15, "buyerCommission": 0, "sellerCommission": 0,
    "commissionRates": {"maker": "0.00150000", "taker": "0.00150000", "buyer": "0.00000000",
                        "seller": "0.00000000"},
    "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
    "requireSelfTradePrevention": False, "preventSor": False, "updateTime": 123456789, "accountType": "SPOT",
    "balances": [{"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"},
                 {"asset": "LTC", "free": "4763368.68006011", "locked": "0.00000000"}],
    "permissions": ["SPOT"], "uid": 354937868,
}

# GET /api/v3/myTrades
MY_TRADE = {
    "symbol": "BNBBTC", "id": 28457, "orderId": 100234, "orderListId": -1, "price": "4.00000100",
    "qty": "12.00000000", "quoteQty": "48.000012", "commission": "10.10000000", "commissionAsset": "BNB",
    "time": 1499865549590, "isBuyer": True, "isMaker": False, "isBestMatch": True,
}

# GET /api/v3/klines (one row)
KLINE_ROW = [1499040000000, "0.01634790", "0.80000000", "0.01575800", "0.01577100", "148976.11427815",
             1499644799999, "2434.19055334", 308, "1756.87402397", "28.46694368", "0"]

# GET /api/v3/depth
DEPTH = {"lastUpdateId": 1027024, "bids": [["4.00000000", "431.00000000"]], "asks": [["4.00000200", "12.00000000"]]}

# Market streams (raw payloads)
TRADE_EVENT = {"e": "trade", "E": 1672515782136, "s": "BNBBTC", "t": 12345, "p": "0.001", "q": "100", "b": 88,
               "a": 50, "T": 1672515782136, "m": True, "M": True}
KLINE_EVENT = {"e": "kline", "E": 1672515782136, "s": "BNBBTC",
               "k": {"t": 1672515780000, "T": 1672515839999, "s": "BNBBTC", "i": "1m", "f": 100, "L": 200,
                     "o": "0.0010", "c": "0.0020", "h": "0.0025", "l": "0.0015", "v": "1000", "n": 100, "x": False,
                     "q": "1.0000", "V": "500", "Q": "0.500", "B": "123456"}}
TICKER_EVENT = {"e": "24hrTicker", "E": 1672515782136, "s": "BNBBTC", "p": "0.0015", "P": "250.00",
                "w": "0.0018", "x": "0.0009", "c": "0.0025", "Q": "10", "b": "0.0024", "B": "10", "a": "0.0026",
                "A": "100", "o": "0.0010", "h": "0.0025", "l": "0.0010", "v": "10000", "q": "18", "O": 0,
                "C": 86400000, "F": 0, "L": 18150, "n": 18151}
BOOK_TICKER_EVENT = {"u": 400900217, "s": "BNBUSDT", "b": "25.35190000", "B": "31.21000000", "a": "25.36520000",
                     "A": "40.66000000"}
DEPTH_EVENT = {"e": "depthUpdate", "E": 1672515782136, "s": "BNBBTC", "U": 157, "u": 160,
               "b": [["0.0024", "10"]], "a": [["0.0026", "100"]]}

# User data stream
EXECUTION_REPORT = {
    "e": "executionReport", "E": 1499405658658, "s": "ETHBTC", "c": "mUvoqJxFIILMdfAW5iGSOW", "S": "BUY",
    "o": "LIMIT", "f": "GTC", "q": "1.00000000", "p": "0.10264410", "P": "0.00000000", "F": "0.00000000",
    "g": -1, "C": "", "x": "NEW", "X": "NEW", "r": "NONE", "i": 4293153, "l": "0.00000000", "z": "0.00000000",
    "L": "0.00000000", "n": "0", "N": None, "T": 1499405658657, "t": -1, "I": 8641984, "w": True, "m": False,
    "M": False, "O": 1499405658657, "Z": "0.00000000", "Y": "0.00000000", "Q": "0.00000000",
    "W": 1499405658657, "V": "NONE",
}
ACCOUNT_POSITION = {"e": "outboundAccountPosition", "E": 1564034571105, "u": 1564034571073,
                    "B": [{"a": "ETH", "f": "10000.000000", "l": "0.000000"}]}
BALANCE_UPDATE = {"e": "balanceUpdate", "E": 1573200697110, "a": "BTC", "d": "100.00000000", "T": 1573200697068}
LISTEN_KEY = {"listenKey": "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"}


def raw(payload: object) -> bytes:
    return msgspec.json.encode(payload)


def combined(stream: str, payload: object) -> str:
    return msgspec.json.encode({"stream": stream, "data": payload}).decode()


Handler = Callable[[httpx.Request], httpx.Response]


def broker_on(handler: Handler, *, options: dict[str, str] | None = None, recv_window_ms: int = 5000,
              api_key: str = DOC_API_KEY, secret: str = DOC_SECRET) -> BinanceBroker:
    """A BinanceBroker whose REST traffic goes to ``handler`` (httpx MockTransport), never the network."""
    settings = BrokerSettings(venue="binance", rest_url="https://api.binance.test", ws_url="wss://stream.binance.test",
                              credentials=Credentials.from_strings(api_key, secret), recv_window_ms=recv_window_ms,
                              options=options or {})
    broker = BinanceBroker(settings)
    broker.rest._transport = httpx.MockTransport(handler)
    return broker
