"""The Kraken dialect's front door: each HTTP request is routed (`routes.ROUTES`), authenticated if private
(key, signature, nonce -- `auth`), checked against the key's permissions, counted on the REST call counter
(`limits`) and answered in Kraken's envelope; websocket traffic goes to `ws`.

The dialect also keeps what Kraken shows beyond the engine's records (`orders`: ids, flags, reasons; `margin`:
positions per opening trade), runs the venue's timers on trio's clock (the dead man's switch, Earn), watches
margin levels on every tick (below the pair's ``margin_stop`` the account's positions are closed at market and
flagged liquidated; below ``margin_call`` new positions are refused), and sends the v2 heartbeat.

Test hooks: `set_tier`, `set_nonce_window`, `set_permissions`, `set_system_status`, `margin_status`,
``earn.settle_seconds``, ``enforce_limits`` (inherited).
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import attrs
import trio

from emulators.engine import EFill, EOrder, Rejected, SymbolState
from emulators.engine.accounts import ApiAccount
from emulators.engine.dialect import DialectBase, WsHandlers
from emulators.engine.earn import EarnBook
from emulators.engine.errors import VenueError
from emulators.engine.faults import HttpFault
from emulators.engine.model import Levels
from emulators.engine.ratewindows import DecayingCounter, retry_after
from emulators.engine.routing import Auth, Call
from emulators.engine.server import HttpRequest, HttpResponse, WsConnection
from emulators.kraken import errors, render, routes, ws
from emulators.kraken.auth import KEY_SHAPE, SIGNATURES, NonceRule, Tokens, parse_nonce, signed_payload
from emulators.kraken.earn import Offer, offers
from emulators.kraken.limits import TIERS, Tier, clock
from emulators.kraken.margin import Lot, MarginBook, TradeBalance, Valuer, trade_balance
from emulators.kraken.orders import FillInfo, OrderInfo, OrderMeta, Orders
from emulators.kraken.pairs import KrakenPair, Markets

D = Decimal
# An API key's permissions (Kraken's key settings); every key gets all of them unless a test narrows them.
PERMISSIONS = frozenset({"query_funds", "query_open", "query_closed", "trade", "cancel", "earn", "websocket"})
SYSTEM_STATUSES = ("online", "maintenance", "cancel_only", "post_only")


@attrs.define
class KeyState:
    """What Kraken keeps per API key: tier, nonces, permissions, counters, the dead man's switch."""

    tier: str = "intermediate"
    nonces: NonceRule = attrs.field(factory=NonceRule)
    permissions: frozenset[str] = PERMISSIONS
    calls: DecayingCounter = attrs.field(factory=lambda: DecayingCounter(TIERS["intermediate"].call_decay))
    trading: dict[str, DecayingCounter] = attrs.field(factory=dict)  # per pair
    switch: float | None = None  # trio time the dead man's switch fires

    @property
    def limits(self) -> Tier:
        return TIERS[self.tier]

    def trading_counter(self, pair: str) -> DecayingCounter:
        return self.trading.setdefault(pair, DecayingCounter(self.limits.trading_decay))


@attrs.define(eq=False)
class KrakenDialect(DialectBase[KeyState]):
    websockets: ClassVar[WsHandlers] = ws
    system_status: str = "online"
    markets: Markets = attrs.field(init=False)
    orders: Orders = attrs.field(init=False)
    margin: MarginBook = attrs.field(factory=MarginBook)
    valuer: Valuer = attrs.field(init=False)
    offers: dict[str, Offer] = attrs.field(init=False)
    earn: EarnBook = attrs.field(init=False)
    tokens: Tokens = attrs.field(init=False)
    spreads: dict[str, deque[tuple[int, Decimal, Decimal]]] = attrs.field(factory=dict)
    totals: dict[str, dict[str, Decimal]] = attrs.field(factory=dict)  # last balance per account and asset
    margin_events: dict[str, str] = attrs.field(factory=dict)  # account -> "call" | "liquidated"
    cancel_reason: str | None = None  # the reason of the cancel in progress
    handling_ms: int | None = None  # the venue's clock (wall ms) as the HTTP request in hand is handled
    last_fill: dict[str, FillInfo] = attrs.field(factory=dict)  # per account, for its balance updates
    _connection_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _timers_at: float = -1.0

    key_shape = KEY_SHAPE
    signatures = SIGNATURES

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.markets = Markets.of(state.spec for state in self.exchange.symbols.values())
        self.orders = Orders(self.exchange.seed)
        self.valuer = Valuer(self.exchange, self.markets)
        self.offers = offers(self.markets)
        self.earn = EarnBook(self.exchange, {i: o.strategy for i, o in self.offers.items()}, clock=clock)
        self.tokens = Tokens(self.exchange.seed)
        self.attach(on_order=KrakenDialect._order_event, on_tick=KrakenDialect._tick)
        self.attach(on_trade=ws.on_trade, on_tick=ws.on_tick, on_book=ws.on_book, on_order=ws.on_order,
                    on_balances=ws.on_balances)

    def new_account_state(self) -> KeyState:
        return KeyState()

    def add_account(self, name: str, api_key: str | None = None, api_secret: str | None = None,
                    balances: Mapping[str, Decimal] | None = None, passphrase: str | None = None) -> ApiAccount[KeyState]:
        account = super().add_account(name, api_key, api_secret, balances, passphrase)
        self.totals[name] = {asset: free + locked for asset, (free, locked) in self.exchange.balances[name].items()}
        return account

    # ================================================================== test hooks
    def key_state(self, api_key: str) -> KeyState:
        return SIGNATURES.account(self.accounts, api_key).state

    def set_tier(self, api_key: str, tier: str) -> None:
        """The key's verification tier (starter, intermediate, pro): its call and trading limits."""
        state = self.key_state(api_key)
        state.tier = tier
        state.calls.decay = state.limits.call_decay
        for counter in state.trading.values():
            counter.decay = state.limits.trading_decay

    def set_nonce_window(self, api_key: str, window: int) -> None:
        self.key_state(api_key).nonces.window = window

    def set_permissions(self, api_key: str, permissions: Iterable[str]) -> None:
        self.key_state(api_key).permissions = frozenset(permissions)

    def set_system_status(self, status: str) -> None:
        """online | maintenance | cancel_only | post_only, as `SystemStatus` and the v2 status channel report."""
        if status not in SYSTEM_STATUSES:
            raise ValueError(status)
        self.system_status = status
        ws.push_status(self)

    def margin_status(self, account: str) -> str:
        """ok | call (margin level below the call level) | liquidated (below the stop: positions closed)."""
        return self.margin_events.get(account, "ok")

    # ================================================================== ids, values, times
    def next_connection(self) -> int:
        return next(self._connection_ids)

    def pair(self, symbol: str) -> KrakenPair:
        return self.markets.pairs[symbol]

    def fill_fee_in_quote(self, fill: EFill) -> Decimal:
        """Kraken states fees in the quote currency; the engine takes them from what the order receives."""
        return fill.fee if fill.fee_asset == self.pair(fill.symbol).quote else fill.fee * fill.price

    def order_fee_in_quote(self, info: OrderInfo) -> Decimal:
        return sum((self.fill_fee_in_quote(self.orders.fill_by_txid[t].fill) for t in info.trades), D(0))

    def wall(self, at: float) -> float:
        """Unix seconds of a trio time."""
        return time.time() + (at - clock())

    def trade_balance(self, account: str, asset: str = "ZUSD") -> TradeBalance:
        return trade_balance(self.valuer, self.margin, account, asset)

    # ================================================================== HTTP
    def http_fault_response(self, fault: HttpFault) -> HttpResponse:
        text = {429: errors.RATE_LIMIT, 500: errors.INTERNAL, 504: errors.BUSY}.get(fault.status, errors.UNAVAILABLE)
        return HttpResponse(fault.status, render.envelope_error(errors.error(text, fault.status)),
                            retry_after(fault.retry_after))

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        self.advance_timers()
        route = routes.ROUTES.get((request.method, request.path))
        if route is None:
            status = 405 if request.path in routes.ENDPOINTS else 404
            return HttpResponse(status, render.envelope_error(errors.unknown_method(status)))
        endpoint = routes.ENDPOINTS[request.path]
        try:
            caller = None
            if route.auth is Auth.SIGNED:
                params, body = self._private_params(request)
                caller = self._authenticate(request, params, body)
                if endpoint.permission is not None and endpoint.permission not in caller.state.permissions:
                    raise errors.error(errors.PERMISSION_DENIED)
                self._count_call(caller, route.cost(params))
                if self.system_status == "maintenance":
                    raise errors.error(errors.UNAVAILABLE)
                params.pop("nonce", None)
            else:
                params = dict(parse_qsl(request.query_string, keep_blank_values=True))
            routes.check_params(endpoint, params)
            # A request held on its way (a slow network, on trio's clock in tests) is handled that much later:
            # AddOrder's deadline is checked against this moment, as Kraken's engine does.
            self.handling_ms = request.handled_ms()
            try:
                result = route.handler(self, Call(params, caller))
            finally:
                self.handling_ms = None
            return HttpResponse(200, render.envelope(result))
        except VenueError as error:
            return HttpResponse(error.status, render.envelope_error(error), error.headers)

    @staticmethod
    def _private_params(request: HttpRequest) -> tuple[dict[str, Any], str]:
        """A private call's parameters from its body (form or JSON), and the body as it was signed."""
        if request.query_string:
            raise errors.invalid()
        try:
            body = request.body.decode()
        except UnicodeDecodeError:
            raise errors.invalid() from None
        if "json" in request.headers.get("content-type", ""):
            try:
                decoded = json.loads(body) if body.strip() else {}
            except ValueError:
                raise errors.invalid() from None
            if not isinstance(decoded, dict):
                raise errors.invalid()
            return decoded, body
        params: dict[str, Any] = {}
        for name, value in parse_qsl(body, keep_blank_values=True):
            held = params.get(name)
            params[name] = value if held is None else [*(held if isinstance(held, list) else [held]), value]
        return params, body

    def _authenticate(self, request: HttpRequest, params: dict[str, Any], body: str) -> ApiAccount[KeyState]:
        """Kraken's order: the key, the signature (over the path and the nonce and body as sent), the nonce."""
        api_key = request.headers.get("api-key", "")
        if not api_key:
            raise errors.error(errors.INVALID_KEY)
        account = SIGNATURES.account(self.accounts, api_key)
        raw_nonce = params.get("nonce")
        nonce_text = "" if raw_nonce is None or isinstance(raw_nonce, list | dict) else str(raw_nonce)
        SIGNATURES.signature(account.api_secret, signed_payload(request.path, nonce_text, body),
                             request.headers.get("api-sign"))
        nonce = parse_nonce(raw_nonce)
        if nonce is None or not account.state.nonces.accept(nonce):
            raise errors.error(errors.INVALID_NONCE)
        return account

    def _count_call(self, caller: ApiAccount[KeyState], cost: int) -> None:
        if not cost:
            return
        state, now = caller.state, clock()
        over = state.calls.level(now) + cost > state.limits.call_max
        state.calls.add(now, cost)
        if over and self.enforce_limits:
            raise errors.error(errors.RATE_LIMIT)

    def charge_trading(self, caller: ApiAccount[KeyState], pair: str, amount: int, *, refusable: bool) -> None:
        """Add to the key's trading counter for ``pair``; an order or amend past the threshold is refused."""
        state, now = caller.state, clock()
        counter = state.trading_counter(pair)
        over = counter.level(now) + amount > state.limits.trading_max
        counter.add(now, amount)
        if over and refusable and self.enforce_limits:
            raise errors.error(errors.ORDER_RATE_LIMIT)

    # ================================================================== orders
    def place(self, account: str, pair: KrakenPair, side: str, kind: str, quantity: Decimal, price: Decimal | None,
              tif: str, cl_ord_id: str, meta: OrderMeta, *, quote_quantity: Decimal | None = None,
              reduce_only: bool = False) -> OrderInfo:
        """Place through the engine with the Kraken options staged for its first announcement."""
        self.orders.staged = meta
        try:
            order = self.exchange.place(account, pair.key, side, kind, quantity, price, tif,  # type: ignore[arg-type]
                                        cl_ord_id, quote_quantity, reduce_only=reduce_only,
                                        exact_quote=quote_quantity is not None, reject_post_only=False,
                                        margin=meta.leverage is not None)
        finally:
            self.orders.staged = None
        return self.orders.record_order(order, pair, clock())

    def cancel(self, info: OrderInfo, reason: str = "User requested") -> None:
        self.cancel_reason = reason
        try:
            self.exchange.cancel(info.order.account, info.order.symbol, order_id=info.order.order_id)
        finally:
            self.cancel_reason = None

    def _order_event(self, order: EOrder, fill: EFill | None, execution: str) -> None:
        """Bookkeeping before any push: the order's Kraken record, its fills, margin positions, reasons."""
        info = self.orders.record_order(order, self.pair(order.symbol), clock())
        if execution == "AMENDED":
            info.amended, info.placed_at = True, clock()
        if fill is not None:
            record = self.orders.record_fill(info, fill)
            self.last_fill[order.account] = record
            if order.margin:
                self._margin_fill(record)
        if not order.is_open:
            self.orders.finished(info, self._reason(order))

    def _reason(self, order: EOrder) -> str | None:
        if order.status == "CANCELED":
            if order.reject_reason == "post_only":
                return "Post only order"
            if order.reject_reason == "reduce_only":
                return "Reduce only:No position exists"
            return self.cancel_reason or "User requested"
        if order.status == "EXPIRED":
            return "Order not filled in full" if order.filled else "Order could not be filled"
        return None

    def _margin_fill(self, record: FillInfo) -> None:
        """A margin fill's closed part closes positions pro rata; its opened part opens one named by the trade."""
        fill, info = record.fill, record.info
        closed, opened = fill.closed_size, fill.quantity - fill.closed_size
        if closed > 0:
            lots = self.margin.close(fill.account, info.pair, closed, fill.price, fill.fee * closed / fill.quantity,
                                     record.txid)
            record.closed = closed
            record.postxid = lots[0].txid if lots else ""
        if opened > 0:
            leverage = info.meta.leverage or int(self.exchange.position(fill.account, fill.symbol).leverage)
            cost = opened * fill.price
            lot = Lot(record.txid, info.txid, fill.account, info.pair, fill.side.lower(), info.meta.ordertype,
                      fill.time_ms / 1000, leverage, ",".join(render.order_flags(info)), opened, cost,
                      fill.fee * opened / fill.quantity, cost / leverage)
            self.margin.lots.append(lot)
            record.opened, record.margin = opened, lot.margin
            record.postxid = record.postxid or record.txid

    # ================================================================== timers and ticks
    def advance_timers(self) -> None:
        """Fire what is due on trio's clock: dead man's switches, Earn (de)allocations and rewards."""
        now = clock()
        if now == self._timers_at:
            return
        self._timers_at = now
        for account in list(self.accounts.by_key.values()):
            trigger = account.state.switch
            if trigger is not None and now >= trigger:
                account.state.switch = None
                for order in self.exchange.open_orders(account.name):
                    info = self.orders.info(order)
                    if info is not None:
                        self.cancel(info, "Cancel all orders after timeout")
        self.earn.advance()

    def _tick(self, state: SymbolState, bids: Levels, asks: Levels) -> None:
        (bid, _), (ask, _) = render.top(state)
        self.spreads.setdefault(state.spec.symbol, deque(maxlen=500)).append((int(time.time()), bid, ask))
        self.advance_timers()
        self.watch_margin(state.spec.symbol)

    def watch_margin(self, symbol: str) -> None:
        """Accounts with positions in ``symbol``: below the stop they are liquidated, below the call flagged."""
        for account in sorted({lot.account for lot in self.margin.lots if lot.pair.key == symbol and lot.open_vol}):
            level = self.trade_balance(account).ml
            pairs = [lot.pair for lot in self.margin.open_lots(account)]
            if level is None or not pairs:
                continue
            if level < max(p.margin_stop for p in pairs):
                self.liquidate(account)
                self.margin_events[account] = "liquidated"
            elif level < max(p.margin_call for p in pairs):
                self.margin_events[account] = "call"
            elif self.margin_events.get(account) == "call":
                del self.margin_events[account]

    def liquidate(self, account: str) -> None:
        """Close every margin position of ``account`` at market (orders flagged liquidated)."""
        for position in self.exchange.positions_of(account):
            spec = self.exchange.symbols[position.symbol].spec
            if not position.size or not spec.marginable:
                continue
            meta = OrderMeta("market", int(position.leverage), liquidation=True, timeinforce="IOC")
            try:
                self.place(account, self.pair(position.symbol), "SELL" if position.size > 0 else "BUY", "MARKET",
                           abs(position.size), None, "IOC", "", meta, reduce_only=True)
            except Rejected:
                continue  # what cannot be closed now is tried again on the next tick

    # ================================================================== websockets
    async def on_ws_message(self, conn: WsConnection, text: str) -> None:
        self.advance_timers()
        ws.on_message(self, conn, text)

    async def ws_background(self, conn: WsConnection) -> None:
        """Kraken's heartbeat: every second, while the connection has subscriptions."""
        while True:
            await trio.sleep(1.0)
            if conn.topics:
                conn.send(ws.HEARTBEAT)
