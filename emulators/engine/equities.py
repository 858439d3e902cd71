"""Stocks: the engine for a venue that trades shares for cash, on a market clock with sessions.

`StockExchange` is the `Exchange` with four differences, each a narrow override:
- time is the venue's `MarketClock` (a pinned start plus trio's clock), so every record -- orders, fills,
  trades, candles -- carries the emulated wall-clock time;
- sessions: while the market is closed nothing trades and prices do not move (no ticks); at every session
  transition (`sessions.Boundary`: pre-market open, regular open, close, after-hours close) the registered
  ``session_listeners`` are called before the tick, and ``tick_listeners`` on every tick, open or closed; resting orders fill only when ``fill_filter`` allows
  (the venue decides, e.g. only extended-hours orders outside the regular session);
- the ledger: the account's cash is the quote currency's wallet and may go negative (a margin loan); a
  position per (account, symbol) is an `EPosition` with a signed share count (negative: short), the average
  entry price of its opening fills and its realised P&L. Nothing is locked on placement: what an account may
  buy or sell short (buying power, shares available, shortability) is the venue's rule and the dialect's
  check, not the engine's. Commission is zero unless the instrument says otherwise;
- auctions: `cross` fills an order in full at one price (an opening or closing auction print).

Not modelled: margin calls and liquidations, borrow fees, dividends and corporate actions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import attrs

from emulators.engine.instruments import InstrumentSpec
from emulators.engine.matching import Exchange
from emulators.engine.model import EOrder, EPosition, Side, SymbolState
from emulators.engine.sessions import Boundary, MarketClock, Session, trading_calendar


@attrs.define
class StockExchange(Exchange):
    """An `Exchange` of shares for cash on a market clock (see the module docstring)."""

    clock: MarketClock = attrs.field(factory=lambda: MarketClock(trading_calendar()))
    fill_filter: Callable[[EOrder], bool] | None = None  # None: resting orders fill in the regular session only
    session_listeners: list[Callable[[Boundary], None]] = attrs.field(factory=list)
    tick_listeners: list[Callable[[], None]] = attrs.field(factory=list)  # every tick, open or closed
    closes: dict[str, Decimal] = attrs.field(factory=dict)  # symbol -> the last regular-session close
    currency: str = "USD"  # the cash wallet (every instrument is quoted in it)
    _checked: float | None = None  # epoch seconds up to which session transitions were reported

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        now = self.now_ms()
        for symbol, state in self.symbols.items():
            self.closes[symbol] = state.mid
            # one print at the start price, so every symbol has a last trade before its first tick
            self._print_trade(state, state.mid, state.spec.level_size / 10, False, now)

    # ------------------------------------------------------------------ time and sessions
    def now_ms(self) -> int:
        return self.clock.now_ms()

    def session(self) -> Session:
        return self.clock.session()[0]

    def tick(self) -> None:
        """Report the session transitions since the last tick, then move prices unless the market is closed."""
        self.advance_sessions()
        for listener in list(self.tick_listeners):
            listener()
        if self.session() is not Session.CLOSED:
            super().tick()

    def advance_sessions(self) -> list[Boundary]:
        """Call the session listeners for every transition since the last call (the first call only starts)."""
        now = self.clock.now()
        if self._checked is None:
            self._checked = now.timestamp()
            return []
        passed = self.clock.calendar.boundaries(datetime.fromtimestamp(self._checked, UTC), now)
        self._checked = now.timestamp()
        for boundary in passed:
            if boundary.kind == "close":
                for symbol in self.symbols:
                    self.closes[symbol] = self.last_price(symbol)
            for listener in list(self.session_listeners):
                listener(boundary)
        return passed

    def may_fill(self, order: EOrder) -> bool:
        if self.fill_filter is not None:
            return self.fill_filter(order)
        return self.session() is Session.REGULAR

    # ------------------------------------------------------------------ prices
    def last_price(self, symbol: str) -> Decimal:
        """The last trade's price (the mid before any trade)."""
        state = self.symbol(symbol)
        return state.trades[-1].price if state.trades else state.mid

    # ------------------------------------------------------------------ positions and cash
    def stock_position(self, account: str, symbol: str) -> EPosition:
        """The account's position in ``symbol`` (size 0 until it trades)."""
        key = (account, symbol)
        position = self.positions.get(key)
        if position is None:
            position = EPosition(account, symbol, Decimal(1))
            self.positions[key] = position
        return position

    def holdings(self, account: str) -> list[EPosition]:
        """The account's open positions, long and short, in the order they were first opened."""
        return [p for p in self.positions_of(account) if p.size]

    def cash(self, account: str) -> Decimal:
        """The account's cash (negative: borrowed on margin)."""
        return self.balance(account, self.currency)[0]

    def _lock(self, state: SymbolState, order: EOrder) -> None:
        """Nothing is locked: buying power and shares available are the venue's checks (see the docstring)."""
        order.locked_asset, order.locked = state.spec.base, Decimal(0)

    def _settle_spot(self, spec: InstrumentSpec, order: EOrder, quantity: Decimal, quote: Decimal,
                     rate: Decimal) -> tuple[Decimal, str]:
        """Cash moves by the fill's value (less commission), the position by its shares."""
        fee = (quote * rate).quantize(Decimal("0.01")) if rate else Decimal(0)
        cash = self._wallet(order.account, spec.quote)
        cash[0] += (-quote if order.side == "BUY" else quote) - fee
        position = self.stock_position(order.account, spec.symbol)
        self._apply_fill(position, order.side, quantity, quote / quantity, fee)
        self._emit_position(position)
        return fee, spec.quote

    def _apply_fill(self, position: EPosition, side: Side, quantity: Decimal, price: Decimal, fee: Decimal) -> None:
        """Net a fill into the position: the closing part realises P&L at the average entry, the opening part
        moves the average entry (a fill that crosses zero opens the remainder at its price)."""
        now = self.now_ms()
        buying = side == "BUY"
        opened = quantity
        position.realised -= fee
        position.cum_realised -= fee
        if position.size and (position.size > 0) != buying:
            closed = min(quantity, abs(position.size))
            direction = 1 if position.size > 0 else -1
            pnl = closed * (price - position.entry_price) * direction
            position.realised += pnl
            position.cum_realised += pnl
            position.size -= closed * direction
            opened = quantity - closed
            if position.size == 0:
                position.entry_price = Decimal(0)
        if opened:
            if position.size == 0:
                position.created_ms, position.realised = now, Decimal(0)
                position.entry_price = price
            else:
                held = abs(position.size)
                position.entry_price = (held * position.entry_price + opened * price) / (held + opened)
            position.size += opened if buying else -opened
        position.updated_ms = now
        position.seq += 1

    # ------------------------------------------------------------------ auctions
    def cross(self, account: str, symbol: str, side: Side, quantity: Decimal, price: Decimal,
              client_order_id: str) -> EOrder:
        """An auction print: a new order filled in full at ``price`` (the book is not touched)."""
        state = self.symbol(symbol)
        self.validate(state.spec, "MARKET", quantity, None)
        now = self.now_ms()
        order = EOrder(next(state.next_order_id), client_order_id, account, symbol, side, "MARKET", "IOC", quantity,
                       None, now, now)
        self._lock(state, order)
        self.orders[next(self._order_keys)] = order
        self._emit_order(order, None, "NEW")
        self._execute(state, order, price, quantity, is_maker=False, now=now)
        self._emit_balances(account, {state.spec.base, state.spec.quote})
        return order
