"""Candle anomalies against trailing baselines (the current candle is never in its own baseline).

- Volume spike: robust z-score ``(v - median) / (1.4826 * MAD)`` of the candle's volume against
  the median and median absolute deviation of the previous ``window`` volumes.
- Price gap: ``|open - previous close| > k * ATR`` with the ATR of the previous candle.
- Range expansion: the candle's true range divided by the median true range of the previous
  ``window`` candles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

#: Scale making the MAD a consistent estimator of the standard deviation for normal data.
MAD_SCALE = 1.4826

_CHUNK = 8192


def _window_median(block: np.ndarray) -> np.ndarray:
    """Exact median of each row of ``block`` (partitions ``block`` in place)."""
    w = block.shape[1]
    k = w // 2
    if w % 2:
        block.partition(k, axis=1)
        return block[:, k].copy()
    block.partition(k, axis=1)
    # Everything left of position k is <= block[:, k]; the lower middle is their maximum.
    return (block[:, :k].max(axis=1) + block[:, k]) / 2.0


def trailing_median_mad(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Median and MAD of ``values[t - window : t]`` for every ``t`` (NaN for ``t < window``).

    The value at ``t`` itself is excluded. Windows are processed in chunks with
    ``np.partition`` (exact order statistics, no per-candle Python loop). A window containing
    NaN gives NaN.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    median = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    if n <= window:
        return median, mad
    windows = sliding_window_view(values[:-1], window)  # row j covers values[j : j + window]
    nan_seen = np.concatenate([[0], np.cumsum(np.isnan(values[:-1]))])
    has_nan = (nan_seen[window:] - nan_seen[:-window]) > 0  # per window row
    for s in range(0, len(windows), _CHUNK):
        block = np.array(windows[s : s + _CHUNK])
        bad = has_nan[s : s + len(block)]
        med = _window_median(block)
        np.subtract(block, med[:, None], out=block)
        np.abs(block, out=block)
        dev = _window_median(block)
        med[bad] = np.nan
        dev[bad] = np.nan
        median[window + s : window + s + len(med)] = med
        mad[window + s : window + s + len(dev)] = dev
    return median, mad


def volume_zscore(volume: np.ndarray, window: int) -> np.ndarray:
    """Robust z-score of each volume against the previous ``window`` volumes.

    NaN while the baseline is incomplete or when its MAD is zero.
    """
    median, mad = trailing_median_mad(volume, window)
    scale = MAD_SCALE * mad
    z = np.full(len(median), np.nan)
    ok = scale > 0
    z[ok] = (np.asarray(volume, dtype=np.float64)[ok] - median[ok]) / scale[ok]
    return z


def gap_in_atr(open_: np.ndarray, close: np.ndarray, atr: np.ndarray) -> np.ndarray:
    """Signed gap ``(open - previous close) / ATR(previous candle)``; NaN on the first candle."""
    out = np.full(len(open_), np.nan)
    if len(open_) > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[1:] = (open_[1:] - close[:-1]) / atr[:-1]
        out[1:][~(atr[:-1] > 0)] = np.nan
    return out


def range_ratio(true_range: np.ndarray, window: int) -> np.ndarray:
    """True range over the median true range of the previous ``window`` candles."""
    baseline = pd.Series(true_range).rolling(window, min_periods=window).median().to_numpy()
    out = np.full(len(true_range), np.nan)
    if len(true_range) > 1:
        prev = baseline[:-1]
        ok = prev > 0
        out[1:][ok] = true_range[1:][ok] / prev[ok]
    return out


def anomaly_columns(
    open_: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    true_range: np.ndarray,
    atr: np.ndarray,
    *,
    volume_window: int,
    volume_z_threshold: float,
    gap_atr: float,
    range_window: int,
    range_ratio_threshold: float,
) -> dict[str, np.ndarray]:
    """All anomaly columns: flags as int64 (gap signed), measures as float64."""
    z = volume_zscore(volume, volume_window)
    gap = gap_in_atr(open_, close, atr)
    ratio = range_ratio(true_range, range_window)
    return {
        "anomaly_volume_spike": (z >= volume_z_threshold).astype(np.int64),
        "anomaly_volume_z": z,
        "anomaly_gap": np.where(np.abs(gap) > gap_atr, np.sign(gap), 0).astype(np.int64),
        "anomaly_gap_atr": gap,
        "anomaly_range_expansion": (ratio >= range_ratio_threshold).astype(np.int64),
        "anomaly_range_ratio": ratio,
    }
