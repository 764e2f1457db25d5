"""main.py: settings errors name the key, real mode wants a confirmation, and the headless
terminal in sim mode starts its own simulator and stops everything on Ctrl+C."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import main
from kiwoom_terminal import krx
from kiwoom_terminal.engine.journal import Journal, JournalKind
from kiwoom_terminal.engine.launch import LaunchError, prepare, simulator_args
from kiwoom_terminal.settings import AppSettings, load_settings, replace_setting, to_raw
from kiwoom_terminal.settings_store import save_to_file
from kiwoom_terminal.sim.__main__ import build_parser, config_from_args

REPO = Path(__file__).resolve().parents[2]


def test_invalid_setting_is_named_and_nothing_starts(tmp_path: Path, capsys) -> None:
    settings = tmp_path / "settings.ini"
    settings.write_text("[trading]\nstop_loss_pct=abc\ntrailing_drop_pct=150\n", encoding="utf-8")
    code = main.main(["--headless", "--settings", str(settings), "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "stop_loss_pct" in err and "trailing_drop_pct" in err
    assert "숫자가 아닙니다" in err


def test_missing_settings_file_is_an_error(tmp_path: Path, capsys) -> None:
    assert main.main(["--headless", "--settings", str(tmp_path / "nope.ini")]) == 2
    assert "설정 파일이 없습니다" in capsys.readouterr().err


def _args(tmp_path: Path, **extra: object) -> argparse.Namespace:
    settings = tmp_path / "settings.ini"
    save_to_file(replace_setting(AppSettings(), "general/mode", "real"), settings)
    values = {
        "settings": settings,
        "data_dir": tmp_path / "data",
        "mode": None,
        "rest_url": None,
        "ws_url": None,
        "confirm_real": False,
    }
    values.update(extra)
    return argparse.Namespace(**values)


def test_real_mode_needs_an_explicit_confirmation(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KIWOOM_REAL_APPKEY", "")
    with pytest.raises(LaunchError, match="확인"):
        prepare(_args(tmp_path), ask=lambda prompt: "yes")
    # Confirmed, but without keys: a clear message, still nothing started.
    for var in ("KIWOOM_REAL_APPKEY", "KIWOOM_REAL_SECRETKEY", "KIWOOM_APPKEY", "KIWOOM_SECRETKEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("kiwoom_terminal.secrets._keyring_module", lambda: None)
    with pytest.raises(LaunchError, match="KIWOOM_REAL_APPKEY"):
        prepare(_args(tmp_path), ask=lambda prompt: "실거래")


def test_urls_come_in_pairs(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="--ws-url"):
        prepare(_args(tmp_path, mode="sim", rest_url="http://127.0.0.1:1"))


def test_the_embedded_simulator_gets_the_fee_rates_and_session_times() -> None:
    """[fees] and [session] reach the simulator's command line, so its account charges what
    the P/L display and the backtester assume and its KRX clock keeps the same hours."""
    raw = dict(to_raw(AppSettings()))
    raw.update(
        {
            "fees/commission_rate": "0.0003",
            "fees/tax_rate": "0.0018",
            "session/closing_auction": "15:25",
            "session/close": "15:35",
            "sim/seed": "7",
            "sim/speed": "2",
            "sim/faults": "delay_ms=5",
        }
    )
    args = simulator_args(load_settings(raw))
    config = config_from_args(build_parser().parse_args(args))
    assert (config.commission_rate, config.tax_rate) == (0.0003, 0.0018)
    assert config.schedule == krx.SessionSchedule(
        closing_auction=dt.time(15, 25), close=dt.time(15, 35)
    )
    assert (config.seed, config.speed, config.faults) == (7, 2.0, "delay_ms=5")
    defaults = config_from_args(build_parser().parse_args(simulator_args(AppSettings())))
    assert (defaults.commission_rate, defaults.tax_rate) == (0.00015, 0.002)
    assert defaults.schedule == krx.DEFAULT_SCHEDULE


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_headless_sim_mode_starts_and_stops_its_simulator(tmp_path: Path) -> None:
    settings = tmp_path / "settings.ini"
    save_to_file(AppSettings(), settings)
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "main.py"),
            "--headless",
            "--settings",
            str(settings),
            "--data-dir",
            str(data),
        ],
        cwd=REPO,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = ""
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline:
            line = proc.stdout.readline()
            match = re.search(r"내장 시뮬레이터 시작: (http://\S+)", line)
            url = match.group(1) if match else ""
        assert url, "no simulator URL in the log"
        journal_path = data / "journal.sqlite3"

        def reconciled() -> bool:
            if not journal_path.exists():
                return False
            journal = Journal(journal_path, writer=False)  # the terminal is running
            try:
                return bool(journal.entries(kinds=[JournalKind.RECONCILE]))
            finally:
                journal.close()

        while not reconciled():
            assert time.monotonic() < deadline, "the terminal never reconciled"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with pytest.raises(requests.ConnectionError):
        requests.post(url + "/_sim/state", json={}, timeout=2)
    assert (data / "engine.pkl").exists()  # the final snapshot


@pytest.mark.skipif(sys.platform != "linux", reason="XDG folders are the Linux convention")
def test_first_start_seeds_the_user_settings_and_data_folders(tmp_path: Path, monkeypatch) -> None:
    """Without --settings / --data-dir (a double-click start): the documented settings.ini is
    copied into the user config folder, and the data folder is the user data folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    args = argparse.Namespace(
        settings=None,
        data_dir=None,
        mode="sim",
        rest_url="http://127.0.0.1:1",
        ws_url="ws://127.0.0.1:2",
        confirm_real=False,
    )
    launch = prepare(args)
    seeded = tmp_path / "config" / "kiwoom-terminal" / "settings.ini"
    assert launch.settings_path == seeded
    assert seeded.read_text(encoding="utf-8") == (REPO / "settings.ini").read_text(encoding="utf-8")
    # one data folder per mode: the simulator's journal never mixes with the real account's
    assert launch.data_dir == tmp_path / "share" / "kiwoom-terminal" / "sim"
    assert launch.data_dir.is_dir()
    seeded.write_text(
        seeded.read_text(encoding="utf-8").replace("buy_amount=1000000", "buy_amount=2000000"),
        encoding="utf-8",
    )
    again = prepare(args)  # a second start keeps the user's file
    assert again.settings.trading.buy_amount == 2_000_000
