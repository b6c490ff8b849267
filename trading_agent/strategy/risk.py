"""Hard risk limits from the config, the pure functions that enforce them, and protections.

Nothing a plugin (or the LLM overseer) says can move a position past these limits:
strategies pass every stake and stop-loss through :func:`clamp_stake` and
:func:`tighten_stop_rate`. Defaults follow the seed: stop-loss 2 %, take-profit 5 %,
at most 10 % of the account in one position, daily drawdown limit 5 %.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from freqtrade.exchange import timeframe_to_minutes
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trading_agent.manager import CONFIG_KEY, PluginConfigError, format_validation_error


class RiskLimits(BaseModel):
    """The ``trading_agent.risk`` block of the config."""

    model_config = ConfigDict(extra="forbid")

    max_position_ratio: float = Field(
        default=0.10, gt=0, le=1, description="largest position / account equity"
    )
    max_total_exposure_ratio: float = Field(
        default=0.50, gt=0, le=1, description="all open positions / account equity"
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
        default=0.05,
        gt=0,
        le=1,
        description="share of account equity lost today (or within 24 h of closed trades, for "
        "the MaxDrawdown protection) beyond which no new risk is taken",
    )
    atr_stop_multiplier: float = Field(
        default=2.0, gt=0, le=20, description="ATR multiples for the volatility stop"
    )
    stale_candle_timeframes: float = Field(
        default=2.0,
        gt=0,
        le=100,
        description="live: no new risk on a pair whose last candle closed more than this many "
        "timeframes ago (a stuck feed)",
    )
    frozen_book_fetches: int = Field(
        default=5,
        ge=2,
        le=10_000,
        description="live: no new risk on a pair whose order book came back the same this many "
        "fetches in a row (a frozen book)",
    )

    @model_validator(mode="after")
    def _position_within_exposure(self) -> RiskLimits:
        if self.max_position_ratio > self.max_total_exposure_ratio:
            raise ValueError(
                f"max_position_ratio {self.max_position_ratio} exceeds max_total_exposure_ratio "
                f"{self.max_total_exposure_ratio}"
            )
        return self


def load_risk_limits(config: Mapping[str, Any]) -> RiskLimits:
    """Validate the ``trading_agent.risk`` block (defaults where absent)."""
    block = config.get(CONFIG_KEY, {}).get("risk", {})
    try:
        return RiskLimits.model_validate(block)
    except ValidationError as exc:
        raise PluginConfigError(
            "invalid risk limits: " + format_validation_error(f"{CONFIG_KEY}.risk", exc)
        ) from None


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


def daily_loss_exceeded(today_change: float, day_start_value: float, limits: RiskLimits) -> bool:
    """True when today's loss of account equity (``today_change`` since the day's first
    look, realised and unrealised) is beyond the daily drawdown limit."""
    if day_start_value <= 0:
        return True
    return -today_change / day_start_value >= limits.daily_drawdown_limit


def agent_protections(
    daily_drawdown_limit: float,
    timeframe: str,
    drawdown_trade_limit: int = 4,
    pair_stop_lock_hours: float | None = None,
) -> list[dict[str, Any]]:
    """Freqtrade protections for one strategy, sized in candles of ``timeframe``.

    - ``CooldownPeriod``: no re-entry on a pair for 15 minutes after an exit;
    - ``StoplossGuard``: 3 stop-loss exits (any pair) within 6 hours lock all pairs for 2 hours;
    - ``MaxDrawdown`` in ``equity`` mode: closed trades that lost more than
      ``daily_drawdown_limit`` of the account within 24 hours (at least
      ``drawdown_trade_limit`` of them) lock all pairs for 6 hours. Freqtrade's default
      ``ratios`` mode sums trade profit ratios instead: three 2 % stops lock trading after
      about 0.5 % of an account that stakes 10 % per trade is lost;
    - ``LowProfitPairs``: a pair that lost more than 1 % over its last 4 trades in 24 hours
      is locked for 12 hours;
    - with ``pair_stop_lock_hours``, a second ``StoplossGuard``: one stop-loss exit locks its
      pair for that long. A strategy that rebalances towards a target would otherwise buy the
      position back on the next candle, and the stop would have cost a round trip of fees
      instead of taking risk off.
    """
    if not (math.isfinite(daily_drawdown_limit) and 0 < daily_drawdown_limit <= 1):
        raise ValueError(f"daily_drawdown_limit must be in (0, 1], got {daily_drawdown_limit!r}")
    if drawdown_trade_limit < 1:
        raise ValueError(f"drawdown_trade_limit must be at least 1, got {drawdown_trade_limit!r}")
    if pair_stop_lock_hours is not None and not (
        math.isfinite(pair_stop_lock_hours) and pair_stop_lock_hours > 0
    ):
        raise ValueError(f"pair_stop_lock_hours must be > 0, got {pair_stop_lock_hours!r}")
    minutes = timeframe_to_minutes(timeframe)

    def candles(duration_minutes: int) -> int:
        return max(1, math.ceil(duration_minutes / minutes))

    protections: list[dict[str, Any]] = [
        {"method": "CooldownPeriod", "stop_duration_candles": candles(15)},
        {
            "method": "StoplossGuard",
            "lookback_period_candles": candles(6 * 60),
            "trade_limit": 3,
            "stop_duration_candles": candles(2 * 60),
            "only_per_pair": False,
        },
        {
            "method": "MaxDrawdown",
            "calculation_mode": "equity",
            "lookback_period_candles": candles(24 * 60),
            "trade_limit": drawdown_trade_limit,
            "stop_duration_candles": candles(6 * 60),
            "max_allowed_drawdown": float(daily_drawdown_limit),
        },
        {
            "method": "LowProfitPairs",
            "lookback_period_candles": candles(24 * 60),
            "trade_limit": 4,
            "stop_duration_candles": candles(12 * 60),
            "required_profit": -0.01,
        },
    ]
    if pair_stop_lock_hours is not None:
        hold = candles(math.ceil(pair_stop_lock_hours * 60))
        protections.append(
            {
                "method": "StoplossGuard",
                "lookback_period_candles": hold,
                "trade_limit": 1,
                "stop_duration_candles": hold,
                "only_per_pair": True,
            }
        )
    return protections


def capped_roi(roi: Mapping[Any, float], take_profit: float) -> dict[Any, float]:
    """The ROI table with every step capped at the configured take-profit.

    The risk block's ``take_profit`` is the most a strategy may wait for; steps below it
    (taking profit earlier) are kept.
    """
    if not (math.isfinite(take_profit) and take_profit > 0):
        raise ValueError(f"take_profit must be finite and > 0, got {take_profit!r}")
    return {step: min(float(value), take_profit) for step, value in roi.items()}
