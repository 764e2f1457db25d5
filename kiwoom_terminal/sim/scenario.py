"""Scenario files (`--scenario FILE`): a scripted start for tests and demos.

JSON object, every key optional:

```json
{
  "seed": 7,
  "tick_rate": 50,
  "paused": false,
  "faults": "delay_ms=100,rate=2",
  "phase": "continuous",
  "account": {"cash": 10000000,
              "holdings": [{"code": "005930", "qty": 10, "avg_price": 70000}]},
  "stocks": {
    "005930": {"price": 70500, "paused": true, "crowd_qty": 1000,
               "path": [[0, 70000], [60, 73500], [120, 72000]], "then": "hold"}
  },
  "conditions": [{"at": 30, "seq": "4", "code": "005930", "action": "add"}]
}
```

Times (`path` keyframes, condition `at`) are simulated seconds after the simulator starts;
path prices are snapped to the tick grid and kept inside the band. `then` is what the
stock does after its last keyframe: `hold` (stay paused) or `resume` (random walk again).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class ScenarioError(ValueError):
    """The scenario file is unreadable or has a bad value (the message names it)."""


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"scenario {path}: cannot read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"scenario {path}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario {path}: the top level must be an object")
    known = {"seed", "tick_rate", "paused", "faults", "phase", "account", "stocks", "conditions"}
    unknown = set(data) - known
    if unknown:
        raise ScenarioError(f"scenario {path}: unknown keys {sorted(unknown)}")
    for code, spec in (data.get("stocks") or {}).items():
        if not isinstance(spec, dict):
            raise ScenarioError(f"scenario: stocks.{code} must be an object")
        path_spec = spec.get("path")
        if path_spec is not None and (
            not isinstance(path_spec, list)
            or not all(isinstance(k, list) and len(k) == 2 for k in path_spec)
        ):
            raise ScenarioError(f"scenario: stocks.{code}.path must be [[seconds, price], ...]")
    for i, event in enumerate(data.get("conditions") or []):
        if not isinstance(event, dict) or not {"seq", "code"} <= set(event):
            raise ScenarioError(f"scenario: conditions[{i}] needs seq and code")
    return data
