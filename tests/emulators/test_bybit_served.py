"""What the Bybit emulator serves, checked against Bybit's V5 documentation and what clients call at start-up.

The docs lists below are data, copied from the V5 API docs as followed on DOCS_DATE (REST: the endpoint pages;
websockets: docs/v5/ws/connect and the public/private topic pages). The check fails when the emulator serves a
route or topic the docs do not list (a made-up name), when a documented route or topic that pybit or ccxt uses
at start-up is not served, and when our docs list names a path the official SDK (pybit) does not know.
"""

from __future__ import annotations

import importlib

import pytest

from emulators.bybit import routes, ws
from emulators.bybit.spec import BYBIT_INSTRUMENTS

DOCS_DATE = "2026-11-30"

# V5 REST endpoints of the market, trade, position, account, asset and user sections (the ones a trading
# client may touch; deposits, withdrawals, transfers, convert, sub-accounts and loans are listed so a served
# name can be checked, not because they are served).
DOCUMENTED_REST: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/v5/market/time"), ("GET", "/v5/market/kline"), ("GET", "/v5/market/mark-price-kline"),
    ("GET", "/v5/market/index-price-kline"), ("GET", "/v5/market/premium-index-price-kline"),
    ("GET", "/v5/market/instruments-info"), ("GET", "/v5/market/orderbook"), ("GET", "/v5/market/rpi_orderbook"),
    ("GET", "/v5/market/tickers"), ("GET", "/v5/market/funding/history"), ("GET", "/v5/market/recent-trade"),
    ("GET", "/v5/market/open-interest"), ("GET", "/v5/market/historical-volatility"),
    ("GET", "/v5/market/insurance"), ("GET", "/v5/market/risk-limit"), ("GET", "/v5/market/delivery-price"),
    ("GET", "/v5/market/account-ratio"), ("GET", "/v5/market/price-limit"),
    ("POST", "/v5/order/create"), ("POST", "/v5/order/amend"), ("POST", "/v5/order/cancel"),
    ("GET", "/v5/order/realtime"), ("POST", "/v5/order/cancel-all"), ("GET", "/v5/order/history"),
    ("GET", "/v5/execution/list"), ("POST", "/v5/order/create-batch"), ("POST", "/v5/order/amend-batch"),
    ("POST", "/v5/order/cancel-batch"), ("GET", "/v5/order/spot-borrow-check"),
    ("POST", "/v5/order/disconnected-cancel-all"), ("POST", "/v5/order/pre-check"),
    ("GET", "/v5/position/list"), ("POST", "/v5/position/set-leverage"), ("POST", "/v5/position/switch-isolated"),
    ("POST", "/v5/position/switch-mode"), ("POST", "/v5/position/trading-stop"),
    ("POST", "/v5/position/set-auto-add-margin"), ("POST", "/v5/position/add-margin"),
    ("GET", "/v5/position/closed-pnl"), ("GET", "/v5/position/move-history"),
    ("GET", "/v5/account/wallet-balance"), ("POST", "/v5/account/upgrade-to-uta"),
    ("GET", "/v5/account/borrow-history"), ("POST", "/v5/account/set-collateral-switch"),
    ("GET", "/v5/account/collateral-info"), ("GET", "/v5/asset/coin-greeks"), ("GET", "/v5/account/fee-rate"),
    ("GET", "/v5/account/info"), ("GET", "/v5/account/transaction-log"), ("POST", "/v5/account/set-margin-mode"),
    ("GET", "/v5/account/smp-group"), ("GET", "/v5/account/mmp-state"),
    ("GET", "/v5/asset/coin/query-info"), ("GET", "/v5/asset/transfer/query-account-coins-balance"),
    ("GET", "/v5/asset/transfer/query-account-coin-balance"), ("POST", "/v5/asset/transfer/inter-transfer"),
    ("GET", "/v5/asset/deposit/query-record"), ("GET", "/v5/asset/deposit/query-address"),
    ("GET", "/v5/asset/withdraw/query-record"), ("POST", "/v5/asset/withdraw/create"),
    ("GET", "/v5/user/query-api"), ("GET", "/v5/user/query-sub-members"), ("POST", "/v5/user/create-sub-member"),
})

# What clients call before they can trade (read from their source): ccxt 4.5.90 `load_markets` (fetch_markets
# for spot, linear, inverse and option; fetch_currencies when it holds keys) and `fetch_balance`
# (is_unified_enabled, then the wallet); pybit's HTTP session makes no call of its own, so its entry is what a
# pybit bot reads first (the calls of tests/conformance/test_bybit_sdk.py).
STARTUP: dict[str, frozenset[tuple[str, str]]] = {
    "ccxt 4.5.90": frozenset({
        ("GET", "/v5/market/instruments-info"), ("GET", "/v5/asset/coin/query-info"),
        ("GET", "/v5/user/query-api"), ("GET", "/v5/account/info"), ("GET", "/v5/account/wallet-balance"),
        ("GET", "/v5/market/time"),  # fetch_time, when adjustForTimeDifference is on
    }),
    "pybit": frozenset({
        ("GET", "/v5/market/time"), ("GET", "/v5/market/instruments-info"), ("GET", "/v5/market/tickers"),
        ("GET", "/v5/market/kline"), ("GET", "/v5/market/orderbook"), ("GET", "/v5/account/wallet-balance"),
        ("GET", "/v5/account/fee-rate"), ("GET", "/v5/position/list"), ("GET", "/v5/order/realtime"),
    }),
}

# Public topic families (docs/v5/websocket/public/*) and private topics (docs/v5/websocket/private/*).
DOCUMENTED_PUBLIC_FAMILIES = frozenset({"orderbook", "orderbook.rpi", "publicTrade", "tickers", "kline",
                                        "allLiquidation", "kline_lt", "tickers_lt", "lt", "insurance",
                                        "priceLimit", "adlAlert"})
DOCUMENTED_PRIVATE_TOPICS = frozenset({
    "position", "position.linear", "position.inverse", "position.option",
    "execution", "execution.spot", "execution.linear", "execution.inverse", "execution.option",
    "execution.fast", "execution.fast.spot", "execution.fast.linear", "execution.fast.inverse",
    "execution.fast.option", "order", "order.spot", "order.linear", "order.inverse", "order.option",
    "wallet", "greeks", "dcp.future", "dcp.spot", "dcp.option",
})
# What pybit's WebSocket subscribes for the streams a bot starts with (pybit.unified_trading.WebSocket:
# ticker_stream, orderbook_stream, trade_stream, kline_stream; order/execution/position/wallet_stream).
PYBIT_PUBLIC_FAMILIES = frozenset({"orderbook", "publicTrade", "tickers", "kline"})
PYBIT_PRIVATE_TOPICS = frozenset({"order", "execution", "position", "wallet"})


def pybit_paths() -> set[str]:
    """Every REST path the official SDK names (its endpoint enums)."""
    paths: set[str] = set()
    for module_name in ("market", "trade", "position", "account", "asset", "user"):
        module = importlib.import_module(f"pybit.{module_name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, str) and value.__module__ == module.__name__:
                paths.update(member.value for member in value)  # type: ignore[attr-defined]
    return paths


def family(topic: str) -> str:
    """A public topic's family: its name without the depth/interval and the symbol."""
    name, *_ = topic.split(".")
    return "orderbook.rpi" if topic.startswith("orderbook.rpi") else name


def served_public_topics() -> set[str]:
    return {topic for spec in BYBIT_INSTRUMENTS
            for topic in ws.public_topics(spec.kind, spec.venue_symbol or spec.symbol)}


def test_every_served_route_is_documented_and_known_to_the_sdk() -> None:
    served = set(routes.ROUTES)
    assert served - DOCUMENTED_REST == set(), "served but not in the V5 docs list"
    pytest.importorskip("pybit", reason="pybit is a dev dependency (requirements/dev.lock)")
    known = pybit_paths()
    assert {path for _, path in DOCUMENTED_REST} - known == set(), "a docs-list path the official SDK does not know"


@pytest.mark.parametrize("client", sorted(STARTUP))
def test_what_clients_call_at_startup_is_served(client: str) -> None:
    assert STARTUP[client] <= DOCUMENTED_REST
    assert STARTUP[client] - set(routes.ROUTES) == set(), f"{client} calls these at start-up"


def test_every_served_topic_is_documented_and_pybits_are_served() -> None:
    families = {family(topic) for topic in served_public_topics()}
    assert families <= DOCUMENTED_PUBLIC_FAMILIES
    assert PYBIT_PUBLIC_FAMILIES <= families
    assert ws.PRIVATE_TOPICS <= DOCUMENTED_PRIVATE_TOPICS
    assert PYBIT_PRIVATE_TOPICS <= ws.PRIVATE_TOPICS
    for category in ("spot", "linear", "inverse"):  # every depth and interval the docs give per category
        topics = ws.public_topics(category, "X")
        assert {f"orderbook.{depth}.X" for depth in (1, 50, 200)} <= topics
        assert {f"kline.{name}.X" for name in ("1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D",
                                               "W", "M")} <= topics
