"""Running the engine without a window: `python main.py --headless`.

The same `TradingEngine` as in the GUI, under a `QCoreApplication`, with its log and
notices on the console (stderr, secrets masked by `secrets.RedactingFilter`). Ctrl+C or
SIGTERM stops it cleanly: final snapshot, workers stopped, journal closed. A kill -9 leaves
the last periodic snapshot and the journal, from which the next start recovers.
"""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

from PyQt5.QtCore import QCoreApplication, QTimer

from kiwoom_terminal.engine.engine import TradingEngine
from kiwoom_terminal.engine.launch import Launch
from kiwoom_terminal.engine.status import EngineStatus, OwnFill
from kiwoom_terminal.secrets import install_redaction

log = logging.getLogger("kiwoom_terminal.headless")


def setup_console_logging(level: str = "INFO") -> None:
    """Log to stderr with time and level; every handler masks secrets."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    install_redaction()


def run_headless(launch: Launch, *, auto_trade: bool = False) -> int:
    """Run until Ctrl+C / SIGTERM; returns the process exit code."""
    from kiwoom_terminal.workers.supervisor import WorkerSupervisor

    setup_console_logging(launch.settings.general.log_level)
    for note in launch.notes:
        log.info(note)
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    supervisor = WorkerSupervisor(launch.worker_config)
    engine = TradingEngine(
        launch.settings,
        supervisor,
        launch.data_dir,
        settings_path=launch.settings_path,
        fresh_account=launch.simulator is not None,  # a simulator started just now
    )
    engine.fill.connect(_print_fill)
    engine.status_changed.connect(_StatusPrinter())

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        app.quit()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Python runs signal handlers only between bytecodes; a short idle timer gives it the
    # chance while Qt's event loop waits.
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(200)
    try:
        engine.start(auto_trade=auto_trade)
        log.info("엔진 실행 중 (데이터 폴더 %s). 끝내려면 Ctrl+C", launch.data_dir)
        app.exec_()
    finally:
        heartbeat.stop()
        engine.shutdown()
        launch.close()
    return 0


def _print_fill(fill: OwnFill) -> None:
    side = fill.side.text
    log.info(
        "체결: %s %s %s %d주 @ %s", fill.code, fill.name, side, fill.quantity, f"{fill.price:,}"
    )


class _StatusPrinter:
    """Logs connection and readiness changes (the status bar's job in the window)."""

    def __init__(self) -> None:
        self._last: tuple[object, ...] = ()

    def __call__(self, status: EngineStatus) -> None:
        key = (
            tuple(sorted((k, v.value) for k, v in status.connections.items())),
            status.ready,
            status.auto_trade,
            status.blocked_codes,
        )
        if key == self._last:
            return
        self._last = key
        connections = ", ".join(f"{k}={v.value}" for k, v in status.connections.items())
        log.info(
            "상태: %s | 준비=%s 자동매매=%s 추적=%d 차단=%s",
            connections,
            status.ready,
            status.auto_trade,
            status.positions,
            ",".join(status.blocked_codes) or "-",
        )
