"""Kraken answers as published, with their provenance.

Checked against the pages in this phase (text compared): the book-checksum snapshot and its strings, the
websocket v2 book update, the executions "Pending" example and its subscribe ack. Quoted from
python-kraken-sdk 3.5.1's docstrings (Kraken's examples or captured answers): AssetPairs XXBTZUSD, the DOT
asset, OpenOrders, TradesHistory, TradeBalance without positions, OpenPositions' first row, Earn
strategies and allocations. The other REST and websocket examples are Kraken's page examples as they were
known to us, not re-read this time (their shapes match the SDK's and the schemas' field lists); the
client phase should diff them against the live pages.

A few rows are constructed for the tests and say so: a dark-pool pair, a pair on another execution venue,
a DOGE pair (Kraken's ``XXDG`` / ``XDG`` names), the ETH/USD and BTC/GBP pairs the order and trade samples
refer to, a second OpenPositions row, a cl_ord_id'd closed order, the executions "trade" report (fields as
the page's schema lists them) and the balances messages.
"""

from __future__ import annotations

# --- public REST ------------------------------------------------------------------------------------------

# api-reference/spot-rest/market-data/get-server-time
SERVER_TIME = b'{"error": [], "result": {"unixtime": 1688669448, "rfc1123": "Thu, 06 Jul 23 18:50:48 +0000"}}'

# .../get-system-status
SYSTEM_STATUS = b'{"error": [], "result": {"status": "online", "timestamp": "2023-07-06T18:52:00Z"}}'

# .../get-asset-info (XXBT, ZEUR, ZUSD as published; DOT from python-kraken-sdk's get_assets docstring;
# XXDG constructed)
ASSETS = b"""{"error": [], "result": {
  "XXBT": {"aclass": "currency", "altname": "XBT", "decimals": 10, "display_decimals": 5, "collateral_value": 1,
           "status": "enabled"},
  "ZEUR": {"aclass": "currency", "altname": "EUR", "decimals": 4, "display_decimals": 2, "collateral_value": 1,
           "status": "enabled"},
  "ZUSD": {"aclass": "currency", "altname": "USD", "decimals": 4, "display_decimals": 2, "collateral_value": 1,
           "status": "enabled"},
  "XETH": {"aclass": "currency", "altname": "ETH", "decimals": 10, "display_decimals": 5, "collateral_value": 1,
           "status": "enabled"},
  "DOT": {"aclass": "currency", "altname": "DOT", "decimals": 10, "display_decimals": 8, "collateral_value": 0.9,
          "status": "enabled"},
  "XXDG": {"aclass": "currency", "altname": "XDG", "decimals": 8, "display_decimals": 2, "status": "enabled"},
  "ZGBP": {"aclass": "currency", "altname": "GBP", "decimals": 4, "display_decimals": 2, "status": "enabled"}
}}"""

# .../get-tradable-asset-pairs: XETHXXBT as the page publishes it (with the fee schedule it had before the
# 2026-09-08 change); XXBTZUSD as python-kraken-sdk's get_asset_pairs docstring quotes it today (fees empty).
ASSET_PAIRS = b"""{"error": [], "result": {
  "XETHXXBT": {"altname": "ETHXBT", "wsname": "ETH/XBT", "aclass_base": "currency", "base": "XETH",
               "aclass_quote": "currency", "quote": "XXBT", "lot": "unit", "cost_decimals": 6,
               "pair_decimals": 5, "lot_decimals": 8, "lot_multiplier": 1, "leverage_buy": [2, 3, 4, 5],
               "leverage_sell": [2, 3, 4, 5],
               "fees": [[0, 0.26], [50000, 0.24], [100000, 0.22], [250000, 0.2], [500000, 0.18], [1000000, 0.16],
                        [2500000, 0.14], [5000000, 0.12], [10000000, 0.1]],
               "fees_maker": [[0, 0.16], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08],
                              [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0.0]],
               "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40, "ordermin": "0.01",
               "costmin": "0.00002", "tick_size": "0.00001", "status": "online", "long_position_limit": 1100,
               "short_position_limit": 400},
  "XXBTZUSD": {"altname": "XBTUSD", "wsname": "XBT/USD", "aclass_base": "currency", "base": "XXBT",
               "aclass_quote": "currency", "quote": "ZUSD", "lot": "unit", "cost_decimals": 5,
               "pair_decimals": 1, "lot_decimals": 8, "lot_multiplier": 1, "leverage_buy": [2, 3, 4, 5],
               "leverage_sell": [2, 3, 4, 5], "fees": [], "fees_maker": [], "fee_volume_currency": "ZUSD",
               "margin_call": 80, "margin_stop": 40, "ordermin": "0.0001", "costmin": "0.5", "tick_size": "0.1",
               "status": "online", "long_position_limit": 270, "short_position_limit": 180},
  "DOTUSD": {"altname": "DOTUSD", "wsname": "DOT/USD", "base": "DOT", "quote": "ZUSD", "pair_decimals": 4,
             "lot_decimals": 8, "leverage_buy": [], "leverage_sell": [], "ordermin": "0.5", "costmin": "0.5",
             "tick_size": "0.0001", "status": "cancel_only"},
  "XDGUSD": {"altname": "XDGUSD", "wsname": "XDG/USD", "base": "XXDG", "quote": "ZUSD", "pair_decimals": 7,
             "lot_decimals": 8, "leverage_buy": [2, 3], "leverage_sell": [2], "ordermin": "50", "costmin": "0.5",
             "tick_size": "0.0000001", "status": "online"},
  "XETHZUSD": {"altname": "ETHUSD", "wsname": "ETH/USD", "base": "XETH", "quote": "ZUSD", "pair_decimals": 2,
               "lot_decimals": 8, "leverage_buy": [2, 3, 4, 5], "leverage_sell": [2, 3, 4, 5], "ordermin": "0.002",
               "costmin": "0.5", "tick_size": "0.01", "status": "online", "margin_call": 80, "margin_stop": 40},
  "XXBTZGBP": {"altname": "XBTGBP", "wsname": "XBT/GBP", "base": "XXBT", "quote": "ZGBP", "pair_decimals": 1,
               "lot_decimals": 8, "ordermin": "0.0001", "costmin": "0.5", "tick_size": "0.1", "status": "online"},
  "XXBTZUSD.d": {"altname": "XBTUSD.d", "base": "XXBT", "quote": "ZUSD", "pair_decimals": 1, "lot_decimals": 8,
                 "ordermin": "1", "status": "online"},
  "XBTUSD.BN": {"altname": "XBTUSD.BN", "wsname": "XBT/USD.BN", "base": "XXBT", "quote": "ZUSD",
                "pair_decimals": 1, "lot_decimals": 8, "status": "online", "execution_venue": "bitnomial_exchange"}
}}"""

# .../get-ticker-information
TICKER = b"""{"error": [], "result": {"XXBTZUSD": {
  "a": ["30300.10000", "1", "1.000"], "b": ["30300.00000", "1", "1.000"], "c": ["30303.20000", "0.00067643"],
  "v": ["4083.67001100", "4412.73601799"], "p": ["30706.77771", "30689.13205"], "t": [34619, 38907],
  "l": ["29868.30000", "29868.30000"], "h": ["31631.00000", "31631.00000"], "o": "30502.80000"}}}"""

# .../get-ohlc-data (abbreviated to three rows)
OHLC = b"""{"error": [], "result": {"XXBTZUSD": [
  [1688671200, "30306.1", "30306.2", "30305.7", "30305.7", "30306.1", "3.39243896", 23],
  [1688671260, "30304.5", "30304.5", "30300.0", "30300.0", "30300.3", "4.42996871", 18],
  [1688671320, "30300.3", "30300.4", "30291.4", "30291.4", "30294.7", "2.13024789", 25]],
  "last": 1688672160}}"""

# .../get-recent-trades (abbreviated to two rows)
RECENT_TRADES = b"""{"error": [], "result": {"XXBTZUSD": [
  ["30243.40000", "0.34507674", 1688669597.8277369, "b", "m", "", 61044952],
  ["30243.30000", "0.00376960", 1688669598.2804112, "s", "l", "", 61044953]],
  "last": "1688671969993150842"}}"""

# .../get-order-book (count=2)
DEPTH = b"""{"error": [], "result": {"XXBTZUSD": {
  "asks": [["30384.10000", "2.059", 1688671659], ["30387.90000", "1.500", 1688671380]],
  "bids": [["30297.00000", "1.115", 1688671636], ["30296.70000", "2.002", 1688671674]]}}}"""

# --- private REST -----------------------------------------------------------------------------------------

# api-reference/spot-rest/account-data/get-account-balance (plus an Earn-suffixed row)
BALANCE = b"""{"error": [], "result": {"ZUSD": "171288.6158", "ZEUR": "504861.8946", "XXBT": "1011.1908877900",
  "XETH": "818.5500000000", "DOT.S": "12.5000000000"}}"""

# .../get-extended-balance
BALANCE_EX = b"""{"error": [], "result": {
  "ZUSD": {"balance": "25435.21", "hold_trade": "8249.76"},
  "XXBT": {"balance": "1.2", "hold_trade": "0"}}}"""

# .../get-trade-balance (the page's example, with open positions)
TRADE_BALANCE = b"""{"error": [], "result": {"eb": "1101.3425", "tb": "392.2264", "m": "7.0354", "n": "-10.0232",
  "c": "21.1063", "v": "31.1297", "e": "382.2032", "mf": "375.1678", "ml": "5432.57"}}"""

# python-kraken-sdk get_trade_balance docstring: an account without positions (no "ml")
TRADE_BALANCE_NO_POSITIONS = b"""{"error": [], "result": {"eb": "983691.5512", "tb": "322296.9914", "m": "0.0000",
  "uv": "0.0000", "n": "0.0000", "c": "0.0000", "v": "0.0000", "e": "983691.5512", "mf": "322296.9914"}}"""

# python-kraken-sdk get_open_orders docstring (a captured answer)
OPEN_ORDERS = b"""{"error": [], "result": {"open": {"OCUG7Z-4EM5R-7ZCJ47": {
  "refid": null, "userref": 0, "status": "open", "opentm": 1680777427.576083, "starttm": 0, "expiretm": 0,
  "descr": {"pair": "ETHUSD", "type": "buy", "ordertype": "limit", "price": "1720.37", "price2": "0",
            "leverage": "none", "order": "buy 0.02000000 ETHUSD @ limit 1720.37", "close": ""},
  "vol": "0.02000000", "vol_exec": "0.00000000", "cost": "0.00000", "fee": "0.00000", "price": "0.00000",
  "stopprice": "0.00000", "limitprice": "0.00000", "misc": "", "oflags": "fciq"}}}}"""

# api-reference/spot-rest/account-data/get-closed-orders (one of the page's two orders), plus cl_ord_id
CLOSED_ORDERS = b"""{"error": [], "result": {"closed": {
  "O37652-RJWRT-IMO74O": {"refid": "None", "userref": 1, "status": "canceled", "reason": "User requested",
    "opentm": 1688148493.7708, "closetm": 1688148610.0482, "starttm": 0, "expiretm": 0,
    "descr": {"pair": "XBTGBP", "type": "buy", "ordertype": "stop-loss-limit", "price": "23667.0", "price2": "0",
              "leverage": "none", "order": "buy 0.00100000 XBTGBP @ limit 23667.0", "close": ""},
    "vol": "0.00100000", "vol_exec": "0.00000000", "cost": "0.00000", "fee": "0.00000", "price": "0.00000",
    "stopprice": "0.00000", "limitprice": "0.00000", "misc": "", "oflags": "fciq", "trigger": "index"},
  "O6YDQ5-LOMWU-37YKEE": {"refid": "None", "userref": null, "cl_ord_id": "6d1b345e-2821-40e2-ad83-4ecb18a06876",
    "status": "closed", "opentm": 1688148493.7708, "closetm": 1688148493.7709, "starttm": 0, "expiretm": 0,
    "descr": {"pair": "XBTUSD", "type": "sell", "ordertype": "market", "price": "0", "price2": "0",
              "leverage": "none", "order": "sell 0.01000000 XBTUSD @ market", "close": ""},
    "vol": "0.01000000", "vol_exec": "0.01000000", "cost": "303.00000", "fee": "0.78780", "price": "30300.0",
    "stopprice": "0.00000", "limitprice": "0.00000", "misc": "", "oflags": "fcib", "trades": ["TZX2WP-XSEOP-FP7WYR"]}
  }, "count": 2}}"""

# python-kraken-sdk get_trades_history docstring (a captured answer, one trade)
TRADES_HISTORY = b"""{"error": [], "result": {"count": 630, "trades": {"TPLJ5E-NONOU-5LH7JL": {
  "ordertxid": "OBGFYP-XVQNL-P4GMWF", "postxid": "TKH2SE-M7IF5-CFI7LT", "pair": "XETHZUSD",
  "time": 1680777419.8115635, "type": "buy", "ordertype": "limit", "price": "1860.76000", "cost": "37.21520",
  "fee": "0.05954", "vol": "0.02000000", "margin": "0.00000", "leverage": "0", "misc": "", "trade_id": 43914718,
  "maker": true}}}}"""

# api-reference/spot-rest/account-data/get-open-positions (docalcs=true)
OPEN_POSITIONS = b"""{"error": [], "result": {"TF5GVO-T7ZZ2-6NBKBI": {
  "ordertxid": "O0SFFP-ABH4R-LOLNFG", "posstatus": "open", "pair": "XXBTZUSD", "time": 1618748097.12341,
  "type": "buy", "ordertype": "limit", "cost": "801243.52842", "fee": "208.44527", "vol": "8.82412861",
  "vol_closed": "0.20200000", "margin": "17234.123968", "value": "231463.1", "net": "+134186.9728",
  "terms": "0.0100% per 4 hours", "rollovertm": "1623672637", "misc": "", "oflags": ""},
  "T6YDQ5-KCCUI-7PTUVM": {
  "ordertxid": "OAJLN4-SXMFV-H6YTXZ", "posstatus": "open", "pair": "XXBTZUSD", "time": 1618748097.2,
  "type": "buy", "ordertype": "market", "cost": "10000.00000", "fee": "2.60000", "vol": "0.30000000",
  "vol_closed": "0.00000000", "margin": "2000.000000", "value": "9100.0", "net": "-900.0000",
  "terms": "0.0100% per 4 hours", "rollovertm": "1623672637", "misc": "", "oflags": ""}}}"""

# api-reference/spot-rest/trading/add-order
ADD_ORDER = b"""{"error": [], "result": {"descr": {"order": "buy 1.25000000 XBTUSD @ limit 27500.0"},
  "txid": ["OU22CG-KLAF2-FWUDD7"]}}"""
ADD_ORDER_VALIDATE = b"""{"error": [], "result": {"descr": {"order": "buy 1.25000000 XBTUSD @ limit 27500.0"}}}"""
ADD_ORDER_REFUSED = b'{"error": ["EOrder:Insufficient funds"]}'

# .../cancel-order, .../cancel-all-orders-after, .../get-websockets-token
CANCEL_ORDER = b'{"error": [], "result": {"count": 1}}'
CANCEL_ALL_ORDERS_AFTER = b"""{"error": [], "result": {"currentTime": "2023-03-24T17:41:56Z",
  "triggerTime": "2023-03-24T17:42:56Z"}}"""
WEBSOCKETS_TOKEN = b"""{"error": [], "result": {"token": "1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw",
  "expires": 900}}"""

# --- Earn ------------------------------------------------------------------------------------------------

# python-kraken-sdk list_earn_strategies docstring (a captured answer; the page's example has the same shape)
EARN_STRATEGIES = b"""{"error": [], "result": {"next_cursor": null, "items": [
  {"id": "ESMWVX6-JAPVY-23L3CV", "asset": "DOT",
   "lock_type": {"type": "bonded", "payout_frequency": 604800, "bonding_period": 0,
                 "bonding_period_variable": false, "bonding_rewards": false, "unbonding_period": 2419200,
                 "unbonding_period_variable": false, "unbonding_rewards": false, "exit_queue_period": 0},
   "apr_estimate": {"low": "15.0000", "high": "21.0000"}, "user_min_allocation": "0.01",
   "allocation_fee": "0.0000", "deallocation_fee": "0.0000", "auto_compound": {"type": "enabled"},
   "yield_source": {"type": "staking"}, "can_allocate": true, "can_deallocate": true,
   "allocation_restriction_info": []},
  {"id": "ESRFUO3-Q62XD-WIOIL7", "asset": "DOT", "lock_type": {"type": "instant", "payout_frequency": 604800},
   "apr_estimate": {"low": "7.0000", "high": "11.0000"}, "user_min_allocation": "0.01",
   "allocation_fee": "0.0000", "deallocation_fee": "0.0000", "auto_compound": {"type": "enabled"},
   "yield_source": {"type": "staking"}, "can_allocate": true, "can_deallocate": true,
   "allocation_restriction_info": []},
  {"id": "ESXUM7H-SJHQ6-KOQNNI", "asset": "XBT", "lock_type": {"type": "flex"},
   "user_min_allocation": "0.0001", "can_allocate": true, "can_deallocate": true,
   "allocation_restriction_info": ["tier"]}]}}"""

# api-reference/spot-rest/earn/list-allocations (one item, amounts as published)
EARN_ALLOCATIONS = b"""{"error": [], "result": {"converted_asset": "USD", "total_allocated": "49.2398",
  "total_rewarded": "0.0675", "next_cursor": "2", "items": [
  {"strategy_id": "ESDQCOL-WTZEU-NU55QF", "native_asset": "ETH",
   "amount_allocated": {
     "bonding": {"native": "0.0210000000", "converted": "39.0645", "allocation_count": 2,
                 "allocations": [{"created_at": "2023-07-06T10:52:05Z", "expires": "2023-08-19T02:34:05.807Z",
                                  "native": "0.0010000000", "converted": "1.8602"}]},
     "total": {"native": "0.0210000000", "converted": "39.0645"}},
   "total_rewarded": {"native": "0", "converted": "0.0000"}}]}}"""
EARN_ALLOCATE = b'{"error": [], "result": true}'
EARN_STATUS_PENDING = b'{"error": [], "result": {"pending": true}}'
EARN_STATUS_DONE = b'{"error": [], "result": {"pending": false}}'

# --- websocket v2 (api-reference/spot-websocket-v2/...) ------------------------------------------------------

WS_SUBSCRIBE_TICKER = b'{"method": "subscribe", "params": {"channel": "ticker", "symbol": ["ALGO/USD"]}}'
WS_SUBSCRIBE_ACK = b"""{"method": "subscribe", "result": {"channel": "ticker", "snapshot": true,
  "symbol": "ALGO/USD"}, "success": true, "time_in": "2023-09-25T09:04:31.742599Z",
  "time_out": "2023-09-25T09:04:31.742648Z"}"""
WS_SUBSCRIBE_REFUSED = b"""{"error": "Currency pair not supported", "method": "subscribe", "success": false,
  "symbol": "ALGO/XYZ", "time_in": "2023-09-25T09:04:31.742599Z", "time_out": "2023-09-25T09:04:31.742648Z"}"""
WS_EXECUTIONS_SUBSCRIBE_ACK = b"""{"method": "subscribe", "result": {"channel": "executions", "maxratecount": 125,
  "snap_orders": true, "snap_trades": true}, "success": true, "time_in": "2023-10-16T13:18:35.303171Z",
  "time_out": "2023-10-16T13:18:35.318297Z"}"""
WS_PING = b'{"method": "ping", "req_id": 101}'
WS_PONG = b"""{"method": "pong", "req_id": 101, "time_in": "2023-09-24T14:10:23.799685Z",
  "time_out": "2023-09-24T14:10:23.799703Z"}"""
WS_HEARTBEAT = b'{"channel": "heartbeat"}'
WS_STATUS = b"""{"channel": "status", "data": [{"api_version": "v2", "connection_id": 12393906104898154338,
  "system": "online", "version": "2.0.4"}], "type": "update"}"""

WS_TICKER = b"""{"channel": "ticker", "type": "snapshot", "data": [{"symbol": "ALGO/USD", "bid": 0.10025,
  "bid_qty": 740.0, "ask": 0.10036, "ask_qty": 1361.44813783, "last": 0.10035, "volume": 997038.98383185,
  "vwap": 0.10148, "low": 0.09979, "high": 0.10285, "change": -0.00017, "change_pct": -0.17}]}"""

WS_TRADE = b"""{"channel": "trade", "type": "update", "data": [{"symbol": "MATIC/USD", "side": "buy",
  "price": 0.5117, "qty": 40.0, "ord_type": "market", "trade_id": 4665906,
  "timestamp": "2023-09-25T07:49:37.708706Z"}]}"""

WS_OHLC = b"""{"channel": "ohlc", "type": "update", "timestamp": "2023-10-04T16:26:30.524394914Z", "data": [
  {"symbol": "MATIC/USD", "open": 0.5624, "high": 0.5628, "low": 0.5622, "close": 0.5627, "trades": 12,
   "volume": 30927.68066226, "vwap": 0.5626, "interval_begin": "2023-10-04T16:25:00.000000000Z", "interval": 5,
   "timestamp": "2023-10-04T16:30:00.000000Z"}]}"""

# guides/websockets/book-checksum-v2: the worked example (checksum 3310070434)
WS_BOOK_CHECKSUM_SNAPSHOT = b"""{"channel": "book", "type": "snapshot", "data": [{"symbol": "BTC/USD",
  "bids": [{"price": 45283.5, "qty": 0.10000000}, {"price": 45283.4, "qty": 1.54582015},
           {"price": 45282.1, "qty": 0.10000000}, {"price": 45281.0, "qty": 0.10000000},
           {"price": 45280.3, "qty": 1.54592586}, {"price": 45279.0, "qty": 0.07990000},
           {"price": 45277.6, "qty": 0.03310103}, {"price": 45277.5, "qty": 0.30000000},
           {"price": 45277.3, "qty": 1.54602737}, {"price": 45276.6, "qty": 0.15445238}],
  "asks": [{"price": 45285.2, "qty": 0.00100000}, {"price": 45286.4, "qty": 1.54571953},
           {"price": 45286.6, "qty": 1.54571109}, {"price": 45289.6, "qty": 1.54560911},
           {"price": 45290.2, "qty": 0.15890660}, {"price": 45291.8, "qty": 1.54553491},
           {"price": 45294.7, "qty": 0.04454749}, {"price": 45296.1, "qty": 0.35380000},
           {"price": 45297.5, "qty": 0.09945542}, {"price": 45299.5, "qty": 0.18772827}],
  "checksum": 3310070434}]}"""
WS_BOOK_CHECKSUM = 3310070434
WS_BOOK_ASKS_STRING = ("45285210000045286415457195345286615457110945289615456091145290215890660"
                       "452918154553491452947445474945296135380000452975994554245299518772827")
WS_BOOK_BIDS_STRING = ("452835100000004528341545820154528211000000045281010000000452803154592586"
                       "452790799000045277633101034527753000000045277315460273745276615445238")

# api-reference/spot-websocket-v2/book: the update example
WS_BOOK_UPDATE = b"""{"channel": "book", "type": "update", "data": [{"symbol": "MATIC/USD",
  "bids": [{"price": 0.5657, "qty": 1098.3947558}], "asks": [], "checksum": 2114181697,
  "timestamp": "2023-10-06T17:35:55.440295Z"}]}"""

# api-reference/spot-websocket-v2/executions: "Example: Pending"
WS_EXECUTIONS_PENDING = b"""{"channel": "executions", "type": "update", "data": [{"order_id": "OK4GJX-KSTLS-7DZZO5",
  "order_userref": 3, "symbol": "BTC/USD", "order_qty": 0.005, "cum_cost": 0.0, "time_in_force": "GTC",
  "exec_type": "pending_new", "side": "sell", "order_type": "limit", "limit_price_type": "static",
  "limit_price": 26500.0, "stop_price": 0.0, "order_status": "pending_new", "fee_usd_equiv": 0.0,
  "fee_ccy_pref": "fciq", "timestamp": "2023-09-22T10:33:05.709950Z"}], "sequence": 8}"""

# .../executions "Example: Execution" (fields as the page's schema lists them for exec_type trade)
WS_EXECUTIONS_TRADE = b"""{"channel": "executions", "type": "update", "data": [{"order_id": "O6ETBI-ANGGR-ENQ4HK",
  "cl_ord_id": "6d1b345e-2821-40e2-ad83-4ecb18a06876", "order_userref": 0, "exec_id": "TOO7KS-P2G4K-XGZJIV",
  "exec_type": "trade", "trade_id": 4665869, "symbol": "BTC/USD", "side": "buy", "last_qty": 0.0025,
  "last_price": 26596.1, "liquidity_ind": "t", "cost": 66.49025, "order_status": "filled",
  "order_type": "market", "timestamp": "2023-09-22T10:33:05.709993Z", "fee_usd_equiv": 0.17287,
  "fees": [{"asset": "USD", "qty": 0.17287}], "cum_qty": 0.0025, "cum_cost": 66.49025, "avg_price": 26596.1,
  "order_qty": 0.0025}], "sequence": 9}"""

# .../balances: snapshot and a trade update
WS_BALANCES_SNAPSHOT = b"""{"channel": "balances", "type": "snapshot", "data": [
  {"asset": "BTC", "asset_class": "currency", "balance": 1.2,
   "wallets": [{"type": "spot", "id": "main", "balance": 1.2}]},
  {"asset": "USD", "asset_class": "currency", "balance": 25435.21,
   "wallets": [{"type": "spot", "id": "main", "balance": 25435.21}]}], "sequence": 1}"""
WS_BALANCES_UPDATE = b"""{"channel": "balances", "type": "update", "data": [{"ledger_id": "DATKX6-PEHL1-HZKND8",
  "ref_id": "LKAKN2-N6LDN-5QPX2W", "timestamp": "2023-09-22T10:33:05.709993Z", "type": "trade",
  "asset": "BTC", "asset_class": "currency", "category": "trade", "wallet_type": "spot", "wallet_id": "main",
  "amount": 0.0025, "fee": 0.0, "balance": 1.2025}], "sequence": 2}"""
