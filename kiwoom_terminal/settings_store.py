"""Reading and writing `settings.ini` through QSettings (INI format, UTF-8).

Only the GUI / engine process uses this module (it imports QtCore); workers receive the
parsed `AppSettings`. The user's file lives in the user config folder (platformdirs) and is
seeded from the repository's `settings.ini` on first start; `--settings PATH` overrides it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import platformdirs
from PyQt5.QtCore import QSettings

from kiwoom_terminal.settings import (
    SETTINGS_VERSION,
    AppSettings,
    default_ini_text,
    load_settings,
    to_raw,
)

APP_NAME = "kiwoom-terminal"
APP_AUTHOR = "kiwoom-terminal"
REPO_SETTINGS = Path(__file__).resolve().parent.parent / "settings.ini"


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))


def user_data_dir() -> Path:
    """Snapshots, the trade journal and caches live here."""
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def default_settings_path() -> Path:
    return user_config_dir() / "settings.ini"


def ensure_settings_file(path: Path) -> Path:
    """Create `path` from the repository's documented defaults when it does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        if REPO_SETTINGS.exists():
            shutil.copyfile(REPO_SETTINGS, path)
        else:
            path.write_text(default_ini_text(), encoding="utf-8")
    return path


def open_qsettings(path: Path) -> QSettings:
    """A QSettings on an INI file with UTF-8 text (Korean condition names stay readable)."""
    qs = QSettings(str(path), QSettings.Format.IniFormat)
    qs.setIniCodec("UTF-8")
    return qs


def _plain(value: Any) -> Any:
    # QSettings reads "a,b" as a QStringList; settings.py wants the original text back.
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return value


def read_raw(path: Path) -> dict[str, Any]:
    """Every key of the INI file as `section/name` → raw value."""
    qs = open_qsettings(path)
    return {key: _plain(qs.value(key)) for key in qs.allKeys()}


def load_from_file(path: Path) -> AppSettings:
    """Parse and validate the INI file; raises SettingsError naming every bad key."""
    return load_settings(read_raw(path))


def save_to_file(settings: AppSettings, path: Path) -> None:
    """Write every setting to the INI file (other sections, e.g. window state, are kept)."""
    qs = open_qsettings(path)
    qs.setValue("meta/version", SETTINGS_VERSION)
    for key, value in to_raw(settings).items():
        qs.setValue(key, value)
    qs.sync()
