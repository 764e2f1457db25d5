"""`EngineBars`: chart bars through the engine's general-TR path, for another thread.

The 백테스트 tab runs a backtest on a worker thread; its bars must come from the server the
terminal is already connected to (in sim mode the running simulator — never a second one),
through the TR worker and its rate limiter, so a backtest cannot push the account over the
query limit behind the engine's back. `EngineBars` is a `backtest.server.BarClient`:
`daily_bars` / `minute_bars` hand a `DailyBarsQuery` / `MinuteBarsQuery` to the engine's
thread (a queued Qt signal), and block the calling thread until the reply arrives, the
timeout passes or the engine shuts down (`close`). Never call it from the engine's thread.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PyQt5.QtCore import QObject, QThread, pyqtSignal

from kiwoom_terminal.backtest.data import BacktestError
from kiwoom_terminal.messages import DailyBarsQuery, MinuteBarsQuery, TrReply
from kiwoom_terminal.objects import BarData

if TYPE_CHECKING:
    from kiwoom_terminal.engine.engine import TradingEngine

REPLY_TIMEOUT_S = 180.0  # a long paged history at the real query limit takes a while


@dataclass
class _Call:
    query: DailyBarsQuery | MinuteBarsQuery
    done: threading.Event = field(default_factory=threading.Event)
    rows: list[BarData] = field(default_factory=list)
    error: str = ""

    def finish(self, rows: list[BarData] | None = None, error: str = "") -> None:
        self.rows = rows or []
        self.error = error
        self.done.set()


class EngineBars(QObject):
    """A thread-safe `BarClient` over the engine's request path (module docstring)."""

    _ask = pyqtSignal(object)

    def __init__(self, engine: TradingEngine, *, timeout_s: float = REPLY_TIMEOUT_S) -> None:
        super().__init__(engine)
        self.engine = engine
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._calls: dict[int, _Call] = {}
        self._closed = False
        self.requests = 0  # queries sent (tests, diagnostics)
        self._ask.connect(self._send)  # queued: emitted from the worker thread

    def daily_bars(
        self, code: str, *, end_date: dt.date | None = None, max_rows: int = 600
    ) -> list[BarData]:
        return self._call(DailyBarsQuery(code, end_date=end_date, max_rows=max_rows))

    def minute_bars(
        self,
        code: str,
        *,
        minutes: int = 1,
        end_date: dt.date | None = None,
        max_rows: int = 900,
    ) -> list[BarData]:
        return self._call(
            MinuteBarsQuery(code, minutes=minutes, end_date=end_date, max_rows=max_rows)
        )

    def close(self) -> None:
        """The engine stops: every waiting call fails now, later ones at once."""
        with self._lock:
            self._closed = True
        self.cancel_pending("터미널이 종료되어 봉 데이터를 받지 못했습니다")

    def cancel_pending(self, why: str = "봉 데이터 요청을 취소했습니다") -> None:
        """Fail every waiting call now (the window closes and must not wait for a backtest
        whose replies need the event loop it is about to leave)."""
        with self._lock:
            calls = list(self._calls.values())
            self._calls.clear()
        for call in calls:
            call.finish(error=why)

    def _call(self, query: DailyBarsQuery | MinuteBarsQuery) -> list[BarData]:
        if QThread.currentThread() is self.thread():
            raise RuntimeError("EngineBars blocks: call it from a worker thread, not the engine's")
        call = _Call(query)
        with self._lock:
            if self._closed:
                raise BacktestError("터미널이 종료 중이라 봉 데이터를 받을 수 없습니다")
            self._calls[id(call)] = call
        try:
            self._ask.emit(call)
            if not call.done.wait(self.timeout_s):
                raise BacktestError(
                    f"{query.code}: 서버가 {self.timeout_s:.0f}초 안에 봉 데이터를 보내지 않았습니다"
                )
        finally:
            with self._lock:
                self._calls.pop(id(call), None)
        if call.error:
            raise BacktestError(
                f"{query.code}: 서버에서 봉 데이터를 받지 못했습니다 — {call.error}"
            )
        return call.rows

    def _send(self, call: Any) -> None:
        """On the engine's thread: put the query on the TR queue."""
        if call.done.is_set():
            return
        self.requests += 1
        if not self.engine._request(call.query, lambda reply: self._answer(call, reply)):
            call.finish(error="조회 프로세스에 요청을 보낼 수 없습니다")

    @staticmethod
    def _answer(call: _Call, reply: TrReply) -> None:
        if reply.ok:
            call.finish(list(reply.data or ()))
        else:
            call.finish(error=str(reply.error or "알 수 없는 오류"))
