"""Market-data TRs: ka10001, ka10004, ka10007, ka10080, ka10081, ka10086, ka10099, ka10100.

Prices carry direction signs against the base price (previous close), volumes are shares,
values 백만원, market cap 억원 (kiwoom-api.md §1.3, §5). Chart and daily TRs page newest
first through `cont-yn` / `next-key` response headers; the key is the date (or bar time) of
the first row of the next page, so pages stay stable while today's bars grow.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kiwoom_terminal import krx
from kiwoom_terminal.sim import errors
from kiwoom_terminal.sim.book import DEPTH
from kiwoom_terminal.sim.fields import Fields, Page, Reply
from kiwoom_terminal.sim.formats import pad, rate, signed, signed_price, yyyymmdd
from kiwoom_terminal.sim.history import DailyBar, code_key
from kiwoom_terminal.sim.listings import Listing, market_code, market_name
from kiwoom_terminal.sim.market import Stock

if TYPE_CHECKING:
    from kiwoom_terminal.sim.server import Simulator

DAILY_PAGE = 600  # ka10081 (observed)
MINUTE_PAGE = 900  # ka10080 (observed)
DAILY_PRICE_PAGE = 20  # ka10086 (observed)
LIST_PAGE = 50  # ka10099 (not published; small so clients must follow pages)
MINUTE_HISTORY_DAYS = 20  # past days with minute bars
TIC_SCOPES = ("1", "3", "5", "10", "15", "30", "45", "60")


def _stock(sim: Simulator, f: Fields) -> Stock:
    code = f.code()
    stock = sim.market.get(code)
    if stock is None:
        raise errors.unknown_stock(code)
    return stock


def _fundamentals(listing: Listing, price: int) -> dict[str, str]:
    """Seeded but fixed vendor figures (PER, EPS, …); empty for ETFs."""
    if listing.is_etf:
        return {k: "" for k in ("per", "eps", "roe", "pbr", "ev", "bps")} | {
            "sale_amt": "0",
            "bus_pro": "0",
            "cup_nga": "0",
        }
    rng = random.Random(code_key(listing.code))
    per = rng.uniform(5.0, 35.0)
    pbr = rng.uniform(0.4, 4.0)
    eps = int(listing.ref_price / per)
    bps = int(listing.ref_price / pbr)
    sales = int(listing.ref_price * listing.shares / 1e8 * rng.uniform(0.3, 2.0))
    return {
        "per": f"{price / eps:.2f}" if eps else "",
        "eps": str(eps),
        "roe": f"{eps / bps * 100:.1f}" if bps else "",
        "pbr": f"{price / bps:.2f}" if bps else "",
        "ev": f"{rng.uniform(2.0, 20.0):.2f}",
        "bps": str(bps),
        "sale_amt": str(sales),
        "bus_pro": str(int(sales * rng.uniform(0.03, 0.2))),
        "cup_nga": str(int(sales * rng.uniform(0.02, 0.15))),
    }


def _year_range(stock: Stock) -> tuple[int, int]:
    bars = [b for b in stock.history if b.day.year == stock.day.year]
    high = max([b.high for b in bars] + ([stock.high] if stock.high else [stock.base]))
    low = min([b.low for b in bars] + ([stock.low] if stock.low else [stock.base]))
    return high, low


def _price_or_zero(price: int, base: int) -> str:
    return signed_price(price, base) if price else "0"


def stock_info(stock: Stock) -> dict[str, object]:
    """ka10001 fields of one stock."""
    li, base, price = stock.listing, stock.base, stock.price
    h250, h250_day = stock.high_250()
    l250, l250_day = stock.low_250()
    yh, yl = _year_range(stock)
    cum, prev = stock.cum_volume, stock.prev_volume
    float_shares = int(li.shares * 0.75)
    rng = random.Random(code_key(li.code) + 7)
    return {
        "stk_cd": li.code,
        "stk_nm": li.name,
        "setl_mm": "12",
        "fav": str(li.par) if li.par else "",
        "cap": str(li.shares * li.par // 100_000_000),
        "flo_stk": str(li.shares // 1000),
        "crd_rt": rate(rng.uniform(0.0, 1.5)),
        "oyr_hgst": signed_price(yh, base),
        "oyr_lwst": signed_price(yl, base),
        "mac": str(price * li.shares // 100_000_000),
        "mac_wght": "",
        "for_exh_rt": rate(rng.uniform(3.0, 55.0)),
        "repl_pric": str(krx.round_down_to_tick(max(1, price * 8 // 10), etf=stock.etf)),
        **_fundamentals(li, price),
        "250hgst": signed_price(h250, base),
        "250lwst": signed_price(l250, base),
        "high_pric": _price_or_zero(stock.high, base),
        "open_pric": _price_or_zero(stock.open, base),
        "low_pric": _price_or_zero(stock.low, base),
        "upl_pric": signed_price(stock.band.upper, base),
        "lst_pric": signed_price(stock.band.lower, base),
        "base_pric": str(base),
        "exp_cntr_pric": "0",
        "exp_cntr_qty": "0",
        "250hgst_pric_dt": yyyymmdd(h250_day),
        "250hgst_pric_pre_rt": rate((price - h250) / h250 * 100),
        "250lwst_pric_dt": yyyymmdd(l250_day),
        "250lwst_pric_pre_rt": rate((price - l250) / l250 * 100),
        "cur_prc": signed_price(price, base),
        "pre_sig": krx.sign_code(price, base, stock.band),
        "pred_pre": signed(price - base),
        "flu_rt": rate((price - base) / base * 100),
        "trde_qty": str(cum),
        "trde_pre": rate((cum / prev - 1) * 100 if prev else 0.0),
        "fav_unit": "원" if li.par else "",
        "dstr_stk": str(float_shares),
        "dstr_rt": f"{float_shares / li.shares * 100:.1f}",
    }


def ka10001(sim: Simulator, f: Fields, page: Page) -> Reply:
    return Reply(stock_info(_stock(sim, f)))


_last_books: dict[str, dict[int, int]] = {}


def _book_levels(stock: Stock) -> tuple[list[int], list[int], list[int], list[int]]:
    ap, aq, bp, bq = stock.book.top(DEPTH)
    return (
        ap + [0] * (DEPTH - len(ap)),
        aq + [0] * (DEPTH - len(aq)),
        bp + [0] * (DEPTH - len(bp)),
        bq + [0] * (DEPTH - len(bq)),
    )


def ka10004(sim: Simulator, f: Fields, page: Page) -> Reply:
    stock = _stock(sim, f)
    base = stock.base
    ap, aq, bp, bq = _book_levels(stock)
    previous = _last_books.get(stock.code, {})
    now_qty = {p: q for p, q in zip(ap, aq) if p} | {-p: q for p, q in zip(bp, bq) if p}
    _last_books[stock.code] = now_qty

    def change(price: int, qty: int, key: int) -> str:
        return signed(qty - previous.get(key, qty)) if price else "0"

    body: dict[str, object] = {"bid_req_base_tm": sim.clock.now().strftime("%H%M%S")}
    for i in range(DEPTH):
        n = i + 1
        sell_p = _price_or_zero(ap[i], base)
        buy_p = _price_or_zero(bp[i], base)
        if n == 1:
            body |= {
                "sel_fpr_bid": sell_p,
                "sel_fpr_req": str(aq[i]),
                "buy_fpr_bid": buy_p,
                "buy_fpr_req": str(bq[i]),
                "sel_1th_pre_req_pre": change(ap[i], aq[i], ap[i]),
                "buy_1th_pre_req_pre": change(bp[i], bq[i], -bp[i]),
            }
            continue
        body |= {
            f"sel_{n}th_pre_bid": sell_p,
            f"sel_{n}th_pre_req": str(aq[i]),
            f"sel_{n}th_pre_req_pre": change(ap[i], aq[i], ap[i]),
            f"buy_{n}th_pre_bid": buy_p,
            f"buy_{n}th_pre_req": str(bq[i]),
            f"buy_{n}th_pre_req_pre": change(bp[i], bq[i], -bp[i]),
        }
    prev_ask = sum(q for p, q in previous.items() if p > 0)
    prev_bid = sum(q for p, q in previous.items() if p < 0)
    body |= {
        "tot_sel_req": str(sum(aq)),
        "tot_sel_req_jub_pre": signed(sum(aq) - prev_ask) if previous else "0",
        "tot_buy_req": str(sum(bq)),
        "tot_buy_req_jub_pre": signed(sum(bq) - prev_bid) if previous else "0",
        "ovt_sel_req": "0",
        "ovt_sel_req_pre": "0",
        "ovt_buy_req": "0",
        "ovt_buy_req_pre": "0",
    }
    return Reply(body)


def ka10007(sim: Simulator, f: Fields, page: Page) -> Reply:
    stock = _stock(sim, f)
    base, price = stock.base, stock.price
    now = sim.clock.now()
    ap, aq, bp, bq = _book_levels(stock)
    lot = max(1, stock.base_qty // 20)
    body: dict[str, object] = {
        "stk_nm": stock.name,
        "stk_cd": stock.code,
        "date": yyyymmdd(now.date()),
        "tm": now.strftime("%H%M%S"),
        "pred_close_pric": str(base),
        "pred_trde_qty": str(stock.prev_volume),
        "pred_trde_prica": str(stock.prev_value // 1_000_000),
        "upl_pric": signed_price(stock.band.upper, base),
        "lst_pric": signed_price(stock.band.lower, base),
        "flo_stkcnt": str(stock.listing.shares),
        "cur_prc": signed_price(price, base),
        "smbol": krx.sign_code(price, base, stock.band),
        "flu_rt": rate((price - base) / base * 100),
        "pred_rt": signed(price - base),
        "open_pric": _price_or_zero(stock.open, base),
        "high_pric": _price_or_zero(stock.high, base),
        "low_pric": _price_or_zero(stock.low, base),
        "cntr_qty": str(abs(stock.last_qty)),
        "trde_qty": str(stock.cum_volume),
        "trde_prica": str(stock.cum_value // 1_000_000),
        "exp_cntr_pric": "0",
        "exp_cntr_qty": "0",
        "exp_sel_pri_bid": "0",
        "exp_buy_pri_bid": "0",
        "trde_strt_dt": "",
        "exec_pric": "",
        "hgst_pric": "",
        "lwst_pric": "",
        "hgst_pric_dt": "",
        "lwst_pric_dt": "",
    }
    for i in range(DEPTH):
        n = i + 1
        body |= {
            f"sel_{n}bid": _price_or_zero(ap[i], base),
            f"buy_{n}bid": _price_or_zero(bp[i], base),
            f"sel_{n}bid_req": str(aq[i]),
            f"buy_{n}bid_req": str(bq[i]),
            f"sel_{n}bid_jub_pre": "0",
            f"buy_{n}bid_jub_pre": "0",
            f"lpsel_{n}bid_req": "0",
            f"lpbuy_{n}bid_req": "0",
        }
        if n <= 5:
            body[f"sel_{n}bid_cnt"] = str(-(-aq[i] // lot))
            body[f"buy_{n}bid_cnt"] = str(-(-bq[i] // lot))
    body |= {
        "tot_buy_req": str(sum(bq)),
        "tot_sel_req": str(sum(aq)),
        "tot_buy_cnt": str(sum(-(-q // lot) for q in bq)),
        "tot_sel_cnt": str(sum(-(-q // lot) for q in aq)),
    }
    return Reply(body)


# --- charts ---------------------------------------------------------------------------------


def _daily_rows(stock: Stock, until: dt.date) -> list[tuple[DailyBar, int]]:
    """(bar, previous close) newest first, on or before `until`, today included."""
    bars = [*stock.history, stock.today_bar()] if stock.cum_volume else list(stock.history)
    out: list[tuple[DailyBar, int]] = []
    for i in range(len(bars) - 1, -1, -1):
        bar = bars[i]
        if bar.day > until:
            continue
        prev_close = bars[i - 1].close if i > 0 else bar.open
        out.append((bar, prev_close))
    return out


def _page_by_key(
    rows: Sequence[tuple[str, object]], page: Page, size: int
) -> tuple[list[object], bool, str]:
    """Rows keyed by a descending sort key; the next-key is the key of the next page's first row."""
    start = 0
    if page.cont:
        if not page.key:
            raise errors.bad_format("next-key", "연속조회키가 없습니다")
        start = next((i for i, (k, _) in enumerate(rows) if k <= page.key), len(rows))
    chunk = rows[start : start + size]
    more = start + size < len(rows)
    return [r for _, r in chunk], more, rows[start + size][0] if more else ""


def _as_of(sim: Simulator, f: Fields, name: str) -> dt.date:
    """A requested date: holidays resolve to the business day before, the future to today."""
    day = f.date(name)
    assert day is not None
    today = sim.market.day
    return today if day >= today else sim.days.latest(day)


def ka10081(sim: Simulator, f: Fields, page: Page) -> Reply:
    stock = _stock(sim, f)
    until = _as_of(sim, f, "base_dt")
    f.choice("upd_stkpc_tp", ("0", "1"))
    shares = stock.listing.shares
    rows = []
    for bar, prev_close in _daily_rows(stock, until):
        rows.append(
            (
                yyyymmdd(bar.day),
                {
                    "cur_prc": str(bar.close),
                    "trde_qty": str(bar.volume),
                    "trde_prica": str(bar.value // 1_000_000),
                    "dt": yyyymmdd(bar.day),
                    "open_pric": str(bar.open),
                    "high_pric": str(bar.high),
                    "low_pric": str(bar.low),
                    "pred_pre": signed(bar.close - prev_close),
                    "pred_pre_sig": krx.sign_code(bar.close, prev_close),
                    "trde_tern_rt": rate(bar.volume / shares * 100 if shares else 0.0),
                },
            )
        )
    data, more, key = _page_by_key(rows, page, DAILY_PAGE)
    return Reply({"stk_cd": stock.code, "stk_dt_pole_chart_qry": data}, more, key)


def _minute_rows(
    sim: Simulator, stock: Stock, scope: int, until: dt.date | None
) -> list[tuple[str, object]]:
    """Minute bars aggregated to `scope` minutes, newest first, today then past days."""
    days: list[dt.date] = []
    today = sim.market.day
    if until is None or until >= today:
        days.append(today)
        until = today
    past = sim.days.before(until + dt.timedelta(days=1), MINUTE_HISTORY_DAYS + 1)
    days += [d for d in past if d < today][:MINUTE_HISTORY_DAYS]
    closes = {b.day: b.close for b in stock.history}
    history_days = [b.day for b in stock.history]
    rows: list[tuple[str, object]] = []
    for day in days:
        if day == today:
            bars: list[tuple[int, int, int, int, int, int]] = [
                (m, b[0], b[1], b[2], b[3], b[4]) for m, b in sorted(stock.bars.items())
            ]
            base = stock.base
        else:
            bars = sim.market.minute_bars_of(stock.code, day)
            idx = history_days.index(day) if day in closes else -1
            base = stock.history[idx - 1].close if idx > 0 else (bars[0][1] if bars else 0)
        groups: dict[int, list[int]] = {}
        acc = 0
        for m, o, h, lo, c, v in bars:
            acc += v
            g = m // scope * scope
            bar = groups.get(g)
            if bar is None:
                groups[g] = [o, h, lo, c, v, acc]
            else:
                bar[1] = max(bar[1], h)
                bar[2] = min(bar[2], lo)
                bar[3] = c
                bar[4] += v
                bar[5] = acc
        open_dt = dt.datetime.combine(day, dt.time(9, 0))
        for g in sorted(groups, reverse=True):
            o, h, lo, c, v, acc_v = groups[g]
            stamp = (open_dt + dt.timedelta(minutes=g)).strftime("%Y%m%d%H%M%S")
            rows.append(
                (
                    stamp,
                    {
                        "cur_prc": signed_price(c, base),
                        "trde_qty": str(v),
                        "cntr_tm": stamp,
                        "open_pric": signed_price(o, base),
                        "high_pric": signed_price(h, base),
                        "low_pric": signed_price(lo, base),
                        "acc_trde_qty": str(acc_v),
                        "pred_pre": signed(c - base),
                        "pred_pre_sig": krx.sign_code(c, base),
                    },
                )
            )
    return rows


def ka10080(sim: Simulator, f: Fields, page: Page) -> Reply:
    stock = _stock(sim, f)
    scope = int(f.choice("tic_scope", TIC_SCOPES))
    f.choice("upd_stkpc_tp", ("0", "1"))
    until = None
    if f.text("base_dt", required=False):
        until = _as_of(sim, f, "base_dt")
    rows = _minute_rows(sim, stock, scope, until)
    data, more, key = _page_by_key(rows, page, MINUTE_PAGE)
    return Reply({"stk_cd": stock.code, "stk_min_pole_chart_qry": data}, more, key)


def _flows(code: str, day: dt.date, volume: int) -> dict[str, int]:
    """Seeded investor net flows for a day (they sum to zero across the three groups)."""
    rng = random.Random(code_key(code) * 100_003 + day.toordinal())
    foreign = int(volume * rng.gauss(0.0, 0.06))
    organ = int(volume * rng.gauss(0.0, 0.05))
    return {
        "ind": -(foreign + organ),
        "orgn": organ,
        "for": foreign,
        "prm": int(volume * rng.gauss(0.0, 0.03)),
        "frgn": int(foreign * rng.uniform(0.3, 0.9)),
    }


def ka10086(sim: Simulator, f: Fields, page: Page) -> Reply:
    stock = _stock(sim, f)
    until = _as_of(sim, f, "qry_dt")
    amounts = f.choice("indc_tp", ("0", "1")) == "1"
    shares = stock.listing.shares
    rng = random.Random(code_key(stock.code) + 11)
    foreign_ratio = rng.uniform(3.0, 55.0)
    rows = []
    for bar, prev_close in _daily_rows(stock, until):
        flows = _flows(stock.code, bar.day, bar.volume)

        def amount(qty: int, close: int = bar.close) -> str:
            return signed(qty * close // 1_000_000 if amounts else qty)

        rows.append(
            (
                yyyymmdd(bar.day),
                {
                    "date": yyyymmdd(bar.day),
                    "open_pric": signed_price(bar.open, prev_close),
                    "high_pric": signed_price(bar.high, prev_close),
                    "low_pric": signed_price(bar.low, prev_close),
                    "close_pric": signed_price(bar.close, prev_close),
                    "pred_rt": signed(bar.close - prev_close),
                    "flu_rt": rate((bar.close - prev_close) / prev_close * 100),
                    "trde_qty": str(bar.volume),
                    "amt_mn": str(bar.value // 1_000_000),
                    "crd_rt": "0.00",
                    "ind": amount(flows["ind"]),
                    "orgn": amount(flows["orgn"]),
                    "for_qty": signed(flows["for"]),
                    "frgn": amount(flows["frgn"]),
                    "prm": amount(flows["prm"]),
                    "for_rt": f"{foreign_ratio:.2f}",
                    "for_poss": str(int(shares * foreign_ratio / 100)),
                    "for_wght": f"{foreign_ratio:.2f}",
                    "for_netprps": amount(flows["for"]),
                    "orgn_netprps": amount(flows["orgn"]),
                    "ind_netprps": amount(flows["ind"]),
                    "crd_remn_rt": "0.00",
                },
            )
        )
    data, more, key = _page_by_key(rows, page, DAILY_PRICE_PAGE)
    return Reply({"daly_stkpc": data}, more, key)


# --- stock list -----------------------------------------------------------------------------


def _list_row(stock: Stock) -> dict[str, str]:
    li = stock.listing
    mcap = stock.base * li.shares
    size = "대형주" if mcap >= 5e12 else "중형주" if mcap >= 1e12 else "소형주"
    rng = random.Random(code_key(li.code) + 3)
    reg_day = (
        "19750611"
        if li.code == "005930"
        else yyyymmdd(dt.date(1985, 1, 2) + dt.timedelta(days=rng.randrange(0, 13_000)))
    )
    return {
        "code": li.code,
        "name": li.name,
        "listCount": pad(li.shares, 16),
        "auditInfo": "정상",
        "regDay": reg_day,
        "lastPrice": pad(stock.base, 8),
        "state": "증거금100%" if li.is_etf else "증거금20%|담보대출|신용가능",
        "marketCode": market_code(li),
        "marketName": market_name(li),
        "upName": li.sector,
        "upSizeName": "" if li.is_etf else size,
        "companyClassName": "" if li.market.value != "kosdaq" else "우량기업부",
        "orderWarning": "0",
        "nxtEnable": "N" if li.is_etf else "Y",
    }


def ka10099(sim: Simulator, f: Fields, page: Page) -> Reply:
    mrkt_tp = f.choice(
        "mrkt_tp",
        ("0", "10", "30", "50", "60", "70", "80", "90", "2", "3", "4", "5", "6", "7", "8", "9"),
    )
    stocks = [s for s in sim.market.stocks.values() if market_code(s.listing) == mrkt_tp]
    start = 0
    if page.cont:
        if not page.key.isdigit():
            raise errors.bad_format("next-key", "연속조회키 형식 오류")
        start = int(page.key)
    chunk = stocks[start : start + LIST_PAGE]
    more = start + LIST_PAGE < len(stocks)
    return Reply(
        {"list": [_list_row(s) for s in chunk]}, more, str(start + LIST_PAGE) if more else ""
    )


def ka10100(sim: Simulator, f: Fields, page: Page) -> Reply:
    stock = _stock(sim, f)
    return Reply(dict(_list_row(stock)))
