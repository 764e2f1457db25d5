"""Order TRs: kt10000 buy, kt10001 sell, kt10002 modify, kt10003 cancel (kiwoom-api.md §7).

Input errors are 15xx envelopes; business rejections (grid, band, cash, sellable quantity,
original order, session) come from the account as `return_code` 20. An accepted order is
`return_code` 0 with a 7-digit `ord_no`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiwoom_terminal.sim import errors
from kiwoom_terminal.sim.fields import Fields, Page, Reply
from kiwoom_terminal.sim.formats import pad
from kiwoom_terminal.sim.market import Stock
from kiwoom_terminal.sim.orders import ORDER_TYPES

if TYPE_CHECKING:
    from kiwoom_terminal.sim.server import Simulator

VENUES = ("KRX", "NXT", "SOR")


def _texts(mock: bool) -> dict[str, str]:
    if mock:
        return {
            "kt10000": "모의투자 매수주문완료",
            "kt10001": "모의투자 매도주문완료",
            "kt10002": "모의투자 정정주문완료",
            "kt10003": "모의투자 취소주문완료",
        }
    return {
        "kt10000": "매수주문이 완료되었습니다.",
        "kt10001": "매도주문이 완료되었습니다.",
        "kt10002": "정정 주문입력이 완료되었습니다",
        "kt10003": "취소 주문입력이 완료되었습니다",
    }


def _order_stock(sim: Simulator, f: Fields) -> Stock:
    code = f.code()
    if "_" in code:
        raise errors.bad_format("stk_cd", "주문 종목코드에는 거래소 구분을 붙이지 않습니다")
    stock = sim.market.get(code)
    if stock is None:
        raise errors.unknown_stock(code)
    return stock


def _orig_no(f: Fields) -> str:
    text = f.text("orig_ord_no")
    if not text.isdigit() or len(text) > 7:
        raise errors.bad_format("orig_ord_no", "7자리 주문번호여야 합니다")
    return text.zfill(7)


def _new_order(sim: Simulator, f: Fields, buy: bool, api_id: str) -> Reply:
    venue = f.choice("dmst_stex_tp", VENUES)
    stock = _order_stock(sim, f)
    qty = f.integer("ord_qty", minimum=1)
    trde_tp = f.choice("trde_tp", tuple(ORDER_TYPES))
    priced = ORDER_TYPES[trde_tp][1]
    price = f.integer("ord_uv", required=priced, minimum=1 if priced else 0) or 0
    if trde_tp == "28":
        f.integer("cond_uv", minimum=1)
    assert qty is not None
    order = sim.account.place(
        buy=buy, stock=stock, qty=qty, price=price, trde_tp=trde_tp, venue=venue
    )
    return Reply(
        {"ord_no": order.order_no, "dmst_stex_tp": venue},
        message=_texts(sim.account.mock)[api_id],
    )


def kt10000(sim: Simulator, f: Fields, page: Page) -> Reply:
    return _new_order(sim, f, True, "kt10000")


def kt10001(sim: Simulator, f: Fields, page: Page) -> Reply:
    return _new_order(sim, f, False, "kt10001")


def kt10002(sim: Simulator, f: Fields, page: Page) -> Reply:
    venue = f.choice("dmst_stex_tp", VENUES)
    orig = _orig_no(f)
    stock = _order_stock(sim, f)
    qty = f.integer("mdfy_qty")
    price = f.integer("mdfy_uv", minimum=1)
    f.text("mdfy_cond_uv", required=False)
    assert qty is not None and price is not None
    order = sim.account.modify(orig_no=orig, stock=stock, qty=qty, price=price, venue=venue)
    text = ("매수" if order.buy else "매도") + "정정 주문입력이 완료되었습니다"
    return Reply(
        {
            "ord_no": order.order_no,
            "base_orig_ord_no": order.root_no,
            "mdfy_qty": pad(order.qty, 12),
            "dmst_stex_tp": venue,
        },
        message=_texts(True)["kt10002"] if sim.account.mock else text,
    )


def kt10003(sim: Simulator, f: Fields, page: Page) -> Reply:
    venue = f.choice("dmst_stex_tp", VENUES)
    orig = _orig_no(f)
    stock = _order_stock(sim, f)
    qty = f.integer("cncl_qty")
    assert qty is not None
    order = sim.account.cancel(orig_no=orig, stock=stock, qty=qty, venue=venue)
    text = ("매수" if order.buy else "매도") + "취소 주문입력이 완료되었습니다"
    return Reply(
        {
            "ord_no": order.order_no,
            "base_orig_ord_no": order.root_no,
            "cncl_qty": pad(order.qty, 12),
        },
        message=_texts(True)["kt10003"] if sim.account.mock else text,
    )
