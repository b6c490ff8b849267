"""One column of a dataframe as an array, by position, without building a Series.

Every public way to take a column (``frame[name]``, ``frame.iloc[:, i]``) builds a Series
first: 20-70 microseconds on a freshly analysed frame, which in dry-run and live is every
frame the overseer sees (a new one per pair and candle), against 2-3 for the array itself.
pandas keeps that array behind ``DataFrame._get_column_array``, the accessor its own
``__getitem__`` uses. It is not public API, so this module is its only user and falls back to
``iloc`` when it is missing or hands back something other than expected; pandas is pinned in
``pyproject.toml`` and ``tests/test_frame_columns.py`` fails if the fast accessor stops
being used or ever disagrees with ``iloc``.

The arrays are pandas' own storage (views, never copies); NumPy arrays come back read-only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

#: pandas' private column accessor (``None`` if a pandas version lacks it).
_GET_COLUMN_ARRAY = getattr(pd.DataFrame, "_get_column_array", None)


def column_values(frame: pd.DataFrame, position: int) -> np.ndarray | ExtensionArray:
    """The values of the column at ``position``: a NumPy array or a pandas extension array.

    Raises ``IndexError`` naming the position when the frame has no such column.
    """
    width = len(frame.columns)
    if not -width <= position < width:
        raise IndexError(f"column position {position} outside a frame of {width} columns")
    values = None
    if _GET_COLUMN_ARRAY is not None:
        try:
            values = _GET_COLUMN_ARRAY(frame, position)
        except Exception:  # any change of the private accessor: use the public path
            values = None
    if values is None or len(values) != len(frame):
        values = frame.iloc[:, position].array
        if isinstance(values, pd.arrays.NumpyExtensionArray):
            values = values.to_numpy()
    if isinstance(values, np.ndarray) and values.flags.writeable:
        values = values.view()
        values.flags.writeable = False
    return values


def float_values(frame: pd.DataFrame, position: int) -> np.ndarray:
    """The column at ``position`` as float64 (the storage itself when it is float64 already).

    Same values as ``frame.iloc[:, position].to_numpy(dtype=float)``; raises like it for
    values that are not numbers.
    """
    values = column_values(frame, position)
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    return frame.iloc[:, position].to_numpy(dtype=float)
