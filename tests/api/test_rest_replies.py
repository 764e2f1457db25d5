"""RestClient against a scripted loopback server (tests/api/stub_server.py), for replies the
simulator never sends: token codes 8031 / 8103 besides 8005."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiwoom_terminal.api.errors import TokenInvalidError
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.api.trs import order_body
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.secrets import sim_credentials
from tests.api.stub_server import StubKiwoom, auth_error, ok, stub_kiwoom

TOKEN_CODES = ["8005", "8031", "8103"]


@pytest.fixture
def stub() -> Iterator[StubKiwoom]:
    with stub_kiwoom() as server:
        yield server


@pytest.fixture
def client(stub: StubKiwoom) -> Iterator[RestClient]:
    rest = RestClient(stub.url, sim_credentials(), timeout_s=5.0)
    yield rest
    rest.close()


# --- Token codes: re-issue once for queries, never resend an order ---------------------


@pytest.mark.parametrize("code", TOKEN_CODES)
def test_query_reissues_the_token_once_and_repeats(
    stub: StubKiwoom, client: RestClient, code: str
) -> None:
    stub.script["ka10001"] = [auth_error(code)]
    stub.default["ka10001"] = ok(stk_cd="005930")
    assert client.call("ka10001", {"stk_cd": "005930"}).body["stk_cd"] == "005930"
    assert stub.calls == {"au10001": 2, "ka10001": 2}
    assert [t for api, t in stub.tokens if api == "ka10001"] == ["stub-token-1", "stub-token-2"]


@pytest.mark.parametrize("code", TOKEN_CODES)
def test_order_refused_for_its_token_is_not_resent(
    stub: StubKiwoom, client: RestClient, code: str
) -> None:
    stub.script["kt10000"] = [auth_error(code)]
    stub.default["kt10000"] = ok(ord_no="0000042", dmst_stex_tp="KRX")
    api_id, body = order_body(OrderRequest("005930", Side.BUY, 1, 70_000, OrderType.LIMIT))
    with pytest.raises(TokenInvalidError) as info:
        client.call(api_id, body, reissue_retry=False)
    assert info.value.code == code
    assert stub.calls == {"au10001": 1, "kt10000": 1}
    # the refused token was dropped: the next order gets a new one, once
    assert client.call(api_id, body, reissue_retry=False).body["ord_no"] == "0000042"
    assert stub.calls == {"au10001": 2, "kt10000": 2}
    assert stub.tokens[-1] == ("kt10000", "stub-token-2")


def test_token_refused_again_after_the_reissue_is_reported_not_looped(
    stub: StubKiwoom, client: RestClient
) -> None:
    stub.default["ka10001"] = auth_error("8005")
    with pytest.raises(TokenInvalidError):
        client.call("ka10001", {"stk_cd": "005930"})
    assert stub.calls == {"au10001": 2, "ka10001": 2}
