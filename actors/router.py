"""The router actor: the one place strategies, the daemon and broker actors meet (design §2).

Commands go in with a correlation id and come back as replies on the caller's wait; broker actors
only ever see msgspec messages on memory channels. Events from every venue are fanned out to
subscribers filtered by venue, symbol and kind, each with a bounded buffer:

- market data (ticker, trade, candle, book) drops the *oldest* buffered item when a subscriber is
  behind — a strategy wants the latest price, not a backlog;
- order updates, fills, balances, positions and status are never dropped: they have their own larger
  buffer, and a subscriber that lets it fill up is closed with `SubscriberOverflow` (its iterator
  raises) rather than slowing every other subscriber or silently losing a fill.

Risk checks (`actors.risk`) run here, before an order reaches any broker. The typed API strategies
use on top of it is `actors.handle`.

Placements in flight are kept per (venue, client order id): a caller retrying one while the first call is
unanswered gets the first call's outcome, never a second order. A placement whose answer cannot come (no
reply within `command_timeout`, or its actor died after taking it) is answered `OrderOutcomeUnknown`, and an
order event follows later: from the venue's actor, which resolves it (brokers/placement.py), or from here when
the actor's late answer is a refusal. One the actor never took is `NotConnected`: it was never sent.

A venue's status has two sources: the supervisor's transitions (connecting, connected, reconnecting,
stopped) and what a connected broker reports about itself on its event channel (market data degraded,
symbols the venue does not list, its trading session). The router keeps both in one `BrokerStatus`
per venue: the state comes only from the supervisor, the rest from the venue's latest report (whose session
stays as last said when a report says nothing about it).
"""

from __future__ import annotations

import itertools
import logging
import random
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from decimal import Decimal
from typing import TypeVar

import attrs
import msgspec
import trio

from actors.journal import Journal
from actors.risk import RiskEngine, RiskLimits
from actors.supervisor import BackoffPolicy, SupervisorStats, supervise
from protocol import messages as m
from protocol.actor import ActorLink, Emit, EmitMany, VenueActor, hand_over
from protocol.errors import (
    BrokerError,
    NotConnected,
    OrderNotFound,
    OrderOutcomeUnknown,
    RiskRejected,
    SubscriberOverflow,
    VenueUnavailable,
    error_from_info,
)
from protocol.model import (
    Instrument,
    Order,
    OrderRequest,
    Position,
    Ticker,
    Trade,
    never_placed,
    new_client_order_id,
)

log = logging.getLogger(__name__)

R = TypeVar("R", bound=m.Reply)


# ============================================================================ subscribers


@attrs.define(eq=False)
class EventSubscriber:
    """One consumer's filtered, bounded view of the event stream. Iterate it with ``async for``."""

    venues: frozenset[str] | None
    symbols: frozenset[str] | None
    kinds: frozenset[m.EventKind] | None
    market_capacity: int = 1024
    critical_capacity: int = 100_000
    dropped: int = 0
    # Market data and critical events keep their arrival order between them without a sequence number
    # per event: a critical event remembers how many market events had arrived before it, and goes
    # out once that many have gone out (or been dropped).
    _market: deque[m.EventMsg] = attrs.field(factory=deque)
    _critical: deque[tuple[int, m.EventMsg]] = attrs.field(factory=deque)
    _market_in: int = 0  # market events ever buffered
    _market_out: int = 0  # market events ever taken or dropped
    _wakeup: trio.Event = attrs.field(factory=trio.Event)
    _error: BrokerError | None = None
    _closed: bool = False

    def wants(self, event: m.EventMsg, kind: m.EventKind) -> bool:
        if self.kinds is not None and kind not in self.kinds:
            return False
        if self.venues is not None and getattr(event, "venue", None) not in self.venues:
            return False
        if self.symbols is not None and kind is not m.EventKind.STATUS:
            symbol = m.event_symbol(event)
            if symbol is not None and symbol not in self.symbols:
                return False
        return True

    def offer(self, event: m.EventMsg, kind: m.EventKind) -> None:
        if self._closed:
            return
        if kind.droppable:
            self._buffer_market(event)
        else:
            if len(self._critical) >= self.critical_capacity:
                self.close(SubscriberOverflow(
                    f"subscriber fell {self.critical_capacity} order/fill events behind and was closed"))
                return
            self._critical.append((self._market_in, event))
        self._wakeup.set()

    def offer_market(self, venue: str, events: list[m.EventMsg], kinds: list[m.EventKind]) -> None:
        """A burst of market data from ``venue`` (``kinds[i]`` is ``events[i]``'s): what `offer` does
        for each (the oldest dropped past the capacity), with the venue checked once."""
        if self._closed or (self.venues is not None and venue not in self.venues):
            return
        wanted_kinds, symbols = self.kinds, self.symbols
        if wanted_kinds is not None or symbols is not None:
            events = [event for event, kind in zip(events, kinds, strict=True)
                      if (wanted_kinds is None or kind in wanted_kinds)
                      and (symbols is None or getattr(event, "symbol", None) in symbols
                           or getattr(event, "symbol", None) is None)]
            if not events:
                return
        market = self._market
        market.extend(events)
        self._market_in += len(events)
        over = len(market) - self.market_capacity
        if over > 0:  # as if appended one by one, each dropping the oldest once full
            for _ in range(over):
                market.popleft()
            self._market_out += over
            self.dropped += over
        self._wakeup.set()

    def _buffer_market(self, event: m.EventMsg) -> None:
        market = self._market
        if len(market) >= self.market_capacity:
            market.popleft()
            self._market_out += 1
            self.dropped += 1
        market.append(event)
        self._market_in += 1

    def close(self, error: BrokerError | None = None) -> None:
        self._closed = True
        self._error = error
        self._wakeup.set()

    def pending(self) -> int:
        return len(self._market) + len(self._critical)

    def get_nowait(self) -> m.EventMsg | None:
        critical = self._critical
        if critical and critical[0][0] <= self._market_out:
            return critical.popleft()[1]
        if self._market:
            self._market_out += 1
            return self._market.popleft()
        if critical:
            return critical.popleft()[1]
        return None

    async def get(self) -> m.EventMsg:
        market = self._market
        if market and not self._critical and self._error is None:  # the hot path: market data waiting
            self._market_out += 1
            return market.popleft()
        while True:
            if self._error is not None and not self._critical:
                raise self._error
            event = self.get_nowait()
            if event is not None:
                return event
            if self._closed:
                if self._error is not None:
                    raise self._error
                raise trio.EndOfChannel
            self._wakeup = trio.Event()
            await self._wakeup.wait()

    def __aiter__(self) -> AsyncIterator[m.EventMsg]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[m.EventMsg]:
        while True:
            try:
                yield await self.get()
            except trio.EndOfChannel:
                return


# ============================================================================ venues


@attrs.define(eq=False)
class VenueRuntime:
    """The router's side of one venue: its actor's mailbox (while connected) and lasting state."""

    name: str
    actor: VenueActor
    stats: SupervisorStats = attrs.field(factory=SupervisorStats)
    mailbox: trio.MemorySendChannel[m.CommandMsg] | None = None
    inbox: trio.MemoryReceiveChannel[m.CommandMsg] | None = None  # the actor's end: what it has not taken yet
    status: m.BrokerStatus | None = None  # the supervisor's state merged with `reported`
    supervised: m.BrokerStatus | None = None  # the supervisor's latest transition
    reported: m.BrokerStatus | None = None  # the venue's latest report about itself
    connected: trio.Event = attrs.field(factory=trio.Event)
    changed: trio.Event = attrs.field(factory=trio.Event)  # set (and replaced) on every status change


@attrs.define(eq=False)
class _Pending:
    """A command sent to a venue's actor. ``done``: its caller has an answer (``reply``: the actor's, or the
    router's verdict). ``settled``: the actor answered, or never will (its incarnation ended)."""

    venue: str
    command: m.CommandMsg
    done: trio.Event = attrs.field(factory=trio.Event)
    reply: m.ReplyMsg | None = None
    settled: trio.Event = attrs.field(factory=trio.Event)
    answered: m.ReplyMsg | None = None  # the actor's own reply (``reply`` may be a verdict given before it)
    told_unknown: bool = False  # a caller was told the order's outcome is unknown: it is owed an order event

    @property
    def placing(self) -> OrderRequest | None:
        return self.command.request if isinstance(self.command, m.PlaceOrder) else None

    def answer(self, reply: m.ReplyMsg) -> None:
        if not self.done.is_set():
            self.reply = reply
            self.done.set()


@attrs.define(eq=False)
class Router:
    """Routes commands to venue actors and fans their events out. Build it with `open_router_with`."""

    venues: dict[str, VenueRuntime] = attrs.field(factory=dict)
    subscribers: list[EventSubscriber] = attrs.field(factory=list)
    risk: RiskEngine = attrs.field(factory=lambda: RiskEngine(RiskLimits()))
    command_timeout: float = 30.0
    event_capacity: int = 10_000
    _pending: dict[str, _Pending] = attrs.field(factory=dict)
    # Placements in flight per (venue, client order id): a caller retrying one gets its outcome, not a second
    # order. Placements whose caller was told "outcome unknown" and whose actor may still answer: `_late`.
    _in_flight: dict[tuple[str, str], _Pending] = attrs.field(factory=dict)
    _late: OrderedDict[str, _Pending] = attrs.field(factory=OrderedDict)
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    _events_in: trio.MemorySendChannel[m.EventMsg | list[m.EventMsg]] | None = None
    _replies_in: trio.MemorySendChannel[m.ReplyMsg] | None = None
    last_prices: dict[tuple[str, str], Decimal] = attrs.field(factory=dict)
    instrument_cache: dict[str, dict[str, Instrument]] = attrs.field(factory=dict)
    events_routed: int = 0
    events_by_kind: dict[m.EventKind, int] = attrs.field(factory=lambda: dict.fromkeys(m.EventKind, 0))
    rejected: dict[tuple[str, str], int] = attrs.field(factory=dict)  # (venue, reason) -> orders refused
    journal: Journal | None = None  # orders and fills pass it (write-ahead) on their way out
    _recorded_in: trio.MemorySendChannel[m.EventMsg] | None = None

    # ------------------------------------------------------------------ actor plumbing
    def add_venue(self, name: str, actor: VenueActor) -> VenueRuntime:
        runtime = self.venues[name] = VenueRuntime(name=name, actor=actor)
        return runtime

    async def run(self, nursery: trio.Nursery, policy: BackoffPolicy, rng: random.Random) -> None:
        # Items: one event, or a burst of market data from one venue (`Outlet.many`), which counts as one.
        events_tx, events_rx = trio.open_memory_channel[m.EventMsg | list[m.EventMsg]](self.event_capacity)
        replies_tx, replies_rx = trio.open_memory_channel[m.ReplyMsg](self.event_capacity)
        self._events_in, self._replies_in = events_tx, replies_tx
        if self.journal is not None:
            recorded_tx, recorded_rx = trio.open_memory_channel[m.EventMsg](self.event_capacity)
            self._recorded_in = recorded_tx
            nursery.start_soon(self._record_then_route, self.journal, recorded_rx, events_tx)
        nursery.start_soon(self._fan_out, events_rx)
        nursery.start_soon(self._dispatch_replies, replies_rx)
        for venue in self.venues.values():
            nursery.start_soon(self._supervise_venue, venue, policy, random.Random(rng.random()))

    async def _supervise_venue(self, venue: VenueRuntime, policy: BackoffPolicy, rng: random.Random) -> None:
        assert self._events_in is not None and self._replies_in is not None
        events_in, replies_in = self._events_in, self._replies_in

        async def incarnation(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            mailbox_tx, mailbox_rx = trio.open_memory_channel[m.CommandMsg](1024)
            emit = self._venue_events(venue, events_in)
            link = ActorLink(commands=mailbox_rx, replies=replies_in, events=emit,
                             events_many=self._venue_bursts(venue, events_in, emit))
            async with trio.open_nursery() as nursery:
                await nursery.start(_run_actor, venue.actor, link)
                venue.mailbox, venue.inbox = mailbox_tx, mailbox_rx
                task_status.started()

        await supervise(venue.name, incarnation, self._publish_status, policy=policy, rng=rng,
                        on_down=lambda: self._venue_down(venue), stats=venue.stats)

    def _venue_events(self, venue: VenueRuntime,
                      channel: trio.MemorySendChannel[m.EventMsg | list[m.EventMsg]]) -> Emit:
        """The actor's event channel: statuses it reports about itself are folded into the venue's;
        with a journal, everything but market data goes through it (in order, recorded first)."""
        send = _eager_send(channel)
        recorded = self._recorded_in
        record = _eager_send(recorded) if recorded is not None else send

        async def emit(event: m.EventMsg) -> None:
            kind = m.EVENT_KIND[type(event)]
            if kind is m.EventKind.STATUS:
                assert isinstance(event, m.BrokerStatus)
                previous = venue.reported
                if event.session is None and previous is not None and previous.session is not None:
                    # A report about something else (a symbol it does not list) leaves the session as said.
                    event = msgspec.structs.replace(event, session=previous.session,
                                                    next_session_change=previous.next_session_change)
                venue.reported = event
                if venue.supervised is None:
                    return  # cannot happen (the supervisor speaks first); nothing to merge into
                event = self._merge_status(venue)
            await (send if kind.droppable else record)(event)

        return emit

    def _venue_bursts(self, venue: VenueRuntime, channel: trio.MemorySendChannel[m.EventMsg | list[m.EventMsg]],
                      emit: Emit) -> EmitMany:
        """The actor's burst channel (`protocol.actor.Outlet`): a burst of market data is fanned out at
        once, in the calling task, when nothing is queued ahead of it (the fan-out task is idle, waiting
        on an empty queue: every earlier event has reached the subscribers), else queued behind the rest
        as one item; a burst that holds anything else goes event by event through ``emit``, in order.
        Fanning out in place saves a task switch per burst: tens of microseconds of tick-to-subscriber
        latency on a loaded machine, which a quiet feed pays on every message."""
        send = _eager_send(channel)

        async def emit_many(events: list[m.EventMsg]) -> None:
            for event in events:
                if type(event) not in MARKET_TYPES:
                    for one in events:
                        await emit(one)
                    return
            if not events:
                return
            queue = channel.statistics()
            if queue.current_buffer_used == 0 and queue.tasks_waiting_receive:
                self._route_market(events)
            else:
                await send(events)  # the router owns the list from here

        return emit_many

    async def _record_then_route(self, journal: Journal, incoming: trio.MemoryReceiveChannel[m.EventMsg],
                                 out: trio.MemorySendChannel[m.EventMsg | list[m.EventMsg]]) -> None:
        """Write-ahead in batches: whatever queued while the last commit ran is committed together,
        then passed on in arrival order (see `actors.journal`)."""
        async for first in incoming:
            batch = [first]
            while len(batch) < 2_000:
                try:
                    batch.append(incoming.receive_nowait())
                except trio.WouldBlock:
                    break
            await journal.record_events(batch)
            for event in batch:
                await hand_over(out, event)

    def _merge_status(self, venue: VenueRuntime) -> m.BrokerStatus:
        supervised, reported = venue.supervised, venue.reported
        assert supervised is not None
        if reported is None:
            merged = supervised
        elif supervised.state is m.ConnectionState.CONNECTED:
            # Connected: what the venue says about itself is the news (a public socket's re-opening
            # attempt and delay, its reason); the supervisor's own attempt counter is moot meanwhile.
            merged = msgspec.structs.replace(
                supervised, attempt=reported.attempt, next_delay=reported.next_delay,
                reason=reported.reason or supervised.reason, market_data_degraded=reported.market_data_degraded,
                unknown_symbols=reported.unknown_symbols, session=reported.session,
                next_session_change=reported.next_session_change,
                timestamp=max(supervised.timestamp, reported.timestamp))
        else:
            merged = msgspec.structs.replace(
                supervised, reason=supervised.reason or reported.reason,
                market_data_degraded=reported.market_data_degraded, unknown_symbols=reported.unknown_symbols,
                session=reported.session, next_session_change=reported.next_session_change,
                timestamp=max(supervised.timestamp, reported.timestamp))
        venue.status = merged
        venue.changed.set()
        venue.changed = trio.Event()
        return merged

    async def _publish_status(self, status: m.BrokerStatus) -> None:
        venue = self.venues[status.venue]
        venue.supervised = status
        status = self._merge_status(venue)
        if status.state is m.ConnectionState.CONNECTED:
            venue.connected.set()
        elif venue.connected.is_set():
            venue.connected = trio.Event()
        assert self._events_in is not None
        await self._events_in.send(status)

    def _venue_down(self, venue: VenueRuntime) -> None:
        """Answer every command in flight to a venue whose actor just died: typed, never a hang. A placement
        its actor never took was not placed (`NotConnected`); one it took may have reached the venue
        (`OrderOutcomeUnknown`): the next incarnation resolves it and says so with an order event."""
        if venue.mailbox is not None:
            venue.mailbox.close()
        venue.mailbox = None
        never_taken = _drain(venue.inbox)
        venue.inbox = None
        if venue.reported is not None and venue.reported.market_data_degraded:
            # A new incarnation opens fresh sockets; it reports again if they stay down.
            venue.reported = msgspec.structs.replace(venue.reported, market_data_degraded=False)
        if venue.connected.is_set():
            venue.connected = trio.Event()
        for cid, pending in list(self._pending.items()):
            if pending.venue != venue.name or pending.settled.is_set():
                continue
            request = pending.placing
            if request is not None and cid not in never_taken:
                pending.answer(self._unknown(pending, f"{venue.name} disconnected while placing it"))
            else:
                note = ("; it was never sent" if request is not None else "")
                pending.answer(m.ErrorReply(id=cid, error=NotConnected(
                    f"{venue.name} disconnected while {type(pending.command).__name__} was in flight{note}",
                    venue=venue.name, client_order_id=request.client_order_id if request else None).to_info()))
            self._settle(pending, may_still_answer=True)

    def _unknown(self, pending: _Pending, why: str) -> m.ErrorReply:
        """The verdict for a placement whose answer did not come: its outcome is unknown, and it is owed an
        order event (from the venue's actor, or `_dispatch_replies` for a late refusal)."""
        request = pending.placing
        assert request is not None
        pending.told_unknown = True
        return m.ErrorReply(id=pending.command.id, error=OrderOutcomeUnknown(
            f"order {request.client_order_id}: {why}; its outcome is unknown. Retrying with the same "
            "client_order_id is safe; an order event will say what became of it", venue=pending.venue,
            client_order_id=request.client_order_id).to_info())

    def _settle(self, pending: _Pending, *, may_still_answer: bool = False) -> None:
        """The actor answered, or never will: the placement is no longer in flight. One told "unknown" whose
        actor died (``may_still_answer``: its answer may be queued already) is kept in `_late`, bounded."""
        pending.settled.set()
        request = pending.placing
        if request is not None and request.client_order_id is not None:
            key = (pending.venue, request.client_order_id)
            if self._in_flight.get(key) is pending:
                del self._in_flight[key]
        if self._pending.get(pending.command.id) is pending and pending.told_unknown:
            del self._pending[pending.command.id]  # its caller has left with the verdict
            if may_still_answer:
                self._late[pending.command.id] = pending
                while len(self._late) > LATE_ANSWERS_KEPT:
                    self._late.popitem(last=False)

    async def _dispatch_replies(self, replies: trio.MemoryReceiveChannel[m.ReplyMsg]) -> None:
        async for reply in replies:
            pending = self._pending.get(reply.id)
            late = self._late.pop(reply.id, None)
            if pending is None:
                pending = late
            if pending is None:
                continue  # the caller gave up (not a placement)
            if pending.told_unknown and isinstance(reply, m.ErrorReply) and pending.placing is not None \
                    and reply.error.kind != "OrderOutcomeUnknown":
                # The caller was told "unknown"; the venue's actor has since refused it for good: say so.
                await self._emit_order(pending.venue, never_placed(pending.placing, reply.error.message))
            pending.answered = reply
            pending.answer(reply)
            if not pending.settled.is_set():
                self._settle(pending)

    async def _emit_order(self, venue: str, order: Order) -> None:
        assert self._events_in is not None
        await self._venue_events(self.venues[venue], self._events_in)(order)

    async def _fan_out(self, events: trio.MemoryReceiveChannel[m.EventMsg | list[m.EventMsg]]) -> None:
        async for item in events:
            self._route_item(item)
            # Drain what is already queued without a scheduler round trip per item; the `async for`
            # above still checkpoints.
            while True:
                try:
                    item = events.receive_nowait()
                except trio.WouldBlock:
                    break
                self._route_item(item)

    def _route_item(self, item: m.EventMsg | list[m.EventMsg]) -> None:
        if isinstance(item, list):
            self._route_market(item)
        else:
            self._route(item)

    def _route_market(self, events: list[m.EventMsg]) -> None:
        """A burst of market data from one venue: what `_route` does for each event, with the per-burst
        work (venue filter, last prices, the wake-up) done once."""
        self.events_routed += len(events)
        by_kind, event_kind = self.events_by_kind, m.EVENT_KIND
        kinds: list[m.EventKind] = []
        latest: dict[str, Decimal] = {}
        for event in events:
            kind = event_kind[type(event)]
            kinds.append(kind)
            by_kind[kind] += 1
            if type(event) is Trade:
                latest[event.symbol] = event.price
            elif type(event) is Ticker:
                latest[event.symbol] = event.last
        venue: str = events[0].venue  # type: ignore[union-attr]  # every market event names its venue
        for symbol, price in latest.items():
            self.last_prices[(venue, symbol)] = price
        for subscriber in self.subscribers:
            subscriber.offer_market(venue, events, kinds)

    def _route(self, event: m.EventMsg) -> None:
        self.events_routed += 1
        kind = m.EVENT_KIND[type(event)]
        self.events_by_kind[kind] += 1
        if isinstance(event, Ticker):
            self.last_prices[(event.venue, event.symbol)] = event.last
        elif isinstance(event, Trade):
            self.last_prices[(event.venue, event.symbol)] = event.price
        for subscriber in self.subscribers:
            if subscriber.wants(event, kind):
                subscriber.offer(event, kind)

    # ------------------------------------------------------------------ requests
    def next_id(self) -> str:
        return f"r{next(self._ids)}"

    async def request(self, command: m.CommandMsg) -> m.ReplyMsg:
        """Send ``command`` to its venue's actor and wait for the reply (an `ErrorReply` on failure)."""
        venue = self.venues.get(command.venue)
        if venue is None:
            return m.ErrorReply(id=command.id, error=NotConnected(
                f"unknown venue {command.venue!r}; configured: {sorted(self.venues)}", retryable=False).to_info())
        if isinstance(command, m.PlaceOrder) and command.request.client_order_id is not None:
            first = self._in_flight.get((venue.name, command.request.client_order_id))
            if first is not None:
                return await self._await_first(first, command)
        if isinstance(command, (m.PlaceOrder, m.AmendOrder)) and venue.mailbox is not None:
            rejection = await self._risk_check(command)
            if rejection is not None:
                if isinstance(rejection, RiskRejected):
                    await self._count_rejection(command.venue, rejection.rule)
                return m.ErrorReply(id=command.id, error=rejection.to_info())
        elif isinstance(command, m.SetLeverage):
            refused = self.risk.check_leverage(command.venue, command.symbol, command.leverage)
            if refused is not None:
                await self._count_rejection(command.venue, refused.rule)
                return m.ErrorReply(id=command.id, error=refused.to_info())
        mailbox = venue.mailbox
        if mailbox is None:
            state = venue.status.state.value if venue.status else "starting"
            return m.ErrorReply(id=command.id, error=NotConnected(
                f"{venue.name} is not connected ({state})", venue=venue.name).to_info())
        command = _with_client_order_id(command)
        intent = _order_intent(command)
        if isinstance(command, m.PlaceOrder) and intent is not None:
            first = self._in_flight.get((venue.name, intent[0]))  # a twin that passed the checks meanwhile
            if first is not None:
                return await self._await_first(first, command)
        if intent is not None and self.journal is not None:
            await self.journal.record_submission(venue.name, intent[0], intent[1], command)
        reply = await self._send(venue, mailbox, command)
        if intent is not None and isinstance(reply, m.ErrorReply):
            key = (venue.name, reply.error.kind)
            self.rejected[key] = self.rejected.get(key, 0) + 1
            if self.journal is not None and reply.error.kind in NOT_PLACED:
                await self.journal.record_rejection(venue.name, intent[0],
                                                    f"{reply.error.kind}: {reply.error.message}")
        return reply

    async def _send(self, venue: VenueRuntime, mailbox: trio.MemorySendChannel[m.CommandMsg],
                    command: m.CommandMsg) -> m.ReplyMsg:
        pending = _Pending(venue.name, command)
        self._pending[command.id] = pending
        request = pending.placing
        if request is not None and request.client_order_id is not None:
            self._in_flight[(venue.name, request.client_order_id)] = pending
        try:
            with trio.move_on_after(self.command_timeout):
                try:
                    await hand_over(mailbox, command)
                except (trio.ClosedResourceError, trio.BrokenResourceError):
                    self._venue_down(venue) if venue.mailbox is mailbox else None
                    if not pending.done.is_set():
                        pending.answer(m.ErrorReply(id=command.id, error=NotConnected(
                            f"{venue.name} went down", venue=venue.name).to_info()))
                        self._settle(pending)
                await pending.done.wait()
            if pending.reply is None:
                if request is not None:  # the actor still works on it: its answer settles it later
                    return self._unknown(pending, f"no reply from {venue.name} within {self.command_timeout}s")
                return m.ErrorReply(id=command.id, error=VenueUnavailable(
                    f"no reply from {venue.name} within {self.command_timeout}s", venue=venue.name).to_info())
            return pending.reply
        finally:
            if not pending.told_unknown and self._pending.get(command.id) is pending:
                del self._pending[command.id]
                if not pending.settled.is_set():
                    self._settle(pending)

    async def _await_first(self, first: _Pending, command: m.PlaceOrder) -> m.ReplyMsg:
        """A retry of a placement still in flight: the first call's outcome, never a second order."""
        with trio.move_on_after(self.command_timeout):
            await first.settled.wait()
        reply = (first.answered or first.reply) if first.settled.is_set() else None
        if reply is None:
            reply = self._unknown(first, f"the first call with this client_order_id is unanswered after "
                                         f"{self.command_timeout}s")
        return msgspec.structs.replace(reply, id=command.id)

    async def _count_rejection(self, venue: str, rule: str) -> None:
        key = (venue, f"risk:{rule}")
        self.rejected[key] = self.rejected.get(key, 0) + 1
        if self.journal is not None:
            await self.journal.bump(f"risk_rejected.{rule}")

    async def _risk_check(self, command: m.PlaceOrder | m.AmendOrder) -> BrokerError | None:
        """The risk verdict on a new order, or on an order as an amendment would leave it."""
        if isinstance(command, m.PlaceOrder):
            return await self.risk.check(command.request, self._last_price, self._position, self._instrument)
        if command.quantity is None and command.price is None and command.stop_price is None:
            return None
        reply = await self.request(m.GetOrderStatus(id=self.next_id(), venue=command.venue, symbol=command.symbol,
                                                    order_id=command.order_id,
                                                    client_order_id=command.client_order_id))
        if isinstance(reply, m.ErrorReply):
            return error_from_info(reply.error)
        assert isinstance(reply, m.OrderReply)
        order = reply.order
        amended = OrderRequest(
            venue=order.venue, symbol=order.symbol, side=order.side, type=order.type,
            quantity=command.quantity if command.quantity is not None else order.remaining_quantity,
            price=command.price if command.price is not None else order.price,
            stop_price=command.stop_price if command.stop_price is not None else order.stop_price,
            client_order_id=order.client_order_id, reduce_only=order.reduce_only)
        return await self.risk.check(amended, self._last_price, self._position, self._instrument)

    async def _last_price(self, venue: str, symbol: str) -> Decimal | None:
        cached = self.last_prices.get((venue, symbol))
        if cached is not None:
            return cached
        reply = await self.request(m.GetTicker(id=self.next_id(), venue=venue, symbol=symbol))
        return reply.ticker.last if isinstance(reply, m.TickerReply) else None

    async def _instrument(self, venue: str, symbol: str) -> Instrument | None:
        """The venue's instrument (loaded once per venue, for the risk checks' notional)."""
        known = self.instrument_cache.get(venue)
        if known is None or symbol not in known:
            reply = await self.request(m.GetInstruments(id=self.next_id(), venue=venue))
            if not isinstance(reply, m.InstrumentsReply):
                return None
            known = self.instrument_cache[venue] = {i.symbol: i for i in reply.instruments}
        return known.get(symbol)

    async def _position(self, venue: str, symbol: str) -> Position:
        reply = await self.call(m.GetPosition(id=self.next_id(), venue=venue, symbol=symbol), m.PositionReply)
        return reply.position

    async def call(self, command: m.CommandMsg, expect: type[R]) -> R:
        """`request`, raising the typed error of an `ErrorReply`."""
        return unwrap(await self.request(command), expect, type(command).__name__)

    # ------------------------------------------------------------------ kill switch
    async def engage_kill_switch(self, reason: str = "manual") -> list[Order]:
        """Block every new order, then cancel every open order on every connected venue."""
        self.risk.engage_kill_switch(reason)
        if self.journal is not None:
            await self.journal.record_kill_switch(self.risk.kill_switch_reason)
        cancelled: list[Order] = []
        for name, venue in self.venues.items():
            if venue.mailbox is None:
                continue
            orders = await self.call(m.GetOrders(id=self.next_id(), venue=name, open_only=True), m.OrdersReply)
            for order in orders.orders:
                try:
                    reply = await self.call(m.CancelOrder(id=self.next_id(), venue=name, symbol=order.symbol,
                                                          order_id=order.order_id), m.OrderReply)
                except OrderNotFound:
                    continue  # it finished meanwhile
                cancelled.append(reply.order)
        return cancelled

    async def release_kill_switch(self) -> None:
        self.risk.release_kill_switch()
        if self.journal is not None:
            await self.journal.record_kill_switch(None)

    # ------------------------------------------------------------------ subscriptions
    def subscribe(
        self,
        *,
        venues: Iterable[str] | None = None,
        symbols: Iterable[str] | None = None,
        kinds: Iterable[m.EventKind | str] | None = None,
        market_capacity: int = 1024,
        critical_capacity: int = 100_000,
    ) -> EventSubscriber:
        """Register a subscriber now (events from this moment on); `unsubscribe` when done."""
        subscriber = EventSubscriber(
            venues=frozenset(venues) if venues is not None else None,
            symbols=frozenset(symbols) if symbols is not None else None,
            kinds=frozenset(m.EventKind(k) for k in kinds) if kinds is not None else None,
            market_capacity=market_capacity,
            critical_capacity=critical_capacity,
        )
        self.subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: EventSubscriber) -> None:
        subscriber.close()
        if subscriber in self.subscribers:
            self.subscribers.remove(subscriber)

    def close_subscribers(self) -> None:
        for subscriber in list(self.subscribers):
            self.unsubscribe(subscriber)


T = TypeVar("T")


def unwrap(reply: object, expect: type[T], request: str) -> T:
    """The reply as ``expect``; an `ErrorReply` raises its typed error."""
    if isinstance(reply, m.ErrorReply):
        raise error_from_info(reply.error)
    if not isinstance(reply, expect):
        raise BrokerError(f"unexpected reply {type(reply).__name__} to {request}")
    return reply


# Error kinds after which an order certainly did not reach the book (others leave the outcome open).
NOT_PLACED = frozenset({"InvalidOrder", "InsufficientFunds", "MarketClosed", "PermissionDenied",
                        "AuthenticationError", "RateLimited", "NotSupported", "RiskRejected", "NotExecuted"})
LATE_ANSWERS_KEPT = 10_000


def _drain(inbox: trio.MemoryReceiveChannel[m.CommandMsg] | None) -> set[str]:
    """The ids of the commands a dead actor never took from its mailbox."""
    taken_never: set[str] = set()
    while inbox is not None:
        try:
            taken_never.add(inbox.receive_nowait().id)
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError, trio.BrokenResourceError):
            break
    return taken_never


def _with_client_order_id(command: m.CommandMsg) -> m.CommandMsg:
    """Orders get their client id here at the latest, so it can be recorded (and looked up) before sending."""
    if isinstance(command, m.PlaceOrder) and command.request.client_order_id is None:
        request = msgspec.structs.replace(command.request, client_order_id=new_client_order_id())
        return msgspec.structs.replace(command, request=request)
    if isinstance(command, m.ClosePosition) and command.client_order_id is None:
        return msgspec.structs.replace(command, client_order_id=new_client_order_id())
    return command


def _order_intent(command: m.CommandMsg) -> tuple[str, str] | None:
    """(client order id, symbol) of an order this command may create."""
    match command:
        case m.PlaceOrder(request=request) if request.client_order_id is not None:
            return request.client_order_id, request.symbol
        case m.ClosePosition(client_order_id=str(coid), symbol=symbol):
            return coid, symbol
        case m.AmendOrder(new_client_order_id=str(coid), symbol=symbol):
            return coid, symbol
    return None


async def _run_actor(actor: VenueActor, link: ActorLink, *,
                     task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    await actor(link, task_status=task_status)


MARKET_TYPES = frozenset(t for t, kind in m.EVENT_KIND.items() if kind.droppable)
"""Event types a slow subscriber may lose (oldest first): the ones a burst may carry."""

E = TypeVar("E")


def _eager_send(channel: trio.MemorySendChannel[E]) -> Callable[[E], Awaitable[None]]:
    """Put an item in the router's queue without yielding while there is room (the stream's own
    receive already checkpoints); wait only when the queue is full, which is the back-pressure."""

    async def send(event: E) -> None:
        try:
            channel.send_nowait(event)
        except trio.WouldBlock:
            await channel.send(event)

    return send
