"""`LiveTableView`: a table view for live data that repaints only the cells that changed."""

from __future__ import annotations

from collections.abc import Iterable

from PyQt5.QtCore import QModelIndex, QRect
from PyQt5.QtWidgets import QTableView

from ui.qt import hheader, vheader


class LiveTableView(QTableView):
    """A table view that repaints only the cells a model change names.

    Qt 5 repaints the whole viewport for a `dataChanged` covering more than one cell, so a
    live table repainted every visible cell ten times a second, each cell asking the Python
    model for seven roles with the GIL held. This view turns each changed range into the
    rectangle of its visible cells (columns may be moved, so per column) and updates only
    that; Qt paints just the cells inside the updated region. The views are read-only, so
    the base class's editor refresh is not needed."""

    def dataChanged(
        self,
        top_left: QModelIndex,
        bottom_right: QModelIndex,
        roles: Iterable[int] = (),
    ) -> None:
        if top_left == bottom_right or not top_left.isValid() or not bottom_right.isValid():
            super().dataChanged(top_left, bottom_right, list(roles))  # one cell: Qt's own
            return
        if not self.isVisible():
            return  # shown later: painted whole then
        rows = vheader(self)
        top = rows.sectionViewportPosition(top_left.row())
        last = bottom_right.row()
        bottom = rows.sectionViewportPosition(last) + rows.sectionSize(last)
        viewport = self.viewport()
        assert viewport is not None
        if bottom < 0 or top > viewport.height():
            return  # the changed rows are scrolled out of view
        columns = hheader(self)
        left = right = None
        for column in range(top_left.column(), bottom_right.column() + 1):
            if columns.isSectionHidden(column):
                continue
            x = columns.sectionViewportPosition(column)
            x_end = x + columns.sectionSize(column)
            left = x if left is None else min(left, x)
            right = x_end if right is None else max(right, x_end)
        if left is not None and right is not None:
            viewport.update(QRect(left, top, right - left, bottom - top))
