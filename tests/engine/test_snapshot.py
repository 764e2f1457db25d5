"""Atomic snapshots: round trip, previous kept, corrupt file falls back, kill -9 mid-save."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from kiwoom_terminal.engine.snapshot import SnapshotStore
from kiwoom_terminal.engine.tables import TRACKING


def _tracking_frame(price: int) -> pd.DataFrame:
    frame = TRACKING.empty()
    frame.loc["005930"] = {
        "code": "005930",
        "name": "삼성전자",
        "price": price,
        "avg_price": 70_000,
        "quantity": 10,
        "return_rate": 1.0,
        "trailing_armed": True,
        "high_since_arm": 73_400,
        "protect_active": False,
        "buy_pending": False,
        "sell_pending": False,
        "source": "상승률 3% 이상",
        "reason": "",
        "entered_at": "093001",
    }
    return frame


def test_round_trip_keeps_dataframes_and_dtypes(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.save({"tracking": _tracking_frame(71_000), "bought_today": {"005930"}})
    loaded = store.load()
    assert loaded.source == "current" and loaded.warnings == []
    assert loaded.payload is not None
    frame = loaded.payload["tracking"]
    pd.testing.assert_frame_equal(frame, _tracking_frame(71_000))
    assert frame.loc["005930", "high_since_arm"] == 73_400
    assert loaded.payload["bought_today"] == {"005930"}


def test_previous_snapshot_is_kept(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.save({"n": 1})
    store.save({"n": 2})
    assert store.load().payload == {"n": 2}
    assert store.previous.exists()
    store.current.unlink()
    loaded = store.load()
    assert loaded.payload == {"n": 1} and loaded.source == "previous"
    assert loaded.warnings  # the user is told an older snapshot was used


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", b"\x80\x05K\x01."])
def test_corrupt_current_falls_back_to_previous_with_a_warning(
    tmp_path: Path, garbage: bytes
) -> None:
    store = SnapshotStore(tmp_path)
    store.save({"n": 1})
    store.save({"n": 2})
    store.current.write_bytes(garbage)
    loaded = store.load()
    assert loaded.payload == {"n": 1}
    assert loaded.source == "previous"
    assert any("engine.pkl" in w for w in loaded.warnings)


def test_nothing_usable_gives_none(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    assert store.load().payload is None
    store.current.parent.mkdir(exist_ok=True)
    store.current.write_bytes(b"junk")
    loaded = store.load()
    assert loaded.payload is None and loaded.source == "none" and loaded.warnings


def test_failed_save_leaves_the_current_snapshot_and_no_temp_file(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.save({"n": 1})
    with pytest.raises(Exception):  # noqa: B017 - any pickling error
        store.save({"bad": lambda: None})
    assert store.load().payload == {"n": 1}
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


_SAVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from kiwoom_terminal.engine.snapshot import SnapshotStore
    store = SnapshotStore(Path(sys.argv[1]))
    blob = "x" * 2_000_000  # big enough that a kill often lands mid-write
    n = 0
    while True:
        n += 1
        store.save({"n": n, "blob": blob})
        if n == 2:
            print("ready", flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL semantics")
def test_kill_9_during_saves_always_leaves_a_readable_snapshot(tmp_path: Path) -> None:
    for attempt in range(4):
        folder = tmp_path / str(attempt)
        proc = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(folder)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.01 * attempt)  # vary where in the save loop the kill lands
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        loaded = SnapshotStore(folder).load()
        assert loaded.payload is not None
        assert loaded.payload["n"] >= 1 and len(loaded.payload["blob"]) == 2_000_000


def test_background_writer_saves_in_order_and_close_waits(tmp_path: Path) -> None:
    """Snapshots written off the engine thread: encoded at once (later changes to the payload
    do not leak in), written in submission order, and close() returns after the last one."""
    import threading

    from kiwoom_terminal.engine.snapshot import BackgroundWriter

    store = SnapshotStore(tmp_path)
    writer = BackgroundWriter()
    gate = threading.Event()
    writer.submit(lambda: gate.wait(10))  # hold the thread: the next jobs queue up
    payload = {"n": 1}
    first = store.encode(payload)
    payload["n"] = 2
    writer.submit(lambda: store.write(first))
    writer.submit(lambda: store.write(store.encode({"n": 3})))
    assert writer.busy
    gate.set()
    assert writer.close()
    assert not writer.busy
    loaded = store.load()
    assert loaded.payload == {"n": 3}
    from kiwoom_terminal.engine.snapshot import _read

    assert _read(store.previous) == {"n": 1}  # encoded before the change to n = 2
