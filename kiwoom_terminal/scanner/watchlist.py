"""The user's watchlist (관심종목): the codes the scanner runs strategies on.

Each entry has a code, a name, where it came from (`manual`, or the name of the condition it
was synced from) and when it was added. The list is a small JSON file in the user data
folder, rewritten atomically (temporary file, fsync, rename) on every change, so a crash
leaves the old or the new list, never half of one. A damaged file is set aside as
`watchlist.json.bad` and the list starts empty with a warning, rather than stopping the
terminal.

Codes are checked against the listed stocks the engine knows (`names`: code → name, e.g.
from `engine.all_stocks()`); without that map only the format is checked. Entries can be
added by code or by exact name. Nothing here imports Qt.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

log = logging.getLogger(__name__)

MANUAL = "manual"
FILE_VERSION = 1
MAX_ENTRIES = 500  # far above what the scanner can refresh in a minute; a fat-finger guard
_CODE = re.compile(r"^[0-9A-Z]{6}$")


class WatchlistError(ValueError):
    """A watchlist edit was refused (bad or unknown code, duplicate, full list). The message
    is Korean and says what to fix; the list is unchanged."""


@dataclass(frozen=True)
class WatchItem:
    """One watched stock."""

    code: str
    name: str
    source: str  # MANUAL or the condition name it was synced from
    added_at: str  # ISO time (KST) it was added

    @property
    def is_manual(self) -> bool:
        return self.source == MANUAL


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _locked(method: _Method) -> _Method:
    """Run a `Watchlist` change under its lock."""

    @functools.wraps(method)
    def run(self: Watchlist, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return cast(_Method, run)


class Watchlist:
    """Ordered watchlist entries with persistence.

    The 전략 dock edits it from the GUI thread while the scanner reads it, and condition
    syncs change it, in the engine's thread (`engine/thread.py`): every change and its save
    hold one lock, and the readers copy the entries in one step."""

    def __init__(
        self,
        path: Path | None,
        *,
        names: Mapping[str, str] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """`path=None` keeps the list in memory only. `names` maps listed codes to names."""
        self.path = path
        self._names: Mapping[str, str] = names or {}
        self._clock = clock or (lambda: dt.datetime.now().replace(microsecond=0))
        self._items: dict[str, WatchItem] = {}
        self._lock = threading.RLock()  # changes and saves (class docstring)
        if path is not None and path.exists():
            self._items = _read(path)

    # --- reading -------------------------------------------------------------------------

    def items(self) -> list[WatchItem]:
        return list(self._items.values())

    def codes(self) -> list[str]:
        return list(self._items)

    def get(self, code: str) -> WatchItem | None:
        return self._items.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._items

    def __len__(self) -> int:
        return len(self._items)

    @_locked
    def set_names(self, names: Mapping[str, str]) -> None:
        """Listed stocks became known (after the engine loaded them): validate against them
        from now on and fill in names that were missing."""
        self._names = names
        changed = False
        for code, item in list(self._items.items()):
            if not item.name and code in names:
                self._items[code] = WatchItem(code, names[code], item.source, item.added_at)
                changed = True
        if changed:
            self._save()

    # --- editing -------------------------------------------------------------------------

    def resolve(self, text: str) -> tuple[str, str]:
        """(code, name) for a code or an exact stock name typed by the user."""
        raw = text.strip()
        if not raw:
            raise WatchlistError("종목코드나 종목명을 입력하세요")
        code = raw.upper()
        if code.startswith("A") and len(code) == 7:  # HTS style "A005930"
            code = code[1:]
        if _CODE.match(code):
            if self._names and code not in self._names:
                raise WatchlistError(
                    f"'{raw}' 은(는) 상장 종목 목록에 없는 종목코드입니다 (코드를 확인하세요)"
                )
            return code, self._names.get(code, "")
        matches = [c for c, name in self._names.items() if name == raw]
        if len(matches) == 1:
            return matches[0], raw
        if not self._names:
            raise WatchlistError(
                f"'{raw}' 은(는) 종목코드 형식이 아닙니다 (6자리, 예: 005930). "
                "종목 목록을 받기 전에는 코드로만 추가할 수 있습니다"
            )
        similar = [name for name in self._names.values() if raw in name][:5]
        hint = f" 비슷한 이름: {', '.join(similar)}" if similar else ""
        raise WatchlistError(f"'{raw}' 은(는) 종목코드도 정확한 종목명도 아닙니다.{hint}")

    @_locked
    def add(self, text: str, *, source: str = MANUAL) -> WatchItem:
        """Add a stock by code or exact name; raises WatchlistError if it is already there,
        unknown, or the list is full."""
        code, name = self.resolve(text)
        if code in self._items:
            raise WatchlistError(f"{code} {name} 은(는) 이미 관심종목에 있습니다")
        if len(self._items) >= MAX_ENTRIES:
            raise WatchlistError(f"관심종목은 {MAX_ENTRIES}개까지입니다 (먼저 몇 개를 지우세요)")
        item = WatchItem(code, name, source, self._clock().isoformat(timespec="seconds"))
        self._items[code] = item
        self._save()
        return item

    @_locked
    def remove(self, code: str) -> WatchItem:
        """Remove a code; raises WatchlistError when it is not in the list."""
        item = self._items.pop(code.strip().upper(), None)
        if item is None:
            raise WatchlistError(f"{code} 은(는) 관심종목에 없습니다")
        self._save()
        return item

    @_locked
    def clear(self) -> None:
        self._items.clear()
        self._save()

    @_locked
    def sync_from_condition(
        self, condition: str, members: Iterable[str], *, replace: bool = False
    ) -> tuple[list[str], list[str]]:
        """Make the condition's current members part of the watchlist.

        New members are added with `source=condition`. With `replace`, entries that came
        from this condition and are no longer members are removed; manual entries and
        entries of other conditions are never touched. A member code unknown to the stock
        list is skipped with a warning (the server can list codes we have no listing for).
        Returns (added codes, removed codes).
        """
        wanted: list[str] = []
        for raw in members:
            code = raw.strip().upper()
            if code.startswith("A") and len(code) == 7:
                code = code[1:]
            if not _CODE.match(code) or (self._names and code not in self._names):
                log.warning("condition %s lists unknown code %r; not added", condition, raw)
                continue
            if code not in wanted:
                wanted.append(code)
        added: list[str] = []
        removed: list[str] = []
        now = self._clock().isoformat(timespec="seconds")
        for code in wanted:
            if code not in self._items and len(self._items) < MAX_ENTRIES:
                self._items[code] = WatchItem(code, self._names.get(code, ""), condition, now)
                added.append(code)
        if replace:
            keep = set(wanted)
            for code, item in list(self._items.items()):
                if item.source == condition and code not in keep:
                    del self._items[code]
                    removed.append(code)
        if added or removed:
            self._save()
        return added, removed

    # --- persistence ---------------------------------------------------------------------

    def _save(self) -> None:
        if self.path is None:
            return
        payload = {"version": FILE_VERSION, "items": [asdict(i) for i in self._items.values()]}
        write_json_atomic(self.path, payload)


def write_json_atomic(path: Path, payload: object) -> None:
    """Write JSON so that a crash leaves either the old or the new file (UTF-8, readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read(path: Path) -> dict[str, WatchItem]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("version") != FILE_VERSION:
            raise ValueError(f"unknown version {payload.get('version')!r}")
        items = {}
        for raw in payload["items"]:
            item = WatchItem(
                str(raw["code"]), str(raw["name"]), str(raw["source"]), str(raw["added_at"])
            )
            if not _CODE.match(item.code):
                raise ValueError(f"bad code {item.code!r}")
            items[item.code] = item
        return items
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        bad = path.with_name(path.name + ".bad")
        log.warning("watchlist %s is unreadable (%s); moved to %s, starting empty", path, exc, bad)
        with contextlib.suppress(OSError):
            os.replace(path, bad)
        return {}
