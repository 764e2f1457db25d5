"""Exit rules on hand-checked numbers: every rule, its exact threshold, the batch order."""

from __future__ import annotations

import datetime as dt

import pytest

from kiwoom_terminal.constants import ExitReason
from kiwoom_terminal.decisions.exits import (
    ExitRules,
    PositionState,
    Trigger,
    evaluate_exit,
    position_return_pct,
)
from kiwoom_terminal.settings import FeeSettings, TradingSettings

# Average price 10,000 (tick 10). With the default rules:
#   stop-loss -3 %        -> 9,700      take-profit +10 %   -> 11,000
#   trailing arms at +3 % -> 10,300     drop 1.5 % from 10,400 -> 10,244
#   protect trigger +2 %  -> 10,200     sell line 0.5 - 0.2 = 0.3 % -> 10,030
RULES = ExitRules()
FRESH = PositionState(avg_price=10_000, quantity=10)


def run(state, last, high=None, low=None, rules=RULES, **kw):
    high = last if high is None else high
    low = last if low is None else low
    return evaluate_exit(state, last, high, low, rules, **kw)


def test_nothing_happens_inside_the_thresholds_and_the_state_object_is_kept() -> None:
    state, decision = run(FRESH, 10_050, high=10_190, low=9_710)
    assert decision is None
    assert state is FRESH


@pytest.mark.parametrize(("low", "fires"), [(9_710, False), (9_700, True), (9_690, True)])
def test_stop_loss_at_exactly_minus_three_percent(low: int, fires: bool) -> None:
    _, decision = run(FRESH, 9_800, high=9_800, low=low)
    assert (decision is not None) is fires
    if fires:
        assert decision.reason is ExitReason.STOP_LOSS
        assert decision.price == low
        assert decision.trigger is Trigger.LOW
        assert decision.return_pct == pytest.approx((low - 10_000) / 100)
        assert "손절" in decision.detail
        assert f"{(low - 10_000) / 100:.2f}%" in decision.detail
        assert f"{low:,}" in decision.detail and "10,000" in decision.detail


@pytest.mark.parametrize(("high", "fires"), [(10_990, False), (11_000, True)])
def test_take_profit_at_exactly_ten_percent(high: int, fires: bool) -> None:
    _, decision = run(FRESH, 10_900, high=high, low=10_900)
    if fires:
        assert decision is not None
        assert decision.reason is ExitReason.TAKE_PROFIT
        assert (decision.price, decision.trigger) == (11_000, Trigger.HIGH)
        assert "10.00%" in decision.detail
    else:
        assert decision is None


def test_stop_loss_wins_when_one_batch_reaches_both() -> None:
    _, decision = run(FRESH, 10_000, high=11_000, low=9_700)
    assert decision is not None and decision.reason is ExitReason.STOP_LOSS


@pytest.mark.parametrize(("high", "armed"), [(10_290, False), (10_300, True)])
def test_trailing_arms_at_exactly_the_arm_return(high: int, armed: bool) -> None:
    state, decision = run(FRESH, high, high=high, low=high)
    assert decision is None
    assert state.armed is armed
    assert state.high_since_arm == (high if armed else 0)


def test_trailing_high_only_rises() -> None:
    state = PositionState(10_000, 10, armed=True, high_since_arm=10_400)
    state, _ = run(state, 10_350, high=10_380, low=10_300)
    assert state.high_since_arm == 10_400
    state, _ = run(state, 10_450, high=10_500, low=10_420)
    assert state.high_since_arm == 10_500


@pytest.mark.parametrize(("low", "fires"), [(10_300, False), (10_290, True)])
def test_trailing_drop_at_exactly_the_drop_percent(low: int, fires: bool) -> None:
    rules = ExitRules(trailing_drop_pct=2.0, protect_trigger_pct=None)
    # 10,500 × (1 - 2 %) = 10,290 exactly.
    state = PositionState(10_000, 10, armed=True, high_since_arm=10_500)
    _, decision = run(state, 10_310, high=10_320, low=low, rules=rules)
    assert (decision is not None) is fires
    if fires:
        assert decision.reason is ExitReason.TRAILING_STOP
        assert (decision.price, decision.trigger) == (10_290, Trigger.LOW)
        assert decision.level == pytest.approx(10_290)
        assert "10,500" in decision.detail and "-2.00%" in decision.detail


def test_a_spike_inside_one_batch_arms_the_trailing_stop() -> None:
    # Ticks 10,000 -> 10,400 -> 10,250 arrive in one batch: armed at the spike's high,
    # and the last price 10,250 is above 10,400 × 0.985 = 10,244, so nothing is sold yet.
    state, decision = run(FRESH, 10_250, high=10_400, low=10_000)
    assert decision is None
    assert state.armed and state.high_since_arm == 10_400
    # The next batch only dips to 10,240: sold against the high of the spike.
    state2, decision = run(state, 10_260, high=10_260, low=10_240)
    assert decision is not None and decision.reason is ExitReason.TRAILING_STOP
    assert decision.price == 10_240 and state2.high_since_arm == 10_400


def test_a_spike_and_fall_inside_one_batch_sells_on_the_last_price() -> None:
    state, decision = run(FRESH, 10_240, high=10_400, low=10_000)
    assert decision is not None
    assert decision.reason is ExitReason.TRAILING_STOP
    assert (decision.price, decision.trigger) == (10_240, Trigger.LAST)
    assert state.armed and state.high_since_arm == 10_400


def test_the_low_is_not_tested_against_a_high_raised_in_the_same_batch() -> None:
    # The low (10,100, below 10,244) may have come before the high: no sell on it.
    state, decision = run(FRESH, 10_300, high=10_400, low=10_100)
    assert decision is None and state.armed


def test_the_low_is_tested_against_the_level_in_force_before_a_new_high() -> None:
    # Armed at 10,400 earlier (level 10,244); this batch dips to 10,240, then makes a new
    # high 10,500: the dip came after the old high, so the trailing stop fired tick by tick.
    state = PositionState(10_000, 10, armed=True, high_since_arm=10_400)
    new_state, decision = run(state, 10_450, high=10_500, low=10_240)
    assert decision is not None and decision.reason is ExitReason.TRAILING_STOP
    assert (decision.price, decision.trigger) == (10_240, Trigger.LOW)
    assert new_state.high_since_arm == 10_500


def test_profit_protect_wobbling_in_the_hysteresis_band_does_not_sell() -> None:
    rules = ExitRules(trailing_arm_pct=None)  # trailing off so only protect can act
    state, decision = run(FRESH, 10_150, high=10_200, low=10_100, rules=rules)
    assert decision is None and state.protect_active  # reached +2 %: protection on
    # Noise around the floor (+0.5 % = 10,050): 10,040 is below the floor but inside the
    # 0.2 % band, so none of these sell.
    for low, last in [(10_040, 10_060), (10_050, 10_040), (10_040, 10_050), (10_060, 10_070)]:
        state, decision = run(state, last, high=max(low, last), low=low, rules=rules)
        assert decision is None, (low, last)
    # Clearly below: +0.3 % (10,030) is floor − hysteresis, exactly at the line.
    _, decision = run(state, 10_040, high=10_050, low=10_030, rules=rules)
    assert decision is not None
    assert decision.reason is ExitReason.PROFIT_PROTECT
    assert (decision.price, decision.trigger) == (10_030, Trigger.LOW)
    assert "0.30%" in decision.detail and "보존선 0.5%" in decision.detail


def test_profit_protect_activated_in_this_batch_only_tests_the_last_price() -> None:
    rules = ExitRules(trailing_arm_pct=None)
    state, decision = run(FRESH, 10_100, high=10_200, low=9_900, rules=rules)
    assert decision is None and state.protect_active
    _, decision = run(FRESH, 10_030, high=10_200, low=9_900, rules=rules)
    assert decision is not None and decision.trigger is Trigger.LAST


def test_profit_protect_never_switches_off_and_is_off_when_disabled() -> None:
    state = PositionState(10_000, 10, protect_active=True)
    state, _ = run(state, 10_100)
    assert state.protect_active
    off = ExitRules(protect_trigger_pct=None, trailing_arm_pct=None)
    state, decision = run(FRESH, 10_000, high=10_900, low=10_000, rules=off)
    assert not state.protect_active and decision is None


def test_sell_flag_sells_at_the_last_price_with_its_reason() -> None:
    _, decision = run(FRESH, 10_100, sell_flagged=True)
    assert decision is not None
    assert (decision.reason, decision.price, decision.level) == (
        ExitReason.SELL_CONDITION,
        10_100,
        None,
    )
    assert "매도 조건식" in decision.detail and "1.00%" in decision.detail
    _, decision = run(FRESH, 10_100, sell_flagged=True, flag_reason=ExitReason.STRATEGY)
    assert decision is not None and decision.reason is ExitReason.STRATEGY


@pytest.mark.parametrize(
    ("now", "fires"),
    [(dt.time(15, 14, 59), False), (dt.time(15, 15), True), (None, False)],
)
def test_liquidation_at_its_time(now: dt.time | None, fires: bool) -> None:
    rules = ExitRules(liquidation_time=dt.time(15, 15))
    _, decision = run(FRESH, 10_000, rules=rules, now=now)
    assert (decision is not None) is fires
    if fires:
        assert decision.reason is ExitReason.LIQUIDATION and "15:15" in decision.detail


def test_returns_can_include_fees_and_tax() -> None:
    # Net return at 9,720: (9,720 × 0.99785 − 10,000 × 1.00015) / 10,001.5 = −3.024 %.
    rules = ExitRules(include_costs=True)
    assert rules.return_pct(10_000, 9_720) == pytest.approx(-3.0236, abs=1e-4)
    assert rules.return_pct(10_000, 10_000) == pytest.approx(-0.2299, abs=1e-4)
    _, decision = run(FRESH, 9_730, rules=rules)
    assert decision is None  # −2.92 % net
    _, decision = run(FRESH, 9_720, rules=rules)
    assert decision is not None and decision.reason is ExitReason.STOP_LOSS
    # Plain returns would not have sold at 9,720.
    _, decision = run(FRESH, 9_720)
    assert decision is None
    assert position_return_pct(RULES, 10_000, 10_150) == pytest.approx(1.5)


def test_empty_position_never_decides() -> None:
    _, decision = run(PositionState(10_000, 0), 1_000, sell_flagged=True)
    assert decision is None


def test_rules_from_settings() -> None:
    trading = TradingSettings(
        stop_loss_pct=0.0,
        take_profit_pct=0.0,
        profit_protect_trigger_pct=0.0,
        liquidation_enabled=True,
        liquidation_time=dt.time(15, 10),
        exit_return_includes_costs=True,
    )
    rules = ExitRules.from_settings(trading, FeeSettings(commission_rate=0.0002, tax_rate=0.0018))
    assert rules.stop_loss_pct is None and rules.take_profit_pct is None
    assert rules.protect_trigger_pct is None
    assert rules.liquidation_time == dt.time(15, 10)
    assert rules.include_costs and rules.commission_rate == 0.0002 and rules.tax_rate == 0.0018
    defaults = ExitRules.from_settings(TradingSettings())
    assert defaults == ExitRules()


def test_bad_rules_are_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="손절"):
        ExitRules(stop_loss_pct=2.0)
    with pytest.raises(ValueError, match="이익보존 하한"):
        ExitRules(protect_trigger_pct=1.0, protect_floor_pct=1.0)


def test_fill_changes_keep_the_exit_state() -> None:
    state = PositionState(10_000, 10, armed=True, high_since_arm=10_400, protect_active=True)
    moved = state.with_position(10_100, 20)
    assert moved == PositionState(10_100, 20, True, 10_400, True)


def test_rules_and_state_survive_pickling() -> None:
    """The engine snapshots exit state (and may pass rules to processes) with pickle."""
    import pickle

    rules = ExitRules(liquidation_time=dt.time(15, 10), include_costs=True)
    state = PositionState(10_000, 10, armed=True, high_since_arm=10_400, protect_active=True)
    rules2, state2 = pickle.loads(pickle.dumps((rules, state)))
    assert rules2 == rules and state2 == state
    assert run(state2, 10_240, rules=rules2)[1] == run(state, 10_240, rules=rules)[1]


def test_rules_switched_off_mid_position_no_longer_sell() -> None:
    state = PositionState(10_000, 10, armed=True, high_since_arm=10_400, protect_active=True)
    off = ExitRules(trailing_arm_pct=None, protect_trigger_pct=None)
    new, decision = run(state, 10_000, rules=off)  # below both the trail and the protect line
    assert decision is None and new is state
