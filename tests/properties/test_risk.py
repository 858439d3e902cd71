"""Random risk limits x random orders through the router, against an emulator: no order that breaks a
configured rule ever reaches the venue, every refusal names a rule the order really breaks, and orders
that break none are not refused by risk.

The verdict of each order is worked out here, independently of `actors.risk`, from the emulator's
own state (its mid price, which is frozen for the test, and its position/holdings before the order).
The router's reference price is the venue's last trade, which stays within the synthetic book around
that mid, so a rule counts as broken when it is broken for every price in that range, and a refusal
must name a rule broken for at least one.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

import brokers
from actors.handle import RouterHandle, open_router_with
from actors.risk import RiskLimits
from brokers.base import BrokerSettings, BrokerState, broker_actor
from protocol import errors as e
from protocol.credentials import Credentials
from protocol.model import Instrument, MarketType, OrderType, Side, TimeInForce
from tests.support.nonces import AUTOJUMP_THRESHOLD, nonce_dir

REFERENCE_SPREAD = Decimal("0.004")  # the last price stays within 0.4% of the frozen mid


@attrs.frozen
class Case:
    venue: str
    symbol: str
    scale: Decimal = Decimal(1)  # the attempts' quantities times this (a share is worth far less than a bitcoin)
    time_in_force: TimeInForce = TimeInForce.GTC
    emulator: dict[str, Any] = attrs.field(factory=dict)  # keywords of `emulate`
    engine: str | None = None  # the emulator engine's instrument id, where the rule below does not give it


# Alpaca inside a regular session; fractional quantities are DAY orders there.
CASES = [Case("binance", "BTC/USDT"), Case("bybit", "BTC/USDT:USDT"), Case("okx", "BTC/USDT", engine="BTC-USDT"),
         Case("okx", "BTC/USDT:USDT", engine="BTC-USDT-SWAP"), Case("kraken", "BTC/USD", engine="XXBTZUSD"),
         Case("alpaca", "AAPL", Decimal(10), TimeInForce.DAY, {"market_time": datetime(2026, 12, 1, 15, tzinfo=UTC)})]
DERIVATIVES = (MarketType.LINEAR, MarketType.INVERSE)
VENUE_OPTIONS = {"kraken": lambda: {"nonce_dir": nonce_dir()}}  # a fresh folder of nonce files per run
AUTOJUMP = {"kraken": AUTOJUMP_THRESHOLD}  # a venue whose client takes nonces in a worker thread
ENGINE_ASSETS = {"kraken": {"BTC": "XXBT", "USD": "ZUSD"}}  # where the emulator's assets are the venue's names


@attrs.frozen
class Attempt:
    side: Side
    quantity: Decimal
    offset_pct: Decimal | None  # None: market order; else limit at mid x (1 + offset/100)
    reduce_only: bool = False


@attrs.frozen
class KillSwitch:
    engage: bool


@attrs.frozen
class SetLeverage:
    leverage: Decimal


attempts = st.builds(
    Attempt,
    st.sampled_from(list(Side)),
    st.sampled_from([Decimal(x) for x in ("0.001", "0.002", "0.005", "0.01", "0.05", "0.1", "0.3")]),
    st.sampled_from([None] + [Decimal(x) for x in ("-8", "-5", "-2", "-0.5", "0.5", "2", "5", "8")]),
    st.sampled_from([False, False, False, True]),
)
steps = st.lists(st.one_of(attempts, attempts, attempts, attempts, attempts, st.builds(KillSwitch, st.booleans()),
                           st.builds(SetLeverage, st.sampled_from([Decimal(x) for x in ("2", "5", "10", "20")]))),
                 min_size=1, max_size=10)
limits = st.builds(
    RiskLimits,
    max_order_notional=st.one_of(st.none(), st.sampled_from([Decimal(x) for x in ("100", "500", "2000", "10000")])),
    max_position=st.one_of(st.none(), st.sampled_from([Decimal(x) for x in ("0.01", "0.2", "1.2", "2")])),
    price_band_pct=st.one_of(st.none(), st.sampled_from([Decimal(x) for x in ("1", "3", "6")])),
    max_leverage=st.one_of(st.none(), st.sampled_from([Decimal(x) for x in ("5", "10")])),
)


def broken_rules(limits_: RiskLimits, attempt: Attempt, mid: Decimal, position: Decimal, killed: bool,
                 instrument: Instrument) -> tuple[set[str], set[str]]:
    """(rules the attempt breaks whatever the reference price, rules it breaks for some reference price)."""
    price = None if attempt.offset_pct is None else _tick(mid * (1 + attempt.offset_pct / 100), instrument)
    per_reference: list[set[str]] = []
    for reference in (mid * (1 - REFERENCE_SPREAD), mid, mid * (1 + REFERENCE_SPREAD)):
        broken: set[str] = set()
        if killed:
            broken.add("kill_switch")
        if limits_.price_band_pct is not None and price is not None:
            if abs(price - reference) > reference * limits_.price_band_pct / 100:
                broken.add("price_band")
        if limits_.max_order_notional is not None:
            if instrument.notional(attempt.quantity, price if price is not None else reference) > \
                    limits_.max_order_notional:
                broken.add("max_order_notional")
        if limits_.max_position is not None and not attempt.reduce_only:
            after = position + (attempt.quantity if attempt.side is Side.BUY else -attempt.quantity)
            if abs(after) > limits_.max_position and abs(after) > abs(position):
                broken.add("max_position")
        per_reference.append(broken)
    return set.intersection(*per_reference), set.union(*per_reference)


def _tick(price: Decimal, instrument: Instrument) -> Decimal:
    return (price / instrument.tick_size).to_integral_value() * instrument.tick_size


def engine_id(case: Case) -> str:
    """The emulator engine's instrument id: the venue symbol, prefixed by the category for derivatives."""
    if case.engine is not None:
        return case.engine
    pair = case.symbol.split(":")[0].replace("/", "")
    return pair if ":" not in case.symbol else f"linear:{pair}"


def engine_mid(venue: Any, case: Case) -> Decimal:
    return Decimal(venue.engine.symbols[engine_id(case)].mid)


def holding(venue: Any, case: Case, instrument: Instrument) -> Decimal:
    """The position the risk rule sees: spot holdings of the base asset, the signed stock position, or the
    signed perp position."""
    if instrument.market_type is MarketType.STOCK:
        return Decimal(venue.engine.stock_position("demo", engine_id(case)).size)
    if instrument.market_type is MarketType.SPOT:
        asset = ENGINE_ASSETS.get(case.venue, {}).get(instrument.base, instrument.base)
        free, locked = venue.engine.balance("demo", asset)
        return Decimal(free + locked)
    position = venue.engine.position("demo", engine_id(case))
    return Decimal(-position.size if position.side == "SELL" else position.size)


def client_ids_at_venue(venue: Any) -> set[str]:
    """The client order ids of the orders the venue accepted (Alpaca keeps them in its dialect)."""
    if hasattr(venue.dialect, "by_client"):
        return {order.client_order_id for order in venue.dialect.orders.values()}
    return {order.client_order_id for order in venue.engine.all_orders()}


def leverage_at_venue(venue: Any, case: Case) -> Decimal:
    return Decimal(venue.engine.position("demo", engine_id(case)).leverage)


async def run_case(case: Case, limits_: RiskLimits, schedule: list[Attempt | KillSwitch | SetLeverage],
                   seed: int) -> None:
    from emulators import emulate

    factory = brokers.load_broker_factory(case.venue)
    async with emulate(case.venue, seed=seed, tick_interval=0.25, **case.emulator) as venue:
        for state in venue.engine.symbols.values():
            state.spec = attrs.evolve(state.spec, volatility=Decimal(0))  # a frozen mid: verdicts are knowable
        creds = Credentials.from_strings(venue.api_key, venue.api_secret, venue.passphrase)
        settings_ = BrokerSettings(venue=case.venue, rest_url=venue.rest_url, ws_url=venue.ws_url,
                                   credentials=creds, request_timeout=5.0, options=VENUE_OPTIONS.get(case.venue, dict)(),
                                   testnet=True)  # an emulator is the venue's demo environment
        actor = broker_actor(lambda: factory(settings_), BrokerState(venue=case.venue))
        async with open_router_with({case.venue: actor}, risk=limits_, seed=seed) as router:
            with trio.fail_after(60):
                await router.wait_connected(case.venue)
            instrument = {i.symbol: i for i in await router.instruments(case.venue)}[case.symbol]
            await _play(router, venue, case, instrument, limits_, schedule)


async def _play(router: RouterHandle, venue: Any, case: Case, instrument: Instrument, limits_: RiskLimits,
                schedule: list[Attempt | KillSwitch | SetLeverage]) -> None:
    killed = False
    accepted: set[str] = set()
    derivative = instrument.market_type in DERIVATIVES
    for n, step in enumerate(schedule):
        if isinstance(step, KillSwitch):
            if step.engage:
                await router.engage_kill_switch("property test")
                assert not venue.engine.open_orders("demo"), "the kill switch leaves no order open"
            else:
                await router.release_kill_switch()
            killed = step.engage
            continue
        if isinstance(step, SetLeverage):
            if not derivative:
                continue
            before = leverage_at_venue(venue, case)
            try:
                await router.set_leverage(case.venue, case.symbol, step.leverage)
            except e.RiskRejected as refusal:
                assert refusal.rule == "max_leverage"
                assert limits_.max_leverage is not None and step.leverage > limits_.max_leverage
                assert leverage_at_venue(venue, case) == before, "a refused leverage change reached the venue"
            except e.InvalidOrder as refusal:  # the venue's own refusal (OKX: not while orders are pending)
                assert refusal.filter == "LEVERAGE" and leverage_at_venue(venue, case) == before
                assert limits_.max_leverage is None or step.leverage <= limits_.max_leverage
            else:
                assert limits_.max_leverage is None or step.leverage <= limits_.max_leverage
                assert leverage_at_venue(venue, case) == step.leverage
            continue
        if step.reduce_only and not derivative:
            step = attrs.evolve(step, reduce_only=False)  # spot and stocks have no reduce-only
        step = attrs.evolve(step, quantity=step.quantity * case.scale)
        mid = engine_mid(venue, case)
        certain, possible = broken_rules(limits_, step, mid, holding(venue, case, instrument), killed, instrument)
        cid = f"risk{n:03d}"
        price = None if step.offset_pct is None else _tick(mid * (1 + step.offset_pct / 100), instrument)
        try:
            await router.place_order(venue=case.venue, symbol=case.symbol, side=step.side,
                                     type=OrderType.MARKET if price is None else OrderType.LIMIT,
                                     quantity=step.quantity, price=price, reduce_only=step.reduce_only,
                                     time_in_force=case.time_in_force, client_order_id=cid)
        except e.RiskRejected as refusal:
            assert refusal.rule in possible, f"refused for {refusal.rule}, but the order breaks {possible}"
            continue
        except (e.InvalidOrder, e.InsufficientFunds):
            pass  # the venue's own refusal: risk let the order through, which is checked just below
        assert not certain, f"an order breaking {certain} was sent"
        accepted.add(cid)
    at_venue = client_ids_at_venue(venue)
    assert at_venue <= accepted, f"orders reached the venue without passing risk: {at_venue - accepted}"


EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "40")) // 2


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.venue}-{c.symbol}")
@settings(max_examples=max(EXAMPLES, 5), deadline=None)
@given(limits_=limits, schedule=steps, seed=st.integers(1, 1000))
def test_no_order_breaking_a_risk_rule_reaches_the_venue(case: Case, limits_: RiskLimits,
                                                          schedule: list[Attempt | KillSwitch | SetLeverage],
                                                          seed: int) -> None:
    clock = trio.testing.MockClock(autojump_threshold=AUTOJUMP.get(case.venue, 0))
    trio.run(run_case, case, limits_, schedule, seed, clock=clock)
