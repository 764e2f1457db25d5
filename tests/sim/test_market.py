"""The simulated market: seeded replay, history consistent with live prices, day roll."""

import datetime as dt

import pytest

from kiwoom_terminal import krx
from tests.sim.world import make_world


def run(world, seconds: int, step: int) -> None:
    for _ in range(seconds // step):
        world.clock.advance(step)
        world.market.advance()


def test_same_seed_replays_the_same_day_however_time_is_batched() -> None:
    a, b, c = make_world(seed=11), make_world(seed=11), make_world(seed=12)
    run(a, 600, 1)
    run(b, 600, 37)
    b.clock.advance(600 - 37 * (600 // 37))
    b.market.advance()
    run(c, 600, 1)
    for code in ("005930", "000660", "069500"):
        sa, sb = a.stock(code), b.stock(code)
        assert (sa.price, sa.fair) == (sb.price, sb.fair)
        assert sa.cum_volume == sb.cum_volume
    assert [s.price for s in a.market.stocks.values()] != [
        s.price for s in c.market.stocks.values()
    ]


def test_prices_stay_on_the_grid_and_inside_the_band() -> None:
    world = make_world(seed=3)
    run(world, 1800, 10)
    for stock in world.market.stocks.values():
        assert stock.band.contains(stock.price)
        assert krx.is_on_grid(stock.price, etf=stock.etf)
        for bar in stock.bars.values():
            assert all(krx.is_on_grid(p, etf=stock.etf) for p in bar[:4])


def test_minute_bars_aggregate_to_the_live_day() -> None:
    world = make_world(start=dt.time(10, 30), seed=4)  # 90 minutes traded before start
    run(world, 300, 1)
    for stock in world.market.stocks.values():
        bars = [stock.bars[m] for m in sorted(stock.bars)]
        assert len(bars) >= 90
        assert sum(b[4] for b in bars) == stock.cum_volume
        assert max(b[1] for b in bars) == stock.high
        assert min(b[2] for b in bars) == stock.low
        assert bars[0][0] == stock.open
        assert bars[-1][3] == stock.price
        assert bars[-1][5] == stock.cum_volume


def test_daily_history_ends_at_the_base_price_and_past_minutes_match_their_day() -> None:
    world = make_world()
    stock = world.stock("000660")
    assert stock.history[-1].close == stock.base == stock.listing.base_price
    assert stock.history[-1].day == dt.date(2026, 11, 19)
    assert len(stock.history) == 800
    for bar in stock.history[-50:]:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
    day = stock.history[-3]
    minutes = world.market.minute_bars_of("000660", day.day)
    assert minutes[0][1] == day.open and minutes[-1][4] == day.close
    assert max(m[2] for m in minutes) == day.high and min(m[3] for m in minutes) == day.low
    assert sum(m[5] for m in minutes) == day.volume


def test_continuous_clock_rolls_to_the_next_business_day_at_15_20() -> None:
    world = make_world(start=dt.time(15, 19))
    stock = world.stock()
    run(world, 59, 59)
    close, volume = stock.price, stock.cum_volume
    world.clock.advance(120)
    world.market.advance()
    new = world.stock()
    assert world.market.day == dt.date(2026, 11, 23)  # Monday after Friday the 20th
    assert new.base == close
    assert new.history[-1].day == dt.date(2026, 11, 20)
    assert new.history[-1].volume == volume
    assert new.band == krx.price_band(close)
    today_bars = world.market.minute_bars_of("005930", dt.date(2026, 11, 20))
    assert sum(b[5] for b in today_bars) == volume


@pytest.mark.parametrize("code", ["005930", "069500"])
def test_set_price_snaps_to_the_grid_and_clamps_to_the_band(code: str) -> None:
    world = make_world()
    stock = world.stock(code)
    stock.paused = True
    assert world.market.set_price(stock, stock.base + 37) == krx.round_to_tick(
        stock.base + 37, etf=stock.etf
    )
    assert world.market.set_price(stock, stock.base * 2) == stock.band.upper
    assert stock.price == stock.band.upper
    assert stock.upper_time != ""
