"""Worker processes import no Qt (they run headless, spawned, on every platform)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_worker_modules_do_not_import_qt() -> None:
    code = (
        "import sys\n"
        "import kiwoom_terminal.workers.supervisor, kiwoom_terminal.workers.tr_worker\n"
        "import kiwoom_terminal.workers.order_worker, kiwoom_terminal.workers.ws_worker\n"
        "import kiwoom_terminal.messages, kiwoom_terminal.api.ws, kiwoom_terminal.api.trs\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PyQt5', 'pyqtgraph', 'pandas'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
