"""Python client of the simulator's control API (`/_sim/…` on the REST port).

Used by tests (ours and the terminal's) to script the market deterministically::

    sim = start_simulator(seed=1)
    sim.control.pause()                       # no random moves anywhere
    sim.control.set_price("005930", 70_000)   # moves the book, fills crossed orders, ticks
    sim.control.condition("4", "005930")      # forces a 편입 (I) push
    assert sim.control.requests()["kt10000"] == 1

Every method raises `SimControlError` with the server's message when a command fails.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import requests


class SimControlError(RuntimeError):
    """The simulator refused a control command (bad code, bad value, …)."""


class SimControl:
    """Thin JSON client; one method per control command."""

    def __init__(self, rest_url: str, timeout: float = 10.0) -> None:
        self.base = rest_url.rstrip("/") + "/_sim/"
        self.timeout = timeout
        self._http = requests.Session()
        self._http.trust_env = False  # loopback: never through a proxy

    def close(self) -> None:
        self._http.close()

    def call(self, command: str, **body: Any) -> dict[str, Any]:
        resp = self._http.post(self.base + command, json=body, timeout=self.timeout)
        return _checked(command, resp.status_code, resp.content)

    def call_later(self, command: str, **body: Any) -> Callable[[], dict[str, Any]]:
        """Send `command` now and return a function that reads its reply: until it is
        called the reply waits in the socket, so the caller does not wake up for it (a
        benchmark keeping quiet while what the command set off is being measured)."""
        url = urllib.parse.urlsplit(self.base + command)
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, self.timeout)
        headers = {"Content-Type": "application/json"}
        conn.request("POST", url.path, body=json.dumps(body), headers=headers)

        def read_reply() -> dict[str, Any]:
            try:
                resp = conn.getresponse()
                return _checked(command, resp.status, resp.read())
            finally:
                conn.close()

        return read_reply

    # --- reading -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return self.call("state")

    def quote(self, code: str) -> dict[str, Any]:
        """Price, base, band, OHLC, volume, best bid/ask of a stock."""
        return self.call("quote", code=code)

    def book(self, code: str) -> dict[str, Any]:
        """Quote plus every level: [price, total, [[order_no or None, qty], ...]]."""
        return self.call("book", code=code)

    def account(self) -> dict[str, Any]:
        """cash, orderable, positions, orders, fills of the simulated account."""
        return self.call("account_state")

    def requests(self) -> dict[str, int]:
        """How many REST requests arrived per api-id (rejected ones included)."""
        return dict(self.call("requests")["counts"])

    def results(self) -> dict[str, int]:
        """Counts per "api-id:return_code"."""
        return dict(self.call("requests")["results"])

    def reset_requests(self) -> None:
        self.call("reset_requests")

    def conditions(self) -> list[dict[str, Any]]:
        return list(self.call("conditions")["conditions"])

    # --- market --------------------------------------------------------------------------

    def pause(self, code: str | None = None) -> None:
        """Stop the random walk and crowd ticks (one stock, or all)."""
        self.call("pause", **({"code": code} if code else {}))

    def resume(self, code: str | None = None) -> None:
        self.call("resume", **({"code": code} if code else {}))

    def set_price(self, code: str, price: int, *, qty: int = 1, pause: bool = False) -> int:
        """Move a stock to `price` now; returns the price used (grid, band)."""
        return int(self.call("price", code=code, price=price, qty=qty, pause=pause)["price"])

    def step_price(self, code: str, ticks: int, *, qty: int = 1) -> int:
        return int(self.call("price", code=code, ticks=ticks, qty=qty)["price"])

    def set_path(
        self, code: str, keyframes: list[tuple[float, int]], then: str = "hold"
    ) -> dict[str, Any]:
        """Script a price path: (seconds from now, price) keyframes, linear between."""
        return self.call("path", code=code, keyframes=[list(k) for k in keyframes], then=then)

    def trade(self, code: str, side: str, qty: int, price: int | None = None) -> dict[str, Any]:
        """A crowd order ("buy" / "sell") against the book; fills our resting orders."""
        return self.call("trade", code=code, side=side, qty=qty, price=price)

    def set_crowd(self, code: str, qty: int | None) -> dict[str, Any]:
        """Fix the crowd's size at every level (None = random again)."""
        return self.call("book", code=code, crowd_qty=qty)

    def set_tick_rate(self, rate: float | None) -> None:
        """Crowd ticks per second over watched stocks (None = automatic)."""
        self.call("tick_rate", rate=rate)

    def advance(self, seconds: float) -> str:
        """Move the simulated clock forward; returns the new time YYYYMMDDHHmmss."""
        return str(self.call("clock", advance=seconds)["time"])

    def set_speed(self, speed: float) -> None:
        self.call("clock", speed=speed)

    def set_phase(self, phase: str | None) -> None:
        """Force a session phase ("closed", "continuous", …); None follows the clock."""
        self.call("phase", phase=phase)

    # --- conditions, account, faults -----------------------------------------------------

    def condition(self, seq: str, code: str, action: str = "add") -> list[str]:
        """Force a member in ("add") or out ("remove"), or back to computed ("clear")."""
        return list(self.call("condition", seq=seq, code=code, action=action)["members"])

    def set_account(
        self, *, cash: int | None = None, holdings: list[dict[str, int | str]] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if cash is not None:
            body["cash"] = cash
        if holdings is not None:
            body["holdings"] = holdings
        return self.call("account", **body)

    def reject_next(self, count: int = 1, reason: str = "RC4999") -> None:
        """The next `count` new orders are accepted, then rejected by the venue (913 거부)."""
        self.call("account", reject_next=count, reject_reason=reason)

    def set_faults(self, spec: str = "", **values: float) -> dict[str, float]:
        return dict(self.call("faults", spec=spec, **values)["faults"])

    def expire_tokens(self) -> int:
        return int(self.call("expire_tokens")["expired"])

    def drop_websockets(self) -> int:
        return int(self.call("drop_ws")["dropped"])

    def send_system(self, code: str, message: str | None = None, session: int | None = None) -> int:
        """Send a SYSTEM frame (R10002, R10004, R10001 or any notice) to every open
        WebSocket session, or to one (`state()["sessions"][i]["id"]`), without closing
        it; returns how many sessions got it."""
        body: dict[str, Any] = {"code": code}
        if message is not None:
            body["message"] = message
        if session is not None:
            body["session"] = session
        return int(self.call("ws_system", **body)["sent"])

    def set_condition_page_size(self, size: int) -> None:
        self.call("cnsr_page_size", size=size)

    def stop(self) -> None:
        self.call("stop")

    # --- waiting -------------------------------------------------------------------------

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02
    ) -> None:
        """Poll until `predicate()` is true (for state with no event to wait on)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout:.1f} s")
            time.sleep(interval)


def _checked(command: str, status: int, content: bytes) -> dict[str, Any]:
    """The reply of `command` as a dict; SimControlError when it is not JSON or says the
    command failed."""
    try:
        data: dict[str, Any] = json.loads(content)
    except ValueError as exc:
        raise SimControlError(f"{command}: HTTP {status}, not JSON") from exc
    if not data.get("ok"):
        raise SimControlError(f"{command}: {data.get('error', status)}")
    return data
