"""Every user setting, declared once with its type, default, meaning and valid range.

Settings live in an INI file (`settings.ini`, read and written through QSettings by
`settings_store.py`). This module is plain Python so worker processes can receive the parsed,
immutable `AppSettings` without importing Qt. Each section is a frozen dataclass; a field
declared with `setting()` becomes the INI key `section/field`.

App key, secret and token are deliberately *not* settings: they come from the environment
or the OS keyring (see `secrets.py`) and must never be written to an INI file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kiwoom_terminal.constants import Mode, OrderType

SETTINGS_VERSION = 1


class SettingsError(ValueError):
    """One or more settings are invalid. The message names every bad key and how to fix it;
    the terminal refuses to start (or to apply an edit) until they are corrected."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("잘못된 설정값이 있습니다:\n" + "\n".join(f"  - {p}" for p in problems))


def setting(
    default: Any,
    meaning: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """Declare a setting: default value, one-line meaning, optional range or choices."""
    meta = {"meaning": meaning, "minimum": minimum, "maximum": maximum, "choices": choices}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


# --- Sections ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneralSettings:
    """[general]"""

    mode: Mode = setting(Mode.SIM, "서버: sim (내장 시뮬레이터), mock (모의투자), real (실거래)")
    log_level: str = setting("INFO", "로그 수준", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


@dataclass(frozen=True)
class SimSettings:
    """[sim] The embedded simulator started by main.py in sim mode."""

    rest_port: int = setting(0, "REST 포트 (0 = 빈 포트 자동 선택)", minimum=0, maximum=65535)
    ws_port: int = setting(0, "WebSocket 포트 (0 = 자동)", minimum=0, maximum=65535)
    seed: int = setting(0, "시세 난수 시드 (0 = 날짜로 정함)", minimum=0)
    speed: float = setting(1.0, "시계 배속 (1 = 실시간)", minimum=0.1, maximum=1000)
    scenario: str = setting("", "시나리오 파일 경로 (비우면 없음)")
    faults: str = setting("", "장애 주입 설정 (예: ws_drop=5,error_rate=0.1)")
    queries_per_second: float = setting(5.0, "조회 TR 초당 허용 횟수", minimum=0.1)
    orders_per_second: float = setting(5.0, "주문 TR 초당 허용 횟수", minimum=0.1)


@dataclass(frozen=True)
class ConnectionSettings:
    """[connection] REST / WebSocket client behaviour."""

    request_timeout_s: float = setting(5.0, "REST 요청 제한 시간 (초)", minimum=0.5, maximum=60)
    mock_queries_per_second: float = setting(1.0, "모의투자 조회 TR 초당 한도", minimum=0.1)
    mock_orders_per_second: float = setting(1.0, "모의투자 주문 TR 초당 한도", minimum=0.1)
    real_queries_per_second: float = setting(5.0, "실거래 조회 TR 초당 한도", minimum=0.1)
    real_orders_per_second: float = setting(5.0, "실거래 주문 TR 초당 한도", minimum=0.1)
    token_renew_margin_s: int = setting(600, "토큰 만료 몇 초 전에 재발급할지", minimum=0)


@dataclass(frozen=True)
class TimerSettings:
    """[timers] QTimer intervals of the engine (seed 002)."""

    ws_drain_ms: int = setting(10, "WebSocket 결과 수신 주기 (ms)", minimum=1, maximum=1000)
    tr_drain_ms: int = setting(100, "TR 결과 수신 주기 (ms)", minimum=1, maximum=5000)
    amend_check_ms: int = setting(1000, "미체결 정정 확인 주기 (ms)", minimum=100)
    screen_refresh_ms: int = setting(1000, "화면 갱신 주기 (ms)", minimum=50)
    price_refresh_ms: int = setting(
        100, "틱이 올 때 추적·잔고 표의 가격을 바꾸는 최소 간격 (ms)", minimum=20, maximum=5000
    )
    hours_check_ms: int = setting(1000, "거래시간 확인 주기 (ms)", minimum=100)
    snapshot_ms: int = setting(5000, "상태 저장(pickle) 주기 (ms)", minimum=500)


@dataclass(frozen=True)
class TradingSettings:
    """[trading] Auto-trading: what to buy, how much, when to sell."""

    buy_conditions: tuple[str, ...] = setting((), "매수 조건식 이름들 (쉼표로 구분)")
    sell_conditions: tuple[str, ...] = setting((), "매도 조건식 이름들 (쉼표로 구분)")
    buy_amount: int = setting(1_000_000, "종목당 매수 금액 (원)", minimum=0)
    max_positions: int = setting(5, "최대 보유 종목 수 (0 = 제한 없음)", minimum=0, maximum=200)
    buy_order_type: OrderType = setting(
        OrderType.LIMIT, "매수 주문 유형", choices=("limit", "market")
    )
    buy_tick_offset: int = setting(
        0, "매수 지정가: 최우선 매도호가 대비 틱 (+ 위, - 아래)", minimum=-20, maximum=20
    )
    sell_order_type: OrderType = setting(
        OrderType.MARKET, "매도 주문 유형", choices=("limit", "market")
    )
    sell_tick_offset: int = setting(
        0, "매도 지정가: 최우선 매수호가 대비 틱 (- 아래)", minimum=-20, maximum=20
    )
    stop_loss_pct: float = setting(-3.0, "손절 수익률 (%, 0 = 사용 안 함)", minimum=-99, maximum=0)
    take_profit_pct: float = setting(
        10.0, "익절 수익률 (%, 0 = 사용 안 함)", minimum=0, maximum=1000
    )
    trailing_arm_pct: float = setting(3.0, "트레일링 스탑 발동 수익률 (%)", minimum=0, maximum=1000)
    trailing_drop_pct: float = setting(
        1.5, "발동 후 고가 대비 하락률 (%)", minimum=0.01, maximum=99
    )
    profit_protect_trigger_pct: float = setting(
        2.0, "이익보존: 이 수익률에 도달하면 보존 시작 (%, 0 = 사용 안 함)", minimum=0
    )
    profit_protect_floor_pct: float = setting(
        0.5, "이익보존: 수익률이 이 값 아래로 내려오면 매도 (%)", minimum=-99
    )
    profit_protect_hysteresis_pct: float = setting(
        0.2, "이익보존 잡음 방지 폭 (%)", minimum=0, maximum=10
    )
    trading_start: dt.time = setting(dt.time(9, 0), "자동매수 시작 시각 (HH:MM)")
    trading_end: dt.time = setting(dt.time(15, 15), "자동매수 종료 시각 (HH:MM)")
    liquidation_enabled: bool = setting(False, "장 마감 전 일괄 청산 사용")
    liquidation_time: dt.time = setting(dt.time(15, 15), "일괄 청산 시각 (HH:MM)")
    rebuy_block: bool = setting(True, "오늘 이미 매수한 종목은 다시 사지 않음")
    exit_return_includes_costs: bool = setting(
        False, "손절·익절·이익보존 수익률에 수수료와 세금을 포함 (false = 가격 변화율만)"
    )
    exits_when_auto_off: bool = setting(
        True,
        "자동매매를 꺼도 추적 중인 종목의 손절·익절·트레일링·이익보존 매도는 계속 (false = 자동매도도 멈춤)",
    )
    adopt_holdings: bool = setting(
        False, "이 프로그램이 사지 않은 계좌 보유 종목도 자동 매도 규칙으로 관리"
    )


@dataclass(frozen=True)
class AmendSettings:
    """[amend] What to do with orders that do not fill."""

    after_s: int = setting(10, "미체결 주문을 정정하기까지 기다리는 시간 (초)", minimum=1)
    ticks: int = setting(1, "정정 시 시장 쪽으로 움직일 틱 수", minimum=1, maximum=50)
    max_count: int = setting(3, "최대 정정 횟수", minimum=0, maximum=50)
    after_last: str = setting(
        "market",
        "마지막 정정 후에도 미체결이면: cancel (취소) / market (시장가)",
        choices=("cancel", "market"),
    )


@dataclass(frozen=True)
class RiskSettings:
    """[risk] Limits checked before every order, manual ones included. Cancels always pass."""

    max_order_value: int = setting(5_000_000, "주문 1건 최대 금액 (원, 0 = 제한 없음)", minimum=0)
    max_orders_per_minute: int = setting(30, "분당 최대 주문 수", minimum=1)
    daily_loss_limit: int = setting(
        300_000, "일일 손실 한도 (원): 넘으면 자동매매를 끕니다 (0 = 사용 안 함)", minimum=0
    )


@dataclass(frozen=True)
class FeeSettings:
    """[fees] Used by the simulator, the P/L display and the backtester."""

    commission_rate: float = setting(
        0.00015, "매매 수수료율 (0.00015 = 0.015%)", minimum=0, maximum=0.01
    )
    tax_rate: float = setting(0.0020, "매도 거래세율 (0.002 = 0.20%)", minimum=0, maximum=0.01)


@dataclass(frozen=True)
class BacktestSettings:
    """[backtest] The backtester (python -m kiwoom_terminal.backtest); fees come from [fees]
    and the exit rules from [trading]."""

    initial_cash: int = setting(10_000_000, "종목당 시작 자금 (원)", minimum=1)
    order_amount: int = setting(0, "1회 매수 금액 (원, 0 = 가진 현금 전부)", minimum=0)
    entry_fill: str = setting(
        "next_open",
        "매수 체결가: next_open (신호 다음 봉 시가) / close (신호 봉 종가)",
        choices=("next_open", "close"),
    )
    exit_fill: str = setting(
        "trigger",
        "매도 체결가: trigger (발동 가격, 갭이면 시가) / next_open (다음 봉 시가) / close (봉 종가)",
        choices=("trigger", "next_open", "close"),
    )
    slippage_ticks: int = setting(1, "슬리피지 (호가 틱 수, 불리한 쪽으로)", minimum=0, maximum=20)
    apply_exit_rules: bool = setting(True, "[trading]의 손절·익절·트레일링·이익보존 규칙 적용")
    interval: str = setting(
        "day",
        "봉 주기: day (일봉) 또는 분봉 분 수",
        choices=("day", "1", "3", "5", "10", "15", "30", "45", "60"),
    )
    cache_enabled: bool = setting(True, "서버에서 받은 봉 데이터를 디스크에 저장해 다시 사용")


@dataclass(frozen=True)
class ScannerSettings:
    """[scanner] The watchlist scanner: minute bars of the 관심종목 and the strategies run on
    them (strategy names and parameters are checked when the scanner starts)."""

    enabled: bool = setting(False, "관심종목 분봉 스캐너 사용")
    interval: int = setting(
        1,
        "분봉 주기 (분): 봉이 하나 완성될 때마다 스캔합니다",
        choices=("1", "3", "5", "10", "15", "30", "45", "60"),
    )
    strategies: tuple[str, ...] = setting((), "켜 둔 전략 이름들 (쉼표로 구분, 예: sma_cross,rsi)")
    strategy_params: tuple[str, ...] = setting(
        (),
        "전략 파라미터: '전략 이름=값 …' 을 쉼표로 구분 (예: sma_cross fast=5 slow=20); "
        "없는 값은 전략 기본값",
    )
    history_bars: int = setting(
        400, "종목마다 유지할 분봉 수 (전략 계산에 쓰임)", minimum=10, maximum=5000
    )
    requests_per_second: float = setting(
        1.0,
        "스캐너 분봉 조회 속도 (초당 요청 수): 조회 TR 한도보다 작게 두어 엔진 조회에 여유를 남김",
        minimum=0.05,
        maximum=20,
    )
    max_signal_age_s: int = setting(
        120, "봉 완성 후 이 시간(초)이 지나 발견된 신호는 무시", minimum=10, maximum=3600
    )
    signal_dedup: str = setting(
        "day",
        "신호 중복 제거: day (종목·전략·매수/매도마다 하루 한 번) / "
        "bar (봉마다 한 번: 오전 매도 신호가 오후 매도 신호를 막지 않음, 백테스트와 같은 거래)",
        choices=("day", "bar"),
    )
    route_buy_signals: bool = setting(
        False, "전략 매수 신호를 자동매수로 보냄 (조건식 편입과 같은 점검·위험 한도 적용)"
    )
    route_sell_signals: bool = setting(
        True, "전략 매도 신호로 그 전략이 산 종목을 매도 (손절·익절 규칙의 매도 신호)"
    )
    check_ms: int = setting(
        1000,
        "스캐너·예약 작업 확인 주기 (ms): 봉 완성 확인, 분봉 조회, 예약 규칙 실행",
        minimum=100,
        maximum=60_000,
    )
    max_in_flight: int = setting(
        2,
        "스캐너가 동시에 기다리는 분봉 조회 수 상한 (조회 TR 큐를 엔진의 조회와 나눠 씀)",
        minimum=1,
        maximum=20,
    )
    sync_condition: str = setting("", "관심종목을 이 조건식의 편입 종목과 맞춤 (비우면 안 함)")
    sync_mode: str = setting(
        "merge",
        "조건식 동기화: merge (새 종목만 추가) / replace (빠진 종목도 제거, 직접 추가한 종목은 유지)",
        choices=("merge", "replace"),
    )


@dataclass(frozen=True)
class ScheduleSettings:
    """[schedule] Time rules such as "mon 09:05 buy strategy=sma_cross" (grammar in the
    README, section "Watchlist, scanner and scheduled jobs")."""

    enabled: bool = setting(True, "예약 작업 사용")
    rules: tuple[str, ...] = setting(
        ("daily 00:00 reset",),
        "예약 규칙들 (쉼표로 구분): 요일 시각 동작 [인자=값 …] "
        "예: mon 09:05 buy strategy=sma_cross, fri 15:10 sell_all, daily 00:00 reset",
    )
    late_grace_s: int = setting(
        120,
        "규칙 시각이 이만큼(초) 지나도록 실행 못 했으면 늦게 실행하지 않음 (reset 제외)",
        minimum=5,
        maximum=3600,
    )


@dataclass(frozen=True)
class SessionSettings:
    """[session] KRX session times (KST); configurable because KRX changes them."""

    pre_open: dt.time = setting(dt.time(8, 30), "장전 동시호가 시작")
    continuous: dt.time = setting(dt.time(9, 0), "정규장 시작")
    closing_auction: dt.time = setting(dt.time(15, 20), "장마감 동시호가 시작")
    close: dt.time = setting(dt.time(15, 30), "정규장 종료")
    after_hours: dt.time = setting(dt.time(16, 0), "시간외 단일가 시작")
    end: dt.time = setting(dt.time(18, 0), "시간외 단일가 종료")


@dataclass(frozen=True)
class OrderEntrySettings:
    """[order_entry] The 주문 panel: confirmation and fat-finger limits for manual orders.

    The order value limit is `[risk] max_order_value` (one limit for every order); these
    are extra checks the panel makes before anything is sent.
    """

    confirm_orders: bool = setting(True, "주문 전 확인 창을 띄움")
    max_quantity: int = setting(10_000, "수동 주문 1건 최대 수량 (주, 0 = 제한 없음)", minimum=0)
    max_price_distance_pct: float = setting(
        10.0, "지정가가 현재가에서 이 비율(%) 넘게 떨어지면 막음 (0 = 제한 없음)", minimum=0
    )
    default_order_type: OrderType = setting(
        OrderType.LIMIT, "주문 창의 기본 주문 유형", choices=("limit", "market")
    )
    quantity_step: int = setting(1, "수량 늘림/줄임 키 한 번에 바뀌는 수량 (주)", minimum=1)
    quantity_presets: tuple[str, ...] = setting(
        ("1", "10", "100"), "수량 프리셋 키 1~3 에 해당하는 수량 (쉼표로 구분)"
    )


@dataclass(frozen=True)
class ChartSettings:
    """[chart] Defaults of the 차트 dock."""

    interval: str = setting(
        "day", "처음 보여줄 봉: day (일봉) / minute (1분봉)", choices=("day", "minute")
    )
    ma_periods: tuple[str, ...] = setting(("5", "20", "60"), "이동평균선 기간들 (쉼표로 구분)")
    show_ma: bool = setting(True, "이동평균선 표시")
    show_bollinger: bool = setting(False, "볼린저 밴드 표시")
    bollinger_period: int = setting(20, "볼린저 밴드 기간", minimum=2, maximum=500)
    bollinger_k: float = setting(2.0, "볼린저 밴드 표준편차 배수", minimum=0.1, maximum=10)
    visible_bars: int = setting(120, "처음 화면에 보이는 봉 수", minimum=10, maximum=5000)


@dataclass(frozen=True)
class KeySettings:
    """[keys] Keyboard shortcuts as Qt key-sequence text ("F7", "Ctrl+Shift+F12"; empty =
    none). Send / clear / price keys act inside the 주문 panel; the rest anywhere in the
    window. F1 lists them all."""

    help: str = setting("F1", "단축키 도움말")
    focus_stock: str = setting("F2", "종목 입력칸으로 이동")
    focus_price: str = setting("F3", "가격 입력칸으로 이동")
    focus_quantity: str = setting("F4", "수량 입력칸으로 이동")
    toggle_order_type: str = setting("F6", "지정가 / 시장가 전환")
    side_buy: str = setting("F7", "매수 선택")
    side_sell: str = setting("F8", "매도 선택")
    send_order: str = setting("Return", "주문 전송 (주문 창 안에서)")
    clear_order: str = setting("Escape", "주문 입력 지우기 (주문 창 안에서)")
    price_up: str = setting("Up", "가격 1호가 올림 (주문 창 안에서)")
    price_down: str = setting("Down", "가격 1호가 내림 (주문 창 안에서)")
    price_page_up: str = setting("PgUp", "가격 5호가 올림 (주문 창 안에서)")
    price_page_down: str = setting("PgDown", "가격 5호가 내림 (주문 창 안에서)")
    quantity_up: str = setting("Ctrl+Up", "수량 늘림 ([order_entry] quantity_step 만큼)")
    quantity_down: str = setting("Ctrl+Down", "수량 줄임")
    quantity_max: str = setting("Ctrl+M", "최대 수량: 매수는 주문가능금액, 매도는 매도가능수량")
    quantity_preset_1: str = setting("Alt+1", "수량 프리셋 1")
    quantity_preset_2: str = setting("Alt+2", "수량 프리셋 2")
    quantity_preset_3: str = setting("Alt+3", "수량 프리셋 3")
    cancel_selected: str = setting("F9", "선택한 미체결 주문 취소")
    cancel_all: str = setting("Shift+F9", "미체결 주문 모두 취소")
    emergency: str = setting(
        "Ctrl+Shift+F12", "비상 정리: 자동매매 끄기, 전부 취소, 보유 전량 시장가 매도 (확인 후)"
    )
    auto_trade: str = setting("Ctrl+Shift+A", "자동매매 켜기 / 끄기")
    focus_holdings: str = setting("Ctrl+1", "잔고 창으로 이동")
    focus_tracking: str = setting("Ctrl+2", "실시간 추적 창으로 이동")
    focus_open_orders: str = setting("Ctrl+3", "미체결 창으로 이동")
    focus_fills: str = setting("Ctrl+4", "체결 창으로 이동")
    focus_conditions: str = setting("Ctrl+5", "조건식 창으로 이동")
    focus_orderbook: str = setting("Ctrl+6", "호가 창으로 이동")
    focus_chart: str = setting("Ctrl+7", "차트로 이동")
    focus_log: str = setting("Ctrl+8", "로그 창으로 이동")


@dataclass(frozen=True)
class AppSettings:
    """All settings, grouped by INI section."""

    general: GeneralSettings = field(default_factory=GeneralSettings)
    sim: SimSettings = field(default_factory=SimSettings)
    connection: ConnectionSettings = field(default_factory=ConnectionSettings)
    timers: TimerSettings = field(default_factory=TimerSettings)
    trading: TradingSettings = field(default_factory=TradingSettings)
    amend: AmendSettings = field(default_factory=AmendSettings)
    risk: RiskSettings = field(default_factory=RiskSettings)
    fees: FeeSettings = field(default_factory=FeeSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    backtest: BacktestSettings = field(default_factory=BacktestSettings)
    scanner: ScannerSettings = field(default_factory=ScannerSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    order_entry: OrderEntrySettings = field(default_factory=OrderEntrySettings)
    chart: ChartSettings = field(default_factory=ChartSettings)
    keys: KeySettings = field(default_factory=KeySettings)


# --- Parsing, validation, serialisation -------------------------------------------------


@dataclass(frozen=True)
class SettingInfo:
    """Description of one declared setting, for docs, the settings panel and validation."""

    key: str  # "section/name"
    section: str
    name: str
    type: Any
    default: Any
    meaning: str
    minimum: float | None
    maximum: float | None
    choices: tuple[str, ...] | None


def iter_settings(root: type = AppSettings) -> Iterator[SettingInfo]:
    """Every declared setting in declaration order."""
    for section_field in dataclasses.fields(root):
        section_type = typing.get_type_hints(root)[section_field.name]
        hints = typing.get_type_hints(section_type)
        for f in dataclasses.fields(section_type):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]
            yield SettingInfo(
                key=f"{section_field.name}/{f.name}",
                section=section_field.name,
                name=f.name,
                type=hints[f.name],
                default=default,
                meaning=f.metadata.get("meaning", ""),
                minimum=f.metadata.get("minimum"),
                maximum=f.metadata.get("maximum"),
                choices=f.metadata.get("choices"),
            )


def format_value(value: Any) -> str:
    """A value as written to the INI file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)


def parse_value(info: SettingInfo, raw: Any) -> Any:
    """Parse and validate one raw value; raises ValueError with a how-to-fix message."""
    kind = info.type
    text = raw if isinstance(raw, str) else format_value(raw)
    text = text.strip()
    value: Any
    if kind is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            value = True
        elif lowered in ("false", "0", "no", "off"):
            value = False
        else:
            raise ValueError(f"'{text}' 은(는) true 또는 false 여야 합니다")
    elif kind is int:
        try:
            value = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise ValueError(f"'{text}' 은(는) 정수가 아닙니다") from None
    elif kind is float:
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            raise ValueError(f"'{text}' 은(는) 숫자가 아닙니다") from None
    elif kind is dt.time:
        for fmt in ("%H:%M", "%H:%M:%S"):
            try:
                value = dt.datetime.strptime(text, fmt).time()
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"'{text}' 은(는) HH:MM 형식의 시각이 아닙니다")
    elif isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            value = kind(text.lower())
        except ValueError:
            allowed = ", ".join(info.choices or tuple(str(m.value) for m in kind))
            raise ValueError(f"'{text}' 은(는) 허용되지 않는 값입니다 (허용: {allowed})") from None
    elif typing.get_origin(kind) is tuple:
        value = tuple(part.strip() for part in text.split(",") if part.strip())
    else:
        value = text
    if info.choices is not None and format_value(value) not in info.choices:
        raise ValueError(
            f"'{text}' 은(는) 허용되지 않는 값입니다 (허용: {', '.join(info.choices)})"
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if info.minimum is not None and value < info.minimum:
            raise ValueError(f"{value} 은(는) 최솟값 {info.minimum:g} 보다 작습니다")
        if info.maximum is not None and value > info.maximum:
            raise ValueError(f"{value} 은(는) 최댓값 {info.maximum:g} 보다 큽니다")
    return value


def load_settings(raw: Mapping[str, Any], *, strict_unknown: bool = False) -> AppSettings:
    """Build AppSettings from `section/name` → raw value (missing keys take the default).

    Every invalid value is reported at once in a SettingsError naming the key. Unknown keys
    are ignored (a newer file on an older terminal) unless `strict_unknown` is set.
    """
    problems: list[str] = []
    sections: dict[str, dict[str, Any]] = {}
    known: set[str] = set()
    for info in iter_settings():
        known.add(info.key)
        if info.key in raw:
            try:
                value = parse_value(info, raw[info.key])
            except ValueError as exc:
                problems.append(f"[{info.section}] {info.name}: {exc} — {info.meaning}")
                continue
            sections.setdefault(info.section, {})[info.name] = value
    if strict_unknown:
        for key in raw:
            if key not in known and not key.startswith(("meta/", "window/", "keys/")):
                problems.append(f"{key}: 알 수 없는 설정입니다 (오타인지 확인하세요)")
    if problems:
        raise SettingsError(problems)
    hints = typing.get_type_hints(AppSettings)
    kwargs = {name: hints[name](**values) for name, values in sections.items()}
    return _check_relations(AppSettings(**kwargs))


def _check_relations(s: AppSettings) -> AppSettings:
    """Checks that involve more than one key."""
    problems = []
    if s.trading.trading_start >= s.trading.trading_end:
        problems.append(
            "[trading] trading_start / trading_end: 시작 시각이 종료 시각보다 앞서야 합니다"
        )
    if s.trading.profit_protect_trigger_pct and (
        s.trading.profit_protect_floor_pct >= s.trading.profit_protect_trigger_pct
    ):
        problems.append(
            "[trading] profit_protect_floor_pct: 보존 하한이 시작 수익률보다 낮아야 합니다"
        )
    sess = s.session
    order = [
        sess.pre_open,
        sess.continuous,
        sess.closing_auction,
        sess.close,
        sess.after_hours,
        sess.end,
    ]
    if order != sorted(order):
        problems.append("[session]: 장 시간은 pre_open < continuous < … < end 순서여야 합니다")
    if problems:
        raise SettingsError(problems)
    return s


def to_raw(settings: AppSettings) -> dict[str, str]:
    """Flatten settings into `section/name` → INI string."""
    out: dict[str, str] = {}
    for info in iter_settings():
        section = getattr(settings, info.section)
        out[info.key] = format_value(getattr(section, info.name))
    return out


def replace_setting(settings: AppSettings, key: str, raw: Any) -> AppSettings:
    """A copy of `settings` with one key changed (validated, relations checked)."""
    values: dict[str, Any] = dict(to_raw(settings))
    values[key] = raw
    return load_settings(values)


def default_ini_text() -> str:
    """The documented default `settings.ini` shipped in the repository."""
    lines = [
        "; kiwoom-terminal settings. Every key, its meaning and its default.",
        "; The terminal copies this file to your user config folder on first start and",
        "; reads that copy (or the file given with --settings). App key, secret and token",
        "; never belong here: set KIWOOM_APPKEY / KIWOOM_SECRETKEY or use the OS keyring.",
        "",
        "[meta]",
        f"version={SETTINGS_VERSION}",
    ]
    current = ""
    for info in iter_settings():
        if info.section != current:
            current = info.section
            lines += ["", f"[{current}]"]
        extra = ""
        if info.choices:
            extra = f" ({' / '.join(info.choices)})"
        lines.append(f"; {info.meaning}{extra}")
        lines.append(f"{info.name}={format_value(info.default)}")
    return "\n".join(lines) + "\n"
