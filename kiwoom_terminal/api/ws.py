"""The WebSocket client (asyncio, `websockets`): LOGIN, PING echo, SYSTEM frames, REG/REMOVE
with a registry of what is registered, condition search, REAL frame parsing, and reconnect
with back-off that restores every registration (kiwoom-api.md §8–§10).

Session rules this client follows:

* LOGIN is the first frame; while waiting for its reply SYSTEM and PING frames are skipped
  (PING still echoed). A LOGIN refused with 8005/8031/8103 invalidates the token and
  reconnects with a new one; other refusals are reported as AUTH_FAILED and back off long.
* PING frames are echoed unchanged; SYSTEM frames are logged and never echoed. R10001
  (another session logged in with the same app key) stops the client for good: the user
  must decide which program keeps the session. R10002 / R10004 (the server ends the
  session) make the client close the socket itself, without waiting for the server's
  close, and reconnect as after any drop (back-off, LOGIN, re-registration).
* Registrations do not survive a reconnect. After every new LOGIN the client re-sends one
  REG per group (exactly what the registry holds, so nothing is registered twice), runs
  CNSRLST and re-runs every real-time CNSRREQ, then reports `on_resubscribed` with the
  codes each condition matches now, so the engine can reconcile what it missed.
* Reconnects back off exponentially with jitter; a connection that stayed up for
  `stable_after_s` resets the back-off. A fast reconnect loop is known to get the socket
  closed by Kiwoom during the handshake, so there is never a reconnect storm.

Commands are serialised (one outstanding request at a time) because Kiwoom's replies carry
no request id: REG/REMOVE/CNSRLST acks are matched by `trnm`, CNSRREQ/CNSRCLR by `seq`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import websockets
from websockets.asyncio.client import ClientConnection

from kiwoom_terminal.api import parse_ws, wire
from kiwoom_terminal.api.errors import AuthError, embedded_code, is_success
from kiwoom_terminal.api.ws_registry import (
    Registry,
    WsCommandError,
    check_group,
    check_seq,
    normalise,
    reg_frame,
    remove_frame,
)
from kiwoom_terminal.constants import ConnectionState
from kiwoom_terminal.messages import ErrorInfo, ErrorKind
from kiwoom_terminal.objects import (
    BalanceEventData,
    ConditionData,
    ConditionEventData,
    ConditionMatchData,
    OrderBookData,
    OrderEventData,
    TickData,
)

log = logging.getLogger(__name__)

MAX_REALTIME_CONDITIONS = 10  # per login (published policy, §10.3)

_SYSTEM_REASONS = {
    wire.SYSTEM_HEARTBEAT: "PING 응답이 늦어 서버가 연결을 끊었습니다 (R10002)",
    wire.SYSTEM_NO_LOGIN: "로그인이 늦어 서버가 연결을 끊었습니다 (R10004)",
}


class RealtimeSink(Protocol):
    """Receives what the client parses. Called on the event loop; must not block."""

    def on_tick(self, tick: TickData) -> None: ...
    def on_order_book(self, book: OrderBookData) -> None: ...
    def on_order_event(self, event: OrderEventData) -> None: ...
    def on_balance_event(self, event: BalanceEventData) -> None: ...
    def on_condition_event(self, event: ConditionEventData) -> None: ...
    def on_state(self, state: ConnectionState, detail: str) -> None: ...
    def on_resubscribed(
        self, groups: tuple[str, ...], conditions: dict[str, tuple[str, ...]], reconnects: int
    ) -> None: ...


class _Kicked(Exception):
    """R10001: another session took over."""


class _LoginRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class WsClientConfig:
    """Timing and protocol knobs. The defaults suit Kiwoom's servers; tests shorten them."""

    login_timeout_s: float = 10.0
    command_timeout_s: float = 10.0
    open_timeout_s: float = 10.0
    min_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    # A session that logged in, re-registered and then stayed up this long was healthy: its
    # drop starts the back-off afresh (0.5 s). Counted from the LOGIN, not from the socket,
    # so a connection that hangs in the handshake never resets it; 5 s, so a server that
    # drops every few seconds costs half a second per drop instead of a back-off that grows
    # to 30 s offline while positions are open (the "rapid reconnect loops" §8.1 warns of
    # are connections that fail, not sessions that worked).
    stable_after_s: float = 5.0
    idle_timeout_s: float = 90.0  # no frame at all (not even PING) for this long → reconnect
    protocol_ping_s: float | None = 20.0  # RFC 6455 ping (separate from Kiwoom's PING frames)
    max_items_per_reg: int = 100  # per REG entry; the server's cap is unknown (§0.2 #1)
    condition_rate_scale: int = 1000  # CNSRREQ FID 12 scale (§0.2 #9)
    stex_tp: str = "K"  # CNSRREQ exchange; only K is documented (§0.2 #8)


class KiwoomWebSocket:
    """One WebSocket session to Kiwoom, kept alive until `stop()` or R10001.

    `get_token` returns a usable token (it may block on HTTP: it is run in a thread);
    `invalidate_token(value)` tells the token manager a LOGIN refused it.
    """

    def __init__(
        self,
        url: str,
        get_token: Callable[[], str],
        invalidate_token: Callable[[str], None],
        sink: RealtimeSink,
        config: WsClientConfig | None = None,
        *,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.url = url
        self._get_token = get_token
        self._invalidate_token = invalidate_token
        self._sink = sink
        self.config = config or WsClientConfig()
        self._rng = rng
        self._registry = Registry()
        self._ws: ClientConnection | None = None
        self._logged_in = asyncio.Event()
        self._stopped = asyncio.Event()
        self._command_lock = asyncio.Lock()
        self._waiters: dict[tuple[str, str], list[asyncio.Future[dict[str, Any]]]] = {}
        self._login_future: asyncio.Future[dict[str, Any]] | None = None
        self._last_rx = 0.0
        self.state = ConnectionState.STARTING
        self.reconnects = 0
        self.logins = 0
        self._ready_at: float | None = None  # monotonic time the current session was ready
        self.parse_errors = 0
        self.kicked = False
        self._condition_list_login = -1
        self._run_task: asyncio.Task[None] | None = None
        self._drop_reason = ""  # why the server closed the last session (SYSTEM frame)

    # --- Registry (what must be restored after a reconnect) --------------------------

    @property
    def groups(self) -> dict[str, dict[str, frozenset[str]]]:
        """A copy of the registry: group → REAL type → items."""
        return self._registry.copy()

    def restore(self, groups: dict[str, dict[str, set[str]]], conditions: Iterable[str]) -> None:
        """Start with these registrations (a restarted worker); sent after the first LOGIN."""
        self._registry.restore(groups, conditions)

    # --- Life cycle ------------------------------------------------------------------

    def stop(self) -> None:
        """Stop for good, whatever the session is doing (connecting, logging in, reading):
        the run task is cancelled, which closes the socket; no reconnect."""
        self._stopped.set()
        task = self._run_task
        if task is not None and not task.done():
            task.cancel()

    async def run(self) -> None:
        """Connect, log in, restore registrations, read frames; reconnect until stopped."""
        self._run_task = asyncio.current_task()
        try:
            await self._run()
        except asyncio.CancelledError:
            if not self._stopped.is_set():
                raise
        finally:
            self._on_disconnected()
            if not self.kicked:
                self._set_state(ConnectionState.STOPPED, "웹소켓 연결 종료")

    async def _run(self) -> None:
        attempt = 0
        while not self._stopped.is_set():
            if not self.reconnects:
                self._set_state(ConnectionState.STARTING, "웹소켓 접속 중")
            self._ready_at = None
            delay_floor = 0.0
            try:
                await self._connect_once(resubscribe=self.logins > 0)
            except _Kicked:
                self.kicked = True
                self._set_state(
                    ConnectionState.KICKED,
                    "같은 앱키로 다른 곳에서 접속하여 이 연결이 종료되었습니다. 다른 프로그램을 닫고 다시 연결하세요.",
                )
                break
            except _LoginRefused as exc:
                if exc.code in wire.REISSUE_CODES:
                    log.info("LOGIN refused with %s; re-issuing the token", exc.code)
                else:
                    self._set_state(ConnectionState.AUTH_FAILED, f"웹소켓 로그인 실패: {exc}")
                    delay_floor = self.config.max_backoff_s
            except AuthError as exc:  # the token could not be issued: wrong keys or mode
                self._set_state(ConnectionState.AUTH_FAILED, exc.message)
                delay_floor = self.config.max_backoff_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # network, handshake, protocol: all mean reconnect
                log.info("websocket session ended: %s: %s", type(exc).__name__, exc)
            finally:
                self._on_disconnected()
            if self.kicked:  # R10001 arrived while a command was failing the session
                self._set_state(
                    ConnectionState.KICKED,
                    "같은 앱키로 다른 곳에서 접속하여 연결이 종료되었습니다.",
                )
                break
            if self._stopped.is_set():
                break
            if self._was_healthy(time.monotonic()):
                attempt = 0
            attempt += 1
            self.reconnects += 1
            delay = max(delay_floor, self._backoff(attempt))
            reason = f" ({self._drop_reason})" if self._drop_reason else ""
            self._drop_reason = ""
            self._set_state(
                ConnectionState.RECONNECTING,
                f"웹소켓 연결이 끊겨{reason} {delay:.1f}초 뒤 재접속합니다",
            )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), delay)

    def _was_healthy(self, now: float) -> bool:
        """The session that just ended had logged in and stayed up `stable_after_s`."""
        ready = self._ready_at
        return ready is not None and now - ready >= self.config.stable_after_s

    def _backoff(self, attempt: int) -> float:
        cap = min(self.config.max_backoff_s, self.config.min_backoff_s * 2 ** (attempt - 1))
        return cap / 2 + self._rng() * cap / 2

    async def _connect_once(self, *, resubscribe: bool) -> None:
        loop = asyncio.get_running_loop()
        token = await loop.run_in_executor(None, self._get_token)
        async with websockets.connect(
            self.url,
            open_timeout=self.config.open_timeout_s,
            ping_interval=self.config.protocol_ping_s,
            ping_timeout=self.config.protocol_ping_s,
            close_timeout=2,
            compression=None,
            max_size=8 * 2**20,
            max_queue=256,
        ) as ws:
            self._ws = ws
            self._last_rx = loop.time()
            self._login_future = loop.create_future()
            reader = asyncio.create_task(self._read_frames(ws), name="ws-reader")
            watchdog = asyncio.create_task(self._watchdog(ws), name="ws-watchdog")
            try:
                await self._login(ws, token)
                self.logins += 1
                if resubscribe or self._registry.groups or self._registry.conditions:
                    await self._resubscribe()
                # Commands may use the session only now, so nothing is registered twice.
                self._logged_in.set()
                self._ready_at = time.monotonic()
                self._set_state(ConnectionState.CONNECTED, "웹소켓 연결됨")
                await reader  # until the socket closes; re-raises R10001
            finally:
                watchdog.cancel()
                if not reader.done():
                    reader.cancel()
                with contextlib.suppress(BaseException):
                    await reader

    async def _login(self, ws: ClientConnection, token: str) -> None:
        """Send LOGIN and wait for its reply (the reader skips SYSTEM / PING meanwhile)."""
        assert self._login_future is not None
        await ws.send(json.dumps({"trnm": "LOGIN", "token": token}))
        try:
            reply = await asyncio.wait_for(self._login_future, self.config.login_timeout_s)
        finally:
            self._login_future = None
        if not is_success(reply.get("return_code")):
            code, text = embedded_code(reply.get("return_code"), str(reply.get("return_msg", "")))
            if code in wire.REISSUE_CODES:
                self._invalidate_token(token)
            raise _LoginRefused(code, text or "로그인 거부")

    def _on_disconnected(self) -> None:
        self._ws = None
        self._logged_in.clear()
        self._fail_waiters()

    def _fail_waiters(self) -> None:
        error = WsCommandError(ErrorInfo(ErrorKind.DISCONNECTED, "", "웹소켓 연결이 끊어졌습니다"))
        for futures in self._waiters.values():
            for fut in futures:
                if not fut.done():
                    fut.set_exception(error)
        self._waiters.clear()

    async def _watchdog(self, ws: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        idle = self.config.idle_timeout_s
        while True:
            await asyncio.sleep(min(idle, 5.0))
            if loop.time() - self._last_rx > idle:
                log.warning("no frame for %.0fs; reconnecting", idle)
                await ws.close()
                return

    # --- Reading ---------------------------------------------------------------------

    async def _read_frames(self, ws: ClientConnection) -> None:
        """Read until the socket closes; then fail whoever waits on a reply."""
        ended: BaseException = ConnectionError("웹소켓 연결이 끊어졌습니다")
        try:
            await self._read_loop(ws)
        except BaseException as exc:
            ended = exc
            raise
        finally:
            self._logged_in.clear()
            fut = self._login_future
            if fut is not None and not fut.done():
                fut.set_exception(
                    ended if isinstance(ended, Exception) else ConnectionError("closed")
                )
            self._fail_waiters()

    async def _read_loop(self, ws: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        loads = json.loads
        async for raw in ws:
            self._last_rx = loop.time()
            try:
                frame = loads(raw)
            except ValueError:
                self.parse_errors += 1
                log.warning("non-JSON frame ignored (%d bytes)", len(raw))
                continue
            if not isinstance(frame, dict):
                continue
            trnm = frame.get("trnm")
            if trnm == "REAL":
                self._on_real(frame.get("data"))
            elif trnm == "PING":
                await ws.send(raw)  # echo unchanged (§8.2)
            elif trnm == "SYSTEM":
                if self._on_system(frame):
                    # The server has ended this session (R10002 / R10004): close it now
                    # rather than wait for the server's close, which may be late or never
                    # come; the run loop then reconnects, logs in and re-registers.
                    await ws.close()
                    return
            elif trnm == "LOGIN":
                fut = self._login_future
                if fut is not None and not fut.done():
                    fut.set_result(frame)
            else:
                self._resolve(str(trnm), frame)

    def _on_real(self, data: Any) -> None:
        if not isinstance(data, list):
            return
        now = time.time()
        sink = self._sink
        for entry in data:
            try:
                kind = entry.get("type")
                item = entry.get("item") or ""
                if isinstance(item, list):  # tolerated: a one-element list
                    item = item[0] if item else ""
                values = entry.get("values")
                if not isinstance(values, dict):
                    values = parse_ws.unwrap_values(values)
                if kind == wire.REAL_TRADE:
                    sink.on_tick(parse_ws.tick(item, values, now))
                elif kind == wire.REAL_BOOK:
                    sink.on_order_book(parse_ws.order_book(item, values, now))
                elif kind == wire.REAL_ORDER:
                    sink.on_order_event(parse_ws.order_event(item, values, now))
                elif kind == wire.REAL_BALANCE:
                    sink.on_balance_event(parse_ws.balance_event(item, values, now))
                elif kind == wire.REAL_CONDITION:
                    sink.on_condition_event(parse_ws.condition_event(item, values, now))
            except (ValueError, AttributeError, TypeError, KeyError) as exc:
                self.parse_errors += 1
                if self.parse_errors <= 20 or self.parse_errors % 1000 == 0:
                    log.warning("REAL entry skipped (%s): %s", type(exc).__name__, exc)

    def _on_system(self, frame: dict[str, Any]) -> bool:
        """Handle a SYSTEM frame (never echoed); True when the session is over and the
        caller must close the socket. R10001 raises `_Kicked`: no reconnect."""
        code = str(frame.get("code", "")).strip()
        message = str(frame.get("message", "")).strip()
        log.warning("SYSTEM %s: %s", code, message)
        if code == wire.SYSTEM_KICKED:
            self.kicked = True
            raise _Kicked(message)
        # Other codes are notices; if the server closes after one, the reconnect shows it.
        self._drop_reason = _SYSTEM_REASONS.get(code, f"서버 알림 {code}: {message}")
        return code in _SYSTEM_REASONS  # R10002 / R10004: the server dropped the session

    def _resolve(self, trnm: str, frame: dict[str, Any]) -> None:
        seq = str(frame.get("seq", "")).strip()
        for key in ((trnm, seq), (trnm, "")):
            futures = self._waiters.get(key)
            while futures:
                fut = futures.pop(0)
                if not fut.done():
                    fut.set_result(frame)
                    return
        log.debug("unsolicited %s reply ignored", trnm)

    # --- Commands --------------------------------------------------------------------

    async def _request(
        self,
        frame: dict[str, Any],
        *,
        key: tuple[str, str],
        wait_reply: bool = True,
        need_login: bool = True,
    ) -> dict[str, Any]:
        """Send one command frame and wait for its reply. The caller holds the command lock
        (and waited for the connection before taking it: `_wait_connected`)."""
        ws = self._ws
        if ws is None or (need_login and not self._logged_in.is_set()):
            raise WsCommandError(
                ErrorInfo(ErrorKind.DISCONNECTED, "", "웹소켓이 연결되어 있지 않습니다")
            )
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        if wait_reply:
            self._waiters.setdefault(key, []).append(fut)
        try:
            await ws.send(json.dumps(frame, ensure_ascii=False))
        except websockets.ConnectionClosed as exc:
            raise WsCommandError(
                ErrorInfo(ErrorKind.DISCONNECTED, "", "웹소켓 연결이 끊어졌습니다")
            ) from exc
        if not wait_reply:
            return {}
        try:
            reply = await asyncio.wait_for(fut, self.config.command_timeout_s)
        except asyncio.TimeoutError:
            futures = self._waiters.get(key, [])
            if fut in futures:
                futures.remove(fut)
            raise WsCommandError(
                ErrorInfo(
                    ErrorKind.TIMEOUT,
                    "",
                    f"{frame['trnm']} 응답이 {self.config.command_timeout_s:g}초 안에 오지 않았습니다",
                )
            ) from None
        if not is_success(reply.get("return_code")):
            code, text = embedded_code(reply.get("return_code"), str(reply.get("return_msg", "")))
            raise WsCommandError(
                ErrorInfo(ErrorKind.REJECTED, code, f"{frame['trnm']} 거부: {text}")
            )
        return reply

    async def _wait_connected(self) -> None:
        """Wait (never while holding the command lock) until the session is usable."""
        if self.kicked or self._stopped.is_set():
            raise WsCommandError(ErrorInfo(ErrorKind.DISCONNECTED, "", "웹소켓이 종료되었습니다"))
        try:
            await asyncio.wait_for(self._logged_in.wait(), self.config.command_timeout_s)
        except asyncio.TimeoutError:
            raise WsCommandError(
                ErrorInfo(
                    ErrorKind.DISCONNECTED, "", "웹소켓이 연결되지 않아 요청을 보낼 수 없습니다"
                )
            ) from None

    async def subscribe(
        self, group: str, items: Iterable[str], types: Iterable[str], *, refresh: bool = True
    ) -> None:
        """REG `items` × `types` in `group`. `refresh=False` replaces what the group had
        (REG refresh 0). Only what is not registered yet is sent. While disconnected the
        registry is updated and the REG goes out after the next LOGIN."""
        group = check_group(group)
        new = normalise(items, types)
        async with self._command_lock:
            before, send = self._registry.add(group, new, refresh=refresh)
            if not send or not self._logged_in.is_set():
                return
            try:
                await self._send(reg_frame(group, send, refresh=refresh, max_items=self._max_items))
            except WsCommandError as exc:
                if exc.info.kind is ErrorKind.REJECTED:  # refused: undo; dropped: restored later
                    self._registry.revert(group, before)
                raise

    async def unsubscribe(
        self, group: str, items: Iterable[str] = (), types: Iterable[str] = ()
    ) -> None:
        """REMOVE `items` × `types` from `group`; no items and no types = the whole group."""
        group = check_group(group)
        items = list(items)
        types = list(types)
        async with self._command_lock:
            wanted = None if not items and not types else normalise(items, types)
            gone = self._registry.remove(group, wanted)
            if gone and self._logged_in.is_set():
                await self._send(remove_frame(group, gone, max_items=self._max_items))

    async def list_conditions(self) -> list[ConditionData]:
        """CNSRLST."""
        await self._wait_connected()
        async with self._command_lock:
            reply = await self._request({"trnm": "CNSRLST"}, key=("CNSRLST", ""))
        return parse_ws.condition_list(reply.get("data"))

    async def search_condition(self, seq: str) -> list[ConditionMatchData]:
        """One-shot CNSRREQ (search_type 0), following cont_yn / next_key to the end."""
        seq = check_seq(seq)
        matches: list[ConditionMatchData] = []
        await self._wait_connected()
        async with self._command_lock:
            await self._ensure_condition_list()
            next_key = ""
            cont = "N"
            for _ in range(100):
                frame = {
                    "trnm": "CNSRREQ",
                    "seq": seq,
                    "search_type": "0",
                    "stex_tp": self.config.stex_tp,
                    "cont_yn": cont,
                    "next_key": next_key,
                }
                reply = await self._request(frame, key=("CNSRREQ", seq))
                matches.extend(
                    parse_ws.condition_matches(
                        reply.get("data"), rate_scale=self.config.condition_rate_scale
                    )
                )
                next_key = str(reply.get("next_key") or "").strip()
                if str(reply.get("cont_yn", "N")).strip().upper() != "Y" or not next_key:
                    break
                cont = "Y"
        return matches

    async def start_condition(self, seq: str) -> list[str]:
        """Real-time CNSRREQ (search_type 1): returns the codes matching now; entries and
        exits then arrive as REAL 02. Remembered and restored after reconnects."""
        seq = check_seq(seq)
        await self._wait_connected()
        async with self._command_lock:
            running = self._registry.conditions
            if seq not in running and len(running) >= MAX_REALTIME_CONDITIONS:
                raise WsCommandError(
                    ErrorInfo(
                        ErrorKind.INPUT,
                        "",
                        f"실시간 조건검색은 최대 {MAX_REALTIME_CONDITIONS}개까지 실행할 수 있습니다",
                    )
                )
            await self._ensure_condition_list()
            codes = await self._start_condition(seq)
            self._registry.conditions.add(seq)
        return codes

    async def stop_condition(self, seq: str) -> None:
        """CNSRCLR. The ack is optional (§10.4): sent, not waited for."""
        seq = check_seq(seq)
        async with self._command_lock:
            self._registry.conditions.discard(seq)
            if self._logged_in.is_set():
                await self._request(
                    {"trnm": "CNSRCLR", "seq": seq}, key=("CNSRCLR", seq), wait_reply=False
                )

    async def _start_condition(self, seq: str) -> list[str]:
        frame = {"trnm": "CNSRREQ", "seq": seq, "search_type": "1", "stex_tp": self.config.stex_tp}
        reply = await self._request(frame, key=("CNSRREQ", seq))
        return parse_ws.condition_codes(reply.get("data"))

    async def _ensure_condition_list(self) -> None:
        """CNSRLST must precede CNSRREQ on a connection (§10.1); once per LOGIN."""
        if self._condition_list_login != self.logins:
            await self._request({"trnm": "CNSRLST"}, key=("CNSRLST", ""))
            self._condition_list_login = self.logins

    @property
    def _max_items(self) -> int:
        return self.config.max_items_per_reg

    async def _send(self, frame: dict[str, Any]) -> None:
        """A REG or REMOVE frame; the ack carries only `trnm`."""
        await self._request(frame, key=(str(frame["trnm"]), ""), need_login=False)

    async def _resubscribe(self) -> None:
        """After a new LOGIN: one REG per group, CNSRLST, every real-time CNSRREQ."""
        async with self._command_lock:
            for group, registrations in sorted(self._registry.groups.items()):
                try:
                    await self._send(
                        reg_frame(group, registrations, refresh=True, max_items=self._max_items)
                    )
                except WsCommandError as exc:
                    if exc.info.kind is not ErrorKind.REJECTED:
                        raise  # the session is gone: reconnect
                    log.warning("re-REG of group %s refused: %s", group, exc)
            conditions: dict[str, tuple[str, ...]] = {}
            if self._registry.conditions:
                await self._request({"trnm": "CNSRLST"}, key=("CNSRLST", ""), need_login=False)
                self._condition_list_login = self.logins
                for seq in sorted(self._registry.conditions):
                    frame = {
                        "trnm": "CNSRREQ",
                        "seq": seq,
                        "search_type": "1",
                        "stex_tp": self.config.stex_tp,
                    }
                    try:
                        reply = await self._request(frame, key=("CNSRREQ", seq), need_login=False)
                    except WsCommandError as exc:
                        if exc.info.kind is not ErrorKind.REJECTED:
                            raise
                        log.warning("real-time condition %s could not be restarted: %s", seq, exc)
                        continue
                    conditions[seq] = tuple(parse_ws.condition_codes(reply.get("data")))
            groups = tuple(sorted(self._registry.groups))
        if self.logins > 1 or groups or conditions:
            self._sink.on_resubscribed(groups, conditions, self.reconnects)

    def _set_state(self, state: ConnectionState, detail: str) -> None:
        if state == self.state and state != ConnectionState.RECONNECTING:
            return
        self.state = state
        self._sink.on_state(state, detail)
