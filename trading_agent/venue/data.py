"""Recorded candles, loaded once into numpy arrays per (symbol, timeframe).

The venue reads Freqtrade's spot data files ``<BASE>_<QUOTE>-<timeframe>.feather`` (columns
``date, open, high, low, close, volume``) from one folder and serves every pair it finds under
that pair's own name (``BTC_USDT`` becomes the MEXC symbol ``BTCUSDT``). Nothing is renamed:
Binance files are served as the Binance pairs they are.

Requests never filter DataFrames: every file becomes a :class:`Candles` of contiguous numpy
arrays and lookups are ``numpy.searchsorted`` on the open times.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trading_agent.venue.intervals import TIMEFRAME_MS

log = logging.getLogger(__name__)

#: ``BTC_USDT-5m.feather``: base, quote and timeframe. Futures/mark/funding files have a
#: longer stem (``BTC_USDT_USDT-1h-futures``) and do not match.
FILE_PATTERN = re.compile(r"^([A-Z0-9]+)_([A-Z0-9]+)-(\d+[mhdwM])\.feather$")

#: What to do about a missing or empty data folder (appended to the error).
DATADIR_HELP = (
    "pass --datadir a folder of Freqtrade spot candle files, e.g. the repository's "
    "user_data/data/sample/binance or one filled by `freqtrade download-data`"
)

#: Most decimals the venue derives for a price or an amount.
MAX_DECIMALS = 8


@dataclass(frozen=True)
class Candles:
    """One recorded candle file as numpy arrays, sorted by open time (ms since the epoch)."""

    timeframe: str
    step_ms: int
    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.open_time.shape[0])

    @property
    def first_open(self) -> int:
        """Open time of the first recorded candle."""
        return int(self.open_time[0])

    @property
    def last_open(self) -> int:
        """Open time of the last recorded candle."""
        return int(self.open_time[-1])

    @property
    def end_ms(self) -> int:
        """Close time of the last recorded candle (its open time plus one timeframe)."""
        return self.last_open + self.step_ms

    def index_of(self, open_ms: int) -> int | None:
        """Index of the candle opening exactly at ``open_ms``, or None when there is none."""
        i = int(np.searchsorted(self.open_time, open_ms, side="left"))
        if i < len(self) and int(self.open_time[i]) == open_ms:
            return i
        return None

    def closed_count(self, t_ms: int) -> int:
        """Number of candles closed by time ``t_ms`` (open time + timeframe <= ``t_ms``)."""
        return int(np.searchsorted(self.open_time, t_ms - self.step_ms, side="right"))

    def count_before(self, t_ms: int) -> int:
        """Number of candles opening strictly before ``t_ms``."""
        return int(np.searchsorted(self.open_time, t_ms, side="left"))


@dataclass(frozen=True)
class SymbolData:
    """Every recorded timeframe of one pair, plus the precisions derived from its prices."""

    symbol: str
    base: str
    quote: str
    candles: dict[str, Candles]
    price_decimals: int
    amount_decimals: int
    timeframes_fine_to_coarse: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.candles, key=lambda tf: self.candles[tf].step_ms))
        object.__setattr__(self, "timeframes_fine_to_coarse", ordered)

    @property
    def tick(self) -> float:
        """Price tick size (``10 ** -price_decimals``)."""
        return 10.0**-self.price_decimals

    @property
    def lot(self) -> float:
        """Amount step (``10 ** -amount_decimals``)."""
        return 10.0**-self.amount_decimals

    @property
    def first_ms(self) -> int:
        """Earliest recorded candle open of any timeframe."""
        return min(c.first_open for c in self.candles.values())

    @property
    def end_ms(self) -> int:
        """End of the recording: the latest candle open of any file plus that file's timeframe.

        When several files open their last candle at that time, the finest one decides. A
        coarse file's last candle may be partial (resampled from a finer file), so its nominal
        close is not taken as the end.
        """
        last = max(c.last_open for c in self.candles.values())
        step = min(c.step_ms for c in self.candles.values() if c.last_open == last)
        return last + step

    def ordered(self) -> list[Candles]:
        """The recorded timeframes, finest first."""
        return [self.candles[tf] for tf in self.timeframes_fine_to_coarse]


@dataclass(frozen=True)
class MarketData:
    """All pairs found in a data folder, keyed by MEXC symbol (``BTCUSDT``)."""

    datadir: Path
    symbols: dict[str, SymbolData]

    @property
    def first_ms(self) -> int:
        """Latest of the pairs' first candles: from here on every pair has data."""
        return max(s.first_ms for s in self.symbols.values())

    @property
    def end_ms(self) -> int:
        """End of the recording (the latest close of any file)."""
        return max(s.end_ms for s in self.symbols.values())


def decimals_of(values: np.ndarray, max_decimals: int = MAX_DECIMALS) -> int:
    """Fewest decimals that write every value exactly (within float rounding), capped.

    ``[63053.23, 63074.0]`` gives 2. Values with more than ``max_decimals`` decimals (float
    noise from sums) give ``max_decimals``.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return 0
    for d in range(max_decimals + 1):
        scaled = x * (10.0**d)
        if np.all(np.abs(scaled - np.rint(scaled)) <= 1e-6 + 1e-12 * np.abs(scaled)):
            return d
    return max_decimals


def read_candles(path: Path, timeframe: str) -> Candles:
    """Read one Freqtrade feather file into :class:`Candles` (sorted, duplicates dropped)."""
    df = pd.read_feather(path, columns=["date", "open", "high", "low", "close", "volume"])
    if df.empty:
        raise ValueError(f"candle file {path} holds no candles")
    dates = pd.to_datetime(df["date"], utc=True)
    open_time = (dates.astype("datetime64[ns, UTC]").astype("int64") // 1_000_000).to_numpy()
    order = np.argsort(open_time, kind="stable")
    open_time = open_time[order]
    keep = np.ones(open_time.shape[0], dtype=bool)
    keep[1:] = open_time[1:] != open_time[:-1]
    idx = order[keep]

    def frozen(a: np.ndarray) -> np.ndarray:
        a = np.ascontiguousarray(a)
        a.setflags(write=False)  # shared by every request (and venue) reading this file
        return a

    def col(name: str) -> np.ndarray:
        return frozen(df[name].to_numpy(dtype=np.float64)[idx])

    return Candles(
        timeframe=timeframe,
        step_ms=TIMEFRAME_MS[timeframe],
        open_time=frozen(open_time[keep].astype(np.int64)),
        open=col("open"),
        high=col("high"),
        low=col("low"),
        close=col("close"),
        volume=col("volume"),
    )


def load_market_data(datadir: str | Path) -> MarketData:
    """Load every ``<BASE>_<QUOTE>-<tf>.feather`` file in ``datadir``.

     Timeframes the venue does not serve (see :mod:`trading_agent.venue.intervals`) are skipped
    with a log
     line. Raises ValueError naming the folder when it is missing or holds no usable file.
    """
    folder = Path(datadir)
    if not folder.is_dir():
        raise ValueError(f"--datadir {str(folder)!r} is not a folder: {DATADIR_HELP}")
    found: dict[tuple[str, str], dict[str, Candles]] = {}
    for path in sorted(folder.glob("*.feather")):
        m = FILE_PATTERN.match(path.name)
        if m is None:
            log.info("skipping %s: not a <BASE>_<QUOTE>-<timeframe>.feather spot file", path.name)
            continue
        base, quote, timeframe = m.groups()
        if timeframe not in TIMEFRAME_MS:
            log.info("skipping %s: timeframe %s is not served", path.name, timeframe)
            continue
        found.setdefault((base, quote), {})[timeframe] = read_candles(path, timeframe)
    if not found:
        raise ValueError(
            f"--datadir {str(folder)!r} holds no <BASE>_<QUOTE>-<timeframe>.feather candle "
            f"files: {DATADIR_HELP}"
        )
    symbols: dict[str, SymbolData] = {}
    for (base, quote), candles in found.items():
        symbols[base + quote] = SymbolData(
            symbol=base + quote,
            base=base,
            quote=quote,
            candles=candles,
            price_decimals=max(
                decimals_of(np.concatenate([c.open, c.high, c.low, c.close]))
                for c in candles.values()
            ),
            amount_decimals=max(decimals_of(c.volume) for c in candles.values()),
        )
    return MarketData(datadir=folder, symbols=symbols)
