"""Token life cycle: issue, renew ahead of expiry, invalidate, back off, share."""

import logging
import multiprocessing
from multiprocessing.reduction import ForkingPickler

import pytest

from kiwoom_terminal.api.errors import (
    AuthError,
    NetworkError,
    RateLimitError,
    ServerError,
    TokenUnavailableError,
)
from kiwoom_terminal.api.token import (
    AccessToken,
    LocalTokenStore,
    SharedTokenStore,
    TokenManager,
    TokenState,
    parse_expires_dt,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Issuer:
    """Issues token-1, token-2, … lasting `lifetime` seconds, or raises what it is told."""

    def __init__(self, clock: Clock, lifetime: float = 86400.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.fail_with: Exception | None = None
        self.same_token = False

    def __call__(self) -> AccessToken:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        n = 1 if self.same_token else self.calls
        return AccessToken(f"token-value-{n:04d}", self.clock.now + self.lifetime, self.clock.now)


def test_expires_dt_is_kst() -> None:
    # 2025-03-06 08:37:13 KST == 2025-03-05 23:37:13 UTC
    assert parse_expires_dt("20250306083713") == 1741217833.0
    with pytest.raises(ValueError):
        parse_expires_dt("2025-03-06")


def test_issue_once_then_reuse_then_renew_ahead_of_expiry() -> None:
    clock = Clock()
    issuer = Issuer(clock)
    tm = TokenManager(issuer, renew_margin_s=600, clock=clock)
    assert tm.get() == "token-value-0001"
    clock.now += 3600
    assert tm.get() == "token-value-0001" and issuer.calls == 1
    clock.now += 86400 - 3600 - 599  # inside the 600 s margin
    assert tm.get() == "token-value-0002" and issuer.calls == 2


def test_short_lived_tokens_renew_at_a_quarter_before_expiry() -> None:
    clock = Clock()
    issuer = Issuer(clock, lifetime=4.0)
    tm = TokenManager(issuer, renew_margin_s=600, clock=clock)
    tm.get()
    clock.now += 2.9
    tm.get()
    assert issuer.calls == 1  # margin clamped to 1 s of a 4 s token
    clock.now += 0.2
    tm.get()
    assert issuer.calls == 2


def test_same_token_returned_on_renewal_does_not_loop() -> None:
    clock = Clock()
    issuer = Issuer(clock, lifetime=1000.0)
    issuer.same_token = True
    tm = TokenManager(issuer, renew_margin_s=600, clock=clock)
    tm.get()
    # The server keeps answering with the first token and its original expiry: at most one
    # re-issue per halving of the remaining time, never one per call.
    expiry = clock.now + 1000.0
    clock.now += 800  # past renew_at (expiry - 250)
    issuer.lifetime = expiry - clock.now
    for _ in range(100):
        assert tm.get() == "token-value-0001"
    assert issuer.calls == 2
    clock.now += 101
    issuer.lifetime = expiry - clock.now
    for _ in range(100):
        tm.get()
    assert issuer.calls == 3


def test_invalidate_reissues_only_if_nobody_replaced_the_token() -> None:
    clock = Clock()
    issuer = Issuer(clock)
    store = LocalTokenStore()
    a = TokenManager(issuer, store, clock=clock)
    b = TokenManager(issuer, store, clock=clock)
    old = a.get()
    a.invalidate(old)
    new = a.get()
    assert new != old and issuer.calls == 2
    b.invalidate(old)  # b saw the old token fail too: the new one is kept
    assert b.get() == new and issuer.calls == 2


def test_failures_back_off_with_jitter_and_no_storm() -> None:
    clock = Clock()
    issuer = Issuer(clock)
    issuer.fail_with = ServerError("점검")
    tm = TokenManager(issuer, clock=clock, min_backoff_s=1.0, rng=lambda: 1.0)
    with pytest.raises(TokenUnavailableError):
        tm.get()
    for _ in range(10):  # every call during the back-off fails fast without a request
        with pytest.raises(TokenUnavailableError) as info:
            tm.get()
    assert issuer.calls == 1 and 0 < info.value.retry_after <= 1.0
    clock.now += 1.01
    with pytest.raises(TokenUnavailableError) as second:
        tm.get()
    assert issuer.calls == 2 and second.value.retry_after == pytest.approx(2.0)  # doubled
    issuer.fail_with = None
    clock.now += 2.01
    assert tm.get() == "token-value-0003"


def test_wrong_keys_are_an_auth_error_that_backs_off_long() -> None:
    clock = Clock()
    issuer = Issuer(clock)
    issuer.fail_with = AuthError("인증에 실패했습니다 (8001)", code="8001")
    tm = TokenManager(issuer, clock=clock, auth_backoff_s=60.0, rng=lambda: 0.0)
    for _ in range(5):
        with pytest.raises(AuthError):
            tm.get()
    assert issuer.calls == 1


def test_token_repr_hides_the_value() -> None:
    tok = AccessToken("super-secret-token-value", 1741217833.0, 0.0)
    assert "super-secret" not in repr(tok) and "2025-03-06 08:37:13" in repr(tok)


def test_shared_store_round_trip_and_lock_release() -> None:
    ctx = multiprocessing.get_context("spawn")
    store = SharedTokenStore(ctx)
    clock = Clock()
    tm = TokenManager(Issuer(clock), store, clock=clock)
    value = tm.get()
    assert store.load().token is not None and store.load().token.value == value
    with pytest.raises(RuntimeError):
        ForkingPickler.dumps(store)  # shared only by inheritance, i.e. while spawning
    # a holder that died with the lock: the supervisor releases it by pid
    store._plock.acquire()
    store._owner.value = 4242
    assert store.release_if_owner(4242)
    with store.locked(0.1) as got:
        assert got


def _second_view(store: SharedTokenStore) -> SharedTokenStore:
    """Another process's view of the same shared memory (as a spawned worker gets it)."""
    other = SharedTokenStore.__new__(SharedTokenStore)
    other.__setstate__(store.__getstate__())
    return other


def test_shared_store_sees_every_save_and_hands_out_copies() -> None:
    store = SharedTokenStore(multiprocessing.get_context("spawn"))
    reader = _second_view(store)
    assert reader.load().token is None
    store.save(TokenState(token=AccessToken("token-one-value", 2e9, 1e9), renew_at=1.9e9))
    first = reader.load()
    assert first.token is not None and first.token.value == "token-one-value"
    first.token = None  # a caller changing its copy changes nothing for the next one
    first.failures = 9
    again = reader.load()
    assert again.token is not None and again.failures == 0
    store.save(TokenState(token=AccessToken("token-two-value", 2e9, 1e9), renew_at=1.9e9))
    latest = reader.load()
    assert latest.token is not None and latest.token.value == "token-two-value"


def test_shared_store_does_not_keep_a_read_that_overlapped_a_save() -> None:
    store = SharedTokenStore(multiprocessing.get_context("spawn"))
    reader = _second_view(store)
    store._generation.value += 1  # a save is writing (odd generation)
    store._buf.raw = TokenState(token=AccessToken("half-written", 2e9, 1e9)).to_json()
    assert reader.load().token.value == "half-written"  # type: ignore[union-attr]
    # the writer finishes without moving the generation on again only in this test; a read
    # made while it was odd must not be served from memory afterwards
    data = TokenState(token=AccessToken("fully-written", 2e9, 1e9)).to_json()
    store._buf.raw = data + b"\x00" * (8192 - len(data))
    assert reader.load().token.value == "fully-written"  # type: ignore[union-attr]


def _save_in_child(store: SharedTokenStore) -> None:
    store.save(TokenState(token=AccessToken("from-the-child", 2e9, 1e9), renew_at=1.9e9))


def test_shared_store_sees_a_save_made_by_a_spawned_process() -> None:
    ctx = multiprocessing.get_context("spawn")
    store = SharedTokenStore(ctx)
    assert store.load().token is None  # parsed and remembered before the child saves
    child = ctx.Process(target=_save_in_child, args=(store,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    token = store.load().token
    assert token is not None and token.value == "from-the-child"


@pytest.mark.parametrize(
    "failure",
    [
        RateLimitError("요청 한도를 넘었습니다 (1700)", code="1700", api_id="au10001"),
        NetworkError("서버 연결이 끊어졌습니다", api_id="au10001"),
        ServerError("서버 오류입니다 (HTTP 503)", api_id="au10001"),
    ],
    ids=["1700", "network", "5xx"],
)
def test_failed_renewal_keeps_the_still_valid_token(
    failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    """Renewal is due 10 min before expiry; if au10001 fails then, orders must still get
    the old token (a stop-loss sell must not be refused for want of a token)."""
    clock = Clock()
    issuer = Issuer(clock, lifetime=3600.0)
    tm = TokenManager(
        issuer, renew_margin_s=600, clock=clock, min_backoff_s=10.0, expiry_skew_s=5.0
    )
    old = tm.get()
    clock.now += 3600 - 300  # inside the renewal margin, 300 s before expiry
    issuer.fail_with = failure
    with caplog.at_level(logging.WARNING, logger="kiwoom_terminal.api.token"):
        assert tm.get() == old
    assert issuer.calls == 2
    assert "renewal failed" in caplog.text and old not in caplog.text
    for _ in range(20):  # backing off: the old token, without asking the server again
        assert tm.get() == old
    assert issuer.calls == 2
    clock.now += 10.0  # the back-off is over: the next call tries again and succeeds
    issuer.fail_with = None
    assert tm.get() == "token-value-0003" and issuer.calls == 3


def test_no_valid_token_left_raises_again() -> None:
    clock = Clock()
    issuer = Issuer(clock, lifetime=3600.0)
    tm = TokenManager(issuer, renew_margin_s=600, clock=clock, expiry_skew_s=5.0, rng=lambda: 0.0)
    old = tm.get()
    issuer.fail_with = ServerError("점검")
    clock.now += 3600 - 6  # still valid past the skew: kept
    assert tm.get() == old
    clock.now += 1.5  # within 5 s of expiry: no longer handed out
    with pytest.raises(TokenUnavailableError):
        tm.get()


def test_failed_renewal_is_shared_by_all_users_of_the_store() -> None:
    """Another worker sees the back-off and keeps the valid token without its own request."""
    clock = Clock()
    issuer = Issuer(clock, lifetime=3600.0)
    store = LocalTokenStore()
    a = TokenManager(issuer, store, clock=clock, min_backoff_s=10.0)
    b = TokenManager(issuer, store, clock=clock, min_backoff_s=10.0)
    old = a.get()
    clock.now += 3400
    issuer.fail_with = RateLimitError("1700", code="1700")
    assert a.get() == old and b.get() == old
    assert issuer.calls == 2
    a.invalidate(old)  # the server called it invalid: nothing valid is left
    with pytest.raises(TokenUnavailableError):
        b.get()
