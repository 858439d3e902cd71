"""Binance spot request signing (HMAC-SHA256) and the API-key header.

Signing: HMAC-SHA256 of the exact query string (with ``recvWindow`` and ``timestamp``) under the API
secret, hex, appended as ``signature`` last; the key travels in ``X-MBX-APIKEY``. The user-data
WebSocket API (``/ws-api/v3``) signs differently: every parameter but ``signature``, ``apiKey`` included,
sorted by name and joined as ``name=value&...`` (`ws_api_params`); the user data stream is subscribed that
way (``userDataStream.subscribe.signature``), since ``session.logon`` takes Ed25519 keys only.

The secret stays a `Secret`; it is revealed only inside `signed_query`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

from brokers.binance.constants import HEADER_API_KEY
from protocol.credentials import Credentials


def sign(secret: str, payload: str) -> str:
    """HMAC-SHA256 of ``payload`` under ``secret``, lower-case hex (Binance's ``signature``)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def key_header(credentials: Credentials) -> dict[str, str]:
    return {HEADER_API_KEY: credentials.api_key}


def signed_query(credentials: Credentials, params: Mapping[str, str | int], *, timestamp_ms: int,
                 recv_window_ms: int) -> str:
    """The query string of a SIGNED request: the parameters, ``recvWindow``, ``timestamp``, then
    ``signature`` over exactly those bytes."""
    query = urlencode({**params, "recvWindow": recv_window_ms, "timestamp": timestamp_ms})
    return f"{query}&signature={sign(credentials.api_secret.reveal(), query)}"


def ws_api_params(credentials: Credentials, params: Mapping[str, str | int], *, timestamp_ms: int,
                  recv_window_ms: int) -> dict[str, str | int]:
    """The ``params`` of a signed WebSocket API request: ``apiKey``, ``timestamp`` and ``recvWindow`` added,
    ``signature`` over the sorted ``name=value`` pairs (web-socket-api.md "SIGNED request security")."""
    signed: dict[str, str | int] = {**params, "apiKey": credentials.api_key, "recvWindow": recv_window_ms,
                                    "timestamp": timestamp_ms}
    payload = "&".join(f"{name}={signed[name]}" for name in sorted(signed))
    return {**signed, "signature": sign(credentials.api_secret.reveal(), payload)}
