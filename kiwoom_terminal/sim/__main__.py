"""Command line: `python -m kiwoom_terminal.sim --rest-port P --ws-port Q [options]`.

Prints `SIM_REST_URL=<url>` and `SIM_WS_URL=<url>` as its first two stdout lines (the
launcher reads them), then serves until SIGINT / SIGTERM, `POST /_sim/stop`, or — with
`--exit-on-stdin-eof` — until its stdin closes (so it never outlives the process that
started it). Logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import gc
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from kiwoom_terminal import krx
from kiwoom_terminal.sim import priority
from kiwoom_terminal.sim.clock import ClockMode
from kiwoom_terminal.sim.faults import Faults, parse_spec
from kiwoom_terminal.sim.scenario import ScenarioError
from kiwoom_terminal.sim.server import SimConfig, Simulator

log = logging.getLogger("kiwoom_terminal.sim")


def _start_time(text: str) -> dt.datetime:
    """`HH:MM[:SS]` today, or `YYYYMMDD HH:MM[:SS]`."""
    parts = text.split()
    day = dt.datetime.strptime(parts[0], "%Y%m%d").date() if len(parts) == 2 else None
    clock = parts[-1]
    fmt = "%H:%M:%S" if clock.count(":") == 2 else "%H:%M"
    t = dt.datetime.strptime(clock, fmt).time()
    return dt.datetime.combine(day or dt.date.today(), t)


SESSION_FIELDS = tuple(f.name for f in dataclasses.fields(krx.SessionSchedule))


def _session(text: str) -> krx.SessionSchedule:
    """Six `HH:MM` times, comma-separated, in `krx.SessionSchedule` order."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != len(SESSION_FIELDS):
        raise argparse.ArgumentTypeError(
            f"{len(SESSION_FIELDS)} times HH:MM ({','.join(SESSION_FIELDS)}) expected, "
            f"got {len(parts)}"
        )
    try:
        schedule = krx.SessionSchedule.from_strings(**dict(zip(SESSION_FIELDS, parts)))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: every time must be HH:MM") from None
    times = [getattr(schedule, name) for name in SESSION_FIELDS]
    if any(a >= b for a, b in zip(times, times[1:])):
        raise argparse.ArgumentTypeError(
            f"{text!r}: times must increase ({' < '.join(SESSION_FIELDS)})"
        )
    return schedule


def _fee_rate(text: str) -> float:
    """A fee rate as a fraction of the trade value (0.00015 = 0.015 %)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text}: a fraction of the trade value, 0 <= x < 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kiwoom_terminal.sim",
        description="Kiwoom-compatible REST + WebSocket simulator on 127.0.0.1",
    )
    p.add_argument("--rest-port", type=int, default=0, help="REST port (0 = any free port)")
    p.add_argument("--ws-port", type=int, default=0, help="WebSocket port (0 = any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0 = from the date)")
    p.add_argument("--speed", type=float, default=1.0, help="clock speed (0 = frozen)")
    p.add_argument(
        "--clock",
        choices=[m.value for m in ClockMode],
        default=ClockMode.CONTINUOUS.value,
        help="continuous (always trading, default) or krx (real schedule and holidays)",
    )
    p.add_argument("--start", type=_start_time, help="start time: HH:MM[:SS] or YYYYMMDD HH:MM")
    p.add_argument(
        "--session",
        type=_session,
        default=krx.DEFAULT_SCHEDULE,
        metavar="HH:MM,…",
        help="KRX session times for --clock krx: "
        + ",".join(SESSION_FIELDS)
        + " (default 08:30,09:00,15:20,15:30,16:00,18:00)",
    )
    p.add_argument("--scenario", type=Path, help="scenario JSON file")
    p.add_argument("--faults", default="", help="fault spec, e.g. ws_drop=5,rate=2")
    p.add_argument("--appkey", help="accept only this app key (others get 8001)")
    p.add_argument("--secretkey", help="accept only this secret key (others get 8002)")
    p.add_argument("--real", action="store_true", help="real-server texts instead of mock ones")
    p.add_argument("--tick-rate", type=float, help="crowd ticks per second over watched stocks")
    p.add_argument("--batch", type=int, default=20, help="REAL entries per frame at most")
    p.add_argument(
        "--book-interval", type=float, default=0.1, help="seconds between 0D pushes of a stock"
    )
    p.add_argument("--cash", type=int, default=100_000_000, help="starting cash (KRW)")
    p.add_argument(
        "--commission-rate",
        type=_fee_rate,
        default=krx.FeeSchedule.commission_rate,
        help="commission on both sides, fraction of the trade value (default 0.00015)",
    )
    p.add_argument(
        "--tax-rate",
        type=_fee_rate,
        default=krx.FeeSchedule.tax_rate,
        help="transaction tax on sells, fraction of the trade value (default 0.002)",
    )
    p.add_argument("--ws-ping-interval", type=float, default=10.0, help="seconds between PINGs")
    p.add_argument("--ws-max-missed", type=int, default=3, help="missed PING echoes before R10002")
    p.add_argument("--ws-login-timeout", type=float, default=10.0, help="seconds to LOGIN (R10004)")
    p.add_argument("--reg-cap", type=int, default=200, help="items per REG frame at most")
    p.add_argument("--a-prefix-9001", action="store_true", help="send A005930 in 00/04 FID 9001")
    p.add_argument(
        "--opening-auction-ioc",
        choices=("refuse", "accept"),
        default="refuse",
        help="IOC / FOK orders in the 08:30-09:00 opening auction (default refuse, RC4036)",
    )
    p.add_argument("--max-body", type=int, default=1024 * 1024, help="REST body size cap (bytes)")
    p.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin closes")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    p.add_argument("--profile", type=Path, help="write a cProfile of the whole run to this file")
    p.add_argument(
        "--cpu-priority",
        choices=priority.CHOICES,
        default=priority.NORMAL,
        help="low: use only CPU time other processes leave, like a server on another machine "
        "(SCHED_IDLE on Linux; see sim/priority.py)",
    )
    return p


def config_from_args(args: argparse.Namespace) -> SimConfig:
    Faults().update(parse_spec(args.faults))  # fail early with a clear message
    return SimConfig(
        host=args.host,
        rest_port=args.rest_port,
        ws_port=args.ws_port,
        seed=args.seed,
        speed=args.speed,
        clock_mode=ClockMode(args.clock),
        start=args.start,
        schedule=args.session,
        scenario=args.scenario,
        faults=args.faults,
        app_key=args.appkey,
        secret_key=args.secretkey,
        mock=not args.real,
        tick_rate=args.tick_rate,
        batch=max(1, args.batch),
        book_interval=max(0.0, args.book_interval),
        cash=args.cash,
        commission_rate=args.commission_rate,
        tax_rate=args.tax_rate,
        ws_ping_interval=args.ws_ping_interval,
        ws_max_missed=max(1, args.ws_max_missed),
        ws_login_timeout=args.ws_login_timeout,
        reg_cap=args.reg_cap,
        a_prefix_9001=args.a_prefix_9001,
        ioc_in_opening_auction=args.opening_auction_ioc == "accept",
        max_body=args.max_body,
    )


async def _serve(config: SimConfig, exit_on_stdin_eof: bool) -> None:
    sim = Simulator(config)
    await sim.start()
    # The world built at start (800 days of bars per stock, books, listings) lives as long as
    # the process; frozen, the garbage collector stops re-scanning it: a full collection
    # took ~24 ms here, during which no request was read.
    gc.collect()
    gc.freeze()
    print(f"SIM_REST_URL={sim.rest_url}", flush=True)
    print(f"SIM_WS_URL={sim.ws_url}", flush=True)
    log.info("simulator ready: %s", sim.describe())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows
            loop.add_signal_handler(sig, sim.request_stop)
    if exit_on_stdin_eof:

        def watch_stdin() -> None:
            # os.read on the raw descriptor, not sys.stdin: a daemon thread blocked inside
            # the buffered reader holds its lock, and interpreter shutdown then aborts with
            # "could not acquire lock for <stdin>" (a Fatal Python error on every stop).
            fd = sys.stdin.fileno()
            with contextlib.suppress(Exception):
                while os.read(fd, 1024):
                    pass
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                loop.call_soon_threadsafe(sim.request_stop)

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    await sim.run()
    log.info("simulator stopped")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.cpu_priority == priority.LOW:
        try:
            log.info("CPU priority lowered: %s", priority.lower_cpu_priority())
        except OSError as exc:  # a speed setting, not a correctness one: go on without it
            log.warning("could not lower the CPU priority: %s", exc)
    try:
        config = config_from_args(args)
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            try:
                profiler.runcall(asyncio.run, _serve(config, args.exit_on_stdin_eof))
            finally:
                profiler.dump_stats(str(args.profile))
        else:
            asyncio.run(_serve(config, args.exit_on_stdin_eof))
    except (ValueError, ScenarioError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
