"""The general-TR worker process: answers queries from `tr_req_queue` on `tr_result_queue`.

Queries are idempotent, so a query that meets a rate limit, a 5xx, a bad reply or a network
error is retried with exponential back-off and jitter (at most `query_attempts` sends within
`query_deadline_s`); an invalid token is re-issued once by the REST client. Requests are
served one at a time in arrival order, behind the query rate limiter.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kiwoom_terminal.api.errors import (
    AuthError,
    KiwoomError,
    RateLimitError,
    RetryLaterError,
    TokenUnavailableError,
)
from kiwoom_terminal.api.ratelimit import RateLimiter
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.api.token import TokenStore
from kiwoom_terminal.api.trs import TrClient
from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.messages import (
    AccountNumberQuery,
    AccountSnapshot,
    AccountSnapshotQuery,
    BalanceQuery,
    ConnectionStatus,
    DailyBarsQuery,
    DepositQuery,
    FillsQuery,
    MinuteBarsQuery,
    OpenOrdersQuery,
    OrderBookQuery,
    QuoteQuery,
    Shutdown,
    StockInfoQuery,
    StockListQuery,
    TrQuery,
    TrReply,
    WorkerKind,
)
from kiwoom_terminal.workers.common import ThrottleTracker, error_info, setup_worker
from kiwoom_terminal.workers.config import WorkerConfig

log = logging.getLogger(__name__)
T = TypeVar("T")


class TrWorker:
    """Serves TrQuery messages with a TrClient (usable in-process for tests)."""

    kind = WorkerKind.TR

    def __init__(
        self, config: WorkerConfig, results: Any, token_store: TokenStore | None = None
    ) -> None:
        self.config = config
        self.results = results
        self.throttle = ThrottleTracker(self.kind, results)
        self.limiter = RateLimiter(config.query_limiter(), on_throttle=self.throttle.on_wait)
        self.rest = RestClient(
            config.rest_url,
            config.credentials,
            timeout_s=config.request_timeout_s,
            limiter=self.limiter,
            token_store=token_store,
            renew_margin_s=config.token_renew_margin_s,
        )
        self.trs = TrClient(self.rest)
        self._state: ConnectionState | None = None

    def start(self) -> None:
        """Report STARTING, then get a token so bad keys show up before the first query."""
        self._report(ConnectionState.STARTING, "조회 프로세스 시작")
        try:
            self.rest.tokens.get()
        except KiwoomError as exc:
            self._report_failure(exc)
        else:
            self._report(ConnectionState.CONNECTED, "조회 서버 연결됨")

    def serve(self, requests: Any) -> None:
        """Answer requests until Shutdown arrives."""
        while True:
            message = requests.get()
            if isinstance(message, Shutdown):
                break
            if isinstance(message, TrQuery):
                self.results.put(self.handle(message))
                self.throttle.after_request(self.limiter, backlog=not requests.empty())
            else:
                log.warning("unexpected message ignored: %s", type(message).__name__)
        self.rest.close()

    def handle(self, query: TrQuery) -> TrReply:
        """Run one query (with retries) and build its reply; never raises."""
        try:
            data = self._retrying(lambda: self._dispatch(query))
        except Exception as exc:
            if isinstance(exc, KiwoomError):
                self._report_failure(exc)
                log.info("%s failed: %s", type(query).__name__, exc)
            return TrReply(query.request_id, False, None, error_info(exc))
        self._report(ConnectionState.CONNECTED, "조회 서버 연결됨")
        return TrReply(query.request_id, True, data, None)

    def _dispatch(self, q: TrQuery) -> Any:
        trs = self.trs
        if isinstance(q, QuoteQuery):
            return trs.quote(q.code, q.venue)
        if isinstance(q, OrderBookQuery):
            return trs.order_book(q.code, q.venue)
        if isinstance(q, DailyBarsQuery):
            return trs.daily_bars(
                q.code, end_date=q.end_date, max_rows=q.max_rows, adjusted=q.adjusted, venue=q.venue
            )
        if isinstance(q, MinuteBarsQuery):
            return trs.minute_bars(
                q.code,
                minutes=q.minutes,
                end_date=q.end_date,
                max_rows=q.max_rows,
                adjusted=q.adjusted,
                venue=q.venue,
            )
        if isinstance(q, StockListQuery):
            return trs.stock_list(q.market)
        if isinstance(q, StockInfoQuery):
            return trs.stock_info(q.code)
        if isinstance(q, AccountNumberQuery):
            return trs.account_number()
        if isinstance(q, DepositQuery):
            return trs.deposit()
        if isinstance(q, BalanceQuery):
            return trs.balance(q.venue)
        if isinstance(q, OpenOrdersQuery):
            return trs.open_orders(q.code, q.side, q.venue)
        if isinstance(q, FillsQuery):
            return trs.fills(q.code, q.side, q.venue)
        if isinstance(q, AccountSnapshotQuery):
            taken = time.time()
            return AccountSnapshot(
                open_orders=trs.open_orders(),
                fills=trs.fills(),
                balance=trs.balance(q.venue),
                taken_at=taken,
            )
        raise TypeError(f"unknown query: {type(q).__name__}")

    def _retrying(self, call: Callable[[], T]) -> T:
        """Repeat `call` on transient errors with back-off, within attempts and deadline."""
        deadline = time.monotonic() + self.config.query_deadline_s
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except RetryLaterError as exc:
                wait = _retry_wait(exc, attempt)
                if attempt >= self.config.query_attempts or time.monotonic() + wait > deadline:
                    raise
                log.info(
                    "retrying in %.2fs after %s (attempt %d)", wait, type(exc).__name__, attempt
                )
                time.sleep(wait)

    def _report_failure(self, exc: KiwoomError) -> None:
        if isinstance(exc, AuthError):
            self._report(ConnectionState.AUTH_FAILED, exc.message)
        elif isinstance(exc, (TokenUnavailableError,)) or (
            isinstance(exc, RetryLaterError) and not isinstance(exc, RateLimitError)
        ):
            self._report(ConnectionState.RECONNECTING, exc.message)

    def _report(self, state: ConnectionState, detail: str) -> None:
        if state != self._state:
            self._state = state
            self.results.put(ConnectionStatus(self.kind, state, detail))


def _retry_wait(exc: RetryLaterError, attempt: int) -> float:
    base = min(8.0, 0.5 * 2 ** (attempt - 1))
    jittered = base / 2 + random.random() * base / 2
    hinted = getattr(exc, "retry_after", 0.0) or 0.0
    return max(jittered, float(hinted))


def run_tr_worker(
    config: WorkerConfig, requests: Any, results: Any, token_store: TokenStore | None
) -> None:
    """Process entry point of the general-TR worker."""
    setup_worker(WorkerKind.TR, config.log_level)
    worker = TrWorker(config, results, token_store)
    worker.start()
    worker.serve(requests)
