"""A read-only view of one row of an analysed dataframe, read column by column on demand.

The base strategy hands the last analysed candle to plugins and reads a few columns from it
in every per-candle callback (stop-loss, stake, entry check). Building a full ``dict`` of a
row with ~150 mixed-type columns costs most of a millisecond, once per open trade and candle
in a backtest; a view reads only the columns asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd


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
