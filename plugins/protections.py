"""Risk settings shared by the Trading-Agent strategies: protections and the ROI ceiling.

Freqtrade 2026.9 refuses ``protections`` in the configuration ("Setting 'protections' in the
configuration is deprecated"): they are a strategy property, active in dry-run and live, and
in backtesting/hyperopt only with ``--enable-protections`` (or ``"enable_protections": true``
in the config).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from freqtrade.exchange import timeframe_to_minutes


def agent_protections(daily_drawdown_limit: float, timeframe: str) -> list[dict[str, Any]]:
    """Freqtrade protections for one strategy, sized in candles of ``timeframe``.

    - ``CooldownPeriod``: no re-entry on a pair for 15 minutes after an exit;
    - ``StoplossGuard``: 3 stop-loss exits (any pair) within 6 hours lock all pairs for 2 hours;
    - ``MaxDrawdown``: a drawdown beyond ``daily_drawdown_limit`` within 24 hours (at least
      4 trades) locks all pairs for 6 hours: Freqtrade's own daily drawdown control, beside
      the strategy's daily realised-loss check on every entry;
    - ``LowProfitPairs``: a pair that lost more than 1 % over its last 4 trades in 24 hours
      is locked for 12 hours.
    """
    if not (math.isfinite(daily_drawdown_limit) and 0 < daily_drawdown_limit <= 1):
        raise ValueError(f"daily_drawdown_limit must be in (0, 1], got {daily_drawdown_limit!r}")
    minutes = timeframe_to_minutes(timeframe)

    def candles(duration_minutes: int) -> int:
        return max(1, math.ceil(duration_minutes / minutes))

    return [
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
            "lookback_period_candles": candles(24 * 60),
            "trade_limit": 4,
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


def capped_roi(roi: Mapping[Any, float], take_profit: float) -> dict[Any, float]:
    """The ROI table with every step capped at the configured take-profit.

    The risk block's ``take_profit`` is the most a strategy may wait for; steps below it
    (taking profit earlier) are kept.
    """
    if not (math.isfinite(take_profit) and take_profit > 0):
        raise ValueError(f"take_profit must be finite and > 0, got {take_profit!r}")
    return {step: min(float(value), take_profit) for step, value in roi.items()}
