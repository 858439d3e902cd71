"""A dialect's REST routes as data: (method, path) -> `Route` (handler, who may call it, what it costs).

With the table as data, a dialect authenticates and counts a request from its route before the handler
runs, and refuses any path the table does not hold in its own words, in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Generic, TypeVar

import attrs

from emulators.engine.accounts import ApiAccount

D = TypeVar("D")  # the dialect a handler serves
S = TypeVar("S")  # the dialect's per-account state

Params = Mapping[str, Any]


class Auth(Enum):
    NONE = "none"  # public
    API_KEY = "api key"  # the key alone (e.g. Binance's user data stream)
    SIGNED = "signed"  # the key and a signature


@attrs.frozen
class Call(Generic[S]):
    """One request as a handler sees it: its parameters and, on authenticated routes, the caller."""

    params: Params
    caller: ApiAccount[S] | None = None

    @property
    def account(self) -> ApiAccount[S]:
        assert self.caller is not None, "only authenticated routes ask for the caller"
        return self.caller


@attrs.frozen
class Route(Generic[D, S]):
    handler: Callable[[D, Call[S]], Any]
    weight: int | Callable[[Params], int] = 1  # the venue's cost of one call, fixed or by its parameters
    auth: Auth = Auth.NONE
    counts_order: bool = False  # counted against the venue's order-rate limits too

    def cost(self, params: Params) -> int:
        return self.weight(params) if callable(self.weight) else self.weight
