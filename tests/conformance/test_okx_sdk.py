"""The official python-okx SDK (package ``okx``) driven against our OKX emulator: its REST clients
(MarketAPI, PublicAPI, AccountAPI, TradeAPI) and its websocket clients (WsPublicAsync, WsPrivateAsync).

python-okx builds its own requests (paths, unencoded query strings, JSON bodies with every optional field,
base64 signatures, ISO-ms timestamps, the passphrase and ``x-simulated-trading: 1`` for flag "1"); every call
here must succeed, parse, and report what the engine's own records say (instruments and contract values,
books, candles, balances, positions, orders, fills). Only the documented ``domain`` (REST) and ``url``
(websockets) are pointed at the emulator. One thing is patched, and only for the test: the SDK's
`WebSocketFactory.connect` always passes a TLS context, which the ``websockets`` library refuses for a
``ws://`` URL (the SDK then silently has no socket); the patch connects to ``ws://`` URLs without TLS and
changes nothing else. The REST SDK is synchronous: the emulator runs in a thread with its own trio loop on
the real clock, prices frozen (a tick an hour) so what the SDK reads can be compared with the engine.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

okx = pytest.importorskip("okx", reason="python-okx is a dev dependency (requirements/dev.lock)")
import okx.Account as Account  # noqa: E402
import okx.MarketData as MarketData  # noqa: E402
import okx.PublicData as PublicData  # noqa: E402
import okx.Trade as Trade  # noqa: E402
import websockets  # noqa: E402
from okx.websocket import WebSocketFactory  # noqa: E402
from okx.websocket.WsPrivateAsync import WsPrivateAsync  # noqa: E402
from okx.websocket.WsPublicAsync import WsPublicAsync  # noqa: E402

from emulators import EmulatedVenue  # noqa: E402
from tests.support.threaded import emulator_thread  # noqa: E402

D = Decimal
SWAP, SPOT, INVERSE = "BTC-USDT-SWAP", "BTC-USDT", "BTC-USD-SWAP"


@pytest.fixture(scope="module")
def venue() -> Iterator[EmulatedVenue]:
    with emulator_thread("okx", seed=44, tick_interval=3600) as emulated:
        yield emulated


def clients(venue: EmulatedVenue) -> tuple[Any, Any, Any, Any]:
    """The SDK's four REST clients, demo flag "1", pointed at the emulator by their ``domain``."""
    credentials = {"api_key": venue.api_key, "api_secret_key": venue.api_secret, "passphrase": venue.passphrase,
                   "flag": "1", "domain": venue.rest_url, "debug": False}
    return (MarketData.MarketAPI(flag="1", domain=venue.rest_url, debug=False),
            PublicData.PublicAPI(flag="1", domain=venue.rest_url, debug=False),
            Account.AccountAPI(**credentials), Trade.TradeAPI(**credentials))


def ok(answer: dict[str, Any]) -> list[Any]:
    assert answer["code"] == "0", answer
    return list(answer["data"])


def test_public_data_equals_engine_state(venue: EmulatedVenue) -> None:
    market, public, _, _ = clients(venue)
    engine = venue.engine
    assert abs(int(ok(public.get_system_time())[0]["ts"]) / 1000 - time.time()) < 5
    swaps = {row["instId"]: row for row in ok(public.get_instruments(instType="SWAP"))}
    assert set(swaps) == {SWAP, "ETH-USDT-SWAP", INVERSE}
    for inst, row in swaps.items():
        spec = engine.symbols[inst].spec
        unit = D(row["ctVal"]) * D(row["ctMult"])
        assert (D(row["lotSz"]) * unit, D(row["minSz"]) * unit, D(row["tickSz"])) == \
            (spec.step_size, spec.min_qty, spec.tick_size)
        assert row["ctType"] == spec.kind and row["settleCcy"] == spec.settle and D(row["lever"]) == spec.max_leverage
    spot = ok(public.get_instruments(instType="SPOT", instId=SPOT))[0]
    assert (spot["baseCcy"], spot["quoteCcy"], D(spot["lotSz"])) == ("BTC", "USDT", engine.symbols[SPOT].spec.step_size)
    state = engine.symbols[SWAP]
    ticker = ok(market.get_ticker(SWAP))[0]
    assert (D(ticker["bidPx"]), D(ticker["askPx"])) == (state.book.bids[0][0], state.book.asks[0][0])
    assert {row["instId"] for row in ok(market.get_tickers("SWAP"))} == set(swaps)
    book = ok(market.get_orderbook(SWAP, sz="5"))[0]
    assert [(D(p), D(s)) for p, s, _, _ in book["bids"]] == [(p, s / D("0.01")) for p, s in state.book.bids[:5]]
    assert book["seqId"] == venue.dialect.book_seq[SWAP]
    candles = ok(market.get_candlesticks(SPOT, bar="1m", limit="3"))
    spot_state = engine.symbols[SPOT]
    assert [int(c[0]) for c in candles] == [c.open_ms for c in reversed(spot_state.candles[-3:])]  # newest first
    assert [D(c[4]) for c in candles] == [c.close for c in reversed(spot_state.candles[-3:])]
    older = ok(market.get_history_candlesticks(SPOT, after=candles[-1][0], bar="1m", limit="2"))
    assert [int(c[0]) for c in older] == [int(candles[-1][0]) - 60_000, int(candles[-1][0]) - 120_000]
    funding = ok(public.get_funding_rate(SWAP))[0]
    assert int(funding["nextFundingTime"]) - int(funding["fundingTime"]) == 28_800_000
    history = ok(public.funding_rate_history(SWAP, limit="3"))
    assert len(history) == 3 and int(history[0]["fundingTime"]) < int(funding["fundingTime"])
    marks = {row["instId"]: D(row["markPx"]) for row in ok(public.get_mark_price("SWAP"))}
    assert marks == {inst: engine.symbols[inst].mid for inst in swaps}
    assert ok(public.get_open_interest("SWAP", instId=SWAP))[0]["instId"] == SWAP
    index = ok(market.get_index_tickers(instId="BTC-USDT"))[0]
    assert D(index["idxPx"]) == venue.dialect.index_price(state)


def test_account_positions_and_leverage_equal_the_engine(venue: EmulatedVenue) -> None:
    _, _, account, trade = clients(venue)
    engine = venue.engine
    details = {row["ccy"]: row for row in ok(account.get_account_balance())[0]["details"]}
    for coin in ("USDT", "BTC", "ETH"):
        free, locked = engine.balance("demo", coin)
        assert (D(details[coin]["cashBal"]), D(details[coin]["availBal"])) == (free + locked, free)
    config = ok(account.get_account_config())[0]
    assert (config["acctLv"], config["posMode"]) == ("2", "net_mode")
    assert ok(account.set_position_mode("net_mode"))[0]["posMode"] == "net_mode"
    assert ok(account.get_leverage(mgnMode="cross", instId=INVERSE))[0]["lever"] == "10"
    assert ok(account.set_leverage(lever="20", mgnMode="cross", instId=INVERSE))[0]["lever"] == "20"
    placed = ok(trade.place_order(instId=INVERSE, tdMode="cross", side="sell", ordType="market", sz="5",
                                  clOrdId="sdkinv1"))[0]
    assert (placed["sCode"], placed["clOrdId"]) == ("0", "sdkinv1")
    position = engine.position("demo", INVERSE)
    row = ok(account.get_positions(instType="SWAP", instId=INVERSE))[0]
    assert (row["pos"], row["lever"], row["mgnMode"], row["posSide"]) == ("-5", "20", "cross", "net")
    assert position.size == D("-500")  # 5 contracts of 100 USD
    assert (D(row["avgPx"]), D(row["imr"]), D(row["realizedPnl"])) == \
        (position.entry_price, position.margin, position.realised)
    assert D(row["upl"]) == engine.unrealised_pnl(position).quantize(D("1e-12"))
    assert [r["instId"] for r in ok(account.get_positions())] == [INVERSE]
    fee = ok(account.get_fee_rates(instType="SWAP", instId=SWAP))[0]
    assert D(fee["takerU"]) == -engine.fee_rate(engine.symbols[SWAP].spec, is_maker=False)


def test_order_lifecycle_fills_and_batches(venue: EmulatedVenue) -> None:
    _, _, account, trade = clients(venue)
    engine = venue.engine
    mid = engine.symbols[SPOT].mid
    price = f"{mid - 4000:.1f}"
    placed = ok(trade.place_order(instId=SPOT, tdMode="cash", side="buy", ordType="limit", px=price, sz="0.01",
                                  clOrdId="sdklim1"))[0]
    pending = ok(trade.get_order_list(instType="SPOT"))
    assert [(o["ordId"], o["state"], o["clOrdId"], D(o["px"]), o["sz"]) for o in pending] == \
        [(placed["ordId"], "live", "sdklim1", D(price), "0.01")]
    amended = ok(trade.amend_order(SPOT, clOrdId="sdklim1", newSz="0.02", reqId="a1"))[0]
    assert (amended["ordId"], amended["reqId"]) == (placed["ordId"], "a1")
    order = engine.find(SPOT, client_order_id="sdklim1")
    assert order.quantity == D("0.02") and ok(trade.get_order(SPOT, ordId=placed["ordId"]))[0]["sz"] == "0.02"
    cancelled = ok(trade.cancel_order(SPOT, clOrdId="sdklim1"))[0]
    assert (cancelled["ordId"], cancelled["sCode"]) == (placed["ordId"], "0") and order.status == "CANCELED"
    market = ok(trade.place_order(instId=SWAP, tdMode="cross", side="buy", ordType="market", sz="300",
                                  clOrdId="sdkmkt1"))[0]  # more than one level: several fills
    fills = ok(trade.get_fills(instType="SWAP", ordId=market["ordId"]))
    logged = [f for f in engine.fill_log if f.client_order_id == "sdkmkt1"]
    assert len(logged) >= 2 and len(fills) == len(logged)
    assert sorted((D(f["fillPx"]), D(f["fillSz"]), -D(f["fee"])) for f in fills) == \
        sorted((f.price, f.quantity / D("0.01"), f.fee) for f in logged)
    history = {o["clOrdId"]: o["state"] for o in ok(trade.get_orders_history(instType="SPOT"))}
    assert history["sdklim1"] == "canceled"
    batch = trade.place_multiple_orders([
        {"instId": SPOT, "tdMode": "cash", "side": "buy", "ordType": "limit", "px": price, "sz": "0.01",
         "clOrdId": "sdkb1"},
        {"instId": SPOT, "tdMode": "cash", "side": "buy", "ordType": "limit", "px": price, "sz": "0.01",
         "clOrdId": "sdkb1"}])  # the same clOrdId twice: the second is a duplicate of a pending order
    assert (batch["code"], [i["sCode"] for i in batch["data"]]) == ("2", ["0", "51016"])
    amended_batch = ok(trade.amend_multiple_orders([{"instId": SPOT, "clOrdId": "sdkb1", "newPx": f"{mid - 4100:.1f}"}]))
    assert amended_batch[0]["sCode"] == "0" and engine.find(SPOT, client_order_id="sdkb1").price == mid - 4100
    assert ok(trade.cancel_multiple_orders([{"instId": SPOT, "clOrdId": "sdkb1"}]))[0]["sCode"] == "0"
    refused = trade.place_order(instId=SWAP, tdMode="cross", side="buy", ordType="market", sz="0.005")
    assert (refused["code"], refused["msg"], refused["data"][0]["sCode"]) == ("1", "All operations failed", "51121")
    closed = ok(trade.close_positions(SWAP, "cross"))[0]
    assert closed["instId"] == SWAP and engine.position("demo", SWAP).size == 0
    assert not [r for r in ok(account.get_positions(instType="SWAP")) if r["instId"] == SWAP]


# ---------------------------------------------------------------------- websockets
async def _plain_connect(self: Any) -> Any:
    """`WebSocketFactory.connect` for ``ws://`` URLs: the same call without the TLS context (see the docstring)."""
    if str(self.url).startswith("wss://"):
        return await ORIGINAL_CONNECT(self)
    self.websocket = await websockets.connect(self.url)
    return self.websocket


ORIGINAL_CONNECT = WebSocketFactory.WebSocketFactory.connect


async def collect(received: list[dict[str, Any]], done: Any) -> None:
    """Wait (at most 10 s, on asyncio's loop: the SDK is asyncio-based) until ``done(received)``; the SDK's
    callback only appends to ``received``, so this polls."""
    for _ in range(500):
        if done(received):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out; received {received}")


def test_websocket_clients_public_business_and_private(venue: EmulatedVenue, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(WebSocketFactory.WebSocketFactory, "connect", _plain_connect)
    _, _, _, trade = clients(venue)
    engine = venue.engine

    async def run() -> None:
        public: list[dict[str, Any]] = []
        ws = WsPublicAsync(url=f"{venue.ws_url}/ws/v5/public")
        await ws.start()
        await ws.subscribe([{"channel": "books", "instId": SWAP}, {"channel": "tickers", "instId": SPOT}],
                           callback=lambda message: public.append(json.loads(message)))
        await collect(public, lambda got: sum(1 for m in got if "data" in m) >= 2)
        assert [m["arg"] for m in public if m.get("event") == "subscribe"] == \
            [{"channel": "books", "instId": SWAP}, {"channel": "tickers", "instId": SPOT}]
        snapshot = next(m for m in public if m.get("action") == "snapshot")
        state = engine.symbols[SWAP]
        assert [(D(p), D(s)) for p, s, *_ in snapshot["data"][0]["bids"]] == \
            [(p, s / D("0.01")) for p, s in state.book.bids if s]  # emptied levels are not listed
        assert snapshot["data"][0]["prevSeqId"] == -1 and snapshot["data"][0]["checksum"] == 0
        await ws.stop()

        business: list[dict[str, Any]] = []
        candles = WsPublicAsync(url=f"{venue.ws_url}/ws/v5/business")
        await candles.start()
        await candles.subscribe([{"channel": "candle1m", "instId": SPOT}], callback=lambda m: business.append(
            json.loads(m)))
        await collect(business, lambda got: any("data" in m for m in got))
        row = next(m for m in business if "data" in m)["data"][0]
        assert int(row[0]) == engine.symbols[SPOT].candles[-1].open_ms
        await candles.stop()

        private: list[dict[str, Any]] = []
        account = WsPrivateAsync(apiKey=venue.api_key, passphrase=venue.passphrase, secretKey=venue.api_secret,
                                 url=f"{venue.ws_url}/ws/v5/private")
        await account.start()
        account.callback = lambda message: private.append(json.loads(message))
        await account.login()
        await collect(private, lambda got: any(m.get("event") == "login" for m in got))
        assert next(m for m in private if m.get("event") == "login")["code"] == "0"
        await account.send("subscribe", [{"channel": "orders", "instType": "ANY"},
                                         {"channel": "positions", "instType": "SWAP"}])
        await collect(private, lambda got: sum(1 for m in got if m.get("event") == "subscribe") == 2)
        placed = await asyncio.to_thread(trade.place_order, instId=SWAP, tdMode="cross", side="sell",
                                         ordType="market", sz="1", clOrdId="sdkws1")
        assert placed["code"] == "0", placed
        await collect(private, lambda got: any("data" in m and m["arg"]["channel"] == "orders" and
                                              m["data"][0]["state"] == "filled" for m in got))
        pushes = [m for m in private if "data" in m]  # (acknowledgements have no data)
        orders = [m["data"][0] for m in pushes if m["arg"]["channel"] == "orders"]
        assert {o["clOrdId"] for o in orders} == {"sdkws1"} and orders[0]["state"] == "live"
        filled = [o for o in orders if o["fillSz"] != "0"]
        logged = [f for f in engine.fill_log if f.client_order_id == "sdkws1"]
        assert [(D(o["fillPx"]), D(o["fillSz"])) for o in filled] == [(f.price, f.quantity / D("0.01")) for f in logged]
        await collect(private, lambda got: any(m.get("arg", {}).get("channel") == "positions" and
                                              m.get("eventType") == "event_update" for m in got))
        update = next(m for m in private if m.get("eventType") == "event_update")
        assert D(update["data"][0]["pos"]) == engine.position("demo", SWAP).size / D("0.01")
        await account.stop()

    asyncio.run(run())
