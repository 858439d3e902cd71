"""Operator commands against a running daemon: `algotrendy status | balances | positions | orders |
cancel | kill-switch on/off`. Each connects with the remote client (token from --token,
$ALGOTRENDY_CONTROL_TOKEN or the daemon's token file), prints a table, and exits: 0 done, 1 the daemon
or a venue said no (one `algotrendy: ...` line)."""

from __future__ import annotations

import argparse
from typing import TextIO

from algotrendy.remote import RemoteClient, connect
from algotrendy.tables import (
    balances_table,
    daemon_lines,
    orders_table,
    positions_table,
    print_tables,
    status_table,
)
from protocol import messages as m
from protocol.errors import BrokerError
from protocol.model import Balance, Order, Position

COMMANDS = ("status", "balances", "positions", "orders", "cancel", "kill-switch")


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def common(name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=text)
        parser.add_argument("--url", help="the daemon's control API (default $ALGOTRENDY_URL or ws://127.0.0.1:8765/)")
        parser.add_argument("--token", help="default: $ALGOTRENDY_CONTROL_TOKEN or the daemon's token file")
        parser.add_argument("--ca-file", help="the daemon's certificate, for wss://")
        return parser

    common("status", "every venue's state, the kill switch, the daemon")
    common("balances", "non-zero balances").add_argument("--venue")
    common("positions", "open positions").add_argument("--venue")
    orders = common("orders", "open orders (--all: recent orders in any state)")
    orders.add_argument("--venue")
    orders.add_argument("--symbol")
    orders.add_argument("--all", action="store_true")
    cancel = common("cancel", "cancel one order (--order-id / --client-order-id) or all (--all)")
    cancel.add_argument("--venue", required=True)
    cancel.add_argument("--symbol")
    which = cancel.add_mutually_exclusive_group(required=True)
    which.add_argument("--order-id")
    which.add_argument("--client-order-id")
    which.add_argument("--all", action="store_true")
    kill = common("kill-switch", "engage (on: block new orders, cancel open ones) or release (off)")
    kill.add_argument("state", choices=["on", "off"])
    kill.add_argument("--reason", default="operator")


async def operate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    failed: list[BaseException] = []
    try:
        async with connect(args.url, args.token, ca_file=args.ca_file) as api:
            await _command(api, args, out)
    except* BrokerError as group:  # the client's nursery wraps what the command raised
        failed += group.exceptions
    for error in failed:
        print(f"algotrendy: {error}", file=err)
    return 1 if failed else 0


async def _command(api: RemoteClient, args: argparse.Namespace, out: TextIO) -> None:
    venues = [args.venue] if getattr(args, "venue", None) else _connected(api)
    match args.command:
        case "status":
            reply = await api.daemon_status()
            for line in daemon_lines(reply):
                print(line, file=out)
            print_tables(out, status_table(reply))
        case "balances":
            balances: dict[str, list[Balance]] = {v: await api.get_balances(v) for v in venues}
            print_tables(out, balances_table(balances))
        case "positions":
            positions: dict[str, list[Position]] = {v: await api.get_positions(v) for v in venues}
            print_tables(out, positions_table(positions))
        case "orders":
            orders: list[Order] = []
            for venue in venues:
                orders += await api.get_orders(venue, args.symbol, open_only=not args.all)
            orders.sort(key=lambda o: o.updated_at)
            print_tables(out, orders_table(orders, "Orders" if args.all else "Open orders"))
        case "cancel":
            if args.all:
                cancelled = await api.cancel_all_orders(args.venue, args.symbol)
            else:
                if not args.symbol:
                    raise BrokerError("cancel needs --symbol with --order-id / --client-order-id")
                cancelled = [await api.cancel_order(args.venue, args.symbol, order_id=args.order_id,
                                                    client_order_id=args.client_order_id)]
            print_tables(out, orders_table(cancelled, "Cancelled"))
        case "kill-switch":
            if args.state == "on":
                cancelled = await api.engage_kill_switch(args.reason)
                print(f"kill switch engaged ({args.reason}): new orders refused", file=out)
                print_tables(out, orders_table(cancelled, "Cancelled"))
            else:
                await api.release_kill_switch()
                print("kill switch released: orders accepted again", file=out)


def _connected(api: RemoteClient) -> list[str]:
    return [v for v in api.venues() if (s := api.status(v)) is not None and s.state is m.ConnectionState.CONNECTED]
