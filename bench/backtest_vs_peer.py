"""Benchmark: our backtester vs backtesting.py on the same 250,000 synthetic minute bars.

Both run the same SMA(10/30) cross with a trailing stop, and the script checks that they
make identical trades (count, entry and exit bars and prices) before comparing speed.

backtesting.py is not a dependency of the terminal; install it for this script only:

    .venv/bin/python -m pip install backtesting==0.6.6

Semantics aligned explicitly on both sides:
- signals: buy when SMA10 crosses above SMA30 (previous bar fast ≤ slow, this bar fast >
  slow), sell on the mirror cross; on both sides an SMA is the exact integer sum of the
  closes divided by n (ours: `indicators.sma`; the peer: its own `np.convolve`), so the
  floats compared are bit-identical and near-ties cannot split the two;
- fills: every order at the next bar's open, no slippage, no commission or tax (we use
  `FillModel("next_open", "next_open", 0)` and zero fees; backtesting.py's defaults with
  `trade_on_close=False`);
- trailing stop: armed once a bar's high reaches entry × (1 + 1 %); it fires when a bar's low
  is at or below 99 % of the highest high since arming as it stood before that bar, or the
  bar's close is at or below 99 % of the high including that bar (our `evaluate_exit` rule,
  written out by hand in the peer's `next()`); the entry bar counts;
- after an exit decision the position is flat from the next open, and a new entry needs a
  cross after the decision bar;
- trades closed on the very last bar are left out of the comparison (backtesting.py can only
  fill them by re-running its last bar).

Timing: each side runs REPEATS times from bars in to statistics out (ours: `run_backtest`
on a `FrameSource`; the peer: building its `Backtest` and `run()`), best run kept, as both
wall-clock and CPU time of the process. The headline ratio is the CPU-time one: the project
machine is shared by parallel builds, and a 50 ms run measured by the wall clock mostly
measures who else had the two cores at that moment; both sides are single-threaded, so on
an idle machine the two ratios agree.

Prints `name: value unit` lines, the speed ratio last. Exits 0 even if the target (≥ 30×)
is missed or the peer is not installed.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import load_average

from kiwoom_terminal import krx
from kiwoom_terminal.backtest import BacktestConfig, FillModel, FrameSource, run_backtest
from kiwoom_terminal.backtest.synthetic import random_walk_bars
from kiwoom_terminal.decisions import ExitRules
from kiwoom_terminal.strategies.base import get_strategy

N_BARS = 250_000
SEED = 20_250_101
FAST, SLOW = 10, 30
ARM_PCT, DROP_PCT = 1, 1  # whole percents so the peer can use exact integer arithmetic
CASH = 1_000_000_000
REPEATS = 5  # both sides: best of five runs, each timed from bars in to statistics out


class Timing:
    """Best wall-clock and CPU seconds over repeated runs."""

    def __init__(self) -> None:
        self.wall = float("inf")
        self.cpu = float("inf")

    def measure(self, run):  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        self.wall = min(self.wall, time.perf_counter() - wall)
        self.cpu = min(self.cpu, time.process_time() - cpu)
        return result


def ours(bars: pd.DataFrame) -> tuple[list[tuple[int, int, int, int]], Timing]:
    rules = ExitRules(
        stop_loss_pct=None,
        take_profit_pct=None,
        trailing_arm_pct=ARM_PCT,
        trailing_drop_pct=DROP_PCT,
        protect_trigger_pct=None,
    )
    config = BacktestConfig(
        initial_cash=CASH,
        fill=FillModel("next_open", "next_open", 0),
        exit_rules=rules,
        fees=krx.FeeSchedule(0.0, 0.0),
    )
    strategy = get_strategy("sma_cross", fast=FAST, slow=SLOW)
    source = FrameSource({"BENCH": bars})
    timing = Timing()
    result = None
    for _ in range(REPEATS):
        result = timing.measure(
            lambda: run_backtest(source, ["BENCH"], strategy, config, interval="1")
        )
    assert result is not None
    t = result.trades
    rows = list(
        zip(
            t["entry_bar"].tolist(),
            t["entry_price"].tolist(),
            t["exit_bar"].tolist(),
            t["exit_price"].tolist(),
        )
    )
    return rows, timing


def peer(bars: pd.DataFrame) -> tuple[list[tuple[int, int, int, int]], Timing] | None:
    try:
        from backtesting import Backtest, Strategy
    except ImportError:
        return None

    def rolling_mean(values: np.ndarray, n: int) -> np.ndarray:
        out = np.full(len(values), np.nan)
        sums = np.convolve(values.astype("int64"), np.ones(n, dtype="int64"), mode="valid")
        out[n - 1 :] = sums / n
        return out

    class SmaCrossTrailing(Strategy):
        def init(self) -> None:
            self.fast = self.I(rolling_mean, self.data.Close, FAST)
            self.slow = self.I(rolling_mean, self.data.Close, SLOW)
            self.armed = False
            self.high = 0

        def next(self) -> None:
            f0, f1, s0, s1 = self.fast[-2], self.fast[-1], self.slow[-2], self.slow[-1]
            if self.position:
                entry = int(self.trades[-1].entry_price)
                high, low, close = (
                    int(self.data.High[-1]),
                    int(self.data.Low[-1]),
                    int(self.data.Close[-1]),
                )
                was_armed, high_before = self.armed, self.high
                if not self.armed and high * 100 >= entry * (100 + ARM_PCT):
                    self.armed, self.high = True, high
                elif self.armed and high > self.high:
                    self.high = high
                trail = (was_armed and low * 100 <= high_before * (100 - DROP_PCT)) or (
                    self.armed and close * 100 <= self.high * (100 - DROP_PCT)
                )
                if trail or (f1 < s1 and f0 >= s0):
                    self.position.close()
            elif f1 > s1 and f0 <= s0:
                self.armed, self.high = False, 0
                self.buy()

    frame = bars.rename(columns=str.capitalize).astype("float64")

    def run() -> pd.Series:
        bt = Backtest(frame, SmaCrossTrailing, cash=CASH, commission=0.0, finalize_trades=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bt.run()

    timing = Timing()
    stats = None
    for _ in range(REPEATS):
        stats = timing.measure(run)
    assert stats is not None
    t = stats["_trades"]
    rows = list(
        zip(
            t["EntryBar"].astype(int).tolist(),
            t["EntryPrice"].round().astype(int).tolist(),
            t["ExitBar"].astype(int).tolist(),
            t["ExitPrice"].round().astype(int).tolist(),
        )
    )
    return rows, timing


def main() -> int:
    bars = random_walk_bars(N_BARS, seed=SEED, start_price=50_000, interval="1")
    our_rows, our_t = ours(bars)
    print(f"bars: {N_BARS} bars")
    print(f"ours_s: {our_t.wall:.3f} s")
    print(f"ours_cpu_s: {our_t.cpu:.3f} s")
    got = peer(bars)
    if got is None:
        print(
            "peer: backtesting.py is not installed (pip install backtesting==0.6.6); skipped",
            file=sys.stderr,
        )
        print("speed_ratio: nan x")
        return 0
    peer_rows, peer_t = got
    last = N_BARS - 1
    our_cmp = [r for r in our_rows if r[2] < last]
    peer_cmp = [r for r in peer_rows if r[2] < last]
    same = sum(1 for a, b in zip(our_cmp, peer_cmp) if a == b)
    identical = our_cmp == peer_cmp
    print(f"trades_ours: {len(our_cmp)} trades")
    print(f"trades_peer: {len(peer_cmp)} trades")
    print(f"trades_matching: {same} trades")
    print(f"trades_identical: {'yes' if identical else 'no'}")
    if not identical:
        first = next(
            (i for i, (a, b) in enumerate(zip(our_cmp, peer_cmp)) if a != b),
            min(len(our_cmp), len(peer_cmp)),
        )
        print(f"first_difference: trade {first}", file=sys.stderr)
        print(f"  ours: {our_cmp[first : first + 2]}", file=sys.stderr)
        print(f"  peer: {peer_cmp[first : first + 2]}", file=sys.stderr)
    print(f"peer_s: {peer_t.wall:.3f} s")
    print(f"peer_cpu_s: {peer_t.cpu:.3f} s")
    print(f"speed_ratio_wall: {peer_t.wall / our_t.wall:.1f} x")
    load = load_average()
    print(f"load_average: {load:.1f} runnable processes (2 cores)")
    print(f"speed_ratio: {peer_t.cpu / our_t.cpu:.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
