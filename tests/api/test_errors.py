"""Error classification by the embedded code (kiwoom-api.md §4.1, §7.6, §12)."""

import pytest

from kiwoom_terminal.api import errors as e
from kiwoom_terminal.messages import ErrorKind


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        # rate limit: 429 + 5 + embedded 1700, and the same in a 200
        (
            429,
            {
                "return_code": 5,
                "return_msg": "허용된 요청 개수를 초과하였습니다[1700:허용된 API 요청 개수를 초과하였습니다. 유량=5, API ID=ka10081]",
            },
            e.RateLimitError,
            "1700",
        ),
        (
            200,
            {
                "return_code": 5,
                "return_msg": "허용된 요청 개수를 초과하였습니다[1700:초과. 유량=1, API ID=kt10001]",
            },
            e.RateLimitError,
            "1700",
        ),
        # the specific code directly in return_code, as a string or a number
        (200, {"return_code": "1700", "return_msg": "초과"}, e.RateLimitError, "1700"),
        (
            200,
            {"return_code": 8005, "return_msg": "Token이 유효하지 않습니다"},
            e.TokenInvalidError,
            "8005",
        ),
        (
            200,
            {"return_code": 3, "return_msg": "인증에 실패했습니다[8005:Token이 유효하지 않습니다]"},
            e.TokenInvalidError,
            "8005",
        ),
        (
            200,
            {"return_code": 3, "return_msg": "인증에 실패했습니다[8031:모의/실전 토큰 불일치]"},
            e.TokenInvalidError,
            "8031",
        ),
        (
            200,
            {
                "return_code": 3,
                "return_msg": "인증에 실패했습니다[8050:지정단말기 인증에 실패했습니다]",
            },
            e.AuthError,
            "8050",
        ),
        (
            200,
            {
                "return_code": 3,
                "return_msg": "잘못된 요청입니다[1504:URI에서 지원하지 않는 API ID]",
            },
            e.RequestError,
            "1504",
        ),
        (
            200,
            {
                "return_code": 2,
                "return_msg": "입력 값 오류입니다[1511:필수 입력 값에 값이 존재하지 않습니다. 필수입력 파라미터=base_dt]",
            },
            e.RequestError,
            "1511",
        ),
        (
            200,
            {
                "return_code": 7,
                "return_msg": "서비스를 처리하는 중에 오류가 발생했습니다[1902:종목 정보가 없습니다. 종목코드=118970]",
            },
            e.NotFoundError,
            "1902",
        ),
        (
            200,
            {"return_code": 20, "return_msg": "[2000](RC4058:모의투자 장종료)"},
            e.RejectedError,
            "RC4058",
        ),
        (
            200,
            {"return_code": 20, "return_msg": "[2000](800033:모의투자 매도가능수량이 부족합니다.)"},
            e.RejectedError,
            "800033",
        ),
        (
            200,
            {
                "return_code": 20,
                "return_msg": "[2000](RC9000:모의투자에서는 해당업무가 제공되지 않습니다.)",
            },
            e.UnsupportedError,
            "RC9000",
        ),
        (200, {"return_code": 7, "return_msg": "[1999:예기치 못한 에러]"}, e.ServerError, "1999"),
        (503, {"return_code": 7, "return_msg": "점검중"}, e.ServerError, ""),
        (401, {"return_code": 1, "return_msg": "unauthorized"}, e.TokenInvalidError, ""),
    ],
)
def test_classified_by_embedded_code(status: int, body: dict, cls: type, code: str) -> None:
    error = e.classify(body, http_status=status, api_id="ka10081")
    assert type(error) is cls
    assert error is not None and error.code == code and error.api_id == "ka10081"


def test_websocket_login_failure_forms() -> None:
    msg = (
        "토큰 인증에 실패했습니다. 접속을 종료합니다 [CODE=8005, MESSAGE=Token이 유효하지 않습니다]"
    )
    assert e.embedded_code("3", msg)[0] == "8005"
    assert e.embedded_code(805004, msg)[0] == "8005"


@pytest.mark.parametrize(
    "body",
    [
        {"return_code": 0, "return_msg": " 조회가 완료되었습니다."},
        {"return_code": "0"},
        {"list": []},
    ],
)
def test_success_forms(body: dict) -> None:
    assert e.classify(body) is None


def test_non_json_and_5xx_are_errors_not_crashes() -> None:
    err = e.classify(None, http_status=502, raw_text="<html><body>점검 중입니다</body></html>")
    assert isinstance(err, e.BadReplyError) and isinstance(err, e.ServerError)
    assert "502" in err.message and err.to_info().kind is ErrorKind.BAD_REPLY
    assert isinstance(e.classify(None, http_status=429, raw_text=""), e.RateLimitError)


def test_error_info_is_plain_and_says_what_next() -> None:
    err = e.classify({"return_code": 5, "return_msg": "[1700:초과]"}, http_status=429)
    assert isinstance(err, e.RateLimitError)
    info = err.to_info()
    assert (info.kind, info.code, info.retry_after) == (ErrorKind.RATE_LIMITED, "1700", 1.0)
    assert "한도" in info.message
    assert issubclass(e.RateLimitError, e.RetryLaterError)
    assert issubclass(e.TokenInvalidError, e.AuthError)
