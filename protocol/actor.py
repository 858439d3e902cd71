"""The shape of the conversation between the router and a venue actor.

The router (actors/) and the broker actor loop (brokers/) may not import each other; both speak
through this link: a mailbox of commands in, replies out, events out. It carries trio channels but
does no I/O itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import attrs
import trio

from protocol.messages import CommandMsg, EventMsg, ReplyMsg

Emit = Callable[[EventMsg], Awaitable[None]]
EmitMany = Callable[[list[EventMsg]], Awaitable[None]]
"""A burst of events handed over as one unit, in order (see `Outlet`)."""
T = TypeVar("T")


async def hand_over(channel: trio.MemorySendChannel[T], message: T) -> None:
    """Put ``message`` in ``channel`` at once while it has room, and wait only when it is full.

    One scheduler pass fewer per hop than ``send`` on the order path (commands in, replies out); the
    caller awaits the answer right after, which checkpoints anyway."""
    try:
        channel.send_nowait(message)
    except trio.WouldBlock:
        await channel.send(message)


@attrs.frozen
class Outlet:
    """An `Emit` that also takes a burst at once: ``await outlet(event)`` or ``await outlet.many(events)``.

    A stream that read several messages in one go (a public socket's burst, `brokers.stream.pump`)
    hands their events over with one ``many`` call instead of one call per event: one queue operation
    and one wake-up of the router per burst. Order is kept: a burst is delivered as if its events had
    been emitted one by one, and never overtakes what was emitted before it."""

    one: Emit
    many: EmitMany

    async def __call__(self, event: EventMsg) -> None:
        await self.one(event)


@attrs.frozen
class ActorLink:
    commands: trio.MemoryReceiveChannel[CommandMsg]
    replies: trio.MemorySendChannel[ReplyMsg]
    events: Emit
    events_many: EmitMany | None = None
    """The router's side of `Outlet.many` (None: bursts go event by event through ``events``)."""


class VenueActor(Protocol):
    """One incarnation of a venue's actor: ``task_status.started()`` when connected, raise on failure.

    The same callable is invoked again for every restart, so it owns whatever must survive one
    (the fill watermark, known orders, subscriptions).
    """

    def __call__(self, link: ActorLink, *,
                 task_status: trio.TaskStatus[None] = ...) -> Awaitable[None]: ...
