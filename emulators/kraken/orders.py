"""What Kraken says about an order or a fill beyond the engine's record: ids, flags, times, reasons.

Kraken's ids are deterministic from the seed: orders ``O`` + 5-5-6 characters (``OUF4EM-FRGI2-MQMWZD``), trades
``T...`` (a margin position is named by its opening trade), ledger entries ``L...``. The dialect stages an
order's Kraken options (`OrderMeta`) before it calls the engine, because the engine announces the order (and
maybe its fills) before ``place`` returns; `Orders.record_order` picks them up on the first announcement.
"""

from __future__ import annotations

import base64
import hashlib
import time
from decimal import Decimal

import attrs

from emulators.engine import EFill, EOrder
from emulators.kraken.pairs import KrakenPair


def kraken_id(prefix: str, *parts: object) -> str:
    """A Kraken-shaped id (``O`` + ``XXXXX-XXXXX-XXXXXX``), deterministic from ``parts``."""
    digest = hashlib.sha256(":".join(str(p) for p in (prefix, *parts)).encode()).digest()
    text = base64.b32encode(digest).decode()
    return f"{prefix}{text[:5]}-{text[5:10]}-{text[10:16]}"


@attrs.frozen
class OrderMeta:
    """The Kraken options of an order the engine does not keep."""

    ordertype: str = "limit"  # limit | market
    leverage: int | None = None
    userref: int | None = None
    oflags: tuple[str, ...] = ()  # post, viqc
    timeinforce: str = "GTC"
    liquidation: bool = False  # placed by the venue to close positions below the margin stop


@attrs.define
class OrderInfo:
    txid: str
    order: EOrder
    pair: KrakenPair
    meta: OrderMeta
    opentm: float  # unix seconds
    placed_at: float  # trio time, placed or last amended (the trading counter's order age)
    closetm: float | None = None
    reason: str | None = None
    amended: bool = False
    trades: list[str] = attrs.field(factory=list)

    @property
    def status(self) -> str:
        """Kraken's status: open, closed (filled), canceled (by the user, the venue, or an IOC/FOK/market
        remainder that could not fill)."""
        match self.order.status:
            case "NEW" | "PARTIALLY_FILLED":
                return "open"
            case "FILLED":
                return "closed"
            case _:
                return "canceled"


@attrs.define
class FillInfo:
    txid: str
    fill: EFill
    info: OrderInfo
    opened: Decimal = Decimal(0)  # margin: what this fill opened (a position named by this trade)
    closed: Decimal = Decimal(0)  # margin: what it closed
    postxid: str = ""  # margin: the position it opened or (first) closed
    margin: Decimal = Decimal(0)  # initial margin of what it opened


@attrs.define
class Orders:
    """Every order and fill the dialect has seen, by the engine's keys and by Kraken's ids."""

    seed: int
    infos: dict[tuple[str, int], OrderInfo] = attrs.field(factory=dict)
    by_txid: dict[str, OrderInfo] = attrs.field(factory=dict)
    fills: dict[tuple[str, int], FillInfo] = attrs.field(factory=dict)
    fill_by_txid: dict[str, FillInfo] = attrs.field(factory=dict)
    history: list[FillInfo] = attrs.field(factory=list)  # in time order
    staged: OrderMeta | None = None

    def order_txid(self, order: EOrder) -> str:
        return kraken_id("O", self.seed, order.symbol, order.order_id)

    def trade_txid(self, symbol: str, trade_id: int) -> str:
        return kraken_id("T", self.seed, symbol, trade_id)

    def info(self, order: EOrder) -> OrderInfo | None:
        return self.infos.get((order.symbol, order.order_id))

    def record_order(self, order: EOrder, pair: KrakenPair, now: float) -> OrderInfo:
        """The order's info, made from the staged options the first time the engine announces it."""
        found = self.info(order)
        if found is None:
            meta, self.staged = self.staged or OrderMeta(), None
            found = OrderInfo(self.order_txid(order), order, pair, meta, order.created_ms / 1000, now)
            self.infos[(order.symbol, order.order_id)] = found
            self.by_txid[found.txid] = found
        return found

    def record_fill(self, info: OrderInfo, fill: EFill) -> FillInfo:
        record = FillInfo(self.trade_txid(fill.symbol, fill.trade_id), fill, info)
        self.fills[(fill.symbol, fill.trade_id)] = record
        self.fill_by_txid[record.txid] = record
        self.history.append(record)
        info.trades.append(record.txid)
        return record

    def finished(self, info: OrderInfo, reason: str | None) -> None:
        if info.closetm is None:
            info.closetm = time.time()
            info.reason = reason
