"""Alpaca's authentication, reproduced from its documentation, and the constants the next phases use.

Alpaca signs nothing, so there is no signing vector to reproduce. What stands in for it here: the
documented auth / listen / subscribe message shapes (docs.alpaca.markets "Websocket Streaming" for the
trading stream, "WebSocket Stream" for market data) are what we build, byte for byte in structure,
and the documented answers to them (success, unauthorized, error frames) decode to the right typed
result -- see test_schemas.py for the answers. The REST key headers are checked against the official
SDK's own header builder (alpaca-py ``RESTClient._get_auth_headers``), run in the test.
"""

from __future__ import annotations

import pytest

from brokers.alpaca import auth, constants
from protocol.credentials import Credentials
from tests.unit.alpaca import samples

CREDS = Credentials.from_strings("PKTESTKEY0000000000", "test-secret-not-real")


def test_rest_headers_are_the_two_documented_key_headers_as_the_sdk_sends_them() -> None:
    rest = pytest.importorskip("alpaca.common.rest", reason="alpaca-py is a dev dependency")

    class _Probe(rest.RESTClient):  # type: ignore[misc, name-defined]
        pass

    sdk_headers = _Probe("https://paper-api.alpaca.markets", api_key="PKTESTKEY0000000000",
                         secret_key="test-secret-not-real")._get_auth_headers()
    ours = auth.rest_headers(CREDS)
    assert ours == sdk_headers == {"APCA-API-KEY-ID": "PKTESTKEY0000000000",
                                   "APCA-API-SECRET-KEY": "test-secret-not-real"}
    assert "test-secret-not-real" not in repr(CREDS)
    assert auth.redacted(ours)["APCA-API-SECRET-KEY"] == "***"
    assert "test-secret-not-real" not in str(auth.redacted(ours))


def _shape(message: object) -> object:
    """The structure of a message with every string leaf replaced by its key path (values differ)."""
    if isinstance(message, dict):
        return {key: _shape(value) for key, value in message.items()}
    if isinstance(message, list):
        return [_shape(item) for item in message]
    return type(message).__name__


def test_trading_stream_auth_and_listen_follow_the_documented_shapes() -> None:
    message = auth.trading_auth_message(CREDS)
    assert _shape(message) == _shape(samples.TRADING_AUTH_MESSAGE_SHAPE)
    assert message["data"] == {"key_id": "PKTESTKEY0000000000", "secret_key": "test-secret-not-real"}
    assert auth.trading_listen_message() == samples.TRADING_LISTEN_MESSAGE
    assert auth.trading_listen_message([]) == {"action": "listen", "data": {"streams": []}}


def test_data_stream_auth_and_subscribe_follow_the_documented_shapes() -> None:
    message = auth.data_auth_message(CREDS)
    assert _shape(message) == _shape(samples.DATA_AUTH_MESSAGE_SHAPE)
    assert message == {"action": "auth", "key": "PKTESTKEY0000000000", "secret": "test-secret-not-real"}
    assert auth.data_subscription_message("subscribe", trades=["AAPL"], quotes=["AMD", "CLDR"],
                                          bars=["*"]) == samples.DATA_SUBSCRIBE_MESSAGE
    assert auth.data_subscription_message("unsubscribe", quotes=["FAKEPACA"]) == \
        {"action": "unsubscribe", "quotes": ["FAKEPACA"]}


@pytest.mark.parametrize("call", [
    lambda: auth.data_subscription_message("listen", trades=["AAPL"]),
    lambda: auth.data_subscription_message("subscribe"),
])
def test_bad_subscription_messages_are_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]


def test_sdk_sends_the_same_stream_auth_messages() -> None:
    """alpaca-py's streams send exactly these actions (read from its source: TradingStream._auth,
    DataStream._auth); guard against a rename on either side."""
    import inspect

    stream = pytest.importorskip("alpaca.trading.stream", reason="alpaca-py is a dev dependency")
    data = pytest.importorskip("alpaca.data.live.websocket", reason="alpaca-py is a dev dependency")
    trading_source = inspect.getsource(stream.TradingStream._auth)
    data_source = inspect.getsource(data.DataStream._auth)
    assert '"action": "authenticate"' in trading_source and '"key_id"' in trading_source
    assert '"action": "auth"' in data_source and '"secret"' in data_source


def test_urls_match_the_sdk() -> None:
    enums = pytest.importorskip("alpaca.common.enums", reason="alpaca-py is a dev dependency")
    assert constants.trading_url(paper=True) == enums.BaseURL.TRADING_PAPER.value
    assert constants.trading_url(paper=False) == enums.BaseURL.TRADING_LIVE.value
    assert constants.trading_stream_url(paper=True) == enums.BaseURL.TRADING_STREAM_PAPER.value
    assert constants.trading_stream_url(paper=False) == enums.BaseURL.TRADING_STREAM_LIVE.value
    assert constants.DATA_LIVE == enums.BaseURL.DATA.value
    assert constants.data_stream_url("iex") == enums.BaseURL.MARKET_DATA_STREAM.value + "/v2/iex"
    assert constants.data_stream_url(constants.DataFeed.SIP) == "wss://stream.data.alpaca.markets/v2/sip"
    with pytest.raises(ValueError, match="iex"):
        constants.data_stream_url("delayed_sip")


def test_client_order_id_rule() -> None:
    assert constants.is_valid_client_order_id("a" * 128)
    assert constants.is_valid_client_order_id("5680c4bc-9ac1-4a12-a44c-df427ba53032")
    assert not constants.is_valid_client_order_id("a" * 129)
    assert not constants.is_valid_client_order_id("")
    assert not constants.is_valid_client_order_id("has space")


def test_rate_rule_is_200_per_rolling_minute_fed_by_remaining() -> None:
    (rule,) = constants.rate_rules()
    assert (rule.seconds, rule.limit, rule.sliding) == (60.0, 200, True)
    assert rule.header == "X-RateLimit-Remaining" and rule.header_counts_remaining
    assert constants.rate_rules(10_000)[0].limit == 10_000


def test_timeframes_round_trip() -> None:
    for unified, venue in constants.TIMEFRAMES.items():
        assert constants.TIMEFRAMES_FROM_VENUE[venue] == unified
