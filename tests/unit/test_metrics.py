"""Observability: /metrics shows venues, events, rejections, subscribers, REST latency and rate-limit
headroom; /healthz and /readyz answer for service managers; JSON log lines."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import trio

from actors.config import MetricsConfig
from actors.handle import open_router_with
from actors.journal import Journal
from actors.risk import RiskLimits
from algotrendy.control import ControlStartError
from algotrendy.metrics import DaemonMetrics, JsonLogFormatter, bind_metrics, serve_metrics
from brokers.base import BrokerState, broker_actor
from brokers.ratelimit import RateLimiter, WindowRule
from brokers.rest import PreparedRequest, RestChannel
from protocol import errors as e
from protocol.model import utc_now
from tests.support.fake_broker import FakeBroker, FakeVenue


async def get(port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{port}{path}")


def sample(text: str, name: str) -> float:
    """The value of the one sample line starting with ``name`` (labels included)."""
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.rsplit(" ", 1)[1])


async def test_metrics_health_and_readiness(tmp_path: Path) -> None:
    market = FakeVenue()
    actor = broker_actor(lambda: FakeBroker(market), BrokerState(venue="fake"))
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.snapshot(["fake"], utc_now())
    endpoint = await bind_metrics(MetricsConfig(port=0))
    with pytest.raises(ControlStartError, match=f"metrics cannot listen on 127.0.0.1:{endpoint.port}"):
        await bind_metrics(MetricsConfig(port=endpoint.port))
    async with open_router_with({"fake": actor}, seed=1, journal=journal,
                                risk=RiskLimits(max_order_notional=Decimal(50))) as router, \
            trio.open_nursery() as nursery:
        metrics = DaemonMetrics(router, journal=journal)
        await nursery.start(serve_metrics, metrics, endpoint)
        assert (await get(endpoint.port, "/readyz")).status_code in (200, 503)
        await router.wait_connected("fake")
        ready = await get(endpoint.port, "/readyz")
        assert (ready.status_code, ready.text) == (200, "ready\n")
        with pytest.raises(e.RiskRejected):
            await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="1", price="100")
        async with router.subscribe(kinds=["order"]) as orders:
            await router.place_order(venue="fake", symbol="BTC/USDT", side="buy", quantity="0.1", price="100")
            with trio.fail_after(5):
                await orders.get()  # recorded and routed
        # A venue client's REST request, as every venue's goes through the channel.
        limiter = RateLimiter("fake", [WindowRule("weight-1m", 60, 100)])
        channel = RestChannel("fake", "http://venue.test", limiter, lambda *_: e.BrokerError("no"))
        channel._transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": 1}))  # type: ignore[arg-type]
        await channel.send(PreparedRequest("GET", "/ping"), dict, weight=10)
        text = (await get(endpoint.port, "/metrics")).text
        assert sample(text, 'algotrendy_venue_up{venue="fake"}') == 1
        assert sample(text, 'algotrendy_venue_state{state="connected",venue="fake"}') == 1
        assert sample(text, 'algotrendy_orders_rejected_total{reason="risk:max_order_notional",venue="fake"}') == 1
        assert sample(text, 'algotrendy_events_total{kind="status"}') >= 2
        assert sample(text, 'algotrendy_events_total{kind="order"}') >= 1
        assert sample(text, "algotrendy_subscribers") >= 1 and "algotrendy_subscriber_queue_depth_max" in text
        assert sample(text, 'algotrendy_rest_request_seconds_count{method="GET",outcome="ok",venue="fake"}') == 1
        assert sample(text, 'algotrendy_rate_limit_headroom_ratio{venue="fake",window="weight-1m"}') == \
            pytest.approx(1 - 10 / 90)
        assert sample(text, 'algotrendy_venue_connect_seconds_count{venue="fake"}') == 1
        assert sample(text, "algotrendy_kill_switch_engaged") == 0
        assert sample(text, "algotrendy_journal_write_errors_total") == 0
        assert (await get(endpoint.port, "/healthz")).text == "ok\n"
        assert (await get(endpoint.port, "/nope")).status_code == 404
        # The venue goes down: not ready, and says why.
        market.up = False
        market.cut_streams()
        with trio.fail_after(10):
            while router.status("fake").state.value == "connected":  # type: ignore[union-attr]
                await router.router.venues["fake"].changed.wait()
        down = await get(endpoint.port, "/readyz")
        assert down.status_code == 503 and down.text.startswith("venue fake ")
        # Garbage and silence are answered or dropped, and the server goes on.
        async with await trio.open_tcp_stream("127.0.0.1", endpoint.port) as raw:
            await raw.send_all(b"\x00\x01 nonsense\r\n\r\n")
            assert (await raw.receive_some(100)).startswith(b"HTTP/1.1 400")
        silent = await trio.open_tcp_stream("127.0.0.1", endpoint.port)
        assert (await get(endpoint.port, "/healthz")).status_code == 200
        await silent.aclose()
        nursery.cancel_scope.cancel()
    journal.close()


def test_json_log_lines() -> None:
    record = logging.LogRecord("algotrendy.control", logging.WARNING, __file__, 1, "session %d ended", (7,), None)
    line = json.loads(JsonLogFormatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "algotrendy.control"
    assert line["message"] == "session 7 ended" and line["time"].endswith("+00:00")
