"""The kit's signature check and API accounts: the published Binance vector, key lookup, the venue's order
of checks and its words, and the freshness rule at its edges."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from emulators.engine import Exchange
from emulators.engine.accounts import HEX_64, ApiAccounts, KeyShape
from emulators.engine.errors import VenueError
from emulators.engine.signing import SignatureCheck, SignedCall, hmac_sha256_hex

# Binance's "SIGNED Endpoint Examples for POST /api/v3/order - HMAC Keys".
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_QUERY = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
             "&timestamp=1499827319559")
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


class Words:
    """Each failure as its own code, so a test sees which check fired."""

    def unknown_key(self) -> VenueError:
        return VenueError(401, "unknown_key", "")

    def missing_signature(self) -> VenueError:
        return VenueError(400, "missing_signature", "")

    def bad_signature(self, payload: str) -> VenueError:
        return VenueError(400, "bad_signature", payload)

    def malformed_time(self, name: str) -> VenueError:
        return VenueError(400, "malformed_time", name)

    def window_too_wide(self, limit: int) -> VenueError:
        return VenueError(400, "window_too_wide", str(limit))

    def stale(self, timestamp: str, recv_window: str, now: int) -> VenueError:
        return VenueError(400, "stale", f"{timestamp}/{recv_window}")


def registry() -> ApiAccounts[list[str]]:
    accounts = ApiAccounts(Exchange(seed=1), KeyShape(18, 36), list, default_balances={"USDT": Decimal(5)})
    accounts.add("demo", "K" * 18, DOC_SECRET)
    return accounts


def code(check: SignatureCheck, call: SignedCall) -> object:
    with pytest.raises(VenueError) as info:
        check.verify(registry(), call)
    return info.value.code


def now() -> str:
    return str(time.time_ns() // 1_000_000)


def test_the_published_vector() -> None:
    assert hmac_sha256_hex(DOC_SECRET, DOC_QUERY) == DOC_SIGNATURE


def test_accounts_are_generated_in_the_venue_shape_and_open_the_engine_account() -> None:
    accounts = registry()
    second = accounts.add("second")
    assert len(second.api_key) == 18 and len(second.api_secret) == 36 and second.api_key.isalnum()
    assert second.uid == accounts.by_key["K" * 18].uid + 1 and second.state == []
    assert accounts.exchange.balance("second", "USDT") == (Decimal(5), Decimal(0))
    hex_key = ApiAccounts(Exchange(seed=1), HEX_64, list).add("x").api_key
    assert len(hex_key) == 64 and set(hex_key) <= set("0123456789abcdef")
    assert DOC_SECRET not in repr(accounts.by_key["K" * 18])


def test_checks_in_the_venue_order_with_its_words() -> None:
    signature_first = SignatureCheck(hmac_sha256_hex, Words(), max_recv_window=60_000)
    time_first = SignatureCheck(hmac_sha256_hex, Words(), time_first=True)
    good = SignedCall("K" * 18, DOC_SIGNATURE.upper(), DOC_QUERY, now(), "5000")
    assert signature_first.verify(registry(), good).name == "demo"  # hex compared case-insensitively
    assert code(signature_first, SignedCall("X", DOC_SIGNATURE, DOC_QUERY, now(), "5000")) == "unknown_key"
    assert code(signature_first, SignedCall("K" * 18, None, DOC_QUERY, now(), "5000")) == "missing_signature"
    stale_and_forged = SignedCall("K" * 18, "00", DOC_QUERY, "1", "5000")
    assert code(signature_first, stale_and_forged) == "bad_signature"
    assert code(time_first, stale_and_forged) == "stale"
    assert code(time_first, SignedCall("K" * 18, "é", DOC_QUERY, now(), "5000")) == "bad_signature"
    assert code(signature_first, SignedCall("K" * 18, DOC_SIGNATURE, DOC_QUERY, "12a", "5000")) == "malformed_time"
    assert code(signature_first, SignedCall("K" * 18, DOC_SIGNATURE, DOC_QUERY, now(), "-5")) == "malformed_time"
    assert code(signature_first, SignedCall("K" * 18, DOC_SIGNATURE, DOC_QUERY, now(), "60001")) == \
        "window_too_wide"


def test_freshness_at_its_edges() -> None:
    check = SignatureCheck(hmac_sha256_hex, Words())
    current = int(now())
    check.fresh(str(current - 4000), "5000")
    check.fresh(str(current + 500), "5000")  # a little ahead is allowed ...
    with pytest.raises(VenueError, match="/5000"):
        check.fresh(str(current + 5000), "5000")  # ... a lot is not
    with pytest.raises(VenueError):
        check.fresh(str(current - 60_000), "5000")
