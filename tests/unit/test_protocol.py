"""Every protocol message survives the JSON codec unchanged, and errors survive their wire form."""

from __future__ import annotations

import enum
import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Union

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import errors as e
from protocol import messages as m
from protocol.credentials import Credentials, Secret
from protocol.model import Side, from_epoch_ms, to_epoch_ms

decimals = st.decimals(allow_nan=False, allow_infinity=False, places=8, min_value=-10**12, max_value=10**12)
utc_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return strategy_for(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return st.one_of(*(strategy_for(a) for a in typing.get_args(tp)))
    if origin is list:
        return st.lists(strategy_for(typing.get_args(tp)[0]), max_size=3)
    if origin is tuple:
        return st.lists(strategy_for(typing.get_args(tp)[0]), max_size=3).map(tuple)
    if origin is dict:
        k, v = typing.get_args(tp)
        return st.dictionaries(strategy_for(k), strategy_for(v), max_size=3)
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if tp is str:
        return st.text(max_size=12)
    if tp is int:
        return st.integers(-(2**53), 2**53)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is bool:
        return st.booleans()
    if tp is Decimal:
        return decimals
    if tp is datetime:
        return utc_times
    if tp is date:
        return st.dates()
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        hints = typing.get_type_hints(tp, include_extras=True)
        fields = {f.name: strategy_for(hints[f.name]) for f in msgspec.structs.fields(tp)}
        return st.builds(tp, **fields)
    raise TypeError(f"no strategy for {tp!r}")


def members(union: Any) -> list[type]:
    return list(typing.get_args(union))


ALL_TYPES = members(m.CommandMsg) + members(m.ReplyMsg) + members(m.EventMsg)


def test_every_message_type_is_covered() -> None:
    assert len(ALL_TYPES) == len(set(ALL_TYPES)) >= 40


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_message_round_trips_through_json(cls: type, data: st.DataObject) -> None:
    message = data.draw(strategy_for(cls))
    wire = m.encode(message)
    assert m.decode_message(wire) == message
    decoder = {**dict.fromkeys(members(m.CommandMsg), m.decode_command),
               **dict.fromkeys(members(m.ReplyMsg), m.decode_reply),
               **dict.fromkeys(members(m.EventMsg), m.decode_event)}[cls]
    assert decoder(wire) == message


def test_decimals_travel_as_strings_never_floats() -> None:
    fill = m.Fill(venue="v", symbol="BTC/USDT", order_id="1", client_order_id="c", trade_id="7",
                  side=Side.BUY, price=Decimal("0.1"),
                  quantity=Decimal("3.00000001"), fee=Decimal("0"), fee_currency="BTC", is_maker=False,
                  timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    raw = msgspec.json.decode(m.encode(fill))
    assert raw["price"] == "0.1" and raw["quantity"] == "3.00000001"


def test_naive_datetimes_are_refused() -> None:
    status = msgspec.json.encode({"kind": "BrokerStatus", "venue": "x", "state": "connected",
                                  "timestamp": "2026-01-01T00:00:00"})
    with pytest.raises(msgspec.ValidationError):
        m.decode_event(status)


@given(st.integers(0, 4_102_444_800_000))
def test_epoch_ms_is_exact(ms: int) -> None:
    assert to_epoch_ms(from_epoch_ms(ms)) == ms
    assert from_epoch_ms(ms).tzinfo is UTC


def test_to_epoch_ms_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_epoch_ms(datetime(2026, 1, 1))


ERRORS = [
    e.AuthenticationError("bad key", venue="binance", code=-2015, venue_message="Invalid API-key"),
    e.RateLimited("slow down", venue="binance", code=429, retry_after=Decimal("12"), banned=False),
    e.InvalidOrder("qty", venue="binance", code=-1013, filter="LOT_SIZE"),
    e.RiskRejected("too big", rule="max_order_notional", client_order_id="c1"),
    e.VenueUnavailable("timeout", venue="bybit", client_order_id="c2"),
    e.NotSupported("no leverage on spot", venue="binance"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda x: type(x).__name__)
def test_errors_survive_their_wire_form(error: e.BrokerError) -> None:
    info = msgspec.json.decode(msgspec.json.encode(error.to_info()), type=e.ErrorInfo)
    again = e.error_from_info(info)
    assert type(again) is type(error)
    assert again.to_info() == error.to_info()
    assert str(again) == str(error)


def test_retryable_defaults_follow_the_kind() -> None:
    assert e.VenueUnavailable("x").retryable and e.RateLimited("x").retryable
    assert not e.AuthenticationError("x").retryable and not e.InvalidOrder("x").retryable


def test_secrets_never_print() -> None:
    creds = Credentials.from_strings("AKIDEXAMPLE123", "very-secret-value", "pass-phrase")
    for text in (repr(creds), str(creds), repr(creds.api_secret), f"{creds.api_secret}"):
        assert "very-secret-value" not in text and "pass-phrase" not in text
    assert creds.api_secret.reveal() == "very-secret-value"
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    for leaky in (creds.api_secret, creds):
        with pytest.raises(TypeError):
            msgspec.json.encode(leaky)
