"""KrakenBroker's REST side against a scripted Kraken (httpx MockTransport): what it signs and sends, the nonce
on the wire, order entry (deadline stamped as the request is signed, the resend bound, what a lost or refused
AddOrder means), lookups by client id, and reads retried where writes are not. Answers are the documented
samples (tests/unit/kraken/samples.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

import attrs
import httpx
import pytest
import trio

from brokers.base import BrokerSettings
from brokers.kraken import constants as c
from brokers.kraken.client import KrakenBroker
from protocol import errors as e
from protocol.credentials import Credentials
from protocol.model import OrderRequest, OrderStatus, OrderType, Side
from tests.unit.kraken import samples as doc

# Kraken's documented API-Sign example secret (api-reference/guides/spot-rest-auth): any valid base64 key works.
SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
KEY = "unit-test-public-key"
CID = "0123456789abcdef0123456789abcdef"  # the router's ids: 32 hex characters


@attrs.define
class Sent:
    path: str
    params: dict[str, str]
    headers: httpx.Headers
    body: str


Answer = bytes | httpx.Response | Callable[[Sent], "bytes | httpx.Response"]


@attrs.define
class Kraken:
    """Answers by path, in turn when given a list; verifies every private request's API-Sign as documented."""

    answers: dict[str, list[Answer]] = attrs.field(factory=dict)
    sent: list[Sent] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.answers.setdefault(c.SERVER_TIME, [doc.SERVER_TIME])
        self.answers.setdefault(c.ASSETS, [doc.ASSETS])
        self.answers.setdefault(c.ASSET_PAIRS, [doc.ASSET_PAIRS])
        self.answers.setdefault(c.BALANCE_EX, [doc.BALANCE_EX])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        sent = Sent(request.url.path, dict(parse_qsl(body or request.url.query.decode())), request.headers, body)
        self.sent.append(sent)
        if request.method == "POST":
            digest = hashlib.sha256((sent.params["nonce"] + body).encode()).digest()
            mac = hmac.new(base64.b64decode(SECRET), request.url.path.encode() + digest, hashlib.sha512)
            assert request.headers["API-Sign"] == base64.b64encode(mac.digest()).decode()
            assert request.headers["API-Key"] == KEY and body.startswith("nonce=")
        queue = self.answers.get(request.url.path)
        if not queue:
            return httpx.Response(404, content=b'{"error": ["EGeneral:Unknown method"]}')
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer):
            answer = answer(sent)
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, content=answer)

    def calls(self, path: str) -> list[Sent]:
        return [s for s in self.sent if s.path == path]


async def connected(venue: Kraken, nonces: Path) -> KrakenBroker:
    settings = BrokerSettings(venue="kraken", rest_url="https://api.kraken.test", ws_url="wss://ws.kraken.test",
                              credentials=Credentials.from_strings(KEY, SECRET), options={"nonce_dir": str(nonces)})
    broker = KrakenBroker(settings)
    broker.rest._transport = httpx.MockTransport(venue)
    await broker.connect()
    return broker


def limit_buy(cid: str = CID) -> OrderRequest:
    return OrderRequest(venue="kraken", symbol="BTC/USD", side=Side.BUY, type=OrderType.LIMIT,
                        quantity=Decimal("1.25"), price=Decimal("27500.0"), client_order_id=cid)


async def test_private_calls_are_signed_with_strictly_increasing_nonces(tmp_path: Path) -> None:
    venue = Kraken()
    broker = await connected(venue, tmp_path)
    await broker.get_balances()
    private = [s for s in venue.sent if s.path.startswith("/0/private/")]
    nonces = [int(s.params["nonce"]) for s in private]
    assert len(nonces) == 2 and nonces == sorted(set(nonces))
    assert [s.path for s in venue.sent[:3]] == [c.SERVER_TIME, c.ASSETS, c.ASSET_PAIRS]


async def test_add_order_carries_the_cl_ord_id_and_a_deadline_stamped_as_it_is_signed(tmp_path: Path) -> None:
    venue = Kraken({c.ADD_ORDER: [doc.ADD_ORDER]})
    broker = await connected(venue, tmp_path)
    venue_now = [1_688_669_448_000]
    broker.now_ms = lambda: venue_now[0]  # type: ignore[method-assign]  # Kraken's clock, under our control
    async with trio.open_nursery() as nursery:
        async with broker._private_lock:  # another private call holds the key: the order waits 30 s for it
            nursery.start_soon(broker.place_order, limit_buy())
            await trio.testing.wait_all_tasks_blocked()
            venue_now[0] += 30_000
    (sent,) = venue.calls(c.ADD_ORDER)
    assert sent.params["cl_ord_id"] == CID and sent.params["pair"] == "XBTUSD"
    deadline = datetime.fromisoformat(sent.params["deadline"].replace("Z", "+00:00"))
    assert deadline.timestamp() * 1000 == venue_now[0] + c.ORDER_DEADLINE_DEFAULT_S * 1000  # not the 30 s stale one


async def test_the_resend_bound_is_the_deadline_plus_the_engine_margin_and_clock_uncertainty(tmp_path: Path) -> None:
    broker = await connected(Kraken(), tmp_path)
    rule = broker.resend_rule()
    assert rule.expires_after_ms == c.ORDER_DEADLINE_DEFAULT_S * 1000 + c.ENGINE_MARGIN_MS
    assert rule.clock_uncertainty_ms == broker.clock_uncertainty_ms > 0
    assert not rule.unique_client_ids  # cl_ord_id is unique among open orders only
    assert "deadline" in rule.source and "2026-11-30" in rule.source
    assert rule.expired_at(100.0) == 100.0 + (rule.expires_after_ms + rule.clock_uncertainty_ms) / 1000


async def test_an_invalid_nonce_is_sent_again_once_with_a_fresh_nonce(tmp_path: Path) -> None:
    refused = b'{"error": ["EAPI:Invalid nonce"]}'
    venue = Kraken({c.ADD_ORDER: [refused, doc.ADD_ORDER]})
    broker = await connected(venue, tmp_path)
    placed = await broker.place_order(limit_buy())
    first, second = venue.calls(c.ADD_ORDER)
    assert placed.order_id == "OU22CG-KLAF2-FWUDD7" and placed.status is OrderStatus.NEW
    assert int(second.params["nonce"]) > int(first.params["nonce"])
    assert first.params["cl_ord_id"] == second.params["cl_ord_id"] == CID
    venue.answers[c.ADD_ORDER] = [refused]
    with pytest.raises(e.AuthenticationError, match="nonce"):
        await broker.place_order(limit_buy("abcdefabcdefabcdefabcdefabcdefab"))
    assert len(venue.calls(c.ADD_ORDER)) == 4  # once more, never a third time


async def test_a_lost_add_order_is_outcome_unknown_and_not_resent_a_late_one_is_not_executed(tmp_path: Path) -> None:
    venue = Kraken({c.ADD_ORDER: [httpx.Response(503, content=b"<html>busy</html>")]})
    broker = await connected(venue, tmp_path)
    with pytest.raises(e.VenueUnavailable) as lost:
        await broker.place_order(limit_buy())
    assert not isinstance(lost.value, e.NotExecuted) and len(venue.calls(c.ADD_ORDER)) == 1
    venue.answers[c.ADD_ORDER] = [b'{"error": ["EService:Deadline elapsed"]}']
    with pytest.raises(e.NotExecuted, match="not executed"):
        await broker.place_order(limit_buy())
    venue.answers[c.ADD_ORDER] = [b'{"error": ["EService:Busy"]}']
    with pytest.raises(e.VenueUnavailable, match="outcome unknown"):
        await broker.place_order(limit_buy())


async def test_reads_are_retried_writes_are_not(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    venue = Kraken({c.OPEN_ORDERS: [httpx.Response(502), doc.OPEN_ORDERS],
                    c.CANCEL_ORDER: [httpx.Response(502), doc.CANCEL_ORDER]})
    broker = await connected(venue, tmp_path)
    orders = await broker.get_orders()
    assert [o.order_id for o in orders] == ["OCUG7Z-4EM5R-7ZCJ47"] and len(venue.calls(c.OPEN_ORDERS)) == 2
    with pytest.raises(e.VenueUnavailable):
        await broker.cancel_order("ETH/USD", order_id="OCUG7Z-4EM5R-7ZCJ47")
    assert len(venue.calls(c.CANCEL_ORDER)) == 1


async def test_lookup_by_client_id_reads_open_then_closed_orders_and_says_not_found(tmp_path: Path) -> None:
    empty_open = b'{"error": [], "result": {"open": {}}}'
    empty_closed = b'{"error": [], "result": {"closed": {}, "count": 0}}'
    venue = Kraken({c.OPEN_ORDERS: [empty_open], c.CLOSED_ORDERS: [empty_closed]})
    broker = await connected(venue, tmp_path)
    with pytest.raises(e.OrderNotFound):
        await broker.get_order_status("BTC/USD", client_order_id=CID)
    assert [s.params.get("cl_ord_id") for s in venue.sent if s.path in (c.OPEN_ORDERS, c.CLOSED_ORDERS)] == \
        [CID, CID]
