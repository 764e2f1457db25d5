"""The 주문 panel: keyboard-first manual order entry that emits `order_requested(OrderRequest)`.

Flow without the mouse (default keys, all configurable in `[keys]`): F2 → type a code or a
Korean name (completion over code and name) → Enter moves to the price, pre-filled with the
last price → ↑/↓ one tick on the KRX grid, PgUp/PgDn five → F4 and type the quantity, or
Ctrl+↑/↓, Alt+1..3 presets, Ctrl+M max by cash → F7 buy / F8 sell → Enter sends → Enter
again in the confirmation (if turned on). Esc clears. Anything invalid shows a Korean message
next to its field and nothing is sent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping

from PyQt5.QtCore import QEvent, QObject, QStringListModel, Qt, pyqtSignal
from PyQt5.QtGui import QKeyEvent
from PyQt5.QtWidgets import (
    QAbstractSpinBox,
    QButtonGroup,
    QComboBox,
    QCompleter,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from kiwoom_terminal import krx
from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.objects import OrderRequest, StockInfoData
from kiwoom_terminal.settings import AppSettings
from ui import labels
from ui.dialogs import OrderConfirmDialog
from ui.keymap import KeyMap
from ui.loader import load_ui
from ui.order_checks import (
    PRICE,
    QUANTITY,
    STOCK,
    MarketContext,
    OrderDraft,
    Problem,
    check_all,
    max_quantity_by_cash,
)
from ui.price_box import GridPriceSpinBox
from ui.qt import popup, repolish
from ui.theme import direction_colour

# Order types offered in the panel: the ones a trader uses by hand.
ORDER_TYPES = (
    OrderType.LIMIT,
    OrderType.MARKET,
    OrderType.CONDITIONAL_LIMIT,
    OrderType.BEST_LIMIT,
    OrderType.PRIORITY_LIMIT,
)


class OrderEntryPanel(QWidget):
    """The 주문 panel. Feed it stocks, prices and the account; it emits order requests."""

    order_requested = pyqtSignal(object)  # OrderRequest
    stock_selected = pyqtSignal(str)  # code, when the stock box resolves to a stock

    def __init__(
        self,
        settings: AppSettings,
        keymap: KeyMap | None = None,
        stocks: Iterable[StockInfoData] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("order_entry")
        self.settings = settings
        self.keymap = keymap or KeyMap(settings)
        self._stocks: dict[str, StockInfoData] = {}
        self._by_name: dict[str, StockInfoData] = {}
        self._stock: StockInfoData | None = None
        self._last_prices: dict[str, int] = {}
        self._base_prices: dict[str, int] = {}
        self._cash: int | None = None
        self._sellable: dict[str, int] = {}
        self._side = Side.BUY
        # The price box holds the base price only because no trade was seen yet: the first
        # last price replaces it, unless the user has touched the price meanwhile.
        self._price_from_base = False
        self.confirm_dialog: OrderConfirmDialog | None = None
        self.last_problems: list[Problem] = []

        self._build()
        self._install_shortcuts()
        self.set_stocks(stocks)
        self.set_order_type(settings.order_entry.default_order_type)
        self.set_side(Side.BUY)

    # --- Construction -------------------------------------------------------------------

    def _build(self) -> None:
        """Fields from order_entry.ui; the rest (completion, order types, presets, signals)
        is set up here."""
        self.ui = load_ui(self, "order_entry.ui")
        self.setObjectName("order_entry")
        ui = self.ui
        self.stock_edit: QLineEdit = ui.stock_edit
        self.stock_name: QLabel = ui.stock_name
        self.stock_error: QLabel = ui.stock_error
        self.buy_button: QPushButton = ui.buy_button
        self.sell_button: QPushButton = ui.sell_button
        self.type_combo: QComboBox = ui.type_combo
        self.price_spin: GridPriceSpinBox = ui.price_spin
        self.price_error: QLabel = ui.price_error
        self.qty_spin: QSpinBox = ui.qty_spin
        self.max_button: QPushButton = ui.max_button
        self.quantity_error: QLabel = ui.quantity_error
        self.account_label: QLabel = ui.account_label
        self.amount_label: QLabel = ui.amount_label
        self.send_button: QPushButton = ui.send_button
        self.message_label: QLabel = ui.message_label

        self._completion_model = QStringListModel(self)
        self.completer = QCompleter(self._completion_model, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setMaxVisibleItems(12)
        self.stock_edit.setCompleter(self.completer)
        self.stock_edit.returnPressed.connect(self._accept_stock_text)
        self.completer.activated[str].connect(self._on_completion)
        self.stock_name.setTextFormat(Qt.TextFormat.RichText)
        self.stock_name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.side_group = QButtonGroup(self)
        for button, side in ((self.buy_button, Side.BUY), (self.sell_button, Side.SELL)):
            self.side_group.addButton(button)
            button.clicked.connect(functools.partial(self._on_side_clicked, side))
        for order_type in ORDER_TYPES:
            self.type_combo.addItem(labels.label(labels.ORDER_TYPE, order_type), order_type)
        self.type_combo.currentIndexChanged.connect(self._on_type_changed)
        self.price_spin.valueChanged.connect(self._update_amount)
        price_line = self.price_spin.lineEdit()
        if price_line is not None:
            price_line.textEdited.connect(self._on_price_typed)
        self.qty_spin.setSingleStep(self.settings.order_entry.quantity_step)
        self.qty_spin.valueChanged.connect(self._update_amount)
        self.max_button.clicked.connect(self.fill_max_quantity)
        presets = self._presets()
        self.preset_buttons: list[QPushButton] = []
        for i in range(3):
            button = getattr(ui, f"preset_button_{i + 1}")
            if i < len(presets):
                quantity = presets[i]
                button.setText(f"{quantity:,}")
                key = self.keymap.display(f"quantity_preset_{i + 1}")
                button.setToolTip(f"수량 {quantity:,}주" + (f" ({key})" if key else ""))
                button.clicked.connect(functools.partial(self.qty_spin.setValue, quantity))
                self.preset_buttons.append(button)
            else:
                button.hide()  # fewer presets configured
        for widget in (
            self.stock_edit,
            self.price_spin,
            self.qty_spin,
            self.type_combo,
            self.buy_button,
            self.sell_button,
            self.send_button,
        ):
            widget.installEventFilter(self)
        self.send_button.clicked.connect(self._on_send_clicked)
        self._update_account_label()

    def _on_side_clicked(self, side: Side, _checked: bool = False) -> None:
        self.set_side(side)

    def _install_shortcuts(self) -> None:
        """Window-wide keys (work wherever the focus is in the window)."""
        actions: dict[str, Callable[[], None]] = {
            "focus_stock": self.focus_stock,
            "focus_price": lambda: _focus(self.price_spin, select=True),
            "focus_quantity": lambda: _focus(self.qty_spin, select=True),
            "toggle_order_type": self.toggle_order_type,
            "side_buy": lambda: self.set_side(Side.BUY),
            "side_sell": lambda: self.set_side(Side.SELL),
            "quantity_up": lambda: self.step_quantity(1),
            "quantity_down": lambda: self.step_quantity(-1),
            "quantity_max": self.fill_max_quantity,
        }
        for i, quantity in enumerate(self._presets()[:3]):
            actions[f"quantity_preset_{i + 1}"] = functools.partial(
                self.qty_spin.setValue, quantity
            )
        self.shortcuts: dict[str, QShortcut] = {}
        for action, slot in actions.items():
            sequence = self.keymap.sequence(action)
            if sequence.isEmpty():
                continue
            shortcut = QShortcut(sequence, self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self.shortcuts[action] = shortcut

    def _presets(self) -> list[int]:
        out = []
        for text in self.settings.order_entry.quantity_presets:
            try:
                value = int(text.replace(",", ""))
            except ValueError:
                continue  # reported by the settings panel; a bad preset just has no button
            if value > 0:
                out.append(value)
        return out[:3]

    # --- Data in ------------------------------------------------------------------------

    def set_stocks(self, stocks: Iterable[StockInfoData]) -> None:
        """The stock list (ka10099) for completion over code and Korean name."""
        self._stocks = {s.code: s for s in stocks}
        self._by_name = {s.name.casefold(): s for s in self._stocks.values()}
        self._completion_model.setStringList([f"{s.code} {s.name}" for s in self._stocks.values()])

    def known_stocks(self) -> int:
        """How many stocks the box can complete (0 until the stock list arrived)."""
        return len(self._stocks)

    def set_last_price(self, code: str, price: int) -> None:
        """Last trade price of a stock (from ticks); used for the prefill and fat-finger check."""
        self.set_last_prices({code: price})

    def set_last_prices(self, prices: Mapping[str, int]) -> None:
        """Last trade prices of some stocks at once (the ticks since the last showing)."""
        self._last_prices.update({code: price for code, price in prices.items() if price > 0})
        stock = self._stock
        price = prices.get(stock.code) if stock is not None else None
        if price is not None and price > 0:
            if self._price_from_base and self.order_type().needs_price:
                self.price_spin.setValue(price)
            self._price_from_base = False
            self._update_stock_label()

    def last_price_of(self, code: str) -> int | None:
        """The last trade price the panel knows for `code` (None before its first tick)."""
        return self._last_prices.get(code)

    def set_base_price(self, code: str, base_price: int) -> None:
        """Base price (기준가) of the day for the ±30 % band; defaults to the last close."""
        if base_price > 0:
            self._base_prices[code] = base_price

    def set_account(self, orderable_cash: int | None, sellable: Mapping[str, int]) -> None:
        """Orderable cash (for max by cash) and sellable quantity per code (for sell max)."""
        self._cash = orderable_cash
        self._sellable = dict(sellable)
        self._update_account_label()

    def set_settings(self, settings: AppSettings) -> None:
        """New settings (limits, confirmation); keys keep their start-up binding."""
        self.settings = settings
        self.qty_spin.setSingleStep(settings.order_entry.quantity_step)

    def show_rejection(self, message: str) -> None:
        """Show why the engine refused the last order (trading hours, connection, risk)."""
        self._show_message(message, error=True)

    # --- Field actions ------------------------------------------------------------------

    def focus_stock(self) -> None:
        _focus(self.stock_edit)
        self.stock_edit.selectAll()

    def select_stock(self, code: str, *, move_focus: bool = True) -> bool:
        """Put a stock in the box as if typed (e.g. from a 잔고 row); False if unknown.
        With `move_focus` the price box takes the focus, ready to trade."""
        stock = self._stocks.get(code)
        if stock is None:
            return False
        self.stock_edit.setText(f"{stock.code} {stock.name}")
        self._choose(stock, move_focus=move_focus)
        return True

    @property
    def stock(self) -> StockInfoData | None:
        """The stock the panel trades (None until one is chosen)."""
        return self._stock

    def set_side(self, side: Side) -> None:
        self._side = side
        (self.buy_button if side == Side.BUY else self.sell_button).setChecked(True)
        self.setProperty("side", side.value)
        self.send_button.setProperty("side", side.value)
        self.send_button.setText(
            f"{labels.label(labels.SIDE, side)} 주문 ({self.keymap.display('send_order') or '클릭'})"
        )
        _repolish(self)
        _repolish(self.send_button)
        self._update_account_label()

    @property
    def side(self) -> Side:
        return self._side

    def set_order_type(self, order_type: OrderType) -> None:
        index = self.type_combo.findData(order_type)
        if index >= 0:
            self.type_combo.setCurrentIndex(index)

    def order_type(self) -> OrderType:
        data = self.type_combo.currentData()
        return data if isinstance(data, OrderType) else OrderType.LIMIT

    def toggle_order_type(self) -> None:
        """지정가 ↔ 시장가 (other types return to 지정가)."""
        self.set_order_type(
            OrderType.MARKET if self.order_type() == OrderType.LIMIT else OrderType.LIMIT
        )

    def set_price(self, price: int) -> None:
        """Fill a price (e.g. clicked in the order book); switches to 지정가 if needed."""
        if not self.order_type().needs_price:
            self.set_order_type(OrderType.LIMIT)
        self._price_from_base = False
        self.price_spin.setValue(price)
        self.price_error.hide()

    def step_price(self, ticks: int) -> None:
        """Move the price `ticks` steps on the grid, from the last price when empty."""
        if not self.order_type().needs_price:
            return
        self._price_from_base = False
        if self.price_spin.value() <= 0:
            start = self._reference_price()
            if start:
                self.price_spin.setValue(start)
            return
        self.price_spin.stepBy(ticks)

    def step_quantity(self, direction: int) -> None:
        step = self.settings.order_entry.quantity_step
        self.qty_spin.setValue(max(0, self.qty_spin.value() + direction * step))

    def fill_max_quantity(self) -> None:
        """Buy: most shares the orderable cash pays for; sell: the sellable quantity."""
        if self._stock is None:
            self._show_field(STOCK, "먼저 종목을 입력하세요")
            return
        limit = self.settings.order_entry.max_quantity
        if self._side == Side.SELL:
            quantity = self._sellable.get(self._stock.code, 0)
            if quantity <= 0:
                self._show_field(QUANTITY, f"{self._stock.name} 매도가능 수량이 없습니다")
                return
            self.qty_spin.setValue(min(quantity, limit) if limit else quantity)
            return
        if self._cash is None:
            self._show_field(QUANTITY, "주문가능금액을 아직 받지 못했습니다. 잠시 후 다시 누르세요")
            return
        price = self._max_buy_price()
        if price <= 0:
            self._show_field(PRICE, "가격을 알 수 없어 최대 수량을 계산할 수 없습니다")
            return
        quantity = max_quantity_by_cash(
            self._cash, price, self.settings.fees.commission_rate, quantity_limit=limit
        )
        if quantity <= 0:
            self._show_field(QUANTITY, f"주문가능금액 {self._cash:,}원으로는 1주도 살 수 없습니다")
            return
        self.qty_spin.setValue(quantity)
        self.quantity_error.hide()

    def clear(self) -> None:
        """Esc: quantity to 0, price back to the last price, messages gone; stock and side stay."""
        self.qty_spin.setValue(0)
        self.price_spin.setValue(self._reference_price() or 0)
        for label in (self.stock_error, self.price_error, self.quantity_error):
            label.hide()
        self._mark_invalid(set())
        self.message_label.clear()
        self.last_problems = []

    # --- Sending ------------------------------------------------------------------------

    def draft(self) -> OrderDraft:
        order_type = self.order_type()
        return OrderDraft(
            code_text=self.stock_edit.text(),
            side=self._side,
            order_type=order_type,
            price=self.price_spin.value() if order_type.needs_price else 0,
            quantity=self.qty_spin.value(),
        )

    def market_context(self) -> MarketContext:
        stock = self._resolve(self.stock_edit.text())
        if stock is None:
            return MarketContext(None)
        return MarketContext(
            stock,
            last_price=self._last_prices.get(stock.code) or None,
            base_price=self._base_prices.get(stock.code) or stock.last_close or None,
        )

    def submit(self) -> OrderRequest | None:
        """Check the fields; when valid, confirm (if enabled) and emit `order_requested`.

        Returns the request that was emitted or is waiting for confirmation; None (and
        messages next to the bad fields) when nothing was sent.
        """
        if self.confirm_dialog is not None and self.confirm_dialog.isVisible():
            return None  # one order at a time: answer the open confirmation first
        draft = self.draft()
        market = self.market_context()
        problems = check_all(draft, market, self.settings)
        self._show_problems(problems)
        if problems or market.stock is None:
            return None
        if self._stock is None or self._stock.code != market.stock.code:
            self._choose(market.stock, move_focus=False)
        request = OrderRequest(
            code=market.stock.code,
            side=draft.side,
            quantity=draft.quantity,
            price=draft.price,
            order_type=draft.order_type,
        )
        if self.settings.order_entry.confirm_orders:
            self._confirm(request, market.stock.name)
        else:
            self._send(request, market.stock.name)
        return request

    def _on_send_clicked(self) -> None:
        self.submit()

    def _confirm(self, request: OrderRequest, name: str) -> None:
        dialog = OrderConfirmDialog(request, name, self)
        dialog.accepted.connect(lambda: self._send(request, name))
        dialog.finished.connect(lambda _result: self._after_confirm())
        self.confirm_dialog = dialog
        dialog.open()
        dialog.confirm_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _after_confirm(self) -> None:
        dialog = self.confirm_dialog
        self.confirm_dialog = None
        if dialog is not None:
            dialog.deleteLater()
        _focus(self.price_spin if self.order_type().needs_price else self.qty_spin)

    def _send(self, request: OrderRequest, name: str) -> None:
        price = f"{request.price:,}원" if request.order_type.needs_price else "시장가"
        # The message goes first: a refusal reported while the signal is handled
        # (`show_rejection`) must replace it, not be replaced by it.
        self._show_message(
            f"{labels.label(labels.SIDE, request.side)} 주문 전송: {name} "
            f"{request.quantity:,}주 {price}",
            error=False,
        )
        self.order_requested.emit(request)

    # --- Keys ---------------------------------------------------------------------------

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if (
            isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and self._handle_key(watched, event)
        ):
            return True
        return super().eventFilter(watched, event)

    def _handle_key(self, watched: QObject | None, event: QKeyEvent) -> bool:
        keymap = self.keymap
        if watched is self.stock_edit and popup(self.completer).isVisible():
            return False  # the completion list owns the arrows and Enter
        if keymap.matches("send_order", event):
            if watched is self.stock_edit:
                # Enter in the stock box picks the stock, never sends (the completer
                # forwards its Enter straight to the box, so returnPressed covers both).
                return False
            self.submit()
            return True
        if keymap.matches("clear_order", event):
            self.clear()
            return True
        if watched is self.qty_spin or watched is self.type_combo:
            return False  # arrows change the quantity / order type there
        for action, ticks in (
            ("price_up", 1),
            ("price_down", -1),
            ("price_page_up", 5),
            ("price_page_down", -5),
        ):
            if keymap.matches(action, event):
                self.step_price(ticks)
                return True
        return False

    def _accept_stock_text(self) -> None:
        """Enter in the stock box: resolve the text and move on to the price."""
        stock = self._resolve(self.stock_edit.text())
        if stock is None:
            self._show_problems(
                [
                    p
                    for p in check_all(self.draft(), MarketContext(None), self.settings)
                    if p.field == STOCK
                ]
            )
            return
        self.stock_edit.setText(f"{stock.code} {stock.name}")
        self._choose(stock)

    def _on_completion(self, text: str) -> None:
        stock = self._resolve(text)
        if stock is not None:
            self._choose(stock)

    # --- Internals ----------------------------------------------------------------------

    def _resolve(self, text: str) -> StockInfoData | None:
        """A code, "code name" (the completion text), an exact name, or a unique part of a name."""
        text = text.strip()
        if not text:
            return None
        head = text.split()[0]
        if head in self._stocks:
            return self._stocks[head]
        folded = text.casefold()
        if folded in self._by_name:
            return self._by_name[folded]
        matches = [s for name, s in self._by_name.items() if folded in name]
        return matches[0] if len(matches) == 1 else None

    def _choose(self, stock: StockInfoData, *, move_focus: bool = True) -> None:
        popup(self.completer).hide()  # Enter with no row picked leaves it open otherwise
        changed = self._stock is None or self._stock.code != stock.code
        self._stock = stock
        self.price_spin.etf = stock.is_etf
        self.stock_error.hide()
        self._mark_invalid(set())
        if changed:
            self.price_spin.setValue(self._reference_price() or 0)
            self._price_from_base = stock.code not in self._last_prices
            self.price_error.hide()
            self.quantity_error.hide()
            self.message_label.clear()
        self._update_stock_label()
        self._update_account_label()
        if move_focus:
            _focus(self.price_spin if self.order_type().needs_price else self.qty_spin)
            self.price_spin.selectAll()
        if changed:
            self.stock_selected.emit(stock.code)

    def _reference_price(self) -> int | None:
        if self._stock is None:
            return None
        return self._last_prices.get(self._stock.code) or self._stock.last_close or None

    def _max_buy_price(self) -> int:
        if self.order_type().needs_price and self.price_spin.value() > 0:
            return self.price_spin.value()
        assert self._stock is not None
        # A market buy reserves cash at the upper limit, as the exchange does.
        base = self._base_prices.get(self._stock.code) or self._stock.last_close
        if base:
            return krx.price_band(base, etf=self._stock.is_etf).upper
        return self._last_prices.get(self._stock.code, 0)

    def _on_price_typed(self, _text: str) -> None:
        self._price_from_base = False

    def _on_type_changed(self, _index: int) -> None:
        priced = self.order_type().needs_price
        self.price_spin.setEnabled(priced)
        if priced and self.price_spin.value() <= 0:
            self.price_spin.setValue(self._reference_price() or 0)
        self.price_error.hide()
        self._update_amount()

    def _update_stock_label(self) -> None:
        stock = self._stock
        if stock is None:
            self.stock_name.clear()
            return
        last = self._last_prices.get(stock.code)
        base = self._base_prices.get(stock.code) or stock.last_close
        market = stock.market.value.upper()
        text = f"<b>{stock.name}</b> <span style='color:#6b7380'>{market}</span>"
        if last:
            colour = direction_colour(last - base if base else 0).name()
            rate = f" ({(last - base) / base * 100:+.2f}%)" if base else ""
            text += f" &nbsp;<span style='color:{colour}'><b>{last:,}</b>{rate}</span>"
        elif base:
            text += f" &nbsp;기준가 {base:,}"
        self.stock_name.setText(text)

    def _update_account_label(self) -> None:
        if self._side == Side.BUY:
            cash = "—" if self._cash is None else f"{self._cash:,}원"
            self.account_label.setText(f"주문가능 {cash}")
        else:
            qty = self._sellable.get(self._stock.code, 0) if self._stock else 0
            self.account_label.setText(f"매도가능 {qty:,}주")

    def _update_amount(self, _value: int = 0) -> None:
        price = self.price_spin.value() if self.order_type().needs_price else 0
        qty = self.qty_spin.value()
        self.amount_label.setText(f"금액 {price * qty:,}원" if price and qty else "")

    def _show_problems(self, problems: list[Problem]) -> None:
        self.last_problems = problems
        by_field: dict[str, list[str]] = {}
        for problem in problems:
            by_field.setdefault(problem.field, []).append(problem.message)
        for field, label in (
            (STOCK, self.stock_error),
            (PRICE, self.price_error),
            (QUANTITY, self.quantity_error),
        ):
            messages = by_field.get(field)
            label.setText("\n".join(messages) if messages else "")
            label.setVisible(bool(messages))
        self._mark_invalid(set(by_field))
        if problems:
            self.message_label.clear()
            first = problems[0].field
            _focus({STOCK: self.stock_edit, PRICE: self.price_spin, QUANTITY: self.qty_spin}[first])

    def _show_field(self, field: str, message: str) -> None:
        self._show_problems([Problem(field, message)])

    def _mark_invalid(self, fields: set[str]) -> None:
        for field, widget in (
            (STOCK, self.stock_edit),
            (PRICE, self.price_spin),
            (QUANTITY, self.qty_spin),
        ):
            invalid = field in fields
            if widget.property("invalid") != invalid:
                widget.setProperty("invalid", invalid)
                _repolish(widget)

    def _show_message(self, text: str, *, error: bool) -> None:
        self.message_label.setProperty("role", "error" if error else "")
        _repolish(self.message_label)
        self.message_label.setText(text)


def _focus(widget: QWidget, *, select: bool = False) -> None:
    """Focus a field; with `select` its text is selected, so typing replaces it."""
    widget.setFocus(Qt.FocusReason.ShortcutFocusReason)
    if select and isinstance(widget, QAbstractSpinBox):
        widget.selectAll()


_repolish = repolish
