"""The typed error hierarchy (design §7) and its wire form.

Every failure a caller can see is a `BrokerError` subclass carrying the venue, the venue's own code
and message, and whether retrying can help. Each venue maps its codes to these classes in one table
(`brokers/<venue>/errors.py`). `ErrorInfo` is the same error as a msgspec Struct, so a reply can carry
it across the control API and be raised again on the other side, class and fields intact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import msgspec


class ErrorInfo(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    message: str
    venue: str | None = None
    code: str | None = None
    venue_message: str | None = None
    retryable: bool = False
    retry_after: Decimal | None = None
    filter: str | None = None
    rule: str | None = None
    client_order_id: str | None = None


class BrokerError(Exception):
    """Base of every error AlgoTrendy raises about a venue or an order."""

    retryable_default: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        venue: str | None = None,
        code: str | int | None = None,
        venue_message: str | None = None,
        retryable: bool | None = None,
        client_order_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.venue = venue
        self.code = None if code is None else str(code)
        self.venue_message = venue_message
        self.retryable = self.retryable_default if retryable is None else retryable
        self.client_order_id = client_order_id

    def __str__(self) -> str:
        where = f"[{self.venue}" + (f" {self.code}" if self.code else "") + "] " if self.venue else ""
        detail = f" (venue says: {self.venue_message})" if self.venue_message else ""
        return f"{where}{self.message}{detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def to_info(self) -> ErrorInfo:
        info = ErrorInfo(
            kind=type(self).__name__,
            message=self.message,
            venue=self.venue,
            code=self.code,
            venue_message=self.venue_message,
            retryable=self.retryable,
            client_order_id=self.client_order_id,
        )
        extra = self._extra_info()
        return msgspec.structs.replace(info, **extra) if extra else info

    def _extra_info(self) -> dict[str, Any]:
        return {}


class AuthenticationError(BrokerError):
    """Bad or missing credentials, bad signature. Permanent: the supervisor stops retrying."""


class PermissionDenied(BrokerError):
    """The key is valid but lacks a permission (trading, a market, an IP). Permanent."""


class RateLimited(BrokerError):
    retryable_default = True

    def __init__(self, message: str, *, retry_after: Decimal | float | None = None, banned: bool = False,
                 **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = None if retry_after is None else Decimal(str(retry_after))
        self.banned = banned

    def _extra_info(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class InsufficientFunds(BrokerError):
    pass


class InvalidOrder(BrokerError):
    """The order breaks a rule of the instrument or the venue; `filter` names which (e.g. LOT_SIZE)."""

    def __init__(self, message: str, *, filter: str | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.filter = filter

    def _extra_info(self) -> dict[str, Any]:
        return {"filter": self.filter}


class OrderNotFound(BrokerError):
    pass


class DuplicateOrder(BrokerError):
    """The client order id is already used at the venue: the order exists (look it up, do not resend)."""


class MarketClosed(BrokerError):
    retryable_default = True


class NotConnected(BrokerError):
    """The venue's actor is not connected right now (starting, reconnecting or stopped)."""

    retryable_default = True


class VenueUnavailable(BrokerError):
    """5xx, network failure or timeout. The outcome of a write may be unknown: see `client_order_id`."""

    retryable_default = True


class NotExecuted(VenueUnavailable):
    """The venue certainly did not act on the request: it never left us (no connection could be opened), or
    it was lost and is proven expired unexecuted (brokers/README.md, "Order entry"). Nothing happened at the
    venue; sending it again (an order with the same client id) is safe."""


class OrderOutcomeUnknown(VenueUnavailable):
    """An order was sent, its answer was lost, and whether the venue executed it cannot be told yet: lookups
    did not find it and the venue's bound (the time after which the request can no longer execute) has not
    been established. Never a guess: the order is kept to be resolved, and an order event for
    `client_order_id` follows once it is (its state at the venue, or REJECTED with a reason saying it never
    reached the venue). Retrying with the same client id is safe: it gets this order's outcome, never a
    second order."""


class NotSupported(BrokerError):
    """The venue cannot do this; never answered with a fake value instead."""


class RiskRejected(BrokerError):
    """A pre-trade check refused the order before it reached any venue; `rule` names the check."""

    def __init__(self, message: str, *, rule: str, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.rule = rule

    def _extra_info(self) -> dict[str, Any]:
        return {"rule": self.rule}


class ProtocolViolation(BrokerError):
    """The venue (or a peer) sent something we cannot parse or that breaks its own rules."""

    retryable_default = True


class SubscriberOverflow(BrokerError):
    """An event subscriber fell so far behind on events that must not be dropped that it was closed."""


_KINDS: dict[str, type[BrokerError]] = {
    cls.__name__: cls
    for cls in (
        BrokerError, AuthenticationError, PermissionDenied, RateLimited, InsufficientFunds, InvalidOrder,
        OrderNotFound, DuplicateOrder, MarketClosed, NotConnected, VenueUnavailable, NotExecuted,
        OrderOutcomeUnknown, NotSupported, RiskRejected, ProtocolViolation, SubscriberOverflow,
    )
}


def error_from_info(info: ErrorInfo) -> BrokerError:
    """Rebuild the typed exception from its wire form (unknown kinds become a plain `BrokerError`)."""
    cls = _KINDS.get(info.kind, BrokerError)
    common: dict[str, Any] = {
        "venue": info.venue,
        "code": info.code,
        "venue_message": info.venue_message,
        "retryable": info.retryable,
        "client_order_id": info.client_order_id,
    }
    if cls is RateLimited:
        return RateLimited(info.message, retry_after=info.retry_after, **common)
    if cls is InvalidOrder:
        return InvalidOrder(info.message, filter=info.filter, **common)
    if cls is RiskRejected:
        return RiskRejected(info.message, rule=info.rule or "unknown", **common)
    return cls(info.message, **common)  # type: ignore[arg-type]
