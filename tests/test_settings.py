"""Settings: declared once, parsed from INI strings, invalid values named by key."""

import datetime as dt
from pathlib import Path

import pytest

from kiwoom_terminal import settings as st
from kiwoom_terminal.constants import Mode, OrderType
from kiwoom_terminal.settings_store import load_from_file, save_to_file

REPO_INI = Path(__file__).resolve().parent.parent / "settings.ini"


def test_repository_settings_ini_matches_the_declarations() -> None:
    assert REPO_INI.read_text(encoding="utf-8") == st.default_ini_text(), (
        "settings.ini is out of date: regenerate it with "
        "python -c 'from kiwoom_terminal.settings import default_ini_text as d; "
        'open("settings.ini","w",encoding="utf-8").write(d())\''
    )


def test_defaults_load_from_the_repository_file() -> None:
    s = load_from_file(REPO_INI)
    assert s == st.AppSettings()
    assert s.general.mode is Mode.SIM
    assert s.trading.buy_order_type is OrderType.LIMIT


def test_every_setting_has_a_meaning() -> None:
    infos = list(st.iter_settings())
    assert len(infos) > 40
    assert all(i.meaning for i in infos)
    assert len({i.key for i in infos}) == len(infos)


def test_values_are_parsed_by_type() -> None:
    s = st.load_settings(
        {
            "trading/buy_amount": "2,000,000",
            "trading/stop_loss_pct": "-2.5",
            "trading/liquidation_enabled": "yes",
            "trading/trading_start": "09:05",
            "trading/buy_conditions": "상승률 3% 이상, 거래량 급증",
            "trading/sell_order_type": "LIMIT",
            "general/mode": "mock",
        }
    )
    assert s.trading.buy_amount == 2_000_000
    assert s.trading.stop_loss_pct == -2.5
    assert s.trading.liquidation_enabled is True
    assert s.trading.trading_start == dt.time(9, 5)
    assert s.trading.buy_conditions == ("상승률 3% 이상", "거래량 급증")
    assert s.trading.sell_order_type is OrderType.LIMIT
    assert s.general.mode is Mode.MOCK


def test_every_bad_value_is_reported_with_its_key() -> None:
    with pytest.raises(st.SettingsError) as info:
        st.load_settings(
            {
                "trading/buy_amount": "lots",
                "trading/stop_loss_pct": "5",
                "amend/after_last": "panic",
                "trading/trading_start": "9h",
                "general/mode": "paper",
            }
        )
    text = str(info.value)
    assert len(info.value.problems) == 5
    for key in ("buy_amount", "stop_loss_pct", "after_last", "trading_start", "mode"):
        assert key in text
    assert "허용: cancel, market" in text


def test_relations_between_keys_are_checked() -> None:
    with pytest.raises(st.SettingsError, match="trading_start"):
        st.load_settings({"trading/trading_start": "15:00", "trading/trading_end": "10:00"})
    with pytest.raises(st.SettingsError, match="profit_protect_floor_pct"):
        st.load_settings({"trading/profit_protect_floor_pct": "3.0"})


def test_unknown_keys_are_ignored_unless_strict() -> None:
    assert st.load_settings({"trading/colour": "red"}) == st.AppSettings()
    with pytest.raises(st.SettingsError, match="colour"):
        st.load_settings({"trading/colour": "red"}, strict_unknown=True)


def test_round_trip_through_qsettings(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    s = st.replace_setting(st.AppSettings(), "trading/buy_conditions", "조건1,조건2")
    s = st.replace_setting(s, "trading/take_profit_pct", "12.5")
    save_to_file(s, path)
    assert load_from_file(path) == s
    assert "조건1" in path.read_text(encoding="utf-8")


README = REPO_INI.parent / "README.md"


@pytest.mark.parametrize("section", ["scanner", "schedule", "backtest"])
def test_readme_key_tables_follow_the_declarations(section: str) -> None:
    """The README's `[section]` key table lists every declared key once, with the default
    settings.ini gets ("—" for an empty one); a renamed key or a changed default shows."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"| `[{section}]` key | default | meaning |") + 2
    shown: dict[str, str] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        keys, defaults = (cell.strip() for cell in line.split("|")[1:3])
        names = [k.strip().strip("`") for k in keys.split(",")]
        values = [v.strip().strip("`") for v in defaults.split(", ")]
        assert len(names) == len(values), line
        for name, value in zip(names, values):
            assert name not in shown, f"[{section}] {name} is listed twice"
            shown[name] = "" if value == "—" else value
    declared = {
        i.name: st.format_value(i.default) for i in st.iter_settings() if i.section == section
    }
    assert shown == declared
