"""Kraken spot facts in one place: hosts, REST paths, websocket v2, rate-limit rules, intervals, id rules.

Everything here is data taken from Kraken's API documentation (docs.kraken.com, read as of 2026-11-30;
see the README for the pages and changelog entries checked), so the client, the stream, the rate
limiter and the emulator agree on it. Kraken has no spot testnet: the only hosts are production ones
(and the "beta" websocket hosts, which talk to the production engine).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Final

from brokers.features import GTC_ONLY, OrderFeatures
from brokers.ratelimit import WindowRule
from protocol.messages import StreamChannel
from protocol.model import MarketType, OrderType, TimeInForce

VENUE: Final = "kraken"
VENUE_NAME: Final = "Kraken"  # as the venue writes its name, for messages

# --- hosts (guides/rest/introduction, guides/websockets "Spot Websockets Introduction") --------------

REST_URL: Final = "https://api.kraken.com"
WS_PUBLIC_URL: Final = "wss://ws.kraken.com/v2"
WS_PRIVATE_URL: Final = "wss://ws-auth.kraken.com/v2"
WS_PUBLIC_BETA_URL: Final = "wss://beta-ws.kraken.com/v2"  # beta API software, production engine
WS_PRIVATE_BETA_URL: Final = "wss://beta-ws-auth.kraken.com/v2"
HAS_TESTNET: Final = False
"""No spot sandbox exists: real-venue tests run read-only and send AddOrder with ``validate=true``."""
WS_BASE_URL: Final = "wss://ws.kraken.com"
MAINNET: Final = (REST_URL, WS_BASE_URL)
"""(REST base, websocket base): the public socket is ``<base>/v2``; the private one is on its own host."""
WS_PUBLIC_PATH: Final = "/v2"
WS_PRIVATE_PATH: Final = "/ws-auth/v2"
"""Where a single host serves both sockets (the emulator), the private one is under this path."""
WS_PRIVATE_HOSTS: Final = {WS_BASE_URL: WS_PRIVATE_URL, "wss://beta-ws.kraken.com": WS_PRIVATE_BETA_URL}
"""Kraken's public websocket bases -> their private socket (a different host)."""

# --- REST paths -----------------------------------------------------------------------------------------

PRIVATE_PREFIX: Final = "/0/private/"
"""The signed part of a private URL starts here (API-Sign covers the path from ``/0/private``)."""

SERVER_TIME: Final = "/0/public/Time"
SYSTEM_STATUS: Final = "/0/public/SystemStatus"
ASSETS: Final = "/0/public/Assets"
ASSET_PAIRS: Final = "/0/public/AssetPairs"
TICKER: Final = "/0/public/Ticker"
OHLC: Final = "/0/public/OHLC"
DEPTH: Final = "/0/public/Depth"
RECENT_TRADES: Final = "/0/public/Trades"

BALANCE: Final = "/0/private/Balance"
BALANCE_EX: Final = "/0/private/BalanceEx"  # balance and hold_trade per asset
TRADE_BALANCE: Final = "/0/private/TradeBalance"  # margin: eb, tb, m, n, c, v, e, mf, ml
OPEN_ORDERS: Final = "/0/private/OpenOrders"  # filters: userref, cl_ord_id
CLOSED_ORDERS: Final = "/0/private/ClosedOrders"  # 50 per page, paged by ofs; filters: userref, cl_ord_id
QUERY_ORDERS: Final = "/0/private/QueryOrders"  # by txid (up to 50) and userref; no cl_ord_id filter
TRADES_HISTORY: Final = "/0/private/TradesHistory"  # 50 per page, paged by ofs
QUERY_TRADES: Final = "/0/private/QueryTrades"
OPEN_POSITIONS: Final = "/0/private/OpenPositions"  # docalcs=true adds value and net (unrealised P&L)
LEDGERS: Final = "/0/private/Ledgers"
QUERY_LEDGERS: Final = "/0/private/QueryLedgers"
TRADE_VOLUME: Final = "/0/private/TradeVolume"  # fee rates (AssetPairs "fees" are empty since 2026-09-08)
API_KEY_INFO: Final = "/0/private/GetApiKeyInfo"  # added 2026-03-11: the key's configuration
ADD_ORDER: Final = "/0/private/AddOrder"
ADD_ORDER_BATCH: Final = "/0/private/AddOrderBatch"
AMEND_ORDER: Final = "/0/private/AmendOrder"
EDIT_ORDER: Final = "/0/private/EditOrder"  # legacy: cancels and replaces (new txid); AmendOrder keeps it
CANCEL_ORDER: Final = "/0/private/CancelOrder"  # txid, userref or cl_ord_id
CANCEL_ALL: Final = "/0/private/CancelAll"
CANCEL_ALL_ORDERS_AFTER: Final = "/0/private/CancelAllOrdersAfter"  # dead man's switch
CANCEL_ORDER_BATCH: Final = "/0/private/CancelOrderBatch"
WEBSOCKETS_TOKEN: Final = "/0/private/GetWebSocketsToken"
EARN_STRATEGIES: Final = "/0/private/Earn/Strategies"
EARN_ALLOCATIONS: Final = "/0/private/Earn/Allocations"
EARN_ALLOCATE: Final = "/0/private/Earn/Allocate"
EARN_DEALLOCATE: Final = "/0/private/Earn/Deallocate"
EARN_ALLOCATE_STATUS: Final = "/0/private/Earn/AllocateStatus"
EARN_DEALLOCATE_STATUS: Final = "/0/private/Earn/DeallocateStatus"

PUBLIC_PATHS: Final = frozenset({SERVER_TIME, SYSTEM_STATUS, ASSETS, ASSET_PAIRS, TICKER, OHLC, DEPTH,
                                 RECENT_TRADES})

# --- signing (guides/rest/authentication) ---------------------------------------------------------------

HEADER_API_KEY: Final = "API-Key"
HEADER_API_SIGN: Final = "API-Sign"
CONTENT_TYPE_FORM: Final = "application/x-www-form-urlencoded; charset=utf-8"
CONTENT_TYPE_JSON: Final = "application/json"
NONCE_MAX: Final = 2**64 - 1
"""The nonce is "always increasing, unsigned 64-bit integer" per API key."""

# --- rate limits (guides/rest/ratelimits, guides/general/ratelimits "Spot Trading Limits") --------------


class VerificationTier(StrEnum):
    """The account's verification tier decides both counters' ceilings and decay."""

    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"


REST_COUNTER_LIMITS: Final[dict[VerificationTier, tuple[int, Decimal]]] = {
    # tier: (max API counter, decay per second) -- "Spot REST Rate Limits"
    VerificationTier.STARTER: (15, Decimal("0.33")),
    VerificationTier.INTERMEDIATE: (20, Decimal("0.5")),
    VerificationTier.PRO: (20, Decimal("1")),
}
REST_COUNTER_COST_DEFAULT: Final = 1
REST_COUNTER_COSTS: Final[dict[str, int]] = {
    # "Ledger/trade history calls increase the counter by 2 ... (except AddOrder, CancelOrder which
    # operate on a different limiter)". QueryTrades / QueryLedgers are counted as history calls too:
    # over-counting only waits a little longer, under-counting gets the key locked out.
    LEDGERS: 2,
    QUERY_LEDGERS: 2,
    TRADES_HISTORY: 2,
    QUERY_TRADES: 2,
    ADD_ORDER: 0,
    CANCEL_ORDER: 0,
}


def rest_counter_cost(path: str) -> int:
    """What one call to ``path`` adds to the per-key REST call counter (public calls add nothing)."""
    if path in PUBLIC_PATHS:
        return 0
    return REST_COUNTER_COSTS.get(path, REST_COUNTER_COST_DEFAULT)


REST_LOCKOUT_S: Final = 900.0
"""``EGeneral:Temporary lockout`` (too many failed calls, invalid nonces or signatures): about 15 minutes."""

PUBLIC_RULES: Final = [WindowRule("public-ip-1s", 1.0, 1, sliding=True, margin=0.05)]
"""Public market data is limited per IP; Kraken's guidance is about one call per second."""

TRADING_COUNTER_LIMITS: Final[dict[VerificationTier, tuple[int, Decimal]]] = {
    # tier: (rate counter threshold per pair, decay per second) -- "Spot Trading Limits"
    VerificationTier.STARTER: (60, Decimal("1")),
    VerificationTier.INTERMEDIATE: (125, Decimal("2.34")),
    VerificationTier.PRO: (180, Decimal("3.75")),
}
MAX_OPEN_ORDERS_PER_PAIR: Final[dict[VerificationTier, int]] = {
    VerificationTier.STARTER: 60,
    VerificationTier.INTERMEDIATE: 80,
    VerificationTier.PRO: 225,
}


class TradingTransaction(StrEnum):
    ADD_ORDER = "add_order"
    AMEND_ORDER = "amend_order"
    EDIT_ORDER = "edit_order"
    CANCEL_ORDER = "cancel_order"


TRADING_AGE_BUCKETS_S: Final = (5, 10, 15, 45, 90, 300)
"""Upper bounds (exclusive) of the order-age buckets of the decaying penalty, in seconds."""
TRADING_PENALTIES: Final[dict[TradingTransaction, tuple[int, tuple[int, ...]]]] = {
    # transaction: (fixed count, extra count per age bucket < 5s, < 10s, < 15s, < 45s, < 90s, < 300s)
    TradingTransaction.ADD_ORDER: (1, (0, 0, 0, 0, 0, 0)),
    TradingTransaction.AMEND_ORDER: (1, (3, 2, 1, 0, 0, 0)),
    TradingTransaction.EDIT_ORDER: (1, (6, 5, 4, 2, 1, 0)),
    TradingTransaction.CANCEL_ORDER: (0, (8, 6, 5, 4, 2, 1)),
}
BATCH_MIN_ORDERS: Final = 2
BATCH_MAX_ORDERS: Final = 15  # AddOrderBatch: 2..15 orders, one pair

# --- websocket v2 (api-reference/spot-websocket-v2) -------------------------------------------------------

WS_CHANNEL_TICKER: Final = "ticker"
WS_CHANNEL_TRADE: Final = "trade"
WS_CHANNEL_OHLC: Final = "ohlc"
WS_CHANNEL_BOOK: Final = "book"
WS_CHANNEL_INSTRUMENT: Final = "instrument"
WS_CHANNEL_EXECUTIONS: Final = "executions"  # private: orders and fills (v1 openOrders + ownTrades)
WS_CHANNEL_BALANCES: Final = "balances"  # private
WS_CHANNEL_HEARTBEAT: Final = "heartbeat"  # sent about once a second when subscribed and idle
WS_CHANNEL_STATUS: Final = "status"  # sent on connect and on engine status change
WS_BOOK_DEPTHS: Final = (10, 25, 100, 500, 1000)
WS_BOOK_CHECKSUM_LEVELS: Final = 10
"""The CRC32 covers the top 10 levels of each side whatever the subscribed depth."""
WS_PING_INTERVAL_S: Final = 20.0
"""Application ``{"method": "ping"}``; Kraken answers ``pong``. Heartbeats arrive about every second
while subscribed, so a silent socket for a few seconds is already suspect (the stream's watchdog)."""
WS_PING_MESSAGE: Final = b'{"method":"ping"}'
WS_TOKEN_VALID_FOR_S: Final = 900
"""A GetWebSocketsToken token must open a connection within 15 minutes; it then lasts the connection."""
WS_RECONNECT_LIMIT: Final = (150, 600.0)
"""Cloudflare allows about 150 (re)connections per IP per rolling 10 minutes, then bans the IP for 10."""

# --- OHLC intervals (REST OHLC and ws v2 ohlc: minutes) ----------------------------------------------------

OHLC_INTERVALS: Final = {
    # unified (ccxt-style) -> Kraken minutes
    "1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440, "1w": 10080, "15d": 21600,
}
OHLC_INTERVALS_FROM_VENUE: Final = {v: k for k, v in OHLC_INTERVALS.items()}
OHLC_MAX_ROWS: Final = 720
"""REST OHLC returns at most the last 720 candles of the interval, whatever ``since`` asks for."""
DEPTH_COUNT_MAX: Final = 500
RECENT_TRADES_COUNT_MAX: Final = 1000
HISTORY_PAGE_SIZE: Final = 50
"""ClosedOrders, TradesHistory and Ledgers return 50 rows per call; page with ``ofs``."""
QUERY_ORDERS_MAX_TXIDS: Final = 50
QUERY_TRADES_MAX_TXIDS: Final = 20

# --- orders (api-reference/spot-rest/trading/add-order, guides/general/clordid) ------------------------------

ORDER_DEADLINE_MAX_S: Final = 60
"""AddOrder ``deadline``: RFC3339, at most 60 s ahead; after it the engine rejects the order with
``EService:Deadline elapsed`` instead of executing it late. The websocket v2 page gives 500 ms..60 s;
we keep at least `ORDER_DEADLINE_MIN_S` so clock offset cannot make it already past on arrival."""
ORDER_DEADLINE_MIN_S: Final = 2
ORDER_DEADLINE_DEFAULT_S: Final = 5
ENGINE_MARGIN_MS: Final = 1_000
"""Added to the deadline for the resend bound: Kraken's engine itself refuses an order past its ``deadline``
("the engine will prevent this order from matching after this time"), so no queue can hold it longer; the
margin covers the engine's clock against the ``Time`` endpoint's (our assumption, stated)."""
RESEND_SOURCE: Final = ("Kraken spot docs read 2026-11-30: REST AddOrder 'deadline' (RFC3339, after which the "
                        "matching engine rejects the order) and websocket v2 add_order/batch_add 'deadline' (500 ms "
                        "to 60 s ahead, the engine prevents the order from matching after it); guides/general/clordid "
                        "(cl_ord_id unique among open orders only, so a late duplicate is not refused)")
DEAD_MAN_SWITCH_TIMEOUT_S: Final = 60
DEAD_MAN_SWITCH_REFRESH_S: Final = 20
"""Kraken recommends calling CancelAllOrdersAfter every 15..30 s with a 60 s timeout; 0 disarms it."""
DEAD_MAN_SWITCH_MIN_S: Final = 15
"""The shortest timeout the client keeps re-armed (every third of it: each re-arm costs a REST call)."""

CL_ORD_ID_LONG_UUID: Final = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CL_ORD_ID_SHORT_UUID: Final = re.compile(r"^[0-9a-fA-F]{32}$")
CL_ORD_ID_FREE_TEXT: Final = re.compile(r"^[!-~]{1,18}$")
"""``cl_ord_id`` takes one of three forms: a long UUID (36 chars with dashes), a short UUID (32 hex
chars), or free text of at most 18 characters. Kraken does not publish the free-text charset; we allow
printable ASCII without spaces. Uniqueness is enforced among OPEN orders only."""
USERREF_MIN: Final = -(2**31)
USERREF_MAX: Final = 2**31 - 1


def is_valid_cl_ord_id(value: str) -> bool:
    return bool(CL_ORD_ID_LONG_UUID.fullmatch(value) or CL_ORD_ID_SHORT_UUID.fullmatch(value)
                or CL_ORD_ID_FREE_TEXT.fullmatch(value))


# --- names (Assets / AssetPairs) ------------------------------------------------------------------------------

COMMON_CURRENCIES: Final = {"XBT": "BTC", "XDG": "DOGE"}
"""Kraken altname -> the code everyone else uses (ccxt's common-currency convention for Kraken, kept to
the two renames Kraken's own websocket v2 makes: ``XBT/USD`` there is ``BTC/USD``)."""
DARK_POOL_SUFFIX: Final = ".d"
"""Dark-pool pairs (altname ``XBTUSD.d``) are not lit markets: they are left out of the pair table."""
EXECUTION_VENUE_DEFAULT: Final = "international"
"""AssetPairs ``execution_venue`` (added 2026-04-27): only the default venue's pairs are tradable here."""
PAIR_STATUS_TRADING: Final = "online"

# --- what the client takes and streams ---------------------------------------------------------------------

SPOT_ORDERS: Final = OrderFeatures(
    # AddOrder: market, limit (GTC, IOC, FOK since 2026-05-12; post-only is the oflags "post"), stop-loss,
    # stop-loss-limit and trailing-stop (GTC); per-order leverage from the pair's lists (margin) and
    # reduce_only (margin orders). Not taken: notional (viqc only buys), GTD, linked orders.
    time_in_force={
        OrderType.MARKET: GTC_ONLY,
        OrderType.LIMIT: frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY}),
        OrderType.STOP_MARKET: GTC_ONLY,
        OrderType.STOP_LIMIT: GTC_ONLY,
        OrderType.TRAILING_STOP: GTC_ONLY,
    },
    leverage=True,
    margin_mode=True,  # CROSS (Kraken margin) or CASH (spot); ISOLATED is refused by mapping
    reduce_only=True,
)
ORDER_FEATURES: Final = {MarketType.SPOT: SPOT_ORDERS}
"""Every Kraken pair is a spot market; a margin order is a spot order with a leverage."""

PUBLIC_CHANNELS: Final = {
    StreamChannel.TICKER: WS_CHANNEL_TICKER,
    StreamChannel.TRADES: WS_CHANNEL_TRADE,
    StreamChannel.CANDLES: WS_CHANNEL_OHLC,
    StreamChannel.BOOK: WS_CHANNEL_BOOK,
}
WS_TICKER_TRIGGER: Final = "bbo"
"""The ticker is pushed on every best bid/offer change (v2 ``event_trigger``; the default, "trades", only on
trades), so it follows the quote like the other venues' tickers."""
WS_OHLC_INTERVAL: Final = 1  # minutes: the streamed candles are one-minute candles
WS_BOOK_DEPTH: Final = 10
BOOK_LEVELS_EMITTED: Final = 10
WS_STALE_AFTER_S: Final = 15.0
"""Kraken sends a heartbeat every second on a socket with subscriptions: 15 s of silence means it is dead."""
STALE_AFTER: Final[dict[StreamChannel, float | None]] = {
    # ticker (bbo) and book move with the quote; ohlc and trade only print when trades happen.
    StreamChannel.TICKER: 30.0, StreamChannel.BOOK: 30.0, StreamChannel.CANDLES: None, StreamChannel.TRADES: None,
}

# --- client options ([venues.kraken] options) ------------------------------------------------------------------

OPTION_TIER: Final = "tier"
OPTION_DEAD_MANS_SWITCH: Final = "dead_mans_switch"
OPTION_VALIDATE_ONLY: Final = "validate_only"
OPTION_NONCE_DIR: Final = "nonce_dir"
OPTION_MARGIN_POLL: Final = "margin_poll_s"
OPTIONS: Final[Mapping[str, str]] = {
    OPTION_TIER: "the key's verification tier: starter (default), intermediate or pro (the counters' ceilings "
                 "and decay)",
    OPTION_DEAD_MANS_SWITCH: "seconds (0 = off, else at least 15): CancelAllOrdersAfter armed at connect and "
                             "re-armed every third of it while the client runs",
    OPTION_VALIDATE_ONLY: "true: every AddOrder carries validate=true (Kraken checks it, places nothing)",
    OPTION_NONCE_DIR: "where the per-key nonce files live (default $ALGOTRENDY_HOME/nonce, ~/.algotrendy/nonce)",
    OPTION_MARGIN_POLL: "seconds between margin-level reads while margin positions are open (default 30)",
}
"""Every option the client takes besides the chassis' (``position_quote``, default USD here, and
``stale_after_<channel>``); any other is refused."""
MARGIN_POLL_DEFAULT_S: Final = 30.0
EARN_POLL_S: Final = 2.0
"""How often a pending Earn (de)allocation's status is asked for until Kraken has finished it."""
ACCOUNT_DEBOUNCE_S: Final = 0.5
"""A burst of private events (a fill moves several balances) is answered by one REST read after this pause."""
CONVERTED_ASSET: Final = "USD"  # Earn/Allocations values its totals in this asset
TRADE_BALANCE_ASSET: Final = "ZUSD"  # TradeBalance (equity, margin) in US dollars
ORDERS_HISTORY_ROWS: Final = 500
"""`get_orders(open_only=False)` reads this many closed orders at most (50 a page)."""
