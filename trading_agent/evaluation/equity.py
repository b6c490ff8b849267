"""Account equity rebuilt from fills and candle closes: cash plus holdings marked to market.

The account starts with ``start_balance`` in the quote currency at ``start``. Every fill moves
cash (``-amount x price - fee``) and the holdings of its pair; at every candle close of the base
timeframe the holdings are valued at that close. Two states are read at each close:

- *after*: every fill up to and including the close's instant, for equity (a fill at the
  instant of a close, such as a sale at the last close, counts in that close's equity);
- *during*: every fill strictly before the close, for exposure: the holdings carried through
  the candle that ends there, as a share of the account at its close.

Freqtrade's backtests fill orders at a candle's open time, so both states agree for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trading_agent.evaluation.fills import FILL_COLUMNS, sort_fills

_TIMEFRAME = re.compile(r"^(\d+)([mhdw])$")
_UNIT = {"m": "min", "h": "h", "d": "D", "w": "W"}


def timeframe_delta(timeframe: str) -> pd.Timedelta:
    """A Freqtrade timeframe (``5m``, ``1h``, ``4h``, ``1d``, ``1w``) as a Timedelta.

    Raises ``ValueError`` naming the timeframe for anything else (months have no fixed length).
    """
    match = _TIMEFRAME.match(timeframe)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"timeframe must look like 5m, 1h, 4h, 1d or 1w, got {timeframe!r}")
    return pd.Timedelta(int(match.group(1)), _UNIT[match.group(2)])


def as_ns(times: pd.DatetimeIndex | pd.Series) -> np.ndarray:
    """UTC times as int64 nanoseconds (one unit for comparing times of any resolution)."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def close_grid(
    candles: Mapping[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp, timeframe: str
) -> pd.DataFrame:
    """Each pair's close at every candle close time of ``[start, end)``.

    The index runs from ``start + timeframe`` to ``end`` (close times); a missing candle takes
    the last close before it (as Freqtrade's fill-up of gaps does), and a time before a pair's
    first candle is NaN. ``candles`` maps pairs to frames with ``date`` (candle open) and
    ``close`` columns.
    """
    if not start < end:
        raise ValueError(f"window start {start} is not before its end {end}")
    step = timeframe_delta(timeframe)
    grid = pd.date_range(start + step, end, freq=step)
    if grid.empty:
        raise ValueError(f"window {start} to {end} holds no whole {timeframe} candle")
    columns = {}
    for pair, frame in candles.items():
        closes = pd.Series(
            frame["close"].to_numpy(dtype=np.float64),
            index=pd.DatetimeIndex(frame["date"]).as_unit("ns") + step,
        )
        closes = closes[~closes.index.duplicated(keep="last")].sort_index()
        columns[pair] = closes.reindex(grid.as_unit("ns"), method="ffill").to_numpy()
    return pd.DataFrame(columns, index=grid.as_unit("ns"))


@dataclass(frozen=True)
class Segment:
    """An account over a window: its equity points and the fills that moved it.

    ``points`` is indexed by time (the window start, then each candle close) with columns
    ``equity``, ``invested`` (holdings at market, after the fills of that instant) and
    ``exposure`` (invested share during the candle ending there; NaN at the start, which ends
    no candle). ``fills`` is a fills frame with a ``point`` column: the first point whose
    equity includes the fill.
    """

    points: pd.DataFrame
    fills: pd.DataFrame

    @property
    def start(self) -> pd.Timestamp:
        """The first point's time."""
        return self.points.index[0]

    @property
    def end(self) -> pd.Timestamp:
        """The last point's time."""
        return self.points.index[-1]

    def slice(self, start: pd.Timestamp, end: pd.Timestamp) -> Segment:
        """The part from point ``start`` to point ``end``, with the fills that move it.

        A fill belongs to the slice when the first point including it lies in
        ``(start, end]``: the slice's first point is its starting state. Raises ``ValueError``
        when either time is not one of the points.
        """
        index = self.points.index
        for name, when in (("start", start), ("end", end)):
            if when not in index:
                raise ValueError(f"slice {name} {when} is not an equity point ({index[0]}..)")
        if not start < end:
            raise ValueError(f"slice start {start} is not before its end {end}")
        points = self.points.loc[start:end].copy()
        points.iloc[0, points.columns.get_loc("exposure")] = np.nan
        point = self.fills["point"]
        fills = self.fills[(point > start) & (point <= end)].reset_index(drop=True)
        return Segment(points=points, fills=fills)


def reconstruct_equity(
    fills: pd.DataFrame, closes: pd.DataFrame, start_balance: float, start: pd.Timestamp
) -> Segment:
    """Cash, holdings and equity of the account at every close of ``closes``.

    ``closes`` is a :func:`close_grid` frame (one column per pair); ``fills`` a fills frame
    whose pairs are among its columns and whose times lie in ``[start, last close]``. Raises
    ``ValueError`` naming the fill, pair or time that makes the account impossible to value.
    """
    missing = [c for c in FILL_COLUMNS if c not in fills.columns]
    if missing:
        raise ValueError(f"fills lack the columns {missing}")
    if not (np.isfinite(start_balance) and start_balance > 0):
        raise ValueError(f"start balance must be a positive number, got {start_balance}")
    pairs = list(closes.columns)
    unknown = sorted(set(fills["pair"]) - set(pairs))
    if unknown:
        raise ValueError(f"fills in {unknown} but closes only for {pairs}")
    fills = sort_fills(fills)
    times = as_ns(fills["time"])
    grid = as_ns(closes.index)
    start_ns = as_ns(pd.DatetimeIndex([start]))[0]
    if grid.size == 0 or grid[0] <= start_ns:
        raise ValueError(f"closes must start after the window start {start}")
    if times.size and (times[0] < start_ns or times[-1] > grid[-1]):
        outside = fills["time"].iloc[0] if times[0] < start_ns else fills["time"].iloc[-1]
        raise ValueError(f"fill at {outside} lies outside {start}..{closes.index[-1]}")

    amount = fills["amount"].to_numpy(dtype=np.float64)
    flows = -amount * fills["price"].to_numpy(dtype=np.float64) - fills["fee"].to_numpy(
        dtype=np.float64
    )
    cash = start_balance + np.concatenate([[0.0], np.cumsum(flows)])
    moves = np.zeros((times.size + 1, len(pairs)))
    moves[np.arange(1, times.size + 1), [pairs.index(p) for p in fills["pair"]]] = amount
    holdings = np.cumsum(moves, axis=0)
    prices = closes.to_numpy(dtype=np.float64)

    def valued(upto: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        held = holdings[upto]
        unpriced = (held != 0) & ~np.isfinite(prices)
        if unpriced.any():
            row, col = np.argwhere(unpriced)[0]
            raise ValueError(f"{pairs[col]} is held at {closes.index[row]} but has no close")
        return cash[upto], np.where(held != 0, held * prices, 0.0).sum(axis=1)

    cash_after, invested_after = valued(np.searchsorted(times, grid, side="right"))
    cash_during, invested_during = valued(np.searchsorted(times, grid, side="left"))
    account_during = cash_during + invested_during
    with np.errstate(divide="ignore", invalid="ignore"):
        exposure = np.where(account_during > 0, invested_during / account_during, np.nan)
    index = pd.DatetimeIndex([pd.Timestamp(start)]).as_unit("ns").append(closes.index)
    points = pd.DataFrame(
        {
            "equity": np.concatenate([[start_balance], cash_after + invested_after]),
            "invested": np.concatenate([[0.0], invested_after]),
            "exposure": np.concatenate([[np.nan], exposure]),
        },
        index=index,
    )
    reflected = closes.index[np.searchsorted(grid, times, side="left")]
    return Segment(points=points, fills=fills.assign(point=reflected))
