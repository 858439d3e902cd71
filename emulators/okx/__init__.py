"""The OKX V5 dialect: REST, and the public, business and private websockets, on the shared engine.

Wire facts follow OKX's V5 API documentation (www.okx.com/docs-v5/en, the pages as published July 2026,
read on 2026-11-30, with the changelog up to the 2026-10-31 retirement of websocket port 8443) and what the
official SDK python-okx 0.4.4 sends; the emulator imports nothing from our own OKX client.

Modelled:
- instruments ``SPOT`` and ``SWAP`` (USDT-margined linear and coin-margined inverse perpetuals); engine ids are
  OKX's instIds ("BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP"). Swap sizes are contracts (``ctVal`` x ``ctMult``
  of ``ctValCcy``), converted exactly to the engine's units (`contracts`); a size that is not a whole number of
  lots is refused with 51121;
- one trading account in futures mode (``acctLv`` 2; an account made with ``acct_lv="1"`` is in spot mode and
  gets 51010 for swaps), net position mode, ``tdMode`` cash (spot) and cross/isolated (swaps: leverage per
  instrument and margin mode; one mode per instrument while it holds a position or orders), reduce-only
  (refused when it cannot reduce or is larger than the position, never trimmed), ``clOrdId`` unique among
  pending orders (51016), the ``expTime`` header (a request handled after it: every item 50036, never
  executed), market/limit/post_only/fok/ioc/optimal_limit_ioc, spot market buys by quote (``tgtCcy``);
- the ``code``/``msg``/``data`` envelope, per-item ``sCode``/``sMsg``/``subCode`` under code "0"/"1"/"2" on
  order endpoints, OKX's error codes and HTTP statuses; signing and the demo header (see `dialect`);
  per-endpoint limits (50011, HTTP 429) and the sub-account order limit (50061);
- candles and history candles paged with after/before (31 days of seeded one-minute history before the start),
  trades and history trades, books with ``seqId`` (REST and websocket agree), tickers, mark price (the mid),
  index and funding from a seeded basis with settlement every 8 hours on trio's clock into the positions
  (`funding`), open interest from the positions held;
- websockets per `ws`: login, subscribe/unsubscribe with OKX's event answers and codes, the text ping/pong,
  the 30 s idle close (4004), book checksums 0 (``send_checksums`` for the retired CRC32).

Not modelled (and refused in OKX's words): long/short position mode, spot margin (tdMode cross/isolated on
SPOT), FUTURES/OPTION/MARGIN instruments (listed as none), TP/SL and algo orders (attachAlgoOrds, order-algo),
options prices (pxUsd/pxVol), websocket order entry (60028), the books-l2-tbt channels (64003: VIP only),
the 1s bar. Not modelled and not refused: liquidation (the liquidation price is only reported), a shrinking
of unfundable spot market orders (banAmend=false is treated as true), self-trade prevention (no other
traders), the connection-rate limit (3 per second per IP). Margin is the engine's: one initial margin per
position whatever the mode; isolated and cross differ only in what is reported.
"""

from emulators.okx.dialect import OkxDialect
from emulators.okx.spec import OKX_INSTRUMENTS, SPEC, synthetic_swaps

__all__ = ["OKX_INSTRUMENTS", "SPEC", "OkxDialect", "synthetic_swaps"]
