"""The embedded sample (``user_data/data/sample``) and the rule that picks the data folder.

The sample must stay within its budget, hold what its README says, and be the recorded data
itself: where ``../shared/data`` is present every sample file is compared with its source.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pandas as pd
import pytest

from trading_agent.launch import datadir
from trading_agent.launch.datadir import candle_dir_problem, data_root, is_sample
from trading_agent.launch.sample_data import (
    FIVE_MINUTE_SPAN,
    MAX_BYTES,
    PAIRS,
    SAMPLE_DIR,
    WHOLE_TIMEFRAMES,
    build_sample,
    folder_bytes,
)

README = SAMPLE_DIR / "README.md"


def test_sample_is_within_its_budget() -> None:
    size = folder_bytes(SAMPLE_DIR)
    assert 0 < size <= MAX_BYTES, f"{size:,} bytes"


def test_readme_names_every_file_and_the_spans_it_holds() -> None:
    text = README.read_text()
    assert "Binance" in text and "USDT" in text and "USDC" in text and "/work/shared/data" in text
    files = sorted(p for p in SAMPLE_DIR.rglob("*") if p.is_file() and p != README)
    assert files
    for path in files:
        assert f"`{path.name}`" in text, f"{path.name} is not named in the sample's README"
    for pair in PAIRS:
        for timeframe in ("5m", *WHOLE_TIMEFRAMES):
            frame = pd.read_feather(SAMPLE_DIR / "binance" / f"{pair}-{timeframe}.feather")
            first, last = frame["date"].iloc[0], frame["date"].iloc[-1]
            assert frame["date"].is_monotonic_increasing and not frame["date"].duplicated().any()
            row = next(
                line for line in text.splitlines() if f"`{pair}-{timeframe}.feather`" in line
            )
            assert f"{len(frame):,}" in row, (pair, timeframe, len(frame))
            fmt = "%Y-%m-%d" if timeframe == "1d" else "%Y-%m-%d %H:%M"
            assert f"{first:{fmt}} to {last:{fmt}}" in row, (pair, timeframe, first, last)
    start, end = (pd.Timestamp(d, tz="UTC") for d in FIVE_MINUTE_SPAN)
    five = pd.read_feather(SAMPLE_DIR / "binance" / "BTC_USDT-5m.feather")
    assert five["date"].iloc[0] == start
    assert five["date"].iloc[-1] == end - pd.Timedelta("5min")
    size = re.search(r"about ([\d.]+) MB", text)
    assert size and float(size.group(1)) == pytest.approx(folder_bytes(SAMPLE_DIR) / 1e6, abs=0.05)


def test_sample_covers_the_demo_and_the_overseer_decision_test() -> None:
    """Replay from 2024-08-05 for a week; 2024-07-28..08-09 with 1000 candles before it."""
    for pair in PAIRS:
        five = pd.read_feather(SAMPLE_DIR / "binance" / f"{pair}-5m.feather")
        dates = five["date"]
        before = dates[dates < pd.Timestamp("2024-07-28", tz="UTC")]
        assert len(before) >= 1000
        assert dates.iloc[-1] >= pd.Timestamp("2024-08-12", tz="UTC")
        four = pd.read_feather(SAMPLE_DIR / "binance" / f"{pair}-4h.feather")
        # 400 start-up candles of 4h before the first backtest day on the sample
        assert (four["date"] < pd.Timestamp("2024-06-17", tz="UTC")).sum() >= 400


@pytest.mark.skipif(is_sample(data_root()), reason="needs ../shared/data to compare with")
def test_sample_is_the_recorded_data_unchanged() -> None:
    """Every candle and every order-book byte equals its source in ../shared/data."""
    source = data_root()
    for path in sorted((SAMPLE_DIR / "binance").glob("*.feather")):
        ours = pd.read_feather(path)
        theirs = pd.read_feather(source / "binance" / path.name)
        theirs = theirs[theirs["date"].isin(ours["date"])].reset_index(drop=True)
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    for path in sorted((SAMPLE_DIR / "orderbook").glob("*.gz")):
        recorded = source / "orderbook" / path.name
        if recorded.exists():
            assert gzip.decompress(path.read_bytes()) == gzip.decompress(recorded.read_bytes())
        else:  # the CSV, gzipped here
            assert gzip.decompress(path.read_bytes()) == recorded.with_suffix("").read_bytes()


def test_rebuilding_names_a_missing_source_file(tmp_path: Path) -> None:
    (tmp_path / "source" / "binance").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"BTC_USDT-5m\.feather"):
        build_sample(tmp_path / "source", tmp_path / "target")


def test_data_root_prefers_the_named_folder_then_shared_then_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    (shared / "binance").mkdir(parents=True)
    other = tmp_path / "other"
    (other / "binance").mkdir(parents=True)
    monkeypatch.setattr(datadir, "SHARED_ROOT", shared)
    assert data_root({}) == shared
    assert data_root({"TA_SHARED_DATA": str(other)}) == other
    # a TA_SHARED_DATA that points nowhere stands for a fresh clone: the sample
    assert data_root({"TA_SHARED_DATA": str(tmp_path / "nowhere")}) == datadir.SAMPLE_ROOT
    monkeypatch.setattr(datadir, "SHARED_ROOT", tmp_path / "absent")
    assert data_root({}) == datadir.SAMPLE_ROOT
    assert is_sample(datadir.candle_dir({}))


def test_candle_folder_problems_name_the_path_and_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no candles here")
    for path, words in (
        (missing, "does not exist"),
        (empty, "holds no"),
        (tmp_path / "empty" / "notes.txt", "is not a folder"),
        ("", "is empty"),
    ):
        problem = candle_dir_problem(path)
        assert problem is not None and words in problem
        assert "\n" not in problem and "make data" in problem and "sample" in problem
        if path:
            assert str(path) in problem
    assert candle_dir_problem(SAMPLE_DIR / "binance") is None
