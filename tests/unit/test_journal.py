"""The durable journal: what it records, what a restart loads from it, and the router's write-ahead:
an order update or fill reaches a subscriber only once it is on disk, and fills that happened while
the process was down are delivered after the restart, exactly once; fills from before the very first
start are history."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import trio

from actors.config import VenueConfig
from actors.handle import RouterHandle, open_router_with
from actors.journal import Journal, JournalError, read_history
from actors.router import EventSubscriber
from algotrendy.cli import main
from algotrendy.wiring import VenuePlan, broker_state
from brokers.base import BrokerSettings, broker_actor
from protocol import errors as e
from protocol.model import Fill, Order, OrderStatus, OrderType, Side, utc_now
from tests.support.fake_broker import FakeBroker, FakeVenue

PLAN = VenuePlan(VenueConfig(name="fake", venue="fake", mode="live"), BrokerSettings(venue="fake", rest_url="", ws_url=""))


def order(cid: str, status: OrderStatus = OrderStatus.NEW, filled: str = "0", symbol: str = "BTC/USDT") -> Order:
    now = utc_now()
    return Order(venue="fake", symbol=symbol, order_id=cid, client_order_id=cid, side=Side.BUY, type=OrderType.LIMIT,
                 status=status, quantity=Decimal(3), price=Decimal(100), filled_quantity=Decimal(filled),
                 created_at=now, updated_at=now)


def fill(cid: str, trade_id: str, qty: str = "1", symbol: str = "BTC/USDT", age: float = 0) -> Fill:
    return Fill(venue="fake", symbol=symbol, order_id=cid, client_order_id=cid, trade_id=trade_id, side=Side.BUY,
                price=Decimal(100), quantity=Decimal(qty), fee=Decimal(0), fee_currency="USDT", is_maker=False,
                timestamp=utc_now() - timedelta(seconds=age))


async def test_recorded_events_come_back_as_what_a_restart_needs(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    first = journal.snapshot(["fake"], utc_now())
    assert first.venues["fake"].watermarks == {} and first.kill_switch is None
    assert await journal.record_events([order("a"), fill("a", "t1"), order("a", OrderStatus.PARTIALLY_FILLED, "1"),
                                        order("b"), order("b", OrderStatus.FILLED, "3"), fill("b", "t2", "3", "ETH/USDT")])
    assert await journal.record_submission("fake", "lost", "SOL/USDT", order("lost"))  # sent, no answer came
    assert await journal.record_kill_switch("too many losses")
    assert await journal.bump("risk_rejected.price_band", 2)
    journal.close()
    journal = Journal.open(tmp_path / "j.sqlite")
    later = journal.snapshot(["fake"], utc_now())
    record = later.venues["fake"]
    assert record.history_start == first.venues["fake"].history_start  # set once, at the first start
    assert set(record.watermarks) == {"BTC/USDT", "ETH/USDT"}
    assert set(record.seen_fills) == {("BTC/USDT", "t1"), ("ETH/USDT", "t2")}
    assert [(o.client_order_id, o.status) for o in record.open_orders] == [("a", OrderStatus.PARTIALLY_FILLED)]
    assert record.filled == {"a": Decimal(1)}
    assert record.active_symbols == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    assert record.submitted == ["lost"]
    assert later.kill_switch == "too many losses" and later.counters == {"risk_rejected.price_band": 2}
    # A second daemon cannot take the journal of a running one.
    with pytest.raises(JournalError, match="in use by another daemon"):
        Journal.open(tmp_path / "j.sqlite")
    journal.close()
    history = read_history(tmp_path / "j.sqlite", venue="fake")
    assert [f.trade_id for f in history.fills] == ["t1", "t2"] and len(history.orders) == 2
    assert read_history(tmp_path / "j.sqlite", venue="other").fills == []
    assert read_history(tmp_path / "j.sqlite", since=utc_now() + timedelta(minutes=1)).orders == []
    with pytest.raises(JournalError, match="no journal"):
        read_history(tmp_path / "none.sqlite")


@asynccontextmanager
async def daemon_like(market: FakeVenue, path: Path) -> AsyncIterator[tuple[RouterHandle, EventSubscriber]]:
    """What the daemon does at start: open the journal, seed the venue's state from it, route through it;
    a fill subscriber from before the venue starts (so it sees what reconciliation delivers)."""
    journal = Journal.open(path)
    snapshot = journal.snapshot(["fake"], utc_now())
    actor = broker_actor(lambda: FakeBroker(market), broker_state(PLAN, snapshot.venues["fake"]))
    try:
        async with open_router_with({"fake": actor}, seed=1, journal=journal) as router:
            fills = router.router.subscribe(kinds=["fill"])
            with trio.fail_after(10):
                await router.wait_connected("fake")
            yield router, fills
    finally:
        journal.close()


async def test_a_fill_reaches_subscribers_only_once_it_is_recorded(tmp_path: Path) -> None:
    market = FakeVenue()
    async with daemon_like(market, tmp_path / "j.sqlite") as (router, fills):
        placed = await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity=Decimal(3),
                                          price=Decimal(100), client_order_id="o1")
        market.execute(placed.client_order_id, Decimal(1))
        with trio.fail_after(10):
            got = await fills.get()
        assert isinstance(got, Fill)
        assert [f.trade_id for f in read_history(tmp_path / "j.sqlite").fills] == [got.trade_id]


async def test_fills_while_down_arrive_once_after_a_restart_and_old_history_never(tmp_path: Path) -> None:
    market = FakeVenue()
    path = tmp_path / "j.sqlite"
    # The account has history before the daemon ever ran, and an order still open from then.
    market.orders["old"] = order("old")
    market.execute("old", Decimal(1))
    async with daemon_like(market, path) as (router, fills):
        placed = await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity=Decimal(3),
                                          price=Decimal(100), client_order_id="o1")
        market.execute(placed.client_order_id, Decimal(1))
        with trio.fail_after(10):
            first = await fills.get()
        assert isinstance(first, Fill) and first.client_order_id == "o1"
        with trio.move_on_after(0.2):
            extra = await fills.get()
            raise AssertionError(f"history delivered as new: {extra}")
    # Down: the venue goes on filling.
    missed = [market.execute("o1", Decimal(1)).trade_id, market.execute("old", Decimal(1)).trade_id]
    for expected in (missed, []):  # the first restart delivers them, the second nothing
        async with daemon_like(market, path) as (router, fills):
            delivered: list[str] = []
            with trio.move_on_after(0.5):
                while True:
                    delivered.append((await fills.get()).trade_id)  # type: ignore[union-attr]
        assert delivered == expected
    recorded = [f.trade_id for f in read_history(path).fills]
    history = market.fill_log[0].trade_id
    assert sorted(recorded) == sorted(f.trade_id for f in market.fill_log if f.trade_id != history)


async def test_the_kill_switch_survives_a_restart(tmp_path: Path) -> None:
    market = FakeVenue()
    async with daemon_like(market, tmp_path / "j.sqlite") as (router, _):
        await router.engage_kill_switch("operator")
    async with daemon_like(market, tmp_path / "j.sqlite") as (router, _):
        assert router.router.risk.kill_switch_reason == "operator"
        with pytest.raises(e.RiskRejected, match="kill switch"):
            await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity=Decimal(1),
                                     price=Decimal(100))
        await router.release_kill_switch()
    async with daemon_like(market, tmp_path / "j.sqlite") as (router, _):
        assert router.router.risk.kill_switch_reason is None
        assert router.router.risk.by_rule == {"kill_switch": 1}


async def test_history_prints_orders_and_fills_people_can_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.snapshot(["fake"], utc_now())
    await journal.record_events([order("a", OrderStatus.FILLED, "3"), fill("a", "t-recent", "3"),
                                 fill("a", "t-old", "1", age=3 * 3600)])
    await journal.record_submission("fake", "bad", "BTC/USDT", order("bad"))
    await journal.record_rejection("fake", "bad", "InsufficientFunds: not enough USDT")
    journal.close()
    assert main(["history", "--journal", str(tmp_path / "j.sqlite"), "--venue", "fake", "--since", "1h"]) == 0
    out = capsys.readouterr().out
    assert "Orders (1)" in out and "Fills (1)" in out and "t-recent" in out and "t-old" not in out
    assert "Refused orders (1)" in out and "InsufficientFunds: not enough USDT" in out
    assert main(["history", "--journal", str(tmp_path / "none.sqlite")]) == 2
    assert capsys.readouterr().err.strip() == f"algotrendy: no journal at {tmp_path / 'none.sqlite'}"
    with pytest.raises(SystemExit):
        main(["history", "--since", "yesterday-ish"])
    assert "not a time or an age: 'yesterday-ish'" in capsys.readouterr().err


def test_a_journal_from_a_newer_release_is_refused_not_misread(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.close()
    db = sqlite3.connect(tmp_path / "j.sqlite")
    with db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema'")
    db.close()
    with pytest.raises(JournalError, match="has schema 99, newer than this version"):
        Journal.open(tmp_path / "j.sqlite")

