"""What the WebSocket client has registered, and the REG / REMOVE frames that express it
(kiwoom-api.md §8.3). Pure logic: the client in `ws.py` does the sending.

Registrations are kept per group as REAL type → items. Account types (00 order events,
04 balance) always use the single item `""` (the official example; `[]` is accepted by
servers too). The registry is what a reconnect restores, so it only ever holds what the
server acknowledged or what will be sent after the next LOGIN.
"""

from __future__ import annotations

from collections.abc import Iterable

from kiwoom_terminal.api import wire
from kiwoom_terminal.messages import ErrorInfo, ErrorKind

Group = dict[str, set[str]]  # REAL type → items ("" for account types)


class WsCommandError(Exception):
    """A WebSocket command failed; `info` crosses the process queue."""

    def __init__(self, info: ErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


class Registry:
    """group → REAL type → items, and the real-time condition seqs."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self.conditions: set[str] = set()

    def restore(self, groups: dict[str, dict[str, set[str]]], conditions: Iterable[str]) -> None:
        """Replace everything (a restarted worker starts with its predecessor's state)."""
        self.groups = {g: {t: set(i) for t, i in types.items() if i} for g, types in groups.items()}
        self.groups = {g: types for g, types in self.groups.items() if types}
        self.conditions = {str(seq).strip() for seq in conditions}

    def copy(self) -> dict[str, dict[str, frozenset[str]]]:
        return {g: {t: frozenset(i) for t, i in types.items()} for g, types in self.groups.items()}

    def add(self, group: str, new: Group, *, refresh: bool) -> tuple[Group, Group]:
        """Record a REG; returns (the group before, what must be sent). With `refresh` only
        the registrations not held yet are sent; without, the group is replaced."""
        before = {t: set(i) for t, i in self.groups.get(group, {}).items()}
        if refresh:
            current = {t: set(i) for t, i in before.items()}
            send: Group = {}
            for rtype, items in new.items():
                added = items - current.get(rtype, set())
                if added:
                    send[rtype] = added
                    current.setdefault(rtype, set()).update(added)
        else:
            current = {t: set(i) for t, i in new.items()}
            send = current if current != before else {}
        self._set(group, current)
        return before, send

    def revert(self, group: str, before: Group) -> None:
        """Undo `add` after the server refused the REG."""
        self._set(group, before)

    def remove(self, group: str, wanted: Group | None) -> Group:
        """Record a REMOVE (`wanted` None = the whole group); returns what was removed."""
        current = self.groups.get(group, {})
        if wanted is None:
            gone: Group = {t: set(i) for t, i in current.items()}
        else:
            gone = {t: current.get(t, set()) & i for t, i in wanted.items()}
            gone = {t: i for t, i in gone.items() if i}
        for rtype, items in gone.items():
            left = current.get(rtype, set()) - items
            if left:
                current[rtype] = left
            else:
                current.pop(rtype, None)
        self._set(group, current)
        return gone

    def _set(self, group: str, registrations: Group) -> None:
        cleaned = {t: i for t, i in registrations.items() if i}
        if cleaned:
            self.groups[group] = cleaned
        else:
            self.groups.pop(group, None)


def normalise(items: Iterable[str], types: Iterable[str]) -> Group:
    """type → items for a command; account types (00, 04) always use the single item ""."""
    result: Group = {}
    item_list = [str(i).strip() for i in items]
    for rtype in types:
        if rtype in (wire.REAL_ORDER, wire.REAL_BALANCE):
            result[rtype] = {""}
        else:
            chosen = {i for i in item_list if i}
            if chosen:
                result[rtype] = chosen
    return result


def entries(registrations: Group, max_items: int) -> list[dict[str, list[str]]]:
    """REG/REMOVE `data`: items sharing the same set of types go in one entry, at most
    `max_items` items per entry (the server's cap is unknown, §0.2 #1)."""
    by_items: dict[str, list[str]] = {}
    for rtype, items in registrations.items():
        for item in items:
            by_items.setdefault(item, []).append(rtype)
    by_types: dict[tuple[str, ...], list[str]] = {}
    for item, types in by_items.items():
        by_types.setdefault(tuple(sorted(types)), []).append(item)
    result = []
    for types_key, grouped in sorted(by_types.items()):
        grouped.sort()
        for start in range(0, len(grouped), max_items):
            result.append({"item": grouped[start : start + max_items], "type": list(types_key)})
    return result


def reg_frame(
    group: str, registrations: Group, *, refresh: bool, max_items: int
) -> dict[str, object]:
    return {
        "trnm": "REG",
        "grp_no": group,
        "refresh": "1" if refresh else "0",
        "data": entries(registrations, max_items),
    }


def remove_frame(group: str, registrations: Group, *, max_items: int) -> dict[str, object]:
    return {"trnm": "REMOVE", "grp_no": group, "data": entries(registrations, max_items)}


def check_group(group: str) -> str:
    group = str(group).strip()
    if not group or len(group) > 4:
        raise WsCommandError(
            ErrorInfo(ErrorKind.INPUT, "", f"그룹 번호는 1~4자여야 합니다: {group!r}")
        )
    return group


def check_seq(seq: str) -> str:
    seq = str(seq).strip()
    if not seq or len(seq) > 3:
        raise WsCommandError(
            ErrorInfo(ErrorKind.INPUT, "", f"조건식 번호가 잘못되었습니다: {seq!r}")
        )
    return seq
