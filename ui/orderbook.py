"""The 호가 dock: a 10-level order book (asks above, bids below) updated in place.

Fed with `OrderBookData`. Quantities are drawn with bars scaled to the largest level; prices
are red above the base price and blue below; the last trade price is highlighted. Clicking a
row (or Enter on it) emits `price_clicked(price)`, which the 주문 panel takes as its price.
"""

from __future__ import annotations

from typing import Any

from PyQt5.QtCore import QAbstractTableModel, QModelIndex, QObject, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QBrush, QColor, QFont, QPainter
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kiwoom_terminal.constants import Venue
from kiwoom_terminal.objects import OrderBookData
from ui.qt import ALIGN_RIGHT, ITEM_NONE, ITEM_SELECTABLE, hheader, vheader
from ui.table_model import CENTER, KEY_ROLE, LEFT, RIGHT
from ui.theme import DOWN_LIGHT, HIGHLIGHT, UP_LIGHT, direction_colour

LEVELS = 10
ASK_QTY, PRICE, RATE, BID_QTY = range(4)
HEADERS = ("매도잔량", "호가", "등락률", "매수잔량")
BAR_ROLE = int(Qt.ItemDataRole.UserRole) + 10  # fraction 0..1 of the largest quantity
ASK_BAR = QColor("#9dbcf0")
BID_BAR = QColor("#f3a5ae")


class OrderBookModel(QAbstractTableModel):
    """20 fixed rows: asks level 10 … 1, then bids level 1 … 10. Rows never change count;
    each update replaces the values and emits one `dataChanged` over the grid."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._prices = [0] * (2 * LEVELS)
        self._qtys = [0] * (2 * LEVELS)
        self._max_qty = 1
        self.base_price = 0
        self.last_price = 0
        self._bold = QFont()
        self._bold.setBold(True)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2 * LEVELS

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlags:
        if not index.isValid():
            return ITEM_NONE
        return ITEM_SELECTABLE

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        is_ask = row < LEVELS
        price = self._prices[row]
        qty = self._qtys[row]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == PRICE:
                return f"{price:,}" if price else ""
            if col == RATE:
                if not price or not self.base_price:
                    return ""
                return f"{(price - self.base_price) / self.base_price * 100:+.2f}%"
            if (col == ASK_QTY and is_ask) or (col == BID_QTY and not is_ask):
                return f"{qty:,}" if price else ""
            return ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return {ASK_QTY: RIGHT, PRICE: RIGHT, RATE: RIGHT, BID_QTY: LEFT}.get(col, CENTER)
        if role == Qt.ItemDataRole.ForegroundRole and col in (PRICE, RATE) and price:
            if not self.base_price:
                return None
            return QBrush(direction_colour(price - self.base_price))
        if role == Qt.ItemDataRole.BackgroundRole and col in (PRICE, RATE):
            if price and price == self.last_price:
                return QBrush(HIGHLIGHT)
            return QBrush(DOWN_LIGHT if is_ask else UP_LIGHT)
        if role == Qt.ItemDataRole.FontRole and col == PRICE and price == self.last_price:
            return self._bold
        if role == BAR_ROLE:
            if (col == ASK_QTY and is_ask) or (col == BID_QTY and not is_ask):
                return qty / self._max_qty if price and self._max_qty else 0.0
            return 0.0
        if role == KEY_ROLE:
            return price
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
        self._emit_all()

    def set_reference(self, base_price: int, last_price: int) -> None:
        """Base price (colours, rates) and the last trade (highlight)."""
        if (base_price, last_price) != (self.base_price, self.last_price):
            self.base_price = base_price
            self.last_price = last_price
            self._emit_all()

    def price_at(self, row: int) -> int:
        return self._prices[row] if 0 <= row < len(self._prices) else 0

    def _emit_all(self) -> None:
        self.dataChanged.emit(self.index(0, 0), self.index(2 * LEVELS - 1, len(HEADERS) - 1), [])


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
        self.model = OrderBookModel(self)
        self.title = QLabel(self)
        self.title.setObjectName("orderbook_title")
        self.time_label = QLabel(self)
        self.time_label.setProperty("role", "hint")
        self.table = QTableView(self)
        self.table.setObjectName("orderbook_table")
        self.table.setModel(self.model)
        self.table.setItemDelegate(QuantityBarDelegate(self.table))
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
        self.title.setText(f"<b>{name}</b> {code}" if code else "종목을 선택하세요")
        self.model.set_reference(base_price, 0)
        empty = OrderBookData(code, Venue.KRX, "", (), (), (), (), 0, 0)
        self.model.set_book(empty)
        self.ask_total.setText("")
        self.bid_total.setText("")
        self.time_label.setText("")

    def set_book(self, book: OrderBookData) -> None:
        """Show an update; books of other stocks than the shown one are ignored."""
        if self.code and book.code != self.code:
            return
        self.model.set_book(book)
        self.ask_total.setText(f"<span style='color:#1a56c4'>{book.total_ask_qty:,}</span>")
        self.bid_total.setText(f"<span style='color:#d3192c'>{book.total_bid_qty:,}</span>")
        t = book.time
        self.time_label.setText(f"{t[:2]}:{t[2:4]}:{t[4:6]}" if len(t) >= 6 else t)

    def set_last_price(self, last_price: int, base_price: int | None = None) -> None:
        """Highlight the last trade price (and set the base price when given)."""
        self.model.set_reference(base_price or self.model.base_price, last_price)

    def _on_clicked(self, index: QModelIndex) -> None:
        price = self.model.price_at(index.row())
        if price > 0:
            self.price_clicked.emit(price)
