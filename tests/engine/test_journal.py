"""Trade journal: entries are durable, queryable and readable from the command line."""

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kiwoom_terminal.engine import journal as journal_module
from kiwoom_terminal.engine.journal import Journal, JournalKind, main
from kiwoom_terminal.krx import KST

AT = dt.datetime(2026, 11, 23, 9, 31, 5, tzinfo=KST)


def test_record_and_query(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.record(
        JournalKind.DECISION,
        code="005930",
        side="buy",
        price=71_000,
        quantity=14,
        reason="조건 편입: 상승률 3% 이상",
        at=AT,
    )
    journal.record(
        JournalKind.ORDER_REQUEST,
        code="005930",
        side="buy",
        request_id="o-1",
        price=71_000,
        quantity=14,
        at=AT,
    )
    journal.record(
        JournalKind.ORDER_ACK, code="005930", request_id="o-1", order_no="0000012", at=AT
    )
    journal.record(
        JournalKind.FILL,
        code="005930",
        side="buy",
        order_no="0000012",
        price=71_000,
        quantity=14,
        detail={"fee": 140},
        at=AT,
    )
    journal.record(JournalKind.DECISION, code="000660", side="sell", reason="손절", at=AT)

    samsung = journal.entries(day="20261123", code="005930")
    assert [e.kind for e in samsung] == [
        JournalKind.DECISION,
        JournalKind.ORDER_REQUEST,
        JournalKind.ORDER_ACK,
        JournalKind.FILL,
    ]
    assert samsung[0].reason == "조건 편입: 상승률 3% 이상"
    assert samsung[3].detail == {"fee": 140}
    assert [e.kind for e in journal.entries(request_id="o-1")] == [
        JournalKind.ORDER_REQUEST,
        JournalKind.ORDER_ACK,
    ]
    assert journal.entries(order_no="0000012")[-1].quantity == 14
    assert len(journal.entries(kinds=[JournalKind.DECISION])) == 2
    assert journal.entries(limit=1)[0].code == "000660"
    assert journal.entries(day="20261124") == []
    journal.close()


def test_entries_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    journal.record(JournalKind.NOTICE, reason="자동매매 ON")
    journal.close()
    assert [e.reason for e in Journal(path).entries()] == ["자동매매 ON"]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL semantics")
def test_committed_entries_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    writer = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from kiwoom_terminal.engine.journal import Journal, JournalKind
        j = Journal(Path(sys.argv[1]))
        for i in range(50):
            j.record(JournalKind.ORDER_REQUEST, code="005930", request_id=f"o-{i}")
        print("written", flush=True)
        time.sleep(60)
        """
    )
    _kill_9_when_it_says(writer, path, "written")
    ids = [e.request_id for e in Journal(path).entries()]
    assert ids == [f"o-{i}" for i in range(50)]


def test_command_line_prints_the_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    journal.record(
        JournalKind.DECISION,
        code="005930",
        side="sell",
        price=72_300,
        quantity=14,
        reason="trailing_stop: 고가 73,400 대비 -1.5%",
        at=AT,
    )
    journal.close()
    assert main(["--db", str(path), "--day", "20261123", "--code", "005930"]) == 0
    out = capsys.readouterr().out
    assert "09:31:05.000" in out and "72,300원 × 14" in out and "고가 73,400" in out
    assert main(["--db", str(tmp_path / "missing.sqlite3")]) == 1


@pytest.mark.skipif(sys.platform != "linux", reason="XDG folders are the Linux convention")
def test_command_line_reads_the_journal_of_the_chosen_mode(
    tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    real = Journal(tmp_path / "kiwoom-terminal" / "real" / "journal.sqlite3")
    real.record(JournalKind.NOTICE, code="005930", reason="실계좌 기록")
    real.close()
    assert main(["--mode", "real"]) == 0
    assert "실계좌 기록" in capsys.readouterr().out
    assert main([]) == 1  # the simulator's journal: none yet
    assert "sim" in capsys.readouterr().err


def _order_entries(request_id: str) -> list[tuple[JournalKind, dict[str, object]]]:
    fields = {"code": "005930", "side": "sell", "request_id": request_id, "quantity": 10}
    return [
        (JournalKind.DECISION, {**fields, "price": 72_300, "reason": "트레일링 스탑"}),
        (JournalKind.ORDER_REQUEST, fields),
    ]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL semantics")
def test_entries_written_ahead_survive_a_kill_before_their_commit(tmp_path: Path) -> None:
    """Killed after the intent write, while 'sending': the restarted journal has the
    decision and the request, once, after what was committed before."""
    path = tmp_path / "j.sqlite3"
    writer = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from kiwoom_terminal.engine.journal import Journal, JournalKind
        j = Journal(Path(sys.argv[1]))
        j.record(JournalKind.NOTICE, reason="시작")
        fields = {"code": "005930", "side": "sell", "request_id": "o-1", "quantity": 10}
        with j.written_ahead([(JournalKind.DECISION, {**fields, "price": 72_300}),
                              (JournalKind.ORDER_REQUEST, fields)]):
            print("sending", flush=True)
            time.sleep(60)
        """
    )
    _kill_9_when_it_says(writer, path, "sending")
    assert [e.kind for e in Journal(path, writer=False).entries()] == [JournalKind.NOTICE]
    journal = Journal(path)  # the restarted terminal's
    assert [(e.kind, e.request_id, e.price) for e in journal.entries()] == [
        (JournalKind.NOTICE, "", 0),
        (JournalKind.DECISION, "o-1", 72_300),
        (JournalKind.ORDER_REQUEST, "o-1", 0),
    ]
    assert journal.intent_path.read_bytes().strip(b"\0") == b""  # folded: no line left
    journal.close()
    assert len(Journal(path).entries()) == 3  # folded once, not again


def test_written_ahead_entries_are_committed_after_the_block(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    reader = Journal(journal.path, writer=False)
    with journal.written_ahead(_order_entries("o-1")):
        assert reader.entries() == []  # not in SQLite yet …
        assert b'"o-1"' in journal.intent_path.read_bytes()  # … but on disk
    assert [e.kind for e in reader.entries()] == [JournalKind.DECISION, JournalKind.ORDER_REQUEST]
    with journal.written_ahead(_order_entries("o-22")):
        pass
    line, _, _ = journal.intent_path.read_bytes().partition(b"\n")
    assert b'"o-22"' in line and b'"o-1"' not in line  # the next order's line replaces it
    journal.close()
    assert len(Journal(journal.path).entries()) == 4  # reopened: nothing added twice
    with (
        pytest.raises(ValueError, match="request id"),
        journal.written_ahead([(JournalKind.NOTICE, {"reason": "x"})]),
    ):
        pass


def _intent_request_ids(intent: Path) -> set[str]:
    """The request ids in the intent file's line, as a restart would read it."""
    line, newline, _ = intent.read_bytes().partition(b"\n")
    assert newline, "no whole line in the intent file"
    return {row[6] for row in json.loads(line)}


def test_a_line_longer_than_the_mapped_file_is_written_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The intent line is a copy into the mapped file; one longer than the map goes to the
    file by a seek and a write, and the next short line still reads first. A crash before either commit is
    folded in at the next start."""
    monkeypatch.setattr(journal_module, "INTENT_MAP_BYTES", 512)
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    intent = journal.intent_path
    assert intent.stat().st_size == 512
    long_entry = [(JournalKind.NOTICE, {"request_id": "o-long", "reason": "긴 사유 " * 100})]
    with journal.written_ahead(long_entry):
        assert _intent_request_ids(intent) == {"o-long"}
        assert intent.stat().st_size > 512
    with journal.written_ahead(_order_entries("o-2")):
        assert _intent_request_ids(intent) == {"o-2"}
    journal.close()
    db = sqlite3.connect(path)
    with db:
        db.execute("DELETE FROM journal WHERE request_id = 'o-2'")  # its commit never happened
    db.close()
    assert [e.request_id for e in Journal(path).entries()] == ["o-long", "o-2", "o-2"]


def test_an_entry_recorded_while_sending_comes_after_the_written_ahead_ones(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    with journal.written_ahead(_order_entries("o-1")):
        journal.record(JournalKind.ORDER_REJECT, request_id="o-1", reason="보내지 못함")
    assert [e.kind for e in journal.entries()] == [
        JournalKind.DECISION,
        JournalKind.ORDER_REQUEST,
        JournalKind.ORDER_REJECT,
    ]
    assert journal.last_id() == 3


def test_folding_adds_only_what_the_database_lacks_and_skips_a_torn_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The intent file's line is usually committed already (nothing to add); a crash
    before the commit leaves entries to add; a torn line is skipped with a warning."""
    path = tmp_path / "j.sqlite3"
    intent = path.with_name(path.name + "-intent")
    journal = Journal(path)
    with journal.written_ahead(_order_entries("o-1")):
        pass
    with journal.written_ahead(_order_entries("o-2")):
        line_o2 = intent.read_bytes()
    journal.close()
    kinds = [(e.kind, e.request_id) for e in Journal(path).entries()]  # o-2's line: committed
    assert kinds == [
        (JournalKind.DECISION, "o-1"),
        (JournalKind.ORDER_REQUEST, "o-1"),
        (JournalKind.DECISION, "o-2"),
        (JournalKind.ORDER_REQUEST, "o-2"),
    ]
    db = sqlite3.connect(path)
    with db:
        db.execute("DELETE FROM journal WHERE request_id = 'o-2'")  # its commit never happened
    db.close()
    intent.write_bytes(line_o2 + b'"older, longer line"]]\n')
    assert [e.request_id for e in Journal(path).entries()] == ["o-1", "o-1", "o-2", "o-2"]
    intent.write_bytes(line_o2[:40])  # killed in the middle of the write
    assert len(Journal(path).entries()) == 4
    assert "unreadable" in caplog.text and "2 entries" in caplog.text


def test_a_reader_leaves_the_intent_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    intent = path.with_name(path.name + "-intent")
    line = b'[["2026-11-23T09:31:05.000+09:00","20261123","order_request","005930","sell","","o-9",0,10,"","{}"]]\n'
    intent.write_bytes(line)
    assert Journal(path, writer=False).entries() == []
    assert intent.read_bytes() == line  # the running terminal's to fold or commit
    assert [e.request_id for e in Journal(path).entries()] == ["o-9"]


@pytest.mark.skipif(os.name != "posix", reason="a shell pipe into head")
def test_command_line_stops_quietly_when_its_reader_does(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    for i in range(5000):
        journal.record(JournalKind.NOTICE, reason=f"기록 {i}", at=AT)
    journal.close()
    done = subprocess.run(
        f"{sys.executable} -m kiwoom_terminal.engine.journal --db {path} --day 20261123 | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert "기록 0" in done.stdout
    assert done.stderr == ""


def _kill_9_when_it_says(script: str, path: Path, line: str) -> None:
    """Run `script` on the journal at `path` and SIGKILL it once it prints `line`."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
