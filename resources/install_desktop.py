"""Install (or remove) the desktop launcher so the terminal starts with a double-click.

    python3 resources/install_desktop.py            # install for the current user
    python3 resources/install_desktop.py --remove   # remove it again

Writes `kiwoom-terminal.desktop` to `$XDG_DATA_HOME/applications` (normally
`~/.local/share/applications`), pointing at this repository's `run.sh` with the icon from
`resources/`. It first runs the set-up (`scripts/bootstrap.sh runtime`: Debian packages, the
virtual environment, Python packages) here, in the terminal, where a sudo prompt or an error
can be seen: a launcher has no terminal, and a first start doing that set-up would sit
silent for minutes or fail unseen. `--no-setup` skips it. Standard library only, so it works
before the virtual environment exists. Linux desktops only; for Windows see the README.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
REPO = RESOURCES.parent
TEMPLATE = RESOURCES / "kiwoom-terminal.desktop.in"
FILE_NAME = "kiwoom-terminal.desktop"


def applications_dir() -> Path:
    """Per-user application launchers folder (XDG Base Directory spec)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "applications"


def _quote_exec(path: Path) -> str:
    # Desktop Entry spec: quote arguments with spaces; escape ", `, $ and \ inside quotes.
    text = str(path)
    for ch in ("\\", '"', "`", "$"):
        text = text.replace(ch, "\\" + ch)
    return f'"{text}"'


def render(repo: Path = REPO) -> str:
    """The launcher text for a repository at `repo`."""
    icon = repo / "resources" / "kiwoom-terminal.svg"
    return (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("@EXEC@", _quote_exec(repo / "run.sh"))
        .replace("@PATH@", str(repo))
        .replace("@ICON@", str(icon))
    )


def install(target_dir: Path) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / FILE_NAME
    target.write_text(render(), encoding="utf-8")
    target.chmod(0o755)  # some desktops only launch executable .desktop files
    _refresh_menu(target_dir)
    return target


def remove(target_dir: Path) -> Path:
    target = target_dir / FILE_NAME
    target.unlink(missing_ok=True)
    _refresh_menu(target_dir)
    return target


def _refresh_menu(target_dir: Path) -> None:
    tool = shutil.which("update-desktop-database")
    if tool:
        subprocess.run([tool, str(target_dir)], check=False, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--remove", action="store_true", help="remove the launcher")
    parser.add_argument(
        "--no-setup", action="store_true", help="do not run scripts/bootstrap.sh first"
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="launcher folder (default: XDG applications)"
    )
    args = parser.parse_args(argv)
    target_dir = args.dir or applications_dir()
    if args.remove:
        path = remove(target_dir)
        print(f"removed {path}")
        return 0
    if not (REPO / "run.sh").exists():
        print(f"run.sh not found in {REPO}; is this a kiwoom-terminal checkout?", file=sys.stderr)
        return 1
    if not args.no_setup:
        print("setting up first (scripts/bootstrap.sh runtime) so the launcher starts at once")
        done = subprocess.run(
            ["bash", str(REPO / "scripts" / "bootstrap.sh"), "runtime"], check=False
        )
        if done.returncode != 0:
            print(
                "set-up failed (see above); the launcher was not installed. Fix it and run "
                "this again, or use --no-setup",
                file=sys.stderr,
            )
            return done.returncode
    path = install(target_dir)
    print(f"installed {path} -> {REPO / 'run.sh'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
