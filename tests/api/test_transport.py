"""The two REST transports (api/transport.py) against loopback servers: the same request on
the wire, HTTPS verified against the same CA bundle, and requests kept whenever a proxy
applies. (Failures — refused, dropped, silent — are in test_rest_network.py for both.)"""

from __future__ import annotations

import json
import ssl
import time
from pathlib import Path

import pytest
import requests

from kiwoom_terminal.api.errors import NetworkError
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.api.token import AccessToken, LocalTokenStore, TokenState
from kiwoom_terminal.api.transport import DirectTransport, RequestsTransport, make_transport
from kiwoom_terminal.api.trs import order_body
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.secrets import sim_credentials
from tests.api.stub_server import StubKiwoom, ok, stub_kiwoom

ORDER = OrderRequest("005930", Side.SELL, 4, 69_900, OrderType.LIMIT)
TLS_DIR = Path(__file__).resolve().parents[1] / "data" / "tls"
CERT = TLS_DIR / "localhost.pem"  # self-signed for localhost / 127.0.0.1, test use only
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_or_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the environment it means; nothing leaks in from the machine."""
    for name in (*PROXY_VARS, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _order_over(url: str, *, direct: bool, store: LocalTokenStore | None = None) -> str:
    """Sends ORDER with a fresh client and returns the order number of the reply."""
    client = RestClient(
        url, sim_credentials(), token_store=store or LocalTokenStore(), direct=direct
    )
    try:
        api_id, body = order_body(ORDER)
        return str(client.call(api_id, body, reissue_retry=False).body["ord_no"])
    finally:
        client.close()


@pytest.fixture
def tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERT, TLS_DIR / "localhost.key")
    return context


def test_both_transports_put_the_same_request_on_the_wire() -> None:
    stub = StubKiwoom(default={"kt10001": ok(ord_no="0000042", dmst_stex_tp="KRX")})
    with stub_kiwoom(stub) as server:
        store = LocalTokenStore()  # one token for both, issued once
        assert _order_over(server.url, direct=False, store=store) == "0000042"
        assert _order_over(server.url, direct=True, store=store) == "0000042"
    orders = [i for i, (api_id, _) in enumerate(stub.bodies) if api_id == "kt10001"]
    assert len(orders) == 2  # one request each: nothing retried
    via_requests, via_urllib3 = (stub.heads[i] for i in orders)
    assert sorted((k.lower(), v) for k, v in via_urllib3) == sorted(
        (k.lower(), v) for k, v in via_requests
    )
    head = {k.lower(): v for k, v in via_urllib3}
    assert head["user-agent"].startswith("python-requests/")  # requests' defaults, both ways
    assert {"content-type", "api-id", "authorization", "content-length"} <= head.keys()
    assert stub.bodies[orders[0]][1] == stub.bodies[orders[1]][1]
    assert json.loads(stub.bodies[orders[1]][1]) == order_body(ORDER)[1]


@pytest.mark.parametrize("direct", [False, True], ids=["requests", "direct"])
def test_https_is_verified_against_the_environment_bundle(
    direct: bool, tls_context: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = StubKiwoom(default={"kt10001": ok(ord_no="0000077", dmst_stex_tp="KRX")})
    with stub_kiwoom(stub, tls=tls_context) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(CERT))
        assert _order_over(server.url, direct=direct) == "0000077"
    assert [api_id for api_id, _ in stub.bodies] == ["au10001", "kt10001"]


@pytest.mark.parametrize("direct", [False, True], ids=["requests", "direct"])
def test_an_untrusted_certificate_stops_the_request_before_it_is_read(
    direct: bool, tls_context: ssl.SSLContext
) -> None:
    stub = StubKiwoom()
    with stub_kiwoom(stub, tls=tls_context) as server:
        store = LocalTokenStore()
        now = time.time()
        store.save(TokenState(token=AccessToken("tls-test", now + 86_400, now), renew_at=now + 1e4))
        client = RestClient(server.url, sim_credentials(), token_store=store, direct=direct)
        api_id, body = order_body(ORDER)
        try:
            with pytest.raises(NetworkError) as info:  # certifi does not know the test cert
                client.call(api_id, body, reissue_retry=False)
        finally:
            client.close()
    assert info.value.maybe_sent is True  # a TLS failure is not proof it never left
    assert "연결이 끊어졌습니다" in info.value.message
    assert stub.bodies == []  # the server never read a request


def test_a_proxy_in_the_environment_keeps_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "http://127.0.0.1:8080"
    transport = make_transport(url, direct=True)
    assert isinstance(transport, DirectTransport)
    transport.close()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    transport = make_transport(url, direct=True)
    assert isinstance(transport, RequestsTransport)  # DirectTransport speaks no proxy
    transport.close()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    transport = make_transport(url, direct=True)
    assert isinstance(transport, DirectTransport)
    transport.close()


@pytest.mark.parametrize("direct", [False, True], ids=["requests", "direct"])
def test_a_base_url_path_prefix_is_kept(direct: bool) -> None:
    """A base URL with a path (a gateway in front of the server) prefixes every TR path."""
    stub = StubKiwoom(default={"kt10001": ok(ord_no="0000051", dmst_stex_tp="KRX")})
    with stub_kiwoom(stub) as server:
        assert _order_over(server.url + "/gateway/", direct=direct) == "0000051"
    assert stub.paths == ["/gateway/oauth2/token", "/gateway/api/dostk/ordr"]


def test_only_http_urls_are_accepted() -> None:
    with pytest.raises(ValueError, match="not an http"):
        DirectTransport("ws://127.0.0.1:9", requests.Session())


def test_the_direct_way_sends_through_the_process_requests_session() -> None:
    """One requests.Session per process, orders included: the direct transport's pool is
    the one the session's adapter keeps for the base URL, and closing the client closes
    the session's connections."""
    stub = StubKiwoom(default={"kt10001": ok(ord_no="0000063", dmst_stex_tp="KRX")})
    with stub_kiwoom(stub) as server:
        client = RestClient(
            server.url, sim_credentials(), token_store=LocalTokenStore(), direct=True
        )
        try:
            api_id, body = order_body(ORDER)
            client.call(api_id, body, reissue_retry=False)
            transport = client._transport
            assert isinstance(transport, DirectTransport)
            session = transport._session
            pools = session.get_adapter(server.url).poolmanager.pools
            # urllib3's pool container cannot be iterated, only its keys()
            (pool,) = (pools[key] for key in pools.keys())  # noqa: SIM118
            assert pool is transport._pool
            assert pool.num_requests == 2 and pool.num_connections == 1  # token, order
        finally:
            client.close()
        assert len(session.get_adapter(server.url).poolmanager.pools) == 0
