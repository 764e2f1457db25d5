"""The simulated account: cash, holdings, orders and fills, with fees and tax.

Orders pass the checks the mock server makes (session phase, venue, tick grid, band, cash,
sellable quantity, original order) before they get a number; then they are matched against
the stock's book. Every step produces the REAL 00 events of kiwoom-api.md §9.5 (접수, 체결,
확인, 취소, 거부) and every fill a 04 balance event, through the sink. Cash settles at once
(no D+2 lag); fees and tax come from `krx.FeeSchedule`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Protocol

from kiwoom_terminal import krx
from kiwoom_terminal.krx import SessionPhase
from kiwoom_terminal.sim import errors
from kiwoom_terminal.sim.book import OwnFill
from kiwoom_terminal.sim.formats import signed_price
from kiwoom_terminal.sim.market import Market, Stock
from kiwoom_terminal.sim.orders import (
    BEST_TYPES,
    FOK_TYPES,
    IOC_FOK_CODES,
    IOC_TYPES,
    MARKET_TYPES,
    ORDER_TYPES,
    PRIORITY_TYPES,
    SIMULATED_TYPES,
    Order,
    type_label,
)

NO_ORDER = "0000000"


class AccountSink(Protocol):
    """Receives REAL 00 / 04 values (implemented by the server's feed)."""

    def on_account_event(self, type_code: str, code: str, values: dict[str, str]) -> None: ...


class _NullSink:
    def on_account_event(self, type_code: str, code: str, values: dict[str, str]) -> None:
        pass


@dataclass
class Holding:
    """A position: quantity and cost basis, plus today's trading in it."""

    code: str
    qty: int = 0
    cost: int = 0  # purchase amount of the shares held (pur_amt), KRW
    buy_fees: int = 0  # commission paid on the shares held (pur_cmsn)
    today_buy_qty: int = 0
    today_sell_qty: int = 0
    prev_buy_qty: int = 0
    today_realized: int = 0  # sell P/L today after fees and tax
    today_sold_cost: int = 0  # cost basis of what was sold today
    last_side: str = "2"

    @property
    def avg_price(self) -> int:
        return round(self.cost / self.qty) if self.qty else 0


@dataclass
class FillRecord:
    """One execution of one of our orders."""

    fill_no: str
    order_no: str
    code: str
    buy: bool
    price: int
    qty: int
    fee: int
    tax: int
    time: str


@dataclass
class Account:
    """Cash, holdings, orders and fills of the one simulated account."""

    market: Market
    fees: krx.FeeSchedule = field(default_factory=krx.FeeSchedule)
    account_no: str = "8012345611"
    cash: int = 100_000_000
    mock: bool = True
    a_prefix_9001: bool = False  # kiwoom-api.md §0.2 item 7: official example is bare
    # kiwoom-api.md §11.3 says "no IOC/FOK" for the closing call auction only and lists the
    # opening one as "regular"; KRX matches both auctions at one price, where an IOC / FOK
    # order has nothing to meet at once. Refused in both by default; `--opening-auction-ioc
    # accept` restores the literal reading.
    ioc_in_opening_auction: bool = False
    sink: AccountSink = field(default_factory=_NullSink)
    holdings: dict[str, Holding] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)  # by order number, in order
    fills: list[FillRecord] = field(default_factory=list)
    next_order_no: int = 1
    next_fill_no: int = 1
    reject_next: list[str] = field(default_factory=list)  # venue rejections to inject (919)
    realized_today: int = 0
    # set by the REST layer before each TR: (arrived, read by the event loop, parsed)
    request_stamps: tuple[float, float, float] = (0.0, 0.0, 0.0)

    # --- numbers -------------------------------------------------------------------------

    def _new_order_no(self) -> str:
        no = f"{self.next_order_no:07d}"
        self.next_order_no += 1
        return no

    def _stamp(self, order: Order) -> None:
        """`order` with when its request arrived and was read (REST), else now (control,
        tests)."""
        (arrived, loop_read, read), self.request_stamps = self.request_stamps, (0.0, 0.0, 0.0)
        now = time.time()
        order.received_at, order.loop_read_at = arrived or now, loop_read or now
        order.read_at = read or now

    def _now(self) -> str:
        return self.market.clock.now().strftime("%H%M%S")

    def reserved(self) -> int:
        """Cash held for open buy orders (price × remaining + commission)."""
        total = 0
        for order in self.orders.values():
            if order.buy and order.remaining > 0:
                amount = order.reserve_price * order.remaining
                total += amount + self.fees.commission(amount)
        return total

    def orderable(self) -> int:
        return max(0, self.cash - self.reserved())

    def open_sell_qty(self, code: str) -> int:
        return sum(
            o.remaining
            for o in self.orders.values()
            if not o.buy and o.code == code and o.remaining > 0
        )

    def sellable(self, code: str) -> int:
        """Holding minus what open sell orders already tie up (FID 933, trde_able_qty)."""
        holding = self.holdings.get(code)
        return max(0, (holding.qty if holding else 0) - self.open_sell_qty(code))

    # --- checks --------------------------------------------------------------------------

    def _reject(self, reason: tuple[str, str]) -> errors.ApiError:
        return errors.reject(reason, mock=self.mock)

    def _check_session(self) -> None:
        clock = self.market.clock
        now = clock.now()
        if clock.phase(now) not in krx.REGULAR_ORDER_PHASES:
            early = clock.before_open(now) and clock.forced_phase is None
            raise self._reject(errors.BEFORE_OPEN if early else errors.AFTER_CLOSE)

    def _check_order_type_in_phase(self, trde_tp: str) -> None:
        """A call auction collects orders for one price: an IOC / FOK order has nothing to
        meet at once, so KRX takes regular orders only (kiwoom-api.md §11.3; the opening
        auction as `ioc_in_opening_auction` says)."""
        if trde_tp not in IOC_FOK_CODES:
            return
        phase = self.market.clock.phase()
        if phase is SessionPhase.CLOSING_AUCTION or (
            phase is SessionPhase.PRE_OPEN and not self.ioc_in_opening_auction
        ):
            raise self._reject(errors.AUCTION_NO_IOC)

    def _check_venue(self, venue: str) -> None:
        if venue == "NXT" and self.mock:
            raise self._reject(errors.NOT_PROVIDED)

    def _check_price(self, stock: Stock, price: int) -> None:
        if not krx.is_on_grid(price, etf=stock.etf):
            raise self._reject(errors.OFF_GRID)
        if not stock.band.contains(price):
            raise self._reject(errors.OUT_OF_BAND)

    def _check_cash(self, amount: int) -> None:
        if amount + self.fees.commission(amount) > self.orderable():
            raise self._reject(errors.NO_CASH)

    # --- orders --------------------------------------------------------------------------

    def place(
        self, *, buy: bool, stock: Stock, qty: int, price: int, trde_tp: str, venue: str
    ) -> Order:
        """A new order (kt10000 / kt10001). Raises ApiError when it is rejected."""
        if trde_tp not in ORDER_TYPES:
            raise errors.bad_format("trde_tp", "지원하지 않는 매매구분")
        self._check_venue(venue)
        if trde_tp not in SIMULATED_TYPES:
            raise self._reject(errors.NOT_PROVIDED)
        self._check_session()
        self._check_order_type_in_phase(trde_tp)
        book = stock.book
        if trde_tp in BEST_TYPES:
            price = book.best_ask() if buy else book.best_bid()
            if not price:
                raise self._reject(errors.NO_LIQUIDITY)
        elif trde_tp in PRIORITY_TYPES:
            price = book.best_bid() if buy else book.best_ask()
            if not price:
                raise self._reject(errors.NO_LIQUIDITY)
        elif trde_tp in MARKET_TYPES:
            price = 0
        else:
            self._check_price(stock, price)
        reserve = price or (stock.band.upper if buy else stock.band.lower)
        if buy:
            self._check_cash(reserve * qty)
        elif qty > self.sellable(stock.code):
            raise self._reject(errors.NOT_SELLABLE)
        no = self._new_order_no()
        order = Order(
            order_no=no,
            orig_no=NO_ORDER,
            root_no=no,
            code=stock.code,
            name=stock.name,
            buy=buy,
            kind="new",
            trde_tp=trde_tp,
            price=0 if trde_tp in MARKET_TYPES else price,
            qty=qty,
            time=self._now(),
            venue="KRX" if venue == "SOR" else venue,
            remaining=qty,
            reserve_price=reserve,
        )
        self._stamp(order)
        self.orders[no] = order
        self._emit_order(order, stock, "접수")
        if self.reject_next:
            reason = self.reject_next.pop(0)
            order.remaining = 0
            order.status = "거부"
            self._emit_order(order, stock, "거부", reject_reason=reason)
            return order
        self._execute(order, stock, trde_tp)
        return order

    def _execute(self, order: Order, stock: Stock, trde_tp: str) -> None:
        buy = order.buy
        limit = None if trde_tp in MARKET_TYPES else order.price
        if trde_tp in FOK_TYPES and self._available(stock, buy, limit) < order.remaining:
            self._kill(order, stock)
            return
        result = self.market.match(stock, buy, order.remaining, limit)
        for price, qty in result.trades:
            self._apply_fill(order, stock, price, qty)
        if order.remaining == 0:
            return
        if trde_tp in IOC_TYPES or trde_tp in FOK_TYPES:
            self._kill(order, stock)
            return
        # The rest waits in the book; a market order's rest waits at the band limit.
        rest_price = order.price or (stock.band.upper if buy else stock.band.lower)
        self.market.rest(stock, order, buy, rest_price, order.remaining)

    def _available(self, stock: Stock, buy: bool, limit: int | None) -> int:
        side = stock.book.asks if buy else stock.book.bids
        return sum(
            level.total
            for price, level in side.items()
            if limit is None or (price <= limit if buy else price >= limit)
        )

    def _kill(self, order: Order, stock: Stock) -> None:
        """IOC / FOK: the exchange cancels what did not trade at once (913 취소)."""
        order.remaining = 0
        order.status = "취소"
        self._emit_order(order, stock, "취소")

    def _chain_target(self, orig_no: str, code: str) -> Order:
        order = self.orders.get(orig_no.strip().zfill(7)) if orig_no.strip().isdigit() else None
        if order is None or order.code != code or order.kind == "cancel":
            raise self._reject(errors.NO_ORIGINAL)
        if order.remaining <= 0:
            raise self._reject(errors.NO_ORIGINAL)
        return order

    def modify(self, *, orig_no: str, stock: Stock, qty: int, price: int, venue: str) -> Order:
        """Move `qty` (0 = all remaining) of an order to a new price under a new number."""
        self._check_venue(venue)
        self._check_session()
        orig = self._chain_target(orig_no, stock.code)
        qty = qty or orig.remaining
        if qty > orig.remaining:
            raise self._reject(errors.OVER_REMAINING)
        self._check_price(stock, price)
        if orig.buy:
            extra = max(0, price - orig.reserve_price) * qty
            if extra:
                self._check_cash(extra)
        trde_tp = orig.trde_tp if ORDER_TYPES[orig.trde_tp][1] else "0"
        if trde_tp in IOC_TYPES or trde_tp in FOK_TYPES:
            trde_tp = "0"
        self.market.withdraw(stock, orig.order_no, qty)
        orig.remaining -= qty
        no = self._new_order_no()
        order = Order(
            order_no=no,
            orig_no=orig.order_no,
            root_no=orig.root_no,
            code=stock.code,
            name=stock.name,
            buy=orig.buy,
            kind="modify",
            trde_tp=trde_tp,
            price=price,
            qty=qty,
            time=self._now(),
            venue=orig.venue,
            remaining=qty,
            reserve_price=price,
        )
        self._stamp(order)
        self.orders[no] = order
        self._emit_order(order, stock, "접수")
        order.status = "확인"
        self._emit_order(order, stock, "확인")
        self._execute(order, stock, trde_tp)
        return order

    def cancel(self, *, orig_no: str, stock: Stock, qty: int, venue: str) -> Order:
        """Cancel `qty` (0 = all remaining) of an order; the cancel gets its own number."""
        self._check_venue(venue)
        self._check_session()
        orig = self._chain_target(orig_no, stock.code)
        qty = qty or orig.remaining
        if qty > orig.remaining:
            raise self._reject(errors.OVER_REMAINING)
        self.market.withdraw(stock, orig.order_no, qty)
        orig.remaining -= qty
        no = self._new_order_no()
        order = Order(
            order_no=no,
            orig_no=orig.order_no,
            root_no=orig.root_no,
            code=stock.code,
            name=stock.name,
            buy=orig.buy,
            kind="cancel",
            trde_tp=orig.trde_tp,
            price=orig.price,
            qty=qty,
            time=self._now(),
            venue=orig.venue,
            remaining=qty,
        )
        self._stamp(order)
        self.orders[no] = order
        self._emit_order(order, stock, "접수")
        order.remaining = 0
        order.status = "확인"
        self._emit_order(order, stock, "확인")
        return order

    # --- fills ---------------------------------------------------------------------------

    def on_own_fill(self, fill: OwnFill) -> None:
        """A resting order of ours traded (called by the market)."""
        order = fill.order
        stock = self.market.get(order.code)
        if stock is not None and isinstance(order, Order):
            self._apply_fill(order, stock, fill.price, fill.qty)

    def _apply_fill(self, order: Order, stock: Stock, price: int, qty: int) -> None:
        amount = price * qty
        fee = self.fees.commission(amount)
        tax = self.fees.tax(amount, not order.buy)
        order.remaining -= qty
        order.filled += qty
        order.filled_amount += amount
        order.fee += fee
        order.tax += tax
        order.status = "체결"
        fill_no = f"{self.next_fill_no:07d}"
        self.next_fill_no += 1
        t = self._now()
        order.last_fill_no, order.last_fill_price, order.last_fill_qty = fill_no, price, qty
        order.last_fill_time = t
        holding = self.holdings.setdefault(stock.code, Holding(stock.code))
        if order.buy:
            self.cash -= amount + fee
            holding.qty += qty
            holding.cost += amount
            holding.buy_fees += fee
            holding.today_buy_qty += qty
            holding.last_side = "2"
        else:
            self.cash += amount - fee - tax
            cost = holding.cost * qty // holding.qty if holding.qty else 0
            buy_fees = holding.buy_fees * qty // holding.qty if holding.qty else 0
            holding.qty -= qty
            holding.cost -= cost
            holding.buy_fees -= buy_fees
            holding.today_sell_qty += qty
            pnl = amount - cost - fee - tax - buy_fees
            holding.today_realized += pnl
            holding.today_sold_cost += cost
            self.realized_today += pnl
            holding.last_side = "1"
        self.fills.append(
            FillRecord(fill_no, order.order_no, stock.code, order.buy, price, qty, fee, tax, t)
        )
        self._emit_order(order, stock, "체결", fill=(fill_no, price, qty))
        self._emit_balance(stock, holding)

    # --- account set-up (control API, scenario) ------------------------------------------

    def set_holding(self, code: str, qty: int, avg_price: int) -> None:
        if qty <= 0:
            self.holdings.pop(code, None)
            return
        cost = avg_price * qty
        self.holdings[code] = Holding(
            code, qty=qty, cost=cost, buy_fees=self.fees.commission(cost), prev_buy_qty=qty
        )

    def expire_day(self) -> None:
        """End of a trading day: working orders lapse, today's counters start again."""
        for order in self.orders.values():
            if order.remaining > 0:
                stock = self.market.get(order.code)
                if stock is not None:
                    self.market.withdraw(stock, order.order_no, order.remaining)
                order.remaining = 0
        self.orders.clear()
        self.fills.clear()
        self.realized_today = 0
        for code, holding in list(self.holdings.items()):
            if holding.qty <= 0:
                del self.holdings[code]
                continue
            holding.prev_buy_qty = holding.today_buy_qty
            holding.today_buy_qty = holding.today_sell_qty = 0
            holding.today_realized = holding.today_sold_cost = 0

    # --- REAL values ---------------------------------------------------------------------

    def _code_9001(self, code: str) -> str:
        return "A" + code if self.a_prefix_9001 else code

    def _emit_order(
        self,
        order: Order,
        stock: Stock,
        state: str,
        *,
        fill: tuple[str, int, int] | None = None,
        reject_reason: str = "0",
    ) -> None:
        base = stock.base
        ask, bid = stock.book.best_ask(), stock.book.best_bid()
        unfilled = order.remaining if state != "접수" or order.kind != "cancel" else order.qty
        values = {
            "9201": self.account_no,
            "9203": order.order_no,
            "9205": "",
            "9001": self._code_9001(order.code),
            "912": "JJ",
            "913": state,
            "302": order.name,
            "900": str(order.qty),
            "901": str(order.price),
            "902": str(unfilled),
            "903": str(order.filled_amount),
            "904": order.orig_no,
            "905": order.side_label,
            "906": type_label(order.trde_tp),
            "907": "2" if order.buy else "1",
            "908": order.last_fill_time if fill else order.time,
            "909": fill[0] if fill else "",
            "910": str(fill[1]) if fill else "",
            "911": str(order.filled) if (fill or order.filled) else "",
            "10": signed_price(stock.price, base),
            "27": signed_price(ask, base) if ask else "0",
            "28": signed_price(bid, base) if bid else "0",
            "914": str(fill[1]) if fill else "",
            "915": str(fill[2]) if fill else "",
            "938": str(order.fee),
            "939": str(order.tax),
            "919": reject_reason,
            "920": "",
            "921": "0701002",
            "922": "00",
            "923": "00000000",
            "10010": "",
            "2134": "1",
            "2135": "KRX",
            "2136": "N",
        }
        if state in ("확인", "취소", "거부"):
            values["908"] = self._now()
        self.sink.on_account_event("00", order.code, values)

    def _emit_balance(self, stock: Stock, holding: Holding) -> None:
        base = stock.base
        ask, bid = stock.book.best_ask(), stock.book.best_bid()
        sold = holding.today_sold_cost
        rate = holding.today_realized / sold * 100 if sold else 0.0
        values = {
            "9201": self.account_no,
            "9001": self._code_9001(stock.code),
            "917": "00",
            "916": "00000000",
            "302": stock.name,
            "10": signed_price(stock.price, base),
            "930": str(holding.qty),
            "931": str(holding.avg_price),
            "932": str(holding.cost),
            "933": str(self.sellable(stock.code)),
            "945": str(holding.today_buy_qty - holding.today_sell_qty),
            "946": holding.last_side,
            "950": str(holding.today_realized),
            "951": "0",
            "27": signed_price(ask, base) if ask else "0",
            "28": signed_price(bid, base) if bid else "0",
            "307": str(base),
            "8019": f"{rate:.2f}",
            "957": "0",
            "958": "0",
            "918": "00000000",
            "990": str(holding.today_realized),
            "991": f"{rate:.2f}",
            "992": "0",
            "993": "0.00",
            "959": "0",
            "924": "0",
        }
        self.sink.on_account_event("04", stock.code, values)

    def today(self) -> dt.date:
        return self.market.day
