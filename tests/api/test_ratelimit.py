"""The limiter keeps every call inside its quota, whatever the server's algorithm."""

import threading

import pytest

from kiwoom_terminal.api.ratelimit import LimiterConfig, RateLimit, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _max_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_even_spacing_never_exceeds_a_sliding_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(
        LimiterConfig(RateLimit(5.0), margin=0.02), clock=clock, sleep=clock.sleep
    )
    sent = []
    for _ in range(50):
        limiter.acquire("kt10000")
        sent.append(clock.now)
    assert _max_in_window(sent, 1.0) <= 5
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    assert 4.85 <= rate <= 5.0  # the margin costs 2 %


def test_burst_then_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(
        LimiterConfig(RateLimit(2.0, burst=2), margin=0.0), clock=clock, sleep=clock.sleep
    )
    waits = [limiter.acquire("x") for _ in range(4)]
    assert waits[:2] == [0.0, 0.0] and waits[2] == pytest.approx(1.0)


def test_per_api_quota_and_global_quota_both_hold() -> None:
    clock = FakeClock()
    config = LimiterConfig(RateLimit(5.0), per_api={"ka10081": RateLimit(1.0)}, margin=0.0)
    limiter = RateLimiter(config, clock=clock, sleep=clock.sleep)
    times: dict[str, list[float]] = {"ka10081": [], "ka10001": []}
    for i in range(20):
        api = "ka10081" if i % 2 else "ka10001"
        limiter.acquire(api)
        times[api].append(clock.now)
    assert _max_in_window(times["ka10081"], 1.0) <= 1
    assert _max_in_window(sorted(times["ka10081"] + times["ka10001"]), 1.0) <= 5


def test_throttling_state_is_reported_on_change() -> None:
    clock = FakeClock()
    changes: list[bool] = []
    limiter = RateLimiter(
        LimiterConfig(RateLimit(1.0)),
        clock=clock,
        sleep=lambda s: None,
        on_throttle=lambda a, d: changes.append(a),
    )
    limiter.reserve("a")
    limiter.reserve("a")  # reserved 1 s ahead: throttled
    limiter.reserve("a")
    assert limiter.throttling and changes == [True]
    clock.now += 10
    limiter.reserve("a")
    assert not limiter.throttling and changes == [True, False]


def test_penalty_after_a_server_1700_holds_everything() -> None:
    clock = FakeClock()
    limiter = RateLimiter(LimiterConfig(RateLimit(100.0)), clock=clock, sleep=clock.sleep)
    limiter.penalize(2.0)
    assert limiter.reserve("x") == pytest.approx(2.0)


def test_threads_get_distinct_slots() -> None:
    """Reservations from many threads never share a slot (the clock stands still)."""
    clock = FakeClock()
    limiter = RateLimiter(LimiterConfig(RateLimit(1000.0), margin=0.0), clock=clock)
    delays: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            d = limiter.reserve("q")
            with lock:
                delays.append(d)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ordered = sorted(delays)
    assert len(ordered) == 200
    assert all(b - a == pytest.approx(0.001) for a, b in zip(ordered, ordered[1:]))


def test_bad_quota_is_rejected() -> None:
    with pytest.raises(ValueError):
        RateLimit(0)
