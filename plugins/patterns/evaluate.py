"""Evaluate the chart-pattern detectors on recorded candles: count, hit rate, baseline.

Usage::

    python -m plugins.patterns.evaluate --datadir /work/shared/data/binance \\
        --pairs BTC_USDT ETH_USDT --timeframe 5m --start 2024-01-01 --end 2025-01-01

For every confirmed detection the price path *after* the confirming candle is followed (this
is evaluation, so looking forward is the point): a **hit** when the target is reached (high
for bullish, low for bearish) before the invalidation level, a **miss** when the invalidation
level is reached first, and a miss too when both are touched in the same candle
(conservative). Detections reaching neither by the end of the data are **unresolved** and
reported separately; the hit rate is hits / (hits + misses).

The **baseline** is the hit rate a driftless random walk would have from the confirming
close, ``|close - invalidation| / (|target - close| + |close - invalidation|)``, averaged
over the resolved detections: a pattern only has an edge if its hit rate beats it. ``z`` is
``(hits - sum p) / sqrt(sum p (1 - p))`` with each resolved detection's baseline ``p``: how
many standard deviations the hits are above the random-walk expectation (indicative only:
detections of one pattern can overlap in time, so they are not independent).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from plugins.patterns.columns import (
    level_column,
    pattern_column,
    pattern_name,
    pattern_signal_columns,
)
from plugins.patterns.compute import compute_pattern_columns
from plugins.patterns.settings import PatternSettings

HIT, MISS, UNRESOLVED = "hit", "miss", "unresolved"


def load_candles(
    datadir: Path, pair: str, timeframe: str, start: str | None, end: str | None
) -> pd.DataFrame:
    """Candles of ``pair`` (Freqtrade file ``<pair>-<timeframe>.feather``) in [start, end)."""
    path = Path(datadir) / f"{pair}-{timeframe}.feather"
    if not path.exists():
        raise FileNotFoundError(f"no candle file {path}")
    frame = pd.read_feather(path)
    dates = pd.to_datetime(frame["date"], utc=True)
    keep = np.ones(len(frame), dtype=bool)
    if start:
        keep &= (dates >= pd.Timestamp(start, tz="UTC")).to_numpy()
    if end:
        keep &= (dates < pd.Timestamp(end, tz="UTC")).to_numpy()
    return frame.loc[keep].reset_index(drop=True)


def first_touch(
    high: np.ndarray, low: np.ndarray, after: int, direction: int, target: float, stop: float
) -> tuple[str, int]:
    """Outcome of one detection confirmed at candle ``after``, and the resolving candle.

    Searches candles ``after + 1 ...`` in doubling chunks; returns ``(UNRESOLVED, -1)`` when
    neither level is reached by the end of the data.
    """
    n = len(high)
    pos = after + 1
    size = 256
    while pos < n:
        end = min(n, pos + size)
        if direction > 0:
            reached = high[pos:end] >= target
            stopped = low[pos:end] <= stop
        else:
            reached = low[pos:end] <= target
            stopped = high[pos:end] >= stop
        either = np.flatnonzero(reached | stopped)
        if len(either):
            j = int(either[0])
            outcome = HIT if reached[j] and not stopped[j] else MISS
            return outcome, pos + j
        pos = end
        size *= 2
    return UNRESOLVED, -1


def detection_outcomes(candles: pd.DataFrame, columns: pd.DataFrame) -> pd.DataFrame:
    """One row per detection of every ``pattern_<name>`` column, with its outcome."""
    high = candles["high"].to_numpy(dtype=np.float64)
    low = candles["low"].to_numpy(dtype=np.float64)
    close = candles["close"].to_numpy(dtype=np.float64)
    rows = []
    for col in pattern_signal_columns(columns.columns):
        name = pattern_name(col)
        signal = columns[col].to_numpy()
        target = columns[level_column(name, "target")].to_numpy()
        stop = columns[level_column(name, "invalidation")].to_numpy()
        for t in np.flatnonzero(signal != 0):
            direction = int(signal[t])
            outcome, resolved_at = first_touch(high, low, int(t), direction, target[t], stop[t])
            reward = abs(target[t] - close[t])
            risk = abs(close[t] - stop[t])
            rows.append(
                {
                    "pattern": name,
                    "candle": int(t),
                    "direction": direction,
                    "close": close[t],
                    "target": target[t],
                    "invalidation": stop[t],
                    "outcome": outcome,
                    "bars": resolved_at - int(t) if resolved_at >= 0 else -1,
                    "baseline": risk / (reward + risk) if reward + risk > 0 else np.nan,
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PatternScore:
    """Evaluation figures of one pattern on one pair."""

    pair: str
    pattern: str
    detections: int
    hits: int
    misses: int
    unresolved: int
    hit_rate: float  # hits / (hits + misses); NaN without resolved detections
    baseline: float  # random-walk hit rate of the same levels (resolved detections)
    z: float  # hits above the random-walk expectation, in standard deviations
    median_bars: float  # median candles to resolution


def score(pair: str, pattern_names: Sequence[str], outcomes: pd.DataFrame) -> list[PatternScore]:
    """Per-pattern figures for one pair (patterns with no detection included)."""
    scores = []
    for name in pattern_names:
        rows = outcomes[outcomes["pattern"] == name] if len(outcomes) else pd.DataFrame()
        hits = int((rows["outcome"] == HIT).sum()) if len(rows) else 0
        misses = int((rows["outcome"] == MISS).sum()) if len(rows) else 0
        resolved = rows[rows["outcome"] != UNRESOLVED] if len(rows) else rows
        p = resolved["baseline"].to_numpy(dtype=float) if len(resolved) else np.empty(0)
        spread = float(np.sqrt(np.sum(p * (1.0 - p))))
        z = (hits - float(p.sum())) / spread if spread > 0 else float("nan")
        scores.append(
            PatternScore(
                pair=pair,
                pattern=name,
                detections=len(rows),
                hits=hits,
                misses=misses,
                unresolved=len(rows) - hits - misses,
                hit_rate=hits / (hits + misses) if hits + misses else float("nan"),
                baseline=float(p.mean()) if len(p) else float("nan"),
                z=z,
                median_bars=float(resolved["bars"].median()) if len(resolved) else float("nan"),
            )
        )
    return scores


def evaluate_pair(
    candles: pd.DataFrame, pair: str, settings: PatternSettings
) -> list[PatternScore]:
    """Detect patterns on ``candles`` with ``settings`` and score every enabled pattern."""
    columns = compute_pattern_columns(candles, settings)
    names = list(settings.chart.patterns)
    keep = [c for c in columns.columns if c.startswith(tuple(pattern_column(n) for n in names))]
    return score(pair, names, detection_outcomes(candles, columns[keep]))


def format_table(scores: Sequence[PatternScore]) -> str:
    """A plain-text table of scores."""
    header = (
        f"{'pair':<10} {'pattern':<24} {'detections':>10} {'hits':>6} {'misses':>6} "
        f"{'unresolved':>10} {'hit rate':>8} {'baseline':>8} {'z':>6} {'med bars':>8}"
    )
    lines = [header, "-" * len(header)]

    def pct(x: float) -> str:
        return "-" if np.isnan(x) else f"{100 * x:.1f}%"

    for s in scores:
        med = "-" if np.isnan(s.median_bars) else f"{s.median_bars:.0f}"
        z = "-" if np.isnan(s.z) else f"{s.z:+.1f}"
        lines.append(
            f"{s.pair:<10} {s.pattern:<24} {s.detections:>10} {s.hits:>6} {s.misses:>6} "
            f"{s.unresolved:>10} {pct(s.hit_rate):>8} {pct(s.baseline):>8} {z:>6} {med:>8}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; prints the table (and writes JSON with ``--json``)."""
    parser = argparse.ArgumentParser(
        prog="python -m plugins.patterns.evaluate",
        description="Count chart-pattern detections and their hit rates on recorded candles.",
    )
    parser.add_argument("--datadir", type=Path, required=True, help="folder of feather files")
    parser.add_argument("--pairs", nargs="+", required=True, help="e.g. BTC_USDT ETH_USDT")
    parser.add_argument("--timeframe", default="5m")
    parser.add_argument("--start", default=None, help="first date (inclusive), e.g. 2024-01-01")
    parser.add_argument("--end", default=None, help="last date (exclusive), e.g. 2025-01-01")
    parser.add_argument(
        "--settings", default="{}", help="JSON object of patterns settings (the config block)"
    )
    parser.add_argument("--json", type=Path, help="also write the scores to this JSON file")
    args = parser.parse_args(argv)
    settings = PatternSettings.model_validate(json.loads(args.settings))
    scores: list[PatternScore] = []
    for pair in args.pairs:
        candles = load_candles(args.datadir, pair, args.timeframe, args.start, args.end)
        if len(candles) == 0:
            print(f"{pair}: no candles in range", file=sys.stderr)
            continue
        first, last = candles["date"].iloc[0], candles["date"].iloc[-1]
        print(f"{pair} {args.timeframe}: {len(candles)} candles, {first} .. {last}")
        scores.extend(evaluate_pair(candles, pair, settings))
    print(format_table(scores))
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in scores], indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
