"""Tick path: simulator → WebSocket worker → result queue → a consumer in the GUI process.

For each rate (1k, 5k, 20k, 40k trade ticks/s over 100 registered stocks) the simulator
produces that many 0B entries per second; the WebSocket worker process parses and batches
them; the consumer drains the supervisor every 10 ms (the engine's QTimer, seed 002). A
second pass lets the consumer wake on the supervisor's wake-up socket instead (what an
engine with a QSocketNotifier gets).

Latency is from the worker parsing the frame (`TickData.received_at`) to the consumer
holding the tick; it includes the 10 ms drain interval but not the loopback hop from the
simulator (tens of µs). "backlog grows" compares the second half of each window with the
first: if the consumer falls behind, latency climbs and ticks pile up.

Usage: python bench/tick_path.py [--seconds 4] [--rates 1000,5000,20000,40000]
Prints one `name: value unit` per line; the headline (highest rate sustained without a
growing backlog) comes last. Exits 0 even when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import load_average, percentile

from kiwoom_terminal.api.ratelimit import RateLimit
from kiwoom_terminal.constants import ConnectionState, Feed, Mode
from kiwoom_terminal.messages import (
    ConnectionStatus,
    StockListQuery,
    Subscribe,
    TickBatch,
    WorkerKind,
    WsReply,
)
from kiwoom_terminal.secrets import sim_credentials
from kiwoom_terminal.sim.launcher import SimulatorProcess, start_simulator
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.supervisor import WorkerSupervisor

DRAIN_S = 0.010
N_CODES = 100


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def session_entries(sim: SimulatorProcess) -> tuple[int, int]:
    """(entries framed, entries dropped) for the logged-in session(s)."""
    sessions = [s for s in sim.control.state()["sessions"] if s["logged_in"]]
    return sum(s["entries"] for s in sessions), sum(s["dropped"] for s in sessions)


def wait_reply(sup: WorkerSupervisor, request_id: str, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        select.select(sup.wakeup_filenos(), [], [], 0.2)
        for m in sup.poll():
            if getattr(m, "request_id", None) == request_id:
                return m
    raise TimeoutError(request_id)


def measure(
    sup: WorkerSupervisor, sim: SimulatorProcess, rate: int, seconds: float, wake: bool
) -> dict[str, float]:
    sim.control.set_tick_rate(rate)
    # warm up: let the rate settle, discard what arrived
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        time.sleep(DRAIN_S)
        sup.poll(WorkerKind.WS)
    entries0, dropped0 = session_entries(sim)
    cpu0 = cpu_seconds(sup.pid(WorkerKind.WS))
    sim_cpu0 = cpu_seconds(sim.pid)
    own_cpu0 = cpu_seconds(os.getpid())
    start = time.monotonic()
    half = start + seconds / 2
    end = start + seconds
    lat_first: list[float] = []
    lat_second: list[float] = []
    ticks = 0
    batches = 0
    next_drain = start
    while True:
        now_m = time.monotonic()
        if now_m >= end:
            break
        if wake:
            select.select(sup.wakeup_filenos(), [], [], end - now_m)
        else:
            next_drain += DRAIN_S
            delay = next_drain - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        messages = sup.poll(WorkerKind.WS)
        now = time.time()
        target = lat_first if time.monotonic() < half else lat_second
        for m in messages:
            if isinstance(m, TickBatch):
                batches += 1
                ticks += len(m.ticks)
                target.extend((now - t.received_at) * 1000.0 for t in m.ticks)
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(sup.pid(WorkerKind.WS)) - cpu0
    sim_cpu = cpu_seconds(sim.pid) - sim_cpu0
    own_cpu = cpu_seconds(os.getpid()) - own_cpu0
    entries1, dropped1 = session_entries(sim)
    sim.control.set_tick_rate(0)
    latencies = lat_first + lat_second
    p99_first = percentile(lat_first, 99)
    p99_second = percentile(lat_second, 99)
    growing = (
        dropped1 > dropped0
        or (p99_second > 2 * p99_first + 20.0)
        or sup.backlog(WorkerKind.WS) > 1000
    )
    return {
        "throughput": ticks / elapsed,
        "server_rate": (entries1 - entries0) / elapsed,
        "dropped": float(dropped1 - dropped0),
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": percentile(latencies, 99),
        "batch": ticks / batches if batches else 0.0,
        "cpu": cpu / elapsed * 100.0,
        "sim_cpu": sim_cpu / elapsed * 100.0,
        "consumer_cpu": own_cpu / elapsed * 100.0,
        "growing": 1.0 if growing else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rates", default="1000,5000,20000,40000")
    parser.add_argument("--modes", default="drain10ms,wake", help="consumer modes to run")
    parser.add_argument("--flush-ms", type=float, default=None, help="worker tick_flush_ms")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    with start_simulator(
        "--seed", "3", "--faults", "rate=100,global_rate=200", "--tick-rate", "0"
    ) as sim:
        config = WorkerConfig(
            Mode.SIM,
            sim.rest_url,
            sim.ws_url,
            sim_credentials(),
            query_limit=RateLimit(50.0),
            log_level="WARNING",
        )
        if args.flush_ms is not None:
            config = config.replace(tick_flush_ms=args.flush_ms)
        with WorkerSupervisor(config, kinds=(WorkerKind.TR, WorkerKind.WS)) as sup:
            listing = wait_reply(sup, sup.send(StockListQuery()))
            codes = tuple(s.code for s in listing.data[:N_CODES])  # type: ignore[attr-defined]
            reply = wait_reply(sup, sup.send(Subscribe("1", codes, (Feed.TRADES,))))
            assert isinstance(reply, WsReply) and reply.ok, reply
            for m in sup.poll():
                if isinstance(m, ConnectionStatus) and m.state is ConnectionState.AUTH_FAILED:
                    raise SystemExit(m.detail)
            sustained = 0
            for label in args.modes.split(","):
                wake = label == "wake"
                for rate in rates:
                    r = measure(sup, sim, rate, args.seconds, wake)
                    prefix = f"tick_path_{label}_{rate // 1000}k"
                    print(f"{prefix}_throughput: {r['throughput']:.0f} ticks/s")
                    print(f"{prefix}_server_rate: {r['server_rate']:.0f} ticks/s")
                    print(f"{prefix}_latency_p50: {r['p50']:.2f} ms")
                    print(f"{prefix}_latency_p99: {r['p99']:.2f} ms")
                    print(f"{prefix}_ticks_per_batch: {r['batch']:.1f} ticks")
                    print(f"{prefix}_ws_worker_cpu: {r['cpu']:.0f} %")
                    print(f"{prefix}_consumer_cpu: {r['consumer_cpu']:.0f} %")
                    print(f"{prefix}_simulator_cpu: {r['sim_cpu']:.0f} %")
                    print(f"{prefix}_server_dropped: {r['dropped']:.0f} ticks")
                    print(f"{prefix}_backlog_grows: {'yes' if r['growing'] else 'no'}")
                    sys.stdout.flush()
                    delivered = r["throughput"] >= 0.95 * rate
                    if not wake and not r["growing"] and delivered:
                        sustained = max(sustained, rate)
    print(f"tick_path_load_average: {load_average():.1f} runnable processes (2 cores)")
    print(f"tick_path_sustained_rate: {sustained} ticks/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
