"""Scheduled jobs (seed 003: "Monday buy, Friday sell all", and a midnight reset).

Rules are lines of text in `[schedule] rules` (comma-separated in settings.ini)::

    mon 09:05 buy strategy=sma_cross
    fri 15:10 sell_all
    daily 00:00 reset

Grammar (words are case-insensitive; one space or more between parts)::

    rule    = days SP time SP action *(SP key "=" value)
    days    = "daily" | "business" | day *("+" day) | day "-" day
    day     = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun"
    time    = HH ":" MM            ; 24-hour market clock (KST)

`daily` is every calendar day, `business` every KRX business day (`krx.is_business_day`),
`mon+thu` those weekdays, `mon-fri` a range. Actions and their arguments:

| action | arguments | the engine does |
|---|---|---|
| `buy` | `strategy=NAME` and/or `codes=A/B/…` | buy the watchlist codes (or `codes`) whose latest completed bar gives NAME's BUY; with `codes` and no strategy, buy those codes. Every buy goes through the engine's buy path (guards, risk checks), `source` = NAME or `schedule` |
| `sell` | `strategy=NAME`, optional `codes=…` | sell holdings (or `codes`) whose latest bar gives NAME's SELL |
| `sell_all` | optional `source=NAME` | sell every holding (only positions opened by NAME — a strategy or condition — when given) |
| `reset` | — | start a new trading day: forget what belongs to earlier days (bought-today list, daily risk counters, signal de-duplication) |
| `auto_on` / `auto_off` | — | switch auto-trading on / off |

Firing: a rule fires at most once per day, also across restarts (the last instance handled
per rule is kept in a small JSON file, written before the job is handed out, so a crash
loses a job rather than repeating it). The trading actions (`buy`, `sell`, `sell_all`,
`auto_on`) only fire on KRX business days, whatever `days` says. A rule whose time passed
more than `late_grace_s` ago without firing — the terminal was closed, or asleep — does not
fire late (it is reported once as missed), except `reset`, which always catches up.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType

from kiwoom_terminal import krx
from kiwoom_terminal.scanner.watchlist import write_json_atomic
from kiwoom_terminal.strategies.base import all_strategies

log = logging.getLogger(__name__)

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STATE_VERSION = 1
EXAMPLE = "예: mon 09:05 buy strategy=sma_cross, fri 15:10 sell_all, daily 00:00 reset"
_CODE = re.compile(r"^[0-9A-Z]{6}$")


class ScheduleError(ValueError):
    """One or more rules could not be read; the message names each rule and what to fix.
    No rule is used until all of them are valid."""


class JobAction(str, Enum):
    """What a rule asks the engine to do. Stable codes (written in rules and logs)."""

    BUY = "buy"
    SELL = "sell"
    SELL_ALL = "sell_all"
    RESET = "reset"
    AUTO_ON = "auto_on"
    AUTO_OFF = "auto_off"


TRADING_ACTIONS = frozenset({JobAction.BUY, JobAction.SELL, JobAction.SELL_ALL, JobAction.AUTO_ON})
_ARGS: dict[JobAction, frozenset[str]] = {
    JobAction.BUY: frozenset({"strategy", "codes"}),
    JobAction.SELL: frozenset({"strategy", "codes"}),
    JobAction.SELL_ALL: frozenset({"source"}),
    JobAction.RESET: frozenset(),
    JobAction.AUTO_ON: frozenset(),
    JobAction.AUTO_OFF: frozenset(),
}
_LABELS = {
    JobAction.BUY: "매수",
    JobAction.SELL: "매도",
    JobAction.SELL_ALL: "전량 매도",
    JobAction.RESET: "일일 초기화",
    JobAction.AUTO_ON: "자동매매 켜기",
    JobAction.AUTO_OFF: "자동매매 끄기",
}


@dataclass(frozen=True)
class ScheduleRule:
    """One parsed rule. `weekdays` are Python weekday numbers (Monday 0); `business` means
    every KRX business day."""

    text: str  # canonical form, also the key its firing state is kept under
    weekdays: frozenset[int]
    business: bool
    at: dt.time
    action: JobAction
    args: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def strategy(self) -> str | None:
        return self.args.get("strategy")

    @property
    def codes(self) -> tuple[str, ...]:
        raw = self.args.get("codes", "")
        return tuple(c for c in raw.split("/") if c)

    @property
    def source(self) -> str | None:
        return self.args.get("source")

    @property
    def label(self) -> str:
        """Korean description for logs and the dock, e.g. "월 09:05 매수 (sma_cross)"."""
        extra = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.text.split(' ')[0]} {self.at:%H:%M} {_LABELS[self.action]}" + (
            f" ({extra})" if extra else ""
        )

    def matches(self, day: dt.date, is_business_day: Callable[[dt.date], bool]) -> bool:
        """True when the rule runs on `day` (trading actions need a business day)."""
        if (self.business or self.action in TRADING_ACTIONS) and not is_business_day(day):
            return False
        return self.business or day.weekday() in self.weekdays


@dataclass(frozen=True)
class Job:
    """A rule's run: `scheduled` is the instance (day and time) it stands for. `missed` jobs
    are only reported (the time passed while the terminal could not run them)."""

    rule: ScheduleRule
    scheduled: dt.datetime
    missed: bool = False

    @property
    def action(self) -> JobAction:
        return self.rule.action


def parse_rule(text: str) -> ScheduleRule:
    """Parse one rule; raises ScheduleError with a Korean message saying what to fix."""
    parts = text.split()
    if len(parts) < 3:
        raise ScheduleError(f"'{text}': '요일 시각 동작' 순서로 적으세요 ({EXAMPLE})")
    days_text, time_text, action_text, *arg_texts = parts
    weekdays, business = _parse_days(days_text.lower(), text)
    at = _parse_time(time_text, text)
    try:
        action = JobAction(action_text.lower())
    except ValueError:
        allowed = ", ".join(a.value for a in JobAction)
        raise ScheduleError(
            f"'{text}': 동작 '{action_text}' 을(를) 모릅니다 (가능: {allowed})"
        ) from None
    args: dict[str, str] = {}
    for arg in arg_texts:
        key, sep, value = arg.partition("=")
        key = key.lower()
        if not sep or not key or not value:
            raise ScheduleError(f"'{text}': '{arg}' 은(는) key=value 형식이 아닙니다")
        if key not in _ARGS[action]:
            allowed = ", ".join(sorted(_ARGS[action])) or "없음"
            raise ScheduleError(
                f"'{text}': {action.value} 에는 '{key}' 를 쓸 수 없습니다 (가능: {allowed})"
            )
        if key in args:
            raise ScheduleError(f"'{text}': '{key}' 가 두 번 있습니다")
        args[key] = value
    _check_args(text, action, args)
    canonical = " ".join(
        [days_text.lower(), at.strftime("%H:%M"), action.value]
        + [f"{k}={args[k]}" for k in sorted(args)]
    )
    return ScheduleRule(
        canonical, weekdays, business, at, action, MappingProxyType(dict(sorted(args.items())))
    )


def parse_rules(texts: Iterable[str]) -> list[ScheduleRule]:
    """Parse every rule; all problems are reported at once (numbered) in one ScheduleError."""
    rules: list[ScheduleRule] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, text in enumerate(texts, start=1):
        if not text.strip():
            continue
        try:
            rule = parse_rule(text.strip())
        except ScheduleError as exc:
            problems.append(f"규칙 {number}: {exc}")
            continue
        if rule.text in seen:
            problems.append(f"규칙 {number}: '{text.strip()}' 은(는) 앞의 규칙과 같습니다")
            continue
        seen.add(rule.text)
        rules.append(rule)
    if problems:
        raise ScheduleError("예약 작업 규칙을 읽을 수 없습니다:\n" + "\n".join(problems))
    return rules


def _parse_days(text: str, rule: str) -> tuple[frozenset[int], bool]:
    if text == "daily":
        return frozenset(range(7)), False
    if text == "business":
        return frozenset(range(5)), True
    bad = ScheduleError(
        f"'{rule}': 요일 '{text}' 을(를) 읽을 수 없습니다 "
        "(daily, business, mon, mon+thu, mon-fri 처럼 적으세요)"
    )
    if "-" in text:
        first, _, last = text.partition("-")
        if first not in DAY_NAMES or last not in DAY_NAMES:
            raise bad
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last)
        if a > b:
            raise ScheduleError(f"'{rule}': 요일 범위 '{text}' 는 앞 요일이 먼저여야 합니다")
        return frozenset(range(a, b + 1)), False
    names = text.split("+")
    if not names or any(n not in DAY_NAMES for n in names):
        raise bad
    return frozenset(DAY_NAMES.index(n) for n in names), False


def _parse_time(text: str, rule: str) -> dt.time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f"'{rule}': 시각 '{text}' 은(는) HH:MM (00:00–23:59) 이어야 합니다")
    return dt.time(int(match[1]), int(match[2]))


def _check_args(rule: str, action: JobAction, args: dict[str, str]) -> None:
    if action in (JobAction.BUY, JobAction.SELL) and not ({"strategy", "codes"} & set(args)):
        raise ScheduleError(
            f"'{rule}': {action.value} 에는 strategy=전략이름 이나 codes=종목코드 가 필요합니다"
        )
    if action is JobAction.SELL and "strategy" not in args:
        raise ScheduleError(f"'{rule}': sell 에는 strategy=전략이름 이 필요합니다")
    if "strategy" in args:
        known = all_strategies()
        if args["strategy"] not in known:
            raise ScheduleError(
                f"'{rule}': 전략 '{args['strategy']}' 이(가) 없습니다 (가능: {', '.join(known)})"
            )
    if "codes" in args:
        codes = [c.upper() for c in args["codes"].split("/") if c]
        bad = [c for c in codes if not _CODE.match(c)]
        if not codes or bad:
            raise ScheduleError(
                f"'{rule}': codes 는 6자리 종목코드를 / 로 이어 적습니다 (예: codes=005930/000660)"
            )
        args["codes"] = "/".join(codes)


class Scheduler:
    """Decides which rules are due at a given time; remembers what fired (JSON file)."""

    def __init__(
        self,
        rules: Iterable[ScheduleRule],
        state_path: Path | None,
        *,
        late_grace_s: float = 120.0,
        is_business_day: Callable[[dt.date], bool] = krx.is_business_day,
    ) -> None:
        self.rules = list(rules)
        self.state_path = state_path
        self.late_grace = dt.timedelta(seconds=late_grace_s)
        self._is_business_day = is_business_day
        self._handled: dict[str, dt.datetime] = _read_state(state_path)

    def due(self, now: dt.datetime) -> list[Job]:
        """Jobs to run now (and missed ones to report), each handed out once. `now` is the
        market clock (naive KST)."""
        jobs: list[Job] = []
        for rule in self.rules:
            instance = self.latest_instance(rule, now)
            if instance is None:
                continue
            handled = self._handled.get(rule.text)
            if handled is not None and handled >= instance:
                continue
            self._handled[rule.text] = instance
            if now - instance <= self.late_grace or rule.action is JobAction.RESET:
                jobs.append(Job(rule, instance))
            elif instance.date() == now.date():
                jobs.append(Job(rule, instance, missed=True))
        if jobs:
            self._save()
        return jobs

    def latest_instance(self, rule: ScheduleRule, now: dt.datetime) -> dt.datetime | None:
        """The rule's most recent run time at or before `now` (within the past week)."""
        for back in range(8):
            day = now.date() - dt.timedelta(days=back)
            at = dt.datetime.combine(day, rule.at)
            if at <= now and rule.matches(day, self._is_business_day):
                return at
        return None

    def next_run(self, rule: ScheduleRule, now: dt.datetime) -> dt.datetime | None:
        """When the rule runs next after `now` (within the next two weeks), for the dock."""
        for ahead in range(15):
            day = now.date() + dt.timedelta(days=ahead)
            at = dt.datetime.combine(day, rule.at)
            if at > now and rule.matches(day, self._is_business_day):
                return at
        return None

    def _save(self) -> None:
        if self.state_path is None:
            return
        # Entries of rules removed from the settings stay a week (re-adding a rule the same
        # day must not fire it twice), then go.
        newest = max(self._handled.values())
        keep = {k: v for k, v in self._handled.items() if newest - v <= dt.timedelta(days=8)}
        payload = {
            "version": STATE_VERSION,
            "handled": {k: v.isoformat(timespec="seconds") for k, v in keep.items()},
        }
        write_json_atomic(self.state_path, payload)


def _read_state(path: Path | None) -> dict[str, dt.datetime]:
    if path is None or not path.exists():
        return {}
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("version") != STATE_VERSION:
            raise ValueError(f"unknown version {payload.get('version')!r}")
        return {str(k): dt.datetime.fromisoformat(v) for k, v in payload["handled"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # Without the state a rule whose time passed less than the grace ago could fire a
        # second time today; say so loudly, but do not stop the terminal.
        log.error("schedule state %s is unreadable (%s); starting without it", path, exc)
        return {}
