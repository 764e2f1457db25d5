"""Pure checks behind the 주문 panel (no Qt)."""

from kiwoom_terminal.constants import Market, OrderType, Side
from kiwoom_terminal.objects import StockInfoData
from kiwoom_terminal.settings import AppSettings, replace_setting
from ui.order_checks import (
    PRICE,
    QUANTITY,
    MarketContext,
    OrderDraft,
    check_all,
    max_quantity_by_cash,
)

SAMSUNG = StockInfoData("005930", "삼성전자", Market.KOSPI, 71_000)


def draft(price: int = 71_000, qty: int = 1, order_type: OrderType = OrderType.LIMIT) -> OrderDraft:
    return OrderDraft("005930", Side.BUY, order_type, price, qty)


def test_a_good_order_has_no_problems() -> None:
    assert check_all(draft(), MarketContext(SAMSUNG, 71_000, 71_000), AppSettings()) == []


def test_limits_of_zero_are_switched_off() -> None:
    s = AppSettings()
    for key in (
        "order_entry/max_quantity",
        "order_entry/max_price_distance_pct",
        "risk/max_order_value",
    ):
        s = replace_setting(s, key, "0")
    far = draft(price=90_000, qty=1_000_000)
    assert check_all(far, MarketContext(SAMSUNG, 71_000, 71_000), s) == []


def test_market_orders_are_valued_at_the_last_price() -> None:
    problems = check_all(
        draft(price=0, qty=100, order_type=OrderType.MARKET),
        MarketContext(SAMSUNG, 71_000, 71_000),
        AppSettings(),
    )
    assert [p.field for p in problems] == [QUANTITY]
    assert "7,100,000원" in problems[0].message


def test_distance_is_not_checked_without_a_last_price() -> None:
    assert check_all(draft(price=80_000), MarketContext(SAMSUNG, None, 71_000), AppSettings()) == []
    problems = check_all(draft(price=80_000), MarketContext(SAMSUNG, 71_000, 71_000), AppSettings())
    assert [p.field for p in problems] == [PRICE]


def test_max_quantity_by_cash_pays_the_commission() -> None:
    assert max_quantity_by_cash(1_000_000, 71_000, 0.00015) == 14
    assert max_quantity_by_cash(710_000, 71_000, 0.00015) == 9  # 10 would need 710,100
    assert max_quantity_by_cash(10_000_000, 1_000, 0.00015, quantity_limit=500) == 500
    assert max_quantity_by_cash(0, 71_000, 0.00015) == 0
