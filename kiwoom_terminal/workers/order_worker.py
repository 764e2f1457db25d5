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
from kiwoom_terminal.api.ratelimit import RateLimiter
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.api.token import TokenStore
from kiwoom_terminal.api.trs import TrClient
from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.messages import (
    CancelOrderRequest,
    ConnectionStatus,
    ModifyOrderRequest,
    OrderCommand,
    OrderOutcome,
    OrderReply,
    PlaceOrderRequest,
    Shutdown,
    WorkerKind,
)
from kiwoom_terminal.objects import OrderAckData
from kiwoom_terminal.workers.common import ThrottleTracker, error_info, setup_worker
from kiwoom_terminal.workers.config import WorkerConfig

log = logging.getLogger(__name__)


class OrderWorker:
    """Serves OrderCommand messages (usable in-process for tests)."""

    kind = WorkerKind.ORDER

    def __init__(
        self, config: WorkerConfig, results: Any, token_store: TokenStore | None = None
    ) -> None:
        self.config = config
        self.results = results
        self.throttle = ThrottleTracker(self.kind, results)
        self.limiter = RateLimiter(config.order_limiter(), on_throttle=self.throttle.on_wait)
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
        """Report STARTING, then make sure a token exists before the first order."""
        self._report(ConnectionState.STARTING, "주문 프로세스 시작")
        try:
            self.rest.tokens.get()
        except AuthError as exc:
            self._report(ConnectionState.AUTH_FAILED, exc.message)
        except KiwoomError as exc:
            self._report(ConnectionState.RECONNECTING, exc.message)
        else:
            self._report(ConnectionState.CONNECTED, "주문 서버 연결됨")

    def serve(self, requests: Any) -> None:
        while True:
            message = requests.get()
            if isinstance(message, Shutdown):
                break
            if isinstance(message, OrderCommand):
                self.results.put(self.handle(message))
                self.throttle.after_request(self.limiter, backlog=not requests.empty())
            else:
                log.warning("unexpected message ignored: %s", type(message).__name__)
        self.rest.close()

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
            self._report(ConnectionState.CONNECTED, "주문 서버 연결됨")
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

    def _report(self, state: ConnectionState, detail: str) -> None:
        if state != self._state:
            self._state = state
            self.results.put(ConnectionStatus(self.kind, state, detail))


def run_order_worker(
    config: WorkerConfig, requests: Any, results: Any, token_store: TokenStore | None
) -> None:
    """Process entry point of the order-TR worker."""
    setup_worker(WorkerKind.ORDER, config.log_level)
    worker = OrderWorker(config, results, token_store)
    worker.start()
    worker.serve(requests)
