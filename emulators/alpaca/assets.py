"""Alpaca's asset attributes for the emulated tickers: name, exchange, fractionable, shortable, easy to borrow,
marginable, tradable.

They are illustrative -- chosen so that every rule has a symbol to exercise it (TSLA is hard to borrow, TQQQ is
neither fractionable nor shortable) -- not Alpaca's live flags for those tickers. Synthetic tickers (load tests)
are ordinary fractionable, shortable NASDAQ stocks.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Asset:
    """What Alpaca's asset object says about a ticker beyond the engine's filters."""

    symbol: str
    name: str
    exchange: str  # Alpaca's names: NASDAQ, NYSE, ARCA, AMEX, BATS
    fractionable: bool = True
    shortable: bool = True
    easy_to_borrow: bool = True
    marginable: bool = True
    tradable: bool = True

    @property
    def attributes(self) -> list[str]:
        return ["fractional_eh_enabled", "has_options"] if self.fractionable else ["has_options"]


ASSETS: dict[str, Asset] = {asset.symbol: asset for asset in (
    Asset("AAPL", "Apple Inc. Common Stock", "NASDAQ"),
    Asset("MSFT", "Microsoft Corporation Common Stock", "NASDAQ"),
    Asset("SPY", "SPDR S&P 500 ETF Trust", "ARCA"),
    Asset("TSLA", "Tesla, Inc. Common Stock", "NASDAQ", easy_to_borrow=False),
    Asset("TQQQ", "ProShares UltraPro QQQ", "NASDAQ", fractionable=False, shortable=False, easy_to_borrow=False),
)}


def asset_of(symbol: str) -> Asset:
    """The asset attributes of a ticker (synthetic tickers: an ordinary fractionable, shortable NASDAQ stock)."""
    return ASSETS.get(symbol) or Asset(symbol, f"Synthetic {symbol}", "NASDAQ")
