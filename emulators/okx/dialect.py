"""The OKX V5 dialect's front door: each HTTP request is routed (`routes.ROUTES`), authenticated if private,
checked against the demo header, counted against OKX's per-endpoint limits, checked against its ``expTime``
(order entry) and answered in the ``code``/``msg``/``data`` envelope; websocket events go to `ws`.

Authentication as OKX documents it: ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN`` (base64 HMAC-SHA256 of
``timestamp + METHOD + requestPath(+?query) + body``), ``OK-ACCESS-TIMESTAMP`` (ISO-8601 UTC with
milliseconds, refused 30 s away from the server's clock) and ``OK-ACCESS-PASSPHRASE``; failures are HTTP 401
with 50103-50107 (missing), 50111 (key), 50112 (timestamp format), 50102 (expired), 50105 (passphrase),
50113 (signature). Demo trading: the keys here are demo keys, which OKX serves only with the header
``x-simulated-trading: 1`` (50101 "APIKey does not match current environment" without it); an account made
with ``simulated=False`` is a live key, refused with the header. Public endpoints take either.

Limits (requests per 2 s, `routes.LIMITS`): per IP for public data, per UID for private reads, per UID and
instrument for order entry (batches count each order), plus the sub-account limit of 1,000 swap orders and
amendments per 2 s (50061). Past a limit: HTTP 429 ``{"code": "50011", "msg": "Too Many Requests"}``; OKX sends
no rate-limit headers. ``enforce_limits=False`` counts without refusing; `set_limit` changes one for tests.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import attrs
import trio

from emulators.engine import EFill, EOrder, EPosition, SymbolState, wall_ms
from emulators.engine.accounts import ApiAccount, KeyShape
from emulators.engine.dialect import DialectBase, WsHandlers
from emulators.engine.errors import VenueError
from emulators.engine.faults import HttpFault
from emulators.engine.funding import settle
from emulators.engine.model import Candle
from emulators.engine.ratewindows import RollingWindow
from emulators.engine.routing import Auth, Call
from emulators.engine.server import HttpRequest, HttpResponse
from emulators.engine.signing import SignatureCheck, hmac_sha256_base64
from emulators.okx import errors, render, ws
from emulators.okx.funding import FundingModel
from emulators.okx.routes import LIMITS, ROUTES, OkxRoute, deep_history

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SWAP_ORDER_LIMIT = 1000  # new and amended swap orders per 2 s per account (the sub-account limit)


@attrs.define
class OkxAccount:
    """What the dialect keeps per API account: its limit windows, account mode and per-instrument settings."""

    windows: dict[tuple[str, ...], RollingWindow] = attrs.field(factory=dict)
    swap_orders: RollingWindow = attrs.field(factory=lambda: RollingWindow(2.0))
    acct_lv: str = "2"  # 1 spot mode (no swaps), 2 futures mode
    pos_mode: str = "net_mode"
    simulated: bool = True  # a demo key: served only with x-simulated-trading: 1
    levers: dict[tuple[str, str], Decimal] = attrs.field(factory=dict)  # (instId, mgnMode) -> leverage
    mgn_modes: dict[str, str] = attrs.field(factory=dict)  # instId -> the margin mode of its position
    label: str = "algotrendy-demo"


@attrs.frozen
class OkxKeys(KeyShape):
    """OKX keys are UUIDs; secrets 32 upper-case hex digits."""

    def generate(self, length: int) -> str:
        return str(uuid.uuid4()) if length == 36 else secrets.token_hex(length // 2).upper()


@attrs.define(eq=False)
class OkxDialect(DialectBase[OkxAccount]):
    idle_timeout: float | None = 30.0  # OKX closes a socket that had nothing sent for 30 s (4004)
    send_checksums: bool = False  # OKX sends checksum 0 since 2026-06-23; True: the retired CRC32, for old clients
    timestamp_window_ms: int = 30_000
    limits: dict[tuple[str, str], int] = attrs.field(factory=lambda: {k: v[0] for k, v in LIMITS.items()})
    swap_order_limit: int = SWAP_ORDER_LIMIT
    ip_windows: dict[tuple[str, ...], RollingWindow] = attrs.field(factory=dict)
    book_seq: dict[str, int] = attrs.field(factory=dict)
    funding: FundingModel = attrs.field(init=False)
    _ords: dict[str, EOrder] = attrs.field(factory=dict)  # ordId -> order
    _by_key: dict[tuple[str, int], EOrder] = attrs.field(factory=dict)  # (instId, engine order id) -> order
    _fills: dict[tuple[str, int], list[EFill]] = attrs.field(factory=dict)
    _ord_ids: dict[tuple[str, int], str] = attrs.field(factory=dict)  # (instId, engine order id) -> ordId
    _ord_seq: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _meta: dict[tuple[str, int], dict[str, str]] = attrs.field(factory=dict)
    _archive: dict[str, list[Candle]] = attrs.field(factory=dict)
    _deep: dict[str, list[Candle]] = attrs.field(factory=dict)
    _conn_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    key_shape = OkxKeys(36, 32, "0123456789ABCDEF")
    signatures = SignatureCheck(hmac_sha256_base64, errors.AuthWords(), case_sensitive=True)
    websockets: ClassVar[WsHandlers] = ws

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.funding = FundingModel(self.exchange.seed)
        for n, symbol in enumerate(self.exchange.symbols):
            self.book_seq[symbol] = 1_000_000 * (n + 1) + self.exchange.seed
        self.attach(on_order=OkxDialect._track, on_trade=ws.on_trade, on_tick=ws.on_tick, on_book=ws.book_changed)
        self.attach(on_order=ws.on_order, on_position=ws.on_position, on_balances=ws.on_balances)

    def new_account_state(self) -> OkxAccount:
        return OkxAccount()

    def add_account(self, name: str, api_key: str | None = None, api_secret: str | None = None,
                    balances: Mapping[str, Decimal] | None = None, passphrase: str | None = None, *,
                    simulated: bool = True, acct_lv: str = "2") -> ApiAccount[OkxAccount]:
        """A demo key (``simulated``) or a live one; every OKX key has a passphrase (generated if not given)."""
        account = self.accounts.add(name, api_key, api_secret, balances,
                                    passphrase or f"Pp{secrets.token_hex(6)}")
        account.state.simulated, account.state.acct_lv = simulated, acct_lv
        return account

    def set_limit(self, method: str, path: str, per_2s: int) -> None:
        """Change one endpoint's limit (requests per 2 s) for tests."""
        self.limits[(method, path)] = per_2s

    # ================================================================== ids and bookkeeping
    def _track(self, order: EOrder, fill: EFill | None, execution: str) -> None:
        key = (order.symbol, order.order_id)
        if key not in self._by_key:
            self._by_key[key] = order
            self._ords[self.ord_id(order)] = order
        if fill is not None:
            self._fills.setdefault(key, []).append(fill)

    def ord_id(self, order: EOrder) -> str:
        """OKX's ordId: numeric, increasing with time across instruments (orders-pending pages by it)."""
        key = (order.symbol, order.order_id)
        found = self._ord_ids.get(key)
        if found is None:
            found = self._ord_ids[key] = str(600_000_000_000_000_000 + next(self._ord_seq))
        return found

    def order_by_id(self, ord_id: str) -> EOrder | None:
        return self._ords.get(ord_id)

    def order_of(self, fill: EFill) -> EOrder:
        return self._by_key[(fill.symbol, fill.order_id)]

    def fills_of_order(self, order: EOrder) -> list[EFill]:
        return self._fills.get((order.symbol, order.order_id), [])

    def order_meta(self, order: EOrder) -> dict[str, str]:
        return self._meta.setdefault((order.symbol, order.order_id), {})

    def order_lever(self, order: EOrder) -> Decimal:
        return self.exchange.position(order.account, order.symbol).leverage

    @staticmethod
    def bill_id(index: int) -> int:
        return 700_000_000_000_000_000 + index

    def pos_id(self, account: str, symbol: str) -> str:
        owner = list(self.exchange.balances).index(account)
        return str(800_000_000_000_000_000 + owner * 1000 + self.symbol_index(symbol))

    def last_trade_id(self, account: str, symbol: str) -> str:
        for fill in reversed(self.exchange.fill_log):
            if fill.account == account and fill.symbol == symbol:
                return render.trade_id(fill.trade_id)
        return ""

    def margin_mode(self, account: str, symbol: str) -> str:
        state = self.accounts_state(account)
        return state.mgn_modes.get(symbol, "cross") if state else "cross"

    def accounts_state(self, account: str) -> OkxAccount | None:
        for api in self.accounts.by_key.values():
            if api.name == account:
                return api.state
        return None

    def position_parts(self, account: str, position: EPosition) -> tuple[Decimal, Decimal, Decimal]:
        """(pnl, fee, fundingFee) of the current position: closing PnL and fees of its fills (fees negative),
        and what funding added to its realised PnL."""
        pnl = fee = Decimal(0)
        if position.size or position.realised:
            for fill in self.exchange.fill_log:
                if fill.account == account and fill.symbol == position.symbol and fill.time_ms >= position.created_ms:
                    pnl += fill.closed_pnl
                    fee -= fill.fee
        return pnl, fee, position.realised - pnl - fee

    def note_position(self, position: EPosition) -> None:
        """A flat position with no open orders forgets its margin mode (the next order chooses again)."""
        if not position.size and not self.exchange.open_orders(position.account, position.symbol):
            state = self.accounts_state(position.account)
            if state is not None:
                state.mgn_modes.pop(position.symbol, None)

    def usd_price(self, coin: str) -> Decimal:
        if coin in ("USDT", "USDC", "USD"):
            return Decimal(1)
        for inst in (f"{coin}-USDT", f"{coin}-USDT-SWAP"):
            state = self.exchange.symbols.get(inst)
            if state is not None:
                return state.mid
        return Decimal(0)

    def next_conn_id(self) -> str:
        return f"{next(self._conn_ids) * 2654435761 % 2**32:08x}"

    # ================================================================== index, funding, open interest
    def index_name(self, state: SymbolState) -> str:
        spec = state.spec
        return f"{spec.base}-{spec.quote}" if spec.is_derivative or f"{spec.base}-{spec.quote}-SWAP" not in \
            self.exchange.symbols else ""

    def index_source(self, index: str) -> SymbolState | None:
        """The market an index follows: the family's swap, else the spot pair."""
        return self.exchange.symbols.get(f"{index}-SWAP") or self.exchange.symbols.get(index)

    def index_price(self, state: SymbolState) -> Decimal:
        return self.funding.index_price(state) if state.spec.is_derivative else state.mid

    def funding_row(self, state: SymbolState) -> dict[str, Any]:
        f = self.funding
        rate = f.rate(state)
        history = f.history(state.spec.symbol)
        return {"formulaType": "withRate", "fundingRate": render.num(rate), "fundingTime": str(f.funding_time()),
                "impactValue": "", "instId": state.spec.symbol, "instType": "SWAP", "interestRate": "0.0001",
                "maxFundingRate": "0.00375", "method": "current_period", "minFundingRate": "-0.00375",
                "nextFundingRate": "", "nextFundingTime": str(f.funding_time() + 28_800_000),
                "premium": render.num(f.premium(state)), "settFundingRate": render.num(history[-1].rate),
                "settState": "settled", "ts": str(wall_ms())}

    def open_interest_row(self, state: SymbolState) -> dict[str, Any]:
        spec = state.spec
        held = sum((abs(p.size) for p in self.exchange.positions.values() if p.symbol == spec.symbol), Decimal(0))
        coin = spec.value(held, state.mid) if spec.kind == "inverse" else held
        return {"instType": "SWAP", "instId": spec.symbol, "oi": render.size(spec, held), "oiCcy": render.num(coin),
                "oiUsd": render.num(render.usd_value(self, spec, held, state.mid)), "ts": str(wall_ms())}

    def every_tick(self, now: float) -> None:
        """Once per price tick: settle a funding period when one ended, and the private regular snapshots."""
        if self.funding.due(now):
            for state in self.exchange.symbols.values():
                if state.spec.is_derivative:
                    rate = self.funding.rate(state)
                    settle(self.exchange, state.spec.symbol, rate)
                    self.funding.record(state.spec.symbol, rate)
            self.funding.period += 1
            for state in self.exchange.symbols.values():
                if state.spec.is_derivative:
                    ws.funding_settled(self, state)
        ws.regular_snapshots(self, now)

    # ================================================================== candles beyond the engine's window
    def archive_candles(self, state: SymbolState) -> None:
        """Keep the engine's oldest minute before the engine drops it (it keeps 1,000)."""
        if len(state.candles) >= 999:
            kept = self._archive.setdefault(state.spec.symbol, [])
            oldest = state.candles[0]
            if not kept or kept[-1].open_ms < oldest.open_ms:
                kept.append(oldest)

    def minute_candles(self, state: SymbolState, since_ms: int) -> list[Candle]:
        """One-minute candles from ``since_ms`` (at most 31 days back) to now: seeded history before the start,
        then what the engine printed."""
        symbol = state.spec.symbol
        live = self._archive.get(symbol, []) + state.candles
        first = live[0].open_ms
        if since_ms < first:
            deep = self._deep.get(symbol)
            if deep is None:  # made once, the whole 31 days
                self._deep[symbol] = deep = deep_history(self.exchange.seed, state, live[0], 31 * 1440)
            live = deep + live
        return live

    # ================================================================== HTTP
    def http_fault_response(self, fault: HttpFault) -> HttpResponse:
        if fault.status == 429:
            error = errors.rate_limited()
        elif fault.status == 404:
            error = errors.not_found()
        else:
            error = errors.system_error(fault.status)
        headers = [] if fault.retry_after is None else [(b"retry-after", str(fault.retry_after).encode())]
        return HttpResponse(fault.status, render.error_body(error), headers)

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        try:
            route = self._route(request)
            params = _params(request, route)
            account = self._authenticate(request) if route.auth is Auth.SIGNED else None
            self._rate_limit(route, request, params, account)
            late = route.timed and self._late(request)
            result = route.handler(self, Call(params, account)) if not late else None
            if route.items:
                return HttpResponse(200, render.items(result if result is not None else
                                                      _late_items(self, params, request)))
            return HttpResponse(200, render.envelope(result or []))
        except VenueError as error:
            return HttpResponse(error.status, render.error_body(error), error.headers)

    def _route(self, request: HttpRequest) -> OkxRoute:
        route = ROUTES.get((request.method, request.path))
        if route is None:
            if any(path == request.path for _, path in ROUTES):
                raise errors.bad_method()
            raise errors.not_found()
        return route

    def _authenticate(self, request: HttpRequest) -> ApiAccount[OkxAccount]:
        headers, words = request.headers, errors.AuthWords()
        for name in ("OK-ACCESS-KEY", "OK-ACCESS-SIGN", "OK-ACCESS-TIMESTAMP", "OK-ACCESS-PASSPHRASE"):
            if not headers.get(name.lower()):
                raise words.missing(name)
        account = self.signatures.account(self.accounts, headers["ok-access-key"])
        timestamp = headers["ok-access-timestamp"]
        if not ISO_MS.match(timestamp):
            raise words.malformed_time("timestamp")
        try:
            sent_ms = int(datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp() * 1000)
        except ValueError:
            raise words.malformed_time("timestamp") from None
        if abs(wall_ms() - sent_ms) > self.timestamp_window_ms:
            raise words.stale(timestamp, "", wall_ms())
        if headers["ok-access-passphrase"] != account.passphrase:
            raise words.bad_passphrase()
        path = request.path + (f"?{request.query_string}" if request.query_string else "")
        payload = f"{timestamp}{request.method}{path}{request.body.decode(errors='replace')}"
        self.signatures.signature(account.api_secret, payload, headers["ok-access-sign"])
        if (headers.get("x-simulated-trading") == "1") != account.state.simulated:
            raise words.wrong_environment()
        return account

    def _rate_limit(self, route: OkxRoute, request: HttpRequest, params: Any,
                    account: ApiAccount[OkxAccount] | None) -> None:
        key = (request.method, request.path)
        limit = self.limits.get(key, 20)
        scope = LIMITS.get(key, (20, "ip"))[1]
        orders = params if isinstance(params, list) else [params]
        now = trio.current_time()
        over = False
        for item in orders:
            if scope == "ip":
                window_key: tuple[str, ...] = key
            elif scope == "ip+instType":
                window_key = (*key, str(item.get("instType", "")))
            elif scope == "ip+instId":
                window_key = (*key, str(item.get("instId", "")))
            elif scope == "uid+instId":
                window_key = (*key, str(item.get("instId", "")))
            else:
                window_key = key
            windows = account.state.windows if account is not None and scope.startswith("uid") else self.ip_windows
            window = windows.setdefault(window_key, RollingWindow(2.0))
            over = not window.admit(now, limit) or over
            if scope == "ip" or scope == "uid":
                break  # one request, one count
        if over and self.enforce_limits:
            raise errors.rate_limited()
        if account is not None and route.counts_order:
            swaps = sum(1 for item in orders if str(item.get("instId", "")).endswith("-SWAP"))
            window = account.state.swap_orders
            admitted = all(window.admit(now, self.swap_order_limit) for _ in range(swaps))
            if not admitted and self.enforce_limits:
                raise errors.sub_account_limited()

    @staticmethod
    def _late(request: HttpRequest) -> bool:
        """Whether an order request is handled after its ``expTime``: OKX's clock as the request is executed,
        its arrival plus any wait (`HttpRequest.handled_ms`, on trio's clock, so a delayed request is late in
        virtual-time tests too)."""
        exp_time = request.headers.get("exptime")
        if not exp_time:
            return False
        if not exp_time.isdecimal():
            raise errors.parameter("expTime")
        return request.handled_ms() > int(exp_time)



def _params(request: HttpRequest, route: OkxRoute) -> Any:
    """GET: the query string; POST: a JSON object (a list of objects for batch endpoints)."""
    if request.method == "GET":
        return dict(parse_qsl(request.query_string, keep_blank_values=True))
    if "application/json" not in request.headers.get("content-type", "").lower():
        raise errors.error(50006, 'Invalid Content-Type. Please use "application/JSON".', 400)
    if not request.body.strip():
        raise errors.empty_body()
    try:
        body = json.loads(request.body)
    except ValueError:
        raise errors.json_syntax() from None
    if route.batch:
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise errors.json_syntax()
        return body
    if not isinstance(body, dict):
        raise errors.json_syntax()
    return body


def _late_items(d: OkxDialect, params: Any, request: HttpRequest) -> list[dict[str, Any]]:
    """Every order of a late request, refused with 50036 and never executed."""
    late = errors.expired()
    return [render.item(None, d, cl_ord_id=str(p.get("clOrdId") or ""), ord_id=str(p.get("ordId") or ""),
                        tag=str(p.get("tag") or ""), code=str(late.code), msg=late.message,
                        extra={"reqId": str(p.get("reqId") or "")} if "amend" in request.path else None)
            for p in (params if isinstance(params, list) else [params])]
