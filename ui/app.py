"""The window path of `python main.py`: application, start-up checks, engine, window, run.

Order of events in `run_gui`: choose the Qt platform (offscreen for `--screenshot`), create
the QApplication with the terminal's theme, install the last-resort excepthook, let
`engine.launch.prepare` validate settings, mode and credentials — real mode asks here, with
a dialog, unless `--confirm-real` — and start the embedded simulator in sim mode; then build
the engine, the window and the link between them, and run. The engine runs in a thread of
its own (`kiwoom_terminal/engine/thread.py`), so the window's paints never hold a tick back
on its way to an order. Closing the window saves the layout; then the engine shuts down in
its thread (final snapshot, workers stopped) and the simulator this process started is
stopped, so nothing is left running.

Files: settings in the user config folder (or `--settings PATH`); the window layout in
`window-state.ini` next to that settings file (QSettings rewrites a whole INI file, so the
layout never shares a file with the commented settings); the journal and snapshots in the
data folder, with a log file in `<data folder>/logs/`.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from PyQt5.QtCore import QTimer
from PyQt5.QtGui import QGuiApplication
from PyQt5.QtWidgets import QApplication, QMessageBox, QWidget

from kiwoom_terminal.engine.engine import TradingEngine
from kiwoom_terminal.engine.headless import setup_console_logging
from kiwoom_terminal.engine.launch import REAL_CONFIRM_WORD, Launch, LaunchError, prepare
from kiwoom_terminal.engine.thread import EngineThread
from kiwoom_terminal.secrets import install_redaction
from kiwoom_terminal.settings import AppSettings
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.supervisor import WorkerSupervisor
from ui.crash import install_excepthook
from ui.dialogs import RealModeDialog
from ui.engine_link import EngineLink
from ui.main_window import MainWindow
from ui.screenshot import ScreenshotRun, showcase_settings
from ui.strategy_link import StrategyLink
from ui.theme import apply_theme

SCREENSHOT_SECONDS = 20.0
WINDOW_STATE_FILE = "window-state.ini"
LOG_FILE = "kiwoom-terminal.log"
HEADLESS_PLATFORMS = ("offscreen", "minimal")

log = logging.getLogger("kiwoom_terminal.app")


def window_state_path(settings_path: Path) -> Path:
    return settings_path.with_name(WINDOW_STATE_FILE)


def choose_platform(offscreen: bool) -> str | None:
    """Set QT_QPA_PLATFORM before the QApplication exists. Returns a Korean error when no
    window can be shown (no display on Linux) and offscreen was not asked for."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return None
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return None
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return (
            "화면(DISPLAY)이 없어 창을 띄울 수 없습니다. 창 없이 실행하려면 --headless, "
            "가상 화면에서 실행하려면 ./run.sh (xvfb-run 사용) 를 쓰세요."
        )
    return None


def run_gui(args: argparse.Namespace) -> int:
    """Run the terminal window until it is closed; returns the process exit code."""
    quit_after = args.quit_after
    if args.screenshot is not None and quit_after is None:
        quit_after = SCREENSHOT_SECONDS
    if quit_after is not None and quit_after <= 0:
        print("--quit-after 는 0보다 큰 초 단위 숫자여야 합니다", file=sys.stderr)
        return 2
    problem = choose_platform(offscreen=args.screenshot is not None)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    setup_console_logging("INFO")
    app = create_application()
    reporter = install_excepthook(QApplication.activeWindow)
    try:
        launch = prepare(args, ask=ask_real_confirmation)
    except LaunchError as exc:
        show_start_error(str(exc))
        return 2
    try:
        setup_file_logging(launch.data_dir, launch.settings.general.log_level)
        return run_window(
            app,
            launch,
            auto_trade=bool(args.auto_trade),
            screenshot=args.screenshot,
            quit_after=quit_after,
        )
    finally:
        launch.close()
        reporter.deleteLater()


def create_application() -> QApplication:
    """The QApplication, named like the launcher's StartupWMClass, with the theme."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("kiwoom-terminal")
    apply_theme(app)
    return app


def ask_real_confirmation(prompt: str) -> str:
    """`prepare()`'s question for real mode, as a dialog; "" (refused) when offscreen."""
    if QGuiApplication.platformName() in HEADLESS_PLATFORMS:
        return ""  # nobody can answer; scripted runs pass --confirm-real
    dialog = RealModeDialog(REAL_CONFIRM_WORD, prompt)
    dialog.exec_()
    return dialog.typed()


def show_start_error(message: str) -> None:
    """Why the terminal could not start: on stderr, and in a dialog when there is a screen."""
    print(f"시작할 수 없습니다: {message}", file=sys.stderr)
    if QGuiApplication.platformName() not in HEADLESS_PLATFORMS:
        QMessageBox.critical(None, "키움 트레이딩 터미널", f"시작할 수 없습니다.\n\n{message}")


def setup_file_logging(data_dir: Path, level: str) -> Path:
    """A rotating log file in the data folder (a double-clicked terminal has no console);
    secrets are masked as on the console."""
    folder = data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    install_redaction()
    return path


@dataclass
class Terminal:
    """One terminal: the engine (in its own thread), its window and the link between them."""

    engine: TradingEngine
    window: MainWindow
    link: EngineLink
    engine_thread: EngineThread[TradingEngine]

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run an engine call in the engine's thread and return its result (tests use it
        to act on the engine as the window does)."""
        return self.engine_thread.call(fn, *args, **kwargs)

    def start(self, *, auto_trade: bool = False) -> None:
        """Show the window, then start the engine (restore, workers, reconciliation)."""
        self.window.show()
        self.call(self.engine.start, auto_trade=auto_trade)

    def close(self) -> None:
        """Close the window (layout saved), then shut the engine down (final snapshot,
        workers stopped) and end its thread. Safe to call twice."""
        self.window.close()
        self.engine_thread.stop()


def build_terminal(
    settings: AppSettings,
    worker_config: WorkerConfig,
    data_dir: Path,
    *,
    settings_path: Path | None,
    state_path: Path,
    fresh_account: bool = False,
) -> Terminal:
    """Engine (with its own worker supervisor), window and link; nothing started yet.

    `settings_path` is where setting edits are saved (None: not saved), `state_path` the
    window-state file; `fresh_account` as in `TradingEngine` (the embedded simulator was
    just started). The engine is built and runs in a thread of its own (`EngineThread`).
    """

    def make_engine() -> TradingEngine:
        return TradingEngine(
            settings,
            WorkerSupervisor(worker_config),
            data_dir,
            settings_path=settings_path,
            fresh_account=fresh_account,
        )

    engine_thread = EngineThread(make_engine)
    engine, call = engine_thread.engine, engine_thread.call
    window = MainWindow(
        settings, state_path, table_source=engine.table, row_source=engine.table_rows
    )
    StrategyLink(window, engine, call)  # 전략 / 백테스트 docks (strat2: ui/strategy_link.py)
    return Terminal(engine, window, EngineLink(window, engine, call), engine_thread)


def run_window(
    app: QApplication,
    launch: Launch,
    *,
    auto_trade: bool = False,
    screenshot: Path | None = None,
    quit_after: float | None = None,
) -> int:
    """Build and start the terminal for a prepared launch; run the event loop until the
    window closes, then shut the engine down."""
    settings = launch.settings
    settings_path: Path | None = launch.settings_path
    state_path = window_state_path(launch.settings_path)
    temp: tempfile.TemporaryDirectory[str] | None = None
    if screenshot is not None:
        # A picture of the built-in layout: the user's layout and settings stay untouched.
        temp = tempfile.TemporaryDirectory(prefix="kiwoom-screenshot-")
        state_path = Path(temp.name) / WINDOW_STATE_FILE
        settings_path = None
        if launch.simulator is not None:
            settings = showcase_settings(settings)
            auto_trade = True
    terminal = build_terminal(
        settings,
        launch.worker_config,
        launch.data_dir,
        settings_path=settings_path,
        state_path=state_path,
        fresh_account=launch.simulator is not None,  # the embedded simulator, just started
    )
    try:
        window = terminal.window
        for note in launch.notes:
            log.info(note)
            window.show_log("INFO", note)
        run = None
        if quit_after:
            control = launch.simulator.control if launch.simulator is not None else None
            run = ScreenshotRun(window, terminal.engine, screenshot, quit_after, control)
        heartbeat = _close_on_signals(window)
        terminal.start(auto_trade=auto_trade)
        log.info("창을 열었습니다 (데이터 폴더 %s)", launch.data_dir)
        app.exec_()
        heartbeat.stop()
        return run.exit_code if run is not None else 0
    finally:
        terminal.close()
        if temp is not None:
            temp.cleanup()


def _close_on_signals(window: QWidget) -> QTimer:
    """Ctrl+C / SIGTERM close the window as the user would (layout saved, clean stop).

    Python runs signal handlers only between bytecodes; the returned idle timer gives it
    the chance while Qt's event loop waits.
    """

    def close_window() -> None:
        window.close()

    def close(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: closing the window", signum)
        # Through the event loop: a signal during start-up (before exec_) would otherwise
        # close the window while no loop runs to quit, and exec_ would then wait forever.
        QTimer.singleShot(0, close_window)

    signal.signal(signal.SIGINT, close)
    signal.signal(signal.SIGTERM, close)
    heartbeat = QTimer(window)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(200)
    return heartbeat
