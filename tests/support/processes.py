"""`algotrendy` as real processes, for tests that must kill one (-9) or talk to it from outside."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

import attrs
import trio


@attrs.define(eq=False)
class Running:
    """A child process whose stdout is read line by line (every line kept in ``lines``)."""

    process: trio.Process
    lines: list[str] = attrs.field(factory=list)
    _buffer: bytes = b""
    _changed: trio.Event = attrs.field(factory=trio.Event)
    ended: bool = False

    async def pump(self) -> None:
        assert self.process.stdout is not None
        while True:
            chunk = await self.process.stdout.receive_some(65536)
            if not chunk:
                break
            self._buffer += chunk
            *complete, self._buffer = self._buffer.split(b"\n")
            self.lines += [line.decode() for line in complete]
            self._changed.set()
            self._changed = trio.Event()
        self.ended = True
        self._changed.set()

    async def wait_for(self, condition: Callable[[list[str]], bool], what: str) -> None:
        """Until ``condition(lines)`` holds; fails (with the output so far) if the process ends first."""
        while not condition(self.lines):
            if self.ended:
                raise AssertionError(f"process ended before {what}:\n" + "\n".join(self.lines[-40:]))
            await self._changed.wait()

    async def line_matching(self, pattern: str) -> re.Match[str]:
        regex = re.compile(pattern)
        await self.wait_for(lambda lines: any(regex.search(line) for line in lines), pattern)
        return next(m for line in self.lines if (m := regex.search(line)))

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind (the crash being tested)."""
        self.process.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)


Spawn = Callable[[list[str], Mapping[str, str] | None], Awaitable[Running]]


@asynccontextmanager
async def children() -> AsyncIterator[Spawn]:
    """``async with children() as spawn: await spawn(["run", ...], env)``; whatever is still running
    when the block ends (a failed test included) is killed, so no test leaves processes behind."""
    started: list[Running] = []
    async with trio.open_nursery() as nursery:

        async def spawn(args: list[str], env: Mapping[str, str] | None = None) -> Running:
            running = await start(nursery, args, env)
            started.append(running)
            return running

        try:
            yield spawn
        finally:
            for running in started:
                if running.process.returncode is None:
                    running.kill()
            nursery.cancel_scope.cancel()


async def start(nursery: trio.Nursery, args: list[str], env: Mapping[str, str] | None = None) -> Running:
    """``python -m algotrendy <args>`` with its stdout read in ``nursery``."""
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "algotrendy", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    running = Running(process)
    nursery.start_soon(running.pump)
    return running
