""" "Adding a strategy is one file" (strategies/base.py): a new module with a registered
subclass shows up in the registry the GUI, the scanner and the backtester list, runs from
the backtest command line, and disappears again when removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiwoom_terminal.backtest.cli import main
from kiwoom_terminal.scanner.specs import enabled_specs
from kiwoom_terminal.settings import ScannerSettings
from kiwoom_terminal.strategies.base import (
    BUY,
    SELL,
    StrategyError,
    all_strategies,
    get_strategy,
)
from tests.strategies.plugin import one_file_strategy
from tests.strategies.test_strategies import frame, where

DATA = Path(__file__).resolve().parent.parent / "data" / "backtest"


def test_a_new_strategy_module_is_listed_everywhere_and_removed_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # the CLI reads default settings
    shipped = list(all_strategies())
    assert "zz_probe" not in shipped
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    with one_file_strategy(plugin) as name:
        registry = all_strategies()
        assert list(registry) == [*shipped, name]  # in name order, after the shipped ones
        assert registry[name].title == "시험 전략"
        sig = get_strategy(name, n=2).signals(frame([100, 101, 102, 103, 101]))
        assert where(sig, BUY) == [2] and where(sig, SELL) == [4]

        # The scanner takes it by name with its parameters, validated by its own Param.
        assert enabled_specs(
            ScannerSettings(strategies=(name,), strategy_params=(f"{name} n=4",))
        ) == {name: {"n": 4}}
        with pytest.raises(StrategyError, match="허용 범위"):
            get_strategy(name, n=11)

        # The backtest command line lists it and runs it.
        assert main(["--list"]) == 0
        listing = capsys.readouterr().out.splitlines()
        assert listing[-2:] == [f"{name} — 시험 전략", "    n=3  (1–10) 연속 상승 봉 수"]
        args = ["--strategy", name, "--param", "n=2", "--codes", "005930", "--csv", str(DATA)]
        assert main(args) == 0
        out = capsys.readouterr().out
        assert f"전략: {name}(n=2)" in out and "거래 수 (trades):" in out

    assert list(all_strategies()) == shipped
    with pytest.raises(StrategyError, match=f"알 수 없는 전략 '{name}'"):
        get_strategy(name)
    assert main(["--list"]) == 0 and name not in capsys.readouterr().out
