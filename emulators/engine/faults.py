"""Fault injection, driven by tests while an emulator runs.

One `Faults` object per emulated venue. The HTTP side consults it for every request
(`before_request`), the websocket side for every message (`outgoing`), and the server for whether
to accept connections at all. Counts are consumed as faults fire, so a schedule is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs
import trio

StreamKind = Literal["public", "private", "all"]


@attrs.define
class HttpFault:
    status: int
    remaining: int
    path: str | None = None
    retry_after: int | None = None


@attrs.define
class Faults:
    refusing: bool = False
    http_errors: list[HttpFault] = attrs.field(factory=list)
    slow_delay: float = 0.0
    slow_remaining: int = 0
    lose_remaining: int = 0
    lose_path: str | None = None
    duplicate: dict[str, int] = attrs.field(factory=dict)
    reorder: dict[str, int] = attrs.field(factory=dict)
    # Set by the server: how to drop/stall live websockets and stop/restart listening.
    drop_hook: Callable[[StreamKind], None] | None = None
    stall_hook: Callable[[float, StreamKind], None] | None = None
    refuse_hook: Callable[[bool], None] | None = None
    expire_hook: Callable[[StreamKind], None] | None = None
    log: list[str] = attrs.field(factory=list)

    # ------------------------------------------------------------------ the test-facing API
    def refuse_connections(self, on: bool = True) -> None:
        """While on, the venue is unreachable: nothing listens, live websockets are dropped."""
        self.refusing = on
        self.log.append(f"refuse={on}")
        if self.refuse_hook is not None:
            self.refuse_hook(on)

    def http_error(self, status: int, count: int = 1, path: str | None = None,
                   retry_after: int | None = None) -> None:
        self.http_errors.append(HttpFault(status, count, path, retry_after))
        self.log.append(f"http {status} x{count} {path or ''}")

    def slow_responses(self, delay_seconds: float, count: int = 1) -> None:
        self.slow_delay, self.slow_remaining = delay_seconds, count

    def lose_responses(self, count: int = 1, path: str | None = None) -> None:
        """Execute the next matching requests but never answer them."""
        self.lose_remaining, self.lose_path = count, path

    def drop_streams(self, kind: StreamKind = "all") -> None:
        self.log.append(f"drop {kind}")
        if self.drop_hook is not None:
            self.drop_hook(kind)

    def stall_streams(self, seconds: float, kind: StreamKind = "all") -> None:
        """Send nothing on live websockets of ``kind`` for ``seconds``, then drop them."""
        self.log.append(f"stall {kind} {seconds}")
        if self.stall_hook is not None:
            self.stall_hook(seconds, kind)

    def expire_connections(self, kind: StreamKind = "all") -> None:
        """Live websockets of ``kind`` reach the venue's connection lifetime (Binance: 24 hours) now, and are
        closed as the venue closes them at that mark: the limit as a fault, not a day of waiting."""
        self.log.append(f"expire {kind}")
        if self.expire_hook is not None:
            self.expire_hook(kind)

    def duplicate_messages(self, count: int = 1, kind: StreamKind = "all") -> None:
        self.duplicate[kind] = self.duplicate.get(kind, 0) + count

    def reorder_messages(self, count: int = 1, kind: StreamKind = "all") -> None:
        self.reorder[kind] = self.reorder.get(kind, 0) + count

    def clear(self) -> None:
        if self.refusing:
            self.refuse_connections(False)
        self.http_errors.clear()
        self.slow_remaining = self.lose_remaining = 0
        self.duplicate.clear()
        self.reorder.clear()

    # ------------------------------------------------------------------ used by the server
    def take_http_error(self, path: str) -> HttpFault | None:
        for fault in self.http_errors:
            if fault.remaining > 0 and (fault.path is None or path.startswith(fault.path)):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.http_errors.remove(fault)
                return fault
        return None

    async def delay(self) -> None:
        if self.slow_remaining > 0:
            self.slow_remaining -= 1
            await trio.sleep(self.slow_delay)

    def take_lose(self, path: str) -> bool:
        if self.lose_remaining > 0 and (self.lose_path is None or path.startswith(self.lose_path)):
            self.lose_remaining -= 1
            return True
        return False

    def _take(self, table: dict[str, int], kind: str) -> bool:
        for key in (kind, "all"):
            if table.get(key, 0) > 0:
                table[key] -= 1
                return True
        return False

    def take_duplicate(self, kind: str) -> bool:
        return self._take(self.duplicate, kind)

    def take_reorder(self, kind: str) -> bool:
        return self._take(self.reorder, kind)

