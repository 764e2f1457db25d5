"""`StrategyLink`: the 전략 dock and the 백테스트 dock inside the main window, wired to the
engine's `StrategyRunner` (`engine.strategy`, docs/ENGINE_API.md).

The docks are added with public Qt calls after the window was built: placed next to 조건식
(전략) and 차트 (백테스트) on a first start, where the saved layout has them afterwards
(`restoreDockWidget`), with a toggle in 보기. What goes where:

* watchlist edits in the dock change the runner's `Watchlist` (saved as `watchlist.json`)
  and the scanner follows; 조건식 동기화 asks the runner (real-time members or a one-shot
  search) and a refusal is shown under the field;
* a strategy switched on / off and applied parameters become `[scanner] strategies` /
  `strategy_params` through `engine.update_setting` (so they are validated, applied and
  saved in settings.ini like any other setting); a refusal switches the box back;
* the signals table reads `engine.table("signals")` and follows `table_changed("signals")`;
  the status line follows the runner's `status_changed`;
* the 백테스트 tab fetches bars through the engine's TR path (`EngineBars`): the server the
  terminal is connected to — in sim mode the running simulator, never a second one — and
  its query limiter;
* runner calls that change state go through `call` (the engine's thread, as in `EngineLink`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from PyQt5.QtCore import QObject, Qt
from PyQt5.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget

from kiwoom_terminal import krx
from kiwoom_terminal.backtest.data import BarSource, CsvSource
from kiwoom_terminal.backtest.server import BarCache, ServerSource, default_cache_dir
from kiwoom_terminal.constants import Mode
from kiwoom_terminal.engine.engine import TradingEngine
from kiwoom_terminal.engine.strategy_runner import SIGNALS_TABLE
from kiwoom_terminal.engine.thread import direct_call
from kiwoom_terminal.scanner.watchlist import WatchlistError
from kiwoom_terminal.settings import AppSettings, SettingsError
from kiwoom_terminal.strategies.base import all_strategies
from ui.backtest_tab import BacktestRequest, BacktestTab, SourceOpener
from ui.main_window import MainWindow
from ui.strategy_dock import StrategyDock

STRATEGY_DOCK = "dock_strategy"
BACKTEST_DOCK = "dock_backtest"


def engine_opener(engine: TradingEngine) -> SourceOpener:
    """Bars for the 백테스트 tab: a CSV file or folder when the form names one, else the
    engine's server through its TR path. Sim mode keeps no disk cache (another simulator
    seed has other history) and takes the simulator's day as "today"."""

    def opener(request: BacktestRequest) -> AbstractContextManager[BarSource]:
        if request.csv_path is not None:
            return contextlib.nullcontext(CsvSource(request.csv_path))
        settings = engine.settings
        mode = settings.general.mode
        sim = mode is Mode.SIM
        cache = (
            BarCache(default_cache_dir()) if settings.backtest.cache_enabled and not sim else None
        )
        today = (lambda: engine.strategy.day) if sim else None
        return contextlib.nullcontext(ServerSource(engine.strategy.bars, mode, cache, today=today))

    return opener


class StrategyLink(QObject):
    """Adds and wires the two docks for the life of the window (module docstring)."""

    def __init__(
        self, window: MainWindow, engine: TradingEngine, call: Callable[..., Any] = direct_call
    ) -> None:
        """`call(fn, *args)` runs a runner call where the engine lives (`EngineLink`)."""
        super().__init__(window)
        self.window = window
        self.engine = engine
        self.call = call
        runner = engine.strategy
        settings = engine.settings
        self.panel = StrategyDock(
            runner.watchlist,
            lambda: engine.table(SIGNALS_TABLE),
            enabled=settings.scanner.strategies,
            params=runner.strategy_params(),
        )
        sim = settings.general.mode is Mode.SIM
        self.backtest = BacktestTab(
            settings,
            opener=engine_opener(engine),
            today=(lambda: engine.strategy.day) if sim else (lambda: krx.now_kst().date()),
        )
        self.strategy_dock = self._add_dock(STRATEGY_DOCK, "전략", self.panel, "dock_conditions")
        self.backtest_dock = self._add_dock(BACKTEST_DOCK, "백테스트", self.backtest, "dock_chart")

        p = self.panel
        p.watchlist_changed.connect(self._on_watchlist_edited)
        p.sync_requested.connect(self.sync)
        p.strategy_toggled.connect(self.toggle_strategy)
        p.params_changed.connect(self.apply_params)
        p.stock_selected.connect(self._on_stock_selected)
        engine.table_changed.connect(self._on_table_changed)
        engine.stocks_loaded.connect(p.set_stocks)
        engine.settings_changed.connect(self._on_settings)
        runner.status_changed.connect(p.show_scanner_status)
        runner.watchlist_changed.connect(lambda _codes: p.refresh_watchlist())
        window.closing.connect(self.shutdown)

        stocks = engine.all_stocks()
        if stocks:
            p.set_stocks(stocks)
        self._show_conditions()
        p.show_scanner_status(runner.scanner.status() if settings.scanner.enabled else None)

    # --- docks -------------------------------------------------------------------------

    def _add_dock(self, name: str, title: str, widget: QWidget, beside: str) -> QDockWidget:
        """A dock for `widget`, tabbed behind `beside` through the window's own `add_dock`
        (saved place, 보기 toggle, part of the built-in layout).

        The panel sits in a scroll area: the backtest form alone asks for 613×531, which
        tabbed into the chart column made the whole window at least 1207×894 — taller
        than a 1366×768 laptop screen. Scrolled, the dock is as small as its neighbours."""
        window = self.window
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        scroll = QScrollArea(dock)
        scroll.setObjectName(f"{name}_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        dock.setWidget(scroll)
        neighbour = window.docks.get(beside)
        area = (
            window.dockWidgetArea(neighbour)
            if neighbour is not None
            else Qt.DockWidgetArea.RightDockWidgetArea
        )
        window.add_dock(dock, area=area, tabify_with=beside if neighbour is not None else None)
        return dock

    def shutdown(self) -> None:
        """The window closes: a running backtest stops waiting for bars and ends."""
        self.engine.strategy.bars.cancel_pending("창을 닫아 백테스트를 멈췄습니다")
        self.backtest.shutdown()

    # --- dock → engine -----------------------------------------------------------------

    def _on_watchlist_edited(self, _codes: list[str]) -> None:
        self.call(self.engine.strategy.on_watchlist_edited)

    def sync(self, condition: str, replace: bool) -> None:
        try:
            self.call(self.engine.strategy.sync_watchlist, condition, replace=replace)
        except WatchlistError as exc:
            self.panel.show_watch_error(str(exc))

    def toggle_strategy(self, name: str, on: bool) -> None:
        try:
            self.call(self.engine.strategy.set_strategy_enabled, name, on)
        except SettingsError as exc:
            self.panel.set_enabled(name, not on)
            self.window.status_bar.show_notice(f"전략을 바꾸지 못했습니다: {exc}")

    def apply_params(self, name: str, params: dict[str, float]) -> None:
        try:
            self.call(self.engine.strategy.set_strategy_params, name, params)
        except SettingsError as exc:
            self.window.status_bar.show_notice(f"파라미터를 저장하지 못했습니다: {exc}")

    def _on_stock_selected(self, code: str) -> None:
        if not self.window.order_entry.select_stock(code):
            self.window.status_bar.show_notice(f"종목 목록에 없는 종목입니다: {code}")

    # --- engine → dock -----------------------------------------------------------------

    def _on_table_changed(self, name: str, keys: list[Any]) -> None:
        if name == SIGNALS_TABLE:
            self.panel.on_signals_changed(keys)
        elif name == "conditions":
            self._show_conditions()

    def _show_conditions(self) -> None:
        names = [str(n) for n in self.engine.table("conditions")["name"].tolist()]
        if names != [
            self.panel.condition_combo.itemText(i)
            for i in range(self.panel.condition_combo.count())
        ]:
            self.panel.set_conditions(names)

    def _on_settings(self, settings: AppSettings) -> None:
        enabled = set(settings.scanner.strategies)
        for name in all_strategies():
            if (name in enabled) != (name in self.panel.enabled()):
                self.panel.set_enabled(name, name in enabled)
        self.backtest.settings = settings  # exit rules and fees of the next run
