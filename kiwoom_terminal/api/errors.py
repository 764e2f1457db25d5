"""Errors of the Kiwoom connection, classified by the code Kiwoom embeds in the reply.

Kiwoom reports failures with a generic `return_code` and the specific code inside
`return_msg` (`[1700:…]` on REST, `CODE=8005` on the WebSocket, `[2000](RC4058:…)` for
business rejections), sometimes the specific code directly in `return_code`, as a number or
a string, and with HTTP 200 even for a rate limit (kiwoom-api.md §4.1, §12). `classify()`
accepts all of these and returns one of the classes below; each says what happens next.

    KiwoomError
    ├── RetryLaterError          transient: repeat later (queries are retried automatically)
    │   ├── RateLimitError       1700/1701/1702: not processed, so even an order may be resent
    │   ├── TokenUnavailableError  no token yet (issuing is backing off)
    │   ├── ServerError          5xx / 1999: for an order the outcome is unknown
    │   │   └── BadReplyError    non-JSON or malformed body (maintenance page, proxy error)
    │   └── NetworkError         could not connect / no reply; `maybe_sent` says if ambiguous
    ├── AuthError                80xx: keys, mode or IP wrong → stop and tell the user
    │   └── TokenInvalidError    8005/8031/8103 (or HTTP 401/403): re-issue the token once
    ├── RequestError             15xx / rejected input: fix the request, never retried
    │   └── NotFoundError        1901–1903: no such stock / market
    └── RejectedError            business rejection (return_code 20, 7): shown to the user
        └── UnsupportedError     not offered by this server (mock: 8104, RC9000, RC7006)
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from kiwoom_terminal.messages import ErrorInfo, ErrorKind


class KiwoomError(Exception):
    """Base class. `code` is Kiwoom's specific code (`1700`, `8005`, `RC4058`, or `""`),
    `message` a Korean sentence for the user, `server_text` the server's own words."""

    kind: ClassVar[ErrorKind] = ErrorKind.SERVER

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        api_id: str = "",
        http_status: int = 0,
        server_text: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.api_id = api_id
        self.http_status = http_status
        self.server_text = server_text

    def to_info(self) -> ErrorInfo:
        """The picklable form that crosses a process queue."""
        return ErrorInfo(self.kind, self.code, self.message)

    def __str__(self) -> str:
        where = f" ({self.api_id})" if self.api_id else ""
        code = f" [{self.code}]" if self.code else ""
        return f"{self.message}{code}{where}"


class RetryLaterError(KiwoomError):
    """A transient failure. Repeating the request later may succeed; queries are retried
    automatically with back-off, orders only when the subclass says it is safe."""


class RateLimitError(RetryLaterError):
    """The server refused the request for exceeding its rate limit (1700/1701/1702, HTTP
    429). It was not processed: waiting `retry_after` seconds and sending it again is safe,
    also for orders. The limiter slows down when this happens."""

    kind = ErrorKind.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float = 1.0, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def to_info(self) -> ErrorInfo:
        return ErrorInfo(self.kind, self.code, self.message, self.retry_after)


class TokenUnavailableError(RetryLaterError):
    """No access token: issuing failed recently and is backing off. Try again after
    `retry_after` seconds; nothing was sent to the server. `cause_kind` says why issuing
    failed (network, server, rate limit)."""

    kind = ErrorKind.NETWORK

    def __init__(
        self,
        message: str,
        *,
        retry_after: float = 1.0,
        cause_kind: ErrorKind = ErrorKind.NETWORK,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.cause_kind = cause_kind

    def to_info(self) -> ErrorInfo:
        return ErrorInfo(self.cause_kind, self.code, self.message, self.retry_after)


class ServerError(RetryLaterError):
    """The server failed (HTTP 5xx, 1999). A query may be retried later; an order's outcome
    is UNKNOWN and must be reconciled before sending anything again."""


class BadReplyError(ServerError):
    """The reply was not the JSON we expect (maintenance page, truncated body, missing
    field). Treated like a server error."""

    kind = ErrorKind.BAD_REPLY


class NetworkError(RetryLaterError):
    """No reply: the connection failed or timed out. `maybe_sent` is False only when the
    request certainly never left (connection refused / connect timeout); otherwise an
    order's outcome is UNKNOWN."""

    kind = ErrorKind.NETWORK

    def __init__(
        self, message: str, *, maybe_sent: bool = True, timeout: bool = False, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.maybe_sent = maybe_sent
        self.timeout = timeout

    def to_info(self) -> ErrorInfo:
        kind = ErrorKind.TIMEOUT if self.timeout else ErrorKind.NETWORK
        return ErrorInfo(kind, self.code, self.message)


class AuthError(KiwoomError):
    """Authentication failed for a reason a new token will not fix (wrong key or secret,
    real/mock mismatch, IP not registered). Stop and ask the user to check the keys."""

    kind = ErrorKind.AUTH


class TokenInvalidError(AuthError):
    """The token is invalid or expired (8005, 8031, 8103, HTTP 401/403). The client
    re-issues the token once and repeats a query; an order is reported NOT_PROCESSED."""


class RequestError(KiwoomError):
    """The server rejected the input (15xx) or we did before sending. Not retried: the
    request (or the user's input) has to be fixed."""

    kind = ErrorKind.INPUT


class NotFoundError(RequestError):
    """Unknown stock or market (1901–1903)."""

    kind = ErrorKind.NOT_FOUND


class RejectedError(KiwoomError):
    """A business rejection (e.g. `RC4058` market closed, `800033` not enough sellable
    quantity). Final: shown to the user, never retried."""

    kind = ErrorKind.REJECTED


class UnsupportedError(RejectedError):
    """The server does not offer this (mock: NXT orders, some TRs)."""

    kind = ErrorKind.UNSUPPORTED


# --- Classification ---------------------------------------------------------------------

_BRACKET = re.compile(r"\[\s*(\d{4})\s*[:\]]\s*([^\]]*)\]?")
_REASON = re.compile(r"\(\s*([A-Z]{0,3}\d{3,6})\s*:\s*([^)]*)\)")
_WS_CODE = re.compile(r"CODE\s*=\s*(\d{3,6})")

RATE_LIMIT_CODES = frozenset({"1700", "1701", "1702"})
TOKEN_CODES = frozenset({"8005", "8031", "8103"})
UNSUPPORTED_CODES = frozenset({"8104", "8200", "RC9000", "RC7006"})
GENERIC_RETURN_CODES = frozenset({"1", "2", "3", "5", "7", "20"})


def embedded_code(return_code: Any, return_msg: str) -> tuple[str, str]:
    """(specific code, its text) from a reply envelope; `("", msg)` when none is found.

    Business rejections `[2000](RC4058:장종료)` give the reason code (`RC4058`).
    """
    msg = return_msg or ""
    reason = _REASON.search(msg)
    bracket = _BRACKET.search(msg)
    if bracket and bracket.group(1) == "2000" and reason:
        return reason.group(1), reason.group(2).strip()
    if bracket:
        return bracket.group(1), (bracket.group(2) or msg).strip()
    if reason:
        return reason.group(1), reason.group(2).strip()
    ws = _WS_CODE.search(msg)
    if ws:
        return ws.group(1), msg.strip()
    rc = str(return_code).strip() if return_code is not None else ""
    if rc and rc not in GENERIC_RETURN_CODES and rc != "0":
        return rc, msg.strip()
    return "", msg.strip()


def is_success(return_code: Any) -> bool:
    """True for return_code 0 in any of its forms (0, "0", missing). A missing return_code
    is lenient on purpose (WebSocket acks, market data); RestClient refuses it for the
    account TRs orders are reconciled against (wire.STRICT_REPLY_TRS)."""
    if return_code is None:
        return True
    return str(return_code).strip() in ("0", "")


def classify(
    body: dict[str, Any] | None,
    *,
    http_status: int = 200,
    api_id: str = "",
    raw_text: str = "",
) -> KiwoomError | None:
    """The error a reply stands for, or None when it is a success.

    `body` is the parsed JSON object (None when the body was not JSON; then `raw_text`
    is used in the message). Classification uses the embedded code first, then the generic
    return_code, then the HTTP status.
    """
    common: dict[str, Any] = {"api_id": api_id, "http_status": http_status}
    if body is None:
        snippet = " ".join(raw_text.split())[:80]
        if http_status == 429:
            return RateLimitError(
                "요청 한도를 넘었습니다. 잠시 후 다시 시도합니다.", code="", **common
            )
        return BadReplyError(
            f"서버 응답을 해석할 수 없습니다 (HTTP {http_status}): {snippet!r}",
            server_text=snippet,
            **common,
        )
    return_code = body.get("return_code")
    return_msg = str(body.get("return_msg") or "")
    if is_success(return_code) and http_status < 400:
        return None
    code, text = embedded_code(return_code, return_msg)
    common["server_text"] = return_msg.strip()
    rc = str(return_code).strip() if return_code is not None else ""
    error = _by_code(code, text, common)
    if error is not None:
        return error
    # No recognised specific code: use the generic return_code, then the HTTP status.
    if rc == "5" or http_status == 429:
        return RateLimitError(f"요청 한도를 넘었습니다: {text}", code=code, **common)
    if http_status >= 500:
        return ServerError(f"서버 오류입니다 (HTTP {http_status}): {text}", code=code, **common)
    if http_status in (401, 403):
        return TokenInvalidError(f"인증이 거부되었습니다 (HTTP {http_status})", code=code, **common)
    if rc == "2":
        return RequestError(f"입력 값 오류입니다: {text}", code=code, **common)
    if rc == "3":
        return AuthError(f"인증에 실패했습니다: {text}", code=code, **common)
    if rc in ("7", "20"):
        return RejectedError(f"요청이 거부되었습니다: {text}", code=code, **common)
    return ServerError(f"알 수 없는 오류입니다 (return_code={rc}): {text}", code=code, **common)


def _by_code(code: str, text: str, common: dict[str, Any]) -> KiwoomError | None:
    if not code:
        return None
    if code in RATE_LIMIT_CODES:
        return RateLimitError(
            f"요청 한도를 넘었습니다 ({code}). 잠시 후 다시 보냅니다.", code=code, **common
        )
    if code in TOKEN_CODES:
        return TokenInvalidError(f"접근 토큰이 유효하지 않습니다: {text}", code=code, **common)
    if code in UNSUPPORTED_CODES:
        return UnsupportedError(
            f"이 서버에서 제공하지 않는 기능입니다: {text}", code=code, **common
        )
    if code.startswith("80") and len(code) == 4:
        return AuthError(
            f"인증에 실패했습니다 ({code}): {text}. 앱키/시크릿키와 모드(모의/실거래)를 확인하세요.",
            code=code,
            **common,
        )
    if code in ("1901", "1902", "1903"):
        return NotFoundError(f"종목/시장 정보가 없습니다: {text}", code=code, **common)
    if code.startswith("15") or code == "1687":
        return RequestError(f"입력 값 오류입니다: {text}", code=code, **common)
    if code == "1999":
        return ServerError(f"서버에서 예기치 않은 오류가 발생했습니다: {text}", code=code, **common)
    if code.startswith("RC") or (len(code) >= 5 and code.isdigit()):
        return RejectedError(f"거부되었습니다: {text}", code=code, **common)
    return None
