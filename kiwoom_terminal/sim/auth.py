"""OAuth tokens of the simulator (au10001 / au10002, kiwoom-api.md §2).

Any non-empty app key / secret is accepted unless the simulator was started with fixed
ones. Tokens live for a configurable number of real seconds (`token_ttl` fault); a revoked
or expired token is rejected with 8005. Re-issuing gives a new token and leaves the old one
valid until it expires. Tokens are never logged: `redact` shows the last four characters.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiwoom_terminal import krx
from kiwoom_terminal.sim import errors


def redact(secret: str) -> str:
    """Safe form of a key or token for logs: `…abcd`."""
    return "…" + secret[-4:] if len(secret) > 4 else "…"


@dataclass
class TokenInfo:
    token: str
    app_key: str
    expires_at: float  # monotonic seconds
    expires_dt: str  # KST wall clock YYYYMMDDHHmmss, as au10001 returns it


class Auth:
    """Issues, checks and revokes access tokens."""

    def __init__(
        self,
        *,
        app_key: str | None = None,
        secret_key: str | None = None,
        ttl: float = 86_400.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app_key = app_key
        self.secret_key = secret_key
        self.ttl = ttl
        self._mono = monotonic
        self._tokens: dict[str, TokenInfo] = {}
        self.on_revoke: list[Callable[[str], None]] = []

    def issue(self, body: dict[str, object]) -> TokenInfo:
        grant = body.get("grant_type")
        if grant is None or grant == "":
            raise errors.auth_error(8011, "grant_type이 존재하지 않습니다")
        if grant != "client_credentials":
            raise errors.auth_error(8012, "grant_type이 올바르지 않습니다")
        app_key, secret_key = body.get("appkey"), body.get("secretkey")
        if not isinstance(app_key, str) or not isinstance(secret_key, str):
            raise errors.auth_error(8020, "appkey 또는 secretkey가 존재하지 않습니다")
        if not app_key.strip() or not secret_key.strip():
            raise errors.auth_error(8020, "appkey 또는 secretkey가 존재하지 않습니다")
        if self.app_key is not None and app_key != self.app_key:
            raise errors.auth_error(8001, "App Key 검증에 실패했습니다")
        if self.secret_key is not None and secret_key != self.secret_key:
            raise errors.auth_error(8002, "Secret Key 검증에 실패했습니다")
        self._purge()
        token = secrets.token_urlsafe(64)
        wall = krx.now_kst().replace(tzinfo=None) + dt.timedelta(seconds=self.ttl)
        info = TokenInfo(token, app_key, self._mono() + self.ttl, wall.strftime("%Y%m%d%H%M%S"))
        self._tokens[token] = info
        return info

    def revoke(self, body: dict[str, object]) -> None:
        token = body.get("token")
        if not isinstance(token, str) or not token.strip():
            raise errors.auth_error(8016, "Token이 존재하지 않습니다")
        app_key = body.get("appkey")
        info = self._tokens.get(token)
        if info is None or (isinstance(app_key, str) and app_key and app_key != info.app_key):
            raise errors.auth_error(8015, "Token 폐기에 실패했습니다")
        del self._tokens[token]
        for callback in self.on_revoke:
            callback(token)

    def check(self, token: str) -> TokenInfo | None:
        """The token's info when it is known and not expired."""
        info = self._tokens.get(token)
        if info is None:
            return None
        if self._mono() >= info.expires_at:
            del self._tokens[token]
            return None
        return info

    def expire_all(self) -> int:
        """Let every token expire now (control API), as if its lifetime had run out: REST
        calls get 8005; open WebSocket sessions stay up (only a revoke closes them)."""
        n = len(self._tokens)
        self._tokens.clear()
        return n

    def _purge(self) -> None:
        now = self._mono()
        for token in [t for t, i in self._tokens.items() if now >= i.expires_at]:
            del self._tokens[token]
