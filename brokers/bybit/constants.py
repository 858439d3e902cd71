"""Bybit V5 facts in one place: hosts, endpoint paths, rate limits, heartbeat and id rules.

Everything here is data copied from Bybit's published V5 documentation (bybit-exchange.github.io/docs/v5,
source repository bybit-exchange/docs), so the client, the stream and the emulator agree on it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Final

import attrs

from brokers.features import OrderFeatures
from brokers.ratelimit import WindowRule
from protocol.messages import StreamChannel
from protocol.model import MarketType, OrderType, TimeInForce

VENUE: Final = "bybit"
VENUE_NAME: Final = "Bybit"  # as the venue writes its name, for messages


class Category(StrEnum):
    """The V5 ``category`` parameter: one API, several product lines."""

    SPOT = "spot"
    LINEAR = "linear"  # USDT/USDC perpetuals and futures, settled in the quote coin
    INVERSE = "inverse"  # inverse perpetuals and futures, settled in the base coin


DERIVATIVES: Final = (Category.LINEAR, Category.INVERSE)


# --- hosts (docs/v5/guide, docs/v5/ws/connect) -------------------------------------------------------

REST_MAINNET: Final = "https://api.bybit.com"
REST_MAINNET_ALT: Final = "https://api.bytick.com"  # "both endpoints are available"
REST_TESTNET: Final = "https://api-testnet.bybit.com"

WS_PUBLIC_MAINNET: Final = {
    Category.SPOT: "wss://stream.bybit.com/v5/public/spot",
    Category.LINEAR: "wss://stream.bybit.com/v5/public/linear",
    Category.INVERSE: "wss://stream.bybit.com/v5/public/inverse",
}
WS_PUBLIC_TESTNET: Final = {
    Category.SPOT: "wss://stream-testnet.bybit.com/v5/public/spot",
    Category.LINEAR: "wss://stream-testnet.bybit.com/v5/public/linear",
    Category.INVERSE: "wss://stream-testnet.bybit.com/v5/public/inverse",
}
WS_PRIVATE_MAINNET: Final = "wss://stream.bybit.com/v5/private"
WS_PRIVATE_TESTNET: Final = "wss://stream-testnet.bybit.com/v5/private"


WS_MAINNET: Final = "wss://stream.bybit.com"  # the websocket base: /v5/public/<category>, /v5/private follow
WS_TESTNET: Final = "wss://stream-testnet.bybit.com"
MAINNET: Final = (REST_MAINNET, WS_MAINNET)
TESTNET: Final = (REST_TESTNET, WS_TESTNET)


def rest_url(*, testnet: bool) -> str:
    return REST_TESTNET if testnet else REST_MAINNET


def ws_public_url(category: Category, *, testnet: bool) -> str:
    return (WS_PUBLIC_TESTNET if testnet else WS_PUBLIC_MAINNET)[category]


def ws_private_url(*, testnet: bool) -> str:
    return WS_PRIVATE_TESTNET if testnet else WS_PRIVATE_MAINNET


# --- REST paths ----------------------------------------------------------------------------------------

SERVER_TIME: Final = "/v5/market/time"
INSTRUMENTS_INFO: Final = "/v5/market/instruments-info"
TICKERS: Final = "/v5/market/tickers"
KLINE: Final = "/v5/market/kline"
ORDERBOOK: Final = "/v5/market/orderbook"
RECENT_TRADES: Final = "/v5/market/recent-trade"
ACCOUNT_INFO: Final = "/v5/account/info"
WALLET_BALANCE: Final = "/v5/account/wallet-balance"
FEE_RATE: Final = "/v5/account/fee-rate"
POSITION_LIST: Final = "/v5/position/list"
SET_LEVERAGE: Final = "/v5/position/set-leverage"
ORDER_CREATE: Final = "/v5/order/create"
ORDER_AMEND: Final = "/v5/order/amend"
ORDER_CANCEL: Final = "/v5/order/cancel"
ORDER_CANCEL_ALL: Final = "/v5/order/cancel-all"
ORDER_REALTIME: Final = "/v5/order/realtime"  # open orders, plus the last 500 closed ones (openOnly=1)
ORDER_HISTORY: Final = "/v5/order/history"
EXECUTION_LIST: Final = "/v5/execution/list"  # at most 7 days per query window, limit [1, 100]

# --- page sizes and windows of the list endpoints ---------------------------------------------------------

INSTRUMENTS_PAGE: Final = 1000  # instruments-info limit [1, 1000]
POSITIONS_PAGE: Final = 200  # position/list limit [1, 200]
ORDERS_PAGE: Final = 50  # order/realtime and order/history limit [1, 50]
EXECUTIONS_PAGE: Final = 100  # execution/list limit [1, 100]
EXECUTION_WINDOW: Final = timedelta(days=7)  # execution/list answers at most 7 days per query

# --- signing headers (docs/v5/guide "Parameters for Authenticated Endpoints") --------------------------

HEADER_API_KEY: Final = "X-BAPI-API-KEY"
HEADER_TIMESTAMP: Final = "X-BAPI-TIMESTAMP"
HEADER_SIGN: Final = "X-BAPI-SIGN"
HEADER_RECV_WINDOW: Final = "X-BAPI-RECV-WINDOW"
HEADER_SIGN_TYPE: Final = "X-BAPI-SIGN-TYPE"  # "2" = HMAC-SHA256 (what pybit sends)
SIGN_TYPE_HMAC: Final = "2"
DEFAULT_RECV_WINDOW_MS: Final = 5_000
"""Bybit accepts a request when server_time - recv_window <= timestamp < server_time + 1000."""
MAX_CLOCK_AHEAD_MS: Final = 1_000
ENGINE_MARGIN_MS: Final = 10_000
"""Added to ``recv_window`` for order entry (brokers/README.md "Order entry"): Bybit documents its time rule at
the gateway only, and an accepted create is acknowledged before the engine acts ("use websocket order stream
to confirm the order status"), with no documented deadline for that. Our assumption, stated: the engine acts
within 10 s of the gateway's check."""
RESEND_SOURCE: Final = ("Bybit V5 docs read 2026-11-30: guide 'Parameters for Authenticated Endpoints' "
                        "(server_time - recv_window <= timestamp < server_time + 1000); order/create "
                        "(orderLinkId 'should be unique', 'always unique' for futures and perps; the ack only "
                        "means accepted)")

# --- rate limits (docs/v5/rate-limit) ------------------------------------------------------------------

HEADER_LIMIT: Final = "X-Bapi-Limit"  # the current per-second limit of this endpoint
HEADER_LIMIT_STATUS: Final = "X-Bapi-Limit-Status"  # requests remaining for this endpoint in the window
HEADER_LIMIT_RESET: Final = "X-Bapi-Limit-Reset-Timestamp"  # ms; when the window resets (now, if not over)

IP_LIMIT_REQUESTS: Final = 600
"""Per IP, across every endpoint on api.bybit.com: 600 requests in any 5-second window."""
IP_LIMIT_WINDOW_S: Final = 5.0
IP_BAN_MIN_S: Final = 600.0
"""Past the IP limit Bybit answers HTTP 403 "access too frequent"; stop and wait at least 10 minutes."""

IP_RULE: Final = WindowRule("ip-5s", IP_LIMIT_WINDOW_S, IP_LIMIT_REQUESTS)

UID_LIMITS_PER_SECOND: Final[dict[tuple[str, Category], int]] = {
    # Per UID and per endpoint, rolling 1-second window (UTA 2.0 defaults as published; "upgradable"
    # ones can be raised by Bybit on request, the X-Bapi-Limit header always says the live figure).
    (ORDER_CREATE, Category.LINEAR): 10,
    (ORDER_CREATE, Category.INVERSE): 10,
    (ORDER_CREATE, Category.SPOT): 20,
    (ORDER_AMEND, Category.LINEAR): 10,
    (ORDER_AMEND, Category.INVERSE): 10,
    (ORDER_AMEND, Category.SPOT): 10,
    (ORDER_CANCEL, Category.LINEAR): 10,
    (ORDER_CANCEL, Category.INVERSE): 10,
    (ORDER_CANCEL, Category.SPOT): 20,
    (ORDER_CANCEL_ALL, Category.LINEAR): 10,  # (1/s is the options column)
    (ORDER_CANCEL_ALL, Category.INVERSE): 10,
    (ORDER_CANCEL_ALL, Category.SPOT): 20,
    (ORDER_REALTIME, Category.LINEAR): 50,
    (ORDER_REALTIME, Category.INVERSE): 10,
    (ORDER_REALTIME, Category.SPOT): 50,
    (ORDER_HISTORY, Category.LINEAR): 50,
    (ORDER_HISTORY, Category.INVERSE): 10,
    (ORDER_HISTORY, Category.SPOT): 50,
    (EXECUTION_LIST, Category.LINEAR): 50,
    (EXECUTION_LIST, Category.INVERSE): 10,
    (EXECUTION_LIST, Category.SPOT): 50,
    (POSITION_LIST, Category.LINEAR): 50,
    (POSITION_LIST, Category.INVERSE): 10,
    (SET_LEVERAGE, Category.LINEAR): 10,
    (SET_LEVERAGE, Category.INVERSE): 10,
    (FEE_RATE, Category.LINEAR): 10,
    (FEE_RATE, Category.INVERSE): 10,
    (FEE_RATE, Category.SPOT): 5,
}
WALLET_BALANCE_PER_SECOND: Final = 50  # accountType=UNIFIED
DEFAULT_UID_LIMIT_PER_SECOND: Final = 10
"""For private endpoints missing from the table: the lowest published figure."""


def uid_limit(path: str, category: Category | None = None) -> int:
    """The published per-UID per-second limit of a private endpoint (conservative default if unlisted)."""
    if path == WALLET_BALANCE:
        return WALLET_BALANCE_PER_SECOND
    if category is not None and (path, category) in UID_LIMITS_PER_SECOND:
        return UID_LIMITS_PER_SECOND[(path, category)]
    return DEFAULT_UID_LIMIT_PER_SECOND


# --- websocket (docs/v5/ws/connect) ----------------------------------------------------------------------

PING_INTERVAL_S: Final = 20.0
"""Bybit recommends an application-level ``{"op": "ping"}`` every 20 s; websocket ping frames do not count."""
PING_MESSAGE: Final = b'{"op":"ping"}'
WS_AUTH_EXPIRES_AHEAD_MS: Final = 10_000
"""How far in the future the ``expires`` of the private ``auth`` op is set (it must be in the future)."""
WS_MAX_ACTIVE_TIME_PARAM: Final = "max_active_time"  # optional private-stream query param, 30s..600s
WS_PUBLIC_ARGS_MAX_CHARS: Final = 21_000
"""A public connection's ``args`` array of a subscribe op may not exceed 21,000 characters."""
WS_CONNECTIONS_PER_5_MIN: Final = 500
TOPICS_PER_OP: Final = 10
"""Spot refuses more than 10 args in one subscribe op; we use that bound for every category."""
STALE_AFTER_S: Final = 60.0
"""Seconds without any message on a socket (pongs included) that mean it is dead."""
BOOK_DEPTH: Final = 50  # the orderbook.{depth} topic we subscribe to
BOOK_LEVELS_EMITTED: Final = 10  # levels per side in each OrderBook event

TOPIC_ORDERBOOK: Final = "orderbook.{depth}.{symbol}"
TOPIC_TRADE: Final = "publicTrade.{symbol}"
TOPIC_TICKER: Final = "tickers.{symbol}"
TOPIC_KLINE: Final = "kline.{interval}.{symbol}"
TOPIC_ORDER: Final = "order"
TOPIC_EXECUTION: Final = "execution"
TOPIC_POSITION: Final = "position"
TOPIC_WALLET: Final = "wallet"

STALE_AFTER: Final[dict[StreamChannel, float | None]] = {
    # How long a subscribed topic may stay silent before its socket counts as dropped (docs/v5/websocket/
    # public: tickers push every 50 ms (spot) / 100 ms, orderbook.50 every 20 ms on change, kline every
    # 1-60 s; publicTrade only when trades happen).
    StreamChannel.TICKER: 10.0, StreamChannel.BOOK: 10.0, StreamChannel.CANDLES: 75.0, StreamChannel.TRADES: None,
}
PUBLIC_TOPICS: Final = {  # the topic of each channel we stream
    StreamChannel.TICKER: TOPIC_TICKER,
    StreamChannel.TRADES: TOPIC_TRADE,
    StreamChannel.CANDLES: TOPIC_KLINE.format(interval="1", symbol="{symbol}"),  # 1-minute candles
    StreamChannel.BOOK: TOPIC_ORDERBOOK.format(depth=BOOK_DEPTH, symbol="{symbol}"),
}

ORDERBOOK_DEPTHS: Final[dict[Category, tuple[int, ...]]] = {
    # docs/v5/websocket/public/orderbook (newer pages)
    Category.SPOT: (1, 50, 200, 1000),
    Category.LINEAR: (1, 50, 200, 500, 1000),
    Category.INVERSE: (1, 50, 200, 500, 1000),
}

# --- order features (docs/v5/order/create-order) ----------------------------------------------------------

_PRICED_TIF: Final = frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY})
_MARKET_TIF: Final = frozenset({TimeInForce.GTC, TimeInForce.IOC})  # a Bybit market order is always IOC
SPOT_ORDERS: Final = OrderFeatures(time_in_force={
    OrderType.MARKET: _MARKET_TIF, OrderType.LIMIT: _PRICED_TIF,
    OrderType.STOP_MARKET: _MARKET_TIF, OrderType.STOP_LIMIT: _PRICED_TIF,  # conditional orders
})
DERIVATIVE_ORDERS: Final = attrs.evolve(SPOT_ORDERS, reduce_only=True)
ORDER_FEATURES: Final = {MarketType.SPOT: SPOT_ORDERS, MarketType.LINEAR: DERIVATIVE_ORDERS,
                         MarketType.INVERSE: DERIVATIVE_ORDERS}

# --- kline intervals (docs/v5/enum#interval) -------------------------------------------------------------

KLINE_INTERVALS: Final = {
    # unified (ccxt-style) -> Bybit
    "1m": "1", "3m": "3", "5m": "5", "15m": "15", "30m": "30",
    "1h": "60", "2h": "120", "4h": "240", "6h": "360", "12h": "720",
    "1d": "D", "1w": "W", "1M": "M",
}
KLINE_INTERVALS_FROM_VENUE: Final = {v: k for k, v in KLINE_INTERVALS.items()}
KLINE_LIMIT_MAX: Final = 1000
"""GET /v5/market/kline: limit in [1, 1000] (older pages said 200); rows come newest first."""

# --- client order ids (docs/v5/order/create-order) -------------------------------------------------------

ORDER_LINK_ID_MAX_LEN: Final = 36
ORDER_LINK_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
"""orderLinkId: at most 36 characters of digits, letters (both cases), dashes and underscores."""


def is_valid_order_link_id(value: str) -> bool:
    return ORDER_LINK_ID_PATTERN.fullmatch(value) is not None
