"""Swing points: confirmed only by later candles, marked on the confirming candle, never revised.

Paths are SYNTHETIC (built by tests/test_patterns_synthetic.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from plugins.patterns.swings import (
    HIGH,
    LOW,
    Swings,
    alternating_tails,
    directional_change_swings,
    fractal_swings,
    swing_columns,
)
from tests.test_patterns_synthetic import WICK, path_candles

PATH = [(0, 100.0), (10, 90.0), (25, 110.0), (40, 95.0), (50, 105.0), (70, 80.0)]


def arrays(frame):
    return tuple(frame[c].to_numpy() for c in ("open", "high", "low", "close"))


@pytest.mark.parametrize("k", [1, 3, 5])
def test_fractal_swings_are_confirmed_k_candles_after_the_pivot(k: int) -> None:
    frame = path_candles(PATH)
    sw = fractal_swings(*arrays(frame), k)
    assert list(sw.pivot) == [10, 25, 40, 50]
    assert list(sw.confirm) == [10 + k, 25 + k, 40 + k, 50 + k]
    assert list(sw.kind) == [LOW, HIGH, LOW, HIGH]
    assert sw.price == pytest.approx([90 - WICK, 110 + WICK, 95 - WICK, 105 + WICK])


def test_equal_highs_give_one_swing_at_the_first() -> None:
    high = np.array([1.0, 2.0, 3.0, 5.0, 5.0, 5.0, 3.0, 2.0, 1.0, 0.5])
    low = high - 1.0
    sw = fractal_swings(high, high, low, high, 2)
    highs = sw.pivot[sw.kind == HIGH]
    assert list(highs) == [3]


def test_swing_columns_mark_the_confirming_candle_with_price_and_age() -> None:
    frame = path_candles(PATH)
    sw = fractal_swings(*arrays(frame), 5)
    cols = swing_columns(sw, len(frame))
    high = cols["swing_high"]
    assert list(np.flatnonzero(~np.isnan(high))) == [30, 55]
    assert high[30] == pytest.approx(110 + WICK)
    assert cols["swing_high_age"][30] == 5
    assert np.isnan(cols["swing_high_age"][25])
    last = cols["swing_last_high"]
    assert np.isnan(last[29])
    assert last[30:55] == pytest.approx(np.full(25, 110 + WICK))
    assert last[55:] == pytest.approx(np.full(len(frame) - 55, 105 + WICK))
    assert list(np.flatnonzero(~np.isnan(cols["swing_low"]))) == [15, 45]


def test_fractal_swing_is_not_known_before_its_confirmation() -> None:
    frame = path_candles(PATH)
    for end in (29, 30):
        sw = fractal_swings(*arrays(frame.iloc[: end + 1]), 5)
        assert (25 in sw.pivot) == (end >= 30)


def test_directional_change_confirms_on_the_reversal_candle() -> None:
    frame = path_candles(PATH)
    o, h, low, c = arrays(frame)
    sw = directional_change_swings(o, h, low, c, 0.05)
    # The up leg from 90 peaks at 110.1 (bar 25); its first low at or below 110.1 * 0.95 =
    # 104.595 confirms it: lows fall 1 per bar from 110 - 0.1, so bar 31 (low 103.9).
    assert list(sw.pivot) == [0, 10, 25, 40, 50]  # the path opens on a 10 % fall from bar 0
    assert list(sw.kind) == [HIGH, LOW, HIGH, LOW, HIGH]
    assert sw.price == pytest.approx([100 + WICK, 90 - WICK, 110 + WICK, 95 - WICK, 105 + WICK])
    confirm_25 = int(sw.confirm[2])
    assert confirm_25 == 31
    assert low[31] <= h[25] * 0.95 < low[30]
    # The low at bar 40 is confirmed by the first high at or above 94.9 * 1.05.
    assert h[int(sw.confirm[3])] >= low[40] * 1.05 > h[int(sw.confirm[3]) - 1]


def test_directional_change_on_one_candle_matches_longer_frames() -> None:
    """A first candle whose own range spans the threshold confirms its high on itself.

    SYNTHETIC candles. A one-candle frame once returned no swing at all, while every longer
    frame put the swing on candle 0: the value of candle 0 changed when candle 1 arrived.
    """
    o = np.array([100.0, 99.2, 99.5])
    h = np.array([101.0, 99.6, 99.9])
    low = np.array([99.0, 98.8, 99.1])
    c = np.array([99.3, 99.4, 99.7])
    longer = directional_change_swings(o, h, low, c, 0.004)
    assert list(longer.confirm[:1]) == [0] and list(longer.pivot[:1]) == [0]
    one = directional_change_swings(o[:1], h[:1], low[:1], c[:1], 0.004)
    assert list(one.confirm) == [0] and list(one.kind) == [longer.kind[0]]
    assert one.price == pytest.approx(longer.price[:1])


def test_directional_change_small_moves_are_ignored() -> None:
    frame = path_candles([(0, 100.0), (10, 101.0), (20, 100.0), (30, 101.0)])
    sw = directional_change_swings(*arrays(frame), 0.05)
    assert len(sw) == 0


def test_bad_swing_parameters_raise() -> None:
    frame = path_candles(PATH)
    with pytest.raises(ValueError, match="bars"):
        fractal_swings(*arrays(frame), 0)
    with pytest.raises(ValueError, match="threshold"):
        directional_change_swings(*arrays(frame), 1.5)


def _swings(rows: list[tuple[int, int, float, int]]) -> Swings:
    pivot, confirm, price, kind = (np.array(x) for x in zip(*rows, strict=True))
    return Swings(pivot, confirm, price.astype(float), kind)


def test_alternating_tails_fold_same_kind_swings() -> None:
    sw = _swings(
        [
            (0, 2, 10.0, HIGH),
            (3, 5, 5.0, LOW),
            (6, 8, 9.0, HIGH),
            (9, 11, 12.0, HIGH),  # higher high replaces 9.0
            (12, 14, 11.0, HIGH),  # lower high is dropped
            (15, 17, 4.0, LOW),
        ]
    )
    tails = alternating_tails(sw, 3, 30)
    assert list(tails.confirm) == [2, 5, 8, 11, 17]
    assert list(tails.kind) == [HIGH, LOW, HIGH, HIGH, LOW]
    np.testing.assert_array_equal(tails.price[2], [10.0, 5.0, 9.0])
    np.testing.assert_array_equal(tails.price[3], [10.0, 5.0, 12.0])
    np.testing.assert_array_equal(tails.price[4], [5.0, 12.0, 4.0])
    np.testing.assert_array_equal(tails.pivot[4], [3.0, 9.0, 15.0])
    assert np.isnan(tails.price[0, :2]).all()
    assert list(tails.next_any) == [5, 8, 11, 17, 30]
    assert list(tails.next_same) == [8, 17, 11, 30, 30]
