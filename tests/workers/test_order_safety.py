"""Order placement under faults: never resent except after 1700; ambiguous → UNKNOWN and the
account snapshot tells what happened (in-process workers against a fresh simulator)."""

from __future__ import annotations

import queue

import pytest

from kiwoom_terminal.constants import OrderType, Side
from kiwoom_terminal.messages import (
    AccountSnapshot,
    AccountSnapshotQuery,
    CancelOrderRequest,
    ErrorKind,
    OrderOutcome,
    PlaceOrderRequest,
)
from kiwoom_terminal.objects import CancelRequest, OrderRequest
from kiwoom_terminal.sim.launcher import SimulatorProcess
from kiwoom_terminal.workers.order_worker import OrderWorker
from kiwoom_terminal.workers.reconcile import order_candidates
from kiwoom_terminal.workers.tr_worker import TrWorker
from tests.workers.conftest import sim_config

CODE = "005930"


@pytest.fixture
def workers(fresh_sim: SimulatorProcess) -> tuple[OrderWorker, TrWorker]:
    fresh_sim.control.pause()
    fresh_sim.control.set_price(CODE, 70_000, pause=True)
    config = sim_config(fresh_sim, request_timeout_s=1.0)
    orders = OrderWorker(config, queue.Queue())
    queries = TrWorker(config, queue.Queue())
    orders.start()
    queries.start()
    return orders, queries


def _limit_buy(qty: int = 3, price: int = 69_000) -> PlaceOrderRequest:
    return PlaceOrderRequest(OrderRequest(CODE, Side.BUY, qty, price, OrderType.LIMIT))


def _snapshot(queries: TrWorker) -> AccountSnapshot:
    reply = queries.handle(AccountSnapshotQuery())
    assert reply.ok, reply.error
    assert isinstance(reply.data, AccountSnapshot)
    return reply.data


def test_accepted_order_and_cancel(
    workers: tuple[OrderWorker, TrWorker], fresh_sim: SimulatorProcess
) -> None:
    orders, _ = workers
    placed = orders.handle(_limit_buy())
    assert (
        placed.outcome is OrderOutcome.ACCEPTED and placed.ack is not None and placed.attempts == 1
    )
    cancel = orders.handle(CancelOrderRequest(CancelRequest(placed.ack.order_no, CODE)))
    assert cancel.outcome is OrderOutcome.ACCEPTED and cancel.ack is not None
    assert cancel.ack.base_orig_order_no == placed.ack.order_no and cancel.ack.quantity == 3
    assert fresh_sim.control.requests()["kt10000"] == 1


def test_rejection_is_final(
    workers: tuple[OrderWorker, TrWorker], fresh_sim: SimulatorProcess
) -> None:
    orders, _ = workers
    off_grid = orders.handle(_limit_buy(price=69_001))  # not on the 100 KRW grid
    assert off_grid.outcome is OrderOutcome.REJECTED and off_grid.error is not None
    assert off_grid.error.kind is ErrorKind.REJECTED and off_grid.error.code  # e.g. RC4003
    bad = orders.handle(_limit_buy(qty=0))
    assert (
        bad.outcome is OrderOutcome.REJECTED
        and bad.error is not None
        and bad.error.kind is ErrorKind.INPUT
    )
    assert fresh_sim.control.requests().get("kt10000", 0) == 1  # the zero-quantity one never left


def test_5xx_before_processing_is_unknown_and_not_resent(
    workers: tuple[OrderWorker, TrWorker], fresh_sim: SimulatorProcess
) -> None:
    orders, queries = workers
    fresh_sim.control.set_faults(error_rate=1.0)
    reply = orders.handle(_limit_buy())
    fresh_sim.control.set_faults(error_rate=0.0)
    assert reply.outcome is OrderOutcome.UNKNOWN and reply.attempts == 1
    assert fresh_sim.control.requests()["kt10000"] == 1
    assert order_candidates(_limit_buy().order, _snapshot(queries), set()) == []  # not placed


@pytest.mark.parametrize("fault", ["ghost_rate", "nonjson_rate", "order_delay_ms"])
def test_ambiguous_reply_is_unknown_and_reconciliation_finds_the_order(
    workers: tuple[OrderWorker, TrWorker], fresh_sim: SimulatorProcess, fault: str
) -> None:
    """ghost: processed, answered 500; nonjson: a maintenance page; delay: the reply comes
    after our 1 s timeout. Each time the order exists exactly once and was sent once."""
    orders, queries = workers
    fresh_sim.control.set_faults(**{fault: 2500.0 if fault == "order_delay_ms" else 1.0})
    request = _limit_buy()
    reply = orders.handle(request)
    fresh_sim.control.set_faults(**{fault: 0.0})
    assert reply.outcome is OrderOutcome.UNKNOWN and reply.attempts == 1, reply
    assert reply.error is not None
    expected_kind = {
        "ghost_rate": ErrorKind.SERVER,
        "nonjson_rate": ErrorKind.BAD_REPLY,
        "order_delay_ms": ErrorKind.TIMEOUT,
    }
    assert reply.error.kind is expected_kind[fault]
    assert fresh_sim.control.requests()["kt10000"] == 1  # sent once, never again
    found = order_candidates(request.order, _snapshot(queries), set())
    # The simulator answers its maintenance page before processing; the other two process
    # the order. The client cannot tell, which is why it reconciles instead of resending.
    expected = 0 if fault == "nonjson_rate" else 1
    assert len(found) == expected
    assert all(c.unfilled_qty == 3 for c in found)


def test_1700_is_the_only_automatic_resend(
    workers: tuple[OrderWorker, TrWorker], fresh_sim: SimulatorProcess
) -> None:
    """The server allows 1 order/s but the worker was (wrongly) told 50/s: the surplus gets
    1700, is resent after the limiter backs off, and every order exists exactly once."""
    orders, _ = workers
    fresh_sim.control.set_faults(rate=1, global_rate=400)
    replies = [orders.handle(_limit_buy(qty=q)) for q in (1, 2, 3)]
    assert [r.outcome for r in replies] == [OrderOutcome.ACCEPTED] * 3, replies
    assert max(r.attempts for r in replies) > 1
    results = fresh_sim.control.results()
    assert results.get("kt10000:5", 0) >= 1  # the server did say 1700
    assert results["kt10000:0"] == 3
    numbers = {r.ack.order_no for r in replies if r.ack}
    assert len(numbers) == 3
    qtys = sorted(o["qty"] for o in fresh_sim.control.account()["orders"])
    assert qtys == [1, 2, 3]


def test_order_with_an_expired_token_is_not_processed_and_the_next_reissues_once(
    workers: tuple[OrderWorker, TrWorker], fresh_sim: SimulatorProcess
) -> None:
    """The server no longer knows the token: the order is refused with 8005, reaches the
    server once, is reported NOT_PROCESSED (never resent with a new token behind the
    engine's back) and the next order gets exactly one new token and is accepted."""
    orders, _ = workers
    fresh_sim.control.reset_requests()
    fresh_sim.control.expire_tokens()
    refused = orders.handle(_limit_buy(qty=1))
    assert refused.outcome is OrderOutcome.NOT_PROCESSED and refused.attempts == 1, refused
    assert refused.error is not None and refused.error.code == "8005"
    counts = fresh_sim.control.requests()
    assert counts.get("kt10000", 0) == 1 and counts.get("au10001", 0) == 0
    assert fresh_sim.control.results().get("kt10000:3") == 1  # refused: return_code 3
    placed = orders.handle(_limit_buy(qty=2))
    assert placed.outcome is OrderOutcome.ACCEPTED and placed.attempts == 1, placed
    counts = fresh_sim.control.requests()
    assert counts["kt10000"] == 2 and counts["au10001"] == 1
    assert [o["qty"] for o in fresh_sim.control.account()["orders"]] == [2]
