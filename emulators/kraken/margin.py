"""Kraken spot margin as the venue shows it: positions per opening trade, the trade balance, margin levels.

The engine keeps one netting position per (account, pair) for leveraged orders (`engine.ledger`); Kraken lists a
position per opening trade (`OpenPositions` is keyed by that trade's id) with its own cost, fee, margin and
closed volume. `MarginBook` keeps those lots from the fills: the opened part of a fill opens a lot, the closed
part closes the open lots *pro rata* (so what the lots still hold always sums to the engine's position at its
average entry -- Kraken's own allocation of closes across positions is not documented).

Valuations (`Valuer`) use the mids: directly through a pair, or through USD or XBT. ``TradeBalance`` follows
Kraken's definitions: eb (everything, at value), tb (collateral: each asset at its collateral value), m (margin
of open positions), n (their unrealised P&L), c (their cost basis), v (their value), e = tb + n, mf = e - m,
ml = e / m x 100 (only with positions), uv (value of unfilled open orders). Earn holdings count in neither.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import attrs

from emulators.engine import Exchange
from emulators.kraken.pairs import KrakenPair, Markets

D = Decimal
ZERO = D(0)


@attrs.define
class Lot:
    """One Kraken margin position: what one opening trade opened, and how much of it is closed."""

    txid: str  # the opening trade's id
    ordertxid: str
    account: str
    pair: KrakenPair
    side: str  # buy | sell
    ordertype: str
    time: float  # unix seconds
    leverage: int
    oflags: str
    vol: Decimal
    cost: Decimal
    fee: Decimal
    margin: Decimal
    vol_closed: Decimal = ZERO
    closed_cost: Decimal = ZERO
    closed_fee: Decimal = ZERO
    closed_margin: Decimal = ZERO
    net: Decimal = ZERO  # realised P&L of the closed part, before fees
    closing_trades: list[str] = attrs.field(factory=list)

    @property
    def open_vol(self) -> Decimal:
        return self.vol - self.vol_closed

    @property
    def direction(self) -> int:
        return 1 if self.side == "buy" else -1

    @property
    def open_cost(self) -> Decimal:
        return self.cost * self.open_vol / self.vol

    @property
    def open_margin(self) -> Decimal:
        return self.margin * self.open_vol / self.vol

    def unrealised(self, mark: Decimal) -> Decimal:
        return (mark * self.open_vol - self.open_cost) * self.direction


@attrs.define
class MarginBook:
    lots: list[Lot] = attrs.field(factory=list)

    def open_lots(self, account: str, symbol: str | None = None) -> list[Lot]:
        return [lot for lot in self.lots if lot.account == account and lot.open_vol > 0
                and (symbol is None or lot.pair.key == symbol)]

    def lot(self, txid: str) -> Lot | None:
        return next((lot for lot in self.lots if lot.txid == txid), None)

    def close(self, account: str, pair: KrakenPair, closed: Decimal, price: Decimal, fee: Decimal,
              trade_txid: str) -> list[Lot]:
        """Close ``closed`` of the account's open lots in ``pair`` pro rata; returns the lots it touched."""
        lots = self.open_lots(account, pair.key)
        total = sum((lot.open_vol for lot in lots), ZERO)
        if not lots or closed <= 0:
            return []
        left = min(closed, total)
        for i, lot in enumerate(lots):
            take = left if i == len(lots) - 1 else min(left, (lot.open_vol * closed / total).quantize(
                pair.lot_step, rounding=ROUND_DOWN))
            take = min(take, lot.open_vol)
            share = take / closed
            lot.closed_cost += lot.cost * take / lot.vol
            lot.closed_margin += lot.margin * take / lot.vol
            lot.net += (price - lot.cost / lot.vol) * take * lot.direction
            lot.closed_fee += fee * share
            lot.vol_closed += take
            lot.closing_trades.append(trade_txid)
            left -= take
        return lots


@attrs.define
class Valuer:
    """Values of amounts in another asset, at the engine's mids."""

    exchange: Exchange
    markets: Markets

    def mark(self, pair: KrakenPair) -> Decimal:
        return self.exchange.symbols[pair.key].mid

    def _direct(self, source: str, target: str) -> Decimal | None:
        for pair in self.markets.pairs.values():
            if pair.key not in self.exchange.symbols:
                continue
            if (pair.base, pair.quote) == (source, target):
                return self.mark(pair)
            if (pair.base, pair.quote) == (target, source):
                return 1 / self.mark(pair)
        return None

    def rate(self, source: str, target: str) -> Decimal:
        """How much ``target`` one ``source`` is worth (0 when no pair links them)."""
        if source == target:
            return D(1)
        direct = self._direct(source, target)
        if direct is not None:
            return direct
        for via in ("ZUSD", "XXBT"):
            first, second = self._direct(source, via), self._direct(via, target)
            if first is not None and second is not None:
                return first * second
        return ZERO

    def value(self, source: str, amount: Decimal, target: str) -> Decimal:
        return amount * self.rate(source, target) if amount else ZERO


@attrs.frozen
class TradeBalance:
    eb: Decimal
    tb: Decimal
    m: Decimal
    n: Decimal
    c: Decimal
    v: Decimal
    e: Decimal
    mf: Decimal
    ml: Decimal | None  # None without positions
    uv: Decimal


def trade_balance(valuer: Valuer, book: MarginBook, account: str, asset: str) -> TradeBalance:
    exchange, markets = valuer.exchange, valuer.markets
    eb = tb = ZERO
    for name, (free, locked) in exchange.balances.get(account, {}).items():
        known = markets.assets.get(name)
        if known is None:  # Earn holdings and unknown assets are not collateral
            continue
        worth = valuer.value(name, free + locked, asset)
        eb += worth
        tb += worth * known.collateral_value
    m = n = c = v = ZERO
    for lot in book.open_lots(account):
        quote, mark = lot.pair.quote, valuer.mark(lot.pair)
        m += valuer.value(quote, lot.open_margin, asset)
        n += valuer.value(quote, lot.unrealised(mark), asset)
        c += valuer.value(quote, lot.open_cost, asset)
        v += valuer.value(quote, lot.open_vol * mark, asset)
    uv = ZERO
    for order in exchange.open_orders(account):
        pair = markets.pairs[order.symbol]
        price = order.price if order.price is not None else exchange.symbols[order.symbol].mid
        uv += valuer.value(pair.quote, order.remaining * price, asset)
    e = tb + n
    return TradeBalance(eb, tb, m, n, c, v, e, e - m, e / m * 100 if m else None, uv)
