"""Configuration is validated in full before anything starts: every problem named by its exact table,
one `algotrendy: ...` line each, exit code 2, no traceback."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from actors.config import ConfigError, config_problems, parse_config
from algotrendy.cli import main

ENV = {"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s", "BYBIT_API_KEY": "k", "BYBIT_API_SECRET": "s"}
IMPLEMENTED = ["binance", "bybit"]


def shape_problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse_config(text)
    return error.value.problems


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    return config_problems(parse_config(text), implemented=IMPLEMENTED, emulated=IMPLEMENTED,
                           environ=ENV if environ is None else environ)


def test_a_typo_anywhere_is_refused_naming_its_table() -> None:
    assert shape_problems("[risk]\nmax_order_notionl = '1000'\n") == [
        "[risk] has no key `max_order_notionl` (known: max_order_notional, max_position, "
        "max_position_per_symbol, price_band_pct, max_leverage)"]
    found = shape_problems("[venues.bybit]\ntestnet = true\nsymbol = ['BTC/USDT']\n")
    assert len(found) == 1 and found[0].startswith("[venues.bybit] has no key `symbol` (known: venue, mode,")
    assert shape_problems("[supervisor]\nbackof_base = 1\n")[0].startswith("[supervisor] has no key `backof_base`")
    assert shape_problems("[control]\nportt = 1\n")[0].startswith("[control] has no key `portt`")
    assert shape_problems("[jounal]\npath = 'x'\n")[0].startswith("unknown top-level key `jounal`")
    assert shape_problems("[venues.bybit]\nrecv_window_ms = 'soon'\n") == [
        "[venues.bybit] recv_window_ms: Expected `int`, got `str`"]
    assert shape_problems("[venues.binance]\nchannels = ['tickers']\n")[0].startswith(
        "[venues.binance] channels[0]: Invalid enum value 'tickers'")
    # Several tables wrong at once: each named.
    assert len(shape_problems("[risk]\nx = 1\n[venues.a]\ny = 2\n[venues.b]\nz = 3\n")) == 3
    assert shape_problems("demo = 'yes'\n") == ["demo must be bool, not 'yes'"]
    assert shape_problems("[venues\n")[0].startswith("not valid TOML:")


def test_a_good_config_has_no_problems() -> None:
    text = """
        [risk]
        max_order_notional = "1000"
        max_position_per_symbol = {"BTC/USDT" = "0.5"}
        [venues.binance]
        testnet = true
        symbols = ["BTC/USDT", "ETH/BTC"]
        [venues.perps]
        venue = "bybit"
        mode = "live"
        symbols = ["BTC/USDT:USDT", "BTC/USD:BTC"]
        [venues.paper]
        venue = "binance"
        mode = "paper"
    """
    assert problems(text) == []
    assert parse_config(text).risk.max_position_per_symbol == {"BTC/USDT": Decimal("0.5")}


@pytest.mark.parametrize(("text", "expected"), [
    ("[risk]\nmax_order_notional = '0'\n", "[risk] max_order_notional must be positive, got 0"),
    ("[risk]\nprice_band_pct = '-5'\n", "[risk] price_band_pct must be positive, got -5"),
    ("[risk]\nmax_position_per_symbol = {'BTC/USDT' = '-1'}\n",
     "[risk] max_position_per_symbol.BTC/USDT must be positive, got -1"),
    ("[venues.binance]\ntestnet = true\nmode = 'live'\n",
     "[venues.binance] testnet = true contradicts mode = 'live' (use one of them)"),
    ("[venues.kraken2]\nmode = 'live'\n",
     "[venues.kraken2] unknown venue: implemented are binance, bybit (set venue = \"...\" to name a table "
     "differently)"),
    ("[venues.main]\nvenue = 'binanse'\nmode = 'live'\n", "[venues.main] unknown venue = 'binanse': implemented"),
    ("[venues.bybit]\nmode = 'live'\n",
     "[venues.bybit] credentials missing: set BYBIT_API_KEY and BYBIT_API_SECRET in the environment"),
    ("[venues.binance]\nmode = 'paper'\nsymbols = ['BTCUSDT']\n",
     "[venues.binance] symbol 'BTCUSDT' is not BASE/QUOTE, BASE/QUOTE:SETTLE or a stock ticker"),
    ("[venues.binance]\nmode = 'paper'\nsymbols = ['btc/usdt']\n", "[venues.binance] symbol 'btc/usdt' is not"),
    ("[venues.binance]\nmode = 'paper'\nsymbols = ['BTC-USDT']\n", "[venues.binance] symbol 'BTC-USDT' is not"),
    ("[venues.binance]\nmode = 'paper'\nrequest_timeout = -1\n",
     "[venues.binance] request_timeout must be positive, got -1"),
    ("[supervisor]\nbackoff_base = 0\n", "[supervisor] backoff_base must be positive, got 0"),
    ("[supervisor]\nbackoff_base = 5\nbackoff_cap = 1\n",
     "[supervisor] backoff_cap (1.0) must be at least backoff_base (5.0)"),
    ("[control]\nhost = '0.0.0.0'\n", "[control] host 0.0.0.0 is not loopback: set tls_cert and tls_key"),
    ("[control]\ntls_cert = 'c.pem'\n", "[control] tls_cert and tls_key go together"),
    ("[control]\nport = 70000\n", "[control] port must be 0-65535, got 70000"),
])
def test_each_meaningless_setting_is_one_named_problem(text: str, expected: str) -> None:
    found = problems(text, environ={} if "credentials" in expected else None)
    assert any(p.startswith(expected) for p in found), found


def test_stock_tickers_and_swaps_are_well_formed_symbols() -> None:
    assert problems("[venues.binance]\nmode='paper'\nsymbols=['AAPL', 'BRK.B', 'BTC/USDT:USDT', '1000PEPE/USDT']\n") == []


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, err.splitlines(), out


def test_cli_refuses_a_bad_config_in_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "bad.toml"
    config.write_text("[risk]\nmax_order_notional = '-1'\n[venues.bybit]\ntestnet = true\nmode = 'live'\n"
                      "symbols = ['BTCUSDT']\n")
    for command in ("check", "run"):
        code, err, out = run_cli([command, "--config", str(config)], capsys)
        assert code == 2 and out == ""  # `run` started nothing
        assert err == [
            f"algotrendy: {config}: [venues.bybit] testnet = true contradicts mode = 'live' (use one of them)",
            f"algotrendy: {config}: [venues.bybit] credentials missing: set BYBIT_API_KEY and BYBIT_API_SECRET "
            "in the environment",
            f"algotrendy: {config}: [venues.bybit] symbol 'BTCUSDT' is not BASE/QUOTE, BASE/QUOTE:SETTLE or a "
            "stock ticker (unified symbols: \"BTC/USDT\", \"BTC/USDT:USDT\", \"AAPL\")",
            f"algotrendy: {config}: [risk] max_order_notional must be positive, got -1",
        ]
    config.write_text("[risk]\nmax_order_notionl = '1000'\n")
    code, err, _ = run_cli(["run", "--config", str(config)], capsys)
    assert code == 2 and err == [f"algotrendy: {config}: [risk] has no key `max_order_notionl` (known: "
                                 "max_order_notional, max_position, max_position_per_symbol, price_band_pct, "
                                 "max_leverage)"]
    code, err, _ = run_cli(["check", "--config", str(tmp_path / "missing.toml")], capsys)
    assert code == 2 and err == [f"algotrendy: cannot read {tmp_path / 'missing.toml'}: No such file or directory"]


def test_cli_check_accepts_a_good_config_without_connecting(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "good.toml"
    # Unroutable endpoints: a check that tried to connect would hang or fail.
    config.write_text("[venues.binance]\ntestnet = true\nrest_url = 'http://192.0.2.1:1'\nsymbols = ['BTC/USDT']\n")
    code, err, out = run_cli(["check", "--config", str(config)], capsys)
    assert code == 0 and err == [] and out.strip() == f"{config}: valid; binance (binance, testnet, 1 symbols)"


def test_a_venue_option_its_client_does_not_take_is_refused_naming_the_table() -> None:
    import brokers

    text = ("[venues.binance]\ntestnet = true\n[venues.binance.options]\norder_transprt = 'ws-api'\n"
            "stale_after_ticker = '5'\n[venues.bybit]\ntestnet = true\n[venues.bybit.options]\n"
            "categories = 'spot'\nsettle_coins = 'USDT'\n")
    found = config_problems(parse_config(text), implemented=IMPLEMENTED, emulated=IMPLEMENTED, environ=ENV,
                            option_problems=brokers.option_problems)
    assert len(found) == 1, found
    assert found[0].startswith("[venues.binance] options: unknown option 'order_transprt'; binance takes ")
    assert "order_transport" in found[0]


async def test_a_client_built_with_an_unknown_option_refuses_at_once() -> None:
    from brokers.base import BrokerSettings
    from brokers.binance import BinanceBroker
    from protocol import errors as e

    with pytest.raises(e.NotSupported, match="unknown option 'positon_quote'"):
        BinanceBroker(BrokerSettings(venue="binance", rest_url="http://127.0.0.1:1", ws_url="ws://127.0.0.1:1",
                                     options={"positon_quote": "USDC"}))
