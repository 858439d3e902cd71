"""A dialect's live websockets: who is connected, what each subscribed to, whose private events each carries.

The dialect registers a connection when it opens and forgets it when it closes; subscriptions are kept on
the connection (`WsConnection.topics`), private streams carry the engine account they authenticated as
(`WsConnection.account`). Publishing goes to the public connections subscribed to a topic; private events
go to every private connection of one account. Topics the venue does not serve are refused through the
dialect's own check, in its words, before anything is subscribed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs

from emulators.engine.server import WsConnection

TopicCheck = Callable[[WsConnection, str], str | None]  # a refusal in the venue's words, or None to accept


@attrs.define(eq=False)
class Hub:
    connections: set[WsConnection] = attrs.field(factory=set)

    def register(self, conn: WsConnection) -> None:
        self.connections.add(conn)

    def unregister(self, conn: WsConnection) -> None:
        self.connections.discard(conn)

    # ------------------------------------------------------------------ subscriptions
    def subscribe(self, conn: WsConnection, topics: Iterable[str], check: TopicCheck) -> str | None:
        """Subscribe ``conn`` to all of ``topics``, or to none: the first refusal ``check`` words is returned."""
        wanted = list(topics)
        for topic in wanted:
            refusal = check(conn, topic)
            if refusal is not None:
                return refusal
        conn.topics.update(wanted)
        return None

    @staticmethod
    def unsubscribe(conn: WsConnection, topics: Iterable[str]) -> None:
        conn.topics.difference_update(topics)

    # ------------------------------------------------------------------ publishing
    def subscribers(self, topic: str) -> list[WsConnection]:
        """The public connections subscribed to ``topic``."""
        return [conn for conn in list(self.connections) if conn.kind == "public" and topic in conn.topics]

    def publish(self, topic: str, render: Callable[[WsConnection], str]) -> None:
        """Send ``topic``'s message to its subscribers, each in its connection's framing."""
        for conn in self.subscribers(topic):
            conn.send(render(conn))

    def matching(self, serves: Callable[[WsConnection], bool],
                 wanted: Callable[[str], bool]) -> list[tuple[WsConnection, str]]:
        """(connection, topic) for every public connection ``serves`` accepts and every topic of it that
        ``wanted`` accepts: for venues whose topics carry parameters (depth, interval) in their names."""
        return [(conn, topic) for conn in list(self.connections) if conn.kind == "public" and serves(conn)
                for topic in conn.topics if wanted(topic)]

    def private(self, account: str) -> list[WsConnection]:
        """The private connections authenticated as ``account``."""
        return [conn for conn in list(self.connections) if conn.kind == "private" and conn.account == account]

    def push(self, account: str, text: str) -> None:
        """Send a private event to every private connection of ``account``."""
        for conn in self.private(account):
            conn.send(text)
