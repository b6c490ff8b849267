"""Freqtrade's candle files in a data folder: where a pair's file is, reading it, fingerprinting.

Files are named ``<BASE>_<QUOTE>-<timeframe>.feather`` (spot), with the columns ``date``
(candle open, UTC), ``open``, ``high``, ``low``, ``close`` and ``volume``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def candle_file(datadir: Path, pair: str, timeframe: str) -> Path:
    """The feather file of ``pair`` (``BTC/USDT``) at ``timeframe`` in ``datadir``."""
    return Path(datadir) / f"{pair.replace('/', '_')}-{timeframe}.feather"


def read_candles(datadir: Path, pair: str, timeframe: str) -> pd.DataFrame:
    """The candles of ``pair`` at ``timeframe``, sorted by date; an empty frame if no file.

    Raises ``ValueError`` naming the file when it lacks a needed column.
    """
    path = candle_file(datadir, pair, timeframe)
    columns = ["date", "open", "high", "low", "close", "volume"]
    if not path.exists():
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in columns}).assign(
            date=pd.Series([], dtype="datetime64[ns, UTC]")
        )
    frame = pd.read_feather(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}")
    frame = frame[columns].copy()
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    return frame.sort_values("date", kind="mergesort").reset_index(drop=True)


def data_fingerprint(datadir: Path) -> list[tuple[str, int, int]]:
    """Name, size and modification time (ns) of every candle file: what a backtest reads."""
    return [
        (path.name, path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(Path(datadir).glob("*.feather"))
    ]


class CandleStore:
    """The candle files of one data folder, each read once per (pair, timeframe)."""

    def __init__(self, datadir: Path) -> None:
        self.datadir = Path(datadir)
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}

    def get(self, pair: str, timeframe: str) -> pd.DataFrame:
        """The candles of ``pair`` at ``timeframe`` (empty if there is no file)."""
        if (pair, timeframe) not in self._frames:
            self._frames[(pair, timeframe)] = read_candles(self.datadir, pair, timeframe)
        return self._frames[(pair, timeframe)]

    def dates(self, pairs: Sequence[str], timeframe: str) -> dict[str, pd.Series]:
        """Candle open dates per pair."""
        return {p: self.get(p, timeframe)["date"] for p in pairs}

    def frames(self, pairs: Sequence[str], timeframe: str) -> dict[str, pd.DataFrame]:
        """Candle frames per pair."""
        return {p: self.get(p, timeframe) for p in pairs}
