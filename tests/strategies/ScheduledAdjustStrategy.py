"""A test strategy that buys, adds and partially sells on a fixed schedule (position adjustment).

Enters long at the open after a 00:00 candle every second day, adds half the first stake 3 and
6 hours after the entry, sells a third of the position 9 and 12 hours after it, and exits on
the 18:00 candle's signal. Its trades have several entries and partial exits each, which is
what the equity reconstruction must follow order by order. Signals read only the candle's
own date, so nothing looks ahead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy
from pandas import DataFrame

#: Hours after the entry at which the position grows (+) or shrinks (-), as a share of the
#: first entry's stake.
SCHEDULE = {3: 0.5, 6: 0.5, 9: -1 / 3, 12: -1 / 3}


class ScheduledAdjustStrategy(IStrategy):
    """Buy, add twice, sell a third twice, exit: the same schedule every second day."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    minimal_roi = {"0": 10.0}
    stoploss = -0.99
    use_exit_signal = True
    position_adjustment_enable = True
    max_entry_position_adjustment = 4
    startup_candle_count = 0
    process_only_new_candles = True

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """No indicators: the schedule reads the candle's date."""
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Enter after the 00:00 candle of every second day."""
        date = dataframe["date"]
        dataframe["enter_long"] = ((date.dt.hour == 0) & (date.dt.day % 2 == 0)).astype(int)
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Exit after the 18:00 candle."""
        dataframe["exit_long"] = (dataframe["date"].dt.hour == 18).astype(int)
        return dataframe

    def adjust_trade_position(
        self,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> float | None:
        """Add or reduce on the schedule, in stake currency (negative: sell that much)."""
        hours = (current_time - trade.open_date_utc) // timedelta(hours=1)
        share = SCHEDULE.get(hours)
        if share is None:
            return None
        first_stake = trade.select_filled_orders(trade.entry_side)[0].stake_amount
        return share * first_stake if share > 0 else share * trade.stake_amount
