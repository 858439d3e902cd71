"""Every documented sample decodes into its Struct, decimals exact; errors raise before any field is read."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from brokers.kraken import schemas as s
from protocol import errors as e
from tests.unit.kraken import samples


def test_public_market_data_samples_decode() -> None:
    assert s.decode_answer(samples.SERVER_TIME, s.ServerTime).unixtime == 1688669448
    assert s.decode_answer(samples.SYSTEM_STATUS, s.SystemStatus).status == "online"
    assets = s.decode_answer(samples.ASSETS, dict[str, s.AssetInfo])
    assert assets["XXBT"].altname == "XBT" and assets["DOT"].collateral_value == Decimal("0.9")
    pairs = s.decode_answer(samples.ASSET_PAIRS, dict[str, s.AssetPair])
    btc = pairs["XXBTZUSD"]
    assert (btc.altname, btc.wsname, btc.base, btc.quote) == ("XBTUSD", "XBT/USD", "XXBT", "ZUSD")
    assert (btc.ordermin, btc.costmin, btc.tick_size) == (Decimal("0.0001"), Decimal("0.5"), Decimal("0.1"))
    assert btc.leverage_buy == [2, 3, 4, 5] and btc.fees == [] and btc.margin_call == 80
    assert pairs["XETHXXBT"].fees[1] == (Decimal(50000), Decimal("0.24"))
    assert pairs["XXBTZUSD.d"].wsname is None and pairs["XBTUSD.BN"].execution_venue == "bitnomial_exchange"
    ticker = s.decode_answer(samples.TICKER, dict[str, s.TickerInfo])["XXBTZUSD"]
    assert ticker.c[0] == Decimal("30303.20000") and ticker.b[0] == Decimal("30300.00000") and ticker.t == (34619, 38907)
    ohlc = s.decode_answer(samples.OHLC, s.OhlcResult)
    assert ohlc["last"] == 1688672160
    rows = ohlc["XXBTZUSD"]
    assert isinstance(rows, list) and rows[0][0] == 1688671200 and rows[0][6] == Decimal("3.39243896")
    trades = s.decode_answer(samples.RECENT_TRADES, s.TradesResult)
    first = trades["XXBTZUSD"]
    assert isinstance(first, list) and first[0][2] == Decimal("1688669597.8277369") and first[0][6] == 61044952
    assert trades["last"] == "1688671969993150842"
    depth = s.decode_answer(samples.DEPTH, dict[str, s.DepthBook])["XXBTZUSD"]
    assert depth.asks[0] == (Decimal("30384.10000"), Decimal("2.059"), 1688671659)


def test_account_samples_decode() -> None:
    balance = s.decode_answer(samples.BALANCE, dict[str, Decimal])
    assert balance["XXBT"] == Decimal("1011.1908877900") and "DOT.S" in balance
    extended = s.decode_answer(samples.BALANCE_EX, dict[str, s.BalanceExEntry])
    assert extended["ZUSD"].hold_trade == Decimal("8249.76") and extended["XXBT"].credit is None
    trade_balance = s.decode_answer(samples.TRADE_BALANCE, s.TradeBalance)
    assert trade_balance.ml == Decimal("5432.57") and trade_balance.n == Decimal("-10.0232")
    assert s.decode_answer(samples.TRADE_BALANCE_NO_POSITIONS, s.TradeBalance).ml is None
    open_orders = s.decode_answer(samples.OPEN_ORDERS, s.OpenOrdersResult).open
    order = open_orders["OCUG7Z-4EM5R-7ZCJ47"]
    assert order.refid is None and order.descr.price == Decimal("1720.37") and order.opentm == Decimal("1680777427.576083")
    closed = s.decode_answer(samples.CLOSED_ORDERS, s.ClosedOrdersResult)
    assert closed.count == 2 and closed.closed["O37652-RJWRT-IMO74O"].reason == "User requested"
    assert closed.closed["O6YDQ5-LOMWU-37YKEE"].cl_ord_id == "6d1b345e-2821-40e2-ad83-4ecb18a06876"
    history = s.decode_answer(samples.TRADES_HISTORY, s.TradesHistoryResult)
    assert history.count == 630 and history.trades["TPLJ5E-NONOU-5LH7JL"].fee == Decimal("0.05954")
    positions = s.decode_answer(samples.OPEN_POSITIONS, dict[str, s.OpenPosition])
    position = positions["TF5GVO-T7ZZ2-6NBKBI"]
    assert position.net == Decimal("134186.9728") and position.vol_closed == Decimal("0.20200000")


def test_trading_samples_decode_and_validate_places_nothing() -> None:
    placed = s.decode_answer(samples.ADD_ORDER, s.AddOrderResult)
    assert placed.txid == ["OU22CG-KLAF2-FWUDD7"]
    validated = s.decode_answer(samples.ADD_ORDER_VALIDATE, s.AddOrderResult)
    assert validated.txid == [] and validated.descr.order.startswith("buy 1.25000000 XBTUSD")
    assert s.decode_answer(samples.CANCEL_ORDER, s.CancelOrderResult).count == 1
    switch = s.decode_answer(samples.CANCEL_ALL_ORDERS_AFTER, s.CancelAllOrdersAfterResult)
    assert switch.triggerTime == "2023-03-24T17:42:56Z"
    assert s.decode_answer(samples.WEBSOCKETS_TOKEN, s.WebSocketsToken).expires == 900


def test_earn_samples_decode() -> None:
    strategies = s.decode_answer(samples.EARN_STRATEGIES, s.EarnStrategies)
    bonded = strategies.items[0]
    assert bonded.lock_type.type == "bonded" and bonded.lock_type.unbonding_period == 2419200
    assert bonded.apr_estimate == s.AprEstimate(low=Decimal("15.0000"), high=Decimal("21.0000"))
    assert strategies.items[2].apr_estimate is None and strategies.next_cursor is None
    allocations = s.decode_answer(samples.EARN_ALLOCATIONS, s.EarnAllocations)
    item = allocations.items[0]
    assert item.amount_allocated.total.native == Decimal("0.0210000000") and item.amount_allocated.pending is None
    assert item.amount_allocated.bonding is not None and item.amount_allocated.bonding.allocation_count == 2
    assert s.decode_answer(samples.EARN_ALLOCATE, bool) is True
    assert s.decode_answer(samples.EARN_STATUS_PENDING, s.EarnOperationStatus).pending


def test_websocket_samples_decode_with_the_wire_precision() -> None:
    header = msgspec.json.decode(samples.WS_SUBSCRIBE_ACK, type=s.WsHeader)
    assert (header.channel, header.method) == (None, "subscribe")
    ack = msgspec.json.decode(samples.WS_EXECUTIONS_SUBSCRIBE_ACK, type=s.WsMethodAnswer)
    assert ack.success and ack.result == {"channel": "executions", "maxratecount": 125, "snap_orders": True,
                                          "snap_trades": True}
    refused = msgspec.json.decode(samples.WS_SUBSCRIBE_REFUSED, type=s.WsMethodAnswer)
    assert not refused.success and refused.error == "Currency pair not supported"
    assert msgspec.json.decode(samples.WS_PONG, type=s.WsMethodAnswer).req_id == 101
    assert msgspec.json.decode(samples.WS_HEARTBEAT, type=s.WsHeader).channel == "heartbeat"
    status = msgspec.json.decode(samples.WS_STATUS, type=s.WsStatus)
    assert status.data[0].system == "online" and status.data[0].connection_id == 12393906104898154338
    ticker = msgspec.json.decode(samples.WS_TICKER, type=s.WsTickerMessage).data[0]
    assert ticker.ask_qty == Decimal("1361.44813783") and ticker.change == Decimal("-0.00017")
    trade = msgspec.json.decode(samples.WS_TRADE, type=s.WsTradeMessage).data[0]
    assert trade.qty == Decimal("40.0") and trade.trade_id == 4665906
    candle = msgspec.json.decode(samples.WS_OHLC, type=s.WsOhlcMessage).data[0]
    assert candle.interval == 5 and candle.volume == Decimal("30927.68066226")
    book = msgspec.json.decode(samples.WS_BOOK_CHECKSUM_SNAPSHOT, type=s.WsBookMessage).data[0]
    assert str(book.bids[3].price) == "45281.0" and str(book.asks[0].qty) == "0.00100000"  # text kept
    update = msgspec.json.decode(samples.WS_BOOK_UPDATE, type=s.WsBookMessage).data[0]
    assert update.checksum == 2114181697 and update.asks == []
    pending = msgspec.json.decode(samples.WS_EXECUTIONS_PENDING, type=s.WsExecutionsMessage)
    assert pending.sequence == 8 and pending.data[0].order_status == "pending_new"
    fill = msgspec.json.decode(samples.WS_EXECUTIONS_TRADE, type=s.WsExecutionsMessage).data[0]
    assert fill.fees == [s.WsFee(asset="USD", qty=Decimal("0.17287"))] and fill.liquidity_ind == "t"
    balances = msgspec.json.decode(samples.WS_BALANCES_SNAPSHOT, type=s.WsBalancesMessage)
    assert balances.data[0].wallets == [s.WsWallet(type="spot", id="main", balance=Decimal("1.2"))]
    assert msgspec.json.decode(samples.WS_BALANCES_UPDATE, type=s.WsBalancesMessage).data[0].amount == Decimal("0.0025")


def test_an_error_answer_raises_before_the_result_is_read() -> None:
    with pytest.raises(e.InsufficientFunds) as raised:
        s.decode_answer(samples.ADD_ORDER_REFUSED, s.AddOrderResult)  # no "result": never decoded
    assert raised.value.code == "EOrder:Insufficient funds"
    with pytest.raises(e.AuthenticationError):  # even with a result of the wrong shape present
        s.decode_answer(b'{"error": ["EAPI:Invalid key"], "result": {}}', s.AddOrderResult)


def test_warnings_do_not_fail_an_answer() -> None:
    body = b'{"error": ["WGeneral:Something to know"], "result": {"count": 2}}'
    assert s.decode_answer(body, s.CancelAllResult).count == 2


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"error": [], "result": {"txid": 5}}', b'{"error": []}',
                                  b'{"error": "EOrder:Unknown order"}'])
def test_unreadable_answers_are_protocol_violations(body: bytes) -> None:
    with pytest.raises(e.ProtocolViolation):
        s.decode_answer(body, s.AddOrderResult)
