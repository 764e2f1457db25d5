"""The 10-level 호가 widget: layout of asks and bids, in-place updates, colours, clicks."""

from __future__ import annotations

from PyQt5.QtCore import Qt

from kiwoom_terminal.constants import Venue
from kiwoom_terminal.objects import OrderBookData
from ui.orderbook import ASK_QTY, BAR_ROLE, BID_QTY, PRICE, RATE, OrderBookWidget
from ui.theme import DOWN, HIGHLIGHT, UP

ASKS = tuple(71_100 + 100 * i for i in range(10))
BIDS = tuple(71_000 - 100 * i for i in range(10))


def book(code: str = "005930", bump: int = 0) -> OrderBookData:
    return OrderBookData(
        code,
        Venue.KRX,
        "093015",
        ASKS,
        tuple(1_000 * (i + 1) + bump for i in range(10)),
        BIDS,
        tuple(500 * (i + 1) for i in range(10)),
        55_000,
        27_500,
    )


def make(qtbot) -> OrderBookWidget:
    widget = OrderBookWidget()
    qtbot.addWidget(widget)
    widget.set_stock("005930", "삼성전자", 71_000)
    widget.set_book(book())
    return widget


def make_shown(qtbot) -> OrderBookWidget:
    """`make`, shown on the (offscreen) screen at a size that fits all 20 levels."""
    widget = make(qtbot)
    widget.resize(420, 640)
    widget.show()
    qtbot.waitExposed(widget)
    widget.flush()
    return widget


def test_model_passes_qtmodeltester(qtbot, qtmodeltester) -> None:
    widget = make(qtbot)
    qtmodeltester.check(widget.model)


def test_asks_above_bids_below_with_bars_and_totals(qtbot) -> None:
    widget = make(qtbot)
    m = widget.model
    prices = [m.index(r, PRICE).data() for r in range(20)]
    assert prices[0] == "72,000"  # level 10 ask at the top
    assert prices[9] == "71,100"  # best ask just above the best bid
    assert prices[10] == "71,000"
    assert prices[19] == "70,100"
    assert m.index(9, ASK_QTY).data() == "1,000"
    assert m.index(9, BID_QTY).data() == ""
    assert m.index(10, BID_QTY).data() == "500"
    assert m.index(0, ASK_QTY).data(BAR_ROLE) == 1.0  # the largest quantity fills its cell
    assert m.index(10, BID_QTY).data(BAR_ROLE) == 0.05
    assert m.index(9, RATE).data() == "+0.14%"
    assert m.index(19, RATE).data() == "-1.27%"
    assert m.index(9, PRICE).data(Qt.ItemDataRole.ForegroundRole).color() == UP
    assert m.index(11, PRICE).data(Qt.ItemDataRole.ForegroundRole).color() == DOWN
    assert "55,000" in widget.ask_total.text()
    assert "27,500" in widget.bid_total.text()
    assert widget.time_label.text() == "09:30:15"


def test_updates_in_place_without_reset_or_new_widgets(qtbot) -> None:
    widget = make(qtbot)
    table, model = widget.table, widget.model
    resets: list[int] = []
    changes: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda tl, br, _r: changes.append((tl.row(), br.row())))
    widget.set_book(book(bump=3))
    widget.set_book(book(bump=7))  # within one refresh period: only the newest is drawn
    assert changes == []
    qtbot.waitUntil(lambda: changes != [])
    assert resets == []
    assert changes == [(0, 19)]  # every row changed (asks; all bars, a new largest): one run
    assert widget.table is table and widget.model is model
    assert model.index(9, ASK_QTY).data() == "1,007"
    widget.set_book(book("000660"))  # another stock's book is ignored
    widget.flush()
    assert model.index(9, ASK_QTY).data() == "1,007"


def test_last_price_is_highlighted(qtbot) -> None:
    widget = make(qtbot)
    widget.set_last_price(71_100)
    widget.flush()
    cell = widget.model.index(9, PRICE)
    assert cell.data(Qt.ItemDataRole.BackgroundRole).color() == HIGHLIGHT
    assert cell.data(Qt.ItemDataRole.FontRole).bold()
    assert widget.model.index(10, PRICE).data(Qt.ItemDataRole.BackgroundRole).color() != HIGHLIGHT


def test_clicking_a_row_emits_its_price(qtbot) -> None:
    widget = make(qtbot)
    widget.resize(320, 520)
    widget.show()
    qtbot.waitExposed(widget)
    rect = widget.table.visualRect(widget.model.index(12, PRICE))
    with qtbot.waitSignal(widget.price_clicked) as clicked:
        qtbot.mouseClick(widget.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert clicked.args == [70_800]


def test_quantity_bars_are_painted_in_the_quantity_cells_only(qtbot) -> None:
    """The bar delegate (Python, run for every cell it covers) sits on the two quantity
    columns: the bars are drawn there, and the price column is left to Qt."""
    from ui.orderbook import ASK_BAR, BID_BAR

    widget = make_shown(qtbot)
    table = widget.table
    image = table.viewport().grab().toImage()

    def colour(row: int, column: int) -> str:
        rect = table.visualRect(widget.model.index(row, column))
        x = rect.left() + max(2, rect.width() // 8)  # left of right-aligned numbers
        return image.pixelColor(x, rect.center().y()).name()

    assert colour(0, ASK_QTY) == ASK_BAR.name()  # level 10 ask: the largest, a full bar
    assert colour(19, BID_QTY) == BID_BAR.name()  # level 10 bid: its side's largest
    assert colour(0, PRICE) != ASK_BAR.name()
    assert table.itemDelegateForColumn(PRICE) is None  # Qt's own delegate paints it
    assert table.itemDelegateForColumn(ASK_QTY) is table.itemDelegateForColumn(BID_QTY)


def test_an_update_repaints_only_the_levels_that_changed(qtbot) -> None:
    """Two bid levels change (the largest quantity stays): only their rows are reported,
    and the screen still shows exactly the current book after several such updates."""
    from PyQt5.QtWidgets import QApplication

    widget = make_shown(qtbot)
    model = widget.model
    changes: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda tl, br, _r: changes.append((tl.row(), br.row())))
    base = book()
    for step in range(1, 4):
        bids = list(base.bid_qtys)
        bids[0] += 10 * step  # best bid (row 10)
        bids[2] += 10 * step  # level 3 (row 12)
        widget.set_book(base._replace(bid_qtys=tuple(bids)))
        widget.flush()
        QApplication.processEvents()  # the posted partial repaint runs
        assert changes == [(10, 10), (12, 12)], changes
        changes.clear()
    assert model.index(10, BID_QTY).data() == "530"
    screen = QApplication.primaryScreen()
    assert screen is not None
    assert screen.grabWindow(int(widget.winId())).toImage() == widget.grab().toImage()
