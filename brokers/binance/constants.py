"""Binance spot facts in one place: hosts, endpoint paths and weights, rate limits, streams, intervals.

Data from Binance's spot API documentation (binance/binance-spot-api-docs: rest-api.md, enums.md,
web-socket-streams.md, web-socket-api.md, user-data-stream.md; changelog to 2026-09-18), so the client, its
streams and its tests agree on it.
"""

from __future__ import annotations

from typing import Final

from brokers.features import GTC_ONLY, OrderFeatures
from brokers.ratelimit import WindowRule
from protocol.messages import StreamChannel
from protocol.model import MarketType, OrderType, TimeInForce

VENUE: Final = "binance"
VENUE_NAME: Final = "Binance"  # as the venue writes its name, for messages

# --- hosts -------------------------------------------------------------------------------------------

MAINNET: Final = ("https://api.binance.com", "wss://stream.binance.com:9443")
TESTNET: Final = ("https://testnet.binance.vision", "wss://stream.testnet.binance.vision")
# The WebSocket API (user data since the listen keys were retired on 2026-02-20; optionally orders).
WS_API_HOSTS: Final = {MAINNET[1]: "wss://ws-api.binance.com:443", TESTNET[1]: "wss://ws-api.testnet.binance.vision"}
WS_API_PATH: Final = "/ws-api/v3"

# --- order entry: when a lost order can no longer execute (brokers/README.md "Order entry") -----------

ENGINE_MARGIN_MS: Final = 10_000
"""Added to ``recvWindow``. Binance checks a SIGNED request's ``timestamp + recvWindow`` on receipt and again
just before forwarding it to the Matching Engine (request-security, "Timing security"); once forwarded, the
engine has no documented deadline. Its APIs wait 10 s for the engine and then answer -1007 "Timeout waiting
for response from backend server. Send status unknown; execution status unknown." (general API
information): this margin assumes a forwarded request is acted on within that. Our assumption, stated."""
RESEND_SOURCE: Final = ("Binance spot API docs read 2026-11-30 (changelog to 2026-09-18): REST and WebSocket API "
                        "request-security 'Timing security' (recvWindow <= 60000 ms, checked on receipt and before "
                        "forwarding to the Matching Engine); general API information (-1007, 10 s engine timeout); "
                        "newClientOrderId is unique among open orders only, so a late duplicate is not refused")

# --- REST paths and their request weights (rest-api.md, "Weight:" of each endpoint) -----------------

SERVER_TIME: Final = "/api/v3/time"
EXCHANGE_INFO: Final = "/api/v3/exchangeInfo"
ACCOUNT: Final = "/api/v3/account"
TICKER_24H: Final = "/api/v3/ticker/24hr"
KLINES: Final = "/api/v3/klines"
DEPTH: Final = "/api/v3/depth"
ORDER: Final = "/api/v3/order"
OPEN_ORDERS: Final = "/api/v3/openOrders"
ALL_ORDERS: Final = "/api/v3/allOrders"
MY_TRADES: Final = "/api/v3/myTrades"

WEIGHTS: Final[dict[tuple[str, str], int]] = {
    ("GET", SERVER_TIME): 1,
    ("GET", EXCHANGE_INFO): 20,
    ("GET", ACCOUNT): 20,
    ("GET", TICKER_24H): 2,  # one symbol
    ("GET", KLINES): 2,
    ("GET", DEPTH): 5,  # limit 1-100
    ("POST", ORDER): 1,
    ("DELETE", ORDER): 1,
    ("GET", ORDER): 4,
    ("GET", OPEN_ORDERS): 6,  # one symbol; every symbol weighs OPEN_ORDERS_ALL_WEIGHT
    ("GET", ALL_ORDERS): 20,
    ("GET", MY_TRADES): 20,
}
OPEN_ORDERS_ALL_WEIGHT: Final = 80

# --- rate limits (enums.md "Rate limiters"; the exchangeInfo rateLimits of the live venue) -------------

# Published limits: 6,000 request weight per minute per IP; 100 orders per 10 s and 200,000 per day per account.
# Binance counts in fixed intervals on its own clock; ours is not aligned to it, so the minute and the
# 10 s are kept as rolling logs (a sender within every rolling window is within any fixed one), which
# the headers only ever raise: our requests in flight are not in the venue's count yet. Fixed windows
# whose count the headers replaced let -1015 through under the soak's 12 concurrent traders.
RATE_RULES: Final = [
    WindowRule("weight-1m", 60, 6000, header="x-mbx-used-weight-1m", sliding=True, margin=0.1),
    WindowRule("orders-10s", 10, 100, counts_orders=True, header="x-mbx-order-count-10s", sliding=True,
               margin=0.1),
    WindowRule("orders-1d", 86400, 200_000, counts_orders=True, header="x-mbx-order-count-1d"),
]

# --- order features (rest-api.md "New order": types and timeInForce; no reduce-only, no margin here) ----

ORDER_FEATURES: Final = {
    MarketType.SPOT: OrderFeatures(time_in_force={
        OrderType.MARKET: GTC_ONLY,  # MARKET takes no timeInForce: only the default is accepted
        OrderType.LIMIT: frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK,
                                    TimeInForce.POST_ONLY}),  # post-only = LIMIT_MAKER
        OrderType.STOP_MARKET: GTC_ONLY,  # STOP_LOSS
        OrderType.STOP_LIMIT: frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),  # STOP_LOSS_LIMIT
    }),
}

# --- limits -------------------------------------------------------------------------------------------

KLINE_LIMIT_MAX: Final = 1000
ORDERS_LIMIT_MAX: Final = 1000  # allOrders
MY_TRADES_LIMIT_MAX: Final = 1000
DEPTH_SNAPSHOT_LIMIT: Final = 100
KLINE_INTERVALS: Final = {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d",
                          "1w", "1M"}

# --- signing (rest-api.md "SIGNED Endpoint security") -------------------------------------------------

HEADER_API_KEY: Final = "X-MBX-APIKEY"

# --- streams (web-socket-streams.md, user-data-stream.md) ----------------------------------------------

PING_INTERVAL_S: Final = 20.0
SOCKET_STALE_AFTER_S: Final = 60.0  # no frame at all for this long: the socket is dead even if pings pass
# WebSocket API methods (web-socket-api.md) and their weights: the user data subscription signed per request
# (HMAC keys cannot `session.logon`, which is for Ed25519 keys only) and the order methods.
SUBSCRIBE_USER_DATA: Final = "userDataStream.subscribe.signature"
WS_ORDER_PLACE: Final = "order.place"
WS_ORDER_CANCEL: Final = "order.cancel"
WS_API_WEIGHTS: Final = {SUBSCRIBE_USER_DATA: 2, WS_ORDER_PLACE: 1, WS_ORDER_CANCEL: 1}
ORDER_TRANSPORTS: Final = ("rest", "ws-api")  # options.order_transport; REST is the default
BOOK_DEPTH: Final = 10  # levels per side in each OrderBook event
STALE_AFTER: Final[dict[StreamChannel, float | None]] = {
    # How long a subscribed channel may stay silent before its socket counts as dropped. Binance pushes
    # @ticker every 1 s, @kline every 2 s and @depth@100ms on every change; trades only when they happen.
    StreamChannel.TICKER: 10.0, StreamChannel.CANDLES: 10.0, StreamChannel.BOOK: 10.0, StreamChannel.TRADES: None,
}
STREAM_NAMES: Final = {  # the market stream of each channel; {symbol} is the lower-case venue symbol
    StreamChannel.TICKER: "{symbol}@ticker",
    StreamChannel.TRADES: "{symbol}@trade",
    StreamChannel.CANDLES: "{symbol}@kline_1m",
    StreamChannel.BOOK: "{symbol}@depth@100ms",
}
