"""General-TR queries against the real simulator (in-process worker object; the process
wrapper is exercised in test_supervisor.py)."""

from __future__ import annotations

import queue
import time

import pytest

from kiwoom_terminal.api.ratelimit import RateLimit
from kiwoom_terminal.constants import Market, Venue
from kiwoom_terminal.messages import (
    AccountNumberQuery,
    AccountSnapshot,
    AccountSnapshotQuery,
    BalanceQuery,
    DailyBarsQuery,
    DepositQuery,
    ErrorKind,
    FillsQuery,
    MinuteBarsQuery,
    OpenOrdersQuery,
    OrderBookQuery,
    QuoteQuery,
    StockInfoQuery,
    StockListQuery,
    ThrottleStatus,
    TrReply,
)
from kiwoom_terminal.objects import AccountBalanceData, BarData, OrderBookData, QuoteData
from kiwoom_terminal.sim.launcher import SimulatorProcess
from kiwoom_terminal.workers.tr_worker import TrWorker
from tests.workers.conftest import sim_config


@pytest.fixture(scope="module")
def worker(api_sim: SimulatorProcess) -> TrWorker:
    w = TrWorker(sim_config(api_sim), queue.Queue())
    w.start()
    return w


def _ok(reply: TrReply) -> object:
    assert reply.ok, reply.error
    return reply.data


def test_quote_and_order_book_match_the_simulated_market(
    worker: TrWorker, api_sim: SimulatorProcess
) -> None:
    api_sim.control.set_price("000660", 200_000, pause=True)
    quote = _ok(worker.handle(QuoteQuery("000660")))
    assert isinstance(quote, QuoteData)
    state = api_sim.control.quote("000660")
    assert (quote.code, quote.price, quote.base_price) == ("000660", 200_000, state["base"])
    assert (quote.upper_limit, quote.lower_limit) == (state["upper"], state["lower"])
    assert quote.change == 200_000 - state["base"]
    book = _ok(worker.handle(OrderBookQuery("000660")))
    assert isinstance(book, OrderBookData)
    assert book.ask_prices[0] == state["best_ask"] and book.bid_prices[0] == state["best_bid"]
    assert list(book.ask_prices) == sorted(book.ask_prices)
    assert list(book.bid_prices) == sorted(book.bid_prices, reverse=True)


def test_daily_bars_follow_pages_to_the_row_limit(
    worker: TrWorker, api_sim: SimulatorProcess
) -> None:
    before = api_sim.control.requests().get("ka10081", 0)
    bars = _ok(worker.handle(DailyBarsQuery("005930", max_rows=700)))
    assert isinstance(bars, list) and len(bars) == 700
    assert all(isinstance(b, BarData) for b in bars)
    days = [b.time for b in bars]
    assert days == sorted(days, reverse=True) and len(set(days)) == 700  # newest first, no repeats
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    # 600 rows per page: two requests, never a third once the limit is reached
    assert api_sim.control.requests()["ka10081"] - before == 2
    short = _ok(worker.handle(DailyBarsQuery("005930", max_rows=5, end_date=bars[10].time.date())))
    assert [b.time for b in short] == days[10:15]  # the same history seen from an earlier day


def test_minute_bars_and_stock_lists(worker: TrWorker) -> None:
    bars = _ok(worker.handle(MinuteBarsQuery("005930", minutes=5, max_rows=30)))
    assert isinstance(bars, list) and 0 < len(bars) <= 30
    assert all(b.time.minute % 5 == 0 for b in bars)
    stocks = _ok(worker.handle(StockListQuery(Market.KOSPI)))
    assert isinstance(stocks, list)
    codes = {s.code for s in stocks}
    assert "005930" in codes and len(codes) == len(stocks)
    info = _ok(worker.handle(StockInfoQuery("005930")))
    assert info.name == "삼성전자"  # type: ignore[attr-defined]


def test_account_queries(worker: TrWorker, api_sim: SimulatorProcess) -> None:
    account = api_sim.control.account()
    assert _ok(worker.handle(AccountNumberQuery())) == account["account_no"]
    deposit = _ok(worker.handle(DepositQuery()))
    assert deposit.deposit == account["cash"]  # type: ignore[attr-defined]
    balance = _ok(worker.handle(BalanceQuery()))
    assert isinstance(balance, AccountBalanceData)
    held = {p["code"]: p["qty"] for p in account["positions"]}
    assert {p.code: p.quantity for p in balance.positions} == held
    assert isinstance(_ok(worker.handle(OpenOrdersQuery())), list)
    assert isinstance(_ok(worker.handle(FillsQuery())), list)
    snapshot = _ok(worker.handle(AccountSnapshotQuery()))
    assert isinstance(snapshot, AccountSnapshot) and snapshot.balance == balance


def test_bad_input_is_a_clear_error_without_a_request(
    worker: TrWorker, api_sim: SimulatorProcess
) -> None:
    before = api_sim.control.requests().get("ka10081", 0)
    reply = worker.handle(DailyBarsQuery("5930"))
    assert not reply.ok and reply.error is not None
    assert reply.error.kind is ErrorKind.INPUT and "6자리" in reply.error.message
    assert api_sim.control.requests().get("ka10081", 0) == before
    unknown = worker.handle(QuoteQuery("999999"))
    assert unknown.error is not None and unknown.error.kind is ErrorKind.NOT_FOUND


def test_tight_rate_limit_keeps_every_call_under_the_quota(fresh_sim: SimulatorProcess) -> None:
    """The server allows 3/s per api-id and 3/s overall; the client is told the same."""
    fresh_sim.control.set_faults(rate=3, global_rate=3)
    results: queue.Queue[object] = queue.Queue()
    worker = TrWorker(sim_config(fresh_sim, query_limit=RateLimit(3.0)), results)
    worker.start()
    queries = [
        QuoteQuery("005930"),
        OrderBookQuery("005930"),
        QuoteQuery("000660"),
        DepositQuery(),
    ] * 3
    replies = [worker.handle(q) for q in queries]
    assert all(r.ok for r in replies), [r.error for r in replies if not r.ok]
    outcomes = fresh_sim.control.results()
    assert not [k for k in outcomes if not k.endswith(":0")], outcomes  # no 1700, nothing else
    throttles = [m for m in list(results.queue) if isinstance(m, ThrottleStatus)]
    assert throttles and throttles[0].active  # the status bar saw "throttling"


def test_5xx_and_non_json_are_retried_then_reported(fresh_sim: SimulatorProcess) -> None:
    worker = TrWorker(sim_config(fresh_sim, query_attempts=3), queue.Queue())
    worker.start()
    fresh_sim.control.reset_requests()
    fresh_sim.control.set_faults(error_rate=1.0)
    failed = worker.handle(QuoteQuery("005930"))
    assert not failed.ok and failed.error is not None and failed.error.kind is ErrorKind.SERVER
    assert fresh_sim.control.requests()["ka10001"] == 3  # retried, then given up
    fresh_sim.control.set_faults(error_rate=0.0, nonjson_rate=1.0)
    garbled = worker.handle(QuoteQuery("005930"))
    assert garbled.error is not None and garbled.error.kind is ErrorKind.BAD_REPLY
    fresh_sim.control.set_faults(nonjson_rate=0.0)
    assert worker.handle(QuoteQuery("005930")).ok  # the worker is unharmed


def test_token_expiry_is_renewed_ahead_and_reissued_once_after_8005(
    fresh_sim: SimulatorProcess,
) -> None:
    fresh_sim.control.set_faults(token_ttl=2)
    worker = TrWorker(sim_config(fresh_sim, query_limit=RateLimit(5.0)), queue.Queue())
    worker.start()
    fresh_sim.control.reset_requests()
    started = time.monotonic()
    replies = []
    issued = 0
    # Tokens live 1–2 s (expires_dt has whole seconds) and are renewed at 3/4 of their life:
    # query (5/s) until two renewals were needed — how long that takes depends on the load
    # of the machine, so the loop ends on the count, with a generous bound.
    while len(replies) < 12 or issued < 2:
        replies.append(worker.handle(QuoteQuery("005930", Venue.KRX)))
        issued = fresh_sim.control.requests().get("au10001", 0)
        assert time.monotonic() - started < 30, f"only {issued} renewals in 30 s"
    elapsed = time.monotonic() - started
    assert all(r.ok for r in replies), [r.error for r in replies if not r.ok]
    # Never more than one renewal per ≈0.7 s of token life — no storm.
    assert 2 <= issued <= 2 + elapsed / 0.7
    assert not [k for k in fresh_sim.control.results() if not k.endswith(":0")]  # never an 8005
    # A token revoked behind our back: one 8005, one re-issue, and the query still succeeds.
    fresh_sim.control.set_faults(token_ttl=3600)
    fresh_sim.control.expire_tokens()
    assert worker.handle(QuoteQuery("005930")).ok  # now holds a long-lived token
    fresh_sim.control.reset_requests()
    fresh_sim.control.expire_tokens()
    assert worker.handle(QuoteQuery("005930")).ok
    counts = fresh_sim.control.requests()
    assert counts["au10001"] == 1 and counts["ka10001"] == 2
