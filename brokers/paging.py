"""One paging loop for every venue's list endpoints, and the cursor rules venues page by.

A venue writes only ``fetch(cursor) -> Page``: one request for the page that starts at ``cursor``
(None: the first page), with the rows it keeps and where the next page starts. `collect` runs the
loop, bounded. Where the next page starts is the venue's rule, one helper each:

- `next_token`: an opaque token in the answer (Bybit ``nextPageCursor``, Alpaca ``next_page_token``);
- `next_after`: the id of the last row, when the page was full (OKX ``after``; Binance ``fromId`` is
  the last id + 1);
- `next_offset`: a row offset, when the page was full (Kraken ``ofs``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import attrs

log = logging.getLogger(__name__)

T = TypeVar("T")
C = TypeVar("C")

MAX_PAGES = 50
"""The default bound on pages per call: a loop over a venue's answers must end even if the venue's
cursor never does."""


@attrs.frozen
class Page(Generic[T, C]):
    """One page of a list: the rows the caller keeps, and the cursor of the next page (None: last)."""

    rows: Sequence[T]
    next: C | None = None


async def collect(fetch: Callable[[C | None], Awaitable[Page[T, C]]], *, enough: int | None = None,
                  max_pages: int = MAX_PAGES, what: str = "pages") -> list[T]:
    """Rows of every page from the first on, until a page says it is the last, ``enough`` rows are in,
    or ``max_pages`` were read (said in the log: the list may be longer)."""
    rows: list[T] = []
    cursor: C | None = None
    for _ in range(max_pages):
        page = await fetch(cursor)
        rows.extend(page.rows)
        if page.next is None or (enough is not None and len(rows) >= enough):
            return rows
        cursor = page.next
    log.warning("%s: stopped after %d pages (%d rows); there may be more", what, max_pages, len(rows))
    return rows


def next_token(token: str | None) -> str | None:
    """An opaque next-page token; empty or absent means this was the last page."""
    return token or None


def next_after(rows: Sequence[T], page_size: int, last_id: Callable[[T], C]) -> C | None:
    """``last_id`` of the last row when the page was full (a shorter page is the last)."""
    return last_id(rows[-1]) if rows and len(rows) >= page_size else None


def next_offset(offset: int | None, rows: Sequence[object], page_size: int) -> int | None:
    """The offset after this page when it was full (a shorter page is the last)."""
    return (offset or 0) + len(rows) if len(rows) >= page_size else None
