"""What the overseer knows about a pair at one moment: the latest closed row of its frame.

The features are columns computed once per frame (:mod:`plugins.llm_overseer.features`), so
per candle this module only finds the latest candle closed by ``now``
(:func:`trading_agent.candles.closed_rows` is the one definition of "closed") and reads cells
of it: the few the schedule, triggers and rules need (:class:`MarketNow`), and, for a model
call only, everything a prompt carries (:class:`PairFeatures`). Columns of other plugins are
read where present: the session plugin's governing session, the patterns plugin's signals.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from plugins.llm_overseer import columns as col
from plugins.llm_overseer.features import trend, vol_regime
from plugins.patterns.columns import candlestick_column, is_pattern_signal
from plugins.patterns.settings import talib_candlestick_names
from plugins.session_manager.columns import SESSION_COLUMNS
from trading_agent.candles import AnalyzedCandles, closed_rows

#: The session plugin's governing-session label (``asia``, ``europe``, ``us`` or ``off``).
SESSION_COLUMN = SESSION_COLUMNS[0]


@dataclass(frozen=True, slots=True)
class PairFeatures:
    """Everything a prompt carries about one pair (all known at the last close).

    ``session`` is ``None`` when the frame has no session column.
    """

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
    session: str | None
    indicators: dict[str, float] = field(default_factory=dict)
    patterns: dict[str, int] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class MarketNow:
    """The per-candle values of one pair, and its row for anything more.

    ``patterns`` is read from the row on first access only: the triggers and rules look at
    it only while the pair has an open position.
    """

    pair: str
    row: Mapping[str, Any]
    columns: pd.Index
    close: float
    flash_return: float
    vol_ratio: float
    vol_regime: str
    _patterns: dict[str, int] | None = None

    @property
    def patterns(self) -> dict[str, int]:
        """Direction (+1/-1) of every non-zero pattern signal on the candle, in frame order."""
        if self._patterns is None:  # idempotent: both threads may read it
            out: dict[str, int] = {}
            for name in signal_columns(self.columns):
                value = _number(self.row[name])
                if value:
                    out[name] = 1 if value > 0 else -1
            self._patterns = out
        return self._patterns


#: What the schedule, the triggers and the rules policy read about a pair.
CandleInputs = MarketNow | PairFeatures


def latest_closed(
    candles: AnalyzedCandles,
    open_times: np.ndarray,
    now: datetime,
    timeframe: timedelta,
    read_once: bool = False,
) -> tuple[int, Mapping[str, Any]]:
    """How many of ``candles`` had closed by ``now``, and the latest of them (a row view).

    ``open_times``: the ``date`` column as epoch nanoseconds (:func:`~trading_agent.candles.
    ticks_of`). A frame that also holds the candle still open is read a row earlier.
    ``read_once``: read the row cell by cell (:class:`FrameRow`), for a frame read only once.
    """
    rows = closed_rows(open_times[: len(candles)], now, timeframe)
    if read_once:
        return rows, FrameRow(candles.source_frame(), rows - 1) if rows else {}
    if rows == len(candles):
        return rows, candles.last()
    return rows, AnalyzedCandles(candles.source_frame(), rows).last()


class FrameRow(Mapping[str, Any]):
    """Row ``position`` of ``frame`` as a mapping of column name to value, a cell at a time
    (``DataFrame.iat``): for a frame read at one row only, where building a column reader
    per column (:meth:`AnalyzedCandles.last`) costs more than the cells."""

    __slots__ = ("_frame", "_position")

    def __init__(self, frame: pd.DataFrame, position: int) -> None:
        self._frame = frame
        self._position = position

    def __getitem__(self, name: str) -> Any:
        try:
            column = self._frame.columns.get_loc(name)
        except KeyError:
            raise KeyError(name) from None
        return self._frame.iat[self._position, column]

    def __iter__(self) -> Iterator[str]:
        return iter(self._frame.columns)

    def __len__(self) -> int:
        return len(self._frame.columns)

    def __contains__(self, name: object) -> bool:
        return name in self._frame.columns


def market_now(
    pair: str, row: Mapping[str, Any], columns: pd.Index, high_vol_ratio: float
) -> MarketNow | None:
    """The per-candle values of ``row`` (of a frame with ``columns``); ``None`` while they
    are unknown (no row, or too few candles for the features). A ``KeyError`` names a
    missing overseer column."""
    if not row:
        return None
    ratio = float(row[col.VOL_RATIO])
    if not math.isfinite(ratio):
        return None
    close, flash = float(row["close"]), float(row[col.FLASH_RETURN])
    return MarketNow(pair, row, columns, close, flash, ratio, vol_regime(ratio, high_vol_ratio))


def pair_features(market: MarketNow, indicator_columns: Sequence[str]) -> PairFeatures:
    """Everything a prompt carries about the pair, from the same row as ``market``."""
    row = market.row
    date = pd.Timestamp(row["date"])
    session = row.get(SESSION_COLUMN)
    return PairFeatures(
        pair=market.pair,
        candle_time=(date if date.tzinfo else date.tz_localize(UTC)).to_pydatetime(),
        close=market.close,
        n_candles=int(row[col.CANDLES]),
        ret_1=float(row[col.RET_1]),
        ret_short=float(row[col.RET_SHORT]),
        ret_long=float(row[col.RET_LONG]),
        flash_return=market.flash_return,
        vol_recent=float(row[col.VOL_RECENT]),
        vol_baseline=float(row[col.VOL_BASELINE]),
        vol_ratio=market.vol_ratio,
        vol_regime=market.vol_regime,
        trend=trend(float(row[col.EMA_GAP]), float(row[col.EMA_SLOPE])),
        ema_gap=float(row[col.EMA_GAP]),
        range_position=float(row[col.RANGE_POSITION]),
        drawdown_from_high=float(row[col.FROM_HIGH]),
        session=session if isinstance(session, str) else None,
        indicators={
            name: value
            for name in indicator_columns
            if name in row and (value := _number(row[name])) is not None
        },
        patterns=market.patterns,
    )


#: The signal columns of the last column sets seen (a backtest reads one set all run).
_SIGNALS: dict[int, tuple[pd.Index, tuple[str, ...]]] = {}


def signal_columns(columns: pd.Index) -> tuple[str, ...]:
    """Which of ``columns`` are pattern signals (remembered per column set; live, every candle
    brings a new frame with the same columns)."""
    known = _SIGNALS.get(id(columns))
    if known is not None and known[0] is columns:
        return known[1]
    names = pattern_signal_names(tuple(columns.tolist()))
    if len(_SIGNALS) >= 16:
        _SIGNALS.clear()
    _SIGNALS[id(columns)] = (columns, names)
    return names


@lru_cache(maxsize=16)
def pattern_signal_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The pattern signals among ``names``, by the ``patterns`` plugin's naming
    (``plugins.patterns.columns``): chart-pattern signals (not their price levels) and the
    TA-Lib candlestick columns. The overseer's only use of that naming.

    ``cdl_doji`` counts, with the sign of its value, as it always has here (the patterns plugin
    now calls a doji's sign no direction; dropping it would change the overseer's decisions).
    """
    candles = {candlestick_column(name) for name in talib_candlestick_names()}
    return tuple(n for n in names if isinstance(n, str) and (is_pattern_signal(n) or n in candles))


def _number(value: object) -> float | None:
    """``value`` as a finite float, or ``None``."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
