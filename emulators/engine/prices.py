"""The price simulation: a seeded random walk per symbol, synthetic depth around it, public trades, candles.

Model (deliberately simple, stated so nobody mistakes it for a real market):
- each symbol's mid price follows a seeded multiplicative random walk, one step per tick, drawn from its own
  RNG stream derived from the seed and the symbol, so adding or removing symbols changes no other's path;
- synthetic liquidity sits around the mid: `levels` price levels per side, `level_size` each, one
  tick-multiple apart, replenished every tick (our own orders never move the price);
- every tick prints one public trade at the mid; trades build one-minute candles, and 500 of them are
  seeded as history from the same seed, ending at the start price.

`Market` is the first layer of the engine: `ledger.Ledger` adds accounts and positions on top of it and
`matching.Exchange` adds orders; `_after_tick` is where matching fills resting orders.
"""

from __future__ import annotations

import random
from decimal import ROUND_DOWN, Decimal

import attrs

from emulators.engine.instruments import DEFAULT_INSTRUMENTS, InstrumentSpec
from emulators.engine.model import (
    CANDLE_MS,
    Book,
    Candle,
    Levels,
    Listeners,
    PublicTrade,
    Rejected,
    RejectReason,
    SymbolState,
    wall_ms,
)


@attrs.define
class Market:
    """Symbols and their prices, books, trades and candles. Deterministic from ``seed``."""

    seed: int = 1
    instruments: list[InstrumentSpec] = attrs.field(factory=lambda: list(DEFAULT_INSTRUMENTS))
    levels: int = 10
    symbols: dict[str, SymbolState] = attrs.field(factory=dict)
    listeners: Listeners = attrs.field(factory=Listeners)
    _rngs: dict[str, random.Random] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        now = self.now_ms()
        for spec in self.instruments:
            state = SymbolState(spec=spec, mid=spec.start_price)
            self._seed_history(state, now)
            self._rebuild_book(state)
            self.symbols[spec.symbol] = state
            self._rngs[spec.symbol] = random.Random(f"{self.seed}:{spec.symbol}:walk")

    def symbol(self, symbol: str) -> SymbolState:
        try:
            return self.symbols[symbol]
        except KeyError:
            raise Rejected(RejectReason.UNKNOWN_SYMBOL, symbol) from None

    def best_bid(self, symbol: str) -> Decimal:
        return self.symbols[symbol].book.bids[0][0]

    def best_ask(self, symbol: str) -> Decimal:
        return self.symbols[symbol].book.asks[0][0]

    def now_ms(self) -> int:
        """The venue's time for its records: real wall-clock milliseconds (a venue with an emulated clock, such as
        a stock market's, overrides this)."""
        return wall_ms()

    def tick(self) -> None:
        """Advance every symbol's price one step, fill crossing resting orders, print a trade."""
        now = self.now_ms()
        for state in self.symbols.values():
            spec = state.spec
            rng = self._rngs[spec.symbol]
            state.mid = max(spec.tick_size, self._round_tick(spec, state.mid * (1 + self._step(rng, spec))))
            changed_bids, changed_asks = self._rebuild_book(state)
            for listener in self.listeners.on_tick:
                listener(state, changed_bids, changed_asks)
            size = (spec.level_size * Decimal(rng.randint(1, 20)) / 100).quantize(spec.step_size, rounding=ROUND_DOWN)
            self._print_trade(state, state.mid, max(size, spec.step_size), rng.random() < 0.5, now)
            self._after_tick(state, now)

    def jump(self, symbol: str, price: Decimal) -> None:
        """Move one symbol's mid to ``price`` at once (tests: price shocks, margin calls, liquidations): the book
        follows, listeners hear a tick, a trade of the minimum size prints at the new mid, and resting orders the
        move crossed fill. The seeded walk is not consumed, so every other path stays as it was."""
        state = self.symbol(symbol)
        spec = state.spec
        now = wall_ms()
        state.mid = max(spec.tick_size, self._round_tick(spec, price))
        changed_bids, changed_asks = self._rebuild_book(state)
        for listener in self.listeners.on_tick:
            listener(state, changed_bids, changed_asks)
        self._print_trade(state, state.mid, max(spec.min_qty, spec.step_size), False, now)
        self._after_tick(state, now)

    def _after_tick(self, state: SymbolState, now: int) -> None:
        """What happens once a symbol's price moved (matching fills resting orders here)."""

    # ------------------------------------------------------------------ the walk and its history
    def _seed_history(self, state: SymbolState, now_ms: int) -> None:
        """500 one-minute candles leading up to now, from the same seeded walk, ending at the start price."""
        rng = random.Random(f"{self.seed}:{state.spec.symbol}:history")
        price = state.mid
        closes = [price]
        for _ in range(499):
            price = self._round_tick(state.spec, price / (1 + self._step(rng, state.spec) * 5))
            closes.append(price)
        closes.reverse()
        first_open = (now_ms // CANDLE_MS - 499) * CANDLE_MS
        previous = closes[0]
        for i, close in enumerate(closes):
            hi = max(previous, close) * (1 + abs(self._step(rng, state.spec)))
            lo = min(previous, close) * (1 - abs(self._step(rng, state.spec)))
            volume = state.spec.level_size * Decimal(rng.randint(5, 50))
            state.candles.append(Candle(first_open + i * CANDLE_MS, previous, self._round_tick(state.spec, hi),
                                        self._round_tick(state.spec, lo), close, volume,
                                        state.spec.value(volume, close),
                                        rng.randint(20, 200)))
            previous = close
        day = state.candles[-min(len(state.candles), 1440):]
        state.open_24h = day[0].open
        state.high_24h = max(c.high for c in day)
        state.low_24h = min(c.low for c in day)
        state.volume_24h = sum((c.volume for c in day), Decimal(0))
        state.quote_volume_24h = sum((c.quote_volume for c in day), Decimal(0))

    @staticmethod
    def _step(rng: random.Random, spec: InstrumentSpec) -> Decimal:
        return Decimal(str(round(rng.gauss(0, 1), 6))) * spec.volatility

    @staticmethod
    def _round_tick(spec: InstrumentSpec, price: Decimal) -> Decimal:
        return (price / spec.tick_size).to_integral_value() * spec.tick_size

    def _rebuild_book(self, state: SymbolState) -> tuple[Levels, Levels]:
        spec = state.spec
        spread = max(spec.tick_size, self._round_tick(spec, state.mid * Decimal("0.0001")))
        gap = max(spec.tick_size, self._round_tick(spec, state.mid * Decimal("0.0002")))
        best_bid = self._round_tick(spec, state.mid - spread / 2)
        best_ask = best_bid + spread
        bids = [(best_bid - gap * i, spec.level_size) for i in range(self.levels)]
        asks = [(best_ask + gap * i, spec.level_size) for i in range(self.levels)]
        old = state.book
        changed_bids = _diff(old.bids, bids)
        changed_asks = _diff(old.asks, asks)
        state.book = Book(bids=bids, asks=asks, update_id=old.update_id + 1)
        return changed_bids, changed_asks

    # ------------------------------------------------------------------ trades and candles
    def _print_trade(self, state: SymbolState, price: Decimal, quantity: Decimal, buyer_is_maker: bool,
                     now: int) -> None:
        trade = PublicTrade(next(state.next_trade_id), state.spec.symbol, price, quantity, buyer_is_maker, now)
        state.trades.append(trade)
        del state.trades[:-1000]
        self._update_candle(state, price, quantity, now)
        for listener in self.listeners.on_trade:
            listener(trade)

    @staticmethod
    def _update_candle(state: SymbolState, price: Decimal, quantity: Decimal, now: int) -> None:
        open_ms = now // CANDLE_MS * CANDLE_MS
        last = state.candles[-1]
        if last.open_ms < open_ms:
            last = Candle(open_ms, last.close, max(last.close, price), min(last.close, price), price)
            state.candles.append(last)
            del state.candles[:-1000]
        last.high = max(last.high, price)
        last.low = min(last.low, price)
        last.close = price
        last.volume += quantity
        last.quote_volume += state.spec.value(quantity, price)
        last.trades += 1
        state.high_24h = max(state.high_24h, price)
        state.low_24h = min(state.low_24h, price)
        state.volume_24h += quantity
        state.quote_volume_24h += state.spec.value(quantity, price)


def _diff(old: Levels, new: Levels) -> Levels:
    """Levels that changed between two books: new sizes, and size 0 for levels that disappeared."""
    new_map = dict(new)
    changes = [(price, Decimal(0)) for price, _ in old if price not in new_map]
    old_map = dict(old)
    changes += [(price, size) for price, size in new if old_map.get(price) != size]
    return changes
