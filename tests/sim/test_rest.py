"""REST conformance against the running simulator, TR by TR (kiwoom-api.md §1–7)."""

from __future__ import annotations

import platform
import re
import socket
import sys
import time
from typing import Any

import requests

from kiwoom_terminal import krx
from kiwoom_terminal.sim.launcher import SimulatorProcess
from tests.sim.conftest import Rest

SIGNED_PRICE = re.compile(r"^[+-]?\d+$")
RATE = re.compile(r"^[+-]?\d+\.\d\d$")
DIGITS = re.compile(r"^\d+$")


def magnitude(text: str) -> int:
    return int(text.lstrip("+-"))


def assert_all_strings(body: dict[str, Any]) -> None:
    for key, value in body.items():
        if key == "return_code":
            assert isinstance(value, int)
        elif isinstance(value, list):
            for row in value:
                if isinstance(row, dict):
                    assert_all_strings(row)
        else:
            assert isinstance(value, str), (key, value)


# --- OAuth -------------------------------------------------------------------------------


def test_token_issue_shape_with_and_without_api_id(open_sim: SimulatorProcess) -> None:
    body = {"grant_type": "client_credentials", "appkey": "k1", "secretkey": "s1"}
    for headers in ({}, {"api-id": "au10001"}):
        resp = requests.post(open_sim.rest_url + "/oauth2/token", json=body, headers=headers)
        data = resp.json()
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
        assert set(data) == {"expires_dt", "token_type", "token", "return_code", "return_msg"}
        assert data["return_code"] == 0 and data["token_type"] == "bearer"
        assert re.fullmatch(r"\d{14}", data["expires_dt"]) and len(data["token"]) > 40


def test_token_errors(open_sim: SimulatorProcess) -> None:
    url = open_sim.rest_url + "/oauth2/token"
    cases = [
        ({"appkey": "a", "secretkey": "b"}, 8011),
        ({"grant_type": "password", "appkey": "a", "secretkey": "b"}, 8012),
        ({"grant_type": "client_credentials", "appkey": "", "secretkey": "b"}, 8020),
        ({"grant_type": "client_credentials", "secretkey": "b"}, 8020),
    ]
    for body, code in cases:
        data = requests.post(url, json=body).json()
        assert data["return_code"] == 3, data
        assert f"[{code}:" in data["return_msg"]


def test_revoked_token_is_rejected_with_8005(open_sim: SimulatorProcess) -> None:
    rest = Rest(open_sim)
    rest.ok("ka10001", {"stk_cd": "005930"})
    revoke = requests.post(
        open_sim.rest_url + "/oauth2/revoke",
        json={"appkey": "test-app-key", "secretkey": "x", "token": rest.token},
    ).json()
    assert revoke == {"return_code": 0, "return_msg": "정상적으로 처리되었습니다"}
    resp = rest.call("ka10001", {"stk_cd": "005930"})
    assert resp.status_code == 200
    assert resp.json() == {
        "return_code": 3,
        "return_msg": "인증에 실패했습니다[8005:Token이 유효하지 않습니다]",
    }
    again = requests.post(open_sim.rest_url + "/oauth2/revoke", json={"appkey": "a"}).json()
    assert again["return_code"] == 3 and "[8016:" in again["return_msg"]


# --- market data ---------------------------------------------------------------------------


def test_ka10001_fields_signs_and_invariants(rest: Rest) -> None:
    resp = rest.call("ka10001", {"stk_cd": "005930"})
    assert resp.headers["api-id"] == "ka10001"
    assert resp.headers["cont-yn"] == "N" and resp.headers["next-key"] == ""
    d = resp.json()
    assert_all_strings(d)
    expected = [
        "stk_cd",
        "stk_nm",
        "setl_mm",
        "fav",
        "cap",
        "flo_stk",
        "crd_rt",
        "oyr_hgst",
        "oyr_lwst",
        "mac",
        "mac_wght",
        "for_exh_rt",
        "repl_pric",
        "per",
        "eps",
        "roe",
        "pbr",
        "ev",
        "bps",
        "sale_amt",
        "bus_pro",
        "cup_nga",
        "250hgst",
        "250lwst",
        "high_pric",
        "open_pric",
        "low_pric",
        "upl_pric",
        "lst_pric",
        "base_pric",
        "exp_cntr_pric",
        "exp_cntr_qty",
        "250hgst_pric_dt",
        "250hgst_pric_pre_rt",
        "250lwst_pric_dt",
        "250lwst_pric_pre_rt",
        "cur_prc",
        "pre_sig",
        "pred_pre",
        "flu_rt",
        "trde_qty",
        "trde_pre",
        "fav_unit",
        "dstr_stk",
        "dstr_rt",
    ]
    assert set(expected) <= set(d)
    assert (d["stk_cd"], d["stk_nm"], d["return_code"]) == ("005930", "삼성전자", 0)
    base = int(d["base_pric"])
    price = magnitude(d["cur_prc"])
    assert DIGITS.match(d["base_pric"]) and SIGNED_PRICE.match(d["cur_prc"])
    assert int(d["pred_pre"]) == price - base
    assert d["cur_prc"][0] == ("+" if price > base else "-" if price < base else d["cur_prc"][0])
    assert RATE.match(d["flu_rt"]) and float(d["flu_rt"]) == round((price - base) / base * 100, 2)
    band = krx.price_band(base)
    assert (d["upl_pric"], d["lst_pric"]) == (f"+{band.upper}", f"-{band.lower}")
    assert d["pre_sig"] == krx.sign_code(price, base)
    assert krx.is_on_grid(price)


def test_unknown_stock_is_1902_and_bad_code_is_1517(rest: Rest) -> None:
    d = rest.call("ka10001", {"stk_cd": "999999"}).json()
    assert d["return_code"] == 7
    assert d["return_msg"].endswith(
        "[1902:종목 정보가 없습니다. 입력한 종목코드 값을 확인바랍니다. 종목코드=999999]"
    )
    for bad in ("5930", ["005930"], True, "005930_XX"):
        d = rest.call("ka10001", {"stk_cd": bad}).json()
        assert (d["return_code"], "[1517:" in d["return_msg"]) == (2, True), bad


def test_ka10001_accepts_venue_suffixes_and_returns_the_bare_code(rest: Rest) -> None:
    for code in ("005930_NX", "005930_AL"):
        assert rest.ok("ka10001", {"stk_cd": code})["stk_cd"] == "005930"


def test_ka10004_ten_levels_on_the_grid(rest: Rest) -> None:
    d = rest.ok("ka10004", {"stk_cd": "000660"})
    assert_all_strings(d)
    asks = [magnitude(d["sel_fpr_bid"])] + [
        magnitude(d[f"sel_{n}th_pre_bid"]) for n in range(2, 11)
    ]
    bids = [magnitude(d["buy_fpr_bid"])] + [
        magnitude(d[f"buy_{n}th_pre_bid"]) for n in range(2, 11)
    ]
    assert asks == sorted(asks) and bids == sorted(bids, reverse=True)
    assert asks[0] > bids[0]
    assert all(krx.is_on_grid(p) for p in asks + bids)
    assert re.fullmatch(r"\d{6}", d["bid_req_base_tm"])
    qtys = [int(d["sel_fpr_req"])] + [int(d[f"sel_{n}th_pre_req"]) for n in range(2, 11)]
    assert int(d["tot_sel_req"]) == sum(qtys)
    for key in ("sel_1th_pre_req_pre", "buy_1th_pre_req_pre", "ovt_sel_req", "ovt_buy_req_pre"):
        assert key in d


def test_ka10007_quote_sheet(rest: Rest) -> None:
    d = rest.ok("ka10007", {"stk_cd": "035420"})
    assert_all_strings(d)
    for n in range(1, 11):
        for key in (f"sel_{n}bid", f"buy_{n}bid", f"sel_{n}bid_req", f"lpbuy_{n}bid_req"):
            assert key in d
    assert "sel_5bid_cnt" in d and "sel_6bid_cnt" not in d
    assert re.fullmatch(r"\d{8}", d["date"]) and re.fullmatch(r"\d{6}", d["tm"])
    assert int(d["pred_rt"]) == magnitude(d["cur_prc"]) - int(d["pred_close_pric"])


def test_ka10081_pages_newest_first_with_response_headers(rest: Rest) -> None:
    body = {"stk_cd": "005930", "base_dt": "20991231", "upd_stkpc_tp": "1"}
    first = rest.call("ka10081", body)
    rows = first.json()["stk_dt_pole_chart_qry"]
    assert len(rows) == 600
    assert first.headers["cont-yn"] == "Y" and first.headers["next-key"]
    assert rows[0]["dt"] == "20261120"  # a future base_dt clamps to today
    quote = rest.ok("ka10001", {"stk_cd": "005930"})
    assert rows[0]["cur_prc"] == str(magnitude(quote["cur_prc"]))
    assert rows[1]["cur_prc"] == quote["base_pric"]
    second = rest.call(
        "ka10081", body, headers={"cont-yn": "Y", "next-key": first.headers["next-key"]}
    )
    rows2 = second.json()["stk_dt_pole_chart_qry"]
    assert second.headers["cont-yn"] == "N" and second.headers["next-key"] == ""
    assert len(rows2) == 201
    dates = [r["dt"] for r in rows + rows2]
    assert dates == sorted(dates, reverse=True) and len(set(dates)) == len(dates)
    for row in rows[:30]:
        assert int(row["low_pric"]) <= int(row["cur_prc"]) <= int(row["high_pric"])
        assert re.fullmatch(r"[+-]\d+\.\d\d", row["trde_tern_rt"])
    for newer, older in zip(rows, rows[1:30]):
        assert int(newer["pred_pre"]) == int(newer["cur_prc"]) - int(older["cur_prc"])


def test_ka10081_holiday_resolves_to_the_business_day_before(rest: Rest) -> None:
    body = {"stk_cd": "005930", "base_dt": "20261115", "upd_stkpc_tp": "0"}  # a Sunday
    rows = rest.ok("ka10081", body)["stk_dt_pole_chart_qry"]
    assert rows[0]["dt"] == "20261113"
    d = rest.call("ka10081", {"stk_cd": "005930", "base_dt": "", "upd_stkpc_tp": "1"}).json()
    assert d["return_code"] == 2
    assert (
        d["return_msg"]
        == "입력 값 오류입니다[1511:필수 입력 값에 값이 존재하지 않습니다. 필수입력 파라미터=base_dt]"
    )
    d = rest.call(
        "ka10081", {"stk_cd": "005930", "base_dt": "2026-11-15", "upd_stkpc_tp": "1"}
    ).json()
    assert d["return_code"] == 2 and "[1517:base_dt" in d["return_msg"]


def test_ka10080_minute_bars_signed_and_paged(rest: Rest) -> None:
    body = {"stk_cd": "005930", "tic_scope": "1", "upd_stkpc_tp": "1"}
    first = rest.call("ka10080", body)
    d = first.json()
    rows = d["stk_min_pole_chart_qry"]
    assert len(rows) == 900 and first.headers["cont-yn"] == "Y"
    assert rows[0]["cntr_tm"].startswith("20261120")
    quote = rest.ok("ka10001", {"stk_cd": "005930"})
    assert rows[0]["cur_prc"] == quote["cur_prc"]
    assert rows[0]["acc_trde_qty"] == quote["trde_qty"]
    times = [r["cntr_tm"] for r in rows]
    assert times == sorted(times, reverse=True)
    assert all(re.fullmatch(r"\d{14}", t) for t in times)
    second = rest.call(
        "ka10080", body, headers={"cont-yn": "Y", "next-key": first.headers["next-key"]}
    )
    assert second.json()["stk_min_pole_chart_qry"][0]["cntr_tm"] < times[-1]
    five = rest.ok("ka10080", {**body, "tic_scope": "5"})["stk_min_pole_chart_qry"]
    assert all(int(r["cntr_tm"][10:12]) % 5 == 0 for r in five[:50])
    past = rest.ok("ka10080", {**body, "base_dt": "20261118"})["stk_min_pole_chart_qry"]
    assert past[0]["cntr_tm"] == "20261118153000"
    bad = rest.call("ka10080", {**body, "tic_scope": "2"}).json()
    assert bad["return_code"] == 2 and "[1517:tic_scope" in bad["return_msg"]


def test_ka10086_daily_prices_twenty_per_page(rest: Rest) -> None:
    body = {"stk_cd": "000660", "qry_dt": "20261120", "indc_tp": "0"}
    first = rest.call("ka10086", body)
    rows = first.json()["daly_stkpc"]
    assert len(rows) == 20 and first.headers["cont-yn"] == "Y"
    for row in rows:
        assert set(row) >= {
            "date",
            "open_pric",
            "close_pric",
            "pred_rt",
            "flu_rt",
            "trde_qty",
            "amt_mn",
            "ind",
            "orgn",
            "for_qty",
            "for_netprps",
            "crd_remn_rt",
        }
        assert int(row["ind"]) + int(row["orgn"]) + int(row["for_qty"]) == 0
    second = rest.ok(
        "ka10086", body, headers={"cont-yn": "Y", "next-key": first.headers["next-key"]}
    )
    assert second["daly_stkpc"][0]["date"] < rows[-1]["date"]


def test_ka10099_lists_the_market_in_pages(rest: Rest) -> None:
    rows: list[dict[str, str]] = []
    headers: dict[str, str] = {}
    for _ in range(10):
        resp = rest.call("ka10099", {"mrkt_tp": "0"}, headers=headers)
        rows += resp.json()["list"]
        if resp.headers["cont-yn"] != "Y":
            break
        headers = {"cont-yn": "Y", "next-key": resp.headers["next-key"]}
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes)) == 100
    samsung = next(r for r in rows if r["code"] == "005930")
    assert samsung["name"] == "삼성전자" and samsung["listCount"] == "0000005969783000"
    assert samsung["lastPrice"] == "00070000" and samsung["marketName"] == "거래소"
    kosdaq = rest.ok("ka10099", {"mrkt_tp": "10"})["list"]
    assert kosdaq and all(r["marketCode"] == "10" for r in kosdaq)


# --- account -------------------------------------------------------------------------------


def test_account_trs_on_a_fresh_account(rest: Rest) -> None:
    acct = rest.ok("ka00001", {})
    assert re.fullmatch(r"\d{10}", acct["acctNo"])
    dep = rest.ok("kt00001", {"qry_tp": "3"})
    assert_all_strings(dep)
    for key in (
        "entr",
        "ord_alow_amt",
        "pymn_alow_amt",
        "d2_entra",
        "100stk_ord_alow_amt",
        "ch_uncla",
    ):
        assert re.fullmatch(r"\d{15}", dep[key]), key
    assert dep["stk_entr_prst"] == []
    bal = rest.ok("kt00018", {"qry_tp": "1", "dmst_stex_tp": "KRX"})
    for key in ("tot_pur_amt", "tot_evlt_amt", "tot_evlt_pl", "prsm_dpst_aset_amt"):
        assert re.fullmatch(r"-?\d{14,15}", bal[key]) and len(bal[key]) == 15
    missing = rest.call("ka10075", {"trde_tp": "0", "stex_tp": "0"}).json()
    assert missing["return_code"] == 2 and "파라미터=all_stk_tp" in missing["return_msg"]


# --- envelopes and bad input ---------------------------------------------------------------


def test_api_id_errors(rest: Rest, open_sim: SimulatorProcess) -> None:
    url = open_sim.rest_url
    auth = {"authorization": f"Bearer {rest.token}"}
    d = requests.post(url + "/api/dostk/stkinfo", json={}, headers=auth).json()
    assert d["return_code"] == 2 and "[1501:" in d["return_msg"]
    d = requests.post(
        url + "/api/dostk/stkinfo", json={}, headers={**auth, "api-id": "ka99999"}
    ).json()
    assert "[1505:" in d["return_msg"]
    d = requests.post(
        url + "/api/dostk/chart", json={}, headers={**auth, "api-id": "ka10001"}
    ).json()
    assert "[1504:" in d["return_msg"]
    resp = requests.post(url + "/api/dostk/nowhere", json={}, headers={**auth, "api-id": "ka10001"})
    assert resp.status_code == 404 and resp.json()["return_code"] == 2
    resp = requests.get(url + "/api/dostk/stkinfo", headers={**auth, "api-id": "ka10001"})
    assert resp.status_code == 405 and "return_msg" in resp.json()


def test_authorization_header_errors(rest: Rest) -> None:
    cases = [
        ({"authorization": ""}, 1516),
        ({"authorization": "Bearer "}, 1516),
        ({"authorization": "rawtoken"}, 1514),
        ({"authorization": "Basic abc"}, 1515),
    ]
    for headers, code in cases:
        d = rest.call("ka10001", {"stk_cd": "005930"}, headers=headers).json()
        assert d["return_code"] == 2 and f"[{code}:" in d["return_msg"], d
    resp = requests.post(
        rest.sim.rest_url + "/api/dostk/stkinfo",
        json={"stk_cd": "005930"},
        headers={"api-id": "ka10001"},
    )
    assert "[1513:" in resp.json()["return_msg"]
    d = rest.call("ka10001", {"stk_cd": "005930"}, headers={"authorization": "Bearer nope"}).json()
    assert d["return_code"] == 3 and "[8005:" in d["return_msg"]


def test_malformed_bodies_get_1517_and_the_server_keeps_serving(rest: Rest) -> None:
    h = {"api-id": "ka10001", "authorization": f"Bearer {rest.token}"}
    url = rest.sim.rest_url + "/api/dostk/stkinfo"
    for raw in (b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"'):
        d = requests.post(url, data=raw, headers=h).json()
        assert d["return_code"] == 2 and "[1517:" in d["return_msg"], raw
    big = b'{"stk_cd":"' + b"9" * (2 * 1024 * 1024) + b'"}'
    resp = requests.post(url, data=big, headers=h)
    assert resp.status_code == 413 and resp.json()["return_code"] == 2
    assert rest.ok("ka10001", {"stk_cd": "005930"})["stk_cd"] == "005930"


def test_garbage_http_gets_an_envelope(open_sim: SimulatorProcess) -> None:
    host, port = open_sim.rest_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"HELLO THERE\r\n\r\n")
        reply = sock.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 400 ") and '"return_code":2' in reply
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /api/dostk/stkinfo HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n")
        reply = sock.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 431 ")


def test_numbers_are_read_as_strings_but_objects_are_format_errors(rest: Rest) -> None:
    d = rest.call("ka10081", {"stk_cd": "005930", "base_dt": 20261120, "upd_stkpc_tp": 1}).json()
    assert d["return_code"] == 0
    d = rest.call("ka10081", {"stk_cd": "005930", "base_dt": {"y": 1}, "upd_stkpc_tp": "1"}).json()
    assert d["return_code"] == 2 and "[1517:base_dt" in d["return_msg"]


def test_an_order_is_stamped_when_its_last_bytes_arrive(
    rest: Rest, open_sim: SimulatorProcess
) -> None:
    """`received_at` is when the request's last bytes reached the server (on Linux the
    kernel's receive time; bench/tick_to_order.py measures to it), `loop_read_at` when the
    event loop read them, `read_at` when its handler had parsed it. A head sent alone and
    its body 0.2 s later: the stamps are the body's."""
    host, port = open_sim.rest_url.removeprefix("http://").split(":")
    body = b'{"dmst_stex_tp":"KRX","stk_cd":"005930","ord_qty":"1","ord_uv":"","trde_tp":"3"}'
    head = (
        "POST /api/dostk/ordr HTTP/1.1\r\n"
        f"Host: {host}\r\napi-id: kt10000\r\nauthorization: Bearer {rest.token}\r\n"
        f"Content-Type: application/json;charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    before = len(open_sim.control.account()["orders"])
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        time.sleep(0.2)  # a client stalled between head and body (the scenario, not a wait)
        body_sent = time.time()
        sock.sendall(body)
        reply = sock.recv(65536).decode()
        replied = time.time()
    assert reply.startswith("HTTP/1.1 200 ") and '"return_code":0' in reply, reply
    orders = open_sim.control.account()["orders"]
    assert len(orders) == before + 1
    order = orders[-1]
    assert body_sent <= order["received_at"] <= order["loop_read_at"] <= order["read_at"]
    assert order["read_at"] <= replied
    if sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64"):
        # the kernel's stamp: strictly before the loop's read, which is a syscall later
        assert order["received_at"] < order["loop_read_at"]
