"""The websocket hub: all-or-nothing subscriptions refused in the dialect's words, publishing only to
subscribers, private events only to the account's own streams."""

from __future__ import annotations

import trio

from emulators.engine.faults import Faults
from emulators.engine.hub import Hub
from emulators.engine.server import WsConnection


def received(conn: WsConnection) -> list[str]:
    out = []
    while True:
        try:
            out.append(conn.outgoing_rx.receive_nowait())
        except trio.WouldBlock:
            return out


def refuse_bogus(conn: WsConnection, topic: str) -> str | None:
    return f"unknown topic {topic}" if topic.startswith("bogus") else None


def test_subscribe_publish_and_push() -> None:
    faults = Faults()
    hub = Hub()
    a, b = WsConnection.open("/a", "", "public", faults), WsConnection.open("/b", "", "public", faults)
    mine, theirs = WsConnection.open("/p", "", "private", faults), WsConnection.open("/p", "", "private", faults)
    mine.account, theirs.account = "me", "them"
    for conn in (a, b, mine, theirs):
        hub.register(conn)
    assert hub.subscribe(a, ["t1", "bogus.1", "t2"], refuse_bogus) == "unknown topic bogus.1"
    assert a.topics == set()  # nothing of a refused request is subscribed
    assert hub.subscribe(a, ["t1", "t2"], refuse_bogus) is None and hub.subscribe(b, ["t2"], refuse_bogus) is None
    hub.publish("t1", lambda conn: f"t1 for {conn.path}")
    hub.publish("t2", lambda conn: "t2")
    assert received(a) == ["t1 for /a", "t2"] and received(b) == ["t2"]
    assert hub.matching(lambda conn: conn.path == "/a", lambda topic: topic.endswith("2")) == [(a, "t2")]
    hub.unsubscribe(a, ["t2"])
    hub.publish("t2", lambda conn: "again")
    assert received(a) == [] and received(b) == ["again"]
    hub.push("me", "private")
    assert received(mine) == ["private"] and received(theirs) == []
    hub.unregister(b)
    hub.publish("t2", lambda conn: "gone")
    assert received(b) == []
