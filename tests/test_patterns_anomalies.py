"""Anomalies against trailing baselines: volume spikes, gaps, range expansion.

Series here are SYNTHETIC (seeded random volumes, hand-built candles) except where a test
says it uses the recorded BTC candles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from plugins.patterns import PatternSettings, compute_pattern_columns
from plugins.patterns.anomalies import MAD_SCALE, trailing_median_mad, volume_zscore
from tests.test_patterns_synthetic import path_candles


@pytest.mark.parametrize("window", [5, 6, 48])
def test_trailing_median_mad_matches_brute_force_and_excludes_current(window: int) -> None:
    rng = np.random.default_rng(7)
    v = rng.lognormal(3.0, 1.0, size=400)
    med, mad = trailing_median_mad(v, window)
    assert np.isnan(med[:window]).all() and np.isnan(mad[:window]).all()
    for t in range(window, len(v)):
        base = v[t - window : t]
        assert med[t] == np.median(base)
        assert mad[t] == np.median(np.abs(base - np.median(base)))


def test_volume_spike_is_scored_against_the_previous_candles_only() -> None:
    rng = np.random.default_rng(3)
    frame = path_candles([(0, 100.0), (199, 110.0)])
    volume = rng.uniform(90.0, 110.0, size=len(frame))
    volume[150] = 1000.0  # planted spike
    frame["volume"] = volume
    out = compute_pattern_columns(frame)
    base = volume[150 - 48 : 150]
    med = np.median(base)
    expected = (1000.0 - med) / (MAD_SCALE * np.median(np.abs(base - med)))
    assert out["anomaly_volume_z"].iloc[150] == pytest.approx(expected)
    assert list(np.flatnonzero(out["anomaly_volume_spike"].to_numpy())) == [150]
    # The spike barely moves the (robust) baseline of the next candles.
    assert abs(out["anomaly_volume_z"].iloc[151]) < 3


def test_volume_z_is_nan_without_a_full_baseline_or_spread() -> None:
    z = volume_zscore(np.array([5.0] * 60 + [50.0]), 48)
    assert np.isnan(z).all()  # MAD of a constant baseline is 0


def test_gap_is_measured_in_previous_atr() -> None:
    frame = path_candles([(0, 100.0), (60, 130.0), (120, 100.0)])
    frame.loc[80, "open"] = frame.loc[79, "close"] + 3.0  # planted gap up
    frame.loc[80, "high"] = max(frame.loc[80, "high"], frame.loc[80, "open"])
    frame.loc[100, "open"] = frame.loc[99, "close"] - 0.2  # small gap down (< 0.5 ATR)
    frame.loc[100, "low"] = min(frame.loc[100, "low"], frame.loc[100, "open"])
    out = compute_pattern_columns(frame)
    atr = talib.ATR(frame["high"], frame["low"], frame["close"], timeperiod=14).to_numpy()
    assert out["anomaly_gap_atr"].iloc[80] == pytest.approx(3.0 / atr[79])
    assert 3.0 / atr[79] > 0.5
    assert list(np.flatnonzero(out["anomaly_gap"].to_numpy())) == [80]
    assert out["anomaly_gap"].iloc[80] == 1
    assert out["anomaly_gap_atr"].iloc[100] == pytest.approx(-0.2 / atr[99])


def test_range_expansion_against_trailing_median_true_range() -> None:
    frame = path_candles([(0, 100.0), (120, 112.0)])
    frame.loc[90, "high"] = frame.loc[90, "close"] + 2.0  # planted wide candle
    out = compute_pattern_columns(frame)
    tr = talib.TRANGE(frame["high"], frame["low"], frame["close"]).to_numpy()
    ratio = tr[90] / np.median(tr[90 - 48 : 90])
    assert out["anomaly_range_ratio"].iloc[90] == pytest.approx(ratio)
    assert ratio >= 3.0
    assert list(np.flatnonzero(out["anomaly_range_expansion"].to_numpy())) == [90]


def test_anomaly_thresholds_come_from_settings(btc_5m: pd.DataFrame) -> None:
    """On recorded BTC candles a stricter threshold flags a subset of the spikes."""
    seg = btc_5m.iloc[:5000]
    loose = compute_pattern_columns(seg)
    strict = compute_pattern_columns(
        seg, PatternSettings.model_validate({"anomalies": {"volume_z_threshold": 12.0}})
    )
    a = loose["anomaly_volume_spike"].to_numpy().astype(bool)
    b = strict["anomaly_volume_spike"].to_numpy().astype(bool)
    assert b.sum() < a.sum()
    assert not (b & ~a).any()
    z = loose["anomaly_volume_z"].to_numpy()
    np.testing.assert_array_equal(b, z >= 12.0)
