"""Tables a person reads at a glance, for the operator commands (`algotrendy status`, `orders`, ...).

Decimals print as they are (no exponent, no trailing zeros), times in UTC, newest last; colour only
on a terminal (rich drops it in pipes and logs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TextIO

from rich.console import Console
from rich.table import Table

from actors.journal import History
from protocol import messages as m
from protocol.model import Balance, Fill, Order, Position, PositionSide, utc_now


def num(value: Decimal | None) -> str:
    """A decimal for people: no exponent, no trailing zeros."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], *, right: Iterable[str] = ()) -> Table:
    table = Table(title=title, title_justify="left")
    numeric = set(right)
    for column in columns:
        table.add_column(column, justify="right" if column in numeric else "left", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def print_tables(out: TextIO, *tables: Table) -> None:
    console = Console(file=out, width=None if out.isatty() else 200)
    for table in tables:
        console.print(table)


def orders_table(orders: Sequence[Order], title: str = "Orders") -> Table:
    return _table(f"{title} ({len(orders)})",
                  ("updated (UTC)", "venue", "symbol", "side", "type", "qty", "price", "filled", "avg price",
                   "status", "order id", "client id"),
                  ([when(o.updated_at), o.venue, o.symbol, o.side.value, o.type.value, num(o.quantity),
                    num(o.price), num(o.filled_quantity), num(o.average_price), o.status.value, o.order_id,
                    o.client_order_id] for o in orders),
                  right=("qty", "price", "filled", "avg price"))


def fills_table(fills: Sequence[Fill], title: str = "Fills") -> Table:
    return _table(f"{title} ({len(fills)})",
                  ("time (UTC)", "venue", "symbol", "side", "qty", "price", "fee", "trade id", "client id"),
                  ([when(f.timestamp), f.venue, f.symbol, f.side.value, num(f.quantity), num(f.price),
                    f"{num(f.fee)} {f.fee_currency}", f.trade_id, f.client_order_id] for f in fills),
                  right=("qty", "price", "fee"))


def history_tables(history: History, out: TextIO) -> None:
    tables = [orders_table(history.orders), fills_table(history.fills)]
    if history.rejected:
        tables.append(_table(f"Refused orders ({len(history.rejected)})", ("venue", "client id", "symbol", "why"),
                             ([v, c, s, why] for v, c, s, why in history.rejected)))
    print_tables(out, *tables)


def status_flags(status: m.BrokerStatus, now: datetime | None = None) -> list[str]:
    """What a venue reports about itself beyond its connection state (a market session with the time left
    until its next transition, counted from ``now``: `BrokerStatus.next_session_change` is on our clock)."""
    flags = []
    if status.market_data_degraded:
        flags.append("market data degraded")
    if status.unknown_symbols:
        flags.append(f"unknown symbols: {', '.join(status.unknown_symbols)}")
    if status.session is not None:
        session = f"session {status.session.value}"
        if status.next_session_change is not None:
            session += f", next change in {until(status.next_session_change, now or utc_now())}"
        flags.append(session)
    return flags


def until(moment: datetime, now: datetime) -> str:
    """``1d 2h05m``, ``3h20m``, ``4m10s``: how long from ``now`` to ``moment`` (0s once passed)."""
    seconds = max(int((moment - now).total_seconds()), 0)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes, seconds = divmod(seconds, 60)
    if days or hours:
        return (f"{days}d " if days else "") + f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s"


def status_table(reply: m.DaemonStatusReply) -> Table:
    rows = [[st.venue, st.state.value, str(st.attempt), when(st.timestamp), "; ".join(status_flags(st)),
             (st.reason or "")[:80]] for st in reply.venues]
    return _table("Venues", ("venue", "state", "attempt", "since (UTC)", "notes", "reason"), rows)


def daemon_lines(reply: m.DaemonStatusReply) -> list[str]:
    kill = f"ENGAGED ({reply.kill_switch})" if reply.kill_switch else "off"
    lines = [f"daemon up since {when(reply.started_at)} UTC, {reply.sessions} control sessions"
             + (", SHUTTING DOWN" if reply.shutting_down else ""), f"kill switch {kill}"]
    if reply.journal:
        lines.append(f"journal {reply.journal}")
    return lines


def balances_table(balances: dict[str, list[Balance]]) -> Table:
    rows = [[venue, b.currency, num(b.free), num(b.locked), num(b.total)]
            for venue, items in balances.items() for b in sorted(items, key=lambda b: b.currency) if b.total]
    return _table("Balances (non-zero)", ("venue", "currency", "free", "locked", "total"), rows,
                  right=("free", "locked", "total"))


def positions_table(positions: dict[str, list[Position]]) -> Table:
    rows = [[venue, p.symbol, p.market_type.value, p.side.value, num(p.quantity), num(p.entry_price),
             num(p.mark_price), num(p.unrealized_pnl), num(p.realized_pnl), f"{num(p.leverage)}x"]
            for venue, items in positions.items() for p in items if p.side is not PositionSide.FLAT]
    return _table("Positions (open)", ("venue", "symbol", "market", "side", "size", "entry", "mark",
                                       "unrealised PnL", "realised PnL", "leverage"), rows,
                  right=("size", "entry", "mark", "unrealised PnL", "realised PnL"))
