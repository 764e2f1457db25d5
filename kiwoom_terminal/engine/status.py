"""`EngineStatus`: what the status bar shows, as one immutable value, and `OwnFill`, the
payload of the engine's `fill` signal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kiwoom_terminal.constants import ConnectionState, Mode, Side
from kiwoom_terminal.krx import SessionPhase
from kiwoom_terminal.messages import WorkerKind


@dataclass(frozen=True)
class EngineStatus:
    """Server mode, each worker's connection (keyed by `WorkerKind` value: "tr", "order",
    "websocket"), whether a rate limiter is holding requests back, the server clock and
    session phase, auto-trade, the last snapshot, and the engine's own readiness.

    `ready` is False until the start-up reconciliation with the account has finished; no
    order is sent before. `blocked_codes` are stocks with an order whose outcome is unknown
    (no new orders for them until reconciled).
    """

    mode: Mode = Mode.SIM
    connections: dict[str, ConnectionState] = field(
        default_factory=lambda: {k.value: ConnectionState.STARTING for k in WorkerKind}
    )
    throttling: bool = False
    server_time: dt.datetime | None = None
    session_phase: SessionPhase = SessionPhase.CLOSED
    auto_trade: bool = False
    last_snapshot: dt.datetime | None = None
    ready: bool = False
    blocked_codes: tuple[str, ...] = ()
    positions: int = 0
    day_pnl: int = 0

    def connected(self, kind: WorkerKind) -> bool:
        return self.connections.get(kind.value) is ConnectionState.CONNECTED


@dataclass(frozen=True, slots=True)
class OwnFill:
    """One fill of ours, as the `fill` signal carries it."""

    code: str
    name: str
    side: Side
    price: int
    quantity: int
    time: str  # HHmmss
    order_no: str
    purpose: str
