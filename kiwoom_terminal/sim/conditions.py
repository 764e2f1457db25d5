"""Named condition searches (조건검색) whose members come from the simulated market.

Each condition is a test on a stock's live state (change rate, volume pace, distance to the
52-week high, …). `Conditions.evaluate()` recomputes every membership and reports each
entry (편입, I) and exit (편출, D) to the listener, which pushes REAL 02 frames. Tests force
members in or out (`force`), which overrides the computed test until cleared; the manual
condition has no test at all, so only forcing moves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiwoom_terminal.constants import Market as MarketKind
from kiwoom_terminal.sim.market import Market, Stock


@dataclass(frozen=True)
class ConditionDef:
    seq: str
    name: str
    test: Callable[[Stock, int], bool] | None  # (stock, session minute) -> member?


def _rate_at_least(pct: float) -> Callable[[Stock, int], bool]:
    return lambda s, _m: s.cum_volume > 0 and s.change_rate >= pct


def _rate_at_most(pct: float) -> Callable[[Stock, int], bool]:
    return lambda s, _m: s.cum_volume > 0 and s.change_rate <= pct


def _volume_surge(stock: Stock, minute: int) -> bool:
    """Last 5 minutes traded at least 3× the day's average 5-minute volume so far."""
    if minute < 10 or stock.cum_volume == 0:
        return False
    recent = sum(stock.bars[m][4] for m in range(minute - 4, minute + 1) if m in stock.bars)
    average = stock.cum_volume / (minute + 1) * 5
    return recent >= 3 * average


def _near_52w_high(stock: Stock, _minute: int) -> bool:
    high, _day = stock.high_250()
    return stock.cum_volume > 0 and stock.price >= 0.95 * high


def _up_from_open(stock: Stock, _minute: int) -> bool:
    return stock.open > 0 and stock.price >= stock.open * 1.02


def _near_high(stock: Stock, _minute: int) -> bool:
    return stock.high > 0 and stock.change > 0 and stock.price >= stock.high * 0.995


def _near_low(stock: Stock, _minute: int) -> bool:
    return stock.low > 0 and stock.change < 0 and stock.price <= stock.low * 1.005


def _kosdaq_up(stock: Stock, _minute: int) -> bool:
    return (
        stock.listing.market is MarketKind.KOSDAQ
        and stock.cum_volume > 0
        and (stock.change_rate >= 2.0)
    )


MANUAL_SEQ = "4"

DEFAULT_CONDITIONS: tuple[ConditionDef, ...] = (
    ConditionDef("0", "상승률 3% 이상", _rate_at_least(3.0)),
    ConditionDef("1", "거래량 급증", _volume_surge),
    ConditionDef("2", "52주 신고가 근접", _near_52w_high),
    ConditionDef("3", "하락률 3% 이상", _rate_at_most(-3.0)),
    ConditionDef(MANUAL_SEQ, "수동 편입 (시뮬레이터)", None),
    ConditionDef("5", "상승률 1% 이상", _rate_at_least(1.0)),
    ConditionDef("6", "상승률 5% 이상", _rate_at_least(5.0)),
    ConditionDef("7", "하락률 1% 이상", _rate_at_most(-1.0)),
    ConditionDef("8", "시가 대비 2% 상승", _up_from_open),
    ConditionDef("9", "당일 고가 근접", _near_high),
    ConditionDef("10", "당일 저가 근접", _near_low),
    ConditionDef("11", "코스닥 상승률 2% 이상", _kosdaq_up),
)

Listener = Callable[[str, str, bool], None]  # (seq, code, entered)


class Conditions:
    """Membership of every condition, recomputed from the market on `evaluate()`."""

    def __init__(self, market: Market, defs: tuple[ConditionDef, ...] = DEFAULT_CONDITIONS):
        self.market = market
        self.defs = {d.seq: d for d in defs}
        self.members: dict[str, dict[str, None]] = {d.seq: {} for d in defs}  # ordered sets
        self.forced: dict[str, dict[str, bool]] = {d.seq: {} for d in defs}
        self.listeners: list[Listener] = []

    def listing(self) -> list[tuple[str, str]]:
        return [(d.seq, d.name) for d in self.defs.values()]

    def matches(self, seq: str) -> list[str]:
        """Current members in the order they entered."""
        return list(self.members[seq])

    def force(self, seq: str, code: str, action: str) -> None:
        """`add` / `remove` pins a stock in or out; `clear` returns it to the computed test."""
        if seq not in self.defs:
            raise KeyError(seq)
        if action == "add":
            self.forced[seq][code] = True
        elif action == "remove":
            self.forced[seq][code] = False
        elif action == "clear":
            self.forced[seq].pop(code, None)
        else:
            raise ValueError(f"action must be add, remove or clear, not {action!r}")
        self._evaluate_one(seq, self._minute())

    def _minute(self) -> int:
        return max(0, self.market.session_second(self.market.clock.now()) // 60)

    def evaluate(self) -> None:
        minute = self._minute()
        for seq in self.defs:
            self._evaluate_one(seq, minute)

    def evaluate_seq(self, seq: str) -> None:
        """Re-evaluate one condition (the server loop does them one at a time, serving the
        network in between); a condition removed meanwhile is skipped."""
        if seq in self.defs:
            self._evaluate_one(seq, self._minute())

    def _evaluate_one(self, seq: str, minute: int) -> None:
        test = self.defs[seq].test
        forced = self.forced[seq]
        current = self.members[seq]
        wanted: set[str] = set()
        if test is not None:
            for code, stock in self.market.stocks.items():
                if forced.get(code, True) and test(stock, minute):
                    wanted.add(code)
        wanted.update(code for code, inside in forced.items() if inside)
        for code in [c for c in current if c not in wanted]:
            del current[code]
            self._notify(seq, code, False)
        for code in sorted(wanted - current.keys()):
            current[code] = None
            self._notify(seq, code, True)

    def _notify(self, seq: str, code: str, entered: bool) -> None:
        for listener in self.listeners:
            listener(seq, code, entered)
