"""Request limits: a token bucket per (app key, api-id) plus one global bucket (§4.3)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """`rate` requests per second with bursts up to `burst`; rate 0 = unlimited."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def take(self, now: float) -> bool:
        if self.rate <= 0:
            return True
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter:
    """Decides whether a request may pass; the HTTP layer answers 429 when not."""

    def __init__(
        self,
        per_api: float = 5.0,
        global_rate: float = 20.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._mono = monotonic
        self.per_api = per_api
        self.global_rate = global_rate
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._global = TokenBucket(global_rate, max(1.0, global_rate), monotonic())

    def configure(self, per_api: float | None = None, global_rate: float | None = None) -> None:
        """New quotas apply at once, with full buckets."""
        now = self._mono()
        if per_api is not None:
            self.per_api = per_api
            self._buckets.clear()
        if global_rate is not None:
            self.global_rate = global_rate
            self._global = TokenBucket(global_rate, max(1.0, global_rate), now)

    def check(self, app_key: str, api_id: str) -> str | None:
        """None when allowed, else "api" (per-api bucket empty) or "global"."""
        now = self._mono()
        key = (app_key, api_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.per_api, max(1.0, self.per_api), now)
        if not bucket.take(now):
            return "api"
        if not self._global.take(now):
            bucket.tokens = min(bucket.burst, bucket.tokens + 1.0)  # not spent after all
            return "global"
        return None
