"""How many REAL entries per second the simulator sustains to one WebSocket client.

Starts the simulator (child process), logs one `websockets` client in, registers ~100
codes for 0B + 0D and the account's 00 / 04, and while a second thread keeps placing
market orders over REST (so matching runs too) it steps the crowd tick rate through
1k, 5k, 20k, 40k and an unthrottled rate, counting the entries the client actually parses.

    .venv/bin/python bench/sim_feed.py [--seconds 5] [--batch 20]

Prints `name: value unit` lines, the headline (best sustained entries/s) last; exits 0
even when the 40,000 entries/s target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from pathlib import Path

import requests
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import load_average

from kiwoom_terminal.sim.control import SimControl
from kiwoom_terminal.sim.launcher import start_simulator
from kiwoom_terminal.sim.listings import LISTINGS

RATES = (1_000, 5_000, 20_000, 40_000, 100_000)  # the last one: as fast as it goes
TARGET = 40_000


def token(rest_url: str) -> str:
    body = {"grant_type": "client_credentials", "appkey": "bench", "secretkey": "bench"}
    return str(requests.post(rest_url + "/oauth2/token", json=body, timeout=10).json()["token"])


def order_loop(rest_url: str, tok: str, stop: threading.Event, counter: list[int]) -> None:
    """Market buys and sells over REST, as fast as the rate limit allows (about 10/s)."""
    http = requests.Session()
    http.trust_env = False
    headers = {"authorization": f"Bearer {tok}"}
    codes = ["005930", "000660", "035420", "005380"]
    i = 0
    while not stop.is_set():
        code = codes[i % len(codes)]
        api = "kt10000" if (i // len(codes)) % 2 == 0 else "kt10001"
        body = {"dmst_stex_tp": "KRX", "stk_cd": code, "ord_qty": "1", "ord_uv": "", "trde_tp": "3"}
        resp = http.post(
            rest_url + "/api/dostk/ordr", json=body, headers={**headers, "api-id": api}, timeout=10
        )
        if resp.json().get("return_code") == 0:
            counter[0] += 1
        i += 1
        stop.wait(0.1)


async def measure(
    ws_url: str, tok: str, sim_control: SimControl, seconds: float
) -> list[tuple[int, float]]:
    codes = [li.code for li in LISTINGS][:100]
    results: list[tuple[int, float]] = []
    async with connect(ws_url, compression=None, max_size=2**24, max_queue=None) as ws:
        await ws.send(json.dumps({"trnm": "LOGIN", "token": tok}))
        while json.loads(await ws.recv()).get("trnm") != "LOGIN":
            pass
        await ws.send(
            json.dumps(
                {
                    "trnm": "REG",
                    "grp_no": "1",
                    "refresh": "1",
                    "data": [
                        {"item": codes, "type": ["0B", "0D"]},
                        {"item": [""], "type": ["00", "04"]},
                    ],
                }
            )
        )
        counts = {"entries": 0}

        async def reader() -> None:
            async for message in ws:
                frame = json.loads(message)
                trnm = frame.get("trnm")
                if trnm == "REAL":
                    counts["entries"] += len(frame["data"])
                elif trnm == "PING":
                    await ws.send(message)

        task = asyncio.create_task(reader())
        for rate in RATES:
            await asyncio.to_thread(sim_control.set_tick_rate, rate)
            await asyncio.sleep(1.0)  # settle
            start_n, start_t = counts["entries"], time.perf_counter()
            await asyncio.sleep(seconds)
            got = counts["entries"] - start_n
            results.append((rate, got / (time.perf_counter() - start_t)))
        await asyncio.to_thread(sim_control.set_tick_rate, 0)
        task.cancel()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measurement per rate")
    parser.add_argument("--batch", type=int, default=20, help="REAL entries per frame")
    parser.add_argument("--profile", help="write the simulator's cProfile to this file")
    args = parser.parse_args()
    extra = ["--profile", args.profile] if args.profile else []
    with start_simulator(
        "--seed",
        "1",
        "--log-level",
        "WARNING",
        "--batch",
        str(args.batch),
        "--faults",
        "rate=0,global_rate=0",
        *extra,
    ) as sim:
        tok = token(sim.rest_url)
        stop = threading.Event()
        orders = [0]
        worker = threading.Thread(target=order_loop, args=(sim.rest_url, tok, stop, orders))
        worker.start()
        started = time.perf_counter()
        try:
            results = asyncio.run(measure(sim.ws_url, tok, sim.control, args.seconds))
        finally:
            stop.set()
            worker.join()
        elapsed = time.perf_counter() - started
        state = sim.control.state()
        dropped = sum(s["dropped"] for s in state["sessions"])
    for rate, per_s in results:
        print(f"entries_per_s_at_{rate}_ticks: {per_s:.0f} entries/s")
    print(f"orders_matched_during_run: {orders[0] / elapsed:.1f} orders/s")
    print(f"entries_dropped_for_slow_client: {dropped} entries")
    print(f"batch: {args.batch} entries/frame")
    print(f"target: {TARGET} entries/s")
    load = load_average()
    print(f"load_average: {load:.1f} runnable processes (2 cores)")
    best = max(per_s for _, per_s in results)
    print(f"sim_feed_sustained_entries_per_s: {best:.0f} entries/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
