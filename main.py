"""kiwoom-terminal: start the trading terminal.

    python main.py                      # the window, on the embedded simulator (default)
    python main.py --screenshot shot.png --quit-after 20
                                        # offscreen: let the simulator trade, save a PNG, exit 0
    python main.py --headless           # the same engine without a window, log on the console
    python main.py --headless --mode mock --auto-trade
    python main.py --headless --rest-url http://127.0.0.1:PORT --ws-url ws://127.0.0.1:PORT/…
                                        # attach to a server that is already running

Options: --settings PATH (settings.ini), --data-dir PATH (snapshots, journal), --mode
sim|mock|real, --auto-trade, --confirm-real (real money: otherwise asked interactively).
In sim mode without URLs the embedded simulator is started and stopped with the terminal.
Window only: --screenshot PATH, --quit-after SECONDS (ui/app.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    from kiwoom_terminal.engine.launch import add_arguments

    parser = argparse.ArgumentParser(prog="main.py", description="키움 트레이딩 터미널")
    parser.add_argument("--headless", action="store_true", help="run without a window")
    add_arguments(parser)
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PATH",
        help="window, offscreen: let the simulator trade, save a PNG of the window, exit",
    )
    parser.add_argument(
        "--quit-after",
        type=float,
        metavar="SECONDS",
        help="window: close after this many seconds (default 20 with --screenshot)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.headless:
        # The window prepares the launch itself: real mode is confirmed in a dialog, so its
        # QApplication must exist first.
        from ui.app import run_gui

        return run_gui(args)
    from kiwoom_terminal.engine.launch import LaunchError, prepare

    try:
        launch = prepare(args)
    except LaunchError as exc:
        print(f"시작할 수 없습니다: {exc}", file=sys.stderr)
        return 2
    from kiwoom_terminal.engine.headless import run_headless

    return run_headless(launch, auto_trade=args.auto_trade)


if __name__ == "__main__":
    raise SystemExit(main())
