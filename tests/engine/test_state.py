"""TableStore: one rebuild per flush, exactly the changed keys, [] when rows come or go."""

from __future__ import annotations

from kiwoom_terminal.engine.state import TableStore
from kiwoom_terminal.engine.tables import OPEN_ORDERS, TRACKING


def _row(price: int) -> dict[str, object]:
    return {"name": "삼성전자", "price": price, "avg_price": 70_000, "quantity": 10}


def test_added_rows_are_structural_and_frame_has_schema_dtypes() -> None:
    store = TableStore()
    store.set_row("tracking", "005930", _row(71_000))
    store.set_row("tracking", "000660", _row(190_000))
    assert store.flush() == [("tracking", [])]
    frame = store.frame("tracking")
    assert list(frame.index) == ["005930", "000660"]
    assert frame.index.name == "code"
    assert tuple(frame.columns) == TRACKING.column_names
    assert str(frame["price"].dtype) == "int64"
    assert str(frame["trailing_armed"].dtype) == "bool"
    assert frame.loc["000660", "price"] == 190_000
    assert frame.loc["000660", "reason"] == ""  # missing columns get the empty value


def test_changed_rows_are_named_and_unchanged_ones_are_not() -> None:
    store = TableStore()
    store.sync("tracking", {"005930": _row(71_000), "000660": _row(190_000)})
    store.flush()
    before = store.frame("tracking")
    store.set_row("tracking", "005930", _row(71_100))
    store.set_row("tracking", "000660", _row(190_000))  # same values
    assert store.flush() == [("tracking", ["005930"])]
    assert store.frame("tracking") is not before  # replaced, never mutated in place
    assert before.loc["005930", "price"] == 71_000
    store.set_row("tracking", "000660", _row(190_000))
    assert store.flush() == []  # nothing changed: no rebuild, no signal


def test_update_remove_and_sync() -> None:
    store = TableStore()
    store.set_row("open_orders", "0000001", {"code": "005930", "quantity": 5, "remaining": 5})
    store.flush()
    store.update_row("open_orders", "0000001", remaining=2)
    store.update_row("open_orders", "missing", remaining=1)  # no such row: ignored
    assert store.flush() == [("open_orders", ["0000001"])]
    assert store.frame("open_orders").loc["0000001", "remaining"] == 2
    store.sync("open_orders", {})
    assert store.flush() == [("open_orders", [])]
    assert store.frame("open_orders").empty
    assert tuple(store.frame("open_orders").columns) == OPEN_ORDERS.column_names


def test_staged_rows_are_visible_before_the_flush() -> None:
    store = TableStore()
    store.set_row("holdings", "005930", {"quantity": 3})
    assert store.get("holdings", "005930")["quantity"] == 3
    assert "005930" in store.rows("holdings")
    assert store.frame("holdings").empty
    store.remove("holdings", "005930")
    assert store.get("holdings", "005930") is None
    assert store.flush() == []


def test_frame_matches_a_series_per_column_build() -> None:
    """The fast builder gives exactly the frame pandas builds column by column (dtypes,
    index, values), and refuses what pandas refuses."""
    import pandas as pd
    import pytest

    store = TableStore()
    rows = {
        f"{i:06d}": {
            **_row(70_000 + i),
            "return_rate": i / 3,
            "trailing_armed": i % 2 == 0,
            "high_since_arm": 1.0 * i,
            "source": f"조건 {i}",
        }
        for i in range(5)
    }
    store.sync("tracking", rows)
    store.flush()
    published = store.rows("tracking")
    expected = pd.DataFrame(
        {c: pd.Series([r[c] for r in published.values()], dtype=t) for c, t in TRACKING.columns},
        columns=TRACKING.column_names,
    ).set_index("code", drop=False)
    pd.testing.assert_frame_equal(store.frame("tracking"), expected)
    assert str(store.frame("tracking")["source"].dtype) == "object"
    store.set_row("tracking", "000001", {**_row(70_000), "price": 70_000.5})
    store.flush()
    for _ in range(2):  # refused on every read, never an old frame instead
        with pytest.raises(ValueError):
            store.frame("tracking")


def test_frames_are_built_when_read_not_in_the_flush(monkeypatch) -> None:
    """A flush right after a drain does no pandas work; the frame is built once on the next
    read and reused until the rows change again."""
    from kiwoom_terminal.engine import state

    builds: list[str] = []
    real = state._build

    def counting(schema, rows):  # type: ignore[no-untyped-def]
        builds.append(schema.name)
        return real(schema, rows)

    monkeypatch.setattr(state, "_build", counting)
    store = TableStore()
    for price in (71_000, 71_100, 71_200):
        store.set_row("tracking", "005930", _row(price))
        store.flush()
    assert builds == []
    frame = store.frame("tracking")
    assert frame.loc["005930", "price"] == 71_200
    assert store.frame("tracking") is frame and builds == ["tracking"]
    store.remove("tracking", "005930")
    store.flush()
    assert store.frame("tracking").empty and builds == ["tracking"]  # the shared empty frame


def test_published_rows_stay_the_same_objects_until_they_change() -> None:
    """What lets a view skip an unchanged row without reading it: the published dict of a
    row the flush did not change is the very same object."""
    store = TableStore()
    store.sync("tracking", {"005930": _row(71_000), "000660": _row(190_000)})
    store.flush()
    first = dict(store.published_rows("tracking"))
    assert list(first) == ["005930", "000660"]  # frame order
    store.set_row("tracking", "005930", _row(71_100))
    store.set_row("tracking", "000660", _row(190_000))  # same values
    store.flush()
    second = dict(store.published_rows("tracking"))
    assert second["000660"] is first["000660"]
    assert second["005930"] is not first["005930"] and second["005930"]["price"] == 71_100
    assert first["005930"]["price"] == 71_000  # the old dict was replaced, not changed
    assert store.published_rows("tracking", ["000660", "999999"]) == [("000660", first["000660"])]
    store.set_row("tracking", "035720", _row(41_000))  # staged, not yet published
    assert [k for k, _ in store.published_rows("tracking")] == ["005930", "000660"]


def test_plain_row_gives_the_values_the_frame_holds() -> None:
    """A view reading published rows shows exactly what it showed from the frame: numpy
    scalars, whole floats in int columns and NaN come out as the frame's plain values."""
    import math

    import numpy as np
    import pytest

    from kiwoom_terminal.engine.state import plain_row

    store = TableStore()
    rows = {
        "005930": {
            **_row(71_000),
            "price": np.int64(71_000),
            "avg_price": 70_000.0,
            "return_rate": float("nan"),
            "trailing_armed": np.bool_(True),
            "high_since_arm": np.int32(72_000),
            "source": np.str_("조건 1"),
            "entered_at": None,
        },
        "000660": {**_row(190_000), "return_rate": 1.5, "change_rate": np.float64(-0.25)},
    }
    store.sync("tracking", rows)
    store.flush()
    frame = store.frame("tracking")
    for key, row in store.published_rows("tracking"):
        plain = plain_row(TRACKING, row)
        assert list(plain) == list(TRACKING.column_names)
        for column in TRACKING.column_names:
            expected = frame.loc[key, column]
            if isinstance(expected, float) and math.isnan(expected):
                expected = None
            elif isinstance(expected, np.generic):
                expected = expected.item()
            assert plain[column] == expected, (key, column)
            assert type(plain[column]) is type(expected), (key, column)
    with pytest.raises(ValueError, match="price"):
        plain_row(TRACKING, {**dict(store.published_rows("tracking"))["000660"], "price": 1.5})


def test_an_unknown_table_name_says_which_tables_exist() -> None:
    import pytest

    store = TableStore()
    for read in (store.frame, store.published_rows):
        with pytest.raises(KeyError, match="unknown table 'trackng'.*tracking"):
            read("trackng")
