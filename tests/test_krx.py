"""KRX rules: tick grid, band, sessions, business days, fees (kiwoom-api.md §11)."""

import datetime as dt

import pytest

from kiwoom_terminal import krx
from kiwoom_terminal.krx import SessionPhase


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        (1, 1),
        (1_999, 1),
        (2_000, 5),
        (4_995, 5),
        (5_000, 10),
        (19_990, 10),
        (20_000, 50),
        (49_950, 50),
        (50_000, 100),
        (199_900, 100),
        (200_000, 500),
        (499_500, 500),
        (500_000, 1_000),
        (1_234_000, 1_000),
    ],
)
def test_tick_size_table(price: int, tick: int) -> None:
    assert krx.tick_size(price) == tick


def test_etf_tick_is_flat_five() -> None:
    assert krx.tick_size(123_455, etf=True) == 5
    assert krx.is_on_grid(123_455, etf=True)
    assert not krx.is_on_grid(123_455)


def test_tick_size_rejects_non_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        krx.tick_size(0)


@pytest.mark.parametrize(
    ("price", "down", "up", "nearest"),
    [
        (71_050, 71_000, 71_100, 71_000),  # tie rounds down
        (71_060, 71_000, 71_100, 71_100),
        (49_990, 49_950, 50_000, 50_000),
        (50_050, 50_000, 50_100, 50_000),
        (1_999, 1_999, 1_999, 1_999),
        (2_003, 2_000, 2_005, 2_005),
    ],
)
def test_rounding(price: int, down: int, up: int, nearest: int) -> None:
    assert krx.round_down_to_tick(price) == down
    assert krx.round_up_to_tick(price) == up
    assert krx.round_to_tick(price) == nearest
    for p in (down, up, nearest):
        assert krx.is_on_grid(p)


def test_step_price_crosses_row_boundaries() -> None:
    assert krx.step_price(49_950, 1) == 50_000
    assert krx.step_price(50_000, 1) == 50_100
    assert krx.step_price(49_950, 2) == 50_100
    assert krx.step_price(50_100, -1) == 50_000
    assert krx.step_price(50_000, -1) == 49_950
    assert krx.step_price(2_000, -1) == 1_999
    assert krx.step_price(1_999, 1) == 2_000
    assert krx.step_price(200_000, -1) == 199_900
    assert krx.step_price(70_000, 5) == 70_500
    assert krx.step_price(1, -3) == 1  # never below the smallest price


def test_step_price_off_grid_snaps_first() -> None:
    assert krx.step_price(50_050, 1) == 50_100
    assert krx.step_price(50_050, -1) == 50_000


def test_step_price_round_trips_over_the_whole_grid() -> None:
    p = 1_900
    seen = [p]
    for _ in range(3_000):
        p = krx.step_price(p, 1)
        seen.append(p)
    for expected in reversed(seen[:-1]):
        p = krx.step_price(p, -1)
        assert p == expected
    assert all(krx.is_on_grid(x) for x in seen)


def test_ticks_between() -> None:
    assert krx.ticks_between(49_950, 50_100) == 2
    assert krx.ticks_between(50_100, 49_950) == -2
    assert krx.ticks_between(70_000, 70_000) == 0


@pytest.mark.parametrize(
    ("base", "upper", "lower"),
    [
        (71_000, 92_300, 49_700),  # kiwoom-api.md §11.2 check value
        (10_000, 13_000, 7_000),
        (1_000, 1_300, 700),
        (3_333, 4_330, 2_335),  # 4,332.9 → 4,330 (tick 5); 2,333.1 → 2,335
        (160_000, 208_000, 112_000),
        (155_000, 201_500, 108_500),
    ],
)
def test_price_band(base: int, upper: int, lower: int) -> None:
    band = krx.price_band(base)
    assert (band.upper, band.lower) == (upper, lower)
    assert krx.is_on_grid(band.upper) and krx.is_on_grid(band.lower)
    assert band.contains(base) and not band.contains(upper + 1)


def test_sign_codes() -> None:
    band = krx.price_band(71_000)
    assert krx.sign_code(92_300, 71_000, band) == "1"
    assert krx.sign_code(71_100, 71_000, band) == "2"
    assert krx.sign_code(71_000, 71_000, band) == "3"
    assert krx.sign_code(49_700, 71_000, band) == "4"
    assert krx.sign_code(70_900, 71_000, band) == "5"


@pytest.mark.parametrize(
    ("hhmm", "phase"),
    [
        ("07:59", SessionPhase.CLOSED),
        ("08:30", SessionPhase.PRE_OPEN),
        ("08:59", SessionPhase.PRE_OPEN),
        ("09:00", SessionPhase.CONTINUOUS),
        ("15:19", SessionPhase.CONTINUOUS),
        ("15:20", SessionPhase.CLOSING_AUCTION),
        ("15:30", SessionPhase.POST_CLOSE),
        ("16:00", SessionPhase.AFTER_HOURS),
        ("17:59", SessionPhase.AFTER_HOURS),
        ("18:00", SessionPhase.CLOSED),
    ],
)
def test_schedule_phases(hhmm: str, phase: SessionPhase) -> None:
    t = dt.datetime.strptime(hhmm, "%H:%M").time()
    assert krx.DEFAULT_SCHEDULE.phase_at(t) == phase


def test_schedule_is_configurable() -> None:
    extended = krx.SessionSchedule.from_strings(
        pre_open="07:30",
        continuous="08:00",
        closing_auction="20:00",
        close="20:10",
        after_hours="20:20",
        end="21:00",
    )
    assert extended.phase_at(dt.time(19, 0)) == SessionPhase.CONTINUOUS


def test_holidays_come_from_the_calendar() -> None:
    # 2026-09-25 is 추석 (Chuseok), a Friday; 2026-01-01 new year; 2026-11-23 a Monday.
    assert not krx.is_business_day(dt.date(2026, 9, 25))
    assert not krx.is_business_day(dt.date(2026, 1, 1))
    assert not krx.is_business_day(dt.date(2026, 11, 21))  # Saturday
    assert krx.is_business_day(dt.date(2026, 11, 23))
    assert krx.previous_business_day(dt.date(2026, 11, 23)) == dt.date(2026, 11, 20)
    assert krx.latest_business_day(dt.date(2026, 11, 22)) == dt.date(2026, 11, 20)
    assert krx.next_business_day(dt.date(2026, 11, 20)) == dt.date(2026, 11, 23)


def test_session_phase_is_closed_on_holidays() -> None:
    chuseok_noon = dt.datetime(2026, 9, 25, 12, 0, tzinfo=krx.KST)
    assert krx.session_phase(chuseok_noon) == SessionPhase.CLOSED
    monday_noon = dt.datetime(2026, 11, 23, 12, 0)
    assert krx.session_phase(monday_noon) == SessionPhase.CONTINUOUS


def test_fees_and_tax() -> None:
    fees = krx.FeeSchedule(commission_rate=0.00015, tax_rate=0.002)
    assert fees.commission(10_000_000) == 1_500
    assert fees.commission(71_000) == 10  # 10.65 truncated to 10 KRW
    assert fees.tax(10_000_000, side_is_sell=True) == 20_000
    assert fees.tax(10_000_000, side_is_sell=False) == 0
    assert fees.total_cost(71_000, 10) == 710_000 + 100
    assert fees.net_proceeds(71_000, 10) == 710_000 - 100 - 1_420


def test_holidays_are_cached_for_the_next_process(tmp_path, monkeypatch) -> None:
    """Building the XKRX calendar takes ~2 s in every process; the holidays are kept in the
    user cache folder and read back in milliseconds."""
    import json

    monkeypatch.setenv(krx.HOLIDAY_CACHE_ENV, str(tmp_path))
    krx._holidays.cache_clear()
    try:
        assert not krx.is_business_day(dt.date(2026, 9, 25))  # built, then cached
        (cache,) = tmp_path.glob("xkrx-holidays-*.json")
        data = json.loads(cache.read_text(encoding="utf-8"))
        assert "2026-09-25" in data["closed"] and "2026-11-23" not in data["closed"]
        data["closed"].append("2026-11-23")  # a made-up holiday: proves the file is read
        cache.write_text(json.dumps(data), encoding="utf-8")
        krx._holidays.cache_clear()  # as in the next process
        assert not krx.is_business_day(dt.date(2026, 11, 23))
        cache.write_text("not json", encoding="utf-8")  # damaged: rebuilt from the calendar
        krx._holidays.cache_clear()
        assert krx.is_business_day(dt.date(2026, 11, 23))
    finally:
        krx._holidays.cache_clear()
