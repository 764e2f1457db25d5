"""What the general-TR and order-TR workers share: one REST client behind a rate limiter,
a token fetched at start so bad keys show at once, a serve loop that answers one request
at a time in arrival order, and connection-state reports that are sent only on change.

Each subclass says which messages it serves (`serves`), which limiter rules it uses, how
it answers a message (`handle`) and how a failure maps to a connection state."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from kiwoom_terminal.api.errors import KiwoomError
from kiwoom_terminal.api.ratelimit import LimiterConfig, RateLimiter
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.api.token import TokenStore
from kiwoom_terminal.api.trs import TrClient
from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.messages import ConnectionStatus, Shutdown, WorkerKind
from kiwoom_terminal.workers.common import ThrottleTracker, read_request
from kiwoom_terminal.workers.config import WorkerConfig

log = logging.getLogger(__name__)


class RestWorker:
    """Base of TrWorker and OrderWorker (usable in-process for tests)."""

    kind: ClassVar[WorkerKind]
    serves: ClassVar[type | tuple[type, ...]]  # the request messages `handle` answers
    starting_text: ClassVar[str]  # Korean status line while the token is fetched
    connected_text: ClassVar[str]  # Korean status line once the server answered
    direct_http: ClassVar[bool] = False  # RestClient(direct=...): see api/transport.py

    def __init__(
        self, config: WorkerConfig, results: Any, token_store: TokenStore | None = None
    ) -> None:
        self.config = config
        self.results = results
        self.throttle = ThrottleTracker(self.kind, results)
        self.limiter = RateLimiter(self.limiter_config(config), on_throttle=self.throttle.on_wait)
        self.rest = RestClient(
            config.rest_url,
            config.credentials,
            timeout_s=config.request_timeout_s,
            limiter=self.limiter,
            token_store=token_store,
            renew_margin_s=config.token_renew_margin_s,
            direct=self.direct_http,
        )
        self.trs = TrClient(self.rest)
        self._state: ConnectionState | None = None

    def limiter_config(self, config: WorkerConfig) -> LimiterConfig:
        """The rate limits this worker's calls are held to."""
        raise NotImplementedError

    def handle(self, message: Any) -> Any:
        """The reply to one request message; must never raise."""
        raise NotImplementedError

    def report_failure(self, exc: KiwoomError) -> None:
        """Turn a failed call into a connection-state report (or none)."""
        raise NotImplementedError

    def start(self) -> None:
        """Report STARTING, then get a token so bad keys show up before the first request."""
        self._report(ConnectionState.STARTING, self.starting_text)
        try:
            self.rest.tokens.get()
        except KiwoomError as exc:
            self.report_failure(exc)
        else:
            self._report_connected()

    def serve(self, requests: Any) -> None:
        """Answer requests until Shutdown arrives."""
        while True:
            message = read_request(requests)
            if isinstance(message, Shutdown):
                break
            if isinstance(message, self.serves):
                self.results.put(self.handle(message))
                self.throttle.after_request(self.limiter, backlog=not requests.empty())
            else:
                log.warning("unexpected message ignored: %s", type(message).__name__)
        self.rest.close()

    def _report_connected(self) -> None:
        self._report(ConnectionState.CONNECTED, self.connected_text)

    def _report(self, state: ConnectionState, detail: str) -> None:
        if state != self._state:
            self._state = state
            self.results.put(ConnectionStatus(self.kind, state, detail))
