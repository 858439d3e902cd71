"""OKX V5 facts in one place: hosts, REST paths, headers, rate limits, channels, intervals, id rules.

Everything here is data from OKX's V5 API documentation (www.okx.com/docs-v5/en, pages as published
in July 2026) and its changelog up to 2026-11-30; the README names the pages and changelog entries. The
client, the stream and the emulator read these values, so they agree with each other and with OKX.

Two changes of 2026 matter for hosts: OKX recommends ``https://openapi.okx.com`` for REST since
2026-05-20 (``www.okx.com`` keeps working), and its websockets stopped accepting port 8443 on
2026-10-31 (the docs' ``:8443`` examples predate that): the websocket URLs below use the default 443.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

import attrs

from brokers.features import OrderFeatures
from brokers.ratelimit import WindowRule
from protocol.messages import StreamChannel
from protocol.model import MarketType, OrderType, TimeInForce

VENUE: Final = "okx"
VENUE_NAME: Final = "OKX"  # as the venue writes its name, for messages


class InstType(StrEnum):
    """The ``instType`` values this venue trades (OKX also has MARGIN, OPTION and EVENTS: not loaded)."""

    SPOT = "SPOT"
    SWAP = "SWAP"  # perpetual futures, linear (USDT/USDC-margined) and inverse (coin-margined)
    FUTURES = "FUTURES"  # dated (expiry) futures: optional, see README


# --- hosts (docs "Production Trading Services" / "Demo Trading Services", changelog 2026-05-20) ------

REST_LIVE: Final = "https://openapi.okx.com"
REST_LIVE_LEGACY: Final = "https://www.okx.com"  # still served, "not deprecated" (changelog 2026-05-20)
REST_DEMO: Final = "https://openapi.okx.com"  # demo trading is the same host plus `x-simulated-trading: 1`

WS_HOST_LIVE: Final = "wss://ws.okx.com"
WS_HOST_DEMO: Final = "wss://wspap.okx.com"
WS_PATH: Final = "/ws/v5"  # + "/public", "/private", "/business"
WS_LIVE: Final = WS_HOST_LIVE + WS_PATH
WS_DEMO: Final = WS_HOST_DEMO + WS_PATH
"""Websocket bases; port 8443 was discontinued on 2026-10-31 (OKX announcement of 2026-09-30)."""

MAINNET: Final = (REST_LIVE, WS_HOST_LIVE)
TESTNET: Final = (REST_DEMO, WS_HOST_DEMO)
"""(REST base, websocket host) of live and demo trading ("testnet" here means OKX demo trading: the same REST
host with ``x-simulated-trading: 1``, the wspap websocket host). The client appends `WS_PATH` + service."""


class WsService(StrEnum):
    """The three websocket services: market data, private data, and "business" (candles among others)."""

    PUBLIC = "public"
    PRIVATE = "private"
    BUSINESS = "business"


def rest_url(*, demo: bool) -> str:
    return REST_DEMO if demo else REST_LIVE


def ws_url(service: WsService, *, demo: bool) -> str:
    return service_url(WS_HOST_DEMO if demo else WS_HOST_LIVE, service)


def service_url(host: str, service: WsService) -> str:
    """A websocket service under a host (OKX's, or an emulator's ``ws://127.0.0.1:port``)."""
    return f"{host.rstrip('/')}{WS_PATH}/{service.value}"


# --- REST paths ------------------------------------------------------------------------------------------

SERVER_TIME: Final = "/api/v5/public/time"
INSTRUMENTS: Final = "/api/v5/public/instruments"
FUNDING_RATE: Final = "/api/v5/public/funding-rate"
FUNDING_RATE_HISTORY: Final = "/api/v5/public/funding-rate-history"
MARK_PRICE: Final = "/api/v5/public/mark-price"
OPEN_INTEREST: Final = "/api/v5/public/open-interest"
TICKERS: Final = "/api/v5/market/tickers"
TICKER: Final = "/api/v5/market/ticker"
INDEX_TICKERS: Final = "/api/v5/market/index-tickers"
BOOKS: Final = "/api/v5/market/books"
CANDLES: Final = "/api/v5/market/candles"
HISTORY_CANDLES: Final = "/api/v5/market/history-candles"
TRADES: Final = "/api/v5/market/trades"
HISTORY_TRADES: Final = "/api/v5/market/history-trades"
BALANCE: Final = "/api/v5/account/balance"
POSITIONS: Final = "/api/v5/account/positions"
ACCOUNT_CONFIG: Final = "/api/v5/account/config"
LEVERAGE_INFO: Final = "/api/v5/account/leverage-info"
SET_LEVERAGE: Final = "/api/v5/account/set-leverage"
SET_POSITION_MODE: Final = "/api/v5/account/set-position-mode"
TRADE_FEE: Final = "/api/v5/account/trade-fee"
ORDER: Final = "/api/v5/trade/order"  # POST places, GET looks up (by ordId or clOrdId)
BATCH_ORDERS: Final = "/api/v5/trade/batch-orders"
CANCEL_ORDER: Final = "/api/v5/trade/cancel-order"
CANCEL_BATCH_ORDERS: Final = "/api/v5/trade/cancel-batch-orders"
AMEND_ORDER: Final = "/api/v5/trade/amend-order"
CLOSE_POSITION: Final = "/api/v5/trade/close-position"
ORDERS_PENDING: Final = "/api/v5/trade/orders-pending"
ORDERS_HISTORY: Final = "/api/v5/trade/orders-history"  # last 7 days
ORDERS_HISTORY_ARCHIVE: Final = "/api/v5/trade/orders-history-archive"  # last 3 months
FILLS: Final = "/api/v5/trade/fills"  # last 3 days
FILLS_HISTORY: Final = "/api/v5/trade/fills-history"  # last 3 months
CANCEL_ALL_AFTER: Final = "/api/v5/trade/cancel-all-after"

# --- signing headers (docs "REST Authentication") -------------------------------------------------------

HEADER_KEY: Final = "OK-ACCESS-KEY"
HEADER_SIGN: Final = "OK-ACCESS-SIGN"
HEADER_TIMESTAMP: Final = "OK-ACCESS-TIMESTAMP"
HEADER_PASSPHRASE: Final = "OK-ACCESS-PASSPHRASE"
HEADER_SIMULATED: Final = "x-simulated-trading"  # "1" = demo trading (REST); demo websockets use WS_DEMO
HEADER_EXP_TIME: Final = "expTime"
"""Request deadline (epoch ms) on place/amend (and their batch forms): OKX does not process the request
if its server time is past it ("Transaction Timeouts"). The issue-11 bound: see README, "Order entry"."""

# --- order entry: when a lost order can no longer execute (brokers/README.md "Order entry") -----------

ENGINE_MARGIN_MS: Final = 10_000
"""Added to the ``expTime`` window (the request timeout: ``expTime`` = OKX's clock + it). OKX documents that a
place/amend request "will not be processed if the current system time of the server is after the expTime",
without saying at which stage it checks, and that an order request can time out inside OKX with its outcome
unknown (50004, 51054, 51149: "does not mean that the request was successful or failed"), with no deadline
for the engine. Our assumption, stated (as for Binance and Bybit): a request OKX accepted before its
``expTime`` is acted on within 10 s."""
RESEND_SOURCE: Final = ("OKX API v5 docs as published July 2026 (error codes page 2026-07-13), read 2026-11-30: "
                        "Overview 'Transaction Timeouts' (expTime header on place/amend order and their batch "
                        "forms: not processed once the server's time is after it); REST error codes 50036 "
                        "'The expTime can't be earlier than the current system time', 50037 'Order expired', "
                        "50004/51054/51149 outcome unknown; clOrdId unique among pending orders only")

TIMESTAMP_TOLERANCE_S: Final = 30
"""A REST timestamp more than 30 s from OKX's clock is refused (50102); a websocket login expires 30 s
after its timestamp (60006)."""
WS_LOGIN_PATH: Final = "/users/self/verify"  # what the websocket login signs, with method GET

# --- rate limits (docs "Rate Limits" and each endpoint's "Rate Limit" line) -------------------------------


class LimitScope(StrEnum):
    """Who a published limit counts: OKX keys every limit by one of these."""

    IP = "ip"
    IP_INST_TYPE = "ip+instType"
    IP_INST_ID = "ip+instId"
    UID = "uid"
    UID_INST_ID = "uid+instId"  # trading endpoints (options: instFamily instead; not traded here)


@attrs.frozen
class EndpointLimit:
    """One endpoint's published limit: ``requests`` per ``seconds``, counted per ``scope``.

    ``per_order``: a batch endpoint counts each order in the batch (a one-order batch counts as a
    single-order request). The chassis turns each into a rolling `WindowRule` per scope key.
    """

    path: str
    requests: int
    scope: LimitScope
    seconds: float = 2.0
    per_order: bool = False

    def rule(self, key: str = "") -> WindowRule:
        name = f"{self.path}[{key}]" if key else self.path
        return WindowRule(name, self.seconds, self.requests, counts_orders=self.per_order, sliding=True)


ENDPOINT_LIMITS: Final[dict[str, EndpointLimit]] = {limit.path: limit for limit in (
    EndpointLimit(SERVER_TIME, 10, LimitScope.IP),
    EndpointLimit(INSTRUMENTS, 20, LimitScope.IP_INST_TYPE),
    EndpointLimit(FUNDING_RATE, 10, LimitScope.IP_INST_ID),
    EndpointLimit(FUNDING_RATE_HISTORY, 10, LimitScope.IP_INST_ID),
    EndpointLimit(MARK_PRICE, 10, LimitScope.IP_INST_ID),
    EndpointLimit(OPEN_INTEREST, 20, LimitScope.IP_INST_ID),
    EndpointLimit(TICKERS, 20, LimitScope.IP),
    EndpointLimit(TICKER, 20, LimitScope.IP),
    EndpointLimit(INDEX_TICKERS, 20, LimitScope.IP),
    EndpointLimit(BOOKS, 40, LimitScope.IP),
    EndpointLimit(CANDLES, 40, LimitScope.IP),
    EndpointLimit(HISTORY_CANDLES, 20, LimitScope.IP),
    EndpointLimit(TRADES, 100, LimitScope.IP),
    EndpointLimit(HISTORY_TRADES, 20, LimitScope.IP),
    EndpointLimit(BALANCE, 10, LimitScope.UID),
    EndpointLimit(POSITIONS, 10, LimitScope.UID),
    EndpointLimit(ACCOUNT_CONFIG, 5, LimitScope.UID),
    EndpointLimit(LEVERAGE_INFO, 20, LimitScope.UID),
    EndpointLimit(SET_LEVERAGE, 20, LimitScope.UID),
    EndpointLimit(SET_POSITION_MODE, 5, LimitScope.UID),
    EndpointLimit(TRADE_FEE, 5, LimitScope.UID),
    EndpointLimit(ORDER, 60, LimitScope.UID_INST_ID),  # place; GET order details has the same figure
    EndpointLimit(BATCH_ORDERS, 300, LimitScope.UID_INST_ID, per_order=True),
    EndpointLimit(CANCEL_ORDER, 60, LimitScope.UID_INST_ID),
    EndpointLimit(CANCEL_BATCH_ORDERS, 300, LimitScope.UID_INST_ID, per_order=True),
    EndpointLimit(AMEND_ORDER, 60, LimitScope.UID_INST_ID),
    EndpointLimit(CLOSE_POSITION, 20, LimitScope.UID_INST_ID),
    EndpointLimit(ORDERS_PENDING, 60, LimitScope.UID),
    EndpointLimit(ORDERS_HISTORY, 40, LimitScope.UID),
    EndpointLimit(ORDERS_HISTORY_ARCHIVE, 20, LimitScope.UID),
    EndpointLimit(FILLS, 60, LimitScope.UID),
    EndpointLimit(FILLS_HISTORY, 10, LimitScope.UID),
    EndpointLimit(CANCEL_ALL_AFTER, 1, LimitScope.UID, seconds=1.0),
)}

SUB_ACCOUNT_ORDER_LIMIT: Final = EndpointLimit(ORDER, 1000, LimitScope.UID, per_order=True)
"""Per (sub-)account, across instruments: 1,000 new + amend orders per 2 s (each order of a batch counts;
cancels do not); past it OKX answers 50061. It runs in parallel with the per-instrument limits. Spot and
margin orders are exempt; VIP5+ accounts may get more by fill ratio (up to 10,000; see README)."""
SUB_ACCOUNT_EXEMPT: Final = frozenset({InstType.SPOT})


# --- websocket (docs "WebSocket": Connect, Login, error codes) ---------------------------------------------

PING_TEXT: Final = "ping"  # plain text frame; OKX answers the text "pong"
PONG_TEXT: Final = "pong"
PING_AFTER_SILENCE_S: Final = 20.0
"""OKX closes a connection after 30 s without data (close 4004): send "ping" after N < 30 s of silence
and reconnect if no "pong" arrives within N s."""
IDLE_CLOSE_S: Final = 30.0
WS_CONNECTS_PER_SECOND_PER_IP: Final = 3
WS_OPS_PER_HOUR_PER_CONNECTION: Final = 480  # subscribe + unsubscribe + login, per connection
WS_CHANNELS_PER_BOOK_CONNECTION: Final = 30  # advice for 50/400-level books: < 30 channels a connection

CH_TICKERS: Final = "tickers"
CH_TRADES: Final = "trades"
CH_BOOKS: Final = "books"  # 400 levels: snapshot then 100 ms increments (seqId/prevSeqId)
CH_BOOKS5: Final = "books5"  # 5-level snapshots every 100 ms: no local state
CH_BBO_TBT: Final = "bbo-tbt"  # 1-level snapshots every 10 ms: no local state
CH_BOOKS50_L2_TBT: Final = "books50-l2-tbt"  # VIP4+ only (64003 otherwise)
CH_BOOKS_L2_TBT: Final = "books-l2-tbt"  # VIP4+ only
CH_FUNDING_RATE: Final = "funding-rate"  # pushed every 30-90 s
CH_MARK_PRICE: Final = "mark-price"  # every 200 ms on change, else every 10 s
CH_INDEX_TICKERS: Final = "index-tickers"
CH_OPEN_INTEREST: Final = "open-interest"
CH_CANDLE_PREFIX: Final = "candle"  # "candle1m" ... on the business service (public since 2023-06-20)
CH_ORDERS: Final = "orders"
CH_POSITIONS: Final = "positions"
CH_ACCOUNT: Final = "account"
CH_BALANCE_AND_POSITION: Final = "balance_and_position"

INCREMENTAL_BOOKS: Final = {CH_BOOKS: 400, CH_BOOKS_L2_TBT: 400, CH_BOOKS50_L2_TBT: 50}
SNAPSHOT_BOOKS: Final = {CH_BOOKS5: 5, CH_BBO_TBT: 1}
CHECKSUM_LEVELS: Final = 25
"""The CRC32 checksum covers the best 25 levels a side. OKX fixed the field to 0 on 2026-06-23 (changelog:
"must no longer be used"); `book.OkxBook` verifies it whenever a non-zero value is sent (our emulator can
still send real ones) and relies on seqId/prevSeqId continuity always."""

PUBLIC_CHANNELS: Final = frozenset({CH_TICKERS, CH_TRADES, CH_FUNDING_RATE, CH_MARK_PRICE, CH_INDEX_TICKERS,
                                    CH_OPEN_INTEREST, *INCREMENTAL_BOOKS, *SNAPSHOT_BOOKS})
PRIVATE_CHANNELS: Final = frozenset({CH_ORDERS, CH_POSITIONS, CH_ACCOUNT, CH_BALANCE_AND_POSITION})


def service_of(channel: str) -> WsService:
    """Which websocket serves ``channel`` (OKX answers 60018 / 64001 / 64002 on the wrong one)."""
    if channel.startswith(CH_CANDLE_PREFIX):
        return WsService.BUSINESS
    if channel in PUBLIC_CHANNELS:
        return WsService.PUBLIC
    if channel in PRIVATE_CHANNELS:
        return WsService.PRIVATE
    raise ValueError(f"OKX channel {channel!r} is not one this client speaks")


# --- candles (GET /api/v5/market/candles and history-candles: `bar`) ----------------------------------------

BARS: Final = {
    # unified (ccxt-style) -> OKX. Daily and longer bars use OKX's UTC-aligned forms ("...utc"); the plain
    # 6H/12H/1D/... bars open at UTC+8 and are not what a UTC candle means.
    "1s": "1s", "1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m",
    "1h": "1H", "2h": "2H", "4h": "4H", "6h": "6Hutc", "12h": "12Hutc",
    "1d": "1Dutc", "2d": "2Dutc", "3d": "3Dutc", "1w": "1Wutc", "1M": "1Mutc", "3M": "3Mutc",
}
BARS_FROM_VENUE: Final = {v: k for k, v in BARS.items()}
CANDLES_LIMIT_MAX: Final = 300  # candles and history-candles: limit <= 300, default 100
CANDLES_RECENT_MAX: Final = 1440  # /market/candles serves only the latest 1,440 bars; older: history-candles
TRADES_LIMIT_MAX: Final = 500  # /market/trades
HISTORY_TRADES_LIMIT_MAX: Final = 100  # /market/history-trades (3 months; type=1 tradeId or 2 ts paging)
FUNDING_HISTORY_LIMIT_MAX: Final = 400  # /public/funding-rate-history (3 months)
ORDERS_LIMIT_MAX: Final = 100  # orders-pending, orders-history, fills
BOOKS_DEPTH_MAX: Final = 400  # /market/books sz

# --- client order ids (docs "POST / Place order": clOrdId) ---------------------------------------------------

CL_ORD_ID_MAX_LEN: Final = 32
CL_ORD_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9]{1,32}$")
"""clOrdId: case-sensitive letters and digits, 1-32 characters. Unique only among the account's *pending*
orders: once an order is filled or cancelled its clOrdId may be used again (so 51016 proves only that a
live order holds it), and GET /trade/order?clOrdId= returns the latest order carrying it."""


def is_valid_cl_ord_id(value: str) -> bool:
    return CL_ORD_ID_PATTERN.fullmatch(value) is not None


# --- account (GET /api/v5/account/config) ---------------------------------------------------------------------

ACCOUNT_LEVELS: Final = {"1": "spot", "2": "futures", "3": "multi-currency margin", "4": "portfolio margin"}
"""``acctLv``: spot mode cannot trade SWAP/FUTURES (51010 "Request unsupported under current account mode")."""
DERIVATIVES_ACCOUNT_LEVELS: Final = frozenset({"2", "3", "4"})
POS_MODE_NET: Final = "net_mode"
POS_MODE_LONG_SHORT: Final = "long_short_mode"


# --- what the client streams and trades (brokers/README.md: "what a venue declares") -------------------------

STREAMED: Final[dict[StreamChannel, str]] = {
    # our channel -> OKX's; BOOK is option ``book_channel`` (books by default, or books5 / bbo-tbt)
    StreamChannel.TICKER: CH_TICKERS,
    StreamChannel.TRADES: CH_TRADES,
    StreamChannel.CANDLES: CH_CANDLE_PREFIX + "1m",  # business socket
    StreamChannel.BOOK: CH_BOOKS,
    StreamChannel.FUNDING: CH_FUNDING_RATE,
    StreamChannel.MARK_PRICE: CH_MARK_PRICE,
    StreamChannel.OPEN_INTEREST: CH_OPEN_INTEREST,
}
SWAP_ONLY_CHANNELS: Final = frozenset({StreamChannel.FUNDING, StreamChannel.MARK_PRICE, StreamChannel.OPEN_INTEREST})
"""OKX serves funding, mark price and open interest for contracts only (60018 for a spot instId)."""
BOOK_CHANNELS: Final = frozenset({CH_BOOKS, CH_BOOKS5, CH_BBO_TBT})
"""What option ``book_channel`` may name: the VIP-only tick-by-tick books (64003) are not offered."""
BOOK_LEVELS_EMITTED: Final = 10
ARGS_PER_OP: Final = 20  # subscription args per op (OKX bounds an op's total length at 64 KB)

STALE_AFTER: Final[dict[StreamChannel, float | None]] = {
    # How long a subscribed channel may stay silent before its socket counts as dropped. tickers push on every
    # change (100 ms), books every 100 ms on change, candles every 500 ms while trading, mark-price every 200 ms on
    # change and at least every 10 s, funding-rate every 30-90 s; trades and open interest only on change.
    StreamChannel.TICKER: 10.0, StreamChannel.BOOK: 10.0, StreamChannel.CANDLES: 75.0, StreamChannel.TRADES: None,
    StreamChannel.MARK_PRICE: 30.0, StreamChannel.FUNDING: 180.0, StreamChannel.OPEN_INTEREST: None,
}
SOCKET_SILENT_S: Final = PING_AFTER_SILENCE_S + 10.0
"""No frame at all (our text ping is answered "pong") for this long: the socket is dead, reconnect."""

SPOT_ORDERS: Final = OrderFeatures(
    time_in_force={OrderType.MARKET: frozenset({TimeInForce.GTC, TimeInForce.IOC}),
                   OrderType.LIMIT: frozenset({TimeInForce.GTC, TimeInForce.POST_ONLY, TimeInForce.IOC,
                                               TimeInForce.FOK})},
    notional=True)  # a spot market order sized in quote money (tgtCcy=quote_ccy)
SWAP_ORDERS: Final = OrderFeatures(time_in_force=SPOT_ORDERS.time_in_force, margin_mode=True, reduce_only=True)
"""Swaps take ``tdMode`` cross or isolated per order and reduce-only; stop, trailing and TP/SL orders are algo
orders (/trade/order-algo), not offered."""
ORDER_FEATURES: Final = {MarketType.SPOT: SPOT_ORDERS, MarketType.LINEAR: SWAP_ORDERS,
                         MarketType.INVERSE: SWAP_ORDERS}

# --- paging ---------------------------------------------------------------------------------------------------

HISTORY_CANDLES_PAGE: Final = 100
"""Rows per history-candles request. The July 2026 page names 300 for candles and history-candles alike; earlier
versions capped history-candles at 100, which every version accepts (a month of 1-minute bars: 432 requests,
about 48 s at the 20-per-2-s limit)."""
HISTORY_TRADES_PAGE: Final = HISTORY_TRADES_LIMIT_MAX
FILLS_PAGE: Final = ORDERS_LIMIT_MAX
FILLS_RECENT_DAYS: Final = 3  # /trade/fills; older fills (3 months) come from /trade/fills-history
FILLS_SINCE_MAX_PAGES: Final = 2_000  # 200,000 fills back to a reconciliation's watermark (~67 s at 60 per 2 s)
BATCH_MAX: Final = 20  # orders per batch place / cancel / amend

_MINUTE = 60_000
BAR_MS: Final[dict[str, int]] = {
    "1s": 1_000, "1m": _MINUTE, "3m": 3 * _MINUTE, "5m": 5 * _MINUTE, "15m": 15 * _MINUTE, "30m": 30 * _MINUTE,
    "1h": 60 * _MINUTE, "2h": 120 * _MINUTE, "4h": 240 * _MINUTE, "6h": 360 * _MINUTE, "12h": 720 * _MINUTE,
    "1d": 1440 * _MINUTE, "2d": 2880 * _MINUTE, "3d": 4320 * _MINUTE, "1w": 7 * 1440 * _MINUTE,
    "1M": 31 * 1440 * _MINUTE, "3M": 92 * 1440 * _MINUTE,  # calendar months: the longest, so a span never undercounts
}
"""Each bar's length, to turn "``limit`` bars from ``start``" into a time span (history paging)."""

# --- options ------------------------------------------------------------------------------------------------

OPTIONS: Final = {
    "demo": "true / false: x-simulated-trading and the demo websockets (default: the settings' testnet flag)",
    "margin_mode": "cross / isolated: tdMode of swap orders that name none (default cross)",
    "book_channel": "books (default; snapshot + seqId-checked updates) / books5 / bbo-tbt",
}
"""The venue options this client reads (`VenueClient.options_taken`; the chassis adds ``position_quote`` and
``stale_after_<channel>``); any other is refused."""
