"""Error envelopes and message texts of the Kiwoom servers (kiwoom-api.md §4, §7.6).

A failure is a JSON body with a generic `return_code` and the specific code embedded in
`return_msg`. `ApiError` carries one to the HTTP layer; `reject` builds the business
rejections of the order path (`return_code` 20, `[2000](<reason>:<text>)`), with the
`모의투자` prefix when the simulator plays the mock server.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ApiError(Exception):
    """An error reply: HTTP status, generic return_code and return_msg."""

    return_code: int
    return_msg: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        return {"return_code": self.return_code, "return_msg": self.return_msg}


def input_error(code: int, text: str) -> ApiError:
    """15xx input validation errors: return_code 2."""
    return ApiError(2, f"입력 값 오류입니다[{code}:{text}]")


def missing(param: str) -> ApiError:
    return input_error(1511, f"필수 입력 값에 값이 존재하지 않습니다. 필수입력 파라미터={param}")


def bad_format(param: str, reason: str) -> ApiError:
    return input_error(1517, f"{param} 형식 오류({reason})")


def auth_error(code: int, text: str) -> ApiError:
    """80xx authentication errors: return_code 3, HTTP 200 (as observed)."""
    return ApiError(3, f"인증에 실패했습니다[{code}:{text}]")


def invalid_token() -> ApiError:
    return auth_error(8005, "Token이 유효하지 않습니다")


def bad_request(code: int, text: str) -> ApiError:
    """api-id problems (1501/1504/1505): return_code 2."""
    return ApiError(2, f"잘못된 요청입니다[{code}:{text}]")


def rate_limited(quota: float, api_id: str, *, total: bool = False) -> ApiError:
    """HTTP 429 + return_code 5; 1700 per API ID, 1701 for the global bucket."""
    q = f"{quota:g}"
    if total:
        text = f"[1701:허용된 전체 API 요청 개수를 초과하였습니다. 유량={q}, API ID={api_id}]"
    else:
        text = f"[1700:허용된 API 요청 개수를 초과하였습니다. 유량={q}, API ID={api_id}]"
    return ApiError(5, "허용된 요청 개수를 초과하였습니다" + text, status=429)


def service_error(code: int, text: str, status: int = 200) -> ApiError:
    """Processing errors such as 1902 (unknown stock): return_code 7."""
    return ApiError(7, f"서비스를 처리하는 중에 오류가 발생했습니다[{code}:{text}]", status=status)


def unknown_stock(code: str) -> ApiError:
    return service_error(
        1902, f"종목 정보가 없습니다. 입력한 종목코드 값을 확인바랍니다. 종목코드={code}"
    )


# --- business rejections (return_code 20) -------------------------------------------------

# Observed on the mock server (kiwoom-api.md §7.6).
BEFORE_OPEN = ("RC4057", "장시작전")
AFTER_CLOSE = ("RC4058", "장종료")
OFF_GRID = ("RC4003", "호가단위 오류입니다.")
NOT_SELLABLE = ("800033", "매도가능수량이 부족합니다.")
NOT_PROVIDED = ("RC9000", "모의투자에서는 해당업무가 제공되지 않습니다.")
# Simulator-only reason codes (the real ones are not observed; §7.6 suggests these texts).
NO_CASH = ("RC4025", "주문가능금액이 부족합니다.")
NO_ORIGINAL = ("RC4033", "원주문번호가 존재하지 않습니다.")
OVER_REMAINING = ("RC4034", "정정/취소 가능수량을 초과하였습니다.")  # simulator-only
OUT_OF_BAND = ("RC4004", "주문가격이 상하한가 범위를 벗어났습니다.")  # simulator-only
NO_LIQUIDITY = ("RC4035", "최유리/최우선 지정가 주문가격을 정할 수 없습니다.")  # simulator-only
# IOC / FOK in the closing call auction (§11.3: regular orders only); simulator-only.
AUCTION_NO_IOC = ("RC4036", "동시호가 시간에는 IOC/FOK 주문을 할 수 없습니다.")


def reject(reason: tuple[str, str], *, mock: bool = True) -> ApiError:
    """A business rejection: HTTP 200, return_code 20, `[2000](CODE:text)`."""
    code, text = reason
    if mock and not text.startswith("모의투자"):
        text = "모의투자 " + text
    if not mock:
        text = text.removeprefix("모의투자에서는 ").removeprefix("모의투자 ")
    return ApiError(20, f"[2000]({code}:{text})")
