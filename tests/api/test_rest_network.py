"""Network failures over loopback sockets: whether a request may have reached the server
decides between NOT_PROCESSED (safe to send again) and UNKNOWN (reconcile first).

* nothing listening (connection refused) → NetworkError, maybe_sent False → NOT_PROCESSED;
* the server reads the request and closes without a reply → maybe_sent True → UNKNOWN;
* the server reads the request and never answers → timeout, maybe_sent True → UNKNOWN.

Each order is sent exactly once (the servers count connections): requests/urllib3 must not
retry on their own. Both transports (api/transport.py) are checked; the order worker itself
uses the direct one.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from kiwoom_terminal.api.errors import NetworkError
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.api.token import AccessToken, LocalTokenStore, TokenState
from kiwoom_terminal.api.trs import order_body
from kiwoom_terminal.constants import Mode, OrderType, Side
from kiwoom_terminal.messages import ErrorKind, OrderOutcome, PlaceOrderRequest
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.secrets import sim_credentials
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.order_worker import OrderWorker
from tests.api.stub_server import RawServer, refused_port

ORDER = OrderRequest("005930", Side.SELL, 3, 69_000, OrderType.LIMIT)
TRANSPORTS = pytest.mark.parametrize("direct", [False, True], ids=["requests", "direct"])
TIMEOUT_S = 0.5  # the silent server's only cost; a connect on loopback is immediate


def _token_store() -> LocalTokenStore:
    """A store already holding a valid token, so the only request is the one under test."""
    store = LocalTokenStore()
    now = time.time()
    token = AccessToken("network-test-token", now + 86_400, now)
    store.save(TokenState(token=token, renew_at=now + 80_000))
    return store


def _send_order(url: str, direct: bool) -> NetworkError:
    client = RestClient(
        url, sim_credentials(), timeout_s=TIMEOUT_S, token_store=_token_store(), direct=direct
    )
    api_id, body = order_body(ORDER)
    try:
        with pytest.raises(NetworkError) as info:
            client.call(api_id, body, reissue_retry=False)
    finally:
        client.close()
    return info.value


def _worker_outcome(url: str) -> tuple[OrderOutcome, ErrorKind, int]:
    config = WorkerConfig(
        mode=Mode.SIM,
        rest_url=url,
        ws_url="ws://127.0.0.1:9/unused",
        credentials=sim_credentials(),
        request_timeout_s=TIMEOUT_S,
    )
    worker = OrderWorker(config, queue.Queue(), _token_store())
    try:
        reply = worker.handle(PlaceOrderRequest(ORDER))
    finally:
        worker.rest.close()
    assert reply.error is not None and reply.ack is None
    return reply.outcome, reply.error.kind, reply.attempts


@contextmanager
def _server(mode: str) -> Iterator[tuple[str, RawServer | None]]:
    if mode == "refused":
        with refused_port() as url:
            yield url, None
    else:
        with RawServer(mode) as server:
            yield server.url, server


@TRANSPORTS
def test_refused_connection_was_certainly_not_sent(direct: bool) -> None:
    with _server("refused") as (url, _):
        error = _send_order(url, direct)
        assert error.maybe_sent is False and error.timeout is False
        assert error.to_info().kind is ErrorKind.NETWORK
        assert _worker_outcome(url) == (OrderOutcome.NOT_PROCESSED, ErrorKind.NETWORK, 1)


@TRANSPORTS
def test_connection_closed_after_the_request_may_have_been_processed(direct: bool) -> None:
    with _server("close") as (url, server):
        assert server is not None
        error = _send_order(url, direct)
        assert server.requests_read.wait(10)  # the server did get the whole order
        assert error.maybe_sent is True and error.timeout is False
        assert _worker_outcome(url) == (OrderOutcome.UNKNOWN, ErrorKind.NETWORK, 1)
        assert server.wait_accepted(2) == 2  # one connection per order: never retried


@TRANSPORTS
def test_silent_server_times_out_and_the_outcome_is_unknown(direct: bool) -> None:
    with _server("silent") as (url, server):
        assert server is not None
        error = _send_order(url, direct)
        assert server.requests_read.wait(10)
        assert error.timeout is True and error.maybe_sent is True
        assert error.to_info().kind is ErrorKind.TIMEOUT
        assert _worker_outcome(url) == (OrderOutcome.UNKNOWN, ErrorKind.TIMEOUT, 1)
        assert server.wait_accepted(2) == 2
