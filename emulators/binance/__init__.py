"""The Binance spot dialect: `/api/v3` REST (and the `/sapi` reads clients make at start-up), the market
streams and the WebSocket API (`/ws-api/v3`, where user data lives), on the engine.

Docs followed: Binance's spot API documentation (REST, WebSocket Streams, WebSocket API, User Data
Streams, errors; changelog read to its last entry, 2026-09-18; checked 2026-11-30). Wire facts: HMAC-SHA256
over the exact query string plus form body (the WebSocket API: over its sorted parameters), `X-MBX-APIKEY`,
`timestamp`/`recvWindow` checks, error bodies ``{"code": -NNNN, "msg": ...}``, request weight per IP in
``X-MBX-USED-WEIGHT-1M``, order counts per account in ``X-MBX-ORDER-COUNT-10S/1D``, 429 with Retry-After
and 418 bans; server pings every 20 s, a pong due within a minute.

Refused in Binance's words, never silently accepted: unknown paths (-1000, 404), parameters a route does not
read (-1104), duplicates (-1101), malformed values (-1100 with the legal range), unknown streams ("Invalid
request: invalid stream"), malformed control and WebSocket API frames, order types and features the engine
does not model (STOP_LOSS*, TAKE_PROFIT*, iceberg, trailing, pegged: -2010 as for a symbol without them;
exchangeInfo advertises only LIMIT, LIMIT_MAKER and MARKET). The spot listen keys, retired on 2026-02-20,
answer 410 Gone.

Not modelled: margin, order lists (OCO/OTO/OPO), cancel-replace and amendments, SOR, SBE, Ed25519/RSA keys
(so no ``session.logon``: HMAC keys sign each WebSocket API request), microsecond time units, deposits and
withdrawals beyond `BinanceDialect.deposit` (which emits ``balanceUpdate``), other traders (the book is
synthetic; see `emulators.engine`).
"""

from emulators.binance.dialect import BinanceDialect
from emulators.binance.spec import SPEC

__all__ = ["SPEC", "BinanceDialect"]
