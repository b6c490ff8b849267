"""Context builder: compact, causal per-pair features and the portfolio state.

Only candles that have *closed* by ``current_time`` are used (a row whose open time plus the
timeframe is later than ``current_time`` is dropped), so the same code is honest in backtests,
where ``current_time`` is the candle time, and live. Everything is computed with numpy on the
last ``context_candles`` rows; nothing looks at the whole series. Missing indicator columns are
simply left out.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from plugins.hookspecs import TradeSnapshot

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


def _rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Rolling population standard deviation over complete windows (cumsum, vectorised)."""
    if len(x) < window:
        return np.array([float(np.std(x))]) if len(x) else np.array([0.0])
    zero = np.zeros(1)
    c1 = np.cumsum(np.concatenate((zero, x)))
    c2 = np.cumsum(np.concatenate((zero, x * x)))
    s1 = c1[window:] - c1[:-window]
    s2 = c2[window:] - c2[:-window]
    var = np.maximum(s2 / window - (s1 / window) ** 2, 0.0)
    return np.sqrt(var)


_PATTERN_COLUMNS: dict[tuple[int, tuple[str, ...]], tuple[pd.Index, list[str]]] = {}


def _pattern_columns(
    columns: pd.Index, prefixes: tuple[str, ...], excluded: tuple[str, ...] = ()
) -> list[str]:
    """Columns starting with one of ``prefixes`` and not ending with one of ``excluded``.

    Memoised per column Index object (a fresh frame has a fresh Index).
    """
    if not prefixes:
        return []
    key = (id(columns), (*prefixes, "|", *excluded))
    hit = _PATTERN_COLUMNS.get(key)
    if hit is not None and hit[0] is columns:
        return hit[1]
    found = [
        c
        for c in columns
        if isinstance(c, str) and c.startswith(prefixes) and not (excluded and c.endswith(excluded))
    ]
    if len(_PATTERN_COLUMNS) > 32:
        _PATTERN_COLUMNS.clear()
    _PATTERN_COLUMNS[key] = (columns, found)
    return found


def _number_at(df: pd.DataFrame, i: int, col: str) -> float | None:
    """Row ``i`` of column ``col`` as a finite float, or ``None``."""
    try:
        val = float(df.iloc[i, df.columns.get_loc(col)])
    except (TypeError, ValueError):
        return None
    return val if math.isfinite(val) else None


def closed_count(df: pd.DataFrame, current_time: datetime, timeframe: timedelta | None) -> int:
    """How many leading rows of ``df`` had closed by ``current_time`` (binary search).

    A row's candle opens at ``date`` and closes at ``date + timeframe``. The frame may run
    past ``current_time`` (backtests): later rows are never used.
    """
    return closed_span(df, current_time, timeframe)[0]


def closed_span(
    df: pd.DataFrame, current_time: datetime, timeframe: timedelta | None
) -> tuple[int, pd.Timestamp | None]:
    """:func:`closed_count` and the open time of the last closed candle (or ``None``)."""
    dates = df["date"]
    if not isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = pd.to_datetime(dates, utc=True)
    ticks = dates.array.asi8  # int64 epoch ticks in the column's unit, no copy
    unit = dates.dtype.unit
    if timeframe is None:
        step = np.diff(ticks[-50:])
        step = step[step > 0]
        values, counts = np.unique(step, return_counts=True) if len(step) else ([0], [1])
        tf_ticks = int(values[int(np.argmax(counts))]) if len(step) else 0
        if tf_ticks == 0:
            tf_ticks = int(pd.Timedelta(minutes=5).as_unit(unit).value)
    else:
        tf_ticks = int(pd.Timedelta(timeframe).as_unit(unit).value)
    now = pd.Timestamp(current_time)
    now = now.tz_localize("UTC") if now.tzinfo is None else now
    limit = int(now.as_unit(unit).value) - tf_ticks
    n = int(np.searchsorted(ticks, limit, side="right"))
    last = pd.Timestamp(int(ticks[n - 1]), unit=unit, tz="UTC") if n else None
    return n, last


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
) -> PairFeatures | None:
    """Features of ``pair`` from its analysed dataframe at ``current_time``.

    ``n_closed`` (from :func:`closed_count`) may be passed when already known. Returns
    ``None`` when there are fewer than ``VOL_WINDOW + 2`` closed candles or the frame lacks
    ``date``/``close``.
    """
    if df is None or len(df) == 0 or "close" not in df.columns or "date" not in df.columns:
        return None
    if n_closed is None:
        n_closed = closed_count(df, current_time, timeframe)
    if n_closed <= 0:
        return None
    first = max(n_closed - context_candles, 0)
    if n_closed - first < VOL_WINDOW + 2:
        return None
    # Plain numpy slices of whole columns: no intermediate DataFrame.
    close = df["close"].to_numpy(dtype=float)[first:n_closed]
    if not np.all(np.isfinite(close)) or np.any(close <= 0):
        close = pd.Series(close).ffill().bfill().to_numpy(dtype=float)
        if not np.all(np.isfinite(close)) or np.any(close <= 0):
            return None
    logret = np.diff(np.log(close))
    last = close[-1]

    def ret(n: int) -> float:
        n = min(n, len(close) - 1)
        return float(last / close[-1 - n] - 1.0)

    vols = _rolling_std(logret, VOL_WINDOW)
    vol_recent = float(vols[-1])
    vol_baseline = float(np.median(vols))
    vol_ratio = vol_recent / vol_baseline if vol_baseline > 0 else 1.0
    if vol_ratio >= high_vol_ratio:
        regime = "high"
    elif vol_ratio <= 1.0 / high_vol_ratio:
        regime = "low"
    else:
        regime = "normal"
    ema_now, ema_before = _ema_last(close, EMA_SPAN)
    ema_gap = last / ema_now - 1.0
    slope = ema_now / ema_before - 1.0
    if ema_gap > 0 and slope > 0:
        trend = "up"
    elif ema_gap < 0 and slope < 0:
        trend = "down"
    else:
        trend = "flat"
    columns = df.columns
    high = df["high"].to_numpy(dtype=float)[first:n_closed] if "high" in columns else close
    low = df["low"].to_numpy(dtype=float)[first:n_closed] if "low" in columns else close
    hi, lo = float(np.nanmax(high)), float(np.nanmin(low))
    range_pos = (last - lo) / (hi - lo) if hi > lo else 0.5
    indicators: dict[str, float] = {}
    for col in indicator_columns:
        if col in columns:
            val = _number_at(df, n_closed - 1, col)
            if val is not None:
                indicators[col] = val
    patterns: dict[str, int] = {}
    for col in _pattern_columns(columns, tuple(pattern_prefixes), tuple(pattern_exclude_suffixes)):
        val = _number_at(df, n_closed - 1, col)
        if val is not None and val != 0:
            patterns[str(col)] = 1 if val > 0 else -1
    candle_time = pd.Timestamp(df["date"].iat[n_closed - 1])
    candle_time = (
        candle_time.tz_localize("UTC") if candle_time.tzinfo is None else candle_time
    ).to_pydatetime()
    session = (
        str(df["session"].iat[n_closed - 1]) if "session" in columns else session_of(current_time)
    )
    return PairFeatures(
        pair=pair,
        candle_time=candle_time,
        close=float(last),
        n_candles=len(close),
        ret_1=ret(1),
        ret_short=ret(SHORT_WINDOW),
        ret_long=ret(LONG_WINDOW),
        flash_return=ret(flash_window),
        vol_recent=vol_recent,
        vol_baseline=vol_baseline,
        vol_ratio=float(vol_ratio),
        vol_regime=regime,
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
        features: Mapping[str, PairFeatures],
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
