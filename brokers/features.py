"""What a venue can do with an order, declared as data, and the check that refuses anything else.

Each venue declares one `OrderFeatures` per market type it trades (in its constants.py). Before an
order is sent, `check_order_features` refuses with `NotSupported` every field of the request that
the venue cannot honour, so nothing a caller asks for is ever silently ignored (a time in force on
a Binance market order, a trailing stop on a crypto venue, extended hours on a 24/7 venue ...).

The default time in force (GTC) on an order type that takes none means "unspecified": venues list
GTC for such types, and only a non-default value is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from protocol.errors import NotSupported
from protocol.model import MarketType, OrderClass, OrderRequest, OrderType, TimeInForce

GTC_ONLY = frozenset({TimeInForce.GTC})


@attrs.frozen
class OrderFeatures:
    """The order types a market takes, the times in force of each, and the optional order fields."""

    time_in_force: Mapping[OrderType, frozenset[TimeInForce]]
    """Order type -> the times in force it takes (every order type the venue takes is a key)."""
    notional: bool = False  # an order sized in quote currency (``notional``) instead of ``quantity``
    extended_hours: bool = False  # stocks: pre- and after-market sessions
    leverage: bool = False  # a leverage per order (Kraken margin orders)
    margin_mode: bool = False  # a margin mode per order (OKX ``tdMode``)
    reduce_only: bool = False
    order_classes: frozenset[OrderClass] = frozenset({OrderClass.SIMPLE})

    @property
    def order_types(self) -> frozenset[OrderType]:
        return frozenset(self.time_in_force)


# (what the request asks for, is it asked, can the venue do it): one row per optional field.
_OPTIONAL: list[tuple[str, Callable[[OrderRequest], bool], Callable[[OrderFeatures], bool]]] = [
    ("notional orders", lambda r: r.notional is not None, lambda f: f.notional),
    ("trailing stops", lambda r: r.trail_price is not None or r.trail_percent is not None,
     lambda f: OrderType.TRAILING_STOP in f.time_in_force),
    ("extended hours", lambda r: r.extended_hours, lambda f: f.extended_hours),
    ("leverage per order", lambda r: r.leverage is not None, lambda f: f.leverage),
    ("a margin mode per order", lambda r: r.margin_mode is not None, lambda f: f.margin_mode),
    ("reduce-only orders", lambda r: r.reduce_only, lambda f: f.reduce_only),
    ("take-profit / stop-loss legs",
     lambda r: r.take_profit_price is not None or r.stop_loss_price is not None or r.stop_loss_limit_price is not None,
     lambda f: f.order_classes != {OrderClass.SIMPLE}),
]


def check_order_features(request: OrderRequest, features: OrderFeatures | None, *, venue: str,
                         market: MarketType | str) -> None:
    """Raise `NotSupported` (saying what and where) if ``request`` asks for more than ``features``."""

    def refuse(what: str) -> NotSupported:
        return NotSupported(f"{venue} {market} does not take {what}", venue=venue,
                            client_order_id=request.client_order_id)

    if features is None:
        raise refuse("orders")
    allowed = features.time_in_force.get(request.type)
    if allowed is None:
        raise refuse(f"{request.type} orders (it takes {', '.join(sorted(features.time_in_force))})")
    if request.time_in_force not in allowed:
        raise refuse(f"time in force {request.time_in_force} on {request.type} orders "
                     f"(it takes {', '.join(sorted(allowed))})")
    for what, asked, can in _OPTIONAL:
        if asked(request) and not can(features):
            raise refuse(what)
    if request.order_class not in features.order_classes:
        raise refuse(f"{request.order_class} order classes")
