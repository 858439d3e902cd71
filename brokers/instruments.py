"""One instrument index per venue client, and the one pre-trade filter check every venue runs.

`InstrumentIndex` answers both directions in O(1): unified symbol -> `Instrument` (commands), and
(venue key, venue id) -> `Instrument` (everything the venue sends). The venue key is what a venue
needs beside its own id to tell markets apart: Bybit's ``category`` (``BTCUSDT`` is a spot market and
a linear perpetual), OKX's ``instType``; venues whose ids are unique use ``""``.

`check_filters` refuses, before anything is sent, what the venue would refuse for the instrument's
filters, and names the filter (LOT_SIZE, PRICE_FILTER, NOTIONAL) so the caller learns which at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

import attrs

from brokers.errors import LOT_SIZE, NOTIONAL, PRICE_FILTER, SYMBOL
from protocol.errors import InvalidOrder, ProtocolViolation
from protocol.model import Instrument

VenueKey = Callable[[Instrument], str]


def no_venue_key(instrument: Instrument) -> str:
    """For venues whose instrument ids are unique across everything they list."""
    return ""


@attrs.define
class InstrumentIndex:
    """Unified symbol <-> (venue key, venue id) <-> Instrument, for one venue's loaded instruments."""

    venue: str
    key_of: VenueKey = no_venue_key
    _by_symbol: dict[str, Instrument] = attrs.field(factory=dict)
    # venue key -> venue id -> instrument; the inner dicts live as long as the index (parsers hold them)
    _by_venue: dict[str, dict[str, Instrument]] = attrs.field(factory=dict)

    @classmethod
    def of(cls, venue: str, instruments: Iterable[Instrument], key_of: VenueKey = no_venue_key) -> InstrumentIndex:
        index = cls(venue, key_of)
        index.replace(instruments)
        return index

    def replace(self, instruments: Iterable[Instrument]) -> None:
        """Load a fresh instrument list (every connect); `venue_ids` views stay valid."""
        self._by_symbol.clear()
        for ids in self._by_venue.values():
            ids.clear()
        for instrument in instruments:
            self._by_symbol[instrument.symbol] = instrument
            self.venue_ids(self.key_of(instrument))[instrument.venue_symbol] = instrument

    # ------------------------------------------------------------------ unified symbol side
    def get(self, symbol: str) -> Instrument:
        """The instrument of ``symbol``; an unknown symbol is `InvalidOrder(filter="SYMBOL")`."""
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise InvalidOrder(f"{self.venue} lists no instrument {symbol!r}", venue=self.venue,
                               filter=SYMBOL) from None

    def knows(self, symbol: str) -> bool:
        return symbol in self._by_symbol

    def to_venue(self, symbol: str) -> tuple[str, str]:
        """(venue key, venue id) of ``symbol``."""
        instrument = self.get(symbol)
        return self.key_of(instrument), instrument.venue_symbol

    def all(self) -> list[Instrument]:
        """Every instrument, in unified-symbol order."""
        return sorted(self._by_symbol.values(), key=lambda instrument: instrument.symbol)

    def __len__(self) -> int:
        return len(self._by_symbol)

    # ------------------------------------------------------------------ venue side
    def venue_ids(self, key: str = "") -> dict[str, Instrument]:
        """The live venue id -> instrument map of one venue key (a hot path's dict lookup)."""
        ids = self._by_venue.get(key)
        if ids is None:
            ids = self._by_venue[key] = {}
        return ids

    def find(self, venue_id: str, key: str = "") -> Instrument | None:
        """The instrument the venue calls ``venue_id`` (under ``key``), None if not loaded."""
        ids = self._by_venue.get(key)
        return None if ids is None else ids.get(venue_id)

    def from_venue(self, venue_id: str, key: str = "") -> Instrument:
        """Like `find`, for ids the venue must know: an unknown one is a `ProtocolViolation`."""
        found = self.find(venue_id, key)
        if found is None:
            where = f"{key} " if key else ""
            raise ProtocolViolation(f"{self.venue} sent unknown {where}symbol {venue_id!r}", venue=self.venue)
        return found


def check_filters(instrument: Instrument, quantity: Decimal, price: Decimal | None = None, *,
                  reference_price: Decimal | None = None, notional: Decimal | None = None,
                  venue: str | None = None, client_order_id: str | None = None) -> None:
    """Refuse, typed and naming the filter, an order the instrument's filters do not allow.

    LOT_SIZE: a positive quantity within [min_qty, max_qty], on the lot step counted from min_qty
    (Binance's rule; the same as a plain multiple wherever min_qty is on the step). PRICE_FILTER: a
    positive ``price`` on the tick (pass the price only for orders that carry one). NOTIONAL: the
    order's value at ``price`` (or ``reference_price`` for market orders, when known) at least
    min_notional. A notional order (``notional`` in the quote currency) is checked on its value alone.
    """
    venue = venue or instrument.venue

    def refuse(text: str, filter_name: str) -> InvalidOrder:
        return InvalidOrder(text, venue=venue, filter=filter_name, client_order_id=client_order_id)

    if notional is not None:
        if notional <= 0 or notional < instrument.min_notional:
            raise refuse(f"notional {notional} is below the NOTIONAL minimum {instrument.min_notional}", NOTIONAL)
        return
    step = instrument.lot_size
    if quantity <= 0 or quantity < instrument.min_qty or \
            (instrument.max_qty is not None and quantity > instrument.max_qty) or \
            (step and (quantity - instrument.min_qty) % step):
        raise refuse(f"quantity {quantity} breaks LOT_SIZE (min {instrument.min_qty}, step {step}, "
                     f"max {instrument.max_qty})", LOT_SIZE)
    if price is not None and (price <= 0 or (instrument.tick_size and price % instrument.tick_size)):
        raise refuse(f"price {price} breaks PRICE_FILTER (tick {instrument.tick_size})", PRICE_FILTER)
    reference = price if price is not None else reference_price
    if reference is not None and instrument.min_notional:
        value = instrument.notional(quantity, reference)
        if value < instrument.min_notional:
            raise refuse(f"order value {value} is below the NOTIONAL minimum {instrument.min_notional}", NOTIONAL)

