"""Market regime from higher timeframes: trend, realised volatility and drawdown state.

Pure, vectorised functions on candle series; nothing here knows Freqtrade. Every value is
known at the close of its own candle (causal, prefix-invariant), and every look-back is
measured on the calendar, not in rows: the recorded data has holes (a whole year is
withheld), and a "120-day return" across a hole would compare prices a year and a half
apart. Values whose look-back reaches into a hole are NaN, so a strategy holds nothing
until it has seen enough real history again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365
HOURS_PER_YEAR = 24 * DAYS_PER_YEAR


def _on_calendar(dates: pd.Series, values: pd.Series, freq: str) -> pd.Series:
    """``values`` (one per candle, opened at ``dates``) on a regular calendar grid of
    ``freq``, NaN where a candle is missing."""
    series = pd.Series(values.to_numpy(dtype=np.float64), index=pd.DatetimeIndex(dates))
    if series.index.has_duplicates:
        raise ValueError("candle dates must be unique")
    if not series.index.is_monotonic_increasing:
        raise ValueError("candle dates must be sorted")
    return series.asfreq(freq)


def _back_on_rows(dates: pd.Series, grid: pd.Series) -> np.ndarray:
    """Values of a calendar-grid series at each candle's own date."""
    return grid.reindex(pd.DatetimeIndex(dates)).to_numpy(dtype=np.float64)


def trend_score(
    dates: pd.Series, close: pd.Series, horizons: Sequence[int], freq: str = "1D"
) -> np.ndarray:
    """Time-series momentum over several horizons: the share of horizons (in candles of
    ``freq`` on the calendar) over which the close rose, in [0, 1].

    With horizons (20, 60, 120) on daily candles a value of 1 means the close is above its
    level 20, 60 and 120 days ago. NaN where any horizon's past close is unknown (too early,
    or inside a hole in the data).
    """
    if not horizons or any(int(h) < 1 for h in horizons):
        raise ValueError(f"horizons must be positive candle counts, got {list(horizons)!r}")
    grid = np.log(_on_calendar(dates, close, freq))
    votes = []
    for horizon in horizons:
        change = grid - grid.shift(int(horizon))
        votes.append((change > 0).astype(np.float64).where(change.notna()))
    score = pd.concat(votes, axis=1).mean(axis=1, skipna=False)
    return _back_on_rows(dates, score)


def realised_volatility(
    dates: pd.Series,
    close: pd.Series,
    window: int,
    periods_per_year: float,
    freq: str,
    min_fraction: float = 0.8,
) -> np.ndarray:
    """Annualised standard deviation of log returns between consecutive candles of ``freq``
    over the last ``window`` of them.

    Returns across a hole are not returns of one candle and are left out; at least
    ``min_fraction`` of the window must hold returns, else NaN.
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 candles, got {window!r}")
    if not 0 < min_fraction <= 1:
        raise ValueError(f"min_fraction must be in (0, 1], got {min_fraction!r}")
    grid = np.log(_on_calendar(dates, close, freq))
    returns = grid.diff()
    vol = returns.rolling(window, min_periods=max(2, int(np.ceil(window * min_fraction)))).std()
    return _back_on_rows(dates, vol * np.sqrt(periods_per_year))


def drawdown_from_high(
    dates: pd.Series, close: pd.Series, window: int, freq: str = "1D", min_periods: int = 30
) -> np.ndarray:
    """How far the close is below its highest close of the last ``window`` candles of
    ``freq`` (0 at a new high, -0.5 half-way down), over the candles known in that window."""
    grid = _on_calendar(dates, close, freq)
    high = grid.rolling(window, min_periods=min_periods).max()
    return _back_on_rows(dates, grid / high - 1.0)


def target_weights(
    score: np.ndarray,
    volatility: np.ndarray,
    drawdown: np.ndarray,
    *,
    target_volatility: float,
    pairs: int,
    cap: float,
    bear_drawdown: float,
    bear_factor: float,
    leader_score: np.ndarray | None = None,
    leader_min_score: float = 0.5,
) -> np.ndarray:
    """Share of account equity to hold in one pair, per candle, in [0, ``cap``].

    Volatility targeting with a trend filter: each of ``pairs`` pairs gets an equal share
    of the portfolio's target annualised volatility, so the pair's weight is
    ``score * target_volatility / (pairs * volatility)``, capped at ``cap``. In a bear
    regime (the close more than ``bear_drawdown`` below its high) the volatility target is
    multiplied by ``bear_factor``. With ``leader_score`` (BTC's trend score, for the other
    pairs) the weight is zero unless the leader's score is at least ``leader_min_score``.
    Unknown inputs give weight 0: nothing is held on what is not known.
    """
    for name, value, low, high in (
        ("target_volatility", target_volatility, 0.0, 5.0),
        ("cap", cap, 0.0, 1.0),
        ("bear_drawdown", bear_drawdown, 0.0, 1.0),
        ("bear_factor", bear_factor, 0.0, 1.0),
        ("leader_min_score", leader_min_score, 0.0, 1.0),
    ):
        if not (np.isfinite(value) and low <= value <= high):
            raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    if pairs < 1:
        raise ValueError(f"pairs must be at least 1, got {pairs!r}")
    score = np.asarray(score, dtype=np.float64)
    volatility = np.asarray(volatility, dtype=np.float64)
    drawdown = np.asarray(drawdown, dtype=np.float64)
    budget = np.where(drawdown < -bear_drawdown, target_volatility * bear_factor, target_volatility)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = score * budget / (pairs * volatility)
    weight = np.clip(np.where(np.isfinite(raw) & (volatility > 0), raw, 0.0), 0.0, cap)
    if leader_score is not None:
        leader = np.asarray(leader_score, dtype=np.float64)
        weight = np.where(leader >= leader_min_score, weight, 0.0)
    return weight
