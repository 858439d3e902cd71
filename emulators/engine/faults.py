"""Fault injection, driven by tests while an emulator runs.

One `Faults` object per emulated venue. The HTTP side consults it for every request
(`before_request`), the websocket side for every message (`outgoing`), and the server for whether
to accept connections at all. Counts are consumed as faults fire, so a schedule is exact.

Order entry has its own vocabulary (issue 11), each fault targetable by path prefix and method: a request
executed *late* (`slow_responses`: the venue waits, then checks and executes it, as a congested venue
does; longer than the client's timeout, it runs after the client gave up), executed with its answer lost
(`lose_responses`), executed and then its connection reset (`reset_after_executing`: the client sees a
transport error), and the venue cancelling our open orders on its own (`venue_cancels_open_orders`, e.g.
while the client is disconnected). Dialects with request/answer websockets (Binance's WebSocket API) take
the same faults by method name.
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


def _matches(path_prefix: str | None, method: str | None, path: str | None, request_method: str | None) -> bool:
    """Whether a request (``path`` and ``request_method``; None: not known to the caller) is targeted."""
    if path_prefix is not None and (path is None or not path.startswith(path_prefix)):
        return False
    return method is None or (request_method is not None and request_method.upper() == method.upper())


@attrs.define
class Faults:
    refusing: bool = False
    http_errors: list[HttpFault] = attrs.field(factory=list)
    slow_delay: float = 0.0
    slow_remaining: int = 0
    slow_path: str | None = None
    slow_method: str | None = None
    lose_remaining: int = 0
    lose_path: str | None = None
    lose_method: str | None = None
    reset_remaining: int = 0
    reset_path: str | None = None
    reset_method: str | None = None
    duplicate: dict[str, int] = attrs.field(factory=dict)
    reorder: dict[str, int] = attrs.field(factory=dict)
    # Set by the server: how to drop/stall live websockets and stop/restart listening.
    drop_hook: Callable[[StreamKind], None] | None = None
    stall_hook: Callable[[float, StreamKind], None] | None = None
    refuse_hook: Callable[[bool], None] | None = None
    expire_hook: Callable[[StreamKind], None] | None = None
    # Set by `emulators.emulate`: cancel an account's open orders as the venue would on its own.
    cancel_open_hook: Callable[[str], int] | None = None
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

    def slow_responses(self, delay_seconds: float, count: int = 1, path: str | None = None,
                       method: str | None = None) -> None:
        """Wait ``delay_seconds`` *before* handling the next ``count`` matching requests (path prefix, method):
        the venue checks and executes them late, after a client's timeout if it is longer (signed requests
        whose window passed meanwhile are refused at that moment, as the venue refuses them)."""
        self.slow_delay, self.slow_remaining, self.slow_path, self.slow_method = delay_seconds, count, path, method
        self.log.append(f"slow {delay_seconds}s x{count} {method or ''} {path or ''}")

    def lose_responses(self, count: int = 1, path: str | None = None, method: str | None = None) -> None:
        """Execute the next matching requests but never answer them."""
        self.lose_remaining, self.lose_path, self.lose_method = count, path, method
        self.log.append(f"lose x{count} {method or ''} {path or ''}")

    def reset_after_executing(self, count: int = 1, path: str | None = None, method: str | None = None) -> None:
        """Execute the next matching requests, then reset their connection instead of answering: the client
        sees a transport error (an HTTP answer cut off; a websocket dropped) for a request that did execute."""
        self.reset_remaining, self.reset_path, self.reset_method = count, path, method
        self.log.append(f"reset x{count} {method or ''} {path or ''}")

    def venue_cancels_open_orders(self, account: str = "demo") -> int:
        """The venue cancels every open order of ``account`` on its own (the orders' private events go to
        whatever streams are open: none, while the client is disconnected). How many it cancelled."""
        self.log.append(f"venue cancels {account}")
        return self.cancel_open_hook(account) if self.cancel_open_hook is not None else 0

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
        self.slow_remaining = self.lose_remaining = self.reset_remaining = 0
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

    async def delay(self, path: str | None = None, method: str | None = None) -> None:
        """Wait, if the request (``path``, ``method``; None: any) is one `slow_responses` targets."""
        if self.slow_remaining > 0 and _matches(self.slow_path, self.slow_method, path, method):
            self.slow_remaining -= 1
            await trio.sleep(self.slow_delay)

    def take_lose(self, path: str, method: str | None = None) -> bool:
        if self.lose_remaining > 0 and _matches(self.lose_path, self.lose_method, path, method):
            self.lose_remaining -= 1
            return True
        return False

    def take_reset(self, path: str, method: str | None = None) -> bool:
        if self.reset_remaining > 0 and _matches(self.reset_path, self.reset_method, path, method):
            self.reset_remaining -= 1
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

