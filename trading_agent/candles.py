"""The analysed candles of one pair that are known at a moment: a frame and a row bound.

Freqtrade hands a backtest's callbacks a fresh slice of the analysed dataframe on every call
(``dp.get_analyzed_dataframe``): tens of microseconds per pair and candle, most of a
per-candle budget. :class:`AnalyzedCandles` instead pairs one whole analysed frame with the
number of leading rows that are known (``end``): a backtest keeps the same frame for the
whole run and only ``end`` moves, so column arrays are taken once and every per-candle read
is an array lookup. Rows at or after ``end`` are never exposed: every accessor stops there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd


class AnalyzedCandles:
    """Rows ``[0, end)`` of an analysed dataframe: the candles known at one moment."""

    __slots__ = ("_end", "_frame", "_readers", "_window")

    def __init__(
        self, frame: pd.DataFrame, end: int | None = None, readers: dict[str, Any] | None = None
    ) -> None:
        """``readers``: a cache of column readers shared by every bound of ``frame``."""
        rows = len(frame)
        end = rows if end is None else int(end)
        if not 0 <= end <= rows:
            raise ValueError(f"end {end} outside a frame of {rows} rows")
        self._frame = frame
        self._end = end
        self._readers = {} if readers is None else readers
        self._window: pd.DataFrame | None = None

    @property
    def end(self) -> int:
        """Number of known rows (the last known candle is row ``end - 1``)."""
        return self._end

    def __len__(self) -> int:
        return self._end

    @property
    def columns(self) -> pd.Index:
        """The frame's column names."""
        return self._frame.columns

    def column(self, name: str) -> np.ndarray:
        """The known values of column ``name`` as a read-only NumPy array (a view if possible).

        Raises ``KeyError`` naming the column when the frame has no such column.
        """
        if name not in self._frame.columns:
            raise KeyError(name)
        values = self._frame[name].to_numpy()[: self._end]
        values = values.view()
        values.flags.writeable = False
        return values

    def frame(self) -> pd.DataFrame:
        """The known rows as a dataframe (sliced once, then kept)."""
        if self._window is None:
            if self._end == len(self._frame):
                self._window = self._frame
            else:
                self._window = self._frame.iloc[: self._end]
        return self._window

    def source_frame(self) -> pd.DataFrame:
        """The whole underlying frame, which may run past ``end`` (backtests).

        For callers that index rows by position and read only rows below ``end`` (e.g. to
        keep column arrays of one frame for a whole backtest); anything else uses
        :meth:`frame`, :meth:`column` or :meth:`last`.
        """
        return self._frame

    def last(self) -> Mapping[str, Any]:
        """The last known candle as a lazy read-only mapping (an empty dict for no rows)."""
        if self._end == 0:
            return {}
        return CandleView(self._frame, self._end - 1, self._readers)

    def __repr__(self) -> str:
        return f"AnalyzedCandles(rows={self._end} of {len(self._frame)})"


def as_candles(value: AnalyzedCandles | pd.DataFrame | None) -> AnalyzedCandles:
    """``value`` as :class:`AnalyzedCandles` (a dataframe counts as wholly known)."""
    if isinstance(value, AnalyzedCandles):
        return value
    if value is None:
        return AnalyzedCandles(pd.DataFrame())
    if isinstance(value, pd.DataFrame):
        return AnalyzedCandles(value)
    raise TypeError(f"expected AnalyzedCandles or a DataFrame, got {type(value).__name__}")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_ns(ts: datetime) -> int:
    """Nanoseconds since the epoch of an aware (or UTC-naive) datetime, exactly."""
    if isinstance(ts, pd.Timestamp):
        return int(ts.value)  # naive timestamps count as UTC, as in the frames
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _MICROSECOND * 1000


def timeframe_ns(timeframe: timedelta) -> int:
    """A timeframe in nanoseconds."""
    return timeframe // _MICROSECOND * 1000


def ticks_of(dates: pd.Series) -> np.ndarray:
    """A date column as int64 nanoseconds since the epoch (UTC; naive counts as UTC).

    Whatever the column's unit (``datetime64[ns]`` from Freqtrade, ``[us]`` or ``[ms]``
    from other sources); no copy for a UTC ``[ns]`` column.
    """
    if not isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = pd.to_datetime(dates, utc=True)
    return np.asarray(dates.array.as_unit("ns").asi8, dtype=np.int64)


def closed_rows(ticks: np.ndarray, current_time: datetime, timeframe: timedelta) -> int:
    """How many leading rows (open times ``ticks``, sorted) had closed by ``current_time``.

    A candle opening at ``t`` closes at ``t + timeframe``; one that closes exactly at
    ``current_time`` is known. A naive ``current_time`` counts as UTC.
    """
    limit = epoch_ns(current_time) - timeframe_ns(timeframe)
    return int(np.searchsorted(ticks, limit, side="right"))


class CandleView(Mapping[str, Any]):
    """Row ``position`` of ``frame`` as a mapping of column name to value (read lazily).

    ``readers`` (optional, shared by the views of one frame) keeps each column's reader
    once made, so views of later rows of the same frame read a cell without building a
    column again: a NumPy array for plain NumPy dtypes (same scalar as ``Series.iat``),
    the Series itself for the rest (dates, strings, extension types).
    """

    __slots__ = ("_frame", "_position", "_readers")

    def __init__(
        self, frame: pd.DataFrame, position: int, readers: dict[str, Any] | None = None
    ) -> None:
        if not -len(frame) <= position < len(frame):
            raise IndexError(f"row {position} outside a frame of {len(frame)} rows")
        self._frame = frame
        self._position = position
        self._readers = {} if readers is None else readers

    def __getitem__(self, column: str) -> Any:
        reader = self._readers.get(column)
        if reader is None:
            if column not in self._frame.columns:
                raise KeyError(column)
            reader = column_reader(self._frame, column)
            self._readers[column] = reader
        if isinstance(reader, np.ndarray):
            return reader[self._position]
        return reader.iat[self._position]

    def __iter__(self) -> Iterator[str]:
        return iter(self._frame.columns)

    def __len__(self) -> int:
        return len(self._frame.columns)

    def __contains__(self, column: object) -> bool:
        return column in self._frame.columns

    def to_dict(self) -> dict[str, Any]:
        """The whole row as a plain dict."""
        return self._frame.iloc[self._position].to_dict()


def column_reader(frame: pd.DataFrame, column: str) -> np.ndarray | pd.Series:
    """What :class:`CandleView` reads ``column`` through (see its docstring)."""
    series = frame[column]
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufc":
        return series.to_numpy()
    return series
