"""Bars from the Kiwoom server (real, mock, or the embedded simulator), cached on disk.

`ServerSource` asks the REST client for ka10081 daily or ka10080 minute bars (paged, newest
first, back to the start of the requested range) and keeps what it got in a `BarCache`
under the user cache folder (`platformdirs`), one file per mode, code and interval. Only
days before today are final, so only they count as covered; a range that ends before today
and lies inside the covered range is answered from disk without contacting the server.

`server_source(mode, settings)` is a context manager that builds the client lazily: in sim
mode the simulator is started (`sim/launcher.py`) only when a fetch is needed, and stopped
on exit; mock and real mode read the app key and secret from the environment or the OS
keyring (`secrets.py`) and pace requests with the mode's query limit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import pickle
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import platformdirs

from kiwoom_terminal import krx
from kiwoom_terminal.backtest.data import BAR_COLUMNS, BacktestError, clip_range
from kiwoom_terminal.constants import Mode
from kiwoom_terminal.objects import BarData
from kiwoom_terminal.settings import AppSettings

log = logging.getLogger(__name__)

CACHE_VERSION = 1
APP_NAME = "kiwoom-terminal"  # the same folder name as settings_store.APP_NAME
DEFAULT_DAILY_LOOKBACK = dt.timedelta(days=365)
DEFAULT_MINUTE_LOOKBACK = dt.timedelta(days=7)
SESSION_MINUTES = 400  # 09:00–15:30 is 390 one-minute bars (+ the close); a little slack


def default_cache_dir() -> Path:
    """`<user cache folder>/kiwoom-terminal/bars`."""
    return Path(platformdirs.user_cache_dir(APP_NAME, APP_NAME)) / "bars"


class BarClient(Protocol):
    """The two chart TRs of `api.trs.TrClient` the source needs."""

    def daily_bars(
        self, code: str, *, end_date: dt.date | None = ..., max_rows: int = ...
    ) -> list[BarData]: ...

    def minute_bars(
        self,
        code: str,
        *,
        minutes: int = ...,
        end_date: dt.date | None = ...,
        max_rows: int = ...,
    ) -> list[BarData]: ...


class BarCache:
    """Bars on disk by mode, code and interval, with the date range they fully cover.

    Files are pickles written atomically (temporary file, then rename); a file that cannot
    be read (damaged, older format) is ignored and fetched again.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, mode: Mode, code: str, interval: str) -> Path:
        return self.root / mode.value / f"{code}_{interval}.pkl"

    def read(
        self, mode: Mode, code: str, interval: str
    ) -> tuple[pd.DataFrame, dt.date, dt.date] | None:
        """(bars, covered_from, covered_to) or None."""
        path = self.path(mode, code, interval)
        if not path.exists():
            return None
        try:
            with path.open("rb") as fh:
                entry = pickle.load(fh)
            if entry.get("version") != CACHE_VERSION:
                return None
            return entry["bars"], entry["covered_from"], entry["covered_to"]
        except Exception as exc:  # damaged or foreign file: fetch again
            log.warning("ignoring unreadable bar cache %s: %s", path, exc)
            return None

    def get(
        self, mode: Mode, code: str, interval: str, start: dt.date, end: dt.date
    ) -> pd.DataFrame | None:
        """The cached bars of [start, end] when the cache covers that whole range."""
        entry = self.read(mode, code, interval)
        if entry is None:
            return None
        bars, covered_from, covered_to = entry
        if covered_from <= start and end <= covered_to:
            return clip_range(bars, start, end)
        return None

    def put(
        self,
        mode: Mode,
        code: str,
        interval: str,
        bars: pd.DataFrame,
        covered_from: dt.date,
        covered_to: dt.date,
    ) -> None:
        """Store `bars` covering [covered_from, covered_to], merged with what is cached when
        the two ranges overlap or touch (else the new range replaces the old)."""
        old = self.read(mode, code, interval)
        if old is not None:
            old_bars, old_from, old_to = old
            if old_from <= covered_to + dt.timedelta(
                days=1
            ) and covered_from <= old_to + dt.timedelta(days=1):
                merged = pd.concat([old_bars, bars])
                bars = merged[~merged.index.duplicated(keep="last")].sort_index()
                covered_from, covered_to = min(old_from, covered_from), max(old_to, covered_to)
        path = self.path(mode, code, interval)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        entry = {
            "version": CACHE_VERSION,
            "covered_from": covered_from,
            "covered_to": covered_to,
            "bars": bars,
        }
        with tmp.open("wb") as fh:
            pickle.dump(entry, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)


def bars_to_frame(rows: Sequence[BarData]) -> pd.DataFrame:
    """BarData (any order) → the backtester's frame: ascending time, int64 OHLCV."""
    if not rows:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64") for c in BAR_COLUMNS},
            index=pd.DatetimeIndex([], name="time"),
        )
    frame = pd.DataFrame(
        {
            "open": [b.open for b in rows],
            "high": [b.high for b in rows],
            "low": [b.low for b in rows],
            "close": [b.close for b in rows],
            "volume": [b.volume for b in rows],
        },
        index=pd.DatetimeIndex([b.time for b in rows], name="time"),
        dtype="int64",
    )
    frame = frame[~frame.index.duplicated(keep="first")]
    return frame.sort_index()


class ServerSource:
    """A `BarSource` backed by the server's chart TRs and a `BarCache`.

    `client` is a `BarClient` or a zero-argument factory for one (called at the first fetch,
    so a run served from the cache never connects). `today` gives the current KST date.
    """

    def __init__(
        self,
        client: BarClient | Callable[[], BarClient],
        mode: Mode,
        cache: BarCache | None,
        *,
        today: Callable[[], dt.date] | None = None,
    ) -> None:
        self._client = client
        self.mode = mode
        self.cache = cache
        self._today = today or (lambda: krx.now_kst().date())
        self.fetches = 0  # chart requests made (tests, diagnostics)

    def _bar_client(self) -> BarClient:
        if callable(self._client) and not hasattr(self._client, "daily_bars"):
            self._client = self._client()
        return self._client  # type: ignore[return-value]

    def load(
        self, code: str, start: dt.date | None, end: dt.date | None, interval: str
    ) -> pd.DataFrame:
        today = self._today()
        end_day = min(end or today, today)
        lookback = DEFAULT_DAILY_LOOKBACK if interval == "day" else DEFAULT_MINUTE_LOOKBACK
        start_day = start or end_day - lookback
        if start_day > end_day:
            return bars_to_frame([])
        final_to = min(end_day, today - dt.timedelta(days=1))  # today's bars still change
        if self.cache is not None and end_day <= final_to:
            cached = self.cache.get(self.mode, code, interval, start_day, end_day)
            if cached is not None:
                return cached
        frame = self._fetch(code, start_day, end_day, interval)
        if self.cache is not None and final_to >= start_day:
            self.cache.put(
                self.mode,
                code,
                interval,
                clip_range(frame, start_day, final_to),
                start_day,
                final_to,
            )
        return clip_range(frame, start_day, end_day)

    def _fetch(self, code: str, start: dt.date, end: dt.date, interval: str) -> pd.DataFrame:
        from kiwoom_terminal.api.errors import KiwoomError

        weekdays = int(np.busday_count(start, end + dt.timedelta(days=1))) + 1
        client = self._bar_client()
        self.fetches += 1
        try:
            if interval == "day":
                rows = client.daily_bars(code, end_date=end, max_rows=weekdays + 5)
            else:
                minutes = int(interval)
                per_day = SESSION_MINUTES // minutes + 2
                rows = client.minute_bars(
                    code, minutes=minutes, end_date=end, max_rows=weekdays * per_day
                )
        except KiwoomError as exc:
            raise BacktestError(f"{code}: 서버에서 봉 데이터를 받지 못했습니다 — {exc}") from exc
        return bars_to_frame(rows)


@contextlib.contextmanager
def server_source(
    mode: Mode,
    settings: AppSettings,
    *,
    use_cache: bool = True,
    cache_dir: Path | None = None,
) -> Iterator[ServerSource]:
    """A ServerSource for `mode`; the client (and in sim mode the simulator) is created at
    the first fetch and closed on exit."""
    resources: list[Any] = []

    def make_client() -> BarClient:
        return _open_client(mode, settings, resources)

    cache = BarCache(cache_dir or default_cache_dir()) if use_cache else None
    try:
        yield ServerSource(make_client, mode, cache)
    finally:
        for resource in reversed(resources):
            with contextlib.suppress(Exception):
                resource.close() if hasattr(resource, "close") else resource.stop()


def _open_client(mode: Mode, settings: AppSettings, resources: list[Any]) -> BarClient:
    import dataclasses

    from kiwoom_terminal.api.ratelimit import RateLimiter
    from kiwoom_terminal.api.rest import RestClient
    from kiwoom_terminal.api.trs import TrClient
    from kiwoom_terminal.secrets import CredentialsError, load_credentials
    from kiwoom_terminal.workers.config import build_worker_config

    settings = dataclasses.replace(
        settings, general=dataclasses.replace(settings.general, mode=mode)
    )
    rest_url = ws_url = None
    if mode is Mode.SIM:
        from kiwoom_terminal.sim.launcher import SimulatorStartError, start_simulator

        args = ["--seed", str(settings.sim.seed)] if settings.sim.seed else []
        try:
            sim = start_simulator(*args, stderr=subprocess.DEVNULL)
        except SimulatorStartError as exc:
            raise BacktestError(f"시뮬레이터를 시작하지 못했습니다: {exc}") from exc
        resources.append(sim)
        rest_url, ws_url = sim.rest_url, sim.ws_url
    try:
        credentials = load_credentials(mode)
    except CredentialsError as exc:
        raise BacktestError(str(exc)) from exc
    config = build_worker_config(settings, credentials, rest_url=rest_url, ws_url=ws_url)
    rest = RestClient(
        config.rest_url,
        credentials,
        timeout_s=config.request_timeout_s,
        limiter=RateLimiter(config.query_limiter()),
        renew_margin_s=config.token_renew_margin_s,
    )
    resources.append(rest)
    return TrClient(rest)
