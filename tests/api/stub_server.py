"""Loopback servers for the REST client's transport tests (port 0, one thread each).

`StubKiwoom` answers like Kiwoom but from a script, for replies the simulator never sends
(8031 / 8103, an envelope without `return_code`, endless paging). `RawServer` speaks no
HTTP at all: it accepts and then closes or stays silent, for the network failures whose
classification (NOT_PROCESSED vs UNKNOWN) decides whether an order may be resent.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kiwoom_terminal.krx import KST


@dataclass
class StubReply:
    """One scripted reply: HTTP status, JSON body and the paging headers."""

    body: dict[str, Any]
    status: int = 200
    cont: bool = False
    next_key: str = ""


def ok(**fields: Any) -> StubReply:
    return StubReply({**fields, "return_code": 0, "return_msg": "조회가 완료되었습니다"})


def auth_error(code: str) -> StubReply:
    return StubReply({"return_code": 3, "return_msg": f"인증에 실패했습니다[{code}:토큰 오류]"})


@dataclass
class StubKiwoom:
    """A scripted Kiwoom REST server. `script[api_id]` replies are used in order; when a
    list runs out, `default[api_id]` is repeated. au10001 issues `stub-token-N` (valid for
    a day) unless scripted. `calls` counts requests per api-id, `tokens` the bearer tokens
    each request carried, `bodies` the request bodies as read, `heads` and `paths` their headers and targets."""

    script: dict[str, list[StubReply]] = field(default_factory=dict)
    default: dict[str, StubReply] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    tokens: list[tuple[str, str]] = field(default_factory=list)
    bodies: list[tuple[str, bytes]] = field(default_factory=list)  # (api-id, request body)
    heads: list[list[tuple[str, str]]] = field(default_factory=list)  # each request's headers
    paths: list[str] = field(default_factory=list)  # each request's target
    url: str = ""

    def reply_for(self, api_id: str, authorization: str) -> StubReply:
        self.calls[api_id] += 1
        self.tokens.append((api_id, authorization.removeprefix("Bearer ")))
        queued = self.script.get(api_id)
        if queued:
            return queued.pop(0)
        if api_id in self.default:
            return self.default[api_id]
        if api_id == "au10001":
            expires = dt.datetime.now(KST) + dt.timedelta(days=1)
            return ok(
                token=f"stub-token-{self.calls[api_id]}",
                token_type="bearer",
                expires_dt=expires.strftime("%Y%m%d%H%M%S"),
            )
        return StubReply({"return_code": 2, "return_msg": f"[1505:없는 API ID {api_id}]"})


@contextmanager
def stub_kiwoom(
    stub: StubKiwoom | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[StubKiwoom]:
    """Serve `stub` on 127.0.0.1:<free port> for the duration of the block; over TLS
    (https://localhost:<port>) with `tls`, a server-side context."""
    stub = stub or StubKiwoom()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            api_id = self.headers.get("api-id") or (
                "au10001" if self.path == "/oauth2/token" else ""
            )
            stub.bodies.append((api_id, body))
            stub.heads.append(list(self.headers.items()))
            stub.paths.append(self.path)
            reply = stub.reply_for(api_id, self.headers.get("authorization") or "")
            data = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("cont-yn", "Y" if reply.cont else "N")
            self.send_header("next-key", reply.next_key)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean (and free of request lines)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    if tls is not None:  # accept() then does the handshake; a refused one is dropped
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        stub.url = f"https://localhost:{server.server_address[1]}"
    # a short poll interval: shutdown() waits for it at the end of every test
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="stub-kiwoom", daemon=True
    )
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class RawServer:
    """A TCP listener on 127.0.0.1:<free port> that reads one HTTP request per connection
    and then either closes the connection (`mode="close"`) or holds it open without a word
    (`mode="silent"`) until `close()`. `requests_read` is set once a whole request arrived."""

    def __init__(self, mode: str) -> None:
        if mode not in ("close", "silent"):
            raise ValueError(mode)
        self.mode = mode
        self.accepted = 0
        self._counted = threading.Condition()
        self.requests_read = threading.Event()
        self._release = threading.Event()
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        # accept() wakes up now and then to see `_stop`: closing a socket does not
        # interrupt an accept() blocked in another thread on every platform.
        self._sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name="raw-server", daemon=True)
        self._thread.start()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._counted:
                self.accepted += 1
                self._counted.notify_all()
            _read_request(conn)
            self.requests_read.set()
            if self.mode == "close":
                conn.close()
            else:
                self._held.append(conn)

    def wait_accepted(self, count: int, timeout: float = 10.0) -> int:
        """The number of connections accepted, once it reached `count` (or the timeout:
        the client may give up before this thread got to accept())."""
        with self._counted:
            self._counted.wait_for(lambda: self.accepted >= count, timeout)
            return self.accepted

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()
        for conn in self._held:
            conn.close()


def _read_request(conn: socket.socket) -> None:
    """Read the request head and its Content-Length body (requests sends both at once)."""
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


@contextmanager
def refused_port() -> Iterator[str]:
    """A URL whose port is bound but not listening: connecting is refused at once, and no
    other program can take the port while the block runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
