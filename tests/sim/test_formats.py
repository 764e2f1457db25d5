"""Wire formatting helpers (kiwoom-api.md §1.3) and the vectorised grid (matches krx.py)."""

import numpy as np
import pytest

from kiwoom_terminal import krx
from kiwoom_terminal.sim import formats, grid


@pytest.mark.parametrize(
    ("price", "base", "text"),
    [
        (71_400, 71_000, "+71400"),
        (70_500, 71_000, "-70500"),
        (71_000, 71_000, "71000"),
        (0, 5, "0"),
    ],
)
def test_signed_price(price: int, base: int, text: str) -> None:
    assert formats.signed_price(price, base) == text


def test_signs_rates_and_padding() -> None:
    assert formats.signed(600) == "+600"
    assert formats.signed(-600) == "-600"
    assert formats.signed(0) == "0"
    assert formats.rate(0.5634) == "+0.56"
    assert formats.rate(-0.2449) == "-0.24"
    assert formats.rate(-0.001) == "0.00"
    assert formats.pad(17_598_258, 15) == "000000017598258"
    assert formats.pad(-196_888, 15) == "-00000000196888"
    assert formats.pad(70_000, 12) == "000000070000"
    assert formats.cnsr9(-130) == "-00000130"
    assert formats.cnsr9(75_000) == "000075000"
    assert formats.plain_rate(-52.7066) == "-52.71"


def test_vectorised_snap_matches_krx_rounding() -> None:
    prices = np.arange(1, 1_100_000, 37)
    for etf in (False, True):
        expected = [krx.round_to_tick(int(p), etf=etf) for p in prices]
        assert grid.snap(prices, etf=etf).tolist() == expected
