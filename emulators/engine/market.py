"""The venue-neutral exchange: instruments, a seeded price path, matching with partial fills, a ledger.

Dialects (emulators/binance.py, ...) translate their wire format into calls on `Exchange` and listen
to its events to push websocket messages. Nothing here knows a venue's JSON.

Model (deliberately simple, stated so nobody mistakes it for a real market):
- each symbol's mid price follows a seeded multiplicative random walk, one step per tick;
- synthetic liquidity sits around the mid: `levels` price levels per side, `level_size` each, one
  tick-multiple apart, replenished every tick;
- market and marketable limit orders take that liquidity level by level (so big orders fill
  partially across levels; what cannot fill expires, IOC/market style);
- resting limit orders fill as makers when the mid crosses their price, at most `maker_fill_per_tick`
  each tick, so partial fills happen over time;
- the ledger locks funds on placement, settles fills (commission taken from the received asset) and
  releases on cancel. The fill log is the ground truth tests compare clients against.

Derivatives (`InstrumentSpec.kind` "linear" or "inverse"; spot is the default and behaves as above):
- instruments are keyed by an engine id (`InstrumentSpec.symbol`); `venue_symbol` is what the venue calls
  the market, so one venue symbol can name several markets (Bybit spot BTCUSDT and linear BTCUSDT are
  "spot:BTCUSDT" and "linear:BTCUSDT" here). Binance's instruments keep id == venue symbol;
- one-way positions per (account, instrument), netting: `EPosition` with a signed size, an average entry
  price (inverse: the contract-weighted harmonic mean), leverage (default 10, at most the instrument's
  `max_leverage`), the initial margin it holds and its realised PnL (fees included, as venues count it);
- linear contracts are quantities of the base coin settled in the quote coin: PnL = qty * (exit - entry);
  inverse contracts are USD contracts settled in the base coin: PnL = qty * (1/entry - 1/exit);
- margin lives in the settle coin's wallet: open orders lock their initial margin plus the taker fee at the
  worst price they can fill at, fills move it into the position's margin (|size| * entry / leverage, or
  |size| / entry / leverage for inverse), reducing fills release it and credit PnL minus fees to the
  wallet. Wallet `free + locked` therefore only ever changes by realised PnL minus fees;
- reduce-only orders are refused when they would open or add, and are capped to the position size;
- the mark price is the mid. The liquidation price is informational (isolated-margin formula with a 0.5%
  maintenance rate): nothing is ever liquidated, and there is no funding, no hedge mode, no TP/SL and no
  conditional orders.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Literal

import attrs

Side = Literal["BUY", "SELL"]
Kind = Literal["spot", "linear", "inverse"]
OrderKind = Literal["LIMIT", "MARKET", "LIMIT_MAKER"]
Tif = Literal["GTC", "IOC", "FOK"]
Status = Literal["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED", "EXPIRED"]


def wall_ms() -> int:
    """Venue timestamps are real wall-clock milliseconds (signature checks compare against them)."""
    return int(time.time() * 1000)


class Rejected(Exception):
    """An order the exchange refuses; ``reason`` is venue-neutral, the dialect words it."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        # insufficient_balance | filter:<NAME> | unknown_symbol | duplicate | unknown_order | would_match |
        # reduce_only | leverage_not_modified | leverage_invalid | not_derivative
        self.reason = reason
        self.detail = detail  # for filters: min | max | step | tick | notional


@attrs.frozen
class InstrumentSpec:
    symbol: str  # the engine's instrument id: the venue symbol, or e.g. "linear:BTCUSDT" where a venue reuses it
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal  # in the quote coin (inverse: in contracts, i.e. USD)
    start_price: Decimal
    level_size: Decimal
    volatility: Decimal = Decimal("0.0008")
    kind: Kind = "spot"
    venue_symbol: str = ""  # what the venue calls it; defaults to `symbol`
    max_leverage: Decimal = Decimal("100")
    maker_fee: Decimal | None = None  # None: the exchange-wide rate
    taker_fee: Decimal | None = None

    @property
    def name(self) -> str:
        """The venue's symbol."""
        return self.venue_symbol or self.symbol

    @property
    def is_derivative(self) -> bool:
        return self.kind != "spot"

    @property
    def settle(self) -> str:
        """The coin margin, PnL and fees are counted in (spot: the quote coin, for fees on sells)."""
        return self.base if self.kind == "inverse" else self.quote

    def value(self, quantity: Decimal, price: Decimal) -> Decimal:
        """What ``quantity`` is worth at ``price`` in the settle coin (inverse contracts are USD)."""
        return quantity / price if self.kind == "inverse" else quantity * price


DEFAULT_INSTRUMENTS = [
    InstrumentSpec("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"),
                   Decimal("9000"), Decimal("5"), Decimal("65000"), Decimal("0.5")),
    InstrumentSpec("ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("0.0001"),
                   Decimal("9000"), Decimal("5"), Decimal("3200"), Decimal("5")),
    InstrumentSpec("SOLUSDT", "SOL", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001"),
                   Decimal("90000"), Decimal("5"), Decimal("150"), Decimal("50")),
    InstrumentSpec("ETHBTC", "ETH", "BTC", Decimal("0.00001"), Decimal("0.0001"), Decimal("0.0001"),
                   Decimal("100000"), Decimal("0.0001"), Decimal("0.05"), Decimal("5")),
]

DEFAULT_BALANCES = {"USDT": Decimal("100000"), "BTC": Decimal("1"), "ETH": Decimal("10"), "SOL": Decimal("100"),
                    "BNB": Decimal("0")}


def synthetic_instruments(count: int) -> list[InstrumentSpec]:
    """``count`` made-up spot markets for load tests: base coins "S01", "S02", ... quoted in USDT
    ("S01USDT", ...), each at its own start price (8.5, 15.5, 22.5, ...), on the same filters.

    Deterministic: the n-th synthetic instrument is the same whatever ``count`` is. Dialects derive their
    own kinds from these (Bybit: linear perpetuals, see `emulators.bybit.synthetic_linear_instruments`).
    """
    width = max(2, len(str(count)))
    return [
        InstrumentSpec(f"S{n:0{width}d}USDT", f"S{n:0{width}d}", "USDT", Decimal("0.001"), Decimal("0.01"),
                       Decimal("0.01"), Decimal("1000000"), Decimal("5"), Decimal(f"{1 + 7 * n}.5"), Decimal("200"))
        for n in range(1, count + 1)
    ]


@attrs.define
class EOrder:
    order_id: int
    client_order_id: str
    account: str
    symbol: str
    side: Side
    kind: OrderKind
    tif: Tif
    quantity: Decimal
    price: Decimal | None
    created_ms: int
    updated_ms: int
    filled: Decimal = Decimal(0)
    quote_filled: Decimal = Decimal(0)
    status: Status = "NEW"
    locked_asset: str = ""
    locked: Decimal = Decimal(0)
    last_fill: EFill | None = None
    quote_quantity: Decimal | None = None  # market buy by quote amount
    reduce_only: bool = False
    exact_quote: bool = False  # spend at most quote_quantity (venues that buy "by value")
    reject_reason: str = ""  # "" | post_only (would have taken) | reduce_only (nothing left to reduce)

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


@attrs.frozen
class EFill:
    trade_id: int
    order_id: int
    client_order_id: str
    account: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    quote_quantity: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    time_ms: int
    closed_size: Decimal = Decimal(0)  # derivatives: how much of the position this fill closed
    closed_pnl: Decimal = Decimal(0)  # derivatives: PnL of the closed part, before the fee
    fee_rate: Decimal = Decimal(0)


@attrs.define
class EPosition:
    """A one-way (netting) position. ``size`` is signed: positive long, negative short."""

    account: str
    symbol: str  # engine instrument id
    leverage: Decimal
    size: Decimal = Decimal(0)
    entry_price: Decimal = Decimal(0)
    margin: Decimal = Decimal(0)  # initial margin held, in the settle coin (part of the wallet's locked funds)
    realised: Decimal = Decimal(0)  # of the current position, fees included
    cum_realised: Decimal = Decimal(0)  # all time, fees included
    created_ms: int = 0
    updated_ms: int = 0
    seq: int = 0

    @property
    def side(self) -> Literal["BUY", "SELL", ""]:
        return "BUY" if self.size > 0 else "SELL" if self.size < 0 else ""


@attrs.frozen
class PublicTrade:
    trade_id: int
    symbol: str
    price: Decimal
    quantity: Decimal
    buyer_is_maker: bool
    time_ms: int


@attrs.define
class Book:
    """Synthetic depth around the mid, with the venue-style update id that advances every change."""

    bids: list[tuple[Decimal, Decimal]] = attrs.field(factory=list)
    asks: list[tuple[Decimal, Decimal]] = attrs.field(factory=list)
    update_id: int = 1


@attrs.define
class Candle:
    open_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    trades: int = 0


@attrs.define
class SymbolState:
    spec: InstrumentSpec
    mid: Decimal
    book: Book = attrs.field(factory=Book)
    candles: list[Candle] = attrs.field(factory=list)
    open_24h: Decimal = Decimal(0)
    high_24h: Decimal = Decimal(0)
    low_24h: Decimal = Decimal(0)
    volume_24h: Decimal = Decimal(0)
    quote_volume_24h: Decimal = Decimal(0)
    trades: list[PublicTrade] = attrs.field(factory=list)
    next_order_id: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))
    next_trade_id: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))


@attrs.define
class Listeners:
    """Callbacks the dialect registers; called synchronously, in event order."""

    on_trade: list[Callable[[PublicTrade], None]] = attrs.field(factory=list)
    on_tick: list[Callable[[SymbolState, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]], None]] = \
        attrs.field(factory=list)
    on_order: list[Callable[[EOrder, EFill | None, str], None]] = attrs.field(factory=list)
    on_balances: list[Callable[[str, dict[str, tuple[Decimal, Decimal]]], None]] = attrs.field(factory=list)
    on_position: list[Callable[[EPosition], None]] = attrs.field(factory=list)
    # Levels a taker consumed (new sizes, 0 = gone), right after the take; ticks report through on_tick.
    on_book: list[Callable[[SymbolState, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]], None]] = \
        attrs.field(factory=list)


CANDLE_MS = 60_000
LEDGER_STEP = Decimal("1e-12")  # derivatives amounts are kept to 12 places so that ledger sums stay exact


def _ledger(amount: Decimal) -> Decimal:
    return amount.quantize(LEDGER_STEP)


@attrs.define
class Exchange:
    """One emulated exchange: symbols, accounts, orders, the fill log. Deterministic from ``seed``."""

    seed: int = 1
    instruments: list[InstrumentSpec] = attrs.field(factory=lambda: list(DEFAULT_INSTRUMENTS))
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    levels: int = 10
    maker_fill_fraction: Decimal = Decimal("0.5")  # of an order's remaining quantity, per crossing tick
    symbols: dict[str, SymbolState] = attrs.field(factory=dict)
    balances: dict[str, dict[str, list[Decimal]]] = attrs.field(factory=dict)  # account -> asset -> [free, locked]
    orders: dict[int, EOrder] = attrs.field(factory=dict)  # by a global key: see _key
    fill_log: list[EFill] = attrs.field(factory=list)
    listeners: Listeners = attrs.field(factory=Listeners)
    positions: dict[tuple[str, str], EPosition] = attrs.field(factory=dict)  # (account, instrument id)
    default_leverage: Decimal = Decimal(10)
    maintenance_rate: Decimal = Decimal("0.005")
    _rng: random.Random = attrs.field(init=False)
    _order_keys: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        now = wall_ms()
        for spec in self.instruments:
            state = SymbolState(spec=spec, mid=spec.start_price)
            self._seed_history(state, now)
            self._rebuild_book(state)
            self.symbols[spec.symbol] = state

    # ------------------------------------------------------------------ accounts
    def open_account(self, account: str, balances: dict[str, Decimal] | None = None) -> None:
        funds = DEFAULT_BALANCES if balances is None else balances
        self.balances[account] = {asset: [Decimal(amount), Decimal(0)] for asset, amount in funds.items()}

    def balance(self, account: str, asset: str) -> tuple[Decimal, Decimal]:
        free, locked = self.balances[account].get(asset, [Decimal(0), Decimal(0)])
        return free, locked

    def _wallet(self, account: str, asset: str) -> list[Decimal]:
        return self.balances[account].setdefault(asset, [Decimal(0), Decimal(0)])

    # ------------------------------------------------------------------ market data
    def symbol(self, symbol: str) -> SymbolState:
        try:
            return self.symbols[symbol]
        except KeyError:
            raise Rejected("unknown_symbol", symbol) from None

    def best_bid(self, symbol: str) -> Decimal:
        return self.symbols[symbol].book.bids[0][0]

    def best_ask(self, symbol: str) -> Decimal:
        return self.symbols[symbol].book.asks[0][0]

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

    def _step(self, rng: random.Random, spec: InstrumentSpec) -> Decimal:
        return Decimal(str(round(rng.gauss(0, 1), 6))) * spec.volatility

    @staticmethod
    def _round_tick(spec: InstrumentSpec, price: Decimal) -> Decimal:
        return (price / spec.tick_size).to_integral_value() * spec.tick_size

    def _rebuild_book(self, state: SymbolState) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
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

    def tick(self) -> None:
        """Advance every symbol's price one step, fill crossing resting orders, print a trade."""
        now = wall_ms()
        for state in self.symbols.values():
            spec = state.spec
            state.mid = max(spec.tick_size, self._round_tick(spec, state.mid * (1 + self._step(self._rng, spec))))
            changed_bids, changed_asks = self._rebuild_book(state)
            for listener in self.listeners.on_tick:
                listener(state, changed_bids, changed_asks)
            size = (spec.level_size * Decimal(self._rng.randint(1, 20)) / 100).quantize(spec.step_size,
                                                                                       rounding=ROUND_DOWN)
            self._print_trade(state, state.mid, max(size, spec.step_size), self._rng.random() < 0.5, now)
            self._fill_resting(state, now)

    def _print_trade(self, state: SymbolState, price: Decimal, quantity: Decimal, buyer_is_maker: bool,
                     now: int) -> None:
        trade = PublicTrade(next(state.next_trade_id), state.spec.symbol, price, quantity, buyer_is_maker, now)
        state.trades.append(trade)
        del state.trades[:-1000]
        self._update_candle(state, price, quantity, now)
        for listener in self.listeners.on_trade:
            listener(trade)

    def _update_candle(self, state: SymbolState, price: Decimal, quantity: Decimal, now: int) -> None:
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

    # ------------------------------------------------------------------ orders
    def find(self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None,
             account: str | None = None) -> EOrder:
        for order in self.orders.values():
            if order.symbol != symbol or (account is not None and order.account != account):
                continue
            if order_id is not None and order.order_id == order_id:
                return order
            if order_id is None and client_order_id is not None and order.client_order_id == client_order_id:
                found = order  # the latest with that client id wins, as on Binance
                for later in self.orders.values():
                    if later.symbol == symbol and later.client_order_id == client_order_id and \
                            later.account == order.account:
                        found = later
                return found
        raise Rejected("unknown_order", f"{symbol} {order_id or client_order_id}")

    def all_orders(self) -> list[EOrder]:
        return list(self.orders.values())

    def validate(self, spec: InstrumentSpec, kind: OrderKind, quantity: Decimal, price: Decimal | None) -> None:
        if quantity < spec.min_qty:
            raise Rejected("filter:LOT_SIZE", "min")
        if quantity > spec.max_qty:
            raise Rejected("filter:LOT_SIZE", "max")
        if (quantity - spec.min_qty) % spec.step_size:
            raise Rejected("filter:LOT_SIZE", "step")
        if price is not None and (price <= 0 or price % spec.tick_size):
            raise Rejected("filter:PRICE_FILTER", "tick")
        reference = price if price is not None else self.symbols[spec.symbol].mid
        notional = quantity if spec.kind == "inverse" else quantity * reference
        if notional < spec.min_notional:
            raise Rejected("filter:NOTIONAL", "notional")

    def place(self, account: str, symbol: str, side: Side, kind: OrderKind, quantity: Decimal,
              price: Decimal | None, tif: Tif, client_order_id: str,
              quote_quantity: Decimal | None = None, *, reduce_only: bool = False, exact_quote: bool = False,
              reject_post_only: bool = True) -> EOrder:
        """Place an order. ``reduce_only`` (derivatives) refuses orders that would open or add and caps the
        quantity to the position; ``exact_quote`` makes a market buy by quote spend at most that amount;
        ``reject_post_only=False`` accepts a crossing LIMIT_MAKER and cancels it at once (Bybit's PostOnly)."""
        state = self.symbol(symbol)
        spec = state.spec
        if client_order_id:
            for order in self.orders.values():
                if order.account == account and order.client_order_id == client_order_id and order.is_open:
                    raise Rejected("duplicate", client_order_id)
        if quote_quantity is not None and kind == "MARKET":
            ask = self.best_ask(symbol) if side == "BUY" else self.best_bid(symbol)
            quantity = (quote_quantity / ask).quantize(spec.step_size, rounding=ROUND_DOWN)
        if reduce_only and spec.is_derivative:
            closable = self._closable(account, symbol, side)
            if closable <= 0:
                raise Rejected("reduce_only")
            quantity = min(quantity, closable)
        self.validate(spec, kind, quantity, price)
        now = wall_ms()
        order = EOrder(next(state.next_order_id), client_order_id, account, symbol, side, kind, tif, quantity, price,
                       now, now, quote_quantity=quote_quantity, reduce_only=reduce_only and spec.is_derivative,
                       exact_quote=exact_quote and quote_quantity is not None)
        if spec.is_derivative:
            order.locked_asset, order.locked = spec.settle, self._order_cost(state, order)
        elif side == "BUY":
            # Lock what the order could spend: quote for buys (at the limit, or a pessimistic market price).
            worst = price if price is not None else state.book.asks[-1][0] * Decimal("1.01")
            order.locked_asset, order.locked = spec.quote, quantity * worst
        else:
            order.locked_asset, order.locked = spec.base, quantity
        wallet = self._wallet(account, order.locked_asset)
        if wallet[0] < order.locked:
            raise Rejected("insufficient_balance")
        crossing = kind == "LIMIT_MAKER" and self._crosses(state, side, price)
        if crossing and reject_post_only:
            raise Rejected("would_match", "Order would immediately match and take.")
        wallet[0] -= order.locked
        wallet[1] += order.locked
        self.orders[next(self._order_keys)] = order
        self._emit_order(order, None, "NEW")
        if crossing:
            order.reject_reason = "post_only"
            self._finish(order, "CANCELED", now)
        else:
            self._take(state, order, now)
            if order.is_open and order.exact_quote and order.filled > 0:
                order.quantity = order.filled  # the quote amount is spent (to the last step that fits)
                self._finish(order, "FILLED", now)
            elif order.is_open and (kind == "MARKET" or tif in ("IOC", "FOK")):
                self._finish(order, "EXPIRED", now)
        self._emit_balances(account, {spec.base, spec.quote})
        return order

    def _order_cost(self, state: SymbolState, order: EOrder) -> Decimal:
        """What a derivatives order locks: initial margin plus taker fee at the worst price it can fill at
        (reduce-only orders: the fee only)."""
        spec = state.spec
        rate = spec.taker_fee if spec.taker_fee is not None else self.taker_fee
        if spec.kind == "linear":  # cost rises with the price: the highest possible fill
            if order.side == "BUY":
                bound = order.price if order.price is not None else state.book.asks[-1][0] * Decimal("1.01")
            else:
                bound = max(order.price or Decimal(0), state.book.bids[0][0])
        else:  # inverse: cost rises as the price falls: the lowest possible fill
            if order.side == "BUY":
                bound = min(order.price, state.book.asks[0][0]) if order.price is not None else state.book.asks[0][0]
            else:
                bound = order.price if order.price is not None else state.book.bids[-1][0] * Decimal("0.99")
        notional = spec.value(order.quantity, bound)
        if order.reduce_only:
            return _ledger(notional * rate)
        leverage = self.position(order.account, spec.symbol).leverage
        return _ledger(notional / leverage + notional * rate)

    def _closable(self, account: str, symbol: str, side: Side) -> Decimal:
        """How much an order on ``side`` can reduce the position (0 when it would open or add)."""
        size = self.position(account, symbol).size
        if (side == "BUY" and size < 0) or (side == "SELL" and size > 0):
            return abs(size)
        return Decimal(0)

    def _crosses(self, state: SymbolState, side: Side, price: Decimal | None) -> bool:
        if price is None:
            return True
        return price >= state.book.asks[0][0] if side == "BUY" else price <= state.book.bids[0][0]

    def _fillable(self, state: SymbolState, order: EOrder, level_price: Decimal, size: Decimal) -> Decimal:
        quantity = min(size, order.remaining)
        if order.reduce_only:
            quantity = min(quantity, self._closable(order.account, order.symbol, order.side))
        if order.exact_quote and order.quote_quantity is not None:
            left = order.quote_quantity - order.quote_filled
            quantity = min(quantity, (left / level_price).quantize(state.spec.step_size, rounding=ROUND_DOWN))
        return quantity

    def _take(self, state: SymbolState, order: EOrder, now: int) -> None:
        """Fill ``order`` as a taker against the synthetic levels it crosses."""
        is_buy = order.side == "BUY"
        levels = state.book.asks if is_buy else state.book.bids
        if order.tif == "FOK":
            available = sum((size for p, size in levels if self._crosses_level(order, p)), Decimal(0))
            if available < order.remaining:
                return
        changed: list[tuple[Decimal, Decimal]] = []
        for i, (level_price, size) in enumerate(levels):
            if order.remaining <= 0 or not self._crosses_level(order, level_price):
                break
            quantity = self._fillable(state, order, level_price, size)
            if quantity <= 0:
                if size > 0:
                    break  # nothing more this order may take (reduce-only or quote spent)
                continue
            levels[i] = (level_price, size - quantity)
            changed.append(levels[i])
            self._execute(state, order, level_price, quantity, is_maker=False, now=now)
        if changed:
            for listener in self.listeners.on_book:
                listener(state, [] if is_buy else changed, changed if is_buy else [])

    @staticmethod
    def _crosses_level(order: EOrder, level_price: Decimal) -> bool:
        if order.price is None:
            return True
        return level_price <= order.price if order.side == "BUY" else level_price >= order.price

    def _fill_resting(self, state: SymbolState, now: int) -> None:
        for order in list(self.orders.values()):
            if order.symbol != state.spec.symbol or not order.is_open or order.price is None:
                continue
            crossed = state.mid <= order.price if order.side == "BUY" else state.mid >= order.price
            if not crossed:
                continue
            part = (order.quantity * self.maker_fill_fraction).quantize(state.spec.step_size, rounding=ROUND_DOWN)
            quantity = min(order.remaining, max(part, state.spec.min_qty))
            if order.reduce_only:
                quantity = min(quantity, self._closable(order.account, order.symbol, order.side))
                if quantity <= 0:  # the position it was reducing is gone
                    order.reject_reason = "reduce_only"
                    self._finish(order, "CANCELED", now)
                    self._emit_balances(order.account, {state.spec.base, state.spec.quote})
                    continue
            self._execute(state, order, order.price, quantity, is_maker=True, now=now)
            self._emit_balances(order.account, {state.spec.base, state.spec.quote})

    def _execute(self, state: SymbolState, order: EOrder, price: Decimal, quantity: Decimal, *, is_maker: bool,
                 now: int) -> None:
        spec = state.spec
        quote = spec.value(quantity, price)
        rate = (spec.maker_fee if spec.maker_fee is not None else self.maker_fee) if is_maker else \
            (spec.taker_fee if spec.taker_fee is not None else self.taker_fee)
        closed_size = closed_pnl = Decimal(0)
        position: EPosition | None = None
        if spec.is_derivative:
            fee, fee_asset = _ledger(quote * rate), spec.settle
            position, closed_size, closed_pnl = self._settle_derivative(spec, order, price, quantity, fee, now)
        else:
            base_wallet, quote_wallet = self._wallet(order.account, spec.base), self._wallet(order.account, spec.quote)
            if order.side == "BUY":
                fee, fee_asset = (quantity * rate).normalize(), spec.base
                spend = min(quote, order.locked)
                quote_wallet[1] -= spend
                order.locked -= spend
                base_wallet[0] += quantity - fee
            else:
                fee, fee_asset = (quote * rate).normalize(), spec.quote
                base_wallet[1] -= quantity
                order.locked -= quantity
                quote_wallet[0] += quote - fee
        order.filled += quantity
        order.quote_filled += quote
        order.updated_ms = now
        fill = EFill(next(state.next_trade_id), order.order_id, order.client_order_id, order.account, spec.symbol,
                     order.side, price, quantity, quote, fee, fee_asset, is_maker, now, closed_size, closed_pnl, rate)
        self.fill_log.append(fill)
        order.last_fill = fill
        self._print_trade(state, price, quantity, buyer_is_maker=(order.side == "BUY") == is_maker, now=now)
        if order.remaining <= 0:
            self._finish(order, "FILLED", now, fill)
        else:
            order.status = "PARTIALLY_FILLED"
            self._emit_order(order, fill, "TRADE")
        if position is not None:
            self._emit_position(position)

    def _settle_derivative(self, spec: InstrumentSpec, order: EOrder, price: Decimal, quantity: Decimal,
                           fee: Decimal, now: int) -> tuple[EPosition, Decimal, Decimal]:
        """Apply one fill to the position and the settle-coin wallet; returns (position, closed size, PnL)."""
        wallet = self._wallet(order.account, spec.settle)
        share = order.locked if quantity >= order.remaining else _ledger(order.locked * quantity / order.remaining)
        wallet[1] -= share  # the order's lock for this part comes back ...
        wallet[0] += share
        order.locked -= share
        position = self.position(order.account, spec.symbol)
        signed = quantity if order.side == "BUY" else -quantity
        closed = pnl = Decimal(0)
        opened = quantity
        if position.size and (position.size > 0) != (signed > 0):
            direction = 1 if position.size > 0 else -1
            closed = min(quantity, abs(position.size))
            entry = position.entry_price
            pnl = closed * (1 / entry - 1 / price) if spec.kind == "inverse" else closed * (price - entry)
            pnl = _ledger(pnl * direction)
            opened = quantity - closed
            position.size += closed * -direction
            if position.size == 0:
                position.entry_price = Decimal(0)
        if opened:
            if position.size == 0:
                position.realised = Decimal(0)  # a new position starts its own realised PnL
                position.created_ms = now
                position.size = opened if signed > 0 else -opened
                position.entry_price = price
            else:
                held = abs(position.size)
                if spec.kind == "inverse":
                    position.entry_price = (held + opened) / (held / position.entry_price + opened / price)
                else:
                    position.entry_price = (held * position.entry_price + opened * price) / (held + opened)
                position.size += opened if signed > 0 else -opened
        margin = self.initial_margin(spec, abs(position.size), position.entry_price, position.leverage)
        wallet[0] -= margin - position.margin  # ... and the position's margin is taken (or given back)
        wallet[1] += margin - position.margin
        position.margin = margin
        wallet[0] += pnl - fee
        position.realised += pnl - fee
        position.cum_realised += pnl - fee
        position.updated_ms = now
        position.seq += 1
        return position, closed, pnl

    def _finish(self, order: EOrder, status: Status, now: int, fill: EFill | None = None) -> None:
        if order.locked:
            wallet = self._wallet(order.account, order.locked_asset)
            wallet[1] -= order.locked
            wallet[0] += order.locked
            order.locked = Decimal(0)
        order.status = status
        order.updated_ms = now
        self._emit_order(order, fill, "TRADE" if fill is not None else status)

    def cancel(self, account: str, symbol: str, *, order_id: int | None = None,
               client_order_id: str | None = None) -> EOrder:
        order = self.find(symbol, order_id=order_id, client_order_id=client_order_id, account=account)
        if not order.is_open:
            raise Rejected("unknown_order", "order is not open")
        self._finish(order, "CANCELED", wall_ms())
        spec = self.symbols[symbol].spec
        self._emit_balances(account, {spec.base, spec.quote})
        return order

    def open_orders(self, account: str, symbol: str | None = None) -> list[EOrder]:
        return [o for o in self.orders.values()
                if o.account == account and o.is_open and (symbol is None or o.symbol == symbol)]

    def fills_of(self, account: str, symbol: str) -> list[EFill]:
        return [f for f in self.fill_log if f.account == account and f.symbol == symbol]

    # ------------------------------------------------------------------ positions (derivatives)
    def position(self, account: str, symbol: str) -> EPosition:
        """The account's position in a derivatives instrument (size 0 until it trades; holds the leverage)."""
        spec = self.symbol(symbol).spec
        if not spec.is_derivative:
            raise Rejected("not_derivative", symbol)
        key = (account, symbol)
        position = self.positions.get(key)
        if position is None:
            position = EPosition(account, symbol, min(self.default_leverage, spec.max_leverage))
            self.positions[key] = position
        return position

    def positions_of(self, account: str) -> list[EPosition]:
        return [p for (owner, _), p in self.positions.items() if owner == account]

    def set_leverage(self, account: str, symbol: str, leverage: Decimal) -> EPosition:
        position = self.position(account, symbol)
        spec = self.symbols[symbol].spec
        if leverage == position.leverage:
            raise Rejected("leverage_not_modified")
        if leverage < 1 or leverage > spec.max_leverage:
            raise Rejected("leverage_invalid", f"[1, {spec.max_leverage}]")
        margin = self.initial_margin(spec, abs(position.size), position.entry_price, leverage)
        wallet = self._wallet(account, spec.settle)
        if wallet[0] < margin - position.margin:
            raise Rejected("insufficient_balance")
        wallet[0] -= margin - position.margin
        wallet[1] += margin - position.margin
        position.margin, position.leverage, position.updated_ms = margin, leverage, wall_ms()
        self._emit_position(position)
        self._emit_balances(account, {spec.settle})
        return position

    @staticmethod
    def initial_margin(spec: InstrumentSpec, size: Decimal, entry: Decimal, leverage: Decimal) -> Decimal:
        return _ledger(spec.value(size, entry) / leverage) if size else Decimal(0)

    def mark_price(self, symbol: str) -> Decimal:
        """The mark price is the mid (there is no index)."""
        return self.symbol(symbol).mid

    def unrealised_pnl(self, position: EPosition) -> Decimal:
        if not position.size:
            return Decimal(0)
        spec, mark = self.symbols[position.symbol].spec, self.mark_price(position.symbol)
        if spec.kind == "inverse":
            return position.size * (1 / position.entry_price - 1 / mark)
        return position.size * (mark - position.entry_price)

    def position_value(self, position: EPosition) -> Decimal:
        """At the entry price, as Bybit reports it (linear: quote coin; inverse: base coin)."""
        if not position.size:
            return Decimal(0)
        return self.symbols[position.symbol].spec.value(abs(position.size), position.entry_price)

    def maintenance_margin(self, position: EPosition) -> Decimal:
        return self.position_value(position) * self.maintenance_rate

    def liquidation_price(self, position: EPosition) -> Decimal | None:
        """Informational only (isolated-margin formula; nothing is liquidated): None without a position."""
        if not position.size:
            return None
        spec, entry = self.symbols[position.symbol].spec, position.entry_price
        k = 1 / position.leverage - self.maintenance_rate  # the adverse move that eats the margin, as a fraction
        if spec.kind == "inverse":
            return entry / (1 + k) if position.size > 0 else entry / (1 - k)
        return entry * (1 - k) if position.size > 0 else entry * (1 + k)

    # ------------------------------------------------------------------ events
    def _emit_order(self, order: EOrder, fill: EFill | None, execution: str) -> None:
        for listener in self.listeners.on_order:
            listener(order, fill, execution)

    def _emit_position(self, position: EPosition) -> None:
        for listener in self.listeners.on_position:
            listener(position)

    def _emit_balances(self, account: str, assets: set[str]) -> None:
        snapshot = {a: (self.balance(account, a)) for a in sorted(assets)}
        for listener in self.listeners.on_balances:
            listener(account, snapshot)


def _diff(old: list[tuple[Decimal, Decimal]], new: list[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
    """Levels that changed between two books: new sizes, and size 0 for levels that disappeared."""
    new_map = dict(new)
    changes = [(price, Decimal(0)) for price, _ in old if price not in new_map]
    old_map = dict(old)
    changes += [(price, size) for price, size in new if old_map.get(price) != size]
    return changes
