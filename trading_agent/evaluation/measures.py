"""Performance measures of an account's equity over one window or several windows in a row.

Conventions (the report states them too):

- daily returns: equity at each UTC day's end (the last point at or before midnight) against
  the day before, the first day against the starting equity: mark-to-market, not realised;
- Sharpe and Sortino: mean daily return over its standard deviation (``ddof=1``) or over the
  downside deviation ``sqrt(mean(min(r, 0)^2))``, zero risk-free rate, times ``sqrt(365)``;
- CAGR over ``days / 365`` years; Calmar is CAGR over the maximum drawdown;
- maximum drawdown: the largest fall of equity from its running peak, at every candle close;
- exposure: the time average of the invested share of equity; turnover: traded notional over
  average equity, per year; fees in quote currency and as a share of the starting equity.

Several windows (walk-forward test folds) are compounded in time order: each starts at the
level where the previous one ended, so the series is the account of someone who ran each fold
in turn. Per-window sums (notional / average equity, fees / starting equity) add up across them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_agent.evaluation.equity import Segment

DAYS_PER_YEAR = 365
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Performance:
    """The measures of one account over one or more windows (percentages in percent)."""

    start: str
    end: str
    days: float
    total_return_pct: float
    cagr_pct: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown_pct: float
    exposure_pct: float
    turnover_per_year: float
    trades: int
    fees_quote: float
    fees_pct: float
    #: Non-annualised daily Sharpe, the skewness and (non-excess) kurtosis of the daily returns
    #: and their number: what the deflated Sharpe ratio needs.
    daily_sharpe: float
    daily_skew: float
    daily_kurtosis: float
    daily_returns: int


def chain_equity(segments: Sequence[Segment]) -> pd.Series:
    """The segments' equity compounded in time order, in the first segment's currency scale.

    Each later segment is rescaled to start where the previous one ended and its first point
    (its starting state) is dropped. Raises ``ValueError`` when segments overlap in time.
    """
    if not segments:
        raise ValueError("no segments to chain")
    parts = [segments[0].points["equity"]]
    level = float(parts[0].iloc[-1])
    for before, segment in itertools.pairwise(segments):
        if segment.start < before.end:
            raise ValueError(f"segment starting {segment.start} overlaps one ending {before.end}")
        equity = segment.points["equity"]
        scaled = equity / float(equity.iloc[0]) * level
        parts.append(scaled.iloc[1:])
        level = float(scaled.iloc[-1])
    return pd.concat(parts)


def daily_equity(equity: pd.Series) -> pd.Series:
    """Equity at the end of each UTC day (labelled by that midnight), after the starting point.

    Days without points (a gap between chained windows) are left out.
    """
    ends = equity.iloc[1:].resample("1D", closed="right", label="right").last().dropna()
    return pd.concat([equity.iloc[:1], ends])


def daily_returns(equity: pd.Series) -> pd.Series:
    """Mark-to-market daily returns of ``equity`` (see :func:`daily_equity`)."""
    return daily_equity(equity).pct_change().iloc[1:]


def annualised_sharpe(returns: pd.Series | np.ndarray) -> float:
    """Mean over standard deviation (``ddof=1``) of daily returns, times ``sqrt(365)``.

    NaN for fewer than two returns or none that differ.
    """
    values = np.asarray(returns, dtype=np.float64)
    if values.size < 2:
        return math.nan
    std = values.std(ddof=1)
    if not (std > 0 and math.isfinite(std)):
        return math.nan
    return float(values.mean() / std * math.sqrt(DAYS_PER_YEAR))


def annualised_sortino(returns: pd.Series | np.ndarray) -> float:
    """Mean daily return over the downside deviation ``sqrt(mean(min(r, 0)^2))``, annualised.

    NaN for fewer than two returns or no negative one.
    """
    values = np.asarray(returns, dtype=np.float64)
    if values.size < 2:
        return math.nan
    downside = math.sqrt(float(np.mean(np.minimum(values, 0.0) ** 2)))
    if downside == 0:
        return math.nan
    return float(values.mean() / downside * math.sqrt(DAYS_PER_YEAR))


def max_drawdown(equity: pd.Series | np.ndarray) -> float:
    """The largest fall from a running peak, as a fraction of that peak (0 if none)."""
    values = np.asarray(equity, dtype=np.float64)
    if values.size == 0:
        return math.nan
    return float(np.max(1.0 - values / np.maximum.accumulate(values)))


def cagr(growth: float, days: float) -> float:
    """Compound annual growth rate of a factor ``growth`` reached in ``days`` days."""
    if days <= 0 or growth <= 0:
        return math.nan
    return growth ** (DAYS_PER_YEAR / days) - 1.0


def return_moments(returns: pd.Series | np.ndarray) -> tuple[float, float]:
    """Skewness and non-excess kurtosis of returns (population moments; normal: 0 and 3)."""
    values = np.asarray(returns, dtype=np.float64)
    centred = values - values.mean() if values.size else values
    variance = float(np.mean(centred**2)) if values.size else 0.0
    if variance == 0:
        return math.nan, math.nan
    skew = float(np.mean(centred**3)) / variance**1.5
    kurtosis = float(np.mean(centred**4)) / variance**2
    return skew, kurtosis


def performance(segments: Sequence[Segment]) -> Performance:
    """Every measure of the account over ``segments`` (one window, or test folds in order)."""
    equity = chain_equity(segments)
    returns = daily_returns(equity)
    days = sum((s.end - s.start) / DAY for s in segments)
    growth = float(equity.iloc[-1] / equity.iloc[0])
    growth_rate = cagr(growth, days)
    drawdown = max_drawdown(equity)
    exposure = pd.concat([s.points["exposure"].iloc[1:] for s in segments])
    traded_per_equity = sum(
        float((s.fills["amount"].abs() * s.fills["price"]).sum())
        / float(s.points["equity"].iloc[1:].mean())
        for s in segments
    )
    fees = [float(s.fills["fee"].sum()) for s in segments]
    values = returns.to_numpy(dtype=np.float64)
    sharpe = annualised_sharpe(values)
    skew, kurtosis = return_moments(values)
    return Performance(
        start=segments[0].start.isoformat(),
        end=segments[-1].end.isoformat(),
        days=days,
        total_return_pct=100.0 * (growth - 1.0),
        cagr_pct=100.0 * growth_rate,
        sharpe=sharpe,
        sortino=annualised_sortino(values),
        calmar=growth_rate / drawdown if drawdown > 0 else math.nan,
        max_drawdown_pct=100.0 * drawdown,
        exposure_pct=100.0 * float(exposure.mean()),
        turnover_per_year=traded_per_equity / (days / DAYS_PER_YEAR) if days > 0 else math.nan,
        trades=int(sum(int(s.fills["opens_trade"].sum()) for s in segments)),
        fees_quote=sum(fees),
        fees_pct=100.0
        * sum(f / float(s.points["equity"].iloc[0]) for f, s in zip(fees, segments, strict=True)),
        daily_sharpe=sharpe / math.sqrt(DAYS_PER_YEAR),
        daily_skew=skew,
        daily_kurtosis=kurtosis,
        daily_returns=int(values.size),
    )
