"""Alpaca authentication: two key headers on REST, an auth message on each websocket. No signing.

Alpaca signs nothing: every REST request carries ``APCA-API-KEY-ID`` and ``APCA-API-SECRET-KEY``
(the same for the Trading and the Market Data API), over TLS. So there is no request expiry, no
timestamp and no clock offset to keep (see the README, "issue-11 bound").

The streams authenticate by message, each in its own dialect:

- trading stream (``/stream``): ``{"action": "authenticate", "data": {"key_id", "secret_key"}}``, answered
  on the ``authorization`` stream, then ``{"action": "listen", "data": {"streams": ["trade_updates"]}}``,
  answered on the ``listening`` stream with the streams actually granted;
- market data stream (``/v2/{feed}``): after ``[{"T":"success","msg":"connected"}]``, within 10 s,
  ``{"action": "auth", "key", "secret"}``, answered ``[{"T":"success","msg":"authenticated"}]`` or an
  error frame; then ``{"action": "subscribe", "trades": [...], "quotes": [...], "bars": [...]}``, answered
  with the full subscription list.

The secret stays a `Secret`, revealed only inside the functions that build these headers and messages;
what they return must therefore never be logged (`redacted` gives a loggable copy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from brokers.alpaca.constants import HEADER_KEY_ID, HEADER_SECRET_KEY, TRADE_UPDATES_STREAM
from protocol.credentials import Credentials

REDACTED = "***"


def rest_headers(credentials: Credentials) -> dict[str, str]:
    """The two key headers every Trading / Market Data request carries."""
    return {HEADER_KEY_ID: credentials.api_key, HEADER_SECRET_KEY: credentials.api_secret.reveal()}


def redacted(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy fit for logs: the secret header masked."""
    return {key: (REDACTED if key.lower() == HEADER_SECRET_KEY.lower() else value) for key, value in headers.items()}


def trading_auth_message(credentials: Credentials) -> dict[str, object]:
    """The trading stream's ``authenticate`` action (what alpaca-py's ``TradingStream._auth`` sends)."""
    return {"action": "authenticate",
            "data": {"key_id": credentials.api_key, "secret_key": credentials.api_secret.reveal()}}


def trading_listen_message(streams: Iterable[str] = (TRADE_UPDATES_STREAM,)) -> dict[str, object]:
    """``listen`` sets the whole list of streams (an empty list stops them all)."""
    return {"action": "listen", "data": {"streams": list(streams)}}


def data_auth_message(credentials: Credentials) -> dict[str, object]:
    """The market data stream's ``auth`` action."""
    return {"action": "auth", "key": credentials.api_key, "secret": credentials.api_secret.reveal()}


def data_subscription_message(action: str, *, trades: Iterable[str] = (), quotes: Iterable[str] = (),
                              bars: Iterable[str] = ()) -> dict[str, object]:
    """``subscribe`` adds to, ``unsubscribe`` subtracts from, the session's subscriptions.

    Only the channels given are sent (Alpaca reads an absent channel as "no change"); symbols are
    tickers, ``*`` for all.
    """
    if action not in ("subscribe", "unsubscribe"):
        raise ValueError(f"Alpaca data stream action is subscribe or unsubscribe, not {action!r}")
    message: dict[str, object] = {"action": action}
    for channel, symbols in (("trades", trades), ("quotes", quotes), ("bars", bars)):
        listed = list(symbols)
        if listed:
            message[channel] = listed
    if len(message) == 1:
        raise ValueError(f"an Alpaca {action} message needs at least one channel with symbols")
    return message
