"""Helpers for the simulator's own tests: a REST caller and a WebSocket client that answers
PINGs and waits for frames by predicate (never by sleeping)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from websockets.sync.client import ClientConnection, connect

from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator
from tests.conftest import SIM_SEED, issue_token

PATHS = {
    "ka10001": "/api/dostk/stkinfo",
    "ka10099": "/api/dostk/stkinfo",
    "ka10100": "/api/dostk/stkinfo",
    "ka10004": "/api/dostk/mrkcond",
    "ka10007": "/api/dostk/mrkcond",
    "ka10086": "/api/dostk/mrkcond",
    "ka10080": "/api/dostk/chart",
    "ka10081": "/api/dostk/chart",
    "ka00001": "/api/dostk/acnt",
    "kt00001": "/api/dostk/acnt",
    "kt00018": "/api/dostk/acnt",
    "ka10075": "/api/dostk/acnt",
    "ka10076": "/api/dostk/acnt",
    "kt10000": "/api/dostk/ordr",
    "kt10001": "/api/dostk/ordr",
    "kt10002": "/api/dostk/ordr",
    "kt10003": "/api/dostk/ordr",
}


class Rest:
    """Calls TRs on a simulator with one token over a keep-alive session."""

    def __init__(self, sim: SimulatorProcess, token: str | None = None) -> None:
        self.sim = sim
        self.token = token or issue_token(sim.rest_url)
        self.http = requests.Session()
        self.http.trust_env = False  # loopback: never through a proxy

    def call(
        self, api_id: str, body: Any, *, headers: dict[str, str] | None = None
    ) -> requests.Response:
        h = {
            "api-id": api_id,
            "authorization": f"Bearer {self.token}",
            "Content-Type": "application/json;charset=UTF-8",
            **(headers or {}),
        }
        return self.http.post(self.sim.rest_url + PATHS[api_id], json=body, headers=h, timeout=10)

    def ok(self, api_id: str, body: Any, **kw: Any) -> dict[str, Any]:
        resp = self.call(api_id, body, **kw)
        data = resp.json()
        assert resp.status_code == 200 and data["return_code"] == 0, data
        return data


class Ws:
    """A logged-in WebSocket client that echoes PINGs while it waits."""

    def __init__(self, sim: SimulatorProcess, token: str, *, login: bool = True) -> None:
        self.conn: ClientConnection = connect(
            # unbounded queue: replies a test never reads must not hold back the close
            sim.ws_url,
            open_timeout=10,
            proxy=None,
            legacy=True,
            max_queue=None,
        )
        self.real: list[dict[str, Any]] = []  # REAL entries seen and not yet consumed
        self.log: list[dict[str, Any]] = []  # every frame received, in order
        if login:
            self.send({"trnm": "LOGIN", "token": token})
            reply = self.wait(lambda m: m.get("trnm") == "LOGIN")
            assert reply["return_code"] == 0, reply

    def send(self, frame: dict[str, Any]) -> None:
        self.conn.send(json.dumps(frame))

    def next(self, timeout: float = 10.0) -> dict[str, Any]:
        message = json.loads(self.conn.recv(timeout=timeout))
        self.log.append(message)
        if message.get("trnm") == "PING":
            self.conn.send(json.dumps(message))
        if message.get("trnm") == "REAL":
            self.real.extend(message["data"])
        return message

    def wait(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching frame")
            message = self.next(left)
            if match(message):
                return message

    def wait_real(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first REAL entry (seen before or after now) that matches."""
        seen = len(self.real)
        for entry in self.real:
            if match(entry):
                self.real.remove(entry)
                return entry
        deadline = time.monotonic() + timeout
        while True:
            for entry in self.real[seen:]:
                if match(entry):
                    self.real.remove(entry)
                    return entry
            seen = len(self.real)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching REAL entry")
            self.next(left)

    def reply(self, frame: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send a request frame and return the reply with the same trnm."""
        self.send(frame)
        return self.wait(lambda m: m.get("trnm") == frame["trnm"], timeout)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="module")
def open_sim() -> Iterator[SimulatorProcess]:
    """A module's simulator without rate limits (conformance tests fire many requests)."""
    sim = start_simulator(
        "--seed", SIM_SEED, "--log-level", "WARNING", "--faults", "rate=0,global_rate=0"
    )
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def rest(open_sim: SimulatorProcess) -> Rest:
    """A token on the module's simulator, with the market paused so that values read by
    two requests agree."""
    open_sim.control.pause()
    return Rest(open_sim)
