"""OKX signing on the documented inputs, checked against the official SDK (python-okx) run here.

OKX's "REST Authentication > Signature" page publishes the inputs but no signature: the SecretKey
``22582BD0CFF14C41EDBF1AB98506286D``, the timestamp ``2020-12-08T09:08:57.715Z``, the GET path
``/api/v5/account/balance?ccy=BTC`` and the body ``{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}``
(the set-leverage example). The websocket "Login" page gives the timestamp ``1538054050`` and the recipe
``timestamp + 'GET' + '/users/self/verify'`` (its sample ``sign`` belongs to an undisclosed key). So the
expected values below were derived from python-okx 0.4.4's own signing code (``okx.utils.sign`` /
``pre_hash``, ``okx.websocket.WsUtils.initLoginParams``), which each test also runs.
"""

from __future__ import annotations

import json

import pytest

from brokers.okx import auth, constants
from protocol.credentials import Credentials, Secret
from protocol.errors import AuthenticationError

okx_utils = pytest.importorskip("okx.utils", reason="python-okx is a dev dependency")
okx_ws_utils = pytest.importorskip("okx.websocket.WsUtils", reason="python-okx is a dev dependency")

DOC_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
DOC_TIMESTAMP = "2020-12-08T09:08:57.715Z"
DOC_TIMESTAMP_MS = 1607418537715
DOC_GET_PATH = "/api/v5/account/balance?ccy=BTC"
DOC_BODY = '{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}'
DOC_WS_TIMESTAMP = 1538054050

# Derived from python-okx (see the module docstring), pinned so a change in either side is caught.
EXPECTED_GET_SIGN = "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
EXPECTED_POST_SIGN = "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8="
EXPECTED_WS_SIGN = "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="

CREDS = Credentials.from_strings("37c541a1-doc-key", DOC_SECRET, "doc-passphrase")


def _sdk_sign(method: str, path: str, body: str) -> str:
    return okx_utils.sign(okx_utils.pre_hash(DOC_TIMESTAMP, method, path, body, False), DOC_SECRET).decode()


def test_iso_timestamp_is_the_documented_format() -> None:
    assert auth.iso_timestamp(DOC_TIMESTAMP_MS) == DOC_TIMESTAMP
    assert auth.iso_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert auth.iso_timestamp(1_700_000_000_007) == "2023-11-14T22:13:20.007Z"


def test_documented_get_request_signs_path_with_query() -> None:
    assert auth.prehash(DOC_TIMESTAMP, "get", DOC_GET_PATH) == DOC_TIMESTAMP + "GET" + DOC_GET_PATH
    headers = auth.rest_headers(CREDS, DOC_TIMESTAMP_MS, "GET", DOC_GET_PATH)
    assert headers[constants.HEADER_SIGN] == EXPECTED_GET_SIGN == _sdk_sign("GET", DOC_GET_PATH, "")
    assert headers[constants.HEADER_TIMESTAMP] == DOC_TIMESTAMP
    assert headers[constants.HEADER_KEY] == "37c541a1-doc-key"
    assert headers[constants.HEADER_PASSPHRASE] == "doc-passphrase"
    assert constants.HEADER_SIMULATED not in headers and constants.HEADER_EXP_TIME not in headers


def test_documented_post_body_is_signed_byte_for_byte() -> None:
    headers = auth.rest_headers(CREDS, DOC_TIMESTAMP_MS, "POST", constants.SET_LEVERAGE, DOC_BODY.encode())
    assert headers[constants.HEADER_SIGN] == EXPECTED_POST_SIGN == _sdk_sign("POST", constants.SET_LEVERAGE,
                                                                             DOC_BODY)
    # the same data serialised differently (python-okx's json.dumps adds spaces) is a different signature
    spaced = json.dumps(json.loads(DOC_BODY))
    assert spaced != DOC_BODY
    assert auth.rest_headers(CREDS, DOC_TIMESTAMP_MS, "POST", constants.SET_LEVERAGE,
                             spaced)[constants.HEADER_SIGN] != EXPECTED_POST_SIGN


def test_demo_header_and_exp_time() -> None:
    headers = auth.rest_headers(CREDS, DOC_TIMESTAMP_MS, "POST", constants.ORDER, "{}", demo=True,
                                exp_time_ms=1597026383085)
    assert headers[constants.HEADER_SIMULATED] == "1"
    assert headers[constants.HEADER_EXP_TIME] == "1597026383085"
    assert auth.public_headers(demo=True) == {"x-simulated-trading": "1"}
    assert auth.public_headers(demo=False) == {}


def test_ws_login_matches_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    message = auth.ws_login_message(CREDS, DOC_WS_TIMESTAMP)
    monkeypatch.setattr(okx_ws_utils, "getLocalTime", lambda: DOC_WS_TIMESTAMP)
    sdk = json.loads(okx_ws_utils.initLoginParams(False, CREDS.api_key, "doc-passphrase", DOC_SECRET))
    arg = message["args"][0]  # type: ignore[index]
    assert arg["sign"] == EXPECTED_WS_SIGN == sdk["args"][0]["sign"]
    assert arg == {"apiKey": "37c541a1-doc-key", "passphrase": "doc-passphrase", "timestamp": "1538054050",
                   "sign": EXPECTED_WS_SIGN}  # the docs type the timestamp as a String
    assert message["op"] == "login"


def test_missing_passphrase_is_a_typed_error_and_secrets_stay_hidden() -> None:
    no_passphrase = Credentials(api_key="k", api_secret=Secret(DOC_SECRET))
    with pytest.raises(AuthenticationError, match="passphrase"):
        auth.rest_headers(no_passphrase, DOC_TIMESTAMP_MS, "GET", DOC_GET_PATH)
    with pytest.raises(AuthenticationError):
        auth.ws_login_message(no_passphrase, DOC_WS_TIMESTAMP)
    assert DOC_SECRET not in repr(CREDS) and "doc-passphrase" not in repr(CREDS)
