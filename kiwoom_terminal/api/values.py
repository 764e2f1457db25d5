"""Turning Kiwoom's string values into numbers and codes (kiwoom-api.md §1.3, §1.4).

Every data field on the wire is a string. Prices carry a *direction* sign (`"-78800"` is
78,800 KRW, below the previous close); changes and rates carry a real sign. Account TRs pad
with zeros (`"-00000000196888"`), investor-flow fields may arrive as `"--714"`, zero as
`"-0"`. These helpers accept all of those and raise ValueError on anything else, so a parser
can name the field that was wrong instead of inventing a number.
"""

from __future__ import annotations

import datetime as dt

from kiwoom_terminal.constants import Venue

_SUFFIX_VENUE = {"_NX": Venue.NXT, "_AL": Venue.SOR}
VENUE_SUFFIX = {Venue.KRX: "", Venue.NXT: "_NX", Venue.SOR: "_AL"}


def price(text: str) -> int:
    """A price field: the magnitude in KRW; a direction sign (`+`/`-`) is dropped."""
    try:
        return abs(int(text))
    except ValueError:
        pass
    body = text.strip().lstrip("+-")
    if not body:
        return 0
    return abs(int(_number(body)))


def signed_int(text: str) -> int:
    """A change / amount field with a real sign; `--714` → -714, `-0` → 0, `""` → 0."""
    try:
        return int(text)
    except ValueError:
        pass
    stripped = text.strip()
    body = stripped.lstrip("+-")
    if not body:
        if stripped.strip("+-") == "" and len(stripped) <= 2:
            return 0
        raise ValueError(f"not a number: {text!r}")
    value = int(_number(body))
    return -value if "-" in stripped[: len(stripped) - len(body)] else value


def unsigned_int(text: str) -> int:
    """A quantity / count field (zero padding allowed, a stray `+` tolerated)."""
    return abs(signed_int(text))


def signed_float(text: str) -> float:
    """A percent or ratio with a real sign: `"+0.56"`, `"-43.8977"`, `"--1.2"`, `""` → 0.0."""
    try:
        return float(text)
    except ValueError:
        pass
    stripped = text.strip()
    body = stripped.lstrip("+-")
    if not body:
        if len(stripped) <= 2:
            return 0.0
        raise ValueError(f"not a number: {text!r}")
    value = _number(body)
    return -value if "-" in stripped[: len(stripped) - len(body)] else value


def scaled_rate(text: str, scale: int) -> float:
    """A fixed-point rate such as CNSRREQ FID 12 (`000001500` = 1.50 % at scale 1000)."""
    if "." in text:  # already a decimal percent
        return signed_float(text)
    return signed_int(text) / scale


def _number(body: str) -> float:
    cleaned = body.replace(",", "")
    if not cleaned or not all(c.isdigit() or c == "." for c in cleaned):
        raise ValueError(f"not a number: {body!r}")
    return float(cleaned)


def split_code(raw: str) -> tuple[str, Venue]:
    """(bare 6-character code, venue) from any wire form: `005930`, `A005930`, `005930_NX`,
    `005930_AL`, `J123456`. A single leading letter is stripped when 6 characters follow
    (kiwoom-api.md §12); codes with letters inside (`03473K`) are kept."""
    code = raw.strip()
    venue = Venue.KRX
    suffix = code[-3:]
    if suffix in _SUFFIX_VENUE:
        venue = _SUFFIX_VENUE[suffix]
        code = code[:-3]
    if len(code) == 7 and code[0].isalpha():
        code = code[1:]
    return code, venue


def bare_code(raw: str) -> str:
    """The 6-character code of any wire form (venue dropped)."""
    return split_code(raw)[0]


def wire_code(code: str, venue: Venue = Venue.KRX) -> str:
    """Code with the venue suffix for market-data requests and REG items (`005930_NX`)."""
    return check_code(code) + VENUE_SUFFIX[venue]


def check_code(code: str) -> str:
    """Validate a bare code from the caller; raises ValueError with a how-to-fix message."""
    if not isinstance(code, str) or len(code) != 6 or not code.isalnum():
        raise ValueError(f"종목코드는 6자리여야 합니다 (예: 005930): {code!r}")
    return code.upper()


def date(text: str) -> dt.date:
    """`YYYYMMDD` → date."""
    text = text.strip()
    return dt.date(int(text[0:4]), int(text[4:6]), int(text[6:8]))


def datetime_minute(text: str) -> dt.datetime:
    """`YYYYMMDDHHmmss` → naive KST datetime (bar labels)."""
    text = text.strip()
    return dt.datetime(
        int(text[0:4]),
        int(text[4:6]),
        int(text[6:8]),
        int(text[8:10]),
        int(text[10:12]),
        int(text[12:14] or 0),
    )


def order_no(text: str) -> str:
    """An (original) order number; the wire's all-zero `0000000` means none → ""."""
    text = text.strip()
    return "" if not text or set(text) == {"0"} else text


def hhmmss(text: str) -> str:
    """A time field normalised to `HHmmss` (accepts `HH:mm:ss` of kt00007/kt00009)."""
    return text.strip().replace(":", "")
