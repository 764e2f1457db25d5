"""Trade journal: entries are durable, queryable and readable from the command line."""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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
    proc = subprocess.Popen(
        [sys.executable, "-c", writer, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
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
