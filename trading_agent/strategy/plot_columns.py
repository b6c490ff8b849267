"""Columns that exist to be read on a chart (FreqUI, ``plot-dataframe``), not to trade on.

Both chart front ends draw a strategy's ``plot_config`` columns as lines, bars or points; NaN
draws nothing. Three kinds of column here use that:

- **session lanes**: one line per trading session at a height of its own
  (:data:`SESSION_LANES`), NaN while the session is closed, so a reader sees which sessions are
  open (and where they overlap) by the legend's names, not by decoding a number;
- **markers**: a price where something was confirmed on that candle, NaN elsewhere;
- **live history**: a value the bot learns only while it runs (the risk multiplier the
  plugins advise on the latest candle), remembered per pair and candle so that the frame
  Freqtrade re-analyses on every new candle shows the whole history since start-up, not one
  point on the last candle. Backtests have no such history: the column is NaN there.

Every column is known at its candle's close.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: Height of each session's lane in the "sessions" subplot.
SESSION_LANES: Mapping[str, float] = {"asia": 1.0, "europe": 2.0, "us": 3.0}
#: How a lane is drawn: a dot on every candle of the session, which reads as a band (FreqUI
#: draws lines one pixel wide); plot-dataframe takes the ``plotly`` block.
LANE_STYLE: Mapping[str, object] = {
    "type": "scatter",
    "scatterSymbolSize": 4,
    "plotly": {"mode": "markers", "marker": {"size": 4}},
}


#: Colour of each session's lane.
LANE_COLOURS: Mapping[str, str] = {"asia": "#17becf", "europe": "#bcbd22", "us": "#9467bd"}


def sessions_subplot() -> dict[str, dict[str, object]]:
    """The ``sessions`` subplot of a ``plot_config``: one lane per session."""
    return {
        f"session_lane_{name}": {"color": LANE_COLOURS[name], **LANE_STYLE}
        for name in SESSION_LANES
    }


def session_lanes(dataframe: pd.DataFrame) -> pd.DataFrame:
    """``session_lane_<name>``: the lane's height while ``session_<name>`` is 1, NaN otherwise.

    Reads the session_manager plugin's 0/1 membership columns; raises ``KeyError`` naming the
    ones missing.
    """
    needed = [f"session_{name}" for name in SESSION_LANES]
    missing = [c for c in needed if c not in dataframe.columns]
    if missing:
        raise KeyError(f"session lanes need the session_manager columns {missing}")
    return pd.DataFrame(
        {
            f"session_lane_{name}": np.where(
                dataframe[f"session_{name}"].to_numpy() == 1, height, np.nan
            )
            for name, height in SESSION_LANES.items()
        },
        index=dataframe.index,
    )


def marker(price: pd.Series, confirmed: pd.Series) -> pd.Series:
    """``price`` on candles where ``confirmed`` is true, NaN on every other candle."""
    return price.where(confirmed.fillna(False).astype(bool))


class LiveHistory:
    """Values observed on the latest candle of each pair, by candle open time.

    ``limit`` bounds what is kept per pair (older candles leave the analysed frame anyway).
    """

    def __init__(self, limit: int = 5000) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self._values: dict[str, dict[int, float]] = {}

    def record(self, pair: str, candle_open: pd.Timestamp, value: float) -> None:
        """Remember ``value`` for the candle of ``pair`` that opened at ``candle_open``."""
        values = self._values.setdefault(pair, {})
        values[pd.Timestamp(candle_open).value] = float(value)
        if len(values) > self.limit:
            for key in sorted(values)[: len(values) - self.limit]:
                del values[key]

    def column(self, pair: str, dates: pd.Series) -> np.ndarray:
        """The remembered value of each candle in ``dates`` (NaN where none was seen)."""
        values = self._values.get(pair)
        if not values:
            return np.full(len(dates), np.nan)
        keys = pd.to_datetime(dates, utc=True).astype("datetime64[ns, UTC]").astype("int64")
        seen = pd.Series(values, dtype=np.float64)
        return seen.reindex(keys.to_numpy()).to_numpy()
