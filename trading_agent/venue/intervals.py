"""Kline intervals: MEXC spot v3 names, Freqtrade timeframe names and their lengths.

MEXC's spot API names intervals ``1m 5m 15m 30m 60m 4h 1d 1W 1M``; Freqtrade (and ccxt's
unified API) call the same lengths ``1m 5m 15m 30m 1h 4h 1d 1w 1M``, and Freqtrade's data
files use the unified names. The venue serves the intervals up to ``1d``: ``1M`` (a calendar
month) has no fixed length, and ``1W`` candles open on Mondays, which neither epoch-aligned
buckets nor the replay's whole-day time shift keep aligned, so both are recognised but never
served.
"""

from __future__ import annotations

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

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

#: Length in milliseconds of every fixed-length timeframe (Freqtrade names).
TIMEFRAME_MS: dict[str, int] = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "4h": 4 * HOUR_MS,
    "1d": DAY_MS,
}


def timeframe_ms(timeframe: str) -> int:
    """Length of a Freqtrade timeframe (``"5m"``, ``"1h"``...) in milliseconds.

    Raises ValueError naming the timeframe when it has no fixed length the venue serves.
    """
    try:
        return TIMEFRAME_MS[timeframe]
    except KeyError:
        raise ValueError(
            f"timeframe {timeframe!r} is not one the venue serves "
            f"(known: {', '.join(TIMEFRAME_MS)})"
        ) from None


def floor_time(t_ms: int, step_ms: int) -> int:
    """Start of the ``step_ms`` bucket holding ``t_ms`` (buckets aligned on the Unix epoch)."""
    return t_ms - (t_ms % step_ms)
