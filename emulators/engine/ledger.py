"""The ledger: wallets per account and asset, derivatives positions, margin and PnL.

Wallets hold ``[free, locked]`` per asset; orders lock funds on placement (see `matching`), fills settle
them and cancels release them. Commission is taken from the received asset on spot.

Derivatives (`InstrumentSpec.kind` "linear" or "inverse"), and margin orders on marginable spot markets (which
trade a position like a linear contract, settled in the quote coin):
- one-way positions per (account, instrument), netting: `EPosition` with a signed size, an average entry
  price (inverse: the contract-weighted harmonic mean), leverage (default 10, at most the instrument's
  `max_leverage`), the initial margin it holds and its realised PnL (fees included, as venues count it);
- linear contracts are quantities of the base coin settled in the quote coin: PnL = qty * (exit - entry);
  inverse contracts are USD contracts settled in the base coin: PnL = qty * (1/entry - 1/exit);
- margin lives in the settle coin's wallet: fills move an order's lock into the position's margin
  (|size| * entry / leverage, or |size| / entry / leverage for inverse), reducing fills release it and
  credit PnL minus fees to the wallet. Wallet `free + locked` therefore only ever changes by realised PnL
  minus fees;
- the mark price is the mid. The liquidation price is informational (isolated-margin formula with a 0.5%
  maintenance rate): nothing is ever liquidated, and there is no funding, no hedge mode, no TP/SL and no
  conditional orders.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import attrs

from emulators.engine.instruments import DEFAULT_BALANCES, InstrumentSpec
from emulators.engine.model import EOrder, EPosition, Rejected, RejectReason, Side
from emulators.engine.prices import Market

LEDGER_STEP = Decimal("1e-12")  # derivatives amounts are kept to 12 places so that ledger sums stay exact


def ledger_amount(amount: Decimal) -> Decimal:
    return amount.quantize(LEDGER_STEP)


@attrs.define
class Ledger(Market):
    """The market plus accounts: wallets, positions, leverage and margin."""

    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    balances: dict[str, dict[str, list[Decimal]]] = attrs.field(factory=dict)  # account -> asset -> [free, locked]
    positions: dict[tuple[str, str], EPosition] = attrs.field(factory=dict)  # (account, instrument id)
    default_leverage: Decimal = Decimal(10)
    maintenance_rate: Decimal = Decimal("0.005")
    spot_fee_step: Decimal | None = None  # spot fees rounded (half up) to this step, as a venue prints them; None: exact

    # ------------------------------------------------------------------ wallets
    def open_account(self, account: str, balances: dict[str, Decimal] | None = None) -> None:
        funds = DEFAULT_BALANCES if balances is None else balances
        self.balances[account] = {asset: [Decimal(amount), Decimal(0)] for asset, amount in funds.items()}

    def balance(self, account: str, asset: str) -> tuple[Decimal, Decimal]:
        free, locked = self.balances[account].get(asset, [Decimal(0), Decimal(0)])
        return free, locked

    def _wallet(self, account: str, asset: str) -> list[Decimal]:
        return self.balances[account].setdefault(asset, [Decimal(0), Decimal(0)])

    def spot_fee(self, amount: Decimal) -> Decimal:
        """A spot fee as charged: exact, or rounded to `spot_fee_step` where the dialect set one."""
        if self.spot_fee_step is None:
            return amount.normalize()
        return amount.quantize(self.spot_fee_step, rounding=ROUND_HALF_UP).normalize()

    def move_free(self, account: str, source: str, target: str, amount: Decimal) -> None:
        """Move ``amount`` of free funds from one asset's wallet to another's (e.g. into an Earn holding kept as
        its own asset); refused when ``source`` has less free."""
        wallet = self._wallet(account, source)
        if amount <= 0 or wallet[0] < amount:
            raise Rejected(RejectReason.INSUFFICIENT_BALANCE, source)
        wallet[0] -= amount
        self._wallet(account, target)[0] += amount
        self._emit_balances(account, {source, target})

    def credit(self, account: str, asset: str, amount: Decimal) -> None:
        """Add ``amount`` to an asset's free funds (rewards paid by the venue)."""
        self._wallet(account, asset)[0] += amount
        self._emit_balances(account, {asset})

    def fee_rate(self, spec: InstrumentSpec, *, is_maker: bool) -> Decimal:
        """The instrument's own rate where it has one, else the exchange-wide rate."""
        if is_maker:
            return spec.maker_fee if spec.maker_fee is not None else self.maker_fee
        return spec.taker_fee if spec.taker_fee is not None else self.taker_fee

    # ------------------------------------------------------------------ positions (derivatives)
    def position(self, account: str, symbol: str) -> EPosition:
        """The account's position in a derivatives instrument (size 0 until it trades; holds the leverage)."""
        spec = self.symbol(symbol).spec
        if not spec.takes_positions:
            raise Rejected(RejectReason.NOT_DERIVATIVE, symbol)
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
            raise Rejected(RejectReason.LEVERAGE_NOT_MODIFIED)
        if leverage < 1 or leverage > spec.max_leverage:
            raise Rejected(RejectReason.LEVERAGE_INVALID, f"[1, {spec.max_leverage}]")
        margin = self.initial_margin(spec, abs(position.size), position.entry_price, leverage)
        wallet = self._wallet(account, spec.settle)
        if wallet[0] < margin - position.margin:
            raise Rejected(RejectReason.INSUFFICIENT_BALANCE)
        wallet[0] -= margin - position.margin
        wallet[1] += margin - position.margin
        position.margin, position.leverage, position.updated_ms = margin, leverage, self.now_ms()
        self._emit_position(position)
        self._emit_balances(account, {spec.settle})
        return position

    def _closable(self, account: str, symbol: str, side: Side) -> Decimal:
        """How much an order on ``side`` can reduce the position (0 when it would open or add)."""
        size = self.position(account, symbol).size
        if (side == "BUY" and size < 0) or (side == "SELL" and size > 0):
            return abs(size)
        return Decimal(0)

    def _settle_derivative(self, spec: InstrumentSpec, order: EOrder, price: Decimal, quantity: Decimal,
                           fee: Decimal, now: int) -> tuple[EPosition, Decimal, Decimal]:
        """Apply one fill to the position and the settle-coin wallet; returns (position, closed size, PnL)."""
        wallet = self._wallet(order.account, spec.settle)
        share = order.locked if quantity >= order.remaining else ledger_amount(order.locked * quantity / order.remaining)
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
            pnl = ledger_amount(pnl * direction)
            opened = quantity - closed
            position.size += closed * -direction
            if position.size == 0:
                position.entry_price = Decimal(0)
        if opened:
            self._open_more(spec, position, opened if signed > 0 else -opened, price, now)
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

    @staticmethod
    def _open_more(spec: InstrumentSpec, position: EPosition, signed: Decimal, price: Decimal, now: int) -> None:
        """Open a position, or add to it at a new average entry (inverse: the contract-weighted harmonic mean)."""
        if position.size == 0:
            position.realised = Decimal(0)  # a new position starts its own realised PnL
            position.created_ms = now
            position.size = signed
            position.entry_price = price
            return
        held, opened = abs(position.size), abs(signed)
        if spec.kind == "inverse":
            position.entry_price = (held + opened) / (held / position.entry_price + opened / price)
        else:
            position.entry_price = (held * position.entry_price + opened * price) / (held + opened)
        position.size += signed

    # ------------------------------------------------------------------ margin and PnL
    @staticmethod
    def initial_margin(spec: InstrumentSpec, size: Decimal, entry: Decimal, leverage: Decimal) -> Decimal:
        return ledger_amount(spec.value(size, entry) / leverage) if size else Decimal(0)

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
    def _emit_position(self, position: EPosition) -> None:
        for listener in self.listeners.on_position:
            listener(position)

    def _emit_balances(self, account: str, assets: set[str]) -> None:
        snapshot = {a: (self.balance(account, a)) for a in sorted(assets)}
        for listener in self.listeners.on_balances:
            listener(account, snapshot)
