"""The client chassis every venue inherits: instrument index, filter check, order features, paging,
error rows. Venue facts (Binance's and Bybit's filters and features) are the ones in their constants."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import msgspec
import pytest
import trio

from brokers import BROKER_FACTORIES
from brokers.binance.constants import ORDER_FEATURES as BINANCE
from brokers.bybit.constants import ORDER_FEATURES as BYBIT
from brokers.errors import CodeRow, error_body
from brokers.features import OrderFeatures, check_order_features
from brokers.instruments import InstrumentIndex, check_filters
from brokers.paging import Page, collect, next_after, next_offset, next_token
from protocol import errors as e
from protocol.model import Instrument, MarketType, OrderClass, OrderRequest, OrderType, Side, TimeInForce

SPOT = Instrument(venue="v", symbol="BTC/USDT", venue_symbol="BTCUSDT", market_type=MarketType.SPOT, base="BTC",
                  quote="USDT", tick_size=Decimal("0.01"), lot_size=Decimal("0.001"), min_qty=Decimal("0.002"),
                  max_qty=Decimal(100), min_notional=Decimal(5))
LINEAR = Instrument(venue="v", symbol="BTC/USDT:USDT", venue_symbol="BTCUSDT", market_type=MarketType.LINEAR,
                    base="BTC", quote="USDT", settle="USDT", tick_size=Decimal("0.1"), lot_size=Decimal("0.001"))
INVERSE = Instrument(venue="v", symbol="BTC/USD:BTC", venue_symbol="BTCUSD", market_type=MarketType.INVERSE,
                     base="BTC", quote="USD", settle="BTC", tick_size=Decimal("0.5"), lot_size=Decimal(1),
                     min_qty=Decimal(1), min_notional=Decimal(10))


def by_market(instrument: Instrument) -> str:
    return str(instrument.market_type)


# ------------------------------------------------------------------------------ instrument index


def test_index_answers_both_directions_under_a_venue_key() -> None:
    index = InstrumentIndex.of("v", [LINEAR, SPOT, INVERSE], by_market)
    assert index.get("BTC/USDT") is SPOT and index.to_venue("BTC/USDT:USDT") == ("linear", "BTCUSDT")
    assert index.find("BTCUSDT", "spot") is SPOT and index.find("BTCUSDT", "linear") is LINEAR
    assert index.find("BTCUSDT", "inverse") is None and index.find("BTCUSDT") is None
    assert [i.symbol for i in index.all()] == ["BTC/USD:BTC", "BTC/USDT", "BTC/USDT:USDT"] and len(index) == 3
    with pytest.raises(e.InvalidOrder) as unknown:
        index.get("ETH/USDT")
    assert unknown.value.filter == "SYMBOL" and unknown.value.venue == "v"
    with pytest.raises(e.ProtocolViolation):
        index.from_venue("ETHUSDT", "spot")


def test_reloading_keeps_the_venue_id_views_live() -> None:
    index = InstrumentIndex.of("v", [SPOT])
    view = index.venue_ids()
    assert view == {"BTCUSDT": SPOT}
    index.replace([INVERSE])
    assert view == {"BTCUSD": INVERSE} and not index.knows("BTC/USDT")


# ------------------------------------------------------------------------------ filters


@pytest.mark.parametrize(("quantity", "price", "filter_name"), [
    ("0.0025", "100", "LOT_SIZE"),  # off the step (counted from min_qty)
    ("0.001", "10000", "LOT_SIZE"),  # below min_qty
    ("100.001", "1", "LOT_SIZE"),  # above max_qty
    ("0", "1", "LOT_SIZE"),
    ("0.1", "100.005", "PRICE_FILTER"),
    ("0.1", "0", "PRICE_FILTER"),
    ("0.01", "100", "NOTIONAL"),  # 1 USDT < 5
])
def test_filters_name_what_they_refuse(quantity: str, price: str, filter_name: str) -> None:
    with pytest.raises(e.InvalidOrder) as refused:
        check_filters(SPOT, Decimal(quantity), Decimal(price), client_order_id="c1")
    assert refused.value.filter == filter_name and refused.value.client_order_id == "c1"


def test_filters_pass_what_they_allow_and_value_inverse_contracts_in_quote() -> None:
    check_filters(SPOT, Decimal("0.05"), Decimal("100"))
    check_filters(SPOT, Decimal("0.002"), None)  # a market order without a reference price: no value check
    with pytest.raises(e.InvalidOrder):
        check_filters(SPOT, Decimal("0.002"), None, reference_price=Decimal(100))
    check_filters(INVERSE, Decimal(10), Decimal("0.5"))  # 10 USD contracts are worth 10 USD at any price
    with pytest.raises(e.InvalidOrder) as small:
        check_filters(INVERSE, Decimal(9), Decimal(60000))
    assert small.value.filter == "NOTIONAL"
    check_filters(SPOT, Decimal(0), notional=Decimal(5))  # a notional order is checked on its value
    with pytest.raises(e.InvalidOrder):
        check_filters(SPOT, Decimal(0), notional=Decimal(4))


# ------------------------------------------------------------------------------ order features


def order(**changes: Any) -> OrderRequest:
    fields: dict[str, Any] = {"venue": "v", "symbol": "BTC/USDT", "side": Side.BUY, "type": OrderType.LIMIT,
                              "quantity": Decimal(1), "price": Decimal(100), "client_order_id": "c1"}
    return OrderRequest(**(fields | changes))


@pytest.mark.parametrize(("features", "changes"), [
    (BINANCE[MarketType.SPOT], {"type": OrderType.MARKET, "time_in_force": TimeInForce.IOC}),  # Binance ignored it
    (BINANCE[MarketType.SPOT], {"type": OrderType.STOP_LIMIT, "time_in_force": TimeInForce.POST_ONLY}),
    (BINANCE[MarketType.SPOT], {"reduce_only": True}),
    (BINANCE[MarketType.SPOT], {"time_in_force": TimeInForce.DAY}),
    (BINANCE[MarketType.SPOT], {"type": OrderType.TRAILING_STOP, "trail_percent": Decimal(1)}),
    (BINANCE[MarketType.SPOT], {"trail_price": Decimal(5)}),
    (BINANCE[MarketType.SPOT], {"notional": Decimal(50), "quantity": Decimal(0)}),
    (BINANCE[MarketType.SPOT], {"extended_hours": True}),
    (BINANCE[MarketType.SPOT], {"leverage": Decimal(2)}),
    (BINANCE[MarketType.SPOT], {"order_class": OrderClass.BRACKET, "take_profit_price": Decimal(110)}),
    (BINANCE[MarketType.SPOT], {"take_profit_price": Decimal(110)}),
    (BYBIT[MarketType.SPOT], {"reduce_only": True}),
    (BYBIT[MarketType.LINEAR], {"type": OrderType.MARKET, "time_in_force": TimeInForce.FOK}),
    (BYBIT[MarketType.LINEAR], {"margin_mode": "isolated"}),
    (None, {}),  # a market type the venue does not trade
])
def test_what_a_venue_cannot_do_is_refused_not_ignored(features: OrderFeatures | None,
                                                      changes: dict[str, Any]) -> None:
    with pytest.raises(e.NotSupported) as refused:
        check_order_features(order(**changes), features, venue="v", market=MarketType.SPOT)
    assert refused.value.venue == "v" and refused.value.client_order_id == "c1"


@pytest.mark.parametrize(("features", "changes"), [
    (BINANCE[MarketType.SPOT], {"type": OrderType.MARKET}),
    (BINANCE[MarketType.SPOT], {"time_in_force": TimeInForce.POST_ONLY}),
    (BYBIT[MarketType.SPOT], {"type": OrderType.MARKET, "time_in_force": TimeInForce.IOC}),
    (BYBIT[MarketType.LINEAR], {"reduce_only": True, "time_in_force": TimeInForce.FOK}),
])
def test_what_a_venue_can_do_passes(features: OrderFeatures, changes: dict[str, Any]) -> None:
    check_order_features(order(**changes), features, venue="v", market=MarketType.SPOT)


# ------------------------------------------------------------------------------ paging


async def test_collect_follows_each_cursor_style_to_the_last_page() -> None:
    rows = list(range(1, 26))
    asked: list[object] = []

    async def by_token(cursor: str | None) -> Page[int, str]:
        start = int(cursor or 0)
        asked.append(cursor)
        return Page(rows[start:start + 10], next_token(str(start + 10) if start + 10 < len(rows) else ""))

    async def by_last_id(after: int | None) -> Page[int, int]:
        page = [r for r in rows if r > (after or 0)][:10]
        return Page(page, next_after(page, 10, lambda row: row))

    async def by_offset(offset: int | None) -> Page[int, int]:
        page = rows[offset or 0:(offset or 0) + 10]
        return Page(page, next_offset(offset, page, 10))

    assert await collect(by_token) == rows and asked == [None, "10", "20"]
    assert await collect(by_last_id) == rows
    assert await collect(by_offset) == rows
    assert await collect(by_offset, enough=12) == rows[:20]  # whole pages until enough are in


async def test_collect_is_bounded_when_the_cursor_never_ends() -> None:
    calls = 0

    async def endless(cursor: int | None) -> Page[int, int]:
        nonlocal calls
        calls += 1
        await trio.lowlevel.checkpoint()
        return Page([calls], (cursor or 0) + 1)

    assert await collect(endless, max_pages=7) == list(range(1, 8)) and calls == 7


# ------------------------------------------------------------------------------ error tables


@pytest.mark.parametrize("venue", sorted(BROKER_FACTORIES))
def test_every_venue_error_table_uses_the_shared_row(venue: str) -> None:
    table = importlib.import_module(f"{BROKER_FACTORIES[venue]}.errors").CODE_TABLE
    assert table and all(isinstance(row, CodeRow) and issubclass(row.kind, e.BrokerError) for row in table.values())


def test_a_row_builds_its_typed_error() -> None:
    limited = CodeRow(e.RateLimited).error("slow down", venue="v", code=1, retry_after=2.5, banned=True)
    assert isinstance(limited, e.RateLimited) and limited.retry_after == Decimal("2.5") and limited.banned
    refused = CodeRow(e.InvalidOrder, "LOT_SIZE").error("no", venue="v", code=2, venue_message="qty")
    assert isinstance(refused, e.InvalidOrder) and refused.filter == "LOT_SIZE" and refused.venue_message == "qty"
    clock = CodeRow(e.AuthenticationError).error("clock", venue="v", code=3, retryable=True)
    assert type(clock) is e.AuthenticationError and clock.retryable


class _Body(msgspec.Struct):
    code: int = 0
    msg: str = ""


def test_an_error_body_is_read_whatever_came_back() -> None:
    assert error_body(b'{"code": 10001, "msg": "bad qty"}', _Body, text_field="msg") == _Body(10001, "bad qty")
    assert error_body(b"", _Body, text_field="msg") == _Body()
    page = b"<html>" + b"x" * 300 + b"</html>"
    assert error_body(page, _Body, text_field="msg") == _Body(msg=page[:200].decode())  # a proxy's page, cut
    assert error_body(b'{"code": "x"}', _Body, text_field="msg").msg == '{"code": "x"}'  # JSON of another shape
    assert error_body(b"\xff oops \n", _Body, text_field="msg").msg == "\ufffd oops"
