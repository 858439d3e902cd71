"""Alpaca facts in one place: hosts, REST paths, websocket URLs, rate limits, order rules, intervals.

Copied from Alpaca's Trading API v2 and Market Data API v2 documentation (docs.alpaca.markets, the
OpenAPI definitions of its reference pages, read as of 2026-11-30) and the official SDK
(alpaca-py 0.44: ``alpaca.common.enums.BaseURL``, ``alpaca.trading.client``). The client, the stream
and the emulator read these instead of writing them inline.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from brokers.features import OrderFeatures
from brokers.ratelimit import WindowRule
from protocol.messages import StreamChannel
from protocol.model import MarketType, OrderClass, OrderType, TimeInForce

VENUE: Final = "alpaca"
VENUE_NAME: Final = "Alpaca"  # as the venue writes its name, for messages


class DataFeed(StrEnum):
    """Stock market-data feeds a Trading API user can pick (``feed`` query param / stream path).

    IEX comes with every account; SIP (all US exchanges) needs the Algo Trader Plus subscription. The
    SDK also lists ``delayed_sip``, ``otc``, ``boats`` and ``overnight``; they are not offered here.
    """

    IEX = "iex"
    SIP = "sip"


# --- hosts (OpenAPI ``servers``; alpaca-py BaseURL) ---------------------------------------------------

TRADING_LIVE: Final = "https://api.alpaca.markets"
TRADING_PAPER: Final = "https://paper-api.alpaca.markets"
DATA_LIVE: Final = "https://data.alpaca.markets"
"""Market data has one host for paper and live accounts (both use their own keys on it)."""
DATA_SANDBOX: Final = "https://data.sandbox.alpaca.markets"  # Broker API partners only

TRADING_STREAM_LIVE: Final = "wss://api.alpaca.markets/stream"
TRADING_STREAM_PAPER: Final = "wss://paper-api.alpaca.markets/stream"
DATA_STREAM_HOST: Final = "wss://stream.data.alpaca.markets"
DATA_STREAM_TEST: Final = "wss://stream.data.alpaca.markets/v2/test"
"""Always-on test stream (symbol ``FAKEPACA``), also outside market hours."""
TEST_STREAM_SYMBOL: Final = "FAKEPACA"


MAINNET: Final = (TRADING_LIVE, DATA_STREAM_HOST)
TESTNET: Final = (TRADING_PAPER, DATA_STREAM_HOST)
"""``(rest, ws)`` of the broker settings: the trading API and the market-data stream host. Paper trading is
Alpaca's "testnet" (its own keys, the same market data). The trading stream and the data REST host follow
from the trading host (`TRADING_STREAMS`, `DATA_HOSTS`); an emulator serves everything on its own URLs."""
TRADING_STREAM_PATH: Final = "/stream"
TRADING_STREAMS: Final = {TRADING_LIVE: "wss://api.alpaca.markets/stream",
                          TRADING_PAPER: "wss://paper-api.alpaca.markets/stream"}
DATA_HOSTS: Final = {TRADING_LIVE: "https://data.alpaca.markets", TRADING_PAPER: "https://data.alpaca.markets"}


def trading_url(*, paper: bool) -> str:
    return TRADING_PAPER if paper else TRADING_LIVE


def trading_stream_url(*, paper: bool) -> str:
    return TRADING_STREAM_PAPER if paper else TRADING_STREAM_LIVE


def data_stream_url(feed: DataFeed | str) -> str:
    """``wss://stream.data.alpaca.markets/v2/{iex|sip}``; any other feed is refused out loud."""
    try:
        chosen = DataFeed(feed)
    except ValueError:
        raise ValueError(f"Alpaca stock data feed must be one of {[f.value for f in DataFeed]}, not {feed!r}") \
            from None
    return f"{DATA_STREAM_HOST}/v2/{chosen.value}"


# --- authentication headers (OpenAPI securitySchemes) -------------------------------------------------

HEADER_KEY_ID: Final = "APCA-API-KEY-ID"
HEADER_SECRET_KEY: Final = "APCA-API-SECRET-KEY"

# --- order entry: when a lost order may be sent again (brokers/README.md "Order entry") ------------------

RESEND_SOURCE: Final = ("Alpaca Trading API docs read 2026-11-30: Orders reference ('Each order has a unique "
                        "identifier provided by the client'; GET /v2/orders:by_client_order_id); a reused id, "
                        "of a closed order too, is refused HTTP 422 {code 40010001, 'client_order_id must be "
                        "unique'} (observed: alpacahq/alpaca-py#260); requests carry no timestamp or expiry")
"""Alpaca gives no time after which a lost order can no longer execute; it keeps every client order id of an
account for ever instead, so a resend with the same id is refused whenever the first attempt executed."""

# --- Trading API REST paths -----------------------------------------------------------------------------

ACCOUNT: Final = "/v2/account"
ASSETS: Final = "/v2/assets"
ASSET: Final = "/v2/assets/{symbol}"
ORDERS: Final = "/v2/orders"  # POST place, GET list (status=open|closed|all, limit<=500), DELETE cancel all
ORDER: Final = "/v2/orders/{order_id}"  # GET, PATCH (replace), DELETE (cancel, 204)
ORDER_BY_CLIENT_ID: Final = "/v2/orders:by_client_order_id"  # GET ?client_order_id=
POSITIONS: Final = "/v2/positions"
POSITION: Final = "/v2/positions/{symbol}"  # GET; DELETE closes (?qty= or ?percentage=)
CLOCK: Final = "/v2/clock"
CALENDAR: Final = "/v2/calendar"  # ?start=&end= (dates, inclusive); days from 1970 to 2029
ACTIVITIES_FILL: Final = "/v2/account/activities/FILL"  # page_size<=100, page_token = last activity id

ORDERS_LIMIT_MAX: Final = 500
ORDERS_LIMIT_DEFAULT: Final = 50
ACTIVITIES_PAGE_SIZE_MAX: Final = 100

# --- Market Data API v2 (stocks) ------------------------------------------------------------------------

STOCK_BARS: Final = "/v2/stocks/{symbol}/bars"  # timeframe, start, end, limit<=10000, feed, page_token, sort
STOCK_TRADES: Final = "/v2/stocks/{symbol}/trades"
STOCK_LATEST_TRADE: Final = "/v2/stocks/{symbol}/trades/latest"
STOCK_LATEST_QUOTE: Final = "/v2/stocks/{symbol}/quotes/latest"
STOCK_SNAPSHOT: Final = "/v2/stocks/{symbol}/snapshot"
DATA_LIMIT_MAX: Final = 10_000
DATA_LIMIT_DEFAULT: Final = 1_000

TIMEFRAMES: Final = {
    # unified (ccxt-style) -> Alpaca ``timeframe``; Alpaca also takes [1-59]Min, [1-23]Hour, 1Day,
    # 1Week, [1,2,3,4,6,12]Month -- only these common ones are offered.
    "1m": "1Min", "5m": "5Min", "15m": "15Min", "30m": "30Min",
    "1h": "1Hour", "2h": "2Hour", "4h": "4Hour",
    "1d": "1Day", "1w": "1Week", "1M": "1Month",
}
TIMEFRAMES_FROM_VENUE: Final = {v: k for k, v in TIMEFRAMES.items()}
STREAM_BAR_INTERVAL: Final = "1m"
"""The ``bars`` stream channel carries minute bars only (``dailyBars``/``updatedBars`` are other channels)."""

QUOTE_ROUND_LOT: Final = Decimal(100)
"""Quote sizes (``bs``/``as``) are in round lots, documented as such (Market Data FAQ forum answer, real-time
stock page). SEC's 2025 round-lot reform gives stocks above $250 smaller round lots, which Alpaca does not
document, so sizes are converted to shares only where a round lot is surely 100 (see `mapping`)."""
QUOTE_ROUND_LOT_MAX_PRICE: Final = Decimal(250)

# --- rate limits -----------------------------------------------------------------------------------------

REQUESTS_PER_MINUTE: Final = 200
"""Trading API: 200 requests per minute per account; HTTP 429 beyond. Market data (Basic plan) is 200 per
minute too, Algo Trader Plus 10,000; the ``X-RateLimit-*`` headers always carry the live figure."""
DATA_REQUESTS_PER_MINUTE_PLUS: Final = 10_000
HEADER_RATE_LIMIT: Final = "X-RateLimit-Limit"  # requests per minute
HEADER_RATE_REMAINING: Final = "X-RateLimit-Remaining"
HEADER_RATE_RESET: Final = "X-RateLimit-Reset"  # UNIX epoch seconds "when the remaining quota changes"


def rate_rules(requests_per_minute: int = REQUESTS_PER_MINUTE) -> list[WindowRule]:
    """One rolling minute fed back by ``X-RateLimit-Remaining``.

    Alpaca does not say whether its minute is fixed or rolling (the reset header names "when the
    remaining quota changes"); a rolling log is safe against both (see `brokers.ratelimit.WindowRule`).
    """
    return [WindowRule(name="requests-1m", seconds=60.0, limit=requests_per_minute, header=HEADER_RATE_REMAINING,
                       header_counts_remaining=True, sliding=True, margin=0.25)]


# --- websockets ------------------------------------------------------------------------------------------

TRADE_UPDATES_STREAM: Final = "trade_updates"
DATA_STREAM_PATH: Final = "/v2/{feed}"
DATA_CHANNELS: Final = {
    # our channel -> the data-stream channels it subscribes: a ticker is the quote (bid/ask) with the last
    # trade's price (quotes carry none), so it listens to trades too; candles are the minute ``bars``.
    StreamChannel.TICKER: ("quotes", "trades"),
    StreamChannel.TRADES: ("trades",),
    StreamChannel.CANDLES: ("bars",),
}
STALE_AFTER: Final[dict[StreamChannel, float | None]] = {
    # US stocks are silent for hours every night and all weekend (and IEX quotes thinly even in the day), so no
    # channel's silence means a dead socket here; pings watch the connection. Options ``stale_after_<channel>``
    # turn a limit on where a feed is known to be busy (SIP during the regular session).
    StreamChannel.TICKER: None, StreamChannel.TRADES: None, StreamChannel.CANDLES: None,
}
DATA_AUTH_TIMEOUT_S: Final = 10.0
"""The data stream closes with error 404 "auth timeout" if the auth message is not sent within 10 s."""
WS_PING_INTERVAL_S: Final = 10.0
"""No application-level ping is documented for either stream; alpaca-py sends websocket ping frames every
10 s (``ping_interval=10``) and tolerates 180 s without a pong."""
WS_PONG_TIMEOUT_S: Final = 180.0
DATA_CONNECTIONS_PER_ENDPOINT: Final = 1
"""Most subscriptions (Algo Trader Plus included) allow one data-stream connection per endpoint (406)."""
DATA_STREAM_CHANNELS: Final = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds",
                               "corrections", "cancelErrors", "imbalances")

# --- market hours ----------------------------------------------------------------------------------------

CALENDAR_DAYS_BEHIND: Final = 3
CALENDAR_DAYS_AHEAD: Final = 40
"""The calendar is read from 3 days back to 40 days ahead (every holiday cluster fits), and read again"""
CALENDAR_REFRESH_S: Final = 6 * 3600.0
"""every 6 hours (Alpaca can add an unscheduled closure with days of notice), or when fewer than"""
CALENDAR_MARGIN_DAYS: Final = 10
"""10 days of it are left. The clock (``/v2/clock``) is read again with every refresh."""
CLOCK_BOUNDARY_TOLERANCE_S: Final = 60.0
"""``/v2/clock`` and the calendar may disagree about "open now" this close to a transition (the clock's
``is_open`` flips when Alpaca's systems do); farther away a disagreement means the calendar is stale."""

# --- orders ----------------------------------------------------------------------------------------------

CLIENT_ORDER_ID_MAX_LEN: Final = 128
"""``client_order_id``: at most 128 characters (OpenAPI ``maxLength: 128``; older pages said 48).

Alpaca documents no character set; we accept printable ASCII without spaces so an id survives a query
string (``orders:by_client_order_id?client_order_id=``) and every log unchanged."""
CLIENT_ORDER_ID_PATTERN: Final = re.compile(r"^[\x21-\x7e]{1,128}$")


def is_valid_client_order_id(value: str) -> bool:
    return CLIENT_ORDER_ID_PATTERN.fullmatch(value) is not None


QTY_DECIMALS: Final = 9
"""``qty`` and ``notional`` take up to 9 decimal places."""
QTY_STEP_FRACTIONAL: Final = Decimal("1e-9")
MIN_NOTIONAL_FRACTIONAL: Final = Decimal(1)
"""Fractional trading: "buy as little as $1 worth of shares"."""

TICK_AT_OR_ABOVE_ONE: Final = Decimal("0.01")
TICK_BELOW_ONE: Final = Decimal("0.0001")
"""Sub-penny rule (Reg NMS 612, which Alpaca enforces on limit/stop prices): prices of $1.00 or more in
whole cents, prices below $1.00 in steps of $0.0001."""
SUB_PENNY_THRESHOLD: Final = Decimal(1)

# Market-hours order windows, America/New_York wall clock ("time_in_force" in the order reference).
OPG_CUTOFF_BEFORE_OPEN: Final = timedelta(minutes=2)
"""OPG orders submitted after 9:28 am (2 minutes before the 9:30 open) and before 7:00 pm are rejected."""
CLS_CUTOFF_BEFORE_CLOSE: Final = timedelta(minutes=10)
"""CLS orders submitted after 3:50 pm (10 minutes before the 4:00 pm close) and before 7:00 pm are rejected."""
AUCTION_ORDERS_REOPEN_ET: Final = time(19, 0)
"""From 7:00 pm OPG/CLS orders are queued for the next trading day's auction again."""
MARKET_TIMEZONE: Final = "America/New_York"


_ANY: Final = frozenset({TimeInForce.DAY, TimeInForce.GTC, TimeInForce.OPG, TimeInForce.CLS, TimeInForce.IOC,
                         TimeInForce.FOK})
_RESTING: Final = frozenset({TimeInForce.DAY, TimeInForce.GTC})
STOCK_ORDERS: Final = OrderFeatures(
    time_in_force={
        # "time_in_force" in the order reference: opg/cls take market and limit orders only; stops and
        # trailing stops are DAY or GTC (`mapping.order_body` checks the finer rules: fractions, legs).
        OrderType.MARKET: _ANY, OrderType.LIMIT: _ANY, OrderType.STOP_MARKET: _RESTING,
        OrderType.STOP_LIMIT: _RESTING, OrderType.TRAILING_STOP: _RESTING,
    },
    notional=True, extended_hours=True,
    order_classes=frozenset({OrderClass.SIMPLE, OrderClass.BRACKET, OrderClass.OCO, OrderClass.OTO}),
)
ORDER_FEATURES: Final = {MarketType.STOCK: STOCK_ORDERS}

# --- options (``[venues.alpaca.options]``) ----------------------------------------------------------------

OPTION_FEED: Final = "feed"
OPTION_POLICY: Final = "market_hours_policy"
OPTION_DATA_URL: Final = "data_url"
OPTION_DATA_RATE: Final = "data_requests_per_minute"
OPTIONS: Final = {
    OPTION_FEED: "the stock data feed: \"iex\" (default) or \"sip\" (needs Algo Trader Plus)",
    OPTION_POLICY: "orders the market is not open for: \"reject\" (default) or \"queue\" (pass what Alpaca queues)",
    OPTION_DATA_URL: "the Market Data REST host, when neither Alpaca's nor an emulator's",
    OPTION_DATA_RATE: "Market Data requests per minute: 200 (Basic plan, default) or 10000 (Algo Trader Plus)",
}
