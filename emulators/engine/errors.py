"""The one error every dialect raises, and the tables that word the engine's refusals.

A `VenueError` carries what any venue's refusal needs (HTTP status, the venue's code, its message, extra
headers such as Retry-After); each dialect renders it in its own body shape (Binance ``{"code", "msg"}``
with the status, Bybit an HTTP 200 envelope with ``retCode``). Kit helpers raise it with words the
dialect supplies, never their own.

The engine refuses with a venue-neutral `RejectReason`; a dialect maps every reason to its venue's code
and message in a `RejectionTable` (one row per reason, no fallback), so a new reason cannot slip through
unworded: the registry test checks every registered dialect's tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from emulators.engine.model import Rejected, RejectReason

Headers = list[tuple[bytes, bytes]]


class VenueError(Exception):
    """A refusal in the venue's words: HTTP status, venue code, message, and headers to add."""

    def __init__(self, status: int, code: int | str, message: str, headers: Headers | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers: Headers = list(headers or [])


@attrs.frozen
class Refusal:
    """How a venue words one refusal. ``message`` may name ``{reason}`` (the engine's reason) and ``{detail}``."""

    status: int
    code: int | str
    message: str

    def error(self, rejected: Rejected) -> VenueError:
        return VenueError(self.status, self.code,
                          self.message.format(reason=rejected.reason.value, detail=rejected.detail))


RejectionTable = Mapping[RejectReason, Refusal]


def refuse(table: RejectionTable, rejected: Rejected) -> VenueError:
    """The venue's error for an engine refusal."""
    return table[rejected.reason].error(rejected)


def unworded(table: RejectionTable) -> list[RejectReason]:
    """Reasons a table has no row for (a complete table has none)."""
    return [reason for reason in RejectReason if reason not in table]
