"""Rebuild the embedded data sample (``user_data/data/sample/``) from ``../shared/data``.

A fresh clone has no ``../shared/data`` beside it; the sample committed in the repository
lets it run the demo, the offline jobs and most tests. It holds real recorded Binance USDT
data, cut from the shared files and never altered (their README names the files and spans):

- BTC/USDT and ETH/USDT 5m candles of :data:`FIVE_MINUTE_SPAN` (the demo replays from
  2024-08-05, the 5 August sell-off; the overseer decision test needs 2024-07-28..08-09
  with 1000 candles before);
- the same pairs at 15m, 1h, 4h and 1d over the whole recording (2024-01-01..2024-09-24):
  small files, and a strategy on a higher base timeframe needs months of history;
- both recorded order-book captures and the top-100 snapshot CSV, re-compressed (gzip -9),
  content unchanged.

Feather files are written with zstd compression (Freqtrade and the venue read any
compression pyarrow knows), which keeps the whole sample under :data:`MAX_BYTES`.

Usage (maintainers only; the result is committed)::

    python -m trading_agent.launch.sample_data --source ../shared/data \
        --target user_data/data/sample
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO / "user_data" / "data" / "sample"
PAIRS = ("BTC_USDT", "ETH_USDT")
#: The 5m candles kept: [start, end) in UTC.
FIVE_MINUTE_SPAN = ("2024-06-15", "2024-08-21")
#: Timeframes kept whole (they are small).
WHOLE_TIMEFRAMES = ("15m", "1h", "4h", "1d")
#: Order-book files copied (the CSV is stored gzipped beside the capture). The ETH capture
#: (1.07 MB) is left to ../shared: the budget holds the overseer's golden record instead.
ORDERBOOK_FILES = (
    "binance_spot_btcusdt_20240808.gz",
    "binance_spot_btcusdt_top100_snapshots_2026-06-15.csv",
)
#: Budget of the whole sample folder, in bytes as ``du -b`` counts them.
MAX_BYTES = 5_000_000


def folder_bytes(folder: Path) -> int:
    """Apparent size of ``folder`` and everything in it, as ``du -b`` reports it."""
    return sum(p.lstat().st_size for p in [folder, *folder.rglob("*")])


def write_feather(frame: pd.DataFrame, path: Path) -> None:
    """Write candles in Freqtrade's column layout, zstd-compressed."""
    frame.reset_index(drop=True).to_feather(path, compression="zstd", compression_level=19)


def write_gzip(source: Path, target: Path) -> None:
    """Copy ``source`` (plain or gzipped) into ``target`` gzipped at level 9, timestamp 0."""
    opener = gzip.open if source.suffix == ".gz" else open
    with (
        opener(source, "rb") as src,
        open(target, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as dst,
    ):
        shutil.copyfileobj(src, dst)


def build_sample(source: Path, target: Path) -> list[Path]:
    """Write the sample from the shared data folder ``source`` into ``target``.

    Returns the files written. Raises ``FileNotFoundError`` naming a missing source file.
    """
    candles, books = target / "binance", target / "orderbook"
    candles.mkdir(parents=True, exist_ok=True)
    books.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    start, end = (pd.Timestamp(d, tz="UTC") for d in FIVE_MINUTE_SPAN)
    for pair in PAIRS:
        for timeframe in ("5m", *WHOLE_TIMEFRAMES):
            path = source / "binance" / f"{pair}-{timeframe}.feather"
            if not path.is_file():
                raise FileNotFoundError(f"source candle file missing: {path}")
            frame = pd.read_feather(path)
            if timeframe == "5m":
                frame = frame[(frame["date"] >= start) & (frame["date"] < end)]
            out = candles / path.name
            write_feather(frame, out)
            written.append(out)
    for name in ORDERBOOK_FILES:
        path = source / "orderbook" / name
        if not path.is_file():
            raise FileNotFoundError(f"source order-book file missing: {path}")
        out = books / (name if name.endswith(".gz") else f"{name}.gz")
        write_gzip(path, out)
        written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: rebuild the sample and report its size against the budget."""
    parser = argparse.ArgumentParser(prog="python -m trading_agent.launch.sample_data")
    parser.add_argument("--source", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--target", type=Path, default=SAMPLE_DIR)
    args = parser.parse_args(argv)
    try:
        written = build_sample(args.source, args.target)
    except FileNotFoundError as err:
        print(f"sample_data: {err}", file=sys.stderr)
        return 2
    size = folder_bytes(args.target)
    print(f"wrote {len(written)} files into {args.target}: {size:,} bytes (budget {MAX_BYTES:,})")
    return 0 if size <= MAX_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
