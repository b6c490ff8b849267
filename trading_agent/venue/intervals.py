"""Kline intervals: MEXC spot v3 names, Freqtrade timeframe names and their lengths.

MEXC's spot API names intervals ``1m 5m 15m 30m 60m 4h 1d 1W 1M``; Freqtrade (and ccxt's
unified API) call the same lengths ``1m 5m 15m 30m 1h 4h 1d 1w 1M``, and Freqtrade's data
files use the unified names. The venue serves the intervals up to ``1d``: ``1M`` (a calendar
month) has no fixed length, and ``1W`` candles open on Mondays, which neither epoch-aligned
buckets nor the replay's whole-day time shift keep aligned, so both are recognised but never
served.
"""

from __future__ import annotations

from freqtrade.exchange import timeframe_to_msecs

DAY_MS = timeframe_to_msecs("1d")

#: MEXC spot interval name -> Freqtrade timeframe name.
MEXC_TO_TIMEFRAME: dict[str, str] = {
    "1m": "1m",
    "5m": "5m",
    "15m": "15m",
    "30m": "30m",
    "60m": "1h",
    "4h": "4h",
    "1d": "1d",
    "1W": "1w",
    "1M": "1M",
}

#: Freqtrade timeframe name -> MEXC spot interval name.
TIMEFRAME_TO_MEXC: dict[str, str] = {tf: name for name, tf in MEXC_TO_TIMEFRAME.items()}

#: Length in milliseconds of every timeframe the venue serves (Freqtrade names), by
#: Freqtrade's own timeframe arithmetic.
SERVED_TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
TIMEFRAME_MS: dict[str, int] = {tf: timeframe_to_msecs(tf) for tf in SERVED_TIMEFRAMES}


def floor_time(t_ms: int, step_ms: int) -> int:
    """Start of the ``step_ms`` bucket holding ``t_ms`` (buckets aligned on the Unix epoch)."""
    return t_ms - (t_ms % step_ms)
