"""The seeded per-second price and volume path of one stock through one trading day.

A log-price random walk with a daily drift, a gap at the open and a few "bursts" (minutes of
heavy volume with a push in one direction), clamped to the daily band and snapped to the
tick grid. Innovations are drawn in order from a generator seeded by (seed, code, date), so
the same seed replays the same day however the seconds are batched. The caller can freeze
the walk (paused / scripted stocks) or move it (`set_price`); innovations are consumed
either way, so a pause does not shift the rest of the day.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from kiwoom_terminal import krx
from kiwoom_terminal.sim import grid
from kiwoom_terminal.sim.history import StockProfile, code_key

_BLOCK = 2048


class DayProcess:
    """Per-second price/volume path; `run(n)` advances it by n simulated seconds."""

    def __init__(
        self,
        code: str,
        profile: StockProfile,
        band: krx.PriceBand,
        day: dt.date,
        seed: int,
        day_seconds: int,
        *,
        etf: bool = False,
    ) -> None:
        self.band = band
        self.etf = etf
        self.day_seconds = day_seconds
        rng = np.random.default_rng([seed, code_key(code), day.toordinal(), 4])
        sigma = profile.daily_sigma
        self.sigma_s = sigma / math.sqrt(day_seconds)
        mu = rng.normal(0.0, 0.6 * sigma)
        if rng.random() < 0.15:  # a theme day: a strong trend, more often up than down
            mu = (1.0 if rng.random() < 0.65 else -1.0) * rng.uniform(0.04, 0.09)
        self.drift = np.full(day_seconds, mu / day_seconds)
        self.volume_mult = np.ones(day_seconds)
        for _ in range(int(rng.poisson(6))):
            start = int(rng.integers(0, day_seconds))
            length = int(rng.integers(120, 600))
            push = (1.0 if rng.random() < 0.6 else -1.0) * rng.uniform(0.005, 0.025)
            end = min(day_seconds, start + length)
            self.drift[start:end] += push / length
            self.volume_mult[start:end] *= rng.uniform(3.0, 8.0)
        x = np.linspace(-1.0, 1.0, day_seconds)
        self.volume_mult *= (1.0 + 1.5 * x * x) / 1.5
        # Volume per second before the multipliers, so a day trades about avg_volume.
        self.vps = profile.avg_volume / float(self.volume_mult.sum())
        gap = rng.normal(0.0, 0.35 * sigma)
        self.lo = math.log(band.lower)
        self.hi = math.log(band.upper)
        self.latent = min(max(math.log(band.base) + gap, self.lo), self.hi)
        self._rng = rng
        self._eps = np.empty(0)
        self._vol_eps = np.empty(0)
        self._pos = 0
        self.sec = 0  # seconds consumed since the open

    @property
    def price(self) -> int:
        """The current fair price on the grid."""
        return self._snap_one(self.latent)

    def _snap_one(self, latent: float) -> int:
        p = krx.round_to_tick(max(1, int(round(math.exp(latent)))), etf=self.etf)
        return min(max(p, self.band.lower), self.band.upper)

    def set_price(self, price: int) -> None:
        self.latent = min(max(math.log(max(price, 1)), self.lo), self.hi)

    def _draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next `n` innovations (price, volume). Blocks are drawn in a fixed order, so
        element k of each stream is the same however the seconds are batched."""
        if self._pos + n > len(self._eps):
            rest_e, rest_v = self._eps[self._pos :], self._vol_eps[self._pos :]
            blocks = (n - len(rest_e)) // _BLOCK + 1
            new_e, new_v = [rest_e], [rest_v]
            for _ in range(blocks):
                new_e.append(self._rng.standard_normal(_BLOCK))
                new_v.append(self._rng.normal(-0.4, 0.9, _BLOCK))
            self._eps, self._vol_eps = np.concatenate(new_e), np.concatenate(new_v)
            self._pos = 0
        pos = self._pos
        self._pos += n
        return self._eps[pos : pos + n], self._vol_eps[pos : pos + n]

    def step(self, n: int, *, frozen: bool = False) -> tuple[int, int, int, int]:
        """Advance `n` seconds; returns (last price, high, low, volume) of the stretch."""
        if n > 16:
            prices, volumes = self.run(n, frozen=frozen)
            return int(prices[-1]), int(prices.max()), int(prices.min()), int(volumes.sum())
        eps, veps = self._draw(n)
        last_k = self.day_seconds - 1
        latent = self.latent
        lo_l, hi_l = self.lo, self.hi
        sigma, vps = self.sigma_s, self.vps
        drift, mult = self.drift, self.volume_mult
        volume = 0
        price = self.price
        hi = lo = price
        for i in range(n):
            k = min(self.sec + i, last_k)
            volume += int(vps * float(mult[k]) * math.exp(float(veps[i])) + 0.5)
            if frozen:
                continue
            latent = min(max(latent + float(drift[k]) + sigma * float(eps[i]), lo_l), hi_l)
            price = self._snap_one(latent)
            if price > hi:
                hi = price
            elif price < lo:
                lo = price
        self.sec += n
        if not frozen:
            self.latent = latent
        return price, hi, lo, volume

    def run(self, n: int, *, frozen: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Advance `n` seconds; returns the fair price and the volume of each second.

        A frozen walk keeps its price (volume still trades)."""
        if n <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        eps, veps = self._draw(n)
        idx = np.minimum(np.arange(self.sec, self.sec + n), self.day_seconds - 1)
        self.sec += n
        volumes = np.floor(self.vps * self.volume_mult[idx] * np.exp(veps) + 0.5).astype(np.int64)
        if frozen:
            return np.full(n, self.price, dtype=np.int64), volumes
        steps = self.drift[idx] + self.sigma_s * eps
        path = self.latent + np.cumsum(steps)
        if path.min() < self.lo or path.max() > self.hi:
            # Clamp step by step, as a band does (rare: only near the limits).
            latent = self.latent
            out = np.empty(n)
            for i in range(n):
                latent = min(max(latent + float(steps[i]), self.lo), self.hi)
                out[i] = latent
            path = out
        self.latent = float(path[-1])
        prices = grid.snap(np.rint(np.exp(path)), etf=self.etf)
        prices = np.clip(prices, self.band.lower, self.band.upper)
        return prices, volumes
