"""The deflated Sharpe ratio against a worked example computed here step by step.

The example is the numerical one of Bailey and López de Prado (2014): an annualised Sharpe
ratio of 2.5 on 1250 daily returns (250 a year), skewness -3, kurtosis 10, the best of
N = 100 trials whose annualised Sharpe ratios have variance 0.5. The paper reports an expected
maximum of about 0.1132 per day and a DSR of about 0.9004. The test computes both again with
the error function (not the module's NormalDist) and the published figures bound the result.
"""

from __future__ import annotations

import math

import pytest

from trading_agent.evaluation.deflated_sharpe import (
    deflated_sharpe,
    expected_max_sharpe,
    probabilistic_sharpe,
)


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def normal_quantile(p: float) -> float:
    """Inverse of ``normal_cdf`` by bisection (independent of statistics.NormalDist)."""
    low, high = -12.0, 12.0
    for _ in range(200):
        middle = (low + high) / 2
        if normal_cdf(middle) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def test_the_papers_worked_example() -> None:
    per_year = 250
    sharpe = 2.5 / math.sqrt(per_year)
    variance = 0.5 / per_year
    n_trials, n_obs, skew, kurtosis = 100, 1250, -3.0, 10.0
    gamma = 0.5772156649015329
    sr0 = math.sqrt(variance) * (
        (1 - gamma) * normal_quantile(1 - 1 / n_trials)
        + gamma * normal_quantile(1 - 1 / (n_trials * math.e))
    )
    z = (sharpe - sr0) * math.sqrt(n_obs - 1)
    z /= math.sqrt(1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2)
    expected = normal_cdf(z)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)  # the paper's figure
    assert expected == pytest.approx(0.9004, abs=5e-4)  # the paper's figure

    result = deflated_sharpe(sharpe, n_obs, skew, kurtosis, n_trials, variance)
    assert result.expected_max_sharpe == pytest.approx(sr0, rel=1e-9)
    assert result.dsr == pytest.approx(expected, rel=1e-9)
    assert result.p_value == pytest.approx(1 - expected, rel=1e-9)
    assert result.n_trials == n_trials and result.trials_variance == variance


def test_more_trials_or_more_spread_deflate_more() -> None:
    args = (0.1, 500, 0.0, 3.0)
    few = deflated_sharpe(*args, n_trials=5, variance=0.001).dsr
    many = deflated_sharpe(*args, n_trials=500, variance=0.001).dsr
    wide = deflated_sharpe(*args, n_trials=5, variance=0.01).dsr
    assert many < few and wide < few


def test_one_trial_is_the_probabilistic_sharpe_against_zero() -> None:
    assert expected_max_sharpe(1, 0.3) == 0.0
    one = deflated_sharpe(0.05, 400, 0.0, 3.0, n_trials=1, variance=0.0)
    normal = normal_cdf(0.05 * math.sqrt(399) / math.sqrt(1 + 0.05**2 / 2))
    assert one.dsr == pytest.approx(normal, rel=1e-9)
    assert probabilistic_sharpe(0.0, 0.0, 100, 0.0, 3.0) == pytest.approx(0.5)


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        expected_max_sharpe(0, 0.1)
    with pytest.raises(ValueError, match="variance"):
        expected_max_sharpe(3, -1.0)
    with pytest.raises(ValueError, match="2 observations"):
        probabilistic_sharpe(0.1, 0.0, 1, 0.0, 3.0)
    with pytest.raises(ValueError, match="non-positive variance"):
        probabilistic_sharpe(1.0, 0.0, 100, 5.0, 1.0)
    assert math.isnan(probabilistic_sharpe(math.nan, 0.0, 100, 0.0, 3.0))
