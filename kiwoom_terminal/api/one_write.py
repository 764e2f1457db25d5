"""Requests whose head and body leave in one write: one TCP segment (one TLS record).

urllib3 writes a POST in two calls: the head from `endheaders()`, then the body. With
TCP_NODELAY (urllib3's default) that is two segments, and the server reads the request
only once the second one is in. Measured on the order path of bench/tick_to_order.py:

* the order worker could lose the CPU (or the GIL) between the two writes, so the body
  followed the head by up to 1.4 ms (p99) while the order sat half-sent;
* the simulator woke for the head, found no body and had to wake again for it, each wake
  queued behind whatever its loop was doing — a real server does the same work twice.

`OneWriteAdapter` (mounted on every `RestClient`'s session; transport.DirectTransport
sends through the same adapter's pool) holds the head back and
writes it together with the body. Only a `bytes` body with a Content-Length header takes
this path (every TR call: `RestClient` sends JSON bytes, requests sets the length); any
other request is written exactly as urllib3 writes it. Nothing else changes: the same
connection pool, timeouts and errors, so a refused connection still fails before anything
was sent and an order is still written once.
"""

from __future__ import annotations

from typing import Any

from requests import PreparedRequest
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class _HeadWithBody:
    """Connection mixin: the body rides along with the head's write (see the module)."""

    _body_with_head: bytes | None = None

    def request(  # type: ignore[no-untyped-def]
        self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any
    ):
        held = (
            isinstance(body, bytes)
            and body
            and not kwargs.get("chunked")
            and headers is not None
            and any(str(key).lower() == "content-length" for key in headers)
        )
        if held:
            # urllib3 then writes no body of its own; the Content-Length is requests'.
            self._body_with_head, body = body, None
        try:
            return super().request(method, url, body=body, headers=headers, **kwargs)  # type: ignore[misc]
        finally:
            self._body_with_head = None

    def send(self, data: Any) -> None:
        # The first write of a held request is its head (http.client's endheaders()).
        body, self._body_with_head = self._body_with_head, None
        if body is not None:
            data = bytes(data) + body
        super().send(data)  # type: ignore[misc]


class _HTTPConnection(_HeadWithBody, HTTPConnection):
    pass


class _HTTPSConnection(_HeadWithBody, HTTPSConnection):
    pass


class _HTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class OneWriteAdapter(HTTPAdapter):
    """requests' HTTPAdapter with connections that write a request in one piece."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _HTTPConnectionPool,
            "https": _HTTPSConnectionPool,
        }

    def pool_for(
        self, url: str, verify: bool | str, cert: str | tuple[str, str] | None = None
    ) -> HTTPConnectionPool:
        """The connection pool `send` uses for `url` (no proxy), with TLS verification set
        as `send` sets it, for a caller that sends through the pool itself
        (transport.DirectTransport). The pool stays this adapter's: its connections are
        the session's, closed with it."""
        probe = PreparedRequest()
        probe.prepare(method="POST", url=url)
        pool = self.get_connection_with_tls_context(probe, verify, proxies=None, cert=cert)
        self.cert_verify(pool, url, verify, cert)
        return pool


def mount_one_write(session: Any) -> None:
    """Mount `OneWriteAdapter` for http:// and https:// on `session`."""
    adapter = OneWriteAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
