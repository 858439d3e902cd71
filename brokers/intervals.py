"""Candle intervals: the unified codes against each venue's own, and where a bar ends.

A unified interval is ccxt's spelling: an amount and a unit, ``s`` seconds, ``m`` minutes, ``h`` hours,
``d`` days, ``w`` weeks, ``M`` calendar months (``1m``, ``4h``, ``1d``, ``1M`` ...). Each venue keeps
its own table (unified -> venue code, and the inverse) in its constants.py; `venue_code` reads one for
a request, `interval_end` says when a bar that opened at a given time closes, months by the calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

from brokers.errors import INTERVAL
from protocol.errors import InvalidOrder

UNIT_LENGTHS: Final = {"s": timedelta(seconds=1), "m": timedelta(minutes=1), "h": timedelta(hours=1),
                       "d": timedelta(days=1), "w": timedelta(weeks=1)}
"""The fixed-length units; ``M`` (a calendar month) is not one."""
LONGEST_MONTH: Final = timedelta(days=31)


def venue_code(interval: str, to_venue: Mapping[str, str], from_venue: Mapping[str, str] | None = None, *,
               venue: str, name: str, noun: str) -> str:
    """A unified interval -> the venue's code; a venue code passes as it is. Anything else is refused
    (`InvalidOrder`, filter ``INTERVAL``) with the unified intervals the venue offers:
    "<name> has no '7m' <noun>; use one of [...]".
    """
    if interval in to_venue:
        return to_venue[interval]
    if from_venue is not None and interval in from_venue:
        return interval
    raise InvalidOrder(f"{name} has no {interval!r} {noun}; use one of {sorted(to_venue)}", venue=venue,
                       filter=INTERVAL)


def _parts(unified: str, venue: str | None) -> tuple[int, str]:
    amount, unit = unified[:-1], unified[-1:]
    if not amount.isdigit() or (unit not in UNIT_LENGTHS and unit != "M"):
        raise InvalidOrder(f"unknown interval {unified!r}", venue=venue, filter=INTERVAL)
    return int(amount), unit


def interval_end(open_time: datetime, unified: str, *, venue: str | None = None) -> datetime:
    """When a bar of ``unified`` that opened at ``open_time`` closes: months by the calendar (a 1M bar
    opened on 1 December closes on 1 January), every other unit by its fixed length."""
    amount, unit = _parts(unified, venue)
    if unit == "M":
        year, month = divmod(open_time.month - 1 + amount, 12)
        return open_time.replace(year=open_time.year + year, month=month + 1)
    return open_time + amount * UNIT_LENGTHS[unit]


def longest_length(unified: str, *, venue: str | None = None) -> timedelta:
    """The longest a bar of ``unified`` lasts (a month counts 31 days): for sizing a look-back window."""
    amount, unit = _parts(unified, venue)
    return amount * (LONGEST_MONTH if unit == "M" else UNIT_LENGTHS[unit])
