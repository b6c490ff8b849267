"""Column arrays by position (plugins.llm_overseer.frame_columns): pandas' storage, as iloc."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plugins.llm_overseer import frame_columns
from plugins.llm_overseer.frame_columns import column_values, float_values


def _frame() -> pd.DataFrame:
    """Synthetic columns of every kind an analysed frame holds."""
    rows = 6
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-03-01", periods=rows, freq="5min", tz="UTC"),
            "close": np.linspace(100.0, 101.0, rows),
            "volume": np.arange(rows, dtype=np.int64),
            "session": ["asia", "asia", "europe", "europe", "us", "us"],
            "flag": pd.array([1.5, None, 2.0, 3.0, None, 4.0], dtype="Float64"),
        }
    )


def test_float_column_is_the_frames_storage_read_only() -> None:
    df = _frame()
    values = float_values(df, 1)
    public = df.iloc[:, 1].to_numpy(dtype=float)
    np.testing.assert_array_equal(values, public)
    # the fast accessor is in use: no copy of the column (fails if pandas drops it)
    assert np.shares_memory(values, public)
    with pytest.raises(ValueError, match="read-only"):
        values[0] = 1.0
    assert df["close"].iloc[0] == 100.0


def test_other_dtypes_match_iloc() -> None:
    df = _frame()
    np.testing.assert_array_equal(float_values(df, 2), df.iloc[:, 2].to_numpy(dtype=float))
    dates = column_values(df, 0)
    assert isinstance(dates, pd.arrays.DatetimeArray)
    assert dates.equals(df.iloc[:, 0].array)
    assert list(column_values(df, 3)) == df["session"].tolist()
    flags = column_values(df, 4)
    assert flags.equals(df["flag"].array)


def test_a_failing_accessor_falls_back_to_the_public_path(monkeypatch) -> None:
    df = _frame()

    def broken(frame: pd.DataFrame, position: int) -> None:
        raise TypeError("changed signature")

    monkeypatch.setattr(frame_columns, "_GET_COLUMN_ARRAY", broken)
    np.testing.assert_array_equal(float_values(df, 1), df["close"].to_numpy())


def test_a_bad_position_is_named() -> None:
    df = _frame()
    with pytest.raises(IndexError, match="column position 5 outside a frame of 5 columns"):
        column_values(df, 5)


def test_without_the_private_accessor_the_public_path_gives_the_same(monkeypatch) -> None:
    df = _frame()
    expected = [df.iloc[:, i].array for i in range(df.shape[1])]
    monkeypatch.setattr(frame_columns, "_GET_COLUMN_ARRAY", None)
    np.testing.assert_array_equal(float_values(df, 1), df.iloc[:, 1].to_numpy(dtype=float))
    for i in range(df.shape[1]):
        pd.testing.assert_series_equal(pd.Series(column_values(df, i)), pd.Series(expected[i]))
