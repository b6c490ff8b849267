"""SYNTHETIC candle paths for the pattern tests (built here, not market data), and their tests.

:func:`path_candles` draws closes along straight lines between waypoints ``(bar, price)``;
each candle opens at the previous close, and its high/low add a fixed wick. A waypoint that
is a local peak becomes a fractal swing high at ``price + wick`` (a trough: ``price - wick``)
confirmed ``fractal_bars`` candles later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

WICK = 0.1


def path_candles(
    waypoints: Sequence[tuple[int, float]],
    *,
    wick: float = WICK,
    volume: float = 100.0,
    low_overrides: Mapping[int, float] | None = None,
    high_overrides: Mapping[int, float] | None = None,
) -> pd.DataFrame:
    """SYNTHETIC OHLCV candles whose closes follow straight lines through ``waypoints``."""
    bars = np.arange(waypoints[-1][0] + 1)
    close = np.interp(bars, [b for b, _ in waypoints], [p for _, p in waypoints])
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) + wick
    low = np.minimum(open_, close) - wick
    for bar, value in (low_overrides or {}).items():
        low[bar] = value
    for bar, value in (high_overrides or {}).items():
        high[bar] = value
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=len(bars), freq="5min", tz="UTC"),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": np.full(len(bars), volume),
        }
    )


def mirrored(
    waypoints: Sequence[tuple[int, float]], axis: float = 200.0
) -> list[tuple[int, float]]:
    """The same path upside down (``axis - price``): tops become bottoms."""
    return [(b, axis - p) for b, p in waypoints]


def test_path_candles_are_consistent_ohlc() -> None:
    frame = path_candles([(0, 100.0), (10, 110.0), (20, 95.0)])
    assert len(frame) == 21
    assert frame["close"].iloc[10] == 110.0
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame["open"].iloc[1:].to_numpy() == frame["close"].iloc[:-1].to_numpy()).all()


def test_mirrored_path_flips_prices() -> None:
    assert mirrored([(0, 100.0), (5, 120.0)]) == [(0, 100.0), (5, 80.0)]
