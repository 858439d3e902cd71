"""The Bybit V5 dialect ("unified trading account", UTA 2.0): REST, public and private websockets.

Wire facts follow Bybit's V5 documentation (bybit-exchange.github.io/docs/v5, source bybit-exchange/docs) as
read on 2026-11-30, what the official SDK pybit (5.17) sends, and what ccxt (4.5.90) calls at start-up; the
emulator imports nothing from our own Bybit client.

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
  ``execution``, ``position`` and ``wallet`` topics; ping/pong in both documented shapes; the idle rule
  (nothing either way for 10 minutes, or ``max_active_time`` on the private stream: closed at a 30 s scan);
- what clients read at start-up: ``/v5/user/query-api`` (a UTA key), ``/v5/asset/coin/query-info`` (chains
  closed: no deposits or withdrawals), ``/v5/account/info``, tickers and fee rates for every category,
  ``instruments-info`` for ``category=option`` (none listed);
- no silent acceptance: each route lists the parameters Bybit documents for it (`routes.Endpoint`); unknown
  or duplicated ones, unmodelled ones not at their neutral value, GET bodies, POST query strings and bodies
  that are not a UTF-8 JSON object are retCode 10001; unknown paths an empty 404; websocket requests that are
  not a JSON object with string op and args, topics not served, more than 10 args per spot request and args
  beyond 21,000 characters get ``success: false`` with Bybit's ``ret_msg``; unserved streams are refused at
  the handshake.

Not modelled (plainly): liquidations (the liquidation price is only reported), funding, hedge mode
(positionIdx 1/2 are refused), isolated margin and portfolio margin, TP/SL, conditional and trigger
orders, amend, batch endpoints, options, spot margin (isLeverage=1), websocket order entry (``/v5/trade``),
transfers, deposits and withdrawals. Open orders are not re-margined when leverage changes. Error messages are
Bybit's where we found them (observed answers where the docs give none), best effort otherwise (the
"unknown/duplicate parameter" and "not supported by this emulator" details are ours); the codes are the
documented ones.
"""

from emulators.bybit.dialect import BybitDialect
from emulators.bybit.spec import BYBIT_INSTRUMENTS, SPEC, synthetic_linear_instruments

__all__ = ["BYBIT_INSTRUMENTS", "SPEC", "BybitDialect", "synthetic_linear_instruments"]
