"""REAL entry encoding: 0B 주식체결, 0D 주식호가잔량, 00 / 04 account events, 02 conditions.

The 0B and 0D values are written with string templates instead of `json.dumps` because the
feed produces tens of thousands of them per second: every key is a constant and every value
is ASCII digits and signs, so nothing needs escaping. One values string per trade is shared
by every session that registered the code.
"""

from __future__ import annotations

import json

from kiwoom_terminal.sim.book import DEPTH
from kiwoom_terminal.sim.formats import signed
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


# 0B is written in three pieces: the quote (price, change, best ask / bid), the day's
# open / high / low with their times, and the rest; the first two are cached per stock and
# rebuilt only when they change, which is rare compared with the trade-by-trade fields.
_0B_QUOTE = '"10":"%s","11":"%s","12":"%s","27":"%s","28":"%s","25":"%s"'
_0B_DAY = '"16":"%s","17":"%s","18":"%s","1890":"%s","1891":"%s","1892":"%s"'
_0B_TEMPLATE = (
    '{"20":"%s",%s,"15":"%s","13":"%d","14":"%d",%s,"26":"%s","29":"%s","30":"%s","31":"%s",'
    '"32":"","228":"%s","311":"%d","290":"2","691":"0","567":"%s","568":"%s","851":"",'
    '"1030":"%d","1031":"%d","1032":"%s","1071":"%d","1072":"%d","1313":"%d","1315":"%d",'
    '"1316":"%d","1314":"%s","1497":"","1498":"","620":"%d","732":"","852":"","9081":"1"}}'
)
B_FIDS = frozenset(
    [
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
)


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def values_0b(stock: Stock, qty: int, buy: bool) -> str:
    """Values of one trade tick (closing the entry object too); all FIDs of §9.1."""
    price = stock.price
    book = stock.book
    ask = min(book.asks) if book.asks else 0
    bid = max(book.bids) if book.bids else 0
    key = (price, ask, bid)
    cache = stock.feed_cache
    if cache.get("qk") != key:
        quote = stock.quote_strings
        text, change, change_rate, sign = quote(price)
        cache["qk"] = key
        cache["q"] = _0B_QUOTE % (
            text,
            change,
            change_rate,
            quote(ask)[0] if ask else "0",
            quote(bid)[0] if bid else "0",
            sign,
        )
    day_key = (stock.open, stock.high, stock.low)
    if cache.get("dk") != day_key:
        quote = stock.quote_strings
        cache["dk"] = day_key
        cache["d"] = _0B_DAY % (
            quote(stock.open)[0],
            quote(stock.high)[0],
            quote(stock.low)[0],
            stock.open_time,
            stock.high_time,
            stock.low_time,
        )
    shares = stock.listing.shares
    prev_volume = stock.prev_volume
    cum = stock.cum_volume
    value = stock.cum_value
    vol_diff = cum - prev_volume
    sold, bought = stock.sell_volume, stock.buy_volume
    return _0B_TEMPLATE % (
        stock.last_time,
        cache["q"],
        f"+{qty}" if buy else f"-{qty}",
        cum,
        value // 1_000_000,
        cache["d"],
        _signed(vol_diff),
        _signed(value - stock.prev_value),
        ("-" if vol_diff < 0 else "+")
        + (f"{cum / prev_volume * 100:.2f}" if prev_volume else "0.00"),
        f"{cum / shares * 100:.2f}" if shares else "0.00",
        f"{bought / sold * 100:.2f}" if sold else "0.00",
        price * shares // 100_000_000,
        stock.upper_time or "000000",
        stock.lower_time or "000000",
        sold,
        bought,
        f"{bought / (bought + sold) * 100:.2f}" if bought + sold else "0.00",
        stock.sell_count,
        stock.buy_count,
        price * qty,
        0 if buy else qty,
        qty if buy else 0,
        _signed(bought - sold),
        value // cum if cum else 0,
    )


def _fids(first: int, count: int) -> list[str]:
    return [str(first + i) for i in range(count)]


# 0D keys whose values change, in template order, then the constant ones.
_0D_VARIABLE = [
    "21",
    *_fids(41, 10),
    *_fids(51, 10),
    *_fids(61, 10),
    *_fids(71, 10),
    *_fids(81, 10),
    *_fids(91, 10),
    "121",
    "122",
    "125",
    "126",
    "128",
    "129",
    "138",
    "139",
    "13",
    *_fids(6044, 10),
    *_fids(6054, 10),
    "6064",
    "6065",
]
_0D_CONSTANT = {
    "23": "0",
    "24": "0",
    "200": "0",
    "201": "0.00",
    "238": "3",
    "291": "0",
    "292": "0",
    "293": "3",
    "294": "0",
    "295": "0.00",
    "299": "0.00",
    "215": "2",
    "216": "",
    **{fid: "0" for fid in _fids(621, 20)},
    **{fid: "0" for fid in _fids(6066, 22)},
    **{fid: "0" for fid in _fids(6100, 10)},
    **{fid: "" for fid in _fids(6110, 6)},
}
_0D_TEMPLATE = (
    "{"
    + ",".join(f'"{k}":"%s"' for k in _0D_VARIABLE)
    + ","
    + ",".join(f'"{k}":"{v}"' for k, v in _0D_CONSTANT.items())
    + "}}"
)


def values_0d(stock: Stock, previous: dict[int, int], time: str) -> tuple[str, dict[int, int]]:
    """Values of the order book now, and the quantities to diff the next book against.

    Quantity changes (81–100, 122, 126) are against the previous push at the same price;
    `previous` keys asks by price and bids by negative price."""
    book = stock.book
    quote = stock.quote_strings
    ask_p = sorted(book.asks)[:DEPTH]
    bid_p = sorted(book.bids, reverse=True)[:DEPTH]
    ask_q = [book.asks[p].total for p in ask_p]
    bid_q = [book.bids[p].total for p in bid_p]
    now_qty: dict[int, int] = {p: q for p, q in zip(ask_p, ask_q)}
    now_qty.update({-p: q for p, q in zip(bid_p, bid_q)})
    ask_chg = [signed(q - previous.get(p, 0)) for p, q in zip(ask_p, ask_q)]
    bid_chg = [signed(q - previous.get(-p, 0)) for p, q in zip(bid_p, bid_q)]
    pad_a = DEPTH - len(ask_p)
    pad_b = DEPTH - len(bid_p)
    ask_text = [quote(p)[0] for p in ask_p] + ["0"] * pad_a
    bid_text = [quote(p)[0] for p in bid_p] + ["0"] * pad_b
    ask_qty = [str(q) for q in ask_q] + ["0"] * pad_a
    bid_qty = [str(q) for q in bid_q] + ["0"] * pad_b
    tot_ask, tot_bid = sum(ask_q), sum(bid_q)
    prev_ask = sum(q for p, q in previous.items() if p > 0)
    prev_bid = sum(q for p, q in previous.items() if p < 0)
    values = (
        time,
        *ask_text,
        *bid_text,
        *ask_qty,
        *bid_qty,
        *ask_chg,
        *(["0"] * pad_a),
        *bid_chg,
        *(["0"] * pad_b),
        tot_ask,
        signed(tot_ask - prev_ask),
        tot_bid,
        signed(tot_bid - prev_bid),
        signed(tot_bid - tot_ask),
        f"{tot_bid / tot_ask * 100:.2f}" if tot_ask else "0.00",
        signed(tot_ask - tot_bid),
        f"{tot_ask / tot_bid * 100:.2f}" if tot_bid else "0.00",
        stock.cum_volume,
        *ask_qty,
        *bid_qty,
        tot_ask,
        tot_bid,
    )
    return _0D_TEMPLATE % values, now_qty


def values_json(values: dict[str, str]) -> str:
    """Values of an account or condition event (closing the entry object too)."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "}"
