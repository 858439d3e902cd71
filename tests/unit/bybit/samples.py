"""Bybit V5 sample answers as published in the official docs (bybit-exchange/docs, docs/v5/...).

Pasted as published (facts), with two exceptions marked below where the page elides levels with
``...``. Wallet-balance adds ``locked`` / ``""`` values as Bybit sends them today (the wallet stream
page documents ``locked``; captured UTA 2.0 answers show ``availableToWithdraw: ""``).
"""

from __future__ import annotations

# docs/v5/market/time.mdx
SERVER_TIME = b"""{"retCode": 0, "retMsg": "OK",
 "result": {"timeSecond": "1688639403", "timeNano": "1688639403423213947"},
 "retExtInfo": {}, "time": 1688639403423}"""

# docs/v5/market/instrument.mdx, Linear tab (official USDT Perpetual instrument structure)
INSTRUMENTS_LINEAR = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {
        "category": "linear",
        "list": [
            {
                "symbol": "BTCUSDT", "symbolId": 5, "contractType": "LinearPerpetual", "status": "Trading",
                "baseCoin": "BTC", "quoteCoin": "USDT", "launchTime": "1585526400000", "deliveryTime": "0",
                "deliveryFeeRate": "", "priceScale": "2",
                "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
                "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
                "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": "0.001", "qtyStep": "0.001",
                                  "postOnlyMaxOrderQty": "1190.000", "maxMktOrderQty": "500.000",
                                  "minNotionalValue": "5"},
                "unifiedMarginTrade": true, "fundingInterval": 480, "settleCoin": "USDT", "copyTrading": "both",
                "upperFundingRate": "0.00375", "lowerFundingRate": "-0.00375", "isPreListing": false,
                "preListingInfo": null,
                "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"}, "symbolType": ""
            }
        ],
        "nextPageCursor": ""
    },
    "retExtInfo": {}, "time": 1735809771618
}"""

# docs/v5/market/instrument.mdx, Spot tab
INSTRUMENTS_SPOT = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {
        "category": "spot",
        "list": [
            {
                "symbolId": 9, "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "innovation": "0",
                "status": "Trading", "marginTrading": "utaOnly", "stTag": "0",
                "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.0000001",
                                  "minOrderQty": "0.000011", "maxOrderQty": "83", "minOrderAmt": "5",
                                  "maxOrderAmt": "8000000", "maxLimitOrderQty": "83", "maxMarketOrderQty": "41.5",
                                  "postOnlyMaxLimitOrderSize": "60000"},
                "priceFilter": {"tickSize": "0.1"},
                "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
                "symbolType": ""
            }
        ]
    },
    "retExtInfo": {}, "time": 1760027412300
}"""

# An inverse perpetual row in the Linear/Inverse shape of the same page (BTCUSD: qty in USD contracts).
INSTRUMENTS_INVERSE = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {
        "category": "inverse",
        "list": [
            {
                "symbol": "BTCUSD", "contractType": "InversePerpetual", "status": "Trading",
                "baseCoin": "BTC", "quoteCoin": "USD", "launchTime": "1542211200000", "deliveryTime": "0",
                "deliveryFeeRate": "", "priceScale": "2",
                "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
                "priceFilter": {"minPrice": "0.50", "maxPrice": "999999.00", "tickSize": "0.50"},
                "lotSizeFilter": {"maxOrderQty": "1000000", "minOrderQty": "1", "qtyStep": "1",
                                  "postOnlyMaxOrderQty": "5000000", "maxMktOrderQty": "1000000"},
                "unifiedMarginTrade": false, "fundingInterval": 480, "settleCoin": "BTC"
            }
        ],
        "nextPageCursor": ""
    },
    "retExtInfo": {}, "time": 1672712495660
}"""

# docs/v5/market/tickers.mdx, Spot tab
TICKERS_SPOT = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {"category": "spot", "list": [{
        "symbol": "BTCUSDT", "bid1Price": "20517.96", "bid1Size": "2", "ask1Price": "20527.77",
        "ask1Size": "1.862172", "lastPrice": "20533.13", "prevPrice24h": "20393.48", "price24hPcnt": "0.0068",
        "highPrice24h": "21128.12", "lowPrice24h": "20318.89", "turnover24h": "243765620.65899866",
        "volume24h": "11801.27771", "usdIndexPrice": "20784.12009279"}]},
    "retExtInfo": {}, "time": 1673859087947
}"""

# docs/v5/market/tickers.mdx, Inverse tab (note the "" values)
TICKERS_INVERSE = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {"category": "inverse", "list": [{
        "symbol": "BTCUSD", "lastPrice": "16597.00", "indexPrice": "16598.54", "markPrice": "16596.00",
        "prevPrice24h": "16464.50", "price24hPcnt": "0.008047", "highPrice24h": "30912.50",
        "lowPrice24h": "15700.00", "prevPrice1h": "16595.50", "openInterest": "373504107",
        "openInterestValue": "22505.67", "turnover24h": "2352.94950046", "volume24h": "49337318",
        "fundingRate": "-0.001034", "nextFundingTime": "1672387200000", "predictedDeliveryPrice": "",
        "basisRate": "", "deliveryFeeRate": "", "deliveryTime": "0", "ask1Size": "1", "bid1Price": "16596.00",
        "ask1Price": "16597.50", "bid1Size": "1"}]},
    "retExtInfo": {}, "time": 1672376496682
}"""

# docs/v5/market/kline.mdx
KLINE = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {"symbol": "BTCUSD", "category": "inverse", "list": [
        ["1670608800000", "17071", "17073", "17027", "17055.5", "268611", "15.74462667"],
        ["1670605200000", "17071.5", "17071.5", "17061", "17071", "4177", "0.24469757"],
        ["1670601600000", "17086.5", "17088", "16978", "17071.5", "6356", "0.37288112"]]},
    "retExtInfo": {}, "time": 1672025956592
}"""

# docs/v5/market/orderbook.mdx
ORDERBOOK = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {"s": "BTCUSDT", "a": [["16638.64", "0.008479"]], "b": [["16638.27", "0.305749"]],
               "ts": 1672765737733, "u": 5277055},
    "retExtInfo": {}, "time": 1672765737734
}"""

# docs/v5/account/wallet-balance.mdx, plus "locked" and the UTA 2.0 "" fields (see module docstring)
WALLET_BALANCE = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {"list": [{
        "totalEquity": "18070.32797922", "accountIMRate": "0.0101", "totalMarginBalance": "18070.32797922",
        "totalInitialMargin": "182.60183684", "accountType": "UNIFIED", "totalAvailableBalance": "17887.72614237",
        "accountMMRate": "0", "totalPerpUPL": "-0.11001349", "totalWalletBalance": "18070.43799271",
        "totalMaintenanceMargin": "0.38106773",
        "coin": [{
            "availableToBorrow": "", "bonus": "0", "accruedInterest": "0", "availableToWithdraw": "",
            "totalOrderIM": "0", "equity": "0.805994", "totalPositionMM": "0", "usdValue": "12920.95352538",
            "unrealisedPnl": "0", "borrowAmount": "0", "totalPositionIM": "0", "walletBalance": "0.805994",
            "cumRealisedPnl": "0", "locked": "0.1", "coin": "BTC"}]}]},
    "retExtInfo": {}, "time": 1672125441042
}"""

# docs/v5/position/position.mdx
POSITIONS_INVERSE = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {"list": [{
        "positionIdx": 0, "riskId": 1, "riskLimitValue": "150", "symbol": "BTCUSD", "side": "Sell", "size": "300",
        "avgPrice": "27464.50441675", "positionValue": "0.01092319", "tradeMode": 0, "positionStatus": "Normal",
        "autoAddMargin": 1, "adlRankIndicator": 2, "leverage": "10", "positionBalance": "0.00139186",
        "markPrice": "28224.50", "liqPrice": "", "bustPrice": "999999.00", "positionMM": "0.0000015",
        "positionIM": "0.00010923", "tpslMode": "Full", "takeProfit": "0.00", "stopLoss": "0.00",
        "trailingStop": "0.00", "unrealisedPnl": "-0.00029413", "curRealisedPnl": "0.00013123",
        "cumRealisedPnl": "-0.00096902", "seq": 5723621632, "isReduceOnly": false, "mmrSysUpdateTime": "",
        "leverageSysUpdatedTime": "", "sessionAvgPrice": "", "createdTime": "1676538056258",
        "updatedTime": "1697673600012"}],
        "nextPageCursor": "", "category": "inverse"},
    "retExtInfo": {}, "time": 1697684980172
}"""

# docs/v5/order/create-order.mdx
ORDER_CREATE = b"""{"retCode": 0, "retMsg": "OK",
 "result": {"orderId": "1321003749386327552", "orderLinkId": "spot-test-postonly"},
 "retExtInfo": {}, "time": 1672211918471}"""

# docs/v5/order/open-order.mdx
ORDERS_REALTIME = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {"list": [{
        "orderId": "fd4300ae-7847-404e-b947-b46980a4d140", "orderLinkId": "test-000005", "blockTradeId": "",
        "symbol": "ETHUSDT", "price": "1600.00", "qty": "0.10", "side": "Buy", "isLeverage": "",
        "positionIdx": 1, "orderStatus": "New", "cancelType": "UNKNOWN", "rejectReason": "EC_NoError",
        "avgPrice": "0", "leavesQty": "0.10", "leavesValue": "160", "cumExecQty": "0.00", "cumExecValue": "0",
        "cumExecFee": "0", "timeInForce": "GTC", "orderType": "Limit", "stopOrderType": "UNKNOWN", "orderIv": "",
        "triggerPrice": "0.00", "takeProfit": "2500.00", "stopLoss": "1500.00", "tpTriggerBy": "LastPrice",
        "slTriggerBy": "LastPrice", "triggerDirection": 0, "triggerBy": "UNKNOWN", "lastPriceOnCreated": "",
        "reduceOnly": false, "closeOnTrigger": false, "smpType": "None", "smpGroup": 0, "smpOrderId": "",
        "tpslMode": "Full", "tpLimitPrice": "", "slLimitPrice": "", "placeType": "",
        "createdTime": "1684738540559", "updatedTime": "1684738540561", "cumFeeDetail": {"MNT": "0.00242968"}}],
        "nextPageCursor": "page_args%3Dfd4300ae-7847-404e-b947-b46980a4d140%26symbol%3D6%26",
        "category": "linear"},
    "retExtInfo": {}, "time": 1684765770483
}"""

# docs/v5/order/execution.mdx (GET /v5/execution/list)
EXECUTIONS = b"""{
    "retCode": 0, "retMsg": "OK",
    "result": {"nextPageCursor": "132766%3A2%2C132766%3A2", "category": "linear", "list": [{
        "symbol": "ETHPERP", "orderType": "Market", "underlyingPrice": "", "orderLinkId": "", "side": "Buy",
        "indexPrice": "", "orderId": "8c065341-7b52-4ca9-ac2c-37e31ac55c94", "stopOrderType": "UNKNOWN",
        "leavesQty": "0", "execTime": "1672282722429", "feeCurrency": "", "isMaker": false, "execFee": "0.071409",
        "feeRate": "0.0006", "execId": "e0cbe81d-0f18-5866-9415-cf319b5dab3b", "tradeIv": "", "blockTradeId": "",
        "markPrice": "1183.54", "execPrice": "1190.15", "markIv": "", "orderQty": "0.1", "orderPrice": "1236.9",
        "execValue": "119.015", "execType": "Trade", "execQty": "0.1", "closedSize": "", "extraFees": "",
        "seq": 4688002127}]},
    "retExtInfo": {}, "time": 1672283754510
}"""

# docs/v5/websocket/public/orderbook.mdx (the page elides levels with "..."; those are left out)
WS_ORDERBOOK_SNAPSHOT = b"""{"topic": "orderbook.50.BTCUSDT", "type": "snapshot", "ts": 1672304484978,
 "data": {"s": "BTCUSDT", "b": [["16493.50", "0.006"], ["16493.00", "0.100"]],
          "a": [["16611.00", "0.029"], ["16612.00", "0.213"]], "u": 18521288, "seq": 7961638724}}"""

# docs/v5/websocket/public/trade.mdx
WS_TRADE = b"""{"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": 1672304486868,
 "data": [{"T": 1672304486865, "s": "BTCUSDT", "S": "Buy", "v": "0.001", "p": "16578.50", "L": "PlusTick",
           "i": "20f43950-d8dd-5b31-9112-a178eb6023af", "BT": false}]}"""

# docs/v5/websocket/public/ticker.mdx, Linear tab
WS_TICKER_LINEAR = b"""{"topic": "tickers.BTCUSDT", "type": "snapshot",
 "data": {"symbol": "BTCUSDT", "tickDirection": "PlusTick", "price24hPcnt": "0.017103", "lastPrice": "17216.00",
          "prevPrice24h": "16926.50", "highPrice24h": "17281.50", "lowPrice24h": "16915.00",
          "prevPrice1h": "17238.00", "markPrice": "17217.33", "indexPrice": "17227.36",
          "openInterest": "68744.761", "openInterestValue": "1183601235.91", "turnover24h": "1570383121.943499",
          "volume24h": "91705.276", "nextFundingTime": "1673280000000", "fundingRate": "-0.000212",
          "bid1Price": "17215.50", "bid1Size": "84.489", "ask1Price": "17216.00", "ask1Size": "83.020"},
 "cs": 24987956059, "ts": 1673272861686}"""

# docs/v5/websocket/public/ticker.mdx, Spot tab (snapshot only, no best bid/ask)
WS_TICKER_SPOT = b"""{"topic": "tickers.BTCUSDT", "ts": 1672305380595, "type": "snapshot", "cs": 496622841,
 "data": {"symbol": "BTCUSDT", "lastPrice": "16363.78", "highPrice24h": "16566.64", "lowPrice24h": "16009.19",
          "prevPrice24h": "16443.66", "volume24h": "5865.470182", "turnover24h": "95949815.680875",
          "price24hPcnt": "-0.0049"}}"""

# docs/v5/websocket/public/kline.mdx
WS_KLINE = b"""{"topic": "kline.5.BTCUSDT", "data": [{"start": 1672324800000, "end": 1672325099999,
 "interval": "5", "open": "16649.5", "close": "16677", "high": "16677", "low": "16608", "volume": "2.081",
 "turnover": "34666.4005", "confirm": false, "timestamp": 1672324988882}], "ts": 1672324988882,
 "type": "snapshot"}"""

# docs/v5/websocket/private/order.mdx
WS_ORDER = b"""{"id": "5923240c6880ab-c59f-420b-9adb-3639adc9dd90", "topic": "order", "creationTime": 1672364262474,
 "data": [{"symbol": "ETH-30DEC22-1400-C", "orderId": "5cf98598-39a7-459e-97bf-76ca765ee020", "side": "Sell",
  "orderType": "Market", "cancelType": "UNKNOWN", "price": "72.5", "qty": "1", "orderIv": "",
  "timeInForce": "IOC", "orderStatus": "Filled", "orderLinkId": "", "lastPriceOnCreated": "",
  "reduceOnly": false, "leavesQty": "", "leavesValue": "", "cumExecQty": "1", "cumExecValue": "75",
  "avgPrice": "75", "blockTradeId": "", "positionIdx": 0, "cumExecFee": "0.358635", "closedPnl": "0",
  "createdTime": "1672364262444", "updatedTime": "1672364262457", "rejectReason": "EC_NoError",
  "stopOrderType": "", "tpslMode": "", "triggerPrice": "", "takeProfit": "", "stopLoss": "",
  "tpTriggerBy": "", "slTriggerBy": "", "tpLimitPrice": "", "slLimitPrice": "", "triggerDirection": 0,
  "triggerBy": "", "closeOnTrigger": false, "category": "option", "placeType": "price", "smpType": "None",
  "smpGroup": 0, "smpOrderId": "", "feeCurrency": "", "cumFeeDetail": {"MNT": "0.00242968"}}]}"""

# docs/v5/websocket/private/execution.mdx
WS_EXECUTION = b"""{"id": "592324803b2785-26fa-4214-9963-bdd4727f07be", "topic": "execution",
 "creationTime": 1672364174455, "data": [{"category": "linear", "symbol": "XRPUSDT", "execFee": "0.005061",
  "execId": "7e2ae69c-4edf-5800-a352-893d52b446aa", "execPrice": "0.3374", "execQty": "25", "execType": "Trade",
  "execValue": "8.435", "isMaker": false, "feeRate": "0.0006", "tradeIv": "", "markIv": "", "blockTradeId": "",
  "markPrice": "0.3391", "indexPrice": "", "underlyingPrice": "", "leavesQty": "0",
  "orderId": "f6e324ff-99c2-4e89-9739-3086e47f9381", "orderLinkId": "", "orderPrice": "0.3207",
  "orderQty": "25", "orderType": "Market", "stopOrderType": "UNKNOWN", "side": "Sell",
  "execTime": "1672364174443", "isLeverage": "0"}]}"""

# docs/v5/websocket/private/position.mdx
WS_POSITION = b"""{"id": "1003076014fb7eedb-c7e6-45d6-a8c1-270f0169171a", "topic": "position",
 "creationTime": 1697682317044, "data": [{"positionIdx": 2, "tradeMode": 0, "riskId": 1,
  "riskLimitValue": "2000000", "symbol": "BTCUSDT", "side": "", "size": "0", "entryPrice": "0", "leverage": "10",
  "positionValue": "0", "positionBalance": "0", "markPrice": "28184.5", "positionIM": "0", "positionMM": "0",
  "takeProfit": "0", "stopLoss": "0", "trailingStop": "0", "unrealisedPnl": "0", "curRealisedPnl": "1.26",
  "cumRealisedPnl": "-25.06579337", "sessionAvgPrice": "0", "createdTime": "1694402496913",
  "updatedTime": "1697682317038", "tpslMode": "Full", "liqPrice": "0", "bustPrice": "", "category": "linear",
  "positionStatus": "Normal", "adlRankIndicator": 0, "autoAddMargin": 0, "leverageSysUpdatedTime": "",
  "mmrSysUpdatedTime": "", "seq": 8327597863, "isReduceOnly": false}]}"""

# docs/v5/websocket/private/wallet.mdx
WS_WALLET = b"""{"id": "5923248e5d0ee3-faeb-4864-87e4-9cd63f785c1b", "topic": "wallet", "creationTime": 1690873065683,
 "data": [{"accountIMRate": "0.4782", "accountMMRate": "0.0151", "totalEquity": "19620.93864593",
  "totalWalletBalance": "18331.93856433", "totalMarginBalance": "18230.83251552",
  "totalAvailableBalance": "9511.52641225", "totalPerpUPL": "-101.10604881", "totalInitialMargin": "8719.30610327",
  "totalMaintenanceMargin": "277.05763376", "coin": [
   {"coin": "USDC", "equity": "0", "usdValue": "0", "walletBalance": "0", "availableToWithdraw": "0",
    "availableToBorrow": "1500000", "borrowAmount": "0", "accruedInterest": "0", "totalOrderIM": "0",
    "totalPositionIM": "0", "totalPositionMM": "0", "unrealisedPnl": "0", "cumRealisedPnl": "-1100.6552094",
    "bonus": "0", "collateralSwitch": true, "marginCollateral": true, "locked": "0"},
   {"coin": "USDT", "equity": "4.93036732", "usdValue": "4.9306623", "walletBalance": "106.03036732",
    "availableToWithdraw": "0", "availableToBorrow": "2500000", "borrowAmount": "0", "accruedInterest": "0",
    "totalOrderIM": "7539.624", "totalPositionIM": "1179.1604584", "totalPositionMM": "61.4170584",
    "unrealisedPnl": "-101.1", "cumRealisedPnl": "-55295.06268939", "bonus": "0", "collateralSwitch": true,
    "marginCollateral": true, "locked": "0"}],
  "accountLTV": "0", "accountType": "UNIFIED"}]}"""

# docs/v5/ws/connect: auth answer, public pong, private pong, subscribe answer
WS_AUTH_OK = b'{"success": true, "ret_msg": "", "op": "auth", "conn_id": "cejreaspqfh3sjdnldmg-p"}'
WS_PONG_PUBLIC = b"""{"success": true, "ret_msg": "pong", "conn_id": "465772b1-7630-4fdc-a492-e003e6f0f260",
 "req_id": "", "op": "ping"}"""
WS_PONG_PRIVATE = b'{"req_id": "test", "op": "pong", "args": ["1675418560633"], "conn_id": "cfcb4ocsvfriu23r3er0-1b"}'
WS_SUBSCRIBE_OK = b'{"success": true, "ret_msg": "", "op": "subscribe", "conn_id": "cejreassvfrsfvb9v1a0-2m"}'
