"""Atomic pickle snapshots of the engine's state, with the previous snapshot kept.

The engine saves its DataFrames (tracking table with trailing state, open orders, the day's
bought codes, …) every few seconds. A save never leaves a half-written file where the
loader looks: the payload goes to a temporary file in the same folder, is flushed and
fsync'ed, the current snapshot becomes the previous one, and the temporary file replaces the
current one. A corrupt or unreadable current snapshot falls back to the previous one with a
warning, so a crash during a save costs at most one interval of state.

Snapshots hold only trading state; never put app keys, secrets or tokens in a payload.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1


@dataclass
class LoadedSnapshot:
    """What `SnapshotStore.load` found: the payload (None if nothing usable), which file it
    came from, and warnings to show the user."""

    payload: dict[str, Any] | None
    source: str  # "current", "previous" or "none"
    warnings: list[str] = field(default_factory=list)


class SnapshotStore:
    """Reads and writes `<folder>/<name>.pkl` (current) and `<name>.prev.pkl` (previous)."""

    def __init__(self, folder: Path, name: str = "engine") -> None:
        self.folder = Path(folder)
        self.current = self.folder / f"{name}.pkl"
        self.previous = self.folder / f"{name}.prev.pkl"

    def save(self, payload: dict[str, Any]) -> None:
        """Write `payload` atomically; the old current snapshot becomes the previous one."""
        self.write(self.encode(payload))

    @staticmethod
    def encode(payload: dict[str, Any]) -> bytes:
        """The file's content for `payload` (pickled now, so later changes do not leak in)."""
        record = {"format": SNAPSHOT_FORMAT, "payload": payload}
        return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)

    def write(self, data: bytes) -> None:
        """Write an `encode`d snapshot atomically (temporary file, fsync, rename, fsync of
        the folder): safe to run on a background thread."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=self.current.stem, suffix=".tmp", dir=self.folder)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if self.current.exists():
                os.replace(self.current, self.previous)
            os.replace(tmp, self.current)
            _fsync_folder(self.folder)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def load(self) -> LoadedSnapshot:
        """The newest readable snapshot; falls back to the previous one with a warning."""
        warnings: list[str] = []
        for source, path in (("current", self.current), ("previous", self.previous)):
            if not path.exists():
                continue
            try:
                payload = _read(path)
            except Exception as exc:  # any unreadable file: try the older one
                message = (
                    f"스냅샷 파일을 읽을 수 없습니다 ({path.name}: {exc}); 이전 스냅샷을 사용합니다"
                )
                log.warning(message)
                warnings.append(message)
                continue
            if source == "previous" and not warnings:
                warnings.append(f"최근 스냅샷({self.current.name})이 없어 이전 스냅샷을 사용합니다")
            return LoadedSnapshot(payload, source, warnings)
        return LoadedSnapshot(None, "none", warnings)


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        record = pickle.load(fh)
    if not isinstance(record, dict) or record.get("format") != SNAPSHOT_FORMAT:
        raise ValueError("알 수 없는 스냅샷 형식")
    payload = record["payload"]
    if not isinstance(payload, dict):
        raise ValueError("스냅샷 내용이 올바르지 않습니다")
    return payload


def _fsync_folder(folder: Path) -> None:
    """Make the renames durable (POSIX); Windows has no directory fsync."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BackgroundWriter:
    """One daemon thread that runs disk jobs (snapshot files, journal checkpoints) in
    order, so their fsyncs never stall the thread that turns ticks into orders: a snapshot
    with its checkpoint took 3-10 ms in the Qt thread every `snapshot_ms`, and a trigger
    tick arriving meanwhile waited it out (bench/tick_to_order.py)."""

    def __init__(self, name: str = "snapshot-writer") -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """A job is queued or running."""
        with self._lock:
            return self._pending > 0

    def submit(self, job: Callable[[], None]) -> None:
        """Run `job` on the thread after the jobs before it; it must catch its own errors."""
        with self._lock:
            self._pending += 1
        self._jobs.put(job)

    def close(self, timeout: float = 10.0) -> bool:
        """Finish the queued jobs and stop; False if they did not finish in `timeout`."""
        self._jobs.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # jobs report their own errors; never kill the thread
                log.exception("background disk job failed")
            with self._lock:
                self._pending -= 1
