"""The daemon's control API: a websocket on 127.0.0.1 speaking the protocol messages as JSON.

An out-of-process strategy connects, sends ``Hello{token}``, then any protocol command (it gets the
reply with the same id) or ``Watch{filters}`` (it gets matching events). The token comes from the
environment variable named in the config; without one, a random token is written to a file readable
only by this user, never printed.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import msgspec
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, WebSocketRequest, serve_websocket

from actors.config import ControlConfig
from actors.handle import RouterHandle
from protocol import messages as m
from protocol.errors import BrokerError, ProtocolViolation

TOKEN_FILE = Path.home() / ".algotrendy" / "control.token"


def control_token(config: ControlConfig, note: Callable[[str], None]) -> str:
    token = os.environ.get(config.token_env)
    if token:
        return token
    token = secrets.token_urlsafe(24)
    TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    TOKEN_FILE.write_text(token, encoding="utf-8")
    TOKEN_FILE.chmod(0o600)
    note(f"control API token written to {TOKEN_FILE} (set {config.token_env} to choose one)")
    return token


async def serve_control_api(router: RouterHandle, config: ControlConfig, note: Callable[[str], None], *,
                            token: str | None = None,
                            task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
    """Serve until cancelled; ``task_status`` reports the bound port."""
    secret = token or control_token(config, note)

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        try:
            await _session(ws, router, secret)
        except ConnectionClosed:
            pass

    try:
        async with trio.open_nursery() as nursery:
            server = await nursery.start(serve_websocket, handler, config.host, config.port, None)
            port = server.port
            note(f"control API on ws://{config.host}:{port}")
            task_status.started(port)
    except OSError as error:
        note(f"control API not started on {config.host}:{config.port}: {error}")


async def _session(ws: WebSocketConnection, router: RouterHandle, token: str) -> None:
    with trio.move_on_after(10):
        first = await ws.get_message()
    try:
        hello = m.decode_control(first)
    except (msgspec.DecodeError, NameError):
        hello = None
    if not isinstance(hello, m.Hello) or not hmac.compare_digest(hello.token.encode(), token.encode()):
        await ws.aclose(code=4401, reason="unauthorized")
        return
    await ws.send_message(m.encode(m.Welcome(venues=router.venues())).decode())
    async with trio.open_nursery() as nursery:
        while True:
            raw = await ws.get_message()
            try:
                message = m.decode_control(raw)
            except msgspec.DecodeError as error:
                err = ProtocolViolation(f"cannot decode control message: {error}", retryable=False)
                await ws.send_message(m.encode(m.ErrorReply(id="", error=err.to_info())).decode())
                continue
            if isinstance(message, m.Watch):
                nursery.start_soon(_watch, ws, router, message)
            elif isinstance(message, m.Hello):
                continue
            else:
                nursery.start_soon(_answer, ws, router, message)


async def _answer(ws: WebSocketConnection, router: RouterHandle, command: m.CommandMsg) -> None:
    try:
        reply = await router.router.request(command)
    except BrokerError as error:
        reply = m.ErrorReply(id=command.id, error=error.to_info())
    await ws.send_message(m.encode(reply).decode())


async def _watch(ws: WebSocketConnection, router: RouterHandle, watch: m.Watch) -> None:
    async with router.subscribe(venues=watch.venues, symbols=watch.symbols, kinds=watch.kinds) as events:
        async for event in events:
            await ws.send_message(m.encode(event).decode())
