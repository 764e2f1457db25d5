"""Exit rules: when to sell all of a position, and why.

One function, `evaluate_exit`, decides for the live engine (once per coalesced tick batch)
and for the backtester (once per bar) alike. It takes the position's `PositionState`, the
batch's (or bar's) last / high / low price and the `ExitRules`, and returns the new state and
an `ExitDecision` or None. It allocates nothing when nothing changes, so calling it for every
bar of a long backtest stays cheap.

Returns are in percent against the average price. With `ExitRules.include_costs` the return
is net of the buy commission, the sell commission and the transaction tax (what you would
really keep if you sold at that price); without it (the default) it is the plain price
change, the number the 잔고 screen's price columns show. The trailing drop is a price
distance from the high and never includes costs.

Order of evaluation inside one batch
------------------------------------
A coalesced batch only tells us the last price and the highest and lowest trade since the
previous batch, not the order in which they happened. `evaluate_exit` therefore only fires on
what certainly happened tick by tick:

1. **Update with the batch high first.** Any trade at the high really happened, so the
   trailing stop arms when the high's return ≥ `trailing_arm_pct` (a spike that lasts one
   batch still arms it), the high since arming is raised, and profit protect activates when
   the high's return ≥ `protect_trigger_pct`.
2. **Stop-loss against the batch low**, take-profit against the batch high: a trade at that
   price happened, whatever the order. If one batch reaches both, stop-loss wins (the
   pessimistic reading for a backtest; a live sell happens either way).
3. **Trailing stop and profit protect** test two things, each of which proves a trigger
   tick by tick: the batch low against the level that was in force *before* this batch
   (every trade of the batch came after that high), and the last price against the level
   *after* the update (the last trade came after this batch's high). The batch low is never
   tested against a level raised in the same batch, because the low may have come before
   the new high.
4. Then the sell condition (or a strategy's sell signal) flag, then the end-of-day
   liquidation time.

In a backtest, pass a bar's close, high and low: the same reasoning holds for the unknown
path inside a bar. `ExitDecision.trigger` says which price fired (low, high or last) so a
fill model can price the exit.

Profit protect (이익보존) and its hysteresis
-------------------------------------------
Once any trade reaches `protect_trigger_pct` (say +2.0 %), protection is active for the rest
of the position. The floor is `protect_floor_pct` (say +0.5 %), the return the user wants to
keep. Trades bounce between bid and ask and odd lots print off-market, so the return jitters
around the floor; selling on the first print below the floor would whipsaw. The sell line is
therefore `floor − hysteresis` (0.5 − 0.2 = +0.3 %): returns inside the band
(floor − hysteresis, floor + hysteresis) never sell, and the first trade at or below
floor − hysteresis sells. Protection is never switched off again for a position, so the band
is the only thing between the floor and noise.

Thresholds are compared as prices: each percentage maps to a price level (`ExitRules.level`,
avg price × a multiplier computed once per rules object), and a price exactly at a level
counts as reached (a tolerance of 1e-6 KRW absorbs float error in the percent → price
conversion). A rule switched off (None) never sells, even for a position that was armed or
protected while it was on.

`quiet_band(state, rules)` gives the price band inside which `evaluate_exit` provably does
nothing; the backtester skips such bars without a call (a property test holds the two
together), so the rules themselves exist only in `evaluate_exit`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from kiwoom_terminal.constants import ExitReason
from kiwoom_terminal.settings import FeeSettings, TradingSettings

EPS = 1e-6  # KRW; prices are integers, so any tolerance below 1 is exact
_INF = math.inf


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


class Trigger(str, Enum):
    """Which price of the batch (or bar) fired a decision; fill models price exits by it."""

    LOW = "low"  # the batch low crossed a level that was already in force (a falling stop)
    HIGH = "high"  # the batch high reached a level (take-profit)
    LAST = "last"  # the last price (a level raised in this batch, a flag, the clock)


@dataclass(frozen=True, slots=True)
class ExitRules:
    """The sell rules of one position, in percent; None switches a rule off.

    `stop_loss_pct` is ≤ 0 (sell when return ≤ it), `take_profit_pct` > 0 (sell when return
    ≥ it), the trailing stop arms at return ≥ `trailing_arm_pct` and sells after a fall of
    `trailing_drop_pct` from the highest price since arming, profit protect is described in
    the module docstring, and `liquidation_time` sells everything at that time of day (KST).
    """

    stop_loss_pct: float | None = -3.0
    take_profit_pct: float | None = 10.0
    trailing_arm_pct: float | None = 3.0
    trailing_drop_pct: float = 1.5
    protect_trigger_pct: float | None = 2.0
    protect_floor_pct: float = 0.5
    protect_hysteresis_pct: float = 0.2
    liquidation_time: dt.time | None = None
    include_costs: bool = False
    commission_rate: float = 0.00015
    tax_rate: float = 0.0020
    # Derived once in __post_init__: each threshold's level is avg_price × multiplier (±inf
    # when the rule is off), so evaluating a batch costs a multiply per level.
    _stop_m: float = field(init=False, repr=False, compare=False)
    _take_m: float = field(init=False, repr=False, compare=False)
    _arm_m: float = field(init=False, repr=False, compare=False)
    _trigger_m: float = field(init=False, repr=False, compare=False)
    _protect_m: float = field(init=False, repr=False, compare=False)
    _keep: float = field(init=False, repr=False, compare=False)
    _texts: dict[ExitReason, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._validate()
        derived = {
            "_stop_m": self._multiplier(self.stop_loss_pct, upward=False),
            "_take_m": self._multiplier(self.take_profit_pct, upward=True),
            "_arm_m": self._multiplier(self.trailing_arm_pct, upward=True),
            "_trigger_m": self._multiplier(self.protect_trigger_pct, upward=True),
            "_protect_m": self._multiplier(
                self.protect_sell_pct if self.protect_trigger_pct is not None else None,
                upward=False,
            ),
            "_keep": 1 - self.trailing_drop_pct / 100,
            # The rule part of each decision's text, formatted once ("{ret}" is filled in).
            "_texts": {
                ExitReason.STOP_LOSS: f"손절: 수익률 {{ret}} ≤ {_pct(self.stop_loss_pct)}%",
                ExitReason.TAKE_PROFIT: f"익절: 수익률 {{ret}} ≥ {_pct(self.take_profit_pct)}%",
                ExitReason.TRAILING_STOP: f"≤ -{self.trailing_drop_pct:g}% (수익률 {{ret}})",
                ExitReason.PROFIT_PROTECT: (
                    f"이익보존: 수익률 {{ret}} ≤ 보존선 {self.protect_floor_pct:g}% − "
                    f"{self.protect_hysteresis_pct:g}% (시작 {_pct(self.protect_trigger_pct)}% 도달 후)"
                ),
                ExitReason.SELL_CONDITION: "매도 조건식 편입 (수익률 {ret})",
                ExitReason.STRATEGY: "매도 신호 (수익률 {ret})",
                ExitReason.LIQUIDATION: (
                    f"장 마감 일괄 청산 ({self.liquidation_time:%H:%M}, 수익률 {{ret}})"
                    if self.liquidation_time is not None
                    else ""
                ),
            },
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def _multiplier(self, pct: float | None, *, upward: bool) -> float:
        """Level / avg_price for a return of `pct` (the inverse of `return_pct`)."""
        if pct is None:
            return _INF if upward else -_INF
        if self.include_costs:
            return (
                (1 + self.commission_rate)
                * (1 + pct / 100)
                / (1 - self.commission_rate - self.tax_rate)
            )
        return (100 + pct) / 100

    def _validate(self) -> None:
        problems = []
        if self.stop_loss_pct is not None and not -100 < self.stop_loss_pct < 0:
            problems.append(f"손절 수익률 {self.stop_loss_pct}% 는 0보다 작고 -100보다 커야 합니다")
        if self.take_profit_pct is not None and self.take_profit_pct <= 0:
            problems.append(f"익절 수익률 {self.take_profit_pct}% 는 0보다 커야 합니다")
        if not 0 < self.trailing_drop_pct < 100:
            problems.append(f"트레일링 하락률 {self.trailing_drop_pct}% 는 0과 100 사이여야 합니다")
        if self.protect_trigger_pct is not None:
            if self.protect_hysteresis_pct < 0:
                problems.append("이익보존 잡음 방지 폭은 0 이상이어야 합니다")
            if self.protect_floor_pct >= self.protect_trigger_pct:
                problems.append(
                    f"이익보존 하한 {self.protect_floor_pct}% 는 시작 수익률 "
                    f"{self.protect_trigger_pct}% 보다 낮아야 합니다"
                )
        if not (0 <= self.commission_rate < 0.5 and 0 <= self.tax_rate < 0.5):
            problems.append("수수료율과 세율은 0 이상 0.5 미만이어야 합니다")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_settings(cls, trading: TradingSettings, fees: FeeSettings | None = None) -> ExitRules:
        """Rules from `[trading]` (and `[fees]` for cost-inclusive returns).

        A stop-loss or take-profit of 0 and a profit-protect trigger of 0 mean "off"; the
        trailing stop is always on (an arm level of 0 % arms it as soon as the return is ≥ 0).
        """
        fees = fees or FeeSettings()
        return cls(
            stop_loss_pct=trading.stop_loss_pct or None,
            take_profit_pct=trading.take_profit_pct or None,
            trailing_arm_pct=trading.trailing_arm_pct,
            trailing_drop_pct=trading.trailing_drop_pct,
            protect_trigger_pct=trading.profit_protect_trigger_pct or None,
            protect_floor_pct=trading.profit_protect_floor_pct,
            protect_hysteresis_pct=trading.profit_protect_hysteresis_pct,
            liquidation_time=trading.liquidation_time if trading.liquidation_enabled else None,
            include_costs=trading.exit_return_includes_costs,
            commission_rate=fees.commission_rate,
            tax_rate=fees.tax_rate,
        )

    def return_pct(self, avg_price: int, price: float) -> float:
        """Return in percent of selling at `price` a position bought at `avg_price`."""
        if self.include_costs:
            cost = avg_price * (1 + self.commission_rate)
            proceeds = price * (1 - self.commission_rate - self.tax_rate)
            return (proceeds - cost) * 100 / cost
        return (price - avg_price) * 100 / avg_price

    def level(self, avg_price: int, pct: float | None, *, upward: bool) -> float:
        """The price at which the return equals `pct` (the inverse of `return_pct`).

        The tolerance is folded in: an upward level is lowered by EPS (reached when price ≥
        level), a downward one raised by EPS (reached when price ≤ level). None gives a level
        that is never reached.
        """
        raw = avg_price * self._multiplier(pct, upward=upward)
        return raw - EPS if upward else raw + EPS

    @property
    def protect_sell_pct(self) -> float:
        """The return at which an active profit protect sells: floor − hysteresis."""
        return self.protect_floor_pct - self.protect_hysteresis_pct


class PositionState(NamedTuple):
    """What the exit rules remember about one position between batches.

    A NamedTuple (immutable) rather than a dataclass because the backtester builds one per
    state change and it is about three times cheaper. `high_since_arm` is 0 until armed.
    """

    avg_price: int
    quantity: int
    armed: bool = False
    high_since_arm: int = 0
    protect_active: bool = False

    def with_position(self, avg_price: int, quantity: int) -> PositionState:
        """The same exit state after a fill changed the average price or quantity."""
        return self._replace(avg_price=avg_price, quantity=quantity)


class ExitDecision(NamedTuple):
    """Sell all: why (`reason`, `detail` in Korean with the numbers), at which observed
    price (`price`, the price of `trigger`), against which threshold price (`level`, None for
    a flag or the clock), and the return at `price`. Immutable (a NamedTuple: cheap to
    build in a backtest's loop)."""

    reason: ExitReason
    detail: str
    price: int
    trigger: Trigger
    level: float | None
    return_pct: float


def evaluate_exit(
    state: PositionState,
    last: int,
    batch_high: int,
    batch_low: int,
    rules: ExitRules,
    now: dt.time | None = None,
    sell_flagged: bool = False,
    flag_reason: ExitReason = ExitReason.SELL_CONDITION,
) -> tuple[PositionState, ExitDecision | None]:
    """Update the exit state with one batch (or bar) and decide whether to sell everything.

    `now` is the time of day (KST) for the liquidation rule; None skips it (daily bars).
    `sell_flagged` is True when the sell condition flagged the stock in this batch (or a
    strategy gave a sell signal; pass `flag_reason=ExitReason.STRATEGY`). The state returned
    is the same object when nothing changed. See the module docstring for the order of
    evaluation and why.
    """
    avg, quantity, was_armed, high_before, protect_before = state
    if quantity <= 0 or avg <= 0:
        return state, None

    # 1. The batch high: arm, raise the high since arming, activate profit protect.
    armed = was_armed
    high_since = high_before
    if was_armed:
        if batch_high > high_since:
            high_since = batch_high
    elif batch_high >= avg * rules._arm_m - EPS:
        armed = True
        high_since = batch_high
    protect = protect_before or batch_high >= avg * rules._trigger_m - EPS
    if armed is not was_armed or high_since != high_before or protect is not protect_before:
        state = PositionState(avg, quantity, armed, high_since, protect)

    # 2. Stop-loss on the low, take-profit on the high (stop-loss first when both).
    stop = avg * rules._stop_m + EPS
    if batch_low <= stop:
        return state, _decide(rules, avg, ExitReason.STOP_LOSS, batch_low, Trigger.LOW, stop)
    take = avg * rules._take_m - EPS
    if batch_high >= take:
        return state, _decide(rules, avg, ExitReason.TAKE_PROFIT, batch_high, Trigger.HIGH, take)

    # 3. Trailing stop and profit protect: low vs the old level, last vs the new level. A
    # rule switched off while a position was armed / protected no longer sells.
    if armed and rules.trailing_arm_pct is not None:
        keep = rules._keep
        if was_armed and batch_low <= high_before * keep + EPS:
            return state, _trailing(rules, avg, batch_low, Trigger.LOW, high_before, keep)
        if last <= high_since * keep + EPS:
            return state, _trailing(rules, avg, last, Trigger.LAST, high_since, keep)
    if protect and rules.protect_trigger_pct is not None:
        floor = avg * rules._protect_m + EPS
        if (protect_before and batch_low <= floor) or last <= floor:
            price, trigger = (
                (batch_low, Trigger.LOW)
                if protect_before and batch_low <= floor
                else (last, Trigger.LAST)
            )
            return state, _decide(rules, avg, ExitReason.PROFIT_PROTECT, price, trigger, floor)

    # 4. Flags and the clock.
    if sell_flagged:
        return state, _decide(rules, avg, flag_reason, last, Trigger.LAST, None)
    if now is not None and rules.liquidation_time is not None and now >= rules.liquidation_time:
        return state, _decide(rules, avg, ExitReason.LIQUIDATION, last, Trigger.LAST, None)
    return state, None


def quiet_band(state: PositionState, rules: ExitRules) -> tuple[float, float]:
    """(floor, ceiling) such that a batch with floor < low and high < ceiling, no sell flag
    and before the liquidation time, makes `evaluate_exit` return `state` itself and no
    decision.

    Callers that see many batches (the backtester, per bar) may skip such batches without
    calling `evaluate_exit`; every batch outside the band still goes through it, so the rules
    live in one place. A property test checks the band against `evaluate_exit`.
    """
    avg, quantity, armed, high, protect = state
    if quantity <= 0 or avg <= 0:
        return -_INF, _INF
    floor = avg * rules._stop_m + EPS
    ceiling = avg * rules._take_m - EPS
    if armed:
        if high + 0.5 < ceiling:
            ceiling = high + 0.5  # any higher trade raises the high since arming
        trail = high * rules._keep + EPS
        if trail > floor and rules.trailing_arm_pct is not None:
            floor = trail
    else:
        arm = avg * rules._arm_m - EPS
        if arm < ceiling:
            ceiling = arm
    if protect:
        keep_floor = avg * rules._protect_m + EPS  # −inf when protect is off
        if keep_floor > floor:
            floor = keep_floor
    else:
        trigger = avg * rules._trigger_m - EPS
        if trigger < ceiling:
            ceiling = trigger
    return floor, ceiling


def _trailing(
    rules: ExitRules, avg: int, price: int, trigger: Trigger, high: int, keep: float
) -> ExitDecision:
    drop = (price - high) * 100 / high
    prefix = f"트레일링 스탑: 고점 {high:,} 대비 {drop:.2f}% "
    return _decide(rules, avg, ExitReason.TRAILING_STOP, price, trigger, high * keep + EPS, prefix)


def _decide(
    rules: ExitRules,
    avg: int,
    reason: ExitReason,
    price: int,
    trigger: Trigger,
    level: float | None,
    prefix: str = "",
) -> ExitDecision:
    ret = rules.return_pct(avg, price)
    text = rules._texts.get(reason) or reason.value
    detail = f"{prefix}{text.replace('{ret}', f'{ret:.2f}%')} [가격 {price:,}, 평균가 {avg:,}]"
    return ExitDecision(reason, detail, price, trigger, level, ret)


def position_return_pct(rules: ExitRules, avg_price: int, price: int) -> float:
    """The return the exit rules see at `price` (for the tracking table's return column)."""
    return rules.return_pct(avg_price, price) if avg_price > 0 else 0.0
