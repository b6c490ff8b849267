"""What FlashStrategy and EnhancedFlashStrategy share on top of :class:`AgentStrategy`.

The live order-book imbalance on the latest candle (dry-run and live only), the governing
session's thresholds scaled by the strategy's hyperoptable ``*_scale`` parameters and the
flash components they gate, the protections, the ROI table capped at the configured
take-profit, and the chart columns both ``plot_config`` use (session lanes, the plugins'
advised risk multiplier).
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pandas import DataFrame

from plugins.orderbook import imbalance as book_imbalance
from trading_agent.hookspecs import LIVE_RUNMODES
from trading_agent.strategy.base import AgentStrategy
from trading_agent.strategy.flash_signals import (
    flash_components,
    flash_indicators,
    session_thresholds,
)
from trading_agent.strategy.narration import AllOf, AtLeast, Check, Flag, Rule
from trading_agent.strategy.plot_columns import SESSION_LANES, LiveHistory, session_lanes
from trading_agent.strategy.risk import agent_protections, capped_roi

logger = logging.getLogger(__name__)


class FlashStrategyBase(AgentStrategy):
    """Base of a strategy that declares ``imbalance_scale``, ``momentum_scale`` and
    ``volatility_scale`` parameters.

    A base class rather than a mixin: Freqtrade's hyperopt pickles the modules of a
    strategy's base classes by value, walking the bases up to ``IStrategy``; a mixin
    deriving from ``object`` would make it pickle ``builtins`` by value and fail with a
    RecursionError once hyperopt runs more than one job.
    """

    #: The seed's largest position: 10 % of the account (within the config's hard cap).
    max_position_share = 0.10
    #: Book levels of the seed's imbalance (top 5).
    BOOK_LEVELS = 5
    # Indicator windows, in candles (fixed: hyperopt tunes the thresholds, not the windows).
    MOMENTUM_WINDOW = 3
    VOLATILITY_WINDOW = 12
    IMBALANCE_WINDOW = 3
    BREAKOUT_WINDOW = 12
    ATR_PERIOD = 14

    @property
    def protections(self) -> list[dict[str, Any]]:
        """Cooldown, stop-loss guard, daily max drawdown on equity and low-profit-pair locks."""
        return agent_protections(self.risk_limits.daily_drawdown_limit, self.timeframe)

    def bot_start(self, **kwargs: Any) -> None:
        """Start the plugins, and cap the ROI table at the configured take-profit."""
        super().bot_start(**kwargs)
        self.minimal_roi = capped_roi(self.minimal_roi, self.risk_limits.take_profit)

    def flash_columns(self, dataframe: DataFrame) -> DataFrame:
        """The flash indicator columns of ``dataframe`` with this strategy's windows."""
        return flash_indicators(
            dataframe,
            momentum_window=self.MOMENTUM_WINDOW,
            volatility_window=self.VOLATILITY_WINDOW,
            imbalance_window=self.IMBALANCE_WINDOW,
            breakout_window=self.BREAKOUT_WINDOW,
            atr_period=self.ATR_PERIOD,
        )

    def apply_live_book(self, dataframe: DataFrame, pair: str) -> None:
        """In dry-run/live, put the live book's top-5 imbalance on the latest candle.

        Only in Freqtrade's trade modes (see :meth:`AgentStrategy.live_book`). A failed fetch
        leaves the latest imbalance NaN.
        """
        if self.runmode not in LIVE_RUNMODES or dataframe.empty:
            return
        last = dataframe.index[-1]
        book = self.live_book(pair, self.BOOK_LEVELS)
        try:
            value = book_imbalance(book, self.BOOK_LEVELS) if book is not None else math.nan
        except Exception as exc:
            logger.warning("%s: order book unusable (%s); no imbalance signal", pair, exc)
            value = math.nan
        dataframe.loc[last, "imbalance_book"] = value
        dataframe.loc[last, "imbalance"] = value

    #: Plotted columns that are NaN by design where there is nothing to show: session lanes
    #: while the session is closed, and the advised risk multiplier outside dry-run/live (and
    #: before the bot's first candle). Every other plotted column is finite after start-up.
    plot_sparse_columns: frozenset[str] = frozenset(
        {*(f"session_lane_{name}" for name in SESSION_LANES), "risk_multiplier"}
    )

    def chart_columns(self, dataframe: DataFrame, pair: str) -> DataFrame:
        """Session lanes and ``risk_multiplier`` (see :mod:`trading_agent.strategy.plot_columns`).

        ``risk_multiplier`` is the stake multiplier the plugins (the overseer) advise for a
        new entry on each candle the bot has seen in dry-run/live: 1 is full size, 0.5 half,
        0 no new risk. NaN in backtests, where the overseer decides only as the run goes.
        """
        columns = session_lanes(dataframe)
        columns["risk_multiplier"] = self._risk_multiplier_history(dataframe, pair)
        return columns

    def _risk_multiplier_history(self, dataframe: DataFrame, pair: str) -> np.ndarray:
        if self.runmode not in LIVE_RUNMODES or dataframe.empty:
            return np.full(len(dataframe), np.nan)
        history: LiveHistory = self.__dict__.setdefault("_risk_history", LiveHistory())
        last = dataframe.iloc[-1]
        try:
            risk = self.agent.risk_advice(
                pair=pair,
                side="long",
                current_time=datetime.now(UTC),
                current_rate=float(last["close"]),
                candle=last.to_dict(),
                trade=None,
            )
            history.record(pair, last["date"], risk.stake_multiplier)
        except Exception as exc:
            logger.warning("%s: advised risk multiplier unavailable (%s)", pair, exc)
        return history.column(pair, dataframe["date"])

    def thresholds(self, dataframe: DataFrame) -> dict[str, pd.Series]:
        """The governing session's thresholds times this strategy's scale parameters."""
        return session_thresholds(
            dataframe,
            {
                "imbalance": self.imbalance_scale.value,
                "momentum": self.momentum_scale.value,
                "volatility": self.volatility_scale.value,
            },
        )

    def narration_rules(self) -> tuple[Rule, ...]:
        """The flash trigger as narration rules: ``min_signals`` of the three components
        (each against its session threshold, as in :meth:`signal_components`) and positive
        momentum (:func:`~trading_agent.strategy.flash_signals.flash_entry`)."""
        components = (
            Check("imbalance", ">", "threshold_imbalance"),
            Check("momentum_pct", ">", "threshold_momentum", label="momentum %"),
            AllOf(
                "volatility breakout",
                (
                    Check("volatility_pct", ">", "threshold_volatility", label="volatility %"),
                    Flag("breakout", "no close above the prior range"),
                ),
            ),
        )
        return (
            AtLeast("flash signals", int(self.min_signals.value), components),
            Check("momentum_pct", ">", 0, label="momentum %"),
        )

    def signal_components(self, dataframe: DataFrame) -> dict[str, pd.Series]:
        """The flash components against the session's scaled thresholds; writes each
        threshold to the frame as ``threshold_<name>`` (plotted beside its signal)."""
        thresholds = self.thresholds(dataframe)
        for name, values in thresholds.items():
            dataframe[f"threshold_{name}"] = values
        return flash_components(
            dataframe["imbalance"],
            dataframe["momentum_pct"],
            dataframe["volatility_pct"],
            dataframe["breakout"],
            thresholds,
        )
