"""Scheduled jobs: the rule grammar and its Korean errors, firing once per day across
restarts, business days, and rules missed while the terminal was closed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kiwoom_terminal.scanner.schedule import (
    JobAction,
    ScheduleError,
    Scheduler,
    parse_rule,
    parse_rules,
)
from kiwoom_terminal.settings import ScheduleSettings

MON = dt.date(2025, 9, 29)  # a normal week: Mon 29 Sep … Fri 3 Oct (개천절, closed)
CHUSEOK_MON = dt.date(2025, 10, 6)


def at(day: dt.date, hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm, ss))


def test_grammar() -> None:
    rule = parse_rule("MON 9:05  buy strategy=sma_cross codes=005930/a00660")
    assert (rule.weekdays, rule.business, rule.at, rule.action) == (
        frozenset({0}),
        False,
        dt.time(9, 5),
        JobAction.BUY,
    )
    assert rule.strategy == "sma_cross" and rule.codes == ("005930", "A00660")
    assert rule.text == "mon 09:05 buy codes=005930/A00660 strategy=sma_cross"
    assert parse_rule("mon+thu 15:10 sell_all").weekdays == frozenset({0, 3})
    assert parse_rule("mon-fri 09:00 auto_on").weekdays == frozenset(range(5))
    assert parse_rule("business 15:10 sell_all source=sma_cross").source == "sma_cross"
    assert parse_rule("daily 00:00 reset").weekdays == frozenset(range(7))
    assert "09:05 매수 (codes=005930)" in parse_rule("mon 09:05 buy codes=005930").label
    # the default settings parse
    assert [r.action for r in parse_rules(ScheduleSettings().rules)] == [JobAction.RESET]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("monday 09:05 buy strategy=sma_cross", "요일 'monday'"),
        ("fri-mon 09:05 sell_all", "앞 요일이 먼저"),
        ("mon 9h05 sell_all", "HH:MM"),
        ("mon 24:00 sell_all", "HH:MM"),
        ("mon 09:05 purchase", "동작 'purchase'"),
        ("mon 09:05 buy", "strategy=전략이름 이나 codes=종목코드"),
        ("mon 09:05 buy strategy=nope", "전략 'nope' 이(가) 없습니다"),
        ("mon 09:05 buy codes=5930", "6자리 종목코드"),
        ("mon 09:05 sell codes=005930", "sell 에는 strategy"),
        ("mon 09:05 reset now=1", "reset 에는 'now' 를 쓸 수 없습니다"),
        ("mon 09:05 buy strategy", "key=value"),
        ("mon 09:05", "'요일 시각 동작'"),
    ],
)
def test_bad_rules_say_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_rule(text)


def test_all_problems_at_once_with_rule_numbers() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_rules(["mon 09:05 buy", "daily 00:00 reset", "daily 0:00 reset", "x 1 y"])
    text = str(err.value)
    assert "규칙 1:" in text and "규칙 3:" in text and "앞의 규칙과 같습니다" in text
    assert "규칙 4:" in text and "규칙 2:" not in text


def test_fires_once_per_day_also_after_a_restart(tmp_path: Path) -> None:
    rules = parse_rules(["mon 09:05 buy strategy=sma_cross", "fri 15:10 sell_all"])
    state = tmp_path / "schedule.json"
    s = Scheduler(rules, state)
    assert s.due(at(MON, 9, 4, 59)) == []
    (job,) = s.due(at(MON, 9, 5, 1))
    assert (job.action, job.scheduled, job.missed) == (JobAction.BUY, at(MON, 9, 5), False)
    assert s.due(at(MON, 9, 5, 30)) == []
    restarted = Scheduler(rules, state)  # the terminal restarts within the grace time
    assert restarted.due(at(MON, 9, 6)) == []
    # the next Monday fires again; Friday 3 Oct is 개천절: trading actions do not fire
    assert restarted.due(at(dt.date(2025, 10, 3), 15, 10, 5)) == []
    (next_week,) = restarted.due(at(dt.date(2025, 10, 13), 9, 5, 2))
    assert next_week.scheduled == at(dt.date(2025, 10, 13), 9, 5)
    assert restarted.next_run(rules[0], at(MON, 10, 0)) == at(dt.date(2025, 10, 13), 9, 5)


def test_missed_rules_do_not_fire_late_except_the_reset(tmp_path: Path) -> None:
    rules = parse_rules(["mon 09:05 buy strategy=sma_cross", "daily 00:00 reset"])
    s = Scheduler(rules, tmp_path / "schedule.json", late_grace_s=120)
    jobs = s.due(at(MON, 9, 7, 30))  # started 2.5 minutes after the buy time
    assert [(j.action, j.missed) for j in jobs] == [
        (JobAction.BUY, True),  # reported once, not run
        (JobAction.RESET, False),  # the day's reset catches up
    ]
    assert s.due(at(MON, 9, 8)) == []
    # closed over the night: at 08:00 the reset of 00:00 still runs, once
    (reset,) = s.due(at(MON + dt.timedelta(days=1), 8, 0))
    assert reset.action is JobAction.RESET and reset.scheduled == at(
        MON + dt.timedelta(days=1), 0, 0
    )
    assert s.due(at(MON + dt.timedelta(days=1), 8, 1)) == []


def test_holidays_skip_trading_actions_but_not_the_reset() -> None:
    rules = parse_rules(
        ["mon 09:05 buy codes=005930", "daily 00:00 reset", "business 09:00 auto_on"]
    )
    s = Scheduler(rules, None)
    assert s.due(at(CHUSEOK_MON, 0, 0, 10))[0].action is JobAction.RESET
    assert s.due(at(CHUSEOK_MON, 9, 5, 10)) == []
    assert s.next_run(rules[2], at(CHUSEOK_MON, 9, 30)) == at(dt.date(2025, 10, 10), 9, 0)


def test_a_damaged_state_file_is_survivable(tmp_path: Path) -> None:
    state = tmp_path / "schedule.json"
    state.write_text("{nonsense", encoding="utf-8")
    s = Scheduler(parse_rules(["daily 00:00 reset"]), state)
    assert [j.action for j in s.due(at(MON, 1, 0))] == [JobAction.RESET]
    assert Scheduler(parse_rules(["daily 00:00 reset"]), state).due(at(MON, 2, 0)) == []
