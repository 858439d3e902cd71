"""The client chassis: what every venue client does the same way, written once.

A venue's ``client.py`` subclasses `VenueClient` and writes only its dialect:

- data (class attributes, from its constants.py): ``VENUE``, ``rate_rules``, ``order_features``,
  ``stale_after`` (and ``stream_channels`` of the Broker contract);
- hooks: `map_error` (and `answer_decoder` where failures hide in 2xx answers), `venue_key`,
  `server_time_ms`, `load_instruments`, `check_credentials`, `venue_positions` / `venue_position`
  (derivatives, margin, stocks), `resend_rule` (when a lost order may be sent again: brokers/placement.py,
  `signed_window_rule` for signed-window venues), and the REST calls and streams of the Broker contract.

It inherits: settings and credentials access, the REST channel with the venue's rate rules, the
connect sequence (REST open -> clock offset from the server time midpoint -> instruments -> a signed
call proving the key), `now_ms`, one `InstrumentIndex`, spot holdings as positions, the default
flat position, and `check_order` (order features, then the instrument's filters) before anything is
sent. Paging (brokers/paging.py), decimal and body text (brokers/wire.py), error rows
(brokers/errors.py) and public sockets that re-open themselves (brokers/stream.py) are the chassis
too, as plain functions.
"""

from __future__ import annotations

import abc
import random
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import ClassVar

import attrs

from brokers.base import Broker, BrokerSettings, Emit
from brokers.features import OrderFeatures, check_order_features
from brokers.instruments import InstrumentIndex, check_filters
from brokers.placement import CLOCK_MARGIN_MS, ResendRule
from brokers.ratelimit import RateLimiter, WindowRule
from brokers.rest import AnswerDecoder, RestChannel
from brokers.spot import average_cost
from brokers.stream import Freshness, MarketDataHealth, Reopen
from protocol import errors as e
from protocol.credentials import Credentials
from protocol.messages import StreamChannel
from protocol.model import (
    Instrument,
    MarginMode,
    MarketType,
    OrderRequest,
    OrderType,
    Position,
    PositionSide,
    utc_now,
)

STALE_OPTION = "stale_after_"
CHASSIS_OPTIONS: Mapping[str, str] = {
    "position_quote": "the quote asset spot holdings are valued in as positions (default USDT)",
    STALE_OPTION + "<channel>": "seconds a public channel may stay silent per symbol (or \"off\")",
}
PRICED = (OrderType.LIMIT, OrderType.STOP_LIMIT)
STOPS = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)


@attrs.define(eq=False)
class VenueClient(Broker):
    """A venue client built on the chassis (see the module docstring for what a venue writes)."""

    settings: BrokerSettings
    venue: str = attrs.field(init=False)
    rest: RestChannel = attrs.field(init=False)
    index: InstrumentIndex = attrs.field(init=False)
    clock_offset_ms: int = 0
    clock_uncertainty_ms: int = CLOCK_MARGIN_MS  # how far `now_ms` may be off the venue's clock (see sync_clock)
    margin_mode: MarginMode = MarginMode.CROSS  # the account's, for derivatives (set at connect where read)
    _connected: bool = False
    _rng: random.Random = attrs.field(init=False)

    # ------------------------------------------------------------------ what a venue declares
    VENUE: ClassVar[str]
    rate_rules: ClassVar[Sequence[WindowRule]] = ()
    order_features: ClassVar[Mapping[MarketType, OrderFeatures]] = {}
    stale_after: ClassVar[Mapping[StreamChannel, float | None]] = {}
    """How long each public channel may stay silent per symbol before its socket counts as dropped."""
    position_quote: ClassVar[str] = "USDT"
    """The quote asset spot holdings are valued against unless option ``position_quote`` says another."""
    options_taken: ClassVar[Mapping[str, str]] = {}
    """The venue's own ``options`` (config ``[venues.X] options``): name -> what it does. Any other key,
    beside the chassis's (`CHASSIS_OPTIONS`), is refused: a typo must never silently do nothing."""

    @classmethod
    def option_problems(cls, options: Mapping[str, str]) -> list[str]:
        """One line per option key this venue does not take (empty: all good)."""
        taken = {**CHASSIS_OPTIONS, **cls.options_taken}
        unknown = [key for key in options if key not in taken and not key.startswith(STALE_OPTION)]
        return [f"unknown option {key!r}; {cls.VENUE} takes {', '.join(sorted(taken))}" for key in sorted(unknown)]

    def __attrs_post_init__(self) -> None:
        problems = self.option_problems(self.settings.options)
        if problems:
            raise e.NotSupported("; ".join(problems), venue=self.settings.venue or self.VENUE, retryable=False)
        self.venue = self.settings.venue or self.VENUE
        self.rest = RestChannel(self.venue, self.settings.rest_url, RateLimiter(self.venue, list(self.rate_rules)),
                                self.map_error, timeout=self.settings.request_timeout,
                                decode_answer=self.answer_decoder())
        self.index = InstrumentIndex(self.venue, self.venue_key)
        self._rng = random.Random(self.settings.seed)
        self.stale_limits()  # refuse a bad stale_after_* option now, not at the first subscription

    # ------------------------------------------------------------------ what a venue writes
    @abc.abstractmethod
    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> e.BrokerError:
        """A failed HTTP answer -> the typed error (`brokers.rest.ErrorMapper`), from the venue's table."""

    def answer_decoder(self) -> AnswerDecoder | None:
        """For venues that report failures inside 2xx answers (an envelope); None decodes bodies directly."""
        return None

    def venue_key(self, instrument: Instrument) -> str:
        """What tells the venue's markets apart beside its id (Bybit's category); "" where ids are unique."""
        return ""

    @abc.abstractmethod
    async def server_time_ms(self) -> int:
        """The venue's clock, epoch milliseconds (one public request)."""

    @abc.abstractmethod
    async def load_instruments(self) -> list[Instrument]:
        """Every instrument the venue lists (and this client serves), with its filters."""

    @abc.abstractmethod
    async def check_credentials(self) -> None:
        """One signed request that proves the key and signature (and reads account-wide settings)."""

    async def venue_positions(self) -> list[Position]:
        """Positions the venue keeps itself (derivatives, margin, stocks); spot venues keep none."""
        return []

    async def venue_position(self, instrument: Instrument) -> Position:
        """The venue-kept position in ``instrument`` (flat when there is none)."""
        raise e.NotSupported(f"{self.venue} keeps no {instrument.market_type} positions", venue=self.venue)

    # ------------------------------------------------------------------ lifecycle
    async def connect(self) -> None:
        """Open REST, measure the clock offset, load instruments, prove the key (design §4 step 1)."""
        await self.rest.open()
        await self.sync_clock()
        self.index.replace(await self.load_instruments())
        await self.check_credentials()
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False
        await self.rest.aclose()

    @property
    def is_connected(self) -> bool:
        return self._connected

    def credentials(self) -> Credentials:
        if self.settings.credentials is None:
            raise e.AuthenticationError(f"no {self.venue} API key configured", venue=self.venue)
        return self.settings.credentials

    async def sync_clock(self) -> None:
        """Offset of the venue's clock from ours, taken at the midpoint of the round trip; it is off by at most
        half the round trip (plus drift until the next sync: `CLOCK_MARGIN_MS`)."""
        before = time.time()
        server_ms = await self.server_time_ms()
        after = time.time()
        self.clock_offset_ms = server_ms - int((before + after) / 2 * 1000)
        self.clock_uncertainty_ms = int((after - before) * 500) + 1 + CLOCK_MARGIN_MS

    def now_ms(self) -> int:
        """Our clock in the venue's terms (for request timestamps)."""
        return int(time.time() * 1000) + self.clock_offset_ms

    def signed_window_rule(self, window_ms: int, *, engine_margin_ms: int, source: str) -> ResendRule:
        """The `resend_rule` of a venue that refuses a request once its signed timestamp + ``window_ms`` has
        passed on the venue's clock (Binance ``recvWindow``, Bybit ``X-BAPI-RECV-WINDOW``), plus
        ``engine_margin_ms`` for a request the venue's gateway already handed to its matching engine, and the
        uncertainty of our clock offset."""
        return ResendRule(expires_after_ms=window_ms + engine_margin_ms,
                          clock_uncertainty_ms=self.clock_uncertainty_ms, source=source)

    # ------------------------------------------------------------------ public streams
    def stale_limits(self) -> dict[StreamChannel, float | None]:
        """``stale_after`` with the options' overrides: ``stale_after_<channel> = "<seconds>"`` ("0" or
        "off": never stale)."""
        limits = dict(self.stale_after)
        for key, value in self.settings.options.items():
            if not key.startswith(STALE_OPTION):
                continue
            name = key.removeprefix(STALE_OPTION)
            try:
                channel = StreamChannel(name)
                seconds = None if value.strip().lower() in ("off", "0") else float(value)
            except ValueError:
                raise e.NotSupported(f"option {key}={value!r}: use {STALE_OPTION}<channel> (one of "
                                     f"{', '.join(sorted(self.stream_channels))}) = seconds or \"off\"",
                                     venue=self.venue) from None
            if seconds is not None and not seconds > 0:
                raise e.NotSupported(f"option {key}={value!r}: seconds must be positive", venue=self.venue)
            limits[channel] = seconds
        return limits

    def freshness(self) -> Freshness:
        """A staleness watch for one public socket, with this venue's limits."""
        return Freshness(self.stale_limits())

    def public_reopen(self, emit: Emit) -> Reopen:
        """How this venue's public sockets re-open (one per `run_public_stream`: they share their health)."""
        return Reopen(self.settings.public_backoff, self._rng, MarketDataHealth(self.venue, emit))

    # ------------------------------------------------------------------ instruments
    def instruments(self) -> list[Instrument]:
        return self.index.all()

    def instrument(self, symbol: str) -> Instrument:
        return self.index.get(symbol)

    # ------------------------------------------------------------------ orders
    def check_order(self, request: OrderRequest) -> Instrument:
        """Refuse before sending what the venue cannot do (`NotSupported`) or its filters forbid
        (`InvalidOrder` naming the filter); the instrument of the order otherwise."""
        instrument = self.instrument(request.symbol)
        check_order_features(request, self.order_features.get(instrument.market_type), venue=self.venue,
                             market=instrument.market_type)
        priced = request.type in PRICED
        if priced and request.price is None:
            raise e.InvalidOrder("a limit order needs a price", venue=self.venue, filter="PRICE_FILTER",
                                 client_order_id=request.client_order_id)
        if request.type in STOPS and request.stop_price is None:
            raise e.InvalidOrder("a stop order needs a stop price", venue=self.venue, filter="PRICE_FILTER",
                                 client_order_id=request.client_order_id)
        check_filters(instrument, request.quantity, request.price if priced else None, notional=request.notional,
                      venue=self.venue, client_order_id=request.client_order_id)
        return instrument

    # ------------------------------------------------------------------ positions
    def flat_position(self, symbol: str) -> Position:
        instrument = self.index.get(symbol) if self.index.knows(symbol) else None
        market_type = instrument.market_type if instrument is not None else MarketType.SPOT
        return Position(venue=self.venue, symbol=symbol, market_type=market_type, side=PositionSide.FLAT,
                        quantity=Decimal(0), updated_at=utc_now(),
                        margin_mode=MarginMode.CASH if market_type is MarketType.SPOT else self.margin_mode)

    async def get_positions(self) -> list[Position]:
        return await self.spot_positions() + await self.venue_positions()

    async def get_position(self, symbol: str) -> Position:
        instrument = self.instrument(symbol)
        if instrument.market_type is not MarketType.SPOT:
            return await self.venue_position(instrument)
        held = (await self.get_balance(instrument.base)).total
        return await self.spot_position(instrument, held) if held > 0 else self.flat_position(symbol)

    async def spot_positions(self) -> list[Position]:
        """Spot holdings as LONG positions: each base asset held whose market against the quote asset of
        option ``position_quote`` (default `position_quote`, USDT) is listed, marked at the last price, entered at the
        average cost of our own trades (brokers/spot.py; deposits have no known cost)."""
        quote = self.settings.options.get("position_quote", self.position_quote)
        markets = [i for i in self.instruments() if i.market_type is MarketType.SPOT and i.quote == quote]
        if not markets:
            return []
        held = {b.currency: b.total for b in await self.get_balances() if b.total > 0}
        return [await self.spot_position(i, held[i.base]) for i in markets if i.base in held]

    async def spot_position(self, instrument: Instrument, quantity: Decimal) -> Position:
        mark = (await self.get_ticker(instrument.symbol)).last
        entry, realized = average_cost(await self.get_fills(instrument.symbol, limit=1000), instrument)
        return Position(venue=self.venue, symbol=instrument.symbol, market_type=MarketType.SPOT,
                        side=PositionSide.LONG, quantity=quantity, entry_price=entry, mark_price=mark,
                        unrealized_pnl=(mark - entry) * quantity if entry is not None else Decimal(0),
                        realized_pnl=realized, leverage=Decimal(1), margin_mode=MarginMode.CASH,
                        updated_at=utc_now())
