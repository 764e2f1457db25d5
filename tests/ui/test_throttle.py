"""`Throttle`: the first change after a quiet spell is shown at once; changes within the
interval share one later showing; a direct showing and `reset` restart the count."""

from __future__ import annotations

from ui.throttle import Throttle


def test_throttle_shows_at_once_then_at_most_once_per_interval(qtbot) -> None:
    runs: list[int] = []
    throttle: Throttle

    def show() -> None:
        throttle.ran()
        runs.append(len(runs))

    throttle = Throttle(200, show)
    throttle.request()
    assert runs == [0] and not throttle.waiting  # quiet before: at once
    throttle.request()
    throttle.request()
    assert runs == [0] and throttle.waiting  # gathered for one later showing
    qtbot.waitUntil(lambda: len(runs) == 2, timeout=2000)
    assert not throttle.waiting
    qtbot.wait(250)
    assert runs == [0, 1]  # nothing more was asked for

    throttle.request()  # the interval has passed: at once again
    assert runs == [0, 1, 2]
    throttle.request()
    assert throttle.waiting
    show()  # shown directly ("everything now"): the scheduled showing is dropped
    assert not throttle.waiting and runs == [0, 1, 2, 3]
    throttle.request()
    assert throttle.waiting  # and the interval restarted from that showing
    throttle.reset()
    assert not throttle.waiting
    throttle.request()
    assert runs == [0, 1, 2, 3, 4]  # after a reset: at once
