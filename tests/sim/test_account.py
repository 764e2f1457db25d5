"""Account and matching logic in-process: fills, fees and tax, checks, order chains."""

import pytest

from kiwoom_terminal import krx
from kiwoom_terminal.krx import SessionPhase
from kiwoom_terminal.sim.errors import ApiError
from tests.sim.world import make_world, quiet_stock

FEES = krx.FeeSchedule()


def test_market_buy_fills_across_levels_and_pays_commission() -> None:
    world = make_world(cash=30_000_000)  # a market buy reserves cash at the upper limit
    stock = quiet_stock(world, crowd=100)
    order = world.account.place(buy=True, stock=stock, qty=250, price=0, trde_tp="3", venue="KRX")
    amount = 100 * 70_100 + 100 * 70_200 + 50 * 70_300
    assert order.filled == 250 and order.remaining == 0
    assert order.filled_amount == amount
    fees = sum(FEES.commission(q * p) for q, p in ((100, 70_100), (100, 70_200), (50, 70_300)))
    assert world.account.cash == 30_000_000 - amount - fees
    holding = world.account.holdings["005930"]
    assert holding.qty == 250 and holding.cost == amount
    assert holding.avg_price == round(amount / 250)
    assert world.sink.states() == [
        ("0000001", "접수", "250"),
        ("0000001", "체결", "150"),
        ("0000001", "체결", "50"),
        ("0000001", "체결", "0"),
    ]
    balances = [v for t, v in world.sink.events if t == "04"]
    assert [v["930"] for v in balances] == ["100", "200", "250"]


def test_sell_pays_tax_and_realises_profit() -> None:
    world = make_world()
    stock = quiet_stock(world, crowd=1_000)
    world.account.set_holding("005930", 10, 60_000)
    cash0 = world.account.cash
    world.account.place(buy=False, stock=stock, qty=10, price=0, trde_tp="3", venue="KRX")
    amount = 10 * 70_000
    fee, tax = FEES.commission(amount), FEES.tax(amount, True)
    assert world.account.cash == cash0 + amount - fee - tax
    buy_fee = FEES.commission(600_000)
    assert world.account.realized_today == amount - 600_000 - fee - tax - buy_fee
    assert "005930" not in {c for c, h in world.account.holdings.items() if h.qty}


def test_limit_order_rests_and_fills_when_the_price_crosses() -> None:
    world = make_world()
    stock = quiet_stock(world, crowd=100)
    order = world.account.place(
        buy=True, stock=stock, qty=20, price=69_500, trde_tp="0", venue="KRX"
    )
    assert order.remaining == 20 and stock.book.has_own(order.order_no)
    world.market.set_price(stock, 69_300)
    assert order.remaining == 0 and order.filled_amount == 20 * 69_500


def test_sellable_quantity_excludes_open_sell_orders() -> None:
    world = make_world()
    stock = quiet_stock(world, crowd=100)
    world.account.set_holding("005930", 10, 65_000)
    world.account.place(buy=False, stock=stock, qty=6, price=71_000, trde_tp="0", venue="KRX")
    assert world.account.sellable("005930") == 4
    with pytest.raises(ApiError) as err:
        world.account.place(buy=False, stock=stock, qty=5, price=71_000, trde_tp="0", venue="KRX")
    assert err.value.return_code == 20
    assert err.value.return_msg == "[2000](800033:모의투자 매도가능수량이 부족합니다.)"


@pytest.mark.parametrize(
    ("price", "qty", "message"),
    [
        (70_050, 1, "[2000](RC4003:모의투자 호가단위 오류입니다.)"),
        (92_000, 1, "[2000](RC4004:모의투자 주문가격이 상하한가 범위를 벗어났습니다.)"),
        (70_000, 200, "[2000](RC4025:모의투자 주문가능금액이 부족합니다.)"),
    ],
)
def test_buy_rejections(price: int, qty: int, message: str) -> None:
    world = make_world(cash=10_000_000)
    stock = quiet_stock(world)
    with pytest.raises(ApiError) as err:
        world.account.place(buy=True, stock=stock, qty=qty, price=price, trde_tp="0", venue="KRX")
    assert (err.value.return_code, err.value.return_msg) == (20, message)
    assert world.account.orders == {} and world.sink.events == []


def test_orders_are_rejected_when_the_market_is_closed() -> None:
    world = make_world()
    stock = quiet_stock(world)
    world.clock.forced_phase = SessionPhase.CLOSED
    with pytest.raises(ApiError) as err:
        world.account.place(buy=True, stock=stock, qty=1, price=70_000, trde_tp="0", venue="KRX")
    assert err.value.return_msg == "[2000](RC4058:모의투자 장종료)"


def test_modify_moves_part_of_an_order_under_a_new_number() -> None:
    world = make_world()
    stock = quiet_stock(world, crowd=100)
    acct = world.account
    orig = acct.place(buy=True, stock=stock, qty=10, price=69_000, trde_tp="0", venue="KRX")
    new = acct.modify(orig_no=orig.order_no, stock=stock, qty=4, price=69_500, venue="KRX")
    assert (new.order_no, new.orig_no, new.root_no) == ("0000002", "0000001", "0000001")
    assert orig.remaining == 6 and new.remaining == 4
    assert world.sink.states()[-2:] == [("0000002", "접수", "4"), ("0000002", "확인", "4")]
    modify_event = world.sink.events[-1][1]
    assert modify_event["904"] == "0000001" and modify_event["905"] == "+매수정정"
    cancel = acct.cancel(orig_no=new.order_no, stock=stock, qty=0, venue="KRX")
    assert (cancel.order_no, cancel.root_no, cancel.qty) == ("0000003", "0000001", 4)
    assert new.remaining == 0 and not stock.book.has_own(new.order_no)
    assert world.sink.states()[-2:] == [("0000003", "접수", "4"), ("0000003", "확인", "0")]
    assert world.sink.events[-1][1]["905"] == "매수취소"
    with pytest.raises(ApiError) as err:
        acct.cancel(orig_no=new.order_no, stock=stock, qty=0, venue="KRX")
    assert err.value.return_msg == "[2000](RC4033:모의투자 원주문번호가 존재하지 않습니다.)"


def test_modify_to_a_marketable_price_fills_at_once() -> None:
    world = make_world()
    stock = quiet_stock(world, crowd=100)
    orig = world.account.place(buy=True, stock=stock, qty=5, price=69_000, trde_tp="0", venue="KRX")
    new = world.account.modify(orig_no=orig.order_no, stock=stock, qty=0, price=70_100, venue="KRX")
    assert orig.remaining == 0 and new.filled == 5
    assert [s for _, s, _ in world.sink.states()][-3:] == ["접수", "확인", "체결"]


def test_ioc_cancels_the_rest_and_fok_kills_everything_when_short() -> None:
    world = make_world()
    stock = quiet_stock(world, crowd=10)
    ioc = world.account.place(
        buy=True, stock=stock, qty=15, price=70_100, trde_tp="10", venue="KRX"
    )
    assert (ioc.filled, ioc.remaining, ioc.status) == (10, 0, "취소")
    fok = world.account.place(
        buy=True, stock=stock, qty=50, price=70_300, trde_tp="20", venue="KRX"
    )
    assert (fok.filled, fok.remaining, fok.status) == (0, 0, "취소")
    assert not stock.book.has_own(ioc.order_no) and not stock.book.has_own(fok.order_no)


def test_open_buy_orders_reserve_cash() -> None:
    world = make_world(cash=1_000_000)
    stock = quiet_stock(world)
    world.account.place(buy=True, stock=stock, qty=10, price=69_000, trde_tp="0", venue="KRX")
    reserved = 690_000 + FEES.commission(690_000)
    assert world.account.orderable() == 1_000_000 - reserved
    with pytest.raises(ApiError):
        world.account.place(buy=True, stock=stock, qty=5, price=69_000, trde_tp="0", venue="KRX")


def test_venue_rejection_is_accepted_then_refused() -> None:
    world = make_world()
    stock = quiet_stock(world)
    world.account.reject_next.append("RC4999")
    order = world.account.place(
        buy=True, stock=stock, qty=1, price=70_000, trde_tp="0", venue="KRX"
    )
    assert order.status == "거부" and order.remaining == 0
    assert world.sink.states() == [("0000001", "접수", "1"), ("0000001", "거부", "0")]
    assert world.sink.events[-1][1]["919"] == "RC4999"


def test_day_end_expires_working_orders() -> None:
    world = make_world()
    stock = quiet_stock(world)
    order = world.account.place(
        buy=True, stock=stock, qty=1, price=69_000, trde_tp="0", venue="KRX"
    )
    world.clock.advance(22_800)
    world.market.advance()
    assert order.remaining == 0 and world.account.orders == {}
    assert world.account.orderable() == world.account.cash
