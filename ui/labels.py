"""Korean display text for the stable enum codes of `kiwoom_terminal.constants` and `krx`.

Enum values are written to disk and never translated; this is the one place that says how
each looks on screen, as a Korean HTS would write it.
"""

from __future__ import annotations

from kiwoom_terminal.constants import (
    ConnectionState,
    ExitReason,
    Mode,
    OrderStatus,
    OrderType,
    Side,
)
from kiwoom_terminal.krx import SessionPhase

SIDE = {Side.BUY: "매수", Side.SELL: "매도"}

ORDER_TYPE = {
    OrderType.LIMIT: "지정가",
    OrderType.MARKET: "시장가",
    OrderType.CONDITIONAL_LIMIT: "조건부지정가",
    OrderType.BEST_LIMIT: "최유리지정가",
    OrderType.PRIORITY_LIMIT: "최우선지정가",
    OrderType.LIMIT_IOC: "지정가(IOC)",
    OrderType.MARKET_IOC: "시장가(IOC)",
    OrderType.BEST_IOC: "최유리(IOC)",
    OrderType.LIMIT_FOK: "지정가(FOK)",
    OrderType.MARKET_FOK: "시장가(FOK)",
    OrderType.BEST_FOK: "최유리(FOK)",
    OrderType.STOP_LIMIT: "스톱지정가",
    OrderType.MIDPOINT: "중간가",
    OrderType.MIDPOINT_IOC: "중간가(IOC)",
    OrderType.MIDPOINT_FOK: "중간가(FOK)",
    OrderType.PRE_OPEN_OFF_HOURS: "장전시간외",
    OrderType.AFTER_HOURS_SINGLE: "시간외단일가",
    OrderType.POST_CLOSE_OFF_HOURS: "장후시간외",
}

ORDER_STATUS = {
    OrderStatus.SUBMITTING: "전송중",
    OrderStatus.ACCEPTED: "접수",
    OrderStatus.PARTIALLY_FILLED: "부분체결",
    OrderStatus.FILLED: "체결",
    OrderStatus.CANCELLED: "취소",
    OrderStatus.REPLACED: "정정됨",
    OrderStatus.REJECTED: "거부",
    OrderStatus.UNKNOWN: "확인중",
}

EXIT_REASON = {
    ExitReason.STOP_LOSS: "손절",
    ExitReason.TAKE_PROFIT: "익절",
    ExitReason.TRAILING_STOP: "트레일링",
    ExitReason.PROFIT_PROTECT: "이익보존",
    ExitReason.SELL_CONDITION: "매도조건",
    ExitReason.LIQUIDATION: "일괄청산",
    ExitReason.STRATEGY: "전략",
    ExitReason.MANUAL: "수동",
    ExitReason.EMERGENCY: "비상",
}

# The purpose column of open orders: "entry", "manual" or an ExitReason value.
PURPOSE = {"entry": "진입", "manual": "수동", **{r.value: t for r, t in EXIT_REASON.items()}}

MODE = {Mode.SIM: "SIM 시뮬레이터", Mode.MOCK: "MOCK 모의투자", Mode.REAL: "REAL 실거래"}

CONNECTION = {
    ConnectionState.STARTING: "연결중",
    ConnectionState.CONNECTED: "연결됨",
    ConnectionState.RECONNECTING: "재연결중",
    ConnectionState.THROTTLING: "요청 제한 대기",
    ConnectionState.KICKED: "다른 곳에서 접속",
    ConnectionState.AUTH_FAILED: "인증 실패",
    ConnectionState.DEAD: "중단 (재시작중)",
    ConnectionState.STOPPED: "정지",
}

SESSION_PHASE = {
    SessionPhase.PRE_OPEN: "장전 동시호가",
    SessionPhase.CONTINUOUS: "정규장",
    SessionPhase.CLOSING_AUCTION: "장마감 동시호가",
    SessionPhase.POST_CLOSE: "장 종료",
    SessionPhase.AFTER_HOURS: "시간외 단일가",
    # Outside the day's sessions on a trading day; the status bar says 휴장 (HOLIDAY) on a day
    # KRX does not trade at all.
    SessionPhase.CLOSED: "장 운영시간 외",
}
HOLIDAY = "휴장"

LOG_LEVEL = {
    "DEBUG": "디버그",
    "INFO": "정보",
    "WARNING": "경고",
    "ERROR": "오류",
    "CRITICAL": "심각",
}


_BY_VALUE: dict[int, dict[object, str]] = {}


def label(mapping: dict, value: object) -> str:
    """Display text for an enum member or its stored string value; unknown values as-is."""
    table = _BY_VALUE.get(id(mapping))
    if table is None:
        table = {}
        for member, text in mapping.items():
            table[getattr(member, "value", member)] = text
        _BY_VALUE[id(mapping)] = table
    key = getattr(value, "value", value)
    found = table.get(key)
    if found is not None:
        return found
    return "" if value is None else str(key)
