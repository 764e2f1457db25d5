"""REST routing: paths and api-ids (§1.2), authentication, rate limits, faults, envelopes.

Order of checks, as the real server answers them: path → method → api-id (1501 empty,
1505 unknown, 1504 wrong path) → JSON body (1517) → token (1513/1514/1516, 8005) → rate
limit (429, 1700/1701) → the TR's own input checks (1511/1517) → business rules. Faults
(5xx, non-JSON, delay, processed-but-lost replies) wrap the whole thing; the delay holds
every reply this layer gives, errors and rejections included (a slow link does not know
whether the answer is good news).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiwoom_terminal.sim import errors, tr_account, tr_market, tr_order
from kiwoom_terminal.sim.auth import redact
from kiwoom_terminal.sim.fields import Fields, Page, Reply
from kiwoom_terminal.sim.http import JSON_TYPE, Request, Response

if TYPE_CHECKING:
    from kiwoom_terminal.sim.server import Simulator

log = logging.getLogger(__name__)

TrHandler = Callable[["Simulator", Fields, Page], Reply]

TRS: dict[str, tuple[str, TrHandler]] = {
    "ka10001": ("/api/dostk/stkinfo", tr_market.ka10001),
    "ka10099": ("/api/dostk/stkinfo", tr_market.ka10099),
    "ka10100": ("/api/dostk/stkinfo", tr_market.ka10100),
    "ka10004": ("/api/dostk/mrkcond", tr_market.ka10004),
    "ka10007": ("/api/dostk/mrkcond", tr_market.ka10007),
    "ka10086": ("/api/dostk/mrkcond", tr_market.ka10086),
    "ka10080": ("/api/dostk/chart", tr_market.ka10080),
    "ka10081": ("/api/dostk/chart", tr_market.ka10081),
    "ka00001": ("/api/dostk/acnt", tr_account.ka00001),
    "kt00001": ("/api/dostk/acnt", tr_account.kt00001),
    "kt00018": ("/api/dostk/acnt", tr_account.kt00018),
    "ka10075": ("/api/dostk/acnt", tr_account.ka10075),
    "ka10076": ("/api/dostk/acnt", tr_account.ka10076),
    "kt10000": ("/api/dostk/ordr", tr_order.kt10000),
    "kt10001": ("/api/dostk/ordr", tr_order.kt10001),
    "kt10002": ("/api/dostk/ordr", tr_order.kt10002),
    "kt10003": ("/api/dostk/ordr", tr_order.kt10003),
}
OAUTH_PATHS = {"/oauth2/token": "au10001", "/oauth2/revoke": "au10002"}
OAUTH_IDS = {api_id: path for path, api_id in OAUTH_PATHS.items()}
PATHS = {path for path, _ in TRS.values()} | set(OAUTH_PATHS)
# Documented TRs this simulator does not serve: a known api-id on its path -> 1504-style
# "not supported here" is wrong, so they answer as the mock server does for unsupported TRs.
KNOWN_ELSEWHERE = {
    "kt00004": "/api/dostk/acnt",
    "kt00005": "/api/dostk/acnt",
    "kt00007": "/api/dostk/acnt",
    "kt00009": "/api/dostk/acnt",
}
ORDER_TRS = frozenset({"kt10000", "kt10001", "kt10002", "kt10003"})

_MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>시스템 점검</title></head>"
    "<body><h1>시스템 점검 중입니다</h1><p>잠시 후 다시 이용해 주십시오.</p></body></html>"
).encode()


class RestApi:
    """Answers Kiwoom REST requests against the simulator's state."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.counts: Counter[str] = Counter()
        self.results: Counter[tuple[str, str]] = Counter()  # (api-id, return_code or fault)
        self.fault_rng = random.Random(sim.config.seed + 99)

    async def handle(self, req: Request) -> Response:
        if req.path.startswith("/_sim/"):
            return await self.sim.control.handle(req)
        api_id = req.headers.get("api-id", "").strip()
        resp = await self._handle(req, api_id)
        delay = self._delay_ms(req, api_id)
        if delay:
            await asyncio.sleep(delay / 1000.0)
        self.sim.after_request()
        return resp

    def _delay_ms(self, req: Request, api_id: str) -> float:
        """The `delay_ms` fault for every reply, plus `order_delay_ms` for the order TRs
        (their rejections too); the token endpoint gets `delay_ms` only."""
        faults = self.sim.faults
        if req.path in OAUTH_PATHS:
            return faults.delay_ms
        return faults.delay_ms + (faults.order_delay_ms if api_id in ORDER_TRS else 0.0)

    async def _handle(self, req: Request, api_id: str) -> Response:
        if req.path not in PATHS:
            err = errors.bad_request(1504, f"지원하지 않는 URI입니다. URI={req.path[:100]}")
            err.status = 404
            return Response.error(err)
        if req.method != "POST":
            err = errors.bad_request(1504, f"지원하지 않는 HTTP Method입니다. Method={req.method}")
            err.status = 405
            return Response.error(err)
        oauth = OAUTH_PATHS.get(req.path)
        if oauth and not api_id:
            api_id = oauth  # the official client sends no api-id on /oauth2/*
        if not api_id:
            return Response.error(errors.bad_request(1501, "API ID가 Null이거나 값이 없습니다"))
        self.counts[api_id[:20]] += 1
        known_path = TRS[api_id][0] if api_id in TRS else KNOWN_ELSEWHERE.get(api_id)
        if api_id in OAUTH_IDS:
            known_path = OAUTH_IDS[api_id]
        if known_path is None:
            return self._count(
                api_id,
                errors.bad_request(1505, f"존재하지 않는 API ID입니다. API ID={api_id[:20]}"),
            )
        if known_path != req.path:
            return self._count(
                api_id,
                errors.bad_request(
                    1504, f"해당 URI에서는 지원하지 않는 API ID입니다. API ID={api_id}"
                ),
            )
        faults = self.sim.faults
        # Broken replies hit TRs only: the token endpoint stays usable so tests can log in.
        if not oauth and faults.error_rate and self.fault_rng.random() < faults.error_rate:
            self.results[(api_id, "5xx")] += 1
            return self._server_error()
        if not oauth and faults.nonjson_rate and self.fault_rng.random() < faults.nonjson_rate:
            self.results[(api_id, "nonjson")] += 1
            return Response(200, _MAINTENANCE_PAGE, {"Content-Type": "text/html;charset=UTF-8"})
        try:
            raw = json.loads(req.body.decode("utf-8")) if req.body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return self._count(
                api_id, errors.input_error(1517, "요청 본문이 올바른 JSON이 아닙니다")
            )
        if not isinstance(raw, dict):
            return self._count(api_id, errors.input_error(1517, "요청 본문은 JSON 객체여야 합니다"))
        try:
            if oauth:
                body = self._oauth(api_id, raw)
                reply = Reply(body)
            else:
                app_key = self._authenticate(req.headers)
                self._rate_limit(app_key, api_id)
                if api_id in KNOWN_ELSEWHERE:
                    raise errors.reject(errors.NOT_PROVIDED, mock=self.sim.account.mock)
                handler = TRS[api_id][1]
                self.sim.account.request_stamps = (req.received_at, req.loop_read_at, req.read_at)
                reply = handler(self.sim, Fields(raw), Page.from_headers(req.headers))
        except errors.ApiError as err:
            return self._count(api_id, err, cont_headers=True)
        if (
            api_id in ORDER_TRS
            and faults.ghost_rate
            and self.fault_rng.random() < faults.ghost_rate
        ):
            log.info("ghost fault: %s processed, reply replaced by HTTP 500", api_id)
            self.results[(api_id, "ghost")] += 1
            return self._server_error()
        self.results[(api_id, "0")] += 1
        body = dict(reply.body)
        body["return_code"] = 0
        body["return_msg"] = reply.message
        return Response.json(
            body,
            headers={
                "api-id": api_id,
                "cont-yn": "Y" if reply.cont else "N",
                "next-key": reply.next_key,
                "Content-Type": JSON_TYPE,
            },
        )

    def _count(self, api_id: str, err: errors.ApiError, cont_headers: bool = True) -> Response:
        self.results[(api_id[:20], str(err.return_code))] += 1
        if cont_headers:
            err.headers = {"api-id": api_id[:20], "cont-yn": "N", "next-key": "", **err.headers}
        return Response.error(err)

    def _server_error(self) -> Response:
        if self.fault_rng.random() < 0.5:
            return Response.error(
                errors.service_error(1999, "예기치 못한 오류가 발생했습니다", status=500)
            )
        return Response(
            503, b"<html><body>503 Service Unavailable</body></html>", {"Content-Type": "text/html"}
        )

    def _oauth(self, api_id: str, raw: dict[str, object]) -> dict[str, object]:
        auth = self.sim.auth
        app_key = raw.get("appkey")
        if isinstance(app_key, str) and app_key:
            self._rate_limit(app_key, api_id)
        if api_id == "au10001":
            auth.ttl = self.sim.faults.token_ttl
            info = auth.issue(raw)
            log.info("token issued for app key %s", redact(info.app_key))
            return {"expires_dt": info.expires_dt, "token_type": "bearer", "token": info.token}
        auth.revoke(raw)
        return {}

    def _authenticate(self, headers: dict[str, str]) -> str:
        value = headers.get("authorization")
        if value is None:
            raise errors.input_error(1513, "Header의 authorization 필드가 존재하지 않습니다")
        scheme, space, token = value.strip().partition(" ")
        token = token.strip()
        if not scheme or (scheme.lower() == "bearer" and not token):
            raise errors.input_error(1516, "Token이 정의되어 있지 않습니다")
        if not space:
            raise errors.input_error(1514, "authorization 필드 형식이 올바르지 않습니다")
        if scheme.lower() != "bearer":
            raise errors.input_error(1515, "authorization의 Grant Type이 올바르지 않습니다")
        info = self.sim.auth.check(token)
        if info is None:
            raise errors.invalid_token()
        return info.app_key

    def _rate_limit(self, app_key: str, api_id: str) -> None:
        verdict = self.sim.limiter.check(app_key, api_id)
        if verdict == "api":
            raise errors.rate_limited(self.sim.limiter.per_api, api_id)
        if verdict == "global":
            raise errors.rate_limited(self.sim.limiter.global_rate, api_id, total=True)
