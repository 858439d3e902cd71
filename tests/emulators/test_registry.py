"""The venue registry: every registered spec assembles, narrows unified symbols to its own markets, and words
every engine refusal in each of its rejection tables (a reason added to the engine fails here until every
dialect words it)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from emulators.engine import RejectReason
from emulators.engine.errors import Refusal, unworded
from emulators.registry import EMULATORS, assemble, available, venue_spec

# Every dialect has the same shape (emulators/README.md, "Adding a dialect").
DIALECT_MODULES = {"dialect", "errors", "render", "routes", "spec", "ws"}


@pytest.mark.parametrize("venue", sorted(EMULATORS))
def test_every_rejection_table_words_every_reason(venue: str) -> None:
    spec = venue_spec(venue)
    assert spec.venue == venue and spec.rejections, f"{venue} registers no rejection table"
    missing = {name: unworded(table) for name, table in spec.rejections.items() if unworded(table)}
    assert not missing, f"{venue} does not word these engine refusals: {missing}"


def test_the_completeness_check_can_fail() -> None:
    partial = {RejectReason.DUPLICATE: Refusal(400, 1, "dup")}
    assert set(unworded(partial)) == set(RejectReason) - {RejectReason.DUPLICATE}


@pytest.mark.parametrize("venue", sorted(EMULATORS))
def test_each_spec_assembles_with_its_demo_account(venue: str) -> None:
    built = assemble(venue, seed=2, extra_symbols=2)
    spec = built.spec
    assert (built.demo.api_key, built.demo.api_secret) == (spec.demo_key, spec.demo_secret)
    assert built.demo.passphrase == spec.demo_passphrase
    engine_ids = [s.spec.symbol for s in built.exchange.symbols.values()]
    assert engine_ids == [s.symbol for s in spec.instruments] + [s.symbol for s in spec.synthetic(2)]
    for coin, amount in spec.demo_balances.items():
        assert built.exchange.balance("demo", coin)[0] == amount


NARROWING = [
    ("binance", ["ETH/USDT", "eth/btc"], ["ETHUSDT", "ETHBTC"]),
    ("bybit", ["BTC/USDT", "BTC/USDT:USDT", "BTC/USD:BTC"], ["spot:BTCUSDT", "linear:BTCUSDT", "inverse:BTCUSD"]),
    ("bybit", ["ETH/USDT:USDT"], ["linear:ETHUSDT"]),
    ("okx", ["BTC/USDT", "BTC/USDT:USDT", "BTC/USD:BTC"], ["BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP"]),
    ("alpaca", ["msft", "AAPL/USD"], ["AAPL", "MSFT"]),
    ("kraken", ["BTC/USD", "eth/btc"], ["XXBTZUSD", "XETHXXBT"]),
]


def test_every_registered_venue_has_a_narrowing_case() -> None:
    assert {venue for venue, _, _ in NARROWING} == set(EMULATORS)


@pytest.mark.parametrize(("venue", "asked", "engine_ids"), NARROWING)
def test_unified_symbols_narrow_to_the_venue_markets(venue: str, asked: list[str], engine_ids: list[str]) -> None:
    assert [s.symbol for s in venue_spec(venue).instruments_for(asked)] == engine_ids


@pytest.mark.parametrize("venue", sorted(EMULATORS))
def test_unknown_symbols_are_refused_not_replaced_by_the_defaults(venue: str) -> None:
    spec = venue_spec(venue)
    listed = next(asked[0] for name, asked, _ in NARROWING if name == venue)  # a unified symbol the venue lists
    for asked in (["NOPE/USDT"], [listed, "NOPE/USDT"]):
        with pytest.raises(ValueError, match="does not list \\['NOPE/USDT'\\]"):
            spec.instruments_for(asked)


def test_unknown_venues_are_refused_with_the_list() -> None:
    assert available() == sorted(EMULATORS)
    with pytest.raises(ValueError, match="no emulator for 'nowhere'; available: "):
        venue_spec("nowhere")


@pytest.mark.parametrize("venue", sorted(EMULATORS))
def test_every_dialect_has_the_module_set(venue: str) -> None:
    package = importlib.import_module(EMULATORS[venue])
    modules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert not DIALECT_MODULES - modules, f"{venue} lacks {sorted(DIALECT_MODULES - modules)}"
    assert package.SPEC is venue_spec(venue) and package.__doc__, f"{venue} exports SPEC and says what it models"
