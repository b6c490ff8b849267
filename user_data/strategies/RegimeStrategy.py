"""RegimeStrategy: hold the market when its regime pays, step aside when it does not.

A long-only allocation across the whitelist and the stake currency, on a 1h base timeframe
with the regime read from daily candles (``@informative("1d")``):

- **trend**: time-series momentum, the share of three horizons (20, 60 and 120 days, or 10,
  30 and 60 with ``trend_speed = "fast"``) over which the daily close rose;
- **realised volatility**: the larger of the last 7 days' (1h returns) and the last 30
  days' (daily returns), annualised, so a volatility burst cuts the position within a day;
- **drawdown state**: more than ``bear_drawdown`` below the 180-day high is a bear regime,
  in which the volatility target is multiplied by ``bear_factor``;
- **BTC as the cross-asset filter**: a pair other than BTC is held only while BTC's own trend
  score is at least ``btc_min_score``.

Each pair's target weight is ``trend score x target_volatility / (budget_pairs x
volatility)``: the portfolio's volatility target is split evenly over ``budget_pairs`` pairs
(2: the product trades BTC and ETH; a fixed number rather than the whitelist's length, so a
pair's weight never depends on which other pairs a run loads),
capped so that no pair exceeds ``max_position_ratio`` of the account and all together stay
within ``max_total_exposure_ratio`` (the config's ``trading_agent.risk``); no leverage. The
kit (:class:`trading_agent.strategy.allocator.AllocationStrategy`) follows the target with
Freqtrade's position adjustment, outside a rebalancing band of ``band`` (relative), so that
small changes of the target do not churn the account: turnover pays fees. Entries need a
target of at least 2 % of equity, exits come when it falls below 1 % (or from the hard
stop, plugin stops and plugin exit requests). Every plugin applies: sessions (the
position-size factor delays additions), patterns and the overseer (whose risk multiplier
lowers the target; in backtests its deterministic rules), and the order-book gate before
live entries and additions.

Every look-back is measured on the calendar (see :mod:`trading_agent.strategy.regime`):
where it reaches into a hole in the data the regime is unknown and nothing is held.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from freqtrade.strategy import CategoricalParameter, DecimalParameter, informative
from pandas import DataFrame

from trading_agent.strategy.allocator import TARGET_COLUMN, AllocationStrategy
from trading_agent.strategy.narration import Check, Rule
from trading_agent.strategy.regime import (
    DAYS_PER_YEAR,
    HOURS_PER_YEAR,
    drawdown_from_high,
    realised_volatility,
    target_weights,
    trend_score,
)
from trading_agent.strategy.risk import agent_protections

#: Momentum horizons in days for each ``trend_speed``.
HORIZONS: dict[str, tuple[int, int, int]] = {"slow": (20, 60, 120), "fast": (10, 30, 60)}
#: Look-backs of the realised volatility: 7 days of hourly returns, 30 daily returns.
VOL_HOURS = 168
VOL_DAYS = 30
#: Calendar days over which the drawdown state's high is taken (within the start-up).
HIGH_DAYS = 180
#: Target weights (shares of equity) that open and close a position (a hysteresis).
ENTRY_WEIGHT = 0.02
EXIT_WEIGHT = 0.01


class RegimeStrategy(AllocationStrategy):
    """Volatility-targeted, trend-filtered allocation to the whitelist, long only."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    process_only_new_candles = True
    # Each timeframe gets this many of its own candles: 400 days cover the 120-day momentum,
    # the 30-day volatility and the 180-day high; 400 hours the 7-day volatility and the
    # plugins' windows (the overseer's 300 candles).
    startup_candle_count = 400

    # No take-profit: the regime decides when to leave. A wide hard stop for the tail.
    minimal_roi: ClassVar[dict[str, float]] = {"0": 100.0}
    stoploss = -0.20
    trailing_stop = False
    use_exit_signal = True
    exit_profit_only = False
    ignore_roi_if_entry_signal = True

    #: Smallest rebalancing order: 3 % of equity.
    min_trade_share = 0.03

    # At most 8 hyperoptable parameters, all with economically sensible ranges.
    target_volatility = DecimalParameter(0.2, 0.8, default=0.4, decimals=2, space="buy")
    trend_speed = CategoricalParameter(["slow", "fast"], default="slow", space="buy")
    band = DecimalParameter(0.1, 0.8, default=0.5, decimals=2, space="buy")
    btc_min_score = DecimalParameter(0.0, 1.0, default=0.5, decimals=2, space="buy")
    bear_drawdown = DecimalParameter(0.2, 0.7, default=0.5, decimals=2, space="buy")
    bear_factor = DecimalParameter(0.0, 1.0, default=0.5, decimals=2, space="buy")

    #: Pairs the volatility target is split over (see the module docstring).
    budget_pairs: ClassVar[int] = 2

    #: The grid the walk-forward evaluation chooses from on each training window.
    walk_forward_grid: ClassVar[dict[str, list[Any]]] = {
        "target_volatility": [0.3, 0.5],
        "trend_speed": ["slow", "fast"],
    }

    #: The overseer's defaults scaled to a strategy that holds most of the account on 1h
    #: candles (its own defaults suit 10 % flash positions on 5m): a drawdown of 15 % / 30 %
    #: of capital escalates, a flash crash is 8 % in three hours, and an emergency stop sits
    #: 5 % below the rate. Its high-volatility rule is off (multiplier 1): the target already
    #: falls as volatility rises, and halving it again on every crossing of the overseer's
    #: threshold traded the position back and forth. The config's values win.
    plugin_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "llm_overseer": {
            "escalation": {
                "drawdown_tier2": 0.15,
                "drawdown_tier3": 0.30,
                "flash_crash_return": 0.08,
            },
            "rules": {"emergency_stop_distance": 0.05, "high_vol_multiplier": 1.0},
        }
    }

    plot_config: ClassVar[dict[str, Any]] = {
        "main_plot": {},
        "subplots": {
            "allocation": {
                "target_weight": {"color": "#1f77b4", "type": "line"},
            },
            "regime": {
                "trend_score_1d": {"color": "#2ca02c"},
                "btc_trend_score_1d": {"color": "#ff7f0e"},
            },
            "volatility (annualised)": {
                "volatility": {"color": "#d62728"},
            },
        },
    }

    #: The regime columns each narration line shows (dry-run and live).
    narration_columns: ClassVar[tuple[tuple[str, str], ...]] = (
        ("trend", "trend_score_1d"),
        ("BTC trend", "btc_trend_score_1d"),
        ("volatility", "volatility"),
        ("drawdown", "drawdown_1d"),
    )

    def narration_rules(self) -> tuple[Rule, ...]:
        """The entry condition of :meth:`populate_entry_trend`: a target of ``ENTRY_WEIGHT``."""
        return (Check(TARGET_COLUMN, ">=", ENTRY_WEIGHT, label="target weight"),)

    def rebalancing_band(self) -> float:
        """The rebalancing band (hyperoptable)."""
        return float(self.band.value)

    @property
    def protections(self) -> list[dict[str, Any]]:
        """Cooldown, stop-loss guard, daily max drawdown on equity (one trade is enough: the
        positions are large), low-profit-pair locks, and a pair held out for a day after a
        stop-loss exit (else the rebalancing would buy it back on the next candle)."""
        return agent_protections(
            self.risk_limits.daily_drawdown_limit,
            self.timeframe,
            drawdown_trade_limit=1,
            pair_stop_lock_hours=24,
        )

    # -- the regime, from daily candles ------------------------------------------------------

    @informative("1d", cache=False)
    def populate_indicators_1d(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Trend scores at both speeds, 30-day volatility and the drawdown from the high."""
        return _daily_regime(dataframe)

    @informative("1d", "BTC/{stake}", fmt="btc_{column}_{timeframe}", cache=False)
    def populate_indicators_btc_1d(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """BTC's own daily regime, the filter for the other pairs."""
        return _daily_regime(dataframe)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """The 7-day volatility, the governing volatility, and the plugins' columns."""
        hourly = realised_volatility(
            dataframe["date"], dataframe["close"], VOL_HOURS, HOURS_PER_YEAR, "1h"
        )
        own = pd.DataFrame(
            {
                "vol_7d": hourly,
                "volatility": np.maximum(hourly, dataframe["vol_30d_1d"].to_numpy(np.float64)),
            },
            index=dataframe.index,
        )
        dataframe = pd.concat([dataframe, own], axis=1)
        return self.add_plugin_indicators(dataframe, metadata)

    # -- target and signals ------------------------------------------------------------------

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """The target weight; enter where it reaches ``ENTRY_WEIGHT``."""
        speed = self.trend_speed.value
        pair = metadata["pair"]
        pairs = self.budget_pairs
        limits = self.risk_limits
        leader = None
        if pair.split("/")[0] != "BTC":
            leader = dataframe[f"btc_trend_score_{speed}_1d"].to_numpy(np.float64)
        score = dataframe[f"trend_score_{speed}_1d"]
        weight = target_weights(
            score.to_numpy(np.float64),
            dataframe["volatility"].to_numpy(np.float64),
            dataframe["drawdown_1d"].to_numpy(np.float64),
            target_volatility=float(self.target_volatility.value),
            pairs=pairs,
            cap=min(limits.max_position_ratio, limits.max_total_exposure_ratio / pairs),
            bear_drawdown=float(self.bear_drawdown.value),
            bear_factor=float(self.bear_factor.value),
            leader_score=leader,
            leader_min_score=float(self.btc_min_score.value),
        )
        dataframe["trend_score_1d"] = score
        if leader is not None:
            dataframe["btc_trend_score_1d"] = dataframe[f"btc_trend_score_{speed}_1d"]
        else:
            dataframe["btc_trend_score_1d"] = score
        dataframe[TARGET_COLUMN] = weight
        enter = weight >= ENTRY_WEIGHT
        dataframe["enter_long"] = enter.astype(np.int64)
        dataframe["enter_tag"] = pd.Series("regime", index=dataframe.index).where(enter, None)
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Exit where the target weight falls below ``EXIT_WEIGHT``."""
        leave = dataframe[TARGET_COLUMN].to_numpy(np.float64) < EXIT_WEIGHT
        dataframe["exit_long"] = leave.astype(np.int64)
        dataframe["exit_tag"] = pd.Series("regime_off", index=dataframe.index).where(leave, None)
        return self.keep_analysed(dataframe, metadata)


def _daily_regime(dataframe: DataFrame) -> DataFrame:
    """The regime columns of a daily candle frame (see the module docstring)."""
    dates, close = dataframe["date"], dataframe["close"]
    out = {f"trend_score_{speed}": trend_score(dates, close, h) for speed, h in HORIZONS.items()}
    out["vol_30d"] = realised_volatility(dates, close, VOL_DAYS, DAYS_PER_YEAR, "1D")
    out["drawdown"] = drawdown_from_high(dates, close, HIGH_DAYS)
    return pd.concat([dataframe, pd.DataFrame(out, index=dataframe.index)], axis=1)
