"""Table docks: cancel from 미체결 by double-click or key, condition roles by check box,
holdings totals, header state save / restore."""

from __future__ import annotations

from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtGui import QPalette
from PyQt5.QtWidgets import QStyle, QStyleOptionViewItem

from kiwoom_terminal.engine import tables
from tests.ui.frames import Tables, condition, holding, open_order
from ui.keymap import KeyMap
from ui.tables import ConditionsView, HoldingsView, KeepColourDelegate, OpenOrdersView
from ui.theme import direction_colour


def shown(qtbot, widget) -> None:
    qtbot.addWidget(widget)
    widget.resize(800, 300)
    widget.show()
    qtbot.waitExposed(widget)


def shown_holdings(qtbot, count: int) -> tuple[HoldingsView, list[dict], Tables]:
    """A shown 잔고 view of `count` equal holdings; change `rows`, `data.set` them and
    `view.model.update_rows(keys)` to drive it."""
    rows = [holding(f"{i:06d}", f"종목{i}", 10, 10_000, 10_000) for i in range(count)]
    data = Tables()
    data.set(tables.HOLDINGS, rows)
    view = HoldingsView(lambda: data(tables.HOLDINGS.name))
    shown(qtbot, view)
    view.apply_change([])
    view.flush()
    return view, rows, data


def test_open_orders_cancel_by_double_click_key_and_all(qtbot, settings) -> None:
    data = Tables()
    data.set(
        tables.OPEN_ORDERS,
        [
            open_order("0000123", "035720", "카카오", "buy", 41_000, 50),
            open_order("0000124", "000660", "SK하이닉스", "sell", 184_000, 20),
        ],
    )
    view = OpenOrdersView(lambda: data(tables.OPEN_ORDERS.name), KeyMap(settings))
    shown(qtbot, view)
    view.apply_change([])
    view.flush()
    cancelled: list[str] = []
    all_cancelled: list[bool] = []
    view.cancel_requested.connect(cancelled.append)
    view.cancel_all_requested.connect(lambda: all_cancelled.append(True))

    rect = view.table.visualRect(view.proxy.index(1, 4))
    # A real double-click is press, release, then the double-click event.
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert cancelled == ["0000124"]

    view.table.setFocus()
    view.table.selectRow(0)
    qtbot.keyClick(view.table, Qt.Key.Key_F9)
    assert cancelled == ["0000124", "0000123"]
    qtbot.keyClick(view.table, Qt.Key.Key_F9, Qt.KeyboardModifier.ShiftModifier)
    assert all_cancelled == [True]

    data.set(tables.OPEN_ORDERS, [])
    view.apply_change([])
    view.flush()
    assert view.cancel_all() is False  # nothing to cancel: nothing asked
    assert all_cancelled == [True]


def test_condition_check_boxes_ask_for_roles(qtbot) -> None:
    data = Tables()
    data.set(tables.CONDITIONS, [condition("0", "상승률 3% 이상", True, False)])
    view = ConditionsView(lambda: data(tables.CONDITIONS.name))
    shown(qtbot, view)
    view.apply_change([])
    view.flush()
    sell = view.proxy.index(0, view.model.column_of("sell_enabled"))
    rect = view.table.visualRect(sell)
    box = QPoint(rect.left() + 9, rect.center().y())  # the check indicator, left in the cell
    with qtbot.waitSignal(view.condition_roles_changed) as asked:
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=box)
    assert asked.args == ["0", True, True]


def test_holdings_totals_follow_the_table(qtbot) -> None:
    data = Tables()
    data.set(
        tables.HOLDINGS,
        [
            holding("005930", "삼성전자", 100, 70_000, 71_000),
            holding("000660", "SK하이닉스", 20, 185_000, 182_000),
        ],
    )
    view = HoldingsView(lambda: data(tables.HOLDINGS.name))
    qtbot.addWidget(view)
    view.apply_change([])
    view.flush()
    assert view.totals() == (10_700_000, 10_740_000, 40_000, 40_000 / 10_700_000 * 100)
    assert "+40,000" in view.totals_label.text() and "+0.37%" in view.totals_label.text()
    assert view.count_label.text() == "2건"


def test_header_state_round_trip_and_reset(qtbot) -> None:
    data = Tables()
    view = HoldingsView(lambda: data(tables.HOLDINGS.name))
    qtbot.addWidget(view)
    header = view.table.horizontalHeader()
    default = header.sectionSize(1)
    header.resizeSection(1, default + 55)
    state = view.header_state()
    other = HoldingsView(lambda: data(tables.HOLDINGS.name))
    qtbot.addWidget(other)
    assert other.restore_header_state(state)
    assert other.table.horizontalHeader().sectionSize(1) == default + 55
    other.reset_header()
    assert other.table.horizontalHeader().sectionSize(1) == default
    from PyQt5.QtCore import QByteArray

    assert not other.restore_header_state(QByteArray(b"garbage"))


def test_space_toggles_the_current_check_box(qtbot) -> None:
    data = Tables()
    data.set(tables.CONDITIONS, [condition("7", "거래량 급증", False, False)])
    view = ConditionsView(lambda: data(tables.CONDITIONS.name))
    shown(qtbot, view)
    view.apply_change([])
    view.flush()
    view.table.setFocus()
    view.table.setCurrentIndex(view.proxy.index(0, view.model.column_of("buy_enabled")))
    with qtbot.waitSignal(view.condition_roles_changed) as asked:
        qtbot.keyClick(view.table, Qt.Key.Key_Space)
    assert asked.args == ["7", True, False]


def test_engine_changes_are_gathered_into_one_refresh(qtbot) -> None:
    data = Tables()
    rows = [
        holding("005930", "삼성전자", 10, 70_000, 71_000),
        holding("000660", "SK하이닉스", 1, 1, 1),
    ]
    data.set(tables.HOLDINGS, rows)
    view = HoldingsView(lambda: data(tables.HOLDINGS.name))
    qtbot.addWidget(view)
    view.apply_change([])
    assert view.model.rowCount() == 2  # the first change after a quiet spell shows at once
    changes: list[tuple[int, int]] = []
    view.model.dataChanged.connect(lambda tl, br, _r: changes.append((tl.row(), br.row())))
    for price in (71_100, 71_200, 71_300):  # three drains within one refresh period
        rows[0] = holding("005930", "삼성전자", 10, 70_000, price)
        data.set(tables.HOLDINGS, rows)
        view.apply_change(["005930"])
    assert changes == []  # gathered: the view refreshed a moment ago
    qtbot.waitUntil(lambda: changes != [])
    assert changes == [(0, 0)]
    assert view.model.index(0, view.model.column_of("price")).data() == "71,300"


def test_selected_cells_keep_their_direction_colour_and_plain_columns_skip_python(qtbot) -> None:
    data = Tables()
    data.set(tables.HOLDINGS, [holding("005930", "삼성전자", 10, 70_000, 71_000, 1.5)])
    view = HoldingsView(lambda: data(tables.HOLDINGS.name))
    shown(qtbot, view)
    view.apply_change([])
    view.flush()
    model = view.model
    table = view.table
    coloured = [i for i, spec in enumerate(model.columns) if spec.colour is not None]
    plain = [i for i, spec in enumerate(model.columns) if spec.colour is None]
    assert coloured and plain
    for column in plain:  # painted by Qt's own delegate: no Python call per cell
        delegate_used = table.itemDelegate(view.proxy.index(0, column))
        assert delegate_used is not None and not isinstance(delegate_used, KeepColourDelegate)
    price = model.column_of("price")
    delegate = table.itemDelegateForColumn(price)
    assert isinstance(delegate, KeepColourDelegate)
    option = QStyleOptionViewItem()
    option.state |= QStyle.StateFlag.State_Selected
    delegate.initStyleOption(option, view.proxy.index(0, price))
    # Up 1.5 % on the day and over its average price: red, also on the selection.
    red = direction_colour(1).name()
    assert option.palette.color(QPalette.ColorRole.HighlightedText).name() == red


def test_a_change_repaints_only_the_cells_it_names(qtbot) -> None:
    """Qt 5 would repaint the whole table for a change of several cells; the live view
    repaints the changed rows' changed columns only (and nothing for rows out of view)."""
    from PyQt5.QtCore import QEvent, QObject, QRect

    view, rows, data = shown_holdings(qtbot, 60)
    table = view.table
    viewport = table.viewport()
    painted: list[QRect] = []

    class Paints(QObject):
        def eventFilter(self, watched, event):  # type: ignore[no-untyped-def]
            if event.type() == QEvent.Type.Paint:
                painted.append(event.region().boundingRect())
            return False

    watcher = Paints()
    viewport.installEventFilter(watcher)
    viewport.update()  # let any paint still due from showing happen first
    qtbot.waitUntil(lambda: bool(painted), timeout=2000)
    painted.clear()

    for i in (2, 3, 4):  # three rows in view, one column
        rows[i] = holding(f"{i:06d}", f"종목{i}", 10, 10_000, 10_500)
    rows[55] = holding("000055", "종목55", 10, 10_000, 10_500)  # scrolled out of view
    data.set(tables.HOLDINGS, rows)
    view.model.update_rows(["000002", "000003", "000004", "000055"])
    qtbot.waitUntil(lambda: bool(painted), timeout=2000)

    model = view.model
    union = QRect()
    for rect in painted:
        union = union.united(rect)
    price = table.visualRect(view.proxy.index(2, model.column_of("price")))
    row_4 = table.visualRect(view.proxy.index(4, 0))
    assert union.top() >= price.top() and union.bottom() <= row_4.bottom() + 1, union  # grid
    assert union.left() >= price.left(), union  # 종목코드 / 종목명 did not change
    assert model.index(3, model.column_of("price")).data() == "10,500"
    viewport.removeEventFilter(watcher)


def test_what_the_screen_shows_after_partial_repaints_is_the_current_table(qtbot) -> None:
    """The live view repaints only changed cells: what stays on screen (the window's
    backing store) must still equal a fresh rendering of the whole table — with a column
    moved by the user, as the rectangles are worked out per column."""
    from PyQt5.QtWidgets import QApplication

    view, rows, data = shown_holdings(qtbot, 60)
    header = view.table.horizontalHeader()
    header.moveSection(header.visualIndex(view.model.column_of("pnl")), 0)
    QApplication.processEvents()  # the posted repaint runs, as on screen
    for step in range(1, 6):
        for i in (1, 3, 4):
            rows[i] = holding(f"{i:06d}", f"종목{i}", 10, 10_000, 10_000 + 100 * step)
        data.set(tables.HOLDINGS, rows)
        view.model.update_rows(["000001", "000003", "000004"])
        QApplication.processEvents()  # the posted partial repaint runs
    screen = QApplication.primaryScreen()
    assert screen is not None
    on_screen = screen.grabWindow(int(view.winId())).toImage()
    fresh = view.grab().toImage()
    assert on_screen.size() == fresh.size()
    assert on_screen == fresh
    assert view.model.row_values("000004")["price"] == 10_500
