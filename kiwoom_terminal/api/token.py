"""Access-token life cycle (au10001): issue, renew ahead of expiry, re-issue after 8005,
back off when issuing fails — shared by every process that talks to Kiwoom.

Choice: **one token per app key, shared by the three workers through a `SharedTokenStore`**
(a small block of shared memory plus a process lock, created by the supervisor and handed to
each worker at spawn). Whoever needs a token first issues it; the others read it. Why:

* Kiwoom rate-limits the token endpoint itself (a 1700 was observed on au10001), so three
  processes issuing at start-up and after every expiry would trip it;
* whether a new token invalidates the previous one is not documented (kiwoom-api.md §0.2
  #10). With a shared token it does not matter: after an 8005 a process re-issues only if
  nobody has replaced the bad token yet, otherwise it simply uses the newer one. Three
  private tokens that invalidate each other would turn into a re-issue storm.
* a re-issue may return the *same* token while it is valid (observed once). Renewing ahead
  of expiry then gets the old token back; the manager accepts it and does not ask again
  until it is close to really expiring, so this cannot loop either.

The token never touches disk: the shared block lives in memory only, and the value is
registered with the log redaction filter as soon as it is received. Issuing failures back
off exponentially with jitter (stored in the shared block, so all processes back off
together); a permanent refusal (wrong key, real/mock mismatch) backs off longer and is
reported as an AuthError instead of being retried in a loop. A failed or backing-off
*renewal* never blocks: the current token is used until shortly before it really expires,
because an order refused for want of a token (a lost stop-loss) is worse than a late renewal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kiwoom_terminal.api.errors import (
    AuthError,
    KiwoomError,
    RetryLaterError,
    TokenInvalidError,
    TokenUnavailableError,
)
from kiwoom_terminal.krx import KST
from kiwoom_terminal.secrets import MASK, register_secret

log = logging.getLogger(__name__)

STORE_BYTES = 8192


@dataclass(frozen=True)
class AccessToken:
    """An issued token. Times are epoch seconds. `repr()` hides the value."""

    value: str
    expires_at: float
    issued_at: float

    def __repr__(self) -> str:
        expires = dt.datetime.fromtimestamp(self.expires_at, KST).strftime("%Y-%m-%d %H:%M:%S")
        return f"AccessToken({MASK}, expires {expires} KST)"

    __str__ = __repr__


def parse_expires_dt(text: str) -> float:
    """`expires_dt` (`YYYYMMDDHHmmss`, KST wall time) → epoch seconds."""
    text = text.strip()
    if len(text) < 14 or not text[:14].isdigit():
        raise ValueError(f"bad expires_dt: {text!r}")
    local = dt.datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=KST)
    return local.timestamp()


@dataclass
class TokenState:
    """What the store holds: the current token and the shared back-off state."""

    token: AccessToken | None = None
    renew_at: float = 0.0  # epoch s after which the token is renewed ahead of expiry
    failures: int = 0
    next_attempt_at: float = 0.0
    last_error: str = ""
    last_error_auth: bool = False

    def to_json(self) -> bytes:
        tok = self.token
        data: dict[str, Any] = {
            "t": tok.value if tok else "",
            "e": tok.expires_at if tok else 0.0,
            "i": tok.issued_at if tok else 0.0,
            "r": self.renew_at,
            "f": self.failures,
            "n": self.next_attempt_at,
            "le": self.last_error,
            "la": self.last_error_auth,
        }
        return json.dumps(data, ensure_ascii=False).encode("utf-8")

    def copy(self) -> TokenState:
        """A copy the caller may change (the token itself is immutable)."""
        return TokenState(
            self.token,
            self.renew_at,
            self.failures,
            self.next_attempt_at,
            self.last_error,
            self.last_error_auth,
        )

    @classmethod
    def from_json(cls, raw: bytes) -> TokenState:
        if not raw:
            return cls()
        data = json.loads(raw.decode("utf-8"))
        token = AccessToken(data["t"], float(data["e"]), float(data["i"])) if data["t"] else None
        return cls(
            token=token,
            renew_at=float(data["r"]),
            failures=int(data["f"]),
            next_attempt_at=float(data["n"]),
            last_error=str(data["le"]),
            last_error_auth=bool(data["la"]),
        )


class TokenStore:
    """Where the token state lives. `locked()` serialises issuing across users of the store;
    it yields False when the lock could not be taken in time (a holder died), and the
    caller then proceeds without it rather than hang."""

    def load(self) -> TokenState:
        raise NotImplementedError

    def save(self, state: TokenState) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[bool]:
        raise NotImplementedError
        yield False  # pragma: no cover


class LocalTokenStore(TokenStore):
    """A store for one process (tests, scripts)."""

    def __init__(self) -> None:
        self._state = TokenState()
        self._lock = threading.RLock()

    def load(self) -> TokenState:
        return self._state.copy()

    def save(self, state: TokenState) -> None:
        self._state = state

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[bool]:
        got = self._lock.acquire(timeout=timeout)
        try:
            yield got
        finally:
            if got:
                self._lock.release()


class SharedTokenStore(TokenStore):
    """A store in shared memory for the worker processes of one supervisor.

    Create it in the parent with a multiprocessing context and pass it to each Process as
    an argument (it can only be pickled while spawning). A thread lock inside each process
    keeps its own threads from interleaving; the process lock does the same across
    processes. The lock records its owner's pid, so the supervisor can release it when a
    worker is killed while holding it (`release_if_owner`).

    Every order asks for the token, so reading it must be cheap: a generation counter beside
    the buffer is odd while a save is writing and moves on with every save, and `load`
    parses the buffer only when the generation differs from the one it parsed last (copying
    and parsing the 8 KiB buffer took 0.07 ms of an order's way out in bench/tick_to_order.py).
    A read that overlapped a save (odd or changed generation) is used once, never cached.
    """

    def __init__(self, ctx: Any) -> None:
        self._buf = ctx.RawArray("c", STORE_BYTES)
        self._generation = ctx.RawValue("Q", 0)
        self._owner = ctx.RawValue("i", 0)
        self._plock = ctx.Lock()
        self._tlock: threading.RLock | None = threading.RLock()
        self._parsed: tuple[int, TokenState] | None = None  # (generation, state) last parsed

    def __getstate__(self) -> dict[str, Any]:
        return {
            "_buf": self._buf,
            "_generation": self._generation,
            "_owner": self._owner,
            "_plock": self._plock,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._buf = state["_buf"]
        self._generation = state["_generation"]
        self._owner = state["_owner"]
        self._plock = state["_plock"]
        self._tlock = threading.RLock()
        self._parsed = None

    def load(self) -> TokenState:
        generation = self._generation.value
        parsed = self._parsed
        if parsed is not None and parsed[0] == generation:
            return parsed[1].copy()
        raw = bytes(self._buf.raw).split(b"\x00", 1)[0]
        try:
            state = TokenState.from_json(raw)
        except (ValueError, KeyError):  # torn read while another process wrote
            return TokenState()
        if generation % 2 == 0 and self._generation.value == generation:
            self._parsed = (generation, state)  # no save overlapped the read
            return state.copy()
        return state

    def save(self, state: TokenState) -> None:
        data = state.to_json()
        if len(data) >= STORE_BYTES:
            raise ValueError("token too long for the shared store")
        self._generation.value += 1  # odd: being written
        try:
            self._buf.raw = data + b"\x00" * (STORE_BYTES - len(data))
        finally:
            self._generation.value += 1

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[bool]:
        assert self._tlock is not None
        with self._tlock:
            got = self._plock.acquire(True, timeout)
            if got:
                self._owner.value = os.getpid()
            else:
                log.warning("token store lock not released by another worker; going on without it")
            try:
                yield got
            finally:
                if got:
                    self._owner.value = 0
                    self._plock.release()

    def release_if_owner(self, pid: int) -> bool:
        """Release the lock if the (dead) process `pid` held it; True when it did."""
        if pid and self._owner.value == pid:
            self._owner.value = 0
            try:
                self._plock.release()
            except ValueError:
                return False
            return True
        return False


class TokenManager:
    """Hands out a valid token, issuing or renewing it through `issuer` when needed.

    `issuer()` performs au10001 and returns an AccessToken or raises a KiwoomError.
    When there is no valid token, `get()` raises TokenUnavailableError while issuing is
    backing off, AuthError when the server refused the credentials (that back-off is long;
    the user must fix the keys). A failed *renewal* keeps handing out the current token
    while it is valid for more than `expiry_skew_s`.
    """

    def __init__(
        self,
        issuer: Callable[[], AccessToken],
        store: TokenStore | None = None,
        *,
        renew_margin_s: float = 600.0,
        min_backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        auth_backoff_s: float = 60.0,
        lock_timeout_s: float = 15.0,
        expiry_skew_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._issuer = issuer
        self._store = store if store is not None else LocalTokenStore()
        self._margin = renew_margin_s
        self._min_backoff = min_backoff_s
        self._max_backoff = max_backoff_s
        self._auth_backoff = auth_backoff_s
        self._lock_timeout = lock_timeout_s
        self._skew = expiry_skew_s
        self._clock = clock
        self._rng = rng

    def get(self) -> str:
        """A usable token value, issuing one when there is none or it is due for renewal.

        A renewal that fails (network, 1700, server error) or is backing off never takes
        a still-valid token away: the current one is returned until it is within
        `expiry_skew_s` of its expiry, so an order (a stop-loss sell) is not refused
        because of the renewal. Only when no valid token is left does `get()` raise."""
        state = self._store.load()
        if self._usable(state):
            assert state.token is not None
            register_secret(state.token.value)
            return state.token.value
        kept = self._still_valid(state)
        if kept is not None and self._clock() < state.next_attempt_at:
            register_secret(kept.value)  # a failed renewal is backing off: no lock, no request
            return kept.value
        with self._store.locked(self._lock_timeout):
            state = self._store.load()  # another process may have renewed meanwhile
            if self._usable(state):
                assert state.token is not None
                register_secret(state.token.value)
                return state.token.value
            kept = self._still_valid(state)
            if kept is not None and self._clock() < state.next_attempt_at:
                register_secret(kept.value)
                return kept.value
            try:
                return self._issue(state)
            except KiwoomError as exc:
                kept = self._still_valid(state)
                if kept is None:
                    raise
                log.warning(
                    "token renewal failed (%s); the current token stays in use, valid %.0f s more",
                    type(exc).__name__,
                    kept.expires_at - self._clock(),
                )
                register_secret(kept.value)
                return kept.value

    def invalidate(self, value: str) -> None:
        """The server rejected `value` (8005…): forget it unless it was already replaced."""
        with self._store.locked(self._lock_timeout):
            state = self._store.load()
            if state.token is not None and state.token.value == value:
                state.token = None
                state.renew_at = 0.0
                self._store.save(state)

    def _still_valid(self, state: TokenState) -> AccessToken | None:
        """The current token when it is still valid for more than `expiry_skew_s` (the
        margin for clock differences and the time a request takes to reach the server)."""
        tok = state.token
        if tok is not None and self._clock() < tok.expires_at - self._skew:
            return tok
        return None

    def _usable(self, state: TokenState) -> bool:
        now = self._clock()
        tok = state.token
        return tok is not None and now < tok.expires_at and now < state.renew_at

    def _issue(self, state: TokenState) -> str:
        now = self._clock()
        if now < state.next_attempt_at:
            wait = state.next_attempt_at - now
            reason = state.last_error or "토큰 발급 재시도 대기 중"
            if state.last_error_auth:
                raise AuthError(reason, code="")
            raise TokenUnavailableError(
                f"접근 토큰을 발급받지 못했습니다 ({reason}). {max(1.0, wait):.0f}초 뒤 다시 시도합니다.",
                retry_after=wait,
            )
        previous = state.token
        try:
            token = self._issuer()
            if token.expires_at <= self._clock():
                raise TokenUnavailableError(
                    "서버가 이미 만료된 토큰을 발급했습니다", retry_after=1.0
                )
        except KiwoomError as exc:
            permanent = isinstance(exc, AuthError) and not isinstance(exc, TokenInvalidError)
            state.failures += 1
            state.next_attempt_at = self._clock() + self._backoff(state.failures, permanent)
            state.last_error = exc.message
            state.last_error_auth = permanent
            self._store.save(state)
            log.warning(
                "token issue failed (%s, attempt %d); next try in %.1fs",
                type(exc).__name__,
                state.failures,
                state.next_attempt_at - self._clock(),
            )
            if isinstance(exc, RetryLaterError) and not isinstance(exc, TokenUnavailableError):
                raise TokenUnavailableError(
                    f"접근 토큰을 발급받지 못했습니다: {exc.message}",
                    retry_after=state.next_attempt_at - self._clock(),
                    cause_kind=exc.to_info().kind,
                    code=exc.code,
                ) from exc
            raise
        register_secret(token.value)
        now = self._clock()
        lifetime = max(0.0, token.expires_at - token.issued_at)
        margin = min(self._margin, lifetime * 0.25)
        renew_at = token.expires_at - margin
        if renew_at < now + 1.0 or (previous is not None and previous.value == token.value):
            # The server handed back a token already inside the renewal margin (re-issue
            # returned the same token): use it, ask again halfway to its real expiry.
            renew_at = now + max(0.5, (token.expires_at - now) / 2)
        self._store.save(TokenState(token=token, renew_at=renew_at))
        log.info("access token issued: %r", token)
        return token.value

    def _backoff(self, failures: int, permanent: bool) -> float:
        cap = self._auth_backoff if permanent else self._max_backoff
        base = min(cap, self._min_backoff * (2 ** (failures - 1)))
        return base / 2 + self._rng() * base / 2
