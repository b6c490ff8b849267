"""Prefix invariance on recorded BTC and ETH 5m candles (property-based).

For many cut points ``t``, every output column computed on the first ``t`` candles of a
segment equals the full-segment output on those candles, exactly (NaN == NaN). This is what
"no lookahead" means for the plugin: no value ever depends on a later candle.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.patterns import PATTERN_NAMES, PatternSettings, compute_pattern_columns
from tests.conftest import load_candles

SEGMENT = 12_000

VARIANTS: dict[str, tuple[str, str, dict]] = {
    # name: (pair, first candle of the segment, settings block); inside the embedded sample
    "btc_default": ("BTC_USDT", "2024-06-15", {}),
    "eth_default_all_candlesticks": (
        "ETH_USDT",
        "2024-06-25",
        {"candlesticks": sorted(talib.get_function_groups()["Pattern Recognition"])},
    ),
    "btc_directional_change": (
        "BTC_USDT",
        "2024-07-05",
        {
            "swings": {"method": "directional_change", "dc_threshold": 0.004},
            "chart": {"breakout_margin_atr": 0.1, "sr_lookback": 8, "min_height_atr": 1.0},
            "anomalies": {"volume_window": 31, "range_window": 17},
        },
    ),
}


@cache
def segment(variant: str) -> pd.DataFrame:
    pair, first, _ = VARIANTS[variant]
    end = pd.Timestamp(first, tz="UTC") + (SEGMENT - 1) * pd.Timedelta("5min")
    frame = load_candles(pair, "5m", first, str(end))
    return frame[frame["date"] >= pd.Timestamp(first, tz="UTC")].iloc[:SEGMENT]


@cache
def variant_settings(variant: str) -> PatternSettings:
    return PatternSettings.model_validate(VARIANTS[variant][2])


@cache
def full_run(variant: str) -> pd.DataFrame:
    return compute_pattern_columns(segment(variant), variant_settings(variant))


@cache
def event_rows(variant: str) -> tuple[int, ...]:
    """Candles where some pattern fired or a swing was confirmed (cut right around them)."""
    out = full_run(variant)
    fired = np.zeros(len(out), dtype=bool)
    for name in PATTERN_NAMES:
        fired |= out[f"pattern_{name}"].to_numpy() != 0
    fired |= out["swing_high"].notna().to_numpy()
    return tuple(int(i) for i in np.flatnonzero(fired))


def cut_points(variant: str) -> st.SearchStrategy[int]:
    near_events = st.tuples(st.sampled_from(event_rows(variant)), st.integers(-1, 2)).map(
        lambda pair: min(SEGMENT, max(1, pair[0] + pair[1]))
    )
    return st.one_of(st.integers(1, SEGMENT), near_events)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_segment_has_real_detections(variant: str) -> None:
    """The property below is not vacuous: the segments contain many signals."""
    out = full_run(variant)
    fired = [n for n in PATTERN_NAMES if (out[f"pattern_{n}"] != 0).any()]
    assert len(fired) >= 8, fired
    assert sum(int((out[f"pattern_{n}"] != 0).sum()) for n in PATTERN_NAMES) >= 50
    assert out["anomaly_volume_spike"].sum() > 0


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_prefix_invariance(variant: str) -> None:
    full = full_run(variant)
    seg = segment(variant)

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cut=cut_points(variant))
    def check(cut: int) -> None:
        prefix = compute_pattern_columns(seg.iloc[:cut], variant_settings(variant))
        pd.testing.assert_frame_equal(prefix, full.iloc[:cut], check_exact=True)

    check()


@pytest.mark.parametrize("method", ["fractal", "directional_change"])
def test_very_short_frames_give_every_column(method: str) -> None:
    """Frames shorter than any window (0 to 60 candles) still give the full set of columns."""
    seg = load_candles("BTC_USDT", "5m").iloc[:200]
    cfg = PatternSettings.model_validate({"swings": {"method": method}})
    full = compute_pattern_columns(seg, cfg)
    for n in (0, 1, 2, 5, 15, 49, 60):
        out = compute_pattern_columns(seg.iloc[:n], cfg)
        pd.testing.assert_frame_equal(out, full.iloc[:n], check_exact=True)


def test_missing_ohlcv_columns_are_named() -> None:
    seg = load_candles("BTC_USDT", "5m").iloc[:50]
    with pytest.raises(ValueError, match=r"\['high', 'low', 'volume'\]"):
        compute_pattern_columns(seg[["date", "open", "close"]])
