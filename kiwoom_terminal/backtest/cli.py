"""`python -m kiwoom_terminal.backtest`: run a strategy over bars and print the statistics.

Examples::

    python -m kiwoom_terminal.backtest --list
    python -m kiwoom_terminal.backtest --strategy sma_cross --codes 005930 \\
        --from 2024-01-01 --to 2024-12-31 --csv bars/
    python -m kiwoom_terminal.backtest --strategy rsi --param period=9 --codes 005930,000660 \\
        --from 2025-01-01 --to 2025-06-30 --interval 5 --mode sim

Settings (exit rules, fees, fill model) come from `--settings FILE`, else the user's
settings.ini when it exists, else the defaults; the options below override `[backtest]`.
Bars come from `--csv` or from the server of `--mode` (sim starts the embedded simulator).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiwoom_terminal.backtest.data import INTERVALS, BacktestError, BarSource, CsvSource
from kiwoom_terminal.backtest.engine import BacktestConfig
from kiwoom_terminal.backtest.runner import BacktestResult, run_backtest
from kiwoom_terminal.constants import Mode
from kiwoom_terminal.settings import AppSettings, SettingsError
from kiwoom_terminal.strategies.base import StrategyError, all_strategies, get_strategy


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kiwoom_terminal.backtest",
        description="전략을 과거 봉 데이터로 백테스트하고 통계를 출력합니다.",
    )
    p.add_argument("--strategy", help="전략 이름 (--list 로 목록 보기)")
    p.add_argument("--codes", help="종목코드, 쉼표로 구분 (예: 005930,000660)")
    p.add_argument("--from", dest="start", help="시작일 YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="종료일 YYYY-MM-DD")
    p.add_argument("--interval", choices=INTERVALS, help="봉 주기: day 또는 분 (기본: [backtest])")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="전략 파라미터"
    )
    p.add_argument("--csv", type=Path, help="CSV 파일 또는 <code>.csv 가 든 폴더에서 봉 읽기")
    p.add_argument(
        "--mode", choices=[m.value for m in Mode], help="봉을 받을 서버 (기본: [general] mode)"
    )
    p.add_argument("--settings", type=Path, help="settings.ini 경로")
    p.add_argument("--cash", type=int, help="종목당 시작 자금 (원)")
    p.add_argument("--amount", type=int, help="1회 매수 금액 (원, 0 = 현금 전부)")
    p.add_argument("--slippage", type=int, help="슬리피지 (틱)")
    p.add_argument("--entry-fill", choices=("next_open", "close"))
    p.add_argument("--exit-fill", choices=("trigger", "next_open", "close"))
    p.add_argument(
        "--no-exit-rules", action="store_true", help="손절·익절·트레일링 없이 전략 신호만"
    )
    p.add_argument("--trades", action="store_true", help="거래를 하나씩 출력")
    p.add_argument("--list", action="store_true", help="전략과 파라미터 목록")
    return p


def parse_date(text: str | None, what: str) -> dt.date | None:
    if text is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise BacktestError(f"{what} '{text}' 은(는) YYYY-MM-DD 형식의 날짜가 아닙니다")


def parse_params(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BacktestError(
                f"--param '{item}' 은(는) NAME=VALUE 형식이어야 합니다 (예: fast=5)"
            )
        out[name.strip()] = value.strip()
    return out


def load_app_settings(path: Path | None) -> AppSettings:
    """The settings file given, else the user's when it exists, else the defaults."""
    if path is not None and not path.exists():
        raise BacktestError(f"설정 파일이 없습니다: {path}")
    from kiwoom_terminal import settings_store  # QtCore, only when a file is read

    target = path or settings_store.default_settings_path()
    if not target.exists():
        return AppSettings()
    return settings_store.load_from_file(target)


def make_config(settings: AppSettings, args: argparse.Namespace) -> BacktestConfig:
    overrides: dict[str, Any] = {
        "initial_cash": args.cash,
        "order_amount": args.amount,
        "slippage_ticks": args.slippage,
        "entry_fill": args.entry_fill,
        "exit_fill": args.exit_fill,
    }
    if args.no_exit_rules:
        overrides["apply_exit_rules"] = False
    changes = {k: v for k, v in overrides.items() if v is not None}
    backtest = dataclasses.replace(settings.backtest, **changes)
    return BacktestConfig.from_settings(dataclasses.replace(settings, backtest=backtest))


def list_strategies() -> list[str]:
    lines = []
    for name, cls in all_strategies().items():
        lines.append(f"{name} — {cls.title}")
        for p in cls.params:
            lines.append(f"    {p.name}={p.default:g}  ({p.minimum:g}–{p.maximum:g}) {p.meaning}")
    return lines


def format_result(result: BacktestResult, *, with_trades: bool) -> list[str]:
    lines = [f"전략: {result.strategy}", f"종목: {', '.join(result.codes)}"]
    lines += [f"경고: {w}" for w in result.warnings]
    if with_trades and len(result.trades):
        lines.append("거래:")
        for row in result.trades.itertuples(index=False):
            lines.append(
                f"  {row.code} {row.entry_time} {row.entry_price:,} → {row.exit_time} "
                f"{row.exit_price:,} × {row.quantity:,}주  손익 {row.pnl:+,}원 "
                f"({row.return_pct:+.2f}%)  {row.reason}: {row.detail}"
            )
    lines += result.stats.lines()
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.list:
            print("\n".join(list_strategies()))
            return 0
        if not args.strategy:
            raise BacktestError("--strategy 를 주세요 (목록은 --list)")
        if not args.codes:
            raise BacktestError("--codes 를 주세요 (예: --codes 005930,000660)")
        strategy = get_strategy(args.strategy, **parse_params(args.param))
        start = parse_date(args.start, "--from")
        end = parse_date(args.end, "--to")
        settings = load_app_settings(args.settings)
        config = make_config(settings, args)
        interval = args.interval or settings.backtest.interval
        codes = args.codes.split(",")
        with contextlib.ExitStack() as stack:
            if args.csv is not None:
                source: BarSource = CsvSource(args.csv)
            else:
                from kiwoom_terminal.backtest.server import server_source

                mode = Mode(args.mode) if args.mode else settings.general.mode
                source = stack.enter_context(
                    server_source(mode, settings, use_cache=settings.backtest.cache_enabled)
                )
            result = run_backtest(
                source, codes, strategy, config, start=start, end=end, interval=interval
            )
    except (BacktestError, StrategyError, SettingsError) as exc:
        print(f"오류: {exc}", file=sys.stderr)
        return 2
    print("\n".join(format_result(result, with_trades=args.trades)))
    return 0
