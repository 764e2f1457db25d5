"""Client-side rate limiting, so the terminal stays under Kiwoom's quotas and never sees a
1700 in normal use (kiwoom-api.md §4.3).

Kiwoom does not publish its algorithm (§0.2 #2): a sliding window, a token bucket, per
api-id, per group or global are all possible. The limiter therefore enforces the strictest
reading of a quota `rate` per second with burst `burst`: at most `burst` calls in any window
of `burst / rate` seconds, stretched by a safety `margin` for network jitter. With the
default burst of 1 that is an even spacing of `1 / rate` (+ margin) between calls, which
satisfies every one of those algorithms. A call must pass the global window and the window
of its api-id (when one is configured).

The limiter reserves a send time for each caller (so threads never race for the same slot)
and reports whether callers are being delayed: the "throttling" state the status bar shows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# A caller delayed by at least this long counts as throttled (shorter waits are just the
# normal spacing between back-to-back calls).
THROTTLE_THRESHOLD_S = 0.25


@dataclass(frozen=True)
class RateLimit:
    """A quota: `rate` calls per second, at most `burst` of them back to back."""

    rate: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"rate must be > 0 and burst ≥ 1, got {self.rate}/{self.burst}")

    @property
    def window(self) -> float:
        return self.burst / self.rate


@dataclass(frozen=True)
class LimiterConfig:
    """Global quota, optional per-api-id quotas, and the safety margin (0.01 = windows 1 %
    longer than the quota, i.e. 5/s becomes 4.95/s)."""

    overall: RateLimit
    per_api: Mapping[str, RateLimit] = field(default_factory=dict)
    margin: float = 0.01


class _Window:
    """The last `burst` reserved send times of one quota."""

    __slots__ = ("burst", "span", "times")

    def __init__(self, limit: RateLimit, margin: float) -> None:
        self.burst = limit.burst
        self.span = limit.window * (1.0 + margin)
        self.times: list[float] = []  # ascending; the `burst` latest reservations

    def earliest(self, now: float) -> float:
        if len(self.times) < self.burst:
            return now
        return max(now, self.times[0] + self.span)

    def push(self, at: float) -> None:
        self.times.append(at)
        if len(self.times) > 1 and self.times[-2] > at:
            self.times.sort()
        if len(self.times) > self.burst:
            del self.times[0]


class RateLimiter:
    """Thread-safe limiter: `acquire(api_id)` blocks until the call may be sent.

    `penalize()` is called after the server answered 1700 anyway (another program using the
    same key, a stricter server): it holds every call back for a while. `on_throttle(active,
    delay)` is called (outside the lock) when the throttling state changes.
    """

    def __init__(
        self,
        config: LimiterConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_throttle: Callable[[bool, float], None] | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._overall = _Window(config.overall, config.margin)
        self._per_api = {k: _Window(v, config.margin) for k, v in config.per_api.items()}
        self._blocked_until = 0.0
        self._throttling = False
        self.on_throttle = on_throttle
        self.calls = 0
        self.last_delay = 0.0  # wait of the latest reservation

    @property
    def config(self) -> LimiterConfig:
        return self._config

    @property
    def throttling(self) -> bool:
        """True while recent callers had to wait noticeably for their turn."""
        return self._throttling

    def reserve(self, api_id: str) -> float:
        """Reserve the next allowed send time for `api_id`; returns the seconds to wait.

        The caller must wait that long before sending (`acquire` does it for you; asyncio
        code can `await asyncio.sleep(reserve(...))`).
        """
        with self._lock:
            now = self._clock()
            window = self._per_api.get(api_id)
            at = max(now, self._blocked_until, self._overall.earliest(now))
            if window is not None:
                at = max(at, window.earliest(now))
            # A later slot may now violate the other window's spacing: settle both.
            at = max(at, self._overall.earliest(at))
            if window is not None:
                at = max(at, window.earliest(at))
                window.push(at)
            self._overall.push(at)
            delay = at - now
            self.last_delay = delay
            self.calls += 1
            changed = self._update_state(delay)
        if changed and self.on_throttle is not None:
            self.on_throttle(self._throttling, delay)
        return delay

    def acquire(self, api_id: str) -> float:
        """Block until a call for `api_id` may be sent; returns the time waited."""
        delay = self.reserve(api_id)
        if delay > 0:
            self._sleep(delay)
        return delay

    def penalize(self, seconds: float) -> None:
        """Hold every call back for `seconds` (after an unexpected 1700 from the server)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def _update_state(self, delay: float) -> bool:
        active = delay >= THROTTLE_THRESHOLD_S
        if active != self._throttling:
            self._throttling = active
            return True
        return False
