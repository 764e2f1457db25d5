"""WebSocket REAL pushes and condition-search replies → domain objects (kiwoom-api.md §9,
§10).

The tick and order-book parsers run tens of thousands of times a second in the WebSocket
worker, so they read only the FIDs the terminal uses and cache code/venue splitting. Missing
FIDs count as empty (`0`), as servers may omit them (§8.4).
"""

from __future__ import annotations

import functools
from typing import Any

from kiwoom_terminal.api import values, wire
from kiwoom_terminal.constants import ConditionChange, Side, Venue
from kiwoom_terminal.objects import (
    BalanceEventData,
    ConditionData,
    ConditionEventData,
    ConditionMatchData,
    OrderBookData,
    OrderEventData,
    TickData,
)

Values = dict[str, str]

_price = values.price
_int = values.signed_int
_uint = values.unsigned_int
_float = values.signed_float

# FIDs of the 10-level book (0D)
_ASK_PRICE = tuple(str(f) for f in range(41, 51))
_BID_PRICE = tuple(str(f) for f in range(51, 61))
_ASK_QTY = tuple(str(f) for f in range(61, 71))
_BID_QTY = tuple(str(f) for f in range(71, 81))


@functools.lru_cache(maxsize=8192)
def split_item(item: str) -> tuple[str, Venue]:
    """REAL `item` (`005930`, `005930_NX`, `A005930`) → (code, venue), cached."""
    return values.split_code(item)


def unwrap_values(raw: Any) -> Values:
    """`values` is an object on the wire; a list wrapping one object is tolerated (§12)."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list) and raw and isinstance(raw[0], dict):
        merged: Values = {}
        for part in raw:
            merged.update(part)
        return merged
    return {}


def tick(item: str, v: Values, received_at: float) -> TickData:
    """0B 주식체결."""
    code, venue = split_item(item)
    get = v.get
    return TickData(
        code,
        venue,
        get("20", ""),
        _price(get("10", "")),
        _int(get("11", "")),
        _float(get("12", "")),
        _int(get("15", "")),
        _uint(get("13", "")),
        _price(get("16", "")),
        _price(get("17", "")),
        _price(get("18", "")),
        _price(get("27", "")),
        _price(get("28", "")),
        received_at,
    )


def order_book(item: str, v: Values, received_at: float) -> OrderBookData:
    """0D 주식호가잔량 (levels 1–10)."""
    code, venue = split_item(item)
    get = v.get
    return OrderBookData(
        code,
        venue,
        get("21", ""),
        tuple(_price(get(f, "")) for f in _ASK_PRICE),
        tuple(_uint(get(f, "")) for f in _ASK_QTY),
        tuple(_price(get(f, "")) for f in _BID_PRICE),
        tuple(_uint(get(f, "")) for f in _BID_QTY),
        _uint(get("121", "")),
        _uint(get("125", "")),
        received_at,
    )


def order_event(item: str, v: Values, received_at: float) -> OrderEventData:
    """00 주문체결."""
    get = v.get
    code = values.bare_code(get("9001", "") or item)
    kind_text = get("913", "").strip()
    kind = wire.ORDER_EVENT_KINDS.get(kind_text)
    if kind is None:
        raise ValueError(f"unknown order state (913): {kind_text!r}")
    order_kind = get("905", "")
    side_text = get("907", "").strip() or order_kind
    reject = get("919", "").strip()
    unit_price = get("914", "") or get("910", "")
    venue_text = get("2134", "").strip()
    return OrderEventData(
        order_no=get("9203", "").strip(),
        orig_order_no=values.order_no(get("904", "").strip()),
        code=code,
        name=get("302", "").strip(),
        kind=kind,
        action=wire.action_from_wire(order_kind),
        side=wire.side_from_wire(side_text),
        order_type=wire.order_type_from_label(get("906", "")),
        order_qty=_uint(get("900", "")),
        order_price=_price(get("901", "")),
        unfilled_qty=_uint(get("902", "")),
        filled_amount=_uint(get("903", "")),
        filled_qty=_uint(get("911", "")),
        unit_fill_price=_price(unit_price),
        unit_fill_qty=_uint(get("915", "")),
        fill_no=get("909", "").strip(),
        fee=_uint(get("938", "")),
        tax=_uint(get("939", "")),
        reject_reason="" if reject in ("", "0") else reject,
        time=get("908", "").strip(),
        venue=wire.VENUE_FROM_STEX.get(venue_text, Venue.KRX) if venue_text else Venue.KRX,
        account=get("9201", "").strip(),
        received_at=received_at,
    )


def balance_event(item: str, v: Values, received_at: float) -> BalanceEventData:
    """04 잔고."""
    get = v.get
    last_side = get("946", "").strip()
    return BalanceEventData(
        code=values.bare_code(get("9001", "") or item),
        name=get("302", "").strip(),
        price=_price(get("10", "")),
        quantity=_uint(get("930", "")),
        avg_price=_price(get("931", "")),
        purchase_amount=_uint(get("932", "")),
        sellable_qty=_uint(get("933", "")),
        last_side=Side.SELL if last_side == "1" else Side.BUY,
        base_price=_price(get("307", "")),
        account=get("9201", "").strip(),
        received_at=received_at,
    )


def condition_event(item: str, v: Values, received_at: float) -> ConditionEventData:
    """02 조건검색 entry (I) / exit (D)."""
    get = v.get
    flag = get("843", "").strip().upper()
    if flag not in ("I", "D"):
        raise ValueError(f"unknown condition change (843): {flag!r}")
    return ConditionEventData(
        seq=get("841", "").strip(),
        code=values.bare_code(get("9001", "") or item),
        change=ConditionChange.ENTER if flag == "I" else ConditionChange.EXIT,
        time=get("20", "").strip(),
        received_at=received_at,
    )


def condition_list(data: Any) -> list[ConditionData]:
    """CNSRLST `data`: `[[seq, name], …]` (official) or `[{seq, name}, …]` (spec table)."""
    result = []
    for entry in data or []:
        if isinstance(entry, (list, tuple)) and len(entry) >= 2:
            seq, name = entry[0], entry[1]
        elif isinstance(entry, dict):
            seq, name = entry.get("seq", ""), entry.get("name", "")
        else:
            raise ValueError(f"unexpected CNSRLST entry: {entry!r}")
        result.append(ConditionData(seq=str(seq).strip(), name=str(name).strip()))
    return result


def condition_matches(data: Any, *, rate_scale: int = 1000) -> list[ConditionMatchData]:
    """One-shot CNSRREQ `data` rows (9-char padded FIDs; FID 12 is a fixed-point rate whose
    scale is an open question, kiwoom-api.md §0.2 #9 — configurable, ×1000 per spec)."""
    result = []
    for row in data or []:
        if not isinstance(row, dict) or not str(row.get("9001", "")).strip():
            continue
        get = row.get
        result.append(
            ConditionMatchData(
                code=values.bare_code(str(get("9001", ""))),
                name=str(get("302", "")).strip(),
                price=_price(str(get("10", ""))),
                change=_int(str(get("11", ""))),
                change_rate=values.scaled_rate(str(get("12", "")), rate_scale),
                volume=_uint(str(get("13", ""))),
                open=_price(str(get("16", ""))),
                high=_price(str(get("17", ""))),
                low=_price(str(get("18", ""))),
            )
        )
    return result


def condition_codes(data: Any) -> list[str]:
    """Real-time CNSRREQ initial `data`: `[{"jmcode": "A005930"}, …]` → bare codes. Rows
    carrying 9001 instead are accepted too."""
    codes = []
    for row in data or []:
        if isinstance(row, dict):
            raw = str(row.get("jmcode") or row.get("9001") or "").strip()
        else:
            raw = str(row).strip()
        if raw:
            codes.append(values.bare_code(raw))
    return codes
