"""How `RestClient` puts a POST on the wire: through its process's one `requests.Session`,
in one of two ways that send the same bytes and fail with the same errors.

* `RequestsTransport` — `Session.send`, requests' full path. The general-TR worker, the
  WebSocket worker's token calls and the backtester use it.
* `DirectTransport` — the same session's connection pool (the one its adapter picks for
  the base URL, TLS verification set as requests sets it), called without requests'
  per-call layers (PreparedRequest, adapter dispatch, proxy selection, Response). The
  order worker uses it: those layers were ≈90 µs of the ≈155 µs between the order worker
  taking a sell and the socket write (measured alone), and more on a busy machine. In
  bench/tick_to_order.py the decision-to-server stage lost 0.24–0.34 ms at the median and
  the whole sell ×0.83–0.88 (docs/BENCHMARKS.md, "Fourth round").

What both guarantee, because order safety depends on it:

* the same request: method, path, the caller's headers plus the session's default ones
  (User-Agent, Accept, Accept-Encoding, Connection), the body written together with the
  head (one_write.py);
* the same timeouts: connect separately from read;
* never a retry or a redirect of their own: one call, at most one request on the wire;
* the same NetworkError: `maybe_sent` is False only when no connection was made
  (refused, unresolvable, connect timeout), so the request certainly never left; a timeout
  after connecting, a dropped connection or a TLS failure may have reached the server.

Proxy and CA-bundle settings come from the environment once, when the transport is made
(`make_transport`); it keeps requests' full path when a proxy applies to the base URL,
which `DirectTransport` does not speak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
import urllib3
from requests.utils import select_proxy
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

from kiwoom_terminal.api.errors import NetworkError
from kiwoom_terminal.api.one_write import OneWriteAdapter, mount_one_write

Timeout = tuple[float, float]  # (connect, read) seconds


@dataclass(frozen=True)
class HttpReply:
    """What RestClient reads of a reply: status, raw body and headers (any case)."""

    status: int
    content: bytes
    headers: Mapping[str, str]

    @property
    def text(self) -> str:
        """The body as text, for error messages when it is not JSON."""
        return self.content.decode("utf-8", "replace")


class Transport(Protocol):
    """Sends one POST and returns its reply, or raises NetworkError (see the module)."""

    def post(
        self, path: str, headers: dict[str, str], data: bytes, timeout: Timeout, api_id: str
    ) -> HttpReply: ...

    def close(self) -> None: ...


def make_transport(base_url: str, *, direct: bool = False) -> Transport:
    """The transport for `base_url` over a new session: DirectTransport when `direct` and
    no proxy applies, else RequestsTransport. Proxy and CA-bundle settings are read from
    the environment once, here (per call, requests would rescan it and ~/.netrc: ≈0.2 ms
    per order)."""
    session = requests.Session()
    mount_one_write(session)
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.trust_env = False
    if direct and select_proxy(base_url, settings["proxies"]) is None:
        return DirectTransport(base_url, session, verify=settings["verify"])
    return RequestsTransport(base_url, session, settings)


class RequestsTransport:
    """POSTs through a `requests.Session` (with the one-write adapter mounted)."""

    def __init__(self, base_url: str, session: requests.Session, settings: dict[str, Any]):
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._settings = settings
        self._headers = dict(session.headers)  # requests' defaults: UA, Accept, …

    def post(
        self, path: str, headers: dict[str, str], data: bytes, timeout: Timeout, api_id: str
    ) -> HttpReply:
        # A bare PreparedRequest: the session holds no cookies, auth or hooks to merge,
        # only its default headers, and skipping Session.prepare_request saves ≈80 µs.
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method="POST",
            url=self.base_url + path,
            headers={**self._headers, **headers},
            data=data,
        )
        try:
            response = self._session.send(
                prepared, timeout=timeout, allow_redirects=False, **self._settings
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise _connect_failed(self.base_url, api_id, timed_out=True) from exc
        except requests.exceptions.Timeout as exc:
            raise _read_timed_out(timeout, api_id) from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise _connect_failed(self.base_url, api_id) from exc
            raise _dropped(self.base_url, api_id) from exc
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"요청 중 오류: {type(exc).__name__}", api_id=api_id) from exc
        return HttpReply(response.status_code, response.content, response.headers)

    def close(self) -> None:
        self._session.close()


class DirectTransport:
    """POSTs through the connection pool of the session's adapter for the base URL (one
    kept-alive connection: the order worker sends one request at a time). A connection
    the server closed while idle is noticed before reuse and replaced, as requests does;
    a request is never resent."""

    def __init__(
        self, base_url: str, session: requests.Session, *, verify: bool | str = True
    ) -> None:
        self.base_url = base_url.rstrip("/")
        url = urllib3.util.parse_url(self.base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        adapter = session.get_adapter(self.base_url)
        if not isinstance(adapter, OneWriteAdapter):
            raise TypeError("DirectTransport needs the session's OneWriteAdapter")
        self._session = session  # owns the pool and its connection; closed with it
        self._pool = adapter.pool_for(self.base_url, verify)
        self._prefix = (url.path or "").rstrip("/")
        self._headers = dict(session.headers)  # what requests would add

    def post(
        self, path: str, headers: dict[str, str], data: bytes, timeout: Timeout, api_id: str
    ) -> HttpReply:
        sent = {**self._headers, **headers, "Content-Length": str(len(data))}
        try:
            response = self._pool.urlopen(
                "POST",
                self._prefix + path,
                body=data,
                headers=sent,
                retries=False,  # errors are raised as they are, never retried
                redirect=False,
                assert_same_host=False,
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
            )
        except NewConnectionError as exc:  # refused, unresolvable: before ConnectTimeout,
            raise _connect_failed(self.base_url, api_id) from exc  # its base class
        except ConnectTimeoutError as exc:
            raise _connect_failed(self.base_url, api_id, timed_out=True) from exc
        except ReadTimeoutError as exc:
            raise _read_timed_out(timeout, api_id) from exc
        except urllib3.exceptions.HTTPError as exc:  # dropped connection, TLS, protocol
            raise _dropped(self.base_url, api_id) from exc
        return HttpReply(response.status, response.data, response.headers)

    def close(self) -> None:
        self._session.close()


def _connect_failed(base_url: str, api_id: str, *, timed_out: bool = False) -> NetworkError:
    reason = " (시간 초과)" if timed_out else ""
    return NetworkError(
        f"서버에 연결하지 못했습니다{reason}: {base_url}", maybe_sent=False, api_id=api_id
    )


def _read_timed_out(timeout: Timeout, api_id: str) -> NetworkError:
    return NetworkError(
        f"서버 응답이 {timeout[1]:g}초 안에 오지 않았습니다", timeout=True, api_id=api_id
    )


def _dropped(base_url: str, api_id: str) -> NetworkError:
    return NetworkError(f"서버 연결이 끊어졌습니다: {base_url}", api_id=api_id)


def _never_connected(exc: BaseException) -> bool:
    """True when requests' error certainly never reached the server (refused, no route)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError)):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, (NewConnectionError, ConnectTimeoutError)):
            return True
        args0 = (
            current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        )
        current = args0 or current.__cause__ or current.__context__
    return False
