"""The server never crashes on bad input: random wrong types and shapes for every TR and
frame get an envelope (or a close with a reason), and the server keeps serving."""

from __future__ import annotations

import json
import random
import socket
import struct

import pytest
from websockets.exceptions import ConnectionClosed

from kiwoom_terminal.sim.launcher import SimulatorProcess
from tests.sim.conftest import PATHS, Rest, Ws

FIELDS = [
    "stk_cd",
    "base_dt",
    "upd_stkpc_tp",
    "tic_scope",
    "qry_dt",
    "indc_tp",
    "mrkt_tp",
    "qry_tp",
    "dmst_stex_tp",
    "all_stk_tp",
    "trde_tp",
    "stex_tp",
    "sell_tp",
    "ord_no",
    "ord_qty",
    "ord_uv",
    "cond_uv",
    "orig_ord_no",
    "mdfy_qty",
    "mdfy_uv",
    "cncl_qty",
]
VALUES = [
    None,
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "abc",
    "005930",
    "005930_NX",
    "99999999",
    "20261120",
    "2026-11-20",
    0,
    -5,
    3.7,
    10**30,
    True,
    [],
    ["005930"],
    {},
    {"a": 1},
    "가나다",
    "\u0000",
    "9" * 300,
    "3",
    "KRX",
    "NXT",
    "Y",
]


def test_random_tr_bodies_always_get_an_envelope(rest: Rest, open_sim: SimulatorProcess) -> None:
    rng = random.Random(42)
    codes: dict[int, int] = {}
    for i in range(300):
        api_id = rng.choice(list(PATHS))
        body = {rng.choice(FIELDS): rng.choice(VALUES) for _ in range(rng.randint(0, 6))}
        if i % 10 == 0:
            body["stk_cd"] = "005930"
        resp = rest.call(api_id, body)
        data = resp.json()
        assert isinstance(data["return_code"], int) and isinstance(data["return_msg"], str)
        assert resp.status_code in (200, 429), (api_id, body, resp.status_code)
        codes[data["return_code"]] = codes.get(data["return_code"], 0) + 1
    assert set(codes) <= {0, 2, 5, 7, 20}  # validation, rate, service, business only
    assert open_sim.control.state()["seed"] == 1


def test_random_frames_get_replies_and_the_session_survives(
    rest: Rest, open_sim: SimulatorProcess
) -> None:
    rng = random.Random(7)
    ws = Ws(open_sim, rest.token)
    frames = ["", "null", "[]", "123", '"x"', "{}", '{"trnm": 5}', '{"trnm": ""}']
    for _ in range(120):
        frame = {
            "trnm": rng.choice(["REG", "REMOVE", "CNSRREQ", "CNSRCLR", "CNSRLST", "XYZ", "LOGIN"]),
            rng.choice(["grp_no", "refresh", "data", "seq", "search_type", "token"]): rng.choice(
                VALUES + [[{"item": rng.choice(VALUES), "type": rng.choice(VALUES)}]]
            ),
        }
        frames.append(json.dumps(frame))
    for text in frames:
        if '"LOGIN"' in text:
            continue  # a bad LOGIN closes the session by design (tested elsewhere)
        ws.conn.send(text)
    ws.reply({"trnm": "CNSRLST"})  # still logged in and answering, in order
    ws.close()
    ws = Ws(open_sim, rest.token)
    huge = {"trnm": "REG", "grp_no": "1", "data": [{"item": "x" * 2_000_000, "type": ["0B"]}]}
    with pytest.raises(ConnectionClosed) as err:
        ws.conn.send(json.dumps(huge))
        ws.next(timeout=10)
    assert err.value.rcvd is not None and err.value.rcvd.code == 1009  # message too big
    again = Ws(open_sim, rest.token)
    assert again.reply({"trnm": "CNSRLST"})["return_code"] == 0
    again.close()


def test_connections_that_leave_at_once_do_not_stop_the_server(
    rest: Rest, open_sim: SimulatorProcess
) -> None:
    """The simulator accepts its connections itself (to stamp arrivals, sim/http.py): 200
    clients that close at once, reset the connection (RST) or send half a request and go
    must leave it serving old and new clients."""
    host, port = open_sim.rest_url.removeprefix("http://").split(":")
    address = (host, int(port))
    for i in range(200):
        sock = socket.create_connection(address, timeout=5)
        if i % 3 == 1:  # RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif i % 3 == 2:
            sock.sendall(b"POST /api/dostk/ordr HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")
        sock.close()
    reply = rest.call("ka10001", {"stk_cd": "005930"}).json()
    assert reply["return_code"] == 0 and reply["stk_cd"] == "005930"
    with socket.create_connection(address, timeout=5) as sock:  # and a plain new client
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 ")
