"""The order-TR worker process: places, modifies and cancels orders from
`order_tr_req_queue` and answers on `order_tr_result_queue`.

Order safety, in one place:

* An order command is sent once. The only automatic resend is after the server answered
  1700/1701/1702 (rate limit: the request was *not processed*), behind the order rate
  limiter, at most `order_rate_limit_attempts` times.
* A timeout, a 5xx, a reply that is not the JSON we expect, a dropped connection after the
  request left, or anything unexpected makes the outcome UNKNOWN. The worker never resends
  then; the engine reconciles with open orders and fills (AccountSnapshotQuery) first.
* An invalid token (8005/8031/8103) or a refused connection means the order was not placed:
  NOT_PROCESSED (the token is re-issued for the next command). Business and input
  rejections are REJECTED.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from kiwoom_terminal.api.errors import (
    AuthError,
    KiwoomError,
    NetworkError,
    RateLimitError,
    RejectedError,
    RequestError,
    TokenInvalidError,
    TokenUnavailableError,
)
from kiwoom_terminal.api.ratelimit import LimiterConfig
from kiwoom_terminal.api.token import TokenStore
from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.messages import (
    CancelOrderRequest,
    ModifyOrderRequest,
    OrderCommand,
    OrderOutcome,
    OrderReply,
    PlaceOrderRequest,
    WorkerKind,
)
from kiwoom_terminal.objects import OrderAckData
from kiwoom_terminal.workers.common import error_info, setup_worker
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.rest_worker import RestWorker

log = logging.getLogger(__name__)


class OrderWorker(RestWorker):
    """Serves OrderCommand messages (usable in-process for tests)."""

    kind = WorkerKind.ORDER
    serves = OrderCommand
    starting_text = "주문 프로세스 시작"
    connected_text = "주문 서버 연결됨"
    direct_http = True  # every order skips requests' per-call layers (api/transport.py)

    def limiter_config(self, config: WorkerConfig) -> LimiterConfig:
        return config.order_limiter()

    def report_failure(self, exc: KiwoomError) -> None:
        """At start: bad keys are AUTH_FAILED; anything else is retried as RECONNECTING."""
        if isinstance(exc, AuthError):
            self._report(ConnectionState.AUTH_FAILED, exc.message)
        else:
            self._report(ConnectionState.RECONNECTING, exc.message)

    def handle(self, command: OrderCommand) -> OrderReply:
        """Send one order command and classify what became of it; never raises."""
        attempts = 0
        while True:
            attempts += 1
            try:
                ack = self._send(command)
            except RateLimitError as exc:
                if attempts < self.config.order_rate_limit_attempts:
                    # The limiter now holds every call back for retry_after; a little
                    # jitter keeps resends of several orders from landing together.
                    log.info(
                        "order %s hit the rate limit (not processed); resending", command.request_id
                    )
                    time.sleep(random.random() * 0.1)
                    continue
                return self._reply(command, OrderOutcome.NOT_PROCESSED, exc, attempts)
            except (TokenInvalidError, TokenUnavailableError) as exc:
                return self._reply(command, OrderOutcome.NOT_PROCESSED, exc, attempts)
            except (RequestError, RejectedError, AuthError) as exc:
                return self._reply(command, OrderOutcome.REJECTED, exc, attempts)
            except NetworkError as exc:
                outcome = OrderOutcome.UNKNOWN if exc.maybe_sent else OrderOutcome.NOT_PROCESSED
                return self._reply(command, outcome, exc, attempts)
            except Exception as exc:  # 5xx, bad reply, bugs: it may have been placed
                return self._reply(command, OrderOutcome.UNKNOWN, exc, attempts)
            self._report_connected()
            log.info("order %s accepted as %s", command.request_id, ack.order_no)
            return OrderReply(command.request_id, OrderOutcome.ACCEPTED, ack, None, attempts)

    def _send(self, command: OrderCommand) -> OrderAckData:
        if isinstance(command, PlaceOrderRequest):
            return self.trs.place_order(command.order)
        if isinstance(command, ModifyOrderRequest):
            return self.trs.modify_order(command.modify)
        if isinstance(command, CancelOrderRequest):
            return self.trs.cancel_order(command.cancel)
        raise RequestError(f"알 수 없는 주문 요청입니다: {type(command).__name__}")

    def _reply(
        self, command: OrderCommand, outcome: OrderOutcome, exc: BaseException, attempts: int
    ) -> OrderReply:
        info = error_info(exc)
        if outcome is OrderOutcome.UNKNOWN:
            log.warning(
                "order %s outcome UNKNOWN (%s); reconcile before acting again",
                command.request_id,
                info,
            )
        else:
            log.info("order %s %s: %s", command.request_id, outcome.value, info)
        if isinstance(exc, AuthError) and not isinstance(exc, TokenInvalidError):
            self._report(ConnectionState.AUTH_FAILED, info.message)
        elif isinstance(exc, (NetworkError, TokenUnavailableError)):
            self._report(ConnectionState.RECONNECTING, info.message)
        return OrderReply(command.request_id, outcome, None, info, attempts)


def run_order_worker(
    config: WorkerConfig, requests: Any, results: Any, token_store: TokenStore | None
) -> None:
    """Process entry point of the order-TR worker."""
    setup_worker(WorkerKind.ORDER, config.log_level)
    worker = OrderWorker(config, results, token_store)
    worker.start()
    worker.serve(requests)
