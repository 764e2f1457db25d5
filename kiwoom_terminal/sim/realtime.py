"""REAL entry encoding: 0B 주식체결, 0D 주식호가잔량, 00 / 04 account events, 02 conditions.

The 0B and 0D values are written with string templates instead of `json.dumps` because the
feed produces tens of thousands of them per second: every key is a constant and every value
is ASCII digits and signs, so nothing needs escaping. One values string per trade is shared
by every session that registered the code.
"""

from __future__ import annotations

import json

from kiwoom_terminal import krx
from kiwoom_terminal.sim.book import DEPTH
from kiwoom_terminal.sim.formats import rate, signed, signed_price
from kiwoom_terminal.sim.market import Stock

NAMES = {
    "0B": "주식체결",
    "0D": "주식호가잔량",
    "00": "주문체결",
    "04": "현물잔고",
    "02": "조건검색",
}


def entry_prefix(type_code: str, item: str) -> str:
    """`{"type":"0B","name":"주식체결","item":"005930","values":` for one registration."""
    name = NAMES.get(type_code, "")
    item_json = json.dumps(item, ensure_ascii=False)
    return f'{{"type":"{type_code}","name":"{name}","item":{item_json},"values":'


_0B_KEYS = [
    "20",
    "10",
    "11",
    "12",
    "27",
    "28",
    "15",
    "13",
    "14",
    "16",
    "17",
    "18",
    "25",
    "26",
    "29",
    "30",
    "31",
    "32",
    "228",
    "311",
    "290",
    "691",
    "567",
    "568",
    "851",
    "1890",
    "1891",
    "1892",
    "1030",
    "1031",
    "1032",
    "1071",
    "1072",
    "1313",
    "1315",
    "1316",
    "1314",
    "1497",
    "1498",
    "620",
    "732",
    "852",
    "9081",
]
_0B_TEMPLATE = "{" + ",".join(f'"{k}":"%s"' for k in _0B_KEYS) + "}}"


def values_0b(stock: Stock, qty: int, buy: bool) -> str:
    """Values of one trade tick (closing the entry object too)."""
    base = stock.base
    price = stock.price
    shares = stock.listing.shares
    prev_volume = stock.prev_volume
    cum = stock.cum_volume
    ask = stock.book.best_ask()
    bid = stock.book.best_bid()
    vol_diff = cum - prev_volume
    vol_ratio = f"{cum / prev_volume * 100:.2f}" if prev_volume else "0.00"
    sold, bought = stock.sell_volume, stock.buy_volume
    return _0B_TEMPLATE % (
        stock.last_time,
        signed_price(price, base),
        signed(price - base),
        rate((price - base) / base * 100.0),
        signed_price(ask, base) if ask else "0",
        signed_price(bid, base) if bid else "0",
        ("+%d" if buy else "-%d") % qty,
        cum,
        stock.cum_value // 1_000_000,
        signed_price(stock.open, base),
        signed_price(stock.high, base),
        signed_price(stock.low, base),
        krx.sign_code(price, base, stock.band),
        signed(vol_diff),
        signed(stock.cum_value - stock.prev_value),
        ("-" if vol_diff < 0 else "+") + vol_ratio,
        f"{cum / shares * 100:.2f}" if shares else "0.00",
        "",
        f"{bought / sold * 100:.2f}" if sold else "0.00",
        price * shares // 100_000_000,
        "2",
        "0",
        stock.upper_time or "000000",
        stock.lower_time or "000000",
        "",
        stock.open_time,
        stock.high_time,
        stock.low_time,
        sold,
        bought,
        f"{bought / (bought + sold) * 100:.2f}" if bought + sold else "0.00",
        stock.sell_count,
        stock.buy_count,
        price * qty,
        0 if buy else qty,
        qty if buy else 0,
        signed(bought - sold),
        "",
        "",
        stock.cum_value // cum if cum else 0,
        "",
        "",
        "1",
    )


def values_0d(stock: Stock, previous: dict[int, int], time: str) -> tuple[str, dict[int, int]]:
    """Values of the order book now, and the quantities to diff the next book against."""
    base = stock.base
    ask_p, ask_q, bid_p, bid_q = stock.book.top(DEPTH)
    ask_p += [0] * (DEPTH - len(ask_p))
    ask_q += [0] * (DEPTH - len(ask_q))
    bid_p += [0] * (DEPTH - len(bid_p))
    bid_q += [0] * (DEPTH - len(bid_q))
    now_qty: dict[int, int] = {}
    v: dict[str, str] = {"21": time}
    for i in range(DEPTH):
        v[str(41 + i)] = signed_price(ask_p[i], base) if ask_p[i] else "0"
        v[str(51 + i)] = signed_price(bid_p[i], base) if bid_p[i] else "0"
        v[str(61 + i)] = str(ask_q[i])
        v[str(71 + i)] = str(bid_q[i])
        v[str(81 + i)] = signed(ask_q[i] - previous.get(ask_p[i], 0)) if ask_p[i] else "0"
        v[str(91 + i)] = signed(bid_q[i] - previous.get(-bid_p[i], 0)) if bid_p[i] else "0"
        if ask_p[i]:
            now_qty[ask_p[i]] = ask_q[i]
        if bid_p[i]:
            now_qty[-bid_p[i]] = bid_q[i]
    tot_ask, tot_bid = sum(ask_q), sum(bid_q)
    prev_ask = sum(q for p, q in previous.items() if p > 0)
    prev_bid = sum(q for p, q in previous.items() if p < 0)
    v.update(
        {
            "121": str(tot_ask),
            "122": signed(tot_ask - prev_ask),
            "125": str(tot_bid),
            "126": signed(tot_bid - prev_bid),
            "23": "0",
            "24": "0",
            "128": signed(tot_bid - tot_ask),
            "129": f"{tot_bid / tot_ask * 100:.2f}" if tot_ask else "0.00",
            "138": signed(tot_ask - tot_bid),
            "139": f"{tot_ask / tot_bid * 100:.2f}" if tot_bid else "0.00",
            "200": "0",
            "201": "0.00",
            "238": "3",
            "291": "0",
            "292": "0",
            "293": "3",
            "294": "0",
            "295": "0.00",
            "13": str(stock.cum_volume),
            "299": "0.00",
            "215": "2",
            "216": "",
        }
    )
    for i in range(20):
        v[str(621 + i)] = "0"
    for i in range(DEPTH):
        v[str(6044 + i)] = str(ask_q[i])
        v[str(6054 + i)] = str(bid_q[i])
        v[str(6066 + i)] = "0"
        v[str(6076 + i)] = "0"
    v.update({"6064": str(tot_ask), "6065": str(tot_bid), "6086": "0", "6087": "0"})
    for fid in range(6100, 6110):
        v[str(fid)] = "0"
    for fid in range(6110, 6116):
        v[str(fid)] = ""
    return json.dumps(v, separators=(",", ":")) + "}", now_qty


def values_json(values: dict[str, str]) -> str:
    """Values of an account or condition event (closing the entry object too)."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "}"
