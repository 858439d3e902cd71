"""The Alpaca dialect: Trading API v2 and Market Data API v2 for US stocks, their two websockets, on the engine
and a market clock that follows the NYSE calendar.

Wire facts follow Alpaca's documentation as of 2026-11-30 (docs.alpaca.markets: the Trading API reference,
"Placing Orders", "Fractional Trading", "Margin and Short Selling", "Websocket Streaming", "WebSocket Stream"
and "Real-time Stock Data"; the older alpacahq/alpaca-docs pages where a current page has no example), what
the official SDK alpaca-py 0.44.0 sends and parses, and error bodies as Alpaca's API answers them; the
emulator imports nothing from our own Alpaca client.

Served (one port for both hosts; `spec.urls` prints them):
- trading REST: ``/v2/account``, ``/v2/assets`` and ``/v2/assets/{symbol}``, ``/v2/orders`` (POST, GET list,
  DELETE all), ``/v2/orders/{id}`` (GET, PATCH replace, DELETE), ``/v2/orders:by_client_order_id``,
  ``/v2/positions`` (GET, DELETE all) and ``/v2/positions/{symbol}`` (GET, DELETE = close),
  ``/v2/account/activities`` and ``/v2/account/activities/{type}`` (FILL: page_token, direction, date,
  after, until), ``/v2/clock``, ``/v2/calendar``;
- market-data REST (``/v2/stocks/...``): bars, trades, quotes (one symbol or many, paged), the latest trade,
  quote and bar, snapshots; feeds iex and sip (`marketdata`);
- the trading stream ``/stream`` (``trade_updates``) and the data streams ``/v2/iex``, ``/v2/sip`` (`ws`).

Modelled: the key headers and Alpaca's 401/403 bodies; errors as HTTP status + ``{"code", "message"}``
(`errors`); 200 requests a minute with the X-RateLimit headers; orders market, limit, stop, stop-limit and
trailing stop, DAY/GTC/OPG/CLS/IOC/FOK, qty or notional, fractional shares on fractionable assets (DAY,
simple), extended hours (DAY limit), classes simple/bracket/oco/oto, replace, client order ids unique for
ever (`orders`); buying power of a Reg T margin (or cash) account, short selling of easy-to-borrow assets,
positions with average entry, market value, cost basis and P&L (`account`); the market clock: NYSE trading
days, holidays and early closes from exchange-calendars, pre-market 04:00-09:30 and after hours until 4 h
after the close (New York time), on trio's clock, pinned with ``market_time`` (a moment, or "open": a moment
inside a regular session, what a paper venue uses to be open whatever the weekday).

Not modelled (plainly): other traders (synthetic liquidity refilled every tick), overnight (24/5) trading,
options, crypto and ``mleg`` orders, margin calls and liquidations, borrow fees, dividends, splits and other
corporate actions (``adjustment`` changes nothing), regulatory fees (commission is zero), the wash-trade check,
the 90-day expiry of GTC orders, replacing bracket/oco/oto orders, asynchronous ``pending_*`` states (cancel and
replace take effect at once), ``done_for_day`` (DAY orders end ``expired``), market-data ``statuses``,
``lulds``, corrections and cancel errors, news, watchlists, portfolio history, account configurations and
the Broker API. Every such path, parameter and channel is refused, never acknowledged.
"""

from emulators.alpaca.dialect import AlpacaDialect
from emulators.alpaca.spec import ALPACA_INSTRUMENTS, SPEC, build_engine

__all__ = ["ALPACA_INSTRUMENTS", "SPEC", "AlpacaDialect", "build_engine"]
