"""Documented Alpaca answers and stream frames parse into the Structs, exactly (Decimal, UTC-able times)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from brokers.alpaca import schemas as s
from protocol import errors as e
from tests.unit.alpaca import samples


def test_order_sample_parses() -> None:
    order = msgspec.json.decode(samples.ORDER_EQUITY, type=s.Order)
    assert order.symbol == "AAPL" and order.qty == Decimal(2) and order.filled_qty == 0
    assert order.limit_price == Decimal(150) and order.status == "accepted" and order.order_class == ""
    assert order.created_at.astimezone(UTC) == datetime(2023, 12, 12, 22, 31, 24, 668464, tzinfo=UTC)
    filled = msgspec.json.decode(samples.ORDER_FRACTIONAL_FILLED, type=s.Order)
    assert filled.qty == Decimal("0.1") and filled.filled_avg_price == Decimal("154.03")


def test_account_sample_parses_and_the_removed_pdt_fields_are_optional() -> None:
    account = msgspec.json.decode(samples.ACCOUNT, type=s.Account)
    assert account.cash == Decimal("-23140.2") and account.buying_power == Decimal("262113.632")
    assert account.pattern_day_trader is False and account.daytrade_count == 0 and account.shorting_enabled
    today = msgspec.json.decode(b'{"id": "x", "status": "ACTIVE", "cash": "10"}', type=s.Account)
    assert today.pattern_day_trader is None and today.daytrade_count is None


def test_asset_position_clock_calendar_samples_parse() -> None:
    asset = msgspec.json.decode(samples.ASSET_AAPL, type=s.Asset)
    assert asset.asset_class == "us_equity" and asset.fractionable and asset.easy_to_borrow
    assert asset.price_increment is None
    position = msgspec.json.decode(samples.POSITION_LONG, type=s.Position)
    assert position.unrealized_pl == Decimal("-0.98") and position.side == "long"
    clock = msgspec.json.decode(samples.CLOCK, type=s.Clock)
    assert clock.next_close.astimezone(UTC) == datetime(2022, 4, 28, 20, 0, tzinfo=UTC)
    (day,) = msgspec.json.decode(samples.CALENDAR, type=list[s.CalendarDay])
    assert (day.date, day.open, day.close, day.session_open, day.session_close) == \
        ("2022-02-01", "09:30", "16:00", "0700", "1900")


def test_fill_activities_parse() -> None:
    (fill,) = msgspec.json.decode(samples.FILL_ACTIVITY, type=list[s.FillActivity])
    assert fill.price == Decimal("174.78") and fill.cum_qty == 2 and fill.type == "fill"
    rows = msgspec.json.decode(samples.FILL_ACTIVITIES_SAME_MS, type=list[s.FillActivity])
    assert [row.cum_qty for row in rows] == [869, 970, 1000]


def test_market_data_rest_samples_parse() -> None:
    page = msgspec.json.decode(samples.BARS_PAGE, type=s.BarsPage)
    assert page.bars is not None and page.bars[0].vw == Decimal("178.235733") and page.next_page_token
    snapshot = msgspec.json.decode(samples.SNAPSHOT, type=s.Snapshot)
    assert snapshot.latestTrade is not None and snapshot.latestTrade.p == Decimal("125.91")
    assert snapshot.latestQuote is not None and snapshot.latestQuote.ask_size == 12
    assert msgspec.json.decode(b'{"symbol": "AAPL", "bars": null, "next_page_token": null}',
                               type=s.BarsPage).bars is None


def test_trading_stream_documented_answers() -> None:
    assert s.decode_trading_message(samples.TRADING_AUTHORIZED) == s.Authorization("authorized", "authenticate")
    assert s.decode_trading_message(samples.TRADING_LISTENING) == s.Listening(["trade_updates"])
    with pytest.raises(e.AuthenticationError):
        s.decode_trading_message(samples.TRADING_UNAUTHORIZED)
    with pytest.raises(e.ProtocolViolation):
        s.decode_trading_message(samples.TRADING_LISTEN_UNAUTHORIZED)


def test_trade_update_samples_parse_binary_or_text() -> None:
    update = s.decode_trading_message(samples.TRADE_UPDATE_FILL)
    assert isinstance(update, s.TradeUpdate) and update.event == "fill"
    assert update.price == Decimal("105.8988475") and update.qty == Decimal("1790.86")
    assert update.position_qty == 0 and update.execution_id == "2f63ea93-423d-4169-b3f6-3fdafc10c418"
    assert update.order.filled_qty == Decimal("1790.86")
    assert s.decode_trading_message(samples.TRADE_UPDATE_FILL.decode()) == update
    pending = s.decode_trading_message(samples.TRADE_UPDATE_PENDING_NEW)
    assert isinstance(pending, s.TradeUpdate) and pending.execution_id is None and pending.order.qty == 271


@pytest.mark.parametrize("frame", [b"not json", b'{"stream": "news", "data": {}}', b'{"data": {}}',
                                   b'{"stream": "trade_updates", "data": {"event": "fill"}}'])
def test_bad_trading_frames_are_protocol_violations(frame: bytes) -> None:
    with pytest.raises(e.ProtocolViolation):
        s.decode_trading_message(frame)


def test_data_stream_documented_frames() -> None:
    assert s.decode_data_frame(samples.DATA_CONNECTED) == [s.DataSuccess("connected")]
    assert s.decode_data_frame(samples.DATA_AUTHENTICATED) == [s.DataSuccess("authenticated")]
    (subscription,) = s.decode_data_frame(samples.DATA_SUBSCRIPTION)
    assert isinstance(subscription, s.DataSubscription)
    assert subscription.quotes == ["AMD", "CLDR"] and subscription.bars == ["*"]
    trades = s.decode_data_frame(samples.DATA_TRADES)
    assert [t.p for t in trades if isinstance(t, s.DataTrade)] == [Decimal("162.92"), Decimal("162.92"),
                                                                    Decimal("162.91")]
    (quote,) = s.decode_data_frame(samples.DATA_QUOTE_AMD)
    assert isinstance(quote, s.DataQuote) and quote.ask_size == 1 and quote.bp == Decimal("91.95")
    (bar,) = s.decode_data_frame(samples.DATA_BAR_SPY)
    assert isinstance(bar, s.DataBar) and bar.o == Decimal("388.985") and bar.n == 461
    for frame in samples.DATA_TEST_STREAM:
        assert s.decode_data_frame(frame)
    kinds = [type(m) for m in s.decode_data_frame(samples.DATA_OTHER_TYPES)]
    assert kinds == [s.DataCorrection, s.DataCancelError, s.DataLuld, s.DataStatus, s.DataImbalance]


def test_data_error_frame_raises_its_typed_error_first() -> None:
    with pytest.raises(e.VenueUnavailable) as raised:
        s.decode_data_frame(samples.DATA_CONNECTION_LIMIT)
    assert raised.value.code == "406" and raised.value.venue_message == "connection limit exceeded"
    with pytest.raises(e.AuthenticationError):
        s.decode_data_frame(b'[{"T":"error","code":402,"msg":"auth failed"}]')
    with pytest.raises(e.PermissionDenied):
        s.decode_data_frame(b'[{"T":"error","code":409,"msg":"insufficient subscription"}]')


@pytest.mark.parametrize("frame", [b'[{"T":"zz","S":"AAPL"}]', b'{"T":"t"}', b"[1]", b"garbage"])
def test_unknown_data_frames_are_protocol_violations(frame: bytes) -> None:
    with pytest.raises(e.ProtocolViolation):
        s.decode_data_frame(frame)
