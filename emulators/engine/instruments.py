"""What can be traded: an instrument's filters, start price and liquidity, and the engine's default set.

An instrument is keyed by an engine id (`InstrumentSpec.symbol`); `venue_symbol` is what the venue calls
the market, so one venue symbol can name several markets (Bybit spot BTCUSDT and linear BTCUSDT are
"spot:BTCUSDT" and "linear:BTCUSDT"). The default instruments keep id == venue symbol.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import attrs

Kind = Literal["spot", "linear", "inverse"]


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
    # A spot market that also takes leveraged orders (Kraken's spot margin): those open a position settled in
    # the quote coin, margined and closed like a linear contract, while plain orders stay spot.
    marginable: bool = False

    @property
    def name(self) -> str:
        """The venue's symbol."""
        return self.venue_symbol or self.symbol

    @property
    def is_derivative(self) -> bool:
        return self.kind != "spot"

    @property
    def takes_positions(self) -> bool:
        """Whether positions exist here: derivatives, and spot markets that take margin orders."""
        return self.is_derivative or self.marginable

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
    own kinds from these (Bybit: linear perpetuals, see `emulators.bybit.spec.synthetic_linear_instruments`).
    """
    width = max(2, len(str(count)))
    return [
        InstrumentSpec(f"S{n:0{width}d}USDT", f"S{n:0{width}d}", "USDT", Decimal("0.001"), Decimal("0.01"),
                       Decimal("0.01"), Decimal("1000000"), Decimal("5"), Decimal(f"{1 + 7 * n}.5"), Decimal("200"))
        for n in range(1, count + 1)
    ]
