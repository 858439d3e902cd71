"""Kraken spot REST signing (``API-Sign``) and the private websocket's token subscription.

REST: every private call is a POST whose body carries ``nonce``; the signature is
``base64(HMAC-SHA512(base64decode(secret), URI path + SHA256(nonce + POST data)))`` where the URI path
is the part from ``/0/private`` and the POST data is the exact body sent (form-encoded here; Kraken
also accepts a JSON body, signed the same way over the JSON text). Headers: ``API-Key`` and
``API-Sign``. The nonce comes from `brokers.kraken.nonce` (per key, shared by processes).
Websocket v2: no signature on the socket; a token from ``GetWebSocketsToken`` (a signed REST call)
goes into every private subscribe (``params.token``).

The secret stays a `Secret`; it is revealed only inside `sign`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

from brokers.kraken.constants import (
    CONTENT_TYPE_FORM,
    HEADER_API_KEY,
    HEADER_API_SIGN,
    NONCE_MAX,
    PRIVATE_PREFIX,
    VENUE,
)
from protocol.credentials import Credentials, Secret
from protocol.errors import AuthenticationError

FormValue = str | int | bool


def _decoded_secret(secret: Secret) -> bytes:
    try:
        return base64.b64decode(secret.reveal(), validate=True)
    except (binascii.Error, ValueError):
        # Never echo the secret: say only what is wrong with it.
        raise AuthenticationError("the Kraken API secret is not valid base64 (copy the private key exactly)",
                                  venue=VENUE) from None


def sign(secret: Secret, uri_path: str, nonce: int | str, post_data: str) -> str:
    """``API-Sign`` for one request: ``post_data`` must be the exact body that is sent."""
    if not uri_path.startswith(PRIVATE_PREFIX):
        raise ValueError(f"only private paths are signed (from {PRIVATE_PREFIX!r}), got {uri_path!r}")
    digest = hashlib.sha256(f"{nonce}{post_data}".encode()).digest()
    mac = hmac.new(_decoded_secret(secret), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def _form_value(value: FormValue) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    return str(value)


def encode_form(nonce: int, params: Mapping[str, FormValue] | None = None) -> str:
    """The form body, ``nonce`` first and the other parameters in the caller's order."""
    if not 0 < nonce <= NONCE_MAX:
        raise ValueError(f"nonce {nonce} is not an unsigned 64-bit integer above 0")
    if params and "nonce" in params:
        raise ValueError("the nonce is added by the signer, not passed as a parameter")
    pairs = [("nonce", str(nonce))] + [(key, _form_value(value)) for key, value in (params or {}).items()]
    return urlencode(pairs)


def private_request(credentials: Credentials, uri_path: str, nonce: int,
                    params: Mapping[str, FormValue] | None = None) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a signed private POST; send exactly these bytes."""
    body = encode_form(nonce, params)
    headers = {
        HEADER_API_KEY: credentials.api_key,
        HEADER_API_SIGN: sign(credentials.api_secret, uri_path, nonce, body),
        "Content-Type": CONTENT_TYPE_FORM,
    }
    return body.encode(), headers


def ws_subscribe(channel: str, token: str | None = None, *, req_id: int | None = None,
                 **params: object) -> dict[str, object]:
    """A websocket v2 ``subscribe`` request; private channels (executions, balances) need ``token``."""
    body: dict[str, object] = {"channel": channel, **params}
    if token is not None:
        body["token"] = token
    message: dict[str, object] = {"method": "subscribe", "params": body}
    if req_id is not None:
        message["req_id"] = req_id
    return message
