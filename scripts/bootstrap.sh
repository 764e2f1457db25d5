#!/usr/bin/env bash
# Shared set-up for ./run.sh and ./test.sh on a Debian machine that has only python3.
#   scripts/bootstrap.sh runtime   -> Debian libraries Qt needs, a Korean font, .venv, requirements.txt
#   scripts/bootstrap.sh dev       -> the same plus requirements-dev.txt (pytest, ruff, mypy)
# It is idempotent and quick when nothing changed: Debian packages are installed only when
# missing and pip runs only when the requirement files changed (a hash is kept in .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-runtime}"

# Libraries the PyQt5 wheel links against (offscreen and xcb platforms), a Korean font so
# Hangul renders in the window and in screenshots, and Xvfb for a virtual screen.
DEB_PACKAGES=(
  python3-venv fonts-nanum fontconfig libgl1 libegl1 libfontconfig1 libfreetype6 libdbus-1-3
  libglib2.0-0 libxkbcommon0 libxkbcommon-x11-0 libxcb1 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
  libxcb-xfixes0 libxcb-xkb1 libx11-xcb1 xvfb
)

install_debian_packages() {
  command -v dpkg-query >/dev/null 2>&1 || return 0   # not Debian: the user installs Qt's libraries
  local missing=()
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "bootstrap: missing Debian packages: ${missing[*]} (run as root or install sudo)" >&2
      return 0
    fi
  fi
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || echo "bootstrap: apt-get update failed; trying the install anyway" >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "bootstrap: could not install ${missing[*]}; the GUI may not start" >&2
}

create_venv() {
  # A .venv whose pip does not run is what an interrupted or failed `python3 -m venv` leaves
  # (e.g. ensurepip missing before python3-venv was installed): start it again.
  if [ -x .venv/bin/python ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    echo "bootstrap: .venv is incomplete (no working pip); creating it again"
    rm -rf .venv
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv"
    if ! python3 -m venv .venv; then
      rm -rf .venv
      echo "bootstrap: python3 -m venv failed; install Debian's python3-venv (sudo apt-get install python3-venv) and run this again" >&2
      exit 1
    fi
  fi
}

install_requirements() {
  local files=(requirements.txt)
  [ "$profile" = "dev" ] && files+=(requirements-dev.txt)
  local stamp=".venv/.requirements-$profile.sha256"
  local want
  want=$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  echo "bootstrap: installing Python packages (${files[*]})"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  local args=()
  for f in "${files[@]}"; do args+=(-r "$f"); done
  .venv/bin/python -m pip install -q --disable-pip-version-check "${args[@]}"
  echo "$want" > "$stamp"
}

install_debian_packages
create_venv
install_requirements
