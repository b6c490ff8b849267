"""All pattern, swing, anomaly and candlestick columns of a candle frame, from the settings.

:func:`compute_pattern_columns` is the pure function behind the plugin's ``add_indicators``:
it reads ``open, high, low, close, volume`` and returns a new frame (same index) of new
columns only. Every value is known at its candle's close: computing on the first ``t``
candles gives exactly the values of the full run on those candles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib

from plugins.patterns.anomalies import anomaly_columns
from plugins.patterns.breakout import resolve
from plugins.patterns.candlesticks import candlestick_columns
from plugins.patterns.chart import PATTERN_RULES, PatternContext, tail_length
from plugins.patterns.columns import level_column, pattern_column
from plugins.patterns.settings import PatternSettings
from plugins.patterns.swings import (
    Swings,
    alternating_tails,
    directional_change_swings,
    fractal_swings,
    swing_columns,
)

REQUIRED_COLUMNS = ("open", "high", "low", "close", "volume")


def ohlcv_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Float64 arrays of ``open, high, low, close, volume`` (``ValueError`` if one is absent)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"candle frame lacks column(s) {missing}; needs {list(REQUIRED_COLUMNS)}")
    return {c: np.ascontiguousarray(frame[c].to_numpy(dtype=np.float64)) for c in REQUIRED_COLUMNS}


def find_swings(data: dict[str, np.ndarray], settings: PatternSettings) -> Swings:
    """Swing points by the configured method."""
    cfg = settings.swings
    args = (data["open"], data["high"], data["low"], data["close"])
    if cfg.method == "fractal":
        return fractal_swings(*args, cfg.fractal_bars)
    return directional_change_swings(*args, cfg.dc_threshold)


def chart_pattern_columns(
    data: dict[str, np.ndarray], swings: Swings, atr: np.ndarray, settings: PatternSettings
) -> dict[str, np.ndarray]:
    """Signal and level columns of every enabled chart pattern."""
    n = len(data["close"])
    chart = settings.chart
    tails = alternating_tails(swings, tail_length(chart), n)
    ctx = PatternContext(tails=tails, atr=atr[tails.confirm], n=n, settings=chart)
    out: dict[str, np.ndarray] = {}
    for name in chart.patterns:
        signals = resolve(data["close"], PATTERN_RULES[name](ctx))
        out[pattern_column(name)] = signals.direction
        out[level_column(name, "neckline")] = signals.neckline
        out[level_column(name, "target")] = signals.target
        out[level_column(name, "invalidation")] = signals.invalidation
    return out


def configured_anomaly_columns(
    data: dict[str, np.ndarray],
    true_range: np.ndarray,
    atr: np.ndarray,
    settings: PatternSettings,
) -> dict[str, np.ndarray]:
    """The anomaly columns of ``data`` with the windows and thresholds in ``settings``."""
    an = settings.anomalies
    return anomaly_columns(
        data["open"],
        data["close"],
        data["volume"],
        true_range,
        atr,
        volume_window=an.volume_window,
        volume_z_threshold=an.volume_z_threshold,
        gap_atr=an.gap_atr,
        range_window=an.range_window,
        range_ratio_threshold=an.range_ratio,
    )


def compute_pattern_columns(
    frame: pd.DataFrame, settings: PatternSettings | None = None
) -> pd.DataFrame:
    """Swing, chart-pattern, anomaly and candlestick columns of ``frame`` (not modified).

    Raises ``ValueError`` naming the missing columns if ``frame`` lacks OHLCV.
    """
    settings = settings if settings is not None else PatternSettings()
    data = ohlcv_arrays(frame)
    n = len(data["close"])
    atr = talib.ATR(data["high"], data["low"], data["close"], timeperiod=settings.atr_period)
    true_range = talib.TRANGE(data["high"], data["low"], data["close"])
    swings = find_swings(data, settings)
    columns: dict[str, np.ndarray] = {}
    columns.update(swing_columns(swings, n))
    columns.update(chart_pattern_columns(data, swings, atr, settings))
    columns.update(configured_anomaly_columns(data, true_range, atr, settings))
    columns.update(
        candlestick_columns(
            settings.candlesticks, data["open"], data["high"], data["low"], data["close"]
        )
    )
    return pd.DataFrame(columns, index=frame.index)
