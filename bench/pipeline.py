"""Where a stream message's time goes, stage by stage, in process: transport, decode, gate, router.

The ingest benchmark (bench/ingest.py) measures the whole path over loopback, next to its peers; this
one says what each layer of our path costs, so a missed target can be explained. No sockets and no
feed process: the venue's frames (the fast feed's messages, bench/fastfeed.py) are prepared up front
and served by a canned stream, ``MESSAGES_PER_READ`` whole frames per read (as the fast feed writes
them), to the real code of each stage. Stages are cumulative:

- ``transport``: `brokers.transport` (the handshake, then every frame parsed), read by
  `brokers.stream.pump` with a message handler that does nothing;
- ``+ decode``: the venue's market parser (Binance `MarketParser`, Bybit `PublicConnection`) emitting
  through a public socket's `Freshness` into a sink;
- ``+ gate``: the broker actor's `EventGate` (released, as after reconciliation) between them;
- ``+ router``: the gate's events through the router's queue and fan-out to one subscriber, which takes
  every trade with ``get()`` (a synthetic venue actor in `open_router_with`).

Each stage's figure is CPU time per message (and per trade) over the whole run (`time.process_time`:
everything runs in this one thread, and CPU time does not count the spells another process had the
core, which wall time on a shared machine does), the least of ``REPEATS`` back-to-back runs (noise only
adds), median of interleaved rounds of those; the difference between two rows is the layer's cost. ``python -m bench.pipeline --profile`` adds a
cProfile of the full path (the functions with the most own time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import attrs
import trio

from bench.core import Figure, Report
from bench.fastfeed import bybit_trades_message, text_frame, trade_message
from protocol.messages import EventMsg, StreamChannel

MESSAGES_PER_READ = 64
BYBIT_TRADES_PER_MESSAGE = 10
STAGES = ("transport", "+ decode", "+ gate", "+ router")
REPEATS = 3


@attrs.define(eq=False)
class CannedStream(trio.abc.Stream):
    """A stream that answers the opening handshake, then serves prepared chunks, then ends."""

    chunks: list[bytes]
    _next: int = 0
    _request: bytes = b""

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await trio.lowlevel.checkpoint()
        if self._next == 0 and self._request:
            self._next = -1
            return _handshake_answer(self._request)
        index = max(self._next, 0)
        if index >= len(self.chunks):
            return b""
        self._next = index + 1
        return self.chunks[index]

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await trio.lowlevel.checkpoint()
        if not self._request:
            self._request = bytes(data)

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        await trio.lowlevel.checkpoint()


def _handshake_answer(request: bytes) -> bytes:
    from websockets.utils import accept_key

    key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key:"))
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_key(key.decode()).encode() + b"\r\n\r\n")


@attrs.frozen
class Case:
    venue: str
    messages: int
    trades_per_message: int
    chunks: list[bytes]

    @property
    def trades(self) -> int:
        return self.messages * self.trades_per_message


def make_case(venue: str, messages: int) -> Case:
    if venue == "binance":
        texts = [trade_message(n, combined=True) for n in range(messages)]
        per_message = 1
    else:
        texts = [bybit_trades_message(n * BYBIT_TRADES_PER_MESSAGE, BYBIT_TRADES_PER_MESSAGE) for n in range(messages)]
        per_message = BYBIT_TRADES_PER_MESSAGE
    frames = [text_frame(text.encode()) for text in texts]
    chunks = [b"".join(frames[at:at + MESSAGES_PER_READ]) for at in range(0, len(frames), MESSAGES_PER_READ)]
    return Case(venue, messages, per_message, chunks)


# ------------------------------------------------------------------------------ the venue parsers

Emit = Callable[[EventMsg], Awaitable[None]]


def _parser(venue: str, emit: Emit) -> Callable[[str], Awaitable[None]]:
    from protocol.model import Instrument, MarketType

    if venue == "binance":
        from brokers.binance.stream import MarketParser

        spot = Instrument(venue="binance", symbol="BTC/USDT", venue_symbol="BTCUSDT", market_type=MarketType.SPOT,
                          base="BTC", quote="USDT", tick_size=Decimal("0.01"), lot_size=Decimal("0.00001"))

        async def no_snapshot(symbol: str) -> object:
            raise AssertionError("the trade stream needs no book snapshot")

        return MarketParser({"BTCUSDT": spot}, emit, no_snapshot).on_message  # type: ignore[arg-type]
    from brokers.bybit.constants import Category
    from brokers.bybit.mapping import category_of_instrument
    from brokers.bybit.stream import PublicConnection
    from brokers.instruments import InstrumentIndex

    linear = Instrument(venue="bybit", symbol="BTC/USDT:USDT", venue_symbol="BTCUSDT",
                        market_type=MarketType.LINEAR, base="BTC", quote="USDT", settle="USDT",
                        tick_size=Decimal("0.1"), lot_size=Decimal("0.001"))
    index = InstrumentIndex.of("bybit", [linear], key_of=category_of_instrument)
    return PublicConnection(Category.LINEAR, index, emit, "bybit").on_message


# ------------------------------------------------------------------------------ the stages


@attrs.define
class Counter:
    events: int = 0

    async def one(self, event: EventMsg) -> None:
        self.events += 1

    async def many(self, events: list[EventMsg]) -> None:
        self.events += len(events)


async def _open(case: Case) -> object:
    from brokers.transport import connect_stream

    return await connect_stream(CannedStream(case.chunks), "ws://feed.invalid/stream", max_message_size=1 << 22)


async def _pump_to_end(ws: object, on_message: Callable[[str], Awaitable[None]], freshness: object) -> None:
    from brokers.stream import pump
    from brokers.transport import ConnectionClosed

    try:
        await pump(ws, on_message, freshness)  # type: ignore[arg-type]
    except ConnectionClosed:
        pass  # the canned stream ended: every message was read


async def run_stage(case: Case, stage: str) -> float:
    """Seconds for the whole case through the stages up to ``stage``."""
    from brokers.base import BrokerState, EventGate
    from brokers.stream import Freshness
    from protocol.actor import Outlet

    if stage == "+ router":
        return await _through_router(case)
    ws = await _open(case)
    counter = Counter()
    freshness = Freshness({StreamChannel.TRADES: None})
    started = time.process_time()
    if stage == "transport":
        messages = 0

        async def count(text: str) -> None:
            nonlocal messages
            messages += 1

        await _pump_to_end(ws, count, None)
        assert messages == case.messages, messages
    else:
        outlet = Outlet(counter.one, counter.many)
        if stage == "+ gate":
            gate = EventGate(BrokerState(venue=case.venue), counter.one, hold=False, out_many=counter.many)
            outlet = gate.outlet()
        await _pump_to_end(ws, _parser(case.venue, freshness.track(outlet)), freshness)
        assert counter.events == case.trades, counter.events
    return time.process_time() - started


async def _through_router(case: Case) -> float:
    from actors.handle import open_router_with
    from brokers.base import BrokerState, EventGate
    from brokers.stream import Freshness
    from protocol.actor import ActorLink
    from protocol.model import Trade

    go = trio.Event()
    started = [0.0]

    async def venue_actor(link: ActorLink, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        gate = EventGate(BrokerState(venue=case.venue), link.events, hold=False, out_many=link.events_many)
        freshness = Freshness({StreamChannel.TRADES: None})
        ws = await _open(case)
        task_status.started()
        await go.wait()
        started[0] = time.process_time()
        await _pump_to_end(ws, _parser(case.venue, freshness.track(gate.outlet())), freshness)
        await trio.sleep_forever()

    async with open_router_with({case.venue: venue_actor}, seed=1) as router:  # type: ignore[dict-item]
        await router.wait_connected(case.venue)
        subscriber = router.router.subscribe(kinds=["trade"], market_capacity=case.trades + 10)
        go.set()
        for _ in range(case.trades):
            event = await subscriber.get()
            assert isinstance(event, Trade)
        elapsed = time.process_time() - started[0]
        router.router.unsubscribe(subscriber)
    return elapsed


def measure(report: Report, runs: int, messages: dict[str, int]) -> None:
    """Every stage for both venues, ``runs`` rounds, stages interleaved within a round."""
    cases = {venue: make_case(venue, count) for venue, count in messages.items()}
    figures = {(venue, stage): report.add(Figure(f"pipeline per message, {venue}", stage, "us/message",
                                                 higher_is_better=False))
               for venue in cases for stage in STAGES}
    for case in cases.values():  # warm-up: imports, first-call caches
        for stage in STAGES:
            trio.run(run_stage, case, stage)
    for _ in range(runs):
        for venue, case in cases.items():
            for stage in STAGES:
                # The least of a few: noise only ever adds (another process, the VM's stolen time).
                seconds = min(trio.run(run_stage, case, stage) for _ in range(REPEATS))
                figures[venue, stage].runs.append(seconds / case.messages * 1e6)
    for (venue, _stage), figure in figures.items():
        per_trade = cases[venue].trades_per_message
        if per_trade > 1:
            figure.note = f"{figure.median / per_trade:.2f} us per trade ({per_trade} per message)"


def breakdown(report: Report) -> str:
    """The per-layer costs (differences between stages) as lines of text."""
    lines = []
    for venue in ("binance", "bybit"):
        stages = [report.find(f"pipeline per message, {venue}", stage) for stage in STAGES]
        if any(figure is None or not figure.runs for figure in stages):
            continue
        medians = [figure.median for figure in stages if figure is not None]
        layers = [("transport", medians[0])] + [(STAGES[k].removeprefix("+ "), medians[k] - medians[k - 1])
                                                for k in range(1, len(STAGES))]
        total = medians[-1]
        lines.append(f"{venue}: {total:.2f} us per message in process = "
                     + " + ".join(f"{name} {cost:.2f} ({cost / total:.0%})" for name, cost in layers))
    return "\n".join(lines)


def profile(venue: str, messages: int, top: int = 25) -> str:
    """cProfile of the full path (through the router): the functions with the most own time."""
    case = make_case(venue, messages)
    profiler = cProfile.Profile()
    profiler.enable()
    trio.run(run_stage, case, "+ router")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.pipeline")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=50_000, help="Binance messages (Bybit: a tenth, 10 trades each)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the full path per venue")
    args = parser.parse_args()
    report = Report()
    measure(report, args.runs, {"binance": args.messages, "bybit": max(args.messages // 10, 1)})
    print(report.table())
    print(breakdown(report))
    if args.profile:
        for venue in ("binance", "bybit"):
            print(f"--- {venue}, full path, cProfile (own time) ---")
            print(profile(venue, args.messages if venue == "binance" else max(args.messages // 10, 1)))


if __name__ == "__main__":
    main()
