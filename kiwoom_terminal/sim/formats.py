"""Wire formatting of values the way Kiwoom's servers write them (kiwoom-api.md §1.3).

Everything is a string: prices carry a direction sign relative to the base price, changes
carry a real sign, account and order fields are zero-padded to fixed widths with a leading
`-` for negatives, condition-search fields are 9 characters wide.
"""

from __future__ import annotations

import datetime as dt


def signed_price(price: int, base: int) -> str:
    """Price with a direction sign vs the base price: `+71400`, `-70500`, `71000`."""
    if price > base:
        return f"+{price}"
    if price < base and price != 0:
        return f"-{price}"
    return str(price)


def signed(value: int) -> str:
    """An arithmetic value with a real sign: `+600`, `-600`, `0`."""
    return f"+{value}" if value > 0 else str(value)


def rate(value: float) -> str:
    """A percentage with 2 decimals and a real sign: `+0.56`, `-0.24`, `0.00`."""
    text = f"{value:.2f}"
    if text in ("0.00", "-0.00"):
        return "0.00"
    return text if text.startswith("-") else "+" + text


def plain_rate(value: float, decimals: int = 2) -> str:
    """A percentage without a plus sign: `46.25`, `-43.90`."""
    text = f"{value:.{decimals}f}"
    return "0." + "0" * decimals if float(text) == 0 else text


def pad(value: int, width: int) -> str:
    """Zero-padded to `width`; a negative value puts `-` first: `000000070000`, `-00000196888`."""
    if value < 0:
        return "-" + str(-value).zfill(width - 1)
    return str(value).zfill(width)


def pct(part: float, whole: float) -> float:
    """part / whole × 100, 0 when `whole` is 0."""
    return part / whole * 100.0 if whole else 0.0


def change_rate(price: int, base: int) -> float:
    """Change rate vs the base price in percent."""
    return (price - base) / base * 100.0 if base else 0.0


def cnsr9(value: int) -> str:
    """Condition-search field: 9 characters, zero-padded, `-` in the first position."""
    return pad(value, 9)


def hhmmss(moment: dt.datetime) -> str:
    return moment.strftime("%H%M%S")


def yyyymmdd(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def a_code(code: str) -> str:
    """Account / condition form of a stock code: `A005930`."""
    return "A" + code
