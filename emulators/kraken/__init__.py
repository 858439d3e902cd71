"""The Kraken spot dialect: REST (public and private, margin and Earn) and websocket API v2.

Wire facts follow docs.kraken.com as read on 2026-11-30 (the Spot REST and WebSocket v2 references, the guides
on authentication, client order ids, rate and trading limits, the v2 book checksum, and the error list) and
what the official SDK python-kraken-sdk 3.5.1 sends; the emulator imports nothing from our own Kraken client.
Kraken has no spot testnet: this emulator is the paper venue.

Modelled:
- Kraken's names: assets XXBT/ZUSD/XETH/SOL (altnames XBT, USD; v2 names BTC, USD), pairs XXBTZUSD (altname
  XBTUSD, wsname XBT/USD, v2 BTC/USD), XETHZUSD, SOLUSD, XETHXXBT, with their decimals, tick sizes, ``ordermin``,
  ``costmin`` and leverage lists (`pairs`); REST takes a pair by REST name or altname, v2 by symbol;
- public REST ``Time``, ``SystemStatus``, ``Assets``, ``AssetPairs`` (``fees`` lists empty, as since
  2026-09-08), ``Ticker``, ``OHLC``, ``Depth``, ``Trades``, ``Spread``; private ``Balance``, ``BalanceEx``,
  ``TradeBalance``, ``OpenOrders``, ``ClosedOrders`` and ``TradesHistory`` (50 a page, ``ofs``),
  ``QueryOrders``, ``QueryTrades``, ``OpenPositions`` (per opening trade, or consolidated), ``TradeVolume``,
  ``AddOrder`` (market, limit, post-only, IOC/FOK, ``viqc``, ``leverage``, ``reduce_only``, volume 0 to close a
  position, ``cl_ord_id`` and ``userref``, ``validate``, ``deadline``), ``AmendOrder``, ``CancelOrder`` (txid,
  userref or cl_ord_id), ``CancelAll``, ``CancelAllOrdersAfter`` (the dead man's switch, on trio's clock),
  ``GetWebSocketsToken``, ``Earn/Strategies``, ``Earn/Allocate``, ``Earn/Deallocate``, ``Earn/AllocateStatus``,
  ``Earn/DeallocateStatus``, ``Earn/Allocations`` (asynchronous, pending on trio's clock, rewards accruing);
- ``API-Sign`` signing, the per-key nonce (strictly increasing at any scale; a nonce window per key, 0 by
  default), key permissions, the REST call counter and the per-pair trading counter with its order-age
  penalties, per tier (`limits`), the system status (online, maintenance, cancel_only, post_only);
- spot margin: leveraged orders open positions settled in the quote currency (`margin`), closed by the opposite
  leveraged order; ``TradeBalance``; below ``margin_call`` (80%) new positions are refused with
  ``EOrder:Margin level too low``, below ``margin_stop`` (40%) the account's positions are closed at market
  (orders flagged ``liquidated``) -- tests push the level with ``exchange.jump``;
- websocket v2 public ``/v2`` and private ``/ws-auth/v2`` (`ws`): status, heartbeat, ping/pong, ticker, book
  with the CRC32 checksum, trade, ohlc, instrument, executions, balances.

Not modelled (plainly): stop, take-profit, trailing, iceberg and settle-position orders, conditional close,
scheduled (``starttm``) or expiring (``expiretm``/GTD) orders, ``fcib``/``fciq`` (the fee is taken from what the
order receives: base on buys, quote on sells -- REST states it in quote as Kraken does), order batches, EditOrder,
ledgers, funding, subaccounts, exports, websocket order entry, rollover fees, the public per-IP limit and the
temporary lockout. Fees are Kraken Pro's first tier whatever the volume. Margin collateral is the quote
currency's free balance (the engine locks the initial margin there), and adding to a position at another
leverage is refused. Public channels are served on the public endpoint only. Websocket error texts are best
effort (Kraken documents few of them).
"""

from emulators.kraken.dialect import KrakenDialect
from emulators.kraken.spec import KRAKEN_INSTRUMENTS, SPEC

__all__ = ["KRAKEN_INSTRUMENTS", "SPEC", "KrakenDialect"]
