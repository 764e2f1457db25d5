"""Requests waiting for their reply, per worker, so none is forgotten when a worker dies."""

from __future__ import annotations

import threading
from typing import Any

from kiwoom_terminal.messages import (
    ErrorInfo,
    OrderReply,
    Request,
    TrReply,
    WorkerKind,
    WsReply,
    failed_reply,
    worker_for,
)

Reply = TrReply | OrderReply | WsReply


class PendingRequests:
    """A thread-safe table of sent requests by id. `add` when sending, `resolve` when a
    reply arrives, `fail_all` when the worker died: it returns a failed reply for every
    request still waiting (orders as UNKNOWN: they may have been sent)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_kind: dict[WorkerKind, dict[str, Request]] = {k: {} for k in WorkerKind}

    def add(self, request: Request) -> None:
        kind = worker_for(request)
        with self._lock:
            table = self._by_kind[kind]
            if request.request_id in table:
                raise ValueError(f"request id already pending: {request.request_id}")
            table[request.request_id] = request

    def resolve(self, reply: Any) -> Request | None:
        """Remove and return the request `reply` answers (None for events and unknown ids)."""
        request_id = getattr(reply, "request_id", None)
        if request_id is None:
            return None
        with self._lock:
            for table in self._by_kind.values():
                request = table.pop(request_id, None)
                if request is not None:
                    return request
        return None

    def fail_all(self, kind: WorkerKind, error: ErrorInfo) -> list[Reply]:
        """Failed replies for every pending request of `kind`, in sending order."""
        with self._lock:
            table = self._by_kind[kind]
            requests = list(table.values())
            table.clear()
        return [failed_reply(r, error) for r in requests]

    def ids(self, kind: WorkerKind | None = None) -> list[str]:
        with self._lock:
            if kind is not None:
                return list(self._by_kind[kind])
            return [i for table in self._by_kind.values() for i in table]

    def __len__(self) -> int:
        with self._lock:
            return sum(len(t) for t in self._by_kind.values())
