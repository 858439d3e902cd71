"""The signature check every venue performs, with the venue's own parts plugged in.

A dialect says what was signed (`SignedCall.payload`: Binance the query string and body, Bybit
``timestamp + key + recv_window + payload``), which algorithm signs it (`SignatureCheck.mac`) and how the
venue words each failure (`AuthWords`). The kit does the rest the same way for everyone: the key lookup,
a constant-time comparison, and the freshness rule ``now - recv_window <= timestamp < now + ahead_ms``
(with the venue's cap on the window, if it has one), in the venue's order (Bybit checks the time before
the signature, Binance after). A venue that checks the window again when it executes the request (Binance,
before forwarding to its matching engine) passes ``handled_ms``: a request that waited past its window is
refused then, in the same words.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Protocol, TypeVar

import attrs

from emulators.engine.accounts import ApiAccount, ApiAccounts
from emulators.engine.errors import VenueError
from emulators.engine.model import wall_ms

S = TypeVar("S")


def hmac_sha256_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def hmac_sha256_base64(secret: str, payload: str) -> str:
    """The HMAC-SHA256 digest in base64 (OKX's signatures); compare it case-sensitively."""
    return base64.b64encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()).decode()


class AuthWords(Protocol):
    """How a venue words each authentication failure."""

    def unknown_key(self) -> VenueError: ...

    def missing_signature(self) -> VenueError: ...

    def bad_signature(self, payload: str) -> VenueError: ...

    def malformed_time(self, name: str) -> VenueError:
        """The timestamp (``name`` "timestamp") or the receive window is not a whole number."""

    def window_too_wide(self, limit: int) -> VenueError: ...

    def stale(self, timestamp: str, recv_window: str, now: int) -> VenueError: ...


@attrs.frozen
class SignedCall:
    """What a signed request carries, as the dialect read it off the request."""

    api_key: str
    signature: str | None  # None: not sent
    payload: str  # exactly what the venue signs
    timestamp: str | None
    recv_window: str  # with the venue's default applied


@attrs.frozen
class SignatureCheck:
    """One venue's signature rule. ``mac(secret, payload)`` is the signature as the venue prints it;
    the one sent is compared case-insensitively (hex digests) unless ``case_sensitive`` (base64)."""

    mac: Callable[[str, str], str]
    words: AuthWords
    time_first: bool = False
    max_recv_window: int | None = None
    ahead_ms: int = 1000  # how far in the future a timestamp may be
    case_sensitive: bool = False  # True for signatures that are not hex digests (OKX's base64)

    def account(self, accounts: ApiAccounts[S], api_key: str) -> ApiAccount[S]:
        """The account behind ``api_key``, or the venue's unknown-key error."""
        account = accounts.get(api_key)
        if account is None:
            raise self.words.unknown_key()
        return account

    def verify(self, accounts: ApiAccounts[S], call: SignedCall, *, received_ms: int | None = None,
               handled_ms: int | None = None) -> ApiAccount[S]:
        """The caller's account, once the key, the signature and the timestamp all hold (on arrival,
        ``received_ms``, and again as the request is executed, ``handled_ms``, when given)."""
        account = self.account(accounts, call.api_key)
        if self.time_first:
            self.fresh(call.timestamp, call.recv_window, now=received_ms, handled=handled_ms)
            self.signature(account.api_secret, call.payload, call.signature)
        else:
            self.signature(account.api_secret, call.payload, call.signature)
            self.fresh(call.timestamp, call.recv_window, now=received_ms, handled=handled_ms)
        return account

    def signature(self, secret: str, payload: str, sent: str | None) -> None:
        if sent is None:
            raise self.words.missing_signature()
        sent = sent if self.case_sensitive else sent.lower()
        if not hmac.compare_digest(self.mac(secret, payload).encode(), sent.encode()):
            raise self.words.bad_signature(payload)

    def fresh(self, timestamp: str | None, recv_window: str, *, now: int | None = None,
              handled: int | None = None) -> None:
        if timestamp is None or not _milliseconds(timestamp):
            raise self.words.malformed_time("timestamp")
        if not _milliseconds(recv_window):
            raise self.words.malformed_time("recvWindow")
        window = int(recv_window)
        if self.max_recv_window is not None and window > self.max_recv_window:
            raise self.words.window_too_wide(self.max_recv_window)
        now = wall_ms() if now is None else now
        if not now - window <= int(timestamp) < now + self.ahead_ms:
            raise self.words.stale(timestamp, recv_window, now)
        if handled is not None and handled - int(timestamp) > window:
            raise self.words.stale(timestamp, recv_window, handled)


def _milliseconds(text: str) -> bool:
    """ASCII digits that fit a 64-bit millisecond count (Unicode digits and 5,000-digit numbers are malformed)."""
    return text.isascii() and text.isdecimal() and len(text) <= 19
