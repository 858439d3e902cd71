"""The Bybit V5 dialect ("unified trading account", UTA 2.0): REST, public and private websockets.

Wire facts follow Bybit's V5 documentation (bybit-exchange.github.io/docs/v5, source bybit-exchange/docs)
and what the official SDK pybit sends; the emulator imports nothing from our own Bybit client.

Modelled:
- categories ``spot``, ``linear`` (USDT perpetuals) and ``inverse`` (coin-margined perpetuals), each with
  its own instruments; the same symbol (BTCUSDT) is a different market in spot and linear. Engine ids are
  ``"<category>:<SYMBOL>"`` (see `BYBIT_INSTRUMENTS`);
- one unified wallet per account (USDT, BTC, ETH ...) used by spot trades, linear margin (USDT) and inverse
  margin (BTC); one-way positions (positionIdx 0) with leverage, average entry, unrealised PnL at the mark
  (the mid), realised PnL with fees, an informational liquidation price; reduce-only orders;
- REST envelope ``{"retCode", "retMsg", "result", "retExtInfo", "time"}``: failures are HTTP 200 with a
  non-zero retCode (contract codes 11xxxx, spot codes 17xxxx); HTTP statuses only for 403 (IP limit) and
  404 (unknown path). Every number is a string;
- HMAC-SHA256 signing (``X-BAPI-*`` headers; ``timestamp + key + recvWindow + query|body``), the
  ``server_time - recv_window <= timestamp < server_time + 1000`` rule, 10002/10003/10004;
- per-UID per-endpoint per-second rolling limits with ``X-Bapi-Limit*`` headers and retCode 10006, and the
  per-IP limit (600 requests in 5 s) answered with HTTP 403; both adjustable for tests (`set_limit`,
  ``ip_limit``, ``enforce_limits``);
- spot market buys by quote coin by default (``marketUnit``), PostOnly orders that would take are
  accepted and then cancelled (EC_PostOnlyWillTakeLiquidity), orderLinkId always unique per account;
- public streams ``/v5/public/{spot,linear,inverse}``: ``orderbook.{depth}.{symbol}`` (snapshot, then
  deltas whose ``u`` advances by exactly one per book change -- ticks *and* our own taker orders --
  matching ``u`` of GET /v5/market/orderbook), ``publicTrade``, ``tickers`` (derivatives: snapshot then
  deltas; spot: snapshots), ``kline``; private ``/v5/private`` with the ``auth`` op and the ``order``,
  ``execution``, ``position`` and ``wallet`` topics; ping/pong in both documented shapes.

Not modelled (plainly): liquidations (the liquidation price is only reported), funding, hedge mode
(positionIdx 1/2 are refused), isolated margin and portfolio margin, TP/SL, conditional and trigger
orders, amend, batch endpoints, options, spot margin (isLeverage=1), websocket order entry, the
``max_active_time`` disconnect. Open orders are not re-margined when leverage changes. Error messages are
Bybit's where we found them, best effort otherwise; the codes are the documented ones.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import attrs
import trio

from emulators.engine import (
    CANDLE_MS,
    EFill,
    EOrder,
    EPosition,
    Exchange,
    InstrumentSpec,
    PublicTrade,
    Rejected,
    RejectReason,
    SymbolState,
    synthetic_instruments,
    wall_ms,
)
from emulators.engine.errors import Refusal, RejectionTable, VenueError, refuse
from emulators.engine.faults import HttpFault, StreamKind
from emulators.engine.server import HttpRequest, HttpResponse, WsConnection
from emulators.registry import VenueSpec

D = Decimal
CATEGORIES = ("spot", "linear", "inverse")
DERIVATIVES = ("linear", "inverse")
DEMO_BALANCES = {"USDT": D("100000"), "BTC": D("1"), "ETH": D("10")}
DERIVATIVE_MAKER_FEE, DERIVATIVE_TAKER_FEE = D("0.0002"), D("0.00055")

BYBIT_INSTRUMENTS = [
    InstrumentSpec("spot:BTCUSDT", "BTC", "USDT", D("0.01"), D("0.000001"), D("0.000001"), D("83"), D("5"),
                   D("65000"), D("0.5"), venue_symbol="BTCUSDT"),
    InstrumentSpec("spot:ETHUSDT", "ETH", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("1200"), D("5"),
                   D("3200"), D("5"), venue_symbol="ETHUSDT"),
    InstrumentSpec("linear:BTCUSDT", "BTC", "USDT", D("0.10"), D("0.001"), D("0.001"), D("1190"), D("5"),
                   D("65000"), D("2"), kind="linear", venue_symbol="BTCUSDT", max_leverage=D("100"),
                   maker_fee=DERIVATIVE_MAKER_FEE, taker_fee=DERIVATIVE_TAKER_FEE),
    InstrumentSpec("linear:ETHUSDT", "ETH", "USDT", D("0.01"), D("0.01"), D("0.01"), D("7240"), D("5"),
                   D("3200"), D("20"), kind="linear", venue_symbol="ETHUSDT", max_leverage=D("100"),
                   maker_fee=DERIVATIVE_MAKER_FEE, taker_fee=DERIVATIVE_TAKER_FEE),
    InstrumentSpec("inverse:BTCUSD", "BTC", "USD", D("0.50"), D("1"), D("1"), D("1000000"), D("0"),
                   D("65000"), D("50000"), kind="inverse", venue_symbol="BTCUSD", max_leverage=D("100"),
                   maker_fee=DERIVATIVE_MAKER_FEE, taker_fee=DERIVATIVE_TAKER_FEE),
]


def unified_to_engine_ids(symbols: Sequence[str]) -> set[str]:
    """Unified symbols -> engine ids: "BTC/USDT" spot, "BTC/USDT:USDT" linear, "BTC/USD:BTC" inverse."""
    wanted: set[str] = set()
    for unified in symbols:
        pair, _, settle = unified.upper().partition(":")
        base, _, quote = pair.partition("/")
        if not settle:
            wanted.add(f"spot:{base}{quote}")
        elif settle == quote:
            wanted.add(f"linear:{base}{quote}")
        else:
            wanted.add(f"inverse:{base}{quote}")
    return wanted


def synthetic_linear_instruments(count: int) -> list[InstrumentSpec]:
    """The engine's synthetic markets as USDT perpetuals: "linear:S01USDT" (venue symbol "S01USDT", unified
    "S01/USDT:USDT"), ... with the derivative fees and 50x maximum leverage."""
    return [attrs.evolve(spec, symbol=f"linear:{spec.symbol}", kind="linear", venue_symbol=spec.symbol,
                         max_leverage=D("50"), maker_fee=DERIVATIVE_MAKER_FEE, taker_fee=DERIVATIVE_TAKER_FEE)
            for spec in synthetic_instruments(count)]


# Per-UID per-second limits (UTA tables of docs/v5/rate-limit), by (path, category); "*" = any category.
UID_LIMITS: dict[tuple[str, str], int] = {
    ("/v5/order/create", "linear"): 10, ("/v5/order/create", "inverse"): 10, ("/v5/order/create", "spot"): 20,
    ("/v5/order/cancel", "linear"): 10, ("/v5/order/cancel", "inverse"): 10, ("/v5/order/cancel", "spot"): 20,
    ("/v5/order/cancel-all", "linear"): 10, ("/v5/order/cancel-all", "inverse"): 10,
    ("/v5/order/cancel-all", "spot"): 20,
    ("/v5/order/realtime", "linear"): 50, ("/v5/order/realtime", "spot"): 50, ("/v5/order/realtime", "inverse"): 10,
    ("/v5/order/history", "linear"): 50, ("/v5/order/history", "spot"): 50, ("/v5/order/history", "inverse"): 10,
    ("/v5/execution/list", "linear"): 50, ("/v5/execution/list", "spot"): 50, ("/v5/execution/list", "inverse"): 10,
    ("/v5/position/list", "linear"): 50, ("/v5/position/list", "inverse"): 10,
    ("/v5/position/set-leverage", "linear"): 10, ("/v5/position/set-leverage", "inverse"): 10,
    ("/v5/account/wallet-balance", "*"): 50,
    ("/v5/account/fee-rate", "linear"): 10, ("/v5/account/fee-rate", "inverse"): 10,
    ("/v5/account/fee-rate", "spot"): 5,
}
DEFAULT_UID_LIMIT = 50

PUBLIC_ROUTES = {("GET", p) for p in ("/v5/market/time", "/v5/market/instruments-info", "/v5/market/tickers",
                                      "/v5/market/kline", "/v5/market/orderbook", "/v5/market/recent-trade")}
PRIVATE_ROUTES = {("GET", "/v5/account/info"), ("GET", "/v5/account/wallet-balance"), ("GET", "/v5/account/fee-rate"),
                  ("GET", "/v5/position/list"), ("POST", "/v5/position/set-leverage"), ("POST", "/v5/order/create"),
                  ("POST", "/v5/order/cancel"), ("POST", "/v5/order/cancel-all"), ("GET", "/v5/order/realtime"),
                  ("GET", "/v5/order/history"), ("GET", "/v5/execution/list")}

INTERVAL_MINUTES = {"1": 1, "3": 3, "5": 5, "15": 15, "30": 30, "60": 60, "120": 120, "240": 240, "360": 360,
                    "720": 720, "D": 1440, "W": 10080, "M": 43200}
BOOK_DEPTHS = {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 500, 1000), "inverse": (1, 50, 200, 500, 1000)}
SEVEN_DAYS_MS = 7 * 86_400_000
ORDER_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
PRIVATE_TOPICS = {"order", "execution", "position", "wallet"}


class BybitError(VenueError):
    """A failed answer: HTTP 200 with this retCode, unless ``status`` says otherwise."""

    def __init__(self, code: int, msg: str, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(status, code, msg, headers)


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


@attrs.define
class Account:
    name: str
    api_key: str
    api_secret: str
    uid: int
    passphrase: str | None = None


@attrs.define(eq=False)
class BybitDialect:
    exchange: Exchange
    accounts: dict[str, Account] = attrs.field(factory=dict)  # by api key
    connections: set[WsConnection] = attrs.field(factory=set)
    enforce_limits: bool = True
    limits: dict[tuple[str, str], int] = attrs.field(factory=lambda: dict(UID_LIMITS))
    default_limit: int = DEFAULT_UID_LIMIT
    ip_limit: int = 600
    ip_window: float = 5.0
    book_u: dict[str, int] = attrs.field(factory=dict)  # per instrument: Bybit's orderbook update id
    book_seq: dict[str, int] = attrs.field(factory=dict)
    _windows: dict[tuple[int, str, str], deque[float]] = attrs.field(factory=dict)
    _ip_hits: deque[float] = attrs.field(factory=deque)
    _vids: dict[tuple[str, int], str] = attrs.field(factory=dict)  # (instrument, engine order id) -> orderId
    _by_vid: dict[str, EOrder] = attrs.field(factory=dict)
    _conn_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    def __attrs_post_init__(self) -> None:
        for symbol in self.exchange.symbols:
            self.book_u[symbol] = 1
            self.book_seq[symbol] = 1_000_000
        self.exchange.listeners.on_trade.append(self._on_trade)
        self.exchange.listeners.on_tick.append(self._on_tick)
        self.exchange.listeners.on_book.append(self._on_book)
        self.exchange.listeners.on_order.append(self._on_order)
        self.exchange.listeners.on_position.append(self._on_position)
        self.exchange.listeners.on_balances.append(self._on_balances)

    def add_account(self, name: str, api_key: str | None = None, api_secret: str | None = None,
                    balances: Mapping[str, Decimal] | None = None, passphrase: str | None = None) -> Account:
        """Bybit keys are 18 characters and secrets 36; generated ones follow that shape."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        account = Account(name, api_key or "".join(secrets.choice(alphabet) for _ in range(18)),
                          api_secret or "".join(secrets.choice(alphabet) for _ in range(36)),
                          uid=100_000_001 + len(self.accounts))
        self.accounts[account.api_key] = account
        self.exchange.open_account(name, dict(DEMO_BALANCES if balances is None else balances))
        return account

    def set_limit(self, path: str, per_second: int, category: str = "*") -> None:
        """Lower (or raise) a per-UID limit for tests, e.g. ``set_limit("/v5/order/create", 2, "linear")``;
        category "*" sets every category of that path."""
        if category == "*":
            for key in [k for k in self.limits if k[0] == path] or [(path, "*")]:
                self.limits[key] = per_second
            self.limits[(path, "*")] = per_second
        else:
            self.limits[(path, category)] = per_second

    # ================================================================== ids and lookups
    def _index(self, symbol: str) -> int:
        return list(self.exchange.symbols).index(symbol)

    def order_id(self, order: EOrder) -> str:
        """Bybit's orderId: a long number for spot, a UUID for contracts; deterministic."""
        key = (order.symbol, order.order_id)
        vid = self._vids.get(key)
        if vid is None:
            index, spec = self._index(order.symbol), self.exchange.symbols[order.symbol].spec
            if spec.is_derivative:
                vid = str(uuid.UUID(int=((index + 1) << 96) | (self.exchange.seed & 0xFFFF) << 64 | order.order_id))
            else:
                vid = str(1_900_000_000_000_000_000 + index * 10**12 + order.order_id)
            self._vids[key] = vid
            self._by_vid[vid] = order
        return vid

    def exec_id(self, symbol: str, trade_id: int) -> str:
        index, spec = self._index(symbol), self.exchange.symbols[symbol].spec
        if spec.is_derivative:
            return str(uuid.UUID(int=((index + 1) << 100) | (self.exchange.seed & 0xFFFF) << 64 | trade_id))
        return str(2_100_000_000_000_000_000 + index * 10**12 + trade_id)

    def instrument_id(self, category: str, symbol: str) -> str:
        return f"{category}:{symbol}"

    def _state(self, category: str, symbol: str | None, *, spot_code: bool = False) -> SymbolState:
        if not symbol:
            raise BybitError(10001, "params error: symbol is required")
        state = self.exchange.symbols.get(self.instrument_id(category, symbol))
        if state is None:
            if spot_code and category == "spot":
                raise BybitError(170121, "Invalid symbol.")
            raise BybitError(10001, f"params error: symbol invalid: {symbol}")
        return state

    def _states(self, category: str) -> list[SymbolState]:
        return [s for s in self.exchange.symbols.values() if s.spec.kind == category]

    @staticmethod
    def _category(p: dict[str, Any], allowed: tuple[str, ...] = CATEGORIES) -> str:
        category = str(p.get("category", ""))
        if category not in allowed:
            raise BybitError(10001, "Illegal category" if category else "params error: category is required")
        return category

    # ================================================================== HTTP
    def http_fault_response(self, fault: HttpFault) -> HttpResponse:
        headers = [(b"retry-after", str(fault.retry_after).encode())] if fault.retry_after is not None else []
        if fault.status == 403:  # the IP limit: Bybit's gateway answers 403 "access too frequent"
            return HttpResponse(403, b"access too frequent", headers)
        if fault.status == 404:
            return HttpResponse(404, b"", headers)
        if fault.status == 429:
            body = self._envelope_error(10006, "Too many visits!")
            reset = wall_ms() + 1000 * (fault.retry_after or 1)
            headers.append((b"x-bapi-limit-reset-timestamp", str(reset).encode()))
        else:
            body = self._envelope_error(10016, "Server error.")
        return HttpResponse(fault.status, json.dumps(body).encode(), headers)

    @staticmethod
    def _envelope(result: Any) -> dict[str, Any]:
        return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": wall_ms()}

    @staticmethod
    def _envelope_error(code: int | str, msg: str) -> dict[str, Any]:
        return {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": wall_ms()}

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        key = (request.method, request.path)
        headers: list[tuple[bytes, bytes]] = []
        if self._ip_over_limit():
            return HttpResponse(403, b"access too frequent")
        if key not in PUBLIC_ROUTES and key not in PRIVATE_ROUTES:
            return HttpResponse(404, b"")
        try:
            params = self._params(request)
            account = None
            if key in PRIVATE_ROUTES:
                account = self._authenticate(request)
                headers = self._rate_limit(account, request.path, str(params.get("category", "")))
            result = self._route(key, params, account)
            return HttpResponse(200, json.dumps(self._envelope(result)).encode(), headers)
        except VenueError as error:
            body = json.dumps(self._envelope_error(error.code, error.message)).encode()
            return HttpResponse(error.status, body, [*headers, *error.headers])

    def _ip_over_limit(self) -> bool:
        now = trio.current_time()
        while self._ip_hits and now - self._ip_hits[0] >= self.ip_window:
            self._ip_hits.popleft()
        self._ip_hits.append(now)
        return self.enforce_limits and len(self._ip_hits) > self.ip_limit

    @staticmethod
    def _params(request: HttpRequest) -> dict[str, Any]:
        if request.method == "GET":
            return dict(parse_qsl(request.query_string, keep_blank_values=True))
        if not request.body.strip():
            return {}
        try:
            body = json.loads(request.body)
        except ValueError:
            raise BybitError(10001, "Request parameter error.") from None
        if not isinstance(body, dict):
            raise BybitError(10001, "Request parameter error.")
        return body

    def _authenticate(self, request: HttpRequest) -> Account:
        headers = request.headers
        api_key = headers.get("x-bapi-api-key", "")
        account = self.accounts.get(api_key)
        if account is None:
            raise BybitError(10003, "API key is invalid.")
        timestamp, recv_window = headers.get("x-bapi-timestamp", ""), headers.get("x-bapi-recv-window", "5000")
        if not timestamp.isdigit() or not recv_window.isdigit():
            raise BybitError(10001, "Request parameter error.")
        now = wall_ms()
        if not now - int(recv_window) <= int(timestamp) < now + 1000:
            raise BybitError(10002, "invalid request, please check your server timestamp or recv_window param. "
                                    f"req_timestamp[{timestamp}],server_timestamp[{now}],recv_window[{recv_window}]")
        payload = request.query_string if request.method == "GET" else request.body.decode()
        plain = f"{timestamp}{api_key}{recv_window}{payload}"
        expected = hmac.new(account.api_secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-bapi-sign", "").lower()):
            raise BybitError(10004, f"error sign! origin_string[{plain}]")
        return account

    def _rate_limit(self, account: Account, path: str, category: str) -> list[tuple[bytes, bytes]]:
        limit = self.limits.get((path, category), self.limits.get((path, "*"), self.default_limit))
        now = trio.current_time()
        window = self._windows.setdefault((account.uid, path, category), deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        over = len(window) >= limit
        if not over:
            window.append(now)
        now_ms = wall_ms()
        reset = now_ms + int((window[0] + 1.0 - now) * 1000) + 1 if over and window else now_ms
        headers = [(b"x-bapi-limit", str(limit).encode()),
                   (b"x-bapi-limit-status", str(max(limit - len(window), 0)).encode()),
                   (b"x-bapi-limit-reset-timestamp", str(reset).encode())]
        if over and self.enforce_limits:
            raise BybitError(10006, "Too many visits!", headers=headers)
        return headers

    # ------------------------------------------------------------------ routes
    def _route(self, key: tuple[str, str], p: dict[str, Any], account: Account | None) -> Any:
        if account is None:
            public: dict[str, Callable[[dict[str, Any]], Any]] = {
                "/v5/market/time": lambda _: {"timeSecond": str(wall_ms() // 1000), "timeNano": str(time.time_ns())},
                "/v5/market/instruments-info": self._instruments_info, "/v5/market/tickers": self._tickers,
                "/v5/market/kline": self._kline, "/v5/market/orderbook": self._orderbook,
                "/v5/market/recent-trade": self._recent_trades}
            return public[key[1]](p)
        private: dict[str, Callable[[dict[str, Any], Account], Any]] = {
            "/v5/account/info": self._account_info, "/v5/account/wallet-balance": self._wallet_balance,
            "/v5/account/fee-rate": self._fee_rate, "/v5/position/list": self._position_list,
            "/v5/position/set-leverage": self._set_leverage, "/v5/order/create": self._create,
            "/v5/order/cancel": self._cancel, "/v5/order/cancel-all": self._cancel_all,
            "/v5/order/realtime": self._realtime, "/v5/order/history": self._history,
            "/v5/execution/list": self._executions}
        return private[key[1]](p, account)

    # ------------------------------------------------------------------ market data
    def _instruments_info(self, p: dict[str, Any]) -> dict[str, Any]:
        category = self._category(p)
        states = self._states(category)
        if p.get("symbol"):
            states = [s for s in states if s.spec.name == p["symbol"]]
        if p.get("baseCoin") and category != "spot":
            states = [s for s in states if s.spec.base == p["baseCoin"]]
        if p.get("status") and p["status"] != "Trading":
            states = []
        if category == "spot":
            return {"category": "spot", "list": [self._spot_instrument(s.spec) for s in states]}
        page, cursor = _page(states, p, default=500, maximum=1000)
        return {"category": category, "list": [self._contract_instrument(s.spec) for s in page],
                "nextPageCursor": cursor}

    @staticmethod
    def _spot_instrument(spec: InstrumentSpec) -> dict[str, Any]:
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

    @staticmethod
    def _contract_instrument(spec: InstrumentSpec) -> dict[str, Any]:
        max_price = (D(2_000_000) / spec.tick_size - 1) * spec.tick_size
        return {
            "symbol": spec.name, "contractType": "InversePerpetual" if spec.kind == "inverse" else "LinearPerpetual",
            "status": "Trading", "baseCoin": spec.base, "quoteCoin": spec.quote, "launchTime": "1585526400000",
            "deliveryTime": "0", "deliveryFeeRate": "",
            "priceScale": str(max(0, -int(spec.tick_size.normalize().as_tuple().exponent))),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": f"{spec.max_leverage:.2f}", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": fixed(spec.tick_size, spec.tick_size),
                            "maxPrice": fixed(max_price, spec.tick_size), "tickSize": fixed(spec.tick_size, spec.tick_size)},
            "lotSizeFilter": {"maxOrderQty": fixed(spec.max_qty, spec.step_size),
                              "minOrderQty": fixed(spec.min_qty, spec.step_size),
                              "qtyStep": fixed(spec.step_size, spec.step_size),
                              "postOnlyMaxOrderQty": fixed(spec.max_qty, spec.step_size),
                              "maxMktOrderQty": fixed(spec.max_qty, spec.step_size),
                              "minNotionalValue": num(spec.min_notional)},
            "unifiedMarginTrade": True, "fundingInterval": 480, "settleCoin": spec.settle, "copyTrading": "both",
            "upperFundingRate": "0.00375", "lowerFundingRate": "-0.00375", "isPreListing": False,
            "preListingInfo": None, "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "symbolType": "", "displayName": "", "forbidUplWithdrawal": False,
        }

    def _last_price(self, state: SymbolState) -> Decimal:
        return state.trades[-1].price if state.trades else state.mid

    def _ticker(self, state: SymbolState) -> dict[str, Any]:
        spec, tick = state.spec, state.spec.tick_size
        last = self._last_price(state)
        (bid, bid_size), (ask, ask_size) = self._top(state)
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
        interest = sum((abs(p.size) for p in self.exchange.positions.values() if p.symbol == spec.symbol), D(0))
        now = wall_ms()
        return {**common, "indexPrice": fixed(state.mid, tick), "markPrice": fixed(state.mid, tick),
                "prevPrice1h": fixed(hour_ago, tick), "openInterest": num(interest),
                "openInterestValue": num(spec.value(interest, state.mid) if interest else D(0)),
                "fundingRate": "0.0001", "nextFundingTime": str((now // 28_800_000 + 1) * 28_800_000),
                "predictedDeliveryPrice": "", "basisRate": "", "deliveryFeeRate": "", "deliveryTime": "0",
                "tickDirection": "PlusTick" if state.mid >= last else "MinusTick"}

    @staticmethod
    def _top(state: SymbolState) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
        bids = [level for level in state.book.bids if level[1] > 0] or [(state.book.bids[0][0], D(0))]
        asks = [level for level in state.book.asks if level[1] > 0] or [(state.book.asks[0][0], D(0))]
        return bids[0], asks[0]

    def _tickers(self, p: dict[str, Any]) -> dict[str, Any]:
        category = self._category(p)
        states = self._states(category)
        if p.get("symbol"):
            states = [s for s in states if s.spec.name == p["symbol"]]
            if not states:
                raise BybitError(10001, "Not supported symbols")
        rows = []
        for state in states:
            row = self._ticker(state)
            row.pop("tickDirection", None)
            if category == "spot":
                row.pop("usdIndexPrice", None)
            rows.append(row)
        return {"category": category, "list": rows}

    def _kline(self, p: dict[str, Any]) -> dict[str, Any]:
        category = self._category(p)
        state = self._state(category, p.get("symbol"))
        interval = str(p.get("interval", ""))
        if interval not in INTERVAL_MINUTES:
            raise BybitError(10001, "Invalid period!")
        rows = _aggregate(state, interval)
        if p.get("start"):
            rows = [r for r in rows if r[0] >= int(p["start"])]
        if p.get("end"):
            rows = [r for r in rows if r[0] <= int(p["end"])]
        limit = _limit(p, default=200, maximum=1000)
        spec = state.spec
        newest_first = list(reversed(rows[-limit:]))
        return {"category": category, "symbol": spec.name,
                "list": [[str(r[0]), fixed(r[1], spec.tick_size), fixed(r[2], spec.tick_size),
                          fixed(r[3], spec.tick_size), fixed(r[4], spec.tick_size), num(r[5]), num(r[6])]
                         for r in newest_first]}

    def _book_levels(self, state: SymbolState, depth: int) -> tuple[list[list[str]], list[list[str]]]:
        spec = state.spec
        bids = [[fixed(px, spec.tick_size), fixed(q, spec.step_size)] for px, q in state.book.bids if q > 0][:depth]
        asks = [[fixed(px, spec.tick_size), fixed(q, spec.step_size)] for px, q in state.book.asks if q > 0][:depth]
        return bids, asks

    def _orderbook(self, p: dict[str, Any]) -> dict[str, Any]:
        category = self._category(p)
        state = self._state(category, p.get("symbol"))
        spot = category == "spot"
        depth = _limit(p, default=1 if spot else 25, maximum=200 if spot else 500)
        bids, asks = self._book_levels(state, depth)
        now = wall_ms()
        result: dict[str, Any] = {"s": state.spec.name, "b": bids, "a": asks, "ts": now,
                                  "u": self.book_u[state.spec.symbol], "seq": self.book_seq[state.spec.symbol]}
        if not spot:
            result["cts"] = now
        return result

    def _recent_trades(self, p: dict[str, Any]) -> dict[str, Any]:
        category = self._category(p)
        state = self._state(category, p.get("symbol"))
        spot = category == "spot"
        limit = _limit(p, default=60 if spot else 500, maximum=60 if spot else 1000)
        spec = state.spec
        return {"category": category, "list": [
            {"execId": self.exec_id(spec.symbol, t.trade_id), "symbol": spec.name, "price": fixed(t.price, spec.tick_size),
             "size": fixed(t.quantity, spec.step_size), "side": "Sell" if t.buyer_is_maker else "Buy",
             "time": str(t.time_ms), "isBlockTrade": False, "isRPITrade": False}
            for t in reversed(state.trades[-limit:])]}

    # ------------------------------------------------------------------ account
    def _account_info(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        return {"marginMode": "REGULAR_MARGIN", "updatedTime": str(wall_ms()), "unifiedMarginStatus": 5,
                "dcpStatus": "OFF", "timeWindow": 10, "smpGroup": 0, "isMasterTrader": False,
                "spotHedgingStatus": "OFF"}

    def _usd_price(self, coin: str) -> Decimal:
        if coin in ("USDT", "USDC", "USD"):
            return D(1)
        for category in ("spot", "linear"):
            state = self.exchange.symbols.get(f"{category}:{coin}USDT")
            if state is not None:
                return state.mid
        return D(0)

    def wallet(self, account_name: str, coins: list[str] | None = None) -> dict[str, Any]:
        """The UNIFIED account as GET /v5/account/wallet-balance and the ``wallet`` topic show it."""
        ex = self.exchange
        balances = ex.balances[account_name]
        positions = ex.positions_of(account_name)
        rows = []
        totals = {k: D(0) for k in ("equity", "wallet", "upl", "im", "mm")}
        for coin in sorted(set(balances) | set(coins or [])):
            if coins and coin not in coins:
                continue
            free, locked = balances.get(coin, [D(0), D(0)])
            held = [p for p in positions if ex.symbols[p.symbol].spec.settle == coin]
            upl = sum((ex.unrealised_pnl(p) for p in held), D(0))
            position_im = sum((p.margin for p in held), D(0))
            position_mm = sum((ex.maintenance_margin(p) for p in held), D(0))
            cum = sum((p.cum_realised for p in held), D(0))
            open_orders = [o for o in ex.open_orders(account_name) if o.locked_asset == coin]
            spot_locked = sum((o.locked for o in open_orders if not ex.symbols[o.symbol].spec.is_derivative), D(0))
            order_im = sum((o.locked for o in open_orders if ex.symbols[o.symbol].spec.is_derivative), D(0))
            wallet_balance = free + locked
            equity = wallet_balance + upl
            if not coins and wallet_balance == 0 and equity == 0:
                continue
            usd = self._usd_price(coin)
            totals["equity"] += equity * usd
            totals["wallet"] += wallet_balance * usd
            totals["upl"] += upl * usd
            totals["im"] += (position_im + order_im) * usd
            totals["mm"] += position_mm * usd
            rows.append({
                "coin": coin, "equity": num(equity), "usdValue": num(equity * usd), "walletBalance": num(wallet_balance),
                "free": "", "locked": num(spot_locked), "spotHedgingQty": "0", "borrowAmount": "0",
                "availableToBorrow": "", "availableToWithdraw": "", "accruedInterest": "0",
                "totalOrderIM": num(order_im), "totalPositionIM": num(position_im), "totalPositionMM": num(position_mm),
                "unrealisedPnl": num(upl), "cumRealisedPnl": num(cum), "bonus": "0", "collateralSwitch": True,
                "marginCollateral": True, "spotBorrow": "0"})
        margin_balance = totals["wallet"] + totals["upl"]
        im_rate = num(totals["im"] / margin_balance, 4) if margin_balance else "0"
        mm_rate = num(totals["mm"] / margin_balance, 4) if margin_balance else "0"
        return {"accountType": "UNIFIED", "accountLTV": "0", "accountIMRate": im_rate,
                "accountMMRate": mm_rate, "totalEquity": num(totals["equity"]),
                "totalWalletBalance": num(totals["wallet"]), "totalMarginBalance": num(margin_balance),
                "totalAvailableBalance": num(margin_balance - totals["im"]), "totalPerpUPL": num(totals["upl"]),
                "totalInitialMargin": num(totals["im"]), "totalMaintenanceMargin": num(totals["mm"]), "coin": rows}

    def _wallet_balance(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        if p.get("accountType") != "UNIFIED":
            raise BybitError(10001, "accountType only support UNIFIED.")
        coins = [c for c in str(p.get("coin", "")).split(",") if c] or None
        return {"list": [self.wallet(account.name, coins)]}

    def _fee_rate(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        category = self._category(p)
        states = self._states(category)
        if p.get("symbol"):
            states = [self._state(category, p["symbol"])]
        ex = self.exchange
        return {"list": [{"symbol": s.spec.name, "baseCoin": "",
                          "takerFeeRate": num(s.spec.taker_fee if s.spec.taker_fee is not None else ex.taker_fee),
                          "makerFeeRate": num(s.spec.maker_fee if s.spec.maker_fee is not None else ex.maker_fee)}
                         for s in states]}

    # ------------------------------------------------------------------ positions
    def position_json(self, position: EPosition, *, stream: bool = False) -> dict[str, Any]:
        ex = self.exchange
        spec = ex.symbols[position.symbol].spec
        mark = ex.mark_price(position.symbol)
        liq = ex.liquidation_price(position)
        entry = num(position.entry_price) if position.size else "0"
        body: dict[str, Any] = {
            "positionIdx": 0, "riskId": 1, "riskLimitValue": "2000000", "symbol": spec.name,
            "side": {"BUY": "Buy", "SELL": "Sell", "": ""}[position.side], "size": fixed(abs(position.size), spec.step_size),
            "positionValue": num(ex.position_value(position)), "tradeMode": 0, "positionStatus": "Normal",
            "autoAddMargin": 0, "adlRankIndicator": 2 if position.size else 0, "leverage": num(position.leverage),
            "positionBalance": num(position.margin), "markPrice": fixed(mark, spec.tick_size),
            "liqPrice": fixed(liq, spec.tick_size) if liq is not None and liq > 0 else "", "bustPrice": "",
            "positionMM": num(ex.maintenance_margin(position)), "positionIM": num(position.margin),
            "tpslMode": "Full", "takeProfit": "0", "stopLoss": "0", "trailingStop": "0",
            "unrealisedPnl": num(ex.unrealised_pnl(position)), "curRealisedPnl": num(position.realised),
            "cumRealisedPnl": num(position.cum_realised), "sessionAvgPrice": "", "seq": position.seq or -1,
            "isReduceOnly": False, "mmrSysUpdatedTime": "", "leverageSysUpdatedTime": "",
            "createdTime": str(position.created_ms or position.updated_ms or wall_ms()),
            "updatedTime": str(position.updated_ms or wall_ms()),
        }
        if stream:
            body["entryPrice"] = entry
            body["category"] = spec.kind
        else:
            body["avgPrice"] = entry
        return body

    def _position_list(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        category = self._category(p, DERIVATIVES)
        ex = self.exchange
        if p.get("symbol"):
            states = [self._state(category, str(s)) for s in str(p["symbol"]).split(",")]
            positions = [ex.position(account.name, s.spec.symbol) for s in states]
        else:
            settle = p.get("settleCoin")
            if category == "linear" and not settle:
                raise BybitError(10001, "Missing some parameters that must be filled in, symbol or settleCoin")
            positions = [pos for pos in ex.positions_of(account.name) if pos.size
                         and ex.symbols[pos.symbol].spec.kind == category
                         and (not settle or ex.symbols[pos.symbol].spec.settle == settle)]
        page, cursor = _page(positions, p, default=20, maximum=200)
        return {"category": category, "list": [self.position_json(pos) for pos in page], "nextPageCursor": cursor}

    def _set_leverage(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        category = self._category(p, DERIVATIVES)
        state = self._state(category, p.get("symbol"))
        buy, sell = _decimal(p, "buyLeverage"), _decimal(p, "sellLeverage")
        if buy != sell:
            raise BybitError(10001, "params error: buyLeverage must equal sellLeverage in one-way mode")
        try:
            self.exchange.set_leverage(account.name, state.spec.symbol, buy)
        except Rejected as rejected:
            raise refuse(LEVERAGE_REJECTIONS, rejected) from None
        return {}

    # ------------------------------------------------------------------ orders
    def _create(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        category = self._category(p)
        spot = category == "spot"
        state = self._state(category, p.get("symbol"), spot_code=True)
        spec = state.spec
        side = p.get("side")
        if side not in ("Buy", "Sell"):
            raise BybitError(170117, "Invalid side.") if spot else BybitError(10001, "params error: side invalid")
        order_type = p.get("orderType")
        if order_type not in ("Market", "Limit"):
            raise BybitError(170116, "Invalid orderType.") if spot else \
                BybitError(10001, "params error: orderType invalid")
        for unsupported in ("triggerPrice", "takeProfit", "stopLoss", "tpslMode"):
            if p.get(unsupported) not in (None, "", "0"):
                raise BybitError(10001, f"params error: {unsupported} is not supported by this emulator")
        if str(p.get("isLeverage", "0")) not in ("0", ""):
            raise BybitError(10001, "params error: spot margin (isLeverage=1) is not supported by this emulator")
        if str(p.get("positionIdx", "0")) != "0":
            raise BybitError(10001, "position idx not match position mode")
        if p.get("orderFilter") not in (None, "", "Order"):
            raise BybitError(10001, "params error: orderFilter is not supported by this emulator")
        quantity = _string_decimal(p, "qty", spot)
        price = _string_decimal(p, "price", spot, required=order_type == "Limit") if order_type == "Limit" else None
        tif = str(p.get("timeInForce") or "GTC")
        if tif not in ("GTC", "IOC", "FOK", "PostOnly"):
            raise BybitError(170115, "Invalid timeInForce.") if spot else \
                BybitError(10001, "params error: timeInForce invalid")
        if order_type == "Market":
            tif = "IOC"  # "Market order will always use IOC"
        link_id = str(p.get("orderLinkId") or "")
        if link_id and not ORDER_LINK_ID.match(link_id):
            raise BybitError(10001, "params error: orderLinkId invalid")
        if link_id and any(o.account == account.name and o.client_order_id == link_id
                           for o in self.exchange.orders.values()):
            raise BybitError(170141, "Duplicate clientOrderId") if spot else \
                BybitError(110072, "OrderLinkedID is duplicate")
        reduce_only = p.get("reduceOnly") in (True, "true")
        market_unit = str(p.get("marketUnit") or "")
        by_quote = False
        if spot and order_type == "Market":
            market_unit = market_unit or ("quoteCoin" if side == "Buy" else "baseCoin")
            if market_unit not in ("baseCoin", "quoteCoin"):
                raise BybitError(10001, "params error: marketUnit invalid")
            by_quote = market_unit == "quoteCoin"
            if by_quote and side == "Sell":
                raise BybitError(10001, "params error: market sell by quoteCoin is not supported by this emulator")
        kind = "LIMIT_MAKER" if tif == "PostOnly" else ("MARKET" if order_type == "Market" else "LIMIT")
        try:
            order = self.exchange.place(
                account.name, spec.symbol, "BUY" if side == "Buy" else "SELL", kind,  # type: ignore[arg-type]
                D(0) if by_quote else quantity, price, "GTC" if tif == "PostOnly" else tif,  # type: ignore[arg-type]
                link_id, quantity if by_quote else None, reduce_only=reduce_only and not spot,
                exact_quote=by_quote, reject_post_only=False)
        except Rejected as rejected:
            raise refuse(SPOT_REJECTIONS if spot else CONTRACT_REJECTIONS, rejected) from None
        return {"orderId": self.order_id(order), "orderLinkId": order.client_order_id}

    def _find(self, p: dict[str, Any], account: Account, category: str) -> EOrder | None:
        order_id, link_id = p.get("orderId"), p.get("orderLinkId")
        if not order_id and not link_id:
            raise BybitError(10001, "params error: orderId or orderLinkId is required")
        for order in reversed(self.exchange.orders.values()):
            if order.account != account.name or self.exchange.symbols[order.symbol].spec.kind != category:
                continue
            if (order_id and self.order_id(order) == order_id) or (not order_id and order.client_order_id == link_id):
                return order
        return None

    def _cancel(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        category = self._category(p)
        state = self._state(category, p.get("symbol"), spot_code=True)
        order = self._find(p, account, category)
        if order is None or order.symbol != state.spec.symbol or not order.is_open:
            raise BybitError(170213, "Order does not exist.") if category == "spot" else \
                BybitError(110001, "order not exists or too late to cancel")
        self.exchange.cancel(account.name, order.symbol, order_id=order.order_id)
        return {"orderId": self.order_id(order), "orderLinkId": order.client_order_id}

    def _cancel_all(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        category = self._category(p)
        if category != "spot" and not (p.get("symbol") or p.get("baseCoin") or p.get("settleCoin")):
            raise BybitError(10001, "Missing some parameters that must be filled in, symbol or settleCoin or baseCoin")
        orders = self._select(p, account, category, open_only=True)
        cancelled = []
        for order in orders:
            self.exchange.cancel(account.name, order.symbol, order_id=order.order_id)
            cancelled.append({"orderId": self.order_id(order), "orderLinkId": order.client_order_id})
        return {"list": cancelled, "success": "1"}

    def _select(self, p: dict[str, Any], account: Account, category: str, *, open_only: bool) -> list[EOrder]:
        ex = self.exchange
        orders = [o for o in ex.orders.values() if o.account == account.name
                  and ex.symbols[o.symbol].spec.kind == category and (o.is_open or not open_only)]
        if p.get("symbol"):
            state = self._state(category, p["symbol"])
            orders = [o for o in orders if o.symbol == state.spec.symbol]
        if p.get("baseCoin"):
            orders = [o for o in orders if ex.symbols[o.symbol].spec.base == p["baseCoin"]]
        if p.get("settleCoin"):
            orders = [o for o in orders if ex.symbols[o.symbol].spec.settle == p["settleCoin"]]
        return orders

    def _realtime(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        category = self._category(p)
        if p.get("orderId") or p.get("orderLinkId"):  # by id: open or recently closed, openOnly ignored
            found = self._find(p, account, category)
            orders = [found] if found is not None else []
        else:
            if category == "linear" and not (p.get("symbol") or p.get("baseCoin") or p.get("settleCoin")):
                raise BybitError(10001, "Missing some parameters that must be filled in, symbol or settleCoin or "
                                        "baseCoin")
            include_closed = str(p.get("openOnly", "0")) in ("1", "2")
            orders = self._select(p, account, category, open_only=not include_closed)
            if include_closed:  # open ones, and at most the 500 most recent closed ones
                closed = [o for o in orders if not o.is_open][-500:]
                orders = [o for o in orders if o.is_open or o in closed]
        orders.sort(key=lambda o: (o.created_ms, o.order_id), reverse=True)
        page, cursor = _page(orders, p, default=20, maximum=50)
        return {"category": category, "list": [self.order_json(o) for o in page], "nextPageCursor": cursor}

    def _history(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        category = self._category(p)
        if p.get("orderId") or p.get("orderLinkId"):
            found = self._find(p, account, category)
            orders = [found] if found is not None else []
        else:
            orders = self._select(p, account, category, open_only=False)
            start, end = _window(p, require_both=True)
            orders = [o for o in orders if start <= o.created_ms <= end]
        if p.get("orderStatus"):
            orders = [o for o in orders if self.status(o) == p["orderStatus"]]
        orders.sort(key=lambda o: (o.created_ms, o.order_id), reverse=True)
        page, cursor = _page(orders, p, default=20, maximum=50)
        return {"category": category, "list": [self.order_json(o) for o in page], "nextPageCursor": cursor}

    def _executions(self, p: dict[str, Any], account: Account) -> dict[str, Any]:
        category = self._category(p)
        ex = self.exchange
        fills = [f for f in ex.fill_log if f.account == account.name and ex.symbols[f.symbol].spec.kind == category]
        if p.get("orderId") or p.get("orderLinkId"):
            found = self._find(p, account, category)
            fills = [f for f in fills if found is not None and f.symbol == found.symbol and f.order_id == found.order_id]
        else:
            if p.get("symbol"):
                state = self._state(category, p["symbol"])
                fills = [f for f in fills if f.symbol == state.spec.symbol]
            if p.get("baseCoin"):
                fills = [f for f in fills if ex.symbols[f.symbol].spec.base == p["baseCoin"]]
            start, end = _window(p, require_both=False)
            fills = [f for f in fills if start <= f.time_ms <= end]
        if p.get("execType") not in (None, "", "Trade"):
            fills = []
        fills.sort(key=lambda f: (f.time_ms, self._index(f.symbol), f.trade_id), reverse=True)
        page, cursor = _page(fills, p, default=50, maximum=100)
        return {"category": category, "list": [self.execution_json(f) for f in page], "nextPageCursor": cursor}

    def _engine_order(self, fill: EFill) -> EOrder:
        for order in self.exchange.orders.values():
            if order.symbol == fill.symbol and order.order_id == fill.order_id:
                return order
        raise KeyError(fill.order_id)

    def status(self, order: EOrder) -> str:
        spot = not self.exchange.symbols[order.symbol].spec.is_derivative
        if order.status in ("CANCELED", "EXPIRED"):
            return "PartiallyFilledCanceled" if spot and order.filled > 0 else "Cancelled"
        return {"NEW": "New", "PARTIALLY_FILLED": "PartiallyFilled", "FILLED": "Filled",
                "REJECTED": "Rejected"}[order.status]

    def order_json(self, order: EOrder, *, stream: bool = False) -> dict[str, Any]:
        spec = self.exchange.symbols[order.symbol].spec
        tick, step = spec.tick_size, spec.step_size
        by_quote = order.exact_quote
        leaves = D(0) if not order.is_open else order.remaining
        if order.filled:
            average = order.filled / order.quote_filled if spec.kind == "inverse" else order.quote_filled / order.filled
            avg_price = num(average)
        else:
            avg_price = ""
        fees = [f.fee for f in self.exchange.fill_log if f.symbol == order.symbol and f.order_id == order.order_id]
        fee = sum(fees, D(0))
        fee_asset = order.last_fill.fee_asset if order.last_fill is not None else ""
        cancel_type = "UNKNOWN"
        reject = "EC_NoError"
        if order.status == "CANCELED":
            cancel_type = "CancelByReduceOnly" if order.reject_reason == "reduce_only" else "CancelByUser"
            if order.reject_reason == "post_only":
                cancel_type, reject = "UNKNOWN", "EC_PostOnlyWillTakeLiquidity"
        elif order.status == "EXPIRED":
            reject = "EC_CancelForNoFullFill" if order.tif == "FOK" else "EC_NoImmediateQtyToFill"
        body: dict[str, Any] = {
            "orderId": self.order_id(order), "orderLinkId": order.client_order_id, "blockTradeId": "",
            "symbol": spec.name, "price": fixed(order.price, tick) if order.price is not None else "0",
            "qty": num(order.quote_quantity) if by_quote and order.quote_quantity is not None else fixed(order.quantity, step),
            "side": "Buy" if order.side == "BUY" else "Sell", "isLeverage": "0" if not spec.is_derivative else "",
            "positionIdx": 0, "orderStatus": self.status(order), "cancelType": cancel_type, "rejectReason": reject,
            "avgPrice": avg_price, "leavesQty": "0" if by_quote else fixed(leaves, step),
            "leavesValue": num(spec.value(leaves, order.price) if order.price is not None and leaves else D(0)),
            "cumExecQty": fixed(order.filled, step), "cumExecValue": num(order.quote_filled),
            "cumExecFee": num(fee), "timeInForce": "PostOnly" if order.kind == "LIMIT_MAKER" else order.tif,
            "orderType": "Market" if order.kind == "MARKET" else "Limit", "stopOrderType": "",
            "orderIv": "", "marketUnit": ("quoteCoin" if by_quote else "baseCoin") if order.kind == "MARKET"
            and not spec.is_derivative else "", "triggerPrice": "0", "takeProfit": "0", "stopLoss": "0",
            "tpslMode": "" if not spec.is_derivative else "UNKNOWN", "ocoTriggerBy": "", "tpLimitPrice": "0",
            "slLimitPrice": "0", "tpTriggerBy": "", "slTriggerBy": "", "triggerDirection": 0, "triggerBy": "",
            "lastPriceOnCreated": "", "reduceOnly": order.reduce_only, "closeOnTrigger": False, "placeType": "",
            "smpType": "None", "smpGroup": 0, "smpOrderId": "", "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms), "slippageToleranceType": "UNKNOWN", "slippageTolerance": "0",
            "cumFeeDetail": {fee_asset: num(fee)} if fee_asset else {},
        }
        if spec.is_derivative:
            body["createType"] = "CreateByUser"
        if stream:
            body["category"] = spec.kind
            body["feeCurrency"] = fee_asset if not spec.is_derivative else ""
            body["closedPnl"] = num(sum((f.closed_pnl for f in self.exchange.fill_log
                                         if f.symbol == order.symbol and f.order_id == order.order_id), D(0)))
        return body

    def execution_json(self, fill: EFill, *, stream: bool = False) -> dict[str, Any]:
        spec = self.exchange.symbols[fill.symbol].spec
        order = self._engine_order(fill)
        body: dict[str, Any] = {
            "symbol": spec.name, "orderId": self.order_id(order), "orderLinkId": order.client_order_id,
            "side": "Buy" if fill.side == "BUY" else "Sell",
            "orderPrice": fixed(order.price, spec.tick_size) if order.price is not None else "0",
            "orderQty": num(order.quote_quantity) if order.exact_quote and order.quote_quantity is not None
            else fixed(order.quantity, spec.step_size),
            "leavesQty": fixed(order.remaining if order.is_open else D(0), spec.step_size),
            "orderType": "Market" if order.kind == "MARKET" else "Limit", "stopOrderType": "UNKNOWN",
            "execFee": num(fill.fee), "execId": self.exec_id(fill.symbol, fill.trade_id),
            "execPrice": fixed(fill.price, spec.tick_size), "execQty": fixed(fill.quantity, spec.step_size),
            "execType": "Trade", "execValue": num(fill.quote_quantity), "execTime": str(fill.time_ms),
            "feeCurrency": fill.fee_asset if not spec.is_derivative else "", "isMaker": fill.is_maker,
            "feeRate": num(fill.fee_rate), "tradeIv": "", "markIv": "", "markPrice": fixed(fill.price, spec.tick_size),
            "indexPrice": "", "underlyingPrice": "", "blockTradeId": "",
            "closedSize": fixed(fill.closed_size, spec.step_size) if spec.is_derivative else "",
            "seq": self.book_seq[fill.symbol] + fill.trade_id, "extraFees": "",
        }
        if spec.is_derivative:
            body["createType"] = "CreateByUser"
        if stream:
            body["category"] = spec.kind
            body["isLeverage"] = "0" if not spec.is_derivative else ""
            body["marketUnit"] = ""
        return body

    # ================================================================== websockets
    def stream_kind(self, path: str) -> StreamKind | None:
        if path in ("/v5/public/spot", "/v5/public/linear", "/v5/public/inverse"):
            return "public"
        if path == "/v5/private":
            return "private"
        return None

    async def on_ws_open(self, conn: WsConnection) -> None:
        number = next(self._conn_ids)
        conn.state.update(topics=set(), conn_id=f"emu{number:08x}-{self.exchange.seed}",
                          category=conn.path.rsplit("/", 1)[-1] if conn.kind == "public" else "",
                          account=None, tickers={}, klines={})
        self.connections.add(conn)

    def on_ws_close(self, conn: WsConnection) -> None:
        self.connections.discard(conn)

    async def on_ws_message(self, conn: WsConnection, text: str) -> None:
        try:
            request = json.loads(text)
            op = request.get("op")
        except (ValueError, AttributeError):
            conn.send(json.dumps({"success": False, "ret_msg": "error:request not json", "conn_id": conn.state["conn_id"],
                                  "op": ""}))
            return
        req_id = str(request.get("req_id", ""))
        args = request.get("args") or []
        public = conn.kind == "public"
        base: dict[str, Any] = {"conn_id": conn.state["conn_id"], "req_id": req_id, "op": op}
        if op == "ping":
            if public:
                conn.send(json.dumps({"success": True, "ret_msg": "pong", **base, "op": "ping"}))
            else:
                conn.send(json.dumps({"req_id": req_id, "op": "pong", "args": [str(wall_ms())],
                                      "conn_id": conn.state["conn_id"]}))
        elif op == "auth" and not public:
            conn.send(json.dumps({**self._auth(conn, args), **base}))
        elif op == "subscribe":
            self._subscribe(conn, args, base)
        elif op == "unsubscribe":
            conn.state["topics"].difference_update(args)
            conn.send(json.dumps({"success": True, "ret_msg": "", **base}))
        else:
            conn.send(json.dumps({"success": False, "ret_msg": f"error:handler not found,op:{op}", **base}))

    def _auth(self, conn: WsConnection, args: list[Any]) -> dict[str, Any]:
        if len(args) != 3:
            return {"success": False, "ret_msg": "Params Error"}
        api_key, expires, signature = str(args[0]), str(args[1]), str(args[2])
        account = self.accounts.get(api_key)
        if account is None:
            return {"success": False, "ret_msg": "Invalid apikey"}
        if not expires.isdigit() or int(expires) <= wall_ms():
            return {"success": False, "ret_msg": "Params Error"}
        expected = hmac.new(account.api_secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            return {"success": False, "ret_msg": "Invalid sign"}
        conn.state["account"] = account.name
        return {"success": True, "ret_msg": ""}

    def _subscribe(self, conn: WsConnection, args: list[Any], base: dict[str, Any]) -> None:
        topics = [str(a) for a in args]
        public = conn.kind == "public"
        if not public and conn.state["account"] is None:
            conn.send(json.dumps({"success": False, "ret_msg": "Request not authorized", **base}))
            return
        for topic in topics:
            problem = self._check_topic(conn, topic)
            if problem:
                conn.send(json.dumps({"success": False, "ret_msg": problem, **base}))
                return
        conn.state["topics"].update(topics)
        ok_msg = "subscribe" if public and conn.state["category"] == "spot" else ""
        conn.send(json.dumps({"success": True, "ret_msg": ok_msg, **base}))
        if public:
            for topic in topics:
                self._snapshot(conn, topic)

    def _check_topic(self, conn: WsConnection, topic: str) -> str:
        if topic in conn.state["topics"]:
            return f"error:already subscribed,topic:{topic}"
        if conn.kind == "private":
            name, _, category = topic.partition(".")
            if name in PRIVATE_TOPICS and (not category or category in CATEGORIES):
                return ""
            return f"error:handler not found,topic:{topic}"
        category = conn.state["category"]
        parts = topic.split(".")
        symbol = parts[-1]
        if f"{category}:{symbol}" not in self.exchange.symbols:
            return f"Invalid symbol :[{topic}]"
        if parts[0] in ("publicTrade", "tickers") and len(parts) == 2:
            return ""
        if parts[0] == "orderbook" and len(parts) == 3 and parts[1].isdigit() and \
                int(parts[1]) in BOOK_DEPTHS[category]:
            return ""
        if parts[0] == "kline" and len(parts) == 3 and parts[1] in INTERVAL_MINUTES:
            return ""
        return f"error:handler not found,topic:{topic}"

    def _snapshot(self, conn: WsConnection, topic: str) -> None:
        parts = topic.split(".")
        state = self.exchange.symbols[f"{conn.state['category']}:{parts[-1]}"]
        if parts[0] == "orderbook":
            conn.send(json.dumps(self._book_message(state, topic, int(parts[1]), "snapshot", None)))
        elif parts[0] == "tickers":
            ticker = self._ticker(state)
            if state.spec.kind == "spot":
                ticker = self._spot_stream_ticker(ticker)
            conn.state["tickers"][topic] = ticker
            conn.send(json.dumps({"topic": topic, "type": "snapshot", "data": ticker,
                                  "cs": self.book_seq[state.spec.symbol], "ts": wall_ms()}))

    # ------------------------------------------------------------------ public pushes
    def _public(self, state: SymbolState, topic_of: Callable[[str], bool]) -> list[tuple[WsConnection, str]]:
        out = []
        for conn in list(self.connections):
            if conn.kind != "public" or conn.state.get("category") != state.spec.kind:
                continue
            for topic in conn.state["topics"]:
                if topic.endswith("." + state.spec.name) and topic_of(topic):
                    out.append((conn, topic))
        return out

    def _book_message(self, state: SymbolState, topic: str, depth: int, kind: str,
                      change: tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]] | None) -> dict[str, Any]:
        spec = state.spec
        if change is None:
            bids, asks = self._book_levels(state, depth)
        else:
            bids = [[fixed(px, spec.tick_size), fixed(q, spec.step_size)] for px, q in change[0]]
            asks = [[fixed(px, spec.tick_size), fixed(q, spec.step_size)] for px, q in change[1]]
        now = wall_ms()
        message: dict[str, Any] = {"topic": topic, "type": kind, "ts": now,
                                   "data": {"s": spec.name, "b": bids, "a": asks, "u": self.book_u[spec.symbol],
                                            "seq": self.book_seq[spec.symbol]}}
        if spec.is_derivative:
            message["cts"] = now
        return message

    def _book_changed(self, state: SymbolState, bids: list[tuple[Decimal, Decimal]],
                      asks: list[tuple[Decimal, Decimal]]) -> None:
        """Every book change advances ``u`` by one and is pushed as one delta (depth 1: a snapshot)."""
        symbol = state.spec.symbol
        self.book_u[symbol] += 1
        self.book_seq[symbol] += 1
        for conn, topic in self._public(state, lambda t: t.startswith("orderbook.")):
            depth = int(topic.split(".")[1])
            if depth == 1:
                conn.send(json.dumps(self._book_message(state, topic, 1, "snapshot", None)))
            else:
                conn.send(json.dumps(self._book_message(state, topic, depth, "delta", (bids, asks))))

    def _on_book(self, state: SymbolState, bids: list[tuple[Decimal, Decimal]],
                 asks: list[tuple[Decimal, Decimal]]) -> None:
        self._book_changed(state, bids, asks)

    def _on_trade(self, trade: PublicTrade) -> None:
        state = self.exchange.symbols[trade.symbol]
        spec = state.spec
        item: dict[str, Any] = {"T": trade.time_ms, "s": spec.name, "S": "Sell" if trade.buyer_is_maker else "Buy",
                                "v": fixed(trade.quantity, spec.step_size), "p": fixed(trade.price, spec.tick_size),
                                "i": self.exec_id(spec.symbol, trade.trade_id), "BT": False, "RPI": False,
                                "seq": self.book_seq[spec.symbol]}
        if spec.is_derivative:
            previous = state.trades[-2].price if len(state.trades) > 1 else trade.price
            item["L"] = "PlusTick" if trade.price > previous else "MinusTick" if trade.price < previous else \
                "ZeroPlusTick"
        for conn, topic in self._public(state, lambda t: t.startswith("publicTrade.")):
            conn.send(json.dumps({"topic": topic, "type": "snapshot", "ts": wall_ms(), "data": [item]}))

    @staticmethod
    def _spot_stream_ticker(ticker: dict[str, Any]) -> dict[str, Any]:
        keep = ("symbol", "lastPrice", "highPrice24h", "lowPrice24h", "prevPrice24h", "volume24h", "turnover24h",
                "price24hPcnt", "usdIndexPrice")
        return {k: ticker[k] for k in keep}

    def _on_tick(self, state: SymbolState, bids: list[tuple[Decimal, Decimal]],
                 asks: list[tuple[Decimal, Decimal]]) -> None:
        self._book_changed(state, bids, asks)
        now = wall_ms()
        ticker = self._ticker(state)
        for conn, topic in self._public(state, lambda t: t.startswith("tickers.")):
            if state.spec.kind == "spot":
                conn.send(json.dumps({"topic": topic, "type": "snapshot", "data": self._spot_stream_ticker(ticker),
                                      "cs": self.book_seq[state.spec.symbol], "ts": now}))
                continue
            last = conn.state["tickers"].get(topic, {})
            delta = {k: v for k, v in ticker.items() if last.get(k) != v}
            conn.state["tickers"][topic] = ticker
            if delta:
                conn.send(json.dumps({"topic": topic, "type": "delta", "data": {"symbol": state.spec.name, **delta},
                                      "cs": self.book_seq[state.spec.symbol], "ts": now}))
        for conn, topic in self._public(state, lambda t: t.startswith("kline.")):
            interval = topic.split(".")[1]
            rows = _aggregate(state, interval, tail=True)
            sent = conn.state["klines"].get(topic)
            messages = []
            if sent is not None and sent[0] != rows[-1][0] and len(rows) > 1:
                messages.append(self._kline_item(state, interval, rows[-2], confirm=True))
            messages.append(self._kline_item(state, interval, rows[-1], confirm=False))
            conn.state["klines"][topic] = rows[-1]
            for item in messages:
                conn.send(json.dumps({"topic": topic, "data": [item], "ts": now, "type": "snapshot"}))

    def _kline_item(self, state: SymbolState, interval: str, row: list[Any], *, confirm: bool) -> dict[str, Any]:
        spec = state.spec
        return {"start": row[0], "end": _bucket_end(row[0], interval), "interval": interval,
                "open": fixed(row[1], spec.tick_size), "close": fixed(row[4], spec.tick_size),
                "high": fixed(row[2], spec.tick_size), "low": fixed(row[3], spec.tick_size), "volume": num(row[5]),
                "turnover": num(row[6]), "confirm": confirm, "timestamp": wall_ms()}

    # ------------------------------------------------------------------ private pushes
    def _private(self, account: str, name: str, category: str, data: list[dict[str, Any]]) -> None:
        now = wall_ms()
        for conn in list(self.connections):
            if conn.kind != "private" or conn.state.get("account") != account:
                continue
            for topic in (name, f"{name}.{category}"):
                if topic in conn.state["topics"]:
                    conn.send(json.dumps({"id": f"{next(self._message_ids)}-{secrets.token_hex(8)}", "topic": topic,
                                          "creationTime": now, "data": data}))

    def _on_order(self, order: EOrder, fill: EFill | None, execution: str) -> None:
        spec = self.exchange.symbols[order.symbol].spec
        self._private(order.account, "order", spec.kind, [self.order_json(order, stream=True)])
        if fill is not None:
            self._private(order.account, "execution", spec.kind, [self.execution_json(fill, stream=True)])

    def _on_position(self, position: EPosition) -> None:
        spec = self.exchange.symbols[position.symbol].spec
        self._private(position.account, "position", spec.kind, [self.position_json(position, stream=True)])

    def _on_balances(self, account: str, snapshot: dict[str, tuple[Decimal, Decimal]]) -> None:
        now = wall_ms()
        data = [self.wallet(account)]
        for conn in list(self.connections):
            if conn.kind == "private" and conn.state.get("account") == account and "wallet" in conn.state["topics"]:
                conn.send(json.dumps({"id": f"{next(self._message_ids)}-{secrets.token_hex(8)}", "topic": "wallet",
                                      "creationTime": now, "data": data}))


# ====================================================================== helpers
def _refusal(code: int, message: str) -> Refusal:
    return Refusal(200, code, message)


_PARAMETER = _refusal(10001, "Request parameter error. ({reason})")
# Every engine refusal in Bybit's words: spot (17xxxx codes) and contracts (11xxxx), then set-leverage.
SPOT_REJECTIONS: RejectionTable = {
    RejectReason.INSUFFICIENT_BALANCE: _refusal(170131, "Insufficient balance."),
    RejectReason.QTY_BELOW_MIN: _refusal(170136, "Order quantity lower than the minimum."),
    RejectReason.QTY_ABOVE_MAX: _refusal(170135, "Order quantity too large."),
    RejectReason.QTY_OFF_STEP: _refusal(170137, "Order volume decimal too long."),
    RejectReason.PRICE_OFF_TICK: _refusal(170134, "Order price decimal too long."),
    RejectReason.NOTIONAL_BELOW_MIN: _refusal(170140, "Order value exceeded lower limit."),
    RejectReason.UNKNOWN_SYMBOL: _refusal(170121, "Invalid symbol."),
    RejectReason.DUPLICATE: _refusal(170141, "Duplicate clientOrderId"),
    RejectReason.UNKNOWN_ORDER: _PARAMETER,
    RejectReason.WOULD_MATCH: _PARAMETER,
    RejectReason.REDUCE_ONLY: _refusal(110017, "Reduce-only rule not satisfied"),
    RejectReason.LEVERAGE_NOT_MODIFIED: _PARAMETER,
    RejectReason.LEVERAGE_INVALID: _PARAMETER,
    RejectReason.NOT_DERIVATIVE: _PARAMETER,
}
CONTRACT_REJECTIONS: RejectionTable = {
    RejectReason.INSUFFICIENT_BALANCE: _refusal(110007, "ab not enough for new order"),
    RejectReason.QTY_BELOW_MIN: _refusal(10001, "The number of contracts exceeds minimum limit allowed"),
    RejectReason.QTY_ABOVE_MAX: _refusal(10001, "The number of contracts exceeds maximum limit allowed"),
    RejectReason.QTY_OFF_STEP: _refusal(10001, "Qty invalid"),
    RejectReason.PRICE_OFF_TICK: _refusal(10001, "Price invalid"),
    RejectReason.NOTIONAL_BELOW_MIN: _refusal(110094, "Order does not meet minimum order value"),
    RejectReason.UNKNOWN_SYMBOL: _refusal(10001, "params error: symbol invalid"),
    RejectReason.DUPLICATE: _refusal(110072, "OrderLinkedID is duplicate"),
    RejectReason.UNKNOWN_ORDER: _PARAMETER,
    RejectReason.WOULD_MATCH: _PARAMETER,
    RejectReason.REDUCE_ONLY: _refusal(110017, "Reduce-only rule not satisfied"),
    RejectReason.LEVERAGE_NOT_MODIFIED: _PARAMETER,
    RejectReason.LEVERAGE_INVALID: _PARAMETER,
    RejectReason.NOT_DERIVATIVE: _PARAMETER,
}
_LEVERAGE_RANGE = _refusal(10001, "params error: leverage must be within {detail}")
LEVERAGE_REJECTIONS: RejectionTable = {
    **{reason: _LEVERAGE_RANGE for reason in CONTRACT_REJECTIONS},
    RejectReason.LEVERAGE_NOT_MODIFIED: _refusal(110043, "leverage not modified"),
    RejectReason.INSUFFICIENT_BALANCE: _refusal(110044, "Available margin is insufficient."),
}


def _decimal(p: dict[str, Any], name: str) -> Decimal:
    raw = p.get(name)
    if raw is None or raw == "":
        raise BybitError(10001, f"params error: {name} is required")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise BybitError(10001, f"params error: {name} invalid") from None
    if not value.is_finite() or value <= 0:
        raise BybitError(10001, f"params error: {name} invalid")
    return value


def _string_decimal(p: dict[str, Any], name: str, spot: bool, required: bool = True) -> Decimal:
    """qty and price must be JSON strings (Bybit documents them as string; pybit casts them)."""
    raw = p.get(name)
    if raw is None or raw == "":
        if spot:
            raise BybitError(170105, f"Parameter '{name}' was empty.")
        raise BybitError(10001, f"params error: {name} is required")
    if not isinstance(raw, str):
        raise BybitError(170130, f"Data sent for paramter '{name}' is not valid.") if spot else \
            BybitError(10001, f"params error: {name} must be a string")
    return _decimal(p, name)


def _limit(p: dict[str, Any], *, default: int, maximum: int) -> int:
    raw = p.get("limit")
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise BybitError(10001, "params error: limit invalid") from None
    if value < 1:
        raise BybitError(10001, "params error: limit invalid")
    return min(value, maximum)


def _page(items: list[Any], p: dict[str, Any], *, default: int, maximum: int) -> tuple[list[Any], str]:
    """Cursor paging: the cursor is opaque to clients (here: "page%3D<offset>", sent back verbatim)."""
    limit = _limit(p, default=default, maximum=maximum)
    offset = 0
    cursor = str(p.get("cursor") or "")
    if cursor:
        found = re.search(r"(\d+)\D*$", cursor)
        if found is None:
            raise BybitError(10001, "params error: cursor invalid")
        offset = int(found.group(1))
    page = items[offset:offset + limit]
    more = offset + limit < len(items)
    return page, f"page%3D{offset + limit}" if more else ""


def _window(p: dict[str, Any], *, require_both: bool) -> tuple[int, int]:
    """startTime/endTime: at most 7 days apart; one alone spans 7 days from/to it; none: the last 7 days."""
    start = int(p["startTime"]) if p.get("startTime") else None
    end = int(p["endTime"]) if p.get("endTime") else None
    if require_both and (start is None) != (end is None):
        raise BybitError(10001, "params error: startTime and endTime must be passed together")
    if start is not None and end is not None:
        if end < start or end - start > SEVEN_DAYS_MS:
            raise BybitError(10001, "params error: the time range between startTime and endTime cannot exceed 7 days")
        return start, end
    if start is not None:
        return start, start + SEVEN_DAYS_MS
    if end is not None:
        return end - SEVEN_DAYS_MS, end
    now = wall_ms()
    return now - SEVEN_DAYS_MS, now + 1000


def _bucket_start(open_ms: int, interval: str) -> int:
    if interval == "M":
        moment = datetime.fromtimestamp(open_ms / 1000, UTC)
        return calendar.timegm((moment.year, moment.month, 1, 0, 0, 0)) * 1000
    if interval == "W":  # weeks start on Monday; 1970-01-05 was one
        monday = 4 * 86_400_000
        return (open_ms - monday) // (7 * 86_400_000) * (7 * 86_400_000) + monday
    span = INTERVAL_MINUTES[interval] * CANDLE_MS
    return open_ms // span * span


def _bucket_end(start_ms: int, interval: str) -> int:
    if interval == "M":
        moment = datetime.fromtimestamp(start_ms / 1000, UTC)
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000 - 1
    if interval == "W":
        return start_ms + 7 * 86_400_000 - 1
    return start_ms + INTERVAL_MINUTES[interval] * CANDLE_MS - 1


def _aggregate(state: SymbolState, interval: str, *, tail: bool = False) -> list[list[Any]]:
    """Rows [start ms, open, high, low, close, volume, turnover] (Decimals), oldest first."""
    candles = state.candles[-max(INTERVAL_MINUTES[interval], 1) * 2:] if tail else state.candles
    rows: list[list[Any]] = []
    for candle in candles:
        start = _bucket_start(candle.open_ms, interval)
        if rows and rows[-1][0] == start:
            row = rows[-1]
            row[2], row[3], row[4] = max(row[2], candle.high), min(row[3], candle.low), candle.close
            row[5] += candle.volume
            row[6] += candle.quote_volume
        else:
            rows.append([start, candle.open, candle.high, candle.low, candle.close, candle.volume, candle.quote_volume])
    return rows


# Published demo credentials for paper trading (Bybit's shape: an 18-character key, a 36-character secret).
SPEC = VenueSpec(
    "bybit", BybitDialect, BYBIT_INSTRUMENTS, unified_to_engine_ids, synthetic_linear_instruments,  # type: ignore[arg-type]
    demo_key="atDemoBybitKey0000", demo_secret="atDemoBybitSecret0000000000000000000",
    demo_balances=DEMO_BALANCES,
    rejections={"spot orders": SPOT_REJECTIONS, "contract orders": CONTRACT_REJECTIONS,
                "set-leverage": LEVERAGE_REJECTIONS})
