"""The ``patterns`` plugin: adds swing, chart-pattern, anomaly and candlestick columns.

A thin adapter over :func:`plugins.patterns.compute.compute_pattern_columns`. In the live
run modes (``dry_run``, ``live``) it also notifies chart patterns newly confirmed on the
latest candle, once per pair, pattern and candle (the strategy rate-limits ``notify``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd

from plugins.patterns.compute import compute_pattern_columns
from plugins.patterns.detections import Detection, detections_at
from plugins.patterns.settings import PatternSettings
from trading_agent import LIVE_RUNMODES, Notifier, Plugin, hookimpl

#: Run modes in which detections are notified.

#: How many (pair, pattern, candle) keys are remembered to avoid notifying twice.
_MEMORY = 4096


class PatternsPlugin(Plugin):
    """Causal chart patterns, swing points, anomalies and TA-Lib candlesticks as columns."""

    name: ClassVar[str] = "patterns"
    Settings: ClassVar[type[PatternSettings]] = PatternSettings

    def __init__(self, settings: PatternSettings | None = None) -> None:
        super().__init__(settings)
        self.settings: PatternSettings
        self._notify: Notifier | None = None
        self._runmode = ""
        self._notified: OrderedDict[tuple[str, str, Any], None] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the notifier (hyperopt pickles strategies into workers)."""
        state = self.__dict__.copy()
        state["_notify"] = None
        return state

    @hookimpl
    def bot_start(self, config: Mapping[str, Any], runmode: str, notify: Notifier) -> None:
        """Keep the notifier and run mode (no clients or threads are needed)."""
        self._notify = notify
        self._runmode = runmode
        self._notified.clear()

    @hookimpl
    def add_indicators(
        self, dataframe: pd.DataFrame, pair: str, timeframe: str, runmode: str
    ) -> pd.DataFrame:
        """Return the new columns (same index; ``dataframe`` is not modified)."""
        columns = compute_pattern_columns(dataframe, self.settings)
        if (
            self.settings.notify
            and self._notify is not None
            and runmode in LIVE_RUNMODES
            and len(columns)
        ):
            dates = dataframe["date"] if "date" in dataframe.columns else None
            for detection in detections_at(columns, -1, pair=pair, dates=dates):
                self._notify_once(detection, timeframe)
        return columns

    def _notify_once(self, detection: Detection, timeframe: str) -> None:
        key = (detection.pair, detection.pattern, detection.confirmed_at)
        if key in self._notified:
            return
        self._notified[key] = None
        while len(self._notified) > _MEMORY:
            self._notified.popitem(last=False)
        assert self._notify is not None
        self._notify(
            detection.message(timeframe), key=f"patterns:{detection.pair}:{detection.pattern}"
        )
