"""Kraken's authentication: ``API-Key`` + ``API-Sign``, the per-key nonce, and the websocket tokens.

- ``API-Sign`` = base64(HMAC-SHA512(base64-decoded secret, URI path + SHA256(nonce + POST data))), the POST
  data being the exact body sent (form or JSON). Checked in Kraken's order: key, signature, then nonce.
- The nonce is an unsigned 64-bit integer that must exceed every nonce the key has used -- any scale works
  (python-kraken-sdk sends time x 1e8, others milliseconds). A key's *nonce window* (Kraken's API-key setting,
  0 by default) also accepts a nonce up to ``window`` below the highest, once. A nonce is spent as soon as the
  signature holds, whatever becomes of the request.
- ``GetWebSocketsToken`` tokens must be used (in a private subscription) within 900 s; one in use on a
  connection does not expire.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import re
import secrets

import attrs

from emulators.engine.accounts import KeyShape
from emulators.engine.signing import SignatureCheck
from emulators.kraken.errors import AuthWords

MAX_NONCE = 2**64 - 1
NONCE = re.compile(r"^[0-9]{1,20}$")
TOKEN_TTL = 900.0


def api_sign(secret: str, path: str, nonce: str, body: str) -> str:
    """The API-Sign header value for a request (Kraken's published algorithm)."""
    message = path.encode() + hashlib.sha256((nonce + body).encode()).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret), message, hashlib.sha512).digest()).decode()


def _mac(secret: str, payload: str) -> str:
    """`SignatureCheck`'s mac: ``payload`` is the path, a newline, then the nonce and the body as signed."""
    path, _, signed = payload.partition("\n")
    try:
        return api_sign(secret, path, "", signed)
    except binascii.Error:  # a secret that is not base64 can sign nothing
        return ""


SIGNATURES = SignatureCheck(_mac, AuthWords(), case_sensitive=True)


def signed_payload(path: str, nonce: str, body: str) -> str:
    return f"{path}\n{nonce}{body}"


def parse_nonce(raw: object) -> int | None:
    """A nonce as Kraken takes it (a JSON integer or its decimal text, at most 2**64 - 1), else None."""
    if isinstance(raw, bool):
        return None
    text = str(raw) if isinstance(raw, int | str) else ""
    if not NONCE.match(text) or int(text) > MAX_NONCE:
        return None
    return int(text)


@attrs.define
class NonceRule:
    """One key's nonces: strictly increasing, or within ``window`` below the highest and never reused."""

    window: int = 0
    highest: int = 0
    recent: set[int] = attrs.field(factory=set)  # nonces used within the window below the highest

    def accept(self, nonce: int) -> bool:
        if nonce > self.highest:
            self.highest = nonce
            if self.window:
                self.recent = {n for n in self.recent if n >= nonce - self.window} | {nonce}
            return True
        if self.window and nonce >= self.highest - self.window and nonce not in self.recent:
            self.recent.add(nonce)
            return True
        return False


@attrs.define
class Token:
    token: str
    api_key: str
    account: str
    issued: float  # trio time
    in_use: bool = False


@attrs.define
class Tokens:
    """Websocket tokens issued by ``GetWebSocketsToken`` (deterministic from the seed)."""

    seed: int
    issued: dict[str, Token] = attrs.field(factory=dict)
    _counter: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    def issue(self, api_key: str, account: str, now: float) -> Token:
        digest = hashlib.sha256(f"kraken-ws-token:{self.seed}:{next(self._counter)}".encode()).digest()
        token = Token(base64.b64encode(digest).decode().rstrip("=")[:43], api_key, account, now)
        self.issued[token.token] = token
        return token

    def resolve(self, token: str, now: float) -> Token | None:
        """The token if it is valid: in use, or issued less than 900 s ago."""
        found = self.issued.get(token)
        if found is None or (not found.in_use and now - found.issued > TOKEN_TTL):
            return None
        return found


@attrs.frozen
class Base64Keys(KeyShape):
    """Kraken's keys: a 56-character public key and a base64 private key of 64 bytes (88 characters)."""

    def generate(self, length: int) -> str:
        size = 64 if length >= 88 else length * 3 // 4
        return base64.b64encode(secrets.token_bytes(size)).decode()[:length]


KEY_SHAPE = Base64Keys(56, 88)
