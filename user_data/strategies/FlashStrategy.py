"""FlashStrategy: short-horizon order-flow, momentum and volatility-breakout signals.

The seed's ``FlashTradingSignals`` done right. On each 5m candle three long components are
checked against the governing trading session's thresholds (session_manager plugin):

- order-book imbalance above ``session_imbalance_threshold`` (live and dry-run: the live
  book's top-5 imbalance on the latest candle; backtests: the candle stand-in
  ``imbalance_proxy``, a 3-candle volume-weighted close location, see flash_signals.py);
- momentum (3-candle return, percent) above ``session_momentum_threshold``;
- a volatility breakout: one-candle return volatility over 12 candles (percent) above
  ``session_volatility_threshold`` with the close above the prior 12-candle high.

``min_signals`` of three (default all three) and positive momentum open a long, on the
signal's first candle; the mean of the component scores is the
``signal_strength`` that sizes the stake (with the session's position-size factor and the
plugins' risk multiplier, clamped by the base class). Exits: the session's take-profit
(custom ROI) and stop-loss, a reversal of momentum and imbalance, a time stop, and the base
class's hard 2 % stop, ATR stop and plugin exits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.persistence import Trade
from freqtrade.strategy import DecimalParameter, IntParameter, stoploss_from_absolute
from pandas import DataFrame

from trading_agent.strategy.base import LIVE_RUNMODES, current_stop
from trading_agent.strategy.flash import FlashStrategyBase
from trading_agent.strategy.flash_signals import (
    SESSION_THRESHOLD_COLUMNS,
    component_tags,
    flash_entry,
    flash_exit,
    flash_strength,
    onset,
    require_columns,
)

logger = logging.getLogger(__name__)


#: Trade custom-data keys: the entry session's targets, in basis points.
TAKE_PROFIT_KEY = "session_take_profit_bps"
STOP_LOSS_KEY = "session_stop_loss_bps"
#: Session columns this strategy reads.
SESSION_COLUMNS = [
    *SESSION_THRESHOLD_COLUMNS.values(),
    "session_position_size_factor",
    "session_take_profit_bps",
    "session_stop_loss_bps",
]


class FlashStrategy(FlashStrategyBase):
    """Session-aware flash signals (imbalance, momentum, volatility breakout), long only."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = False
    process_only_new_candles = True
    # Every indicator (and the plugins' columns) is within 0.1 % after 400 candles.
    startup_candle_count = 400

    # Hard ceilings; the session take-profit (custom ROI) and stops act well inside them.
    minimal_roi = {"0": 0.05}
    stoploss = -0.02
    trailing_stop = False
    use_custom_stoploss = True
    use_custom_roi = True
    use_exit_signal = True
    exit_profit_only = False

    # Multipliers on the session thresholds (1.0 = the session manager's values).
    imbalance_scale = DecimalParameter(0.5, 3.0, default=2.0, decimals=2, space="buy")
    momentum_scale = DecimalParameter(0.5, 4.0, default=3.0, decimals=2, space="buy")
    volatility_scale = DecimalParameter(0.5, 3.0, default=1.0, decimals=2, space="buy")
    min_signals = IntParameter(2, 3, default=3, space="buy")
    # Multipliers on the session take-profit and stop-loss (basis points of the entry price).
    take_profit_scale = DecimalParameter(0.5, 6.0, default=2.0, decimals=2, space="sell")
    stop_loss_scale = DecimalParameter(0.5, 6.0, default=3.0, decimals=2, space="sell")
    max_hold_minutes = IntParameter(15, 480, default=120, space="sell")

    plot_config = {
        "main_plot": {},
        "subplots": {
            "imbalance": {
                "imbalance": {"color": "#1f77b4"},
                "imbalance_proxy": {"color": "#aec7e8"},
                "imbalance_book": {"color": "#d62728", "type": "scatter"},
                "threshold_imbalance": {"color": "#7f7f7f"},
            },
            "momentum / volatility (%)": {
                "momentum_pct": {"color": "#2ca02c"},
                "threshold_momentum": {"color": "#98df8a"},
                "volatility_pct": {"color": "#ff7f0e"},
                "threshold_volatility": {"color": "#ffbb78"},
            },
            "session": {"session_code": {"color": "#9467bd", "type": "bar"}},
            "risk": {
                "signal_strength": {"color": "#8c564b"},
                "risk_level": {"color": "#e377c2"},
                "session_position_size_factor": {"color": "#c49c94"},
            },
        },
    }

    # -- indicators and signals -------------------------------------------------------------

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Flash indicators, the plugins' columns, and the live book imbalance when trading."""
        own = self.flash_columns(dataframe)
        dataframe = pd.concat([dataframe, own], axis=1)
        dataframe = self.add_plugin_indicators(dataframe, metadata)
        require_columns(dataframe, SESSION_COLUMNS, type(self).__name__, "session_manager")
        self.apply_live_book(dataframe, metadata["pair"])
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Long where ``min_signals`` components start firing; ``signal_strength`` sizes stakes."""
        components = self.signal_components(dataframe)
        # Enter on the onset of a signal, not on every candle it persists.
        enter = onset(flash_entry(components, dataframe["momentum_pct"], self.min_signals.value))
        strength = flash_strength(components)
        dataframe["signal_strength"] = strength
        dataframe["risk_level"] = strength * dataframe["session_position_size_factor"]
        dataframe["enter_long"] = enter.astype(np.int64)
        dataframe["enter_tag"] = component_tags(components, "flash").where(enter, None)
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Exit when momentum and imbalance both reversed past the session thresholds."""
        thresholds = self.thresholds(dataframe)
        exit_ = flash_exit(
            dataframe["imbalance"],
            dataframe["momentum_pct"],
            thresholds["imbalance"],
            thresholds["momentum"],
        )
        dataframe["exit_long"] = exit_.astype(np.int64)
        dataframe["exit_tag"] = pd.Series("flash_reversal", index=dataframe.index).where(
            exit_, None
        )
        return self.keep_analysed(dataframe, metadata)

    # -- trade callbacks ----------------------------------------------------------------------

    def session_targets(self, trade: Trade) -> tuple[float | None, float | None]:
        """The entry session's (take-profit, stop-loss) in bps for ``trade``.

        Held in memory; in dry-run and live also on the trade as custom data, read back
        after a restart. Backtests never touch Freqtrade's custom-data store there: it is
        a list scanned on every read and write, so its cost grows with every trade.
        """
        cache = self._targets_cache()
        key = (trade.id, trade.pair, trade.open_date_utc)
        targets = cache.get(key)
        if targets is None:
            if self.runmode not in LIVE_RUNMODES:
                return (None, None)
            targets = (trade.get_custom_data(TAKE_PROFIT_KEY), trade.get_custom_data(STOP_LOSS_KEY))
            if targets == (None, None):
                return targets
            cache[key] = targets
        return targets

    def _targets_cache(self) -> dict[tuple, tuple[float | None, float | None]]:
        return self.__dict__.setdefault("_session_targets", {})

    def order_filled(
        self, pair: str, trade: Trade, order: Any, current_time: datetime, **kwargs: Any
    ) -> None:
        """Remember the entry session's take-profit and stop-loss, then tell the plugins."""
        key = (trade.id, trade.pair, trade.open_date_utc)
        if order.ft_order_side == trade.entry_side:
            if self.session_targets(trade) == (None, None):
                targets = session_targets_of(self.last_candle(pair))
                if targets != (None, None):
                    self._targets_cache()[key] = targets
                    if self.runmode in LIVE_RUNMODES:
                        store_session_targets(trade, targets)
        elif not trade.is_open or order.safe_amount >= trade.amount:
            self._targets_cache().pop(key, None)
        super().order_filled(pair, trade, order, current_time, **kwargs)

    def custom_roi(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        trade_duration: int,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float | None:
        """The entry session's take-profit (basis points x scale) as the trade's ROI."""
        bps, _ = self.session_targets(trade)
        if bps is None:
            return None
        return float(bps) * self.take_profit_scale.value / 1e4

    def custom_stoploss(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        """The base stop (hard, ATR, plugins), tightened to the entry session's stop-loss."""
        base = super().custom_stoploss(
            pair, trade, current_time, current_rate, current_profit, after_fill, **kwargs
        )
        try:
            _, bps = self.session_targets(trade)
            if bps is None:
                return base
            session_stop = trade.open_rate * (1 - float(bps) * self.stop_loss_scale.value / 1e4)
            return tighter_stop(trade, current_rate, base, session_stop)
        except Exception:
            logger.exception("session stop for %s failed; base stop kept", pair)
            return base

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        """Plugin exit requests first, then the time stop after ``max_hold_minutes``."""
        reason = super().custom_exit(
            pair, trade, current_time, current_rate, current_profit, **kwargs
        )
        if reason:
            return reason
        if current_time - trade.open_date_utc >= timedelta(minutes=self.max_hold_minutes.value):
            return "flash_time_stop"
        return None


def session_targets_of(candle: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """The signal candle's session (take-profit, stop-loss) in bps; ``None`` where unusable."""
    targets = []
    for column in ("session_take_profit_bps", "session_stop_loss_bps"):
        try:
            value = float(candle.get(column))
        except (TypeError, ValueError):
            value = math.nan
        targets.append(value if math.isfinite(value) and value > 0 else None)
    return targets[0], targets[1]


def store_session_targets(trade: Trade, targets: tuple[float | None, float | None]) -> None:
    """Keep the session targets on the trade as custom data (survives a restart)."""
    for key, value in zip((TAKE_PROFIT_KEY, STOP_LOSS_KEY), targets, strict=True):
        if value is not None:
            trade.set_custom_data(key, value)


def tighter_stop(
    trade: Trade, current_rate: float, base: float | None, candidate_rate: float
) -> float | None:
    """Combine the base stop (a distance from ``current_rate``) with a candidate stop price.

    Returns the distance of the higher of the two stop prices (long side). A positive base
    distance already includes the trade's current stop (see :func:`current_stop`); otherwise
    (no base stop, or a stop at or above the rate) the current stop is the floor, so the
    stop only ever moves up.
    """
    if not (math.isfinite(candidate_rate) and candidate_rate > 0):
        return base
    floor = current_rate * (1 - base) if base is not None and base > 0 else current_stop(trade)
    rate = candidate_rate if floor is None or candidate_rate > floor else floor
    return stoploss_from_absolute(rate, current_rate, is_short=trade.is_short)
