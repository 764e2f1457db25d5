"""The Strategy interface and the registry every part of the terminal lists strategies from.

A strategy turns a bar DataFrame into a signal per bar. The GUI's 전략 dock, the watchlist
scanner and the backtester all list `all_strategies()`, so adding a strategy is one new file
in this package: define a subclass and decorate it with `@register`.

Bars are a DataFrame with a DatetimeIndex (ascending) and int columns
`open, high, low, close, volume`.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

BUY = 1
SELL = -1
HOLD = 0
BAR_COLUMNS = ("open", "high", "low", "close", "volume")


class StrategyError(ValueError):
    """Bad strategy input (unknown name, parameter out of range, unusable bars); the message
    says what to change. Nothing is run."""


@dataclass(frozen=True)
class Param:
    """One tunable parameter of a strategy, with its default and allowed range."""

    name: str
    default: float
    minimum: float
    maximum: float
    meaning: str
    integer: bool = True

    def validate(self, value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise StrategyError(f"{self.name}: '{value}' 은(는) 숫자가 아닙니다") from None
        if self.integer and number != int(number):
            raise StrategyError(f"{self.name}: {value} 은(는) 정수여야 합니다")
        if not self.minimum <= number <= self.maximum:
            raise StrategyError(
                f"{self.name}: {value} 은(는) 허용 범위 {self.minimum:g}–{self.maximum:g} 밖입니다"
            )
        return int(number) if self.integer else number


class Strategy(ABC):
    """A named, parameterised signal generator.

    Subclasses set `name` (stable id, English), `title` (Korean label) and `params`, and
    implement `compute(bars)`. Callers use `signals(bars)`, which validates the bars first.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, **overrides: Any) -> None:
        known = {p.name: p for p in self.params}
        unknown = set(overrides) - set(known)
        if unknown:
            raise StrategyError(
                f"{self.name}: 알 수 없는 파라미터 {sorted(unknown)} (가능: {sorted(known)})"
            )
        self.values: dict[str, float] = {
            p.name: p.validate(overrides.get(p.name, p.default)) for p in self.params
        }
        self.check_params()

    def check_params(self) -> None:
        """Checks that involve more than one parameter (e.g. fast < slow); raise
        StrategyError with a message saying what to change. None by default."""
        return None

    def param_int(self, name: str) -> int:
        """An integer parameter's value."""
        return int(self.values[name])

    @property
    def min_bars(self) -> int:
        """Bars of history needed before the first signal can appear (the scanner loads at
        least this many; the backtester warns when the data is shorter)."""
        return 2

    def signals(self, bars: pd.DataFrame) -> pd.Series:
        """BUY (1) / SELL (-1) / HOLD (0) per bar, aligned with `bars.index`."""
        check_bars(bars)
        result = self.compute(bars)
        if result.index is not bars.index and not result.index.equals(bars.index):
            result = result.reindex(bars.index)
        if result.dtype != "int8":
            result = result.fillna(HOLD).astype("int8")
        return result

    @abstractmethod
    def compute(self, bars: pd.DataFrame) -> pd.Series:
        """Signals for validated bars; a bar without enough history is HOLD."""

    def describe(self) -> str:
        """`name(param=value, …)` for logs and reports."""
        args = ", ".join(f"{k}={v:g}" for k, v in self.values.items())
        return f"{self.name}({args})"


def combine(buy: pd.Series, sell: pd.Series) -> pd.Series:
    """One signal series from boolean buy / sell conditions; SELL wins when both hold."""
    sells = _flags(sell)
    buys = _flags(buy) & ~sells
    out = np.zeros(len(buys), dtype="int8")
    out[buys] = BUY
    out[sells] = SELL
    return pd.Series(out, index=buy.index)


def _flags(condition: pd.Series) -> np.ndarray:
    """A boolean condition as a numpy bool array, missing values False (no copy when the
    series is already plain bool)."""
    if condition.dtype == bool:
        return condition.to_numpy()
    return condition.to_numpy(dtype=bool, na_value=False)


def check_bars(bars: pd.DataFrame) -> None:
    """Raise StrategyError unless `bars` has the OHLCV columns, rows and a sorted index."""
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise StrategyError(f"봉 데이터에 {missing} 열이 없습니다")
    if bars.empty:
        raise StrategyError("봉 데이터가 비어 있습니다 (기간이나 종목코드를 확인하세요)")
    if not bars.index.is_monotonic_increasing:
        raise StrategyError("봉 데이터는 시간 오름차순이어야 합니다")


_REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a strategy visible to the GUI, scanner and backtester."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"strategy name {cls.name!r} is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    """Import every module of this package once so their @register decorators run."""
    import kiwoom_terminal.strategies as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def all_strategies() -> dict[str, type[Strategy]]:
    """Registered strategies by name, in name order."""
    _load_all()
    return dict(sorted(_REGISTRY.items()))


def get_strategy(name: str, **params: Any) -> Strategy:
    """An instance of the strategy `name` with `params` applied and validated."""
    strategies = all_strategies()
    if name not in strategies:
        raise StrategyError(f"알 수 없는 전략 '{name}' (가능: {', '.join(strategies)})")
    return strategies[name](**params)
