"""The official python-kraken-sdk (package ``kraken``) driven against our Kraken emulator: its spot REST clients
(``Market``, ``User``, ``Trade``, ``Earn``) and its websocket v2 clients (``SpotWSClient``,
``SpotOrderBookClient``).

The SDK builds its own requests (form bodies, its nonces at time x 1e8, API-Sign) and raises its typed
exceptions on any error string, so every accepted call proves the emulator understands the real SDK; every answer
is then compared with the engine's own records. Only base URLs change: the REST clients take ``url``,
``SpotWSClient`` takes ``rest_url``/``ws_url``/``auth_ws_url`` (it appends "/v2" itself, so the private URL is
``<ws>/ws-auth``). ``SpotOrderBookClient`` takes no URL at all: its class constants (``WS_URL``, and
``Market.URL`` for the decimals it reads) are monkeypatched to the emulator, which is the SDK's only way to point
it elsewhere.

The SDK is synchronous (requests) and its websocket client asyncio-based: the emulator runs in a thread with its
own trio loop on the real clock, prices frozen (a tick an hour; the test ticks the engine itself, in the
emulator's loop, when it wants book updates).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

kraken = pytest.importorskip("kraken", reason="python-kraken-sdk is a dev dependency (requirements/dev.lock)")
from kraken.exceptions import (  # noqa: E402
    KrakenDeadlineElapsedError,
    KrakenEarnAllocationInProgressError,
    KrakenEarnMinimumAllocationError,
    KrakenInsufficientFundsError,
    KrakenInvalidArgumentsError,
    KrakenInvalidNonceError,
    KrakenInvalidSignatureError,
    KrakenOrderMinimumNotMetError,
    KrakenPermissionDeniedError,
    KrakenUnknownAssetError,
    KrakenUnknownOrderError,
)
from kraken.spot import Earn, Market, SpotOrderBookClient, SpotWSClient, Trade, User  # noqa: E402

from emulators import EmulatedVenue  # noqa: E402
from tests.conformance.conftest import Running, serving  # noqa: E402

D = Decimal


def configure(venue: EmulatedVenue) -> None:
    venue.dialect.earn.settle_seconds = 0.3
    venue.dialect.enforce_limits = False  # dozens of calls a second on one key; the counters are tested on the wire


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    with serving("kraken", 44, configure) as serving_kraken:
        yield serving_kraken


def sdk(cls: Any, venue: EmulatedVenue, secret: str | None = None) -> Any:
    return cls(key=venue.api_key, secret=secret or venue.api_secret, url=venue.rest_url)


def test_market_data_equals_engine_state(running: Running) -> None:
    venue = running.venue
    market = Market(url=venue.rest_url)
    assert market.get_system_status()["status"] == "online"
    assets = market.get_assets(assets=["XBT", "USD"])
    assert assets["XXBT"]["altname"] == "XBT" and assets["ZUSD"]["decimals"] == 4
    pairs = market.get_asset_pairs()
    for key, state in venue.engine.symbols.items():
        spec = state.spec
        assert D(pairs[key]["tick_size"]) == spec.tick_size and D(pairs[key]["ordermin"]) == spec.min_qty
        assert D(pairs[key]["costmin"]) == spec.min_notional
    assert pairs["XXBTZUSD"]["wsname"] == "XBT/USD" and pairs["XXBTZUSD"]["leverage_sell"] == [2, 3, 4, 5]
    state = venue.engine.symbols["XXBTZUSD"]
    ticker = market.get_ticker(pair="XBTUSD")["XXBTZUSD"]
    assert (D(ticker["b"][0]), D(ticker["a"][0])) == (state.book.bids[0][0], state.book.asks[0][0])
    candles = market.get_ohlc(pair="XBTUSD", interval=1)["XXBTZUSD"]
    assert [D(row[4]) for row in candles[-3:]] == [c.close for c in state.candles[-3:]]
    assert [row[0] for row in candles[-3:]] == [c.open_ms // 1000 for c in state.candles[-3:]]
    book = market.get_order_book(pair="XBTUSD", count=5)["XXBTZUSD"]
    assert [(D(p), D(q)) for p, q, _ in book["bids"]] == state.book.bids[:5]
    assert [(D(p), D(q)) for p, q, _ in book["asks"]] == state.book.asks[:5]
    spreads = market.get_recent_spreads(pair="XBTUSD")["XXBTZUSD"]
    assert spreads and all(len(row) == 3 for row in spreads)
    trades = market.get_recent_trades(pair="XBTUSD")
    assert [int(row[6]) for row in trades["XXBTZUSD"]] == [t.trade_id for t in state.trades][-1000:]
    # The SDK matches error names by substring, so "EQuery:Unknown asset pair" raises its unknown-*asset* error.
    with pytest.raises(KrakenUnknownAssetError) as unknown:
        market.get_ticker(pair="NOPE")
    assert "EQuery:Unknown asset pair" in str(unknown.value)


def test_balances_and_trade_balance_equal_the_ledger(running: Running) -> None:
    venue = running.venue
    user = sdk(User, venue)
    balances = user.get_account_balance()
    extended = user.get_balances()
    for asset, (free, locked) in venue.engine.balances["demo"].items():
        assert D(balances[asset]) == (free + locked).quantize(D(balances[asset]))
        assert D(extended[asset]["balance"]) == D(balances[asset])
    usd = user.get_balance(currency="USD")  # the SDK's own helper over BalanceEx
    assert usd["currency"] == "ZUSD" and D(str(usd["balance"])) == sum(venue.engine.balance("demo", "ZUSD"))
    trade_balance = user.get_trade_balance(asset="ZUSD")
    assert set(trade_balance) >= {"eb", "tb", "m", "n", "c", "v", "e", "mf", "uv"}
    volume = user.get_trade_volume(pair="XBTUSD", fee_schedule=True)
    assert volume["fees"]["XXBTZUSD"]["fee"] == "0.4000" and volume["schedules"][0]["pair"] == "XXBTZUSD"


def test_order_lifecycle_and_fills_equal_the_engine(running: Running) -> None:
    venue = running.venue
    engine = venue.engine
    trade, user = sdk(Trade, venue), sdk(User, venue)
    mid = engine.symbols["XETHZUSD"].mid
    price = str((mid * D("0.8")).quantize(D("0.01")))
    placed = trade.create_order(ordertype="limit", side="buy", pair="ETHUSD", volume="0.5", price=price,
                                cl_ord_id="sdk-lim-1", oflags=["post"])
    [txid] = placed["txid"]
    listed = user.get_open_orders(cl_ord_id="sdk-lim-1")["open"]
    assert list(listed) == [txid] and listed[txid]["descr"]["price"] == price
    engine_order = next(o for o in engine.open_orders("demo") if o.client_order_id == "sdk-lim-1")
    assert (engine_order.quantity, engine_order.price) == (D("0.5"), D(price))
    amended = trade.amend_order(cl_ord_id="sdk-lim-1", limit_price=str(D(price) - 1))
    assert amended["amend_id"] and engine_order.price == D(price) - 1
    assert user.get_orders_info(txid=txid)[txid]["misc"] == "amended"
    assert trade.cancel_order(cl_ord_id="sdk-lim-1") == {"count": 1}
    with pytest.raises(KrakenUnknownOrderError):
        trade.cancel_order(txid=txid)
    checked = trade.create_order(ordertype="market", side="buy", pair="ETHUSD", volume="1", validate=True)
    assert "txid" not in checked and checked["descr"]["order"] == "buy 1.00000000 ETHUSD @ market"
    market = trade.create_order(ordertype="market", side="buy", pair="ETHUSD", volume="6", userref=42)
    [market_txid] = market["txid"]
    order = user.get_orders_info(txid=market_txid, trades=True)[market_txid]
    logged = [f for f in engine.fill_log if f.symbol == "XETHZUSD" and f.order_id == next(
        o.order_id for o in engine.all_orders() if o.symbol == "XETHZUSD" and o.quantity == D(6))]
    assert order["status"] == "closed" and order["userref"] == 42 and len(order["trades"]) == len(logged) == 2
    history = user.get_trades_history()["trades"]
    mine = [history[t] for t in order["trades"]]
    assert sorted((D(t["price"]), D(t["vol"])) for t in mine) == sorted((f.price, f.quantity) for f in logged)
    assert user.get_trades_info(txid=order["trades"])[order["trades"][0]]["ordertxid"] == market_txid
    closed = user.get_closed_orders(userref=42)["closed"]
    assert list(closed) == [market_txid]
    deadline = trade.create_order(ordertype="market", side="buy", pair="ETHUSD", volume="0.01",
                                  deadline=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 20)))
    assert deadline["txid"]
    armed = trade.cancel_all_orders_after_x(timeout=60)
    assert armed["triggerTime"] != "0"
    assert trade.cancel_all_orders_after_x(timeout=0)["triggerTime"] == "0"
    assert trade.cancel_all_orders()["count"] == 0


def test_margin_positions_equal_the_engine(running: Running) -> None:
    venue = running.venue
    engine = venue.engine
    trade, user = sdk(Trade, venue), sdk(User, venue)
    trade.create_order(ordertype="market", side="sell", pair="SOLUSD", volume="20", leverage="2")
    position = engine.position("demo", "SOLUSD")
    [merged] = user.get_open_positions()  # the SDK's default: consolidation=market
    assert (merged["pair"], merged["type"], D(merged["vol"])) == ("SOLUSD", "sell", D(20)) and position.size == -20
    assert D(merged["margin"]) == position.margin.quantize(D("0.00001"))
    # docalcs without consolidation: the SDK would send "consolidation=None" unsigned (requests drops None
    # values it signed), so the raw request is used.
    rows = user.request("POST", "/0/private/OpenPositions", params={"docalcs": True})
    [row] = rows.values()
    assert D(row["net"]) == engine.unrealised_pnl(position).quantize(D("0.0001"))
    assert "ml" in user.get_trade_balance()
    trade.create_order(ordertype="market", side="buy", pair="SOLUSD", volume="20", leverage="2")
    assert user.get_open_positions() == [] and position.size == 0


def test_earn_allocation_round_trip(running: Running) -> None:
    venue = running.venue
    earn, user = sdk(Earn, venue), sdk(User, venue)
    [sol] = earn.list_earn_strategies(asset="SOL")["items"]
    strategy = sol["id"]
    assert earn.allocate_earn_funds(amount="10", strategy_id=strategy) is True
    with pytest.raises(KrakenEarnAllocationInProgressError):
        earn.allocate_earn_funds(amount="1", strategy_id=strategy)
    assert earn.get_allocation_status(strategy_id=strategy)["pending"] is True
    deadline = time.monotonic() + 10
    while earn.get_allocation_status(strategy_id=strategy)["pending"]:
        assert time.monotonic() < deadline, "the allocation never completed"
        time.sleep(0.1)
    allocations = earn.list_earn_allocations()
    [item] = [i for i in allocations["items"] if i["strategy_id"] == strategy]
    assert D(item["amount_allocated"]["total"]["native"]) == 10
    assert D(user.get_account_balance()["SOL.B"]) == sum(venue.engine.balance("demo", "SOL.B")) == 10
    with pytest.raises(KrakenEarnMinimumAllocationError):
        earn.deallocate_earn_funds(amount="0.000001", strategy_id=strategy)
    assert earn.deallocate_earn_funds(amount="10", strategy_id=strategy) is True
    while earn.get_deallocation_status(strategy_id=strategy)["pending"]:
        assert time.monotonic() < deadline + 10
        time.sleep(0.1)
    assert sum(venue.engine.balance("demo", "SOL.B")) == 0


def test_the_sdk_raises_the_venue_errors(running: Running) -> None:
    venue = running.venue
    trade = sdk(Trade, venue)
    with pytest.raises(KrakenInvalidSignatureError):
        sdk(User, venue, secret="AAAA" * 22).get_account_balance()
    with pytest.raises(KrakenInsufficientFundsError):
        trade.create_order(ordertype="limit", side="buy", pair="XBTUSD", volume="50", price="60000")
    with pytest.raises(KrakenOrderMinimumNotMetError):
        trade.create_order(ordertype="market", side="buy", pair="XBTUSD", volume="0.000001")
    with pytest.raises(KrakenInvalidArgumentsError):
        trade.create_order(ordertype="market", side="buy", pair="XBTUSD", volume="0.01", leverage="9")
    with pytest.raises(KrakenDeadlineElapsedError):
        trade.create_order(ordertype="market", side="buy", pair="XBTUSD", volume="0.01",
                           deadline=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5)))
    key, secret = venue.add_account("sdk-reader")
    venue.dialect.set_permissions(key, {"query_funds"})
    with pytest.raises(KrakenPermissionDeniedError):
        Trade(key=key, secret=secret, url=venue.rest_url).cancel_all_orders()

    class Replaying(User):  # type: ignore[misc]
        """A client whose nonce does not move: the second call reuses it."""

        def get_nonce(self) -> str:
            return "1700000000000000000"

    replaying = Replaying(key=key, secret=secret, url=venue.rest_url)
    replaying.get_account_balance()
    with pytest.raises(KrakenInvalidNonceError):
        replaying.get_account_balance()


def test_the_websocket_client_public_and_private(running: Running) -> None:
    venue = running.venue
    messages: list[dict[str, Any]] = []

    async def main() -> None:
        async def collect(message: dict[str, Any]) -> None:
            messages.append(message)

        client = SpotWSClient(key=venue.api_key, secret=venue.api_secret, callback=collect,
                              rest_url=venue.rest_url, ws_url=venue.ws_url, auth_ws_url=f"{venue.ws_url}/ws-auth")
        await client.start()
        await client.subscribe(params={"channel": "ticker", "symbol": ["BTC/USD"]})
        await client.subscribe(params={"channel": "executions", "snap_orders": True})
        await client.subscribe(params={"channel": "balances"})
        await until(lambda: sum(m.get("method") == "subscribe" for m in messages) >= 3)
        assert client.active_public_subscriptions == [{"channel": "ticker", "symbol": ["BTC/USD"],
                                                       "snapshot": True, "event_trigger": "trades"}]
        placed = await asyncio.to_thread(sdk(Trade, venue).create_order, ordertype="market", side="buy",
                                         pair="XBTUSD", volume="0.01", cl_ord_id="sdk-ws-1")
        await until(lambda: any(m.get("channel") == "executions" and m["type"] == "update"
                                and m["data"][0]["exec_type"] == "filled" for m in messages))
        reports = [m["data"][0] for m in messages if m.get("channel") == "executions" and m["type"] == "update"]
        assert [r["exec_type"] for r in reports] == ["pending_new", "new", "trade", "filled"]
        assert {r["order_id"] for r in reports} == set(placed["txid"])
        fill = venue.engine.fill_log[-1]
        assert D(str(reports[2]["last_qty"])) == fill.quantity and D(str(reports[2]["last_price"])) == fill.price
        await until(lambda: sum(m.get("channel") == "balances" and m["type"] == "update" for m in messages) >= 2)
        await client.close()

    async def until(condition: Callable[[], bool]) -> None:
        for _ in range(100):
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"not received; got {messages[-5:]}")

    asyncio.run(main())
    assert messages[0]["channel"] == "status" or any(m.get("channel") == "status" for m in messages)


def test_the_order_book_client_verifies_our_checksums(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    venue = running.venue
    monkeypatch.setattr(SpotWSClient, "WS_URL", venue.ws_url)
    monkeypatch.setattr(Market, "URL", venue.rest_url)
    updates: list[dict[str, Any]] = []
    books: list[dict[str, Any]] = []

    async def main() -> None:
        async def on_update(pair: str, message: dict[str, Any]) -> None:
            updates.append(message)

        client = SpotOrderBookClient(depth=10, callback=on_update)
        await client.start()
        await client.add_book(pairs=["BTC/USD"])
        for _ in range(100):
            if updates:
                break
            await asyncio.sleep(0.05)
        for _ in range(3):  # book updates: three ticks of the engine and one market order of our own
            await asyncio.to_thread(running.call, venue.engine.tick)
        await asyncio.to_thread(sdk(Trade, venue).create_order, ordertype="market", side="sell", pair="XBTUSD",
                                volume="0.7")
        for _ in range(100):
            if sum(m.get("type") == "update" for m in updates) >= 4:
                break
            await asyncio.sleep(0.05)
        books.append(client.get("BTC/USD") or {})
        await client.close()

    asyncio.run(main())
    assert not [m for m in updates if "error" in m], "the SDK found a checksum mismatch"
    assert sum(m.get("type") == "update" for m in updates) >= 4
    bids = [level for level in venue.engine.symbols["XXBTZUSD"].book.bids if level[1] > 0]
    assert books[0]["valid"] is True and [D(p) for p in books[0]["bid"]] == [p for p, _ in bids]
