"""The picklable configuration handed to each worker process.

Built once in the GUI process from `AppSettings`, the credentials (`secrets.py`) and, in
sim mode, the simulator's URLs. It travels to the children by value through the spawn pipe
(never through settings.ini), and its repr masks the credentials so it can be logged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from kiwoom_terminal.api import wire
from kiwoom_terminal.api.ratelimit import LimiterConfig, RateLimit
from kiwoom_terminal.api.ws import WsClientConfig
from kiwoom_terminal.constants import Mode
from kiwoom_terminal.secrets import Credentials
from kiwoom_terminal.settings import AppSettings

# Safety margin on every quota: calls are spaced 1 % wider than the quota (5/s → 4.95/s), so
# a few milliseconds of network jitter cannot push one call too many into a server window
# (kiwoom-api.md §0.2 #2). A 1700 that slips through anyway is harmless: not processed,
# retried (queries) or resent (orders) after the limiter backs off.
DEFAULT_MARGIN = 0.01
# The token endpoint is rate-limited too (a 1700 was observed on au10001, §2.1).
TOKEN_LIMIT = RateLimit(1.0)


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs; no open handles, no lambdas."""

    mode: Mode
    rest_url: str
    ws_url: str
    credentials: Credentials
    request_timeout_s: float = 5.0
    query_limit: RateLimit = RateLimit(5.0)
    order_limit: RateLimit = RateLimit(5.0)
    per_api_limits: Mapping[str, RateLimit] = field(
        default_factory=lambda: {wire.TOKEN_ISSUE: TOKEN_LIMIT}
    )
    limit_margin: float = DEFAULT_MARGIN
    token_renew_margin_s: float = 600.0
    query_attempts: int = 4  # a query is sent at most this often (rate limit / 5xx / network)
    query_deadline_s: float = 30.0  # … and retried only within this time
    order_rate_limit_attempts: int = 5  # an order is resent only after 1700, at most this often
    tick_flush_ms: float = 0.0  # real-time batches are flushed at most this often (0: no limit) …
    tick_flush_max: int = 500  # … or as soon as this many ticks are waiting …
    tick_batch_age_ms: float = 1.0  # … or the first of them was parsed this long ago
    ws: WsClientConfig = field(default_factory=WsClientConfig)
    log_level: str = "INFO"

    def query_limiter(self) -> LimiterConfig:
        return LimiterConfig(self.query_limit, dict(self.per_api_limits), self.limit_margin)

    def order_limiter(self) -> LimiterConfig:
        return LimiterConfig(self.order_limit, dict(self.per_api_limits), self.limit_margin)

    def replace(self, **changes: object) -> WorkerConfig:
        """A copy with some fields changed (tests and benchmarks)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def build_worker_config(
    settings: AppSettings,
    credentials: Credentials,
    *,
    rest_url: str | None = None,
    ws_url: str | None = None,
) -> WorkerConfig:
    """WorkerConfig for the mode in `settings`. Sim mode needs the simulator's URLs (from
    its launcher); mock and real use Kiwoom's hosts unless URLs are given."""
    conn = settings.connection
    mode = settings.general.mode
    if mode is Mode.SIM:
        if not rest_url or not ws_url:
            raise ValueError("sim mode needs the simulator's rest_url and ws_url")
        queries = RateLimit(settings.sim.queries_per_second)
        orders = RateLimit(settings.sim.orders_per_second)
    elif mode is Mode.MOCK:
        queries = RateLimit(conn.mock_queries_per_second)
        orders = RateLimit(conn.mock_orders_per_second)
    else:
        queries = RateLimit(conn.real_queries_per_second)
        orders = RateLimit(conn.real_orders_per_second)
    return WorkerConfig(
        mode=mode,
        rest_url=rest_url or wire.REST_URLS[mode],
        ws_url=ws_url or wire.WS_URLS[mode],
        credentials=credentials,
        request_timeout_s=conn.request_timeout_s,
        query_limit=queries,
        order_limit=orders,
        token_renew_margin_s=float(conn.token_renew_margin_s),
        log_level=settings.general.log_level,
    )
