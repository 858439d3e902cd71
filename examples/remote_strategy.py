"""A strategy in its own process, trading through a running daemon.

    make run                                   # terminal 1: the daemon, paper mode (control API on :8765)
    .venv/bin/python examples/remote_strategy.py --rounds 4        # terminal 2

It finds the daemon's token in the file the daemon wrote (~/.algotrendy/control-8765.token) or in
$ALGOTRENDY_CONTROL_TOKEN. Each round it buys the smallest sensible amount at market, waits for the
fill on its event stream, then sells it back the next round. Embedding it instead is one line: replace
``algotrendy.connect(...)`` with ``algotrendy.open_router()`` (the `strategy` body does not change;
tests/unit/test_remote.py runs it both ways).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from decimal import ROUND_UP, Decimal

import trio

import algotrendy
from actors.handle import TradingAPI
from protocol.model import Fill, OrderType, Side


async def strategy(api: TradingAPI, venue: str, symbol: str, *, rounds: int = 4,
                   say: Callable[[str], None] = print) -> list[Fill]:
    """Buy, then sell back, ``rounds`` times at market; returns our fills."""
    await api.wait_connected(venue)
    instrument = next(i for i in await api.instruments(venue) if i.symbol == symbol)
    fills: list[Fill] = []
    async with api.subscribe(venues=[venue], symbols=[symbol], kinds=["fill"]) as events:
        for n in range(rounds):
            price = await api.get_current_price(venue, symbol)
            wanted = max(instrument.min_qty, instrument.min_notional * Decimal("1.5") / price)
            quantity = (wanted / instrument.lot_size).to_integral_value(rounding=ROUND_UP) * instrument.lot_size
            side = Side.BUY if n % 2 == 0 else Side.SELL
            order = await api.place_order(venue=venue, symbol=symbol, side=side, type=OrderType.MARKET,
                                          quantity=quantity)
            done = Decimal(0)
            with trio.fail_after(30):
                while done < quantity:  # a market order may fill in several parts
                    event = await events.get()
                    if isinstance(event, Fill) and event.client_order_id == order.client_order_id:
                        fills.append(event)
                        done += event.quantity
                        say(f"{side.value} {event.quantity.normalize():f} {symbol} @ {event.price.normalize():f} "
                            f"(trade {event.trade_id})")
    return fills


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the daemon's control API (default $ALGOTRENDY_URL or ws://127.0.0.1:8765/)")
    parser.add_argument("--venue", default="binance")
    parser.add_argument("--symbol", default="BTC/USDT")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    async with algotrendy.connect(args.url) as api:
        fills = await strategy(api, args.venue, args.symbol, rounds=args.rounds)
    print(f"done: {len(fills)} fills")


if __name__ == "__main__":
    trio.run(main)
