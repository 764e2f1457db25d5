"""Scenario files script a day: "enters the condition, rises 5 %, falls 2 %" on demand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiwoom_terminal.sim.launcher import SimulatorStartError
from tests.conftest import SimFactory, issue_token
from tests.sim.conftest import Rest, Ws

SCENARIO = {
    "paused": True,  # nothing moves but the scripted stock
    "account": {
        "cash": 5_000_000,
        "holdings": [{"code": "000660", "qty": 3, "avg_price": 190_000}],
    },
    "stocks": {
        "005930": {
            "crowd_qty": 500,
            # base (previous close) is 70,000: +3 % at 10 s, +5 % at 20 s, then 2 % off the top
            "path": [[0, 70_000], [10, 72_100], [20, 73_500], [30, 72_000]],
            "then": "hold",
        }
    },
    "conditions": [{"at": 5, "seq": "4", "code": "035720", "action": "add"}],
}


def test_scripted_path_drives_condition_entries_and_exits(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    path = tmp_path / "day.json"
    path.write_text(json.dumps(SCENARIO), encoding="utf-8")
    sim = sim_factory("--scenario", str(path), "--speed", "0")  # time moves only on advance()
    token = issue_token(sim.rest_url)
    ws = Ws(sim, token)
    ws.reply({"trnm": "CNSRLST"})
    for seq in ("0", "4"):
        ws.reply({"trnm": "CNSRREQ", "seq": seq, "search_type": "1", "stex_tp": "K"})
    ws.reply(
        {
            "trnm": "REG",
            "grp_no": "1",
            "refresh": "1",
            "data": [{"item": ["005930"], "type": ["0B"]}],
        }
    )

    def condition_event(seq: str) -> dict:
        e = ws.wait_real(lambda e: e["type"] == "02" and e["values"]["841"] == seq)
        return e["values"]

    sim.control.advance(5)
    scheduled = condition_event("4")
    assert (scheduled["9001"], scheduled["843"]) == ("035720", "I")
    sim.control.advance(5)
    entered = condition_event("0")
    assert (entered["9001"], entered["843"]) == ("005930", "I")
    assert sim.control.quote("005930")["price"] == 72_100
    sim.control.advance(10)
    top = ws.wait_real(lambda e: e["type"] == "0B" and e["values"]["10"] == "+73500")
    assert top["values"]["12"] == "+5.00"
    sim.control.advance(10)
    left = condition_event("0")
    assert (left["9001"], left["843"]) == ("005930", "D")  # +2.86 % is below 3 %
    sim.control.advance(30)
    quote = sim.control.quote("005930")
    assert (quote["price"], quote["high"] >= 73_500, quote["paused"]) == (72_000, True, True)
    rest = Rest(sim, token)
    assert rest.ok("kt00001", {"qry_tp": "3"})["entr"] == "000000005000000"
    holdings = rest.ok("kt00018", {"qry_tp": "1", "dmst_stex_tp": "KRX"})["acnt_evlt_remn_indv_tot"]
    assert [(h["stk_cd"], h["rmnd_qty"], h["pur_pric"]) for h in holdings] == [
        ("A000660", "000000000000003", "000000000190000")
    ]
    ws.close()


def test_a_bad_scenario_stops_the_start_with_a_message(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"stocks": {"005930": {"path": "up"}}}), encoding="utf-8")
    with pytest.raises(SimulatorStartError, match="exited with 2"):
        sim_factory("--scenario", str(path))
