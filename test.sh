#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite: lint, types, then pytest.
# Extra arguments go to pytest, e.g. ./test.sh tests/test_krx.py -x
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh dev
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
if [ $# -eq 0 ]; then
  .venv/bin/python -m ruff check .
  .venv/bin/python -m mypy
fi
exec .venv/bin/python -m pytest "$@"
