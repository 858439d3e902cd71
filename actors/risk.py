"""Pre-trade risk checks, run by the router before an order reaches any venue.

Each rule is optional (None = off) and applies to every venue alike. A refusal is a `RiskRejected`
naming the rule; nothing is sent. Reference prices come from the router's stream cache, falling
back to a ticker request, and positions from the venue (only when a position limit is set, so an
unconfigured check costs nothing on the order path). Without a reference price a price-based rule
refuses the order: failing closed is the only safe answer when the check cannot be made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import attrs
import msgspec

from protocol.errors import RiskRejected
from protocol.model import Instrument, OrderRequest, OrderType, Position, PositionSide, Side


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    max_order_notional: Decimal | None = None
    max_position: Decimal | None = None
    max_position_per_symbol: dict[str, Decimal] = msgspec.field(default_factory=dict)
    price_band_pct: Decimal | None = None  # limit price within this % of the last price
    max_leverage: Decimal | None = None


PriceLookup = Callable[[str, str], Awaitable[Decimal | None]]
PositionLookup = Callable[[str, str], Awaitable[Position]]
InstrumentLookup = Callable[[str, str], Awaitable[Instrument | None]]


async def _no_instrument(venue: str, symbol: str) -> Instrument | None:
    return None


def signed_quantity(position: Position) -> Decimal:
    if position.side is PositionSide.SHORT:
        return -position.quantity
    return position.quantity if position.side is PositionSide.LONG else Decimal(0)


@attrs.define
class RiskEngine:
    limits: RiskLimits
    kill_switch_reason: str | None = None
    rejections: int = 0
    by_rule: dict[str, int] = attrs.field(factory=dict)  # rejections per rule (journaled, so lasting)

    @property
    def kill_switch_engaged(self) -> bool:
        return self.kill_switch_reason is not None

    def engage_kill_switch(self, reason: str) -> None:
        self.kill_switch_reason = reason or "engaged"

    def release_kill_switch(self) -> None:
        self.kill_switch_reason = None

    def _count(self, rule: str) -> None:
        self.rejections += 1
        self.by_rule[rule] = self.by_rule.get(rule, 0) + 1

    def restore(self, kill_switch_reason: str | None, by_rule: dict[str, int]) -> None:
        """State from the journal: the kill switch stays engaged across a restart, counts go on."""
        self.kill_switch_reason = kill_switch_reason
        self.by_rule = dict(by_rule)
        self.rejections = sum(by_rule.values())

    def _reject(self, rule: str, message: str, request: OrderRequest) -> RiskRejected:
        self._count(rule)
        return RiskRejected(message, rule=rule, venue=request.venue, client_order_id=request.client_order_id,
                            retryable=False)

    async def check(self, request: OrderRequest, price_of: PriceLookup, position_of: PositionLookup,
                    instrument_of: InstrumentLookup = _no_instrument) -> RiskRejected | None:
        """The first rule ``request`` breaks, or None when it may go.

        Notional is in the quote currency, by `Instrument.notional` when the instrument is known
        (inverse contracts are worth their face value, whatever the price).
        """
        limits = self.limits
        if self.kill_switch_engaged:
            return self._reject("kill_switch", f"kill switch engaged ({self.kill_switch_reason}): "
                                "no new orders", request)
        cap = limits.max_position_per_symbol.get(request.symbol, limits.max_position)
        is_notional_order = request.notional is not None
        needs_last = limits.price_band_pct is not None or (
            limits.max_order_notional is not None and (request.type is OrderType.MARKET or request.price is None)
            and not is_notional_order) or (cap is not None and is_notional_order)
        last: Decimal | None = None
        if needs_last:
            last = await price_of(request.venue, request.symbol)
            if last is None:
                return self._reject("reference_price", f"no last price for {request.symbol} on "
                                    f"{request.venue}: price-based risk checks cannot run", request)
        if limits.price_band_pct is not None and request.price is not None and last is not None:
            band = last * limits.price_band_pct / 100
            if abs(request.price - last) > band:
                return self._reject("price_band", f"price {request.price} is more than {limits.price_band_pct}% "
                                    f"from the last price {last}", request)
        if limits.max_order_notional is not None:
            if request.notional is not None:
                notional = request.notional  # a notional order (stocks) states its value itself
            else:
                reference = request.price if request.price is not None else last
                assert reference is not None
                instrument = await instrument_of(request.venue, request.symbol)
                notional = instrument.notional(request.quantity, reference) if instrument is not None \
                    else request.quantity * reference
            if notional > limits.max_order_notional:
                return self._reject("max_order_notional", f"order notional {notional} exceeds the limit "
                                    f"{limits.max_order_notional}", request)
        if cap is not None and not request.reduce_only:
            current = signed_quantity(await position_of(request.venue, request.symbol))
            size = request.quantity
            if request.notional is not None:
                assert last is not None
                size = request.notional / last  # what a notional order buys at the last price
            delta = size if request.side is Side.BUY else -size
            after = current + delta
            if abs(after) > cap and abs(after) > abs(current):
                return self._reject("max_position", f"position in {request.symbol} would be {after}, beyond "
                                    f"the limit {cap}", request)
        return None

    def check_leverage(self, venue: str, symbol: str, leverage: Decimal) -> RiskRejected | None:
        if self.limits.max_leverage is not None and leverage > self.limits.max_leverage:
            self._count("max_leverage")
            return RiskRejected(f"leverage {leverage} for {symbol} exceeds the limit {self.limits.max_leverage}",
                                rule="max_leverage", venue=venue, retryable=False)
        return None
