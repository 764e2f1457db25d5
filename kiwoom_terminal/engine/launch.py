"""Everything `main.py` prepares before an engine can run, shared by the headless runner and
the window: settings (validated), mode, credentials, the server URLs (starting the embedded
simulator in sim mode unless URLs are given), the worker configuration and the data folder.

Real mode needs an explicit confirmation (`--confirm-real`, or typing the confirmation word
at an interactive prompt); mock and real take the app key and secret from the environment
or the OS keyring (`secrets.py`), never from settings.ini.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiwoom_terminal.constants import Mode
from kiwoom_terminal.secrets import CredentialsError, load_credentials
from kiwoom_terminal.settings import AppSettings, SettingsError, replace_setting
from kiwoom_terminal.workers.config import WorkerConfig, build_worker_config

REAL_CONFIRM_WORD = "실거래"


class LaunchError(RuntimeError):
    """The terminal cannot start; the message (Korean) says why and what to do."""


@dataclass
class Launch:
    """A prepared start: pass `worker_config` to a `WorkerSupervisor`, the rest to the
    `TradingEngine`. `close()` stops the simulator main.py started (if any)."""

    settings: AppSettings
    settings_path: Path
    data_dir: Path
    worker_config: WorkerConfig
    simulator: Any = None  # kiwoom_terminal.sim.launcher.SimulatorProcess when started here
    notes: list[str] = field(default_factory=list)

    def close(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options main.py shares between the window and --headless."""
    parser.add_argument("--settings", type=Path, help="settings.ini to use (default: user folder)")
    parser.add_argument(
        "--data-dir", type=Path, help="folder for snapshots and the journal (default: user folder)"
    )
    parser.add_argument(
        "--mode", choices=[m.value for m in Mode], help="override [general] mode for this run"
    )
    parser.add_argument("--rest-url", help="attach to a running server (with --ws-url)")
    parser.add_argument("--ws-url", help="WebSocket URL of that server")
    parser.add_argument("--auto-trade", action="store_true", help="switch auto-trade on at start")
    parser.add_argument(
        "--confirm-real",
        action="store_true",
        help="confirm real-money mode without the interactive prompt",
    )


def prepare(
    args: argparse.Namespace,
    *,
    ask: Callable[[str], str] | None = None,
) -> Launch:
    """Validate settings, resolve mode and credentials, start the simulator if needed."""
    from kiwoom_terminal.settings_store import (
        default_settings_path,
        ensure_settings_file,
        load_from_file,
        user_data_dir,
    )

    settings_path = Path(args.settings) if args.settings else default_settings_path()
    if args.settings and not settings_path.exists():
        raise LaunchError(f"설정 파일이 없습니다: {settings_path}")
    ensure_settings_file(settings_path)
    try:
        settings = load_from_file(settings_path)
        if args.mode:
            settings = replace_setting(settings, "general/mode", args.mode)
    except SettingsError as exc:
        raise LaunchError(f"{settings_path}: {exc}") from None
    mode = settings.general.mode
    if bool(args.rest_url) != bool(args.ws_url):
        raise LaunchError("--rest-url 과 --ws-url 은 함께 지정해야 합니다")
    if mode is Mode.REAL and not args.confirm_real:
        _confirm_real(ask)
    try:
        credentials = load_credentials(mode)
    except CredentialsError as exc:
        raise LaunchError(str(exc)) from None
    # One folder per mode: a simulator's journal, snapshots and watchlist never mix with
    # those of the mock or the real account.
    data_dir = Path(args.data_dir) if args.data_dir else user_data_dir() / mode.value
    data_dir.mkdir(parents=True, exist_ok=True)
    simulator = None
    rest_url, ws_url = args.rest_url, args.ws_url
    notes: list[str] = []
    if mode is Mode.SIM and not rest_url:
        simulator = _start_simulator(settings)
        rest_url, ws_url = simulator.rest_url, simulator.ws_url
        notes.append(f"내장 시뮬레이터 시작: {rest_url} {ws_url}")
    try:
        config = build_worker_config(settings, credentials, rest_url=rest_url, ws_url=ws_url)
    except ValueError as exc:
        if simulator is not None:
            simulator.stop()
        raise LaunchError(str(exc)) from None
    return Launch(settings, settings_path, data_dir, config, simulator, notes)


def _confirm_real(ask: Callable[[str], str] | None) -> None:
    if ask is None:
        if not sys.stdin.isatty():
            raise LaunchError(
                "실거래(real) 모드는 확인이 필요합니다: --confirm-real 을 붙이거나 터미널에서 실행해 확인하세요"
            )
        ask = input
    answer = ask(
        f"실거래 모드입니다. 실제 돈으로 주문합니다. 계속하려면 '{REAL_CONFIRM_WORD}' 를 입력하세요: "
    )
    if answer.strip() != REAL_CONFIRM_WORD:
        raise LaunchError("실거래 모드를 확인하지 않아 종료합니다")


def simulator_args(settings: AppSettings) -> list[str]:
    """Command-line options of the embedded simulator from the settings: `[sim]`, plus the
    `[fees]` rates and `[session]` times, so the simulated account charges what the P/L
    display and the backtester assume, and a KRX-clock simulator keeps the same hours."""
    sim, fees, session = settings.sim, settings.fees, settings.session
    args = ["--rest-port", str(sim.rest_port), "--ws-port", str(sim.ws_port)]
    args += ["--seed", str(sim.seed), "--speed", str(sim.speed)]
    args += ["--commission-rate", repr(fees.commission_rate), "--tax-rate", repr(fees.tax_rate)]
    times = (
        session.pre_open,
        session.continuous,
        session.closing_auction,
        session.close,
        session.after_hours,
        session.end,
    )
    args += ["--session", ",".join(t.strftime("%H:%M") for t in times)]
    if sim.scenario:
        args += ["--scenario", sim.scenario]
    if sim.faults:
        args += ["--faults", sim.faults]
    return args


def _start_simulator(settings: AppSettings) -> Any:
    try:
        from kiwoom_terminal.sim.launcher import start_simulator
    except ImportError as exc:  # pragma: no cover - the simulator ships with the terminal
        raise LaunchError(f"내장 시뮬레이터를 찾을 수 없습니다: {exc}") from None
    try:
        return start_simulator(*simulator_args(settings))
    except Exception as exc:
        raise LaunchError(f"내장 시뮬레이터를 시작하지 못했습니다: {exc}") from None
