"""The evaluation: target before invalidation, same-candle touches are misses, unresolved apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from plugins.patterns import compute_pattern_columns
from plugins.patterns.evaluate import (
    HIT,
    MISS,
    UNRESOLVED,
    detection_outcomes,
    first_touch,
    main,
    score,
)
from tests.test_patterns_chart import DOUBLE_TOP
from tests.test_patterns_synthetic import path_candles


def test_first_touch_rules() -> None:
    # SYNTHETIC highs/lows; a long detection at candle 0 with target 12 and stop 8.
    high = np.array([10.0, 11.0, 11.5, 12.5, 13.0])
    low = np.array([9.0, 9.5, 9.0, 10.0, 11.0])
    assert first_touch(high, low, 0, 1, 12.0, 8.0) == (HIT, 3)
    low_stop = low.copy()
    low_stop[2] = 7.5
    assert first_touch(high, low_stop, 0, 1, 12.0, 8.0) == (MISS, 2)
    both = low.copy()
    both[3] = 7.0  # candle 3 touches target and stop: conservative miss
    assert first_touch(high, both, 0, 1, 12.0, 8.0) == (MISS, 3)
    assert first_touch(high, low, 0, 1, 20.0, 1.0) == (UNRESOLVED, -1)
    # Short: target below, stop above; the confirming candle itself is not looked at.
    assert first_touch(high, low, 0, -1, 9.0, 13.0) == (HIT, 2)
    assert first_touch(high, low, 2, -1, 9.0, 13.0) == (MISS, 4)


def test_planted_double_top_is_a_hit_when_price_reaches_the_target() -> None:
    frame = path_candles(DOUBLE_TOP)  # SYNTHETIC: falls to 80 after confirming at 94.9
    outcomes = detection_outcomes(frame, compute_pattern_columns(frame))
    row = outcomes[outcomes["pattern"] == "double_top"].iloc[0]
    assert row["candle"] == 80 and row["outcome"] == HIT
    # resolved on the first later candle whose low reaches the target (84.45)
    low = frame["low"].to_numpy()
    assert row["bars"] == int(np.flatnonzero(low[81:] <= row["target"])[0]) + 1
    (s,) = score("X", ["double_top"], outcomes[outcomes["pattern"] == "double_top"])
    assert (s.detections, s.hits, s.misses, s.unresolved, s.hit_rate) == (1, 1, 0, 0, 1.0)
    assert 0 < s.baseline < 1
    # One hit against a random-walk probability p: z = (1 - p) / sqrt(p (1 - p)).
    p = s.baseline
    assert s.z == pytest.approx((1 - p) / np.sqrt(p * (1 - p)))


def test_command_line_on_recorded_candles(binance_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "--datadir",
            str(binance_dir),
            "--pairs",
            "BTC_USDT",
            "--timeframe",
            "5m",
            "--start",
            "2024-07-01",
            "--end",
            "2024-07-15",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "BTC_USDT 5m: 4032 candles" in text
    assert "double_top" in text and "hit rate" in text and "baseline" in text


def test_load_filters_dates(binance_dir: Path) -> None:
    from plugins.patterns.evaluate import load_candles

    frame = load_candles(binance_dir, "ETH_USDT", "1h", "2024-02-01", "2024-02-02")
    assert len(frame) == 24
    assert frame["date"].iloc[0] == pd.Timestamp("2024-02-01", tz="UTC")
    with pytest.raises(FileNotFoundError, match="DOGE_USDT"):
        load_candles(binance_dir, "DOGE_USDT", "1h", None, None)
