"""RequestChannel: direct writes while they cannot block, a writer thread otherwise, and the
order of puts kept either way (the order worker's side is exercised by every order test)."""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.reduction import ForkingPickler

import pytest

from kiwoom_terminal.messages import CancelOrderRequest, Shutdown
from kiwoom_terminal.objects import CancelRequest
from kiwoom_terminal.workers.channel import DIRECT_LIMIT, RequestChannel


def _cancel(n: int) -> CancelOrderRequest:
    return CancelOrderRequest(CancelRequest(f"{n:07d}", "005930", 1), request_id=f"r{n}")


def test_small_backlog_is_written_directly_and_answers_make_room() -> None:
    channel = RequestChannel(multiprocessing.get_context("spawn"))
    try:
        channel.put(_cancel(1))
        channel.put(_cancel(2))
        assert channel.direct_puts == 2
        assert channel.get() == _cancel(1)
        assert channel.get() == _cancel(2)
        assert channel.empty()
        for n in range(1, 3):
            channel.answered(f"r{n}")
        # Nothing unanswered: as many direct writes as DIRECT_LIMIT allows, then the thread.
        size = len(ForkingPickler.dumps(_cancel(100)))
        fits = DIRECT_LIMIT // size
        for n in range(100, 100 + fits + 5):
            channel.put(_cancel(n))
        assert channel.direct_puts == 2 + fits
        assert [channel.get().request_id for _ in range(fits + 5)] == [
            f"r{n}" for n in range(100, 100 + fits + 5)
        ]
    finally:
        channel.close()


def test_a_full_pipe_never_blocks_the_sender_and_order_is_kept() -> None:
    """Nobody reads while 2,000 requests (far more than a pipe holds) are put: every put
    returns at once, and the reader later gets them all in the order they were put, also
    the ones put directly after the worker answered some."""
    channel = RequestChannel(multiprocessing.get_context("spawn"))
    try:
        done = threading.Event()

        def flood() -> None:
            for n in range(2_000):
                channel.put(_cancel(n))
            done.set()

        threading.Thread(target=flood, daemon=True).start()
        assert done.wait(30.0), "put blocked on a full pipe"
        got = [channel.get().request_id for _ in range(1_000)]
        for request_id in got:
            channel.answered(request_id)
        channel.put(Shutdown())  # backlog still non-empty: queued behind it, not overtaking
        rest = [channel.get() for _ in range(1_001)]
        assert got + [m.request_id for m in rest[:-1]] == [f"r{n}" for n in range(2_000)]
        assert isinstance(rest[-1], Shutdown)
    finally:
        channel.close()


def test_closed_channel_refuses_puts() -> None:
    channel = RequestChannel(multiprocessing.get_context("spawn"))
    channel.close()
    with pytest.raises(ValueError):
        channel.put(_cancel(1))


@pytest.mark.parametrize("kind", ["channel", "queue"])
def test_a_worker_whose_terminal_is_gone_exits_quietly(kind: str) -> None:
    """kill -9 of the terminal closes its end of every request pipe. A worker blocked reading
    one must exit at once, as its parent watcher would, not die with an EOFError traceback
    (seen in test_restart's log when the read lost the race against the watcher)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import multiprocessing
        from kiwoom_terminal.workers.channel import RequestChannel
        from kiwoom_terminal.workers.common import read_request

        ctx = multiprocessing.get_context("spawn")
        if {kind!r} == "channel":
            requests = RequestChannel(ctx)
            requests._writer.close()  # what the dead terminal's end does
        else:
            requests = ctx.Queue()
            requests._writer.close()
        read_request(requests)
        raise SystemExit(3)  # never reached: read_request exits the process
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # (a Queue made in the script itself leaves the resource tracker a note about its
    # semaphores; a worker's queues belong to the terminal)
    assert "Traceback" not in done.stderr and "EOFError" not in done.stderr
