"""The 호가 dock: a 10-level order book (asks above, bids below) updated in place.

Fed with `OrderBookData`. Quantities are drawn with bars scaled to the largest level; prices
are red above the base price and blue below; the last trade price is highlighted. Clicking a
row (or Enter on it) emits `price_clicked(price)`, which the 주문 panel takes as its price.
"""

from __future__ import annotations

from typing import Any

from PyQt5.QtCore import QModelIndex, QObject, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QBrush, QColor, QFont, QPainter
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from kiwoom_terminal.constants import Venue
from kiwoom_terminal.objects import OrderBookData
from ui.live_table import LiveTableView
from ui.qt import ALIGN_RIGHT, ReadOnlyTableModel, hheader, vheader
from ui.table_model import KEY_ROLE, LEFT, RIGHT, row_runs
from ui.theme import DOWN_LIGHT, HIGHLIGHT, UP_LIGHT, direction_colour
from ui.throttle import Throttle

LEVELS = 10
ASK_QTY, PRICE, RATE, BID_QTY = range(4)
HEADERS = ("매도잔량", "호가", "등락률", "매수잔량")
BAR_ROLE = int(Qt.ItemDataRole.UserRole) + 10  # fraction 0..1 of the largest quantity
ASK_BAR = QColor("#9dbcf0")
BID_BAR = QColor("#f3a5ae")
# The book changes with every order at the top levels (tens of times a second for a busy
# stock); it is redrawn at most this often, always with the newest book.
REFRESH_MS = 100

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ALIGNMENTS = {ASK_QTY: RIGHT, PRICE: RIGHT, RATE: RIGHT, BID_QTY: LEFT}
_HIGHLIGHT_BRUSH = QBrush(HIGHLIGHT)
_ASK_BRUSH = QBrush(DOWN_LIGHT)
_BID_BRUSH = QBrush(UP_LIGHT)
_UP_BRUSH = QBrush(direction_colour(1))
_DOWN_BRUSH = QBrush(direction_colour(-1))
_FLAT_BRUSH = QBrush(direction_colour(0))


def _direction_brush(sign: int) -> QBrush:
    return _UP_BRUSH if sign > 0 else _DOWN_BRUSH if sign < 0 else _FLAT_BRUSH


class OrderBookModel(ReadOnlyTableModel):
    """20 fixed rows: asks level 10 … 1, then bids level 1 … 10. Rows never change count;
    each update replaces the values and emits `dataChanged` for the runs of rows whose
    shown values changed (a `LiveTableView` then repaints only those)."""

    headers = HEADERS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._prices = [0] * (2 * LEVELS)
        self._qtys = [0] * (2 * LEVELS)
        self._max_qty = 1
        self.base_price = 0
        self.last_price = 0
        self._bold = QFont()
        self._bold.setBold(True)
        self._rebuild()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2 * LEVELS

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Every painted cell asks for several roles; the answers are built once per update
        # (`_rebuild`), so a repaint is list lookups.
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == _DISPLAY:
            return self._texts[row][col]
        if role == _ALIGNMENT:
            return _ALIGNMENTS[col]
        if role == _FOREGROUND:
            return self._foregrounds[row] if col in (PRICE, RATE) else None
        if role == _BACKGROUND:
            return self._backgrounds[row] if col in (PRICE, RATE) else None
        if role == _FONT:
            return self._bold if col == PRICE and self._is_last[row] else None
        if role == BAR_ROLE:
            return self._bars[row] if col == (ASK_QTY if row < LEVELS else BID_QTY) else 0.0
        if role == KEY_ROLE:
            return self._prices[row]
        return None

    def set_book(self, book: OrderBookData) -> None:
        """Replace the ten levels on each side (missing levels show blank)."""
        asks = list(zip(book.ask_prices, book.ask_qtys))[:LEVELS]
        bids = list(zip(book.bid_prices, book.bid_qtys))[:LEVELS]
        asks += [(0, 0)] * (LEVELS - len(asks))
        bids += [(0, 0)] * (LEVELS - len(bids))
        ordered = list(reversed(asks)) + bids  # highest ask at the top
        self._prices = [p for p, _ in ordered]
        self._qtys = [q if p else 0 for p, q in ordered]
        self._max_qty = max(self._qtys) or 1
        before = self._shown()
        self._rebuild()
        self._emit_changed(before)

    def set_reference(self, base_price: int, last_price: int) -> None:
        """Base price (colours, rates) and the last trade (highlight)."""
        if (base_price, last_price) != (self.base_price, self.last_price):
            self.base_price = base_price
            self.last_price = last_price
            before = self._shown()
            self._rebuild()
            self._emit_changed(before)

    def _rebuild(self) -> None:
        base, last = self.base_price, self.last_price
        texts: list[list[str]] = []
        foregrounds: list[QBrush | None] = []
        backgrounds: list[QBrush] = []
        for row, (price, qty) in enumerate(zip(self._prices, self._qtys)):
            is_ask = row < LEVELS
            quantity = f"{qty:,}" if price else ""
            rate = f"{(price - base) / base * 100:+.2f}%" if price and base else ""
            texts.append(
                [
                    quantity if is_ask else "",
                    f"{price:,}" if price else "",
                    rate,
                    "" if is_ask else quantity,
                ]
            )
            foregrounds.append(_direction_brush(price - base) if price and base else None)
            if price and price == last:
                backgrounds.append(_HIGHLIGHT_BRUSH)
            else:
                backgrounds.append(_ASK_BRUSH if is_ask else _BID_BRUSH)
        self._texts = texts
        self._foregrounds = foregrounds
        self._backgrounds = backgrounds
        self._is_last = [bool(p) and p == last for p in self._prices]
        self._bars = [
            q / self._max_qty if p and self._max_qty else 0.0
            for p, q in zip(self._prices, self._qtys)
        ]

    def price_at(self, row: int) -> int:
        return self._prices[row] if 0 <= row < len(self._prices) else 0

    def _shown(self) -> list[tuple[Any, ...]]:
        """Per row, everything a cell of it shows (texts, colours, highlight, bar)."""
        return list(
            zip(
                map(tuple, self._texts),
                self._foregrounds,
                self._backgrounds,
                self._is_last,
                self._bars,
            )
        )

    def _emit_changed(self, before: list[tuple[Any, ...]]) -> None:
        changed = [row for row, (old, new) in enumerate(zip(before, self._shown())) if old != new]
        last_column = len(HEADERS) - 1
        for first, last in row_runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column), [])


class QuantityBarDelegate(QStyledItemDelegate):
    """Draws a quantity bar behind the number: asks grow leftwards, bids rightwards."""

    def paint(
        self,
        painter: QPainter | None,
        option: QStyleOptionViewItem | None,
        index: QModelIndex,
    ) -> None:
        if painter is None or option is None:
            return
        column = index.column()
        is_ask = index.row() < LEVELS
        if (column == ASK_QTY and is_ask) or (column == BID_QTY and not is_ask):
            fraction = min(1.0, float(index.data(BAR_ROLE) or 0.0))
            rect = QRectF(option.rect)
            painter.fillRect(rect, DOWN_LIGHT if is_ask else UP_LIGHT)
            if fraction > 0:
                inner = rect.adjusted(1, 3, -1, -3)
                width = inner.width() * fraction
                left = inner.right() - width if is_ask else inner.left()
                painter.fillRect(
                    QRectF(left, inner.top(), width, inner.height()),
                    ASK_BAR if is_ask else BID_BAR,
                )
        super().paint(painter, option, index)


class OrderBookWidget(QWidget):
    """The 호가 panel: stock line, 20-row book, totals; emits the clicked price."""

    price_clicked = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orderbook")
        self.code = ""
        self._pending_book: OrderBookData | None = None
        self._pending_last: tuple[int, int | None] | None = None
        self._throttle = Throttle(REFRESH_MS, self.flush, self)
        self.model = OrderBookModel(self)
        self.title = QLabel(self)
        self.title.setObjectName("orderbook_title")
        self.time_label = QLabel(self)
        self.time_label.setProperty("role", "hint")
        self.table = LiveTableView(self)
        self.table.setObjectName("orderbook_table")
        self.table.setModel(self.model)
        # Only on the two quantity columns: a Python paint() runs for every cell it covers,
        # holding the GIL the engine's thread needs; the other cells are Qt's own.
        bars = QuantityBarDelegate(self.table)
        self.table.setItemDelegateForColumn(ASK_QTY, bars)
        self.table.setItemDelegateForColumn(BID_QTY, bars)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(True)
        self.table.setWordWrap(False)
        vertical = vheader(self.table)
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 5)
        header = hheader(self.table)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.clicked.connect(self._on_clicked)
        self.table.activated.connect(self._on_clicked)

        self.ask_total = QLabel(self)
        self.ask_total.setObjectName("ask_total")
        self.bid_total = QLabel(self)
        self.bid_total.setObjectName("bid_total")
        self.ask_total.setAlignment(ALIGN_RIGHT)
        totals = QHBoxLayout()
        totals.setSpacing(4)
        totals.addWidget(self.ask_total, 1)
        totals.addWidget(QLabel("총잔량"), 0, Qt.AlignmentFlag.AlignCenter)
        totals.addWidget(self.bid_total, 1)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(totals)
        self.set_stock("", "")

    def set_stock(self, code: str, name: str, base_price: int = 0) -> None:
        """The stock shown (clears the book until its first update)."""
        self.code = code
        self._pending_book = None
        self._pending_last = None
        self.title.setText(f"<b>{name}</b> {code}" if code else "종목을 선택하세요")
        self.model.set_reference(base_price, 0)
        empty = OrderBookData(code, Venue.KRX, "", (), (), (), (), 0, 0)
        self.model.set_book(empty)
        self.ask_total.setText("")
        self.bid_total.setText("")
        self.time_label.setText("")
        self._throttle.reset()  # the first book of the new stock shows at once

    def set_book(self, book: OrderBookData) -> None:
        """Show an update (at once, or with the next refresh when the last one was less
        than REFRESH_MS ago); books of other stocks than the shown one are ignored."""
        if self.code and book.code != self.code:
            return
        self._pending_book = book
        self._schedule()

    def set_last_price(self, last_price: int, base_price: int | None = None) -> None:
        """Highlight the last trade price (and set the base price when given)."""
        self._pending_last = (last_price, base_price)
        self._schedule()

    def flush(self) -> None:
        """Draw the newest book and last price now."""
        self._throttle.ran()
        book, self._pending_book = self._pending_book, None
        last, self._pending_last = self._pending_last, None
        if last is not None:
            price, base = last
            self.model.set_reference(base or self.model.base_price, price)
        if book is not None:
            self.model.set_book(book)
            self.ask_total.setText(f"<span style='color:#1a56c4'>{book.total_ask_qty:,}</span>")
            self.bid_total.setText(f"<span style='color:#d3192c'>{book.total_bid_qty:,}</span>")
            t = book.time
            self.time_label.setText(f"{t[:2]}:{t[2:4]}:{t[4:6]}" if len(t) >= 6 else t)

    def _schedule(self) -> None:
        self._throttle.request()

    def _on_clicked(self, index: QModelIndex) -> None:
        price = self.model.price_at(index.row())
        if price > 0:
            self.price_clicked.emit(price)
