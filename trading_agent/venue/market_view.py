"""What the market looks like at dataset time D, computed only from what is known at D.

Everything here is a pure function of the recorded candles and D:

- a candle is *closed* at D when its open time + timeframe <= D; closed candles are served
  exactly as recorded;
- the *forming* candle of a timeframe (the one whose span holds D) is rebuilt from what is
  known at D: its recorded open, the closed candles of the finest recorded timeframe inside it,
  and the current price. It is never the recorded full candle, which would leak the future;
- the *current price* is the latest price known at D: the recorded open of the candle forming
  at D (a trade at that candle's open time, so known at D) or, when no candle is forming (past
  the end of the recording, or in static mode), the close of the last closed candle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trading_agent.venue.data import Candles, SymbolData
from trading_agent.venue.intervals import DAY_MS, floor_time


class NoDataAt(LookupError):
    """No recorded candle of the symbol is known at the requested dataset time."""


@dataclass(frozen=True)
class FormingCandle:
    """A candle still open at D, built only from information known at D."""

    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class WindowStats:
    """Rolling statistics over ``[start, D)`` (the 24h ticker)."""

    open_time: int
    open: float
    high: float
    low: float
    last: float
    prev_close: float
    volume: float
    quote_volume: float


def last_closed_end(c: Candles, d_ms: int) -> int | None:
    """Close time of the last candle of ``c`` closed by D (None when none is)."""
    n = c.closed_count(d_ms)
    if n == 0:
        return None
    return int(c.open_time[n - 1]) + c.step_ms


def latest_information(sym: SymbolData, d_ms: int) -> tuple[float, Candles]:
    """The most recent price known at D and the timeframe it comes from.

    Candidates per timeframe: the recorded open of the candle forming at D (known from its
    open time) and the close of the last closed candle (known from its close time). The latest
    one wins; on a tie a forming open beats a close (it traded after it), then finer beats
    coarser. Raises NoDataAt when no candle of the symbol is known at D.
    """
    best: tuple[int, int, int] | None = None  # (info time, forming?, -step)
    chosen: tuple[float, Candles] | None = None
    for c in sym.ordered():
        t0 = floor_time(d_ms, c.step_ms)
        i = c.index_of(t0)
        if i is not None:
            key = (t0, 1, -c.step_ms)
            if best is None or key > best:
                best, chosen = key, (float(c.open[i]), c)
        n = c.closed_count(d_ms)
        if n > 0:
            key = (int(c.open_time[n - 1]) + c.step_ms, 0, -c.step_ms)
            if best is None or key > best:
                best, chosen = key, (float(c.close[n - 1]), c)
    if chosen is None:
        raise NoDataAt(f"{sym.symbol} has no recorded candle at or before {d_ms}")
    return chosen


def current_price(sym: SymbolData, d_ms: int) -> float:
    """Last traded price known at D (see :func:`latest_information`)."""
    return latest_information(sym, d_ms)[0]


def price_source(sym: SymbolData, d_ms: int) -> Candles:
    """Timeframe holding the latest information at D.

    The book and trade models read their recent candles from it: inside the recording it is
    the finest timeframe recorded at D.
    """
    return latest_information(sym, d_ms)[1]


def finer_source(sym: SymbolData, c: Candles, t0: int, d_ms: int) -> Candles | None:
    """Finest timeframe finer than ``c`` whose closed candles cover ``[t0, D)`` completely."""
    for f in sym.ordered():
        if f.step_ms >= c.step_ms:
            break
        if c.step_ms % f.step_ms:
            continue
        if f.first_open <= t0 and f.end_ms >= floor_time(d_ms, f.step_ms):
            return f
    return None


def forming_candle(sym: SymbolData, timeframe: str, d_ms: int) -> FormingCandle | None:
    """The candle of ``timeframe`` still forming at D, or None when none is recorded at D.

    Open: the recorded open (known at the candle's start). High/low/volume: the closed candles
    of the finest finer timeframe inside ``[open, D)`` plus the current price. Close: the current
    price. Without closed finer candles: O=H=L=C=the recorded open and volume 0 (or the current
    price where a finer forming candle supplies one).
    """
    c = sym.candles[timeframe]
    t0 = floor_time(d_ms, c.step_ms)
    i = c.index_of(t0)
    if i is None:
        return None
    o = float(c.open[i])
    price = current_price(sym, d_ms)
    high = max(o, price)
    low = min(o, price)
    volume = 0.0
    f = finer_source(sym, c, t0, d_ms)
    if f is not None:
        a = f.count_before(t0)
        b = f.count_before(floor_time(d_ms, f.step_ms))
        if b > a:
            high = max(high, float(f.high[a:b].max()))
            low = min(low, float(f.low[a:b].min()))
            volume = float(f.volume[a:b].sum())
    return FormingCandle(open_time=t0, open=o, high=high, low=low, close=price, volume=volume)


def kline_range(
    n_available: int,
    index_of_start: int | None,
    index_of_end: int | None,
    limit: int,
) -> tuple[int, int]:
    """Slice ``[i0, i1)`` of the served candle list that a klines request selects.

    ``n_available``: candles servable at D (closed ones plus the forming one).
    ``index_of_start``: index of the first candle opening at or after ``startTime`` (or None).
    ``index_of_end``: number of candles opening before ``endTime`` (exclusive; or None).

    MEXC's rules: with ``startTime``, ascending from it, at most ``limit``; with only
    ``endTime``, the last ``limit`` candles before it; with neither, the most recent ``limit``.
    """
    hi = n_available if index_of_end is None else min(index_of_end, n_available)
    if index_of_start is not None:
        lo = min(index_of_start, hi)
        return lo, min(hi, lo + limit)
    return max(0, hi - limit), hi


def window_source(sym: SymbolData, start_ms: int, d_ms: int) -> Candles:
    """Timeframe for statistics over ``[start_ms, D)``.

    Among the timeframes recorded from ``start_ms`` on (all of them if none is), the one whose
    closed candles reach furthest towards D; on a tie the finest.
    """
    ordered = sym.ordered()
    spanning = [c for c in ordered if c.first_open <= start_ms] or ordered
    best: tuple[int, int] | None = None
    chosen = spanning[0]
    for c in spanning:
        end = last_closed_end(c, d_ms)
        if end is None:
            continue
        key = (end, -c.step_ms)
        if best is None or key > best:
            best, chosen = key, c
    return chosen


def rolling_stats(sym: SymbolData, d_ms: int, window_ms: int = DAY_MS) -> WindowStats:
    """Open/high/low/last/volume over ``[D - window, D)`` from closed candles and the price."""
    start = d_ms - window_ms
    c = window_source(sym, start, d_ms)
    price = current_price(sym, d_ms)
    a = c.count_before(start)
    b = c.closed_count(d_ms)
    if b > a:
        o = float(c.open[a])
        high = max(float(c.high[a:b].max()), price)
        low = min(float(c.low[a:b].min()), price)
        vol = c.volume[a:b]
        typical = (c.high[a:b] + c.low[a:b] + c.close[a:b]) / 3.0
        volume = float(vol.sum())
        quote_volume = float(np.dot(vol, typical))
    else:
        o, high, low, volume, quote_volume = price, price, price, 0.0, 0.0
    prev_close = float(c.close[a - 1]) if 0 < a <= b else o
    return WindowStats(
        open_time=start,
        open=o,
        high=high,
        low=low,
        last=price,
        prev_close=prev_close,
        volume=volume,
        quote_volume=quote_volume,
    )


def recent_closed(c: Candles, d_ms: int, count: int) -> slice:
    """Slice of the last ``count`` candles of ``c`` closed by D."""
    b = c.closed_count(d_ms)
    return slice(max(0, b - count), b)
