"""Credentials come from the environment or the keyring, and never reach a log line."""

import io
import logging

import pytest

from kiwoom_terminal import secrets
from kiwoom_terminal.constants import Mode


class FakeKeyring:
    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.store.get((service, user))

    def set_password(self, service: str, user: str, value: str) -> None:
        self.store[(service, user)] = value


def test_per_mode_env_wins_over_generic_env() -> None:
    env = {
        "KIWOOM_MOCK_APPKEY": "mock-key-123456",
        "KIWOOM_MOCK_SECRETKEY": "mock-secret-123456",
        "KIWOOM_APPKEY": "generic-key-123456",
        "KIWOOM_SECRETKEY": "generic-secret-123456",
    }
    creds = secrets.load_credentials(Mode.MOCK, env=env, keyring_backend=FakeKeyring())
    assert creds.app_key == "mock-key-123456"
    real = secrets.load_credentials(Mode.REAL, env=env, keyring_backend=FakeKeyring())
    assert real.app_key == "generic-key-123456"


def test_keyring_is_the_fallback_and_store_round_trips() -> None:
    ring = FakeKeyring()
    secrets.store_credentials(
        Mode.REAL,
        secrets.Credentials("ring-key-abcdef", "ring-secret-abcdef"),
        keyring_backend=ring,
    )
    creds = secrets.load_credentials(Mode.REAL, env={}, keyring_backend=ring)
    assert creds == secrets.Credentials("ring-key-abcdef", "ring-secret-abcdef")


def test_missing_keys_explain_how_to_fix() -> None:
    with pytest.raises(secrets.CredentialsError) as info:
        secrets.load_credentials(Mode.MOCK, env={}, keyring_backend=FakeKeyring())
    message = str(info.value)
    assert "KIWOOM_MOCK_APPKEY" in message and "키링" in message and "settings.ini" in message


def test_sim_needs_no_keys() -> None:
    assert secrets.load_credentials(Mode.SIM, env={}) == secrets.sim_credentials()


def test_credentials_repr_hides_values() -> None:
    creds = secrets.Credentials("PSabcdefghijkl", "XKsecretsecretsecret")
    text = repr(creds) + str(creds) + f"{creds}"
    assert "abcdefghijkl" not in text and "secretsecret" not in text


def test_log_filter_masks_registered_and_generic_secrets() -> None:
    secrets.register_secret("registered-token-0123456789")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.redaction")
    logger.propagate = False
    logger.addHandler(handler)
    secrets.install_redaction(logger)
    try:
        logger.warning("sent %s", "registered-token-0123456789")
        logger.warning('headers {"authorization": "Bearer abc.def-ghi"}')
        logger.warning('body {"appkey": "PSxxxxxxxxxx", "secretkey": "XKyyyyyyyy"}')
        try:
            raise ValueError("token=registered-token-0123456789 failed")
        except ValueError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    for leaked in ("registered-token-0123456789", "abc.def-ghi", "PSxxxxxxxxxx", "XKyyyyyyyy"):
        assert leaked not in out
    assert out.count(secrets.MASK) >= 4 and "boom" in out
