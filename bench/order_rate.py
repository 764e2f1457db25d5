"""Order rate: 300 orders through the order-TR worker as fast as a 5/s limit allows.

The simulator enforces Kiwoom's published order quota (5 requests/s per api-id, token
bucket) and the worker is configured as in real mode (orders 5/s). All 300 limit buys are
queued at once; the worker paces them. Reported: the achieved rate (orders accepted per
second between the first and the last acknowledgement), the end-to-end time, rejections of
any kind (1700 included) and the order acknowledgement latency as seen by the GUI process.

Target: ≥ 4.9 orders/s with 0 rejections. Usage: python bench/order_rate.py [--orders 300]
Prints one `name: value unit` per line, the headline (achieved rate) last; exits 0 even when
the target is missed.
"""

from __future__ import annotations

import argparse
import select
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import load_average

from kiwoom_terminal.api.ratelimit import RateLimit
from kiwoom_terminal.constants import ConnectionState, Mode, OrderType, Side
from kiwoom_terminal.messages import (
    ConnectionStatus,
    OrderOutcome,
    OrderReply,
    PlaceOrderRequest,
    ThrottleStatus,
    WorkerKind,
)
from kiwoom_terminal.objects import OrderRequest
from kiwoom_terminal.secrets import sim_credentials
from kiwoom_terminal.sim.launcher import start_simulator
from kiwoom_terminal.workers.config import WorkerConfig
from kiwoom_terminal.workers.supervisor import WorkerSupervisor

CODE = "005930"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rate", type=float, default=5.0, help="quota of server and client")
    args = parser.parse_args()
    with start_simulator("--seed", "5", "--faults", f"rate={args.rate:g},global_rate=20") as sim:
        sim.control.pause()
        lower = int(sim.control.quote(CODE)["lower"])
        config = WorkerConfig(
            Mode.SIM,
            sim.rest_url,
            sim.ws_url,
            sim_credentials(),
            order_limit=RateLimit(args.rate),
            log_level="WARNING",
        )
        with WorkerSupervisor(config, kinds=(WorkerKind.ORDER,)) as sup:
            connected = False
            while not connected:
                select.select(sup.wakeup_filenos(), [], [], 1.0)
                for m in sup.poll():
                    if isinstance(m, ConnectionStatus) and m.state is ConnectionState.CONNECTED:
                        connected = True
                    elif isinstance(m, ConnectionStatus) and m.state is ConnectionState.AUTH_FAILED:
                        raise SystemExit(m.detail)
            time.sleep(1.1)  # let the token bucket refill after the token request
            sim.control.reset_requests()
            sent_at: dict[str, float] = {}
            started = time.monotonic()
            for _ in range(args.orders):
                request = PlaceOrderRequest(OrderRequest(CODE, Side.BUY, 1, lower, OrderType.LIMIT))
                sent_at[sup.send(request)] = time.monotonic()
            replies: list[tuple[float, OrderReply]] = []
            throttled = False
            while len(replies) < args.orders:
                select.select(sup.wakeup_filenos(), [], [], 5.0)
                now = time.monotonic()
                for m in sup.poll():
                    if isinstance(m, OrderReply):
                        replies.append((now, m))
                    elif isinstance(m, ThrottleStatus) and m.active:
                        throttled = True
            finished = time.monotonic()
        server = sim.control.results()
    server_rejected = sum(
        n for key, n in server.items() if key.startswith("kt1000") and not key.endswith(":0")
    )
    accepted = [(t, r) for t, r in replies if r.outcome is OrderOutcome.ACCEPTED]
    rejected = len(replies) - len(accepted)
    times = sorted(t for t, _ in accepted)
    steady = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    overall = len(accepted) / (finished - started)
    attempts = sum(r.attempts for _, r in replies)
    print(f"order_rate_orders: {len(replies)} orders")
    print(f"order_rate_elapsed: {finished - started:.1f} s")
    print(f"order_rate_overall: {overall:.2f} orders/s")
    print(f"order_rate_http_sends: {attempts} requests")
    print(f"order_rate_rejections: {rejected} orders")
    print(f"order_rate_server_rejections: {server_rejected} requests")
    print(f"order_rate_throttling_reported: {'yes' if throttled else 'no'}")
    print(f"order_rate_load_average: {load_average():.1f} runnable processes (2 cores)")
    print(f"order_rate_achieved: {steady:.2f} orders/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
