"""Bare receive-loop ceilings of the websocket transports a trio client can use, side by side.

Each loop connects to a fresh feed process (bench/feed.py: the Binance fast firehose, one trade per
message, or the Bybit linear ``publicTrade`` socket, 10 trades per message), subscribes where the
venue needs it, and decodes only the trades' send stamps (msgspec), as `bench.ingest`'s bare loops
do. What differs is how frames become messages:

- ``trio-websocket``: `WebSocketConnection.get_message()`, default 4 KiB reads (the transport the
  venue streams used up to issue 17); and the same with ``receive_buffer_size`` = 256 KiB;
- ``wsproto direct``: wsproto (what trio-websocket runs on) driven on a trio stream in the reading
  task itself: 256 KiB reads, every frame of one read handled in one pass, no reader task or channel;
- ``websockets sans-I/O``: the `websockets` library's `ClientProtocol` driven the same way;
- ``brokers.transport``: our session (what `brokers.stream.run_websocket` opens), read message by
  message through its public ``get_message()``.

Consumers take turns run by run (`measure`), so a slow spell of the machine lands on all alike, each
in a fresh process (`bench.isolate`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

import msgspec
import trio

from bench import ingest
from bench.core import Figure, Report
from bench.isolate import isolated

READ_SIZE = 256 * 1024
BINANCE_PATH = ingest.STREAM_PATH
BYBIT_PATH = ingest.BYBIT_PATH
BYBIT_SUBSCRIBE = json.dumps({"op": "subscribe", "args": ["publicTrade.BTCUSDT"]})

Handle = Callable[[str | bytes], None]


class _Stamp(msgspec.Struct):
    t: int


class _Wrapped(msgspec.Struct):
    data: _Stamp


class _BybitStamp(msgspec.Struct):
    i: str


class _BybitTrades(msgspec.Struct):
    data: list[_BybitStamp] = []


def binance_handler(samples: ingest.Samples) -> Handle:
    decode = msgspec.json.Decoder(_Wrapped).decode

    def handle(message: str | bytes) -> None:
        samples.note(decode(message).data.t)

    return handle


def bybit_handler(samples: ingest.Samples) -> Handle:
    decode = msgspec.json.Decoder(_BybitTrades).decode

    def handle(message: str | bytes) -> None:
        for trade in decode(message).data:  # the subscribe answer has no data: it counts nothing
            samples.note(int(trade.i))

    return handle


# ------------------------------------------------------------------------------ the receive loops
# Each: connect to ``url``, send ``subscribe`` (if any), pass every message to ``handle`` until
# ``done()``.


async def trio_websocket_loop(url: str, subscribe: str | None, handle: Handle, done: Callable[[], bool],
                              *, receive_buffer_size: int | None = 4096) -> None:
    from trio_websocket import open_websocket_url

    async with open_websocket_url(url, max_message_size=1 << 22, receive_buffer_size=receive_buffer_size) as ws:
        if subscribe is not None:
            await ws.send_message(subscribe)
        while not done():
            handle(await ws.get_message())


def _target(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port, parts.path + (f"?{parts.query}" if parts.query else "")


async def wsproto_loop(url: str, subscribe: str | None, handle: Handle, done: Callable[[], bool]) -> None:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, CloseConnection, Ping, Request, TextMessage

    host, port, target = _target(url)
    stream = await trio.open_tcp_stream(host, port)
    ws = WSConnection(ConnectionType.CLIENT)
    parts: list[str] = []
    async with stream:
        await stream.send_all(ws.send(Request(host=f"{host}:{port}", target=target)))
        while not done():
            data = await stream.receive_some(READ_SIZE)
            if not data:
                return
            ws.receive_data(data)
            for event in ws.events():
                if type(event) is TextMessage:
                    if event.message_finished and not parts:
                        handle(event.data)
                    else:
                        parts.append(event.data)
                        if event.message_finished:
                            handle("".join(parts))
                            parts.clear()
                elif isinstance(event, AcceptConnection):
                    if subscribe is not None:
                        await stream.send_all(ws.send(TextMessage(subscribe)))
                elif isinstance(event, Ping):
                    await stream.send_all(ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    return


async def websockets_loop(url: str, subscribe: str | None, handle: Handle, done: Callable[[], bool]) -> None:
    from websockets.client import ClientProtocol
    from websockets.frames import Opcode
    from websockets.http11 import Response
    from websockets.protocol import State
    from websockets.uri import parse_uri

    host, port, _ = _target(url)
    stream = await trio.open_tcp_stream(host, port)
    protocol = ClientProtocol(parse_uri(url), max_size=1 << 22)
    parts: list[bytes] = []
    async with stream:
        protocol.send_request(protocol.connect())
        await stream.send_all(b"".join(protocol.data_to_send()))
        while not done():
            data = await stream.receive_some(READ_SIZE)
            if not data:
                return
            protocol.receive_data(data)
            for event in protocol.events_received():
                if isinstance(event, Response):
                    if subscribe is not None:
                        protocol.send_text(subscribe.encode())
                elif event.opcode is Opcode.TEXT or event.opcode is Opcode.CONT:
                    if event.fin and not parts:
                        handle(event.data)
                    else:
                        parts.append(event.data)
                        if event.fin:
                            handle(b"".join(parts))
                            parts.clear()
            outgoing = protocol.data_to_send()  # pongs and close answers the protocol wrote itself
            if outgoing:
                await stream.send_all(b"".join(outgoing))
            if protocol.state is State.CLOSED:
                return


async def ours_loop(url: str, subscribe: str | None, handle: Handle, done: Callable[[], bool]) -> None:
    from brokers.transport import open_websocket

    async with open_websocket(url, max_message_size=1 << 22) as ws:
        if subscribe is not None:
            await ws.send_message(subscribe)
        while not done():
            handle(await ws.get_message())



LOOPS: dict[str, Callable[..., object]] = {
    "trio-websocket get_message()": trio_websocket_loop,
    "trio-websocket, 256 KiB reads": partial(trio_websocket_loop, receive_buffer_size=READ_SIZE),
    "wsproto direct": wsproto_loop,
    "websockets sans-I/O": websockets_loop,
    "brokers.transport (ours)": ours_loop,
}


def run_named(name: str, venue: str, f: ingest.Feed, count: int) -> ingest.Samples:
    """`run_loop` of ``LOOPS[name]`` (what `bench.isolate` runs in a fresh process)."""
    return run_loop(LOOPS[name], venue, f, count)


def run_loop(loop: Callable[..., object], venue: str, f: ingest.Feed, count: int) -> ingest.Samples:
    samples = ingest.Samples()
    if venue == "binance":
        url, subscribe, handle = f.ws_url + BINANCE_PATH, None, binance_handler(samples)
    else:
        url, subscribe, handle = f.ws_url + BYBIT_PATH, BYBIT_SUBSCRIBE, bybit_handler(samples)

    def done() -> bool:
        return samples.received >= count

    async def run() -> None:
        with trio.move_on_after(ingest.IDLE_LIMIT * 4):  # a loop that lost messages must not hang the suite
            await loop(url, subscribe, handle, done)  # type: ignore[operator]

    trio.run(run)
    return samples


def measure(report: Report, runs: int, count: int, *, on_error: Callable[[str, BaseException], None]) -> None:
    """Every loop on both feeds, ``runs`` rounds, loops interleaved within a round."""
    cases = [("binance", 1, count), ("bybit", 10, count * 10 // 4)]
    figures = {(venue, name): report.add(Figure(f"bare receive loop, {venue} trades", name, "trades/s",
                                                higher_is_better=True))
               for venue, _, _ in cases for name in LOOPS}
    for _ in range(runs):
        for venue, batch, total in cases:
            for name in LOOPS:
                figure = figures[venue, name]
                try:
                    with ingest.feed(total, 0, venue, batch, fast=True) as f:
                        samples = isolated("bench.transports:run_named", name, venue)(f, total)
                except Exception as error:  # reported, never hidden
                    on_error(f"bare loop {venue} {name}", error)
                    continue
                if samples.received < total:
                    figure.note = f"received {samples.received} of {total}"
                figure.runs.append(samples.rate)


def summary(report: Report) -> list[str]:
    """Each loop's median as a multiple of trio-websocket's, per venue (lines of text)."""
    lines = []
    for venue in ("binance", "bybit"):
        metric = f"bare receive loop, {venue} trades"
        base = report.find(metric, "trio-websocket get_message()")
        if base is None or not base.runs or not base.median:
            continue
        ratios = [f"{figure.subject} {figure.median / base.median:.2f}x" for figure in report.figures
                  if figure.metric == metric and figure.runs and figure is not base]
        lines.append(f"transports, {venue}: vs trio-websocket get_message() ({base.median:,.0f} trades/s): "
                     + "; ".join(ratios))
    return lines


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="bench.transports")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=120_000, help="Binance messages (Bybit: 2.5x as many trades)")
    args = parser.parse_args()
    report = Report()
    measure(report, args.runs, args.count,
            on_error=lambda what, error: report.skipped.append(f"{what}: {type(error).__name__}: {error}"))
    print(report.table())
    for line in summary(report):
        print(line)


if __name__ == "__main__":
    main()
