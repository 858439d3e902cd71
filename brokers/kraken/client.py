"""Kraken spot REST and websocket v2, with margin and Earn, behind the Broker contract, on the chassis.

Names: every Kraken name of a market (``XXBTZUSD``, ``XBTUSD``, ``XBT/USD``, ``BTC/USD``) resolves through
one `PairTable` built from ``Assets`` and ``AssetPairs`` at connect; unified symbols are the v2 symbols.

Private calls are POSTs signed with ``API-Sign`` (auth.py) and a nonce from `FileNonce` (nonce.py): one per
API key, shared by every process on the machine, strictly increasing across restarts. Each call runs under
the key's nonce lease (taken in a worker thread, `lease_async`, so no file lock ever blocks trio), held
until the answer is in: no later nonce of the key can reach Kraken first. ``EAPI:Invalid nonce`` means the
call did nothing; it is sent again once with a fresh nonce and is never taken for a lost order. Private
reads are retried (bounded) on transport failures and 5xx; writes never are (placement is idempotent one
level up, by ``cl_ord_id``: `brokers.placement.place_order_idempotent`).

Rate limits as Kraken counts them (counters.py): the REST call counter per key (cost per path, decaying
per tier, option ``tier``) is waited on before each private call; the per-pair trading counter before
each AddOrder, AmendOrder and CancelOrder, with the order-age penalties of amends and cancels; a
rate-limit answer fills the counter to its ceiling. Public calls share a small per-IP window.

Orders carry ``cl_ord_id`` (the router's ids are 32 hex characters, a short UUID) and a ``deadline`` 5 s
ahead of Kraken's clock, after which the engine refuses rather than executes a late order. Lookup by client
id reads ``OpenOrders`` then ``ClosedOrders`` filtered by ``cl_ord_id`` (QueryOrders cannot filter by it).
Option ``validate_only`` sends every AddOrder with ``validate=true`` (Kraken checks it, places nothing):
the read-only mode the real-venue tests run in, since Kraken has no spot testnet.

Extensions: AmendOrder, CancelAll, the dead man's switch (``CancelAllOrdersAfter``; option
``dead_mans_switch`` arms it at connect and re-arms it every third of its timeout while the actor lives),
ClosePosition of a margin position (the opposite order at the position's leverage, reduce-only), recent
trades, candles within Kraken's last 720, Earn (strategies, allocate, deallocate, status, allocations; a
(de)allocation is followed until Kraken has finished it and the changed allocation is emitted).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode

import attrs
import msgspec
import trio

from brokers.base import Emit, Subscription
from brokers.kraken import constants as c
from brokers.kraken import schemas as s
from brokers.kraken.auth import FormValue, private_request
from brokers.kraken.constants import TradingTransaction, VerificationTier
from brokers.kraken.counters import CallLimiter, TradingLimiter
from brokers.kraken.errors import is_invalid_nonce, map_error
from brokers.kraken.mapping import (
    PairEntry,
    PairTable,
    account_info_from,
    add_order_body,
    balances_from,
    cancel_order_body,
    candles_from_rows,
    earn_allocation_from,
    earn_strategy_from,
    fill_from_trade,
    is_txid,
    leverage_info_from,
    lookup_by_client_id,
    next_offset,
    order_deadline,
    order_from,
    plain,
    positions_from,
    rfc3339,
    ticker_from_rest,
    trades_from_rows,
    venue_interval,
)
from brokers.kraken.nonce import FileNonce
from brokers.kraken.stream import PrivateStream, PublicStream
from brokers.kraken.watch import AccountWatch
from brokers.paging import Page, collect
from brokers.placement import ResendRule
from brokers.ratelimit import RateLimiter, WindowRule
from brokers.rest import AnswerDecoder, PreparedRequest
from brokers.venue import VenueClient
from protocol import errors as e
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    EarnAllocation,
    EarnStrategy,
    Fill,
    Instrument,
    LeverageInfo,
    MarketType,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    Ticker,
    TimeInForce,
    Trade,
    from_epoch_ms,
    utc_now,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
RECENT_ORDERS = 5_000  # orders whose latest state is kept (cancels, fills' client ids, partial stream reports)
READ_RETRIES = 2
ORDER_RATE_LIMIT = "EOrder:Rate limit exceeded"
UNKNOWN_TXID = "EOrder:Invalid order"  # QueryOrders' answer for a txid it does not know
PUBLIC_RULES = [WindowRule("public-ip-5s", 5.0, 5, sliding=True, margin=0.05)]
"""Kraken limits public calls per IP to about one a second: a burst of five, one a second after that."""
FINISHES_AT_ONCE = (TimeInForce.IOC, TimeInForce.FOK)


def _flag(value: str, option: str) -> bool:
    if value.strip().lower() in ("true", "1", "yes"):
        return True
    if value.strip().lower() in ("false", "0", "no", ""):
        return False
    raise e.NotSupported(f"option {option}={value!r}: use true or false", venue=c.VENUE)


def _seconds(value: str, option: str, *, low: float, high: float) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not low <= seconds <= high:
        raise e.NotSupported(f"option {option}={value!r}: seconds between {low:g} and {high:g}", venue=c.VENUE)
    return seconds


@attrs.frozen
class KrakenOptions:
    """The client's own options (`constants.OPTIONS`), read and checked: a bad value is refused, never
    replaced by a default -- by the config check (`KrakenBroker.option_problems`) and by the client."""

    tier: VerificationTier = VerificationTier.STARTER
    validate_only: bool = False
    dead_mans_switch: int = 0  # seconds; 0 = not armed by the client
    margin_poll_s: float = c.MARGIN_POLL_DEFAULT_S

    @classmethod
    def read(cls, options: Mapping[str, str]) -> KrakenOptions:
        try:
            tier = VerificationTier(options.get(c.OPTION_TIER, VerificationTier.STARTER.value))
        except ValueError:
            raise e.NotSupported(f"option {c.OPTION_TIER}={options[c.OPTION_TIER]!r}: use "
                                 f"{', '.join(t.value for t in VerificationTier)}", venue=c.VENUE) from None
        switch = options.get(c.OPTION_DEAD_MANS_SWITCH, "0")
        seconds = _seconds(switch, c.OPTION_DEAD_MANS_SWITCH, low=0, high=86_400)
        if seconds != int(seconds) or 0 < seconds < c.DEAD_MAN_SWITCH_MIN_S:
            raise e.NotSupported(f"option {c.OPTION_DEAD_MANS_SWITCH}={switch!r}: whole seconds, at least "
                                 f"{c.DEAD_MAN_SWITCH_MIN_S} (it is re-armed every third of it), or 0", venue=c.VENUE)
        return cls(tier=tier,
                   validate_only=_flag(options.get(c.OPTION_VALIDATE_ONLY, "false"), c.OPTION_VALIDATE_ONLY),
                   dead_mans_switch=int(seconds),
                   margin_poll_s=_seconds(options.get(c.OPTION_MARGIN_POLL, str(c.MARGIN_POLL_DEFAULT_S)),
                                          c.OPTION_MARGIN_POLL, low=1, high=3600))


@attrs.define(eq=False)
class KrakenBroker(VenueClient):
    """Kraken spot (and margin, and Earn) over its REST API and the v2 public and private sockets."""

    VENUE: ClassVar[str] = c.VENUE
    stream_channels = frozenset(c.PUBLIC_CHANNELS)
    rate_rules = ()  # private calls wait on the call counter, public ones on `public_limiter`
    order_features = c.ORDER_FEATURES
    stale_after = c.STALE_AFTER
    position_quote = "USD"
    options_taken = c.OPTIONS

    tier: VerificationTier = attrs.field(init=False)
    validate_only: bool = attrs.field(init=False)
    dead_mans_switch: int = attrs.field(init=False)  # seconds; 0 = not armed by the client
    margin_poll_s: float = attrs.field(init=False)
    calls: CallLimiter = attrs.field(init=False)
    trading: TradingLimiter = attrs.field(init=False)
    public_limiter: RateLimiter = attrs.field(init=False)
    pairs: PairTable | None = None
    watch: AccountWatch | None = None
    _nonce: FileNonce | None = None
    _private_lock: trio.Lock = attrs.field(factory=trio.Lock)
    _orders: OrderedDict[str, Order] = attrs.field(factory=OrderedDict)  # by txid, latest state
    _placed_at: OrderedDict[str, float] = attrs.field(factory=OrderedDict)  # txid -> trio time placed / amended
    _public: PublicStream | None = None
    _emit: Emit | None = None  # the private stream's, while it runs (orders looked up for it)

    @classmethod
    def option_problems(cls, options: Mapping[str, str]) -> list[str]:
        """Unknown keys (the chassis), then bad values: both found by `algotrendy check` before anything runs."""
        problems = super().option_problems(options)
        if not problems:
            try:
                KrakenOptions.read(options)
            except e.NotSupported as error:
                problems.append(error.message)
        return problems

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        read = KrakenOptions.read(self.settings.options)
        self.tier, self.validate_only = read.tier, read.validate_only
        self.dead_mans_switch, self.margin_poll_s = read.dead_mans_switch, read.margin_poll_s
        self.calls = CallLimiter.for_tier(self.tier)
        self.trading = TradingLimiter.for_tier(self.tier)
        self.public_limiter = RateLimiter(self.venue, list(PUBLIC_RULES), safety=1.0)

    # ================================================================ the chassis hooks
    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
        return map_error(status, body, headers)

    def answer_decoder(self) -> AnswerDecoder | None:
        def decode(body: bytes, kind: Any, headers: Mapping[str, str]) -> Any:
            return s.decode_answer(body, kind, now_s=time.time())

        return decode

    def resend_rule(self) -> ResendRule:
        """A lost AddOrder can no longer execute once its ``deadline`` (stamped `ORDER_DEADLINE_DEFAULT_S` ahead
        of Kraken's clock as it is signed) plus the engine margin has passed (README, "Order entry")."""
        return self.signed_window_rule(c.ORDER_DEADLINE_DEFAULT_S * 1000, engine_margin_ms=c.ENGINE_MARGIN_MS,
                                       source=c.RESEND_SOURCE)

    async def server_time_ms(self) -> int:
        return (await self._public_get(c.SERVER_TIME, {}, s.ServerTime)).unixtime * 1000

    async def load_instruments(self) -> list[Instrument]:
        assets = await self._public_get(c.ASSETS, {}, dict[str, s.AssetInfo])
        pairs = await self._public_get(c.ASSET_PAIRS, {}, dict[str, s.AssetPair])
        self.pairs = PairTable.from_answers(assets, pairs)
        if self.pairs.skipped:
            log.info("%s: %d pairs not served (%s)", self.venue, len(self.pairs.skipped),
                     "; ".join(f"{name}: {why}" for name, why in sorted(self.pairs.skipped.items())[:5]))
        return self.pairs.instruments()

    async def check_credentials(self) -> None:
        await self._private(c.BALANCE_EX, {}, dict[str, s.BalanceExEntry])  # proves the key, signature, nonce

    # ================================================================ requests
    def table(self) -> PairTable:
        if self.pairs is None:
            raise e.NotConnected("Kraken pairs are not loaded yet (connect first)", venue=self.venue)
        return self.pairs

    def entry(self, symbol: str) -> PairEntry:
        self.instrument(symbol)  # the chassis' typed refusal of an unknown symbol
        return self.table().by_symbol(symbol)

    def _entry_of(self, name: str) -> PairEntry | None:
        table = self.table()
        return table.by_venue(name) if table.knows_name(name) else None

    async def _public_get(self, path: str, params: Mapping[str, str | int], wanted: type[T]) -> T:
        return await self.rest.send(PreparedRequest("GET", path, urlencode(params)), wanted,
                                    limiters=(self.public_limiter,))

    async def _nonces(self) -> FileNonce:
        if self._nonce is None:
            folder = self.settings.options.get(c.OPTION_NONCE_DIR)
            key = self.credentials().api_key

            def open_nonce() -> FileNonce:  # creates the folder: file I/O, off the trio thread
                return FileNonce.for_key(key, Path(folder).expanduser() if folder else None)

            self._nonce = await trio.to_thread.run_sync(open_nonce)
        return self._nonce

    async def _private(self, path: str, params: Mapping[str, FormValue], wanted: type[T], *,
                       read: bool = True, deadline: bool = False) -> T:
        """One signed call under the key's nonce lease (see the module docstring): reads retried on transport
        failures, 5xx and the call counter; ``EAPI:Invalid nonce`` sent again once with a fresh nonce. With
        ``deadline``, the order's ``deadline`` is stamped as the request is signed (after every wait for the
        counters and the lease), so it is `ORDER_DEADLINE_DEFAULT_S` after the moment the request leaves."""
        credentials = self.credentials()
        nonces = await self._nonces()
        cost = c.rest_counter_cost(path)
        failures, nonce_retried = 0, False
        while True:
            try:
                # The call counter is waited on before the lock: a read waiting for the counter to decay must
                # not hold up an order (AddOrder and CancelOrder cost nothing on it).
                await self.calls.acquire(cost)
                async with self._private_lock:
                    async with nonces.lease_async() as nonce:
                        signed = {**params, "deadline": self._deadline()} if deadline else params
                        body, headers = private_request(credentials, path, nonce, signed)
                        return await self.rest.send(PreparedRequest("POST", path, body=body, headers=headers),
                                                    wanted)
            except e.AuthenticationError as error:
                if not is_invalid_nonce(error) or nonce_retried:
                    raise
                nonce_retried = True  # refused before anything ran: safe to send again, once
                log.warning("%s %s: %s; sending again with a fresh nonce", self.venue, path, error.venue_message)
            except e.RateLimited as error:
                if error.code != ORDER_RATE_LIMIT:
                    self.calls.back_off(float(error.retry_after) if error.retry_after is not None else None,
                                        banned=error.banned)
                failures += 1
                if not read or error.banned or error.code == ORDER_RATE_LIMIT or failures > READ_RETRIES:
                    raise
            except e.VenueUnavailable:
                failures += 1
                if not read or failures > READ_RETRIES:
                    raise
                await trio.sleep(0.5 * 2 ** (failures - 1))

    def _deadline(self) -> str:
        """AddOrder's / AmendOrder's ``deadline``: `ORDER_DEADLINE_DEFAULT_S` ahead on Kraken's clock."""
        return rfc3339(order_deadline(from_epoch_ms(self.now_ms()), c.ORDER_DEADLINE_DEFAULT_S))

    async def _trade(self, entry: PairEntry, transaction: TradingTransaction, path: str,
                     params: Mapping[str, FormValue], wanted: type[T], *, order_age_s: float | None = None,
                     deadline: bool = False) -> T:
        """A call on the pair's trading counter: waited on first, filled to its ceiling when Kraken refuses."""
        await self.trading.acquire(entry.rest_name, transaction, order_age_s)
        try:
            return await self._private(path, params, wanted, read=False, deadline=deadline)
        except e.RateLimited as error:
            if error.code == ORDER_RATE_LIMIT:
                self.trading.refused(entry.rest_name)
            raise

    def remember(self, order: Order) -> None:
        """Keep the latest state of recent orders (placement answers, lookups, stream reports)."""
        self._orders[order.order_id] = order
        self._orders.move_to_end(order.order_id)
        while len(self._orders) > RECENT_ORDERS:
            self._orders.popitem(last=False)

    def known(self, order_id: str) -> Order | None:
        return self._orders.get(order_id)

    def _placed(self, order_id: str) -> None:
        self._placed_at[order_id] = trio.current_time()
        while len(self._placed_at) > RECENT_ORDERS:
            self._placed_at.popitem(last=False)

    def _age(self, order_id: str | None) -> float:
        """Seconds since the order was placed or amended here; 0 (the dearest cancel) when unknown."""
        placed = self._placed_at.get(order_id or "")
        return trio.current_time() - placed if placed is not None else 0.0

    # ================================================================ account
    async def get_balances(self) -> list[Balance]:
        rows = await self._private(c.BALANCE_EX, {}, dict[str, s.BalanceExEntry])
        return balances_from(rows, self.table().assets)

    async def trade_balance(self) -> s.TradeBalance:
        return await self._private(c.TRADE_BALANCE, {"asset": c.TRADE_BALANCE_ASSET}, s.TradeBalance)

    async def get_account_info(self) -> AccountInfo:
        trade_balance = await self.trade_balance()
        return account_info_from(trade_balance, await self.get_balances(), currency="USD", now=utc_now())

    # ================================================================ market data
    async def get_ticker(self, symbol: str) -> Ticker:
        entry = self.entry(symbol)
        answer = await self._public_get(c.TICKER, {"pair": entry.rest_name}, dict[str, s.TickerInfo])
        info = answer.get(entry.rest_name) or next(iter(answer.values()), None)
        if info is None:
            raise e.ProtocolViolation(f"Kraken sent no ticker for {entry.rest_name}", venue=self.venue)
        return ticker_from_rest(info, entry, utc_now())

    async def _ohlc(self, entry: PairEntry, interval: str, since: int | None = None) -> list[s.OhlcRow]:
        params: dict[str, str | int] = {"pair": entry.rest_name, "interval": venue_interval(interval)}
        if since is not None:
            params["since"] = since
        answer = await self._public_get(c.OHLC, params, s.OhlcResult)
        rows = next((value for key, value in answer.items() if key != "last" and isinstance(value, list)), [])
        return rows

    async def get_candles(self, symbol: str, interval: str, limit: int) -> list[Candle]:
        entry = self.entry(symbol)
        rows = await self._ohlc(entry, interval)
        return candles_from_rows(rows[-max(1, min(limit, c.OHLC_MAX_ROWS)):], entry, interval, now=utc_now())

    async def get_historical_candles(self, symbol: str, interval: str, start: datetime, end: datetime | None,
                                     limit: int) -> list[Candle]:
        """Kraken's OHLC serves the last 720 candles of an interval, whatever ``since`` asks: older starts are
        refused rather than answered short."""
        entry = self.entry(symbol)
        oldest = utc_now() - timedelta(minutes=venue_interval(interval) * (c.OHLC_MAX_ROWS - 1))
        if start < oldest:
            raise e.NotSupported(f"Kraken serves the last {c.OHLC_MAX_ROWS} {interval} candles only (from "
                                 f"{oldest:%Y-%m-%d %H:%M} UTC); {start:%Y-%m-%d %H:%M} is older", venue=self.venue)
        rows = await self._ohlc(entry, interval, since=int(start.timestamp()) - 1)
        candles = [candle for candle in candles_from_rows(rows, entry, interval, now=utc_now())
                   if candle.open_time >= start and (end is None or candle.open_time <= end)]
        return candles[:limit]

    async def get_trades(self, symbol: str, *, limit: int = 100, start: datetime | None = None,
                         end: datetime | None = None) -> list[Trade]:
        entry = self.entry(symbol)
        params: dict[str, str | int] = {"pair": entry.rest_name, "count": max(1, min(limit, c.RECENT_TRADES_COUNT_MAX))}
        if start is not None:
            params["since"] = int(start.timestamp())
        answer = await self._public_get(c.RECENT_TRADES, params, s.TradesResult)
        rows = next((value for key, value in answer.items() if key != "last" and isinstance(value, list)), [])
        trades = [trade for trade in trades_from_rows(rows, entry)
                  if (start is None or trade.timestamp >= start) and (end is None or trade.timestamp <= end)]
        return trades[-limit:]

    # ================================================================ positions and leverage
    async def margin_positions(self) -> list[Position]:
        rows = await self._private(c.OPEN_POSITIONS, {"docalcs": True}, dict[str, s.OpenPosition])
        table = self.table()
        return positions_from({txid: row for txid, row in rows.items() if table.knows_name(row.pair)}, table)

    async def venue_positions(self) -> list[Position]:
        return await self.margin_positions()

    async def get_position(self, symbol: str) -> Position:
        """The open margin position in ``symbol`` if there is one, else the spot holding (chassis)."""
        self.instrument(symbol)
        for position in await self.margin_positions():
            if position.symbol == symbol and position.quantity > 0:
                return position
        return await super().get_position(symbol)

    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        return leverage_info_from(self.entry(symbol))

    async def set_leverage(self, symbol: str, leverage: Decimal) -> LeverageInfo:
        self.entry(symbol)
        raise e.NotSupported(f"Kraken sets leverage per order, not per symbol: give the order a leverage from "
                             f"{symbol}'s lists (get_leverage_info)", venue=self.venue)

    def close_position_request(self, position: Position, quantity: Decimal, client_order_id: str) -> OrderRequest:
        """A margin position closes with the opposite order at its leverage (the nearest level the pair offers
        that side), reduce-only; a spot holding with a plain market sell."""
        if position.market_type is not MarketType.MARGIN:
            return super().close_position_request(position, quantity, client_order_id)
        side = Side.SELL if position.side is PositionSide.LONG else Side.BUY
        instrument = self.instrument(position.symbol)
        levels = instrument.leverage_sell if side is Side.SELL else instrument.leverage_buy
        if not levels:
            raise e.InvalidOrder(f"{position.symbol} offers no {side.value} leverage to close the position with",
                                 venue=self.venue, filter="LEVERAGE", client_order_id=client_order_id)
        leverage = min(levels, key=lambda level: (abs(level - position.leverage), level))
        return OrderRequest(venue=position.venue, symbol=position.symbol, side=side, type=OrderType.MARKET,
                            quantity=quantity, client_order_id=client_order_id, leverage=leverage, reduce_only=True)

    # ================================================================ orders
    async def place_order(self, request: OrderRequest) -> Order:
        self.check_order(request)
        entry = self.entry(request.symbol)
        body = add_order_body(request, entry, validate=self.validate_only)
        answer = await self._trade(entry, TradingTransaction.ADD_ORDER, c.ADD_ORDER, body, s.AddOrderResult,
                                   deadline=True)
        now = utc_now()
        cid = request.client_order_id or ""
        if not answer.txid:
            # validate=true: Kraken checked the order and placed nothing.
            return Order(venue=self.venue, symbol=request.symbol, order_id="", client_order_id=cid, side=request.side,
                         type=request.type, status=OrderStatus.REJECTED, quantity=request.quantity,
                         price=request.price, stop_price=request.stop_price, time_in_force=request.time_in_force,
                         reduce_only=request.reduce_only, leverage=request.leverage, created_at=now, updated_at=now,
                         reject_reason=f"validate only: Kraken accepted '{answer.descr.order}' and placed nothing")
        txid = answer.txid[0]
        self._placed(txid)
        if request.type is OrderType.MARKET or request.time_in_force in FINISHES_AT_ONCE:
            # Orders that finish at once are worth one look-up, so the caller sees their fills.
            try:
                return await self.get_order_status(request.symbol, order_id=txid)
            except e.OrderNotFound:
                pass  # not visible yet: report what the answer says
        placed = Order(venue=self.venue, symbol=request.symbol, order_id=txid, client_order_id=cid, side=request.side,
                       type=request.type, status=OrderStatus.NEW, quantity=request.quantity,
                       price=request.price if request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
                       stop_price=request.stop_price, time_in_force=request.time_in_force,
                       reduce_only=request.reduce_only, leverage=request.leverage, created_at=now, updated_at=now)
        self.remember(placed)
        return placed

    def _txid_and_cl(self, order_id: str | None, client_order_id: str | None) -> tuple[str | None, str | None]:
        """An order named by txid or cl_ord_id; a txid-shaped client id is an order placed without one."""
        if not order_id and client_order_id and is_txid(client_order_id):
            return client_order_id, None
        if not order_id and not client_order_id:
            raise e.InvalidOrder("an order id or a client order id is needed", venue=self.venue)
        return order_id or None, None if order_id else client_order_id

    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order:
        entry = self.entry(symbol)
        txid, cl = self._txid_and_cl(order_id, client_order_id)
        if txid is None and cl is not None:
            txid = next((o.order_id for o in reversed(self._orders.values())
                         if o.client_order_id == cl and not o.status.is_terminal), None)
        await self._trade(entry, TradingTransaction.CANCEL_ORDER, c.CANCEL_ORDER,
                          cancel_order_body(order_id=txid, client_order_id=cl), s.CancelOrderResult,
                          order_age_s=self._age(txid))
        known = self._orders.get(txid or "")
        if known is not None:
            # Kraken answers a cancel only for an open order it then cancels; its fills, if any arrived
            # meanwhile, follow on the private stream and merge forward.
            cancelled = msgspec.structs.replace(known, status=OrderStatus.CANCELED, updated_at=utc_now())
            self.remember(cancelled)
            return cancelled
        return await self.get_order_status(symbol, order_id=txid, client_order_id=None if txid else cl)

    async def get_order_status(self, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order:
        entry = self.entry(symbol)
        txid, cl = self._txid_and_cl(order_id, client_order_id)
        found: tuple[str, s.OrderInfo] | None
        if txid is not None:
            found = await self._query_order(txid)
        else:
            assert cl is not None
            found = await self._order_by_client_id(cl)
        if found is None or self._entry_of(found[1].descr.pair) is not entry:
            raise e.OrderNotFound(f"Kraken knows no {symbol} order {order_id or client_order_id}", venue=self.venue,
                                  client_order_id=client_order_id)
        order = order_from(found[0], found[1], entry)
        self.remember(order)
        return order

    async def _query_order(self, txid: str) -> tuple[str, s.OrderInfo] | None:
        try:
            rows = await self._private(c.QUERY_ORDERS, {"txid": txid}, dict[str, s.OrderInfo])
        except e.InvalidOrder as error:
            if error.code == UNKNOWN_TXID:
                return None
            raise
        info = rows.get(txid)
        return (txid, info) if info is not None else None

    async def _order_by_client_id(self, cl_ord_id: str) -> tuple[str, s.OrderInfo] | None:
        """OpenOrders, then ClosedOrders (newest first), filtered by ``cl_ord_id``: Kraken keeps a cl_ord_id
        unique among open orders only, so a closed one may repeat; the open one, else the newest, wins."""
        params = lookup_by_client_id(cl_ord_id)
        open_rows = (await self._private(c.OPEN_ORDERS, params, s.OpenOrdersResult)).open
        if open_rows:
            return max(open_rows.items(), key=lambda row: row[1].opentm)
        closed = (await self._private(c.CLOSED_ORDERS, params, s.ClosedOrdersResult)).closed
        if closed:
            return max(closed.items(), key=lambda row: (row[1].closetm or row[1].opentm))
        return None

    def _orders_of(self, rows: Mapping[str, s.OrderInfo], symbol: str | None) -> list[Order]:
        orders = []
        for txid, info in rows.items():
            entry = self._entry_of(info.descr.pair)
            if entry is None or (symbol is not None and entry.symbol != symbol):
                continue
            order = order_from(txid, info, entry)
            self.remember(order)
            orders.append(order)
        return orders

    async def get_orders(self, symbol: str | None = None, *, open_only: bool = True) -> list[Order]:
        if symbol is not None:
            self.entry(symbol)
        open_rows = (await self._private(c.OPEN_ORDERS, {}, s.OpenOrdersResult)).open
        orders = self._orders_of(open_rows, symbol)
        if open_only:
            return sorted(orders, key=lambda order: order.created_at)

        async def fetch(ofs: int | None) -> Page[tuple[str, s.OrderInfo], int]:
            page = await self._private(c.CLOSED_ORDERS, {"ofs": ofs or 0}, s.ClosedOrdersResult)
            return Page(list(page.closed.items()), next_offset(ofs or 0, len(page.closed), page.count))

        closed = await collect(fetch, enough=c.ORDERS_HISTORY_ROWS, what=f"{self.venue} ClosedOrders")
        orders += self._orders_of(dict(closed), symbol)
        return sorted(orders, key=lambda order: order.created_at)

    async def get_fills(self, symbol: str, *, since: datetime | None = None, limit: int = 500) -> list[Fill]:
        """TradesHistory (every pair, newest first, 50 a page by ``ofs``) kept for ``symbol``, oldest first.

        ``start`` is exclusive and whole seconds: one second before ``since`` is asked and the rest dropped
        here. Kraken's rows name their order by txid; its client order id comes from our recent orders, else
        one QueryOrders per 50 orders."""
        entry = self.entry(symbol)
        params: dict[str, FormValue] = {}
        if since is not None:
            params["start"] = int(since.timestamp()) - 1

        async def fetch(ofs: int | None) -> Page[tuple[str, s.TradeInfo], int]:
            page = await self._private(c.TRADES_HISTORY, {**params, "ofs": ofs or 0}, s.TradesHistoryResult)
            rows = [(txid, trade) for txid, trade in page.trades.items() if self._entry_of(trade.pair) is entry]
            return Page(rows, next_offset(ofs or 0, len(page.trades), page.count))

        rows = await collect(fetch, enough=None if since is not None else limit, what=f"{self.venue} TradesHistory")
        unique = dict(reversed(rows))  # oldest first; a row seen twice (pages shifted by a new trade) once
        ordered = sorted(unique.items(), key=lambda row: (row[1].time, row[1].trade_id or 0))
        client_ids = await self._client_ids({trade.ordertxid for _, trade in ordered})
        fills = [fill_from_trade(txid, trade, entry, client_ids.get(trade.ordertxid)) for txid, trade in ordered]
        if since is not None:
            fills = [fill for fill in fills if fill.timestamp >= since]
            return fills[:limit]
        return fills[-limit:]

    async def _client_ids(self, order_ids: Iterable[str]) -> dict[str, str]:
        """txid -> client order id, from recent orders, else QueryOrders (50 txids a call)."""
        found = {txid: order.client_order_id for txid in order_ids if (order := self._orders.get(txid)) is not None}
        missing = sorted(set(order_ids) - set(found))
        for start in range(0, len(missing), c.QUERY_ORDERS_MAX_TXIDS):
            batch = missing[start:start + c.QUERY_ORDERS_MAX_TXIDS]
            rows = await self._private(c.QUERY_ORDERS, {"txid": ",".join(batch)}, dict[str, s.OrderInfo])
            found |= {txid: info.cl_ord_id or txid for txid, info in rows.items()}
        return found

    async def resolve(self, order_id: str) -> None:
        """An order the private stream reported only in part and we never saw: read it and emit it."""
        found = await self._query_order(order_id)
        if found is None:
            return
        entry = self._entry_of(found[1].descr.pair)
        if entry is not None and self._emit is not None:
            order = order_from(found[0], found[1], entry)
            self.remember(order)
            await self._emit(order)

    # ================================================================ extensions: orders
    async def amend_order(self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None,
                          quantity: Decimal | None = None, price: Decimal | None = None,
                          stop_price: Decimal | None = None, new_client_order_id: str | None = None) -> Order:
        """AmendOrder: a new quantity, limit price or trigger price, in place (ids and queue priority kept
        where Kraken keeps them). Kraken's amend cannot give the order a new client order id."""
        entry = self.entry(symbol)
        if new_client_order_id is not None:
            raise e.NotSupported("Kraken's AmendOrder keeps the order's cl_ord_id (no new client order id)",
                                 venue=self.venue)
        if quantity is None and price is None and stop_price is None:
            raise e.InvalidOrder("an amend needs a quantity, a price or a stop price", venue=self.venue)
        txid, cl = self._txid_and_cl(order_id, client_order_id)
        params: dict[str, FormValue] = {"txid": txid} if txid else lookup_by_client_id(cl or "")
        for name, value in (("order_qty", quantity), ("limit_price", price), ("trigger_price", stop_price)):
            if value is not None:
                params[name] = plain(value)
        await self._trade(entry, TradingTransaction.AMEND_ORDER, c.AMEND_ORDER, params, s.AmendOrderResult,
                          order_age_s=self._age(txid), deadline=True)
        amended = await self.get_order_status(symbol, order_id=txid, client_order_id=cl)
        self._placed(amended.order_id)  # the penalties count from the last amend
        return amended

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """One CancelAll for every pair; per order (CancelOrder) for one symbol."""
        if symbol is not None:
            return await super().cancel_all_orders(symbol)
        listed = await self.get_orders(None, open_only=True)
        await self._private(c.CANCEL_ALL, {}, s.CancelAllResult, read=False)
        if not listed:
            return []
        rows: dict[str, s.OrderInfo] = {}
        txids = [order.order_id for order in listed]
        for start in range(0, len(txids), c.QUERY_ORDERS_MAX_TXIDS):
            batch = txids[start:start + c.QUERY_ORDERS_MAX_TXIDS]
            rows |= await self._private(c.QUERY_ORDERS, {"txid": ",".join(batch)}, dict[str, s.OrderInfo])
        return self._orders_of(rows, None)

    async def cancel_all_after(self, seconds: int) -> datetime | None:
        """Arm (or with 0 disarm) ``CancelAllOrdersAfter``; with option ``dead_mans_switch`` the client also
        re-arms it while it runs, with the last value given here (0 stops that too)."""
        if self.validate_only:
            raise e.PermissionDenied("validate_only: the dead man's switch is not armed from a read-only client",
                                     venue=self.venue)
        answer = await self._private(c.CANCEL_ALL_ORDERS_AFTER, {"timeout": seconds}, s.CancelAllOrdersAfterResult,
                                     read=False)
        self.dead_mans_switch = seconds
        if answer.triggerTime in ("0", ""):
            return None
        return datetime.fromisoformat(answer.triggerTime.replace("Z", "+00:00"))

    async def _keep_switch_armed(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Re-arm the dead man's switch every third of its timeout while this actor lives: if the process, its
        network or the actor stops, Kraken cancels every open order when the timeout runs out."""
        if self.dead_mans_switch:
            await self.cancel_all_after(self.dead_mans_switch)
        task_status.started()
        while True:
            armed = self.dead_mans_switch if self.dead_mans_switch >= c.DEAD_MAN_SWITCH_MIN_S else 0
            await trio.sleep(armed / 3 if armed else 5.0)
            if armed and self.dead_mans_switch == armed:
                try:
                    await self.cancel_all_after(armed)
                except e.BrokerError as error:  # tried again at the next turn, well within the timeout
                    log.warning("%s: re-arming the dead man's switch failed: %s", self.venue, error)

    # ================================================================ extensions: Earn
    async def get_earn_strategies(self, asset: str | None = None) -> list[EarnStrategy]:
        table = self.table()
        params: dict[str, FormValue] = {}
        if asset is not None:
            params["asset"] = table.assets.venue_asset(asset)

        async def fetch(cursor: str | None) -> Page[s.EarnStrategy, str]:
            page = await self._private(c.EARN_STRATEGIES, {**params, **({"cursor": cursor} if cursor else {})},
                                       s.EarnStrategies)
            return Page(page.items, page.next_cursor or None)

        strategies = await collect(fetch, what=f"{self.venue} Earn/Strategies")
        return [earn_strategy_from(strategy, table.assets) for strategy in strategies]

    async def get_earn_allocations(self) -> list[EarnAllocation]:
        answer = await self._private(c.EARN_ALLOCATIONS, {"converted_asset": c.CONVERTED_ASSET,
                                                         "hide_zero_allocations": True}, s.EarnAllocations)
        now = utc_now()
        return [earn_allocation_from(item, self.table().assets, now=now) for item in answer.items]

    async def _earn_move(self, path: str, strategy_id: str, amount: Decimal, *, deallocation: bool) -> bool:
        if self.validate_only:
            raise e.PermissionDenied("validate_only: Earn funds are not moved from a read-only client",
                                     venue=self.venue)
        if amount <= 0:
            raise e.InvalidOrder(f"an Earn amount must be positive, not {amount}", venue=self.venue,
                                 filter="MIN_AMOUNT")
        await self._private(path, {"strategy_id": strategy_id, "amount": plain(amount)}, bool, read=False)
        if self.watch is not None:
            self.watch.earn_pending(strategy_id, deallocation=deallocation)
        return True  # Kraken processes (de)allocations asynchronously: pending until earn_status says not

    async def earn_allocate(self, strategy_id: str, amount: Decimal) -> bool:
        return await self._earn_move(c.EARN_ALLOCATE, strategy_id, amount, deallocation=False)

    async def earn_deallocate(self, strategy_id: str, amount: Decimal) -> bool:
        return await self._earn_move(c.EARN_DEALLOCATE, strategy_id, amount, deallocation=True)

    async def earn_status(self, strategy_id: str, *, deallocation: bool = False) -> bool:
        path = c.EARN_DEALLOCATE_STATUS if deallocation else c.EARN_ALLOCATE_STATUS
        return (await self._private(path, {"strategy_id": strategy_id}, s.EarnOperationStatus)).pending

    # ================================================================ streams
    def public_url(self) -> str:
        return self.settings.ws_url.rstrip("/") + c.WS_PUBLIC_PATH

    def private_url(self) -> str:
        """Kraken's private socket is on its own host; an emulator serves it under a path of the same host."""
        if self.settings.private_ws_url:
            return self.settings.private_ws_url
        base = self.settings.ws_url.rstrip("/")
        return c.WS_PRIVATE_HOSTS.get(base) or base + c.WS_PRIVATE_PATH

    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        freshness = self.freshness()
        stream = PublicStream(self.public_url(), self.table, freshness.track(emit), self.venue)
        wanted = {sub for sub in subscriptions if self.index.knows(sub.symbol)}
        stream.subscriptions |= wanted
        freshness.watch(wanted)
        self._public = stream
        try:
            await stream.run(self.public_reopen(emit), freshness, task_status=task_status)
        finally:
            self._public = None

    async def subscribe(self, added: Iterable[Subscription]) -> None:
        if self._public is not None:
            await self._public.add(sub for sub in added if self.index.knows(sub.symbol))

    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The executions and balances socket, the account watch beside it, and the dead man's switch."""
        token = await self._private(c.WEBSOCKETS_TOKEN, {}, s.WebSocketsToken)
        self._emit = emit
        watch = self.watch = AccountWatch(self, emit, margin_poll_s=self.margin_poll_s)
        stream = PrivateStream(self.private_url(), token.token, self.table(), emit, self.venue, known=self.known,
                               remember=self.remember, on_account=watch.changed, resolve=self.resolve)
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(stream.run)
                if stream.maxratecount is not None:
                    self._adopt_trading_ceiling(stream.maxratecount)
                await nursery.start(watch.run)
                await nursery.start(self._keep_switch_armed)
                task_status.started()
        finally:
            self.watch = None
            self._emit = None

    def _adopt_trading_ceiling(self, maxratecount: int) -> None:
        """The executions ack says the key's trading-counter ceiling: a lower tier than configured is adopted
        (waiting longer is safe, a locked-out key is not); a higher one is only said."""
        configured = self.trading.counters.tier
        ceiling = c.TRADING_COUNTER_LIMITS[configured][0]
        if maxratecount == ceiling:
            return
        actual = next((tier for tier, (limit, _) in c.TRADING_COUNTER_LIMITS.items() if limit == maxratecount), None)
        lower = maxratecount < ceiling
        log.log(logging.WARNING if lower else logging.INFO, "%s: Kraken says the trading counter's ceiling is %d; "
                "option tier=%s counts %d%s", self.venue, maxratecount, configured.value, ceiling,
                " (set option tier to use the headroom)" if not lower else "")
        if actual is not None and lower:
            self.trading = TradingLimiter.for_tier(actual)

__all__ = ["KrakenBroker"]
