"""App key and secret from the environment or the OS keyring, and redaction for logs.

Credentials are never settings: they are read here at start-up and handed to the worker
processes by value (inside the picklable worker config, which only travels through the
spawn pipe). Nothing in this module writes them to disk except `store_credentials`, which
puts them into the OS keyring on the user's request.

Where keys come from, first match wins (mode = `mock` or `real`):

1. `KIWOOM_MOCK_APPKEY` / `KIWOOM_MOCK_SECRETKEY` (or `KIWOOM_REAL_…`): per-mode variables,
   because Kiwoom issues separate app keys for the mock and the real server;
2. `KIWOOM_APPKEY` / `KIWOOM_SECRETKEY`;
3. the OS keyring, service `kiwoom-terminal`, user names `<mode>:appkey` / `<mode>:secretkey`.

In `sim` mode fixed dummy credentials are used; the embedded simulator accepts any key.

Logging: `install_redaction()` puts a `RedactingFilter` on every handler of the root logger.
It masks every value registered with `register_secret()` (the client registers the app key,
the secret and each token it receives) and anything that looks like a bearer token or a
key/secret/token JSON field, also inside formatted tracebacks.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiwoom_terminal.constants import Mode

KEYRING_SERVICE = "kiwoom-terminal"
MASK = "***"

SIM_CREDENTIALS_KEY = "SIMAPPKEY-local"
SIM_CREDENTIALS_SECRET = "SIMSECRET-local"


class CredentialsError(RuntimeError):
    """No app key / secret for the chosen mode. The terminal cannot connect; the message
    (Korean) says where to put the keys."""


@dataclass(frozen=True)
class Credentials:
    """An app key and its secret. `repr()` and `str()` never show the values."""

    app_key: str
    secret_key: str

    def __repr__(self) -> str:
        return f"Credentials(app_key={mask(self.app_key)}, secret_key={MASK})"

    __str__ = __repr__


def mask(value: str) -> str:
    """A value shortened so it can be shown to a user without revealing it (`PSab…***`)."""
    if len(value) <= 8:
        return MASK
    return value[:4] + "…" + MASK


def sim_credentials() -> Credentials:
    """The dummy credentials used against the embedded simulator."""
    return Credentials(SIM_CREDENTIALS_KEY, SIM_CREDENTIALS_SECRET)


def load_credentials(
    mode: Mode,
    *,
    env: Mapping[str, str] | None = None,
    keyring_backend: Any = None,
) -> Credentials:
    """App key and secret for `mode` from the environment or the OS keyring.

    Raises CredentialsError with a Korean message naming the variables to set when neither
    source has both values. `keyring_backend` replaces the `keyring` module (tests).
    """
    if mode is Mode.SIM:
        return sim_credentials()
    environ = os.environ if env is None else env
    prefix = f"KIWOOM_{mode.value.upper()}_"
    for key_var, secret_var in (
        (prefix + "APPKEY", prefix + "SECRETKEY"),
        ("KIWOOM_APPKEY", "KIWOOM_SECRETKEY"),
    ):
        app_key = environ.get(key_var, "").strip()
        secret = environ.get(secret_var, "").strip()
        if app_key and secret:
            return _registered(Credentials(app_key, secret))
    app_key, secret = _from_keyring(mode, keyring_backend)
    if app_key and secret:
        return _registered(Credentials(app_key, secret))
    label = "모의투자" if mode is Mode.MOCK else "실거래"
    raise CredentialsError(
        f"{label} 앱키/시크릿키가 없습니다. 환경변수 {prefix}APPKEY 와 {prefix}SECRETKEY "
        f"(또는 KIWOOM_APPKEY / KIWOOM_SECRETKEY)를 설정하거나, OS 키링의 '{KEYRING_SERVICE}' "
        f"서비스에 '{mode.value}:appkey', '{mode.value}:secretkey' 로 저장하세요. "
        "settings.ini 에는 넣지 마세요."
    )


def store_credentials(mode: Mode, credentials: Credentials, *, keyring_backend: Any = None) -> None:
    """Save app key and secret for `mode` in the OS keyring (never in a file we write)."""
    if mode is Mode.SIM:
        raise ValueError("sim mode needs no credentials")
    backend = keyring_backend if keyring_backend is not None else _keyring_module()
    if backend is None:
        raise CredentialsError("OS 키링을 사용할 수 없습니다. 환경변수로 앱키를 설정하세요.")
    backend.set_password(KEYRING_SERVICE, f"{mode.value}:appkey", credentials.app_key)
    backend.set_password(KEYRING_SERVICE, f"{mode.value}:secretkey", credentials.secret_key)
    _registered(credentials)


def _keyring_module() -> Any:
    try:
        import keyring
    except ImportError:  # pragma: no cover - keyring is a pinned dependency
        return None
    return keyring


def _from_keyring(mode: Mode, backend: Any) -> tuple[str, str]:
    backend = backend if backend is not None else _keyring_module()
    if backend is None:
        return "", ""
    try:
        app_key = backend.get_password(KEYRING_SERVICE, f"{mode.value}:appkey") or ""
        secret = backend.get_password(KEYRING_SERVICE, f"{mode.value}:secretkey") or ""
    except Exception as exc:  # no keyring daemon, locked keyring, …: fall through
        logging.getLogger(__name__).info("OS keyring unavailable: %s", type(exc).__name__)
        return "", ""
    return app_key.strip(), secret.strip()


def _registered(credentials: Credentials) -> Credentials:
    register_secret(credentials.app_key)
    register_secret(credentials.secret_key)
    return credentials


# --- Redaction --------------------------------------------------------------------------

_secrets_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None

# Things that look like credentials even when they were never registered: bearer tokens,
# and JSON/query fields named token / appkey / secretkey / authorization.
_GENERIC_PATTERNS = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"
    r"|(\"?(?:token|appkey|secretkey|app_key|secret_key|authorization)\"?\s*[:=]\s*\"?(?:bearer\s+)?)"
    r"(?!\*\*\*)[^\s\",}]+"
)


def register_secret(value: str) -> None:
    """Remember a secret value (key, secret, token) so logs mask it wherever it appears."""
    global _secret_pattern
    if not value or len(value) < 6:  # too short to mask safely without mangling text
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """`text` with registered secrets and credential-looking fields replaced by ***."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return _GENERIC_PATTERNS.sub(lambda m: (m.group(1) or m.group(2) or "") + MASK, text)


class RedactingFilter(logging.Filter):
    """A handler filter that masks secrets in the message, its arguments and tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Add a RedactingFilter to every handler of `logger` (default: the root logger).

    Filters on handlers (not on the logger) see records propagated from child loggers too.
    Call again after adding handlers; a handler gets the filter only once.
    """
    target = logger if logger is not None else logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
