"""The keyed DataFrame table model: row inserts/removals, targeted dataChanged, sorting,
filtering, formatting and colours; every engine table passes qtmodeltester."""

from __future__ import annotations

import pandas as pd
import pytest
from PyQt5.QtCore import Qt

from kiwoom_terminal.engine import tables
from tests.ui.frames import condition, fill, frame, holding, open_order, tracking
from ui import columns as cols
from ui.table_model import KEY_ROLE, SORT_ROLE, DataFrameTableModel, TableProxyModel
from ui.theme import DOWN, UP

SAMPLE_ROWS = {
    tables.HOLDINGS: [
        holding("005930", "삼성전자", 100, 70_000, 71_000),
        holding("000660", "SK하이닉스", 20, 185_000, 182_000),
    ],
    tables.TRACKING: [tracking("005930", "삼성전자", 71_000, 70_000)],
    tables.OPEN_ORDERS: [
        open_order("0000123", "035720", "카카오", "buy", 41_000, 50),
        open_order("0000124", "000660", "SK하이닉스", "sell", 184_000, 20),
    ],
    tables.FILLS: [fill("0000100-1", "005930", "buy", 70_000, 100)],
    tables.CONDITIONS: [condition("0", "상승률 3% 이상", True, False)],
}


class Source:
    def __init__(self, f: pd.DataFrame) -> None:
        self.frame = f

    def __call__(self) -> pd.DataFrame:
        return self.frame


@pytest.mark.parametrize("schema", tables.ALL_TABLES, ids=lambda s: s.name)
def test_every_table_model_passes_qtmodeltester(qtmodeltester, schema) -> None:
    source = Source(schema.empty())
    model = DataFrameTableModel(cols.COLUMNS[schema.name], source)
    qtmodeltester.check(model)
    source.frame = frame(schema, SAMPLE_ROWS[schema])
    model.sync_rows()
    assert model.rowCount() == len(SAMPLE_ROWS[schema])
    qtmodeltester.check(model)
    proxy = TableProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(2, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(proxy)


def test_every_spec_column_exists_in_its_engine_table() -> None:
    for schema in tables.ALL_TABLES:
        for spec in cols.COLUMNS[schema.name]:
            assert spec.key in schema.column_names, (schema.name, spec.key)


def _model(rows: list[dict]) -> tuple[DataFrameTableModel, Source]:
    source = Source(frame(tables.HOLDINGS, rows))
    model = DataFrameTableModel(cols.HOLDINGS_COLUMNS, source)
    model.sync_rows()
    return model, source


def test_sync_inserts_and_removes_rows_without_a_reset(qtbot) -> None:
    a = holding("005930", "삼성전자", 10, 70_000, 71_000)
    b = holding("000660", "SK하이닉스", 5, 180_000, 182_000)
    c = holding("035720", "카카오", 7, 40_000, 41_000)
    model, source = _model([a, b])
    resets: list[int] = []
    inserted: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))

    source.frame = frame(tables.HOLDINGS, [b, c])  # 005930 sold, 035720 bought
    model.sync_rows()

    assert removed == [(0, 0)]
    assert inserted == [(1, 1)]
    assert resets == []
    assert model.keys() == ["000660", "035720"]
    assert model.row_of("035720") == 1
    assert model.index(1, 1).data() == "카카오"


def test_update_emits_one_data_changed_per_span_with_only_changed_columns(qtbot) -> None:
    rows = [holding(f"00000{i}", f"종목{i}", 10, 10_000, 10_000) for i in range(5)]
    model, source = _model(rows)
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda tl, br, _roles: changes.append((tl.row(), br.row(), tl.column(), br.column()))
    )
    changed = [dict(r) for r in rows]
    for i in (1, 2, 4):  # rows 1-2 contiguous, row 4 alone
        changed[i]["price"] = 10_500
    source.frame = frame(tables.HOLDINGS, changed)
    model.update_rows(["000001", "000002", "000004", "000000"])

    price_col = model.column_of("price")
    assert changes == [(1, 2, price_col, price_col), (4, 4, price_col, price_col)]
    assert model.index(1, price_col).data() == "10,500"
    # Nothing changed -> nothing emitted.
    changes.clear()
    model.update_rows(["000001"])
    assert changes == []


def test_update_of_an_unknown_key_resyncs_rows(qtbot) -> None:
    model, source = _model([holding("005930", "삼성전자", 10, 70_000, 71_000)])
    source.frame = frame(
        tables.HOLDINGS,
        [
            holding("005930", "삼성전자", 10, 70_000, 71_000),
            holding("000660", "SK하이닉스", 1, 1, 1),
        ],
    )
    model.apply_change(["000660"])
    assert model.keys() == ["005930", "000660"]


def test_proxy_sorts_numbers_by_value_and_filters_by_text(qtbot) -> None:
    model, _ = _model(
        [
            holding("000001", "가나", 9_000, 1_000, 1_000),
            holding("000002", "다라", 10_000, 1_000, 1_000),
            holding("000003", "삼성전자", 800, 1_000, 1_000),
        ]
    )
    proxy = TableProxyModel()
    proxy.setSourceModel(model)
    qty = model.column_of("quantity")
    proxy.sort(qty, Qt.SortOrder.DescendingOrder)
    shown = [proxy.index(r, qty).data() for r in range(proxy.rowCount())]
    assert shown == ["10,000", "9,000", "800"]  # text sort would put "9,000" first
    assert proxy.index(0, qty).data(SORT_ROLE) == 10_000
    proxy.setFilterFixedString("삼성")
    assert proxy.rowCount() == 1
    assert proxy.index(0, 0).data(KEY_ROLE) == "000003"


def test_formatting_and_korean_hts_colours(qtbot) -> None:
    model, _ = _model(
        [
            holding("005930", "삼성전자", 1_234, 70_000, 71_000, change_rate=-0.56),
            holding("000660", "SK하이닉스", 20, 185_000, 182_000, change_rate=1.11),
        ]
    )

    def cell(row: int, key: str, role=Qt.ItemDataRole.DisplayRole):
        return model.index(row, model.column_of(key)).data(role)

    assert cell(0, "quantity") == "1,234"
    assert cell(0, "return_rate") == "+1.43%"
    assert cell(1, "return_rate") == "-1.62%"
    assert cell(0, "pnl") == "1,234,000"
    fg = Qt.ItemDataRole.ForegroundRole
    assert cell(0, "return_rate", fg).color() == UP
    assert cell(1, "pnl", fg).color() == DOWN
    # 현재가 by its change from the previous close (as 주문 / 호가 and any Korean HTS show
    # it), not against the average price: 수익률 and 평가손익 say that
    assert cell(0, "price", fg).color() == DOWN and cell(0, "return_rate", fg).color() == UP
    assert cell(1, "price", fg).color() == UP and cell(1, "pnl", fg).color() == DOWN
    assert cell(0, "change_rate") == "-0.56%" and cell(1, "change_rate", fg).color() == UP
    assert cell(0, "name", fg) is None
    assert int(cell(0, "quantity", Qt.ItemDataRole.TextAlignmentRole)) & int(
        Qt.AlignmentFlag.AlignRight
    )


def test_tracked_stock_without_a_position_shows_blanks_not_zeros(qtbot) -> None:
    waiting = dict(
        tracking("042700", "한미반도체", 90_500, 1),
        avg_price=0,
        quantity=0,
        return_rate=float("nan"),
    )
    model = DataFrameTableModel(cols.TRACKING_COLUMNS, Source(frame(tables.TRACKING, [waiting])))
    model.sync_rows()

    def cell(key: str, role=Qt.ItemDataRole.DisplayRole):
        return model.index(0, model.column_of(key)).data(role)

    assert cell("price") == "90,500"
    assert (cell("avg_price"), cell("quantity"), cell("return_rate")) == ("", "", "")
    assert cell("return_rate", Qt.ItemDataRole.ForegroundRole) is None


def test_formatters() -> None:
    assert cols.fmt_int(1234567) == "1,234,567"
    assert cols.fmt_int_blank_zero(0) == ""
    assert cols.fmt_pct(0) == "0.00%"
    assert cols.fmt_pct(float("nan")) == ""
    assert cols.fmt_pct(-0.456) == "-0.46%"
    assert cols.fmt_time("093015") == "09:30:15"
    assert cols.fmt_side("buy") == "매수"
    assert cols.fmt_order_type("market") == "시장가"
    assert cols.fmt_status("partially_filled") == "부분체결"
    assert cols.fmt_purpose("trailing_stop") == "트레일링"
    assert cols.fmt_purpose("entry") == "진입"


def test_check_box_asks_instead_of_changing_data(qtbot) -> None:
    source = Source(frame(tables.CONDITIONS, [condition("3", "거래량 급증", False, True)]))
    model = DataFrameTableModel(cols.CONDITIONS_COLUMNS, source)
    model.sync_rows()
    buy = model.index(0, model.column_of("buy_enabled"))
    assert buy.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert buy.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    with qtbot.waitSignal(model.check_toggled) as blocker:
        assert model.setData(buy, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert blocker.args == ["3", "buy_enabled", True]
    # The engine has not confirmed yet: the box still shows the engine's value.
    assert buy.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked


def _cells(model: DataFrameTableModel) -> list[tuple]:
    return [
        (
            model.key_at(r),
            model.index(r, c).data(),
            model.index(r, c).data(SORT_ROLE),
            model.index(r, c).data(Qt.ItemDataRole.ForegroundRole),
        )
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    ]


@pytest.mark.parametrize("schema", tables.ALL_TABLES, ids=lambda s: s.name)
def test_published_rows_show_what_the_frame_shows(qtmodeltester, schema) -> None:
    """The window's models read the engine's rows (no DataFrame); every cell, sort value
    and colour is what the same table's frame gives, before and after a change."""
    from kiwoom_terminal.engine.state import TableStore
    from ui.table_model import FrameRows, PublishedRows

    store = TableStore()
    rows = SAMPLE_ROWS[schema]
    store.sync(schema.name, {row[schema.key]: row for row in rows})
    store.flush()
    published = DataFrameTableModel(
        cols.COLUMNS[schema.name],
        PublishedRows(lambda keys: store.published_rows(schema.name, keys), schema),
    )
    framed = DataFrameTableModel(
        cols.COLUMNS[schema.name], FrameRows(lambda: store.frame(schema.name))
    )
    for model in (published, framed):
        model.sync_rows()
    qtmodeltester.check(published)
    assert published.rowCount() == len(rows)
    assert _cells(published) == _cells(framed)

    first = rows[0]
    changed = {column: value for column, value in first.items()}
    numeric = next(c for c, t in schema.columns if t == "int64")
    changed[numeric] = int(first[numeric]) + 100
    store.set_row(schema.name, first[schema.key], changed)
    ((_, keys),) = store.flush()
    for model in (published, framed):
        model.update_rows(keys)
    assert _cells(published) == _cells(framed)
    assert published.row_values(first[schema.key])[numeric] == int(first[numeric]) + 100


def test_a_published_row_the_engine_did_not_replace_is_not_read_again(qtbot) -> None:
    """Only rows whose published dict changed are converted and compared; the rest are
    skipped by identity (this is what keeps the GUI thread's refresh cheap)."""
    from kiwoom_terminal.engine.state import TableStore
    from ui.table_model import PublishedRows

    class Counting(PublishedRows):
        def __init__(self, *args) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args)
            self.plained: list[str] = []

        def plain(self, raw):  # type: ignore[no-untyped-def]
            self.plained.append(raw["code"])
            return super().plain(raw)

    store = TableStore()
    a = holding("005930", "삼성전자", 10, 70_000, 71_000)
    b = holding("000660", "SK하이닉스", 5, 180_000, 182_000)
    store.sync("holdings", {"005930": a, "000660": b})
    store.flush()
    reader = Counting(lambda keys: store.published_rows("holdings", keys), tables.HOLDINGS)
    model = DataFrameTableModel(cols.HOLDINGS_COLUMNS, reader)
    model.sync_rows()
    assert reader.plained == ["005930", "000660"]
    spans: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda tl, br, _roles: spans.append((tl.row(), br.row())))

    store.set_row("holdings", "000660", holding("000660", "SK하이닉스", 5, 180_000, 183_000))
    store.set_row("holdings", "005930", a)  # reported by nobody, unchanged
    reader.plained.clear()
    model.update_rows(["005930", "000660"])
    assert reader.plained == []  # not flushed yet: both dicts are the published ones
    store.flush()
    model.update_rows(["005930", "000660"])
    assert reader.plained == ["000660"]
    assert spans == [(1, 1)]
    assert model.row_values("000660")["price"] == 183_000
    model.sync_rows()  # a re-sync reads nothing that did not change either
    assert reader.plained == ["000660"]
