"""Value conventions of kiwoom-api.md §1.3 / §1.4: signs, padding, odd forms, codes."""

import datetime as dt

import pytest

from kiwoom_terminal.api import values
from kiwoom_terminal.constants import Venue


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+71400", 71400),  # above previous close: the sign is direction, not arithmetic
        ("-78800", 78800),
        ("71000", 71000),
        ("000075000", 75000),  # 9-char padding (CNSRREQ)
        ("-00075000", 75000),
        ("+000201500", 201500),  # observed 10-char form with a leading +
        ("000000059000", 59000),  # 12-wide account padding
        ("", 0),
        (" +100 ", 100),
    ],
)
def test_price_drops_the_direction_sign(raw: str, expected: int) -> None:
    assert values.price(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("-600", -600),
        ("+400", 400),
        ("-0", 0),
        ("--714", -714),  # double minus on investor-flow fields
        ("-00000000196888", -196888),  # padded negative, '-' in the first position
        ("000000017598258", 17598258),
        ("", 0),
        ("+82", 82),
    ],
)
def test_signed_int_keeps_the_real_sign(raw: str, expected: int) -> None:
    assert values.signed_int(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+0.56", 0.56),
        ("-43.8977", -43.8977),
        ("46.25", 46.25),
        ("--1.5", -1.5),
        ("-0.00", 0.0),
        ("", 0.0),
    ],
)
def test_signed_float(raw: str, expected: float) -> None:
    assert values.signed_float(raw) == pytest.approx(expected)


def test_fixed_point_condition_rates() -> None:
    assert values.scaled_rate("000001500", 1000) == pytest.approx(1.5)
    assert values.scaled_rate("-00000130", 1000) == pytest.approx(-0.13)
    assert values.scaled_rate("000000150", 100) == pytest.approx(1.5)  # the other reading
    assert values.scaled_rate("+1.25", 1000) == pytest.approx(1.25)  # already decimal


@pytest.mark.parametrize("raw", ["abc", "12a", "1-2", "--x", "1.2.3x"])
def test_garbage_is_an_error_not_a_number(raw: str) -> None:
    with pytest.raises(ValueError):
        values.signed_int(raw)


@pytest.mark.parametrize(
    ("raw", "code", "venue"),
    [
        ("005930", "005930", Venue.KRX),
        ("A005930", "005930", Venue.KRX),
        ("005930_NX", "005930", Venue.NXT),
        ("005930_AL", "005930", Venue.SOR),
        ("03473K", "03473K", Venue.KRX),  # letters inside a code are kept
        ("A03473K", "03473K", Venue.KRX),
        ("Q500001", "500001", Venue.KRX),
        (" 0194M0 ", "0194M0", Venue.KRX),
    ],
)
def test_codes_are_normalised(raw: str, code: str, venue: Venue) -> None:
    assert values.split_code(raw) == (code, venue)


def test_wire_code_and_bad_codes() -> None:
    assert values.wire_code("005930", Venue.NXT) == "005930_NX"
    assert values.wire_code("005930", Venue.SOR) == "005930_AL"
    with pytest.raises(ValueError, match="6자리"):
        values.wire_code("5930")


def test_dates_and_times() -> None:
    assert values.date("20250908") == dt.date(2025, 9, 8)
    assert values.datetime_minute("20250917132000") == dt.datetime(2025, 9, 17, 13, 20)
    assert values.hhmmss("15:41:13") == "154113"
