"""API-Sign: Kraken's documented example reproduced exactly, and the SDK's signer agrees.

The example is the worked one on Kraken's "Spot REST Authentication" page
(https://docs.kraken.com/exchange/guides/rest/authentication, formerly
https://docs.kraken.com/api/docs/guides/spot-rest-auth): a limit buy of 1.25 XBTUSD at 37,500.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.kraken import auth, constants
from protocol.credentials import Credentials, Secret
from protocol.errors import AuthenticationError

DOC_PRIVATE_KEY = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
DOC_NONCE = 1616492376594
DOC_ENCODED_PAYLOAD = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
DOC_URI_PATH = "/0/private/AddOrder"
DOC_API_SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
DOC_PARAMS = {"ordertype": "limit", "pair": "XBTUSD", "price": "37500", "type": "buy", "volume": "1.25"}


def test_documented_signature_reproduces() -> None:
    assert auth.sign(Secret(DOC_PRIVATE_KEY), DOC_URI_PATH, DOC_NONCE, DOC_ENCODED_PAYLOAD) == DOC_API_SIGN


def test_documented_payload_is_what_we_encode_and_sign() -> None:
    assert auth.encode_form(DOC_NONCE, DOC_PARAMS) == DOC_ENCODED_PAYLOAD
    body, headers = auth.private_request(Credentials.from_strings("public-key", DOC_PRIVATE_KEY), DOC_URI_PATH,
                                         DOC_NONCE, DOC_PARAMS)
    assert body == DOC_ENCODED_PAYLOAD.encode()
    assert headers == {"API-Key": "public-key", "API-Sign": DOC_API_SIGN,
                       "Content-Type": constants.CONTENT_TYPE_FORM}
    assert DOC_PRIVATE_KEY not in repr(headers)


def test_the_official_sdk_signs_the_same() -> None:
    base_api = pytest.importorskip("kraken.base_api", reason="python-kraken-sdk is a dev dependency")
    client = base_api.SpotClient(key="public-key", secret=DOC_PRIVATE_KEY)
    assert client._get_kraken_signature(url_path=DOC_URI_PATH, data=DOC_ENCODED_PAYLOAD,
                                        nonce=DOC_NONCE) == DOC_API_SIGN


@given(nonce=st.integers(min_value=1, max_value=constants.NONCE_MAX),
       params=st.dictionaries(st.sampled_from(["pair", "volume", "price", "cl_ord_id", "validate"]),
                              st.text(max_size=20), max_size=5))
def test_signature_is_the_documented_formula_for_any_body(nonce: int, params: dict[str, str]) -> None:
    body = auth.encode_form(nonce, params)
    expected = base64.b64encode(hmac.new(base64.b64decode(DOC_PRIVATE_KEY),
                                         DOC_URI_PATH.encode() + hashlib.sha256(f"{nonce}{body}".encode()).digest(),
                                         hashlib.sha512).digest()).decode()
    assert auth.sign(Secret(DOC_PRIVATE_KEY), DOC_URI_PATH, nonce, body) == expected
    assert body.startswith(f"nonce={nonce}")


def test_booleans_are_encoded_as_kraken_reads_them() -> None:
    assert auth.encode_form(5, {"validate": True, "reduce_only": False}) == "nonce=5&validate=true&reduce_only=false"


@pytest.mark.parametrize("nonce", [0, -1, 2**64])
def test_nonce_outside_uint64_is_refused(nonce: int) -> None:
    with pytest.raises(ValueError, match="unsigned 64-bit"):
        auth.encode_form(nonce)


def test_nonce_cannot_be_smuggled_in_the_params() -> None:
    with pytest.raises(ValueError, match="added by the signer"):
        auth.encode_form(5, {"nonce": "4"})


def test_public_paths_are_not_signed() -> None:
    with pytest.raises(ValueError, match="private paths"):
        auth.sign(Secret(DOC_PRIVATE_KEY), "/0/public/Time", 1, "nonce=1")


def test_a_secret_that_is_not_base64_is_an_authentication_error_without_echo() -> None:
    with pytest.raises(AuthenticationError) as raised:
        auth.sign(Secret("not base64!!"), DOC_URI_PATH, 1, "nonce=1")
    assert "not base64!!" not in str(raised.value) and raised.value.venue == "kraken"


def test_private_websocket_subscribe_carries_the_token() -> None:
    assert auth.ws_subscribe("executions", "tok", req_id=7, snap_trades=True) == {
        "method": "subscribe", "params": {"channel": "executions", "snap_trades": True, "token": "tok"}, "req_id": 7}
    assert auth.ws_subscribe("ticker", symbol=["BTC/USD"]) == {
        "method": "subscribe", "params": {"channel": "ticker", "symbol": ["BTC/USD"]}}
