"""Planted chart patterns on SYNTHETIC candle paths (see tests/test_patterns_synthetic.py).

Each test builds a path with one known instance, checks the detection lands on the candle whose
close confirms the breakout with the documented neckline, target and invalidation, and that
near-misses (outside a tolerance, no breakout close) are not detected. Default settings unless
a test says otherwise: fractal swings with 5 bars each side, so a waypoint peak at bar ``p`` is
a swing at ``price + WICK`` confirmed at ``p + 5``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from plugins.patterns import PatternSettings, compute_pattern_columns
from tests.test_patterns_synthetic import WICK, mirrored, path_candles

K = 5  # default fractal bars

DOUBLE_TOP = [(0, 100.0), (20, 90.0), (35, 105.0), (50, 95.0), (65, 105.5), (100, 80.0)]
HEAD_SHOULDERS = [
    (0, 100.0),
    (15, 92.0),
    (30, 104.0),
    (45, 96.0),
    (60, 110.0),
    (75, 96.5),
    (90, 104.5),
    (130, 80.0),
]
ASCENDING = [
    (0, 100.0),
    (10, 95.0),
    (25, 110.0),
    (40, 100.0),
    (55, 110.0),
    (70, 104.0),
    (85, 110.0),
    (91, 107.5),
    (97, 119.5),
]
SYMMETRICAL = [
    (0, 100.0),
    (10, 90.0),
    (25, 115.0),
    (40, 95.0),
    (55, 111.0),
    (70, 99.0),
    (85, 107.0),
    (91, 104.0),
    (97, 116.0),
]
RISING_WEDGE = [
    (0, 100.0),
    (10, 80.0),
    (25, 110.0),
    (40, 100.0),
    (55, 114.0),
    (70, 108.0),
    (85, 118.0),
    (120, 90.0),
]
BULL_FLAG = [
    (0, 104.0),
    (20, 100.0),
    (30, 120.0),
    (39, 114.0),
    (48, 118.0),
    (57, 112.0),
    (75, 122.0),
]
BULL_PENNANT = [
    (0, 104.0),
    (20, 100.0),
    (30, 120.0),
    (39, 113.0),
    (48, 118.5),
    (57, 114.5),
    (75, 124.0),
]
RESISTANCE = [
    (0, 100.0),
    (10, 95.0),
    (25, 110.0),
    (40, 100.0),
    (55, 110.2),
    (70, 103.0),
    (85, 115.0),
]


def run(frame: pd.DataFrame, **chart: object) -> pd.DataFrame:
    settings = PatternSettings.model_validate({"chart": chart}) if chart else PatternSettings()
    return compute_pattern_columns(frame, settings)


def signals(out: pd.DataFrame, name: str) -> list[tuple[int, int]]:
    col = out[f"pattern_{name}"].to_numpy()
    return [(int(t), int(col[t])) for t in np.flatnonzero(col)]


def levels(out: pd.DataFrame, name: str, t: int) -> tuple[float, float, float]:
    row = out.iloc[t]
    c = f"pattern_{name}"
    return (row[f"{c}_neckline"], row[f"{c}_target"], row[f"{c}_invalidation"])


def first_close_beyond(frame: pd.DataFrame, start: int, line, direction: int) -> int:
    """First bar >= start whose close is beyond ``line(t)`` (the test's own reading of the rule)."""
    close = frame["close"].to_numpy()
    for t in range(start, len(close)):
        if direction * (close[t] - line(t)) > 0:
            return t
    raise AssertionError("path never breaks out")


def assert_only_at(out: pd.DataFrame, frame: pd.DataFrame, name: str, t: int, direction: int):
    assert signals(out, name) == [(t, direction)]
    # Uses only candles up to t: the same signal on the prefix ending at t, none before.
    settings_free = compute_pattern_columns(frame.iloc[: t + 1])
    assert signals(settings_free, name) == [(t, direction)]
    assert signals(compute_pattern_columns(frame.iloc[:t]), name) == []


# --- double top / bottom -------------------------------------------------------------------


def test_double_top_confirmed_on_first_close_below_trough() -> None:
    frame = path_candles(DOUBLE_TOP)
    out = run(frame)
    h1, trough, h2 = 105.0 + WICK, 95.0 - WICK, 105.5 + WICK
    height = (h1 + h2) / 2 - trough
    t = first_close_beyond(frame, 65 + K, lambda _t: trough, -1)
    assert t == 80  # close(80) = 105.5 - 15 * 25/35 = 94.79 < 94.9; close(79) = 95.5
    assert_only_at(out, frame, "double_top", t, -1)
    assert levels(out, "double_top", t) == pytest.approx((trough, trough - height, h2))
    assert signals(out, "double_bottom") == []


def test_double_bottom_is_the_mirror_image() -> None:
    frame = path_candles(mirrored(DOUBLE_TOP))
    out = run(frame)
    l1, peak, l2 = 95.0 - WICK, 105.0 + WICK, 94.5 - WICK  # mirrored: 200 - 105, ...
    height = peak - (l1 + l2) / 2
    assert_only_at(out, frame, "double_bottom", 80, 1)
    assert levels(out, "double_bottom", 80) == pytest.approx((peak, peak + height, l2))


def test_double_top_second_peak_outside_tolerance_is_not_detected() -> None:
    path = list(DOUBLE_TOP)
    path[4] = (65, 108.0)  # peaks 105.1 and 108.1 differ by 3.0 > 0.15 * height (~11.7)
    frame = path_candles(path)
    assert signals(run(frame), "double_top") == []
    assert len(signals(run(frame, level_tolerance=0.3), "double_top")) == 1


def test_double_top_wick_through_neckline_without_close_is_not_detected() -> None:
    path = [*DOUBLE_TOP[:5], (78, 95.3), (95, 104.0)]
    frame = path_candles(path, low_overrides={78: 94.0})  # wick to 94.0, close 95.3 > 94.9
    assert frame["low"].min() < 95.0 - WICK
    assert signals(run(frame), "double_top") == []


def test_double_top_min_height_is_a_sharp_threshold() -> None:
    frame = path_candles(DOUBLE_TOP)
    atr = talib.ATR(frame["high"], frame["low"], frame["close"], timeperiod=14).to_numpy()
    height = (105.1 + 105.6) / 2 - 94.9
    ratio = height / atr[65 + K]  # ATR on the candle confirming the second peak
    assert signals(run(frame, min_height_atr=ratio * 0.999), "double_top") == [(80, -1)]
    assert signals(run(frame, min_height_atr=ratio * 1.001), "double_top") == []


def test_double_top_invalidated_by_close_above_peaks_first() -> None:
    # After the second peak price closes above both peaks before falling through the trough.
    path = [*DOUBLE_TOP[:5], (71, 103.0), (74, 106.5), (110, 80.0)]
    out = run(path_candles(path))
    assert signals(out, "double_top") == []


# --- head and shoulders --------------------------------------------------------------------


def _hs_neck(t: float) -> float:
    t1, t2 = 96.0 - WICK, 96.5 - WICK
    return t1 + (t2 - t1) * (t - 45) / (75 - 45)


def test_head_and_shoulders_confirmed_on_close_below_sloped_neckline() -> None:
    frame = path_candles(HEAD_SHOULDERS)
    out = run(frame)
    height = (110.0 + WICK) - _hs_neck(60)
    t = first_close_beyond(frame, 90 + K, _hs_neck, -1)
    assert t == 103
    assert_only_at(out, frame, "head_shoulders", t, -1)
    assert levels(out, "head_shoulders", t) == pytest.approx(
        (_hs_neck(t), _hs_neck(t) - height, 104.5 + WICK)
    )


def test_inverse_head_and_shoulders_is_the_mirror_image() -> None:
    frame = path_candles(mirrored(HEAD_SHOULDERS))
    out = run(frame)
    assert_only_at(out, frame, "inverse_head_shoulders", 103, 1)
    neck = 200.0 - _hs_neck(103)
    height = (200.0 - _hs_neck(60)) - (90.0 - WICK)
    assert levels(out, "inverse_head_shoulders", 103) == pytest.approx(
        (neck, neck + height, 95.5 - WICK)
    )


def test_head_and_shoulders_left_shoulder_above_head_is_not_detected() -> None:
    path = list(HEAD_SHOULDERS)
    path[2] = (30, 111.0)
    assert signals(run(path_candles(path)), "head_shoulders") == []


@pytest.mark.parametrize(
    ("change", "relaxed"),
    [
        # right shoulder 3 above the left: outside 0.15 * height (~14)
        ({6: (90, 107.5)}, {"level_tolerance": 0.3}),
        # left shoulder 10 bars before the head, right shoulder 30 after: ratio 3 > 2.5
        ({2: (50, 104.0), 3: (55, 96.0)}, {"hs_max_asymmetry": 3.5}),
        # troughs 4 apart: outside 0.3 * height (~12.2); the decline is made slower so the
        # relaxed version's steeper neckline is crossed after the right shoulder is confirmed
        ({5: (75, 100.0), 7: (130, 90.0)}, {"neckline_tolerance": 0.5}),
    ],
)
def test_head_and_shoulders_near_misses(
    change: dict[int, tuple[int, float]], relaxed: dict[str, float]
) -> None:
    path = list(HEAD_SHOULDERS)
    for i, point in change.items():
        path[i] = point
    frame = path_candles(path)
    assert signals(run(frame), "head_shoulders") == []
    # The same path is a head and shoulders once the one broken tolerance is relaxed.
    assert len(signals(run(frame, **relaxed), "head_shoulders")) == 1


# --- triangles -----------------------------------------------------------------------------


def test_ascending_triangle_breaks_out_upwards() -> None:
    frame = path_candles(ASCENDING)
    out = run(frame)
    top = 110.0 + WICK
    l1, l2 = 100.0 - WICK, 104.0 - WICK

    def lower(t: float) -> float:
        return l1 + (l2 - l1) * (t - 40) / 30

    height0 = top - lower(25)  # at the first pivot
    t = first_close_beyond(frame, 85 + K, lambda _t: top, 1)
    assert t == 93
    assert_only_at(out, frame, "triangle_ascending", t, 1)
    assert levels(out, "triangle_ascending", t) == pytest.approx((top, top + height0, lower(t)))
    assert signals(out, "triangle_symmetrical") == []
    assert signals(out, "triangle_descending") == []


def test_descending_triangle_breaks_down() -> None:
    frame = path_candles(mirrored(ASCENDING))
    out = run(frame)
    assert_only_at(out, frame, "triangle_descending", 93, -1)
    assert signals(out, "triangle_ascending") == []


def test_symmetrical_triangle_breaks_out_upwards() -> None:
    frame = path_candles(SYMMETRICAL)
    out = run(frame)
    h1, h3 = 115.0 + WICK, 107.0 + WICK
    l1, l2 = 95.0 - WICK, 99.0 - WICK

    def upper(t: float) -> float:
        return h1 + (h3 - h1) * (t - 25) / 60

    def lower(t: float) -> float:
        return l1 + (l2 - l1) * (t - 40) / 30

    t = first_close_beyond(frame, 85 + K, upper, 1)
    assert t == 93
    assert_only_at(out, frame, "triangle_symmetrical", t, 1)
    height0 = upper(25) - lower(25)
    assert levels(out, "triangle_symmetrical", t) == pytest.approx(
        (upper(t), upper(t) + height0, lower(t))
    )


def test_triangle_middle_touch_off_the_line_is_not_detected() -> None:
    path = list(ASCENDING)
    path[4] = (55, 107.0)  # middle high 3 below the flat top: > 0.15 * height0 (~12)
    frame = path_candles(path)
    assert signals(run(frame), "triangle_ascending") == []
    assert len(signals(run(frame, level_tolerance=0.3), "triangle_ascending")) == 1


def test_triangle_without_breakout_close_is_not_detected() -> None:
    path = [*ASCENDING[:8], (100, 109.5)]  # creeps up to just below the top line
    out = run(path_candles(path))
    assert signals(out, "triangle_ascending") == []


# --- wedges --------------------------------------------------------------------------------


def _wedge_lines() -> tuple:
    h1, h3 = 110.0 + WICK, 118.0 + WICK
    l1, l2 = 100.0 - WICK, 108.0 - WICK

    def upper(t: float) -> float:
        return h1 + (h3 - h1) * (t - 25) / 60

    def lower(t: float) -> float:
        return l1 + (l2 - l1) * (t - 40) / 30

    return upper, lower


def test_rising_wedge_breaks_down_with_target_at_its_start() -> None:
    frame = path_candles(RISING_WEDGE)
    out = run(frame)
    upper, lower = _wedge_lines()
    t = first_close_beyond(frame, 85 + K, lower, -1)
    assert t == 91  # close(91) = 113.2 < lower(91) = 113.5; close(90) = 114.0 > 113.23
    assert_only_at(out, frame, "wedge_rising", t, -1)
    assert levels(out, "wedge_rising", t) == pytest.approx((lower(t), lower(25), upper(t)))


def test_falling_wedge_is_the_mirror_image() -> None:
    frame = path_candles(mirrored(RISING_WEDGE))
    out = run(frame)
    upper, lower = _wedge_lines()
    assert_only_at(out, frame, "wedge_falling", 91, 1)
    assert levels(out, "wedge_falling", 91) == pytest.approx(
        (200 - lower(91), 200 - lower(25), 200 - upper(91))
    )


def test_parallel_rising_channel_is_not_a_wedge() -> None:
    path = list(RISING_WEDGE)
    path[3], path[5] = (40, 102.0), (70, 106.0)  # lows rise as fast as highs: no convergence
    assert signals(run(path_candles(path)), "wedge_rising") == []


# --- flags and pennants --------------------------------------------------------------------


def test_bull_flag_breaks_out_with_pole_target() -> None:
    frame = path_candles(BULL_FLAG)
    out = run(frame)
    top1, top2 = 120.0 + WICK, 118.0 + WICK
    low1, low2 = 114.0 - WICK, 112.0 - WICK
    pole = top1 - (100.0 - WICK)

    def upper(t: float) -> float:
        return top1 + (top2 - top1) * (t - 30) / 18

    def lower(t: float) -> float:
        return low1 + (low2 - low1) * (t - 39) / 18

    t = first_close_beyond(frame, 57 + K, upper, 1)
    assert t == 65
    assert_only_at(out, frame, "flag", t, 1)
    assert levels(out, "flag", t) == pytest.approx((upper(t), upper(t) + pole, lower(t)))
    assert signals(out, "pennant") == []


def test_bear_flag_is_the_mirror_image() -> None:
    frame = path_candles(mirrored(BULL_FLAG))
    out = run(frame)
    assert_only_at(out, frame, "flag", 65, -1)


def test_bull_pennant_breaks_out() -> None:
    frame = path_candles(BULL_PENNANT)
    out = run(frame)
    top1, top2 = 120.0 + WICK, 118.5 + WICK
    low1, low2 = 113.0 - WICK, 114.5 - WICK
    pole = top1 - (100.0 - WICK)

    def upper(t: float) -> float:
        return top1 + (top2 - top1) * (t - 30) / 18

    def lower(t: float) -> float:
        return low1 + (low2 - low1) * (t - 39) / 18

    t = first_close_beyond(frame, 57 + K, upper, 1)
    assert_only_at(out, frame, "pennant", t, 1)
    assert levels(out, "pennant", t) == pytest.approx((upper(t), upper(t) + pole, lower(t)))
    assert signals(out, "flag") == []


def test_flag_with_weak_pole_or_deep_retrace_is_not_detected() -> None:
    frame = path_candles(BULL_FLAG)
    assert signals(run(frame, pole_min_atr=100.0), "flag") == []
    # A parallel channel falling 6 per high and low: retraces 18.2 of the 20.2 pole.
    deep = [*BULL_FLAG[:3], (39, 108.0), (48, 114.0), (57, 102.0), (75, 112.0)]
    assert signals(run(path_candles(deep)), "flag") == []
    assert len(signals(run(path_candles(deep), flag_max_retrace=0.95), "flag")) == 1


# --- support / resistance ------------------------------------------------------------------


def test_resistance_breakout_after_two_touches() -> None:
    frame = path_candles(RESISTANCE)
    out = run(frame)
    level, floor = 110.2 + WICK, 100.0 - WICK
    t = first_close_beyond(frame, 55 + K, lambda _t: level, 1)
    assert t == 80
    assert_only_at(out, frame, "breakout_resistance", t, 1)
    assert levels(out, "breakout_resistance", t) == pytest.approx(
        (level, level + (level - floor), floor)
    )


def test_support_breakdown_is_the_mirror_image() -> None:
    frame = path_candles(mirrored(RESISTANCE))
    out = run(frame)
    assert_only_at(out, frame, "breakout_support", 80, -1)
    level, ceiling = 200 - 110.2 - WICK, 200 - 100.0 + WICK
    assert levels(out, "breakout_support", 80) == pytest.approx(
        (level, level - (ceiling - level), ceiling)
    )


def test_resistance_touch_outside_tolerance_is_not_detected() -> None:
    path = list(RESISTANCE)
    path[4] = (55, 112.0)  # 1.9 above the first touch: more than 0.5 ATR (~0.5)
    assert signals(run(path_candles(path)), "breakout_resistance") == []
    assert len(signals(run(path_candles(path), sr_tolerance_atr=3.0), "breakout_resistance")) == 1
    assert signals(run(path_candles(RESISTANCE), sr_min_touches=3), "breakout_resistance") == []


# --- settings ------------------------------------------------------------------------------


def test_only_selected_patterns_are_computed() -> None:
    out = run(path_candles(DOUBLE_TOP), patterns=["double_top"])
    pattern_cols = [c for c in out.columns if c.startswith("pattern_")]
    assert pattern_cols == [
        "pattern_double_top",
        "pattern_double_top_neckline",
        "pattern_double_top_target",
        "pattern_double_top_invalidation",
    ]


def test_breakout_margin_delays_the_signal() -> None:
    frame = path_candles(DOUBLE_TOP)
    atr = talib.ATR(frame["high"], frame["low"], frame["close"], timeperiod=14).to_numpy()
    margin = 0.5 * atr[65 + K]
    t = first_close_beyond(frame, 65 + K, lambda _t: 95.0 - WICK - margin, -1)
    assert t > 80
    assert signals(run(frame, breakout_margin_atr=0.5), "double_top") == [(t, -1)]


def test_directional_change_swings_find_the_same_double_top() -> None:
    frame = path_candles(DOUBLE_TOP)
    settings = PatternSettings.model_validate(
        {"swings": {"method": "directional_change", "dc_threshold": 0.03}}
    )
    out = compute_pattern_columns(frame, settings)
    # With a 3 % threshold the second peak (105.6) is confirmed when a low reaches
    # 105.6 * 0.97 = 102.43, long before the close falls through the trough at 94.9.
    assert signals(out, "double_top") == [(80, -1)]
