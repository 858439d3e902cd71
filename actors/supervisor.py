"""Restart policy for broker actors (design §5).

`supervise` runs one venue's actor forever: on failure it waits an exponentially growing, fully
jittered delay and starts a new incarnation (which reconnects and reconciles); after a period of
health the attempt counter resets; a permanent error (bad credentials, missing permission) stops
the venue and says why. Every transition is published as a `BrokerStatus` event.

A venue fails in expected ways with `BrokerError`s and I/O errors. Anything else (TypeError,
KeyError, AttributeError, ...) is a programming error in the venue's client: restarting cannot fix
it. One such failure is retried once (a rare message or a rarely used command may have hit it, and
the rest of the venue works); the same again before the venue has been healthy for
``healthy_after`` stops the venue, the error shown in its status and the traceback logged, instead
of restarting it forever.

The policy (`protocol.backoff.BackoffPolicy`, shared with the brokers' public sockets) is a pure
function of (attempt, random draw) so property tests can check its bounds, and
the loop only sleeps with `trio.sleep`, so it runs on trio's virtual clock in tests.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Protocol

import attrs
import trio

from protocol import messages as m
from protocol.backoff import BackoffPolicy as BackoffPolicy  # re-exported
from protocol.errors import AuthenticationError, BrokerError, PermissionDenied
from protocol.model import utc_now

log = logging.getLogger(__name__)

PERMANENT_ERRORS: tuple[type[BrokerError], ...] = (AuthenticationError, PermissionDenied)


class Incarnation(Protocol):
    """Runs one life of a venue's actor; calls ``task_status.started()`` when CONNECTED."""

    def __call__(self, *, task_status: trio.TaskStatus[None] = ...) -> Awaitable[None]: ...


PublishStatus = Callable[[m.BrokerStatus], Awaitable[None]]


def _first_leaf(error: BaseException, wanted: Callable[[BaseException], bool]) -> BaseException | None:
    """The first failure inside ``error`` (which may be a nursery's ExceptionGroup) that is ``wanted``."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _first_leaf(inner, wanted)
            if found is not None:
                return found
        return None
    return error if wanted(error) else None


def permanent_cause(error: BaseException) -> BrokerError | None:
    """The first permanent error inside ``error``."""
    found = _first_leaf(error, lambda leaf: isinstance(leaf, PERMANENT_ERRORS))
    return found if isinstance(found, BrokerError) else None


# What a venue's failures are expected to be: typed venue errors and I/O (closed streams, timeouts).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    BrokerError, OSError, trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError, trio.EndOfChannel)


def programming_error(error: BaseException) -> BaseException | None:
    """The first failure inside ``error`` that no venue should raise (a bug in its client)."""
    return _first_leaf(error, lambda leaf: not isinstance(leaf, TRANSIENT_ERRORS))


def describe(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(e) for e in error.exceptions)
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@attrs.define
class SupervisorStats:
    attempts: int = 0
    restarts: int = 0
    delays: list[float] = attrs.field(factory=list)


async def supervise(
    venue: str,
    incarnation: Incarnation,
    publish: PublishStatus,
    *,
    policy: BackoffPolicy | None = None,
    rng: random.Random | None = None,
    on_down: Callable[[], None] | None = None,
    stats: SupervisorStats | None = None,
) -> None:
    """Keep ``venue``'s actor running until cancelled or a permanent error; never raises otherwise."""
    policy = policy or BackoffPolicy()
    rng = rng or random.Random()
    stats = stats if stats is not None else SupervisorStats()
    attempt = 0
    bug_before = False  # the previous incarnation ended in a programming error, with no healthy spell since
    while True:
        await publish(m.BrokerStatus(venue=venue, state=m.ConnectionState.CONNECTING, attempt=attempt,
                                     timestamp=utc_now()))
        connected_at: float | None = None
        failure: BaseException
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(_run_incarnation, incarnation)
                connected_at = trio.current_time()
                await publish(m.BrokerStatus(venue=venue, state=m.ConnectionState.CONNECTED,
                                             attempt=attempt, timestamp=utc_now()))
            failure = BrokerError("actor ended without an error", venue=venue)
        except Exception as error:  # the supervisor's job: classify, report, restart
            failure = error
        finally:
            if on_down is not None:
                on_down()
        stats.attempts += 1
        permanent = permanent_cause(failure)
        if permanent is not None:
            log.error("%s stopped: %s", venue, permanent)
            await publish(m.BrokerStatus(venue=venue, state=m.ConnectionState.STOPPED, attempt=attempt,
                                         reason=describe(permanent), permanent=True, timestamp=utc_now()))
            return
        healthy = connected_at is not None and trio.current_time() - connected_at >= policy.healthy_after
        bug = programming_error(failure)
        if bug is not None:
            log.error("%s: programming error in its client", venue, exc_info=bug)
            if bug_before and not healthy:
                await publish(m.BrokerStatus(
                    venue=venue, state=m.ConnectionState.STOPPED, attempt=attempt, permanent=True,
                    reason=f"programming error in the {venue} client, twice: {describe(bug)} (not restarted; "
                           "the traceback is in the log)", timestamp=utc_now()))
                return
        bug_before = bug is not None
        if healthy:
            attempt = 0
        attempt += 1
        delay = policy.delay(attempt, rng)
        stats.restarts += 1
        stats.delays.append(delay)
        log.warning("%s down (%s); attempt %d in %.2fs", venue, describe(failure), attempt, delay)
        await publish(m.BrokerStatus(venue=venue, state=m.ConnectionState.RECONNECTING, attempt=attempt,
                                     next_delay=delay, reason=describe(failure), timestamp=utc_now()))
        await trio.sleep(delay)


async def _run_incarnation(incarnation: Incarnation, *,
                           task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    await incarnation(task_status=task_status)
