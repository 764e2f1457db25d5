"""The WebSocket side (kiwoom-api.md §8–10): LOGIN, PING, REG / REMOVE, CNSR*, REAL.

One task per connection reads frames; replies and pushes go through the session's outbox
(see feed.py) so they leave in order. A watchdog closes connections that never log in
(R10004); after LOGIN the server sends PING every `ping_interval` seconds and closes with
R10002 after `max_missed` PINGs without an echo. A second LOGIN with the same app key kicks
the first session (R10001). Binary frames are closed with 1003; malformed JSON and unknown
`trnm` get an error reply and the connection stays up. For client tests: the
`ws_login_preamble` fault sends a PING and a SYSTEM notice before each LOGIN reply, and
`send_system` (control `ws_system`) sends any SYSTEM frame without closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from kiwoom_terminal import krx
from kiwoom_terminal.sim.auth import redact
from kiwoom_terminal.sim.feed import Session
from kiwoom_terminal.sim.formats import a_code, cnsr9

if TYPE_CHECKING:
    from kiwoom_terminal.sim.server import Simulator

log = logging.getLogger(__name__)

WS_PATH = "/api/dostk/websocket"
REAL_TYPES = frozenset(
    [
        "00",
        "04",
        "0A",
        "0B",
        "0C",
        "0D",
        "0E",
        "0F",
        "0G",
        "0H",
        "0I",
        "0J",
        "0U",
        "0g",
        "0m",
        "0s",
        "0u",
        "0w",
        "1h",
    ]
)
MAX_REALTIME_CONDITIONS = 10  # per login (published policy)

R10001 = "동일한 App key로 접속이 되었습니다. 기존 세션은 종료가 됩니다"
R10002 = "사용자 프로그램으로부터 Heartbeat(연결유지) 메시지가 오지않아서 접속을 종료합니다"
R10004 = "접속허용요청(토큰)이 들어오지 않았습니다"
SYSTEM_TEXTS = {"R10001": R10001, "R10002": R10002, "R10004": R10004}
# kiwoom-api.md §8.1: the real server may send SYSTEM frames before the LOGIN reply, but
# their content is not documented. This notice (`ws_login_preamble` fault) is the
# simulator's own invention, with a code no Kiwoom frame uses.
PREAMBLE_NOTICE = {
    "trnm": "SYSTEM",
    "code": "SIM0001",
    "message": "모의 서버 공지: 로그인 응답 전에 보내는 알림입니다",
}
LOGIN_FAILED = (
    "토큰 인증에 실패했습니다. 접속을 종료합니다 [CODE=8005, MESSAGE=Token이 유효하지 않습니다]"
)


class WsServer:
    """Serves the Kiwoom WebSocket protocol for the simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.server: Server | None = None

    async def start(self, host: str, port: int) -> int:
        self.server = await serve(
            self._connection,
            host,
            port,
            process_request=self._check_path,
            compression=None,  # the feed is large; deflate would cost more than it saves
            ping_interval=None,  # Kiwoom uses application-level PING frames
            max_size=1024 * 1024,
            max_queue=64,
            close_timeout=1.0,  # a client that never answers the close must not stall a stop
        )
        sock = next(iter(self.server.sockets))
        return int(sock.getsockname()[1])

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def _check_path(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] != WS_PATH:
            return Response(404, "Not Found", Headers(), b"Not Found\n")
        return None

    # --- connection ----------------------------------------------------------------------

    async def _connection(self, ws: ServerConnection) -> None:
        sim = self.sim
        session = Session(ws, batch=sim.feed.batch, max_backlog=sim.feed.max_backlog)
        sim.feed.sessions.add(session)
        sender = asyncio.create_task(self._send_loop(session))
        watchdog = asyncio.create_task(self._login_watchdog(session))
        pinger: asyncio.Task[None] | None = None
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    await ws.close(1003, "binary frames are not supported")
                    break
                was_logged_in = session.logged_in
                try:
                    self._on_text(session, message)
                except Exception:  # a bug must cost one reply, not the session
                    log.exception("WebSocket frame failed")
                    session.send(_error("", "요청을 처리하는 중에 오류가 발생했습니다"))
                if session.logged_in and not was_logged_in:
                    pinger = asyncio.create_task(self._ping_loop(session))
                sim.feed.flush()
        except ConnectionClosed:
            pass
        finally:
            for task in (sender, watchdog, pinger):
                if task is not None:
                    task.cancel()
            sim.feed.sessions.discard(session)
            sim.feed.rebuild()

    async def _send_loop(self, session: Session) -> None:
        with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
            await session.sender()

    async def _close_with(self, session: Session, message: dict[str, Any], reason: str) -> None:
        """Send a SYSTEM frame after what is queued, then close the connection."""
        if session.closing:
            return
        session.closing = True
        session.send(message)
        await session.drain()
        with contextlib.suppress(ConnectionClosed):
            await session.ws.close(1000, reason)

    def close_later(self, session: Session, message: dict[str, Any], reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self._close_with(session, message, reason))
        self.sim.background.add(task)
        task.add_done_callback(self.sim.background.discard)

    async def _login_watchdog(self, session: Session) -> None:
        await asyncio.sleep(self.sim.config.ws_login_timeout)
        if not session.logged_in:
            await self._close_with(
                session, {"trnm": "SYSTEM", "code": "R10004", "message": R10004}, "R10004"
            )

    async def _ping_loop(self, session: Session) -> None:
        interval = self.sim.config.ws_ping_interval
        while not session.closing:
            await asyncio.sleep(interval)
            if session.ping_echoed:
                session.missed_pings = 0
            else:
                session.missed_pings += 1
                if session.missed_pings >= self.sim.config.ws_max_missed:
                    await self._close_with(
                        session,
                        {"trnm": "SYSTEM", "code": "R10002", "message": R10002},
                        "R10002",
                    )
                    return
            session.ping_echoed = False
            session.send({"trnm": "PING"})

    # --- frames --------------------------------------------------------------------------

    def _on_text(self, session: Session, text: str) -> None:
        try:
            frame = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            session.send(_error("", "요청 메시지가 올바른 JSON이 아닙니다"))
            return
        if not isinstance(frame, dict):
            session.send(_error("", "요청 메시지는 JSON 객체여야 합니다"))
            return
        trnm = frame.get("trnm")
        if not isinstance(trnm, str) or not trnm:
            session.send(_error("", "trnm이 없습니다"))
            return
        session.received[trnm if trnm in _COUNTED else "other"] += 1
        if trnm == "PING":
            session.ping_echoed = True
            return
        if trnm == "LOGIN":
            self._login(session, frame)
            return
        if not session.logged_in:
            session.send(_error(trnm[:20], "LOGIN이 먼저 필요합니다"))
            return
        handler = {
            "REG": self._reg,
            "REMOVE": self._reg,
            "CNSRLST": self._cnsr_list,
            "CNSRREQ": self._cnsr_req,
            "CNSRCLR": self._cnsr_clear,
        }.get(trnm)
        if handler is None:
            session.send(_error(trnm[:20], f"지원하지 않는 trnm입니다. trnm={trnm[:20]}"))
            return
        handler(session, frame)

    def _login(self, session: Session, frame: dict[str, Any]) -> None:
        token = frame.get("token")
        info = self.sim.auth.check(token) if isinstance(token, str) else None
        if info is None:
            log.info("WebSocket LOGIN rejected")
            self.close_later(
                session, {"trnm": "LOGIN", "return_code": 3, "return_msg": LOGIN_FAILED}, "8005"
            )
            return
        if session.logged_in:
            session.send({"trnm": "LOGIN", "return_code": 0, "return_msg": "", "sor_yn": "Y"})
            return
        for other in list(self.sim.feed.sessions):
            if other is not session and other.logged_in and other.app_key == info.app_key:
                other.logged_in = False
                self.close_later(
                    other, {"trnm": "SYSTEM", "code": "R10001", "message": R10001}, "R10001"
                )
        session.logged_in = True
        session.app_key = info.app_key
        session.token = info.token
        log.info("WebSocket LOGIN ok (app key %s)", redact(info.app_key))
        if self.sim.faults.ws_login_preamble:
            session.ping_echoed = False  # a real PING: the next ping-loop check wants its echo
            session.send({"trnm": "PING"})
            session.send(PREAMBLE_NOTICE)
        session.send({"trnm": "LOGIN", "return_code": 0, "return_msg": "", "sor_yn": "Y"})
        self.sim.feed.rebuild()

    def _reg(self, session: Session, frame: dict[str, Any]) -> None:
        trnm = frame["trnm"]
        grp = frame.get("grp_no", "1")
        if isinstance(grp, int) and not isinstance(grp, bool):
            grp = str(grp)
        if not isinstance(grp, str) or len(grp) > 4:
            session.send(_error(trnm, "grp_no 형식 오류"))
            return
        data = frame.get("data")
        if not isinstance(data, list) or not data:
            session.send(_error(trnm, "data 형식 오류: [{item: [...], type: [...]}]"))
            return
        pairs: set[tuple[str, str]] = set()
        for entry in data:
            if not isinstance(entry, dict):
                session.send(_error(trnm, "data 형식 오류: [{item: [...], type: [...]}]"))
                return
            items, types = entry.get("item", []), entry.get("type")
            if isinstance(items, str):
                items = [items]
            if isinstance(types, str):
                types = [types]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                session.send(_error(trnm, "item 형식 오류"))
                return
            if (
                not isinstance(types, list)
                or not types
                or not all(isinstance(t, str) for t in types)
            ):
                session.send(_error(trnm, "type 형식 오류"))
                return
            for t in types:
                if t not in REAL_TYPES:
                    session.send(_error(trnm, f"지원하지 않는 실시간 타입입니다. type={t[:10]}"))
                    return
            for t in types:
                if t in ("00", "04"):
                    pairs.add(("", t))
                    continue
                for item in items:
                    pairs.add((item.strip().upper(), t))
        items_in_frame = {item for item, _ in pairs}
        if len(items_in_frame) > self.sim.config.reg_cap:
            session.send(
                _error(
                    trnm,
                    f"한 번에 등록할 수 있는 종목 수를 초과했습니다(최대 {self.sim.config.reg_cap})",
                )
            )
            return
        if trnm == "REG":
            for item, type_code in pairs:
                session.reg_counts[f"{grp}|{item}|{type_code}"] += 1
            if str(frame.get("refresh", "1")).strip() == "0":
                session.groups[grp] = set()
            session.groups.setdefault(grp, set()).update(pairs)
        else:
            group = session.groups.get(grp, set())
            group -= pairs
            if not group:
                session.groups.pop(grp, None)
        session.send({"trnm": trnm, "return_code": 0, "return_msg": ""})
        self.sim.feed.rebuild()

    def _cnsr_list(self, session: Session, frame: dict[str, Any]) -> None:
        session.cnsr_listed = True
        data = [[seq, name] for seq, name in self.sim.conditions.listing()]
        session.send({"trnm": "CNSRLST", "return_code": 0, "return_msg": "", "data": data})

    def _cnsr_req(self, session: Session, frame: dict[str, Any]) -> None:
        conditions = self.sim.conditions
        seq = str(frame.get("seq", "")).strip()
        search_type = str(frame.get("search_type", "0")).strip()
        if search_type not in ("0", "1"):
            session.send(_error("CNSRREQ", "search_type 형식 오류", seq=seq))
            return
        if search_type == "1" and not session.cnsr_listed:
            # Observed: without CNSRLST first on the connection the server does not answer.
            log.warning("CNSRREQ (real-time) before CNSRLST on this connection: no reply")
            return
        if seq not in conditions.defs:
            session.send(
                _error("CNSRREQ", f"존재하지 않는 일련번호입니다.(seq={seq[:5]})", seq=seq)
            )
            return
        codes = conditions.matches(seq)
        if search_type == "1":
            if seq not in session.cnsr_rt and len(session.cnsr_rt) >= MAX_REALTIME_CONDITIONS:
                session.send(
                    _error(
                        "CNSRREQ",
                        f"실시간 조건검색은 최대 {MAX_REALTIME_CONDITIONS}개까지 가능합니다",
                        seq=seq,
                    )
                )
                return
            session.cnsr_rt.add(seq)
            self.sim.feed.rebuild()
            session.send(
                {
                    "trnm": "CNSRREQ",
                    "seq": seq,
                    "return_code": 0,
                    "return_msg": "",
                    "data": [{"jmcode": a_code(code)} for code in codes],
                }
            )
            return
        size = self.sim.config.cnsr_page_size
        start = 0
        if str(frame.get("cont_yn", "N")).upper() == "Y":
            key = str(frame.get("next_key", "")).strip()
            start = int(key) if key.isdigit() else 0
        chunk = codes[start : start + size]
        more = start + size < len(codes)
        rows = []
        for code in chunk:
            s = self.sim.market.stocks[code]
            base = s.base
            rows.append(
                {
                    "9001": a_code(code),
                    "302": s.name,
                    "10": cnsr9(s.price),
                    "25": _sign(s.price, base, s),
                    "11": cnsr9(s.price - base),
                    "12": cnsr9(round((s.price - base) / base * 100_000)),
                    "13": cnsr9(s.cum_volume),
                    "16": cnsr9(s.open),
                    "17": cnsr9(s.high),
                    "18": cnsr9(s.low),
                }
            )
        session.send(
            {
                "trnm": "CNSRREQ",
                "seq": seq,
                "cont_yn": "Y" if more else "N",
                "next_key": str(start + size) if more else "",
                "return_code": 0,
                "return_msg": "",
                "data": rows,
            }
        )

    def _cnsr_clear(self, session: Session, frame: dict[str, Any]) -> None:
        seq = str(frame.get("seq", "")).strip()
        session.cnsr_rt.discard(seq)
        self.sim.feed.rebuild()
        session.send({"trnm": "CNSRCLR", "seq": seq, "return_code": 0, "return_msg": ""})

    # --- faults and revocation -----------------------------------------------------------

    def drop_all(self) -> int:
        """Cut every connection without a close frame (the `ws_drop` fault)."""
        n = 0
        for session in list(self.sim.feed.sessions):
            transport = session.ws.transport
            if transport is not None:
                transport.abort()
                n += 1
        return n

    def send_system(self, code: str, message: str, session_id: int | None = None) -> int:
        """Send a SYSTEM frame to every open session (or the one with `session_id`) and
        keep the connection open, as a server slow to close after R10002 / R10004 would:
        the client must act on the frame itself. Returns how many sessions got it."""
        n = 0
        for session in list(self.sim.feed.sessions):
            if session.closing or (session_id is not None and session.id != session_id):
                continue
            session.send({"trnm": "SYSTEM", "code": code, "message": message})
            n += 1
        return n

    def on_token_revoked(self, token: str) -> None:
        for session in list(self.sim.feed.sessions):
            if session.token == token and not session.closing:
                session.closing = True
                task = asyncio.get_running_loop().create_task(
                    session.ws.close(1008, "token revoked")
                )
                self.sim.background.add(task)
                task.add_done_callback(self.sim.background.discard)


# trnm values counted by name in Session.received; anything else counts as "other", so a
# client sending random trnm values cannot grow the counter without bound.
_COUNTED = frozenset(["LOGIN", "PING", "REG", "REMOVE", "CNSRLST", "CNSRREQ", "CNSRCLR", "SYSTEM"])


def _error(trnm: str, message: str, **extra: str) -> dict[str, Any]:
    return {"trnm": trnm, **extra, "return_code": 1, "return_msg": message}


def _sign(price: int, base: int, stock: Any) -> str:
    return krx.sign_code(price, base, stock.band)
