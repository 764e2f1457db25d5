"""Order types (trde_tp) and the order record the simulated account keeps.

Order numbers are 7-digit, increasing; modify and cancel consume new numbers and point at
the order they change (`orig_no`) and at the first order of the chain (`root_no`).
"""

from __future__ import annotations

from dataclasses import dataclass

# trde_tp -> (label used in ka10075 / FID 906, carries a limit price)
ORDER_TYPES: dict[str, tuple[str, bool]] = {
    "0": ("보통", True),
    "3": ("시장가", False),
    "5": ("조건부지정가", True),
    "6": ("최유리지정가", False),
    "7": ("최우선지정가", False),
    "10": ("보통(IOC)", True),
    "13": ("시장가(IOC)", False),
    "16": ("최유리(IOC)", False),
    "20": ("보통(FOK)", True),
    "23": ("시장가(FOK)", False),
    "26": ("최유리(FOK)", False),
    "28": ("스톱지정가", True),
    "29": ("중간가", False),
    "30": ("중간가(IOC)", False),
    "31": ("중간가(FOK)", False),
    "61": ("장전시간외", False),
    "62": ("시간외단일가", True),
    "81": ("장후시간외", False),
}
# Types the simulated exchange executes; the others are answered with RC9000.
SIMULATED_TYPES = frozenset({"0", "3", "5", "6", "7", "10", "13", "16", "20", "23", "26"})
MARKET_TYPES = frozenset({"3", "13", "23"})
BEST_TYPES = frozenset({"6", "16", "26"})  # 최유리: the best opposite price
PRIORITY_TYPES = frozenset({"7"})  # 최우선: the best price on our own side
IOC_TYPES = frozenset({"10", "13", "16"})
FOK_TYPES = frozenset({"20", "23", "26"})
# Every IOC / FOK code of §7.2 (중간가 30 / 31 included): the closing call auction takes
# regular orders only (§11.3).
IOC_FOK_CODES = frozenset({"10", "13", "16", "20", "23", "26", "30", "31"})


def type_label(trde_tp: str) -> str:
    return ORDER_TYPES.get(trde_tp, ("보통", True))[0]


@dataclass(eq=False)
class Order:
    """One order number of the account: a new order, a modify (정정) or a cancel (취소)."""

    order_no: str
    orig_no: str  # the order this one changes; "0000000" for new orders
    root_no: str  # first order of the chain (base_orig_ord_no)
    code: str
    name: str
    buy: bool
    kind: str  # "new", "modify", "cancel"
    trde_tp: str
    price: int  # limit price; 0 for orders without a price
    qty: int
    time: str  # HHmmss accepted
    venue: str = "KRX"
    remaining: int = 0  # unfilled and still working
    filled: int = 0
    filled_amount: int = 0
    fee: int = 0
    tax: int = 0
    status: str = "접수"  # 접수, 체결, 확인, 취소, 거부
    reserve_price: int = 0  # price used to reserve cash for a buy
    last_fill_no: str = ""
    last_fill_price: int = 0
    last_fill_qty: int = 0
    last_fill_time: str = ""
    received_at: float = 0.0  # time.time(): the request's last bytes reached the server
    loop_read_at: float = 0.0  # time.time(): the event loop read them from the socket
    read_at: float = 0.0  # time.time(): the request parsed and handed to its handler

    @property
    def is_open(self) -> bool:
        return self.remaining > 0

    @property
    def side_label(self) -> str:
        """io_tp_nm / FID 905."""
        if self.kind == "modify":
            return "+매수정정" if self.buy else "-매도정정"
        if self.kind == "cancel":
            return "매수취소" if self.buy else "매도취소"
        return "+매수" if self.buy else "-매도"

    @property
    def avg_fill_price(self) -> int:
        return round(self.filled_amount / self.filled) if self.filled else 0
