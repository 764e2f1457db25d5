"""Strategy choices as settings text: which strategies are on, and their parameters.

`[scanner] strategies` lists the enabled names; `[scanner] strategy_params` keeps every
strategy's parameters (also of strategies switched off, so switching one back on restores
them), one entry per strategy: `sma_cross fast=5 slow=20`. Missing parameters take the
strategy's default. Everything is validated with the strategies' own `Param` ranges and
`check_params`, and every problem is reported at once with its settings key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kiwoom_terminal.settings import ScannerSettings, SettingsError
from kiwoom_terminal.strategies.base import StrategyError, all_strategies, get_strategy

StrategyParams = dict[str, dict[str, float]]


def parse_params(entries: Iterable[str]) -> StrategyParams:
    """`["sma_cross fast=5 slow=20", …]` → {"sma_cross": {"fast": 5, "slow": 20}}; raises
    SettingsError naming every bad entry."""
    known = all_strategies()
    out: StrategyParams = {}
    problems: list[str] = []
    for entry in entries:
        parts = entry.split()
        if not parts:
            continue
        name, *pairs = parts
        if name not in known:
            problems.append(
                f"[scanner] strategy_params: 전략 '{name}' 이(가) 없습니다 "
                f"(가능: {', '.join(known)})"
            )
            continue
        values: dict[str, float] = {}
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            try:
                if not sep:
                    raise ValueError
                values[key] = float(raw)
            except ValueError:
                problems.append(
                    f"[scanner] strategy_params: '{entry}' 의 '{pair}' 은(는) 이름=숫자 가 "
                    "아닙니다 (예: sma_cross fast=5 slow=20)"
                )
        try:
            strategy = get_strategy(name, **values)
        except StrategyError as exc:
            problems.append(f"[scanner] strategy_params: {exc}")
            continue
        out[name] = dict(strategy.values)
    if problems:
        raise SettingsError(problems)
    return out


def format_params(params: Mapping[str, Mapping[str, float]]) -> tuple[str, ...]:
    """The inverse of `parse_params` (for writing the settings back)."""
    return tuple(
        " ".join([name, *(f"{k}={v:g}" for k, v in values.items())])
        for name, values in sorted(params.items())
    )


def enabled_specs(settings: ScannerSettings) -> StrategyParams:
    """Enabled strategy → validated parameters, from `[scanner]`; raises SettingsError."""
    params = parse_params(settings.strategy_params)
    known = all_strategies()
    unknown = [name for name in settings.strategies if name not in known]
    if unknown:
        raise SettingsError(
            [
                f"[scanner] strategies: 전략 {', '.join(unknown)} 이(가) 없습니다 "
                f"(가능: {', '.join(known)})"
            ]
        )
    return {name: params.get(name, {}) for name in settings.strategies}
