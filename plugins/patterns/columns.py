"""The columns the patterns plugin adds, named once.

- ``pattern_<name>``: a chart pattern's signal, +1 on the candle whose close confirms a
  bullish breakout, -1 a bearish one, 0 elsewhere; beside it its price levels
  ``pattern_<name>_neckline``, ``_target`` and ``_invalidation`` (levels, not signals);
- ``cdl_<name>``: a TA-Lib candlestick pattern (``CDLENGULFING`` -> ``cdl_engulfing``), the
  sign of TA-Lib's value; ``cdl_doji`` carries no direction (TA-Lib marks every doji +100);
- ``swing_high``/``swing_low`` (price of the last confirmed swing), ``swing_<kind>_age``,
  ``swing_last_<kind>``;
- ``anomaly_*``: volume spikes and price gaps.

Strategies, the overseer and the tests read the names through these functions, so the
naming lives here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

PATTERN_PREFIX = "pattern_"
CANDLESTICK_PREFIX = "cdl_"
SWING_PREFIX = "swing_"
ANOMALY_PREFIX = "anomaly_"
#: Suffixes of a chart pattern's price-level columns.
LEVEL_SUFFIXES = ("neckline", "target", "invalidation")
#: Candlestick columns whose sign is no direction.
NEUTRAL_CANDLESTICKS = frozenset({"cdl_doji"})


def pattern_column(name: str) -> str:
    """Signal column of a chart pattern: ``pattern_<name>``."""
    return f"{PATTERN_PREFIX}{name}"


def level_column(name: str, level: str) -> str:
    """A chart pattern's price-level column, e.g. ``pattern_double_top_neckline``."""
    if level not in LEVEL_SUFFIXES:
        raise ValueError(f"unknown pattern level {level!r} (known: {list(LEVEL_SUFFIXES)})")
    return f"{pattern_column(name)}_{level}"


def candlestick_column(canonical: str) -> str:
    """Column of a TA-Lib candlestick function name: ``CDLENGULFING`` -> ``cdl_engulfing``."""
    if not canonical.startswith("CDL"):
        raise ValueError(f"not a TA-Lib candlestick function name: {canonical!r}")
    return CANDLESTICK_PREFIX + canonical[3:].lower()


def is_pattern_signal(column: str) -> bool:
    """True for a chart pattern's signal column (not one of its level columns)."""
    return column.startswith(PATTERN_PREFIX) and not column.endswith(
        tuple(f"_{s}" for s in LEVEL_SUFFIXES)
    )


def is_directional_candlestick(column: str) -> bool:
    """True for a candlestick column whose sign is a direction."""
    return column.startswith(CANDLESTICK_PREFIX) and column not in NEUTRAL_CANDLESTICKS


def pattern_signal_columns(columns: Iterable[str]) -> list[str]:
    """The chart-pattern signal columns among ``columns``, in their order."""
    return [c for c in columns if is_pattern_signal(c)]


def directional_candlestick_columns(columns: Iterable[str]) -> list[str]:
    """The candlestick columns with a direction among ``columns``, in their order."""
    return [c for c in columns if is_directional_candlestick(c)]


def pattern_name(column: str) -> str:
    """The pattern a signal column belongs to: ``pattern_double_top`` -> ``double_top``."""
    if not is_pattern_signal(column):
        raise ValueError(f"not a chart-pattern signal column: {column!r}")
    return column.removeprefix(PATTERN_PREFIX)
