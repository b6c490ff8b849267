"""Equity rebuilt from fills on built candles: cash, holdings, marks, exposure, slices, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.trade_records import exported_trade
from trading_agent.evaluation.buy_and_hold import buy_and_hold_fills
from trading_agent.evaluation.equity import (
    close_grid,
    reconstruct_equity,
    timeframe_delta,
)
from trading_agent.evaluation.fills import fills_from_trades

T0 = pd.Timestamp("2024-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)


def candles(closes: list[float], opens: list[float] | None = None, start=T0) -> pd.DataFrame:
    """Hourly candles from ``start`` with these closes (opens default to the previous close)."""
    opens = opens or [closes[0], *closes[:-1]]
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=len(closes), freq="1h", tz="UTC"),
            "open": opens,
            "close": closes,
        }
    )


def fills(rows: list[tuple]) -> pd.DataFrame:
    """Fills from (hours after T0, pair, amount, price, fee, opens_trade) rows."""
    frame = pd.DataFrame(rows, columns=["time", "pair", "amount", "price", "fee", "opens_trade"])
    frame["time"] = T0 + pd.to_timedelta(frame["time"].astype(float), unit="h")
    return frame


def test_timeframes_parse_and_bad_ones_are_named() -> None:
    assert timeframe_delta("5m") == pd.Timedelta(minutes=5)
    assert timeframe_delta("4h") == pd.Timedelta(hours=4)
    assert timeframe_delta("1d") == pd.Timedelta(days=1)
    for bad in ("1M", "0h", "h", "5 m"):
        with pytest.raises(ValueError, match=repr(bad)):
            timeframe_delta(bad)


def test_close_grid_is_indexed_by_close_time_and_fills_gaps_with_the_last_close() -> None:
    frame = candles([10.0, 11.0, 12.0, 13.0]).drop(index=2)  # the 02:00 candle is missing
    grid = close_grid({"A/Q": frame}, T0, T0 + 4 * HOUR, "1h")
    assert list(grid.index) == [T0 + k * HOUR for k in (1, 2, 3, 4)]
    assert grid["A/Q"].tolist() == [10.0, 11.0, 11.0, 13.0]
    late = close_grid({"B/Q": candles([5.0], start=T0 + 2 * HOUR)}, T0, T0 + 4 * HOUR, "1h")
    assert np.isnan(late["B/Q"].iloc[:2]).all()
    assert late["B/Q"].iloc[2:].tolist() == [5.0, 5.0]


def test_cash_holdings_and_marks_follow_each_fill() -> None:
    closes = close_grid(
        {"A/Q": candles([100.0, 110.0, 120.0, 90.0, 95.0])}, T0, T0 + 5 * HOUR, "1h"
    )
    # buy 2 at 100 (fee 0.2) at 01:00, buy 1 more at 110 at 02:00, sell 1.5 at 120 at 03:00
    trade = fills(
        [
            (1, "A/Q", 2.0, 100.0, 0.2, True),
            (2, "A/Q", 1.0, 110.0, 0.11, False),
            (3, "A/Q", -1.5, 120.0, 0.18, False),
        ]
    )
    segment = reconstruct_equity(trade, closes, 1000.0, T0)
    points = segment.points
    assert points.index[0] == T0 and points["equity"].iloc[0] == 1000.0
    # close at 01:00 comes before the fill at 01:00: in equity (after), not in exposure (during)
    cash = [799.8, 689.69, 869.51, 869.51, 869.51]
    held = [2.0, 3.0, 1.5, 1.5, 1.5]
    marks = [100.0, 110.0, 120.0, 90.0, 95.0]
    expected = [c + h * m for c, h, m in zip(cash, held, marks, strict=True)]
    np.testing.assert_allclose(points["equity"].iloc[1:], expected, rtol=1e-12)
    during = [0.0, 2.0, 3.0, 1.5, 1.5]
    during_cash = [1000.0, 799.8, 689.69, 869.51, 869.51]
    exposure = [h * m / (c + h * m) for h, m, c in zip(during, marks, during_cash, strict=True)]
    np.testing.assert_allclose(points["exposure"].iloc[1:], exposure, rtol=1e-12)
    assert np.isnan(points["exposure"].iloc[0])
    # every fill is first counted at the close of its own instant
    assert list(segment.fills["point"]) == [T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR]


def test_buy_and_hold_is_fully_invested_and_pays_the_fee_twice() -> None:
    a = candles([100.0, 105.0, 110.0], opens=[98.0, 100.0, 105.0])
    b = candles([10.0, 9.0, 8.0], opens=[10.0, 10.0, 9.0])
    frames = {"A/Q": a, "B/Q": b}
    end = T0 + 3 * HOUR
    trade = buy_and_hold_fills(frames, T0, end, "1h", 1000.0, 0.001)
    assert trade["opens_trade"].sum() == 2
    segment = reconstruct_equity(trade, close_grid(frames, T0, end, "1h"), 1000.0, T0)
    exposure = segment.points["exposure"].iloc[1:]
    np.testing.assert_allclose(exposure, 1.0, atol=1e-12)
    bought_a, bought_b = 500 / (98 * 1.001), 500 / (10 * 1.001)
    final = (bought_a * 110 + bought_b * 8) * (1 - 0.001)
    assert segment.points["equity"].iloc[-1] == pytest.approx(final, rel=1e-12)
    fees = trade["fee"].sum()
    assert fees == pytest.approx(0.001 * (1000 / 1.001 + bought_a * 110 + bought_b * 8))


def test_a_slice_starts_from_its_first_point_and_keeps_the_fills_after_it() -> None:
    closes = close_grid({"A/Q": candles([100.0] * 6)}, T0, T0 + 6 * HOUR, "1h")
    trade = fills([(0, "A/Q", 1.0, 100.0, 0.1, True), (4, "A/Q", -1.0, 100.0, 0.1, False)])
    whole = reconstruct_equity(trade, closes, 1000.0, T0)
    first = whole.slice(T0, T0 + 3 * HOUR)
    second = whole.slice(T0 + 3 * HOUR, T0 + 6 * HOUR)
    assert first.fills["opens_trade"].tolist() == [True]  # the fill at the window's start
    assert second.fills["amount"].tolist() == [-1.0]
    assert np.isnan(second.points["exposure"].iloc[0])
    assert second.points["equity"].iloc[0] == first.points["equity"].iloc[-1]
    with pytest.raises(ValueError, match="not an equity point"):
        whole.slice(T0 + pd.Timedelta(minutes=30), T0 + 2 * HOUR)


def test_impossible_accounts_are_refused_with_the_reason() -> None:
    closes = close_grid({"A/Q": candles([100.0, 100.0])}, T0, T0 + 2 * HOUR, "1h")
    with pytest.raises(ValueError, match=r"fills in \['Z/Q'\]"):
        reconstruct_equity(fills([(0, "Z/Q", 1.0, 1.0, 0.0, True)]), closes, 1000.0, T0)
    with pytest.raises(ValueError, match="outside"):
        reconstruct_equity(fills([(5, "A/Q", 1.0, 1.0, 0.0, True)]), closes, 1000.0, T0)
    with pytest.raises(ValueError, match="positive"):
        reconstruct_equity(fills([]), closes, 0.0, T0)
    late = close_grid({"A/Q": candles([100.0], start=T0 + HOUR)}, T0, T0 + 2 * HOUR, "1h")
    with pytest.raises(ValueError, match=r"held at .* but has no close"):
        reconstruct_equity(fills([(0, "A/Q", 1.0, 100.0, 0.0, True)]), late, 1000.0, T0)


def test_fills_from_freqtrade_trades_sign_amounts_and_charge_each_side() -> None:
    orders = [
        (True, 2.0, 100.0, T0),
        (True, 1.0, 90.0, None),  # never filled
        (False, 0.5, 120.0, T0 + 2 * HOUR),
        (False, 1.5, 110.0, T0 + HOUR),
    ]
    trade = exported_trade("A/Q", T0, orders, fee_open=0.001, fee_close=0.002)
    result = fills_from_trades([trade])
    assert result["amount"].tolist() == [2.0, -1.5, -0.5]  # time order; the unfilled order left out
    assert result["fee"].tolist() == pytest.approx([0.2, 1.5 * 110 * 0.002, 0.5 * 120 * 0.002])
    assert result["opens_trade"].tolist() == [True, False, False]
    with pytest.raises(ValueError, match="short"):
        fills_from_trades([{**trade, "is_short": True}])
    with pytest.raises(ValueError, match="leverage"):
        fills_from_trades([{**trade, "leverage": 3.0}])
    with pytest.raises(ValueError, match="no orders"):
        fills_from_trades([{**trade, "orders": []}])
    assert fills_from_trades([]).empty
