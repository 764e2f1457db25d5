"""Reading TR request bodies the way the server validates them (1511 missing, 1517 format).

Values are strings on the wire; numbers are accepted and read as their decimal text (a
Java server would coerce them), while booleans, lists and objects are format errors.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from kiwoom_terminal.sim import errors

_CODE = re.compile(r"^[0-9A-Z]{6}(_NX|_AL)?$")


class Fields:
    """Typed access to a request body; every getter raises ApiError on bad input."""

    def __init__(self, raw: dict[str, object]) -> None:
        self.raw = raw

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.raw.get(name)
        if value is None:
            if required:
                raise errors.missing(name)
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise errors.bad_format(name, "문자열이어야 합니다")
        if isinstance(value, float):
            text = str(int(value)) if value.is_integer() else str(value)
        else:
            text = str(value).strip()
        if required and text == "":
            raise errors.missing(name)
        if len(text) > 200:
            raise errors.bad_format(name, "값이 너무 깁니다")
        return text

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = True) -> str:
        value = self.text(name, required=required)
        if value == "" and not required:
            return ""
        if value not in choices:
            raise errors.bad_format(name, "허용값: " + ", ".join(choices))
        return value

    def integer(self, name: str, *, required: bool = True, minimum: int = 0) -> int | None:
        value = self.text(name, required=required)
        if value == "":
            return None
        if not value.isdigit() or not value.isascii():
            raise errors.bad_format(name, "숫자만 입력할 수 있습니다")
        number = int(value)
        if number < minimum:
            raise errors.bad_format(name, f"{minimum} 이상이어야 합니다")
        return number

    def date(self, name: str, *, required: bool = True) -> dt.date | None:
        value = self.text(name, required=required)
        if value == "":
            return None
        try:
            if len(value) != 8 or not value.isdigit():
                raise ValueError(value)
            return dt.datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            raise errors.bad_format(name, "YYYYMMDD 형식이어야 합니다") from None

    def code(self, name: str = "stk_cd", *, required: bool = True) -> str:
        value = self.text(name, required=required).upper()
        if value == "" and not required:
            return ""
        if not _CODE.match(value):
            raise errors.bad_format(name, "6자리 종목코드여야 합니다")
        return value


@dataclass(frozen=True)
class Page:
    """Paging request headers: `cont-yn: Y` with the `next-key` of the previous reply."""

    cont: bool = False
    key: str = ""

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> Page:
        cont = headers.get("cont-yn", "").strip().upper() == "Y"
        return cls(cont, headers.get("next-key", "").strip() if cont else "")


@dataclass
class Reply:
    """A TR's successful answer: body fields and the paging response headers."""

    body: dict[str, object]
    cont: bool = False
    next_key: str = ""
    message: str = "정상적으로 처리되었습니다"
