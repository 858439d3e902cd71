"""Order entry when answers get lost: an order is resent only once the venue can prove the first attempt dead.

A timeout, a 5xx or a dropped connection on order entry leaves the outcome unknown: the request may still be
on its way to the venue's matching engine. A lookup that does not find the order only means "not executed
*yet*". So the order is looked up (REST by client id, with backoff, while the private stream is watched for
it) until it appears, or until the first request can no longer execute; only then is it sent again, with
the same client id. What "can no longer execute" means is the venue's own rule, declared as data by its
client (`ResendRule`, from `Broker.resend_rule`); the default promises nothing, and then the caller is told
the outcome is unknown (`OrderOutcomeUnknown`) rather than given a guess. brokers/README.md, "Order entry",
says what a venue provides.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class ResendRule:
    """What a venue guarantees about an order-entry request whose answer was lost.

    Each venue's client returns its own from `Broker.resend_rule` (see brokers/README.md, "Order entry"). The
    default, `NO_GUARANTEE`, is safe: lookups only, then "outcome unknown", never a blind resend.
    """

    expires_after_ms: int | None = None
    """The venue will not act on the request once this long has passed on its clock since the request's signed
    timestamp (its signed window, plus a margin for a request already handed to the matching engine). None:
    the venue gives no such bound."""
    unique_client_ids: bool = False
    """The venue refuses, as a duplicate, any order whose client id it has ever seen (closed orders included),
    so a resend can never make a second order: it is safe at once."""
    clock_uncertainty_ms: int = 0
    """How far our view of the venue's clock may be off: half the round trip of the clock sync, plus a margin."""
    source: str = ""
    """Where the venue documents the rule, with the date of the docs read."""

    def expired_at(self, failed_at: float) -> float | None:
        """The trio time from which a request whose send failed at ``failed_at`` can no longer execute, or None.

        The request's signed timestamp is at the latest the venue-clock time at which its send failed, so the
        bound counts from there; waiting on trio's clock (monotonic, and the virtual clock in tests) is
        comparing on the venue's clock up to `clock_uncertainty_ms`, which is added.
        """
        if self.expires_after_ms is None:
            return None
        return failed_at + (self.expires_after_ms + self.clock_uncertainty_ms) / 1000

    def resend_at(self, failed_at: float) -> float | None:
        """From when sending the order again cannot make a second one (None: never provable)."""
        return failed_at if self.unique_client_ids else self.expired_at(failed_at)


NO_GUARANTEE = ResendRule()
"""A venue that declares nothing: a lost placement is looked up, and reported unknown if not found."""

CLOCK_MARGIN_MS = 1000
"""Added to half the clock sync's round trip: clock drift between syncs, and millisecond truncation."""
