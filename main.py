"""kiwoom-terminal entry point (temporary: the GUI is not built yet).

Until the window exists, `python main.py` starts the embedded simulator through the
launcher, prints where it listens, and runs until Ctrl-C. Options the final entry point
will take (`--mode`, `--settings`, `--headless`, `--screenshot`) are accepted already.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from kiwoom_terminal.sim.launcher import start_simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kiwoom-terminal (simulator only for now)")
    parser.add_argument("--mode", choices=("sim", "mock", "real"), default="sim")
    parser.add_argument("--settings", help="settings.ini path (not used yet)")
    parser.add_argument("--headless", action="store_true", help="no window (always, for now)")
    parser.add_argument("--screenshot", help="not available until the GUI exists")
    parser.add_argument("--seed", type=int, default=0, help="simulator seed (0 = from the date)")
    parser.add_argument("--speed", type=float, default=1.0, help="simulator clock speed")
    args = parser.parse_args(argv)
    if args.mode != "sim":
        print(f"main.py: mode {args.mode!r} needs the terminal, which is not built yet.")
        return 2
    print("GUI not built yet: running the simulator alone (Ctrl-C stops it).", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with start_simulator("--seed", str(args.seed), "--speed", str(args.speed)) as sim:
        print(f"SIM_REST_URL={sim.rest_url}", flush=True)
        print(f"SIM_WS_URL={sim.ws_url}", flush=True)
        print(f"simulator pid {sim.pid}", flush=True)
        while not stop.wait(0.5):
            if not sim.alive():
                print("main.py: the simulator stopped unexpectedly.", file=sys.stderr)
                return 1
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
