"""The 전략 dock: watchlist editing with inline errors, strategy switches and generated
parameter editors, and the signals table."""

from __future__ import annotations

import datetime as dt

from PyQt5.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiwoom_terminal.constants import Market, Side
from kiwoom_terminal.objects import StockInfoData
from kiwoom_terminal.scanner.signals import SIGNALS, SignalBook, SignalData, SignalStatus
from kiwoom_terminal.scanner.watchlist import Watchlist
from ui.strategy_dock import SIGNAL_COLUMNS, StrategyDock

STOCKS = [
    StockInfoData("005930", "삼성전자", Market.KOSPI, 71_000),
    StockInfoData("000660", "SK하이닉스", Market.KOSPI, 182_000),
    StockInfoData("035720", "카카오", Market.KOSPI, 41_200),
]
DAY = dt.date(2025, 10, 2)


def make(qtbot: QtBot, book: SignalBook | None = None) -> StrategyDock:
    book = book or SignalBook(None, today=DAY)
    dock = StrategyDock(
        Watchlist(None, clock=lambda: dt.datetime(2025, 10, 2, 9, 0)),
        book.table,
        enabled=["rsi"],
        params={"sma_cross": {"fast": 5, "slow": 20}},
    )
    qtbot.addWidget(dock)
    dock.set_stocks(STOCKS)
    return dock


def test_watchlist_add_remove_with_errors_next_to_the_field(qtbot: QtBot, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    dock = make(qtbot)
    dock.add_edit.setText("삼성전자")
    with qtbot.waitSignal(dock.watchlist_changed) as changed:
        qtbot.keyClick(dock.add_edit, Qt.Key.Key_Return)
    assert changed.args == [["005930"]]
    dock.add_edit.setText("000660 SK하이닉스")  # a completion entry
    assert dock.add_from_edit()
    dock.add_edit.setText("999999")
    with qtbot.assertNotEmitted(dock.watchlist_changed):
        assert not dock.add_from_edit()
    assert "상장 종목 목록에 없는" in dock.watch_error.text()
    assert dock.add_edit.property("invalid") is True
    model = dock.watch_view.model
    qtmodeltester.check(model)
    assert [model.index(r, 1).data() for r in range(model.rowCount())] == ["삼성전자", "SK하이닉스"]
    assert model.index(0, 2).data() == "직접 추가"
    dock.watch_view.table.selectRow(0)
    dock.watch_view.table.setFocus()
    with qtbot.waitSignal(dock.watchlist_changed) as changed:
        qtbot.keyClick(dock.watch_view.table, Qt.Key.Key_Delete)
    assert changed.args == [["000660"]] and dock.watchlist.codes() == ["000660"]
    assert dock.add_edit.property("invalid") is False


def test_sync_asks_the_engine_and_shows_the_result(qtbot: QtBot) -> None:
    dock = make(qtbot)
    dock.request_sync()
    assert "조건식을 고르세요" in dock.watch_error.text()
    dock.set_conditions(["급등주", "거래량 급증"])
    dock.condition_combo.setCurrentText("거래량 급증")
    dock.replace_check.setChecked(True)
    with qtbot.waitSignal(dock.sync_requested) as asked:
        dock.request_sync()
    assert asked.args == ["거래량 급증", True]
    dock.watchlist.sync_from_condition("거래량 급증", ["035720"])  # what the engine does
    dock.refresh_watchlist()
    assert dock.watch_view.model.index(0, 2).data() == "조건식: 거래량 급증"


def test_strategy_switches_and_generated_parameter_editors(qtbot: QtBot) -> None:
    dock = make(qtbot)
    assert dock.enabled() == ["rsi"]
    dock.select_strategy("sma_cross")
    form = dock.param_form
    assert form.edit("fast").text() == "5" and form.edit("slow").text() == "20"
    # a value out of range is explained next to its field and nothing is applied
    form.edit("fast").setText("500")
    with qtbot.assertNotEmitted(dock.params_changed):
        assert not dock.apply_params()
    assert "허용 범위 2–200 밖" in form.error_text("fast")
    assert form.edit("fast").property("invalid") is True
    form.edit("fast").setText("2.5")
    assert not dock.apply_params() and "정수" in form.error_text("fast")
    # each field is fine alone, together they are not
    form.edit("fast").setText("30")
    assert not dock.apply_params()
    assert form.error_text("fast") == "" and "slow(20) 보다 작아야" in form.form_error.text()
    form.edit("fast").setText("7")
    with qtbot.waitSignal(dock.params_changed) as applied:
        qtbot.keyClick(form.edit("fast"), Qt.Key.Key_Return)
    assert applied.args == ["sma_cross", {"fast": 7, "slow": 20}]
    assert dock.params_of("sma_cross") == {"fast": 7, "slow": 20}
    # on/off
    item = dock.strategy_list.currentItem()
    assert item is not None
    with qtbot.waitSignal(dock.strategy_toggled) as toggled:
        item.setCheckState(Qt.CheckState.Checked)
    assert toggled.args == ["sma_cross", True] and dock.enabled() == ["rsi", "sma_cross"]
    with qtbot.assertNotEmitted(dock.strategy_toggled):
        dock.set_enabled("rsi", False)  # the engine's state, shown without echo
    assert dock.enabled() == ["sma_cross"]
    # every strategy gets its own editors
    dock.select_strategy("rsi")
    assert form.edit("oversold").text() == "30"


def test_signals_table_shows_the_book(qtbot: QtBot, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    assert {c.key for c in SIGNAL_COLUMNS} <= set(SIGNALS.column_names)
    book = SignalBook(None, today=DAY)
    dock = make(qtbot, book)
    bar = dt.datetime(2025, 10, 2, 9, 31)
    for side, code in ((Side.BUY, "005930"), (Side.SELL, "000660")):
        book.add(
            SignalData(
                DAY,
                bar,
                bar + dt.timedelta(seconds=65),
                code,
                "삼성전자",
                "sma_cross",
                "sma_cross(fast=5, slow=20)",
                side,
                70_100,
                SignalStatus.ROUTED,
            )
        )
    dock.on_signals_changed([])
    dock.signals_view.flush()
    model = dock.signals_view.model
    qtmodeltester.check(model)
    assert model.rowCount() == 2 and dock.tabs.tabText(2) == "신호 (2)"
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row[:8] == [
        "09:32:05",
        "09:31",
        "005930",
        "삼성전자",
        "sma_cross",
        "매수",
        "70,100",
        "매수 요청",
    ]
    book.set_status(model.key_at(0), SignalStatus.SKIPPED, "이미 보유")
    dock.on_signals_changed([model.key_at(0)])
    dock.signals_view.flush()
    assert model.index(0, 7).data() == "건너뜀" and model.index(0, 8).data() == "이미 보유"
    with qtbot.waitSignal(dock.stock_selected) as selected:
        dock.signals_view.row_activated.emit(model.key_at(1))
    assert selected.args == ["000660"]
