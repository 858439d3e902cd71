"""The Kraken dialect on the wire: signing (the published vector) and every auth error, the nonce, the error
arrays, limits, order semantics, margin, Earn, paging, faults, and websocket v2 public and private -- each
checked against Kraken's documentation (docs.kraken.com, 2026-11-30).

Requests are signed here independently of the emulator, from the documented algorithm. Loopback only; every
wait is bounded. Timers (the dead man's switch, Earn, token expiry) run on trio's virtual clock; the decaying
counters and the deadline use the real clock (a virtual clock jumps while we wait on sockets).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import trio
import trio_websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulators import EmulatedVenue, emulate
from emulators.engine.faults import Faults
from emulators.engine.server import HttpRequest, WsConnection
from emulators.kraken.auth import api_sign
from emulators.kraken.pairs import PAIRS
from emulators.kraken.ws import checksum
from emulators.registry import assemble

D = Decimal
PUBLISHED_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
PUBLISHED_SIGNATURE = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
PUBLISHED_PAYLOAD = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
_nonces = itertools.count(time.time_ns())


def signature(secret: str, path: str, nonce: str, body: str) -> str:
    """The documented API-Sign: base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + POST data)))."""
    digest = hashlib.sha256((nonce + body).encode()).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret), path.encode() + digest, hashlib.sha512).digest()).decode()


class Kraken:
    """A minimal signed client (form bodies unless asked for JSON)."""

    def __init__(self, venue: EmulatedVenue, http: httpx.AsyncClient, key: str | None = None,
                 secret: str | None = None) -> None:
        self.venue, self.http = venue, http
        self.key, self.secret = key or venue.api_key, secret or venue.api_secret

    async def public(self, method: str, **params: Any) -> dict[str, Any]:
        response = await self.http.get(f"/0/public/{method}", params=params)
        body: dict[str, Any] = response.json()
        return body

    async def post(self, method: str, params: dict[str, Any] | None = None, *, nonce: Any = None,
                   json_body: bool = False, key: str | None = None, secret: str | None = None,
                   sign: str | None = None) -> httpx.Response:
        path = f"/0/private/{method}"
        payload = {"nonce": next(_nonces) if nonce is None else nonce, **(params or {})}
        body = json.dumps(payload) if json_body else urlencode(payload)
        headers = {"API-Key": key if key is not None else self.key,
                   "API-Sign": sign if sign is not None else signature(secret or self.secret, path,
                                                                      str(payload["nonce"]), body),
                   "Content-Type": "application/json" if json_body else "application/x-www-form-urlencoded"}
        return await self.http.post(path, content=body, headers=headers)

    async def ok(self, method: str, **params: Any) -> Any:
        response = await self.post(method, params)
        body = response.json()
        assert response.status_code == 200 and body["error"] == [], body
        return body["result"]

    async def error(self, method: str, **params: Any) -> str:
        response = await self.post(method, params)
        body = response.json()
        assert response.status_code == 200 and "result" not in body and len(body["error"]) == 1, body
        return str(body["error"][0])


def client(venue: EmulatedVenue, *, fresh: bool = False) -> httpx.AsyncClient:
    """``fresh``: a new connection per request, for tests that jump the virtual clock past the server's
    keep-alive timeout."""
    limits = httpx.Limits(max_keepalive_connections=0) if fresh else httpx.Limits()
    return httpx.AsyncClient(base_url=venue.rest_url, timeout=10, limits=limits)


@pytest.fixture
async def venue() -> AsyncIterator[EmulatedVenue]:
    async with emulate("kraken", seed=21, tick_interval=0.05) as emulated:
        yield emulated


# ---------------------------------------------------------------------- signing, nonce, errors
async def test_the_published_signature_reproduces_and_is_accepted() -> None:
    assert api_sign(PUBLISHED_SECRET, "/0/private/AddOrder", "1616492376594",
                    PUBLISHED_PAYLOAD) == PUBLISHED_SIGNATURE
    assert signature(PUBLISHED_SECRET, "/0/private/AddOrder", "1616492376594", PUBLISHED_PAYLOAD) == \
        PUBLISHED_SIGNATURE
    async with emulate("kraken", seed=3, tick_interval=3600) as venue, client(venue) as http:
        venue.dialect.add_account("doc", "docKey", PUBLISHED_SECRET, {"ZUSD": D(100_000)})
        response = await http.post("/0/private/AddOrder", content=PUBLISHED_PAYLOAD, headers={
            "API-Key": "docKey", "API-Sign": PUBLISHED_SIGNATURE,
            "Content-Type": "application/x-www-form-urlencoded"})
        body = response.json()
        assert body["error"] == [] and body["result"]["descr"]["order"] == "buy 1.25000000 XBTUSD @ limit 37500.0"
        [order] = venue.engine.open_orders("doc")
        assert (order.side, order.quantity, order.price) == ("BUY", D("1.25"), D("37500"))


async def test_authentication_errors_in_krakens_words(venue: EmulatedVenue) -> None:
    async with client(venue) as http:
        api = Kraken(venue, http)
        assert (await api.post("Balance")).json()["error"] == []
        assert (await api.post("Balance", key="")).json() == {"error": ["EAPI:Invalid key"]}
        assert (await api.post("Balance", key="X" * 56)).json() == {"error": ["EAPI:Invalid key"]}
        wrong = base64.b64encode(b"\x00" * 64).decode()
        assert (await api.post("Balance", secret=wrong)).json() == {"error": ["EAPI:Invalid signature"]}
        good = (await api.post("Balance", sign="")).json()
        assert good == {"error": ["EAPI:Invalid signature"]}
        # Base64 is case-sensitive: a signature with its case changed is a different signature.
        nonce = next(_nonces)
        body = urlencode({"nonce": nonce})
        swapped = signature(venue.api_secret, "/0/private/Balance", str(nonce), body).swapcase()
        assert (await api.post("Balance", nonce=nonce, sign=swapped)).json()["error"] == ["EAPI:Invalid signature"]
        # JSON bodies are signed the same way, over the exact body.
        assert (await api.post("Balance", json_body=True)).json()["error"] == []
        for bad_nonce in ("", "abc", "-5", "1.5", str(2**64)):
            assert (await api.post("Balance", nonce=bad_nonce)).json()["error"] == ["EAPI:Invalid nonce"]


async def test_nonces_strictly_increase_at_any_scale_and_a_window_admits_late_ones(venue: EmulatedVenue) -> None:
    async with client(venue) as http:
        key, secret = venue.add_account("nonces")
        api = Kraken(venue, http, key, secret)
        sdk_scale = int(time.time() * 100_000_000)  # python-kraken-sdk: time x 1e8
        assert (await api.post("Balance", nonce=sdk_scale)).json()["error"] == []
        millis = int(time.time() * 1000)  # a smaller scale afterwards is a lower nonce
        assert (await api.post("Balance", nonce=millis)).json()["error"] == ["EAPI:Invalid nonce"]
        assert (await api.post("Balance", nonce=sdk_scale)).json()["error"] == ["EAPI:Invalid nonce"]  # reused
        # A nonce is spent once the signature holds, even when the request is refused afterwards.
        refused = await api.post("AddOrder", {"pair": "XBTUSD"}, nonce=sdk_scale + 1)
        assert refused.json()["error"][0].startswith("EGeneral:Invalid arguments")
        assert (await api.post("Balance", nonce=sdk_scale + 1)).json()["error"] == ["EAPI:Invalid nonce"]
        venue.dialect.set_nonce_window(key, 10)
        assert (await api.post("Balance", nonce=sdk_scale + 100)).json()["error"] == []
        assert (await api.post("Balance", nonce=sdk_scale + 95)).json()["error"] == []  # late, within the window
        assert (await api.post("Balance", nonce=sdk_scale + 95)).json()["error"] == ["EAPI:Invalid nonce"]  # once
        assert (await api.post("Balance", nonce=sdk_scale + 89)).json()["error"] == ["EAPI:Invalid nonce"]


async def test_unknown_methods_wrong_verbs_and_unknown_parameters_are_refused(venue: EmulatedVenue) -> None:
    async with client(venue) as http:
        api = Kraken(venue, http)
        missing = await http.get("/0/public/Nope")
        assert missing.status_code == 404 and missing.json() == {"error": ["EGeneral:Unknown method"]}
        posted = await http.post("/0/public/Time")  # public endpoints are GET-only since January 2024
        assert posted.status_code == 405 and posted.json() == {"error": ["EGeneral:Unknown method"]}
        assert (await http.get("/0/private/Balance")).status_code == 405
        assert (await http.get("/1/public/Time")).status_code == 404
        odd = await api.public("Ticker", pair="XBTUSD", foo="1")
        assert odd["error"] == ["EGeneral:Invalid arguments:foo is not supported by this emulator"]
        assert await api.error("Balance", otp="123456") == \
            "EGeneral:Invalid arguments:otp is not supported by this emulator"
        base = {"pair": "XBTUSD", "type": "buy", "volume": "0.01"}
        refusals = {
            "stop-loss": await api.error("AddOrder", **base, ordertype="stop-loss", price="60000"),
            "expiretm": await api.error("AddOrder", **base, ordertype="limit", price="60000", expiretm="+60"),
            "GTD": await api.error("AddOrder", **base, ordertype="limit", price="60000", timeinforce="GTD"),
            "fcib": await api.error("AddOrder", **base, ordertype="market", oflags="fcib"),
            "close": await api.error("AddOrder", **base, ordertype="limit", price="60000",
                                     **{"close[ordertype]": "limit"}),
            "relative": await api.error("AddOrder", **base, ordertype="limit", price="+10"),
        }
        assert all(text.startswith("EGeneral:Invalid arguments:") and "not supported by this emulator" in text
                   for text in refusals.values()), refusals
        assert await api.error("AddOrder", **base, ordertype="banana") == "EGeneral:Invalid arguments:ordertype"
        assert venue.engine.open_orders("demo") == []


async def test_public_market_data_shapes() -> None:
    async with emulate("kraken", seed=5, tick_interval=3600) as venue, client(venue) as http:
        api = Kraken(venue, http)
        now = await api.public("Time")
        assert now["error"] == [] and abs(now["result"]["unixtime"] - time.time()) < 5
        assert now["result"]["rfc1123"].endswith("+0000")
        assert (await api.public("SystemStatus"))["result"]["status"] == "online"
        assets = (await api.public("Assets"))["result"]
        assert assets["XXBT"]["altname"] == "XBT" and assets["ZUSD"]["decimals"] == 4 and "XBT.B" in assets
        assert list((await api.public("Assets", asset="XBT,ZUSD"))["result"]) == ["XXBT", "ZUSD"]
        assert (await api.public("Assets", asset="NOPE"))["error"] == ["EQuery:Unknown asset"]
        pairs = (await api.public("AssetPairs", pair="XBTUSD"))["result"]
        entry = pairs["XXBTZUSD"]
        assert (entry["altname"], entry["wsname"], entry["base"], entry["quote"]) == ("XBTUSD", "XBT/USD", "XXBT",
                                                                                      "ZUSD")
        assert (entry["pair_decimals"], entry["lot_decimals"], entry["tick_size"], entry["ordermin"],
                entry["costmin"]) == (1, 8, "0.1", "0.00005", "0.5")
        assert entry["leverage_buy"] == [2, 3, 4, 5] and entry["fees"] == [] and entry["margin_call"] == 80
        assert (await api.public("AssetPairs", pair="XBTUSD", info="leverage"))["result"]["XXBTZUSD"] == \
            {"leverage_buy": [2, 3, 4, 5], "leverage_sell": [2, 3, 4, 5]}
        assert (await api.public("Ticker", pair="NOPE"))["error"] == ["EQuery:Unknown asset pair"]
        state = venue.engine.symbols["XXBTZUSD"]
        tick = (await api.public("Ticker", pair="XXBTZUSD"))["result"]["XXBTZUSD"]
        assert set(tick) == set("abcvptlho")
        assert (D(tick["a"][0]), D(tick["b"][0])) == (state.book.asks[0][0], state.book.bids[0][0])
        candles = (await api.public("OHLC", pair="XBTUSD", interval=60))["result"]
        rows = candles["XXBTZUSD"]
        assert all(len(row) == 8 for row in rows) and rows[-1][0] > rows[0][0]
        assert candles["last"] == rows[-2][0]
        assert (await api.public("OHLC", pair="XBTUSD", interval=2))["error"] == ["EGeneral:Invalid arguments:interval"]
        book = (await api.public("Depth", pair="XBTUSD", count=3))["result"]["XXBTZUSD"]
        assert [(D(p), D(q)) for p, q, _ in book["bids"]] == state.book.bids[:3]
        assert [(D(p), D(q)) for p, q, _ in book["asks"]] == state.book.asks[:3]
        assert (await api.public("Depth", pair="XBTUSD", count=501))["error"] == ["EGeneral:Invalid arguments:count"]
        await api.ok("AddOrder", ordertype="market", type="sell", pair="XBTUSD", volume="0.01")
        traded = (await api.public("Trades", pair="XBTUSD"))["result"]
        assert traded["XXBTZUSD"][-1][3:5] == ["s", "l"] and len(traded["XXBTZUSD"][-1]) == 7
        later = (await api.public("Trades", pair="XBTUSD", since=traded["last"]))["result"]
        assert later["XXBTZUSD"] == [] and later["last"] == traded["last"]
        spreads = (await api.public("Spread", pair="XBTUSD"))["result"]
        assert len(spreads["XXBTZUSD"][-1]) == 3 and isinstance(spreads["last"], int)


# ---------------------------------------------------------------------- orders
async def test_order_types_time_in_force_and_post_only() -> None:
    async with emulate("kraken", seed=6, tick_interval=3600) as venue, client(venue) as http:
        api = Kraken(venue, http)
        state = venue.engine.symbols["XXBTZUSD"]
        far = str((state.mid * D("0.9")).quantize(D("0.1")))
        placed = await api.ok("AddOrder", ordertype="limit", type="buy", pair="XBTUSD", volume="0.01", price=far,
                              userref=17)
        [txid] = placed["txid"]
        assert placed["descr"]["order"] == f"buy 0.01000000 XBTUSD @ limit {far}"
        opened = (await api.ok("OpenOrders"))["open"]
        assert list(opened) == [txid] and opened[txid]["status"] == "open" and opened[txid]["userref"] == 17
        assert opened[txid]["descr"]["price"] == far and opened[txid]["vol_exec"] == "0.00000000"
        market = (await api.ok("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="0.6"))["txid"][0]
        filled = (await api.ok("QueryOrders", txid=market, trades="true"))[market]
        fills = [f for f in venue.engine.fill_log if f.symbol == "XXBTZUSD" and f.side == "BUY"]
        assert filled["status"] == "closed" and D(filled["vol_exec"]) == D("0.6") and len(fills) == 2  # two levels
        assert D(filled["cost"]) == sum((f.quote_quantity for f in fills), D(0)).quantize(D("0.00001"))
        assert len(filled["trades"]) == 2
        ask = state.book.asks[0][0]
        post = (await api.ok("AddOrder", ordertype="limit", type="buy", pair="XBTUSD", volume="0.01",
                             price=str(ask + 100), oflags="post"))["txid"][0]
        crossed = (await api.ok("QueryOrders", txid=post))[post]
        assert (crossed["status"], crossed["reason"], crossed["vol_exec"]) == ("canceled", "Post only order",
                                                                               "0.00000000")
        ioc = (await api.ok("AddOrder", ordertype="limit", type="sell", pair="XBTUSD", volume="0.9",
                            price=str(state.book.bids[0][0]), timeinforce="IOC"))["txid"][0]
        partial = (await api.ok("QueryOrders", txid=ioc))[ioc]
        assert partial["status"] == "canceled" and D(partial["vol_exec"]) == D("0.5")  # one level only
        fok = (await api.ok("AddOrder", ordertype="limit", type="sell", pair="XBTUSD", volume="0.9",
                            price=str(state.book.bids[1][0]), timeinforce="FOK"))["txid"][0]
        killed = (await api.ok("QueryOrders", txid=fok))[fok]
        assert killed["status"] == "canceled" and killed["vol_exec"] == "0.00000000"
        assert await api.error("AddOrder", ordertype="limit", type="buy", pair="XBTUSD", volume="0.01", price=far,
                               oflags="post", timeinforce="IOC") == "EGeneral:Invalid arguments:timeinforce"
        viqc = (await api.ok("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="100",
                             oflags="viqc"))["txid"][0]
        by_quote = (await api.ok("QueryOrders", txid=viqc))[viqc]
        assert by_quote["status"] == "closed" and D(by_quote["cost"]) <= 100 and "viqc" in by_quote["oflags"]
        assert await api.error("QueryOrders", txid="OABCDE-FGHIJ-KLMNOP") == "EOrder:Invalid order"


async def test_order_filters_and_funds_in_krakens_words() -> None:
    async with emulate("kraken", seed=6, tick_interval=3600) as venue, client(venue) as http:
        api = Kraken(venue, http)
        base = {"ordertype": "limit", "type": "buy", "pair": "XBTUSD"}
        assert await api.error("AddOrder", **base, volume="0.00001", price="60000") == "EOrder:Order minimum not met"
        assert await api.error("AddOrder", ordertype="limit", type="buy", pair="ETHXBT", volume="0.002",
                               price="0.00100") == "EOrder:Cost minimum not met"
        assert await api.error("AddOrder", **base, volume="0.01", price="60000.05") == \
            "EOrder:Invalid price:XXBTZUSD price can only be specified up to 1 decimals."
        assert await api.error("AddOrder", **base, volume="0.000000001", price="60000") == \
            "EGeneral:Invalid arguments:volume"
        assert await api.error("AddOrder", **base, volume="10", price="60000") == "EOrder:Insufficient funds"
        assert await api.error("AddOrder", ordertype="market", type="sell", pair="XBTUSD", volume="5") == \
            "EOrder:Insufficient funds"
        assert await api.error("AddOrder", **base, volume="0.01") == "EGeneral:Invalid arguments:price"
        assert await api.error("AddOrder", **{**base, "pair": "NOPE"}, volume="0.01", price="60000") == \
            "EQuery:Unknown asset pair"
        assert venue.engine.open_orders("demo") == []


async def test_client_order_ids_userrefs_and_cancels(venue: EmulatedVenue) -> None:
    async with client(venue) as http:
        api = Kraken(venue, http)
        far = str((venue.engine.symbols["XXBTZUSD"].mid * D("0.8")).quantize(D("0.1")))
        order = {"ordertype": "limit", "type": "buy", "pair": "XBTUSD", "volume": "0.01", "price": far}
        for accepted in (str(uuid.uuid4()), uuid.uuid4().hex, "arb-20240509-00010"):
            await api.ok("AddOrder", **order, cl_ord_id=accepted)
        for refused in ("x" * 19, "tab\there", "caf\u00e9"):
            assert await api.error("AddOrder", **order, cl_ord_id=refused) == "EGeneral:Invalid arguments:cl_ord_id"
        assert await api.error("AddOrder", **order, cl_ord_id="both", userref=5) == \
            "EGeneral:Invalid arguments:cl_ord_id"
        assert await api.error("AddOrder", **order, cl_ord_id="arb-20240509-00010") == \
            "EGeneral:Invalid arguments:cl_ord_id"  # unique among open orders
        found = (await api.ok("OpenOrders", cl_ord_id="arb-20240509-00010"))["open"]
        assert [o["cl_ord_id"] for o in found.values()] == ["arb-20240509-00010"]
        assert await api.ok("CancelOrder", cl_ord_id="arb-20240509-00010") == {"count": 1}
        assert await api.error("CancelOrder", cl_ord_id="arb-20240509-00010") == "EOrder:Unknown order"
        await api.ok("AddOrder", **order, cl_ord_id="arb-20240509-00010")  # free again once closed
        closed = (await api.ok("ClosedOrders", cl_ord_id="arb-20240509-00010"))["closed"]
        assert [(o["status"], o["reason"]) for o in closed.values()] == [("canceled", "User requested")]
        for _ in range(2):
            await api.ok("AddOrder", **order, userref=77)
        assert await api.ok("CancelOrder", txid="77") == {"count": 2}  # a userref cancels its group
        txid = next(iter((await api.ok("OpenOrders"))["open"]))
        assert await api.ok("CancelOrder", txid=txid) == {"count": 1}
        assert await api.error("CancelOrder", txid=txid) == "EOrder:Unknown order"
        assert await api.ok("CancelAll") == {"count": 2}
        assert venue.engine.open_orders("demo") == []


async def test_validate_places_nothing_and_a_late_request_is_refused_unexecuted() -> None:
    async with emulate("kraken", seed=8, tick_interval=3600) as venue, client(venue) as http:
        api = Kraken(venue, http)
        order = {"ordertype": "market", "type": "buy", "pair": "XBTUSD", "volume": "0.01"}
        checked = await api.ok("AddOrder", **order, validate="true")
        assert checked == {"descr": {"order": "buy 0.01000000 XBTUSD @ market"}}  # no txid
        assert await api.error("AddOrder", **{**order, "volume": "0.00001"}, validate="true") == \
            "EOrder:Order minimum not met"
        assert venue.engine.all_orders() == []
        ahead = datetime.now(UTC)
        assert await api.error("AddOrder", **order, deadline=(ahead - timedelta(seconds=1)).isoformat()) == \
            "EService:Deadline elapsed"
        assert await api.error("AddOrder", **order, deadline=(ahead + timedelta(seconds=90)).isoformat()) == \
            "EGeneral:Invalid arguments:deadline"
        assert await api.error("AddOrder", **order, deadline="tomorrow") == "EGeneral:Invalid arguments:deadline"
        # Queued past its deadline (the venue is slow): refused, and never executed.
        venue.faults.slow_responses(0.6)
        late = (datetime.now(UTC) + timedelta(seconds=0.3)).isoformat()
        assert await api.error("AddOrder", **order, deadline=late, cl_ord_id="late-1") == "EService:Deadline elapsed"
        assert venue.engine.all_orders() == []
        timely = (datetime.now(UTC) + timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
        assert (await api.ok("AddOrder", **order, deadline=timely))["txid"]



async def test_the_deadline_is_checked_as_the_request_is_handled_on_trios_clock(
        autojump_clock: trio.abc.Clock) -> None:
    """Fidelity fix: a request held 12 s on its way (virtual time) reaches the engine after its 5 s deadline and
    is refused unexecuted; held 3 s it executes. The wall clock alone barely moves under the virtual clock."""
    async with emulate("kraken", seed=8, tick_interval=3600) as venue, client(venue, fresh=True) as http:
        api = Kraken(venue, http)
        order = {"ordertype": "market", "type": "buy", "pair": "XBTUSD", "volume": "0.01"}
        deadline = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
        venue.faults.slow_responses(12.0, count=1, path="/0/private/AddOrder", method="POST")
        response = await http.post("/0/private/AddOrder", timeout=60, content=urlencode(
            body := {"nonce": next(_nonces), **order, "deadline": deadline, "cl_ord_id": "held-12s"}),
            headers={"API-Key": venue.api_key, "API-Sign": signature(
                venue.api_secret, "/0/private/AddOrder", str(body["nonce"]), urlencode(body)),
                "Content-Type": "application/x-www-form-urlencoded"})
        assert response.json() == {"error": ["EService:Deadline elapsed"]}
        assert venue.engine.all_orders() == []
        venue.faults.slow_responses(3.0, count=1, path="/0/private/AddOrder", method="POST")
        deadline = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
        assert (await api.ok("AddOrder", **order, deadline=deadline, cl_ord_id="held-3s"))["txid"]
        assert [o.client_order_id for o in venue.engine.all_orders()] == ["held-3s"]

async def test_amend_keeps_the_ids_and_relocks(venue: EmulatedVenue) -> None:
    async with client(venue) as http:
        api = Kraken(venue, http)
        mid = venue.engine.symbols["XXBTZUSD"].mid
        far = (mid * D("0.8")).quantize(D("0.1"))
        txid = (await api.ok("AddOrder", ordertype="limit", type="buy", pair="XBTUSD", volume="0.02", price=str(far),
                             oflags="post", cl_ord_id="amend-me"))["txid"][0]
        amended = await api.ok("AmendOrder", cl_ord_id="amend-me", order_qty="0.03", limit_price=str(far - 10))
        assert amended["amend_id"].startswith("T")
        order = (await api.ok("QueryOrders", txid=txid))[txid]
        assert (order["vol"], order["descr"]["price"], order["misc"]) == ("0.03000000", str(far - 10), "amended")
        [engine_order] = venue.engine.open_orders("demo")
        assert engine_order.locked == D("0.03") * (far - 10)
        assert await api.error("AmendOrder", txid=txid, limit_price=str(mid * 2)) == "EOrder:Post only order"
        assert await api.error("AmendOrder", txid=txid) == "EGeneral:Invalid arguments:order_qty"
        assert await api.error("AmendOrder", txid="OABCDE-FGHIJ-KLMNOP", limit_price="1") == "EOrder:Unknown order"


async def test_closed_orders_and_trades_history_page_by_offset() -> None:
    async with emulate("kraken", seed=9, tick_interval=3600) as venue, client(venue) as http:
        api = Kraken(venue, http)
        for _ in range(55):
            await api.ok("AddOrder", ordertype="market", type="buy", pair="SOLUSD", volume="0.02")
        first = await api.ok("ClosedOrders")
        second = await api.ok("ClosedOrders", ofs=50)
        assert (first["count"], len(first["closed"]), len(second["closed"])) == (55, 50, 5)
        assert not set(first["closed"]) & set(second["closed"])
        opens = [o["opentm"] for o in [*first["closed"].values(), *second["closed"].values()]]
        assert opens == sorted(opens, reverse=True)  # most recent first
        trades = await api.ok("TradesHistory")
        rest = await api.ok("TradesHistory", ofs=50)
        assert trades["count"] == 55 and len(trades["trades"]) == 50 and len(rest["trades"]) == 5
        logged = {f.trade_id for f in venue.engine.fill_log}
        assert {t["trade_id"] for t in [*trades["trades"].values(), *rest["trades"].values()]} == logged
        one = next(iter(trades["trades"]))
        assert (await api.ok("QueryTrades", txid=one))[one] == trades["trades"][one]
        assert "count" not in await api.ok("ClosedOrders", without_count="true")
        newest = trades["trades"][one]["time"]
        assert (await api.ok("TradesHistory", start=str(int(newest) + 1)))["count"] == 0


# ---------------------------------------------------------------------- limits, permissions, status
async def test_the_rest_call_counter_per_tier() -> None:
    # Real clock: the counter drains by the second.
    async with emulate("kraken", seed=10, tick_interval=3600) as venue, client(venue) as http:
        api = Kraken(venue, http)
        venue.dialect.set_tier(venue.api_key, "pro")  # 20, draining 1/s
        answers = [(await api.post("Balance")).json()["error"] for _ in range(21)]
        assert answers[:20] == [[]] * 20 and answers[20] == ["EAPI:Rate limit exceeded"]
        # AddOrder counts on the trading counter, not this one.
        assert (await api.post("AddOrder", {"ordertype": "market", "type": "buy", "pair": "XBTUSD",
                                            "volume": "0.001"})).json()["error"] == []
        # Refused calls still count (Kraken: calls made while limited keep the limit on).
        assert (await api.post("TradeBalance")).json()["error"] == ["EAPI:Rate limit exceeded"]
        await trio.sleep(3.2)
        assert (await api.post("Balance")).json()["error"] == []
        assert (await api.post("TradesHistory")).json()["error"] == ["EAPI:Rate limit exceeded"]  # costs 2
        starter_key, starter_secret = venue.add_account("starter")
        venue.dialect.set_tier(starter_key, "starter")  # 15 (per key), draining 0.33/s
        starter = Kraken(venue, http, starter_key, starter_secret)
        answers = [(await starter.post("Balance")).json()["error"] for _ in range(16)]
        assert answers[:15] == [[]] * 15 and answers[15] == ["EAPI:Rate limit exceeded"]
        assert (await api.public("Time"))["error"] == []


async def test_the_trading_counter_charges_cancels_by_order_age() -> None:
    async with emulate("kraken", seed=10, tick_interval=3600) as venue, client(venue) as http:
        api = Kraken(venue, http)
        venue.dialect.set_tier(venue.api_key, "starter")  # threshold 60, draining 1/s
        far = str((venue.engine.symbols["XXBTZUSD"].mid * D("0.8")).quantize(D("0.1")))
        order = {"ordertype": "limit", "type": "buy", "pair": "XBTUSD", "volume": "0.001", "price": far}
        refused = None
        for _ in range(10):  # each round: +1 to place, +8 to cancel within 5 s
            placed = await api.post("AddOrder", order)
            if placed.json()["error"]:
                refused = placed.json()["error"]
                break
            assert await api.ok("CancelOrder", txid=placed.json()["result"]["txid"][0]) == {"count": 1}
        assert refused == ["EOrder:Rate limit exceeded"]
        counter = venue.dialect.key_state(venue.api_key).trading["XXBTZUSD"]
        assert 60 < counter.value <= 64
        assert (await api.post("AddOrder", {**order, "pair": "ETHUSD", "volume": "0.01", "price": "100"})).json()["error"] == []


async def test_open_orders_per_pair_are_limited_by_tier() -> None:
    async with emulate("kraken", seed=11, tick_interval=3600) as venue, client(venue) as http:
        api = Kraken(venue, http)
        venue.dialect.enforce_limits = False  # the trading counter would stop us first
        for _ in range(80):
            await api.ok("AddOrder", ordertype="limit", type="buy", pair="SOLUSD", volume="0.02", price="100")
        assert await api.error("AddOrder", ordertype="limit", type="buy", pair="SOLUSD", volume="0.02",
                               price="100") == "EOrder:Orders limit exceeded"
        await api.ok("AddOrder", ordertype="limit", type="buy", pair="ETHUSD", volume="0.01", price="100")


async def test_key_permissions_and_system_status(venue: EmulatedVenue) -> None:
    async with client(venue) as http:
        key, secret = venue.add_account("reader")
        venue.dialect.set_permissions(key, {"query_funds"})
        reader = Kraken(venue, http, key, secret)
        assert await reader.ok("Balance")
        order = {"ordertype": "market", "type": "buy", "pair": "XBTUSD", "volume": "0.001"}
        for method, params in (("AddOrder", order), ("OpenOrders", {}), ("GetWebSocketsToken", {}),
                               ("Earn/Allocate", {"amount": "1", "strategy_id": "x"})):
            assert await reader.error(method, **params) == "EGeneral:Permission denied"
        assert await reader.ok("Earn/Strategies")  # needs a key, no permission
        api = Kraken(venue, http)
        far = str((venue.engine.symbols["XXBTZUSD"].mid * D("0.8")).quantize(D("0.1")))
        resting = (await api.ok("AddOrder", ordertype="limit", type="buy", pair="XBTUSD", volume="0.01",
                                price=far))["txid"][0]
        venue.dialect.set_system_status("cancel_only")
        assert (await api.public("SystemStatus"))["result"]["status"] == "cancel_only"
        assert await api.error("AddOrder", **order) == "EService:Market in cancel_only mode"
        assert await api.ok("CancelOrder", txid=resting) == {"count": 1}
        venue.dialect.set_system_status("post_only")
        assert await api.error("AddOrder", **order) == "EService:Market in post_only mode"
        await api.ok("AddOrder", ordertype="limit", type="buy", pair="XBTUSD", volume="0.01", price=far,
                     oflags="post")
        venue.dialect.set_system_status("maintenance")
        assert await api.error("Balance") == "EService:Unavailable"
        venue.dialect.set_system_status("online")
        assert await api.ok("Balance")


async def test_the_dead_mans_switch_fires_on_trios_clock(autojump_clock: trio.abc.Clock) -> None:
    async with emulate("kraken", seed=12) as venue, client(venue) as http:
        api = Kraken(venue, http)
        far = str((venue.engine.symbols["XXBTZUSD"].mid * D("0.8")).quantize(D("0.1")))
        await api.ok("AddOrder", ordertype="limit", type="buy", pair="XBTUSD", volume="0.01", price=far)
        armed = await api.ok("CancelAllOrdersAfter", timeout=10)
        current = datetime.fromisoformat(armed["currentTime"].replace("Z", "+00:00"))
        trigger = datetime.fromisoformat(armed["triggerTime"].replace("Z", "+00:00"))
        assert (trigger - current).total_seconds() == 10
        await trio.sleep(8)
        await api.ok("CancelAllOrdersAfter", timeout=10)  # re-armed: ten more seconds from now
        await trio.sleep(7)
        assert len(venue.engine.open_orders("demo")) == 1
        await trio.sleep(5)
        assert venue.engine.open_orders("demo") == []
        [closed] = (await api.ok("ClosedOrders"))["closed"].values()
        assert (closed["status"], closed["reason"]) == ("canceled", "Cancel all orders after timeout")
        await api.ok("AddOrder", ordertype="limit", type="buy", pair="XBTUSD", volume="0.01", price=far)
        await api.ok("CancelAllOrdersAfter", timeout=5)
        disarmed = await api.ok("CancelAllOrdersAfter", timeout=0)
        assert disarmed["triggerTime"] == "0"
        await trio.sleep(30)
        assert len(venue.engine.open_orders("demo")) == 1
        assert await api.error("CancelAllOrdersAfter", timeout=86_401) == "EGeneral:Invalid arguments:timeout"


# ---------------------------------------------------------------------- margin
async def test_a_margin_position_opens_reports_and_closes() -> None:
    async with emulate("kraken", seed=13, tick_interval=3600) as venue, client(venue) as http:
        api = Kraken(venue, http)
        engine = venue.engine
        usd_before = sum(engine.balance("demo", "ZUSD"))
        opened = await api.ok("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="0.2", leverage="4")
        assert opened["descr"]["order"] == "buy 0.20000000 XBTUSD @ market with 4:1 leverage"
        assert engine.balance("demo", "XXBT") == (D(1), D(0))  # margin trades a position, not the wallet
        position = engine.position("demo", "XXBTZUSD")
        assert (position.size, position.leverage) == (D("0.2"), D(4))
        listed = await api.ok("OpenPositions", docalcs="true", consolidation="")
        [(posid, row)] = listed.items()
        trades = await api.ok("TradesHistory")
        assert posid in trades["trades"] and trades["trades"][posid]["posstatus"] == "open"
        assert (row["ordertxid"], row["pair"], row["type"], row["vol"], row["vol_closed"]) == \
            (opened["txid"][0], "XXBTZUSD", "buy", "0.20000000", "0.00000000")
        assert D(row["cost"]) == (D("0.2") * position.entry_price).quantize(D("0.00001"))
        assert D(row["margin"]) == (D(row["cost"]) / 4).quantize(D("0.00001"))
        mark = engine.symbols["XXBTZUSD"].mid
        assert D(row["net"]) == (engine.unrealised_pnl(position)).quantize(D("0.0001"))
        assert D(row["value"]) == (D("0.2") * mark).quantize(D("0.1"))
        [merged] = await api.ok("OpenPositions", docalcs="true", consolidation="market")  # the SDK's default
        assert (merged["pair"], merged["positions"], merged["leverage"]) == ("XXBTZUSD", "1", "4.00000")
        balance = await api.ok("TradeBalance")
        assert D(balance["m"]) == position.margin.quantize(D("0.0001"))
        assert D(balance["ml"]) == (D(balance["e"]) / D(balance["m"]) * 100).quantize(D("0.01"))
        assert await api.error("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="0.1",
                               leverage="7") == "EGeneral:Invalid arguments:leverage"
        assert (await api.error("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="0.1",
                                leverage="2")).startswith("EGeneral:Invalid arguments:leverage")  # mixed leverage
        assert await api.error("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="0.1",
                               leverage="4", reduce_only="true") == "EOrder:Reduce only:No position exists"
        await api.ok("AddOrder", ordertype="market", type="sell", pair="XBTUSD", volume="0.05", leverage="4")
        [partly] = (await api.ok("OpenPositions", consolidation="")).values()
        assert partly["vol_closed"] == "0.05000000"
        closing = await api.ok("AddOrder", ordertype="market", type="sell", pair="XBTUSD", volume="0",
                               leverage="4")  # volume 0 closes the rest
        assert closing["txid"] and await api.ok("OpenPositions", consolidation="") == {}
        assert engine.position("demo", "XXBTZUSD").size == 0
        history = (await api.ok("TradesHistory", type="closing position"))["trades"]
        assert len(history) >= 2 and all(t["misc"] == "closing" for t in history.values())
        opening = (await api.ok("QueryTrades", txid=posid))[posid]
        assert opening["posstatus"] == "closed" and opening["cvol"] == "0.20000000"
        # The quote wallet changed by exactly the realised P&L less every fee of the position.
        realised = engine.position("demo", "XXBTZUSD").cum_realised
        assert sum(engine.balance("demo", "ZUSD")) - usd_before == realised
        assert realised == sum((f.closed_pnl - f.fee for f in engine.fill_log), D(0))
        assert await api.ok("AddOrder", ordertype="market", type="sell", pair="XBTUSD", volume="0.01")  # spot too


async def test_margin_call_then_liquidation_below_the_stop() -> None:
    async with emulate("kraken", seed=14, tick_interval=3600) as venue, client(venue) as http:
        key, secret = venue.add_account("trader", {"ZUSD": D(10_000)})
        api = Kraken(venue, http, key, secret)
        engine, dialect = venue.engine, venue.dialect
        mid = engine.symbols["XXBTZUSD"].mid
        volume = (D(40_000) / mid).quantize(D("0.0001"))
        await api.ok("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume=str(volume), leverage="5")
        level = D((await api.ok("TradeBalance"))["ml"])
        assert level > 100 and dialect.margin_status("trader") == "ok"
        engine.jump("XXBTZUSD", mid * D("0.91"))  # a 9% fall: equity below 80% of the margin
        balance = await api.ok("TradeBalance")
        assert D("40") < D(balance["ml"]) < D("80") and dialect.margin_status("trader") == "call"
        assert await api.error("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="0.01",
                               leverage="5") == "EOrder:Margin level too low"
        engine.jump("XXBTZUSD", mid * D("0.82"))  # below the 40% stop: closed at market
        assert dialect.margin_status("trader") == "liquidated"
        assert engine.position("trader", "XXBTZUSD").size == 0
        assert await api.ok("OpenPositions", consolidation="") == {}
        closed = (await api.ok("ClosedOrders"))["closed"]
        liquidations = [o for o in closed.values() if "liquidated" in o["misc"]]
        assert len(liquidations) == 1 and liquidations[0]["descr"]["type"] == "sell"
        assert "ml" not in await api.ok("TradeBalance")


# ---------------------------------------------------------------------- Earn and fees
async def test_earn_allocation_is_asynchronous_and_earns(autojump_clock: trio.abc.Clock) -> None:
    async with emulate("kraken", seed=15, tick_interval=3600) as venue, client(venue, fresh=True) as http:
        api = Kraken(venue, http)
        strategies = (await api.ok("Earn/Strategies", asset="XBT"))["items"]
        [xbt] = strategies
        assert (xbt["asset"], xbt["lock_type"]["type"], xbt["can_allocate"]) == ("XBT", "instant", True)
        sid = xbt["id"]
        assert await api.ok("Earn/Allocate", amount="0.5", strategy_id=sid) is True
        assert await api.ok("Earn/AllocateStatus", strategy_id=sid) == {"pending": True}
        assert await api.error("Earn/Allocate", amount="0.1", strategy_id=sid) == \
            "EEarnings:Busy:Another (de)allocation for the same strategy is in progress"
        pending = (await api.ok("Earn/Allocations"))["items"][0]["amount_allocated"]
        assert pending["pending"]["native"] == "0.5000000000" and pending["total"]["native"] == "0.0000000000"
        await trio.sleep(6)
        assert await api.ok("Earn/AllocateStatus", strategy_id=sid) == {"pending": False}
        balances = await api.ok("Balance")
        assert (balances["XXBT"], balances["XBT.B"]) == ("0.5000000000", "0.5000000000")
        await trio.sleep(8 * 86_400)  # a weekly payout passes
        allocation = (await api.ok("Earn/Allocations", converted_asset="XBT"))["items"][0]
        book = venue.dialect.earn.allocations[("demo", sid)]
        assert D(allocation["total_rewarded"]["native"]) == book.total_rewarded > 0
        # 0.20% a year on 0.5 XBT from the allocation (5 s after the period began) to the weekly payout.
        earned = D("0.5") * D("0.002") * (604_800 - 5) / (365 * 86_400)
        assert abs(D(allocation["total_rewarded"]["native"]) - earned) <= D("1e-10")
        assert await api.ok("Earn/Deallocate", amount="0.5", strategy_id=sid) is True
        await trio.sleep(6)
        assert await api.ok("Earn/DeallocateStatus", strategy_id=sid) == {"pending": False}
        assert D((await api.ok("Balance"))["XXBT"]) == 1
        errors = {
            "min": await api.error("Earn/Allocate", amount="0.00000001", strategy_id=sid),
            "unknown": await api.error("Earn/Allocate", amount="1", strategy_id="ESNOPE-AAAAA-BBBBBB"),
        }
        assert errors == {"min": "EEarnings:Below min:(De)allocation operation amount less than minimum",
                          "unknown": "EGeneral:Invalid arguments:Invalid strategy ID"}
        assert await api.ok("Earn/Allocate", amount="5", strategy_id=sid) is True  # more than we hold
        await trio.sleep(6)
        assert await api.error("Earn/AllocateStatus", strategy_id=sid) == \
            "EEarnings:Insufficient funds:Insufficient funds to complete the (de)allocation request"


async def test_bonded_earn_bonds_and_unbonds(autojump_clock: trio.abc.Clock) -> None:
    async with emulate("kraken", seed=15, tick_interval=3600) as venue, client(venue, fresh=True) as http:
        api = Kraken(venue, http)
        [eth] = (await api.ok("Earn/Strategies", lock_type="bonded"))["items"]
        await api.ok("Earn/Allocate", amount="2", strategy_id=eth["id"])
        await trio.sleep(60)
        bonding = (await api.ok("Earn/Allocations"))["items"][0]["amount_allocated"]["bonding"]
        assert bonding["native"] == "2.0000000000" and bonding["allocation_count"] == 1
        await trio.sleep(eth["lock_type"]["bonding_period"])
        await api.ok("Earn/Deallocate", amount="2", strategy_id=eth["id"])
        await trio.sleep(60)
        unbonding = (await api.ok("Earn/Allocations"))["items"][0]["amount_allocated"]["unbonding"]
        assert unbonding["native"] == "2.0000000000" and D((await api.ok("Balance"))["XETH"]) == 8
        await trio.sleep(eth["lock_type"]["unbonding_period"])
        assert D((await api.ok("Balance"))["XETH"]) == 10
        assert (await api.ok("Earn/Allocations", hide_zero_allocations="true"))["items"] == []


async def test_trade_volume_reports_the_fees_charged(venue: EmulatedVenue) -> None:
    async with client(venue) as http:
        api = Kraken(venue, http)
        assert await api.ok("TradeVolume") == {"currency": "ZUSD", "volume": "0.0000"}
        await api.ok("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="0.01")
        volume = await api.ok("TradeVolume", pair="XBTUSD", fee_schedule="true")
        fill = venue.engine.fill_log[-1]
        assert D(volume["volume"]) == fill.quote_quantity.quantize(D("0.0001"))
        assert volume["fees"]["XXBTZUSD"]["fee"] == "0.4000" and volume["fees_maker"]["XXBTZUSD"]["fee"] == "0.2500"
        assert fill.fee_rate == D("0.004")
        assert volume["schedules"][0]["tiers"][0]["active"] is True
        assert await api.error("TradeVolume", pair="XBTUSD", fee_schedule="True") == \
            "EGeneral:Invalid arguments:fee_schedule"  # validated strictly, as python-kraken-sdk notes


# ---------------------------------------------------------------------- websocket v2
async def receive(ws: trio_websocket.WebSocketConnection) -> dict[str, Any]:
    """The next message, numbers as Decimals from their exact text (as Kraken's checksum guide asks)."""
    with trio.fail_after(10):
        message = json.loads(await ws.get_message(), parse_float=D)
    assert isinstance(message, dict)
    return message


async def receive_until(ws: trio_websocket.WebSocketConnection, wanted: Any, limit: int = 200) -> dict[str, Any]:
    for _ in range(limit):
        message = await receive(ws)
        if wanted(message):
            return message
    raise AssertionError("not received")


def client_checksum(book: dict[str, dict[D, D]]) -> int:
    """The guide's algorithm, written from the documentation, over the text of each number."""
    def digits(value: D) -> str:
        return str(value).replace(".", "").lstrip("0")
    asks = sorted(book["asks"].items())[:10]
    bids = sorted(book["bids"].items(), reverse=True)[:10]
    return zlib.crc32("".join(digits(p) + digits(q) for p, q in [*asks, *bids]).encode())


def test_the_documented_book_checksum_reproduces() -> None:
    bids = [("45283.5", "0.10000000"), ("45283.4", "1.54582015"), ("45282.1", "0.10000000"),
            ("45281.0", "0.10000000"), ("45280.3", "1.54592586"), ("45279.0", "0.07990000"),
            ("45277.6", "0.03310103"), ("45277.5", "0.30000000"), ("45277.3", "1.54602737"),
            ("45276.6", "0.15445238")]
    asks = [("45285.2", "0.00100000"), ("45286.4", "1.54571953"), ("45286.6", "1.54571109"),
            ("45289.6", "1.54560911"), ("45290.2", "0.15890660"), ("45291.8", "1.54553491"),
            ("45294.7", "0.04454749"), ("45296.1", "0.35380000"), ("45297.5", "0.09945542"),
            ("45299.5", "0.18772827")]
    levels = {"bids": {D(p): D(q) for p, q in bids}, "asks": {D(p): D(q) for p, q in asks}}
    assert client_checksum(levels) == 3310070434
    as_levels = [(D(p), D(q)) for p, q in bids], [(D(p), D(q)) for p, q in asks]
    assert checksum(PAIRS["XXBTZUSD"], *as_levels) == 3310070434


async def test_public_channels_acks_snapshots_and_a_checksummed_book(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery, client(venue) as http:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v2")
        status = await receive(ws)
        assert status["channel"] == "status" and status["data"][0]["system"] == "online"
        assert status["data"][0]["api_version"] == "v2"
        await ws.send_message(json.dumps({"method": "ping", "req_id": 1}))
        pong = await receive_until(ws, lambda m: m.get("method") == "pong")
        assert pong["req_id"] == 1 and "time_in" in pong and "time_out" in pong
        await ws.send_message(json.dumps({"method": "subscribe", "req_id": 2,
                                          "params": {"channel": "book", "symbol": ["BTC/USD", "XBT/USD"]}}))
        acks = [await receive_until(ws, lambda m: m.get("method") == "subscribe") for _ in range(2)]
        assert acks[0]["success"] is True and acks[0]["result"] == {"channel": "book", "symbol": "BTC/USD",
                                                                     "snapshot": True, "depth": 10}
        assert (acks[1]["success"], acks[1]["error"], acks[1]["symbol"]) == \
            (False, "Currency pair not supported XBT/USD", "XBT/USD")  # v2 names are BTC/USD
        book: dict[str, dict[D, D]] = {"bids": {}, "asks": {}}
        updates = placed = 0
        while updates < 25:
            message = await receive(ws)
            if message.get("channel") != "book":
                continue
            [data] = message["data"]
            if message["type"] == "snapshot":
                book = {side: {level["price"]: level["qty"] for level in data[side]} for side in ("bids", "asks")}
                assert len(book["bids"]) == len(book["asks"]) == 10 and "timestamp" not in data
            else:
                updates += 1
                for side in ("bids", "asks"):
                    for level in data[side]:
                        if level["qty"] == 0:
                            book[side].pop(level["price"], None)
                        else:
                            book[side][level["price"]] = level["qty"]
                assert data["timestamp"].endswith("Z")
            assert client_checksum(book) == data["checksum"], "every message's checksum matches our book"
            if updates == 5 and not placed:
                await Kraken(venue, http).ok("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="0.7")
                placed = 1
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_public_channel_shapes_and_refusals(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery:
        await trio.sleep(0.2)  # a few ticks: public trades to snapshot
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v2")
        await receive(ws)

        async def ack(params: dict[str, Any]) -> dict[str, Any]:
            await ws.send_message(json.dumps({"method": "subscribe", "params": params}))
            return await receive_until(ws, lambda m: m.get("method") == "subscribe")

        assert (await ack({"channel": "ticker", "symbol": ["ETH/USD"]}))["result"]["event_trigger"] == "trades"
        ticker = await receive_until(ws, lambda m: m.get("channel") == "ticker")
        assert ticker["type"] == "snapshot" and set(ticker["data"][0]) == {
            "symbol", "bid", "bid_qty", "ask", "ask_qty", "last", "volume", "vwap", "low", "high", "change",
            "change_pct"}
        assert (await ack({"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 5}))["success"] is True
        candles = await receive_until(ws, lambda m: m.get("channel") == "ohlc")
        assert candles["type"] == "snapshot" and candles["data"][-1]["interval"] == 5
        assert (await ack({"channel": "trade", "symbol": ["BTC/USD"], "snapshot": True}))["success"] is True
        trades = await receive_until(ws, lambda m: m.get("channel") == "trade")
        assert trades["type"] == "snapshot" and {"side", "price", "qty", "ord_type", "trade_id"} <= set(trades["data"][0])
        await ws.send_message(json.dumps({"method": "subscribe", "params": {"channel": "book", "symbol": ["ETH/USD"],
                                                                              "depth": 25}}))
        for _ in range(50):  # numbers carry the pair's full precision on the wire: the checksum's input
            raw = await ws.get_message()
            if raw.startswith('{"channel":"book","type":"snapshot"'):
                break
        assert '"qty":5.00000000' in raw and re.search(r'"price":\d+\.\d\d,', raw)
        assert (await ack({"channel": "instrument"}))["success"] is True
        reference = await receive_until(ws, lambda m: m.get("channel") == "instrument")
        pair = next(p for p in reference["data"]["pairs"] if p["symbol"] == "BTC/USD")
        assert (pair["price_precision"], pair["qty_precision"], pair["marginable"]) == (1, 8, True)
        refusals = [
            await ack({"channel": "book", "symbol": ["BTC/USD"], "depth": 7}),
            await ack({"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 2}),
            await ack({"channel": "spread", "symbol": ["BTC/USD"]}),
            await ack({"channel": "ticker", "symbol": ["ETH/USD"]}),
            await ack({"channel": "executions"}),
            await ack({"channel": "ticker", "symbol": ["BTC/USD"], "bogus": 1}),
        ]
        assert [r["success"] for r in refusals] == [False] * 6
        assert [r["error"] for r in refusals[:5]] == [
            "EGeneral:Invalid arguments:depth", "EGeneral:Invalid arguments:interval",
            "Channel spread not supported", "Already subscribed",
            "Channel executions requires an authenticated connection"]
        await ws.send_message(json.dumps({"method": "unsubscribe", "params": {"channel": "ticker",
                                                                              "symbol": ["ETH/USD"]}}))
        gone = await receive_until(ws, lambda m: m.get("method") == "unsubscribe")
        assert gone["success"] is True and gone["result"]["symbol"] == "ETH/USD"
        await ws.send_message(json.dumps({"method": "unsubscribe", "params": {"channel": "ticker",
                                                                              "symbol": ["ETH/USD"]}}))
        again = await receive_until(ws, lambda m: m.get("method") == "unsubscribe")
        assert (again["success"], again["error"]) == (False, "Subscription Not Found")
        await ws.send_message("not json")
        assert (await receive_until(ws, lambda m: m.get("error") == "Malformed request"))["success"] is False
        await ws.send_message(json.dumps({"method": "add_order", "params": {}}))
        refused = await receive_until(ws, lambda m: m.get("method") == "add_order")
        assert refused["success"] is False and "not supported" in refused["error"]
        assert (await receive_until(ws, lambda m: m.get("channel") == "heartbeat")) == {"channel": "heartbeat"}
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def test_private_channels_with_a_token(venue: EmulatedVenue) -> None:
    async with trio.open_nursery() as nursery, client(venue) as http:
        api = Kraken(venue, http)
        token = await api.ok("GetWebSocketsToken")
        assert token["expires"] == 900 and len(token["token"]) == 43
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/ws-auth/v2")
        assert (await receive(ws))["channel"] == "status"

        async def subscribe(params: dict[str, Any]) -> dict[str, Any]:
            await ws.send_message(json.dumps({"method": "subscribe", "req_id": 9, "params": params}))
            return await receive_until(ws, lambda m: m.get("method") == "subscribe")

        bad = await subscribe({"channel": "executions", "token": "nope"})
        assert (bad["success"], bad["error"], bad["req_id"]) == (False, "ESession:Invalid session", 9)
        await api.ok("AddOrder", ordertype="market", type="buy", pair="XBTUSD", volume="0.01")
        ok = await subscribe({"channel": "executions", "token": token["token"], "snap_trades": True})
        assert ok["result"] == {"channel": "executions", "maxratecount": 125, "snap_orders": True,
                                "snap_trades": True}
        snapshot = await receive_until(ws, lambda m: m.get("channel") == "executions")
        assert snapshot["type"] == "snapshot" and snapshot["sequence"] == 1
        assert [r["exec_type"] for r in snapshot["data"]] == ["trade"]
        assert (await subscribe({"channel": "balances", "token": token["token"]}))["success"] is True
        balances = await receive_until(ws, lambda m: m.get("channel") == "balances")
        usd = next(row for row in balances["data"] if row["asset"] == "USD")
        assert usd["balance"] == sum(venue.engine.balance("demo", "ZUSD"))
        assert usd["wallets"] == [{"type": "spot", "id": "main", "balance": usd["balance"]}]
        placed = (await api.ok("AddOrder", ordertype="market", type="sell", pair="XBTUSD", volume="0.01",
                               cl_ord_id="ws-1"))["txid"][0]
        reports = []
        while len(reports) < 4:
            message = await receive(ws)
            if message.get("channel") == "executions":
                assert message["type"] == "update" and message["sequence"] == len(reports) + 2
                reports.append(message["data"][0])
        assert [r["exec_type"] for r in reports] == ["pending_new", "new", "trade", "filled"]
        assert all(r["order_id"] == placed and r["cl_ord_id"] == "ws-1" for r in reports)
        fill = venue.engine.fill_log[-1]
        trade = reports[2]
        history = (await api.ok("TradesHistory"))["trades"]
        assert trade["exec_id"] in history and history[trade["exec_id"]]["ordertxid"] == placed
        assert (trade["last_qty"], trade["last_price"], trade["liquidity_ind"]) == (fill.quantity, fill.price, "t")
        assert trade["fees"] == [{"asset": "USD", "qty": fill.fee}]
        ledger = [await receive_until(ws, lambda m: m.get("channel") == "balances") for _ in range(2)]
        moved = {e["data"][0]["asset"]: e["data"][0] for e in ledger}
        assert moved["BTC"]["amount"] == -fill.quantity and moved["USD"]["amount"] == fill.quote_quantity - fill.fee
        assert moved["USD"]["ref_id"] == trade["exec_id"] and moved["USD"]["type"] == "trade"
        await ws.aclose()
        public = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v2")
        await receive(public)
        await public.send_message(json.dumps({"method": "subscribe", "params": {"channel": "balances",
                                                                                "token": token["token"]}}))
        refused = await receive_until(public, lambda m: m.get("method") == "subscribe")
        assert refused["error"] == "Channel balances requires an authenticated connection"
        nursery.cancel_scope.cancel()


async def test_an_unused_token_expires_after_fifteen_minutes(autojump_clock: trio.abc.Clock) -> None:
    async with emulate("kraken", seed=16, tick_interval=3600) as venue, trio.open_nursery() as nursery, \
            client(venue, fresh=True) as http:
        token = (await Kraken(venue, http).ok("GetWebSocketsToken"))["token"]
        await trio.sleep(901)
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/ws-auth/v2")
        await receive(ws)
        await ws.send_message(json.dumps({"method": "subscribe", "params": {"channel": "executions",
                                                                            "token": token}}))
        assert (await receive_until(ws, lambda m: m.get("method") == "subscribe"))["error"] == \
            "ESession:Invalid session"
        nursery.cancel_scope.cancel()


# ---------------------------------------------------------------------- faults and fuzz
async def test_faults_answer_in_krakens_shape(autojump_clock: trio.abc.Clock) -> None:
    async with emulate("kraken", seed=17) as venue, client(venue) as http:
        api = Kraken(venue, http)
        venue.faults.http_error(503, path="/0/public")
        failed = await http.get("/0/public/Time")
        assert failed.status_code == 503 and failed.json() == {"error": ["EService:Unavailable"]}
        venue.faults.http_error(429, retry_after=2)
        limited = await http.get("/0/public/Time")
        assert (limited.status_code, limited.headers["retry-after"]) == (429, "2")
        assert limited.json() == {"error": ["EAPI:Rate limit exceeded"]}
        venue.faults.http_error(504)
        assert (await http.get("/0/public/Time")).json() == {"error": ["EService:Busy"]}
        # Executed, never answered: the order exists, and a lookup by cl_ord_id finds it (no double send).
        venue.faults.lose_responses(path="/0/private/AddOrder")
        with pytest.raises(httpx.ReadTimeout):
            await api.http.post("/0/private/AddOrder", timeout=2, content=urlencode(
                body := {"nonce": next(_nonces), "ordertype": "market", "type": "buy", "pair": "XBTUSD",
                         "volume": "0.01", "cl_ord_id": "lost-1"}),
                headers={"API-Key": venue.api_key, "API-Sign": signature(
                    venue.api_secret, "/0/private/AddOrder", str(body["nonce"]), urlencode(body)),
                    "Content-Type": "application/x-www-form-urlencoded"})
        found = (await api.ok("ClosedOrders", cl_ord_id="lost-1"))["closed"]
        assert [o["status"] for o in found.values()] == ["closed"]


async def test_stream_faults_reorder_breaks_the_checksum_a_client_verifies() -> None:
    async with emulate("kraken", seed=18, tick_interval=0.05) as venue, trio.open_nursery() as nursery:
        ws = await trio_websocket.connect_websocket_url(nursery, f"{venue.ws_url}/v2")
        await receive(ws)
        await ws.send_message(json.dumps({"method": "subscribe", "params": {"channel": "book",
                                                                            "symbol": ["SOL/USD"]}}))
        book: dict[str, dict[D, D]] = {"bids": {}, "asks": {}}
        mismatches = 0
        for i in range(40):
            message = await receive_until(ws, lambda m: m.get("channel") == "book")
            [data] = message["data"]
            if message["type"] == "snapshot":
                book = {side: {lv["price"]: lv["qty"] for lv in data[side]} for side in ("bids", "asks")}
            for side in ("bids", "asks") if message["type"] == "update" else ():
                for level in data[side]:
                    book[side].pop(level["price"], None) if level["qty"] == 0 else \
                        book[side].__setitem__(level["price"], level["qty"])
            mismatches += client_checksum(book) != data["checksum"]
            if i == 10:
                venue.faults.reorder_messages(1, "public")
        assert mismatches >= 1  # a swapped pair of updates is caught by the checksum
        venue.faults.drop_streams("public")
        with pytest.raises(trio_websocket.ConnectionClosed):
            for _ in range(200):
                await receive(ws)
        nursery.cancel_scope.cancel()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["ordertype", "type", "pair", "volume", "price", "leverage", "oflags",
                                               "timeinforce", "cl_ord_id", "userref", "deadline", "validate",
                                               "reduce_only", "txid", "expiretm", "nonce", "x"]),
                              st.one_of(st.text(max_size=12), st.integers(-5, 10**20).map(str),
                                        st.sampled_from(["limit", "market", "buy", "XBTUSD", "0.01", "true", "3"])),
                              max_size=8),
       method=st.sampled_from(["AddOrder", "CancelOrder", "AmendOrder", "QueryOrders", "TradesHistory",
                               "Earn/Allocate", "OpenPositions"]))
def test_no_input_gets_a_500(params: dict[str, str], method: str) -> None:
    """Random private parameters, signed or not: always Kraken's envelope, never a server error."""
    payload = {"nonce": str(next(_nonces)), **params}
    body = urlencode(payload)
    path = f"/0/private/{method}"
    request = HttpRequest("POST", path, "", body.encode(), {
        "api-key": FUZZ.demo.api_key, "content-type": "application/x-www-form-urlencoded",
        "api-sign": signature(FUZZ.demo.api_secret, path, payload["nonce"], body)})
    response = trio.run(FUZZ.dialect.handle_http, request)
    decoded = json.loads(response.body)
    assert response.status == 200 and ("result" in decoded) != bool(decoded["error"])


@settings(max_examples=60, deadline=None)
@given(frame=st.one_of(st.text(max_size=40), st.dictionaries(
    st.sampled_from(["method", "params", "req_id"]),
    st.one_of(st.sampled_from(["subscribe", "unsubscribe", "ping", "add_order"]), st.integers(), st.none(),
              st.dictionaries(st.sampled_from(["channel", "symbol", "depth", "interval", "token", "snapshot"]),
                              st.one_of(st.sampled_from(["book", "ohlc", "executions", "BTC/USD"]),
                                        st.lists(st.sampled_from(["BTC/USD", "NOPE", ""]), max_size=2),
                                        st.integers(), st.booleans(), st.none()), max_size=4)),
    max_size=3).map(json.dumps)))
def test_no_frame_breaks_a_websocket(frame: str) -> None:
    """Random frames on both endpoints: every one is answered, none raises (no 1011)."""
    async def drive() -> None:
        for path, kind in (("/v2", "public"), ("/ws-auth/v2", "private")):
            conn = WsConnection.open(path, "", kind, Faults())  # type: ignore[arg-type]
            await FUZZ.dialect.on_ws_open(conn)
            await FUZZ.dialect.on_ws_message(conn, frame)
            FUZZ.dialect.on_ws_close(conn)
    trio.run(drive)


FUZZ = assemble("kraken", seed=19)
