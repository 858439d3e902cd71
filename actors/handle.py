"""The typed API a strategy programs against (design §1), whether it embeds the router or not.

`TradingAPI` holds every typed call once: it builds the command, sends it and unwraps the reply,
raising the `protocol.errors` type of an error reply. How a command travels is the subclass's one
job: `RouterHandle` hands it to the router in this process; the remote client
(`algotrendy.connect`) sends it over the daemon's control API. Both offer the same methods, so a
strategy moves between the two by changing the line that opens them.
"""

from __future__ import annotations

import abc
import random
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import attrs
import msgspec
import trio

from actors.journal import Journal
from actors.risk import RiskEngine, RiskLimits
from actors.router import Router, VenueRuntime, unwrap
from actors.supervisor import BackoffPolicy
from protocol import messages as m
from protocol.actor import VenueActor
from protocol.errors import InvalidOrder, NotConnected
from protocol.model import (
    AccountInfo,
    Balance,
    Candle,
    EarnAllocation,
    EarnStrategy,
    Fill,
    FundingRate,
    Instrument,
    LeverageInfo,
    MarketClock,
    MarketDay,
    MarkPrice,
    OpenInterest,
    Order,
    OrderRequest,
    OrderType,
    Position,
    Side,
    Ticker,
    TimeInForce,
    Trade,
    new_client_order_id,
)

R = TypeVar("R", bound=m.Reply)


class EventStream(Protocol):
    """A subscription's events: ``async for event in stream`` or ``await stream.get()``."""

    def __aiter__(self) -> AsyncIterator[m.EventMsg]: ...

    async def get(self) -> m.EventMsg: ...


class TradingAPI(abc.ABC):
    """Every typed call a strategy makes; subclasses say how a command reaches the router."""

    # ------------------------------------------------------------------ transport (per subclass)
    @abc.abstractmethod
    def _next_id(self) -> str:
        """A fresh correlation id for a command."""

    @abc.abstractmethod
    async def request(self, command: m.CommandMsg) -> m.ReplyMsg:
        """Send ``command`` and return its reply (an `ErrorReply` on failure, never raised)."""

    @abc.abstractmethod
    async def wait_connected(self, venue: str) -> None:
        """Until ``venue`` is CONNECTED (bound it with ``trio.fail_after``); raises if it STOPPED."""

    @abc.abstractmethod
    def status(self, venue: str) -> m.BrokerStatus | None:
        """The venue's latest status (supervisor state plus what the venue reported about itself)."""

    @abc.abstractmethod
    def venues(self) -> list[str]: ...

    @abc.abstractmethod
    def subscribe(self, *, venues: Iterable[str] | None = None, symbols: Iterable[str] | None = None,
                  kinds: Iterable[m.EventKind | str] | None = None, market_capacity: int = 1024,
                  critical_capacity: int = 100_000) -> AbstractAsyncContextManager[EventStream]:
        """``async with api.subscribe(kinds=["fill"]) as events: async for e in events: ...``

        Filters (None = all); events from the moment it is entered. Market data beyond
        ``market_capacity`` unread drops the oldest; orders, fills, balances, positions and statuses
        are never dropped, and a subscriber that lets ``critical_capacity`` of them pile up is closed
        with `SubscriberOverflow`."""

    @abc.abstractmethod
    async def engage_kill_switch(self, reason: str = "manual") -> list[Order]:
        """Block every new order and cancel every open order on every connected venue."""

    @abc.abstractmethod
    async def release_kill_switch(self) -> None: ...

    async def events(self, **filters: Any) -> AsyncIterator[m.EventMsg]:
        """``async for event in api.events(venues=["binance"], kinds=["fill"])``."""
        async with self.subscribe(**filters) as stream:
            async for event in stream:
                yield event

    # ------------------------------------------------------------------ commands
    async def call(self, command: m.CommandMsg, expect: type[R]) -> R:
        """`request`, raising the typed error of an `ErrorReply`."""
        return unwrap(await self.request(command), expect, type(command).__name__)

    async def _call(self, command_type: type[m.Command], expect: type[R], venue: str, **fields: Any) -> R:
        command = command_type(id=self._next_id(), venue=venue, **fields)
        return await self.call(command, expect)  # type: ignore[arg-type]

    async def instruments(self, venue: str) -> list[Instrument]:
        return (await self._call(m.GetInstruments, m.InstrumentsReply, venue)).instruments

    async def get_balance(self, venue: str, currency: str) -> Balance:
        return (await self._call(m.GetBalance, m.BalanceReply, venue, currency=currency)).balance

    async def get_balances(self, venue: str) -> list[Balance]:
        return (await self._call(m.GetBalances, m.BalancesReply, venue)).balances

    async def get_account_info(self, venue: str) -> AccountInfo:
        return (await self._call(m.GetAccountInfo, m.AccountInfoReply, venue)).account

    async def get_ticker(self, venue: str, symbol: str) -> Ticker:
        return (await self._call(m.GetTicker, m.TickerReply, venue, symbol=symbol)).ticker

    async def get_current_price(self, venue: str, symbol: str) -> Decimal:
        return (await self.get_ticker(venue, symbol)).last

    async def get_candles(self, venue: str, symbol: str, interval: str = "1m", limit: int = 100) -> list[Candle]:
        return (await self._call(m.GetCandles, m.CandlesReply, venue, symbol=symbol, interval=interval,
                                 limit=limit)).candles

    async def get_positions(self, venue: str) -> list[Position]:
        return (await self._call(m.GetPositions, m.PositionsReply, venue)).positions

    async def get_position(self, venue: str, symbol: str) -> Position:
        return (await self._call(m.GetPosition, m.PositionReply, venue, symbol=symbol)).position

    async def place_order(
        self,
        request: OrderRequest | None = None,
        *,
        venue: str | None = None,
        symbol: str | None = None,
        side: Side | str | None = None,
        type: OrderType | str = OrderType.LIMIT,
        quantity: Decimal | str | None = None,
        price: Decimal | str | None = None,
        time_in_force: TimeInForce | str = TimeInForce.GTC,
        client_order_id: str | None = None,
        reduce_only: bool = False,
        **extra: Any,
    ) -> Order:
        """Place an order (an `OrderRequest`, or its fields as keywords). Returns the venue's answer.

        Without a ``client_order_id`` one is generated here, so the caller can retry with it after a
        `NotConnected`/`VenueUnavailable`: the broker looks it up before resending. ``extra`` takes the
        other `OrderRequest` fields (``stop_price``, ``notional``, ``leverage``, ``order_class``, ...).
        A notional order (``notional=...``) needs no quantity.
        """
        if request is None:
            if venue is None or symbol is None or side is None or (quantity is None and "notional" not in extra):
                raise ValueError("place_order needs venue, symbol, side and quantity (or an OrderRequest)")
            fields = {"venue": venue, "symbol": symbol, "side": side, "type": type,
                      "quantity": "0" if quantity is None else str(quantity),
                      "price": None if price is None else str(price), "time_in_force": time_in_force,
                      "client_order_id": client_order_id, "reduce_only": reduce_only,
                      **{k: (str(v) if isinstance(v, Decimal | int) and not isinstance(v, bool) else v)
                         for k, v in extra.items()}}
            try:
                request = msgspec.convert(fields, OrderRequest, strict=False)
            except msgspec.ValidationError as error:
                raise InvalidOrder(f"bad order: {error}", venue=venue, client_order_id=client_order_id) from None
        if request.client_order_id is None:
            request = msgspec.structs.replace(request, client_order_id=new_client_order_id())
        return (await self._call(m.PlaceOrder, m.OrderReply, request.venue, request=request)).order

    async def cancel_order(self, venue: str, symbol: str, *, order_id: str | None = None,
                           client_order_id: str | None = None) -> Order:
        return (await self._call(m.CancelOrder, m.OrderReply, venue, symbol=symbol, order_id=order_id,
                                 client_order_id=client_order_id)).order

    async def get_order_status(self, venue: str, symbol: str, *, order_id: str | None = None,
                               client_order_id: str | None = None) -> Order:
        return (await self._call(m.GetOrderStatus, m.OrderReply, venue, symbol=symbol, order_id=order_id,
                                 client_order_id=client_order_id)).order

    async def get_orders(self, venue: str, symbol: str | None = None, *, open_only: bool = True) -> list[Order]:
        return (await self._call(m.GetOrders, m.OrdersReply, venue, symbol=symbol, open_only=open_only)).orders

    async def get_fills(self, venue: str, symbol: str, *, since: datetime | None = None,
                        limit: int = 500) -> list[Fill]:
        return (await self._call(m.GetFills, m.FillsReply, venue, symbol=symbol, since=since,
                                 limit=limit)).fills

    async def get_leverage_info(self, venue: str, symbol: str) -> LeverageInfo:
        return (await self._call(m.GetLeverageInfo, m.LeverageReply, venue, symbol=symbol)).leverage

    async def set_leverage(self, venue: str, symbol: str, leverage: Decimal | str | int) -> LeverageInfo:
        return (await self._call(m.SetLeverage, m.LeverageReply, venue, symbol=symbol,
                                 leverage=Decimal(str(leverage)))).leverage

    # ------------------------------------------------------------------ contract extensions (design §11)
    # Venues that cannot do one of these raise NotSupported; nothing here is venue-specific.
    async def amend_order(self, venue: str, symbol: str, *, order_id: str | None = None,
                          client_order_id: str | None = None, quantity: Decimal | str | None = None,
                          price: Decimal | str | None = None, stop_price: Decimal | str | None = None,
                          new_client_order_id: str | None = None) -> Order:
        """Change a live order (risk-checked as the order it would become)."""
        return (await self._call(m.AmendOrder, m.OrderReply, venue, symbol=symbol, order_id=order_id,
                                 client_order_id=client_order_id, quantity=_decimal_or_none(quantity),
                                 price=_decimal_or_none(price), stop_price=_decimal_or_none(stop_price),
                                 new_client_order_id=new_client_order_id)).order

    async def cancel_all_orders(self, venue: str, symbol: str | None = None) -> list[Order]:
        return (await self._call(m.CancelAllOrders, m.OrdersReply, venue, symbol=symbol)).orders

    async def cancel_all_after(self, venue: str, seconds: int) -> datetime | None:
        """Arm the venue's dead man's switch for ``seconds`` (0 disarms); re-arm before it fires."""
        return (await self._call(m.CancelAllAfter, m.DeadManSwitchReply, venue, seconds=seconds)).trigger_at

    async def close_position(self, venue: str, symbol: str, *, quantity: Decimal | str | None = None,
                             client_order_id: str | None = None) -> Order:
        """Flatten a position with a reduce-only market order (not blocked by the kill switch)."""
        return (await self._call(m.ClosePosition, m.OrderReply, venue, symbol=symbol,
                                 quantity=_decimal_or_none(quantity),
                                 client_order_id=client_order_id or new_client_order_id())).order

    async def get_historical_candles(self, venue: str, symbol: str, interval: str, start: datetime,
                                     end: datetime | None = None, limit: int = 50_000) -> list[Candle]:
        return (await self._call(m.GetHistoricalCandles, m.CandlesReply, venue, symbol=symbol, interval=interval,
                                 start=start, end=end, limit=limit)).candles

    async def get_trades(self, venue: str, symbol: str, *, limit: int = 100, start: datetime | None = None,
                         end: datetime | None = None) -> list[Trade]:
        return (await self._call(m.GetTrades, m.TradesReply, venue, symbol=symbol, limit=limit, start=start,
                                 end=end)).trades

    async def get_funding_rate(self, venue: str, symbol: str) -> FundingRate:
        return (await self._call(m.GetFundingRate, m.FundingRateReply, venue, symbol=symbol)).funding

    async def get_funding_history(self, venue: str, symbol: str, *, start: datetime | None = None,
                                  end: datetime | None = None, limit: int = 100) -> list[FundingRate]:
        return (await self._call(m.GetFundingHistory, m.FundingHistoryReply, venue, symbol=symbol, start=start,
                                 end=end, limit=limit)).rates

    async def get_mark_price(self, venue: str, symbol: str) -> MarkPrice:
        return (await self._call(m.GetMarkPrice, m.MarkPriceReply, venue, symbol=symbol)).mark

    async def get_open_interest(self, venue: str, symbol: str) -> OpenInterest:
        return (await self._call(m.GetOpenInterest, m.OpenInterestReply, venue, symbol=symbol)).open_interest

    async def get_market_clock(self, venue: str) -> MarketClock:
        return (await self._call(m.GetMarketClock, m.MarketClockReply, venue)).clock

    async def get_market_calendar(self, venue: str, start: date, end: date) -> list[MarketDay]:
        return (await self._call(m.GetMarketCalendar, m.MarketCalendarReply, venue, start=start, end=end)).days

    async def get_earn_strategies(self, venue: str, asset: str | None = None) -> list[EarnStrategy]:
        return (await self._call(m.GetEarnStrategies, m.EarnStrategiesReply, venue, asset=asset)).strategies

    async def get_earn_allocations(self, venue: str) -> list[EarnAllocation]:
        return (await self._call(m.GetEarnAllocations, m.EarnAllocationsReply, venue)).allocations

    async def earn_allocate(self, venue: str, strategy_id: str, amount: Decimal | str) -> bool:
        """Start an allocation; True while the venue is still processing it (see `earn_status`)."""
        return (await self._call(m.EarnAllocate, m.EarnStatusReply, venue, strategy_id=strategy_id,
                                 amount=Decimal(amount))).pending

    async def earn_deallocate(self, venue: str, strategy_id: str, amount: Decimal | str) -> bool:
        return (await self._call(m.EarnDeallocate, m.EarnStatusReply, venue, strategy_id=strategy_id,
                                 amount=Decimal(amount))).pending

    async def earn_status(self, venue: str, strategy_id: str, *, deallocation: bool = False) -> bool:
        return (await self._call(m.GetEarnStatus, m.EarnStatusReply, venue, strategy_id=strategy_id,
                                 deallocation=deallocation)).pending

    async def subscribe_market_data(self, venue: str, symbols: Iterable[str],
                                    channels: Iterable[m.StreamChannel | str] = (m.StreamChannel.TICKER,)) -> None:
        await self._call(m.Subscribe, m.AckReply, venue, symbols=list(symbols),
                         channels=[m.StreamChannel(c) for c in channels])



def _decimal_or_none(value: Decimal | str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@attrs.define(eq=False)
class RouterHandle(TradingAPI):
    """The embedding API: the router in this process, typed calls and event subscriptions."""

    router: Router

    def _next_id(self) -> str:
        return self.router.next_id()

    async def request(self, command: m.CommandMsg) -> m.ReplyMsg:
        return await self.router.request(command)

    # ------------------------------------------------------------------ connection
    async def wait_connected(self, venue: str) -> None:
        runtime = self._venue(venue)
        while not runtime.connected.is_set():
            if runtime.status is not None and runtime.status.state is m.ConnectionState.STOPPED:
                raise NotConnected(f"{venue} stopped: {runtime.status.reason}", venue=venue, retryable=False)
            await runtime.changed.wait()

    def status(self, venue: str) -> m.BrokerStatus | None:
        return self._venue(venue).status

    def venues(self) -> list[str]:
        return list(self.router.venues)

    def _venue(self, venue: str) -> VenueRuntime:
        try:
            return self.router.venues[venue]
        except KeyError:
            raise NotConnected(f"unknown venue {venue!r}", venue=venue, retryable=False) from None

    # ------------------------------------------------------------------ kill switch
    async def engage_kill_switch(self, reason: str = "manual") -> list[Order]:
        return await self.router.engage_kill_switch(reason)

    async def release_kill_switch(self) -> None:
        await self.router.release_kill_switch()

    # ------------------------------------------------------------------ events
    @asynccontextmanager
    async def subscribe(self, *, venues: Iterable[str] | None = None, symbols: Iterable[str] | None = None,
                        kinds: Iterable[m.EventKind | str] | None = None, market_capacity: int = 1024,
                        critical_capacity: int = 100_000) -> AsyncIterator[EventStream]:
        subscriber = self.router.subscribe(venues=venues, symbols=symbols, kinds=kinds,
                                           market_capacity=market_capacity, critical_capacity=critical_capacity)
        try:
            yield subscriber
        finally:
            self.router.unsubscribe(subscriber)


@asynccontextmanager
async def open_router_with(
    venues: dict[str, VenueActor],
    *,
    policy: BackoffPolicy | None = None,
    risk: RiskLimits | None = None,
    seed: int | None = None,
    command_timeout: float = 30.0,
    journal: Journal | None = None,
) -> AsyncIterator[RouterHandle]:
    """Run a router with one supervised actor per venue (``name -> venue actor``).

    With a ``journal`` (loaded with `Journal.snapshot`), orders and fills are recorded before they go
    out, and the kill switch and risk counts it holds are restored. Leaving the block cancels every
    actor; streams close and nothing is half-sent (commands in flight get `NotConnected`).
    """
    router = Router(risk=RiskEngine(risk or RiskLimits()), command_timeout=command_timeout, journal=journal)
    if journal is not None and journal.loaded is not None:
        router.risk.restore(journal.loaded.kill_switch, {
            name.removeprefix("risk_rejected."): count for name, count in journal.loaded.counters.items()
            if name.startswith("risk_rejected.")})
    for name, actor in venues.items():
        router.add_venue(name, actor)
    async with trio.open_nursery() as nursery:
        await router.run(nursery, policy or BackoffPolicy(), random.Random(seed))
        try:
            yield RouterHandle(router)
        finally:
            router.close_subscribers()
            nursery.cancel_scope.cancel()


