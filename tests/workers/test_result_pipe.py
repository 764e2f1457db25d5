"""ResultPipe: a worker's messages written at once while the pipe has room, through a
writer thread otherwise, whole and in order either way, and flushed at the worker's exit
(the supervisor's reading side is exercised by every worker test)."""

from __future__ import annotations

import multiprocessing
import os
import queue
import select
import threading
from typing import Any

import pytest

from kiwoom_terminal.constants import Venue
from kiwoom_terminal.messages import Shutdown, TickBatch
from kiwoom_terminal.objects import TickData
from kiwoom_terminal.workers import result_pipe
from kiwoom_terminal.workers.result_pipe import ResultPipe

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture(params=[True, False], ids=["direct", "windows-way"])
def direct(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both ways of the module: this platform's, and Windows' (every message through the
    writer thread and `send_bytes`, read with `recv_bytes`), forced here so Linux runs it."""
    if request.param and not result_pipe.DIRECT:
        pytest.skip("non-blocking pipes are POSIX only")
    monkeypatch.setattr(result_pipe, "DIRECT", request.param)
    return bool(request.param)


def _batch(n: int, ticks: int = 1) -> TickBatch:
    """A tick batch numbered `n` (its sent_at), `ticks` ticks long."""
    price = 70_000 + n
    tick = TickData(
        "005930", Venue.KRX, "090000", price, 100, 0.14, 1, 1, price, price, price, price, price
    )
    return TickBatch([tick] * ticks, float(n))


def _numbers(pipe: ResultPipe, count: int) -> list[int]:
    return [int(pipe.get(timeout=10.0).sent_at) for _ in range(count)]


def test_messages_arrive_whole_and_in_order_through_the_connection_framing(
    direct: bool,
) -> None:
    pipe = ResultPipe(SPAWN)
    try:
        for n in range(3):
            pipe.put(_batch(n))
        pipe.put(Shutdown())
        # direct: written by the caller, no thread involved; else all by the writer thread
        assert pipe.direct_puts == (4 if direct else 0)
        assert _numbers(pipe, 3) == [0, 1, 2]
        assert pipe.get(timeout=10.0) == Shutdown()
        with pytest.raises(queue.Empty):
            pipe.get(timeout=0.01)
        assert pipe.empty()
    finally:
        pipe.close()


def test_a_full_pipe_never_blocks_the_worker_and_order_is_kept(direct: bool) -> None:
    """Nobody reads while far more than a pipe holds is put (large batches, so writes are
    cut short): every put returns, and the reader then gets every message whole, in order,
    including those put directly once the backlog had drained."""
    pipe = ResultPipe(SPAWN)
    try:
        done = threading.Event()

        def flood() -> None:
            for n in range(300):
                pipe.put(_batch(n, ticks=50))  # several KiB each: 300 overflow any pipe
            done.set()

        threading.Thread(target=flood, daemon=True).start()
        assert done.wait(30.0), "put blocked on a full pipe"
        assert _numbers(pipe, 300) == list(range(300))
        assert pipe.empty()
        pipe.put(_batch(300))  # the backlog is empty again: direct (POSIX) or thread
        assert _numbers(pipe, 1) == [300]
    finally:
        pipe.close()


def _worker(pipe: ResultPipe, count: int) -> None:
    """Spawned child: put `count` batches, big enough to overflow the pipe, then exit."""
    for n in range(count):
        pipe.put(_batch(n, ticks=50))


def test_a_spawned_worker_that_exits_at_once_still_delivers_everything() -> None:
    pipe = ResultPipe(SPAWN)
    try:
        process: Any = SPAWN.Process(target=_worker, args=(pipe, 200))
        process.start()
        got = _numbers(pipe, 200)  # read while the child writes and exits
        process.join(30.0)
        assert process.exitcode == 0
        assert got == list(range(200))
    finally:
        pipe.close()


@pytest.mark.skipif(not result_pipe.DIRECT, reason="non-blocking pipes are POSIX only")
def test_one_read_takes_a_pipe_that_holds_less_than_a_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A drain reads the pipe once when that read comes back short: a second read could
    only fail with EAGAIN (a system call and an exception on every drain)."""
    pipe = ResultPipe(SPAWN)
    try:
        for n in range(3):
            pipe.put(_batch(n))
        readable, _, _ = select.select([pipe.fileno()], [], [], 10.0)
        assert readable, "nothing arrived in the pipe"
        reads: list[int] = []
        real_read = result_pipe._gil_keeping_read()

        def counting_read(fd: int, size: int) -> bytes:
            reads.append(fd)
            return real_read(fd, size)

        monkeypatch.setattr(result_pipe, "_gil_keeping_read", lambda: counting_read)
        assert [int(m.sent_at) for m in pipe.read_ready()] == [0, 1, 2]
        assert reads == [pipe.fileno()]
    finally:
        pipe.close()


@pytest.mark.skipif(not result_pipe.DIRECT, reason="non-blocking pipes are POSIX only")
def test_the_read_that_keeps_the_gil_reads_like_os_read() -> None:
    """libc's read through ctypes (the GIL kept): bytes as they came, BlockingIOError on an
    empty pipe, b"" once every writer is gone; a blocking fd is never read that way."""
    read = result_pipe._gil_keeping_read()
    assert isinstance(read, result_pipe._ReadKeepingTheGil)
    r, w = os.pipe()
    try:
        os.set_blocking(r, False)
        with pytest.raises(BlockingIOError):
            read(r, 100)
        os.write(w, b"abc" * 1000)
        assert read(r, 10) == b"abcabcabca"
        assert read(r, 1 << 20) == (b"abc" * 1000)[10:]
        os.close(w)
        w = -1
        assert read(r, 100) == b""
        with pytest.raises(OSError):
            read(-1, 1)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    pipe = ResultPipe(SPAWN)
    try:
        os.set_blocking(pipe.fileno(), True)
        pipe.put(_batch(7))
        select.select([pipe.fileno()], [], [], 10.0)
        assert [int(m.sent_at) for m in pipe.read_ready()] == [7]
        assert pipe._read is os.read
    finally:
        pipe.close()
