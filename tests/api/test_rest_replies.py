"""RestClient against a scripted loopback server (tests/api/stub_server.py), for replies the
simulator never sends: token codes 8031 / 8103 besides 8005, account replies without
`return_code` or without their list, paging that does not end."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from kiwoom_terminal.api.errors import BadReplyError, TokenInvalidError
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.api.trs import TrClient, order_body
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.secrets import sim_credentials
from tests.api.recorded import recorded
from tests.api.stub_server import StubKiwoom, StubReply, auth_error, ok, stub_kiwoom

TOKEN_CODES = ["8005", "8031", "8103"]
OPEN_ORDER = recorded("ka10075")["oso"][0]


@pytest.fixture
def stub() -> Iterator[StubKiwoom]:
    with stub_kiwoom() as server:
        yield server


@pytest.fixture(params=[False, True], ids=["requests", "direct"])
def client(stub: StubKiwoom, request: pytest.FixtureRequest) -> Iterator[RestClient]:
    """A client over each transport (api/transport.py): replies read the same either way."""
    rest = RestClient(stub.url, sim_credentials(), timeout_s=5.0, direct=request.param)
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


# --- The account TRs insist on the documented envelope ----------------------------------


def _no_return_code(reply: StubReply) -> StubReply:
    body = {k: v for k, v in reply.body.items() if k not in ("return_code", "return_msg")}
    return StubReply(body, reply.status, reply.cont, reply.next_key)


@pytest.mark.parametrize(
    ("api_id", "reply", "query"),
    [
        ("kt00001", StubReply(recorded("kt00001")), lambda t: t.deposit()),
        ("kt00018", StubReply(recorded("kt00018")), lambda t: t.balance()),
        ("ka10075", StubReply(recorded("ka10075")), lambda t: t.open_orders()),
        ("ka10076", StubReply(recorded("ka10076")), lambda t: t.fills()),
    ],
)
def test_account_reply_without_return_code_is_a_bad_reply(
    stub: StubKiwoom, client: RestClient, api_id: str, reply: StubReply, query: object
) -> None:
    trs = TrClient(client)
    stub.default[api_id] = reply
    assert query(trs)  # type: ignore[operator]  # the recorded reply itself parses
    stub.default[api_id] = _no_return_code(reply)
    with pytest.raises(BadReplyError) as info:
        query(trs)  # type: ignore[operator]
    assert info.value.api_id == api_id and "return_code" in info.value.message


def test_market_reply_without_return_code_still_reads_as_success(
    stub: StubKiwoom, client: RestClient
) -> None:
    stub.default["ka10001"] = StubReply({"stk_cd": "005930"})
    assert client.call("ka10001", {"stk_cd": "005930"}).body == {"stk_cd": "005930"}


@pytest.mark.parametrize("page", [1, 2])
def test_open_orders_page_without_its_list_is_a_bad_reply(
    stub: StubKiwoom, client: RestClient, page: int
) -> None:
    """`"oso"` missing must not read as "no open orders" (a duplicate order could follow)."""
    pages = [ok(oso=[OPEN_ORDER]), ok()] if page == 2 else [ok()]
    if page == 2:
        pages[0].cont, pages[0].next_key = True, "page-2"
    stub.script["ka10075"] = pages
    with pytest.raises(BadReplyError) as info:
        TrClient(client).open_orders()
    assert "oso" in info.value.message and stub.calls["ka10075"] == page


def test_empty_open_orders_list_is_fine_and_other_lists_stay_lenient(
    stub: StubKiwoom, client: RestClient
) -> None:
    stub.default["ka10075"] = ok(oso=[])
    assert TrClient(client).open_orders() == []
    stub.default["ka10081"] = ok(stk_cd="005930")  # no stk_dt_pole_chart_qry
    assert client.call_pages("ka10081", {"stk_cd": "005930"}, "stk_dt_pole_chart_qry")[1] == []


def test_endless_paging_of_an_account_tr_is_a_bad_reply(
    stub: StubKiwoom, client: RestClient
) -> None:
    stub.default["ka10075"] = StubReply(ok(oso=[OPEN_ORDER]).body, cont=True, next_key="again")
    with pytest.raises(BadReplyError):
        client.call_pages("ka10075", {"all_stk_tp": "0"}, "oso", max_pages=3)
    assert stub.calls["ka10075"] == 3
    stub.default["ka10075"] = StubReply(ok(oso=[OPEN_ORDER]).body, cont=True, next_key="")
    with pytest.raises(BadReplyError):  # "more" without a key to ask for it
        client.call_pages("ka10075", {"all_stk_tp": "0"}, "oso")


def test_endless_paging_of_a_chart_warns_and_keeps_the_rows(
    stub: StubKiwoom, client: RestClient, caplog: pytest.LogCaptureFixture
) -> None:
    row = {"dt": "20250908", "cur_prc": "70000"}
    stub.default["ka10081"] = StubReply(
        ok(stk_dt_pole_chart_qry=[row]).body, cont=True, next_key="again"
    )
    with caplog.at_level(logging.WARNING, logger="kiwoom_terminal.api.rest"):
        _, rows = client.call_pages(
            "ka10081", {"stk_cd": "005930"}, "stk_dt_pole_chart_qry", max_pages=3
        )
    assert len(rows) == 3 and stub.calls["ka10081"] == 3
    assert "ka10081: paging stopped after 3 pages" in caplog.text
    assert "stub-token" not in caplog.text
