"""A TR request leaves in one write: head and body together (api/one_write.py).

The writes are observed at http.client's `send`, the last Python call before the socket,
while the request goes to a real HTTP server on loopback; the server must still read the
same body, and requests without a body must still work."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from kiwoom_terminal.api.one_write import mount_one_write
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.api.token import LocalTokenStore
from kiwoom_terminal.api.trs import order_body
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.secrets import sim_credentials
from tests.api.stub_server import StubKiwoom, ok, stub_kiwoom

ORDER = OrderRequest("005930", Side.BUY, 7, 70_100, OrderType.LIMIT)


@pytest.fixture()
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every write http.client makes (recorded, then really sent)."""
    seen: list[bytes] = []
    real_send = http.client.HTTPConnection.send

    def recording_send(self: http.client.HTTPConnection, data: Any) -> None:
        seen.append(bytes(data))
        real_send(self, data)

    monkeypatch.setattr(http.client.HTTPConnection, "send", recording_send)
    yield seen


@pytest.mark.parametrize("direct", [False, True], ids=["requests", "direct"])
def test_an_order_leaves_in_one_write_and_arrives_whole(writes: list[bytes], direct: bool) -> None:
    stub = StubKiwoom(default={"kt10000": ok(ord_no="0000123", dmst_stex_tp="KRX")})
    with stub_kiwoom(stub) as server:
        client = RestClient(
            server.url, sim_credentials(), token_store=LocalTokenStore(), direct=direct
        )
        try:
            client.tokens.get()  # the token request first, so only the order is watched
            writes.clear()
            api_id, body = order_body(ORDER)
            reply = client.call(api_id, body, reissue_retry=False)
        finally:
            client.close()
    assert reply.body["ord_no"] == "0000123"
    assert len(writes) == 1, [w[:40] for w in writes]
    head, _, sent_body = writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/dostk/ordr HTTP/1.1")
    assert f"content-length: {len(sent_body)}".encode() in head.lower()
    assert json.loads(sent_body) == body
    assert stub.bodies[-1] == ("kt10000", sent_body)  # the server read that very body


def test_a_request_without_a_body_is_written_as_before(writes: list[bytes]) -> None:
    stub = StubKiwoom()
    with stub_kiwoom(stub) as server:
        session = requests.Session()
        mount_one_write(session)
        try:
            reply = session.post(server.url + "/oauth2/token", timeout=5)
        finally:
            session.close()
    assert reply.json()["return_code"] == 0
    assert len(writes) == 1 and writes[0].endswith(b"\r\n\r\n")  # the head alone
    assert stub.bodies == [("au10001", b"")]
