"""`algotrendy run`: the long-running service (design §10).

It runs the router with every configured venue (paper mode: embedded emulators), shows a live
terminal view of venue status, prices, orders, fills, derivative and margin positions and Earn
allocations, optionally runs a small demo strategy so fills are visible (and, where a venue offers them,
a margin position and an Earn allocation), serves the control API, and shuts down cleanly on
SIGINT/SIGTERM.
"""

from __future__ import annotations

import logging
import math
import signal
import sys
from collections import deque
from collections.abc import Callable
from decimal import ROUND_UP, Decimal
from functools import partial
from typing import TextIO

import attrs
import trio

from actors.config import AppConfig, is_loopback
from actors.handle import RouterHandle, open_router_with
from actors.journal import Journal
from actors.router import EventSubscriber
from algotrendy.control import ControlEndpoint, ControlServer, bind_control, serve_control_api
from algotrendy.metrics import DaemonMetrics, MetricsEndpoint, bind_metrics, serve_metrics
from algotrendy.tables import num, status_flags
from algotrendy.wiring import VenuePlan, open_journal, plan_venues, venue_actors
from protocol import messages as m
from protocol.errors import BrokerError, NotSupported
from protocol.model import (
    EarnAllocation,
    EarnLockType,
    EarnStrategy,
    Fill,
    Instrument,
    MarketType,
    Order,
    OrderType,
    Position,
    PositionSide,
    Side,
    Ticker,
    TimeInForce,
    Trade,
)

log = logging.getLogger(__name__)


@attrs.define
class Dashboard:
    """What the terminal view shows, updated from the router's event stream."""

    status: dict[str, m.BrokerStatus] = attrs.field(factory=dict)
    prices: dict[tuple[str, str], Ticker | Trade] = attrs.field(factory=dict)
    quotes: dict[tuple[str, str], Ticker] = attrs.field(factory=dict)  # best bid/ask from tickers
    orders: deque[Order] = attrs.field(factory=lambda: deque(maxlen=10))
    fills: deque[Fill] = attrs.field(factory=lambda: deque(maxlen=10))
    positions: dict[tuple[str, str], Position] = attrs.field(factory=dict)
    earn: dict[tuple[str, str], EarnAllocation] = attrs.field(factory=dict)  # by (venue, strategy id)
    notes: deque[str] = attrs.field(factory=lambda: deque(maxlen=6))
    on_note: Callable[[str], None] | None = None  # service mode prints every note as it comes
    fill_count: int = 0
    order_updates: int = 0
    events: int = 0

    def apply(self, event: m.EventMsg) -> None:
        self.events += 1
        match event:
            case m.BrokerStatus():
                before = self.status.get(event.venue)
                if event.unknown_symbols and (before is None or before.unknown_symbols != event.unknown_symbols):
                    self.note(f"{event.venue} does not list {', '.join(event.unknown_symbols)}: "
                              f"check [venues.{event.venue}] symbols")
                self.status[event.venue] = event
            case Ticker():
                self.prices[(event.venue, event.symbol)] = event
                self.quotes[(event.venue, event.symbol)] = event
            case Trade():
                self.prices[(event.venue, event.symbol)] = event
            case Order():
                self.order_updates += 1
                self.orders.appendleft(event)
            case Fill():
                self.fill_count += 1
                self.fills.appendleft(event)
            case Position():
                if event.market_type is not MarketType.SPOT:  # spot holdings are balances; shown by fills
                    self.positions[(event.venue, event.symbol)] = event
            case EarnAllocation():
                self.earn[(event.venue, event.strategy_id)] = event

    def live_pnl(self, position: Position) -> Decimal:
        """Unrealised PnL at the latest price seen (the venue's figure until a price arrives)."""
        seen = self.prices.get((position.venue, position.symbol))
        if seen is None or position.entry_price is None or position.quantity == 0:
            return position.unrealized_pnl
        return unrealised_pnl(position, _price_of(seen))

    def note(self, text: str) -> None:
        self.notes.appendleft(text)
        if self.on_note is not None:
            self.on_note(text)


def _price_of(event: Ticker | Trade) -> Decimal:
    return event.last if isinstance(event, Ticker) else event.price


def unrealised_pnl(position: Position, price: Decimal) -> Decimal:
    """Linear: (price - entry) x size; inverse (size in USD contracts, PnL in coin): size x (1/entry - 1/price)."""
    assert position.entry_price is not None
    sign = -1 if position.side is PositionSide.SHORT else 1
    if position.market_type is MarketType.INVERSE:
        return sign * position.quantity * (1 / position.entry_price - 1 / price)
    return sign * (price - position.entry_price) * position.quantity


def render(dash: Dashboard) -> object:
    from rich.console import Group
    from rich.table import Table

    venues = Table(title="Venues", expand=True)
    for col in ("venue", "state", "attempt", "reason", "notes"):
        venues.add_column(col)
    for name, st in sorted(dash.status.items()):
        colour = {"connected": "green", "stopped": "red"}.get(st.state.value, "yellow")
        if st.state is m.ConnectionState.CONNECTED and st.market_data_degraded:
            colour = "yellow"
        venues.add_row(name, f"[{colour}]{st.state.value}[/]", str(st.attempt), (st.reason or "")[:60],
                       "; ".join(status_flags(st)))

    prices = Table(title="Prices", expand=True)
    for col in ("venue", "symbol", "last", "bid", "ask", "time (UTC)"):
        prices.add_column(col)
    for (venue, symbol), ev in sorted(dash.prices.items()):
        quote = dash.quotes.get((venue, symbol))
        prices.add_row(venue, symbol, num(_price_of(ev)), num(quote.bid if quote else None),
                       num(quote.ask if quote else None), ev.timestamp.strftime("%H:%M:%S.%f")[:-3])

    orders = Table(title=f"Orders ({dash.order_updates} updates)", expand=True)
    for col in ("venue", "symbol", "side", "type", "qty", "price", "filled", "status", "client id"):
        orders.add_column(col)
    for o in dash.orders:
        orders.add_row(o.venue, o.symbol, o.side.value, o.type.value, num(o.quantity), num(o.price),
                       num(o.filled_quantity), o.status.value, o.client_order_id)

    fills = Table(title=f"Fills ({dash.fill_count})", expand=True)
    for col in ("venue", "symbol", "side", "qty", "price", "fee", "trade id", "time (UTC)"):
        fills.add_column(col)
    for f in dash.fills:
        fills.add_row(f.venue, f.symbol, f.side.value, num(f.quantity), num(f.price), f"{num(f.fee)} {f.fee_currency}",
                      f.trade_id, f.timestamp.strftime("%H:%M:%S"))
    positions = Table(title="Positions (derivatives and margin; PnL live at the last price)", expand=True)
    for col in ("venue", "symbol", "side", "size", "entry", "mark", "unrealised PnL", "realised PnL", "leverage"):
        positions.add_column(col)
    for (venue, symbol), pos in sorted(dash.positions.items()):
        if pos.quantity == 0:
            continue
        pnl = dash.live_pnl(pos).quantize(Decimal("0.0001"))
        colour = "green" if pnl >= 0 else "red"
        seen = dash.prices.get((venue, symbol))
        positions.add_row(venue, symbol, pos.side.value, num(pos.quantity), num(pos.entry_price),
                          num(_price_of(seen) if seen else pos.mark_price), f"[{colour}]{num(pnl)}[/]",
                          num(pos.realized_pnl), f"{num(pos.leverage)}x")
    earn = Table(title="Earn allocations", expand=True)
    for col in ("venue", "asset", "allocated", "pending", "rewards", "status", "strategy"):
        earn.add_column(col)
    for (venue, strategy_id), allocation in sorted(dash.earn.items()):
        if allocation.amount == 0 and allocation.pending == 0:
            continue
        earn.add_row(venue, allocation.asset, num(allocation.amount), num(allocation.pending),
                     num(allocation.rewards), allocation.status.value, strategy_id)
    notes = "\n".join(dash.notes)
    parts: list[Table | str] = [venues, prices, positions]
    if dash.earn:
        parts.append(earn)
    return Group(*parts, orders, fills, notes)


def plain_line(event: m.EventMsg) -> str | None:
    """One line per interesting event, for a terminal that is not interactive (CI logs, pipes)."""
    match event:
        case m.BrokerStatus():
            extra = f" attempt={event.attempt} next={event.next_delay:.2f}s" if event.next_delay is not None else ""
            flags = "".join(f" [{flag}]" for flag in status_flags(event))
            return f"[status] {event.venue} {event.state.value}{extra}{flags} {event.reason or ''}".rstrip()
        case Order():
            return (f"[order] {event.venue} {event.symbol} {event.side.value} {event.type.value} {num(event.quantity)}"
                    f" @ {num(event.price) or 'mkt'} filled={num(event.filled_quantity)} {event.status.value}")
        case Fill():
            return (f"[fill] {event.venue} {event.symbol} {event.side.value} {num(event.quantity)} @ {num(event.price)}"
                    f" fee={num(event.fee)} {event.fee_currency} trade={event.trade_id}")
        case Position() if event.market_type is not MarketType.SPOT:
            return (f"[position] {event.venue} {event.symbol} {event.side.value} {num(event.quantity)}"
                    f" entry={num(event.entry_price)} mark={num(event.mark_price)}"
                    f" upnl={num(event.unrealized_pnl)} rpnl={num(event.realized_pnl)} lev={num(event.leverage)}x")
        case EarnAllocation():
            return (f"[earn] {event.venue} {event.asset} allocated={num(event.amount)} pending={num(event.pending)}"
                    f" rewards={num(event.rewards)} {event.status.value} strategy={event.strategy_id}")
    return None


def demo_quantity(instrument: Instrument, price: Decimal) -> Decimal:
    """The smallest quantity comfortably above the instrument's minimums, on its lot size."""
    wanted = max(instrument.min_qty, (instrument.min_notional * Decimal("1.5")) / price, instrument.lot_size)
    lots = (wanted / instrument.lot_size).to_integral_value(rounding=ROUND_UP)
    return lots * instrument.lot_size


def on_tick(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value() * tick


async def run_demo(router: RouterHandle, venue: str, symbols: list[str], dash: Dashboard,
                   *, period: float = 4.0, rounds: int | None = None) -> None:
    """A tiny strategy so a newcomer sees orders and fills: buy, sell back, and a resting order cancelled.
    Where the venue offers them, it also holds one small margin long (the first symbol traded on margin) and
    puts a little of an asset into an Earn strategy, once."""
    await router.wait_connected(venue)
    instruments = {i.symbol: i for i in await router.instruments(venue)}
    margin = next((s for s in symbols if s in instruments and instruments[s].market_type is MarketType.SPOT
                   and instruments[s].leverage_buy), None)
    try:
        await _demo_earn(router, venue, instruments, dash)
    except BrokerError as error:
        dash.note(f"demo {venue} Earn: {error}")
    done = 0
    while rounds is None or done < rounds:
        for symbol in symbols:
            instrument = instruments.get(symbol)
            if instrument is None:
                continue
            try:
                await _demo_round(router, venue, instrument, dash)
                if symbol == margin:
                    await _open_margin_long(router, venue, instrument)
                    margin = None  # once: it is held from here on
            except BrokerError as error:
                dash.note(f"demo {venue} {symbol}: {error}")
        done += 1
        await trio.sleep(period)


async def _open_margin_long(router: RouterHandle, venue: str, instrument: Instrument) -> None:
    """Spot on margin: one small long at the lowest leverage offered, so its PnL can be watched live (the venue
    reports the position as an event)."""
    symbol = instrument.symbol
    qty = demo_quantity(instrument, await router.get_current_price(venue, symbol))
    await router.place_order(venue=venue, symbol=symbol, side=Side.BUY, type=OrderType.MARKET, quantity=qty,
                             leverage=min(instrument.leverage_buy))


EARN_DEMO_SHARE = Decimal("0.01")  # of the free balance of the asset put into Earn by the demo


async def _demo_earn(router: RouterHandle, venue: str, instruments: dict[str, Instrument], dash: Dashboard) -> None:
    """Allocate 1% of an asset's free balance to the venue's most liquid Earn strategy (instant or flexible
    first), unless something is allocated already; a venue without Earn answers NotSupported: nothing to do."""
    try:
        strategies = await router.get_earn_strategies(venue)
    except NotSupported:
        return
    if any(a.amount > 0 or a.pending != 0 for a in await router.get_earn_allocations(venue)):
        return
    order = {EarnLockType.INSTANT: 0, EarnLockType.FLEXIBLE: 1, EarnLockType.BONDED: 2, EarnLockType.TIMED: 3}
    for strategy in sorted((s for s in strategies if s.can_allocate), key=lambda s: order[s.lock_type]):
        amount = (await router.get_balance(venue, strategy.asset)).free * EARN_DEMO_SHARE
        if amount > 0 and await _meets_minimum(router, venue, instruments, strategy, amount):
            await router.earn_allocate(venue, strategy.strategy_id, amount)
            dash.note(f"demo {venue}: allocating {num(amount)} {strategy.asset} to Earn ({strategy.lock_type.value}, "
                      f"APR {num(strategy.apr_min)}-{num(strategy.apr_max)}%)")
            return


async def _meets_minimum(router: RouterHandle, venue: str, instruments: dict[str, Instrument],
                         strategy: EarnStrategy, amount: Decimal) -> bool:
    """Whether ``amount`` of the strategy's asset is at least its minimum (valued at the last price where the
    minimum is in another currency; False when no listed market says what it is worth)."""
    currency = strategy.min_amount_currency or strategy.asset
    if currency == strategy.asset:
        return amount >= strategy.min_amount
    symbol = f"{strategy.asset}/{currency}"
    if symbol not in instruments:
        return False
    return amount * await router.get_current_price(venue, symbol) >= strategy.min_amount


async def _demo_round(router: RouterHandle, venue: str, instrument: Instrument, dash: Dashboard) -> None:
    symbol = instrument.symbol
    last = await router.get_current_price(venue, symbol)
    qty = demo_quantity(instrument, last)
    # Stock orders live for the day (a fraction of a share is a DAY order); crypto orders until cancelled.
    tif = TimeInForce.DAY if instrument.market_type is MarketType.STOCK else TimeInForce.GTC
    if instrument.market_type in (MarketType.LINEAR, MarketType.INVERSE):
        # Derivatives: hold one small long position so its PnL can be watched live.
        position = await router.get_position(venue, symbol)
        if position.quantity == 0:
            await router.place_order(venue=venue, symbol=symbol, side=Side.BUY, type=OrderType.MARKET, quantity=qty)
            dash.apply(await router.get_position(venue, symbol))
    else:
        await router.place_order(venue=venue, symbol=symbol, side=Side.BUY, type=OrderType.MARKET, quantity=qty,
                                 time_in_force=tif)
        await router.place_order(venue=venue, symbol=symbol, side=Side.SELL, type=OrderType.MARKET, quantity=qty,
                                 time_in_force=tif)
    resting = await router.place_order(venue=venue, symbol=symbol, side=Side.BUY, type=OrderType.LIMIT,
                                       quantity=qty, price=on_tick(last * Decimal("0.98"), instrument.tick_size),
                                       time_in_force=tif)
    await trio.sleep(1.5)
    current = await router.get_order_status(venue, symbol, order_id=resting.order_id)
    if not current.status.is_terminal:
        await router.cancel_order(venue, symbol, order_id=resting.order_id)


async def _follow_events(events: EventSubscriber, dash: Dashboard, echo: Callable[[str], None] | None) -> None:
    async for event in events:
        dash.apply(event)
        if echo is not None:
            line = plain_line(event)
            if line:
                echo(line)


async def _show(dash: Dashboard, out: TextIO) -> None:
    from rich.console import Console
    from rich.live import Live

    console = Console(file=out)
    with Live(render(dash), console=console, refresh_per_second=4, screen=False) as live:  # type: ignore[arg-type]
        while True:
            await trio.sleep(0.25)
            live.update(render(dash))  # type: ignore[arg-type]


async def _stop_on_signals(stop: trio.Event, dash: Dashboard, note: Callable[[str], None]) -> None:
    """The first SIGTERM/SIGINT asks for a graceful stop; a second one ends at once."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            if stop.is_set():
                raise KeyboardInterrupt  # the operator insists
            note(f"received {signal.Signals(signum).name}: shutting down")
            stop.set()


async def run_daemon(config: AppConfig, *, seed: int = 1, duration: float | None = None,
                     interactive: bool | None = None, out: TextIO | None = None,
                     handle_signals: bool = True, dash: Dashboard | None = None) -> Dashboard:
    """Run until SIGTERM/SIGINT (or ``duration`` seconds), then stop gracefully; returns what the
    dashboard saw.

    Everything that can refuse to start is done before any venue or emulator starts: the control API's
    port is bound (`ControlStartError`), the metrics port too, the journal opened and loaded
    (`JournalError`)."""
    out = out or sys.stdout
    dash = dash or Dashboard()
    interactive = out.isatty() if interactive is None else interactive
    echo = None if interactive else (lambda line: print(line, file=out, flush=True))

    def print_note(text: str) -> None:
        log.info("%s", text)
        if echo is not None:
            echo(f"[note] {text}")

    dash.on_note = print_note
    note = dash.note

    endpoint = await bind_control(config.control, note) if config.control.enabled else None
    metrics_at: MetricsEndpoint | None = None
    journal: Journal | None = None
    try:
        if config.metrics.enabled:
            metrics_at = await bind_metrics(config.metrics)
            note(f"metrics on {metrics_at.url} (and /healthz, /readyz)" + (
                "" if is_loopback(config.metrics.host) else "; not loopback: anyone who reaches it reads them"))
        journal = open_journal(config, daemon=True)
        if journal is not None:
            note(f"journal {journal.path}")
        async with plan_venues(config, seed=seed) as plans:
            for name, plan in plans.items():
                emu = plan.emulator
                if emu is not None:
                    note(f"paper venue {name}: emulator at {emu.rest_url} / {emu.ws_url}")  # type: ignore[attr-defined]
            async with open_router_with(venue_actors(plans, journal), policy=config.supervisor.policy(),
                                        risk=config.risk, seed=seed, journal=journal) as router:
                if router.router.risk.kill_switch_engaged:
                    note(f"kill switch still engaged ({router.router.risk.kill_switch_reason}): no new orders "
                         "until it is released")
                # Subscribed before any venue task runs: the view (a strategy too) misses nothing.
                events = router.router.subscribe(market_capacity=4096)
                metrics = DaemonMetrics(router, journal=journal) if metrics_at is not None else None
                await _serve(config, router, plans, events, dash, note, echo, endpoint, journal, metrics_at, metrics,
                             duration=duration, interactive=interactive, out=out, handle_signals=handle_signals)
    finally:
        if endpoint is not None:
            endpoint.close()
        if metrics_at is not None:
            for listener in metrics_at.listeners:
                await trio.aclose_forcefully(listener)
        if journal is not None:
            journal.close()
    if echo:
        echo(f"stopped: {dash.fill_count} fills, {dash.order_updates} order updates, {dash.events} events")
    return dash


async def _serve(config: AppConfig, router: RouterHandle, plans: dict[str, VenuePlan], events: EventSubscriber,
                 dash: Dashboard, note: Callable[[str], None], echo: Callable[[str], None] | None,
                 endpoint: ControlEndpoint | None, journal: Journal | None, metrics_at: MetricsEndpoint | None,
                 metrics: DaemonMetrics | None, *, duration: float | None, interactive: bool, out: TextIO, handle_signals: bool) -> None:
    stop = trio.Event()
    async with trio.open_nursery() as services:
        services.start_soon(_follow_events, events, dash, echo)
        if handle_signals:
            services.start_soon(_stop_on_signals, stop, dash, note)
        if interactive:
            services.start_soon(_show, dash, out)
        control: ControlServer | None = None
        if endpoint is not None:
            control = await services.start(partial(serve_control_api, router, config.control, note,
                                                   endpoint=endpoint,
                                                   journal=str(journal.path) if journal else None))
        if metrics_at is not None and metrics is not None:
            metrics.control = control
            await services.start(serve_metrics, metrics, metrics_at)
        async with trio.open_nursery() as strategies:
            if config.demo:
                for name, plan in plans.items():
                    if plan.config.symbols:
                        strategies.start_soon(run_demo, router, name, plan.config.symbols, dash)
            with trio.move_on_after(duration if duration is not None else math.inf):
                await stop.wait()
            strategies.cancel_scope.cancel()
        await shutdown(router, control, config, note)
        services.cancel_scope.cancel()


async def shutdown(router: RouterHandle, control: ControlServer | None, config: AppConfig,
                   note: Callable[[str], None]) -> None:
    """Stop taking commands, finish those in flight, then cancel or count the open orders."""
    limit = config.daemon.shutdown_timeout
    if control is not None:
        with trio.move_on_after(limit) as waited:
            await control.drain()
        if waited.cancelled_caught:
            note(f"{control.in_flight} control commands still in flight after {limit}s: abandoned")
    for venue in router.venues():
        if router.router.venues[venue].mailbox is None:
            note(f"{venue}: not connected at shutdown; its open orders are unknown")
            continue
        with trio.move_on_after(limit):
            try:
                if config.daemon.cancel_on_shutdown:
                    cancelled = await router.cancel_all_orders(venue)
                    note(f"{venue}: cancelled {len(cancelled)} open orders")
                else:
                    open_orders = await router.get_orders(venue, None, open_only=True)
                    symbols = sorted({o.symbol for o in open_orders})
                    where = f" ({', '.join(symbols)})" if symbols else ""
                    note(f"{venue}: leaving {len(open_orders)} open orders{where}")
            except BrokerError as error:
                note(f"{venue}: open orders at shutdown unknown: {error}")
