"""python-binance against the emulator, with every answer compared to the engine's own records.

The SDK parsing our answers proves the shapes; comparing what it got with `engine.fill_log`, the
engine's orders and its ledger proves the values. Only the base URL is changed on the SDK instance.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

binance = pytest.importorskip("binance", reason="python-binance is a dev dependency")
from binance.client import Client  # noqa: E402
from binance.exceptions import BinanceAPIException  # noqa: E402

from emulators import EmulatedVenue  # noqa: E402


def sdk(venue: EmulatedVenue, key: str | None = None, secret: str | None = None) -> Client:
    client = Client(key or venue.api_key, secret or venue.api_secret, ping=False, requests_params={"timeout": 10})
    client.API_URL = f"{venue.rest_url}/api"
    return client


def test_market_data_equals_engine_state(still_binance: EmulatedVenue) -> None:
    client = sdk(still_binance)
    state = still_binance.engine.symbols["BTCUSDT"]
    info = client.get_symbol_info("BTCUSDT")
    assert info is not None and (info["baseAsset"], info["quoteAsset"]) == (state.spec.base, state.spec.quote)
    filters = {f["filterType"]: f for f in info["filters"]}
    assert Decimal(filters["PRICE_FILTER"]["tickSize"]) == state.spec.tick_size
    assert Decimal(filters["LOT_SIZE"]["stepSize"]) == state.spec.step_size
    assert Decimal(filters["LOT_SIZE"]["minQty"]) == state.spec.min_qty
    assert Decimal(filters["NOTIONAL"]["minNotional"]) == state.spec.min_notional
    book = client.get_order_book(symbol="BTCUSDT", limit=5)
    assert book["lastUpdateId"] == state.book.update_id
    assert [(Decimal(p), Decimal(q)) for p, q in book["bids"]] == state.book.bids[:5]
    assert [(Decimal(p), Decimal(q)) for p, q in book["asks"]] == state.book.asks[:5]
    assert Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"]) == state.mid
    klines = client.get_klines(symbol="BTCUSDT", interval=Client.KLINE_INTERVAL_1MINUTE, limit=3)
    assert [Decimal(k[4]) for k in klines] == [c.close for c in state.candles[-3:]]


def test_orders_and_fills_equal_the_engine_records(still_binance: EmulatedVenue) -> None:
    client = sdk(still_binance)
    engine = still_binance.engine
    resting = client.create_order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity="0.5", price="1000.00", newClientOrderId="gt-rest")
    by_client_id = client.get_order(symbol="ETHUSDT", origClientOrderId="gt-rest")
    assert by_client_id["orderId"] == resting["orderId"] and by_client_id["status"] == "NEW"
    assert engine.find("ETHUSDT", order_id=resting["orderId"]).locked == Decimal("500")
    market = client.create_order(symbol="ETHUSDT", side="BUY", type="MARKET", quantity="7",
                                 newClientOrderId="gt-market")  # more than one synthetic level
    logged = [f for f in engine.fill_log if f.symbol == "ETHUSDT" and f.order_id == market["orderId"]]
    assert len(logged) >= 2 and market["status"] == "FILLED"
    trades = client.get_my_trades(symbol="ETHUSDT", orderId=market["orderId"])
    assert [(t["id"], Decimal(t["price"]), Decimal(t["qty"]), Decimal(t["commission"]), t["commissionAsset"])
            for t in trades] == [(f.trade_id, f.price, f.quantity, f.fee, f.fee_asset) for f in logged]
    later = client.get_my_trades(symbol="ETHUSDT", fromId=logged[-1].trade_id)
    assert [t["id"] for t in later] == [logged[-1].trade_id]
    assert Decimal(market["cummulativeQuoteQty"]) == sum((f.quote_quantity for f in logged), Decimal(0))
    cancelled = client.cancel_order(symbol="ETHUSDT", orderId=resting["orderId"])
    assert cancelled["status"] == "CANCELED" and cancelled["origClientOrderId"] == "gt-rest"
    statuses = {o["clientOrderId"]: o["status"] for o in client.get_all_orders(symbol="ETHUSDT")}
    assert statuses["gt-rest"] == "CANCELED" and statuses["gt-market"] == "FILLED"
    assert client.get_open_orders(symbol="ETHUSDT") == []
    balances = {b["asset"]: b for b in client.get_account()["balances"]}
    for asset in ("ETH", "USDT"):
        free, locked = engine.balance("demo", asset)
        assert (Decimal(balances[asset]["free"]), Decimal(balances[asset]["locked"])) == (free, locked)


def test_sdk_raises_the_venue_errors(still_binance: EmulatedVenue) -> None:
    client = sdk(still_binance)
    expectations = [
        (lambda: sdk(still_binance, key="Z" * 64).get_account(), -2015),
        (lambda: client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                     quantity="50", price="60000.00"), -2010),
        (lambda: client.cancel_order(symbol="BTCUSDT", orderId=987654), -2011),
        (lambda: client.get_order(symbol="NOPEUSDT", orderId=1), -1121),
        (lambda: client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                     quantity="0.001", price="60000.005"), -1013),
    ]
    for call, code in expectations:
        with pytest.raises(BinanceAPIException) as raised:
            call()
        assert raised.value.code == code
