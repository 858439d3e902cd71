"""Bybit V5 request signing (HMAC-SHA256) and the private-websocket auth message.

REST: sign ``timestamp + api_key + recv_window + payload`` where the payload is the exact query
string for GET (Bybit does not require it sorted) and the exact raw JSON body for POST; send it
hex-encoded in ``X-BAPI-SIGN`` beside ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW``
and ``X-BAPI-SIGN-TYPE: 2``. Callers must therefore sign the very bytes they put on the wire.
Websocket: ``{"op": "auth", "args": [api_key, expires, HMAC("GET/realtime" + expires)]}``.

The secret stays a `Secret`; it is revealed only inside `sign`.
"""

from __future__ import annotations

import hashlib
import hmac

from brokers.bybit.constants import (
    DEFAULT_RECV_WINDOW_MS,
    HEADER_API_KEY,
    HEADER_RECV_WINDOW,
    HEADER_SIGN,
    HEADER_SIGN_TYPE,
    HEADER_TIMESTAMP,
    SIGN_TYPE_HMAC,
)
from protocol.credentials import Credentials, Secret


def sign(secret: Secret, message: str) -> str:
    """HMAC-SHA256 of ``message`` under the API secret, lower-case hex."""
    return hmac.new(secret.reveal().encode(), message.encode(), hashlib.sha256).hexdigest()


def rest_plain_text(timestamp_ms: int, api_key: str, recv_window_ms: int, payload: str) -> str:
    """What Bybit signs for REST: the four parts concatenated with no separator."""
    return f"{timestamp_ms}{api_key}{recv_window_ms}{payload}"


def rest_headers(credentials: Credentials, timestamp_ms: int, recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
                 payload: str | bytes = "") -> dict[str, str]:
    """Headers for a signed V5 request; ``payload`` is the query string (GET) or raw JSON body (POST).

    Add ``Content-Type: application/json`` for POST yourself; it is not part of the signature.
    """
    text = payload.decode() if isinstance(payload, bytes) else payload
    signature = sign(credentials.api_secret,
                     rest_plain_text(timestamp_ms, credentials.api_key, recv_window_ms, text))
    return {
        HEADER_API_KEY: credentials.api_key,
        HEADER_TIMESTAMP: str(timestamp_ms),
        HEADER_RECV_WINDOW: str(recv_window_ms),
        HEADER_SIGN: signature,
        HEADER_SIGN_TYPE: SIGN_TYPE_HMAC,
    }


def ws_auth_signature(secret: Secret, expires_ms: int) -> str:
    return sign(secret, f"GET/realtime{expires_ms}")


def ws_auth_message(credentials: Credentials, expires_ms: int) -> dict[str, object]:
    """The private stream's ``auth`` op; ``expires_ms`` must lie in the (near) future when Bybit reads it
    (see `constants.WS_AUTH_EXPIRES_AHEAD_MS`)."""
    return {"op": "auth",
            "args": [credentials.api_key, expires_ms, ws_auth_signature(credentials.api_secret, expires_ms)]}
