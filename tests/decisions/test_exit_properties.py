"""Invariants of the exit rules over many random batches (plain seeded loops)."""

from __future__ import annotations

import math
import random

from kiwoom_terminal import krx
from kiwoom_terminal.decisions.exits import ExitRules, PositionState, evaluate_exit, quiet_band

RULE_SETS = [
    ExitRules(trailing_arm_pct=None, protect_trigger_pct=None),
    ExitRules(),
    ExitRules(stop_loss_pct=-1.0, take_profit_pct=2.0, trailing_arm_pct=0.5, trailing_drop_pct=0.4),
    ExitRules(trailing_arm_pct=0.0, protect_trigger_pct=1.0, protect_floor_pct=0.2),
    ExitRules(include_costs=True, protect_hysteresis_pct=0.0),
]


def _walk(rng: random.Random, start: int, n: int) -> list[int]:
    prices, p = [], start
    for _ in range(n):
        p = max(1_000, krx.step_price(p, rng.choice((-2, -1, -1, 0, 1, 1, 2))))
        prices.append(p)
    return prices


def test_no_sell_between_stop_and_take_when_trailing_and_protect_cannot_act() -> None:
    rng = random.Random(7)
    for rules in RULE_SETS:
        for _ in range(300):
            avg = krx.round_to_tick(rng.randint(2_000, 200_000))
            stop = rules.level(avg, rules.stop_loss_pct, upward=False)
            ceiling = min(
                rules.level(avg, rules.take_profit_pct, upward=True),
                rules.level(avg, rules.trailing_arm_pct, upward=True),
                rules.level(avg, rules.protect_trigger_pct, upward=True),
            )
            state = PositionState(avg, 10)
            for _ in range(20):
                low = krx.round_up_to_tick(int(stop) + 1)
                high = krx.round_down_to_tick(int(ceiling - 1)) if ceiling > low + 1 else low
                if high <= low:
                    break
                a, b = sorted(rng.randint(low, high) for _ in range(2))
                a, b = krx.round_up_to_tick(a), krx.round_down_to_tick(b)
                if b < a:
                    continue
                last = rng.choice((a, b))
                state, decision = evaluate_exit(state, last, b, a, rules)
                assert decision is None, (rules, avg, a, b, last)
                assert not state.armed and not state.protect_active


def test_state_only_moves_one_way() -> None:
    rng = random.Random(11)
    for rules in RULE_SETS:
        for _ in range(100):
            prices = _walk(rng, 10_000, 60)
            state = PositionState(10_000, 5)
            for i in range(0, 60, 3):
                batch = prices[i : i + 3]
                new, decision = evaluate_exit(state, batch[-1], max(batch), min(batch), rules)
                assert new.high_since_arm >= state.high_since_arm
                assert new.armed >= state.armed and new.protect_active >= state.protect_active
                if new.armed:
                    assert (
                        new.high_since_arm >= max(batch)
                        or new.high_since_arm == state.high_since_arm
                    )
                state = new
                if decision is not None:
                    break


def test_a_coalesced_batch_only_sells_when_tick_by_tick_would_have_sold() -> None:
    """Soundness of the batch order: the same ticks one at a time must also sell."""
    rng = random.Random(3)
    checked = 0
    for rules in RULE_SETS:
        for _ in range(400):
            ticks = _walk(rng, 10_000, rng.randint(40, 80))
            state = PositionState(10_000, 5)
            pos = 0
            while pos < len(ticks):
                size = rng.randint(1, 8)
                batch = ticks[pos : pos + size]
                one_by_one, tick_decision = state, None
                for t in batch:
                    one_by_one, tick_decision = evaluate_exit(one_by_one, t, t, t, rules)
                    if tick_decision is not None:
                        break
                state, decision = evaluate_exit(state, batch[-1], max(batch), min(batch), rules)
                if decision is not None:
                    assert tick_decision is not None, (rules, batch, state)
                    checked += 1
                    break
                pos += size
    assert checked > 200


def test_quiet_band_batches_change_nothing() -> None:
    """Inside `quiet_band`, `evaluate_exit` must return the same state and no decision;
    at or beyond either edge it must act (change the state or decide)."""
    rng = random.Random(21)
    inside = edges = 0
    for rules in RULE_SETS:
        for _ in range(2_000):
            avg = krx.round_to_tick(rng.randint(5_000, 100_000))
            armed = rng.random() < 0.5
            state = PositionState(
                avg,
                rng.randint(1, 50),
                armed,
                krx.round_to_tick(int(avg * rng.uniform(1.0, 1.08))) if armed else 0,
                rng.random() < 0.3 and rules.protect_trigger_pct is not None,
            )
            floor, ceiling = quiet_band(state, rules)
            lowest = krx.round_up_to_tick(max(1, math.floor(floor) + 1))  # first grid > floor
            top = min(ceiling, avg * 3.0)
            highest = krx.round_down_to_tick(math.ceil(top) - 1)  # last grid < ceiling
            if lowest <= highest:
                a, b = sorted(rng.randint(lowest, highest) for _ in range(2))
                a, b = krx.round_up_to_tick(a), krx.round_down_to_tick(b)
                if a <= b:
                    new, decision = evaluate_exit(state, rng.choice((a, b)), b, a, rules)
                    assert new is state and decision is None, (rules, state, floor, ceiling, a, b)
                    inside += 1
            if floor >= 1:
                below = krx.round_down_to_tick(math.floor(floor))
                new, decision = evaluate_exit(state, below, below, below, rules)
                assert decision is not None or new is not state, (rules, state, floor, below)
                edges += 1
            if ceiling < avg * 3:
                above = krx.round_up_to_tick(math.ceil(ceiling))
                new, decision = evaluate_exit(state, above, above, above, rules)
                assert decision is not None or new is not state, (rules, state, ceiling, above)
                edges += 1
    assert inside > 2_000 and edges > 4_000
