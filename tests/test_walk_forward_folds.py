"""Fold construction and the coverage rules, on built dates and on the long history's holes."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import shared_data_dir
from trading_agent.launch.folds import (
    check_folds,
    contiguous_runs,
    coverage,
    data_span,
    rolling_folds,
)


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def hourly(start: str, end: str) -> pd.Series:
    return pd.Series(pd.date_range(day(start), day(end), freq="1h", inclusive="left"))


def test_rolling_folds_train_then_test_and_step() -> None:
    folds = rolling_folds(day("2021-01-01"), day("2022-07-01"), 12, 3, 3)
    assert [f.number for f in folds] == [1, 2]
    first, second = folds
    assert (first.train_start, first.train_end) == (day("2021-01-01"), day("2022-01-01"))
    assert (first.test_start, first.test_end) == (day("2022-01-01"), day("2022-04-01"))
    assert second.train_start == day("2021-04-01") and second.test_end == day("2022-07-01")
    assert first.label() == "fold 1: train 2021-01-01..2022-01-01, test 2022-01-01..2022-04-01"
    assert rolling_folds(day("2021-01-01"), day("2021-12-01"), 12, 3, 3) == []
    spaced = rolling_folds(day("2021-01-01"), day("2022-01-01"), 2, 1, 4)
    assert [f.test_start for f in spaced] == [
        day("2021-03-01"),
        day("2021-07-01"),
        day("2021-11-01"),
    ]


@pytest.mark.parametrize(
    ("months", "message"),
    [((0, 3, 3), "train months"), ((12, 3, 2), "overlap"), ((12, 0, 3), "test months")],
)
def test_bad_fold_settings_are_named(months: tuple[int, int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rolling_folds(day("2021-01-01"), day("2023-01-01"), *months)


def test_coverage_counts_the_candles_present() -> None:
    dates = hourly("2021-01-01", "2021-01-03")
    assert coverage(dates, day("2021-01-01"), day("2021-01-03"), "1h") == 1.0
    holed = dates[(dates < day("2021-01-01 12:00")) | (dates >= day("2021-01-02"))]
    assert coverage(holed, day("2021-01-01"), day("2021-01-03"), "1h") == 0.75
    assert coverage(dates, day("2021-01-02"), day("2021-01-06"), "1h") == 0.25


def test_folds_with_holes_are_skipped_with_the_reason() -> None:
    # BTC misses February and March; ETH has every hour.
    btc = hourly("2021-01-01", "2021-07-01")
    btc = btc[(btc < day("2021-02-01")) | (btc >= day("2021-04-01"))]
    eth = hourly("2021-01-01", "2021-07-01")
    folds = rolling_folds(day("2021-01-01"), day("2021-07-01"), 2, 1, 1)
    checks = check_folds(folds, {"BTC/USDT": btc, "ETH/USDT": eth}, "1h", 0.5, 0.98)
    assert [c.runs for c in checks] == [False, False, False, True]
    # fold 1 tests on March (no BTC); its train window (January of two months) is enough
    assert checks[0].skip_reason == (
        "test window covered 0.0 % < 98 % (BTC/USDT 0.0 %, ETH/USDT 100.0 %)"
    )
    assert checks[0].train_coverage["BTC/USDT"] == pytest.approx(31 / 59)
    assert checks[1].skip_reason.startswith("train window covered 0.0 % < 50 %")
    # fold 3 trains on March-April: 30 of 61 days, just short of half
    assert checks[2].train_coverage["BTC/USDT"] == pytest.approx(30 / 61)
    assert checks[2].skip_reason.startswith("train window covered 49.2 %")
    assert checks[3].skip_reason is None
    with pytest.raises(ValueError, match="coverage must be in"):
        check_folds(folds, {"BTC/USDT": btc}, "1h", 1.5, 0.9)


def test_data_span_and_contiguous_runs() -> None:
    dates = {
        "A": pd.Series([day("2020-12-15"), day("2022-03-10")]),
        "B": pd.Series([day("2021-01-01"), day("2022-05-01")]),
    }
    assert data_span(dates, "1h") == (day("2021-01-01"), day("2022-03-01"))
    with pytest.raises(ValueError, match="no whole month"):
        data_span({"A": pd.Series([day("2021-01-03"), day("2021-01-20")])}, "1h")
    windows = [
        (day("2021-01-01"), day("2021-04-01")),
        (day("2021-04-01"), day("2021-07-01")),
        (day("2021-10-01"), day("2022-01-01")),
    ]
    assert contiguous_runs(windows) == [[0, 1], [2]]


def test_the_long_history_skips_the_withheld_year_and_the_september_week() -> None:
    folder = shared_data_dir() / "binance-long"
    if not folder.is_dir():
        pytest.skip(f"long history not found: {folder}")
    from trading_agent.launch.candle_files import read_candles

    pairs = ("BTC/USDT", "ETH/USDT")
    dates = {p: read_candles(folder, p, "1h")["date"] for p in pairs}
    folds = rolling_folds(day("2022-01-01"), day("2025-01-01"), 12, 3, 3)
    checks = {c.fold.test_start: c for c in check_folds(folds, dates, "1h", 0.5, 0.98)}
    assert not checks[day("2023-01-01")].runs  # 2023 is withheld
    assert "test window covered 0.0 %" in checks[day("2023-01-01")].skip_reason
    assert not checks[day("2024-04-01")].runs  # trains on 2023-04..2024-03: 25 %
    assert "train window covered" in checks[day("2024-04-01")].skip_reason
    assert not checks[day("2024-07-01")].runs  # a week of 2024-09 is missing
    assert checks[day("2024-10-01")].runs
