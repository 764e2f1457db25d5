"""Account TRs: ka00001, kt00001, kt00018, ka10075 (open orders), ka10076 (fills).

They read the same account that pushes REAL 00 / 04, so what a client queries always
agrees with what it was sent. Account TRs use fixed-width zero padding and `A` codes where
the real server does (kiwoom-api.md §6).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiwoom_terminal.sim import errors
from kiwoom_terminal.sim.fields import Fields, Page, Reply
from kiwoom_terminal.sim.formats import a_code, pad, plain_rate, signed_price
from kiwoom_terminal.sim.orders import Order, type_label

if TYPE_CHECKING:
    from kiwoom_terminal.sim.server import Simulator

QUERY_DONE = "조회가 완료되었습니다"
ORDER_PAGE = 100  # ka10075 / ka10076 rows per page (not published)

_KT00001_ZERO_FIELDS = [
    "bncr_profa_ch",
    "nxdy_bncr_sell_exct",
    "fc_stk_krw_repl_set_amt",
    "crd_grnta_ch",
    "crd_grnt_ch",
    "add_grnt_ch",
    "etc_profa",
    "uncl_stk_amt",
    "shrts_prica",
    "crd_set_grnta",
    "chck_ina_amt",
    "etc_chck_ina_amt",
    "crd_grnt_ruse",
    "knx_asset_evltv",
    "elwdpst_evlta",
    "crd_ls_rght_frcs_amt",
    "lvlh_join_amt",
    "lvlh_trns_alowa",
    "remn_repl_evlta",
    "trst_remn_repl_evlta",
    "bncr_remn_repl_evlta",
    "profa_repl",
    "crd_grnta_repl",
    "crd_grnt_repl",
    "add_grnt_repl",
    "rght_repl_amt",
    "bncr_buy_alowa",
    "ch_uncla_dlfe",
    "ch_uncla_tot",
    "crd_int_npay",
    "int_npay_amt_dlfe",
    "int_npay_amt_tot",
    "etc_loana",
    "etc_loana_dlfe",
    "etc_loan_tot",
    "nrpy_loan",
    "loan_sum",
    "ls_sum",
    "mdstrm_usfe",
    "loan_remn_evlt_amt",
    "dpst_grntl_remn",
    "sell_grntl_remn",
    "d1_out_rep_mor",
    "d2_out_rep_mor",
    "repl_amt",
    "ch_uncla",
]


def ka00001(sim: Simulator, f: Fields, page: Page) -> Reply:
    return Reply({"acctNo": sim.account.account_no}, message=QUERY_DONE)


def kt00001(sim: Simulator, f: Fields, page: Page) -> Reply:
    f.choice("qry_tp", ("2", "3"))
    acct = sim.account
    cash = acct.cash
    orderable = acct.orderable()
    body: dict[str, object] = {
        "entr": pad(cash, 15),
        "profa_ch": pad(0, 15),
        "ord_alow_amt": pad(orderable, 15),
        "pymn_alow_amt": pad(orderable, 15),
        "wrap_pymn_alow_amt": pad(orderable, 15),
        "d1_entra": pad(cash, 15),
        "d2_entra": pad(cash, 15),
        "d1_pymn_alow_amt": pad(orderable, 15),
        "d2_pymn_alow_amt": pad(orderable, 15),
        "d1_slby_exct_amt": pad(0, 15),
        "d2_slby_exct_amt": pad(0, 15),
        "d1_buy_exct_amt": pad(0, 15),
        "d1_sel_exct_amt": pad(0, 15),
        "d2_buy_exct_amt": pad(0, 15),
        "d2_sel_exct_amt": pad(0, 15),
        "crd_grnt_rt": "0.00",
        "min_ord_alow_yn": "",
        "stk_entr_prst": [],
    }
    # The simulated account is a plain cash account: every margin class can spend the
    # same orderable cash.
    for rate in (20, 30, 40, 50, 60, 100):
        body[f"{rate}stk_ord_alow_amt"] = pad(orderable, 15)
    for name in _KT00001_ZERO_FIELDS:
        body.setdefault(name, pad(0, 15))
    return Reply(body, message=QUERY_DONE + ".")  # kt00001's text ends with a period


def kt00018(sim: Simulator, f: Fields, page: Page) -> Reply:
    f.choice("qry_tp", ("1", "2"))
    f.choice("dmst_stex_tp", ("KRX", "NXT"))
    acct = sim.account
    fees = acct.fees
    rows = []
    total_cost = total_eval = total_pnl = 0
    positions = [h for h in acct.holdings.values() if h.qty > 0]
    evals = {}
    for h in positions:
        stock = sim.market.stocks[h.code]
        evals[h.code] = stock.price * h.qty
    grand_eval = sum(evals.values())
    for h in positions:
        stock = sim.market.stocks[h.code]
        evlt = evals[h.code]
        sell_fee = fees.commission(evlt)
        tax = fees.tax(evlt, True)
        sum_fees = h.buy_fees + sell_fee
        pnl = evlt - h.cost - sum_fees - tax
        total_cost += h.cost
        total_eval += evlt
        total_pnl += pnl
        rows.append(
            {
                "stk_cd": a_code(h.code),
                "stk_nm": stock.name,
                "evltv_prft": pad(pnl, 15),
                "prft_rt": plain_rate(pnl / h.cost * 100 if h.cost else 0.0),
                "pur_pric": pad(h.avg_price, 15),
                "pred_close_pric": pad(stock.base, 12),
                "rmnd_qty": pad(h.qty, 15),
                "trde_able_qty": pad(acct.sellable(h.code), 15),
                "cur_prc": pad(stock.price, 12),
                "pred_buyq": pad(h.prev_buy_qty, 15),
                "pred_sellq": pad(0, 15),
                "tdy_buyq": pad(h.today_buy_qty, 15),
                "tdy_sellq": pad(h.today_sell_qty, 15),
                "pur_amt": pad(h.cost, 15),
                "pur_cmsn": pad(h.buy_fees, 15),
                "evlt_amt": pad(evlt, 15),
                "sell_cmsn": pad(sell_fee, 15),
                "tax": pad(tax, 15),
                "sum_cmsn": pad(sum_fees, 15),
                "poss_rt": plain_rate(evlt / grand_eval * 100 if grand_eval else 0.0),
                "crd_tp": "00",
                "crd_tp_nm": "",
                "crd_loan_dt": "",
            }
        )
    body: dict[str, object] = {
        "tot_pur_amt": pad(total_cost, 15),
        "tot_evlt_amt": pad(total_eval, 15),
        "tot_evlt_pl": pad(total_pnl, 15),
        "tot_prft_rt": plain_rate(total_pnl / total_cost * 100 if total_cost else 0.0),
        "prsm_dpst_aset_amt": pad(acct.cash + total_eval, 15),
        "tot_loan_amt": pad(0, 15),
        "tot_crd_loan_amt": pad(0, 15),
        "tot_crd_ls_amt": pad(0, 15),
        "acnt_evlt_remn_indv_tot": rows,
    }
    return Reply(body, message=QUERY_DONE)


def _page_orders(orders: list[Order], page: Page) -> tuple[list[Order], bool, str]:
    """Newest first; the key is the order number the next page starts below."""
    if page.cont:
        if not page.key.isdigit():
            raise errors.bad_format("next-key", "연속조회키 형식 오류")
        orders = [o for o in orders if o.order_no <= page.key.zfill(7)]
    chunk = orders[:ORDER_PAGE]
    more = len(orders) > ORDER_PAGE
    return chunk, more, orders[ORDER_PAGE].order_no if more else ""


def _venue_ok(stex_tp: str, order: Order) -> bool:
    return stex_tp in ("0", "1") if order.venue == "KRX" else stex_tp in ("0", "2")


def ka10075(sim: Simulator, f: Fields, page: Page) -> Reply:
    all_stk = f.choice("all_stk_tp", ("0", "1"))
    side = f.choice("trde_tp", ("0", "1", "2"))
    stex = f.choice("stex_tp", ("0", "1", "2"))
    code = f.code(required=all_stk == "1")
    acct = sim.account
    selected = [
        o
        for o in reversed(acct.orders.values())
        if o.remaining > 0
        and (all_stk == "0" or o.code == code)
        and (side == "0" or (side == "2") == o.buy)
        and _venue_ok(stex, o)
    ]
    chunk, more, key = _page_orders(selected, page)
    rows = []
    for o in chunk:
        stock = sim.market.stocks[o.code]
        base = stock.base
        ask, bid = stock.book.best_ask(), stock.book.best_bid()
        status = "체결" if o.filled else ("확인" if o.kind == "modify" else "접수")
        rows.append(
            {
                "acnt_no": acct.account_no,
                "ord_no": o.order_no,
                "mang_empno": "",
                "stk_cd": o.code,
                "tsk_tp": "",
                "ord_stt": status,
                "stk_nm": o.name,
                "ord_qty": str(o.qty),
                "ord_pric": str(o.price),
                "oso_qty": str(o.remaining),
                "cntr_tot_amt": str(o.filled_amount),
                "orig_ord_no": o.orig_no,
                "io_tp_nm": o.side_label,
                "trde_tp": type_label(o.trde_tp),
                "tm": o.time,
                "cntr_no": o.last_fill_no,
                "cntr_pric": str(o.last_fill_price),
                "cntr_qty": str(o.filled),
                "cur_prc": signed_price(stock.price, base),
                "sel_bid": signed_price(ask, base) if ask else "0",
                "buy_bid": signed_price(bid, base) if bid else "0",
                "unit_cntr_pric": str(o.last_fill_price) if o.last_fill_no else "",
                "unit_cntr_qty": str(o.last_fill_qty) if o.last_fill_no else "",
                "tdy_trde_cmsn": str(o.fee),
                "tdy_trde_tax": str(o.tax),
                "ind_invsr": "",
                "stex_tp": "1" if o.venue == "KRX" else "2",
                "stex_tp_txt": o.venue,
                "sor_yn": "N",
                "stop_pric": "",
            }
        )
    return Reply({"oso": rows}, more, key, message=" " + QUERY_DONE + ".")


def ka10076(sim: Simulator, f: Fields, page: Page) -> Reply:
    qry = f.choice("qry_tp", ("0", "1"))
    code = f.code(required=qry == "1")
    side = f.choice("sell_tp", ("0", "1", "2"))
    stex = f.choice("stex_tp", ("0", "1", "2"))
    before = f.text("ord_no", required=False)
    if before and not before.isdigit():
        raise errors.bad_format("ord_no", "숫자만 입력할 수 있습니다")
    acct = sim.account
    selected = [
        o
        for o in reversed(acct.orders.values())
        if o.filled > 0
        and (qry == "0" or o.code == code)
        and (side == "0" or (side == "2") == o.buy)
        and _venue_ok(stex, o)
        and (not before or o.order_no < before.zfill(7))
    ]
    chunk, more, key = _page_orders(selected, page)
    rows = [
        {
            "ord_no": o.order_no,
            "stk_nm": o.name,
            "io_tp_nm": o.side_label,
            "ord_pric": str(o.price),
            "ord_qty": str(o.qty),
            "cntr_pric": str(o.avg_fill_price),
            "cntr_qty": str(o.filled),
            "oso_qty": str(o.remaining),
            "tdy_trde_cmsn": str(o.fee),
            "tdy_trde_tax": str(o.tax),
            "ord_stt": "체결",
            "trde_tp": type_label(o.trde_tp),
            "orig_ord_no": o.orig_no,
            "ord_tm": o.time,
            "stk_cd": o.code,
            "stex_tp": "1" if o.venue == "KRX" else "2",
            "stex_tp_txt": o.venue,
            "sor_yn": "N",
            "stop_pric": "",
        }
        for o in chunk
    ]
    return Reply({"cntr": rows}, more, key, message=" " + QUERY_DONE + ".")
