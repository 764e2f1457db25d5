"""The command line: statistics printed, bad input reported in Korean with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiwoom_terminal.backtest.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "backtest"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_user_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user config folder at an empty temp dir so defaults are used."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path


def test_prints_statistics_and_trades(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "--strategy",
            "sma_cross",
            "--codes",
            "005930",
            "--from",
            "2024-01-01",
            "--to",
            "20241231",
            "--csv",
            str(DATA),
            "--param",
            "fast=5",
            "--param",
            "slow=20",
            "--trades",
            "--slippage",
            "0",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "전략: sma_cross(fast=5, slow=20)" in out
    assert "총수익률 (total_return_pct):" in out and "거래 수 (trades):" in out
    assert "거래:" in out and "005930 2024-" in out


def test_settings_file_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ini = tmp_path / "s.ini"
    ini.write_text("[backtest]\ninitial_cash=1234567\n", encoding="utf-8")
    assert (
        main(
            [
                "--strategy",
                "sma_cross",
                "--codes",
                "005930",
                "--csv",
                str(DATA),
                "--settings",
                str(ini),
            ]
        )
        == 0
    )
    assert "시작 자금 (initial_equity): 1,234,567 원" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "nope", "--codes", "005930"], "알 수 없는 전략 'nope'"),
        (["--strategy", "sma_cross", "--codes", "005930", "--param", "fast=500"], "허용 범위"),
        (["--strategy", "sma_cross", "--codes", "005930", "--param", "fast"], "NAME=VALUE"),
        (
            ["--strategy", "sma_cross", "--codes", "005930", "--from", "2024/13/01"],
            "날짜가 아닙니다",
        ),
        (["--strategy", "sma_cross", "--codes", "005930", "--from", "2031-01-01"], "봉이 하나도"),
        (["--strategy", "sma_cross"], "--codes"),
        (["--codes", "005930"], "--strategy"),
        (
            ["--strategy", "sma_cross", "--codes", "005930", "--settings", "/nonexistent.ini"],
            "설정 파일이 없습니다",
        ),
    ],
)
def test_bad_input_exits_2_with_a_korean_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--csv", str(DATA)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("오류: ") and message in err


def test_module_entry_point_lists_strategies() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kiwoom_terminal.backtest", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0
    assert "sma_cross — 이동평균 교차" in proc.stdout and "fast=10" in proc.stdout
