"""kiwoom-terminal: start the trading terminal.

    python main.py                      # the window, on the embedded simulator (default)
    python main.py --headless           # the same engine without a window, log on the console
    python main.py --headless --mode mock --auto-trade
    python main.py --headless --rest-url http://127.0.0.1:PORT --ws-url ws://127.0.0.1:PORT/…
                                        # attach to a server that is already running

Options: --settings PATH (settings.ini), --data-dir PATH (snapshots, journal), --mode
sim|mock|real, --auto-trade, --confirm-real (real money: otherwise asked interactively).
In sim mode without URLs the embedded simulator is started and stopped with the terminal.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from kiwoom_terminal.engine.launch import add_arguments

    parser = argparse.ArgumentParser(prog="main.py", description="키움 트레이딩 터미널")
    parser.add_argument("--headless", action="store_true", help="run without a window")
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.headless:
        # The window prepares the launch itself: real mode is confirmed in a dialog, so its
        # QApplication must exist first.
        try:
            from ui.app import run_gui  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            print("창(GUI) 모듈이 아직 없습니다. --headless 로 실행하세요.", file=sys.stderr)
            return 2
        return int(run_gui(args))
    from kiwoom_terminal.engine.headless import run_headless
    from kiwoom_terminal.engine.launch import LaunchError, prepare

    try:
        launch = prepare(args)
    except LaunchError as exc:
        print(f"시작할 수 없습니다: {exc}", file=sys.stderr)
        return 2
    return run_headless(launch, auto_trade=args.auto_trade)


if __name__ == "__main__":
    raise SystemExit(main())
