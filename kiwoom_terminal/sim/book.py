"""The order book of one stock: a synthetic crowd plus the account's orders, on the tick grid.

Each price level is a FIFO queue of entries; an entry is either crowd liquidity (`order` is
None) or one of the account's orders. Matching walks the opposite side from the best price
and, within a level, from the front of the queue, so price-time priority holds between the
crowd and our orders and between our own orders. The crowd is re-centred around the fair
price as the price process moves (`recenter`): crowd quotes that would now cross are
withdrawn, and our resting orders that the new price has crossed are filled — through the
price in full, at the touch up to the crowd's quantity there.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from kiwoom_terminal import krx

DEPTH = 10  # levels shown in 0D / ka10004
CROWD_LEVELS = 14  # crowd levels kept on each side (a few more than shown, for sweeps)


class OwnOrder(Protocol):
    """What the book needs from the account's order objects."""

    order_no: str


class Entry:
    """One queue entry at a price level: crowd (`order` None) or one of our orders."""

    __slots__ = ("order", "qty")

    def __init__(self, order: Any, qty: int) -> None:
        self.order = order
        self.qty = qty


class Level:
    """A price level: FIFO queue of entries and their total quantity."""

    __slots__ = ("entries", "total")

    def __init__(self) -> None:
        self.entries: deque[Entry] = deque()
        self.total = 0


@dataclass(frozen=True, slots=True)
class OwnFill:
    """One of our resting or incoming orders traded `qty` at `price`."""

    order: Any
    price: int
    qty: int


@dataclass(slots=True)
class MatchResult:
    """Outcome of an aggressive order against the book."""

    filled: int  # quantity of the aggressor that traded
    trades: list[tuple[int, int]]  # (price, qty) per level touched, in order
    resting_fills: list[OwnFill]  # our resting orders that were hit


class Book:
    """Bids and asks of one stock, with crowd management and matching."""

    def __init__(self, band: krx.PriceBand, *, etf: bool = False) -> None:
        self.band = band
        self.etf = etf
        self.asks: dict[int, Level] = {}
        self.bids: dict[int, Level] = {}
        self._own: dict[str, tuple[bool, int, Entry]] = {}  # order_no -> (is_buy, price, entry)
        self.crowd_qty: int | None = None  # fixed crowd size per level (tests); None = random
        self.version = 0  # bumped on every change (0D pushes are driven by it)

    # --- reading -------------------------------------------------------------------------

    def best_ask(self) -> int:
        return min(self.asks) if self.asks else 0

    def best_bid(self) -> int:
        return max(self.bids) if self.bids else 0

    def top(self, depth: int = DEPTH) -> tuple[list[int], list[int], list[int], list[int]]:
        """(ask prices, ask qtys, bid prices, bid qtys), best first, up to `depth` levels."""
        ask_prices = sorted(self.asks)[:depth]
        bid_prices = sorted(self.bids, reverse=True)[:depth]
        return (
            ask_prices,
            [self.asks[p].total for p in ask_prices],
            bid_prices,
            [self.bids[p].total for p in bid_prices],
        )

    def totals(self) -> tuple[int, int]:
        """Total ask and bid quantity over the shown depth."""
        _, aq, _, bq = self.top()
        return sum(aq), sum(bq)

    def level_entries(self, buy: bool, price: int) -> list[tuple[str | None, int]]:
        """Queue at one level as (order number or None for crowd, qty), front first."""
        level = (self.bids if buy else self.asks).get(price)
        if level is None:
            return []
        return [(e.order.order_no if e.order is not None else None, e.qty) for e in level.entries]

    def has_own(self, order_no: str) -> bool:
        return order_no in self._own

    # --- our orders ----------------------------------------------------------------------

    def add(self, order: Any, buy: bool, price: int, qty: int) -> None:
        """Rest `qty` of our order at `price`, behind everything already queued there."""
        side = self.bids if buy else self.asks
        level = side.get(price)
        if level is None:
            level = side[price] = Level()
        entry = Entry(order, qty)
        level.entries.append(entry)
        level.total += qty
        self._own[order.order_no] = (buy, price, entry)
        self.version += 1

    def reduce(self, order_no: str, qty: int) -> int:
        """Take up to `qty` of a resting order out of the book (keeps its queue position).
        Returns the quantity removed."""
        found = self._own.get(order_no)
        if found is None:
            return 0
        buy, price, entry = found
        side = self.bids if buy else self.asks
        level = side[price]
        n = min(qty, entry.qty)
        entry.qty -= n
        level.total -= n
        if entry.qty == 0:
            level.entries.remove(entry)
            del self._own[order_no]
            if not level.entries:
                del side[price]
        self.version += 1
        return n

    def remove(self, order_no: str) -> int:
        """Take a resting order out of the book entirely; returns its remaining quantity."""
        found = self._own.get(order_no)
        return self.reduce(order_no, found[2].qty) if found else 0

    # --- matching ------------------------------------------------------------------------

    def take(self, buy: bool, qty: int, limit: int | None = None) -> MatchResult:
        """Match an aggressive order of `qty` against the opposite side.

        `limit` None = market order (any price). Trades print at the resting level's price.
        """
        levels = self.asks if buy else self.bids
        trades: list[tuple[int, int]] = []
        fills: list[OwnFill] = []
        left = qty
        own = self._own
        while left > 0 and levels:
            price = min(levels) if buy else max(levels)
            if limit is not None and (price > limit if buy else price < limit):
                break
            level = levels[price]
            entries = level.entries
            got = 0
            while left > 0 and entries:
                entry = entries[0]
                n = entry.qty if entry.qty <= left else left
                entry.qty -= n
                left -= n
                got += n
                if entry.order is not None:
                    fills.append(OwnFill(entry.order, price, n))
                    if entry.qty == 0:
                        del own[entry.order.order_no]
                if entry.qty == 0:
                    entries.popleft()
            level.total -= got
            trades.append((price, got))
            if not entries:
                del levels[price]
        if trades:
            self.version += 1
        return MatchResult(qty - left, trades, fills)

    # --- crowd ---------------------------------------------------------------------------

    def _target(self, rng: random.Random, base_qty: int, index: int) -> int:
        if self.crowd_qty is not None:
            return self.crowd_qty
        shape = 0.55 + 0.08 * index
        return max(1, int(base_qty * shape * rng.uniform(0.4, 1.6)))

    def recenter(
        self, fair: int, rng: random.Random, base_qty: int, *, jitter: bool = True
    ) -> list[OwnFill]:
        """Put the crowd's best bid at `fair` and best ask one tick above.

        Crowd quotes on the wrong side are withdrawn; our asks at or below `fair` and our
        bids at or above the new best ask are filled by the crowd (returned, best first).
        Crowd levels are topped up or trimmed towards their target size; with `jitter` a
        few levels also change a little, as a live book does.
        """
        etf = self.etf
        band = self.band
        fair = min(max(fair, band.lower), band.upper)
        best_ask = krx.step_price(fair, 1, etf=etf) if fair < band.upper else 0
        fills: list[OwnFill] = []
        # 1. Withdraw crowd quotes that would cross the new fair price.
        for price in [p for p in self.asks if p <= fair]:
            self._drop_crowd(self.asks, price)
        for price in [p for p in self.bids if p > fair]:
            self._drop_crowd(self.bids, price)
        # 2. Our orders that the move crossed trade with the crowd.
        bid_target0 = self._target(rng, base_qty, 0)
        for price in sorted(p for p in self.asks if p <= fair):
            cap = None if price < fair else bid_target0
            fills += self._fill_own_level(self.asks, price, cap)
        ask_target0 = self._target(rng, base_qty, 0)
        if best_ask:
            for price in sorted((p for p in self.bids if p >= best_ask), reverse=True):
                cap = None if price > best_ask else ask_target0
                fills += self._fill_own_level(self.bids, price, cap)
        # 3. Crowd sizes inside the window; nothing beyond it.
        bid_prices: list[int] = []
        p = fair
        while len(bid_prices) < CROWD_LEVELS and p >= band.lower:
            bid_prices.append(p)
            nxt = krx.step_price(p, -1, etf=etf)
            if nxt == p:
                break
            p = nxt
        ask_prices: list[int] = []
        p = best_ask
        while p and len(ask_prices) < CROWD_LEVELS and p <= band.upper:
            ask_prices.append(p)
            p = krx.step_price(p, 1, etf=etf)
        filled_at_touch_bid = sum(f.qty for f in fills if f.price == fair)
        for i, price in enumerate(bid_prices):
            if price in self.asks:  # our ask still rests here: no crowd bid at this price
                continue
            target = self._target(rng, base_qty, i)
            if i == 0:
                target = max(0, target - filled_at_touch_bid) if filled_at_touch_bid else target
            self._size_crowd(self.bids, price, target, jitter, rng)
        for i, price in enumerate(ask_prices):
            if price in self.bids:
                continue
            self._size_crowd(self.asks, price, self._target(rng, base_qty, i), jitter, rng)
        keep_bids = set(bid_prices)
        for price in [q for q in self.bids if q not in keep_bids]:
            self._drop_crowd(self.bids, price)
        keep_asks = set(ask_prices)
        for price in [q for q in self.asks if q not in keep_asks]:
            self._drop_crowd(self.asks, price)
        self.version += 1
        return fills

    def _drop_crowd(self, side: dict[int, Level], price: int) -> None:
        level = side[price]
        kept = deque(e for e in level.entries if e.order is not None)
        if len(kept) != len(level.entries):
            level.entries = kept
            level.total = sum(e.qty for e in kept)
        if not level.entries:
            del side[price]

    def _fill_own_level(self, side: dict[int, Level], price: int, cap: int | None) -> list[OwnFill]:
        """The crowd trades with our orders at one level (all of them when `cap` is None)."""
        level = side[price]
        fills: list[OwnFill] = []
        room = cap
        while level.entries and (room is None or room > 0):
            entry = level.entries[0]
            if entry.order is None:  # crowd left over at a crossed price: withdraw it
                level.entries.popleft()
                level.total -= entry.qty
                continue
            n = entry.qty if room is None else min(entry.qty, room)
            entry.qty -= n
            level.total -= n
            if room is not None:
                room -= n
            fills.append(OwnFill(entry.order, price, n))
            if entry.qty == 0:
                level.entries.popleft()
                del self._own[entry.order.order_no]
        if not level.entries:
            del side[price]
        return fills

    def _size_crowd(
        self, side: dict[int, Level], price: int, target: int, jitter: bool, rng: random.Random
    ) -> None:
        level = side.get(price)
        crowd = 0 if level is None else sum(e.qty for e in level.entries if e.order is None)
        # Keep a live-looking queue: only resize when far from the target, or now and then
        # a little.
        if self.crowd_qty is None and crowd > 0 and 0.6 * target <= crowd <= 1.5 * target:
            if not (jitter and rng.random() < 0.25):
                return
            target = max(1, int(crowd * rng.uniform(0.85, 1.15)))
        if target == crowd:
            return
        if level is None:
            level = side[price] = Level()
        if target > crowd:
            add = target - crowd
            last = level.entries[-1] if level.entries else None
            if last is not None and last.order is None:
                last.qty += add
            else:
                level.entries.append(Entry(None, add))
            level.total += add
        else:
            cut = crowd - target
            for entry in reversed(level.entries):  # trim from the back: the newest quotes
                if cut == 0:
                    break
                if entry.order is None:
                    n = min(cut, entry.qty)
                    entry.qty -= n
                    level.total -= n
                    cut -= n
            level.entries = deque(e for e in level.entries if e.qty > 0)
        if not level.entries:
            del side[price]
