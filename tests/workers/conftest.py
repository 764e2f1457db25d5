"""Fixtures for the worker tests: real simulators (subprocess, port 0) and helpers to wait for
worker messages without sleeping.

* `api_sim` — one simulator for the whole session, for tests that only read market data or
  whose orders cannot disturb each other. Its own limits are raised (rate=200/s per api-id)
  so those tests are not slowed by quotas; limit tests use `fresh_sim`.
* `fresh_sim` — a new simulator per test, for faults, kills and account state.
* `make_sim(*args)` — simulators started with special options (fast PINGs, fixed keys).
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kiwoom_terminal.api.ratelimit import RateLimit
from kiwoom_terminal.api.ws import WsClientConfig
from kiwoom_terminal.constants import Mode
from kiwoom_terminal.secrets import sim_credentials
from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.supervisor import WorkerSupervisor

FAST_SIM = ("--faults", "rate=200,global_rate=400")


@pytest.fixture(scope="session")
def api_sim() -> Iterator[SimulatorProcess]:
    sim = start_simulator("--seed", "7", *FAST_SIM)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def fresh_sim() -> Iterator[SimulatorProcess]:
    sim = start_simulator("--seed", "11", *FAST_SIM)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimulatorProcess]]:
    """Start simulators with extra command-line options; all are stopped after the test."""
    started: list[SimulatorProcess] = []

    def make(*args: str) -> SimulatorProcess:
        sim = start_simulator(*args)
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


def sim_config(sim: SimulatorProcess, **changes: Any) -> WorkerConfig:
    """Worker config for `sim` with quick limits and reconnects (tests override fields)."""
    config = WorkerConfig(
        mode=Mode.SIM,
        rest_url=sim.rest_url,
        ws_url=sim.ws_url,
        credentials=sim_credentials(),
        request_timeout_s=5.0,
        query_limit=RateLimit(50.0),
        order_limit=RateLimit(50.0),
        query_attempts=3,
        query_deadline_s=10.0,
        ws=WsClientConfig(
            min_backoff_s=0.1, max_backoff_s=1.0, stable_after_s=1.0, command_timeout_s=10.0
        ),
        log_level="INFO",
    )
    return config.replace(**changes)


class Inbox:
    """Collects everything a supervisor delivers and waits on its wake-up socket."""

    def __init__(self, sup: WorkerSupervisor) -> None:
        self.sup = sup
        self.messages: list[Any] = []

    def pump(self, timeout: float = 0.0) -> None:
        if timeout > 0:
            select.select(self.sup.wakeup_filenos(), [], [], timeout)
        self.messages.extend(self.sup.poll())

    def wait_for(
        self, predicate: Callable[[Any], bool], timeout: float = 20.0, start: int = 0
    ) -> Any:
        """The first message from index `start` on that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        checked = start
        while True:
            while checked < len(self.messages):
                message = self.messages[checked]
                checked += 1
                if predicate(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kinds = [type(m).__name__ for m in self.messages[start:]][-30:]
                raise TimeoutError(f"no matching message within {timeout:.0f} s; last: {kinds}")
            self.pump(min(remaining, 0.5))

    def reply(self, request_id: str, timeout: float = 20.0) -> Any:
        return self.wait_for(lambda m: getattr(m, "request_id", None) == request_id, timeout)

    def of_type(self, cls: type, start: int = 0) -> list[Any]:
        return [m for m in self.messages[start:] if isinstance(m, cls)]


def wait_until(
    predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05
) -> None:
    """Poll simulator state (which has no event to wait on) until `predicate()` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout:.0f} s")
        time.sleep(interval)
