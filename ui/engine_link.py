"""`EngineLink`: wires a `MainWindow` to a `TradingEngine` (the contract in docs/ENGINE_API.md).

Engine signals go to the window's thin slots; the window's signals (user intent) become
engine calls. Everything that is not plain forwarding lives here, and each piece says why:

* errors the engine raises for bad input (`OrderInputError`, `SettingsError`) are shown next
  to the field or in the status bar — nothing was sent, nothing changed;
* the engine's HHmmss stamps (ticks, fills) are placed on the chart's session day;
* the chart's average / stop-loss / take-profit / trailing-stop lines are derived from the
  tracking row with the same `ExitRules` the engine decides with (decisions/);
* orderable cash and sellable quantities, which have no signal of their own, are refreshed
  when the holdings or open orders change and once a second with the status;
* the `ticks` signal comes after every drain (hundreds a second at 5k ticks/s, each naming
  dozens of stocks); the last prices and the chart's live bar are gathered and shown at most
  every `TICK_VIEW_MS` — the eye needs no more, and the GUI thread's GIL is the engine's;
* with the window, the engine runs in a thread of its own (`kiwoom_terminal/engine/thread.py`):
  every window → engine call goes through `call` (`EngineThread.call`: run in the engine's
  thread, its result or exception back here), and the engine's signals arrive queued. Reads
  stay direct: they touch only what the engine publishes for other threads.

The link holds no trading state: it reads the engine and tells the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from PyQt5.QtCore import QObject

from kiwoom_terminal.constants import Mode, Side
from kiwoom_terminal.decisions.exits import ExitRules
from kiwoom_terminal.engine.engine import TradingEngine
from kiwoom_terminal.engine.errors import OrderInputError
from kiwoom_terminal.engine.status import EngineStatus
from kiwoom_terminal.engine.thread import direct_call
from kiwoom_terminal.krx import KST
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.settings import AppSettings, SettingsError
from ui.main_window import MainWindow
from ui.settings_panel import message_for
from ui.throttle import Throttle

HOLDINGS = "holdings"
TRACKING = "tracking"
OPEN_ORDERS = "open_orders"
FILLS = "fills"

# Last prices and the chart's live bar are shown at most this often (~30 a second).
TICK_VIEW_MS = 33


class EngineLink(QObject):
    """Connects one window to one engine for the life of both (see the module docstring)."""

    def __init__(
        self, window: MainWindow, engine: TradingEngine, call: Callable[..., Any] = direct_call
    ) -> None:
        """`call(fn, *args)` runs an engine call where the engine lives (module docstring)."""
        super().__init__(window)
        self.window = window
        self.engine = engine
        self.call = call
        self._mode: Mode | None = None
        self._rules_for: AppSettings | None = None
        self._rules: ExitRules | None = None
        self._day_bars_pending = ""  # select_stock() already asked for this code's daily bars
        self._last_account: tuple[int | None, dict[str, int]] | None = None
        # Ticks gathered since they were last shown (`on_ticks`): the newest summary per
        # code, and the chart stock's merged (code, last, high, low, cum_volume, time).
        self._pending_ticks: dict[str, Any] = {}
        self._chart_tick: tuple[str, int, int, int, int, str] | None = None
        self.tick_throttle = Throttle(TICK_VIEW_MS, self.show_ticks, self)

        e, w = engine, window
        e.table_changed.connect(self.on_table_changed)
        e.ticks.connect(self.on_ticks)
        e.order_book.connect(w.show_order_book)
        e.bars_loaded.connect(self.on_bars)
        e.fill.connect(self.on_fill)
        # Log lines carry the server's time, as the fills and the status bar clock do.
        w.log_view.set_clock(self.server_now)
        e.log.connect(w.show_log)
        e.notice.connect(w.show_notice)
        e.status_changed.connect(self.on_status)
        e.auto_trade_changed.connect(w.set_auto_trade_state)
        e.settings_changed.connect(w.show_settings)
        e.stocks_loaded.connect(w.set_stocks)

        w.order_requested.connect(self.submit_order)
        w.cancel_requested.connect(self.cancel_order)
        w.cancel_all_requested.connect(self.cancel_all)
        w.emergency_requested.connect(self.emergency)
        w.auto_trade_requested.connect(self.set_auto_trade)
        w.stock_selected.connect(self.select_stock)
        w.bars_requested.connect(self.load_bars)
        w.condition_roles_changed.connect(self.set_condition_roles)
        w.setting_changed.connect(self.update_setting)

        # State that existed before the link (a restored snapshot, a restart).
        stocks = e.all_stocks()
        if stocks:
            w.set_stocks(stocks)
        w.show_settings(e.settings)
        w.set_auto_trade_state(e.status.auto_trade)
        self.on_status(e.status)

    # --- Engine → window ------------------------------------------------------------------

    def on_table_changed(self, name: str, keys: list[Any]) -> None:
        self.window.on_table_changed(name, keys)
        if name in (HOLDINGS, OPEN_ORDERS):
            self.refresh_account()
        if name in (HOLDINGS, TRACKING):
            code = self.window.chart.code
            if code and (not keys or code in keys):
                self.refresh_levels()

    def on_ticks(self, summaries: Mapping[str, Any]) -> None:
        """`ticks(dict)`: last prices for the 주문 / 호가 panels, the live bar of the chart.
        Gathered here (a dict update and one lookup) and shown by `show_ticks` at once when
        the last showing is `TICK_VIEW_MS` old, else when that much time has passed."""
        self._pending_ticks.update(summaries)
        code = self.window.chart.code
        summary = summaries.get(code) if code else None
        if summary is not None:
            high = summary.high or summary.last
            low = summary.low or summary.last
            merged = self._chart_tick
            if merged is not None and merged[0] == code:
                high, low = max(high, merged[2]), min(low, merged[3])
            self._chart_tick = (code, summary.last, high, low, summary.cum_volume, summary.time)
        self.tick_throttle.request()

    def show_ticks(self) -> None:
        """Show the gathered ticks now (the timer; tests)."""
        self.tick_throttle.ran()
        pending, self._pending_ticks = self._pending_ticks, {}
        window = self.window
        if pending:
            window.show_last_prices({code: summary.last for code, summary in pending.items()})
        merged, self._chart_tick = self._chart_tick, None
        chart = window.chart
        if merged is not None and merged[0] == chart.code and len(chart.series):
            _code, last, high, low, cum_volume, hhmmss = merged
            chart.apply_tick(last, high, low, cum_volume, self.session_time(hhmmss))

    def on_bars(self, code: str, interval: str, frame: Any) -> None:
        """`bars_loaded`: the history, then today's fills of that stock as markers."""
        window = self.window
        window.show_bars(code, interval, frame)
        if code == window.chart.code and interval == window.chart.interval:
            window.chart.set_fills(
                [
                    (Side(row["side"]), int(row["price"]), self.session_time(str(row["time"])))
                    for row in self._rows(FILLS)
                    if row["code"] == code
                ]
            )
            self.refresh_levels()

    def on_fill(self, fill: Any) -> None:
        """`fill(OwnFill)`: a marker on the chart when it shows that stock."""
        self.window.show_fill(fill.code, fill.side, fill.price, self.session_time(fill.time))

    def on_status(self, status: EngineStatus) -> None:
        """`status_changed`: every field of the status bar (and the mode in the title)."""
        window = self.window
        bar = window.status_bar
        if status.mode is not self._mode:
            self._mode = status.mode
            window.set_mode(status.mode)
        for worker, state in status.connections.items():
            bar.set_connection(worker, state)
        bar.set_throttling(status.throttling)
        bar.set_clock(status.server_time, status.session_phase)
        bar.set_auto_trade(status.auto_trade)
        bar.set_snapshot_time(status.last_snapshot)
        bar.set_engine_state(status.ready, status.positions, status.day_pnl, status.blocked_codes)
        self.refresh_account()

    # --- Window → engine ------------------------------------------------------------------

    def set_auto_trade(self, on: bool) -> None:
        self.call(self.engine.set_auto_trade, on)

    def submit_order(self, request: OrderRequest) -> None:
        try:
            self.call(self.engine.submit_manual_order, request)
        except OrderInputError as exc:
            self.window.show_order_rejected(str(exc))

    def cancel_order(self, order_no: str) -> None:
        try:
            self.call(self.engine.cancel_order, order_no)
        except OrderInputError as exc:
            self.window.status_bar.show_notice(str(exc))
        else:
            self.window.status_bar.show_notice(f"주문 {order_no} 취소를 보냈습니다", error=False)

    def cancel_all(self) -> None:
        sent = self.call(self.engine.cancel_all_orders)
        if sent:
            self.window.status_bar.show_notice(f"미체결 {sent}건 취소를 보냈습니다", error=False)
        else:
            self.window.status_bar.show_notice("취소할 수 있는 미체결 주문이 없습니다")

    def emergency(self) -> None:
        """The user confirmed the emergency dialog (the engine sends the notice)."""
        self.call(self.engine.emergency_flatten)

    def select_stock(self, code: str) -> None:
        """Subscribe its ticks and order book; the engine also fetches its daily bars."""
        self._day_bars_pending = code
        self.call(self.engine.select_stock, code)
        price = self.engine.last_price(code)
        if price:
            self.window.show_last_price(code, price)
        band = self.engine.price_band(code)
        if band is not None:
            self.window.order_entry.set_base_price(code, band.base)
        self.refresh_levels()

    def load_bars(self, code: str, interval: str) -> None:
        if interval == "day" and code == self._day_bars_pending:
            self._day_bars_pending = ""  # select_stock() asked for them already
            return
        self._day_bars_pending = ""
        self.call(self.engine.load_bars, code, interval)

    def set_condition_roles(self, seq: str, buy: bool, sell: bool) -> None:
        try:
            self.call(self.engine.set_condition_roles, seq, buy, sell)
        except OrderInputError as exc:
            self.window.status_bar.show_notice(str(exc))

    def update_setting(self, key: str, raw: str) -> None:
        """An edit of the settings panel; a refusal is shown next to the field."""
        try:
            self.call(self.engine.update_setting, key, raw)
        except SettingsError as exc:
            self.window.show_setting_error(key, message_for(key, exc), self.engine.settings)

    # --- Derived views --------------------------------------------------------------------

    def refresh_account(self) -> None:
        """Orderable cash and sellable quantities for the 주문 panel (when they changed)."""
        # The engine's rows, not its frame: this runs on every holdings change (~10 a
        # second with prices moving) and a frame build there cost the engine its GIL.
        sellable = {
            str(code): int(row["sellable_qty"]) for code, row in self.engine.table_rows(HOLDINGS)
        }
        cash: int | None = self.engine.orderable_cash() if self.engine.status.ready else None
        account = (cash, sellable)
        if account != self._last_account:
            self._last_account = account
            self.window.show_account(cash, sellable)

    def refresh_levels(self) -> None:
        """The chart's position lines from the tracking row (or the holding) of its stock."""
        chart = self.window.chart
        code = chart.code
        row = self._row(TRACKING, code) if code else None
        if row is None or int(row["quantity"]) <= 0:
            holding = self._row(HOLDINGS, code) if code else None
            chart.set_levels(avg_price=int(holding["avg_price"]) if holding else None)
            return
        rules = self.exit_rules()
        avg = int(row["avg_price"])
        high = int(row["high_since_arm"])
        chart.set_levels(
            avg_price=avg,
            stop_loss=rules.level(avg, rules.stop_loss_pct, upward=False)
            if rules.stop_loss_pct is not None
            else None,
            take_profit=rules.level(avg, rules.take_profit_pct, upward=True)
            if rules.take_profit_pct is not None
            else None,
            trailing_stop=high * (1 - rules.trailing_drop_pct / 100)
            if bool(row["trailing_armed"]) and high > 0
            else None,
        )

    def exit_rules(self) -> ExitRules:
        """The engine's exit rules for its current settings (rebuilt after an edit)."""
        settings = self.engine.settings
        if self._rules is None or self._rules_for is not settings:
            self._rules = ExitRules.from_settings(settings.trading, settings.fees)
            self._rules_for = settings
        return self._rules

    def server_now(self) -> dt.datetime:
        """The server's time (KST): the clock `EngineStatus.server_time` is read from, which
        in sim mode follows the simulator's stamps."""
        return self.engine.ctx.clock.now()

    def session_time(self, hhmmss: str) -> dt.datetime:
        """A server HHmmss stamp as a datetime on the chart's trading day.

        Against Kiwoom that day is today in KST. The embedded simulator keeps its own
        session day (the last business day, e.g. Friday on a Sunday), which its bars carry,
        so in sim mode the day of the newest loaded bar is used.
        """
        day = dt.datetime.now(KST).date()
        series = self.window.chart.series
        if self.engine.settings.general.mode is Mode.SIM and len(series):
            day = series.time_at(len(series) - 1).date()
        try:
            moment = dt.time(int(hhmmss[0:2]), int(hhmmss[2:4]), int(hhmmss[4:6]))
        except (ValueError, IndexError):
            moment = dt.datetime.now(KST).time().replace(microsecond=0, tzinfo=None)
        return dt.datetime.combine(day, moment)

    def _row(self, name: str, key: str) -> dict[str, Any] | None:
        found = self.engine.table_rows(name, [key])
        return dict(found[0][1]) if found else None

    def _rows(self, name: str) -> list[dict[str, Any]]:
        return [dict(row) for _, row in self.engine.table_rows(name)]
