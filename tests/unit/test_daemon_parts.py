"""The daemon's pure parts: the dashboard model, its rendering, plain output, demo sizing; config parsing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from rich.console import Console

from actors.config import ConfigError, parse_config
from algotrendy.daemon import Dashboard, demo_quantity, on_tick, plain_line, render, unrealised_pnl
from protocol import errors as e
from protocol import messages as m
from protocol.model import Fill, MarketType, Position, PositionSide, Side, Ticker, utc_now
from tests.support.fake_broker import BTC


def fill(trade_id: str) -> Fill:
    return Fill(venue="binance", symbol="BTC/USDT", order_id="1", client_order_id="c", trade_id=trade_id,
                side=Side.BUY, price=Decimal("65000.5"), quantity=Decimal("0.001"), fee=Decimal("0.065"),
                fee_currency="USDT", is_maker=False, timestamp=utc_now())


def test_dashboard_keeps_latest_prices_and_recent_fills() -> None:
    dash = Dashboard()
    dash.apply(m.BrokerStatus(venue="binance", state=m.ConnectionState.CONNECTED, timestamp=utc_now()))
    dash.apply(Ticker(venue="binance", symbol="BTC/USDT", last=Decimal(1), timestamp=utc_now()))
    dash.apply(Ticker(venue="binance", symbol="BTC/USDT", last=Decimal(2), timestamp=utc_now()))
    for i in range(15):
        dash.apply(fill(str(i)))
    assert dash.prices[("binance", "BTC/USDT")].last == Decimal(2)  # type: ignore[union-attr]
    assert dash.fill_count == 15 and len(dash.fills) == 10 and dash.fills[0].trade_id == "14"
    out = io.StringIO()
    Console(file=out, width=160).print(render(dash))
    text = out.getvalue()
    assert "connected" in text and "65000.5" in text and "Fills (15)" in text and "E-" not in text


def test_plain_lines_name_what_happened() -> None:
    line = plain_line(fill("42"))
    assert line is not None and "trade=42" in line and "65000.5" in line
    status = m.BrokerStatus(venue="binance", state=m.ConnectionState.RECONNECTING, attempt=2, next_delay=0.75,
                            reason="VenueUnavailable: boom", timestamp=utc_now())
    assert plain_line(status) == "[status] binance reconnecting attempt=2 next=0.75s VenueUnavailable: boom"


def test_demo_quantity_meets_the_instrument_minimums() -> None:
    qty = demo_quantity(BTC, Decimal("100"))
    assert qty * Decimal(100) >= BTC.min_notional and qty >= BTC.min_qty
    assert (qty / BTC.lot_size) == (qty / BTC.lot_size).to_integral_value()
    assert on_tick(Decimal("100.1234"), Decimal("0.01")) == Decimal("100.12")


def test_config_reads_risk_and_venues_and_rejects_typos() -> None:
    config = parse_config("""
        [risk]
        max_order_notional = "1000"
        [venues.main]
        venue = "binance"
        testnet = true
        symbols = ["BTC/USDT"]
    """)
    assert config.risk.max_order_notional == Decimal(1000)
    venue = config.venues["main"]
    assert venue.kind == "binance" and venue.effective_mode == "testnet" and venue.name == "main"
    with pytest.raises(ConfigError):
        parse_config("[venues.binance]\ntestnet = true\nsymbol = ['BTC/USDT']\n")


def test_credentials_come_from_the_environment_only() -> None:
    venue = parse_config("[venues.binance]\nmode = 'live'\n").venues["binance"]
    with pytest.raises(e.AuthenticationError, match="BINANCE_API_KEY"):
        venue.credentials({})
    creds = venue.credentials({"BINANCE_API_KEY": "key123", "BINANCE_API_SECRET": "hush"})
    assert creds.api_secret.reveal() == "hush" and "hush" not in repr(creds)


def position(side: PositionSide, market: MarketType = MarketType.LINEAR, size: str = "2") -> Position:
    return Position(venue="bybit", symbol="BTC/USDT:USDT", market_type=market, side=side, quantity=Decimal(size),
                    entry_price=Decimal(100), mark_price=Decimal(100), leverage=Decimal(10), updated_at=utc_now())


def test_live_pnl_of_linear_and_inverse_positions() -> None:
    assert unrealised_pnl(position(PositionSide.LONG), Decimal(110)) == 20
    assert unrealised_pnl(position(PositionSide.SHORT), Decimal(110)) == -20
    # inverse: 1000 USD contracts from 100 to 125 earn 1000 x (1/100 - 1/125) = 2 coins
    assert unrealised_pnl(position(PositionSide.LONG, MarketType.INVERSE, "1000"), Decimal(125)) == 2


def test_dashboard_shows_derivative_positions_with_pnl_at_the_last_price() -> None:
    dash = Dashboard()
    dash.apply(position(PositionSide.LONG))
    dash.apply(Ticker(venue="bybit", symbol="BTC/USDT:USDT", last=Decimal(103), timestamp=utc_now()))
    assert dash.live_pnl(dash.positions[("bybit", "BTC/USDT:USDT")]) == 6
    out = io.StringIO()
    Console(file=out, width=200).print(render(dash))
    assert "Positions" in out.getvalue() and "BTC/USDT:USDT" in out.getvalue() and "10x" in out.getvalue()


def test_what_a_venue_reports_about_itself_shows_once_in_notes_and_on_status_lines() -> None:
    dash = Dashboard()
    report = m.BrokerStatus(venue="bybit", state=m.ConnectionState.CONNECTED, unknown_symbols=["NOPE/USDT"],
                            market_data_degraded=True, timestamp=utc_now())
    dash.apply(report)
    dash.apply(report)
    assert list(dash.notes) == ["bybit does not list NOPE/USDT: check [venues.bybit] symbols"]
    assert plain_line(report) == "[status] bybit connected [market data degraded] [unknown symbols: NOPE/USDT]"
    out = io.StringIO()
    Console(file=out, width=200).print(render(dash))
    assert "market data degraded; unknown symbols: NOPE/USDT" in out.getvalue()


def test_a_market_session_shows_with_the_time_to_its_next_transition() -> None:
    from datetime import timedelta

    from algotrendy.tables import status_flags
    from protocol.model import MarketSession

    now = utc_now()
    status = m.BrokerStatus(venue="alpaca", state=m.ConnectionState.CONNECTED, session=MarketSession.PRE,
                            next_session_change=now + timedelta(minutes=4, seconds=10), timestamp=now)
    assert status_flags(status, now) == ["session pre, next change in 4m10s"]
    later = m.BrokerStatus(venue="alpaca", state=m.ConnectionState.CONNECTED, session=MarketSession.CLOSED,
                           next_session_change=now + timedelta(days=2, hours=11), timestamp=now,
                           market_data_degraded=True)
    assert status_flags(later, now) == ["market data degraded", "session closed, next change in 2d 11h00m"]
    assert status_flags(later, now + timedelta(days=3)) == ["market data degraded", "session closed, next change in 0m00s"]
    line = plain_line(later)
    assert line is not None and line.startswith("[status] alpaca connected [market data degraded] [session closed")
