"""Chart-pattern signals at one candle as small detection events (for notifications, logs)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from plugins.patterns.columns import level_column, pattern_column
from plugins.patterns.settings import PATTERN_NAMES

_DIRECTION_WORD = {1: "bullish", -1: "bearish"}


@dataclass(frozen=True, slots=True)
class Detection:
    """One confirmed chart pattern: a close beyond ``neckline`` on candle ``confirmed_at``."""

    pattern: str
    direction: int  # +1 bullish, -1 bearish
    confirmed_at: datetime | int  # the candle's date (or its index label without a date column)
    neckline: float
    target: float
    invalidation: float
    pair: str = ""

    def message(self, timeframe: str = "") -> str:
        """A one-line human-readable description."""
        where = f"{self.pair} {timeframe}".strip()
        when = (
            self.confirmed_at.strftime("%Y-%m-%d %H:%M UTC")
            if isinstance(self.confirmed_at, datetime)
            else str(self.confirmed_at)
        )
        return (
            f"{where}: {self.pattern.replace('_', ' ')} confirmed "
            f"({_DIRECTION_WORD.get(self.direction, self.direction)}) on the {when} close; "
            f"neckline {self.neckline:.6g}, target {self.target:.6g}, "
            f"invalidation {self.invalidation:.6g}"
        )


def detections_at(
    frame: pd.DataFrame,
    position: int = -1,
    *,
    pair: str = "",
    dates: pd.Series | None = None,
) -> list[Detection]:
    """Detections of every ``pattern_<name>`` column that is non-zero at row ``position``.

    ``frame`` holds the pattern columns (e.g. the plugin's output, or the strategy's
    dataframe); the candle's date comes from ``dates`` (aligned with ``frame``), else from a
    ``date`` column, else the index label. Raises ``IndexError`` for a row outside ``frame``.
    """
    if not -len(frame) <= position < len(frame):
        raise IndexError(f"row {position} is outside a frame of {len(frame)} candles")
    if dates is None and "date" in frame.columns:
        dates = frame["date"]
    if dates is not None:
        stamp = pd.Timestamp(dates.iloc[position])
        when: datetime | int = stamp.to_pydatetime()
    else:
        when = frame.index[position]
    row = frame.iloc[position]
    found: list[Detection] = []
    for name in PATTERN_NAMES:
        col = pattern_column(name)
        if col not in frame.columns:
            continue
        value = row[col]
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == 0:
            continue
        found.append(
            Detection(
                pattern=name,
                direction=1 if value > 0 else -1,
                confirmed_at=when,
                neckline=float(row[level_column(name, "neckline")]),
                target=float(row[level_column(name, "target")]),
                invalidation=float(row[level_column(name, "invalidation")]),
                pair=pair,
            )
        )
    return found
