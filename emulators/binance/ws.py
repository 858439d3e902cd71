"""Binance's websockets: market streams (raw ``/ws/<stream>``, combined ``/stream?streams=...``, live
SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS) and the user data stream on ``/ws/<listenKey>``.

Stream names are ``<symbol>@trade``, ``@aggTrade``, ``@bookTicker``, ``@ticker``, ``@depth``,
``@depth@100ms``, ``@depth<5|10|20>[@100ms]`` and ``@kline_1m``; the engine's events are published to
them here, each message printed by `render`. Combined streams wrap a payload as ``{"stream", "data"}``.
Binance accepts any name on a raw stream and any SUBSCRIBE (it then sends nothing for an unknown one):
`accept_stream` is the one place that decides, so refusing unknown names later is one change.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import attrs

from emulators.binance import render
from emulators.engine import EFill, EOrder, PublicTrade, SymbolState, wall_ms
from emulators.engine.faults import StreamKind
from emulators.engine.model import Levels
from emulators.engine.server import WsConnection

if TYPE_CHECKING:
    from emulators.binance.dialect import BinanceDialect


@attrs.define
class ListenKeys:
    """The user data stream's listen keys: key -> (engine account, expiry in wall-clock ms)."""

    keys: dict[str, tuple[str, int]] = attrs.field(factory=dict)

    def open(self, account: str, expires_ms: int) -> str:
        """The account's live key (extended), as Binance returns it again, or a new one."""
        for listen_key, (owner, _) in self.keys.items():
            if owner == account:
                self.keys[listen_key] = (owner, expires_ms)
                return listen_key
        listen_key = secrets.token_urlsafe(45)[:60]
        self.keys[listen_key] = (account, expires_ms)
        return listen_key

    def extend(self, listen_key: str, expires_ms: int) -> bool:
        if listen_key not in self.keys:
            return False
        self.keys[listen_key] = (self.keys[listen_key][0], expires_ms)
        return True

    def close(self, listen_key: str) -> None:
        self.keys.pop(listen_key, None)

    def owner(self, listen_key: str) -> str | None:
        entry = self.keys.get(listen_key)
        return entry[0] if entry is not None else None

    def expire(self, now_ms: int) -> list[str]:
        """Forget the keys past their expiry; return them."""
        gone = [listen_key for listen_key, (_, expires) in self.keys.items() if expires < now_ms]
        for listen_key in gone:
            del self.keys[listen_key]
        return gone


# ---------------------------------------------------------------------- connections
def stream_kind(d: BinanceDialect, path: str) -> StreamKind | None:
    if path == "/stream" or path == "/ws" or (path.startswith("/ws/") and "@" in path):
        return "public"
    if path.startswith("/ws/") and d.listen_keys.owner(path[4:]) is not None:
        return "private"
    if path.startswith("/ws/") and "/" not in path[4:]:
        return "public"  # Binance accepts /ws/<anything> and simply sends nothing for unknown streams
    return None


def on_open(d: BinanceDialect, conn: WsConnection) -> None:
    conn.state["combined"] = conn.path == "/stream"
    if conn.kind == "private":
        conn.state["listen_key"] = conn.path[4:]
        conn.account = d.listen_keys.owner(conn.path[4:])
    elif conn.path == "/stream":
        names = parse_qs(conn.query_string).get("streams", [""])[0]
        conn.topics.update(n for n in names.split("/") if n)
    elif conn.path.startswith("/ws/"):
        conn.topics.add(conn.path[4:])
    d.hub.register(conn)


def accept_stream(conn: WsConnection, name: str) -> str | None:
    """Every stream name is accepted, as Binance does (it just never sends on an unknown one)."""
    return None


def on_message(d: BinanceDialect, conn: WsConnection, text: str) -> None:
    try:
        request = json.loads(text)
        method, ident = request.get("method"), request.get("id")
    except (ValueError, AttributeError):
        conn.send(json.dumps({"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}}))
        return
    params = request.get("params") or []
    match method:
        case "SUBSCRIBE":
            d.hub.subscribe(conn, params, accept_stream)
            conn.send(json.dumps({"result": None, "id": ident}))
        case "UNSUBSCRIBE":
            d.hub.unsubscribe(conn, params)
            conn.send(json.dumps({"result": None, "id": ident}))
        case "LIST_SUBSCRIPTIONS":
            conn.send(json.dumps({"result": sorted(conn.topics), "id": ident}))
        case _:
            conn.send(json.dumps({"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"},
                                  "id": ident}))


# ---------------------------------------------------------------------- engine events -> streams
def publish(d: BinanceDialect, stream: str, payload: dict[str, Any]) -> None:
    """Send ``payload`` on ``stream``: raw on ``/ws`` connections, wrapped on combined ones (each printed once)."""
    frames: dict[bool, str] = {}

    def frame(conn: WsConnection) -> str:
        combined = bool(conn.state.get("combined"))
        if combined not in frames:
            frames[combined] = json.dumps({"stream": stream, "data": payload} if combined else payload)
        return frames[combined]

    d.hub.publish(stream, frame)


def on_trade(d: BinanceDialect, trade: PublicTrade) -> None:
    name, now = trade.symbol.lower(), wall_ms()
    publish(d, f"{name}@trade", render.trade_event(trade, now))
    publish(d, f"{name}@aggTrade", render.agg_trade_event(trade, now))


def on_tick(d: BinanceDialect, state: SymbolState, bids: Levels, asks: Levels) -> None:
    name, now = state.spec.symbol.lower(), wall_ms()
    publish(d, f"{name}@bookTicker", render.book_ticker_event(state))
    publish(d, f"{name}@ticker", render.ticker_event(state, now))
    diff = render.depth_update(state, bids, asks, now)
    publish(d, f"{name}@depth", diff)
    publish(d, f"{name}@depth@100ms", diff)
    for size in (5, 10, 20):
        partial = render.partial_depth(state, size)
        publish(d, f"{name}@depth{size}", partial)
        publish(d, f"{name}@depth{size}@100ms", partial)
    publish(d, f"{name}@kline_1m", render.kline_event(state, now))
    expire_listen_keys(d)


def expire_listen_keys(d: BinanceDialect) -> None:
    now = wall_ms()
    for listen_key in d.listen_keys.expire(now):
        for conn in list(d.hub.connections):
            if conn.state.get("listen_key") == listen_key:
                conn.send(json.dumps(render.listen_key_expired(listen_key, now)))


def on_order(d: BinanceDialect, order: EOrder, fill: EFill | None, execution: str) -> None:
    d.hub.push(order.account, json.dumps(render.execution_report(order, fill, execution, wall_ms())))


def on_balances(d: BinanceDialect, account: str, snapshot: dict[str, tuple[Decimal, Decimal]]) -> None:
    d.hub.push(account, json.dumps(render.account_position(snapshot, wall_ms())))
