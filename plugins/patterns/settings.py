"""Validated configuration of the patterns plugin (the ``patterns`` config block).

Example block in ``user_data/config.json`` (every key optional)::

    "trading_agent": {"plugins": {"patterns": {
        "swings": {"method": "fractal", "fractal_bars": 5},
        "chart": {"patterns": ["double_top", "double_bottom"], "min_height_atr": 3.0},
        "anomalies": {"volume_z_threshold": 8.0},
        "candlesticks": ["CDLENGULFING", "hammer"]
    }}}

Unknown keys, wrong types (strict: ``"5"`` is not an integer), out-of-range numbers, unknown
chart-pattern names and unknown TA-Lib candlestick names are all rejected with an error naming
the offending key and value.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import talib
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plugins.patterns import columns

#: Every chart pattern the plugin can detect, in output-column order. The column of
#: pattern ``name`` is ``pattern_<name>``.
PATTERN_NAMES: tuple[str, ...] = (
    "double_top",
    "double_bottom",
    "head_shoulders",
    "inverse_head_shoulders",
    "triangle_ascending",
    "triangle_descending",
    "triangle_symmetrical",
    "wedge_rising",
    "wedge_falling",
    "flag",
    "pennant",
    "breakout_resistance",
    "breakout_support",
)

#: TA-Lib candlestick patterns computed when the settings do not name any.
DEFAULT_CANDLESTICKS: tuple[str, ...] = (
    "CDLENGULFING",
    "CDLHAMMER",
    "CDLSHOOTINGSTAR",
    "CDLDOJI",
    "CDLMORNINGSTAR",
    "CDLEVENINGSTAR",
)


@cache
def talib_candlestick_names() -> frozenset[str]:
    """Names of TA-Lib's "Pattern Recognition" functions (``CDL2CROWS`` ...)."""
    return frozenset(talib.get_function_groups()["Pattern Recognition"])


def normalise_candlestick_name(name: str) -> str:
    """Canonical TA-Lib name for ``name`` (case-insensitive, ``CDL`` prefix optional).

    Raises ``ValueError`` naming ``name`` when it is not in TA-Lib's Pattern Recognition group.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"candlestick name must be a non-empty string, got {name!r}")
    upper = name.strip().upper()
    canonical = upper if upper.startswith("CDL") else f"CDL{upper}"
    if canonical not in talib_candlestick_names():
        raise ValueError(
            f"unknown TA-Lib candlestick pattern {name!r}: not in talib's Pattern Recognition "
            "group (e.g. 'CDLENGULFING', 'CDLHAMMER', 'CDLDOJI')"
        )
    return canonical


def candlestick_column(name: str) -> str:
    """Output column of a TA-Lib candlestick pattern: ``CDLENGULFING`` -> ``cdl_engulfing``."""
    return columns.candlestick_column(normalise_candlestick_name(name))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SwingSettings(_Strict):
    """How swing points are found (both are causal and never revised)."""

    #: ``"fractal"``: a pivot with ``fractal_bars`` candles each side, confirmed
    #: ``fractal_bars`` candles later. ``"directional_change"``: an extreme confirmed when
    #: price reverses from it by ``dc_threshold`` (a fraction of price).
    method: Literal["fractal", "directional_change"] = "fractal"
    fractal_bars: int = Field(default=5, ge=1, le=100)
    dc_threshold: float = Field(default=0.01, gt=0.0, le=0.5)


class ChartSettings(_Strict):
    """Tolerances of the chart-pattern rules (see docs/patterns.md for each rule)."""

    #: Which chart patterns to compute (names from :data:`PATTERN_NAMES`).
    patterns: list[str] = Field(default_factory=lambda: list(PATTERN_NAMES))
    #: A pattern's height must be at least this many ATRs (ATR at the completing swing's
    #: confirmation candle).
    min_height_atr: float = Field(default=2.0, ge=0.0, le=1000.0)
    #: Matching peaks (double tops, shoulders, a triangle's middle touch) may differ by at
    #: most this fraction of the pattern height.
    level_tolerance: float = Field(default=0.15, ge=0.0, le=1.0)
    #: The two troughs of a head and shoulders neckline may differ by at most this
    #: fraction of the pattern height.
    neckline_tolerance: float = Field(default=0.3, ge=0.0, le=1.0)
    #: A boundary line is flat when it moves at most this fraction of the pattern
    #: height over the pattern's span.
    flat_tolerance: float = Field(default=0.2, ge=0.0, le=10.0)
    #: Bars from the first to the last pivot of a pattern.
    min_pattern_bars: int = Field(default=10, ge=1, le=100_000)
    max_pattern_bars: int = Field(default=300, ge=2, le=100_000)
    #: A breakout close counts up to this many candles after the pattern is complete
    #: (the candle confirming its last swing point is candle 0).
    breakout_max_wait: int = Field(default=50, ge=0, le=100_000)
    #: A breakout close must pass the boundary by this many ATRs.
    breakout_margin_atr: float = Field(default=0.0, ge=0.0, le=100.0)
    #: Head and shoulders: the longer of (left shoulder to head, head to right shoulder)
    #: may be at most this many times the shorter.
    hs_max_asymmetry: float = Field(default=2.5, ge=1.0, le=100.0)
    #: Wedges: the height at the last pivot must be at most (1 - this) of the height at
    #: the first pivot.
    wedge_min_convergence: float = Field(default=0.2, ge=0.0, lt=1.0)
    #: Flags and pennants: the pole must be at least this many ATRs ...
    pole_min_atr: float = Field(default=4.0, ge=0.0, le=1000.0)
    #: ... and take at most this many bars.
    pole_max_bars: int = Field(default=30, ge=1, le=100_000)
    #: The consolidation (pole top to last pivot) takes at most this many bars ...
    flag_max_bars: int = Field(default=60, ge=1, le=100_000)
    #: ... and retraces at most this fraction of the pole.
    flag_max_retrace: float = Field(default=0.5, gt=0.0, le=1.0)
    #: A flag's boundaries are parallel when their slopes differ by at most this fraction
    #: of the flag height over the flag's span.
    flag_parallel_tolerance: float = Field(default=0.3, ge=0.0, le=10.0)
    #: Support/resistance: swing points within this many ATRs of each other touch the
    #: same level ...
    sr_tolerance_atr: float = Field(default=0.5, ge=0.0, le=100.0)
    #: ... the level needs this many touches ...
    sr_min_touches: int = Field(default=2, ge=2, le=20)
    #: ... among the last this many swing highs (lows).
    sr_lookback: int = Field(default=6, ge=2, le=20)

    @field_validator("patterns")
    @classmethod
    def _known_patterns(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in PATTERN_NAMES:
                raise ValueError(
                    f"unknown chart pattern {name!r}; known: {', '.join(PATTERN_NAMES)}"
                )
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _consistent(self) -> ChartSettings:
        if self.max_pattern_bars < self.min_pattern_bars:
            raise ValueError(
                f"max_pattern_bars ({self.max_pattern_bars}) is below min_pattern_bars "
                f"({self.min_pattern_bars})"
            )
        if self.sr_min_touches > self.sr_lookback:
            raise ValueError(
                f"sr_min_touches ({self.sr_min_touches}) exceeds sr_lookback ({self.sr_lookback})"
            )
        return self


class AnomalySettings(_Strict):
    """Thresholds of the anomaly detectors (all against trailing baselines)."""

    #: Candles in the trailing volume baseline (the current candle is not part of it).
    volume_window: int = Field(default=48, ge=5, le=5000)
    #: A candle is a volume spike when its robust z-score is at least this.
    volume_z_threshold: float = Field(default=6.0, gt=0.0, le=1000.0)
    #: A gap is ``|open - previous close| > gap_atr * ATR`` (ATR of the previous candle).
    gap_atr: float = Field(default=0.5, gt=0.0, le=100.0)
    #: Candles in the trailing median true range (the current candle is not part of it).
    range_window: int = Field(default=48, ge=2, le=5000)
    #: Range expansion: true range at least this many times the trailing median.
    range_ratio: float = Field(default=3.0, gt=0.0, le=1000.0)


class PatternSettings(_Strict):
    """Settings of the ``patterns`` plugin."""

    #: ATR period (Wilder, TA-Lib) used to scale pattern heights, gaps and margins.
    atr_period: int = Field(default=14, ge=1, le=1000)
    swings: SwingSettings = Field(default_factory=SwingSettings)
    chart: ChartSettings = Field(default_factory=ChartSettings)
    anomalies: AnomalySettings = Field(default_factory=AnomalySettings)
    #: TA-Lib candlestick functions to compute, e.g. ``"CDLENGULFING"`` or ``"engulfing"``.
    candlesticks: list[str] = Field(default_factory=lambda: list(DEFAULT_CANDLESTICKS))
    #: In dry-run/live, notify newly confirmed chart patterns on the latest candle.
    notify: bool = True

    @field_validator("candlesticks")
    @classmethod
    def _known_candlesticks(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalise_candlestick_name(name) for name in value))
