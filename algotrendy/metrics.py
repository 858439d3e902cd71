"""Observability: Prometheus ``/metrics``, ``/healthz`` and ``/readyz`` over plain HTTP, on the trio side.

Most figures are read from the running parts when Prometheus scrapes (the router's counters, the
supervisors' restarts, the subscribers' queues, the control API, the journal), so they cost nothing
between scrapes. Two are observed as they happen: REST latency (a hook in `brokers.rest`, timed per
request, rate-limit waits excluded, with each window's headroom taken at the same moment) and the
time a venue takes from CONNECTING to CONNECTED (connect, streams and reconciliation; from the status
events).

``/healthz`` answers while the daemon's event loop does (liveness). ``/readyz`` answers 200 only when
every venue is connected, the journal's last write succeeded and the control API takes commands;
otherwise 503 with the reasons, one per line (a load balancer or systemd-style watchdog reads it).

The server binds loopback by default (no authentication: put a proxy in front to expose it), reads at
most 8 KiB of request within 5 s, answers and closes; one connection's failure ends only it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import attrs
import trio
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from actors.config import MetricsConfig
from actors.handle import RouterHandle
from actors.journal import Journal
from actors.router import EventSubscriber
from algotrendy.control import ControlServer, ControlStartError
from brokers import rest
from protocol import messages as m

log = logging.getLogger(__name__)

REQUEST_LIMIT = 8192
REQUEST_TIMEOUT = 5.0


@attrs.define(eq=False)
class DaemonMetrics(Collector):
    """The daemon's metrics registry; `install` hooks the REST observer, `uninstall` removes it."""

    router: RouterHandle
    control: ControlServer | None = None
    journal: Journal | None = None
    registry: CollectorRegistry = attrs.field(factory=CollectorRegistry)
    headroom: dict[tuple[str, str], float] = attrs.field(factory=dict)
    statuses: EventSubscriber | None = None  # made at once, so the first connection is timed too
    rest_seconds: Histogram = attrs.field(init=False)
    connect_seconds: Histogram = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.rest_seconds = Histogram(
            "algotrendy_rest_request_seconds", "REST round trip to the venue (rate-limit waits excluded)",
            ["venue", "method", "outcome"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.connect_seconds = Histogram(
            "algotrendy_venue_connect_seconds", "CONNECTING to CONNECTED: connect, streams and reconciliation",
            ["venue"], registry=self.registry, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.registry.register(self)
        self.statuses = self.router.router.subscribe(kinds=[m.EventKind.STATUS])

    def install(self) -> None:
        rest.OBSERVERS.append(self.observe_rest)

    def uninstall(self) -> None:
        if self.observe_rest in rest.OBSERVERS:
            rest.OBSERVERS.remove(self.observe_rest)

    def observe_rest(self, channel: rest.RestChannel, method: str, outcome: str, seconds: float) -> None:
        if channel.venue not in self.router.router.venues:
            return  # another router in this process (tests)
        self.rest_seconds.labels(channel.venue, method, outcome).observe(seconds)
        limiter = channel.limiter
        for rule in limiter.rules:
            allowed = int(rule.limit * limiter.safety)
            used = limiter.usage().get(rule.name, 0)
            self.headroom[(channel.venue, rule.name)] = max(allowed - used, 0) / allowed if allowed else 0.0

    async def follow_connects(self) -> None:
        """Time each venue from CONNECTING to CONNECTED."""
        began: dict[str, float] = {}
        assert self.statuses is not None
        try:
            async for status in self.statuses:
                assert isinstance(status, m.BrokerStatus)
                if status.state is m.ConnectionState.CONNECTING:
                    began[status.venue] = time.perf_counter()
                elif status.state is m.ConnectionState.CONNECTED and status.venue in began:
                    self.connect_seconds.labels(status.venue).observe(time.perf_counter() - began.pop(status.venue))
        finally:
            self.router.router.unsubscribe(self.statuses)

    # ------------------------------------------------------------------ read at scrape time
    def collect(self) -> Iterator[Metric]:
        router = self.router.router
        up = GaugeMetricFamily("algotrendy_venue_up", "1 while the venue is CONNECTED", labels=["venue"])
        state = GaugeMetricFamily("algotrendy_venue_state", "the venue's connection state (1 = current)",
                                  labels=["venue", "state"])
        degraded = GaugeMetricFamily("algotrendy_venue_market_data_degraded",
                                     "1 while a public socket is down and re-opening", labels=["venue"])
        restarts = CounterMetricFamily("algotrendy_venue_restarts", "venue actor restarts (reconnects)",
                                       labels=["venue"])
        for name, venue in router.venues.items():
            current = venue.status.state if venue.status else m.ConnectionState.CONNECTING
            up.add_metric([name], 1.0 if current is m.ConnectionState.CONNECTED else 0.0)
            for option in m.ConnectionState:
                state.add_metric([name, option.value], 1.0 if option is current else 0.0)
            degraded.add_metric([name], 1.0 if venue.status and venue.status.market_data_degraded else 0.0)
            restarts.add_metric([name], venue.stats.restarts)
        yield from (up, state, degraded, restarts)
        events = CounterMetricFamily("algotrendy_events", "events routed to subscribers, by kind", labels=["kind"])
        for kind, count in router.events_by_kind.items():
            events.add_metric([kind.value], count)
        yield events
        rejected = CounterMetricFamily("algotrendy_orders_rejected", "orders refused, by venue and reason "
                                       "(risk:<rule> before sending, else the venue's error kind)",
                                       labels=["venue", "reason"])
        for (venue_name, reason), count in router.rejected.items():
            rejected.add_metric([venue_name, reason], count)
        yield rejected
        depths = [s.pending() for s in router.subscribers]
        yield GaugeMetricFamily("algotrendy_subscribers", "event subscribers", value=len(depths))
        yield GaugeMetricFamily("algotrendy_subscriber_queue_depth_max", "the fullest subscriber's queue",
                                value=max(depths, default=0))
        yield GaugeMetricFamily("algotrendy_subscriber_queue_depth_total", "events queued across subscribers",
                                value=sum(depths))
        yield CounterMetricFamily("algotrendy_subscriber_dropped", "market data dropped for slow subscribers",
                                  value=sum(s.dropped for s in router.subscribers))
        headroom = GaugeMetricFamily("algotrendy_rate_limit_headroom_ratio",
                                     "share of each rate-limit window still free (at the last request)",
                                     labels=["venue", "window"])
        for (venue_name, window), ratio in self.headroom.items():
            headroom.add_metric([venue_name, window], ratio)
        yield headroom
        yield GaugeMetricFamily("algotrendy_kill_switch_engaged", "1 while new orders are blocked",
                                value=1.0 if router.risk.kill_switch_engaged else 0.0)
        if self.control is not None:
            yield GaugeMetricFamily("algotrendy_control_sessions", "authenticated control API sessions",
                                    value=self.control.sessions)
            yield GaugeMetricFamily("algotrendy_control_connections", "open control API connections",
                                    value=self.control.connections)
        if self.journal is not None:
            yield CounterMetricFamily("algotrendy_journal_write_errors", "journal writes that failed",
                                      value=self.journal.write_errors)

    # ------------------------------------------------------------------ health
    def not_ready(self) -> list[str]:
        """Why the daemon is not ready (empty: ready)."""
        reasons = []
        for name, venue in self.router.router.venues.items():
            if venue.status is None or venue.status.state is not m.ConnectionState.CONNECTED:
                state = venue.status.state.value if venue.status else "starting"
                reasons.append(f"venue {name} {state}" + (f": {venue.status.reason}" if venue.status
                                                          and venue.status.reason else ""))
        if self.journal is not None and self.journal.last_error is not None:
            reasons.append(f"journal failing: {self.journal.last_error}")
        if self.control is not None and not self.control.accepting_commands:
            reasons.append("shutting down")
        return reasons


# ============================================================================ the HTTP side


@attrs.define(eq=False)
class MetricsEndpoint:
    config: MetricsConfig
    listeners: list[trio.SocketListener]
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}/metrics"


async def bind_metrics(config: MetricsConfig) -> MetricsEndpoint:
    """Bind before anything starts; a port in use is one clear `ControlStartError` line."""
    try:
        listeners = await trio.open_tcp_listeners(config.port, host=config.host)
    except OSError as error:
        raise ControlStartError(f"metrics cannot listen on {config.host}:{config.port}: "
                                f"{error.strerror or error} (set [metrics] port, or enabled = false)") from None
    return MetricsEndpoint(config, listeners, listeners[0].socket.getsockname()[1])


async def serve_metrics(metrics: DaemonMetrics, endpoint: MetricsEndpoint, *,
                        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    metrics.install()
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(metrics.follow_connects)
            await nursery.start(trio.serve_listeners, lambda stream: _answer(metrics, stream), endpoint.listeners)
            task_status.started()
    finally:
        metrics.uninstall()


async def _answer(metrics: DaemonMetrics, stream: trio.SocketStream) -> None:
    try:
        with trio.move_on_after(REQUEST_TIMEOUT):
            head = b""
            while b"\r\n\r\n" not in head and len(head) < REQUEST_LIMIT:
                chunk = await stream.receive_some(REQUEST_LIMIT)
                if not chunk:
                    break
                head += chunk
            status, content_type, body = _route(metrics, head)
            await stream.send_all(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: "
                                  f"{len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    except* (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as group:
        log.debug("metrics client went away: %s", group.exceptions[0])
    except* Exception as group:
        log.error("metrics request failed", exc_info=group)
    finally:
        await trio.aclose_forcefully(stream)


def _route(metrics: DaemonMetrics, head: bytes) -> tuple[str, str, bytes]:
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return "400 Bad Request", "text/plain", b"bad request\n"
    method, target = parts[0], parts[1].split("?", 1)[0]
    if method not in ("GET", "HEAD"):
        return "405 Method Not Allowed", "text/plain", b"GET only\n"
    match target:
        case "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(metrics.registry)
        case "/healthz":
            return "200 OK", "text/plain", b"ok\n"
        case "/readyz":
            reasons = metrics.not_ready()
            if reasons:
                return "503 Service Unavailable", "text/plain", ("\n".join(reasons) + "\n").encode()
            return "200 OK", "text/plain", b"ready\n"
    return "404 Not Found", "text/plain", b"not found: /metrics, /healthz, /readyz\n"


# ============================================================================ JSON logs


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
