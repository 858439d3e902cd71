"""OKX constants that other modules build on: hosts, channel routing, id rule, limits, bars."""

from __future__ import annotations

import pytest

from brokers.okx import constants as c
from protocol.model import new_client_order_id


def test_hosts_follow_the_2026_changes() -> None:
    assert c.rest_url(demo=False) == c.rest_url(demo=True) == "https://openapi.okx.com"
    assert c.ws_url(c.WsService.PUBLIC, demo=False) == "wss://ws.okx.com/ws/v5/public"
    assert c.ws_url(c.WsService.PRIVATE, demo=True) == "wss://wspap.okx.com/ws/v5/private"
    assert all(":8443" not in url for url in (c.WS_LIVE, c.WS_DEMO))  # port 8443 closed on 2026-10-31


@pytest.mark.parametrize(("channel", "service"), [
    ("candle1m", c.WsService.BUSINESS), ("candle1Dutc", c.WsService.BUSINESS), ("books", c.WsService.PUBLIC),
    ("bbo-tbt", c.WsService.PUBLIC), ("funding-rate", c.WsService.PUBLIC), ("open-interest", c.WsService.PUBLIC),
    ("orders", c.WsService.PRIVATE), ("balance_and_position", c.WsService.PRIVATE),
])
def test_channels_route_to_their_service(channel: str, service: c.WsService) -> None:
    assert c.service_of(channel) is service


def test_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="liquidation-orders"):
        c.service_of("liquidation-orders")


@pytest.mark.parametrize(("value", "ok"), [
    ("b15", True), ("A" * 32, True), ("A" * 33, False), ("", False), ("has-dash", False), ("under_score", False),
    ("ünï", False), ("1234567890", True), ("oktswap6", True),
])
def test_cl_ord_id_rule(value: str, ok: bool) -> None:
    assert c.is_valid_cl_ord_id(value) is ok


def test_generated_client_ids_fit_okx() -> None:
    assert all(c.is_valid_cl_ord_id(new_client_order_id()) for _ in range(50))


def test_rate_rules_are_rolling_and_per_order_for_batches() -> None:
    place = c.ENDPOINT_LIMITS[c.ORDER].rule("BTC-USDT")
    assert (place.limit, place.seconds, place.sliding, place.counts_orders) == (60, 2.0, True, False)
    assert place.name == "/api/v5/trade/order[BTC-USDT]"
    assert c.ENDPOINT_LIMITS[c.BATCH_ORDERS].rule().counts_orders
    assert c.ENDPOINT_LIMITS[c.ORDER].scope is c.LimitScope.UID_INST_ID
    assert c.ENDPOINT_LIMITS[c.INSTRUMENTS].scope is c.LimitScope.IP_INST_TYPE
    account = c.SUB_ACCOUNT_ORDER_LIMIT.rule("account")
    assert (account.limit, account.seconds, account.counts_orders) == (1000, 2.0, True)


def test_bars_round_trip_and_are_utc_aligned_from_six_hours() -> None:
    assert {c.BARS_FROM_VENUE[v] for v in c.BARS.values()} == set(c.BARS)
    assert c.BARS["1h"] == "1H" and c.BARS["1d"] == "1Dutc" and c.BARS["6h"] == "6Hutc"
