"""Shared fixtures: the embedded simulator as a real child process on free ports.

Integration tests of every team talk to the simulator over loopback HTTP / WebSocket, the
way the terminal does. Each fixture says why it exists; keep this file small and put
team-specific fixtures in a conftest.py of your own test folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator

SIM_SEED = "1"  # a fixed seed: the same prices on every run
TEST_APP_KEY = "test-app-key"
TEST_SECRET = "test-secret-key"

SimFactory = Callable[..., SimulatorProcess]


@pytest.fixture
def sim_factory() -> Iterator[SimFactory]:
    """Start simulators with extra command-line options (faults, ping interval, scenario…);
    all of them are stopped when the test ends. Use it when the defaults do not fit."""
    started: list[SimulatorProcess] = []

    def start(*args: str) -> SimulatorProcess:
        sim = start_simulator("--seed", SIM_SEED, "--log-level", "WARNING", *args)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def simulator(sim_factory: SimFactory) -> SimulatorProcess:
    """A fresh simulator for one test (about a second to start): use it when the test
    changes state — orders, account, faults, prices."""
    return sim_factory()


@pytest.fixture(scope="module")
def shared_simulator() -> Iterator[SimulatorProcess]:
    """One simulator for a whole test module: for read-only checks (formats, errors) that
    would otherwise pay a start-up each. Tests must not leave faults or pauses behind."""
    sim = start_simulator("--seed", SIM_SEED, "--log-level", "WARNING")
    yield sim
    sim.stop()


def issue_token(rest_url: str, app_key: str = TEST_APP_KEY, secret: str = TEST_SECRET) -> str:
    """An access token from the simulator's au10001."""
    resp = requests.post(
        rest_url + "/oauth2/token",
        json={"grant_type": "client_credentials", "appkey": app_key, "secretkey": secret},
        timeout=10,
    )
    resp.raise_for_status()
    body = resp.json()
    assert body["return_code"] == 0, body
    return str(body["token"])


@pytest.fixture
def token_for() -> Callable[..., str]:
    """`token_for(sim.rest_url)` -> a fresh access token (optionally for another app key)."""
    return issue_token
