"""Strategy choices in settings text: parsed with the strategies' own ranges, written back."""

from __future__ import annotations

import pytest

from kiwoom_terminal.scanner.specs import enabled_specs, format_params, parse_params
from kiwoom_terminal.settings import ScannerSettings, SettingsError, load_settings


def test_round_trip_and_defaults() -> None:
    params = parse_params(["sma_cross fast=5 slow=20", "rsi"])
    assert params["sma_cross"] == {"fast": 5, "slow": 20}
    assert params["rsi"]["period"] == 14  # defaults filled in
    assert parse_params(format_params(params)) == params
    settings = load_settings(
        {
            "scanner/strategies": "sma_cross",
            "scanner/strategy_params": "sma_cross fast=5 slow=20, rsi",
        }
    )
    assert enabled_specs(settings.scanner) == {"sma_cross": {"fast": 5, "slow": 20}}


def test_every_problem_is_named() -> None:
    with pytest.raises(SettingsError) as err:
        parse_params(["sma_cross fast=50 slow=20", "nope x=1", "rsi period=abc"])
    problems = err.value.problems
    assert len(problems) == 3
    assert (
        "fast(50)" in problems[0] and "전략 'nope'" in problems[1] and "period=abc" in problems[2]
    )
    with pytest.raises(SettingsError, match="strategies: 전략 nope"):
        enabled_specs(ScannerSettings(strategies=("nope",)))
