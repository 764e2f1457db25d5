"""WebSocket conformance, frame by frame (kiwoom-api.md §8–10), against a running simulator."""

from __future__ import annotations

import json
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from kiwoom_terminal import krx
from kiwoom_terminal.sim.launcher import SimulatorProcess
from kiwoom_terminal.sim.listings import BY_CODE
from tests.conftest import SimFactory, issue_token
from tests.sim.conftest import Rest, Ws

B_FIDS = set(
    [
        "20",
        "10",
        "11",
        "12",
        "27",
        "28",
        "15",
        "13",
        "14",
        "16",
        "17",
        "18",
        "25",
        "26",
        "29",
        "30",
        "31",
        "32",
        "228",
        "311",
        "290",
        "691",
        "567",
        "568",
        "851",
        "1890",
        "1891",
        "1892",
        "1030",
        "1031",
        "1032",
        "1071",
        "1072",
        "1313",
        "1315",
        "1316",
        "1314",
        "1497",
        "1498",
        "620",
        "732",
        "852",
        "9081",
    ]
)
ORDER_FIDS = set(
    [
        "9201",
        "9203",
        "9205",
        "9001",
        "912",
        "913",
        "302",
        "900",
        "901",
        "902",
        "903",
        "904",
        "905",
        "906",
        "907",
        "908",
        "909",
        "910",
        "911",
        "10",
        "27",
        "28",
        "914",
        "915",
        "938",
        "939",
        "919",
        "920",
        "921",
        "922",
        "923",
        "10010",
        "2134",
        "2135",
        "2136",
    ]
)


def _order_event(ws: Ws, state: str, order_no: str, **entry: str) -> dict:
    """The values of the next REAL 00 of `order_no` in `state` (913), after checking it has
    every order FID and the entry fields given (e.g. `name`, `item`)."""
    e = ws.wait_real(
        lambda e: (
            e["type"] == "00" and e["values"]["913"] == state and e["values"]["9203"] == order_no
        )
    )
    assert set(e["values"]) == ORDER_FIDS
    assert {key: e[key] for key in entry} == entry
    return e["values"]


BALANCE_FIDS = set(
    [
        "9201",
        "9001",
        "917",
        "916",
        "302",
        "10",
        "930",
        "931",
        "932",
        "933",
        "945",
        "946",
        "950",
        "951",
        "27",
        "28",
        "307",
        "8019",
        "957",
        "958",
        "918",
        "990",
        "991",
        "992",
        "993",
        "959",
        "924",
    ]
)


@pytest.fixture(scope="module")
def sim(open_sim: SimulatorProcess) -> SimulatorProcess:
    open_sim.control.pause()  # prices move only when a test moves them
    return open_sim


@pytest.fixture(scope="module")
def token(sim: SimulatorProcess) -> str:
    return issue_token(sim.rest_url)


def test_login_success_then_failure_closes(sim: SimulatorProcess, token: str) -> None:
    with connect(sim.ws_url, proxy=None) as conn:
        conn.send(json.dumps({"trnm": "LOGIN", "token": token}))
        assert json.loads(conn.recv(timeout=10)) == {
            "trnm": "LOGIN",
            "return_code": 0,
            "return_msg": "",
            "sor_yn": "Y",
        }
    with connect(sim.ws_url, proxy=None) as conn:
        conn.send(json.dumps({"trnm": "LOGIN", "token": "not-a-token"}))
        reply = json.loads(conn.recv(timeout=10))
        assert reply["trnm"] == "LOGIN" and reply["return_code"] != 0
        assert "CODE=8005" in reply["return_msg"]
        with pytest.raises(ConnectionClosed):
            conn.recv(timeout=10)


def test_no_login_gets_R10004(sim_factory: SimFactory) -> None:
    sim = sim_factory("--ws-login-timeout", "0.3")
    with connect(sim.ws_url, proxy=None) as conn:
        frame = json.loads(conn.recv(timeout=10))
        assert frame == {
            "trnm": "SYSTEM",
            "code": "R10004",
            "message": "접속허용요청(토큰)이 들어오지 않았습니다",
        }
        with pytest.raises(ConnectionClosed):
            conn.recv(timeout=10)


def test_ping_echo_keeps_the_session_and_silence_gets_R10002(sim_factory: SimFactory) -> None:
    sim = sim_factory("--ws-ping-interval", "0.2", "--ws-max-missed", "2")
    token = issue_token(sim.rest_url)
    ws = Ws(sim, token)
    for _ in range(4):  # Ws.next echoes every PING
        ws.wait(lambda m: m.get("trnm") == "PING")
    # Stop echoing: read raw frames until the server gives up on us.
    frames = []
    with pytest.raises(ConnectionClosed):
        while True:
            frames.append(json.loads(ws.conn.recv(timeout=10)))
    assert frames[-1]["trnm"] == "SYSTEM" and frames[-1]["code"] == "R10002"
    assert all(f["trnm"] == "PING" for f in frames[:-1])


def test_login_preamble_fault_and_system_frames_without_close(
    sim: SimulatorProcess, token: str
) -> None:
    """For client tests: `ws_login_preamble` puts a PING and a SYSTEM notice before the LOGIN
    reply; `send_system` sends a SYSTEM frame and leaves the connection open."""
    sim.control.set_faults(ws_login_preamble=1)
    try:
        ws = Ws(sim, token, login=False)
        ws.send({"trnm": "LOGIN", "token": token})
        frames = [ws.next() for _ in range(3)]  # Ws.next echoes the PING
    finally:
        sim.control.set_faults(ws_login_preamble=0)
    assert [f["trnm"] for f in frames] == ["PING", "SYSTEM", "LOGIN"]
    assert frames[1]["code"] == "SIM0001" and frames[2]["return_code"] == 0
    session_id = max(s["id"] for s in sim.control.state()["sessions"] if s["logged_in"])
    assert sim.control.send_system("R10002", session=session_id) == 1
    assert ws.wait(lambda m: m.get("trnm") == "SYSTEM") == {
        "trnm": "SYSTEM",
        "code": "R10002",
        "message": "사용자 프로그램으로부터 Heartbeat(연결유지) 메시지가 오지않아서 접속을 종료합니다",
    }
    assert ws.reply({"trnm": "CNSRLST"})["return_code"] == 0  # still open
    (session,) = [s for s in sim.control.state()["sessions"] if s["id"] == session_id]
    assert session["received"] == {"LOGIN": 1, "PING": 1, "CNSRLST": 1}
    ws.close()


def test_second_login_with_the_same_app_key_kicks_the_first(sim: SimulatorProcess) -> None:
    first = Ws(sim, issue_token(sim.rest_url, app_key="kick-key"))
    other_key = Ws(sim, issue_token(sim.rest_url, app_key="other-key"))
    second = Ws(sim, issue_token(sim.rest_url, app_key="kick-key"))
    kicked = first.wait(lambda m: m.get("trnm") == "SYSTEM")
    assert kicked["code"] == "R10001"
    assert kicked["message"] == "동일한 App key로 접속이 되었습니다. 기존 세션은 종료가 됩니다"
    with pytest.raises(ConnectionClosed):
        first.next(timeout=10)
    for ws in (second, other_key):  # both still served
        assert ws.reply({"trnm": "CNSRLST"})["return_code"] == 0
        ws.close()


def test_reg_refresh_remove_and_0B_values(sim: SimulatorProcess, token: str) -> None:
    ws = Ws(sim, token)
    ack = ws.reply(
        {
            "trnm": "REG",
            "grp_no": "1",
            "refresh": "1",
            "data": [{"item": ["005930", "000660_NX"], "type": ["0B"]}],
        }
    )
    assert ack == {"trnm": "REG", "return_code": 0, "return_msg": ""}
    sim.control.set_price("005930", 71_000, qty=7)
    sim.control.set_price("000660", 203_000)
    entry = ws.wait_real(lambda e: e["item"] == "005930")
    assert (entry["type"], entry["name"]) == ("0B", "주식체결")
    v = entry["values"]
    assert set(v) == B_FIDS and all(isinstance(x, str) for x in v.values())
    base = sim.control.quote("005930")["base"]
    assert v["10"] == "+71000" and int(v["11"]) == 71_000 - base
    assert v["12"] == f"{(71_000 - base) / base * 100:+.2f}"
    assert v["25"] == krx.sign_code(71_000, base) and v["15"] == "+7"
    nx = ws.wait_real(lambda e: e["item"] == "000660_NX")  # the item echoes its suffix
    assert nx["values"]["10"].lstrip("+-") == "203000"
    # refresh=0 replaces the group: only 000660 is left.
    ws.reply(
        {
            "trnm": "REG",
            "grp_no": "1",
            "refresh": "0",
            "data": [{"item": ["000660"], "type": ["0B"]}],
        }
    )
    sim.control.set_price("005930", 71_100)
    sim.control.set_price("000660", 203_500)
    assert ws.wait_real(lambda e: e["type"] == "0B")["item"] == "000660"
    remove = ws.reply(
        {"trnm": "REMOVE", "grp_no": "1", "data": [{"item": ["000660"], "type": ["0B"]}]}
    )
    assert remove["return_code"] == 0
    sim.control.set_price("000660", 204_000)
    ws.reply({"trnm": "CNSRLST"})  # anything pushed for 000660 would have arrived first
    assert not [e for e in ws.real if e["type"] == "0B"]
    ws.close()


def test_a_moved_tick_is_stamped_when_its_frame_is_written(
    sim: SimulatorProcess, token: str
) -> None:
    # bench/tick_to_order.py starts its clock when the trigger tick leaves the server.
    ws = Ws(sim, token)
    ws.reply(
        {
            "trnm": "REG",
            "grp_no": "1",
            "refresh": "1",
            "data": [{"item": ["005930"], "type": ["0B"]}],
        }
    )
    before = time.time()
    queued = sim.control.call("price", code="005930", price=71_000, pause=True)["last_tick_at"]
    ws.wait_real(lambda e: e["item"] == "005930" and e["values"]["10"].lstrip("+-") == "71000")
    received = time.time()
    sent = sim.control.quote("005930")["last_tick_sent_at"]
    assert before <= queued <= sent <= received
    ws.close()


def test_one_stock_registered_for_0B_alone_gets_crowd_ticks(sim_factory: SimFactory) -> None:
    # Regression: at the automatic rate (5 ticks/s for one stock) the catch-up cap of a
    # tenth of a second was half a tick, so a lone 0B registration never saw a trade.
    sim = sim_factory("--seed", "3")
    ws = Ws(sim, issue_token(sim.rest_url))
    ws.reply(
        {
            "trnm": "REG",
            "grp_no": "1",
            "refresh": "1",
            "data": [{"item": ["005930"], "type": ["0B"]}],
        }
    )
    entry = ws.wait_real(lambda e: e["type"] == "0B")
    assert entry["item"] == "005930" and entry["values"]["10"].lstrip("+-").isdigit()
    ws.close()


def test_0D_book_values(sim: SimulatorProcess, token: str) -> None:
    ws = Ws(sim, token)
    sim.control.set_crowd("035420", 300)
    ws.reply(
        {
            "trnm": "REG",
            "grp_no": "7",
            "refresh": "1",
            "data": [{"item": ["035420"], "type": ["0D"]}],
        }
    )
    sim.control.set_price("035420", 201_000)
    entry = ws.wait_real(lambda e: e["type"] == "0D" and e["values"]["51"].lstrip("+-") == "201000")
    v = entry["values"]
    assert entry["name"] == "주식호가잔량" and entry["item"] == "035420"
    asks = [int(v[str(41 + i)].lstrip("+-")) for i in range(10)]
    bids = [int(v[str(51 + i)].lstrip("+-")) for i in range(10)]
    assert asks[0] == 201_500 and bids[0] == 201_000
    assert asks == sorted(asks) and bids == sorted(bids, reverse=True)
    assert [v[str(61 + i)] for i in range(10)] == ["300"] * 10
    assert v["121"] == v["125"] == "3000" and v["128"] == "0"
    expected = (
        {"21", "121", "122", "125", "126", "23", "24", "128", "129", "138", "139", "200", "201"}
        | {"238", "13", "299", "215", "216"}
        | {str(f) for f in range(41, 101)}
        | {str(f) for f in range(291, 296)}
        | {str(f) for f in range(621, 641)}
        | {str(f) for f in range(6044, 6088)}
        | {str(f) for f in range(6100, 6116)}
    )
    assert set(v) == expected  # every FID of §9.2
    ws.close()


def test_order_events_follow_the_documented_sequences(sim: SimulatorProcess, token: str) -> None:
    rest = Rest(sim, token)
    ws = Ws(sim, token)
    ws.reply(
        {
            "trnm": "REG",
            "grp_no": "9",
            "refresh": "1",
            "data": [{"item": [""], "type": ["00", "04"]}, {"item": ["005380"], "type": ["0B"]}],
        }
    )
    sim.control.set_crowd("005380", 100)
    sim.control.set_price("005380", 210_000)
    buy = {
        "dmst_stex_tp": "KRX",
        "stk_cd": "005380",
        "ord_qty": "150",
        "ord_uv": "210000",
        "trde_tp": "0",
    }
    ack = rest.ok("kt10000", buy)
    assert ack["return_msg"] == "모의투자 매수주문완료" and ack["dmst_stex_tp"] == "KRX"
    no = ack["ord_no"]
    assert len(no) == 7 and no.isdigit()

    def order_event(state: str, order_no: str) -> dict:
        return _order_event(ws, state, order_no, name="주문체결")

    accepted = order_event("접수", no)
    assert (accepted["902"], accepted["904"], accepted["905"], accepted["906"]) == (
        "150",
        "0000000",
        "+매수",
        "보통",
    )
    assert accepted["909"] == accepted["910"] == accepted["911"] == ""
    # A crowd sell of 150: the 100 shares queued before us trade first, then 50 of ours.
    sim.control.trade("005380", "sell", 150)
    fill = order_event("체결", no)
    assert (fill["911"], fill["902"], fill["910"], fill["915"], fill["903"]) == (
        "50",
        "100",
        "210000",
        "50",
        str(50 * 210_000),
    )
    balance = ws.wait_real(lambda e: e["type"] == "04")
    assert set(balance["values"]) == BALANCE_FIDS and balance["name"] == "현물잔고"
    assert (balance["values"]["930"], balance["values"]["931"], balance["values"]["933"]) == (
        "50",
        "210000",
        "50",
    )
    tick = ws.wait_real(lambda e: e["type"] == "0B" and e["values"]["15"] == "-150")
    assert tick["values"]["10"].lstrip("+-") == "210000"
    # Modify 40 of the remaining 100 to a lower price: a new number, 접수 then 확인.
    mod = rest.ok(
        "kt10002",
        {
            "dmst_stex_tp": "KRX",
            "orig_ord_no": no,
            "stk_cd": "005380",
            "mdfy_qty": "40",
            "mdfy_uv": "209500",
            "mdfy_cond_uv": "",
        },
    )
    assert mod["base_orig_ord_no"] == no and mod["mdfy_qty"] == "000000000040"
    m_acc = order_event("접수", mod["ord_no"])
    assert (m_acc["904"], m_acc["905"], m_acc["902"], m_acc["901"]) == (
        no,
        "+매수정정",
        "40",
        "209500",
    )
    order_event("확인", mod["ord_no"])
    oso = {
        r["ord_no"]: r
        for r in rest.ok(
            "ka10075", {"all_stk_tp": "0", "trde_tp": "0", "stk_cd": "", "stex_tp": "0"}
        )["oso"]
    }
    assert oso[no]["oso_qty"] == "60" and oso[no]["ord_stt"] == "체결"
    assert oso[mod["ord_no"]]["oso_qty"] == "40" and oso[mod["ord_no"]]["orig_ord_no"] == no
    assert oso[mod["ord_no"]]["io_tp_nm"] == "+매수정정" and oso[no]["trde_tp"] == "보통"
    # Cancel the rest of the original: 접수 (902 = cancelled qty) then 확인 with 902 = 0.
    cancel = rest.ok(
        "kt10003", {"dmst_stex_tp": "KRX", "orig_ord_no": no, "stk_cd": "005380", "cncl_qty": "0"}
    )
    assert cancel["cncl_qty"] == "000000000060" and cancel["base_orig_ord_no"] == no
    c_acc = order_event("접수", cancel["ord_no"])
    assert (c_acc["905"], c_acc["902"], c_acc["904"]) == ("매수취소", "60", no)
    assert order_event("확인", cancel["ord_no"])["902"] == "0"
    oso = rest.ok(
        "ka10075", {"all_stk_tp": "1", "trde_tp": "2", "stk_cd": "005380", "stex_tp": "1"}
    )["oso"]
    assert [(r["ord_no"], r["oso_qty"]) for r in oso] == [(mod["ord_no"], "40")]
    fills = rest.ok("ka10076", {"qry_tp": "1", "stk_cd": "005380", "sell_tp": "2", "stex_tp": "0"})[
        "cntr"
    ]
    assert [(r["ord_no"], r["cntr_qty"], r["cntr_pric"], r["oso_qty"]) for r in fills] == [
        (no, "50", "210000", "0")
    ]
    holdings = rest.ok("kt00018", {"qry_tp": "1", "dmst_stex_tp": "KRX"})["acnt_evlt_remn_indv_tot"]
    row = next(r for r in holdings if r["stk_cd"] == "A005380")
    assert row["rmnd_qty"] == "000000000000050" and row["pur_pric"] == "000000000210000"
    # A venue rejection after acceptance: 접수 then 거부 with the reason in 919.
    sim.control.reject_next(1, "RC4999")
    rejected = rest.ok("kt10000", {**buy, "ord_qty": "1"})["ord_no"]
    order_event("접수", rejected)
    assert order_event("거부", rejected)["919"] == "RC4999"
    ws.close()


def test_business_rejections_and_closed_market(sim: SimulatorProcess, token: str) -> None:
    rest = Rest(sim, token)
    sim.control.set_price("000270", 100_000)
    base = {"dmst_stex_tp": "KRX", "stk_cd": "000270", "ord_qty": "1", "trde_tp": "0"}
    cases = [
        ({"ord_uv": "100050"}, "[2000](RC4003:모의투자 호가단위 오류입니다.)"),
        ({"ord_uv": "500000"}, "[2000](RC4004:모의투자 주문가격이 상하한가 범위를 벗어났습니다.)"),
        (
            {"ord_uv": "100000", "ord_qty": "100000"},
            "[2000](RC4025:모의투자 주문가능금액이 부족합니다.)",
        ),
        (
            {"ord_uv": "100000", "dmst_stex_tp": "NXT"},
            "[2000](RC9000:모의투자에서는 해당업무가 제공되지 않습니다.)",
        ),
    ]
    for extra, message in cases:
        d = rest.call("kt10000", {**base, **extra}).json()
        assert d == {"return_code": 20, "return_msg": message}, d
    sell = rest.call("kt10001", {**base, "ord_uv": "100000"}).json()
    assert sell["return_msg"] == "[2000](800033:모의투자 매도가능수량이 부족합니다.)"
    d = rest.call(
        "kt10003",
        {"dmst_stex_tp": "KRX", "orig_ord_no": "0999999", "stk_cd": "000270", "cncl_qty": "0"},
    ).json()
    assert d["return_msg"] == "[2000](RC4033:모의투자 원주문번호가 존재하지 않습니다.)"
    missing = rest.call("kt10000", {**base}).json()
    assert missing["return_code"] == 2 and "파라미터=ord_uv" in missing["return_msg"]
    bad_qty = rest.call("kt10000", {**base, "ord_uv": "100000", "ord_qty": "1.5"}).json()
    assert bad_qty["return_code"] == 2 and "[1517:ord_qty" in bad_qty["return_msg"]
    sim.control.set_phase("closed")
    try:
        d = rest.call("kt10000", {**base, "ord_uv": "100000"}).json()
        assert d == {"return_code": 20, "return_msg": "[2000](RC4058:모의투자 장종료)"}
    finally:
        sim.control.set_phase(None)
    assert rest.ok("kt10000", {**base, "ord_uv": "99000"})["ord_no"]


def test_condition_search_frames(sim: SimulatorProcess, token: str) -> None:
    ws = Ws(sim, token)
    listing = ws.reply({"trnm": "CNSRLST"})
    assert listing["return_code"] == 0 and listing["return_msg"] == ""
    assert all(isinstance(x, list) and len(x) == 2 for x in listing["data"])
    names = dict(listing["data"])
    assert names["0"] == "상승률 3% 이상" and names["1"] == "거래량 급증"
    assert names["2"] == "52주 신고가 근접"
    for code in ("005930", "000660", "035720"):
        sim.control.condition("4", code, "add")
    sim.control.set_condition_page_size(2)
    page1 = ws.reply(
        {
            "trnm": "CNSRREQ",
            "seq": "4",
            "search_type": "0",
            "stex_tp": "K",
            "cont_yn": "N",
            "next_key": "",
        }
    )
    assert page1["cont_yn"] == "Y" and page1["next_key"] and len(page1["data"]) == 2
    row = page1["data"][0]
    assert set(row) == {"9001", "302", "10", "25", "11", "12", "13", "16", "17", "18"}
    assert row["9001"].startswith("A") and all(len(row[f]) == 9 for f in ("10", "11", "12", "13"))
    page2 = ws.reply(
        {
            "trnm": "CNSRREQ",
            "seq": "4",
            "search_type": "0",
            "stex_tp": "K",
            "cont_yn": "Y",
            "next_key": page1["next_key"],
        }
    )
    assert page2["cont_yn"] == "N" and len(page2["data"]) == 1
    codes = {r["9001"] for r in page1["data"] + page2["data"]}
    assert codes == {"A005930", "A000660", "A035720"}
    realtime = ws.reply({"trnm": "CNSRREQ", "seq": "4", "search_type": "1", "stex_tp": "K"})
    assert realtime["return_code"] == 0
    assert {d["jmcode"] for d in realtime["data"]} == codes
    sim.control.condition("4", "005380", "add")
    entered = ws.wait_real(lambda e: e["type"] == "02")
    assert entered["name"] == "조건검색" and entered["item"] == "005380"
    assert (entered["values"]["841"], entered["values"]["9001"], entered["values"]["843"]) == (
        "4",
        "005380",
        "I",
    )
    sim.control.condition("4", "005930", "remove")
    left = ws.wait_real(lambda e: e["type"] == "02")
    assert (left["values"]["9001"], left["values"]["843"]) == ("005930", "D")
    assert ws.reply({"trnm": "CNSRCLR", "seq": "4"}) == {
        "trnm": "CNSRCLR",
        "seq": "4",
        "return_code": 0,
        "return_msg": "",
    }
    sim.control.condition("4", "005930", "add")
    ws.reply({"trnm": "CNSRLST"})  # ordered after the change: a push would have come first
    assert not [e for e in ws.real if e["type"] == "02"]
    bad = ws.reply({"trnm": "CNSRREQ", "seq": "99", "search_type": "0", "stex_tp": "K"})
    assert bad["return_code"] != 0 and "seq=99" in bad["return_msg"]
    for seq in [str(i) for i in range(10)]:
        assert (
            ws.reply({"trnm": "CNSRREQ", "seq": seq, "search_type": "1", "stex_tp": "K"})[
                "return_code"
            ]
            == 0
        )
    over = ws.reply({"trnm": "CNSRREQ", "seq": "10", "search_type": "1", "stex_tp": "K"})
    assert over["return_code"] != 0
    ws.close()


def test_realtime_condition_needs_CNSRLST_first_on_the_connection(
    sim: SimulatorProcess, token: str
) -> None:
    ws = Ws(sim, token)
    ws.send({"trnm": "CNSRREQ", "seq": "0", "search_type": "1", "stex_tp": "K"})
    ws.reply({"trnm": "CNSRLST"})  # replies are ordered: one to CNSRREQ would come first
    assert [m for m in ws.log if m.get("trnm") == "CNSRREQ"] == []
    after = ws.reply({"trnm": "CNSRREQ", "seq": "0", "search_type": "1", "stex_tp": "K"})
    assert after["return_code"] == 0
    ws.close()


def test_bad_frames_get_replies_or_a_close_with_a_reason(sim: SimulatorProcess, token: str) -> None:
    ws = Ws(sim, token, login=False)
    early = ws.reply({"trnm": "REG", "grp_no": "1", "data": [{"item": ["005930"], "type": ["0B"]}]})
    assert early["return_code"] != 0
    ws.send({"trnm": "LOGIN", "token": token})
    ws.wait(lambda m: m.get("trnm") == "LOGIN")
    unknown = ws.reply({"trnm": "HELLO"})
    assert unknown["return_code"] != 0 and "HELLO" in unknown["return_msg"]
    ws.conn.send("{not json")
    assert ws.wait(lambda m: "return_code" in m)["return_code"] != 0
    for bad in (
        {"trnm": "REG", "grp_no": "1", "data": "x"},
        {"trnm": "REG", "grp_no": "1", "data": [{"item": ["005930"], "type": ["ZZ"]}]},
        {"trnm": "REG", "grp_no": "12345", "data": [{"item": ["005930"], "type": ["0B"]}]},
    ):
        assert ws.reply(bad)["return_code"] == 1
    ws.conn.send(b"\x00\x01binary")
    with pytest.raises(ConnectionClosed) as err:
        ws.next(timeout=10)
    assert err.value.rcvd is not None and err.value.rcvd.code == 1003
    with pytest.raises(InvalidStatus) as status:
        connect(sim.ws_url.replace("/api/dostk/websocket", "/other"), proxy=None)
    assert status.value.response.status_code == 404


def test_revoking_the_token_closes_its_sessions(sim: SimulatorProcess) -> None:
    token = issue_token(sim.rest_url, app_key="revoke-key")
    ws = Ws(sim, token)
    import requests

    requests.post(
        sim.rest_url + "/oauth2/revoke",
        json={"appkey": "revoke-key", "secretkey": "s", "token": token},
    )
    with pytest.raises(ConnectionClosed) as err:
        ws.wait(lambda m: False)
    assert err.value.rcvd is not None and err.value.rcvd.code == 1008


def test_modify_and_cancel_rejections_leave_the_order_as_it_was(
    sim: SimulatorProcess, token: str
) -> None:
    rest = Rest(sim, token)
    price = sim.control.set_price("051910", 300_000)
    band = sim.control.quote("051910")
    buy = {"dmst_stex_tp": "KRX", "stk_cd": "051910", "ord_qty": "10", "trde_tp": "0"}
    no = rest.ok("kt10000", {**buy, "ord_uv": str(price - 5_000)})["ord_no"]
    modify = {"dmst_stex_tp": "KRX", "orig_ord_no": no, "stk_cd": "051910", "mdfy_cond_uv": ""}
    cancel = {"dmst_stex_tp": "KRX", "orig_ord_no": no, "stk_cd": "051910"}
    cases = [
        (
            "kt10002",
            {**modify, "mdfy_qty": "11", "mdfy_uv": str(price - 5_000)},
            "[2000](RC4034:모의투자 정정/취소 가능수량을 초과하였습니다.)",
        ),
        (
            "kt10002",
            {**modify, "mdfy_qty": "5", "mdfy_uv": str(price - 4_900)},  # tick is 500
            "[2000](RC4003:모의투자 호가단위 오류입니다.)",
        ),
        (
            "kt10002",
            {**modify, "mdfy_qty": "0", "mdfy_uv": str(band["upper"] + 500)},
            "[2000](RC4004:모의투자 주문가격이 상하한가 범위를 벗어났습니다.)",
        ),
        (
            "kt10002",
            {**modify, "orig_ord_no": "0999998", "mdfy_qty": "1", "mdfy_uv": str(price)},
            "[2000](RC4033:모의투자 원주문번호가 존재하지 않습니다.)",
        ),
        (
            "kt10003",
            {**cancel, "cncl_qty": "11"},
            "[2000](RC4034:모의투자 정정/취소 가능수량을 초과하였습니다.)",
        ),
        (
            "kt10003",
            {**cancel, "orig_ord_no": "0999998", "cncl_qty": "0"},
            "[2000](RC4033:모의투자 원주문번호가 존재하지 않습니다.)",
        ),
        (
            "kt10003",  # the order exists, but for another stock
            {**cancel, "stk_cd": "005930", "cncl_qty": "0"},
            "[2000](RC4033:모의투자 원주문번호가 존재하지 않습니다.)",
        ),
    ]
    for api_id, body, message in cases:
        d = rest.call(api_id, body).json()
        assert d == {"return_code": 20, "return_msg": message}, (api_id, body, d)
    oso = rest.ok(
        "ka10075", {"all_stk_tp": "1", "trde_tp": "2", "stk_cd": "051910", "stex_tp": "0"}
    )["oso"]
    assert [(r["ord_no"], r["oso_qty"], r["ord_pric"]) for r in oso] == [
        (no, "10", str(price - 5_000))
    ]
    # The whole order cancelled: a cancel of the cancelled order has nothing left to cancel.
    rest.ok("kt10003", {**cancel, "cncl_qty": "0"})
    again = rest.call("kt10003", {**cancel, "cncl_qty": "0"}).json()
    assert again["return_msg"] == "[2000](RC4033:모의투자 원주문번호가 존재하지 않습니다.)"


def test_sell_order_events_follow_the_documented_sequences(
    sim: SimulatorProcess, token: str
) -> None:
    """The sell side of the buy test above: -매도 / -매도정정 / 매도취소 labels, tax in the 00
    fill, and 04 pushes whose holding falls with each fill."""
    fees = krx.FeeSchedule()
    code = "068270"
    rest = Rest(sim, token)
    ws = Ws(sim, token)
    ws.reply(
        {
            "trnm": "REG",
            "grp_no": "11",
            "refresh": "1",
            "data": [{"item": [""], "type": ["00", "04"]}],
        }
    )
    sim.control.set_crowd(code, 100)
    price = sim.control.set_price(code, 170_000)
    ask = price + krx.tick_size(price)
    sim.control.set_account(holdings=[{"code": code, "qty": 200, "avg_price": 160_000}])
    sell = {"dmst_stex_tp": "KRX", "stk_cd": code, "ord_qty": "150", "trde_tp": "0"}
    ack = rest.ok("kt10001", {**sell, "ord_uv": str(ask)})
    assert ack["return_msg"] == "모의투자 매도주문완료" and ack["dmst_stex_tp"] == "KRX"
    no = ack["ord_no"]

    def order_event(state: str, order_no: str) -> dict:
        return _order_event(ws, state, order_no, item=code)

    accepted = order_event("접수", no)
    assert (accepted["902"], accepted["904"], accepted["905"], accepted["906"]) == (
        "150",
        "0000000",
        "-매도",
        "보통",
    )
    assert (accepted["907"], accepted["938"], accepted["939"]) == ("1", "0", "0")
    # A crowd buy of 150: the crowd's 100 at our price trade first, then 50 of ours.
    sim.control.trade(code, "buy", 150)
    fill = order_event("체결", no)
    amount = 50 * ask
    assert (fill["911"], fill["902"], fill["910"], fill["915"], fill["903"]) == (
        "50",
        "100",
        str(ask),
        "50",
        str(amount),
    )
    assert (fill["938"], fill["939"]) == (
        str(fees.commission(amount)),
        str(fees.tax(amount, True)),
    )
    assert int(fill["939"]) > 0
    first = ws.wait_real(lambda e: e["type"] == "04" and e["item"] == code)["values"]
    assert set(first) == BALANCE_FIDS
    # 150 held, 100 of them still offered: 50 sellable.
    assert (first["930"], first["931"], first["933"], first["946"]) == ("150", "160000", "50", "1")
    cost = 160_000 * 50
    buy_fees = fees.commission(160_000 * 200) * 50 // 200
    realized = amount - cost - fees.commission(amount) - fees.tax(amount, True) - buy_fees
    assert first["950"] == first["990"] == str(realized)
    # Modify 40 of the remaining 100 one tick higher: -매도정정, 접수 then 확인.
    higher = ask + krx.tick_size(ask)
    mod = rest.ok(
        "kt10002",
        {
            "dmst_stex_tp": "KRX",
            "orig_ord_no": no,
            "stk_cd": code,
            "mdfy_qty": "40",
            "mdfy_uv": str(higher),
            "mdfy_cond_uv": "",
        },
    )
    assert mod["base_orig_ord_no"] == no and mod["mdfy_qty"] == "000000000040"
    m_acc = order_event("접수", mod["ord_no"])
    assert (m_acc["904"], m_acc["905"], m_acc["902"], m_acc["901"], m_acc["907"]) == (
        no,
        "-매도정정",
        "40",
        str(higher),
        "1",
    )
    order_event("확인", mod["ord_no"])
    # Cancel the rest of the original: 매도취소, 902 = cancelled qty, then 확인 with 0.
    cancel = rest.ok(
        "kt10003", {"dmst_stex_tp": "KRX", "orig_ord_no": no, "stk_cd": code, "cncl_qty": "0"}
    )
    assert cancel["cncl_qty"] == "000000000060"
    c_acc = order_event("접수", cancel["ord_no"])
    assert (c_acc["905"], c_acc["902"], c_acc["904"]) == ("매도취소", "60", no)
    assert order_event("확인", cancel["ord_no"])["902"] == "0"
    # The price runs through the modified order: it fills in full at its own price.
    sim.control.set_price(code, higher + krx.tick_size(higher))
    m_fill = order_event("체결", mod["ord_no"])
    m_amount = 40 * higher
    assert (m_fill["911"], m_fill["902"], m_fill["910"], m_fill["903"]) == (
        "40",
        "0",
        str(higher),
        str(m_amount),
    )
    assert m_fill["939"] == str(fees.tax(m_amount, True))
    second = ws.wait_real(lambda e: e["type"] == "04" and e["item"] == code)["values"]
    assert (second["930"], second["933"]) == ("110", "110")  # 200 → 150 → 110
    holdings = rest.ok("kt00018", {"qry_tp": "1", "dmst_stex_tp": "KRX"})["acnt_evlt_remn_indv_tot"]
    row = next(r for r in holdings if r["stk_cd"] == "A" + code)
    assert (row["rmnd_qty"], row["trde_able_qty"], row["tdy_sellq"]) == (
        "000000000000110",
        "000000000000110",
        "000000000000090",
    )
    fills = rest.ok("ka10076", {"qry_tp": "1", "stk_cd": code, "sell_tp": "1", "stex_tp": "0"})[
        "cntr"
    ]
    assert sorted((r["ord_no"], r["cntr_qty"], r["cntr_pric"]) for r in fills) == sorted(
        [(no, "50", str(ask)), (mod["ord_no"], "40", str(higher))]
    )
    ws.close()


# Stocks no other test of this module moves (no ETFs: their tick is 5 KRW at any price).
USED_ELSEWHERE = {"005930", "000660", "035420", "005380", "000270", "035720", "051910"}
USED_ELSEWHERE |= {"068270", "005490", "006400"}
CONDITION_CANDIDATES = tuple(
    code for code, listing in BY_CODE.items() if code not in USED_ELSEWHERE and not listing.is_etf
)


def test_computed_conditions_take_in_a_stock_with_an_I_event(
    sim: SimulatorProcess, token: str
) -> None:
    """거래량 급증 (seq 1) and 52주 신고가 근접 (seq 2) follow the market: a burst of volume
    and a price near the 250-day high each bring a stock in with a 02 push, 843 = I."""
    rest = Rest(sim, token)
    ws = Ws(sim, token)
    ws.reply({"trnm": "CNSRLST"})
    members = {}
    for seq in ("1", "2"):
        reply = ws.reply({"trnm": "CNSRREQ", "seq": seq, "search_type": "1", "stex_tp": "K"})
        assert reply["return_code"] == 0
        members[seq] = {row["jmcode"].removeprefix("A") for row in reply["data"]}

    def entered(seq: str, code: str) -> dict:
        return ws.wait_real(
            lambda e: (
                e["type"] == "02" and e["values"]["841"] == seq and e["values"]["9001"] == code
            )
        )["values"]

    # 52주 신고가 근접: the first candidate whose high is in reach of its band, moved to 95 %
    # of that high.
    near_high = None
    for code in CONDITION_CANDIDATES:
        high = int(rest.ok("ka10001", {"stk_cd": code})["250hgst"].lstrip("+-"))
        target = krx.round_up_to_tick(-(-high * 95 // 100))
        if code not in members["2"] and target <= sim.control.quote(code)["upper"]:
            near_high = code
            assert sim.control.set_price(code, target) == target
            break
    assert near_high is not None, "no candidate can reach 95 % of its 52-week high today"
    assert entered("2", near_high)["843"] == "I"
    # 거래량 급증: one print of twice the day's volume so far in the current minute.
    surge = next(c for c in CONDITION_CANDIDATES if c not in members["1"] and c != near_high)
    quote = sim.control.quote(surge)
    sim.control.set_price(surge, quote["price"], qty=2 * quote["volume"] + 1)
    assert entered("1", surge)["843"] == "I"
    ws.close()


def test_remove_of_one_group_keeps_the_other_groups_pushes(
    sim: SimulatorProcess, token: str
) -> None:
    """Registrations are kept per group (§8.3): 006400 is in both groups, 005490 only in
    group 21; removing group 21 stops 005490 and leaves 006400 to group 22."""
    ws = Ws(sim, token)
    for grp, items in (("21", ["005490", "006400"]), ("22", ["006400"])):
        ack = ws.reply(
            {
                "trnm": "REG",
                "grp_no": grp,
                "refresh": "1",
                "data": [{"item": items, "type": ["0B"]}],
            }
        )
        assert ack == {"trnm": "REG", "return_code": 0, "return_msg": ""}
    p1 = sim.control.set_price("005490", 300_000)
    p2 = sim.control.set_price("006400", 250_000)
    assert ws.wait_real(lambda e: e["item"] == "005490")["values"]["10"].lstrip("+-") == str(p1)
    assert ws.wait_real(lambda e: e["item"] == "006400")["values"]["10"].lstrip("+-") == str(p2)
    remove = ws.reply(
        {
            "trnm": "REMOVE",
            "grp_no": "21",
            "data": [{"item": ["005490", "006400"], "type": ["0B"]}],
        }
    )
    assert remove == {"trnm": "REMOVE", "return_code": 0, "return_msg": ""}
    groups = next(s["groups"] for s in sim.control.state()["sessions"] if "22" in s["groups"])
    assert groups == {"22": ["006400:0B"]}
    ws.real.clear()
    sim.control.set_price("005490", krx.step_price(p1, 2))  # pushed first, if at all
    p2 = sim.control.set_price("006400", krx.step_price(p2, 2))
    tick = ws.wait_real(lambda e: e["item"] == "006400")
    assert tick["values"]["10"].lstrip("+-") == str(p2)
    assert [e for e in ws.real if e["item"] == "005490"] == []
    ws.close()
