"""Hard risk limits from the config, and the pure functions that enforce them.

Nothing a plugin (or the LLM overseer) says can move a position past these limits:
strategies pass every stake and stop-loss through :func:`clamp_stake` and
:func:`tighten_stop_rate`. Defaults follow the seed: stop-loss 2 %, take-profit 5 %,
at most 10 % of the account in one position, daily drawdown limit 5 %.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RiskLimits(BaseModel):
    """The ``trading_agent.risk`` block of the config."""

    model_config = ConfigDict(extra="forbid")

    max_position_ratio: float = Field(
        default=0.10, gt=0, le=1, description="largest stake per position / account value"
    )
    max_total_exposure_ratio: float = Field(
        default=0.50, gt=0, le=1, description="all open stakes / account value"
    )
    max_stake_multiplier: float = Field(
        default=1.5, ge=0, le=5, description="cap on signal x session x plugin scaling"
    )
    stoploss: float = Field(
        default=-0.02, ge=-0.5, lt=0, description="widest stop-loss allowed (Freqtrade ratio)"
    )
    take_profit: float = Field(
        default=0.05, gt=0, le=1, description="take-profit used as the strategy's minimal ROI"
    )
    daily_drawdown_limit: float = Field(
        default=0.05, gt=0, le=1, description="no new entries once today's loss exceeds it"
    )
    atr_stop_multiplier: float = Field(
        default=2.0, gt=0, le=20, description="ATR multiples for the volatility stop"
    )

    @model_validator(mode="after")
    def _position_within_exposure(self) -> RiskLimits:
        if self.max_position_ratio > self.max_total_exposure_ratio:
            raise ValueError(
                f"max_position_ratio {self.max_position_ratio} exceeds max_total_exposure_ratio "
                f"{self.max_total_exposure_ratio}"
            )
        return self


def clamp_stake(
    proposed: float,
    multiplier: float,
    account_value: float,
    open_exposure: float,
    limits: RiskLimits,
    min_stake: float | None,
    max_stake: float,
) -> float:
    """Scale ``proposed`` by ``multiplier`` and clamp it to every hard limit.

    Returns 0.0 when the clamped stake would fall below the exchange minimum (the
    entry is skipped rather than silently enlarged). ``multiplier`` is itself capped
    at ``limits.max_stake_multiplier``; a non-finite or negative input is an error.
    """
    for name, value in (
        ("proposed", proposed),
        ("multiplier", multiplier),
        ("account_value", account_value),
        ("open_exposure", open_exposure),
        ("max_stake", max_stake),
    ):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"clamp_stake: {name} must be finite and >= 0, got {value!r}")
    stake = proposed * min(multiplier, limits.max_stake_multiplier)
    stake = min(
        stake,
        account_value * limits.max_position_ratio,
        max(0.0, account_value * limits.max_total_exposure_ratio - open_exposure),
        max_stake,
    )
    if stake <= 0 or (min_stake is not None and stake < min_stake):
        return 0.0
    return stake


def atr_stop_rate(open_or_current_rate: float, atr: float, multiplier: float) -> float | None:
    """Stop price ``multiplier`` ATRs below the rate (long side), or None without an ATR."""
    if not (math.isfinite(atr) and atr > 0):
        return None
    return open_or_current_rate - multiplier * atr


def tighten_stop_rate(previous: float | None, *candidates: float | None) -> float | None:
    """The highest stop price among the previous one and the candidates (long side).

    A stop only ever moves up: the result is never below ``previous``.
    """
    values = [c for c in candidates if c is not None and math.isfinite(c) and c > 0]
    if previous is not None:
        values.append(previous)
    return max(values) if values else None


def daily_loss_exceeded(
    today_profit_abs: float, day_start_value: float, limits: RiskLimits
) -> bool:
    """True when today's realised loss is beyond the daily drawdown limit."""
    if day_start_value <= 0:
        return True
    return -today_profit_abs / day_start_value >= limits.daily_drawdown_limit
