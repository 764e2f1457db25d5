"""Invariants of the exit rules over many random batches (plain seeded loops)."""

from __future__ import annotations

import random

from kiwoom_terminal import krx
from kiwoom_terminal.decisions.exits import ExitRules, PositionState, evaluate_exit

RULE_SETS = [
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
