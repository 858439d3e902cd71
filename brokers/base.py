"""The Broker contract (design §3) and the broker actor loop shared by every venue (design §4).

A venue package implements `Broker`: plain async methods for REST commands, and two stream methods
that run until their connection fails. Everything venue-neutral about running a broker lives here,
once: connecting in order, reconciling after every (re)connect, de-duplicating fills, merging order
updates forward-only, idempotent placement by client order id, and serving commands.

`BrokerState` outlives a single connection: the supervisor hands the same one to every incarnation
of a venue's actor, which is how "fills since the last one seen" is known after a restart.
"""

from __future__ import annotations

import abc
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

import attrs
import msgspec
import trio

from brokers.placement import (
    NO_GUARANTEE,
    Claims,
    ResendRule,
    Sightings,
    Unresolved,
    cancel_order_safely,
    keep_settling,
    place_order_idempotent,
    settle_unresolved,
)
from protocol import messages as m
from protocol.actor import ActorLink, EmitMany, Outlet, VenueActor, hand_over
from protocol.backoff import BackoffPolicy
from protocol.credentials import Credentials
from protocol.errors import (
    BrokerError,
    InvalidOrder,
    NotSupported,
    OrderNotFound,
    ProtocolViolation,
)
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    EarnAllocation,
    EarnStrategy,
    Fill,
    FundingRate,
    Instrument,
    LeverageInfo,
    MarketClock,
    MarketDay,
    MarketType,
    MarkPrice,
    OpenInterest,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    Ticker,
    Trade,
    new_client_order_id,
    utc_now,
)

log = logging.getLogger(__name__)

Emit = Callable[[m.EventMsg], Awaitable[None]]
"""Where a stream hands parsed events (in arrival order, never dropping)."""


@attrs.frozen
class BrokerSettings:
    """What a venue client needs to start: endpoints, credentials and venue-specific options.

    Switching between an emulator, a testnet and the real venue changes only these values.
    """

    venue: str
    rest_url: str
    ws_url: str
    credentials: Credentials | None = None
    private_ws_url: str | None = None
    testnet: bool = False
    request_timeout: float = 10.0
    recv_window_ms: int = 5000
    options: dict[str, str] = attrs.field(factory=dict)
    public_backoff: BackoffPolicy = attrs.field(factory=BackoffPolicy)
    """How a dropped public (market-data) socket re-opens itself (the supervisor's policy by default)."""
    seed: int | None = None  # seeds the jitter of those re-opens (tests); None draws from the OS


@attrs.frozen
class Subscription:
    symbol: str
    channel: m.StreamChannel


class Broker(abc.ABC):
    """One venue's client. Methods raise `protocol.errors` types, never return placeholder values."""

    venue: str
    # The public channels this venue streams; a subscription to any other is refused (NotSupported).
    stream_channels: frozenset[m.StreamChannel] = frozenset(
        {m.StreamChannel.TICKER, m.StreamChannel.TRADES, m.StreamChannel.CANDLES, m.StreamChannel.BOOK})

    # ------------------------------------------------------------------ lifecycle
    @abc.abstractmethod
    async def connect(self) -> None:
        """Open the REST channel, check credentials, sync the clock offset and load instruments."""

    @abc.abstractmethod
    async def disconnect(self) -> None: ...

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool: ...

    @abc.abstractmethod
    def instruments(self) -> list[Instrument]:
        """Instruments loaded by `connect` (unified symbol order)."""

    @abc.abstractmethod
    def instrument(self, symbol: str) -> Instrument:
        """The instrument of a unified symbol; an unknown one is `InvalidOrder(filter="SYMBOL")`
        (venues on the chassis answer from their `brokers.instruments.InstrumentIndex`)."""

    # ------------------------------------------------------------------ account
    async def get_balance(self, currency: str) -> Balance:
        """One currency from `get_balances`; zero (not None) when nothing is held."""
        for balance in await self.get_balances():
            if balance.currency == currency:
                return balance
        return Balance(venue=self.venue, currency=currency, free=Decimal(0), locked=Decimal(0))

    @abc.abstractmethod
    async def get_balances(self) -> list[Balance]: ...

    @abc.abstractmethod
    async def get_account_info(self) -> AccountInfo: ...

    # ------------------------------------------------------------------ market data
    @abc.abstractmethod
    async def get_ticker(self, symbol: str) -> Ticker:
        """Latest price (`last`) with best bid/ask; the contract's get_current_price."""

    @abc.abstractmethod
    async def get_candles(self, symbol: str, interval: str, limit: int) -> list[Candle]: ...

    # ------------------------------------------------------------------ positions
    @abc.abstractmethod
    async def get_positions(self) -> list[Position]: ...

    async def get_position(self, symbol: str) -> Position:
        """The position in ``symbol``; a FLAT position (quantity 0) when there is none."""
        for position in await self.get_positions():
            if position.symbol == symbol:
                return position
        return self.flat_position(symbol)

    @abc.abstractmethod
    def flat_position(self, symbol: str) -> Position: ...

    # ------------------------------------------------------------------ orders
    @abc.abstractmethod
    async def place_order(self, request: OrderRequest) -> Order:
        """Send one order. ``request.client_order_id`` is always set by the actor loop."""

    @abc.abstractmethod
    async def cancel_order(self, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order: ...

    @abc.abstractmethod
    async def get_order_status(self, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order:
        """Raise `OrderNotFound` if the venue does not know the order."""

    @abc.abstractmethod
    async def get_orders(self, symbol: str | None = None, *, open_only: bool = True) -> list[Order]: ...

    @abc.abstractmethod
    async def get_fills(self, symbol: str, *, since: datetime | None = None, limit: int = 500) -> list[Fill]:
        """Our executions in ``symbol`` at or after ``since``, oldest first."""

    def resend_rule(self) -> ResendRule:
        """When an order whose answer was lost may be sent again: the venue's own bound, as data
        (brokers/placement.py; brokers/README.md, "Order entry"). The default promises nothing, which is
        safe: the order is looked up, and reported as `OrderOutcomeUnknown` if it cannot be found."""
        return NO_GUARANTEE

    # ------------------------------------------------------------------ leverage
    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        raise NotSupported(f"{self.venue} has no leverage for {symbol}", venue=self.venue)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> LeverageInfo:
        raise NotSupported(f"{self.venue} cannot set leverage for {symbol}", venue=self.venue)

    # ------------------------------------------------------------------ streams
    @abc.abstractmethod
    async def run_public_stream(self, subscriptions: set[Subscription], emit: Emit, *,
                                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Stream market data for ``subscriptions`` for as long as the broker runs.

        Call ``task_status.started()`` once subscribed; a failure before that raises (the actor does not
        connect). After it, a failing public socket re-opens itself and resubscribes the whole set,
        reporting its drop and recovery as `BrokerStatus` (``market_data_degraded``) through ``emit``
        (`brokers.stream.run_public_socket`), so market data never restarts the actor. The set may grow
        while running: `subscribe` is called for additions.
        """

    async def subscribe(self, added: Iterable[Subscription]) -> None:  # noqa: B027 - optional hook
        """Add subscriptions to a live public stream (default: picked up on the next connection)."""

    @abc.abstractmethod
    async def run_private_stream(self, emit: Emit, *,
                                 task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Stream our order updates, fills and balance/position changes until failure (then raise)."""

    # ------------------------------------------------------------------ contract extensions (design §11)
    # What only some venues do. The defaults answer NotSupported (never a fake value); a venue that can
    # do it overrides the method. The router routes these like any command, with no venue special case.
    def _unsupported(self, what: str) -> NotSupported:
        return NotSupported(f"{self.venue} does not support {what}", venue=self.venue)

    async def amend_order(self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None,
                          quantity: Decimal | None = None, price: Decimal | None = None,
                          stop_price: Decimal | None = None, new_client_order_id: str | None = None) -> Order:
        """Change a live order's quantity / price / stop price (amend in place, or replace)."""
        raise self._unsupported("amending orders")

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (of ``symbol``); the default cancels them one by one."""
        cancelled: list[Order] = []
        for order in await self.get_orders(symbol, open_only=True):
            try:
                cancelled.append(await self.cancel_order(order.symbol, order_id=order.order_id))
            except OrderNotFound:
                continue  # finished meanwhile: nothing left to cancel
        return cancelled

    async def cancel_all_after(self, seconds: int) -> datetime | None:
        """Arm (``seconds`` > 0) or disarm (0) the venue's dead man's switch; the trigger time or None."""
        raise self._unsupported("a dead man's switch (cancel all after)")

    def close_position_request(self, position: Position, quantity: Decimal, client_order_id: str) -> OrderRequest:
        """The order that flattens ``quantity`` of ``position``: a market order on the other side,
        reduce-only where the venue has the notion (derivatives). Venues override where closing needs
        more (Kraken margin closes with an opposite order at the position's leverage)."""
        return OrderRequest(
            venue=position.venue, symbol=position.symbol,
            side=Side.SELL if position.side is PositionSide.LONG else Side.BUY, type=OrderType.MARKET,
            quantity=quantity, client_order_id=client_order_id,
            reduce_only=position.market_type in (MarketType.LINEAR, MarketType.INVERSE))

    async def get_historical_candles(self, symbol: str, interval: str, start: datetime, end: datetime | None,
                                     limit: int) -> list[Candle]:
        """Candles from ``start`` to ``end``, oldest first, paged back within the venue's limits."""
        raise self._unsupported("historical candles")

    async def get_trades(self, symbol: str, *, limit: int = 100, start: datetime | None = None,
                         end: datetime | None = None) -> list[Trade]:
        raise self._unsupported("public trade history")

    async def get_funding_rate(self, symbol: str) -> FundingRate:
        raise self._unsupported("funding rates")

    async def get_funding_history(self, symbol: str, *, start: datetime | None = None, end: datetime | None = None,
                                  limit: int = 100) -> list[FundingRate]:
        raise self._unsupported("funding rate history")

    async def get_mark_price(self, symbol: str) -> MarkPrice:
        raise self._unsupported("mark prices")

    async def get_open_interest(self, symbol: str) -> OpenInterest:
        raise self._unsupported("open interest")

    async def get_market_clock(self) -> MarketClock:
        raise self._unsupported("a market clock (it trades around the clock)")

    async def get_market_calendar(self, start: date, end: date) -> list[MarketDay]:
        raise self._unsupported("a market calendar (it trades around the clock)")

    async def get_earn_strategies(self, asset: str | None = None) -> list[EarnStrategy]:
        raise self._unsupported("Earn / staking")

    async def get_earn_allocations(self) -> list[EarnAllocation]:
        raise self._unsupported("Earn / staking")

    async def earn_allocate(self, strategy_id: str, amount: Decimal) -> bool:
        """Start allocating; True while the venue is still processing it (poll `earn_status`)."""
        raise self._unsupported("Earn / staking")

    async def earn_deallocate(self, strategy_id: str, amount: Decimal) -> bool:
        raise self._unsupported("Earn / staking")

    async def earn_status(self, strategy_id: str, *, deallocation: bool = False) -> bool:
        """True while the last (de)allocation of ``strategy_id`` is still pending at the venue."""
        raise self._unsupported("Earn / staking")


BrokerFactory = Callable[[BrokerSettings], Broker]


# ============================================================================== per-venue state


@attrs.define
class SeenSet:
    """A bounded set remembering the most recent keys (fill ids); old ones age out first.

    10,000 is far more than a reconciliation can bring back twice (it re-reads from one second before
    the last fill seen) or a retry can repeat (seconds later), and keeps each set near 2 MB: the
    30-minute soak at ~11 orders/s per venue showed 50,000 was still filling, so memory kept rising."""

    capacity: int = 10_000
    _keys: OrderedDict[str, None] = attrs.field(factory=OrderedDict)

    def add(self, key: str) -> bool:
        """Remember ``key``; False if it was already known."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.capacity:
            self._keys.popitem(last=False)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)


@attrs.define
class BrokerState:
    """What a venue's actor remembers across reconnects (owned by its supervisor)."""

    venue: str
    subscriptions: set[Subscription] = attrs.field(factory=set)
    seen_fills: SeenSet = attrs.field(factory=SeenSet)
    fill_watermark: dict[str, datetime] = attrs.field(factory=dict)
    orders: dict[str, Order] = attrs.field(factory=dict)  # by client order id, latest merged view
    filled_from_fills: dict[str, Decimal] = attrs.field(factory=dict)  # cumulative qty we emitted
    submitted: SeenSet = attrs.field(factory=SeenSet)  # client ids we have tried to place (bounded)
    # Orders whose outcome is not known yet (taken for placement, or sent with the answer lost), by client id:
    # each is resolved by an order event (brokers/placement.py). `claims` keeps one task per client id.
    unresolved: dict[str, Unresolved] = attrs.field(factory=dict)
    claims: Claims = attrs.field(factory=Claims)
    active_symbols: set[str] = attrs.field(factory=set)
    reconciliations: int = 0
    # Fills before this are history, never delivered (None: the venue's whole history is new to us).
    history_start: datetime | None = None

    def is_history(self, fill: Fill) -> bool:
        return self.history_start is not None and fill.timestamp < self.history_start

    def merge_order(self, order: Order) -> Order | None:
        """Fold an update into our view; return the merged order if it moves forward, else None."""
        known = self.orders.get(order.client_order_id)
        self.active_symbols.add(order.symbol)
        if known is None or (known.status is OrderStatus.REJECTED and not known.order_id and order.order_id):
            # (A REJECTED with no venue id is `never_placed`: that attempt never reached the venue. An order the
            # venue did take with the same client id, after the caller retried, supersedes it.)
            self.orders[order.client_order_id] = order
            if len(self.orders) > 5_000:
                self._trim_orders()  # orders first seen already finished (market orders) count too
            return order
        if order.filled_quantity < known.filled_quantity:
            return None  # stale: cumulative fill never goes back
        if order.filled_quantity == known.filled_quantity and order.status.rank <= known.status.rank:
            if order.status == known.status:
                return None
            if known.status.is_terminal or order.status.rank < known.status.rank:
                return None
        merged = order
        if known.status.is_terminal and not order.status.is_terminal:
            merged = msgspec.structs.replace(order, status=known.status)
        self.orders[order.client_order_id] = merged
        if merged.status.is_terminal:
            self._trim_orders()
        return merged

    def _trim_orders(self, keep: int = 5_000) -> None:
        if len(self.orders) <= keep:
            return
        for cid in [c for c, o in self.orders.items() if o.status.is_terminal][: len(self.orders) - keep]:
            del self.orders[cid]
            self.filled_from_fills.pop(cid, None)  # a long-finished order's fill count goes with it

    def open_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if not o.status.is_terminal]

    def expect(self, command: m.CommandMsg, owner: object) -> None:
        """A placement taken from the mailbox: from this moment until an answer or an order event, its outcome
        counts as unknown (should the actor die before answering, the next incarnation resolves it)."""
        if isinstance(command, m.PlaceOrder) and command.request.client_order_id is not None:
            cid = command.request.client_order_id
            if cid not in self.unresolved:
                self.unresolved[cid] = Unresolved(command.request, owner=owner)


# ============================================================================== the actor loop


@attrs.define
class EventGate:
    """The single path from streams and reconciliation to the router.

    Fills pass once (by venue trade id) and in order per order; order updates only move forward.
    While ``hold`` is set (during reconciliation) stream events queue up and are released afterwards,
    so a fill reported both by REST and by the stream reaches subscribers exactly once.
    """

    state: BrokerState
    out: Emit
    resync_fills: Callable[[str], Awaitable[list[Fill]]] | None = None
    hold: bool = True
    out_many: EmitMany | None = None  # where a burst with no order or fill in it goes at once
    sightings: Sightings = attrs.field(factory=Sightings)  # placements waiting for an order, by client id
    _held: list[m.EventMsg] = attrs.field(factory=list)

    async def from_stream(self, event: m.EventMsg) -> None:
        if isinstance(event, Order):
            self.sightings.saw(event)  # even while held: a placement waiting for it need not wait longer
        if self.hold:
            self._held.append(event)
            return
        await self.deliver(event)

    async def from_stream_many(self, events: list[m.EventMsg]) -> None:
        """A stream's burst (`protocol.actor.Outlet.many`): as `from_stream` for each, in order."""
        if self.hold:
            for event in events:
                if isinstance(event, Order):
                    self.sightings.saw(event)
            self._held.extend(events)
            return
        await self.deliver_many(events)

    def outlet(self) -> Outlet:
        """What the streams emit into: event by event, or a burst at once."""
        return Outlet(self.from_stream, self.from_stream_many)

    async def deliver_many(self, events: list[m.EventMsg]) -> None:
        """`deliver` for each of ``events``, in order; the runs between orders and fills (which pass the
        checks one by one) go out at once when the router takes bursts."""
        out_many = self.out_many
        if not events:
            return
        if out_many is None:
            for event in events:
                await self.deliver(event)
            return
        start = 0
        for at, event in enumerate(events):
            if isinstance(event, (Fill, Order)):
                if at > start:
                    await out_many(events[start:at])
                await self.deliver(event)
                start = at + 1
        if start == 0:
            await out_many(events)  # the common case: no copy
        elif start < len(events):
            await out_many(events[start:])

    async def release(self) -> None:
        held, self._held = self._held, []
        self.hold = False
        await self.deliver_many(held)

    async def deliver(self, event: m.EventMsg) -> None:
        if isinstance(event, Fill):
            await self._deliver_fill(event)
        elif isinstance(event, Order):
            self.sightings.saw(event)
            merged = self.state.merge_order(event)
            if merged is not None:
                await self.out(merged)
        else:
            await self.out(event)

    def _fill_key(self, fill: Fill) -> str:
        return fill_key(fill.symbol, fill.trade_id)

    async def _deliver_fill(self, fill: Fill) -> None:
        if self._fill_key(fill) in self.state.seen_fills:
            return
        if self._skips_a_fill(fill) and self.resync_fills is not None:
            # A stream message went missing or came out of order: take the venue's own log, which is
            # complete and ordered, and let de-dup drop whatever already went out.
            for missed in await self.resync_fills(fill.symbol):
                if missed.client_order_id == fill.client_order_id and self.is_new_fill(missed):
                    await self._emit_fill(missed)
            if not self.is_new_fill(fill):
                return
        await self._emit_fill(fill)

    def _skips_a_fill(self, fill: Fill) -> bool:
        if fill.order_filled_quantity is None:
            return False
        emitted = self.state.filled_from_fills.get(fill.client_order_id, Decimal(0))
        return fill.order_filled_quantity - fill.quantity > emitted

    async def _emit_fill(self, fill: Fill) -> None:
        self.state.seen_fills.add(self._fill_key(fill))
        self.state.active_symbols.add(fill.symbol)
        cid = fill.client_order_id
        self.state.filled_from_fills[cid] = self.state.filled_from_fills.get(cid, Decimal(0)) + fill.quantity
        mark = self.state.fill_watermark.get(fill.symbol)
        if mark is None or fill.timestamp > mark:
            self.state.fill_watermark[fill.symbol] = fill.timestamp
        await self.out(fill)

    def is_new_fill(self, fill: Fill) -> bool:
        return self._fill_key(fill) not in self.state.seen_fills


async def reconcile(broker: Broker, state: BrokerState, gate: EventGate) -> None:
    """Emit, exactly once, every order change and fill missed while disconnected (design §4 step 3).

    Open orders come from the venue; orders we knew as open but the venue no longer lists are looked
    up one by one for their final state; fills are fetched per active symbol from the last watermark;
    orders whose outcome was left unknown are looked up and resolved where the venue allows.
    """
    venue_open = await broker.get_orders(None, open_only=True)
    listed = {o.client_order_id for o in venue_open}
    symbols = set(state.active_symbols) | {o.symbol for o in venue_open}
    for order in venue_open:
        await gate.deliver(order)
    for known in state.open_orders():
        if known.client_order_id in listed:
            continue
        try:
            final = await broker.get_order_status(known.symbol, client_order_id=known.client_order_id)
        except OrderNotFound:
            continue
        await gate.deliver(final)
    await reconcile_fills(broker, state, gate, symbols)
    await settle_unresolved(broker, state, gate)  # orders left unknown: found, or proven never executed
    state.reconciliations += 1


async def reconcile_fills(broker: Broker, state: BrokerState, gate: EventGate, symbols: Iterable[str]) -> None:
    for symbol in sorted(symbols):
        mark = state.fill_watermark.get(symbol)
        # Venue times have millisecond resolution; start one second early and let the de-dup drop repeats.
        since = state.history_start if mark is None else mark - timedelta(seconds=1)
        while True:  # a venue answers one page (the oldest): read on until a short one
            page = await broker.get_fills(symbol, since=since)
            for fill in page:
                if not state.is_history(fill):
                    await gate.deliver(fill)
            if len(page) < 500 or page[-1].timestamp == since:
                break
            since = page[-1].timestamp


def fill_key(symbol: str, trade_id: str) -> str:
    """How a venue's fills are told apart: its trade ids are unique per symbol."""
    return f"{symbol}|{trade_id}"


async def execute_command(broker: Broker, state: BrokerState, command: m.CommandMsg,
                          gate: EventGate | None = None) -> m.ReplyMsg:
    """Run one command against the broker and wrap the result (or typed error) in its reply (``gate``: where a
    placement whose answer was lost watches the private stream for it)."""
    cid = command.id
    try:
        match command:
            case m.PlaceOrder(request=request):
                if request.client_order_id is None:
                    request = msgspec.structs.replace(request, client_order_id=new_client_order_id())
                return m.OrderReply(id=cid, order=await place_order_idempotent(broker, state, request, gate))
            case m.CancelOrder(symbol=symbol, order_id=oid, client_order_id=coid):
                return m.OrderReply(id=cid, order=await cancel_order_safely(
                    broker, symbol, order_id=oid, client_order_id=coid))
            case m.GetOrderStatus(symbol=symbol, order_id=oid, client_order_id=coid):
                return m.OrderReply(id=cid, order=await broker.get_order_status(
                    symbol, order_id=oid, client_order_id=coid))
            case m.GetOrders(symbol=symbol, open_only=open_only):
                return m.OrdersReply(id=cid, orders=await broker.get_orders(symbol, open_only=open_only))
            case m.GetFills(symbol=symbol, since=since, limit=limit):
                return m.FillsReply(id=cid, fills=await broker.get_fills(symbol, since=since, limit=limit))
            case m.GetBalance(currency=currency):
                return m.BalanceReply(id=cid, balance=await broker.get_balance(currency))
            case m.GetBalances():
                return m.BalancesReply(id=cid, balances=await broker.get_balances())
            case m.GetAccountInfo():
                return m.AccountInfoReply(id=cid, account=await broker.get_account_info())
            case m.GetTicker(symbol=symbol):
                return m.TickerReply(id=cid, ticker=await broker.get_ticker(symbol))
            case m.GetCandles(symbol=symbol, interval=interval, limit=limit):
                return m.CandlesReply(id=cid, candles=await broker.get_candles(symbol, interval, limit))
            case m.GetPositions():
                return m.PositionsReply(id=cid, positions=await broker.get_positions())
            case m.GetPosition(symbol=symbol):
                return m.PositionReply(id=cid, position=await broker.get_position(symbol))
            case m.GetLeverageInfo(symbol=symbol):
                return m.LeverageReply(id=cid, leverage=await broker.get_leverage_info(symbol))
            case m.SetLeverage(symbol=symbol, leverage=leverage):
                return m.LeverageReply(id=cid, leverage=await broker.set_leverage(symbol, leverage))
            case m.GetInstruments():
                return m.InstrumentsReply(id=cid, instruments=broker.instruments())
            case m.Subscribe(symbols=symbols, channels=channels):
                for symbol in symbols:
                    broker.instrument(symbol)  # unknown symbols fail here, typed
                unserved = sorted(set(channels) - broker.stream_channels)
                if unserved:
                    raise NotSupported(f"{broker.venue} does not stream {', '.join(unserved)} (it streams "
                                       f"{', '.join(sorted(broker.stream_channels))})", venue=broker.venue)
                added = {Subscription(s, c) for s in symbols for c in channels} - state.subscriptions
                state.subscriptions |= added
                await broker.subscribe(added)
                return m.AckReply(id=cid)
            case m.Unsubscribe(symbols=symbols, channels=channels):
                state.subscriptions -= {Subscription(s, c) for s in symbols for c in channels}
                return m.AckReply(id=cid)
            case _:
                return await _execute_extension(broker, state, command, gate)
    except BrokerError as error:
        return m.ErrorReply(id=cid, error=error.to_info())


async def _execute_extension(broker: Broker, state: BrokerState, command: m.CommandMsg,
                             gate: EventGate | None) -> m.ReplyMsg:
    """The contract extensions (design §11): same shape as `execute_command`, kept apart for length."""
    cid = command.id
    try:
        match command:
            case m.AmendOrder():
                return m.OrderReply(id=cid, order=await broker.amend_order(
                    command.symbol, order_id=command.order_id, client_order_id=command.client_order_id,
                    quantity=command.quantity, price=command.price, stop_price=command.stop_price,
                    new_client_order_id=command.new_client_order_id))
            case m.CancelAllOrders(symbol=symbol):
                return m.OrdersReply(id=cid, orders=await broker.cancel_all_orders(symbol))
            case m.CancelAllAfter(seconds=seconds):
                if seconds < 0:
                    raise InvalidOrder("cancel-all-after needs seconds >= 0 (0 disarms)", venue=broker.venue)
                return m.DeadManSwitchReply(id=cid, trigger_at=await broker.cancel_all_after(seconds))
            case m.ClosePosition(symbol=symbol, quantity=quantity, client_order_id=coid):
                position = await broker.get_position(symbol)
                if position.side is PositionSide.FLAT or position.quantity <= 0:
                    raise InvalidOrder(f"no open position in {symbol} to close", venue=broker.venue,
                                       filter="POSITION")
                size = position.quantity if quantity is None else min(quantity, position.quantity)
                request = broker.close_position_request(position, size, coid or new_client_order_id())
                return m.OrderReply(id=cid, order=await place_order_idempotent(broker, state, request, gate))
            case m.GetHistoricalCandles():
                return m.CandlesReply(id=cid, candles=await broker.get_historical_candles(
                    command.symbol, command.interval, command.start, command.end, command.limit))
            case m.GetTrades(symbol=symbol, limit=limit, start=start, end=end):
                return m.TradesReply(id=cid, trades=await broker.get_trades(symbol, limit=limit, start=start,
                                                                             end=end))
            case m.GetFundingRate(symbol=symbol):
                return m.FundingRateReply(id=cid, funding=await broker.get_funding_rate(symbol))
            case m.GetFundingHistory(symbol=symbol, start=start, end=end, limit=limit):
                return m.FundingHistoryReply(id=cid, rates=await broker.get_funding_history(
                    symbol, start=start, end=end, limit=limit))
            case m.GetMarkPrice(symbol=symbol):
                return m.MarkPriceReply(id=cid, mark=await broker.get_mark_price(symbol))
            case m.GetOpenInterest(symbol=symbol):
                return m.OpenInterestReply(id=cid, open_interest=await broker.get_open_interest(symbol))
            case m.GetMarketClock():
                return m.MarketClockReply(id=cid, clock=await broker.get_market_clock())
            case m.GetMarketCalendar(start=start_day, end=end_day):
                return m.MarketCalendarReply(id=cid, days=await broker.get_market_calendar(start_day, end_day))
            case m.GetEarnStrategies(asset=asset):
                return m.EarnStrategiesReply(id=cid, strategies=await broker.get_earn_strategies(asset))
            case m.GetEarnAllocations():
                return m.EarnAllocationsReply(id=cid, allocations=await broker.get_earn_allocations())
            case m.EarnAllocate(strategy_id=strategy, amount=amount):
                return m.EarnStatusReply(id=cid, strategy_id=strategy,
                                         pending=await broker.earn_allocate(strategy, amount))
            case m.EarnDeallocate(strategy_id=strategy, amount=amount):
                return m.EarnStatusReply(id=cid, strategy_id=strategy,
                                         pending=await broker.earn_deallocate(strategy, amount))
            case m.GetEarnStatus(strategy_id=strategy, deallocation=deallocation):
                return m.EarnStatusReply(id=cid, strategy_id=strategy,
                                         pending=await broker.earn_status(strategy, deallocation=deallocation))
            case _:
                raise NotSupported(f"unknown command {type(command).__name__}", venue=broker.venue)
    except BrokerError as error:
        return m.ErrorReply(id=cid, error=error.to_info())


def broker_actor(make_broker: Callable[[], Broker], state: BrokerState) -> VenueActor:
    """The venue actor the router supervises: a fresh broker per incarnation, one lasting state."""

    async def actor(link: ActorLink, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await run_broker_actor(make_broker(), state, link, task_status=task_status)

    return actor


async def run_broker_actor(
    broker: Broker,
    state: BrokerState,
    link: ActorLink,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """One incarnation of a venue's actor: connect, stream, reconcile, then serve until failure.

    ``task_status.started()`` is the CONNECTED moment: streams are live and reconciliation is done.
    Any fatal error propagates to the supervisor; `finally` disconnects.
    """
    async def resync(symbol: str) -> list[Fill]:
        mark = state.fill_watermark.get(symbol)
        since = state.history_start if mark is None else mark - timedelta(seconds=1)
        return [fill for fill in await broker.get_fills(symbol, since=since) if not state.is_history(fill)]

    gate = EventGate(state, link.events, resync_fills=resync, out_many=link.events_many)
    try:
        await broker.connect()
        unlisted = drop_unlisted_subscriptions(broker, state)
        async with trio.open_nursery() as nursery:
            await nursery.start(broker.run_private_stream, gate.from_stream)
            await nursery.start(broker.run_public_stream, state.subscriptions, gate.outlet())
            await reconcile(broker, state, gate)
            await gate.release()
            nursery.start_soon(keep_settling, broker, state, gate)
            task_status.started()
            if unlisted is not None:
                await gate.deliver(unlisted)
            async for command in link.commands:
                state.expect(command, owner=gate)  # before any checkpoint: taken means its outcome is ours to tell
                nursery.start_soon(_serve_one, broker, state, gate, command, link.replies)
            raise ProtocolViolation("router closed the command channel", venue=broker.venue,
                                    retryable=False)
    finally:
        with trio.CancelScope(shield=True), trio.move_on_after(2):
            await broker.disconnect()


def drop_unlisted_subscriptions(broker: Broker, state: BrokerState) -> m.BrokerStatus | None:
    """Remove subscriptions the venue cannot serve (symbols it does not list, channels it does not
    stream: configured ones never went through `Subscribe`'s checks) and say so once, typed."""
    unknown = sorted({sub.symbol for sub in state.subscriptions if not _lists(broker, sub.symbol)})
    unserved = sorted({sub.channel for sub in state.subscriptions} - broker.stream_channels)
    if not unknown and not unserved:
        return None
    state.subscriptions -= {sub for sub in state.subscriptions if sub.symbol in unknown or sub.channel in unserved}
    said = [f"{broker.venue} lists no {', '.join(unknown)}"] if unknown else []
    said += [f"{broker.venue} does not stream {', '.join(unserved)}"] if unserved else []
    log.error("%s: subscriptions removed: %s", broker.venue, "; ".join(said))
    return m.BrokerStatus(venue=broker.venue, state=m.ConnectionState.CONNECTED, unknown_symbols=unknown,
                          reason="subscriptions removed: " + "; ".join(said), timestamp=utc_now())


def _lists(broker: Broker, symbol: str) -> bool:
    try:
        broker.instrument(symbol)
    except InvalidOrder:
        return False
    return True


async def _serve_one(broker: Broker, state: BrokerState, gate: EventGate, command: m.CommandMsg,
                     replies: trio.MemorySendChannel[m.ReplyMsg]) -> None:
    reply = await execute_command(broker, state, command, gate)
    # The order event goes out before the reply: a caller that saw the reply can count on the event (REST and
    # stream race to report an order change; the gate passes whichever is first).
    if isinstance(reply, m.OrderReply):
        await gate.deliver(reply.order)
    elif isinstance(reply, m.OrdersReply) and isinstance(command, m.CancelAllOrders):
        for order in reply.orders:
            await gate.deliver(order)
    await hand_over(replies, reply)
