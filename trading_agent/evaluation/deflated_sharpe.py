"""The deflated Sharpe ratio (Bailey and López de Prado, 2014).

Choosing the best of N parameter sets inflates the winner's Sharpe ratio even when none has
skill. The deflated Sharpe ratio is the probability that the true Sharpe ratio exceeds the
expected maximum of N unskilled trials, given the observed (non-annualised) Sharpe ratio, its
sample length and the skewness and kurtosis of the returns:

- expected maximum under the null:
  ``SR0 = sqrt(V) * ((1 - g) * Z^-1(1 - 1/N) + g * Z^-1(1 - 1/(N e)))``, where ``V`` is the
  variance of the Sharpe ratio across the trials and ``g`` the Euler-Mascheroni constant;
- ``DSR = Z((SR - SR0) * sqrt(T - 1) / sqrt(1 - skew * SR + (kurtosis - 1) / 4 * SR^2))``,
  with the non-excess kurtosis (3 for normal returns);
- its p-value, ``1 - DSR``: the chance of a Sharpe ratio this high from the best of N trials
  without skill.

One trial (``N = 1``) has no selection to correct for: ``SR0 = 0`` and the DSR is the
probabilistic Sharpe ratio against zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

EULER_MASCHERONI = 0.5772156649015329
_NORMAL = NormalDist()


def expected_max_sharpe(n_trials: int, variance: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` unskilled trials with that variance.

    Raises ``ValueError`` for fewer than one trial or a negative variance.
    """
    if n_trials < 1:
        raise ValueError(f"the number of trials must be at least 1, got {n_trials}")
    if not (variance >= 0 and math.isfinite(variance)):
        raise ValueError(f"the variance of the trials' Sharpe ratios must be >= 0, got {variance}")
    if n_trials == 1:
        return 0.0
    g = EULER_MASCHERONI
    quantiles = (1 - g) * _NORMAL.inv_cdf(1 - 1 / n_trials) + g * _NORMAL.inv_cdf(
        1 - 1 / (n_trials * math.e)
    )
    return math.sqrt(variance) * quantiles


def probabilistic_sharpe(
    sharpe: float, benchmark: float, n_obs: int, skew: float, kurtosis: float
) -> float:
    """Probability that the true Sharpe ratio exceeds ``benchmark`` (all per observation).

    NaN when any input is NaN; raises ``ValueError`` for fewer than two observations or
    moments that make the Sharpe ratio's variance non-positive.
    """
    if n_obs < 2:
        raise ValueError(f"the Sharpe ratio needs at least 2 observations, got {n_obs}")
    if any(math.isnan(x) for x in (sharpe, benchmark, skew, kurtosis)):
        return math.nan
    spread = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if spread <= 0:
        raise ValueError(
            f"skew {skew} and kurtosis {kurtosis} give a non-positive variance at Sharpe {sharpe}"
        )
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(spread))


@dataclass(frozen=True)
class DeflatedSharpe:
    """The deflated Sharpe ratio with what went into it (Sharpe ratios per observation)."""

    sharpe: float
    n_obs: int
    skew: float
    kurtosis: float
    n_trials: int
    trials_variance: float
    expected_max_sharpe: float
    dsr: float
    p_value: float


def deflated_sharpe(
    sharpe: float, n_obs: int, skew: float, kurtosis: float, n_trials: int, variance: float
) -> DeflatedSharpe:
    """The deflated Sharpe ratio of the best of ``n_trials`` (see the module docstring)."""
    benchmark = expected_max_sharpe(n_trials, variance)
    dsr = probabilistic_sharpe(sharpe, benchmark, n_obs, skew, kurtosis)
    return DeflatedSharpe(
        sharpe=sharpe,
        n_obs=n_obs,
        skew=skew,
        kurtosis=kurtosis,
        n_trials=n_trials,
        trials_variance=variance,
        expected_max_sharpe=benchmark,
        dsr=dsr,
        p_value=1 - dsr,
    )
