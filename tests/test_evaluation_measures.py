"""Performance measures on built equity curves whose answers are known by hand."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from trading_agent.evaluation.equity import Segment
from trading_agent.evaluation.fills import empty_fills
from trading_agent.evaluation.measures import (
    annualised_sharpe,
    annualised_sortino,
    cagr,
    chain_equity,
    daily_returns,
    max_drawdown,
    performance,
    return_moments,
)

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def segment(values, start=T0, freq="1D", exposure=None, fills=None) -> Segment:
    """A segment with these equity points (the first is the starting state)."""
    index = pd.date_range(start, periods=len(values), freq=freq)
    exposure = [math.nan, *([0.0] * (len(values) - 1))] if exposure is None else exposure
    points = pd.DataFrame(
        {"equity": values, "invested": 0.0, "exposure": exposure}, index=index.as_unit("ns")
    )
    if fills is None:
        fills = empty_fills().assign(point=pd.Series([], dtype="datetime64[ns, UTC]"))
    return Segment(points=points, fills=fills)


def test_daily_returns_use_the_last_point_of_each_day() -> None:
    # 12-hourly points: the start, then noon and midnight of each day
    equity = segment([100.0, 150.0, 110.0, 90.0, 121.0], freq="12h").points["equity"]
    returns = daily_returns(equity)
    assert list(returns.index) == [T0 + pd.Timedelta(days=1), T0 + pd.Timedelta(days=2)]
    np.testing.assert_allclose(returns, [0.10, 0.10], rtol=1e-12)


def test_sharpe_and_sortino_match_their_definitions() -> None:
    returns = [0.10, -0.05, 0.10, -0.05, 0.02]
    mean, std = statistics.fmean(returns), statistics.stdev(returns)
    assert annualised_sharpe(returns) == pytest.approx(mean / std * math.sqrt(365))
    downside = math.sqrt((0.05**2 + 0.05**2) / 5)
    assert annualised_sortino(returns) == pytest.approx(mean / downside * math.sqrt(365))
    assert math.isnan(annualised_sharpe([0.01, 0.01, 0.01]))  # no spread
    assert math.isnan(annualised_sortino([0.01, 0.02]))  # no loss
    assert math.isnan(annualised_sharpe([0.01]))


def test_drawdown_cagr_and_moments() -> None:
    assert max_drawdown([100.0, 120.0, 90.0, 130.0, 65.0, 140.0]) == pytest.approx(0.5)
    assert max_drawdown([1.0, 2.0, 3.0]) == 0.0
    assert cagr(1.21, 730) == pytest.approx(0.10)
    assert math.isnan(cagr(1.1, 0))
    skew, kurtosis = return_moments([1.0, 2.0, 3.0, 10.0])
    centred = np.array([1.0, 2.0, 3.0, 10.0]) - 4.0
    m2, m3, m4 = (np.mean(centred**k) for k in (2, 3, 4))
    assert skew == pytest.approx(m3 / m2**1.5)
    assert kurtosis == pytest.approx(m4 / m2**2)
    normal = np.random.default_rng(7).standard_normal(200_000)
    assert return_moments(normal) == pytest.approx((0.0, 3.0), abs=0.05)


def test_performance_of_one_window() -> None:
    fills = pd.DataFrame(
        {
            "time": [T0, T0 + pd.Timedelta(days=100)],
            "pair": ["A/Q", "A/Q"],
            "amount": [10.0, -10.0],
            "price": [100.0, 110.0],
            "fee": [1.0, 1.1],
            "opens_trade": [True, False],
        }
    )
    fills["point"] = fills["time"]
    days = 182
    values = np.linspace(1000.0, 1100.0, days + 1)
    exposure = [math.nan, *([0.5] * days)]
    perf = performance([segment(values, exposure=exposure, fills=fills)])
    assert perf.days == days
    assert perf.total_return_pct == pytest.approx(10.0)
    assert perf.cagr_pct == pytest.approx(100 * (1.1 ** (365 / days) - 1))
    assert perf.max_drawdown_pct == 0.0 and math.isnan(perf.calmar)
    assert perf.exposure_pct == pytest.approx(50.0)
    mean_equity = float(np.mean(values[1:]))
    assert perf.turnover_per_year == pytest.approx((1000 + 1100) / mean_equity / (days / 365))
    assert perf.trades == 1
    assert perf.fees_quote == pytest.approx(2.1)
    assert perf.fees_pct == pytest.approx(0.21)
    assert perf.daily_returns == days
    assert perf.daily_sharpe == pytest.approx(perf.sharpe / math.sqrt(365))


def test_windows_compound_in_time_order_without_a_day_across_the_gap() -> None:
    first = segment([1000.0, 1100.0, 1210.0])
    later = segment([500.0, 450.0, 495.0], start=T0 + pd.Timedelta(days=10))
    chained = chain_equity([first, later])
    np.testing.assert_allclose(chained, [1000.0, 1100.0, 1210.0, 1089.0, 1197.9])
    returns = daily_returns(chained)
    np.testing.assert_allclose(returns, [0.1, 0.1, -0.1, 0.1])  # no zero-return day in the gap
    perf = performance([first, later])
    assert perf.total_return_pct == pytest.approx(19.79)
    assert perf.days == 4
    assert perf.max_drawdown_pct == pytest.approx(10.0)
    with pytest.raises(ValueError, match="overlaps"):
        chain_equity([later, first])
