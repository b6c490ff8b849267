"""Causal chart patterns, swing points, anomalies and TA-Lib candlesticks (see docs/patterns.md).

Pure functions over OHLCV arrays (:mod:`.swings`, :mod:`.chart`, :mod:`.breakout`,
:mod:`.anomalies`, :mod:`.candlesticks`), one entry point that builds every column
(:func:`compute_pattern_columns`), detection events for notifications (:func:`detections_at`)
and the thin plugin (:class:`plugins.patterns.plugin.PatternsPlugin`).
"""

from plugins.patterns.compute import compute_pattern_columns
from plugins.patterns.detections import Detection, detections_at
from plugins.patterns.settings import PATTERN_NAMES, PatternSettings

__all__ = [
    "PATTERN_NAMES",
    "Detection",
    "PatternSettings",
    "compute_pattern_columns",
    "detections_at",
]
