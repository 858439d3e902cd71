"""OKX V5 request signing (HMAC-SHA256, base64) and the private-websocket login message.

REST: ``OK-ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)), where
``timestamp`` is the ISO-8601 UTC time with milliseconds (``2020-12-08T09:08:57.715Z``, the same string
as ``OK-ACCESS-TIMESTAMP``), ``requestPath`` includes the query string of a GET (``?ccy=BTC``) and
``body`` is the exact JSON text of a POST ("" for a GET). Headers: ``OK-ACCESS-KEY``, ``-SIGN``,
``-TIMESTAMP``, ``-PASSPHRASE``; demo trading adds ``x-simulated-trading: 1``. Callers therefore sign
the very bytes they put on the wire.

Websocket: ``{"op": "login", "args": [{apiKey, passphrase, timestamp, sign}]}`` with ``timestamp`` in
epoch *seconds* and ``sign`` = base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify")).

The secret stays a `Secret`, revealed only inside `sign`. The passphrase is sent as it is (OKX wants it
in a header and in the login op), so it is revealed only where those are built.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from brokers.okx.constants import (
    HEADER_EXP_TIME,
    HEADER_KEY,
    HEADER_PASSPHRASE,
    HEADER_SIGN,
    HEADER_SIMULATED,
    HEADER_TIMESTAMP,
    VENUE,
    WS_LOGIN_PATH,
)
from protocol.credentials import Credentials, Secret
from protocol.errors import AuthenticationError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_timestamp(epoch_ms: int) -> str:
    """Epoch milliseconds -> ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC, exactly three fractional digits)."""
    when = _EPOCH + timedelta(milliseconds=epoch_ms)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def prehash(timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """What OKX signs: the four parts concatenated, the method in upper case."""
    return f"{timestamp}{method.upper()}{request_path}{body}"


def sign(secret: Secret, message: str) -> str:
    """base64(HMAC-SHA256(secret, message))."""
    digest = hmac.new(secret.reveal().encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _passphrase(credentials: Credentials) -> str:
    if credentials.passphrase is None:
        raise AuthenticationError("OKX keys need the passphrase chosen when the key was created "
                                  "(OKX_API_PASSPHRASE)", venue=VENUE)
    return credentials.passphrase.reveal()


def public_headers(*, demo: bool) -> dict[str, str]:
    """Headers of an unsigned (market data) request; demo trading serves its own market data."""
    return {HEADER_SIMULATED: "1"} if demo else {}


def rest_headers(credentials: Credentials, timestamp_ms: int, method: str, request_path: str,
                 body: str | bytes = "", *, demo: bool = False, exp_time_ms: int | None = None) -> dict[str, str]:
    """Headers of a signed V5 request.

    ``request_path`` is the path plus ``?query`` exactly as sent; ``body`` the exact JSON sent ("" for GET).
    ``exp_time_ms`` sets OKX's ``expTime`` deadline (place/amend only; see constants.HEADER_EXP_TIME). Add
    ``Content-Type: application/json`` for POST yourself; it is not signed.
    """
    text = body.decode() if isinstance(body, bytes) else body
    timestamp = iso_timestamp(timestamp_ms)
    headers = {
        HEADER_KEY: credentials.api_key,
        HEADER_SIGN: sign(credentials.api_secret, prehash(timestamp, method, request_path, text)),
        HEADER_TIMESTAMP: timestamp,
        HEADER_PASSPHRASE: _passphrase(credentials),
    }
    if demo:
        headers[HEADER_SIMULATED] = "1"
    if exp_time_ms is not None:
        headers[HEADER_EXP_TIME] = str(exp_time_ms)
    return headers


def ws_login_sign(secret: Secret, timestamp_s: int) -> str:
    return sign(secret, prehash(str(timestamp_s), "GET", WS_LOGIN_PATH))


def ws_login_message(credentials: Credentials, timestamp_s: int) -> dict[str, object]:
    """The private (and business) socket's ``login`` op; OKX refuses it 30 s after ``timestamp_s``."""
    return {"op": "login", "args": [{
        "apiKey": credentials.api_key,
        "passphrase": _passphrase(credentials),
        "timestamp": str(timestamp_s),
        "sign": ws_login_sign(credentials.api_secret, timestamp_s),
    }]}
