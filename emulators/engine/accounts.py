"""API accounts: who may call a dialect, with which key and secret, and what the dialect keeps per account.

An `ApiAccount` is one set of credentials bound to one engine account (its name); ``state`` is whatever the
dialect counts per account (Binance: its rate budget; Bybit: its per-endpoint windows). `ApiAccounts` is the
registry by API key: adding an account opens it in the engine with its funds, and keys a test does not
choose are generated in the venue's shape (length and alphabet), so clients that check them are satisfied.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Generic, TypeVar

import attrs

from emulators.engine.matching import Exchange

S = TypeVar("S")


@attrs.frozen
class KeyShape:
    """How the venue's API keys and secrets look."""

    key_length: int
    secret_length: int
    alphabet: str = string.ascii_letters + string.digits

    def generate(self, length: int) -> str:
        return "".join(secrets.choice(self.alphabet) for _ in range(length))


HEX_64 = KeyShape(64, 64, "0123456789abcdef")


@attrs.define(eq=False)
class ApiAccount(Generic[S]):
    """One set of API credentials, the engine account it trades for, and the dialect's state for it."""

    name: str  # the engine account
    api_key: str
    api_secret: str = attrs.field(repr=False)
    uid: int
    state: S
    passphrase: str | None = attrs.field(default=None, repr=False)  # venues that ask for a third credential


@attrs.define(eq=False)
class ApiAccounts(Generic[S]):
    """The registry by API key. ``new_state`` makes a fresh per-account state for the dialect."""

    exchange: Exchange
    shape: KeyShape
    new_state: Callable[[], S]
    default_balances: Mapping[str, Decimal] | None = None  # None: the engine's defaults
    first_uid: int = 100_000_001
    by_key: dict[str, ApiAccount[S]] = attrs.field(factory=dict)

    def add(self, name: str, api_key: str | None = None, api_secret: str | None = None,
            balances: Mapping[str, Decimal] | None = None, passphrase: str | None = None) -> ApiAccount[S]:
        """Register credentials for ``name`` (generated in the venue's shape unless given) and open the
        engine account with ``balances`` (or the dialect's defaults)."""
        account = ApiAccount(name, api_key or self.shape.generate(self.shape.key_length),
                             api_secret or self.shape.generate(self.shape.secret_length),
                             self.first_uid + len(self.by_key), self.new_state(), passphrase)
        self.by_key[account.api_key] = account
        funds = balances if balances is not None else self.default_balances
        self.exchange.open_account(name, dict(funds) if funds is not None else None)
        return account

    def get(self, api_key: str) -> ApiAccount[S] | None:
        return self.by_key.get(api_key)
