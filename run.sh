#!/usr/bin/env bash
# Set up (first run only) and start the terminal on the embedded simulator.
# Extra arguments go to main.py, e.g. ./run.sh --mode mock   or   ./run.sh --headless
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh runtime
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ] \
   && command -v xvfb-run >/dev/null 2>&1 && [[ " $* " != *" --headless "* ]] && [[ " $* " != *" --screenshot "* ]]; then
  echo "run.sh: no display found; starting the terminal on a virtual screen (Xvfb)."
  exec xvfb-run -a .venv/bin/python main.py "$@"
fi
exec .venv/bin/python main.py "$@"
