"""The 백테스트 tab: run a strategy over past bars and look at the result.

On the left a form (strategy and its parameters, codes, date range, bar interval, where the
bars come from, fill model, slippage, cash); on the right the statistics, the equity and
drawdown curves (pyqtgraph) and the trade list with each exit's reason in Korean.

The backtest runs on a worker thread (`BacktestThread`): fetching bars from the server can
take seconds and the event loop must never wait for it. Input is checked before anything
runs and every problem is shown in Korean next to the form; problems only the run can find
(no bars in the range, broken or gappy data, an unknown code on the server) come back as the
backtester's own message. Gaps and partial coverage are warnings shown above the results.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PyQt5.QtCore import QDate, Qt, QThread, QTimer, pyqtSignal
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiwoom_terminal.backtest.data import BacktestError, BarSource, CsvSource
from kiwoom_terminal.backtest.engine import END_OF_DATA, BacktestConfig, FillModel
from kiwoom_terminal.backtest.runner import BacktestResult, run_backtest
from kiwoom_terminal.backtest.server import server_source
from kiwoom_terminal.settings import AppSettings
from kiwoom_terminal.strategies.base import Strategy, StrategyError, all_strategies
from ui import columns as cols
from ui import labels
from ui.qt import hheader, repolish, vheader
from ui.strategy_dock import ParamForm
from ui.table_model import CENTER, RIGHT, ColumnSpec
from ui.tables import TableView
from ui.theme import DOWN, UP

log = logging.getLogger(__name__)

INTERVAL_CHOICES = (
    ("day", "일봉"),
    ("1", "1분봉"),
    ("3", "3분봉"),
    ("5", "5분봉"),
    ("10", "10분봉"),
    ("15", "15분봉"),
    ("30", "30분봉"),
    ("60", "60분봉"),
)
ENTRY_CHOICES = (("next_open", "다음 봉 시가"), ("close", "신호 봉 종가"))
EXIT_CHOICES = (
    ("trigger", "발동 가격 (갭이면 시가)"),
    ("next_open", "다음 봉 시가"),
    ("close", "판단 봉 종가"),
)
_CODE = re.compile(r"^[0-9A-Z]{6}$")


def reason_label(value: Any) -> str:
    """Korean exit reason of a trade row."""
    if value == END_OF_DATA:
        return "데이터 끝"
    return labels.label(labels.EXIT_REASON, value)


TRADE_COLUMNS = (
    ColumnSpec("code", "종목코드", width=62, alignment=CENTER),
    ColumnSpec("entry", "진입 시각", width=108, alignment=CENTER),
    ColumnSpec("entry_price", "진입가", cols.fmt_int, RIGHT, width=70),
    ColumnSpec("exit", "청산 시각", width=108, alignment=CENTER),
    ColumnSpec("exit_price", "청산가", cols.fmt_int, RIGHT, width=70),
    ColumnSpec("quantity", "수량", cols.fmt_int, RIGHT, width=60),
    ColumnSpec("pnl", "손익", cols.fmt_int, RIGHT, cols.sign_of("pnl"), width=84),
    ColumnSpec("return_pct", "수익률", cols.fmt_pct, RIGHT, cols.sign_of("return_pct"), width=64),
    ColumnSpec("fees", "수수료+세금", cols.fmt_int, RIGHT, width=76),
    ColumnSpec("reason", "사유", reason_label, CENTER, width=70),
    ColumnSpec("detail", "상세", width=320),
)


@dataclass(frozen=True)
class BacktestRequest:
    """Everything one run needs, checked by the form."""

    strategy: Strategy
    codes: tuple[str, ...]
    start: dt.date | None
    end: dt.date | None
    interval: str
    config: BacktestConfig
    csv_path: Path | None = None


SourceOpener = Callable[[BacktestRequest], AbstractContextManager[BarSource]]


def default_opener(settings: AppSettings) -> SourceOpener:
    """CSV when the request names a file or folder, else the server of the settings' mode
    (sim starts the embedded simulator) with the disk cache of `[backtest]`."""

    def opener(request: BacktestRequest) -> AbstractContextManager[BarSource]:
        if request.csv_path is not None:
            return contextlib.nullcontext(CsvSource(request.csv_path))
        return server_source(
            settings.general.mode, settings, use_cache=settings.backtest.cache_enabled
        )

    return opener


def run_request(request: BacktestRequest, opener: SourceOpener) -> BacktestResult:
    """Run one request (on any thread); raises BacktestError with a Korean message."""
    with opener(request) as source:
        try:
            return run_backtest(
                source,
                request.codes,
                request.strategy,
                request.config,
                start=request.start,
                end=request.end,
                interval=request.interval,
            )
        except StrategyError as exc:
            raise BacktestError(str(exc)) from exc


class BacktestThread(QThread):
    """Runs one request off the GUI thread; exactly one of the two signals follows."""

    succeeded = pyqtSignal(object)  # BacktestResult
    failed = pyqtSignal(str)  # Korean message

    def __init__(self, request: BacktestRequest, opener: SourceOpener) -> None:
        super().__init__()
        self.request = request
        self.opener = opener

    def run(self) -> None:
        try:
            result = run_request(self.request, self.opener)
        except (BacktestError, StrategyError) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug or an unexpected failure: say it, keep the tab usable
            log.exception("backtest failed")
            self.failed.emit(f"백테스트 중 예기치 않은 오류가 났습니다: {exc}")
        else:
            self.succeeded.emit(result)


class IndexTimeAxis(pg.AxisItem):
    """Bottom axis of bar indexes labelled with the bars' dates or times (no night gaps)."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.times: list[pd.Timestamp] = []
        self.daily = True

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        fmt = "%y-%m-%d" if self.daily else "%m-%d %H:%M"
        out = []
        for v in values:
            i = int(round(v))
            out.append(self.times[i].strftime(fmt) if 0 <= i < len(self.times) else "")
        return out


class WonAxis(pg.AxisItem):
    """Left axis of money in Korean units: 1.95억, 3,500만, 12,000."""

    def __init__(self) -> None:
        super().__init__("left")

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [won_text(v * scale, spacing * scale) for v in values]


def won_text(value: float, spacing: float = 0.0) -> str:
    """Money for an axis: 억 (10⁸) or 만 (10⁴) units with as many decimals as the tick
    spacing needs."""
    for unit, name in ((100_000_000, "억"), (10_000, "만")):
        if abs(value) >= unit:
            step = spacing / unit if spacing else 1.0
            decimals = 0 if step >= 1 else min(4, len(f"{step:.4f}".rstrip("0").split(".")[1]))
            return f"{value / unit:,.{decimals}f}{name}"
    return f"{value:,.0f}"


class BacktestTab(QWidget):
    """Form, worker thread and result views of one backtest at a time."""

    run_started = pyqtSignal()
    run_finished = pyqtSignal(object)  # BacktestResult, after it is shown
    run_failed = pyqtSignal(str)  # Korean message, after it is shown

    def __init__(
        self,
        settings: AppSettings,
        *,
        opener: SourceOpener | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("backtest_tab")
        self.settings = settings
        self.opener = opener or default_opener(settings)
        self._today = today
        self._registry = all_strategies()
        self._thread: BacktestThread | None = None
        self._started_at = 0.0
        self.result: BacktestResult | None = None
        self._trades = _trade_frame(None, daily=True)
        self._elapsed_timer = QTimer(self)
        self._elapsed_timer.setInterval(200)
        self._elapsed_timer.timeout.connect(self._show_elapsed)
        self._build()

    # --- Construction -------------------------------------------------------------------

    def _build(self) -> None:
        form_panel = QWidget(self)
        form_panel.setObjectName("backtest_form")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(4)

        self.strategy_combo = QComboBox(form_panel)
        for name, cls in self._registry.items():
            self.strategy_combo.addItem(f"{cls.title} ({name})", name)
        self.strategy_combo.currentIndexChanged.connect(self._on_strategy_changed)
        form.addRow("전략", self.strategy_combo)
        self.param_form = ParamForm(form_panel)

        self.codes_edit = QLineEdit(form_panel)
        self.codes_edit.setObjectName("bt_codes")
        self.codes_edit.setPlaceholderText("005930, 000660")
        form.addRow("종목코드", self.codes_edit)

        b = self.settings.backtest
        self.interval_combo = QComboBox(form_panel)
        for value, text in INTERVAL_CHOICES:
            self.interval_combo.addItem(text, value)
        self._select(self.interval_combo, b.interval)
        self.interval_combo.currentIndexChanged.connect(self._on_interval_changed)
        form.addRow("봉 주기", self.interval_combo)

        self.start_edit = self._date_edit(form_panel)
        self.end_edit = self._date_edit(form_panel)
        dates = QHBoxLayout()
        dates.addWidget(self.start_edit, 1)
        dates.addWidget(QLabel("~", form_panel))
        dates.addWidget(self.end_edit, 1)
        form.addRow("기간", dates)
        self._on_interval_changed()

        self.source_combo = QComboBox(form_panel)
        self.source_combo.addItem(
            f"서버 ({self.settings.general.mode.value.upper()}, 받은 봉은 저장)", "server"
        )
        self.source_combo.addItem("CSV 파일/폴더", "csv")
        self.source_combo.currentIndexChanged.connect(self._on_source_changed)
        form.addRow("데이터", self.source_combo)
        self.csv_edit = QLineEdit(form_panel)
        self.csv_edit.setObjectName("bt_csv")
        self.csv_edit.setPlaceholderText("<code>.csv 가 든 폴더 또는 CSV 파일")
        self.csv_button = QPushButton("찾기…", form_panel)
        self.csv_button.clicked.connect(self._browse_csv)
        csv_row = QHBoxLayout()
        csv_row.addWidget(self.csv_edit, 1)
        csv_row.addWidget(self.csv_button)
        form.addRow("CSV", csv_row)
        self._on_source_changed()

        self.entry_combo = QComboBox(form_panel)
        for value, text in ENTRY_CHOICES:
            self.entry_combo.addItem(text, value)
        self._select(self.entry_combo, b.entry_fill)
        form.addRow("매수 체결", self.entry_combo)
        self.exit_combo = QComboBox(form_panel)
        for value, text in EXIT_CHOICES:
            self.exit_combo.addItem(text, value)
        self._select(self.exit_combo, b.exit_fill)
        form.addRow("매도 체결", self.exit_combo)
        self.slippage_spin = QSpinBox(form_panel)
        self.slippage_spin.setRange(0, 20)
        self.slippage_spin.setSuffix(" 틱")
        self.slippage_spin.setValue(b.slippage_ticks)
        form.addRow("슬리피지", self.slippage_spin)
        self.cash_edit = QLineEdit(f"{b.initial_cash:,}", form_panel)
        self.cash_edit.setObjectName("bt_cash")
        form.addRow("시작 자금 (원)", self.cash_edit)
        self.amount_edit = QLineEdit(f"{b.order_amount:,}", form_panel)
        self.amount_edit.setObjectName("bt_amount")
        self.amount_edit.setToolTip("0 = 가진 현금 전부")
        form.addRow("1회 매수 (원)", self.amount_edit)
        self.rules_check = QCheckBox("손절·익절·트레일링·이익보존 ([trading] 설정)", form_panel)
        self.rules_check.setChecked(b.apply_exit_rules)
        form.addRow("", self.rules_check)

        self.run_button = QPushButton("실행 (Ctrl+Enter)", form_panel)
        self.run_button.setObjectName("bt_run")
        self.run_button.clicked.connect(self._on_run_clicked)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self._on_run_clicked)
        self.status_label = QLabel(form_panel)
        self.status_label.setProperty("role", "hint")
        self.error_label = QLabel(form_panel)
        self.error_label.setObjectName("bt_error")
        self.error_label.setProperty("role", "error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        left = QVBoxLayout(form_panel)
        left.setContentsMargins(4, 4, 4, 4)
        left.addLayout(form)
        left.addWidget(self.param_form)
        left.addWidget(self.run_button)
        left.addWidget(self.status_label)
        left.addWidget(self.error_label)
        left.addStretch(1)
        form_panel.setMinimumWidth(300)
        form_panel.setMaximumWidth(420)

        self.stats_table = QTableWidget(0, 2, self)
        self.stats_table.setObjectName("bt_stats")
        self.stats_table.setHorizontalHeaderLabels(["항목", "값"])
        self.stats_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        vheader(self.stats_table).setVisible(False)
        vheader(self.stats_table).setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.stats_table.setAlternatingRowColors(True)
        hheader(self.stats_table).setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hheader(self.stats_table).setStretchLastSection(True)
        self.stats_table.setMinimumWidth(230)
        self.warning_label = QLabel(self)
        self.warning_label.setObjectName("bt_warnings")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #b45f06;")
        stats_panel = QWidget(self)
        stats_layout = QVBoxLayout(stats_panel)
        stats_layout.setContentsMargins(0, 0, 0, 0)
        stats_layout.addWidget(self.stats_table, 1)
        stats_layout.addWidget(self.warning_label)

        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.setObjectName("bt_plots")
        self.plots.setBackground("#ffffff")
        self.equity_axis = IndexTimeAxis()
        self.drawdown_axis = IndexTimeAxis()
        self.equity_plot = self.plots.addPlot(
            row=0, col=0, axisItems={"bottom": self.equity_axis, "left": WonAxis()}
        )
        self.drawdown_plot = self.plots.addPlot(
            row=1, col=0, axisItems={"bottom": self.drawdown_axis}
        )
        self.equity_plot.setTitle("자산 (원)", color="#2b3440", size="9pt")
        self.drawdown_plot.setTitle("낙폭 (%)", color="#2b3440", size="9pt")
        self.drawdown_plot.setXLink(self.equity_plot)
        for plot in (self.equity_plot, self.drawdown_plot):
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setMouseEnabled(x=True, y=False)
        self.plots.ci.layout.setRowStretchFactor(0, 3)
        self.plots.ci.layout.setRowStretchFactor(1, 1)
        self.equity_curve = self.equity_plot.plot(pen=pg.mkPen(UP, width=1.5))
        self.drawdown_curve = self.drawdown_plot.plot(
            pen=pg.mkPen(DOWN, width=1), fillLevel=0, brush=pg.mkBrush(26, 86, 196, 70)
        )

        self.trades_view = TableView(
            "bt_trades",
            TRADE_COLUMNS,
            lambda: self._trades,
            filter_placeholder="검색: 종목, 사유 …",
            refresh_ms=0,
        )

        top = QSplitter(Qt.Orientation.Horizontal, self)
        top.setObjectName("backtest_stats_plots")  # the window saves named splitters
        top.addWidget(stats_panel)
        top.addWidget(self.plots)
        top.setStretchFactor(1, 1)
        top.setSizes([260, 640])
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.setObjectName("backtest_results_trades")
        right.addWidget(top)
        right.addWidget(self.trades_view)
        right.setSizes([380, 260])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(form_panel)
        layout.addWidget(right, 1)
        self._on_strategy_changed()

    def _date_edit(self, parent: QWidget) -> QDateEdit:
        edit = QDateEdit(parent)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    @staticmethod
    def _select(combo: QComboBox, value: object) -> None:
        index = combo.findData(value)
        if index >= 0:
            combo.setCurrentIndex(index)

    # --- Form ---------------------------------------------------------------------------

    def select_strategy(self, name: str) -> None:
        """Pick a strategy by name; an unknown one is a form error (nothing else changes)."""
        index = self.strategy_combo.findData(name)
        if index < 0:
            self._show_error(f"알 수 없는 전략 '{name}' (가능: {', '.join(self._registry)})")
            return
        self.strategy_combo.setCurrentIndex(index)

    def set_dates(self, start: dt.date, end: dt.date) -> None:
        self.start_edit.setDate(QDate(start.year, start.month, start.day))
        self.end_edit.setDate(QDate(end.year, end.month, end.day))

    def set_interval(self, interval: str) -> None:
        self._select(self.interval_combo, interval)

    def _on_strategy_changed(self) -> None:
        name = self.strategy_combo.currentData()
        if name in self._registry:
            self.param_form.set_strategy(self._registry[name])

    def _on_interval_changed(self) -> None:
        end = self._today()
        daily = self.interval_combo.currentData() == "day"
        start = end - (dt.timedelta(days=365) if daily else dt.timedelta(days=7))
        self.set_dates(start, end)

    def _on_source_changed(self) -> None:
        csv = self.source_combo.currentData() == "csv"
        self.csv_edit.setEnabled(csv)
        self.csv_button.setEnabled(csv)

    def _browse_csv(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "CSV 폴더 고르기", self.csv_edit.text())
        if path:
            self.csv_edit.setText(path)

    def build_request(self) -> BacktestRequest | None:
        """The request the form describes, or None with every problem shown."""
        problems: list[str] = []
        strategy = self.param_form.strategy()
        if strategy is None:
            problems.append("전략 파라미터를 고치세요 (빨간 칸의 설명을 보세요)")
        codes = tuple(
            dict.fromkeys(c.upper() for c in re.split(r"[\s,]+", self.codes_edit.text()) if c)
        )
        bad = [c for c in codes if not _CODE.match(c)]
        if not codes:
            problems.append("종목코드를 하나 이상 적으세요 (예: 005930, 000660)")
        elif bad:
            problems.append(f"종목코드 {', '.join(bad)} 은(는) 6자리가 아닙니다 (예: 005930)")
        self._mark(self.codes_edit, not codes or bool(bad))
        start = _py_date(self.start_edit.date())
        end = _py_date(self.end_edit.date())
        if start > end:
            problems.append(f"시작일 {start} 이 종료일 {end} 보다 늦습니다")
        self._mark(self.start_edit, start > end)
        cash = _amount(self.cash_edit.text())
        if cash is None or cash <= 0:
            problems.append("시작 자금은 0보다 큰 원 단위 정수여야 합니다")
        self._mark(self.cash_edit, cash is None or cash <= 0)
        amount = _amount(self.amount_edit.text())
        if amount is None or amount < 0:
            problems.append("1회 매수 금액은 0 이상의 원 단위 정수여야 합니다 (0 = 현금 전부)")
        self._mark(self.amount_edit, amount is None or amount < 0)
        csv_path: Path | None = None
        if self.source_combo.currentData() == "csv":
            text = self.csv_edit.text().strip()
            csv_path = Path(text) if text else None
            missing = csv_path is None or not csv_path.exists()
            if missing:
                problems.append(f"CSV 경로가 없습니다: '{text}' (파일이나 폴더를 고르세요)")
            self._mark(self.csv_edit, missing)
        config: BacktestConfig | None = None
        if not problems:
            try:
                config = self._config(int(cash or 0), int(amount or 0))
            except BacktestError as exc:
                problems.append(str(exc))
        if problems or strategy is None or config is None:
            self._show_error("\n".join(problems))
            return None
        self._show_error("")
        return BacktestRequest(
            strategy=strategy,
            codes=codes,
            start=start,
            end=end,
            interval=str(self.interval_combo.currentData()),
            config=config,
            csv_path=csv_path,
        )

    def _config(self, cash: int, amount: int) -> BacktestConfig:
        """`[backtest]` with the form's choices; the exit rules come from `[trading]`."""
        settings = self.settings
        rules_on = self.rules_check.isChecked()
        if rules_on != settings.backtest.apply_exit_rules:
            backtest = dataclasses.replace(settings.backtest, apply_exit_rules=rules_on)
            settings = dataclasses.replace(settings, backtest=backtest)
        return dataclasses.replace(
            BacktestConfig.from_settings(settings),
            initial_cash=cash,
            order_amount=amount,
            fill=FillModel(
                str(self.entry_combo.currentData()),
                str(self.exit_combo.currentData()),
                self.slippage_spin.value(),
            ),
        )

    def _mark(self, widget: QWidget, invalid: bool) -> None:
        widget.setProperty("invalid", invalid)
        repolish(widget)

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)

    # --- Running ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _on_run_clicked(self) -> None:
        self.run()

    def run(self) -> bool:
        """Check the form and start the run on a worker thread; False when the form has
        problems or a run is already going."""
        if self._thread is not None:
            self.status_label.setText("이미 실행 중입니다")
            return False
        request = self.build_request()
        if request is None:
            return False
        thread = BacktestThread(request, self.opener)
        thread.succeeded.connect(self._on_succeeded)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        self._started_at = time.monotonic()
        self.run_button.setEnabled(False)
        self.status_label.setText("실행 중…")
        self._elapsed_timer.start()
        thread.start()
        self.run_started.emit()
        return True

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Block until the worker thread ends (shutdown and tests only)."""
        return self._thread.wait(timeout_ms) if self._thread is not None else True

    def _show_elapsed(self) -> None:
        self.status_label.setText(f"실행 중… {time.monotonic() - self._started_at:.1f}초")

    def _on_succeeded(self, result: BacktestResult) -> None:
        elapsed = time.monotonic() - self._started_at
        self.show_result(result)
        self.status_label.setText(
            f"완료: {result.strategy}, 거래 {len(result.trades):,}회, {elapsed:.2f}초"
        )
        self.run_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._show_error(message)
        self.status_label.setText("실패")
        self.run_failed.emit(message)

    def _on_thread_finished(self) -> None:
        self._elapsed_timer.stop()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.deleteLater()
        self.run_button.setEnabled(True)

    # --- Results ------------------------------------------------------------------------

    def show_result(self, result: BacktestResult) -> None:
        """Statistics, curves and trades of a finished run."""
        self.result = result
        rows = result.stats.rows()
        self.stats_table.setRowCount(len(rows))
        for i, (name, label, text) in enumerate(rows):
            label_item = QTableWidgetItem(label)
            label_item.setToolTip(name)
            value_item = QTableWidgetItem(text)
            value_item.setTextAlignment(
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            )
            if name in ("total_return_pct", "annual_return_pct", "avg_trade_pct"):
                value = getattr(result.stats, name)
                if value == value and value != 0:  # not NaN
                    value_item.setForeground(UP if value > 0 else DOWN)
            self.stats_table.setItem(i, 0, label_item)
            self.stats_table.setItem(i, 1, value_item)
        self.warning_label.setText("\n".join(f"⚠ {w}" for w in result.warnings[:8]))
        daily = "day" in str(self.interval_combo.currentData())
        times = list(pd.DatetimeIndex(result.equity.index))
        for axis in (self.equity_axis, self.drawdown_axis):
            axis.times = times
            axis.daily = daily
        x = np.arange(len(result.equity), dtype="float64")
        self.equity_curve.setData(x, result.equity.to_numpy(dtype="float64"))
        self.drawdown_curve.setData(x, result.drawdown.to_numpy(dtype="float64") * 100)
        self.equity_plot.enableAutoRange()
        self.drawdown_plot.enableAutoRange()
        self._trades = _trade_frame(result.trades, daily=daily)
        self.trades_view.apply_change([])

    def shutdown(self) -> None:
        """Wait for a running backtest before the window closes (it cannot be interrupted;
        its result is dropped)."""
        if self._thread is not None:
            self._thread.succeeded.disconnect()
            self._thread.failed.disconnect()
            self._thread.wait()


def _trade_frame(trades: pd.DataFrame | None, *, daily: bool) -> pd.DataFrame:
    """The trades as the table shows them, keyed by their number."""
    shown = [c.key for c in TRADE_COLUMNS]
    if trades is None or trades.empty:
        frame = pd.DataFrame({k: pd.Series(dtype=object) for k in ["trade_id", *shown]})
        return frame.set_index("trade_id", drop=False)
    fmt = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M"
    frame = pd.DataFrame(
        {
            "trade_id": [str(i) for i in range(len(trades))],
            "code": trades["code"].to_numpy(),
            "entry": pd.DatetimeIndex(trades["entry_time"]).strftime(fmt),
            "entry_price": trades["entry_price"].to_numpy(),
            "exit": pd.DatetimeIndex(trades["exit_time"]).strftime(fmt),
            "exit_price": trades["exit_price"].to_numpy(),
            "quantity": trades["quantity"].to_numpy(),
            "pnl": trades["pnl"].to_numpy(),
            "return_pct": trades["return_pct"].to_numpy(),
            "fees": trades["fees"].to_numpy(),
            "reason": trades["reason"].to_numpy(),
            "detail": trades["detail"].to_numpy(),
        }
    )
    return frame.set_index("trade_id", drop=False)


def _py_date(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


def _amount(text: str) -> int | None:
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned.lstrip("-").isdigit():
        return None
    return int(cleaned)
