"""The WebSocket worker process: real-time data and condition search.

An asyncio loop runs the `KiwoomWebSocket` client. A bridge thread blocks on the
multiprocessing `websocket_req_queue` and hands each command to the loop; replies and
real-time data go out on `websocket_result_queue`.

Batching: parsed pushes are collected per type and flushed together as TickBatch,
OrderBookBatch, OrderEvents, BalanceEvents and ConditionEvents. A flush happens as soon as
the loop has handled every frame that had already arrived — the socket has nothing more to
give — so a tick waits only for the frames that came with it; at once when
`tick_flush_max` ticks are waiting or the batch's first tick was parsed `tick_batch_age_ms`
ago (at 20k ticks/s frames keep arriving, and a batch that waited for a quiet socket held a
trigger tick back up to 4 ms); and, if `tick_flush_ms` is set (default 0), not more often
than that. Under load the frames of one read make one batch (a few hundred messages per
second however many ticks arrive); a spacing of 1 ms used to hold back the batch with a
trailing stop's trigger tick by up to 1 ms whenever another batch had just left.

Giving way to the engine: a frame that wakes this worker can put it on the core where the
engine is deciding on the previous batch, and preempt it there — for up to a time slice
(1.3 ms in a `perf sched` trace of bench/tick_to_order.py) while the other core may sit
idle. So before each frame of ticks, if the engine's busy byte is set (`engine_busy`, the
supervisor's shared value; the engine sets it while it handles worker results), the worker
yields its core once (POSIX `sched_yield`; nothing on Windows). When the engine runs
elsewhere that costs one system call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from typing import Any

from kiwoom_terminal.api import wire
from kiwoom_terminal.api.ratelimit import LimiterConfig, RateLimiter
from kiwoom_terminal.api.rest import RestClient
from kiwoom_terminal.api.token import TokenStore
from kiwoom_terminal.api.values import wire_code
from kiwoom_terminal.api.ws import KiwoomWebSocket
from kiwoom_terminal.api.ws_registry import WsCommandError
from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.messages import (
    BalanceEvents,
    ConditionEvents,
    ConnectionStatus,
    ListConditions,
    OrderBookBatch,
    OrderEvents,
    Resubscribed,
    Shutdown,
    StartCondition,
    StopCondition,
    Subscribe,
    TickBatch,
    Unsubscribe,
    WorkerKind,
    WsCommand,
    WsReply,
)
from kiwoom_terminal.objects import (
    BalanceEventData,
    ConditionEventData,
    OrderBookData,
    OrderEventData,
    TickData,
)
from kiwoom_terminal.workers.common import error_info, read_request, setup_worker
from kiwoom_terminal.workers.config import TOKEN_LIMIT, WorkerConfig
from kiwoom_terminal.workers.registry import Subscriptions

log = logging.getLogger(__name__)
_yield = getattr(os, "sched_yield", None)  # POSIX


class WsWorker:
    """Bridges the request queue, the WebSocket client and the result queue."""

    kind = WorkerKind.WS

    def __init__(
        self,
        config: WorkerConfig,
        results: Any,
        token_store: TokenStore | None = None,
        subscriptions: Subscriptions | None = None,
        engine_busy: Any = None,
    ) -> None:
        self.config = config
        self.results = results
        self.engine_busy = engine_busy  # a shared byte, or None (see the module docstring)
        self._frame_at = 0.0  # received_at of the last frame checked against it
        self.yields_to_engine = 0  # for tests
        # Only the token endpoint is called over REST from here.
        self.rest = RestClient(
            config.rest_url,
            config.credentials,
            timeout_s=config.request_timeout_s,
            limiter=RateLimiter(LimiterConfig(TOKEN_LIMIT)),
            token_store=token_store,
            renew_margin_s=config.token_renew_margin_s,
        )
        self.client = KiwoomWebSocket(
            config.ws_url, self.rest.tokens.get, self.rest.tokens.invalidate, self, config.ws
        )
        if subscriptions is not None:
            self.client.restore(subscriptions.wire_groups(), subscriptions.conditions)
        self._ticks: list[TickData] = []
        self._books: list[OrderBookData] = []
        self._orders: list[OrderEventData] = []
        self._balances: list[BalanceEventData] = []
        self._conditions: list[ConditionEventData] = []
        self._flush_handle: asyncio.Handle | asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._interval = config.tick_flush_ms / 1000.0
        self._max_age = config.tick_batch_age_ms / 1000.0
        self._batch_started = 0.0  # time.monotonic() of the first tick of the open batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- Process life cycle ----------------------------------------------------------

    async def main(self, requests: Any) -> None:
        """Run until a Shutdown message arrives."""
        self._loop = asyncio.get_running_loop()
        bridge = threading.Thread(
            target=self._bridge, args=(requests,), name="ws-requests", daemon=True
        )
        bridge.start()
        client_task = asyncio.create_task(self.client.run(), name="ws-client")
        await self._stop.wait()
        self.client.stop()
        try:
            await asyncio.wait_for(client_task, 5.0)
        except (asyncio.TimeoutError, Exception) as exc:
            log.info("websocket client ended: %s", type(exc).__name__)
        self._flush()
        self.rest.close()

    def _bridge(self, requests: Any) -> None:
        """Thread: blocking queue reads handed to the event loop."""
        assert self._loop is not None
        while True:
            message = read_request(requests)
            self._loop.call_soon_threadsafe(self._on_message, message)
            if isinstance(message, Shutdown):
                return

    def _on_message(self, message: Any) -> None:
        if isinstance(message, Shutdown):
            self._stop.set()
        elif isinstance(message, WsCommand):
            task = asyncio.create_task(self._handle(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            log.warning("unexpected message ignored: %s", type(message).__name__)

    async def _handle(self, command: WsCommand) -> None:
        try:
            data = await self._dispatch(command)
        except WsCommandError as exc:
            reply = WsReply(command.request_id, False, None, exc.info)
        except Exception as exc:
            reply = WsReply(command.request_id, False, None, error_info(exc))
        else:
            reply = WsReply(command.request_id, True, data, None)
        self._flush()  # events that arrived before the reply go first
        self.results.put(reply)

    async def _dispatch(self, c: WsCommand) -> Any:
        client = self.client
        if isinstance(c, Subscribe):
            items = [wire_code(code, c.venue) for code in c.codes]
            await client.subscribe(
                c.group, items, [wire.FEED_TYPES[f] for f in c.feeds], refresh=c.refresh
            )
            return None
        if isinstance(c, Unsubscribe):
            items = [wire_code(code, c.venue) for code in c.codes]
            await client.unsubscribe(c.group, items, [wire.FEED_TYPES[f] for f in c.feeds])
            return None
        if isinstance(c, ListConditions):
            return await client.list_conditions()
        if isinstance(c, StartCondition):
            if c.realtime:
                return await client.start_condition(c.seq)
            return await client.search_condition(c.seq)
        if isinstance(c, StopCondition):
            await client.stop_condition(c.seq)
            return None
        raise TypeError(f"unknown command: {type(c).__name__}")

    # --- RealtimeSink ----------------------------------------------------------------

    def on_tick(self, tick: TickData) -> None:
        if tick.received_at != self._frame_at:  # the first tick of a frame
            self._frame_at = tick.received_at
            busy = self.engine_busy
            if busy is not None and busy.value and _yield is not None:
                self.yields_to_engine += 1
                _yield()
        ticks = self._ticks
        if not ticks:
            self._batch_started = time.monotonic()
        ticks.append(tick)
        if (
            len(ticks) >= self.config.tick_flush_max
            or time.monotonic() - self._batch_started >= self._max_age
        ):
            self._flush()
        elif self._flush_handle is None:
            self._schedule_flush()

    def on_order_book(self, book: OrderBookData) -> None:
        self._books.append(book)
        if self._flush_handle is None:
            self._schedule_flush()

    def on_order_event(self, event: OrderEventData) -> None:
        self._orders.append(event)
        if self._flush_handle is None:
            self._schedule_flush()

    def on_balance_event(self, event: BalanceEventData) -> None:
        self._balances.append(event)
        if self._flush_handle is None:
            self._schedule_flush()

    def on_condition_event(self, event: ConditionEventData) -> None:
        self._conditions.append(event)
        if self._flush_handle is None:
            self._schedule_flush()

    def on_state(self, state: ConnectionState, detail: str) -> None:
        self._flush()
        self.results.put(ConnectionStatus(self.kind, state, detail))

    def on_resubscribed(
        self, groups: tuple[str, ...], conditions: dict[str, tuple[str, ...]], reconnects: int
    ) -> None:
        self._flush()
        self.results.put(Resubscribed(groups, dict(conditions), reconnects))

    # --- Batching --------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        loop = self._loop
        if loop is None:
            self._flush()
            return
        delay = self._last_flush + self._interval - loop.time()
        if delay <= 0:
            # After the frames already read have been handled.
            self._flush_handle = loop.call_soon(self._flush)
        else:
            self._flush_handle = loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._loop is not None:
            self._last_flush = self._loop.time()
        put = self.results.put
        now = time.time()
        if self._orders:
            put(OrderEvents(self._orders))
            self._orders = []
        if self._balances:
            put(BalanceEvents(self._balances))
            self._balances = []
        if self._conditions:
            put(ConditionEvents(self._conditions))
            self._conditions = []
        if self._ticks:
            put(TickBatch(self._ticks, now))
            self._ticks = []
        if self._books:
            put(OrderBookBatch(self._books, now))
            self._books = []


def run_ws_worker(
    config: WorkerConfig,
    requests: Any,
    results: Any,
    token_store: TokenStore | None,
    subscriptions: Subscriptions | None = None,
    engine_busy: Any = None,
) -> None:
    """Process entry point of the WebSocket worker; `subscriptions` restores what a
    previous (dead) worker had registered, `engine_busy` is the supervisor's shared byte."""
    setup_worker(WorkerKind.WS, config.log_level)
    worker = WsWorker(config, results, token_store, subscriptions, engine_busy)
    asyncio.run(worker.main(requests))
