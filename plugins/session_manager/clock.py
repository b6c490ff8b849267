"""Time-of-day arithmetic on candle timestamps: clock strings, UTC instants, local clocks.

Everything here is vectorised over numpy/pandas and depends only on the timestamps it is
given, never on the wall clock, so a backtest and a live bot classify a candle the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

SECONDS_PER_DAY = 86_400

_CLOCK_PATTERN = re.compile(r"^(?P<hour>\d{2}):(?P<minute>\d{2})$")
_UNIT_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"})


def parse_clock_time(text: str, *, allow_end_of_day: bool = False) -> int:
    """Return the seconds after midnight of a ``"HH:MM"`` clock time.

    ``"24:00"`` (the end of the day, 86,400 s) is accepted only when ``allow_end_of_day``
    is true, i.e. for the end of a window. Anything else raises ``ValueError`` naming the text.
    """
    if not isinstance(text, str):
        raise ValueError(f"clock time {text!r} must be a string 'HH:MM'")
    match = _CLOCK_PATTERN.match(text)
    if match is None:
        raise ValueError(f"clock time {text!r} is not in the form 'HH:MM' (e.g. '08:00')")
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour == 24 and minute == 0:
        if allow_end_of_day:
            return SECONDS_PER_DAY
        raise ValueError(f"clock time {text!r} is only allowed as the end of a window")
    if hour > 23 or minute > 59:
        raise ValueError(f"clock time {text!r} is out of range (00:00 to 23:59)")
    return hour * 3600 + minute * 60


def format_clock_time(seconds: int) -> str:
    """Format seconds after midnight as ``"HH:MM"`` (86,400 becomes ``"24:00"``)."""
    if not 0 <= seconds <= SECONDS_PER_DAY:
        raise ValueError(f"seconds after midnight {seconds!r} out of range 0..86400")
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@lru_cache(maxsize=64)
def check_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA time zone, else raise ``ValueError`` naming it."""
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"time zone {name!r} must be a non-empty IANA name such as 'Europe/London'"
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as 'America/New_York')"
        ) from exc
    return name


def as_utc_index(dates: pd.Series | pd.Index | Iterable) -> pd.DatetimeIndex:
    """Turn timezone-aware timestamps into a UTC ``DatetimeIndex`` (same instants).

    Naive timestamps are refused (their instant is ambiguous), as are missing values.
    """
    if isinstance(dates, pd.Series):
        dates = dates.array
    try:
        index = pd.DatetimeIndex(dates)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dates could not be read as timestamps: {exc}") from exc
    if index.tz is None and len(index) == 0:
        return index.tz_localize("UTC")  # an empty frame may carry an untyped date column
    if index.tz is None:
        raise ValueError(
            "dates must be timezone-aware (Freqtrade candle dates are UTC); got naive timestamps"
        )
    if index.hasnans:
        raise ValueError("dates contain missing values (NaT)")
    return index.tz_convert("UTC")


def seconds_of_day(index: pd.DatetimeIndex, timezone: str = "UTC") -> np.ndarray:
    """Seconds after local midnight, on the clock of ``timezone``, for each UTC instant.

    Local clocks follow daylight saving through the IANA database: on the day a clock jumps
    forward the skipped local times simply never occur, and on the day it falls back the
    repeated hour occurs twice.
    """
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("seconds_of_day needs a timezone-aware DatetimeIndex")
    if timezone in _UTC_NAMES:
        local = index
    else:
        local = index.tz_convert(check_timezone(timezone)).tz_localize(None)
    per_second = _UNIT_PER_SECOND[local.unit]
    return (local.asi8 // per_second) % SECONDS_PER_DAY
