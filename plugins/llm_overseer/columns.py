"""Per-candle overseer values precomputed as dataframe columns (backtests).

In a backtest the overseer looks at every candle of every pair. Its per-candle work is
dominated by the volatility ratio (rolling volatility of the last ``context_candles`` closes
over its median), which :func:`plugins.llm_overseer.context.vol_stats` computes from a window
of closes. Here the same value is computed for every row at once, in the plugin's
``add_indicators`` hook (once per pair and backtest), as the column
``overseer_vol_ratio_<context_candles>``; ``bot_loop`` then reads one cell instead of a price
column.

The column is causal and prefix-invariant: row ``t`` depends only on the closes of rows
``t - context_candles + 1 .. t`` (known at row ``t``'s close) and is NaN where that window is
incomplete or holds a missing or non-positive close (the overseer then computes the value
itself, cleaning the window as before). Each row repeats, element for element, the
arithmetic of the per-window code (log of the window, differences, running sums from the
window's start, rolling standard deviation, median), so the values are the same bits; a test
checks this on real candles.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from plugins.llm_overseer.context import VOL_WINDOW

#: Prefix of every column the overseer adds.
COLUMN_PREFIX = "overseer_"

#: Rows per block of the vectorised computation (bounds memory to a few MB).
_CHUNK = 512


def vol_ratio_column(context_candles: int) -> str:
    """Name of the precomputed volatility-ratio column for a window of ``context_candles``."""
    if context_candles < VOL_WINDOW + 2:
        raise ValueError(f"context_candles must be >= {VOL_WINDOW + 2}, got {context_candles!r}")
    return f"{COLUMN_PREFIX}vol_ratio_{context_candles}"


def vol_ratio_series(close: np.ndarray, context_candles: int) -> np.ndarray:
    """Volatility ratio of the window of ``context_candles`` closes ending at each row.

    Row ``t`` equals ``vol_stats(close[t - context_candles + 1 : t + 1])[2]`` bit for bit; rows
    without a complete window of finite, positive closes are NaN.
    """
    vol_ratio_column(context_candles)  # validates the window
    c = np.asarray(close, dtype=float)
    if c.ndim != 1:
        raise ValueError(f"close must be one-dimensional, got shape {c.shape}")
    n = len(c)
    out = np.full(n, np.nan)
    if n < context_candles:
        return out
    windows = sliding_window_view(c, context_candles)  # row r: closes r .. r + window - 1
    w = VOL_WINDOW
    with np.errstate(all="ignore"):  # windows with bad closes are discarded below
        for start in range(0, len(windows), _CHUNK):
            block = windows[start : start + _CHUNK]
            logret = np.diff(np.log(block), axis=1)
            zero = np.zeros((len(block), 1))
            c1 = np.cumsum(np.concatenate((zero, logret), axis=1), axis=1)
            c2 = np.cumsum(np.concatenate((zero, logret * logret), axis=1), axis=1)
            s1 = c1[:, w:] - c1[:, :-w]
            s2 = c2[:, w:] - c2[:, :-w]
            vols = np.sqrt(np.maximum(s2 / w - (s1 / w) ** 2, 0.0))
            recent = vols[:, -1]
            baseline = np.median(vols, axis=1)
            ratio = np.ones(len(block))
            np.divide(recent, baseline, out=ratio, where=baseline > 0)
            first_row = start + context_candles - 1
            out[first_row : first_row + len(block)] = ratio
    bad = ~(np.isfinite(c) & (c > 0))
    if bad.any():
        seen = np.concatenate(([0], np.cumsum(bad)))
        window_bad = seen[context_candles:] - seen[:-context_candles] > 0
        out[context_candles - 1 :][window_bad] = np.nan
    return out
