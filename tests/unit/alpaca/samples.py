"""Alpaca answers and stream frames as published in the official documentation (facts, pasted as published).

Sources (docs.alpaca.markets reference pages and their OpenAPI definitions, and the older
alpacahq/alpaca-docs repository where the current page shows no example); each sample names its page.
Samples marked "observed" are not on a docs page: they are answers reported from the live API in
public issue trackers, and say so.
"""

from __future__ import annotations

# reference/postorder, 200 response, example "Equity"
ORDER_EQUITY = b"""{
  "id": "7b08df51-c1ac-453c-99f9-323a5f075f0d",
  "client_order_id": "5680c4bc-9ac1-4a12-a44c-df427ba53032",
  "created_at": "2023-12-12T22:31:24.668464435Z",
  "updated_at": "2023-12-12T22:31:24.668464435Z",
  "submitted_at": "2023-12-12T22:31:24.577215743Z",
  "filled_at": null, "expired_at": null, "canceled_at": null, "failed_at": null,
  "replaced_at": null, "replaced_by": null, "replaces": null,
  "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
  "symbol": "AAPL", "asset_class": "us_equity",
  "notional": null, "qty": "2", "filled_qty": "0", "filled_avg_price": null,
  "order_class": "", "order_type": "limit", "type": "limit", "side": "buy", "time_in_force": "gtc",
  "limit_price": "150", "stop_price": null, "status": "accepted", "extended_hours": false,
  "legs": null, "trail_percent": null, "trail_price": null, "hwm": null, "subtag": null, "source": null
}"""

# docs/brokerapi-trading ("Sample Order Object"): a filled fractional market order
ORDER_FRACTIONAL_FILLED = b"""{
  "id": "39c489ad-fcb1-42b3-9f62-e14c11c62157",
  "client_order_id": "a49c3e74-3f74-468e-a31a-f7a15de17128",
  "created_at": "2024-05-20T09:56:41.449735Z",
  "updated_at": "2024-05-20T13:30:00.876162Z",
  "submitted_at": "2024-05-20T13:23:01.24795Z",
  "filled_at": "2024-05-20T13:30:00.865454Z",
  "expired_at": null, "canceled_at": null, "failed_at": null,
  "replaced_at": null, "replaced_by": null, "replaces": null,
  "asset_id": "7595a8d2-68a6-46d7-910c-6b1958491f5c",
  "symbol": "A", "asset_class": "us_equity",
  "notional": null, "qty": "0.1", "filled_qty": "0.1", "filled_avg_price": "154.03",
  "order_class": "", "order_type": "market", "type": "market", "side": "buy", "time_in_force": "day",
  "limit_price": null, "stop_price": null, "status": "filled", "extended_hours": false,
  "legs": null, "trail_percent": null, "trail_price": null, "hwm": null
}"""

# reference/getaccount-1, schema x-examples "example-1" (before the 2026-07-06 removal of the PDT fields)
ACCOUNT = b"""{
  "account_blocked": false, "account_number": "010203ABCD", "buying_power": "262113.632",
  "cash": "-23140.2", "created_at": "2019-06-12T22:47:07.99658Z", "currency": "USD", "daytrade_count": 0,
  "balance_asof": "2023-09-27", "daytrading_buying_power": "262113.632", "equity": "103820.56",
  "id": "e6fe16f3-64a4-4921-8928-cadf02f92f98", "initial_margin": "63480.38", "last_equity": "103529.24",
  "last_maintenance_margin": "38000.832", "long_market_value": "126960.76", "maintenance_margin": "38088.228",
  "multiplier": "4", "pattern_day_trader": false, "portfolio_value": "103820.56",
  "regt_buying_power": "80680.36", "options_buying_power": "40340.18", "short_market_value": "0",
  "shorting_enabled": true, "sma": "0", "status": "ACTIVE", "trade_suspended_by_user": false,
  "trading_blocked": false, "transfers_blocked": false, "options_approved_level": 2, "options_trading_level": 1,
  "intraday_adjustments": "0", "pending_reg_taf_fees": "0"
}"""

# reference/get-v2-assets-symbol_or_asset_id, x-examples "example-1"
ASSET_AAPL = b"""{
  "id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415", "class": "us_equity", "exchange": "NASDAQ", "symbol": "AAPL",
  "name": "Apple Inc. Common Stock", "status": "active", "tradable": true, "marginable": true,
  "shortable": true, "easy_to_borrow": true, "fractionable": true
}"""

# reference/getopenposition-1, x-examples "example-2"
POSITION_LONG = b"""{
  "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415", "symbol": "AAPL", "exchange": "NASDAQ",
  "asset_class": "us_equity", "asset_marginable": false, "qty": "2", "qty_available": "2",
  "avg_entry_price": "174.78", "side": "long", "market_value": "348.58", "cost_basis": "349.56",
  "unrealized_pl": "-0.98", "unrealized_plpc": "-0.0028035244307129", "unrealized_intraday_pl": "-0.98",
  "unrealized_intraday_plpc": "-0.0028035244307129", "current_price": "174.29", "lastday_price": "174.61",
  "change_today": "-0.0018326556325525"
}"""

# alpacahq/alpaca-docs data/webapi/entities/clock.yaml (the current page's example has no offsets)
CLOCK = b"""{
  "timestamp": "2022-04-28T14:07:04.451420928-04:00",
  "is_open": true,
  "next_open": "2022-04-29T09:30:00-04:00",
  "next_close": "2022-04-28T16:00:00-04:00"
}"""

# reference/getcalendar-1, items x-examples "example-1" (note "HHMM" session times, "HH:MM" open/close)
CALENDAR = b"""[{"date": "2022-02-01", "open": "09:30", "close": "16:00", "session_open": "0700",
  "session_close": "1900"}]"""

# reference/getaccountactivitiesbyactivitytype-1, AccountTradingActivities x-examples "example-1"
FILL_ACTIVITY = b"""[{
  "id": "20220202135509981::2d7be4ff-d1f3-43e9-856a-0f5cf5c5088e", "activity_type": "FILL",
  "transaction_time": "2022-02-02T18:55:09.981482Z", "type": "fill", "price": "174.78", "qty": "2",
  "side": "buy", "symbol": "AAPL", "leaves_qty": "0", "order_id": "b5abe576-6a8a-49f3-a353-46b72c1ccae9",
  "cum_qty": "2", "order_status": "filled"
}]"""

# observed: alpacahq/Alpaca-API issue #170, partial fills of one order in the same millisecond, listed
# out of order (cum_qty 869, 970, then the last fill); the third row is completed from its visible fields.
FILL_ACTIVITIES_SAME_MS = b"""[
  {"id": "20210127144930176::ddc0a142-ebfd-4890-9021-641d33e58742", "activity_type": "FILL",
   "transaction_time": "2021-01-27T19:49:30.176Z", "type": "partial_fill", "price": "31.6", "qty": "100",
   "side": "buy", "symbol": "QQQJ", "leaves_qty": "131", "order_id": "ee8058e5-41a0-48fd-8156-915ae0af6d17",
   "cum_qty": "869"},
  {"id": "20210127144930176::b68ca618-f2a3-42a4-804f-f7ffda59023a", "activity_type": "FILL",
   "transaction_time": "2021-01-27T19:49:30.176Z", "type": "partial_fill", "price": "31.6", "qty": "51",
   "side": "buy", "symbol": "QQQJ", "leaves_qty": "30", "order_id": "ee8058e5-41a0-48fd-8156-915ae0af6d17",
   "cum_qty": "970"},
  {"id": "20210127144930176::0ef90479-4a4a-44e4-b7a2-a4186c0d7dfb", "activity_type": "FILL",
   "transaction_time": "2021-01-27T19:49:30.176Z", "type": "fill", "price": "31.6", "qty": "30",
   "side": "buy", "symbol": "QQQJ", "leaves_qty": "0", "order_id": "ee8058e5-41a0-48fd-8156-915ae0af6d17",
   "cum_qty": "1000"}
]"""

# reference/stockbarsingle-1, 200 example "bars"
BARS_PAGE = b"""{"bars": [{"t": "2022-01-03T09:00:00Z", "o": 178.26, "h": 178.26, "l": 178.21, "c": 178.21,
  "v": 1118, "n": 65, "vw": 178.235733}], "symbol": "AAPL",
  "next_page_token": "QUFQTHxNfDIwMjItMDEtMDNUMDk6MDA6MDAuMDAwMDAwMDAwWg=="}"""

# alpacahq/alpaca-docs data/webapi/entities/snapshot-ticker-v2.yaml
SNAPSHOT = b"""{
  "symbol": "AAPL",
  "latestTrade": {"t": "2021-05-11T20:00:00.435997104Z", "x": "Q", "p": 125.91, "s": 5589631, "c": ["@", "M"],
                  "i": 179430, "z": "C"},
  "latestQuote": {"t": "2021-05-11T22:05:02.307304704Z", "ax": "P", "ap": 125.68, "as": 12, "bx": "P",
                  "bp": 125.6, "bs": 4, "c": ["R"]},
  "minuteBar": {"t": "2021-05-11T22:02:00Z", "o": 125.66, "h": 125.66, "l": 125.66, "c": 125.66, "v": 396},
  "dailyBar": {"t": "2021-05-11T04:00:00Z", "o": 123.5, "h": 126.27, "l": 122.77, "c": 125.91, "v": 125863164},
  "prevDailyBar": {"t": "2021-05-10T04:00:00Z", "o": 129.41, "h": 129.54, "l": 126.81, "c": 126.85,
                   "v": 79569305}
}"""

# --- trading stream (docs/websocket-streaming) ----------------------------------------------------------

TRADING_AUTHORIZED = b'{"stream": "authorization", "data": {"status": "authorized", "action": "authenticate"}}'
TRADING_UNAUTHORIZED = b'{"stream": "authorization", "data": {"status": "unauthorized", "action": "authenticate"}}'
TRADING_LISTEN_UNAUTHORIZED = b'{"stream": "authorization", "data": {"status": "unauthorized", "action": "listen"}}'
TRADING_LISTENING = b'{"stream": "listening", "data": {"streams": ["trade_updates"]}}'
TRADING_AUTH_MESSAGE_SHAPE = {"action": "authenticate",
                              "data": {"key_id": "{YOUR_API_KEY_ID}", "secret_key": "{YOUR_API_SECRET_KEY}"}}
TRADING_LISTEN_MESSAGE = {"action": "listen", "data": {"streams": ["trade_updates"]}}

# docs/websocket-streaming, "Example"
TRADE_UPDATE_FILL = b"""{
  "stream": "trade_updates",
  "data": {
    "event": "fill",
    "execution_id": "2f63ea93-423d-4169-b3f6-3fdafc10c418",
    "order": {
      "asset_class": "crypto", "asset_id": "1cf35270-99ee-44e2-a77f-6fab902c7f80", "cancel_requested_at": null,
      "canceled_at": null, "client_order_id": "4642fd68-d59a-47d7-a9ac-e22f536828d1",
      "created_at": "2022-04-19T13:45:04.981350886-04:00", "expired_at": null, "extended_hours": false,
      "failed_at": null, "filled_at": "2022-04-19T17:45:05.024916716Z", "filled_avg_price": "105.8988475",
      "filled_qty": "1790.86", "hwm": null, "id": "a5be8f5e-fdfa-41f5-a644-7a74fe947a8f", "legs": null,
      "limit_price": null, "notional": null, "order_class": "", "order_type": "market", "qty": "1790.86",
      "replaced_at": null, "replaced_by": null, "replaces": null, "side": "sell", "status": "filled",
      "stop_price": null, "submitted_at": "2022-04-19T13:45:04.980944666-04:00", "symbol": "SOLUSD",
      "time_in_force": "gtc", "trail_percent": null, "trail_price": null, "type": "market",
      "updated_at": "2022-04-19T13:45:05.027690731-04:00"
    },
    "position_qty": "0", "price": "105.8988475", "qty": "1790.86",
    "timestamp": "2022-04-19T17:45:05.024916716Z"
  }
}"""

# observed: QuantConnect/Lean.Brokerages.Alpaca issue #41 (a paper account, 2025-09-23): pending_new carries
# null execution fields, numbers as JSON numbers.
TRADE_UPDATE_PENDING_NEW = b"""{"stream": "trade_updates", "data": {"event": "pending_new", "execution_id": null,
 "price": null, "position_qty": null, "qty": null, "timestamp": "2025-09-23T14:00:00.4519828Z",
 "order": {"id": "943da5dc-2d69-4383-a8c5-b23a1ff33141", "client_order_id": "563fa71d-a311-41b3-9633-514e9298c07f",
 "created_at": "2025-09-23T14:00:00.0000000Z", "updated_at": "2025-09-23T14:00:00.4509979Z",
 "submitted_at": "2025-09-23T14:00:00.0000000Z", "filled_at": null, "canceled_at": null, "failed_at": null,
 "replaced_at": null, "asset_id": "dce2ac30-c928-4416-be25-2213d057f30a", "symbol": "TQQQ",
 "asset_class": "us_equity", "notional": null, "qty": 271.0, "filled_qty": 0.0, "type": "market",
 "order_class": "simple", "side": "sell", "time_in_force": "day", "limit_price": null, "stop_price": null,
 "trail_price": null, "trail_percent": null, "hwm": null, "filled_avg_price": null, "status": "pending_new",
 "replaced_by": null, "replaces": null, "legs": null}}}"""

# --- market data stream (docs/streaming-market-data, docs/real-time-stock-pricing-data) ---------------

DATA_CONNECTED = b'[{"T":"success","msg":"connected"}]'
DATA_AUTHENTICATED = b'[{"T":"success","msg":"authenticated"}]'
DATA_CONNECTION_LIMIT = b'[{"T":"error","code":406,"msg":"connection limit exceeded"}]'
DATA_AUTH_MESSAGE_SHAPE = {"action": "auth", "key": "{KEY_ID}", "secret": "{SECRET}"}
DATA_SUBSCRIBE_MESSAGE = {"action": "subscribe", "trades": ["AAPL"], "quotes": ["AMD", "CLDR"], "bars": ["*"]}
DATA_SUBSCRIPTION = (b'[{"T":"subscription","trades":["AAPL"],"quotes":["AMD","CLDR"],"bars":["*"],'
                     b'"updatedBars":[],"dailyBars":[],"statuses":[],"lulds":[],"corrections":["AAPL"],'
                     b'"cancelErrors":["AAPL"]}]')
DATA_TEST_STREAM = [
    b'[{"T":"subscription","trades":[],"quotes":["FAKEPACA"],"bars":["FAKEPACA"]}]',
    b'[{"T":"q","S":"FAKEPACA","bx":"O","bp":133.85,"bs":4,"ax":"R","ap":135.77,"as":5,"c":["R"],"z":"A",'
    b'"t":"2024-07-24T07:56:53.639713735Z"}]',
    b'[{"T":"b","S":"FAKEPACA","o":132.65,"h":136,"l":132.12,"c":134.65,"v":205,"t":"2024-07-24T07:56:00Z",'
    b'"n":16,"vw":133.7}]',
]
DATA_TRADES = (b'[{"T":"t","S":"AAPL","i":628,"x":"K","p":162.92,"s":3,"c":["@","F","T","I"],"z":"C",'
               b'"t":"2023-04-06T11:54:26.838232225Z"},{"T":"t","S":"AAPL","i":75,"x":"Z","p":162.92,"s":3,'
               b'"c":["@","F","T","I"],"z":"C","t":"2023-04-06T11:54:26.838562809Z"},{"T":"t","S":"AAPL",'
               b'"i":1465,"x":"P","p":162.91,"s":71,"c":["@","F","T","I"],"z":"C",'
               b'"t":"2023-04-06T11:54:26.83915973Z"}]')
DATA_QUOTE_AMD = (b'[{"T":"q","S":"AMD","bx":"K","bp":91.95,"bs":2,"ax":"Q","ap":91.98,"as":1,"c":["R"],"z":"C",'
                  b'"t":"2023-04-06T11:54:21.670905508Z"}]')
DATA_BAR_SPY = (b'[{"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"n":461,'
                b'"vw":389.062639,"t":"2021-02-22T19:15:00Z"}]')
DATA_OTHER_TYPES = (
    b'[{"T":"c","S":"EEM","x":"M","oi":52983525033527,"op":39.1582,"os":440000,"oc":[" ","7"],'
    b'"ci":52983525034326,"cp":39.1809,"cs":440000,"cc":[" ","7"],"z":"B","t":"2023-04-06T14:25:06.542305024Z"},'
    b'{"T":"x","S":"GOOGL","i":465,"x":"D","p":105.31,"s":300,"a":"C","z":"C","t":"2023-04-06T13:15:42.83540958Z"},'
    b'{"T":"l","S":"IONM","u":3.24,"d":2.65,"i":"B","t":"2023-04-06T13:34:45.565004401Z","z":"C"},'
    b'{"T":"s","S":"AAPL","sc":"H","sm":"Trading Halt","rc":"T12",'
    b'"rm":"Trading Halted; For information requested by NASDAQ","t":"2021-02-22T19:15:00Z","z":"C"},'
    b'{"T":"i","S":"INAQU","p":9.12,"z":"C","t":"2024-12-13T19:58:09.242138635Z"}]'
)

# --- REST error bodies -----------------------------------------------------------------------------------

# docs/options-trading-overview, "Error Responses" example (HTTP 403)
ERROR_INSUFFICIENT_BUYING_POWER = (b'{"code": 40310000, "message": "insufficient options buying power '
                                   b'(required: 20310, available: 9395)"}')
# observed (several public trackers, e.g. the Alpaca CLI answer quoted in one): duplicate id, HTTP 422
ERROR_DUPLICATE_CLIENT_ORDER_ID = b'{"code": 40010001, "message": "client_order_id must be unique"}'
# observed: a miss of GET /v2/orders:by_client_order_id, HTTP 404
ERROR_ORDER_NOT_FOUND = b'{"code": 40410000, "message": "order not found for 563fa71d"}'
# docs/options-trading-overview, "Replace" table (HTTP 422)
ERROR_CANNOT_REPLACE = b'{"code": 42210000, "message": "cannot replace order in filled status"}'
