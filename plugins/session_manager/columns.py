"""The session columns a strategy sees: membership, governing session and its parameters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from plugins.session_manager.parameters import PARAMETER_NAMES, ParameterTable, parameter_columns
from plugins.session_manager.schedule import (
    SESSION_LABELS,
    SESSION_NAMES,
    SessionSchedule,
    classify_sessions,
)

#: Every column :func:`session_columns` returns, in order.
SESSION_COLUMNS: tuple[str, ...] = (
    "session",
    "session_code",
    *(f"session_{name}" for name in SESSION_NAMES),
    "session_overlap",
    *(f"session_{name}" for name in PARAMETER_NAMES),
)

_LABELS = np.asarray(SESSION_LABELS, dtype=object)


def session_columns(
    dates: pd.Series | pd.Index | Sequence,
    schedule: SessionSchedule,
    table: ParameterTable,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """Session columns for each timestamp (a candle's ``date``, i.e. its open time).

    Columns: ``session`` (governing label: asia, europe, us or off), ``session_code``
    (0 off, 1 asia, 2 europe, 3 us), ``session_asia``/``session_europe``/``session_us``
    (1 while that session is open, so overlaps are visible), ``session_overlap`` (1 when two
    or more sessions are open) and ``session_<parameter>`` for the governing session's
    parameters. ``index`` sets the result's index (default: a RangeIndex).
    """
    result = classify_sessions(dates, schedule)
    if index is None:
        index = pd.RangeIndex(len(result.code))
    elif len(index) != len(result.code):
        raise ValueError(f"index has {len(index)} rows but dates have {len(result.code)}")
    columns: dict[str, object] = {
        "session": pd.array(_LABELS[result.code], dtype="str"),
        "session_code": result.code,
    }
    for name in SESSION_NAMES:
        columns[f"session_{name}"] = result.is_open[name].astype(np.int64)
    columns["session_overlap"] = (result.open_count >= 2).astype(np.int64)
    columns.update(parameter_columns(result.code, table))
    return pd.DataFrame(columns, index=index)
