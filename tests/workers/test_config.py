"""`build_worker_config`: which hosts and which rate limits each mode gets (README, "Rate
limits"; kiwoom-api.md §1.1 for the hosts). Pure logic, no server."""

from __future__ import annotations

import pickle

import pytest

from kiwoom_terminal.api import wire
from kiwoom_terminal.api.ratelimit import RateLimit
from kiwoom_terminal.constants import Mode
from kiwoom_terminal.secrets import Credentials
from kiwoom_terminal.settings import AppSettings, load_settings, to_raw
from kiwoom_terminal.workers.config import DEFAULT_MARGIN, TOKEN_LIMIT, build_worker_config

KEYS = Credentials("PSabcdefghijklmnop-app-key", "very-secret-secret-key-0123")
SIM_REST = "http://127.0.0.1:40123"
SIM_WS = "ws://127.0.0.1:40124/api/dostk/websocket"
HOSTS = {  # kiwoom-api.md §1.1, spelled out so a swapped constant shows
    Mode.MOCK: (
        "https://mockapi.kiwoom.com",
        "wss://mockapi.kiwoom.com:10000/api/dostk/websocket",
    ),
    Mode.REAL: ("https://api.kiwoom.com", "wss://api.kiwoom.com:10000/api/dostk/websocket"),
}


def _settings(mode: Mode, **values: str) -> AppSettings:
    """Settings as the INI file would give them: `section/name` keys."""
    raw = {**to_raw(AppSettings()), "general/mode": mode.value, **values}
    return load_settings(raw)


@pytest.mark.parametrize(
    ("mode", "queries", "orders"),
    [(Mode.SIM, 5.0, 5.0), (Mode.MOCK, 1.0, 1.0), (Mode.REAL, 5.0, 5.0)],
)
def test_default_limits_per_mode_are_the_readme_table(
    mode: Mode, queries: float, orders: float
) -> None:
    urls = {"rest_url": SIM_REST, "ws_url": SIM_WS} if mode is Mode.SIM else {}
    config = build_worker_config(_settings(mode), KEYS, **urls)
    assert config.mode is mode
    assert (config.query_limit, config.order_limit) == (RateLimit(queries), RateLimit(orders))
    # every quota is paced 1 % wide, and the token endpoint has its own limit
    for limiter in (config.query_limiter(), config.order_limiter()):
        assert limiter.margin == DEFAULT_MARGIN == 0.01
        assert dict(limiter.per_api) == {wire.TOKEN_ISSUE: TOKEN_LIMIT}
    assert config.query_limiter().overall == RateLimit(queries)
    assert config.order_limiter().overall == RateLimit(orders)


def test_each_mode_reads_its_own_settings() -> None:
    """Six different numbers: a mode that read another mode's key (or swapped queries and
    orders) would show here."""
    settings = {
        "sim/queries_per_second": "7",
        "sim/orders_per_second": "8",
        "connection/mock_queries_per_second": "0.5",
        "connection/mock_orders_per_second": "0.7",
        "connection/real_queries_per_second": "3",
        "connection/real_orders_per_second": "4",
    }
    limits = {
        mode: build_worker_config(
            _settings(mode, **settings),
            KEYS,
            **({"rest_url": SIM_REST, "ws_url": SIM_WS} if mode is Mode.SIM else {}),
        )
        for mode in Mode
    }
    assert {mode: (c.query_limit.rate, c.order_limit.rate) for mode, c in limits.items()} == {
        Mode.SIM: (7.0, 8.0),
        Mode.MOCK: (0.5, 0.7),
        Mode.REAL: (3.0, 4.0),
    }


def test_urls_per_mode() -> None:
    for mode, (rest, ws) in HOSTS.items():
        config = build_worker_config(_settings(mode), KEYS)
        assert (config.rest_url, config.ws_url) == (rest, ws)
        # given URLs win (a stub or a proxy in front of Kiwoom)
        moved = build_worker_config(_settings(mode), KEYS, rest_url=SIM_REST, ws_url=SIM_WS)
        assert (moved.rest_url, moved.ws_url, moved.mode) == (SIM_REST, SIM_WS, mode)
    sim = build_worker_config(_settings(Mode.SIM), KEYS, rest_url=SIM_REST, ws_url=SIM_WS)
    assert (sim.rest_url, sim.ws_url) == (SIM_REST, SIM_WS)


@pytest.mark.parametrize("urls", [{}, {"rest_url": SIM_REST}, {"ws_url": SIM_WS}])
def test_sim_mode_needs_both_simulator_urls(urls: dict[str, str]) -> None:
    """Sim mode never falls back to Kiwoom's hosts."""
    with pytest.raises(ValueError, match="rest_url and ws_url"):
        build_worker_config(_settings(Mode.SIM), KEYS, **urls)


def test_connection_settings_keys_and_log_level_reach_the_workers() -> None:
    settings = _settings(
        Mode.REAL,
        **{
            "connection/request_timeout_s": "7.5",
            "connection/token_renew_margin_s": "120",
            "general/log_level": "DEBUG",
        },
    )
    config = build_worker_config(settings, KEYS)
    assert config.request_timeout_s == 7.5
    assert config.token_renew_margin_s == 120.0
    assert config.log_level == "DEBUG"
    assert config.credentials == KEYS
    # it travels to the spawned workers by pickle, and its repr (logged) hides the keys
    assert pickle.loads(pickle.dumps(config)) == config
    text = repr(config)
    assert KEYS.secret_key not in text and KEYS.app_key not in text
