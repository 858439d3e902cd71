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
class ActorLink:
    commands: trio.MemoryReceiveChannel[CommandMsg]
    replies: trio.MemorySendChannel[ReplyMsg]
    events: Emit


class VenueActor(Protocol):
    """One incarnation of a venue's actor: ``task_status.started()`` when connected, raise on failure.

    The same callable is invoked again for every restart, so it owns whatever must survive one
    (the fill watermark, known orders, subscriptions).
    """

    def __call__(self, link: ActorLink, *,
                 task_status: trio.TaskStatus[None] = ...) -> Awaitable[None]: ...
