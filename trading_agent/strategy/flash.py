"""What FlashStrategy and EnhancedFlashStrategy share on top of :class:`AgentStrategy`.

The live order-book imbalance on the latest candle (dry-run and live only) and the governing
session's thresholds scaled by the strategy's hyperoptable ``*_scale`` parameters.
"""

from __future__ import annotations

import logging
import math

import pandas as pd
from pandas import DataFrame

from plugins.orderbook import imbalance as book_imbalance
from trading_agent.hookspecs import LIVE_RUNMODES
from trading_agent.strategy.base import AgentStrategy
from trading_agent.strategy.flash_signals import flash_indicators, session_thresholds

logger = logging.getLogger(__name__)


class FlashStrategyBase(AgentStrategy):
    """Base of a strategy that declares ``imbalance_scale``, ``momentum_scale`` and
    ``volatility_scale`` parameters.

    A base class rather than a mixin: Freqtrade's hyperopt pickles the modules of a
    strategy's base classes by value, walking the bases up to ``IStrategy``; a mixin
    deriving from ``object`` would make it pickle ``builtins`` by value and fail with a
    RecursionError once hyperopt runs more than one job.
    """

    #: Book levels of the seed's imbalance (top 5).
    BOOK_LEVELS = 5
    # Indicator windows, in candles (fixed: hyperopt tunes the thresholds, not the windows).
    MOMENTUM_WINDOW = 3
    VOLATILITY_WINDOW = 12
    IMBALANCE_WINDOW = 3
    BREAKOUT_WINDOW = 12
    ATR_PERIOD = 14

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

        Never outside Freqtrade's TRADE_MODES (in backtests ``dp.orderbook`` would fetch
        today's book). A failed fetch leaves the latest imbalance NaN.
        """
        if self.runmode not in LIVE_RUNMODES or dataframe.empty:
            return
        last = dataframe.index[-1]
        try:
            value = book_imbalance(self.dp.orderbook(pair, self.BOOK_LEVELS), self.BOOK_LEVELS)
        except Exception as exc:
            logger.warning("%s: live order book unavailable (%s); no imbalance signal", pair, exc)
            value = math.nan
        dataframe.loc[last, "imbalance_book"] = value
        dataframe.loc[last, "imbalance"] = value

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
