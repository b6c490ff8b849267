"""The columns the overseer adds to every analysed frame (its ``add_indicators``): market
features over each candle's window; :mod:`plugins.llm_overseer.features` has the maths."""

from __future__ import annotations

#: Prefix of every column the overseer adds.
PREFIX = "overseer_"

RET_1 = f"{PREFIX}ret_1"  # return over the last candle
RET_SHORT = f"{PREFIX}ret_short"  # ... over SHORT_WINDOW candles
RET_LONG = f"{PREFIX}ret_long"  # ... over LONG_WINDOW candles
FLASH_RETURN = f"{PREFIX}flash_return"  # ... over the flash-crash window
VOL_RECENT = f"{PREFIX}vol_recent"  # rolling volatility of log returns, last VOL_WINDOW
VOL_BASELINE = f"{PREFIX}vol_baseline"  # its median over the window
VOL_RATIO = f"{PREFIX}vol_ratio"  # recent / baseline (1 for a zero baseline)
EMA_GAP = f"{PREFIX}ema_gap"  # close / EMA - 1 (EMA seeded at the window's first close)
EMA_SLOPE = f"{PREFIX}ema_slope"  # EMA / the same EMA SHORT_WINDOW candles earlier - 1
RANGE_POSITION = f"{PREFIX}range_position"  # where the close sits between low and high
FROM_HIGH = f"{PREFIX}from_high"  # close / the window's high - 1
CANDLES = f"{PREFIX}candles"  # candles in the window

#: Every column, in the order ``add_indicators`` returns them.
COLUMNS: tuple[str, ...] = (
    RET_1,
    RET_SHORT,
    RET_LONG,
    FLASH_RETURN,
    VOL_RECENT,
    VOL_BASELINE,
    VOL_RATIO,
    EMA_GAP,
    EMA_SLOPE,
    RANGE_POSITION,
    FROM_HIGH,
    CANDLES,
)

#: Fewest candles in a window for any feature (two rolling volatilities to compare).
MIN_CANDLES = 26
