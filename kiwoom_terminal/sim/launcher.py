"""Start the simulator as a child process and find its URLs (used by main.py and tests).

    with start_simulator("--seed", "1") as sim:
        requests.post(sim.rest_url + "/oauth2/token", json=...)
        sim.control.pause()

The child is `python -m kiwoom_terminal.sim --rest-port 0 --ws-port 0 --exit-on-stdin-eof`;
its stdin is a pipe we hold, so it exits by itself if this process dies. `stop()` asks it
to stop, then terminates and finally kills it; it never leaves an orphan behind.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

from kiwoom_terminal.sim.control import SimControl

REPO_ROOT = Path(__file__).resolve().parents[2]


class SimulatorStartError(RuntimeError):
    """The simulator did not come up (its last output is in the message)."""


class SimulatorProcess:
    """A running simulator child process."""

    def __init__(self, proc: subprocess.Popen[bytes], rest_url: str, ws_url: str) -> None:
        self.proc = proc
        self.rest_url = rest_url
        self.ws_url = ws_url
        self.control = SimControl(rest_url)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> int:
        """Stop the child (graceful, then terminate, then kill); returns its exit code."""
        self.control.close()
        if self.proc.poll() is None:
            try:
                if self.proc.stdin is not None:
                    self.proc.stdin.close()  # --exit-on-stdin-eof: a clean stop
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout)
        return int(self.proc.returncode)

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _pump(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    for raw in iter(stream.readline, b""):
        lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
    lines.put(None)


def start_simulator(
    *args: str,
    timeout: float = 30.0,
    stderr: int | IO[bytes] | None = None,
    python: str = sys.executable,
) -> SimulatorProcess:
    """Start `python -m kiwoom_terminal.sim` on free ports with extra CLI `args`.

    `stderr` None lets the child's log through to ours (pytest captures it).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONUNBUFFERED", "1")
    cmd = [
        python,
        "-m",
        "kiwoom_terminal.sim",
        "--rest-port",
        "0",
        "--ws-port",
        "0",
        "--exit-on-stdin-eof",
        *args,
    ]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env
    )
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    urls: dict[str, str] = {}
    seen: list[str] = []
    try:
        while len(urls) < 2:
            line = lines.get(timeout=timeout)
            if line is None:
                raise SimulatorStartError(
                    f"simulator exited with {proc.wait()} before printing its URLs: {seen[-5:]}"
                )
            seen.append(line)
            name, sep, value = line.partition("=")
            if sep and name in ("SIM_REST_URL", "SIM_WS_URL"):
                urls[name] = value.strip()
    except queue.Empty:
        proc.kill()
        proc.wait()
        raise SimulatorStartError(f"simulator did not start within {timeout} s") from None
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    return SimulatorProcess(proc, urls["SIM_REST_URL"], urls["SIM_WS_URL"])
