"""What every dialect shares: the engine it speaks for, its API accounts, its websockets, its engine events.

A dialect subclasses `DialectBase` with its per-account state (``DialectBase[Budget]``), names the shape of
its API keys (`key_shape`) and its signature rule (`signatures`) and how to start an account's state
(`new_account_state`), attaches its handlers to the engine's events (`attach`), and implements what the
server calls: `handle_http` and `http_fault_response` (`server.Dialect`). Its websockets are its ``ws``
module (`websockets`): `stream_kind`, `on_ws_open` and `on_ws_message` hand over to it (a dialect with
more than one kind of socket overrides them; binary frames are the dialect's own `on_ws_binary`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import attrs

from emulators.engine.accounts import ApiAccount, ApiAccounts, KeyShape
from emulators.engine.faults import StreamKind
from emulators.engine.hub import Hub
from emulators.engine.matching import Exchange
from emulators.engine.server import WsConnection
from emulators.engine.signing import SignatureCheck

S = TypeVar("S")


class WsHandlers(Protocol):
    """A dialect's websocket module: the paths it serves, and what it does when a socket opens and on
    each message (``dialect`` is the dialect it belongs to)."""

    def stream_kind(self, path: str) -> StreamKind | None: ...

    def on_open(self, dialect: Any, conn: WsConnection) -> None: ...

    def on_message(self, dialect: Any, conn: WsConnection, text: str) -> None: ...


@attrs.define(eq=False)
class DialectBase(Generic[S]):
    exchange: Exchange
    default_balances: Mapping[str, Decimal] | None = None  # new accounts' funds (None: the engine's defaults)
    enforce_limits: bool = True  # False: rate limits are counted and reported, never enforced
    hub: Hub = attrs.field(factory=Hub)
    accounts: ApiAccounts[S] = attrs.field(init=False)

    key_shape: ClassVar[KeyShape]  # how the venue's API keys and secrets look
    signatures: ClassVar[SignatureCheck]  # the venue's signature rule, in its words
    websockets: ClassVar[WsHandlers]  # the venue's ws module

    def __attrs_post_init__(self) -> None:
        self.accounts = ApiAccounts(self.exchange, self.key_shape, self.new_account_state, self.default_balances)

    def new_account_state(self) -> S:
        raise NotImplementedError

    def attach(self, **handlers: Callable[..., None]) -> None:
        """Register handlers for the engine's events by `Listeners` name; each is called with the dialect
        first, e.g. ``attach(on_trade=ws.on_trade)`` calls ``ws.on_trade(dialect, trade)``."""
        for event, handler in handlers.items():
            listeners: list[Any] = getattr(self.exchange.listeners, event)
            listeners.append(partial(handler, self))

    @property
    def connections(self) -> set[WsConnection]:
        return self.hub.connections

    def add_account(self, name: str, api_key: str | None = None, api_secret: str | None = None,
                    balances: Mapping[str, Decimal] | None = None, passphrase: str | None = None) -> ApiAccount[S]:
        return self.accounts.add(name, api_key, api_secret, balances, passphrase)

    def symbol_index(self, symbol: str) -> int:
        """The symbol's place among the engine's (stable for a run): a seed of deterministic venue ids."""
        return list(self.exchange.symbols).index(symbol)

    def stream_kind(self, path: str) -> StreamKind | None:
        return self.websockets.stream_kind(path)

    async def on_ws_open(self, conn: WsConnection) -> None:
        self.websockets.on_open(self, conn)

    async def on_ws_message(self, conn: WsConnection, text: str) -> None:
        self.websockets.on_message(self, conn, text)

    def on_ws_close(self, conn: WsConnection) -> None:
        self.hub.unregister(conn)
