"""EnhancedFlashStrategy: flash signals filtered by trend, indicators, patterns and BTC.

The seed's ``EnhancedFlashTradingSignals``. A 5m strategy whose entries need all of:

- the flash trigger of FlashStrategy (imbalance / momentum / volatility breakout against the
  session's thresholds, ``min_signals`` of three, positive momentum);
- an up-trend on the higher timeframes (``@informative``): 1h EMA20 above EMA50 with the
  close above the 1h EMA50, 1h ADX above ``adx_min``, and 4h EMA20 above EMA50;
- 5m confirmation from TA-Lib indicators: MACD histogram above zero, close above the rolling
  VWAP, RSI below ``rsi_entry_max`` and the close inside the upper Bollinger band;
- no bearish chart pattern (patterns plugin) in the last hour; with ``require_pattern`` a
  bullish chart pattern or candlestick in the last two hours;
- for pairs other than BTC: BTC's own 1h trend up (``BTC/{stake}`` informative pair);
- enough liquidity: the largest stake is at most 2 % of the pair's mean quote volume per
  candle over the last hour (candle stand-in for the live order-book check, which the
  orderbook plugin makes in dry-run/live before every entry: spread, slippage, staleness).

Exits: RSI above ``rsi_exit``, or the 1h trend broken (close below the 1h EMA50 with a
negative MACD histogram); the ROI table, a trailing stop, the base class's hard stop and
volatility stop (2 x the 1h ATR below the rate), plugin stops and plugin exit requests.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import talib
from freqtrade.strategy import BooleanParameter, DecimalParameter, IntParameter, informative
from pandas import DataFrame

from plugins.patterns.columns import directional_candlestick_columns, pattern_signal_columns
from trading_agent.strategy.flash import FlashStrategyBase
from trading_agent.strategy.flash_signals import (
    SESSION_THRESHOLD_COLUMNS,
    component_tags,
    flash_entry,
    flash_strength,
    participation,
    recent_flag,
    require_columns,
    rolling_vwap,
)
from trading_agent.strategy.narration import Check, Flag, Rule
from trading_agent.strategy.plot_columns import marker, sessions_subplot

logger = logging.getLogger(__name__)


SESSION_COLUMNS = [*SESSION_THRESHOLD_COLUMNS.values(), "session_position_size_factor"]


def _f(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=np.float64)


def pattern_directions(dataframe: DataFrame) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Bullish/bearish chart patterns and candlesticks confirmed on each candle.

    Chart patterns are the patterns plugin's ``pattern_<name>`` columns (+1 a bullish
    breakout, -1 a bearish one, on the candle whose close confirms it); candlesticks are its
    ``cdl_<name>`` columns (the sign of TA-Lib's value), dojis excluded.
    Returns (chart_bull, chart_bear, candle_bull, candle_bear) as boolean Series.
    """
    charts = pattern_signal_columns(dataframe.columns)
    candles = directional_candlestick_columns(dataframe.columns)
    chart = dataframe[charts].to_numpy(dtype=np.float64) if charts else None
    candle = dataframe[candles].to_numpy(dtype=np.float64) if candles else None
    index = dataframe.index
    empty = np.zeros(len(index), dtype=bool)
    return (
        pd.Series((chart > 0).any(axis=1) if chart is not None else empty, index=index),
        pd.Series((chart < 0).any(axis=1) if chart is not None else empty, index=index),
        pd.Series((candle > 0).any(axis=1) if candle is not None else empty, index=index),
        pd.Series((candle < 0).any(axis=1) if candle is not None else empty, index=index),
    )


class EnhancedFlashStrategy(FlashStrategyBase):
    """Multi-timeframe, pattern-confirmed, BTC-filtered flash signals, long only."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = False
    process_only_new_candles = True
    # Each timeframe gets this many of its own candles: 400 x 4h covers the 4h EMA50 and
    # 400 x 5m every 5m indicator and plugin column to within 0.1 %.
    startup_candle_count = 400

    minimal_roi = {"0": 0.05, "120": 0.025, "360": 0.012, "720": 0.005}
    stoploss = -0.02
    trailing_stop = True
    trailing_stop_positive = 0.006
    trailing_stop_positive_offset = 0.012
    trailing_only_offset_is_reached = True
    use_custom_stoploss = True
    use_exit_signal = True
    exit_profit_only = False

    VWAP_WINDOW = 48
    #: Candles in which a bullish (bearish) pattern still counts for (against) an entry.
    BULL_LOOKBACK = 24
    BEAR_LOOKBACK = 12
    #: Liquidity stand-in: largest stake / mean quote volume per candle over an hour.
    LIQUIDITY_WINDOW = 12
    MAX_PARTICIPATION = 0.02

    imbalance_scale = DecimalParameter(0.5, 3.0, default=1.0, decimals=2, space="buy")
    momentum_scale = DecimalParameter(0.5, 4.0, default=1.0, decimals=2, space="buy")
    volatility_scale = DecimalParameter(0.5, 3.0, default=1.0, decimals=2, space="buy")
    min_signals = IntParameter(1, 3, default=2, space="buy")
    rsi_entry_max = IntParameter(55, 80, default=70, space="buy")
    adx_min = IntParameter(10, 35, default=20, space="buy")
    require_pattern = BooleanParameter(default=False, space="buy")
    rsi_exit = IntParameter(65, 90, default=78, space="sell")

    # Four subplots, each on one scale, for a 1600x1000 screen (FreqUI: Plot configurator ->
    # From strategy -> Save). The price carries the entry filters drawn in price units and
    # the chart patterns confirmed on a candle (candlesticks are too frequent to mark): dots in
    # FreqUI, stars in plot-dataframe, where Freqtrade's own signals are triangles.
    plot_config = {
        "main_plot": {
            "vwap": {"color": "#ff7f0e"},
            "bb_upper": {"color": "#7f7f7f"},
            "bb_lower": {"color": "#7f7f7f", "fill_to": "bb_upper"},
            "ema_fast_1h": {"color": "#17becf"},
            "ema_slow_1h": {"color": "#9467bd"},
            "marker_bull_pattern": {
                "color": "#2ca02c",
                "type": "scatter",
                "scatterSymbolSize": 10,
                "plotly": {"mode": "markers", "marker": {"symbol": "star", "size": 11}},
            },
            "marker_bear_pattern": {
                "color": "#d62728",
                "type": "scatter",
                "scatterSymbolSize": 10,
                "plotly": {"mode": "markers", "marker": {"symbol": "star", "size": 11}},
            },
        },
        "subplots": {
            "RSI, ADX": {
                "rsi": {"color": "#d62728"},
                "rsi_15m": {"color": "#ff9896"},
                "adx_1h": {"color": "#2ca02c"},
            },
            "MACD": {
                "macd": {"color": "#1f77b4"},
                "macdsignal": {"color": "#ff7f0e"},
                "macdhist": {"color": "#7f7f7f", "type": "bar"},
            },
            "risk": {
                "signal_strength": {"color": "#8c564b"},
                "trend_score": {"color": "#98df8a"},
                "risk_level": {"color": "#e377c2"},
                "risk_multiplier": {"color": "#d62728"},
            },
            "sessions": sessions_subplot(),
        },
    }
    #: Also NaN by design: the pattern markers, on candles without a confirmed chart pattern.
    plot_sparse_columns = FlashStrategyBase.plot_sparse_columns | {
        "marker_bull_pattern",
        "marker_bear_pattern",
    }

    # -- informative timeframes (pure TA-Lib: no hooks run here, so Freqtrade's cache is safe) --

    @informative("15m")
    def populate_indicators_15m(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """15m RSI, EMA9/EMA21 and MACD histogram."""
        close = _f(dataframe["close"])
        _, _, hist = talib.MACD(close, fastperiod=12, slowperiod=26, signalperiod=9)
        return dataframe.assign(
            rsi=talib.RSI(close, timeperiod=14),
            ema_fast=talib.EMA(close, timeperiod=9),
            ema_slow=talib.EMA(close, timeperiod=21),
            macdhist=hist,
        )

    @informative("1h")
    def populate_indicators_1h(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """1h EMA20/EMA50, ADX, RSI and ATR."""
        high, low, close = (_f(dataframe[c]) for c in ("high", "low", "close"))
        return dataframe.assign(
            ema_fast=talib.EMA(close, timeperiod=20),
            ema_slow=talib.EMA(close, timeperiod=50),
            adx=talib.ADX(high, low, close, timeperiod=14),
            rsi=talib.RSI(close, timeperiod=14),
            atr=talib.ATR(high, low, close, timeperiod=14),
        )

    @informative("4h")
    def populate_indicators_4h(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """4h EMA20/EMA50."""
        close = _f(dataframe["close"])
        return dataframe.assign(
            ema_fast=talib.EMA(close, timeperiod=20),
            ema_slow=talib.EMA(close, timeperiod=50),
        )

    @informative("1h", "BTC/{stake}", fmt="btc_{column}_{timeframe}")
    def populate_indicators_btc_1h(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """BTC's 1h EMA20/EMA50: the cross-asset trend filter."""
        close = _f(dataframe["close"])
        return dataframe.assign(
            ema_fast=talib.EMA(close, timeperiod=20),
            ema_slow=talib.EMA(close, timeperiod=50),
        )

    # -- base timeframe ---------------------------------------------------------------------------

    def max_stake(self) -> float:
        """The largest stake an entry can get (config stake x the stake-multiplier cap)."""
        stake = self.config.get("stake_amount", 0)
        if not isinstance(stake, int | float) or isinstance(stake, bool):
            wallet = float(self.config.get("dry_run_wallet", 0) or 0)
            return wallet * self.risk_limits.max_position_ratio
        return float(stake) * self.risk_limits.max_stake_multiplier

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """5m TA-Lib indicators, flash columns, plugin columns, patterns, trend and liquidity."""
        high, low, close = (_f(dataframe[c]) for c in ("high", "low", "close"))
        macd, macdsignal, macdhist = talib.MACD(close, fastperiod=12, slowperiod=26, signalperiod=9)
        bb_upper, bb_mid, bb_lower = talib.BBANDS(close, timeperiod=20, nbdevup=2, nbdevdn=2)
        own = self.flash_columns(dataframe)
        own = own.assign(
            rsi=talib.RSI(close, timeperiod=14),
            macd=macd,
            macdsignal=macdsignal,
            macdhist=macdhist,
            bb_upper=bb_upper,
            bb_mid=bb_mid,
            bb_lower=bb_lower,
            ema_fast=talib.EMA(close, timeperiod=9),
            ema_slow=talib.EMA(close, timeperiod=21),
            adx=talib.ADX(high, low, close, timeperiod=14),
            vwap=rolling_vwap(
                dataframe["high"],
                dataframe["low"],
                dataframe["close"],
                dataframe["volume"],
                self.VWAP_WINDOW,
            ),
            participation=participation(
                self.max_stake(), dataframe["close"], dataframe["volume"], self.LIQUIDITY_WINDOW
            ),
        )
        # The base class's volatility stop reads ``atr``: a trend trade held for hours trails
        # 2 x the 1h ATR, not the 5m one (which would stop it out on 5m noise).
        own["atr_5m"] = own["atr"]
        own["atr"] = dataframe["atr_1h"]
        own["atr_pct"] = 100.0 * own["atr"] / dataframe["close"]
        dataframe = pd.concat([dataframe, own], axis=1)
        dataframe = self.add_plugin_indicators(dataframe, metadata)
        require_columns(dataframe, SESSION_COLUMNS, type(self).__name__, "session_manager")
        require_columns(dataframe, ["swing_last_high"], type(self).__name__, "patterns")
        dataframe = pd.concat([dataframe, self.context_columns(dataframe, metadata)], axis=1)
        self.apply_live_book(dataframe, metadata["pair"])
        return pd.concat([dataframe, self.chart_columns(dataframe, metadata["pair"])], axis=1)

    def context_columns(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Pattern, trend, BTC-filter and liquidity columns derived from the frame."""
        chart_bull, chart_bear, candle_bull, _ = pattern_directions(dataframe)
        bull = chart_bull | candle_bull
        close = dataframe["close"]
        trend_1h = (dataframe["ema_fast_1h"] > dataframe["ema_slow_1h"]) & (
            close > dataframe["ema_slow_1h"]
        )
        trend_4h = dataframe["ema_fast_4h"] > dataframe["ema_slow_4h"]
        if metadata["pair"].split("/")[0].upper() == "BTC":
            btc = pd.Series(True, index=dataframe.index)
        else:
            btc = (dataframe["btc_close_1h"] > dataframe["btc_ema_slow_1h"]) & (
                dataframe["btc_ema_fast_1h"] > dataframe["btc_ema_slow_1h"]
            )
        return pd.DataFrame(
            {
                "bull_pattern": bull.astype(np.int64),
                "bear_pattern": chart_bear.astype(np.int64),
                "bull_pattern_recent": recent_flag(bull, self.BULL_LOOKBACK).astype(np.int64),
                "bear_pattern_recent": recent_flag(chart_bear, self.BEAR_LOOKBACK).astype(np.int64),
                "marker_bull_pattern": marker(dataframe["low"], chart_bull),
                "marker_bear_pattern": marker(dataframe["high"], chart_bear),
                "trend_up": (trend_1h & trend_4h).astype(np.int64),
                "btc_trend": btc.astype(np.int64),
                "liquidity_ok": (dataframe["participation"] <= self.MAX_PARTICIPATION).astype(
                    np.int64
                ),
            },
            index=dataframe.index,
        )

    # -- signals ----------------------------------------------------------------------------------

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Flash trigger AND trend AND confirmation AND patterns AND BTC AND liquidity."""
        components = self.signal_components(dataframe)
        trigger = flash_entry(components, dataframe["momentum_pct"], self.min_signals.value)
        close = dataframe["close"]
        trend = (dataframe["trend_up"] == 1) & (dataframe["adx_1h"] > self.adx_min.value)
        confirm = (
            (dataframe["macdhist"] > 0)
            & (close > dataframe["vwap"])
            & (dataframe["rsi"] < self.rsi_entry_max.value)
            & (close < dataframe["bb_upper"])
        )
        patterns_ok = dataframe["bear_pattern_recent"] == 0
        if self.require_pattern.value:
            patterns_ok &= dataframe["bull_pattern_recent"] == 1
        enter = (
            trigger
            & trend
            & confirm
            & patterns_ok
            & (dataframe["btc_trend"] == 1)
            & (dataframe["liquidity_ok"] == 1)
        )
        trend_score = ((dataframe["adx_1h"] - self.adx_min.value) / 20.0).clip(0.0, 1.0)
        strength = (
            0.5 * flash_strength(components)
            + 0.25 * trend_score.fillna(0.0)
            + 0.25 * dataframe["bull_pattern_recent"].astype(np.float64)
        ).clip(0.0, 1.0)
        dataframe["trend_score"] = trend_score
        dataframe["signal_strength"] = strength
        dataframe["risk_level"] = strength * dataframe["session_position_size_factor"]
        tags = component_tags(components, "enhanced")
        tags = tags.where(dataframe["bull_pattern_recent"] == 0, tags + "+pattern")
        dataframe["enter_long"] = enter.astype(np.int64)
        dataframe["enter_tag"] = tags.where(enter, None)
        return dataframe

    def narration_rules(self) -> tuple[Rule, ...]:
        """The entry conditions of :meth:`populate_entry_trend`, as the narration names them."""
        pattern = (
            (Flag("bull_pattern_recent", "no bullish pattern in the last two hours"),)
            if self.require_pattern.value
            else ()
        )
        return (
            *super().narration_rules(),
            Flag("trend_up", "no 1h and 4h up-trend"),
            Check("adx_1h", ">", self.adx_min.value, label="1h ADX"),
            Check("macdhist", ">", 0, label="MACD histogram"),
            Check("close", ">", "vwap", versus="VWAP"),
            Check("rsi", "<", self.rsi_entry_max.value, label="RSI"),
            Check("close", "<", "bb_upper", versus="upper Bollinger band"),
            Flag("bear_pattern_recent", "bearish chart pattern in the last hour", want=0),
            *pattern,
            Flag("btc_trend", "BTC's 1h trend is not up"),
            Flag("liquidity_ok", "the stake is too large for the pair's volume"),
        )

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Exit on an overbought RSI or a broken 1h trend.

        A bearish chart pattern blocks new entries but is no exit signal: on 2024-01..06
        (in-sample) exits on bearish breakouts sold after the drop and lost 0.3 % each.
        """
        overbought = dataframe["rsi"] > self.rsi_exit.value
        broken = (dataframe["close"] < dataframe["ema_slow_1h"]) & (dataframe["macdhist"] < 0)
        dataframe["exit_long"] = (overbought | broken).astype(np.int64)
        reason = np.select(
            [overbought.to_numpy(), broken.to_numpy()],
            ["rsi_overbought", "trend_broken"],
            default="",
        )
        dataframe["exit_tag"] = pd.Series(reason, index=dataframe.index).replace("", None)
        return self.keep_analysed(dataframe, metadata)
