"""The Binance spot dialect: `/api/v3` REST, market streams and the user data stream, on the engine.

Wire facts follow Binance's spot API documentation: HMAC-SHA256 over the exact query string plus
form body, `X-MBX-APIKEY`, `timestamp`/`recvWindow` checks, error bodies ``{"code": -NNNN, "msg": ...}``,
request weights reported in ``X-MBX-USED-WEIGHT-1M`` and order counts in ``X-MBX-ORDER-COUNT-10S/1D``,
429 with Retry-After when over the limit and 418 for clients that keep going after a 429.
"""

from emulators.binance.dialect import BinanceDialect
from emulators.binance.spec import SPEC

__all__ = ["SPEC", "BinanceDialect"]
