"""Bybit V5 request signing (HMAC-SHA256) and the private-websocket auth message.

REST: sign ``timestamp + api_key + recv_window + payload`` where the payload is the exact query
string for GET and the exact JSON body for POST; send it hex-encoded in ``X-BAPI-SIGN`` beside
``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW`` and ``X-BAPI-SIGN-TYPE: 2``.
Websocket: ``{"op": "auth", "args": [api_key, expires, HMAC("GET/realtime" + expires)]}``.
"""

from __future__ import annotations

import hashlib
import hmac

from protocol.credentials import Credentials


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def rest_headers(credentials: Credentials, timestamp_ms: int, recv_window_ms: int, payload: str) -> dict[str, str]:
    """Headers for a signed V5 request; ``payload`` is the query string (GET) or JSON body (POST)."""
    signature = sign(credentials.api_secret.reveal(),
                     f"{timestamp_ms}{credentials.api_key}{recv_window_ms}{payload}")
    return {
        "X-BAPI-API-KEY": credentials.api_key,
        "X-BAPI-TIMESTAMP": str(timestamp_ms),
        "X-BAPI-RECV-WINDOW": str(recv_window_ms),
        "X-BAPI-SIGN": signature,
        "X-BAPI-SIGN-TYPE": "2",
    }


def ws_auth_message(credentials: Credentials, expires_ms: int) -> dict[str, object]:
    """The private stream's auth op; ``expires_ms`` must lie in the (near) future."""
    signature = sign(credentials.api_secret.reveal(), f"GET/realtime{expires_ms}")
    return {"op": "auth", "args": [credentials.api_key, expires_ms, signature]}
