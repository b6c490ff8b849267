"""TA-Lib candlestick patterns (``talib.CDL*``) as ``cdl_<name>`` columns in {-1, 0, 1}.

TA-Lib returns multiples of 100 (+ bullish, - bearish; some patterns use 200 for a confirmed
signal); the sign is kept. TA-Lib's candlestick functions only look at the current and
earlier candles (their body/shadow averages are trailing), so every value is known at its
candle's close.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import talib

from plugins.patterns.settings import candlestick_column, normalise_candlestick_name


def candlestick_columns(
    names: Iterable[str],
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
) -> dict[str, np.ndarray]:
    """Compute the named TA-Lib candlestick patterns (unknown names raise ``ValueError``)."""
    out: dict[str, np.ndarray] = {}
    for name in names:
        canonical = normalise_candlestick_name(name)
        raw = getattr(talib, canonical)(open_, high, low, close)
        out[candlestick_column(canonical)] = np.sign(raw).astype(np.int64)
    return out
