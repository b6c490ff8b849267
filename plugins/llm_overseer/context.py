"""Context builder: compact, causal per-pair features and the portfolio state.

Only candles that have *closed* by ``current_time`` are used (a row whose open time plus the
timeframe is later than ``current_time`` is dropped), so the same code is honest in backtests,
where ``current_time`` is the candle time, and live. Everything is computed with numpy on the
last ``context_candles`` rows; nothing looks at the whole series. Missing indicator columns are
simply left out.

Two levels, because the overseer runs on every candle of a backtest:

- :func:`core_features` -> :class:`CoreFeatures`: the few values the schedule, the escalation
  triggers and the rules policy need on every candle (last close, flash return, volatility
  ratio and regime; the pattern signals are read only when asked for, i.e. when the pair has
  an open position). It reads one price column and a handful of cells.
- :func:`build_features` -> :class:`PairFeatures`: everything a model prompt carries
  (trend, returns, range, indicators, patterns, session), built only when a model call is due.

Both compute the shared values with the same code, so they agree bit for bit.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
import pandas as pd

from plugins.llm_overseer.frame_columns import column_values, float_values
from trading_agent import TradeSnapshot
from trading_agent.candles import epoch_ns, ticks_of, timeframe_ns

VOL_WINDOW = 24
SHORT_WINDOW = 12
LONG_WINDOW = 72
EMA_SPAN = 50


@dataclass(frozen=True, slots=True)
class PairFeatures:
    """What the overseer knows about one pair at one time (all known at the last close)."""

    pair: str
    candle_time: datetime
    close: float
    n_candles: int
    ret_1: float
    ret_short: float
    ret_long: float
    flash_return: float
    vol_recent: float
    vol_baseline: float
    vol_ratio: float
    vol_regime: str
    trend: str
    ema_gap: float
    range_position: float
    drawdown_from_high: float
    session: str
    indicators: dict[str, float] = field(default_factory=dict)
    patterns: dict[str, int] = field(default_factory=dict)


def session_of(ts: datetime) -> str:
    """Trading session by UTC hour: asia 00-07, europe 07-13, us 13-21, late 21-24."""
    hour = ts.hour
    if hour < 7:
        return "asia"
    if hour < 13:
        return "europe"
    if hour < 21:
        return "us"
    return "late"


def infer_timeframe(dates: np.ndarray) -> timedelta:
    """The most common spacing of the last candles (fallback when no timeframe is known)."""
    if len(dates) < 2:
        return timedelta(minutes=5)
    diffs = np.diff(dates[-50:]).astype("timedelta64[s]").astype(np.int64)
    diffs = diffs[diffs > 0]
    if len(diffs) == 0:
        return timedelta(minutes=5)
    values, counts = np.unique(diffs, return_counts=True)
    return timedelta(seconds=int(values[np.argmax(counts)]))


def _ema_last(values: np.ndarray, span: int) -> tuple[float, float]:
    """Last EMA value and the one ``SHORT_WINDOW`` candles before (numpy, tail only)."""
    alpha = 2.0 / (span + 1.0)
    n = len(values)
    weights = (1.0 - alpha) ** np.arange(n - 1, -1, -1)
    # EMA seeded with the first value (adjust=False semantics).
    ema_now = alpha * float(np.dot(weights[1:], values[1:])) + weights[0] * values[0]
    m = max(n - SHORT_WINDOW, 1)
    w2 = (1.0 - alpha) ** np.arange(m - 1, -1, -1)
    ema_before = alpha * float(np.dot(w2[1:], values[1:m])) + w2[0] * values[0]
    return float(ema_now), float(ema_before)


def _log_return_vols(close: np.ndarray, window: int) -> np.ndarray:
    """Rolling population standard deviation of the log returns of ``close`` (vectorised).

    Log returns ``log(c[i + 1]) - log(c[i])``; running sums of them and of their squares
    from a leading zero, differenced ``window`` apart:
    ``sqrt(max(s2 / window - (s1 / window) ** 2, 0))`` over every complete window. Both sums
    run in one 2-row array the returns are written into (fewer numpy calls: this runs on
    every candle); the arithmetic of each value is that of ``plugins.llm_overseer.columns``.
    """
    logc = np.log(close)
    n = len(logc) - 1
    if n < window:
        x = logc[1:] - logc[:-1]
        return np.array([float(np.std(x))]) if n > 0 else np.array([0.0])
    sums = np.zeros((2, n + 1))
    x = np.subtract(logc[1:], logc[:-1], out=sums[0, 1:])
    np.multiply(x, x, out=sums[1, 1:])
    np.cumsum(sums, axis=1, out=sums)
    means = sums[:, window:] - sums[:, :-window]
    means /= window
    var = means[1] - means[0] ** 2
    np.maximum(var, 0.0, out=var)
    return np.sqrt(var, out=var)


def median_of(values: np.ndarray) -> float:
    """``np.median`` of a 1-d float array without its overhead (same value, bit for bit).

    The median is the middle order statistic (odd length) or the mean of the two middle ones
    (even length), computed as ``(a + b) / 2`` exactly as ``np.mean`` does for two values. As
    in ``np.median``, the partition also puts the maximum last, so a NaN gives NaN.
    """
    n = len(values)
    if n == 0:
        raise ValueError("median of an empty array")
    half = n // 2
    if n % 2:
        part = np.partition(values, (half, n - 1))
        return float("nan") if np.isnan(part[-1]) else float(part[half])
    part = np.partition(values, (half - 1, half, n - 1))
    if np.isnan(part[-1]):
        return float("nan")
    return float((part[half - 1] + part[half]) / 2.0)


def vol_stats(close: np.ndarray) -> tuple[float, float, float]:
    """Recent volatility, its baseline (median over the window) and their ratio.

    ``close`` is the (finite, positive) close window; volatility is the rolling standard
    deviation of log returns over ``VOL_WINDOW`` candles.
    """
    return _vol_ratio(_log_return_vols(close, VOL_WINDOW))


def _vol_ratio(vols: np.ndarray) -> tuple[float, float, float]:
    """Last rolling volatility, the median of all, and their ratio (1 for a zero median)."""
    vol_recent = float(vols[-1])
    vol_baseline = median_of(vols)
    vol_ratio = vol_recent / vol_baseline if vol_baseline > 0 else 1.0
    return vol_recent, vol_baseline, float(vol_ratio)


def vol_regime(vol_ratio: float, high_vol_ratio: float) -> str:
    """``high``, ``low`` or ``normal`` from the volatility ratio."""
    if vol_ratio >= high_vol_ratio:
        return "high"
    if vol_ratio <= 1.0 / high_vol_ratio:
        return "low"
    return "normal"


def window_return(close: np.ndarray, n: int) -> float:
    """Return over the last ``n`` candles of ``close`` (at most the whole window)."""
    n = min(n, len(close) - 1)
    return float(close[-1] / close[-1 - n] - 1.0)


def _fill_close(close: np.ndarray) -> np.ndarray | None:
    """The close window with gaps filled (ffill, then bfill), or ``None`` if unusable."""
    close = pd.Series(close).ffill().bfill().to_numpy(dtype=float)
    if not np.all(np.isfinite(close)) or np.any(close <= 0):
        return None
    return close


def window_vol_stats(
    window: np.ndarray,
) -> tuple[np.ndarray, tuple[float, float, float]] | None:
    """The usable close window and its :func:`vol_stats`; ``None`` if it cannot be used.

    A window holding a missing, infinite, zero or negative close is filled (ffill, then
    bfill) first; ``None`` when that leaves one. Such a close makes a log return, hence the
    last rolling volatility, non-finite, which is how it is detected without a separate pass.
    """
    with np.errstate(all="ignore"):  # bad closes are dealt with below
        vols = _log_return_vols(window, VOL_WINDOW)
    if not math.isfinite(vols[-1]):
        filled = _fill_close(window)
        if filled is None:
            return None
        window = filled
        vols = _log_return_vols(window, VOL_WINDOW)
    return window, _vol_ratio(vols)


@dataclass(frozen=True, slots=True)
class FrameLayout:
    """Where the columns the overseer reads sit in one frame (positions for ``iat``).

    ``None`` marks a missing column; ``indicators`` and ``patterns`` list only the columns
    present, in the frame's column order for patterns and the configured order for indicators.
    """

    date: int | None
    close: int | None
    high: int | None
    low: int | None
    session: int | None
    indicators: tuple[tuple[str, int], ...]
    patterns: tuple[tuple[str, int], ...]


def _loc(columns: pd.Index, name: str) -> int | None:
    """Position of column ``name``, ``None`` if absent; a duplicated name is an error."""
    if name not in columns:
        return None
    loc = columns.get_loc(name)
    if not isinstance(loc, int):
        raise ValueError(f"column {name!r} appears more than once in the frame")
    return loc


def frame_layout(
    columns: pd.Index,
    indicator_columns: Sequence[str] = (),
    pattern_prefixes: Sequence[str] = (),
    pattern_exclude_suffixes: Sequence[str] = (),
) -> FrameLayout:
    """Positions of the date, price, session, indicator and pattern columns in ``columns``.

    Pattern columns start with one of ``pattern_prefixes`` and do not end with one of
    ``pattern_exclude_suffixes``.
    """
    prefixes = tuple(pattern_prefixes)
    excluded = tuple(pattern_exclude_suffixes)
    indicators = []
    for name in indicator_columns:
        pos = _loc(columns, name)
        if pos is not None:
            indicators.append((name, pos))
    patterns = []
    if prefixes:
        for pos, name in enumerate(columns.tolist()):
            if (
                isinstance(name, str)
                and name.startswith(prefixes)
                and not (excluded and name.endswith(excluded))
            ):
                patterns.append((name, pos))
    return FrameLayout(
        date=_loc(columns, "date"),
        close=_loc(columns, "close"),
        high=_loc(columns, "high"),
        low=_loc(columns, "low"),
        session=_loc(columns, "session"),
        indicators=tuple(indicators),
        patterns=tuple(patterns),
    )


class LayoutCache:
    """The :class:`FrameLayout` of the last column set seen, reused while columns repeat.

    A new frame with the same columns (dry-run and live: every candle) is confirmed with
    ``Index.equals`` (10-20 us for string columns); the entry then holds that frame's Index,
    so every further lookup for the same frame is an identity check. Keep one cache per pair.
    Safe to share between the bot's thread and the worker (the entry is replaced as one
    tuple).
    """

    def __init__(
        self,
        indicator_columns: Sequence[str] = (),
        pattern_prefixes: Sequence[str] = (),
        pattern_exclude_suffixes: Sequence[str] = (),
    ) -> None:
        self._args = (
            tuple(indicator_columns),
            tuple(pattern_prefixes),
            tuple(pattern_exclude_suffixes),
        )
        self._entry: tuple[pd.Index, FrameLayout] | None = None

    def price_positions(self, columns: pd.Index) -> tuple[int | None, int | None]:
        """Positions of ``date`` and ``close`` in ``columns`` (``None`` when absent).

        While the cached layout stands, a frame as wide as its columns with ``date`` and
        ``close`` at the same positions is taken as is (two names read instead of comparing
        every name: the per-candle path reads only those two columns); anything else goes
        through :meth:`get`, which also checks every other column when it is asked for.
        """
        entry = self._entry
        if entry is not None:
            cached, layout = entry
            date, close = layout.date, layout.close
            if columns is cached:
                return date, close
            if (
                date is not None
                and close is not None
                and len(columns) == len(cached)
                and columns[date] == "date"
                and columns[close] == "close"
            ):
                return date, close
        layout = self.get(columns)
        return layout.date, layout.close

    def get(self, columns: pd.Index) -> FrameLayout:
        """The layout of ``columns`` (looked up again only when the columns changed)."""
        entry = self._entry
        if entry is not None:
            if columns is entry[0]:
                return entry[1]
            if columns.equals(entry[0]):
                self._entry = (columns, entry[1])  # the next lookup of these is by identity
                return entry[1]
        layout = frame_layout(columns, *self._args)
        self._entry = (columns, layout)
        return layout


def _number(value: object) -> float | None:
    """``value`` as a finite float, or ``None``."""
    try:
        val = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return val if math.isfinite(val) else None


def read_patterns(
    df: pd.DataFrame, row: int, patterns: Sequence[tuple[str, int]]
) -> dict[str, int]:
    """Direction (+1/-1) of every pattern column that is non-zero at ``row``."""
    out: dict[str, int] = {}
    for name, pos in patterns:
        val = _number(column_values(df, pos)[row])  # the cell ``df.iat[row, pos]``
        if val is not None and val != 0:
            out[str(name)] = 1 if val > 0 else -1
    return out


def closed_count(df: pd.DataFrame, current_time: datetime, timeframe: timedelta | None) -> int:
    """How many leading rows of ``df`` had closed by ``current_time`` (binary search).

    A row's candle opens at ``date`` and closes at ``date + timeframe``. The frame may run
    past ``current_time`` (backtests): later rows are never used.
    """
    return closed_span(df, current_time, timeframe)[0]


def closed_span(
    df: pd.DataFrame, current_time: datetime, timeframe: timedelta | None
) -> tuple[int, pd.Timestamp | None]:
    """:func:`closed_count` and the open time of the last closed candle (or ``None``).

    Works in nanoseconds whatever the unit of the ``date`` column (``datetime64[ns]`` from
    Freqtrade, ``[us]`` or ``[ms]`` from other sources).
    """
    ticks = ticks_of(df["date"])
    if timeframe is None:
        step = np.diff(ticks[-50:])
        step = step[step > 0]
        values, counts = np.unique(step, return_counts=True) if len(step) else ([0], [1])
        tf_ticks = int(values[int(np.argmax(counts))]) if len(step) else 0
        if tf_ticks == 0:
            tf_ticks = timeframe_ns(timedelta(minutes=5))
    else:
        tf_ticks = timeframe_ns(timeframe)
    limit = epoch_ns(current_time) - tf_ticks
    n = int(np.searchsorted(ticks, limit, side="right"))
    last = pd.Timestamp(int(ticks[n - 1]), unit="ns", tz="UTC") if n else None
    return n, last


class CandleInputs(Protocol):
    """What the schedule, the triggers and the rules policy read about a pair."""

    @property
    def pair(self) -> str: ...

    @property
    def close(self) -> float: ...

    @property
    def flash_return(self) -> float: ...

    @property
    def vol_ratio(self) -> float: ...

    @property
    def vol_regime(self) -> str: ...

    @property
    def patterns(self) -> Mapping[str, int]: ...


class CoreFeatures:
    """The per-candle values of one pair: enough for the schedule, triggers and rules.

    Equal, value for value, to the same fields of :class:`PairFeatures` built from the same
    frame and time. ``patterns`` is read from the frame on first access only (the triggers and
    rules look at it only while the pair has an open position).
    """

    __slots__ = (
        "_arrays",
        "_frame",
        "_layouts",
        "_patterns",
        "close",
        "flash_return",
        "n_closed",
        "pair",
        "vol_ratio",
        "vol_regime",
    )

    def __init__(
        self,
        pair: str,
        close: float,
        flash_return: float,
        vol_ratio: float,
        vol_regime: str,
        n_closed: int,
        frame: pd.DataFrame,
        layouts: LayoutCache,
        arrays: CoreArrays | None = None,
    ) -> None:
        self.pair = pair
        self.close = close
        self.flash_return = flash_return
        self.vol_ratio = vol_ratio
        self.vol_regime = vol_regime
        self.n_closed = n_closed
        self._frame = frame
        self._layouts = layouts
        self._arrays = arrays
        self._patterns: dict[str, int] | None = None

    @property
    def patterns(self) -> dict[str, int]:
        """Confirmed pattern directions on the last closed candle (read once, then kept)."""
        if self._patterns is None:
            # Idempotent: the bot's thread and the worker may both read it at once.
            layout = self._layouts.get(self._frame.columns)
            arrays = self._arrays
            if arrays is not None and arrays.moving and arrays.frame is self._frame:
                self._patterns = arrays.patterns_at(self.n_closed - 1, layout.patterns)
            else:
                self._patterns = read_patterns(self._frame, self.n_closed - 1, layout.patterns)
        return self._patterns

    def __repr__(self) -> str:
        return (
            f"CoreFeatures(pair={self.pair!r}, close={self.close!r}, "
            f"flash_return={self.flash_return!r}, vol_ratio={self.vol_ratio!r}, "
            f"vol_regime={self.vol_regime!r}, n_closed={self.n_closed!r})"
        )


def _close_window(df: pd.DataFrame, first: int, n_closed: int) -> np.ndarray:
    """Closes of rows ``first .. n_closed - 1`` as float64 (a view when the column is float)."""
    return df["close"].to_numpy(dtype=float)[first:n_closed]


def core_features(
    pair: str,
    df: pd.DataFrame,
    n_closed: int,
    layouts: LayoutCache,
    *,
    context_candles: int = 300,
    high_vol_ratio: float = 1.8,
    flash_window: int = 3,
    arrays: CoreArrays | None = None,
) -> CoreFeatures | None:
    """The per-candle values of ``pair`` from the first ``n_closed`` (closed) rows of ``df``.

    ``df`` has ``date`` and ``close``; ``layouts`` (with the pattern settings) finds the
    pattern columns if they are asked for; ``arrays`` (of ``df``), when given, supplies the
    closes. ``None`` exactly when :func:`build_features` gives ``None`` for the same input.
    """
    if n_closed <= 0:
        return None
    first = max(n_closed - context_candles, 0)
    if n_closed - first < VOL_WINDOW + 2:
        return None
    window = (
        arrays.close[first:n_closed] if arrays is not None else _close_window(df, first, n_closed)
    )
    stats = window_vol_stats(window)
    if stats is None:
        return None
    close, (_, _, ratio) = stats
    return CoreFeatures(
        pair=pair,
        close=float(close[-1]),
        flash_return=window_return(close, flash_window),
        vol_ratio=ratio,
        vol_regime=vol_regime(ratio, high_vol_ratio),
        n_closed=n_closed,
        frame=df,
        layouts=layouts,
        arrays=arrays,
    )


@dataclass(slots=True)
class CoreArrays:
    """The columns the per-candle path reads, as arrays of one whole frame.

    ``frame`` is kept so the arrays are reused exactly while the same frame object is
    handed in again (a backtest hands in one frame per pair for the whole run).
    ``moving`` is set once the same frame was read at a later row: only then do the open
    times and the pattern columns pay for whole-column arrays (one lookup per candle after);
    a frame read at one row only (dry-run and live: a new frame every candle) reads a cell
    or two instead.
    """

    frame: pd.DataFrame
    date_position: int
    close: np.ndarray  # float64
    vol_ratio: np.ndarray | None  # the precomputed column (see plugins.llm_overseer.columns)
    moving: bool = False
    _ticks: np.ndarray | None = None
    _pattern_matrices: dict[tuple, np.ndarray] = field(default_factory=dict)

    def ticks(self) -> np.ndarray:
        """Open times as int64 epoch nanoseconds (UTC; naive dates count as UTC)."""
        if self._ticks is None:
            self._ticks = ticks_of(self.frame.iloc[:, self.date_position])
        return self._ticks

    def patterns_at(self, row: int, patterns: Sequence[tuple[str, int]]) -> dict[str, int]:
        """:func:`read_patterns` at ``row``, from a matrix of the pattern columns built once."""
        key = tuple(patterns)
        matrix = self._pattern_matrices.get(key)
        if matrix is None:
            matrix = np.empty((len(self.frame), len(key)))
            for j, (_, pos) in enumerate(key):
                column = pd.to_numeric(self.frame.iloc[:, pos], errors="coerce")
                matrix[:, j] = column.to_numpy(dtype=float, na_value=np.nan)
            self._pattern_matrices[key] = matrix
        values = matrix[row]
        return {
            str(key[j][0]): 1 if values[j] > 0 else -1
            for j in np.flatnonzero(np.isfinite(values) & (values != 0))
        }


def core_arrays(
    frame: pd.DataFrame,
    date: int | None,
    close: int | None,
    vol_ratio_column: str | None = None,
) -> CoreArrays | None:
    """The arrays of ``frame`` the per-candle path reads (``None`` without date or close).

    ``date`` and ``close`` are the positions of those columns (see
    :meth:`LayoutCache.price_positions`): a name lookup on a new frame first builds the
    column index's hash table, which costs more than the arrays themselves in dry-run and
    live, where every candle brings a new frame.
    """
    if date is None or close is None:
        return None
    vol = None
    if vol_ratio_column and vol_ratio_column in frame.columns:
        vol = frame[vol_ratio_column].to_numpy(dtype=float)
    return CoreArrays(
        frame=frame,
        date_position=date,
        close=float_values(frame, close),
        vol_ratio=vol,
    )


def core_from_arrays(
    pair: str,
    arrays: CoreArrays,
    n_closed: int,
    layouts: LayoutCache,
    *,
    timeframe: timedelta | None,
    context_candles: int = 300,
    high_vol_ratio: float = 1.8,
    flash_window: int = 3,
) -> CoreFeatures | None:
    """:func:`core_features` from the precomputed volatility-ratio column, reading 4 cells.

    The column's value at the last closed row stands for the window only when that row has a
    full window of ``context_candles`` rows spanning exactly ``context_candles - 1``
    timeframes (consecutive candles, hence the very rows the column was computed from) and
    the value is finite (its window had only finite, positive closes). Otherwise ``None``:
    compute with :func:`core_features`.
    """
    if arrays.vol_ratio is None or timeframe is None or n_closed < context_candles:
        return None
    row = n_closed - 1
    ratio = float(arrays.vol_ratio[row])
    if not math.isfinite(ratio):
        return None
    span = (context_candles - 1) * timeframe_ns(timeframe)
    ticks = arrays.ticks()
    if int(ticks[row]) - int(ticks[n_closed - context_candles]) != span:
        return None
    close = float(arrays.close[row])
    back = float(arrays.close[row - min(flash_window, context_candles - 1)])
    return CoreFeatures(
        pair=pair,
        close=close,
        flash_return=float(close / back - 1.0),
        vol_ratio=ratio,
        vol_regime=vol_regime(ratio, high_vol_ratio),
        n_closed=n_closed,
        frame=arrays.frame,
        layouts=layouts,
        arrays=arrays,
    )


_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_NAT = int(np.iinfo(np.int64).min)  # NaT's integer value


def closed_in(arrays: CoreArrays, end: int, current_time_ns: int, timeframe: timedelta) -> int:
    """How many of the first ``end`` rows had closed at ``current_time_ns``.

    A frame that is not moving (see :class:`CoreArrays`) usually ends with its last closed
    candle or the one after it, which one or two cell reads confirm; anything else is a
    binary search of the open times. Same answer either way for a frame sorted by date.
    """
    limit = current_time_ns - timeframe_ns(timeframe)
    if arrays._ticks is None and not arrays.moving:
        dates = column_values(arrays.frame, arrays.date_position)
        if isinstance(dates, pd.arrays.DatetimeArray) and dates.unit in _NS_PER_UNIT:
            raw, scale = dates.asi8, _NS_PER_UNIT[dates.unit]  # UTC, or naive taken as UTC
            for row in (end - 1, end - 2):
                if row < 0:
                    return 0
                tick = int(raw[row])
                if tick == _NAT:
                    break
                if tick * scale <= limit:
                    return row + 1
    return int(np.searchsorted(arrays.ticks()[:end], limit, side="right"))


def build_features(
    pair: str,
    df: pd.DataFrame | None,
    current_time: datetime,
    *,
    timeframe: timedelta | None = None,
    context_candles: int = 300,
    high_vol_ratio: float = 1.8,
    flash_window: int = 3,
    indicator_columns: Sequence[str] = (),
    pattern_prefixes: Sequence[str] = (),
    pattern_exclude_suffixes: Sequence[str] = (),
    n_closed: int | None = None,
    layout: FrameLayout | None = None,
) -> PairFeatures | None:
    """Features of ``pair`` from its analysed dataframe at ``current_time``.

    ``n_closed`` (from :func:`closed_count`) may be passed when already known, and ``layout``
    (from :func:`frame_layout` with the same column arguments) when cached. Returns ``None``
    when there are fewer than ``VOL_WINDOW + 2`` closed candles or the frame lacks
    ``date``/``close``.
    """
    if df is None or len(df) == 0 or "close" not in df.columns or "date" not in df.columns:
        return None
    if layout is None:
        layout = frame_layout(
            df.columns, indicator_columns, pattern_prefixes, pattern_exclude_suffixes
        )
    if n_closed is None:
        n_closed = closed_count(df, current_time, timeframe)
    if n_closed <= 0:
        return None
    first = max(n_closed - context_candles, 0)
    if n_closed - first < VOL_WINDOW + 2:
        return None
    stats = window_vol_stats(_close_window(df, first, n_closed))
    if stats is None:
        return None
    close, (vol_recent, vol_baseline, vol_ratio) = stats
    last = close[-1]
    ema_now, ema_before = _ema_last(close, EMA_SPAN)
    ema_gap = last / ema_now - 1.0
    slope = ema_now / ema_before - 1.0
    if ema_gap > 0 and slope > 0:
        trend = "up"
    elif ema_gap < 0 and slope < 0:
        trend = "down"
    else:
        trend = "flat"
    high = df["high"].to_numpy(dtype=float)[first:n_closed] if layout.high is not None else close
    low = df["low"].to_numpy(dtype=float)[first:n_closed] if layout.low is not None else close
    hi, lo = float(np.nanmax(high)), float(np.nanmin(low))
    range_pos = (last - lo) / (hi - lo) if hi > lo else 0.5
    row = n_closed - 1
    indicators: dict[str, float] = {}
    for col, pos in layout.indicators:
        val = _number(df.iat[row, pos])
        if val is not None:
            indicators[col] = val
    patterns = read_patterns(df, row, layout.patterns)
    candle_time = pd.Timestamp(df.iat[row, layout.date])
    candle_time = (
        candle_time.tz_localize("UTC") if candle_time.tzinfo is None else candle_time
    ).to_pydatetime()
    session = (
        str(df.iat[row, layout.session]) if layout.session is not None else session_of(current_time)
    )
    return PairFeatures(
        pair=pair,
        candle_time=candle_time,
        close=float(last),
        n_candles=len(close),
        ret_1=window_return(close, 1),
        ret_short=window_return(close, SHORT_WINDOW),
        ret_long=window_return(close, LONG_WINDOW),
        flash_return=window_return(close, flash_window),
        vol_recent=vol_recent,
        vol_baseline=vol_baseline,
        vol_ratio=vol_ratio,
        vol_regime=vol_regime(vol_ratio, high_vol_ratio),
        trend=trend,
        ema_gap=float(ema_gap),
        range_position=float(range_pos),
        drawdown_from_high=float(last / hi - 1.0) if hi > 0 else 0.0,
        session=session,
        indicators=indicators,
        patterns=patterns,
    )


@dataclass(frozen=True, slots=True)
class OpenPosition:
    """An open trade as the overseer sees it."""

    pair: str
    side: str
    stake: float
    unrealised: float
    age_minutes: float


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A closed trade as the overseer remembers it."""

    pair: str
    profit_ratio: float
    profit_abs: float
    exit_reason: str
    close_date: datetime


@dataclass(frozen=True, slots=True)
class PortfolioState:
    """Positions, recent results, PnL and drawdown at one time."""

    open_positions: tuple[OpenPosition, ...]
    recent_closed: tuple[ClosedTrade, ...]
    realised_pnl: float
    unrealised_pnl: float
    drawdown: float
    losing_streak: int
    capital: float


class TradeHistory:
    """Closed trades fed by ``trade_closed``; equity peak for the drawdown."""

    def __init__(self, capital: float, keep: int = 50) -> None:
        if not capital > 0:
            raise ValueError(f"capital must be > 0, got {capital!r}")
        self.capital = capital
        self._closed: deque[ClosedTrade] = deque(maxlen=keep)
        self._seen: set[int] = set()
        self.realised = 0.0
        self.peak_equity = 0.0
        self.losing_streak = 0

    def add_closed(self, trade: TradeSnapshot) -> None:
        """Remember one closed trade (each trade id once)."""
        if trade.trade_id in self._seen:
            return
        self._seen.add(trade.trade_id)
        profit_abs = float(trade.profit_abs or 0.0)
        profit_ratio = float(trade.profit_ratio or 0.0)
        self._closed.append(
            ClosedTrade(
                pair=trade.pair,
                profit_ratio=profit_ratio,
                profit_abs=profit_abs,
                exit_reason=trade.exit_reason or "",
                close_date=trade.close_date or trade.open_date,
            )
        )
        self.realised += profit_abs
        self.peak_equity = max(self.peak_equity, self.realised)
        self.losing_streak = self.losing_streak + 1 if profit_abs < 0 else 0

    def state(
        self,
        now: datetime,
        open_trades: Sequence[TradeSnapshot],
        features: Mapping[str, CandleInputs],
    ) -> PortfolioState:
        """Portfolio state at ``now`` (unrealised PnL from each pair's last close)."""
        positions = []
        unrealised = 0.0
        for t in open_trades:
            f = features.get(t.pair)
            ratio = 0.0
            if f is not None and t.open_rate > 0:
                ratio = f.close / t.open_rate - 1.0
                if t.is_short:
                    ratio = -ratio
            unrealised += ratio * t.stake_amount
            age = (now - t.open_date).total_seconds() / 60.0 if t.open_date else 0.0
            positions.append(
                OpenPosition(
                    pair=t.pair,
                    side="short" if t.is_short else "long",
                    stake=float(t.stake_amount),
                    unrealised=float(ratio),
                    age_minutes=float(max(age, 0.0)),
                )
            )
        equity = self.realised + unrealised
        peak = max(self.peak_equity, equity)
        drawdown = (peak - equity) / self.capital if self.capital > 0 else 0.0
        return PortfolioState(
            open_positions=tuple(positions),
            recent_closed=tuple(list(self._closed)[-5:]),
            realised_pnl=self.realised,
            unrealised_pnl=unrealised,
            drawdown=max(drawdown, 0.0),
            losing_streak=self.losing_streak,
            capital=self.capital,
        )
