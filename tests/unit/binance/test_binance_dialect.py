"""Binance facts as published: the signing example, documented payloads, the error table, filters,
and the depth-book procedure."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.binance import schemas as s
from brokers.binance.auth import sign
from brokers.binance.book import DepthBook
from brokers.binance.errors import map_error
from brokers.binance.mapping import (
    fill_from_execution,
    instrument_from,
    order_from,
    order_from_execution,
)
from brokers.instruments import check_filters
from brokers.spot import average_cost
from brokers.wire import plain
from protocol import errors as e
from protocol.model import Fill, OrderStatus, OrderType, Side, TimeInForce

# "SIGNED Endpoint Examples for POST /api/v3/order - HMAC Keys" (Binance spot API docs).
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_QUERY = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_published_signature_example_reproduces() -> None:
    assert sign(DOC_SECRET, DOC_QUERY) == DOC_SIGNATURE


EXCHANGE_INFO_SYMBOL = b"""{"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","baseAssetPrecision":8,
 "quoteAsset":"BTC","quotePrecision":8,"quoteAssetPrecision":8,"orderTypes":["LIMIT","LIMIT_MAKER","MARKET"],
 "icebergAllowed":true,"ocoAllowed":true,"isSpotTradingAllowed":true,"isMarginTradingAllowed":true,
 "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.00000100","maxPrice":"100000.00000000","tickSize":"0.00000100"},
            {"filterType":"LOT_SIZE","minQty":"0.00100000","maxQty":"100000.00000000","stepSize":"0.00100000"},
            {"filterType":"NOTIONAL","minNotional":"0.00010000","applyMinToMarket":true,"maxNotional":"9000000.00000000",
             "applyMaxToMarket":false,"avgPriceMins":5}],
 "permissions":[],"permissionSets":[["SPOT","MARGIN"]]}"""


def test_exchange_info_symbol_becomes_an_instrument_with_its_filters() -> None:
    instrument = instrument_from(msgspec.json.decode(EXCHANGE_INFO_SYMBOL, type=s.SymbolInfo))
    assert instrument.symbol == "ETH/BTC" and instrument.venue_symbol == "ETHBTC"
    assert instrument.tick_size == Decimal("0.000001") and instrument.lot_size == Decimal("0.001")
    assert instrument.min_qty == Decimal("0.001") and instrument.max_qty == Decimal("100000")
    assert instrument.min_notional == Decimal("0.0001") and instrument.trading
    with pytest.raises(e.InvalidOrder) as lot:
        check_filters(instrument, Decimal("1.0005"), Decimal("0.05"))
    assert lot.value.filter == "LOT_SIZE"
    with pytest.raises(e.InvalidOrder) as tick:
        check_filters(instrument, Decimal("1"), Decimal("0.0500005"))
    assert tick.value.filter == "PRICE_FILTER"
    with pytest.raises(e.InvalidOrder) as notional:
        check_filters(instrument, Decimal("0.001"), Decimal("0.05"))
    assert notional.value.filter == "NOTIONAL"
    check_filters(instrument, Decimal("1.001"), Decimal("0.05"))


# The FULL response to POST /api/v3/order, as documented.
ORDER_FULL = b"""{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP",
 "transactTime":1507725176595,"price":"0.00000000","origQty":"10.00000000","executedQty":"10.00000000",
 "origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"10.00000000","status":"FILLED","timeInForce":"GTC",
 "type":"MARKET","side":"SELL","workingTime":1507725176595,"selfTradePreventionMode":"NONE",
 "fills":[{"price":"4000.00000000","qty":"1.00000000","commission":"4.00000000","commissionAsset":"USDT","tradeId":56},
          {"price":"3999.00000000","qty":"5.00000000","commission":"19.99500000","commissionAsset":"USDT","tradeId":57}]}"""


def test_documented_full_order_response_maps_exactly() -> None:
    btc = instrument_from(msgspec.json.decode(EXCHANGE_INFO_SYMBOL.replace(b"ETHBTC", b"BTCUSDT")
                                              .replace(b'"ETH"', b'"BTC"').replace(b'"quoteAsset":"BTC"',
                                                                                   b'"quoteAsset":"USDT"'),
                                              type=s.SymbolInfo))
    order = order_from(msgspec.json.decode(ORDER_FULL, type=s.OrderResponse), btc)
    assert order.symbol == "BTC/USDT" and order.order_id == "28" and order.side is Side.SELL
    assert order.type is OrderType.MARKET and order.status is OrderStatus.FILLED
    assert order.filled_quantity == Decimal("10") and order.average_price == Decimal("1")
    assert order.created_at == datetime(2017, 10, 11, 12, 32, 56, 595000, tzinfo=UTC)
    assert order.price is None


# executionReport as the user-data-stream docs print it (a NEW order; "C" is null there).
EXECUTION_REPORT_NEW = b"""{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW",
 "S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,
 "C":null,"x":"NEW","X":"NEW","r":"NONE","i":4293153,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0",
 "N":null,"T":1499405658657,"t":-1,"v":3,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,
 "Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}"""


def test_documented_execution_report_parses() -> None:
    eth = instrument_from(msgspec.json.decode(EXCHANGE_INFO_SYMBOL, type=s.SymbolInfo))
    report = msgspec.json.decode(EXECUTION_REPORT_NEW, type=s.UserEvent)
    assert isinstance(report, s.ExecutionReport)
    order = order_from_execution(report, eth)
    assert order.client_order_id == "mUvoqJxFIILMdfAW5iGSOW" and order.status is OrderStatus.NEW
    assert order.price == Decimal("0.10264410") and order.time_in_force is TimeInForce.GTC
    assert order.created_at.tzinfo is UTC


def test_trade_execution_report_becomes_a_fill_with_cumulative_quantity() -> None:
    eth = instrument_from(msgspec.json.decode(EXCHANGE_INFO_SYMBOL, type=s.SymbolInfo))
    raw = (EXECUTION_REPORT_NEW.replace(b'"x":"NEW","X":"NEW"', b'"x":"TRADE","X":"PARTIALLY_FILLED"')
           .replace(b'"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0"',
                    b'"l":"0.40000000","z":"0.60000000","L":"0.10264410","n":"0.00040000"')
           .replace(b'"N":null', b'"N":"ETH"').replace(b'"t":-1', b'"t":77'))
    report = msgspec.json.decode(raw, type=s.UserEvent)
    assert isinstance(report, s.ExecutionReport)
    fill = fill_from_execution(report, eth)
    assert fill.trade_id == "77" and fill.quantity == Decimal("0.4") and fill.order_filled_quantity == Decimal("0.6")
    assert fill.fee == Decimal("0.0004") and fill.fee_currency == "ETH" and not fill.is_maker


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "extra"),
    [
        (400, b'{"code":-1022,"msg":"Signature for this request is not valid."}', {}, e.AuthenticationError, None),
        (401, b'{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}', {}, e.AuthenticationError,
         None),
        (400, b'{"code":-1013,"msg":"Filter failure: LOT_SIZE"}', {}, e.InvalidOrder, "LOT_SIZE"),
        (400, b'{"code":-1013,"msg":"Filter failure: NOTIONAL"}', {}, e.InvalidOrder, "NOTIONAL"),
        (400, b'{"code":-2010,"msg":"Account has insufficient balance for requested action."}', {},
         e.InsufficientFunds, None),
        (400, b'{"code":-2010,"msg":"Duplicate order sent."}', {}, e.DuplicateOrder, None),
        (400, b'{"code":-2011,"msg":"Unknown order sent."}', {}, e.OrderNotFound, None),
        (400, b'{"code":-2013,"msg":"Order does not exist."}', {}, e.OrderNotFound, None),
        (400, b'{"code":-1121,"msg":"Invalid symbol."}', {}, e.InvalidOrder, "SYMBOL"),
        (429, b'{"code":-1003,"msg":"Too many requests"}', {"retry-after": "7"}, e.RateLimited, Decimal(7)),
        (418, b'{"code":-1003,"msg":"Way too many requests; IP banned"}', {"retry-after": "120"}, e.RateLimited,
         Decimal(120)),
        (503, b"<html>Service Unavailable</html>", {}, e.VenueUnavailable, None),
        (403, b"", {}, e.PermissionDenied, None),
    ],
)
def test_error_table(status: int, body: bytes, headers: dict[str, str], kind: type[e.BrokerError],
                     extra: object) -> None:
    error = map_error(status, body, headers)
    assert type(error) is kind and error.venue == "binance"
    if isinstance(error, e.InvalidOrder):
        assert error.filter == extra
    if isinstance(error, e.RateLimited):
        assert error.retry_after == extra and error.banned == (status == 418)


def test_timestamp_outside_recv_window_is_retryable_auth_error() -> None:
    error = map_error(400, b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}', {})
    assert isinstance(error, e.AuthenticationError) and error.retryable


def test_decimals_are_sent_plain() -> None:
    assert plain(Decimal("1E-7")) == "0.0000001" and plain(Decimal("0.00100")) == "0.001"
    assert plain(Decimal("65000.10")) == "65000.1" and plain(Decimal("1E+2")) == "100"


# ------------------------------------------------------------------------------ depth book procedure


def diff(first: int, last: int, bids: list[tuple[str, str]] = (), asks: list[tuple[str, str]] = ()) -> s.DepthUpdate:  # type: ignore[assignment]
    return s.DepthUpdate(E=0, s="BTCUSDT", U=first, u=last, b=[(Decimal(p), Decimal(q)) for p, q in bids],
                         a=[(Decimal(p), Decimal(q)) for p, q in asks])


def test_depth_book_follows_the_documented_procedure() -> None:
    book = DepthBook("BTCUSDT")
    book.apply(diff(157, 160, [("10", "1")]))  # buffered until the snapshot arrives
    book.load_snapshot(s.Depth(lastUpdateId=160, bids=[(Decimal(9), Decimal(2))], asks=[(Decimal(11), Decimal(3))]))
    assert not book.synced  # the buffered diff was older than the snapshot and dropped
    assert book.apply(diff(159, 163, [("9", "0"), ("8", "4")]))  # straddles 161
    assert book.bids == {Decimal(8): Decimal(4)} and book.synced
    assert book.apply(diff(164, 164, asks=[("12", "1")]))
    with pytest.raises(e.ProtocolViolation, match="gap"):
        book.apply(diff(166, 167))


def test_depth_book_refuses_a_first_diff_that_skips_the_snapshot() -> None:
    book = DepthBook("BTCUSDT")
    book.load_snapshot(s.Depth(lastUpdateId=100, bids=[], asks=[]))
    with pytest.raises(e.ProtocolViolation):
        book.apply(diff(105, 110))


@given(st.lists(st.tuples(st.integers(1, 20), st.integers(0, 5)), min_size=1, max_size=40))
def test_depth_book_equals_a_reference_model(changes: list[tuple[int, int]]) -> None:
    book = DepthBook("BTCUSDT")
    book.load_snapshot(s.Depth(lastUpdateId=1, bids=[], asks=[]))
    model: dict[Decimal, Decimal] = {}
    for n, (price, qty) in enumerate(changes):
        book.apply(diff(n + 2, n + 2, [(str(price), str(qty))]))
        if qty:
            model[Decimal(price)] = Decimal(qty)
        else:
            model.pop(Decimal(price), None)
    assert book.bids == model


def test_average_cost_of_spot_holdings() -> None:
    eth = instrument_from(msgspec.json.decode(EXCHANGE_INFO_SYMBOL, type=s.SymbolInfo))
    when = datetime(2026, 1, 1, tzinfo=UTC)

    def fill(side: Side, price: str, qty: str) -> Fill:
        return Fill(venue="binance", symbol="ETH/BTC", order_id="1", client_order_id="c", trade_id="1", side=side,
                    price=Decimal(price), quantity=Decimal(qty), fee=Decimal(0), fee_currency="BNB", is_maker=False,
                    timestamp=when)

    entry, realized = average_cost([fill(Side.BUY, "0.05", "2"), fill(Side.BUY, "0.08", "1"),
                                    fill(Side.SELL, "0.07", "1")], eth)
    assert entry == Decimal("0.06") and realized == Decimal("0.01")
