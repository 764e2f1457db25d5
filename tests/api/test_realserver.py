"""Opt-in checks against Kiwoom's own servers (never run by default, never place orders).

Run with keys in the environment or the keyring:

    KIWOOM_REALSERVER_MODE=mock KIWOOM_MOCK_APPKEY=… KIWOOM_MOCK_SECRETKEY=… \\
        .venv/bin/python -m pytest tests/api/test_realserver.py -m realserver

They confirm that the client works unchanged against the mock (or real) server: a token, a
quote, a page of daily bars, the account balance, and a WebSocket LOGIN with CNSRLST.
"""

from __future__ import annotations

import asyncio
import os
import queue

import pytest

from kiwoom_terminal.api.ws import KiwoomWebSocket
from kiwoom_terminal.constants import ConnectionState, Mode
from kiwoom_terminal.messages import BalanceQuery, DailyBarsQuery, QuoteQuery
from kiwoom_terminal.secrets import load_credentials
from kiwoom_terminal.settings import AppSettings, GeneralSettings
from kiwoom_terminal.workers.config import WorkerConfig, build_worker_config
from kiwoom_terminal.workers.tr_worker import TrWorker

MODE = os.environ.get("KIWOOM_REALSERVER_MODE", "")

pytestmark = [
    pytest.mark.realserver,
    pytest.mark.skipif(
        MODE not in ("mock", "real"), reason="opt-in: set KIWOOM_REALSERVER_MODE=mock|real and keys"
    ),
]


def _config() -> WorkerConfig:
    mode = Mode(MODE)
    settings = AppSettings(general=GeneralSettings(mode=mode))
    return build_worker_config(settings, load_credentials(mode))


def test_queries_on_kiwoom() -> None:
    worker = TrWorker(_config(), queue.Queue())
    worker.start()
    quote = worker.handle(QuoteQuery("005930"))
    assert quote.ok, quote.error
    assert quote.data.price > 0  # type: ignore[union-attr]
    bars = worker.handle(DailyBarsQuery("005930", max_rows=10))
    assert bars.ok and len(bars.data) == 10, bars.error  # type: ignore[arg-type]
    balance = worker.handle(BalanceQuery())
    assert balance.ok, balance.error


def test_websocket_login_and_condition_list_on_kiwoom() -> None:
    config = _config()
    worker = TrWorker(config, queue.Queue())
    states: list[ConnectionState] = []

    class Sink:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return lambda *args: None

        def on_state(self, state: ConnectionState, detail: str) -> None:
            states.append(state)

    async def run() -> list:
        client = KiwoomWebSocket(
            config.ws_url, worker.rest.tokens.get, worker.rest.tokens.invalidate, Sink()
        )  # type: ignore[arg-type]
        task = asyncio.create_task(client.run())
        try:
            return await client.list_conditions()
        finally:
            client.stop()
            await task

    conditions = asyncio.run(run())
    assert ConnectionState.CONNECTED in states
    assert isinstance(conditions, list)
