"""Orders and matching: the exchange dialects trade against. Nothing here knows a venue's JSON.

Dialects (`emulators.binance`, `emulators.bybit`, ...) translate their wire format into calls on `Exchange`
and listen to its events (`Listeners`) to push websocket messages.

Model (deliberately simple, stated so nobody mistakes it for a real market):
- market and marketable limit orders take the synthetic liquidity level by level (so big orders fill
  partially across levels; what cannot fill expires, IOC/market style);
- resting limit orders fill as makers when the mid crosses their price, at most `maker_fill_fraction` of
  their size each tick, so partial fills happen over time;
- orders lock funds on placement (spot buys: quote at the limit or a pessimistic market price; sells: the
  base; derivatives: initial margin plus the taker fee at the worst price they can fill at), fills settle
  them and cancels release them; reduce-only orders are refused when they would open or add, and are
  capped to the position size;
- fees are 0.1% unless the instrument says otherwise; the fill log is the ground truth tests compare
  clients against.
"""

from __future__ import annotations

import itertools
from decimal import ROUND_DOWN, Decimal

import attrs

from emulators.engine.instruments import InstrumentSpec
from emulators.engine.ledger import Ledger, ledger_amount
from emulators.engine.model import (
    EFill,
    EOrder,
    EPosition,
    OrderKind,
    Rejected,
    RejectReason,
    Side,
    Status,
    SymbolState,
    Tif,
)


@attrs.define
class Exchange(Ledger):
    """One emulated exchange: symbols, accounts, orders, the fill log. Deterministic from ``seed``."""

    maker_fill_fraction: Decimal = Decimal("0.5")  # of an order's remaining quantity, per crossing tick
    orders: dict[int, EOrder] = attrs.field(factory=dict)  # by a global key: see _order_keys
    fill_log: list[EFill] = attrs.field(factory=list)
    _order_keys: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    # ------------------------------------------------------------------ lookups
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
        raise Rejected(RejectReason.UNKNOWN_ORDER, f"{symbol} {order_id or client_order_id}")

    def all_orders(self) -> list[EOrder]:
        return list(self.orders.values())

    def open_orders(self, account: str, symbol: str | None = None) -> list[EOrder]:
        return [o for o in self.orders.values()
                if o.account == account and o.is_open and (symbol is None or o.symbol == symbol)]

    def fills_of(self, account: str, symbol: str) -> list[EFill]:
        return [f for f in self.fill_log if f.account == account and f.symbol == symbol]

    # ------------------------------------------------------------------ placing and cancelling
    def validate(self, spec: InstrumentSpec, kind: OrderKind, quantity: Decimal, price: Decimal | None) -> None:
        if quantity < spec.min_qty:
            raise Rejected(RejectReason.QTY_BELOW_MIN)
        if quantity > spec.max_qty:
            raise Rejected(RejectReason.QTY_ABOVE_MAX)
        if (quantity - spec.min_qty) % spec.step_size:
            raise Rejected(RejectReason.QTY_OFF_STEP)
        if price is not None and (price <= 0 or price % spec.tick_size):
            raise Rejected(RejectReason.PRICE_OFF_TICK)
        reference = price if price is not None else self.symbols[spec.symbol].mid
        notional = quantity if spec.kind == "inverse" else quantity * reference
        if notional < spec.min_notional:
            raise Rejected(RejectReason.NOTIONAL_BELOW_MIN)

    def place(self, account: str, symbol: str, side: Side, kind: OrderKind, quantity: Decimal,
              price: Decimal | None, tif: Tif, client_order_id: str,
              quote_quantity: Decimal | None = None, *, reduce_only: bool = False, exact_quote: bool = False,
              reject_post_only: bool = True, margin: bool = False) -> EOrder:
        """Place an order. ``reduce_only`` (derivatives) refuses orders that would open or add and caps the
        quantity to the position; ``exact_quote`` makes a market buy by quote spend at most that amount;
        ``reject_post_only=False`` accepts a crossing LIMIT_MAKER and cancels it at once (Bybit's PostOnly);
        ``margin`` (marginable spot markets) trades a position in the quote coin instead of the wallets."""
        state = self.symbol(symbol)
        spec = state.spec
        if margin and not spec.marginable:
            raise Rejected(RejectReason.NOT_DERIVATIVE, symbol)
        positional = spec.is_derivative or margin
        if client_order_id:
            for order in self.orders.values():
                if order.account == account and order.client_order_id == client_order_id and order.is_open:
                    raise Rejected(RejectReason.DUPLICATE, client_order_id)
        if quote_quantity is not None and kind == "MARKET":
            ask = self.best_ask(symbol) if side == "BUY" else self.best_bid(symbol)
            quantity = (quote_quantity / ask).quantize(spec.step_size, rounding=ROUND_DOWN)
        if reduce_only and positional:
            closable = self._closable(account, symbol, side)
            if closable <= 0:
                raise Rejected(RejectReason.REDUCE_ONLY)
            quantity = min(quantity, closable)
        self.validate(spec, kind, quantity, price)
        now = self.now_ms()
        order = EOrder(next(state.next_order_id), client_order_id, account, symbol, side, kind, tif, quantity, price,
                       now, now, quote_quantity=quote_quantity, reduce_only=reduce_only and positional,
                       exact_quote=exact_quote and quote_quantity is not None, margin=margin)
        self._lock(state, order)
        wallet = self._wallet(account, order.locked_asset)
        if wallet[0] < order.locked:
            raise Rejected(RejectReason.INSUFFICIENT_BALANCE)
        crossing = kind == "LIMIT_MAKER" and self._crosses(state, side, price)
        if crossing and reject_post_only:
            raise Rejected(RejectReason.WOULD_MATCH, "Order would immediately match and take.")
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

    def cancel(self, account: str, symbol: str, *, order_id: int | None = None,
               client_order_id: str | None = None) -> EOrder:
        order = self.find(symbol, order_id=order_id, client_order_id=client_order_id, account=account)
        if not order.is_open:
            raise Rejected(RejectReason.UNKNOWN_ORDER, "order is not open")
        self._finish(order, "CANCELED", self.now_ms())
        spec = self.symbols[symbol].spec
        self._emit_balances(account, {spec.base, spec.quote})
        return order

    def amend(self, account: str, symbol: str, order_id: int, *, quantity: Decimal | None = None,
              price: Decimal | None = None, post_only: bool = False) -> EOrder:
        """Change an open limit order in place (its ids stay). A quantity at or below what already filled ends
        it (FILLED, the rest cancelled); a new price must fit the tick and, if it now crosses, the order takes
        liquidity -- unless it is post-only (``post_only`` or LIMIT_MAKER), which refuses with WOULD_MATCH. The
        funds are locked again for what remains on the new terms."""
        order = self.find(symbol, order_id=order_id, account=account)
        if not order.is_open or order.price is None:
            raise Rejected(RejectReason.UNKNOWN_ORDER, "not an open limit order")
        state = self.symbol(symbol)
        new_quantity = order.quantity if quantity is None else quantity
        new_price = order.price if price is None else price
        self.validate(state.spec, order.kind, new_quantity, new_price)
        now = self.now_ms()
        if new_quantity <= order.filled:
            order.quantity = order.filled
            self._finish(order, "FILLED", now)
            self._emit_balances(account, {state.spec.base, state.spec.quote})
            return order
        crossing = self._crosses(state, order.side, new_price)
        if crossing and (post_only or order.kind == "LIMIT_MAKER"):
            raise Rejected(RejectReason.WOULD_MATCH, "Order would immediately match and take.")
        probe = attrs.evolve(order, quantity=new_quantity - order.filled, price=new_price)
        self._lock(state, probe)
        wallet = self._wallet(account, order.locked_asset)
        if wallet[0] + (order.locked if probe.locked_asset == order.locked_asset else 0) < probe.locked:
            raise Rejected(RejectReason.INSUFFICIENT_BALANCE)
        wallet[1] -= order.locked
        wallet[0] += order.locked
        target = self._wallet(account, probe.locked_asset)
        target[0] -= probe.locked
        target[1] += probe.locked
        order.locked_asset, order.locked = probe.locked_asset, probe.locked
        order.quantity, order.price, order.updated_ms = new_quantity, new_price, now
        if post_only and order.kind == "LIMIT":
            order.kind = "LIMIT_MAKER"
        self._emit_order(order, None, "AMENDED")
        if crossing:
            self._take(state, order, now)
        self._emit_balances(account, {state.spec.base, state.spec.quote, state.spec.settle})
        return order

    def _lock(self, state: SymbolState, order: EOrder) -> None:
        """Decide what the order locks: the most it could spend (or margin, for derivatives)."""
        spec = state.spec
        if spec.is_derivative or order.margin:
            order.locked_asset, order.locked = spec.settle, self._order_cost(state, order)
        elif order.side == "BUY":
            # Lock what the order could spend: quote for buys (at the limit, or a pessimistic market price).
            worst = order.price if order.price is not None else state.book.asks[-1][0] * Decimal("1.01")
            order.locked_asset, order.locked = spec.quote, order.quantity * worst
        else:
            order.locked_asset, order.locked = spec.base, order.quantity

    def _order_cost(self, state: SymbolState, order: EOrder) -> Decimal:
        """What a derivatives order locks: initial margin plus taker fee at the worst price it can fill at
        (reduce-only orders: the fee only)."""
        spec = state.spec
        rate = self.fee_rate(spec, is_maker=False)
        if spec.kind != "inverse":  # linear (and spot margin): cost rises with the price, the highest fill
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
            return ledger_amount(notional * rate)
        leverage = self.position(order.account, spec.symbol).leverage
        return ledger_amount(notional / leverage + notional * rate)

    # ------------------------------------------------------------------ matching
    @staticmethod
    def _crosses(state: SymbolState, side: Side, price: Decimal | None) -> bool:
        if price is None:
            return True
        return price >= state.book.asks[0][0] if side == "BUY" else price <= state.book.bids[0][0]

    @staticmethod
    def _crosses_level(order: EOrder, level_price: Decimal) -> bool:
        if order.price is None:
            return True
        return level_price <= order.price if order.side == "BUY" else level_price >= order.price

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

    def may_fill(self, order: EOrder) -> bool:
        """Whether a resting order may fill now (always; a venue with trading sessions narrows it, e.g. only
        extended-hours orders outside the regular session)."""
        return True

    def _after_tick(self, state: SymbolState, now: int) -> None:
        """Resting orders the mid crossed fill as makers, part of their size per tick."""
        for order in list(self.orders.values()):
            if order.symbol != state.spec.symbol or not order.is_open or order.price is None \
                    or not self.may_fill(order):
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
        rate = self.fee_rate(spec, is_maker=is_maker)
        closed_size = closed_pnl = Decimal(0)
        position: EPosition | None = None
        if spec.is_derivative or order.margin:
            fee, fee_asset = ledger_amount(quote * rate), spec.settle
            position, closed_size, closed_pnl = self._settle_derivative(spec, order, price, quantity, fee, now)
        else:
            fee, fee_asset = self._settle_spot(spec, order, quantity, quote, rate)
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

    def _settle_spot(self, spec: InstrumentSpec, order: EOrder, quantity: Decimal, quote: Decimal,
                     rate: Decimal) -> tuple[Decimal, str]:
        """Move a spot fill through the wallets; the fee comes out of what the account receives."""
        base_wallet, quote_wallet = self._wallet(order.account, spec.base), self._wallet(order.account, spec.quote)
        if order.side == "BUY":
            fee = self.spot_fee(quantity * rate)
            spend = min(quote, order.locked)
            quote_wallet[1] -= spend
            order.locked -= spend
            base_wallet[0] += quantity - fee
            return fee, spec.base
        fee = self.spot_fee(quote * rate)
        base_wallet[1] -= quantity
        order.locked -= quantity
        quote_wallet[0] += quote - fee
        return fee, spec.quote

    def _finish(self, order: EOrder, status: Status, now: int, fill: EFill | None = None) -> None:
        if order.locked:
            wallet = self._wallet(order.account, order.locked_asset)
            wallet[1] -= order.locked
            wallet[0] += order.locked
            order.locked = Decimal(0)
        order.status = status
        order.updated_ms = now
        self._emit_order(order, fill, "TRADE" if fill is not None else status)

    def _emit_order(self, order: EOrder, fill: EFill | None, execution: str) -> None:
        for listener in self.listeners.on_order:
            listener(order, fill, execution)
