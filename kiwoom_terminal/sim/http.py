"""A small asyncio HTTP/1.1 server for the simulator's REST side.

Keep-alive, Content-Length bodies, a cap on header and body size. Anything malformed gets
a JSON error envelope and the connection is closed; no input can crash the server. TLS and
chunked request bodies are not supported (Kiwoom clients send Content-Length).

Every request is stamped with when it arrived (`Request.received_at`). On Linux that is
the kernel's receive time of its last bytes (`SO_TIMESTAMPNS` on each accepted socket,
read with `recvmsg`): the moment the request reached this server, however busy the
simulator's market loop was then. Where the platform gives no such time (Windows, macOS,
a packet without a stamp) it is when the event loop read the bytes (`loop_read_at`, always
recorded too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import platform
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus

from kiwoom_terminal.sim import errors

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 32 * 1024
IDLE_TIMEOUT_S = 120.0
BODY_TIMEOUT_S = 30.0
JSON_TYPE = "application/json;charset=UTF-8"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    version: str = "HTTP/1.1"
    # time.time() when the request's last bytes reached the server: the kernel's receive
    # time where available, else `loop_read_at` (bench/tick_to_order.py measures to it)
    received_at: float = 0.0
    # time.time() when the event loop read those bytes from the socket: later by however
    # long the loop was busy (the market's slices) or waited for a CPU
    loop_read_at: float = 0.0
    # time.time() when this coroutine had parsed it: later again by the hand-over from the
    # loop's read to the connection's task
    read_at: float = 0.0


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False

    @classmethod
    def json(
        cls, obj: object, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})

    @classmethod
    def error(cls, err: errors.ApiError, *, close: bool = False) -> Response:
        resp = cls.json(err.body(), err.status, err.headers)
        resp.close = close
        return resp


Handler = Callable[[Request], Awaitable[Response]]


async def _within(read: Coroutine[object, object, bytes], seconds: float) -> bytes:
    """`await read`, raising TimeoutError after `seconds`.

    asyncio.wait_for (before 3.12) runs `read` as a task of its own, so a request that
    arrives wakes three tasks one after another; while the market loop works in slices,
    each of those hand-overs waited for a slice (~1 ms each under load) before the request
    was even read. asyncio.timeout() (3.11+) wakes only this task."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await read
    try:
        return await asyncio.wait_for(read, seconds)
    except asyncio.TimeoutError as exc:  # not the builtin TimeoutError before 3.11
        raise TimeoutError from exc


# SO_TIMESTAMPNS: the kernel stamps each received packet (CLOCK_REALTIME, as time.time())
# and `recvmsg` returns the stamp of the data it read. The constant is missing from
# Python's socket module; 35 is its value on the architectures listed (asm-generic).
_RX_TIMESTAMPS = sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64")
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("qq")  # struct timespec on a 64-bit kernel
_ANCILLARY_BYTES = socket.CMSG_SPACE(_TIMESPEC.size) if _RX_TIMESTAMPS else 0


class _StampedSocket(socket.socket):
    """An accepted connection whose reads keep the kernel's receive time of what they read
    (`rx_at`; 0.0 when a read brought no stamp). asyncio's selector transport reads with
    `recv`. Only made where `_RX_TIMESTAMPS` (recvmsg and the option exist)."""

    rx_at = 0.0

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data, ancillary, _flags, _address = self.recvmsg(bufsize, _ANCILLARY_BYTES, flags)
        self.rx_at = 0.0
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(payload) >= 16:
                seconds, nanoseconds = _TIMESPEC.unpack_from(payload)
                self.rx_at = seconds + nanoseconds * 1e-9
        return data


class _StampedReader(asyncio.StreamReader):
    """A StreamReader that remembers when bytes last came off the socket: `data_at` when
    the event loop read them, `kernel_at` when they arrived (0.0 if unknown). The protocol
    feeds it in the same loop step that reads the socket, before any task runs."""

    data_at = 0.0
    kernel_at = 0.0
    sock: _StampedSocket | None = None

    def feed_data(self, data: bytes) -> None:  # type: ignore[override]
        self.data_at = time.time()
        self.kernel_at = self.sock.rx_at if self.sock is not None else 0.0
        super().feed_data(data)


class HttpServer:
    """Serves `handler` on host:port; `max_body` bytes of body at most."""

    def __init__(self, handler: Handler, *, max_body: int = 1024 * 1024) -> None:
        self.handler = handler
        self.max_body = max_body
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._conns: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0: any free port) and return the port."""
        listener = socket.create_server((host, port), backlog=128)
        listener.setblocking(False)
        self._listener = listener
        self._accepting = asyncio.create_task(self._accept(listener))
        return int(listener.getsockname()[1])

    async def _accept(self, listener: socket.socket) -> None:
        """asyncio.start_server's accept loop, with each connection's socket stamped."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                accepted, _address = await loop.sock_accept(listener)
            except (ConnectionAbortedError, InterruptedError):
                continue
            except OSError as exc:  # out of file descriptors …: refuse for a moment
                log.warning("HTTP accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            stamped: _StampedSocket | None = None
            if _RX_TIMESTAMPS:
                stamped = _StampedSocket(fileno=accepted.detach())
                accepted = stamped
                with contextlib.suppress(OSError):
                    stamped.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)

            def protocol(stamped: _StampedSocket | None = stamped) -> asyncio.StreamReaderProtocol:
                reader = _StampedReader(limit=MAX_HEADER_BYTES, loop=loop)
                reader.sock = stamped
                return asyncio.StreamReaderProtocol(reader, self._serve, loop=loop)

            try:
                await loop.connect_accepted_socket(protocol, accepted)
            except OSError:  # the client left at once
                accepted.close()

    async def close(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
            self._accepting = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for writer in list(self._conns):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert isinstance(reader, _StampedReader)  # made by start()'s protocol factory
        self._conns.add(writer)
        try:
            while True:
                resp, keep_alive = await self._one(reader)
                if resp is None:
                    break
                await self._write(writer, resp, keep_alive)
                if not keep_alive or resp.close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # shutting down (3.11's stream callback chokes on a cancelled task)
        except Exception:  # never let one connection take the server down
            log.exception("HTTP connection failed")
        finally:
            self._conns.discard(writer)
            writer.close()

    async def _one(self, reader: _StampedReader) -> tuple[Response | None, bool]:
        """Read and handle one request; (None, False) when the client went away."""
        try:
            head = await _within(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT_S)
        except (asyncio.IncompleteReadError, TimeoutError):
            return None, False
        except asyncio.LimitOverrunError:
            err = errors.input_error(1512, "Http Header가 너무 큽니다")
            err.status = 431
            return Response.error(err, close=True), False
        try:
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
            if not version.startswith("HTTP/1."):
                raise ValueError(version)
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if not line:
                    continue
                name, sep, value = line.partition(":")
                if not sep or not name.strip():
                    raise ValueError(line)
                # Header values are UTF-8 in practice (latin-1 keeps the raw bytes).
                headers[name.strip().lower()] = (
                    value.strip().encode("latin-1").decode("utf-8", "replace")
                )
        except ValueError:
            err = errors.input_error(1512, "Http Header 값을 읽을 수 없습니다")
            err.status = 400
            return Response.error(err, close=True), False
        keep_alive = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            err = errors.input_error(1512, "Content-Length가 필요합니다")
            err.status = 411
            return Response.error(err, close=True), False
        try:
            length = int(headers.get("content-length", "0") or "0")
            if length < 0:
                raise ValueError
        except ValueError:
            err = errors.input_error(1512, "Content-Length 값이 올바르지 않습니다")
            err.status = 400
            return Response.error(err, close=True), False
        if length > self.max_body:
            err = errors.input_error(1517, f"요청 본문이 너무 큽니다(최대 {self.max_body}바이트)")
            err.status = 413
            return Response.error(err, close=True), False
        try:
            body = await _within(reader.readexactly(length), BODY_TIMEOUT_S)
        except TimeoutError:
            return None, False
        read_at = time.time()
        # The bytes that completed this request were the last ones fed (a client sends one
        # request and waits for its reply).
        loop_read_at = reader.data_at
        arrived = reader.kernel_at or loop_read_at
        request = Request(
            method.upper(),
            target.split("?", 1)[0],
            headers,
            body,
            version,
            arrived,
            loop_read_at,
            read_at,
        )
        try:
            resp = await self.handler(request)
        except errors.ApiError as err:
            resp = Response.error(err)
        except Exception:
            log.exception("request %s %s failed", method, target)
            resp = Response.error(
                errors.service_error(1999, "예기치 못한 오류가 발생했습니다", status=500)
            )
        return resp, keep_alive

    async def _write(self, writer: asyncio.StreamWriter, resp: Response, keep_alive: bool) -> None:
        try:
            reason = HTTPStatus(resp.status).phrase
        except ValueError:
            reason = ""
        parts = [f"HTTP/1.1 {resp.status} {reason}"]
        headers = dict(resp.headers)
        headers["Content-Length"] = str(len(resp.body))
        headers.setdefault("Content-Type", JSON_TYPE)
        headers["Connection"] = "keep-alive" if keep_alive and not resp.close else "close"
        for name, value in headers.items():
            parts.append(f"{name}: {value}")
        head = ("\r\n".join(parts) + "\r\n\r\n").encode("utf-8")
        writer.write(head + resp.body)
        await writer.drain()
