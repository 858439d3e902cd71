"""brokers/wire.py's readers of what venues send: numbers as strings (``""`` meaning absent), enum values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokers import wire
from brokers.alpaca import mapping as alpaca_mapping
from brokers.bybit import mapping as bybit_mapping
from brokers.bybit import schemas as bybit
from brokers.okx import mapping as okx_mapping
from brokers.okx import schemas as okx
from protocol.errors import ProtocolViolation


def test_blank_is_absent_and_numbers_are_exact() -> None:
    assert wire.opt_decimal("", venue="v", name="V") is None and wire.opt_decimal(None, venue="v", name="V") is None
    assert wire.opt_decimal("0.10", venue="v", name="V") == Decimal("0.10")
    assert str(wire.opt_decimal("-1.50", venue="v", name="V")) == "-1.50"  # the venue's text, kept exactly
    assert wire.decimal_or_zero("", venue="v", name="V") == 0
    assert wire.decimal_or_zero("2.5", venue="v", name="V") == Decimal("2.5")


@pytest.mark.parametrize("garbage", ["abc", "NaN", "Infinity", "-inf", "1,5"])
def test_garbage_names_the_venue_and_the_field(garbage: str) -> None:
    for read in (wire.opt_decimal, wire.decimal_or_zero):
        with pytest.raises(ProtocolViolation) as refused:
            read(garbage, venue="okx", name="OKX", field="avgPx")
        assert refused.value.venue == "okx"
        assert refused.value.message.startswith(f"OKX sent avgPx={garbage!r}, not a")


def test_each_venue_binds_its_own_name() -> None:
    with pytest.raises(ProtocolViolation) as from_bybit:
        bybit.opt_decimal("x", field="liqPrice")
    with pytest.raises(ProtocolViolation) as from_okx:
        okx.decimal_or_zero("x", field="liqPx")
    assert (from_bybit.value.venue, from_okx.value.venue) == ("bybit", "okx")
    assert "Bybit sent liqPrice='x'" in str(from_bybit.value) and "OKX sent liqPx='x'" in str(from_okx.value)


def test_lookup_maps_or_names_the_unknown_value() -> None:
    table = {"Buy": "buy", "Sell": "sell"}
    assert wire.lookup(table, "Sell", "side", venue="v", name="V") == "sell"
    with pytest.raises(ProtocolViolation) as refused:
        wire.lookup(table, "buy", "side", venue="bybit", name="Bybit")  # no silent case folding
    assert refused.value.message == "unknown Bybit side 'buy'" and refused.value.venue == "bybit"


def test_venue_enum_readers_name_their_venue() -> None:
    for read, text in ((alpaca_mapping.side_from, "unknown Alpaca side 'hold'"), (bybit_mapping.side_from,
                       "unknown Bybit side 'hold'"), (okx_mapping.side_from, "unknown OKX side 'hold'")):
        with pytest.raises(ProtocolViolation) as refused:
            read("hold")
        assert refused.value.message == text
