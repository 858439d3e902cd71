"""The Bybit V5 dialect ("unified trading account", UTA 2.0): REST, public and private websockets.

Wire facts follow Bybit's V5 documentation (bybit-exchange.github.io/docs/v5, source bybit-exchange/docs)
and what the official SDK pybit sends; the emulator imports nothing from our own Bybit client.

Modelled:
- categories ``spot``, ``linear`` (USDT perpetuals) and ``inverse`` (coin-margined perpetuals), each with
  its own instruments; the same symbol (BTCUSDT) is a different market in spot and linear. Engine ids are
  ``"<category>:<SYMBOL>"`` (see `spec.BYBIT_INSTRUMENTS`);
- one unified wallet per account (USDT, BTC, ETH ...) used by spot trades, linear margin (USDT) and inverse
  margin (BTC); one-way positions (positionIdx 0) with leverage, average entry, unrealised PnL at the mark
  (the mid), realised PnL with fees, an informational liquidation price; reduce-only orders;
- REST envelope ``{"retCode", "retMsg", "result", "retExtInfo", "time"}``: failures are HTTP 200 with a
  non-zero retCode (contract codes 11xxxx, spot codes 17xxxx); HTTP statuses only for 403 (IP limit) and
  404 (unknown path). Every number is a string;
- HMAC-SHA256 signing (``X-BAPI-*`` headers; ``timestamp + key + recvWindow + query|body``), the
  ``server_time - recv_window <= timestamp < server_time + 1000`` rule, 10002/10003/10004;
- per-UID per-endpoint per-second rolling limits with ``X-Bapi-Limit*`` headers and retCode 10006, and the
  per-IP limit (600 requests in 5 s) answered with HTTP 403; both adjustable for tests (`set_limit`,
  ``ip_limit``, ``enforce_limits``);
- spot market buys by quote coin by default (``marketUnit``), PostOnly orders that would take are
  accepted and then cancelled (EC_PostOnlyWillTakeLiquidity), orderLinkId always unique per account;
- public streams ``/v5/public/{spot,linear,inverse}``: ``orderbook.{depth}.{symbol}`` (snapshot, then
  deltas whose ``u`` advances by exactly one per book change -- ticks *and* our own taker orders --
  matching ``u`` of GET /v5/market/orderbook), ``publicTrade``, ``tickers`` (derivatives: snapshot then
  deltas; spot: snapshots), ``kline``; private ``/v5/private`` with the ``auth`` op and the ``order``,
  ``execution``, ``position`` and ``wallet`` topics; ping/pong in both documented shapes.

Not modelled (plainly): liquidations (the liquidation price is only reported), funding, hedge mode
(positionIdx 1/2 are refused), isolated margin and portfolio margin, TP/SL, conditional and trigger
orders, amend, batch endpoints, options, spot margin (isLeverage=1), websocket order entry, the
``max_active_time`` disconnect. Open orders are not re-margined when leverage changes. Error messages are
Bybit's where we found them, best effort otherwise; the codes are the documented ones.
"""

from emulators.bybit.dialect import BybitDialect
from emulators.bybit.spec import BYBIT_INSTRUMENTS, SPEC, synthetic_linear_instruments

__all__ = ["BYBIT_INSTRUMENTS", "SPEC", "BybitDialect", "synthetic_linear_instruments"]
