"""Fault injection, switchable at start (`--faults SPEC`) and at run time (control API).

SPEC is comma-separated `name=value`:

| name | meaning | default |
|---|---|---|
| `rate` | requests per second per (app key, api-id); 0 = unlimited | 5 |
| `global_rate` | requests per second over all keys and api-ids; 0 = unlimited | 20 |
| `token_ttl` | lifetime of newly issued tokens, seconds | 86400 |
| `ws_drop` | drop every WebSocket connection every N seconds (no close frame); 0 = off | 0 |
| `delay_ms` | delay every REST reply by this many milliseconds (after processing), errors and rejections included | 0 |
| `order_delay_ms` | extra delay for order replies (kt10000–kt10003) only, rejections included | 0 |
| `error_rate` | share of REST requests answered with a 5xx before processing | 0 |
| `nonjson_rate` | share of REST requests answered 200 with an HTML maintenance page | 0 |
| `ghost_rate` | share of order requests that are processed but answered with a 500 | 0 |
| `ws_login_preamble` | 1 = a PING and a SYSTEM notice go out before each LOGIN reply (the real server may do this, §8.1) | 0 |

Why `global_rate` is 20 and not 5: kiwoom-api.md §4.3 gives queries and orders separate 5/s
budgets and recommends a bucket per api-id plus a global one whose size it does not name. A
client pacing queries and orders at 5/s each (the terminal does) sends 10/s; a global bucket
of 5 would answer that with 1701 in normal use. `global_rate=5` gives the strict reading.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass
class Faults:
    rate: float = 5.0
    global_rate: float = 20.0
    token_ttl: float = 86_400.0
    ws_drop: float = 0.0
    delay_ms: float = 0.0
    order_delay_ms: float = 0.0
    error_rate: float = 0.0
    nonjson_rate: float = 0.0
    ghost_rate: float = 0.0
    ws_login_preamble: float = 0.0  # a switch: 0 off, anything else on

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    def update(self, values: Mapping[str, object]) -> None:
        """Set fields from a mapping; raises ValueError naming a bad key or value."""
        names = {f.name for f in dataclasses.fields(self)}
        parsed: dict[str, float] = {}
        for key, raw in values.items():
            if key not in names:
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(sorted(names))}")
            try:
                value = float(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ValueError(f"fault {key}: {raw!r} is not a number") from None
            if value < 0:
                raise ValueError(f"fault {key}: must be >= 0")
            if key.endswith("_rate") and key != "global_rate" and value > 1:
                raise ValueError(f"fault {key}: a share between 0 and 1")
            parsed[key] = value
        for key, value in parsed.items():
            setattr(self, key, value)


def parse_spec(spec: str) -> dict[str, str]:
    """`"ws_drop=5,rate=2"` -> {"ws_drop": "5", "rate": "2"}; raises ValueError."""
    out: dict[str, str] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"fault spec item {part!r} is not name=value")
        out[name.strip()] = value.strip()
    return out
