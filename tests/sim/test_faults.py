"""Rate limits, fixed app keys and injected faults, switched at start and at run time."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
from websockets.exceptions import ConnectionClosed

from tests.conftest import SimFactory, issue_token
from tests.sim.conftest import Rest, Ws


def test_per_api_bucket_answers_429_with_1700_and_refills(sim_factory: SimFactory) -> None:
    sim = sim_factory("--faults", "rate=2,global_rate=0")
    rest = Rest(sim)
    results = [rest.call("ka10001", {"stk_cd": "005930"}) for _ in range(3)]
    assert [r.status_code for r in results[:2]] == [200, 200]
    assert results[2].status_code == 429
    assert results[2].json() == {
        "return_code": 5,
        "return_msg": "허용된 요청 개수를 초과하였습니다[1700:허용된 API 요청 개수를 초과하였습니다. 유량=2, API ID=ka10001]",
    }
    assert rest.call("ka10004", {"stk_cd": "005930"}).status_code == 200  # its own bucket
    deadline = time.monotonic() + 10
    while rest.call("ka10001", {"stk_cd": "005930"}).status_code == 429:
        assert time.monotonic() < deadline, "bucket never refilled"
        time.sleep(0.1)
    counts = sim.control.requests()
    assert counts["ka10001"] >= 4 and sim.control.results()["ka10001:5"] >= 1
    # Run-time switch: a global bucket of 1 per second.
    sim.control.set_faults(rate=0, global_rate=1)
    codes = [rest.call(api, {"stk_cd": "005930"}).status_code for api in ("ka10007", "ka10004")]
    assert codes == [200, 429]
    last = rest.call("ka10001", {"stk_cd": "005930"}).json()
    assert last["return_code"] == 5 and "[1701:" in last["return_msg"]


def test_token_endpoint_is_rate_limited_per_app_key(sim_factory: SimFactory) -> None:
    """au10001 has its own bucket per app key (a 1700 was observed on it, §2.1): once it is
    empty the token request is answered 429 / 1700 and issues nothing."""
    sim = sim_factory("--faults", "rate=0.1,global_rate=0")  # 1 now, the next in 10 s
    url = sim.rest_url + "/oauth2/token"
    body = {"grant_type": "client_credentials", "appkey": "bucket-key", "secretkey": "s"}
    first, second = (requests.post(url, json=body, timeout=10) for _ in range(2))
    assert first.status_code == 200 and first.json()["token"]
    assert second.status_code == 429
    assert second.json() == {
        "return_code": 5,
        "return_msg": "허용된 요청 개수를 초과하였습니다[1700:허용된 API 요청 개수를 초과하였습니다. 유량=0.1, API ID=au10001]",
    }
    assert second.headers["api-id"] == "au10001"
    other = requests.post(url, json={**body, "appkey": "other-key"}, timeout=10)
    assert other.status_code == 200 and other.json()["return_code"] == 0  # its own bucket
    assert sim.control.results()["au10001:5"] == 1


def test_fixed_app_key_and_secret(sim_factory: SimFactory) -> None:
    sim = sim_factory("--appkey", "KEY1", "--secretkey", "SECRET1")
    url = sim.rest_url + "/oauth2/token"
    body = {"grant_type": "client_credentials", "appkey": "KEY1", "secretkey": "SECRET1"}
    assert requests.post(url, json=body).json()["return_code"] == 0
    wrong_key = requests.post(url, json={**body, "appkey": "KEY2"}).json()
    assert wrong_key["return_code"] == 3 and "[8001:" in wrong_key["return_msg"]
    wrong_secret = requests.post(url, json={**body, "secretkey": "nope"}).json()
    assert "[8002:" in wrong_secret["return_msg"]


def test_token_lifetime_fault(simulator) -> None:
    simulator.control.set_faults(token_ttl=1, rate=0, global_rate=0)
    rest = Rest(simulator)
    assert rest.call("ka10001", {"stk_cd": "005930"}).json()["return_code"] == 0
    deadline = time.monotonic() + 10
    while rest.call("ka10001", {"stk_cd": "005930"}).json()["return_code"] == 0:
        assert time.monotonic() < deadline, "token never expired"
        time.sleep(0.1)
    assert "[8005:" in rest.call("ka10001", {"stk_cd": "005930"}).json()["return_msg"]
    simulator.control.set_faults(token_ttl=86400)
    assert Rest(simulator).call("ka10001", {"stk_cd": "005930"}).json()["return_code"] == 0


def test_error_nonjson_delay_and_ghost_faults_from_the_command_line(
    sim_factory: SimFactory,
) -> None:
    sim = sim_factory("--faults", "error_rate=1,rate=0")
    token = issue_token(sim.rest_url)  # the token path is not faulted
    rest = Rest(sim, token)
    resp = rest.call("ka10001", {"stk_cd": "005930"})
    assert resp.status_code in (500, 503)
    sim.control.set_faults(error_rate=0, nonjson_rate=1)
    resp = rest.call("ka10001", {"stk_cd": "005930"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        resp.json()
    sim.control.set_faults(nonjson_rate=0, delay_ms=300)
    started = time.monotonic()
    assert rest.call("ka10001", {"stk_cd": "005930"}).json()["return_code"] == 0
    assert time.monotonic() - started >= 0.25  # the injected delay is a lower bound
    sim.control.set_faults(delay_ms=0, ghost_rate=1)
    order = {
        "dmst_stex_tp": "KRX",
        "stk_cd": "005930",
        "ord_qty": "1",
        "ord_uv": "",
        "trde_tp": "3",
    }
    resp = rest.call("kt10000", order)
    assert resp.status_code in (500, 503)
    # The reply was lost but the order was processed: reconciliation must find it.
    orders = sim.control.account()["orders"]
    assert [(o["kind"], o["qty"], o["filled"]) for o in orders] == [("new", 1, 1)]
    assert abs(orders[0]["received_at"] - time.time()) < 600  # wall-clock arrival stamp
    results = sim.control.results()
    assert (results["kt10000:ghost"], results["ka10001:5xx"], results["ka10001:nonjson"]) == (
        1,
        1,
        1,
    )
    sim.control.set_faults(ghost_rate=0, order_delay_ms=300)
    started = time.monotonic()
    assert rest.call("kt10000", order).json()["return_code"] == 0
    assert time.monotonic() - started >= 0.25


def timed(call: Callable[[], requests.Response]) -> tuple[float, requests.Response]:
    started = time.monotonic()
    resp = call()
    return time.monotonic() - started, resp


def test_delay_faults_hold_error_replies_too(sim_factory: SimFactory) -> None:
    """`delay_ms` is every reply and `order_delay_ms` every order reply: a rejection or an
    error must not come back faster than an acceptance (a client's timeouts would be tested
    against the good path only)."""
    sim = sim_factory("--faults", "order_delay_ms=300,rate=0,global_rate=0")
    rest = Rest(sim)
    order = {"dmst_stex_tp": "KRX", "stk_cd": "005930", "ord_qty": "1", "trde_tp": "0"}
    cases: list[tuple[Callable[[], requests.Response], int, str]] = [
        (lambda: rest.call("kt10000", {**order, "ord_uv": "70010"}), 20, "RC4003"),  # grid
        (lambda: rest.call("kt10001", {**order, "ord_uv": "70000"}), 20, "800033"),  # no stock
        (lambda: rest.call("kt10000", {**order, "ord_qty": ""}), 2, "[1511:"),
        (
            lambda: rest.call("kt10003", order | {"orig_ord_no": "0000999", "cncl_qty": "0"}),
            20,
            "RC4033",
        ),
        (
            lambda: rest.call("kt10000", order, headers={"authorization": "Bearer nope"}),
            3,
            "[8005:",
        ),
    ]
    for call, code, text in cases:
        took, resp = timed(call)
        body = resp.json()
        assert (body["return_code"], text in body["return_msg"]) == (code, True), body
        assert took >= 0.25, (body, took)
    sim.control.set_faults(rate=0.1)  # one request, then ten seconds to the next token
    rest.call("kt10002", {})
    took, resp = timed(lambda: rest.call("kt10002", {}))
    assert resp.status_code == 429 and "[1700:" in resp.json()["return_msg"]
    assert took >= 0.25
    sim.control.set_faults(rate=0, ghost_rate=1)
    took, resp = timed(lambda: rest.call("kt10000", {**order, "trde_tp": "3"}))
    assert resp.status_code in (500, 503) and took >= 0.25
    # delay_ms alone: query errors and the token endpoint's errors wait as well.
    sim.control.set_faults(ghost_rate=0, order_delay_ms=0, delay_ms=300)
    took, resp = timed(lambda: rest.call("ka10001", {"stk_cd": "999999"}))
    assert "[1902:" in resp.json()["return_msg"] and took >= 0.25
    took, resp = timed(
        lambda: requests.post(sim.rest_url + "/oauth2/token", json={"appkey": "a"}, timeout=10)
    )
    assert "[8011:" in resp.json()["return_msg"] and took >= 0.25
    results = sim.control.results()
    assert results["kt10000:20"] == 1 and results["kt10000:ghost"] == 1


def test_bad_fault_spec_stops_the_simulator_with_a_message(sim_factory: SimFactory) -> None:
    from kiwoom_terminal.sim.launcher import SimulatorStartError

    with pytest.raises(SimulatorStartError, match="exited with 2"):
        sim_factory("--faults", "explode=1")


def test_websocket_drop_fault_cuts_connections(simulator) -> None:
    token = issue_token(simulator.rest_url)
    ws = Ws(simulator, token)
    simulator.control.set_faults(ws_drop=0.3)
    with pytest.raises((ConnectionClosed, TimeoutError)) as err:
        ws.wait(lambda m: False, timeout=10)
    assert isinstance(err.value, ConnectionClosed)
    assert err.value.rcvd is None  # no close frame: the connection was cut
    simulator.control.set_faults(ws_drop=0)
    again = Ws(simulator, token)  # reconnecting works once the fault is off
    again.close()


def test_expiring_tokens_on_demand_keeps_websocket_sessions(simulator) -> None:
    token = issue_token(simulator.rest_url)
    ws = Ws(simulator, token)
    rest = Rest(simulator, token)
    assert simulator.control.expire_tokens() >= 1
    assert "[8005:" in rest.call("ka10001", {"stk_cd": "005930"}).json()["return_msg"]
    assert ws.reply({"trnm": "CNSRLST"})["return_code"] == 0  # the session lives on
    fresh = Rest(simulator)  # a new token works at once
    assert fresh.call("ka10001", {"stk_cd": "005930"}).json()["return_code"] == 0
    ws.close()
