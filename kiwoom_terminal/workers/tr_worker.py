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
from kiwoom_terminal.api.ratelimit import LimiterConfig
from kiwoom_terminal.api.token import TokenStore
from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.messages import (
    AccountNumberQuery,
    AccountSnapshot,
    AccountSnapshotQuery,
    BalanceQuery,
    DailyBarsQuery,
    DepositQuery,
    FillsQuery,
    MinuteBarsQuery,
    OpenOrdersQuery,
    OrderBookQuery,
    QuoteQuery,
    StockInfoQuery,
    StockListQuery,
    TrQuery,
    TrReply,
    WorkerKind,
)
from kiwoom_terminal.workers.common import error_info, setup_worker
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.rest_worker import RestWorker

log = logging.getLogger(__name__)
T = TypeVar("T")


class TrWorker(RestWorker):
    """Serves TrQuery messages with a TrClient (usable in-process for tests)."""

    kind = WorkerKind.TR
    serves = TrQuery
    starting_text = "조회 프로세스 시작"
    connected_text = "조회 서버 연결됨"

    def limiter_config(self, config: WorkerConfig) -> LimiterConfig:
        return config.query_limiter()

    def handle(self, query: TrQuery) -> TrReply:
        """Run one query (with retries) and build its reply; never raises."""
        try:
            data = self._retrying(lambda: self._dispatch(query))
        except Exception as exc:
            if isinstance(exc, KiwoomError):
                self.report_failure(exc)
                log.info("%s failed: %s", type(query).__name__, exc)
            return TrReply(query.request_id, False, None, error_info(exc))
        self._report_connected()
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

    def report_failure(self, exc: KiwoomError) -> None:
        """Bad keys are AUTH_FAILED; a server that cannot answer now is RECONNECTING; a
        rate limit or a rejected query says nothing about the connection."""
        if isinstance(exc, AuthError):
            self._report(ConnectionState.AUTH_FAILED, exc.message)
        elif isinstance(exc, (TokenUnavailableError,)) or (
            isinstance(exc, RetryLaterError) and not isinstance(exc, RateLimitError)
        ):
            self._report(ConnectionState.RECONNECTING, exc.message)


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
