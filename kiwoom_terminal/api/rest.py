"""The REST client: one `requests.Session` per process, a timeout on every call, the
`authorization` header added in one place, tokens from the TokenManager, the rate limiter in
front of every call, errors classified by the embedded code, and paging (kiwoom-api.md §1–§4).

TR-specific bodies and parsing live in `trs.py`; how a POST reaches the wire (`Session.send`,
or the session's connection pool directly for orders) in `transport.py`; this module knows
only api-ids and paths. Nothing here logs headers or bodies: a debug line names the api-id,
status and duration.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from kiwoom_terminal.api import wire
from kiwoom_terminal.api.errors import (
    BadReplyError,
    RateLimitError,
    RequestError,
    TokenInvalidError,
    classify,
)
from kiwoom_terminal.api.ratelimit import RateLimiter
from kiwoom_terminal.api.token import AccessToken, TokenManager, TokenStore, parse_expires_dt
from kiwoom_terminal.api.transport import make_transport
from kiwoom_terminal.secrets import Credentials

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json;charset=UTF-8"
CONNECT_TIMEOUT_S = 3.05  # connect separately from read, so a dead host fails fast


@dataclass(frozen=True)
class RestReply:
    """One HTTP reply that carried return_code 0."""

    api_id: str
    body: dict[str, Any]
    has_more: bool  # response header cont-yn: Y
    next_key: str  # response header next-key ("" when none)
    status: int


class RestClient:
    """POSTs TRs to one Kiwoom REST base URL (real, mock or the simulator).

    `limiter` paces calls (None = no client-side limit). `token_store` lets several
    processes share one token (see token.py). `call()` re-issues the token once and repeats
    the call after 8005/8031/8103 when `reissue_retry` is true (queries); order placement
    passes False and reports the error instead of sending twice. `direct` sends through
    the session's connection pool without `Session.send`'s layers (transport.py; the order
    worker's choice).

    For the TRs in `strict_trs` (default: the account TRs, see wire.STRICT_REPLY_TRS) a
    success reply without `return_code`, a page without its list key or paging that does
    not end is a BadReplyError instead of an empty answer.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout_s: float = 5.0,
        limiter: RateLimiter | None = None,
        token_store: TokenStore | None = None,
        renew_margin_s: float = 600.0,
        direct: bool = False,
        strict_trs: Collection[str] = wire.STRICT_REPLY_TRS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.strict_trs = frozenset(strict_trs)
        self._credentials = credentials
        self.timeout_s = timeout_s
        self.limiter = limiter
        self._transport = make_transport(self.base_url, direct=direct)
        self.tokens = TokenManager(self._issue_token, token_store, renew_margin_s=renew_margin_s)

    def close(self) -> None:
        self._transport.close()

    # --- Calls -----------------------------------------------------------------------

    def call(
        self,
        api_id: str,
        body: dict[str, Any],
        *,
        next_key: str = "",
        reissue_retry: bool = True,
    ) -> RestReply:
        """POST one TR and return its successful reply, or raise a KiwoomError subclass.

        `next_key` asks for the following page (headers cont-yn: Y, next-key).
        """
        path = wire.TR_PATHS.get(api_id)
        if path is None:
            raise RequestError(f"알 수 없는 TR 입니다: {api_id}", api_id=api_id)
        token = self.tokens.get()
        try:
            return self._send(api_id, path, body, token, next_key)
        except TokenInvalidError:
            self.tokens.invalidate(token)
            if not reissue_retry:
                raise
            log.info("%s: token rejected, re-issuing once", api_id)
            return self._send(api_id, path, body, self.tokens.get(), next_key)

    def call_pages(
        self,
        api_id: str,
        body: dict[str, Any],
        list_key: str,
        *,
        max_rows: int | None = None,
        max_pages: int = 200,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Follow cont-yn / next-key to the end (or until `max_rows` rows) and return the
        first page's body and all rows of `list_key` in server order (newest first for
        charts). Each page passes the rate limiter like any call (§3 asks for a pause).

        Paging that does not end (more than `max_pages` pages, or `cont-yn: Y` without a
        next-key) gives an incomplete list: a BadReplyError for the strict (account) TRs,
        a warning and the rows so far for the others."""
        strict = api_id in self.strict_trs
        reply = self.call(api_id, body)
        first = reply.body
        rows = _rows(reply.body, list_key, api_id, required=strict)
        pages = 1
        while reply.has_more:
            if max_rows is not None and len(rows) >= max_rows:
                break
            if not reply.next_key or pages >= max_pages:
                problem = (
                    f"{max_pages}쪽을 넘었습니다" if reply.next_key else "next-key 가 없습니다"
                )
                if strict:
                    raise BadReplyError(
                        f"연속조회 목록을 끝까지 받지 못했습니다 ({problem}); "
                        "목록이 불완전하여 사용하지 않습니다",
                        api_id=api_id,
                    )
                log.warning(
                    "%s: paging stopped after %d pages (%s); the list is incomplete",
                    api_id,
                    pages,
                    "max_pages reached" if reply.next_key else "cont-yn Y without next-key",
                )
                break
            reply = self.call(api_id, body, next_key=reply.next_key)
            rows.extend(_rows(reply.body, list_key, api_id, required=strict))
            pages += 1
        if max_rows is not None:
            del rows[max_rows:]
        return first, rows

    # --- Internals -------------------------------------------------------------------

    def _headers(self, api_id: str, token: str | None, next_key: str) -> dict[str, str]:
        """The one place request headers (and the authorization header) are built."""
        headers = {"Content-Type": CONTENT_TYPE, "api-id": api_id}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        if next_key:
            headers["cont-yn"] = "Y"
            headers["next-key"] = next_key
        return headers

    def _send(
        self, api_id: str, path: str, body: dict[str, Any], token: str | None, next_key: str
    ) -> RestReply:
        if self.limiter is not None:
            self.limiter.acquire(api_id)
        started = time.perf_counter()
        response = self._transport.post(
            path,
            self._headers(api_id, token, next_key),
            json.dumps(body, ensure_ascii=False).encode("utf-8"),
            (min(CONNECT_TIMEOUT_S, self.timeout_s), self.timeout_s),
            api_id,
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        status = response.status
        log.debug("%s %s -> HTTP %d in %.0f ms", api_id, path, status, elapsed_ms)
        parsed: dict[str, Any] | None
        try:
            loaded = json.loads(response.content) if response.content else None
            parsed = loaded if isinstance(loaded, dict) else None
        except ValueError:
            parsed = None
        error = classify(
            parsed,
            http_status=status,
            api_id=api_id,
            raw_text=response.text if parsed is None else "",
        )
        if error is not None:
            if isinstance(error, RateLimitError) and self.limiter is not None:
                self.limiter.penalize(error.retry_after)
            raise error
        assert parsed is not None
        if "return_code" not in parsed and api_id in self.strict_trs:
            raise BadReplyError(
                "서버 응답에 return_code 가 없어 결과를 믿을 수 없습니다", api_id=api_id
            )
        return RestReply(
            api_id=api_id,
            body=parsed,
            has_more=response.headers.get("cont-yn", "N").strip().upper() == "Y",
            next_key=response.headers.get("next-key", "").strip(),
            status=status,
        )

    def _issue_token(self) -> AccessToken:
        """au10001. The official client sends no api-id here; others do; servers accept both."""
        body = {
            "grant_type": "client_credentials",
            "appkey": self._credentials.app_key,
            "secretkey": self._credentials.secret_key,
        }
        reply = self._send(wire.TOKEN_ISSUE, wire.TR_PATHS[wire.TOKEN_ISSUE], body, None, "")
        value = str(reply.body.get("token") or "").strip()
        expires = str(reply.body.get("expires_dt") or "")
        if not value:
            raise BadReplyError("토큰 발급 응답에 token 이 없습니다", api_id=wire.TOKEN_ISSUE)
        try:
            expires_at = parse_expires_dt(expires)
        except ValueError as exc:
            raise BadReplyError(
                f"토큰 만료 시각을 해석할 수 없습니다: {expires!r}", api_id=wire.TOKEN_ISSUE
            ) from exc
        return AccessToken(value=value, expires_at=expires_at, issued_at=time.time())


def _rows(
    body: dict[str, Any], key: str, api_id: str, *, required: bool = False
) -> list[dict[str, Any]]:
    """The rows of list `key`; a missing list is empty unless `required`."""
    rows = body.get(key)
    if rows is None:
        if required:
            raise BadReplyError(f"응답에 {key} 목록이 없습니다", api_id=api_id)
        return []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadReplyError(f"{key} 목록 형식이 아닙니다", api_id=api_id)
    return list(rows)
