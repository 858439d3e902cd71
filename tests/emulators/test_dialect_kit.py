"""emulators/engine/dialect.py: what every dialect inherits: websockets handed to its ws module, symbol index."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, ClassVar

import attrs
import trio

from emulators.engine.accounts import KeyShape
from emulators.engine.dialect import DialectBase, WsHandlers
from emulators.engine.faults import StreamKind
from emulators.engine.matching import Exchange

calls: list[tuple[str, Any]] = []


def _stream_kind(path: str) -> StreamKind | None:
    return "public" if path == "/ws/public" else None


def _on_open(dialect: Any, conn: Any) -> None:
    calls.append(("open", (dialect, conn)))


def _on_message(dialect: Any, conn: Any, text: str) -> None:
    calls.append(("message", (dialect, conn, text)))


_WS: WsHandlers = SimpleNamespace(stream_kind=_stream_kind, on_open=_on_open,  # type: ignore[assignment]
                                  on_message=_on_message)


@attrs.define(eq=False)
class _Dialect(DialectBase[list[str]]):
    key_shape = KeyShape(18, 36)
    websockets: ClassVar[WsHandlers] = _WS

    def new_account_state(self) -> list[str]:
        return []


def test_websockets_go_to_the_dialect_module_with_the_dialect() -> None:
    dialect, conn = _Dialect(Exchange(seed=1)), object()
    calls.clear()
    assert dialect.stream_kind("/ws/public") == "public" and dialect.stream_kind("/ws/other") is None

    async def main() -> None:
        await dialect.on_ws_open(conn)  # type: ignore[arg-type]
        await dialect.on_ws_message(conn, "ping")  # type: ignore[arg-type]

    trio.run(main)
    assert calls == [("open", (dialect, conn)), ("message", (dialect, conn, "ping"))]


def test_symbol_index_is_the_engine_order() -> None:
    exchange = Exchange(seed=1)
    dialect = _Dialect(exchange)
    symbols = list(exchange.symbols)
    assert [dialect.symbol_index(symbol) for symbol in symbols] == list(range(len(symbols)))
