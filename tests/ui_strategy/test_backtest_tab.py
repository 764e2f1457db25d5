"""The 백테스트 tab: a run on a worker thread fills the statistics, both curves and the
trade list; bad input is refused with Korean messages; the event loop keeps running while a
backtest waits for its bars."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from PyQt5.QtCore import QTimer
from pytestqt.qtbot import QtBot

from kiwoom_terminal.backtest import BacktestResult, FrameSource
from kiwoom_terminal.backtest.data import BarSource
from kiwoom_terminal.backtest.synthetic import random_walk_bars
from kiwoom_terminal.settings import AppSettings
from ui.backtest_tab import BacktestRequest, BacktestTab

CSV_DIR = Path(__file__).resolve().parent.parent / "data" / "backtest"
TODAY = dt.date(2024, 12, 31)


def frame_opener(frames: dict[str, pd.DataFrame]):  # type: ignore[no-untyped-def]
    @contextlib.contextmanager
    def opener(request: BacktestRequest) -> Iterator[BarSource]:
        yield FrameSource(frames)

    return opener


def make(qtbot: QtBot, **kwargs: object) -> BacktestTab:
    tab = BacktestTab(AppSettings(), today=lambda: TODAY, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(tab)
    tab.resize(1280, 760)
    return tab


def test_a_csv_run_fills_statistics_curves_and_trades(qtbot: QtBot) -> None:
    tab = make(qtbot)
    tab.select_strategy("sma_cross")
    tab.param_form.set_values({"fast": 5, "slow": 20})
    tab.codes_edit.setText("005930, 000660")
    tab.set_dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    tab.source_combo.setCurrentIndex(tab.source_combo.findData("csv"))
    tab.csv_edit.setText(str(CSV_DIR))
    with qtbot.waitSignal(tab.run_finished, timeout=30_000) as done:
        assert tab.run()
        assert tab.running and not tab.run_button.isEnabled()
    result = done.args[0]
    assert isinstance(result, BacktestResult) and result.codes == ("005930", "000660")
    assert len(result.trades) > 0
    labels = [tab.stats_table.item(r, 0).text() for r in range(tab.stats_table.rowCount())]  # type: ignore[union-attr]
    assert "총수익률" in labels and "최대 낙폭" in labels
    values = {
        tab.stats_table.item(r, 0).text(): tab.stats_table.item(r, 1).text()
        for r in range(tab.stats_table.rowCount())
    }  # type: ignore[union-attr]
    assert values["거래 수"] == f"{len(result.trades):,} 회"
    x, y = tab.equity_curve.xData, tab.equity_curve.yData  # the data set, not the drawn part
    assert len(x) == len(result.equity) and y[-1] == pytest.approx(result.equity.iloc[-1])
    dd = tab.drawdown_curve.yData
    assert dd.min() == pytest.approx(result.drawdown.min() * 100) and dd.max() <= 0
    model = tab.trades_view.model
    assert model.rowCount() == len(result.trades)
    reason_col = [c.key for c in model.columns].index("reason")
    shown = {model.index(r, reason_col).data() for r in range(model.rowCount())}
    assert shown <= {"손절", "익절", "트레일링", "이익보존", "전략", "데이터 끝"} and shown
    assert model.index(0, 1).data() == result.trades["entry_time"].iloc[0].strftime("%Y-%m-%d")
    assert tab.equity_axis.tickStrings([0.0], 1.0, 1.0) == [
        result.equity.index[0].strftime("%y-%m-%d")
    ]
    qtbot.waitUntil(lambda: not tab.running)
    assert tab.run_button.isEnabled() and tab.error_label.text() == ""


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda t: t.codes_edit.setText(""), "종목코드를 하나 이상"),
        (lambda t: t.codes_edit.setText("5930"), "5930 은(는) 6자리가 아닙니다"),
        (
            lambda t: t.set_dates(dt.date(2024, 5, 1), dt.date(2024, 1, 1)),
            "시작일 2024-05-01 이 종료일",
        ),
        (lambda t: t.param_form.edit("slow").setText("9999"), "전략 파라미터를 고치세요"),
        (lambda t: t.cash_edit.setText("천만원"), "시작 자금"),
        (
            lambda t: (
                t.source_combo.setCurrentIndex(t.source_combo.findData("csv")),
                t.csv_edit.setText("/nonexistent/bars"),
            ),
            "CSV 경로가 없습니다",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_runs(qtbot: QtBot, setup, message: str) -> None:  # type: ignore[no-untyped-def]
    tab = make(qtbot, opener=frame_opener({}))
    tab.select_strategy("sma_cross")
    tab.codes_edit.setText("005930")
    setup(tab)
    with qtbot.assertNotEmitted(tab.run_started):
        assert not tab.run()
    assert message in tab.error_label.text()


def test_unknown_strategy_and_problems_only_the_run_finds(qtbot: QtBot) -> None:
    bars = random_walk_bars(300, seed=3, interval="day", start="2024-01-02")
    tab = make(qtbot, opener=frame_opener({"005930": bars}))
    tab.select_strategy("nope")
    assert "알 수 없는 전략 'nope'" in tab.error_label.text()
    tab.codes_edit.setText("005930")
    tab.set_dates(dt.date(2020, 1, 1), dt.date(2020, 12, 31))  # dates without bars
    with qtbot.waitSignal(tab.run_failed, timeout=30_000) as failed:
        assert tab.run()
    assert "봉이 하나도 없습니다" in failed.args[0] and failed.args[0] in tab.error_label.text()
    qtbot.waitUntil(lambda: not tab.running)
    tab.codes_edit.setText("000660")  # a code the source does not have
    tab.set_dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    with qtbot.waitSignal(tab.run_failed, timeout=30_000) as failed:
        tab.run()
    assert "000660: 봉 데이터가 없습니다" in failed.args[0]


def test_gappy_minute_data_runs_with_a_warning(qtbot: QtBot) -> None:
    bars = random_walk_bars(2_000, seed=4, interval="1", start="2024-12-02")
    gappy = bars.drop(bars.index[100:160])  # an hour missing inside a day
    tab = make(qtbot, opener=frame_opener({"005930": gappy}))
    tab.set_interval("1")
    tab.select_strategy("sma_cross")
    tab.codes_edit.setText("005930")
    tab.set_dates(dt.date(2024, 12, 1), dt.date(2024, 12, 31))
    with qtbot.waitSignal(tab.run_finished, timeout=30_000):
        tab.run()
    assert "30분 넘게 봉이 빈 곳" in tab.warning_label.text()
    assert tab.equity_axis.daily is False
    assert len(tab.equity_axis.tickStrings([1.0], 1.0, 1.0)[0]) == len("12-02 09:01")


def test_the_event_loop_runs_while_the_backtest_waits(qtbot: QtBot) -> None:
    release = threading.Event()
    bars = random_walk_bars(300, seed=5, interval="day", start="2024-01-02")

    @contextlib.contextmanager
    def slow_opener(request: BacktestRequest) -> Iterator[BarSource]:
        release.wait(30)  # like a server fetch that takes a while
        yield FrameSource({"005930": bars})

    tab = make(qtbot, opener=slow_opener)
    tab.codes_edit.setText("005930")
    ticks: list[int] = []
    timer = QTimer(tab)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    assert tab.run()
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=10_000)  # the GUI thread keeps going
    assert tab.running and not tab.run()  # and a second run waits for the first
    assert "이미 실행 중" in tab.status_label.text()
    with qtbot.waitSignal(tab.run_finished, timeout=30_000):
        release.set()
    timer.stop()
