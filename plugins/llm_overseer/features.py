"""The overseer's market features as columns: vectorised, causal, computed once per frame.

Row ``t`` of every column describes the window of rows ``s .. t`` with
``s = max(0, t - context_candles + 1)``: the closed candles a decision at ``t``'s close may
look at. Nothing reads a row after ``t``, so a frame cut at any row gives the same values on
the rows it keeps (prefix invariance), and a frame starting earlier or later gives the same
values, to within float rounding, wherever both hold the whole window. The same function runs
in backtests, hyperopt, dry-run and live (the plugin's ``add_indicators``).

Definitions:

- returns over ``n`` candles: ``close[t] / close[max(t - n, s)] - 1``;
- volatility: the population standard deviation of the last ``VOL_WINDOW`` log returns;
  baseline: the median of those volatilities over the window (rows ``s + VOL_WINDOW .. t``);
  ratio: volatility / baseline, 1 when the baseline is 0;
- EMA (span ``EMA_SPAN``) seeded with the window's first close, ``W[t]``; it equals the EMA
  ``E`` of the whole frame corrected for its older seed, ``W[t] = E[t] - k**(t - s) * (E[s]
  - close[s])`` with ``k = 1 - alpha`` (both obey the same recursion from ``s`` on), so one
  recursive pass serves every window. Gap: ``close / W[t] - 1``; slope: ``W[t] /
  W'[t - SHORT_WINDOW] - 1`` where ``W'`` is seeded at the same ``s``;
- range position ``(close - low) / (high - low)`` over the window's lows and highs (0.5 when
  flat); distance from the high ``close / high - 1``.
Rolling windows run in C (bottleneck; SciPy's ``lfilter`` for the recursion).
"""

from __future__ import annotations

import bottleneck as bn
import numpy as np
import pandas as pd
from scipy.signal import lfilter

from plugins.llm_overseer import columns as col

VOL_WINDOW = 24
SHORT_WINDOW = 12
LONG_WINDOW = 72
EMA_SPAN = 50


def market_columns(
    frame: pd.DataFrame, context_candles: int = 300, flash_window: int = 3
) -> pd.DataFrame:
    """Every overseer column (:data:`columns.COLUMNS`) for the rows of ``frame``.

    ``frame`` needs ``close``; ``high`` and ``low`` are used when present (else the close).
    Rows whose window is shorter than :data:`columns.MIN_CANDLES` or holds a missing,
    infinite or non-positive close are NaN. Same index as ``frame``.
    """
    if context_candles < col.MIN_CANDLES:
        raise ValueError(f"context_candles must be >= {col.MIN_CANDLES}, got {context_candles!r}")
    if "close" not in frame.columns:
        raise ValueError(f"a frame needs a 'close' column, got {list(frame.columns)}")
    close = frame["close"].to_numpy(dtype=float)
    high = frame["high"].to_numpy(dtype=float) if "high" in frame.columns else close
    low = frame["low"].to_numpy(dtype=float) if "low" in frame.columns else close
    values = _features(close, high, low, context_candles, flash_window)
    return pd.DataFrame(values.T, index=frame.index, columns=_COLUMN_INDEX, copy=False)


_COLUMN_INDEX = pd.Index(col.COLUMNS)


def _features(
    close: np.ndarray, high: np.ndarray, low: np.ndarray, context: int, flash_window: int
) -> np.ndarray:
    """The columns as one ``(len(COLUMNS), rows)`` array (see the module docstring)."""
    n = len(close)
    if n < col.MIN_CANDLES:
        return np.full((len(col.COLUMNS), n), np.nan)
    rows = np.arange(n)
    start = np.maximum(rows - (context - 1), 0)
    good = np.isfinite(close) & (close > 0)
    with np.errstate(all="ignore"):  # unusable rows are blanked below
        log_close = np.log(np.where(good, close, np.nan))
        log_returns = np.concatenate(([np.nan], log_close[1:] - log_close[:-1]))
        vol = bn.move_std(log_returns, VOL_WINDOW)
        baseline = bn.move_median(vol, min(context - VOL_WINDOW, n), min_count=1)
        ema_now, ema_before = _windowed_ema(np.where(good, close, 0.0), rows, start)
        hi = bn.move_max(high, min(context, n), min_count=1)
        lo = bn.move_min(low, min(context, n), min_count=1)
        out = np.vstack(
            (
                *(_returns(close, rows, start, back) for back in (1, SHORT_WINDOW, LONG_WINDOW)),
                _returns(close, rows, start, flash_window),
                vol,
                baseline,
                np.where(baseline > 0, vol / baseline, 1.0),
                close / ema_now - 1.0,
                ema_now / ema_before - 1.0,
                np.where(hi > lo, (close - lo) / (hi - lo), 0.5),
                np.where(hi > 0, close / hi - 1.0, 0.0),
                rows - start + 1.0,
            )
        )
    bad = bn.move_max((~good).astype(float), min(context, n), min_count=1)  # 1: a bad close
    out[:, (bad > 0) | (rows - start + 1 < col.MIN_CANDLES)] = np.nan
    return out


def _returns(close: np.ndarray, rows: np.ndarray, start: np.ndarray, back: int) -> np.ndarray:
    """Return over ``back`` candles, or since the window's first candle if that is later."""
    return close / close[np.maximum(rows - back, start)] - 1.0


def _windowed_ema(
    close: np.ndarray, rows: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """EMA at each row seeded at its window's first row, and that EMA ``SHORT_WINDOW`` earlier.

    One recursive pass over the frame (``E[0] = close[0]``) and the seed correction of the
    module docstring; the earlier value is taken no further back than the seed itself.
    """
    alpha = 2.0 / (EMA_SPAN + 1.0)
    keep = 1.0 - alpha
    ema = lfilter([alpha], [1.0, -keep], close, zi=[keep * close[0]])[0]
    seed_gap = ema[start] - close[start]
    before = np.maximum(rows - SHORT_WINDOW, start)
    decay = keep ** np.arange(rows[-1] - start[-1] + 1)  # keep ** (rows - start), tabled
    now = ema - decay[rows - start] * seed_gap
    return now, ema[before] - decay[before - start] * seed_gap


def vol_regime(vol_ratio: float, high_vol_ratio: float) -> str:
    """``high``, ``low`` or ``normal`` from the volatility ratio."""
    if vol_ratio >= high_vol_ratio:
        return "high"
    if vol_ratio <= 1.0 / high_vol_ratio:
        return "low"
    return "normal"


def trend(ema_gap: float, ema_slope: float) -> str:
    """``up`` above a rising EMA, ``down`` below a falling one, else ``flat``."""
    if ema_gap > 0 and ema_slope > 0:
        return "up"
    if ema_gap < 0 and ema_slope < 0:
        return "down"
    return "flat"
