"""The Binance spot dialect: `/api/v3` REST, market streams and the user data stream, on the engine.

Wire facts follow Binance's spot API documentation: HMAC-SHA256 over the exact query string plus
form body, `X-MBX-APIKEY`, `timestamp`/`recvWindow` checks, error bodies ``{"code": -NNNN, "msg": ...}``,
request weights reported in ``X-MBX-USED-WEIGHT-1M`` and order counts in ``X-MBX-ORDER-COUNT-10S/1D``,
429 with Retry-After when over the limit and 418 for clients that keep going after a 429.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import trio

from emulators.engine import (
    DEFAULT_BALANCES,
    DEFAULT_INSTRUMENTS,
    EFill,
    EOrder,
    Exchange,
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

WEIGHT_LIMIT = 6000
ORDERS_10S = 100
ORDERS_1D = 200_000
LISTEN_KEY_TTL_MS = 60 * 60 * 1000

# Request weights as published (GET unless noted); depth's weight depends on `limit`.
WEIGHTS: dict[tuple[str, str], int] = {
    ("GET", "/api/v3/ping"): 1, ("GET", "/api/v3/time"): 1, ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/trades"): 25, ("GET", "/api/v3/klines"): 2, ("GET", "/api/v3/avgPrice"): 2,
    ("GET", "/api/v3/ticker/price"): 2, ("GET", "/api/v3/ticker/bookTicker"): 2, ("GET", "/api/v3/ticker/24hr"): 2,
    ("GET", "/api/v3/account"): 20, ("POST", "/api/v3/order"): 1, ("POST", "/api/v3/order/test"): 1,
    ("DELETE", "/api/v3/order"): 1, ("GET", "/api/v3/order"): 4, ("GET", "/api/v3/openOrders"): 6,
    ("DELETE", "/api/v3/openOrders"): 1, ("GET", "/api/v3/allOrders"): 20, ("GET", "/api/v3/myTrades"): 20,
    ("POST", "/api/v3/userDataStream"): 2, ("PUT", "/api/v3/userDataStream"): 2,
    ("DELETE", "/api/v3/userDataStream"): 2,
}
SIGNED = {("GET", "/api/v3/account"), ("POST", "/api/v3/order"), ("POST", "/api/v3/order/test"),
          ("DELETE", "/api/v3/order"), ("GET", "/api/v3/order"), ("GET", "/api/v3/openOrders"),
          ("DELETE", "/api/v3/openOrders"), ("GET", "/api/v3/allOrders"), ("GET", "/api/v3/myTrades")}
API_KEY_ONLY = {("POST", "/api/v3/userDataStream"), ("PUT", "/api/v3/userDataStream"),
                ("DELETE", "/api/v3/userDataStream")}


def fmt(value: Decimal) -> str:
    """Binance prints decimals with 8 places."""
    return f"{value:.8f}"


def _dec(params: dict[str, str], name: str, required: bool = True) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise VenueError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise VenueError(400, -1100, f"Illegal characters found in parameter '{name}'; "
                                       "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.") from None
    if not value.is_finite() or value < 0:
        raise VenueError(400, -1100, f"Illegal characters found in parameter '{name}'.")
    return value


@attrs.define
class Window:
    """A fixed rate-limit window (Binance counts per calendar interval)."""

    seconds: int
    used: int = 0
    started: float = 0.0

    def count(self, now: float, amount: int) -> int:
        if now - self.started >= self.seconds:
            self.started, self.used = now - (now % self.seconds), 0
        self.used += amount
        return self.used


@attrs.define
class Account:
    name: str
    api_key: str
    api_secret: str
    weight: Window = attrs.field(factory=lambda: Window(60))
    orders_10s: Window = attrs.field(factory=lambda: Window(10))
    orders_1d: Window = attrs.field(factory=lambda: Window(86400))
    banned_until: float = 0.0
    violations: int = 0
    passphrase: str | None = None


@attrs.define(eq=False)
class BinanceDialect:
    exchange: Exchange
    accounts: dict[str, Account] = attrs.field(factory=dict)  # by api key
    listen_keys: dict[str, tuple[str, int]] = attrs.field(factory=dict)  # key -> (account, expires_ms)
    connections: set[WsConnection] = attrs.field(factory=set)
    enforce_limits: bool = True

    def __attrs_post_init__(self) -> None:
        self.exchange.listeners.on_trade.append(self._on_trade)
        self.exchange.listeners.on_tick.append(self._on_tick)
        self.exchange.listeners.on_order.append(self._on_order)
        self.exchange.listeners.on_balances.append(self._on_balances)

    def add_account(self, name: str, api_key: str | None = None, api_secret: str | None = None,
                    balances: Mapping[str, Decimal] | None = None, passphrase: str | None = None) -> Account:
        account = Account(name, api_key or secrets.token_hex(32), api_secret or secrets.token_hex(32))
        self.accounts[account.api_key] = account
        self.exchange.open_account(name, dict(balances) if balances is not None else None)
        return account

    # ================================================================== HTTP
    def http_fault_response(self, fault: HttpFault) -> HttpResponse:
        headers = [(b"retry-after", str(fault.retry_after).encode())] if fault.retry_after is not None else []
        if fault.status == 429:
            body = {"code": -1003, "msg": "Too many requests; current limit is 6000 request weight per 1 MINUTE. "
                    "Please use the websocket for live updates to avoid polling the API."}
        elif fault.status == 418:
            body = {"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned until "
                    f"{wall_ms() + 1000 * (fault.retry_after or 60)}. Please use the websocket for live updates "
                    "to avoid bans."}
        else:
            body = {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}
        return HttpResponse(fault.status, json.dumps(body).encode(), headers)

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        key = (request.method, request.path)
        extra: list[tuple[bytes, bytes]] = []
        try:
            params = request.params
            weight = self._weight(key, params)
            account = self._authenticate(request, key, params)
            extra = self._count(account, weight, is_order=key == ("POST", "/api/v3/order"))
            body = self._route(key, params, account)
            return HttpResponse(200, json.dumps(body).encode(), extra)
        except VenueError as error:
            return HttpResponse(error.status, json.dumps({"code": error.code, "msg": error.message}).encode(),
                                [*extra, *error.headers])

    def _weight(self, key: tuple[str, str], params: dict[str, str]) -> int:
        if key == ("GET", "/api/v3/depth"):
            limit = int(params.get("limit", "100"))
            return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
        if key in (("GET", "/api/v3/ticker/price"), ("GET", "/api/v3/ticker/bookTicker")) and "symbol" not in params:
            return 4
        if key == ("GET", "/api/v3/ticker/24hr") and "symbol" not in params:
            return 80
        if key == ("GET", "/api/v3/openOrders") and "symbol" not in params:
            return 80
        if key not in WEIGHTS:
            raise VenueError(404, -1000, f"Unknown endpoint {key[0]} {key[1]}")
        return WEIGHTS[key]

    def _authenticate(self, request: HttpRequest, key: tuple[str, str], params: dict[str, str]) -> Account | None:
        if key not in SIGNED and key not in API_KEY_ONLY:
            return None
        api_key = request.headers.get("x-mbx-apikey", "")
        if not api_key or len(api_key) > 128 or not api_key.isalnum():
            raise VenueError(401, -2014, "API-key format invalid.")
        account = self.accounts.get(api_key)
        if account is None:
            raise VenueError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        if key in API_KEY_ONLY:
            return account
        if "signature" not in params:
            raise VenueError(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, "
                                           "or malformed.")
        signed_part = _strip_signature(request.query_string) + _strip_signature(request.body.decode())
        expected = hmac.new(account.api_secret.encode(), signed_part.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, params["signature"].lower()):
            raise VenueError(400, -1022, "Signature for this request is not valid.")
        timestamp = params.get("timestamp")
        if not timestamp or not timestamp.isdigit():
            raise VenueError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, "
                                           "or malformed.")
        recv_window = int(params.get("recvWindow", "5000"))
        if recv_window > 60000:
            raise VenueError(400, -1131, "recvWindow must be less than 60000")
        now = wall_ms()
        if int(timestamp) >= now + 1000 or now - int(timestamp) > recv_window:
            raise VenueError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return account

    def _count(self, account: Account | None, weight: int, is_order: bool) -> list[tuple[bytes, bytes]]:
        now = trio.current_time()
        budget = account or self._ip_account()
        if budget.banned_until > now:
            raise VenueError(418, -1003, "Way too many requests; IP banned until "
                               f"{wall_ms() + int(1000 * (budget.banned_until - now))}.",
                               [(b"retry-after", str(int(budget.banned_until - now) + 1).encode())])
        used = budget.weight.count(now, weight)
        headers = [(b"x-mbx-used-weight", str(used).encode()), (b"x-mbx-used-weight-1m", str(used).encode())]
        if self.enforce_limits and used > WEIGHT_LIMIT:
            budget.violations += 1
            if budget.violations > 2:
                budget.banned_until = now + 120
            retry = int(budget.weight.started + budget.weight.seconds - now) + 1
            raise VenueError(429, -1003, "Too many requests; current limit is 6000 request weight per 1 MINUTE.",
                               [*headers, (b"retry-after", str(retry).encode())])
        if is_order and account is not None:
            ten = account.orders_10s.count(now, 1)
            day = account.orders_1d.count(now, 1)
            headers += [(b"x-mbx-order-count-10s", str(ten).encode()), (b"x-mbx-order-count-1d", str(day).encode())]
            if self.enforce_limits and ten > ORDERS_10S:
                raise VenueError(429, -1015, f"Too many new orders; current limit is {ORDERS_10S} orders "
                                   "per TEN_SECONDS.", [*headers, (b"retry-after", b"10")])
        return headers

    def _ip_account(self) -> Account:
        anonymous = self.accounts.get("__ip__")
        if anonymous is None:
            anonymous = Account("__ip__", "__ip__", "")
            self.accounts["__ip__"] = anonymous
        return anonymous

    # ------------------------------------------------------------------ routes
    def _route(self, key: tuple[str, str], p: dict[str, str], account: Account | None) -> Any:
        ex = self.exchange
        match key:
            case ("GET", "/api/v3/ping"):
                return {}
            case ("GET", "/api/v3/time"):
                return {"serverTime": wall_ms()}
            case ("GET", "/api/v3/exchangeInfo"):
                return self._exchange_info(p)
            case ("GET", "/api/v3/ticker/price"):
                return self._per_symbol(p, lambda s: {"symbol": s.spec.symbol, "price": fmt(s.mid)})
            case ("GET", "/api/v3/ticker/bookTicker"):
                return self._per_symbol(p, self._book_ticker)
            case ("GET", "/api/v3/ticker/24hr"):
                return self._per_symbol(p, self._ticker_24h)
            case ("GET", "/api/v3/avgPrice"):
                state = self._symbol(p)
                return {"mins": 5, "price": fmt(state.mid), "closeTime": wall_ms()}
            case ("GET", "/api/v3/klines"):
                return self._klines(p)
            case ("GET", "/api/v3/depth"):
                state = self._symbol(p)
                limit = min(int(p.get("limit", "100")), 5000)
                return {"lastUpdateId": state.book.update_id,
                        "bids": [[fmt(a), fmt(b)] for a, b in state.book.bids[:limit] if b > 0],
                        "asks": [[fmt(a), fmt(b)] for a, b in state.book.asks[:limit] if b > 0]}
            case ("GET", "/api/v3/trades"):
                state = self._symbol(p)
                limit = min(int(p.get("limit", "500")), 1000)
                return [self._trade_json(t) for t in state.trades[-limit:]]
            case ("GET", "/api/v3/account"):
                assert account is not None
                return self._account(account, p.get("omitZeroBalances") == "true")
            case ("POST", "/api/v3/order"):
                assert account is not None
                return self._place(account, p)
            case ("POST", "/api/v3/order/test"):
                return {}
            case ("DELETE", "/api/v3/order"):
                assert account is not None
                return self._cancel(account, p)
            case ("GET", "/api/v3/order"):
                assert account is not None
                return self._order_json(self._find(account, p))
            case ("GET", "/api/v3/openOrders"):
                assert account is not None
                symbol = p.get("symbol")
                if symbol is not None:
                    self._symbol(p)
                return [self._order_json(o) for o in ex.open_orders(account.name, symbol)]
            case ("DELETE", "/api/v3/openOrders"):
                assert account is not None
                state = self._symbol(p)
                orders = ex.open_orders(account.name, state.spec.symbol)
                if not orders:
                    raise VenueError(400, -2011, "Unknown order sent.")
                return [self._cancel_json(ex.cancel(account.name, o.symbol, order_id=o.order_id)) for o in orders]
            case ("GET", "/api/v3/allOrders"):
                assert account is not None
                state = self._symbol(p)
                orders = [o for o in ex.all_orders() if o.account == account.name and o.symbol == state.spec.symbol]
                if "orderId" in p:
                    orders = [o for o in orders if o.order_id >= int(p["orderId"])]
                orders = self._time_filter(orders, p, lambda o: o.created_ms)
                return [self._order_json(o) for o in orders[: min(int(p.get("limit", "500")), 1000)]]
            case ("GET", "/api/v3/myTrades"):
                assert account is not None
                return self._my_trades(account, p)
            case ("POST", "/api/v3/userDataStream"):
                assert account is not None
                for listen_key, (owner, _) in self.listen_keys.items():
                    if owner == account.name:  # Binance returns the live key again
                        self.listen_keys[listen_key] = (owner, wall_ms() + LISTEN_KEY_TTL_MS)
                        return {"listenKey": listen_key}
                listen_key = secrets.token_urlsafe(45)[:60]
                self.listen_keys[listen_key] = (account.name, wall_ms() + LISTEN_KEY_TTL_MS)
                return {"listenKey": listen_key}
            case ("PUT", "/api/v3/userDataStream"):
                listen_key = p.get("listenKey", "")
                if listen_key not in self.listen_keys:
                    raise VenueError(400, -1125, "This listenKey does not exist.")
                owner, _ = self.listen_keys[listen_key]
                self.listen_keys[listen_key] = (owner, wall_ms() + LISTEN_KEY_TTL_MS)
                return {}
            case ("DELETE", "/api/v3/userDataStream"):
                self.listen_keys.pop(p.get("listenKey", ""), None)
                return {}
        raise VenueError(404, -1000, "Unknown endpoint")

    def _symbol(self, p: dict[str, str]) -> SymbolState:
        symbol = p.get("symbol")
        if not symbol:
            raise VenueError(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        state = self.exchange.symbols.get(symbol.upper())
        if state is None:
            raise VenueError(400, -1121, "Invalid symbol.")
        return state

    def _per_symbol(self, p: dict[str, str], render: Any) -> Any:
        if "symbol" in p:
            return render(self._symbol(p))
        if "symbols" in p:
            names = json.loads(p["symbols"])
            return [render(self._symbol({"symbol": n})) for n in names]
        return [render(s) for s in self.exchange.symbols.values()]

    def _exchange_info(self, p: dict[str, str]) -> dict[str, Any]:
        states = list(self.exchange.symbols.values())
        if "symbol" in p:
            states = [self._symbol(p)]
        elif "symbols" in p:
            states = [self._symbol({"symbol": n}) for n in json.loads(p["symbols"])]
        return {
            "timezone": "UTC",
            "serverTime": wall_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": WEIGHT_LIMIT},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": ORDERS_10S},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": ORDERS_1D},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [],
            "symbols": [self._symbol_info(s) for s in states],
        }

    def _symbol_info(self, state: SymbolState) -> dict[str, Any]:
        spec = state.spec
        return {
            "symbol": spec.symbol, "status": "TRADING", "baseAsset": spec.base, "baseAssetPrecision": 8,
            "quoteAsset": spec.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                           "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True, "cancelReplaceAllowed": True, "amendAllowed": True,
            "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": fmt(spec.tick_size), "maxPrice": "1000000.00000000",
                 "tickSize": fmt(spec.tick_size)},
                {"filterType": "LOT_SIZE", "minQty": fmt(spec.min_qty), "maxQty": fmt(spec.max_qty),
                 "stepSize": fmt(spec.step_size)},
                {"filterType": "ICEBERG_PARTS", "limit": 10},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": fmt(spec.max_qty),
                 "stepSize": "0.00000000"},
                {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
                 "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
                {"filterType": "NOTIONAL", "minNotional": fmt(spec.min_notional), "applyMinToMarket": True,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
            ],
            "permissions": [], "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def _book_ticker(self, state: SymbolState) -> dict[str, Any]:
        (bid, bid_qty), (ask, ask_qty) = state.book.bids[0], state.book.asks[0]
        return {"symbol": state.spec.symbol, "bidPrice": fmt(bid), "bidQty": fmt(bid_qty), "askPrice": fmt(ask),
                "askQty": fmt(ask_qty)}

    def _ticker_24h(self, state: SymbolState) -> dict[str, Any]:
        (bid, bid_qty), (ask, ask_qty) = state.book.bids[0], state.book.asks[0]
        change = state.mid - state.open_24h
        now = wall_ms()
        last = state.trades[-1] if state.trades else None
        avg = state.quote_volume_24h / state.volume_24h if state.volume_24h else state.mid
        return {
            "symbol": state.spec.symbol, "priceChange": fmt(change),
            "priceChangePercent": f"{change / state.open_24h * 100:.3f}", "weightedAvgPrice": fmt(avg),
            "prevClosePrice": fmt(state.open_24h), "lastPrice": fmt(state.mid),
            "lastQty": fmt(last.quantity if last else Decimal(0)), "bidPrice": fmt(bid), "bidQty": fmt(bid_qty),
            "askPrice": fmt(ask), "askQty": fmt(ask_qty), "openPrice": fmt(state.open_24h),
            "highPrice": fmt(state.high_24h), "lowPrice": fmt(state.low_24h), "volume": fmt(state.volume_24h),
            "quoteVolume": fmt(state.quote_volume_24h), "openTime": now - 86_400_000, "closeTime": now,
            "firstId": state.trades[0].trade_id if state.trades else -1,
            "lastId": last.trade_id if last else -1, "count": len(state.trades),
        }

    def _klines(self, p: dict[str, str]) -> list[list[Any]]:
        state = self._symbol(p)
        interval = p.get("interval")
        if not interval:
            raise VenueError(400, -1102, "Mandatory parameter 'interval' was not sent, was empty/null, "
                                           "or malformed.")
        minutes = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240}.get(interval)
        if minutes is None:
            raise VenueError(400, -1120, "Invalid interval.")
        limit = max(1, min(int(p.get("limit", "500")), 1000))
        rows = _aggregate(state, minutes)
        rows = self._time_filter(rows, p, lambda r: r[0])
        return rows[-limit:]

    @staticmethod
    def _time_filter(items: list[Any], p: dict[str, str], when: Any) -> list[Any]:
        if "startTime" in p:
            items = [i for i in items if when(i) >= int(p["startTime"])]
        if "endTime" in p:
            items = [i for i in items if when(i) <= int(p["endTime"])]
        return items

    @staticmethod
    def _trade_json(t: PublicTrade) -> dict[str, Any]:
        return {"id": t.trade_id, "price": fmt(t.price), "qty": fmt(t.quantity), "quoteQty": fmt(t.price * t.quantity),
                "time": t.time_ms, "isBuyerMaker": t.buyer_is_maker, "isBestMatch": True}

    def _account(self, account: Account, omit_zero: bool) -> dict[str, Any]:
        balances = []
        for asset, (free, locked) in sorted(self.exchange.balances[account.name].items()):
            if omit_zero and not free and not locked:
                continue
            balances.append({"asset": asset, "free": fmt(free), "locked": fmt(locked)})
        return {
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000",
                                "seller": "0.00000000"},
            "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False, "updateTime": wall_ms(),
            "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": abs(hash(account.name)) % 10**9,
        }

    def _place(self, account: Account, p: dict[str, str]) -> dict[str, Any]:
        state = self._symbol(p)
        side = p.get("side", "")
        if side not in ("BUY", "SELL"):
            raise VenueError(400, -1117 if side else -1102, "Invalid side." if side else
                               "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
        kind = p.get("type", "")
        if kind not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise VenueError(400, -1116 if kind else -1102, "Invalid orderType." if kind else
                               "Mandatory parameter 'type' was not sent, was empty/null, or malformed.")
        tif = p.get("timeInForce")
        price = _dec(p, "price", required=kind != "MARKET")
        quote_qty = _dec(p, "quoteOrderQty", required=False) if kind == "MARKET" else None
        quantity = _dec(p, "quantity", required=quote_qty is None)
        if kind == "LIMIT" and tif not in ("GTC", "IOC", "FOK"):
            raise VenueError(400, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, "
                                           "or malformed.")
        if kind == "MARKET" and price is not None:
            raise VenueError(400, -1106, "Parameter 'price' sent when not required.")
        client_id = p.get("newClientOrderId") or f"x-{secrets.token_hex(8)}"
        if len(client_id) > 36:
            raise VenueError(400, -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range "
                                           "is '^[a-zA-Z0-9-_.]{1,36}$'.")
        try:
            order = self.exchange.place(account.name, state.spec.symbol, side, kind,  # type: ignore[arg-type]
                                        quantity or Decimal(0), price, (tif or "GTC"),  # type: ignore[arg-type]
                                        client_id, quote_qty)
        except Rejected as rejected:
            raise refuse(REJECTIONS, rejected) from None
        response_type = p.get("newOrderRespType", "FULL")
        ack = {"symbol": order.symbol, "orderId": order.order_id, "orderListId": -1,
               "clientOrderId": order.client_order_id, "transactTime": order.created_ms}
        if response_type == "ACK":
            return ack
        result = {**ack, **{k: v for k, v in self._order_json(order).items() if k in RESULT_FIELDS}}
        if response_type == "RESULT":
            return result
        fills = [f for f in self.exchange.fill_log if f.order_id == order.order_id and f.symbol == order.symbol]
        result["fills"] = [{"price": fmt(f.price), "qty": fmt(f.quantity), "commission": fmt(f.fee),
                            "commissionAsset": f.fee_asset, "tradeId": f.trade_id} for f in fills]
        return result

    def _find(self, account: Account, p: dict[str, str]) -> EOrder:
        state = self._symbol(p)
        order_id = p.get("orderId")
        client_id = p.get("origClientOrderId")
        if not order_id and not client_id:
            raise VenueError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                                           "empty/null!")
        try:
            return self.exchange.find(state.spec.symbol, order_id=int(order_id) if order_id else None,
                                      client_order_id=client_id, account=account.name)
        except Rejected:
            raise VenueError(400, -2013, "Order does not exist.") from None

    def _cancel(self, account: Account, p: dict[str, str]) -> dict[str, Any]:
        try:
            order = self._find(account, p)
        except VenueError:
            raise VenueError(400, -2011, "Unknown order sent.") from None
        if not order.is_open:
            raise VenueError(400, -2011, "Unknown order sent.")
        return self._cancel_json(self.exchange.cancel(account.name, order.symbol, order_id=order.order_id))

    def _cancel_json(self, order: EOrder) -> dict[str, Any]:
        body = self._order_json(order)
        return {"symbol": order.symbol, "origClientOrderId": order.client_order_id, "orderId": order.order_id,
                "orderListId": -1, "clientOrderId": f"cancel{secrets.token_hex(6)}", "transactTime": wall_ms(),
                **{k: body[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty", "status",
                                        "timeInForce", "type", "side", "selfTradePreventionMode")}}

    @staticmethod
    def _order_json(o: EOrder) -> dict[str, Any]:
        return {
            "symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": o.client_order_id,
            "price": fmt(o.price or Decimal(0)), "origQty": fmt(o.quantity), "executedQty": fmt(o.filled),
            "cummulativeQuoteQty": fmt(o.quote_filled), "status": o.status, "timeInForce": o.tif, "type": o.kind,
            "side": o.side, "stopPrice": "0.00000000", "icebergQty": "0.00000000", "time": o.created_ms,
            "updateTime": o.updated_ms, "isWorking": True, "workingTime": o.created_ms,
            "origQuoteOrderQty": fmt(o.quote_quantity or Decimal(0)), "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def _my_trades(self, account: Account, p: dict[str, str]) -> list[dict[str, Any]]:
        state = self._symbol(p)
        fills = self.exchange.fills_of(account.name, state.spec.symbol)
        if "orderId" in p:
            fills = [f for f in fills if f.order_id == int(p["orderId"])]
        if "fromId" in p:
            fills = [f for f in fills if f.trade_id >= int(p["fromId"])]
        fills = self._time_filter(fills, p, lambda f: f.time_ms)
        limit = min(int(p.get("limit", "500")), 1000)
        return [{"symbol": f.symbol, "id": f.trade_id, "orderId": f.order_id, "orderListId": -1,
                 "price": fmt(f.price), "qty": fmt(f.quantity), "quoteQty": fmt(f.quote_quantity),
                 "commission": fmt(f.fee), "commissionAsset": f.fee_asset, "time": f.time_ms,
                 "isBuyer": f.side == "BUY", "isMaker": f.is_maker, "isBestMatch": True} for f in fills[:limit]]

    # ================================================================== websockets
    def stream_kind(self, path: str) -> StreamKind | None:
        if path == "/stream" or path == "/ws" or (path.startswith("/ws/") and "@" in path):
            return "public"
        if path.startswith("/ws/") and path[4:] in self.listen_keys:
            return "private"
        if path.startswith("/ws/") and "/" not in path[4:]:
            return "public"  # Binance accepts /ws/<anything> and simply sends nothing for unknown streams
        return None

    async def on_ws_open(self, conn: WsConnection) -> None:
        conn.state["streams"] = set()
        conn.state["combined"] = conn.path == "/stream"
        if conn.kind == "private":
            conn.state["listen_key"] = conn.path[4:]
            conn.state["account"] = self.listen_keys[conn.path[4:]][0]
        elif conn.path == "/stream":
            from urllib.parse import parse_qs

            names = parse_qs(conn.query_string).get("streams", [""])[0]
            conn.state["streams"] = {n for n in names.split("/") if n}
        elif conn.path.startswith("/ws/"):
            conn.state["streams"] = {conn.path[4:]}
        self.connections.add(conn)

    def on_ws_close(self, conn: WsConnection) -> None:
        self.connections.discard(conn)

    async def on_ws_message(self, conn: WsConnection, text: str) -> None:
        try:
            request = json.loads(text)
            method, ident = request.get("method"), request.get("id")
        except (ValueError, AttributeError):
            conn.send(json.dumps({"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}}))
            return
        params = request.get("params") or []
        if method == "SUBSCRIBE":
            conn.state["streams"].update(params)
            conn.send(json.dumps({"result": None, "id": ident}))
        elif method == "UNSUBSCRIBE":
            conn.state["streams"].difference_update(params)
            conn.send(json.dumps({"result": None, "id": ident}))
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send(json.dumps({"result": sorted(conn.state["streams"]), "id": ident}))
        else:
            conn.send(json.dumps({"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"},
                                  "id": ident}))

    def _publish(self, stream: str, payload: dict[str, Any]) -> None:
        for conn in list(self.connections):
            if conn.kind == "public" and stream in conn.state.get("streams", ()):
                if conn.state.get("combined"):
                    conn.send(json.dumps({"stream": stream, "data": payload}))
                else:
                    conn.send(json.dumps(payload))

    def _private(self, account: str, payload: dict[str, Any]) -> None:
        for conn in list(self.connections):
            if conn.kind == "private" and conn.state.get("account") == account:
                conn.send(json.dumps(payload))

    def _on_trade(self, trade: PublicTrade) -> None:
        name = trade.symbol.lower()
        now = wall_ms()
        self._publish(f"{name}@trade", {"e": "trade", "E": now, "s": trade.symbol, "t": trade.trade_id,
                                        "p": fmt(trade.price), "q": fmt(trade.quantity), "T": trade.time_ms,
                                        "m": trade.buyer_is_maker, "M": True})
        self._publish(f"{name}@aggTrade", {"e": "aggTrade", "E": now, "s": trade.symbol, "a": trade.trade_id,
                                           "p": fmt(trade.price), "q": fmt(trade.quantity), "f": trade.trade_id,
                                           "l": trade.trade_id, "T": trade.time_ms, "m": trade.buyer_is_maker,
                                           "M": True})

    def _on_tick(self, state: SymbolState, bids: list[tuple[Decimal, Decimal]],
                 asks: list[tuple[Decimal, Decimal]]) -> None:
        name = state.spec.symbol.lower()
        now = wall_ms()
        book = state.book
        self._publish(f"{name}@bookTicker", {"u": book.update_id, "s": state.spec.symbol,
                                             "b": fmt(book.bids[0][0]), "B": fmt(book.bids[0][1]),
                                             "a": fmt(book.asks[0][0]), "A": fmt(book.asks[0][1])})
        t = self._ticker_24h(state)
        self._publish(f"{name}@ticker", {
            "e": "24hrTicker", "E": now, "s": state.spec.symbol, "p": t["priceChange"], "P": t["priceChangePercent"],
            "w": t["weightedAvgPrice"], "x": t["prevClosePrice"], "c": t["lastPrice"], "Q": t["lastQty"],
            "b": t["bidPrice"], "B": t["bidQty"], "a": t["askPrice"], "A": t["askQty"], "o": t["openPrice"],
            "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"], "O": t["openTime"],
            "C": t["closeTime"], "F": t["firstId"], "L": t["lastId"], "n": t["count"]})
        diff = {"e": "depthUpdate", "E": now, "s": state.spec.symbol, "U": book.update_id, "u": book.update_id,
                "b": [[fmt(p), fmt(q)] for p, q in bids], "a": [[fmt(p), fmt(q)] for p, q in asks]}
        self._publish(f"{name}@depth", diff)
        self._publish(f"{name}@depth@100ms", diff)
        for depth in (5, 10, 20):
            partial = {"lastUpdateId": book.update_id,
                       "bids": [[fmt(p), fmt(q)] for p, q in book.bids[:depth]],
                       "asks": [[fmt(p), fmt(q)] for p, q in book.asks[:depth]]}
            self._publish(f"{name}@depth{depth}", partial)
            self._publish(f"{name}@depth{depth}@100ms", partial)
        candle = state.candles[-1]
        self._publish(f"{name}@kline_1m", {"e": "kline", "E": now, "s": state.spec.symbol, "k": {
            "t": candle.open_ms, "T": candle.open_ms + 59_999, "s": state.spec.symbol, "i": "1m", "f": 0, "L": 0,
            "o": fmt(candle.open), "c": fmt(candle.close), "h": fmt(candle.high), "l": fmt(candle.low),
            "v": fmt(candle.volume), "n": candle.trades, "x": False, "q": fmt(candle.quote_volume), "V": "0",
            "Q": "0", "B": "0"}})
        self._expire_listen_keys()

    def _expire_listen_keys(self) -> None:
        now = wall_ms()
        for listen_key, (_, expires) in list(self.listen_keys.items()):
            if expires < now:
                del self.listen_keys[listen_key]
                for conn in list(self.connections):
                    if conn.state.get("listen_key") == listen_key:
                        conn.send(json.dumps({"e": "listenKeyExpired", "E": now, "listenKey": listen_key}))

    def _on_order(self, order: EOrder, fill: EFill | None, execution: str) -> None:
        now = wall_ms()
        self._private(order.account, {
            "e": "executionReport", "E": now, "s": order.symbol, "c": order.client_order_id, "S": order.side,
            "o": order.kind, "f": order.tif, "q": fmt(order.quantity), "p": fmt(order.price or Decimal(0)),
            "P": "0.00000000", "F": "0.00000000", "g": -1, "C": "" if order.status != "CANCELED" else
            order.client_order_id, "x": execution if execution != "PARTIALLY_FILLED" else "TRADE",
            "X": order.status, "r": "NONE", "i": order.order_id,
            "l": fmt(fill.quantity if fill else Decimal(0)), "z": fmt(order.filled),
            "L": fmt(fill.price if fill else Decimal(0)), "n": fmt(fill.fee if fill else Decimal(0)),
            "N": fill.fee_asset if fill else None, "T": fill.time_ms if fill else order.updated_ms,
            "t": fill.trade_id if fill else -1, "I": order.order_id * 10 + (fill.trade_id if fill else 0),
            "w": order.is_open, "m": fill.is_maker if fill else False, "M": False, "O": order.created_ms,
            "Z": fmt(order.quote_filled), "Y": fmt(fill.quote_quantity if fill else Decimal(0)),
            "Q": fmt(order.quote_quantity or Decimal(0)), "W": order.created_ms, "V": "EXPIRE_MAKER"})

    def _on_balances(self, account: str, snapshot: dict[str, tuple[Decimal, Decimal]]) -> None:
        now = wall_ms()
        self._private(account, {"e": "outboundAccountPosition", "E": now, "u": now,
                                "B": [{"a": a, "f": fmt(f), "l": fmt(lk)} for a, (f, lk) in snapshot.items()]})


RESULT_FIELDS = {"price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty", "status",
                 "timeInForce", "type", "side", "workingTime", "selfTradePreventionMode"}


def _strip_signature(part: str) -> str:
    """The signed payload is everything before ``&signature=`` (Binance requires it last)."""
    if not part:
        return ""
    index = part.find("signature=")
    if index == -1:
        return part
    return part[: max(index - 1, 0)] if index > 0 else ""


def _refusal(code: int, message: str) -> Refusal:
    return Refusal(400, code, message)


_NO_ORDER = _refusal(-2013, "Order does not exist.")
# Every engine refusal in Binance's words (spot has no positions: those reasons cannot reach it).
REJECTIONS: RejectionTable = {
    RejectReason.INSUFFICIENT_BALANCE: _refusal(-2010, "Account has insufficient balance for requested action."),
    RejectReason.QTY_BELOW_MIN: _refusal(-1013, "Filter failure: LOT_SIZE"),
    RejectReason.QTY_ABOVE_MAX: _refusal(-1013, "Filter failure: LOT_SIZE"),
    RejectReason.QTY_OFF_STEP: _refusal(-1013, "Filter failure: LOT_SIZE"),
    RejectReason.PRICE_OFF_TICK: _refusal(-1013, "Filter failure: PRICE_FILTER"),
    RejectReason.NOTIONAL_BELOW_MIN: _refusal(-1013, "Filter failure: NOTIONAL"),
    RejectReason.UNKNOWN_SYMBOL: _refusal(-1121, "Invalid symbol."),
    RejectReason.DUPLICATE: _refusal(-2010, "Duplicate order sent."),
    RejectReason.UNKNOWN_ORDER: _NO_ORDER,
    RejectReason.WOULD_MATCH: _refusal(-2010, "Order would immediately match and take."),
    RejectReason.REDUCE_ONLY: _NO_ORDER,
    RejectReason.LEVERAGE_NOT_MODIFIED: _NO_ORDER,
    RejectReason.LEVERAGE_INVALID: _NO_ORDER,
    RejectReason.NOT_DERIVATIVE: _NO_ORDER,
}


def _aggregate(state: SymbolState, minutes: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    span = minutes * 60_000
    for candle in state.candles:
        open_ms = candle.open_ms // span * span
        if rows and rows[-1][0] == open_ms:
            row = rows[-1]
            row[2] = fmt(max(Decimal(row[2]), candle.high))
            row[3] = fmt(min(Decimal(row[3]), candle.low))
            row[4] = fmt(candle.close)
            row[5] = fmt(Decimal(row[5]) + candle.volume)
            row[7] = fmt(Decimal(row[7]) + candle.quote_volume)
            row[8] += candle.trades
        else:
            rows.append([open_ms, fmt(candle.open), fmt(candle.high), fmt(candle.low), fmt(candle.close),
                         fmt(candle.volume), open_ms + span - 1, fmt(candle.quote_volume), candle.trades,
                         fmt(candle.volume / 2), fmt(candle.quote_volume / 2), "0"])
    return rows



def _narrow(symbols: Sequence[str]) -> set[str]:
    """"BTC/USDT" (or "BTC/USDT:USDT") -> "BTCUSDT"."""
    return {s.replace("/", "").split(":")[0].upper() for s in symbols}


# Published demo credentials for paper trading: they guard nothing but the local emulator.
SPEC = VenueSpec(
    "binance", BinanceDialect, DEFAULT_INSTRUMENTS, _narrow, synthetic_instruments,  # type: ignore[arg-type]
    demo_key="atDemoBinanceKey0000000000000000000000000000000000000000000000000",
    demo_secret="atDemoBinanceSecret000000000000000000000000000000000000000000000",
    demo_balances=DEFAULT_BALANCES, rejections={"orders": REJECTIONS})
